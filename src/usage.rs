//! Which credential signed in, and when, from Entra's own records (DESIGN.md "Credential usage"), and the
//! decision that retires an old certificate only on evidence that nothing uses it any more.
//!
//! Two records: the credential sign-in activity report (the last sign-in per keyId; it lags, minutes to hours)
//! and the service principal sign-in log (each sign-in with the keyId or thumbprint it used), for the recent
//! window the report does not cover yet. A timestamp is a hint, not proof: the decision says how old its
//! evidence is, and keeps both credentials whenever the evidence does not show the old one quiet.

use std::collections::HashMap;

use serde_json::Value;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::manifest::ExistingCredential;
use crate::time_fmt::rfc3339_utc;

/// Where a sign-in was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The credential sign-in activity report.
    Report,
    /// The service principal sign-in log.
    SignInLog,
}

impl Source {
    /// The name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Report => "sign-in activity report",
            Source::SignInLog => "sign-in log",
        }
    }
}

/// A credential's last sign-in in the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// When.
    pub at: OffsetDateTime,
    /// In which record.
    pub source: Source,
}

/// What the evidence says of an app's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// Read: each credential's last sign-in, by keyId, and the newest sign-in in any record (how fresh it is).
    Read {
        /// Last sign-in per keyId.
        seen: HashMap<Uuid, Seen>,
        /// The newest sign-in the records hold, of any credential.
        newest: Option<OffsetDateTime>,
    },
    /// None to be had, and why (no licence or permission: 403; a national cloud).
    Unavailable(String),
}

impl Evidence {
    /// The evidence from the report's rows and the sign-in log's entries. A row or entry that names no keyId
    /// (or a thumbprint of none of `thumbprints`), or no readable time, is left out; fields keycred does not know
    /// are ignored.
    pub fn from_records(
        report: &[Value],
        sign_ins: &[Value],
        thumbprints: &HashMap<String, Uuid>,
    ) -> Evidence {
        let mut seen: HashMap<Uuid, Seen> = HashMap::new();
        let mut newest: Option<OffsetDateTime> = None;
        let mut note = |key_id: Uuid, at: OffsetDateTime, source: Source| {
            newest = newest.max(Some(at));
            let entry = seen.entry(key_id).or_insert(Seen { at, source });
            if at > entry.at {
                *entry = Seen { at, source };
            }
        };
        for row in report {
            let key_id = text(row, "keyId").and_then(|k| Uuid::parse_str(&k).ok());
            let at = row
                .get("signInActivity")
                .and_then(|a| text(a, "lastSignInDateTime"))
                .and_then(|t| crate::time_fmt::parse_instant(&t).ok());
            if let (Some(key_id), Some(at)) = (key_id, at) {
                note(key_id, at, Source::Report);
            }
        }
        for entry in sign_ins {
            let key_id = text(entry, "servicePrincipalCredentialKeyId")
                .and_then(|k| Uuid::parse_str(&k).ok())
                .or_else(|| {
                    text(entry, "servicePrincipalCredentialThumbprint")
                        .and_then(|t| thumbprints.get(&t.to_ascii_uppercase()).copied())
                });
            let at = text(entry, "createdDateTime")
                .and_then(|t| crate::time_fmt::parse_instant(&t).ok());
            if let (Some(key_id), Some(at)) = (key_id, at) {
                note(key_id, at, Source::SignInLog);
            }
        }
        Evidence::Read { seen, newest }
    }

    /// A credential's last sign-in, if the evidence has one.
    pub fn seen(&self, key_id: Option<Uuid>) -> Option<Seen> {
        match (self, key_id) {
            (Evidence::Read { seen, .. }, Some(key_id)) => seen.get(&key_id).copied(),
            _ => None,
        }
    }

