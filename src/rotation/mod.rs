//! Rotation planning: given the credentials an app has, an optional new one, the time and a policy, decide
//! what to add, keep and remove. Pure: no I/O, the clock is a parameter.
//!
//! The rule that matters most is never locking an app out: the new credential is added beside the current one,
//! which stays until it expires or the policy explicitly prunes it, and removing a credential that is still
//! valid always produces a warning.

use time::{Duration, OffsetDateTime};

use crate::credential::request::CLOCK_SKEW;
use crate::credential::thumbprint::upper_hex;
use crate::error::{Error, Result};
use crate::manifest::ExistingCredential;
use crate::time_fmt::rfc3339_utc;

/// What the run is allowed to do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    /// Add the new credential only when the newest valid one ends within this window (`--renew-within DAYS`);
    /// `None` adds it unconditionally.
    pub renew_within: Option<Duration>,
    /// Remove credentials that have expired (`--prune-expired`).
    pub prune_expired: bool,
    /// Keep at most this many credentials, the new one included (`--keep N`); the earliest-ending go first.
    pub keep: Option<usize>,
    /// Remove these credentials by keyId (`--remove-key-id`), as `az ad app credential delete --key-id` does;
    /// never the app's last valid one.
    pub remove_key_ids: Vec<uuid::Uuid>,
}

/// The facts of the credential to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Its SHA-1 thumbprint; `None` for a certificate the plan makes when it is applied (see [`ToMake`]), which
    /// is new by construction.
    pub thumbprint: Option<[u8; 20]>,
    /// Start of validity.
    pub start: OffsetDateTime,
    /// End of validity.
    pub end: OffsetDateTime,
}

/// A certificate a plan adds that does not exist yet: a plan (a dry run, `graph rotate` without `--apply`) makes
/// no key, so its thumbprint and keyId are known only when the plan is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToMake {
    /// The subject it will have.
    pub subject: String,
    /// Start of validity, as made now.
    pub start: OffsetDateTime,
    /// End of validity, as made now.
    pub end: OffsetDateTime,
}

impl Candidate {
    /// An existing certificate as the planner sees it.
    pub fn of(cert: &crate::credential::CertificateInfo) -> Candidate {
        Candidate {
            thumbprint: Some(cert.thumbprints.sha1),
            start: cert.not_before,
            end: cert.not_after,
        }
    }
}

impl ToMake {
    /// The planner's view of it.
    pub fn candidate(&self) -> Candidate {
        Candidate {
            thumbprint: None,
            start: self.start,
            end: self.end,
        }
    }
}

/// Where a credential stands at a moment, with a five-minute allowance for clocks that run behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Starts more than five minutes from now.
    NotYetValid,
    /// Usable now.
    Valid,
    /// Ended.
    Expired,
}

/// The standing of a credential valid from `start` to `end`, at `now`.
pub fn standing(start: OffsetDateTime, end: OffsetDateTime, now: OffsetDateTime) -> Standing {
    if now > end {
        Standing::Expired
    } else if start > now + CLOCK_SKEW {
        Standing::NotYetValid
    } else {
        Standing::Valid
    }
}

/// The index of the client credential that is valid at `now` and ends last: the one an app relies on (a `Sign`
/// key never is). Of two that end together (two runs given the same `--not-after`), the one that started later.
pub fn current(existing: &[ExistingCredential], now: OffsetDateTime) -> Option<usize> {
    client_credentials(existing, now)
        .max_by_key(|(_, c)| newness(c))
        .map(|(i, _)| i)
}

/// Every client credential valid at `now` as new as the [`current`] one: more than one only when certificates
/// were made within the same second, and any of them may be the one a run added.
pub fn ending_last(
    existing: &[ExistingCredential],
    now: OffsetDateTime,
) -> impl Iterator<Item = usize> + '_ {
    let newest = current(existing, now).map(|i| newness(&existing[i]));
    client_credentials(existing, now)
        .filter(move |(_, c)| Some(newness(c)) == newest)
        .map(|(i, _)| i)
}

