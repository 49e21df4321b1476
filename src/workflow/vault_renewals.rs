//! Key Vault renewals reach the app (`graph rotate --self --from-vault`): the versions of a vault certificate
//! that the app does not hold yet, made by the vault's own AutoRenew or by anyone, are added to the app with
//! `addKey`, each proven by the version the app holds now, whose key signs in the vault. Run daily by the daemon
//! or a scheduler, so that a renewal in the vault never leaves the app with only an expired certificate. Nothing
//! is written on this machine.
//!
//! The app signs in as itself with the newest enabled version; if Entra does not know that one yet (a renewal
//! not registered), with the next older one, and so on: a day with nothing new costs one token request.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::prove::{CredentialSource, TokenCredential, VaultSource};
use super::tenant::{GraphAuth, GraphConnection};
use crate::error::{Error, Result};
use crate::flow::authority::Authority;
use crate::flow::jwt::{Algorithm, SigningKey};
use crate::flow::token::TokenRequest;
use crate::graph::Cloud;
use crate::input::PasswordSources;
use crate::secret::Password;
use crate::vault::{VaultClient, VaultKey, VaultVersion};

/// One run.
#[derive(Debug)]
pub struct VaultRenewalsRequest {
    /// The vault's URL.
    pub vault: String,
    /// The vault certificate's name.
    pub name: String,
    /// The vault's token.
    pub vault_token: Arc<Password>,
    /// The app (its appId: it signs in as itself).
    pub app_id: Uuid,
    /// The tenant.
    pub tenant: String,
    /// Where the app gets its token.
    pub authority: Authority,
    /// The Graph URL.
    pub graph_url: String,
    /// The cloud (the vault must be one of its).
    pub cloud: Cloud,
    /// Time limit per request.
    pub timeout: Duration,
    /// Graph's budget share (`--budget`).
    pub budget: u8,
    /// Where keycred keeps what its runs spent of the tenant's budget.
    pub budget_record: Option<std::path::PathBuf>,
    /// Send the additions; else the plan.
    pub apply: bool,
}

/// What happened to one vault version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionFate {
    /// The app holds it already.
    Held,
    /// The app signed in with it, and it proved the additions.
    SignedIn,
    /// Newer than what the app holds: to add (a plan), or added, with the keyId Graph gave.
    Added(Option<Uuid>),
    /// Disabled in the vault: left alone.
    Disabled,
    /// Older than the version the app signs in with and not on the app: left alone.
    Older,
}

/// One version and its fate.
#[derive(Debug, Clone)]
pub struct VersionOutcome {
    /// The vault version.
    pub version: VaultVersion,
    /// What became of it.
    pub fate: VersionFate,
}

/// The run's outcome.
#[derive(Debug)]
pub struct VaultRenewalsOutcome {
    /// Every version, oldest first.
    pub versions: Vec<VersionOutcome>,
    /// The app's object id.
    pub object_id: Uuid,
    /// Whether the additions were sent.
    pub applied: bool,
}

/// Registers the vault's newer versions of the certificate on the app (see the module's notes).
pub fn vault_renewals(
    request: &VaultRenewalsRequest,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<VaultRenewalsOutcome> {
    let vault = Arc::new(VaultClient::new(
        &request.vault,
        request.cloud,
        Password::new(request.vault_token.expose().to_owned()),
        request.timeout,
    )?);
    let versions = vault.versions(&request.name)?;
    let (signer_version, token) = sign_in(request, &versions, passwords, now)?;
    let client = super::tenant::connect(
        GraphConnection {
            graph_url: request.graph_url.clone(),
            auth: GraphAuth::Bearer(Password::new(token)),
            timeout: request.timeout,
            max_retries: 5,
            budget: request.budget,
            budget_record: request.budget_record.clone(),
        },
        passwords,
        now,
    )?;
    let (app, _) = super::tenant::find(&client, request.app_id, None)?;
    let object_id: Uuid = app
        .get("id")
        .and_then(serde_json::Value::as_str)
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| {
            Error::Network(format!(
                "application {}: Graph gave no object id",
                request.app_id
            ))
        })?;
    let held: Vec<[u8; 20]> =
        super::tenant::as_manifest(app, &format!("application {}", request.app_id))?
            .key_credentials()?
            .iter()
            .filter_map(|c| c.thumbprint)
            .collect();
    let signer_at = versions
        .iter()
        .position(|v| v.version == signer_version.version);
    let signer_certificate = vault.certificate(&request.name, Some(&signer_version.version))?;
    let signer_info = signer_certificate.info()?;
    let key = VaultKey::new(Arc::clone(&vault), &signer_certificate);
    let signer = crate::flow::graph::Signer {
        certificate: &signer_info,
        key: SigningKey::Remote(&key),
    };
    let mut outcomes = Vec::new();
    for (index, version) in versions.into_iter().enumerate() {
        let fate = if held.iter().any(|t| t.as_slice() == version.sha1) {
            if Some(index) == signer_at {
                VersionFate::SignedIn
            } else {
                VersionFate::Held
            }
        } else if !version.enabled {
            VersionFate::Disabled
        } else if signer_at.is_some_and(|at| index < at) {
            VersionFate::Older
        } else if request.apply {
            let new = vault
                .certificate(&request.name, Some(&version.version))?
                .info()?;
            let body = crate::flow::graph::add_key_body(&signer, object_id, &new, now)?;
            let answer = client.add_key(object_id, &body)?;
            VersionFate::Added(
                answer
                    .get("keyId")
                    .and_then(serde_json::Value::as_str)
                    .and_then(|id| id.parse().ok()),
            )
        } else {
            VersionFate::Added(None)
        };
        outcomes.push(VersionOutcome { version, fate });
    }
    Ok(VaultRenewalsOutcome {
        versions: outcomes,
        object_id,
        applied: request.apply,
    })
}

/// Signs in as the app with its newest enabled version Entra accepts; that version, and the token.
fn sign_in(
    request: &VaultRenewalsRequest,
    versions: &[VaultVersion],
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<(VaultVersion, String)> {
    let mut refused = Vec::new();
    for version in versions.iter().rev().filter(|v| v.enabled) {
        let source = CredentialSource::KeyVault(Box::new(VaultSource {
            vault: request.vault.clone(),
            name: request.name.clone(),
            version: Some(version.version.clone()),
            cloud: request.cloud,
            token: Arc::clone(&request.vault_token),
            timeout: request.timeout,
        }));
        let token_request = TokenRequest {
            authority: request.authority.clone(),
            tenant: request.tenant.clone(),
            client_id: request.app_id.to_string(),
            scope: format!("{}/.default", request.graph_url.trim_end_matches('/')),
            timeout: request.timeout.min(Duration::from_secs(60)),
            cache: None,
        };
        let credential = TokenCredential::Certificate(source, Algorithm::Ps256);
        match super::prove::token(&token_request, &credential, passwords, now) {
            Ok(token) => return Ok((version.clone(), token.access_token)),
            // Entra does not know this version (yet): try the one before it.
            Err(error @ Error::Entra { .. }) => {
                refused.push(format!("{}: {error}", version.version))
            }
            Err(other) => return Err(other),
        }
    }
    Err(Error::Refused(format!(
        "certificate {} in {}: no enabled version signs in as application {} ({}); register one on the app first \
         (keycred graph add-key, or the portal)",
        request.name,
        request.vault,
        request.app_id,
        if refused.is_empty() { "the vault has no enabled version".into() } else { refused.join("; ") }
    )))
}
