//! App manifests as documents: read one (Graph or legacy format, detected), change only what keycred owns, and
//! write it back with every other field as it was, in its order.
//!
//! The document stays a `serde_json` map with `preserve_order`, never a struct: a struct would drop the fields
//! keycred does not know, and Entra adds new ones every year. Changes are made in place (updating a key keeps
//! its position), new keys go at the end.

use serde_json::{Map, Value};

use super::ManifestFormat;
use crate::error::{Error, Result};
use crate::words::Advice;

/// Top-level keys only the legacy (Azure AD Graph) manifest has.
const LEGACY_KEYS: [&str; 6] = [
    "oauth2Permissions",
    "accessTokenAcceptedVersion",
    "replyUrlsWithType",
    "oauth2AllowImplicitFlow",
    "oauth2AllowIdTokenImplicitFlow",
    "availableToOtherTenants",
];

/// Top-level keys only the Microsoft Graph manifest has.
const GRAPH_KEYS: [&str; 5] = [
    "api",
    "web",
    "spa",
    "isFallbackPublicClient",
    "publicClient",
];

/// How the manifest's format is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatChoice {
    /// From its fields (`id` and `appId`, or a field only one format has); an error when they cannot tell.
    #[default]
    Detect,
    /// As given (`--format`); it must agree with the fields when they tell.
    Given(ManifestFormat),
    /// From the fields, and this one when they cannot tell (a batch plan's `format`, which also names the
    /// fragment format of provisioned apps).
    Fallback(ManifestFormat),
}

/// An app registration manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    root: Map<String, Value>,
    format: ManifestFormat,
    source: String,
}

/// Detects the format from keys only one of the two shapes has. A manifest with `id` and `appId` and nothing of
/// the legacy shape is the Graph format: the portal writes that for a new app registration, whose manifest may
/// have no `api` yet and no credential to tell it by.
pub fn detect_format(root: &Map<String, Value>) -> Option<ManifestFormat> {
    let legacy =
        LEGACY_KEYS.iter().any(|k| root.contains_key(*k)) || credential_dates_are(root, "endDate");
    let graph = GRAPH_KEYS.iter().any(|k| root.contains_key(*k))
        || credential_dates_are(root, "endDateTime")
        || (!legacy && root.contains_key("id") && root.contains_key("appId"));
    match (graph, legacy) {
        (true, false) => Some(ManifestFormat::Graph),
        (false, true) => Some(ManifestFormat::Legacy),
        _ => None,
    }
}

fn credential_dates_are(root: &Map<String, Value>, key: &str) -> bool {
    ["keyCredentials", "passwordCredentials"]
        .iter()
        .any(|collection| {
            root.get(*collection)
                .and_then(Value::as_array)
                .is_some_and(|items| items.iter().any(|i| i.get(key).is_some()))
        })
}

impl Manifest {
    /// Parses a manifest. `format` overrides detection, but must agree with it when detection is sure.
    pub fn parse(text: &str, source: &str, format: Option<ManifestFormat>) -> Result<Manifest> {
        let fail = |reason: String| Error::Document {
            source_name: source.to_owned(),
            reason,
        };
        let value = crate::input::parse_json(text, source).map_err(|error| match error {
            Error::Document {
                source_name,
                reason,
            } if reason.starts_with("malformed JSON") => Error::Document {
                source_name,
                reason: format!(
                    "{reason}; expected an app manifest: one JSON object {{…}} with keyCredentials"
                ),
            },
            other => other,
        })?;
        let Value::Object(root) = value else {
            return Err(fail(format!(
                "is {} in JSON, not an app manifest: expected one JSON object {{…}} with keyCredentials (as the \
                 portal's manifest editor or GET /applications/{{id}} gives it)",
                super::existing::json_type(&value)
            )));
        };
        let detected = detect_format(&root);
        let format = match (format, detected) {
            (Some(asked), Some(found)) if asked != found => {
                return Err(fail(format!(
                    "is a {} manifest, but --format {} was given",
                    format_name(found),
                    format_name(asked)
                )))
            }
            (Some(asked), _) => asked,
            (None, Some(found)) => found,
            (None, None) => {
                return Err(Error::Unusable(crate::words::said!(
                    format!(
                        "{source}: cannot tell whether this is a Microsoft Graph or a legacy manifest (it has \
                         neither id and appId nor a field only one format has); "
                    ),
                    Advice::ChooseFormat
                )))
            }
        };
        let manifest = Manifest {
            root,
            format,
            source: source.to_owned(),
        };
        manifest.check_roles_array()?;
        Ok(manifest)
    }

