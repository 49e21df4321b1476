//! `keycred check`: expiry of the credentials in manifests and certificate files, as an exit code.

use keycred::manifest::{ExistingCredential, Manifest};
use keycred::report::{self, CheckedFile};
use keycred::rotation;

use crate::cli::CheckArgs;

pub fn run(args: CheckArgs) -> anyhow::Result<i32> {
    let now = time::OffsetDateTime::now_utc();
    let warn = time::Duration::days(i64::from(args.warn_days));
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in &args.files {
        match read(path, &args) {
            Ok(credentials) => files.push(CheckedFile {
                file: path.display().to_string(),
                verdict: rotation::verdict(&credentials, now, warn),
                credentials,
            }),
            Err(error) => {
                eprintln!("keycred: error: {error:#}");
                errors.push((path.display().to_string(), format!("{error:#}")));
            }
        }
    }
    let code = if errors.is_empty() {
        files
            .iter()
            .map(|f| f.verdict)
            .max()
            .map_or(keycred::exit::SUCCESS, rotation::Verdict::exit_code)
    } else {
        keycred::exit::FAILURE
    };
    if args.json {
        super::print_json(&report::check_json(&files, &errors, now, warn, code));
    } else {
        super::print(&report::check_text(&files, now, warn));
    }
    Ok(code)
}

/// A manifest (a JSON object) gives its keyCredentials; a certificate file gives each certificate.
fn read(path: &std::path::Path, args: &CheckArgs) -> anyhow::Result<Vec<ExistingCredential>> {
    let bytes = super::read_input(path)?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let text = super::utf8(path, bytes)?;
        let manifest = Manifest::parse(
            &text,
            &path.display().to_string(),
            args.format.map(Into::into),
        )?;
        return Ok(manifest.key_credentials()?);
    }
    let loaded =
        keycred::credential::load(path, &bytes, || super::read_password(&args.password, path))?;
    Ok(loaded
        .certificates
        .into_iter()
        .take(1)
        .map(ExistingCredential::from_certificate)
        .collect())
}
