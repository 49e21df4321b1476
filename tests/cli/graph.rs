//! `keycred graph apps` and `graph show` against the Graph test server (`tests/oidc/graph.mjs`), with tokens that
//! the real OAuth test server (`tests/oidc/server.mjs`) issues for the Graph URL and that the Graph server
//! verifies: paging, filters, throttling, permissions and Graph's error bodies.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};

use serde_json::{json, Value};

use crate::common::*;
use crate::flow::OidcServer;

pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const AUTOMATION: &str = "a0a0a0a0-1111-4222-8333-444455556666";

/// The Graph test server, killed on drop.
pub struct GraphServer {
    child: Child,
    port: u16,
}

impl GraphServer {
    /// Starts the server with `apps` as the tenant, trusting tokens signed by `oidc`'s keys.
    pub fn start(oidc: &OidcServer, apps: &Value, dir: &Path) -> GraphServer {
        GraphServer::start_in(oidc, TENANT, apps, dir)
    }

    /// As [`GraphServer::start`], for the tenant `tenant` (an id or a domain, as `oidc` was started for).
    pub fn start_in(oidc: &OidcServer, tenant: &str, apps: &Value, dir: &Path) -> GraphServer {
        GraphServer::start_env(oidc, tenant, apps, dir, &[])
    }

    /// As [`GraphServer::start_in`], with these variables in the server's environment (`GRAPH_TIME_SCALE`).
    pub fn start_env(
        oidc: &OidcServer,
        tenant: &str,
        apps: &Value,
        dir: &Path,
        env: &[(&str, &str)],
    ) -> GraphServer {
        std::fs::create_dir_all(dir).unwrap();
        let seed = dir.join("graph-seed.json");
        std::fs::write(&seed, serde_json::to_vec(apps).unwrap()).unwrap();
        let (child, port) = spawn_listening(
            StdCommand::new("node")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/graph.mjs"))
                .arg(oidc.jwks(tenant))
                .arg(tenant)
                .arg(&seed)
                // Where the OAuth server's record of sign-ins is (the usage report and sign-in log come from it).
                .env("OIDC_URL", oidc.authority())
                .envs(env.iter().copied()),
            "the Graph test server",
        );
        GraphServer { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn get(&self, path: &str) -> Value {
        let mut response = ureq::get(format!("{}{path}", self.url())).call().unwrap();
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
    }

    /// Every request the server answered (test controls left out).
    pub fn log(&self) -> Vec<Value> {
        self.get("/_test/log").as_array().unwrap().clone()
    }

    /// How the usage report and sign-in log answer: `{"lagSeconds": N}`, `{"licensed": false}`.
    pub fn usage(&self, settings: Value) {
        ureq::post(format!("{}/_test/usage", self.url()))
            .header("content-type", "application/json")
            .send(settings.to_string())
            .unwrap();
    }

    /// Answer the next requests with these faults (`{status, retryAfter, code}`), or one in `every`.
    pub fn faults(&self, queue: Value, every: u32) {
        ureq::post(format!("{}/_test/faults", self.url()))
            .header("content-type", "application/json")
            .send(json!({"queue": queue, "every": every}).to_string())
            .unwrap();
    }
}

/// Starts one of the tests' node servers and reads its first line, `listening PORT`: the child and its port.
pub fn spawn_listening(command: &mut StdCommand, what: &str) -> (Child, u16) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{what} did not start: {line:?}"));
    (child, port)
}

impl Drop for GraphServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tenant for the tests: the OAuth server with the automation app registered (its Graph permissions
/// `roles`), the Graph server holding `apps`, and the automation app's files.
pub struct Tenant {
    pub dir: tempfile::TempDir,
    pub oidc: OidcServer,
    pub graph: GraphServer,
}

impl Tenant {
    pub fn start(apps: &Value, roles: &str) -> Option<Tenant> {
        Tenant::start_env(apps, roles, &[])
    }

    /// As [`Tenant::start`], the Graph server with these variables in its environment.
    pub fn start_env(apps: &Value, roles: &str, env: &[(&str, &str)]) -> Option<Tenant> {
        let dir = tempfile::tempdir().unwrap();
        let made = keycred()
            .args(["new", "--subject", "CN=Rotation Automation", "--out"])
            .arg(dir.path())
            .args(["--name", "automation", "--no-pfx"])
            .output()
            .unwrap();
        stdout(&made);
        let oidc = OidcServer::launch_with_env(
            TENANT,
            AUTOMATION,
            &dir.path().join("automation.pem"),
            ("99999999-8888-4777-8666-555555555555", "unused secret"),
            None,
            &[("GRAPH_ROLES", roles)],
        )?;
        let graph = GraphServer::start_env(&oidc, TENANT, apps, dir.path(), env);
        Some(Tenant { dir, oidc, graph })
    }

    /// The connection options of the automation app: the Graph and OAuth servers, and its certificate.
    pub fn connection(&self) -> Vec<std::ffi::OsString> {
        self.connection_via(&self.graph)
    }

    /// As [`Tenant::connection`], to another Graph server of this tenant.
    pub fn connection_via(&self, graph: &GraphServer) -> Vec<std::ffi::OsString> {
        let mut args = self.servers(graph);
        args.push("--cert".into());
        args.push(self.dir.path().join("automation.pem").into());
        args.push("--key".into());
        args.push(self.dir.path().join("automation.key").into());
        args
    }

    /// The automation app's current credential as one PEM with its key (what --current-pfx also takes).
    pub fn automation_bundle(&self) -> PathBuf {
        let dir = self.dir.path();
        let bundle = dir.join("current.pem");
        std::fs::write(
            &bundle,
            [
                std::fs::read(dir.join("automation.key")).unwrap(),
                std::fs::read(dir.join("automation.pem")).unwrap(),
            ]
            .concat(),
        )
        .unwrap();
        bundle
    }

    /// The servers and the automation app's ids, without a credential: `--graph-url`, `--authority`, `--tenant`,
    /// `--client-id`.
    pub fn servers(&self, graph: &GraphServer) -> Vec<std::ffi::OsString> {
        as_automation(graph, &self.oidc)
    }

    /// `keycred batch PLAN --json` connected as the automation app (for `graph = true` rows).
    pub fn batch(&self, plan: &Path) -> assert_cmd::Command {
        let mut cmd = keycred();
        cmd.arg("batch")
            .arg(plan)
            .arg("--json")
            .args(self.connection());
        cmd
    }

    /// `keycred graph SUBCOMMAND` connected as the automation app.
    pub fn keycred(&self, subcommand: &str) -> assert_cmd::Command {
        let mut cmd = keycred();
        cmd.args(["graph", subcommand]).args(self.connection());
        cmd
    }
}

/// A certificate (base64 DER) for seeded credentials: the fixture's. The seed gives each credential its own
/// dates, as a tenant's credentials have.
fn fixture_key() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(fixture("openssl-rsa.cer")).unwrap())
}

