//! `keycred inspect`.

use clap::Args;
use std::path::PathBuf;

use super::shared::PasswordArgs;

/// `keycred inspect`
#[derive(Debug, Args)]
#[command(
    after_help = "Reads DER and PEM certificates (single or bundles) and PFX files made by any tool; the content decides, not the name.\n\nExamples:\n  keycred inspect certs/daemon.cer\n  keycred inspect daemon.pfx --password-file daemon.pfx.password --json"
)]
pub struct InspectArgs {
    /// Certificates (DER or PEM, single or bundle) and PFX files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
