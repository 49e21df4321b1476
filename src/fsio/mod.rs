//! The one place keycred writes files.
//!
//! A run that writes several files (`new` writes up to six) either writes all of them or none: every target is
//! checked before anything is written, each file is written to a temporary file in the same folder, flushed to
//! disk, and renamed into place only when all temporaries are complete. Without `--force` the rename refuses to
//! replace a file that appeared in the meantime. Secret files are created owner-only (0600) from the start, so
//! no other user can open them during the write.

mod private;

pub use private::lock_private;

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::words::{Advice, Input, Said};

/// Who may read a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// 0644: certificates, fragments.
    Public,
    /// 0600: private keys, PFX files, passwords.
    Secret,
}

impl Access {
    #[cfg(unix)]
    fn mode(self) -> u32 {
        match self {
            Access::Public => 0o644,
            Access::Secret => 0o600,
        }
    }
}

/// A file to write.
pub struct OutputFile {
    /// Where it goes.
    pub path: PathBuf,
    /// Its bytes (wiped on drop, since some are secret).
    pub contents: zeroize::Zeroizing<Vec<u8>>,
    /// Its permissions.
    pub access: Access,
}

impl OutputFile {
    /// A file with the given contents and access.
    pub fn new(path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>, access: Access) -> Self {
        OutputFile {
            path: path.into(),
            contents: zeroize::Zeroizing::new(contents.into()),
            access,
        }
    }
}

/// Checks that `dir` exists, is a folder, and accepts new files, before any expensive work is done.
pub fn check_output_dir(dir: &Path) -> Result<()> {
    let fail = |reason: Said| Error::OutputDir {
        path: dir.to_owned(),
        reason,
    };
    match fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(fail(crate::words::said!(
                "does not exist: create it first (mkdir -p) or choose another ",
                Input::Out
            )))
        }
        Err(e) => return Err(fail(format!("cannot be read ({e})").into())),
        Ok(meta) if !meta.is_dir() => {
            return Err(fail(crate::words::said!(
                "is not a folder: ",
                Advice::OutIsAFolder
            )))
        }
        Ok(_) => {}
    }
    tempfile::Builder::new()
        .prefix(".keycred-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| {
            fail(crate::words::said!(
                format!("is not writable ({e}); choose another "),
                Input::Out
            ))
        })
}

/// Whether an output folder is there to write into, or will be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputDir {
    /// It exists and accepts new files.
    Ready,
    /// It does not exist yet; [`create_output_dir`] makes it when the files are written.
    Missing,
}

/// Like [`check_output_dir`], but a folder that does not exist yet is [`OutputDir::Missing`], not an error
/// (a path through a file, or a folder that cannot be written, still is).
pub fn output_dir_state(dir: &Path) -> Result<OutputDir> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(OutputDir::Missing),
        _ => check_output_dir(dir).map(|()| OutputDir::Ready),
    }
}

/// Creates an output folder (and its missing parents): 0700 when it will hold secrets, parents included, else
/// 0755; the umask can narrow these, never widen them.
pub fn create_output_dir(dir: &Path, secret: bool) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(if secret { 0o700 } else { 0o755 });
    }
    builder.create(dir).map_err(|e| Error::OutputDir {
        path: dir.to_owned(),
        reason: format!("cannot be created ({})", crate::error::io_reason(&e)).into(),
    })?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    Ok(())
}

/// Writes `files` (all or nothing) into `dir`, made first (not owner-only: the files are public) if it is missing;
/// whether it was made.
pub fn write_all_in(dir: &Path, files: &[OutputFile], force: bool) -> Result<bool> {
    let missing = output_dir_state(dir)? == OutputDir::Missing;
    if missing {
        create_output_dir(dir, false)?;
    }
    write_all(files, force)?;
    Ok(missing)
}

/// Refuses any target that exists (unless `force`) or that is a folder, before anything is written.
pub fn check_targets(files: &[OutputFile], force: bool) -> Result<()> {
    for file in files {
        match fs::symlink_metadata(&file.path) {
            Ok(meta) if meta.is_dir() => {
                return Err(Error::OutputDir {
                    path: file.path.clone(),
                    reason: "is a folder where keycred must write a file".into(),
                })
            }
            Ok(_) if !force => return Err(Error::Exists(file.path.clone())),
            _ => {}
        }
    }
    Ok(())
}

