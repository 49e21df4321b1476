//! Batch plans: many app registrations provisioned or rotated in one run.
//!
//! A plan is TOML: a `[defaults]` table and one `[[app]]` table per app, each key as `keycred new` and
//! `keycred rotate` spell the option (with `_` for `-`). The whole plan is read and checked before any app runs,
//! so a typo in app 180 does not stop a run halfway: unknown keys, duplicate names, bad subjects and two apps
//! sharing an output folder or a manifest are reported with their line.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::credential::{KeySize, Subject};
use crate::error::{Error, Result};
use crate::words::{Advice, Flags, Input, Voice};

mod plan_file;

/// The default renewal window of a batch run, so re-running a finished plan changes nothing.
pub const DEFAULT_RENEW_WITHIN_DAYS: u32 = 30;

/// Signature hash names as plans spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashName {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// PFX profiles as plans spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileName {
    /// AES-256.
    Modern,
    /// 3DES.
    Legacy,
}

/// Fragment formats as plans spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatName {
    /// Microsoft Graph.
    Graph,
    /// Azure AD Graph (legacy manifest).
    Legacy,
}

/// Options a plan may set in `[defaults]` and override per app.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Base folder; an app's files go to `out/NAME/`.
    pub out: Option<PathBuf>,
    /// Validity in days.
    pub days: Option<u32>,
    /// End of validity (YYYY-MM-DD or RFC 3339).
    pub not_after: Option<String>,
    /// RSA key size.
    pub key_size: Option<u32>,
    /// Signature hash.
    pub hash: Option<HashName>,
    /// PFX profile.
    pub pfx_profile: Option<ProfileName>,
    /// Fragment format (for provisioned apps; rotated apps follow their manifest).
    pub format: Option<FormatName>,
    /// Renew only within this many days of the current credential's end.
    pub renew_within: Option<u32>,
    /// Remove expired credentials when rotating.
    pub prune_expired: Option<bool>,
    /// Keep at most this many credentials when rotating.
    pub keep: Option<usize>,
    /// Write no PFX.
    pub no_pfx: Option<bool>,
    /// Also write NAME.bundle.pem (key and certificate in one PEM).
    pub pem_bundle: Option<bool>,
    /// Take the new certificate from the organisation's CA, in two runs (as `rotate --ca`).
    pub ca: Option<bool>,
    /// CA certificates for the CA's answers that lack them (as `rotate --chain`).
    pub ca_chain: Option<Vec<PathBuf>>,
}

/// One app of a plan, with defaults applied and paths resolved against the plan's folder.
#[derive(Debug, Clone)]
pub struct BatchApp {
    /// Its name: the file base name and the folder under `out`.
    pub name: String,
    /// The plan line of its `name`.
    pub line: usize,
    /// The certificate subject.
    pub subject: String,
    /// The manifest to rotate in place; `None` provisions (or, with `graph_app`, rotates in the tenant).
    pub manifest: Option<PathBuf>,
    /// `graph = true` with `app_id`: the app registration to rotate in the tenant through Microsoft Graph.
    pub graph_app: Option<uuid::Uuid>,
    /// The folder its files go to (`out/NAME`).
    pub out_dir: PathBuf,
    /// Every other option, defaults applied.
    pub settings: Settings,
}

impl Settings {
    /// These settings, each one not set taken from `defaults`.
    fn over(self, defaults: &Settings) -> Settings {
        let defaults = defaults.clone();
        Settings {
            out: self.out.or(defaults.out),
            days: self.days.or(defaults.days),
            not_after: self.not_after.or(defaults.not_after),
            key_size: self.key_size.or(defaults.key_size),
            hash: self.hash.or(defaults.hash),
            pfx_profile: self.pfx_profile.or(defaults.pfx_profile),
            format: self.format.or(defaults.format),
            renew_within: self.renew_within.or(defaults.renew_within),
            prune_expired: self.prune_expired.or(defaults.prune_expired),
            keep: self.keep.or(defaults.keep),
            no_pfx: self.no_pfx.or(defaults.no_pfx),
            pem_bundle: self.pem_bundle.or(defaults.pem_bundle),
            ca: self.ca.or(defaults.ca),
            ca_chain: self.ca_chain.or(defaults.ca_chain),
        }
    }
}

