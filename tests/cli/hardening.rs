//! Regression tests for the defects of the hardening issue: each feeds keycred the bad input or fault, and checks
//! the exit code, the message, and that no file was changed or half-written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{json, Value};

use crate::common::*;

/// One Graph key credential valid over the day range, with the given keyId.
fn credential(key_id: &str, start: i64, end: i64) -> Value {
    key_credential(key_id, "CN=Orders Daemon", start, end)
}

const KEY_A: &str = "00000000-0000-4000-8000-00000000000a";
const KEY_B: &str = "00000000-0000-4000-8000-00000000000b";

/// Writes `text` as `name` in `dir`.
fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

fn manifest_text(credentials: Vec<Value>) -> String {
    ManifestBuilder::fields(json!({
        "id": "8b0f0000-0000-0000-0000-000000000001",
        "api": {"requestedAccessTokenVersion": 2},
        "keyCredentials": [],
        "zUnknown": {"kept": [1, 2, 3]}
    }))
    .credentials(credentials)
    .text()
}

fn check(files: &[&Path], extra: &[&str]) -> std::process::Output {
    keycred()
        .arg("check")
        .args(files)
        .args(extra)
        .output()
        .unwrap()
}

/// Every file in `dir` with its bytes, to prove a refusal changed nothing.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    names_in(dir)
        .into_iter()
        .filter(|n| dir.join(n).is_file())
        .map(|n| {
            let bytes = fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

// ---- 1. duplicate keys ----

#[test]
fn duplicate_keys_are_refused_naming_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let one = credential(KEY_A, -300, 200).to_string();
    let two = credential(KEY_B, -10, 300).to_string();
    let text = format!(
        "{{\n  \"api\": {{}},\n  \"keyCredentials\": [{one}],\n  \"displayName\": \"Orders\",\n  \"keyCredentials\": [{two}]\n}}\n"
    );
    let manifest = write(dir.path(), "app.json", &text);
    let before = contents(dir.path());

    let out = rotate_orders(&manifest, dir.path(), &["--in-place"]);
    assert_fails(
        &out,
        1,
        "app.json: the key \"keyCredentials\" appears twice at the top level (line 5)",
    );
    assert_eq!(contents(dir.path()), before, "nothing written, no .bak");

    let out = check(&[&manifest], &[]);
    assert_fails(&out, 1, "the key \"keyCredentials\" appears twice");

    // Inside a credential, and in a fragment keycred itself writes.
    let nested =
        "{\"keyCredentials\": [{\"keyId\": \"a\",\n\"endDateTime\": \"x\", \"keyId\": \"b\"}]}";
    let fragment = write(dir.path(), "daemon.keycredentials.json", nested);
    assert_fails(
        &check(&[&fragment], &[]),
        1,
        "the key \"keyId\" appears twice in keyCredentials[0] (line 2)",
    );
    // The roles files and merges of app-roles go through the same reader.
    let roles = write(
        dir.path(),
        "roles.json",
        r#"[{"value": "A.Read", "value": "A.Write"}]"#,
    );
    let out = keycred()
        .args(["manifest", "app-roles", "--roles-file"])
        .arg(&roles)
        .output()
        .unwrap();
    assert_fails(&out, 1, "the key \"value\" appears twice in [0]");
}

// ---- 2. locks that outlive their run ----

#[test]
fn a_lock_left_by_a_dead_run_does_not_block_and_a_killed_holder_releases_it() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "app.json",
        manifest_text(vec![credential(KEY_A, -300, 10)]),
    );
    // What an interrupted older run left behind: a lock file naming a process that is gone.
    let lock = format!("{}.lock", manifest.display());
    fs::write(&lock, "999999999\n").unwrap();
    let summary = json(&rotate_orders(
        &manifest,
        dir.path(),
        &["--in-place", "--json"],
    ));
    assert_eq!(summary["changed"], true);
    assert!(!Path::new(&lock).exists(), "the lock file is removed");

    // A live holder blocks (with no pid in the file, the message names none); killed with SIGKILL, the kernel
    // releases its lock and the next run goes through.
    let mut holder = hold_lock(&lock);
    let before = fs::read(&manifest).unwrap();
    let out = rotate_orders(
        &manifest,
        dir.path(),
        &["--in-place", "--renew-within", "400"],
    );
    assert_fails(
        &out,
        1,
        "app.json is being updated by another keycred run: nothing was written",
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("process )"));
    assert_eq!(fs::read(&manifest).unwrap(), before);
    holder.kill().unwrap();
    holder.wait().unwrap();
    let again = dir.path().join("again");
    fs::create_dir(&again).unwrap();
    let out = rotate_orders(&manifest, &again, &["--in-place", "--renew-within", "400"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A batch of slow (RSA-4096) apps, run one at a time, stopped by `signal` after the first app is done.
fn interrupted_batch(signal: &str) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = String::from("[defaults]\nout = \"certs\"\nkey_size = 4096\nno_pfx = true\n");
    fs::create_dir(dir.path().join("manifests")).unwrap();
    for i in 0..8 {
        let manifest = format!("manifests/app{i}.json");
        write(
            dir.path(),
            &manifest,
            manifest_text(vec![credential(KEY_A, -300, 10)]),
        );
        plan.push_str(&format!(
            "\n[[app]]\nname = \"app{i}\"\nsubject = \"CN=App {i}\"\nmanifest = \"{manifest}\"\n"
        ));
    }
    let plan_path = write(dir.path(), "plan.toml", plan);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("keycred"))
        .arg("batch")
        .arg(&plan_path)
        .args(["--jobs", "1", "--report"])
        .arg(dir.path().join("report.json"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first progress line, then signal while the second app is in progress.
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("[1/8]") {
        let n = std::io::Read::read(&mut stderr, &mut buf).unwrap();
        assert!(
            n > 0,
            "batch ended early: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut stderr, &mut rest).unwrap();
    seen.extend_from_slice(&rest);
    let mut output = child.wait_with_output().unwrap();
    output.stderr = seen;
    (dir, output)
}

#[test]
fn an_interrupted_batch_finishes_the_app_in_progress_and_reports_what_was_done() {
    for (signal, code, name) in [("INT", 130, "SIGINT"), ("TERM", 143, "SIGTERM")] {
        let (dir, out) = interrupted_batch(signal);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{signal}: {stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(&format!("stopped by {name}")), "{stdout}");
        let report: Value =
            serde_json::from_slice(&fs::read(dir.path().join("report.json")).unwrap()).unwrap();
        assert_eq!(report["interruptedBy"], name);
        let apps = report["apps"].as_array().unwrap();
        assert_eq!(apps.len(), 8, "every app is in the report");
        let done: Vec<_> = apps.iter().filter(|a| a["result"] == "rotated").collect();
        let not_started = apps.iter().filter(|a| a["result"] == "not started").count();
        assert!(!done.is_empty() && not_started > 0, "{report}");
        assert_eq!(
            done.len() + not_started + report["counts"]["interrupted"].as_u64().unwrap() as usize,
            8,
            "{report}"
        );
        // Every app is either rotated completely (manifest and backup) or untouched; no lock or temp file is left.
        for app in apps {
            let name = app["name"].as_str().unwrap();
            let manifest = dir.path().join(format!("manifests/{name}.json"));
            let doc: Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
            let count = doc["keyCredentials"].as_array().unwrap().len();
            let backup = dir.path().join(format!("manifests/{name}.json.bak"));
            if app["result"] == "rotated" {
                assert_eq!(count, 2, "{name}");
                assert!(backup.exists(), "{name}");
            } else {
                assert_eq!(count, 1, "{name}");
                assert!(!backup.exists(), "{name}");
            }
        }
        let leftovers: Vec<String> = names_in(&dir.path().join("manifests"))
            .into_iter()
            .filter(|n| n.ends_with(".lock") || n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

// ---- 3. writing to the input path ----

#[test]
fn manifest_out_onto_the_manifest_is_refused_even_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "app.json",
        manifest_text(vec![credential(KEY_A, -300, 10)]),
    );
    fs::create_dir(dir.path().join("sub")).unwrap();
    let before = contents(dir.path());
    let same = dir.path().join("sub/../app.json");
    for flag in ["--manifest-out", "--patch-out"] {
        let out = rotate_orders(
            &manifest,
            dir.path(),
            &[flag, same.to_str().unwrap(), "--force"],
        );
        assert_fails(&out, 1, "is the manifest being rotated: use --in-place");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("pass --force"));
    }
    assert_eq!(contents(dir.path()), before);
}

// ---- 4. duplicate keyIds ----

#[test]
fn duplicate_key_ids_are_reported_refused_and_repaired_only_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "app.json",
        manifest_text(vec![
            credential(KEY_A, -300, 200),
            credential(KEY_B, -10, 300),
            credential(KEY_A, -20, 250),
        ]),
    );
    let out = check(&[&manifest], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("app.json: INVALID (3 credentials): Entra refuses it as it is; fix the problems below\n  problem: keyId {KEY_A} is used 2 times (keyCredentials[0], keyCredentials[2])")),
        "{stdout}"
    );
    let report = output_json(&check(&[&manifest], &["--json"]));
    assert_eq!(report["verdict"], "invalid");
    assert_eq!(report["exitCode"], 1);
    assert_eq!(report["files"][0]["expiry"], "healthy");

    let before = contents(dir.path());
    let out = rotate_orders(&manifest, dir.path(), &["--in-place"]);
    assert_fails(&out, 1, &format!("keyId {KEY_A} is used 2 times"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--repair-key-ids"));
    assert_eq!(contents(dir.path()), before);

    let summary = json(&rotate_orders(
        &manifest,
        dir.path(),
        &[
            "--in-place",
            "--repair-key-ids",
            "--renew-within",
            "30",
            "--json",
        ],
    ));
    assert_eq!(summary["changed"], true);
    assert_eq!(summary["repairedKeyIds"].as_array().unwrap().len(), 1);
    let doc: Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    let entries = doc["keyCredentials"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "not due: only the repair");
    assert_eq!(entries[0]["keyId"], KEY_A);
    assert_ne!(entries[2]["keyId"], KEY_A);
    // Only the keyId changed, in its place.
    let mut expected = credential(KEY_A, -20, 250);
    expected["keyId"] = entries[2]["keyId"].clone();
    expected["endDateTime"] = entries[2]["endDateTime"].clone();
    expected["startDateTime"] = entries[2]["startDateTime"].clone();
    assert_eq!(entries[2], expected);
    assert_eq!(doc["zUnknown"], json!({"kept": [1, 2, 3]}));
    assert_eq!(check(&[&manifest], &[]).status.code(), Some(0));
}

// ---- 5. wrong field types ----

#[test]
fn credentials_with_fields_of_the_wrong_type_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "keyId",
            json!(7),
            "keyCredentials[0]: keyId is a number (7); Graph's type is a GUID string",
        ),
        (
            "keyId",
            json!("not-a-guid"),
            "keyId \"not-a-guid\" is not a GUID",
        ),
        (
            "endDateTime",
            json!(20271121),
            "endDateTime is a number (20271121); Graph's type is an RFC 3339 date string",
        ),
        (
            "startDateTime",
            json!(["2026"]),
            "startDateTime is an array",
        ),
        ("key", json!("%%% not base64 %%%"), "key is not base64"),
        ("key", json!(12), "key is a number (12)"),
        (
            "customKeyIdentifier",
            json!("###"),
            "customKeyIdentifier \"###\" is not base64",
        ),
        ("displayName", json!({"a": 1}), "displayName is an object"),
        ("type", json!(true), "type is a boolean (true)"),
    ];
    for (field, value, expected) in cases {
        let mut entry = credential(KEY_A, -300, 10);
        entry[field] = value;
        let manifest = write(dir.path(), "app.json", manifest_text(vec![entry]));
        let before = contents(dir.path());
        assert_fails(&check(&[&manifest], &[]), 1, expected);
        assert_fails(
            &rotate_orders(&manifest, dir.path(), &["--in-place"]),
            1,
            expected,
        );
        assert_eq!(contents(dir.path()), before, "{field}");
    }
}

