//! A whole tenant within Graph's budget (issue 30): the requests a tenant run makes, counted on the Graph test
//! server's log. `$select=keyCredentials` on one application (the only way to read `key`) is rationed by Graph, so
//! a run spends it only where a credential's identity cannot be told from its metadata.

use serde_json::Value;

use crate::common::*;
use crate::graph::{node_ready, path_of, tenant_apps, Tenant};

/// Whether a logged request is a single application read that names keyCredentials in its `$select`: Graph's
/// rationed read (150 a minute per tenant).
pub fn reads_keys(entry: &Value) -> bool {
    let path = path_of(entry);
    entry["method"] == "GET"
        && (path.starts_with("/v1.0/applications/") || path.starts_with("/v1.0/applications("))
        && path
            .split_once("$select=")
            .is_some_and(|(_, select)| select.split(['&', ',']).any(|f| f == "keyCredentials"))
}

/// The object id a logged single-application request names.
fn object_of(entry: &Value) -> Option<String> {
    let path = path_of(entry);
    let rest = path.strip_prefix("/v1.0/applications/")?;
    Some(rest.split(['/', '?']).next()?.to_owned())
}

#[test]
fn a_tenant_rotation_reads_keys_only_where_metadata_cannot_tell_a_credential() {
    if !node_ready() {
        return;
    }
    // Twelve apps (healthy, due, expired, none by i % 4); app 5's certificate carries no customKeyIdentifier, so
    // only its key tells which certificate it is.
    let mut apps = tenant_apps(12);
    apps[5]["keyCredentials"][0]["customKeyIdentifier"] = Value::Null;
    let Some(tenant) = Tenant::start(&apps, "Application.ReadWrite.All") else {
        return;
    };
    let out = tenant
        .keycred("rotate")
        .args(["--all", "--no-pfx", "--apply", "--json", "--out"])
        .arg(tenant.dir.path().join("certs"))
        .output()
        .unwrap();
    let report = output_json(&out);
    let rotated: Vec<&str> = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["result"] == "rotated")
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(rotated.len(), 6, "{report:#}");
    let log = tenant.graph.log();
    let key_reads: Vec<String> = log.iter().filter(|e| reads_keys(e)).map(path_of).collect();
    assert_eq!(
        key_reads.len(),
        1,
        "one rationed read, for the app whose certificate has no identifier: {key_reads:#?}"
    );
    assert!(key_reads[0].contains("10000000-0000-4000-8000-000000000005"));
    // Each rotated app: read right before its write and once after (metadata), one PATCH; healthy apps never.
    for id in &rotated {
        let requests: Vec<&Value> = log
            .iter()
            .filter(|e| object_of(e).as_deref() == Some(*id))
            .filter(|e| !reads_keys(e))
            .collect();
        let methods: Vec<&str> = requests
            .iter()
            .map(|e| e["method"].as_str().unwrap())
            .collect();
        assert_eq!(methods, ["GET", "PATCH", "GET"], "{id}: {requests:#?}");
    }
    for healthy in [0, 4, 8] {
        let id = format!("10000000-0000-4000-8000-{healthy:012}");
        assert!(
            !log.iter()
                .any(|e| object_of(e).as_deref() == Some(id.as_str())),
            "healthy app {id} was read"
        );
    }
    // Every kept credential went back by its keyId alone.
    for patch in log.iter().filter(|e| e["method"] == "PATCH") {
        let sent = patch["body"]["keyCredentials"].as_array().unwrap();
        let kept: Vec<&Value> = sent.iter().filter(|k| k["key"].is_null()).collect();
        assert_eq!(kept.len() + 1, sent.len(), "{patch:#}");
    }
}

/// `count` apps, every one due and its certificate without a `customKeyIdentifier`: each plan must read its key.
fn unidentified_due_apps(count: usize) -> Value {
    let mut apps = tenant_apps(count * 4);
    let due: Vec<Value> = apps
        .as_array_mut()
        .unwrap()
        .drain(..)
        .enumerate()
        .filter(|(i, _)| i % 4 == 1)
        .map(|(_, mut app)| {
            app["keyCredentials"][0]["customKeyIdentifier"] = Value::Null;
            app
        })
        .collect();
    Value::Array(due)
}

/// A Graph token of the automation app, as `keycred token` prints it.
fn graph_token(tenant: &Tenant) -> String {
    let out = keycred()
        .args([
            "token",
            "--tenant",
            crate::graph::TENANT,
            "--client-id",
            crate::graph::AUTOMATION,
        ])
        .arg("--scope")
        .arg(format!("{}/.default", tenant.graph.url()))
        .arg("--authority")
        .arg(tenant.oidc.authority())
        .arg("--cert")
        .arg(tenant.dir.path().join("automation.pem"))
        .arg("--key")
        .arg(tenant.dir.path().join("automation.key"))
        .output()
        .unwrap();
    stdout(&out).trim().to_owned()
}

/// Graph's minute lasts a second on both sides: the test server's windows and keycred's budget.
const SCALE: &str = "60";

