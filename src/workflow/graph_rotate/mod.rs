//! Rotation against the tenant (`keycred graph rotate`), admin mode: for each app, the same planner as `rotate`
//! on its credentials as Graph has them; with `apply`, the new certificate's files are written first (the key is
//! safe on disk before anything is sent), the app is read again and refused if its credentials changed since
//! the plan, one `PATCH /applications/{id}` sends the **whole** collection (every credential kept goes back by
//! its keyId with `key: null`, the new one with its certificate), and the app is read once more to confirm that
//! the new keyId is there and no kept one is gone.
//!
//! A run that stopped halfway is finished by running it again: keyIds derive from the certificate, and a
//! certificate already made for an app in its folder but not on the app yet is uploaded instead of a new one.

use std::path::Path;

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

mod after;
mod keys;
mod select;
mod source;

pub use source::VaultAccess;

use after::After;

use super::provision::CredentialSpec;
use super::rotation::graph_store::{key_credentials, text, GraphStore, TenantPolicyCell};
use super::rotation::{Order, Rotation, RunContext, Step};
use crate::credential::CertificateInfo;
use crate::error::{Error, Result};
use crate::graph::GraphClient;
use crate::input::PasswordSources;
use crate::manifest::ExistingCredential;
use crate::provision::FileRole;
use crate::rotation::{Plan, Policy};

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
    /// With `all`: the apps as the saved scan state in this folder has them, brought up to date through Graph's
    /// `applications/delta` (`--since-last`), instead of a full listing.
    pub since_last: Option<std::path::PathBuf>,
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
    /// Make each new certificate in this Azure Key Vault (`--key-vault`), its key never exportable; `--verify`
    /// then signs in the vault.
    pub key_vault: Option<VaultAccess>,
    /// With `key_vault`, admin mode (`--from-vault`): no certificate is made; each app a vault certificate is
    /// tagged for (`keycred-app`) gets the newest enabled version of its certificates when it lacks it, so that
    /// the vault's renewals reach the apps.
    pub from_vault: bool,
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
    /// Why it failed, with Graph's code and request-id where Graph said no (kept typed, so that each front end
    /// says the inputs it names in its own words).
    pub error: Option<Error>,
    /// Where its CA rotation stands (`--ca`).
    pub ca: Option<super::ca_rotation::CaStep>,
    /// The tenant's rules for its new credentials, where they were read (a due app).
    pub rules: Option<crate::rules::Rules>,
    /// The plan's notes and warnings ("policy P limits this app to 180 days: …").
    pub notes: Vec<String>,
    /// Where the new credential's key is, when it was made in a vault.
    pub in_vault: Option<super::rotation::in_vault::VaultHeld>,
    /// What the run's second pass does for it (`--verify`), once every app has been written.
    awaiting: Option<Awaiting>,
}

/// What an app waits for after the run's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    /// A token with the certificate this run added (then `--retire-previous`).
    Verify,
    /// A token with the certificate an earlier run added and never verified.
    Finish,
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

    /// What the store read and the engine decided, after the engine ran (or stopped).
    fn take(&mut self, store: &GraphStore, done: Rotation) {
        if let Some(object_id) = store.object_id {
            self.id = object_id.to_string();
            self.app_id.clone_from(&store.app_id);
            self.display_name.clone_from(&store.display_name);
        }
        self.existing = done.existing;
        self.plan = done.plan;
        self.added = done.added.map(|a| (a.certificate, a.key_id));
        self.to_make = done.to_make;
        self.reused = done.reused.is_some();
        self.files = match done.reused {
            Some(reused) if done.files.is_empty() => {
                vec![(FileRole::Cer, reused.cer.display().to_string())]
            }
            _ => done.files,
        };
        self.ca = done.ca;
        self.rules = done.rules;
        self.notes = done.warnings;
        self.in_vault = done.in_vault;
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
            rules: None,
            in_vault: None,
            notes: Vec::new(),
            awaiting: None,
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
    /// What the run spent of Graph's budget, and what applying its plan would.
    pub cost: RunCost,
    /// With `since_last`: what the run read of the tenant.
    pub since_last: Option<super::scan_state::SinceLast>,
}

