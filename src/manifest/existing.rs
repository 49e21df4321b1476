//! The key credentials already in a manifest, read for checking and rotation.
//!
//! Graph returns `key: null` for existing credentials (the legacy manifest shows `value: null`), so the
//! certificate itself is often unknown: the thumbprint then comes from `customKeyIdentifier`, and the dates from
//! the manifest, which are what Entra enforces. When the certificate is present, its dates are compared with the
//! manifest's and a disagreement is reported.

use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Manifest, ManifestFormat};
use crate::credential::CertificateInfo;
use crate::error::Result;

/// Standard base64 that, like .NET's `Convert.FromBase64String`, accepts non-zero bits after the last byte:
/// manifests edited by hand or by other tools carry such values, and Entra reads them.
const STANDARD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

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
    /// `usage`: `Verify` for a client credential, `Sign` for a SAML or token signing key (empty when absent).
    pub usage: String,
    /// The certificate, when the manifest carries it (`key` / `value` not null).
    pub certificate: Option<CertificateInfo>,
}

impl ExistingCredential {
    /// Whether this is a signing key (`usage` `Sign`: SAML or token signing, an `X509CertAndPassword` or a
    /// symmetric key). It cannot authenticate the app, so it is no client credential: verdicts, due dates,
    /// subjects and "the credential the new one replaces" leave it out, and no rotation removes it.
    pub fn signs(&self) -> bool {
        self.usage.eq_ignore_ascii_case("Sign")
    }

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

    /// Reads every key credential, checking the fields keycred relies on against Graph's types (`keyId` a GUID
    /// string, dates RFC 3339 strings, `key`/`value` and `customKeyIdentifier` base64 strings or null); a wrong
    /// one is an error naming the credential and the field. Fields keycred does not own are not looked at.
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
                let object = entry.as_object().ok_or_else(|| {
                    self.document_error(format!(
                        "{label} is {}, not a credential object",
                        json_type(entry)
                    ))
                })?;
                // A string or null/absent; any other JSON type is refused with what Graph expects.
                let text = |key: &str, expected: &str| -> Result<Option<&str>> {
                    match object.get(key) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(text)) => Ok(Some(text)),
                        Some(other) => Err(self.document_error(format!(
                            "{label}: {key} is {}; Graph's type is {expected}",
                            json_type(other)
                        ))),
                    }
                };
                let date = |key: &str| -> Result<OffsetDateTime> {
                    let text = text(key, "an RFC 3339 date string")?.ok_or_else(|| {
                        self.document_error(format!(
                            "{label} has no {key}; every credential needs its dates"
                        ))
                    })?;
                    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
                        self.document_error(format!(
                            "{label}: {key} {text:?} is not an RFC 3339 date (2027-11-21T10:00:00Z)"
                        ))
                    })
                };
                let key_id = text("keyId", "a GUID string")?
                    .map(|id| {
                        Uuid::parse_str(id).map_err(|_| {
                            self.document_error(format!(
                                "{label}: keyId {id:?} is not a GUID (like 3f6e173a-320d-4b45-ad63-48352c6fbeba)"
                            ))
                        })
                    })
                    .transpose()?;
                let certificate = match text(cert_key, "a base64 string (the DER certificate) or null")? {
                    Some(b64) if !b64.is_empty() => {
                        let der = STANDARD.decode(b64).map_err(|_| {
                            self.document_error(format!(
                                "{label}: {cert_key} is not base64 (it should be the DER certificate, base64, \
                                 without PEM header or line breaks)"
                            ))
                        })?;
                        Some(CertificateInfo::from_der(&der).map_err(|reason| {
                            self.document_error(format!(
                                "{label}: {cert_key} is not a certificate: {reason}"
                            ))
                        })?)
                    }
                    _ => None,
                };
                let custom_key_identifier = text(
                    "customKeyIdentifier",
                    "a base64 string (the SHA-1 thumbprint's 20 bytes) or null",
                )?
                .filter(|b64| !b64.is_empty())
                .map(|b64| {
                    STANDARD.decode(b64).map_err(|_| {
                        self.document_error(format!(
                            "{label}: customKeyIdentifier {b64:?} is not base64"
                        ))
                    })
                })
                .transpose()?;
                let display_name = text("displayName", "a string or null")?.map(str::to_owned);
                let kind = text("type", "a string such as \"AsymmetricX509Cert\"")?
                    .unwrap_or_default()
                    .to_owned();
                let usage = text("usage", "a string such as \"Verify\"")?
                    .unwrap_or_default()
                    .to_owned();
                let thumbprint = certificate
                    .as_ref()
                    .map(|c| c.thumbprints.sha1)
                    .or_else(|| thumbprint_of(custom_key_identifier?));
                Ok(ExistingCredential {
                    index,
                    key_id,
                    display_name,
                    thumbprint,
                    start: date(start_key)?,
                    end: date(end_key)?,
                    kind,
                    usage,
                    certificate,
                })
            })
            .collect()
    }

    /// Gives the credential at `index` a new `keyId`, in place (the field keeps its position).
    pub fn set_key_id(&mut self, index: usize, key_id: Uuid) -> Result<()> {
        let entry = self
            .root_mut()
            .get_mut("keyCredentials")
            .and_then(Value::as_array_mut)
            .and_then(|entries| entries.get_mut(index))
            .and_then(Value::as_object_mut);
        match entry {
            Some(object) => {
                object.insert("keyId".to_owned(), Value::String(key_id.to_string()));
                Ok(())
            }
            None => Err(self.document_error(format!("keyCredentials[{index}] does not exist"))),
        }
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
            usage: "Verify".to_owned(),
            certificate: Some(cert),
        }
    }
}