#[test]
fn the_test_server_throttles_past_graphs_limit_on_reads_of_keys() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start_env(
        &unidentified_due_apps(1),
        "Application.Read.All",
        &[("GRAPH_TIME_SCALE", SCALE)],
    ) else {
        return;
    };
    // The server is strict: 170 reads of keys at once meet 429 with Retry-After past the 150th.
    let token = graph_token(&tenant);
    let url = format!(
        "{}/v1.0/applications/10000000-0000-4000-8000-000000000001?$select=id,keyCredentials",
        tenant.graph.url()
    );
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..170 {
        let response = ureq::get(&url)
            .header("authorization", format!("Bearer {token}"))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .unwrap();
        if response.status() == 429 {
            retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 150);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 20);
    assert_eq!(retry_after.as_deref(), Some("1"));
}

#[test]
fn a_run_paces_its_reads_of_keys_under_graphs_limit_and_meets_no_429() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start_env(
        &unidentified_due_apps(400),
        "Application.Read.All",
        &[("GRAPH_TIME_SCALE", SCALE)],
    ) else {
        return;
    };
    let start = std::time::Instant::now();
    let out = tenant
        .keycred("rotate")
        .args(["--all", "--no-pfx", "--json", "--jobs", "8", "--out"])
        .arg(tenant.dir.path().join("certs"))
        .env("KEYCRED_GRAPH_TIME_SCALE", SCALE)
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    let report = output_json(&out);
    let planned = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["result"] == "planned")
        .count();
    assert_eq!(planned, 400, "{report:#}");
    let log = tenant.graph.log();
    let throttled: Vec<&Value> = log.iter().filter(|e| e["status"] == 429).collect();
    assert!(throttled.is_empty(), "{} answers of 429", throttled.len());
    assert_eq!(log.iter().filter(|e| reads_keys(e)).count(), 400);
    // A window's 135 places are all used: six batches of twenty, then one of the fifteen left (a batch that held
    // its places while waiting for the last of twenty would leave them idle for a whole window).
    let sizes: Vec<usize> = log
        .iter()
        .filter(|e| e["method"] == "POST" && path_of(e) == "/v1.0/$batch")
        .map(|b| b["body"]["requests"].as_array().unwrap().len())
        .collect();
    assert_eq!(&sizes[..7], [20, 20, 20, 20, 20, 20, 15], "{sizes:?}");
    // The run says what it spent, and what --apply will: 400 reads of keys at 135 a minute (90% of Graph's
    // limit) take two more minutes after the first 135, on Graph's clock.
    assert_eq!(report["graph"]["requests"]["keyReads"], 400, "{report:#}");
    assert_eq!(report["graph"]["budgetPercent"], 90);
    let apply = &report["graph"]["apply"];
    assert_eq!(apply["requests"]["keyReads"], 400, "{apply:#}");
    assert_eq!(apply["requests"]["writes"], 400, "{apply:#}");
    assert_eq!(apply["leastSeconds"], 120, "{apply:#}");
    assert!(apply["setBy"].as_str().unwrap().contains("reading keys"));
    // 90% of 150 a (one-second) minute: 400 reads take at least two more windows after the first.
    assert!(
        elapsed >= std::time::Duration::from_secs(2),
        "{elapsed:?}: faster than the budget allows"
    );
}

#[test]
fn verification_waits_for_replication_once_for_the_run_not_once_per_app() {
    if !node_ready() {
        return;
    }
    // Eight due apps; Entra (the OAuth server) trusts a new certificate 4 s after Graph took it.
    let apps: Vec<Value> = unidentified_due_apps(8).as_array().unwrap().clone();
    let Some(tenant) = crate::graph::live_tenant_env(
        apps,
        "Application.ReadWrite.All",
        &[("REPLICATION_DELAY_MS", "4000")],
    ) else {
        return;
    };
    let start = std::time::Instant::now();
    let out = tenant
        .keycred("rotate")
        .args([
            "--all", "--no-pfx", "--apply", "--verify", "--json", "--jobs", "1",
        ])
        .args(["--out"])
        .arg(tenant.dir.path().join("certs"))
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    let report = output_json(&out);
    let verified: Vec<&Value> = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["result"] == "rotated" && a["verified"] == true)
        .collect();
    assert_eq!(verified.len(), 8, "{report:#}");
    // Each app waiting out its own replication, one after another, takes at least 8 x 4 s; the writes first,
    // then the tokens, about one delay and a retry's pause.
    assert!(
        elapsed < std::time::Duration::from_secs(16),
        "{elapsed:?}: the replication waits were added up"
    );
}

