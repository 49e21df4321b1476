//! The rotation of one manifest: make (or take) the next certificate, plan, and add it to the manifest beside
//! the current one. `keycred rotate`, each app of `keycred batch` and the wizard's rotation all run
//! [`rotate_app`], so one request gives the same files and manifest whichever front end made it. The work is the
//! rotation engine's ([`super::rotation`]) on the [`manifest_store`](super::rotation::manifest_store).
//!
//! The manifest's other credentials are copied byte-for-byte as JSON values, and every other field stays as it
//! was. All targets are checked before anything is written; an in-place update runs under the manifest's lock,
//! keeps a numbered backup, and refuses to write if the manifest changed on disk meanwhile.

use std::path::PathBuf;

use time::OffsetDateTime;

use super::ca_rotation::CaStep;
use super::provision::{CredentialSpec, NewPassword, PfxSpec};
pub use super::rotation::manifest_store::{AddKeyProof, FormatChoice, ManifestOutput};
use super::rotation::manifest_store::{ManifestStore, ManifestTarget};
pub use super::rotation::{Added, NewCredentialSource};
use super::rotation::{Order, RunContext};
use crate::credential::CertificateInfo;
use crate::error::Result;
use crate::input::PasswordSources;
use crate::interrupt::Interrupt;
use crate::manifest::{ExistingCredential, ManifestFormat};
use crate::provision::FileRole;
use crate::rotation::{self, Plan, Policy};

/// One rotation.
#[derive(Debug)]
pub struct RotateRequest {
    /// The app manifest (Graph or legacy format).
    pub manifest: PathBuf,
    /// Its format.
    pub format: FormatChoice,
    /// The next credential; `None` only removes (`--remove-key-id` alone). A made one's files are named
    /// `NAME-YYYYMMDD` ([`crate::provision::rotated_name`]), so they never take the current credential's names.
    pub new: Option<NewCredentialSource>,
    /// Renewal window, pruning, keep limit.
    pub policy: Policy,
    /// Where the updated manifest goes.
    pub output: ManifestOutput,
    /// Also write the Graph PATCH body here.
    pub patch_out: Option<PathBuf>,
    /// Also write the Graph addKey body.
    pub add_key_proof: Option<AddKeyProof>,
    /// Give repeated keyIds new ones instead of refusing.
    pub repair_key_ids: bool,
    /// Plan and report only.
    pub dry_run: bool,
    /// Replace existing output files (`--manifest-out`, `--patch-out`, `--add-key-proof`).
    pub force: bool,
}

/// What one rotation did (or, in a dry run, would do).
#[derive(Debug)]
pub struct RotateOutcome {
    /// The manifest.
    pub manifest: PathBuf,
    /// Its format.
    pub format: ManifestFormat,
    /// The request's output.
    pub output: ManifestOutput,
    /// Nothing was written.
    pub dry_run: bool,
    /// The manifest's credentials before, in order (keyIds as repaired).
    pub existing: Vec<ExistingCredential>,
    /// The plan: one disposition per existing credential, whether the new one is added, why not.
    pub plan: Plan,
    /// The credential added, if any (the new certificate also when the plan did not add it).
    pub added: Option<Added>,
    /// The certificate of the candidate, whether or not it was added.
    pub candidate: Option<CertificateInfo>,
    /// In a dry run, the certificate the run would make and add: no key is made for a plan, so it has no
    /// thumbprint or keyId yet.
    pub to_make: Option<rotation::ToMake>,
    /// The `.cer` of the certificate added, when an earlier run made it for this manifest (whose result was only
    /// printed, or which stopped) and this run added it instead of making another.
    pub reused: Option<PathBuf>,
    /// Repeated keyIds given new ones, as `keyCredentials[i]: keyId A (repeated) -> B`.
    pub repaired: Vec<String>,
    /// The credential files written (in a dry run: to be written), with their roles.
    pub files: Vec<(FileRole, String)>,
    /// The folder of the credential files, when this run created it (owner-only).
    pub created_dir: Option<PathBuf>,
    /// The updated manifest, for [`ManifestOutput::Returned`].
    pub manifest_text: Option<String>,
    /// The backup of an in-place update.
    pub backup: Option<PathBuf>,
    /// The PATCH body's file, as requested.
    pub patch_out: Option<PathBuf>,
    /// The addKey body written.
    pub add_key_proof: Option<PathBuf>,
    /// Whether the manifest changed.
    pub changed: bool,
    /// The plan's warnings and notes.
    pub warnings: Vec<String>,
    /// The moment the plan was made for.
    pub now: OffsetDateTime,
    /// Where a CA rotation ([`NewCredentialSource::FromCa`]) stands after this run.
    pub ca: Option<CaStep>,
}

/// Runs one rotation. A signal recorded in `interrupt` before the first file is written stops it with nothing
/// written; once writing has begun it completes.
pub fn rotate_app(
    request: RotateRequest,
    passwords: &PasswordSources,
    interrupt: &Interrupt,
) -> Result<RotateOutcome> {
    let now = OffsetDateTime::now_utc();
    let shares_password = matches!(
        &request.new,
        Some(NewCredentialSource::Make(CredentialSpec {
            pfx: Some(PfxSpec {
                password: NewPassword::FromSources,
                ..
            }),
            ..
        }))
    );
    let mut store = ManifestStore::new(ManifestTarget {
        manifest: request.manifest,
        format: request.format,
        output: request.output,
        patch_out: request.patch_out,
        add_key_proof: request.add_key_proof,
        repair_key_ids: request.repair_key_ids,
        force: request.force,
        apply: !request.dry_run,
        shares_password,
    });
    let order = Order {
        source: request.new,
        policy: request.policy,
        apply: !request.dry_run,
    };
    let cx = RunContext {
        now,
        passwords,
        interrupt,
    };
    let mut done = super::rotation::Rotation::default();
    super::rotation::rotate(&mut store, order, &cx, &mut done)?;
    let target = store.target();
    Ok(RotateOutcome {
        manifest: target.manifest.clone(),
        format: done.format.unwrap_or(ManifestFormat::Graph),
        output: target.output.clone(),
        dry_run: request.dry_run,
        existing: done.existing,
        plan: done.plan.expect("a rotation that ends well has its plan"),
        added: done.added,
        candidate: done.candidate,
        to_make: done.to_make,
        reused: done.reused.filter(|r| !r.from_ca).map(|r| r.cer),
        repaired: store.repaired.clone(),
        files: done.files,
        created_dir: done.created_dir,
        manifest_text: store.manifest_text.take(),
        backup: store.backup.take(),
        patch_out: store.target().patch_out.clone(),
        add_key_proof: store.add_key_proof.take(),
        changed: store.changed,
        warnings: done.warnings,
        now,
        ca: done.ca,
    })
}

#[cfg(test)]
mod tests;
