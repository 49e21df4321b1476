//! Keys that never leave the vault (issue 31): certificates made in the Key Vault test server (tests/oidc/vault.mjs,
//! faithful to Key Vault's REST API), and assertions and tokens signed there, verified by the real OAuth server.

use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand};

use serde_json::Value;

use crate::common::*;
use crate::flow::OidcServer;

const TENANT: &str = "contoso.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const ADMIN: &str = "99999999-8888-4777-8666-555555555555";
const ADMIN_SECRET: &str = "the vault admin's test secret";

/// The Key Vault test server, trusting tokens of `oidc`.
pub struct VaultServer {
    child: Child,
    port: u16,
}

impl VaultServer {
    /// The server, trusting the tokens `oidc` issues for `tenant`.
    fn start_for(oidc: &OidcServer, tenant: &str) -> VaultServer {
        let (child, port) = crate::graph::spawn_listening(
            StdCommand::new("node")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/vault.mjs"))
                .arg(oidc.jwks(tenant))
                .arg(tenant)
                .arg(oidc.authority()),
            "the Key Vault test server",
        );
        VaultServer { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn get(&self, path: &str) -> Value {
        let mut response = ureq::get(format!("{}{path}", self.url())).call().unwrap();
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
    }

    /// A vault call with this `Authorization` header.
    fn get_with(&self, path: &str, authorization: &str) -> Value {
        let mut response = ureq::get(format!("{}{path}", self.url()))
            .header("authorization", authorization)
            .call()
            .unwrap();
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
    }

    /// Makes certificate `name` with `body` (policy, tags) as the holder of the token in `token` would, through
    /// the vault's REST API itself: a certificate keycred did not make. Asserts the vault took it (202).
    fn create_as(&self, token: &Path, name: &str, body: Value) {
        let bearer = format!("Bearer {}", std::fs::read_to_string(token).unwrap().trim());
        let response = ureq::post(format!(
            "{}/certificates/{name}/create?api-version=7.4",
            self.url()
        ))
        .header("authorization", &bearer)
        .header("content-type", "application/json")
        .send(body.to_string())
        .unwrap();
        assert_eq!(response.status(), 202);
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let mut response = ureq::post(format!("{}{path}", self.url()))
            .header("content-type", "application/json")
            .send(body.to_string())
            .unwrap();
        let text = response.body_mut().read_to_string().unwrap();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub fn log(&self) -> Vec<Value> {
        self.get("/_test/log").as_array().unwrap().clone()
    }
}

impl Drop for VaultServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OAuth server that knows `CLIENT` by the certificate in `pem` and the vault admin by its secret.
fn oauth(pem: &Path) -> Option<OidcServer> {
    OidcServer::launch(TENANT, CLIENT, pem, (ADMIN, ADMIN_SECRET), None)
}

/// A token for `scope` from `oidc` in `tenant`, as the vault admin, written to a file; its path.
fn admin_token_in(oidc: &OidcServer, tenant: &str, scope: &str, dir: &Path) -> PathBuf {
    admin_token_with(oidc, tenant, scope, dir, ADMIN_SECRET)
}

/// As [`admin_token_in`], the admin's secret `secret`.
fn admin_token_with(
    oidc: &OidcServer,
    tenant: &str,
    scope: &str,
    dir: &Path,
    secret_text: &str,
) -> PathBuf {
    let secret = dir.join("admin.secret");
    std::fs::write(&secret, secret_text).unwrap();
    let out = keycred()
        .env_remove("KEYCRED_CLIENT_SECRET")
        .args([
            "token",
            "--tenant",
            tenant,
            "--client-id",
            ADMIN,
            "--scope",
            scope,
        ])
        .args(["--authority", &oidc.authority(), "--client-secret-file"])
        .arg(&secret)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.join(format!("token-{}", scope.len()));
    std::fs::write(&path, String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    path
}

/// Every file under `dir`, read: none may hold a private key, PKCS#8, PKCS#12 or the admin's secret.
pub fn assert_no_key_under(dir: &Path) {
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("PRIVATE KEY"),
                "{} holds a private key",
                path.display()
            );
            // A PKCS#12 file starts with a SEQUENCE holding version 3.
            assert!(
                !(bytes.len() > 8
                    && bytes[0] == 0x30
                    && bytes.windows(3).take(8).any(|w| w == [2, 1, 3])),
                "{} looks like a PKCS#12 file",
                path.display()
            );
            assert!(
                !path.extension().is_some_and(|e| e == "pfx" || e == "key"),
                "{}",
                path.display()
            );
        }
    }
}

/// A vault for `tenant`: an OAuth server that issues the vault admin's tokens (where `CLIENT` holds a throwaway
/// certificate), the Key Vault test server trusting it, and a vault token in a file under `dir`.
pub fn vault_for(tenant: &str, dir: &Path) -> Option<(OidcServer, VaultServer, PathBuf)> {
    let throwaway = dir.join("throwaway");
    let out = keycred()
        .args([
            "new",
            "--subject",
            "Throwaway",
            "--no-pfx",
            "--name",
            "t",
            "--out",
        ])
        .arg(&throwaway)
        .output()
        .unwrap();
    assert!(out.status.success());
    let issuer = OidcServer::launch(
        tenant,
        CLIENT,
        &throwaway.join("t.pem"),
        (ADMIN, ADMIN_SECRET),
        None,
    )?;
    let vault = VaultServer::start_for(&issuer, tenant);
    let token = admin_token_in(&issuer, tenant, "https://vault.azure.net/.default", dir);
    Some((issuer, vault, token))
}

#[test]
fn a_certificate_made_in_the_vault_signs_tokens_there_and_no_key_reaches_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let Some((issuer, vault, token)) = vault_for(TENANT, dir.path()) else {
        return;
    };
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();

