//! The one rotation engine: "rotate one app's credentials", whatever holds them. `keycred rotate`, each app of
//! `keycred batch` and the wizard rotate a manifest file through the [`manifest_store`]; `graph rotate` (and a
//! batch's tenant rows) rotate an application in the tenant through the [`graph_store`]. The engine makes every
//! decision once, for both:
//!
//! 1. the store reads the app's credentials ([`Store::read`]);
//! 2. the new credential is chosen ([`NewCredentialSource`]): a certificate an earlier run made for this app and
//!    did not get onto it, the CA's answer to an earlier request, a request to the CA, waiting for the CA, one
//!    made here, or one the admin names;
//! 3. the planner ([`crate::rotation`]) plans, and the last-valid guard refuses a plan that would leave a tenant's
//!    app without a valid certificate credential;
//! 4. the store checks the change before anything is written ([`Store::prepare`]); a plan stops here, with the
//!    files it would write;
//! 5. the interrupt is checked, the certificate's files are written, and only then is the change saved or sent
//!    ([`Store::apply`]).
//!
//! The clock, the passwords and the interrupt come in a [`RunContext`]; the engine reads none of them itself.
//! [`runner`] runs many apps at once (workers, progress, signals) for `batch` and `graph rotate`.

use std::path::PathBuf;

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ca_rotation::CaStep;
use super::provision::CredentialSpec;
use crate::credential::CertificateInfo;
use crate::error::{Error, Result};
use crate::input::PasswordSources;
use crate::interrupt::Interrupt;
use crate::manifest::{ExistingCredential, KeyCredentialsDocument, ManifestFormat};
use crate::provision::FileRole;
use crate::rotation::{self as planner, Disposition, Plan, Policy, Standing};
use crate::rules::Rules;

mod choose;
pub mod graph_store;
pub mod in_vault;
pub mod manifest_store;
pub mod runner;
#[cfg(test)]
mod tests;

use choose::{Chosen, New};

/// What a run gives every app it rotates: the moment it plans for, where passwords come from, and the signal that
/// stops it before anything is written.
#[derive(Clone, Copy)]
pub struct RunContext<'a> {
    /// The moment the plan is made for.
    pub now: OffsetDateTime,
    /// Where PFX passwords come from (of the new PFX, of a named certificate).
    pub passwords: &'a PasswordSources,
    /// A signal recorded here before the first file is written stops the app with nothing written.
    pub interrupt: &'a Interrupt,
}

/// The credential to rotate in.
#[derive(Debug)]
pub enum NewCredentialSource {
    /// Made here, exactly as `keycred new` makes one. An empty subject takes the subject of the app's newest
    /// credential (else the store's fallback).
    Make(CredentialSpec),
    /// A certificate made elsewhere (DER, PEM or PFX).
    Given(PathBuf),
    /// A certificate from the organisation's CA, in two runs ([`super::ca_rotation`]): a due app gets a key and a
    /// request; a later run imports the CA's answer (with `chain`, CA certificates the answer lacks) and adds it.
    /// `spec` as for [`NewCredentialSource::Make`]; its validity settings are the CA's to decide.
    FromCa {
        /// The subject, key size and hash of the request; the PFX and bundle of the import.
        spec: CredentialSpec,
        /// More CA certificates for the import.
        chain: Vec<PathBuf>,
        /// The request's DNS names (`--dns`); `None` carries the current certificate's, as a CA template that
        /// requires them expects.
        dns: Option<Vec<String>>,
    },
    /// Made in Azure Key Vault ([`in_vault`]), its key never exportable: only its public files are written here.
    /// `spec` as for [`NewCredentialSource::Make`]; its name (the base of the vault's), subject, key size and days
    /// (in whole months, within the app's lifetime rule) are used.
    InVault {
        /// What to make.
        spec: CredentialSpec,
        /// The vault.
        vault: std::sync::Arc<crate::vault::VaultClient>,
    },
    /// A version the vault holds already (its own AutoRenew's, or anyone's), found for the app by its appId: added
    /// whenever the app lacks it, as a certificate the admin names is.
    FromVault {
        /// The vault.
        vault: std::sync::Arc<crate::vault::VaultClient>,
        /// The newest enabled version of the certificates tagged for each app, by appId.
        newest: std::sync::Arc<std::collections::BTreeMap<String, crate::vault::VaultCertificate>>,
    },
}

