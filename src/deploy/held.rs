//! The daemon's configuration when its key is held where it cannot be read (Azure Key Vault, a PKCS#11 token):
//! the library takes a client assertion callback, and the callback has keycred sign each assertion where the key
//! is (`keycred assertion --key-vault …` or `--pkcs11-…`). MSAL Python, msal-node and azure-identity each call
//! it whenever they need a token, so every assertion is fresh.

use std::fmt::Write as _;

use super::{authority_netloc, literal, Daemon, Target};
use crate::credential::ThumbprintForm;
use crate::error::{Error, Result};

/// Where the daemon's key is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldKey {
    /// A certificate in Azure Key Vault: its name, or NAME/VERSION.
    KeyVault {
        /// The vault's URL.
        vault: String,
        /// The certificate, `NAME` or `NAME/VERSION`.
        cert: String,
    },
    /// A key in a PKCS#11 token.
    Pkcs11 {
        /// The module's path where the daemon runs.
        module: String,
        /// The token's label.
        token: String,
        /// The key's label.
        key: String,
    },
}

impl HeldKey {
    /// keycred's flags for the key, and the environment variable the daemon's environment must give.
    fn flags(&self) -> (Vec<&str>, &'static str, &'static str) {
        match self {
            HeldKey::KeyVault { vault, cert } => (
                vec!["--key-vault", vault, "--vault-cert", cert],
                "KEYCRED_VAULT_TOKEN",
                "a current token for https://vault.azure.net (az account get-access-token --resource \
                 https://vault.azure.net, or the daemon's managed identity), with the Key Vault Crypto User role",
            ),
            HeldKey::Pkcs11 { module, token, key } => (
                vec!["--pkcs11-module", module, "--pkcs11-token", token, "--pkcs11-key", key],
                "KEYCRED_PKCS11_PIN",
                "the token's user PIN, from the service's secret store",
            ),
        }
    }

    fn describe(&self) -> String {
        match self {
            HeldKey::KeyVault { vault, cert } => format!(
                "in Azure Key Vault {vault}, certificate {cert} (key id {}/keys/{cert})",
                vault.trim_end_matches('/')
            ),
            HeldKey::Pkcs11 { token, key, .. } => {
                format!("in PKCS#11 token {token:?}, key {key:?}")
            }
        }
    }
}

/// Renders the callback configuration for `target`, or says which targets take one.
pub(super) fn render(
    daemon: &Daemon,
    held: &HeldKey,
    target: Target,
    notes: &mut Vec<String>,
) -> Result<String> {
    let command = command(daemon, held);
    let (_, variable, what) = held.flags();
    notes.push(format!(
        "keycred must be on the daemon's PATH, and {variable} in its environment: {what}; the key {} never \
         reaches the daemon's disk",
        held.describe()
    ));
    match target {
        Target::MsalPython | Target::AzureIdentity => Ok(python(daemon, held, target, &command)),
        Target::MsalNode => Ok(node(daemon, held, &command)),
        other => Err(Error::Invalid(format!(
            "--for {}: it reads the key from a file, and this key stays {}; give --for msal-python, msal-node or \
             azure-identity, whose client assertion callback has keycred sign where the key is",
            other.name(),
            held.describe()
        ))),
    }
}

/// `keycred assertion …` for this app, signed PS256 (`x5t#S256`) where the key is.
fn command(daemon: &Daemon, held: &HeldKey) -> Vec<String> {
    let mut args = vec![
        "keycred",
        "assertion",
        "--tenant",
        &daemon.tenant,
        "--client-id",
        &daemon.client_id,
        "--alg",
        "PS256",
    ];
    if !daemon.authority.is_default() {
        args.extend(["--authority", daemon.authority.as_str()]);
    }
    let (flags, _, _) = held.flags();
    args.extend(flags);
    args.into_iter().map(str::to_owned).collect()
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|a| literal(a))
        .collect::<Vec<_>>()
        .join(", ")
}

fn header(daemon: &Daemon, held: &HeldKey, comment: &str) -> String {
    format!(
        "{comment} app {} in tenant {}, certificate {} (SHA-256 {})\n\
         {comment} its key is {}: keycred signs each client assertion there; the key never reaches this disk\n",
        daemon.client_id,
        daemon.tenant,
        daemon.certificate.subject,
        daemon.certificate.thumbprints.render(ThumbprintForm::Sha256Hex),
        held.describe()
    )
}

