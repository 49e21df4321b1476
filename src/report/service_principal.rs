//! `keycred graph sps`: each service principal with its SAML signing certificates (the one in use marked), its
//! other certificates and secrets, and what to do; and the scan's summary.

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::credential::thumbprint::upper_hex;
use crate::rotation::Verdict;
use crate::signing::{Other, ServicePrincipalCredentials, SigningCertificate};
use crate::time_fmt::rfc3339_utc;
use crate::workflow::sp_scan::SpScanOutcome;

/// Where an admin renews a SAML signing certificate: keycred does not write service principals' `Sign` keys.
pub const RENEW_SAML: &str =
    "renew it in the portal (Enterprise applications > the app > Single sign-on > SAML \
Certificates > New Certificate, then Make certificate active), or POST \
/servicePrincipals/{id}/addTokenSigningCertificate and set preferredTokenSigningKeyThumbprint";

fn ends(end: Option<OffsetDateTime>, now: OffsetDateTime) -> String {
    match end {
        Some(end) => format!(
            "ends {}  {:>5} days",
            rfc3339_utc(end),
            (end - now).whole_days()
        ),
        None => "no end date".into(),
    }
}

fn standing(
    end: Option<OffsetDateTime>,
    now: OffsetDateTime,
    warn: time::Duration,
) -> &'static str {
    match crate::signing::judge(end, now, warn) {
        Verdict::NoCredentials => "unknown",
        Verdict::Expired => "expired",
        Verdict::RenewalDue => "renewal due",
        Verdict::Healthy | Verdict::NotYetValid => "valid",
    }
}

fn signing_line(g: &SigningCertificate, now: OffsetDateTime, warn: time::Duration) -> String {
    format!(
        "  saml    {}  {}  {}  {}{}\n",
        upper_hex(&g.thumbprint),
        ends(g.end, now),
        if g.active { "in use" } else { "not in use" },
        standing(g.end, now, warn),
        super::trailing_name(g.display_name.as_deref())
    )
}

fn other_line(o: &Other, now: OffsetDateTime, warn: time::Duration) -> String {
    format!(
        "  {:<6}  {}  {}  {}{}\n",
        match (o.kind, o.usage.as_deref()) {
            ("key", Some(u)) if u.eq_ignore_ascii_case("Sign") => "sign",
            ("key", _) => "cert",
            _ => "secret",
        },
        super::one_line(o.key_id.as_deref().unwrap_or("-")),
        ends(o.end, now),
        if o.self_managed {
            "self-managed (App Proxy renews it)"
        } else {
            standing(o.end, now, warn)
        },
        super::trailing_name(o.display_name.as_deref())
    )
}

/// One service principal, as text.
pub fn sp_text(
    sp: &ServicePrincipalCredentials,
    now: OffsetDateTime,
    warn: time::Duration,
) -> String {
    let mut out = format!(
        "{}  {}  {}{}\n",
        super::one_line(&sp.app_id),
        super::name_or_none(sp.display_name.as_deref()),
        sp.verdict.describe(),
        sp.kind
            .as_deref()
            .map(|k| format!("  ({k})"))
            .unwrap_or_default()
    );
    for problem in &sp.problems {
        out.push_str(&format!("  problem: {}\n", super::one_line(problem)));
    }
    for group in &sp.signing {
        out.push_str(&signing_line(group, now, warn));
    }
    for other in &sp.others {
        out.push_str(&other_line(other, now, warn));
    }
    let in_use = sp
        .signing
        .iter()
        .find(|g| g.active)
        .or_else(|| sp.signing.iter().max_by_key(|g| g.end));
    let healthy =
        |g: &SigningCertificate| crate::signing::judge(g.end, now, warn) == Verdict::Healthy;
    if let Some(group) = in_use.filter(|g| !healthy(g)) {
        let newer = sp
            .signing
            .iter()
            .any(|g| !g.active && g.end > group.end && healthy(g));
        out.push_str(&format!(
            "  next: {}\n",
            if newer {
                "a newer signing certificate is there: make it active (portal: Make certificate active), after the \
                 apps that trust the old one have the new one"
                    .to_owned()
            } else {
                RENEW_SAML.replace("{id}", &sp.id)
            }
        ));
    }
    out
}

/// One service principal, as `--json` gives it.
pub fn sp_json(
    sp: &ServicePrincipalCredentials,
    now: OffsetDateTime,
    warn: time::Duration,
) -> Value {
    json!({
        "id": sp.id,
        "appId": sp.app_id,
        "displayName": sp.display_name,
        "servicePrincipalType": sp.kind,
        "verdict": sp.verdict.describe(),
        "problems": sp.problems,
        "samlSigningCertificates": sp.signing.iter().map(|g| json!({
            "thumbprint": upper_hex(&g.thumbprint),
            "keyIds": g.key_ids,
            "parts": g.parts.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "missing": g.missing().iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "endDateTime": g.end.map(rfc3339_utc),
            "inUse": g.active,
            "status": standing(g.end, now, warn),
            "displayName": g.display_name,
        })).collect::<Vec<_>>(),
        "credentials": sp.others.iter().map(|o| json!({
            "kind": o.kind,
            "keyId": o.key_id,
            "usage": o.usage,
            "endDateTime": o.end.map(rfc3339_utc),
            "status": if o.self_managed { "self-managed" } else { standing(o.end, now, warn) },
            "displayName": o.display_name,
        })).collect::<Vec<_>>(),
    })
}

/// The scan's last line.
pub fn sps_summary_text(outcome: &SpScanOutcome) -> String {
    format!(
        "{} service principals read, {} with credentials: {} healthy, {} renewal due, {} expired, {} not yet valid, \
         {} with secrets or signing keys only; {} SAML signing certificates, {} in use\n",
        outcome.read,
        outcome.listed,
        outcome.by_verdict[0],
        outcome.by_verdict[1],
        outcome.by_verdict[3],
        outcome.by_verdict[2],
        outcome.by_verdict[4],
        outcome.signing.0,
        outcome.signing.1
    )
}
