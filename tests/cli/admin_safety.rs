//! Admin safety, second round: what a first-time admin's rotation destroyed or could not do. Each test is named
//! after the harm or gap it guards, and failed on the main branch before the fix.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::*;

/// The bytes of every file in a folder, by name.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    names_in(dir)
        .into_iter()
        .filter(|n| dir.join(n).is_file())
        .map(|n| {
            let bytes = fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

/// A Graph manifest as the portal writes it for a new app registration: no `api`, no credential.
fn portal_manifest(dir: &Path, name: &str, key_credentials: Value) -> PathBuf {
    ManifestBuilder::fields(json!({
        "id": "2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c10",
        "appId": "6e8b1c2d-3f4a-4b5c-8d9e-0a1b2c3d4e5f",
        "displayName": "Orders Daemon",
        "keyCredentials": key_credentials,
        "requiredResourceAccess": [],
        "signInAudience": "AzureADMyOrg"
    }))
    .write(&dir.join(name))
}

/// `keycred new` in `dir` with the default (CN-derived) name; returns the keyCredentials entries it wrote.
fn current_credential(dir: &Path, extra: &[&str]) -> Value {
    let out = keycred()
        .args(["new", "--subject", "CN=Orders Daemon", "--out"])
        .arg(dir)
        .args(if extra.contains(&"--no-pfx") {
            &["--pem-bundle", "--json"][..]
        } else {
            &["--generate-password", "--pem-bundle", "--json"][..]
        })
        .args(extra)
        .output()
        .unwrap();
    let summary = json(&out);
    let fragment: Value = serde_json::from_slice(
        &fs::read(summary["files"]["keyCredentials"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    fragment["keyCredentials"].clone()
}

/// The public key of a PEM certificate and of a PEM private key, as OpenSSL prints them.
fn openssl_pubkey_of_cert(cert: &Path) -> String {
    run_peer(
        "openssl",
        &["x509", "-in", cert.to_str().unwrap(), "-noout", "-pubkey"],
    )
}

fn openssl_pubkey_of_key(key: &Path) -> String {
    run_peer(
        "openssl",
        &["pkey", "-in", key.to_str().unwrap(), "-pubout"],
    )
}

/// Every base name in `dir` with a `.key` and a `.pem` holds one key pair: OpenSSL derives the same public key
/// from both. A folder never mixes two keys' files under one name.
fn assert_no_mixed_names(dir: &Path) {
    if !peer_available("openssl", &["version"]) {
        return;
    }
    for name in names_in(dir) {
        let Some(base) = name.strip_suffix(".key") else {
            continue;
        };
        let pem = dir.join(format!("{base}.pem"));
        if pem.exists() {
            assert_eq!(
                openssl_pubkey_of_key(&dir.join(&name)),
                openssl_pubkey_of_cert(&pem),
                "{base}.key and {base}.pem hold different keys"
            );
        }
        let bundle = dir.join(format!("{base}.bundle.pem"));
        if bundle.exists() {
            assert_eq!(
                openssl_pubkey_of_key(&bundle),
                openssl_pubkey_of_key(&dir.join(&name)),
                "{base}.bundle.pem and {base}.key hold different keys"
            );
        }
    }
}

#[test]
fn rotation_never_replaces_the_current_credentials_files() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let entries = current_credential(&certs, &[]);
    let manifest = portal_manifest(dir.path(), "app.json", entries);
    let before = snapshot(&certs);
    assert!(before.contains_key("orders-daemon.key"), "{before:?}");

    // The admin's path: rotate into the same folder, then, told the files exist, with --force.
    for extra in [
        &[][..],
        &["--force"][..],
        &["--name", "orders-daemon", "--force"][..],
    ] {
        let out = keycred()
            .args(["rotate", "--manifest"])
            .arg(&manifest)
            .args(["--out"])
            .arg(&certs)
            .args(["--generate-password", "--force-renewal", "--manifest-out"])
            .arg(dir.path().join("next.json"))
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("--force") || stderr.contains("never"),
            "{extra:?}: no advice to use --force on key files: {stderr}"
        );
        let after = snapshot(&certs);
        for (name, bytes) in &before {
            assert_eq!(
                after.get(name),
                Some(bytes),
                "{extra:?}: {name} of the current credential changed"
            );
        }
        assert_no_mixed_names(&certs);
        fs::remove_file(dir.path().join("next.json")).ok();
    }
}

#[test]
fn a_rotated_credential_is_named_after_its_start_date() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let manifest = portal_manifest(dir.path(), "app.json", current_credential(&certs, &[]));
    let today = keycred::time_fmt::rfc3339_utc(
        time::OffsetDateTime::now_utc() - time::Duration::minutes(5),
    )[..10]
        .replace('-', "");
    let rotate = || {
        keycred()
            .args(["rotate", "--manifest"])
            .arg(&manifest)
            .args(["--out"])
            .arg(&certs)
            .args(["--no-pfx", "--force-renewal", "--in-place", "--json"])
            .output()
            .unwrap()
    };
    let first = json(&rotate());
    let key = first["files"]["key"].as_str().unwrap();
    assert!(
        key.ends_with(&format!("orders-daemon-{today}.key")),
        "{first}"
    );
    // The same day again: a name of its own, never the first one's.
    let second = json(&rotate());
    let key2 = second["files"]["key"].as_str().unwrap();
    assert!(
        key2.ends_with(&format!("orders-daemon-{today}-2.key")),
        "{second}"
    );
    assert_no_mixed_names(&certs);
}

/// Every `secrets:` line names only files that exist, and never says to delete the only copy of a private key.
fn assert_secrets_advice_fits(text: &str, dir: &Path) {
    let present = names_in(dir);
    let pfx_present = present.iter().any(|n| n.ends_with(".pfx"));
    let mut lines = 0;
    for line in text.lines().filter(|l| l.starts_with("secrets")) {
        lines += 1;
        for word in line.split([' ', ',', '(', ')']) {
            let word = word.trim_end_matches([':', '.']);
            if let Some(name) = Path::new(word).file_name().and_then(|n| n.to_str()) {
                if [".key", ".pfx", ".pfx.password", ".bundle.pem"]
                    .iter()
                    .any(|s| name.ends_with(s) && name.len() > s.len())
                {
                    assert!(
                        present.iter().any(|p| p == name),
                        "advice names {name}, which was not written: {line}\nfiles: {present:?}"
                    );
                }
            }
        }
        if line.contains("delete") {
            assert!(pfx_present, "advice to delete with no PFX written: {line}");
            assert!(
                !line.contains(".pfx ") || line.contains("import"),
                "never delete the PFX: {line}"
            );
        }
    }
    assert!(lines > 0, "no secrets advice in:\n{text}");
}

#[test]
fn secrets_advice_describes_the_files_written() {
    let cases: [&[&str]; 5] = [
        &["--generate-password"],
        &["--no-pfx"],
        &["--no-pfx", "--pem-bundle"],
        &["--generate-password", "--no-key"],
        &["--generate-password", "--pem-bundle"],
    ];
    for extra in cases {
        // new
        let dir = tempfile::tempdir().unwrap();
        let out = keycred()
            .args(["new", "--subject", "CN=Orders Daemon", "--out"])
            .arg(dir.path())
            .args(extra)
            .output()
            .unwrap();
        assert_secrets_advice_fits(&stdout(&out), dir.path());
        // rotate
        let dir = tempfile::tempdir().unwrap();
        let manifest = portal_manifest(dir.path(), "app.json", json!([]));
        let certs = dir.path().join("certs");
        let out = keycred()
            .args(["rotate", "--manifest"])
            .arg(&manifest)
            .args(["--subject", "CN=Orders Daemon", "--out"])
            .arg(&certs)
            .args(["--in-place"])
            .args(extra)
            .output()
            .unwrap();
        assert_secrets_advice_fits(&stdout(&out), &certs);
    }
    // batch: the advice describes what the plan wrote.
    for (setting, password) in [
        ("no_pfx = true", None),
        ("pem_bundle = true", Some("--generate-password")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("plan.toml"),
            format!("[defaults]\nout = \"certs\"\n{setting}\n\n[[app]]\nname = \"orders\"\nsubject = \"CN=Orders Daemon\"\n"),
        )
        .unwrap();
        let out = keycred()
            .arg("batch")
            .arg(dir.path().join("plan.toml"))
            .args(password)
            .output()
            .unwrap();
        assert_secrets_advice_fits(&stdout(&out), &dir.path().join("certs/orders"));
    }
}

/// An API manifest offering two application roles and one user role.
fn api_manifest(dir: &Path, legacy: bool) -> PathBuf {
    let roles = json!([
        {"allowedMemberTypes": ["Application"], "description": "Read orders.", "displayName": "Read",
         "id": "11111111-1111-4111-8111-111111111111", "isEnabled": true, "value": "Orders.Read"},
        {"allowedMemberTypes": ["Application"], "description": "Write orders.", "displayName": "Write",
         "id": "22222222-2222-4222-8222-222222222222", "isEnabled": true, "value": "Orders.Write"},
        {"allowedMemberTypes": ["User"], "description": "Users.", "displayName": "User",
         "id": "33333333-3333-4333-8333-333333333333", "isEnabled": true, "value": "Orders.User"}
    ]);
    ManifestBuilder::fixture(if legacy {
        "manifest-legacy.json"
    } else {
        "manifest-graph.json"
    })
    .field("appId", json!("aaaaaaaa-0000-4000-8000-000000000001"))
    .field("appRoles", roles)
    .write(&dir.join("api.json"))
}

#[test]
fn grant_merges_the_apis_roles_into_the_clients_manifest() {
    for legacy in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let api = api_manifest(dir.path(), false);
        let fixture_name = if legacy {
            "manifest-legacy.json"
        } else {
            "manifest-graph.json"
        };
        let client = dir.path().join("client.json");
        let mut doc: Value =
            serde_json::from_slice(&fs::read(fixture(fixture_name)).unwrap()).unwrap();
        let key_credentials = if legacy {
            json!([{
                "customKeyIdentifier": "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "endDate": "2030-01-01T00:00:00Z",
                "keyId": "00000000-0000-4000-8000-000000000001",
                "startDate": "2025-01-01T00:00:00Z",
                "type": "AsymmetricX509Cert",
                "usage": "Verify",
                "value": null
            }])
        } else {
            json!([{
                "customKeyIdentifier": "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "displayName": "CN=Orders Daemon",
                "endDateTime": "2030-01-01T00:00:00Z",
                "key": null,
                "keyId": "00000000-0000-4000-8000-000000000001",
                "startDateTime": "2025-01-01T00:00:00Z",
                "type": "AsymmetricX509Cert",
                "usage": "Verify"
            }])
        };
        doc["keyCredentials"] = key_credentials.clone();
        doc["requiredResourceAccess"] = json!([{
            "resourceAppId": "00000003-0000-0000-c000-000000000000",
            "resourceAccess": [{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}]
        }]);
        let original = serde_json::to_string_pretty(&doc).unwrap();
        fs::write(&client, &original).unwrap();

        // One role first, then every application role: the entry is updated, not repeated.
        let out = keycred()
            .args(["manifest", "grant", "--api"])
            .arg(&api)
            .arg("--client")
            .arg(&client)
            .args(["--role", "Orders.Read", "--in-place"])
            .output()
            .unwrap();
        stdout(&out);
        assert_eq!(
            fs::read_to_string(dir.path().join("client.json.bak")).unwrap(),
            original
        );
        let out = keycred()
            .args(["manifest", "grant", "--api"])
            .arg(&api)
            .arg("--client")
            .arg(&client)
            .arg("--in-place")
            .output()
            .unwrap();
        stdout(&out);
        let merged: Value = serde_json::from_slice(&fs::read(&client).unwrap()).unwrap();
        assert_eq!(
            merged["keyCredentials"], key_credentials,
            "certificates kept"
        );
        let rra = merged["requiredResourceAccess"].as_array().unwrap();
        assert_eq!(rra.len(), 2, "{rra:?}");
        assert_eq!(
            rra[0]["resourceAppId"],
            "00000003-0000-0000-c000-000000000000"
        );
        assert_eq!(
            rra[1]["resourceAppId"],
            "aaaaaaaa-0000-4000-8000-000000000001"
        );
        assert_eq!(
            rra[1]["resourceAccess"],
            json!([
                {"id": "11111111-1111-4111-8111-111111111111", "type": "Role"},
                {"id": "22222222-2222-4222-8222-222222222222", "type": "Role"}
            ]),
            "every role offered to applications, not the user role"
        );
        // Every other field, in order, as it was.
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&merged), keys(&doc));
        for (k, v) in doc.as_object().unwrap() {
            if k != "requiredResourceAccess" {
                assert_eq!(&merged[k], v, "{k} kept");
            }
        }

        // Refusals: a role the API does not offer to applications; no output named.
        let out = keycred()
            .args(["manifest", "grant", "--api"])
            .arg(&api)
            .arg("--client")
            .arg(&client)
            .args(["--role", "Orders.User", "--in-place"])
            .output()
            .unwrap();
        assert_fails(&out, 1, "Orders.User");
        let out = keycred()
            .args(["manifest", "grant", "--api"])
            .arg(&api)
            .arg("--client")
            .arg(&client)
            .output()
            .unwrap();
        assert_fails(&out, 2, "--in-place");
    }
}

