//! `keycred csr`: clap arguments → a request for the CA → the workflow → what to send where.

use keycred::credential::{SignatureHash, Subject};
use keycred::workflow::ca::{self, CsrRequest};
use serde_json::json;

use crate::cli::{CsrArgs, Hash};
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
