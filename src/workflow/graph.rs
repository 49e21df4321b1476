//! The `graph add-key` / `remove-key` workflow, and the current credential that signs their proofs (which
//! `rotate --add-key-proof` uses too).

use std::path::{Path, PathBuf};

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::credential::{self, Encoding, Loaded, Status};
use crate::error::{Error, Result};
use crate::flow::graph::{self, Signer};
use crate::fsio::{self, Access, OutputFile};
use crate::input::{self, PasswordSources};

/// Reads the current credential (certificate and private key) that signs a proof, with its own password source
/// (`other` names a second file the general source also serves, for the note returned beside it), and refuses
/// one that is not valid now: Graph rejects a proof from an expired credential.
pub fn load_current(
    path: &Path,
    passwords: &PasswordSources,
    other: Option<&str>,
    now: OffsetDateTime,
) -> Result<(Loaded, Option<String>)> {
    let bytes = input::read_file(path)?;
    let mut note = None;
    let loaded = credential::load(path, &bytes, || {
        let (password, said) = passwords.current(path, other)?;
        note = said;
        Ok(password)
    })
    .map_err(|error| match (&error, &note) {
        // The shared source is the likely cause: say so with the error.
        (Error::PfxPassword { .. }, Some(note)) => Error::Refused(format!("{error}. Note: {note}")),
        _ => error,
    })?;
    if loaded.key.is_none() {
        return Err(Error::Refused(if loaded.encoding == Encoding::Pfx {
            format!("{}: the PFX holds no private key", path.display())
        } else {
            format!(
                "{}: --current-pfx needs the current private key too: give the PFX (or a PEM file with the certificate and its PRIVATE KEY)",
                path.display()
            )
        }));
    }
    refuse_not_valid(&loaded.certificates[0], &path.display().to_string(), now)?;
    Ok((loaded, note))
}

/// Refuses a current certificate Graph would reject a proof of: expired, or not valid yet. `at` says where it is.
fn refuse_not_valid(
    cert: &credential::CertificateInfo,
    at: &str,
    now: OffsetDateTime,
) -> Result<()> {
    match cert.status(now) {
        Status::Valid => Ok(()),
        Status::Expired => Err(Error::Refused(format!(
            "{at}: the current certificate ({}) expired on {}; Graph rejects a proof signed with an expired \
             credential. Sign with a credential that is still valid, or add the new certificate in the portal",
            cert.subject,
            crate::time_fmt::rfc3339_utc(cert.not_after)
        ))),
        Status::NotYetValid => Err(Error::Refused(format!(
            "{at}: the current certificate ({}) is not valid until {}; Graph rejects a proof signed with it before \
             then",
            cert.subject,
            crate::time_fmt::rfc3339_utc(cert.not_before)
        ))),
    }
}

/// The signer of a loaded current credential.
pub fn signer(current: &Loaded) -> Result<Signer<'_>> {
    let key = current.key.as_ref().ok_or_else(|| {
        Error::Refused(format!("{}: holds no private key", current.path.display()))
    })?;
    key.require_rsa(&current.path.display().to_string())?;
    Ok(Signer {
        certificate: &current.certificates[0],
        key: crate::flow::jwt::SigningKey::Local(key),
    })
}

/// What a proof body does.
#[derive(Debug, Clone)]
pub enum ProofAction {
    /// `addKey` for this certificate (DER, PEM or PFX).
    AddKey(PathBuf),
    /// `removeKey` of this keyId.
    RemoveKey(Uuid),
}

/// A Graph request body proven with the app's current credential.
#[derive(Debug, Clone)]
pub struct ProofRequest {
    /// The application's object id (not its appId).
    pub object_id: Uuid,
    /// The current credential's PFX (or PEM with its key).
    pub current_pfx: Option<PathBuf>,
    /// Or the current credential where its key is held (Azure Key Vault, a PKCS#11 token), which signs there.
    pub held: Option<crate::workflow::prove::CredentialSource>,
    /// What to do.
    pub action: ProofAction,
    /// Write the body here instead of returning it for standard output.
    pub out: Option<PathBuf>,
    /// Replace `out`.
    pub force: bool,
}

/// The body, and what the front end should say.
#[derive(Debug)]
pub struct ProofOutcome {
    /// The body as pretty JSON with a trailing newline.
    pub text: String,
    /// The body.
    pub body: Value,
    /// Notes (a password source serving two files).
    pub notes: Vec<String>,
}

/// `graph add-key --send`: sends the proven body as the app itself; returns the keyCredential Graph added.
/// Adding never locks the app out, and Graph itself enforces the tenant's rules on it: the app is not read first,
/// so that an app with no permission to read its own registration can still add its next key.
pub fn add_key_sent(
    client: &crate::graph::GraphClient,
    object_id: Uuid,
    body: &Value,
) -> Result<Value> {
    client.add_key(object_id, body)
}

