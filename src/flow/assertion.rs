//! Client assertions: the signed JWT an app sends instead of a secret (RFC 7523, Entra's "certificate
//! credentials"). Header `{"alg":"PS256","typ":"JWT","x5t#S256":…}` by default (what MSAL sends to Entra today),
//! or `RS256` with `x5t`; claims `aud` = the token endpoint, `iss` = `sub` = the client id, a fresh `jti`, `iat`,
//! `nbf` and `exp` at most ten minutes later.

use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::authority::{check_client_id, check_tenant, Authority};
use super::jwt::{self, Algorithm, SigningKey};
use crate::credential::{CertificateInfo, Status, ThumbprintForm};
use crate::error::{Error, Result};

/// The longest assertion lifetime keycred signs (Entra accepts at most ten minutes).
pub const MAX_LIFETIME: Duration = Duration::minutes(10);

/// A certificate credential: the registered certificate and its private key.
#[derive(Debug, Clone, Copy)]
pub struct CertificateCredential<'a> {
    /// The certificate registered on the app.
    pub certificate: &'a CertificateInfo,
    /// Its private key, here or where it is kept.
    pub key: SigningKey<'a>,
}

impl CertificateCredential<'_> {
    /// Refuses a credential Entra would reject: a non-RSA or small key, a key that is not the certificate's, a
    /// certificate that is not valid at `now`.
    pub fn check(&self, now: OffsetDateTime) -> Result<()> {
        let cert = self.certificate;
        if let SigningKey::Local(key) = self.key {
            key.require_rsa("the private key")?;
        }
        let problems = cert.entra_problems();
        if !problems.is_empty() {
            return Err(Error::Refused(format!(
                "the certificate ({}) cannot be an Entra ID credential: {}",
                cert.subject,
                problems.join("; ")
            )));
        }
        // A remote key is the certificate's by how it was found (Key Vault names the key of each version).
        if matches!(self.key, SigningKey::Local(key) if key.matches(cert) != Some(true)) {
            return Err(Error::Refused(format!(
                "the private key does not match the certificate ({}): Entra would reject every assertion it signs; \
                 give the key that belongs to this certificate (or the PFX that holds both)",
                cert.subject
            )));
        }
        match cert.status(now) {
            Status::Valid => Ok(()),
            Status::Expired => Err(Error::Refused(format!(
                "the certificate ({}) expired on {}: Entra rejects assertions signed with it; make a new one \
                 (keycred rotate) and register it",
                cert.subject,
                crate::time_fmt::rfc3339_utc(cert.not_after)
            ))),
            Status::NotYetValid => Err(Error::Refused(format!(
                "the certificate ({}) is not valid until {}",
                cert.subject,
                crate::time_fmt::rfc3339_utc(cert.not_before)
            ))),
        }
    }
}

/// What to sign.
#[derive(Debug, Clone)]
pub struct AssertionRequest {
    /// The directory (tenant) id or domain.
    pub tenant: String,
    /// The app's application (client) id.
    pub client_id: String,
    /// Where the token request goes; the assertion's `aud` is its token endpoint.
    pub authority: Authority,
    /// PS256 (`x5t#S256`) or RS256 (`x5t`).
    pub algorithm: Algorithm,
    /// How long it is valid; at most ten minutes.
    pub lifetime: Duration,
}

/// A signed assertion and what it says.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// The compact JWT.
    pub token: String,
    /// Its header.
    pub header: Value,
    /// Its claims.
    pub claims: Value,
}

/// Checks the request's values (exit 2 on a bad one).
pub fn check_request(request: &AssertionRequest) -> Result<()> {
    check_tenant(&request.tenant)?;
    check_client_id(&request.client_id)?;
    if request.lifetime <= Duration::ZERO || request.lifetime > MAX_LIFETIME {
        return Err(Error::Invalid(format!(
            "--lifetime {}: give 1 to 600 seconds (Entra accepts assertions valid for at most ten minutes)",
            request.lifetime.whole_seconds()
        )));
    }
    Ok(())
}

