//! `keycred check`, `keycred rotate` and `keycred graph add-key / remove-key`.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

/// A Graph manifest (the realistic fixture) whose keyCredentials run over the given day ranges from now.
fn manifest_with(dir: &Path, name: &str, ranges: &[(i64, i64)]) -> PathBuf {
    ManifestBuilder::realistic()
        .ranges(ranges, |i| format!("CN=credential {i}"))
        .write(&dir.join(name))
}

fn check(files: &[&Path], extra: &[&str]) -> std::process::Output {
    keycred()
        .arg("check")
        .args(files)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn check_exit_codes_follow_the_current_credential() {
    let dir = tempfile::tempdir().unwrap();
    let healthy = manifest_with(dir.path(), "healthy.json", &[(-10, 200), (-400, -3)]);
    let due = manifest_with(dir.path(), "due.json", &[(-300, 10)]);
    let expired = manifest_with(dir.path(), "expired.json", &[(-400, -3)]);
    let none = manifest_with(dir.path(), "none.json", &[]);

    let out = check(&[&healthy], &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("healthy.json: healthy (2 credentials)"),
        "{text}"
    );
    assert!(
        text.contains("expired (prunable)"),
        "expired leftovers are listed: {text}"
    );
    assert_eq!(check(&[&due], &[]).status.code(), Some(3));
    assert_eq!(check(&[&due], &["--warn-days", "5"]).status.code(), Some(0));
    assert_eq!(check(&[&expired], &[]).status.code(), Some(4));
    assert_eq!(check(&[&none], &[]).status.code(), Some(4));
    assert_eq!(
        check(&[&healthy, &due], &[]).status.code(),
        Some(3),
        "the worst verdict wins"
    );
    assert_eq!(
        check(&[&healthy, &due, &expired], &[]).status.code(),
        Some(4)
    );
    // Certificate files work too: the fixture is valid for ten years.
    assert_eq!(
        check(&[&fixture("openssl-rsa.cer")], &[]).status.code(),
        Some(0)
    );
}

#[test]
fn check_json_for_monitoring() {
    let dir = tempfile::tempdir().unwrap();
    let due = manifest_with(dir.path(), "due.json", &[(-300, 10), (-500, -100)]);
    let out = check(&[&due], &["--json"]);
    assert_eq!(out.status.code(), Some(3));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "renewal-due");
    assert_eq!(report["exitCode"], 3);
    let creds = report["files"][0]["credentials"].as_array().unwrap();
    assert_eq!(creds[0]["status"], "renewal due");
    assert_eq!(creds[1]["status"], "expired (prunable)");
    assert_eq!(creds[0]["keyId"], "00000000-0000-4000-8000-000000000000");
    assert_eq!(
        creds[0]["thumbprint"],
        "0000000000000000000000000000000000000000"
    );
}

#[test]
fn check_bad_input_exits_1_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let healthy = manifest_with(dir.path(), "healthy.json", &[(-10, 200)]);
    let cases = [
        ("broken.json", "{\n", "malformed JSON"),
        (
            "no-creds.json",
            r#"{"api": {}, "appRoles": []}"#,
            "has no keyCredentials",
        ),
        (
            "no-dates.json",
            r#"{"api": {}, "keyCredentials": [{"keyId": "00000000-0000-4000-8000-000000000001", "type": "AsymmetricX509Cert", "startDateTime": "2026-01-01T00:00:00Z"}]}"#,
            "has no endDateTime",
        ),
        (
            "bad-date.json",
            r#"{"api": {}, "keyCredentials": [{"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "soon"}]}"#,
            "endDateTime \"soon\" is not an RFC 3339 date",
        ),
        ("garbage.cer", "not a certificate", "neither PEM text"),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        let out = check(&[&healthy, &path], &[]);
        assert_fails(&out, 1, expected);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("healthy.json: healthy"),
            "{name}"
        );
    }
}

// ---- rotate ----

