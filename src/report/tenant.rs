//! The tenant scan (`keycred graph apps`): one line per app with its verdict, then one per certificate and per
//! secret; or JSON for monitoring.

use serde_json::{json, Value};

use super::manifest::{credential_json, credential_status};
use crate::rules::Rules;
use crate::time_fmt::rfc3339_utc;
use crate::workflow::tenant::{AppSummary, ScanOutcome, SecretSummary};

/// One app of `graph apps` as text: its verdict line, then a line per certificate and per secret.
pub fn app_text(app: &AppSummary, now: time::OffsetDateTime, warn: time::Duration) -> String {
    let mut out = format!(
        "{}  {}  {}{}\n",
        super::one_line(&app.app_id),
        super::name_or_none(app.display_name.as_deref()),
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
    );
    for problem in &app.problems {
        out.push_str(&format!("  problem: {}\n", super::one_line(problem)));
    }
    match &app.owners {
        Some(owners) if owners.is_empty() => {
            out.push_str("  owners  none: nobody gets Entra's expiry mail\n")
        }
        Some(owners) => out.push_str(&format!("  owners  {}\n", owner_names(owners, ", "))),
        None => {}
    }
    if let Some(count @ 1..) = app.federated_credentials {
        out.push_str(&format!(
            "  federated  {count} (federated credentials do not expire)\n"
        ));
    }
    if let Some(Rules::Known(rules)) = &app.rules {
        for rule in rule_lines(rules) {
            out.push_str(&format!("  rules   {}\n", super::one_line(&rule)));
        }
    }
    for finding in &app.findings {
        out.push_str(&format!("  rule    {}\n", super::one_line(finding)));
    }
    for c in &app.certificates {
        out.push_str(&format!(
            "  {}    {}  {}  ends {}  {:>5} days  {}{}\n",
            // A signing key (SAML, token signing) is shown as what it is: never a client credential.
            if c.signs() { "sign" } else { "cert" },
            c.thumbprint
                .map(|t| crate::credential::thumbprint::upper_hex(&t))
                .unwrap_or_else(|| "(no thumbprint)".into()),
            c.key_id
                .map(|id| id.to_string())
                .unwrap_or_else(|| "-".into()),
            rfc3339_utc(c.end),
            (c.end - now).whole_days(),
            credential_status(c, now, warn),
            super::trailing_name(c.display_name.as_deref())
        ));
    }
    for (c, place) in app.certificates.iter().zip(&app.key_places) {
        if let Some(place) = place {
            out.push_str(&format!(
                "  key     {}  in Key Vault, not exportable: {place}\n",
                c.key_id
                    .map(|id| id.to_string())
                    .unwrap_or_else(|| "-".into()),
            ));
        }
    }
    for (c, seen) in app.certificates.iter().zip(&app.last_sign_ins) {
        out.push_str(&format!(
            "  used    {}  {}\n",
            c.key_id
                .map(|id| id.to_string())
                .unwrap_or_else(|| "-".into()),
            match seen {
                Some(seen) => format!(
                    "last sign-in {} ({} ago, {})",
                    rfc3339_utc(seen.at),
                    crate::usage::ago(now - seen.at),
                    seen.source.as_str()
                ),
                None => "not seen in the sign-in activity report".into(),
            }
        ));
    }
    for s in &app.secrets {
        out.push_str(&format!(
            "  secret  {}  ends {}{}\n",
            super::one_line(s.key_id.as_deref().unwrap_or("-")),
            s.end.map(rfc3339_utc).unwrap_or_else(|| "-".into()),
            super::trailing_name(s.display_name.as_deref())
        ));
    }
    out
}

/// The columns of `graph apps --format csv`, one row per credential.
pub fn apps_csv_header() -> String {
    "appId,objectId,displayName,verdict,kind,keyId,thumbprint,startDateTime,endDateTime,daysLeft,status,name,owners,\
     federatedCredentials\n"
        .into()
}

