//! The doctor workflow (`keycred doctor`): cross-checks what it is given (the client's and the API's app
//! registrations, the daemon's credential, the scope it requests, a token it got, the API's rules) and names
//! every mismatch that makes the client credentials flow fail, with the symptom it causes and the fix. Each check
//! runs when its inputs are there; nothing is sent anywhere.

use std::path::PathBuf;

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

mod checks;
mod live;

use checks::{
    api_checks, client_checks, credential_checks, role_checks, scope_checks, token_checks,
};
use live::{fixes_for_live_apps, live_checks, read_live};

use super::prove::CredentialSource;
use crate::credential::{CertificateInfo, Status};
use crate::error::{Error, Result};
use crate::input::{self, PasswordSources};
use crate::manifest::{ExistingCredential, Manifest};
use crate::rotation::{standing, Standing};

/// What the doctor is given; every input is optional.
#[derive(Debug, Default)]
pub struct DoctorRequest {
    /// The client (daemon) app's manifest.
    pub client: Option<PathBuf>,
    /// The resource (API) app's manifest.
    pub api: Option<PathBuf>,
    /// The credential the daemon signs with.
    pub credential: Option<CredentialSource>,
    /// The scope the daemon requests.
    pub scope: Option<String>,
    /// An access token the daemon got (compact JWT).
    pub token: Option<String>,
    /// The API's rules, as `keycred api-policy --format json` writes them.
    pub rules: Option<PathBuf>,
    /// The renewal window.
    pub warn: time::Duration,
    /// Read the two apps live through Microsoft Graph (`--client-app`, `--api-app`): their registrations (where
    /// no file is given), their service principals and the client's app role assignments (admin consent).
    pub live: Option<LiveApps>,
}

/// The apps `doctor` reads through Graph.
#[derive(Debug, Clone)]
pub struct LiveApps {
    /// The client (daemon) app's appId.
    pub client_app: Uuid,
    /// The API app's appId.
    pub api_app: Uuid,
    /// `keycred graph show` with this run's connection options (no secret: files and URLs only), for the fixes
    /// that edit an app's manifest: they save it first.
    pub show: String,
}

/// What Graph says of the two apps.
struct Live {
    client_sp: Option<Value>,
    api_sp: Option<Value>,
    /// The API's app role ids the client's service principal was granted.
    granted: Vec<Uuid>,
    /// What the tenant's credential rules mean for the client app's credentials.
    rule_findings: Vec<String>,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// It works today, but not for long, or works by accident.
    Warning,
    /// The flow fails.
    Error,
}

impl Severity {
    /// The word in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Finding {
    /// A stable id (`credential.not-registered`), for scripts and for README's table.
    pub id: &'static str,
    /// How bad.
    pub severity: Severity,
    /// What it is about: `client`, `api`, `credential`, `scope`, `token`.
    pub area: &'static str,
    /// What is wrong, with the values that disagree.
    pub what: String,
    /// What it causes: the AADSTS code, "token without roles", "API answers 401".
    pub symptom: String,
    /// The fix, as a keycred command where there is one.
    pub fix: String,
}

/// What the doctor found, and what it checked.
#[derive(Debug)]
pub struct Diagnosis {
    /// Every finding, errors first.
    pub findings: Vec<Finding>,
    /// The checks that ran (areas), for "nothing found" to mean something.
    pub checked: Vec<&'static str>,
    /// 0 nothing found, 3 warnings only, 4 at least one error (as `check`'s: works but needs care / fails).
    pub exit_code: i32,
    /// Where the daemon's key is (a file, a vault, a token), when a credential was given.
    pub key_held: Option<String>,
}

struct Inputs {
    client: Option<Manifest>,
    api: Option<Manifest>,
    credential: Option<(CertificateInfo, Option<bool>, String)>,
    rules: Option<Value>,
    token: Option<Value>,
}

