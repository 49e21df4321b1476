//! `keycred assertion`, `token` and `decode` against real peers: assertions verified by PyJWT, tokens from a real
//! OAuth 2.0 server (oidc-provider on 127.0.0.1, laid out like Entra), Entra's error bodies and the cache against
//! a small loopback server that counts requests, and tokens checked as an API would.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::common::*;

const TENANT: &str = "contoso.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
/// The client id of the API whose v2 tokens the test server issues (their aud), for scope api://keycred-test.
pub const API_APP_ID: &str = "c0ffee00-1111-4222-8333-444455556666";
const PASSWORD: &str = "a long test password for the pfx";

/// A fresh credential in `dir`: daemon.{cer,pem,key,pfx} with the PFX password in daemon.pw.
fn credential(dir: &Path) -> PathBuf {
    let pw = dir.join("daemon.pw");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let out = keycred()
        .args(["new", "--subject", "CN=Flow Daemon", "--out"])
        .arg(dir)
        .args(["--name", "daemon", "--password-file"])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pw
}

/// No secret of the credential in what keycred printed.
fn assert_no_secrets(out: &std::process::Output, dir: &Path, extra: &[&str]) {
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!printed.contains(PASSWORD), "the PFX password was printed");
    let key = std::fs::read_to_string(dir.join("daemon.key")).unwrap();
    let body: String = key
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .take(2)
        .collect();
    assert!(!printed.contains(&body), "the private key was printed");
    for secret in extra {
        assert!(!printed.contains(secret), "a secret was printed");
    }
}

// ---- assertion ----