#[test]
fn rotate_adds_beside_the_current_credential_and_keeps_everything_else() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with(dir.path(), "app.json", &[(-300, 10), (-500, -100)]);
    let before: Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    let out = rotate_orders(&manifest, dir.path(), &["--in-place", "--json"]);
    let summary = json(&out);
    assert_eq!(summary["changed"], true);
    let after: Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    let mut backup = manifest.clone().into_os_string();
    backup.push(".bak");
    let backup_doc: Value = serde_json::from_slice(&fs::read(&backup).unwrap()).unwrap();
    assert_eq!(backup_doc, before, ".bak holds the original");

    // Every field but keyCredentials unchanged, in order.
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&after), keys(&before));
    for (k, v) in before.as_object().unwrap() {
        if k != "keyCredentials" {
            assert_eq!(&after[k], v, "{k}");
        }
    }
    let creds = after["keyCredentials"].as_array().unwrap();
    assert_eq!(creds.len(), 3, "nothing pruned without --prune-expired");
    assert_eq!(creds[0], before["keyCredentials"][0], "kept byte-for-byte");
    assert_eq!(creds[1], before["keyCredentials"][1]);
    let der = fs::read(rotated_file(dir.path(), "orders", ".cer")).unwrap();
    use base64::Engine as _;
    assert_eq!(
        creds[2]["key"],
        base64::engine::general_purpose::STANDARD.encode(&der)
    );
    assert_eq!(creds[2]["keyId"], summary["added"]["keyId"]);
    assert!(
        !Path::new(&format!("{}.lock", manifest.display())).exists(),
        "lock released"
    );
}

#[test]
fn rotate_is_idempotent_under_a_renewal_window_and_prunes_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with(dir.path(), "app.json", &[(-300, 10), (-500, -100)]);
    let out = rotate_orders(
        &manifest,
        dir.path(),
        &["--in-place", "--renew-within", "30", "--prune-expired"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("- remove") && text.contains("[expired on"),
        "{text}"
    );
    assert!(text.contains("+ add"), "{text}");
    let first = fs::read(&manifest).unwrap();
    let doc: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(doc["keyCredentials"].as_array().unwrap().len(), 2);

    // Second run: the new credential is valid for a year, so nothing is due and nothing changes.
    let dir2 = tempfile::tempdir().unwrap();
    let out = rotate_orders(
        &manifest,
        dir2.path(),
        &["--in-place", "--renew-within", "30", "--prune-expired"],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("no change"));
    assert_eq!(
        fs::read(&manifest).unwrap(),
        first,
        "the manifest is untouched"
    );
    assert!(
        names_in(dir2.path()).is_empty(),
        "no certificate made when not due"
    );
}

#[test]
fn rotate_dry_run_and_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with(dir.path(), "app.json", &[(-300, 10)]);
    let original = fs::read(&manifest).unwrap();
    let out = rotate_orders(&manifest, dir.path(), &["--dry-run"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("dry run: nothing written") && text.contains("+ add"),
        "{text}"
    );
    assert_eq!(
        names_in(dir.path()),
        ["app.json"],
        "a dry run writes nothing"
    );

    // Without --in-place or --manifest-out the manifest goes to stdout and the summary to stderr.
    let out = rotate_orders(&manifest, dir.path(), &[]);
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["keyCredentials"].as_array().unwrap().len(), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("+ add"));
    assert_eq!(fs::read(&manifest).unwrap(), original);

    let target = dir.path().join("out.json");
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(&manifest)
        .args(["-s", "Second", "--no-pfx", "--name", "second", "--out"])
        .arg(dir.path())
        .arg("--manifest-out")
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(target.exists());
    assert_eq!(
        fs::read(&manifest).unwrap(),
        original,
        "the input is never replaced without --in-place"
    );
}

#[test]
fn rotate_in_a_certificate_made_elsewhere_and_the_patch_body() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with(dir.path(), "app.json", &[]);
    let patch = dir.path().join("patch.json");
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(&manifest)
        .arg("--cert")
        .arg(fixture("openssl-rsa.pem"))
        .arg("--patch-out")
        .arg(&patch)
        .arg("--in-place")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: Value = serde_json::from_slice(&fs::read(&patch).unwrap()).unwrap();
    assert_eq!(body["keyCredentials"].as_array().unwrap().len(), 1);
    assert_eq!(
        body["keyCredentials"][0]["customKeyIdentifier"],
        "VyID1rpdPCiyWx3MPzu/G1T2mWk="
    );

    // Rotating the same certificate again adds nothing.
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(&manifest)
        .arg("--cert")
        .arg(fixture("openssl-rsa.pem"))
        .args(["--in-place", "--force-renewal"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("already present"));

    // A PATCH body for credentials whose key Graph did not return would drop them: refused, addKey offered.
    let with_null_keys = manifest_with(dir.path(), "nullkeys.json", &[(-10, 100)]);
    let out = rotate_orders(
        &with_null_keys,
        dir.path(),
        &["--patch-out", dir.path().join("p2.json").to_str().unwrap()],
    );
    assert_fails(
        &out,
        1,
        "a PATCH body would drop keyId 00000000-0000-4000-8000-000000000000",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("keycred graph add-key"));
    assert!(!dir.path().join("p2.json").exists());
}