/// The credential that `kept` replaced: the newest other client credential valid at `now` that is no newer than
/// `kept` (as new counts, since certificates made within a second of each other are).
pub fn replaced(
    existing: &[ExistingCredential],
    kept: usize,
    now: OffsetDateTime,
) -> Option<usize> {
    client_credentials(existing, now)
        .filter(|(i, c)| *i != kept && newness(c) <= newness(&existing[kept]))
        .max_by_key(|(_, c)| newness(c))
        .map(|(i, _)| i)
}

/// The client credentials (no `Sign` key) valid at `now`, with their indexes.
fn client_credentials(
    existing: &[ExistingCredential],
    now: OffsetDateTime,
) -> impl Iterator<Item = (usize, &ExistingCredential)> {
    existing
        .iter()
        .enumerate()
        .filter(move |(_, c)| !c.signs() && standing(c.start, c.end, now) == Standing::Valid)
}

/// How new a credential is: the one that ends later, and of two that end together the one that started later.
fn newness(credential: &ExistingCredential) -> (OffsetDateTime, OffsetDateTime) {
    (credential.end, credential.start)
}

/// What happens to one existing credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// It stays, unchanged.
    Keep,
    /// It goes, for this reason.
    Remove(String),
}

/// The decision for one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Whether the candidate is added.
    pub add: bool,
    /// Why the candidate is not added, when it is not.
    pub skipped: Option<String>,
    /// One disposition per existing credential, in manifest order.
    pub existing: Vec<Disposition>,
    /// Whether renewal was due (no valid credential, or the newest ends within the window).
    pub renewal_due: bool,
    /// Index of the valid credential that ends last, if any.
    pub current: Option<usize>,
    /// Things the admin should know.
    pub warnings: Vec<String>,
}

impl Plan {
    /// Whether the plan changes anything.
    pub fn changes(&self) -> bool {
        self.add
            || self
                .existing
                .iter()
                .any(|d| matches!(d, Disposition::Remove(_)))
    }
}

/// Warnings about the credentials as found: dates that disagree with their certificates, one certificate twice.
fn input_warnings(existing: &[ExistingCredential]) -> Vec<String> {
    let mut warnings: Vec<String> = existing
        .iter()
        .filter_map(ExistingCredential::date_mismatch)
        .collect();
    for (i, a) in existing.iter().enumerate() {
        if let Some(b) = existing[..i]
            .iter()
            .find(|b| a.thumbprint.is_some() && b.thumbprint == a.thumbprint)
        {
            warnings.push(format!(
                "{} and {} hold the same certificate ({})",
                b.label(),
                a.label(),
                upper_hex(&a.thumbprint.unwrap_or_default())
            ));
        }
    }
    warnings
}

/// Refuses a `--remove-key-id` that names a signing key or no credential at all, before anything is planned.
fn check_asked_removals(existing: &[ExistingCredential], ids: &[uuid::Uuid]) -> Result<()> {
    for id in ids {
        if let Some(signing) = existing.iter().find(|c| c.key_id == Some(*id) && c.signs()) {
            return Err(Error::Refused(format!(
                "keyId {id}: {} is a signing key (usage Sign: SAML or token signing), not a client credential, \
                 and keycred never removes one; nothing was written or sent. Renew or remove it where it is used \
                 (the enterprise application's SAML settings)",
                signing.label()
            )));
        }
        if !existing.iter().any(|c| c.key_id == Some(*id)) {
            let ids: Vec<String> = existing.iter().map(ExistingCredential::label).collect();
            return Err(Error::Refused(format!(
                "keyId {id}: the app has no credential with that keyId (it has {}); nothing was written or sent \
                 (keycred check MANIFEST, or graph show APP, lists them)",
                if ids.is_empty() {
                    "none".to_owned()
                } else {
                    ids.join(", ")
                }
            )));
        }
    }
    Ok(())
}

