//! `keycred manifest grant`.

use clap::Args;
use std::path::PathBuf;

/// `keycred manifest grant`
#[derive(Debug, Args)]
#[command(
    group(clap::ArgGroup::new("output").required(true).args(["in_place", "manifest_out", "dry_run"])),
    after_help = "The role ids come from the API's manifest. The client's other requiredResourceAccess entries (Microsoft Graph, other APIs), its certificates and every other field stay as they were. Then grant admin consent (portal: the client app > API permissions > Grant admin consent): until then the token has no roles.\n\nExamples:\n  keycred manifest grant --api api.json --client client.json --in-place\n  keycred manifest grant --api api.json --client client.json \\\n    --role Orders.Read --manifest-out client.granted.json"
)]
pub struct GrantArgs {
    /// The API (resource) app's manifest, either format: its appId and appRoles.
    #[arg(long, value_name = "API.json")]
    pub api: PathBuf,

    /// The client (daemon) app's manifest, either format.
    #[arg(long, value_name = "CLIENT.json")]
    pub client: PathBuf,

    /// The value of a role to grant (repeat for more); default: every enabled role the API offers to
    /// applications.
    #[arg(long = "role", value_name = "VALUE")]
    pub roles: Vec<String>,

    /// Write the merged manifest back to CLIENT.json (under a lock), keeping the original as CLIENT.json.bak (or
    /// .bak.N).
    #[arg(long, conflicts_with = "manifest_out")]
    pub in_place: bool,

    /// Write the merged manifest to FILE (atomically) instead.
    #[arg(long, value_name = "FILE")]
    pub manifest_out: Option<PathBuf>,

    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Replace --manifest-out FILE if it exists.
    #[arg(long, requires = "manifest_out")]
    pub force: bool,

    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
}