/// Signs an assertion at `now` with a fresh `jti`.
pub fn sign(
    credential: CertificateCredential<'_>,
    request: &AssertionRequest,
    now: OffsetDateTime,
    jti: Uuid,
) -> Result<Assertion> {
    check_request(request)?;
    credential.check(now)?;
    let thumbprints = &credential.certificate.thumbprints;
    let mut header = jwt::header(request.algorithm);
    match request.algorithm {
        Algorithm::Ps256 => header.x5t_s256 = Some(thumbprints.render(ThumbprintForm::X5tS256)),
        Algorithm::Rs256 => header.x5t = Some(thumbprints.render(ThumbprintForm::X5t)),
    }
    let issued = now.unix_timestamp();
    let claims = json!({
        "aud": request.authority.token_url(&request.tenant),
        "iss": request.client_id,
        "sub": request.client_id,
        "jti": jti.to_string(),
        "iat": issued,
        "nbf": issued,
        "exp": issued + request.lifetime.whole_seconds(),
    });
    let token = jwt::sign(credential.key, &header, &claims)?;
    Ok(Assertion {
        token,
        header: serde_json::to_value(&header).expect("headers serialize"),
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::{CertRequest, KeySize, SignatureHash, Subject, ValidityEnd};

    fn credential(now: OffsetDateTime) -> crate::provision::NewCredential {
        let request = CertRequest::new(
            Subject::parse("Assertion Test").unwrap(),
            KeySize::Rsa2048,
            SignatureHash::Sha256,
            ValidityEnd::Days(30),
            now,
            [7; 16],
        )
        .unwrap();
        crate::provision::create(&request, Uuid::nil()).unwrap()
    }

    fn request() -> AssertionRequest {
        AssertionRequest {
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            authority: Authority::default(),
            algorithm: Algorithm::Ps256,
            lifetime: Duration::minutes(10),
        }
    }

    #[test]
    fn claims_and_headers_for_both_algorithms() {
        let now = OffsetDateTime::now_utc();
        let made = credential(now);
        let cred = CertificateCredential {
            certificate: &made.certificate,
            key: SigningKey::Local(&made.key),
        };
        let a = sign(cred, &request(), now, Uuid::nil()).unwrap();
        assert_eq!(a.header["alg"], "PS256");
        assert_eq!(
            a.header["x5t#S256"],
            made.certificate.thumbprints.render(ThumbprintForm::X5tS256)
        );
        assert!(a.header.get("x5t").is_none());
        assert_eq!(
            a.claims["aud"],
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(a.claims["iss"], a.claims["sub"]);
        assert_eq!(
            a.claims["exp"].as_i64().unwrap() - a.claims["nbf"].as_i64().unwrap(),
            600
        );
        assert_eq!(a.token.split('.').count(), 3);

        let mut rs = request();
        rs.algorithm = Algorithm::Rs256;
        let a = sign(cred, &rs, now, Uuid::nil()).unwrap();
        assert_eq!(a.header["alg"], "RS256");
        assert_eq!(
            a.header["x5t"],
            made.certificate.thumbprints.render(ThumbprintForm::X5t)
        );
    }

    #[test]
    fn refusals() {
        let now = OffsetDateTime::now_utc();
        let made = credential(now);
        let other = credential(now);
        let cred = CertificateCredential {
            certificate: &made.certificate,
            key: SigningKey::Local(&made.key),
        };
        let mut long = request();
        long.lifetime = Duration::seconds(601);
        let err = sign(cred, &long, now, Uuid::nil()).unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::USAGE);
        let mismatched = CertificateCredential {
            certificate: &made.certificate,
            key: SigningKey::Local(&other.key),
        };
        let err = sign(mismatched, &request(), now, Uuid::nil())
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not match the certificate"), "{err}");
        let later = now + Duration::days(40);
        let err = sign(cred, &request(), later, Uuid::nil())
            .unwrap_err()
            .to_string();
        assert!(err.contains("expired on"), "{err}");
    }
}
