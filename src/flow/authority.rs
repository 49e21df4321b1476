//! The authority a token request goes to: `https://login.microsoftonline.com` by default, a sovereign cloud's
//! (`https://login.microsoftonline.us`, `https://login.chinacloudapi.cn`, …) or a local test server.
//!
//! `https://` always; `http://` only to this machine (127.0.0.0/8, `localhost`, `[::1]`), so a typo can never send
//! a client assertion or a secret in clear text across a network.

use std::net::IpAddr;

use crate::error::{Error, Result};

/// Entra's global authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// The authority hosts of Microsoft's clouds (MSAL's list of well-known authorities).
const MICROSOFT_CLOUDS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoft.com",
    "login.windows.net",
    "login.microsoftonline.us",
    "login-us.microsoftonline.com",
    "login.usgovcloudapi.net",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
    "login.microsoftonline.de",
];

/// A checked authority URL, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    base: String,
    host: String,
}

impl Authority {
    /// Checks `text` as an authority (exit 2 on a bad one).
    pub fn parse(text: &str) -> Result<Authority> {
        let (uri, host) = check_url(text, "--authority", "https://login.microsoftonline.com")?;
        let fail = |reason: &str| Error::Invalid(format!("--authority {text:?}: {reason}"));
        if uri.query().is_some() || text.contains('#') {
            return Err(fail("must not have a query or fragment"));
        }
        Ok(Authority {
            base: text.trim_end_matches('/').to_owned(),
            host,
        })
    }

    /// The host name, for messages.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The authority as given, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// Whether this is a Microsoft cloud's authority, which MSAL and azure-identity know without asking
    /// (instance discovery). Any other authority (a test server, a proxy) must be declared to them as known.
    pub fn is_microsoft_cloud(&self) -> bool {
        MICROSOFT_CLOUDS.contains(&self.host.as_str())
    }

    /// Whether this is Entra's global authority, which the libraries use when none is given.
    pub fn is_default(&self) -> bool {
        self.host == "login.microsoftonline.com"
    }

    /// The v1.0 token issuer's host for this cloud: `sts.windows.net`, or `sts.chinacloudapi.cn` for Azure
    /// operated by 21Vianet.
    pub fn v1_issuer_host(&self) -> &'static str {
        match self.host.as_str() {
            "login.chinacloudapi.cn" | "login.partner.microsoftonline.cn" => "sts.chinacloudapi.cn",
            _ => "sts.windows.net",
        }
    }

    /// `{authority}/{tenant}/oauth2/v2.0/token`: the token endpoint, and the client assertion's `aud`.
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.base)
    }
}

impl Default for Authority {
    fn default() -> Self {
        Authority::parse(DEFAULT_AUTHORITY).expect("the default authority is valid")
    }
}

/// Checks a URL keycred sends credentials to or trusts keys from (`flag` names it in messages, `example` shows a
/// good one): `https://`, or `http://` only to this machine. Returns the URL and its host, lowercased (exit 2 on
/// a bad one).
pub fn check_url(text: &str, flag: &str, example: &str) -> Result<(ureq::http::Uri, String)> {
    let fail = |reason: &str| Error::Invalid(format!("{flag} {text:?}: {reason}"));
    let uri: ureq::http::Uri = text
        .parse()
        .map_err(|_| fail(&format!("is not a URL such as {example}")))?;
    let host = uri
        .host()
        .ok_or_else(|| fail("has no host name"))?
        .to_ascii_lowercase();
    match uri.scheme_str() {
        Some("https") => Ok((uri, host)),
        Some("http") if is_loopback(&host) => Ok((uri, host)),
        Some("http") => Err(fail(
            "http:// is allowed only for this machine (127.0.0.1, localhost, [::1]); the URL must be https://",
        )),
        _ => Err(fail("must start with https://")),
    }
}

/// Whether `host` (as a URL spells it) is this machine.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare == "localhost" || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks a tenant: a GUID, a domain (`contoso.onmicrosoft.com`) or `organizations`-style name.
pub fn check_tenant(tenant: &str) -> Result<()> {
    if ["common", "organizations", "consumers"].contains(&tenant.to_ascii_lowercase().as_str()) {
        return Err(Error::Invalid(format!(
            "--tenant {tenant}: the client credentials flow needs the app's own tenant, not a multi-tenant alias; \
             give the directory (tenant) id, a GUID, or its domain such as contoso.onmicrosoft.com"
        )));
    }
    let domain = tenant.contains('.')
        && tenant.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if uuid::Uuid::try_parse(tenant).is_err() && !domain {
        return Err(Error::Invalid(format!(
            "--tenant {tenant:?} is not a tenant id: give the directory (tenant) id, a GUID, or its domain such as \
             contoso.onmicrosoft.com (portal: Microsoft Entra ID > Overview)"
        )));
    }
    Ok(())
}

/// Checks a client id: the app's application (client) id, a GUID in Entra.
pub fn check_client_id(client_id: &str) -> Result<()> {
    if uuid::Uuid::try_parse(client_id).is_err() {
        return Err(Error::Invalid(format!(
            "--client-id {client_id:?} is not a client id: give the app's Application (client) ID, a GUID (portal: \
             App registrations > your app > Overview)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_here() {
        for ok in [
            "https://login.microsoftonline.com",
            "https://login.microsoftonline.us/",
            "http://127.0.0.1:8080",
            "http://127.10.0.1",
            "http://localhost:3000",
            "http://[::1]:9000",
        ] {
            Authority::parse(ok).unwrap();
        }
        for (bad, expected) in [
            ("http://login.microsoftonline.com", "only for this machine"),
            ("http://10.0.0.1", "only for this machine"),
            ("ftp://x", "must start with https://"),
            ("login.microsoftonline.com", "must start with https://"),
            ("https://x/?a=b", "query"),
            ("not a url", "is not a URL"),
        ] {
            let err = Authority::parse(bad).unwrap_err();
            assert!(err.to_string().contains(expected), "{bad}: {err}");
            assert_eq!(err.exit_code(), crate::exit::USAGE);
        }
        assert_eq!(
            Authority::parse("https://login.microsoftonline.us/")
                .unwrap()
                .token_url("contoso.onmicrosoft.com"),
            "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
    }

    #[test]
    fn tenants_and_client_ids() {
        check_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap();
        check_tenant("contoso.onmicrosoft.com").unwrap();
        assert!(check_tenant("").is_err());
        assert!(check_tenant("a/b").is_err());
        check_client_id("11111111-2222-3333-4444-555555555555").unwrap();
        assert!(check_client_id("a b").is_err());
        for bad in ["t", "common", "Organizations", "contoso..com", "-a.com"] {
            assert!(check_tenant(bad).is_err(), "{bad}");
        }
        assert!(check_client_id("not-a-guid").is_err());
    }
}
