//! `keycred doctor`.

use std::path::PathBuf;

use clap::Args;

use super::shared::PasswordArgs;

/// `keycred doctor`
#[derive(Debug, Args)]
#[command(
    after_help = "Every input is optional; each check runs when its inputs are there, and nothing is sent anywhere. Exit codes: 0 nothing found, 3 warnings only (it works, but not for long or by accident), 4 at least one error (the flow fails); 1 and 2 for unreadable or wrong input, as everywhere.\n\nExamples:\n  keycred doctor --client client.json --api api.json --credential daemon.pfx \\\n    --password-file daemon.pfx.password --scope api://contoso-orders/.default\n  keycred doctor --client-app CLIENT_APP_ID --api-app API_APP_ID --token-file graph.token\n  keycred doctor --api api.json --rules rules.json --token token.txt"
)]
pub struct DoctorArgs {
    /// The client (daemon) app's manifest, either format.
    #[arg(long, value_name = "CLIENT.json")]
    pub client: Option<PathBuf>,

    /// The resource (API) app's manifest, either format.
    #[arg(long, value_name = "API.json")]
    pub api: Option<PathBuf>,

    /// The credential the daemon signs with: a PFX, a bundle (key and certificate in one PEM), or a certificate
    /// with --key.
    #[arg(long, value_name = "FILE")]
    pub credential: Option<PathBuf>,

    /// The private key (PKCS#8 PEM) of a --credential certificate.
    #[arg(long, value_name = "FILE", requires = "credential")]
    pub credential_key: Option<PathBuf>,

    /// The credential is a certificate in Azure Key Vault whose key signs there: the vault's URL (of --cloud's
    /// cloud), with --credential-vault-cert; its token from --vault-token-file or KEYCRED_VAULT_TOKEN.
    #[arg(long, value_name = "URL", requires = "credential_vault_cert", conflicts_with_all = ["credential", "credential_key"])]
    pub credential_vault: Option<String>,

    /// The vault certificate of --credential-vault: NAME, or NAME/VERSION (else its newest version).
    #[arg(long, value_name = "NAME[/VERSION]", requires = "credential_vault")]
    pub credential_vault_cert: Option<String>,

    /// The credential's key is in a PKCS#11 token, its certificate kept beside it: the token's module, with
    /// --credential-pkcs11-token and --credential-pkcs11-key; the PIN from --credential-pkcs11-pin-file or
    /// KEYCRED_PKCS11_PIN.
    #[arg(long, value_name = "FILE", requires_all = ["credential_pkcs11_token", "credential_pkcs11_key"],
          conflicts_with_all = ["credential", "credential_key", "credential_vault"])]
    pub credential_pkcs11_module: Option<PathBuf>,

    /// The token's label.
    #[arg(long, value_name = "LABEL", requires = "credential_pkcs11_module")]
    pub credential_pkcs11_token: Option<String>,

    /// The key's label in the token.
    #[arg(long, value_name = "LABEL", requires = "credential_pkcs11_module")]
    pub credential_pkcs11_key: Option<String>,

    /// The token's user PIN, from the first line of this file; else KEYCRED_PKCS11_PIN.
    #[arg(long, value_name = "FILE", requires = "credential_pkcs11_module")]
    pub credential_pkcs11_pin_file: Option<PathBuf>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// The scope the daemon requests.
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,

    /// A file with an access token the daemon got (or - for standard input).
    #[arg(long, value_name = "FILE")]
    pub token: Option<PathBuf>,

    /// The API's rules, as keycred api-policy --format json writes them.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Warn about certificates that end within DAYS.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: u32,

    /// Read the client app live through Microsoft Graph: its registration (unless --client is given), its
    /// service principal and its app role assignments (admin consent); with --api-app.
    #[arg(long, value_name = "APP_ID", requires = "api_app")]
    pub client_app: Option<String>,

    /// Read the API app live through Microsoft Graph (unless --api is given); with --client-app.
    #[arg(long, value_name = "APP_ID", requires = "client_app")]
    pub api_app: Option<String>,

    /// How --client-app and --api-app reach Microsoft Graph (as for keycred graph apps; needs
    /// Application.Read.All).
    #[command(flatten)]
    pub graph: super::graph::GraphConnectArgs,

    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
}
