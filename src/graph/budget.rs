//! Graph's request budget, kept on keycred's side so that a tenant run paces itself under Graph's published
//! limits instead of running into 429s (DESIGN.md "Microsoft Graph", "Graph at tenant scale"):
//!
//! - reads that return keys (`$select=keyCredentials` on one application): 150 a minute per tenant;
//! - writes: 3,000 per 150 s per app and tenant;
//! - resource units: 3,500 per 10 s at the smallest tenant size (a read costs 2, 1 with `$select`; a write 1).
//!
//! Each limit is a sliding window. A request holds its place in a window from the moment it is sent until its
//! answer has been in for the window's span, so requests still in flight count, and Graph, which counts them as
//! they arrive, never sees more than the limit in any window. Every worker of a run shares one budget. `share`
//! (`--budget`, a percentage) leaves the rest of each limit to other tools in the tenant.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// What one request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// A read that names keyCredentials in `$select` on one application: the rationed read.
    KeyRead,
    /// Any other read; `selected` when it has a `$select` (half the units).
    Read {
        /// It names the properties it wants.
        selected: bool,
    },
    /// A write (PATCH, POST, DELETE).
    Write,
}

impl Spend {
    /// What a request spends, from its method and URL.
    pub fn of(method: &str, url: &str) -> Spend {
        if !method.eq_ignore_ascii_case("GET") {
            return Spend::Write;
        }
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let select = query.split('&').find_map(|pair| {
            pair.strip_prefix("$select=")
                .or(pair.strip_prefix("%24select="))
        });
        let one_application = path
            .rsplit_once("/applications")
            .is_some_and(|(_, rest)| rest.starts_with('/') || rest.starts_with('('))
            && !path.ends_with("/delta");
        match select {
            Some(fields)
                if one_application
                    && fields
                        .split([',', '%'])
                        .any(|f| f == "keyCredentials" || f == "2CkeyCredentials") =>
            {
                Spend::KeyRead
            }
            Some(_) => Spend::Read { selected: true },
            None => Spend::Read { selected: false },
        }
    }
}

/// Requests counted by what they spend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    /// Reads that returned keys (`$select=keyCredentials` on one application).
    pub key_reads: u64,
    /// Other reads (listing pages, one application's metadata, policies).
    pub reads: u64,
    /// Writes.
    pub writes: u64,
}

impl Spent {
    /// Every request.
    pub fn total(&self) -> u64 {
        self.key_reads + self.reads + self.writes
    }
}

/// What a run will spend, and the least time Graph's limits allow for it at the run's `--budget`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// The requests.
    pub spend: Spent,
    /// The least time, on Graph's clock.
    pub least: Duration,
    /// The limit that sets it.
    pub limit: Limit,
    /// The run's share of Graph's limits, in percent.
    pub share: u8,
}

/// One of Graph's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Reads that return keys.
    KeyReads,
    /// Writes.
    Writes,
    /// Resource units.
    Units,
}

impl Limit {
    /// Its name in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Limit::KeyReads => "Graph's limit for reading keys (150 a minute per tenant)",
            Limit::Writes => "Graph's limit for writes (3,000 per 150 s)",
            Limit::Units => "Graph's request limit (3,500 units per 10 s)",
        }
    }

    const ALL: [Limit; 3] = [Limit::KeyReads, Limit::Writes, Limit::Units];

    /// Its name in keycred's record of what runs spent.
    pub fn name(self) -> &'static str {
        match self {
            Limit::KeyReads => "keyReads",
            Limit::Writes => "writes",
            Limit::Units => "units",
        }
    }

    /// The limit of that name.
    pub fn named(name: &str) -> Option<Limit> {
        Limit::ALL.into_iter().find(|limit| limit.name() == name)
    }

    /// Graph's published limit: how many in how long.
    pub fn published(self) -> (u32, Duration) {
        match self {
            Limit::KeyReads => (150, Duration::from_secs(60)),
            Limit::Writes => (3000, Duration::from_secs(150)),
            Limit::Units => (3500, Duration::from_secs(10)),
        }
    }

    /// What `spend` costs against this limit.
    fn cost(self, spend: Spend) -> u32 {
        match (self, spend) {
            (Limit::KeyReads, Spend::KeyRead) | (Limit::Writes, Spend::Write) => 1,
            (Limit::Units, Spend::KeyRead | Spend::Write | Spend::Read { selected: true }) => 1,
            (Limit::Units, Spend::Read { selected: false }) => 2,
            _ => 0,
        }
    }
}

