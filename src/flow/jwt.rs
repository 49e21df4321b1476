//! Compact JWS signing (RFC 7515) with an RSA credential key, through aws-lc-rs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use crate::credential::PrivateKey;
use crate::error::{Error, Result};

/// The JWS algorithms keycred signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256.
    Ps256,
}

impl Algorithm {
    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Ps256 => "PS256",
        }
    }
}

/// Signs `claims` under `header` (which must already name `alg`) and returns `header.claims.signature`.
pub fn sign(
    key: &PrivateKey,
    algorithm: Algorithm,
    header: &Value,
    claims: &Value,
) -> Result<String> {
    key.require_rsa("the signing key")?;
    if header.get("alg").and_then(Value::as_str) != Some(algorithm.name()) {
        return Err(Error::Generation(format!(
            "the JWT header must say alg {}",
            algorithm.name()
        )));
    }
    let encode =
        |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("JSON values serialize"));
    let signing_input = format!("{}.{}", encode(header), encode(claims));
    let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(key.pkcs8_der())
        .map_err(|e| Error::Generation(format!("the RSA key cannot sign ({e})")))?;
    let padding: &'static dyn aws_lc_rs::signature::RsaEncoding = match algorithm {
        Algorithm::Rs256 => &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        Algorithm::Ps256 => &aws_lc_rs::signature::RSA_PSS_SHA256,
    };
    let mut signature = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        padding,
        &aws_lc_rs::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| Error::Generation("RSA signing failed".into()))?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}