    // A key size the vault would refuse is refused before anything is sent.
    let new = |extra: &[&str]| {
        keycred()
            .args([
                "new",
                "--subject",
                "CN=Vault Daemon,O=Contoso",
                "--key-vault",
                &vault.url(),
            ])
            .arg("--vault-token-file")
            .arg(&token)
            .arg("--out")
            .arg(work.join("certs"))
            .args(extra)
            .output()
            .unwrap()
    };
    let out = new(&["--name", "daemon", "--key-size", "1024"]);
    assert_fails(&out, 2, "1024");
    assert!(vault.log().is_empty(), "{:?}", vault.log());

    let out = new(&["--name", "daemon", "--days", "90", "--json"]);
    let made = output_json(&out);
    // Made again under the same name: refused, since the new version would sign before any app holds it.
    let certs_again = work.join("again");
    let out = keycred()
        .args([
            "new",
            "--subject",
            "CN=Vault Daemon,O=Contoso",
            "--key-vault",
            &vault.url(),
            "--name",
            "daemon",
        ])
        .arg("--vault-token-file")
        .arg(&token)
        .arg("--out")
        .arg(&certs_again)
        .output()
        .unwrap();
    assert_fails(&out, 1, "exists already");
    assert_eq!(vault.get("/_test/keys").as_array().unwrap().len(), 1);
    assert_eq!(made["keyVault"]["exportable"], false, "{made:#}");
    assert_eq!(made["subject"], "CN=Vault Daemon, O=Contoso");
    let files = made["files"].as_object().unwrap();
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        ["cer", "pem", "keyCredentials"]
    );
    // The vault holds the key, not exportable: its secret is the certificate alone.
    let keys = vault.get("/_test/keys");
    assert_eq!(keys[0]["exportable"], false, "{keys}");
    // OpenSSL reads the certificate the vault made, valid about 90 days (3 months, as Key Vault counts).
    let pem = work.join("certs/daemon.pem");
    let text = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in"])
        .arg(&pem)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("Vault Daemon"));
    // And verifies it: signed by the vault's own key (self-signed).
    run_peer(
        "openssl",
        &[
            "verify",
            "-CAfile",
            pem.to_str().unwrap(),
            pem.to_str().unwrap(),
        ],
    );

    // A second OAuth server knows CLIENT by the vault's certificate: tokens signed in the vault, both algorithms.
    let Some(entra) = oauth(&pem) else {
        return;
    };
    let before = vault.log().len();
    // `token` or `assertion` with the vault's certificate.
    let in_vault = |command: &str, alg: &str| {
        let mut cmd = keycred();
        cmd.args([command, "--tenant", TENANT, "--client-id", CLIENT]);
        cmd.args(["--authority", &entra.authority()]);
        if command == "token" {
            cmd.args(["--scope", "api://keycred-test/.default"]);
        }
        cmd.args(["--key-vault", &vault.url(), "--vault-cert", "daemon"])
            .args(["--alg", alg, "--json", "--vault-token-file"])
            .arg(&token)
            .output()
            .unwrap()
    };
    for (alg, header) in [("PS256", "x5t#S256"), ("RS256", "x5t")] {
        let got = output_json(&in_vault("token", alg));
        assert_eq!(got["token_type"], "Bearer", "{alg}: {got}");
        let signed = output_json(&in_vault("assertion", alg));
        assert!(signed["header"].get(header).is_some(), "{signed}");
    }
    let signs: Vec<Value> = vault.log()[before..]
        .iter()
        .filter(|e| e["path"].as_str().unwrap().contains("/sign"))
        .cloned()
        .collect();
    assert_eq!(signs.len(), 4, "{signs:#?}");
    assert!(signs
        .iter()
        .all(|e| e["signedBy"].as_str().unwrap().starts_with("daemon/")));
    assert_eq!(
        signs
            .iter()
            .map(|e| e["alg"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["PS256", "PS256", "RS256", "RS256"]
    );

    // Bad input: a certificate the vault does not have, a version disabled, a vault of another cloud, a token for
    // another resource.
    let sign_with = |vault_url: &str, cert: &str, token: &Path| {
        keycred()
            .args([
                "assertion",
                "--tenant",
                TENANT,
                "--client-id",
                CLIENT,
                "--authority",
                &entra.authority(),
            ])
            .args([
                "--key-vault",
                vault_url,
                "--vault-cert",
                cert,
                "--vault-token-file",
            ])
            .arg(token)
            .output()
            .unwrap()
    };
    assert_fails(
        &sign_with(&vault.url(), "nothing-here", &token),
        1,
        "CertificateNotFound",
    );
    let version = made["keyVault"]["version"].as_str().unwrap();
    vault.post(
        "/_test/disable",
        serde_json::json!({"name": "daemon", "version": version}),
    );
    assert_fails(
        &sign_with(&vault.url(), &format!("daemon/{version}"), &token),
        1,
        "disabled",
    );
    assert_fails(
        &sign_with("https://contoso.vault.azure.cn", "daemon", &token),
        2,
        "another cloud",
    );
    let graph_token = admin_token_in(
        &issuer,
        TENANT,
        "https://graph.example/.default",
        dir.path(),
    );
    assert_fails(
        &sign_with(&vault.url(), "daemon", &graph_token),
        1,
        "not one for this vault",
    );
    // A certificate whose key is EC (made in the vault by someone else): refused before the vault is asked to
    // sign, since Entra's certificate credentials are RSA.
    vault.create_as(
        &token,
        "ec-daemon",
        serde_json::json!({"policy": {
            "key_props": {"exportable": false, "kty": "EC", "crv": "P-256"},
            "x509_props": {"subject": "CN=EC Daemon", "validity_months": 12},
            "issuer": {"name": "Self"},
        }}),
    );
    std::thread::sleep(std::time::Duration::from_millis(400));
    let signs_before = vault
        .log()
        .iter()
        .filter(|e| e["signedBy"].is_string())
        .count();
    assert_fails(
        &sign_with(&vault.url(), "ec-daemon", &token),
        1,
        "EC P-256 key, not RSA",
    );
    assert_eq!(
        vault
            .log()
            .iter()
            .filter(|e| e["signedBy"].is_string())
            .count(),
        signs_before
    );

    // Nothing secret was written anywhere this test's keycred runs wrote.
    assert_no_key_under(&work);
}

/// The automation app's certificate made in `vault` as `name`, and a tenant where the app holds it and signs in
/// with it (its Graph permissions `roles`): its object id is [`crate::graph::automation_app`]'s.
fn vault_app(
    dir: &Path,
    vault: &VaultServer,
    token: &Path,
    name: &str,
    roles: &str,
) -> Option<(OidcServer, crate::graph::GraphServer)> {
    let certs = dir.join("certs");
    let out = keycred()
        .args([
            "new",
            "--subject",
            "Rotation Automation",
            "--key-vault",
            &vault.url(),
            "--name",
            name,
        ])
        .arg("--vault-token-file")
        .arg(token)
        .arg("--out")
        .arg(&certs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let apps = serde_json::json!([crate::graph::automation_app(
        &certs.join(format!("{name}.cer"))
    )]);
    let entra = OidcServer::launch_with_env(
        crate::graph::TENANT,
        crate::graph::AUTOMATION,
        &certs.join(format!("{name}.pem")),
        (ADMIN, ADMIN_SECRET),
        None,
        &[("GRAPH_ROLES", roles)],
    )?;
    let graph = crate::graph::GraphServer::start(&entra, &apps, dir);
    Some((entra, graph))
}

#[test]
fn the_automation_app_signs_in_to_graph_and_proves_addkey_with_its_vault_key() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_issuer, vault, token)) = vault_for(crate::graph::TENANT, dir.path()) else {
        return;
    };
    let Some((entra, graph)) = vault_app(
        dir.path(),
        &vault,
        &token,
        "automation",
        "Application.Read.All",
    ) else {
        return;
    };
    let connect = |cmd: &mut assert_cmd::Command| {
        cmd.args(crate::graph::as_automation(&graph, &entra))
            .args([
                "--auth-key-vault",
                &vault.url(),
                "--auth-vault-cert",
                "automation",
                "--vault-token-file",
            ])
            .arg(&token);
    };
    let before = vault.log().len();
    let mut apps_cmd = keycred();
    apps_cmd.args(["graph", "apps", "--json"]);
    connect(&mut apps_cmd);
    let listed = output_json(&apps_cmd.output().unwrap());
    assert_eq!(
        listed["apps"][0]["appId"],
        crate::graph::AUTOMATION,
        "{listed}"
    );
    // --self: the token and the addKey proof, both signed in the vault; the new certificate beside the current.
    let mut rotate = keycred();
    rotate.args([
        "graph",
        "rotate",
        "--self",
        "--app",
        crate::graph::AUTOMATION,
        "--force-renewal",
    ]);
    rotate
        .args(["--no-pfx", "--apply", "--json", "--out"])
        .arg(dir.path().join("next"));
    connect(&mut rotate);
    let report = output_json(&rotate.output().unwrap());
    assert_eq!(report["apps"][0]["result"], "rotated", "{report:#}");
    let log = graph.log();
    assert!(log.iter().any(|e| e["method"] == "POST"
        && e["path"].as_str().unwrap().ends_with("/addKey")
        && e["status"] == 200));
    let signs = vault.log()[before..]
        .iter()
        .filter(|e| e["path"].as_str().unwrap().contains("/sign"))
        .count();
    // The scan's token, the rotation's token, and the addKey proof.
    assert!(signs >= 3, "{signs} signatures in the vault");
}