/// What to do with one app.
#[derive(Debug)]
pub struct Order {
    /// The next credential; `None` only removes (what the policy prunes or names).
    pub source: Option<NewCredentialSource>,
    /// Renewal window, pruning, keep limit, keyIds to remove.
    pub policy: Policy,
    /// Write and save (or send); else plan only, writing nothing and making no key.
    pub apply: bool,
}

/// What a chosen credential's write wrote: the files, and the folder it created, if any.
#[derive(Debug, Default)]
struct Written {
    files: Vec<(FileRole, String)>,
    pub(super) created_dir: Option<PathBuf>,
    /// A certificate made in a vault by the write, and where its key is.
    pub(super) made: Option<(Box<CertificateInfo>, in_vault::VaultHeld)>,
}

/// What to do with a plan that would leave the app without a valid certificate credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastValid {
    /// Refuse it (a tenant's app: its daemon would be locked out).
    Refuse,
    /// Let the planner's warning say it (a manifest file, which an admin still reviews before it reaches Entra).
    Warn,
}

/// The app as its store read it.
#[derive(Debug)]
pub struct AppState {
    /// Its credentials, in order.
    pub existing: Vec<ExistingCredential>,
    /// The format of its entries.
    pub format: ManifestFormat,
    /// What to call it in messages (the manifest's path, `application APPID`).
    pub label: String,
    /// Where the new credential's files go instead of the spec's `out` (a tenant app's own folder).
    pub folder: Option<PathBuf>,
    /// The manifest a certificate made for this app is recorded as made for (`None`: a tenant's app).
    pub made_for: Option<PathBuf>,
    /// The subject when neither the request nor any credential names one (`CN={displayName}`); `None` refuses.
    pub fallback_subject: Option<String>,
    /// The last-valid guard.
    pub last_valid: LastValid,
    /// Notes the store has for the outcome, before the plan's.
    pub notes: Vec<String>,
    /// The app's appId, where the store knows it (a certificate made in a vault is tagged with it).
    pub app_id: Option<String>,
}

/// Where one app's rotation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The certificate is requested from the CA: the key and the request are (to be) written, nothing else.
    Requested,
    /// A request waits for the CA's answer.
    Waiting,
    /// Nothing changes.
    Unchanged,
    /// The plan changes the app's credentials.
    Change,
}

/// The credential added (or, in a plan, to be added).
#[derive(Debug, Clone)]
pub struct Added {
    /// Its certificate.
    pub certificate: CertificateInfo,
    /// Its keyId (as the target gave it, where it chose one).
    pub key_id: Uuid,
    /// Its entry, in the app's format.
    pub entry: Value,
}

/// A certificate found in the app's folder and added instead of making (or asking the CA for) another.
#[derive(Debug, Clone)]
pub struct Reused {
    /// Its `.cer`.
    pub cer: PathBuf,
    /// It is the CA's answer an earlier run imported (not a certificate an earlier run made).
    pub from_ca: bool,
}

/// What the engine decided and did for one app, filled in as it goes: after an error, what was known by then.
#[derive(Debug, Default)]
pub struct Rotation {
    /// The app's credentials before, in order.
    pub existing: Vec<ExistingCredential>,
    /// Their format.
    pub format: Option<ManifestFormat>,
    /// The plan.
    pub plan: Option<Plan>,
    /// Where it stands.
    pub step: Option<Step>,
    /// The credential added (or to be added).
    pub added: Option<Added>,
    /// The new certificate, whether or not the plan added it.
    pub candidate: Option<CertificateInfo>,
    /// In a plan, the certificate applying would make: no key is made for a plan, so it has no thumbprint yet.
    pub to_make: Option<planner::ToMake>,
    /// The certificate came from the app's folder.
    pub reused: Option<Reused>,
    /// The credential files written (in a plan: to be written), with their roles.
    pub files: Vec<(FileRole, String)>,
    /// The folder of the credential files, when this run created it.
    pub created_dir: Option<PathBuf>,
    /// Where a CA rotation stands.
    pub ca: Option<CaStep>,
    /// The plan's warnings and notes.
    pub warnings: Vec<String>,
    /// The rules that bind the app's new credentials, where the store read them.
    pub rules: Option<Rules>,
    /// The change was saved or sent.
    pub applied: bool,
    /// Where the new credential's key is, when it was made in a vault.
    pub in_vault: Option<in_vault::VaultHeld>,
}