/// Runs every check whose inputs are there.
pub fn doctor(
    request: &DoctorRequest,
    graph: Option<&crate::graph::GraphClient>,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<Diagnosis> {
    if request.live.is_none()
        && request.client.is_none()
        && request.api.is_none()
        && request.credential.is_none()
        && request.scope.is_none()
        && request.token.is_none()
        && request.rules.is_none()
    {
        return Err(Error::Invalid(
            "nothing to check: give any of --client CLIENT.json, --api API.json, --credential FILE, --scope SCOPE, \
             --token FILE, --rules FILE"
                .into(),
        ));
    }
    let (client_manifest, api_manifest) = read_apps(request, graph)?;
    let live = match (&request.live, graph) {
        (Some(apps), Some(client)) => Some(read_live(client, apps, client_manifest.as_ref())?),
        _ => None,
    };
    let inputs = Inputs {
        client: client_manifest,
        api: api_manifest,
        credential: request
            .credential
            .as_ref()
            .map(|source| load_credential(source, passwords))
            .transpose()?,
        rules: request.rules.as_deref().map(read_rules).transpose()?,
        token: request
            .token
            .as_ref()
            .map(|t| crate::flow::decode::parse(t).map(|(_, claims)| claims))
            .transpose()
            .map_err(|e| Error::Invalid(format!("--token: {e}")))?,
    };
    if let (Some(client), Some(api)) = (&inputs.client, &inputs.api) {
        if client.app_id().is_some() && client.app_id() == api.app_id() {
            return Err(Error::Invalid(format!(
                "--client and --api are the same app ({}): --client is the daemon's registration, --api the \
                 resource app it calls",
                client.app_id().unwrap_or_default()
            )));
        }
    }
    let mut findings = Vec::new();
    let mut checked = Vec::new();
    if let Some(client) = &inputs.client {
        checked.push("client");
        client_checks(client, now, request.warn, &mut findings)?;
    }
    if let Some((cert, key_matches, _)) = &inputs.credential {
        checked.push("credential");
        credential_checks(
            cert,
            *key_matches,
            inputs.client.as_ref(),
            now,
            request.warn,
            &mut findings,
        )?;
    }
    if let Some(scope) = &request.scope {
        checked.push("scope");
        scope_checks(scope, inputs.api.as_ref(), &mut findings);
    }
    if let Some(api) = &inputs.api {
        checked.push("api");
        api_checks(api, inputs.rules.as_ref(), &mut findings)?;
        if let Some(client) = &inputs.client {
            checked.push("roles");
            role_checks(client, api, inputs.rules.as_ref(), &mut findings);
        }
    }
    if let (Some(live), Some(apps)) = (&live, &request.live) {
        checked.push("tenant");
        live_checks(live, apps, &inputs, &mut findings);
    }
    if let Some(claims) = &inputs.token {
        checked.push("token");
        token_checks(claims, &inputs, now, &mut findings);
    }
    if let Some(apps) = &request.live {
        fixes_for_live_apps(
            apps,
            [
                (
                    inputs.client.as_ref().filter(|_| request.client.is_none()),
                    apps.client_app,
                ),
                (
                    inputs.api.as_ref().filter(|_| request.api.is_none()),
                    apps.api_app,
                ),
            ],
            &mut findings,
        );
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let exit_code = match findings.iter().map(|f| f.severity).max() {
        None => crate::exit::SUCCESS,
        Some(Severity::Warning) => crate::exit::RENEWAL_DUE,
        Some(Severity::Error) => crate::exit::EXPIRED,
    };
    Ok(Diagnosis {
        findings,
        checked,
        exit_code,
        key_held: inputs
            .credential
            .as_ref()
            .map(|(_, _, place)| place.clone()),
    })
}

/// The client's and the API's manifests: from the files given, else read live; a file given beside
/// `--client-app` / `--api-app` must be that app's.
fn read_apps(
    request: &DoctorRequest,
    graph: Option<&crate::graph::GraphClient>,
) -> Result<(Option<Manifest>, Option<Manifest>)> {
    let read_manifest = |path: &PathBuf, flag: &str| -> Result<Manifest> {
        let bytes = input::read_file(path)?;
        Manifest::read(path, bytes, crate::manifest::document::FormatChoice::Detect)
            .map_err(|e| Error::Invalid(format!("{flag} {}: {e}", path.display())))
    };
    let live_app = |id: Uuid, flag: &str| -> Result<Manifest> {
        let client = graph.ok_or_else(|| Error::Invalid(format!("{flag}: no Graph connection")))?;
        let (app, _) = super::tenant::find(client, id, None)?;
        super::tenant::as_manifest(app, &format!("application {id}"))
    };
    let client_manifest = match (&request.client, &request.live) {
        (Some(p), _) => Some(read_manifest(p, "--client")?),
        (None, Some(live)) => Some(live_app(live.client_app, "--client-app")?),
        (None, None) => None,
    };
    let api_manifest = match (&request.api, &request.live) {
        (Some(p), _) => Some(read_manifest(p, "--api")?),
        (None, Some(live)) => Some(live_app(live.api_app, "--api-app")?),
        (None, None) => None,
    };
    // A file given beside --client-app / --api-app must be that app's manifest.
    if let Some(apps) = &request.live {
        for (manifest, wanted, flag) in [
            (&client_manifest, apps.client_app, "--client"),
            (&api_manifest, apps.api_app, "--api"),
        ] {
            let found = manifest.as_ref().and_then(Manifest::app_id);
            if let Some(found) = found.filter(|f| Uuid::parse_str(f).ok() != Some(wanted)) {
                return Err(Error::Invalid(format!(
                    "{flag}: the manifest is of the app {found}, not of {wanted} ({flag}-app): give the manifest of \
                     the same app, or leave the file out to read it live"
                )));
            }
        }
    }
    Ok((client_manifest, api_manifest))
}

fn load_credential(
    source: &CredentialSource,
    passwords: &PasswordSources,
) -> Result<(CertificateInfo, Option<bool>, String)> {
    match source {
        CredentialSource::Pfx(path) => {
            let (cert, key) = crate::credential::load_file(path, passwords)?.into_leaf();
            let matches = key.as_ref().and_then(|k| k.matches(&cert));
            Ok((cert, matches, format!("in {}", path.display())))
        }
        CredentialSource::KeyAndCert { key, cert } => {
            let (cert, _) = crate::credential::load_file(cert, passwords)?.into_leaf();
            let read = super::prove::read_key(key)?;
            let matches = read.matches(&cert);
            Ok((cert, matches, format!("in {}", key.display())))
        }
        // The vault names the key of each certificate version: it is that certificate's; the token's certificate
        // is found by the key's public half.
        CredentialSource::KeyVault(_) | CredentialSource::Pkcs11(_) => {
            let loaded = super::prove::load_credential(source, passwords)?;
            let place = loaded.key.place();
            Ok((loaded.certificate, Some(true), place))
        }
    }
}

fn read_rules(path: &std::path::Path) -> Result<Value> {
    let text = input::read_text(path)?;
    let rules = input::parse_json(&text, &path.display().to_string())?;
    if rules.get("issuers").and_then(Value::as_array).is_none()
        || rules.get("audiences").and_then(Value::as_array).is_none()
    {
        return Err(Error::Invalid(format!(
            "--rules {}: not an API's rules (no issuers and audiences): give what keycred api-policy --format json \
             writes",
            path.display()
        )));
    }
    Ok(rules)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn finding(
    id: &'static str,
    severity: Severity,
    area: &'static str,
    what: String,
    symptom: &str,
    fix: String,
) -> Finding {
    Finding {
        id,
        severity,
        area,
        what,
        symptom: symptom.to_owned(),
        fix,
    }
}
