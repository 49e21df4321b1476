//! Option groups and value names shared by several commands: PFX passwords, how a new credential is made and
//! written, the authority, the client's certificate, and the formats and algorithms.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Where tokens come from.
#[derive(Debug, Args, Clone)]
pub struct AuthorityArg {
    /// Authority: Entra's, a sovereign cloud's (https://login.microsoftonline.us, https://login.chinacloudapi.cn, …), or a local test server on http://127.0.0.1.
    #[arg(
        long = "authority",
        value_name = "URL",
        default_value = "https://login.microsoftonline.com"
    )]
    pub url: String,
}

/// The certificate credential that signs: a PFX, or a key and its certificate.
#[derive(Debug, Args, Clone)]
pub struct ClientCertArgs {
    /// PFX with the app's registered certificate and its key.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "cert", "pkcs11_module"])]
    pub pfx: Option<std::path::PathBuf>,

    /// The private key, PKCS#8 PEM (keycred's NAME.key); with --cert.
    #[arg(
        long,
        value_name = "FILE",
        requires = "cert",
        conflicts_with = "pkcs11_module"
    )]
    pub key: Option<std::path::PathBuf>,

    /// The registered certificate (DER or PEM); with --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<std::path::PathBuf>,

    /// Sign with a certificate in Azure Key Vault, whose key never leaves the vault: the vault's URL
    /// (https://NAME.vault.azure.net, of --authority's cloud); with --vault-cert.
    #[arg(long, value_name = "URL", requires = "vault_cert", conflicts_with_all = ["pfx", "key", "cert", "pkcs11_module"])]
    pub key_vault: Option<String>,

    /// The vault's certificate: NAME, or NAME/VERSION (else its newest version).
    #[arg(long, value_name = "NAME[/VERSION]", requires = "key_vault")]
    pub vault_cert: Option<String>,

    /// A bearer token for the vault, from the first line of this file (az account get-access-token --resource
    /// https://vault.azure.net --query accessToken -o tsv); else from KEYCRED_VAULT_TOKEN. Never on the command line.
    #[arg(long, value_name = "FILE", requires = "key_vault")]
    pub vault_token_file: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub pkcs11: Pkcs11Args,

    #[command(flatten)]
    pub password: PasswordArgs,
}

/// A key in a PKCS#11 token (an HSM, a YubiKey, SoftHSM), which signs there; its certificate is kept in the token
/// beside it, under the same label.
#[derive(Debug, Args, Clone)]
pub struct Pkcs11Args {
    /// The token's PKCS#11 module (SoftHSM: /usr/lib/softhsm/libsofthsm2.so; a vendor's library); with
    /// --pkcs11-token and --pkcs11-key.
    #[arg(long, value_name = "FILE", requires_all = ["pkcs11_token", "pkcs11_key"])]
    pub pkcs11_module: Option<PathBuf>,

    /// The token's label.
    #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
    pub pkcs11_token: Option<String>,

    /// The key's label in the token (its certificate there has the same label).
    #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
    pub pkcs11_key: Option<String>,

    /// The token's user PIN, from the first line of this file; else KEYCRED_PKCS11_PIN. Never on the command line.
    #[arg(long, value_name = "FILE", requires = "pkcs11_module")]
    pub pkcs11_pin_file: Option<PathBuf>,
}

/// JWS algorithm of a client assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwtAlg {
    /// RSASSA-PSS SHA-256, header x5t#S256 (what MSAL sends to Entra today).
    #[value(name = "PS256", alias = "ps256")]
    Ps256,
    /// RSASSA-PKCS1-v1_5 SHA-256, header x5t (SHA-1 thumbprint).
    #[value(name = "RS256", alias = "rs256")]
    Rs256,
}

/// Where a PFX password comes from. Never from the command line itself: argv is visible to every user.
#[derive(Debug, Args, Clone)]
pub struct PasswordArgs {
    /// Read the PFX password from the first line of this file.
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<PathBuf>,
}

/// How a new certificate credential is made and written: shared by `new`, `rotate` and `batch`.
#[derive(Debug, Args, Clone)]
pub struct CredentialOptions {
    /// Folder to write the files into; created (owner-only) if it does not exist.
    #[arg(long, short = 'o', value_name = "DIR", default_value = ".")]
    pub out: PathBuf,

    /// Base name of the files (NAME.cer, NAME.pem, NAME.key, NAME.pfx, NAME.keycredentials.json); default: derived from the CN.
    #[arg(long, short = 'n')]
    pub name: Option<String>,