    /// How old the evidence is, in words ("the newest sign-in it holds is 12 minutes old").
    pub fn freshness(&self, now: OffsetDateTime) -> String {
        match self {
            Evidence::Read {
                newest: Some(newest),
                ..
            } => format!("the newest sign-in it holds is {} old", ago(now - *newest)),
            Evidence::Read { newest: None, .. } => "it holds no sign-in of this app".into(),
            Evidence::Unavailable(why) => format!("no evidence is available: {why}"),
        }
    }
}

/// Why there is no evidence where the client points outside the global cloud.
pub const NATIONAL_CLOUD: &str =
    "Entra keeps the credential sign-in records in the global cloud only";

/// Why there is no evidence, for an error reading it that means none can be had (403: the licence or the
/// permission); other errors are failures.
pub fn unavailable(error: &crate::Error) -> Option<String> {
    match error {
        crate::Error::Graph(failure) if failure.status == 403 => Some(format!(
            "Graph answered 403 {} (the records need AuditLog.Read.All and an Entra ID P1 or P2 licence)",
            failure.code
        )),
        _ => None,
    }
}

/// How `graph retire` decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetireRules {
    /// How long the old credential must have been quiet since its successor was added.
    pub quiet_for: Duration,
    /// Without evidence, retire once the successor is this old (a decision on a timer); `None`: never without
    /// evidence.
    pub overlap: Option<Duration>,
}

/// What to do with one old credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Remove it.
    Retire {
        /// Why, with the evidence.
        why: String,
        /// Decided on a timer (`--overlap`), not on evidence.
        on_timer: bool,
    },
    /// Keep it.
    Keep {
        /// Why, with the evidence.
        why: String,
        /// It is, or may be, still in use (else: nothing to decide yet).
        in_use: bool,
    },
}

/// Whether `old` may go now that `new` (its successor, added at its `start`) is there: only when the new one
/// has been seen signing in and the old one has not been seen since the new one was added, and has been quiet
/// for `rules.quiet_for`; without evidence, only on `rules.overlap`'s timer.
pub fn decide(
    old: &ExistingCredential,
    new: &ExistingCredential,
    evidence: &Evidence,
    rules: &RetireRules,
    now: OffsetDateTime,
) -> Decision {
    let keep = |why: String| Decision::Keep { why, in_use: true };
    if let Evidence::Unavailable(why) = evidence {
        return match rules.overlap {
            Some(overlap) if now - new.start >= overlap => Decision::Retire {
                why: format!(
                    "on a timer, not on evidence ({why}): its successor was added {} ago, more than --overlap {}",
                    ago(now - new.start),
                    ago(overlap)
                ),
                on_timer: true,
            },
            Some(overlap) => keep(format!(
                "no evidence ({why}), and its successor was added only {} ago: --overlap {} removes it later, on \
                 a timer",
                ago(now - new.start),
                ago(overlap)
            )),
            None => keep(format!(
                "no evidence of use is available ({why}); keycred removes a credential without evidence only on \
                 a timer: give --overlap DURATION"
            )),
        };
    }
    let Some(new_seen) = evidence.seen(new.key_id) else {
        return keep(format!(
            "the new certificate (keyId {}) has not been seen signing in yet, so the daemon may still sign with \
             this one; {}",
            id(new),
            evidence.freshness(now)
        ));
    };
    let old_seen = evidence.seen(old.key_id);
    if let Some(old_seen) = old_seen.filter(|s| s.at >= new.start) {
        return keep(format!(
            "it signed in {} ago ({}, {}), after its successor was added: something still signs with it",
            ago(now - old_seen.at),
            rfc3339_utc(old_seen.at),
            old_seen.source.as_str()
        ));
    }
    let quiet_since = old_seen.map_or(new.start, |s| s.at.max(new.start));
    if now - quiet_since < rules.quiet_for {
        return keep(format!(
            "quiet only {} since its successor was added, less than --quiet-for {}",
            ago(now - quiet_since),
            ago(rules.quiet_for)
        ));
    }
    Decision::Retire {
        why: format!(
            "its successor (keyId {}) signed in {} ago ({}), and it has not since its successor was added{} \
             (quiet for {}, {})",
            id(new),
            ago(now - new_seen.at),
            new_seen.source.as_str(),
            match old_seen {
                Some(s) => format!(": its last sign-in was {}", rfc3339_utc(s.at)),
                None => String::new(),
            },
            ago(now - quiet_since),
            evidence.freshness(now)
        ),
        on_timer: false,
    }
}

