//! Manifests: `check`'s verdicts and `manifest grant`'s merge.

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::time_fmt::rfc3339_utc;
use crate::workflow::check::CheckedFile;

pub(crate) fn credential_status(
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

/// One certificate credential in `--json`, as `check` and `graph apps` both show it.
pub(crate) fn credential_json(
    c: &crate::manifest::ExistingCredential,
    now: OffsetDateTime,
    warn: time::Duration,
) -> Value {
    json!({
        "keyId": c.key_id,
        "displayName": c.display_name,
        "thumbprint": c.thumbprint.map(|t| crate::credential::thumbprint::upper_hex(&t)),
        "startDateTime": rfc3339_utc(c.start),
        "endDateTime": rfc3339_utc(c.end),
        "daysLeft": (c.end - now).whole_days(),
        "status": credential_status(c, now, warn),
    })
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
                super::trailing_name(c.display_name.as_deref()),
            ));
        }
        if let Some(place) = &file.key_held {
            out.push_str(&format!("  key: {place}\n"));
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
            "keyHeld": f.key_held,
            "credentials": f.credentials.iter().map(|c| credential_json(c, now, warn)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "errors": errors.iter().map(|(file, error)| json!({"file": file, "error": error})).collect::<Vec<_>>(),
    })
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

/// `manifest app-roles --merge MANIFEST`: the roles it added, disabled or removed, where the merged manifest went,
/// and the next step. `written` is the manifest's path when it was written (`--in-place` or `--out`).
pub fn app_roles_merge_text(
    outcome: &crate::workflow::app_roles::AppRolesOutcome,
    manifest: &std::path::Path,
    written: Option<&std::path::Path>,
) -> String {
    let mut out = format!("appRoles of {}\n", manifest.display());
    for change in &outcome.changes {
        let mark = match change.change {
            "added" => "+",
            "removed" => "-",
            _ => "~",
        };
        out.push_str(&format!(
            "{mark} role    {}  {}  ({})\n",
            change.id, change.value, change.change
        ));
    }
    if outcome.changes.is_empty() {
        out.push_str("  (no role changed)\n");
    }
    if let Some(backup) = &outcome.backup {
        out.push_str(&format!(
            "files\n  {}  the manifest as it was before this run\n",
            backup.display()
        ));
    }
    let added: Vec<&str> = outcome
        .changes
        .iter()
        .filter(|c| c.change == "added")
        .map(|c| c.value.as_str())
        .collect();
    match written {
        Some(path) => out.push_str(&format!(
            "next: apply {} (portal: App registrations > the API app > Manifest, or Graph PATCH){}\n",
            path.display(),
            match added.first() {
                Some(role) => format!(
                    "; then request a role for a client app: keycred manifest grant --api {} --client CLIENT.json \
                     --role {} --in-place",
                    crate::shell::word(&path.display().to_string()),
                    crate::shell::word(role)
                ),
                None => String::new(),
            }
        )),
        None => out.push_str(
            "the merged manifest was printed, not saved: --in-place writes it back (keeping a backup), --out FILE \
             writes it elsewhere\n",
        ),
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
