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

const CA_CONFIG: &str = "c0000000-0000-4000-8000-0000000000ca";
const CA_POLICY: &str = "90000000-0000-4000-8000-0000000000ca";
const ALL_READS: &str =
    "Application.ReadWrite.All,Policy.Read.All,AppCertTrustConfiguration.Read.All";

/// A certificate file as Graph carries it: base64 DER.
fn base64_der(pem: &Path) -> String {
    use base64::Engine as _;
    let out = std::process::Command::new("openssl")
        .args(["x509", "-in", pem.to_str().unwrap(), "-outform", "DER"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    base64::engine::general_purpose::STANDARD.encode(out.stdout)
}

/// The tenant: a 180-day default policy; app 1 under it, app 2 with an assigned 90-day policy, app 3 created
/// before the cut-off, app 4 with an assigned policy that restricts nothing, app 5 under a trusted-CA rule
/// (`ca`'s root and intermediate), app 6 one item short of Graph's limit, app 7 holding a SAML signing key.
fn tenant_with_rules(ca: &crate::ca::Ca) -> Value {
    let mut near_limit = due_app(
        6,
        "2024-01-01T00:00:00Z",
        Some("90000000-0000-4000-8000-000000000000"),
    );
    near_limit["passwordCredentials"] = (0..999)
        .map(|i| {
            json!({"keyId": format!("30000000-0000-4000-8000-{i:012}"), "displayName": "old secret",
                        "endDateTime": "2027-03-01T00:00:00Z", "hint": "abc", "secretText": null})
        })
        .collect();
    let mut signing = due_app(
        7,
        "2024-01-01T00:00:00Z",
        Some("90000000-0000-4000-8000-000000000000"),
    );
    let mut saml = signing["keyCredentials"][0].clone();
    saml["keyId"] = json!("00000000-0000-4000-8000-0000000005a1");
    saml["usage"] = json!("Sign");
    saml["displayName"] = json!("CN=SAML Signing");
    saml["endDateTime"] = json!(days_from_now(200));
    signing["keyCredentials"].as_array_mut().unwrap().push(saml);
    json!({
        "caConfigurations": [{"id": CA_CONFIG, "trustedCertificateAuthorities": [
            {"certificate": base64_der(&ca.path("root.pem")), "isRootAuthority": true},
            {"certificate": base64_der(&ca.path("inter.pem")), "isRootAuthority": false},
        ]}],
        "defaultPolicy": {
            "id": DEFAULT_POLICY,
            "displayName": "Default app management tenant policy",
            "isEnabled": true,
            "applicationRestrictions": {"keyCredentials": [lifetime("P180D")], "passwordCredentials": [
                {"restrictionType": "passwordAddition", "state": "enabled", "maxLifetime": null,
                 "restrictForAppsCreatedAfterDateTime": "2020-01-01T00:00:00Z"}]},
        },
        "policies": [
            {"id": "90000000-0000-4000-8000-000000000090", "displayName": "Ninety days", "isEnabled": true,
             "restrictions": {"keyCredentials": [lifetime("P90D")], "passwordCredentials": []}},
            {"id": "90000000-0000-4000-8000-000000000000", "displayName": "No rules", "isEnabled": true,
             "restrictions": {"keyCredentials": [], "passwordCredentials": []}},
            {"id": CA_POLICY, "displayName": "Contoso CA only", "isEnabled": true,
             "restrictions": {"keyCredentials": [{"restrictionType": "trustedCertificateAuthority", "state": "enabled",
                "certificateBasedApplicationConfigurationIds": [CA_CONFIG],
                "restrictForAppsCreatedAfterDateTime": "2020-01-01T00:00:00Z"}], "passwordCredentials": []}},
        ],
        "apps": [
            due_app(1, "2024-01-01T00:00:00Z", None),
            due_app(2, "2024-01-01T00:00:00Z", Some("90000000-0000-4000-8000-000000000090")),
            due_app(3, "2019-06-01T00:00:00Z", None),
            due_app(4, "2024-01-01T00:00:00Z", Some("90000000-0000-4000-8000-000000000000")),
            due_app(5, "2024-01-01T00:00:00Z", Some(CA_POLICY)),
            near_limit,
            signing,
        ],
    })
}

/// The seconds between a certificate's notBefore and notAfter, as OpenSSL reads them.
fn openssl_lifetime(cer: &Path) -> i64 {
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
    field("notAfter=") - field("notBefore=")
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
    let Some(ca) = crate::ca::Ca::new() else {
        return;
    };
    let Some(tenant) = Tenant::start(&tenant_with_rules(&ca), ALL_READS) else {
        return;
    };
    let before = tenant_now(&tenant);
    let out = tenant.dir.path().join("rotated");
    let plan = tenant
        .keycred("rotate")
        .args(["--all", "--no-pfx", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    // App 6's plan fails (it would pass Graph's item limit), so the plan ends with 1.
    assert_eq!(plan.status.code(), Some(1));
    let text = String::from_utf8_lossy(&plan.stdout).into_owned();
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
    assert!(
        text.contains(
            "rules   not applied to it: asymmetricKeyLifetime (the app was created before 2020-01-01T00:00:00Z)"
        ),
        "{text}"
    );
    assert!(
        text.contains("application 20000000-0000-4000-8000-000000000006: after this rotation it would hold 1001 items"),
        "a plan says it too: {text}"
    );
    assert!(!text.contains("rules unknown"), "{text}");

    let applied = tenant
        .keycred("rotate")
        .args(["--all", "--no-pfx", "--apply", "--json", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let report = output_json(&applied);
    let all = report["apps"].as_array().unwrap();
    let results: Vec<&str> = all.iter().map(|a| a["result"].as_str().unwrap()).collect();
    assert_eq!(
        results,
        ["rotated", "rotated", "rotated", "rotated", "skipped", "failed", "skipped"],
        "{report:#}"
    );
    assert!(
        all[4]["skipped"]
            .as_str()
            .unwrap()
            .starts_with("needs a CA-issued certificate"),
        "{:#}",
        all[4]
    );
    let near = all[5]["error"].as_str().unwrap();
    assert!(near.contains("would hold 1001 items"), "{near}");
    assert!(
        all[6]["skipped"]
            .as_str()
            .unwrap()
            .contains("signing key (keyId 00000000-0000-4000-8000-0000000005a1"),
        "{:#}",
        all[6]
    );
    let apps = &all[..4];
    // Each within its rule, by a margin of minutes; the apps without one get keycred's 365 days.
    const DAY: i64 = 86_400;
    for (app, max) in apps.iter().zip([180 * DAY, 90 * DAY, 365 * DAY, 365 * DAY]) {
        let lifetime = openssl_lifetime(&cer_of(app));
        assert!(
            lifetime <= max && lifetime >= max - 3_600,
            "{}: {lifetime} s, the rule {max} s",
            app["displayName"]
        );
    }
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
    // Every credential that was there before is there after, field for field (the rotated apps kept their old
    // certificate: it is still valid), and the apps left alone are exactly as they were.
    let after = tenant_now(&tenant);
    for (app_before, app_after) in before.iter().zip(&after) {
        for credential in app_before["keyCredentials"].as_array().unwrap() {
            assert!(
                app_after["keyCredentials"]
                    .as_array()
                    .unwrap()
                    .contains(credential),
                "{} lost or changed {credential:#}",
                app_before["displayName"]
            );
        }
    }
    // What went back in each PATCH for a kept credential is exactly what Graph gave, its key left out.
    let mut kept = 0;
    for patch in tenant.graph.log().iter().filter(|e| e["method"] == "PATCH") {
        for sent in patch["body"]["keyCredentials"].as_array().unwrap() {
            if !sent["key"].is_null() {
                continue;
            }
            let mut original = before
                .iter()
                .flat_map(|a| a["keyCredentials"].as_array().unwrap())
                .find(|k| k["keyId"] == sent["keyId"])
                .unwrap_or_else(|| panic!("a kept credential that was there: {sent:#}"))
                .clone();
            original["key"] = Value::Null;
            assert_eq!(*sent, original, "sent back field for field");
            kept += 1;
        }
    }
    assert_eq!(kept, 4, "one kept credential in each of the four PATCHes");
    for i in [4, 5, 6] {
        assert_eq!(
            before[i], after[i],
            "{} was left alone",
            before[i]["displayName"]
        );
    }
}

/// The tenant's apps as the Graph server holds them now, certificates included.
fn tenant_now(tenant: &Tenant) -> Vec<Value> {
    let mut response = ureq::get(format!("{}/_test/apps", tenant.graph.url()))
        .call()
        .unwrap();
    serde_json::from_str::<Value>(&response.body_mut().read_to_string().unwrap())
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["displayName"]
                .as_str()
                .is_some_and(|n| n.starts_with("Rules "))
        })
        .cloned()
        .collect()
}

#[test]
fn an_app_under_a_trusted_ca_rule_gets_the_cas_certificate_checked_against_the_listed_cas_before_it_is_sent(
) {
    let (Some(ca), Some(other)) = (crate::ca::Ca::new(), crate::ca::Ca::new()) else {
        return;
    };
    let Some(tenant) = Tenant::start(&tenant_with_rules(&ca), ALL_READS) else {
        return;
    };
    let out = tenant.dir.path().join("rotated");
    let run = || {
        tenant
            .keycred("rotate")
            .args([
                "--app",
                "20000000-0000-4000-8000-000000000005",
                "--ca",
                "--no-pfx",
                "--apply",
                "--json",
            ])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    };
    let requested = output_json(&run());
    assert_eq!(requested["apps"][0]["result"], "requested", "{requested:#}");
    let csr = requested["apps"][0]["files"]["request"]
        .as_str()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| panic!("a request for the CA: {requested:#}"));
    // Another CA's answer: refused before anything is sent.
    std::fs::copy(
        other.issue(&csr, "300", "leaf.pem"),
        csr.with_extension("issued.pem"),
    )
    .unwrap();
    let refused = run();
    assert_eq!(refused.status.code(), Some(1));
    let error = output_json(&refused)["apps"][0]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("does not chain to a CA the tenant trusts for this app"),
        "{error}"
    );
    assert!(
        tenant.graph.log().iter().all(|e| e["method"] == "GET"),
        "nothing was sent"
    );
    // The listed CA's answer: imported and sent, and the server (which checks the chain too) takes it.
    std::fs::copy(
        ca.issue(&csr, "300", "leaf.pem"),
        csr.with_extension("issued.pem"),
    )
    .unwrap();
    let sent = output_json(&run());
    assert_eq!(sent["apps"][0]["result"], "rotated", "{sent:#}");
    let patches: Vec<Value> = tenant
        .graph
        .log()
        .into_iter()
        .filter(|e| e["method"] == "PATCH")
        .collect();
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0]["status"], 204);
}

