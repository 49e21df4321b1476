//! `GET /v1.0/applications/delta` (DESIGN.md "Graph at tenant scale"): the first round lists every application,
//! later rounds (from the `@odata.deltaLink` the previous one ended with) only what changed, removed objects marked
//! `@removed`. Links are followed as given, only to the Graph origin keycred was given, never twice in a round.

use std::time::Instant;

use serde_json::Value;

use super::{GraphClient, Pages};
use crate::error::{Error, Result};

/// Graph's error code for a delta link it no longer knows (older than 7 days, or its sync state gone).
pub const SYNC_STATE_NOT_FOUND: &str = "syncStateNotFound";

impl GraphClient {
    /// The first delta round's URL, with the properties to select.
    pub fn delta_start(&self, select: &str) -> String {
        format!("{}/v1.0/applications/delta?$select={select}", self.base)
    }

    /// Whether `link` (a saved delta link) may be followed with this client's token: on its Graph origin.
    pub fn follows(&self, link: &str) -> bool {
        let mut pages = Pages::new(&self.base);
        pages
            .next(&serde_json::json!({ "@odata.nextLink": link }))
            .is_ok()
    }

    /// One delta round from `url` (the start, or a saved delta link): `each` gets each page's objects; returns the
    /// round's `@odata.deltaLink`. The round's pages share one `--timeout`.
    pub fn applications_delta(
        &self,
        url: &str,
        mut each: impl FnMut(Vec<Value>) -> Result<()>,
    ) -> Result<String> {
        let mut pages = Pages::new(&self.base);
        let deadline = Instant::now() + self.timeout;
        let mut url = url.to_owned();
        loop {
            let answer = self.send_by("GET", &url, None, false, deadline)?;
            each(answer.page("applications/delta")?)?;
            if let Some(next) = pages.next(&answer.body)? {
                url = next;
                continue;
            }
            let link = answer.body.get("@odata.deltaLink").cloned();
            let Some(link) = link.as_ref().and_then(Value::as_str) else {
                return Err(Error::Network(
                    "GET /v1.0/applications/delta: Graph's last page has neither an @odata.nextLink nor an \
                     @odata.deltaLink; the round was not saved"
                        .into(),
                ));
            };
            if !self.follows(link) {
                return Err(Error::Network(format!(
                    "Graph's @odata.deltaLink is on another origin than --graph-url ({}): keycred sends its token \
                     only to the Graph URL it was given, so it was not saved",
                    Value::String(link.to_owned())
                )));
            }
            return Ok(link.to_owned());
        }
    }

    /// The tenant the token is for (its `tid` claim), to keep a tenant's state apart from another's. The token is
    /// keycred's own, from the tenant's authority or the admin's file; nothing else is trusted to it.
    pub fn token_tenant(&self) -> Option<uuid::Uuid> {
        let (_, claims) = crate::flow::decode::parse(self.token.expose()).ok()?;
        uuid::Uuid::try_parse(claims.get("tid")?.as_str()?).ok()
    }
}
