//! `keycred inspect`: certificates and PFX files from other tools, and every way a file can be wrong.

use std::fs;

use predicates::str::contains;

use crate::common::*;

#[test]
fn reads_pem_der_and_pfx_made_by_openssl() {
    for (file, encoding) in [
        ("openssl-rsa.pem", "PEM"),
        ("openssl-rsa.cer", "DER"),
        ("openssl-rsa.pfx", "PFX"),
    ] {
        let out = keycred()
            .args(["inspect", "--json", "--password-file"])
            .arg(fixture("fixture.password"))
            .arg(fixture(file))
            .output()
            .unwrap();
        let report = json(&out);
        let cert = &report[0]["certificates"][0];
        assert_eq!(report[0]["encoding"], encoding);
        assert_eq!(
            cert["subject"], "CN=Fixture Daemon, O=Contoso Test",
            "{file}"
        );
        assert_eq!(cert["selfSigned"], true);
        assert_eq!(cert["serial"], "73917983AD0ECC8C6D97E88C52C78702AC150F2E");
        assert_eq!(cert["notBefore"], "2026-11-21T05:11:10Z");
        assert_eq!(cert["notAfter"], "2036-11-18T05:11:10Z");
        assert_eq!(cert["keyType"], "RSA");
        assert_eq!(cert["keyBits"], 2048);
        assert_eq!(cert["signatureAlgorithm"], "sha256WithRSAEncryption");
        assert_eq!(cert["status"], "valid");
        assert_eq!(cert["entraUsable"], true);
        // As printed by `openssl x509 -fingerprint` when the fixture was made (PROVENANCE.md).
        assert_eq!(
            cert["thumbprints"]["sha1"],
            "572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969"
        );
        assert_eq!(
            cert["thumbprints"]["sha256"],
            "3C8668ACCF669FB7926E71D0C9CF37BFF67D82F1D4A13D59AEEC9219814D5371"
        );
        if encoding == "PFX" {
            assert_eq!(report[0]["privateKey"]["key"], "RSA 2048");
            assert_eq!(report[0]["privateKey"]["matchesCertificate"], true);
        } else {
            assert!(report[0].get("privateKey").is_none());
        }
    }
}

#[test]
fn text_output_shows_every_field() {
    keycred()
        .arg("inspect")
        .arg(fixture("openssl-rsa.pem"))
        .assert()
        .success()
        .stdout(contains("subject       CN=Fixture Daemon, O=Contoso Test"))
        .stdout(contains("(self-signed)"))
        .stdout(contains("days left"))
        .stdout(contains("key           RSA 2048"))
        .stdout(contains(
            "sha1          572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969",
        ))
        .stdout(contains("x5t#S256"))
        .stdout(contains("entra         usable as a certificate credential"));
}

#[test]
fn a_bundle_lists_every_certificate() {
    let out = keycred()
        .args(["inspect", "--json"])
        .arg(fixture("bundle.pem"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let report = json(&out);
    let certs = report[0]["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[1]["key"], "EC P-256");
    assert_eq!(certs[1]["entraUsable"], false);
}

#[test]
fn non_rsa_certificates_and_pfx_files_are_flagged() {
    keycred()
        .args(["inspect", "--password-file"])
        .arg(fixture("fixture.password"))
        .arg(fixture("openssl-ec.pfx"))
        .assert()
        .success()
        .stdout(contains("key           EC P-256"))
        .stdout(contains("private key   EC P-256"))
        .stdout(contains("NOT usable: EC P-256 key, not RSA"))
        .stderr(contains("warning:"));
}

#[test]
fn expired_certificates_are_flagged() {
    // A certificate that ended yesterday, built through the library with an injected clock.
    use keycred::credential::*;
    let long_ago = time::OffsetDateTime::now_utc() - time::Duration::days(31);
    let request = CertRequest::new(
        Subject::parse("Old Daemon").unwrap(),
        KeySize::Rsa2048,
        SignatureHash::Sha256,
        ValidityEnd::Days(30),
        long_ago,
        [7; 16],
    )
    .unwrap();
    let credential = keycred::provision::create(&request, uuid::Uuid::nil()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.pem");
    fs::write(
        &path,
        keycred::export::certificate_pem(credential.certificate.der()),
    )
    .unwrap();

    keycred()
        .arg("inspect")
        .arg(&path)
        .assert()
        .success()
        .stdout(contains("(EXPIRED 1 days ago)"));
    let out = keycred()
        .args(["inspect", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(json(&out)[0]["certificates"][0]["status"], "expired");
}

// ---- bad input ----

#[test]
fn files_that_are_not_certificates_get_specific_errors() {
    let dir = tempfile::tempdir().unwrap();
    let der = fs::read(fixture("openssl-rsa.cer")).unwrap();
    let pem = fs::read_to_string(fixture("openssl-rsa.pem")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.cer", Vec::new(), "the file is empty"),
        (
            "garbage.cer",
            b"this is not a certificate".to_vec(),
            "neither PEM text",
        ),
        (
            "truncated.cer",
            der[..400].to_vec(),
            "the DER certificate is truncated",
        ),
        (
            "bad-base64.pem",
            pem.replacen("MII", "M!I", 1).into_bytes(),
            "base64 body is malformed",
        ),
        (
            "key-only.pem",
            fs::read(fixture("openssl-rsa.key")).unwrap(),
            "no CERTIFICATE block (found: PRIVATE KEY)",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        let out = keycred().arg("inspect").arg(&path).output().unwrap();
        assert_fails(&out, 1, expected);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(name),
            "the error names the file"
        );
    }
    let out = keycred()
        .arg("inspect")
        .arg(dir.path().join("absent.pem"))
        .output()
        .unwrap();
    assert_fails(&out, 1, "absent.pem");
}

#[test]
fn a_pfx_with_the_wrong_password_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong.txt");
    fs::write(&wrong, "not-the-password").unwrap();
    let out = keycred()
        .args(["inspect", "--password-file"])
        .arg(&wrong)
        .arg(fixture("openssl-rsa.pfx"))
        .output()
        .unwrap();
    assert_fails(&out, 1, "openssl-rsa.pfx: wrong PFX password");
}

#[test]
fn a_pfx_without_a_password_source_off_a_terminal_is_refused() {
    let out = keycred()
        .arg("inspect")
        .arg(fixture("openssl-rsa.pfx"))
        .output()
        .unwrap();
    assert_fails(
        &out,
        2,
        "is a PFX and needs its password: pass --password-file PATH",
    );
    // Certificates never need one.
    keycred()
        .arg("inspect")
        .arg(fixture("openssl-rsa.cer"))
        .assert()
        .success();
}
