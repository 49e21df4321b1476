//! `keycred graph add-key` and `remove-key`.

use clap::{Args, Subcommand};
use std::path::PathBuf;

use super::shared::PasswordArgs;

/// `keycred graph …`
#[derive(Debug, Subcommand)]
pub enum GraphCommand {
    /// The POST /applications/{id}/addKey body: adds NEW beside the current credential, proven with the current key.
    AddKey(AddKeyArgs),
    /// The POST /applications/{id}/removeKey body: removes a credential by keyId, proven with the current key.
    RemoveKey(RemoveKeyArgs),
}

/// What every Graph proof needs.
#[derive(Debug, Args)]
pub struct ProofArgs {
    /// The application's object id (not its appId / client id).
    #[arg(long, value_name = "GUID")]
    pub object_id: String,

    /// PFX with the app's current certificate and key, which sign the proof.
    #[arg(long, value_name = "PFX")]
    pub current_pfx: PathBuf,

    /// Read the current PFX's password from the first line of this file (else KEYCRED_CURRENT_PFX_PASSWORD, else
    /// the --password-file / KEYCRED_PFX_PASSWORD source, else a prompt).
    #[arg(long, value_name = "PATH")]
    pub current_password_file: Option<PathBuf>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Write the body to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace --out if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// `keycred graph add-key`
#[derive(Debug, Args)]
#[command(
    after_help = "Send the body, within 10 minutes, as POST https://graph.microsoft.com/v1.0/applications/{object-id}/addKey with a Microsoft Graph token the app itself gets with its current certificate (keycred token --scope https://graph.microsoft.com/.default --pfx current.pfx ...).\n\nExample:\n  keycred graph add-key --object-id 2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c10 \\\n    --current-pfx current.pfx --cert next.cer --out addkey.json"
)]
pub struct AddKeyArgs {
    #[command(flatten)]
    pub proof: ProofArgs,

    /// The new certificate (DER, PEM, or PFX).
    #[arg(long, value_name = "CERT")]
    pub cert: PathBuf,
}

/// `keycred graph remove-key`
#[derive(Debug, Args)]
#[command(
    after_help = "Send the body, within 10 minutes, as POST https://graph.microsoft.com/v1.0/applications/{object-id}/removeKey with a Microsoft Graph token the app itself gets with its current certificate.\n\nExample:\n  keycred graph remove-key --object-id 2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c10 \\\n    --current-pfx current.pfx --key-id 8e2a5c1d-2b3f-4a6e-9c8d-7f6e5d4c3b2a"
)]
pub struct RemoveKeyArgs {
    #[command(flatten)]
    pub proof: ProofArgs,

    /// keyId of the credential to remove.
    #[arg(long, value_name = "GUID")]
    pub key_id: String,
}
