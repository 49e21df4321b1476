//! `keycred decode`.

use clap::Args;

use super::shared::PasswordArgs;

/// `keycred decode`
#[derive(Debug, Args)]
#[command(
    after_help = "Exit code 1 when a check fails, naming the claim (expired, audience, issuer, signature, missing role). Without --verify-cert or --jwks nothing is verified: the token is only shown. The token comes from a file or standard input, never the command line (which every user of the machine can see).\n\nExample:\n  keycred token … | keycred decode - \\\n    --jwks https://login.microsoftonline.com/contoso.onmicrosoft.com/discovery/v2.0/keys \\\n    --audience api://contoso-orders --require-role Orders.Read"
)]
pub struct DecodeArgs {
    /// A file holding the JWT, or - to read it from standard input. Never the token itself: a command line is
    /// visible to every user of the machine.
    #[arg(value_name = "TOKEN_FILE|-")]
    pub token: String,

    /// Verify the signature with this certificate (DER, PEM or PFX).
    #[arg(long, value_name = "FILE", conflicts_with = "jwks")]
    pub verify_cert: Option<std::path::PathBuf>,

    /// Verify the signature with a JWKS file or URL (https://…/discovery/v2.0/keys).
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: Option<String>,

    /// An audience the API accepts (aud); repeat to accept any of several.
    #[arg(long, value_name = "AUD")]
    pub audience: Vec<String>,

    /// An issuer the API accepts (iss); repeat to accept any of several (v1 and v2).
    #[arg(long, value_name = "ISS")]
    pub issuer: Vec<String>,

    /// A role the token must carry; repeat for more (all are required).
    #[arg(long, value_name = "ROLE")]
    pub require_role: Vec<String>,

    /// A role of which the token must carry at least one; repeat to list them (API Management's match="any").
    #[arg(long, value_name = "ROLE")]
    pub require_any_role: Vec<String>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Seconds to wait for a JWKS URL.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = super::shared::seconds)]
    pub timeout: u64,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
