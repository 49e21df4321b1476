//! Compact JWS signing (RFC 7515) with an RSA credential key, through `jsonwebtoken` on its aws-lc-rs backend
//! (the crypto backend keycred already has): no protocol code of our own.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;
use sha2::Digest as _;

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

/// A key held where keycred cannot read it (Azure Key Vault, an HSM), which signs a SHA-256 digest on request.
pub trait RemoteSigner: Send + Sync {
    /// Signs `digest` (SHA-256 of the message) with `algorithm`'s padding; the raw RSA signature.
    fn sign_digest(&self, algorithm: Algorithm, digest: &[u8; 32]) -> Result<Vec<u8>>;
    /// Where the key is, for messages ("the key vault key https://…/keys/NAME/VERSION").
    fn describe(&self) -> String;
}

/// The key a JWS is signed with: one keycred holds, or one it asks to sign.
#[derive(Clone, Copy)]
pub enum SigningKey<'a> {
    /// A private key read from a file.
    Local(&'a PrivateKey),
    /// A key that stays where it is.
    Remote(&'a dyn RemoteSigner),
}

impl std::fmt::Debug for SigningKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SigningKey::Local(_) => f.write_str("SigningKey::Local"),
            SigningKey::Remote(remote) => write!(f, "SigningKey::Remote({})", remote.describe()),
        }
    }
}

/// Signs `claims` under `header` and returns `header.claims.signature`: with a local RSA key through
/// `jsonwebtoken`, with a remote one by sending it the SHA-256 digest of `header.claims`.
pub fn sign(key: SigningKey<'_>, header: &Header, claims: &impl Serialize) -> Result<String> {
    match key {
        SigningKey::Local(key) => sign_local(key, header, claims),
        SigningKey::Remote(remote) => {
            let algorithm = match header.alg {
                jsonwebtoken::Algorithm::RS256 => Algorithm::Rs256,
                jsonwebtoken::Algorithm::PS256 => Algorithm::Ps256,
                other => {
                    return Err(Error::Generation(format!(
                        "{other:?} is not an algorithm keycred signs with (RS256 or PS256)"
                    )))
                }
            };
            let encode = |value: &dyn erased::Json| -> Result<String> {
                Ok(URL_SAFE_NO_PAD.encode(value.to_json()?))
            };
            let input = format!("{}.{}", encode(header)?, encode(claims)?);
            let digest: [u8; 32] = sha2::Sha256::digest(input.as_bytes()).into();
            let signature = remote.sign_digest(algorithm, &digest)?;
            Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
        }
    }
}

/// JSON of a header or a set of claims, whatever their type.
mod erased {
    use crate::error::{Error, Result};

    pub trait Json {
        fn to_json(&self) -> Result<Vec<u8>>;
    }

    impl<T: serde::Serialize + ?Sized> Json for T {
        fn to_json(&self) -> Result<Vec<u8>> {
            serde_json::to_vec(self)
                .map_err(|e| Error::Generation(format!("the JWT could not be written ({e})")))
        }
    }
}

fn sign_local(key: &PrivateKey, header: &Header, claims: &impl Serialize) -> Result<String> {
    key.require_rsa("the signing key")?;
    let der = key
        .rsa_pkcs1_der()
        .ok_or_else(|| Error::Generation("the RSA key could not be read for signing".into()))?;
    jsonwebtoken::encode(header, claims, &EncodingKey::from_rsa_der(&der))
        .map_err(|e| Error::Generation(format!("signing the JWT failed ({e})")))
}

/// A [`RemoteSigner`] as rcgen signs a certificate or a request with it (sha256WithRSAEncryption): the key's
/// public half is given, every signature is asked of the key where it is.
pub struct CertificateSigner<'a> {
    remote: &'a dyn RemoteSigner,
    /// PKCS #1 `RSAPublicKey` DER.
    public_key: Vec<u8>,
    /// Why the last signature failed: rcgen keeps only that it did.
    failure: std::sync::Mutex<Option<Error>>,
}

impl<'a> CertificateSigner<'a> {
    /// The signer for `remote`, whose public key is `public_key` (PKCS #1 `RSAPublicKey` DER).
    pub fn new(remote: &'a dyn RemoteSigner, public_key: Vec<u8>) -> CertificateSigner<'a> {
        CertificateSigner {
            remote,
            public_key,
            failure: std::sync::Mutex::new(None),
        }
    }

    /// `result` of rcgen's work with this signer, its error the remote key's own where that was the cause.
    pub fn outcome<T>(&self, result: Result<T>) -> Result<T> {
        let failure = self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match (result, failure) {
            (Err(_), Some(cause)) => Err(cause),
            (result, _) => result,
        }
    }
}

impl rcgen::PublicKeyData for CertificateSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.public_key
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

impl rcgen::SigningKey for CertificateSigner<'_> {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        let digest: [u8; 32] = sha2::Sha256::digest(msg).into();
        self.remote
            .sign_digest(Algorithm::Rs256, &digest)
            .map_err(|cause| {
                *self
                    .failure
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cause);
                rcgen::Error::RemoteKeyError
            })
    }
}
