//! Independent verification: other implementations open what keycred writes, and keycred agrees with what
//! they say about files they made. A missing peer is a skip locally and a failure when CI=true.

use std::fs;
use std::path::Path;

use crate::common::*;

/// `new` with a known password in a fresh folder; returns the folder and the JSON summary.
fn credential(extra: &[&str]) -> (tempfile::TempDir, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("pw");
    fs::write(&password, "peer-check-password\n").unwrap();
    let mut args = vec!["--password-file", password.to_str().unwrap()];
    args.extend_from_slice(extra);
    let summary = new_credential(dir.path(), &args);
    (dir, summary)
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// openssl's date line ("notAfter=Nov 21 09:55:00 2027 GMT") as RFC 3339.
fn openssl_date(line: &str) -> String {
    let value = line.split_once('=').unwrap().1.trim();
    let format = time::macros::format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .unwrap_or_else(|e| panic!("openssl date {value:?}: {e}"))
        .assume_utc();
    keycred::time_fmt::rfc3339_utc(at)
}

#[test]
fn openssl_reads_the_certificate_as_keycred_describes_it() {
    if !peer_available("openssl", &["version"]) {
        return;
    }
    let (dir, summary) = credential(&[]);
    let cer = dir.path().join("daemon.cer");
    let pem = dir.path().join("daemon.pem");
    assert_eq!(
        openssl_fingerprint(&cer, "DER", "sha1"),
        summary["thumbprints"]["sha1"]
    );
    assert_eq!(
        openssl_fingerprint(&pem, "PEM", "sha1"),
        summary["thumbprints"]["sha1"]
    );
    assert_eq!(
        openssl_fingerprint(&pem, "PEM", "sha256"),
        summary["thumbprints"]["sha256"]
    );

    let text = run_peer(
        "openssl",
        &[
            "x509",
            "-in",
            path_str(&cer),
            "-inform",
            "DER",
            "-noout",
            "-text",
        ],
    );
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    assert!(
        text.contains("Signature Algorithm: sha256WithRSAEncryption"),
        "{text}"
    );
    assert!(
        text.contains("Subject: CN = Contoso Daemon, O = Contoso"),
        "{text}"
    );
    assert!(
        text.contains("X509v3 Basic Constraints: critical\n                CA:FALSE"),
        "{text}"
    );
    assert!(
        text.contains("Digital Signature, Key Encipherment"),
        "{text}"
    );
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert!(text.contains("X509v3 Subject Key Identifier"), "{text}");
    assert!(text.contains("Version: 3 (0x2)"), "{text}");
    // A self-signed certificate's Authority Key Identifier is its own Subject Key Identifier.
    let identifier = |label: &str| {
        let at = text
            .find(label)
            .unwrap_or_else(|| panic!("no {label}: {text}"));
        text[at..]
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .trim_start_matches("keyid:")
            .to_owned()
    };
    let ski = identifier("X509v3 Subject Key Identifier");
    assert_eq!(ski.len(), 59, "20 bytes as hex pairs: {ski}");
    assert_eq!(identifier("X509v3 Authority Key Identifier"), ski);

    // The fragment's dates are the certificate's validity, as openssl reads it.
    let dates = run_peer(
        "openssl",
        &[
            "x509",
            "-in",
            path_str(&pem),
            "-noout",
            "-startdate",
            "-enddate",
        ],
    );
    let mut lines = dates.lines();
    let fragment: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("daemon.keycredentials.json")).unwrap())
            .unwrap();
    assert_eq!(
        fragment["keyCredentials"][0]["startDateTime"],
        openssl_date(lines.next().unwrap())
    );
    assert_eq!(
        fragment["keyCredentials"][0]["endDateTime"],
        openssl_date(lines.next().unwrap())
    );

    // The certificate verifies under its own key (self-signed).
    let verify = run_peer(
        "openssl",
        &[
            "verify",
            "-CAfile",
            path_str(&pem),
            "-partial_chain",
            path_str(&pem),
        ],
    );
    assert!(verify.contains(": OK"), "{verify}");
}

