//! What follows an applied rotation: a token with the new certificate (`--verify`), the retirement of the
//! credential it replaces (`--retire-previous`), and errors that name the certificate that signed a proof.

use super::*;

/// The new credential's files as a token client reads them: the key file with the PEM certificate, or the PFX.
pub(super) fn new_credential_source(
    files: &[(FileRole, String)],
) -> Result<crate::workflow::prove::CredentialSource> {
    use crate::workflow::prove::CredentialSource;
    let path = |role: FileRole| {
        files
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, p)| PathBuf::from(p))
    };
    let cer = path(FileRole::Cer).ok_or_else(|| {
        Error::Refused("--verify: no certificate file of the new credential to sign in with".into())
    })?;
    let sibling = |ext: &str| {
        let candidate = cer.with_extension(ext);
        candidate.exists().then_some(candidate)
    };
    match (
        path(FileRole::Key).or_else(|| sibling("key")),
        path(FileRole::Pfx).or_else(|| sibling("pfx")),
    ) {
        (Some(key), _) => Ok(CredentialSource::KeyAndCert { key, cert: cer }),
        (None, Some(pfx)) => Ok(CredentialSource::Pfx(pfx)),
        (None, None) => Err(Error::Refused(format!(
            "--verify: {} has no private key beside it (NAME.key or NAME.pfx) to sign in with",
            cer.display()
        ))),
    }
}

/// Requests a token as the app with its new certificate, retrying while Entra has not replicated it yet
/// (AADSTS700027); `false` when the time is up.
pub(super) fn verify_token(
    verify: &Verify,
    app_id: &str,
    source: &crate::workflow::prove::CredentialSource,
    passwords: &PasswordSources,
) -> Result<bool> {
    let deadline = std::time::Instant::now() + verify.timeout;
    let request = crate::flow::token::TokenRequest {
        authority: verify.authority.clone(),
        tenant: verify.tenant.clone(),
        client_id: app_id.to_owned(),
        scope: verify.scope.clone(),
        timeout: std::time::Duration::from_secs(30),
        cache: None,
    };
    let credential = crate::workflow::prove::TokenCredential::Certificate(
        source.clone(),
        crate::flow::jwt::Algorithm::Ps256,
    );
    loop {
        match crate::workflow::prove::token(
            &request,
            &credential,
            passwords,
            OffsetDateTime::now_utc(),
        ) {
            Ok(_) => return Ok(true),
            Err(Error::Entra {
                code: Some(700027), ..
            }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(
                    std::time::Duration::from_secs(5).min(deadline - std::time::Instant::now()),
                );
            }
            Err(Error::Entra {
                code: Some(700027), ..
            }) => return Ok(false),
            Err(other) => return Err(other),
        }
    }
}

/// Removes the credential the new one replaced (the valid one that ended last before), once the new one got a
/// token: by PATCH in admin mode (the app re-read first), by removeKey proven with the new certificate in `--self`.
#[allow(clippy::too_many_arguments)]
pub(super) fn retire(
    client: &GraphClient,
    rotation: &mut AppRotation,
    object_id: Uuid,
    reference: AppRef,
    source: &crate::workflow::prove::CredentialSource,
    previous: Option<Uuid>,
    passwords: &PasswordSources,
    self_service: bool,
    now: OffsetDateTime,
) -> Result<()> {
    let Some(previous) = previous else {
        return Ok(());
    };
    if self_service {
        let new = crate::workflow::prove::load_credential(source, passwords)?;
        let signer = crate::flow::graph::Signer {
            certificate: &new.certificate,
            key: &new.key,
        };
        client.remove_key(
            object_id,
            &crate::flow::graph::remove_key_body(&signer, object_id, previous, now)?,
        )?;
    } else {
        let app = client.application(reference, Some(SELECT))?;
        let entries = key_credentials(&app);
        let kept: Vec<Value> = entries
            .into_iter()
            .filter(|k| {
                k.get("keyId").and_then(Value::as_str) != Some(previous.to_string().as_str())
            })
            .map(|mut k| {
                k["key"] = Value::Null;
                k
            })
            .collect();
        client.patch_key_credentials(object_id, &kept)?;
    }
    rotation.retired = Some(previous);
    Ok(())
}

/// Finishes what an earlier run left: the app's current credential is one keycred added (its record is in the
/// app's folder) and never verified, because that run stopped after the add landed. With `--verify` it gets a
/// token now, and with `--retire-previous` the credential it replaced (the valid one that ended last before it)
/// goes, as the earlier run would have done. Nothing to finish leaves the app skipped.
#[allow(clippy::too_many_arguments)]
pub(super) fn finish(
    client: &GraphClient,
    request: &GraphRotateRequest,
    object_id: Uuid,
    reference: AppRef,
    signer: Option<&crate::workflow::prove::LoadedCredential>,
    passwords: &PasswordSources,
    now: OffsetDateTime,
    folder: &Path,
    rotation: &mut AppRotation,
) -> Result<()> {
    let (Some(verify), Some((cer, index))) = (
        &request.verify,
        crate::workflow::made::unverified_current(folder, &rotation.existing, now)?,
    ) else {
        return Ok(());
    };
    rotation.finishing = rotation.existing[index].key_id;
    if !request.apply {
        rotation.action = AppAction::Planned;
        return Ok(());
    }
    rotation.files = vec![(FileRole::Cer, cer.display().to_string())];
    let source = new_credential_source(&rotation.files)?;
    let verified = verify_token(verify, &rotation.app_id, &source, passwords)?;
    rotation.verified = Some(verified);
    if !verified {
        return Err(Error::Refused(format!(
            "application {}: the credential an earlier run added ({}) got no token within {} s (--verify); the \
             previous credential was kept",
            rotation.app_id,
            cer.display(),
            verify.timeout.as_secs()
        )));
    }
    crate::workflow::made::mark_verified(&cer, now)?;
    rotation.action = AppAction::Finished;
    if request.retire_previous {
        let finished = &rotation.existing[index];
        let previous = rotation
            .existing
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                *i != index
                    && !c.signs()
                    && c.end < finished.end
                    && crate::rotation::standing(c.start, c.end, now)
                        == crate::rotation::Standing::Valid
            })
            .max_by_key(|(_, c)| c.end)
            .and_then(|(_, c)| c.key_id);
        retire(
            client,
            rotation,
            object_id,
            reference,
            &source,
            previous,
            passwords,
            signer.is_some(),
            now,
        )?;
    }
    Ok(())
}

/// A refused proof says which certificate signed it: the one to look for among the app's credentials.
pub(super) fn name_the_signer(error: Error, signer: &CertificateInfo) -> Error {
    match error {
        Error::Graph(mut failure) if failure.code == "Authentication_MissingOrMalformed" => {
            let signed = format!(
                "the proof was signed by {} (SHA-1 {}, valid until {}): that certificate must be one of the app's",
                signer.subject,
                signer.thumbprints.render(crate::credential::ThumbprintForm::Hex),
                crate::time_fmt::rfc3339_utc(signer.not_after)
            );
            failure.hint = Some(match failure.hint {
                Some(hint) => format!("{signed}; {hint}"),
                None => signed,
            });
            Error::Graph(failure)
        }
        other => other,
    }
}
