//! `keycred batch`.

use clap::Args;

use super::graph::GraphConnectArgs;
use std::path::PathBuf;

/// `keycred batch`
#[derive(Debug, Args)]
#[command(
    after_help = "The plan (TOML) has a [defaults] table and one [[app]] table per app with name, subject, and optionally manifest (rotate it in place, keeping a backup) and any of out, days, not_after, key_size, hash, pfx_profile, format, renew_within (default 30), prune_expired, keep, no_pfx, pem_bundle, and ca = true (with ca_chain = [\"FILE\", ...]) to take each rotated app's new certificate from your CA in two runs, as rotate --ca does (requests first, imports once the answers are beside them). A row with graph = true and app_id (instead of manifest) rotates that app in the tenant through Microsoft Graph, as keycred graph rotate --app APP_ID --apply does (the connection options below; the subject may be left out). Files go to OUT/NAME/. Apps whose credential is not due are skipped, so re-running a finished plan changes nothing. Exit code 1 if any app failed; 130/143 when interrupted.\n\nA plan:\n  [defaults]\n  out = \"certs\"\n  renew_within = 30\n\n  [[app]]\n  name = \"orders\"\n  subject = \"CN=Orders Daemon\"\n  manifest = \"manifests/orders.json\"\n\nExample:\n  keycred batch plan.toml --generate-password --report report.json"
)]
pub struct BatchArgs {
    /// The plan file.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,

    /// How many apps to work on at once (default: the number of cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    /// Write a JSON report of every app's result to FILE, replacing an earlier run's report (atomically); a FILE
    /// that is not a keycred report is never replaced.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Read the PFX password (shared by all apps) from the first line of this file.
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<PathBuf>,

    /// Give each app its own random PFX password, written to OUT/NAME/NAME.pfx.password.
    #[arg(long, conflicts_with = "password_file")]
    pub generate_password: bool,

    /// No longer needed: an earlier report is always replaced (kept so that existing scripts still run).
    #[arg(long, requires = "report", hide = true)]
    pub force: bool,

    /// Print the report (every app's result, the counts) as JSON on standard output instead of the table.
    #[arg(long)]
    pub json: bool,

    /// How rows with graph = true reach Microsoft Graph (as for keycred graph rotate).
    #[command(flatten)]
    pub graph: GraphConnectArgs,
}
