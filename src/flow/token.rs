//! The client credentials token request (`POST {authority}/{tenant}/oauth2/v2.0/token`), Entra's errors with a
//! hint for the common codes, and a per-user token cache.
//!
//! HTTP is `ureq` on rustls with the aws-lc-rs provider keycred already has, the operating system's trust store
//! (`rustls-platform-verifier`: an admin behind a TLS-inspecting proxy has its root there) and the standard
//! `HTTPS_PROXY` / `NO_PROXY` variables; no protocol code of our own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::assertion::{self, AssertionRequest, CertificateCredential};
use super::authority::{check_client_id, check_tenant, Authority};
use super::jwt::Algorithm;
use crate::credential::thumbprint::upper_hex;
use crate::credential::ThumbprintForm;
use crate::error::{Error, Result};
use crate::fsio::{self, Access, OutputFile};
use crate::secret::Password;

/// The client assertion type of RFC 7523.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A cached token is used until this long before it expires.
pub const CACHE_MARGIN: Duration = Duration::minutes(5);

/// How the app proves who it is.
#[derive(Debug, Clone, Copy)]
pub enum ClientCredential<'a> {
    /// A certificate: a client assertion signed with its key.
    Certificate(CertificateCredential<'a>, Algorithm),
    /// A client secret.
    Secret(&'a Password),
}

impl ClientCredential<'_> {
    /// What identifies the credential in the cache key and in messages: the certificate's SHA-256 thumbprint,
    /// or a hash of the secret (never the secret).
    pub fn id(&self) -> String {
        match self {
            ClientCredential::Certificate(c, _) => format!(
                "x5t#S256:{}",
                c.certificate.thumbprints.render(ThumbprintForm::X5tS256)
            ),
            ClientCredential::Secret(secret) => format!(
                "secret-sha256:{}",
                upper_hex(&Sha256::digest(secret.expose().as_bytes()))
            ),
        }
    }
}

/// One token request.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// Where it goes.
    pub authority: Authority,
    /// The directory (tenant) id or domain.
    pub tenant: String,
    /// The app's application (client) id.
    pub client_id: String,
    /// The resource's `…/.default` scope.
    pub scope: String,
    /// The whole request's time limit.
    pub timeout: std::time::Duration,
    /// The cache file, when `--cache`.
    pub cache: Option<PathBuf>,
}

/// A token, fresh or from the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The access token.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds left.
    pub expires_in: i64,
    /// When it expires, Unix time.
    pub expires_on: i64,
    /// Whether it came from the cache (no request was made).
    pub from_cache: bool,
}

/// Refuses a scope that is not `…/.default` (exit 2), before any request.
pub fn check_scope(scope: &str) -> Result<()> {
    if scope.trim() != scope
        || scope.contains(' ')
        || !scope.ends_with("/.default")
        || scope == "/.default"
    {
        return Err(Error::Invalid(format!(
            "--scope {scope:?} must be one resource's .default scope, such as api://contoso-orders/.default or \
             https://graph.microsoft.com/.default: an app-only token carries the app roles granted to the app, and \
             individual scopes are for delegated (user) tokens"
        )));
    }
    Ok(())
}

/// The HTTP agent for requests to `url`: rustls on aws-lc-rs, the platform's trust store, a time limit, and
/// proxies from the environment except for this machine (a secret for a loopback test server never goes to a
/// proxy, in clear or not). Redirects are never followed: a token request, a Graph page or a key set that answers
/// with one is refused by [`refuse_redirect`], so that a secret or a bearer token never goes to, and no answer or
/// key is taken from, a server other than the one named.
pub fn agent(url: &str, timeout: std::time::Duration) -> ureq::Agent {
    use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::PlatformVerifier)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    let loopback = url
        .parse::<ureq::http::Uri>()
        .ok()
        .and_then(|uri| uri.host().map(super::authority::is_loopback))
        .unwrap_or(false);
    let builder = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .tls_config(tls)
        .user_agent(format!("keycred/{}", env!("CARGO_PKG_VERSION")));
    let builder = if loopback {
        builder.proxy(None)
    } else {
        builder
    };
    builder.build().into()
}

