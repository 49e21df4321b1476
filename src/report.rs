//! Pure renderers for what the commands print: text for people, JSON for scripts.
//!
//! Both forms are built from the same facts, and the clock is a parameter, so snapshot tests can pin the
//! output exactly.

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::credential::{CertificateInfo, Loaded, Status, ThumbprintForm, Thumbprints};
use crate::provision::{FileRole, NewCredential};
use crate::time_fmt::rfc3339_utc;

/// Width of the label column in text output.
const LABEL: usize = 14;

fn line(out: &mut String, label: &str, value: impl std::fmt::Display) {
    out.push_str(&format!("  {label:<LABEL$}{value}\n"));
}

/// All five thumbprint forms as a JSON object keyed by [`ThumbprintForm::label`].
pub fn thumbprints_json(thumbprints: &Thumbprints) -> Value {
    let mut map = Map::new();
    for form in ThumbprintForm::ALL {
        map.insert(
            form.label().to_owned(),
            Value::String(thumbprints.render(form)),
        );
    }
    Value::Object(map)
}

fn thumbprint_lines(out: &mut String, thumbprints: &Thumbprints) {
    for form in ThumbprintForm::ALL {
        line(out, form.label(), thumbprints.render(form));
    }
}

/// A phrase for how long is left: "123 days left", "EXPIRED 4 days ago", "NOT YET VALID".
pub fn validity_phrase(cert: &CertificateInfo, now: OffsetDateTime) -> String {
    let days = cert.days_left(now);
    match cert.status(now) {
        Status::Valid if days == 1 => "1 day left".into(),
        Status::Valid => format!("{days} days left"),
        Status::Expired => format!("EXPIRED {} days ago", (now - cert.not_after).whole_days()),
        Status::NotYetValid => format!("NOT YET VALID (starts {})", rfc3339_utc(cert.not_before)),
    }
}

/// The JSON description of one certificate, as `inspect --json` prints it.
pub fn certificate_json(cert: &CertificateInfo, now: OffsetDateTime) -> Value {
    let problems = cert.entra_problems();
    json!({
        "subject": cert.subject,
        "issuer": cert.issuer,
        "selfSigned": cert.is_self_issued(),
        "serial": cert.serial,
        "notBefore": rfc3339_utc(cert.not_before),
        "notAfter": rfc3339_utc(cert.not_after),
        "daysLeft": cert.days_left(now),
        "status": cert.status(now).as_str(),
        "keyType": match cert.key {
            crate::credential::KeyKind::Rsa { .. } => "RSA",
            crate::credential::KeyKind::Ec { .. } => "EC",
            crate::credential::KeyKind::Other { .. } => "other",
        },
        "key": cert.key.to_string(),
        "keyBits": match cert.key {
            crate::credential::KeyKind::Rsa { bits } => Some(bits),
            _ => None,
        },
        "signatureAlgorithm": cert.signature_algorithm,
        "thumbprints": thumbprints_json(&cert.thumbprints),
        "entraUsable": problems.is_empty(),
        "problems": problems,
    })
}

/// `inspect --json`: one object per file.
pub fn inspect_json(files: &[Loaded], now: OffsetDateTime) -> Value {
    Value::Array(
        files
            .iter()
            .map(|file| {
                let mut object = json!({
                    "file": file.path.display().to_string(),
                    "encoding": file.encoding.as_str(),
                    "certificates": file
                        .certificates
                        .iter()
                        .map(|c| certificate_json(c, now))
                        .collect::<Vec<_>>(),
                });
                if let Some(key) = &file.key {
                    object["privateKey"] = json!({
                        "key": key.kind().to_string(),
                        "matchesCertificate": file.certificates.first().and_then(|c| key.matches(c)),
                    });
                }
                object
            })
            .collect(),
    )
}

