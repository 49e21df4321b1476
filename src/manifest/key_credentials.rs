//! `keyCredentials`: the certificate credentials of an app registration.
//!
//! Two wire shapes exist. The Microsoft Graph `keyCredential` resource
//! (<https://learn.microsoft.com/graph/api/resources/keycredential>) is what Graph accepts in
//! `PATCH /applications/{id}` and what the portal's manifest editor has shown since 2025. The Azure AD Graph
//! shape (`endDate`, `startDate`, `value`) is what the older portal manifest and many guides use. Both are
//! rendered from a [`CertificateInfo`], so every date, thumbprint and byte comes from the certificate itself.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Serialize;
use uuid::Uuid;

use crate::credential::CertificateInfo;
use crate::time_fmt::rfc3339_utc;

/// The longest display name Graph stores; it shortens longer ones, so keycred does it visibly.
pub const MAX_DISPLAY_NAME: usize = 90;

/// Which manifest shape to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    /// Microsoft Graph (`endDateTime`, `key`, `displayName`).
    Graph,
    /// Azure AD Graph, the legacy portal manifest (`endDate`, `value`).
    Legacy,
}

/// A Microsoft Graph `keyCredential` (field order as in the Graph documentation's JSON representation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphKeyCredential {
    /// Base64 of the 20-byte SHA-1 thumbprint (the raw bytes, not the hex text).
    pub custom_key_identifier: String,
    /// A friendly name; keycred uses the certificate subject, at most 90 characters.
    pub display_name: String,
    /// The certificate's notAfter, RFC 3339 UTC.
    pub end_date_time: String,
    /// Base64 of the DER certificate (no PEM armour, no line breaks).
    pub key: String,
    /// A new random id for this credential.
    pub key_id: Uuid,
    /// The certificate's notBefore, RFC 3339 UTC.
    pub start_date_time: String,
    /// Always `AsymmetricX509Cert`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Always `Verify` (a credential used to verify the app's signed assertions).
    pub usage: &'static str,
}

/// An Azure AD Graph (legacy manifest) key credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyKeyCredential {
    /// Base64 of the 20-byte SHA-1 thumbprint.
    pub custom_key_identifier: String,
    /// The certificate's notAfter, RFC 3339 UTC.
    pub end_date: String,
    /// A new random id for this credential.
    pub key_id: Uuid,
    /// The certificate's notBefore, RFC 3339 UTC.
    pub start_date: String,
    /// Always `AsymmetricX509Cert`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Always `Verify`.
    pub usage: &'static str,
    /// Base64 of the DER certificate.
    pub value: String,
}

impl GraphKeyCredential {
    /// The Graph credential for `cert` with the given key id.
    pub fn new(cert: &CertificateInfo, key_id: Uuid) -> GraphKeyCredential {
        GraphKeyCredential {
            custom_key_identifier: STANDARD.encode(cert.thumbprints.sha1),
            display_name: display_name(&cert.subject),
            end_date_time: rfc3339_utc(cert.not_after),
            key: STANDARD.encode(cert.der()),
            key_id,
            start_date_time: rfc3339_utc(cert.not_before),
            kind: "AsymmetricX509Cert",
            usage: "Verify",
        }
    }
}

impl LegacyKeyCredential {
    /// The legacy credential for `cert` with the given key id.
    pub fn new(cert: &CertificateInfo, key_id: Uuid) -> LegacyKeyCredential {
        LegacyKeyCredential {
            custom_key_identifier: STANDARD.encode(cert.thumbprints.sha1),
            end_date: rfc3339_utc(cert.not_after),
            key_id,
            start_date: rfc3339_utc(cert.not_before),
            kind: "AsymmetricX509Cert",
            usage: "Verify",
            value: STANDARD.encode(cert.der()),
        }
    }
}

/// The subject, cut to [`MAX_DISPLAY_NAME`] characters.
fn display_name(subject: &str) -> String {
    subject.chars().take(MAX_DISPLAY_NAME).collect()
}

/// A `keyCredentials` collection ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCredentialsDocument {
    entries: Vec<serde_json::Value>,
}

impl KeyCredentialsDocument {
    /// One credential per certificate, each with the matching key id.
    pub fn new(
        certs: &[(&CertificateInfo, Uuid)],
        format: ManifestFormat,
    ) -> KeyCredentialsDocument {
        let entries = certs
            .iter()
            .map(|(cert, key_id)| {
                match format {
                    ManifestFormat::Graph => {
                        serde_json::to_value(GraphKeyCredential::new(cert, *key_id))
                    }
                    ManifestFormat::Legacy => {
                        serde_json::to_value(LegacyKeyCredential::new(cert, *key_id))
                    }
                }
                .expect("key credentials always serialize")
            })
            .collect();
        KeyCredentialsDocument { entries }
    }

    /// The entries as JSON values.
    pub fn entries(&self) -> &[serde_json::Value] {
        &self.entries
    }

    /// `{"keyCredentials": [...]}`: valid JSON, and the body of a Graph `PATCH /applications/{id}`.
    pub fn to_object(&self) -> serde_json::Value {
        serde_json::json!({ "keyCredentials": self.entries })
    }

    /// The document, pretty-printed, ending in a newline. With `fragment`, only the `"keyCredentials": [...]`
    /// property, for pasting into the portal's manifest editor.
    pub fn render(&self, fragment: bool) -> String {
        if fragment {
            let serde_json::Value::Object(object) = self.to_object() else {
                unreachable!("to_object builds an object")
            };
            super::document::fragment_text(&object)
        } else {
            let mut text =
                serde_json::to_string_pretty(&self.to_object()).expect("JSON values serialize");
            text.push('\n');
            text
        }
    }
}