/// Refuses an answer that is a redirect (3xx): keycred sends credentials and takes keys only where it was told.
/// `what` names the request (`--jwks URL`, `POST /v1.0/applications`, the token endpoint's URL).
pub fn refuse_redirect(status: u16, location: Option<&str>, what: &str, flag: &str) -> Result<()> {
    if !(300..400).contains(&status) {
        return Ok(());
    }
    Err(Error::Network(format!(
        "{what} answered with a redirect (HTTP {status}) to {}: keycred follows no redirect, so that a secret, a \
         token or a trusted key never goes to or comes from another server; check {flag}, and give the URL the \
         redirect names only if you trust it",
        location.map_or_else(|| "no location".to_owned(), |l| format!("{l:?}"))
    )))
}

/// The `Location` header of an answer, if it has one.
pub fn location<B>(response: &ureq::http::Response<B>) -> Option<String> {
    header(response, "location")
}

/// A header of an answer, as text, if it has it (the token, Graph and Key Vault clients read theirs so).
pub fn header<B>(response: &ureq::http::Response<B>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A network failure in words: what failed, with which URL (or host), and what to check.
pub fn network_error(error: ureq::Error, host: &str, timeout: std::time::Duration) -> Error {
    let text = match error {
        ureq::Error::HostNotFound => format!(
            "cannot resolve {host}: check --authority, the DNS settings, and HTTPS_PROXY if a proxy is needed"
        ),
        ureq::Error::ConnectionFailed => format!("cannot connect to {host}: nothing answers there (check --authority and HTTPS_PROXY/NO_PROXY)"),
        ureq::Error::Timeout(_) => format!(
            "no answer from {host} within {} s (--timeout)",
            timeout.as_secs()
        ),
        ureq::Error::Rustls(e) => format!(
            "TLS with {host} failed ({e}); behind a TLS-inspecting proxy, its root certificate must be in the \
             operating system's trust store"
        ),
        ureq::Error::Tls(e) => format!("TLS with {host} failed ({e})"),
        ureq::Error::Io(e) if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => format!(
            "TLS with {host} failed ({}); behind a TLS-inspecting proxy, its root certificate must be in the \
             operating system's trust store",
            e.get_ref().map(ToString::to_string).unwrap_or_default()
        ),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("cannot connect to {host}: the connection was refused (check --authority)")
        }
        ureq::Error::Io(e) => format!(
            "the connection to {host} failed ({})",
            crate::error::io_reason(&e)
        ),
        ureq::Error::InvalidProxyUrl => {
            "HTTPS_PROXY (or HTTP_PROXY / ALL_PROXY) is not a valid proxy URL".into()
        }
        ureq::Error::ConnectProxyFailed(e) => format!("the proxy refused the connection to {host} ({e})"),
        other => format!("the request to {host} failed ({other})"),
    };
    Error::Network(text)
}

/// Entra's answer to a failed request, with a hint for the codes admins meet most.
pub fn entra_error(status: u16, body: &str, credential: &ClientCredential<'_>) -> Error {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    // The endpoint's words, each kept to its one line: a line break in them must not start a line of keycred's.
    let one_line = |text: &str| crate::words::one_line(text).into_owned();
    let Some(error) = field("error") else {
        let shown = one_line(&body.chars().take(200).collect::<String>());
        return Error::Entra {
            error: format!("HTTP {status}"),
            code: None,
            description: if shown.trim().is_empty() {
                "(no body)".into()
            } else {
                shown
            },
            correlation_id: None,
            hint: Some("this is not an OAuth token endpoint's answer: check --authority".into()),
        };
    };
    let description = field("error_description").unwrap_or_default();
    let code = json
        .as_ref()
        .and_then(|j| j.get("error_codes"))
        .and_then(Value::as_array)
        .and_then(|codes| codes.first())
        .and_then(Value::as_u64)
        .and_then(|c| u32::try_from(c).ok())
        .or_else(|| {
            let digits: String = description
                .strip_prefix("AADSTS")?
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        });
    // Entra's description starts "AADSTS700027: …"; the code is shown once, by us.
    let description = match code {
        Some(c) => description
            .strip_prefix(&format!("AADSTS{c}: "))
            .unwrap_or(&description)
            .to_owned(),
        None => description,
    };
    Error::Entra {
        error: one_line(&error),
        code,
        // Entra's description goes on with its trace and correlation ids, on lines of their own.
        description: one_line(description.lines().next().unwrap_or_default()),
        correlation_id: field("correlation_id").map(|c| one_line(&c)),
        hint: code.and_then(|c| hint(c, credential)),
    }
}