/// `inspect` as text.
pub fn inspect_text(files: &[Loaded], now: OffsetDateTime) -> String {
    let mut out = String::new();
    for (file_index, file) in files.iter().enumerate() {
        if file_index > 0 {
            out.push('\n');
        }
        let count = file.certificates.len();
        for (index, cert) in file.certificates.iter().enumerate() {
            if index > 0 {
                out.push('\n');
            }
            let position = if count > 1 {
                format!(", certificate {} of {count}", index + 1)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "{} ({}{position})\n",
                file.path.display(),
                file.encoding.as_str()
            ));
            line(&mut out, "subject", &cert.subject);
            let issuer = if cert.is_self_issued() {
                format!("{} (self-signed)", cert.issuer)
            } else {
                cert.issuer.clone()
            };
            line(&mut out, "issuer", issuer);
            line(&mut out, "serial", &cert.serial);
            line(&mut out, "not before", rfc3339_utc(cert.not_before));
            line(
                &mut out,
                "not after",
                format!(
                    "{} ({})",
                    rfc3339_utc(cert.not_after),
                    validity_phrase(cert, now)
                ),
            );
            line(&mut out, "key", &cert.key);
            line(&mut out, "signature", &cert.signature_algorithm);
            thumbprint_lines(&mut out, &cert.thumbprints);
            if index == 0 {
                if let Some(key) = &file.key {
                    let matching = match key.matches(cert) {
                        Some(true) => ", matches the certificate",
                        Some(false) => ", DOES NOT match the certificate",
                        None => "",
                    };
                    line(&mut out, "private key", format!("{}{matching}", key.kind()));
                }
            }
            let problems = cert.entra_problems();
            if problems.is_empty() {
                line(&mut out, "entra", "usable as a certificate credential");
            } else {
                line(
                    &mut out,
                    "entra",
                    format!("NOT usable: {}", problems.join("; ")),
                );
            }
        }
    }
    out
}

/// The thumbprint lines of `thumbprint`: one form per certificate, or every form labelled.
pub fn thumbprint_text(files: &[Loaded], form: Option<ThumbprintForm>) -> String {
    let mut out = String::new();
    let certs: Vec<_> = files
        .iter()
        .flat_map(|f| f.certificates.iter().map(move |c| (f, c)))
        .collect();
    for (file, cert) in &certs {
        match form {
            Some(form) if certs.len() == 1 => {
                out.push_str(&cert.thumbprints.render(form));
                out.push('\n');
            }
            Some(form) => {
                out.push_str(&format!(
                    "{}  {}\n",
                    cert.thumbprints.render(form),
                    file.path.display()
                ));
            }
            None => {
                out.push_str(&format!("{} ({})\n", file.path.display(), cert.subject));
                thumbprint_lines(&mut out, &cert.thumbprints);
            }
        }
    }
    out
}

/// `thumbprint --json`: one object per certificate.
pub fn thumbprint_json(files: &[Loaded], form: Option<ThumbprintForm>) -> Value {
    Value::Array(
        files
            .iter()
            .flat_map(|f| {
                f.certificates.iter().map(move |cert| {
                    let mut object = json!({
                        "file": f.path.display().to_string(),
                        "subject": cert.subject,
                    });
                    match form {
                        Some(form) => {
                            object[form.label()] = Value::String(cert.thumbprints.render(form));
                        }
                        None => object["thumbprints"] = thumbprints_json(&cert.thumbprints),
                    }
                    object
                })
            })
            .collect(),
    )
}

