//! The security round's attacks, each reproduced against hostile servers on 127.0.0.1 ([`crate::loopback`]):
//! where a bearer token, a secret or a key may go, and what a Graph answer may make keycred do.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;
use crate::loopback::{Loopback, Reply};

/// A page counter for the servers that page for ever: each page links to a new one.
static PAGE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

/// A token file for `--token-file`.
fn token_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("graph.token");
    std::fs::write(&path, "secret-graph-token\n").unwrap();
    path
}

fn app(i: usize) -> Value {
    json!({
        "id": format!("10000000-0000-4000-8000-{i:012}"),
        "appId": format!("20000000-0000-4000-8000-{i:012}"),
        "displayName": format!("App {i}"),
        "keyCredentials": [],
        "passwordCredentials": [],
    })
}

/// `graph apps --json` against `graph`, bounded so that a run that never ends fails the test instead of hanging it.
fn graph_apps(graph: &str, dir: &Path, extra: &[&str]) -> std::process::Output {
    keycred()
        .args([
            "graph",
            "apps",
            "--json",
            "--graph-url",
            graph,
            "--token-file",
        ])
        .arg(token_file(dir))
        .args(extra)
        .timeout(Duration::from_secs(40))
        .output()
        .unwrap()
}

#[test]
fn a_next_link_to_another_origin_never_gets_the_token() {
    let thief = Loopback::start(|_, _| Reply::json(200, json!({"value": []})));
    let dir = tempfile::tempdir().unwrap();
    let thief_port = thief.port;
    // Each link leaves the Graph origin: another port, another scheme, another host name for the same address, a
    // user-info part naming the Graph host before the real one, and the Graph port extended as a string.
    let links: Vec<Box<dyn Fn(u16) -> String + Send + Sync>> = vec![
        Box::new(move |_| format!("http://127.0.0.1:{thief_port}/v1.0/applications?$skiptoken=a")),
        Box::new(move |own| format!("https://127.0.0.1:{own}/v1.0/applications?$skiptoken=b")),
        Box::new(move |_| format!("http://localhost:{thief_port}/v1.0/applications?$skiptoken=c")),
        Box::new(move |own| {
            format!("http://127.0.0.1:{own}@127.0.0.1:{thief_port}/v1.0/applications?$skiptoken=d")
        }),
        Box::new(move |own| format!("http://127.0.0.1:{own}0/v1.0/applications?$skiptoken=e")),
    ];
    for link in links {
        let graph = Loopback::start(move |request, own| {
            if request.target.contains("skiptoken") {
                Reply::json(200, json!({"value": []}))
            } else {
                Reply::json(
                    200,
                    json!({"value": [app(0)], "@odata.nextLink": link(own)}),
                )
            }
        });
        let out = graph_apps(&graph.url(), dir.path(), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_ne!(out.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("@odata.nextLink") && stderr.contains("another origin"),
            "{stderr}"
        );
        assert_eq!(
            graph.received().len(),
            1,
            "only the first page was asked for"
        );
        assert_eq!(
            graph.received()[0].header("authorization"),
            Some("Bearer secret-graph-token"),
            "the Graph URL itself gets the token"
        );
        // The JSON report says the scan is incomplete; it is still one document.
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["complete"], false);
    }
    assert!(
        thief.received().is_empty(),
        "the other origin was asked: {:?}",
        thief.received()
    );
}

#[test]
fn a_redirect_from_graph_is_not_followed() {
    let thief = Loopback::start(|_, _| Reply::json(200, json!({"value": []})));
    let target = format!("{}/v1.0/applications", thief.url());
    let graph = Loopback::start(move |_, _| Reply::redirect(307, &target));
    let dir = tempfile::tempdir().unwrap();
    let out = graph_apps(&graph.url(), dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(
        out.status.code(),
        Some(0),
        "an empty tenant elsewhere: {stderr}"
    );
    assert!(stderr.contains("redirect"), "{stderr}");
    assert!(
        stderr.contains(&thief.url()),
        "the error names the link: {stderr}"
    );
    assert!(thief.received().is_empty());
}

#[test]
fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let thief = Loopback::start(|_, _| {
        Reply::json(
            200,
            json!({"access_token": "from-elsewhere", "token_type": "Bearer", "expires_in": 3600}),
        )
    });
    let target = format!("{}/token", thief.url());
    let authority = Loopback::start(move |_, _| Reply::redirect(302, &target));
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cr3t-value\n").unwrap();
    let out = keycred()
        .args(["token", "--tenant", TENANT, "--client-id", CLIENT])
        .args([
            "--scope",
            "api://contoso-orders/.default",
            "--authority",
            &authority.url(),
        ])
        .arg("--client-secret-file")
        .arg(&secret)
        .timeout(Duration::from_secs(40))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("from-elsewhere"));
    assert!(stderr.contains("redirect"), "{stderr}");
    assert!(thief.received().is_empty());
}

