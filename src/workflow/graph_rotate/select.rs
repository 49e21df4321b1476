//! Which apps a run works on: those named, or with `--all` every app Graph lists that holds a client certificate;
//! the others are listed apart and left alone (an app gets its first certificate only when named, or with
//! `--include-without-certificate`).

use super::*;
use crate::workflow::rotation::graph_store::SELECT;
use crate::workflow::scan_state::SinceLast;

/// One app of a run: an id to work on (with the app as the listing gave it, to plan on without reading it again),
/// or (`Err`) the outcome of one whose listing showed nothing to do.
pub(super) type Slot = std::result::Result<(Uuid, Option<Value>), Box<AppRotation>>;

/// The apps in Graph's order, each an id to work on or (`Err`) the outcome of one with nothing to do, and the apps
/// left alone for holding no certificate. With `--all`, an app whose listed credentials
/// (metadata: dates and keyIds) show nothing to do at `now` is not read again: Graph rations the reads that return
/// keys, and a healthy app needs none.
pub(super) fn apps(
    client: &GraphClient,
    request: &GraphRotateRequest,
    interrupt: &crate::interrupt::Interrupt,
    now: OffsetDateTime,
) -> Result<(Vec<Slot>, Vec<AppRotation>, Option<SinceLast>)> {
    let mut ids: Vec<Slot> = request.apps.iter().map(|id| Ok((*id, None))).collect();
    let mut left_alone = Vec::new();
    if !request.all {
        // Two or more named apps are read together; one (or an app rolling its own keys, which may read only
        // itself) is read by its own worker.
        if request.apps.len() > 1 && request.self_service.is_none() {
            read_named(client, &mut ids)?;
        }
        return Ok((ids, left_alone, None));
    }
    // The listing's credential metadata (no keys) tells which apps hold a certificate credential, and is what a
    // due app's plan starts from.
    let mut sort = |page: Vec<Value>| -> Result<()> {
        interrupt.check()?;
        for app in page {
            let Some(id) = app.get("id").and_then(Value::as_str) else {
                continue;
            };
            let Ok(id) = id.parse::<Uuid>() else { continue };
            if request.include_without_certificate || holds_client_certificate(&app) {
                ids.push(match nothing_to_do(&app, request, now) {
                    Some(skipped) => Err(Box::new(skipped)),
                    None => Ok((id, Some(app))),
                });
            } else {
                let mut rotation =
                    AppRotation::nothing_yet(id.to_string(), AppAction::NoCertificate);
                rotation.app_id = text(&app, "appId").unwrap_or_default();
                rotation.display_name = text(&app, "displayName");
                left_alone.push(rotation);
            }
        }
        Ok(())
    };
    let since_last = match &request.since_last {
        None => {
            client.applications(
                request.filter.as_deref(),
                SELECT,
                crate::graph::MAX_PAGE,
                sort,
            )?;
            None
        }
        Some(dir) => {
            let caught_up = crate::workflow::scan_state::catch_up(client, SELECT, dir, now)?;
            let read = caught_up.summary();
            sort(caught_up.apps)?;
            Some(read)
        }
    };
    Ok((ids, left_alone, since_last))
}

/// Reads the named apps through `$batch`, each as the app it names: by appId first (what an admin types), then by
/// object id for those Graph did not find so. A found app's slot takes its object id and the app as read (the
/// properties a read without `$select` gives, keys left out), to plan on without reading it again; an app found in
/// neither form, or refused, is left to its own read, which says why.
fn read_named(client: &GraphClient, slots: &mut [Slot]) -> Result<()> {
    let mut unread: Vec<usize> = (0..slots.len()).collect();
    for by_app_id in [true, false] {
        let paths: Vec<String> = unread
            .iter()
            .filter_map(|index| slots[*index].as_ref().ok())
            .map(|(id, _)| match by_app_id {
                true => format!("/applications(appId='{id}')"),
                false => format!("/applications/{id}"),
            })
            .collect();
        if paths.is_empty() {
            break;
        }
        let answers = client.get_many(&paths)?;
        let mut missing = Vec::new();
        for (index, answer) in unread.iter().zip(answers) {
            match answer {
                Ok(app) => {
                    let object_id = app
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(|id| id.parse().ok());
                    if let (Some(object_id), Ok(slot)) = (object_id, &mut slots[*index]) {
                        *slot = (object_id, Some(app));
                    }
                }
                Err(Error::Graph(failure)) if failure.code == "Request_ResourceNotFound" => {
                    missing.push(*index)
                }
                Err(_) => {}
            }
        }
        unread = missing;
    }
    Ok(())
}

/// A listed app whose metadata shows nothing to do (not due, nothing the policy removes), as its outcome; `None`
/// when it must be read (or when the run has more to do than a plan from dates: verifying an earlier addition,
/// a CA's answer to import, an app rolling its own keys).
fn nothing_to_do(
    app: &Value,
    request: &GraphRotateRequest,
    now: OffsetDateTime,
) -> Option<AppRotation> {
    if request.verify.is_some() || request.ca.is_some() || request.self_service.is_some() {
        return None;
    }
    let id = text(app, "id")?;
    let app_id = text(app, "appId").unwrap_or_default();
    let existing =
        crate::workflow::tenant::as_manifest(app.clone(), &format!("application {app_id}"))
            .and_then(|m| m.key_credentials())
            .ok()?;
    let plan = crate::rotation::plan(&existing, None, now, &request.policy).ok()?;
    if plan.renewal_due || plan.changes() {
        return None;
    }
    let mut rotation = AppRotation::nothing_yet(id, AppAction::Skipped);
    rotation.app_id = app_id;
    rotation.display_name = text(app, "displayName");
    rotation.existing = existing;
    rotation.plan = Some(plan);
    Some(rotation)
}

/// Whether a listed application holds a client certificate credential: a `keyCredentials` entry that is not a
/// signing key (`usage` `Sign`).
fn holds_client_certificate(app: &Value) -> bool {
    key_credentials(app).iter().any(|k| {
        !k.get("usage")
            .and_then(Value::as_str)
            .is_some_and(|u| u.eq_ignore_ascii_case("Sign"))
    })
}
