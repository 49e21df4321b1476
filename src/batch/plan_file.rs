//! Reading a plan's TOML into its tables, key by key, so that every problem of the whole plan (an unknown key, a
//! value of the wrong type, a missing name) is found in one pass and said in the plan's words with its line,
//! instead of stopping at the first one in a deserializer's words.

use std::path::PathBuf;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{FormatName, HashName, LineIndex, ProfileName, Settings};

/// One `[[app]]` table as written: what it sets, before the defaults apply.
pub(super) struct AppEntry {
    /// Its name; `None` when it has none (or not as a string), which is already a problem.
    pub(super) name: Option<String>,
    /// The line of its `name` (or of the table, when it has none).
    pub(super) line: usize,
    pub(super) subject: Option<String>,
    pub(super) manifest: Option<PathBuf>,
    pub(super) app_id: Option<String>,
    pub(super) graph: Option<bool>,
    pub(super) settings: Settings,
    /// Whether it was read without a problem.
    pub(super) read_whole: bool,
}

/// A plan as written: its defaults, its apps, and every problem found while reading them.
pub(super) struct PlanFile {
    pub(super) defaults: Settings,
    pub(super) apps: Vec<AppEntry>,
    pub(super) problems: Vec<String>,
}

/// The keys both `[defaults]` and `[[app]]` take.
const SETTINGS_KEYS: &[&str] = &[
    "out",
    "days",
    "not_after",
    "key_size",
    "hash",
    "pfx_profile",
    "format",
    "renew_within",
    "prune_expired",
    "keep",
    "no_pfx",
    "pem_bundle",
    "ca",
    "ca_chain",
];

/// The keys only an `[[app]]` takes.
const APP_KEYS: &[&str] = &["name", "subject", "manifest", "app_id", "graph"];

/// Reads `text`. A TOML syntax error ends the reading (what follows it cannot be trusted) and is the `Err`, with
/// its line; every other problem is collected in [`PlanFile::problems`].
pub(super) fn read(text: &str) -> Result<PlanFile, String> {
    let document = DeTable::parse(text).map_err(|e| {
        let location = e
            .span()
            .map(|s| format!("line {}: ", super::line_of(text, s.start)))
            .unwrap_or_default();
        format!("{location}{}", e.message().trim())
    })?;
    let lines = LineIndex::new(text);
    let mut reader = Reader {
        lines: &lines,
        problems: Vec::new(),
    };
    let mut plan = PlanFile {
        defaults: Settings::default(),
        apps: Vec::new(),
        problems: Vec::new(),
    };
    for (key, value) in document.get_ref() {
        let line = lines.line_of(key.span().start);
        match (key.get_ref().as_ref(), value.get_ref()) {
            ("defaults", DeValue::Table(table)) => {
                plan.defaults = reader.defaults(table);
            }
            ("app", DeValue::Array(tables)) => {
                for table in tables {
                    let line = lines.line_of(table.span().start);
                    match table.get_ref() {
                        DeValue::Table(table) => plan.apps.push(reader.app(table, line)),
                        _ => reader.problem(line, "each app is a table: write it as [[app]]"),
                    }
                }
            }
            ("defaults", _) => reader.problem(line, "defaults is a table: write it as [defaults]"),
            ("app", _) => reader.problem(
                line,
                "app is a list of tables: write each app as [[app]] followed by its keys",
            ),
            (other, _) => reader.problem(
                line,
                &format!(
                    "unknown key {other:?}: a plan holds a [defaults] table and [[app]] tables, and every other \
                     key goes inside one of them"
                ),
            ),
        }
    }
    reader.problems.sort_by_key(|(line, _)| *line);
    plan.problems = reader.problems.into_iter().map(|(_, p)| p).collect();
    Ok(plan)
}

/// Reads tables, noting each problem with the line it sorts by.
struct Reader<'a> {
    lines: &'a LineIndex,
    problems: Vec<(usize, String)>,
}

/// One key's value and the place to name in a problem with it.
struct Field<'v, 'i> {
    key: &'v str,
    value: &'v Spanned<DeValue<'i>>,
    line: usize,
}

