//! The tenant's credential rules (issue 28): app management policies read before the plan, certificates kept within
//! them, and the Graph test server refusing what Graph refuses. Offline, `--max-lifetime` does the same on files.

use std::path::Path;

use serde_json::{json, Value};

use crate::common::*;
use crate::graph::Tenant;

const DEFAULT_POLICY: &str = "00000000-0000-0000-0000-000000000000";

fn lifetime(max: &str) -> Value {
    json!({"restrictionType": "asymmetricKeyLifetime", "maxLifetime": max, "state": "enabled",
           "restrictForAppsCreatedAfterDateTime": "2020-01-01T00:00:00Z"})
}

/// A due app (its one certificate ends in 10 days), created at `created`, with `policy` assigned if given.
fn due_app(i: u32, created: &str, policy: Option<&str>) -> Value {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(fixture("openssl-rsa.cer")).unwrap());
    json!({
        "id": format!("10000000-0000-4000-8000-{i:012}"),
        "appId": format!("20000000-0000-4000-8000-{i:012}"),
        "displayName": format!("Rules {i}"),
        "createdDateTime": created,
        "policy": policy,
        "keyCredentials": [{
            "key": key,
            "keyId": format!("00000000-0000-4000-8000-{i:012}"),
            "displayName": format!("CN=Rules {i}"),
            "startDateTime": days_from_now(-300),
            "endDateTime": days_from_now(10),
        }],
    })
}

/// The tenant: a 180-day default policy; app 1 under it, app 2 with an assigned 90-day policy, app 3 created
/// before the cut-off, app 4 with an assigned policy that restricts nothing.
fn tenant_with_rules() -> Value {
    json!({
        "defaultPolicy": {
            "id": DEFAULT_POLICY,
            "displayName": "Default app management tenant policy",
            "isEnabled": true,
            "applicationRestrictions": {"keyCredentials": [lifetime("P180D")], "passwordCredentials": []},
        },
        "policies": [
            {"id": "90000000-0000-4000-8000-000000000090", "displayName": "Ninety days", "isEnabled": true,
             "restrictions": {"keyCredentials": [lifetime("P90D")], "passwordCredentials": []}},
            {"id": "90000000-0000-4000-8000-000000000000", "displayName": "No rules", "isEnabled": true,
             "restrictions": {"keyCredentials": [], "passwordCredentials": []}},
        ],
        "apps": [
            due_app(1, "2024-01-01T00:00:00Z", None),
            due_app(2, "2024-01-01T00:00:00Z", Some("90000000-0000-4000-8000-000000000090")),
            due_app(3, "2019-06-01T00:00:00Z", None),
            due_app(4, "2024-01-01T00:00:00Z", Some("90000000-0000-4000-8000-000000000000")),
        ],
    })
}

