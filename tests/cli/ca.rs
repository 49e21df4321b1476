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
    openssl_self_signed(&ca_key, &ca_cert, "/CN=Test Root", "30", &[]);
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
        // ASCII, but no DNS name: it was put in the request.
        (
            vec!["--subject", "CN=A", "--dns", "bad name!"],
            2,
            "is not a DNS name",
        ),
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

/// OpenSSL as the organisation's CA: a root, an intermediate under it, and a certificate for a keycred request.
pub struct Ca {
    dir: tempfile::TempDir,
}

impl Ca {
    pub fn new() -> Option<Ca> {
        if !peer_available("openssl", &["version"]) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
        fs::write(
            dir.path().join("ca.ext"),
            "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n",
        )
        .unwrap();
        openssl_self_signed(
            &dir.path().join("root.key"),
            &dir.path().join("root.pem"),
            "/CN=Contoso Root",
            "3650",
            &[
                "-addext",
                "basicConstraints=critical,CA:true",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        run_peer(
            "openssl",
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &p("inter.key"),
                "-out",
                &p("inter.csr"),
                "-subj",
                "/CN=Contoso Issuing CA",
            ],
        );
        run_peer(
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                &p("inter.csr"),
                "-CA",
                &p("root.pem"),
                "-CAkey",
                &p("root.key"),
                "-CAcreateserial",
                "-out",
                &p("inter.pem"),
                "-days",
                "1800",
                "-extfile",
                &p("ca.ext"),
            ],
        );
        Some(Ca { dir })
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// The intermediate's name and key, signed by the root for `start` to `end` days from now (Python's
    /// `cryptography`, for dates OpenSSL 3.0's `x509 -req` cannot set); returns its PEM path.
    /// `None` (skipped) without it outside CI.
    pub fn reissue_intermediate(
        &self,
        start: i64,
        end: i64,
        name: &str,
    ) -> Option<std::path::PathBuf> {
        if !python_cryptography_available() {
            return None;
        }
        let out = self.path(name);
        run_peer(
            "python3",
            &[
                "-c",
                "import sys, datetime\n\
from cryptography import x509\n\
from cryptography.hazmat.primitives import hashes, serialization\n\
root = x509.load_pem_x509_certificate(open(sys.argv[1], 'rb').read())\n\
root_key = serialization.load_pem_private_key(open(sys.argv[2], 'rb').read(), None)\n\
key = serialization.load_pem_private_key(open(sys.argv[3], 'rb').read(), None)\n\
now = datetime.datetime.now(datetime.timezone.utc)\n\
cert = (x509.CertificateBuilder()\n\
    .subject_name(x509.Name.from_rfc4514_string('CN=Contoso Issuing CA'))\n\
    .issuer_name(root.subject)\n\
    .public_key(key.public_key())\n\
    .serial_number(x509.random_serial_number())\n\
    .not_valid_before(now + datetime.timedelta(days=int(sys.argv[4])))\n\
    .not_valid_after(now + datetime.timedelta(days=int(sys.argv[5])))\n\
    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)\n\
    .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False), critical=True)\n\
    .sign(root_key, hashes.SHA256()))\n\
open(sys.argv[6], 'wb').write(cert.public_bytes(serialization.Encoding.PEM))\n",
                self.path("root.pem").to_str().unwrap(),
                self.path("root.key").to_str().unwrap(),
                self.path("inter.key").to_str().unwrap(),
                &start.to_string(),
                &end.to_string(),
                out.to_str().unwrap(),
            ],
        );
        Some(out)
    }

    /// Issues a certificate for `csr` from the intermediate, valid for `days`; returns its PEM path.
    pub fn issue(&self, csr: &std::path::Path, days: &str, name: &str) -> std::path::PathBuf {
        let out = self.path(name);
        run_peer(
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                csr.to_str().unwrap(),
                "-CA",
                self.path("inter.pem").to_str().unwrap(),
                "-CAkey",
                self.path("inter.key").to_str().unwrap(),
                "-CAcreateserial",
                "-out",
                out.to_str().unwrap(),
                "-days",
                days,
                "-copy_extensions",
                "copy",
                "-sha256",
            ],
        );
        out
    }
}

