//! `keycred rotate`: make (or take) a certificate, plan, and add it to the manifest beside the current one.
//!
//! The manifest's other credentials are copied byte-for-byte as JSON values, and every other field stays as it
//! was. All targets are checked before anything is written; an in-place update runs under a lock and refuses
//! to write if the manifest changed on disk meanwhile.

use keycred::credential::{self, CertificateInfo};
use keycred::fsio::{self, Access, OutputFile};
use keycred::interrupt::Interrupt;
use keycred::manifest::existing::{describe_duplicate_key_ids, duplicate_key_ids};
use keycred::manifest::{
    document::format_name, ExistingCredential, KeyCredentialsDocument, Manifest, ManifestFormat,
};
use keycred::rotation::{self, Candidate, Disposition, Plan, Policy};
use keycred::time_fmt::rfc3339_utc;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use super::new::{Issue, PasswordSource};
use crate::cli::RotateArgs;

pub fn run(args: RotateArgs) -> anyhow::Result<i32> {
    let interrupt = keycred::interrupt::Interrupt::install()?;
    let outcome = apply(&args, &interrupt)?;
    for warning in &outcome.warnings {
        eprintln!("keycred: warning: {warning}");
    }
    if args.json {
        super::print_json(&outcome.summary);
    } else if let Some(manifest) = &outcome.manifest_text {
        eprint!("{}", outcome.diff);
        super::print(manifest);
    } else {
        super::print(&outcome.diff);
    }
    Ok(keycred::exit::SUCCESS)
}

/// What a rotation did.
pub struct Outcome {
    /// The keyCredentials diff, as text.
    pub diff: String,
    /// The JSON summary.
    pub summary: Value,
    /// The updated manifest, when it goes to standard output (neither --in-place nor --manifest-out).
    pub manifest_text: Option<String>,
    /// Whether the manifest changed.
    pub changed: bool,
    /// The plan's warnings.
    pub warnings: Vec<String>,
}

