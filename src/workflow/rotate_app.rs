//! The rotation of one app: make (or take) the next certificate, plan, and add it to the manifest beside the
//! current one. `keycred rotate`, each app of `keycred batch` and the wizard's rotation all run [`rotate_app`],
//! so one request gives the same files and manifest whichever front end made it.
//!
//! The manifest's other credentials are copied byte-for-byte as JSON values, and every other field stays as it
//! was. All targets are checked before anything is written; an in-place update runs under the manifest's lock,
//! keeps a numbered backup, and refuses to write if the manifest changed on disk meanwhile.

use std::path::PathBuf;

use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::graph as proof;
use super::provision::{CredentialSpec, Issue};
use crate::credential::{self, CertificateInfo};
use crate::error::{Error, Result};
use crate::fsio::{self, Access, OutputFile};
use crate::input::{self, PasswordSources};
use crate::interrupt::Interrupt;
pub use crate::manifest::document::FormatChoice;
use crate::manifest::existing::{describe_duplicate_key_ids, duplicate_key_ids, newest_subject};
use crate::manifest::{ExistingCredential, KeyCredentialsDocument, Manifest, ManifestFormat};
use crate::provision::{FileRole, NewCredential};
use crate::rotation::{self, Candidate, Disposition, Plan, Policy};

/// The credential to rotate in.
#[derive(Debug)]
pub enum NewCredentialSource {
    /// Made here, exactly as `keycred new` makes one. An empty subject takes the subject of the manifest's
    /// newest credential.
    Make(CredentialSpec),
    /// A certificate made elsewhere (DER, PEM or PFX).
    Given(PathBuf),
}

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

/// The credential added.
#[derive(Debug)]
pub struct Added {
    /// Its certificate.
    pub certificate: CertificateInfo,
    /// Its keyId.
    pub key_id: Uuid,
    /// Its manifest entry, in the manifest's format.
    pub entry: Value,
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
}

