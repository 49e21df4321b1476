//! PFX passwords: held in wiped memory, never printed, generated from the system's secure random source.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The environment variable that can carry a PFX password.
pub const PASSWORD_ENV: &str = "KEYCRED_PFX_PASSWORD";

/// The environment variable that can carry the password of the *current* credential's PFX (the one that signs a
/// Graph proof), so that it never has to share a secret with the new PFX.
pub const CURRENT_PASSWORD_ENV: &str = "KEYCRED_CURRENT_PFX_PASSWORD";

/// A PFX password.
pub struct Password(Zeroizing<String>);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    /// Wraps a password.
    pub fn new(password: String) -> Password {
        Password(Zeroizing::new(password))
    }

    /// Reads a password file's contents: the password is the text up to the first line break, so files written
    /// by `echo` or editors work.
    pub fn from_file_contents(contents: &[u8], source: &str) -> Result<Password> {
        let text = std::str::from_utf8(contents).map_err(|_| Error::Document {
            source_name: source.to_owned(),
            reason: "the password file is not UTF-8 text".into(),
        })?;
        let first_line = text.split(['\r', '\n']).next().unwrap_or_default();
        Ok(Password::new(first_line.to_owned()))
    }

    /// 24 random bytes as 32 base64url characters (192 bits).
    pub fn generate() -> Result<Password> {
        let mut bytes = Zeroizing::new([0u8; 24]);
        aws_lc_rs::rand::fill(bytes.as_mut())
            .map_err(|_| Error::Generation("the system random source failed".into()))?;
        Ok(Password::new(URL_SAFE_NO_PAD.encode(bytes.as_ref())))
    }

    /// The password text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Refuses an empty password for a new PFX, naming where it came from.
    pub fn require_non_empty(self, source: &str) -> Result<Password> {
        if self.0.is_empty() {
            return Err(Error::Password(format!(
                "the PFX password from {source} is empty: a PFX protects a private key, so give it a password (or use --generate-password)"
            )));
        }
        Ok(self)
    }
}

/// Fills `N` bytes from the system's secure random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| Error::Generation("the system random source failed".into()))?;
    Ok(bytes)
}

/// Keeps this process's memory out of core dumps: the core size limit 0 (soft and hard) and the process marked
/// not dumpable, as ssh-agent and gpg-agent do. A run holds a bearer token, a client secret or a private key in
/// memory, and a crash or a `kill -QUIT` would otherwise write them to a core file any admin tool may collect.
/// Best effort: where the system refuses, the run goes on.
pub fn no_core_dumps() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{setrlimit, Resource, Rlimit};
        let _ = setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        );
        let _ =
            rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_file_takes_the_first_line() {
        let p = Password::from_file_contents(b"s3cret\r\nignored\n", "f").unwrap();
        assert_eq!(p.expose(), "s3cret");
        assert!(Password::from_file_contents(b"\xff\xfe", "f").is_err());
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = Password::generate().unwrap();
        let b = Password::generate().unwrap();
        assert_eq!(a.expose().len(), 32);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(format!("{a:?}"), "Password(…)");
    }

    #[test]
    fn empty_password_is_refused_for_a_new_pfx() {
        let err = Password::new(String::new())
            .require_non_empty("--password-file p.txt")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--password-file p.txt") && err.contains("empty"),
            "{err}"
        );
    }
}