#[test]
fn a_renewal_made_in_the_vault_is_added_to_the_app_proven_by_the_version_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_issuer, vault, token)) = vault_for(crate::graph::TENANT, dir.path()) else {
        return;
    };
    // Entra knows the app by the version it was registered with; it has no Graph permission at all.
    let Some((entra, graph)) = vault_app(dir.path(), &vault, &token, "daemon", "") else {
        return;
    };
    let certs = dir.path().join("certs");
    let run = |extra: &[&str]| {
        keycred()
            .args([
                "graph",
                "rotate",
                "--self",
                "--from-vault",
                "--app",
                crate::graph::AUTOMATION,
                "--json",
            ])
            .args(crate::graph::as_automation(&graph, &entra))
            .args([
                "--auth-key-vault",
                &vault.url(),
                "--auth-vault-cert",
                "daemon",
                "--vault-token-file",
            ])
            .arg(&token)
            .args(extra)
            .output()
            .unwrap()
    };
    let results = |report: &Value| -> Vec<String> {
        report["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["result"].as_str().unwrap().to_owned())
            .collect()
    };
    // Nothing new in the vault: nothing to add.
    assert_eq!(results(&output_json(&run(&["--apply"]))), ["signs in"]);
    // The vault's AutoRenew makes a new version, with a new key.
    let renewed = vault.post("/_test/renew", serde_json::json!({"name": "daemon"}));
    let new_version = renewed["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let plan = output_json(&run(&[]));
    assert_eq!(results(&plan), ["signs in", "to add"], "{plan:#}");
    let before = vault.log().len();
    let applied = output_json(&run(&["--apply"]));
    assert_eq!(results(&applied), ["signs in", "added"], "{applied:#}");
    assert_eq!(applied["versions"][1]["version"], new_version.as_str());
    // Graph took it with a proof signed by the version the app held: the vault's log says which key signed.
    let log = graph.log();
    assert!(log.iter().any(|e| e["method"] == "POST"
        && e["path"].as_str().unwrap().ends_with("/addKey")
        && e["status"] == 200));
    let first_version = plan["versions"][0]["version"].as_str().unwrap().to_owned();
    let signed_by: Vec<String> = vault.log()[before..]
        .iter()
        .filter_map(|e| e["signedBy"].as_str().map(str::to_owned))
        .collect();
    // The newest version's assertion (Entra does not know it yet), then the held version's token and proof.
    assert_eq!(
        signed_by,
        [
            format!("daemon/{new_version}"),
            format!("daemon/{first_version}"),
            format!("daemon/{first_version}")
        ]
    );
    let mut response = ureq::get(format!("{}/_test/apps", graph.url()))
        .call()
        .unwrap();
    let tenant: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(tenant[0]["keyCredentials"].as_array().unwrap().len(), 2);
    // The next daily run: both held, nothing to add.
    assert_eq!(
        results(&output_json(&run(&["--apply"]))),
        ["signs in", "held"]
    );
    // A third version: the vault lists versions two to a page here, so the list follows its nextLink (with its
    // $skiptoken) and sees each version once. (This test's Entra knows the app by its first certificate only, so
    // that one still signs in.)
    vault.post("/_test/renew", serde_json::json!({"name": "daemon"}));
    assert_eq!(
        results(&output_json(&run(&[]))),
        ["signs in", "held", "to add"]
    );
    assert_no_key_under(&certs);
}

#[test]
fn a_vault_request_signed_by_the_organisations_ca_is_merged_into_the_vault() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_issuer, vault, token)) = vault_for(TENANT, dir.path()) else {
        return;
    };
    let certs = dir.path().join("certs");
    let vault_cmd = |args: &[&str]| {
        keycred()
            .args(args)
            .args(["--key-vault", &vault.url(), "--vault-token-file"])
            .arg(&token)
            .arg("--out")
            .arg(&certs)
            .output()
            .unwrap()
    };
    let out = vault_cmd(&[
        "new",
        "--subject",
        "CN=Orders Daemon,O=Contoso",
        "--name",
        "orders",
        "--ca",
        "--json",
    ]);
    let requested = output_json(&out);
    assert_eq!(requested["keyVault"]["pending"], true, "{requested}");
    let csr = certs.join("orders.csr");
    // OpenSSL reads the vault's request, signed by the vault's key, and as the CA issues it.
    run_peer(
        "openssl",
        &["req", "-in", csr.to_str().unwrap(), "-noout", "-verify"],
    );
    let ca_key = dir.path().join("ca.key");
    let ca_cert = dir.path().join("ca.pem");
    openssl_self_signed(&ca_key, &ca_cert, "/CN=Contoso Issuing CA", "30", &[]);
    let issued = dir.path().join("issued.pem");
    openssl_issue(&csr, &ca_cert, &ca_key, &issued);
    // An answer for another key is refused before the vault is asked to merge it.
    let stranger = dir.path().join("stranger.pem");
    openssl_self_signed(
        &dir.path().join("stranger.key"),
        &stranger,
        "/CN=Orders Daemon",
        "30",
        &[],
    );
    let before = vault.log().len();
    let out = vault_cmd(&[
        "import",
        "--name",
        "orders",
        "--cert",
        stranger.to_str().unwrap(),
    ]);
    assert_fails(&out, 1, "none of its certificates is for the key given");
    assert!(
        !certs.join("orders.cer").exists(),
        "nothing written for a refused answer"
    );
    assert!(!vault.log()[before..]
        .iter()
        .any(|e| e["path"].as_str().unwrap().contains("/merge")));
    // The CA's answer, with its chain: merged, and the public files written.
    let out = vault_cmd(&[
        "import",
        "--name",
        "orders",
        "--cert",
        issued.to_str().unwrap(),
        "--chain",
        ca_cert.to_str().unwrap(),
        "--json",
    ]);
    let made = output_json(&out);
    assert_eq!(made["keyVault"]["exportable"], false, "{made}");
    let text = run_peer(
        "openssl",
        &[
            "x509",
            "-in",
            certs.join("orders.pem").to_str().unwrap(),
            "-noout",
            "-issuer",
        ],
    );
    assert!(text.contains("Contoso Issuing CA"), "{text}");
    run_peer(
        "openssl",
        &[
            "verify",
            "-CAfile",
            ca_cert.to_str().unwrap(),
            certs.join("orders.pem").to_str().unwrap(),
        ],
    );
    let merged = vault.get("/_test/keys");
    assert_eq!(merged[0]["name"], "orders", "{merged}");
    assert_eq!(merged[0]["exportable"], false);
    assert_no_key_under(&certs);
}

