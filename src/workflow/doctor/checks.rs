//! The doctor's offline checks, one function per area: the client, the credential, the scope, the API (with its
//! rules), the roles between client and API, and a token.

use super::*;

pub(super) fn client_checks(
    client: &Manifest,
    now: OffsetDateTime,
    warn: time::Duration,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let source = client.source().to_owned();
    // As a command line takes it.
    let manifest = crate::shell::word(&source);
    let credentials = client.key_credentials()?;
    for problem in crate::manifest::existing::describe_duplicate_key_ids(
        &crate::manifest::existing::duplicate_key_ids(&credentials),
    ) {
        findings.push(finding(
            "client.duplicate-key-id",
            Severity::Error,
            "client",
            problem,
            "Entra refuses the manifest when it is applied",
            format!("keycred rotate --manifest {manifest} --repair-key-ids --in-place"),
        ));
    }
    let valid: Vec<&ExistingCredential> = credentials
        .iter()
        .filter(|c| !c.signs() && standing(c.start, c.end, now) == Standing::Valid)
        .collect();
    if valid.is_empty() {
        findings.push(finding(
            "client.no-valid-certificate",
            Severity::Error,
            "client",
            format!("{source} holds no certificate credential that is valid now"),
            "AADSTS700027 (no registered certificate verifies the assertion)",
            format!(
                "keycred rotate --manifest {manifest} --subject {} --out certs --generate-password --in-place",
                crate::shell::word(&crate::credential::subject::common_name_subject(
                    client
                        .root()
                        .get("displayName")
                        .and_then(Value::as_str)
                        .unwrap_or("Daemon"),
                    client.app_id().as_deref().unwrap_or("Daemon"),
                ))
            ),
        ));
    } else if valid.iter().all(|c| c.end - now <= warn) {
        let last = valid.iter().map(|c| c.end).max().expect("not empty");
        findings.push(finding(
            "client.renewal-due",
            Severity::Warning,
            "client",
            format!(
                "{source}: its newest certificate ends {} ({} days)",
                crate::time_fmt::rfc3339_utc(last),
                (last - now).whole_days()
            ),
            "AADSTS700027 once it has ended",
            format!(
                "keycred rotate --manifest {manifest} --out certs --generate-password --in-place"
            ),
        ));
    }
    for c in &credentials {
        if c.end - c.start > time::Duration::days(366) + time::Duration::minutes(10) {
            findings.push(finding(
                "client.long-lived-certificate",
                Severity::Warning,
                "client",
                format!(
                    "{source}: {} lives {} days, longer than the year Microsoft recommends",
                    c.label(),
                    (c.end - c.start).whole_days()
                ),
                "works, but a leaked key stays usable longer (and a tenant lifetime policy may refuse it)",
                "make the next certificate with at most --days 365, and rotate before this one ends".into(),
            ));
        }
    }
    let secrets = client
        .root()
        .get("passwordCredentials")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    secret_checks(client, &source, findings);
    if secrets > 0 && !credentials.is_empty() {
        findings.push(finding(
            "client.secret-beside-certificate",
            Severity::Warning,
            "client",
            format!("{source} still has {secrets} client secret(s) beside its certificates"),
            "works, but anyone with the secret can sign in as the daemon",
            "remove the secrets (portal: Certificates & secrets > Client secrets) once the daemon uses its certificate"
                .into(),
        ));
    }
    Ok(())
}