    /// Validity in days from now (minus 5 minutes for clock skew); default 365, which Microsoft recommends as the
    /// most.
    #[arg(long, value_name = "N", conflicts_with_all = ["not_after", "years"])]
    pub days: Option<u32>,

    /// Validity in years (N x 365 days).
    #[arg(long, value_name = "N", conflicts_with = "not_after")]
    pub years: Option<u32>,

    /// End of validity: YYYY-MM-DD (through the end of that day, UTC), RFC 3339, or a duration from now such as
    /// 90d or 2160h. Also accepted as --end-date (az).
    #[arg(long, value_name = "DATE", alias = "end-date")]
    pub not_after: Option<String>,

    /// The longest validity the tenant's credential rules allow, as an ISO 8601 duration (P90D, P365D): the
    /// default validity is cut to it, and a longer --days or --not-after is refused before anything is made.
    /// For files; graph rotate reads the tenant's own rules, and this only tightens them.
    #[arg(long, value_name = "DURATION")]
    pub max_lifetime: Option<String>,

    /// Not a keycred option: the PFX is NAME.pfx in --out (hidden; named here to explain that).
    #[arg(long, value_name = "PATH", hide = true)]
    pub out_pfx: Option<PathBuf>,

    /// RSA key size in bits: 2048, 3072 or 4096.
    #[arg(long, value_name = "BITS", default_value_t = 2048)]
    pub key_size: u32,

    /// Hash of the certificate's RSA signature.
    #[arg(long, value_enum, default_value_t = Hash::Sha256)]
    pub hash: Hash,

    #[command(flatten)]
    pub pfx: PfxOptions,

    /// Do not write NAME.key: the private key is then only in the (encrypted) PFX (so not with --no-pfx).
    #[arg(long)]
    pub no_key: bool,

    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
}

/// The PFX and the PEM bundle of a credential, as `new`, `rotate`, `graph rotate` and `import` write them.
#[derive(Debug, Args, Clone)]
pub struct PfxOptions {
    /// PFX encryption: modern (AES-256, opens in OpenSSL 3) or legacy (3DES, for Windows Server 2016 and older).
    #[arg(long, value_enum, default_value_t = PfxProfile::Modern)]
    pub pfx_profile: PfxProfile,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Generate a random PFX password and write it to NAME.pfx.password (owner-only).
    #[arg(long, conflicts_with = "password_file")]
    pub generate_password: bool,

    /// Do not write a PFX (no password is needed then).
    #[arg(long, conflicts_with_all = ["password_file", "generate_password"])]
    pub no_pfx: bool,

    /// Also write NAME.bundle.pem: the private key and the certificate (with a CA-issued one's chain) in one PEM
    /// (owner-only), as azure-identity's CertificateCredential and az login --service-principal --certificate take
    /// them.
    #[arg(long)]
    pub pem_bundle: bool,
}

/// Signature hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Hash {
    /// sha256WithRSAEncryption
    Sha256,
    /// sha384WithRSAEncryption
    Sha384,
    /// sha512WithRSAEncryption
    Sha512,
}

/// PFX encryption profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PfxProfile {
    /// PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC, HMAC-SHA256 MAC.
    Modern,
    /// pbeWithSHAAnd3-KeyTripleDES-CBC, HMAC-SHA1 MAC.
    Legacy,
}

/// Manifest format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Microsoft Graph (endDateTime, key, displayName): the current portal manifest and Graph API.
    Graph,
    /// Azure AD Graph (endDate, value): the older portal manifest.
    Legacy,
}

/// What a rotation may do: shared by `rotate` and `graph rotate`.
#[derive(Debug, Args, Clone)]
pub struct PolicyArgs {
    /// Only rotate when the newest valid credential ends within DAYS (otherwise report "not due" and change
    /// nothing), so a scheduled run adds a credential only when one is due.
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 30,
        conflicts_with = "force_renewal"
    )]
    pub renew_within: u32,

    /// Add the new credential even when the current one is not due (an early, deliberate rotation).
    #[arg(long)]
    pub force_renewal: bool,

    /// Remove credentials that have expired.
    #[arg(long)]
    pub prune_expired: bool,

    /// Keep at most N credentials, the new one included; the earliest-ending go first.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
}

/// The longest wait any `--timeout` takes: a week (a larger number would overflow the clock's arithmetic).
pub const MAX_SECONDS: u64 = 7 * 24 * 60 * 60;

/// A number of seconds for a `--timeout`: 1 to a week.
pub fn seconds(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if (1..=MAX_SECONDS).contains(&n) => Ok(n),
        _ => Err(format!(
            "{text:?} is not a number of seconds from 1 to {MAX_SECONDS} (a week)"
        )),
    }
}