#[test]
fn doctor_checks_a_credential_whose_key_is_in_the_vault() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_issuer, vault, token)) = vault_for(TENANT, dir.path()) else {
        return;
    };
    let out = keycred()
        .args([
            "new",
            "--subject",
            "Doctor Daemon",
            "--key-vault",
            &vault.url(),
            "--name",
            "doctor",
            "--json",
        ])
        .arg("--vault-token-file")
        .arg(&token)
        .arg("--out")
        .arg(dir.path().join("certs"))
        .output()
        .unwrap();
    let version = output_json(&out)["keyVault"]["version"]
        .as_str()
        .unwrap()
        .to_owned();
    let doctor = |cert: &str| {
        keycred()
            .args([
                "doctor",
                "--json",
                "--credential-vault",
                &vault.url(),
                "--credential-vault-cert",
                cert,
            ])
            .arg("--vault-token-file")
            .arg(&token)
            .output()
            .unwrap()
    };
    let report = output_json(&doctor("doctor"));
    assert_eq!(report["exitCode"], 0, "{report}");
    assert_eq!(report["checked"], serde_json::json!(["credential"]));
    assert_eq!(report["findings"], serde_json::json!([]));
    // Where the key is: the doctor says so, and so does check of the certificate keycred wrote.
    assert_eq!(
        report["credentialKey"],
        format!(
            "in Azure Key Vault, not exportable: {}/keys/doctor/{version}",
            vault.url()
        ),
        "{report}"
    );
    let checked = keycred()
        .args(["check", "--json"])
        .arg(dir.path().join("certs/doctor.cer"))
        .output()
        .unwrap();
    let checked = output_json(&checked);
    assert_eq!(
        checked["files"][0]["keyHeld"],
        serde_json::Value::Null,
        "new --key-vault keeps no record: {checked}"
    );
    vault.post(
        "/_test/disable",
        serde_json::json!({"name": "doctor", "version": version}),
    );
    assert_fails(&doctor(&format!("doctor/{version}")), 1, "disabled");
}

