//! What `keycred new --key-vault` and `new --pkcs11-module …` made: the certificate, where its key is (a vault, a
//! token), and the public files written.

use serde_json::{json, Value};

use super::{line, thumbprint_lines, thumbprints_json};
use crate::credential::CertificateInfo;
use crate::provision::FileRole;
use crate::time_fmt::rfc3339_utc;
use crate::workflow::token_new::TokenMade;
use crate::workflow::vault_new::VaultMade;

/// As JSON.
pub fn vault_new_json(made: &VaultMade) -> Value {
    held_json(
        &made.certificate,
        &made.files,
        (
            "keyVault",
            json!({"kid": made.kid, "version": made.version, "exportable": false}),
        ),
    )
}

/// As text, with the next step.
pub fn vault_new_text(made: &VaultMade) -> String {
    held_text(
        "Made in Azure Key Vault (the key is not exportable and was never on this machine):\n",
        &made.certificate,
        &made.kid,
        &made.files,
        "keycred token --key-vault URL --vault-cert NAME …",
    )
}

/// What `keycred new --pkcs11-module …` (or `import --pkcs11-module …`) made, as JSON.
pub fn token_new_json(made: &TokenMade) -> Value {
    held_json(
        &made.certificate,
        &made.files,
        (
            "pkcs11",
            json!({"token": made.token, "key": made.key, "extractable": false}),
        ),
    )
}

/// As text, with the next step.
pub fn token_new_text(made: &TokenMade) -> String {
    held_text(
        "Made in the PKCS#11 token (the key is not extractable and was never on this machine's disk):\n",
        &made.certificate,
        format!("{:?} in token {:?}", made.key, made.token),
        &made.files,
        "keycred token --pkcs11-module FILE --pkcs11-token LABEL --pkcs11-key LABEL …",
    )
}

/// A certificate whose key is held elsewhere, as JSON: `(field, where)` says where.
fn held_json(
    cert: &CertificateInfo,
    files: &[(FileRole, String)],
    (field, at): (&str, Value),
) -> Value {
    let mut out = json!({
        "subject": cert.subject,
        "notBefore": rfc3339_utc(cert.not_before),
        "notAfter": rfc3339_utc(cert.not_after),
        "keyId": cert.key_id(),
        "thumbprints": thumbprints_json(&cert.thumbprints),
    });
    out[field] = at;
    out["files"] = super::files_json(files);
    out
}

/// As text: the heading, the certificate, where its key is, the files, and how to sign with it.
fn held_text(
    heading: &str,
    cert: &CertificateInfo,
    key: impl std::fmt::Display,
    files: &[(FileRole, String)],
    sign: &str,
) -> String {
    let mut out = String::from(heading);
    line(&mut out, "subject", &cert.subject);
    line(
        &mut out,
        "valid",
        format!(
            "{} to {}",
            rfc3339_utc(cert.not_before),
            rfc3339_utc(cert.not_after)
        ),
    );
    line(&mut out, "key", key);
    line(&mut out, "keyId", cert.key_id());
    thumbprint_lines(&mut out, &cert.thumbprints);
    out.push_str("Files (public only):\n");
    for (role, path) in files {
        line(&mut out, role.as_str(), path);
    }
    out.push_str(&format!(
        "Next: register the certificate on the app (upload the .cer in the portal, or add the keyCredentials \
         fragment), then sign with it where it is: {sign}\n"
    ));
    out
}