/// The app's successor and the credentials it replaced: the valid client certificate that started last, and
/// every other valid client certificate that started before it. `None` when the app holds no newer one.
pub fn successor(
    credentials: &[ExistingCredential],
    now: OffsetDateTime,
) -> Option<(&ExistingCredential, Vec<&ExistingCredential>)> {
    let valid: Vec<&ExistingCredential> = credentials
        .iter()
        .filter(|c| !c.signs() && c.start <= now && now < c.end)
        .collect();
    let new = *valid.iter().max_by_key(|c| c.start)?;
    let replaced = replaced_by(credentials, new, now);
    (!replaced.is_empty()).then_some((new, replaced))
}

/// The valid client certificates `new` replaced: those that started before it.
pub fn replaced_by<'a>(
    credentials: &'a [ExistingCredential],
    new: &ExistingCredential,
    now: OffsetDateTime,
) -> Vec<&'a ExistingCredential> {
    credentials
        .iter()
        .filter(|c| !c.signs() && c.start <= now && now < c.end)
        .filter(|c| c.start < new.start && c.key_id != new.key_id)
        .collect()
}

fn id(credential: &ExistingCredential) -> String {
    credential
        .key_id
        .map(|k| k.to_string())
        .unwrap_or_else(|| "-".into())
}

