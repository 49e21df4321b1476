//! One `run` per subcommand, plus what they share: reading input files and finding PFX passwords.

pub mod app_roles;
mod batch;
mod check;
pub mod graph;
mod inspect;
mod key_credentials;
pub mod new;
pub mod rotate;
mod templates;
mod thumbprint;

use std::io::IsTerminal as _;
use std::path::Path;

use keycred::credential::{self, Loaded};
use keycred::secret::{Password, CURRENT_PASSWORD_ENV, PASSWORD_ENV};

use crate::cli::{self, Cli, Command, ManifestCommand};

/// Runs the parsed command and returns the exit code.
pub fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<i32> {
    match cli.command {
        Command::Manifest(ManifestCommand::AppRoles(args)) => {
            let positions = matches
                .subcommand_matches("manifest")
                .and_then(|m| m.subcommand_matches("app-roles"))
                .expect("the app-roles subcommand was parsed");
            app_roles::run(*args, positions)
        }
        Command::Templates(args) => templates::run(args),
        Command::Check(args) => check::run(args),
        Command::Batch(args) => batch::run(args),
        Command::Wizard => crate::wizard::run(),
        Command::Rotate(args) => rotate::run(*args),
        Command::Graph(command) => graph::run(command),
        Command::New(args) => new::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Thumbprint(args) => thumbprint::run(args),
        Command::Manifest(ManifestCommand::KeyCredentials(args)) => key_credentials::run(args),
    }
}

/// Whether a person can answer a prompt: stdin and stderr are both terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Reads an input file, refusing a folder or anything larger than 16 MiB.
pub fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    Ok(keycred::input::read_file(path)?)
}

/// The text of a file already read (manifests, plans, roles files and templates are UTF-8 JSON or TOML), without
/// a leading BOM.
pub fn utf8(path: &Path, bytes: Vec<u8>) -> anyhow::Result<String> {
    Ok(keycred::input::text(path, bytes)?)
}

/// Reads a text input with the same size limit as every other input.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    Ok(keycred::input::read_text(path)?)
}

/// Loads every file, asking for a PFX password only for PFX files.
pub fn load_all(
    files: &[std::path::PathBuf],
    password: &cli::PasswordArgs,
) -> anyhow::Result<Vec<Loaded>> {
    files
        .iter()
        .map(|path| {
            let bytes = read_input(path)?;
            Ok(credential::load(path, &bytes, || {
                read_password(password, path)
            })?)
        })
        .collect()
}

/// Finds the password of an existing PFX: --password-file, then KEYCRED_PFX_PASSWORD, then a prompt.
pub fn read_password(args: &cli::PasswordArgs, pfx: &Path) -> keycred::Result<Password> {
    if let Some(file) = &args.password_file {
        return password_from_file(file, "--password-file");
    }
    if let Some(value) = std::env::var_os(PASSWORD_ENV) {
        return Ok(Password::new(value.to_string_lossy().into_owned()));
    }
    if interactive() {
        return prompt(&format!("Password for {}", pfx.display()), false);
    }
    Err(keycred::Error::Password(format!(
        "{} is a PFX and needs its password: pass --password-file PATH, set {PASSWORD_ENV}, or run in a terminal",
        pfx.display()
    )))
}

/// Finds the password of the current credential's PFX (the one that signs a Graph proof):
/// --current-password-file, then KEYCRED_CURRENT_PFX_PASSWORD, then the general source (--password-file,
/// KEYCRED_PFX_PASSWORD) with a note when `other` names a second file that source also serves, then a prompt.
pub fn read_current_password(
    current_file: Option<&Path>,
    general: &cli::PasswordArgs,
    pfx: &Path,
    other: Option<&str>,
) -> keycred::Result<Password> {
    if let Some(file) = current_file {
        return password_from_file(file, "--current-password-file");
    }
    if let Some(value) = std::env::var_os(CURRENT_PASSWORD_ENV) {
        return Ok(Password::new(value.to_string_lossy().into_owned()));
    }
    if general.password_file.is_some() || std::env::var_os(PASSWORD_ENV).is_some() {
        if let Some(other) = other {
            let source = match &general.password_file {
                Some(file) => format!("--password-file {}", file.display()),
                None => PASSWORD_ENV.to_owned(),
            };
            eprintln!(
                "keycred: note: {source} opens the current PFX {} and also serves {other}; to give the current \
                 PFX its own password, pass --current-password-file PATH or set {CURRENT_PASSWORD_ENV}",
                pfx.display()
            );
        }
        return read_password(general, pfx);
    }
    if interactive() {
        return prompt(
            &format!("Password for the current PFX {}", pfx.display()),
            false,
        );
    }
    Err(keycred::Error::Password(format!(
        "the current PFX {} needs its password: pass --current-password-file PATH, set {CURRENT_PASSWORD_ENV}, \
         or run in a terminal",
        pfx.display()
    )))
}

/// Reads a password file given with `flag`. A file that cannot be read is an unreadable input (exit 1).
pub fn password_from_file(file: &Path, flag: &str) -> keycred::Result<Password> {
    let contents = std::fs::read(file).map_err(|e| keycred::Error::Input {
        path: file.to_owned(),
        reason: format!(
            "cannot read the {flag} file ({}); check the path",
            io_reason(&e)
        ),
    })?;
    Password::from_file_contents(&contents, &format!("{flag} {}", file.display()))
}

/// An I/O error in words, without the "(os error N)" tail.
pub fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "it does not exist".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a folder".into(),
        _ => {
            let text = error.to_string();
            match text.split_once(" (os error") {
                Some((words, _)) => words.to_owned(),
                None => text,
            }
        }
    }
}

/// A hidden prompt on the terminal, with confirmation for a new password.
pub fn prompt(text: &str, confirm: bool) -> keycred::Result<Password> {
    let mut input = dialoguer::Password::new().with_prompt(text);
    if confirm {
        input = input.with_confirmation(
            "Repeat the password",
            "The passwords do not match, try again",
        );
    }
    input
        .interact()
        .map(Password::new)
        .map_err(|e| keycred::Error::Password(format!("password prompt failed: {e}")))
}

/// Writes `text` to standard output.
pub fn print(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    // A closed pipe (keycred … | head) is not an error worth reporting.
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Pretty JSON with a trailing newline.
pub fn print_json(value: &serde_json::Value) {
    print(&format!(
        "{}\n",
        serde_json::to_string_pretty(value).expect("JSON values serialize")
    ));
}

impl From<cli::Format> for keycred::manifest::ManifestFormat {
    fn from(format: cli::Format) -> Self {
        match format {
            cli::Format::Graph => Self::Graph,
            cli::Format::Legacy => Self::Legacy,
        }
    }
}

/// The name of a format in output.
pub fn format_name(format: cli::Format) -> &'static str {
    keycred::manifest::document::format_name(format.into())
}
