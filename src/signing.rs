//! Service principals' credentials (DESIGN.md "Graph at tenant scale"), grouped as Graph makes them: a SAML
//! signing certificate made by `addTokenSigningCertificate` is a `Sign` entry, a `Verify` entry and a password,
//! all with one `customKeyIdentifier` (the Sign entry and the password sharing a keyId); the one in use is named by
//! the service principal's `preferredTokenSigningKeyThumbprint`. App Proxy's own secret (`CWAP_AuthSecret`) renews
//! itself. keycred reports these; it never writes them.
//!
//! Everything here comes from Graph and is taken as it is: a group missing a part, an entry without dates, an
//! identifier in neither of Graph's forms become problems of their service principal, never a failure.

use serde_json::Value;
use time::OffsetDateTime;

use crate::rotation::Verdict;

/// App Proxy's auto-renewed secret's display name.
pub const APP_PROXY_SECRET: &str = "CWAP_AuthSecret";

/// A part of a SAML signing certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The `Sign` key credential (the private key, held by Entra).
    Sign,
    /// The `Verify` key credential (the certificate).
    Verify,
    /// The password credential that protects the private key.
    Password,
}

impl Part {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Sign => "Sign",
            Part::Verify => "Verify",
            Part::Password => "password",
        }
    }
}

/// One SAML signing certificate: the entries that share a `customKeyIdentifier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCertificate {
    /// The SHA-1 thumbprint its `customKeyIdentifier` holds.
    pub thumbprint: [u8; 20],
    /// The keyIds of its parts.
    pub key_ids: Vec<String>,
    /// The parts Graph gave; a complete group has all three.
    pub parts: Vec<Part>,
    /// Its display name (`CN=…`).
    pub display_name: Option<String>,
    /// The earliest end of its parts, if any has one.
    pub end: Option<OffsetDateTime>,
    /// Named by `preferredTokenSigningKeyThumbprint`: the one Entra signs SAML tokens with.
    pub active: bool,
}

impl SigningCertificate {
    /// The parts Graph did not give.
    pub fn missing(&self) -> Vec<Part> {
        [Part::Sign, Part::Verify, Part::Password]
            .into_iter()
            .filter(|p| !self.parts.contains(p))
            .collect()
    }
}

/// A credential of the service principal outside any signing group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Other {
    /// `key` (a key credential) or `secret` (a password credential).
    pub kind: &'static str,
    /// Its keyId.
    pub key_id: Option<String>,
    /// Its display name.
    pub display_name: Option<String>,
    /// Its `usage` (key credentials).
    pub usage: Option<String>,
    /// Its end.
    pub end: Option<OffsetDateTime>,
    /// Renewed by its owner service (App Proxy's secret): never judged expired.
    pub self_managed: bool,
}

