//! Rotation against the tenant (`keycred graph rotate`), admin mode: for each app, the same planner as `rotate`
//! on its credentials as Graph has them; with `apply`, the new certificate's files are written first (the key is
//! safe on disk before anything is sent), the app is read again and refused if its credentials changed since
//! the plan, one `PATCH /applications/{id}` sends the **whole** collection (every credential kept goes back by
//! its keyId with `key: null`, the new one with its certificate), and the app is read once more to confirm that
//! the new keyId is there and no kept one is gone.
//!
//! A run that stopped halfway is finished by running it again: keyIds derive from the certificate, and a
//! certificate already made for an app in its folder but not on the app yet is uploaded instead of a new one.

use std::path::{Path, PathBuf};

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

mod after;
mod new;
mod select;

use after::{finish, name_the_signer, new_credential_source, retire, verify_token};
use new::{make, New};

use super::provision::{CredentialSpec, Issue};
use super::tenant;
use crate::credential::CertificateInfo;
use crate::error::{Error, Result};
use crate::graph::{AppRef, GraphClient};
use crate::input::PasswordSources;
use crate::manifest::{ExistingCredential, KeyCredentialsDocument, ManifestFormat};
use crate::provision::FileRole;
use crate::rotation::{self, standing, Candidate, Disposition, Plan, Policy, Standing};

/// What `graph rotate` selects and does, the same for every app.
#[derive(Debug)]
pub struct GraphRotateRequest {
    /// The apps (appId or object id); empty with `all`.
    pub apps: Vec<Uuid>,
    /// Every app the token may read that holds a certificate credential (with `filter`, those it matches).
    pub all: bool,
    /// With `all`, also the apps that hold no certificate credential (secrets only, or nothing): each gets its
    /// first certificate. Without it they are listed apart and left alone.
    pub include_without_certificate: bool,
    /// An OData `$filter` for `all`.
    pub filter: Option<String>,
    /// The planner's policy.
    pub policy: Policy,
    /// How each app's new credential is made; `subject` empty takes the app's newest credential's, else
    /// `CN={displayName}`; `out` is the base folder, each app's files going to `out/{appId}/`.
    pub credential: CredentialSpec,
    /// Send the changes (else plan only).
    pub apply: bool,
    /// The app rolls its own keys (`--self`): `addKey` and `removeKey` with proofs signed by its current
    /// certificate, which needs no directory permission; else admin mode (one PATCH per app).
    pub self_service: Option<SelfService>,
    /// After applying, get a token with each new certificate (`--verify`).
    pub verify: Option<Verify>,
    /// After a verified rotation, remove the credential the new one replaces (`--retire-previous`).
    pub retire_previous: bool,
    /// Apps worked on at once (each a worker with its own requests; a throttled one holds back all).
    pub jobs: usize,
    /// Each app's files go to `credential.out/{appId}/` (`graph rotate`); else to `credential.out` itself (a batch
    /// row, whose folder is already its own).
    pub per_app_folder: bool,
    /// Take the new certificates from the organisation's CA, in two runs ([`super::ca_rotation`]), with these CA
    /// certificates for answers that lack them; `None` makes self-signed ones.
    pub ca: Option<Vec<std::path::PathBuf>>,
}

/// `--verify`: where each app gets its token with the new certificate, and for how long keycred waits while Entra
/// replicates the new credential (it answers AADSTS700027 until then).
#[derive(Debug, Clone)]
pub struct Verify {
    /// The tenant's authority.
    pub authority: crate::flow::authority::Authority,
    /// The tenant.
    pub tenant: String,
    /// The scope of the token (`{graph}/.default`: every app may get one).
    pub scope: String,
    /// How long to wait for replication.
    pub timeout: std::time::Duration,
}

/// `--self`: the app's current credential (the one its token came from), which signs the proofs.
#[derive(Debug)]
pub struct SelfService {
    /// The current certificate and key.
    pub credential: super::prove::CredentialSource,
    /// Where its PFX password comes from (not the new PFX's source).
    pub passwords: PasswordSources,
    /// The application's object id (the proof's `iss`), when the app may not read its own registration.
    pub object_id: Option<Uuid>,
}