#[test]
fn openssl_opens_both_pfx_profiles_without_legacy_and_the_key_matches() {
    if !peer_available("openssl", &["version"]) {
        return;
    }
    for (profile, mac, cipher) in [
        ("modern", "MAC: sha256", "AES-256-CBC"),
        ("legacy", "MAC: sha1", "pbeWithSHA1And3-KeyTripleDES-CBC"),
    ] {
        let (dir, _) = credential(&["--pfx-profile", profile]);
        let pfx = dir.path().join("daemon.pfx");
        let pass = format!("file:{}", dir.path().join("pw").display());
        let info = std::process::Command::new("openssl")
            .args([
                "pkcs12",
                "-in",
                path_str(&pfx),
                "-passin",
                &pass,
                "-info",
                "-noout",
            ])
            .output()
            .unwrap();
        assert!(
            info.status.success(),
            "{profile}: {}",
            String::from_utf8_lossy(&info.stderr)
        );
        let info = String::from_utf8_lossy(&info.stderr).into_owned();
        assert!(info.contains(mac), "{profile}: {info}");
        assert!(info.contains(cipher), "{profile}: {info}");
        assert!(!info.contains("RC2"), "{profile}: {info}");

        let key = run_peer(
            "openssl",
            &[
                "pkcs12",
                "-in",
                path_str(&pfx),
                "-passin",
                &pass,
                "-nocerts",
                "-nodes",
            ],
        );
        let key_path = dir.path().join("from-pfx.key");
        fs::write(&key_path, key).unwrap();
        let key_modulus = run_peer(
            "openssl",
            &["rsa", "-in", path_str(&key_path), "-noout", "-modulus"],
        );
        let cert_modulus = run_peer(
            "openssl",
            &[
                "x509",
                "-in",
                path_str(&dir.path().join("daemon.pem")),
                "-noout",
                "-modulus",
            ],
        );
        assert_eq!(
            key_modulus, cert_modulus,
            "{profile}: PFX key pairs with the certificate"
        );
        let pkcs8_modulus = run_peer(
            "openssl",
            &[
                "rsa",
                "-in",
                path_str(&dir.path().join("daemon.key")),
                "-noout",
                "-modulus",
            ],
        );
        assert_eq!(
            pkcs8_modulus, cert_modulus,
            "NAME.key pairs with the certificate"
        );
    }
}

#[test]
fn keytool_lists_both_pfx_profiles() {
    if !peer_available("keytool", &["-help"]) {
        return;
    }
    for profile in ["modern", "legacy"] {
        let (dir, summary) = credential(&["--pfx-profile", profile]);
        let listing = run_peer(
            "keytool",
            &[
                "-list",
                "-v",
                "-storetype",
                "PKCS12",
                "-keystore",
                path_str(&dir.path().join("daemon.pfx")),
                "-storepass",
                "peer-check-password",
            ],
        );
        assert!(
            listing.contains("Your keystore contains 1 entry"),
            "{profile}: {listing}"
        );
        assert!(
            listing.contains("Entry type: PrivateKeyEntry"),
            "{profile}: {listing}"
        );
        assert!(
            listing.contains("Alias name: contoso daemon"),
            "{profile}: {listing}"
        );
        let sha256 = summary["thumbprints"]["sha256"].as_str().unwrap();
        let colon_hex: Vec<String> = sha256
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        assert!(
            listing.contains(&colon_hex.join(":")),
            "{profile}: fingerprint in {listing}"
        );
    }
}

