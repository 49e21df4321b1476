//! Keys in a PKCS#11 token (issue 31), with SoftHSM2 as the token: the key made inside it and never extractable,
//! certificates, requests, assertions, tokens and addKey proofs signed there, checked by OpenSSL, OpenSC's
//! pkcs11-tool, the real OAuth server and the Graph test server.

use std::path::{Path, PathBuf};

use crate::common::*;
use crate::flow::OidcServer;

const TENANT: &str = "contoso.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const PIN: &str = "4711-test-pin";

/// A SoftHSM2 token of its own: its configuration, a token labelled `keycred-test`, and the user PIN in a file.
pub struct SoftHsm {
    dir: tempfile::TempDir,
    module: PathBuf,
}

impl SoftHsm {
    /// A fresh token; `None` (skipped, said) where SoftHSM2 is missing and CI is not set.
    pub fn start() -> Option<SoftHsm> {
        if !peer_available("softhsm2-util", &["--version"])
            || !peer_available("pkcs11-tool", &["--show-info", "--module", MODULE])
        {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tokens")).unwrap();
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.path().join("tokens").display()
            ),
        )
        .unwrap();
        let hsm = SoftHsm {
            dir,
            module: PathBuf::from(MODULE),
        };
        hsm.tool(
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                "keycred-test",
                "--pin",
                PIN,
                "--so-pin",
                "so-4711",
            ],
        );
        std::fs::write(hsm.pin_file(), format!("{PIN}\n")).unwrap();
        Some(hsm)
    }

    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    fn pin_file(&self) -> PathBuf {
        self.dir.path().join("pin")
    }

    /// A peer tool run against this token's configuration; its stdout.
    fn tool(&self, program: &str, args: &[&str]) -> String {
        let out = std::process::Command::new(program)
            .env("SOFTHSM2_CONF", self.conf())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `pkcs11-tool` on this token, logged in.
    fn pkcs11_tool(&self, args: &[&str]) -> String {
        let module = self.module.display().to_string();
        let base = [
            "--module",
            module.as_str(),
            "--token-label",
            "keycred-test",
            "--login",
            "--pin",
            PIN,
        ];
        self.tool("pkcs11-tool", &[&base[..], args].concat())
    }

    /// keycred, with the token's configuration in its environment.
    fn keycred(&self) -> assert_cmd::Command {
        let mut cmd = keycred();
        cmd.env("SOFTHSM2_CONF", self.conf())
            .env_remove("KEYCRED_PKCS11_PIN");
        cmd
    }

    /// The flags that name key `label` in this token, with the PIN file.
    pub fn flags(&self, label: &str) -> Vec<std::ffi::OsString> {
        vec![
            "--pkcs11-module".into(),
            self.module.clone().into(),
            "--pkcs11-token".into(),
            "keycred-test".into(),
            "--pkcs11-key".into(),
            label.into(),
            "--pkcs11-pin-file".into(),
            self.pin_file().into(),
        ]
    }
}

/// Debian's SoftHSM2 module.
const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// `new --pkcs11-…` for key `label` into `out`.
pub fn new_in_token(hsm: &SoftHsm, label: &str, subject: &str, out: &Path) -> std::process::Output {
    hsm.keycred()
        .args(["new", "--subject", subject, "--json", "--out"])
        .arg(out)
        .args(hsm.flags(label))
        .output()
        .unwrap()
}

