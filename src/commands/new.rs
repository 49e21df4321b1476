//! `keycred new`: clap arguments → a provisioning request → the workflow → the summary.

use keycred::interrupt::Interrupt;
use keycred::report::NewSummary;
use keycred::workflow::provision::{self, ProvisionRequest};

use crate::cli::NewArgs;
use crate::terminal;

pub fn run(args: NewArgs) -> anyhow::Result<i32> {
    if let Some(vault) = &args.key_vault {
        return in_vault(&args, vault);
    }
    if args.pkcs11.pkcs11_module.is_some() {
        return super::token_key::new_in_token(&args);
    }
    let passwords = super::password_sources(&args.credential.pfx.password, None);
    let request = ProvisionRequest {
        credential: super::credential_spec(&args.subject, &args.credential)?,
        format: args.format.into(),
    };
    let made = provision::provision(request, &passwords, &Interrupt::none())?;
    for warning in &made.warnings {
        terminal::warn(warning);
    }
    if let Some(dir) = &made.created_dir {
        terminal::note(&format!(
            "created the folder {} (owner-only: it holds the private key)",
            dir.display()
        ));
    }
    let summary = NewSummary::of(&made);
    if args.json {
        terminal::print_json(&summary.json());
    } else {
        terminal::print(&summary.text());
    }
    Ok(keycred::exit::SUCCESS)
}

/// `new --key-vault`: the certificate made in the vault; its public files written here.
fn in_vault(args: &NewArgs, vault: &str) -> anyhow::Result<i32> {
    use keycred::workflow::vault_new::{self, VaultNewRequest};
    let options = &args.credential;
    let subject = keycred::credential::Subject::parse(&args.subject)?;
    let validity_months = match (options.days, options.years) {
        (Some(days), _) => keycred::vault::months_for_days(Some(days)),
        (None, Some(years)) => years.saturating_mul(12),
        (None, None) => 12,
    };
    let request = VaultNewRequest {
        vault: vault.to_owned(),
        token: super::vault_token(args.vault_token_file.as_deref())?,
        name: options
            .name
            .clone()
            .unwrap_or_else(|| keycred::provision::default_name(subject.common_name())),
        subject: args.subject.clone(),
        validity_months,
        key_size: options.key_size,
        out: options.out.clone(),
        format: args.format.into(),
        force: options.force,
        timeout: std::time::Duration::from_secs(60),
        issuer: match args.ca {
            true => keycred::vault::Issuer::Unknown,
            false => keycred::vault::Issuer::SelfSigned,
        },
    };
    match vault_new::vault_new(&request)? {
        vault_new::VaultNewOutcome::Made(made) => super::print_vault_made(&made, args.json),
        vault_new::VaultNewOutcome::Requested { name, csr } => {
            if args.json {
                terminal::print_json(&serde_json::json!({
                    "keyVault": {"name": name, "exportable": false, "pending": true},
                    "files": {"request": csr},
                }));
            } else {
                terminal::print(&format!(
                    "The vault made the key of {name} (not exportable) and this request for your CA:\n  request       \
                     {csr}\nNext: have the CA issue it, then: keycred import --key-vault {} --name {name} --cert ANSWER\n",
                    vault
                ));
            }
        }
    }
    Ok(keycred::exit::SUCCESS)
}
