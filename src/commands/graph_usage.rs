//! `keycred graph usage` and `graph retire`: clap arguments → a selection (and retire's rules) → the workflow →
//! the usage report.

use keycred::usage::RetireRules;
use keycred::workflow::graph_retire::{self, Selection};
use keycred::workflow::tenant;

use crate::cli::{AppSelection, GraphRetireArgs, GraphUsageArgs};
use crate::terminal;

pub fn usage(args: &GraphUsageArgs) -> anyhow::Result<i32> {
    let now = time::OffsetDateTime::now_utc();
    let selection = selection(&args.selection)?;
    let client = super::graph_connect(&args.connect, now)?;
    let outcome = graph_retire::usage(&client, &selection, now)?;
    print(&outcome, args.json);
    Ok(failed_or(&outcome, keycred::exit::SUCCESS))
}

pub fn retire(args: &GraphRetireArgs) -> anyhow::Result<i32> {
    let now = time::OffsetDateTime::now_utc();
    let selection = selection(&args.selection)?;
    let rules = RetireRules {
        quiet_for: duration(&args.quiet_for, "--quiet-for")?,
        overlap: args
            .overlap
            .as_deref()
            .map(|d| duration(d, "--overlap"))
            .transpose()?,
    };
    let client = super::graph_connect(&args.connect, now)?;
    // A removal makes no PFX and reads none: nothing asks for a password.
    let passwords = keycred::input::PasswordSources::default();
    let outcome = graph_retire::retire(&client, &selection, &rules, args.apply, &passwords, now)?;
    print(&outcome, args.json);
    let kept = if outcome.kept_in_use() {
        keycred::exit::STILL_IN_USE
    } else {
        keycred::exit::SUCCESS
    };
    Ok(failed_or(&outcome, kept))
}

fn print(outcome: &graph_retire::UseOutcome, json: bool) {
    if json {
        terminal::print_json(&keycred::report::usage::usage_json(outcome));
    } else {
        terminal::print(&keycred::report::usage::usage_text(outcome));
    }
}

/// 1 when an app failed, else `code`.
fn failed_or(outcome: &graph_retire::UseOutcome, code: i32) -> i32 {
    if outcome.apps.iter().any(|a| a.error.is_some()) {
        keycred::exit::FAILURE
    } else {
        code
    }
}

fn selection(args: &AppSelection) -> keycred::Result<Selection> {
    Ok(Selection {
        apps: args
            .apps
            .iter()
            .map(|id| tenant::parse_app(id))
            .collect::<keycred::Result<Vec<_>>>()?,
        all: args.all,
        filter: args.filter.clone(),
        rotated: match &args.from_report {
            Some(path) => {
                let text = keycred::input::read_text(path)?;
                let source = path.display().to_string();
                graph_retire::rotated_in(&keycred::input::parse_json(&text, &source)?, &source)?
            }
            None => Vec::new(),
        },
    })
}

/// A duration as `30s`, `90m`, `24h` or `14d`.
fn duration(text: &str, flag: &str) -> keycred::Result<time::Duration> {
    let fail = || {
        keycred::Error::Invalid(format!(
            "{flag} {text:?}: give a whole number and a unit, s, m, h or d (24h, 90m, 14d)"
        ))
    };
    let (number, unit) = text.split_at(text.len().checked_sub(1).ok_or_else(fail)?);
    let number: i64 = number
        .parse()
        .ok()
        .filter(|n| *n >= 0 && *n <= 100_000)
        .ok_or_else(fail)?;
    Ok(match unit {
        "s" => time::Duration::seconds(number),
        "m" => time::Duration::minutes(number),
        "h" => time::Duration::hours(number),
        "d" => time::Duration::days(number),
        _ => return Err(fail()),
    })
}
