//! What an API must check in the app-only tokens Entra issues for it, and the two ways keycred writes it down:
//! Azure API Management's `<validate-jwt>` inbound policy, and a neutral JSON shape (issuers, audiences, JWKS
//! URL, roles) for any middleware, with the `keycred decode` command line that applies exactly those rules.
//!
//! The issuer follows the token version the API's registration asks for (`api.requestedAccessTokenVersion`,
//! legacy `accessTokenAcceptedVersion`; null means v1): v1.0 tokens come from `https://sts.windows.net/{tid}/`,
//! v2.0 tokens from `{authority}/{tid}/v2.0`. Accepting the wrong one is the commonest reason an API refuses a
//! good token, so both are spelled out here rather than left to a library's default.

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::flow::authority::Authority;

/// Which access-token versions the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    /// v1.0 tokens only (the registration's default: `null` or 1).
    V1,
    /// v2.0 tokens only.
    V2,
    /// Both, while an API moves from one to the other.
    Both,
}

impl TokenVersion {
    /// `1`, `2` or `both`.
    pub fn name(self) -> &'static str {
        match self {
            TokenVersion::V1 => "1",
            TokenVersion::V2 => "2",
            TokenVersion::Both => "both",
        }
    }
}

/// The rules an API applies to a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRules {
    /// The tenant's id.
    pub tenant: String,
    /// The token versions accepted.
    pub version: TokenVersion,
    /// The accepted `iss` values.
    pub issuers: Vec<String>,
    /// The accepted `aud` values.
    pub audiences: Vec<String>,
    /// The tenant's OpenID Connect metadata (v2.0), where the signing keys are found.
    pub openid_config: String,
    /// The tenant's signing keys.
    pub jwks_uri: String,
    /// Roles of which a token must carry at least one; empty: none required.
    pub roles: Vec<String>,
}

impl ApiRules {
    /// The rules for `tenant` (a GUID: issuers name the tenant by its id), `audiences` and `roles`.
    pub fn new(
        authority: &Authority,
        tenant: &str,
        audiences: Vec<String>,
        roles: Vec<String>,
        version: TokenVersion,
    ) -> Result<ApiRules> {
        let tenant = tenant_id(tenant)?;
        if audiences.is_empty() {
            return Err(Error::Invalid(
                "give the audience the API accepts: --audience (its App ID URI, api://…, for v1 tokens; its client id for v2 tokens), or --manifest API.json".into(),
            ));
        }
        for value in audiences.iter().chain(&roles) {
            if value.trim().is_empty() || value.trim() != value {
                return Err(Error::Invalid(format!(
                    "{value:?}: an audience or a role cannot be empty or start or end with spaces"
                )));
            }
        }
        let v1 = format!("https://{}/{tenant}/", authority.v1_issuer_host());
        let v2 = format!("{}/{tenant}/v2.0", authority.as_str());
        let issuers = match version {
            TokenVersion::V1 => vec![v1],
            TokenVersion::V2 => vec![v2],
            TokenVersion::Both => vec![v1, v2],
        };
        Ok(ApiRules {
            openid_config: format!(
                "{}/{tenant}/v2.0/.well-known/openid-configuration",
                authority.as_str()
            ),
            jwks_uri: format!("{}/{tenant}/discovery/v2.0/keys", authority.as_str()),
            tenant,
            version,
            issuers,
            audiences: dedup(audiences),
            roles: dedup(roles),
        })
    }

    /// The `keycred decode` command line that applies these rules to a token on standard input.
    pub fn decode_command(&self) -> String {
        let mut words = vec![
            "keycred".to_owned(),
            "decode".into(),
            "-".into(),
            "--jwks".into(),
            crate::shell::word(&self.jwks_uri),
        ];
        for (flag, values) in [
            ("--audience", &self.audiences),
            ("--issuer", &self.issuers),
            ("--require-any-role", &self.roles),
        ] {
            for value in values {
                words.push(flag.into());
                words.push(crate::shell::word(value));
            }
        }
        words.join(" ")
    }

    /// The neutral JSON shape, with the matching `keycred decode` command line.
    pub fn to_json(&self) -> Value {
        json!({
            "tenant": self.tenant,
            "tokenVersion": self.version.name(),
            "issuers": self.issuers,
            "audiences": self.audiences,
            "openidConfiguration": self.openid_config,
            "jwksUri": self.jwks_uri,
            "requiredRoles": {"match": "any", "values": self.roles},
            "requireSignedTokens": true,
            "requireExpirationTime": true,
            "clockSkewSeconds": crate::flow::decode::LEEWAY_SECONDS,
            "decode": self.decode_command(),
        })
    }

