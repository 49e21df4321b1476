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

    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
}
