//! `keycred graph rotate --self --from-vault`: the vault's newer versions of the app's certificate, added to it.

use keycred::workflow::vault_renewals::{self, VaultRenewalsRequest, VersionFate};
use serde_json::json;

use crate::terminal;

pub fn from_vault(args: &crate::cli::GraphRotateArgs) -> anyhow::Result<i32> {
    let connect = &args.connect;
    let (Some(vault), Some(name), Some(tenant), Some(client_id)) = (
        &connect.auth_key_vault,
        &connect.auth_vault_cert,
        &connect.tenant,
        &connect.client_id,
    ) else {
        return Err(keycred::Error::Invalid(
            "--from-vault: give --tenant, --client-id (the app's appId), --auth-key-vault URL and --auth-vault-cert NAME"
                .into(),
        )
        .into());
    };
    if args.verify || args.key_vault.is_some() {
        return Err(keycred::Error::Invalid(
            "--self --from-vault signs in with each version it adds, and makes nothing: leave --verify and \
             --key-vault out"
                .into(),
        )
        .into());
    }
    if name.contains('/') {
        return Err(keycred::Error::Invalid(format!(
            "--from-vault --auth-vault-cert {name}: name the certificate without a version; every version is looked at"
        ))
        .into());
    }
    if args.apps.len() != 1
        || keycred::workflow::tenant::parse_app(&args.apps[0])?.to_string()
            != client_id.to_ascii_lowercase()
    {
        return Err(keycred::Error::Invalid(
            "--from-vault: the app adds its own renewals: give --app with its appId, the same as --client-id".into(),
        )
        .into());
    }
    let cloud = super::cloud_of(connect);
    let request = VaultRenewalsRequest {
        vault: vault.clone(),
        name: name.clone(),
        vault_token: std::sync::Arc::new(super::vault_token(connect.vault_token_file.as_deref())?),
        app_id: keycred::workflow::tenant::parse_app(client_id)?,
        tenant: tenant.clone(),
        authority: super::automation_authority(connect)?,
        graph_url: connect
            .graph_url
            .clone()
            .unwrap_or_else(|| cloud.graph().to_owned()),
        cloud,
        timeout: std::time::Duration::from_secs(connect.timeout.clamp(1, 600)),
        budget: connect.budget,
        budget_record: keycred::workflow::budget_record::default_dir(),
        apply: args.apply,
    };
    let passwords = super::auth_passwords(connect);
    let outcome =
        vault_renewals::vault_renewals(&request, &passwords, time::OffsetDateTime::now_utc())?;
    let fate = |fate: &VersionFate| match fate {
        VersionFate::Held => "held",
        VersionFate::SignedIn => "signs in",
        VersionFate::Added(_) if outcome.applied => "added",
        VersionFate::Added(_) => "to add",
        VersionFate::Disabled => "disabled in the vault",
        VersionFate::Older => "older, not on the app",
    };
    if args.json {
        terminal::print_json(&json!({
            "objectId": outcome.object_id,
            "applied": outcome.applied,
            "versions": outcome.versions.iter().map(|v| json!({
                "version": v.version.version,
                "thumbprint": keycred::credential::thumbprint::upper_hex(&v.version.sha1),
                "result": fate(&v.fate),
                "keyId": match v.fate { VersionFate::Added(id) => id, _ => None },
            })).collect::<Vec<_>>(),
        }));
    } else {
        let mut out = format!("{} in {} for application {}:\n", name, vault, client_id);
        for v in &outcome.versions {
            out.push_str(&format!(
                "  {}  {}  {}\n",
                v.version.version,
                keycred::credential::thumbprint::upper_hex(&v.version.sha1),
                fate(&v.fate)
            ));
        }
        let to_add = outcome
            .versions
            .iter()
            .filter(|v| matches!(v.fate, VersionFate::Added(_)))
            .count();
        out.push_str(&match (to_add, outcome.applied) {
            (0, _) => "nothing to add: the app holds the vault's newest version\n".to_owned(),
            (n, true) => format!("{n} added with addKey, proven in the vault\n"),
            (n, false) => format!("{n} to add; nothing was sent: run again with --apply\n"),
        });
        terminal::print(&out);
    }
    Ok(keycred::exit::SUCCESS)
}