// ---- 6. byte-order marks ----

#[test]
fn inputs_saved_with_a_bom_are_read_and_rewritten_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = manifest_text(vec![credential(KEY_A, -300, 10)]);
    let mut with_bom = b"\xef\xbb\xbf".to_vec();
    with_bom.extend_from_slice(text.as_bytes());
    let manifest = write(dir.path(), "app.json", &with_bom);

    let out = check(&[&manifest], &[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&rotate_orders(
        &manifest,
        dir.path(),
        &["--in-place", "--json"],
    ));
    let rewritten = fs::read(&manifest).unwrap();
    assert!(
        !rewritten.starts_with(b"\xef\xbb\xbf"),
        "written without a BOM"
    );
    assert_eq!(
        fs::read(dir.path().join("app.json.bak")).unwrap(),
        with_bom,
        "the backup is the original, BOM included"
    );

    // A PEM certificate and a batch plan with a BOM.
    let mut pem = b"\xef\xbb\xbf".to_vec();
    pem.extend_from_slice(&fs::read(fixture("openssl-rsa.pem")).unwrap());
    let pem_path = write(dir.path(), "bom.pem", &pem);
    let out = keycred()
        .args(["thumbprint", "--form", "hex"])
        .arg(&pem_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969"
    );
    let plan = write(
        dir.path(),
        "plan.toml",
        "\u{feff}[[app]]\nname = \"bom\"\nsubject = \"CN=Bom\"\nno_pfx = true\nout = \"certs\"\n",
    );
    let out = keycred().arg("batch").arg(&plan).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("certs/bom/bom.cer").exists());
}