#[test]
fn keys_are_read_twenty_to_a_batch_and_only_a_throttled_item_is_sent_again() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&unidentified_due_apps(45), "Application.Read.All") else {
        return;
    };
    // Graph throttles one item of the first batch (app 5's read of its keys), once.
    tenant.graph.faults(
        serde_json::json!([{"pathContains": "10000000-0000-4000-8000-000000000005?$select=id,keyCredentials",
                            "status": 429, "retryAfter": 1}]),
        0,
    );
    let out = tenant
        .keycred("rotate")
        .args(["--all", "--no-pfx", "--json", "--out"])
        .arg(tenant.dir.path().join("certs"))
        .output()
        .unwrap();
    let report = output_json(&out);
    let planned = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["result"] == "planned")
        .count();
    assert_eq!(planned, 45, "{report:#}");
    let log = tenant.graph.log();
    let batches: Vec<&Value> = log
        .iter()
        .filter(|e| e["method"] == "POST" && path_of(e) == "/v1.0/$batch")
        .collect();
    let sizes: Vec<usize> = batches
        .iter()
        .map(|b| b["body"]["requests"].as_array().unwrap().len())
        .collect();
    // The throttled item alone, after Retry-After (a wait that holds every request), then the other batches.
    assert_eq!(sizes, [20, 1, 20, 5], "{sizes:?}");
    let retried = &batches[1]["body"]["requests"][0]["url"];
    assert_eq!(
        retried,
        "/applications/10000000-0000-4000-8000-000000000005?$select=id,keyCredentials"
    );
    // The retry waited out Retry-After.
    let throttled = log
        .iter()
        .find(|e| e["status"] == 429)
        .expect("the throttled item is logged");
    let waited = batches[1]["time"].as_u64().unwrap() - throttled["time"].as_u64().unwrap();
    assert!(waited >= 1000, "sent again after {waited} ms");
    // Every read of keys went in a batch; none was read again on its own.
    let keys: Vec<&Value> = log.iter().filter(|e| reads_keys(e)).collect();
    assert_eq!(keys.len(), 46);
    assert!(keys.iter().all(|e| e["batch"] == true));
}

/// `graph apps --since-last --json` with the scan state in `state`; the log's length before it, and its report.
fn since_last(tenant: &Tenant, state: &std::path::Path) -> (usize, Value) {
    let before = tenant.graph.log().len();
    let out = tenant
        .keycred("apps")
        .args(["--since-last", "--json"])
        .env("XDG_STATE_HOME", state)
        .output()
        .unwrap();
    (before, output_json(&out))
}

/// The one scan state kept under the state folder `state`.
fn state_file(state: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(state.join("keycred/scans"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap()
}

/// The requests logged since `before`, as paths.
fn since(tenant: &Tenant, before: usize) -> Vec<String> {
    tenant.graph.log()[before..].iter().map(path_of).collect()
}

fn post(tenant: &Tenant, control: &str, body: Value) {
    ureq::post(format!("{}/_test/{control}", tenant.graph.url()))
        .header("content-type", "application/json")
        .send(body.to_string())
        .unwrap();
}

#[test]
fn a_scan_since_last_reads_only_what_changed_and_judges_every_app_again() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(300), "Application.ReadWrite.All") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let all_delta = |paths: &[String]| {
        paths
            .iter()
            .all(|p| p.starts_with("/v1.0/applications/delta?"))
    };
    // The first run reads every app, through the delta query (two pages), and keeps the link owner-only.
    let (before, first) = since_last(&tenant, state.path());
    assert_eq!(first["apps"].as_array().unwrap().len(), 300);
    assert_eq!(first["sinceLast"]["full"], true, "{:#}", first["sinceLast"]);
    let paths = since(&tenant, before);
    assert_eq!(paths.len(), 2, "{paths:#?}");
    assert!(all_delta(&paths), "{paths:#?}");
    let file = state_file(state.path());
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Three apps change (two rotated, one renamed by another admin) and one is deleted.
    for app in [
        "20000000-0000-4000-8000-000000000001",
        "20000000-0000-4000-8000-000000000005",
    ] {
        let out = tenant
            .keycred("rotate")
            .args(["--app", app, "--no-pfx", "--apply", "--json", "--out"])
            .arg(tenant.dir.path().join("certs"))
            .output()
            .unwrap();
        assert_eq!(output_json(&out)["apps"][0]["result"], "rotated");
    }
    post(
        &tenant,
        "rename",
        serde_json::json!({"id": "10000000-0000-4000-8000-000000000008", "displayName": "Renamed"}),
    );
    post(
        &tenant,
        "remove",
        serde_json::json!({"id": "10000000-0000-4000-8000-000000000012"}),
    );
    let (before, second) = since_last(&tenant, state.path());
    let paths = since(&tenant, before);
    assert_eq!(
        paths.len(),
        1,
        "one delta call, no read of any app: {paths:#?}"
    );
    assert!(all_delta(&paths));
    assert_eq!(
        second["sinceLast"],
        serde_json::json!({"full": false, "why": null, "changed": 3, "removed": 1})
    );
    let apps = second["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 299);
    let find = |id: &str| apps.iter().find(|a| a["id"] == id).unwrap();
    // The rotated app holds its new certificate in the merged state; the renamed one its new name.
    assert_eq!(
        find("10000000-0000-4000-8000-000000000001")["certificates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        find("10000000-0000-4000-8000-000000000008")["displayName"],
        "Renamed"
    );
    assert!(!apps
        .iter()
        .any(|a| a["id"] == "10000000-0000-4000-8000-000000000012"));
    // Graph forgets the link: one full round, said.
    post(&tenant, "delta", serde_json::json!({"expire": true}));
    let (before, third) = since_last(&tenant, state.path());
    assert_eq!(third["sinceLast"]["full"], true);
    assert!(third["sinceLast"]["why"]
        .as_str()
        .unwrap()
        .contains("syncStateNotFound"));
    assert_eq!(third["apps"].as_array().unwrap().len(), 299);
    assert!(all_delta(&since(&tenant, before)));
    // A state others may write is refused, not read.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = tenant
        .keycred("apps")
        .args(["--since-last"])
        .env("XDG_STATE_HOME", state.path())
        .output()
        .unwrap();
    assert_fails(&out, 1, "other users may write it");
}

#[test]
fn a_saved_delta_link_to_another_origin_is_never_followed() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(4), "Application.Read.All") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    since_last(&tenant, state.path());
    let file = state_file(state.path());
    // Someone with the user's rights points the link elsewhere: the token must not follow it.
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let trap = crate::loopback::Loopback::start(|_, _| {
        crate::loopback::Reply::json(200, serde_json::json!({"value": []}))
    });
    saved["delta_link"] = Value::String(format!(
        "{}/v1.0/applications/delta?$deltatoken=x",
        trap.url()
    ));
    std::fs::write(&file, saved.to_string()).unwrap();
    let (_, report) = since_last(&tenant, state.path());
    assert_eq!(report["sinceLast"]["full"], true, "{report:#}");
    assert!(report["sinceLast"]["why"]
        .as_str()
        .unwrap()
        .contains("not on this Graph's origin"));
    assert!(trap.received().is_empty(), "the token went to the link");
    assert_eq!(report["apps"].as_array().unwrap().len(), 4);
}

