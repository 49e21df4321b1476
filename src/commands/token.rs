//! `keycred token`: clap arguments → a token request → the access token.

use keycred::flow::authority::Authority;
use keycred::flow::token::{self, TokenRequest};
use keycred::workflow::prove;
use serde_json::json;

use crate::cli::TokenArgs;
use crate::terminal;

pub fn run(args: TokenArgs) -> anyhow::Result<i32> {
    let cache = if args.cache {
        Some(token::default_cache_path().ok_or_else(|| {
            keycred::Error::Invalid(
                "--cache: this system has no user cache folder (set XDG_CACHE_HOME)".into(),
            )
        })?)
    } else {
        None
    };
    let request = TokenRequest {
        authority: Authority::parse(&args.authority.url)?,
        tenant: args.tenant.clone(),
        client_id: args.client_id.clone(),
        scope: args.scope.clone(),
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        cache,
    };
    // The scope is checked before anything is read or asked for.
    token::check_scope(&request.scope)?;
    let credential = super::token_credential(
        super::credential_source(&args.credential, &args.authority.url, request.timeout)?
            .map(|source| (source, args.alg.into())),
        args.client_secret_file.as_ref(),
        "give the app's credential",
    )?;
    let passwords = super::password_sources(&args.credential.password, None);
    let got = prove::token(
        &request,
        &credential,
        &passwords,
        time::OffsetDateTime::now_utc(),
    )?;
    if args.json {
        terminal::print_json(&json!({
            "access_token": got.access_token,
            "token_type": got.token_type,
            "expires_in": got.expires_in,
            "expires_on": got.expires_on,
            "fromCache": got.from_cache,
        }));
    } else {
        terminal::print(&format!("{}\n", got.access_token));
    }
    Ok(keycred::exit::SUCCESS)
}
