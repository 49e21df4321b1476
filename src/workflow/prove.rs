//! The proving workflow: load a credential, sign a client assertion, request a token, inspect a token. The
//! `assertion`, `token` and `decode` commands build these requests; the protocol is in [`crate::flow`].

use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::credential::{self, CertificateInfo, PrivateKey};
use crate::error::{Error, Result};
use crate::flow::assertion::{self, Assertion, AssertionRequest, CertificateCredential};
use crate::flow::authority::check_url;
use crate::flow::decode::{self, Checks, Decoded, VerifyKey};
use crate::flow::jwt::Algorithm;
use crate::flow::token::{self, ClientCredential, Token, TokenRequest};
use crate::input::{self, PasswordSources};
use crate::secret::Password;

/// Where a certificate credential comes from.
#[derive(Debug, Clone)]
pub enum CredentialSource {
    /// A PFX holding the key and the certificate.
    Pfx(PathBuf),
    /// A PKCS#8 PEM key and its certificate (DER or PEM).
    KeyAndCert {
        /// The private key.
        key: PathBuf,
        /// The certificate.
        cert: PathBuf,
    },
    /// A certificate in Azure Key Vault, whose key signs there.
    KeyVault(Box<VaultSource>),
    /// A key in a PKCS#11 token, which signs there, and its certificate, kept in the token beside it.
    Pkcs11(Box<Pkcs11Source>),
}

/// A key in a PKCS#11 token (`--pkcs11-module FILE --pkcs11-token LABEL --pkcs11-key LABEL`).
#[derive(Debug, Clone)]
pub struct Pkcs11Source {
    /// The PKCS#11 module.
    pub module: PathBuf,
    /// The token's label.
    pub token: String,
    /// The key's label (its certificate's too).
    pub key: String,
    /// The user PIN.
    pub pin: std::sync::Arc<Password>,
}

impl Pkcs11Source {
    /// The token and key it names, as the PKCS#11 client takes them.
    pub fn target(&self) -> crate::pkcs11::TokenTarget {
        crate::pkcs11::TokenTarget {
            module: self.module.clone(),
            token: self.token.clone(),
            key: self.key.clone(),
            pin: Password::new(self.pin.expose().to_owned()),
        }
    }
}

/// A certificate in Azure Key Vault (`--key-vault URL --vault-cert NAME[/VERSION]`).
#[derive(Debug, Clone)]
pub struct VaultSource {
    /// The vault's URL.
    pub vault: String,
    /// The certificate's name.
    pub name: String,
    /// A version; `None` for the newest.
    pub version: Option<String>,
    /// The cloud the vault must be in.
    pub cloud: crate::graph::Cloud,
    /// A bearer token for the vault's resource.
    pub token: std::sync::Arc<Password>,
    /// Time limit per call.
    pub timeout: std::time::Duration,
}

/// Where a loaded credential's private key is.
#[derive(Debug)]
pub enum LoadedKey {
    /// Read from a file.
    File(PrivateKey),
    /// In Azure Key Vault.
    Vault(crate::vault::VaultKey),
    /// In a PKCS#11 token.
    Token(crate::pkcs11::TokenKey),
}

impl LoadedKey {
    /// Where the key is, for reports: "in Azure Key Vault, not exportable: KID", "in PKCS#11 token …", "in a file".
    pub fn place(&self) -> String {
        match self {
            LoadedKey::File(_) => "in a file".into(),
            LoadedKey::Vault(key) => format!("in Azure Key Vault, not exportable: {}", key.kid()),
            LoadedKey::Token(key) => format!(
                "in PKCS#11 token {:?}, key {:?}, not extractable",
                key.token(),
                key.label()
            ),
        }
    }
}

/// A certificate credential, loaded.
#[derive(Debug)]
pub struct LoadedCredential {
    /// The certificate.
    pub certificate: CertificateInfo,
    /// Its private key.
    pub key: LoadedKey,
}

