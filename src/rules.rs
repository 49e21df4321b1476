//! The tenant's credential rules for one app, from its app management policies, and the lifetime limit a new
//! certificate must keep (from those rules, or from `--max-lifetime` on files).
//!
//! Two layers (DESIGN.md "Tenant rules"): the tenant default policy (`applicationRestrictions`) and the one policy
//! assigned to an app (`restrictions`), which **replaces** the default for that app. A restriction binds an app
//! when its `state` is enabled (a missing state is enabled) and the app was created after its
//! `restrictForAppsCreatedAfterDateTime`; older apps are not restricted (their long certificates keep working).
//! Everything here reads what Graph sent, so nothing in it trusts a field's type or presence.

use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::words::{said, Input, Said};

/// Where a lifetime limit comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitBy {
    /// `--max-lifetime` (an admin who knows the tenant's rule, working on files).
    Given,
    /// An app management policy.
    Policy {
        /// Its id.
        id: String,
        /// Its display name, when it has one.
        name: Option<String>,
        /// Assigned to the app (else the tenant default).
        assigned: bool,
    },
}

/// The longest validity a new certificate may have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifetimeLimit {
    /// The limit.
    pub max: Duration,
    /// The limit as written (`P180D`).
    pub text: String,
    /// Where it comes from.
    pub by: LimitBy,
}

impl LifetimeLimit {
    /// A limit given as an ISO 8601 duration on the command line.
    pub fn given(text: &str) -> crate::Result<LifetimeLimit> {
        let max = iso_duration(text).map_err(|why| {
            crate::Error::Usage(said!(
                Input::MaxLifetime,
                format!(" {text:?} {why}: give an ISO 8601 duration such as P90D or P365D")
            ))
        })?;
        Ok(LifetimeLimit {
            max,
            text: text.to_owned(),
            by: LimitBy::Given,
        })
    }

    /// The whole days the limit allows (a certificate of that many days keeps within it).
    pub fn whole_days(&self) -> i64 {
        self.max.whole_days()
    }

    /// The rule in words: `policy "Contoso 180" (the tenant's default, ID) limits this app to P180D (180 days)`,
    /// `--max-lifetime P90D (90 days)`.
    pub fn rule(&self) -> Said {
        let days = format!("{} ({} days)", self.text, self.whole_days());
        match &self.by {
            LimitBy::Given => said!(Input::MaxLifetime, format!(" {days}")),
            LimitBy::Policy { id, name, assigned } => {
                let which = if *assigned {
                    "assigned to this app"
                } else {
                    "the tenant's default"
                };
                match name {
                    Some(name) => {
                        format!("policy {name:?} ({which}, {id}) limits this app to {days}").into()
                    }
                    None => format!("policy {id} ({which}) limits this app to {days}").into(),
                }
            }
        }
    }

    /// The stricter of two limits.
    pub fn stricter(self, other: Option<LifetimeLimit>) -> LifetimeLimit {
        match other {
            Some(other) if other.max < self.max => other,
            _ => self,
        }
    }
}

/// The rules that bind one app's new credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppRules {
    /// The longest validity of a new certificate.
    pub lifetime: Option<LifetimeLimit>,
    /// Certificates must chain to a trusted CA (the configurations' ids); no self-signed certificate is accepted.
    pub trusted_ca: Option<Vec<String>>,
    /// The CAs those configurations list, where they were read.
    pub authorities: Vec<Authority>,
    /// Why the listed CAs could not be read, if they could not.
    pub authorities_unread: Option<String>,
    /// No new client secret may be added.
    pub no_new_secrets: bool,
    /// The longest validity of a new client secret.
    pub secret_lifetime: Option<String>,
    /// Restrictions that would apply but for the app's age (it was created before their cut-off).
    pub grandfathered: Vec<String>,
}

/// A CA a tenant trusts for its apps' certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    /// Its certificate, DER.
    pub der: Vec<u8>,
    /// A root (else an intermediate).
    pub root: bool,
}

/// The CAs a `certificateBasedApplicationConfiguration` lists (its `trustedCertificateAuthorities`, as Graph
/// gives them); an entry whose certificate is not base64 is left out.
pub fn authorities(list: &[Value]) -> Vec<Authority> {
    use base64::Engine as _;
    list.iter()
        .filter_map(|entry| {
            let der = base64::engine::general_purpose::STANDARD
                .decode(entry.get("certificate")?.as_str()?)
                .ok()?;
            Some(Authority {
                der,
                root: entry.get("isRootAuthority").and_then(Value::as_bool) == Some(true),
            })
        })
        .collect()
}

