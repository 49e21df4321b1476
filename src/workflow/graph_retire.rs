//! `graph usage` and `graph retire`: which credential each app signed in with (Entra's records, through the Graph
//! client), and the removal of an old certificate only on evidence that nothing uses it any more. A removal goes
//! through the one rotation engine with the Graph store, so the last-valid guard, the re-read before writing and
//! the confirmation after are the ones every rotation has.

use std::collections::HashMap;

use serde_json::Value;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::rotation::graph_store::{self, TenantPolicyCell};
use crate::error::{Error, Result};
use crate::graph::GraphClient;
use crate::input::PasswordSources;
use crate::manifest::ExistingCredential;
use crate::usage::{self, Decision, Evidence, RetireRules, Seen};

/// Which apps.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Named apps (appId or object id).
    pub apps: Vec<Uuid>,
    /// Every app the token may read (with `filter`, those it matches).
    pub all: bool,
    /// An OData `$filter` for `all`.
    pub filter: Option<String>,
    /// The apps an earlier `graph rotate` run rotated, from its report: (object id, the keyId it added). Each
    /// is read by its object id, and its successor is the credential that run added.
    pub rotated: Vec<(Uuid, Uuid)>,
}

/// The apps a `graph rotate --report` says it rotated, each with the keyId it added. A report that is not one
/// is refused, naming what is missing.
pub fn rotated_in(report: &Value, source: &str) -> Result<Vec<(Uuid, Uuid)>> {
    let apps = report
        .get("apps")
        .and_then(Value::as_array)
        .filter(|_| report.get("applied").is_some())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{source} is not a graph rotate report (it has no applied and apps): give the file graph rotate \
                 --report wrote"
            ))
        })?;
    Ok(apps
        .iter()
        .filter(|app| app.get("result").and_then(Value::as_str) == Some("rotated"))
        .filter_map(|app| {
            let id = Uuid::parse_str(app.get("id")?.as_str()?).ok()?;
            let key = Uuid::parse_str(app.get("added")?.get("keyId")?.as_str()?).ok()?;
            Some((id, key))
        })
        .collect())
}

/// One credential and its last sign-in in the evidence.
#[derive(Debug, Clone)]
pub struct CredentialUse {
    /// The credential.
    pub credential: ExistingCredential,
    /// Its last sign-in, if the evidence has one.
    pub seen: Option<Seen>,
    /// What `graph retire` decided for it (an old credential its successor replaced).
    pub decision: Option<Decision>,
}

/// One app: its credentials, what the evidence says of them, and (for `retire`) what was decided and done.
#[derive(Debug)]
pub struct AppUse {
    /// Object id.
    pub id: String,
    /// appId.
    pub app_id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Its certificate credentials with their last sign-ins.
    pub credentials: Vec<CredentialUse>,
    /// What Entra's records say of its credentials (none when it could not be read, or nothing was to decide).
    pub evidence: Option<Evidence>,
    /// Why nothing was decided for it ("no newer certificate").
    pub note: Option<String>,
    /// Where the sign-in log was read from (the report covers what it covers).
    pub since: Option<OffsetDateTime>,
    /// Its successor's keyId (`retire`), when it holds a newer certificate.
    pub successor: Option<Uuid>,
    /// The keyIds removed (with `apply`).
    pub removed: Vec<Uuid>,
    /// Why it failed.
    pub error: Option<Error>,
}

/// `graph usage` / `graph retire`'s whole run.
#[derive(Debug)]
pub struct UseOutcome {
    /// One entry per app.
    pub apps: Vec<AppUse>,
    /// `retire --apply`: removals were sent.
    pub applied: bool,
    /// The run's moment.
    pub now: OffsetDateTime,
}

impl UseOutcome {
    /// Whether an old credential was kept because it is, or may be, still in use.
    pub fn kept_in_use(&self) -> bool {
        self.apps
            .iter()
            .flat_map(|a| &a.credentials)
            .any(|c| matches!(c.decision, Some(Decision::Keep { in_use: true, .. })))
    }
}

/// How far back the sign-in log is read for `graph usage` (the log keeps about 30 days).
const USAGE_WINDOW: Duration = Duration::days(30);