/// What happened to one app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppAction {
    /// Nothing was due.
    Skipped,
    /// A change is planned (not applied).
    Planned,
    /// The change was sent and confirmed.
    Rotated,
    /// The app could not be rotated.
    Failed,
    /// A signal stopped the run before this app was started.
    NotStarted,
    /// Its certificate was requested from the CA (`--ca`): the key and the request are written, nothing is sent.
    Requested,
    /// Its request waits for the CA's answer (`--ca`).
    Waiting,
    /// The credential an earlier run added and never verified (it stopped after the add landed) got a token now
    /// (`--verify`), and with `--retire-previous` the one it replaced went: the earlier run is finished.
    Finished,
    /// `--all` found no certificate credential on it (secrets only, or nothing): left alone, never given a first
    /// certificate unless named or `--include-without-certificate`.
    NoCertificate,
}

impl AppAction {
    /// The word in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            AppAction::Skipped => "skipped",
            AppAction::Planned => "planned",
            AppAction::Rotated => "rotated",
            AppAction::Failed => "failed",
            AppAction::NotStarted => "not started",
            AppAction::Requested => "requested",
            AppAction::Waiting => "waiting for the CA",
            AppAction::NoCertificate => "no certificate",
            AppAction::Finished => "finished",
        }
    }
}

/// One app's plan and result.
#[derive(Debug)]
pub struct AppRotation {
    /// Object id.
    pub id: String,
    /// appId.
    pub app_id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Its credentials before.
    pub existing: Vec<ExistingCredential>,
    /// The plan (`None` when the app could not be read).
    pub plan: Option<Plan>,
    /// The certificate added (or to be added).
    pub added: Option<(CertificateInfo, Uuid)>,
    /// In a plan, the certificate `--apply` would make and add: a plan makes no key, so it has no thumbprint or
    /// keyId yet.
    pub to_make: Option<crate::rotation::ToMake>,
    /// The certificate came from an earlier run's files in the app's folder.
    pub reused: bool,
    /// The credential files written.
    pub files: Vec<(FileRole, String)>,
    /// What happened.
    pub action: AppAction,
    /// Whether the new certificate got a token (`--verify`), when it was tried.
    pub verified: Option<bool>,
    /// The credential removed after verification (`--retire-previous`).
    pub retired: Option<Uuid>,
    /// The keyId of the credential an earlier run added and did not verify, which this run verifies (and plans
    /// to, without `--apply`).
    pub finishing: Option<Uuid>,
    /// Why it failed, with Graph's code and request-id where Graph said no.
    pub error: Option<String>,
    /// Where its CA rotation stands (`--ca`).
    pub ca: Option<super::ca_rotation::CaStep>,
}

impl AppRotation {
    /// The app's name for a line of output: its appId, else (an app not started, or not read) the id it was
    /// listed or named by.
    pub fn label(&self) -> &str {
        if self.app_id.is_empty() {
            &self.id
        } else {
            &self.app_id
        }
    }

    /// An app before anything is known of it.
    fn nothing_yet(id: String, action: AppAction) -> AppRotation {
        AppRotation {
            id,
            app_id: String::new(),
            display_name: None,
            existing: Vec::new(),
            plan: None,
            added: None,
            to_make: None,
            reused: false,
            files: Vec::new(),
            action,
            verified: None,
            retired: None,
            finishing: None,
            error: None,
            ca: None,
        }
    }
}

/// The whole run.
#[derive(Debug)]
pub struct GraphRotateOutcome {
    /// One entry per app, in order.
    pub apps: Vec<AppRotation>,
    /// The changes were sent.
    pub applied: bool,
    /// The run's moment.
    pub now: OffsetDateTime,
    /// The signal that stopped the run, if one did.
    pub interrupted_by: Option<i32>,
    /// The apps rolled their own keys (`--self`); else an admin's run, whose new keys are in `--out` and must
    /// still be deployed where each app runs.
    pub self_service: bool,
}