#[test]
fn every_form_a_ca_returns_is_imported_and_verifies_with_openssl() {
    let Some(ca) = Ca::new() else { return };
    let work = ca.path("work");
    stdout(
        &keycred()
            .args(["csr", "--subject", "CN=Contoso Daemon", "--out"])
            .arg(&work)
            .args(["--name", "daemon"])
            .output()
            .unwrap(),
    );
    let leaf = ca.issue(&work.join("daemon.csr"), "300", "leaf.pem");
    let p = |path: &std::path::Path| path.to_str().unwrap().to_owned();
    // The forms: DER with the chain apart, a PEM chain in one file, a .p7b (DER), a .p7b (PEM).
    run_peer(
        "openssl",
        &[
            "x509",
            "-in",
            &p(&leaf),
            "-outform",
            "DER",
            "-out",
            &p(&ca.path("leaf.cer")),
        ],
    );
    fs::write(
        ca.path("fullchain.pem"),
        [
            fs::read(&leaf).unwrap(),
            fs::read(ca.path("inter.pem")).unwrap(),
            fs::read(ca.path("root.pem")).unwrap(),
        ]
        .concat(),
    )
    .unwrap();
    run_peer(
        "openssl",
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            &p(&leaf),
            "-certfile",
            &p(&ca.path("inter.pem")),
            "-outform",
            "DER",
            "-out",
            &p(&ca.path("issued.p7b")),
        ],
    );
    run_peer(
        "openssl",
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            &p(&leaf),
            "-certfile",
            &p(&ca.path("inter.pem")),
            "-out",
            &p(&ca.path("issued.p7b.pem")),
        ],
    );
    let openssl_sha1 = openssl_fingerprint(&leaf, "PEM", "sha1");
    for (i, (cert, chain)) in [
        ("leaf.cer", Some("inter.pem")),
        ("fullchain.pem", None),
        ("issued.p7b", None),
        ("issued.p7b.pem", Some("root.pem")),
    ]
    .into_iter()
    .enumerate()
    {
        let out = ca.path(&format!("out{i}"));
        let mut cmd = keycred();
        cmd.args(["import", "--cert"])
            .arg(ca.path(cert))
            .arg("--key")
            .arg(work.join("daemon.key"));
        if let Some(chain) = chain {
            cmd.arg("--chain").arg(ca.path(chain));
        }
        let summary = json(
            &cmd.arg("--out")
                .arg(&out)
                .args([
                    "--name",
                    "daemon",
                    "--generate-password",
                    "--pem-bundle",
                    "--json",
                ])
                .output()
                .unwrap(),
        );
        assert_eq!(
            summary["thumbprints"]["sha1"], openssl_sha1,
            "{cert}: {summary}"
        );
        assert_eq!(
            summary["chain"][0], "CN=Contoso Issuing CA",
            "{cert}: {summary}"
        );
        // OpenSSL verifies the leaf with the written chain up to the root.
        run_peer(
            "openssl",
            &[
                "verify",
                "-CAfile",
                &p(&ca.path("root.pem")),
                "-untrusted",
                &p(&out.join("daemon.chain.pem")),
                &p(&out.join("daemon.pem")),
            ],
        );
        // The PFX opens without -legacy and holds the key, the leaf and the chain.
        let password = fs::read_to_string(out.join("daemon.pfx.password")).unwrap();
        let pw = format!("pass:{}", password.trim());
        let certs = run_peer(
            "openssl",
            &[
                "pkcs12",
                "-in",
                &p(&out.join("daemon.pfx")),
                "-nokeys",
                "-passin",
                &pw,
            ],
        );
        assert!(
            certs.matches("-----BEGIN CERTIFICATE-----").count() >= 2,
            "{cert}: the chain in the PFX"
        );
        assert!(certs.contains("Contoso Issuing CA"), "{cert}");
        // The fragment is for the leaf alone.
        let fragment: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("daemon.keycredentials.json")).unwrap())
                .unwrap();
        assert_eq!(fragment["keyCredentials"].as_array().unwrap().len(), 1);
    }
    // keytool and Python cryptography open the PFX with the whole chain too.
    let out = ca.path("out2");
    let password = fs::read_to_string(out.join("daemon.pfx.password"))
        .unwrap()
        .trim()
        .to_owned();
    if peer_available("keytool", &["-help"]) {
        let listing = run_peer(
            "keytool",
            &[
                "-list",
                "-v",
                "-storetype",
                "PKCS12",
                "-keystore",
                &p(&out.join("daemon.pfx")),
                "-storepass",
                &password,
            ],
        );
        assert!(listing.contains("Certificate chain length: 2"), "{listing}");
    }
    if python_cryptography_available() {
        let count = run_peer("python3", &["-c", "import sys; from cryptography.hazmat.primitives.serialization import pkcs12; k, c, extra = pkcs12.load_key_and_certificates(open(sys.argv[1], 'rb').read(), sys.argv[2].encode()); print(len(extra), k is not None, c.subject.rfc4514_string())", &p(&out.join("daemon.pfx")), &password]);
        assert_eq!(count.trim(), "1 True CN=Contoso Daemon");
    }
    // The CA-issued certificate signs in: the OAuth test server, registered with it, issues a token.
    let Some(server) = crate::flow::OidcServer::launch(
        "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "11111111-2222-3333-4444-555555555555",
        &ca.path("out0/daemon.pem"),
        ("99999999-8888-4777-8666-555555555555", "unused secret"),
        None,
    ) else {
        return;
    };
    let token = keycred()
        .args([
            "token",
            "--tenant",
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "--client-id",
            "11111111-2222-3333-4444-555555555555",
            "--scope",
            "api://keycred-test/.default",
            "--authority",
        ])
        .arg(server.authority())
        .arg("--pfx")
        .arg(ca.path("out0/daemon.pfx"))
        .arg("--password-file")
        .arg(ca.path("out0/daemon.pfx.password"))
        .output()
        .unwrap();
    assert!(stdout(&token).trim().split('.').count() == 3, "a JWT");
}