/// MSAL Python's `client_assertion` callable, or azure-identity's `ClientAssertionCredential`.
fn python(daemon: &Daemon, held: &HeldKey, target: Target, command: &[String]) -> String {
    let mut out = String::from("import subprocess\n\n");
    out.push_str(if target == Target::MsalPython {
        "import msal\n\n"
    } else {
        "from azure.identity import ClientAssertionCredential\n\n"
    });
    out.push_str(&header(daemon, held, "#"));
    let _ = writeln!(out, "KEYCRED_ASSERTION = [{}]\n\n", list(command));
    out.push_str(
        "def client_assertion():\n    return subprocess.run(\n        KEYCRED_ASSERTION, check=True, \
         capture_output=True, text=True\n    ).stdout.strip()\n\n\n",
    );
    if target == Target::AzureIdentity {
        out.push_str("credential = ClientAssertionCredential(\n");
        let _ = writeln!(out, "    tenant_id={},", literal(&daemon.tenant));
        let _ = writeln!(out, "    client_id={},", literal(&daemon.client_id));
        out.push_str("    func=client_assertion,\n");
        super::azure_identity_end(&mut out, daemon);
        return out;
    }
    super::msal_python_app(&mut out, daemon, "{\"client_assertion\": client_assertion}");
    out
}

/// msal-node's `clientAssertion` callback.
fn node(daemon: &Daemon, held: &HeldKey, command: &[String]) -> String {
    let mut out = String::from(
        "import { execFileSync } from \"node:child_process\";\nimport { ConfidentialClientApplication } from \
         \"@azure/msal-node\";\n\n",
    );
    out.push_str(&header(daemon, held, "//"));
    let _ = writeln!(out, "const keycredAssertion = [{}];\n", list(&command[1..]));
    out.push_str("const app = new ConfidentialClientApplication({\n  auth: {\n");
    let _ = writeln!(out, "    clientId: {},", literal(&daemon.client_id));
    let _ = writeln!(
        out,
        "    authority: {},",
        literal(&format!("{}/{}", daemon.authority.as_str(), daemon.tenant))
    );
    if !daemon.authority.is_microsoft_cloud() {
        let _ = writeln!(
            out,
            "    knownAuthorities: [{}], // not a Microsoft cloud",
            literal(&authority_netloc(&daemon.authority))
        );
    }
    let _ = writeln!(
        out,
        "    clientAssertion: async () => execFileSync({}, keycredAssertion, {{ encoding: \"utf8\" }}).trim(),",
        literal(&command[0])
    );
    out.push_str("  },\n});\n");
    let _ = writeln!(
        out,
        "const result = await app.acquireTokenByClientCredential({{ scopes: [{}] }});",
        literal(&daemon.scope)
    );
    out.push_str("const accessToken = result.accessToken;\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_key_gets_a_callback_that_signs_where_it_is_and_file_targets_are_refused() {
        let mut held = super::super::tests::daemon(super::super::CredentialFiles::default());
        held.held = Some(HeldKey::KeyVault {
            vault: "https://contoso.vault.azure.net".into(),
            cert: "daemon".into(),
        });
        let python = super::super::render(&held, Target::MsalPython).unwrap();
        assert!(python.content.contains(
            r#""--key-vault", "https://contoso.vault.azure.net", "--vault-cert", "daemon""#
        ));
        assert!(python
            .content
            .contains("\"client_assertion\": client_assertion"));
        assert!(python.notes[0].contains("KEYCRED_VAULT_TOKEN"));
        assert!(python
            .content
            .contains("(key id https://contoso.vault.azure.net/keys/daemon)"));
        let node = super::super::render(&held, Target::MsalNode).unwrap();
        assert!(node
            .content
            .contains("clientAssertion: async () => execFileSync(\"keycred\""));
        for target in [Target::Env, Target::Az, Target::MsalDotnet] {
            let refused = super::super::render(&held, target).unwrap_err().to_string();
            assert!(refused.contains("msal-python, msal-node or"), "{refused}");
        }
    }
}
