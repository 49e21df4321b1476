//! Token inspection: what a JWT (an access token or a client assertion) says, and, given the signer's
//! certificate or a JWKS, whether an API would accept it: signature, `exp`/`nbf` (five minutes' skew), audience,
//! issuer and roles. Signature and time checks are `jsonwebtoken`'s, on the aws-lc-rs backend.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;
use time::OffsetDateTime;

use crate::credential::{CertificateInfo, KeyKind};
use crate::error::{Error, Result};

/// The clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 300;

/// What verifies the signature.
#[derive(Debug, Clone)]
pub enum VerifyKey {
    /// The signer's certificate.
    Certificate(Box<CertificateInfo>),
    /// A JSON Web Key Set (the key is chosen by `kid`, else `x5t`).
    Jwks(JwkSet),
}

/// What an API would check.
#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// The signature's key; without one, nothing is verified and times are only shown.
    pub key: Option<VerifyKey>,
    /// The `aud` values the API accepts (any one of them); empty: not checked.
    pub audiences: Vec<String>,
    /// The `iss` values the API accepts (any one of them); empty: not checked.
    pub issuers: Vec<String>,
    /// Roles the token must all carry in `roles`.
    pub roles: Vec<String>,
    /// Roles of which the token must carry at least one (API Management's `match="any"`); empty: not checked.
    pub any_roles: Vec<String>,
}

/// A decoded token.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The header.
    pub header: Value,
    /// The claims.
    pub claims: Value,
    /// Whether the signature (and `exp`/`nbf`) were verified.
    pub verified: bool,
    /// Each check that passed, in words.
    pub passed: Vec<String>,
}

/// Splits and decodes a compact JWT without verifying anything.
pub fn parse(token: &str) -> Result<(Value, Value)> {
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(Error::TokenCheck(format!(
            "not a JWT: a compact JWT has three dot-separated parts, this has {}",
            parts.len()
        )));
    }
    let part = |index: usize, name: &str| -> Result<Value> {
        let bytes = URL_SAFE_NO_PAD
            .decode(parts[index].trim_end_matches('='))
            .map_err(|_| Error::TokenCheck(format!("not a JWT: the {name} is not base64url")))?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|_| Error::TokenCheck(format!("not a JWT: the {name} is not JSON")))?;
        if !value.is_object() {
            return Err(Error::TokenCheck(format!(
                "not a JWT: the {name} is not a JSON object"
            )));
        }
        Ok(value)
    };
    Ok((part(0, "header")?, part(1, "payload")?))
}

/// Decodes `token` and applies `checks`; the first failed check is an error naming the claim.
pub fn decode(token: &str, checks: &Checks, now: OffsetDateTime) -> Result<Decoded> {
    let (header, claims) = parse(token)?;
    let mut passed = Vec::new();
    let verified = match &checks.key {
        Some(key) => {
            verify(token.trim(), &header, key, now)?;
            passed.push("signature".to_owned());
            passed.push("exp/nbf (5 min skew)".to_owned());
            true
        }
        None => false,
    };
    let one_of = |values: &[String]| match values {
        [one] => format!("{one:?}"),
        many => format!("any of {many:?}"),
    };
    if !checks.audiences.is_empty() {
        let found = match claims.get("aud") {
            Some(Value::String(aud)) => checks.audiences.iter().find(|a| *a == aud),
            Some(Value::Array(auds)) => checks
                .audiences
                .iter()
                .find(|a| auds.iter().any(|aud| aud.as_str() == Some(a.as_str()))),
            _ => None,
        };
        let Some(found) = found else {
            return Err(Error::TokenCheck(format!(
                "audience: the token's aud is {}, not {} (a v1 token's aud is the API's App ID URI, a v2 token's its client id)",
                claims.get("aud").map_or("missing".into(), Value::to_string),
                one_of(&checks.audiences)
            )));
        };
        passed.push(format!("aud = {found}"));
    }
    if !checks.issuers.is_empty() {
        let iss = claims.get("iss").and_then(Value::as_str);
        let Some(found) = checks.issuers.iter().find(|i| Some(i.as_str()) == iss) else {
            let version = match claims.get("ver").and_then(Value::as_str) {
                Some(ver) => format!(" (ver {ver})"),
                None => String::new(),
            };
            return Err(Error::TokenCheck(format!(
                "issuer: the token's iss is {}{version}, not {} (a v1 token's issuer is https://sts.windows.net/{{tenant}}/, a v2 token's https://login.microsoftonline.com/{{tenant}}/v2.0: the API app's accessTokenAcceptedVersion decides which Entra issues)",
                claims.get("iss").map_or("missing".into(), Value::to_string),
                one_of(&checks.issuers)
            )));
        };
        passed.push(format!("iss = {found}"));
    }
    let roles: Vec<&str> = claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for role in &checks.roles {
        if !roles.contains(&role.as_str()) {
            return Err(Error::TokenCheck(format!(
                "missing role {role:?}: the token's roles are [{}]; grant the app this application permission and admin consent",
                roles.join(", ")
            )));
        }
        passed.push(format!("role {role}"));
    }
    if !checks.any_roles.is_empty() {
        let Some(found) = checks
            .any_roles
            .iter()
            .find(|r| roles.contains(&r.as_str()))
        else {
            return Err(Error::TokenCheck(format!(
                "missing role: the token's roles are [{}], and the API requires one of [{}]; grant the app one of these application permissions and admin consent",
                roles.join(", "),
                checks.any_roles.join(", ")
            )));
        };
        passed.push(match checks.any_roles.len() {
            1 => format!("role {found}"),
            n => format!("role {found} (one of {n})"),
        });
    }
    Ok(Decoded {
        header,
        claims,
        verified,
        passed,
    })
}