pub(super) fn credential_checks(
    cert: &CertificateInfo,
    key_matches: Option<bool>,
    client: Option<&Manifest>,
    now: OffsetDateTime,
    warn: time::Duration,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let thumbprint = cert
        .thumbprints
        .render(crate::credential::ThumbprintForm::Hex);
    let manifest = client.map_or_else(
        || "CLIENT.json".to_owned(),
        |c| crate::shell::word(c.source()),
    );
    if key_matches == Some(false) {
        findings.push(finding(
            "credential.key-mismatch",
            Severity::Error,
            "credential",
            format!("the private key is not the key of the certificate {} ({thumbprint})", cert.subject),
            "the assertion's signature does not verify: AADSTS700027",
            "use the key file written with that certificate (keycred new writes NAME.key beside NAME.cer)".into(),
        ));
    }
    match cert.status(now) {
        Status::Expired => findings.push(finding(
            "credential.expired",
            Severity::Error,
            "credential",
            format!(
                "the certificate {} ({thumbprint}) ended {}",
                cert.subject,
                crate::time_fmt::rfc3339_utc(cert.not_after)
            ),
            "AADSTS700027 (the certificate has expired)",
            format!(
                "make and register a new one: keycred rotate --manifest {manifest} --out certs --generate-password \
                 --in-place"
            ),
        )),
        Status::NotYetValid => findings.push(finding(
            "credential.not-yet-valid",
            Severity::Error,
            "credential",
            format!(
                "the certificate {} ({thumbprint}) starts {}",
                cert.subject,
                crate::time_fmt::rfc3339_utc(cert.not_before)
            ),
            "AADSTS700027 until it starts",
            "wait, or check this machine's clock".into(),
        )),
        Status::Valid if cert.not_after - now <= warn => findings.push(finding(
            "credential.expiring",
            Severity::Warning,
            "credential",
            format!(
                "the certificate {} ({thumbprint}) ends {} ({} days)",
                cert.subject,
                crate::time_fmt::rfc3339_utc(cert.not_after),
                (cert.not_after - now).whole_days()
            ),
            "AADSTS700027 once it has ended",
            format!("rotate now: keycred rotate --manifest {manifest} --out certs --generate-password --in-place"),
        )),
        Status::Valid => {}
    }
    if let Some(client) = client {
        let registered = client.key_credentials()?;
        let found = registered
            .iter()
            .any(|c| c.thumbprint == Some(cert.thumbprints.sha1));
        if !found {
            findings.push(finding(
                "credential.not-registered",
                Severity::Error,
                "credential",
                format!(
                    "the certificate {} (SHA-1 {thumbprint}) is not among {}'s key credentials (matched by \
                     thumbprint)",
                    cert.subject,
                    client.source()
                ),
                "AADSTS700027 (the certificate is not registered on the app)",
                format!(
                    "register it beside the others: keycred rotate --cert CERT --manifest {} --in-place, then apply \
                     the manifest (or upload the .cer in the portal)",
                    crate::shell::word(client.source())
                ),
            ));
        }
        for other in registered
            .iter()
            .filter(|c| c.thumbprint != Some(cert.thumbprints.sha1))
            .filter(|c| !c.signs() && standing(c.start, c.end, now) == Standing::Valid)
        {
            findings.push(finding(
                "credential.unmatched-registration",
                Severity::Warning,
                "credential",
                format!(
                    "{} on {} is valid, and not the credential given here",
                    other.label(),
                    client.source()
                ),
                "works, but a key nobody here holds can still sign in as the daemon",
                format!(
                    "once nothing uses it: keycred rotate --manifest {} --remove-key-id {} --in-place",
                    crate::shell::word(client.source()),
                    other.key_id.map(|id| id.to_string()).unwrap_or_else(|| "KEYID".into())
                ),
            ));
        }
    }
    Ok(())
}

/// The resource a `.default` scope names (`api://orders/.default` → `api://orders`).
pub(super) fn scope_resource(scope: &str) -> Option<&str> {
    scope.strip_suffix("/.default")
}

pub(super) fn api_names(api: &Manifest) -> Vec<String> {
    let mut names = api.identifier_uris();
    if let Some(app_id) = api.app_id() {
        names.push(format!("api://{app_id}"));
        names.push(app_id);
    }
    names
}

