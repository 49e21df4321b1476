//! `keycred check`: clap arguments → a check request → the workflow → the verdicts, as text or JSON and as the
//! exit code.

use keycred::report;
use keycred::workflow::check::{self, CheckRequest};

use crate::cli::CheckArgs;
use crate::terminal;

pub fn run(args: CheckArgs) -> anyhow::Result<i32> {
    let now = time::OffsetDateTime::now_utc();
    let request = CheckRequest {
        files: args.files.clone(),
        format: args.format.map(Into::into),
        warn: time::Duration::days(i64::from(args.warn_days)),
    };
    let outcome = check::check(
        &request,
        &super::password_sources(&args.password, None),
        now,
    );
    for (_, error) in &outcome.errors {
        terminal::eprint_line(&format!("keycred: error: {error}"));
    }
    for file in &outcome.files {
        for problem in &file.problems {
            terminal::eprint_line(&format!("keycred: error: {}: {problem}", file.file));
        }
    }
    if args.json {
        terminal::print_json(&report::check_json(
            &outcome.files,
            &outcome.errors,
            now,
            request.warn,
            outcome.exit_code,
        ));
    } else {
        terminal::print(&report::check_text(&outcome.files, now, request.warn));
    }
    Ok(outcome.exit_code)
}
