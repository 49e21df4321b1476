//! `keycred manifest key-credentials`: fragments for certificates made elsewhere.

use std::fs;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::common::*;

#[test]
fn one_entry_per_certificate_with_the_exact_der() {
    let der = fs::read(fixture("openssl-rsa.cer")).unwrap();
    let out = keycred()
        .args(["manifest", "key-credentials"])
        .arg(fixture("openssl-rsa.cer"))
        .arg(fixture("openssl-rsa.pem"))
        .output()
        .unwrap();
    let doc = json(&out);
    let entries = doc["keyCredentials"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for entry in entries {
        assert_eq!(
            STANDARD.decode(entry["key"].as_str().unwrap()).unwrap(),
            der
        );
        assert_eq!(entry["customKeyIdentifier"], "VyID1rpdPCiyWx3MPzu/G1T2mWk=");
        assert_eq!(entry["startDateTime"], "2026-11-21T05:11:10Z");
        assert_eq!(entry["endDateTime"], "2036-11-18T05:11:10Z");
        assert_eq!(entry["displayName"], "CN=Fixture Daemon, O=Contoso Test");
        assert_eq!(entry["type"], "AsymmetricX509Cert");
        assert_eq!(entry["usage"], "Verify");
        uuid::Uuid::parse_str(entry["keyId"].as_str().unwrap()).unwrap();
    }
    // The same certificate (DER and PEM) gets the same keyId: UUID v5 of its SHA-256 thumbprint.
    assert_eq!(entries[0]["keyId"], entries[1]["keyId"]);
    let key_id = uuid::Uuid::parse_str(entries[0]["keyId"].as_str().unwrap()).unwrap();
    assert_eq!(key_id.get_version_num(), 5);
}

#[test]
fn legacy_format_and_fragment_form() {
    let out = keycred()
        .args([
            "manifest",
            "key-credentials",
            "--format",
            "legacy",
            "--fragment",
        ])
        .arg(fixture("openssl-rsa.pem"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("\"keyCredentials\": ["), "{text}");
    // The fragment is a property: wrapped in braces it is a JSON object.
    let doc: serde_json::Value = serde_json::from_str(&format!("{{{text}}}")).unwrap();
    let entry = &doc["keyCredentials"][0];
    assert_eq!(entry["endDate"], "2036-11-18T05:11:10Z");
    assert_eq!(entry["startDate"], "2026-11-21T05:11:10Z");
    assert!(entry.get("value").is_some() && entry.get("key").is_none());
}

#[test]
fn reads_the_certificate_out_of_a_pfx_and_writes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("kc.json");
    keycred()
        .args(["manifest", "key-credentials", "--password-file"])
        .arg(fixture("fixture.password"))
        .arg(fixture("openssl-rsa.pfx"))
        .arg("--out")
        .arg(&target)
        .assert()
        .success()
        .stdout("");
    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&target).unwrap()).unwrap();
    assert_eq!(
        doc["keyCredentials"][0]["customKeyIdentifier"],
        "VyID1rpdPCiyWx3MPzu/G1T2mWk="
    );

    // --out never replaces a file without --force.
    let out = keycred()
        .args(["manifest", "key-credentials"])
        .arg(fixture("openssl-rsa.pem"))
        .arg("--out")
        .arg(&target)
        .output()
        .unwrap();
    assert_fails(&out, 1, "kc.json already exists");
}

#[test]
fn refuses_certificates_entra_cannot_use() {
    let out = keycred()
        .args(["manifest", "key-credentials"])
        .arg(fixture("openssl-ec.pem"))
        .output()
        .unwrap();
    assert_fails(&out, 1, "the key is EC P-256, not RSA");
    assert!(out.stdout.is_empty(), "no partial fragment is printed");

    let out = keycred()
        .args(["manifest", "key-credentials", "--password-file"])
        .arg(fixture("fixture.password"))
        .arg(fixture("openssl-ec.pfx"))
        .output()
        .unwrap();
    assert_fails(&out, 1, "not RSA");

    let out = keycred()
        .args(["manifest", "key-credentials"])
        .arg(fixture("openssl-rsa1024.pem"))
        .output()
        .unwrap();
    assert_fails(
        &out,
        1,
        "RSA key of 1024 bits: Entra ID requires at least 2048",
    );
}
