//! Pure renderers for what the commands print: text for people, JSON for scripts, one file per area:
//! [`credential`] (inspect, thumbprint, `new`'s summary and the secrets advice), [`manifest`] (check, grant),
//! [`rotation`] (rotate's diff, next steps and summary), [`flow`] (decode), [`ca`] (csr, import), [`batch`] (a plan's run), [`tenant`] (graph apps), [`tenant_rotation`] (graph rotate)
//! and [`doctor`]. The daemon's configurations and the
//! API's rules have their renderers in [`crate::deploy`] and [`crate::policy`].
//!
//! Both forms are built from the same facts, and the clock is a parameter, so snapshot tests can pin the
//! output exactly.

pub mod batch;
pub mod ca;
pub mod credential;
pub mod doctor;
pub mod flow;
pub mod manifest;
pub mod rotation;
pub mod service_principal;
pub mod tenant;
pub mod tenant_rotation;
pub mod usage;
pub mod vault;

pub use credential::{
    certificate_json, inspect_json, inspect_text, secrets_advice, thumbprint_json, thumbprint_text,
    validity_phrase, NewSummary,
};
pub use flow::{decode_json, decode_text};
pub use manifest::{check_json, check_text, grant_json, grant_text};
pub use rotation::{ca_step_json, rotate_json, rotate_text};

use serde_json::{Map, Value};

use crate::credential::{ThumbprintForm, Thumbprints};

pub use crate::words::escape_controls;
pub(crate) use crate::words::one_line;

/// A name on its line, "(no name)" without one.
pub(crate) fn name_or_none(name: Option<&str>) -> std::borrow::Cow<'_, str> {
    one_line(name.unwrap_or("(no name)"))
}

/// A name after two spaces at the end of its line, or nothing.
pub(crate) fn trailing_name(name: Option<&str>) -> String {
    name.map(|n| format!("  {}", one_line(n)))
        .unwrap_or_default()
}

/// Width of the label column in text output.
pub(crate) const LABEL: usize = 14;

/// One labelled line: the value is one line whatever it holds ([`one_line`]), as a claim, a subject or a name may
/// hold a line break.
pub(crate) fn line(out: &mut String, label: &str, value: impl std::fmt::Display) {
    // A label as long as the column still gets a space before its value.
    let width = LABEL.max(label.chars().count() + 1);
    let value = value.to_string();
    out.push_str(&format!("  {label:<width$}{}\n", one_line(&value)));
}

/// Written files as `--json` gives them: an object from each file's role to its path.
pub(crate) fn files_json(files: &[(crate::provision::FileRole, String)]) -> Value {
    files
        .iter()
        .map(|(role, path)| (role.as_str().to_owned(), Value::String(path.clone())))
        .collect::<Map<String, Value>>()
        .into()
}

/// All five thumbprint forms as a JSON object keyed by [`ThumbprintForm::label`].
pub fn thumbprints_json(thumbprints: &Thumbprints) -> Value {
    let mut map = Map::new();
    for form in ThumbprintForm::ALL {
        map.insert(
            form.label().to_owned(),
            Value::String(thumbprints.render(form)),
        );
    }
    Value::Object(map)
}

pub(crate) fn thumbprint_lines(out: &mut String, thumbprints: &Thumbprints) {
    for form in ThumbprintForm::ALL {
        line(out, form.label(), thumbprints.render(form));
    }
}