/// How much of a file [`Holds::of`] looks at: a PEM key's header or a PFX's first bytes are well within it.
const SNIFF_BYTES: usize = 1 << 20;

/// What a file holds, as far as `--force` cares: a secret of one kind is only ever replaced by the same kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    PrivateKey,
    Pfx,
    Password,
    Other,
}

impl Holds {
    fn of(path: &Path, bytes: &[u8]) -> Holds {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SNIFF_BYTES)]);
        if text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") {
            Holds::PrivateKey
        } else if is_pkcs12(bytes) {
            Holds::Pfx
        } else if name.ends_with(".password") {
            Holds::Password
        } else {
            Holds::Other
        }
    }

    fn words(self) -> &'static str {
        match self {
            Holds::PrivateKey => "a private key",
            Holds::Pfx => "a PFX (a private key and its certificate)",
            Holds::Password => "a password",
            Holds::Other => "other content",
        }
    }
}

/// A DER PKCS#12 file: `SEQUENCE { INTEGER 3, … }`.
fn is_pkcs12(bytes: &[u8]) -> bool {
    let header = match bytes.get(1) {
        Some(&n) if n < 0x80 => 2,
        Some(&n) if (0x81..=0x84).contains(&n) => 2 + usize::from(n - 0x80),
        _ => return false,
    };
    bytes.first() == Some(&0x30) && bytes.get(header..header + 3) == Some(&[0x02, 0x01, 0x03])
}

