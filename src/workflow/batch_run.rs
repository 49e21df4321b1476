//! A whole batch plan: its apps through [`super::batch_app::run_app`], `jobs` at a time on the one runner
//! [`super::rotation::runner`] that `graph rotate` uses too. One app's failure does not stop the others; after a
//! signal no new app starts, and those in progress finish or roll back.

use std::time::Instant;

use time::OffsetDateTime;

use super::batch_app::{self, AppResult};
use crate::batch::{self, BatchApp};
use crate::graph::GraphClient;
use crate::input::PasswordSources;
use crate::interrupt::Interrupt;
use crate::provision::FileRole;

/// A run of a plan that [`crate::batch::parse_plan`] read and checked.
pub struct BatchRequest<'a> {
    /// The plan file, as the report names it.
    pub plan: String,
    /// Its apps.
    pub apps: &'a [BatchApp],
    /// How many apps run at once (at least one, at most one per app).
    pub jobs: usize,
    /// `--generate-password`: a new PFX password per app.
    pub generate_password: bool,
    /// The Graph connection, when a row rotates in the tenant.
    pub graph: Option<&'a GraphClient>,
}

/// How one app's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchAction {
    /// It ran to the end.
    Done(AppResult),
    /// It failed; nothing of it was left half-written.
    Failed,
    /// A signal stopped it before it wrote anything.
    Interrupted,
    /// A signal came before it started.
    NotStarted,
}

impl BatchAction {
    /// The word in the summary, the progress lines and the report.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchAction::Done(result) => result.as_str(),
            BatchAction::Failed => "failed",
            BatchAction::Interrupted => "interrupted",
            BatchAction::NotStarted => "not started",
        }
    }
}

/// What happened to one app.
#[derive(Debug, Clone)]
pub struct BatchAppResult {
    /// Its name in the plan.
    pub name: String,
    /// How it ended.
    pub action: BatchAction,
    /// In words (an error in the plan's words).
    pub detail: String,
    /// The new certificate's SHA-1 thumbprint (hex), when one was added.
    pub thumbprint: Option<String>,
    /// The files it wrote, with their roles.
    pub files: Vec<(FileRole, String)>,
    /// How long it took.
    pub seconds: f64,
}

/// The whole run, its apps in the plan's order.
#[derive(Debug)]
pub struct BatchOutcome {
    /// The plan file.
    pub plan: String,
    /// When the run started and ended.
    pub started: OffsetDateTime,
    /// When it ended.
    pub finished: OffsetDateTime,
    /// How many apps ran at once.
    pub jobs: usize,
    /// The signal that stopped it, if one did.
    pub interrupted_by: Option<i32>,
    /// Every app of the plan.
    pub apps: Vec<BatchAppResult>,
}

impl BatchOutcome {
    /// How many apps ended as `action`.
    pub fn count(&self, action: BatchAction) -> usize {
        self.apps.iter().filter(|r| r.action == action).count()
    }
}

/// Runs every app of `request`; `done` hears of each one as it ends (for progress). `started` is the run's start,
/// as the report gives it.
pub fn run_batch(
    request: BatchRequest<'_>,
    passwords: &PasswordSources,
    interrupt: &Interrupt,
    started: OffsetDateTime,
    done: impl FnMut(&BatchAppResult),
) -> BatchOutcome {
    let jobs = request.jobs.clamp(1, request.apps.len().max(1));
    let results = super::rotation::runner::run_all(
        request.apps,
        jobs,
        interrupt,
        |_, app| {
            let clock = Instant::now();
            let mut result = match batch_app::run_app(
                app,
                request.generate_password,
                passwords,
                interrupt,
                request.graph,
            ) {
                Ok(outcome) => BatchAppResult {
                    name: app.name.clone(),
                    action: BatchAction::Done(outcome.result),
                    detail: outcome.detail,
                    thumbprint: outcome.thumbprint,
                    files: outcome.files,
                    seconds: 0.0,
                },
                Err(error) => BatchAppResult {
                    name: app.name.clone(),
                    action: match error {
                        crate::Error::Interrupted(_) => BatchAction::Interrupted,
                        _ => BatchAction::Failed,
                    },
                    detail: error.say(&batch::PlanWords),
                    thumbprint: None,
                    files: Vec::new(),
                    seconds: 0.0,
                },
            };
            result.seconds = clock.elapsed().as_secs_f64();
            result
        },
        done,
    );
    let interrupted_by = interrupt.signal();
    let apps = results
        .into_iter()
        .zip(request.apps)
        .map(|(result, app)| {
            result.unwrap_or_else(|| BatchAppResult {
                name: app.name.clone(),
                action: BatchAction::NotStarted,
                detail: format!(
                    "the run was interrupted by {} first",
                    crate::error::signal_name(interrupted_by.unwrap_or(15))
                ),
                thumbprint: None,
                files: Vec::new(),
                seconds: 0.0,
            })
        })
        .collect();
    BatchOutcome {
        plan: request.plan,
        started,
        finished: OffsetDateTime::now_utc(),
        jobs,
        interrupted_by,
        apps,
    }
}