#[test]
fn a_key_made_in_the_token_signs_its_certificate_and_tokens_there_and_never_leaves_it() {
    let Some(hsm) = SoftHsm::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let certs = work.path().join("certs");
    let made = output_json(&new_in_token(
        &hsm,
        "daemon",
        "CN=Token Daemon,O=Contoso",
        &certs,
    ));
    assert_eq!(made["pkcs11"]["extractable"], false, "{made:#}");
    let pem = certs.join("token-daemon.pem");
    // OpenSSL: the certificate is self-signed by the token's key (the signature verifies with its public key).
    run_peer(
        "openssl",
        &[
            "verify",
            "-CAfile",
            pem.to_str().unwrap(),
            pem.to_str().unwrap(),
        ],
    );
    let text = run_peer(
        "openssl",
        &["x509", "-in", pem.to_str().unwrap(), "-noout", "-text"],
    );
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    assert!(text.contains("sha256WithRSAEncryption"), "{text}");
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    // OpenSC: the key is in the token, sensitive and never extractable, and the certificate beside it.
    let objects = hsm.pkcs11_tool(&["--list-objects"]);
    assert!(objects.contains("never extractable"), "{objects}");
    assert!(objects.contains("Certificate Object"), "{objects}");
    assert!(objects.contains("label:      daemon"), "{objects}");
    crate::vault::assert_no_key_under(work.path());
    assert_eq!(
        names_in(&certs),
        [
            "token-daemon.cer",
            "token-daemon.keycred-state.json",
            "token-daemon.keycredentials.json",
            "token-daemon.pem"
        ]
    );
    // doctor checks the credential where it is, and says so.
    let module = hsm.flags("daemon")[1].clone();
    let pin = hsm.flags("daemon")[7].clone();
    let doctor = output_json(
        &hsm.keycred()
            .args(["doctor", "--json", "--credential-pkcs11-module"])
            .arg(&module)
            .args([
                "--credential-pkcs11-token",
                "keycred-test",
                "--credential-pkcs11-key",
                "daemon",
            ])
            .arg("--credential-pkcs11-pin-file")
            .arg(&pin)
            .output()
            .unwrap(),
    );
    assert_eq!(doctor["exitCode"], 0, "{doctor}");
    assert_eq!(doctor["checked"], serde_json::json!(["credential"]));
    assert_eq!(
        doctor["credentialKey"],
        "in PKCS#11 token \"keycred-test\", key \"daemon\", not extractable"
    );
    // check says where the certificate's key is.
    let checked = output_json(
        &keycred()
            .args(["check", "--json"])
            .arg(certs.join("token-daemon.cer"))
            .output()
            .unwrap(),
    );
    assert_eq!(
        checked["files"][0]["keyHeld"],
        "in PKCS#11 token \"keycred-test\", key \"daemon\", not extractable",
        "{checked}"
    );

    // The real OAuth server knows the app by that certificate: tokens signed in the token, PS256 and RS256.
    let Some(entra) = OidcServer::launch(
        TENANT,
        CLIENT,
        &pem,
        ("99999999-8888-4777-8666-555555555555", "x"),
        None,
    ) else {
        return;
    };
    for (alg, header) in [("PS256", "x5t#S256"), ("RS256", "x5t")] {
        let run = |command: &str| {
            let mut cmd = hsm.keycred();
            cmd.args([
                command,
                "--tenant",
                TENANT,
                "--client-id",
                CLIENT,
                "--alg",
                alg,
                "--json",
            ])
            .args(["--authority", &entra.authority()])
            .args(hsm.flags("daemon"));
            if command == "token" {
                cmd.args(["--scope", "api://keycred-test/.default"]);
            }
            output_json(&cmd.output().unwrap())
        };
        let token = run("token");
        assert_eq!(token["token_type"], "Bearer", "{alg}: {token}");
        let assertion = run("assertion");
        assert!(assertion["header"].get(header).is_some(), "{assertion}");
    }
}