fn verify(token: &str, header: &Value, key: &VerifyKey, now: OffsetDateTime) -> Result<()> {
    let alg: jsonwebtoken::Algorithm = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| {
            Error::TokenCheck("signature: the header's alg is missing or unknown".into())
        })?;
    if !matches!(
        alg,
        jsonwebtoken::Algorithm::RS256
            | jsonwebtoken::Algorithm::RS384
            | jsonwebtoken::Algorithm::RS512
            | jsonwebtoken::Algorithm::PS256
            | jsonwebtoken::Algorithm::PS384
            | jsonwebtoken::Algorithm::PS512
            | jsonwebtoken::Algorithm::ES256
            | jsonwebtoken::Algorithm::ES384
    ) {
        return Err(Error::TokenCheck(format!(
            "signature: alg {alg:?} is not a public-key algorithm; refused"
        )));
    }
    let decoding = match key {
        VerifyKey::Certificate(cert) => {
            for (field, expected) in [
                ("x5t", cert.thumbprints.sha1.as_slice()),
                ("x5t#S256", cert.thumbprints.sha256.as_slice()),
            ] {
                // MSAL sends x5t with base64 padding: compare the bytes.
                if let Some(given) = header.get(field).and_then(Value::as_str) {
                    if URL_SAFE_NO_PAD
                        .decode(given.trim_end_matches('='))
                        .ok()
                        .as_deref()
                        != Some(expected)
                    {
                        return Err(Error::TokenCheck(format!(
                            "signature: the token's {field} names another certificate than {}",
                            cert.subject
                        )));
                    }
                }
            }
            match cert.key {
                KeyKind::Rsa { .. } => DecodingKey::from_rsa_der(cert.subject_public_key()),
                KeyKind::Ec { .. } => DecodingKey::from_ec_der(cert.subject_public_key()),
                _ => {
                    return Err(Error::TokenCheck(format!(
                        "signature: the certificate's key ({}) cannot verify JWTs",
                        cert.key
                    )))
                }
            }
        }
        VerifyKey::Jwks(set) => {
            let jwk = pick(set, header)?;
            DecodingKey::from_jwk(jwk).map_err(|e| {
                Error::TokenCheck(format!("signature: the JWKS key is unusable ({e})"))
            })?
        }
    };
    let mut validation = Validation::new(alg);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.required_spec_claims = ["exp".to_owned()].into_iter().collect();
    let _ = now;
    jsonwebtoken::decode::<Value>(token, &decoding, &validation).map_err(|e| {
        Error::TokenCheck(match e.kind() {
            ErrorKind::ExpiredSignature => "expired: exp is more than 5 minutes in the past".into(),
            ErrorKind::ImmatureSignature => {
                "not yet valid: nbf is more than 5 minutes ahead".into()
            }
            ErrorKind::InvalidSignature => {
                "signature: it does not verify with the given key".into()
            }
            ErrorKind::MissingRequiredClaim(c) => format!("the token has no {c} claim"),
            other => format!("signature: {other:?}"),
        })
    })?;
    Ok(())
}