/// keycred's advice for an AADSTS code.
pub fn hint(code: u32, credential: &ClientCredential<'_>) -> Option<String> {
    Some(match code {
        700027 => match credential {
            ClientCredential::Certificate(c, _) => format!(
                "the certificate is not registered on the app (or not this one): the portal must list thumbprint \
                 {} (x5t#S256 {}) under Certificates & secrets; upload the .cer or add it to the manifest",
                c.certificate.thumbprints.render(ThumbprintForm::Hex),
                c.certificate.thumbprints.render(ThumbprintForm::X5tS256)
            ),
            ClientCredential::Secret(_) => {
                "the app expects a certificate assertion: use --pfx or --key/--cert".into()
            }
        },
        700024 => "the assertion's time range is not accepted: check this machine's clock (nbf/exp must be current)".into(),
        700023 => "the assertion's audience is wrong: check --authority (sovereign clouds have their own) and --tenant".into(),
        7000215 => "the client secret is wrong: use the secret's Value (not its Secret ID) from Certificates & secrets".into(),
        7000222 => "the client secret has expired: create a new one, or move to a certificate credential (keycred new)".into(),
        700016 => "no app with this client id in this tenant: check --client-id (the Application (client) ID) and --tenant, and that the app is consented in the tenant".into(),
        500011 => "the resource in --scope was not found: check the scope's application ID URI (api://…/.default) and that the API is registered in this tenant".into(),
        1002012 | 70011 => "the scope is not valid: an app-only token needs the resource's .default scope, such as api://contoso-orders/.default".into(),
        50012 | 50027 => "the assertion's signature or format was rejected: the key must be the certificate's, and the certificate the registered one (keycred inspect shows both)".into(),
        _ => return None,
    })
}

/// The form fields of the request (with the assertion or secret).
fn form(
    request: &TokenRequest,
    credential: &ClientCredential<'_>,
    now: OffsetDateTime,
    jti: Uuid,
) -> Result<Vec<(&'static str, String)>> {
    let mut fields = vec![
        ("grant_type", "client_credentials".to_owned()),
        ("client_id", request.client_id.clone()),
        ("scope", request.scope.clone()),
    ];
    match credential {
        ClientCredential::Certificate(c, algorithm) => {
            let signed = assertion::sign(
                *c,
                &AssertionRequest {
                    tenant: request.tenant.clone(),
                    client_id: request.client_id.clone(),
                    authority: request.authority.clone(),
                    algorithm: *algorithm,
                    lifetime: assertion::MAX_LIFETIME,
                },
                now,
                jti,
            )?;
            fields.push(("client_assertion_type", ASSERTION_TYPE.to_owned()));
            fields.push(("client_assertion", signed.token));
        }
        ClientCredential::Secret(secret) => {
            fields.push(("client_secret", secret.expose().to_owned()));
        }
    }
    Ok(fields)
}

/// Gets a token: from the cache when it holds one valid beyond [`CACHE_MARGIN`] (no connection, no signature),
/// else from the token endpoint (and then into the cache).
pub fn get_token(
    request: &TokenRequest,
    credential: &ClientCredential<'_>,
    now: OffsetDateTime,
) -> Result<Token> {
    check_tenant(&request.tenant)?;
    check_client_id(&request.client_id)?;
    check_scope(&request.scope)?;
    let key = cache_key(request, credential);
    if let Some(path) = &request.cache {
        if let Some(token) = TokenCache::open(path)?.lookup(&key, now) {
            return Ok(token);
        }
    }
    let url = request.authority.token_url(&request.tenant);
    let fields = form(request, credential, now, Uuid::new_v4())?;
    let mut response = agent(&url, request.timeout)
        .post(&url)
        .send_form(fields.iter().map(|(k, v)| (*k, v.as_str())))
        .map_err(|e| network_error(e, &url, request.timeout))?;
    let status = response.status().as_u16();
    refuse_redirect(status, location(&response).as_deref(), &url, "--authority")?;
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| network_error(e, &url, request.timeout))?;
    if status != 200 {
        return Err(entra_error(status, &body, credential));
    }
    let token = parse_token(&body, now)?;
    if let Some(path) = &request.cache {
        TokenCache::store(path, &key, &token, now)?;
    }
    Ok(token)
}

/// Reads a successful token response. `expires_in` may be a number or (Entra v1) a numeric string.
pub fn parse_token(body: &str, now: OffsetDateTime) -> Result<Token> {
    let bad = |what: &str| {
        Error::Network(format!(
            "the token endpoint's answer is not a token response ({what})"
        ))
    };
    let json: Value = serde_json::from_str(body).map_err(|_| bad("not JSON"))?;
    let access_token = json
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no access_token"))?
        .to_owned();
    let seconds = |name: &str| match json.get(name) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let expires_in = seconds("expires_in").ok_or_else(|| bad("no expires_in"))?;
    Ok(Token {
        access_token,
        token_type: json
            .get("token_type")
            .and_then(Value::as_str)
            .unwrap_or("Bearer")
            .to_owned(),
        expires_in,
        expires_on: seconds("expires_on").unwrap_or(now.unix_timestamp() + expires_in),
        from_cache: false,
    })
}

