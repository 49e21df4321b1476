//! `keycred token`.

use clap::Args;

use super::shared::{AuthorityArg, ClientCertArgs, JwtAlg};

/// `keycred token`
#[derive(Debug, Args)]
#[command(
    after_help = "The access token goes to standard output. A client secret comes from --client-secret-file or KEYCRED_CLIENT_SECRET, never the command line. --cache keeps tokens in the user's cache folder ($XDG_CACHE_HOME/keycred/tokens.json on Linux), owner-only, keyed by authority, tenant, client id, scope and credential, and reuses one until 5 minutes before it expires.\n\nExample:\n  keycred token --tenant contoso.onmicrosoft.com \\\n    --client-id 11111111-2222-3333-4444-555555555555 \\\n    --scope api://contoso-orders/.default \\\n    --pfx daemon.pfx --password-file daemon.pfx.password"
)]
pub struct TokenArgs {
    /// Directory (tenant) id or domain.
    #[arg(long, value_name = "TENANT")]
    pub tenant: String,

    /// The app's Application (client) ID.
    #[arg(long, value_name = "CLIENT_ID")]
    pub client_id: String,

    /// The resource's .default scope (api://…/.default, https://graph.microsoft.com/.default).
    #[arg(long, value_name = "SCOPE")]
    pub scope: String,

    #[command(flatten)]
    pub credential: ClientCertArgs,

    /// Read a client secret from the first line of this file (instead of a certificate).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["pfx", "key", "cert", "key_vault"])]
    pub client_secret_file: Option<std::path::PathBuf>,

    /// Assertion signature algorithm.
    #[arg(long, value_enum, default_value_t = JwtAlg::Ps256)]
    pub alg: JwtAlg,

    #[command(flatten)]
    pub authority: AuthorityArg,

    /// Reuse a cached token valid for more than 5 minutes; store new ones.
    #[arg(long)]
    pub cache: bool,

    /// Seconds to wait for the token endpoint.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = super::shared::seconds)]
    pub timeout: u64,

    /// Print access_token, token_type, expires_in, expires_on and fromCache as JSON.
    #[arg(long)]
    pub json: bool,
}