/// Runs one rotation. A signal recorded in `interrupt` before the first file is written stops it with nothing
/// written; once writing has begun it completes.
pub fn rotate_app(
    request: RotateRequest,
    passwords: &PasswordSources,
    interrupt: &Interrupt,
) -> Result<RotateOutcome> {
    // The extra files the run writes. Writing to the manifest itself goes the in-place way (lock, backup,
    // unchanged check), never around it.
    let outputs = [
        (
            "--manifest-out",
            match &request.output {
                ManifestOutput::File(path) => Some(path),
                _ => None,
            },
        ),
        ("--patch-out", request.patch_out.as_ref()),
        (
            "--add-key-proof",
            request.add_key_proof.as_ref().map(|p| &p.out),
        ),
    ];
    for (flag, out) in outputs {
        if let Some(out) = out.filter(|out| fsio::same_file(out, &request.manifest)) {
            return Err(Error::Refused(format!(
                "{flag} {} is the manifest being rotated: use --in-place to update it (under a lock, keeping a \
                 backup), or write to another file",
                out.display()
            )));
        }
    }
    let now = OffsetDateTime::now_utc();
    let _lock = if request.output == ManifestOutput::InPlace && !request.dry_run {
        Some(fsio::Lock::acquire(&request.manifest)?)
    } else {
        None
    };
    let original = input::read_file(&request.manifest)?;
    let mut manifest = Manifest::read(&request.manifest, original.clone(), request.format)?;
    let mut existing = manifest.key_credentials()?;
    let repaired = repair_key_ids(&request, &mut manifest, &mut existing)?;
    let new_source = match request.new {
        Some(NewCredentialSource::Make(mut spec)) => {
            if spec.subject.is_empty() {
                spec.subject = newest_subject(&existing).ok_or_else(|| {
                    Error::Invalid(format!(
                        "--subject: {} has no credential whose displayName or certificate names a subject (CN=…) to \
                         reuse; give --subject",
                        request.manifest.display()
                    ))
                })?;
            }
            spec.name = Some(rotated_files_name(&spec, now)?);
            Some(NewCredentialSource::Make(spec))
        }
        other => other,
    };
    let mut warnings = Vec::new();

    // The addKey route: the current credential that signs the proof is read (and checked) before anything else.
    let current = match &request.add_key_proof {
        Some(p) => {
            let shares = matches!(
                &new_source,
                Some(NewCredentialSource::Make(CredentialSpec {
                    pfx: Some(super::provision::PfxSpec {
                        password: super::provision::NewPassword::FromSources,
                        ..
                    }),
                    ..
                }))
            );
            let (loaded, note) = proof::load_current(
                &p.current_pfx,
                passwords,
                shares.then_some("the new PFX"),
                now,
            )?;
            warnings.extend(note);
            Some(loaded)
        }
        None => None,
    };
    let targets: Vec<OutputFile> = outputs
        .iter()
        .filter_map(|(_, out)| *out)
        .map(|p| OutputFile::new(p.clone(), Vec::new(), Access::Public))
        .collect();
    fsio::check_targets(&targets, request.force)?;

    // A certificate the admin names is added whenever it is new; the renewal window only decides whether
    // keycred makes one.
    let policy = match &new_source {
        Some(NewCredentialSource::Given(_)) => Policy {
            renew_within: None,
            ..request.policy.clone()
        },
        _ => request.policy.clone(),
    };
    // Not due, or nothing to add: nothing is made; only what the policy removes (if anything) changes.
    let precheck = rotation::plan(&existing, None, now, &policy)?;
    let (plan, new) = match new_source {
        Some(source) if precheck.renewal_due => {
            let new = NewOne::make(source, passwords, now)?;
            let candidate = Candidate {
                thumbprint: new.certificate().thumbprints.sha1,
                start: new.certificate().not_before,
                end: new.certificate().not_after,
            };
            (
                rotation::plan(&existing, Some(&candidate), now, &policy)?,
                Some(new),
            )
        }
        _ => (precheck, None),
    };
    warnings.extend(plan.warnings.iter().cloned());

    let added = match (&new, plan.add) {
        (Some(new), true) => {
            let key_id = new.key_id();
            let entry =
                KeyCredentialsDocument::new(&[(new.certificate(), key_id)], manifest.format())
                    .entries()[0]
                    .clone();
            Some(Added {
                certificate: new.certificate().clone(),
                key_id,
                entry,
            })
        }
        _ => None,
    };
    let updated = rotation::apply_plan(
        &mut manifest,
        &plan,
        added.as_ref().map(|a| a.entry.clone()),
    )?;
    let patch = match &request.patch_out {
        Some(_) => Some(patch_body(&manifest, &existing, &plan, &updated)?),
        None => None,
    };
    let changed = plan.changes() || !repaired.is_empty();
    let mut outcome = RotateOutcome {
        manifest: request.manifest.clone(),
        format: manifest.format(),
        output: request.output.clone(),
        dry_run: request.dry_run,
        existing,
        plan,
        added,
        candidate: new.as_ref().map(|n| n.certificate().clone()),
        repaired,
        files: Vec::new(),
        created_dir: None,
        manifest_text: None,
        backup: None,
        patch_out: request.patch_out.clone(),
        add_key_proof: None,
        changed,
        warnings,
        now,
    };
    if request.dry_run {
        if let (Some(NewOne::Made(issue, _)), true) = (&new, outcome.plan.add) {
            outcome.files = issue.planned_files();
        }
        return Ok(outcome);
    }
    // The last moment to stop cleanly: nothing has been written yet.
    interrupt.check()?;

    // Certificate files first (only when the credential is really added), then the manifest, then the bodies.
    if let (Some(NewOne::Made(issue, credential)), true) = (&new, outcome.plan.add) {
        outcome.files = issue.write(credential, manifest.format())?;
        outcome.created_dir = issue.create_dir.then(|| issue.layout.dir.clone());
    }
    let rendered = manifest.render();
    let mut files = Vec::new();
    match &request.output {
        ManifestOutput::InPlace => {
            if changed {
                let backup =
                    fsio::update_in_place(&request.manifest, &original, rendered.into_bytes())
                        .map_err(|e| match e {
                            Error::Changed(_) if !outcome.files.is_empty() => {
                                Error::Refused(format!(
                                    "{e} (the new certificate files were written: {})",
                                    outcome
                                        .files
                                        .iter()
                                        .map(|(_, path)| path.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ))
                            }
                            other => other,
                        })?;
                outcome.backup = Some(backup);
            }
        }
        ManifestOutput::File(path) => {
            files.push(OutputFile::new(path.clone(), rendered, Access::Public))
        }
        ManifestOutput::Returned => outcome.manifest_text = Some(rendered),
    }
    if let (Some(p), Some(current), Some(added)) =
        (&request.add_key_proof, &current, &outcome.added)
    {
        let body = crate::flow::graph::add_key_body(
            &proof::signer(current)?,
            p.object_id,
            &added.certificate,
            now,
        )?;
        files.push(OutputFile::new(
            p.out.clone(),
            format!(
                "{}\n",
                serde_json::to_string_pretty(&body).expect("JSON values serialize")
            ),
            Access::Public,
        ));
        outcome.add_key_proof = Some(p.out.clone());
    }
    if let (Some(path), Some(body)) = (&request.patch_out, patch) {
        files.push(OutputFile::new(path.clone(), body, Access::Public));
    }
    fsio::write_all(&files, request.force)?;
    Ok(outcome)
}

/// The base name of a made credential's files (`--name`, else from the CN), dated so that it never takes the
/// name of the current credential's files in the same folder.
pub(crate) fn rotated_files_name(spec: &CredentialSpec, now: OffsetDateTime) -> Result<String> {
    let base = match &spec.name {
        Some(name) => name.clone(),
        None => crate::provision::default_name(
            crate::credential::Subject::parse(&spec.subject)?.common_name(),
        ),
    };
    crate::provision::validate_name(&base)?;
    let start = (now - crate::credential::request::CLOCK_SKEW).date();
    Ok(crate::provision::rotated_name(
        &spec.out,
        &base,
        start,
        |path| path.exists() || path.is_symlink(),
    ))
}

/// The credential to rotate in, made or read.
enum NewOne {
    Made(Box<Issue>, Box<NewCredential>),
    Given(Box<CertificateInfo>),
}

impl NewOne {
    fn make(
        source: NewCredentialSource,
        passwords: &PasswordSources,
        now: OffsetDateTime,
    ) -> Result<NewOne> {
        match source {
            NewCredentialSource::Given(path) => {
                let (cert, _) = credential::load_file(&path, passwords)?.into_leaf();
                cert.require_entra_usable(&path)?;
                Ok(NewOne::Given(Box::new(cert)))
            }
            NewCredentialSource::Make(spec) => {
                let issue = Issue::prepare(spec, passwords, now, crate::secret::random_bytes()?)?;
                let credential = issue.create()?;
                Ok(NewOne::Made(Box::new(issue), Box::new(credential)))
            }
        }
    }

    fn certificate(&self) -> &CertificateInfo {
        match self {
            NewOne::Made(_, credential) => &credential.certificate,
            NewOne::Given(cert) => cert,
        }
    }

    fn key_id(&self) -> Uuid {
        match self {
            NewOne::Made(_, credential) => credential.key_id,
            NewOne::Given(cert) => cert.key_id(),
        }
    }
}

/// Refuses a manifest that repeats a keyId (Entra rejects it), or with `repair_key_ids` gives every later
/// credential with a repeated keyId a new one. Returns what was repaired.
fn repair_key_ids(
    request: &RotateRequest,
    manifest: &mut Manifest,
    existing: &mut [ExistingCredential],
) -> Result<Vec<String>> {
    let duplicates = duplicate_key_ids(existing);
    if duplicates.is_empty() {
        return Ok(Vec::new());
    }
    if !request.repair_key_ids {
        return Err(Error::Document {
            source_name: request.manifest.display().to_string(),
            reason: format!(
                "{}; nothing was written. Fix the manifest, or pass --repair-key-ids to give the later ones new keyIds",
                describe_duplicate_key_ids(&duplicates).join("; ")
            ),
        });
    }
    let mut repaired = Vec::new();
    for (id, positions) in duplicates {
        for &index in &positions[1..] {
            let new_id = Uuid::new_v4();
            manifest.set_key_id(index, new_id)?;
            existing[index].key_id = Some(new_id);
            repaired.push(format!(
                "keyCredentials[{index}]: keyId {id} (repeated) -> {new_id}"
            ));
        }
    }
    Ok(repaired)
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
            "--patch-out writes a Microsoft Graph body, but the manifest is in the legacy format; export the Graph manifest instead".into(),
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
            "a PATCH body would drop {} because the manifest does not carry their certificates (Graph returns key: null), \
             and PATCH replaces the whole keyCredentials collection. Add the new certificate with \
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn manifest(dir: &Path, ends: &[(i64, &str)]) -> PathBuf {
        let now = OffsetDateTime::now_utc();
        let creds: Vec<Value> = ends
            .iter()
            .map(|(end, key_id)| {
                json!({
                    "customKeyIdentifier": null,
                    "displayName": "CN=Orders Daemon",
                    "endDateTime": crate::time_fmt::rfc3339_utc(now + time::Duration::days(*end)),
                    "key": null,
                    "keyId": key_id,
                    "startDateTime": crate::time_fmt::rfc3339_utc(now - time::Duration::days(300)),
                    "type": "AsymmetricX509Cert",
                    "usage": "Verify"
                })
            })
            .collect();
        let path = dir.join("app.json");
        let doc = json!({"api": {}, "keyCredentials": creds, "zLast": [1, {"kept": true}]});
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        path
    }

    fn request(manifest: PathBuf, out: &Path) -> RotateRequest {
        let mut spec = CredentialSpec::new("CN=Orders Daemon", out);
        spec.name = Some("orders".into());
        RotateRequest {
            manifest,
            format: FormatChoice::Detect,
            new: Some(NewCredentialSource::Make(spec)),
            policy: Policy {
                renew_within: Some(time::Duration::days(30)),
                prune_expired: true,
                keep: None,
                remove_key_ids: Vec::new(),
            },
            output: ManifestOutput::InPlace,
            patch_out: None,
            add_key_proof: None,
            repair_key_ids: false,
            dry_run: false,
            force: false,
        }
    }

    const A: &str = "00000000-0000-4000-8000-00000000000a";
    const B: &str = "00000000-0000-4000-8000-00000000000b";

    #[test]
    fn adds_beside_the_current_one_prunes_and_keeps_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = manifest(dir.path(), &[(10, A), (-5, B)]);
        let before = std::fs::read(&path).unwrap();
        let outcome = rotate_app(
            request(path.clone(), dir.path()),
            &PasswordSources::default(),
            &Interrupt::none(),
        )
        .unwrap();
        assert!(outcome.changed && outcome.plan.add);
        assert_eq!(outcome.plan.existing[0], Disposition::Keep);
        assert!(matches!(outcome.plan.existing[1], Disposition::Remove(_)));
        assert_eq!(
            outcome.backup.as_deref(),
            Some(dir.path().join("app.json.bak").as_path())
        );
        assert_eq!(
            std::fs::read(dir.path().join("app.json.bak")).unwrap(),
            before
        );
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(doc["keyCredentials"][0]["keyId"], A);
        assert_eq!(
            doc["keyCredentials"][1]["keyId"],
            outcome.added.as_ref().unwrap().key_id.to_string()
        );
        assert_eq!(doc["zLast"], json!([1, {"kept": true}]));
        assert_eq!(
            outcome.files.len(),
            4,
            "cer, pem, key, fragment: {:?}",
            outcome.files
        );
        assert!(!dir.path().join("app.json.lock").exists());
    }

    #[test]
    fn not_due_changes_nothing_and_makes_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = manifest(dir.path(), &[(200, A)]);
        let before = std::fs::read(&path).unwrap();
        let outcome = rotate_app(
            request(path.clone(), dir.path()),
            &PasswordSources::default(),
            &Interrupt::none(),
        )
        .unwrap();
        assert!(!outcome.changed && outcome.candidate.is_none());
        assert!(outcome
            .plan
            .skipped
            .as_deref()
            .unwrap()
            .starts_with("not due"));
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no backup, no files"
        );
    }

    #[test]
    fn refusals_leave_everything_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = manifest(dir.path(), &[(10, A), (20, A)]);
        let before = std::fs::read(&path).unwrap();
        let run = |change: fn(&mut RotateRequest)| {
            let mut request = request(path.clone(), dir.path());
            change(&mut request);
            rotate_app(request, &PasswordSources::default(), &Interrupt::none())
                .unwrap_err()
                .to_string()
        };
        let err = run(|_| {});
        assert!(err.contains(&format!("keyId {A} is used 2 times")), "{err}");
        let err = run(|r| r.output = ManifestOutput::File(r.manifest.clone()));
        assert!(err.contains("use --in-place"), "{err}");
        let err = run(|r| {
            r.repair_key_ids = true;
            r.policy.keep = Some(0);
        });
        assert!(err.contains("lock the app out"), "{err}");
        let err = run(|r| {
            r.repair_key_ids = true;
            r.new = Some(NewCredentialSource::Given(PathBuf::from(
                "/nonexistent/next.cer",
            )));
        });
        assert!(err.contains("next.cer"), "{err}");
        let interrupted = {
            let mut r = request(path.clone(), dir.path());
            r.repair_key_ids = true;
            let interrupt = Interrupt::none();
            interrupt.raise(2);
            rotate_app(r, &PasswordSources::default(), &interrupt).unwrap_err()
        };
        assert!(
            matches!(interrupted, Error::Interrupted(2)),
            "{interrupted}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn the_manifest_can_be_returned_instead_of_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = manifest(dir.path(), &[(10, A)]);
        let mut r = request(path.clone(), dir.path());
        r.output = ManifestOutput::Returned;
        r.dry_run = true;
        let outcome = rotate_app(r, &PasswordSources::default(), &Interrupt::none()).unwrap();
        assert!(outcome.dry_run && outcome.plan.add && outcome.manifest_text.is_none());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "a dry run writes nothing"
        );
        let mut r = request(path, dir.path());
        r.output = ManifestOutput::Returned;
        let outcome = rotate_app(r, &PasswordSources::default(), &Interrupt::none()).unwrap();
        let text = outcome.manifest_text.unwrap();
        assert!(text.contains(&outcome.added.unwrap().key_id.to_string()));
    }
}
