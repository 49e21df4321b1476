//! Reading what users give keycred: files with a size limit, text with or without a UTF-8 BOM, JSON that
//! refuses duplicate keys, and PFX passwords from their sources.
//!
//! Every front end (the commands, the wizard, batch) reads its inputs through here, so a limit or a rule holds for
//! every command at once. Workflows never read the environment or prompt: they ask a [`PasswordSources`] the
//! front end built, which reads the environment once and prompts only through the callback the front end gave. Two
//! rules exist because of real data loss: JSON parsers (serde_json included) keep only the last of two equal
//! keys, so a manifest with `keyCredentials` twice silently lost the first array; and Windows PowerShell 5.1
//! saves files with a byte-order mark that other parsers reject as garbage.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
#[cfg(test)]
use serde_json::Map;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::secret::{Password, CURRENT_PASSWORD_ENV, PASSWORD_ENV};

/// The largest input keycred reads (16 MiB): certificates and PFX files are a few kilobytes, and even a manifest
/// with hundreds of credentials is far below this.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// The UTF-8 byte-order mark Windows PowerShell 5.1 and Notepad put at the start of a file.
pub const UTF8_BOM: &str = "\u{feff}";

/// How long keycred waits for an input that is not a regular file (a pipe such as `<(…)`, a FIFO, a device) to
/// deliver its contents: a FIFO nobody writes to would otherwise block the run for ever.
pub const NON_FILE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads an input file, refusing a folder and anything larger than [`MAX_INPUT_BYTES`]. A pipe, FIFO or device is
/// read within [`NON_FILE_WAIT`].
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::Input {
            path: path.to_owned(),
            reason: "is a folder; give a file".into(),
        });
    }
    if meta.is_file() {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        return read_limited(file).map_err(|reason| Error::Input {
            path: path.to_owned(),
            reason,
        });
    }
    // Opening a FIFO blocks until a writer comes, and reading until it writes: both happen on a thread of their
    // own, which the run stops waiting for.
    let (sent, received) = std::sync::mpsc::channel();
    let owned = path.to_owned();
    std::thread::spawn(move || {
        let read = std::fs::File::open(&owned)
            .map_err(|e| Error::io(&owned, e))
            .and_then(|file| {
                read_limited(file).map_err(|reason| Error::Input {
                    path: owned.clone(),
                    reason,
                })
            });
        let _ = sent.send(read);
    });
    received
        .recv_timeout(NON_FILE_WAIT)
        .unwrap_or_else(|_| {
            Err(Error::Input {
                path: path.to_owned(),
                reason: format!(
                    "is not a regular file (a pipe, a FIFO or a device) and gave nothing to read within {} s: is \
                     anything writing to it? Give a file",
                    NON_FILE_WAIT.as_secs()
                ),
            })
        })
}

/// Standard input, with the same 16 MiB limit as a file.
pub fn read_stdin() -> Result<Vec<u8>> {
    read_limited(std::io::stdin().lock()).map_err(|reason| Error::Input {
        path: PathBuf::from("standard input"),
        reason,
    })
}

/// Reads at most [`MAX_INPUT_BYTES`]: one byte past the limit is read rather than trusting the size the file
/// system reports (pipes report 0). `Err` is the reason, for [`Error::Input`].
fn read_limited(source: impl std::io::Read) -> std::result::Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    source
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read ({})", io_reason(&e)))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err("is larger than 16 MiB, the most keycred reads from one input (certificates, PFX files, \
                    manifests, plans, roles files and tokens are far smaller): is this the right input?"
            .into());
    }
    Ok(bytes)
}

/// The text of an input already read, without a leading UTF-8 BOM.
pub fn text(path: &Path, bytes: Vec<u8>) -> Result<String> {
    let mut text = String::from_utf8(bytes).map_err(|e| Error::Input {
        path: path.to_owned(),
        reason: format!(
            "not UTF-8 text (invalid byte at offset {}); keycred reads JSON and TOML files as UTF-8",
            e.utf8_error().valid_up_to()
        ),
    })?;
    if text.starts_with(UTF8_BOM) {
        text.drain(..UTF8_BOM.len());
    }
    Ok(text)
}

/// Reads a text input: size limit, UTF-8, BOM dropped.
pub fn read_text(path: &Path) -> Result<String> {
    text(path, read_file(path)?)
}

/// The bytes without a leading UTF-8 BOM (for content sniffing of files that may be text or binary).
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM.as_bytes()).unwrap_or(bytes)
}