/// One place in a window: its cost, and when its answer came in (`None` while in flight).
#[derive(Debug)]
struct Place {
    ticket: u64,
    cost: u32,
    answered: Option<Instant>,
}

#[derive(Debug)]
struct Window {
    limit: u32,
    span: Duration,
    places: VecDeque<Place>,
}

impl Window {
    fn forget_old(&mut self, now: Instant) {
        let span = self.span;
        self.places
            .retain(|p| p.answered.is_none_or(|at| at + span > now));
    }

    fn used(&self) -> u32 {
        self.places.iter().map(|p| p.cost).sum()
    }

    /// When a place frees up next, if one is answered (else a request in flight must end first).
    fn next_free(&self) -> Option<Instant> {
        self.places
            .iter()
            .filter_map(|p| p.answered)
            .min()
            .map(|at| at + self.span)
    }
}

#[derive(Debug)]
struct State {
    windows: Vec<Window>,
    next_ticket: u64,
}

/// The budget every request of a run spends from.
#[derive(Debug)]
pub struct Budget {
    share: u8,
    scale: f64,
    state: Mutex<State>,
    freed: Condvar,
    /// Requests let through, by what they spend: key reads, reads, writes.
    counted: [AtomicU64; 3],
    /// Called with the budget when it is dropped (at the end of the run): keeps what it spent for the next run.
    on_drop: Mutex<Option<DropHook>>,
}

/// What a budget does when the run ends.
struct DropHook(Box<dyn FnOnce(&Budget) + Send>);

impl std::fmt::Debug for DropHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DropHook")
    }
}

/// A place an earlier run held in one of the windows: its cost, and when its answer came in (wall clock, since
/// runs do not share a monotonic clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remembered {
    /// The window.
    pub limit: Limit,
    /// Its cost there.
    pub cost: u32,
    /// When its answer came in.
    pub at: std::time::SystemTime,
}

impl Drop for Budget {
    fn drop(&mut self) {
        let hook = self.on_drop.get_mut().ok().and_then(Option::take);
        if let Some(DropHook(hook)) = hook {
            hook(self);
        }
    }
}

/// A request's places in the windows, freed (counted from now) when it is dropped.
#[derive(Debug)]
pub struct Ticket<'a> {
    budget: &'a Budget,
    ticket: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let now = Instant::now();
        let mut state = self.budget.lock();
        for window in &mut state.windows {
            for place in window.places.iter_mut().filter(|p| p.ticket == self.ticket) {
                place.answered = Some(now);
            }
        }
        drop(state);
        self.budget.freed.notify_all();
    }
}

impl Budget {
    /// A budget of `share` percent (1 to 100) of Graph's limits. `scale` speeds time up (1 for Graph; a test
    /// server on this machine may run its minutes faster).
    pub fn new(share: u8, scale: f64) -> Budget {
        let share = share.clamp(1, 100);
        let scale = if scale.is_finite() && scale >= 1.0 {
            scale
        } else {
            1.0
        };
        let windows = Limit::ALL
            .iter()
            .map(|limit| {
                let (count, span) = limit.published();
                Window {
                    limit: (count * u32::from(share) / 100).max(1),
                    span: span.div_f64(scale),
                    places: VecDeque::new(),
                }
            })
            .collect();
        Budget {
            share,
            scale,
            state: Mutex::new(State {
                windows,
                next_ticket: 0,
            }),
            freed: Condvar::new(),
            counted: Default::default(),
            on_drop: Mutex::new(None),
        }
    }

