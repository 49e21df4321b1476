//! Files keycred keeps for itself between runs (the token cache, the scan state): in a folder and a file that are
//! the user's alone, read and written under a lock that concurrent runs wait for.

use std::path::Path;

use super::{not_private, Lock};
use crate::error::{Error, Result};

/// Takes the lock for `path`, a file of keycred's own, after making its folder (owner-only) and checking that the
/// folder and the file (if any) are the user's alone; `what` names the file in the refusal, and `instead` says
/// how to run without it. Waits up to 5 s for another run holding the lock.
pub fn lock_private(path: &Path, what: &str, instead: &str) -> Result<Lock> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    // What keycred reads back from here it trusts as its own earlier answer: only a folder and a file that are
    // the user's alone may hold it.
    for place in [dir, path] {
        if place == path && std::fs::symlink_metadata(path).is_err() {
            continue;
        }
        if let Some(reason) = not_private(place) {
            return Err(Error::Refused(format!(
                "{what} {}: {reason}; keycred neither reads nor writes it there. Make it yours alone (chown, \
                 chmod go-w), remove it, or {instead}",
                place.display()
            )));
        }
    }
    // Concurrent runs wait their turn rather than fail: the lock is held for a read or a write only.
    let mut tries = 0;
    loop {
        match Lock::acquire(path) {
            Err(Error::Locked { .. }) if tries < 200 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            other => return other,
        }
    }
}