#[test]
fn force_never_replaces_a_manifest_with_a_fragment() {
    let dir = tempfile::tempdir().unwrap();
    let client = portal_manifest(dir.path(), "client.json", json!([]));
    let before = fs::read(&client).unwrap();
    let out = keycred()
        .args([
            "manifest",
            "app-roles",
            "--template",
            "read-write",
            "--client-app",
            "--resource-app-id",
            "aaaaaaaa-0000-4000-8000-000000000001",
            "--client-out",
        ])
        .arg(&client)
        .arg("--force")
        .output()
        .unwrap();
    assert_fails(&out, 1, "keycred manifest grant");
    assert_eq!(fs::read(&client).unwrap(), before);
}

#[test]
fn a_new_app_registration_can_be_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = portal_manifest(dir.path(), "app.json", json!([]));
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(&manifest)
        .args(["--subject", "CN=Orders Daemon", "--no-pfx", "--out"])
        .arg(dir.path().join("certs"))
        .args(["--in-place", "--json"])
        .output()
        .unwrap();
    let summary = json(&out);
    assert!(summary["added"]["keyId"].is_string(), "{summary}");

    // A manifest nothing can be told from: the error names an option rotate has, and the option works.
    let bare = dir.path().join("bare.json");
    fs::write(&bare, r#"{"keyCredentials": []}"#).unwrap();
    let rotate = |extra: &[&str]| {
        keycred()
            .args(["rotate", "--manifest"])
            .arg(&bare)
            .args(["--subject", "CN=Orders Daemon", "--no-pfx", "--out"])
            .arg(dir.path().join("bare-certs"))
            .args(["--dry-run"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = rotate(&[]);
    assert_fails(&out, 1, "--format graph");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("--force"));
    stdout(&rotate(&["--format", "legacy"]));

    // batch, with the plan's format
    fs::write(
        dir.path().join("plan.toml"),
        "[defaults]\nout = \"certs\"\nno_pfx = true\nformat = \"graph\"\n\n[[app]]\nname = \"bare\"\nsubject = \"CN=Bare\"\nmanifest = \"bare.json\"\n\n[[app]]\nname = \"orders\"\nsubject = \"CN=Orders Daemon\"\nmanifest = \"app.json\"\nrenew_within = 400\n",
    )
    .unwrap();
    let out = keycred()
        .arg("batch")
        .arg(dir.path().join("plan.toml"))
        .arg("--json")
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(report["counts"]["rotated"], 2, "{report}");
}

#[test]
fn a_legacy_manifest_gives_the_subject_from_its_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let made = new_credential(dir.path(), &["--no-pfx", "--format", "legacy"]);
    let fragment: Value = serde_json::from_slice(
        &fs::read(made["files"]["keyCredentials"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert!(fragment["keyCredentials"][0]["value"].is_string());
    let manifest = ManifestBuilder::fixture("manifest-legacy.json")
        .field("keyCredentials", fragment["keyCredentials"].clone())
        .write(&dir.path().join("legacy.json"));
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(&manifest)
        .args([
            "--no-pfx",
            "--force-renewal",
            "--dry-run",
            "--json",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let summary = json(&out);
    assert_eq!(
        summary["added"]["subject"]
            .as_str()
            .unwrap()
            .replace(", ", ","),
        "CN=Contoso Daemon,O=Contoso",
        "{summary}"
    );
}

#[test]
fn one_credential_can_be_removed_by_key_id() {
    let dir = tempfile::tempdir().unwrap();
    let entry = |id: &str, start: i64, end: i64| key_credential(id, "CN=Orders Daemon", start, end);
    const OLD: &str = "00000000-0000-4000-8000-000000000001";
    const NEW: &str = "00000000-0000-4000-8000-000000000002";
    const GONE: &str = "00000000-0000-4000-8000-000000000003";
    let manifest = portal_manifest(
        dir.path(),
        "app.json",
        json!([
            entry(OLD, -300, 60),
            entry(NEW, -1, 364),
            entry(GONE, -400, -5)
        ]),
    );
    let remove = |id: &str, extra: &[&str]| {
        keycred()
            .args(["rotate", "--manifest"])
            .arg(&manifest)
            .args(["--remove-key-id", id, "--in-place"])
            .args(extra)
            .output()
            .unwrap()
    };
    // Still valid: removed with a warning.
    let out = remove(OLD, &[]);
    let text = stdout(&out);
    assert!(text.contains("- remove") && text.contains(OLD), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("still valid"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    let ids: Vec<&str> = doc["keyCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["keyId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [NEW, GONE]);
    // Unknown keyId, and the last valid credential: refused, nothing written.
    let before = fs::read(&manifest).unwrap();
    assert_fails(
        &remove(OLD, &[]),
        1,
        "the app has no credential with that keyId",
    );
    assert_fails(&remove(NEW, &[]), 1, "last valid");
    assert_eq!(fs::read(&manifest).unwrap(), before);
    // An expired one goes without a warning.
    let out = remove(GONE, &[]);
    stdout(&out);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("still valid"));
}

#[test]
fn rotate_next_steps_name_the_old_credential_to_remove() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let manifest = portal_manifest(
        dir.path(),
        "app.json",
        current_credential(&certs, &["--no-pfx"]),
    );
    let old: Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    let old_id = old["keyCredentials"][0]["keyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(&manifest)
        .args(["--no-pfx", "--force-renewal", "--in-place", "--out"])
        .arg(&certs)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains(&format!("--remove-key-id {old_id}")),
        "{text}"
    );
    assert!(!text.contains("--prune-expired"), "{text}");
}

#[test]
fn the_readme_batch_command_runs_twice_from_cron() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("plan.toml"),
        "[defaults]\nout = \"certs\"\n\n[[app]]\nname = \"billing\"\nsubject = \"CN=Billing Daemon\"\n\n[[app]]\nname = \"broken\"\nsubject = \"CN=Broken\"\nmanifest = \"broken.json\"\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("broken.json"),
        "{\"keyCredentials\": 5, \"api\": {}}",
    )
    .unwrap();
    let run = || {
        keycred()
            .current_dir(dir.path())
            .args([
                "batch",
                "plan.toml",
                "--generate-password",
                "--report",
                "report.json",
            ])
            .output()
            .unwrap()
    };
    assert_eq!(run().status.code(), Some(1), "one app fails");
    let first: Value =
        serde_json::from_slice(&fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert!(
        !dir.path().join("certs/broken").exists(),
        "no folder for a failed app"
    );
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second: Value =
        serde_json::from_slice(&fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_ne!(first["startedAt"], Value::Null);
    assert_eq!(second["apps"][0]["result"], "skipped", "{second}");
    assert!(!dir.path().join("certs/broken").exists());
    assert_eq!(
        names_in(dir.path()),
        ["broken.json", "certs", "plan.toml", "report.json"],
        "no report backups or temp files"
    );

    // A report path that holds something else is never replaced.
    let out = keycred()
        .current_dir(dir.path())
        .args([
            "batch",
            "plan.toml",
            "--generate-password",
            "--report",
            "broken.json",
        ])
        .output()
        .unwrap();
    assert_fails(&out, 1, "not a keycred batch report");
    assert_eq!(
        fs::read_to_string(dir.path().join("broken.json")).unwrap(),
        "{\"keyCredentials\": 5, \"api\": {}}"
    );
}

#[test]
fn a_plan_reports_all_its_errors_in_its_own_words() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("plan.toml"),
        "[[app]]\nname = \"a/b\"\nsubject = \"CN=A\"\n\n[[app]]\nname = \"ok\"\nsubject = \"\"\n\n[[app]]\nname = \"c\"\nsubject = \"CN=C\"\nkey_size = 1024\n",
    )
    .unwrap();
    let out = keycred()
        .arg("batch")
        .arg(dir.path().join("plan.toml"))
        .arg("--generate-password")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for expected in ["line 2", "line 6", "line 10", "key size 1024", "subject"] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    assert!(
        !stderr.contains("--name"),
        "plan words, not flags: {stderr}"
    );
}

#[test]
fn api_policy_refuses_roles_entra_refuses_and_v2_uri_audiences() {
    let base = [
        "api-policy",
        "--tenant",
        "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "--token-version",
        "2",
    ];
    let out = keycred()
        .args(base)
        .args([
            "--audience",
            "aaaaaaaa-0000-4000-8000-000000000001",
            "--role",
            "Orders Read",
        ])
        .output()
        .unwrap();
    assert_fails(&out, 2, "Orders Read");
    let out = keycred()
        .args(base)
        .args(["--audience", "api://contoso-orders"])
        .output()
        .unwrap();
    assert_fails(&out, 2, "appId");
    let out = keycred()
        .args(base)
        .args([
            "--audience",
            "aaaaaaaa-0000-4000-8000-000000000001",
            "--role",
            "Orders.Read",
        ])
        .output()
        .unwrap();
    stdout(&out);
}

#[test]
fn messages_that_stopped_short_now_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = portal_manifest(dir.path(), "app.json", json!([]));
    // inspect on a manifest
    let out = keycred().arg("inspect").arg(&manifest).output().unwrap();
    assert_fails(&out, 1, "keycred check");
    // rotate --manifest CERT
    new_credential(dir.path(), &["--no-pfx"]);
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(dir.path().join("daemon.cer"))
        .args(["--dry-run"])
        .output()
        .unwrap();
    assert_fails(&out, 1, "pass it as --cert");
    // connection errors show the URL tried
    let out = keycred()
        .args([
            "token",
            "--tenant",
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "--client-id",
            "aaaaaaaa-0000-4000-8000-000000000001",
            "--cert",
        ])
        .arg(dir.path().join("daemon.pem"))
        .arg("--key")
        .arg(dir.path().join("daemon.key"))
        .args([
            "--scope",
            "api://x/.default",
            "--authority",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_fails(
        &out,
        1,
        "http://127.0.0.1:9/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token",
    );
    // --no-pfx --no-key says why
    let out = keycred()
        .args(["new", "--subject", "X", "--no-pfx", "--no-key", "--out"])
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert_fails(&out, 2, "nowhere");
    // assertion: the client id must be a GUID, the tenant a GUID or a domain
    for (flag, value, expected) in [
        ("--client-id", "not-a-guid", "--client-id"),
        ("--tenant", "t", "--tenant"),
    ] {
        let mut args = vec![
            "assertion",
            "--tenant",
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "--client-id",
            "aaaaaaaa-0000-4000-8000-000000000001",
        ];
        let at = args.iter().position(|a| *a == flag).unwrap();
        args[at + 1] = value;
        let out = keycred()
            .args(&args)
            .arg("--cert")
            .arg(dir.path().join("daemon.pem"))
            .arg("--key")
            .arg(dir.path().join("daemon.key"))
            .output()
            .unwrap();
        assert_fails(&out, 2, expected);
    }
    // check: an invalid manifest is not "healthy"
    let entry = key_credential("00000000-0000-4000-8000-000000000001", "CN=A", -1, 200);
    let dup = portal_manifest(dir.path(), "dup.json", json!([entry.clone(), entry]));
    let out = keycred().arg("check").arg(&dup).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("INVALID") && !text.contains("healthy"),
        "{text}"
    );
}

#[test]
fn decode_json_keeps_the_claims_as_the_token_has_them() {
    let dir = tempfile::tempdir().unwrap();
    new_credential(dir.path(), &["--no-pfx"]);
    let assertion = stdout(
        &keycred()
            .args([
                "assertion",
                "--tenant",
                "72f988bf-86f1-41af-91ab-2d7cd011db47",
                "--client-id",
                "aaaaaaaa-0000-4000-8000-000000000001",
                "--cert",
            ])
            .arg(dir.path().join("daemon.pem"))
            .arg("--key")
            .arg(dir.path().join("daemon.key"))
            .output()
            .unwrap(),
    );
    let token = assertion.trim().to_owned();
    let text = stdout(
        &keycred()
            .args(["decode", "-"])
            .write_stdin(token.clone())
            .output()
            .unwrap(),
    );
    let claims = text
        .split("\nclaims\n")
        .nth(1)
        .and_then(|rest| rest.split("\ntimes (UTC)\n").next())
        .unwrap_or_else(|| panic!("claims, then times (UTC):\n{text}"));
    let claims: Value = serde_json::from_str(claims).expect("the claims block is the token's JSON");
    assert!(
        claims.as_object().unwrap().keys().all(|k| !k.contains(' ')),
        "{claims}"
    );
    assert!(claims["exp"].is_i64());
    assert!(text.contains("times (UTC)\n  iat  "), "{text}");
    let decoded = json(
        &keycred()
            .args(["decode", "--json", "-"])
            .write_stdin(token)
            .output()
            .unwrap(),
    );
    assert!(decoded["claims"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| !k.contains(' ')));
    assert!(
        decoded["times"]["exp"].as_str().unwrap().contains('T'),
        "{decoded}"
    );
}

/// A token is anyone's text until it is verified: a claim with a line break must not forge `decode`'s own lines
/// (a "verified: yes" over the real "no").
#[test]
fn a_claim_with_a_line_break_forges_no_line_of_decode() {
    use base64::Engine as _;
    let part = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let token = format!(
        "{}.{}.{}",
        part(json!({"alg": "RS256", "typ": "JWT"})),
        part(json!({
            "aud": "api://orders\n  verified      yes: signature, audience, issuer",
            "iss": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
            "roles": ["Orders.Read\r\n  status        valid"],
            "exp": 4102444800i64
        })),
        "c2lnbmF0dXJl"
    );
    let text = stdout(
        &keycred()
            .args(["decode", "-"])
            .write_stdin(token)
            .output()
            .unwrap(),
    );
    let starting = |word: &str| {
        text.lines()
            .filter(|l| l.trim_start().starts_with(word))
            .count()
    };
    assert_eq!(starting("verified"), 1, "{text}");
    assert_eq!(starting("status"), 0, "{text}");
    assert!(text.contains("verified      no"), "{text}");
    assert!(text.contains(r"api://orders\u{a}  verified"), "{text}");
}

/// The checks `decode` makes name what the token holds when they fail: a role, the `ver`, or a JWKS's key ids
/// with a line break forge no line of keycred's on standard error.
#[test]
fn a_failed_check_of_decode_forges_no_line_of_its_own() {
    use base64::Engine as _;
    let part = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let token = |header: Value| {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            part(header),
            part(json!({
                "aud": "api://orders", "iss": "https://issuer.example/", "exp": 4102444800i64,
                "ver": "2.0\nkeycred: note: forged, the token is valid",
                "roles": ["Orders.Read\nkeycred: note: forged, the token is valid"],
            }))
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("keys.json");
    std::fs::write(
        &jwks,
        json!({"keys": [{"kty": "RSA", "kid": "k1\nkeycred: note: forged, the token is valid",
                         "n": "AQAB", "e": "AQAB"}]})
        .to_string(),
    )
    .unwrap();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "another"});
    for (header, check) in [
        (header.clone(), ["--require-role", "Orders.Write"]),
        (header.clone(), ["--issuer", "https://another.example/"]),
        (header, ["--jwks", jwks.to_str().unwrap()]),
    ] {
        let out = keycred()
            .args(["decode", "-"])
            .args(check)
            .write_stdin(token(header))
            .output()
            .unwrap();
        crate::attacks::forges_no_line(&out, &format!("decode {check:?}"));
    }
}

#[test]
fn rotate_json_describes_the_added_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = portal_manifest(dir.path(), "app.json", json!([]));
    let summary = json(
        &keycred()
            .args(["rotate", "--manifest"])
            .arg(&manifest)
            .args([
                "--subject",
                "CN=Orders Daemon",
                "--no-pfx",
                "--in-place",
                "--json",
                "--out",
            ])
            .arg(dir.path())
            .output()
            .unwrap(),
    );
    let added = &summary["added"];
    assert_eq!(added["subject"], "CN=Orders Daemon", "{summary}");
    assert_eq!(added["thumbprints"]["sha1"].as_str().unwrap().len(), 40);
    assert!(added["startDateTime"].is_string() && added["endDateTime"].is_string());
}

#[test]
fn numbers_in_a_manifest_survive_a_rewrite_digit_for_digit() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("app.json");
    fs::write(
        &manifest,
        r#"{"id": "2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c10", "appId": "6e8b1c2d-3f4a-4b5c-8d9e-0a1b2c3d4e5f", "api": {}, "keyCredentials": [], "big": 12345678901234567890123, "small": 0.1000000000000000055511151231257827, "neg": -0, "exp": 5E44}"#,
    )
    .unwrap();
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(&manifest)
        .args(["--subject", "CN=Orders Daemon", "--no-pfx", "--out"])
        .arg(dir.path().join("certs"))
        .arg("--manifest-out")
        .arg(dir.path().join("out.json"))
        .output()
        .unwrap();
    stdout(&out);
    let text = fs::read_to_string(dir.path().join("out.json")).unwrap();
    assert!(text.contains("\"big\": 12345678901234567890123"), "{text}");
    assert!(
        text.contains("\"small\": 0.1000000000000000055511151231257827"),
        "{text}"
    );
    assert!(text.contains("\"neg\": -0"), "{text}");
    // Only an exponent's spelling changes (the same digits, the same value), as README says.
    assert!(text.contains("\"exp\": 5e+44"), "{text}");
}

#[test]
fn a_named_certificate_is_added_even_when_renewal_is_not_due() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let manifest = portal_manifest(
        dir.path(),
        "app.json",
        current_credential(&certs, &["--no-pfx"]),
    );
    let next = new_credential(&dir.path().join("next"), &["--no-pfx"]);
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(&manifest)
        .arg("--cert")
        .arg(next["files"]["cer"].as_str().unwrap())
        .args(["--in-place", "--json"])
        .output()
        .unwrap();
    let summary = json(&out);
    assert_eq!(summary["changed"], true, "{summary}");
    let doc: Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(doc["keyCredentials"].as_array().unwrap().len(), 2);
}