/// The app properties a rotation reads: its keys included, which Graph returns only when `$select` names
/// keyCredentials on one application.
const SELECT: &str = "id,appId,displayName,keyCredentials";

/// Plans (and with `apply`, applies) a rotation for each app, `request.jobs` at a time; one app's failure does
/// not stop the others. After a signal recorded in `interrupt`, no new app starts; those in progress finish.
/// `done` hears of each app as it ends (for progress).
pub fn graph_rotate(
    client: &GraphClient,
    request: GraphRotateRequest,
    passwords: &PasswordSources,
    now: OffsetDateTime,
    interrupt: &crate::interrupt::Interrupt,
    done: &(dyn Fn(&AppRotation) + Sync),
) -> Result<GraphRotateOutcome> {
    if request.retire_previous && request.self_service.is_none() {
        return Err(Error::Invalid(
            "--retire-previous works with --self only: in an admin's run the new key is only in --out, not yet where \
             the app runs, so removing the credential it replaces in the same run locks the app's daemon out. \
             Deploy each new certificate first, then remove the old credential once nothing signs in with it (the \
             portal's Certificates & secrets), or let the daemon rotate itself with graph rotate --self \
             --retire-previous"
                .into(),
        ));
    }
    if request.retire_previous && request.verify.is_none() {
        return Err(Error::Invalid(
            "--retire-previous removes the old credential only once the new one got a token: give --verify too".into(),
        ));
    }
    if request.all != request.apps.is_empty() {
        return Err(Error::Invalid(
            "name the apps (--app ID, repeatable) or give --all, one of the two".into(),
        ));
    }
    let signer = match &request.self_service {
        Some(service) => {
            if request.all || request.apps.len() != 1 {
                return Err(Error::Invalid(
                    "--self rotates the app's own credentials: give exactly one --app, the app whose certificate \
                     signed in"
                        .into(),
                ));
            }
            let loaded = super::prove::load_credential(&service.credential, &service.passwords)?;
            if loaded.certificate.status(now) != crate::credential::Status::Valid {
                return Err(Error::Refused(format!(
                    "--self: the current certificate ({}, ending {}) is not valid now, and Graph accepts addKey \
                     proofs only from a valid one: an admin must add the new certificate (graph rotate without \
                     --self)",
                    loaded.certificate.subject,
                    crate::time_fmt::rfc3339_utc(loaded.certificate.not_after)
                )));
            }
            Some(loaded)
        }
        None => None,
    };
    let (ids, left_alone) = select::apps(client, &request, interrupt)?;
    let slots: Vec<std::sync::Mutex<Option<AppRotation>>> =
        ids.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let jobs = request.jobs.clamp(1, ids.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                if interrupt.signal().is_some() {
                    break;
                }
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(id) = ids.get(index) else { break };
                let rotation = rotate_one(client, &request, *id, signer.as_ref(), passwords, now);
                done(&rotation);
                *slots[index]
                    .lock()
                    .expect("no worker panics holding a slot") = Some(rotation);
            });
        }
    });
    let mut apps: Vec<AppRotation> = slots
        .into_iter()
        .zip(&ids)
        .map(|(slot, id)| {
            slot.into_inner()
                .expect("no worker panics holding a slot")
                .unwrap_or_else(|| AppRotation::nothing_yet(id.to_string(), AppAction::NotStarted))
        })
        .collect();
    // Listed apart, after the apps the run worked on.
    apps.extend(left_alone);
    Ok(GraphRotateOutcome {
        apps,
        applied: request.apply,
        now,
        interrupted_by: interrupt.signal(),
        self_service: request.self_service.is_some(),
    })
}