/// One SAML signing certificate as `addTokenSigningCertificate` makes it: a Sign and a Verify entry and a password,
/// one `customKeyIdentifier` (its thumbprint, `byte` repeated), the Sign entry and the password sharing a keyId.
fn saml_group(byte: u8, end_days: i64, parts: &[&str]) -> (Vec<Value>, Vec<Value>) {
    use base64::Engine as _;
    let identifier = base64::engine::general_purpose::STANDARD.encode([byte; 20]);
    let shared = format!("6{byte:07}-0000-4000-8000-000000000001");
    let entry = |usage: &str, key_id: &str| {
        serde_json::json!({"customKeyIdentifier": identifier, "displayName": "CN=Microsoft Azure Federated SSO Certificate",
            "startDateTime": days_from_now(end_days - 1095), "endDateTime": days_from_now(end_days), "key": null,
            "keyId": key_id, "type": "AsymmetricX509Cert", "usage": usage})
    };
    let mut keys = Vec::new();
    let mut passwords = Vec::new();
    if parts.contains(&"Sign") {
        keys.push(entry("Sign", &shared));
    }
    if parts.contains(&"Verify") {
        keys.push(entry(
            "Verify",
            &format!("7{byte:07}-0000-4000-8000-000000000002"),
        ));
    }
    if parts.contains(&"password") {
        passwords.push(serde_json::json!({"customKeyIdentifier": identifier, "displayName": null,
            "endDateTime": days_from_now(end_days), "hint": null, "keyId": shared, "secretText": null,
            "startDateTime": days_from_now(end_days - 1095)}));
    }
    (keys, passwords)
}

fn service_principal(
    id: u8,
    name: &str,
    groups: &[(Vec<Value>, Vec<Value>)],
    active: Option<u8>,
) -> Value {
    serde_json::json!({
        "id": format!("80000000-0000-4000-8000-0000000000{id:02}"),
        "appId": format!("90000000-0000-4000-8000-0000000000{id:02}"),
        "displayName": name,
        "preferredTokenSigningKeyThumbprint": active.map(|b| format!("{b:02X}").repeat(20)),
        "keyCredentials": groups.iter().flat_map(|g| g.0.clone()).collect::<Vec<_>>(),
        "passwordCredentials": groups.iter().flat_map(|g| g.1.clone()).collect::<Vec<_>>(),
    })
}

