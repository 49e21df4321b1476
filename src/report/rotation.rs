//! Rotation: `rotate`'s keyCredentials diff, the files it wrote with what to do next, and its JSON summary.

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::credential::secrets_advice;
use super::thumbprints_json;
use crate::credential::ThumbprintForm;
use crate::time_fmt::rfc3339_utc;

pub(crate) fn credential_line(
    c: &crate::manifest::ExistingCredential,
    now: OffsetDateTime,
) -> String {
    let thumbprint = c
        .thumbprint
        .map(|t| crate::credential::thumbprint::upper_hex(&t))
        .unwrap_or_else(|| "(no thumbprint)".into());
    format!(
        "{thumbprint}  {}  {} to {} ({} days left){}",
        c.label(),
        rfc3339_utc(c.start),
        rfc3339_utc(c.end),
        (c.end - now).whole_days(),
        if c.signs() {
            "  signing key (usage Sign): not a client credential, left as it is"
        } else {
            ""
        }
    )
}

/// The `+ add` line of a certificate a plan would make: no key is made for a plan, so no thumbprint or keyId.
pub(crate) fn to_make_line(to_make: &crate::rotation::ToMake, when: &str) -> String {
    format!(
        "+ add     a new certificate, made {when} (its thumbprint and keyId exist from then)  {} to {}  {}\n",
        rfc3339_utc(to_make.start),
        rfc3339_utc(to_make.end),
        to_make.subject
    )
}

/// `"added"` in a plan's JSON for a certificate not made yet.
pub(crate) fn to_make_json(to_make: &crate::rotation::ToMake) -> Value {
    json!({
        "keyId": null,
        "thumbprint": null,
        "subject": to_make.subject,
        "startDateTime": rfc3339_utc(to_make.start),
        "endDateTime": rfc3339_utc(to_make.end),
        "madeWhenApplied": true,
    })
}

/// `rotate` as text: the keyCredentials diff.
pub fn rotate_text(outcome: &crate::workflow::rotate_app::RotateOutcome) -> String {
    use crate::rotation::Disposition;
    let mut out = format!(
        "keyCredentials of {} ({} manifest){}\n",
        outcome.manifest.display(),
        crate::manifest::document::format_name(outcome.format),
        if outcome.dry_run {
            ", dry run: nothing written"
        } else {
            ""
        }
    );
    for (c, d) in outcome.existing.iter().zip(&outcome.plan.existing) {
        match d {
            Disposition::Keep => {
                out.push_str(&format!("  keep    {}\n", credential_line(c, outcome.now)))
            }
            Disposition::Remove(reason) => out.push_str(&format!(
                "- remove  {} [{reason}]\n",
                credential_line(c, outcome.now)
            )),
        }
    }
    match (&outcome.added, &outcome.to_make) {
        (None, Some(to_make)) => out.push_str(&to_make_line(to_make, "when run without --dry-run")),
        (Some(added), _) => {
            let cert = &added.certificate;
            out.push_str(&format!(
                "+ add     {}  keyId {}  {} to {}  {}\n",
                cert.thumbprints.render(ThumbprintForm::Hex),
                added.key_id,
                rfc3339_utc(cert.not_before),
                rfc3339_utc(cert.not_after),
                cert.subject
            ));
            if let Some(cer) = &outcome.reused {
                out.push_str(&format!(
                    "          made by an earlier run for this manifest and not on it yet: {} (no new key made)\n",
                    cer.display()
                ));
            }
        }
        (None, None) => out.push_str(&format!(
            "  (no credential added: {})\n",
            outcome
                .plan
                .skipped
                .as_deref()
                .unwrap_or("renewal is not due")
        )),
    }
    for line in &outcome.repaired {
        out.push_str(&format!("* repair  {line}\n"));
    }
    if !outcome.changed {
        if outcome.files.is_empty() {
            out.push_str("no change\n");
        } else {
            // A CA rotation's first step writes the request, and its answer's files end it, without (yet) changing the
            // manifest.
            out.push_str("no change to the manifest\n");
            if !outcome.dry_run {
                out.push_str(&rotate_next_steps(outcome));
            }
        }
    } else if !outcome.dry_run {
        out.push_str(&rotate_next_steps(outcome));
    }
    out
}

/// Where a CA rotation stands, for `--json` (rotate, batch reports, graph rotate).
pub fn ca_step_json(step: &crate::workflow::ca_rotation::CaStep) -> Value {
    use crate::workflow::ca_rotation::CaStep;
    match step {
        CaStep::Requested { subject, csr, key } => json!({
            "step": step.as_str(),
            "subject": subject,
            "request": csr.display().to_string(),
            "key": key.display().to_string(),
        }),
        CaStep::Waiting { csr, answer } => json!({
            "step": step.as_str(),
            "request": csr.display().to_string(),
            "answer": answer.display().to_string(),
        }),
        CaStep::Imported { answer, chain } => json!({
            "step": step.as_str(),
            "answer": answer.display().to_string(),
            "chain": chain,
        }),
    }
}

