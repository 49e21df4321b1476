//! The API-protection workflow (`keycred api-policy`): from the tenant, the audience and the roles (or the API's
//! own manifest, which says which token version Entra issues for it and what its audiences are) to the rules an
//! API applies, rendered by [`crate::policy`].

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::flow::authority::Authority;
use crate::input;
use crate::manifest::Manifest;
use crate::policy::{ApiRules, TokenVersion};

/// What `keycred api-policy` was asked for.
#[derive(Debug, Clone)]
pub struct ApiPolicyRequest {
    /// Where tokens come from.
    pub authority: Authority,
    /// The tenant's id.
    pub tenant: String,
    /// The audiences the API accepts; from the manifest when empty.
    pub audiences: Vec<String>,
    /// Roles of which a token must carry one.
    pub roles: Vec<String>,
    /// The token versions accepted; from the manifest when `None` (and v2 without a manifest).
    pub version: Option<TokenVersion>,
    /// The API's app manifest (Graph or legacy format).
    pub manifest: Option<PathBuf>,
}

/// The rules, and what keycred noticed on the way.
#[derive(Debug, Clone)]
pub struct ApiPolicyOutcome {
    /// The rules.
    pub rules: ApiRules,
    /// Where the version and audiences came from, one sentence each.
    pub notes: Vec<String>,
}

/// Works out the rules.
pub fn api_policy(request: &ApiPolicyRequest) -> Result<ApiPolicyOutcome> {
    crate::policy::tenant_id(&request.tenant)?;
    for role in &request.roles {
        crate::manifest::app_roles::check_value(role).map_err(|rule| {
            Error::Invalid(format!(
                "--role {role:?}: {rule}; Entra refuses such a role value, so no token could ever carry it"
            ))
        })?;
    }
    let mut notes = Vec::new();
    let manifest = match &request.manifest {
        Some(path) => Some(Manifest::parse(
            &input::read_text(path)?,
            &path.display().to_string(),
            None,
        )?),
        None => None,
    };
    let version = token_version(manifest.as_ref(), request.version, &mut notes)?;
    let mut audiences = request.audiences.clone();
    if audiences.is_empty() {
        if let Some(manifest) = &manifest {
            if matches!(version, TokenVersion::V1 | TokenVersion::Both) {
                audiences.extend(manifest.identifier_uris());
            }
            if matches!(version, TokenVersion::V2 | TokenVersion::Both) {
                audiences.extend(manifest.app_id());
            }
            if audiences.is_empty() {
                return Err(Error::Refused(format!(
                    "{}: has no {} to take the audience from; give --audience",
                    manifest.source(),
                    match version {
                        TokenVersion::V1 => "identifierUris (the App ID URI, a v1 token's aud)",
                        TokenVersion::V2 => "appId (a v2 token's aud)",
                        TokenVersion::Both => "identifierUris or appId",
                    }
                )));
            }
            notes.push(format!(
                "audiences from {}: {}",
                manifest.source(),
                audiences.join(", ")
            ));
        }
    }
    if version == TokenVersion::V2 {
        let uris: Vec<&String> = audiences
            .iter()
            .filter(|a| uuid::Uuid::parse_str(a).is_err())
            .collect();
        if !uris.is_empty() && uris.len() == audiences.len() {
            return Err(Error::Invalid(format!(
                "--audience {}: a v2 access token's aud is the API's appId (a GUID), never its identifier URI, so a \
                 v2 policy with only this audience refuses every real token; give --audience with the API's appId \
                 (or --manifest API.json, which has it), or --token-version 1 if the API gets v1 tokens",
                uris.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        for uri in uris {
            notes.push(format!(
                "--audience {uri}: v2 access tokens never carry it (their aud is the API's appId), so only the appId \
                 audience will match"
            ));
        }
    }
    if let Some(manifest) = &manifest {
        let offered: Vec<String> = manifest
            .role_summaries()
            .into_iter()
            .filter(|(_, _, application, enabled)| *application && *enabled)
            .map(|(value, ..)| value)
            .collect();
        if let Some(unknown) = request.roles.iter().find(|r| !offered.contains(r)) {
            return Err(Error::Refused(format!(
                "--role {unknown:?} is not an enabled application role of {} (it offers: {}): no app could be granted it, so every token would be refused",
                manifest.source(),
                if offered.is_empty() { "none".into() } else { offered.join(", ") }
            )));
        }
    }
    let rules = ApiRules::new(
        &request.authority,
        &request.tenant,
        audiences,
        request.roles.clone(),
        version,
    )?;
    Ok(ApiPolicyOutcome { rules, notes })
}

/// The token version the policy checks for: the registration's (said in a note), or the one asked for when it
/// agrees (or is both); without a registration, the one asked for.
fn token_version(
    manifest: Option<&Manifest>,
    asked: Option<TokenVersion>,
    notes: &mut Vec<String>,
) -> Result<TokenVersion> {
    Ok(match (manifest, asked) {
        (None, Some(version)) => version,
        (None, None) => {
            return Err(Error::Invalid(
                "which access tokens does Entra issue for this API? give --manifest API.json (its registration says), or --token-version 1, 2 or both (a registration that never set it gets v1)".into(),
            ))
        }
        (Some(manifest), asked) => {
            let registered = match manifest.access_token_version()? {
                1 => TokenVersion::V1,
                _ => TokenVersion::V2,
            };
            match asked {
                None => {
                    notes.push(format!(
                        "{}: Entra issues v{} tokens for this API ({})",
                        manifest.source(),
                        registered.name(),
                        if registered == TokenVersion::V1 {
                            "its requested token version is null or 1"
                        } else {
                            "its requested token version is 2"
                        }
                    ));
                    registered
                }
                Some(TokenVersion::Both) => TokenVersion::Both,
                Some(asked) if asked == registered => asked,
                Some(asked) => {
                    return Err(Error::Refused(format!(
                        "--token-version {} disagrees with {}, for which Entra issues v{} tokens: an API checking for v{} issuers would refuse every token; drop --token-version, use --token-version both while you change the registration, or change the registration first",
                        asked.name(),
                        manifest.source(),
                        registered.name(),
                        asked.name()
                    )))
                }
            }
        }
    })
}