/// Whether `certificate` (DER) chains to a root the rules list, through the intermediates they list: Graph sees
/// only the certificate, so a chain the CA gave beside it does not count.
pub fn trusted(certificate: &[u8], rules: &AppRules) -> bool {
    let roots: Vec<&[u8]> = rules
        .authorities
        .iter()
        .filter(|a| a.root)
        .map(|a| a.der.as_slice())
        .collect();
    let intermediates: Vec<&[u8]> = rules
        .authorities
        .iter()
        .filter(|a| !a.root)
        .map(|a| a.der.as_slice())
        .collect();
    crate::credential::chain::chains_to(certificate, &intermediates, &roots)
}

/// Whether a policy as v1.0 shows it hides a restriction v1.0 does not know (`unknownFutureValue`, as a
/// `trustedCertificateAuthority` rule shows there): then it is read again from beta.
pub fn hides_a_rule(policy: &Value) -> bool {
    ["restrictions", "applicationRestrictions"]
        .iter()
        .any(|field| {
            policy
                .get(field)
                .and_then(|r| r.get("keyCredentials"))
                .and_then(Value::as_array)
                .is_some_and(|entries| {
                    entries.iter().any(|e| {
                        e.get("restrictionType").and_then(Value::as_str)
                            == Some("unknownFutureValue")
                    })
                })
        })
}

/// The trusted-CA configurations a policy's restrictions name (default or assigned), whatever their state.
pub fn ca_configurations(policy: &Value) -> Vec<String> {
    ["restrictions", "applicationRestrictions"]
        .iter()
        .filter_map(|field| policy.get(field)?.get("keyCredentials")?.as_array())
        .flatten()
        .filter(|e| {
            e.get("restrictionType").and_then(Value::as_str) == Some("trustedCertificateAuthority")
        })
        .filter_map(|e| {
            e.get("certificateBasedApplicationConfigurationIds")?
                .as_array()
        })
        .flatten()
        .filter_map(|id| id.as_str().map(str::to_owned))
        .collect()
}

/// Whether a configuration id from Graph can go into a URL path as it is (a GUID's characters only).
pub fn safe_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// What is known of an app's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rules {
    /// Read from the tenant (or, on files, given).
    Known(AppRules),
    /// Not readable (why, and what to do); the plan is made as if there were none.
    Unknown(String),
}

impl Rules {
    /// The lifetime limit, where one is known.
    pub fn lifetime(&self) -> Option<&LifetimeLimit> {
        match self {
            Rules::Known(rules) => rules.lifetime.as_ref(),
            Rules::Unknown(_) => None,
        }
    }
}

/// What a run learnt of the tenant default policy: the policy, or why it could not be read.
#[derive(Debug, Clone)]
pub enum TenantPolicy {
    /// As Graph gave it.
    Read(Value),
    /// Not readable for want of permission: why, and what to do.
    Unreadable(String),
    /// Reading it failed otherwise (after the client's retries): the error, for each app that needs it.
    Failed(String),
}

/// Why policies could not be read, when the error is the missing permission (403); other errors are failures.
pub fn unreadable(error: &crate::Error) -> Option<String> {
    match error {
        crate::Error::Graph(failure) if failure.status == 403 => Some(
            "reading the tenant's app management policies needs Policy.Read.All (an application permission, with \
             admin consent); without it the plan is made as if there were none, and Graph may still refuse a write"
                .into(),
        ),
        _ => None,
    }
}