/// One app's rows of `graph apps --format csv`: each certificate, each secret, or one row when it holds none.
pub fn apps_csv_rows(app: &AppSummary, now: time::OffsetDateTime, warn: time::Duration) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let head = || -> Vec<String> {
        vec![
            app.app_id.clone(),
            app.id.clone(),
            app.display_name.clone().unwrap_or_default(),
            app.verdict.as_str().to_owned(),
        ]
    };
    for c in &app.certificates {
        let mut row = head();
        row.extend([
            if c.signs() {
                "signing key"
            } else {
                "certificate"
            }
            .to_owned(),
            c.key_id.map(|k| k.to_string()).unwrap_or_default(),
            c.thumbprint
                .map(|t| crate::credential::thumbprint::upper_hex(&t))
                .unwrap_or_default(),
            rfc3339_utc(c.start),
            rfc3339_utc(c.end),
            (c.end - now).whole_days().to_string(),
            credential_status(c, now, warn).to_owned(),
            c.display_name.clone().unwrap_or_default(),
        ]);
        rows.push(row);
    }
    for s in &app.secrets {
        let mut row = head();
        row.extend([
            "secret".to_owned(),
            s.key_id.clone().unwrap_or_default(),
            String::new(),
            String::new(),
            s.end.map(rfc3339_utc).unwrap_or_default(),
            s.end
                .map(|e| (e - now).whole_days().to_string())
                .unwrap_or_default(),
            String::new(),
            s.display_name.clone().unwrap_or_default(),
        ]);
        rows.push(row);
    }
    if rows.is_empty() {
        let mut row = head();
        row.extend(
            ["none".to_owned()]
                .into_iter()
                .chain(std::iter::repeat_n(String::new(), 7)),
        );
        rows.push(row);
    }
    // Who owns the app and its federated credentials, on each of its rows; empty where not read.
    let owners = app
        .owners
        .as_ref()
        .map_or(String::new(), |owners| owner_names(owners, "; "));
    let federated = app
        .federated_credentials
        .map_or(String::new(), |n| n.to_string());
    // daysLeft (column 10) is a number keycred computed, negative once a credential has ended: never guarded.
    rows.iter()
        .map(|row| {
            row.iter()
                .chain([&owners, &federated])
                .enumerate()
                .map(|(i, cell)| csv_cell(cell, i != 9))
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect()
}

/// An app's owners in one line, each with its kind; "none" for an app nobody owns.
fn owner_names(owners: &[crate::workflow::app_relations::Owner], separator: &str) -> String {
    if owners.is_empty() {
        return "none".into();
    }
    owners
        .iter()
        .map(|o| {
            format!(
                "{} ({})",
                super::one_line(o.name.as_deref().unwrap_or(&o.id)),
                o.kind.describe()
            )
        })
        .collect::<Vec<_>>()
        .join(separator)
}

/// A CSV cell: quoted when it holds a comma, a quote or a line break, and (with `guard`) prefixed with `'` when a
/// spreadsheet would run it as a formula (a display name from Graph is anyone's text).
fn csv_cell(text: &str, guard: bool) -> String {
    let text = if guard && text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// What an app's rules mean for its next certificate, one line each ("at most P180D (180 days): policy …").
fn rule_lines(rules: &crate::rules::AppRules) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(limit) = &rules.lifetime {
        lines.push(format!(
            "next certificate at most {} days: {}",
            limit.whole_days(),
            limit.rule()
        ));
    }
    if rules.trusted_ca.is_some() {
        lines.push("CA required: certificates must come from a CA the tenant trusts".into());
    }
    if rules.no_new_secrets {
        lines.push("no new client secrets".into());
    }
    for rule in &rules.grandfathered {
        lines.push(format!("not applied to it: {rule}"));
    }
    lines
}

/// The closing line of `graph apps` as text: the counts.
pub fn scan_summary_text(outcome: &ScanOutcome) -> String {
    use crate::rotation::Verdict;
    format!(
        "{} app{}: {} healthy, {} renewal due, {} expired, {} not yet valid, {} without a certificate{}; {} with \
         secrets ({} page{})\n",
        outcome.apps,
        if outcome.apps == 1 { "" } else { "s" },
        outcome.count(Verdict::Healthy),
        outcome.count(Verdict::RenewalDue),
        outcome.count(Verdict::Expired),
        outcome.count(Verdict::NotYetValid),
        outcome.count(Verdict::NoCredentials),
        if outcome.count(Verdict::NoCredentials) > 0 && !outcome.no_credential_counts {
            " (listed, not counted in the exit code: --require-credential counts them)"
        } else {
            ""
        },
        outcome.with_secrets,
        outcome.pages,
        if outcome.pages == 1 { "" } else { "s" }
    ) + &outcome
        .without_owner
        .filter(|n| *n > 0)
        .map(|n| {
            format!(
                "{n} app{} without an owner: nobody gets Entra's expiry mail for {}\n",
                if n == 1 { "" } else { "s" },
                if n == 1 { "it" } else { "them" }
            )
        })
        .unwrap_or_default()
        + &outcome
            .rules_unknown
        .as_ref()
        .map(|why| format!("rules unknown: {why}\n"))
        .unwrap_or_default()
        + &outcome
            .usage_unknown
            .as_ref()
            .map(|why| format!("usage unknown: {why}\n"))
            .unwrap_or_default()
        + &outcome
            .since_last
            .as_ref()
            .map(since_last_line)
            .unwrap_or_default()
}

/// What a `--since-last` run read of the tenant, as `--json` gives it.
pub(crate) fn since_last_json(read: &crate::workflow::scan_state::SinceLast) -> Value {
    json!({
        "full": read.full.is_some(),
        "why": read.full,
        "changed": read.changed,
        "removed": read.removed,
    })
}

/// What a `--since-last` run read of the tenant.
pub(crate) fn since_last_line(read: &crate::workflow::scan_state::SinceLast) -> String {
    match &read.full {
        Some(why) => format!("since last: {why}; the next --since-last run reads only what changes\n"),
        None => format!(
            "since last: {} app{} changed, {} removed since the last run (Graph's delta); every app judged now\n",
            read.changed,
            if read.changed == 1 { "" } else { "s" },
            read.removed
        ),
    }
}

/// `graph apps --json`, written as the apps arrive: [`apps_json_start`], one [`apps_json_entry`] per app, then
/// [`apps_json_end`] make one JSON object.
pub fn apps_json_start(now: time::OffsetDateTime, warn: time::Duration) -> String {
    format!(
        "{{\n  \"checkedAt\": \"{}\",\n  \"warnDays\": {},\n  \"apps\": [",
        rfc3339_utc(now),
        warn.whole_days()
    )
}

/// One app of `graph apps --json`; `first` for the first one (no comma before it).
pub fn apps_json_entry(
    app: &AppSummary,
    now: time::OffsetDateTime,
    warn: time::Duration,
    first: bool,
) -> String {
    let pretty =
        serde_json::to_string_pretty(&app_json(app, now, warn)).expect("JSON values serialize");
    let indented: Vec<String> = pretty.lines().map(|l| format!("    {l}")).collect();
    format!("{}\n{}", if first { "" } else { "," }, indented.join("\n"))
}

/// The end of `graph apps --json`: the counts.
pub fn apps_json_end(outcome: &ScanOutcome, any: bool) -> String {
    format!(
        "{}],\n  \"complete\": true,\n  \"pages\": {},\n  \"rulesUnknown\": {},\n  \"usageUnknown\": {},\n  \"sinceLast\": {},\n  \"withoutOwner\": {},\n  \"exitCode\": {}\n}}\n",
        if any { "\n  " } else { "" },
        outcome.pages,
        json!(outcome.rules_unknown),
        json!(outcome.usage_unknown),
        outcome.since_last.as_ref().map_or(Value::Null, since_last_json),
        json!(outcome.without_owner),
        outcome.exit_code
    )
}

/// The end of `graph apps --json` when Graph (or the connection) stopped the scan: the apps printed so far stand,
/// and the document says it is incomplete and why, so that it stays JSON a script can read.
pub fn apps_json_stopped(error: &crate::Error, any: bool) -> String {
    format!(
        "{}],\n  \"complete\": false,\n  \"error\": {},\n  \"exitCode\": {}\n}}\n",
        if any { "\n  " } else { "" },
        Value::String(error.to_string()),
        error.exit_code()
    )
}

fn app_json(app: &AppSummary, now: time::OffsetDateTime, warn: time::Duration) -> Value {
    let mut value = json!({
        "id": app.id,
        "appId": app.app_id,
        "displayName": app.display_name,
        "verdict": app.verdict.as_str(),
        "problems": app.problems,
        "certificates": app.certificates.iter().map(|c| credential_json(c, now, warn)).collect::<Vec<_>>(),
        "secrets": app.secrets.iter().map(secret_json).collect::<Vec<_>>(),
        "rules": app.rules.as_ref().map(rules_json),
        "lastSignIns": app.certificates.iter().zip(&app.last_sign_ins).map(|(c, seen)| json!({
            "keyId": c.key_id,
            "at": seen.map(|s| rfc3339_utc(s.at)),
            "source": seen.map(|s| s.source.as_str()),
        })).collect::<Vec<_>>(),
        "ruleFindings": app.findings,
    });
    if !app.key_places.is_empty() {
        value["keysInVault"] = app
            .certificates
            .iter()
            .zip(&app.key_places)
            .map(|(c, place)| json!({"keyId": c.key_id, "in": place}))
            .collect();
    }
    if let Some(owners) = &app.owners {
        value["owners"] = owners
            .iter()
            .map(|o| json!({"type": o.kind.as_str(), "id": o.id, "name": o.name}))
            .collect();
    }
    if let Some(count) = app.federated_credentials {
        value["federatedIdentityCredentials"] = json!(count);
    }
    value
}

fn secret_json(secret: &SecretSummary) -> Value {
    json!({
        "keyId": secret.key_id,
        "displayName": secret.display_name,
        "endDateTime": secret.end.map(rfc3339_utc),
    })
}

/// An app's rules as `--json` gives them.
pub(crate) fn rules_json(rules: &Rules) -> Value {
    match rules {
        Rules::Unknown(why) => json!({"known": false, "why": why}),
        Rules::Known(rules) => json!({
            "known": true,
            "maxLifetime": rules.lifetime.as_ref().map(|l| json!({
                "duration": l.text,
                "days": l.whole_days(),
                "rule": l.rule().to_string(),
            })),
            "trustedCertificateAuthority": rules.trusted_ca.is_some(),
            "noNewSecrets": rules.no_new_secrets,
            "secretLifetime": rules.secret_lifetime,
            "notApplied": rules.grandfathered,
        }),
    }
}
