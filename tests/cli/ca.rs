//! `keycred csr`: the key stays here, the request goes to the CA; OpenSSL 3 is the CA.

use std::fs;

use crate::common::*;

#[test]
fn openssl_verifies_the_request_and_issues_from_it() {
    if !peer_available("openssl", &["version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = keycred()
        .args([
            "csr",
            "--subject",
            "CN=Contoso Daemon,O=Contoso",
            "--dns",
            "daemon.contoso.com",
            "--out",
        ])
        .arg(dir.path().join("certs"))
        .args(["--name", "daemon", "--json"])
        .output()
        .unwrap();
    let summary = json(&out);
    let csr = dir.path().join("certs/daemon.csr");
    let key = dir.path().join("certs/daemon.key");
    assert_eq!(summary["csr"], csr.display().to_string());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // The request's signature, its subject, its extensions, and its key: OpenSSL's reading.
    run_peer(
        "openssl",
        &["req", "-in", csr.to_str().unwrap(), "-noout", "-verify"],
    );
    let text = run_peer(
        "openssl",
        &["req", "-in", csr.to_str().unwrap(), "-noout", "-text"],
    );
    for expected in [
        "CN = Contoso Daemon",
        "O = Contoso",
        "TLS Web Client Authentication",
        "Digital Signature, Key Encipherment",
        "DNS:daemon.contoso.com",
        "sha256WithRSAEncryption",
        "(2048 bit)",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    assert_eq!(
        run_peer(
            "openssl",
            &["req", "-in", csr.to_str().unwrap(), "-noout", "-pubkey"]
        ),
        run_peer(
            "openssl",
            &["pkey", "-in", key.to_str().unwrap(), "-pubout"]
        ),
        "the request is for the key written beside it"
    );
    // OpenSSL as the CA issues a certificate from it, with the requested extensions.
    let ca_key = dir.path().join("ca.key");
    let ca_cert = dir.path().join("ca.pem");
    run_peer(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            ca_key.to_str().unwrap(),
            "-out",
            ca_cert.to_str().unwrap(),
            "-subj",
            "/CN=Test Root",
            "-days",
            "30",
        ],
    );
    let issued = dir.path().join("issued.pem");
    run_peer(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            csr.to_str().unwrap(),
            "-CA",
            ca_cert.to_str().unwrap(),
            "-CAkey",
            ca_key.to_str().unwrap(),
            "-CAcreateserial",
            "-out",
            issued.to_str().unwrap(),
            "-days",
            "30",
            "-copy_extensions",
            "copy",
        ],
    );
    run_peer(
        "openssl",
        &[
            "verify",
            "-CAfile",
            ca_cert.to_str().unwrap(),
            issued.to_str().unwrap(),
        ],
    );
    let issued_text = run_peer(
        "openssl",
        &["x509", "-in", issued.to_str().unwrap(), "-noout", "-text"],
    );
    assert!(
        issued_text.contains("TLS Web Client Authentication"),
        "{issued_text}"
    );

    // Again into the same folder: refused, naming the file; nothing replaced.
    let before = fs::read(&key).unwrap();
    let again = keycred()
        .args(["csr", "--subject", "CN=Contoso Daemon", "--out"])
        .arg(dir.path().join("certs"))
        .args(["--name", "daemon"])
        .output()
        .unwrap();
    assert_fails(&again, 1, "daemon.csr already exists");
    assert_eq!(fs::read(&key).unwrap(), before);
    // For the existing key: a new request, the key untouched.
    let renewed = keycred()
        .args(["csr", "--subject", "CN=Contoso Daemon", "--key"])
        .arg(&key)
        .arg("--out")
        .arg(dir.path().join("renew"))
        .args(["--name", "daemon"])
        .output()
        .unwrap();
    stdout(&renewed);
    assert!(
        !dir.path().join("renew/daemon.key").exists(),
        "the given key is not copied"
    );
    assert_eq!(
        run_peer(
            "openssl",
            &[
                "req",
                "-in",
                dir.path().join("renew/daemon.csr").to_str().unwrap(),
                "-noout",
                "-pubkey"
            ]
        ),
        run_peer(
            "openssl",
            &["pkey", "-in", key.to_str().unwrap(), "-pubout"]
        ),
    );
}

#[test]
fn bad_requests_are_refused_before_a_key_is_made() {
    let dir = tempfile::tempdir().unwrap();
    for (args, code, expected) in [
        (vec!["--subject", ""], 2, "subject"),
        (vec!["--subject", "CN=A", "--key-size", "1024"], 2, "1024"),
        (vec!["--subject", "CN=A", "--dns", "dä.example"], 2, "--dns"),
        (
            vec!["--subject", "CN=A", "--key", "/nonexistent/k.key"],
            1,
            "k.key",
        ),
    ] {
        let out = keycred()
            .arg("csr")
            .args(&args)
            .arg("--out")
            .arg(dir.path().join("x"))
            .output()
            .unwrap();
        assert_fails(&out, code, expected);
    }
    assert!(
        !dir.path().join("x").exists(),
        "nothing written, no folder made"
    );
}
