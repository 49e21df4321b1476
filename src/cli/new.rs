//! `keycred new`.

use clap::Args;

use super::shared::{CredentialOptions, Format};

/// `keycred new`
#[derive(Debug, Args)]
#[command(
    after_help = "PFX password sources, in order: --password-file, --generate-password, the environment variable KEYCRED_PFX_PASSWORD, a hidden prompt (on a terminal). Use --no-pfx to skip the PFX.\n\nExample:\n  keycred new --subject 'CN=Contoso Daemon,O=Contoso' \\\n    --out certs --name daemon --generate-password"
)]
pub struct NewArgs {
    /// Certificate subject: a name ("Contoso Daemon", becomes CN=Contoso Daemon) or a DN ("CN=Contoso Daemon,O=Contoso").
    #[arg(long, short = 's')]
    pub subject: String,

    #[command(flatten)]
    pub credential: CredentialOptions,

    /// Shape of the keyCredentials fragment.
    #[arg(long, value_enum, default_value_t = Format::Graph)]
    pub format: Format,

    /// Make the certificate in Azure Key Vault instead, its key non-exportable and never on this machine: the
    /// vault's URL (https://NAME.vault.azure.net). --name names it in the vault and its files here; only the
    /// certificate (CER, PEM) and the keyCredentials fragment are written. Validity in months (--days, --years);
    /// needs Key Vault Certificates Officer.
    #[arg(long, value_name = "URL", conflicts_with_all = [
        "not_after", "hash", "pfx_profile", "password_file", "generate_password", "no_pfx", "pem_bundle", "no_key",
        "max_lifetime", "pkcs11_module"
    ])]
    pub key_vault: Option<String>,

    /// Make the key inside a PKCS#11 token instead (an HSM, a YubiKey, SoftHSM): sensitive, never extractable,
    /// labelled --pkcs11-key. The token signs the self-signed certificate, which is kept there beside the key
    /// and written here as CER, PEM and the keyCredentials fragment; no key, PFX or password is written.
    #[command(flatten)]
    pub pkcs11: super::shared::Pkcs11Args,

    /// With --key-vault: the certificate comes from your organisation's CA. The vault makes the key (never
    /// exportable) and a request, written as NAME.csr for the CA; keycred import --key-vault URL --name NAME
    /// --cert ANSWER merges the CA's answer into the vault.
    #[arg(long, requires = "key_vault", conflicts_with_all = ["days", "years"])]
    pub ca: bool,

    /// A bearer token for the vault, from the first line of this file (az account get-access-token --resource
    /// https://vault.azure.net --query accessToken -o tsv); else from KEYCRED_VAULT_TOKEN.
    #[arg(long, value_name = "FILE", requires = "key_vault")]
    pub vault_token_file: Option<std::path::PathBuf>,

    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
}