// ---- 7. messages that said the wrong thing ----

#[test]
fn check_says_what_it_expected_and_names_each_state() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, expected) in [
        (
            "array.json",
            "[1, 2]",
            "is an array in JSON, not an app manifest: expected one JSON object",
        ),
        (
            "scalar.json",
            "42",
            "is a number (42) in JSON, not an app manifest",
        ),
        (
            "text.json",
            "hello",
            "malformed JSON: expected value at line 1 column 1; expected an app manifest",
        ),
        (
            "notes.txt",
            "hello",
            "check reads app manifests (a JSON object with keyCredentials) and certificates",
        ),
    ] {
        let path = write(dir.path(), name, text);
        let out = check(&[&path], &[]);
        assert_fails(&out, 1, expected);
    }

    let empty = write(dir.path(), "empty.json", manifest_text(Vec::new()));
    let out = check(&[&empty], &[]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("empty.json: no certificate credentials\n"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report = output_json(&check(&[&empty], &["--json"]));
    assert_eq!(report["verdict"], "no-credentials");
    assert_eq!(report["exitCode"], 4);

    if !python_cryptography_available() {
        return;
    }
    let future = python_certificate(dir.path(), "future", 5000, 5400);
    let out = check(&[&future.pem], &[]);
    assert_eq!(out.status.code(), Some(4));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("future.pem: not yet valid (1 credential)"),
        "{stdout}"
    );
    assert!(!stdout.contains("expired"), "{stdout}");
}

