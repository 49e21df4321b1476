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

use super::ca_rotation::{self, CaStep, Next};
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
    let subject_or_newest = |subject: &mut String| -> Result<()> {
        if subject.is_empty() {
            *subject = newest_subject(&existing).ok_or_else(|| {
                Error::Invalid(format!(
                    "--subject: {} has no credential whose displayName or certificate names a subject (CN=…) to \
                     reuse; give --subject",
                    request.manifest.display()
                ))
            })?;
        }
        Ok(())
    };
    let new_source = match request.new {
        Some(NewCredentialSource::Make(mut spec)) => {
            subject_or_newest(&mut spec.subject)?;
            spec.name = Some(rotated_files_name(&spec, now)?);
            Some(NewCredentialSource::Make(spec))
        }
        Some(NewCredentialSource::FromCa {
            mut spec,
            chain,
            dns,
        }) => {
            subject_or_newest(&mut spec.subject)?;
            Some(NewCredentialSource::FromCa { spec, chain, dns })
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
    // What the CA issued (or an earlier run imported) is added whenever it is new, as a named certificate is: the
    // request was made when the app was due.
    let issued = Policy {
        renew_within: None,
        ..policy.clone()
    };
    let mut ca_step = None;
    let mut ca_request = None;
    let (new, planned_with) = match new_source {
        Some(NewCredentialSource::FromCa { spec, chain, dns }) => {
            let dns = dns.unwrap_or_else(|| crate::manifest::existing::newest_dns_names(&existing));
            let next = ca_rotation::next(
                spec,
                &dns,
                &chain,
                precheck.renewal_due,
                &existing,
                manifest.format(),
                passwords,
                now,
            )?;
            match next {
                Next::Import(prepared, step) => {
                    ca_step = Some(step);
                    (Some(NewOne::Imported(prepared)), &issued)
                }
                Next::Imported(cer, _, step) => {
                    ca_step = Some(step);
                    (Some(NewOne::given(&cer, passwords, now)?), &issued)
                }
                Next::Request(csr, step) => {
                    ca_request = Some(csr);
                    ca_step = Some(step);
                    (None, &policy)
                }
                Next::Waiting(step) => {
                    ca_step = Some(step);
                    (None, &policy)
                }
                Next::Nothing => (None, &policy),
            }
        }
        Some(NewCredentialSource::Given(path)) if precheck.renewal_due => {
            (Some(NewOne::given(&path, passwords, now)?), &policy)
        }
        Some(NewCredentialSource::Make(spec)) if precheck.renewal_due => {
            // A certificate an earlier run made for this manifest and did not get onto it (its manifest was only
            // printed, or the run stopped) is added now, rather than another key made.
            // Only one with the subject asked for now: a run that asks for another gets its own.
            let subject = credential::Subject::parse(&spec.subject)?.to_string();
            match super::made::earlier_certificate(
                &spec.out,
                &existing,
                now,
                Some(&request.manifest),
            )?
            .filter(|(_, cert)| cert.subject == subject)
            {
                Some((path, cert)) => (Some(NewOne::Reused(Box::new(cert), path)), &policy),
                None => (
                    Some(NewOne::made(spec, passwords, now, request.dry_run)?),
                    &policy,
                ),
            }
        }
        _ => (None, &policy),
    };
    let plan = match &new {
        Some(new) => rotation::plan(&existing, Some(&new.candidate()), now, planned_with)?,
        None => ca_rotation::with_ca_reason(precheck, ca_step.as_ref()),
    };
    warnings.extend(plan.warnings.iter().cloned());

    let added = match (&new, plan.add) {
        (Some(new), true) => new
            .certificate()
            .zip(new.key_id())
            .map(|(certificate, key_id)| {
                let entry =
                    KeyCredentialsDocument::new(&[(certificate, key_id)], manifest.format())
                        .entries()[0]
                        .clone();
                Added {
                    certificate: certificate.clone(),
                    key_id,
                    entry,
                }
            }),
        _ => None,
    };
    let to_make = match (&new, plan.add) {
        (Some(NewOne::ToMake(_, to_make)), true) => Some(to_make.clone()),
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
        candidate: new.as_ref().and_then(|n| n.certificate().cloned()),
        to_make,
        reused: match &new {
            Some(NewOne::Reused(_, path)) => Some(path.clone()),
            _ => None,
        },
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
        ca: ca_step,
    };
    if let Some(NewOne::Imported(prepared)) = &new {
        outcome
            .warnings
            .extend(prepared.outcome.warnings.iter().cloned());
    }
    if request.dry_run {
        match (&new, &ca_request) {
            (Some(NewOne::Made(issue, _) | NewOne::ToMake(issue, _)), _) if outcome.plan.add => {
                outcome.files = issue.planned_files()
            }
            (Some(NewOne::Imported(prepared)), _) => outcome.files = prepared.files(),
            (_, Some(csr)) => outcome.files = requested_files(csr),
            _ => {}
        }
        return Ok(outcome);
    }
    // The last moment to stop cleanly: nothing has been written yet.
    interrupt.check()?;

    // Certificate files first (a made one only when the credential is really added; the CA's answer always, which
    // ends its request), then the manifest, then the bodies.
    match new {
        Some(NewOne::Made(issue, credential)) if outcome.plan.add => {
            outcome.files =
                issue.write_recorded(&credential, manifest.format(), Some(&request.manifest))?;
            outcome.created_dir = issue.create_dir.then(|| issue.layout.dir.clone());
        }
        Some(NewOne::Imported(prepared)) => {
            outcome.files = prepared.files();
            prepared.write(false)?;
        }
        _ => {}
    }
    if let Some(csr) = &ca_request {
        let missing = fsio::output_dir_state(&csr.out)? == fsio::OutputDir::Missing;
        super::ca::csr(csr)?;
        outcome.files = requested_files(csr);
        outcome.created_dir = missing.then(|| csr.out.clone());
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

/// The files a CA request writes.
fn requested_files(csr: &super::ca::CsrRequest) -> Vec<(FileRole, String)> {
    [FileRole::Key, FileRole::Request]
        .into_iter()
        .map(|role| {
            (
                role,
                csr.out
                    .join(format!("{}{}", csr.name, role.suffix()))
                    .display()
                    .to_string(),
            )
        })
        .collect()
}

/// The credential to rotate in, made or read.
enum NewOne {
    Made(Box<Issue>, Box<NewCredential>),
    /// In a dry run: what would be made, with no key made.
    ToMake(Box<Issue>, rotation::ToMake),
    /// Made by an earlier run for this manifest and not on it yet: its `.cer`.
    Reused(Box<CertificateInfo>, PathBuf),
    Given(Box<CertificateInfo>),
    Imported(Box<super::ca::PreparedImport>),
}

impl NewOne {
    fn given(
        path: &std::path::Path,
        passwords: &PasswordSources,
        now: OffsetDateTime,
    ) -> Result<NewOne> {
        let (cert, _) = credential::load_file(path, passwords)?.into_leaf();
        cert.require_entra_usable(path)?;
        if cert.status(now) == credential::Status::Expired {
            return Err(Error::Refused(format!(
                "{}: the certificate ({}) expired on {}, and Entra refuses an expired credential; nothing was \
                 written. Make its successor (keycred new, or keycred rotate without --cert)",
                path.display(),
                cert.subject,
                crate::time_fmt::rfc3339_utc(cert.not_after)
            )));
        }
        Ok(NewOne::Given(Box::new(cert)))
    }

    /// Makes the key and certificate, or in a dry run only checks the spec and says what would be made.
    fn made(
        spec: CredentialSpec,
        passwords: &PasswordSources,
        now: OffsetDateTime,
        dry_run: bool,
    ) -> Result<NewOne> {
        let issue = Issue::prepare(spec, passwords, now, crate::secret::random_bytes()?)?;
        if dry_run {
            let to_make = issue.to_make();
            return Ok(NewOne::ToMake(Box::new(issue), to_make));
        }
        let credential = issue.create()?;
        Ok(NewOne::Made(Box::new(issue), Box::new(credential)))
    }

    /// The certificate, when it exists.
    fn certificate(&self) -> Option<&CertificateInfo> {
        match self {
            NewOne::Made(_, credential) => Some(&credential.certificate),
            NewOne::ToMake(..) => None,
            NewOne::Given(cert) | NewOne::Reused(cert, _) => Some(cert),
            NewOne::Imported(prepared) => Some(&prepared.outcome.leaf),
        }
    }

    fn key_id(&self) -> Option<Uuid> {
        match self {
            NewOne::Made(_, credential) => Some(credential.key_id),
            NewOne::ToMake(..) => None,
            NewOne::Given(cert) | NewOne::Reused(cert, _) => Some(cert.key_id()),
            NewOne::Imported(prepared) => Some(prepared.outcome.key_id),
        }
    }

    fn candidate(&self) -> Candidate {
        match (self, self.certificate()) {
            (NewOne::ToMake(_, to_make), _) => to_make.candidate(),
            (_, Some(cert)) => Candidate::of(cert),
            (_, None) => unreachable!("only a certificate to make has none"),
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
mod tests;