#[test]
fn rotate_bad_input_and_safety() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with(dir.path(), "app.json", &[(-300, 10)]);
    let original = fs::read(&manifest).unwrap();

    // A second run while the lock is held (here by util-linux flock(1), the same OS lock keycred takes) fails
    // at once and changes nothing.
    let lock = format!("{}.lock", manifest.display());
    fs::write(&lock, "4242\n").unwrap();
    let mut holder = hold_lock(&lock);
    let out = rotate_orders(&manifest, dir.path(), &["--in-place"]);
    assert_fails(
        &out,
        1,
        "is being updated by another keycred run (process 4242): nothing was written",
    );
    holder.kill().unwrap();
    holder.wait().unwrap();
    fs::remove_file(&lock).unwrap();
    assert_eq!(fs::read(&manifest).unwrap(), original);

    let out = rotate_orders(&manifest, dir.path(), &["--keep", "0", "--dry-run"]);
    assert_fails(&out, 2, "lock the app out");
    let out = rotate_orders(&manifest, dir.path(), &["--json"]);
    assert_fails(&out, 2, "--json needs --in-place");
    let latin1 = dir.path().join("latin1.json");
    fs::write(&latin1, b"{\"displayName\": \"Z\xfcrich\"}").unwrap();
    assert_fails(
        &rotate_orders(&latin1, dir.path(), &["--in-place"]),
        1,
        "latin1.json: not UTF-8 text",
    );
    assert_eq!(
        fs::read(&latin1).unwrap(),
        b"{\"displayName\": \"Z\xfcrich\"}"
    );
    fs::remove_file(&latin1).unwrap();
    let huge = dir.path().join("huge.json");
    fs::File::create(&huge)
        .unwrap()
        .set_len(17 * 1024 * 1024)
        .unwrap();
    assert_fails(
        &rotate_orders(&huge, dir.path(), &["--in-place"]),
        1,
        "huge.json: is larger than 16 MiB, the most keycred reads from one input",
    );
    assert_fails(&check(&[&huge], &[]), 1, "huge.json: is larger than 16 MiB");
    fs::remove_file(&huge).unwrap();
    let no_creds = dir.path().join("nocreds.json");
    fs::write(&no_creds, r#"{"api": {}, "appRoles": []}"#).unwrap();
    assert_fails(
        &rotate_orders(&no_creds, dir.path(), &["--in-place"]),
        1,
        "has no keyCredentials",
    );
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(&manifest)
        .arg("--cert")
        .arg(fixture("openssl-ec.pem"))
        .output()
        .unwrap();
    assert_fails(&out, 1, "not RSA");
    assert_eq!(fs::read(&manifest).unwrap(), original);
    assert_eq!(
        names_in(dir.path()),
        ["app.json", "nocreds.json"],
        "no stray files"
    );
}

// ---- graph add-key / remove-key ----

const OBJECT_ID: &str = "2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c10";

fn graph(sub: &str, extra: &[&str]) -> std::process::Output {
    keycred()
        .args(["graph", sub, "--object-id", OBJECT_ID, "--current-pfx"])
        .arg(fixture("openssl-rsa.pfx"))
        .arg("--password-file")
        .arg(fixture("fixture.password"))
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn add_key_proof_verifies_with_the_current_certificate_in_python_cryptography() {
    let dir = tempfile::tempdir().unwrap();
    new_credential(dir.path(), &["--no-pfx"]);
    let new_cer = dir.path().join("daemon.cer");
    let body = json(&graph("add-key", &["--cert", new_cer.to_str().unwrap()]));
    assert_eq!(body["passwordCredential"], Value::Null);
    assert_eq!(body["keyCredential"]["type"], "AsymmetricX509Cert");
    assert_eq!(body["keyCredential"]["usage"], "Verify");
    use base64::Engine as _;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(body["keyCredential"]["key"].as_str().unwrap())
            .unwrap(),
        fs::read(&new_cer).unwrap()
    );
    verify_proof(body["proof"].as_str().unwrap());

    let removal = json(&graph(
        "remove-key",
        &["--key-id", "3c1f1b7e-9a2d-4e8f-b6a5-0d9c8b7a6f5e"],
    ));
    assert_eq!(removal["keyId"], "3c1f1b7e-9a2d-4e8f-b6a5-0d9c8b7a6f5e");
    verify_proof(removal["proof"].as_str().unwrap());
}

