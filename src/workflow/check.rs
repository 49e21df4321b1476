//! The check workflow (`keycred check`): each file read as what it is (an app manifest, or a certificate or PFX),
//! its credentials judged at `now`, and the exit code the verdicts give. A file that cannot be read is an error
//! of its own; the others are still checked.

use std::path::{Path, PathBuf};

use time::{Duration, OffsetDateTime};

use crate::error::{Error, Result};
use crate::input::{self, PasswordSources};
use crate::manifest::existing::{describe_duplicate_key_ids, duplicate_key_ids};
use crate::manifest::{ExistingCredential, Manifest, ManifestFormat};
use crate::rotation;

/// One input of `keycred check`, read and judged.
#[derive(Debug)]
pub struct CheckedFile {
    /// The file name as given.
    pub file: String,
    /// Its credentials (one, for a certificate file).
    pub credentials: Vec<crate::manifest::ExistingCredential>,
    /// Its verdict.
    pub verdict: crate::rotation::Verdict,
    /// What makes the file invalid as it is (e.g. a repeated keyId), which Entra would reject.
    pub problems: Vec<String>,
    /// A certificate file's: where its key is, when keycred knows it (a vault, a token, a key file beside it).
    pub key_held: Option<String>,
}

impl CheckedFile {
    /// The verdict word for JSON: `invalid` when the file has problems, else the expiry verdict.
    pub fn verdict_str(&self) -> &'static str {
        if self.problems.is_empty() {
            self.verdict.as_str()
        } else {
            "invalid"
        }
    }
}

/// One `check` run.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// Manifests and certificate files.
    pub files: Vec<PathBuf>,
    /// The manifests' format, when given (it must agree with what their fields say).
    pub format: Option<ManifestFormat>,
    /// The renewal window.
    pub warn: Duration,
}

/// What `check` found.
#[derive(Debug)]
pub struct CheckOutcome {
    /// Every file read, judged.
    pub files: Vec<CheckedFile>,
    /// Every file that could not be read: (file, error).
    pub errors: Vec<(String, String)>,
    /// The exit code: the worst verdict, or 1 for an error or an invalid manifest.
    pub exit_code: i32,
}

/// Checks every file.
pub fn check(
    request: &CheckRequest,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> CheckOutcome {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in &request.files {
        match read(path, request.format, passwords) {
            Ok((credentials, key_held)) => files.push(CheckedFile {
                key_held,
                ..judge(path, credentials, now, request.warn)
            }),
            Err(error) => errors.push((path.display().to_string(), error.to_string())),
        }
    }
    let exit_code = if errors.is_empty() && files.iter().all(|f| f.problems.is_empty()) {
        files
            .iter()
            .map(|f| f.verdict)
            .max()
            .map_or(crate::exit::SUCCESS, rotation::Verdict::exit_code)
    } else {
        crate::exit::FAILURE
    };
    CheckOutcome {
        files,
        errors,
        exit_code,
    }
}

/// One app manifest (never a certificate), read and judged: what the wizard shows before a rotation.
pub fn check_manifest(path: &Path, now: OffsetDateTime, warn: Duration) -> Result<CheckedFile> {
    let manifest = Manifest::read(
        path,
        input::read_file(path)?,
        crate::manifest::document::FormatChoice::Detect,
    )?;
    Ok(judge(path, manifest.key_credentials()?, now, warn))
}

/// A file's credentials judged at `now`: the verdict, and what makes the manifest invalid for Entra.
fn judge(
    path: &Path,
    credentials: Vec<ExistingCredential>,
    now: OffsetDateTime,
    warn: Duration,
) -> CheckedFile {
    let problems = describe_duplicate_key_ids(&duplicate_key_ids(&credentials))
        .into_iter()
        .map(|p| {
            format!(
                "{p}: fix the manifest, or let `keycred rotate --manifest {} --repair-key-ids` give the later ones \
                 new keyIds",
                path.display()
            )
        })
        .collect::<Vec<_>>();
    CheckedFile {
        file: path.display().to_string(),
        verdict: rotation::verdict(&credentials, now, warn),
        credentials,
        problems,
        key_held: None,
    }
}

/// What `check` reads, for messages about files that are neither.
const EXPECTED: &str =
    "check reads app manifests (a JSON object with keyCredentials) and certificates (DER, PEM or PFX)";

/// A manifest (a JSON object) gives its keyCredentials; a certificate file gives its certificate, and where its
/// key is when keycred knows it.
fn read(
    path: &Path,
    format: Option<ManifestFormat>,
    passwords: &PasswordSources,
) -> Result<(Vec<ExistingCredential>, Option<String>)> {
    let bytes = input::read_file(path)?;
    let first = input::strip_bom(&bytes)
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    let json_name = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let looks_json = match first {
        Some(b'{' | b'[' | b'"') => true,
        Some(b'-') | None => false,
        Some(_) => {
            json_name || std::str::from_utf8(&bytes).is_ok_and(|t| input::parse_json(t, "").is_ok())
        }
    };
    if looks_json {
        let text = input::text(path, bytes)?;
        let manifest = Manifest::parse(&text, &path.display().to_string(), format)?;
        return Ok((manifest.key_credentials()?, None));
    }
    let loaded =
        crate::credential::load(path, &bytes, || passwords.existing(path)).map_err(|error| {
            match error {
                Error::NotACertificate { path, reason } => Error::NotACertificate {
                    path,
                    reason: format!("{reason}; {EXPECTED}"),
                },
                other => other,
            }
        })?;
    let key_held = match (&loaded.key, loaded.certificates.first()) {
        (Some(_), _) => Some("in this file".to_owned()),
        (None, Some(cert)) => crate::workflow::made::key_place(path, cert),
        (None, None) => None,
    };
    let credentials = loaded
        .certificates
        .into_iter()
        .take(1)
        .map(ExistingCredential::from_certificate)
        .collect();
    Ok((credentials, key_held))
}