    /// An application object as Graph returns it (`GET /applications/{id}`), as a manifest in the Graph format.
    pub fn from_graph_object(root: Map<String, Value>, source: &str) -> Result<Manifest> {
        let manifest = Manifest {
            root,
            format: ManifestFormat::Graph,
            source: source.to_owned(),
        };
        manifest.check_roles_array()?;
        Ok(manifest)
    }

    /// Reads a manifest file's `bytes` (already size-limited) as `choice` says. A certificate or PFX given as the
    /// manifest is named as such, with the option it belongs to.
    pub fn read(path: &std::path::Path, bytes: Vec<u8>, choice: FormatChoice) -> Result<Manifest> {
        let source = path.display().to_string();
        // A PFX asks for its password: that alone tells it is one, so no password is needed here.
        let credential =
            match crate::credential::load(path, &bytes, || Err(Error::Password(String::new()))) {
                Ok(_) | Err(Error::Password(_)) => true,
                Err(_) => false,
            };
        if credential {
            return Err(Error::Unusable(crate::words::said!(
                format!("{source}: is a certificate, not an app manifest: "),
                Advice::CertificateNotManifest
            )));
        }
        let text = crate::input::text(path, bytes)?;
        match choice {
            FormatChoice::Detect => Manifest::parse(&text, &source, None),
            FormatChoice::Given(format) => Manifest::parse(&text, &source, Some(format)),
            FormatChoice::Fallback(format) => match Manifest::parse(&text, &source, None) {
                Err(Error::Unusable(said)) if said.advises(Advice::ChooseFormat) => {
                    Manifest::parse(&text, &source, Some(format))
                }
                other => other,
            },
        }
    }

    /// The detected (or given) format.
    pub fn format(&self) -> ManifestFormat {
        self.format
    }

    /// The whole document.
    pub fn root(&self) -> &Map<String, Value> {
        &self.root
    }

    /// The file name the manifest was read from.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub(crate) fn root_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.root
    }

    pub(crate) fn document_error(&self, reason: impl Into<String>) -> Error {
        Error::Document {
            source_name: self.source.clone(),
            reason: reason.into(),
        }
    }

    /// The manifest as pretty JSON with a trailing newline.
    pub fn render(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.root).expect("JSON values serialize");
        text.push('\n');
        text
    }
}

/// The name of a format as the CLI spells it.
pub fn format_name(format: ManifestFormat) -> &'static str {
    match format {
        ManifestFormat::Graph => "graph",
        ManifestFormat::Legacy => "legacy",
    }
}

/// The properties of a JSON object without its braces, for pasting into a manifest editor:
/// `"appRoles": [...],` and so on, indented as at the top level of the manifest.
pub fn fragment_text(object: &Map<String, Value>) -> String {
    let pretty = serde_json::to_string_pretty(object).expect("JSON values serialize");
    let inner = pretty
        .strip_prefix("{\n")
        .and_then(|s| s.strip_suffix("\n}"))
        .unwrap_or_default();
    let mut out = String::with_capacity(inner.len());
    for line in inner.lines() {
        out.push_str(line.strip_prefix("  ").unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_both_formats() {
        assert_eq!(
            Manifest::parse(r#"{"api": {}}"#, "m", None)
                .unwrap()
                .format(),
            ManifestFormat::Graph
        );
        let legacy = r#"{"oauth2Permissions": [], "appRoles": []}"#;
        assert_eq!(
            Manifest::parse(legacy, "m", None).unwrap().format(),
            ManifestFormat::Legacy
        );
        let err = Manifest::parse("{}", "m", None).unwrap_err().to_string();
        assert!(err.contains("pass --format"), "{err}");
        let portal = r#"{"id": "x", "appId": "y", "keyCredentials": []}"#;
        assert_eq!(
            Manifest::parse(portal, "m", None).unwrap().format(),
            ManifestFormat::Graph
        );
        let legacy_ids = r#"{"id": "x", "appId": "y", "oauth2Permissions": []}"#;
        assert_eq!(
            Manifest::parse(legacy_ids, "m", None).unwrap().format(),
            ManifestFormat::Legacy
        );
        let err = Manifest::parse(legacy, "m", Some(ManifestFormat::Graph))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a legacy manifest"), "{err}");
    }

    #[test]
    fn fragment_text_strips_the_braces() {
        let mut map = Map::new();
        map.insert("a".into(), serde_json::json!([1]));
        map.insert("b".into(), serde_json::json!(true));
        assert_eq!(fragment_text(&map), "\"a\": [\n  1\n],\n\"b\": true\n");
    }
}
