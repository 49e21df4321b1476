//! keycred's own record of the keys it made for a rotation, and the check that a certificate found in a folder is
//! one of them.
//!
//! A rotation that stopped after writing its files finishes on the next run by sending the certificate it made
//! (or the CA's answer to the request it made) instead of making another. That certificate is found in the app's
//! folder, and whoever can write there could plant one of their own: its key would then be trusted by the app.
//! So when keycred makes a key for a rotation (a new credential, or a CA request) it writes `STEM.keycred-state.json`
//! beside it, owner-only, naming the key by the SHA-256 of its public half (and, when the certificate exists, its
//! SHA-1 thumbprint). A certificate found later is reused only when that record names its key, the private key
//! beside it is that key, and the folder, the record and the certificate are the user's own and writable by no
//! other user. All of it is checked before anything is sent.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::credential::thumbprint::upper_hex;
use crate::credential::{CertificateInfo, PrivateKey};
use crate::error::{Error, Result};
use crate::fsio::{self, Access, OutputFile};

/// The record's file name after the credential's base name.
pub const SUFFIX: &str = ".keycred-state.json";

/// The record of the key made for the files named `stem` in `dir`.
pub fn record_path(dir: &Path, stem: &str) -> PathBuf {
    dir.join(format!("{stem}{SUFFIX}"))
}

/// The record for a key whose public half is `public_key` (and, when the certificate exists, its thumbprint), as
/// a file to write with the key's own files. `made_for` names the manifest a `rotate` made it for: only a later
/// rotation of that manifest reuses it.
pub fn record(
    dir: &Path,
    stem: &str,
    public_key: &[u8],
    cert: Option<&CertificateInfo>,
    made_for: Option<&Path>,
) -> OutputFile {
    let mut body = record_body(public_key, cert);
    if let Some(manifest) = made_for {
        body["manifest"] = Value::String(manifest_name(manifest));
    }
    record_file(dir, stem, &body)
}

/// A record's body: the key's public half and, when it exists, the certificate.
fn record_body(public_key: &[u8], cert: Option<&CertificateInfo>) -> Value {
    json!({
        "keycred": "the key of these files was made by keycred; a rotation reuses a certificate only for it",
        "keySha256": upper_hex(&Sha256::digest(public_key)),
        "thumbprint": cert.map(|c| upper_hex(&c.thumbprints.sha1)),
    })
}

/// The record of `STEM` in `dir` as a file to write (owner-only).
fn record_file(dir: &Path, stem: &str, body: &Value) -> OutputFile {
    OutputFile::new(
        record_path(dir, stem),
        format!("{body:#}\n").into_bytes(),
        Access::Secret,
    )
}

/// Whether the certificate `cert`, read from `found` in `dir` (`STEM.cer`, or the CA's answer to `STEM.csr`), is
/// one keycred made (or had issued) for a key it made for the files named `stem`: `Ok(None)` when it is,
/// `Ok(Some(why not))` when it is not ours to send. A folder that is not the user's own, or that other users may
/// write to, is an error: nothing found there can be trusted.
pub fn not_made_here(
    dir: &Path,
    stem: &str,
    found: &Path,
    cert: &CertificateInfo,
) -> Result<Option<String>> {
    if let Some(reason) = fsio::not_private(dir) {
        return Err(Error::Unusable(crate::words::said!(
            format!(
                "{}: {reason}; keycred trusts no certificate found in a folder another user can change, and sent \
                 nothing for this app. Make the folder yours alone (chown, chmod go-w) or give another ",
                dir.display()
            ),
            crate::words::Input::Out
        )));
    }
    if let Some(reason) = fsio::not_private(found) {
        return Ok(Some(format!("{}: {reason}", found.display())));
    }
    let path = record_path(dir, stem);
    if let Some(reason) = fsio::not_private(&path) {
        return Ok(Some(format!(
            "no record of keycred's that it made its key ({}: {reason})",
            path.display()
        )));
    }
    let record = match read_record(dir, stem) {
        Some(record) => record,
        None => return Ok(Some(format!("{} is not keycred's record", path.display()))),
    };
    let key_sha256 = upper_hex(&Sha256::digest(cert.subject_public_key()));
    if record.get("keySha256").and_then(Value::as_str) != Some(key_sha256.as_str()) {
        return Ok(Some(format!(
            "its key is not the one {} names",
            path.display()
        )));
    }
    if let Some(thumbprint) = record.get("thumbprint").and_then(Value::as_str) {
        if thumbprint != upper_hex(&cert.thumbprints.sha1) {
            return Ok(Some(format!(
                "it is not the certificate {} names",
                path.display()
            )));
        }
    }
    let key_path = dir.join(format!("{stem}.key"));
    if key_path.exists() {
        if let Some(reason) = fsio::not_private(&key_path) {
            return Ok(Some(format!("{}: {reason}", key_path.display())));
        }
        let key = crate::workflow::prove::read_key(&key_path)?;
        if key.matches(cert) != Some(true) {
            return Ok(Some(format!(
                "{} is not its private key",
                key_path.display()
            )));
        }
    } else if !dir.join(format!("{stem}.pfx")).exists() {
        return Ok(Some("its private key is not beside it".into()));
    }
    Ok(None)
}

