//! `keycred config`: clap arguments → a configuration request → the daemon's configuration, printed or saved.

use keycred::deploy::{DotnetSource, Target, ThumbprintChoice};
use keycred::flow::authority::Authority;
use keycred::fsio;
use keycred::workflow::deploy::{self, ConfigRequest};
use serde_json::json;

use crate::cli::{ConfigArgs, ConfigTarget, DotnetSourceKind, ThumbprintKind};
use crate::terminal;

pub fn run(args: ConfigArgs) -> anyhow::Result<i32> {
    let request = ConfigRequest {
        target: match args.target {
            ConfigTarget::Env => Target::Env,
            ConfigTarget::AzureIdentity => Target::AzureIdentity,
            ConfigTarget::MsalPython => Target::MsalPython,
            ConfigTarget::MsalNode => Target::MsalNode,
            ConfigTarget::MsalDotnet => Target::MsalDotnet,
            ConfigTarget::MicrosoftIdentityWeb => Target::MicrosoftIdentityWeb,
            ConfigTarget::Az => Target::Az,
        },
        tenant: args.tenant.clone(),
        client_id: args.client_id.clone(),
        authority: Authority::parse(&args.authority.url)?,
        scope: args.scope.clone(),
        pfx: args.pfx.clone(),
        cert: args.cert.clone(),
        bundle: args.bundle.clone(),
        key: args.key.clone(),
        thumbprint: match args.thumbprint {
            ThumbprintKind::Sha256 => ThumbprintChoice::Sha256,
            ThumbprintKind::Sha1 => ThumbprintChoice::Sha1,
        },
        dotnet: match args.source {
            DotnetSourceKind::Path => DotnetSource::Path,
            DotnetSourceKind::Keyvault => DotnetSource::KeyVault {
                url: args.key_vault_url.clone().unwrap_or_default(),
                name: args.key_vault_cert_name.clone().unwrap_or_default(),
            },
            DotnetSourceKind::Store => DotnetSource::Store {
                path: args.store.clone(),
            },
        },
        deploy_dir: args.deploy_dir.clone(),
        held: match (&args.key_vault, &args.vault_cert, &args.pkcs11_module) {
            (Some(vault), Some(cert), _) => Some(keycred::deploy::HeldKey::KeyVault {
                vault: vault.clone(),
                cert: cert.clone(),
            }),
            (_, _, Some(module)) => Some(keycred::deploy::HeldKey::Pkcs11 {
                module: module.clone(),
                token: args.pkcs11_token.clone().unwrap_or_default(),
                key: args.pkcs11_key.clone().unwrap_or_default(),
            }),
            _ => None,
        },
    };
    let passwords = super::password_sources(&args.password, None);
    let snippet = deploy::config(&request, &passwords, time::OffsetDateTime::now_utc())?;
    if let Some(out) = &args.out {
        fsio::write_public_file(out, snippet.content.as_bytes(), args.force)?;
    }
    if args.json {
        terminal::print_json(&json!({
            "for": snippet.target.name(),
            "language": snippet.target.language(),
            "content": snippet.content,
            "out": args.out.as_ref().map(|p| p.display().to_string()),
            "notes": snippet.notes,
        }));
        return Ok(keycred::exit::SUCCESS);
    }
    match &args.out {
        Some(out) => terminal::note(&format!(
            "wrote {} ({} for {})",
            out.display(),
            snippet.target.language(),
            snippet.target.name()
        )),
        None => terminal::print(&snippet.content),
    }
    for note in &snippet.notes {
        terminal::note(note);
    }
    Ok(keycred::exit::SUCCESS)
}
