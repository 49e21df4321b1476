//! Azure Key Vault: certificates whose private key is made in the vault, marked non-exportable, and used there
//! (DESIGN.md "Key Vault and PKCS#11"). One client on the HTTP stack the token and Graph clients use (rustls on
//! aws-lc-rs, no redirect followed); workflows call it, front ends never do.
//!
//! A vault is named by its URL: `https://NAME.vault.azure.net` in the global cloud (each cloud its own domain), or
//! `http://` to this machine for tests. Every call carries `api-version=7.4` and a bearer token for the vault's
//! resource. 429 and 503 are retried after `Retry-After` (or a backoff), at most five times and never past the
//! client's time limit. What the vault answers is not trusted further than it must be: a key id (`kid`) it gives
//! is followed only on the vault's own origin, since the token goes with it, and a certificate it gives is parsed
//! as any certificate keycred reads.

mod policy;

use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::flow::jwt::{Algorithm, RemoteSigner};
use crate::graph::Cloud;
use crate::secret::Password;

pub use policy::{CertificatePolicy, Issuer};

/// The Key Vault REST API version keycred speaks.
pub const API_VERSION: &str = "7.4";

/// The resource a Key Vault token is issued for, in every cloud's own name: the scope is `{resource}/.default`.
pub fn resource(cloud: Cloud) -> String {
    format!("https://{}", cloud.key_vault_domain())
}

/// The most times one call is sent again after a 429 or 503.
const MAX_RETRIES: u32 = 5;

/// Pages of one list keycred follows at most.
const MAX_PAGES: usize = 1000;

/// A client for one vault.
pub struct VaultClient {
    base: String,
    token: Password,
    agent: ureq::Agent,
    timeout: Duration,
}

impl std::fmt::Debug for VaultClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VaultClient({})", self.base)
    }
}

/// One version of a certificate in the vault, as keycred uses it.
#[derive(Debug, Clone)]
pub struct VaultCertificate {
    /// The certificate's name.
    pub name: String,
    /// This version's id.
    pub version: String,
    /// The certificate (DER).
    pub cer: Vec<u8>,
    /// The URL of this version's key.
    pub kid: String,
    /// Whether the version may be used.
    pub enabled: bool,
    /// The certificate's tags (those that are strings).
    pub tags: std::collections::BTreeMap<String, String>,
}

impl VaultCertificate {
    /// The certificate, read as keycred reads any certificate.
    pub fn info(&self) -> Result<crate::credential::CertificateInfo> {
        crate::credential::CertificateInfo::from_der(&self.cer).map_err(|reason| {
            Error::Vault(format!(
                "the vault's certificate {}/{} cannot be read: {reason}",
                self.name, self.version
            ))
        })
    }
}

/// The certificate request (PKCS#10, DER) a pending operation carries, if it carries one.
pub fn request_of(operation: &Value) -> Option<Vec<u8>> {
    operation
        .get("csr")
        .and_then(Value::as_str)
        .and_then(|c| STANDARD.decode(c).ok())
}

impl VaultClient {
    /// A client for the vault at `url` in `cloud`; refuses a URL that names no vault of that cloud.
    pub fn new(url: &str, cloud: Cloud, token: Password, timeout: Duration) -> Result<VaultClient> {
        let base = check_url(url, cloud)?;
        Ok(VaultClient {
            agent: crate::flow::token::agent(&base, timeout),
            base,
            token,
            timeout,
        })
    }

