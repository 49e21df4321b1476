//! `keycred csr` and `keycred import`: clap arguments → a request for the CA, or what it returned → the workflow →
//! what to do next.

use keycred::credential::{SignatureHash, Subject};
use keycred::workflow::ca::{self, CsrRequest};

use crate::cli::{CsrArgs, Hash, ImportArgs};
use crate::terminal;

pub fn run(args: CsrArgs) -> anyhow::Result<i32> {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => keycred::provision::default_name(Subject::parse(&args.subject)?.common_name()),
    };
    if let Some(keycred::workflow::prove::CredentialSource::Pkcs11(source)) =
        super::token_key::source(&args.pkcs11)?
    {
        return super::token_key::csr_in_token(&args, source.target(), name);
    }
    let outcome = ca::csr(&CsrRequest {
        subject: args.subject.clone(),
        dns: args.dns.clone(),
        key_size: args.key_size,
        hash: match args.hash {
            Hash::Sha256 => SignatureHash::Sha256,
            Hash::Sha384 => SignatureHash::Sha384,
            Hash::Sha512 => SignatureHash::Sha512,
        },
        key: args.key.clone(),
        out: args.out.clone(),
        name: name.clone(),
        force: args.force,
    })?;
    if args.json {
        terminal::print_json(&keycred::report::ca::csr_json(&outcome));
    } else {
        terminal::print(&keycred::report::ca::csr_text(&outcome));
    }
    Ok(keycred::exit::SUCCESS)
}

pub fn import(args: ImportArgs) -> anyhow::Result<i32> {
    if let Some(vault) = &args.key_vault {
        let made = keycred::workflow::vault_new::vault_import(
            &keycred::workflow::vault_new::VaultImportRequest {
                vault: vault.clone(),
                token: super::vault_token(args.vault_token_file.as_deref())?,
                name: args.name.clone(),
                cert: args.cert.clone(),
                chain: args.chain.clone(),
                out: args.out.clone(),
                format: args.format.into(),
                force: args.force,
                timeout: std::time::Duration::from_secs(60),
            },
            time::OffsetDateTime::now_utc(),
        )?;
        super::print_vault_made(&made, args.json);
        return Ok(keycred::exit::SUCCESS);
    }
    if let Some(keycred::workflow::prove::CredentialSource::Pkcs11(source)) =
        super::token_key::source(&args.pkcs11)?
    {
        return super::token_key::import_in_token(&args, source.target());
    }
    let Some(key) = &args.key else {
        return Err(keycred::Error::Invalid(
            "give the private key the request was made with (--key NAME.key), or --key-vault URL for a vault's request"
                .into(),
        )
        .into());
    };
    let passwords = super::password_sources(&args.pfx.password, None);
    let outcome = ca::import(
        &ca::ImportRequest {
            cert: args.cert.clone(),
            chain: args.chain.clone(),
            key: key.clone(),
            out: args.out.clone(),
            name: args.name.clone(),
            pfx: super::pfx_spec(&args.pfx),
            pem_bundle: args.pfx.pem_bundle,
            format: args.format.into(),
            force: args.force,
        },
        &passwords,
        time::OffsetDateTime::now_utc(),
    )?;
    for warning in &outcome.warnings {
        terminal::warn(warning);
    }
    if args.json {
        terminal::print_json(&keycred::report::ca::import_json(&outcome));
    } else {
        terminal::print(&keycred::report::ca::import_text(&outcome));
    }
    Ok(keycred::exit::SUCCESS)
}