pub(super) fn scope_checks(scope: &str, api: Option<&Manifest>, findings: &mut Vec<Finding>) {
    let Some(resource) = scope_resource(scope) else {
        findings.push(finding(
            "scope.not-default",
            Severity::Error,
            "scope",
            format!("the scope {scope:?} does not end in /.default"),
            "AADSTS1002012 (the client credentials flow takes only a resource's .default scope)",
            "request RESOURCE/.default, such as api://contoso-orders/.default".into(),
        ));
        return;
    };
    let Some(api) = api else { return };
    let names = api_names(api);
    let lower = resource.trim_end_matches('/').to_ascii_lowercase();
    if resource.contains("graph.microsoft") {
        findings.push(finding(
            "scope.graph",
            Severity::Error,
            "scope",
            format!(
                "the scope {scope} asks for a Microsoft Graph token, not one for {}",
                api.source()
            ),
            "the token is for Graph: the API answers 401 (wrong audience)",
            format!(
                "request the API's scope: {}/.default",
                names.first().cloned().unwrap_or_else(|| "api://…".into())
            ),
        ));
    } else if !names.iter().any(|n| n.to_ascii_lowercase() == lower) {
        findings.push(finding(
            "scope.unknown-resource",
            Severity::Error,
            "scope",
            format!(
                "the scope names {resource}, which is none of {}'s names ({})",
                api.source(),
                if names.is_empty() { "none".into() } else { names.join(", ") }
            ),
            "AADSTS500011 (the resource principal was not found)",
            format!(
                "request {}/.default, or add {resource} to the API's identifierUris (keycred manifest app-roles \
                 --merge {} --identifier-uri {} --in-place)",
                names.first().cloned().unwrap_or_else(|| "api://APPID".into()),
                crate::shell::word(api.source()),
                crate::shell::word(resource)
            ),
        ));
    }
}

pub(super) fn api_version(api: &Manifest) -> Result<u8> {
    api.access_token_version()
}

pub(super) fn api_checks(
    api: &Manifest,
    rules: Option<&Value>,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let source = api.source().to_owned();
    if api.identifier_uris().is_empty() {
        findings.push(finding(
            "api.no-identifier-uri",
            Severity::Warning,
            "api",
            format!("{source} has no identifierUris"),
            "a scope can name it only by its appId; v1 tokens have no URI audience",
            format!(
                "keycred manifest app-roles --merge {} --identifier-uri api://{} --in-place",
                crate::shell::word(&source),
                api.app_id().unwrap_or_else(|| "NAME".into())
            ),
        ));
    }
    let Some(rules) = rules else { return Ok(()) };
    let version = api_version(api)?;
    let issuers = strings(rules.get("issuers"));
    let audiences = strings(rules.get("audiences"));
    let v1_issuer =
        |i: &String| i.contains("sts.windows.net") || i.contains("sts.chinacloudapi.cn");
    let accepts_v1 = issuers.iter().any(v1_issuer);
    let accepts_v2 = issuers.iter().any(|i| i.ends_with("/v2.0"));
    let (accepted, issued) = match version {
        1 => (accepts_v1, "v1 (issuer https://sts.windows.net/{tenant}/)"),
        _ => (accepts_v2, "v2 (issuer {authority}/{tenant}/v2.0)"),
    };
    if !accepted {
        findings.push(finding(
            "api.version-mismatch",
            Severity::Error,
            "api",
            format!(
                "Entra issues {issued} tokens for {source}, but the rules accept only the issuers {}",
                issuers.join(", ")
            ),
            "the API answers 401 for every token (issuer)",
            format!("make the rules from the registration: keycred api-policy --manifest {source} --format json"),
        ));
    }
    let expected: Vec<String> = match version {
        1 => api.identifier_uris(),
        _ => api.app_id().into_iter().collect(),
    };
    if !expected.is_empty() && !audiences.iter().any(|a| expected.contains(a)) {
        findings.push(finding(
            "api.audience-mismatch",
            Severity::Error,
            "api",
            format!(
                "v{version} tokens for {source} carry aud {}, but the rules accept {}",
                expected.join(" or "),
                audiences.join(", ")
            ),
            "the API answers 401 for every token (audience)",
            format!("make the rules from the registration: keycred api-policy --manifest {source} --format json"),
        ));
    }
    Ok(())
}