/// Rotates one manifest as `args` say, printing nothing; `batch` calls this for every app. A signal recorded in
/// `interrupt` before the first file is written stops the run with nothing written; once writing has begun it
/// completes.
pub fn apply(args: &RotateArgs, interrupt: &Interrupt) -> anyhow::Result<Outcome> {
    if args.json && !(args.in_place || args.manifest_out.is_some() || args.dry_run) {
        return Err(keycred::Error::Invalid(
            "--json needs --in-place, --manifest-out FILE or --dry-run, so that standard output holds only the JSON summary"
                .into(),
        )
        .into());
    }
    // Writing to the manifest itself goes the --in-place way (lock, backup, unchanged check), never around it.
    for (flag, out) in [
        ("--manifest-out", &args.manifest_out),
        ("--patch-out", &args.patch_out),
        ("--add-key-proof", &args.add_key_proof),
    ] {
        if let Some(out) = out
            .as_ref()
            .filter(|out| fsio::same_file(out, &args.manifest))
        {
            return Err(keycred::Error::Invalid(format!(
                "{flag} {} is the manifest being rotated: use --in-place to update it (under a lock, keeping a \
                 backup), or write to another file",
                out.display()
            ))
            .into());
        }
    }
    let now = OffsetDateTime::now_utc();
    let policy = Policy {
        renew_within: args.renew_within.map(|d| Duration::days(i64::from(d))),
        prune_expired: args.prune_expired,
        keep: args.keep,
    };
    let _lock = if args.in_place && !args.dry_run {
        Some(fsio::Lock::acquire(&args.manifest)?)
    } else {
        None
    };
    let original = super::read_input(&args.manifest)?;
    let text = super::utf8(&args.manifest, original.clone())?;
    let mut manifest = Manifest::parse(&text, &args.manifest.display().to_string(), None)?;
    let mut existing = manifest.key_credentials()?;
    let repaired = repair_key_ids(args, &mut manifest, &mut existing)?;
    // The addKey route: the current credential that signs the proof is read (and checked) before anything else.
    let proof = match (&args.add_key_proof, &args.object_id, &args.current_pfx) {
        (Some(_), Some(object_id), Some(pfx)) => Some((
            keycred::manifest::app_roles::parse_guid(object_id, "--object-id")?,
            super::graph::load_current_pfx(
                pfx,
                args.current_password_file.as_deref(),
                &args.credential.password,
                (!args.credential.no_pfx
                    && !args.credential.generate_password
                    && args.cert.is_none())
                .then_some("the new PFX"),
            )?,
        )),
        _ => None,
    };
    let mut targets: Vec<OutputFile> = [&args.manifest_out, &args.patch_out, &args.add_key_proof]
        .into_iter()
        .flatten()
        .map(|p| OutputFile::new(p.clone(), Vec::new(), Access::Public))
        .collect();
    fsio::check_targets(&targets, args.credential.force)?;
    targets.clear();

    // Not due: nothing is generated; only what the policy removes (if anything) changes.
    let precheck = rotation::plan(&existing, None, now, &policy)?;
    let (plan, new) = if !precheck.renewal_due {
        (precheck, None)
    } else {
        let new = NewOne::make(args)?;
        let candidate = Candidate {
            thumbprint: new.certificate().thumbprints.sha1,
            start: new.certificate().not_before,
            end: new.certificate().not_after,
        };
        (
            rotation::plan(&existing, Some(&candidate), now, &policy)?,
            Some(new),
        )
    };

    let key_id = new.as_ref().map_or_else(uuid::Uuid::new_v4, NewOne::key_id);
    let added = match (&new, plan.add) {
        (Some(new), true) => Some(
            KeyCredentialsDocument::new(&[(new.certificate(), key_id)], manifest.format())
                .entries()[0]
                .clone(),
        ),
        _ => None,
    };
    let updated = rotation::apply_plan(&mut manifest, &plan, added.clone())?;

    let patch = match &args.patch_out {
        Some(_) => Some(patch_body(&manifest, &existing, &plan, &updated)?),
        None => None,
    };

    let mut diff = diff_text(
        args,
        &manifest,
        &existing,
        &plan,
        new.as_ref().map(NewOne::certificate),
        key_id,
        now,
    );
    for line in &repaired {
        diff.push_str(&format!("* repair  {line}\n"));
    }
    let changed = plan.changes() || !repaired.is_empty();
    if args.dry_run {
        return Ok(Outcome {
            diff,
            summary: summary_json(args, &existing, &plan, added.as_ref(), &[], true, &repaired),
            manifest_text: None,
            changed,
            warnings: plan.warnings,
        });
    }
    // The last moment to stop cleanly: nothing has been written yet.
    interrupt.check()?;

    // Certificate files first (only when the credential is really added), then the manifest, then the PATCH body.
    let files = match (&new, plan.add) {
        (Some(NewOne::Made(issue, credential)), true) => {
            issue.write(credential, manifest.format())?
        }
        _ => Vec::new(),
    };
    let rendered = manifest.render();
    if args.in_place {
        if changed {
            fsio::update_in_place(&args.manifest, &original, rendered.clone().into_bytes())
                .map_err(|e| match e {
                    keycred::Error::Changed(_) if !files.is_empty() => anyhow::anyhow!(
                        "{e} (the new certificate files were written: {})",
                        files
                            .iter()
                            .map(|(_, path)| path.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    other => other.into(),
                })?;
        }
    } else if let Some(out) = &args.manifest_out {
        targets.push(OutputFile::new(
            out.clone(),
            rendered.clone(),
            Access::Public,
        ));
    }
    if let (Some(path), Some((object_id, current)), Some(new), true) =
        (&args.add_key_proof, &proof, &new, plan.add)
    {
        let signer = super::graph::signer(current)?;
        let body = keycred::flow::graph::add_key_body(&signer, *object_id, new.certificate(), now)?;
        targets.push(OutputFile::new(
            path.clone(),
            format!(
                "{}\n",
                serde_json::to_string_pretty(&body).expect("JSON values serialize")
            ),
            Access::Public,
        ));
    }
    if let (Some(path), Some(body)) = (&args.patch_out, &patch) {
        targets.push(OutputFile::new(path.clone(), body.clone(), Access::Public));
    }
    fsio::write_all(&targets, args.credential.force)?;

    Ok(Outcome {
        diff,
        summary: summary_json(
            args,
            &existing,
            &plan,
            added.as_ref(),
            &files,
            false,
            &repaired,
        ),
        manifest_text: (!args.in_place && args.manifest_out.is_none()).then_some(rendered),
        changed,
        warnings: plan.warnings,
    })
}

/// The credential to rotate in.
enum NewOne {
    /// Made here, exactly as `keycred new` makes one.
    Made(Box<Issue>, Box<keycred::provision::NewCredential>),
    /// Read from --cert.
    Given(Box<CertificateInfo>),
}

impl NewOne {
    fn make(args: &RotateArgs) -> anyhow::Result<NewOne> {
        if let Some(path) = &args.cert {
            let bytes = super::read_input(path)?;
            let loaded = credential::load(path, &bytes, || {
                super::read_password(&args.credential.password, path)
            })?;
            let cert = loaded
                .certificates
                .into_iter()
                .next()
                .expect("load returns at least one certificate");
            let problems = cert.entra_problems();
            if !problems.is_empty() {
                anyhow::bail!(
                    "{} cannot be an Entra ID credential: {}",
                    path.display(),
                    problems.join("; ")
                );
            }
            return Ok(NewOne::Given(Box::new(cert)));
        }
        let subject = args
            .subject
            .as_deref()
            .expect("clap requires --subject without --cert");
        let issue = Issue::prepare(
            subject,
            &args.credential,
            PasswordSource::from_options(&args.credential),
        )?;
        let credential = issue.create()?;
        Ok(NewOne::Made(Box::new(issue), Box::new(credential)))
    }

    fn certificate(&self) -> &CertificateInfo {
        match self {
            NewOne::Made(_, credential) => &credential.certificate,
            NewOne::Given(cert) => cert,
        }
    }

    fn key_id(&self) -> uuid::Uuid {
        match self {
            NewOne::Made(_, credential) => credential.key_id,
            NewOne::Given(_) => uuid::Uuid::new_v4(),
        }
    }
}

/// The Graph PATCH body: every credential to keep, with its certificate. Graph returns `key: null` for existing
/// credentials, and a PATCH replaces the whole collection, so a body without a credential's key would drop it.
fn patch_body(
    manifest: &Manifest,
    existing: &[ExistingCredential],
    plan: &Plan,
    updated: &[Value],
) -> anyhow::Result<String> {
    if manifest.format() == ManifestFormat::Legacy {
        return Err(keycred::Error::Invalid(
            "--patch-out writes a Microsoft Graph body, but the manifest is in the legacy format; export the Graph manifest instead".into(),
        )
        .into());
    }
    let unknown: Vec<String> = existing
        .iter()
        .zip(&plan.existing)
        .filter(|(c, d)| **d == Disposition::Keep && !c.has_key())
        .map(|(c, _)| c.label())
        .collect();
    if !unknown.is_empty() {
        anyhow::bail!(
            "a PATCH body would drop {} because the manifest does not carry their certificates (Graph returns key: null), \
             and PATCH replaces the whole keyCredentials collection. Add the new certificate with \
             `keycred graph add-key` (POST /applications/{{id}}/addKey) instead, which keeps the others",
            unknown.join(", ")
        );
    }
    Ok(format!(
        "{}\n",
        serde_json::to_string_pretty(&json!({ "keyCredentials": updated }))
            .expect("JSON values serialize")
    ))
}

fn line_for(c: &ExistingCredential, now: OffsetDateTime) -> String {
    let thumbprint = c
        .thumbprint
        .map(|t| keycred::credential::thumbprint::upper_hex(&t))
        .unwrap_or_else(|| "(no thumbprint)".into());
    format!(
        "{thumbprint}  {}  {} to {} ({} days left)",
        c.label(),
        rfc3339_utc(c.start),
        rfc3339_utc(c.end),
        (c.end - now).whole_days()
    )
}

fn diff_text(
    args: &RotateArgs,
    manifest: &Manifest,
    existing: &[ExistingCredential],
    plan: &Plan,
    new: Option<&CertificateInfo>,
    key_id: uuid::Uuid,
    now: OffsetDateTime,
) -> String {
    let mut out = format!(
        "keyCredentials of {} ({} manifest){}\n",
        args.manifest.display(),
        format_name(manifest.format()),
        if args.dry_run {
            ", dry run: nothing written"
        } else {
            ""
        }
    );
    for (c, d) in existing.iter().zip(&plan.existing) {
        match d {
            Disposition::Keep => out.push_str(&format!("  keep    {}\n", line_for(c, now))),
            Disposition::Remove(reason) => {
                out.push_str(&format!("- remove  {} [{reason}]\n", line_for(c, now)))
            }
        }
    }
    match (new, plan.add) {
        (Some(cert), true) => out.push_str(&format!(
            "+ add     {}  keyId {key_id}  {} to {}  {}\n",
            cert.thumbprints
                .render(keycred::credential::ThumbprintForm::Hex),
            rfc3339_utc(cert.not_before),
            rfc3339_utc(cert.not_after),
            cert.subject
        )),
        _ => out.push_str(&format!(
            "  (no credential added: {})\n",
            plan.skipped.as_deref().unwrap_or("renewal is not due")
        )),
    }
    if !plan.changes() {
        out.push_str("no change\n");
    }
    out
}

fn summary_json(
    args: &RotateArgs,
    existing: &[ExistingCredential],
    plan: &Plan,
    added: Option<&Value>,
    files: &[(keycred::provision::FileRole, String)],
    dry_run: bool,
    repaired: &[String],
) -> Value {
    let files: serde_json::Map<String, Value> = files
        .iter()
        .map(|(role, path)| (role.as_str().to_owned(), Value::String(path.clone())))
        .collect();
    json!({
        "manifest": args.manifest.display().to_string(),
        "dryRun": dry_run,
        "changed": plan.changes() || !repaired.is_empty(),
        "repairedKeyIds": repaired,
        "renewalDue": plan.renewal_due,
        "added": added.map(|entry| json!({
            "keyId": entry["keyId"],
            "customKeyIdentifier": entry["customKeyIdentifier"],
        })),
        "skipped": plan.skipped,
        "kept": existing.iter().zip(&plan.existing).filter(|(_, d)| **d == Disposition::Keep).map(|(c, _)| c.label()).collect::<Vec<_>>(),
        "removed": existing.iter().zip(&plan.existing).filter_map(|(c, d)| match d {
            Disposition::Remove(reason) => Some(json!({"credential": c.label(), "reason": reason})),
            Disposition::Keep => None,
        }).collect::<Vec<_>>(),
        "warnings": plan.warnings,
        "files": files,
        "manifestOut": args.manifest_out.as_ref().map(|p| p.display().to_string()),
        "patchOut": args.patch_out.as_ref().map(|p| p.display().to_string()),
        "addKeyProof": args.add_key_proof.as_ref().filter(|_| plan.add && !dry_run).map(|p| p.display().to_string()),
    })
}

/// Refuses a manifest that repeats a keyId (Entra rejects it), or with --repair-key-ids gives every later
/// credential with a repeated keyId a new one. Returns what was repaired, for the diff and the summary.
fn repair_key_ids(
    args: &RotateArgs,
    manifest: &mut Manifest,
    existing: &mut [ExistingCredential],
) -> anyhow::Result<Vec<String>> {
    let duplicates = duplicate_key_ids(existing);
    if duplicates.is_empty() {
        return Ok(Vec::new());
    }
    if !args.repair_key_ids {
        return Err(keycred::Error::Document {
            source_name: args.manifest.display().to_string(),
            reason: format!(
                "{}; nothing was written. Fix the manifest, or pass --repair-key-ids to give the later ones new keyIds",
                describe_duplicate_key_ids(&duplicates).join("; ")
            ),
        }
        .into());
    }
    let mut repaired = Vec::new();
    for (id, positions) in duplicates {
        for &index in &positions[1..] {
            let new_id = uuid::Uuid::new_v4();
            manifest.set_key_id(index, new_id)?;
            existing[index].key_id = Some(new_id);
            repaired.push(format!(
                "keyCredentials[{index}]: keyId {id} (repeated) -> {new_id}"
            ));
        }
    }
    Ok(repaired)
}