/// What happens to each existing credential: signing keys kept, asked-for and (with `prune_expired`) expired ones
/// removed, then the earliest-ending over `keep` (counting the new one when `add`).
fn dispositions(
    existing: &[ExistingCredential],
    now: OffsetDateTime,
    policy: &Policy,
    add: bool,
) -> Vec<Disposition> {
    let mut dispositions: Vec<Disposition> = existing
        .iter()
        .map(|c| {
            if c.signs() {
                // Not a client credential: a rotation leaves it exactly as it is.
                Disposition::Keep
            } else if c
                .key_id
                .is_some_and(|id| policy.remove_key_ids.contains(&id))
            {
                Disposition::Remove("asked for with --remove-key-id".into())
            } else if policy.prune_expired && standing(c.start, c.end, now) == Standing::Expired {
                Disposition::Remove(format!("expired on {}", rfc3339_utc(c.end)))
            } else {
                Disposition::Keep
            }
        })
        .collect();

    if let Some(limit) = policy.keep {
        let new_count = usize::from(add);
        let mut kept: Vec<usize> = (0..existing.len())
            .filter(|i| dispositions[*i] == Disposition::Keep && !existing[*i].signs())
            .collect();
        // Earliest-ending first; the new credential is never the one to go.
        kept.sort_by_key(|i| existing[*i].end);
        let excess = (kept.len() + new_count).saturating_sub(limit);
        for &i in kept.iter().take(excess) {
            dispositions[i] = Disposition::Remove(format!("over --keep {limit}"));
        }
    }
    dispositions
}

/// Plans one rotation.
pub fn plan(
    existing: &[ExistingCredential],
    candidate: Option<&Candidate>,
    now: OffsetDateTime,
    policy: &Policy,
) -> Result<Plan> {
    if policy.keep == Some(0) {
        return Err(Error::Usage(crate::words::said!(
            crate::words::Input::Keep,
            " 0 would remove every credential and lock the app out: use 1 or more"
        )));
    }
    let mut warnings = input_warnings(existing);

    let current = current(existing, now);
    let renewal_due = match (policy.renew_within, current) {
        (None, _) | (_, None) => true,
        (Some(window), Some(i)) => existing[i].end - now <= window,
    };

    let not_due = (!renewal_due).then(|| {
        let i = current.expect("not due implies a current credential");
        format!(
            "not due: {} is valid until {} ({} days), beyond the renewal window",
            existing[i].label(),
            rfc3339_utc(existing[i].end),
            (existing[i].end - now).whole_days()
        )
    });
    let mut skipped = None;
    let mut add = false;
    match candidate {
        None => skipped = not_due,
        Some(candidate) => {
            if let Some(same) = existing
                .iter()
                .find(|c| candidate.thumbprint.is_some() && c.thumbprint == candidate.thumbprint)
            {
                skipped = Some(format!(
                    "the certificate is already present ({})",
                    same.label()
                ));
            } else if standing(candidate.start, candidate.end, now) == Standing::Expired {
                return Err(Error::Invalid(format!(
                    "the new certificate expired on {}: it cannot be rotated in",
                    rfc3339_utc(candidate.end)
                )));
            } else if not_due.is_some() {
                skipped = not_due;
            } else {
                add = true;
            }
        }
    }

    check_asked_removals(existing, &policy.remove_key_ids)?;
    let dispositions = dispositions(existing, now, policy, add);

    for (c, d) in existing.iter().zip(&dispositions) {
        if matches!(d, Disposition::Remove(_)) && standing(c.start, c.end, now) == Standing::Valid {
            warnings.push(format!(
                "removes {}, which is still valid until {}: anything still using it will stop working",
                c.label(),
                rfc3339_utc(c.end)
            ));
        }
    }
    let remaining_valid = existing.iter().zip(&dispositions).any(|(c, d)| {
        *d == Disposition::Keep && !c.signs() && standing(c.start, c.end, now) == Standing::Valid
    });
    let asked_valid: Vec<String> = existing
        .iter()
        .filter(|c| {
            c.key_id
                .is_some_and(|id| policy.remove_key_ids.contains(&id))
                && standing(c.start, c.end, now) == Standing::Valid
        })
        .map(ExistingCredential::label)
        .collect();
    if !add && !remaining_valid && !asked_valid.is_empty() {
        return Err(Error::Refused(format!(
            "removing {} would leave the app no valid certificate credential (it is the last valid one), and the app \
             could no longer sign in; nothing was written or sent. Add its successor first (keycred rotate --cert \
             NEXT.cer or --force-renewal for a manifest; graph add-key or graph rotate for an app in a tenant), then \
             remove it",
            asked_valid.join(", ")
        )));
    }
    if !add && !remaining_valid {
        warnings.push("after this run the app has no valid certificate credential".into());
    }

    Ok(Plan {
        add,
        skipped,
        existing: dispositions,
        renewal_due,
        current,
        warnings,
    })
}