    /// The vault's URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Starts making certificate `name` with `policy` (a new version if it exists); the operation is pending.
    pub fn create_certificate(
        &self,
        name: &str,
        policy: &CertificatePolicy,
        tags: &[(&str, &str)],
    ) -> Result<Value> {
        let url = format!("{}/certificates/{}/create", self.base, check_name(name)?);
        let mut body = serde_json::json!({"policy": policy.to_json()});
        if !tags.is_empty() {
            body["tags"] = tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        self.call("POST", &url, Some(&body))
    }

    /// The pending operation of certificate `name` (its `status`, and for issuer Unknown its `csr`).
    pub fn pending(&self, name: &str) -> Result<Value> {
        let url = format!("{}/certificates/{}/pending", self.base, check_name(name)?);
        self.call("GET", &url, None)
    }

    /// Waits, asking every `every`, until the pending operation of `name` is no longer in progress, or until
    /// `patience` has passed; returns the operation as last read.
    pub fn wait_pending(&self, name: &str, patience: Duration, every: Duration) -> Result<Value> {
        let until = Instant::now() + patience;
        loop {
            let operation = self.pending(name)?;
            let status = operation
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("");
            if status != "inProgress" || Instant::now() >= until {
                return Ok(operation);
            }
            std::thread::sleep(every);
        }
    }

    /// Waits (up to `patience`) for the vault to finish making certificate `name`, and reads what it made.
    pub fn completed(&self, name: &str, patience: Duration) -> Result<VaultCertificate> {
        let operation = self.wait_pending(name, patience, Duration::from_millis(500))?;
        let status = operation
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("");
        if status != "completed" {
            return Err(Error::Vault(format!(
                "the vault did not finish making certificate {name} (its operation is {status:?}{}): look at it in \
                 the portal, and run keycred again once it is done",
                operation
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .map(|m| format!(": {}", Value::from(m)))
                    .unwrap_or_default()
            )));
        }
        self.certificate(name, None)
    }

    /// The newest version of certificate `name`, or `None` when the vault has no certificate of that name.
    pub fn find(&self, name: &str) -> Result<Option<VaultCertificate>> {
        match self.certificate(name, None) {
            Ok(found) => Ok(Some(found)),
            Err(Error::Vault(said)) if said.contains("(HTTP 404)") => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Gives the pending certificate `name` the CA's answer (`x5c`: the certificate first, DER each).
    pub fn merge(&self, name: &str, chain: &[Vec<u8>]) -> Result<VaultCertificate> {
        let url = format!(
            "{}/certificates/{}/pending/merge",
            self.base,
            check_name(name)?
        );
        let x5c: Vec<String> = chain.iter().map(|der| STANDARD.encode(der)).collect();
        let answer = self.call("POST", &url, Some(&serde_json::json!({ "x5c": x5c })))?;
        self.version_from(name, &answer)
    }

    /// The versions of certificate `name`, oldest first (by their start): each id, SHA-1 thumbprint (`x5t`,
    /// base64url) and whether it is enabled. A next page is followed only on this vault.
    pub fn versions(&self, name: &str) -> Result<Vec<VaultVersion>> {
        let path = format!("/certificates/{}/versions", check_name(name)?);
        let mut found: Vec<VaultVersion> = self
            .list(&path, &format!("versions of {name}"))?
            .iter()
            .filter_map(version_of)
            .collect();
        found.sort_by_key(|v| v.not_before);
        Ok(found)
    }

    /// The vault's certificates: each one's name, its current version's tags and whether it is enabled.
    pub fn certificates(&self) -> Result<Vec<ListedCertificate>> {
        Ok(self
            .list("/certificates", "certificates")?
            .iter()
            .filter_map(|item| {
                let id = item.get("id")?.as_str()?;
                let name = id
                    .strip_prefix(&format!("{}/certificates/", self.base))?
                    .to_owned();
                check_name(&name).ok()?;
                Some(ListedCertificate {
                    name,
                    tags: tags_of(item),
                    enabled: item.pointer("/attributes/enabled").and_then(Value::as_bool)
                        == Some(true),
                })
            })
            .collect())
    }

    /// Every item of a list at `path`, its pages followed through `nextLink` (which carries its own query) on this
    /// vault's origin and path only.
    fn list(&self, path: &str, what: &str) -> Result<Vec<Value>> {
        let first = format!("{}{path}", self.base);
        let mut url = format!("{first}?api-version={API_VERSION}");
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let answer = self.call("GET", &url, None)?;
            items.extend(
                answer
                    .get("value")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            match answer.get("nextLink").and_then(Value::as_str) {
                Some(next) if next.strip_prefix(&first).is_some_and(|rest| rest.starts_with('?')) => {
                    url = next.to_owned();
                }
                Some(other) => {
                    return Err(Error::Vault(format!(
                        "the vault's list of {what} names a next page at {other:?}, not on {first}: keycred sends \
                         its token only to the vault it was given, so it stopped"
                    )))
                }
                None => return Ok(items),
            }
        }
        Err(Error::Vault(format!(
            "the vault's list of {what} goes on past {MAX_PAGES} pages: keycred stopped there"
        )))
    }

    /// Certificate `name`, its newest version or `version`.
    pub fn certificate(&self, name: &str, version: Option<&str>) -> Result<VaultCertificate> {
        let mut url = format!("{}/certificates/{}", self.base, check_name(name)?);
        if let Some(version) = version {
            url.push('/');
            url.push_str(check_version(version)?);
        }
        let answer = self.call("GET", &url, None)?;
        self.version_from(name, &answer)
    }

    /// A certificate version from the vault's answer, checked: its key on this vault, its certificate readable.
    fn version_from(&self, name: &str, answer: &Value) -> Result<VaultCertificate> {
        certificate_from(&self.base, name, answer)
    }

    /// Whether `url` is on this vault's origin, under `/keys/`.
    fn on_vault(&self, url: &str) -> bool {
        url.strip_prefix(&self.base).is_some_and(|path| {
            path.starts_with("/keys/") && !path.contains(['?', '#', '@']) && !path.contains("..")
        })
    }

    /// Signs a SHA-256 `digest` with the key at `kid` (`keys/sign`).
    pub fn sign(&self, kid: &str, algorithm: Algorithm, digest: &[u8; 32]) -> Result<Vec<u8>> {
        if !self.on_vault(kid) {
            return Err(Error::Vault(format!(
                "{kid:?} is not a key of the vault {}",
                self.base
            )));
        }
        let alg = match algorithm {
            Algorithm::Rs256 => "RS256",
            Algorithm::Ps256 => "PS256",
        };
        let body = serde_json::json!({"alg": alg, "value": URL_SAFE_NO_PAD.encode(digest)});
        let answer = self.call("POST", &format!("{kid}/sign"), Some(&body))?;
        answer
            .get("value")
            .and_then(Value::as_str)
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .ok_or_else(|| {
                Error::Vault(format!(
                    "the vault's answer to signing with {kid} holds no signature"
                ))
            })
    }

    /// One call, with `api-version`, retried after 429 and 503; Key Vault's errors become [`Error::Vault`].
    fn call(&self, method: &str, url: &str, body: Option<&Value>) -> Result<Value> {
        // A next link carries its own query, api-version among it.
        let url = match url.contains('?') {
            true => url.to_owned(),
            false => format!("{url}?api-version={API_VERSION}"),
        };
        let deadline = Instant::now() + self.timeout;
        let what = format!("{method} {}", url.strip_prefix(&self.base).unwrap_or(&url));
        for attempt in 0.. {
            let (status, headers, answer) = self.send(method, &url, body, &what, deadline)?;
            if (status == 429 || status == 503) && attempt < MAX_RETRIES {
                let wait = headers
                    .retry_after
                    .unwrap_or_else(|| Duration::from_secs(1 << attempt.min(4)));
                if Instant::now() + wait < deadline {
                    std::thread::sleep(wait);
                    continue;
                }
            }
            if (200..300).contains(&status) {
                return Ok(answer);
            }
            return Err(failure(
                &what,
                status,
                &answer,
                headers.challenge.as_deref(),
            ));
        }
        unreachable!("the loop returns")
    }

    fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
        what: &str,
        deadline: Instant,
    ) -> Result<(u16, Headers, Value)> {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("authorization", format!("Bearer {}", self.token.expose()))
            .header("accept", "application/json");
        let bytes = body.map(|b| serde_json::to_vec(b).expect("JSON values serialize"));
        let request = match bytes {
            Some(bytes) => request
                .header("content-type", "application/json")
                .body(bytes),
            None => request.body(Vec::new()),
        }
        .map_err(|e| Error::Invalid(format!("{what}: {e}")))?;
        let timeout = deadline.saturating_duration_since(Instant::now());
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| crate::flow::token::network_error(e, &self.base, timeout))?;
        let status = response.status().as_u16();
        let header = |name: &str| crate::flow::token::header(&response, name);
        crate::flow::token::refuse_redirect(
            status,
            header("location").as_deref(),
            what,
            "--key-vault",
        )?;
        let headers = Headers {
            retry_after: header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
            challenge: header("www-authenticate"),
        };
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| crate::flow::token::network_error(e, &self.base, timeout))?;
        let answer = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                Error::Vault(format!(
                    "{what}: the answer (HTTP {status}) is not JSON; is {} an Azure Key Vault?",
                    self.base
                ))
            })?
        };
        Ok((status, headers, answer))
    }
}

