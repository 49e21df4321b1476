//! The doctor's live checks through Microsoft Graph: service principals and admin consent.

use super::*;

pub(super) fn read_live(
    client: &crate::graph::GraphClient,
    apps: &LiveApps,
    client_app: Option<&Manifest>,
) -> Result<Live> {
    let client_sp = client.service_principal(apps.client_app)?;
    let api_sp = client.service_principal(apps.api_app)?;
    let api_sp_id = api_sp
        .as_ref()
        .and_then(|sp| sp.get("id")?.as_str().map(str::to_owned));
    let granted = match (&client_sp, &api_sp_id) {
        (Some(sp), Some(api_sp_id)) => {
            let sp_id = sp.get("id").and_then(Value::as_str).unwrap_or_default();
            client
                .app_role_assignments(sp_id)?
                .iter()
                .filter(|a| a.get("resourceId").and_then(Value::as_str) == Some(api_sp_id.as_str()))
                .filter_map(|a| a.get("appRoleId")?.as_str()?.parse().ok())
                .collect()
        }
        _ => Vec::new(),
    };
    Ok(Live {
        client_sp,
        api_sp,
        granted,
        rule_findings: client_app
            .map(|app| rule_findings(client, app))
            .transpose()?
            .unwrap_or_default(),
    })
}

/// What the tenant's credential rules mean for the client app's credentials (nothing when they cannot be read:
/// the doctor reports problems, and an unreadable rule is none it can name).
fn rule_findings(client: &crate::graph::GraphClient, app: &Manifest) -> Result<Vec<String>> {
    let text = |field: &str| app.root().get(field).and_then(Value::as_str);
    let Some(object_id) = text("id").and_then(|id| Uuid::parse_str(id).ok()) else {
        return Ok(Vec::new());
    };
    let created = text("createdDateTime").and_then(|t| crate::time_fmt::parse_instant(t).ok());
    let crate::rules::TenantPolicy::Read(default) =
        super::super::tenant_rules::read_default(client)
    else {
        return Ok(Vec::new());
    };
    let crate::rules::Rules::Known(rules) =
        super::super::tenant_rules::app_rules(client, &default, object_id, created)?
    else {
        return Ok(Vec::new());
    };
    // Under a trusted-CA rule the certificates themselves are read, to tell self-signed ones.
    let with_keys = match rules.trusted_ca {
        Some(_) => Some(super::super::tenant::as_manifest(
            client.application(
                crate::graph::AppRef::ObjectId(object_id),
                Some("id,appId,keyCredentials"),
            )?,
            app.source(),
        )?),
        None => None,
    };
    let has_secrets = app
        .root()
        .get("passwordCredentials")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    Ok(super::super::tenant_rules::findings(
        &rules,
        &with_keys.as_ref().unwrap_or(app).key_credentials()?,
        has_secrets,
    ))
}

/// A fix that edits a manifest names its file; an app read live has none. Such a fix starts by saving the app
/// (`keycred graph show … --out APPID.json`, with this run's connection) and then names that file, so that it runs
/// as printed.
pub(super) fn fixes_for_live_apps(
    apps: &LiveApps,
    read_live: [(Option<&Manifest>, Uuid); 2],
    findings: &mut [Finding],
) {
    for finding in findings.iter_mut() {
        let mut saves = Vec::new();
        for (manifest, id) in read_live {
            let Some(manifest) = manifest else { continue };
            let source = manifest.source();
            for form in [crate::shell::word(source), source.to_owned()] {
                if finding.fix.contains(&form) {
                    let file = format!("{id}.json");
                    finding.fix = finding.fix.replace(&form, &file);
                    saves.push(format!("{} --app {id} --out {file}", apps.show));
                    break;
                }
            }
        }
        if !saves.is_empty() {
            finding.fix = format!(
                "save the app{} first: {}; then {}",
                if saves.len() == 1 { "" } else { "s" },
                saves.join("; "),
                finding.fix
            );
        }
    }
}

pub(super) fn live_checks(
    live: &Live,
    apps: &LiveApps,
    inputs: &Inputs,
    findings: &mut Vec<Finding>,
) {
    if live.client_sp.is_none() {
        findings.push(finding(
            "client.no-service-principal",
            Severity::Error,
            "client",
            format!(
                "the client app {} has no service principal in this tenant",
                apps.client_app
            ),
            "AADSTS700016 (the application was not found in the directory)",
            format!(
                "create it: az ad sp create --id {} (or consent to the app in the portal)",
                apps.client_app
            ),
        ));
    }
    if live.api_sp.is_none() {
        findings.push(finding(
            "api.no-service-principal",
            Severity::Error,
            "api",
            format!(
                "the API app {} has no service principal in this tenant",
                apps.api_app
            ),
            "AADSTS500011 (the resource principal was not found in the tenant)",
            format!("create it: az ad sp create --id {}", apps.api_app),
        ));
    }
    for rule in &live.rule_findings {
        findings.push(finding(
            "client.tenant-rule",
            Severity::Warning,
            "client",
            format!("the tenant's credential rules: {rule}"),
            "Graph refuses a new credential that breaks the rule (CredentialInvalidLifetimeAsPerAppPolicy, or the \
             trusted-CA refusal)",
            format!(
                "rotate with keycred graph rotate --app {} (it reads the rules and keeps within them; --ca for a \
                 CA-issued certificate)",
                apps.client_app
            ),
        ));
    }
    let (Some(client), Some(api)) = (&inputs.client, &inputs.api) else {
        return;
    };
    if live.client_sp.is_none() || live.api_sp.is_none() {
        return;
    }
    let roles = api.role_summaries();
    let requested = client
        .root()
        .get("requiredResourceAccess")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| {
            e.get("resourceAppId")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok())
                == Some(apps.api_app)
        })
        .flat_map(|e| {
            e.get("resourceAccess")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter(|a| a.get("type").and_then(Value::as_str) == Some("Role"))
        .filter_map(|a| a.get("id")?.as_str()?.parse::<Uuid>().ok());
    for role in requested {
        if !live.granted.contains(&role) {
            let value = roles
                .iter()
                .find(|(_, id, ..)| *id == role)
                .map(|(v, ..)| v.clone())
                .unwrap_or_else(|| role.to_string());
            findings.push(finding(
                "roles.not-consented",
                Severity::Error,
                "roles",
                format!(
                    "the client requests {value}, but its service principal was never granted it (no admin consent)"
                ),
                "a token without that role until an admin consents",
                format!(
                    "grant admin consent: the client app > API permissions > Grant admin consent (or az ad app \
                     permission admin-consent --id {})",
                    apps.client_app
                ),
            ));
        }
    }
}