/// The subject of the credential that ends last, when its `displayName` is a DN (`CN=…`, as Graph and keycred
/// write it): the default subject of the next certificate.
pub fn newest_subject(existing: &[ExistingCredential]) -> Option<String> {
    let newest = existing
        .iter()
        .filter(|c| !c.signs())
        .max_by_key(|c| c.end)?;
    newest
        .display_name
        .clone()
        .filter(|n| n.starts_with("CN="))
        // The legacy format has no displayName, but its entries often carry the certificate in `value`.
        .or_else(|| {
            newest
                .certificate
                .as_ref()
                .map(|cert| cert.subject.clone())
                .filter(|n| n.starts_with("CN="))
        })
}

/// The DNS names (subject alternative names) of the newest client certificate, when the manifest or Graph gives
/// its certificate: a CA rotation's request carries them.
pub fn newest_dns_names(existing: &[ExistingCredential]) -> Vec<String> {
    existing
        .iter()
        .filter(|c| !c.signs())
        .max_by_key(|c| c.end)
        .and_then(|c| c.certificate.as_ref())
        .map(|cert| cert.dns_names.clone())
        .unwrap_or_default()
}

/// The keyIds that more than one credential carries, each with the positions that carry it, in manifest order.
/// Entra rejects a keyCredentials collection with a repeated keyId.
pub fn duplicate_key_ids(existing: &[ExistingCredential]) -> Vec<(Uuid, Vec<usize>)> {
    let mut duplicates: Vec<(Uuid, Vec<usize>)> = Vec::new();
    for (i, credential) in existing.iter().enumerate() {
        let Some(id) = credential.key_id else {
            continue;
        };
        if duplicates.iter().any(|(seen, _)| *seen == id) {
            continue;
        }
        let positions: Vec<usize> = existing[i..]
            .iter()
            .filter(|c| c.key_id == Some(id))
            .map(|c| c.index)
            .collect();
        if positions.len() > 1 {
            duplicates.push((id, positions));
        }
    }
    duplicates
}

/// One sentence per repeated keyId, for reports and errors.
pub fn describe_duplicate_key_ids(duplicates: &[(Uuid, Vec<usize>)]) -> Vec<String> {
    duplicates
        .iter()
        .map(|(id, positions)| {
            let places: Vec<String> = positions
                .iter()
                .map(|i| format!("keyCredentials[{i}]"))
                .collect();
            format!(
                "keyId {id} is used {} times ({}); Entra rejects a keyCredentials collection with a repeated keyId",
                positions.len(),
                places.join(", ")
            )
        })
        .collect()
}

/// How a JSON value is named in messages: "a number (7)", "an array", ….
pub(crate) fn json_type(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// The certificate in the DER file `path` when it is valid at `now` and none of `existing` is it (by
/// thumbprint): a certificate made or imported for the app that has not reached it yet.
pub fn unheld_certificate(
    path: &std::path::Path,
    existing: &[ExistingCredential],
    now: OffsetDateTime,
) -> Result<Option<CertificateInfo>> {
    let cert = CertificateInfo::from_der(&crate::input::read_file(path)?).map_err(|reason| {
        crate::error::Error::NotACertificate {
            path: path.to_owned(),
            reason,
        }
    })?;
    let held = existing
        .iter()
        .any(|c| c.thumbprint == Some(cert.thumbprints.sha1));
    Ok((!held && cert.status(now) == crate::credential::Status::Valid).then_some(cert))
}

/// The SHA-1 thumbprint a `customKeyIdentifier` holds, in either form Graph stores: its 20 bytes, or the
/// thumbprint written as 40 hex characters (as some tools upload it).
pub fn thumbprint_of(identifier: Vec<u8>) -> Option<[u8; 20]> {
    if let Ok(bytes) = <[u8; 20]>::try_from(identifier.as_slice()) {
        return Some(bytes);
    }
    let text = std::str::from_utf8(&identifier).ok()?;
    if text.len() != 40 {
        return None;
    }
    let mut bytes = [0u8; 20];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(bytes)
}
