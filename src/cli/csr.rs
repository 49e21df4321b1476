//! `keycred csr`.

use std::path::PathBuf;

use clap::Args;

use super::shared::Hash;

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
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

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