/// The change a store checks and then saves or sends.
pub struct Change<'a> {
    /// Where the rotation stands.
    pub step: Step,
    /// The app's credentials before.
    pub existing: &'a [ExistingCredential],
    /// The plan for them.
    pub plan: &'a Plan,
    /// The credential to add.
    pub added: Option<&'a Added>,
    /// The certificate files written (when applying).
    pub files: &'a [(FileRole, String)],
}

/// What holds an app's credentials: a manifest file, or an application in the tenant.
pub trait Store {
    /// Reads the app's credentials.
    fn read(&mut self, cx: &RunContext) -> Result<AppState>;
    /// The rules that bind the app's new credentials (a tenant's app management policies), read only when a
    /// credential may be added; `None` where the store has none (files: `--max-lifetime` gives them).
    fn rules(&mut self, _cx: &RunContext) -> Result<Option<Rules>> {
        Ok(None)
    }
    /// Checks (and prepares) the change before anything is written; runs for a plan too. `Some(why)` when the
    /// store cannot make this change faithfully: the app is then left as it is, and the outcome says why.
    fn prepare(&mut self, change: &Change, cx: &RunContext) -> Result<Option<String>>;
    /// Refuses to go on when the app's credentials changed since they were read (another run, an admin): called
    /// right before [`Store::apply`], once the certificate's files are written.
    fn check_unchanged(&mut self, change: &Change, cx: &RunContext) -> Result<()>;
    /// Saves or sends the change; the new certificate's files are already written. Returns the keyId the target
    /// gave the new credential, where it chose its own.
    fn apply(&mut self, change: &Change, cx: &RunContext) -> Result<Option<Uuid>>;
}

/// Rotates one app's credentials, filling `out` as it goes.
pub fn rotate(
    store: &mut dyn Store,
    order: Order,
    cx: &RunContext,
    out: &mut Rotation,
) -> Result<()> {
    let state = store.read(cx)?;
    out.existing = state.existing.clone();
    out.format = Some(state.format);
    out.warnings.extend(state.notes.iter().cloned());
    let chosen = choose::choose(
        order.source,
        &order.policy,
        &state,
        !order.apply,
        cx,
        &mut || store.rules(cx),
    )?;
    out.rules.clone_from(&chosen.rules);
    out.warnings.extend(chosen.warnings.iter().cloned());
    let plan = match &chosen.new {
        Some(new) => planner::plan(
            &state.existing,
            Some(&new.candidate()),
            cx.now,
            &chosen.policy,
        )?,
        None => super::ca_rotation::with_ca_reason(chosen.precheck.clone(), chosen.ca.as_ref()),
    };
    out.warnings.extend(plan.warnings.iter().cloned());
    record_choice(out, &chosen, &plan, state.format);
    let step = if chosen.request.is_some() {
        Step::Requested
    } else if matches!(chosen.ca, Some(CaStep::Waiting { .. })) {
        Step::Waiting
    } else if !plan.changes() {
        Step::Unchanged
    } else {
        Step::Change
    };
    out.step = Some(step);
    out.ca = chosen.ca.clone();
    if let Some(why) = chosen.held.clone() {
        out.plan = Some(plan);
        hold(out, why);
        return Ok(());
    }
    let plan = out.plan.insert(plan);
    if step == Step::Change
        && state.last_valid == LastValid::Refuse
        && !valid_after(&state.existing, plan, cx.now)
    {
        return Err(Error::Refused(
            "the plan would leave the app without a valid certificate credential; nothing was sent"
                .into(),
        ));
    }
    out.files = chosen.planned_files(plan.add);
    let change = Change {
        step,
        existing: &state.existing,
        plan,
        added: out.added.as_ref(),
        files: &[],
    };
    let held = store.prepare(&change, cx)?;
    if let Some(why) = held {
        hold(out, why);
        return Ok(());
    }
    if !order.apply {
        return Ok(());
    }
    // The last moment to stop cleanly: nothing has been written yet.
    cx.interrupt.check()?;
    // The certificate's files first: the key is safe on disk before anything is saved or sent.
    let written = chosen.write(plan.add, state.format, state.made_for.as_deref())?;
    if !written.files.is_empty() {
        out.files = written.files;
    }
    out.created_dir = written.created_dir;
    // A certificate made in the vault exists only now.
    if let Some(made) = written.made {
        let (added, candidate, held) = made_added(made, state.format);
        (out.to_make, out.added, out.candidate) = (None, Some(added), Some(candidate));
        out.in_vault = Some(held);
    }
    let change = Change {
        step,
        existing: &state.existing,
        plan,
        added: out.added.as_ref(),
        files: &out.files,
    };
    store.check_unchanged(&change, cx)?;
    let given = store.apply(&change, cx)?;
    out.applied = true;
    if let (Some(id), Some(added)) = (given, &mut out.added) {
        added.key_id = id;
        added.entry["keyId"] = Value::String(id.to_string());
    }
    Ok(())
}

