//! `keycred check`.

use clap::Args;
use std::path::PathBuf;

use super::shared::{Format, PasswordArgs};

/// `keycred check`
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 healthy, 3 renewal due (the newest valid credential ends within --warn-days), 4 no credential is valid now, 1 an input could not be read or is invalid (a repeated keyId), 2 usage. With several inputs the worst verdict wins. Expired leftovers beside a valid credential are listed as prunable but do not change the verdict.\n\nExamples:\n  keycred check app.json\n  keycred check --warn-days 45 --json manifests/*.json"
)]
pub struct CheckArgs {
    /// App manifests (Graph or legacy format) or certificate files (DER, PEM, PFX).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Renewal is due when the newest valid credential ends within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: u32,

    /// Manifest shape, when a manifest does not show it (e.g. no credentials yet).
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Print JSON for monitoring systems.
    #[arg(long)]
    pub json: bool,
}