/// What a run spent of Graph's budget.
#[derive(Debug, Clone, Copy)]
pub struct RunCost {
    /// The requests sent to Graph.
    pub spent: crate::graph::Spent,
    /// How long the run took.
    pub elapsed: std::time::Duration,
    /// The share of Graph's limits the run used (`--budget`).
    pub share: u8,
    /// For a plan with changes in it: what `--apply` will send, and the least time Graph's limits allow for it.
    pub apply: Option<crate::graph::Estimate>,
}

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
             Deploy each new certificate first, then let keycred graph retire remove the old credential once \
             Entra's records show nothing signs in with it (a daily run after the rotation), or let the daemon \
             rotate itself with graph rotate --self \
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
    if request.since_last.is_some() && (!request.all || request.filter.is_some()) {
        return Err(Error::Invalid(
            "--since-last brings the whole tenant's saved state up to date: give it with --all, without --filter"
                .into(),
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
    source::check(&request)?;
    let started = std::time::Instant::now();
    let vault = request
        .key_vault
        .as_ref()
        .map(VaultAccess::client)
        .transpose()?;
    let mut request = request;
    let renewals = source::renewals(&mut request, vault.as_ref())?;
    if renewals.as_ref().is_some_and(|r| r.is_empty()) {
        // No app is tagged in the vault (or none of those named): nothing to do, and no Graph call.
        return Ok(GraphRotateOutcome {
            cost: run_cost(client, &request, &[], started.elapsed()),
            apps: Vec::new(),
            applied: request.apply,
            now,
            interrupted_by: interrupt.signal(),
            self_service: false,
            since_last: None,
        });
    }
    let (mut slots, left_alone, since_last) = select::apps(client, &request, interrupt, now)?;
    // The listed apps move to the workers; the slots keep only their ids and places.
    let ids: Vec<(Uuid, Option<Value>)> = slots
        .iter_mut()
        .filter_map(|s| s.as_mut().ok().map(|(id, listed)| (*id, listed.take())))
        .collect();
    let shared = Shared {
        client,
        request: &request,
        signer: signer.as_ref(),
        passwords,
        now,
        tenant: TenantPolicyCell::new(),
        vault,
        renewals,
    };
    // First every app's write; then, while Entra replicates them, every new certificate's token: the wait is
    // about the longest replication delay, not their sum.
    let worked = write_all(&shared, &ids, interrupt, done);
    let mut worked = verify_all(&shared, worked, interrupt, done).into_iter();
    // In Graph's order: the apps worked on, and those whose listing showed nothing to do, where they stood.
    let mut apps: Vec<AppRotation> = slots
        .into_iter()
        .filter_map(|slot| match slot {
            Ok(_) => worked.next(),
            Err(decided) => Some(*decided),
        })
        .collect();
    // Listed apart, after the apps the run worked on.
    apps.extend(left_alone);
    let cost = run_cost(client, &request, &apps, started.elapsed());
    Ok(GraphRotateOutcome {
        apps,
        applied: request.apply,
        now,
        interrupted_by: interrupt.signal(),
        self_service: request.self_service.is_some(),
        cost,
        since_last,
    })
}

/// The run's first pass: each app planned and (with `apply`) written, `request.jobs` at a time, while the keys
/// its plans need are read beside ([`keys::KeyFeed`]); an app that waits for verification is heard of once it is
/// verified.
fn write_all(
    shared: &Shared,
    ids: &[(Uuid, Option<Value>)],
    interrupt: &crate::interrupt::Interrupt,
    done: &(dyn Fn(&AppRotation) + Sync),
) -> Vec<AppRotation> {
    let request = shared.request;
    let feed = keys::KeyFeed::new(ids, request.ca.is_some());
    let done_apps = std::thread::scope(|scope| {
        scope.spawn(|| feed.read(shared.client, ids, interrupt));
        super::rotation::runner::run_all(
            ids,
            request.jobs,
            interrupt,
            |index, (id, listed)| {
                let mut listed = listed.clone();
                if let (Some(app), Some(keys)) = (listed.as_mut(), feed.take(index)) {
                    super::rotation::graph_store::with_keys(app, &keys);
                }
                rotate_one(shared, *id, listed)
            },
            |app: &AppRotation| {
                if app.awaiting.is_none() {
                    done(app)
                }
            },
        )
    });
    done_apps
        .into_iter()
        .zip(ids)
        .map(|(rotation, (id, _))| {
            rotation
                .unwrap_or_else(|| AppRotation::nothing_yet(id.to_string(), AppAction::NotStarted))
        })
        .collect()
}

/// The run's second pass (`--verify`): each app that awaits it gets its token, and then, with
/// `--retire-previous`, its previous credential goes. The others pass through as they are.
fn verify_all(
    shared: &Shared,
    mut worked: Vec<AppRotation>,
    interrupt: &crate::interrupt::Interrupt,
    done: &(dyn Fn(&AppRotation) + Sync),
) -> Vec<AppRotation> {
    let waiting: Vec<usize> = (0..worked.len())
        .filter(|i| worked[*i].awaiting.is_some())
        .collect();
    let slots: Vec<std::sync::Mutex<Option<AppRotation>>> = waiting
        .iter()
        .map(|i| {
            let placeholder = AppRotation::nothing_yet(String::new(), AppAction::NotStarted);
            std::sync::Mutex::new(Some(std::mem::replace(&mut worked[*i], placeholder)))
        })
        .collect();
    let verified = super::rotation::runner::run_all(
        &slots,
        shared.request.jobs,
        interrupt,
        |_, slot| {
            let mut app = slot
                .lock()
                .expect("one worker per app")
                .take()
                .expect("each app is verified once");
            verify_one(shared, &mut app);
            app
        },
        done,
    );
    for ((index, result), slot) in waiting.into_iter().zip(verified).zip(slots) {
        // An app a signal kept from its verification stays as the first pass left it: rotated, not verified.
        worked[index] = match result {
            Some(app) => app,
            None => slot
                .into_inner()
                .expect("one worker per app")
                .expect("an app not started is still in its slot"),
        };
    }
    worked
}

/// Verifies one app, as [`Awaiting`] says; a failure fails the app.
fn verify_one(shared: &Shared, app: &mut AppRotation) {
    let Some(awaiting) = app.awaiting.take() else {
        return;
    };
    let request = shared.request;
    let result = app.id.parse::<Uuid>().map_err(|_| {
        Error::Network(format!(
            "application {}: no object id to verify",
            app.label()
        ))
    });
    let result = result.and_then(|object_id| {
        let after = After {
            client: shared.client,
            object_id,
            folder: match request.per_app_folder {
                true => request.credential.out.join(&app.app_id),
                false => request.credential.out.clone(),
            },
            request,
            passwords: shared.passwords,
            now: shared.now,
        };
        match awaiting {
            Awaiting::Verify => after.verify_and_retire(app),
            Awaiting::Finish => after.finish(app),
        }
    });
    if let Err(error) = result {
        app.action = AppAction::Failed;
        app.error = Some(error);
    }
}

/// What the run spent, and for a plan with changes, what applying it will: the same listing and key reads
/// again, and per app to change a read before its write, the write and a read to confirm it (with
/// `--retire-previous`, a read and a write more).
fn run_cost(
    client: &GraphClient,
    request: &GraphRotateRequest,
    apps: &[AppRotation],
    elapsed: std::time::Duration,
) -> RunCost {
    let budget = client.budget();
    let spent = budget.spent();
    let planned = apps
        .iter()
        .filter(|a| a.action == AppAction::Planned)
        .count() as u64;
    let per_app = 1 + u64::from(request.retire_previous);
    RunCost {
        spent,
        elapsed,
        share: budget.share(),
        apply: (!request.apply && planned > 0).then(|| {
            budget.estimate(crate::graph::Spent {
                key_reads: spent.key_reads,
                reads: spent.reads + planned * 2 * per_app,
                writes: planned * per_app,
            })
        }),
    }
}

/// What every app of a run shares.
struct Shared<'a> {
    client: &'a GraphClient,
    request: &'a GraphRotateRequest,
    /// `--self`: the app's current credential.
    signer: Option<&'a super::prove::LoadedCredential>,
    passwords: &'a PasswordSources,
    now: OffsetDateTime,
    /// The tenant default app management policy, read once by the first app that needs it.
    tenant: TenantPolicyCell,
    /// `--key-vault`: the vault each new certificate is made in.
    vault: Option<std::sync::Arc<crate::vault::VaultClient>>,
    /// `--from-vault`: each app's newest vault version, by appId.
    renewals: Option<source::Renewals>,
}

fn rotate_one(shared: &Shared, id: Uuid, listed: Option<Value>) -> AppRotation {
    let mut rotation = AppRotation::nothing_yet(id.to_string(), AppAction::Failed);
    if let Err(error) = plan_and_apply(shared, id, listed, &mut rotation) {
        rotation.action = AppAction::Failed;
        rotation.error = Some(source::named_by_tag(shared.renewals.as_ref(), id, error));
    }
    // What the report shows of the credentials is kept; their certificates (parsed, with their DER) are not, so
    // that a run over thousands of apps holds little per app.
    for credential in &mut rotation.existing {
        credential.certificate = None;
    }
    rotation
}

fn plan_and_apply(
    shared: &Shared,
    id: Uuid,
    listed: Option<Value>,
    rotation: &mut AppRotation,
) -> Result<()> {
    let Shared {
        client,
        request,
        signer,
        passwords,
        now,
        ..
    } = *shared;
    let mut store = GraphStore::new(
        client,
        id,
        signer,
        // An app listed (or read by name already) comes with its object id: read by it at once, never first
        // guessed as an appId (a 404 per app against Graph's budget).
        request
            .self_service
            .as_ref()
            .and_then(|s| s.object_id)
            .or((request.all || listed.is_some()).then_some(id)),
        (request.credential.out.clone(), request.per_app_folder),
        &shared.tenant,
    )
    .listed(listed)
    .with_newest_key(request.ca.is_some());
    let order = Order {
        source: Some(source::new_credential(
            request,
            shared.vault.as_ref(),
            shared.renewals.as_ref(),
        )),
        policy: request.policy.clone(),
        apply: request.apply,
    };
    // In a tenant run an app in progress finishes; a signal only keeps new ones from starting.
    let interrupt = crate::interrupt::Interrupt::none();
    let cx = RunContext {
        now,
        passwords,
        interrupt: &interrupt,
    };
    let mut done = Rotation::default();
    let result = super::rotation::rotate(&mut store, order, &cx, &mut done);
    let step = done.step;
    rotation.take(&store, done);
    result?;
    let step = step.expect("a rotation that ends well knows where it stands");
    let verify = request.verify.is_some();
    (rotation.action, rotation.awaiting) = match (step, request.apply) {
        (Step::Requested, true) => (AppAction::Requested, None),
        (Step::Waiting, _) => (AppAction::Waiting, None),
        (Step::Unchanged, _) => (AppAction::Skipped, verify.then_some(Awaiting::Finish)),
        (Step::Change, true) => (AppAction::Rotated, verify.then_some(Awaiting::Verify)),
        (Step::Requested | Step::Change, false) => (AppAction::Planned, None),
    };
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
