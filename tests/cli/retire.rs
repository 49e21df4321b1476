//! Retiring an old certificate on evidence (issue 29): the OAuth test server records which certificate signed each
//! client assertion, the Graph test server builds Entra's usage report and sign-in log from that record, and
//! `graph retire` removes the old credential only when the new one signs in and the old one has gone quiet.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::*;
use crate::graph::{held, live_tenant, node_ready, Tenant, TENANT};

const APP: &str = "20000000-0000-4000-8000-0000000000d1";
const OBJECT: &str = "10000000-0000-4000-8000-0000000000d1";
const OLD_KEY: &str = "00000000-0000-4000-8000-0000000000d1";

/// A tenant whose app `APP` holds the daemon's current certificate (made here, so the test can sign in with it),
/// due for renewal; the automation app may change apps and read the sign-in records.
fn tenant_with_daemon() -> Option<(Tenant, tempfile::TempDir)> {
    if !node_ready() {
        return None;
    }
    let daemon = tempfile::tempdir().unwrap();
    stdout(
        &keycred()
            .args([
                "new",
                "--subject",
                "CN=Orders Daemon",
                "--name",
                "old",
                "--no-pfx",
                "--out",
            ])
            .arg(daemon.path())
            .output()
            .unwrap(),
    );
    use base64::Engine as _;
    let der = std::fs::read(daemon.path().join("old.cer")).unwrap();
    let app = json!({
        "id": OBJECT, "appId": APP, "displayName": "Orders Daemon",
        "keyCredentials": [{"key": base64::engine::general_purpose::STANDARD.encode(der), "keyId": OLD_KEY,
                            "displayName": "CN=Orders Daemon",
                            "startDateTime": days_from_now(-300), "endDateTime": days_from_now(10)}],
    });
    let tenant = live_tenant(vec![app], "Application.ReadWrite.All,AuditLog.Read.All")?;
    Some((tenant, daemon))
}

/// The daemon gets a token with this certificate and key (as it does all day).
fn sign_in(tenant: &Tenant, cert: &Path, key: &Path) {
    let out = keycred()
        .args(["token", "--tenant", TENANT, "--client-id", APP, "--scope"])
        .arg(format!("{}/.default", tenant.graph.url()))
        .arg("--authority")
        .arg(tenant.oidc.authority())
        .arg("--cert")
        .arg(cert)
        .arg("--key")
        .arg(key)
        .output()
        .unwrap();
    stdout(&out);
}

/// Rotates the app (admin mode); returns the new certificate's PEM and key.
fn rotate(tenant: &Tenant) -> (PathBuf, PathBuf) {
    let out = tenant.dir.path().join("certs");
    let report = output_json(
        &tenant
            .keycred("rotate")
            .args(["--app", APP, "--no-pfx", "--apply", "--json", "--out"])
            .arg(&out)
            .output()
            .unwrap(),
    );
    assert_eq!(report["apps"][0]["result"], "rotated", "{report:#}");
    let files = &report["apps"][0]["files"];
    (
        PathBuf::from(files["pem"].as_str().unwrap()),
        PathBuf::from(files["key"].as_str().unwrap()),
    )
}

fn retire(tenant: &Tenant, extra: &[&str]) -> (Option<i32>, Value) {
    let out = tenant
        .keycred("retire")
        .args(["--app", APP, "--json"])
        .args(extra)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), report)
}

