//! `keycred templates`.

use clap::Args;

/// `keycred templates`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  keycred templates\n  keycred manifest app-roles --template read-write"
)]
pub struct TemplatesArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
