//! The Microsoft Graph client: the application endpoints keycred uses, on the `ureq` agent the token client
//! uses (rustls on aws-lc-rs, the platform's trust store, proxies from the environment). No printing; workflows
//! call it, front ends never do.
//!
//! Every request carries a fresh `client-request-id` and spends from the run's [`Budget`], which paces the run
//! under Graph's published limits (a request waits for its place rather than meet a 429). 429, 503 and 504 are
//! retried after `Retry-After` (seconds), or with exponential backoff and jitter when it is absent, as is 409
//! `Directory_ConcurrencyViolation`; at most `max_retries` times and never past the request's `--timeout` (a
//! listing's pages share one). A wait asked of one request holds back every request made
//! through the same [`Throttle`], so parallel workers all pause when Graph throttles one of them. Pages are
//! followed by their `@odata.nextLink` exactly as given, with `ConsistencyLevel: eventual` sent again on each page
//! where the query needs it. Graph's error bodies become [`crate::Error::Graph`], with what to do.

mod batch;
mod budget;
mod cloud;
mod delta;
mod errors;
mod pages;
mod policies;
mod usage;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use uuid::Uuid;

pub use batch::MAX_BATCH;
pub(crate) use batch::{header as batch_header, item_answer as batch_item};
pub use budget::{Budget, Estimate, Limit, Remembered, Spend, Spent};
pub use cloud::Cloud;
pub use delta::SYNC_STATE_NOT_FOUND;
pub use errors::advice;
pub(crate) use errors::graph_error;
pub(crate) use pages::Pages;

use crate::error::{Error, Result};
use crate::secret::Password;

/// The application properties `keycred graph apps` reads: only what it needs (a `$select` also halves the
/// request's cost in Graph's throttling budget).
pub const SCAN_SELECT: &str = "id,appId,displayName,keyCredentials,passwordCredentials";

/// The app properties a rotation plans on, as a listing names them: its credentials' metadata (a listing never
/// carries keys), its creation date (which decides whether a rule of the tenant binds it), and its other
/// collections, counted against Graph's limit on an application's items. One application read by id is read
/// without `$select`, which gives the same properties, keys left out. The `--since-last` state holds them, so
/// that a scan and a scheduled rotation share it.
pub const PLAN_SELECT: &str =
    "id,appId,displayName,createdDateTime,keyCredentials,passwordCredentials,\
identifierUris,appRoles,requiredResourceAccess,tags,api,web,spa,publicClient";

/// Graph's largest page of applications.
pub const MAX_PAGE: usize = 999;

/// The longest exponential backoff between two tries when Graph gives no `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(32);

/// The wait that every request made through it respects: when Graph throttles one request, the others wait too.
#[derive(Debug, Default)]
pub struct Throttle {
    not_before: Mutex<Option<Instant>>,
}

impl Throttle {
    fn hold_until(&self, until: Instant) {
        let mut not_before = self
            .not_before
            .lock()
            .expect("the throttle lock is never poisoned");
        if not_before.is_none_or(|t| t < until) {
            *not_before = Some(until);
        }
    }

    /// Returns once the latest pause has passed: read again after each sleep, because another request may have
    /// been told to wait longer while this one slept.
    fn wait(&self) {
        loop {
            let until = *self
                .not_before
                .lock()
                .expect("the throttle lock is never poisoned");
            let now = Instant::now();
            match until {
                Some(until) if until > now => std::thread::sleep(until - now),
                _ => return,
            }
        }
    }
}

/// Which application: its object id, or its appId (client id), which Graph addresses as `(appId='…')`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppRef {
    /// The application object's id.
    ObjectId(Uuid),
    /// The application's appId.
    AppId(Uuid),
}

impl AppRef {
    /// The id, whichever kind it is.
    pub fn into_id(self) -> Uuid {
        match self {
            AppRef::ObjectId(id) | AppRef::AppId(id) => id,
        }
    }

    fn segment(self) -> String {
        match self {
            AppRef::ObjectId(id) => format!("/{id}"),
            AppRef::AppId(id) => format!("(appId='{id}')"),
        }
    }
}

/// A Graph client for one base URL and one bearer token.
#[derive(Debug, Clone)]
pub struct GraphClient {
    base: String,
    token: Arc<Password>,
    agent: ureq::Agent,
    max_retries: u32,
    timeout: Duration,
    throttle: Arc<Throttle>,
    budget: Arc<Budget>,
}

/// One answer: its status, its JSON body (null when empty), and Graph's `request-id`.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
    /// Graph's request id, for support.
    pub request_id: Option<String>,
}

impl Answer {
    /// The objects of a page of `resource` (its `value` array).
    pub(crate) fn page(&self, resource: &str) -> Result<Vec<Value>> {
        self.body
            .get("value")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| {
                Error::Network(format!(
                    "GET /v1.0/{resource}: Graph's page has no value array (request-id {})",
                    self.request_id.as_deref().unwrap_or("-")
                ))
            })
    }
}