impl BatchApp {
    /// The renewal window in days.
    pub fn renew_within(&self) -> u32 {
        self.settings
            .renew_within
            .unwrap_or(DEFAULT_RENEW_WITHIN_DAYS)
    }

    /// Whether it writes a PFX.
    pub fn wants_pfx(&self) -> bool {
        !self.settings.no_pfx.unwrap_or(false)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Where each line starts, for many look-ups of a line number in one text.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex {
            starts: text.match_indices('\n').map(|(i, _)| i + 1).collect(),
        }
    }

    /// The 1-based line of `offset`, as [`line_of`] counts it.
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset) + 1
    }
}

/// Joins `path` onto `base` unless absolute, and removes `.` and `..` lexically, for comparing targets.
fn resolve(base: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Reads and checks a whole plan. `base` is the plan file's folder.
pub fn parse_plan(text: &str, source: &str, base: &Path) -> Result<Vec<BatchApp>> {
    let fail = |reason: String| Error::Document {
        source_name: source.to_owned(),
        reason,
    };
    let plan = plan_file::read(text).map_err(fail)?;
    if plan.apps.is_empty() && plan.problems.is_empty() {
        return Err(fail("has no [[app]] tables".into()));
    }
    let defaults = plan.defaults;
    let mut apps: Vec<BatchApp> = Vec::with_capacity(plan.apps.len());
    // Every problem of every app, so that one run shows them all.
    let mut problems: Vec<String> = plan.problems;
    // What earlier rows took (a name, a folder, a manifest), with the index of the row that took it: a plan of
    // tens of thousands of rows is checked in linear time.
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut folders: HashMap<String, usize> = HashMap::new();
    let mut manifests: HashMap<PathBuf, usize> = HashMap::new();
    for entry in plan.apps {
        // A row the reading found wrong (no name, a value of the wrong type) is already a problem; its other
        // checks wait for it to be read whole.
        let (line, Some(name), true) = (entry.line, entry.name.clone(), entry.read_whole) else {
            continue;
        };
        let at = |reason: String| format!("line {line}, app {name:?}: {reason}");
        if let Some(other) = names.get(&name).map(|&i| &apps[i]) {
            problems.push(format!(
                "line {line}: app name {name:?} is already used on line {}; names must be unique",
                other.line
            ));
            continue;
        }
        let before = problems.len();
        if let Err(e) = crate::provision::validate_name(&name) {
            problems.push(at(e.say(&PlanWords)));
        }
        let (graph_app, subject, settings) = check_row(&entry, &defaults, base, &mut |reason| {
            problems.push(at(reason))
        });
        if problems.len() > before {
            continue;
        }
        let out_dir = resolve(
            base,
            &settings.out.clone().unwrap_or_else(|| PathBuf::from(".")),
        )
        .join(&name);
        // Compared case-insensitively: on macOS and Windows `Orders` and `orders` are one folder.
        let folder = out_dir.to_string_lossy().to_lowercase();
        if let Some(other) = folders.get(&folder).map(|&i| &apps[i]) {
            problems.push(at(format!(
                "writes to {}, as app {:?} on line {} does; every app needs its own folder",
                out_dir.display(),
                other.name,
                other.line
            )));
            continue;
        }
        let manifest = entry.manifest.map(|m| resolve(base, &m));
        if let Some(path) = &manifest {
            if let Some(other) = manifests.get(path).map(|&i| &apps[i]) {
                problems.push(at(format!(
                    "rotates {}, as app {:?} on line {} does; two runs on one manifest would race",
                    path.display(),
                    other.name,
                    other.line
                )));
                continue;
            }
        }
        names.insert(name.clone(), apps.len());
        folders.insert(folder, apps.len());
        if let Some(path) = &manifest {
            manifests.insert(path.clone(), apps.len());
        }
        apps.push(BatchApp {
            name,
            line,
            subject,
            manifest,
            graph_app,
            out_dir,
            settings,
        });
    }
    if !problems.is_empty() {
        return Err(fail(problems_text(&problems)));
    }
    Ok(apps)
}

/// The checks of one row that need nothing of the others: its tenant target, its subject, and the rules between
/// its settings (defaults applied). Each problem goes to `report`, in the plan's words.
fn check_row(
    entry: &plan_file::AppEntry,
    defaults: &Settings,
    base: &Path,
    report: &mut dyn FnMut(String),
) -> (Option<uuid::Uuid>, String, Settings) {
    let graph_app = match (entry.graph.unwrap_or(false), &entry.app_id, &entry.manifest) {
        (true, Some(id), None) => match uuid::Uuid::try_parse(id) {
            Ok(id) => Some(id),
            Err(_) => {
                report(format!(
                    "app_id {id:?} is not a GUID: give the app's Application (client) ID"
                ));
                None
            }
        },
        (true, None, _) => {
            report(
                "graph = true needs app_id: the Application (client) ID of the app to rotate in the tenant"
                    .into(),
            );
            None
        }
        (true, Some(_), Some(_)) => {
            report(
                "graph = true rotates the app in the tenant; a manifest file is for a local rotation: give one \
                 of the two"
                    .into(),
            );
            None
        }
        (false, Some(_), _) => {
            report(
                "app_id is for graph = true rows (a rotation in the tenant); add graph = true, or drop app_id"
                    .into(),
            );
            None
        }
        (false, None, _) => None,
    };
    // A tenant row may leave the subject to the app (its newest credential's, else its display name), and a
    // manifest row to the manifest (its newest credential's), as rotate does.
    let subject = match entry.subject.clone() {
        Some(subject) => {
            if let Err(e) = Subject::parse(&subject) {
                report(e.say(&PlanWords));
            }
            subject
        }
        None if entry.graph.unwrap_or(false) || entry.manifest.is_some() => String::new(),
        None => {
            report(
                "subject is missing: a row that provisions a new app (no manifest, no graph = true) needs the \
                 certificate's subject"
                    .into(),
            );
            String::new()
        }
    };
    let mut settings = entry.settings.clone().over(defaults);
    settings.ca_chain = settings
        .ca_chain
        .map(|chain| chain.iter().map(|c| resolve(base, c)).collect());
    if settings.ca == Some(true) {
        if entry.manifest.is_none() && !entry.graph.unwrap_or(false) {
            report(
                "ca = true is for rotations (a manifest, or graph = true); for a new app's first certificate \
                 from your CA run keycred csr, then keycred import"
                    .into(),
            );
        }
        if settings.days.is_some() || settings.not_after.is_some() {
            report(
                "ca = true: your CA decides the certificate's validity; drop days and not_after"
                    .into(),
            );
        }
    } else if settings.ca_chain.is_some() {
        report("ca_chain is for ca = true rows".into());
    }
    if settings.days.is_some() && settings.not_after.is_some() {
        report("sets both days and not_after; use one".into());
    }
    if let Some(bits) = settings.key_size {
        if let Err(e) = KeySize::from_bits(bits) {
            report(e.say(&PlanWords));
        }
    }
    (graph_app, subject, settings)
}

/// Several problems as one message: the count, then one per line.
fn problems_text(problems: &[String]) -> String {
    match problems {
        [one] => format!("{one}; nothing was run"),
        many => format!(
            "{} problems, nothing was run:\n  {}",
            many.len(),
            many.join("\n  ")
        ),
    }
}

/// A plan's words for the inputs the shared workflows name: the keys a row sets (`name`, `key_size`), not the
/// command line's flags (`--name`, `--key-size`).
#[derive(Clone, Copy, Debug, Default)]
pub struct PlanWords;

impl Voice for PlanWords {
    fn input(&self, input: Input) -> Cow<'static, str> {
        Cow::Borrowed(match input {
            Input::Name => "name",
            Input::Out => "out",
            Input::Subject => "subject",
            Input::Days => "days",
            Input::NotAfter => "not_after",
            Input::KeySize => "key_size",
            Input::Keep => "keep",
            Input::NoPfx => "no_pfx",
            Input::NoKey => "no_key",
            Input::MaxLifetime => "max_lifetime",
        })
    }

    fn advice(&self, advice: Advice) -> Cow<'static, str> {
        Cow::Borrowed(match advice {
            Advice::ChooseFormat => {
                "set format = \"graph\" or format = \"legacy\" for this app in the plan"
            }
            Advice::CertificateNotManifest => {
                "a row's manifest is the app's manifest (Graph or legacy JSON), not its certificate"
            }
            Advice::OutIsAFolder => "out takes a folder",
            Advice::FolderApart => "put the folder in out",
            // batch's own flag (--force) is the way to replace a file, as on the command line.
            Advice::ReplaceOrWriteElsewhere => return Flags.advice(advice),
        })
    }
}

