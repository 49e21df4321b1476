//! Certificates from the organisation's CA: what `csr` wrote and where it goes, and what `import` made of the CA's
//! answer.

use serde_json::{json, Value};

use super::{line, thumbprint_lines, thumbprints_json};
use crate::time_fmt::rfc3339_utc;
use crate::workflow::ca::{CsrOutcome, ImportOutcome};

/// The request's key: the one written, or the one given.
fn request_key(outcome: &CsrOutcome) -> &std::path::Path {
    outcome
        .key
        .as_deref()
        .or(outcome.existing_key.as_deref())
        .unwrap_or(std::path::Path::new("NAME.key"))
}

/// `csr --json`.
pub fn csr_json(outcome: &CsrOutcome) -> Value {
    json!({
        "subject": outcome.subject,
        "csr": outcome.csr.display().to_string(),
        "key": request_key(outcome).display().to_string(),
        "keyWritten": outcome.key.is_some(),
    })
}

/// `csr` as text: the files, where the request goes, and the command that brings the answer back.
pub fn csr_text(outcome: &CsrOutcome) -> String {
    let key = request_key(outcome);
    let name = outcome
        .csr
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out = outcome
        .csr
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut text = format!(
        "Created a certificate request for {}\nfiles\n  {}  the request (PKCS#10, PEM): send it to your CA\n",
        outcome.subject,
        outcome.csr.display()
    );
    if let Some(written) = &outcome.key {
        text.push_str(&format!(
            "  {}  the private key, PKCS#8 PEM (owner-only)\n",
            written.display()
        ));
    }
    text.push_str(&format!(
        "next: when the CA has issued the certificate, keycred import --cert ISSUED.cer [--chain CHAIN.pem] --key {} \
         --out {} --name {name} --generate-password (or --password-file FILE for the PFX's password, or --no-pfx)\nsecrets: {} is the private key and stays here, owner-only: the CA never needs it\n",
        key.display(),
        out.display(),
        key.display()
    ));
    text
}

/// `import --json`.
pub fn import_json(outcome: &ImportOutcome) -> Value {
    let leaf = &outcome.leaf;
    json!({
        "subject": leaf.subject,
        "issuer": leaf.issuer,
        "notBefore": rfc3339_utc(leaf.not_before),
        "notAfter": rfc3339_utc(leaf.not_after),
        "keyId": outcome.key_id,
        "thumbprints": thumbprints_json(&leaf.thumbprints),
        "chain": outcome.chain.iter().map(|c| c.subject.clone()).collect::<Vec<_>>(),
        "files": outcome.files.iter().map(|(_, p)| p.display().to_string()).collect::<Vec<_>>(),
        "warnings": outcome.warnings,
    })
}

/// `import` as text: the certificate, its chain and every thumbprint form, the files, and how to register it.
pub fn import_text(outcome: &ImportOutcome) -> String {
    let leaf = &outcome.leaf;
    let mut text = format!(
        "Imported the certificate for {} issued by {}\n",
        leaf.subject, leaf.issuer
    );
    line(
        &mut text,
        "valid",
        format!(
            "{} to {}",
            rfc3339_utc(leaf.not_before),
            rfc3339_utc(leaf.not_after)
        ),
    );
    line(&mut text, "keyId", outcome.key_id);
    line(
        &mut text,
        "chain",
        if outcome.chain.is_empty() {
            "(none given)".to_owned()
        } else {
            outcome
                .chain
                .iter()
                .map(|c| c.subject.clone())
                .collect::<Vec<_>>()
                .join(" <- ")
        },
    );
    text.push_str("thumbprints\n");
    thumbprint_lines(&mut text, &leaf.thumbprints);
    text.push_str("files\n");
    let width = outcome
        .files
        .iter()
        .map(|(_, p)| p.display().to_string().len())
        .max()
        .unwrap_or(0);
    for (what, path) in &outcome.files {
        text.push_str(&format!(
            "  {:<width$}  {what}\n",
            path.display().to_string()
        ));
    }
    let cer = outcome
        .files
        .first()
        .map_or_else(|| "NAME.cer".to_owned(), |(_, p)| p.display().to_string());
    text.push_str(&format!(
        "next: register the certificate beside the app's others: keycred rotate --cert {cer} --manifest app.json \
         --in-place\n"
    ));
    text
}