/// `count` apps: app i is healthy, due, expired or without a certificate by i % 4, and every fifth has a secret.
pub fn tenant_apps(count: usize) -> Value {
    let key = fixture_key();
    let apps: Vec<Value> = (0..count)
        .map(|i| {
            let (start, end) = match i % 4 {
                0 => (-10, 300),
                1 => (-300, 10),
                2 => (-400, -5),
                _ => (0, 0),
            };
            let credentials = if i % 4 == 3 {
                json!([])
            } else {
                json!([{
                    "key": key,
                    "keyId": format!("00000000-0000-4000-8000-{i:012}"),
                    "displayName": format!("CN=App {i}"),
                    "startDateTime": days_from_now(start),
                    "endDateTime": days_from_now(end),
                }])
            };
            json!({
                "id": format!("10000000-0000-4000-8000-{i:012}"),
                "appId": format!("20000000-0000-4000-8000-{i:012}"),
                "displayName": format!("App {i}"),
                "keyCredentials": credentials,
                "passwordCredentials": if i % 5 == 0 {
                    json!([{"keyId": format!("30000000-0000-4000-8000-{i:012}"), "displayName": "old secret",
                            "endDateTime": days_from_now(90), "hint": "abc", "secretText": null}])
                } else { json!([]) },
            })
        })
        .collect();
    Value::Array(apps)
}

