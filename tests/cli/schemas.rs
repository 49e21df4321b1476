//! Every fragment keycred emits, validated against JSON Schemas written from Microsoft's documentation
//! (tests/schemas/), by Python's `jsonschema`: a validator that is not ours.

use std::fs;
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::common::*;

fn schema(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(name)
}

/// Runs a Python `script` over the (schema, instance) pairs, written to a JSON file passed as its argument.
fn run_validator(pairs: &[(&str, Value)], script: &str) -> String {
    let cases: Vec<Value> = pairs
        .iter()
        .map(|(name, instance)| json!({"schema": schema(name), "instance": instance}))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cases.json");
    fs::write(&input, serde_json::to_vec(&cases).unwrap()).unwrap();
    run_peer("python3", &["-c", script, input.to_str().unwrap()])
}

/// Validates each (schema, instance) pair with jsonschema's Draft 2020-12 validator.
fn validate(pairs: &[(&str, Value)]) {
    let script = r#"
import json, sys
from jsonschema import Draft202012Validator
cases = json.load(open(sys.argv[1]))
bad = 0
for case in cases:
    validator = Draft202012Validator(json.load(open(case["schema"])))
    for error in validator.iter_errors(case["instance"]):
        bad += 1
        print(case["schema"], list(error.absolute_path), error.message)
print("validated", len(cases), "instances,", bad, "errors")
sys.exit(1 if bad else 0)
"#;
    let out = run_validator(pairs, script);
    assert!(
        out.contains(&format!("validated {} instances, 0 errors", pairs.len())),
        "{out}"
    );
}

fn emitted(args: &[&str]) -> Value {
    json(&keycred().args(args).output().unwrap())
}

#[test]
fn every_emitted_fragment_matches_the_documented_schemas() {
    if !peer_available("python3", &["-c", "import jsonschema"]) {
        return;
    }
    let cert = fixture("openssl-rsa.pem");
    let cert = cert.to_str().unwrap();
    let mut pairs: Vec<(&str, Value)> = Vec::new();

    let graph = emitted(&["manifest", "key-credentials", cert, cert]);
    for entry in graph["keyCredentials"].as_array().unwrap() {
        pairs.push(("keyCredential.graph.schema.json", entry.clone()));
    }
    let legacy = emitted(&["manifest", "key-credentials", "--format", "legacy", cert]);
    pairs.push((
        "keyCredential.legacy.schema.json",
        legacy["keyCredentials"][0].clone(),
    ));

    let dir = tempfile::tempdir().unwrap();
    new_credential(dir.path(), &["--no-pfx"]);
    let written: Value =
        serde_json::from_slice(&fs::read(dir.path().join("daemon.keycredentials.json")).unwrap())
            .unwrap();
    pairs.push((
        "keyCredential.graph.schema.json",
        written["keyCredentials"][0].clone(),
    ));

    for template in ["read-write", "admin-readonly", "invoke"] {
        let doc = emitted(&[
            "manifest",
            "app-roles",
            "--template",
            template,
            "--role",
            "Extra!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
            "--client-app",
            "--resource-app-id",
            "11111111-2222-3333-4444-555555555555",
        ]);
        for role in doc["resourceApp"]["appRoles"].as_array().unwrap() {
            pairs.push(("appRole.schema.json", role.clone()));
        }
        pairs.push((
            "requiredResourceAccess.schema.json",
            doc["clientApp"]["requiredResourceAccess"][0].clone(),
        ));
    }
    validate(&pairs);
}

#[test]
fn the_schemas_reject_the_mistakes_they_guard_against() {
    if !peer_available("python3", &["-c", "import jsonschema"]) {
        return;
    }
    // Each instance breaks one documented rule; the validator must report every one of them.
    let script_cases = [
        (
            "appRole.schema.json",
            json!({"allowedMemberTypes": ["Application"], "description": "d", "displayName": "n", "id": "00000000-0000-4000-8000-000000000001", "isEnabled": true, "value": "has space"}),
        ),
        (
            "appRole.schema.json",
            json!({"allowedMemberTypes": ["Application"], "description": "d", "displayName": "n", "id": "00000000-0000-4000-8000-000000000001", "isEnabled": true, "value": ".dot", "origin": "Application"}),
        ),
        (
            "keyCredential.graph.schema.json",
            json!({"customKeyIdentifier": "572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969", "displayName": "x", "endDateTime": "2027-01-01T00:00:00Z", "key": "AAAA", "keyId": "00000000-0000-4000-8000-000000000001", "startDateTime": "2026-01-01T00:00:00Z", "type": "AsymmetricX509Cert", "usage": "Verify"}),
        ),
        (
            "requiredResourceAccess.schema.json",
            json!({"resourceAppId": "x", "resourceAccess": []}),
        ),
    ];
    let script = r#"
import json, sys
from jsonschema import Draft202012Validator
cases = json.load(open(sys.argv[1]))
print(sum(1 for c in cases if any(True for _ in Draft202012Validator(json.load(open(c["schema"]))).iter_errors(c["instance"]))))
"#;
    let out = run_validator(&script_cases, script);
    assert_eq!(
        out.trim(),
        script_cases.len().to_string(),
        "every broken instance is rejected"
    );
}