impl LoadedCredential {
    /// The pair, for signing.
    pub fn as_credential(&self) -> CertificateCredential<'_> {
        CertificateCredential {
            certificate: &self.certificate,
            key: match &self.key {
                LoadedKey::File(key) => crate::flow::jwt::SigningKey::Local(key),
                LoadedKey::Vault(key) => crate::flow::jwt::SigningKey::Remote(key),
                LoadedKey::Token(key) => crate::flow::jwt::SigningKey::Remote(key),
            },
        }
    }
}

/// Loads a certificate credential; a PFX's password comes from `passwords`.
pub fn load_credential(
    source: &CredentialSource,
    passwords: &PasswordSources,
) -> Result<LoadedCredential> {
    match source {
        CredentialSource::Pfx(path) => {
            let (certificate, key) = credential::load_file(path, passwords)?.into_leaf();
            let key = key.ok_or_else(|| {
                Error::Refused(format!(
                    "{}: holds no private key; give the PFX with the key (or --key FILE --cert FILE)",
                    path.display()
                ))
            })?;
            Ok(LoadedCredential {
                certificate,
                key: LoadedKey::File(key),
            })
        }
        CredentialSource::KeyAndCert { key, cert } => {
            let (certificate, _) = credential::load_file(cert, passwords)?.into_leaf();
            Ok(LoadedCredential {
                certificate,
                key: LoadedKey::File(read_key(key)?),
            })
        }
        CredentialSource::KeyVault(source) => load_vault_credential(source),
        CredentialSource::Pkcs11(source) => load_token_credential(source),
    }
}

/// A key in a PKCS#11 token and the certificate kept beside it (of the key's label, for its public key).
fn load_token_credential(source: &Pkcs11Source) -> Result<LoadedCredential> {
    let key = crate::pkcs11::find(&source.target())?;
    let der = key.certificate()?.ok_or_else(|| {
        Error::Invalid(format!(
            "token {:?} holds no certificate for key {:?} (an X.509 certificate object of that label, for that \
             key): make the credential with keycred new --pkcs11-module …, or keep its certificate in the token",
            source.token, source.key
        ))
    })?;
    let certificate = CertificateInfo::from_der(&der).map_err(|reason| {
        Error::Invalid(format!(
            "the certificate of key {:?} in token {:?}: {reason}",
            source.key, source.token
        ))
    })?;
    Ok(LoadedCredential {
        certificate,
        key: LoadedKey::Token(key),
    })
}

/// A Key Vault certificate and its key (which stays in the vault): the version named, or the newest, refused when
/// disabled.
fn load_vault_credential(source: &VaultSource) -> Result<LoadedCredential> {
    let client = std::sync::Arc::new(crate::vault::VaultClient::new(
        &source.vault,
        source.cloud,
        Password::new(source.token.expose().to_owned()),
        source.timeout,
    )?);
    let found = client.certificate(&source.name, source.version.as_deref())?;
    let shown = format!("{}/{}", source.name, found.version);
    if !found.enabled {
        return Err(Error::Refused(format!(
            "--vault-cert {shown}: this version is disabled in the vault, so its key signs nothing; enable it, or              name another version"
        )));
    }
    let certificate = found.info()?;
    Ok(LoadedCredential {
        certificate,
        key: LoadedKey::Vault(crate::vault::VaultKey::new(client, &found)),
    })
}