/// `graph usage`: per app, each certificate credential's last sign-in.
pub fn usage(
    client: &GraphClient,
    selection: &Selection,
    now: OffsetDateTime,
) -> Result<UseOutcome> {
    let mut apps = Vec::new();
    for app in select(client, selection)? {
        apps.push(match credentials(&app) {
            Ok(held) => with_evidence(client, &app, held, now - USAGE_WINDOW),
            Err(error) => AppUse {
                error: Some(error),
                ..bare(&app)
            },
        });
    }
    Ok(UseOutcome {
        apps,
        applied: false,
        now,
    })
}

/// `graph retire`: per app holding a newer certificate, each credential it replaced is removed (with `apply`)
/// only as [`usage::decide`] allows.
pub fn retire(
    client: &GraphClient,
    selection: &Selection,
    rules: &RetireRules,
    apply: bool,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<UseOutcome> {
    let tenant = TenantPolicyCell::new();
    let mut apps = Vec::new();
    for app in select(client, selection)? {
        let named = super::tenant::text(&app, "id")
            .and_then(|id| Uuid::parse_str(&id).ok())
            .and_then(|id| {
                selection
                    .rotated
                    .iter()
                    .find(|(o, _)| *o == id)
                    .map(|(_, k)| *k)
            });
        let held = match credentials(&app) {
            Ok(held) => held,
            Err(error) => {
                apps.push(AppUse {
                    error: Some(error),
                    ..bare(&app)
                });
                continue;
            }
        };
        let successor = match named {
            // The credential the earlier run added, if the app still holds it, valid.
            Some(key) => held
                .iter()
                .find(|c| c.key_id == Some(key) && !c.signs() && c.start <= now && now < c.end),
            None => usage::successor(&held, now).map(|(new, _)| new),
        };
        let Some(new) = successor else {
            apps.push(AppUse {
                note: Some(match named {
                    Some(key) => format!(
                        "the credential the rotation added (keyId {key}) is not on the app, or not valid now: \
                         nothing to retire"
                    ),
                    None => "it holds no newer certificate: nothing to retire".into(),
                }),
                ..bare(&app)
            });
            continue;
        };
        let new = new.clone();
        let mut found = with_evidence(client, &app, held, new.start);
        if found.error.is_some() {
            apps.push(found);
            continue;
        }
        decide_all(&mut found, &new, rules, now);
        let to_remove: Vec<Uuid> = found
            .credentials
            .iter()
            .filter(|c| matches!(c.decision, Some(Decision::Retire { .. })))
            .filter_map(|c| c.credential.key_id)
            .collect();
        if apply && !to_remove.is_empty() {
            match remove(client, &found, &to_remove, &tenant, passwords, now) {
                Ok(()) => found.removed = to_remove,
                Err(error) => found.error = Some(error),
            }
        }
        apps.push(found);
    }
    Ok(UseOutcome {
        apps,
        applied: apply,
        now,
    })
}

/// Decides for each credential the successor replaced.
fn decide_all(
    found: &mut AppUse,
    new: &ExistingCredential,
    rules: &RetireRules,
    now: OffsetDateTime,
) {
    found.successor = new.key_id;
    let all: Vec<ExistingCredential> = found
        .credentials
        .iter()
        .map(|c| c.credential.clone())
        .collect();
    let replaced: Vec<Option<Uuid>> = usage::replaced_by(&all, new, now)
        .iter()
        .map(|c| c.key_id)
        .collect();
    let Some(evidence) = &found.evidence else {
        return;
    };
    for entry in &mut found.credentials {
        if replaced.contains(&entry.credential.key_id) {
            entry.decision = Some(usage::decide(&entry.credential, new, evidence, rules, now));
        }
    }
}

/// The app's credentials with their last sign-ins since `since` (the report's, and the sign-in log's from
/// `since` on).
fn with_evidence(
    client: &GraphClient,
    app: &Value,
    credentials: Vec<ExistingCredential>,
    since: OffsetDateTime,
) -> AppUse {
    let mut found = bare(app);
    let evidence = match read_evidence(client, &found.app_id, &credentials, since) {
        Ok(evidence) => evidence,
        Err(error) => {
            found.error = Some(error);
            return found;
        }
    };
    found.credentials = credentials
        .into_iter()
        .filter(|c| !c.signs())
        .map(|credential| CredentialUse {
            seen: evidence.seen(credential.key_id),
            credential,
            decision: None,
        })
        .collect();
    found.evidence = Some(evidence);
    found.since = Some(since);
    found
}

/// The report's rows and the sign-in log's entries for the app; none to be had (403 for the licence or the
/// permission, a national cloud) is [`Evidence::Unavailable`], not an error.
fn read_evidence(
    client: &GraphClient,
    app_id: &str,
    credentials: &[ExistingCredential],
    since: OffsetDateTime,
) -> Result<Evidence> {
    if client.national_cloud() {
        return Ok(Evidence::Unavailable(usage::NATIONAL_CLOUD.into()));
    }
    let app_id = Uuid::parse_str(app_id).map_err(|_| {
        Error::Network(format!(
            "Graph gave the appId {app_id:?}, which is not a GUID"
        ))
    })?;
    let read = client
        .credential_sign_in_activities(app_id)
        .and_then(|report| Ok((report, client.service_principal_sign_ins(app_id, since)?)));
    let (report, sign_ins) = match read {
        Ok(both) => both,
        Err(error) => match usage::unavailable(&error) {
            Some(why) => return Ok(Evidence::Unavailable(why)),
            None => return Err(error),
        },
    };
    let thumbprints: HashMap<String, Uuid> = credentials
        .iter()
        .filter_map(|c| {
            Some((
                crate::credential::thumbprint::upper_hex(&c.thumbprint?),
                c.key_id?,
            ))
        })
        .collect();
    Ok(Evidence::from_records(&report, &sign_ins, &thumbprints))
}

/// Removes the keyIds through the rotation engine (the Graph store: re-read, PATCH, confirm; never the last
/// valid credential).
fn remove(
    client: &GraphClient,
    app: &AppUse,
    key_ids: &[Uuid],
    tenant: &TenantPolicyCell,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<()> {
    let object_id = Uuid::parse_str(&app.id).map_err(|_| {
        Error::Network(format!(
            "Graph gave the object id {:?}, which is not a GUID",
            app.id
        ))
    })?;
    graph_store::remove_keys(client, object_id, key_ids, None, tenant, now, passwords).map(drop)
}

/// The apps selected, as the listing (or a read by id) gives them: metadata, no keys.
fn select(client: &GraphClient, selection: &Selection) -> Result<Vec<Value>> {
    const SELECT: &str = "id,appId,displayName,keyCredentials";
    // One app read by id without `$select` gives its credentials' metadata; naming keyCredentials there would
    // spend Graph's rationed read of the keys, which retiring never needs.
    let mut apps = Vec::new();
    for id in &selection.apps {
        apps.push(super::tenant::find(client, *id, None)?.0);
    }
    // The apps a rotation report names, by the object ids Graph gave: 20 to a `$batch`.
    let paths: Vec<String> = selection
        .rotated
        .iter()
        .map(|(object_id, _)| format!("/applications/{object_id}"))
        .collect();
    if !paths.is_empty() {
        for app in client.get_many(&paths)? {
            apps.push(app?);
        }
    }
    if selection.all {
        client.applications(
            selection.filter.as_deref(),
            SELECT,
            crate::graph::MAX_PAGE,
            |page| {
                apps.extend(page);
                Ok(())
            },
        )?;
    }
    Ok(apps)
}

fn credentials(app: &Value) -> Result<Vec<ExistingCredential>> {
    let app_id = super::tenant::text(app, "appId").unwrap_or_default();
    super::tenant::as_manifest(app.clone(), &format!("application {app_id}"))?.key_credentials()
}

fn bare(app: &Value) -> AppUse {
    AppUse {
        id: super::tenant::text(app, "id").unwrap_or_default(),
        app_id: super::tenant::text(app, "appId").unwrap_or_default(),
        display_name: super::tenant::text(app, "displayName"),
        credentials: Vec::new(),
        evidence: None,
        note: None,
        since: None,
        successor: None,
        removed: Vec::new(),
        error: None,
    }
}