pub(super) fn role_checks(
    client: &Manifest,
    api: &Manifest,
    rules: Option<&Value>,
    findings: &mut Vec<Finding>,
) {
    let Some(api_id) = api.app_id().and_then(|id| Uuid::parse_str(&id).ok()) else {
        return;
    };
    let grant = format!(
        "keycred manifest grant --api {} --client {} --in-place, then grant admin consent",
        crate::shell::word(api.source()),
        crate::shell::word(client.source())
    );
    let roles = api.role_summaries();
    let entry = client
        .root()
        .get("requiredResourceAccess")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|e| {
            e.get("resourceAppId")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok())
                == Some(api_id)
        });
    let Some(entry) = entry else {
        findings.push(finding(
            "roles.not-requested",
            Severity::Error,
            "roles",
            format!(
                "{} does not request any permission on {} ({api_id})",
                client.source(),
                api.source()
            ),
            "a token without roles: the API answers 403 (or 401)",
            grant,
        ));
        return;
    };
    let mut gets = Vec::new();
    for access in entry
        .get("resourceAccess")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = access
            .get("id")
            .and_then(Value::as_str)
            .and_then(|i| Uuid::parse_str(i).ok());
        let kind = access.get("type").and_then(Value::as_str).unwrap_or("");
        let role = roles.iter().find(|(_, rid, ..)| Some(*rid) == id);
        match (kind, role) {
            ("Scope", _) => findings.push(finding(
                "roles.scope-entry",
                Severity::Error,
                "roles",
                format!(
                    "{} requests {} as a delegated permission (type Scope)",
                    client.source(),
                    id.map(|i| i.to_string()).unwrap_or_default()
                ),
                "a token without that role: the client credentials flow carries application permissions (type \
                 Role) only",
                grant.clone(),
            )),
            (_, None) => findings.push(finding(
                "roles.unknown-role",
                Severity::Error,
                "roles",
                format!(
                    "{} requests role id {} that {} does not define",
                    client.source(),
                    id.map(|i| i.to_string()).unwrap_or_default(),
                    api.source()
                ),
                "a token without that role (and the permission cannot be consented)",
                grant.clone(),
            )),
            (_, Some((value, _, application, enabled))) => {
                match unusable_role(value, *application, *enabled, api) {
                    Some(found) => findings.push(found),
                    None => gets.push(value.clone()),
                }
            }
        }
    }
    if let Some(rules) = rules {
        let required = strings(rules.pointer("/requiredRoles/values"));
        if !required.is_empty() && !required.iter().any(|r| gets.contains(r)) {
            findings.push(finding(
                "roles.required-not-grantable",
                Severity::Error,
                "roles",
                format!(
                    "the API's rules require one of {}, and {} can get only {}",
                    required.join(", "),
                    client.source(),
                    if gets.is_empty() {
                        "none".into()
                    } else {
                        gets.join(", ")
                    }
                ),
                "the API answers 401 for the daemon's tokens (missing role)",
                grant,
            ));
        }
    }
}

pub(super) fn token_checks(
    claims: &Value,
    inputs: &Inputs,
    now: OffsetDateTime,
    findings: &mut Vec<Finding>,
) {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
        if exp < now.unix_timestamp() {
            findings.push(finding(
                "token.expired",
                Severity::Error,
                "token",
                format!(
                    "the token expired {}",
                    crate::flow::decode::relative(exp, now)
                ),
                "the API answers 401 (expired)",
                "get a new token: keycred token … (tokens last about an hour)".into(),
            ));
        }
    }
    if let Some(rules) = &inputs.rules {
        let audiences = strings(rules.get("audiences"));
        let issuers = strings(rules.get("issuers"));
        let aud = text("aud").unwrap_or_default();
        if !audiences.is_empty() && !audiences.contains(&aud) {
            findings.push(finding(
                "token.audience",
                Severity::Error,
                "token",
                format!(
                    "the token's aud is {aud:?}; the rules accept {}",
                    audiences.join(", ")
                ),
                "the API answers 401 (audience)",
                "request the API's own .default scope, and make the rules from its registration"
                    .into(),
            ));
        }
        let iss = text("iss").unwrap_or_default();
        if !issuers.is_empty() && !issuers.contains(&iss) {
            findings.push(issuer_finding(&iss, text("ver"), &issuers, inputs));
        }
        let required = strings(rules.pointer("/requiredRoles/values"));
        let has = strings(claims.get("roles"));
        if !required.is_empty() && !required.iter().any(|r| has.contains(r)) {
            findings.push(finding(
                "token.roles-missing",
                Severity::Error,
                "token",
                format!(
                    "the token's roles are [{}]; the rules require one of [{}]",
                    has.join(", "),
                    required.join(", ")
                ),
                "the API answers 401 (missing role)",
                format!(
                    "grant the role and admin consent: keycred manifest grant --api {} --client {} --in-place",
                    inputs.api.as_ref().map_or_else(|| "API.json".to_owned(), |a| crate::shell::word(a.source())),
                    inputs.client.as_ref().map_or_else(|| "CLIENT.json".to_owned(), |c| crate::shell::word(c.source())),
                ),
            ));
        }
    }
    if let Some(client) = &inputs.client {
        let app = text("azp").or_else(|| text("appid"));
        if let (Some(app), Some(client_id)) = (app, client.app_id()) {
            if !app.eq_ignore_ascii_case(&client_id) {
                findings.push(finding(
                    "token.wrong-app",
                    Severity::Error,
                    "token",
                    format!(
                        "the token was issued to {app}, not to {} ({client_id})",
                        client.source()
                    ),
                    "the checks above concern another app's token",
                    "check --client-id in the daemon's configuration (keycred config)".into(),
                ));
            }
        }
    }
}

