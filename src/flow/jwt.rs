//! Compact JWS signing (RFC 7515) with an RSA credential key, through `jsonwebtoken` on its aws-lc-rs backend
//! (the crypto backend keycred already has): no protocol code of our own.

use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;

use crate::credential::PrivateKey;
use crate::error::{Error, Result};

/// The JWS algorithms keycred signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256 (what MSAL sends to Entra today).
    Ps256,
}

impl Algorithm {
    /// The `jsonwebtoken` algorithm.
    pub fn jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Algorithm::Rs256 => jsonwebtoken::Algorithm::RS256,
            Algorithm::Ps256 => jsonwebtoken::Algorithm::PS256,
        }
    }
}

/// A header for `algorithm` with `typ: JWT` and nothing else; callers add `x5t` or `x5t#S256`.
pub fn header(algorithm: Algorithm) -> Header {
    let mut header = Header::new(algorithm.jsonwebtoken());
    header.typ = Some("JWT".into());
    header
}

/// Signs `claims` under `header` with an RSA `key` and returns `header.claims.signature`.
pub fn sign(key: &PrivateKey, header: &Header, claims: &impl Serialize) -> Result<String> {
    key.require_rsa("the signing key")?;
    let der = key
        .rsa_pkcs1_der()
        .ok_or_else(|| Error::Generation("the RSA key could not be read for signing".into()))?;
    jsonwebtoken::encode(header, claims, &EncodingKey::from_rsa_der(&der))
        .map_err(|e| Error::Generation(format!("signing the JWT failed ({e})")))
}
