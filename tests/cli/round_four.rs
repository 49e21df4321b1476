//! The last of the first-admin harms (issue 26): plans that make no keys, a printed manifest that says so and is
//! finished by the next run, SANs carried by a CA rotation, a stopped tenant run finished by the next one, and
//! doctor's fixes that run as printed.

use serde_json::Value;

use crate::common::*;

/// The `+ add` line of a rotation's text.
fn add_line(text: &str) -> &str {
    text.lines()
        .find(|l| l.trim_start().starts_with("+ add"))
        .unwrap_or_else(|| panic!("no + add line in {text}"))
}

fn has_thumbprint(line: &str) -> bool {
    line.split_whitespace()
        .any(|w| w.len() == 40 && w.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn a_dry_run_makes_no_key_and_shows_no_thumbprint_it_would_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = ManifestBuilder::realistic()
        .ranges(&[(-300, 10)], |i| format!("CN=credential {i}"))
        .write(&dir.path().join("app.json"));
    let run = |extra: &[&str]| {
        keycred()
            .args(["rotate", "--manifest"])
            .arg(&manifest)
            .args(["--no-pfx", "--out"])
            .arg(dir.path().join("certs"))
            .args(extra)
            .output()
            .unwrap()
    };
    let text = stdout(&run(&["--dry-run"]));
    let line = add_line(&text);
    assert!(
        !has_thumbprint(line) && line.contains("made when run without --dry-run"),
        "a plan shows no thumbprint it will not write: {text}"
    );
    let json = output_json(&run(&["--dry-run", "--json"]));
    assert_eq!(json["added"]["thumbprints"], Value::Null, "{json}");
    assert_eq!(json["added"]["keyId"], Value::Null, "{json}");
    assert_eq!(json["added"]["madeWhenApplied"], true, "{json}");
    assert!(json["added"]["endDateTime"].is_string(), "{json}");
    assert!(!dir.path().join("certs").exists());
    // The run itself makes the certificate and shows it.
    let applied = output_json(&run(&["--in-place", "--json"]));
    assert!(applied["added"]["thumbprints"].is_object(), "{applied}");
}

mod tenant {
    use serde_json::Value;

    use super::{add_line, has_thumbprint};
    use crate::common::*;
    use crate::graph::{held, live_tenant, node_ready, tenant_apps};

    #[test]
    fn a_plan_makes_no_key_and_shows_no_thumbprint_it_would_not_upload() {
        if !node_ready() {
            return;
        }
        let Some(tenant) = live_tenant(
            tenant_apps(2).as_array().unwrap().clone(),
            "Application.ReadWrite.All",
        ) else {
            return;
        };
        let certs = tenant.dir.path().join("certs");
        let run = |extra: &[&str]| {
            tenant
                .keycred("rotate")
                .args(["--app", "20000000-0000-4000-8000-000000000001", "--no-pfx"])
                .arg("--out")
                .arg(&certs)
                .args(extra)
                .output()
                .unwrap()
        };
        let text = stdout(&run(&[]));
        let line = add_line(&text);
        assert!(
            !has_thumbprint(line) && line.contains("made with --apply"),
            "{text}"
        );
        assert!(text.contains("would write"), "{text}");
        let plan = output_json(&run(&["--json"]));
        let added = &plan["apps"][0]["added"];
        assert_eq!(added["thumbprint"], Value::Null, "{plan}");
        assert_eq!(added["madeWhenApplied"], true, "{plan}");
        assert!(!certs.exists(), "a plan writes nothing");
        let applied = output_json(&run(&["--apply", "--json"]));
        let added = &applied["apps"][0]["added"];
        assert_eq!(
            added["thumbprint"].as_str().map(str::len),
            Some(40),
            "{applied}"
        );
        assert!(held(&tenant, "10000000-0000-4000-8000-000000000001")
            .iter()
            .any(|k| k["keyId"] == added["keyId"]));
    }

    #[test]
    fn a_run_stopped_after_its_add_landed_is_finished_by_the_next_run() {
        if !node_ready() {
            return;
        }
        let Some(tenant) = live_tenant(
            tenant_apps(2).as_array().unwrap().clone(),
            "Application.ReadWrite.All",
        ) else {
            return;
        };
        let certs = tenant.dir.path().join("certs");
        let run = |args: &[&str]| {
            output_json(
                &tenant
                    .keycred("rotate")
                    .args(args)
                    .args(["--no-pfx", "--apply", "--json", "--out"])
                    .arg(&certs)
                    .output()
                    .unwrap(),
            )
        };
        // The state a SIGKILL leaves after the add landed and before --verify ran: the app holds the new
        // certificate, nothing has signed in with it.
        let app1 = ["--app", "20000000-0000-4000-8000-000000000001"];
        let first = run(&app1);
        assert_eq!(first["apps"][0]["result"], "rotated", "{first}");
        let added = first["apps"][0]["added"]["keyId"].clone();
        // Run again as README says: the addition is verified, not "skipped: not due".
        let again = run(&[&app1[..], &["--verify"]].concat());
        let app = &again["apps"][0];
        assert_eq!(
            (app["result"].as_str(), app["verified"].as_bool()),
            (Some("finished"), Some(true)),
            "{again}"
        );
        assert_eq!(app["finishing"], added);
        // Once finished, it is done.
        let third = run(&[&app1[..], &["--verify"]].concat());
        assert_eq!(third["apps"][0]["result"], "skipped", "{third}");

        // An app rolling its own key: the stopped run is finished with the retirement it asked for.
        let own = ["--self", "--app", crate::graph::AUTOMATION];
        let added = run(&[&own[..], &["--force-renewal"]].concat());
        assert_eq!(added["apps"][0]["result"], "rotated", "{added}");
        assert_eq!(
            held(&tenant, "40000000-0000-4000-8000-000000000001").len(),
            2
        );
        let finished = run(&[&own[..], &["--verify", "--retire-previous"]].concat());
        let app = &finished["apps"][0];
        assert_eq!(app["result"], "finished", "{finished}");
        assert_eq!(
            app["retired"], "50000000-0000-4000-8000-000000000001",
            "{finished}"
        );
        let left = held(&tenant, "40000000-0000-4000-8000-000000000001");
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(left[0]["keyId"], added["apps"][0]["added"]["keyId"]);
    }
}

#[test]
fn a_printed_manifest_says_so_and_the_next_run_adds_the_certificate_made_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str| {
        ManifestBuilder::realistic()
            .ranges(&[(-300, 10)], |i| format!("CN=credential {i}"))
            .write(&dir.path().join(name))
    };
    let manifest = make("app.json");
    let other = make("other.json");
    let certs = dir.path().join("certs");
    let run = |manifest: &std::path::Path, extra: &[&str]| {
        keycred()
            .args(["rotate", "--manifest"])
            .arg(manifest)
            .args(["--no-pfx", "--json", "--out"])
            .arg(&certs)
            .args(extra)
            .output()
            .unwrap()
    };
    let text = keycred()
        .args(["rotate", "--manifest"])
        .arg(&manifest)
        .args(["--no-pfx", "--out"])
        .arg(&certs)
        .output()
        .unwrap();
    assert!(
        text.status.success(),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    let said = String::from_utf8_lossy(&text.stderr);
    assert!(
        said.contains("only printed") && said.contains("--in-place"),
        "a printed manifest says it was not saved, and how to apply it: {said}"
    );
    let keys = || {
        std::fs::read_dir(&certs)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("key".as_ref()))
            .count()
    };
    let keys_before = keys();
    let applied = output_json(&run(&manifest, &["--in-place"]));
    assert_eq!(keys(), keys_before, "no second key for the same manifest");
    let added = applied["added"]["thumbprints"]["sha1"]
        .as_str()
        .unwrap()
        .to_owned();
    let on_disk: Vec<String> = std::fs::read_dir(&certs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension() == Some("cer".as_ref()))
        .map(|p| stdout(&keycred().arg("thumbprint").arg(&p).output().unwrap()))
        .collect();
    assert!(
        on_disk.iter().any(|t| t.contains(&added)),
        "the certificate added is one made earlier: {added} in {on_disk:?}"
    );
    assert_eq!(
        read_json(&manifest)["keyCredentials"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Another manifest in the same folder gets its own certificate, never this one's.
    let for_other = output_json(&run(&other, &["--in-place"]));
    assert_ne!(for_other["added"]["thumbprints"]["sha1"], added.as_str());
    assert_eq!(keys(), keys_before + 1);
    // A run that asks for another subject gets a certificate of its own.
    let third = make("third.json");
    let printed = run_printed(&third, &certs, "CN=One");
    assert!(printed.status.success());
    let renamed = output_json(&run(&third, &["--in-place", "--subject", "CN=Two"]));
    assert_eq!(renamed["added"]["subject"], "CN=Two", "{renamed}");
}

fn run_printed(
    manifest: &std::path::Path,
    certs: &std::path::Path,
    subject: &str,
) -> std::process::Output {
    keycred()
        .args(["rotate", "--manifest"])
        .arg(manifest)
        .args(["--no-pfx", "--subject", subject, "--out"])
        .arg(certs)
        .output()
        .unwrap()
}

/// The DNS names in a PEM request, as OpenSSL reads them.
fn requested_dns(csr: &std::path::Path) -> String {
    let text = run_peer(
        "openssl",
        &["req", "-in", csr.to_str().unwrap(), "-noout", "-text"],
    );
    text.lines()
        .find(|l| l.contains("DNS:"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[test]
fn a_ca_rotation_carries_the_current_dns_names_and_takes_dns_to_change_them() {
    if !peer_available("openssl", &["version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("current.key");
    let cert = dir.path().join("current.pem");
    run_peer(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
            "-days",
            "10",
            "-subj",
            "/CN=Orders Daemon",
            "-addext",
            "subjectAltName=DNS:a.contoso.com,DNS:b.contoso.com",
        ],
    );
    let fragment = output_json(
        &keycred()
            .args(["manifest", "key-credentials"])
            .arg(&cert)
            .output()
            .unwrap(),
    );
    let manifest_for = |name: &str| {
        ManifestBuilder::realistic()
            .credentials(fragment["keyCredentials"].as_array().unwrap().clone())
            .write(&dir.path().join(name))
    };
    let request = |manifest: &std::path::Path, out: &str, extra: &[&str]| {
        let out = dir.path().join(out);
        let run = keycred()
            .args(["rotate", "--manifest"])
            .arg(manifest)
            .args(["--ca", "--no-pfx", "--in-place", "--out"])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        (run, out)
    };
    let (run, out) = request(&manifest_for("carried.json"), "carried", &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let csr = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension() == Some("csr".as_ref()))
        .unwrap();
    assert_eq!(requested_dns(&csr), "DNS:a.contoso.com, DNS:b.contoso.com");

    let (run, out) = request(
        &manifest_for("changed.json"),
        "changed",
        &["--dns", "c.contoso.com"],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let csr = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension() == Some("csr".as_ref()))
        .unwrap();
    assert_eq!(requested_dns(&csr), "DNS:c.contoso.com");

    let (run, out) = request(&manifest_for("bad.json"), "bad", &["--dns", "bad name!"]);
    assert_eq!(
        run.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stderr).contains("\"bad name!\" is not a DNS name"));
    assert!(!out.exists(), "nothing written for a bad name");
    // --dns belongs to --ca.
    let plain = keycred()
        .args(["rotate", "--manifest"])
        .arg(manifest_for("plain.json"))
        .args(["--dns", "c.contoso.com", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(2));
}

mod doctor_live {
    use serde_json::{json, Value};

    use crate::common::*;
    use crate::graph::{node_ready, Tenant};

    const API: &str = "c0ffee00-1111-4222-8333-444455556666";
    const CLIENT: &str = "d0d0d0d0-1111-4222-8333-444455556666";
    const ROLE: &str = "0f9a3c2b-1d4e-4f5a-8b6c-7d8e9f0a1b2c";

    /// The keycred commands in a fix, each as printed (they end at `; `, `, then` or a closing parenthesis).
    fn commands(fix: &str) -> Vec<String> {
        fix.match_indices("keycred ")
            .map(|(at, _)| {
                let rest = &fix[at..];
                let end = ["; ", ", then", ")"]
                    .iter()
                    .filter_map(|stop| rest.find(stop))
                    .min()
                    .unwrap_or(rest.len());
                rest[..end].to_owned()
            })
            .collect()
    }

    #[test]
    fn every_fix_doctor_prints_in_live_mode_runs_as_printed() {
        if !node_ready() {
            return;
        }
        // The client requests nothing of the API: the fix edits both apps' manifests, read live.
        let apps = json!([
            {"id": "60000000-0000-4000-8000-000000000001", "appId": API, "displayName": "Orders API",
             "servicePrincipal": true,
             "extra": {"identifierUris": ["api://contoso-orders"], "api": {"requestedAccessTokenVersion": 2},
                       "appRoles": [{"allowedMemberTypes": ["Application"], "description": "Read.", "displayName": "Read",
                                     "id": ROLE, "isEnabled": true, "value": "Orders.Read"}]}},
            {"id": "60000000-0000-4000-8000-000000000002", "appId": CLIENT, "displayName": "Orders Daemon",
             "assignments": [], "extra": {"requiredResourceAccess": []}}
        ]);
        let Some(tenant) = Tenant::start(&apps, "Application.Read.All") else {
            return;
        };
        let out = keycred()
            .current_dir(tenant.dir.path())
            .args(["doctor", "--client-app", CLIENT, "--api-app", API, "--json"])
            .args(tenant.connection())
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let fixes: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["fix"].as_str().unwrap().to_owned())
            .collect();
        let runnable: Vec<String> = fixes.iter().flat_map(|f| commands(f)).collect();
        assert!(
            runnable
                .iter()
                .any(|c| c.starts_with("keycred manifest grant")),
            "{fixes:#?}"
        );
        for fix in &fixes {
            let work = tempfile::tempdir().unwrap();
            for command in commands(fix) {
                let line = command.replacen("keycred", env!("CARGO_BIN_EXE_keycred"), 1);
                let ran = std::process::Command::new("sh")
                    .args(["-c", &line])
                    .current_dir(work.path())
                    .output()
                    .unwrap();
                assert!(
                    ran.status.success(),
                    "{command}\n(from the fix {fix:?}) exited {:?}: {}",
                    ran.status.code(),
                    String::from_utf8_lossy(&ran.stderr)
                );
            }
        }
    }
}

#[test]
fn an_in_place_role_merge_lists_what_it_changed_and_the_next_step() {
    let dir = tempfile::tempdir().unwrap();
    let api = dir.path().join("orders-api.json");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/orders-api.json"),
        &api,
    )
    .unwrap();
    let out = keycred()
        .current_dir(dir.path())
        .args(["manifest", "app-roles", "--merge", "orders-api.json"])
        .args([
            "--role",
            "Orders.Write:Write orders:Create orders.",
            "--disable",
            "Orders.Read",
            "--in-place",
        ])
        .output()
        .unwrap();
    let text = stdout(&out);
    let written = read_json(&api);
    let new_id = written["appRoles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["value"] == "Orders.Write")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.contains(&format!("+ role    {new_id}  Orders.Write  (added)")),
        "{text}"
    );
    assert!(
        text.contains("~ role    5b3f8c2e-1d4a-4e6b-9f7c-2a1b3c4d5e6f  Orders.Read  (disabled)"),
        "{text}"
    );
    assert!(text.contains("orders-api.json.bak"), "{text}");
    let next = text
        .lines()
        .find(|l| l.starts_with("next: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        next.contains("keycred manifest grant --api orders-api.json --client CLIENT.json --role Orders.Write --in-place"),
        "{next}"
    );
    // Printed rather than written: the JSON stays alone on standard output, the summary goes to standard error.
    let printed = keycred()
        .current_dir(dir.path())
        .args([
            "manifest",
            "app-roles",
            "--merge",
            "orders-api.json",
            "--role",
            "Orders.X",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert!(json["appRoles"].is_array());
    assert!(String::from_utf8_lossy(&printed.stderr).contains("printed, not saved"));
}

/// A PFX without a MAC whose one plain safe repeats a shrouded key bag `bags` times, each asking for `rounds`
/// PBKDF2 iterations: `key` (PKCS#8 DER) encrypted with the password `pw`, so that every bag decrypts.
fn costly_pfx(key_der: &[u8], bags: usize, rounds: u32) -> Vec<u8> {
    use der::asn1::{Any, ObjectIdentifier, OctetString};
    use der::{Decode, Encode};
    let oid = |s: &str| ObjectIdentifier::new_unwrap(s);
    let params =
        pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(rounds, &[7; 16], [9; 16])
            .unwrap();
    let key = pkcs12::pbe_params::EncryptedPrivateKeyInfo {
        encryption_algorithm: spki::AlgorithmIdentifierOwned {
            oid: oid("1.2.840.113549.1.5.13"),
            parameters: Some(Any::from_der(&params.to_der().unwrap()).unwrap()),
        },
        encrypted_data: OctetString::new(params.encrypt("pw", key_der).unwrap()).unwrap(),
    };
    let bag = pkcs12::safe_bag::SafeBag {
        bag_id: oid("1.2.840.113549.1.12.10.1.2"),
        bag_value: key.to_der().unwrap(),
        bag_attributes: None,
    };
    let contents: pkcs12::safe_bag::SafeContents = vec![bag; bags];
    let data = |bytes: Vec<u8>| cms::content_info::ContentInfo {
        content_type: oid("1.2.840.113549.1.7.1"),
        content: Any::from_der(&OctetString::new(bytes).unwrap().to_der().unwrap()).unwrap(),
    };
    let safes = vec![data(contents.to_der().unwrap())];
    pkcs12::pfx::Pfx {
        version: pkcs12::pfx::Version::V3,
        auth_safe: data(safes.to_der().unwrap()),
        mac_data: None,
    }
    .to_der()
    .unwrap()
}

#[test]
fn a_pfx_asking_for_endless_key_derivation_is_refused_before_any() {
    let dir = tempfile::tempdir().unwrap();
    let made = keycred()
        .args(["new", "-s", "CN=Costly", "--no-pfx", "--name", "k", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(made.status.success());
    let key = pem::parse(std::fs::read(dir.path().join("k.key")).unwrap())
        .unwrap()
        .into_contents();
    let pfx = dir.path().join("costly.pfx");
    // 20 valid key bags of 1,000,000 rounds: 20 million iterations, many seconds of CPU for nothing.
    std::fs::write(&pfx, costly_pfx(&key, 20, 1_000_000)).unwrap();
    let out = keycred()
        .args(["inspect"])
        .arg(&pfx)
        .env("KEYCRED_PFX_PASSWORD", "pw")
        .output()
        .unwrap();
    assert_fails(&out, 1, "key-derivation iterations in all");
    assert_fails(&out, 1, "costly.pfx");
    // A few cheap bags are read (every key decrypted; it lacks only a certificate).
    std::fs::write(&pfx, costly_pfx(&key, 3, 2048)).unwrap();
    let out = keycred()
        .args(["inspect"])
        .arg(&pfx)
        .env("KEYCRED_PFX_PASSWORD", "pw")
        .output()
        .unwrap();
    assert_fails(&out, 1, "the PFX holds no certificate");
}

#[test]
fn a_failed_write_to_standard_output_fails_the_run() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let manifest = ManifestBuilder::realistic()
        .ranges(&[(-300, 10)], |i| format!("CN=credential {i}"))
        .write(&dir.path().join("app.json"));
    let keycred = || std::process::Command::new(assert_cmd::cargo::cargo_bin("keycred"));
    // A disk that is full: the printed JSON or manifest is cut, and a scheduler must not trust it.
    for args in [
        vec!["check", "--json"],
        vec!["rotate", "--no-pfx", "--out", "certs", "--manifest"],
    ] {
        let out = keycred()
            .current_dir(dir.path())
            .args(&args)
            .arg(&manifest)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_fails(&out, 1, "standard output");
    }
    // A closed pipe (keycred … | head) is no error: the verdict's exit code stands.
    let mut child = keycred()
        .args(["check", "--json"])
        .arg(&manifest)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(3));
}

#[test]
fn a_report_path_that_is_a_link_is_refused_by_graph_rotate_as_by_batch() {
    let dir = tempfile::tempdir().unwrap();
    let earlier = dir.path().join("earlier.json");
    std::fs::write(&earlier, r#"{"applied": true, "apps": []}"#).unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&earlier, &link).unwrap();
    std::fs::write(
        dir.path().join("tok"),
        "eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.c2ln\n",
    )
    .unwrap();
    let out = keycred()
        .current_dir(dir.path())
        .args([
            "graph",
            "rotate",
            "--app",
            "20000000-0000-4000-8000-000000000001",
        ])
        .args([
            "--graph-url",
            "http://127.0.0.1:9",
            "--token-file",
            "tok",
            "--no-pfx",
            "--out",
            "certs",
        ])
        .args(["--report", "link.json"])
        .output()
        .unwrap();
    // Refused before Graph is asked anything (nothing listens on port 9).
    assert_fails(
        &out,
        1,
        "--report link.json exists and is not a graph rotate report",
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("cannot connect"));
}

#[test]
fn tools_lab_names_its_usage_and_stops_only_what_it_started() {
    let lab = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/lab");
    let wrong = std::process::Command::new(&lab)
        .arg("begin")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr)
        .contains("usage: tools/lab start [DIR] | tools/lab stop [DIR]"));
    let dir = tempfile::tempdir().unwrap();
    let idle = std::process::Command::new(&lab)
        .arg("stop")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(idle.status.success());
    assert!(String::from_utf8_lossy(&idle.stdout).contains("no servers run for"));
    assert!(names_in(dir.path()).is_empty(), "nothing written");
}
