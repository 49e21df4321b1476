//! `keycred api-policy`.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

use super::shared::AuthorityArg;

/// `keycred api-policy`
#[derive(Debug, Args)]
#[command(
    after_help = "The issuers follow the token version Entra issues for the API: v1 tokens (the registration's default, requestedAccessTokenVersion null or 1) come from https://sts.windows.net/{tenant}/, v2 tokens from https://login.microsoftonline.com/{tenant}/v2.0. With --manifest the version, and the audiences when --audience is not given (identifierUris for v1, appId for v2), come from the API's registration, and every --role must be one of its application roles. --format apim prints a whole <policies> document: to add the check to an existing policy, copy its <validate-jwt> element into <inbound>. --format json prints the same rules and the keycred decode command line that applies them.\n\nExamples:\n  keycred api-policy --tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 --manifest orders-api.json --role Orders.Read\n  keycred api-policy --tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 --audience api://contoso-orders \\\n    --token-version 1 --role Orders.Read --format json"
)]
pub struct ApiPolicyArgs {
    /// The directory (tenant) ID, a GUID: issuers name the tenant by its id.
    #[arg(long, value_name = "TENANT_ID")]
    pub tenant: String,

    /// An audience the API accepts (its App ID URI for v1 tokens, its client id for v2); repeat for more.
    #[arg(long, value_name = "AUD")]
    pub audience: Vec<String>,

    /// An application role of which a token must carry at least one; repeat for more.
    #[arg(long, value_name = "ROLE")]
    pub role: Vec<String>,

    /// The access-token versions the API accepts (required without --manifest).
    #[arg(long, value_enum)]
    pub token_version: Option<TokenVersionArg>,

    /// The API's app manifest (Graph or legacy format): its token version, audiences and roles.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,

    /// What to print.
    #[arg(long, value_enum, default_value_t = PolicyFormat::Apim)]
    pub format: PolicyFormat,

    #[command(flatten)]
    pub authority: AuthorityArg,

    /// Write to this file instead of standard output (never over a file without --force).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace --out if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Access-token versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenVersionArg {
    /// v1.0 tokens (issuer https://sts.windows.net/{tenant}/).
    #[value(name = "1")]
    V1,
    /// v2.0 tokens (issuer https://login.microsoftonline.com/{tenant}/v2.0).
    #[value(name = "2")]
    V2,
    /// Both, while the API moves from one to the other.
    Both,
}

/// What `keycred api-policy` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyFormat {
    /// Azure API Management policy XML with validate-jwt.
    Apim,
    /// Issuers, audiences, JWKS URL and roles as JSON, with the matching keycred decode command.
    Json,
}
