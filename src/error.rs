//! The library's one error type.
//!
//! Every variant names the input that was wrong and, through its message, what the user can do about it: the
//! binary prints these messages as they are, so they are written for an admin reading a terminal, not for a
//! developer reading a backtrace.

use std::path::PathBuf;

use crate::words::{Advice, Flags, Input, Said, Voice};

/// Everything that can go wrong inside keycred's library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key size that Entra ID would refuse or that keycred does not offer.
    #[error("{}", self.say(&Flags))]
    KeySize(u32),

    /// The certificate subject could not be parsed.
    #[error("subject {subject:?}: {reason}; pass a name (\"Contoso Daemon\") or a DN (\"CN=Contoso Daemon,O=Contoso\")")]
    Subject {
        /// The subject as given.
        subject: String,
        /// What was wrong with it.
        reason: String,
    },

    /// The requested validity period is empty, reversed or out of range.
    #[error("validity: {0}")]
    Validity(Said),

    /// A date given on the command line could not be read.
    #[error("date {input:?} is not a date: use YYYY-MM-DD or RFC 3339 (2027-11-21T10:00:00Z)")]
    Date {
        /// The text as given.
        input: String,
    },

    /// A file is not a certificate or PFX that keycred can read.
    #[error("{path}: {reason}")]
    NotACertificate {
        /// The file.
        path: PathBuf,
        /// What was found instead, and what keycred expected.
        reason: String,
    },

    /// An input file could not be used as it is: a folder, too large, not UTF-8 text.
    #[error("{path}: {reason}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong with it, and what to do.
        reason: String,
    },

    /// A PFX file could not be opened with the password given.
    #[error("{path}: wrong PFX password (the file's integrity check failed); check --password-file or KEYCRED_PFX_PASSWORD")]
    PfxPassword {
        /// The PFX file.
        path: PathBuf,
    },

    /// A PFX file was readable but its content is not usable.
    #[error("{path}: {reason}")]
    Pfx {
        /// The PFX file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A key or certificate uses an algorithm Entra ID certificate credentials cannot use.
    #[error("{what}: the key is {found}, not RSA; Entra ID certificate credentials need an RSA key of 2048 bits or more")]
    NotRsa {
        /// The file or object that was checked.
        what: String,
        /// The key type found, e.g. "EC P-256".
        found: String,
    },

    /// A PFX password was needed but none of the sources supplied one.
    #[error("{0}")]
    Password(String),

    /// Building or signing the certificate failed inside the crypto backend.
    #[error("certificate generation failed: {0}")]
    Generation(String),

    /// Writing the PKCS#12 file failed.
    #[error("PFX export failed: {0}")]
    PfxExport(String),

    /// An output file already exists and `--force` was not given.
    #[error("{}", self.say(&Flags))]
    Exists(PathBuf),

    /// The output folder does not exist, is not a folder, or cannot be written.
    #[error("output folder {path}: {reason}")]
    OutputDir {
        /// The folder.
        path: PathBuf,
        /// What is wrong with it.
        reason: Said,
    },

    /// An app role breaks one of Entra's rules.
    #[error("app role {role}: {rule}")]
    Role {
        /// The role's value (or its position when it has none).
        role: String,
        /// The rule broken, in words, and what to do.
        rule: String,
    },

    /// A roles file, template or manifest could not be read as the JSON or TOML it should be.
    #[error("{source_name}: {reason}")]
    Document {
        /// The file or template.
        source_name: String,
        /// What is wrong, with line and column where the parser gives them.
        reason: String,
    },

    /// A value given for an app-registration field is invalid (identifier URI, app id, namespace).
    #[error("{0}")]
    Invalid(String),

    /// Another run holds the lock on a file being updated in place.
    #[error("{target} is being updated by another keycred run{holder}: nothing was written; run again when it has finished (its lock goes when it ends, even if it is killed)")]
    Locked {
        /// The file being updated.
        target: PathBuf,
        /// " (process N)" when the holder wrote its process id, else empty.
        holder: String,
    },

    /// A file being updated in place changed on disk after keycred read it.
    #[error("{0} changed while keycred was working on it: nothing was written to it; run again")]
    Changed(PathBuf),

    /// A run that cannot go ahead as asked (the message says why and what to do instead).
    #[error("{0}")]
    Refused(String),

    /// A wrong input, in a message that names the request's inputs for each front end to say in its words.
    #[error("{0}")]
    Usage(Said),

    /// An input that cannot be used as it is (a file, a folder), in a message that names the request's inputs.
    #[error("{0}")]
    Unusable(Said),

    /// The token endpoint (or a JWKS URL) could not be reached: DNS, connection, TLS or time-out.
    #[error("{0}")]
    Network(String),

    /// Entra (or the token endpoint) answered with an OAuth error.
    #[error("the token endpoint refused the request: {error}{}: {description}{}{}",
        .code.map(|c| format!(" (AADSTS{c})")).unwrap_or_default(),
        .correlation_id.as_ref().map(|c| format!(" [correlation id {c}]")).unwrap_or_default(),
        .hint.as_ref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
    Entra {
        /// The OAuth `error` (e.g. `invalid_client`).
        error: String,
        /// The AADSTS code, when the description carries one.
        code: Option<u32>,
        /// Entra's `error_description`.
        description: String,
        /// `correlation_id`, for Microsoft support.
        correlation_id: Option<String>,
        /// What keycred suggests for this code.
        hint: Option<String>,
    },

    /// Microsoft Graph answered a request with an error (after any retries).
    #[error("{0}")]
    Graph(Box<GraphFailure>),

    /// Azure Key Vault answered a request with an error (after any retries), or with what keycred cannot use.
    #[error("{0}")]
    Vault(String),

    /// A PKCS#11 module or token failed a call, or holds what keycred cannot use.
    #[error("{0}")]
    Pkcs11(String),

    /// A token (or an assertion) failed a check an API would make: signature, expiry, audience, issuer, role.
    /// Shown on one line: it names what the token (anyone's text) or a JWKS holds, and a line break there must not
    /// start a line of keycred's.
    #[error("{}", crate::words::one_line(.0))]
    TokenCheck(String),

    /// The run was interrupted (SIGINT or SIGTERM) before it wrote anything.
    #[error("interrupted by {}: stopped before writing, so nothing was changed", signal_name(*.0))]
    Interrupted(i32),

    /// An I/O error while reading or writing a named file. The OS error is part of the message (not a separate
    /// source), so an error chain prints it once.
    #[error("{path}: {}", io_reason(error))]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
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

/// What Microsoft Graph answered to a request it refused, in one line with what to do.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.say(&Flags))]
pub struct GraphFailure {
    /// The request, as `METHOD /v1.0/path`.
    pub what: String,
    /// The HTTP status.
    pub status: u16,
    /// Graph's `error.code`.
    pub code: String,
    /// Graph's `error.message`.
    pub message: String,
    /// Graph's `request-id`, for Microsoft support.
    pub request_id: Option<String>,
    /// What keycred suggests.
    pub hint: Option<Said>,
}

impl GraphFailure {
    /// The failure, its hint in a front end's words.
    pub fn say(&self, voice: &dyn Voice) -> String {
        format!(
            "Microsoft Graph refused {}: {}: {} (HTTP {}{}){}",
            self.what,
            // Graph's words, on this one line: a line break in them must not start a line of keycred's.
            crate::words::one_line(&self.code),
            crate::words::one_line(&self.message),
            self.status,
            self.request_id
                .as_ref()
                .map(|r| format!(", request-id {}", crate::words::one_line(r)))
                .unwrap_or_default(),
            self.hint
                .as_ref()
                .map(|h| format!("\n  hint: {}", h.say(voice)))
                .unwrap_or_default()
        )
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The message in a front end's words: the inputs it names as `voice` names them (flags, plan keys, prompts).
    /// `Display` says it in the command line's words.
    pub fn say(&self, voice: &dyn Voice) -> String {
        match self {
            Error::KeySize(bits) => crate::words::said!(
                format!("key size {bits} is not offered: use "),
                Input::KeySize,
                " 2048, 3072 or 4096 (Entra ID requires at least 2048)"
            )
            .say(voice),
            Error::Validity(said) => format!("validity: {}", said.say(voice)),
            Error::Exists(path) => crate::words::said!(
                format!("{} already exists: nothing was written; ", path.display()),
                Advice::ReplaceOrWriteElsewhere
            )
            .say(voice),
            Error::OutputDir { path, reason } => {
                format!("output folder {}: {}", path.display(), reason.say(voice))
            }
            Error::Usage(said) | Error::Unusable(said) => said.say(voice),
            Error::Graph(failure) => failure.say(voice),
            other => other.to_string(),
        }
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error,
        }
    }
}

/// The name of a signal for messages (here, below `interrupt`, because [`Error::Interrupted`] names it too).
pub fn signal_name(signal: i32) -> String {
    match signal {
        2 => "SIGINT".into(),
        15 => "SIGTERM".into(),
        other => format!("signal {other}"),
    }
}
