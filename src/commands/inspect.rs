//! `keycred inspect`: everything about certificates and PFX files, from any tool.

use keycred::report;

use crate::cli::InspectArgs;
use crate::terminal;

pub fn run(args: InspectArgs) -> anyhow::Result<i32> {
    let files = super::load_all(&args.files, &args.password)?;
    let now = time::OffsetDateTime::now_utc();
    if args.json {
        terminal::print_json(&report::inspect_json(&files, now));
    } else {
        terminal::print(&report::inspect_text(&files, now));
    }
    for file in &files {
        for cert in &file.certificates {
            for problem in cert.entra_problems() {
                terminal::warn(&format!(
                    "{} ({}): {problem}",
                    file.path.display(),
                    cert.subject
                ));
            }
        }
    }
    Ok(keycred::exit::SUCCESS)
}