#[test]
fn assertions_verify_in_pyjwt_with_every_claim_for_both_algorithms() {
    if !peer_available("python3", &["-c", "import jwt, cryptography"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pw = credential(dir.path());
    let cert = dir.path().join("daemon.pem");
    let sha1 = openssl_fingerprint(&cert, "PEM", "sha1");
    let sha256 = openssl_fingerprint(&cert, "PEM", "sha256");
    for (alg, header_field, hex) in [("PS256", "x5t#S256", &sha256), ("RS256", "x5t", &sha1)] {
        let out = keycred()
            .args([
                "assertion",
                "--tenant",
                TENANT,
                "--client-id",
                CLIENT,
                "--alg",
                alg,
                "--pfx",
            ])
            .arg(dir.path().join("daemon.pfx"))
            .arg("--password-file")
            .arg(&pw)
            .output()
            .unwrap();
        let token = stdout(&out);
        assert_eq!(token.lines().count(), 1, "one line");
        assert_no_secrets(&out, dir.path(), &[]);
        let script = r#"
import base64, binascii, sys, time, uuid, jwt
from cryptography import x509
token, cert_path, alg, field, hexprint, tenant, client = sys.argv[1:8]
cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
aud = f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
claims = jwt.decode(token.strip(), cert.public_key(), algorithms=[alg], audience=aud, issuer=client,
                    options={"require": ["exp", "nbf", "iat", "jti", "sub"]})
header = jwt.get_unverified_header(token.strip())
assert header["alg"] == alg and header["typ"] == "JWT", header
want = base64.urlsafe_b64encode(binascii.unhexlify(hexprint)).decode().rstrip("=")
assert header[field] == want, (header, want)
other = "x5t" if field == "x5t#S256" else "x5t#S256"
assert other not in header, header
assert claims["sub"] == client and claims["iss"] == client, claims
uuid.UUID(claims["jti"])
assert claims["exp"] - claims["nbf"] == 600 and claims["iat"] == claims["nbf"], claims
assert abs(claims["nbf"] - time.time()) < 120, claims
print("verified")
"#;
        let verified = run_peer(
            "python3",
            &[
                "-c",
                script,
                &token,
                cert.to_str().unwrap(),
                alg,
                header_field,
                hex,
                TENANT,
                CLIENT,
            ],
        );
        assert_eq!(verified.trim(), "verified", "{alg}");
    }

    // --json: header, claims and the token; a sovereign cloud's authority sets aud.
    let out = keycred()
        .args([
            "assertion",
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT,
            "--json",
            "--key",
        ])
        .arg(dir.path().join("daemon.key"))
        .arg("--cert")
        .arg(dir.path().join("daemon.cer"))
        .args([
            "--authority",
            "https://login.microsoftonline.us/",
            "--lifetime",
            "120",
        ])
        .output()
        .unwrap();
    let doc = json(&out);
    assert_eq!(
        doc["claims"]["aud"],
        format!("https://login.microsoftonline.us/{TENANT}/oauth2/v2.0/token")
    );
    assert_eq!(doc["header"]["alg"], "PS256");
    assert_eq!(
        doc["claims"]["exp"].as_i64().unwrap() - doc["claims"]["nbf"].as_i64().unwrap(),
        120
    );
    assert_eq!(doc["assertion"].as_str().unwrap().split('.').count(), 3);
}

#[test]
fn assertion_refusals() {
    let dir = tempfile::tempdir().unwrap();
    credential(dir.path());
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    credential(&other);
    let run = |extra: &[&str]| {
        keycred()
            .args(["assertion", "--tenant", TENANT, "--client-id", CLIENT])
            .args(extra)
            .output()
            .unwrap()
    };
    let key = dir.path().join("daemon.key");
    let cert = dir.path().join("daemon.cer");
    let other_key = other.join("daemon.key");
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (
            vec!["--key".into(), s(&other_key), "--cert".into(), s(&cert)],
            1,
            "the private key does not match the certificate",
        ),
        (
            vec![
                "--key".into(),
                s(&fixture("openssl-ec.key")),
                "--cert".into(),
                s(&fixture("openssl-ec.pem")),
            ],
            1,
            "not RSA",
        ),
        (
            vec![
                "--key".into(),
                s(&key),
                "--cert".into(),
                s(&cert),
                "--lifetime".into(),
                "601".into(),
            ],
            2,
            "--lifetime 601: give 1 to 600 seconds",
        ),
        (
            vec![
                "--key".into(),
                s(&key),
                "--cert".into(),
                s(&cert),
                "--authority".into(),
                "http://login.example.com".into(),
            ],
            2,
            "http:// is allowed only for this machine",
        ),
        (
            vec!["--key".into(), s(&cert), "--cert".into(), s(&cert)],
            1,
            "has no PRIVATE KEY block",
        ),
        (vec![], 2, "give the credential that signs"),
        (
            vec!["--pfx".into(), s(&dir.path().join("daemon.pfx"))],
            2,
            "needs its password",
        ),
    ];
    for (args, code, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args);
        assert_fails(&out, code, expected);
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
    if python_cryptography_available() {
        // An expired certificate with its key, made by Python cryptography.
        let script = r#"
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
out = sys.argv[1]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Expired")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - datetime.timedelta(days=400))
        .not_valid_after(now - datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
open(f"{out}/expired.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(f"{out}/expired.key", "wb").write(key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
"#;
        run_peer("python3", &["-c", script, dir.path().to_str().unwrap()]);
        let out = run(&[
            "--key",
            dir.path().join("expired.key").to_str().unwrap(),
            "--cert",
            dir.path().join("expired.pem").to_str().unwrap(),
        ]);
        assert_fails(&out, 1, "the certificate (CN=Expired) expired on");
    }
}

// ---- token against a real OAuth 2.0 server ----

/// oidc-provider from tests/oidc, started on 127.0.0.1 (`.ci/run` installs it with npm).
pub struct OidcServer {
    child: Child,
    port: u16,
    scheme: &'static str,
}

/// A TLS certificate for 127.0.0.1 and the CA that issued it, for clients that accept only https authorities.
pub struct Tls {
    /// The CA certificate (PEM), for the clients' trust (REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS).
    pub ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Tls {
    /// A fresh CA and a server certificate for IP 127.0.0.1 signed by it, in `dir`.
    pub fn new(dir: &Path) -> Tls {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
            IsCa, KeyPair, KeyUsagePurpose,
        };
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name
            .push(DnType::CommonName, "keycred test CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        leaf.distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.use_authority_key_identifier_extension = true;
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = leaf.signed_by(&leaf_key, &ca).unwrap();
        let tls = Tls {
            ca: dir.join("tls-ca.pem"),
            cert: dir.join("tls.pem"),
            key: dir.join("tls.key"),
        };
        std::fs::write(&tls.ca, ca.pem()).unwrap();
        std::fs::write(&tls.cert, leaf.pem()).unwrap();
        std::fs::write(&tls.key, leaf_key.serialize_pem()).unwrap();
        tls
    }
}

impl OidcServer {
    pub fn start(cert_pem: &Path, secret_client: &str, secret: &str) -> Option<OidcServer> {
        OidcServer::launch(TENANT, CLIENT, cert_pem, (secret_client, secret), None)
    }

    /// The server for `tenant` with `client` registered with the certificate in `cert_pem`, over https when
    /// `tls` is given (then also serving Entra's discovery documents, as MSAL and azure-identity expect).
    pub fn launch(
        tenant: &str,
        client: &str,
        cert_pem: &Path,
        secret: (&str, &str),
        tls: Option<&Tls>,
    ) -> Option<OidcServer> {
        OidcServer::launch_with_env(tenant, client, cert_pem, secret, tls, &[])
    }

    /// As [`OidcServer::launch`], with environment variables for the server (`GRAPH_ROLES`, `TOKEN_ROLES`, …).
    pub fn launch_with_env(
        tenant: &str,
        client: &str,
        cert_pem: &Path,
        (secret_client, secret): (&str, &str),
        tls: Option<&Tls>,
        env: &[(&str, &str)],
    ) -> Option<OidcServer> {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        let installed = folder.join("node_modules/oidc-provider").exists()
            && peer_available("node", &["--version"]);
        if !installed {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("oidc-provider is required when CI=true: run npm ci --prefix tests/oidc");
            }
            eprintln!("SKIPPED: oidc-provider is not installed (npm ci --prefix tests/oidc)");
            return None;
        }
        // The first line, "listening PORT". A start that prints nothing is retried (twice) before the test fails,
        // with what node said on its standard error: seen once in a while on a loaded machine.
        let mut attempts = Vec::new();
        let (child, line) = loop {
            let stderr = tempfile::NamedTempFile::new().unwrap();
            let mut command = StdCommand::new("node");
            command
                .arg(folder.join("server.mjs"))
                .args([tenant, client])
                .arg(cert_pem)
                .args([secret_client, secret])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(stderr.reopen().unwrap());
            if let Some(tls) = tls {
                command.env("TLS_CERT", &tls.cert).env("TLS_KEY", &tls.key);
            }
            command.envs(env.iter().copied());
            let mut child = command.spawn().expect("node starts");
            let stdout = child.stdout.take().unwrap();
            let (sender, receiver) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line);
                let _ = sender.send(line);
            });
            match receiver.recv_timeout(std::time::Duration::from_secs(20)) {
                Ok(line) => break (child, line),
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    attempts.push(std::fs::read_to_string(stderr.path()).unwrap_or_default());
                    if attempts.len() == 3 {
                        panic!("oidc-provider printed nothing within 20 s, three times; its stderr: {attempts:?}");
                    }
                }
            }
        };
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("oidc-provider did not start: {line:?}"));
        Some(OidcServer {
            child,
            port,
            scheme: if tls.is_some() { "https" } else { "http" },
        })
    }

    pub fn authority(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

    /// The tenant's signing keys, where Entra serves them.
    pub fn jwks(&self, tenant: &str) -> String {
        format!("{}/{tenant}/discovery/v2.0/keys", self.authority())
    }
}