impl GraphClient {
    /// A client for `base` (`https://graph.microsoft.com`, a national cloud's host, or `http://` on this machine
    /// for tests), authenticating with `token`. `timeout` bounds one request (or one listing, all its pages),
    /// retries and waits included; every request spends from `budget`.
    pub fn new(
        base: &str,
        token: Password,
        timeout: Duration,
        max_retries: u32,
        throttle: Arc<Throttle>,
        budget: Arc<Budget>,
    ) -> Result<GraphClient> {
        crate::flow::authority::check_url(base, "--graph-url", "https://graph.microsoft.com")?;
        Ok(GraphClient {
            base: base.trim_end_matches('/').to_owned(),
            token: Arc::new(token),
            agent: crate::flow::token::agent(base, timeout),
            max_retries,
            timeout,
            throttle,
            budget,
        })
    }

    /// The budget the run's requests spend from.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The base URL, for messages and for the token scope (`{base}/.default`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends one request (with retries) and returns a 2xx answer, or the error Graph gave.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
        eventual: bool,
    ) -> Result<Answer> {
        self.send_by(method, url, body, eventual, Instant::now() + self.timeout)
    }

    /// As [`GraphClient::send`], within `deadline`.
    fn send_by(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
        eventual: bool,
        deadline: Instant,
    ) -> Result<Answer> {
        let spend = Spend::of(method, url);
        self.send_spending(method, url, body, eventual, deadline, Some(spend))
    }

    /// As [`GraphClient::send_by`], spending `spend` from the budget for each try (`None`: a `$batch` envelope,
    /// whose requests spend their own).
    fn send_spending(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
        eventual: bool,
        deadline: Instant,
        spend: Option<Spend>,
    ) -> Result<Answer> {
        let what = format!("{method} {}", url.strip_prefix(&self.base).unwrap_or(url));
        let mut attempt = 0u32;
        loop {
            self.throttle.wait();
            self.within_deadline(&what, deadline)?;
            let ticket = match spend {
                Some(spend) => Some(
                    self.budget
                        .spend(spend, deadline)
                        .ok_or_else(|| self.past_deadline(&what))?,
                ),
                None => None,
            };
            let answer = self.send_once(method, url, body, eventual, &what, deadline)?;
            drop(ticket);
            self.heed_limit(answer.limit_percentage);
            if (200..300).contains(&answer.status) {
                return Ok(Answer {
                    status: answer.status,
                    body: answer.body,
                    request_id: answer.request_id,
                });
            }
            let code = errors::code(&answer.body);
            let retryable = matches!(answer.status, 429 | 503 | 504)
                || (answer.status == 409
                    && code.as_deref() == Some("Directory_ConcurrencyViolation"));
            if !retryable {
                return Err(errors::graph_error(
                    &what,
                    answer.status,
                    &answer.body,
                    answer.request_id.as_deref(),
                    None,
                ));
            }
            if attempt >= self.max_retries {
                return Err(errors::graph_error(
                    &what,
                    answer.status,
                    &answer.body,
                    answer.request_id.as_deref(),
                    Some(format!(
                        "still refused after {attempt} retries (--max-retries {}); nothing more was sent for this \
                         request",
                        self.max_retries
                    )),
                ));
            }
            let wait = answer.retry_after.unwrap_or_else(|| backoff(attempt));
            let until = Instant::now() + wait;
            if until > deadline {
                return Err(errors::graph_error(
                    &what,
                    answer.status,
                    &answer.body,
                    answer.request_id.as_deref(),
                    Some(format!(
                        "Graph asked to wait {} s, past this request's --timeout; nothing more was sent for it",
                        wait.as_secs()
                    )),
                ));
            }
            self.throttle.hold_until(until);
            attempt += 1;
        }
    }

    fn send_once(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
        eventual: bool,
        what: &str,
        deadline: Instant,
    ) -> Result<Answered> {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("authorization", format!("Bearer {}", self.token.expose()))
            .header("client-request-id", Uuid::new_v4().to_string())
            .header("accept", "application/json");
        let request = if eventual {
            request.header("consistencylevel", "eventual")
        } else {
            request
        };
        let timeout = deadline.saturating_duration_since(Instant::now());
        let sent = match body {
            Some(body) => self.agent.run(
                request
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(body).expect("JSON values serialize"))
                    .map_err(|e| Error::Invalid(format!("{what}: {e}")))?,
            ),
            None => self.agent.run(
                request
                    .body(())
                    .map_err(|e| Error::Invalid(format!("{what}: {e}")))?,
            ),
        };
        let mut response = sent.map_err(|e| crate::flow::token::network_error(e, url, timeout))?;
        let status = response.status().as_u16();
        let header = |name: &str| crate::flow::token::header(&response, name);
        crate::flow::token::refuse_redirect(
            status,
            header("location").as_deref(),
            what,
            "--graph-url",
        )?;
        let request_id = header("request-id");
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let limit_percentage =
            header("x-ms-throttle-limit-percentage").and_then(|v| v.trim().parse::<f64>().ok());
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| crate::flow::token::network_error(e, url, timeout))?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                Error::Network(format!(
                    "{what}: Graph's answer (HTTP {status}) is not JSON; is --graph-url a Microsoft Graph host?"
                ))
            })?
        };
        Ok(Answered {
            status,
            body,
            request_id,
            retry_after,
            limit_percentage,
        })
    }

    /// Slows every request down when Graph says (`x-ms-throttle-limit-percentage`) how close to its limit the
    /// tenant is.
    fn heed_limit(&self, percentage: Option<f64>) {
        if let Some(percentage) = percentage {
            let pause = budget::slow_down(percentage, self.budget.scale());
            self.throttle.hold_until(Instant::now() + pause);
        }
    }

    /// Fails once the request's `--timeout` has passed: it bounds one request, or one listing however many
    /// pages, retries and waits included.
    fn within_deadline(&self, what: &str, deadline: Instant) -> Result<()> {
        if Instant::now() < deadline {
            return Ok(());
        }
        Err(self.past_deadline(what))
    }

    fn past_deadline(&self, what: &str) -> Error {
        Error::Network(format!(
            "{what}: it passed its --timeout ({} s) and stopped here; nothing more was sent for it. Give a longer \
             --timeout",
            self.timeout.as_secs()
        ))
    }

    /// Every application the token may read, page by page (`$top` up to 999): `each` gets one page's
    /// applications at a time, so memory holds one page however large the tenant is. `filter` is an OData
    /// `$filter`; one that is not `appId eq '…'` is sent with `ConsistencyLevel: eventual` and `$count=true`, as
    /// Graph requires for advanced queries, on every page.
    pub fn applications(
        &self,
        filter: Option<&str>,
        select: &str,
        page_size: usize,
        each: impl FnMut(Vec<Value>) -> Result<()>,
    ) -> Result<()> {
        self.collection("applications", filter, select, page_size, each)
    }

    /// Every service principal the token may read, page by page, as [`GraphClient::applications`] reads apps.
    pub fn service_principals(
        &self,
        select: &str,
        page_size: usize,
        each: impl FnMut(Vec<Value>) -> Result<()>,
    ) -> Result<()> {
        self.collection("servicePrincipals", None, select, page_size, each)
    }

    /// Every object of a directory collection (`applications`, `servicePrincipals`), page by page.
    fn collection(
        &self,
        resource: &str,
        filter: Option<&str>,
        select: &str,
        page_size: usize,
        mut each: impl FnMut(Vec<Value>) -> Result<()>,
    ) -> Result<()> {
        let eventual = filter.is_some_and(|f| !f.trim_start().starts_with("appId eq "));
        let mut url = format!(
            "{}/v1.0/{resource}?$select={select}&$top={}",
            self.base,
            page_size.clamp(1, MAX_PAGE)
        );
        if let Some(filter) = filter {
            url.push_str(&format!("&$filter={}", encode(filter)));
            if eventual {
                url.push_str("&$count=true");
            }
        }
        let mut pages = Pages::new(&self.base);
        // One --timeout for the whole listing: a Graph that pages on and on ends with an error, not never.
        let deadline = Instant::now() + self.timeout;
        loop {
            let answer = self.send_by("GET", &url, None, eventual, deadline)?;
            each(answer.page(resource)?)?;
            match pages.next(&answer.body)? {
                // Followed exactly as given: the skip token is Graph's, never rebuilt.
                Some(next) => url = next,
                None => return Ok(()),
            }
        }
    }

    /// One application. With `with_keys`, `$select` names `keyCredentials`, the only way Graph returns the
    /// certificates themselves (`key`), and `select` lists the properties wanted.
    pub fn application(&self, app: AppRef, select: Option<&str>) -> Result<Value> {
        let mut url = format!("{}/v1.0/applications{}", self.base, app.segment());
        if let Some(select) = select {
            url.push_str(&format!("?$select={select}"));
        }
        Ok(self.send("GET", &url, None, false)?.body)
    }

    /// The service principal of `app_id` in this tenant, or `None` when it has none (the app was never consented
    /// to or created here).
    pub fn service_principal(&self, app_id: Uuid) -> Result<Option<Value>> {
        let url = format!("{}/v1.0/servicePrincipals(appId='{app_id}')", self.base);
        match self.send("GET", &url, None, false) {
            Ok(answer) => Ok(Some(answer.body)),
            Err(Error::Graph(failure)) if failure.code == "Request_ResourceNotFound" => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// The app roles granted to a service principal (`appRoleAssignments`: what admin consent gave it), every page.
    pub fn app_role_assignments(&self, service_principal: &str) -> Result<Vec<Value>> {
        let url = format!(
            "{}/v1.0/servicePrincipals/{service_principal}/appRoleAssignments",
            self.base
        );
        self.list_all(url)
    }

    /// Every item of a collection, page after page (each next link checked as a listing's is).
    pub(crate) fn list_all(&self, mut url: String) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        let mut pages = Pages::new(&self.base);
        let deadline = Instant::now() + self.timeout;
        loop {
            let answer = self.send_by("GET", &url, None, false, deadline)?;
            all.extend(
                answer
                    .body
                    .get("value")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            );
            match pages.next(&answer.body)? {
                Some(next) => url = next,
                None => return Ok(all),
            }
        }
    }

    /// `PATCH /applications/{id}` with the whole `keyCredentials` collection: Graph replaces it, so every
    /// credential to keep must be in `credentials`.
    pub fn patch_key_credentials(&self, object_id: Uuid, credentials: &[Value]) -> Result<()> {
        let url = format!("{}/v1.0/applications/{object_id}", self.base);
        let body = serde_json::json!({ "keyCredentials": credentials });
        self.send("PATCH", &url, Some(&body), false).map(drop)
    }

    /// `POST /applications/{id}/addKey` with a proof-carrying body; returns the keyCredential Graph added.
    pub fn add_key(&self, object_id: Uuid, body: &Value) -> Result<Value> {
        let url = format!("{}/v1.0/applications/{object_id}/addKey", self.base);
        Ok(self.send("POST", &url, Some(body), false)?.body)
    }

    /// `POST /applications/{id}/removeKey` with a proof-carrying body.
    pub fn remove_key(&self, object_id: Uuid, body: &Value) -> Result<()> {
        let url = format!("{}/v1.0/applications/{object_id}/removeKey", self.base);
        self.send("POST", &url, Some(body), false).map(drop)
    }
}