impl Reader<'_> {
    fn problem(&mut self, line: usize, what: &str) {
        self.problems.push((line, format!("line {line}: {what}")));
    }

    fn defaults(&mut self, table: &DeTable<'_>) -> Settings {
        let mut settings = Settings::default();
        for (key, value) in table {
            let field = self.field(key, value);
            if !self.setting(&mut settings, &field, "[defaults]") {
                let known = SETTINGS_KEYS.join(", ");
                self.at(
                    &field,
                    "[defaults]",
                    &format!(
                        "unknown key {:?}; [defaults] takes {known} (name, subject, manifest, app_id and graph \
                         are set per app)",
                        field.key
                    ),
                );
            }
        }
        settings
    }

    fn app(&mut self, table: &DeTable<'_>, line: usize) -> AppEntry {
        let before = self.problems.len();
        let name_field = table
            .iter()
            .find(|(key, _)| key.get_ref() == "name")
            .map(|(key, value)| self.field(key, value));
        let (name, line) = match name_field {
            Some(field) => (self.text(&field, "[[app]]"), field.line),
            None => {
                self.problem(
                    line,
                    "an [[app]] has no name: give each app name = \"…\" (its files' base name and folder)",
                );
                (None, line)
            }
        };
        let place = match &name {
            Some(name) => format!("app {name:?}"),
            None => "[[app]]".to_owned(),
        };
        let mut entry = AppEntry {
            name,
            line,
            subject: None,
            manifest: None,
            app_id: None,
            graph: None,
            settings: Settings::default(),
            read_whole: false,
        };
        for (key, value) in table {
            let field = self.field(key, value);
            match field.key {
                "name" => {}
                "subject" => entry.subject = self.text(&field, &place),
                "manifest" => entry.manifest = self.text(&field, &place).map(PathBuf::from),
                "app_id" => entry.app_id = self.text(&field, &place),
                "graph" => entry.graph = self.flag(&field, &place),
                _ => {
                    if !self.setting(&mut entry.settings, &field, &place) {
                        let known = [APP_KEYS, SETTINGS_KEYS].concat().join(", ");
                        self.at(
                            &field,
                            &place,
                            &format!("unknown key {:?}; an [[app]] takes {known}", field.key),
                        );
                    }
                }
            }
        }
        entry.read_whole = self.problems.len() == before;
        entry
    }

    fn field<'v, 'i>(
        &self,
        key: &'v Spanned<std::borrow::Cow<'i, str>>,
        value: &'v Spanned<DeValue<'i>>,
    ) -> Field<'v, 'i> {
        Field {
            key: key.get_ref().as_ref(),
            value,
            line: self.lines.line_of(key.span().start),
        }
    }

    /// Reads one of the keys `[defaults]` and `[[app]]` share into `settings`; false when `field` is none of them.
    fn setting(&mut self, settings: &mut Settings, field: &Field<'_, '_>, place: &str) -> bool {
        match field.key {
            "out" => settings.out = self.text(field, place).map(PathBuf::from),
            "days" => settings.days = self.count(field, place, "a whole number of days"),
            "not_after" => settings.not_after = self.date(field, place),
            "key_size" => settings.key_size = self.count(field, place, "2048, 3072 or 4096"),
            "hash" => {
                settings.hash = self.choice(
                    field,
                    place,
                    &[
                        ("sha256", HashName::Sha256),
                        ("sha384", HashName::Sha384),
                        ("sha512", HashName::Sha512),
                    ],
                )
            }
            "pfx_profile" => {
                settings.pfx_profile = self.choice(
                    field,
                    place,
                    &[
                        ("modern", ProfileName::Modern),
                        ("legacy", ProfileName::Legacy),
                    ],
                )
            }
            "format" => {
                settings.format = self.choice(
                    field,
                    place,
                    &[("graph", FormatName::Graph), ("legacy", FormatName::Legacy)],
                )
            }
            "renew_within" => {
                settings.renew_within = self.count(field, place, "a whole number of days")
            }
            "prune_expired" => settings.prune_expired = self.flag(field, place),
            "keep" => {
                settings.keep = self
                    .count(field, place, "a whole number of credentials")
                    .map(|n: u32| n as usize)
            }
            "no_pfx" => settings.no_pfx = self.flag(field, place),
            "pem_bundle" => settings.pem_bundle = self.flag(field, place),
            "ca" => settings.ca = self.flag(field, place),
            "ca_chain" => settings.ca_chain = self.paths(field, place),
            _ => return false,
        }
        true
    }

    fn at(&mut self, field: &Field<'_, '_>, place: &str, what: &str) {
        let line = field.line;
        self.problems
            .push((line, format!("line {line}, {place}: {what}")));
    }

    /// A value of the wrong type: what the key must be, and what it is.
    fn wrong(&mut self, field: &Field<'_, '_>, place: &str, must: &str) {
        let is = describe(field.value.get_ref());
        self.at(
            field,
            place,
            &format!("{} must be {must}, not {is}", field.key),
        );
    }

    fn text(&mut self, field: &Field<'_, '_>, place: &str) -> Option<String> {
        match field.value.get_ref() {
            DeValue::String(text) => Some(text.to_string()),
            _ => {
                self.wrong(field, place, "a string in quotes");
                None
            }
        }
    }

    /// A date as a string, or as TOML writes one bare (`not_after = 2027-06-30`).
    fn date(&mut self, field: &Field<'_, '_>, place: &str) -> Option<String> {
        match field.value.get_ref() {
            DeValue::String(text) => Some(text.to_string()),
            DeValue::Datetime(date) => Some(date.to_string()),
            _ => {
                self.wrong(
                    field,
                    place,
                    "a date: \"YYYY-MM-DD\" or an RFC 3339 time such as \"2027-06-30T12:00:00Z\"",
                );
                None
            }
        }
    }

    fn flag(&mut self, field: &Field<'_, '_>, place: &str) -> Option<bool> {
        match field.value.get_ref() {
            DeValue::Boolean(flag) => Some(*flag),
            _ => {
                self.wrong(field, place, "true or false (without quotes)");
                None
            }
        }
    }

    fn count(&mut self, field: &Field<'_, '_>, place: &str, must: &str) -> Option<u32> {
        let number = match field.value.get_ref() {
            DeValue::Integer(n) => u32::from_str_radix(n.as_str(), n.radix()).ok(),
            _ => None,
        };
        if number.is_none() {
            self.wrong(field, place, must);
        }
        number
    }

    fn choice<T: Copy>(
        &mut self,
        field: &Field<'_, '_>,
        place: &str,
        choices: &[(&str, T)],
    ) -> Option<T> {
        let found = match field.value.get_ref() {
            DeValue::String(text) => choices
                .iter()
                .find(|(name, _)| *name == text.as_ref())
                .map(|(_, value)| *value),
            _ => None,
        };
        if found.is_none() {
            let names: Vec<String> = choices.iter().map(|(n, _)| format!("{n:?}")).collect();
            let must = match names.as_slice() {
                [one, two] => format!("{one} or {two}"),
                [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
                [] => String::new(),
            };
            self.wrong(field, place, &must);
        }
        found
    }

    fn paths(&mut self, field: &Field<'_, '_>, place: &str) -> Option<Vec<PathBuf>> {
        let paths = match field.value.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .map(|item| match item.get_ref() {
                    DeValue::String(text) => Some(PathBuf::from(text.as_ref())),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>(),
            _ => None,
        };
        if paths.is_none() {
            self.wrong(
                field,
                place,
                "a list of file paths in quotes, such as [\"ca/root.pem\"]",
            );
        }
        paths
    }
}

/// A value as a problem names it: its type, and the value itself when it is short.
fn describe(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(text) if text.chars().count() <= 40 => format!("the string {text:?}"),
        DeValue::String(_) => "a string".into(),
        DeValue::Integer(n) if n.radix() == 10 => format!("the number {}", n.as_str()),
        DeValue::Integer(_) => "a number".into(),
        DeValue::Float(n) => format!("the number {}", n.as_str()),
        DeValue::Boolean(flag) => format!("{flag}"),
        DeValue::Datetime(date) => format!("the date {date}"),
        DeValue::Array(_) => "a list".into(),
        DeValue::Table(_) => "a table".into(),
    }
}
