//! What a first-time admin hit, round three: `--force` on fragment outputs, and the tenant rotation's choices of
//! which apps and which credentials it touches.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::common::*;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every command that writes a fragment, configuration or body to `--out FILE --force`, writing to `target`.
fn fragment_writers(dir: &Path, target: &Path) -> Vec<(&'static str, Vec<std::ffi::OsString>)> {
    let t = target.as_os_str().to_owned();
    let cer = dir.join("daemon.cer").into_os_string();
    let pfx = dir.join("daemon.pfx").into_os_string();
    let pw = dir.join("daemon.pfx.password").into_os_string();
    let os = |words: &[&str]| {
        words
            .iter()
            .map(std::ffi::OsString::from)
            .collect::<Vec<_>>()
    };
    let with = |mut a: Vec<std::ffi::OsString>, more: Vec<std::ffi::OsString>| {
        a.extend(more);
        a
    };
    vec![
        (
            "config",
            with(
                os(&[
                    "config",
                    "--for",
                    "env",
                    "--tenant",
                    TENANT,
                    "--client-id",
                    CLIENT,
                    "--force",
                    "--pfx",
                ]),
                vec![
                    pfx.clone(),
                    "--password-file".into(),
                    pw.clone(),
                    "--out".into(),
                    t.clone(),
                ],
            ),
        ),
        (
            "api-policy",
            with(
                os(&[
                    "api-policy",
                    "--tenant",
                    TENANT,
                    "--audience",
                    "api://contoso-orders",
                    "--token-version",
                    "1",
                    "--force",
                ]),
                vec!["--out".into(), t.clone()],
            ),
        ),
        (
            "manifest key-credentials",
            with(
                os(&["manifest", "key-credentials", "--force"]),
                vec![cer.clone(), "--out".into(), t.clone()],
            ),
        ),
        (
            "manifest app-roles",
            with(
                os(&["manifest", "app-roles", "--role", "Orders.Read", "--force"]),
                vec!["--out".into(), t.clone()],
            ),
        ),
        (
            "graph add-key",
            with(
                os(&[
                    "graph",
                    "add-key",
                    "--object-id",
                    "2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c10",
                    "--force",
                ]),
                vec![
                    "--current-pfx".into(),
                    pfx,
                    "--current-password-file".into(),
                    pw,
                    "--cert".into(),
                    dir.join("next.cer").into_os_string(),
                    "--out".into(),
                    t,
                ],
            ),
        ),
    ]
}

/// The daemon's credential (key, PFX, generated password) and the next certificate for add-key.
fn credentials(dir: &Path) {
    new_credential(dir, &["--generate-password"]);
    stdout(
        &keycred()
            .args([
                "new", "-s", "CN=Next", "--name", "next", "--no-pfx", "--out",
            ])
            .arg(dir)
            .output()
            .unwrap(),
    );
}

#[test]
fn force_never_replaces_a_key_a_pfx_or_a_password_with_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    credentials(dir.path());
    let secrets: Vec<PathBuf> = ["daemon.key", "daemon.pfx", "daemon.pfx.password"]
        .iter()
        .map(|n| dir.path().join(n))
        .collect();
    for secret in &secrets {
        let before = std::fs::read(secret).unwrap();
        assert_eq!(mode(secret), 0o600);
        for (name, args) in fragment_writers(dir.path(), secret) {
            let out = keycred().args(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_ne!(
                out.status.code(),
                Some(0),
                "{name} replaced {}",
                secret.display()
            );
            assert!(
                stderr.contains(&secret.display().to_string()) && stderr.contains("never replaced"),
                "{name}: {stderr}"
            );
            assert_eq!(
                std::fs::read(secret).unwrap(),
                before,
                "{name} changed {}",
                secret.display()
            );
            assert_eq!(mode(secret), 0o600, "{name}");
        }
    }
    assert!(
        !names_in(dir.path()).iter().any(|n| n.ends_with(".bak")),
        "nothing was replaced, so nothing was backed up: {:?}",
        names_in(dir.path())
    );
}

#[test]
fn force_keeps_a_backup_of_what_it_replaces_and_never_widens_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    credentials(dir.path());
    let target = dir.path().join("private-notes.json");
    for (name, args) in fragment_writers(dir.path(), &target) {
        std::fs::write(&target, format!("kept by {name}\n")).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        for stale in names_in(dir.path())
            .iter()
            .filter(|n| n.starts_with("private-notes.json.bak"))
        {
            std::fs::remove_file(dir.path().join(stale)).unwrap();
        }
        let out = keycred().args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(mode(&target), 0o600, "{name} widened the file's mode");
        let backup = dir.path().join("private-notes.json.bak");
        assert_eq!(
            std::fs::read_to_string(&backup).unwrap(),
            format!("kept by {name}\n"),
            "{name}"
        );
        assert_eq!(mode(&backup), 0o600, "{name}");
    }
}