#[test]
fn python_cryptography_loads_the_pfx_and_the_key_and_they_pair() {
    if !python_cryptography_available() {
        return;
    }
    let (dir, summary) = credential(&[]);
    let script = r#"
import sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12
d = sys.argv[1]
k, c, extra = pkcs12.load_key_and_certificates(open(d + "/daemon.pfx", "rb").read(), b"peer-check-password")
key = load_pem_private_key(open(d + "/daemon.key", "rb").read(), None)
cer = x509.load_der_x509_certificate(open(d + "/daemon.cer", "rb").read())
assert c == cer, "PFX certificate equals the CER"
assert k.private_numbers() == key.private_numbers(), "PFX key equals NAME.key"
assert key.public_key().public_numbers() == cer.public_key().public_numbers(), "key pairs with the certificate"
print(k.key_size, cer.fingerprint(hashes.SHA1()).hex().upper(), cer.signature_hash_algorithm.name)
"#;
    let out = run_peer("python3", &["-c", script, path_str(dir.path())]);
    let expected = format!(
        "2048 {} sha256",
        summary["thumbprints"]["sha1"].as_str().unwrap()
    );
    assert_eq!(out.trim(), expected);
}

#[test]
fn keycred_agrees_with_openssl_on_files_openssl_made_now() {
    if !peer_available("openssl", &["version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let cert = dir.path().join("c.pem");
    let pfx = dir.path().join("c.pfx");
    openssl_self_signed(&key, &cert, "/CN=Made By OpenSSL", "30", &[]);
    run_peer(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-in",
            path_str(&cert),
            "-inkey",
            path_str(&key),
            "-out",
            path_str(&pfx),
            "-passout",
            "pass:openssl-made",
        ],
    );
    let sha1 = openssl_fingerprint(&cert, "PEM", "sha1");
    let sha256 = openssl_fingerprint(&cert, "PEM", "sha256");

    keycred()
        .args(["thumbprint", "--form", "hex"])
        .arg(&cert)
        .assert()
        .success()
        .stdout(format!("{sha1}\n"));
    keycred()
        .args(["thumbprint", "--form", "sha256-hex"])
        .arg(&cert)
        .assert()
        .success()
        .stdout(format!("{sha256}\n"));
    let out = keycred()
        .env("KEYCRED_PFX_PASSWORD", "openssl-made")
        .args(["inspect", "--json"])
        .arg(&pfx)
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(report[0]["certificates"][0]["thumbprints"]["sha1"], sha1);
    assert_eq!(
        report[0]["certificates"][0]["subject"],
        "CN=Made By OpenSSL"
    );
    assert_eq!(report[0]["privateKey"]["matchesCertificate"], true);
}

/// `--pem-bundle`: one owner-only PEM with the key and its certificate, read by OpenSSL and by Python
/// `cryptography` (what azure-identity's CertificateCredential uses to read it), the key matching the certificate.
#[test]
fn the_pem_bundle_is_a_key_and_its_certificate_for_openssl_and_python() {
    let dir = tempfile::tempdir().unwrap();
    let out = keycred()
        .args([
            "new",
            "-s",
            "CN=Bundle Daemon",
            "--no-pfx",
            "--pem-bundle",
            "--name",
            "b",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle = dir.path().join("b.bundle.pem");
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&bundle).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("b.bundle.pem holds the unencrypted private key"));
    if peer_available("openssl", &["version"]) {
        let b = bundle.to_str().unwrap();
        let cert_modulus = run_peer("openssl", &["x509", "-in", b, "-noout", "-modulus"]);
        let key_modulus = run_peer("openssl", &["rsa", "-in", b, "-noout", "-modulus"]);
        assert_eq!(cert_modulus, key_modulus);
        assert_eq!(
            openssl_fingerprint(&bundle, "PEM", "sha1"),
            openssl_fingerprint(&dir.path().join("b.cer"), "DER", "sha1")
        );
    }
    if python_cryptography_available() {
        let script = r#"
import sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
data = open(sys.argv[1], "rb").read()
key = serialization.load_pem_private_key(data, None)
cert = x509.load_pem_x509_certificate(data)
assert key.public_key().public_numbers() == cert.public_key().public_numbers()
print("pair")
"#;
        assert_eq!(
            run_peer("python3", &["-c", script, bundle.to_str().unwrap()]).trim(),
            "pair"
        );
    }
}