#[test]
fn a_request_signed_in_the_token_is_issued_by_the_ca_and_its_answer_kept_beside_the_key() {
    let Some(hsm) = SoftHsm::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let out = hsm
        .keycred()
        .args([
            "csr",
            "--subject",
            "CN=CA Daemon",
            "--dns",
            "daemon.contoso.com",
            "--name",
            "cadaemon",
            "--out",
        ])
        .arg(dir.join("req"))
        .args(hsm.flags("cadaemon"))
        .output()
        .unwrap();
    stdout(&out);
    let csr = dir.join("req/cadaemon.csr");
    // OpenSSL verifies the request's signature (made in the token) and issues it as the CA.
    let verified = std::process::Command::new("openssl")
        .args(["req", "-in", csr.to_str().unwrap(), "-noout", "-verify"])
        .output()
        .unwrap();
    assert!(verified.status.success());
    assert!(String::from_utf8_lossy(&verified.stderr).contains("verify OK"));
    let ca_key = dir.join("ca.key");
    let ca_cert = dir.join("ca.pem");
    openssl_self_signed(
        &ca_key,
        &ca_cert,
        "/CN=Token Test CA",
        "30",
        &[
            "-addext",
            "basicConstraints=critical,CA:true",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    let issued = dir.join("issued.pem");
    openssl_issue(&csr, &ca_cert, &ca_key, &issued);
    // An answer for another key is refused, and nothing is written or kept.
    let other = dir.join("other");
    let refused = hsm
        .keycred()
        .args(["import", "--cert"])
        .arg(&ca_cert)
        .args(["--name", "cadaemon", "--out"])
        .arg(&other)
        .args(hsm.flags("cadaemon"))
        .output()
        .unwrap();
    assert_fails(&refused, 1, "none of its certificates is for the key");
    assert!(!other.exists());
    let imported = hsm
        .keycred()
        .args(["import", "--json", "--cert"])
        .arg(&issued)
        .arg("--chain")
        .arg(&ca_cert)
        .args(["--name", "cadaemon", "--out"])
        .arg(dir.join("req"))
        .args(hsm.flags("cadaemon"))
        .output()
        .unwrap();
    let made = output_json(&imported);
    assert_eq!(made["pkcs11"]["key"], "cadaemon", "{made:#}");
    let pem = dir.join("req/cadaemon.pem");
    run_peer(
        "openssl",
        &[
            "verify",
            "-CAfile",
            ca_cert.to_str().unwrap(),
            pem.to_str().unwrap(),
        ],
    );
    crate::vault::assert_no_key_under(&dir.join("req"));
    // The token now holds the CA's certificate for the key: an assertion is signed with it, and PyJWT checks it.
    let assertion = hsm
        .keycred()
        .args([
            "assertion",
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT,
            "--alg",
            "RS256",
        ])
        .args(hsm.flags("cadaemon"))
        .output()
        .unwrap();
    let jwt = stdout(&assertion);
    if python_cryptography_available() && peer_available("python3", &["-c", "import jwt"]) {
        let checked = run_peer(
            "python3",
            &[
                "-c",
                "import jwt,sys\nfrom cryptography import x509\nc=x509.load_pem_x509_certificate(open(sys.argv[1],'rb').read())\nprint(jwt.decode(sys.argv[2].strip(),c.public_key(),algorithms=['RS256'],options={'verify_aud':False})['sub'])",
                pem.to_str().unwrap(),
                &jwt,
            ],
        );
        assert_eq!(checked.trim(), CLIENT);
    }
}

#[test]
fn a_wrong_pin_an_ec_or_small_key_and_a_taken_label_are_refused_with_nothing_written() {
    let Some(hsm) = SoftHsm::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    // Keys made by another tool: EC, and RSA of 1024 bits.
    hsm.pkcs11_tool(&[
        "--keypairgen",
        "--key-type",
        "EC:prime256v1",
        "--label",
        "ec-key",
    ]);
    hsm.pkcs11_tool(&[
        "--keypairgen",
        "--key-type",
        "rsa:1024",
        "--label",
        "small-key",
    ]);
    let assertion = |label: &str, pin_file: &Path| {
        let mut flags = hsm.flags(label);
        flags.pop();
        hsm.keycred()
            .args(["assertion", "--tenant", TENANT, "--client-id", CLIENT])
            .args(flags)
            .arg(pin_file)
            .output()
            .unwrap()
    };
    let wrong = dir.join("wrong-pin");
    std::fs::write(&wrong, "0000\n").unwrap();
    assert_fails(&assertion("ec-key", &wrong), 1, "refused the PIN");
    assert_fails(
        &assertion("ec-key", &hsm.pin_file()),
        1,
        "an EC key, not RSA",
    );
    assert_fails(
        &assertion("small-key", &hsm.pin_file()),
        1,
        "RSA of 1024 bits",
    );
    assert_fails(
        &assertion("no-such-key", &hsm.pin_file()),
        2,
        "holds no private key",
    );

    // new: a wrong PIN, a taken label, a hash the token does not sign with: nothing written, nothing made.
    let out = dir.join("out");
    let mut flags = hsm.flags("fresh");
    flags.pop();
    let wrong_pin = hsm
        .keycred()
        .args(["new", "--subject", "Fresh", "--out"])
        .arg(&out)
        .args(&flags)
        .arg(&wrong)
        .output()
        .unwrap();
    assert_fails(&wrong_pin, 1, "refused the PIN");
    assert_fails(
        &new_in_token(&hsm, "ec-key", "Fresh", &out),
        1,
        "never replaces a key",
    );
    let hash = hsm
        .keycred()
        .args(["new", "--subject", "Fresh", "--hash", "sha384", "--out"])
        .arg(&out)
        .args(hsm.flags("fresh"))
        .output()
        .unwrap();
    assert_fails(&hash, 2, "SHA-256");
    assert!(!out.exists(), "nothing is written for a refused run");
    let objects = hsm.pkcs11_tool(&["--list-objects"]);
    assert!(!objects.contains("fresh"), "{objects}");
    // A module another user could change is never loaded (it would run with the PIN): a copy of SoftHSM's that
    // others may write, and one in a folder others may write.
    use std::os::unix::fs::PermissionsExt as _;
    for (name, file_mode, dir_mode) in [("loose-file", 0o666, 0o755), ("loose-dir", 0o755, 0o777)] {
        let folder = dir.join(name);
        std::fs::create_dir(&folder).unwrap();
        let planted = folder.join("libsofthsm2.so");
        std::fs::copy(&hsm.module, &planted).unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(file_mode)).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(dir_mode)).unwrap();
        let mut flags = hsm.flags("ec-key");
        flags[1] = planted.clone().into();
        let refused = hsm
            .keycred()
            .args(["assertion", "--tenant", TENANT, "--client-id", CLIENT])
            .args(flags)
            .output()
            .unwrap();
        assert_fails(&refused, 1, "other users may write");
    }
    // The PIN never on the command line: there is no flag for it, and without a source the run says where.
    let argv_pin = hsm
        .keycred()
        .args([
            "assertion",
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT,
            "--pkcs11-pin",
            PIN,
        ])
        .output()
        .unwrap();
    assert_eq!(argv_pin.status.code(), Some(2));
    let mut no_pin = hsm.flags("ec-key");
    no_pin.truncate(6);
    let unsourced = hsm
        .keycred()
        .args(["assertion", "--tenant", TENANT, "--client-id", CLIENT])
        .args(no_pin)
        .output()
        .unwrap();
    assert_fails(&unsourced, 2, "KEYCRED_PKCS11_PIN");
}