/// The files a rotation wrote, and what to do with each.
fn rotate_next_steps(outcome: &crate::workflow::rotate_app::RotateOutcome) -> String {
    use crate::workflow::rotate_app::ManifestOutput;
    let mut files: Vec<(String, String)> = outcome
        .files
        .iter()
        .map(|(role, path)| (path.clone(), role.describe().to_owned()))
        .collect();
    let manifest = match &outcome.output {
        ManifestOutput::InPlace => Some(outcome.manifest.display().to_string()),
        ManifestOutput::File(path) => {
            files.push((path.display().to_string(), "the updated manifest".into()));
            Some(path.display().to_string())
        }
        ManifestOutput::Returned => None,
    };
    if let Some(backup) = &outcome.backup {
        files.push((
            backup.display().to_string(),
            "the manifest as it was before this run".into(),
        ));
    }
    if let Some(path) = &outcome.patch_out {
        files.push((
            path.display().to_string(),
            "Graph PATCH /applications/{id} body".into(),
        ));
    }
    if let Some(path) = &outcome.add_key_proof {
        files.push((
            path.display().to_string(),
            "Graph addKey body (valid 10 minutes)".into(),
        ));
    }
    let mut out = String::new();
    if let Some(dir) = &outcome.created_dir {
        out.push_str(&format!(
            "created the folder {} (owner-only: it holds the private key)\n",
            dir.display()
        ));
    }
    if !files.is_empty() {
        out.push_str("files\n");
        let width = files.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
        for (path, what) in &files {
            out.push_str(&format!("  {path:<width$}  {what}\n"));
        }
    }
    match (&outcome.add_key_proof, &manifest) {
        // A CA request: the plan's line above says what to do with it.
        _ if !outcome.changed => {}
        (Some(body), Some(manifest)) => out.push_str(&format!(
            "next: use ONE of the two, not both: send {} as POST https://graph.microsoft.com/v1.0/applications/{{object-id}}/addKey \
             with a token the app gets with its current certificate (adds the new one, keeps the others), or apply {manifest} \
             in the portal's manifest editor\n",
            body.display()
        )),
        (None, Some(manifest)) => out.push_str(&format!(
            "next: apply {manifest} (portal: App registrations > your app > Manifest, or Graph PATCH){}\n",
            retire_step(outcome, manifest)
        )),
        (_, None) => out.push_str(&format!(
            "note: the updated manifest was only printed (standard output), not saved, and {} is unchanged. Save \
             it, or run again with --in-place (or --manifest-out FILE): that run adds the certificate made now, not \
             another\n",
            outcome.manifest.display()
        )),
    }
    for advice in secrets_advice(&outcome.files) {
        out.push_str(&advice);
        out.push('\n');
    }
    out
}

/// What to do with the credential the new one replaces: remove it by keyId once the app uses the new certificate
/// while it is still valid, or prune what has expired.
fn retire_step(outcome: &crate::workflow::rotate_app::RotateOutcome, manifest: &str) -> String {
    use crate::rotation::{standing, Disposition, Standing};
    if outcome.added.is_none() {
        return String::new();
    }
    let kept = || {
        outcome
            .existing
            .iter()
            .zip(&outcome.plan.existing)
            .filter(|(_, d)| **d == Disposition::Keep)
            .map(|(c, _)| c)
    };
    let valid: Vec<String> = kept()
        .filter(|c| standing(c.start, c.end, outcome.now) == Standing::Valid)
        .filter_map(|c| c.key_id.map(|id| id.to_string()))
        .collect();
    let expired = kept().any(|c| standing(c.start, c.end, outcome.now) == Standing::Expired);
    let mut step = String::new();
    if !valid.is_empty() {
        step.push_str(&format!(
            "; keep the current credential until the app uses the new certificate, then remove it: keycred rotate \
             --manifest {manifest} {} --in-place",
            valid
                .iter()
                .map(|id| format!("--remove-key-id {id}"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if expired {
        step.push_str(&format!(
            "; expired credentials stay until pruned: keycred rotate --manifest {manifest} --prune-expired --in-place"
        ));
    }
    step
}

/// `rotate --json`: the summary.
pub fn rotate_json(outcome: &crate::workflow::rotate_app::RotateOutcome) -> Value {
    use crate::rotation::Disposition;
    use crate::workflow::rotate_app::ManifestOutput;
    let files = super::files_json(&outcome.files);
    let pairs = || outcome.existing.iter().zip(&outcome.plan.existing);
    json!({
        "manifest": outcome.manifest.display().to_string(),
        "dryRun": outcome.dry_run,
        "changed": outcome.changed,
        "repairedKeyIds": outcome.repaired,
        "renewalDue": outcome.plan.renewal_due,
        "added": outcome.added.as_ref().map(|added| json!({
            "keyId": added.entry["keyId"],
            "customKeyIdentifier": added.entry["customKeyIdentifier"],
            "subject": added.certificate.subject,
            "startDateTime": rfc3339_utc(added.certificate.not_before),
            "endDateTime": rfc3339_utc(added.certificate.not_after),
            "thumbprints": thumbprints_json(&added.certificate.thumbprints),
        })).or_else(|| outcome.to_make.as_ref().map(to_make_json)),
        "skipped": outcome.plan.skipped,
        "kept": pairs().filter(|(_, d)| **d == Disposition::Keep).map(|(c, _)| json!({
            "index": c.index,
            "keyId": c.key_id,
        })).collect::<Vec<_>>(),
        "removed": pairs().filter_map(|(c, d)| match d {
            Disposition::Remove(reason) => Some(json!({"index": c.index, "keyId": c.key_id, "reason": reason})),
            Disposition::Keep => None,
        }).collect::<Vec<_>>(),
        "warnings": outcome.warnings,
        "files": files,
        "manifestOut": match &outcome.output {
            ManifestOutput::File(path) => Some(path.display().to_string()),
            _ => None,
        },
        "patchOut": outcome.patch_out.as_ref().map(|p| p.display().to_string()),
        "addKeyProof": outcome.add_key_proof.as_ref().map(|p| p.display().to_string()),
        "ca": outcome.ca.as_ref().map(ca_step_json),
    })
}
