//! What follows an applied rotation: a token with the new certificate (`--verify`), the retirement of the
//! credential it replaces (`--retire-previous`), and errors that name the certificate that signed a proof.

use std::path::{Path, PathBuf};

use super::*;
use crate::workflow::rotation::graph_store;

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
    // Entra replicates a new credential in seconds to minutes: ask again every second for the first 10 s, then
    // every 5 s.
    let started = std::time::Instant::now();
    loop {
        let pause = std::time::Duration::from_secs(if started.elapsed().as_secs() < 10 {
            1
        } else {
            5
        });
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
                std::thread::sleep(pause.min(deadline - std::time::Instant::now()));
            }
            Err(Error::Entra {
                code: Some(700027), ..
            }) => return Ok(false),
            Err(other) => return Err(other),
        }
    }
}

/// What follows an applied rotation, for one app of a run: after every app's write, in the run's second pass.
pub(super) struct After<'a> {
    pub(super) client: &'a GraphClient,
    /// The app's object id.
    pub(super) object_id: Uuid,
    /// The folder of its new credential's files.
    pub(super) folder: PathBuf,
    pub(super) request: &'a GraphRotateRequest,
    pub(super) passwords: &'a PasswordSources,
    pub(super) now: OffsetDateTime,
}

impl After<'_> {
    /// With `--verify`, gets a token with the new certificate (and marks its record), then with
    /// `--retire-previous` removes the credential it replaced.
    pub(super) fn verify_and_retire(&self, rotation: &mut AppRotation) -> Result<()> {
        let Some(verify) = &self.request.verify else {
            return Ok(());
        };
        let source = match (&rotation.in_vault, &self.request.key_vault) {
            (Some(held), Some(access)) => access.source(held),
            _ => new_credential_source(&rotation.files)?,
        };
        let verified = verify_token(verify, &rotation.app_id, &source, self.passwords)?;
        rotation.verified = Some(verified);
        if !verified {
            return Err(Error::Refused(format!(
                "application {}: the new certificate got no token within {} s (--verify); the previous credential \
                 was kept",
                rotation.app_id,
                verify.timeout.as_secs()
            )));
        }
        if let Some((_, cer)) = rotation
            .files
            .iter()
            .find(|(role, _)| *role == FileRole::Cer)
        {
            crate::workflow::made::mark_verified(Path::new(cer), self.now)?;
        }
        if self.request.retire_previous {
            let previous = rotation.plan.as_ref().and_then(|plan| {
                plan.current
                    .filter(|i| plan.existing[*i] == crate::rotation::Disposition::Keep)
                    .and_then(|i| rotation.existing[i].key_id)
            });
            self.retire(rotation, &source, previous)?;
        }
        Ok(())
    }

    /// Removes the credential the new one replaced (the valid one that ended last before), once the new one got
    /// a token, through the one engine ([`graph_store::remove_keys`]): by removeKey proven with the new
    /// certificate in `--self`, by PATCH in admin mode.
    fn retire(
        &self,
        rotation: &mut AppRotation,
        source: &crate::workflow::prove::CredentialSource,
        previous: Option<Uuid>,
    ) -> Result<()> {
        let Some(previous) = previous else {
            return Ok(());
        };
        // The app itself proves the removal with its new certificate; an admin's run PATCHes.
        let new = match self.request.self_service {
            Some(_) => Some(crate::workflow::prove::load_credential(
                source,
                self.passwords,
            )?),
            None => None,
        };
        graph_store::remove_keys(
            self.client,
            self.object_id,
            &[previous],
            new.as_ref(),
            &graph_store::TenantPolicyCell::new(),
            self.now,
            self.passwords,
        )?;
        rotation.retired = Some(previous);
        Ok(())
    }

    /// Finishes what an earlier run left: the app's current credential is one keycred added (its record is in
    /// the app's folder) and never verified, because that run stopped after the add landed. With `--verify` it
    /// gets a token now, and with `--retire-previous` the credential it replaced (the valid one that ended last
    /// before it) goes, as the earlier run would have done. Nothing to finish leaves the app skipped.
    pub(super) fn finish(&self, rotation: &mut AppRotation) -> Result<()> {
        let now = self.now;
        let (Some(verify), Some((cer, index))) = (
            &self.request.verify,
            crate::workflow::made::unverified_current(&self.folder, &rotation.existing, now)?,
        ) else {
            return Ok(());
        };
        rotation.finishing = rotation.existing[index].key_id;
        if !self.request.apply {
            rotation.action = AppAction::Planned;
            return Ok(());
        }
        rotation.files = vec![(FileRole::Cer, cer.display().to_string())];
        let source = new_credential_source(&rotation.files)?;
        let verified = verify_token(verify, &rotation.app_id, &source, self.passwords)?;
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
        if self.request.retire_previous {
            let previous = crate::rotation::replaced(&rotation.existing, index, now)
                .and_then(|i| rotation.existing[i].key_id);
            self.retire(rotation, &source, previous)?;
        }
        Ok(())
    }
}