/// `graph remove-key --send`: a rotation that only removes, run by the one engine on the app's Graph store as the
/// app itself. The app is read first; the planner refuses a keyId it lacks, a signing key, and the app's last
/// valid certificate credential; the app is read again right before the removeKey (proven by `current`) is sent,
/// and once more after it, to confirm. An app that may not read its own registration is refused: without its
/// credentials no one can tell its last valid one. Returns the plan's warnings (a credential still valid).
pub fn remove_key_sent(
    client: &crate::graph::GraphClient,
    object_id: Uuid,
    key_id: Uuid,
    current: &crate::workflow::prove::LoadedCredential,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<Vec<String>> {
    use crate::workflow::rotation::graph_store;
    refuse_not_valid(&current.certificate, &current.key.place(), now)?;
    let tenant = graph_store::TenantPolicyCell::new();
    let done = graph_store::remove_keys(
        client,
        object_id,
        &[key_id],
        Some(current),
        &tenant,
        now,
        passwords,
    )?;
    Ok(done.warnings)
}

/// Builds (and with `out`, writes) an addKey or removeKey body.
pub fn proof_body(
    request: &ProofRequest,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<ProofOutcome> {
    let other = match &request.action {
        ProofAction::AddKey(cert) => Some(format!("--cert {}", cert.display())),
        ProofAction::RemoveKey(_) => None,
    };
    let (file, held, note) = match (&request.held, &request.current_pfx) {
        (Some(source), _) => {
            let held = crate::workflow::prove::load_credential(source, passwords)?;
            refuse_not_valid(&held.certificate, &held.key.place(), now)?;
            (None, Some(held), None)
        }
        (None, Some(path)) => {
            let (loaded, note) = load_current(path, passwords, other.as_deref(), now)?;
            (Some(loaded), None, note)
        }
        (None, None) => {
            return Err(Error::Invalid(
                "give the current credential that signs the proof: --current-pfx FILE, --key-vault URL \
                 --vault-cert NAME, or --pkcs11-module FILE --pkcs11-token LABEL --pkcs11-key LABEL"
                    .into(),
            ))
        }
    };
    let signer = match (&file, &held) {
        (Some(current), _) => signer(current)?,
        (None, Some(held)) => Signer {
            certificate: &held.certificate,
            key: held.as_credential().key,
        },
        (None, None) => unreachable!("one of them was loaded above"),
    };
    let body = match &request.action {
        ProofAction::AddKey(cert_path) => {
            let new = credential::load_file(cert_path, passwords)?;
            let new_cert = &new.certificates[0];
            new_cert.require_entra_usable(cert_path)?;
            if new_cert.thumbprints == signer.certificate.thumbprints {
                return Err(Error::Refused(
                    "--cert is the current certificate itself; addKey needs the new one".into(),
                ));
            }
            graph::add_key_body(&signer, request.object_id, new_cert, now)?
        }
        ProofAction::RemoveKey(key_id) => {
            graph::remove_key_body(&signer, request.object_id, *key_id, now)?
        }
    };
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&body).expect("JSON values serialize")
    );
    if let Some(path) = &request.out {
        fsio::write_all(
            &[OutputFile::new(path, text.clone(), Access::Public)],
            request.force,
        )?;
    }
    Ok(ProofOutcome {
        text,
        body,
        notes: note.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn sources() -> PasswordSources {
        PasswordSources {
            current_file: Some(fixture("fixture.password")),
            ..PasswordSources::default()
        }
    }

    #[test]
    fn remove_key_body_is_signed_by_the_current_credential() {
        let request = ProofRequest {
            object_id: Uuid::nil(),
            current_pfx: Some(fixture("openssl-rsa.pfx")),
            held: None,
            action: ProofAction::RemoveKey(Uuid::from_u128(7)),
            out: None,
            force: false,
        };
        let outcome = proof_body(&request, &sources(), OffsetDateTime::now_utc()).unwrap();
        assert_eq!(
            outcome.body["keyId"],
            "00000000-0000-0000-0000-000000000007"
        );
        assert_eq!(
            outcome.body["proof"].as_str().unwrap().split('.').count(),
            3
        );
        assert!(outcome.notes.is_empty());
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let add_itself = ProofRequest {
            object_id: Uuid::nil(),
            current_pfx: Some(fixture("openssl-rsa.pfx")),
            held: None,
            action: ProofAction::AddKey(fixture("openssl-rsa.cer")),
            out: None,
            force: false,
        };
        let now = OffsetDateTime::now_utc();
        let err = proof_body(&add_itself, &sources(), now)
            .unwrap_err()
            .to_string();
        assert!(err.contains("the current certificate itself"), "{err}");

        // The fixture is valid until 2036: in 2040 it has expired, and Graph would refuse the proof.
        let later = time::macros::datetime!(2040-01-01 00:00 UTC);
        let err = proof_body(&add_itself, &sources(), later)
            .unwrap_err()
            .to_string();
        assert!(err.contains("expired on 2036-11-18"), "{err}");

        let no_key = ProofRequest {
            current_pfx: Some(fixture("openssl-rsa.pem")),
            held: None,
            ..add_itself.clone()
        };
        let err = proof_body(&no_key, &sources(), now)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs the current private key too"), "{err}");

        let err = proof_body(&add_itself, &PasswordSources::default(), now)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--current-password-file"), "{err}");
    }
}
