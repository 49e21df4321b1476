//! `keycred new`: clap arguments → a provisioning request → the workflow → the summary.

use keycred::interrupt::Interrupt;
use keycred::report::NewSummary;
use keycred::workflow::provision::{self, ProvisionRequest};

use crate::cli::NewArgs;
use crate::terminal;

pub fn run(args: NewArgs) -> anyhow::Result<i32> {
    let passwords = super::password_sources(&args.credential.pfx.password, None);
    let request = ProvisionRequest {
        credential: super::credential_spec(&args.subject, &args.credential)?,
        format: args.format.into(),
    };
    let made = provision::provision(request, &passwords, &Interrupt::none())?;
    for warning in &made.warnings {
        terminal::warn(warning);
    }
    if let Some(dir) = &made.created_dir {
        terminal::note(&format!(
            "created the folder {} (owner-only: it holds the private key)",
            dir.display()
        ));
    }
    let summary = NewSummary::of(&made);
    if args.json {
        terminal::print_json(&summary.json());
    } else {
        terminal::print(&summary.text());
    }
    Ok(keycred::exit::SUCCESS)
}