/// The rules for an app from the tenant default policy and the policy assigned to it (which replaces the
/// default), for an app created at `created` (unknown: restricted, as Graph restricts an app it cannot date).
pub fn effective(
    default: Option<&Value>,
    assigned: Option<&Value>,
    created: Option<OffsetDateTime>,
) -> AppRules {
    let (policy, restrictions, is_assigned) = match assigned {
        Some(policy) => (policy, policy.get("restrictions"), true),
        None => match default {
            Some(policy) => (policy, policy.get("applicationRestrictions"), false),
            None => return AppRules::default(),
        },
    };
    if policy.get("isEnabled").and_then(Value::as_bool) == Some(false) {
        return AppRules::default();
    }
    let mut rules = AppRules::default();
    let by = LimitBy::Policy {
        id: text(policy, "id").unwrap_or_else(|| "(no id)".into()),
        name: text(policy, "displayName"),
        assigned: is_assigned,
    };
    let entries = |field: &str| -> Vec<&Value> {
        restrictions
            .and_then(|r| r.get(field))
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    };
    for entry in entries("keyCredentials") {
        let Some(kind) = binding(entry, created, &mut rules.grandfathered) else {
            continue;
        };
        match kind.as_str() {
            "asymmetricKeyLifetime" => {
                let Some(written) = text(entry, "maxLifetime") else {
                    continue;
                };
                if let Ok(max) = iso_duration(&written) {
                    let limit = LifetimeLimit {
                        max,
                        text: written,
                        by: by.clone(),
                    };
                    rules.lifetime = Some(limit.stricter(rules.lifetime.take()));
                }
            }
            "trustedCertificateAuthority" => {
                let ids = entry
                    .get("certificateBasedApplicationConfigurationIds")
                    .and_then(Value::as_array)
                    .map(|ids| {
                        ids.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                rules.trusted_ca = Some(ids);
            }
            _ => {}
        }
    }
    for entry in entries("passwordCredentials") {
        match binding(entry, created, &mut rules.grandfathered).as_deref() {
            Some("passwordAddition") => rules.no_new_secrets = true,
            Some("passwordLifetime") => rules.secret_lifetime = text(entry, "maxLifetime"),
            _ => {}
        }
    }
    rules
}

/// A restriction's type when it binds the app: enabled, and the app created after its cut-off. One that would
/// bind but for the app's age is noted in `grandfathered`.
fn binding(
    entry: &Value,
    created: Option<OffsetDateTime>,
    grandfathered: &mut Vec<String>,
) -> Option<String> {
    // Graph's restriction types are plain words; anything else (a line break, an escape) is no type keycred
    // knows, and never reaches a terminal.
    let kind =
        text(entry, "restrictionType").filter(|k| k.chars().all(|c| c.is_ascii_alphanumeric()))?;
    if text(entry, "state").is_some_and(|s| s != "enabled") {
        return None;
    }
    let cutoff = text(entry, "restrictForAppsCreatedAfterDateTime")
        .and_then(|t| crate::time_fmt::parse_instant(&t).ok());
    if let (Some(cutoff), Some(created)) = (cutoff, created) {
        if created <= cutoff {
            grandfathered.push(format!(
                "{kind} (the app was created before {})",
                crate::time_fmt::rfc3339_utc(cutoff)
            ));
            return None;
        }
    }
    Some(kind)
}

fn text(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// An ISO 8601 duration as Graph writes `maxLifetime` (`P90D`, `P4DT12H30M5S`, `P2W`). Years and months have no
/// fixed length; they count as their shortest (365 and 28 days), so a limit read here is never longer than the
/// tenant's.
pub fn iso_duration(text: &str) -> Result<Duration, String> {
    let bad = |why: &str| Err(format!("is not an ISO 8601 duration ({why})"));
    let Some(rest) = text.strip_prefix('P') else {
        return bad("it starts with P");
    };
    let (date, time) = match rest.split_once('T') {
        Some((_, "")) => return bad("a T is followed by hours, minutes or seconds"),
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    if date.is_empty() && time.is_none() {
        return bad("P is followed by a number and a unit");
    }
    let mut seconds: i64 = 0;
    for (part, units) in [
        (
            date,
            &[
                ('Y', 365 * 86_400),
                ('M', 28 * 86_400),
                ('W', 7 * 86_400),
                ('D', 86_400),
            ][..],
        ),
        (time.unwrap_or(""), &[('H', 3_600), ('M', 60), ('S', 1)][..]),
    ] {
        let mut number = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() {
                if number.len() >= 9 {
                    return bad("a number is too large");
                }
                number.push(c);
                continue;
            }
            let Some(at) = units[next_unit..].iter().position(|(u, _)| *u == c) else {
                return bad("units go in the order Y M W D, then T H M S, once each");
            };
            if number.is_empty() {
                return bad("each unit follows a number");
            }
            let n: i64 = number.parse().expect("digits");
            seconds = seconds.saturating_add(n.saturating_mul(units[next_unit + at].1));
            number.clear();
            next_unit += at + 1;
        }
        if !number.is_empty() {
            return bad("a number has no unit");
        }
    }
    Ok(Duration::seconds(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_read_as_graph_writes_them() {
        for (text, seconds) in [
            ("P90D", 90 * 86_400),
            ("P4DT12H30M5S", 4 * 86_400 + 12 * 3_600 + 30 * 60 + 5),
            ("P2W", 14 * 86_400),
            ("P1Y", 365 * 86_400),
            ("PT36H", 36 * 3_600),
            ("P1M", 28 * 86_400),
        ] {
            assert_eq!(iso_duration(text), Ok(Duration::seconds(seconds)), "{text}");
        }
        for bad in [
            "",
            "P",
            "90D",
            "PT",
            "P1DT",
            "PD",
            "P1",
            "P1D1Y",
            "P1H",
            "P1DD",
            "P1234567890D",
            "p90d",
        ] {
            assert!(iso_duration(bad).is_err(), "{bad}");
        }
    }

    fn lifetime(max: &str, cutoff: &str) -> Value {
        json!({"restrictionType": "asymmetricKeyLifetime", "maxLifetime": max, "state": "enabled",
               "restrictForAppsCreatedAfterDateTime": cutoff})
    }

    #[test]
    fn an_assigned_policy_replaces_the_default_and_old_apps_are_not_restricted() {
        let default = json!({"id": "00000000-0000-0000-0000-000000000000", "displayName": "Default", "isEnabled": true,
            "applicationRestrictions": {"keyCredentials": [lifetime("P180D", "2020-01-01T00:00:00Z")],
                "passwordCredentials": [{"restrictionType": "passwordAddition", "state": "enabled",
                    "restrictForAppsCreatedAfterDateTime": "2020-01-01T00:00:00Z"}]}});
        let assigned = json!({"id": "p90", "displayName": "Ninety", "isEnabled": true,
            "restrictions": {"keyCredentials": [lifetime("P90D", "2020-01-01T00:00:00Z")]}});
        let new = Some(time::macros::datetime!(2024-01-01 0:00 UTC));
        let old = Some(time::macros::datetime!(2019-01-01 0:00 UTC));

        let rules = effective(Some(&default), None, new);
        assert_eq!(rules.lifetime.as_ref().map(|l| l.whole_days()), Some(180));
        assert!(rules.no_new_secrets);
        let rules = effective(Some(&default), Some(&assigned), new);
        assert_eq!(rules.lifetime.as_ref().map(|l| l.whole_days()), Some(90));
        assert_eq!(
            rules.lifetime.unwrap().rule().to_string(),
            "policy \"Ninety\" (assigned to this app, p90) limits this app to P90D (90 days)"
        );
        assert!(
            !rules.no_new_secrets,
            "the assigned policy replaces the default"
        );
        let rules = effective(Some(&default), None, old);
        assert_eq!(rules.lifetime, None);
        assert_eq!(rules.grandfathered.len(), 2, "{:?}", rules.grandfathered);
        let mut off = default.clone();
        off["isEnabled"] = json!(false);
        assert_eq!(effective(Some(&off), None, new), AppRules::default());
        let mut disabled = default;
        disabled["applicationRestrictions"]["keyCredentials"][0]["state"] = json!("disabled");
        assert_eq!(effective(Some(&disabled), None, new).lifetime, None);
    }

    #[test]
    fn a_restriction_type_that_is_no_plain_word_is_not_repeated() {
        let policy = json!({"applicationRestrictions": {"keyCredentials": [{
            "restrictionType": "asymmetricKeyLifetime\n  rule    forged", "maxLifetime": "P1D",
            "restrictForAppsCreatedAfterDateTime": "2030-01-01T00:00:00Z"}]}});
        let rules = effective(
            Some(&policy),
            None,
            Some(time::macros::datetime!(2024-01-01 0:00 UTC)),
        );
        assert_eq!(rules, AppRules::default(), "{rules:?}");
    }

    #[test]
    fn odd_policies_from_graph_are_read_without_a_panic() {
        for odd in [
            json!(null),
            json!([]),
            json!({"applicationRestrictions": 5}),
            json!({"applicationRestrictions": {"keyCredentials": [5, {"restrictionType": 7}]}}),
            json!({"applicationRestrictions": {"keyCredentials": [{"restrictionType": "asymmetricKeyLifetime",
                "maxLifetime": "P99999999999D"}]}}),
        ] {
            assert_eq!(effective(Some(&odd), None, None).lifetime, None, "{odd}");
        }
    }
}
