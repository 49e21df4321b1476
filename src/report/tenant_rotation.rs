//! `keycred graph rotate`'s report: per app what was planned or done, the cost in Graph's budget, and what to do
//! next; text for people, JSON for scripts.

use serde_json::{json, Value};

use super::tenant::{rules_json, since_last_json, since_last_line};
use crate::rotation::Disposition;
use crate::rules::Rules;
use crate::time_fmt::rfc3339_utc;
use crate::workflow::graph_rotate::GraphRotateOutcome;

/// `graph rotate --json`: per app what was planned or done.
pub fn rotate_json(outcome: &GraphRotateOutcome) -> Value {
    json!({
        "applied": outcome.applied,
        "checkedAt": rfc3339_utc(outcome.now),
        "interruptedBy": outcome.interrupted_by.map(crate::interrupt::signal_name),
        "apps": outcome.apps.iter().map(|a| json!({
            "id": a.id,
            "appId": a.app_id,
            "displayName": a.display_name,
            "result": a.action.as_str(),
            "added": a.added.as_ref().map(|(cert, key_id)| json!({
                "keyId": key_id,
                "thumbprint": cert.thumbprints.render(crate::credential::ThumbprintForm::Hex),
                "endDateTime": crate::time_fmt::rfc3339_utc(cert.not_after),
                "reused": a.reused,
            })).or_else(|| a.to_make.as_ref().map(super::rotation::to_make_json)),
            "removed": a.plan.as_ref().map(|p| a.existing.iter().zip(&p.existing)
                .filter_map(|(c, d)| match d {
                    Disposition::Remove(reason) => Some(json!({"keyId": c.key_id, "reason": reason})),
                    Disposition::Keep => None,
                }).collect::<Vec<_>>()).unwrap_or_default(),
            "skipped": a.plan.as_ref().and_then(|p| p.skipped.clone()),
            "files": super::files_json(&a.files),
            "keyVault": a.in_vault.as_ref().map(|held| json!({
                "vault": held.vault, "name": held.name, "version": held.version, "kid": held.kid, "exportable": false,
            })),
            "verified": a.verified,
            "retired": a.retired,
            "finishing": a.finishing,
            "ca": a.ca.as_ref().map(super::rotation::ca_step_json),
            "rules": a.rules.as_ref().map(rules_json),
            "notes": a.notes,
            "error": a.error.as_ref().map(ToString::to_string),
        })).collect::<Vec<_>>(),
        "graph": cost_json(&outcome.cost),
        "sinceLast": outcome.since_last.as_ref().map(since_last_json),
    })
}

/// What the run spent of Graph's budget, and what `--apply` will, as `--json` gives them.
fn cost_json(cost: &crate::workflow::graph_rotate::RunCost) -> Value {
    let spent = |s: &crate::graph::Spent| json!({"keyReads": s.key_reads, "reads": s.reads, "writes": s.writes});
    json!({
        "requests": spent(&cost.spent),
        "seconds": cost.elapsed.as_secs_f64(),
        "budgetPercent": cost.share,
        "apply": cost.apply.map(|e| json!({
            "requests": spent(&e.spend),
            "leastSeconds": e.least.as_secs(),
            "setBy": e.limit.describe(),
        })),
    })
}

