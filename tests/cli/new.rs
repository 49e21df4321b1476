//! `keycred new`: the files, their permissions, the summary, and every bad input.

use std::fs;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::{Digest, Sha1};

use crate::common::*;

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn writes_every_file_with_owner_only_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let summary = new_credential(dir.path(), &["--generate-password"]);
    assert_eq!(
        names_in(dir.path()),
        [
            "daemon.cer",
            "daemon.key",
            "daemon.keycredentials.json",
            "daemon.pem",
            "daemon.pfx",
            "daemon.pfx.password"
        ]
    );
    #[cfg(unix)]
    for (name, expected) in [
        ("daemon.cer", 0o644),
        ("daemon.pem", 0o644),
        ("daemon.keycredentials.json", 0o644),
        ("daemon.key", 0o600),
        ("daemon.pfx", 0o600),
        ("daemon.pfx.password", 0o600),
    ] {
        assert_eq!(mode(&dir.path().join(name)), expected, "{name}");
    }
    let password = fs::read_to_string(dir.path().join("daemon.pfx.password")).unwrap();
    assert_eq!(password.trim_end().len(), 32);
    let key = fs::read_to_string(dir.path().join("daemon.key")).unwrap();
    assert!(
        key.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "PKCS#8 PEM"
    );
    let pem = fs::read_to_string(dir.path().join("daemon.pem")).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert_eq!(
        summary["files"]["pfx"],
        dir.path().join("daemon.pfx").display().to_string()
    );
}

#[test]
fn summary_and_fragment_are_derived_from_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let summary = new_credential(dir.path(), &["--no-pfx"]);
    let der = fs::read(dir.path().join("daemon.cer")).unwrap();
    let sha1 = Sha1::digest(&der);
    let hex: String = sha1.iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(summary["thumbprints"]["sha1"], hex);
    assert_eq!(summary["subject"], "CN=Contoso Daemon, O=Contoso");
    assert_eq!(summary["key"], "RSA 2048");
    assert_eq!(summary["signatureAlgorithm"], "sha256WithRSAEncryption");

    let fragment: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("daemon.keycredentials.json")).unwrap())
            .unwrap();
    let entry = &fragment["keyCredentials"][0];
    assert_eq!(
        STANDARD
            .decode(entry["customKeyIdentifier"].as_str().unwrap())
            .unwrap(),
        sha1.to_vec(),
        "customKeyIdentifier holds the 20 raw SHA-1 bytes"
    );
    assert_eq!(
        STANDARD.decode(entry["key"].as_str().unwrap()).unwrap(),
        der
    );
    assert_eq!(entry["keyId"], summary["keyId"]);
    assert_eq!(entry["startDateTime"], summary["notBefore"]);
    assert_eq!(entry["endDateTime"], summary["notAfter"]);
    assert_eq!(entry["displayName"], "CN=Contoso Daemon, O=Contoso");
    let keys: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "customKeyIdentifier",
            "displayName",
            "endDateTime",
            "key",
            "keyId",
            "startDateTime",
            "type",
            "usage"
        ]
    );
    assert!(!dir.path().join("daemon.pfx").exists());
}

#[test]
fn legacy_format_uses_the_azure_ad_graph_field_names() {
    let dir = tempfile::tempdir().unwrap();
    new_credential(dir.path(), &["--no-pfx", "--format", "legacy"]);
    let fragment: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("daemon.keycredentials.json")).unwrap())
            .unwrap();
    let entry = fragment["keyCredentials"][0].as_object().unwrap();
    let keys: Vec<&str> = entry.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "customKeyIdentifier",
            "endDate",
            "keyId",
            "startDate",
            "type",
            "usage",
            "value"
        ]
    );
    let der = fs::read(dir.path().join("daemon.cer")).unwrap();
    assert_eq!(
        STANDARD.decode(entry["value"].as_str().unwrap()).unwrap(),
        der
    );
}