/// Whether `url` is a key of the vault at `base` (its origin, under `/keys/`, nothing that could lead elsewhere).
fn on_vault(base: &str, url: &str) -> bool {
    url.strip_prefix(base).is_some_and(|path| {
        path.starts_with("/keys/")
            && !path.contains(['?', '#', '@', '\\'])
            && !path.contains("..")
            && !path.contains("//")
    })
}

/// A certificate version from the answer of the vault at `base` for certificate `name`, checked: its key on
/// this vault, its certificate there (not parsed here: [`crate::credential::CertificateInfo::from_der`] reads it).
pub fn certificate_from(base: &str, name: &str, answer: &Value) -> Result<VaultCertificate> {
    let text = |key: &str| answer.get(key).and_then(Value::as_str);
    let bad = |what: &str| {
        Error::Vault(format!(
            "the vault's answer for certificate {name} has no usable {what}: is {base} an Azure Key Vault?"
        ))
    };
    let cer = text("cer")
        .and_then(|c| STANDARD.decode(c).ok())
        .ok_or_else(|| bad("cer"))?;
    let kid = text("kid").ok_or_else(|| bad("kid"))?;
    if !on_vault(base, kid) {
        return Err(Error::Vault(format!(
            "the vault named the key of certificate {name} at {kid:?}, not on {base}: keycred sends its token only \
             to the vault it was given, so it stopped"
        )));
    }
    // The version names files and records here, and is sent back in later calls: only an id Key Vault gives.
    let version = kid
        .rsplit('/')
        .next()
        .filter(|v| check_version(v).is_ok())
        .ok_or_else(|| bad("kid"))?
        .to_owned();
    Ok(VaultCertificate {
        name: name.to_owned(),
        version,
        cer,
        kid: kid.to_owned(),
        enabled: answer
            .pointer("/attributes/enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        tags: tags_of(answer),
    })
}

/// An answer's tags (those that are strings).
fn tags_of(answer: &Value) -> std::collections::BTreeMap<String, String> {
    answer
        .get("tags")
        .and_then(Value::as_object)
        .map(|tags| {
            tags.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// A certificate as the vault lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedCertificate {
    /// Its name.
    pub name: String,
    /// Its current version's tags.
    pub tags: std::collections::BTreeMap<String, String>,
    /// Whether it is enabled.
    pub enabled: bool,
}

/// The whole months of validity Key Vault is asked for, for `days` (`None`: a year): at least one.
pub fn months_for_days(days: Option<u32>) -> u32 {
    days.map_or(12, |days| days.div_ceil(30).max(1))
}

/// The most whole months of validity that keep within `limit` whatever the month (a month counted as 31 days);
/// 0 when not even one does.
pub fn months_within(limit: time::Duration) -> u32 {
    u32::try_from(limit.whole_days() / 31).unwrap_or(u32::MAX)
}

/// One version of a certificate, as the vault lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultVersion {
    /// Its id (the last segment of its URL).
    pub version: String,
    /// The certificate's SHA-1 thumbprint.
    pub sha1: Vec<u8>,
    /// Whether it may be used.
    pub enabled: bool,
    /// Its start (Unix seconds), which orders the versions.
    pub not_before: i64,
}

/// A version from the vault's list; `None` for an entry that lacks its id or thumbprint.
pub fn version_of(item: &Value) -> Option<VaultVersion> {
    let id = item.get("id").and_then(Value::as_str)?;
    let version = id.rsplit('/').next().filter(|v| check_version(v).is_ok())?;
    let sha1 = item
        .get("x5t")
        .and_then(Value::as_str)
        .and_then(|t| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')).ok())
        .filter(|t| t.len() == 20)?;
    Some(VaultVersion {
        version: version.to_owned(),
        sha1,
        enabled: item.pointer("/attributes/enabled").and_then(Value::as_bool) == Some(true),
        not_before: item
            .pointer("/attributes/nbf")
            .and_then(Value::as_i64)
            .unwrap_or(0),
    })
}

/// What keycred reads of an answer's headers.
struct Headers {
    retry_after: Option<Duration>,
    challenge: Option<String>,
}

/// Key Vault's error as one line: its code and message, and what to do.
pub fn failure(what: &str, status: u16, answer: &Value, challenge: Option<&str>) -> Error {
    let code = answer
        .pointer("/error/code")
        .and_then(Value::as_str)
        .unwrap_or("");
    let message = answer
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("(no message)");
    // The vault's text is shown quoted: it is not keycred's.
    let said = format!(
        "{}: {}",
        crate::words::one_line(code),
        serde_json::Value::from(message)
    );
    let hint = match (status, code) {
        (401, _) => format!(
            "the token is not one for this vault{}: get one with az account get-access-token --resource \
             https://vault.azure.net (--vault-token-file), for the vault's own cloud",
            challenge
                .and_then(|c| c.split("resource=\"").nth(1))
                .and_then(|r| r.split('"').next())
                .map(|r| format!(" (the vault asks for {})", crate::words::one_line(r)))
                .unwrap_or_default()
        ),
        (403, _) => "the identity lacks the vault permission (for certificates: Key Vault Certificates Officer; \
                     to sign: Key Vault Crypto User)"
            .into(),
        (404, _) => "no such certificate or version in this vault: check the name (keycred new --key-vault makes one)"
            .into(),
        (429, _) | (503, _) => "the vault is throttling requests: run again later".into(),
        _ => String::new(),
    };
    Error::Vault(format!(
        "Key Vault refused {what} (HTTP {status}) with {said}{}",
        if hint.is_empty() {
            String::new()
        } else {
            format!("; {hint}")
        }
    ))
}

/// A vault URL, checked: `https://NAME.{cloud's vault domain}` (a path of `/` at most), or `http://` to this
/// machine; returned without a trailing slash.
pub fn check_url(url: &str, cloud: Cloud) -> Result<String> {
    let base = url.trim_end_matches('/');
    let refuse = |why: &str| {
        Error::Invalid(format!(
            "--key-vault {url:?}: {why}; give the vault's URL, such as https://contoso-keys.{}",
            cloud.key_vault_domain()
        ))
    };
    let uri: ureq::http::Uri = base.parse().map_err(|_| refuse("not a URL"))?;
    let host = uri
        .host()
        .ok_or_else(|| refuse("not a URL"))?
        .to_ascii_lowercase();
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) || uri.query().is_some() {
        return Err(refuse("a vault URL has no user name and no query"));
    }
    if !matches!(uri.path(), "" | "/") {
        return Err(refuse("a vault URL names the vault only, with no path"));
    }
    match uri.scheme_str() {
        Some("http") if crate::flow::authority::is_loopback(&host) => Ok(base.to_owned()),
        Some("https") => {
            let domain = cloud.key_vault_domain();
            let vault = host.strip_suffix(domain).and_then(|v| v.strip_suffix('.'));
            match vault {
                Some(name) if !name.is_empty() && !name.contains('.') => Ok(base.to_owned()),
                _ => {
                    let other = [Cloud::Public, Cloud::UsGov, Cloud::China]
                        .into_iter()
                        .filter(|c| c.key_vault_domain() != domain)
                        .find(|c| host.ends_with(&format!(".{}", c.key_vault_domain())));
                    Err(refuse(&match other {
                        Some(other) => format!(
                            "this vault is in another cloud than --cloud ({}): a token of one cloud is not \
                             accepted by another",
                            other.key_vault_domain()
                        ),
                        None => format!("not a key vault of this cloud (*.{domain})"),
                    }))
                }
            }
        }
        _ => Err(refuse("https only (http only to this machine)")),
    }
}

/// A certificate name as Key Vault takes it: 1 to 127 letters, digits and dashes.
pub fn check_name(name: &str) -> Result<&str> {
    if (1..=127).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Ok(name)
    } else {
        Err(Error::Invalid(format!(
            "--name {name:?}: a Key Vault certificate name is 1 to 127 letters, digits and dashes"
        )))
    }
}

/// A version id as Key Vault makes them (32 hex digits; any letters and digits taken).
fn check_version(version: &str) -> Result<&str> {
    if !version.is_empty()
        && version.len() <= 64
        && version.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        Ok(version)
    } else {
        Err(Error::Invalid(format!(
            "--vault-cert …/{version:?}: a version is the id Key Vault gave it (32 hex digits)"
        )))
    }
}