#[test]
fn service_principals_show_saml_groups_the_one_in_use_and_app_proxys_own_secret() {
    if !node_ready() {
        return;
    }
    let all = ["Sign", "Verify", "password"];
    let mut app_proxy = service_principal(3, "Intranet (App Proxy)", &[], None);
    app_proxy["passwordCredentials"] = serde_json::json!([{"customKeyIdentifier": null, "displayName": "CWAP_AuthSecret",
        "endDateTime": days_from_now(-3), "hint": "abc", "keyId": "a0000000-0000-4000-8000-000000000001",
        "secretText": null, "startDateTime": days_from_now(-100)}]);
    let mut odd = service_principal(4, "Odd", &[], None);
    odd["keyCredentials"] = serde_json::json!([
        {"customKeyIdentifier": "not base64!", "endDateTime": null, "keyId": "b0000000-0000-4000-8000-000000000001",
         "type": "Symmetric", "usage": "Verify", "startDateTime": null},
        {"customKeyIdentifier": "AAAA", "endDateTime": days_from_now(200), "keyId": "b0000000-0000-4000-8000-000000000002",
         "type": "AsymmetricX509Cert", "usage": "Verify", "startDateTime": days_from_now(-10)}]);
    let seed = serde_json::json!({
        "apps": tenant_apps(2),
        "servicePrincipals": [
            // In use: ends in 10 days; a newer one waits, not made active yet.
            service_principal(1, "Salesforce", &[saml_group(1, 10, &all), saml_group(2, 700, &all)], Some(1)),
            // In use and healthy, but Graph lost its password part.
            service_principal(2, "Workday", &[saml_group(3, 400, &["Sign", "Verify"])], Some(3)),
            app_proxy,
            odd,
            // In use and expired.
            service_principal(5, "Legacy SSO", &[saml_group(5, -2, &all)], Some(5)),
        ],
    });
    let Some(tenant) = Tenant::start(&seed, "Application.Read.All") else {
        return;
    };
    let out = tenant.keycred("sps").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(4), "{text}");
    let block = |name: &str| -> String {
        let start = text
            .find(name)
            .unwrap_or_else(|| panic!("{name} not listed: {text}"));
        text[start..].split("\n9").next().unwrap().to_owned()
    };
    let salesforce = block("Salesforce");
    assert!(salesforce.contains("renewal"), "{salesforce}");
    assert!(
        salesforce.contains(&format!("saml    {}", "01".repeat(20))),
        "{salesforce}"
    );
    assert!(salesforce.contains("in use  renewal due"), "{salesforce}");
    assert!(salesforce.contains("not in use  valid"), "{salesforce}");
    assert!(salesforce.contains("make it active"), "{salesforce}");
    let workday = block("Workday");
    assert!(workday.contains("lacks its password part"), "{workday}");
    let proxy = block("Intranet (App Proxy)");
    assert!(
        proxy.contains("self-managed (App Proxy renews it)"),
        "{proxy}"
    );
    assert!(!proxy.contains("expired"), "{proxy}");
    let legacy = block("Legacy SSO");
    assert!(legacy.contains("addTokenSigningCertificate"), "{legacy}");
    assert!(block("Odd").contains("no end date"), "{text}");
    // The apps' own service principals hold nothing and are not listed; the summary counts them as read.
    assert!(
        text.contains("7 service principals read, 5 with credentials"),
        "{text}"
    );
    assert!(
        text.contains("4 SAML signing certificates, 3 in use"),
        "{text}"
    );
    // The same through graph apps --service-principals, as JSON.
    let out = tenant
        .keycred("apps")
        .args(["--service-principals", "--json"])
        .output()
        .unwrap();
    let report = output_json(&out);
    let salesforce = &report["servicePrincipals"][0];
    assert_eq!(salesforce["samlSigningCertificates"][0]["inUse"], true);
    assert_eq!(
        salesforce["samlSigningCertificates"][0]["parts"],
        serde_json::json!(["Sign", "Verify", "password"])
    );
    assert_eq!(
        report["servicePrincipals"][1]["samlSigningCertificates"][0]["missing"],
        serde_json::json!(["password"])
    );
    assert_eq!(report["exitCode"], 4);
}