#[test]
fn validity_options_set_the_dates() {
    let dir = tempfile::tempdir().unwrap();
    let summary = new_credential(dir.path(), &["--no-pfx", "--days", "30"]);
    let parse = |v: &serde_json::Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let (start, end) = (parse(&summary["notBefore"]), parse(&summary["notAfter"]));
    assert_eq!((end - start).whole_days(), 30);
    let skew = time::OffsetDateTime::now_utc() - start;
    assert!(
        skew >= time::Duration::minutes(5) && skew < time::Duration::minutes(6),
        "not-before is now minus 5 minutes, got {skew}"
    );

    let dir = tempfile::tempdir().unwrap();
    let summary = new_credential(dir.path(), &["--no-pfx", "--not-after", "2027-06-30"]);
    assert_eq!(summary["notAfter"], "2027-06-30T23:59:59Z");
}

#[test]
fn long_validity_warns_but_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    keycred()
        .args(["new", "-s", "Long", "--no-pfx", "--days", "730", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicates::str::contains("Microsoft recommends"));
}

#[test]
fn name_defaults_to_the_common_name() {
    let dir = tempfile::tempdir().unwrap();
    keycred()
        .args(["new", "-s", "Contoso Batch Job", "--no-pfx", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(dir.path().join("contoso-batch-job.cer").exists());
}

#[test]
fn password_comes_from_a_file_or_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("pw.txt");
    fs::write(&password_file, "from-file\n").unwrap();
    keycred()
        .args(["new", "-s", "A", "--name", "a", "--out"])
        .arg(dir.path())
        .arg("--password-file")
        .arg(&password_file)
        .assert()
        .success();
    keycred()
        .args(["inspect", "--password-file"])
        .arg(&password_file)
        .arg(dir.path().join("a.pfx"))
        .assert()
        .success()
        .stdout(predicates::str::contains("matches the certificate"));

    keycred()
        .env("KEYCRED_PFX_PASSWORD", "from-env")
        .args(["new", "-s", "B", "--name", "b", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    keycred()
        .env("KEYCRED_PFX_PASSWORD", "from-env")
        .arg("inspect")
        .arg(dir.path().join("b.pfx"))
        .assert()
        .success();
    assert!(
        !dir.path().join("b.pfx.password").exists(),
        "only --generate-password writes it"
    );
}

#[test]
fn force_replaces_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    new_credential(dir.path(), &["--no-pfx"]);
    let first = fs::read(dir.path().join("daemon.cer")).unwrap();
    new_credential(dir.path(), &["--no-pfx", "--force"]);
    assert_ne!(fs::read(dir.path().join("daemon.cer")).unwrap(), first);
    let leftovers: Vec<_> = names_in(dir.path())
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn larger_keys_and_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let summary = new_credential(
        dir.path(),
        &["--no-pfx", "--key-size", "3072", "--hash", "sha384"],
    );
    assert_eq!(summary["key"], "RSA 3072");
    assert_eq!(summary["signatureAlgorithm"], "sha384WithRSAEncryption");
}

// ---- bad input: a specific message, a non-zero exit, and no file written ----

fn new_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    keycred()
        .arg("new")
        .args(args)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn refuses_key_sizes_outside_the_offer() {
    let dir = tempfile::tempdir().unwrap();
    for size in ["1024", "2047", "8192"] {
        let out = new_in(dir.path(), &["-s", "A", "--no-pfx", "--key-size", size]);
        assert_fails(&out, 2, &format!("key size {size} is not offered"));
    }
    let out = new_in(dir.path(), &["-s", "A", "--no-pfx", "--key-size", "big"]);
    assert_fails(&out, 2, "--key-size");
    assert!(names_in(dir.path()).is_empty());
}

#[test]
fn refuses_empty_and_malformed_subjects() {
    let dir = tempfile::tempdir().unwrap();
    for (subject, expected) in [
        ("", "is empty"),
        ("O=Contoso", "has no CN"),
        ("CN=a,XX=b", "unknown attribute type \"XX\""),
        ("CN=a,C=USA", "two-letter country code"),
    ] {
        let out = new_in(dir.path(), &["-s", subject, "--no-pfx"]);
        assert_fails(&out, 2, expected);
    }
    assert!(names_in(dir.path()).is_empty());
}

#[test]
fn refuses_empty_or_reversed_validity() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails(
        &new_in(dir.path(), &["-s", "A", "--no-pfx", "--days", "0"]),
        2,
        "--days 0",
    );
    assert_fails(
        &new_in(
            dir.path(),
            &["-s", "A", "--no-pfx", "--not-after", "2020-01-01"],
        ),
        2,
        "would end before it starts",
    );
    assert_fails(
        &new_in(
            dir.path(),
            &["-s", "A", "--no-pfx", "--not-after", "next year"],
        ),
        2,
        "is not a date",
    );
    assert_fails(
        &new_in(
            dir.path(),
            &[
                "-s",
                "A",
                "--no-pfx",
                "--days",
                "5",
                "--not-after",
                "2030-01-01",
            ],
        ),
        2,
        "cannot be used with",
    );
    assert!(names_in(dir.path()).is_empty());
}

#[test]
fn refuses_a_missing_or_unwritable_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    // A folder that does not exist yet is created, owner-only, and said so.
    let missing = dir.path().join("missing/nested");
    let out = new_in(&missing, &["-s", "A", "--no-pfx"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("created the folder"));
    assert_eq!(
        names_in(&missing),
        ["a.cer", "a.key", "a.keycredentials.json", "a.pem"]
    );
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            fs::metadata(&missing).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
    fs::remove_dir_all(dir.path().join("missing")).unwrap();
    let file = dir.path().join("file");
    fs::write(&file, "").unwrap();
    assert_fails(
        &new_in(&file, &["-s", "A", "--no-pfx"]),
        1,
        "is not a folder",
    );
    // /proc refuses new files even to root, so this holds whoever runs the tests.
    assert_fails(
        &new_in(std::path::Path::new("/proc"), &["-s", "A", "--no-pfx"]),
        1,
        "is not writable",
    );
    assert_fails(
        &new_in(dir.path(), &["-s", "A", "--no-pfx", "--name", "../escape"]),
        2,
        "--name \"../escape\" contains a path separator",
    );
    assert_eq!(names_in(dir.path()), ["file"]);
}

#[test]
fn an_existing_file_stops_the_whole_run_without_force() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("daemon.pfx"), "precious").unwrap();
    let out = new_in(
        dir.path(),
        &["-s", "Daemon", "--name", "daemon", "--generate-password"],
    );
    assert_fails(&out, 1, "daemon.pfx already exists: nothing was written");
    assert_eq!(
        names_in(dir.path()),
        ["daemon.pfx"],
        "no other file was written"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("daemon.pfx")).unwrap(),
        "precious"
    );
}