mod tenant {
    //! The tenant rotation's choices: which apps `--all` touches, which credentials are client credentials, and
    //! what an admin's run leaves for the daemon.

    use serde_json::json;

    use crate::common::*;
    use crate::graph::{held, live_tenant, node_ready, patches, tenant_apps, Tenant};

    fn rotate(tenant: &Tenant, args: &[&str]) -> std::process::Output {
        tenant
            .keycred("rotate")
            .args(args)
            .arg("--out")
            .arg(tenant.dir.path().join("certs"))
            .output()
            .unwrap()
    }

    fn patched(tenant: &Tenant, object_id: &str) -> bool {
        patches(tenant)
            .iter()
            .any(|e| e["path"].as_str().unwrap().ends_with(object_id))
    }

    #[test]
    fn all_leaves_apps_without_a_certificate_alone_unless_asked() {
        if !node_ready() {
            return;
        }
        // Apps 3 and 7 hold no certificate credential (app 0 and app 5 hold a secret beside theirs).
        let Some(tenant) = live_tenant(
            tenant_apps(8).as_array().unwrap().clone(),
            "Application.ReadWrite.All",
        ) else {
            return;
        };
        let bare = [
            "10000000-0000-4000-8000-000000000003",
            "10000000-0000-4000-8000-000000000007",
        ];
        let plan = rotate(&tenant, &["--all", "--no-pfx"]);
        let text = stdout(&plan);
        assert!(
            text.contains("2 without a certificate left alone (--app ID or --include-without-certificate gives each one)"),
            "{text}"
        );
        assert!(
            text.contains("20000000-0000-4000-8000-000000000003  App 3  no certificate"),
            "{text}"
        );
        let applied = output_json(&rotate(
            &tenant,
            &["--all", "--no-pfx", "--apply", "--json"],
        ));
        for id in bare {
            let app = applied["apps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["id"] == id)
                .unwrap();
            assert_eq!(app["result"], "no certificate", "{app}");
            assert!(
                !patched(&tenant, id),
                "{id} got a certificate nobody asked for"
            );
            assert!(held(&tenant, id).is_empty());
        }
        assert!(!tenant
            .dir
            .path()
            .join("certs/20000000-0000-4000-8000-000000000003")
            .exists());
        // Named, an app gets its first certificate; so does every bare app with the flag.
        let named = output_json(&rotate(
            &tenant,
            &[
                "--app",
                "20000000-0000-4000-8000-000000000003",
                "--no-pfx",
                "--apply",
                "--json",
            ],
        ));
        assert_eq!(named["apps"][0]["result"], "rotated", "{named}");
        let asked = output_json(&rotate(
            &tenant,
            &[
                "--all",
                "--include-without-certificate",
                "--no-pfx",
                "--apply",
                "--json",
            ],
        ));
        let app7 = asked["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == bare[1])
            .unwrap();
        assert_eq!(app7["result"], "rotated", "{asked}");
        assert_eq!(held(&tenant, bare[1]).len(), 1);
    }

    #[test]
    fn an_admins_run_says_where_the_new_key_must_go_and_retires_nothing() {
        if !node_ready() {
            return;
        }
        let Some(tenant) = live_tenant(
            tenant_apps(2).as_array().unwrap().clone(),
            "Application.ReadWrite.All",
        ) else {
            return;
        };
        let pw = tenant.dir.path().join("new.pw");
        std::fs::write(&pw, "a new pfx password\n").unwrap();
        let run = rotate(
            &tenant,
            &[
                "--app",
                "20000000-0000-4000-8000-000000000001",
                "--apply",
                "--password-file",
                pw.to_str().unwrap(),
            ],
        );
        let text = stdout(&run);
        let pfx = names_in(
            &tenant
                .dir
                .path()
                .join("certs/20000000-0000-4000-8000-000000000001"),
        )
        .into_iter()
        .find(|n| n.ends_with(".pfx"))
        .unwrap();
        assert!(
            text.contains(&format!(
                "next: deploy {}/certs/20000000-0000-4000-8000-000000000001/{pfx} where the app runs; then remove keyId \
                 00000000-0000-4000-8000-000000000001, which the new certificate replaces, once nothing signs in with it",
                tenant.dir.path().display()
            )),
            "{text}"
        );
        assert_eq!(
            held(&tenant, "10000000-0000-4000-8000-000000000001").len(),
            2
        );
        assert!(text.contains("1 app: 1 rotated"), "{text}");
    }

    #[test]
    fn signing_keys_are_shown_as_such_and_an_admin_rotation_leaves_their_app_alone() {
        if !node_ready() {
            return;
        }
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD
            .encode(std::fs::read(fixture("openssl-rsa.cer")).unwrap());
        let object_id = "10000000-0000-4000-8000-000000000009";
        // Its only client certificate ends in 9 days; a SAML signing key is valid for 299.
        let app = json!({
            "id": object_id,
            "appId": "20000000-0000-4000-8000-000000000009",
            "displayName": "Orders Portal",
            "keyCredentials": [
                {"key": key, "keyId": "00000000-0000-4000-8000-00000000000a", "displayName": "CN=SAML Signing",
                 "type": "AsymmetricX509Cert", "usage": "Sign",
                 "startDateTime": days_from_now(-66), "endDateTime": days_from_now(299)},
                {"key": key, "keyId": "00000000-0000-4000-8000-00000000000b", "displayName": "CN=Orders Portal Daemon",
                 "type": "AsymmetricX509Cert", "usage": "Verify",
                 "startDateTime": days_from_now(-356), "endDateTime": days_from_now(9)},
            ],
        });
        let Some(tenant) = live_tenant(vec![app], "Application.ReadWrite.All") else {
            return;
        };
        let scan = tenant.keycred("apps").arg("--json").output().unwrap();
        let report = output_json(&scan);
        let listed = report["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == object_id)
            .unwrap()
            .clone();
        assert_eq!(listed["verdict"], "renewal-due", "{listed}");
        assert_eq!(scan.status.code(), Some(3));
        let text = String::from_utf8_lossy(&tenant.keycred("apps").output().unwrap().stdout)
            .lines()
            .skip_while(|l| !l.contains("Orders Portal"))
            .take(3)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(text.contains("\n  sign "), "{text}");

        // An admin's rotation is one PATCH of the whole collection, which cannot send the signing key back as
        // it is (issue 28): the app is left alone, with the reason, and nothing is sent.
        let rotated = output_json(&rotate(
            &tenant,
            &["--all", "--no-pfx", "--apply", "--json"],
        ));
        let entry = rotated["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == object_id)
            .unwrap()
            .clone();
        assert_eq!(entry["result"], "skipped", "{entry}");
        let skipped = entry["skipped"].as_str().unwrap();
        assert!(
            skipped.contains("signing key (keyId 00000000-0000-4000-8000-00000000000a"),
            "{skipped}"
        );
        assert!(skipped.contains("graph rotate --self"), "{skipped}");
        assert!(entry["added"].is_null(), "{entry}");
        let now_held = held(&tenant, object_id);
        assert_eq!(now_held.len(), 2, "{now_held:?}");
        assert!(
            tenant.graph.log().iter().all(|e| e["method"] == "GET"),
            "nothing was sent"
        );
    }
}

/// Item 10: the secrets advice never tells the admin to delete the password file the next steps read.
#[test]
fn the_secrets_advice_keeps_the_password_the_walkthrough_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = keycred()
        .args([
            "new",
            "-s",
            "CN=Contoso Daemon",
            "--name",
            "contoso-daemon",
            "--generate-password",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = stdout(&out);
    let line = text.lines().find(|l| l.starts_with("secrets:")).unwrap();
    let deleted = line.split("delete ").nth(1).unwrap_or_default();
    let deleted = deleted.split(" from this folder").next().unwrap();
    assert!(deleted.ends_with("contoso-daemon.key"), "{line}");
    assert!(!deleted.contains(".pfx.password"), "{line}");
    assert!(
        line.contains(
            "contoso-daemon.pfx.password opens it (keycred token, config and doctor read it)"
        ),
        "{line}"
    );
}

/// Item 12: `manifest grant` with `--api` and `--client` the other way round says so.
#[test]
fn grant_says_when_api_and_client_look_swapped() {
    let dir = tempfile::tempdir().unwrap();
    let api = ManifestBuilder::realistic()
        .field(
            "appRoles",
            serde_json::json!([{"allowedMemberTypes": ["Application"], "description": "Read orders.",
                "displayName": "Read", "id": "11111111-1111-4111-8111-111111111111", "isEnabled": true,
                "value": "Orders.Read"}]),
        )
        .write(&dir.path().join("orders-api.json"));
    let client = ManifestBuilder::realistic()
        .field("appRoles", serde_json::json!([]))
        .write(&dir.path().join("client.json"));
    let before = std::fs::read(&api).unwrap();
    let out = keycred()
        .args([
            "manifest",
            "grant",
            "--role",
            "Orders.Read",
            "--in-place",
            "--api",
        ])
        .arg(&client)
        .arg("--client")
        .arg(&api)
        .output()
        .unwrap();
    assert_fails(&out, 1, "--api and --client look swapped");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "--api {} --client {}",
            api.display(),
            client.display()
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&api).unwrap(), before, "nothing written");
}

/// Item 14: an expired `--cert` is refused as README's exit codes say (1), naming the file.
#[test]
fn an_expired_cert_is_refused_naming_it() {
    if !python_cryptography_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("old.key"), dir.path().join("old.pem"));
    certificate_by_python(&key, &cert, -24 * 400, -24 * 5);
    let manifest = due_orders_manifest(&dir.path().join("app.json"));
    let before = std::fs::read(&manifest).unwrap();
    let out = keycred()
        .args(["rotate", "--in-place", "--manifest"])
        .arg(&manifest)
        .arg("--cert")
        .arg(&cert)
        .output()
        .unwrap();
    assert_fails(
        &out,
        1,
        &format!(
            "{}: the certificate (CN=Python Daemon) expired on",
            cert.display()
        ),
    );
    assert_eq!(std::fs::read(&manifest).unwrap(), before);
}

/// Item 14: decode names where the token came from when the token is what fails.
#[test]
fn decode_names_its_file_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token.txt");
    std::fs::write(&file, "garbage\n").unwrap();
    let out = keycred().arg("decode").arg(&file).output().unwrap();
    assert_fails(&out, 1, &format!("{}: not a JWT", file.display()));
    let out = keycred()
        .args(["decode", "-"])
        .write_stdin("garbage")
        .output()
        .unwrap();
    assert_fails(&out, 1, "standard input: not a JWT");
}

/// Item 13: a batch row with a manifest and no subject takes the subject from the manifest, as `rotate` does.
#[test]
fn a_batch_row_takes_its_subject_from_its_manifest() {
    let dir = tempfile::tempdir().unwrap();
    due_orders_manifest(&dir.path().join("app.json"));
    std::fs::write(
        dir.path().join("plan.toml"),
        "[[app]]\nname = \"orders\"\nmanifest = \"app.json\"\nno_pfx = true\nout = \"certs\"\n",
    )
    .unwrap();
    let out = keycred()
        .arg("batch")
        .arg(dir.path().join("plan.toml"))
        .output()
        .unwrap();
    stdout(&out);
    let cer = names_in(&dir.path().join("certs/orders"))
        .into_iter()
        .find(|n| n.ends_with(".cer"))
        .unwrap();
    let subject = openssl_subject_der(&dir.path().join("certs/orders").join(cer));
    assert_eq!(subject.trim(), "subject=CN=Orders Daemon");
    // A row that provisions a new app still needs one, in the plan's words.
    std::fs::write(
        dir.path().join("plan.toml"),
        "[[app]]\nname = \"billing\"\n",
    )
    .unwrap();
    let out = keycred()
        .arg("batch")
        .arg(dir.path().join("plan.toml"))
        .output()
        .unwrap();
    assert_fails(&out, 1, "subject is missing");
}

/// Item 14: `import` without a chain does not list a chain in its files.
#[test]
fn import_without_a_chain_lists_no_chain() {
    let Some(ca) = crate::ca::Ca::new() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    stdout(
        &keycred()
            .args([
                "csr",
                "--subject",
                "CN=Orders Daemon",
                "--name",
                "orders",
                "--out",
            ])
            .arg(dir.path())
            .output()
            .unwrap(),
    );
    let answer = ca.issue(&dir.path().join("orders.csr"), "300", "answer.pem");
    let out = keycred()
        .args(["import", "--cert"])
        .arg(&answer)
        .arg("--key")
        .arg(dir.path().join("orders.key"))
        .arg("--out")
        .arg(dir.path())
        .args(["--name", "orders", "--generate-password", "--pem-bundle"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("PKCS#12: key and certificate (owner-only)"),
        "{text}"
    );
    assert!(
        text.contains("private key and certificate, PEM (owner-only)"),
        "{text}"
    );
    assert!(!text.contains("and chain"), "{text}");
}