fn old_decision(report: &Value) -> Value {
    report["apps"][0]["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["keyId"] == OLD_KEY)
        .unwrap()["decision"]
        .clone()
}

fn removals(tenant: &Tenant) -> usize {
    tenant
        .graph
        .log()
        .iter()
        .filter(|e| e["method"] != "GET")
        .count()
}

#[test]
fn an_old_certificate_still_signing_in_is_kept() {
    let Some((tenant, daemon)) = tenant_with_daemon() else {
        return;
    };
    let (new_pem, new_key) = rotate(&tenant);
    let writes = removals(&tenant);
    // The new certificate works, but the daemon still signs with the old one.
    sign_in(&tenant, &new_pem, &new_key);
    sign_in(
        &tenant,
        &daemon.path().join("old.pem"),
        &daemon.path().join("old.key"),
    );
    let (code, report) = retire(&tenant, &["--apply", "--quiet-for", "1s"]);
    assert_eq!(code, Some(5), "still in use: {report:#}");
    let decision = old_decision(&report);
    assert_eq!(decision["action"], "keep", "{decision}");
    assert!(
        decision["why"]
            .as_str()
            .unwrap()
            .contains("after its successor was added: something still signs with it"),
        "{decision}"
    );
    assert_eq!(removals(&tenant), writes, "nothing was sent");
    assert_eq!(held(&tenant, OBJECT).len(), 2);
}

#[test]
fn once_the_daemon_switched_the_old_certificate_goes_once() {
    let Some((tenant, _daemon)) = tenant_with_daemon() else {
        return;
    };
    let (new_pem, new_key) = rotate(&tenant);
    sign_in(&tenant, &new_pem, &new_key);
    // The plan says what it would do, and sends nothing.
    let (code, plan) = retire(&tenant, &["--quiet-for", "1s"]);
    assert_eq!(code, Some(0), "{plan:#}");
    assert_eq!(old_decision(&plan)["action"], "retire", "{plan:#}");
    assert_eq!(held(&tenant, OBJECT).len(), 2);
    let writes = removals(&tenant);
    let (code, applied) = retire(&tenant, &["--apply", "--quiet-for", "1s"]);
    assert_eq!(code, Some(0), "{applied:#}");
    assert_eq!(
        applied["apps"][0]["removed"],
        json!([OLD_KEY]),
        "{applied:#}"
    );
    let why = old_decision(&applied)["why"].as_str().unwrap().to_owned();
    assert!(
        why.contains("sign-in activity report") || why.contains("sign-in log"),
        "{why}"
    );
    assert_eq!(removals(&tenant), writes + 1, "one PATCH");
    let now_held = held(&tenant, OBJECT);
    assert_eq!(now_held.len(), 1);
    assert_ne!(now_held[0]["keyId"], OLD_KEY);
    // Again: nothing newer left to retire, nothing sent.
    let (code, again) = retire(&tenant, &["--apply", "--quiet-for", "1s"]);
    assert_eq!(code, Some(0), "{again:#}");
    assert!(again["apps"][0]["note"]
        .as_str()
        .unwrap()
        .contains("no newer certificate"));
    assert_eq!(removals(&tenant), writes + 1);
}

#[test]
fn without_evidence_only_a_timer_retires_and_says_so() {
    let Some((tenant, _daemon)) = tenant_with_daemon() else {
        return;
    };
    let (new_pem, new_key) = rotate(&tenant);
    sign_in(&tenant, &new_pem, &new_key);
    tenant.graph.usage(json!({"licensed": false}));
    let writes = removals(&tenant);
    let (code, report) = retire(&tenant, &["--apply"]);
    assert_eq!(code, Some(5), "{report:#}");
    let why = old_decision(&report)["why"].as_str().unwrap().to_owned();
    assert!(
        why.contains("Authentication_RequestFromNonPremiumTenantOrB2CTenant"),
        "{why}"
    );
    assert!(why.contains("give --overlap DURATION"), "{why}");
    assert_eq!(report["apps"][0]["evidence"]["available"], false);
    assert_eq!(removals(&tenant), writes);

    let (code, timed) = retire(&tenant, &["--apply", "--overlap", "1s"]);
    assert_eq!(code, Some(0), "{timed:#}");
    let decision = old_decision(&timed);
    assert_eq!(decision["onTimer"], true, "{decision}");
    assert!(
        decision["why"]
            .as_str()
            .unwrap()
            .starts_with("on a timer, not on evidence"),
        "{decision}"
    );
    assert_eq!(timed["apps"][0]["removed"], json!([OLD_KEY]));
    let text = String::from_utf8_lossy(
        &tenant
            .keycred("retire")
            .args(["--app", APP])
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    assert!(text.contains("no newer certificate"), "{text}");
}

#[test]
fn evidence_that_lags_keeps_both_and_says_how_old_it_is() {
    let Some((tenant, daemon)) = tenant_with_daemon() else {
        return;
    };
    // The old certificate signed in before the rotation: the records hold that, and nothing newer yet.
    sign_in(
        &tenant,
        &daemon.path().join("old.pem"),
        &daemon.path().join("old.key"),
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    tenant.graph.usage(json!({"lagSeconds": 1}));
    let (new_pem, new_key) = rotate(&tenant);
    sign_in(&tenant, &new_pem, &new_key);
    let writes = removals(&tenant);
    let (code, report) = retire(&tenant, &["--apply", "--quiet-for", "1s"]);
    assert_eq!(code, Some(5), "{report:#}");
    let why = old_decision(&report)["why"].as_str().unwrap().to_owned();
    assert!(why.contains("has not been seen signing in yet"), "{why}");
    assert!(why.contains("the newest sign-in it holds is"), "{why}");
    assert_eq!(removals(&tenant), writes);

    // graph usage shows each credential's last sign-in, and the text says where it comes from.
    let text = String::from_utf8_lossy(
        &tenant
            .keycred("usage")
            .args(["--app", APP])
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    assert!(text.contains(&format!("keyId {OLD_KEY}")), "{text}");
    assert!(text.contains("last sign-in"), "{text}");
    assert!(
        text.contains("evidence: the newest sign-in it holds is"),
        "{text}"
    );
}

#[test]
fn graph_apps_usage_gives_each_certificate_its_last_sign_in_from_one_read() {
    let Some((tenant, daemon)) = tenant_with_daemon() else {
        return;
    };
    sign_in(
        &tenant,
        &daemon.path().join("old.pem"),
        &daemon.path().join("old.key"),
    );
    let before = tenant.graph.log().len();
    let text = String::from_utf8_lossy(
        &tenant
            .keycred("apps")
            .arg("--usage")
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    assert!(
        text.contains(&format!("  used    {OLD_KEY}  last sign-in ")),
        "{text}"
    );
    assert!(text.contains("sign-in activity report"), "{text}");
    let reads: Vec<String> = tenant.graph.log()[before..]
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .filter(|p| p.contains("appCredentialSignInActivities"))
        .collect();
    assert_eq!(
        reads.len(),
        1,
        "one read of the report for the tenant: {reads:?}"
    );
    let json = output_json(
        &tenant
            .keycred("apps")
            .args(["--usage", "--json"])
            .output()
            .unwrap(),
    );
    let app = json["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["appId"] == APP)
        .unwrap()
        .clone();
    assert_eq!(app["lastSignIns"][0]["keyId"], OLD_KEY);
    assert_eq!(app["lastSignIns"][0]["source"], "sign-in activity report");
    // Without the licence: said once.
    tenant.graph.usage(json!({"licensed": false}));
    let text = String::from_utf8_lossy(
        &tenant
            .keycred("apps")
            .arg("--usage")
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    assert_eq!(
        text.matches("usage unknown: Graph answered 403").count(),
        1,
        "{text}"
    );
}

#[test]
fn retire_from_the_rotations_report_takes_the_credential_that_run_added_as_the_successor() {
    let Some((tenant, _daemon)) = tenant_with_daemon() else {
        return;
    };
    let report = tenant.dir.path().join("rotation.json");
    let rotated = tenant
        .keycred("rotate")
        .args(["--app", APP, "--no-pfx", "--apply", "--out"])
        .arg(tenant.dir.path().join("certs"))
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    stdout(&rotated);
    let added = read_json(&report)["apps"][0]["added"]["keyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let files = &read_json(&report)["apps"][0]["files"];
    sign_in(
        &tenant,
        Path::new(files["pem"].as_str().unwrap()),
        Path::new(files["key"].as_str().unwrap()),
    );
    let out = tenant
        .keycred("retire")
        .arg("--from-report")
        .arg(&report)
        .args(["--apply", "--quiet-for", "1s", "--json"])
        .output()
        .unwrap();
    let outcome = output_json(&out);
    assert_eq!(out.status.code(), Some(0), "{outcome:#}");
    assert_eq!(outcome["apps"][0]["successor"], added.as_str());
    assert_eq!(outcome["apps"][0]["removed"], json!([OLD_KEY]));
    // The apps a report names are read by their object ids, through $batch, without their keys.
    let batched: Vec<Value> = tenant
        .graph
        .log()
        .into_iter()
        .filter(|e| e["method"] == "POST" && e["path"] == "/v1.0/$batch")
        .flat_map(|e| e["body"]["requests"].as_array().unwrap().clone())
        .collect();
    assert_eq!(
        batched,
        [json!({"id": "0", "method": "GET", "url": format!("/applications/{OBJECT}")})]
    );
    // A file that is not such a report is refused before anything is read.
    let other = tenant.dir.path().join("other.json");
    std::fs::write(&other, "{\"keyCredentials\": []}").unwrap();
    let refused = tenant
        .keycred("retire")
        .arg("--from-report")
        .arg(&other)
        .output()
        .unwrap();
    assert_fails(&refused, 2, "is not a graph rotate report");
}

#[test]
fn bad_durations_are_refused_before_anything_is_read() {
    for (flag, value) in [
        ("--quiet-for", "24"),
        ("--quiet-for", "1w"),
        ("--overlap", "-3d"),
        ("--overlap", ""),
    ] {
        let out = keycred()
            .args([
                "graph",
                "retire",
                "--app",
                APP,
                "--token-file",
                "/nonexistent/graph.token",
                &format!("{flag}={value}"),
            ])
            .output()
            .unwrap();
        assert_fails(
            &out,
            2,
            &format!("{flag} {value:?}: give a whole number and a unit"),
        );
    }
}

/// `graph rotate --self` of the automation app, applied, with these arguments: its JSON report.
fn self_rotation(tenant: &Tenant, args: &[&str]) -> Value {
    output_json(
        &tenant
            .keycred("rotate")
            .args(["--self", "--app", crate::graph::AUTOMATION])
            .args(args)
            .args(["--no-pfx", "--apply", "--json", "--out"])
            .arg(tenant.dir.path().join("certs"))
            .output()
            .unwrap(),
    )
}

/// A stopped `--self` run is finished with the retirement it asked for even when its certificate ends in the same
/// second as the one it replaces (two certificates made within a second of each other, as on a fast machine): the
/// tie neither hides the credential to finish nor spares the one it replaced.
#[test]
fn a_stopped_self_rotation_ending_with_the_credential_it_replaced_still_retires_it() {
    let Some(tenant) = live_tenant(Vec::new(), "Application.ReadWrite.All") else {
        return;
    };
    let automation = "40000000-0000-4000-8000-000000000001";
    let inspected = output_json(
        &keycred()
            .args(["inspect", "--json"])
            .arg(tenant.dir.path().join("automation.cer"))
            .output()
            .unwrap(),
    );
    let ends = inspected[0]["certificates"][0]["notAfter"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = |args: &[&str]| self_rotation(&tenant, args);
    // The run that stopped after its add landed: the new certificate ends when the current one does.
    let added = run(&["--force-renewal", "--not-after", &ends]);
    assert_eq!(added["apps"][0]["result"], "rotated", "{added}");
    let new_key = added["apps"][0]["added"]["keyId"].clone();
    assert_eq!(held(&tenant, automation).len(), 2);

    let finished = run(&["--verify", "--retire-previous"]);
    let app = &finished["apps"][0];
    assert_eq!(
        (app["result"].as_str(), app["finishing"].clone()),
        (Some("finished"), new_key.clone()),
        "{finished}"
    );
    assert_eq!(
        app["retired"], "50000000-0000-4000-8000-000000000001",
        "{finished}"
    );
    let left = held(&tenant, automation);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["keyId"], new_key);
}

/// Two stopped `--self` runs given the same `--not-after`: their certificates end together, and the finishing run
/// takes the later one as the credential to finish and the earlier one as the credential it replaced, never the
/// other way round.
#[test]
fn of_two_stopped_runs_ending_together_the_later_is_finished_and_the_earlier_retired() {
    let Some(tenant) = live_tenant(Vec::new(), "Application.ReadWrite.All") else {
        return;
    };
    let ends = days_from_now(400);
    let run = |args: &[&str]| self_rotation(&tenant, args);
    let added = |report: &Value| {
        assert_eq!(report["apps"][0]["result"], "rotated", "{report}");
        report["apps"][0]["added"]["keyId"].clone()
    };
    let earlier = added(&run(&["--force-renewal", "--not-after", &ends]));
    // Certificates start on a whole second: the second run's starts later.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let later = added(&run(&["--force-renewal", "--not-after", &ends]));

    let finished = run(&["--verify", "--retire-previous"]);
    let app = &finished["apps"][0];
    assert_eq!(
        (app["finishing"].clone(), app["retired"].clone()),
        (later.clone(), earlier.clone()),
        "{finished}"
    );
    let left: Vec<Value> = held(&tenant, "40000000-0000-4000-8000-000000000001")
        .iter()
        .map(|k| k["keyId"].clone())
        .collect();
    assert_eq!(left, [json!("50000000-0000-4000-8000-000000000001"), later]);
}