/// The cache key: authority, tenant, client id, scope and the credential, hashed, so that a new certificate is
/// never answered with the token the old one got.
pub fn cache_key(request: &TokenRequest, credential: &ClientCredential<'_>) -> String {
    let material = [
        request.authority.as_str(),
        &request.tenant.to_ascii_lowercase(),
        &request.client_id.to_ascii_lowercase(),
        &request.scope,
        &credential.id(),
    ]
    .join("\n");
    upper_hex(&Sha256::digest(material.as_bytes()))
}

/// The cache file's default place: `$XDG_CACHE_HOME/keycred/tokens.json` on Linux (`~/.cache/…` without it),
/// the platform's cache folder elsewhere.
pub fn default_cache_path() -> Option<PathBuf> {
    dirs::cache_dir().map(|dir| dir.join("keycred").join("tokens.json"))
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    tokens: BTreeMap<String, CachedToken>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedToken {
    access_token: String,
    token_type: String,
    expires_on: i64,
}

/// The token cache: one owner-only JSON file, read and written under its lock, written atomically.
#[derive(Debug)]
pub struct TokenCache {
    file: CacheFile,
}

impl TokenCache {
    /// Reads the cache (an empty one if the file does not exist; a damaged one is treated as empty and replaced).
    pub fn open(path: &Path) -> Result<TokenCache> {
        let _lock = Self::lock(path)?;
        Ok(TokenCache {
            file: Self::read(path)?,
        })
    }

    fn lock(path: &Path) -> Result<fsio::Lock> {
        fsio::lock_private(path, "the token cache", "run without --cache")
    }

    fn read(path: &Path) -> Result<CacheFile> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(CacheFile::default()),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// The cached token for `key`, if it is valid beyond the margin at `now`.
    pub fn lookup(&self, key: &str, now: OffsetDateTime) -> Option<Token> {
        let cached = self.file.tokens.get(key)?;
        let left = cached.expires_on - now.unix_timestamp();
        (left > CACHE_MARGIN.whole_seconds()).then(|| Token {
            access_token: cached.access_token.clone(),
            token_type: cached.token_type.clone(),
            expires_in: left,
            expires_on: cached.expires_on,
            from_cache: true,
        })
    }

    /// Adds `token` under `key`, dropping expired entries, re-reading the file under its lock so that concurrent
    /// runs keep each other's entries.
    pub fn store(path: &Path, key: &str, token: &Token, now: OffsetDateTime) -> Result<()> {
        let _lock = Self::lock(path)?;
        let mut file = Self::read(path)?;
        file.version = 1;
        file.tokens
            .retain(|_, t| t.expires_on > now.unix_timestamp());
        file.tokens.insert(
            key.to_owned(),
            CachedToken {
                access_token: token.access_token.clone(),
                token_type: token.token_type.clone(),
                expires_on: token.expires_on,
            },
        );
        let text = serde_json::to_string_pretty(&file).expect("the cache serializes");
        fsio::replace_own(&[OutputFile::new(path, text, Access::Secret)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(cache: Option<PathBuf>) -> TokenRequest {
        TokenRequest {
            authority: Authority::default(),
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            scope: "api://orders/.default".into(),
            timeout: std::time::Duration::from_secs(5),
            cache,
        }
    }

    #[test]
    fn scopes_must_be_default() {
        check_scope("api://orders/.default").unwrap();
        check_scope("https://graph.microsoft.com/.default").unwrap();
        for bad in [
            "api://orders/Orders.Read",
            "User.Read",
            "/.default",
            "a/.default b/.default",
        ] {
            let err = check_scope(bad).unwrap_err();
            assert_eq!(err.exit_code(), crate::exit::USAGE, "{bad}");
            assert!(err.to_string().contains("app roles granted"), "{err}");
        }
    }

    #[test]
    fn entra_errors_show_code_description_correlation_and_hint() {
        let secret = Password::new("s".into());
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x","error_codes":[7000215],"trace_id":"t","correlation_id":"c-1"}"#;
        let text = entra_error(401, body, &ClientCredential::Secret(&secret)).to_string();
        assert!(text.contains("invalid_client (AADSTS7000215): Invalid client secret provided. [correlation id c-1]"), "{text}");
        assert!(text.contains("hint: the client secret is wrong"), "{text}");
        assert!(!text.contains("Trace ID"), "{text}");
        let text = entra_error(
            502,
            "<html>bad gateway</html>",
            &ClientCredential::Secret(&secret),
        )
        .to_string();
        assert!(
            text.contains("HTTP 502") && text.contains("check --authority"),
            "{text}"
        );
    }

    #[test]
    fn token_responses_with_numbers_or_strings() {
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
        let t = parse_token(
            r#"{"access_token":"a","token_type":"Bearer","expires_in":3599}"#,
            now,
        )
        .unwrap();
        assert_eq!((t.expires_in, t.expires_on), (3599, 1_003_599));
        let t = parse_token(
            r#"{"access_token":"a","expires_in":"3600","expires_on":"1003000"}"#,
            now,
        )
        .unwrap();
        assert_eq!(
            (t.expires_in, t.expires_on, t.token_type.as_str()),
            (3600, 1_003_000, "Bearer")
        );
        assert!(parse_token("{}", now).is_err());
    }

    #[test]
    fn the_cache_keys_by_credential_and_refreshes_before_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keycred/tokens.json");
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
        let one = Password::new("one".into());
        let two = Password::new("two".into());
        let r = request(Some(path.clone()));
        let key_one = cache_key(&r, &ClientCredential::Secret(&one));
        let key_two = cache_key(&r, &ClientCredential::Secret(&two));
        assert_ne!(key_one, key_two);
        let token = Token {
            access_token: "at".into(),
            token_type: "Bearer".into(),
            expires_in: 3600,
            expires_on: now.unix_timestamp() + 3600,
            from_cache: false,
        };
        TokenCache::store(&path, &key_one, &token, now).unwrap();
        let cache = TokenCache::open(&path).unwrap();
        assert!(cache.lookup(&key_one, now).unwrap().from_cache);
        assert!(cache.lookup(&key_two, now).is_none());
        // Five minutes before expiry it is no longer used.
        let late = now + Duration::seconds(3600 - 300);
        assert!(cache.lookup(&key_one, late).is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(
            !std::fs::read_to_string(&path).unwrap().contains("one"),
            "no secret in the cache"
        );
    }

    fn a_token(now: OffsetDateTime) -> Token {
        Token {
            access_token: "at".into(),
            token_type: "Bearer".into(),
            expires_in: 3600,
            expires_on: now.unix_timestamp() + 3600,
            from_cache: false,
        }
    }

    #[test]
    fn storing_keeps_no_backups_of_earlier_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keycred/tokens.json");
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
        for key in ["a", "b", "c"] {
            TokenCache::store(&path, key, &a_token(now), now).unwrap();
        }
        let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["tokens.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_others_can_write_or_own_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keycred/tokens.json");
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
        TokenCache::store(&path, "k", &a_token(now), now).unwrap();
        // A planted (or loosened) file: another user could have written a token of their choosing into it.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let error = TokenCache::open(&path).unwrap_err().to_string();
        assert!(error.contains("other users may write it"), "{error}");
        assert!(TokenCache::store(&path, "k", &a_token(now), now).is_err());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(TokenCache::open(&path).is_ok());
        // Owned by another user (root can give it away; others cannot, and then only the mode is checked).
        if std::os::unix::fs::chown(&path, Some(65534), None).is_ok() {
            let error = TokenCache::open(&path).unwrap_err().to_string();
            assert!(error.contains("belongs to user id 65534"), "{error}");
        } else {
            assert_ne!(rustix::process::geteuid().as_raw(), 0, "root can chown");
        }
    }

    #[test]
    fn concurrent_stores_keep_every_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let now = OffsetDateTime::now_utc();
        std::thread::scope(|scope| {
            for i in 0..8 {
                let path = &path;
                scope.spawn(move || {
                    let token = Token {
                        access_token: format!("t{i}"),
                        token_type: "Bearer".into(),
                        expires_in: 3600,
                        expires_on: now.unix_timestamp() + 3600,
                        from_cache: false,
                    };
                    TokenCache::store(path, &format!("k{i}"), &token, now).unwrap();
                });
            }
        });
        let cache = TokenCache::open(&path).unwrap();
        for i in 0..8 {
            assert_eq!(
                cache.lookup(&format!("k{i}"), now).unwrap().access_token,
                format!("t{i}")
            );
        }
    }
}
