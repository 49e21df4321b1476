//! A whole tenant within Graph's budget (issue 30): the requests a tenant run makes, counted on the Graph test
//! server's log. `$select=keyCredentials` on one application (the only way to read `key`) is rationed by Graph, so
//! a run spends it only where a credential's identity cannot be told from its metadata.

use serde_json::{json, Value};

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
    let _ = json!(null);
}