/// Refuses a `--report` path that holds anything but an earlier run's report (a manifest, a plan, a key), before
/// any app runs. An earlier report is replaced: a report is a run's output.
pub fn check_report_target(path: &Path) -> Result<()> {
    let is_report = crate::fsio::check_report_target(path, |report| {
        ["plan", "startedAt", "counts", "apps"]
            .iter()
            .all(|key| report.contains_key(*key))
    })?;
    if is_report {
        Ok(())
    } else {
        Err(Error::Refused(format!(
            "--report {} exists and is not a keycred batch report: nothing was run and it was left as it is; \
             choose another --report FILE (an earlier run's report is replaced)",
            path.display()
        )))
    }
}

/// Checks, before any app runs, that every manifest the plan names exists, naming each missing one with its
/// line (so a typo in app 180 does not stop a scheduled run halfway).
pub fn check_manifests(apps: &[BatchApp], source: &str) -> Result<()> {
    let missing: Vec<String> = apps
        .iter()
        .filter_map(|app| {
            let path = app.manifest.as_ref()?;
            (!path.is_file()).then(|| {
                format!(
                    "line {}, app {:?}: manifest {} does not exist",
                    app.line,
                    app.name,
                    path.display()
                )
            })
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Document {
        source_name: source.to_owned(),
        reason: format!(
            "{} (paths in a plan are relative to the plan's folder)",
            problems_text(&missing)
        ),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn library_errors_name_a_rows_keys_not_flags() {
        use super::PlanWords;
        use crate::Error;
        let failure = crate::error::GraphFailure {
            what: "PATCH /v1.0/applications/1".into(),
            status: 400,
            code: "CredentialInvalidLifetimeAsPerAppPolicy".into(),
            message: "too long".into(),
            request_id: None,
            hint: crate::graph::advice("CredentialInvalidLifetimeAsPerAppPolicy", ""),
        };
        let cases = [
            (
                Error::KeySize(1024),
                "use key_size 2048, 3072 or 4096",
                "--key-size",
            ),
            (
                Error::Graph(Box::new(failure)),
                "make the certificate with fewer days",
                "--days",
            ),
            (
                crate::provision::validate_name("a/b").unwrap_err(),
                "name \"a/b\" contains a path separator; put the folder in out",
                "--",
            ),
            (
                Error::Exists("orders.cer".into()),
                "orders.cer already exists: nothing was written; pass --force",
                "--out",
            ),
        ];
        for (error, plan, not) in cases {
            let said = error.say(&PlanWords);
            assert!(said.contains(plan), "{plan}: {said}");
            assert!(!said.contains(not), "{not}: {said}");
        }
    }

    #[test]
    fn the_line_index_counts_as_line_of_does() {
        let text = "a\nbb\n\nccc\n";
        let lines = LineIndex::new(text);
        for offset in 0..=text.len() + 2 {
            assert_eq!(lines.line_of(offset), line_of(text, offset), "{offset}");
        }
    }

    use super::*;

    const PLAN: &str = r#"
[defaults]
out = "certs"
days = 180
renew_within = 45

[[app]]
name = "orders"
subject = "CN=Orders Daemon"
manifest = "manifests/orders.json"

[[app]]
name = "billing"
subject = "Billing Daemon"
days = 90
key_size = 3072
out = "other"
"#;

    #[test]
    fn defaults_apply_and_apps_override() {
        let apps = parse_plan(PLAN, "plan.toml", Path::new("/base")).unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].out_dir, Path::new("/base/certs/orders"));
        assert_eq!(
            apps[0].manifest.as_deref(),
            Some(Path::new("/base/manifests/orders.json"))
        );
        assert_eq!(apps[0].settings.days, Some(180));
        assert_eq!(apps[0].renew_within(), 45);
        assert_eq!(apps[0].line, 8);
        assert_eq!(apps[1].settings.days, Some(90));
        assert_eq!(apps[1].out_dir, Path::new("/base/other/billing"));
        assert!(apps[1].manifest.is_none());
    }

    #[test]
    fn plan_errors_name_the_line() {
        let cases = [
            ("[[app]]\nname = \"a\"\nsubject = \"A\"\ncolour = \"red\"\n", "line 4"),
            ("[[app]]\nname = \"a\"\nsubject = \"A\"\n\n[[app]]\nname = \"a\"\nsubject = \"B\"\n", "line 6: app name \"a\" is already used on line 2"),
            ("[[app]]\nname = \"a\"\nsubject = \"\"\n", "line 2, app \"a\": subject \"\": is empty"),
            ("[[app]]\nname = \"a\"\nsubject = \"A\"\nkey_size = 1024\n", "key size 1024"),
            ("[[app]]\nname = \"a\"\nsubject = \"A\"\nhash = \"md5\"\n", "line 4"),
            ("[[app]]\nname = \"../a\"\nsubject = \"A\"\n", "name \"../a\" contains a path separator; put the folder in out"),
            ("[defaults]\nout = \"x\"\n", "has no [[app]] tables"),
            (
                "[[app]]\nname = \"a\"\nsubject = \"A\"\nout = \"x\"\n[[app]]\nname = \"b\"\nsubject = \"B\"\nout = \"x/b/../b/..\"\nmanifest = \"m.json\"\n[[app]]\nname = \"a2\"\nsubject = \"C\"\nmanifest = \"./m.json\"\n",
                "rotates /p/m.json, as app \"b\"",
            ),
            (
                "[[app]]\nname = \"orders\"\nsubject = \"A\"\nout = \"x\"\n[[app]]\nname = \"Orders\"\nsubject = \"B\"\nout = \"./x\"\n",
                "writes to /p/x/Orders, as app \"orders\" on line 2",
            ),
        ];
        for (text, expected) in cases {
            let err = parse_plan(text, "plan.toml", Path::new("/p"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "expected {expected:?} in {err}");
        }
    }

    #[test]
    fn every_type_error_of_a_plan_is_reported_at_once_in_its_words() {
        let text = "[defaults]\nkey_size = \"big\"\nno_pfx = \"yes\"\n\n[[app]]\nname = \"a\"\nsubject = \"A\"\ndays = -3\nhash = \"md5\"\n\n[[app]]\nsubject = \"B\"\n\n[[app]]\nname = \"c\"\nsubject = \"C\"\ncolour = \"red\"\n";
        let err = parse_plan(text, "plan.toml", Path::new("/p"))
            .unwrap_err()
            .to_string();
        for expected in [
            "6 problems, nothing was run",
            "line 2, [defaults]: key_size must be 2048, 3072 or 4096, not the string \"big\"",
            "line 3, [defaults]: no_pfx must be true or false (without quotes), not the string \"yes\"",
            "line 8, app \"a\": days must be a whole number of days, not the number -3",
            "line 9, app \"a\": hash must be \"sha256\", \"sha384\" or \"sha512\", not the string \"md5\"",
            "line 11: an [[app]] has no name",
            "line 17, app \"c\": unknown key \"colour\"",
        ] {
            assert!(err.contains(expected), "expected {expected:?} in {err}");
        }
        assert!(!err.contains("invalid type"), "{err}");
    }
}
