//! keycred's exit codes, documented in README.md. Scripts and monitoring depend on these; never renumber.

/// Everything worked.
pub const SUCCESS: i32 = 0;
/// The command failed: unreadable input, a file that exists, a wrong password, a crypto failure.
pub const FAILURE: i32 = 1;
/// The command line was wrong: an unknown flag, a bad value, a missing required input.
pub const USAGE: i32 = 2;
/// `check`: a credential is due for renewal within the warning window.
pub const RENEWAL_DUE: i32 = 3;
/// `check`: no credential is valid now.
pub const EXPIRED: i32 = 4;
/// `graph retire`: an old credential was kept because it is, or may be, still in use (or no evidence shows it
/// unused).
pub const STILL_IN_USE: i32 = 5;
/// The user cancelled an interactive prompt (Ctrl-C or Esc), or a run was stopped by SIGINT (128 + 2).
pub const CANCELLED: i32 = 130;
/// A run was stopped by SIGTERM (128 + 15).
pub const TERMINATED: i32 = 143;

impl crate::Error {
    /// The exit code this error should end the process with.
    pub fn exit_code(&self) -> i32 {
        use crate::Error::*;
        match self {
            KeySize(_)
            | Subject { .. }
            | Validity(_)
            | Date { .. }
            | Password(_)
            | Role { .. }
            | Invalid(_)
            | Usage(_) => USAGE,
            Interrupted(signal) => 128 + signal,
            _ => FAILURE,
        }
    }
}