    /// Azure API Management's policy document with the `<validate-jwt>` inbound policy, in the order the
    /// policy statement documents (openid-config, audiences, issuers, required-claims).
    pub fn to_apim_xml(&self) -> String {
        let mut out = String::from("<policies>\n    <inbound>\n        <base />\n");
        out.push_str(&format!(
            "        <validate-jwt header-name=\"Authorization\" failed-validation-httpcode=\"401\" failed-validation-error-message=\"Unauthorized. Access token is missing or invalid.\" require-expiration-time=\"true\" require-scheme=\"Bearer\" require-signed-tokens=\"true\" clock-skew=\"{}\">\n",
            crate::flow::decode::LEEWAY_SECONDS
        ));
        out.push_str(&format!(
            "            <openid-config url=\"{}\" />\n",
            xml_escape(&self.openid_config)
        ));
        let list = |out: &mut String, outer: &str, inner: &str, values: &[String]| {
            out.push_str(&format!("            <{outer}>\n"));
            for value in values {
                out.push_str(&format!(
                    "                <{inner}>{}</{inner}>\n",
                    xml_escape(value)
                ));
            }
            out.push_str(&format!("            </{outer}>\n"));
        };
        list(&mut out, "audiences", "audience", &self.audiences);
        list(&mut out, "issuers", "issuer", &self.issuers);
        if !self.roles.is_empty() {
            out.push_str("            <required-claims>\n");
            out.push_str("                <claim name=\"roles\" match=\"any\">\n");
            for role in &self.roles {
                out.push_str(&format!(
                    "                    <value>{}</value>\n",
                    xml_escape(role)
                ));
            }
            out.push_str("                </claim>\n            </required-claims>\n");
        }
        out.push_str("        </validate-jwt>\n    </inbound>\n");
        for section in ["backend", "outbound", "on-error"] {
            out.push_str(&format!(
                "    <{section}>\n        <base />\n    </{section}>\n"
            ));
        }
        out.push_str("</policies>\n");
        out
    }
}

/// Checks that `tenant` is a tenant id (a GUID), as issuers spell it, and returns it lowercased.
pub fn tenant_id(tenant: &str) -> Result<String> {
    uuid::Uuid::try_parse(tenant)
        .map(|id| id.to_string())
        .map_err(|_| {
            Error::Invalid(format!(
                "--tenant {tenant:?}: a token's issuer names the tenant by its id, so give the directory (tenant) ID, a GUID (Entra admin center > Overview > Tenant ID)"
            ))
        })
}

fn dedup(values: Vec<String>) -> Vec<String> {
    let mut seen = Vec::with_capacity(values.len());
    for value in values {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    seen
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn issuers_follow_the_token_version_and_the_cloud() {
        let global = Authority::default();
        let rules = |authority: &Authority, version| {
            ApiRules::new(
                authority,
                TENANT,
                vec!["api://orders".into()],
                vec![],
                version,
            )
            .unwrap()
            .issuers
        };
        assert_eq!(
            rules(&global, TokenVersion::V1),
            [format!("https://sts.windows.net/{TENANT}/")]
        );
        assert_eq!(
            rules(&global, TokenVersion::V2),
            [format!("https://login.microsoftonline.com/{TENANT}/v2.0")]
        );
        assert_eq!(rules(&global, TokenVersion::Both).len(), 2);
        let china = Authority::parse("https://login.chinacloudapi.cn").unwrap();
        assert_eq!(
            rules(&china, TokenVersion::Both),
            [
                format!("https://sts.chinacloudapi.cn/{TENANT}/"),
                format!("https://login.chinacloudapi.cn/{TENANT}/v2.0")
            ]
        );
    }

    #[test]
    fn refusals_name_what_to_give() {
        let global = Authority::default();
        let err = ApiRules::new(
            &global,
            "contoso.onmicrosoft.com",
            vec!["a".into()],
            vec![],
            TokenVersion::V2,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("give the directory (tenant) ID, a GUID"),
            "{err}"
        );
        let err = ApiRules::new(&global, TENANT, vec![], vec![], TokenVersion::V2).unwrap_err();
        assert!(err.to_string().contains("--audience"), "{err}");
        let err = ApiRules::new(
            &global,
            TENANT,
            vec!["a".into()],
            vec![" x".into()],
            TokenVersion::V2,
        )
        .unwrap_err();
        assert!(err.to_string().contains("spaces"), "{err}");
    }

    #[test]
    fn values_are_escaped_for_xml_and_the_shell() {
        let rules = ApiRules::new(
            &Authority::default(),
            TENANT,
            vec!["api://a&b".into()],
            vec!["Orders <Read>".into(), "Orders <Read>".into()],
            TokenVersion::V2,
        )
        .unwrap();
        let xml = rules.to_apim_xml();
        assert!(xml.contains("<audience>api://a&amp;b</audience>"), "{xml}");
        assert!(xml.contains("<value>Orders &lt;Read&gt;</value>"), "{xml}");
        assert_eq!(xml.matches("<value>").count(), 1, "{xml}");
        assert!(rules
            .decode_command()
            .ends_with("--audience 'api://a&b' --issuer https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0 --require-any-role 'Orders <Read>'"));
        let none = ApiRules::new(
            &Authority::default(),
            TENANT,
            vec!["x".into()],
            vec![],
            TokenVersion::V1,
        )
        .unwrap()
        .to_apim_xml();
        assert!(!none.contains("required-claims"), "{none}");
    }
}