/// What to do with the secret files of one credential, in words that fit the files really written: `new`,
/// `rotate`, `batch` and the wizard all print these lines. Each line starts with `secrets:`. Advice to delete a
/// file is given only where the PFX holds the private key and keeps it; the only copy of a key is never named for
/// deletion.
pub fn secrets_advice(files: &[(FileRole, String)]) -> Vec<String> {
    let path_of = |wanted: FileRole| {
        files
            .iter()
            .find(|(role, _)| *role == wanted)
            .map(|(_, path)| path.as_str())
    };
    let (pfx, key, password, bundle) = (
        path_of(FileRole::Pfx),
        path_of(FileRole::Key),
        path_of(FileRole::PfxPassword),
        path_of(FileRole::Bundle),
    );
    let mut lines = Vec::new();
    match pfx {
        Some(pfx) => {
            let removable: Vec<&str> = [key, password].into_iter().flatten().collect();
            if removable.is_empty() {
                lines.push(format!(
                    "secrets: {pfx} is the only copy of the private key (encrypted with your password): import it \
                     where the app runs (Key Vault, or the certificate store) and keep it owner-only"
                ));
            } else {
                lines.push(format!(
                    "secrets: import {pfx} where the app runs (Key Vault, or the certificate store), then delete {} \
                     from this folder: {pfx} keeps the private key",
                    removable.join(" and ")
                ));
            }
        }
        None => {
            if let Some(key) = key {
                lines.push(format!(
                    "secrets: {key} is the unencrypted private key and no PFX holds it: keep it owner-only where the \
                     app runs, and nowhere else (it cannot be made again)"
                ));
            }
        }
    }
    if let Some(bundle) = bundle {
        let only = pfx.is_none() && key.is_none();
        lines.push(format!(
            "secrets: {bundle} holds the unencrypted private key{}: deploy it owner-only where the app runs \
             (azure-identity, az login), and nowhere else",
            if only { " (its only copy)" } else { " too" }
        ));
    }
    lines
}

/// What `new` reports after writing: facts, thumbprints and the files.
pub struct NewSummary<'a> {
    /// The credential made.
    pub credential: &'a NewCredential,
    /// The files written, with their roles.
    pub files: Vec<(FileRole, String)>,
    /// The PFX profile, if a PFX was written.
    pub pfx_profile: Option<&'a str>,
    /// The fragment format name.
    pub format: &'a str,
    /// Non-fatal advice.
    pub warnings: Vec<String>,
}

impl<'a> NewSummary<'a> {
    /// The summary of what the provisioning workflow made.
    pub fn of(made: &'a crate::workflow::provision::Provisioned) -> NewSummary<'a> {
        NewSummary {
            credential: &made.credential,
            files: made.files.clone(),
            pfx_profile: made.pfx_profile.map(|p| p.as_str()),
            format: crate::manifest::document::format_name(made.format),
            warnings: made.warnings.clone(),
        }
    }

    /// Text for a person.
    pub fn text(&self) -> String {
        let cert = &self.credential.certificate;
        let mut out = format!("Created a certificate credential for {}\n", cert.subject);
        let days = (cert.not_after - cert.not_before).whole_days();
        line(
            &mut out,
            "valid",
            format!(
                "{} to {} ({days} days)",
                rfc3339_utc(cert.not_before),
                rfc3339_utc(cert.not_after)
            ),
        );
        line(
            &mut out,
            "key",
            format!("{}, {}", cert.key, cert.signature_algorithm),
        );
        line(&mut out, "serial", &cert.serial);
        line(&mut out, "keyId", self.credential.key_id);
        out.push_str("thumbprints\n");
        thumbprint_lines(&mut out, &cert.thumbprints);
        out.push_str("files\n");
        let width = self.files.iter().map(|(_, p)| p.len()).max().unwrap_or(0);
        for (role, path) in &self.files {
            let detail = match role {
                FileRole::Pfx => format!(
                    "{}, {} profile",
                    role.describe(),
                    self.pfx_profile.unwrap_or("")
                ),
                FileRole::KeyCredentials => format!("{} ({} format)", role.describe(), self.format),
                _ => role.describe().to_owned(),
            };
            out.push_str(&format!("  {path:<width$}  {detail}\n"));
        }
        let path_of = |wanted: FileRole| {
            self.files
                .iter()
                .find(|(role, _)| *role == wanted)
                .map(|(_, path)| path.as_str())
        };
        let cer = path_of(FileRole::Cer).unwrap_or("NAME.cer");
        out.push_str(&format!(
            "next: upload {cer} under Certificates & secrets > Certificates (the portal identifies it by its SHA-1 \
             thumbprint), or add the keyCredentials entry beside the app's existing ones, never over them: \
             keycred rotate --cert {cer} --manifest app.json does that safely\n"
        ));
        for advice in secrets_advice(&self.files) {
            out.push_str(&advice);
            out.push('\n');
        }
        out
    }

    /// JSON for scripts.
    pub fn json(&self) -> Value {
        let cert = &self.credential.certificate;
        let mut files = Map::new();
        for (role, path) in &self.files {
            files.insert(role.as_str().to_owned(), Value::String(path.clone()));
        }
        json!({
            "subject": cert.subject,
            "serial": cert.serial,
            "notBefore": rfc3339_utc(cert.not_before),
            "notAfter": rfc3339_utc(cert.not_after),
            "key": cert.key.to_string(),
            "signatureAlgorithm": cert.signature_algorithm,
            "keyId": self.credential.key_id,
            "thumbprints": thumbprints_json(&cert.thumbprints),
            "format": self.format,
            "pfxProfile": self.pfx_profile,
            "files": files,
            "warnings": self.warnings,
        })
    }
}

/// One input of `keycred check`, read and judged.
pub struct CheckedFile {
    /// The file name as given.
    pub file: String,
    /// Its credentials (one, for a certificate file).
    pub credentials: Vec<crate::manifest::ExistingCredential>,
    /// Its verdict.
    pub verdict: crate::rotation::Verdict,
    /// What makes the file invalid as it is (e.g. a repeated keyId), which Entra would reject.
    pub problems: Vec<String>,
}

impl CheckedFile {
    /// The verdict word for JSON: `invalid` when the file has problems, else the expiry verdict.
    pub fn verdict_str(&self) -> &'static str {
        if self.problems.is_empty() {
            self.verdict.as_str()
        } else {
            "invalid"
        }
    }
}

