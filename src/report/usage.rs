//! `graph usage` and `graph retire`: each credential's last sign-in as Entra recorded it, and for `retire` what
//! was decided (and done) with each credential a newer one replaced, with the evidence behind it.

use serde_json::{json, Value};

use crate::time_fmt::rfc3339_utc;
use crate::usage::{ago, Decision, Evidence};
use crate::workflow::graph_retire::{AppUse, UseOutcome};

/// The outcome as text: per app its credentials, their last sign-ins and decisions, then the counts.
pub fn usage_text(outcome: &UseOutcome) -> String {
    let mut out = String::new();
    for app in &outcome.apps {
        app_lines(&mut out, app, outcome);
    }
    let count = |wanted: fn(&Decision) -> bool| {
        outcome
            .apps
            .iter()
            .flat_map(|a| &a.credentials)
            .filter(|c| c.decision.as_ref().is_some_and(wanted))
            .count()
    };
    let decided = outcome.apps.iter().any(|a| a.successor.is_some());
    if decided {
        let removed: usize = outcome.apps.iter().map(|a| a.removed.len()).sum();
        out.push_str(&format!(
            "{} app{}: {} credential{} {}, {} kept (in use, or not shown unused), {} failed\n",
            outcome.apps.len(),
            if outcome.apps.len() == 1 { "" } else { "s" },
            if outcome.applied {
                removed
            } else {
                count(|d| matches!(d, Decision::Retire { .. }))
            },
            if removed == 1 { "" } else { "s" },
            if outcome.applied {
                "retired"
            } else {
                "to retire (run again with --apply)"
            },
            count(|d| matches!(d, Decision::Keep { .. })),
            outcome.apps.iter().filter(|a| a.error.is_some()).count()
        ));
    }
    out
}

fn app_lines(out: &mut String, app: &AppUse, outcome: &UseOutcome) {
    let now = outcome.now;
    out.push_str(&format!(
        "{}  {}\n",
        super::one_line(&app.app_id),
        super::name_or_none(app.display_name.as_deref())
    ));
    for entry in &app.credentials {
        let c = &entry.credential;
        let key_id = c
            .key_id
            .map(|k| k.to_string())
            .unwrap_or_else(|| "-".into());
        let role = if app.successor == c.key_id && c.key_id.is_some() {
            "new "
        } else {
            "cert"
        };
        out.push_str(&format!(
            "  {role}  keyId {key_id}  {} to {}  {}\n",
            rfc3339_utc(c.start),
            rfc3339_utc(c.end),
            match entry.seen {
                Some(seen) => format!(
                    "last sign-in {} ({} ago, {})",
                    rfc3339_utc(seen.at),
                    ago(now - seen.at),
                    seen.source.as_str()
                ),
                None => match &app.evidence {
                    Some(Evidence::Read { .. }) => match app.since {
                        Some(since) => format!(
                            "not seen (not in the report, nor in the sign-in log since {})",
                            rfc3339_utc(since)
                        ),
                        None => "not seen in the evidence".into(),
                    },
                    _ => "no evidence".into(),
                },
            }
        ));
        match &entry.decision {
            Some(Decision::Retire { why, .. })
                if app.removed.iter().any(|k| Some(*k) == c.key_id) =>
            {
                out.push_str(&format!("        retired: {why}\n"))
            }
            Some(Decision::Retire { why, .. }) => out.push_str(&format!(
                "        retire{}: {why}\n",
                if outcome.applied {
                    " (not sent)"
                } else {
                    " with --apply"
                }
            )),
            Some(Decision::Keep { why, .. }) => out.push_str(&format!("        keep: {why}\n")),
            None => {}
        }
    }
    if let Some(evidence) = &app.evidence {
        out.push_str(&format!("  evidence: {}\n", evidence.freshness(now)));
    }
    if let Some(note) = &app.note {
        out.push_str(&format!("  {note}\n"));
    }
    if let Some(error) = &app.error {
        out.push_str(&format!("  error: {error}\n"));
    }
}

/// The outcome as JSON: per app every credential with its last sign-in, and each decision with its evidence.
pub fn usage_json(outcome: &UseOutcome) -> Value {
    let now = outcome.now;
    json!({
        "checkedAt": rfc3339_utc(now),
        "applied": outcome.applied,
        "apps": outcome.apps.iter().map(|app| json!({
            "id": app.id,
            "appId": app.app_id,
            "displayName": app.display_name,
            "successor": app.successor,
            "evidence": app.evidence.as_ref().map(|e| match e {
                Evidence::Unavailable(why) => json!({"available": false, "why": why}),
                Evidence::Read { newest, .. } => json!({
                    "available": true,
                    "newestSignIn": newest.map(rfc3339_utc),
                    "freshness": e.freshness(now),
                }),
            }),
            "credentials": app.credentials.iter().map(|entry| json!({
                "keyId": entry.credential.key_id,
                "startDateTime": rfc3339_utc(entry.credential.start),
                "endDateTime": rfc3339_utc(entry.credential.end),
                "lastSignIn": entry.seen.map(|s| json!({"at": rfc3339_utc(s.at), "source": s.source.as_str()})),
                "decision": entry.decision.as_ref().map(|d| match d {
                    Decision::Retire { why, on_timer } => json!({"action": "retire", "why": why, "onTimer": on_timer}),
                    Decision::Keep { why, in_use } => json!({"action": "keep", "why": why, "inUse": in_use}),
                }),
            })).collect::<Vec<_>>(),
            "removed": app.removed,
            "note": app.note,
            "error": app.error.as_ref().map(ToString::to_string),
        })).collect::<Vec<_>>(),
    })
}