/// Checks the proof outside keycred: the RS256 signature against the current certificate's public key, the
/// header's x5t against the certificate, and every claim.
fn verify_proof(proof: &str) {
    if !python_cryptography_available() {
        return;
    }
    let script = r#"
import base64, hashlib, json, sys, time
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
jwt, cert_path, object_id = sys.argv[1], sys.argv[2], sys.argv[3]
def b64(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
h, c, s = jwt.split(".")
header, claims = json.loads(b64(h)), json.loads(b64(c))
cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
cert.public_key().verify(b64(s), (h + "." + c).encode(), padding.PKCS1v15(), hashes.SHA256())
der = cert.public_bytes(__import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)
assert header == {"alg": "RS256", "typ": "JWT", "x5t": base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode().rstrip("=")}, header
assert claims["aud"] == "00000002-0000-0000-c000-000000000000", claims
assert claims["iss"] == object_id, claims
assert 0 < claims["exp"] - claims["nbf"] <= 600, claims
assert abs(claims["nbf"] - time.time()) < 120, claims
print("proof verified")
"#;
    let out = run_peer(
        "python3",
        &[
            "-c",
            script,
            proof,
            fixture("openssl-rsa.pem").to_str().unwrap(),
            OBJECT_ID,
        ],
    );
    assert_eq!(out.trim(), "proof verified");
}

#[test]
fn graph_bad_input() {
    let out = keycred()
        .args([
            "graph",
            "add-key",
            "--object-id",
            "not-a-guid",
            "--current-pfx",
        ])
        .arg(fixture("openssl-rsa.pfx"))
        .arg("--cert")
        .arg(fixture("openssl-rsa.pem"))
        .output()
        .unwrap();
    assert_fails(&out, 2, "--object-id \"not-a-guid\" is not a GUID");

    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong");
    fs::write(&wrong, "wrong-password").unwrap();
    let out = keycred()
        .args([
            "graph",
            "remove-key",
            "--object-id",
            OBJECT_ID,
            "--key-id",
            OBJECT_ID,
            "--current-pfx",
        ])
        .arg(fixture("openssl-rsa.pfx"))
        .arg("--password-file")
        .arg(&wrong)
        .output()
        .unwrap();
    assert_fails(&out, 1, "wrong PFX password");

    let out = keycred()
        .args([
            "graph",
            "remove-key",
            "--object-id",
            OBJECT_ID,
            "--key-id",
            OBJECT_ID,
            "--current-pfx",
        ])
        .arg(fixture("openssl-rsa.cer"))
        .output()
        .unwrap();
    assert_fails(&out, 1, "needs the current private key");

    let out = keycred()
        .args([
            "graph",
            "remove-key",
            "--object-id",
            OBJECT_ID,
            "--key-id",
            OBJECT_ID,
            "--current-pfx",
        ])
        .arg(fixture("openssl-ec.pfx"))
        .arg("--password-file")
        .arg(fixture("fixture.password"))
        .output()
        .unwrap();
    assert_fails(&out, 1, "not RSA");

    let out = graph(
        "add-key",
        &["--cert", fixture("openssl-rsa.pem").to_str().unwrap()],
    );
    assert_fails(&out, 1, "is the current certificate itself");
}

#[test]
fn rotate_writes_the_add_key_body_for_the_new_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with(dir.path(), "app.json", &[(-300, 10)]);
    let body_path = dir.path().join("addkey.json");
    let rotate_with_proof = |object_id: &str, extra: &[&str]| {
        keycred()
            .args(["rotate", "--manifest"])
            .arg(&manifest)
            .args(["-s", "CN=Next", "--no-pfx", "--name", "next", "--out"])
            .arg(dir.path())
            .arg("--add-key-proof")
            .arg(&body_path)
            .args(["--object-id", object_id, "--current-pfx"])
            .arg(fixture("openssl-rsa.pfx"))
            .env("KEYCRED_PFX_PASSWORD", "fixture-password")
            .args(extra)
            .output()
            .unwrap()
    };
    let out = rotate_with_proof("not-a-guid", &["--in-place"]);
    assert_fails(&out, 2, "--object-id \"not-a-guid\" is not a GUID");
    assert_eq!(names_in(dir.path()), ["app.json"], "nothing written");

    let summary = json(&rotate_with_proof(
        OBJECT_ID,
        &["--in-place", "--json", "--renew-within", "30"],
    ));
    assert_eq!(summary["addKeyProof"], body_path.display().to_string());
    let body: Value = serde_json::from_slice(&fs::read(&body_path).unwrap()).unwrap();
    use base64::Engine as _;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(body["keyCredential"]["key"].as_str().unwrap())
            .unwrap(),
        fs::read(rotated_file(dir.path(), "next", ".cer")).unwrap()
    );
    verify_proof(body["proof"].as_str().unwrap());

    // Not due any more: no certificate, no body.
    fs::remove_file(&body_path).unwrap();
    let summary = json(&rotate_with_proof(
        OBJECT_ID,
        &["--in-place", "--json", "--renew-within", "30"],
    ));
    assert_eq!(summary["addKeyProof"], Value::Null);
    assert!(!body_path.exists());
}
