//! The writer's promises: all or nothing, modes, locks, backups, and what `--force` may replace.

use super::*;

#[test]
fn writes_all_files_with_their_modes() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        OutputFile::new(dir.path().join("a.pem"), b"public".to_vec(), Access::Public),
        OutputFile::new(dir.path().join("a.key"), b"secret".to_vec(), Access::Secret),
    ];
    write_all(&files, false).unwrap();
    assert_eq!(fs::read(dir.path().join("a.pem")).unwrap(), b"public");
    assert_eq!(fs::read(dir.path().join("a.key")).unwrap(), b"secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |n: &str| {
            fs::metadata(dir.path().join(n))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("a.pem"), 0o644);
        assert_eq!(mode("a.key"), 0o600);
    }
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_existing_target_stops_the_whole_set_without_force() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("b.key"), b"original").unwrap();
    let files = [
        OutputFile::new(dir.path().join("a.pem"), b"new".to_vec(), Access::Public),
        OutputFile::new(dir.path().join("b.key"), b"new".to_vec(), Access::Secret),
    ];
    let err = write_all(&files, false).unwrap_err().to_string();
    assert!(
        err.contains("b.key already exists") && err.contains("--force"),
        "{err}"
    );
    assert!(!dir.path().join("a.pem").exists(), "nothing may be written");
    assert_eq!(fs::read(dir.path().join("b.key")).unwrap(), b"original");

    write_all(&files, true).unwrap();
    assert_eq!(fs::read(dir.path().join("b.key")).unwrap(), b"new");
}

#[test]
fn output_dir_problems_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = check_output_dir(&dir.path().join("nope"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("does not exist"), "{missing}");
    let file = dir.path().join("f");
    fs::write(&file, b"").unwrap();
    let not_dir = check_output_dir(&file).unwrap_err().to_string();
    assert!(not_dir.contains("is not a folder"), "{not_dir}");
    check_output_dir(dir.path()).unwrap();
}

#[test]
fn a_lock_is_exclusive_released_on_drop_and_ignores_a_dead_holders_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("m.json");
    // A lock file left by a killed run (old format: just a pid) does not block.
    fs::write(dir.path().join("m.json.lock"), "999999999\n").unwrap();
    let lock = Lock::acquire(&target).unwrap();
    let err = Lock::acquire(&target).unwrap_err().to_string();
    assert!(
        err.contains(&format!("(process {})", std::process::id())),
        "{err}"
    );
    drop(lock);
    assert!(!dir.path().join("m.json.lock").exists());
    drop(Lock::acquire(&target).unwrap());
}

#[cfg(unix)]
#[test]
fn a_lock_never_writes_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, "keep").unwrap();
    std::os::unix::fs::symlink(&victim, dir.path().join("m.json.lock")).unwrap();
    assert!(Lock::acquire(&dir.path().join("m.json")).is_err());
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
}

#[test]
fn a_backup_copy_never_goes_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("daemon.key");
    fs::write(&key, "old key").unwrap();
    // Another user's file, and a link to it planted at the backup's name.
    let theirs = dir.path().join("theirs");
    fs::write(&theirs, "").unwrap();
    let planted = dir.path().join("daemon.key.bak");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&theirs, &planted).unwrap();
    assert!(copy_as_secret(&key, &planted).is_err());
    assert_eq!(
        fs::read_to_string(&theirs).unwrap(),
        "",
        "nothing went through the link"
    );
    // The backup itself goes to the next free name, owner-only.
    let backup = keep_as_backup(&key).unwrap().unwrap();
    assert_eq!(backup, dir.path().join("daemon.key.bak.1"));
    assert_eq!(fs::read_to_string(&backup).unwrap(), "old key");
}

#[test]
fn a_link_planted_after_the_backup_name_was_chosen_gets_nothing() {
    // The race: keycred picks the first free backup name, and another user plants a link there before keycred
    // creates it. Played here by planting right after the choice.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("daemon.key");
    fs::write(&key, "old key").unwrap();
    let theirs = dir.path().join("theirs");
    fs::write(&theirs, "").unwrap();
    #[cfg(unix)]
    if rustix::process::geteuid().is_root() {
        // Another user's file, writable by all: a followed link would hand them the key.
        use std::os::unix::fs::PermissionsExt as _;
        std::os::unix::fs::chown(&theirs, Some(2000), Some(2000)).unwrap();
        fs::set_permissions(&theirs, fs::Permissions::from_mode(0o666)).unwrap();
    }
    let chosen = backup_path(&key);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&theirs, &chosen).unwrap();
    let refused = keep_as_backup_at(&key, chosen.clone()).unwrap_err();
    assert!(refused.to_string().contains("was taken"), "{refused}");
    assert_eq!(
        fs::read_to_string(&theirs).unwrap(),
        "",
        "the key went through the link"
    );
    assert_eq!(
        fs::read_to_string(&key).unwrap(),
        "old key",
        "nothing was replaced"
    );
}

#[test]
fn backups_are_numbered_and_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("m.json");
    fs::write(&target, "v1").unwrap();
    let b0 = update_in_place(&target, b"v1", b"v2".to_vec()).unwrap();
    let b1 = update_in_place(&target, b"v2", b"v3".to_vec()).unwrap();
    assert_eq!(b0, dir.path().join("m.json.bak"));
    assert_eq!(b1, dir.path().join("m.json.bak.1"));
    assert_eq!(fs::read_to_string(&b0).unwrap(), "v1");
    assert_eq!(fs::read_to_string(&b1).unwrap(), "v2");
    assert_eq!(fs::read_to_string(&target).unwrap(), "v3");
    let err = update_in_place(&target, b"v1", b"x".to_vec())
        .unwrap_err()
        .to_string();
    assert!(err.contains("changed while keycred"), "{err}");
    assert_eq!(fs::read_to_string(&target).unwrap(), "v3");
    assert!(!dir.path().join("m.json.bak.2").exists());
}
