//! `keycred csr` and `keycred import`.

use std::path::PathBuf;

use clap::Args;

use super::shared::{Format, Hash, PfxOptions};

/// `keycred csr`
#[derive(Debug, Args)]
#[command(
    after_help = "The private key stays here (NAME.key, owner-only); NAME.csr goes to the CA (AD CS web enrollment, step-ca, openssl ca, a vendor). The request asks for digitalSignature and keyEncipherment key usage and the clientAuth extended key usage. Then bring what the CA returns back with keycred import.\n\nExample:\n  keycred csr --subject 'CN=Contoso Daemon,O=Contoso' --out certs --name daemon"
)]
pub struct CsrArgs {
    /// Subject: a name ("Contoso Daemon", becomes CN=Contoso Daemon) or a DN ("CN=Contoso Daemon,O=Contoso").
    #[arg(long, short = 's')]
    pub subject: String,

    /// A DNS name for the subject alternative names; repeat for more.
    #[arg(long, value_name = "NAME")]
    pub dns: Vec<String>,

    /// RSA key size in bits for the new key: 2048, 3072 or 4096.
    #[arg(
        long,
        value_name = "BITS",
        default_value_t = 2048,
        conflicts_with = "key"
    )]
    pub key_size: u32,

    /// Hash of the request's signature.
    #[arg(long, value_enum, default_value_t = Hash::Sha256)]
    pub hash: Hash,

    /// Make the request for this existing key (PKCS#8 PEM) instead of a new one.
    #[arg(long, value_name = "FILE", conflicts_with = "pkcs11_module")]
    pub key: Option<PathBuf>,

    /// Make the key inside a PKCS#11 token instead (sensitive, never extractable, labelled --pkcs11-key), and
    /// have the token sign the request: only NAME.csr is written. keycred import --pkcs11-… keeps the CA's
    /// answer in the token beside the key.
    #[command(flatten)]
    pub pkcs11: super::shared::Pkcs11Args,

    /// Folder to write NAME.key and NAME.csr into; created (owner-only) if it does not exist.
    #[arg(long, short = 'o', value_name = "DIR", default_value = ".")]
    pub out: PathBuf,

    /// Base name of the files; default: derived from the CN.
    #[arg(long, short = 'n')]
    pub name: Option<String>,

    /// Replace existing files (a key it replaces is kept as NAME.key.bak).
    #[arg(long)]
    pub force: bool,

    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `keycred import`
#[derive(Debug, Args)]
#[command(
    after_help = "Takes what the CA returned (DER, PEM, a PEM chain, or a PKCS#7 .p7b as AD CS web enrollment gives it), finds the certificate for --key, orders its chain, checks it (RSA of at least 2048 bits, a SHA-2 signature, valid now, key usage and extended key usage that allow client authentication, CA certificates valid now) and writes what keycred new writes: NAME.cer and NAME.pem of the certificate, NAME.chain.pem, NAME.pfx with the key and the whole chain, the optional bundle and the keyCredentials fragment.\n\nExample:\n  keycred import --cert issued.p7b --key ca-certs/daemon.key \\\n    --out ca-certs --name daemon --generate-password"
)]
pub struct ImportArgs {
    /// What the CA returned: DER, PEM, a PEM chain, or a PKCS#7 .p7b.
    #[arg(long, value_name = "ISSUED")]
    pub cert: PathBuf,

    /// More CA certificates (intermediates, the root), in any of those forms; repeat for more.
    #[arg(long, value_name = "FILE")]
    pub chain: Vec<PathBuf>,

    /// The private key the request was made with (keycred csr's NAME.key).
    #[arg(long, value_name = "NAME.key", required_unless_present_any = ["key_vault", "pkcs11_module"])]
    pub key: Option<PathBuf>,

    /// The request was the vault's (keycred new --key-vault URL --name NAME --ca): merge the answer into the
    /// vault's certificate NAME, whose key stays there; only CER, PEM and the keyCredentials fragment are written.
    #[arg(long, value_name = "URL", conflicts_with_all = [
        "key", "pfx_profile", "password_file", "generate_password", "no_pfx", "pem_bundle", "pkcs11_module"
    ])]
    pub key_vault: Option<String>,

    /// The request was a PKCS#11 token's (keycred csr --pkcs11-…): the answer's certificate for that key is kept
    /// in the token beside it; only CER, PEM and the keyCredentials fragment are written.
    #[command(flatten)]
    pub pkcs11: super::shared::Pkcs11Args,

    /// A bearer token for the vault, from the first line of this file; else from KEYCRED_VAULT_TOKEN.
    #[arg(long, value_name = "FILE", requires = "key_vault")]
    pub vault_token_file: Option<PathBuf>,

    /// Folder to write the files into; created (owner-only) if it does not exist.
    #[arg(long, short = 'o', value_name = "DIR", default_value = ".")]
    pub out: PathBuf,

    /// Base name of the files.
    #[arg(long, short = 'n')]
    pub name: String,

    #[command(flatten)]
    pub pfx: PfxOptions,

    /// Shape of the keyCredentials fragment.
    #[arg(long, value_enum, default_value_t = Format::Graph)]
    pub format: Format,

    /// Replace existing files (a PFX or password it replaces is kept as FILE.bak).
    #[arg(long)]
    pub force: bool,

    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
}
