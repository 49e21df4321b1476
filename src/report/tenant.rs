//! The tenant scan (`keycred graph apps`): one line per app with its verdict, then one per certificate and per
//! secret; or JSON for monitoring.

use serde_json::{json, Value};

use super::manifest::credential_status;
use crate::time_fmt::rfc3339_utc;
use crate::workflow::tenant::{AppSummary, ScanOutcome, SecretSummary};

/// `graph apps` as text.
pub fn apps_text(outcome: &ScanOutcome, warn: time::Duration) -> String {
    let now = outcome.now;
    let mut out = String::new();
    for app in &outcome.apps {
        out.push_str(&format!(
            "{}  {}  {}{}\n",
            app.app_id,
            app.display_name.as_deref().unwrap_or("(no name)"),
            app.verdict.describe(),
            if app.secrets.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} secret{} (a certificate is safer)",
                    app.secrets.len(),
                    if app.secrets.len() == 1 { "" } else { "s" }
                )
            }
        ));
        for problem in &app.problems {
            out.push_str(&format!("  problem: {problem}\n"));
        }
        for c in &app.certificates {
            out.push_str(&format!(
                "  cert    {}  {}  ends {}  {:>5} days  {}{}\n",
                c.thumbprint
                    .map(|t| crate::credential::thumbprint::upper_hex(&t))
                    .unwrap_or_else(|| "(no thumbprint)".into()),
                c.key_id
                    .map(|id| id.to_string())
                    .unwrap_or_else(|| "-".into()),
                rfc3339_utc(c.end),
                (c.end - now).whole_days(),
                credential_status(c, now, warn),
                c.display_name
                    .as_deref()
                    .map(|n| format!("  {n}"))
                    .unwrap_or_default()
            ));
        }
        for s in &app.secrets {
            out.push_str(&format!(
                "  secret  {}  ends {}{}\n",
                s.key_id.as_deref().unwrap_or("-"),
                s.end.map(rfc3339_utc).unwrap_or_else(|| "-".into()),
                s.display_name
                    .as_deref()
                    .map(|n| format!("  {n}"))
                    .unwrap_or_default()
            ));
        }
    }
    let count = |verdict: crate::rotation::Verdict| {
        outcome.apps.iter().filter(|a| a.verdict == verdict).count()
    };
    use crate::rotation::Verdict;
    out.push_str(&format!(
        "{} apps: {} healthy, {} renewal due, {} expired, {} not yet valid, {} without a certificate; {} with \
         secrets ({} pages)\n",
        outcome.apps.len(),
        count(Verdict::Healthy),
        count(Verdict::RenewalDue),
        count(Verdict::Expired),
        count(Verdict::NotYetValid),
        count(Verdict::NoCredentials),
        outcome.apps.iter().filter(|a| !a.secrets.is_empty()).count(),
        outcome.pages
    ));
    out
}

fn app_json(app: &AppSummary, now: time::OffsetDateTime, warn: time::Duration) -> Value {
    json!({
        "id": app.id,
        "appId": app.app_id,
        "displayName": app.display_name,
        "verdict": app.verdict.as_str(),
        "problems": app.problems,
        "certificates": app.certificates.iter().map(|c| json!({
            "keyId": c.key_id,
            "displayName": c.display_name,
            "thumbprint": c.thumbprint.map(|t| crate::credential::thumbprint::upper_hex(&t)),
            "startDateTime": rfc3339_utc(c.start),
            "endDateTime": rfc3339_utc(c.end),
            "daysLeft": (c.end - now).whole_days(),
            "status": credential_status(c, now, warn),
        })).collect::<Vec<_>>(),
        "secrets": app.secrets.iter().map(secret_json).collect::<Vec<_>>(),
    })
}

/// `graph apps --json`.
pub fn apps_json(outcome: &ScanOutcome, warn: time::Duration) -> Value {
    json!({
        "checkedAt": rfc3339_utc(outcome.now),
        "warnDays": warn.whole_days(),
        "exitCode": outcome.exit_code,
        "pages": outcome.pages,
        "apps": outcome.apps.iter().map(|a| app_json(a, outcome.now, warn)).collect::<Vec<_>>(),
    })
}

fn secret_json(secret: &SecretSummary) -> Value {
    json!({
        "keyId": secret.key_id,
        "displayName": secret.display_name,
        "endDateTime": secret.end.map(rfc3339_utc),
    })
}
