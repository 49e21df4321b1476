//! The key credentials already in a manifest, read for checking and rotation.
//!
//! Graph returns `key: null` for existing credentials (the legacy manifest shows `value: null`), so the
//! certificate itself is often unknown: the thumbprint then comes from `customKeyIdentifier`, and the dates from
//! the manifest, which are what Entra enforces. When the certificate is present, its dates are compared with the
//! manifest's and a disagreement is reported.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Manifest, ManifestFormat};
use crate::credential::CertificateInfo;
use crate::error::Result;

/// One `keyCredentials` entry.
#[derive(Debug, Clone)]
pub struct ExistingCredential {
    /// Its position in the array.
    pub index: usize,
    /// `keyId`, if it is a UUID.
    pub key_id: Option<Uuid>,
    /// `displayName` (Graph only).
    pub display_name: Option<String>,
    /// The SHA-1 thumbprint: from the certificate when present, else from `customKeyIdentifier`.
    pub thumbprint: Option<[u8; 20]>,
    /// Start of validity as the manifest states it.
    pub start: OffsetDateTime,
    /// End of validity as the manifest states it.
    pub end: OffsetDateTime,
    /// `type`, e.g. `AsymmetricX509Cert`.
    pub kind: String,
    /// The certificate, when the manifest carries it (`key` / `value` not null).
    pub certificate: Option<CertificateInfo>,
}

impl ExistingCredential {
    /// Whether the manifest carries the certificate bytes (needed for a Graph PATCH that keeps it).
    pub fn has_key(&self) -> bool {
        self.certificate.is_some()
    }

    /// A short name for messages: the keyId, else the position.
    pub fn label(&self) -> String {
        match self.key_id {
            Some(id) => format!("keyId {id}"),
            None => format!("keyCredentials[{}]", self.index),
        }
    }

    /// A warning when the manifest's dates differ from the certificate's.
    pub fn date_mismatch(&self) -> Option<String> {
        let cert = self.certificate.as_ref()?;
        if cert.not_before != self.start || cert.not_after != self.end {
            Some(format!(
                "{}: the manifest's dates ({} to {}) differ from its certificate's ({} to {}); Entra enforces the manifest's",
                self.label(),
                crate::time_fmt::rfc3339_utc(self.start),
                crate::time_fmt::rfc3339_utc(self.end),
                crate::time_fmt::rfc3339_utc(cert.not_before),
                crate::time_fmt::rfc3339_utc(cert.not_after),
            ))
        } else {
            None
        }
    }
}

impl Manifest {
    /// The raw `keyCredentials` array; an error if the manifest has none.
    pub fn key_credentials_array(&self) -> Result<&Vec<Value>> {
        self.root()
            .get("keyCredentials")
            .ok_or_else(|| {
                self.document_error("has no keyCredentials: is this an app registration manifest?")
            })?
            .as_array()
            .ok_or_else(|| self.document_error("keyCredentials is not an array"))
    }

    /// Reads every key credential; an entry without readable dates is an error naming it.
    pub fn key_credentials(&self) -> Result<Vec<ExistingCredential>> {
        let (start_key, end_key, cert_key) = match self.format() {
            ManifestFormat::Graph => ("startDateTime", "endDateTime", "key"),
            ManifestFormat::Legacy => ("startDate", "endDate", "value"),
        };
        self.key_credentials_array()?
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                let label = match entry.get("keyId").and_then(Value::as_str) {
                    Some(id) => format!("keyCredentials[{index}] (keyId {id})"),
                    None => format!("keyCredentials[{index}]"),
                };
                let object = entry
                    .as_object()
                    .ok_or_else(|| self.document_error(format!("{label} is not an object")))?;
                let date = |key: &str| -> Result<OffsetDateTime> {
                    let text = object.get(key).and_then(Value::as_str).ok_or_else(|| {
                        self.document_error(format!(
                            "{label} has no {key}; every credential needs its dates"
                        ))
                    })?;
                    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
                        self.document_error(format!(
                            "{label}: {key} {text:?} is not an RFC 3339 date"
                        ))
                    })
                };
                let certificate = match object.get(cert_key).and_then(Value::as_str) {
                    Some(b64) if !b64.is_empty() => {
                        let der = STANDARD.decode(b64).map_err(|_| {
                            self.document_error(format!("{label}: {cert_key} is not base64"))
                        })?;
                        Some(CertificateInfo::from_der(&der).map_err(|reason| {
                            self.document_error(format!(
                                "{label}: {cert_key} is not a certificate: {reason}"
                            ))
                        })?)
                    }
                    _ => None,
                };
                let thumbprint = certificate
                    .as_ref()
                    .map(|c| c.thumbprints.sha1)
                    .or_else(|| {
                        let b64 = object.get("customKeyIdentifier")?.as_str()?;
                        STANDARD.decode(b64).ok()?.try_into().ok()
                    });
                Ok(ExistingCredential {
                    index,
                    key_id: object
                        .get("keyId")
                        .and_then(Value::as_str)
                        .and_then(|s| Uuid::parse_str(s).ok()),
                    display_name: object
                        .get("displayName")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    thumbprint,
                    start: date(start_key)?,
                    end: date(end_key)?,
                    kind: object
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    certificate,
                })
            })
            .collect()
    }

    /// Replaces `keyCredentials` with `entries`, keeping its position in the document.
    pub fn set_key_credentials(&mut self, entries: Vec<Value>) {
        self.root_mut()
            .insert("keyCredentials".to_owned(), Value::Array(entries));
    }
}

impl ExistingCredential {
    /// The existing credential for a certificate file (for `check` on certificates): its own dates.
    pub fn from_certificate(cert: CertificateInfo) -> ExistingCredential {
        ExistingCredential {
            index: 0,
            key_id: None,
            display_name: Some(cert.subject.clone()),
            thumbprint: Some(cert.thumbprints.sha1),
            start: cert.not_before,
            end: cert.not_after,
            kind: "AsymmetricX509Cert".to_owned(),
            certificate: Some(cert),
        }
    }
}