/// A manifest as a record names it: its full path, links resolved, so that `./app.json` and `/x/app.json` agree.
pub fn manifest_name(manifest: &Path) -> String {
    std::fs::canonicalize(manifest)
        .unwrap_or_else(|_| manifest.to_path_buf())
        .display()
        .to_string()
}

/// The record of `STEM` in `dir`, when there is one that parses (whose it is, is [`not_made_here`]'s to check).
fn read_record(dir: &Path, stem: &str) -> Option<Value> {
    serde_json::from_slice(&crate::input::read_file(&record_path(dir, stem)).ok()?).ok()
}

/// The manifest the record of `STEM` in `dir` was made for, if it names one.
fn made_for(dir: &Path, stem: &str) -> Option<String> {
    read_record(dir, stem)?
        .get("manifest")?
        .as_str()
        .map(str::to_owned)
}

/// A certificate an earlier run made in `folder` (for the manifest `made_for`, or for no manifest: a tenant
/// rotation) that the app does not hold yet and that is valid now: a run that stopped after writing the files and
/// before the change was saved or sent uses it instead of making another. Only a certificate keycred made there
/// for a key it made counts, never one planted beside them; the newest ending wins.
pub fn earlier_certificate(
    folder: &Path,
    existing: &[crate::manifest::ExistingCredential],
    now: time::OffsetDateTime,
    made_for_manifest: Option<&Path>,
) -> Result<Option<(PathBuf, CertificateInfo)>> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(None);
    };
    let wanted = made_for_manifest.map(manifest_name);
    let mut found: Vec<(PathBuf, CertificateInfo)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        // A CA's answer (`STEM.issued.cer`) is not one: it is imported first, with its checks and its files.
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !name.ends_with(".cer") || name.ends_with(".issued.cer") {
            continue;
        }
        let Some((dir, stem)) = dir_and_stem(&path) else {
            continue;
        };
        if made_for(dir, stem) != wanted {
            continue;
        }
        if let Some(cert) = crate::manifest::existing::unheld_certificate(&path, existing, now)? {
            if not_made_here(dir, stem, &path, &cert)?.is_none() {
                found.push((path, cert));
            }
        }
    }
    found.sort_by_key(|(_, cert)| cert.not_after);
    Ok(found.pop())
}

/// Notes in the record of the certificate `cer` that a token was got with it at `now`: a later run does not
/// verify it again.
pub fn mark_verified(cer: &Path, now: time::OffsetDateTime) -> Result<()> {
    let (dir, stem) = dir_and_stem(cer)
        .ok_or_else(|| Error::Invalid(format!("{}: not a .cer file", cer.display())))?;
    let path = record_path(dir, stem);
    let mut record: Value = serde_json::from_slice(&crate::input::read_file(&path)?)
        .map_err(|e| Error::Invalid(format!("{}: not keycred's record ({e})", path.display())))?;
    record["verified"] = Value::String(crate::time_fmt::rfc3339_utc(now));
    fsio::replace_own(&[OutputFile::new(
        path,
        format!("{record:#}\n").into_bytes(),
        Access::Secret,
    )])
}