/// The finding for a token whose issuer the rules do not accept: another authority, or another token version.
fn issuer_finding(iss: &str, ver: Option<String>, issuers: &[String], inputs: &Inputs) -> Finding {
    let host = |url: &str| {
        url.split_once("://")
            .map(|(_, rest)| {
                rest.split('/')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default()
    };
    let other_authority = !issuers.iter().any(|i| host(i) == host(iss));
    let rules_from = match &inputs.api {
        Some(api) => format!(
            "keycred api-policy --manifest {}",
            crate::shell::word(api.source())
        ),
        None => "keycred api-policy --manifest with the API's manifest".into(),
    };
    finding(
        "token.issuer",
        Severity::Error,
        "token",
        if other_authority {
            format!(
                    "the token's iss is {iss:?}, from another authority ({}) than the rules accept ({})",
                    host(iss),
                    issuers.join(", ")
                )
        } else {
            format!(
                "the token's iss is {iss:?} (ver {}); the rules accept {}",
                ver.unwrap_or_else(|| "?".into()),
                issuers.join(", ")
            )
        },
        "the API answers 401 (issuer)",
        if other_authority {
            format!(
                    "get the token from the authority the API trusts (the daemon's authority or cloud: keycred \
                     config --cloud), or, if {} is the right one, make the rules for it: {rules_from}",
                    host(iss)
                )
        } else {
            format!("match the rules to the token version the API's registration asks for: {rules_from}")
        },
    )
}

/// Why a role the API defines still gives the client nothing: offered to users only, or disabled.
fn unusable_role(value: &str, application: bool, enabled: bool, api: &Manifest) -> Option<Finding> {
    if !application {
        return Some(finding(
            "roles.user-only",
            Severity::Error,
            "roles",
            format!("{value} is offered to users only (allowedMemberTypes has no Application)"),
            "a token without that role",
            format!(
                "allow applications: keycred manifest app-roles --merge {} --role {value} --member-types both \
                 --in-place",
                crate::shell::word(api.source())
            ),
        ));
    }
    (!enabled).then(|| {
        finding(
            "roles.disabled",
            Severity::Error,
            "roles",
            format!("{value} is disabled on {} (isEnabled: false)", api.source()),
            "a token without that role",
            "enable the role again, or request another".into(),
        )
    })
}

/// Client secrets that never expire, or live more than two years.
fn secret_checks(client: &Manifest, source: &str, findings: &mut Vec<Finding>) {
    for secret in client
        .root()
        .get("passwordCredentials")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let date = |key: &str| {
            secret
                .get(key)
                .and_then(Value::as_str)
                .and_then(|t| crate::time_fmt::parse_instant(t).ok())
        };
        let name = secret
            .get("displayName")
            .and_then(Value::as_str)
            .or_else(|| secret.get("keyId").and_then(Value::as_str))
            .unwrap_or("a secret")
            .to_owned();
        let lifetime = match (date("startDateTime"), date("endDateTime")) {
            (_, None) => Some("never expires".to_owned()),
            (Some(start), Some(end)) if end - start > time::Duration::days(731) => {
                Some(format!("lives {} days", (end - start).whole_days()))
            }
            _ => None,
        };
        if let Some(lifetime) = lifetime {
            findings.push(finding(
                "client.long-lived-secret",
                Severity::Warning,
                "client",
                format!("{source}: the client secret {name} {lifetime}"),
                "works, but a leaked secret stays usable for years (and a tenant lifetime policy may refuse it)",
                "replace it with the certificate, then remove it (portal: Certificates & secrets > Client secrets)"
                    .into(),
            ));
        }
    }
}