/// A certificate and PFX made by Python `cryptography` with any validity (keycred never makes expired or future
/// ones), RSA-2048, SHA-256, PFX password "pw" (AES, PBES2).
struct PyCert {
    pem: PathBuf,
    pfx: PathBuf,
}

fn python_certificate(dir: &Path, name: &str, start_days: i64, end_days: i64) -> PyCert {
    let script = r#"
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
out, name, start, end = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=start)).not_valid_after(now + datetime.timedelta(days=end))
        .sign(key, hashes.SHA256()))
open(f"{out}/{name}.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(f"{out}/{name}.pfx", "wb").write(pkcs12.serialize_key_and_certificates(
    name.encode(), key, cert, None, serialization.BestAvailableEncryption(b"pw")))
"#;
    run_peer(
        "python3",
        &[
            "-c",
            script,
            dir.to_str().unwrap(),
            name,
            &start_days.to_string(),
            &end_days.to_string(),
        ],
    );
    PyCert {
        pem: dir.join(format!("{name}.pem")),
        pfx: dir.join(format!("{name}.pfx")),
    }
}

// ---- 8. expired certificates where Entra or Graph refuse them ----

#[test]
fn expired_certificates_are_refused_where_entra_and_graph_refuse_them() {
    if !python_cryptography_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let expired = python_certificate(dir.path(), "expired", -400, -35);
    let out = keycred()
        .args(["manifest", "key-credentials"])
        .arg(&expired.pem)
        .output()
        .unwrap();
    assert_fails(&out, 1, "expired.pem (CN=expired) expired on");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-expired"));
    assert!(out.stdout.is_empty());
    let out = keycred()
        .args(["manifest", "key-credentials", "--allow-expired"])
        .arg(&expired.pem)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning"));
    assert_eq!(json(&out)["keyCredentials"].as_array().unwrap().len(), 1);

    let password = write(dir.path(), "pw.txt", "pw\n");
    let before = contents(dir.path());
    let out = keycred()
        .args([
            "graph",
            "add-key",
            "--object-id",
            "11111111-2222-3333-4444-555555555555",
        ])
        .arg("--current-pfx")
        .arg(&expired.pfx)
        .arg("--current-password-file")
        .arg(&password)
        .arg("--cert")
        .arg(fixture("openssl-rsa.cer"))
        .arg("--out")
        .arg(dir.path().join("body.json"))
        .output()
        .unwrap();
    assert_fails(&out, 1, "the current certificate (CN=expired) expired on");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Graph rejects a proof"));
    assert_eq!(contents(dir.path()), before);
}