/// The credential an earlier run of a tenant rotation added and never verified (it stopped after the add
/// landed, or was run without `--verify`): a certificate keycred made in `folder` for a key it made, that the
/// app holds as its current client credential (or as one ending in the same second), and whose record notes no
/// token got with it. Its `.cer` and its index among `existing`.
pub fn unverified_current(
    folder: &Path,
    existing: &[crate::manifest::ExistingCredential],
    now: time::OffsetDateTime,
) -> Result<Option<(PathBuf, usize)>> {
    // Certificates made within a second of each other end together: any of those may be the one added.
    let candidates: Vec<(usize, [u8; 20])> = crate::rotation::ending_last(existing, now)
        .filter_map(|i| existing[i].thumbprint.map(|t| (i, t)))
        .collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(None);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some((dir, stem)) = dir_and_stem(&path) else {
            continue;
        };
        let Some(record) = read_record(dir, stem) else {
            continue;
        };
        if record.get("manifest").is_some() || record.get("verified").is_some() {
            continue;
        }
        let recorded = record.get("thumbprint").and_then(Value::as_str);
        let Some(&(current, thumbprint)) = candidates
            .iter()
            .find(|(_, t)| recorded == Some(upper_hex(t).as_str()))
        else {
            continue;
        };
        let Ok(der) = crate::input::read_file(&path) else {
            continue;
        };
        let Ok(cert) = CertificateInfo::from_der(&der) else {
            continue;
        };
        if cert.thumbprints.sha1 == thumbprint && not_made_here(dir, stem, &path, &cert)?.is_none()
        {
            return Ok(Some((path, current)));
        }
    }
    Ok(None)
}

/// A key's public half, as [`record`] takes it, for a key that has no certificate yet.
pub fn public_key_of(key: &PrivateKey) -> Result<Vec<u8>> {
    key.public_key().ok_or_else(|| {
        Error::Invalid("the key's public half cannot be computed for its record".into())
    })
}

/// The folder and base name of `DIR/STEM.cer`.
pub fn dir_and_stem(cer: &Path) -> Option<(&Path, &str)> {
    split_stem(cer, &[".cer"])
}

/// The folder and base name of `DIR/STEM{suffix}`, for the first of `suffixes` the name ends with.
fn split_stem<'a>(path: &'a Path, suffixes: &[&str]) -> Option<(&'a Path, &'a str)> {
    let name = path.file_name()?.to_str()?;
    let stem = suffixes.iter().find_map(|s| name.strip_suffix(s))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some((dir, stem))
}

/// keycred's record for a certificate whose key is held elsewhere (a vault, a token): the key's public half and
/// the certificate, as for a key made here, and `(field, where)`, where the key is.
pub fn held_record(
    dir: &Path,
    stem: &str,
    cert: &CertificateInfo,
    (field, at): (&str, Value),
) -> OutputFile {
    let mut body = record_body(cert.subject_public_key(), Some(cert));
    body[field] = at;
    record_file(dir, stem, &body)
}

/// Where the key of the certificate `cert`, read from `path`, is, when keycred knows it: the vault or token
/// keycred's record beside it names (a record only in a folder no other user can change, and only for this
/// certificate's key), else the key file or PFX keycred writes beside a certificate.
pub fn key_place(path: &Path, cert: &CertificateInfo) -> Option<String> {
    let (dir, stem) = split_stem(path, &[".cer", ".pem", ".crt"])?;
    let key_sha256 = upper_hex(&Sha256::digest(cert.subject_public_key()));
    let record = read_record(dir, stem).filter(|record| {
        fsio::not_private(dir).is_none()
            && fsio::not_private(&record_path(dir, stem)).is_none()
            && record.get("keySha256").and_then(Value::as_str) == Some(key_sha256.as_str())
    });
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    if let Some(vault) = record.as_ref().and_then(|r| r.get("keyVault")) {
        return Some(format!(
            "in Azure Key Vault, not exportable: {}",
            text(vault, "kid")?
        ));
    }
    if let Some(token) = record.as_ref().and_then(|r| r.get("pkcs11")) {
        return Some(format!(
            "in PKCS#11 token {:?}, key {:?}, not extractable",
            text(token, "token")?,
            text(token, "key")?
        ));
    }
    ["key", "pfx"]
        .iter()
        .map(|ext| dir.join(format!("{stem}.{ext}")))
        .find(|p| p.is_file())
        .map(|p| format!("in {}", p.display()))
}
