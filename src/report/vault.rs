//! What `keycred new --key-vault` made: the vault's certificate, where its key is, and the public files written.

use serde_json::{json, Value};

use super::{line, thumbprint_lines, thumbprints_json};
use crate::time_fmt::rfc3339_utc;
use crate::workflow::vault_new::VaultMade;

/// As JSON.
pub fn vault_new_json(made: &VaultMade) -> Value {
    let cert = &made.certificate;
    json!({
        "subject": cert.subject,
        "notBefore": rfc3339_utc(cert.not_before),
        "notAfter": rfc3339_utc(cert.not_after),
        "keyId": made.key_id,
        "thumbprints": thumbprints_json(&cert.thumbprints),
        "keyVault": {"kid": made.kid, "version": made.version, "exportable": false},
        "files": made.files.iter().map(|(role, path)| (role.as_str().to_owned(), Value::String(path.clone())))
            .collect::<serde_json::Map<String, Value>>(),
    })
}

/// As text, with the next step.
pub fn vault_new_text(made: &VaultMade) -> String {
    let cert = &made.certificate;
    let mut out = String::from(
        "Made in Azure Key Vault (the key is not exportable and was never on this machine):\n",
    );
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
    line(&mut out, "key", &made.kid);
    line(&mut out, "keyId", made.key_id);
    thumbprint_lines(&mut out, &cert.thumbprints);
    out.push_str("Files (public only):\n");
    for (role, path) in &made.files {
        line(&mut out, role.as_str(), path);
    }
    out.push_str(
        "Next: register the certificate on the app (upload the .cer in the portal, or add the keyCredentials \
         fragment), then sign with it where it is: keycred token --key-vault URL --vault-cert NAME …\n",
    );
    out
}