/// A vault version's key, which signs through the vault.
#[derive(Debug, Clone)]
pub struct VaultKey {
    client: std::sync::Arc<VaultClient>,
    kid: String,
}

impl VaultKey {
    /// The key of `certificate`, as this vault holds it.
    pub fn new(client: std::sync::Arc<VaultClient>, certificate: &VaultCertificate) -> VaultKey {
        VaultKey {
            client,
            kid: certificate.kid.clone(),
        }
    }

    /// The key's URL (with its version).
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

impl RemoteSigner for VaultKey {
    fn sign_digest(&self, algorithm: Algorithm, digest: &[u8; 32]) -> Result<Vec<u8>> {
        self.client.sign(&self.kid, algorithm, digest)
    }

    fn describe(&self) -> String {
        format!("the key vault key {}", self.kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_urls_are_checked_against_the_cloud() {
        let ok = |url: &str, cloud| check_url(url, cloud).unwrap();
        assert_eq!(
            ok("https://contoso-keys.vault.azure.net/", Cloud::Public),
            "https://contoso-keys.vault.azure.net"
        );
        assert_eq!(
            ok("http://127.0.0.1:8200", Cloud::Public),
            "http://127.0.0.1:8200"
        );
        assert_eq!(
            ok("https://k.vault.usgovcloudapi.net", Cloud::UsGov),
            "https://k.vault.usgovcloudapi.net"
        );
        let refused = |url: &str, cloud| check_url(url, cloud).unwrap_err().to_string();
        assert!(refused("https://k.vault.azure.cn", Cloud::Public).contains("another cloud"));
        assert!(refused("https://k.vault.azure.net", Cloud::China).contains("another cloud"));
        assert!(refused("http://k.vault.azure.net", Cloud::Public).contains("https only"));
        assert!(
            refused("https://vault.azure.net.evil.example", Cloud::Public)
                .contains("not a key vault")
        );
        assert!(refused("https://a.b.vault.azure.net", Cloud::Public).contains("not a key vault"));
        assert!(refused("https://k.vault.azure.net/keys/x", Cloud::Public).contains("no path"));
        assert!(refused("https://u@k.vault.azure.net", Cloud::Public).contains("no user name"));
        let base = "https://k.vault.azure.net";
        for kid in [
            "https://k.vault.azure.net.evil.example/keys/a/1",
            "https://k.vault.azure.net/keys/../secrets/a",
            "https://k.vault.azure.net/keys/a/1?x=https://evil.example",
            "https://k.vault.azure.net@evil.example/keys/a/1",
            "https://k.vault.azure.net//evil.example/keys/a/1",
            "https://k.vault.azure.net/secrets/a/1",
        ] {
            let answer = serde_json::json!({"cer": "MAA=", "kid": kid});
            let error = certificate_from(base, "a", &answer)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("not on https://k.vault.azure.net"),
                "{kid}: {error}"
            );
        }
        let good = serde_json::json!({"cer": "MAA=", "kid": "https://k.vault.azure.net/keys/a/0f1e",
            "attributes": {"enabled": true}});
        let found = certificate_from(base, "a", &good).unwrap();
        assert_eq!((found.version.as_str(), found.enabled), ("0f1e", true));
        assert!(check_name("app-cert-1").is_ok());
        assert!(check_name("app_cert").is_err());
        assert!(check_name("").is_err());
        assert!(check_version("0123abcd").is_ok());
        assert!(check_version("../x").is_err());
    }

    #[test]
    fn a_key_url_whose_version_is_not_a_version_is_refused() {
        // On the vault's origin, yet its last segment (the version keycred names files and records after) is no
        // id Key Vault gives.
        let base = "https://k.vault.azure.net";
        for kid in [
            "https://k.vault.azure.net/keys/a/0f 1e",
            "https://k.vault.azure.net/keys/a/0f\n1e",
            "https://k.vault.azure.net/keys/a/",
        ] {
            let answer = serde_json::json!({"cer": "MAA=", "kid": kid});
            let error = certificate_from(base, "a", &answer)
                .unwrap_err()
                .to_string();
            assert!(error.contains("no usable kid"), "{kid:?}: {error}");
        }
    }
}