#[test]
fn the_automation_app_signs_in_to_graph_and_proves_addkey_with_its_token_key() {
    let Some(hsm) = SoftHsm::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let certs = dir.join("certs");
    stdout(&new_in_token(
        &hsm,
        "automation",
        "CN=Rotation Automation",
        &certs,
    ));
    let apps = serde_json::json!([crate::graph::automation_app(
        &certs.join("rotation-automation.cer")
    )]);
    let Some(entra) = OidcServer::launch_with_env(
        crate::graph::TENANT,
        crate::graph::AUTOMATION,
        &certs.join("rotation-automation.pem"),
        ("99999999-8888-4777-8666-555555555555", "x"),
        None,
        &[("GRAPH_ROLES", "Application.Read.All")],
    ) else {
        return;
    };
    let graph = crate::graph::GraphServer::start(&entra, &apps, dir);
    let out = hsm
        .keycred()
        .args([
            "graph",
            "rotate",
            "--self",
            "--app",
            crate::graph::AUTOMATION,
            "--force-renewal",
        ])
        .args(["--no-pfx", "--apply", "--json"])
        .args(crate::graph::as_automation(&graph, &entra))
        .arg("--out")
        .arg(dir.join("next"))
        .args(hsm.flags("automation"))
        .output()
        .unwrap();
    let report = output_json(&out);
    assert_eq!(report["apps"][0]["result"], "rotated", "{report:#}");
    // The Graph test server checked the addKey proof against the certificate the app held: the token's.
    assert!(graph.log().iter().any(|e| e["method"] == "POST"
        && e["path"].as_str().unwrap().ends_with("/addKey")
        && e["status"] == 200));

    // graph add-key --send with the token's key: a certificate made elsewhere, proven by the key in the token.
    let other = dir.join("other");
    stdout(
        &keycred()
            .args([
                "new",
                "--subject",
                "CN=Elsewhere",
                "--no-pfx",
                "--name",
                "elsewhere",
                "--out",
            ])
            .arg(&other)
            .output()
            .unwrap(),
    );
    let added = hsm
        .keycred()
        .args([
            "graph",
            "add-key",
            "--object-id",
            "40000000-0000-4000-8000-000000000001",
            "--cert",
        ])
        .arg(other.join("elsewhere.cer"))
        .arg("--send")
        .args(crate::graph::as_automation(&graph, &entra))
        .args(hsm.flags("automation"))
        .output()
        .unwrap();
    let answer = output_json(&added);
    assert!(answer["keyId"].is_string(), "{answer}");
    let add_keys = graph
        .log()
        .iter()
        .filter(|e| e["path"].as_str().unwrap().ends_with("/addKey") && e["status"] == 200)
        .count();
    assert_eq!(add_keys, 2);
}
