//! `keycred csr` and `keycred import`: clap arguments → a request for the CA, or what it returned → the workflow →
//! what to do next.

use keycred::credential::{SignatureHash, Subject};
use keycred::workflow::ca::{self, CsrRequest};
use serde_json::json;

use crate::cli::{CsrArgs, Hash, ImportArgs};
use crate::terminal;

pub fn run(args: CsrArgs) -> anyhow::Result<i32> {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => keycred::provision::default_name(Subject::parse(&args.subject)?.common_name()),
    };
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
    let key = outcome
        .key
        .clone()
        .or_else(|| outcome.existing_key.clone())
        .expect("a request has a key");
    if args.json {
        terminal::print_json(&json!({
            "subject": outcome.subject,
            "csr": outcome.csr.display().to_string(),
            "key": key.display().to_string(),
            "keyWritten": outcome.key.is_some(),
        }));
    } else {
        terminal::print(&format!(
            "Created a certificate request for {}\nfiles\n  {}  the request (PKCS#10, PEM): send it to your CA\n{}next: \
             when the CA has issued the certificate, keycred import --cert ISSUED.cer [--chain CHAIN.pem] --key {} \
             --out {} --name {name}\nsecrets: {} is the private key and stays here, owner-only: the CA never needs it\n",
            outcome.subject,
            outcome.csr.display(),
            outcome
                .key
                .as_ref()
                .map(|k| format!("  {}  the private key, PKCS#8 PEM (owner-only)\n", k.display()))
                .unwrap_or_default(),
            key.display(),
            args.out.display(),
            key.display(),
        ));
    }
    Ok(keycred::exit::SUCCESS)
}

pub fn import(args: ImportArgs) -> anyhow::Result<i32> {
    use keycred::workflow::provision::{NewPassword, PfxSpec};
    let passwords = super::password_sources(&args.password, None);
    let outcome = ca::import(
        &ca::ImportRequest {
            cert: args.cert.clone(),
            chain: args.chain.clone(),
            key: args.key.clone(),
            out: args.out.clone(),
            name: args.name.clone(),
            pfx: (!args.no_pfx).then(|| PfxSpec {
                profile: match args.pfx_profile {
                    crate::cli::PfxProfile::Modern => keycred::export::PfxProfile::Modern,
                    crate::cli::PfxProfile::Legacy => keycred::export::PfxProfile::Legacy,
                },
                password: if args.generate_password {
                    NewPassword::Generate
                } else {
                    NewPassword::FromSources
                },
            }),
            pem_bundle: args.pem_bundle,
            format: args.format.into(),
            force: args.force,
        },
        &passwords,
        time::OffsetDateTime::now_utc(),
    )?;
    for warning in &outcome.warnings {
        terminal::warn(warning);
    }
    let leaf = &outcome.leaf;
    if args.json {
        terminal::print_json(&json!({
            "subject": leaf.subject,
            "issuer": leaf.issuer,
            "notBefore": keycred::time_fmt::rfc3339_utc(leaf.not_before),
            "notAfter": keycred::time_fmt::rfc3339_utc(leaf.not_after),
            "keyId": outcome.key_id,
            "thumbprints": keycred::report::thumbprints_json(&leaf.thumbprints),
            "chain": outcome.chain.iter().map(|c| c.subject.clone()).collect::<Vec<_>>(),
            "files": outcome.files.iter().map(|(_, p)| p.display().to_string()).collect::<Vec<_>>(),
            "warnings": outcome.warnings,
        }));
    } else {
        let mut text = format!(
            "Imported the certificate for {} issued by {}\n  valid     {} to {}\n  keyId     {}\n  sha1      {}\n  chain     {}\nfiles\n",
            leaf.subject,
            leaf.issuer,
            keycred::time_fmt::rfc3339_utc(leaf.not_before),
            keycred::time_fmt::rfc3339_utc(leaf.not_after),
            outcome.key_id,
            leaf.thumbprints.render(keycred::credential::ThumbprintForm::Hex),
            if outcome.chain.is_empty() {
                "(none given)".to_owned()
            } else {
                outcome.chain.iter().map(|c| c.subject.clone()).collect::<Vec<_>>().join(" <- ")
            }
        );
        for (what, path) in &outcome.files {
            text.push_str(&format!("  {}  {what}\n", path.display()));
        }
        text.push_str(&format!(
            "next: register the certificate beside the app's others: keycred rotate --cert {} --manifest app.json --in-place\n",
            args.out.join(format!("{}.cer", args.name)).display()
        ));
        terminal::print(&text);
    }
    Ok(keycred::exit::SUCCESS)
}
