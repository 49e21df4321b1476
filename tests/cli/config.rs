//! `keycred config` against the real libraries: azure-identity (EnvironmentCredential from the `env` output,
//! CertificateCredential from the snippet), MSAL Python and @azure/msal-node, each configured only from keycred's
//! output and each getting a token from oidc-provider on 127.0.0.1 over https, laid out like Entra. The server
//! verifies every client assertion against the certificate registered for the client, so a token proves the
//! configuration works; a configuration for an unregistered certificate must fail.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use serde_json::Value;

use crate::common::*;
use crate::flow::{OidcServer, Tls};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "0d6f2a4e-5c1b-4b7a-9d3e-1f2a3b4c5d6e";
const SCOPE: &str = "api://keycred-test/.default";
const PASSWORD: &str = "the daemon's pfx password, long enough";

/// A credential (with a PEM bundle) in `dir`, named `name`; returns the PFX password file.
fn credential(dir: &Path, name: &str) -> PathBuf {
    let pw = dir.join(format!("{name}.pw"));
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let out = keycred()
        .args(["new", "--subject", &format!("CN={name}"), "--out"])
        .arg(dir)
        .args(["--name", name, "--pem-bundle", "--password-file"])
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

struct Setup {
    dir: tempfile::TempDir,
    tls: Tls,
    server: OidcServer,
}

impl Setup {
    /// A registered credential `daemon`, an unregistered one `stranger`, and the https server; `None` (skipped)
    /// when a peer is missing outside CI.
    fn start() -> Option<Setup> {
        Setup::start_with(|dir| {
            credential(dir, "daemon");
            credential(dir, "stranger");
            Some(dir.join("daemon.pem"))
        })
    }

    /// The https server with the certificate `register` leaves in the folder registered for the client.
    fn start_with(register: impl FnOnce(&Path) -> Option<PathBuf>) -> Option<Setup> {
        let libraries = peer_available("python3", &["-c", "import azure.identity, msal"]);
        let msal_node = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/oidc/node_modules/@azure/msal-node")
            .exists();
        if !msal_node && std::env::var("CI").as_deref() == Ok("true") {
            panic!("@azure/msal-node is required when CI=true: run npm ci --prefix tests/oidc");
        }
        if !libraries || !msal_node {
            eprintln!("SKIPPED: azure-identity, msal or @azure/msal-node is not installed");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let registered = register(dir.path())?;
        let tls = Tls::new(dir.path());
        let server = OidcServer::launch(
            TENANT,
            CLIENT,
            &registered,
            ("unused", "unused"),
            Some(&tls),
        )?;
        Some(Setup { dir, tls, server })
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// `keycred config --for TARGET` for this tenant, client, scope and server, with `files`.
    fn config(&self, target: &str, files: &[&str]) -> (String, String) {
        let out = keycred()
            .args([
                "config",
                "--for",
                target,
                "--tenant",
                TENANT,
                "--client-id",
                CLIENT,
            ])
            .args(["--scope", SCOPE, "--authority", &self.server.authority()])
            .args(files)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "config --for {target} {files:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    /// Runs a Python snippet with `print(access_token)` appended; the CA is trusted as requests does it.
    fn python(&self, snippet: &str, env: &[(String, String)]) -> std::process::Output {
        self.run(
            "python3",
            "snippet.py",
            &format!("{snippet}print(access_token)\n"),
            ("REQUESTS_CA_BUNDLE", env),
        )
    }

    /// Runs an msal-node snippet (an ES module) with `console.log(accessToken)` appended.
    fn node(&self, snippet: &str, env: &[(String, String)]) -> std::process::Output {
        let modules = self.dir.path().join("node_modules");
        if !modules.exists() {
            std::os::unix::fs::symlink(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/node_modules"),
                &modules,
            )
            .unwrap();
        }
        let program = format!("{snippet}console.log(accessToken);\n");
        self.run(
            "node",
            "snippet.mjs",
            &program,
            ("NODE_EXTRA_CA_CERTS", env),
        )
    }

    /// Saves `program` as `name` and runs it with `interpreter`, the test CA trusted through `ca_variable`.
    fn run(
        &self,
        interpreter: &str,
        name: &str,
        program: &str,
        (ca_variable, env): (&str, &[(String, String)]),
    ) -> std::process::Output {
        let file = self.dir.path().join(name);
        std::fs::write(&file, program).unwrap();
        StdCommand::new(interpreter)
            .arg(&file)
            .env(ca_variable, &self.tls.ca)
            .envs(env.iter().cloned())
            .output()
            .unwrap()
    }

    /// The PFX password in the variable the output names (as the person deploying sets it).
    fn password_env(&self) -> Vec<(String, String)> {
        vec![(
            "AZURE_CLIENT_CERTIFICATE_PASSWORD".to_owned(),
            PASSWORD.to_owned(),
        )]
    }
}

/// The token's claims, after checking that the library got one for this app from this server.
fn token_for_the_app(out: &std::process::Output, what: &str) -> Value {
    assert!(
        out.status.success(),
        "{what}: the library got no token:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let decoded = keycred()
        .args(["decode", "-", "--json"])
        .write_stdin(token)
        .output()
        .unwrap();
    let claims = json(&decoded)["claims"].clone();
    assert_eq!(claims["azp"], CLIENT, "{what}: {claims}");
    assert_eq!(claims["aud"], crate::flow::API_APP_ID, "{what}: {claims}");
    assert_eq!(claims["tid"], TENANT, "{what}: {claims}");
    claims
}

/// Parses the `env` output as a dotenv/systemd EnvironmentFile reader would (comments skipped, quotes removed).
fn env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (name, value) = line.split_once('=').expect("NAME=value");
            (name.to_owned(), value.trim_matches('\'').to_owned())
        })
        .collect()
}

#[test]
fn azure_identity_gets_a_token_from_the_env_output_and_the_snippet() {
    let Some(setup) = Setup::start() else { return };
    let bundle = setup.path("daemon.bundle.pem");
    let pfx = setup.path("daemon.pfx");
    let pw = setup.path("daemon.pw");

    // EnvironmentCredential from the env output: the bundle, then the PFX with its password where the note says.
    let script = "import os, sys\nfrom azure.identity import EnvironmentCredential\n\
                  access_token = EnvironmentCredential(disable_instance_discovery=True).get_token(sys.argv[1]).token\n";
    for (files, password) in [
        (vec!["--bundle", bundle.as_str()], false),
        (
            vec!["--pfx", pfx.as_str(), "--password-file", pw.as_str()],
            true,
        ),
    ] {
        let (text, notes) = setup.config("env", &files);
        assert!(
            text.contains(&format!("AZURE_CLIENT_ID={CLIENT}\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "AZURE_AUTHORITY_HOST={}\n",
                setup.server.authority()
            )),
            "{text}"
        );
        assert!(!text.contains(PASSWORD) && !notes.contains(PASSWORD));
        assert!(notes.contains("disable_instance_discovery=True"), "{notes}");
        assert_eq!(
            notes.contains("AZURE_CLIENT_CERTIFICATE_PASSWORD"),
            password,
            "{notes}"
        );
        let mut env = env_file(&text);
        if password {
            env.extend(setup.password_env());
        }
        let file = setup.dir.path().join("env.py");
        std::fs::write(&file, format!("{script}print(access_token)\n")).unwrap();
        let out = StdCommand::new("python3")
            .arg(&file)
            .arg(SCOPE)
            .env("REQUESTS_CA_BUNDLE", &setup.tls.ca)
            .envs(env)
            .output()
            .unwrap();
        token_for_the_app(&out, &format!("EnvironmentCredential {files:?}"));
    }

    // CertificateCredential from the azure-identity snippet, with the bundle and with the PFX.
    for (files, env) in [
        (vec!["--bundle", bundle.as_str()], vec![]),
        (
            vec!["--pfx", pfx.as_str(), "--password-file", pw.as_str()],
            setup.password_env(),
        ),
    ] {
        let (snippet, _) = setup.config("azure-identity", &files);
        assert!(
            snippet.contains("disable_instance_discovery=True"),
            "{snippet}"
        );
        token_for_the_app(
            &setup.python(&snippet, &env),
            &format!("CertificateCredential {files:?}"),
        );
    }

    // A credential the server does not know is refused: the tokens above came from verified assertions.
    let (snippet, _) = setup.config(
        "azure-identity",
        &["--bundle", &setup.path("stranger.bundle.pem")],
    );
    let out = setup.python(&snippet, &[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("client authentication failed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn msal_python_and_msal_node_get_tokens_from_their_snippets() {
    let Some(setup) = Setup::start() else { return };
    let (bundle, pfx, pw) = (
        setup.path("daemon.bundle.pem"),
        setup.path("daemon.pfx"),
        setup.path("daemon.pw"),
    );
    let (cer, pem, key) = (
        setup.path("daemon.cer"),
        setup.path("daemon.pem"),
        setup.path("daemon.key"),
    );
    let sha256 = keycred_stdout(&["thumbprint", "--form", "sha256", &pem]);
    let sha1 = keycred_stdout(&["thumbprint", "--form", "sha1", &pem]);

    // MSAL Python: the PFX path form, the SHA-256 form (key + certificate, PEM or DER) and the SHA-1 form.
    for (files, env, marker) in [
        (
            vec!["--pfx", pfx.as_str(), "--password-file", pw.as_str()],
            setup.password_env(),
            "\"private_key_pfx_path\"",
        ),
        (
            vec!["--cert", pem.as_str(), "--key", key.as_str()],
            vec![],
            sha256.as_str(),
        ),
        (
            vec!["--cert", cer.as_str(), "--key", key.as_str()],
            vec![],
            "BEGIN CERTIFICATE",
        ),
        (
            vec!["--bundle", bundle.as_str()],
            vec![],
            "\"public_certificate\"",
        ),
        (
            vec![
                "--cert",
                cer.as_str(),
                "--key",
                key.as_str(),
                "--thumbprint",
                "sha1",
            ],
            vec![],
            sha1.as_str(),
        ),
    ] {
        let (snippet, _) = setup.config("msal-python", &files);
        assert!(snippet.contains(marker), "{marker}: {snippet}");
        assert!(snippet.contains("instance_discovery=False"), "{snippet}");
        token_for_the_app(
            &setup.python(&snippet, &env),
            &format!("MSAL Python {files:?}"),
        );
    }

    // msal-node: key + certificate (SHA-256, then SHA-1), and the bundle.
    for (files, marker) in [
        (
            vec!["--cert", pem.as_str(), "--key", key.as_str()],
            format!("thumbprintSha256: \"{sha256}\""),
        ),
        (
            vec![
                "--cert",
                cer.as_str(),
                "--key",
                key.as_str(),
                "--thumbprint",
                "sha1",
            ],
            format!("thumbprint: \"{sha1}\""),
        ),
        (
            vec!["--bundle", bundle.as_str()],
            "privateKey: readFileSync".to_owned(),
        ),
    ] {
        let (snippet, _) = setup.config("msal-node", &files);
        assert!(snippet.contains(&marker), "{marker}: {snippet}");
        token_for_the_app(&setup.node(&snippet, &[]), &format!("msal-node {files:?}"));
    }

    // The unregistered credential is refused by the server through both libraries.
    let stranger = setup.path("stranger.bundle.pem");
    let (snippet, _) = setup.config("msal-python", &["--bundle", &stranger]);
    let out = setup.python(&snippet, &[]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("invalid_client"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (snippet, _) = setup.config("msal-node", &["--bundle", &stranger]);
    let out = setup.node(&snippet, &[]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("invalid_client"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn config_refuses_files_that_do_not_belong_together_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let pw = credential(dir.path(), "daemon");
    credential(dir.path(), "other");
    let p = |name: &str| dir.path().join(name).display().to_string();
    let config = |extra: &[&str]| {
        keycred()
            .args(["config", "--tenant", TENANT, "--client-id", CLIENT])
            .args(extra)
            .output()
            .unwrap()
    };
    // A key that is not the certificate's, a bundle of another certificate.
    assert_fails(
        &config(&[
            "--for",
            "msal-node",
            "--cert",
            &p("daemon.pem"),
            "--key",
            &p("other.key"),
        ]),
        1,
        "this private key is not the certificate's (CN=daemon",
    );
    assert_fails(
        &config(&[
            "--for",
            "env",
            "--cert",
            &p("daemon.pem"),
            "--bundle",
            &p("other.bundle.pem"),
        ]),
        1,
        "not the one given first",
    );
    // What each target cannot read, with the file to give instead.
    assert_fails(
        &config(&[
            "--for",
            "az",
            "--pfx",
            &p("daemon.pfx"),
            "--password-file",
            pw.to_str().unwrap(),
        ]),
        2,
        "az cannot read a PFX",
    );
    assert_fails(
        &config(&[
            "--for",
            "msal-node",
            "--pfx",
            &p("daemon.pfx"),
            "--password-file",
            pw.to_str().unwrap(),
        ]),
        2,
        "msal-node cannot read a PFX",
    );
    assert_fails(
        &config(&["--for", "env", "--cert", &p("daemon.pem")]),
        2,
        "give --bundle NAME.bundle.pem",
    );
    assert_fails(
        &config(&["--for", "env", "--bundle", &p("daemon.pem")]),
        1,
        "has no PRIVATE KEY block",
    );
    assert_fails(
        &config(&[
            "--for",
            "env",
            "--bundle",
            &p("daemon.bundle.pem"),
            "--scope",
            "User.Read",
        ]),
        2,
        "must be one resource's .default scope",
    );
    assert_fails(&config(&["--for", "env"]), 2, "--cert <FILE>");

    // --out: written once, refused the second time, replaced with --force; the PFX password never appears.
    let out_file = dir.path().join("deploy/daemon.env");
    let args = [
        "--for",
        "env",
        "--pfx",
        &p("daemon.pfx"),
        "--password-file",
        pw.to_str().unwrap(),
        "--out",
        out_file.to_str().unwrap(),
    ];
    let first = config(&args);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(first.stdout.is_empty());
    let written = std::fs::read_to_string(&out_file).unwrap();
    assert!(
        written.contains("AZURE_CLIENT_CERTIFICATE_PATH="),
        "{written}"
    );
    assert!(!written.contains(PASSWORD));
    assert!(String::from_utf8_lossy(&first.stderr).contains("wrote "));
    std::fs::write(&out_file, "kept\n").unwrap();
    assert_fails(&config(&args), 1, "exists");
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "kept\n");
    let mut forced = args.to_vec();
    forced.push("--force");
    assert!(config(&forced).status.success());
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), written);

    // --json: the same content, the notes, and which language it is.
    let out = config(&[
        "--for",
        "microsoft-identity-web",
        "--pfx",
        &p("daemon.pfx"),
        "--password-file",
        pw.to_str().unwrap(),
        "--json",
    ]);
    let doc = json(&out);
    assert_eq!(doc["language"], "json");
    let section: Value = serde_json::from_str(doc["content"].as_str().unwrap()).unwrap();
    assert_eq!(
        section["AzureAd"]["ClientCredentials"][0],
        serde_json::json!({"SourceType": "Path", "CertificateDiskPath": p("daemon.pfx")})
    );
    assert_eq!(
        section["AzureAd"]["Instance"],
        "https://login.microsoftonline.com/"
    );
    assert!(doc["notes"][0]
        .as_str()
        .unwrap()
        .contains("AzureAd__ClientCredentials__0__CertificatePassword"));
    let sha1 = keycred_stdout(&["thumbprint", "--form", "sha1", &p("daemon.pem")]);
    let out = config(&[
        "--for",
        "msal-dotnet",
        "--cert",
        &p("daemon.cer"),
        "--source",
        "store",
        "--store",
        "LocalMachine/My",
    ]);
    let section = json(&out);
    assert_eq!(
        section["AzureAd"]["ClientCredentials"][0],
        serde_json::json!({"SourceType": "StoreWithThumbprint", "CertificateStorePath": "LocalMachine/My", "CertificateThumbprint": sha1})
    );
    let out = config(&[
        "--for",
        "microsoft-identity-web",
        "--cert",
        &p("daemon.cer"),
        "--source",
        "keyvault",
        "--key-vault-url",
        "https://contoso.vault.azure.net",
        "--key-vault-cert-name",
        "daemon",
    ]);
    let section = json(&out);
    assert_eq!(
        section["AzureAd"]["ClientCredentials"][0],
        serde_json::json!({"SourceType": "KeyVault", "KeyVaultUrl": "https://contoso.vault.azure.net", "KeyVaultCertificateName": "daemon"})
    );
    let deployed = keycred_stdout(&[
        "config",
        "--for",
        "env",
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT,
        "--bundle",
        &p("daemon.bundle.pem"),
        "--deploy-dir",
        "/etc/contoso-daemon",
    ]);
    assert!(
        deployed.contains("\nAZURE_CLIENT_CERTIFICATE_PATH=/etc/contoso-daemon/daemon.bundle.pem"),
        "{deployed}"
    );
    let az = keycred_stdout(&[
        "config",
        "--for",
        "az",
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT,
        "--bundle",
        &p("daemon.bundle.pem"),
    ]);
    assert_eq!(
        az,
        format!(
            "az login --service-principal --username {CLIENT} --tenant {TENANT} --certificate {}",
            p("daemon.bundle.pem")
        )
    );
}

#[test]
fn msal_python_gets_a_token_with_a_certificate_from_the_ca() {
    // The client's certificate comes from OpenSSL as a two-level CA, through keycred csr and keycred import.
    let Some(setup) = Setup::start_with(|dir| {
        let ca = crate::ca::Ca::new()?;
        let pw = dir.join("daemon.pw");
        std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
        keycred_stdout(&[
            "csr",
            "--subject",
            "CN=Contoso Daemon",
            "--out",
            dir.to_str().unwrap(),
            "--name",
            "daemon",
        ]);
        let leaf = ca.issue(&dir.join("daemon.csr"), "300", "leaf.pem");
        keycred_stdout(&[
            "import",
            "--cert",
            leaf.to_str().unwrap(),
            "--chain",
            ca.path("inter.pem").to_str().unwrap(),
            "--key",
            dir.join("daemon.key").to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
            "--name",
            "daemon",
            "--pem-bundle",
            "--password-file",
            pw.to_str().unwrap(),
        ]);
        Some(dir.join("daemon.pem"))
    }) else {
        return;
    };
    let (pfx, pw, pem, key) = (
        setup.path("daemon.pfx"),
        setup.path("daemon.pw"),
        setup.path("daemon.pem"),
        setup.path("daemon.key"),
    );
    let issuer = run_peer("openssl", &["x509", "-noout", "-issuer", "-in", &pem]);
    assert!(issuer.contains("Contoso Issuing CA"), "{issuer}");
    for (files, env) in [
        (
            vec!["--pfx", pfx.as_str(), "--password-file", pw.as_str()],
            setup.password_env(),
        ),
        (vec!["--cert", pem.as_str(), "--key", key.as_str()], vec![]),
    ] {
        let (snippet, _) = setup.config("msal-python", &files);
        token_for_the_app(
            &setup.python(&snippet, &env),
            &format!("MSAL Python, CA-issued, {files:?}"),
        );
    }
}

/// The environment a daemon whose key is held elsewhere runs with: keycred on its PATH, and `extra`.
fn held_env(extra: &[(&str, String)]) -> Vec<(String, String)> {
    let bin = Path::new(env!("CARGO_BIN_EXE_keycred")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::iter::once(("PATH".to_owned(), path))
        .chain(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())))
        .collect()
}

#[test]
fn msal_and_azure_identity_get_tokens_with_a_key_held_in_a_token_or_a_vault() {
    let Some(hsm) = crate::pkcs11::SoftHsm::start() else {
        return;
    };
    // A key in the token: its certificate is the registered one.
    let Some(setup) = Setup::start_with(|dir| {
        stdout(&crate::pkcs11::new_in_token(
            &hsm,
            "daemon",
            "CN=Token Daemon",
            &dir.join("token"),
        ));
        Some(dir.join("token/token-daemon.pem"))
    }) else {
        return;
    };
    let cer = setup.path("token/token-daemon.cer");
    let module = hsm.flags("daemon")[1].to_string_lossy().into_owned();
    let held = [
        "--cert",
        cer.as_str(),
        "--pkcs11-module",
        module.as_str(),
        "--pkcs11-token",
        "keycred-test",
        "--pkcs11-key",
        "daemon",
    ];
    let pin = std::fs::read_to_string(hsm.flags("daemon")[7].clone())
        .unwrap()
        .trim()
        .to_owned();
    let env = held_env(&[
        ("SOFTHSM2_CONF", hsm.conf().display().to_string()),
        ("KEYCRED_PKCS11_PIN", pin),
    ]);
    for target in ["msal-python", "azure-identity", "msal-node"] {
        let (snippet, notes) = setup.config(target, &held);
        assert!(!snippet.contains("PRIVATE KEY"), "{snippet}");
        assert!(
            snippet.contains("\"--pkcs11-key\", \"daemon\""),
            "{snippet}"
        );
        assert!(notes.contains("KEYCRED_PKCS11_PIN"), "{notes}");
        let out = match target {
            "msal-node" => setup.node(&snippet, &env),
            _ => setup.python(&snippet, &env),
        };
        token_for_the_app(&out, target);
    }
    // A target that reads the key from a file is refused, saying which take a callback.
    let refused = keycred()
        .args([
            "config",
            "--for",
            "env",
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT,
        ])
        .args(held)
        .output()
        .unwrap();
    assert_fails(&refused, 2, "msal-python, msal-node or azure-identity");

    // A key in the vault: the callback signs there with the vault's token from the daemon's environment.
    let vault_dir = tempfile::tempdir().unwrap();
    let Some((_issuer, vault, token)) = crate::vault::vault_for(TENANT, vault_dir.path()) else {
        return;
    };
    let made = keycred()
        .args([
            "new",
            "--subject",
            "CN=Vault Daemon",
            "--key-vault",
            &vault.url(),
            "--name",
            "daemon",
        ])
        .arg("--vault-token-file")
        .arg(&token)
        .arg("--out")
        .arg(vault_dir.path().join("certs"))
        .output()
        .unwrap();
    stdout(&made);
    let Some(setup) = Setup::start_with(|dir| {
        let pem = dir.join("vault-daemon.pem");
        std::fs::copy(vault_dir.path().join("certs/daemon.pem"), &pem).unwrap();
        Some(pem)
    }) else {
        return;
    };
    let pem = setup.path("vault-daemon.pem");
    let vault_url = vault.url();
    let held = [
        "--cert",
        pem.as_str(),
        "--key-vault",
        vault_url.as_str(),
        "--vault-cert",
        "daemon",
    ];
    let env = held_env(&[(
        "KEYCRED_VAULT_TOKEN",
        std::fs::read_to_string(&token).unwrap().trim().to_owned(),
    )]);
    let signed_before = vault
        .log()
        .iter()
        .filter(|e| e["signedBy"].is_string())
        .count();
    for target in ["msal-python", "azure-identity", "msal-node"] {
        let (snippet, notes) = setup.config(target, &held);
        assert!(notes.contains("KEYCRED_VAULT_TOKEN"), "{notes}");
        let out = match target {
            "msal-node" => setup.node(&snippet, &env),
            _ => setup.python(&snippet, &env),
        };
        token_for_the_app(&out, target);
    }
    let signed = vault
        .log()
        .iter()
        .filter(|e| e["signedBy"].is_string())
        .count();
    assert!(
        signed >= signed_before + 3,
        "each library's assertion was signed in the vault"
    );
}

/// A certificate's subject is someone else's text (a CA's, a vault's, a colleague's): its line breaks must not
/// become lines of the daemon code or the environment file that `config` writes, nor of `check`'s report.
#[test]
fn a_subject_with_line_breaks_writes_no_line_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let pem = fixture("openssl-control-subject.pem");
    let bundle = dir.path().join("control.bundle.pem");
    std::fs::write(
        &bundle,
        [
            std::fs::read(fixture("openssl-control-subject.key")).unwrap(),
            std::fs::read(&pem).unwrap(),
        ]
        .concat(),
    )
    .unwrap();
    let injected = |text: &str| {
        text.lines().any(|line| {
            line.trim_start().starts_with("import os") || line.starts_with('#') && line.len() == 1
        }) || text.contains('\u{1b}')
    };
    let config = |extra: &[&str]| {
        let out = keycred()
            .args(["config", "--tenant", TENANT, "--client-id", CLIENT])
            .args(extra)
            .output()
            .unwrap();
        stdout(&out)
    };
    let vault = [
        "--key-vault",
        "https://contoso.vault.azure.net",
        "--vault-cert",
        "daemon",
        "--cert",
        pem.to_str().unwrap(),
    ];
    for target in ["msal-python", "azure-identity", "msal-node"] {
        let text = config(&[&["--for", target][..], &vault].concat());
        assert!(!injected(&text), "{target}:\n{text}");
        assert!(
            text.contains(r"CN=Fixture\0Aimport os; os.system"),
            "{target}:\n{text}"
        );
    }
    for target in ["env", "azure-identity", "msal-python", "msal-node"] {
        let text = config(&["--for", target, "--bundle", bundle.to_str().unwrap()]);
        assert!(!injected(&text), "{target}:\n{text}");
    }
    // Python's own parser: the snippet calls no os.system.
    let snippet = config(&[&["--for", "msal-python"][..], &vault].concat());
    let parsed = StdCommand::new("python3")
        .args([
            "-c",
            "import ast, sys\ncalls = [n for n in ast.walk(ast.parse(sys.stdin.read())) if isinstance(n, ast.Call) \
             and getattr(n.func, 'attr', '') == 'system']\nprint(len(calls))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(snippet.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&parsed.stdout).trim(),
        "0",
        "{snippet}"
    );
    // check: the subject on its own line, escaped as OpenSSL's RFC 2253 form escapes it.
    let report = stdout(&keycred().arg("check").arg(&pem).output().unwrap());
    assert!(!injected(&report), "{report}");
    assert!(
        report.contains(r"CN=Fixture\0Aimport os; os.system"),
        "{report}"
    );
    assert!(report.contains(r"\1B[2K"), "{report}");
}