#[test]
fn refuses_to_run_without_a_password_source_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out = new_in(dir.path(), &["-s", "A"]);
    assert_fails(
        &out,
        2,
        "a PFX password is required: pass --password-file PATH or --generate-password",
    );
    assert!(names_in(dir.path()).is_empty());

    let empty = dir.path().join("empty.txt");
    fs::write(&empty, "\n").unwrap();
    let out = keycred()
        .args(["new", "-s", "A", "--password-file"])
        .arg(&empty)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_fails(&out, 2, "is empty");

    let out = keycred()
        .args(["new", "-s", "A", "--password-file"])
        .arg(dir.path().join("nope.txt"))
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    // The value is not repeated: it may be the password itself, given where its file belongs.
    assert_fails(
        &out,
        1,
        "cannot read the --password-file file: what was given is not a readable file",
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("nope.txt"));

    let out = keycred()
        .env("KEYCRED_PFX_PASSWORD", "")
        .args(["new", "-s", "A", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_fails(&out, 2, "KEYCRED_PFX_PASSWORD is empty");
    assert_eq!(names_in(dir.path()), ["empty.txt"]);
}

#[test]
fn password_is_never_taken_from_argv() {
    let out = keycred()
        .args(["new", "-s", "A", "--password", "secret"])
        .output()
        .unwrap();
    assert_fails(&out, 2, "unexpected argument '--password'");
}