#[test]
fn from_vault_refuses_another_app_or_a_pinned_version_before_anything_is_sent() {
    let run = |app: &str, cert: &str| {
        keycred()
            .args(["graph", "rotate", "--self", "--from-vault", "--app", app])
            .args([
                "--graph-url",
                "http://127.0.0.1:9",
                "--authority",
                "http://127.0.0.1:9",
            ])
            .args(["--tenant", TENANT, "--client-id", CLIENT])
            .args([
                "--auth-key-vault",
                "http://127.0.0.1:9",
                "--auth-vault-cert",
                cert,
            ])
            .env("KEYCRED_VAULT_TOKEN", "not used")
            .output()
            .unwrap()
    };
    assert_fails(
        &run("22222222-2222-4333-8444-555555555555", "daemon"),
        2,
        "the app adds its own renewals",
    );
    assert_fails(
        &run(CLIENT, "daemon/0f1e"),
        2,
        "name the certificate without a version",
    );
    let out = keycred()
        .args([
            "graph",
            "rotate",
            "--from-vault",
            "--app",
            CLIENT,
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT,
        ])
        .output()
        .unwrap();
    assert_fails(&out, 2, "--self");
}

#[test]
fn a_whole_tenant_rotation_makes_each_new_certificate_in_the_vault_and_verifies_it_there() {
    use crate::graph::{held, live_tenant, tenant_apps, TENANT as GRAPH_TENANT};
    // 20 apps: by i % 4 healthy, due, expired or without a certificate; the 10 due and expired ones rotate.
    let Some(tenant) = live_tenant(
        tenant_apps(20).as_array().unwrap().clone(),
        "Application.ReadWrite.All",
    ) else {
        return;
    };
    let dir = tenant.dir.path();
    // The OAuth server knows the admin by the secret live_tenant gives it.
    let token = admin_token_with(
        &tenant.oidc,
        GRAPH_TENANT,
        "https://vault.azure.net/.default",
        dir,
        "unused secret",
    );
    let vault = VaultServer::start_for(&tenant.oidc, GRAPH_TENANT);
    let out = dir.join("certs");
    let run = |extra: &[&str]| {
        tenant
            .keycred("rotate")
            .args(["--all", "--key-vault", &vault.url(), "--json", "--out"])
            .arg(&out)
            .arg("--vault-token-file")
            .arg(&token)
            .args(extra)
            .output()
            .unwrap()
    };
    let today = time::OffsetDateTime::now_utc().date();
    let dated = |base: &str| {
        format!(
            "{base}-{:04}{:02}{:02}",
            today.year(),
            u8::from(today.month()),
            today.day()
        )
    };
    let app_id = |i: usize| format!("20000000-0000-4000-8000-{i:012}");
    let bearer = format!("Bearer {}", std::fs::read_to_string(&token).unwrap().trim());
    let create = |name: &str, tag: &str| {
        vault.create_as(
            &token,
            name,
            serde_json::json!({
                "policy": {"key_props": {"exportable": false, "kty": "RSA", "key_size": 2048},
                           "x509_props": {"subject": "CN=App 1", "validity_months": 12},
                           "issuer": {"name": "Self"}},
                "tags": {"keycred-app": tag},
            }),
        )
    };

    // Refused before anything is sent: with --ca, one --name for every app, a vault of another cloud, a validity
    // the vault cannot make.
    assert_fails(&run(&["--ca"]), 2, "--ca");
    assert_fails(&run(&["--name", "daemon"]), 2, "leave --name out");
    let other_cloud = tenant
        .keycred("rotate")
        .args([
            "--all",
            "--key-vault",
            "https://contoso.vault.azure.cn",
            "--vault-token-file",
        ])
        .arg(&token)
        .output()
        .unwrap();
    assert_fails(&other_cloud, 2, "vault.azure.cn");
    assert!(vault.log().is_empty(), "{:?}", vault.log());
    let short = output_json(&run(&["--max-lifetime", "P20D"]));
    let due = short["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["appId"] == app_id(1))
        .unwrap();
    assert_eq!(due["result"], "skipped", "{due:#}");
    assert!(
        due["skipped"].as_str().unwrap().contains("whole months"),
        "{due:#}"
    );

    // An earlier run made app 1's certificate and stopped before Graph got it; app 5's name of the day is held by
    // another app's certificate.
    create(&dated("app-1"), &app_id(1));
    create(&dated("app-5"), "20000000-0000-4000-8000-999999999999");
    std::thread::sleep(std::time::Duration::from_millis(400));
    let pre_made = vault.get_with(
        &format!("/certificates/{}?api-version=7.4", dated("app-1")),
        &bearer,
    );
    let creates_before = creates(&vault.log());

    // The plan asks the vault nothing and makes nothing.
    let plan = output_json(&run(&[]));
    assert_eq!(plan["applied"], false, "{plan:#}");
    assert_eq!(creates(&vault.log()), creates_before);

    let applied = run(&["--apply", "--verify"]);
    let report = output_json(&applied);
    let apps = report["apps"].as_array().unwrap();
    let mut rotated = 0;
    for i in 0..20 {
        let object_id = format!("10000000-0000-4000-8000-{i:012}");
        let app = apps.iter().find(|a| a["id"] == object_id).unwrap();
        if i % 4 == 0 || i % 4 == 3 {
            assert_ne!(app["result"], "rotated", "{app:#}");
            assert!(app["keyVault"].is_null(), "{app:#}");
            continue;
        }
        rotated += 1;
        assert_eq!(app["result"], "rotated", "{app:#}");
        assert_eq!(app["verified"], true, "{app:#}");
        let name = app["keyVault"]["name"].as_str().unwrap();
        let expected = match i {
            5 => format!("{}-2", dated("app-5")),
            _ => dated(&format!("app-{i}")),
        };
        assert_eq!(name, expected, "{app:#}");
        assert_eq!(app["keyVault"]["exportable"], false);
        // The vault's certificate is the one Graph now holds, tagged with the app.
        let version = app["keyVault"]["version"].as_str().unwrap();
        let in_vault = vault.get_with(
            &format!("/certificates/{name}/{version}?api-version=7.4"),
            &bearer,
        );
        assert_eq!(in_vault["tags"]["keycred-app"], app_id(i), "{in_vault:#}");
        let now_held = held(&tenant, &object_id);
        assert_eq!(now_held.len(), 2, "{app:#}");
        assert_eq!(now_held[1]["key"], in_vault["cer"], "{app:#}");
        if i == 1 {
            assert_eq!(
                in_vault["cer"], pre_made["cer"],
                "the earlier run's certificate was added"
            );
        }
        // Its files: the certificate and the fragment, beside keycred's record of where the key is.
        let folder = out.join(app_id(i));
        assert!(folder.join(format!("{name}.cer")).exists());
        assert!(folder.join(format!("{name}.keycredentials.json")).exists());
        let record: Value = serde_json::from_slice(
            &std::fs::read(folder.join(format!("{name}.keycred-state.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(record["keyVault"]["version"], version, "{record:#}");
        assert!(record["verified"].is_string(), "{record:#}");
        // check says where the certificate's key is.
        if i == 2 {
            let checked = keycred()
                .args(["check", "--json"])
                .arg(folder.join(format!("{name}.cer")))
                .output()
                .unwrap();
            assert_eq!(
                output_json(&checked)["files"][0]["keyHeld"],
                format!(
                    "in Azure Key Vault, not exportable: {}",
                    app["keyVault"]["kid"].as_str().unwrap()
                ),
            );
        }
    }
    assert_eq!(rotated, 10);
    let log = vault.log();
    // Nine made by the run (app 1's was the earlier run's), and every --verify token signed by its new version.
    assert_eq!(creates(&log) - creates_before, 9, "{log:#?}");
    let signed: std::collections::BTreeSet<&str> = log
        .iter()
        .filter_map(|e| e["signedBy"].as_str())
        .map(|s| s.split('/').next().unwrap())
        .collect();
    assert_eq!(signed.len(), 10, "{signed:?}");
    for key in vault.get("/_test/keys").as_array().unwrap() {
        assert_eq!(key["exportable"], false, "{key}");
    }
    assert_no_key_under(&out);

    // The next run finds nothing due and makes nothing.
    let again = output_json(&run(&["--apply"]));
    assert!(
        again["apps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["result"] != "rotated"),
        "{again:#}"
    );
    assert_eq!(creates(&vault.log()) - creates_before, 9);

    // graph apps says which certificates' keys the vault holds; its vault token is the automation app's own,
    // got with its credential (no --vault-token-file here).
    let vault_callers = |log: &[Value]| -> Vec<String> {
        log.iter()
            .filter_map(|e| e["appId"].as_str().map(str::to_owned))
            .collect()
    };
    let before = vault.log().len();
    let scanned = output_json(
        &tenant
            .keycred("apps")
            .env_remove("KEYCRED_VAULT_TOKEN")
            .args(["--json", "--key-vault", &vault.url()])
            .output()
            .unwrap(),
    );
    let callers = vault_callers(&vault.log()[before..]);
    assert!(
        !callers.is_empty() && callers.iter().all(|c| c == crate::graph::AUTOMATION),
        "{callers:?}"
    );
    let text = stdout(
        &tenant
            .keycred("apps")
            .args(["--key-vault", &vault.url(), "--vault-token-file"])
            .arg(&token)
            .output()
            .unwrap(),
    );
    assert!(
        text.contains(&format!(
            "in Key Vault, not exportable: {}/",
            dated("app-1")
        )),
        "{text}"
    );
    let scanned_app = |i: usize| {
        scanned["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["appId"] == app_id(i))
            .unwrap()
            .clone()
    };
    let due = scanned_app(1);
    let held_by_vault: Vec<&Value> = due["keysInVault"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["in"].is_string())
        .collect();
    assert_eq!(held_by_vault.len(), 1, "{due:#}");
    assert!(
        held_by_vault[0]["in"]
            .as_str()
            .unwrap()
            .starts_with(&dated("app-1")),
        "{due:#}"
    );
    assert!(scanned_app(0)["keysInVault"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["in"].is_null()));
    // The vault's AutoRenew makes new versions of two apps' certificates; the daily admin run adds each to its app
    // (one PATCH), names nothing else, makes nothing, and gets each app's token with the new version's key.
    let renewed: Vec<(usize, String)> = [2, 6]
        .into_iter()
        .map(|i| {
            let name = apps.iter().find(|a| a["appId"] == app_id(i)).unwrap()["keyVault"]["name"]
                .as_str()
                .unwrap()
                .to_owned();
            let answer = vault.post("/_test/renew", serde_json::json!({"name": name}));
            (
                i,
                answer["id"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let from_vault = |extra: &[&str]| {
        tenant
            .keycred("rotate")
            .args([
                "--from-vault",
                "--all",
                "--key-vault",
                &vault.url(),
                "--json",
                "--out",
            ])
            .arg(&out)
            .arg("--vault-token-file")
            .arg(&token)
            .args(extra)
            .output()
            .unwrap()
    };
    let plan = output_json(&from_vault(&[]));
    // The tagged apps, and the app the planted certificate names, which the tenant does not have: said, not added.
    assert_eq!(plan["apps"].as_array().unwrap().len(), 11, "{plan:#}");
    let stranger = "20000000-0000-4000-8000-999999999999";
    let failed = plan["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == stranger)
        .unwrap();
    assert_eq!(failed["result"], "failed", "{failed:#}");
    assert!(
        failed["error"].as_str().unwrap().contains(
            "tagged keycred-app=20000000-0000-4000-8000-999999999999, and the tenant has no such application"
        ),
        "{failed:#}"
    );
    let patches_before = crate::graph::patches(&tenant).len();
    let applied = output_json(&from_vault(&["--apply", "--verify"]));
    for a in applied["apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["id"] != stranger)
    {
        match renewed.iter().find(|(i, _)| a["appId"] == app_id(*i)) {
            Some((_, version)) => {
                assert_eq!(a["result"], "rotated", "{a:#}");
                assert_eq!(a["keyVault"]["version"], version.as_str(), "{a:#}");
                assert_eq!(a["verified"], true, "{a:#}");
            }
            None => assert_eq!(a["result"], "skipped", "{a:#}"),
        }
    }
    assert_eq!(crate::graph::patches(&tenant).len() - patches_before, 2);
    assert_eq!(creates(&vault.log()) - creates_before, 9, "nothing made");
    let again = output_json(&from_vault(&["--apply"]));
    assert!(
        again["apps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["id"] != stranger)
            .all(|a| a["result"] == "skipped"),
        "{again:#}"
    );
}

/// How many certificates the vault was asked to make.
fn creates(log: &[Value]) -> usize {
    log.iter()
        .filter(|e| e["method"] == "POST" && e["path"].as_str().unwrap().contains("/create"))
        .count()
}

#[test]
fn a_self_rotation_makes_the_new_certificate_in_the_vault_proven_by_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_issuer, vault, token)) = vault_for(crate::graph::TENANT, dir.path()) else {
        return;
    };
    let certs = dir.path().join("certs");
    let made = keycred()
        .args([
            "new",
            "--subject",
            "Rotation Automation",
            "--key-vault",
            &vault.url(),
        ])
        .args(["--name", "automation", "--json", "--vault-token-file"])
        .arg(&token)
        .arg("--out")
        .arg(&certs)
        .output()
        .unwrap();
    let current_version = output_json(&made)["keyVault"]["version"]
        .as_str()
        .unwrap()
        .to_owned();
    let apps = serde_json::json!([crate::graph::automation_app(&certs.join("automation.cer"))]);
    // Entra honours the credentials Graph holds (the new one once added) through the Graph server's state.
    let state = dir.path().join("graph-url.txt");
    let Some(entra) = OidcServer::launch_with_env(
        crate::graph::TENANT,
        crate::graph::AUTOMATION,
        &certs.join("automation.pem"),
        (ADMIN, ADMIN_SECRET),
        None,
        &[
            ("GRAPH_ROLES", "Application.Read.All"),
            ("GRAPH_STATE_FILE", state.to_str().unwrap()),
        ],
    ) else {
        return;
    };
    let graph = crate::graph::GraphServer::start(&entra, &apps, dir.path());
    std::fs::write(&state, graph.url()).unwrap();
    let before = vault.log().len();
    let out = keycred()
        .args([
            "graph",
            "rotate",
            "--self",
            "--app",
            crate::graph::AUTOMATION,
            "--force-renewal",
        ])
        .args([
            "--key-vault",
            &vault.url(),
            "--auth-key-vault",
            &vault.url(),
            "--auth-vault-cert",
            "automation",
        ])
        .args(["--apply", "--verify", "--retire-previous", "--json"])
        .args(crate::graph::as_automation(&graph, &entra))
        .arg("--vault-token-file")
        .arg(&token)
        .arg("--out")
        .arg(dir.path().join("next"))
        .output()
        .unwrap();
    let report = output_json(&out);
    let app = &report["apps"][0];
    assert_eq!(app["result"], "rotated", "{report:#}");
    assert_eq!(app["verified"], true, "{report:#}");
    assert_eq!(
        app["retired"], "50000000-0000-4000-8000-000000000001",
        "{report:#}"
    );
    let new_name = app["keyVault"]["name"].as_str().unwrap().to_owned();
    assert!(new_name.starts_with("rotation-automation-"), "{new_name}");
    // Who signed what, in the vault's log: the run's token and the addKey proof by the current version, the
    // verification token and the removeKey proof by the new certificate's key.
    let signers: Vec<String> = vault.log()[before..]
        .iter()
        .filter_map(|e| e["signedBy"].as_str().map(str::to_owned))
        .collect();
    let current = format!("automation/{current_version}");
    assert!(
        signers.iter().filter(|s| **s == current).count() >= 2,
        "{signers:?}"
    );
    assert!(
        signers
            .iter()
            .filter(|s| s.starts_with(&format!("{new_name}/")))
            .count()
            >= 2,
        "{signers:?}"
    );
    let log = graph.log();
    // addKey answers 200 with the new credential, removeKey 204, as Graph does.
    for (action, status) in [("/addKey", 200), ("/removeKey", 204)] {
        assert!(
            log.iter()
                .any(|e| e["path"].as_str().unwrap().ends_with(action) && e["status"] == status),
            "{action}: {log:#?}"
        );
    }
    crate::vault::assert_no_key_under(&dir.path().join("next"));
}

#[test]
fn a_vault_of_another_cloud_is_refused_by_graph_apps_and_add_key_before_anything_is_sent() {
    // Nothing listens on port 9: a request made there would fail with a network error, not this one.
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("graph.token");
    std::fs::write(&token, "not used").unwrap();
    let apps = keycred()
        .args([
            "graph",
            "apps",
            "--graph-url",
            "http://127.0.0.1:9",
            "--token-file",
        ])
        .arg(&token)
        .args(["--key-vault", "https://contoso.vault.azure.cn"])
        .env("KEYCRED_VAULT_TOKEN", "not used")
        .output()
        .unwrap();
    assert_fails(&apps, 2, "another cloud");
    let added = keycred()
        .args([
            "graph",
            "add-key",
            "--object-id",
            "40000000-0000-4000-8000-000000000001",
        ])
        .arg("--cert")
        .arg(fixture("openssl-rsa.cer"))
        .args([
            "--key-vault",
            "https://contoso.vault.azure.cn",
            "--vault-cert",
            "daemon",
        ])
        .env("KEYCRED_VAULT_TOKEN", "not used")
        .output()
        .unwrap();
    assert_fails(&added, 2, "another cloud");
}
