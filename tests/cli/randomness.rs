//! keycred starts fast and its randomness stays sound. aws-lc is built without its CPU-jitter entropy source
//! (`.cargo/config.toml`), which cost every process 10–50 ms at its first random draw; randomness then comes from
//! the operating system's generator alone, as OpenSSL and ring use it. These tests fail if a build of keycred
//! contains the jitter source again (a dependency update that turns it back on), and if any two runs share what
//! must be random: a serial number, a key, a new credential's keyId, an assertion's `jti`, a generated password.

use std::collections::HashSet;
use std::fs;

use crate::common::*;

/// The symbols of aws-lc's jitter entropy source (jitterentropy-library), as they appear, prefixed by aws-lc's
/// version, in a binary's symbol table. Written backwards and turned round at run time, so that this test binary
/// does not contain the names it looks for (the compiler lays string literals side by side, so pieces would
/// join).
const JITTER_SYMBOLS: [&str; 3] = [
    "tini_yportne_tnej",
    "yportne_daer_tnej",
    "colla_rotcelloc_yportne_tnej",
];

/// A symbol every aws-lc build has, backwards too: the check can fail only if symbols are visible at all.
const ALWAYS_THERE: &str = "setyb_DNAR";

fn forwards(backwards: &str) -> String {
    backwards.chars().rev().collect()
}

fn contains(haystack: &[u8], backwards: &str) -> bool {
    let needle = forwards(backwards);
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn no_build_of_keycred_contains_the_cpu_jitter_entropy_source() {
    let binaries = [
        assert_cmd::cargo::cargo_bin("keycred"),
        std::env::current_exe().expect("the test binary's path"),
    ];
    for binary in binaries {
        let bytes = fs::read(&binary).unwrap();
        // The check can fail: aws-lc's own symbols are there to be seen in these (unstripped) binaries.
        assert!(
            contains(&bytes, ALWAYS_THERE),
            "{} has no aws-lc symbols to look at: the check below would prove nothing",
            binary.display()
        );
        for symbol in JITTER_SYMBOLS {
            assert!(
                !contains(&bytes, symbol),
                "{} contains aws-lc's CPU-jitter entropy source ({}): build it with \
                 AWS_LC_SYS_NO_JITTER_ENTROPY=1 (.cargo/config.toml sets it)",
                binary.display(),
                forwards(symbol)
            );
        }
    }
}

#[test]
fn random_values_never_repeat_within_one_process() {
    let serials: HashSet<[u8; 16]> = (0..2000)
        .map(|_| keycred::secret::random_bytes().unwrap())
        .collect();
    assert_eq!(serials.len(), 2000, "serial numbers repeat");
    assert!(
        serials.iter().all(|s| s.iter().any(|b| *b != 0)),
        "an all-zero serial"
    );
    let passwords: HashSet<String> = (0..2000)
        .map(|_| {
            keycred::secret::Password::generate()
                .unwrap()
                .expose()
                .to_owned()
        })
        .collect();
    assert_eq!(passwords.len(), 2000, "generated passwords repeat");
    // Keys (their public moduli) and the keyIds of their certificates.
    let mut moduli = HashSet::new();
    let mut key_ids = HashSet::new();
    for i in 0..12 {
        let request = keycred::credential::CertRequest::new(
            keycred::credential::Subject::parse(&format!("CN=Random {i}")).unwrap(),
            keycred::credential::KeySize::Rsa2048,
            keycred::credential::SignatureHash::Sha256,
            keycred::credential::ValidityEnd::Days(30),
            time::OffsetDateTime::now_utc(),
            keycred::secret::random_bytes().unwrap(),
        )
        .unwrap();
        let made = keycred::provision::create(&request, uuid::Uuid::nil()).unwrap();
        moduli.insert(made.certificate.subject_public_key().to_vec());
        key_ids.insert(made.certificate.key_id());
    }
    assert_eq!(moduli.len(), 12, "keys repeat");
    assert_eq!(key_ids.len(), 12, "keyIds repeat");
}

#[test]
fn random_values_never_repeat_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let mut serials = HashSet::new();
    let mut key_ids = HashSet::new();
    let mut keys = HashSet::new();
    let mut passwords = HashSet::new();
    let runs = 8;
    for i in 0..runs {
        let name = format!("r{i}");
        let out = keycred()
            .args(["new", "--subject", "CN=Random", "--out"])
            .arg(dir.path())
            .args(["--name", &name, "--generate-password", "--json"])
            .output()
            .unwrap();
        let summary = json(&out);
        serials.insert(summary["serial"].as_str().unwrap().to_owned());
        key_ids.insert(summary["keyId"].as_str().unwrap().to_owned());
        keys.insert(fs::read(dir.path().join(format!("{name}.key"))).unwrap());
        passwords.insert(fs::read(dir.path().join(format!("{name}.pfx.password"))).unwrap());
    }
    assert_eq!(
        serials.len(),
        runs,
        "serial numbers repeat across processes"
    );
    assert_eq!(key_ids.len(), runs, "keyIds repeat across processes");
    assert_eq!(keys.len(), runs, "keys repeat across processes");
    assert_eq!(passwords.len(), runs, "passwords repeat across processes");

    // The assertion's jti, and its PSS signature (randomly salted), in fresh processes.
    let mut jtis = HashSet::new();
    let mut signatures = HashSet::new();
    let runs = 20;
    for _ in 0..runs {
        let out = keycred()
            .args([
                "assertion",
                "--tenant",
                "contoso.onmicrosoft.com",
                "--client-id",
                "11111111-2222-3333-4444-555555555555",
                "--key",
            ])
            .arg(dir.path().join("r0.key"))
            .arg("--cert")
            .arg(dir.path().join("r0.pem"))
            .arg("--json")
            .output()
            .unwrap();
        let signed = json(&out);
        jtis.insert(signed["claims"]["jti"].as_str().unwrap().to_owned());
        let token = signed["assertion"].as_str().unwrap().to_owned();
        signatures.insert(token.rsplit('.').next().unwrap().to_owned());
    }
    assert_eq!(jtis.len(), runs, "jti repeats across processes");
    assert_eq!(
        signatures.len(),
        runs,
        "PS256 signatures repeat: the salt is not random"
    );
}