impl Drop for OidcServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn tokens_from_a_real_oauth_server_with_a_certificate_and_a_secret_then_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let pw = credential(dir.path());
    let secret = "s3cret-value-for-the-test";
    let Some(server) = OidcServer::start(
        &dir.path().join("daemon.pem"),
        "99999999-8888-4777-8666-555555555555",
        secret,
    ) else {
        return;
    };
    let token = |extra: &[&str], client: &str| {
        keycred()
            .env_remove("KEYCRED_CLIENT_SECRET")
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .args(["token", "--tenant", TENANT, "--client-id", client])
            .args([
                "--scope",
                "api://keycred-test/.default",
                "--authority",
                &server.authority(),
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    // Both algorithms, from the PFX and from key + certificate: oidc-provider verifies each assertion against the
    // certificate registered for the client, and its aud against its token endpoint URL.
    let pfx = dir.path().join("daemon.pfx");
    for (alg, args) in [
        (
            "PS256",
            vec![
                "--pfx".to_owned(),
                pfx.display().to_string(),
                "--password-file".into(),
                pw.display().to_string(),
            ],
        ),
        (
            "RS256",
            vec![
                "--key".to_owned(),
                dir.path().join("daemon.key").display().to_string(),
                "--cert".into(),
                dir.path().join("daemon.cer").display().to_string(),
            ],
        ),
    ] {
        let mut extra: Vec<&str> = args.iter().map(String::as_str).collect();
        extra.extend(["--alg", alg, "--json"]);
        let out = token(&extra, CLIENT);
        assert_no_secrets(&out, dir.path(), &[]);
        let doc = json(&out);
        assert_eq!(doc["token_type"], "Bearer", "{alg}");
        assert!(doc["expires_in"].as_i64().unwrap() > 3000, "{doc}");
        assert_eq!(doc["fromCache"], false);
    }

    // A client secret, from a file and from the environment, never printed.
    let secret_file = dir.path().join("secret.txt");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    let out = token(
        &["--client-secret-file", secret_file.to_str().unwrap()],
        "99999999-8888-4777-8666-555555555555",
    );
    let access_token = stdout(&out).trim().to_owned();
    assert_no_secrets(&out, dir.path(), &[secret]);
    let from_env = keycred()
        .env("KEYCRED_CLIENT_SECRET", secret)
        .args([
            "token",
            "--tenant",
            TENANT,
            "--client-id",
            "99999999-8888-4777-8666-555555555555",
        ])
        .args([
            "--scope",
            "api://keycred-test/.default",
            "--authority",
            &server.authority(),
        ])
        .output()
        .unwrap();
    assert_no_secrets(&from_env, dir.path(), &[secret]);
    assert_eq!(stdout(&from_env).lines().count(), 1);

    // The access token, checked as an API would, with the server's keys from its JWKS URL.
    let jwks = server.jwks(TENANT);
    let decode = |extra: &[&str]| {
        keycred()
            .args(["decode", "-", "--jwks", &jwks])
            .args(extra)
            .write_stdin(access_token.clone())
            .output()
            .unwrap()
    };
    let text = stdout(&decode(&[
        "--audience",
        API_APP_ID,
        "--require-role",
        "Orders.Read",
    ]));
    assert!(text.contains("roles         Orders.Read"), "{text}");
    assert!(text.contains("verified      yes: signature"), "{text}");
    assert_fails(
        &decode(&["--require-role", "Orders.Write"]),
        1,
        "missing role \"Orders.Write\"",
    );
    assert_fails(&decode(&["--audience", "api://other"]), 1, "audience");
    // A wrong secret is the server's invalid_client, shown with its description.
    std::fs::write(&secret_file, "wrong\n").unwrap();
    let out = token(
        &["--client-secret-file", secret_file.to_str().unwrap()],
        "99999999-8888-4777-8666-555555555555",
    );
    assert_fails(
        &out,
        1,
        "the token endpoint refused the request: invalid_client",
    );
}

// ---- Entra's errors and the cache, against a loopback server that counts requests ----

/// A tiny HTTP server on 127.0.0.1: answers each request with `respond(path, body)` and counts them.
struct Loopback {
    port: u16,
    count: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Loopback {
    fn start(respond: impl Fn(&str, &str) -> (u16, String) + Send + 'static) -> Loopback {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let (c, b) = (count.clone(), bodies.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_owned();
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                    if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let body = String::from_utf8_lossy(&body).into_owned();
                c.fetch_add(1, Ordering::SeqCst);
                b.lock().unwrap().push(body.clone());
                let (status, answer) = respond(&path, &body);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        Loopback {
            port,
            count,
            bodies,
        }
    }

    fn authority(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

fn entra_body(code: u32, message: &str) -> String {
    json!({
        "error": if code == 7000215 || code == 700027 { "invalid_client" } else { "invalid_request" },
        "error_description": format!("AADSTS{code}: {message}\r\nTrace ID: 0000 Correlation ID: c-{code} Timestamp: 2026-11-29"),
        "error_codes": [code],
        "timestamp": "2026-11-29 10:00:00Z",
        "trace_id": "trace-1",
        "correlation_id": format!("c-{code}"),
    })
    .to_string()
}

#[test]
fn entra_errors_are_explained_with_a_hint_for_each_common_code() {
    let dir = tempfile::tempdir().unwrap();
    credential(dir.path());
    let server = Loopback::start(|path, _| {
        // The tenant names the code: /t700027.example.com/oauth2/v2.0/token.
        let code: u32 = path
            .trim_start_matches("/t")
            .split(['/', '.'])
            .next()
            .unwrap()
            .parse()
            .unwrap();
        (400, entra_body(code, "Entra's own words."))
    });
    let thumbprint = keycred()
        .args(["thumbprint", "--form", "hex"])
        .arg(dir.path().join("daemon.cer"))
        .output()
        .unwrap();
    let hex = stdout(&thumbprint).trim().to_owned();
    for (code, hint) in [
        (700027u32, hex.as_str()),
        (700024, "check this machine's clock"),
        (700023, "check --authority"),
        (7000215, "the client secret is wrong"),
        (7000222, "the client secret has expired"),
        (700016, "check --client-id"),
        (500011, "application ID URI"),
        (1002012, "the resource's .default scope"),
        (50012, "signature or format"),
        (50027, "signature or format"),
    ] {
        let out = keycred()
            .args([
                "token",
                "--tenant",
                &format!("t{code}.example.com"),
                "--client-id",
                CLIENT,
            ])
            .args([
                "--scope",
                "api://orders/.default",
                "--authority",
                &server.authority(),
                "--key",
            ])
            .arg(dir.path().join("daemon.key"))
            .arg("--cert")
            .arg(dir.path().join("daemon.cer"))
            .output()
            .unwrap();
        assert_fails(
            &out,
            1,
            &format!("(AADSTS{code}): Entra's own words. [correlation id c-{code}]"),
        );
        assert_fails(&out, 1, hint);
        assert!(out.stdout.is_empty());
    }
    assert_eq!(server.requests(), 10);
}

#[test]
fn the_cache_answers_without_a_request_per_credential_until_five_minutes_before_expiry() {
    let dir = tempfile::tempdir().unwrap();
    credential(dir.path());
    let second = dir.path().join("second");
    std::fs::create_dir(&second).unwrap();
    credential(&second);
    let lifetime = Arc::new(AtomicUsize::new(3600));
    let l = lifetime.clone();
    let server = Loopback::start(move |_, _| {
        let n = l.load(Ordering::SeqCst);
        (200, json!({"token_type": "Bearer", "expires_in": n, "access_token": format!("token-{n}-{}", uuid::Uuid::new_v4())}).to_string())
    });
    let cache = dir.path().join("xdg-cache");
    let token = |cred: &Path| {
        keycred()
            .env("XDG_CACHE_HOME", &cache)
            .args([
                "token",
                "--tenant",
                TENANT,
                "--client-id",
                CLIENT,
                "--cache",
                "--json",
            ])
            .args([
                "--scope",
                "api://orders/.default",
                "--authority",
                &server.authority(),
                "--key",
            ])
            .arg(cred.join("daemon.key"))
            .arg("--cert")
            .arg(cred.join("daemon.cer"))
            .output()
            .unwrap()
    };
    let first = json(&token(dir.path()));
    assert_eq!(
        (first["fromCache"].clone(), server.requests()),
        (json!(false), 1)
    );
    let again = json(&token(dir.path()));
    assert_eq!(again["fromCache"], true);
    assert_eq!(again["access_token"], first["access_token"]);
    assert_eq!(server.requests(), 1, "a hit makes no request");
    // The assertion in the first request was signed with the first certificate.
    assert!(server.bodies.lock().unwrap()[0].contains("client_assertion="));

    // Another certificate for the same app is never answered with the old one's token.
    let other = json(&token(&second));
    assert_eq!(other["fromCache"], false);
    assert_eq!(server.requests(), 2);

    // The cache file: owner-only, in $XDG_CACHE_HOME/keycred, no credential material.
    let file = cache.join("keycred/tokens.json");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("PRIVATE KEY") && !text.contains(PASSWORD));

    // A token that expires within five minutes is fetched again.
    lifetime.store(200, Ordering::SeqCst);
    let third = dir.path().join("third");
    std::fs::create_dir(&third).unwrap();
    credential(&third);
    json(&token(&third));
    assert_eq!(server.requests(), 3);
    let refreshed = json(&token(&third));
    assert_eq!(
        refreshed["fromCache"], false,
        "within 5 minutes of expiry: refreshed"
    );
    assert_eq!(server.requests(), 4);

    // Concurrent runs share the cache without corrupting it.
    let children: Vec<_> = (0..6)
        .map(|_| {
            let mut cmd = StdCommand::new(assert_cmd::cargo::cargo_bin("keycred"));
            cmd.env("XDG_CACHE_HOME", &cache)
                .args([
                    "token",
                    "--tenant",
                    TENANT,
                    "--client-id",
                    CLIENT,
                    "--cache",
                ])
                .args([
                    "--scope",
                    "api://orders/.default",
                    "--authority",
                    &server.authority(),
                    "--key",
                ])
                .arg(dir.path().join("daemon.key"))
                .arg("--cert")
                .arg(dir.path().join("daemon.cer"))
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let parsed: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(parsed["tokens"].as_object().unwrap().len() >= 2, "{parsed}");
    assert_eq!(server.requests(), 4, "all six were cache hits");
}

#[test]
fn token_usage_errors_make_no_request() {
    let dir = tempfile::tempdir().unwrap();
    credential(dir.path());
    let server = Loopback::start(|_, _| (500, String::new()));
    let run = |extra: &[&str]| {
        keycred()
            .env_remove("KEYCRED_CLIENT_SECRET")
            .args(["token", "--tenant", TENANT, "--client-id", CLIENT])
            .args(extra)
            .output()
            .unwrap()
    };
    let key = dir.path().join("daemon.key").display().to_string();
    let cert = dir.path().join("daemon.cer").display().to_string();
    let authority = server.authority();
    for (args, code, expected) in [
        (
            vec![
                "--scope",
                "api://orders/Orders.Read",
                "--authority",
                &authority,
                "--key",
                &key,
                "--cert",
                &cert,
            ],
            2,
            "app-only token carries the app roles",
        ),
        (
            vec![
                "--scope",
                "api://orders/.default",
                "--authority",
                "http://10.1.2.3",
                "--key",
                &key,
                "--cert",
                &cert,
            ],
            2,
            "only for this machine",
        ),
        (
            vec![
                "--scope",
                "api://orders/.default",
                "--authority",
                &authority,
            ],
            2,
            "KEYCRED_CLIENT_SECRET",
        ),
    ] {
        assert_fails(&run(&args), code, expected);
    }
    assert_eq!(server.requests(), 0);

    // Nothing listening: a clear message, exit 1.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let out = run(&[
        "--scope",
        "api://orders/.default",
        "--authority",
        &format!("http://127.0.0.1:{port}"),
        "--key",
        &key,
        "--cert",
        &cert,
    ]);
    assert_fails(&out, 1, "cannot connect to http://127.0.0.1");

    // A server that never answers: the time-out.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let out = run(&[
        "--scope",
        "api://orders/.default",
        "--authority",
        &format!("http://127.0.0.1:{port}"),
        "--key",
        &key,
        "--cert",
        &cert,
        "--timeout",
        "1",
    ]);
    assert_fails(&out, 1, "no answer from http://127.0.0.1:");
    assert_fails(&out, 1, "/oauth2/v2.0/token within 1 s");
    drop(silent);

    // TLS to something that does not speak it: a TLS failure, said as one.
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_port = plain.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = plain.accept() {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    });
    let out = run(&[
        "--scope",
        "api://orders/.default",
        "--authority",
        &format!("https://127.0.0.1:{plain_port}"),
        "--key",
        &key,
        "--cert",
        &cert,
    ]);
    assert_fails(&out, 1, "TLS with https://127.0.0.1:");
}

// ---- decode ----

/// Tokens and a JWKS made by PyJWT with the fixture key (kid "k1").
fn python_tokens(dir: &Path) -> Value {
    let script = r#"
import json, sys, time, jwt
from cryptography.hazmat.primitives import serialization
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
open(sys.argv[2], "w").write(json.dumps({"keys": [jwk]}))
now = int(time.time())
base = {"aud": "api://orders", "iss": "https://login.microsoftonline.com/t/v2.0", "roles": ["Orders.Read"],
        "azp": "c", "tid": "t", "ver": "2.0", "idtyp": "app", "nbf": now - 60, "exp": now + 3600}
def sign(claims, kid="k1"): return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
good = sign(base)
h, c, s = good.split(".")
print(json.dumps({
  "good": good,
  "tampered": h + "." + jwt.utils.base64url_encode(json.dumps({**base, "roles": ["Orders.Admin"]}).encode()).decode() + "." + s,
  "expired": sign({**base, "nbf": now - 7200, "exp": now - 3600}),
  "unknown_kid": sign(base, kid="k2"),
}))
"#;
    serde_json::from_str(&run_peer(
        "python3",
        &[
            "-c",
            script,
            fixture("openssl-rsa.key").to_str().unwrap(),
            dir.join("jwks.json").to_str().unwrap(),
        ],
    ))
    .unwrap()
}

#[test]
fn decode_checks_tokens_as_an_api_would() {
    if !peer_available("python3", &["-c", "import jwt, cryptography"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tokens = python_tokens(dir.path());
    let jwks = dir.path().join("jwks.json");
    let jwks_text = std::fs::read_to_string(&jwks).unwrap();
    let served = Loopback::start(move |_, _| (200, jwks_text.clone()));
    let url = format!("{}/discovery/v2.0/keys", served.authority());
    let decode = |token: &str, extra: &[&str]| {
        keycred()
            .args(["decode", "-"])
            .args(extra)
            .write_stdin(token.to_owned())
            .output()
            .unwrap()
    };
    let t = |name: &str| tokens[name].as_str().unwrap().to_owned();
    let checks = [
        "--audience",
        "api://orders",
        "--issuer",
        "https://login.microsoftonline.com/t/v2.0",
        "--require-role",
        "Orders.Read",
    ];

    for source in [jwks.to_str().unwrap(), url.as_str()] {
        let mut args = vec!["--jwks", source];
        args.extend(checks);
        let out = decode(&t("good"), &args);
        let text = stdout(&out);
        assert!(
            text.contains("verified      yes: signature, exp/nbf (5 min skew), aud = api://orders"),
            "{text}"
        );
        assert!(
            text.contains("exp           ") && text.contains("(in 59 min)")
                || text.contains("(in 60 min)"),
            "{text}"
        );
        assert_fails(
            &decode(&t("tampered"), &["--jwks", source]),
            1,
            "signature: it does not verify",
        );
        assert_fails(&decode(&t("expired"), &["--jwks", source]), 1, "expired");
        assert_fails(
            &decode(&t("unknown_kid"), &["--jwks", source]),
            1,
            "kid \"k2\" is not in the JWKS (it has k1)",
        );
    }
    assert_eq!(served.requests(), 4);
    assert_fails(
        &decode(
            &t("good"),
            &[
                "--jwks",
                jwks.to_str().unwrap(),
                "--audience",
                "api://other",
            ],
        ),
        1,
        "audience: the token's aud is \"api://orders\"",
    );
    assert_fails(
        &decode(
            &t("good"),
            &[
                "--jwks",
                jwks.to_str().unwrap(),
                "--issuer",
                "https://sts.windows.net/t/",
            ],
        ),
        1,
        "issuer: the token's iss is",
    );
    assert_fails(
        &decode(
            &t("good"),
            &[
                "--jwks",
                jwks.to_str().unwrap(),
                "--require-role",
                "Orders.Write",
            ],
        ),
        1,
        "missing role \"Orders.Write\": the token's roles are [Orders.Read]",
    );
    // The signer's certificate verifies too; a different certificate does not.
    let out = decode(
        &t("good"),
        &[
            "--verify-cert",
            fixture("openssl-rsa.cer").to_str().unwrap(),
        ],
    );
    assert!(stdout(&out).contains("verified      yes"));
    let other = tempfile::tempdir().unwrap();
    credential(other.path());
    assert_fails(
        &decode(
            &t("good"),
            &[
                "--verify-cert",
                other.path().join("daemon.cer").to_str().unwrap(),
            ],
        ),
        1,
        "signature",
    );

    // From standard input, as JSON; without a key nothing is verified but the token is shown.
    let out = keycred()
        .args(["decode", "-", "--json"])
        .write_stdin(t("good"))
        .output()
        .unwrap();
    let doc = json(&out);
    assert_eq!(doc["verified"], false);
    assert_eq!(doc["claims"]["roles"], json!(["Orders.Read"]));
    assert!(doc["times"]["exp"].as_str().unwrap().ends_with("min)"));
    // A token on the command line is refused (every user of the machine sees it), naming the two ways that work;
    // a file holding it is read.
    let on_argv = keycred().args(["decode", &t("good")]).output().unwrap();
    assert_fails(
        &on_argv,
        2,
        "on the command line, where every user of the machine can see it",
    );
    assert_fails(&on_argv, 2, "keycred decode - < token.txt");
    assert!(
        !String::from_utf8_lossy(&on_argv.stderr).contains(&t("good")),
        "the refusal does not repeat the token"
    );
    let file = dir.path().join("token.txt");
    std::fs::write(&file, format!("{}\n", t("good"))).unwrap();
    let from_file = keycred()
        .arg("decode")
        .arg(&file)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(json(&from_file)["claims"]["roles"], json!(["Orders.Read"]));
    assert_fails(
        &keycred().args(["decode", "missing.txt"]).output().unwrap(),
        1,
        "missing.txt",
    );
    // Malformed input and a JWKS URL that is not https.
    assert_fails(&decode("not-a-token", &[]), 1, "not a JWT");
    assert_fails(
        &decode(&t("good"), &["--jwks", "http://example.com/keys"]),
        2,
        "must be https://",
    );
}
