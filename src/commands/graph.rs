//! `keycred graph add-key` / `remove-key`: Graph request bodies proven with the app's current key.

use keycred::credential::{self, Encoding, Status};
use keycred::flow::graph::{self, Signer};
use keycred::fsio::{self, Access, OutputFile};
use keycred::manifest::app_roles::parse_guid;

use crate::cli::{GraphCommand, ProofArgs};

pub fn run(command: GraphCommand) -> anyhow::Result<i32> {
    let now = time::OffsetDateTime::now_utc();
    let (proof_args, body) = match &command {
        GraphCommand::AddKey(args) => {
            let object_id = parse_guid(&args.proof.object_id, "--object-id")?;
            let other = format!("--cert {}", args.cert.display());
            let current = load_current(&args.proof, Some(&other))?;
            let bytes = super::read_input(&args.cert)?;
            let new = credential::load(&args.cert, &bytes, || {
                super::read_password(&args.proof.password, &args.cert)
            })?;
            let new_cert = &new.certificates[0];
            let problems = new_cert.entra_problems();
            if !problems.is_empty() {
                anyhow::bail!(
                    "{} cannot be an Entra ID credential: {}",
                    args.cert.display(),
                    problems.join("; ")
                );
            }
            if new_cert.thumbprints == current.certificates[0].thumbprints {
                anyhow::bail!("--cert is the current certificate itself; addKey needs the new one");
            }
            let signer = signer(&current)?;
            (
                &args.proof,
                graph::add_key_body(&signer, object_id, new_cert, now)?,
            )
        }
        GraphCommand::RemoveKey(args) => {
            let object_id = parse_guid(&args.proof.object_id, "--object-id")?;
            let key_id = parse_guid(&args.key_id, "--key-id")?;
            let current = load_current(&args.proof, None)?;
            let signer = signer(&current)?;
            (
                &args.proof,
                graph::remove_key_body(&signer, object_id, key_id, now)?,
            )
        }
    };
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&body).expect("JSON values serialize")
    );
    match &proof_args.out {
        Some(path) => fsio::write_all(
            &[OutputFile::new(path, text, Access::Public)],
            proof_args.force,
        )?,
        None => super::print(&text),
    }
    eprintln!("keycred: the proof is valid for 10 minutes; send the body before then");
    Ok(keycred::exit::SUCCESS)
}

fn load_current(args: &ProofArgs, other: Option<&str>) -> anyhow::Result<credential::Loaded> {
    load_current_pfx(
        &args.current_pfx,
        args.current_password_file.as_deref(),
        &args.password,
        other,
    )
}

/// Reads the current credential (certificate and private key) that signs a proof, with its own password source
/// (`other` names a second file the general password source also serves, for the note about sharing it), and
/// refuses one that is not valid now: Graph rejects a proof from an expired credential.
pub fn load_current_pfx(
    path: &std::path::Path,
    current_password_file: Option<&std::path::Path>,
    password: &crate::cli::PasswordArgs,
    other: Option<&str>,
) -> anyhow::Result<credential::Loaded> {
    let bytes = super::read_input(path)?;
    let loaded = credential::load(path, &bytes, || {
        super::read_current_password(current_password_file, password, path, other)
    })?;
    if loaded.encoding != Encoding::Pfx && loaded.key.is_none() {
        anyhow::bail!(
            "{}: --current-pfx needs the current private key too: give the PFX (or a PEM file with the certificate and its PRIVATE KEY)",
            path.display()
        );
    }
    if loaded.key.is_none() {
        anyhow::bail!("{}: the PFX holds no private key", path.display());
    }
    let cert = &loaded.certificates[0];
    let now = time::OffsetDateTime::now_utc();
    match cert.status(now) {
        Status::Valid => {}
        Status::Expired => anyhow::bail!(
            "{}: the current certificate ({}) expired on {}; Graph rejects a proof signed with an expired \
             credential. Sign with a credential that is still valid, or add the new certificate in the portal",
            path.display(),
            cert.subject,
            keycred::time_fmt::rfc3339_utc(cert.not_after)
        ),
        Status::NotYetValid => anyhow::bail!(
            "{}: the current certificate ({}) is not valid until {}; Graph rejects a proof signed with it before then",
            path.display(),
            cert.subject,
            keycred::time_fmt::rfc3339_utc(cert.not_before)
        ),
    }
    Ok(loaded)
}

pub fn signer(current: &credential::Loaded) -> anyhow::Result<Signer<'_>> {
    let key = current.key.as_ref().expect("checked by load_current");
    key.require_rsa(&current.path.display().to_string())?;
    Ok(Signer {
        certificate: &current.certificates[0],
        key,
    })
}
