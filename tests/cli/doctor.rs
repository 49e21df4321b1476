//! `keycred doctor`: a healthy client, API, credential, scope and rules give no finding; each test below breaks
//! exactly one thing and asserts the finding's id, its symptom and its fix.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::common::*;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const API_APP: &str = "c0ffee00-1111-4222-8333-444455556666";
const CLIENT_APP: &str = "11111111-2222-3333-4444-555555555555";
const ROLE: &str = "0f9a3c2b-1d4e-4f5a-8b6c-7d8e9f0a1b2c";

/// A healthy pair: the daemon's credential registered on the client, the client requesting the API's role.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let made = new_credential(dir.path(), &["--no-pfx"]);
        let fragment: Value = serde_json::from_slice(
            &fs::read(made["files"]["keyCredentials"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        let setup = Setup { dir };
        ManifestBuilder::realistic()
            .field("appId", json!(API_APP))
            .field("identifierUris", json!(["api://contoso-orders"]))
            .set("/api/requestedAccessTokenVersion", json!(2))
            .field(
                "appRoles",
                json!([{
                    "allowedMemberTypes": ["Application"], "description": "Read orders.", "displayName": "Read",
                    "id": ROLE, "isEnabled": true, "value": "Orders.Read"
                }]),
            )
            .write(&setup.path("api.json"));
        ManifestBuilder::realistic()
            .field("id", json!("2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c11"))
            .field("appId", json!(CLIENT_APP))
            .field("keyCredentials", fragment["keyCredentials"].clone())
            .field("passwordCredentials", json!([]))
            .field(
                "requiredResourceAccess",
                json!([{"resourceAppId": API_APP, "resourceAccess": [{"id": ROLE, "type": "Role"}]}]),
            )
            .write(&setup.path("client.json"));
        let rules = stdout(
            &keycred()
                .args(["api-policy", "--tenant", TENANT, "--manifest"])
                .arg(setup.path("api.json"))
                .args(["--role", "Orders.Read", "--format", "json"])
                .output()
                .unwrap(),
        );
        fs::write(setup.path("rules.json"), rules).unwrap();
        setup
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, value: &Value) {
        fs::write(
            self.path(name),
            serde_json::to_string_pretty(value).unwrap(),
        )
        .unwrap();
    }

    fn read(&self, name: &str) -> Value {
        serde_json::from_slice(&fs::read(self.path(name)).unwrap()).unwrap()
    }

    /// `keycred doctor` with only these inputs: (flag, a file of this setup).
    fn doctor_only(&self, inputs: &[(&str, &str)]) -> std::process::Output {
        let mut command = keycred();
        command.arg("doctor");
        for (flag, name) in inputs {
            command.arg(flag).arg(self.path(name));
        }
        command.output().unwrap()
    }

    fn doctor(&self, extra: &[&str]) -> std::process::Output {
        keycred()
            .arg("doctor")
            .arg("--client")
            .arg(self.path("client.json"))
            .arg("--api")
            .arg(self.path("api.json"))
            .arg("--credential")
            .arg(self.path("daemon.pem"))
            .arg("--credential-key")
            .arg(self.path("daemon.key"))
            .args(if extra.contains(&"--scope") {
                &[][..]
            } else {
                &["--scope", "api://contoso-orders/.default"][..]
            })
            .arg("--rules")
            .arg(self.path("rules.json"))
            .args(["--json"])
            .args(extra)
            .output()
            .unwrap()
    }
}

/// The findings of a run, by id.
fn findings(out: &std::process::Output) -> Vec<Value> {
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    report["findings"].as_array().unwrap().clone()
}

fn assert_finding(out: &std::process::Output, code: i32, id: &str, symptom: &str, fix: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let all = findings(out);
    let found = all
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {all:?}"));
    assert!(
        found["symptom"].as_str().unwrap().contains(symptom),
        "{found}"
    );
    assert!(found["fix"].as_str().unwrap().contains(fix), "{found}");
}

#[test]
fn a_healthy_setup_has_no_finding() {
    let setup = Setup::new();
    let out = setup.doctor(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(findings(&out).is_empty());
    let out = setup.doctor_only(&[("--client", "client.json"), ("--api", "api.json")]);
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("checked client, api, roles: 0 errors, 0 warnings: nothing found"));
}

#[test]
fn an_unregistered_or_mismatched_credential() {
    let setup = Setup::new();
    let other = setup.path("other");
    new_credential(&other, &["--no-pfx"]);
    let out = keycred()
        .arg("doctor")
        .arg("--client")
        .arg(setup.path("client.json"))
        .arg("--credential")
        .arg(other.join("daemon.pem"))
        .arg("--credential-key")
        .arg(other.join("daemon.key"))
        .arg("--json")
        .output()
        .unwrap();
    assert_finding(
        &out,
        4,
        "credential.not-registered",
        "AADSTS700027",
        "keycred rotate --cert",
    );
    assert_finding(
        &out,
        4,
        "credential.unmatched-registration",
        "a key nobody here holds",
        "--remove-key-id",
    );
    // The key of another credential beside the certificate.
    let out = keycred()
        .arg("doctor")
        .arg("--credential")
        .arg(setup.path("daemon.pem"))
        .arg("--credential-key")
        .arg(other.join("daemon.key"))
        .arg("--json")
        .output()
        .unwrap();
    assert_finding(
        &out,
        4,
        "credential.key-mismatch",
        "does not verify",
        "NAME.key",
    );
}

#[test]
fn a_scope_that_names_no_api() {
    let setup = Setup::new();
    let out = setup.doctor(&["--scope", "api://contoso-order/.default"]);
    assert_finding(
        &out,
        4,
        "scope.unknown-resource",
        "AADSTS500011",
        "api://contoso-orders/.default",
    );
    let out = setup.doctor(&["--scope", "api://contoso-orders/Orders.Read"]);
    assert_finding(&out, 4, "scope.not-default", "AADSTS1002012", "/.default");
    let out = setup.doctor(&["--scope", "https://graph.microsoft.com/.default"]);
    assert_finding(
        &out,
        4,
        "scope.graph",
        "401",
        "api://contoso-orders/.default",
    );
    // The appId works as well as the URI.
    let out = setup.doctor(&["--scope", &format!("{API_APP}/.default")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn roles_the_client_cannot_get() {
    let setup = Setup::new();
    let mut client = setup.read("client.json");
    client["requiredResourceAccess"][0]["resourceAccess"][0]["type"] = json!("Scope");
    setup.write("client.json", &client);
    let out = setup.doctor(&[]);
    assert_finding(
        &out,
        4,
        "roles.scope-entry",
        "type Role",
        "keycred manifest grant",
    );
    assert_finding(
        &out,
        4,
        "roles.required-not-grantable",
        "missing role",
        "keycred manifest grant",
    );

    client["requiredResourceAccess"] = json!([]);
    setup.write("client.json", &client);
    assert_finding(
        &setup.doctor(&[]),
        4,
        "roles.not-requested",
        "without roles",
        "keycred manifest grant",
    );

    client["requiredResourceAccess"] =
        json!([{"resourceAppId": API_APP, "resourceAccess": [{"id": ROLE, "type": "Role"}]}]);
    setup.write("client.json", &client);
    let mut api = setup.read("api.json");
    api["appRoles"][0]["allowedMemberTypes"] = json!(["User"]);
    setup.write("api.json", &api);
    assert_finding(
        &setup.doctor(&[]),
        4,
        "roles.user-only",
        "without that role",
        "--member-types both",
    );
}

#[test]
fn rules_that_refuse_every_token_the_api_gets() {
    let setup = Setup::new();
    // Rules for v1 tokens, while the API's registration asks for v2.
    let rules = stdout(
        &keycred()
            .args([
                "api-policy",
                "--tenant",
                TENANT,
                "--token-version",
                "1",
                "--audience",
                "api://contoso-orders",
                "--format",
                "json",
            ])
            .output()
            .unwrap(),
    );
    fs::write(setup.path("rules.json"), rules).unwrap();
    let out = setup.doctor(&[]);
    assert_finding(
        &out,
        4,
        "api.version-mismatch",
        "401",
        "keycred api-policy --manifest",
    );
    assert_finding(
        &out,
        4,
        "api.audience-mismatch",
        "401",
        "keycred api-policy --manifest",
    );
}

#[test]
fn hygiene_warnings_alone_exit_3() {
    let setup = Setup::new();
    let mut client = setup.read("client.json");
    client["passwordCredentials"] =
        json!([{"keyId": "30000000-0000-4000-8000-000000000000", "displayName": "old"}]);
    setup.write("client.json", &client);
    let out = setup.doctor(&[]);
    assert_finding(
        &out,
        3,
        "client.secret-beside-certificate",
        "anyone with the secret",
        "Client secrets",
    );
    // One that never ends, and one that lives ten years.
    client["passwordCredentials"] = json!([
        {"keyId": "30000000-0000-4000-8000-000000000001", "displayName": "forever", "startDateTime": days_from_now(-1)},
        {"keyId": "30000000-0000-4000-8000-000000000002", "displayName": "decade", "startDateTime": days_from_now(-1),
         "endDateTime": days_from_now(3650)}
    ]);
    setup.write("client.json", &client);
    let out = setup.doctor(&[]);
    assert_finding(
        &out,
        3,
        "client.long-lived-secret",
        "leaked secret",
        "replace it with the certificate",
    );
    let whats: Vec<String> = findings(&out)
        .iter()
        .filter(|f| f["id"] == "client.long-lived-secret")
        .map(|f| f["what"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        whats.iter().any(|w| w.contains("forever never expires")),
        "{whats:?}"
    );
    assert!(
        whats.iter().any(|w| w.contains("decade lives 3651 days")),
        "{whats:?}"
    );
}

/// An unsigned token with these claims (doctor reads claims; it never needs the signature).
fn token(dir: &Path, claims: Value) -> PathBuf {
    let part = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let path = dir.join("token.txt");
    fs::write(
        &path,
        format!(
            "{}.{}.c2ln",
            part(&json!({"alg": "RS256", "typ": "JWT"})),
            part(&claims)
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_token_the_api_would_refuse() {
    let setup = Setup::new();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let good = json!({
        "aud": API_APP, "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"), "azp": CLIENT_APP,
        "roles": ["Orders.Read"], "ver": "2.0", "exp": now + 3600
    });
    let path = token(setup.dir.path(), good.clone());
    let out = setup.doctor(&["--token", path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for (claim, value, id) in [
        ("aud", json!("api://contoso-orders"), "token.audience"),
        (
            "iss",
            json!(format!("https://sts.windows.net/{TENANT}/")),
            "token.issuer",
        ),
        ("roles", json!([]), "token.roles-missing"),
        ("exp", json!(now - 60), "token.expired"),
        (
            "azp",
            json!("99999999-0000-4000-8000-000000000000"),
            "token.wrong-app",
        ),
    ] {
        let mut claims = good.clone();
        claims[claim] = value;
        let path = token(setup.dir.path(), claims);
        let out = setup.doctor(&["--token", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(4));
        assert!(
            findings(&out).iter().any(|f| f["id"] == id),
            "{id}: {:?}",
            findings(&out)
        );
    }
}

#[test]
fn a_token_from_another_authority_is_named_as_such() {
    let setup = Setup::new();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({
        "aud": API_APP, "iss": format!("https://login.microsoftonline.us/{TENANT}/v2.0"), "azp": CLIENT_APP,
        "roles": ["Orders.Read"], "ver": "2.0", "exp": now + 3600
    });
    let path = token(setup.dir.path(), claims);
    let out = setup.doctor(&["--token", path.to_str().unwrap()]);
    let issuer = findings(&out)
        .into_iter()
        .find(|f| f["id"] == "token.issuer")
        .unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&out.stdout)));
    let (what, fix) = (
        issuer["what"].as_str().unwrap(),
        issuer["fix"].as_str().unwrap(),
    );
    assert!(
        what.contains("another authority (login.microsoftonline.us)"),
        "{what}"
    );
    assert!(
        !fix.contains("token version") && fix.contains("authority"),
        "{fix}"
    );
}

#[test]
fn bad_input_is_an_error_never_a_healthy_verdict() {
    let setup = Setup::new();
    // A certificate given as a manifest.
    let out = setup.doctor_only(&[("--client", "daemon.pem")]);
    assert_fails(&out, 2, "--client");
    // Broken JSON.
    fs::write(setup.path("broken.json"), "{\"appId\": ").unwrap();
    let out = setup.doctor_only(&[("--api", "broken.json")]);
    assert_fails(&out, 2, "--api");
    // The same app twice.
    let out = setup.doctor_only(&[("--client", "client.json"), ("--api", "client.json")]);
    assert_fails(&out, 2, "the same app");
    // Rules that are not rules.
    let out = setup.doctor_only(&[("--api", "api.json"), ("--rules", "client.json")]);
    assert_fails(&out, 2, "not an API's rules");
    // Nothing to check is no verdict at all.
    let out = keycred().arg("doctor").output().unwrap();
    assert_fails(&out, 2, "nothing to check");
}

#[test]
fn an_unregistered_certificate_fails_at_the_oauth_server_as_doctor_predicts() {
    let setup = Setup::new();
    // The OAuth test server trusts the certificate the client manifest holds (daemon.pem).
    let Some(server) = crate::flow::OidcServer::launch(
        TENANT,
        CLIENT_APP,
        &setup.path("daemon.pem"),
        ("99999999-8888-4777-8666-555555555555", "unused secret"),
        None,
    ) else {
        return;
    };
    let other = setup.path("other");
    new_credential(&other, &["--no-pfx"]);
    let predicted = keycred()
        .arg("doctor")
        .arg("--client")
        .arg(setup.path("client.json"))
        .arg("--credential")
        .arg(other.join("daemon.pem"))
        .arg("--credential-key")
        .arg(other.join("daemon.key"))
        .arg("--json")
        .output()
        .unwrap();
    assert_finding(
        &predicted,
        4,
        "credential.not-registered",
        "AADSTS700027",
        "keycred rotate --cert",
    );
    let token = |dir: &Path| {
        keycred()
            .args([
                "token",
                "--tenant",
                TENANT,
                "--client-id",
                CLIENT_APP,
                "--scope",
                "api://keycred-test/.default",
                "--authority",
            ])
            .arg(server.authority())
            .arg("--cert")
            .arg(dir.join("daemon.pem"))
            .arg("--key")
            .arg(dir.join("daemon.key"))
            .output()
            .unwrap()
    };
    // The real flow: the registered certificate gets a token, the other one is refused.
    stdout(&token(setup.dir.path()));
    assert_fails(&token(&other), 1, "invalid_client");
    // And with the registered one, doctor finds nothing about the credential.
    let fine = setup.doctor(&[]);
    assert_eq!(
        fine.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fine.stdout)
    );
}

#[test]
fn the_clients_own_credentials_and_the_apis_names() {
    let setup = Setup::new();
    let client = setup.read("client.json");
    let with = |credentials: Vec<Value>| {
        let mut c = client.clone();
        c["keyCredentials"] = Value::Array(credentials);
        setup.write("client2.json", &c);
        keycred()
            .arg("doctor")
            .arg("--client")
            .arg(setup.path("client2.json"))
            .arg("--json")
            .output()
            .unwrap()
    };
    let a = "00000000-0000-4000-8000-00000000000a";
    assert_finding(
        &with(vec![key_credential(a, "CN=A", -400, -1)]),
        4,
        "client.no-valid-certificate",
        "AADSTS700027",
        "keycred rotate",
    );
    assert_finding(
        &with(vec![key_credential(a, "CN=A", -300, 10)]),
        3,
        "client.renewal-due",
        "once it has ended",
        "keycred rotate",
    );
    assert_finding(
        &with(vec![key_credential(a, "CN=A", -10, 800)]),
        3,
        "client.long-lived-certificate",
        "longer",
        "--days 365",
    );
    let dup = with(vec![
        key_credential(a, "CN=A", -10, 300),
        key_credential(a, "CN=B", -10, 300),
    ]);
    assert_finding(
        &dup,
        4,
        "client.duplicate-key-id",
        "Entra refuses",
        "--repair-key-ids",
    );

    // An API without identifier URIs, and a role that is disabled or unknown.
    let mut api = setup.read("api.json");
    api["identifierUris"] = json!([]);
    setup.write("api.json", &api);
    let out = keycred()
        .arg("doctor")
        .arg("--api")
        .arg(setup.path("api.json"))
        .arg("--json")
        .output()
        .unwrap();
    assert_finding(
        &out,
        3,
        "api.no-identifier-uri",
        "appId",
        "--identifier-uri",
    );
    api["appRoles"][0]["isEnabled"] = json!(false);
    setup.write("api.json", &api);
    assert_finding(
        &setup.doctor(&["--scope", &format!("{API_APP}/.default")]),
        4,
        "roles.disabled",
        "without that role",
        "enable",
    );
    api["appRoles"] = json!([]);
    setup.write("api.json", &api);
    assert_finding(
        &setup.doctor(&["--scope", &format!("{API_APP}/.default")]),
        4,
        "roles.unknown-role",
        "without that role",
        "keycred manifest grant",
    );
}

#[test]
fn a_credential_that_ended_or_ends_soon() {
    let setup = Setup::new();
    // The fixture certificate ends in 2036: with a warning window past that, it is "expiring".
    let out = keycred()
        .arg("doctor")
        .arg("--credential")
        .arg(fixture("openssl-rsa.pem"))
        .arg("--credential-key")
        .arg(fixture("openssl-rsa.key"))
        .args(["--warn-days", "5000", "--json"])
        .output()
        .unwrap();
    assert_finding(
        &out,
        3,
        "credential.expiring",
        "once it has ended",
        "keycred rotate",
    );
    if !python_cryptography_available() {
        return;
    }
    let dir = setup.dir.path();
    for (name, start, end, id) in [
        ("ended", -48, -1, "credential.expired"),
        ("later", 24, 48, "credential.not-yet-valid"),
    ] {
        let key = dir.join(format!("{name}.key"));
        let cert = dir.join(format!("{name}.pem"));
        certificate_by_python(&key, &cert, start, end);
        let out = keycred()
            .arg("doctor")
            .arg("--credential")
            .arg(&cert)
            .arg("--credential-key")
            .arg(&key)
            .arg("--json")
            .output()
            .unwrap();
        assert_finding(&out, 4, id, "AADSTS700027", "");
    }
}

/// The real flow for the setup, on the OAuth test server: its API (api://keycred-test, v2 tokens, aud
/// c0ffee00-…) is the setup's API, and the setup's client is registered there with the setup's certificate.
struct Flow {
    server: crate::flow::OidcServer,
}

impl Flow {
    fn start(setup: &Setup, roles: &str) -> Option<Flow> {
        let mut api = setup.read("api.json");
        api["identifierUris"] = json!(["api://keycred-test"]);
        setup.write("api.json", &api);
        let server = crate::flow::OidcServer::launch_with_env(
            TENANT,
            CLIENT_APP,
            &setup.path("daemon.pem"),
            ("99999999-8888-4777-8666-555555555555", "unused secret"),
            None,
            &[("TOKEN_ROLES", roles)],
        )?;
        let rules = stdout(
            &keycred()
                .args(["api-policy", "--tenant", TENANT, "--manifest"])
                .arg(setup.path("api.json"))
                .args(["--role", "Orders.Read", "--format", "json", "--authority"])
                .arg(server.authority())
                .output()
                .unwrap(),
        );
        fs::write(setup.path("rules.json"), rules).unwrap();
        Some(Flow { server })
    }

    fn token(&self, setup: &Setup, scope: &str) -> std::process::Output {
        keycred()
            .args([
                "token",
                "--tenant",
                TENANT,
                "--client-id",
                CLIENT_APP,
                "--scope",
                scope,
                "--authority",
            ])
            .arg(self.server.authority())
            .arg("--cert")
            .arg(setup.path("daemon.pem"))
            .arg("--key")
            .arg(setup.path("daemon.key"))
            .output()
            .unwrap()
    }

    /// `keycred decode` with the setup's rules, as the API would check the token.
    fn api_checks(&self, setup: &Setup, token: &str) -> std::process::Output {
        let rules = setup.read("rules.json");
        let line = rules["decode"].as_str().unwrap().to_owned();
        let args: Vec<String> = line.split_whitespace().skip(1).map(str::to_owned).collect();
        keycred()
            .args(&args)
            .write_stdin(token.to_owned())
            .output()
            .unwrap()
    }
}

#[test]
fn the_real_flow_fails_exactly_where_doctor_says() {
    let setup = Setup::new();
    let Some(flow) = Flow::start(&setup, "Orders.Read") else {
        return;
    };
    let scope = "api://keycred-test/.default";
    // Healthy: no finding, a token, and the API's rules accept it.
    let token = stdout(&flow.token(&setup, scope)).trim().to_owned();
    fs::write(setup.path("token.txt"), &token).unwrap();
    let out = setup.doctor(&[
        "--scope",
        scope,
        "--token",
        setup.path("token.txt").to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    stdout(&flow.api_checks(&setup, &token));

    // A scope naming no API: AADSTS500011 predicted, and the server refuses the resource.
    let wrong = "api://keycred-tset/.default";
    assert_finding(
        &setup.doctor(&["--scope", wrong]),
        4,
        "scope.unknown-resource",
        "AADSTS500011",
        scope.trim_end_matches("/.default"),
    );
    assert_fails(&flow.token(&setup, wrong), 1, "AADSTS500011");

    // Rules for v1 tokens while the API gets v2 ones: predicted, and the v2 token is refused on its issuer.
    let v1 = stdout(
        &keycred()
            .args([
                "api-policy",
                "--tenant",
                TENANT,
                "--token-version",
                "1",
                "--audience",
                "api://keycred-test",
                "--format",
                "json",
                "--authority",
            ])
            .arg(flow.server.authority())
            .output()
            .unwrap(),
    );
    let v2_rules = fs::read(setup.path("rules.json")).unwrap();
    fs::write(setup.path("rules.json"), v1).unwrap();
    let predicted = setup.doctor(&["--scope", scope]);
    assert_finding(
        &predicted,
        4,
        "api.version-mismatch",
        "401",
        "keycred api-policy --manifest",
    );
    assert_finding(
        &predicted,
        4,
        "api.audience-mismatch",
        "401 for every token (audience)",
        "keycred api-policy --manifest",
    );
    // The API refuses the v2 token: its audience is the appId, not the URI the v1 rules expect.
    assert_fails(&flow.api_checks(&setup, &token), 1, "audience");
    fs::write(setup.path("rules.json"), v2_rules).unwrap();
}

#[test]
fn a_role_never_granted_gives_a_token_the_api_refuses_as_doctor_says() {
    let setup = Setup::new();
    // The server grants the client no role.
    let Some(flow) = Flow::start(&setup, "") else {
        return;
    };
    let token = stdout(&flow.token(&setup, "api://keycred-test/.default"))
        .trim()
        .to_owned();
    fs::write(setup.path("token.txt"), &token).unwrap();
    let out = setup.doctor(&[
        "--scope",
        "api://keycred-test/.default",
        "--token",
        setup.path("token.txt").to_str().unwrap(),
    ]);
    assert_finding(
        &out,
        4,
        "token.roles-missing",
        "missing role",
        "keycred manifest grant",
    );
    assert_fails(&flow.api_checks(&setup, &token), 1, "missing role");
}
