//! `keycred rotate`.

use clap::Args;
use std::path::PathBuf;

use super::shared::{CredentialOptions, Format, PolicyArgs};

/// `keycred rotate`
#[derive(Debug, Args)]
#[command(
    after_help = "The new credential is added beside the current one; nothing else in the manifest changes. Its files are named NAME-YYYYMMDD after the certificate's start date (NAME from --name, else the CN; -2, -3, ... when that name is taken), so they never replace the current credential's files. Without --in-place or --manifest-out the updated manifest goes to standard output and the summary to standard error.\n\nExamples:\n  keycred rotate --manifest app.json --subject 'CN=Orders Daemon' \\\n    --out certs --generate-password --prune-expired --in-place\n  keycred rotate --manifest app.json --cert next.cer --in-place\n  keycred rotate --manifest app.json --ca --out certs --in-place   (twice: request, then import)\n  keycred rotate --manifest app.json \\\n    --remove-key-id 00000000-0000-0000-0000-000000000000 --in-place"
)]
pub struct RotateArgs {
    /// The app manifest (Graph or legacy format) to add the new credential to.
    #[arg(long, value_name = "MANIFEST")]
    pub manifest: PathBuf,

    /// Subject of the new certificate (as for `new`); default: the subject of the manifest's newest credential.
    #[arg(long, short = 's', conflicts_with = "cert")]
    pub subject: Option<String>,

    /// Rotate in a certificate made elsewhere instead of making one. It is added whenever the manifest does not
    /// hold it yet: the renewal window only decides whether keycred makes a certificate.
    #[arg(long, value_name = "CERT")]
    pub cert: Option<PathBuf>,

    /// Take the new certificate from your organisation's CA, in two runs. The first that finds the app due writes
    /// NAME-YYYYMMDD.key and NAME-YYYYMMDD.csr and adds nothing; send the request to the CA, put its answer beside
    /// the request as NAME-YYYYMMDD.issued.cer (or .crt, .pem, .p7b), and run again: keycred imports it as keycred
    /// import does and adds it. The CA decides the validity.
    #[arg(long, conflicts_with_all = ["cert", "days", "years", "not_after", "no_key"])]
    pub ca: bool,

    /// A DNS name for --ca's request (subject alternative names); repeat for more. Without it the request carries
    /// the current certificate's DNS names.
    #[arg(long, value_name = "NAME", requires = "ca")]
    pub dns: Vec<String>,

    /// More CA certificates (intermediates, the root) for --ca's import, when the answer lacks them; repeat for more.
    #[arg(long, value_name = "FILE", requires = "ca")]
    pub chain: Vec<PathBuf>,

    /// The manifest's format, when its fields cannot tell (a manifest with id and appId is the Graph format).
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Remove the credential with this keyId (as az ad app credential delete --key-id does); repeat for more.
    /// A still-valid one is removed with a warning; the app's last valid credential never is. Alone (without
    /// --subject or --cert) it only removes.
    #[arg(long, value_name = "GUID")]
    pub remove_key_id: Vec<String>,

    #[command(flatten)]
    pub credential: CredentialOptions,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Write the updated manifest here (atomically).
    #[arg(long, value_name = "FILE", conflicts_with = "in_place")]
    pub manifest_out: Option<PathBuf>,

    /// Replace MANIFEST (atomically, under a lock), keeping the original as MANIFEST.bak (or MANIFEST.bak.N when
    /// earlier backups exist).
    #[arg(long)]
    pub in_place: bool,

    /// Also write the Graph PATCH /applications/{id} body: the whole keyCredentials collection to keep.
    #[arg(long, value_name = "FILE")]
    pub patch_out: Option<PathBuf>,

    /// Also write the Graph addKey body for the new certificate (the route that keeps credentials whose key Graph
    /// does not return), proven with --current-pfx, to FILE.
    #[arg(long, value_name = "FILE", requires_all = ["object_id", "current_pfx"])]
    pub add_key_proof: Option<PathBuf>,

    /// The application's object id, for --add-key-proof.
    #[arg(long, value_name = "GUID", requires = "add_key_proof")]
    pub object_id: Option<String>,

    /// PFX with the app's current certificate and key, which sign the addKey proof.
    #[arg(long, value_name = "PFX", requires = "add_key_proof")]
    pub current_pfx: Option<PathBuf>,

    /// Read the current PFX's password from the first line of this file (else KEYCRED_CURRENT_PFX_PASSWORD, else
    /// the --password-file / KEYCRED_PFX_PASSWORD source, else a prompt).
    #[arg(long, value_name = "PATH", requires = "current_pfx")]
    pub current_password_file: Option<PathBuf>,

    /// When the manifest repeats a keyId (which Entra rejects), give each later credential with it a new keyId
    /// instead of refusing.
    #[arg(long)]
    pub repair_key_ids: bool,

    /// Show the plan and the keyCredentials diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print a JSON summary (needs --in-place, --manifest-out or --dry-run, so that stdout holds only JSON).
    #[arg(long)]
    pub json: bool,
}