// ---- 9. a key that cannot be the certificate's ----

#[test]
fn inspect_says_an_ec_key_does_not_match_an_rsa_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let mut bundle = fs::read(fixture("openssl-rsa.pem")).unwrap();
    bundle.extend_from_slice(&fs::read(fixture("openssl-ec.key")).unwrap());
    let path = write(dir.path(), "mixed.pem", bundle);
    let out = keycred().arg("inspect").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("private key   EC P-256, DOES NOT match the certificate"),
        "{text}"
    );
    let out = keycred()
        .args(["inspect", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(json(&out)[0]["privateKey"]["matchesCertificate"], false);
    // The matching pair still matches.
    let out = keycred()
        .args(["inspect", "--json"])
        .arg(fixture("openssl-ec.pem"))
        .output()
        .unwrap();
    let doc = json(&out);
    if doc[0].get("privateKey").is_some() {
        assert_eq!(doc[0]["privateKey"]["matchesCertificate"], true);
    }
}

// ---- 10. every row of README's exit-code table ----

#[test]
fn exit_codes_match_the_readme_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let manifest = write(
        dir.path(),
        "app.json",
        manifest_text(vec![credential(KEY_A, -300, 200)]),
    );
    let due = write(
        dir.path(),
        "due.json",
        manifest_text(vec![credential(KEY_A, -300, 10)]),
    );
    let dead = write(
        dir.path(),
        "dead.json",
        manifest_text(vec![credential(KEY_A, -300, -10)]),
    );
    write(dir.path(), "exists.cer", "x");
    let m = manifest.to_str().unwrap();
    let pfx = fixture("openssl-rsa.pfx");
    // A folder path through a regular file: it can be neither found nor created.
    let through_file = dir
        .path()
        .join("exists.cer")
        .join("sub")
        .display()
        .to_string();
    let rows: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["check", m], 0, ""),
        // 1: unreadable or invalid input, wrong password, existing output, missing folder
        (vec!["inspect", "/nonexistent/x.pem"], 1, "x.pem"),
        (
            vec![
                "new",
                "-s",
                "A",
                "--out",
                &d,
                "--password-file",
                "/nonexistent/pw",
            ],
            1,
            "cannot read the --password-file file",
        ),
        (
            vec!["inspect", pfx.to_str().unwrap(), "--password-file", m],
            1,
            "wrong PFX password",
        ),
        (
            vec![
                "new", "-s", "A", "--out", &d, "--name", "exists", "--no-pfx",
            ],
            1,
            "exists.cer already exists",
        ),
        (
            vec!["new", "-s", "A", "--out", &through_file, "--no-pfx"],
            1,
            "output folder",
        ),
        // 2: usage
        (vec!["new", "--bogus"], 2, "unexpected argument"),
        (
            vec![
                "new",
                "-s",
                "A",
                "--key-size",
                "1024",
                "--no-pfx",
                "--out",
                &d,
            ],
            2,
            "key size 1024",
        ),
        (
            vec![
                "new", "-s", "A", "--name", "../evil", "--no-pfx", "--out", &d,
            ],
            2,
            "--name \"../evil\" contains a path separator",
        ),
        (
            vec!["new", "-s", "A", "--name", "", "--no-pfx", "--out", &d],
            2,
            "--name \"\" is empty",
        ),
        (
            vec!["new", "-s", "A", "--out", &d],
            2,
            "a PFX password is required",
        ),
        // 3 and 4: check
        (vec!["check", due.to_str().unwrap()], 3, ""),
        (vec!["check", dead.to_str().unwrap()], 4, ""),
    ];
    for (args, code, expected) in rows {
        let out = keycred().args(&args).output().unwrap();
        assert_fails(&out, code, expected);
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("output folder --name"),
            "{args:?}"
        );
    }
    // 130 and 143 are the interrupted batch's (above) and the wizard's (tests/cli/wizard.rs).
}

