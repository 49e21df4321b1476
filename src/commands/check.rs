//! `keycred check`: expiry of the credentials in manifests and certificate files, as an exit code.

use keycred::manifest::existing::{describe_duplicate_key_ids, duplicate_key_ids};
use keycred::manifest::{ExistingCredential, Manifest};
use keycred::report::{self, CheckedFile};
use keycred::rotation;

use crate::cli::CheckArgs;
use crate::terminal;

pub fn run(args: CheckArgs) -> anyhow::Result<i32> {
    let now = time::OffsetDateTime::now_utc();
    let warn = time::Duration::days(i64::from(args.warn_days));
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in &args.files {
        match read(path, &args) {
            Ok(credentials) => {
                let problems = describe_duplicate_key_ids(&duplicate_key_ids(&credentials))
                    .into_iter()
                    .map(|p| {
                        format!(
                            "{p}: fix the manifest, or let `keycred rotate --manifest {} --repair-key-ids` give the later ones new keyIds",
                            path.display()
                        )
                    })
                    .collect::<Vec<_>>();
                for problem in &problems {
                    eprintln!("keycred: error: {}: {problem}", path.display());
                }
                files.push(CheckedFile {
                    file: path.display().to_string(),
                    verdict: rotation::verdict(&credentials, now, warn),
                    credentials,
                    problems,
                })
            }
            Err(error) => {
                eprintln!("keycred: error: {error:#}");
                errors.push((path.display().to_string(), format!("{error:#}")));
            }
        }
    }
    let code = if errors.is_empty() && files.iter().all(|f| f.problems.is_empty()) {
        files
            .iter()
            .map(|f| f.verdict)
            .max()
            .map_or(keycred::exit::SUCCESS, rotation::Verdict::exit_code)
    } else {
        keycred::exit::FAILURE
    };
    if args.json {
        terminal::print_json(&report::check_json(&files, &errors, now, warn, code));
    } else {
        terminal::print(&report::check_text(&files, now, warn));
    }
    Ok(code)
}

/// What `check` reads, for messages about files that are neither.
const EXPECTED: &str =
    "check reads app manifests (a JSON object with keyCredentials) and certificates (DER, PEM or PFX)";

/// A manifest (a JSON object) gives its keyCredentials; a certificate file gives each certificate.
fn read(path: &std::path::Path, args: &CheckArgs) -> anyhow::Result<Vec<ExistingCredential>> {
    let bytes = keycred::input::read_file(path)?;
    let first = keycred::input::strip_bom(&bytes)
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
            json_name
                || std::str::from_utf8(&bytes)
                    .is_ok_and(|t| keycred::input::parse_json(t, "").is_ok())
        }
    };
    if looks_json {
        let text = keycred::input::text(path, bytes)?;
        let manifest = Manifest::parse(
            &text,
            &path.display().to_string(),
            args.format.map(Into::into),
        )?;
        return Ok(manifest.key_credentials()?);
    }
    let loaded = keycred::credential::load(path, &bytes, || {
        super::password_sources(&args.password, None).existing(path)
    })
    .map_err(|error| match error {
        keycred::Error::NotACertificate { path, reason } => {
            anyhow::anyhow!("{}: {reason}; {EXPECTED}", path.display())
        }
        other => other.into(),
    })?;
    Ok(loaded
        .certificates
        .into_iter()
        .take(1)
        .map(ExistingCredential::from_certificate)
        .collect())
}