    /// Has `hook` called with the budget when the run ends (the budget is dropped).
    pub fn when_done(&self, hook: impl FnOnce(&Budget) + Send + 'static) {
        *self
            .on_drop
            .lock()
            .expect("the hook lock is never poisoned") = Some(DropHook(Box::new(hook)));
    }

    /// The places still inside their windows at `now` (wall clock), those of requests in flight as answered now:
    /// what a run right after this one must count as spent.
    pub fn remembered(&self, now: std::time::SystemTime) -> Vec<Remembered> {
        let mut state = self.lock();
        let instant = Instant::now();
        let mut out = Vec::new();
        for (window, limit) in state.windows.iter_mut().zip(Limit::ALL) {
            window.forget_old(instant);
            for place in &window.places {
                let ago = place
                    .answered
                    .map_or(Duration::ZERO, |at| instant.saturating_duration_since(at));
                out.push(Remembered {
                    limit,
                    cost: place.cost,
                    at: now.checked_sub(ago).unwrap_or(now),
                });
            }
        }
        out
    }

    /// Counts the places an earlier run held (at most a window's worth each): those still inside their window
    /// at `now` (wall clock) take their place, answered when they were.
    pub fn recall(&self, places: &[Remembered], now: std::time::SystemTime) {
        let mut state = self.lock();
        let instant = Instant::now();
        for (window, limit) in state.windows.iter_mut().zip(Limit::ALL) {
            let mut held = 0u32;
            for place in places.iter().filter(|p| p.limit == limit) {
                // A place from the future (a clock set back, a record made up) counts as answered now.
                let ago = now.duration_since(place.at).unwrap_or(Duration::ZERO);
                let cost = place.cost.min(window.limit);
                if ago >= window.span || held + cost > window.limit {
                    continue;
                }
                held += cost;
                window.places.push_back(Place {
                    ticket: 0,
                    cost,
                    answered: Some(instant.checked_sub(ago).unwrap_or(instant)),
                });
            }
        }
    }

    /// The requests let through so far.
    pub fn spent(&self) -> Spent {
        let count = |i: usize| self.counted[i].load(Ordering::Relaxed);
        Spent {
            key_reads: count(0),
            reads: count(1),
            writes: count(2),
        }
    }

    /// What `spend` costs, and the least time it takes within this budget, on Graph's clock (this budget's
    /// scale undone).
    pub fn estimate(&self, spend: Spent) -> Estimate {
        let (least, limit) = self.least_time(spend.key_reads, spend.reads, spend.writes);
        Estimate {
            spend,
            least: least.mul_f64(self.scale),
            limit,
            share: self.share,
        }
    }

    /// The percentage of Graph's limits this budget uses.
    pub fn share(&self) -> u8 {
        self.share
    }

    /// How much faster than Graph's clock this budget runs (1 against Graph).
    pub fn scale(&self) -> f64 {
        self.scale
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("the budget lock is never poisoned")
    }

