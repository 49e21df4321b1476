//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

/// The keycred binary, with no password in its environment.
pub fn keycred() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("keycred").expect("the keycred binary is built");
    cmd.env_remove("KEYCRED_PFX_PASSWORD");
    // keycred's state (what Graph runs spent per tenant, scan states) goes to this test run's own folder, never
    // the user's; a test that shares state between its runs names its own folder.
    cmd.env(
        "XDG_STATE_HOME",
        std::env::temp_dir().join(format!("keycred-tests-state-{}", std::process::id())),
    );
    cmd
}

/// A file under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The names in a folder, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether a peer tool can run. Missing locally: reported as skipped. Missing with CI=true: a failure,
/// because a check that silently does not run is no check.
pub fn peer_available(program: &str, probe: &[&str]) -> bool {
    let ok = StdCommand::new(program)
        .args(probe)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "peer `{program} {}` is required when CI=true but is not available",
                probe.join(" ")
            );
        }
        eprintln!(
            "SKIPPED: peer `{program} {}` is not available",
            probe.join(" ")
        );
    }
    ok
}

/// Python with the `cryptography` package.
pub fn python_cryptography_available() -> bool {
    peer_available("python3", &["-c", "import cryptography"])
}

/// Runs a peer command, asserting it succeeds, and returns its stdout.
pub fn run_peer(program: &str, args: &[&str]) -> String {
    let output = StdCommand::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} did not start: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("peer output is UTF-8")
}

/// `openssl x509 -fingerprint` as keycred's uppercase hex (colons removed).
pub fn openssl_fingerprint(cert: &Path, inform: &str, digest: &str) -> String {
    let out = run_peer(
        "openssl",
        &[
            "x509",
            "-in",
            cert.to_str().unwrap(),
            "-inform",
            inform,
            "-noout",
            "-fingerprint",
            &format!("-{digest}"),
        ],
    );
    out.trim()
        .split_once('=')
        .expect("openssl prints NAME Fingerprint=HEX")
        .1
        .replace(':', "")
}

/// `openssl req -x509`: a new RSA-2048 key at `key` and a self-signed certificate for it at `cert`, with this
/// subject (`/CN=…`), valid for `days`, and `extra` arguments (`-addext …`).
pub fn openssl_self_signed(key: &Path, cert: &Path, subject: &str, days: &str, extra: &[&str]) {
    let args = [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
        "-subj",
        subject,
        "-days",
        days,
    ];
    run_peer("openssl", &[&args[..], extra].concat());
}

