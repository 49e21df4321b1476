//! `keycred graph sps` (and `graph apps --service-principals`): the tenant's service principals and their
//! certificates, grouped as Graph makes them ([`crate::signing`]): SAML signing certificates with the one in use,
//! other certificates and secrets. Reported only: keycred writes nothing to a service principal.

use time::OffsetDateTime;

use crate::error::Result;
use crate::graph::GraphClient;
use crate::rotation::Verdict;
use crate::signing::ServicePrincipalCredentials;

/// The service principal properties the scan reads.
pub const SELECT: &str =
    "id,appId,displayName,servicePrincipalType,preferredTokenSigningKeyThumbprint,\
keyCredentials,passwordCredentials";

/// One scan of the service principals.
#[derive(Debug, Clone)]
pub struct SpScanRequest {
    /// The renewal window of the verdicts.
    pub warn: time::Duration,
    /// Service principals per page (at most 999).
    pub page_size: usize,
}

/// What the scan found.
#[derive(Debug, Default)]
pub struct SpScanOutcome {
    /// Service principals read.
    pub read: usize,
    /// Those with a credential (the others, most of a tenant's, are not listed).
    pub listed: usize,
    /// Listed ones by verdict, in [`Verdict`]'s order: healthy, renewal due, not yet valid, expired, none.
    pub by_verdict: [usize; 5],
    /// SAML signing certificates seen, and how many are in use.
    pub signing: (usize, usize),
    /// The exit code: the worst verdict (0, 3, 4), as `check`'s.
    pub exit_code: i32,
}

/// Reads every service principal page by page, groups and judges each one with a credential, and hands it to
/// `each` as its page arrives. A signal stops the scan after the page in flight.
pub fn scan(
    client: &GraphClient,
    request: &SpScanRequest,
    now: OffsetDateTime,
    interrupt: &crate::interrupt::Interrupt,
    mut each: impl FnMut(&ServicePrincipalCredentials),
) -> Result<SpScanOutcome> {
    let mut outcome = SpScanOutcome::default();
    let mut worst: Option<Verdict> = None;
    client.service_principals(SELECT, request.page_size, |page| {
        interrupt.check()?;
        for sp in page {
            outcome.read += 1;
            let grouped = crate::signing::group(&sp, now, request.warn);
            if grouped.signing.is_empty() && grouped.others.is_empty() {
                continue;
            }
            outcome.listed += 1;
            outcome.by_verdict[super::tenant::verdict_index(grouped.verdict)] += 1;
            outcome.signing.0 += grouped.signing.len();
            outcome.signing.1 += grouped.signing.iter().filter(|g| g.active).count();
            // A service principal with secrets only is listed, but only certificates decide the exit code.
            if grouped.verdict != Verdict::NoCredentials {
                worst = worst.max(Some(grouped.verdict));
            }
            each(&grouped);
        }
        Ok(())
    })?;
    outcome.exit_code = worst.map_or(crate::exit::SUCCESS, Verdict::exit_code);
    Ok(outcome)
}