/// Parses JSON text, refusing an object that has the same key twice: the message names the key, where it is in
/// the document, and its line. `source` names the input in messages.
///
/// Two passes: the first only checks for repeated keys; the second is serde_json's own parser, built with
/// `arbitrary_precision`, so that every number keeps its digits as written (`12345678901234567890123` stays
/// that, not `1.2345678901234568e22`) and a rewritten manifest holds exactly the values it was given.
pub fn parse_json(text: &str, source: &str) -> Result<Value> {
    let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
    let fail = |e: serde_json::Error| Error::Document {
        source_name: source.to_owned(),
        reason: json_error(&e),
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    NoRepeatedKeys {
        path: String::new(),
    }
    .deserialize(&mut deserializer)
    .and_then(|()| deserializer.end())
    .map_err(fail)?;
    serde_json::from_str(text).map_err(fail)
}

/// serde_json's message, with our duplicate-key message reworded around its line number.
fn json_error(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.strip_prefix(DUPLICATE_MARK) {
        Some(rest) => {
            // "… at line L column C" is appended by serde_json; keep the line only.
            let detail = rest
                .rsplit_once(" at line ")
                .map_or(rest, |(detail, _)| detail);
            format!(
                "{detail} (line {}): JSON parsers keep only one of the two, so keycred refuses rather than lose \
                 the other; merge or remove the duplicate and run again",
                error.line()
            )
        }
        None => format!("malformed JSON: {message}"),
    }
}

const DUPLICATE_MARK: &str = "\u{1}duplicate:";

/// Walks a JSON document and fails on the first object with a repeated key, naming where it is. It builds
/// nothing: the value itself comes from serde_json.
struct NoRepeatedKeys {
    path: String,
}

impl NoRepeatedKeys {
    fn child(&self, segment: impl std::fmt::Display, index: bool) -> NoRepeatedKeys {
        let path = match (self.path.is_empty(), index) {
            (_, true) => format!("{}[{segment}]", self.path),
            (true, false) => segment.to_string(),
            (false, false) => format!("{}.{segment}", self.path),
        };
        NoRepeatedKeys { path }
    }
}

impl<'de> DeserializeSeed<'de> for NoRepeatedKeys {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoRepeatedKeys {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while seq.next_element_seed(self.child(index, true))?.is_some() {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let mut keys = std::collections::HashSet::new();
        while let Some(key) = access.next_key::<String>()? {
            if keys.contains(&key) {
                let place = if self.path.is_empty() {
                    "at the top level".to_owned()
                } else {
                    format!("in {}", self.path)
                };
                return Err(de::Error::custom(format!(
                    "{DUPLICATE_MARK}the key {key:?} appears twice {place}"
                )));
            }
            access.next_value_seed(self.child(&key, false))?;
            keys.insert(key);
        }
        Ok(())
    }
}

/// A hidden prompt: the question, and whether to ask a second time for confirmation (a new password).
pub type Prompt = Box<dyn Fn(&str, bool) -> Result<Password> + Send + Sync>;

/// Where PFX passwords come from, in keycred's order. Never the command line: argv is visible to every user.
#[derive(Default)]
pub struct PasswordSources {
    /// `--password-file`: an existing PFX's password, and the new PFX's.
    pub file: Option<PathBuf>,
    /// `--current-password-file`: the current credential's PFX (the one that signs a Graph proof).
    pub current_file: Option<PathBuf>,
    /// `KEYCRED_PFX_PASSWORD`.
    pub env: Option<String>,
    /// `KEYCRED_CURRENT_PFX_PASSWORD`.
    pub current_env: Option<String>,
    /// A hidden prompt, when a person is there to answer it.
    pub prompt: Option<Prompt>,
}

impl std::fmt::Debug for PasswordSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordSources")
            .field("file", &self.file)
            .field("current_file", &self.current_file)
            .field("env", &self.env.as_ref().map(|_| "…"))
            .field("current_env", &self.current_env.as_ref().map(|_| "…"))
            .field("prompt", &self.prompt.is_some())
            .finish()
    }
}

impl PasswordSources {
    /// The sources of a run: the two files given, the two environment variables (read here, once), a prompt.
    pub fn from_environment(
        file: Option<PathBuf>,
        current_file: Option<PathBuf>,
        prompt: Option<Prompt>,
    ) -> PasswordSources {
        let var =
            |name: &str| std::env::var_os(name).map(|value| value.to_string_lossy().into_owned());
        PasswordSources {
            file,
            current_file,
            env: var(PASSWORD_ENV),
            current_env: var(CURRENT_PASSWORD_ENV),
            prompt,
        }
    }

    /// The password of an existing PFX: `--password-file`, `KEYCRED_PFX_PASSWORD`, then the prompt.
    pub fn existing(&self, pfx: &Path) -> Result<Password> {
        if let Some(file) = &self.file {
            return password_file(file, "--password-file");
        }
        if let Some(value) = &self.env {
            return Ok(Password::new(value.clone()));
        }
        if let Some(prompt) = &self.prompt {
            return prompt(&format!("Password for {}", pfx.display()), false);
        }
        Err(Error::Password(format!(
            "{} is a PFX and needs its password: pass --password-file PATH, set {PASSWORD_ENV}, or run in a terminal",
            pfx.display()
        )))
    }

