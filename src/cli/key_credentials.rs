//! `keycred manifest key-credentials`.

use clap::Args;
use std::path::PathBuf;

use super::shared::{Format, PasswordArgs};

/// `keycred manifest key-credentials`
#[derive(Debug, Args)]
#[command(
    after_help = "Add the entries beside the app's existing keyCredentials, never over them: keycred rotate --cert CERT --manifest app.json does it safely.\n\nExamples:\n  keycred manifest key-credentials certs/daemon.cer\n  keycred manifest key-credentials --fragment \\\n    --format legacy certs/daemon.pem"
)]
pub struct KeyCredentialsArgs {
    /// Certificates (DER or PEM; every certificate in a bundle gets an entry) or PFX files.
    #[arg(required = true, value_name = "CERT")]
    pub certs: Vec<PathBuf>,

    /// Shape of the fragment.
    #[arg(long, value_enum, default_value_t = Format::Graph)]
    pub format: Format,

    /// Print only the "keyCredentials": [...] property, for the manifest editor: add its entries beside the
    /// existing ones (pasted over them, it removes the app's current certificates; `keycred rotate --cert CERT
    /// --manifest app.json` adds them safely).
    #[arg(long)]
    pub fragment: bool,

    /// Write to this file (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace --out if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,

    /// Emit entries for certificates that have expired (Entra refuses to add them; useful only for records).
    #[arg(long)]
    pub allow_expired: bool,

    #[command(flatten)]
    pub password: PasswordArgs,
}