/// One service principal's credentials, grouped.
#[derive(Debug, Clone)]
pub struct ServicePrincipalCredentials {
    /// Object id.
    pub id: String,
    /// appId.
    pub app_id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// `servicePrincipalType` (`Application`, `ManagedIdentity`, …).
    pub kind: Option<String>,
    /// Its SAML signing certificates.
    pub signing: Vec<SigningCertificate>,
    /// Its other credentials.
    pub others: Vec<Other>,
    /// What is wrong or unusual.
    pub problems: Vec<String>,
    /// The verdict at the scan's moment: the signing certificate in use (else the newest), and the `Verify`
    /// certificates outside any group.
    pub verdict: Verdict,
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn instant(value: &Value, key: &str) -> Option<OffsetDateTime> {
    crate::time_fmt::parse_instant(value.get(key)?.as_str()?).ok()
}

/// The thumbprint an entry's `customKeyIdentifier` holds (base64 of the SHA-1, or its hex text).
fn identifier(entry: &Value) -> Option<[u8; 20]> {
    use base64::Engine as _;
    let raw = entry.get("customKeyIdentifier")?.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
    crate::manifest::existing::thumbprint_of(bytes)
}

fn entries<'a>(sp: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    sp.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// Groups a service principal's credentials as Graph made them, and judges them at `now`.
pub fn group(sp: &Value, now: OffsetDateTime, warn: time::Duration) -> ServicePrincipalCredentials {
    let preferred = text(sp, "preferredTokenSigningKeyThumbprint").map(|t| t.to_ascii_uppercase());
    let mut signing: Vec<SigningCertificate> = Vec::new();
    let mut others = Vec::new();
    let mut problems = Vec::new();
    // Which thumbprints carry a Sign entry: only those make a signing group.
    let signs: Vec<[u8; 20]> = entries(sp, "keyCredentials")
        .filter(|k| text(k, "usage").is_some_and(|u| u.eq_ignore_ascii_case("Sign")))
        .filter_map(identifier)
        .collect();
    let mut add = |thumbprint: [u8; 20], part: Part, entry: &Value| {
        let group = match signing.iter_mut().position(|g| g.thumbprint == thumbprint) {
            Some(i) => &mut signing[i],
            None => {
                let hex = crate::credential::thumbprint::upper_hex(&thumbprint);
                signing.push(SigningCertificate {
                    thumbprint,
                    key_ids: Vec::new(),
                    parts: Vec::new(),
                    display_name: None,
                    end: None,
                    active: preferred.as_deref() == Some(hex.as_str()),
                });
                signing.last_mut().expect("just pushed")
            }
        };
        group.parts.push(part);
        if let Some(id) = text(entry, "keyId").filter(|id| !group.key_ids.contains(id)) {
            group.key_ids.push(id);
        }
        group.display_name = group
            .display_name
            .take()
            .or_else(|| text(entry, "displayName"));
        if let Some(end) = instant(entry, "endDateTime") {
            group.end = Some(group.end.map_or(end, |e| e.min(end)));
        }
    };
    for entry in entries(sp, "keyCredentials") {
        let usage = text(entry, "usage").unwrap_or_default();
        match identifier(entry).filter(|t| signs.contains(t)) {
            Some(thumbprint) if usage.eq_ignore_ascii_case("Sign") => {
                add(thumbprint, Part::Sign, entry)
            }
            Some(thumbprint) if usage.eq_ignore_ascii_case("Verify") => {
                add(thumbprint, Part::Verify, entry)
            }
            _ => others.push(Other {
                kind: "key",
                key_id: text(entry, "keyId"),
                display_name: text(entry, "displayName"),
                usage: Some(usage),
                end: instant(entry, "endDateTime"),
                self_managed: false,
            }),
        }
    }
    for entry in entries(sp, "passwordCredentials") {
        match identifier(entry).filter(|t| signs.contains(t)) {
            Some(thumbprint) => add(thumbprint, Part::Password, entry),
            None => {
                let name = text(entry, "displayName");
                others.push(Other {
                    kind: "secret",
                    key_id: text(entry, "keyId"),
                    self_managed: name.as_deref() == Some(APP_PROXY_SECRET),
                    display_name: name,
                    usage: None,
                    end: instant(entry, "endDateTime"),
                })
            }
        }
    }
    for group in &signing {
        let missing = group.missing();
        if !missing.is_empty() {
            problems.push(format!(
                "the SAML signing certificate {} lacks its {} part{} (Graph makes a Sign, a Verify and a password \
                 entry for one): renew it in the portal",
                crate::credential::thumbprint::upper_hex(&group.thumbprint),
                missing.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" and "),
                if missing.len() == 1 { "" } else { "s" }
            ));
        }
        if group.end.is_none() {
            problems.push(format!(
                "the SAML signing certificate {} has no end date in Graph: look at it in the portal",
                crate::credential::thumbprint::upper_hex(&group.thumbprint)
            ));
        }
    }
    if let Some(preferred) = &preferred {
        if !signing.is_empty() && !signing.iter().any(|g| g.active) {
            problems.push(format!(
                "preferredTokenSigningKeyThumbprint names {preferred:?}, which none of its signing certificates is"
            ));
        }
    }
    let verdict = verdict(&signing, &others, now, warn);
    ServicePrincipalCredentials {
        id: text(sp, "id").unwrap_or_default(),
        app_id: text(sp, "appId").unwrap_or_default(),
        display_name: text(sp, "displayName"),
        kind: text(sp, "servicePrincipalType"),
        signing,
        others,
        problems,
        verdict,
    }
}

/// How one end stands at `now`: expired, due within `warn`, healthy, or (no end) unknown as `NoCredentials`.
pub fn judge(end: Option<OffsetDateTime>, now: OffsetDateTime, warn: time::Duration) -> Verdict {
    match end {
        None => Verdict::NoCredentials,
        Some(end) if end < now => Verdict::Expired,
        Some(end) if end < now + warn => Verdict::RenewalDue,
        Some(_) => Verdict::Healthy,
    }
}

/// The service principal's verdict: its signing certificate in use (else the one that ends last) and its `Verify`
/// certificates outside any group (the best of them, as an app's); secrets and `Sign` keys alone never decide.
fn verdict(
    signing: &[SigningCertificate],
    others: &[Other],
    now: OffsetDateTime,
    warn: time::Duration,
) -> Verdict {
    let in_use = signing
        .iter()
        .find(|g| g.active)
        .or_else(|| signing.iter().max_by_key(|g| g.end));
    let saml = in_use.map(|g| judge(g.end, now, warn));
    let certificates = others
        .iter()
        .filter(|o| {
            o.kind == "key"
                && o.usage
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case("Verify"))
        })
        .map(|o| judge(o.end, now, warn))
        .min();
    match (saml, certificates) {
        (None, None) => Verdict::NoCredentials,
        (Some(v), None) | (None, Some(v)) => v,
        (Some(a), Some(b)) => a.max(b),
    }
}