#[test]
fn without_policy_read_the_plan_says_the_rules_are_unknown_and_graph_refuses_a_long_certificate() {
    let Some(ca) = crate::ca::Ca::new() else {
        return;
    };
    let Some(tenant) = Tenant::start(&tenant_with_rules(&ca), "Application.ReadWrite.All") else {
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
    // OpenSSL reads the certificate's dates: skipped, said, without it (a failure with CI=true).
    if !peer_available("openssl", &["version"]) {
        return;
    }
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
    let lifetime = openssl_lifetime(&cer);
    assert!(
        (90 * 86_400 - 3_600..=90 * 86_400).contains(&lifetime),
        "90 days less a margin of minutes: {lifetime} s"
    );

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

/// A bearer token for the Graph server, from the OAuth server, for the automation app.
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

/// A self-signed certificate valid for `days`, base64 DER, made by OpenSSL.
fn openssl_certificate(dir: &Path, name: &str, days: &str) -> String {
    let (key, pem) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pem")),
    );
    openssl_self_signed(&key, &pem, &format!("/CN={name}"), days, &[]);
    base64_der(&pem)
}

#[test]
fn the_graph_test_server_refuses_what_graph_refuses() {
    let Some(ca) = crate::ca::Ca::new() else {
        return;
    };
    let Some(tenant) = Tenant::start(&tenant_with_rules(&ca), ALL_READS) else {
        return;
    };
    let token = graph_token(&tenant);
    let patch = |app: u32, credentials: Value| -> (u16, Value) {
        let response = ureq::patch(format!(
            "{}/v1.0/applications/10000000-0000-4000-8000-{app:012}",
            tenant.graph.url()
        ))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .config()
        .http_status_as_error(false)
        .build()
        .send(json!({ "keyCredentials": credentials }).to_string())
        .unwrap();
        let status = response.status().as_u16();
        let text = response.into_body().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    };
    let new = |key: String| {
        json!({"key": key, "keyId": "6ee00000-0000-4000-8000-000000000001", "type": "AsymmetricX509Cert",
               "usage": "Verify", "displayName": "CN=New"})
    };
    let kept =
        |app: u32| json!({"keyId": format!("00000000-0000-4000-8000-{app:012}"), "key": null});
    let dir = tenant.dir.path();
    // A two-year certificate under the 180-day default: refused, with the policy and the details.
    let (status, body) = patch(
        1,
        json!([kept(1), new(openssl_certificate(dir, "two-years", "730"))]),
    );
    assert_eq!(status, 400, "{body:#}");
    assert_eq!(
        body["error"]["code"],
        "CredentialInvalidLifetimeAsPerAppPolicy"
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains(DEFAULT_POLICY));
    assert_eq!(body["error"]["details"][0]["code"], "InvalidKeyEndDate");
    // The same certificate on the app created before the cut-off: taken.
    let (status, body) = patch(
        3,
        json!([kept(3), new(openssl_certificate(dir, "old-app", "730"))]),
    );
    assert_eq!(status, 204, "{body:#}");
    // A self-signed certificate on the trusted-CA app: refused.
    let (status, body) = patch(
        5,
        json!([kept(5), new(openssl_certificate(dir, "self", "30"))]),
    );
    assert_eq!(status, 400, "{body:#}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("trusted certificate authority"));
    // One item over the limit: refused.
    let (status, body) = patch(
        6,
        json!([kept(6), new(openssl_certificate(dir, "one-more", "30"))]),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("Directory_ResourceSizeExceeded"))
    );
    // A signing key sent back by its keyId: refused.
    let (status, body) = patch(
        7,
        json!([kept(7), {"keyId": "00000000-0000-4000-8000-0000000005a1", "key": null}]),
    );
    assert_eq!(status, 400, "{body:#}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Acceptable values are Sign, Verify"));
    // Policies need Policy.Read.All (held here), and v1.0 hides the trusted-CA rule that beta shows.
    let get = |path: &str| -> Value {
        let mut response = ureq::get(format!("{}{path}", tenant.graph.url()))
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
    };
    let v1 = get("/v1.0/applications/10000000-0000-4000-8000-000000000005/appManagementPolicies");
    let beta = get("/beta/applications/10000000-0000-4000-8000-000000000005/appManagementPolicies");
    let kind =
        |v: &Value| v["value"][0]["restrictions"]["keyCredentials"][0]["restrictionType"].clone();
    assert_eq!(
        (kind(&v1), kind(&beta)),
        (
            json!("unknownFutureValue"),
            json!("trustedCertificateAuthority")
        )
    );
}

