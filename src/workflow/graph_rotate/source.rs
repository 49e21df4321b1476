//! Each app's new credential as a `graph rotate` run makes it: here (self-signed), from the organisation's CA, or
//! in Azure Key Vault.

use std::sync::Arc;

use super::GraphRotateRequest;
use crate::error::Result;
use crate::secret::Password;
use crate::vault::VaultClient;
use crate::workflow::provision::{self, CredentialSpec};
use crate::workflow::rotation::NewCredentialSource;

/// `--key-vault`: the vault, and the token for it.
#[derive(Debug, Clone)]
pub struct VaultAccess {
    /// The vault's URL.
    pub vault: String,
    /// The cloud it must be in.
    pub cloud: crate::graph::Cloud,
    /// A bearer token for the vault's resource.
    pub token: Arc<Password>,
    /// Time limit per call.
    pub timeout: std::time::Duration,
}

impl VaultAccess {
    /// A client for the vault (its URL checked against the cloud).
    pub fn client(&self) -> Result<Arc<VaultClient>> {
        Ok(Arc::new(VaultClient::new(
            &self.vault,
            self.cloud,
            Password::new(self.token.expose().to_owned()),
            self.timeout,
        )?))
    }

    /// The source a token client signs with: the version `held` names, in this vault.
    pub fn source(
        &self,
        held: &crate::workflow::rotation::in_vault::VaultHeld,
    ) -> crate::workflow::prove::CredentialSource {
        crate::workflow::prove::CredentialSource::KeyVault(Box::new(
            crate::workflow::prove::VaultSource {
                vault: held.vault.clone(),
                name: held.name.clone(),
                version: Some(held.version.clone()),
                cloud: self.cloud,
                token: self.token.clone(),
                timeout: self.timeout,
            },
        ))
    }
}

/// The source of one app's new credential.
pub(super) fn new_credential(
    request: &GraphRotateRequest,
    vault: Option<&Arc<VaultClient>>,
) -> NewCredentialSource {
    let spec = app_spec(&request.credential);
    match (&request.ca, vault) {
        (Some(chain), _) => NewCredentialSource::FromCa {
            spec,
            chain: chain.clone(),
            dns: None,
        },
        (None, Some(vault)) => NewCredentialSource::InVault {
            spec,
            vault: vault.clone(),
        },
        (None, None) => NewCredentialSource::Make(spec),
    }
}

/// Each app's credential as the request describes it, its subject and folder still to be decided per app.
fn app_spec(base: &CredentialSpec) -> CredentialSpec {
    CredentialSpec {
        subject: base.subject.clone(),
        key_size: base.key_size,
        hash: base.hash,
        days: base.days,
        not_after: base.not_after.clone(),
        pfx: base.pfx.as_ref().map(|p| provision::PfxSpec {
            profile: p.profile,
            password: match &p.password {
                provision::NewPassword::Generate => provision::NewPassword::Generate,
                _ => provision::NewPassword::FromSources,
            },
        }),
        out: base.out.clone(),
        name: base.name.clone(),
        force: false,
        key_file: base.key_file,
        pem_bundle: base.pem_bundle,
        max_lifetime: base.max_lifetime.clone(),
    }
}
