//! `keycred decode`: a token (a file or standard input) → the checks an API would make → what it says.

use keycred::workflow::prove::{self, DecodeRequest, KeySource};

use crate::cli::DecodeArgs;
use crate::terminal;

pub fn run(args: DecodeArgs) -> anyhow::Result<i32> {
    let source = if args.token == "-" {
        "standard input".to_owned()
    } else {
        args.token.clone()
    };
    let token = if args.token == "-" {
        String::from_utf8_lossy(&keycred::input::read_stdin()?)
            .trim()
            .to_owned()
    } else if looks_like_a_jwt(&args.token) {
        return Err(keycred::Error::Invalid(
            "the token is on the command line, where every user of the machine can see it (ps, shell history): \
             give a file that holds it, or - and the token on standard input (keycred decode - < token.txt)"
                .into(),
        )
        .into());
    } else {
        let path = std::path::Path::new(&args.token);
        String::from_utf8_lossy(&keycred::input::read_file(path)?)
            .trim()
            .to_owned()
    };
    let key = match (&args.verify_cert, &args.jwks) {
        (Some(cert), _) => Some(KeySource::Certificate(cert.clone())),
        (None, Some(jwks)) if jwks.starts_with("https://") || jwks.starts_with("http://") => {
            Some(KeySource::JwksUrl(jwks.clone()))
        }
        (None, Some(jwks)) => Some(KeySource::JwksFile(jwks.into())),
        (None, None) => None,
    };
    let request = DecodeRequest {
        token,
        key,
        audiences: args.audience.clone(),
        issuers: args.issuer.clone(),
        roles: args.require_role.clone(),
        any_roles: args.require_any_role.clone(),
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
    };
    let now = time::OffsetDateTime::now_utc();
    let passwords = super::password_sources(&args.password, None);
    // What the token itself fails (not a JWT, a signature, a claim) names where the token came from.
    let decoded = prove::decode(&request, &passwords, now).map_err(|error| match error {
        keycred::Error::TokenCheck(reason) => {
            keycred::Error::TokenCheck(format!("{source}: {reason}"))
        }
        other => other,
    })?;
    if args.json {
        terminal::print_json(&keycred::report::decode_json(&decoded, now));
    } else {
        terminal::print(&keycred::report::decode_text(&decoded, now));
    }
    Ok(keycred::exit::SUCCESS)
}

/// A compact JWS: three base64url parts, the first a JSON header (`eyJ`).
fn looks_like_a_jwt(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && text.starts_with("eyJ")
        && parts[..2].iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}
