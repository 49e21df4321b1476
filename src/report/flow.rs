//! The proving flow: `decode`'s view of a token.

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::line;
use crate::time_fmt::rfc3339_utc;

/// The claims that matter for app-only tokens, in the order `decode` shows them.
const KEY_CLAIMS: [&str; 11] = [
    "aud", "iss", "roles", "azp", "appid", "tid", "ver", "idtyp", "sub", "nbf", "exp",
];

fn claim_time(claims: &Value, name: &str, now: OffsetDateTime) -> Option<String> {
    let at = claims.get(name)?.as_i64()?;
    let when = OffsetDateTime::from_unix_timestamp(at).ok()?;
    Some(format!(
        "{} ({})",
        rfc3339_utc(when),
        crate::flow::decode::relative(at, now)
    ))
}

/// `decode` as text: what matters first, then the whole header and claims.
pub fn decode_text(decoded: &crate::flow::decode::Decoded, now: OffsetDateTime) -> String {
    let claims = &decoded.claims;
    let mut out = String::new();
    for name in KEY_CLAIMS {
        let Some(value) = claims.get(name) else {
            continue;
        };
        let shown = match name {
            "nbf" | "exp" | "iat" => {
                claim_time(claims, name, now).unwrap_or_else(|| value.to_string())
            }
            _ => match value {
                Value::String(s) => s.clone(),
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            },
        };
        line(&mut out, name, shown);
    }
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
        if exp < now.unix_timestamp() {
            line(&mut out, "status", "EXPIRED");
        }
    }
    line(
        &mut out,
        "verified",
        if decoded.verified {
            format!("yes: {}", decoded.passed.join(", "))
        } else if decoded.passed.is_empty() {
            "no (give --verify-cert or --jwks to check the signature)".to_owned()
        } else {
            format!(
                "signature not checked; claims checked: {}",
                decoded.passed.join(", ")
            )
        },
    );
    out.push_str("header\n");
    out.push_str(&indent(&decoded.header));
    out.push_str("claims\n");
    out.push_str(&indent(claims));
    // The times readable, beside the claims (never among them: the claims are shown as the token has them).
    let times: Vec<(&str, String)> = ["iat", "nbf", "exp"]
        .into_iter()
        .filter_map(|name| Some((name, claim_time(claims, name, now)?)))
        .collect();
    if !times.is_empty() {
        out.push_str("times (UTC)\n");
        for (name, text) in times {
            out.push_str(&format!("  {name}  {text}\n"));
        }
    }
    out
}

fn indent(value: &Value) -> String {
    serde_json::to_string_pretty(value)
        .expect("JSON values serialize")
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect()
}

/// `decode --json`.
pub fn decode_json(decoded: &crate::flow::decode::Decoded, now: OffsetDateTime) -> Value {
    let times: Map<String, Value> = ["iat", "nbf", "exp"]
        .iter()
        .filter_map(|name| {
            Some((
                (*name).to_owned(),
                Value::String(claim_time(&decoded.claims, name, now)?),
            ))
        })
        .collect();
    json!({
        "header": decoded.header,
        "claims": decoded.claims,
        "times": times,
        "verified": decoded.verified,
        "checksPassed": decoded.passed,
    })
}