fn credential_status(
    c: &crate::manifest::ExistingCredential,
    now: OffsetDateTime,
    warn: time::Duration,
) -> &'static str {
    use crate::rotation::{standing, Standing};
    match standing(c.start, c.end, now) {
        Standing::Expired => "expired (prunable)",
        Standing::NotYetValid => "not yet valid",
        Standing::Valid if c.end - now <= warn => "renewal due",
        Standing::Valid => "valid",
    }
}

/// `check` as text: a verdict line per file, then a line per credential.
pub fn check_text(files: &[CheckedFile], now: OffsetDateTime, warn: time::Duration) -> String {
    let mut out = String::new();
    for file in files {
        let count = match file.credentials.len() {
            0 => String::new(),
            1 => " (1 credential)".to_owned(),
            n => format!(" ({n} credentials)"),
        };
        if file.problems.is_empty() {
            out.push_str(&format!(
                "{}: {}{count}\n",
                file.file,
                file.verdict.describe()
            ));
        } else {
            out.push_str(&format!(
                "{}: INVALID{count}: Entra refuses it as it is; fix the problems below\n",
                file.file
            ));
        }
        for problem in &file.problems {
            out.push_str(&format!("  problem: {problem}\n"));
        }
        for c in &file.credentials {
            let thumbprint = c
                .thumbprint
                .map(|t| crate::credential::thumbprint::upper_hex(&t))
                .unwrap_or_else(|| "(no thumbprint)".into());
            let id = c
                .key_id
                .map(|id| id.to_string())
                .unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "  {thumbprint}  {id:<36}  {} to {}  {:>5} days  {}{}\n",
                rfc3339_utc(c.start),
                rfc3339_utc(c.end),
                (c.end - now).whole_days(),
                credential_status(c, now, warn),
                c.display_name
                    .as_deref()
                    .map(|n| format!("  {n}"))
                    .unwrap_or_default(),
            ));
        }
    }
    out
}