/// A duration as a person reads it: "under a second", "40 s", "7 min", "2 h 5 min".
fn about(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0 => "under a second".to_owned(),
        1..=119 => format!("{seconds} s"),
        120..=7199 => format!("{} min", seconds.div_ceil(60)),
        _ => format!("{} h {} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

/// The run's cost in Graph's budget, and for a plan what `--apply` will cost, in one or two lines.
fn cost_lines(cost: &crate::workflow::graph_rotate::RunCost) -> String {
    let requests = |s: &crate::graph::Spent| {
        format!(
            "{} request{} ({} of keys, {} other reads, {} writes)",
            s.total(),
            if s.total() == 1 { "" } else { "s" },
            s.key_reads,
            s.reads,
            s.writes
        )
    };
    let mut out = format!(
        "Graph: {} in {}, paced within {}% of Graph's limits (--budget)\n",
        requests(&cost.spent),
        about(cost.elapsed),
        cost.share
    );
    if let Some(estimate) = &cost.apply {
        out.push_str(&format!(
            "--apply will send about {}: {}\n",
            requests(&estimate.spend),
            if estimate.least.is_zero() {
                "within Graph's limits without waiting".to_owned()
            } else {
                format!(
                    "about {} at {}% of {}",
                    about(estimate.least),
                    estimate.share,
                    estimate.limit.describe()
                )
            }
        ));
    }
    out
}

/// After an admin's rotation, where the new key must go before the credential it replaces can go: the key is
/// only in `--out`, and the app's daemon still signs with the old one.
fn deploy_step(app: &crate::workflow::graph_rotate::AppRotation) -> String {
    use crate::provision::FileRole;
    if app.action != crate::workflow::graph_rotate::AppAction::Rotated || app.added.is_none() {
        return String::new();
    }
    let Some((_, key)) = [FileRole::Pfx, FileRole::Bundle, FileRole::Key]
        .iter()
        .find_map(|role| app.files.iter().find(|(r, _)| r == role))
    else {
        return String::new();
    };
    let replaced = app
        .plan
        .as_ref()
        .and_then(|p| p.current.filter(|i| p.existing[*i] == Disposition::Keep))
        .and_then(|i| app.existing.get(i)?.key_id);
    format!(
        "    next: deploy {key} where the app runs{}\n",
        match replaced {
            Some(id) => format!(
                "; then remove keyId {id}, which the new certificate replaces, once nothing signs in with it"
            ),
            None => String::new(),
        }
    )
}

/// One app's lines in `graph rotate`'s text: its verdict, its credentials' fate, files, verification, errors.
fn app_lines(
    out: &mut String,
    app: &crate::workflow::graph_rotate::AppRotation,
    now: time::OffsetDateTime,
    self_service: bool,
) {
    out.push_str(&format!(
        "{}  {}  {}\n",
        super::one_line(app.label()),
        super::name_or_none(app.display_name.as_deref()),
        match app.action {
            crate::workflow::graph_rotate::AppAction::Planned =>
                "planned (run with --apply to send it)",
            action => action.as_str(),
        }
    ));
    if let Some(plan) = &app.plan {
        for (c, d) in app.existing.iter().zip(&plan.existing) {
            let line = super::rotation::credential_line(c, now);
            match d {
                Disposition::Keep => out.push_str(&format!("    keep    {line}\n")),
                Disposition::Remove(reason) => {
                    out.push_str(&format!("  - remove  {line} [{reason}]\n"))
                }
            }
        }
        match (&app.added, &app.to_make, &plan.skipped) {
            (Some((cert, key_id)), _, _) => out.push_str(&format!(
                "  + add     {}  keyId {key_id}  {} to {}  {}{}\n",
                cert.thumbprints
                    .render(crate::credential::ThumbprintForm::Hex),
                rfc3339_utc(cert.not_before),
                rfc3339_utc(cert.not_after),
                cert.subject,
                if app.reused {
                    "  (made by an earlier run, not yet on the app)"
                } else {
                    ""
                }
            )),
            (None, Some(to_make), _) => out.push_str(&format!(
                "  {}",
                super::rotation::to_make_line(to_make, "with --apply")
            )),
            (None, None, Some(skipped)) => {
                out.push_str(&format!("    (nothing added: {skipped})\n"))
            }
            (None, None, None) => {}
        }
    }
    match &app.rules {
        Some(Rules::Unknown(_)) => out.push_str("    rules   unknown (see the end)\n"),
        Some(Rules::Known(rules)) => {
            if rules.trusted_ca.is_some() {
                out.push_str("    rules   certificates must come from a CA the tenant trusts\n");
            }
            for rule in &rules.grandfathered {
                out.push_str(&format!("    rules   not applied to it: {rule}\n"));
            }
            if rules.lifetime.is_none()
                && rules.trusted_ca.is_none()
                && rules.grandfathered.is_empty()
            {
                out.push_str("    rules   none limit its certificates\n");
            }
        }
        None => {}
    }
    for note in &app.notes {
        out.push_str(&format!("    note    {note}\n"));
    }
    for (_, path) in &app.files {
        if app.action == crate::workflow::graph_rotate::AppAction::Planned {
            out.push_str(&format!("    would write {path}\n"));
        } else {
            out.push_str(&format!("    file    {path}\n"));
        }
    }
    if let Some(held) = &app.in_vault {
        out.push_str(&format!(
            "    key     in Key Vault, not exportable: {}/certificates/{}/{}\n",
            held.vault, held.name, held.version
        ));
    }
    if let Some(key_id) = app.finishing {
        out.push_str(&format!(
            "    finish  keyId {key_id}: an earlier run added it and stopped before verifying it; {}\n",
            if app.action == crate::workflow::graph_rotate::AppAction::Planned {
                "--apply verifies it (and with --retire-previous removes the credential it replaced)"
            } else {
                "verified by this run"
            }
        ));
    }
    match app.verified {
        Some(true) => out.push_str("    verified: the new certificate got a token\n"),
        Some(false) => out.push_str("    NOT verified: the new certificate got no token\n"),
        None => {}
    }
    if let Some(retired) = &app.retired {
        out.push_str(&format!(
            "    retired keyId {retired} (the credential the new one replaces)\n"
        ));
    }
    if let Some(error) = &app.error {
        out.push_str(&format!("  error: {error}\n"));
    }
    if !self_service {
        out.push_str(&deploy_step(app));
    }
}

/// `graph rotate` as text: per app its keyCredentials diff as `rotate` shows it, then the counts.
pub fn rotate_text(outcome: &GraphRotateOutcome) -> String {
    let mut out = String::new();
    for app in &outcome.apps {
        app_lines(&mut out, app, outcome.now, outcome.self_service);
    }
    let count = |action: crate::workflow::graph_rotate::AppAction| {
        outcome.apps.iter().filter(|a| a.action == action).count()
    };
    use crate::workflow::graph_rotate::AppAction;
    out.push_str(&format!(
        "{} app{}: {} rotated, {}{} planned, {} skipped, {} failed{}{}{}{}\n",
        outcome.apps.len(),
        if outcome.apps.len() == 1 { "" } else { "s" },
        count(AppAction::Rotated),
        match count(AppAction::Finished) {
            0 => String::new(),
            n => format!("{n} finished (an earlier run's addition verified), "),
        },
        count(AppAction::Planned),
        count(AppAction::Skipped),
        count(AppAction::Failed),
        match count(AppAction::NoCertificate) {
            0 => String::new(),
            n => format!(
                ", {n} without a certificate left alone (--app ID or --include-without-certificate gives {} one)",
                if n == 1 { "it" } else { "each" }
            ),
        },
        match (count(AppAction::Requested), count(AppAction::Waiting)) {
            (0, 0) => String::new(),
            (requested, waiting) =>
                format!(", {requested} requested from the CA, {waiting} waiting for its answer"),
        },
        match outcome.interrupted_by {
            Some(signal) => format!(
                ", {} not started: stopped by {}",
                count(AppAction::NotStarted),
                crate::interrupt::signal_name(signal)
            ),
            None => String::new(),
        },
        if outcome.applied {
            ""
        } else {
            "; nothing was sent: run again with --apply"
        }
    ));
    // Said once for the run: why the tenant's rules are unknown, and how many apps were planned without them.
    let unknown: Vec<&String> = outcome
        .apps
        .iter()
        .filter_map(|a| match &a.rules {
            Some(Rules::Unknown(why)) => Some(why),
            _ => None,
        })
        .collect();
    if let Some(why) = unknown.first() {
        out.push_str(&format!(
            "rules unknown for {} app{}: {why}\n",
            unknown.len(),
            if unknown.len() == 1 { "" } else { "s" }
        ));
    }
    if let Some(read) = &outcome.since_last {
        out.push_str(&since_last_line(read));
    }
    out.push_str(&cost_lines(&outcome.cost));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Estimate, Limit, Spent};
    use std::time::Duration;

    #[test]
    fn a_plan_says_what_the_run_spent_and_what_apply_will_cost() {
        let cost = crate::workflow::graph_rotate::RunCost {
            spent: Spent {
                key_reads: 1000,
                reads: 7,
                writes: 0,
            },
            elapsed: Duration::from_secs(412),
            share: 90,
            apply: Some(Estimate {
                spend: Spent {
                    key_reads: 1000,
                    reads: 2007,
                    writes: 1000,
                },
                least: Duration::from_secs(420),
                limit: Limit::KeyReads,
                share: 90,
            }),
        };
        assert_eq!(
            cost_lines(&cost),
            "Graph: 1007 requests (1000 of keys, 7 other reads, 0 writes) in 7 min, paced within 90% of Graph's \
             limits (--budget)\n--apply will send about 4007 requests (1000 of keys, 2007 other reads, 1000 writes): \
             about 7 min at 90% of Graph's limit for reading keys (150 a minute per tenant)\n"
        );
        assert_eq!(about(Duration::from_millis(300)), "under a second");
        assert_eq!(about(Duration::from_secs(45)), "45 s");
        assert_eq!(about(Duration::from_secs(7500)), "2 h 5 min");
    }
}