#[test]
fn owners_and_federated_credentials_are_read_twenty_to_a_batch_and_an_app_without_owner_is_named() {
    if !node_ready() {
        return;
    }
    let mut apps = tenant_apps(30);
    apps[0]["owners"] =
        serde_json::json!([{"userPrincipalName": "alice@contoso.com", "displayName": "Alice"}]);
    // Owned by a service principal (an automation app) and a user.
    apps[2]["owners"] = serde_json::json!(["20000000-0000-4000-8000-000000000005",
        {"userPrincipalName": "bob@contoso.com", "displayName": "Bob"}]);
    apps[3]["federatedIdentityCredentials"] = serde_json::json!([
        {"name": "github-main", "issuer": "https://token.actions.githubusercontent.com", "subject": "repo:contoso/api:ref:refs/heads/main"},
        {"name": "aks", "issuer": "https://oidc.prod-aks.azure.com/x/", "subject": "system:serviceaccount:ns:sa"}]);
    let Some(tenant) = Tenant::start(&apps, "Application.Read.All") else {
        return;
    };

    // Without the flags, no app is read beyond the listing.
    let out = tenant.keycred("apps").arg("--json").output().unwrap();
    assert!(output_json(&out)["apps"][0].get("owners").is_none());
    assert!(!tenant
        .graph
        .log()
        .iter()
        .map(path_of)
        .any(|p| p.contains("/owners")));

    let before = tenant.graph.log().len();
    let out = tenant
        .keycred("apps")
        .args(["--owners", "--federated", "--json"])
        .output()
        .unwrap();
    let report = output_json(&out);
    let app = |i: usize| report["apps"][i].clone();
    assert_eq!(
        app(0)["owners"],
        serde_json::json!([{"type": "user", "id": app(0)["owners"][0]["id"], "name": "alice@contoso.com"}]),
        "{report}"
    );
    assert_eq!(app(1)["owners"], serde_json::json!([]));
    let owners_of_2 = app(2)["owners"].clone();
    let kinds: Vec<&str> = owners_of_2
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["servicePrincipal", "user"], "{report}");
    assert_eq!(app(2)["owners"][0]["name"], "App 5");
    assert_eq!(app(3)["federatedIdentityCredentials"], 2);
    assert_eq!(app(0)["federatedIdentityCredentials"], 0);
    // Federated credentials never expire: app 3's verdict is its certificates' alone.
    assert_eq!(app(3)["verdict"], "no-credentials");
    assert_eq!(report["withoutOwner"], 28, "{report}");

    // Two reads per app, all in batches of at most 20: 60 items in 3 batches.
    let log = tenant.graph.log();
    let batches: Vec<&Value> = log[before..]
        .iter()
        .filter(|e| path_of(e) == "/v1.0/$batch")
        .collect();
    assert_eq!(
        batches.len(),
        3,
        "{:?}",
        log[before..].iter().map(path_of).collect::<Vec<_>>()
    );
    let items: Vec<String> = log[before..]
        .iter()
        .filter(|e| e["batch"] == true)
        .map(path_of)
        .collect();
    assert_eq!(
        items.iter().filter(|p| p.contains("/owners?")).count(),
        30,
        "{items:?}"
    );
    assert_eq!(
        items
            .iter()
            .filter(|p| p.contains("/federatedIdentityCredentials?"))
            .count(),
        30
    );

    // Text: the app nobody owns says who misses Entra's expiry mail; CSV gains owners and the count.
    let out = tenant
        .keycred("apps")
        .args(["--owners", "--federated"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let block = text
        .split("\n2")
        .find(|b| b.contains("App 1 "))
        .unwrap()
        .to_owned();
    assert!(
        block.contains("owners  none: nobody gets Entra's expiry mail"),
        "{block}"
    );
    assert!(text.contains("owners  alice@contoso.com (user)"), "{text}");
    assert!(
        text.contains("federated  2 (federated credentials do not expire)"),
        "{text}"
    );
    assert!(text.contains("28 apps without an owner"), "{text}");
    let out = tenant
        .keycred("apps")
        .args(["--owners", "--federated", "--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",owners,federatedCredentials"),
        "{csv}"
    );
    let row = csv.lines().find(|l| l.contains(",App 2,")).unwrap();
    assert!(
        row.ends_with(",App 5 (service principal); bob@contoso.com (user),0"),
        "{row}"
    );
    let row = csv.lines().find(|l| l.contains(",App 1,")).unwrap();
    assert!(row.ends_with(",none,0"), "{row}");

    // An app deleted between the listing and the batch: its read fails alone, said as its problem.
    tenant.graph.faults(
        serde_json::json!([{"status": 404, "code": "Request_ResourceNotFound",
            "pathContains": "000000000004/owners"}]),
        0,
    );
    let out = tenant
        .keycred("apps")
        .args(["--owners", "--json"])
        .output()
        .unwrap();
    let report = output_json(&out);
    let gone = &report["apps"][4];
    assert!(gone.get("owners").is_none(), "{gone}");
    assert!(
        gone["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("its owners could not be read: "),
        "{gone}"
    );
    assert_eq!(report["apps"][5]["owners"], serde_json::json!([]));
    assert_eq!(report["withoutOwner"], 27);

    // Without the right to read owners, the scan stops with Graph's refusal rather than print 30 problems.
    tenant.graph.faults(
        serde_json::json!([{"status": 403, "code": "Authorization_RequestDenied", "pathContains": "/owners"}]),
        1,
    );
    let out = tenant.keycred("apps").arg("--owners").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("Authorization_RequestDenied"), "{error}");
}

#[test]
fn a_scheduled_rotation_since_last_reads_only_what_changed_and_shares_the_scans_state() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(40), "Application.ReadWrite.All") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let rotate = |extra: &[&str]| -> (usize, Value) {
        let before = tenant.graph.log().len();
        let out = tenant
            .keycred("rotate")
            .args(["--all", "--since-last", "--no-pfx", "--json", "--out"])
            .arg(tenant.dir.path().join("certs"))
            .args(extra)
            .env("XDG_STATE_HOME", state.path())
            .output()
            .unwrap();
        (before, output_json(&out))
    };
    let result_count = |report: &Value, result: &str| {
        report["apps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["result"] == result)
            .count()
    };
    // The first run reads every app through the delta query, never the listing, and rotates the due ones
    // (renewal due or expired: 20 of 40).
    let (before, first) = rotate(&["--apply"]);
    assert_eq!(first["sinceLast"]["full"], true, "{first:#}");
    assert_eq!(result_count(&first, "rotated"), 20, "{first:#}");
    let paths = since(&tenant, before);
    assert!(
        !paths.iter().any(|p| p.starts_with("/v1.0/applications?")),
        "{paths:#?}"
    );
    assert!(paths
        .iter()
        .any(|p| p.starts_with("/v1.0/applications/delta?")));

    // The next scheduled run: one delta call brings the 20 rotated apps; nothing is due, so nothing else is read.
    let (before, second) = rotate(&[]);
    assert_eq!(
        second["sinceLast"],
        serde_json::json!({"full": false, "why": null, "changed": 20, "removed": 0})
    );
    assert_eq!(result_count(&second, "planned"), 0, "{second:#}");
    let paths = since(&tenant, before);
    assert_eq!(paths.len(), 1, "{paths:#?}");
    assert!(paths[0].starts_with("/v1.0/applications/delta?"));

    // The daily scan shares the state: one delta call, nothing changed, every app judged again.
    let (before, scan) = since_last(&tenant, state.path());
    assert_eq!(scan["sinceLast"]["changed"], 0, "{:#}", scan["sinceLast"]);
    assert_eq!(scan["apps"].as_array().unwrap().len(), 40);
    assert_eq!(since(&tenant, before).len(), 1);

    // A state an earlier keycred saved (other properties selected) is not merged into: every app read, said.
    let file = state_file(state.path());
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    saved.as_object_mut().unwrap().remove("select");
    std::fs::write(&file, saved.to_string()).unwrap();
    let (_, third) = rotate(&[]);
    assert_eq!(third["sinceLast"]["full"], true);
    assert!(
        third["sinceLast"]["why"]
            .as_str()
            .unwrap()
            .contains("holds other properties"),
        "{:#}",
        third["sinceLast"]
    );

    // Only with --all, and not with --filter.
    let out = tenant
        .keycred("rotate")
        .args([
            "--app",
            "20000000-0000-4000-8000-000000000001",
            "--since-last",
        ])
        .output()
        .unwrap();
    assert_fails(&out, 2, "--all");
}

#[test]
fn a_budget_outside_one_to_a_hundred_percent_is_refused_before_anything_is_sent() {
    for (command, budget) in [
        ("apps", "0"),
        ("rotate", "101"),
        ("sps", "-5"),
        ("apps", "ninety"),
    ] {
        let mut cmd = keycred();
        cmd.args([
            "graph",
            command,
            "--graph-url",
            "http://127.0.0.1:9",
            "--token-file",
            "/nonexistent",
        ]);
        if command == "rotate" {
            cmd.arg("--all");
        }
        let out = cmd.arg(format!("--budget={budget}")).output().unwrap();
        assert_fails(&out, 2, "--budget <PERCENT>");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(budget),
            "{command} --budget {budget}: {stderr}"
        );
    }
}