/// `check --json`, for monitoring systems.
pub fn check_json(
    files: &[CheckedFile],
    errors: &[(String, String)],
    now: OffsetDateTime,
    warn: time::Duration,
    exit_code: i32,
) -> Value {
    let worst = files.iter().map(|f| f.verdict).max();
    let verdict = if !errors.is_empty() {
        Some("error")
    } else if files.iter().any(|f| !f.problems.is_empty()) {
        Some("invalid")
    } else {
        worst.map(|v| v.as_str())
    };
    json!({
        "verdict": verdict,
        "exitCode": exit_code,
        "warnDays": warn.whole_days(),
        "checkedAt": rfc3339_utc(now),
        "files": files.iter().map(|f| json!({
            "file": f.file,
            "verdict": f.verdict_str(),
            "expiry": f.verdict.as_str(),
            "problems": f.problems,
            "credentials": f.credentials.iter().map(|c| json!({
                "keyId": c.key_id,
                "displayName": c.display_name,
                "thumbprint": c.thumbprint.map(|t| crate::credential::thumbprint::upper_hex(&t)),
                "startDateTime": rfc3339_utc(c.start),
                "endDateTime": rfc3339_utc(c.end),
                "daysLeft": (c.end - now).whole_days(),
                "status": credential_status(c, now, warn),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "errors": errors.iter().map(|(file, error)| json!({"file": file, "error": error})).collect::<Vec<_>>(),
    })
}

fn credential_line(c: &crate::manifest::ExistingCredential, now: OffsetDateTime) -> String {
    let thumbprint = c
        .thumbprint
        .map(|t| crate::credential::thumbprint::upper_hex(&t))
        .unwrap_or_else(|| "(no thumbprint)".into());
    format!(
        "{thumbprint}  {}  {} to {} ({} days left)",
        c.label(),
        rfc3339_utc(c.start),
        rfc3339_utc(c.end),
        (c.end - now).whole_days()
    )
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
    match &outcome.added {
        Some(added) => {
            let cert = &added.certificate;
            out.push_str(&format!(
                "+ add     {}  keyId {}  {} to {}  {}\n",
                cert.thumbprints.render(ThumbprintForm::Hex),
                added.key_id,
                rfc3339_utc(cert.not_before),
                rfc3339_utc(cert.not_after),
                cert.subject
            ))
        }
        None => out.push_str(&format!(
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
        out.push_str("no change\n");
    } else if !outcome.dry_run {
        out.push_str(&rotate_next_steps(outcome));
    }
    out
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
        _ => {}
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

/// `manifest grant` as text: the client's entry for the API, role by role, and what to do next.
pub fn grant_text(outcome: &crate::workflow::grant::GrantOutcome) -> String {
    let mut out = format!(
        "requiredResourceAccess of {} ({} manifest){}\n",
        outcome.client.display(),
        crate::manifest::document::format_name(outcome.format),
        if outcome.dry_run {
            ", dry run: nothing written"
        } else {
            ""
        }
    );
    out.push_str(&format!(
        "  {} entry for {}{}\n",
        if outcome.entry_existed {
            "update"
        } else {
            "add"
        },
        outcome.resource_app_id,
        outcome
            .api_name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    ));
    for role in &outcome.roles {
        out.push_str(&format!(
            "{} role    {}  {}{}\n",
            if role.added { "+" } else { " " },
            role.id,
            role.value,
            if role.added {
                ""
            } else {
                " (already requested)"
            }
        ));
    }
    if !outcome.changed {
        out.push_str("no change\n");
        return out;
    }
    if let Some(backup) = &outcome.backup {
        out.push_str(&format!(
            "files\n  {}  the manifest as it was before this run\n",
            backup.display()
        ));
    }
    if let Some(written) = &outcome.written {
        out.push_str(&format!(
            "next: apply {} (portal: App registrations > the client app > Manifest, or Graph PATCH), then grant \
             admin consent (the client app > API permissions > Grant admin consent): until then its tokens carry \
             no roles\n",
            written.display()
        ));
    }
    out
}

/// `manifest grant --json`.
pub fn grant_json(outcome: &crate::workflow::grant::GrantOutcome) -> Value {
    json!({
        "client": outcome.client.display().to_string(),
        "resourceAppId": outcome.resource_app_id,
        "dryRun": outcome.dry_run,
        "changed": outcome.changed,
        "entryExisted": outcome.entry_existed,
        "roles": outcome.roles.iter().map(|r| json!({
            "value": r.value, "id": r.id, "added": r.added,
        })).collect::<Vec<_>>(),
        "written": outcome.written.as_ref().map(|p| p.display().to_string()),
        "backup": outcome.backup.as_ref().map(|p| p.display().to_string()),
    })
}

/// `rotate --json`: the summary.
pub fn rotate_json(outcome: &crate::workflow::rotate_app::RotateOutcome) -> Value {
    use crate::rotation::Disposition;
    use crate::workflow::rotate_app::ManifestOutput;
    let files: serde_json::Map<String, Value> = outcome
        .files
        .iter()
        .map(|(role, path)| (role.as_str().to_owned(), Value::String(path.clone())))
        .collect();
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
        })),
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
    })
}

/// The claims that matter for app-only tokens, in the order `decode` shows them.
const KEY_CLAIMS: [&str; 11] = [
    "aud", "iss", "roles", "azp", "appid", "tid", "ver", "idtyp", "sub", "nbf", "exp",
];

fn claim_time(claims: &Value, name: &str, now: OffsetDateTime) -> Option<String> {
    let at = claims.get(name)?.as_i64()?;
    let when = OffsetDateTime::from_unix_timestamp(at).ok()?;
    Some(format!(
        "{} ({})",
        rfc3339_utc(when),
        crate::flow::decode::relative(at, now)
    ))
}

/// `decode` as text: what matters first, then the whole header and claims.
pub fn decode_text(decoded: &crate::flow::decode::Decoded, now: OffsetDateTime) -> String {
    let claims = &decoded.claims;
    let mut out = String::new();
    for name in KEY_CLAIMS {
        let Some(value) = claims.get(name) else {
            continue;
        };
        let shown = match name {
            "nbf" | "exp" | "iat" => {
                claim_time(claims, name, now).unwrap_or_else(|| value.to_string())
            }
            _ => match value {
                Value::String(s) => s.clone(),
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            },
        };
        line(&mut out, name, shown);
    }
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
        if exp < now.unix_timestamp() {
            line(&mut out, "status", "EXPIRED");
        }
    }
    line(
        &mut out,
        "verified",
        if decoded.verified {
            format!("yes: {}", decoded.passed.join(", "))
        } else if decoded.passed.is_empty() {
            "no (give --verify-cert or --jwks to check the signature)".to_owned()
        } else {
            format!(
                "signature not checked; claims checked: {}",
                decoded.passed.join(", ")
            )
        },
    );
    out.push_str("header\n");
    out.push_str(&indent(&decoded.header));
    out.push_str("claims\n");
    out.push_str(&indent(claims));
    // The times readable, beside the claims (never among them: the claims are shown as the token has them).
    let times: Vec<(&str, String)> = ["iat", "nbf", "exp"]
        .into_iter()
        .filter_map(|name| Some((name, claim_time(claims, name, now)?)))
        .collect();
    if !times.is_empty() {
        out.push_str("times (UTC)\n");
        for (name, text) in times {
            out.push_str(&format!("  {name}  {text}\n"));
        }
    }
    out
}

fn indent(value: &Value) -> String {
    serde_json::to_string_pretty(value)
        .expect("JSON values serialize")
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect()
}

/// `decode --json`.
pub fn decode_json(decoded: &crate::flow::decode::Decoded, now: OffsetDateTime) -> Value {
    let times: Map<String, Value> = ["iat", "nbf", "exp"]
        .iter()
        .filter_map(|name| {
            Some((
                (*name).to_owned(),
                Value::String(claim_time(&decoded.claims, name, now)?),
            ))
        })
        .collect();
    json!({
        "header": decoded.header,
        "claims": decoded.claims,
        "times": times,
        "verified": decoded.verified,
        "checksPassed": decoded.passed,
    })
}