/// One answer as received, with the wait Graph asked for.
struct Answered {
    status: u16,
    body: Value,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    /// How close to its limit Graph says the tenant is (`x-ms-throttle-limit-percentage`).
    limit_percentage: Option<f64>,
}

/// The exponential backoff before retry `attempt` (0, 1, …) when Graph gave no `Retry-After`: 1, 2, 4 … s up to
/// [`MAX_BACKOFF`], each with up to half of it taken off at random, so that parallel workers do not retry in step.
fn backoff(attempt: u32) -> Duration {
    let full = Duration::from_secs(1u64 << attempt.min(5)).min(MAX_BACKOFF);
    let jitter = u32::from(crate::secret::random_bytes::<1>().map_or(0, |b| b[0]));
    full - full.mul_f64(f64::from(jitter) / 512.0)
}

/// Percent-encodes a query value (OData filters have spaces, quotes, slashes and parentheses).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'\''
            | b'('
            | b')'
            | b':' => out.push(byte as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_limit_with_jitter() {
        for attempt in 0..10 {
            let full = Duration::from_secs(1u64 << attempt.min(5)).min(MAX_BACKOFF);
            let wait = backoff(attempt);
            assert!(wait <= full && wait >= full / 2, "{attempt}: {wait:?}");
        }
    }

    #[test]
    fn filters_are_encoded_for_the_query() {
        assert_eq!(
            encode("keyCredentials/any(k:k/endDateTime le 2027-01-01T00:00:00Z)"),
            "keyCredentials%2Fany(k:k%2FendDateTime%20le%202027-01-01T00:00:00Z)"
        );
        assert_eq!(encode("appId eq 'x'"), "appId%20eq%20'x'");
    }

    #[test]
    fn a_wait_holds_every_caller() {
        let throttle = Throttle::default();
        let start = Instant::now();
        throttle.hold_until(start + Duration::from_millis(50));
        throttle.hold_until(start + Duration::from_millis(10));
        throttle.wait();
        assert!(start.elapsed() >= Duration::from_millis(50));
    }

    #[test]
    fn a_later_retry_after_holds_a_caller_already_waiting() {
        let throttle = Throttle::default();
        let start = Instant::now();
        throttle.hold_until(start + Duration::from_millis(60));
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                throttle.wait();
                start.elapsed()
            });
            // Another request is throttled while the first caller sleeps towards the earlier pause.
            std::thread::sleep(Duration::from_millis(20));
            throttle.hold_until(start + Duration::from_millis(250));
            let woke = waiter.join().unwrap();
            assert!(
                woke >= Duration::from_millis(250),
                "the waiting caller went on after {woke:?}, before the later Retry-After ended"
            );
        });
    }
}