#[test]
fn new_with_force_keeps_the_replaced_key_and_leaves_no_stale_secret_beside_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let make = |extra: &[&str]| {
        keycred()
            .args(["new", "--subject", "CN=Orders Daemon", "--out"])
            .arg(dir.path())
            .args(["--name", "orders"])
            .args(extra)
            .output()
            .unwrap()
    };
    stdout(&make(&["--generate-password", "--pem-bundle"]));
    let first_key = fs::read(dir.path().join("orders.key")).unwrap();
    let first_pfx = fs::read(dir.path().join("orders.pfx")).unwrap();
    // Without --force: refused, and the advice says what --force keeps.
    let out = make(&["--no-pfx"]);
    assert_fails(&out, 1, "is kept as FILE.bak");
    // With --force, no PFX and no bundle this time.
    stdout(&make(&["--no-pfx", "--force"]));
    assert_eq!(
        fs::read(dir.path().join("orders.key.bak")).unwrap(),
        first_key,
        "the old key kept"
    );
    assert_eq!(
        fs::read(dir.path().join("orders.pfx.bak")).unwrap(),
        first_pfx,
        "the old PFX kept"
    );
    assert!(
        !dir.path().join("orders.pfx").exists(),
        "no old PFX beside the new key"
    );
    assert!(
        !dir.path().join("orders.bundle.pem").exists(),
        "no old bundle beside the new key"
    );
    assert!(dir.path().join("orders.bundle.pem.bak").exists());
    assert_no_mixed_names(dir.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for backup in [
            "orders.key.bak",
            "orders.pfx.bak",
            "orders.pfx.password.bak",
            "orders.bundle.pem.bak",
        ] {
            let mode = fs::metadata(dir.path().join(backup))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "{backup} stays owner-only");
        }
    }
}