#[test]
fn a_redirected_jwks_is_not_trusted() {
    let thief = Loopback::start(|_, _| Reply::json(200, json!({"keys": []})));
    let target = format!("{}/keys", thief.url());
    let jwks = Loopback::start(move |_, _| Reply::redirect(302, &target));
    let dir = tempfile::tempdir().unwrap();
    let assertion = keycred()
        .args([
            "assertion",
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT,
            "--key",
        ])
        .arg(fixture("openssl-rsa.key"))
        .arg("--cert")
        .arg(fixture("openssl-rsa.cer"))
        .output()
        .unwrap();
    let token = dir.path().join("token.txt");
    std::fs::write(&token, stdout(&assertion)).unwrap();
    let out = keycred()
        .arg("decode")
        .arg(&token)
        .args(["--jwks", &format!("{}/keys", jwks.url())])
        .timeout(Duration::from_secs(40))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("redirect"), "{stderr}");
    assert!(thief.received().is_empty());
}

#[test]
fn a_loopback_authority_is_never_sent_through_a_proxy() {
    let proxy = Loopback::start(|_, _| Reply::json(502, json!({})));
    let authority = Loopback::start(|_, _| {
        Reply::json(
            200,
            json!({"access_token": "local", "token_type": "Bearer", "expires_in": 3600}),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cr3t-value\n").unwrap();
    let out = keycred()
        .args(["token", "--tenant", TENANT, "--client-id", CLIENT])
        .args(["--scope", "api://contoso-orders/.default"])
        .args([
            "--authority",
            &format!("http://localhost:{}", authority.port),
        ])
        .arg("--client-secret-file")
        .arg(&secret)
        .env("HTTPS_PROXY", proxy.url())
        .env("HTTP_PROXY", proxy.url())
        .env("ALL_PROXY", proxy.url())
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .timeout(Duration::from_secs(40))
        .output()
        .unwrap();
    assert!(
        proxy.received().is_empty(),
        "the proxy got {:?}",
        proxy.received()
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(authority.received().len(), 1);
}

#[test]
fn a_repeated_next_link_ends_the_scan() {
    let graph = Loopback::start(|_, own| {
        Reply::json(
            200,
            json!({"value": [app(0)], "@odata.nextLink": format!("http://127.0.0.1:{own}/v1.0/applications?$skiptoken=same")}),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let out = graph_apps(&graph.url(), dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("again"), "{stderr}");
    assert!(
        graph.received().len() <= 3,
        "{} pages",
        graph.received().len()
    );
}

#[test]
fn an_endless_chain_of_pages_stops_at_the_timeout() {
    let graph = Loopback::start(|request, own| {
        let _ = request;
        let n = PAGE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Reply::json(
            200,
            json!({"value": [app(0)], "@odata.nextLink": format!("http://127.0.0.1:{own}/v1.0/applications?$skiptoken={n}x")}),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let out = graph_apps(&graph.url(), dir.path(), &["--timeout", "3"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("--timeout"), "{stderr}");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn sigterm_stops_a_scan_at_once() {
    let graph = Loopback::start(|request, own| {
        std::thread::sleep(Duration::from_millis(50));
        let _ = request;
        let n = PAGE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Reply::json(
            200,
            json!({"value": [app(0)], "@odata.nextLink": format!("http://127.0.0.1:{own}/v1.0/applications?$skiptoken={n}x")}),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("keycred"))
        .args([
            "graph",
            "apps",
            "--json",
            "--graph-url",
            &graph.url(),
            "--token-file",
        ])
        .arg(token_file(dir.path()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(5) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let status = status.expect("the scan went on after SIGTERM");
    assert_eq!(status.code(), Some(143));
}

#[test]
fn an_app_id_from_graph_never_becomes_a_path() {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(fixture("openssl-rsa.cer")).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("certs");
    for evil in ["../escaped", "/tmp/keycred-escaped-abs"] {
        let application = json!({
            "id": "10000000-0000-4000-8000-000000000001",
            "appId": evil,
            "displayName": "Evil",
            "keyCredentials": [{
                "key": key,
                "keyId": "00000000-0000-4000-8000-000000000001",
                "displayName": "CN=Evil",
                "type": "AsymmetricX509Cert",
                "usage": "Verify",
                "startDateTime": days_from_now(-300),
                "endDateTime": days_from_now(10),
            }],
        });
        let graph = Loopback::start(move |request, _| {
            if request.method == "PATCH" {
                Reply::json(204, Value::Null)
            } else if request.target.contains("$top") {
                Reply::json(200, json!({"value": [application]}))
            } else if request.target.contains("(appId=") {
                Reply::json(
                    404,
                    json!({"error": {"code": "Request_ResourceNotFound", "message": "not found"}}),
                )
            } else {
                Reply::json(200, application.clone())
            }
        });
        let out = keycred()
            .args([
                "graph",
                "rotate",
                "--all",
                "--apply",
                "--no-pfx",
                "--graph-url",
                &graph.url(),
            ])
            .arg("--token-file")
            .arg(token_file(dir.path()))
            .arg("--out")
            .arg(&out_dir)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_ne!(out.status.code(), Some(0), "{text}{stderr}");
        assert!(
            format!("{text}{stderr}").contains("not a GUID"),
            "{text}{stderr}"
        );
        assert!(!dir.path().join("escaped").exists());
        assert!(!Path::new("/tmp/keycred-escaped-abs").exists());
        assert!(
            graph.received().iter().all(|r| r.method == "GET"),
            "nothing is sent for it"
        );
    }
}

/// A one-app tenant on a [`Loopback`] that keeps what a PATCH sends; `refuse_patches` answers the first N PATCHes
/// with 403.
struct OneAppTenant {
    graph: Loopback,
    app: std::sync::Arc<std::sync::Mutex<Value>>,
}

const OBJECT_ID: &str = "10000000-0000-4000-8000-000000000007";
const APP_ID: &str = "20000000-0000-4000-8000-000000000007";

impl OneAppTenant {
    fn start(refuse_patches: usize) -> OneAppTenant {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD
            .encode(std::fs::read(fixture("openssl-rsa.cer")).unwrap());
        OneAppTenant::named(
            refuse_patches,
            "Orders Daemon",
            "CN=Orders Daemon",
            json!(key),
        )
    }

    /// The app named `display_name`, its certificate credential named `credential_name`, with `key` (the
    /// certificate, or null as Graph lists it).
    fn named(
        refuse_patches: usize,
        display_name: &str,
        credential_name: &str,
        key: Value,
    ) -> OneAppTenant {
        let app = std::sync::Arc::new(std::sync::Mutex::new(json!({
            "id": OBJECT_ID,
            "appId": APP_ID,
            "displayName": display_name,
            "keyCredentials": [{
                "key": key,
                "keyId": "00000000-0000-4000-8000-000000000007",
                "displayName": credential_name,
                "type": "AsymmetricX509Cert",
                "usage": "Verify",
                "startDateTime": days_from_now(-300),
                "endDateTime": days_from_now(10),
            }],
        })));
        let state = std::sync::Arc::clone(&app);
        let refused = std::sync::atomic::AtomicUsize::new(0);
        let graph = Loopback::start(move |request, _| {
            let mut app = state.lock().unwrap();
            if request.method == "PATCH" {
                if refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < refuse_patches {
                    return Reply::json(
                        403,
                        json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}}),
                    );
                }
                let body: Value = serde_json::from_str(&request.body).unwrap();
                app["keyCredentials"] = body["keyCredentials"].clone();
                Reply::json(204, Value::Null)
            } else if request.target.contains("$top") {
                Reply::json(200, json!({"value": [app.clone()]}))
            } else if request.target.contains("(appId=") {
                Reply::json(
                    404,
                    json!({"error": {"code": "Request_ResourceNotFound", "message": "not found"}}),
                )
            } else {
                Reply::json(200, app.clone())
            }
        });
        OneAppTenant { graph, app }
    }

    /// `graph rotate --all --apply` into `out`.
    fn rotate(&self, dir: &Path, out: &Path) -> std::process::Output {
        keycred()
            .args([
                "graph",
                "rotate",
                "--all",
                "--apply",
                "--no-pfx",
                "--json",
                "--graph-url",
                &self.graph.url(),
            ])
            .arg("--token-file")
            .arg(token_file(dir))
            .arg("--out")
            .arg(out)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    }

    /// The certificates (base64 DER) the PATCHes sent.
    fn sent_keys(&self) -> Vec<String> {
        self.graph
            .received()
            .iter()
            .filter(|r| r.method == "PATCH")
            .flat_map(|r| {
                let body: Value = serde_json::from_str(&r.body).unwrap();
                body["keyCredentials"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|k| k["key"].as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

fn base64_of(path: &Path) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(std::fs::read(path).unwrap())
}

#[test]
fn a_certificate_planted_in_the_apps_folder_is_never_uploaded() {
    let tenant = OneAppTenant::start(0);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let folder = out.join(APP_ID);
    std::fs::create_dir_all(&folder).unwrap();
    // Someone who can write into the folder plants a certificate of their own key, with its key beside it.
    stdout(
        &keycred()
            .args([
                "new",
                "-s",
                "CN=Orders Daemon",
                "--name",
                "planted",
                "--no-pfx",
                "--out",
            ])
            .arg(&folder)
            .output()
            .unwrap(),
    );
    let planted = base64_of(&folder.join("planted.cer"));
    let run = tenant.rotate(dir.path(), &out);
    let report = output_json(&run);
    assert_eq!(report["apps"][0]["result"], "rotated", "{report}");
    assert_eq!(report["apps"][0]["added"]["reused"], false, "{report}");
    let sent = tenant.sent_keys();
    assert_eq!(sent.len(), 1, "one new certificate: {sent:?}");
    assert_ne!(sent[0], planted, "the planted certificate was uploaded");
    // The one sent is the one keycred made, with its record beside it.
    let made: Vec<String> = names_in(&folder)
        .into_iter()
        .filter(|n| n.ends_with(".keycred-state.json"))
        .collect();
    assert_eq!(made.len(), 1, "{:?}", names_in(&folder));
    let stem = made[0].trim_end_matches(".keycred-state.json");
    assert_eq!(sent[0], base64_of(&folder.join(format!("{stem}.cer"))));
    let held = tenant.app.lock().unwrap()["keyCredentials"].clone();
    assert_eq!(held.as_array().unwrap().len(), 2, "{held}");
}

#[test]
fn a_stopped_run_sends_the_certificate_it_made_and_no_swapped_one() {
    let tenant = OneAppTenant::start(1);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let folder = out.join(APP_ID);
    // The first run writes its files, then Graph refuses the PATCH.
    let first = tenant.rotate(dir.path(), &out);
    assert_ne!(first.status.code(), Some(0));
    let made = names_in(&folder)
        .into_iter()
        .find(|n| n.ends_with(".cer"))
        .unwrap();
    let made_cer = folder.join(&made);
    let ours = base64_of(&made_cer);

    // Someone swaps the made certificate for one of theirs (keeping the name): it is not sent.
    let evil = tempfile::tempdir().unwrap();
    stdout(
        &keycred()
            .args([
                "new",
                "-s",
                "CN=Orders Daemon",
                "--name",
                "evil",
                "--no-pfx",
                "--out",
            ])
            .arg(evil.path())
            .output()
            .unwrap(),
    );
    std::fs::copy(evil.path().join("evil.cer"), &made_cer).unwrap();
    let before = tenant.sent_keys().len();
    let swapped = tenant.rotate(dir.path(), &out);
    let report = output_json(&swapped);
    assert_eq!(report["apps"][0]["added"]["reused"], false, "{report}");
    let sent = tenant.sent_keys()[before..].to_vec();
    assert_eq!(sent.len(), 1, "{report}");
    assert_ne!(sent[0], base64_of(&evil.path().join("evil.cer")));
    assert_ne!(sent[0], ours, "its file holds another certificate now");
}

#[test]
fn a_stopped_run_is_finished_with_the_certificate_it_made() {
    let tenant = OneAppTenant::start(1);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let folder = out.join(APP_ID);
    assert_ne!(tenant.rotate(dir.path(), &out).status.code(), Some(0));
    let made = names_in(&folder)
        .into_iter()
        .find(|n| n.ends_with(".cer"))
        .unwrap();
    let second = output_json(&tenant.rotate(dir.path(), &out));
    assert_eq!(second["apps"][0]["result"], "rotated", "{second}");
    assert_eq!(second["apps"][0]["added"]["reused"], true, "{second}");
    // The refused PATCH and the one that landed sent the same certificate.
    let ours = base64_of(&folder.join(made));
    assert_eq!(tenant.sent_keys(), [ours.clone(), ours]);
}

#[test]
fn a_folder_other_users_may_write_is_not_trusted() {
    use std::os::unix::fs::PermissionsExt as _;
    let tenant = OneAppTenant::start(1);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let folder = out.join(APP_ID);
    assert_ne!(tenant.rotate(dir.path(), &out).status.code(), Some(0));
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o777)).unwrap();
    let before = tenant.sent_keys().len();
    let run = tenant.rotate(dir.path(), &out);
    let report = output_json(&run);
    assert_eq!(report["apps"][0]["result"], "failed", "{report}");
    assert!(
        report["apps"][0]["error"]
            .as_str()
            .unwrap()
            .contains("other users may write it"),
        "{report}"
    );
    assert_eq!(tenant.sent_keys().len(), before, "nothing was sent");
}

#[test]
fn terminal_escapes_in_names_from_graph_are_shown_not_obeyed() {
    // An expired app whose name tries to erase its line and print a healthy verdict instead.
    let name = "Evil\u{1b}[2K\r\u{1b}[32mhealthy\u{1b}[0m\u{7}";
    let application = json!({
        "id": "10000000-0000-4000-8000-000000000001",
        "appId": "20000000-0000-4000-8000-000000000001",
        "displayName": name,
        "keyCredentials": [{
            "key": Value::Null,
            "customKeyIdentifier": Value::Null,
            "keyId": "00000000-0000-4000-8000-000000000001",
            "displayName": format!("CN={name}"),
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
            "startDateTime": days_from_now(-400),
            "endDateTime": days_from_now(-5),
        }],
        "passwordCredentials": [],
    });
    let graph = Loopback::start(move |_, _| Reply::json(200, json!({"value": [application]})));
    let dir = tempfile::tempdir().unwrap();
    let text = keycred()
        .args(["graph", "apps", "--graph-url", &graph.url(), "--token-file"])
        .arg(token_file(dir.path()))
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&text.stdout).into_owned();
    assert_eq!(text.status.code(), Some(4), "{printed}");
    assert!(
        !printed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{printed:?}"
    );
    assert!(
        printed.contains("Evil\\u{1b}[2K\\u{d}\\u{1b}[32mhealthy"),
        "{printed}"
    );
    // JSON keeps the name exactly (escaped as JSON escapes it).
    let json_out = graph_apps(&graph.url(), dir.path(), &[]);
    let report: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    assert_eq!(report["apps"][0]["displayName"], name);
}

#[test]
fn a_fifo_given_as_an_input_does_not_block_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("cert.pem");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let start = Instant::now();
    let out = keycred()
        .arg("inspect")
        .arg(&fifo)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not a regular file"), "{stderr}");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    // A pipe that does deliver (as `<(…)` gives) is read as before.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cat {} > {} & exec {} inspect {}",
            fixture("openssl-rsa.pem").display(),
            fifo.display(),
            assert_cmd::cargo::cargo_bin("keycred").display(),
            fifo.display()
        ))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn standard_input_has_the_same_limit_as_a_file() {
    let big = vec![b'a'; 17 * 1024 * 1024];
    for args in [vec!["doctor", "--token", "-"], vec!["decode", "-"]] {
        let out = keycred()
            .args(&args)
            .write_stdin(big.clone())
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("larger than 16 MiB"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_secret_given_where_its_file_belongs_is_never_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "Sup3r-Secret-Value-123";
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl";
    let runs: Vec<Vec<&str>> = vec![
        vec![
            "token",
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT,
            "--scope",
            "api://x/.default",
            "--client-secret-file",
            secret,
        ],
        vec![
            "graph",
            "apps",
            "--graph-url",
            "http://127.0.0.1:9",
            "--token-file",
            jwt,
        ],
        vec![
            "new",
            "-s",
            "CN=X",
            "--out",
            ".",
            "--name",
            "x",
            "--password-file",
            secret,
        ],
    ];
    for args in runs {
        let out = keycred()
            .args(&args)
            .current_dir(dir.path())
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("not a readable file"), "{args:?}: {stderr}");
        assert!(
            !stderr.contains(secret) && !stderr.contains(jwt),
            "{args:?}: {stderr}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
    }
    assert!(names_in(dir.path()).is_empty(), "nothing written");
}

#[test]
fn an_enormous_timeout_is_refused_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path());
    let token = token.to_str().unwrap();
    for (args, flag) in [
        (
            vec![
                "graph",
                "apps",
                "--graph-url",
                "http://127.0.0.1:9",
                "--token-file",
                token,
                "--timeout",
                "18446744073709551615",
            ],
            "--timeout",
        ),
        (
            vec![
                "token",
                "--tenant",
                TENANT,
                "--client-id",
                CLIENT,
                "--scope",
                "api://x/.default",
                "--client-secret-file",
                token,
                "--timeout",
                "0",
            ],
            "--timeout",
        ),
    ] {
        let out = keycred().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains("a week"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn no_core_file_can_hold_the_runs_secrets() {
    // A token request that waits: the process is alive, holding its secret, while its limits are read.
    let authority = Loopback::start(|_, _| {
        std::thread::sleep(Duration::from_secs(3));
        Reply::json(
            200,
            json!({"access_token": "t", "token_type": "Bearer", "expires_in": 3600}),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cr3t-value\n").unwrap();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -c unlimited && exec {} token --tenant {TENANT} --client-id {CLIENT} --scope api://x/.default \
             --authority {} --client-secret-file {}",
            assert_cmd::cargo::cargo_bin("keycred").display(),
            authority.url(),
            secret.display()
        ))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Wait until the request is on its way.
    let start = Instant::now();
    while authority.received().is_empty() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let _ = child.wait();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap()
        .split_whitespace()
        .skip(4)
        .take(2)
        .collect::<Vec<_>>();
    assert_eq!(core, ["0", "0"], "{limits}");
}

#[test]
fn no_secret_is_written_where_other_users_can_write() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let make = || {
        keycred()
            .args([
                "new",
                "-s",
                "CN=Shared",
                "--name",
                "daemon",
                "--generate-password",
                "--out",
            ])
            .arg(&shared)
            .output()
            .unwrap()
    };
    let out = make();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("other users may write to it"), "{stderr}");
    assert!(names_in(&shared).is_empty(), "{:?}", names_in(&shared));
    // A sticky folder (as /tmp is) is fine: nobody can rename or remove another user's files there.
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    stdout(&make());
    assert_eq!(
        std::fs::metadata(shared.join("daemon.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn folders_made_for_keys_are_owner_only_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000 && exec {} new -s CN=Daemon --name daemon --no-pfx --out {}",
            assert_cmd::cargo::cargo_bin("keycred").display(),
            dir.path().join("a/b/c").display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for folder in ["a", "a/b", "a/b/c"] {
        let mode = std::fs::metadata(dir.path().join(folder))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700, "{folder}");
    }
    let key = std::fs::metadata(dir.path().join("a/b/c/daemon.key")).unwrap();
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
}

/// The scan's exit code (the first-admin round, item 11), on a loopback Graph: apps that never had a certificate
/// are listed, not counted.
#[test]
fn apps_that_never_had_a_certificate_do_not_fail_the_scan_unless_asked() {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(fixture("openssl-rsa.cer")).unwrap());
    let healthy = json!({
        "id": "10000000-0000-4000-8000-000000000001",
        "appId": "20000000-0000-4000-8000-000000000001",
        "displayName": "Daemon",
        "keyCredentials": [{"key": key, "keyId": "00000000-0000-4000-8000-000000000001", "displayName": "CN=Daemon",
                            "type": "AsymmetricX509Cert", "usage": "Verify",
                            "startDateTime": days_from_now(-10), "endDateTime": days_from_now(300)}],
        "passwordCredentials": [],
    });
    let graph = Loopback::start(move |_, _| Reply::json(200, json!({"value": [healthy, app(2)]})));
    let dir = tempfile::tempdir().unwrap();
    let scan = |extra: &[&str]| {
        keycred()
            .args(["graph", "apps", "--graph-url", &graph.url(), "--token-file"])
            .arg(token_file(dir.path()))
            .args(extra)
            .output()
            .unwrap()
    };
    let out = scan(&[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("2 apps: 1 healthy, 0 renewal due, 0 expired, 0 not yet valid, 1 without a certificate (listed, not counted in the exit code: --require-credential counts them); 0 with secrets (1 page)"), "{text}");
    assert_eq!(scan(&["--require-credential"]).status.code(), Some(4));
}

/// The first-admin round, item 16: a display name Graph allows never fails the app's new certificate.
#[test]
fn any_display_name_gives_a_subject() {
    let long = "Contoso Orders Processing Daemon For The Northern Region Warehouses";
    for (name, cn) in [
        (
            "Contoso, Orders + Billing",
            "CN=Contoso\\, Orders \\+ Billing",
        ),
        (long, &format!("CN={}", &long[..64].trim_end())[..]),
        ("    ", &format!("CN={APP_ID}")[..]),
    ] {
        // Neither the credential's name nor its certificate (not read) gives a subject: the app's display name does.
        let tenant = OneAppTenant::named(0, name, "uploaded by the portal", Value::Null);
        let dir = tempfile::tempdir().unwrap();
        let out = tenant.rotate(dir.path(), &dir.path().join("certs"));
        let report = output_json(&out);
        assert_eq!(report["apps"][0]["result"], "rotated", "{name:?}: {report}");
        let sent = tenant.sent_keys();
        assert_eq!(sent.len(), 1);
        let der_file = dir.path().join("sent.cer");
        use base64::Engine as _;
        std::fs::write(
            &der_file,
            base64::engine::general_purpose::STANDARD
                .decode(&sent[0])
                .unwrap(),
        )
        .unwrap();
        let subject = openssl_subject_der(&der_file);
        assert_eq!(subject.trim(), format!("subject={cn}"), "{name:?}");
    }
}

/// The first-admin round, item 18: an app that failed before it was read is still named on every line.
#[test]
fn every_line_names_its_app() {
    let graph = Loopback::start(|_, _| {
        Reply::json(
            404,
            json!({"error": {"code": "Request_ResourceNotFound", "message": "Resource does not exist."}}),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let missing = "20000000-0000-4000-8000-0000000000ff";
    let out = keycred()
        .args([
            "graph",
            "rotate",
            "--app",
            missing,
            "--graph-url",
            &graph.url(),
            "--token-file",
        ])
        .arg(token_file(dir.path()))
        .arg("--out")
        .arg(dir.path().join("certs"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let progress = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}{progress}");
    assert!(
        text.contains(&format!("{missing}  (no name)  failed")),
        "{text}"
    );
    assert!(
        progress.contains(&format!("{missing}: failed")),
        "{progress}"
    );
}

/// Item 9: a `--force` that fails partway leaves the earlier set of files whole (it left a new `.cer` beside the
/// old `.key`). The failure is real: another user's key in a sticky folder cannot be replaced by this user.
#[test]
fn a_failed_force_leaves_the_earlier_set_whole() {
    use std::os::unix::fs::PermissionsExt as _;
    if rustix::process::geteuid().as_raw() != 0 || !peer_available("setpriv", &["--version"]) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs as root with setpriv (util-linux): this test needs a second user"
        );
        eprintln!("SKIPPED: a second local user needs root and setpriv");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let as_user = |subject: &str, extra: &[&str]| {
        std::process::Command::new("setpriv")
            .args(["--reuid", "1000", "--regid", "1000", "--clear-groups"])
            .arg(assert_cmd::cargo::cargo_bin("keycred"))
            .args([
                "new", "-s", subject, "--name", "daemon", "--no-pfx", "--out",
            ])
            .arg(&shared)
            .args(extra)
            .output()
            .unwrap()
    };
    let first = as_user("CN=First", &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // The key now belongs to another user (readable, but not this user's to replace in a sticky folder).
    let key = shared.join("daemon.key");
    std::os::unix::fs::chown(&key, Some(2000), Some(2000)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let names = names_in(&shared);
    let before: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(shared.join(n)).unwrap())
        .collect();
    let forced = as_user("CN=Second", &["--force"]);
    let stderr = String::from_utf8_lossy(&forced.stderr).into_owned();
    assert_eq!(forced.status.code(), Some(1), "{stderr}");
    assert_eq!(
        names_in(&shared),
        names,
        "no new file and no stray backup: {stderr}"
    );
    let after: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(shared.join(n)).unwrap())
        .collect();
    assert!(before == after, "the earlier set changed: {stderr}");
}

/// A run that failed (exit 1) on someone else's text holding `forged` after a line break (a server's error, a
/// token's claim): the text is shown, and no line of standard error is one of keycred's notes that it started.
pub fn forges_no_line(out: &std::process::Output, whose: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{whose}: {stderr}");
    assert!(
        stderr.contains("forged"),
        "{whose}: the text is shown: {stderr}"
    );
    assert!(
        stderr.lines().all(|l| !l.starts_with("keycred: note:")),
        "{whose}: the text forged a line of keycred's: {stderr}"
    );
}

#[test]
fn an_error_message_from_a_server_forges_no_line_of_keycreds() {
    let forged = "denied\nkeycred: note: forged, the run succeeded\r";
    let dir = tempfile::tempdir().unwrap();
    // Graph: its error's code, message and request id.
    let graph = Loopback::start(move |_, _| {
        Reply::json(
            403,
            json!({"error": {"code": format!("Authorization_RequestDenied{forged}"), "message": forged,
                             "innerError": {"request-id": forged}}}),
        )
    });
    forges_no_line(&graph_apps(&graph.url(), dir.path(), &[]), "Graph");

    // The token endpoint: an OAuth error, and an answer that is not one (shown as it came).
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cr3t-value\n").unwrap();
    let token = |authority: &Loopback| {
        keycred()
            .args(["token", "--tenant", TENANT, "--client-id", CLIENT])
            .args(["--scope", "api://contoso-orders/.default"])
            .args(["--authority", &authority.url(), "--client-secret-file"])
            .arg(&secret)
            .timeout(Duration::from_secs(40))
            .output()
            .unwrap()
    };
    let oauth = Loopback::start(move |_, _| {
        Reply::json(
            400,
            json!({"error": forged, "error_description": format!("AADSTS7000215: {forged}"),
                   "correlation_id": forged}),
        )
    });
    forges_no_line(&token(&oauth), "the token endpoint");
    let not_oauth = Loopback::start(move |_, _| Reply {
        status: 500,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: forged.into(),
    });
    forges_no_line(&token(&not_oauth), "a token endpoint's plain answer");

    // Key Vault: its error's code (its message is quoted).
    let vault = Loopback::start(move |_, _| {
        Reply::json(403, json!({"error": {"code": forged, "message": forged}}))
    });
    let vault_token = dir.path().join("vault.token");
    std::fs::write(&vault_token, "vault-token\n").unwrap();
    let out = keycred()
        .args(["new", "--subject", "CN=Vault Daemon", "--name", "daemon"])
        .args(["--key-vault", &vault.url(), "--vault-token-file"])
        .arg(&vault_token)
        .arg("--out")
        .arg(dir.path().join("certs"))
        .timeout(Duration::from_secs(40))
        .output()
        .unwrap();
    forges_no_line(&out, "Key Vault");
}
