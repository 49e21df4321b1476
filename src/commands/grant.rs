//! `keycred manifest grant`: clap arguments → a grant request → the workflow → the summary.

use keycred::workflow::grant::{self, GrantOutput, GrantRequest};

use crate::cli::GrantArgs;
use crate::terminal;

pub fn run(args: GrantArgs) -> anyhow::Result<i32> {
    let outcome = grant::grant(GrantRequest {
        api: args.api,
        client: args.client,
        roles: args.roles,
        output: match args.manifest_out {
            Some(path) => GrantOutput::File(path),
            None => GrantOutput::InPlace,
        },
        dry_run: args.dry_run,
        force: args.force,
    })?;
    if args.json {
        terminal::print_json(&keycred::report::grant_json(&outcome));
    } else {
        terminal::print(&keycred::report::grant_text(&outcome));
    }
    Ok(keycred::exit::SUCCESS)
}
