//! `keycred manifest app-roles`.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

use super::shared::Format;

/// `keycred manifest app-roles`
#[derive(Debug, Args)]
#[command(
    after_help = "Roles come from --template/--template-file, --roles-file and --role, in that order. --display-name, --description and --member-types describe the --role they follow. Without them keycred derives a display name (Resource.Read -> \"Resource Read\") and a description (\"Grants applications the Resource.Read role.\").\n\nExamples:\n  keycred manifest app-roles --template read-write \\\n    --stable-ids api://contoso-orders\n  keycred manifest app-roles \\\n    --role 'Orders.Read:Read orders:Allow the app to read orders.' \\\n    --role Orders.Admin --member-types both\n  keycred manifest app-roles --template read-write --client-app \\\n    --resource-app-id 11111111-2222-3333-4444-555555555555\n  keycred manifest app-roles --merge app.json --role Orders.Write --in-place"
)]
pub struct AppRolesArgs {
    /// A role: VALUE, or VALUE:DISPLAY NAME:DESCRIPTION (VALUE ends at the first ':'; a value containing ':' needs --roles-file). Repeat for more roles.
    #[arg(long = "role", value_name = "SPEC")]
    pub roles: Vec<String>,

    /// Display name of the --role it follows.
    #[arg(long, value_name = "TEXT")]
    pub display_name: Vec<String>,

    /// Description of the --role it follows.
    #[arg(long, value_name = "TEXT")]
    pub description: Vec<String>,

    /// Who can hold the --role it follows (default: application).
    #[arg(long, value_enum)]
    pub member_types: Vec<MemberTypes>,

    /// Roles from a file: JSON (an array of appRole objects) or TOML ([[role]] tables).
    #[arg(long, value_name = "FILE")]
    pub roles_file: Option<PathBuf>,

    /// Roles from a built-in template (see `keycred templates`).
    #[arg(long, value_name = "NAME", conflicts_with = "template_file")]
    pub template: Option<String>,

    /// Roles from your own template file (TOML, the shape of templates/*.toml).
    #[arg(long, value_name = "FILE")]
    pub template_file: Option<PathBuf>,

    /// Derive role ids (UUID v5) from NAMESPACE and each value, so reruns give the same ids. NAMESPACE: a UUID (e.g. the app's appId) or any text.
    #[arg(long, value_name = "NAMESPACE")]
    pub stable_ids: Option<String>,

    /// Manifest shape; with --merge, detected from the file.
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Print only the properties, for pasting into the manifest editor.
    #[arg(long, conflicts_with = "merge")]
    pub fragment: bool,

    /// Also emit the client app's requiredResourceAccess for these roles.
    #[arg(long, requires = "resource_app_id")]
    pub client_app: bool,

    /// The resource app's appId (client id), for --client-app.
    #[arg(long, value_name = "GUID", requires = "client_app")]
    pub resource_app_id: Option<String>,

    /// Add this identifier URI (api://… or https://…) and ask for v2 access tokens.
    #[arg(long, value_name = "URI")]
    pub identifier_uri: Option<String>,

    /// Merge into this app manifest (Graph or legacy format): same-value roles keep their ids, every other field is kept.
    #[arg(long, value_name = "MANIFEST")]
    pub merge: Option<PathBuf>,

    /// Set isEnabled: false on this role of the merged manifest (the step before removing it).
    #[arg(long, value_name = "VALUE", requires = "merge")]
    pub disable: Vec<String>,

    /// Remove this role from the merged manifest; it must already be disabled there.
    #[arg(long, value_name = "VALUE", requires = "merge")]
    pub remove: Vec<String>,

    /// Write the resource app's output to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Write the merged manifest back to MANIFEST (under a lock), keeping the original as MANIFEST.bak (or
    /// MANIFEST.bak.N when earlier backups exist).
    #[arg(long, requires = "merge", conflicts_with = "out")]
    pub in_place: bool,

    /// Write the client app's requiredResourceAccess to FILE.
    #[arg(long, value_name = "FILE", requires = "client_app")]
    pub client_out: Option<PathBuf>,

    /// Replace --out / --client-out if they exist.
    #[arg(long)]
    pub force: bool,
}

/// Who can hold a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MemberTypes {
    /// Applications (application permission; the client credentials flow).
    Application,
    /// Users and groups.
    User,
    /// Both.
    Both,
}
