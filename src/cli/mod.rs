//! The command line, declared with clap: one file per command (or command group), mirroring `commands/`, and
//! the option groups several commands share in [`shared`]. Raw data only: `commands::*` validates it into library
//! requests. Help text lives in the doc comments.

mod api_policy;
mod app_roles;
mod assertion;
mod batch;
mod check;
mod config;
mod csr;
mod decode;
mod doctor;
mod grant;
mod graph;
mod inspect;
mod key_credentials;
mod new;
mod rotate;
mod shared;
mod templates;
mod thumbprint;
mod token;

pub use api_policy::*;
pub use app_roles::*;
pub use assertion::*;
pub use batch::*;
pub use check::*;
pub use config::*;
pub use csr::*;
pub use decode::*;
pub use doctor::*;
pub use grant::*;
pub use graph::*;
pub use inspect::*;
pub use key_credentials::*;
pub use new::*;
pub use rotate::*;
pub use shared::*;
pub use templates::*;
pub use thumbprint::*;
pub use token::*;

use clap::{Args, Parser, Subcommand};

/// Prepare and prove certificate credentials for Microsoft Entra ID app registrations.
///
/// keycred makes RSA keys with self-signed certificates or requests for your CA, exports CER, PEM, PKCS#8, PFX
/// and bundles, computes every thumbprint form, writes the keyCredentials, appRoles and requiredResourceAccess
/// JSON of the manifests, gets a token as the daemon will, configures the daemon and the API, finds why a flow
/// fails, and rotates certificates in manifest files or in the tenant through Microsoft Graph.
#[derive(Debug, Parser)]
#[command(
    name = "keycred",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Exit codes: 0 success, 1 failure, 2 usage error, 3 renewal due, 4 expired, 130 cancelled."
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// keycred's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an RSA key and a self-signed certificate, with CER, PEM, key, PFX and keyCredentials files.
    New(NewArgs),
    /// A private key and a certificate request (PKCS#10) for the organisation's CA.
    Csr(Box<CsrArgs>),
    /// What the CA returned (DER, PEM, chain, .p7b) made into keycred's files: CER, PEM, PFX with the chain,
    /// keyCredentials.
    Import(Box<ImportArgs>),
    /// Show what a certificate or PFX holds: subject, validity, key, thumbprints, expiry.
    Inspect(InspectArgs),
    /// Print certificate thumbprints (SHA-1 hex, base64, x5t, SHA-256 hex, x5t#S256).
    Thumbprint(ThumbprintArgs),
    /// Emit app-registration manifest fragments.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// List the built-in app-role templates.
    Templates(TemplatesArgs),
    /// Report credential expiry in manifests or certificates; the exit code says whether renewal is due.
    Check(CheckArgs),
    /// Add a new certificate credential to a manifest beside the current one; prune what the policy says.
    Rotate(Box<RotateArgs>),
    /// Be walked through a credential, app roles or a rotation interactively (needs a terminal).
    #[command(
        after_help = "Nothing is written before you confirm the summary; Esc or Ctrl-C cancels (exit 130). It ends by printing the same run as commands.\n\nExample:\n  keycred wizard"
    )]
    Wizard,
    /// Provision or rotate many app registrations from a plan file, in parallel.
    Batch(BatchArgs),
    /// The tenant through Microsoft Graph: scan the app registrations, show one, rotate their certificates (a
    /// plan, then --apply), and the addKey / removeKey bodies an app sends itself.
    #[command(subcommand)]
    Graph(GraphCommand),
    /// Sign a client assertion (the JWT an app sends instead of a secret) with a certificate credential.
    Assertion(AssertionArgs),
    /// Request an app-only access token (client credentials flow) with a certificate or a secret.
    Token(Box<TokenArgs>),
    /// Show what a JWT says, and check it as an API would: signature, expiry, audience, issuer, roles.
    Decode(DecodeArgs),
    /// Print what the daemon that uses the credential needs: environment variables, a library snippet, appsettings.
    Config(Box<ConfigArgs>),
    /// Find why the client credentials flow will fail: client, API, credential, scope, token and rules checked
    /// against each other, each finding with its symptom and fix.
    Doctor(Box<DoctorArgs>),
    /// Print the token checks an API makes: an API Management validate-jwt policy, or rules for any middleware.
    ApiPolicy(ApiPolicyArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Example:\n  keycred completions bash > ~/.local/share/bash-completion/completions/keycred"
    )]
    Completions(CompletionsArgs),
    /// Print keycred's man page (roff), or write one page per command with --out.
    #[command(
        after_help = "It writes keycred.1 and one page per command (keycred-new.1, keycred-graph-rotate.1, ...).\n\nExamples:\n  keycred man --out ~/.local/share/man/man1\n  keycred man > keycred.1"
    )]
    Man(ManArgs),
}

/// `keycred man`
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write keycred.1 and a page for every command (keycred-new.1, keycred-graph-rotate.1, ...) into this folder,
    /// created if it does not exist; without it the top page goes to standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,

    /// Replace pages that exist (from an earlier version).
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// `keycred completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `keycred manifest …`
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// The keyCredentials fragment for existing certificates (from openssl, Key Vault, anything).
    KeyCredentials(KeyCredentialsArgs),
    /// The appRoles fragment of a resource (API) app, and the client app's requiredResourceAccess.
    AppRoles(Box<AppRolesArgs>),
    /// Grant the API's application roles to the client app: merge them into its manifest's requiredResourceAccess.
    Grant(GrantArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