#[test]
fn what_cannot_be_a_credential_is_refused_and_nothing_written() {
    let Some(ca) = Ca::new() else { return };
    let work = ca.path("work");
    stdout(
        &keycred()
            .args(["csr", "--subject", "CN=Contoso Daemon", "--out"])
            .arg(&work)
            .args(["--name", "daemon"])
            .output()
            .unwrap(),
    );
    stdout(
        &keycred()
            .args(["csr", "--subject", "CN=Other", "--out"])
            .arg(&work)
            .args(["--name", "other"])
            .output()
            .unwrap(),
    );
    let leaf = ca.issue(&work.join("daemon.csr"), "300", "leaf.pem");
    let p = |path: &std::path::Path| path.to_str().unwrap().to_owned();
    // A .p7b holding only the intermediate.
    run_peer(
        "openssl",
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            &p(&ca.path("inter.pem")),
            "-outform",
            "DER",
            "-out",
            &p(&ca.path("noleaf.p7b")),
        ],
    );
    // A SHA-1 certificate, and a 1024-bit one, from the same CA.
    let sha1 = ca.path("sha1.pem");
    run_peer(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &p(&work.join("daemon.csr")),
            "-CA",
            &p(&ca.path("inter.pem")),
            "-CAkey",
            &p(&ca.path("inter.key")),
            "-CAcreateserial",
            "-out",
            &p(&sha1),
            "-days",
            "30",
            "-sha1",
        ],
    );
    run_peer(
        "openssl",
        &[
            "req",
            "-newkey",
            "rsa:1024",
            "-nodes",
            "-keyout",
            &p(&ca.path("small.key")),
            "-out",
            &p(&ca.path("small.csr")),
            "-subj",
            "/CN=Small",
        ],
    );
    let small = ca.issue(&ca.path("small.csr"), "30", "small.pem");
    fs::write(ca.path("garbage.cer"), "not a certificate at all").unwrap();
    // The intermediate again (its name and key), as the root signed it for a time that has passed.
    let Some(expired) = ca.reissue_intermediate(-400, -5, "expired.pem") else {
        return;
    };
    let cases: Vec<(std::path::PathBuf, std::path::PathBuf, &str)> = vec![
        (
            leaf.clone(),
            work.join("other.key"),
            "none of its certificates is for the key given",
        ),
        (
            ca.path("noleaf.p7b"),
            work.join("daemon.key"),
            "none of its certificates is for the key given",
        ),
        (sha1, work.join("daemon.key"), "SHA-1"),
        (small, ca.path("small.key"), "smaller than 2048 bits"),
        (
            ca.path("garbage.cer"),
            work.join("daemon.key"),
            "garbage.cer",
        ),
        (
            leaf.clone(),
            work.join("daemon.key"),
            "the CA certificate CN=Contoso Issuing CA is not valid now",
        ),
    ];
    for (cert, key, expected) in cases {
        let chain = if expected.contains("not valid now") {
            vec!["--chain".into(), expired.clone()]
        } else {
            Vec::new()
        };
        let out_dir = ca.path("refused");
        let out = keycred()
            .args(["import", "--cert"])
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .arg("--out")
            .arg(&out_dir)
            .args(["--name", "daemon", "--no-pfx"])
            .args(&chain)
            .output()
            .unwrap();
        assert_fails(&out, 1, expected);
        assert!(!out_dir.exists(), "{expected}: nothing written");
    }

    // An intermediate that ends before the certificate: imported, with a warning that names the date.
    let short = ca
        .reissue_intermediate(-10, 20, "short.pem")
        .expect("Python cryptography ran above");
    let out = keycred()
        .args(["import", "--cert"])
        .arg(&leaf)
        .arg("--chain")
        .arg(&short)
        .arg("--key")
        .arg(work.join("daemon.key"))
        .arg("--out")
        .arg(ca.path("short-out"))
        .args(["--name", "daemon", "--no-pfx"])
        .output()
        .unwrap();
    stdout(&out);
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(
        warning.contains("the CA certificate CN=Contoso Issuing CA ends")
            && warning.contains("renew the chain by then"),
        "{warning}"
    );
}
