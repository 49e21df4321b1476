//! What a first-time admin hit, round three: `--force` on fragment outputs, and the tenant rotation's choices of
//! which apps and which credentials it touches.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::common::*;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every command that writes a fragment, configuration or body to `--out FILE --force`, writing to `target`.
fn fragment_writers(dir: &Path, target: &Path) -> Vec<(&'static str, Vec<std::ffi::OsString>)> {
    let t = target.as_os_str().to_owned();
    let cer = dir.join("daemon.cer").into_os_string();
    let pfx = dir.join("daemon.pfx").into_os_string();
    let pw = dir.join("daemon.pfx.password").into_os_string();
    let os = |words: &[&str]| {
        words
            .iter()
            .map(std::ffi::OsString::from)
            .collect::<Vec<_>>()
    };
    let with = |mut a: Vec<std::ffi::OsString>, more: Vec<std::ffi::OsString>| {
        a.extend(more);
        a
    };
    vec![
        (
            "config",
            with(
                os(&[
                    "config",
                    "--for",
                    "env",
                    "--tenant",
                    TENANT,
                    "--client-id",
                    CLIENT,
                    "--force",
                    "--pfx",
                ]),
                vec![
                    pfx.clone(),
                    "--password-file".into(),
                    pw.clone(),
                    "--out".into(),
                    t.clone(),
                ],
            ),
        ),
        (
            "api-policy",
            with(
                os(&[
                    "api-policy",
                    "--tenant",
                    TENANT,
                    "--audience",
                    "api://contoso-orders",
                    "--token-version",
                    "1",
                    "--force",
                ]),
                vec!["--out".into(), t.clone()],
            ),
        ),
        (
            "manifest key-credentials",
            with(
                os(&["manifest", "key-credentials", "--force"]),
                vec![cer.clone(), "--out".into(), t.clone()],
            ),
        ),
        (
            "manifest app-roles",
            with(
                os(&["manifest", "app-roles", "--role", "Orders.Read", "--force"]),
                vec!["--out".into(), t.clone()],
            ),
        ),
        (
            "graph add-key",
            with(
                os(&[
                    "graph",
                    "add-key",
                    "--object-id",
                    "2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c10",
                    "--force",
                ]),
                vec![
                    "--current-pfx".into(),
                    pfx,
                    "--current-password-file".into(),
                    pw,
                    "--cert".into(),
                    dir.join("next.cer").into_os_string(),
                    "--out".into(),
                    t,
                ],
            ),
        ),
    ]
}

/// The daemon's credential (key, PFX, generated password) and the next certificate for add-key.
fn credentials(dir: &Path) {
    new_credential(dir, &["--generate-password"]);
    stdout(
        &keycred()
            .args([
                "new", "-s", "CN=Next", "--name", "next", "--no-pfx", "--out",
            ])
            .arg(dir)
            .output()
            .unwrap(),
    );
}

#[test]
fn force_never_replaces_a_key_a_pfx_or_a_password_with_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    credentials(dir.path());
    let secrets: Vec<PathBuf> = ["daemon.key", "daemon.pfx", "daemon.pfx.password"]
        .iter()
        .map(|n| dir.path().join(n))
        .collect();
    for secret in &secrets {
        let before = std::fs::read(secret).unwrap();
        assert_eq!(mode(secret), 0o600);
        for (name, args) in fragment_writers(dir.path(), secret) {
            let out = keycred().args(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_ne!(
                out.status.code(),
                Some(0),
                "{name} replaced {}",
                secret.display()
            );
            assert!(
                stderr.contains(&secret.display().to_string()) && stderr.contains("never replaced"),
                "{name}: {stderr}"
            );
            assert_eq!(
                std::fs::read(secret).unwrap(),
                before,
                "{name} changed {}",
                secret.display()
            );
            assert_eq!(mode(secret), 0o600, "{name}");
        }
    }
    assert!(
        !names_in(dir.path()).iter().any(|n| n.ends_with(".bak")),
        "nothing was replaced, so nothing was backed up: {:?}",
        names_in(dir.path())
    );
}

#[test]
fn force_keeps_a_backup_of_what_it_replaces_and_never_widens_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    credentials(dir.path());
    let target = dir.path().join("private-notes.json");
    for (name, args) in fragment_writers(dir.path(), &target) {
        std::fs::write(&target, format!("kept by {name}\n")).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        for stale in names_in(dir.path())
            .iter()
            .filter(|n| n.starts_with("private-notes.json.bak"))
        {
            std::fs::remove_file(dir.path().join(stale)).unwrap();
        }
        let out = keycred().args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(mode(&target), 0o600, "{name} widened the file's mode");
        let backup = dir.path().join("private-notes.json.bak");
        assert_eq!(
            std::fs::read_to_string(&backup).unwrap(),
            format!("kept by {name}\n"),
            "{name}"
        );
        assert_eq!(mode(&backup), 0o600, "{name}");
    }
}
