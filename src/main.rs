//! The `keycred` binary: parse the command line, run the command, print the error chain, pick the exit code.

mod cli;
mod commands;

use clap::Parser as _;

fn main() {
    let cli = cli::Cli::parse();
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("keycred: error: {error:#}");
            error
                .downcast_ref::<keycred::Error>()
                .map_or(keycred::exit::FAILURE, keycred::Error::exit_code)
        }
    };
    std::process::exit(code);
}
