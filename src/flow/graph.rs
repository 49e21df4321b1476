//! Bodies for Microsoft Graph's `addKey` and `removeKey` on an application
//! (<https://learn.microsoft.com/graph/api/application-addkey>, `…/application-removekey`).
//!
//! Both let an app change its own certificates without any other permission, by proving possession of a
//! current credential: the proof is a JWT signed RS256 with the current key, `x5t` of the current certificate
//! in the header, `aud` = Azure AD Graph's app id, `iss` = the application's object id, `nbf` and `exp` at
//! most ten minutes apart.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::jwt::{self, Algorithm};
use crate::credential::{CertificateInfo, ThumbprintForm};
use crate::error::{Error, Result};

/// The audience Graph requires in the proof.
pub const PROOF_AUDIENCE: &str = "00000002-0000-0000-c000-000000000000";

/// How long the proof is valid: the ten minutes Graph allows.
pub const PROOF_LIFETIME: time::Duration = time::Duration::minutes(10);

/// The current credential that signs the proof.
pub struct Signer<'a> {
    /// The current certificate (registered on the app).
    pub certificate: &'a CertificateInfo,
    /// Its private key, here or where it is kept (a vault names the key of each certificate version).
    pub key: jwt::SigningKey<'a>,
}

impl Signer<'_> {
    fn check(&self) -> Result<()> {
        let jwt::SigningKey::Local(key) = self.key else {
            return Ok(());
        };
        key.require_rsa("the current PFX")?;
        if key.matches(self.certificate) != Some(true) {
            return Err(Error::Invalid(
                "the current PFX's key does not belong to its certificate; the proof would be rejected".into(),
            ));
        }
        Ok(())
    }

    /// The proof JWT for `object_id` at `now`.
    pub fn proof(&self, object_id: Uuid, now: OffsetDateTime) -> Result<String> {
        self.check()?;
        let mut header = jwt::header(Algorithm::Rs256);
        header.x5t = Some(self.certificate.thumbprints.render(ThumbprintForm::X5t));
        let nbf = now.unix_timestamp();
        let claims = json!({
            "aud": PROOF_AUDIENCE,
            "iss": object_id.to_string(),
            "nbf": nbf,
            "exp": nbf + PROOF_LIFETIME.whole_seconds(),
        });
        jwt::sign(self.key, &header, &claims)
    }
}

/// The `POST /applications/{id}/addKey` body adding `new` as a certificate credential.
pub fn add_key_body(
    signer: &Signer<'_>,
    object_id: Uuid,
    new: &CertificateInfo,
    now: OffsetDateTime,
) -> Result<Value> {
    Ok(json!({
        "keyCredential": {
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
            "key": STANDARD.encode(new.der()),
        },
        "passwordCredential": null,
        "proof": signer.proof(object_id, now)?,
    }))
}

/// The `POST /applications/{id}/removeKey` body removing the credential `key_id`.
pub fn remove_key_body(
    signer: &Signer<'_>,
    object_id: Uuid,
    key_id: Uuid,
    now: OffsetDateTime,
) -> Result<Value> {
    Ok(json!({
        "keyId": key_id.to_string(),
        "proof": signer.proof(object_id, now)?,
    }))
}