/// The one rule of `--force`: a file that holds a private key, a PFX or a password is never replaced by anything
/// else (a fragment, a configuration, a body), and what replaces any file never has wider permissions than it had.
/// Returns the mode the new file gets (`None`: its own).
fn check_replacement(file: &OutputFile) -> Result<Option<u32>> {
    let Ok(meta) = fs::symlink_metadata(&file.path) else {
        return Ok(None);
    };
    if !meta.is_file() {
        return Ok(None);
    }
    // Only its beginning: a large file is never read whole to tell what it holds.
    let mut old = Vec::new();
    fs::File::open(&file.path)
        .and_then(|f| {
            std::io::Read::read_to_end(&mut std::io::Read::take(f, SNIFF_BYTES as u64), &mut old)
        })
        .map_err(|e| Error::io(&file.path, e))?;
    let was = Holds::of(&file.path, &old);
    // Only a secret file can hold a secret: a fragment written over `NAME.pfx.password` is no password.
    let will = match file.access {
        Access::Secret => Holds::of(&file.path, &file.contents),
        Access::Public => Holds::Other,
    };
    if was != Holds::Other && was != will {
        return Err(Error::Refused(format!(
            "{} holds {}, which --force never replaced with {}: nothing was written. Write to another file",
            file.path.display(),
            was.words(),
            will.words()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        Ok(Some(meta.permissions().mode() & 0o777))
    }
    #[cfg(not(unix))]
    Ok(None)
}

/// Refuses to write a secret into a folder other users may write to (they could swap or link the files around
/// it), unless the folder is sticky (as `/tmp` is: nobody can rename or remove another user's files there).
fn check_secret_folder(file: &OutputFile) -> Result<()> {
    #[cfg(unix)]
    if file.access == Access::Secret {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = parent_dir(&file.path).unwrap_or(Path::new("."));
        if let Ok(meta) = fs::metadata(dir) {
            let mode = meta.permissions().mode();
            if mode & 0o022 != 0 && mode & 0o1000 == 0 {
                return Err(Error::OutputDir {
                    path: dir.to_owned(),
                    reason: format!(
                        "other users may write to it (mode {:o}), so keycred writes no key, PFX or password there: \
                         make it yours alone (chmod go-w) or choose another folder",
                        mode & 0o7777
                    )
                    .into(),
                });
            }
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Writes every file atomically, all or nothing. On failure, the files this call had already put in place
/// (that did not exist before) are removed again, and the error names the file that failed. With `force` (the
/// user's `--force`) an existing file is replaced under [`check_replacement`]'s rule and kept as its backup.
pub fn write_all(files: &[OutputFile], force: bool) -> Result<()> {
    write_files(files, force, force)
}

/// Writes files that keycred itself keeps up to date (a token cache, a run's report), replacing the earlier
/// ones without a backup, atomically and under the same rule as `--force`.
pub fn replace_own(files: &[OutputFile]) -> Result<()> {
    write_files(files, true, false)
}

fn write_files(files: &[OutputFile], force: bool, backup: bool) -> Result<()> {
    check_targets(files, force)?;
    let mut modes = Vec::with_capacity(files.len());
    for file in files {
        check_secret_folder(file)?;
        modes.push(if force {
            check_replacement(file)?
        } else {
            None
        });
    }
    let mut staged = Vec::with_capacity(files.len());
    for (file, old_mode) in files.iter().zip(&modes) {
        staged.push(stage(file, *old_mode)?);
    }
    // What this call has put in place, each with the backup holding what it replaced: undone, newest first, when
    // a later file fails, so that a failed run leaves the earlier set whole (never a new .cer beside an old .key).
    let mut placed: Vec<(&Path, Option<PathBuf>)> = Vec::new();
    for (file, temp) in files.iter().zip(staged) {
        let existed = fs::symlink_metadata(&file.path).is_ok();
        // --force never loses what it replaces: the file stays beside it as FILE.bak (or .bak.N).
        let kept = if backup {
            match keep_as_backup(&file.path) {
                Ok(kept) => kept,
                Err(e) => {
                    undo(&placed);
                    return Err(e);
                }
            }
        } else {
            None
        };
        let result = if force {
            temp.persist(&file.path).map(drop)
        } else {
            temp.persist_noclobber(&file.path).map(drop)
        };
        if let Err(e) = result {
            // This file is as it was: its new backup is one name too many.
            if let Some(kept) = &kept {
                let _ = fs::remove_file(kept);
            }
            undo(&placed);
            return Err(if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Exists(file.path.clone())
            } else {
                Error::io(&file.path, e.error)
            });
        }
        if kept.is_some() || !existed {
            placed.push((&file.path, kept));
        }
    }
    if let Some(dir) = files.first().and_then(|f| parent_dir(&f.path)) {
        // Make the renames durable; a failure here does not undo a complete write.
        if let Ok(handle) = fs::File::open(dir) {
            let _ = handle.sync_all();
        }
    }
    Ok(())
}

/// Puts back what [`write_files`] replaced (the backup renamed over the new file) and removes what it added.
fn undo(placed: &[(&Path, Option<PathBuf>)]) {
    for (path, backup) in placed.iter().rev() {
        let _ = match backup {
            Some(backup) => fs::rename(backup, path),
            None => fs::remove_file(path),
        };
    }
}

/// Keeps an existing file as its next numbered backup (`FILE.bak`, `FILE.bak.1`, …) by linking it there, so the
/// rename that replaces `path` leaves the old content in place under the backup's name; returns the backup, or
/// `None` when there was no file.
pub fn keep_as_backup(path: &Path) -> Result<Option<PathBuf>> {
    keep_as_backup_at(path, backup_path(path))
}

/// [`keep_as_backup`] at the name `backup` chosen for it: whatever appears there after the choice (another writer,
/// or a link another user planted in the window) is never written through.
fn keep_as_backup_at(path: &Path, backup: PathBuf) -> Result<Option<PathBuf>> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {
            match fs::hard_link(path, &backup) {
                Ok(()) => {}
                // Taken since it was chosen (another writer, or a link planted there): never written through.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(Error::Refused(format!(
                        "{}: the backup's name was taken while keycred wrote it; nothing was replaced. Look at who \
                         else writes to {}",
                        backup.display(),
                        parent_dir(path).unwrap_or(Path::new(".")).display()
                    )))
                }
                // A file system without hard links: an owner-only copy, created new (never through a link).
                Err(_) => copy_as_secret(path, &backup)?,
            }
            Ok(Some(backup))
        }
        _ => Ok(None),
    }
}

/// Copies `from` to the new file `to`, created exclusively (a file or link already there fails) and owner-only.
fn copy_as_secret(from: &Path, to: &Path) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    let mut source = fs::OpenOptions::new();
    source.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        source.custom_flags(libc::O_NOFOLLOW);
    }
    let mut input = source.open(from).map_err(|e| Error::io(from, e))?;
    let mut output = options.open(to).map_err(|e| Error::io(to, e))?;
    std::io::copy(&mut input, &mut output)
        .and_then(|_| output.sync_all())
        .map_err(|e| Error::io(to, e))
}

