//! `keycred manifest key-credentials`: the keyCredentials fragment for certificates made anywhere.

use keycred::fsio;
use keycred::manifest::KeyCredentialsDocument;

use crate::cli::KeyCredentialsArgs;
use crate::terminal;

pub fn run(args: KeyCredentialsArgs) -> anyhow::Result<i32> {
    let files = super::load_all(&args.certs, &args.password)?;
    let now = time::OffsetDateTime::now_utc();
    let mut entries = Vec::new();
    for file in &files {
        for cert in &file.certificates {
            cert.require_entra_usable(&file.path)?;
            if cert.status(now) == keycred::credential::Status::Expired {
                if !args.allow_expired {
                    anyhow::bail!(
                        "{} ({}) expired on {}: Entra refuses to add an expired certificate credential. Make a new \
                         one with `keycred new`, or pass --allow-expired to emit the entry anyway (for records)",
                        file.path.display(),
                        cert.subject,
                        keycred::time_fmt::rfc3339_utc(cert.not_after)
                    );
                }
                terminal::warn(&format!(
                    "{} ({}) expired on {}; Entra will refuse this entry",
                    file.path.display(),
                    cert.subject,
                    keycred::time_fmt::rfc3339_utc(cert.not_after)
                ));
            }
            entries.push((cert, cert.key_id()));
        }
    }
    let text = KeyCredentialsDocument::new(&entries, args.format.into()).render(args.fragment);
    match &args.out {
        Some(path) => fsio::write_public_file(path, text, args.force)?,
        None => terminal::print(&text),
    }
    terminal::note(
        "add these entries beside the app's existing keyCredentials (replacing the array removes the certificates \
         it uses today); `keycred rotate --cert CERT --manifest app.json` adds them safely",
    );
    Ok(keycred::exit::SUCCESS)
}
