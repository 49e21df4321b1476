//! Where role specs come from besides flags: roles files (JSON or TOML) and templates (built in or a file).
//!
//! The built-in templates live in `templates/` and are compiled in, so the binary needs no data files; a user's
//! own file of the same shape overrides them with `--template-file`. Parse errors carry the parser's line and
//! column, and unknown keys are refused by name rather than ignored.

use serde::Deserialize;

use super::app_roles::RoleSpec;
use crate::error::{Error, Result};

/// A set of roles with a one-line description, from `templates/` or a user's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The name (`read-write`) or the file it came from.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Its roles.
    pub roles: Vec<RoleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlRoles {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    role: Vec<RoleSpec>,
}

const BUILTIN: [(&str, &str); 3] = [
    (
        "read-write",
        include_str!("../../templates/read-write.toml"),
    ),
    (
        "admin-readonly",
        include_str!("../../templates/admin-readonly.toml"),
    ),
    ("invoke", include_str!("../../templates/invoke.toml")),
];

/// The templates built into keycred, in a fixed order.
pub fn builtin_templates() -> Vec<Template> {
    BUILTIN
        .iter()
        .map(|(name, text)| parse_template(text, name).expect("built-in templates are valid"))
        .collect()
}

/// A built-in template by name; the error lists the names there are.
pub fn builtin_template(name: &str) -> Result<Template> {
    builtin_templates()
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| {
            let names: Vec<_> = BUILTIN.iter().map(|(n, _)| *n).collect();
            Error::Invalid(format!(
                "there is no template {name:?}: keycred has {} (see `keycred templates`), or use --template-file PATH",
                names.join(", ")
            ))
        })
}

/// Reads a template (TOML): an optional `description` and `[[role]]` tables.
pub fn parse_template(text: &str, name: &str) -> Result<Template> {
    let parsed: TomlRoles = toml::from_str(text).map_err(|e| Error::Document {
        source_name: name.to_owned(),
        reason: toml_error(&e),
    })?;
    if parsed.role.is_empty() {
        return Err(Error::Document {
            source_name: name.to_owned(),
            reason: "has no [[role]] tables".into(),
        });
    }
    Ok(Template {
        name: name.to_owned(),
        description: parsed.description.unwrap_or_default(),
        roles: parsed.role,
    })
}

/// Reads a roles file: JSON (an array of appRole objects) or TOML (`[[role]]` tables), told apart by the
/// file's extension, or by its content when the extension says neither.
pub fn parse_roles_file(text: &str, source_name: &str) -> Result<Vec<RoleSpec>> {
    let lower = source_name.to_ascii_lowercase();
    let json = if lower.ends_with(".json") {
        true
    } else if lower.ends_with(".toml") {
        false
    } else {
        looks_like_json(text)
    };
    if json {
        // Duplicate keys first (a role with two "value"s must not silently keep one), then the typed reading,
        // whose messages carry line and column.
        crate::input::parse_json(text, source_name)?;
        let roles: Vec<RoleSpec> = serde_json::from_str(text).map_err(|e| Error::Document {
            source_name: source_name.to_owned(),
            reason: format!("not a JSON array of appRole objects: {e}"),
        })?;
        if roles.is_empty() {
            return Err(Error::Document {
                source_name: source_name.to_owned(),
                reason: "the array has no roles".into(),
            });
        }
        Ok(roles)
    } else {
        Ok(parse_template(text, source_name)?.roles)
    }
}

fn looks_like_json(text: &str) -> bool {
    let mut chars = text.trim_start().chars();
    match chars.next() {
        Some('{') => true,
        Some('[') => matches!(chars.find(|c| !c.is_whitespace()), Some('{') | Some(']')),
        _ => false,
    }
}

/// toml's message, on one line, keeping its "line N, column M".
fn toml_error(error: &toml::de::Error) -> String {
    let message = error.message().trim().to_owned();
    match error.span() {
        Some(_) => {
            let first = error.to_string();
            let location = first.lines().next().unwrap_or_default().trim();
            let location = location.trim_start_matches("TOML parse error at ");
            format!("{location}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_parse_and_have_the_promised_roles() {
        let names: Vec<_> = builtin_templates()
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    t.roles.iter().map(|r| r.value.clone()).collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                (
                    "read-write".to_owned(),
                    vec!["Resource.Read".to_owned(), "Resource.Write".to_owned()]
                ),
                (
                    "admin-readonly".to_owned(),
                    vec!["Admin".to_owned(), "ReadOnly".to_owned()]
                ),
                ("invoke".to_owned(), vec!["Invoke".to_owned()]),
            ]
        );
        let err = builtin_template("nope").unwrap_err().to_string();
        assert!(err.contains("read-write, admin-readonly, invoke"), "{err}");
    }

    #[test]
    fn json_and_toml_roles_files() {
        let json = r#"[{"value": "A", "displayName": "A role", "allowedMemberTypes": ["User"]}]"#;
        let roles = parse_roles_file(json, "roles.json").unwrap();
        assert_eq!(roles[0].display_name.as_deref(), Some("A role"));
        let toml = "[[role]]\nvalue = \"B\"\nisEnabled = false\n";
        let roles = parse_roles_file(toml, "roles.toml").unwrap();
        assert_eq!(roles[0].is_enabled, Some(false));
        // Without a telling extension, the content decides.
        assert_eq!(parse_roles_file(json, "roles").unwrap().len(), 1);
        assert_eq!(parse_roles_file(toml, "roles").unwrap().len(), 1);
    }

    #[test]
    fn parse_errors_give_line_and_column() {
        let err = parse_roles_file("[\n  {\"value\": \"A\",}\n]", "r.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2 column"), "{err}");
        let err = parse_roles_file("[[role]]\nvalue = \"A\"\nvalue2 = 3\n", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3, column 1") && err.contains("value2"),
            "{err}"
        );
        let err = parse_roles_file("[[role]]\nvalue = \n", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = parse_roles_file(r#"[{"value": "A", "colour": "red"}]"#, "r.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `colour`"), "{err}");
        let err = parse_roles_file("[]", "r.json").unwrap_err().to_string();
        assert!(err.contains("no roles"), "{err}");
    }
}