/// Reads an unencrypted PKCS#8 PEM private key (what `keycred new` writes as NAME.key).
pub fn read_key(path: &Path) -> Result<PrivateKey> {
    let bytes = input::read_file(path)?;
    let fail = |reason: String| Error::NotACertificate {
        path: path.to_owned(),
        reason,
    };
    let blocks = pem::parse_many(input::strip_bom(&bytes))
        .map_err(|e| fail(format!("not a PEM private key ({e})")))?;
    if let Some(block) = blocks.iter().find(|b| b.tag() == "PRIVATE KEY") {
        return PrivateKey::from_pkcs8_der(block.contents()).map_err(fail);
    }
    let found: Vec<&str> = blocks.iter().map(|b| b.tag()).collect();
    Err(fail(match found.as_slice() {
        tags if tags.contains(&"ENCRYPTED PRIVATE KEY") => {
            "the key is encrypted; give the PFX instead (--pfx), or decrypt it: openssl pkcs8 -in KEY -out KEY.pem".into()
        }
        tags if tags.contains(&"RSA PRIVATE KEY") => {
            "the key is PKCS#1 (BEGIN RSA PRIVATE KEY); convert it: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pem".into()
        }
        tags => format!(
            "has no PRIVATE KEY block (found: {}); --key takes a PKCS#8 PEM key such as keycred's NAME.key",
            if tags.is_empty() { "nothing".into() } else { tags.join(", ") }
        ),
    }))
}

