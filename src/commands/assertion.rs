//! `keycred assertion`: clap arguments → an assertion request → the signed JWT.

use keycred::flow::assertion::AssertionRequest;
use keycred::flow::authority::Authority;
use keycred::workflow::prove;
use serde_json::json;

use crate::cli::AssertionArgs;
use crate::terminal;

pub fn run(args: AssertionArgs) -> anyhow::Result<i32> {
    let request = AssertionRequest {
        tenant: args.tenant.clone(),
        client_id: args.client_id.clone(),
        authority: Authority::parse(&args.authority.url)?,
        algorithm: args.alg.into(),
        lifetime: time::Duration::seconds(args.lifetime),
    };
    let source = super::credential_source(
        &args.credential,
        &args.authority.url,
        std::time::Duration::from_secs(60),
    )?
    .ok_or_else(|| {
        keycred::Error::Invalid(
            "give the credential that signs: --pfx FILE, --key FILE --cert FILE, or --key-vault URL --vault-cert \
             NAME"
                .into(),
        )
    })?;
    let passwords = super::password_sources(&args.credential.password, None);
    let signed = prove::assertion(
        &source,
        &request,
        &passwords,
        time::OffsetDateTime::now_utc(),
    )?;
    if args.json {
        terminal::print_json(&json!({
            "header": signed.header,
            "claims": signed.claims,
            "assertion": signed.token,
        }));
    } else {
        terminal::print(&format!("{}\n", signed.token));
    }
    Ok(keycred::exit::SUCCESS)
}
