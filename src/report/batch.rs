//! `batch`'s report (`--json`, `--report`) and its summary for people: a table of the apps, one line of counts,
//! and the secrets advice once per kind of files written.

use serde_json::{json, Value};

use crate::provision::FileRole;
use crate::workflow::batch_app::AppResult;
use crate::workflow::batch_run::{BatchAction, BatchAppResult, BatchOutcome};

/// The report: what `--json` prints and `--report` writes.
pub fn batch_json(outcome: &BatchOutcome) -> Value {
    let count = |action| outcome.count(action);
    json!({
        "plan": outcome.plan,
        "startedAt": crate::time_fmt::rfc3339_utc(outcome.started),
        "finishedAt": crate::time_fmt::rfc3339_utc(outcome.finished),
        "jobs": outcome.jobs,
        "interruptedBy": outcome.interrupted_by.map(crate::error::signal_name),
        "counts": {
            "provisioned": count(BatchAction::Done(AppResult::Provisioned)),
            "rotated": count(BatchAction::Done(AppResult::Rotated)),
            "skipped": count(BatchAction::Done(AppResult::Skipped)),
            "requested": count(BatchAction::Done(AppResult::Requested)),
            "failed": count(BatchAction::Failed),
            "interrupted": count(BatchAction::Interrupted),
            "notStarted": count(BatchAction::NotStarted),
        },
        "apps": outcome.apps.iter().map(|r| json!({
            "name": r.name,
            "result": r.action.as_str(),
            "detail": r.detail,
            "thumbprint": r.thumbprint,
            "files": super::files_json(&r.files),
            "secrets": super::secrets_advice(&r.files),
            "seconds": (r.seconds * 1000.0).round() / 1000.0,
        })).collect::<Vec<Value>>(),
    })
}

/// The summary for people: the table, the counts, the secrets advice.
pub fn batch_text(outcome: &BatchOutcome) -> String {
    let count = |action| outcome.count(action);
    let mut out = summary_table(&outcome.apps);
    let mut line = format!(
        "{} apps: {} provisioned, {} rotated, {} skipped, {} failed",
        outcome.apps.len(),
        count(BatchAction::Done(AppResult::Provisioned)),
        count(BatchAction::Done(AppResult::Rotated)),
        count(BatchAction::Done(AppResult::Skipped)),
        count(BatchAction::Failed),
    );
    let requested = count(BatchAction::Done(AppResult::Requested));
    if requested > 0 {
        line.push_str(&format!(
            ", {requested} requested from the CA (run again once its answers are beside the requests)"
        ));
    }
    if let Some(signal) = outcome.interrupted_by {
        line.push_str(&format!(
            ", {} interrupted (nothing written), {} not started: stopped by {}",
            count(BatchAction::Interrupted),
            count(BatchAction::NotStarted),
            crate::error::signal_name(signal)
        ));
    }
    out.push_str(&format!("{line} ({} jobs)\n", outcome.jobs));
    out.push_str(&secrets_lines(&outcome.apps));
    out
}

/// The secrets advice of every app that wrote files, once per kind of advice: the first such app's lines, with
/// the other apps that wrote the same kinds of files named.
fn secrets_lines(results: &[BatchAppResult]) -> String {
    let mut groups: Vec<(Vec<FileRole>, &BatchAppResult, Vec<&str>)> = Vec::new();
    for r in results.iter().filter(|r| !r.files.is_empty()) {
        let roles: Vec<_> = r.files.iter().map(|(role, _)| *role).collect();
        match groups.iter_mut().find(|(g, _, _)| *g == roles) {
            Some((_, _, others)) => others.push(&r.name),
            None => groups.push((roles, r, Vec::new())),
        }
    }
    let mut out = String::new();
    for (_, first, others) in groups {
        for advice in super::secrets_advice(&first.files) {
            out.push_str(&advice);
            if !others.is_empty() {
                let shown: Vec<&str> = others.iter().take(5).copied().collect();
                let more = others.len() - shown.len();
                out.push_str(&format!(
                    " (likewise in the folders of {}{})",
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                ));
            }
            out.push('\n');
        }
    }
    out
}

fn summary_table(results: &[BatchAppResult]) -> String {
    let width = results
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!("{:<width$}  {:<11}  detail\n", "app", "result");
    for r in results {
        out.push_str(&format!(
            "{:<width$}  {:<11}  {}\n",
            r.name,
            r.action.as_str(),
            r.detail
        ));
    }
    out
}
