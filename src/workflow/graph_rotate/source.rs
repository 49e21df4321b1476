//! Each app's new credential as a `graph rotate` run makes it: here (self-signed), from the organisation's CA, or
//! in Azure Key Vault.

use std::collections::BTreeMap;
use std::sync::Arc;

use uuid::Uuid;

use super::GraphRotateRequest;
use crate::error::{Error, Result};
use crate::vault::{VaultCertificate, VaultClient};
use crate::workflow::provision::{self, CredentialSpec};
use crate::workflow::rotation::in_vault::APP_TAG;
use crate::workflow::rotation::NewCredentialSource;
pub use crate::workflow::vault_new::VaultAccess;

/// `--from-vault`: each app's newest enabled vault version, by appId.
pub(super) type Renewals = Arc<BTreeMap<String, VaultCertificate>>;

/// Refuses `--key-vault` with `--all` and `--name`: every app's certificate would take one name in the vault.
pub(super) fn check(request: &GraphRotateRequest) -> Result<()> {
    if request.key_vault.is_some()
        && !request.from_vault
        && (request.all || request.apps.len() > 1)
        && request.credential.name.is_some()
    {
        return Err(Error::Invalid(
            "--key-vault names each app's certificate in the vault after its CN (NAME-YYYYMMDD): leave --name out \
             when rotating more than one app"
                .into(),
        ));
    }
    Ok(())
}

/// The source of one app's new credential.
pub(super) fn new_credential(
    request: &GraphRotateRequest,
    vault: Option<&Arc<VaultClient>>,
    renewals: Option<&Renewals>,
) -> NewCredentialSource {
    if let (Some(vault), Some(newest)) = (vault, renewals) {
        return NewCredentialSource::FromVault {
            vault: vault.clone(),
            newest: newest.clone(),
        };
    }
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

/// `--from-vault` (admin mode): the newest enabled version of the certificates tagged for each app, and the apps
/// the run rotates made those (of the named apps, the tagged ones; with `--all`, every tagged one). `None` when the
/// run is not `--from-vault`.
pub(super) fn renewals(
    request: &mut GraphRotateRequest,
    vault: Option<&Arc<VaultClient>>,
) -> Result<Option<Renewals>> {
    if !request.from_vault {
        return Ok(None);
    }
    let Some(vault) = vault else {
        return Err(Error::Invalid(
            "--from-vault without --self: give the vault, --key-vault URL; its certificates tagged keycred-app \
             (graph rotate --key-vault makes them so) name their apps"
                .into(),
        ));
    };
    if request.ca.is_some() || request.self_service.is_some() {
        return Err(Error::Invalid(
            "--from-vault --key-vault adds the vault's own versions: leave --ca and --self out"
                .into(),
        ));
    }
    if request.since_last.is_some() || request.filter.is_some() {
        return Err(Error::Invalid(
            "--from-vault --key-vault takes its apps from the vault's tags: leave --since-last and --filter out"
                .into(),
        ));
    }
    let mut newest: BTreeMap<Uuid, (i64, String, String)> = BTreeMap::new();
    for listed in vault.certificates()? {
        let Some(app) = listed
            .tags
            .get(APP_TAG)
            .and_then(|a| Uuid::try_parse(a).ok())
        else {
            continue;
        };
        if !request.all && !request.apps.contains(&app) {
            continue;
        }
        for version in vault
            .versions(&listed.name)?
            .into_iter()
            .filter(|v| v.enabled)
        {
            if newest
                .get(&app)
                .is_none_or(|(start, _, _)| version.not_before > *start)
            {
                newest.insert(
                    app,
                    (version.not_before, listed.name.clone(), version.version),
                );
            }
        }
    }
    request.apps = newest.keys().copied().collect();
    let mut found = BTreeMap::new();
    for (app, (_, name, version)) in newest {
        found.insert(app.to_string(), vault.certificate(&name, Some(&version))?);
    }
    request.all = false;
    Ok(Some(Arc::new(found)))
}

/// An app a vault certificate is tagged for that the tenant does not have: said as the tag's mistake, not the
/// admin's `--app`.
pub(super) fn named_by_tag(renewals: Option<&Renewals>, app: Uuid, error: Error) -> Error {
    let tagged = renewals.and_then(|r| r.get(&app.to_string()));
    match (tagged, &error) {
        (Some(certificate), Error::Graph(failure)) if failure.status == 404 => Error::Refused(format!(
            "the vault's certificate {} is tagged {APP_TAG}={app}, and the tenant has no such application \
             (Graph: {}); nothing was sent. Correct or remove the certificate's tag",
            certificate.name, failure.code
        )),
        _ => error,
    }
}