    /// Waits until `spend` fits in every window, or until `deadline`; returns its ticket, or `None` when the
    /// deadline came first.
    pub fn spend(&self, spend: Spend, deadline: Instant) -> Option<Ticket<'_>> {
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            let mut wake: Option<Instant> = None;
            let mut fits = true;
            for (window, limit) in state.windows.iter_mut().zip(Limit::ALL) {
                let cost = limit.cost(spend);
                if cost == 0 {
                    continue;
                }
                window.forget_old(now);
                if window.used() + cost > window.limit && !window.places.is_empty() {
                    fits = false;
                    if let Some(at) = window.next_free() {
                        wake = Some(wake.map_or(at, |w| w.max(at)));
                    }
                }
            }
            if fits {
                state.next_ticket += 1;
                let ticket = state.next_ticket;
                let counter = match spend {
                    Spend::KeyRead => 0,
                    Spend::Read { .. } => 1,
                    Spend::Write => 2,
                };
                self.counted[counter].fetch_add(1, Ordering::Relaxed);
                for (window, limit) in state.windows.iter_mut().zip(Limit::ALL) {
                    let cost = limit.cost(spend);
                    if cost > 0 {
                        window.places.push_back(Place {
                            ticket,
                            cost,
                            answered: None,
                        });
                    }
                }
                return Some(Ticket {
                    budget: self,
                    ticket,
                });
            }
            if now >= deadline {
                return None;
            }
            // Until a place frees up (or, all of them in flight, until an answer comes in), never past the
            // deadline.
            let until = wake.unwrap_or(deadline).min(deadline);
            let wait = until
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            state = self
                .freed
                .wait_timeout(state, wait)
                .expect("the budget lock is never poisoned")
                .0;
        }
    }

    /// The least time `key_reads`, `reads` (without `$select`) and `writes` take within this budget, from an
    /// idle start: the first window's worth goes at once, each further one a span later. The longest of the
    /// limits, and which one it is.
    fn least_time(&self, key_reads: u64, reads: u64, writes: u64) -> (Duration, Limit) {
        let state = self.lock();
        Limit::ALL
            .iter()
            .zip(&state.windows)
            .map(|(limit, window)| {
                let needed = key_reads * u64::from(limit.cost(Spend::KeyRead))
                    + reads * u64::from(limit.cost(Spend::Read { selected: false }))
                    + writes * u64::from(limit.cost(Spend::Write));
                let per = u64::from(window.limit);
                let spans = needed.saturating_sub(1) / per;
                (window.span.mul_f64(spans as f64), *limit)
            })
            .max_by_key(|(time, _)| *time)
            .unwrap_or((Duration::ZERO, Limit::KeyReads))
    }
}