    /// The password of the current credential's PFX: `--current-password-file`, `KEYCRED_CURRENT_PFX_PASSWORD`,
    /// then the general sources (with a note, returned beside the password, when `other` names a second file they
    /// also serve), then the prompt.
    pub fn current(&self, pfx: &Path, other: Option<&str>) -> Result<(Password, Option<String>)> {
        if let Some(file) = &self.current_file {
            return Ok((password_file(file, "--current-password-file")?, None));
        }
        if let Some(value) = &self.current_env {
            return Ok((Password::new(value.clone()), None));
        }
        if self.file.is_some() || self.env.is_some() {
            let note = other.map(|other| {
                let source = match &self.file {
                    Some(file) => format!("--password-file {}", file.display()),
                    None => PASSWORD_ENV.to_owned(),
                };
                format!(
                    "{source} opens the current PFX {} and also serves {other}; to give the current PFX its own \
                     password, pass --current-password-file PATH or set {CURRENT_PASSWORD_ENV}",
                    pfx.display()
                )
            });
            return Ok((self.existing(pfx)?, note));
        }
        if let Some(prompt) = &self.prompt {
            return Ok((
                prompt(
                    &format!("Password for the current PFX {}", pfx.display()),
                    false,
                )?,
                None,
            ));
        }
        Err(Error::Password(format!(
            "the current PFX {} needs its password: pass --current-password-file PATH, set {CURRENT_PASSWORD_ENV}, \
             or run in a terminal",
            pfx.display()
        )))
    }

    /// The password of a new PFX: `--password-file`, `KEYCRED_PFX_PASSWORD`, then the prompt (with
    /// confirmation). Never empty.
    pub fn new_pfx(&self) -> Result<Password> {
        if let Some(file) = &self.file {
            return password_file(file, "--password-file")?
                .require_non_empty(&format!("--password-file {}", file.display()));
        }
        if let Some(value) = &self.env {
            return Password::new(value.clone()).require_non_empty(PASSWORD_ENV);
        }
        if let Some(prompt) = &self.prompt {
            return prompt("PFX password", true)?.require_non_empty("the prompt");
        }
        Err(Error::Usage(crate::words::said!(
            format!(
                "a PFX password is required: pass --password-file PATH or --generate-password, set \
                 {PASSWORD_ENV}, or run in a terminal to be asked; "
            ),
            crate::words::Input::NoPfx,
            " skips the PFX"
        )))
    }
}

/// Reads a secret file given with `flag` (a password, a client secret, a token). A file that cannot be read is an
/// unreadable input (exit 1); a path that names no file is never repeated in the error, since it may be the secret
/// itself, typed where its file belongs.
pub fn password_file(file: &Path, flag: &str) -> Result<Password> {
    if std::fs::metadata(file).is_err() {
        return Err(Error::Refused(format!(
            "cannot read the {flag} file: what was given is not a readable file (it is not repeated here, in case \
             it is the secret itself: then it is now in your shell's history; change it). Give the path of a file \
             whose first line holds it"
        )));
    }
    let contents = read_file(file).map_err(|e| match e {
        Error::Input { path, reason } => Error::Input {
            path,
            reason: format!("cannot be read as the {flag} file: {reason}"),
        },
        other => other,
    })?;
    Password::from_file_contents(&contents, &format!("{flag} {}", file.display()))
}

use crate::error::io_reason;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_serde_json_and_keeps_order() {
        let text = r#"{"z": 1, "a": [true, null, -2, 1.5, "x"], "m": {"k": {}}}"#;
        let strict = parse_json(text, "t").unwrap();
        let plain: Value = serde_json::from_str(text).unwrap();
        assert_eq!(strict, plain);
        let keys: Vec<_> = strict.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn duplicate_keys_are_refused_with_their_place_and_line() {
        let top = "{\n  \"keyCredentials\": [],\n  \"keyCredentials\": []\n}";
        let err = parse_json(top, "m.json").unwrap_err().to_string();
        assert!(
            err.starts_with(
                "m.json: the key \"keyCredentials\" appears twice at the top level (line 3)"
            ),
            "{err}"
        );
        let nested = "{\"keyCredentials\": [{\"keyId\": \"a\",\n \"keyId\": \"b\"}]}";
        let err = parse_json(nested, "m.json").unwrap_err().to_string();
        assert!(
            err.contains("the key \"keyId\" appears twice in keyCredentials[0] (line 2)"),
            "{err}"
        );
    }

    #[test]
    fn malformed_json_and_trailing_text_are_named() {
        for text in ["{", "{} x", "[1,]", ""] {
            let err = parse_json(text, "m.json").unwrap_err().to_string();
            assert!(err.contains("malformed JSON"), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_bom_is_dropped() {
        let path = Path::new("m.json");
        let text = text(path, b"\xef\xbb\xbf{\"a\": 1}".to_vec()).unwrap();
        assert_eq!(text, "{\"a\": 1}");
        assert_eq!(
            parse_json("\u{feff}{}", "m").unwrap(),
            Value::Object(Map::new())
        );
        assert_eq!(strip_bom(b"\xef\xbb\xbf-----BEGIN"), b"-----BEGIN");
    }

    #[test]
    fn size_limit_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_file(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is a folder"), "{err}");
        let big = dir.path().join("big");
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(MAX_INPUT_BYTES + 1).unwrap();
        let err = read_file(&big).unwrap_err().to_string();
        assert!(err.contains("larger than 16 MiB"), "{err}");
        file.set_len(MAX_INPUT_BYTES).unwrap();
        assert_eq!(read_file(&big).unwrap().len() as u64, MAX_INPUT_BYTES);
    }
}