/// The JWKS key for the header: by `kid`, else by `x5t` (compared as bytes), else the only key.
fn pick<'a>(set: &'a JwkSet, header: &Value) -> Result<&'a jsonwebtoken::jwk::Jwk> {
    if let Some(kid) = header.get("kid").and_then(Value::as_str) {
        return set.find(kid).ok_or_else(|| {
            Error::TokenCheck(format!(
                "signature: kid {kid:?} is not in the JWKS (it has {}); the key may have rolled over: fetch the keys again",
                set.keys
                    .iter()
                    .filter_map(|k| k.common.key_id.as_deref())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        });
    }
    let bytes = |s: &str| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok();
    if let Some(x5t) = header.get("x5t").and_then(Value::as_str).and_then(bytes) {
        if let Some(jwk) = set.keys.iter().find(|k| {
            k.common
                .x509_sha1_fingerprint
                .as_deref()
                .and_then(bytes)
                .is_some_and(|b| b == x5t)
        }) {
            return Ok(jwk);
        }
    }
    match set.keys.as_slice() {
        [only] => Ok(only),
        _ => Err(Error::TokenCheck(
            "signature: the token names no kid or x5t that is in the JWKS".into(),
        )),
    }
}

/// Reads a JWKS document.
pub fn parse_jwks(text: &str, source: &str) -> Result<JwkSet> {
    crate::input::parse_json(text, source)?;
    serde_json::from_str(text).map_err(|e| Error::Document {
        source_name: source.to_owned(),
        reason: format!("not a JSON Web Key Set ({e})"),
    })
}

/// "in 42 min", "expired 3 h ago": how far `at` is from `now`.
pub fn relative(at: i64, now: OffsetDateTime) -> String {
    let delta = at - now.unix_timestamp();
    let span = |s: i64| -> String {
        let s = s.abs();
        match s {
            0..=119 => format!("{s} s"),
            120..=7199 => format!("{} min", s / 60),
            7200..=172_799 => format!("{} h", s / 3600),
            _ => format!("{} days", s / 86_400),
        }
    };
    if delta >= 0 {
        format!("in {}", span(delta))
    } else {
        format!("{} ago", span(delta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_tokens_are_named() {
        for (token, expected) in [
            ("abc", "three dot-separated parts, this has 1"),
            ("a.b.c", "header is not"),
            ("e30.!!.c", "payload is not base64url"),
            ("WzFd.e30.c", "header is not a JSON object"),
        ] {
            let err = parse(token).unwrap_err().to_string();
            assert!(err.contains(expected), "{token}: {err}");
        }
        let (header, claims) = parse("e30.e30.x").unwrap();
        assert!(header.as_object().unwrap().is_empty() && claims.as_object().unwrap().is_empty());
    }

    #[test]
    fn claim_checks_without_a_key() {
        let payload = URL_SAFE_NO_PAD.encode(
            r#"{"aud":"api://orders","iss":"https://sts.windows.net/t/","roles":["Orders.Read"]}"#,
        );
        let token = format!("e30.{payload}.x");
        let now = OffsetDateTime::now_utc();
        let mut checks = Checks {
            audiences: vec!["api://orders".into()],
            roles: vec!["Orders.Read".into()],
            ..Checks::default()
        };
        let d = decode(&token, &checks, now).unwrap();
        assert!(!d.verified);
        checks.roles.push("Orders.Write".into());
        let err = decode(&token, &checks, now).unwrap_err().to_string();
        assert!(err.contains("missing role \"Orders.Write\""), "{err}");
        checks.roles.clear();
        checks.any_roles = vec!["Orders.Write".into(), "Orders.Read".into()];
        let d = decode(&token, &checks, now).unwrap();
        assert!(
            d.passed.contains(&"role Orders.Read (one of 2)".to_owned()),
            "{:?}",
            d.passed
        );
        checks.any_roles = vec!["Orders.Write".into(), "Orders.Admin".into()];
        let err = decode(&token, &checks, now).unwrap_err().to_string();
        assert!(
            err.contains("requires one of [Orders.Write, Orders.Admin]"),
            "{err}"
        );
        checks.any_roles.clear();
        checks.issuers = vec![
            "https://login.microsoftonline.com/t/v2.0".into(),
            "https://sts.windows.net/t/".into(),
        ];
        decode(&token, &checks, now).unwrap();
        checks.issuers.pop();
        let err = decode(&token, &checks, now).unwrap_err().to_string();
        assert!(err.starts_with("issuer:"), "{err}");
        checks.audiences = vec!["api://other".into()];
        let err = decode(&token, &checks, now).unwrap_err().to_string();
        assert!(err.starts_with("audience:"), "{err}");
    }

    #[test]
    fn relative_times() {
        let now = OffsetDateTime::from_unix_timestamp(10_000_000).unwrap();
        assert_eq!(relative(10_000_000 + 42 * 60, now), "in 42 min");
        assert_eq!(relative(10_000_000 - 3 * 3600, now), "3 h ago");
        assert_eq!(relative(10_000_000 + 30, now), "in 30 s");
    }
}