/// The wait before the next request when Graph says (`x-ms-throttle-limit-percentage`, sent above 0.8) how close
/// to its limit the tenant is: none below 0.8, up to a second (on Graph's clock) at the limit.
pub fn slow_down(percentage: f64, scale: f64) -> Duration {
    if !percentage.is_finite() || percentage < 0.8 {
        return Duration::ZERO;
    }
    let closeness = ((percentage - 0.8) / 0.2).min(1.0);
    Duration::from_secs_f64(closeness / scale.max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_told_apart_by_what_they_spend() {
        let base = "https://graph.microsoft.com/v1.0";
        let cases = [
            (
                "GET",
                format!("{base}/applications/abc?$select=id,keyCredentials"),
                Spend::KeyRead,
            ),
            (
                "GET",
                format!("{base}/applications(appId='x')?$select=keyCredentials"),
                Spend::KeyRead,
            ),
            (
                "GET",
                format!("{base}/applications?$select=id,keyCredentials&$top=999"),
                Spend::Read { selected: true },
            ),
            (
                "GET",
                format!("{base}/applications/abc"),
                Spend::Read { selected: false },
            ),
            (
                "GET",
                format!("{base}/applications/abc?$select=id,appId"),
                Spend::Read { selected: true },
            ),
            ("PATCH", format!("{base}/applications/abc"), Spend::Write),
            ("POST", format!("{base}/$batch"), Spend::Write),
        ];
        for (method, url, spend) in cases {
            assert_eq!(Spend::of(method, &url), spend, "{method} {url}");
        }
    }

    #[test]
    fn a_window_admits_its_limit_then_waits_for_the_oldest_answer_to_age() {
        // 150 key reads a minute, a minute lasting 60 ms here.
        let budget = Budget::new(100, 1000.0);
        let far = Instant::now() + Duration::from_secs(5);
        let start = Instant::now();
        let tickets: Vec<Ticket> = (0..150)
            .map(|_| budget.spend(Spend::KeyRead, far).unwrap())
            .collect();
        assert!(start.elapsed() < Duration::from_millis(50));
        // All 150 in flight: the next one cannot go, whatever the time, until one is answered.
        let soon = Instant::now() + Duration::from_millis(80);
        assert!(budget.spend(Spend::KeyRead, soon).is_none());
        let answered = Instant::now();
        drop(tickets);
        let next = budget.spend(Spend::KeyRead, far).unwrap();
        assert!(
            answered.elapsed() >= Duration::from_millis(60),
            "went on after {:?}, before the window's span",
            answered.elapsed()
        );
        drop(next);
        assert_eq!(budget.spent().key_reads, 151);
        // Other reads do not touch the key-read window.
        assert!(budget
            .spend(Spend::Read { selected: true }, Instant::now())
            .is_some());
    }

    #[test]
    fn a_run_counts_what_an_earlier_run_spent_until_it_ages_out() {
        // A minute lasting 600 ms.
        let earlier = Budget::new(100, 100.0);
        let far = Instant::now() + Duration::from_secs(5);
        for _ in 0..150 {
            drop(earlier.spend(Spend::KeyRead, far).unwrap());
        }
        let now = std::time::SystemTime::now();
        let places = earlier.remembered(now);
        assert_eq!(
            places.iter().filter(|p| p.limit == Limit::KeyReads).count(),
            150
        );
        let next = Budget::new(100, 100.0);
        // A place from long ago, and one made up for the future, beside the earlier run's.
        let mut recalled = places.clone();
        recalled.push(Remembered {
            limit: Limit::KeyReads,
            cost: 1,
            at: now - Duration::from_secs(3600),
        });
        next.recall(&recalled, now);
        let start = Instant::now();
        drop(next.spend(Spend::KeyRead, far).unwrap());
        assert!(
            start.elapsed() >= Duration::from_millis(500),
            "went on after {:?}, while the earlier run's reads were in the window",
            start.elapsed()
        );
        // A record cannot hold more than a window: a run never waits for more than one.
        let flood = vec![
            Remembered {
                limit: Limit::Writes,
                cost: 1,
                at: now,
            };
            100_000
        ];
        let other = Budget::new(100, 100.0);
        other.recall(&flood, now);
        assert_eq!(
            other
                .remembered(now)
                .iter()
                .filter(|p| p.limit == Limit::Writes)
                .count(),
            3000
        );
    }

    #[test]
    fn a_share_leaves_the_rest_of_each_limit() {
        let budget = Budget::new(10, 1000.0);
        let far = Instant::now() + Duration::from_secs(5);
        let held: Vec<Ticket> = (0..15)
            .map(|_| budget.spend(Spend::KeyRead, far).unwrap())
            .collect();
        assert!(budget.spend(Spend::KeyRead, Instant::now()).is_none());
        assert_eq!(held.len(), 15);
        assert_eq!(budget.share(), 10);
    }

    #[test]
    fn the_least_time_is_the_tightest_limit() {
        let budget = Budget::new(100, 1.0);
        assert_eq!(budget.least_time(150, 0, 0).0, Duration::ZERO);
        let (time, limit) = budget.least_time(1000, 0, 0);
        assert_eq!(limit, Limit::KeyReads);
        assert_eq!(time, Duration::from_secs(6 * 60));
        let (time, limit) = budget.least_time(0, 0, 6001);
        assert_eq!(limit, Limit::Writes);
        assert_eq!(time, Duration::from_secs(300));
        let half = Budget::new(50, 1.0);
        assert_eq!(half.least_time(1000, 0, 0).0, Duration::from_secs(13 * 60));
        // An estimate is on Graph's clock, whatever the budget's scale.
        let fast = Budget::new(100, 60.0);
        let spend = Spent {
            key_reads: 1000,
            reads: 0,
            writes: 0,
        };
        let estimate = fast.estimate(spend);
        assert_eq!(estimate.least, Duration::from_secs(6 * 60));
        assert_eq!(estimate.spend.total(), 1000);
        assert_eq!(estimate.share, 100);
    }

    #[test]
    fn graph_saying_it_is_near_its_limit_slows_the_next_request() {
        assert_eq!(slow_down(0.5, 1.0), Duration::ZERO);
        assert_eq!(slow_down(0.9, 1.0), Duration::from_millis(500));
        assert_eq!(slow_down(1.5, 1.0), Duration::from_secs(1));
        assert_eq!(slow_down(f64::NAN, 1.0), Duration::ZERO);
    }
}
