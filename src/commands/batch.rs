//! `keycred batch`: a provisioning or rotation run over many apps, in parallel, with progress.
//!
//! Each app goes through the same steps as `keycred new` (provisioning) or `keycred rotate --in-place`
//! (rotation), run by [`keycred::workflow::batch_run`] on the runner `graph rotate` uses; this front end reads
//! the plan and the flags, shows progress, and prints and writes the report.

use std::path::Path;

use keycred::batch::{self, BatchApp};
use keycred::fsio;
use keycred::interrupt::Interrupt;
use keycred::secret::PASSWORD_ENV;
use keycred::workflow::batch_run::{self, BatchAction, BatchRequest};

use crate::cli::BatchArgs;
use crate::terminal;

pub fn run(args: BatchArgs) -> anyhow::Result<i32> {
    let text = keycred::input::read_text(&args.plan)?;
    let base = args
        .plan
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let apps = batch::parse_plan(&text, &args.plan.display().to_string(), base)?;
    batch::check_manifests(&apps, &args.plan.display().to_string())?;
    if apps.iter().any(BatchApp::wants_pfx)
        && args.password_file.is_none()
        && !args.generate_password
        && std::env::var_os(PASSWORD_ENV).is_none()
    {
        return Err(keycred::Error::Password(format!(
            "the plan writes PFX files, so batch needs a password source: --password-file PATH, \
             --generate-password (one per app), or {PASSWORD_ENV}; or set no_pfx = true in the plan"
        ))
        .into());
    }
    if let Some(report) = &args.report {
        // Checked before any app runs: a run must not end unable to say what it did.
        keycred::batch::check_report_target(report)?;
    }
    // Connected once, before any app runs, and only when a row rotates in the tenant.
    let graph = if apps.iter().any(|a| a.graph_app.is_some()) {
        Some(super::graph_connect(
            &args.graph,
            time::OffsetDateTime::now_utc(),
        )?)
    } else {
        None
    };
    let interrupt = Interrupt::install()?;
    // Batch never prompts: a scheduled run has nobody to answer.
    let passwords =
        keycred::input::PasswordSources::from_environment(args.password_file.clone(), None, None);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let progress = terminal::Progress::new(apps.len());
    let request = BatchRequest {
        plan: args.plan.display().to_string(),
        apps: &apps,
        jobs,
        generate_password: args.generate_password,
        graph: graph.as_ref(),
    };
    let outcome = batch_run::run_batch(
        request,
        &passwords,
        &interrupt,
        time::OffsetDateTime::now_utc(),
        |result| progress.done(&result.name, result.action.as_str(), &result.detail),
    );
    progress.finish();
    let report = keycred::report::batch::batch_json(&outcome);
    if args.json {
        terminal::print_json(&report);
    } else {
        terminal::print(&keycred::report::batch::batch_text(&outcome));
    }
    if let Some(path) = &args.report {
        // A report is the run's output: each run replaces the last one's (atomically).
        fsio::write_report(path, &report)?;
    }
    if let Some(signal) = outcome.interrupted_by {
        return Ok(128 + signal);
    }
    Ok(if outcome.count(BatchAction::Failed) > 0 {
        keycred::exit::FAILURE
    } else {
        keycred::exit::SUCCESS
    })
}