/// The certificate the vault made as the write's first step, as the credential the change adds.
fn made_added(
    (certificate, held): (Box<CertificateInfo>, in_vault::VaultHeld),
    format: ManifestFormat,
) -> (Added, CertificateInfo, in_vault::VaultHeld) {
    let added = Added {
        key_id: certificate.key_id(),
        entry: KeyCredentialsDocument::new(&[(&certificate, certificate.key_id())], format)
            .entries()[0]
            .clone(),
        certificate: (*certificate).clone(),
    };
    (added, *certificate, held)
}

/// Leaves the app as it is, saying why: its plan keeps everything and adds nothing, and nothing is written.
fn hold(out: &mut Rotation, why: String) {
    if let Some(plan) = out.plan.as_mut() {
        plan.add = false;
        plan.existing.fill(Disposition::Keep);
        plan.skipped = Some(why);
    }
    out.step = Some(Step::Unchanged);
    out.added = None;
    out.to_make = None;
    out.reused = None;
    out.files.clear();
    out.ca = None;
}

/// Notes in `out` the new credential the plan adds (or would).
fn record_choice(out: &mut Rotation, chosen: &Chosen, plan: &Plan, format: ManifestFormat) {
    let new = chosen.new.as_ref();
    out.candidate = new.and_then(|n| n.certificate().cloned());
    out.reused = new.and_then(New::reused);
    match new {
        Some(New::Imported(prepared)) => out
            .warnings
            .extend(prepared.outcome.warnings.iter().cloned()),
        Some(New::Made(issue, _) | New::ToMake(issue, _)) => {
            out.warnings.extend(issue.notes.iter().cloned())
        }
        _ => {}
    }
    if !plan.add {
        return;
    }
    out.added = new
        .and_then(|n| n.certificate().zip(n.key_id()))
        .map(|(certificate, key_id)| Added {
            certificate: certificate.clone(),
            key_id,
            entry: KeyCredentialsDocument::new(&[(certificate, key_id)], format).entries()[0]
                .clone(),
        });
    out.to_make = new.and_then(New::to_make);
}

/// Whether the app holds a valid certificate credential after the plan: the one it adds, or one it keeps.
fn valid_after(existing: &[ExistingCredential], plan: &Plan, now: OffsetDateTime) -> bool {
    plan.add
        || existing.iter().zip(&plan.existing).any(|(c, d)| {
            *d == Disposition::Keep
                && !c.signs()
                && planner::standing(c.start, c.end, now) == Standing::Valid
        })
}
