//! `keycred config` and its targets.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

use super::shared::{AuthorityArg, PasswordArgs};

/// `keycred config`
#[derive(Debug, Args)]
#[command(
    after_help = "Each target reads the credential differently: env, azure-identity and az need one file with the key and the certificate (--bundle from keycred new --pem-bundle; env and azure-identity also take --pfx); msal-python takes --pfx, --bundle or --key with --cert; msal-node takes --key or --bundle; microsoft-identity-web and msal-dotnet load a PFX (--source path), a Key Vault certificate or a store certificate. Thumbprints are computed from the certificate. A PFX password is never printed: the output names the environment variable that carries it (AZURE_CLIENT_CERTIFICATE_PASSWORD). Paths are the files' absolute paths here, or, with --deploy-dir, their names in the folder they will have where the daemon runs.\n\nExamples:\n  keycred config --for env --tenant contoso.onmicrosoft.com \\\n    --client-id 11111111-2222-3333-4444-555555555555 --bundle certs/daemon.bundle.pem\n  keycred config --for msal-node --tenant TENANT --client-id CLIENT \\\n    --cert certs/daemon.pem --key certs/daemon.key --scope api://contoso-orders/.default"
)]
pub struct ConfigArgs {
    /// The library or tool the daemon uses.
    #[arg(long = "for", value_enum, value_name = "TARGET")]
    pub target: ConfigTarget,

    /// Directory (tenant) id or domain.
    #[arg(long, value_name = "TENANT")]
    pub tenant: String,

    /// The app's Application (client) ID.
    #[arg(long, value_name = "CLIENT_ID")]
    pub client_id: String,

    /// The PFX the daemon reads (key and certificate).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "key", "bundle"])]
    pub pfx: Option<PathBuf>,

    /// The registered certificate (DER or PEM).
    #[arg(long, value_name = "FILE", required_unless_present_any = ["pfx", "bundle"])]
    pub cert: Option<PathBuf>,

    /// The PEM bundle the daemon reads: private key and certificate (keycred new --pem-bundle).
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// The PKCS#8 PEM private key the daemon reads (keycred's NAME.key); with --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,

    /// The key is held in Azure Key Vault (keycred new --key-vault): the vault's URL, with --vault-cert and
    /// --cert. msal-python, msal-node and azure-identity get an assertion callback that has keycred sign there.
    #[arg(long, value_name = "URL", requires_all = ["vault_cert", "cert"], conflicts_with_all = ["pfx", "key", "bundle", "pkcs11_module"])]
    pub key_vault: Option<String>,

    /// The vault's certificate: NAME (its newest version, what a vault renewal moves on to) or NAME/VERSION.
    #[arg(long, value_name = "NAME[/VERSION]", requires = "key_vault")]
    pub vault_cert: Option<String>,

    /// The key is held in a PKCS#11 token (keycred new --pkcs11-…): the module's path where the daemon runs, with
    /// --pkcs11-token, --pkcs11-key and --cert. The PIN is the daemon's: KEYCRED_PKCS11_PIN where it runs.
    #[arg(long, value_name = "FILE", requires_all = ["pkcs11_token", "pkcs11_key", "cert"], conflicts_with_all = ["pfx", "key", "bundle"])]
    pub pkcs11_module: Option<String>,

    /// The token's label.
    #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
    pub pkcs11_token: Option<String>,

    /// The key's label in the token.
    #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
    pub pkcs11_key: Option<String>,

    /// The scope the snippets request a token for.
    #[arg(
        long,
        value_name = "SCOPE",
        default_value = "https://graph.microsoft.com/.default"
    )]
    pub scope: String,

    #[command(flatten)]
    pub authority: AuthorityArg,

    /// Name the certificate by its SHA-256 thumbprint (PS256 assertions) or SHA-1 (RS256; ADFS, old MSAL).
    #[arg(long, value_enum, default_value_t = ThumbprintKind::Sha256)]
    pub thumbprint: ThumbprintKind,

    /// microsoft-identity-web / msal-dotnet: where the app loads the certificate from.
    #[arg(long, value_enum, default_value_t = DotnetSourceKind::Path)]
    pub source: DotnetSourceKind,

    /// With --source keyvault: the vault (https://NAME.vault.azure.net).
    #[arg(long, value_name = "URL", required_if_eq("source", "keyvault"))]
    pub key_vault_url: Option<String>,

    /// With --source keyvault: the certificate's name in the vault.
    #[arg(long, value_name = "NAME", required_if_eq("source", "keyvault"))]
    pub key_vault_cert_name: Option<String>,

    /// With --source store: the store (CurrentUser/My or LocalMachine/My).
    #[arg(long, value_name = "STORE", default_value = "CurrentUser/My")]
    pub store: String,

    /// The folder the files will be in on the machine that runs the daemon (default: where they are now).
    #[arg(long, value_name = "DIR")]
    pub deploy_dir: Option<String>,

    /// Write the configuration to this file instead of standard output (never over a file without --force).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace --out if it exists.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Print target, language, content and notes as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `keycred config` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConfigTarget {
    /// azure-identity's environment variables (EnvironmentCredential, DefaultAzureCredential).
    Env,
    /// Python: azure-identity's CertificateCredential.
    AzureIdentity,
    /// Python: MSAL's ConfidentialClientApplication.
    MsalPython,
    /// JavaScript: @azure/msal-node's ConfidentialClientApplication.
    MsalNode,
    /// appsettings.json AzureAd section (Microsoft.Identity.Web credential descriptions).
    MsalDotnet,
    /// appsettings.json AzureAd section for Microsoft.Identity.Web.
    MicrosoftIdentityWeb,
    /// The az login --service-principal command line.
    Az,
}

/// Which thumbprint names the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ThumbprintKind {
    /// SHA-256 (x5t#S256).
    Sha256,
    /// SHA-1 (x5t).
    Sha1,
}

/// Where a .NET app loads its certificate from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DotnetSourceKind {
    /// The PFX on disk.
    Path,
    /// A Key Vault certificate.
    Keyvault,
    /// The Windows certificate store, by thumbprint.
    Store,
}
