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
use keycred::secret::{Password, PASSWORD_ENV};

use crate::cli::{self, Cli, Command, ManifestCommand};

/// The largest input keycred reads: certificates and PFX files are a few kilobytes, and even a manifest with
/// hundreds of credentials is far below this.
const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

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

/// Reads an input file, refusing anything too large to be a certificate.
pub fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| keycred::Error::io(path, e))?;
    if meta.is_dir() {
        anyhow::bail!(
            "{} is a folder, not a certificate or PFX file",
            path.display()
        );
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(keycred::Error::NotACertificate {
            path: path.to_owned(),
            reason: format!(
                "the file is {} bytes; keycred reads certificates, PFX files, manifests and plans of at most {MAX_INPUT_BYTES} bytes",
                meta.len()
            ),
        }
        .into());
    }
    Ok(std::fs::read(path).map_err(|e| keycred::Error::io(path, e))?)
}

/// The text of a file already read (manifests, plans, roles files and templates are UTF-8 JSON or TOML).
pub fn utf8(path: &Path, bytes: Vec<u8>) -> anyhow::Result<String> {
    String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!(
            "{}: not UTF-8 text (keycred reads JSON and TOML files as UTF-8)",
            path.display()
        )
    })
}

/// Reads a text input with the same size limit as every other input.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    utf8(path, read_input(path)?)
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
        return password_from_file(file);
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

/// Reads `--password-file`.
pub fn password_from_file(file: &Path) -> keycred::Result<Password> {
    let contents = std::fs::read(file).map_err(|e| {
        keycred::Error::Password(format!(
            "--password-file {}: cannot read it ({e})",
            file.display()
        ))
    })?;
    Password::from_file_contents(&contents, &format!("--password-file {}", file.display()))
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