#[cfg(test)]
mod tests;

/// The health of one app's credentials, as `keycred check` reports it. Ordered from best to worst, so that the
/// worst of several inputs is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// A credential is valid beyond the warning window.
    Healthy,
    /// The credential valid now that ends last ends within the warning window.
    RenewalDue,
    /// No credential is valid now, but one will be (its start is still ahead).
    NotYetValid,
    /// No credential is valid now: they have all ended.
    Expired,
    /// There is no certificate credential at all.
    NoCredentials,
}

impl Verdict {
    /// The exit code `check` ends with for this verdict: every verdict without a credential valid now is 4.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Healthy => crate::exit::SUCCESS,
            Verdict::RenewalDue => crate::exit::RENEWAL_DUE,
            Verdict::NotYetValid | Verdict::Expired | Verdict::NoCredentials => {
                crate::exit::EXPIRED
            }
        }
    }

    /// The word used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Healthy => "healthy",
            Verdict::RenewalDue => "renewal-due",
            Verdict::NotYetValid => "not-yet-valid",
            Verdict::Expired => "expired",
            Verdict::NoCredentials => "no-credentials",
        }
    }

    /// The words used in text output.
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::NotYetValid => "not yet valid",
            Verdict::NoCredentials => "no certificate credentials",
            other => other.as_str(),
        }
    }
}

/// The verdict for a set of credentials: it follows the credential that is valid now and ends last. Expired
/// leftovers do not by themselves make it worse.
pub fn verdict(existing: &[ExistingCredential], now: OffsetDateTime, warn: Duration) -> Verdict {
    // Only client credentials count: an app whose only certificates are signing keys has none.
    let mut clients = existing.iter().filter(|c| !c.signs()).peekable();
    match current(existing, now).map(|i| existing[i].end) {
        None if clients.peek().is_none() => Verdict::NoCredentials,
        None if clients.any(|c| standing(c.start, c.end, now) == Standing::NotYetValid) => {
            Verdict::NotYetValid
        }
        None => Verdict::Expired,
        Some(end) if end - now <= warn => Verdict::RenewalDue,
        Some(_) => Verdict::Healthy,
    }
}

/// Applies `plan` to `manifest`: the credentials it keeps are copied as they are (the same JSON values, so
/// byte-for-byte once rendered), `added` is appended when the plan adds, and nothing else in the manifest
/// changes. Returns the new collection, which is also what a Graph PATCH must carry.
pub fn apply_plan(
    manifest: &mut crate::manifest::Manifest,
    plan: &Plan,
    added: Option<serde_json::Value>,
) -> Result<Vec<serde_json::Value>> {
    let entries = manifest.key_credentials_array()?.clone();
    if entries.len() != plan.existing.len() {
        return Err(Error::Invalid(
            "the plan was made for a different keyCredentials collection".into(),
        ));
    }
    let mut updated: Vec<serde_json::Value> = entries
        .into_iter()
        .zip(&plan.existing)
        .filter(|(_, d)| **d == Disposition::Keep)
        .map(|(e, _)| e)
        .collect();
    if plan.add {
        updated.extend(added);
    }
    manifest.set_key_credentials(updated.clone());
    Ok(updated)
}