/// A logged request's path, percent-decoded (Graph's next links encode `$` and the rest).
pub fn path_of(entry: &Value) -> String {
    let raw = entry["path"].as_str().unwrap().as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && i + 2 < raw.len() {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&raw[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(if raw[i] == b'+' { b' ' } else { raw[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Whether the test servers can run (Node.js with `npm ci --prefix tests/oidc`). Missing locally: reported as
/// skipped. Missing with CI=true: a failure.
pub fn node_ready() -> bool {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
    let ready = folder.join("node_modules/jose").exists() && peer_available("node", &["--version"]);
    if !ready {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the Graph test server is required when CI=true: run npm ci --prefix tests/oidc"
        );
        eprintln!("SKIPPED: the Graph test server needs node and npm ci --prefix tests/oidc");
    }
    ready
}

#[test]
fn the_scan_reads_every_page_and_judges_every_app() {
    if !node_ready() {
        return assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "npm ci --prefix tests/oidc"
        );
    }
    let Some(tenant) = Tenant::start(&tenant_apps(250), "Application.Read.All") else {
        return;
    };
    let out = tenant
        .keycred("apps")
        .args(["--page-size", "100", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let apps = report["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 250);
    assert_eq!(report["pages"], 3);
    for (i, app) in apps.iter().enumerate() {
        let expected = ["healthy", "renewal-due", "expired", "no-credentials"][i % 4];
        assert_eq!(app["verdict"], expected, "app {i}: {app}");
        assert_eq!(
            app["secrets"].as_array().unwrap().len(),
            usize::from(i % 5 == 0),
            "app {i}"
        );
        if i % 4 != 3 {
            assert_eq!(
                app["certificates"][0]["thumbprint"], "572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969",
                "app {i}"
            );
        }
    }
    // Graph's side: each page asked once, the next link followed as given, a client-request-id on each.
    let log = tenant.graph.log();
    let pages: Vec<String> = log
        .iter()
        .map(path_of)
        .filter(|p| p.starts_with("/v1.0/applications?"))
        .collect();
    assert_eq!(pages.len(), 3, "{log:?}");
    assert!(pages[0].contains("$top=100"), "{}", pages[0]);
    assert!(pages[0].contains("$select=id,appId,displayName,keyCredentials,passwordCredentials"));
    assert!(pages[1].contains("$skiptoken="), "{}", pages[1]);
    assert!(!pages[0].contains("$skiptoken="));
    let ids: std::collections::HashSet<&str> = log
        .iter()
        .map(|e| e["clientRequestId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "a fresh client-request-id per request");

    // --cache keeps the automation app's Graph token in the user's cache, owner-only.
    let cache = tenant.dir.path().join("cache");
    for _ in 0..2 {
        let out = tenant
            .keycred("apps")
            .arg("--cache")
            .env("XDG_CACHE_HOME", &cache)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(4),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let cached = cache.join("keycred/tokens.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&cached).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // An OData filter, as given.
    let out = tenant
        .keycred("apps")
        .args([
            "--filter",
            "appId eq '20000000-0000-4000-8000-000000000007'",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "app 7 has no certificate");
    let one: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = one["apps"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{one}");
    assert_eq!(listed[0]["appId"], "20000000-0000-4000-8000-000000000007");
    // Text: one verdict line per app and a summary.
    let out = tenant.keycred("apps").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("20000000-0000-4000-8000-000000000001  App 1  renewal-due"),
        "{text}"
    );
    assert!(text.contains("250 apps: 63 healthy, 63 renewal due, 62 expired, 0 not yet valid, 62 without a certificate (listed, not counted in the exit code: --require-credential counts them); 50 with secrets (1 page)"), "{text}");
    assert!(text.contains("1 secret (a certificate is safer)"), "{text}");
}

#[test]
fn a_scan_that_graph_stops_midway_still_prints_json_that_says_so() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(250), "Application.Read.All") else {
        return;
    };
    // The second page is refused (not a fault keycred retries).
    tenant.graph.faults(
        json!([{"status": 403, "code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}]),
        2,
    );
    let out = tenant
        .keycred("apps")
        .args(["--page-size", "100", "--json"])
        .output()
        .unwrap();
    assert_fails(&out, 1, "Authorization_RequestDenied");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(report["complete"], false, "{report}");
    assert_eq!(
        report["apps"].as_array().unwrap().len(),
        100,
        "the first page, as printed"
    );
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("Authorization_RequestDenied"),
        "{report}"
    );
    assert_eq!(report["exitCode"], 1);
}

#[test]
fn an_advanced_filter_sends_consistency_level_on_every_page() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(120), "Application.Read.All") else {
        return;
    };
    let out = tenant
        .keycred("apps")
        .args(["--page-size", "20", "--expiring-within", "30", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Apps ending within 30 days: the due ones and the expired ones (30 + 30 of 120).
    assert_eq!(report["apps"].as_array().unwrap().len(), 60, "{report}");
    let pages: Vec<Value> = tenant
        .graph
        .log()
        .into_iter()
        .filter(|e| path_of(e).starts_with("/v1.0/applications?"))
        .collect();
    assert_eq!(pages.len(), 3);
    for page in &pages {
        assert_eq!(page["consistencyLevel"], "eventual", "{page}");
        assert!(path_of(page).contains("$count=true"), "{page}");
        assert!(
            path_of(page).contains("$filter=keyCredentials/any(k:k/endDateTime le "),
            "{page}"
        );
    }
}

#[test]
fn throttling_is_waited_out_and_a_retry_budget_ends_cleanly() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(30), "Application.Read.All") else {
        return;
    };
    // 429 with Retry-After: 2, then 503 without one, then 409 Directory_ConcurrencyViolation.
    tenant.graph.faults(
        json!([
            {"status": 429, "retryAfter": 2},
            {"status": 503},
            {"status": 409, "code": "Directory_ConcurrencyViolation", "message": "Please wait briefly and retry."}
        ]),
        0,
    );
    let out = tenant
        .keycred("apps")
        .args(["--page-size", "10", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["apps"].as_array().unwrap().len(), 30);
    let log = tenant.graph.log();
    let times: Vec<i64> = log.iter().map(|e| e["time"].as_i64().unwrap()).collect();
    let statuses: Vec<i64> = log.iter().map(|e| e["status"].as_i64().unwrap()).collect();
    assert_eq!(&statuses[..4], [429, 503, 409, 200], "{log:?}");
    assert!(
        times[1] - times[0] >= 2000,
        "never sooner than Retry-After: {times:?}"
    );
    assert!(
        times[2] - times[1] >= 500,
        "a backoff without Retry-After: {times:?}"
    );

    // Every answer a 429: after --max-retries, one clear error and exit 1.
    tenant
        .graph
        .faults(json!([{"status": 429, "retryAfter": 0}]), 1);
    let out = tenant
        .keycred("apps")
        .args(["--max-retries", "2"])
        .output()
        .unwrap();
    assert_fails(&out, 1, "TooManyRequests");
    assert_fails(&out, 1, "still refused after 2 retries (--max-retries 2)");

    // A Retry-After past the request's --timeout: one clear error at once, not a 30-second wait.
    tenant
        .graph
        .faults(json!([{"status": 503, "retryAfter": 30}]), 1);
    let started = std::time::Instant::now();
    let out = tenant
        .keycred("apps")
        .args(["--timeout", "5"])
        .output()
        .unwrap();
    assert_fails(&out, 1, "past this request's --timeout");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn permissions_tokens_and_ids_end_with_graphs_code_and_what_to_do() {
    if !node_ready() {
        return;
    }
    let apps = tenant_apps(4);
    // No Graph permission at all.
    let Some(tenant) = Tenant::start(&apps, "") else {
        return;
    };
    let out = tenant.keycred("apps").output().unwrap();
    assert_fails(
        &out,
        1,
        "Authorization_RequestDenied: Insufficient privileges to complete the operation.",
    );
    assert_fails(&out, 1, "Application.Read.All");
    assert_fails(&out, 1, "request-id ");
    drop(tenant);

    let Some(tenant) = Tenant::start(&apps, "Application.Read.All") else {
        return;
    };
    // A token that is not a Graph token: refused, and never printed.
    let token = tenant.dir.path().join("graph.token");
    std::fs::write(
        &token,
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.not-a-signature\n",
    )
    .unwrap();
    let out = keycred()
        .args(["graph", "apps", "--graph-url"])
        .arg(tenant.graph.url())
        .arg("--token-file")
        .arg(&token)
        .output()
        .unwrap();
    assert_fails(&out, 1, "InvalidAuthenticationToken");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not-a-signature"));
    // An id that is no application.
    let out = tenant
        .keycred("show")
        .args(["--app", "99999999-0000-4000-8000-000000000000"])
        .output()
        .unwrap();
    assert_fails(&out, 1, "Request_ResourceNotFound");
    assert_fails(&out, 1, "object id");
    // No way to get a token: said before anything is sent.
    let out = keycred()
        .args(["graph", "apps", "--graph-url"])
        .arg(tenant.graph.url())
        .env_remove("KEYCRED_GRAPH_TOKEN")
        .output()
        .unwrap();
    assert_fails(&out, 2, "--token-file");
    assert_eq!(
        tenant.graph.log().len(),
        3,
        "only the refused scan and the show (as an appId, then as an object id) reached Graph"
    );
}

#[test]
fn show_writes_the_manifest_with_its_certificates_for_offline_use() {
    if !node_ready() {
        return;
    }
    let apps = tenant_apps(4);
    let Some(tenant) = Tenant::start(&apps, "Application.Read.All") else {
        return;
    };
    let out_file: PathBuf = tenant.dir.path().join("app1.json");
    // By appId.
    let out = tenant
        .keycred("show")
        .args(["--app", "20000000-0000-4000-8000-000000000001", "--out"])
        .arg(&out_file)
        .output()
        .unwrap();
    stdout(&out);
    let manifest: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(manifest["appId"], "20000000-0000-4000-8000-000000000001");
    assert_eq!(
        manifest["keyCredentials"][0]["key"],
        fixture_key(),
        "the certificate itself"
    );
    assert!(manifest.get("@odata.context").is_none());
    // Offline: check reads it (renewal due, exit 3), rotate plans on it.
    assert_eq!(
        keycred()
            .arg("check")
            .arg(&out_file)
            .output()
            .unwrap()
            .status
            .code(),
        Some(3)
    );
    let plan = keycred()
        .args(["rotate", "--manifest"])
        .arg(&out_file)
        .args(["--no-pfx", "--dry-run", "--json", "--out"])
        .arg(tenant.dir.path().join("certs"))
        .output()
        .unwrap();
    assert_eq!(json(&plan)["renewalDue"], true);
    // By object id too; an existing --out needs --force.
    let again = tenant
        .keycred("show")
        .args(["--app", "10000000-0000-4000-8000-000000000001", "--out"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_fails(&again, 1, "already exists");
    let by_object = tenant
        .keycred("show")
        .args(["--app", "10000000-0000-4000-8000-000000000001"])
        .output()
        .unwrap();
    let printed: Value = serde_json::from_slice(&by_object.stdout).unwrap();
    assert_eq!(printed["id"], "10000000-0000-4000-8000-000000000001");
}

/// The credentials of one app as the Graph server holds them now.
pub fn held(tenant: &Tenant, object_id: &str) -> Vec<Value> {
    let mut response = ureq::get(format!("{}/_test/apps", tenant.graph.url()))
        .call()
        .unwrap();
    let apps: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    apps.as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == object_id)
        .unwrap()["keyCredentials"]
        .as_array()
        .unwrap()
        .clone()
}

pub fn patches(tenant: &Tenant) -> Vec<Value> {
    tenant
        .graph
        .log()
        .into_iter()
        .filter(|e| e["method"] == "PATCH")
        .collect()
}

#[test]
fn rotate_plans_then_applies_the_whole_collection_and_touches_no_healthy_app() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(8), "Application.ReadWrite.All") else {
        return;
    };
    let out = tenant.dir.path().join("certs");
    let run = |extra: &[&str]| {
        tenant
            .keycred("rotate")
            // Every app, those without a certificate too (they get their first).
            .args([
                "--all",
                "--include-without-certificate",
                "--no-pfx",
                "--json",
                "--out",
            ])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    // The plan: nothing sent, nothing written.
    let plan = json(&run(&[]));
    let results: Vec<&str> = plan["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        ["skipped", "planned", "planned", "planned", "skipped", "planned", "planned", "planned"]
    );
    assert!(patches(&tenant).is_empty(), "a plan sends nothing");
    assert!(!out.exists(), "a plan writes nothing");

    // Applied.
    let applied = json(&run(&["--apply"]));
    for (i, app) in applied["apps"].as_array().unwrap().iter().enumerate() {
        let object_id = format!("10000000-0000-4000-8000-{i:012}");
        let held = held(&tenant, &object_id);
        match i % 4 {
            0 => {
                assert_eq!(app["result"], "skipped", "{app}");
                assert_eq!(held.len(), 1);
            }
            _ => {
                assert_eq!(app["result"], "rotated", "{app}");
                let new_id = app["added"]["keyId"].as_str().unwrap();
                let new = held
                    .iter()
                    .find(|k| k["keyId"] == new_id)
                    .expect("the new credential is on the app");
                let cer = std::fs::read(app["files"]["cer"].as_str().unwrap()).unwrap();
                use base64::Engine as _;
                assert_eq!(
                    new["key"],
                    base64::engine::general_purpose::STANDARD.encode(cer),
                    "the file's certificate"
                );
                if i % 4 != 3 {
                    // The old credential is kept, with its certificate.
                    let old = held
                        .iter()
                        .find(|k| k["keyId"] == format!("00000000-0000-4000-8000-{i:012}"))
                        .unwrap();
                    assert_eq!(old["key"], fixture_key());
                    assert_eq!(held.len(), 2);
                }
            }
        }
    }
    let sent = patches(&tenant);
    assert_eq!(
        sent.len(),
        6,
        "one PATCH per app that was due, none for a healthy one"
    );
    for patch in &sent {
        let body = patch["body"]["keyCredentials"].as_array().unwrap();
        // Every kept credential goes back by its keyId without its key; only the new one carries a certificate.
        assert_eq!(
            body.iter().filter(|k| !k["key"].is_null()).count(),
            1,
            "{patch}"
        );
    }

    // Again: every app is healthy now; nothing is sent.
    let again = json(&run(&["--apply"]));
    assert!(
        again["apps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["result"] == "skipped"),
        "{again}"
    );
    assert_eq!(patches(&tenant).len(), 6);
}

#[test]
fn a_changed_app_is_left_alone_and_the_next_run_uploads_the_certificate_already_made() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(2), "Application.ReadWrite.All") else {
        return;
    };
    let out = tenant.dir.path().join("certs");
    let object_id = "10000000-0000-4000-8000-000000000001";
    let run = || {
        tenant
            .keycred("rotate")
            .args([
                "--app",
                "20000000-0000-4000-8000-000000000001",
                "--no-pfx",
                "--apply",
                "--json",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap()
    };
    // The first read passes; before the second (the re-read before the PATCH) another admin changes the app.
    tenant
        .graph
        .faults(json!([{"pass": true}, {"touch": object_id}]), 0);
    let first = run();
    assert_eq!(first.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert!(
        report["apps"][0]["error"]
            .as_str()
            .unwrap()
            .contains("changed since the plan"),
        "{report}"
    );
    assert!(patches(&tenant).is_empty(), "nothing sent");
    assert_eq!(
        held(&tenant, object_id).len(),
        2,
        "the other admin's change stands"
    );
    let folder = out.join("20000000-0000-4000-8000-000000000001");
    let made: Vec<String> = names_in(&folder)
        .into_iter()
        .filter(|n| n.ends_with(".cer"))
        .collect();
    assert_eq!(
        made.len(),
        1,
        "the key is on disk before anything is sent: {made:?}"
    );

    // Run again: the certificate made before is uploaded, no second one is made.
    let second = json(&run());
    assert_eq!(second["apps"][0]["result"], "rotated", "{second}");
    assert_eq!(second["apps"][0]["added"]["reused"], true);
    let made_again: Vec<String> = names_in(&folder)
        .into_iter()
        .filter(|n| n.ends_with(".cer"))
        .collect();
    assert_eq!(made_again, made);
    assert_eq!(
        held(&tenant, object_id).len(),
        3,
        "both earlier credentials kept, the new one added"
    );
}

#[test]
fn rotate_without_write_permission_ends_with_graphs_code_and_changes_nothing() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(2), "Application.Read.All") else {
        return;
    };
    let out = tenant
        .keycred("rotate")
        .args([
            "--app",
            "20000000-0000-4000-8000-000000000001",
            "--no-pfx",
            "--apply",
            "--out",
        ])
        .arg(tenant.dir.path().join("certs"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Authorization_RequestDenied"), "{text}");
    assert!(text.contains("Application.ReadWrite.OwnedBy"), "{text}");
    assert_eq!(
        held(&tenant, "10000000-0000-4000-8000-000000000001").len(),
        1
    );
}

#[test]
fn an_app_rolls_its_own_key_with_a_proof_and_no_permission() {
    if !node_ready() {
        return;
    }
    // The tenant holds the automation app itself, registered with the certificate it signs in with. Its token
    // carries no Graph permission at all.
    let dir = tempfile::tempdir().unwrap();
    stdout(
        &keycred()
            .args(["new", "--subject", "CN=Rotation Automation", "--out"])
            .arg(dir.path())
            .args(["--name", "automation", "--no-pfx"])
            .output()
            .unwrap(),
    );
    use base64::Engine as _;
    let der = std::fs::read(dir.path().join("automation.cer")).unwrap();
    let info = json(
        &keycred()
            .args(["inspect", "--json"])
            .arg(dir.path().join("automation.cer"))
            .output()
            .unwrap(),
    );
    let cert = &info[0]["certificates"][0];
    let object_id = "40000000-0000-4000-8000-000000000001";
    let apps = json!([{
        "id": object_id,
        "appId": AUTOMATION,
        "displayName": "Rotation Automation",
        "keyCredentials": [{
            "key": base64::engine::general_purpose::STANDARD.encode(&der),
            "keyId": "50000000-0000-4000-8000-000000000001",
            "startDateTime": cert["notBefore"],
            "endDateTime": cert["notAfter"],
        }],
    }]);
    let Some(oidc) = OidcServer::launch_with_env(
        TENANT,
        AUTOMATION,
        &dir.path().join("automation.pem"),
        ("99999999-8888-4777-8666-555555555555", "unused secret"),
        None,
        &[("GRAPH_ROLES", "")],
    ) else {
        return;
    };
    let graph = GraphServer::start(&oidc, &apps, dir.path());
    let tenant = Tenant { dir, oidc, graph };
    let run = |extra: &[&str]| {
        tenant
            .keycred("rotate")
            .args([
                "--self",
                "--app",
                AUTOMATION,
                "--force-renewal",
                "--no-pfx",
                "--json",
                "--out",
            ])
            .arg(tenant.dir.path().join("certs"))
            .args(extra)
            .output()
            .unwrap()
    };
    let applied = json(&run(&["--apply"]));
    let app = &applied["apps"][0];
    assert_eq!(app["result"], "rotated", "{applied}");
    let now_held = held(&tenant, object_id);
    assert_eq!(
        now_held.len(),
        2,
        "the new credential beside the current one"
    );
    let new_id = app["added"]["keyId"].as_str().unwrap();
    assert!(
        now_held.iter().any(|k| k["keyId"] == new_id),
        "Graph's keyId reported: {now_held:?}"
    );
    let log = tenant.graph.log();
    assert!(log.iter().any(|e| e["method"] == "POST"
        && e["path"].as_str().unwrap().ends_with("/addKey")
        && e["status"] == 200));
    assert!(
        log.iter().all(|e| e["method"] != "PATCH"),
        "no PATCH: the app has no permission for it"
    );

    // A tenant where the app holds another certificate than the one it signs in with: Graph refuses the proof,
    // and keycred says which code and what it means.
    let elsewhere = json!([{
        "id": object_id,
        "appId": AUTOMATION,
        "displayName": "Rotation Automation",
        "keyCredentials": [{"key": fixture_key(), "keyId": "50000000-0000-4000-8000-000000000002",
                            "startDateTime": days_from_now(-10), "endDateTime": days_from_now(300)}],
    }]);
    let other = GraphServer::start(&tenant.oidc, &elsewhere, &tenant.dir.path().join("other"));
    let out = keycred()
        .args([
            "graph",
            "rotate",
            "--self",
            "--app",
            AUTOMATION,
            "--force-renewal",
            "--no-pfx",
            "--apply",
        ])
        .args(tenant.connection_via(&other))
        .args(["--out"])
        .arg(tenant.dir.path().join("certs2"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Authentication_MissingOrMalformed"), "{said}");
    assert!(
        said.contains("signed by a certificate the app holds"),
        "{said}"
    );
    assert!(
        said.contains("the proof was signed by CN=Rotation Automation (SHA-1 "),
        "{said}"
    );
    let mut response = ureq::get(format!("{}/_test/apps", other.url()))
        .call()
        .unwrap();
    let apps: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(
        apps[0]["keyCredentials"].as_array().unwrap().len(),
        1,
        "nothing added"
    );
}

/// A tenant whose OAuth server trusts, for every app, the certificates Graph holds for it now (as Entra does):
/// the automation app is one of the apps, registered with its own certificate.
/// The options that connect to `graph` as the automation app, its tokens from `oidc`.
pub fn as_automation(graph: &GraphServer, oidc: &OidcServer) -> Vec<std::ffi::OsString> {
    [
        "--graph-url".into(),
        graph.url().into(),
        "--authority".into(),
        oidc.authority().into(),
        "--tenant".into(),
        TENANT.into(),
        "--client-id".into(),
        AUTOMATION.into(),
    ]
    .into()
}

/// The automation app as the Graph test server seeds it (object id `40000000-…-000000000001`), holding the
/// certificate in `cer` as its one credential.
pub fn automation_app(cer: &Path) -> Value {
    use base64::Engine as _;
    let der = std::fs::read(cer).unwrap();
    json!({
        "id": "40000000-0000-4000-8000-000000000001",
        "appId": AUTOMATION,
        "displayName": "Rotation Automation",
        "keyCredentials": [{"key": base64::engine::general_purpose::STANDARD.encode(&der),
                            "keyId": "50000000-0000-4000-8000-000000000001"}],
    })
}

pub fn live_tenant(apps: Vec<Value>, roles: &str) -> Option<Tenant> {
    live_tenant_env(apps, roles, &[])
}

/// As [`live_tenant`], with these variables in the OAuth server's environment (`REPLICATION_DELAY_MS`).
pub fn live_tenant_env(
    mut apps: Vec<Value>,
    roles: &str,
    oauth_env: &[(&str, &str)],
) -> Option<Tenant> {
    let dir = tempfile::tempdir().unwrap();
    stdout(
        &keycred()
            .args(["new", "--subject", "CN=Rotation Automation", "--out"])
            .arg(dir.path())
            .args(["--name", "automation", "--no-pfx"])
            .output()
            .unwrap(),
    );
    apps.push(automation_app(&dir.path().join("automation.cer")));
    let state = dir.path().join("graph-url.txt");
    let oidc = OidcServer::launch_with_env(
        TENANT,
        AUTOMATION,
        &dir.path().join("automation.pem"),
        ("99999999-8888-4777-8666-555555555555", "unused secret"),
        None,
        &[
            &[
                ("GRAPH_ROLES", roles),
                ("GRAPH_STATE_FILE", state.to_str().unwrap()),
            ],
            oauth_env,
        ]
        .concat(),
    )?;
    let graph = GraphServer::start(&oidc, &Value::Array(apps), dir.path());
    std::fs::write(&state, graph.url()).unwrap();
    Some(Tenant { dir, oidc, graph })
}

#[test]
fn verify_then_retire_the_previous_credential_in_admin_and_self_mode() {
    if !node_ready() {
        return;
    }
    // App 1 is due (its certificate ends in 10 days).
    let apps = tenant_apps(2).as_array().unwrap().clone();
    let Some(tenant) = live_tenant(apps, "Application.ReadWrite.All") else {
        return;
    };
    let out = tenant.dir.path().join("certs");
    // Admin mode: the new key is only in --out, so the credential it replaces is never removed in the same run
    // (the daemon would be locked out); refused before anything is made or sent.
    let refused = tenant
        .keycred("rotate")
        .args([
            "--app",
            "20000000-0000-4000-8000-000000000001",
            "--no-pfx",
            "--apply",
            "--verify",
        ])
        .args(["--retire-previous", "--json", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_fails(&refused, 2, "--retire-previous works with --self only");
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("keycred graph retire remove the old credential"),
        "points to the safe way"
    );
    assert!(patches(&tenant).is_empty());
    assert!(!out.exists(), "nothing was made");
    assert_eq!(
        held(&tenant, "10000000-0000-4000-8000-000000000001").len(),
        1
    );

    // --self: the automation app rolls its own key, proves the new one signs in, then removes the old one.
    let report = json(
        &tenant
            .keycred("rotate")
            .args([
                "--self",
                "--app",
                AUTOMATION,
                "--force-renewal",
                "--no-pfx",
                "--apply",
                "--verify",
            ])
            .args(["--retire-previous", "--json", "--out"])
            .arg(&out)
            .output()
            .unwrap(),
    );
    let app = &report["apps"][0];
    assert_eq!(app["verified"], true, "{report}");
    assert_eq!(app["retired"], "50000000-0000-4000-8000-000000000001");
    let now_held = held(&tenant, "40000000-0000-4000-8000-000000000001");
    assert_eq!(now_held.len(), 1, "{now_held:?}");
    let log = tenant.graph.log();
    let actions: Vec<&str> = log
        .iter()
        .filter(|e| e["method"] == "POST")
        .map(|e| e["path"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(actions, ["addKey", "removeKey"]);

    // The old certificate no longer signs in; the new one does.
    let old = keycred()
        .args([
            "token",
            "--tenant",
            TENANT,
            "--client-id",
            AUTOMATION,
            "--scope",
        ])
        .arg(format!("{}/.default", tenant.graph.url()))
        .arg("--authority")
        .arg(tenant.oidc.authority())
        .arg("--cert")
        .arg(tenant.dir.path().join("automation.pem"))
        .arg("--key")
        .arg(tenant.dir.path().join("automation.key"))
        .output()
        .unwrap();
    assert_fails(&old, 1, "invalid_client");

    // --retire-previous without --verify is refused before anything is sent.
    let out = tenant
        .keycred("rotate")
        .args(["--all", "--apply", "--retire-previous"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_whole_tenant_rotation_with_verify_and_retire_then_run_again() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = live_tenant(
        tenant_apps(250).as_array().unwrap().clone(),
        "Application.ReadWrite.All",
    ) else {
        return;
    };
    let out = tenant.dir.path().join("certs");
    let report_file = tenant.dir.path().join("rotation.json");
    let run = |extra: &[&str]| {
        tenant
            .keycred("rotate")
            .args([
                "--all", "--no-pfx", "--apply", "--verify", "--jobs", "2", "--out",
            ])
            .arg(&out)
            .arg("--report")
            .arg(&report_file)
            .args(extra)
            .output()
            .unwrap()
    };
    let first = run(&[]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
    let apps = report["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 251, "the 250 apps and the automation app");
    for i in 0..250 {
        let object_id = format!("10000000-0000-4000-8000-{i:012}");
        let app = apps.iter().find(|a| a["id"] == object_id).unwrap();
        let now_held = held(&tenant, &object_id);
        match i % 4 {
            0 => assert_eq!(
                (app["result"].as_str(), now_held.len()),
                (Some("skipped"), 1),
                "{app}"
            ),
            1 => {
                // Due: the new one verified beside the one it replaces (an admin's run retires nothing).
                assert_eq!(app["verified"], true, "{app}");
                assert_eq!(now_held.len(), 2, "{app}");
                assert_eq!(now_held[1]["keyId"], app["added"]["keyId"]);
            }
            2 => {
                // Expired: nothing valid to retire; the expired one stays until --prune-expired.
                assert_eq!(app["verified"], true, "{app}");
                assert_eq!(now_held.len(), 2, "{app}");
            }
            // No certificate credential: --all leaves it alone.
            _ => assert_eq!(
                (app["result"].as_str(), now_held.len()),
                (Some("no certificate"), 0),
                "{app}"
            ),
        }
    }
    let healthy_patched = tenant
        .graph
        .log()
        .into_iter()
        .filter(|e| {
            e["method"] == "PATCH"
                && (0..250).step_by(4).any(|i| {
                    e["path"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("10000000-0000-4000-8000-{i:012}"))
                })
        })
        .count();
    assert_eq!(healthy_patched, 0, "no healthy app was touched");

    // The same run again: nothing is due, nothing is sent, the report is replaced.
    let patches_before = patches(&tenant).len();
    let again = run(&[]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(patches(&tenant).len(), patches_before);
    let report: Value = serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
    assert!(report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["result"] == "skipped" || a["result"] == "no certificate"));
}

#[test]
fn a_stopped_rotation_finishes_on_the_next_run_without_duplicates() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(80), "Application.ReadWrite.All") else {
        return;
    };
    let out = tenant.dir.path().join("certs");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("keycred"))
        .args(["graph", "rotate"])
        .args(tenant.connection())
        .args([
            "--all",
            "--include-without-certificate",
            "--no-pfx",
            "--apply",
            "--jobs",
            "1",
            "--json",
            "--out",
        ])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Stop it once a few apps are done.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while patches(&tenant).len() < 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "the run made no progress"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    send_signal(&child, "TERM");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(143));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let not_started = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["result"] == "not started")
        .count();
    assert!(not_started > 0, "{report}");
    assert!(
        report["apps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["result"] != "failed"),
        "{report}"
    );
    // Again: the rest is done, and every due app has exactly one new credential.
    let again = tenant
        .keycred("rotate")
        .args([
            "--all",
            "--include-without-certificate",
            "--no-pfx",
            "--apply",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    for i in 0..80 {
        let now_held = held(&tenant, &format!("10000000-0000-4000-8000-{i:012}"));
        let expected = match i % 4 {
            0 => 1,
            3 => 1,
            _ => 2,
        };
        assert_eq!(now_held.len(), expected, "app {i}: {now_held:?}");
    }
    assert_eq!(
        patches(&tenant).len(),
        60,
        "one PATCH per due app over both runs"
    );
}

/// Sends a signal to a child process with the system's `kill`.
fn send_signal(child: &Child, signal: &str) {
    let status = StdCommand::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_rotation_run_waits_out_throttling_and_never_retries_sooner() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(12), "Application.ReadWrite.All") else {
        return;
    };
    // One request in four answered 429 with Retry-After: 1.
    tenant
        .graph
        .faults(json!([{"status": 429, "retryAfter": 1}]), 4);
    let out = tenant
        .keycred("rotate")
        .args([
            "--all",
            "--include-without-certificate",
            "--no-pfx",
            "--apply",
            "--jobs",
            "2",
            "--json",
            "--out",
        ])
        .arg(tenant.dir.path().join("certs"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rotated = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["result"] == "rotated")
        .count();
    assert_eq!(rotated, 9, "{report}");
    let log = tenant.graph.log();
    let throttled: Vec<&Value> = log.iter().filter(|e| e["status"] == 429).collect();
    assert!(throttled.len() >= 5, "{}", throttled.len());
    for t in throttled {
        let retry = log
            .iter()
            .find(|e| {
                e["time"].as_i64() > t["time"].as_i64()
                    && e["path"] == t["path"]
                    && e["method"] == t["method"]
            })
            .unwrap_or_else(|| panic!("no retry of {t}"));
        assert!(
            retry["time"].as_i64().unwrap() - t["time"].as_i64().unwrap() >= 1000,
            "retried sooner than Retry-After: {t} then {retry}"
        );
    }
}

#[test]
fn add_key_and_remove_key_send_their_bodies_as_the_app_itself() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = live_tenant(Vec::new(), "") else {
        return;
    };
    let dir = tenant.dir.path();
    // The current credential with its key, and the next certificate.
    let bundle = tenant.automation_bundle();
    let next = new_credential(&dir.join("next"), &["--no-pfx"]);
    let send = |subcommand: &str, extra: &[&str]| {
        keycred()
            .args([
                "graph",
                subcommand,
                "--object-id",
                "40000000-0000-4000-8000-000000000001",
                "--current-pfx",
            ])
            .arg(&bundle)
            .arg("--send")
            .args(tenant.servers(&tenant.graph))
            .args(extra)
            .output()
            .unwrap()
    };
    let added = json(&send(
        "add-key",
        &["--cert", next["files"]["cer"].as_str().unwrap()],
    ));
    let new_id = added["keyId"].as_str().unwrap().to_owned();
    let now_held = held(&tenant, "40000000-0000-4000-8000-000000000001");
    assert_eq!(now_held.len(), 2);
    let out = send("remove-key", &["--key-id", &new_id]);
    stdout(&out);
    // Still valid: removed as asked, with the planner's warning.
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!(
            "removes keyId {new_id}, which is still valid until"
        )),
        "{said}"
    );
    assert_eq!(
        held(&tenant, "40000000-0000-4000-8000-000000000001").len(),
        1
    );
    // An unknown keyId: refused from the app's own credentials, before anything is sent.
    let removals = || {
        tenant
            .graph
            .log()
            .iter()
            .filter(|e| {
                e["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/removeKey"))
            })
            .count()
    };
    let sent = removals();
    let out = send("remove-key", &["--key-id", &new_id]);
    assert_fails(&out, 1, "the app has no credential with that keyId");
    assert_eq!(removals(), sent, "nothing was sent");
    // --send goes through the connection the other Graph commands use: its retries are --max-retries'.
    tenant
        .graph
        .faults(json!([{"status": 429, "retryAfter": 0}]), 1);
    let out = send("remove-key", &["--key-id", &new_id, "--max-retries", "1"]);
    assert_fails(&out, 1, "still refused after 1 retries (--max-retries 1)");
    tenant.graph.faults(json!([]), 1);
    // A wrong object id: the proof's iss names another object, and Graph says so.
    let out = keycred()
        .args([
            "graph",
            "remove-key",
            "--object-id",
            "40000000-0000-4000-8000-00000000dead",
            "--current-pfx",
        ])
        .arg(&bundle)
        .args(["--key-id", &new_id, "--send"])
        .args(tenant.servers(&tenant.graph))
        .output()
        .unwrap();
    assert_fails(&out, 1, "Request_ResourceNotFound");
}

#[test]
fn remove_key_send_never_removes_the_apps_last_valid_credential() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = live_tenant(Vec::new(), "") else {
        return;
    };
    let dir = tenant.dir.path();
    let bundle = tenant.automation_bundle();
    const OWN: &str = "50000000-0000-4000-8000-000000000001";
    let remove = |graph: &GraphServer, key_id: &str| {
        keycred()
            .args([
                "graph",
                "remove-key",
                "--object-id",
                "40000000-0000-4000-8000-000000000001",
            ])
            .arg("--current-pfx")
            .arg(&bundle)
            .args(["--key-id", key_id, "--send"])
            .args(tenant.servers(graph))
            .output()
            .unwrap()
    };
    // The app's one credential, the one its token and the proof come from: removing it would lock the app out.
    let out = remove(&tenant.graph, OWN);
    assert_fails(&out, 1, "last valid");
    let said =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(OWN), "{said}");
    assert_eq!(
        held(&tenant, "40000000-0000-4000-8000-000000000001").len(),
        1
    );
    let posts = |graph: &GraphServer| {
        graph
            .log()
            .iter()
            .filter(|e| {
                e["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/removeKey"))
            })
            .count()
    };
    assert_eq!(posts(&tenant.graph), 0, "nothing was sent");
    // An app that may not read its own registration: keycred cannot tell whether the keyId is its last valid
    // credential, so it sends nothing and says how to go on.
    let mut apps = tenant.graph.get("/_test/apps");
    apps[0]["selfRead"] = json!(false);
    let locked = GraphServer::start(&tenant.oidc, &apps, &dir.join("locked"));
    let out = remove(&locked, OWN);
    assert_fails(&out, 1, "may not read its own registration");
    assert_eq!(posts(&locked), 0, "nothing was sent");
}

#[test]
fn batch_rows_rotate_apps_in_the_tenant_through_the_same_path() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(4), "Application.ReadWrite.All") else {
        return;
    };
    let dir = tenant.dir.path();
    std::fs::write(
        dir.join("plan.toml"),
        "[defaults]\nout = \"certs\"\nno_pfx = true\n\n\
         [[app]]\nname = \"healthy\"\ngraph = true\napp_id = \"20000000-0000-4000-8000-000000000000\"\n\n\
         [[app]]\nname = \"due\"\ngraph = true\napp_id = \"20000000-0000-4000-8000-000000000001\"\nsubject = \"CN=Due Daemon\"\n\n\
         [[app]]\nname = \"local\"\nsubject = \"CN=Local\"\n",
    )
    .unwrap();
    let batch = |plan: &str| tenant.batch(&dir.join(plan)).output().unwrap();
    let report = json(&batch("plan.toml"));
    let results: Vec<&str> = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["skipped", "rotated", "provisioned"], "{report}");
    let held = held(&tenant, "10000000-0000-4000-8000-000000000001");
    assert_eq!(held.len(), 2, "the new credential beside the old one");
    let files = &report["apps"][1]["files"];
    assert!(
        files["cer"]
            .as_str()
            .unwrap()
            .contains("/certs/due/due-daemon-"),
        "{files}"
    );
    assert!(
        !dir.join("certs/healthy").exists(),
        "no folder for a skipped app"
    );
    assert_eq!(patches(&tenant).len(), 1);

    // A tenant row without app_id is a plan problem, said before anything runs.
    std::fs::write(
        dir.join("bad.toml"),
        "[[app]]\nname = \"x\"\ngraph = true\n",
    )
    .unwrap();
    assert_fails(&batch("bad.toml"), 1, "graph = true needs app_id");
}

#[test]
fn self_rotation_with_an_expired_certificate_is_refused_before_anything_is_sent() {
    if !node_ready() || !python_cryptography_available() {
        return;
    }
    let Some(tenant) = live_tenant(Vec::new(), "") else {
        return;
    };
    let dir = tenant.dir.path();
    // A key and a certificate that ended an hour ago, made by Python's cryptography.
    certificate_by_python(
        &dir.join("expired.key"),
        &dir.join("expired.pem"),
        -30 * 24,
        -1,
    );
    let out = keycred()
        .args([
            "graph",
            "rotate",
            "--self",
            "--app",
            AUTOMATION,
            "--force-renewal",
            "--no-pfx",
            "--apply",
        ])
        .args(tenant.servers(&tenant.graph))
        .arg("--cert")
        .arg(dir.join("expired.pem"))
        .arg("--key")
        .arg(dir.join("expired.key"))
        .args(["--out"])
        .arg(dir.join("certs"))
        .output()
        .unwrap();
    assert_fails(&out, 1, "expired");
    assert!(tenant.graph.log().is_empty(), "nothing reached Graph");
    assert!(!dir.join("certs").exists(), "nothing written");
}

#[test]
fn at_a_terminal_the_plan_is_applied_only_on_a_yes() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(2), "Application.ReadWrite.All") else {
        return;
    };
    let run = |key: &str| {
        let mut command = StdCommand::new(env!("CARGO_BIN_EXE_keycred"));
        command
            .args(["graph", "rotate", "--all", "--no-pfx"])
            .args(tenant.connection())
            .arg("--out")
            .arg(tenant.dir.path().join("certs"))
            .env("TERM", "xterm");
        let mut p = rexpect::session::spawn_command(command, Some(30_000)).unwrap();
        p.exp_string("Apply this plan to 1 app(s) in the tenant?")
            .unwrap();
        p.send(key).unwrap();
        p.flush().unwrap();
        p.exp_eof().unwrap();
    };
    run("n");
    assert!(patches(&tenant).is_empty(), "a no sends nothing");
    run("y");
    assert_eq!(patches(&tenant).len(), 1, "a yes applies the plan");
    assert_eq!(
        held(&tenant, "10000000-0000-4000-8000-000000000001").len(),
        2
    );
}

#[test]
fn self_rotation_where_the_app_may_not_read_itself_names_object_id() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = live_tenant(Vec::new(), "") else {
        return;
    };
    // The same tenant, but the app may not read its own registration.
    let mut apps = tenant.graph.get("/_test/apps");
    apps[0]["selfRead"] = json!(false);
    let locked = GraphServer::start(&tenant.oidc, &apps, &tenant.dir.path().join("locked"));
    let out = keycred()
        .args([
            "graph",
            "rotate",
            "--self",
            "--app",
            AUTOMATION,
            "--force-renewal",
            "--no-pfx",
            "--apply",
        ])
        .args(tenant.connection_via(&locked))
        .args(["--out"])
        .arg(tenant.dir.path().join("certs"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Authorization_RequestDenied"), "{said}");
    assert!(said.contains("--object-id"), "{said}");
}

#[test]
fn doctor_reads_service_principals_and_consent_live() {
    if !node_ready() {
        return;
    }
    const API: &str = "c0ffee00-1111-4222-8333-444455556666";
    const CLIENT: &str = "d0d0d0d0-1111-4222-8333-444455556666";
    const ROLE: &str = "0f9a3c2b-1d4e-4f5a-8b6c-7d8e9f0a1b2c";
    let tenant_with = |assignments: Value, api_sp: bool| {
        json!([
            {"id": "60000000-0000-4000-8000-000000000001", "appId": API, "displayName": "Orders API",
             "servicePrincipal": api_sp,
             "extra": {"identifierUris": ["api://contoso-orders"], "api": {"requestedAccessTokenVersion": 2},
                       "appRoles": [{"allowedMemberTypes": ["Application"], "description": "Read.", "displayName": "Read",
                                     "id": ROLE, "isEnabled": true, "value": "Orders.Read"}]}},
            {"id": "60000000-0000-4000-8000-000000000002", "appId": CLIENT, "displayName": "Orders Daemon",
             "assignments": assignments,
             "extra": {"requiredResourceAccess": [{"resourceAppId": API, "resourceAccess": [{"id": ROLE, "type": "Role"}]}]}}
        ])
    };
    let doctor = |tenant: &Tenant| {
        keycred()
            .args(["doctor", "--client-app", CLIENT, "--api-app", API, "--json"])
            .args(tenant.connection())
            .output()
            .unwrap()
    };
    let ids = |out: &std::process::Output| -> Vec<String> {
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Requested, never consented.
    let Some(tenant) = Tenant::start(&tenant_with(json!([]), true), "Application.Read.All") else {
        return;
    };
    let out = doctor(&tenant);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        ids(&out).contains(&"roles.not-consented".to_owned()),
        "{:?}",
        ids(&out)
    );
    drop(tenant);
    // Consented: no finding about it.
    let Some(tenant) = Tenant::start(
        &tenant_with(json!([{"resourceAppId": API, "appRoleId": ROLE}]), true),
        "Application.Read.All",
    ) else {
        return;
    };
    let out = doctor(&tenant);
    assert!(
        !ids(&out).contains(&"roles.not-consented".to_owned()),
        "{:?}",
        ids(&out)
    );
    // A manifest file of another app beside --client-app is an error, never a verdict.
    let other = tenant.dir.path().join("other.json");
    std::fs::write(&other, r#"{"id": "x", "appId": "99999999-0000-4000-8000-000000000000", "api": {}, "keyCredentials": []}"#).unwrap();
    let out = keycred()
        .args([
            "doctor",
            "--client-app",
            CLIENT,
            "--api-app",
            API,
            "--client",
        ])
        .arg(&other)
        .args(tenant.connection())
        .output()
        .unwrap();
    assert_fails(
        &out,
        2,
        "the manifest is of the app 99999999-0000-4000-8000-000000000000",
    );
    drop(tenant);
    // No service principal for the API in this tenant.
    let Some(tenant) = Tenant::start(&tenant_with(json!([]), false), "Application.Read.All") else {
        return;
    };
    let out = doctor(&tenant);
    assert!(
        ids(&out).contains(&"api.no-service-principal".to_owned()),
        "{:?}",
        ids(&out)
    );
}

#[test]
fn a_tenant_run_reads_each_listed_app_by_the_object_id_graph_gave() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(8), "Application.ReadWrite.All") else {
        return;
    };
    let out = tenant
        .keycred("rotate")
        .args(["--all", "--no-pfx", "--json", "--out"])
        .arg(tenant.dir.path().join("certs"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = tenant.graph.log();
    let guesses: Vec<String> = log
        .iter()
        .map(path_of)
        .filter(|p| p.contains("(appId="))
        .collect();
    assert!(
        guesses.is_empty(),
        "no appId guess for an id Graph gave: {guesses:?}"
    );
    assert!(log.iter().all(|e| e["status"] != 404), "no 404: {log:?}");
    // Apps 0 and 4 are healthy: their listing shows nothing to do, so they are not read again; they stay in
    // Graph's order in the report, skipped.
    let reads: Vec<String> = log
        .iter()
        .map(path_of)
        .filter(|p| p.starts_with("/v1.0/applications/"))
        .collect();
    for healthy in [
        "10000000-0000-4000-8000-000000000000",
        "10000000-0000-4000-8000-000000000004",
    ] {
        assert!(
            !reads.iter().any(|p| p.contains(healthy)),
            "{healthy} read: {reads:?}"
        );
    }
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results: Vec<&str> = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        [
            "skipped",
            "planned",
            "planned",
            "skipped",
            "planned",
            "planned",
            "no certificate",
            "no certificate"
        ],
        "{report:#}"
    );
}

#[test]
fn a_credential_without_an_end_date_or_with_a_hex_identifier_does_not_stop_the_scan() {
    if !node_ready() {
        return;
    }
    use base64::Engine as _;
    let mut apps = tenant_apps(3);
    // App 1's certificate: Graph gives no end date. App 2's: its customKeyIdentifier is the thumbprint written as
    // hex text (as some tools upload it), base64 as Graph returns it.
    apps[1]["keyCredentials"][0]["endDateTime"] = Value::Null;
    apps[2]["keyCredentials"][0]["customKeyIdentifier"] =
        json!(base64::engine::general_purpose::STANDARD
            .encode(b"572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969"));
    let Some(tenant) = Tenant::start(&apps, "Application.Read.All") else {
        return;
    };
    let out = tenant.keycred("apps").arg("--json").output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["complete"], true, "{report:#}");
    let listed = report["apps"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "every app, the scan went on: {report:#}");
    let problems = listed[1]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("has no endDateTime")),
        "{:#}",
        listed[1]
    );
    assert_eq!(
        listed[2]["certificates"][0]["thumbprint"], "572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969",
        "{:#}",
        listed[2]
    );
}

#[test]
fn the_scan_as_csv_reads_in_python_with_one_row_per_credential_and_no_formula() {
    if !node_ready() {
        return;
    }
    // Skipped, said, without python3 (a failure with CI=true).
    if !peer_available("python3", &["-c", "import csv"]) {
        return;
    }
    let mut apps = tenant_apps(4);
    apps[0]["displayName"] = json!("=HYPERLINK(\"http://evil.example\",\"x\")");
    apps[1]["displayName"] = json!("Orders, \"west\"\nregion");
    apps[2]["keyCredentials"][0]["hasExtendedValue"] = json!(true);
    let Some(tenant) = Tenant::start(&apps, "Application.Read.All") else {
        return;
    };
    let out = tenant
        .keycred("apps")
        .args(["--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scan.csv"), &csv).unwrap();
    let parsed = run_peer(
        "python3",
        &[
            "-c",
            "import csv, json, sys; print(json.dumps(list(csv.DictReader(open(sys.argv[1], newline='')))))",
            dir.path().join("scan.csv").to_str().unwrap(),
        ],
    );
    let rows: Vec<Value> = serde_json::from_str(&parsed).unwrap();
    // App 0: a certificate and a secret; 1 and 2: a certificate each; 3: none.
    let kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "certificate",
            "secret",
            "certificate",
            "certificate",
            "none"
        ],
        "{csv}"
    );
    assert_eq!(
        rows[0]["displayName"], "'=HYPERLINK(\"http://evil.example\",\"x\")",
        "never a formula"
    );
    assert_eq!(
        rows[2]["displayName"], "Orders, \"west\"\nregion",
        "quoted as CSV quotes"
    );
    assert_eq!(
        rows[0]["thumbprint"],
        "572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969"
    );
    assert!(
        rows[3]["daysLeft"].as_str().unwrap().starts_with('-'),
        "expired: {}",
        rows[3]
    );
    let text =
        String::from_utf8_lossy(&tenant.keycred("apps").output().unwrap().stdout).into_owned();
    assert!(
        text.contains("private key material stored in the directory (hasExtendedValue)"),
        "{text}"
    );
}

/// An app's owner may name it anything, line breaks included: a name must not forge another app's line (a
/// "healthy" verdict, a certificate) in the admin's text report.
#[test]
fn a_display_name_with_line_breaks_forges_no_line_of_the_report() {
    if !node_ready() {
        return;
    }
    const FORGED: &str = "20000000-0000-4000-8000-000000000099";
    let mut apps = tenant_apps(2);
    apps[1]["displayName"] = json!(format!("App 1\r\n{FORGED}  Payroll  healthy\n"));
    apps[1]["keyCredentials"][0]["displayName"] =
        json!(format!("CN=App 1\n{FORGED}  Payroll  healthy"));
    // An appId is Graph's to give, but a page is untrusted all the same.
    let mut odd = apps[0].clone();
    odd["id"] = json!("10000000-0000-4000-8000-000000000077");
    odd["appId"] = json!(format!(
        "20000000-0000-4000-8000-000000000077\n{FORGED}  Payroll  healthy"
    ));
    apps.as_array_mut().unwrap().push(odd);
    let Some(tenant) = Tenant::start(&apps, "Application.ReadWrite.All") else {
        return;
    };
    let forged = |text: &str| {
        text.lines()
            .any(|line| line.trim_start().starts_with(FORGED))
    };
    for args in [
        vec!["apps"],
        vec!["rotate", "--all", "--no-pfx", "--out"],
        vec!["show", "--app", "20000000-0000-4000-8000-000000000001"],
    ] {
        let mut cmd = tenant.keycred(args[0]);
        cmd.args(&args[1..]);
        if args.last() == Some(&"--out") {
            cmd.arg(tenant.dir.path().join("certs"));
        }
        let out = cmd.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("App 1"), "{args:?}: {text}");
        if args[0] == "apps" {
            assert!(text.contains(r"000000000077\u{a}2000"), "{text}");
        }
        assert!(!forged(&text), "{args:?}:\n{text}");
        assert!(!forged(&String::from_utf8_lossy(&out.stderr)), "{args:?}");
    }
}