/// OpenSSL as a CA: issues the request `csr` with `ca_cert` and its key, valid 30 days, the request's extensions
/// copied, written to `out` (PEM).
pub fn openssl_issue(csr: &Path, ca_cert: &Path, ca_key: &Path, out: &Path) {
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let args = [
        "x509".to_owned(),
        "-req".into(),
        "-in".into(),
        path(csr),
        "-CA".into(),
        path(ca_cert),
        "-CAkey".into(),
        path(ca_key),
        "-CAcreateserial".into(),
        "-out".into(),
        path(out),
        "-days".into(),
        "30".into(),
        "-copy_extensions".into(),
        "copy".into(),
    ];
    run_peer(
        "openssl",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

/// The subject of a DER certificate as OpenSSL prints it (`subject=` and the RFC 2253 form).
pub fn openssl_subject_der(cert: &Path) -> String {
    run_peer(
        "openssl",
        &[
            "x509",
            "-inform",
            "DER",
            "-noout",
            "-subject",
            "-nameopt",
            "RFC2253",
            "-in",
            cert.to_str().unwrap(),
        ],
    )
}

/// Asserts the run succeeded (showing stderr if not) and returns its stdout.
pub fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "keycred failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Asserts the run succeeded (showing stderr if not) and parses its stdout as JSON.
pub fn json(output: &std::process::Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "keycred failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Runs `keycred new` in `dir` with a generated password and returns its JSON summary.
pub fn new_credential(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let output = keycred()
        .args(["new", "--subject", "CN=Contoso Daemon,O=Contoso", "--out"])
        .arg(dir)
        .args(["--name", "daemon", "--json"])
        .args(extra)
        .output()
        .unwrap();
    json(&output)
}

/// Asserts a failed run: its exit code, that stderr says `expected`, and that it printed no panic.
pub fn assert_fails(output: &std::process::Output, code: i32, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit code; stderr: {stderr}"
    );
    assert!(
        stderr.contains(expected),
        "stderr should contain {expected:?}:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
}

/// Holds an OS lock (`flock`) on `path` from another process, as a running keycred would, until killed.
pub fn hold_lock(path: &str) -> std::process::Child {
    assert!(
        peer_available("flock", &["--version"]),
        "util-linux flock is needed to hold a lock"
    );
    let mut child = StdCommand::new("flock")
        // --no-fork: the flock process itself holds the lock, so killing it really ends the holder.
        .args(["--no-fork", path, "sleep", "60"])
        .spawn()
        .expect("flock starts");
    // Wait until the lock is really held: a non-blocking attempt from here must fail.
    for _ in 0..200 {
        let probe = StdCommand::new("flock")
            .args(["--nonblock", path, "true"])
            .status()
            .unwrap();
        if !probe.success() {
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("flock did not take the lock on {path}");
}

/// The file a rotation wrote in `dir` for `base` and `suffix` (`.cer`, `.pfx.password`, …): rotated files are
/// named `BASE-YYYYMMDD` after the certificate's start date (`-2`, `-3` … when taken). Exactly one must exist.
pub fn rotated_file(dir: &Path, base: &str, suffix: &str) -> PathBuf {
    let found: Vec<String> = names_in(dir)
        .into_iter()
        .filter(|n| {
            n.strip_prefix(base)
                .and_then(|rest| rest.strip_prefix('-'))
                .and_then(|rest| rest.strip_suffix(suffix))
                .is_some_and(|dated| {
                    let (date, number) = dated.split_once('-').unwrap_or((dated, "2"));
                    date.len() == 8
                        && date.bytes().all(|b| b.is_ascii_digit())
                        && number.parse::<u32>().is_ok()
                })
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one rotated {base}-YYYYMMDD{suffix} in {}: {:?}",
        dir.display(),
        names_in(dir)
    );
    dir.join(&found[0])
}

/// `days` from now, as Graph writes dates (RFC 3339, UTC, whole seconds).
pub fn days_from_now(days: i64) -> String {
    keycred::time_fmt::rfc3339_utc(time::OffsetDateTime::now_utc() + time::Duration::days(days))
}

/// One Graph `keyCredentials` entry, valid from `start` to `end` days from now, without its certificate (as Graph
/// returns existing ones: `key: null`). Its `customKeyIdentifier` is the SHA-1 thumbprint of
/// `tests/fixtures/openssl-rsa.pem`.
pub fn key_credential(key_id: &str, display_name: &str, start: i64, end: i64) -> serde_json::Value {
    serde_json::json!({
        "customKeyIdentifier": "VyID1rpdPCiyWx3MPzu/G1T2mWk=",
        "displayName": display_name,
        "endDateTime": days_from_now(end),
        "key": null,
        "keyId": key_id,
        "startDateTime": days_from_now(start),
        "type": "AsymmetricX509Cert",
        "usage": "Verify"
    })
}

/// The one builder of the tests' app manifests: a realistic one from a fixture, or exactly the fields given, with
/// the credentials, roles and fields a test needs.
pub struct ManifestBuilder {
    doc: serde_json::Value,
}

impl ManifestBuilder {
    /// The realistic Graph manifest, `tests/fixtures/manifest-graph.json` (or another fixture of that folder).
    pub fn fixture(name: &str) -> ManifestBuilder {
        ManifestBuilder {
            doc: serde_json::from_slice(&std::fs::read(fixture(name)).unwrap()).unwrap(),
        }
    }

    /// The realistic Graph manifest.
    pub fn realistic() -> ManifestBuilder {
        ManifestBuilder::fixture("manifest-graph.json")
    }

    /// A manifest of exactly these top-level fields.
    pub fn fields(fields: serde_json::Value) -> ManifestBuilder {
        ManifestBuilder { doc: fields }
    }

    /// Its `keyCredentials`.
    pub fn credentials(self, credentials: Vec<serde_json::Value>) -> ManifestBuilder {
        self.field("keyCredentials", serde_json::Value::Array(credentials))
    }

    /// `keyCredentials` valid over these day ranges from now (without their certificates, as Graph returns
    /// them): credential i has keyId `00000000-0000-4000-8000-{i:012}`, `subject(i)` as its displayName and a
    /// customKeyIdentifier of its own.
    pub fn ranges(
        self,
        ranges: &[(i64, i64)],
        subject: impl Fn(usize) -> String,
    ) -> ManifestBuilder {
        let credentials = ranges
            .iter()
            .enumerate()
            .map(|(i, (start, end))| {
                let mut entry = key_credential(
                    &format!("00000000-0000-4000-8000-{i:012}"),
                    &subject(i),
                    *start,
                    *end,
                );
                entry["customKeyIdentifier"] = format!(
                    "{}=",
                    char::from(b'A' + u8::try_from(i % 26).unwrap())
                        .to_string()
                        .repeat(27)
                )
                .into();
                entry
            })
            .collect();
        self.credentials(credentials)
    }

    /// One top-level field, set or replaced.
    pub fn field(mut self, name: &str, value: serde_json::Value) -> ManifestBuilder {
        self.doc[name] = value;
        self
    }

    /// A field inside, at a JSON pointer (`/api/requestedAccessTokenVersion`) that the manifest has.
    pub fn set(mut self, pointer: &str, value: serde_json::Value) -> ManifestBuilder {
        *self
            .doc
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("the manifest has no {pointer}")) = value;
        self
    }

    /// The manifest as pretty JSON.
    pub fn text(&self) -> String {
        serde_json::to_string_pretty(&self.doc).unwrap()
    }

    /// Written to `path` (its folder created); returns `path`.
    pub fn write(self, path: &Path) -> PathBuf {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(path, self.text()).unwrap();
        path.to_path_buf()
    }
}

/// The realistic Graph manifest (`tests/fixtures/manifest-graph.json`) with these `keyCredentials`, written to
/// `path` (its folder created); returns `path`.
pub fn graph_manifest(path: &Path, key_credentials: Vec<serde_json::Value>) -> PathBuf {
    ManifestBuilder::realistic()
        .credentials(key_credentials)
        .write(path)
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Standard output as JSON, whatever the exit code (`check` and `doctor` exit non-zero on purpose).
pub fn output_json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `keycred ARGS`, which must succeed; its standard output, trimmed.
pub fn keycred_stdout(args: &[&str]) -> String {
    stdout(&keycred().args(args).output().unwrap())
        .trim()
        .to_owned()
}

/// The Graph manifest of an app whose one credential, `CN=Orders Daemon` (keyId `0f0e0d0c-…-050403020100`),
/// ends in 10 days: due for rotation. Written to `path`; returns `path`.
pub fn due_orders_manifest(path: &Path) -> PathBuf {
    graph_manifest(
        path,
        vec![key_credential(
            "0f0e0d0c-0b0a-4908-8706-050403020100",
            "CN=Orders Daemon",
            -300,
            10,
        )],
    )
}

/// `keycred rotate --manifest MANIFEST --subject 'CN=Orders Daemon' --no-pfx --name orders --out OUT EXTRA…`.
pub fn rotate_orders(manifest: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    keycred()
        .args(["rotate", "--manifest"])
        .arg(manifest)
        .args([
            "--subject",
            "CN=Orders Daemon",
            "--no-pfx",
            "--name",
            "orders",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// A key (PKCS#8 PEM) and a self-signed certificate (PEM) made by Python's `cryptography`, valid from `start` to
/// `end` hours from now: for dates keycred itself refuses to make (a certificate that has ended, or not begun).
pub fn certificate_by_python(key: &Path, cert: &Path, start: i64, end: i64) {
    run_peer(
        "python3",
        &[
            "-c",
            r#"
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Python Daemon")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(hours=int(sys.argv[3])))
        .not_valid_after(now + datetime.timedelta(hours=int(sys.argv[4]))).sign(key, hashes.SHA256()))
open(sys.argv[1], "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
open(sys.argv[2], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
"#,
            key.to_str().unwrap(),
            cert.to_str().unwrap(),
            &start.to_string(),
            &end.to_string(),
        ],
    );
}

/// The commands `keycred help` lists, and those of each command group, as page names (`keycred-graph-rotate`).
pub fn commands(prefix: &[&str]) -> Vec<String> {
    let mut args: Vec<&str> = prefix.to_vec();
    args.push("--help");
    let help = stdout(&keycred().args(&args).output().unwrap());
    let listed: Vec<String> = help
        .split("Commands:\n")
        .nth(1)
        .map(|rest| {
            rest.lines()
                .take_while(|l| l.starts_with("  "))
                // A command's line; its description's wrapped lines are indented further.
                .filter(|l| !l.starts_with("   "))
                .filter_map(|l| l.split_whitespace().next())
                .filter(|name| *name != "help")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut names = Vec::new();
    for name in listed {
        let mut path = prefix.to_vec();
        path.push(&name);
        names.push(format!("keycred-{}", path.join("-")));
        names.extend(commands(&path));
    }
    names
}
