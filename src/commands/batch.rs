//! `keycred batch`: a provisioning or rotation run over many apps, in parallel, with progress.
//!
//! Each app goes through the same steps as `keycred new` (provisioning) or `keycred rotate --in-place`
//! (rotation). Workers take apps from a shared counter and send one small result per app to the main thread,
//! which shows progress and keeps only those results, so memory stays flat however long the plan is.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use keycred::batch::{self, BatchApp};
use keycred::fsio::{self, Access, OutputFile};
use keycred::interrupt::Interrupt;
use keycred::secret::PASSWORD_ENV;
use serde_json::{json, Value};

use keycred::workflow::batch_app;

use crate::cli::BatchArgs;
use crate::terminal;

/// What happened to one app.
struct AppResult {
    index: usize,
    name: String,
    action: &'static str,
    detail: String,
    thumbprint: Option<String>,
    files: Vec<(keycred::provision::FileRole, String)>,
    seconds: f64,
}

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
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .clamp(1, apps.len().max(1));

    let started = time::OffsetDateTime::now_utc();
    let progress = terminal::Progress::new(apps.len());
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<AppResult>();
    let mut results: Vec<AppResult> = Vec::with_capacity(apps.len());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let sender = sender.clone();
            let (apps, next, args, interrupt, passwords, graph) =
                (&apps, &next, &args, &interrupt, &passwords, &graph);
            scope.spawn(move || loop {
                // After a signal no new app starts; the ones in progress finish or roll back.
                if interrupt.signal().is_some() {
                    break;
                }
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(app) = apps.get(index) else { break };
                let clock = Instant::now();
                let mut result = match batch_app::run_app(
                    app,
                    args.generate_password,
                    passwords,
                    interrupt,
                    graph.as_ref(),
                ) {
                    Ok(outcome) => AppResult {
                        index,
                        name: app.name.clone(),
                        action: outcome.result.as_str(),
                        detail: outcome.detail,
                        thumbprint: outcome.thumbprint,
                        files: outcome.files,
                        seconds: 0.0,
                    },
                    Err(error) => AppResult {
                        index,
                        name: app.name.clone(),
                        action: match error {
                            keycred::Error::Interrupted(_) => "interrupted",
                            _ => "failed",
                        },
                        detail: batch::in_plan_words(&format!("{error:#}")),
                        thumbprint: None,
                        files: Vec::new(),
                        seconds: 0.0,
                    },
                };
                result.index = index;
                result.seconds = clock.elapsed().as_secs_f64();
                if sender.send(result).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        for result in receiver {
            progress.done(&result.name, result.action, &result.detail);
            results.push(result);
        }
    });
    progress.finish();
    let signal = interrupt.signal();
    if let Some(signal) = signal {
        let started: Vec<usize> = results.iter().map(|r| r.index).collect();
        for (index, app) in apps.iter().enumerate() {
            if !started.contains(&index) {
                results.push(AppResult {
                    index,
                    name: app.name.clone(),
                    action: "not started",
                    detail: format!(
                        "the run was interrupted by {} first",
                        keycred::interrupt::signal_name(signal)
                    ),
                    thumbprint: None,
                    files: Vec::new(),
                    seconds: 0.0,
                });
            }
        }
    }
    results.sort_by_key(|r| r.index);

    let count = |action: &str| results.iter().filter(|r| r.action == action).count();
    let failed = count("failed");
    let report = json!({
        "plan": args.plan.display().to_string(),
        "startedAt": keycred::time_fmt::rfc3339_utc(started),
        "finishedAt": keycred::time_fmt::rfc3339_utc(time::OffsetDateTime::now_utc()),
        "jobs": jobs,
        "interruptedBy": signal.map(keycred::interrupt::signal_name),
        "counts": {
            "provisioned": count("provisioned"),
            "rotated": count("rotated"),
            "skipped": count("skipped"),
            "requested": count("requested"),
            "failed": failed,
            "interrupted": count("interrupted"),
            "notStarted": count("not started"),
        },
        "apps": results.iter().map(|r| json!({
            "name": r.name,
            "result": r.action,
            "detail": r.detail,
            "thumbprint": r.thumbprint,
            "files": r.files.iter().map(|(role, path)| (role.as_str().to_owned(), Value::String(path.clone())))
                .collect::<serde_json::Map<String, Value>>(),
            "secrets": keycred::report::secrets_advice(&r.files),
            "seconds": (r.seconds * 1000.0).round() / 1000.0,
        })).collect::<Vec<Value>>(),
    });
    if args.json {
        terminal::print_json(&report);
    } else {
        terminal::print(&summary_table(&results));
        let mut line = format!(
            "{} apps: {} provisioned, {} rotated, {} skipped, {} failed",
            results.len(),
            count("provisioned"),
            count("rotated"),
            count("skipped"),
            failed,
        );
        if count("requested") > 0 {
            line.push_str(&format!(
                ", {} requested from the CA (run again once its answers are beside the requests)",
                count("requested")
            ));
        }
        if let Some(signal) = signal {
            line.push_str(&format!(
                ", {} interrupted (nothing written), {} not started: stopped by {}",
                count("interrupted"),
                count("not started"),
                keycred::interrupt::signal_name(signal)
            ));
        }
        terminal::print(&format!("{line} ({jobs} jobs)\n"));
        terminal::print(&secrets_lines(&results));
    }
    if let Some(path) = &args.report {
        let text = format!(
            "{}\n",
            serde_json::to_string_pretty(&report).expect("JSON values serialize")
        );
        // A report is the run's output: each run replaces the last one's (atomically).
        fsio::replace_own(&[OutputFile::new(path, text, Access::Public)])?;
    }
    if let Some(signal) = signal {
        return Ok(128 + signal);
    }
    Ok(if failed > 0 {
        keycred::exit::FAILURE
    } else {
        keycred::exit::SUCCESS
    })
}

/// The secrets advice of every app that wrote files, once per kind of advice: the first such app's lines, with
/// the other apps that wrote the same kinds of files named.
fn secrets_lines(results: &[AppResult]) -> String {
    let mut groups: Vec<(Vec<keycred::provision::FileRole>, &AppResult, Vec<&str>)> = Vec::new();
    for r in results.iter().filter(|r| !r.files.is_empty()) {
        let roles: Vec<_> = r.files.iter().map(|(role, _)| *role).collect();
        match groups.iter_mut().find(|(g, _, _)| *g == roles) {
            Some((_, _, others)) => others.push(&r.name),
            None => groups.push((roles, r, Vec::new())),
        }
    }
    let mut out = String::new();
    for (_, first, others) in groups {
        for advice in keycred::report::secrets_advice(&first.files) {
            out.push_str(&advice);
            if !others.is_empty() {
                let shown: Vec<&str> = others.iter().take(5).copied().collect();
                let more = others.len() - shown.len();
                out.push_str(&format!(
                    " (likewise in the folders of {}{})",
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                ));
            }
            out.push('\n');
        }
    }
    out
}

fn summary_table(results: &[AppResult]) -> String {
    let width = results
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!("{:<width$}  {:<11}  detail\n", "app", "result");
    for r in results {
        out.push_str(&format!(
            "{:<width$}  {:<11}  {}\n",
            r.name, r.action, r.detail
        ));
    }
    out
}