#[test]
fn a_corrupt_scan_state_gives_way_to_a_full_read_said_and_is_replaced() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(10), "Application.Read.All") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let (_, first) = since_last(&tenant, state.path());
    assert_eq!(first["sinceLast"]["full"], true);
    let file = state_file(state.path());
    // Cut short, as a full disk or a killed writer would leave it (keycred's own writes are atomic).
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let (before, second) = since_last(&tenant, state.path());
    assert_eq!(second["apps"].as_array().unwrap().len(), 10);
    assert_eq!(second["sinceLast"]["full"], true);
    let why = second["sinceLast"]["why"].as_str().unwrap();
    assert!(
        why.contains("could not be read") && why.contains("replaced"),
        "{why}"
    );
    assert!(since(&tenant, before)
        .iter()
        .all(|p| p.starts_with("/v1.0/applications/delta?")));
    // Replaced by a whole state: the next run reads only what changed.
    let (_, third) = since_last(&tenant, state.path());
    assert_eq!(
        third["sinceLast"]["full"], false,
        "{:#}",
        third["sinceLast"]
    );
}

#[test]
fn named_apps_are_read_in_one_batch_by_appid_then_by_object_id_for_those_not_found() {
    if !node_ready() {
        return;
    }
    let Some(tenant) = Tenant::start(&tenant_apps(12), "Application.ReadWrite.All") else {
        return;
    };
    // Three appIds and one object id (apps 1, 2, 5 and 6: all due).
    let named = [
        "20000000-0000-4000-8000-000000000001",
        "20000000-0000-4000-8000-000000000002",
        "10000000-0000-4000-8000-000000000005",
        "20000000-0000-4000-8000-000000000006",
    ];
    let before = tenant.graph.log().len();
    let mut cmd = tenant.keycred("rotate");
    for app in named {
        cmd.args(["--app", app]);
    }
    let out = cmd
        .args(["--no-pfx", "--json", "--out"])
        .arg(tenant.dir.path().join("certs"))
        .output()
        .unwrap();
    let report = output_json(&out);
    let planned: Vec<&str> = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["result"].as_str().unwrap())
        .collect();
    assert_eq!(planned, ["planned"; 4], "{report:#}");
    let log = tenant.graph.log();
    let single: Vec<String> = log[before..]
        .iter()
        .filter(|e| e["batch"] != true && path_of(e) != "/v1.0/$batch")
        .map(path_of)
        .collect();
    assert!(
        !single.iter().any(|p| p.starts_with("/v1.0/applications")),
        "each named app read in a batch, none alone: {single:#?}"
    );
    let items: Vec<String> = log[before..]
        .iter()
        .filter(|e| e["batch"] == true)
        .map(path_of)
        .collect();
    assert_eq!(
        items,
        [
            "/v1.0/applications(appId='20000000-0000-4000-8000-000000000001')",
            "/v1.0/applications(appId='20000000-0000-4000-8000-000000000002')",
            "/v1.0/applications(appId='10000000-0000-4000-8000-000000000005')",
            "/v1.0/applications(appId='20000000-0000-4000-8000-000000000006')",
            "/v1.0/applications/10000000-0000-4000-8000-000000000005",
        ],
        "{items:#?}"
    );
    // A named app that is in neither form fails alone, with the advice a single read gives.
    let out = tenant
        .keycred("rotate")
        .args([
            "--app",
            named[0],
            "--app",
            "30000000-0000-4000-8000-000000000009",
            "--no-pfx",
            "--json",
        ])
        .args(["--out"])
        .arg(tenant.dir.path().join("certs2"))
        .output()
        .unwrap();
    let report = output_json(&out);
    assert_eq!(report["apps"][0]["result"], "planned");
    assert_eq!(report["apps"][1]["result"], "failed");
    assert!(
        report["apps"][1]["error"]
            .as_str()
            .unwrap()
            .contains("Request_ResourceNotFound"),
        "{report:#}"
    );
}

