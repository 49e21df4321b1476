//! The manifest store: an app's credentials in a manifest file (Graph or legacy format). It reads the manifest
//! (under its lock when it is updated in place), gives repeated keyIds new ones when asked, applies the plan to
//! the document (the other credentials copied byte for byte as JSON values, every other field as it was), and
//! saves it in place with a numbered backup (refusing if the file changed meanwhile), to another file, or
//! returns it; with the Graph PATCH body and the addKey proof beside it when asked.

use std::path::PathBuf;

use serde_json::{json, Value};
use uuid::Uuid;

use super::{AppState, Change, LastValid, RunContext, Store};
use crate::error::{Error, Result};
use crate::fsio::{self, Access, OutputFile};
pub use crate::manifest::document::FormatChoice;
use crate::manifest::existing::{describe_duplicate_key_ids, duplicate_key_ids};
use crate::manifest::{ExistingCredential, Manifest, ManifestFormat};
use crate::rotation::{Disposition, Plan};
use crate::workflow::graph as proof;

/// Where the updated manifest goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestOutput {
    /// Back to the manifest, under its lock, keeping a backup.
    InPlace,
    /// To another file.
    File(PathBuf),
    /// Returned in the outcome (the command prints it).
    Returned,
}

/// The Graph addKey body for the new certificate, proven with the current credential.
#[derive(Debug, Clone)]
pub struct AddKeyProof {
    /// Where the body goes.
    pub out: PathBuf,
    /// The application's object id.
    pub object_id: Uuid,
    /// The current credential's PFX.
    pub current_pfx: PathBuf,
}

/// A manifest, and where its update and the bodies beside it go.
#[derive(Debug)]
pub struct ManifestTarget {
    /// The app manifest.
    pub manifest: PathBuf,
    /// Its format.
    pub format: FormatChoice,
    /// Where the updated manifest goes.
    pub output: ManifestOutput,
    /// Also write the Graph PATCH body here.
    pub patch_out: Option<PathBuf>,
    /// Also write the Graph addKey body.
    pub add_key_proof: Option<AddKeyProof>,
    /// Give repeated keyIds new ones instead of refusing.
    pub repair_key_ids: bool,
    /// Replace existing output files.
    pub force: bool,
    /// The run writes (else it plans only, and takes no lock).
    pub apply: bool,
    /// The new PFX's password comes from the same sources as the current credential's (the addKey route).
    pub shares_password: bool,
}

/// The manifest store, and what it did.
pub struct ManifestStore {
    target: ManifestTarget,
    lock: Option<fsio::Lock>,
    original: Vec<u8>,
    manifest: Option<Manifest>,
    current: Option<crate::credential::Loaded>,
    patch: Option<String>,
    /// Repeated keyIds given new ones, as `keyCredentials[i]: keyId A (repeated) -> B`.
    pub repaired: Vec<String>,
    /// Whether the manifest changes.
    pub changed: bool,
    /// The updated manifest, for [`ManifestOutput::Returned`].
    pub manifest_text: Option<String>,
    /// The backup of an in-place update.
    pub backup: Option<PathBuf>,
    /// The addKey body written.
    pub add_key_proof: Option<PathBuf>,
}

impl ManifestStore {
    /// The store of `target`.
    pub fn new(target: ManifestTarget) -> ManifestStore {
        ManifestStore {
            target,
            lock: None,
            original: Vec::new(),
            manifest: None,
            current: None,
            patch: None,
            repaired: Vec::new(),
            changed: false,
            manifest_text: None,
            backup: None,
            add_key_proof: None,
        }
    }

    /// The target it was made for.
    pub fn target(&self) -> &ManifestTarget {
        &self.target
    }

    /// The manifest's format, once read.
    pub fn format(&self) -> Option<ManifestFormat> {
        self.manifest.as_ref().map(Manifest::format)
    }

    /// The extra files the run writes, by flag.
    fn outputs(&self) -> [(&'static str, Option<&PathBuf>); 3] {
        let target = &self.target;
        [
            (
                "--manifest-out",
                match &target.output {
                    ManifestOutput::File(path) => Some(path),
                    _ => None,
                },
            ),
            ("--patch-out", target.patch_out.as_ref()),
            (
                "--add-key-proof",
                target.add_key_proof.as_ref().map(|p| &p.out),
            ),
        ]
    }

    /// Refuses a manifest that repeats a keyId (Entra rejects it), or with `repair_key_ids` gives every later
    /// credential with a repeated keyId a new one.
    fn repair_key_ids(&mut self, existing: &mut [ExistingCredential]) -> Result<()> {
        let duplicates = duplicate_key_ids(existing);
        if duplicates.is_empty() {
            return Ok(());
        }
        if !self.target.repair_key_ids {
            return Err(Error::Document {
                source_name: self.target.manifest.display().to_string(),
                reason: format!(
                    "{}; nothing was written. Fix the manifest, or pass --repair-key-ids to give the later ones new \
                     keyIds",
                    describe_duplicate_key_ids(&duplicates).join("; ")
                ),
            });
        }
        let manifest = self.manifest.as_mut().expect("read before repair");
        for (id, positions) in duplicates {
            for &index in &positions[1..] {
                let new_id = Uuid::new_v4();
                manifest.set_key_id(index, new_id)?;
                existing[index].key_id = Some(new_id);
                self.repaired.push(format!(
                    "keyCredentials[{index}]: keyId {id} (repeated) -> {new_id}"
                ));
            }
        }
        Ok(())
    }
}

impl Store for ManifestStore {
    fn read(&mut self, cx: &RunContext) -> Result<AppState> {
        // Writing to the manifest itself goes the in-place way (lock, backup, unchanged check), never around it.
        for (flag, out) in self.outputs() {
            if let Some(out) = out.filter(|out| fsio::same_file(out, &self.target.manifest)) {
                return Err(Error::Refused(format!(
                    "{flag} {} is the manifest being rotated: use --in-place to update it (under a lock, keeping \
                     a backup), or write to another file",
                    out.display()
                )));
            }
        }
        if self.target.output == ManifestOutput::InPlace && self.target.apply {
            self.lock = Some(fsio::Lock::acquire(&self.target.manifest)?);
        }
        self.original = crate::input::read_file(&self.target.manifest)?;
        let manifest = Manifest::read(
            &self.target.manifest,
            self.original.clone(),
            self.target.format,
        )?;
        let mut existing = manifest.key_credentials()?;
        let format = manifest.format();
        self.manifest = Some(manifest);
        self.repair_key_ids(&mut existing)?;
        let mut notes = Vec::new();
        // The addKey route: the current credential that signs the proof is read (and checked) before anything
        // else.
        if let Some(p) = &self.target.add_key_proof {
            let (loaded, note) = proof::load_current(
                &p.current_pfx,
                cx.passwords,
                self.target.shares_password.then_some("the new PFX"),
                cx.now,
            )?;
            notes.extend(note);
            self.current = Some(loaded);
        }
        let targets: Vec<OutputFile> = self
            .outputs()
            .iter()
            .filter_map(|(_, out)| *out)
            .map(|p| OutputFile::new(p.clone(), Vec::new(), Access::Public))
            .collect();
        fsio::check_targets(&targets, self.target.force)?;
        Ok(AppState {
            existing,
            format,
            label: self.target.manifest.display().to_string(),
            folder: None,
            made_for: Some(self.target.manifest.clone()),
            fallback_subject: None,
            last_valid: LastValid::Warn,
            notes,
            app_id: None,
        })
    }

