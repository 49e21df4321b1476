//! The `keycred` binary: parse the command line, run the command, print the error chain, pick the exit code.

mod cli;
mod commands;
mod terminal;
mod wizard;

use clap::{CommandFactory as _, FromArgMatches as _};

fn main() {
    // Before any secret is read: no core file will hold one.
    keycred::secret::no_core_dumps();
    // The matches are kept beside the parsed struct: app-roles ties per-role options to the --role they follow,
    // which only the argument positions tell.
    let matches = cli::Cli::command().get_matches();
    let cli = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let code = match commands::run(cli, &matches) {
        Ok(code) => code,
        Err(error) => {
            terminal::eprint_line(&format!("keycred: error: {error:#}"));
            error
                .downcast_ref::<keycred::Error>()
                .map_or(keycred::exit::FAILURE, keycred::Error::exit_code)
        }
    };
    // Output that could not be written is cut: the run failed, whatever it decided.
    let code = match terminal::stdout_failure() {
        Some(why) => {
            terminal::eprint_line(&format!(
                "keycred: error: writing to standard output failed ({why}): what was printed is incomplete"
            ));
            keycred::exit::FAILURE
        }
        None => code,
    };
    std::process::exit(code);
}