#[test]
fn a_run_right_after_another_remembers_what_that_one_spent_and_meets_no_429() {
    if !node_ready() {
        return;
    }
    // Graph's minute lasts 5 s here: long enough for two runs to fall in one window.
    let Some(tenant) = Tenant::start_env(
        &unidentified_due_apps(100),
        "Application.Read.All",
        &[("GRAPH_TIME_SCALE", "12")],
    ) else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let plan = || {
        let start = std::time::Instant::now();
        let out = tenant
            .keycred("rotate")
            .args(["--all", "--no-pfx", "--json", "--out"])
            .arg(tenant.dir.path().join("certs"))
            .env("KEYCRED_GRAPH_TIME_SCALE", "12")
            .env("XDG_STATE_HOME", state.path())
            .output()
            .unwrap();
        assert_eq!(output_json(&out)["graph"]["requests"]["keyReads"], 100);
        start.elapsed()
    };
    // 100 reads of keys, then 100 more at once: 200 in Graph's minute, past its 150, unless the second run knows
    // of the first one's.
    plan();
    let second = plan();
    let log = tenant.graph.log();
    let throttled = log.iter().filter(|e| e["status"] == 429).count();
    assert_eq!(throttled, 0, "{throttled} answers of 429");
    assert_eq!(log.iter().filter(|e| reads_keys(e)).count(), 200);
    // It waited for the first run's reads to leave the window (a 5 s minute, 135 places at 90%).
    assert!(second >= std::time::Duration::from_secs(2), "{second:?}");
    // What it remembers is keycred's own, owner-only file.
    let ledger = std::fs::read_dir(state.path().join("keycred/budget"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("the budget's record");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&ledger).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn certificates_are_made_and_written_while_the_keys_of_later_apps_are_still_being_read() {
    if !node_ready() {
        return;
    }
    // 300 due apps whose keys must be read: at 90% of a one-second minute, three windows of reads.
    let Some(tenant) = Tenant::start_env(
        &unidentified_due_apps(300),
        "Application.ReadWrite.All",
        &[("GRAPH_TIME_SCALE", SCALE)],
    ) else {
        return;
    };
    let out = tenant
        .keycred("rotate")
        .args([
            "--all", "--no-pfx", "--apply", "--json", "--jobs", "4", "--out",
        ])
        .arg(tenant.dir.path().join("certs"))
        .env("KEYCRED_GRAPH_TIME_SCALE", SCALE)
        .output()
        .unwrap();
    let report = output_json(&out);
    let rotated = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["result"] == "rotated")
        .count();
    assert_eq!(rotated, 300, "{report:#}");
    let log = tenant.graph.log();
    assert_eq!(log.iter().filter(|e| e["status"] == 429).count(), 0);
    let last_key_read = log
        .iter()
        .filter(|e| reads_keys(e))
        .map(|e| e["time"].as_u64().unwrap())
        .max()
        .unwrap();
    let first_write = log
        .iter()
        .filter(|e| e["method"] == "PATCH")
        .map(|e| e["time"].as_u64().unwrap())
        .min()
        .unwrap();
    assert!(
        first_write < last_key_read,
        "the first write came {} ms after the last read of keys: the run waited for every key before working",
        first_write - last_key_read
    );
}
