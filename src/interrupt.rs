//! Ctrl-C and SIGTERM during runs that write files: the step in progress finishes or is rolled back, then the
//! run stops with exit code 130 (SIGINT) or 143 (SIGTERM).
//!
//! A killed scheduled rotation must never leave a half-updated app behind, so the handler only records the
//! signal; the work checks [`Interrupt::signal`] at its commit points (before it writes anything, and before it
//! starts the next app). A second signal stops the process at once, for a person who really means it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Whether (and by which signal) the run was asked to stop.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    signal: Arc<AtomicUsize>,
}

impl Interrupt {
    /// Installs the SIGINT and SIGTERM handlers for this process and returns the flag they set.
    pub fn install() -> std::io::Result<Interrupt> {
        let interrupt = Interrupt::default();
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            let seen = Arc::new(AtomicBool::new(false));
            for signal in [SIGINT, SIGTERM] {
                // Registered first, so it sees the flag as the previous signal left it: the second one exits.
                signal_hook::flag::register_conditional_shutdown(
                    signal,
                    128 + signal,
                    Arc::clone(&seen),
                )?;
                signal_hook::flag::register(signal, Arc::clone(&seen))?;
                signal_hook::flag::register_usize(
                    signal,
                    Arc::clone(&interrupt.signal),
                    signal as usize,
                )?;
            }
        }
        Ok(interrupt)
    }

    /// A flag no signal sets (for library callers and tests that install no handler).
    pub fn none() -> Interrupt {
        Interrupt::default()
    }

    /// The signal received, if any.
    pub fn signal(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            n => i32::try_from(n).ok(),
        }
    }

    /// Records `signal` as if it had arrived (for tests).
    pub fn raise(&self, signal: i32) {
        self.signal
            .store(usize::try_from(signal).unwrap_or(2), Ordering::SeqCst);
    }

    /// Fails with [`crate::Error::Interrupted`] when a signal arrived: call before writing anything.
    pub fn check(&self) -> crate::Result<()> {
        match self.signal() {
            Some(signal) => Err(crate::Error::Interrupted(signal)),
            None => Ok(()),
        }
    }
}

pub use crate::error::signal_name;