/// Signs a client assertion with the credential from `source`.
pub fn assertion(
    source: &CredentialSource,
    request: &AssertionRequest,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<Assertion> {
    assertion::check_request(request)?;
    let loaded = load_credential(source, passwords)?;
    assertion::sign(loaded.as_credential(), request, now, Uuid::new_v4())
}

/// How `token` authenticates.
#[derive(Debug)]
pub enum TokenCredential {
    /// A certificate, signing an assertion with this algorithm.
    Certificate(CredentialSource, Algorithm),
    /// A client secret.
    Secret(Password),
}

/// Requests a token (or takes it from the cache).
pub fn token(
    request: &TokenRequest,
    credential: &TokenCredential,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<Token> {
    // Usage errors first, before a PFX password is asked for.
    token::check_scope(&request.scope)?;
    crate::flow::authority::check_tenant(&request.tenant)?;
    crate::flow::authority::check_client_id(&request.client_id)?;
    match credential {
        TokenCredential::Certificate(source, algorithm) => {
            let loaded = load_credential(source, passwords)?;
            token::get_token(
                request,
                &ClientCredential::Certificate(loaded.as_credential(), *algorithm),
                now,
            )
        }
        TokenCredential::Secret(secret) => {
            token::get_token(request, &ClientCredential::Secret(secret), now)
        }
    }
}

/// What verifies a token in `decode`.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A certificate file (DER, PEM or PFX).
    Certificate(PathBuf),
    /// A JWKS file.
    JwksFile(PathBuf),
    /// A JWKS URL (`https://`, or `http://` to this machine).
    JwksUrl(String),
}

/// One `decode`.
#[derive(Debug, Clone)]
pub struct DecodeRequest {
    /// The compact JWT.
    pub token: String,
    /// The key that verifies it, if any.
    pub key: Option<KeySource>,
    /// The `aud` values an API accepts (any one).
    pub audiences: Vec<String>,
    /// The `iss` values an API accepts (any one).
    pub issuers: Vec<String>,
    /// Roles it must all carry.
    pub roles: Vec<String>,
    /// Roles of which it must carry at least one.
    pub any_roles: Vec<String>,
    /// Time limit for a JWKS URL.
    pub timeout: std::time::Duration,
}

/// Decodes and checks a token.
pub fn decode(
    request: &DecodeRequest,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<Decoded> {
    let key = match &request.key {
        None => None,
        Some(KeySource::Certificate(path)) => {
            let (certificate, _) = credential::load_file(path, passwords)?.into_leaf();
            Some(VerifyKey::Certificate(Box::new(certificate)))
        }
        Some(KeySource::JwksFile(path)) => Some(VerifyKey::Jwks(decode::parse_jwks(
            &input::read_text(path)?,
            &path.display().to_string(),
        )?)),
        Some(KeySource::JwksUrl(url)) => Some(VerifyKey::Jwks(decode::parse_jwks(
            &fetch(url, request.timeout)?,
            url,
        )?)),
    };
    decode::decode(
        &request.token,
        &Checks {
            key,
            audiences: request.audiences.clone(),
            issuers: request.issuers.clone(),
            roles: request.roles.clone(),
            any_roles: request.any_roles.clone(),
        },
        now,
    )
}

/// GETs a JWKS URL: `https://`, or `http://` only to this machine.
fn fetch(url: &str, timeout: std::time::Duration) -> Result<String> {
    check_url(
        url,
        "--jwks",
        "https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys",
    )?;
    let mut response = token::agent(url, timeout)
        .get(url)
        .call()
        .map_err(|e| token::network_error(e, url, timeout))?;
    let status = response.status().as_u16();
    token::refuse_redirect(
        status,
        token::location(&response).as_deref(),
        &format!("--jwks {url}"),
        "--jwks",
    )?;
    if status != 200 {
        return Err(Error::Network(format!("--jwks {url}: HTTP {status}")));
    }
    response
        .body_mut()
        .read_to_string()
        .map_err(|e| token::network_error(e, url, timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    #[test]
    fn loads_a_pfx_or_a_key_and_a_certificate() {
        let sources = PasswordSources {
            file: Some(fixture("fixture.password")),
            ..PasswordSources::default()
        };
        let from_pfx =
            load_credential(&CredentialSource::Pfx(fixture("openssl-rsa.pfx")), &sources).unwrap();
        let from_pair = load_credential(
            &CredentialSource::KeyAndCert {
                key: fixture("openssl-rsa.key"),
                cert: fixture("openssl-rsa.cer"),
            },
            &PasswordSources::default(),
        )
        .unwrap();
        assert_eq!(
            from_pfx.certificate.thumbprints,
            from_pair.certificate.thumbprints
        );
        let LoadedKey::File(key) = &from_pair.key else {
            panic!("a key file is read into memory")
        };
        assert_eq!(key.matches(&from_pair.certificate), Some(true));
    }

    #[test]
    fn key_files_that_are_not_pkcs8_are_named() {
        let dir = tempfile::tempdir().unwrap();
        for (text, expected) in [
            ("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "PKCS#1"),
            ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "encrypted"),
            ("hello", "has no PRIVATE KEY block"),
        ] {
            let path = dir.path().join("k.pem");
            std::fs::write(&path, text).unwrap();
            let err = read_key(&path).unwrap_err().to_string();
            assert!(err.contains(expected), "{expected}: {err}");
        }
    }

    #[test]
    fn a_bad_scope_is_refused_before_any_password_or_request() {
        let request = TokenRequest {
            authority: crate::flow::authority::Authority::parse("http://127.0.0.1:9").unwrap(),
            tenant: "t".into(),
            client_id: "c".into(),
            scope: "User.Read".into(),
            timeout: std::time::Duration::from_secs(1),
            cache: None,
        };
        let asked = PasswordSources {
            prompt: Some(Box::new(|_, _| panic!("no prompt for a bad scope"))),
            ..PasswordSources::default()
        };
        let err = token(
            &request,
            &TokenCredential::Certificate(
                CredentialSource::Pfx(fixture("openssl-rsa.pfx")),
                Algorithm::Ps256,
            ),
            &asked,
            OffsetDateTime::now_utc(),
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::USAGE);
    }

    #[test]
    fn network_failures_are_said_in_words() {
        // Port 9 (discard) on loopback: nothing listens there.
        let request = TokenRequest {
            authority: crate::flow::authority::Authority::parse("http://127.0.0.1:9").unwrap(),
            tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            scope: "api://x/.default".into(),
            timeout: std::time::Duration::from_secs(5),
            cache: None,
        };
        let err = token(
            &request,
            &TokenCredential::Secret(Password::new("s".into())),
            &PasswordSources::default(),
            OffsetDateTime::now_utc(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(
                "cannot connect to http://127.0.0.1:9/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
            ),
            "the URL tried: {err}"
        );
    }
}
