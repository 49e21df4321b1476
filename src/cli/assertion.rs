//! `keycred assertion`.

use clap::Args;

use super::shared::{AuthorityArg, ClientCertArgs, JwtAlg};

/// `keycred assertion`
#[derive(Debug, Args)]
#[command(
    after_help = "The assertion goes to standard output as one line; --json adds its header and claims. PFX password: --password-file, KEYCRED_PFX_PASSWORD, or a prompt on a terminal.\n\nExample:\n  keycred assertion --tenant contoso.onmicrosoft.com \\\n    --client-id 11111111-2222-3333-4444-555555555555 \\\n    --pfx daemon.pfx --password-file daemon.pfx.password"
)]
pub struct AssertionArgs {
    /// Directory (tenant) id or domain.
    #[arg(long, value_name = "TENANT")]
    pub tenant: String,

    /// The app's Application (client) ID.
    #[arg(long, value_name = "CLIENT_ID")]
    pub client_id: String,

    #[command(flatten)]
    pub credential: ClientCertArgs,

    /// Signature algorithm.
    #[arg(long, value_enum, default_value_t = JwtAlg::Ps256)]
    pub alg: JwtAlg,

    /// Seconds the assertion is valid (at most 600).
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub lifetime: i64,

    #[command(flatten)]
    pub authority: AuthorityArg,

    /// Print header, claims and token as JSON.
    #[arg(long)]
    pub json: bool,
}