fn text(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// A duration in words, to the minute ("2 h 5 min", "3 days 4 h", "40 s").
pub fn ago(duration: Duration) -> String {
    let seconds = duration.whole_seconds().max(0);
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3_600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3_600, s % 3_600 / 60),
        s => format!("{} days {} h", s / 86_400, s % 86_400 / 3_600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OLD: u128 = 0xA1;
    const NEW: u128 = 0xB2;

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-12-05 12:00 UTC)
    }

    fn credential(key: u128, started_days_ago: i64) -> ExistingCredential {
        ExistingCredential {
            index: 0,
            key_id: Some(Uuid::from_u128(key)),
            display_name: Some("CN=Orders Daemon".into()),
            thumbprint: Some([key as u8; 20]),
            start: now() - Duration::days(started_days_ago),
            end: now() + Duration::days(30),
            kind: "AsymmetricX509Cert".into(),
            usage: "Verify".into(),
            certificate: None,
        }
    }

    fn report(rows: &[(u128, i64)]) -> Vec<Value> {
        rows.iter()
            .map(|(key, hours_ago)| {
                json!({"keyId": Uuid::from_u128(*key).to_string(), "keyType": "certificate",
                       "futureField": {"x": 1},
                       "signInActivity": {"lastSignInDateTime": rfc3339_utc(now() - Duration::hours(*hours_ago))}})
            })
            .collect()
    }

    const RULES: RetireRules = RetireRules {
        quiet_for: Duration::hours(24),
        overlap: None,
    };

    fn decide_with(rows: &[(u128, i64)], rules: RetireRules) -> Decision {
        let evidence = Evidence::from_records(&report(rows), &[], &HashMap::new());
        decide(
            &credential(OLD, 300),
            &credential(NEW, 3),
            &evidence,
            &rules,
            now(),
        )
    }

    #[test]
    fn the_old_certificate_goes_only_when_the_new_one_signs_in_and_the_old_one_is_quiet() {
        // The new one signs in, the old one was last seen before the new one came (4 days ago).
        let decision = decide_with(&[(NEW, 1), (OLD, 100)], RULES);
        assert!(
            matches!(
                decision,
                Decision::Retire {
                    on_timer: false,
                    ..
                }
            ),
            "{decision:?}"
        );
        // The old one signed in 2 h ago, after the new one came: in use.
        let Decision::Keep { why, in_use: true } = decide_with(&[(NEW, 1), (OLD, 2)], RULES) else {
            panic!()
        };
        assert!(why.contains("signed in 2 h 0 min ago"), "{why}");
        // The new one not seen yet: kept, and the evidence's age said.
        let Decision::Keep { why, .. } = decide_with(&[(OLD, 30)], RULES) else {
            panic!()
        };
        assert!(why.contains("has not been seen signing in yet"), "{why}");
        assert!(
            why.contains("the newest sign-in it holds is 1 days 6 h old"),
            "{why}"
        );
        // Quiet, but for less than --quiet-for.
        let rules = RetireRules {
            quiet_for: Duration::days(5),
            ..RULES
        };
        let Decision::Keep { why, .. } = decide_with(&[(NEW, 1), (OLD, 100)], rules) else {
            panic!()
        };
        assert!(why.contains("less than --quiet-for 5 days 0 h"), "{why}");
    }

    #[test]
    fn without_evidence_only_a_timer_retires() {
        let evidence = Evidence::Unavailable("the report answered 403".into());
        let (old, new) = (credential(OLD, 300), credential(NEW, 3));
        let Decision::Keep { why, .. } = decide(&old, &new, &evidence, &RULES, now()) else {
            panic!()
        };
        assert!(why.contains("give --overlap DURATION"), "{why}");
        let timer = |days| RetireRules {
            overlap: Some(Duration::days(days)),
            ..RULES
        };
        assert!(matches!(
            decide(&old, &new, &evidence, &timer(2), now()),
            Decision::Retire { on_timer: true, .. }
        ));
        assert!(matches!(
            decide(&old, &new, &evidence, &timer(7), now()),
            Decision::Keep { .. }
        ));
    }

    #[test]
    fn the_sign_in_log_counts_by_keyid_or_thumbprint_and_odd_rows_are_left_out() {
        let thumbprints = HashMap::from([("ABCD".to_owned(), Uuid::from_u128(OLD))]);
        let log = vec![
            json!({"servicePrincipalCredentialThumbprint": "abcd", "createdDateTime": rfc3339_utc(now() - Duration::hours(2))}),
            json!({"servicePrincipalCredentialKeyId": Uuid::from_u128(NEW).to_string(), "createdDateTime": rfc3339_utc(now() - Duration::hours(1))}),
            json!({"servicePrincipalCredentialKeyId": "not a guid", "createdDateTime": rfc3339_utc(now())}),
            json!({"servicePrincipalCredentialKeyId": Uuid::from_u128(NEW).to_string(), "createdDateTime": 5}),
            json!(7),
        ];
        let odd_report = vec![
            json!({"keyId": 5}),
            json!({"signInActivity": null}),
            json!("x"),
        ];
        let evidence = Evidence::from_records(&odd_report, &log, &thumbprints);
        assert_eq!(
            evidence.seen(Some(Uuid::from_u128(OLD))).unwrap().source,
            Source::SignInLog
        );
        assert_eq!(
            evidence.seen(Some(Uuid::from_u128(NEW))).unwrap().at,
            now() - Duration::hours(1)
        );
        assert_eq!(evidence.seen(Some(Uuid::from_u128(0xCC))), None);
    }

    #[test]
    fn the_successor_is_the_newest_valid_client_certificate() {
        let mut signing = credential(0xC3, 1);
        signing.usage = "Sign".into();
        let mut expired = credential(0xD4, 400);
        expired.end = now() - Duration::days(1);
        let credentials = vec![credential(OLD, 300), credential(NEW, 3), signing, expired];
        let (new, replaced) = successor(&credentials, now()).unwrap();
        assert_eq!(new.key_id, Some(Uuid::from_u128(NEW)));
        assert_eq!(replaced.len(), 1);
        assert_eq!(replaced[0].key_id, Some(Uuid::from_u128(OLD)));
        assert!(
            successor(&credentials[..1], now()).is_none(),
            "no newer one"
        );
    }
}