    fn prepare(&mut self, change: &Change, _cx: &RunContext) -> Result<Option<String>> {
        let manifest = self.manifest.as_mut().expect("read before prepare");
        let updated = crate::rotation::apply_plan(
            manifest,
            change.plan,
            change.added.map(|a| a.entry.clone()),
        )?;
        if self.target.patch_out.is_some() {
            self.patch = Some(patch_body(
                manifest,
                change.existing,
                change.plan,
                &updated,
            )?);
        }
        self.changed = change.plan.changes() || !self.repaired.is_empty();
        Ok(None)
    }

    /// The manifest is compared with what was read when it is replaced, under its lock
    /// ([`fsio::update_in_place`]), so that nothing comes between the check and the write.
    fn check_unchanged(&mut self, _change: &Change, _cx: &RunContext) -> Result<()> {
        Ok(())
    }

    fn apply(&mut self, change: &Change, cx: &RunContext) -> Result<Option<Uuid>> {
        let rendered = self.manifest.as_ref().expect("read before apply").render();
        let mut files = Vec::new();
        match &self.target.output {
            ManifestOutput::InPlace if self.changed => {
                let backup = fsio::update_in_place(
                    &self.target.manifest,
                    &self.original,
                    rendered.into_bytes(),
                )
                .map_err(|e| match e {
                    Error::Changed(_) if !change.files.is_empty() => Error::Refused(format!(
                        "{e} (the new certificate files were written: {})",
                        change
                            .files
                            .iter()
                            .map(|(_, path)| path.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    other => other,
                })?;
                self.backup = Some(backup);
            }
            ManifestOutput::InPlace => {}
            ManifestOutput::File(path) => {
                files.push(OutputFile::new(path.clone(), rendered, Access::Public))
            }
            ManifestOutput::Returned => self.manifest_text = Some(rendered),
        }
        if let (Some(p), Some(current), Some(added)) =
            (&self.target.add_key_proof, &self.current, change.added)
        {
            let body = crate::flow::graph::add_key_body(
                &proof::signer(current)?,
                p.object_id,
                &added.certificate,
                cx.now,
            )?;
            files.push(OutputFile::new(
                p.out.clone(),
                format!(
                    "{}\n",
                    serde_json::to_string_pretty(&body).expect("JSON values serialize")
                ),
                Access::Public,
            ));
            self.add_key_proof = Some(p.out.clone());
        }
        if let (Some(path), Some(body)) = (&self.target.patch_out, self.patch.take()) {
            files.push(OutputFile::new(path.clone(), body, Access::Public));
        }
        fsio::write_all(&files, self.target.force)?;
        self.lock = None;
        Ok(None)
    }
}

/// The Graph PATCH body: every credential to keep, with its certificate. Graph returns `key: null` for existing
/// credentials, and a PATCH replaces the whole collection, so a body without a credential's key would drop it.
fn patch_body(
    manifest: &Manifest,
    existing: &[ExistingCredential],
    plan: &Plan,
    updated: &[Value],
) -> Result<String> {
    if manifest.format() == ManifestFormat::Legacy {
        return Err(Error::Invalid(
            "--patch-out writes a Microsoft Graph body, but the manifest is in the legacy format; export the Graph \
             manifest instead"
                .into(),
        ));
    }
    let unknown: Vec<String> = existing
        .iter()
        .zip(&plan.existing)
        .filter(|(c, d)| **d == Disposition::Keep && !c.has_key())
        .map(|(c, _)| c.label())
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Refused(format!(
            "a PATCH body would drop {} because the manifest does not carry their certificates (Graph returns key: \
             null), and PATCH replaces the whole keyCredentials collection. Add the new certificate with \
             `keycred graph add-key` (POST /applications/{{id}}/addKey) instead, which keeps the others",
            unknown.join(", ")
        )));
    }
    Ok(format!(
        "{}\n",
        serde_json::to_string_pretty(&json!({ "keyCredentials": updated }))
            .expect("JSON values serialize")
    ))
}