fn rotate_one(
    client: &GraphClient,
    request: &GraphRotateRequest,
    id: Uuid,
    signer: Option<&super::prove::LoadedCredential>,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> AppRotation {
    let mut rotation = AppRotation::nothing_yet(id.to_string(), AppAction::Failed);
    if let Err(error) = plan_and_apply(client, request, id, signer, passwords, now, &mut rotation) {
        rotation.action = AppAction::Failed;
        rotation.error = Some(error.to_string());
    }
    // What the report shows of the credentials is kept; their certificates (parsed, with their DER) are not, so
    // that a run over thousands of apps holds little per app.
    for credential in &mut rotation.existing {
        credential.certificate = None;
    }
    rotation
}

fn plan_and_apply(
    client: &GraphClient,
    request: &GraphRotateRequest,
    id: Uuid,
    signer: Option<&super::prove::LoadedCredential>,
    passwords: &PasswordSources,
    now: OffsetDateTime,
    rotation: &mut AppRotation,
) -> Result<()> {
    let given_object_id = request.self_service.as_ref().and_then(|s| s.object_id);
    let found = match given_object_id {
        Some(object_id) => client
            .application(AppRef::ObjectId(object_id), Some(SELECT))
            .map(|app| (app, AppRef::ObjectId(object_id))),
        None => tenant::find(client, id, Some(SELECT)),
    };
    let (app, reference) = found.map_err(|error| match (&error, signer) {
        (Error::Graph(failure), Some(_)) if failure.code == "Authorization_RequestDenied" => Error::Refused(format!(
            "{error}\n  --self: this app may not read its own registration here, and keycred plans on its \
             credentials; give --object-id with its object id only where it may, or have an admin run the rotation"
        )),
        _ => error,
    })?;
    let object_id: Uuid = app
        .get("id")
        .and_then(Value::as_str)
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| Error::Network(format!("application {id}: Graph gave no object id")))?;
    rotation.id = object_id.to_string();
    rotation.app_id = text(&app, "appId").unwrap_or_default();
    rotation.display_name = text(&app, "displayName");
    // The appId names the app's folder: only a GUID may (never `..`, a slash or an absolute path from Graph).
    if Uuid::try_parse(&rotation.app_id).is_err() {
        return Err(Error::Network(format!(
            "application {object_id}: Graph gave its appId as {:?}, which is not a GUID; nothing was written or \
             sent for this app",
            rotation.app_id
        )));
    }
    let entries = key_credentials(&app);
    let manifest = tenant::as_manifest(app, &format!("application {}", rotation.app_id))?;
    rotation.existing = manifest.key_credentials()?;
    let existing = rotation.existing.clone();

    // Not due: nothing is made.
    let precheck = rotation::plan(&existing, None, now, &request.policy)?;
    let folder = if request.per_app_folder {
        request.credential.out.join(&rotation.app_id)
    } else {
        request.credential.out.clone()
    };
    // A certificate an earlier run made (or imported from the CA) and did not get onto the app is sent now, rather
    // than a new one made or requested.
    let earlier = if precheck.renewal_due {
        super::made::earlier_certificate(&folder, &existing, now, None)?
    } else {
        None
    };
    let ca_next = match (&request.ca, &earlier) {
        (Some(chain), None) => Some(super::ca_rotation::next(
            new::spec(request, &existing, rotation, &folder)?,
            // The current certificate's DNS names, as a CA template that requires them expects.
            &crate::manifest::existing::newest_dns_names(&existing),
            chain,
            precheck.renewal_due,
            &existing,
            ManifestFormat::Graph,
            passwords,
            now,
        )?),
        _ => None,
    };
    // What the CA issued (or an earlier run imported) is added whenever it is new: the request was made when the app
    // was due.
    let issued = Policy {
        renew_within: None,
        ..request.policy.clone()
    };
    let mut ca_request = None;
    let (new, planned_with) = match (earlier, ca_next) {
        (Some((path, cert)), _) => {
            rotation.files = vec![(FileRole::Cer, path.display().to_string())];
            (Some(New::Reused(Box::new(cert))), &request.policy)
        }
        (None, Some(super::ca_rotation::Next::Import(prepared, step))) => {
            rotation.ca = Some(step);
            (Some(New::Imported(prepared)), &issued)
        }
        // Imported while the app was not due, and not on it yet (when it is due, the earlier certificate above is
        // that one).
        (None, Some(super::ca_rotation::Next::Imported(cer, cert, step))) => {
            rotation.ca = Some(step);
            rotation.files = vec![(FileRole::Cer, cer.display().to_string())];
            (Some(New::Reused(cert)), &issued)
        }
        (None, Some(super::ca_rotation::Next::Request(csr, step))) => {
            rotation.ca = Some(step);
            ca_request = Some(csr);
            (None, &request.policy)
        }
        (None, Some(super::ca_rotation::Next::Waiting(step))) => {
            rotation.ca = Some(step);
            (None, &request.policy)
        }
        (None, _) if !precheck.renewal_due => (None, &request.policy),
        (None, _) => (
            Some(make(request, &existing, rotation, &folder, passwords, now)?),
            &request.policy,
        ),
    };
    let plan = match &new {
        Some(new) => rotation::plan(&existing, Some(&new.candidate()), now, planned_with)?,
        None => super::ca_rotation::with_ca_reason(precheck, rotation.ca.as_ref()),
    };
    rotation.reused = matches!(new, Some(New::Reused(_)));
    if let (Some(new), true) = (&new, plan.add) {
        if let Some(cert) = new.certificate() {
            rotation.added = Some((cert.clone(), cert.key_id()));
        }
        if let New::ToMake(issue, to_make) = new {
            rotation.to_make = Some(to_make.clone());
            rotation.files = issue.planned_files();
        }
    }
    let changes = plan.changes();
    // Never leave an app without a valid certificate credential.
    let valid_after = plan.add
        || existing.iter().zip(&plan.existing).any(|(c, d)| {
            *d == Disposition::Keep
                && !c.signs()
                && standing(c.start, c.end, now) == Standing::Valid
        });
    rotation.plan = Some(plan);
    if let Some(csr) = &ca_request {
        // Phase one of a CA rotation: the key and the request are written (with --apply); nothing is sent, not even
        // what the policy would prune, so the app changes once, when its new certificate arrives.
        rotation.files = [FileRole::Key, FileRole::Request]
            .into_iter()
            .map(|role| {
                let path = folder.join(format!("{}{}", csr.name, role.suffix()));
                (role, path.display().to_string())
            })
            .collect();
        if request.apply {
            super::ca::csr(csr)?;
            rotation.action = AppAction::Requested;
        } else {
            rotation.action = AppAction::Planned;
        }
        return Ok(());
    }
    if matches!(
        rotation.ca,
        Some(super::ca_rotation::CaStep::Waiting { .. })
    ) {
        rotation.action = AppAction::Waiting;
        return Ok(());
    }
    if !changes {
        rotation.action = AppAction::Skipped;
        if request.verify.is_some() {
            finish(
                client, request, object_id, reference, signer, passwords, now, &folder, rotation,
            )?;
        }
        return Ok(());
    }
    if !valid_after {
        return Err(Error::Refused(
            "the plan would leave the app without a valid certificate credential; nothing was sent"
                .into(),
        ));
    }
    if !request.apply {
        rotation.action = AppAction::Planned;
        return Ok(());
    }
    let plan = rotation.plan.as_ref().expect("set above");

    // The key is on disk before anything is sent.
    match new {
        Some(New::Made(made)) if plan.add => {
            rotation.files =
                made.issue
                    .write_recorded(&made.credential, ManifestFormat::Graph, None)?;
        }
        Some(New::Imported(prepared)) => {
            rotation.files = prepared.files();
            prepared.write(false)?;
        }
        _ => {}
    }
    // Read-modify-write without an ETag: read again right before writing.
    let again = client.application(reference, Some(SELECT))?;
    if key_credentials(&again) != entries {
        return Err(Error::Refused(format!(
            "application {}: its credentials changed since the plan (another run or an admin); nothing was sent. \
             Run again to plan on what it has now",
            rotation.app_id
        )));
    }
    let kept: Vec<Value> = entries
        .iter()
        .zip(&plan.existing)
        .filter(|(_, d)| **d == Disposition::Keep)
        .map(|(entry, _)| {
            let mut entry = entry.clone();
            entry["key"] = Value::Null;
            entry
        })
        .collect();
    let mut body = kept.clone();
    if let Some((cert, key_id)) = &rotation.added {
        body.push(
            KeyCredentialsDocument::new(&[(cert, *key_id)], ManifestFormat::Graph).entries()[0]
                .clone(),
        );
    }
    match signer {
        None => client.patch_key_credentials(object_id, &body)?,
        Some(current) => {
            let signer = crate::flow::graph::Signer {
                certificate: &current.certificate,
                key: &current.key,
            };
            // Added first, then removed, each proven by the current certificate (still on the app).
            if let Some((cert, key_id)) = &mut rotation.added {
                let added = client
                    .add_key(
                        object_id,
                        &crate::flow::graph::add_key_body(&signer, object_id, cert, now)?,
                    )
                    .map_err(|e| name_the_signer(e, &current.certificate))?;
                // Graph gives the new credential its own keyId.
                if let Some(id) = added
                    .get("keyId")
                    .and_then(Value::as_str)
                    .and_then(|i| i.parse().ok())
                {
                    *key_id = id;
                    if let Some(last) = body.last_mut() {
                        last["keyId"] = Value::String(id.to_string());
                    }
                }
            }
            for (c, d) in rotation.existing.iter().zip(&plan.existing) {
                if let (Disposition::Remove(_), Some(key_id)) = (d, c.key_id) {
                    client
                        .remove_key(
                            object_id,
                            &crate::flow::graph::remove_key_body(&signer, object_id, key_id, now)?,
                        )
                        .map_err(|e| name_the_signer(e, &current.certificate))?;
                }
            }
        }
    }

    // Confirm: the new keyId is there, and no kept one is gone.
    let after = client.application(AppRef::ObjectId(object_id), Some(SELECT))?;
    let after_ids: Vec<String> = key_credentials(&after)
        .iter()
        .filter_map(|k| k.get("keyId")?.as_str().map(str::to_owned))
        .collect();
    let missing: Vec<String> = kept
        .iter()
        .chain(body.last().filter(|_| rotation.added.is_some()))
        .filter_map(|k| k.get("keyId")?.as_str().map(str::to_owned))
        .filter(|id| !after_ids.contains(id))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Refused(format!(
            "application {}: after the PATCH, Graph does not list keyId {}; check the app in the portal",
            rotation.app_id,
            missing.join(", ")
        )));
    }
    rotation.action = AppAction::Rotated;
    if let Some(verify) = &request.verify {
        let source = new_credential_source(&rotation.files)?;
        let verified = verify_token(verify, &rotation.app_id, &source, passwords)?;
        rotation.verified = Some(verified);
        if !verified {
            return Err(Error::Refused(format!(
                "application {}: the new certificate got no token within {} s (--verify); the previous credential \
                 was kept",
                rotation.app_id,
                verify.timeout.as_secs()
            )));
        }
        if let Some((_, cer)) = rotation
            .files
            .iter()
            .find(|(role, _)| *role == FileRole::Cer)
        {
            super::made::mark_verified(Path::new(cer), now)?;
        }
        if request.retire_previous {
            let previous = plan
                .current
                .filter(|i| plan.existing[*i] == Disposition::Keep)
                .and_then(|i| rotation.existing[i].key_id);
            retire(
                client,
                rotation,
                object_id,
                reference,
                &source,
                previous,
                passwords,
                signer.is_some(),
                now,
            )?;
        }
    }
    Ok(())
}

/// Refuses a `--report` path that holds anything but an earlier `graph rotate` report, before anything is sent.
pub fn check_report_target(path: &Path) -> Result<()> {
    let earlier = crate::fsio::check_report_target(path, |report| {
        report.contains_key("applied") && report.get("apps").is_some_and(Value::is_array)
    })?;
    if earlier {
        Ok(())
    } else {
        Err(Error::Refused(format!(
            "--report {} exists and is not a graph rotate report: nothing was sent and it was left as it is; choose \
             another --report FILE",
            path.display()
        )))
    }
}

pub(super) fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

pub(super) fn key_credentials(app: &Value) -> Vec<Value> {
    app.get("keyCredentials")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}