// ---- 11. nothing is replaced silently ----

#[test]
fn backups_are_numbered_so_no_run_replaces_an_older_one() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "app.json",
        manifest_text(vec![credential(KEY_A, -300, 10)]),
    );
    let v0 = fs::read(&manifest).unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    fs::create_dir(&one).unwrap();
    fs::create_dir(&two).unwrap();
    json(&rotate_orders(&manifest, &one, &["--in-place", "--json"]));
    let v1 = fs::read(&manifest).unwrap();
    json(&rotate_orders(
        &manifest,
        &two,
        &["--in-place", "--json", "--renew-within", "400"],
    ));
    assert_eq!(fs::read(dir.path().join("app.json.bak")).unwrap(), v0);
    assert_eq!(fs::read(dir.path().join("app.json.bak.1")).unwrap(), v1);

    // app-roles --merge --in-place uses the same backups.
    let out = keycred()
        .args([
            "manifest",
            "app-roles",
            "--role",
            "Orders.Read",
            "--in-place",
            "--merge",
        ])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("app.json.bak.2"));
    assert!(dir.path().join("app.json.bak.2").exists());
}

// ---- 13. one password per PFX ----

#[test]
fn the_current_pfx_has_its_own_password_source() {
    if !python_cryptography_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The current credential (password "pw") and a new one with its own generated password.
    let current = python_certificate(dir.path(), "current", -10, 300);
    let current_pw = write(dir.path(), "current.pw", "pw\n");
    new_credential(dir.path(), &["--generate-password"]);
    let next_pfx = dir.path().join("daemon.pfx");
    let next_pw = dir.path().join("daemon.pfx.password");

    let add_key = |extra: &[&str], env: Option<&str>| {
        let mut cmd = keycred();
        cmd.args([
            "graph",
            "add-key",
            "--object-id",
            "11111111-2222-3333-4444-555555555555",
        ])
        .arg("--current-pfx")
        .arg(&current.pfx)
        .arg("--cert")
        .arg(&next_pfx)
        .args(extra);
        if let Some(value) = env {
            cmd.env("KEYCRED_CURRENT_PFX_PASSWORD", value);
        }
        cmd.output().unwrap()
    };
    let ok = add_key(
        &[
            "--current-password-file",
            current_pw.to_str().unwrap(),
            "--password-file",
            next_pw.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(json(&ok)["keyCredential"]["type"], "AsymmetricX509Cert");
    let ok = add_key(&["--password-file", next_pw.to_str().unwrap()], Some("pw"));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // Only the shared source: it cannot open both, and keycred says it was used for both.
    let out = add_key(&["--password-file", next_pw.to_str().unwrap()], None);
    assert_fails(&out, 1, "current.pfx: wrong PFX password");
    assert!(String::from_utf8_lossy(&out.stderr).contains("also serves --cert"));

    // rotate --add-key-proof with a generated password for the new PFX needs no KEYCRED_PFX_PASSWORD.
    let manifest = write(
        dir.path(),
        "app.json",
        manifest_text(vec![credential(KEY_A, -10, 20)]),
    );
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(&manifest)
        .args([
            "--subject",
            "CN=Next",
            "--name",
            "next",
            "--generate-password",
            "--out",
        ])
        .arg(dir.path())
        .arg("--add-key-proof")
        .arg(dir.path().join("addkey.json"))
        .args([
            "--object-id",
            "11111111-2222-3333-4444-555555555555",
            "--current-pfx",
        ])
        .arg(&current.pfx)
        .arg("--current-password-file")
        .arg(&current_pw)
        .args(["--manifest-out"])
        .arg(dir.path().join("app.next.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("addkey.json").exists());
    rotated_file(dir.path(), "next", ".pfx.password");
}