#[test]
fn graph_apps_shows_each_apps_rule_and_what_it_means_for_its_credentials() {
    let Some(ca) = crate::ca::Ca::new() else {
        return;
    };
    let mut seed = tenant_with_rules(&ca);
    seed["apps"][0]["passwordCredentials"] = json!([{"keyId": "30000000-0000-4000-8000-00000000aaaa",
        "displayName": "old secret", "endDateTime": "2027-03-01T00:00:00Z", "hint": "abc", "secretText": null}]);
    let Some(tenant) = Tenant::start(&seed, ALL_READS) else {
        return;
    };
    let scan = tenant.keycred("apps").arg("--rules").output().unwrap();
    let text = String::from_utf8_lossy(&scan.stdout).into_owned();
    let block = |name: &str| -> String {
        text.lines()
            .skip_while(|l| !l.contains(&format!("  {name}  ")))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let one = block("Rules 1");
    assert!(one.contains(&format!("rules   next certificate at most 180 days: policy \"Default app management tenant policy\" (the tenant's default, {DEFAULT_POLICY})")), "{one}");
    assert!(one.contains("rules   no new client secrets"), "{one}");
    assert!(one.contains("rule    keyId 00000000-0000-4000-8000-000000000001: valid for 310 days, longer than policy"), "{one}");
    assert!(
        one.contains("rule    its secrets cannot be renewed"),
        "{one}"
    );
    assert!(
        block("Rules 2").contains("next certificate at most 90 days"),
        "{text}"
    );
    let three = block("Rules 3");
    assert!(
        three.contains("not applied to it: asymmetricKeyLifetime"),
        "{three}"
    );
    assert!(
        !three.contains("rule    "),
        "an app older than the rule is not flagged: {three}"
    );
    let five = block("Rules 5");
    assert!(five.contains("rules   CA required"), "{five}");
    assert!(five.contains("rule    keyId 00000000-0000-4000-8000-000000000005: self-signed, which the tenant's trusted-CA rule would refuse now"), "{five}");
    assert!(!block("Rules 4").contains("rule"), "{text}");
    assert!(!text.contains("rules unknown"), "{text}");

    let json = output_json(
        &tenant
            .keycred("apps")
            .args(["--rules", "--json"])
            .output()
            .unwrap(),
    );
    let apps = json["apps"].as_array().unwrap();
    assert_eq!(apps[1]["rules"]["maxLifetime"]["days"], 90);
    assert_eq!(apps[4]["rules"]["trustedCertificateAuthority"], true);
    assert_eq!(apps[0]["ruleFindings"].as_array().unwrap().len(), 2);
    assert!(json["rulesUnknown"].is_null());

    // Without Policy.Read.All: said once, at the end.
    let Some(blind) = Tenant::start(&seed, "Application.Read.All") else {
        return;
    };
    let scan = blind.keycred("apps").arg("--rules").output().unwrap();
    let text = String::from_utf8_lossy(&scan.stdout).into_owned();
    assert_eq!(text.matches("rules unknown").count(), 1, "{text}");
    assert!(
        text.contains(
            "rules unknown: reading the tenant's app management policies needs Policy.Read.All"
        ),
        "{text}"
    );
    let json = output_json(
        &blind
            .keycred("apps")
            .args(["--rules", "--json"])
            .output()
            .unwrap(),
    );
    assert!(json["rulesUnknown"]
        .as_str()
        .unwrap()
        .contains("Policy.Read.All"));
    assert_eq!(json["apps"][0]["rules"]["known"], false);
}

#[test]
fn doctor_live_names_what_the_tenants_rules_mean_for_the_client_app() {
    let Some(ca) = crate::ca::Ca::new() else {
        return;
    };
    const API: &str = "c0ffee00-1111-4222-8333-444455556666";
    let mut seed = tenant_with_rules(&ca);
    seed["apps"].as_array_mut().unwrap().push(json!({
        "id": "60000000-0000-4000-8000-000000000001", "appId": API, "displayName": "Orders API",
        "extra": {"identifierUris": ["api://contoso-orders"], "api": {"requestedAccessTokenVersion": 2}}}));
    let Some(tenant) = Tenant::start(&seed, ALL_READS) else {
        return;
    };
    let doctor = |client: &str| {
        let out = keycred()
            .args(["doctor", "--client-app", client, "--api-app", API, "--json"])
            .args(tenant.connection())
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["id"] == "client.tenant-rule")
            .map(|f| {
                (
                    f["what"].as_str().unwrap().to_owned(),
                    f["fix"].as_str().unwrap().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let found = doctor("20000000-0000-4000-8000-000000000002");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .0
            .contains("valid for 310 days, longer than policy \"Ninety days\""),
        "{found:?}"
    );
    assert!(
        found[0]
            .1
            .contains("keycred graph rotate --app 20000000-0000-4000-8000-000000000002"),
        "{found:?}"
    );
    let found = doctor("20000000-0000-4000-8000-000000000005");
    assert!(
        found.iter().any(|(what, _)| what.contains("self-signed")),
        "{found:?}"
    );
    assert!(
        doctor("20000000-0000-4000-8000-000000000003").is_empty(),
        "older than the rule"
    );
}

#[test]
fn a_max_lifetime_that_is_no_iso_duration_is_refused_and_nothing_is_made() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["90d", "P", "PT", "P1H"] {
        let out = keycred()
            .args([
                "new",
                "--subject",
                "CN=Orders",
                "--no-pfx",
                "--max-lifetime",
                bad,
                "--out",
            ])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_fails(
            &out,
            2,
            &format!("--max-lifetime {bad:?} is not an ISO 8601 duration"),
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing was written"
    );
}