/// Writes one public file (a fragment, a configuration) atomically, creating its folder if it is missing; an
/// existing file is replaced only with `force`.
pub fn write_public_file(path: &Path, contents: impl Into<Vec<u8>>, force: bool) -> Result<()> {
    let file = [OutputFile::new(path, contents, Access::Public)];
    check_targets(&file, force)?;
    refuse_replacing_a_manifest(path)?;
    if let Some(dir) = parent_dir(path) {
        if output_dir_state(dir)? == OutputDir::Missing {
            create_output_dir(dir, false)?;
        }
    }
    write_all(&file, force)
}

/// Refuses to replace a file that holds an app manifest (a JSON object with `appId` or `id`, as the portal and
/// Graph give them) with a fragment or any other output: `--force` replaces outputs, never a manifest, whose
/// certificates and every other field would be lost. Manifests are changed only by merging, under a lock, with a
/// backup.
pub fn refuse_replacing_a_manifest(path: &Path) -> Result<()> {
    let Ok(bytes) = fs::read(path) else {
        return Ok(());
    };
    let holds_manifest =
        serde_json::from_slice::<serde_json::Value>(crate::input::strip_bom(&bytes))
            .ok()
            .and_then(|value| value.as_object().cloned())
            .is_some_and(|object| object.contains_key("appId") || object.contains_key("id"));
    if holds_manifest {
        return Err(Error::Refused(format!(
            "{} holds an app manifest: --force never replaces a manifest with a fragment (its certificates and every \
             other field would be lost). Merge into it instead (keycred manifest grant --api API.json --client {} \
             --in-place for requiredResourceAccess; keycred manifest app-roles --merge for appRoles; keycred rotate \
             for keyCredentials), or write to another file",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

/// Why `path` is not the user's own: `None` when it is owned by the user keycred runs as, is not a symbolic link,
/// and no other user may write it (no group or other write bit), as OpenSSH's StrictModes asks of `~/.ssh`. What
/// keycred finds in a folder and then trusts (an earlier run's certificate, a token cache) must pass this.
pub fn not_private(path: &Path) -> Option<String> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) => return Some(crate::error::io_reason(&e)),
    };
    if meta.file_type().is_symlink() {
        return Some("it is a symbolic link".into());
    }
    not_owned_alone(&meta, false)
}

/// Why a file or folder (its `meta`) could be changed by another user: it belongs to another user (root, with
/// `root_too`, is accepted: system files are root's), or group or others may write it. `None` when neither.
pub fn not_owned_alone(meta: &fs::Metadata, root_too: bool) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me && !(root_too && meta.uid() == 0) {
            return Some(format!(
                "it belongs to user id {}, not to this user ({me}){}",
                meta.uid(),
                if root_too { " nor to root" } else { "" }
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Some(format!(
                "other users may write it (mode {:o})",
                meta.mode() & 0o7777
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (meta, root_too);
    None
}

/// An exclusive lock on a file being updated in place, held as an OS file lock (`flock`) on `FILE.lock`.
///
/// The kernel releases the lock when its holder exits, however it exits (SIGKILL, a crash, a power cut), so a
/// lock file left behind by a killed run never blocks the next one: only a live holder does. The holder's
/// process id is written in the file for the message another run shows; the file is removed on drop.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    // Held open for as long as the lock lives: closing it releases the lock.
    _file: fs::File,
}

impl Lock {
    /// Takes the lock for `target`, or says who holds it.
    pub fn acquire(target: &Path) -> Result<Lock> {
        let mut path = target.as_os_str().to_owned();
        path.push(".lock");
        let path = PathBuf::from(path);
        // A holder removes the file as it finishes; if that happens between our open and our lock, we would hold
        // a lock on a file nobody else can see, so make sure the name still points at what we locked.
        for _ in 0..8 {
            let mut file = open_lock_file(&path)?;
            match file.try_lock() {
                Ok(()) => {
                    if !names_this_file(&path, &file) {
                        continue;
                    }
                    let _ = file
                        .set_len(0)
                        .and_then(|()| writeln!(file, "{}", std::process::id()));
                    return Ok(Lock { path, _file: file });
                }
                Err(fs::TryLockError::WouldBlock) => {
                    let holder = fs::read_to_string(&path).unwrap_or_default();
                    return Err(Error::Locked {
                        target: target.to_owned(),
                        holder: holder
                            .trim()
                            .parse::<u32>()
                            .map_or_else(|_| String::new(), |pid| format!(" (process {pid})")),
                    });
                }
                Err(fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::io(
            &path,
            std::io::Error::other("the lock file kept being replaced; try again"),
        ))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked; the lock itself goes when the file is closed right after.
        let _ = fs::remove_file(&self.path);
    }
}

fn open_lock_file(path: &Path) -> Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        // Never follow a symbolic link planted at FILE.lock: the pid would be written through it.
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW).mode(0o644);
    }
    options.open(path).map_err(|e| Error::io(path, e))
}

#[cfg(unix)]
fn names_this_file(path: &Path, file: &fs::File) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (fs::symlink_metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn names_this_file(path: &Path, _file: &fs::File) -> bool {
    path.exists()
}

/// Whether two paths name the same file (after resolving links); paths that do not exist are compared as given.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The backup name for `target`: `FILE.bak`, or the first free `FILE.bak.N` when earlier backups exist, so a
/// backup never replaces an older one.
pub fn backup_path(target: &Path) -> PathBuf {
    let numbered = |n: u32| {
        let mut name = target.as_os_str().to_owned();
        name.push(if n == 0 {
            ".bak".to_owned()
        } else {
            format!(".bak.{n}")
        });
        PathBuf::from(name)
    };
    (0..)
        .map(numbered)
        .find(|p| fs::symlink_metadata(p).is_err())
        .expect("some backup number is free")
}

/// Replaces `target` with `contents` after keeping its `original` bytes as a new backup ([`backup_path`]).
/// Refuses, writing nothing, when the file no longer holds `original` (another writer changed it since it was
/// read). The caller holds the [`Lock`]. Returns the backup's path.
pub fn update_in_place(target: &Path, original: &[u8], contents: Vec<u8>) -> Result<PathBuf> {
    let now = fs::read(target).map_err(|e| Error::io(target, e))?;
    if now != original {
        return Err(Error::Changed(target.to_owned()));
    }
    let backup = backup_path(target);
    write_all(
        &[OutputFile::new(&backup, original.to_vec(), Access::Public)],
        false,
    )?;
    replace_own(&[OutputFile::new(target, contents, Access::Public)])?;
    Ok(backup)
}

fn parent_dir(path: &Path) -> Option<&Path> {
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Some(Path::new(".")),
        other => other,
    }
}

/// Writes `file` to a temporary file beside its target, with its mode narrowed to `old_mode` (the mode of the
/// file it replaces) where that is narrower.
fn stage(file: &OutputFile, old_mode: Option<u32>) -> Result<tempfile::NamedTempFile> {
    let mode = file.access.mode() & old_mode.unwrap_or(0o777);
    let dir = parent_dir(&file.path).unwrap_or(Path::new("."));
    let name = file
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    let mut temp = builder
        .tempfile_in(dir)
        .map_err(|e| Error::io(&file.path, e))?;
    #[cfg(unix)]
    {
        // The umask may have narrowed the mode at creation; set it exactly.
        use std::os::unix::fs::PermissionsExt as _;
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(&file.path, e))?;
    }
    temp.write_all(&file.contents)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| Error::io(&file.path, e))?;
    Ok(temp)
}

#[cfg(test)]
mod tests;

/// Whether `--report PATH` may be written: nothing is there yet, or a regular file (never a link) that holds an
/// earlier report, as `is_report` recognises one. A report is a run's output and replaces the earlier one; it never
/// replaces anything else (a manifest, a plan, a key), nor writes through a link. Checked before the run starts.
pub fn check_report_target(
    path: &Path,
    is_report: impl Fn(&serde_json::Map<String, serde_json::Value>) -> bool,
) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(Error::io(path, e)),
        Ok(meta) => Ok(meta.is_file()
            && crate::input::read_file(path)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .and_then(|value| value.as_object().map(&is_report))
                .unwrap_or(false)),
    }
}

/// Writes a run's report (pretty JSON, world-readable) at `path`, atomically replacing the earlier run's, which
/// [`check_report_target`] allowed before the run began. The one writer of `batch` and `graph rotate` reports.
pub fn write_report(path: &Path, report: &serde_json::Value) -> Result<()> {
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(report).expect("JSON values serialize")
    );
    replace_own(&[OutputFile::new(path, text, Access::Public)])
}