/// The days between a certificate's notBefore and notAfter, as OpenSSL reads them.
fn openssl_days(cer: &Path) -> i64 {
    let dates = run_peer(
        "openssl",
        &[
            "x509",
            "-inform",
            "DER",
            "-in",
            cer.to_str().unwrap(),
            "-noout",
            "-startdate",
            "-enddate",
        ],
    );
    let field = |name: &str| {
        let line = dates
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .trim()
            .to_owned();
        let out = std::process::Command::new("date")
            .args(["-u", "-d", &line, "+%s"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse::<i64>()
            .unwrap()
    };
    (field("notAfter=") - field("notBefore=")) / 86_400
}

/// The `.cer` among the files an app's rotation wrote.
fn cer_of(app: &Value) -> std::path::PathBuf {
    app["files"]["cer"]
        .as_str()
        .map(Into::into)
        .expect("a .cer was written")
}

#[test]
fn a_tenant_rotation_keeps_every_certificate_within_its_apps_rule_and_no_write_is_refused() {
    let Some(tenant) = Tenant::start(
        &tenant_with_rules(),
        "Application.ReadWrite.All,Policy.Read.All",
    ) else {
        return;
    };
    let out = tenant.dir.path().join("rotated");
    let plan = tenant
        .keycred("rotate")
        .args(["--all", "--no-pfx", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let text = stdout(&plan);
    assert!(
        text.contains(&format!(
            "policy \"Default app management tenant policy\" (the tenant's default, {DEFAULT_POLICY}) limits \
             this app to P180D (180 days): the new certificate ends"
        )),
        "{text}"
    );
    assert!(
        text.contains("policy \"Ninety days\" (assigned to this app, 90000000-0000-4000-8000-000000000090) limits this app to P90D (90 days)"),
        "{text}"
    );
    assert!(
        text.contains("rules   none limit its certificates"),
        "{text}"
    );
    assert!(!text.contains("rules unknown"), "{text}");

    let applied = tenant
        .keycred("rotate")
        .args(["--all", "--no-pfx", "--apply", "--json", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let report = output_json(&applied);
    let apps = report["apps"].as_array().unwrap();
    let days: Vec<(String, i64)> = apps
        .iter()
        .map(|a| {
            (
                a["displayName"].as_str().unwrap().to_owned(),
                openssl_days(&cer_of(a)),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("Rules 1".to_owned(), 180),
            ("Rules 2".to_owned(), 90),
            ("Rules 3".to_owned(), 365),
            ("Rules 4".to_owned(), 365)
        ],
        "{report:#}"
    );
    for app in apps {
        assert_eq!(app["result"], "rotated", "{app:#}");
        assert_eq!(app["rules"]["known"], true, "{app:#}");
    }
    assert_eq!(apps[1]["rules"]["maxLifetime"]["days"], 90);
    assert!(apps[2]["rules"]["notApplied"][0]
        .as_str()
        .unwrap()
        .contains("created before"));
    let refused: Vec<Value> = tenant
        .graph
        .log()
        .into_iter()
        .filter(|e| e["method"] != "GET" && e["status"].as_u64() != Some(204))
        .collect();
    assert!(refused.is_empty(), "no write refused: {refused:#?}");
}

#[test]
fn without_policy_read_the_plan_says_the_rules_are_unknown_and_graph_refuses_a_long_certificate() {
    let Some(tenant) = Tenant::start(&tenant_with_rules(), "Application.ReadWrite.All") else {
        return;
    };
    let out = tenant.dir.path().join("rotated");
    let plan = tenant
        .keycred("rotate")
        .args([
            "--app",
            "20000000-0000-4000-8000-000000000001",
            "--no-pfx",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let text = stdout(&plan);
    assert!(text.contains("rules   unknown"), "{text}");
    assert!(
        text.contains("rules unknown for 1 app: reading the tenant's app management policies needs Policy.Read.All"),
        "{text}"
    );
    // Planned as if there were no rules: 365 days, which the tenant's 180-day default refuses on the write.
    let applied = tenant
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
        .unwrap();
    assert_eq!(
        applied.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let report = output_json(&applied);
    let app = &report["apps"][0];
    assert_eq!(app["result"], "failed", "{app:#}");
    assert_eq!(app["rules"]["known"], false, "{app:#}");
    let error = app["error"].as_str().unwrap();
    assert!(
        error.contains("CredentialInvalidLifetimeAsPerAppPolicy"),
        "{error}"
    );
    assert!(
        error.contains(DEFAULT_POLICY),
        "the policy the server named: {error}"
    );
    assert!(
        error.contains("make the certificate with fewer --days"),
        "{error}"
    );
    let writes: Vec<Value> = tenant
        .graph
        .log()
        .into_iter()
        .filter(|e| e["method"] == "PATCH")
        .collect();
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(
        writes[0]["status"], 400,
        "the server refuses a 365-day certificate under a 180-day rule"
    );
}

#[test]
fn offline_max_lifetime_caps_a_rotation_and_refuses_a_longer_days() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = due_orders_manifest(&dir.path().join("app.json"));
    let certs = dir.path().join("certs");
    let out = rotate_orders(&manifest, &certs, &["--max-lifetime", "P90D"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cer = std::fs::read_dir(&certs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cer"))
        .expect("a certificate was made");
    assert_eq!(openssl_days(&cer), 90);

    let before = std::fs::read(&manifest).unwrap();
    let refused = rotate_orders(
        &manifest,
        &dir.path().join("more"),
        &[
            "--days",
            "400",
            "--max-lifetime",
            "P365D",
            "--force-renewal",
        ],
    );
    assert_fails(
        &refused,
        2,
        "--days 400 is beyond the rule: --max-lifetime P365D (365 days)",
    );
    assert!(!dir.path().join("more").exists(), "nothing was made");
    assert_eq!(std::fs::read(&manifest).unwrap(), before);
}
