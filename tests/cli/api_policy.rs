//! `keycred api-policy`: the API Management XML validated by libxml2 (Python lxml) against an XML Schema written
//! from Microsoft's documentation of the validate-jwt policy statement (tests/schemas/apim-validate-jwt.xsd),
//! and the JSON rules applied, through the `keycred decode` command line they carry, to v1 and v2 tokens from
//! the flow tests' OAuth 2.0 server.

use std::path::Path;
use std::process::Command as StdCommand;

use serde_json::{json, Value};

use crate::common::*;
use crate::flow::{OidcServer, API_APP_ID};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "0d6f2a4e-5c1b-4b7a-9d3e-1f2a3b4c5d6e";

fn policy(args: &[&str]) -> std::process::Output {
    keycred()
        .args(["api-policy", "--tenant", TENANT])
        .args(args)
        .output()
        .unwrap()
}

/// Validates each XML file against the schema with lxml and returns, per file, null when valid (with what the
/// policy says: openid-config url, audiences, issuers, the roles claim) or the schema's first error.
fn validate(files: &[&Path]) -> Vec<Value> {
    let script = r#"
import json, sys
from lxml import etree
schema = etree.XMLSchema(etree.parse(sys.argv[1]))
out = []
for name in sys.argv[2:]:
    doc = etree.parse(name)
    if not schema.validate(doc):
        out.append({"error": str(schema.error_log.last_error)})
        continue
    jwt = doc.find("inbound/validate-jwt")
    claims = [{"name": c.get("name"), "match": c.get("match"), "values": [v.text for v in c.findall("value")]}
              for c in jwt.findall("required-claims/claim")]
    out.append({
        "attributes": dict(jwt.attrib),
        "children": [child.tag for child in jwt],
        "openid": jwt.find("openid-config").get("url"),
        "audiences": [a.text for a in jwt.findall("audiences/audience")],
        "issuers": [i.text for i in jwt.findall("issuers/issuer")],
        "claims": claims,
    })
print(json.dumps(out))
"#;
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/apim-validate-jwt.xsd");
    let mut args = vec!["-c", script, schema.to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    serde_json::from_str(&run_peer("python3", &args)).unwrap()
}

#[test]
fn the_apim_policy_is_valid_against_the_documented_validate_jwt_schema() {
    if !peer_available("python3", &["-c", "import lxml.etree"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let v1 = format!("https://sts.windows.net/{TENANT}/");
    let v2 = format!("https://login.microsoftonline.com/{TENANT}/v2.0");
    let cases: Vec<(Vec<&str>, Value, Value)> = vec![
        (
            vec![
                "--audience",
                "api://contoso-orders",
                "--token-version",
                "1",
                "--role",
                "Orders.Read",
            ],
            json!([v1]),
            json!([{"name": "roles", "match": "any", "values": ["Orders.Read"]}]),
        ),
        (
            vec![
                "--audience",
                API_APP_ID,
                "--token-version",
                "2",
                "--role",
                "Orders.Read",
                "--role",
                "Orders.Write",
            ],
            json!([v2]),
            json!([{"name": "roles", "match": "any", "values": ["Orders.Read", "Orders.Write"]}]),
        ),
        (
            vec![
                "--audience",
                "api://contoso-orders",
                "--audience",
                API_APP_ID,
                "--token-version",
                "both",
            ],
            json!([v1, v2]),
            json!([]),
        ),
    ];
    let mut files = Vec::new();
    for (index, (args, _, _)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("policy{index}.xml"));
        std::fs::write(&file, stdout(&policy(args))).unwrap();
        files.push(file);
    }
    // Mutations the schema must refuse, so a pass above means something: children out of the documented order,
    // a misspelt attribute, a match value APIM does not have, a claim without its name.
    let good = std::fs::read_to_string(&files[0]).unwrap();
    let audiences_block = good[good.find("            <audiences>").unwrap()
        ..good.find("            <issuers>").unwrap()]
        .to_owned();
    let mutations = [
        good.replace(&audiences_block, "").replace(
            "            </issuers>\n",
            &format!("            </issuers>\n{audiences_block}"),
        ),
        good.replace("header-name=", "header="),
        good.replace("match=\"any\"", "match=\"some\""),
        good.replace("<claim name=\"roles\" ", "<claim "),
    ];
    for (index, text) in mutations.iter().enumerate() {
        assert_ne!(text, &good, "mutation {index} changed nothing");
        let file = dir.path().join(format!("mutation{index}.xml"));
        std::fs::write(&file, text).unwrap();
        files.push(file);
    }
    let paths: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
    let results = validate(&paths);
    for ((args, issuers, claims), result) in cases.iter().zip(&results) {
        assert!(result.get("error").is_none(), "{args:?}: {result}");
        assert_eq!(result["attributes"]["header-name"], "Authorization");
        assert_eq!(result["attributes"]["failed-validation-httpcode"], "401");
        assert_eq!(result["attributes"]["require-scheme"], "Bearer");
        assert_eq!(
            result["openid"],
            format!(
                "https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration"
            )
        );
        assert_eq!(&result["issuers"], issuers, "{args:?}");
        assert_eq!(&result["claims"], claims, "{args:?}");
        let audiences: Vec<&str> = args
            .windows(2)
            .filter(|w| w[0] == "--audience")
            .map(|w| w[1])
            .collect();
        assert_eq!(result["audiences"], json!(audiences));
    }
    for (index, result) in results[cases.len()..].iter().enumerate() {
        assert!(
            result.get("error").is_some(),
            "mutation {index} passed the schema: {result}"
        );
    }
}

/// A token from the server for `scope` (api://keycred-test/.default: v2; api://keycred-test-v1/.default: v1).
fn token(server: &OidcServer, dir: &Path, scope: &str) -> String {
    let out = keycred()
        .args([
            "token",
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT,
            "--scope",
            scope,
        ])
        .args(["--authority", &server.authority(), "--key"])
        .arg(dir.join("daemon.key"))
        .arg("--cert")
        .arg(dir.join("daemon.pem"))
        .output()
        .unwrap();
    stdout(&out).trim().to_owned()
}

/// Runs the `decode` command line of a JSON policy on `token`, as a shell would.
fn apply(rules: &Value, token: &str) -> std::process::Output {
    let line = rules["decode"].as_str().unwrap();
    let command = line.replacen("keycred", env!("CARGO_BIN_EXE_keycred"), 1);
    let mut child = StdCommand::new("sh")
        .arg("-c")
        .arg(&command)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(token.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_json_rules_accept_and_refuse_v1_and_v2_tokens_as_an_api_would() {
    let dir = tempfile::tempdir().unwrap();
    let out = keycred()
        .args(["new", "--subject", "CN=Policy Daemon", "--no-pfx", "--out"])
        .arg(dir.path())
        .args(["--name", "daemon"])
        .output()
        .unwrap();
    stdout(&out);
    let Some(server) = OidcServer::launch(
        TENANT,
        CLIENT,
        &dir.path().join("daemon.pem"),
        ("x", "y"),
        None,
    ) else {
        return;
    };
    let v2_token = token(&server, dir.path(), "api://keycred-test/.default");
    let v1_token = token(&server, dir.path(), "api://keycred-test-v1/.default");
    let rules = |args: &[&str]| -> Value {
        let mut all = vec!["--format", "json", "--authority"];
        let authority = server.authority();
        all.push(&authority);
        all.extend(args);
        json(&policy(&all))
    };
    let accepted = |rules: &Value, token: &str, what: &str| {
        let out = apply(rules, token);
        let text = stdout(&out);
        assert!(
            text.contains("verified      yes: signature"),
            "{what}: {text}"
        );
        assert!(text.contains("role Orders.Read"), "{what}: {text}");
    };

    // v2 rules: the v2 token passes, the v1 token fails on its issuer.
    // Each accepts both audiences (App ID URI and client id, as many APIs list them), so the issuer decides.
    let v2 = rules(&[
        "--audience",
        "api://keycred-test-v1",
        "--audience",
        API_APP_ID,
        "--token-version",
        "2",
        "--role",
        "Orders.Read",
    ]);
    assert_eq!(
        v2["issuers"],
        json!([format!("{}/{TENANT}/v2.0", server.authority())])
    );
    assert_eq!(v2["jwksUri"], server.jwks(TENANT));
    accepted(&v2, &v2_token, "v2 rules, v2 token");
    assert_fails(
        &apply(&v2, &v1_token),
        1,
        "issuer: the token's iss is \"https://sts.windows.net/",
    );

    // v1 rules: the other way round.
    let v1 = rules(&[
        "--audience",
        "api://keycred-test-v1",
        "--audience",
        API_APP_ID,
        "--token-version",
        "1",
        "--role",
        "Orders.Read",
    ]);
    assert_eq!(
        v1["issuers"],
        json!([format!("https://sts.windows.net/{TENANT}/")])
    );
    accepted(&v1, &v1_token, "v1 rules, v1 token");
    assert_fails(
        &apply(&v1, &v2_token),
        1,
        "issuer: the token's iss is \"http://127.0.0.1:",
    );

    // Both versions: both tokens pass; a role the app was not granted fails both.
    let both = rules(&[
        "--audience",
        "api://keycred-test-v1",
        "--audience",
        API_APP_ID,
        "--token-version",
        "both",
        "--role",
        "Orders.Write",
        "--role",
        "Orders.Read",
    ]);
    accepted(&both, &v1_token, "both, v1 token");
    accepted(&both, &v2_token, "both, v2 token");
    let write_only = rules(&[
        "--audience",
        "api://keycred-test-v1",
        "--audience",
        API_APP_ID,
        "--token-version",
        "both",
        "--role",
        "Orders.Write",
    ]);
    for token in [&v1_token, &v2_token] {
        assert_fails(&apply(&write_only, token), 1, "missing role: the token's roles are [Orders.Read], and the API requires one of [Orders.Write]");
    }

    // From the API's manifest: the version and the audience come from its registration.
    let legacy = dir.path().join("api-legacy.json");
    std::fs::write(
        &legacy,
        json!({
            "appId": "9e1f0a2b-0000-4000-8000-000000000001",
            "accessTokenAcceptedVersion": null,
            "identifierUris": ["api://keycred-test-v1"],
            "oauth2Permissions": [],
            "appRoles": [{"allowedMemberTypes": ["Application"], "id": "3f1b8f0e-2d5c-4a8b-9e7f-1a2b3c4d5e6f",
                          "value": "Orders.Read", "displayName": "Read orders", "description": "Read orders",
                          "isEnabled": true}]
        })
        .to_string(),
    )
    .unwrap();
    let from_manifest = rules(&[
        "--manifest",
        legacy.to_str().unwrap(),
        "--role",
        "Orders.Read",
    ]);
    assert_eq!(from_manifest["tokenVersion"], "1");
    assert_eq!(from_manifest["audiences"], json!(["api://keycred-test-v1"]));
    accepted(&from_manifest, &v1_token, "legacy manifest, v1 token");
    // The registration's audience is the v1 App ID URI, so a v2 token is refused on its aud.
    assert_fails(&apply(&from_manifest, &v2_token), 1, "audience");
    let graph = dir.path().join("api-graph.json");
    std::fs::write(
        &graph,
        json!({
            "appId": API_APP_ID,
            "identifierUris": ["api://keycred-test"],
            "api": {"requestedAccessTokenVersion": 2, "oauth2PermissionScopes": []},
            "appRoles": [{"allowedMemberTypes": ["Application"], "id": "3f1b8f0e-2d5c-4a8b-9e7f-1a2b3c4d5e6f",
                          "value": "Orders.Read", "displayName": "Read orders", "description": "Read orders",
                          "isEnabled": true}]
        })
        .to_string(),
    )
    .unwrap();
    let from_graph = rules(&[
        "--manifest",
        graph.to_str().unwrap(),
        "--role",
        "Orders.Read",
    ]);
    assert_eq!(from_graph["audiences"], json!([API_APP_ID]));
    accepted(&from_graph, &v2_token, "graph manifest, v2 token");
    assert_fails(&apply(&from_graph, &v1_token), 1, "audience");

    // Refusals: a version that disagrees with the registration, a role the API does not offer, a tenant name,
    // no version at all.
    assert_fails(
        &policy(&[
            "--manifest",
            legacy.to_str().unwrap(),
            "--token-version",
            "2",
        ]),
        1,
        "--token-version 2 disagrees with",
    );
    assert_fails(
        &policy(&[
            "--manifest",
            graph.to_str().unwrap(),
            "--role",
            "Orders.Admin",
        ]),
        1,
        "--role \"Orders.Admin\" is not an enabled application role of",
    );
    assert_fails(
        &keycred()
            .args([
                "api-policy",
                "--tenant",
                "contoso.onmicrosoft.com",
                "--audience",
                "x",
                "--token-version",
                "2",
            ])
            .output()
            .unwrap(),
        2,
        "give the directory (tenant) ID, a GUID",
    );
    assert_fails(&policy(&["--audience", "x"]), 2, "give --manifest API.json");
    let odd = dir.path().join("api-odd.json");
    std::fs::write(
        &odd,
        r#"{"appId": "x", "api": {"requestedAccessTokenVersion": 3}}"#,
    )
    .unwrap();
    assert_fails(
        &policy(&["--manifest", odd.to_str().unwrap()]),
        1,
        "api.requestedAccessTokenVersion is 3: Entra takes null, 1 or 2",
    );
    std::fs::write(&odd, r#"{"appId": "x", "api": {}"#).unwrap();
    assert_fails(
        &policy(&["--manifest", odd.to_str().unwrap()]),
        1,
        "malformed JSON",
    );

    // --out: written once, never over an existing file without --force.
    let out = dir.path().join("policy.xml");
    let args = [
        "--audience",
        "aaaaaaaa-0000-4000-8000-000000000001",
        "--token-version",
        "2",
        "--out",
        out.to_str().unwrap(),
    ];
    let first = policy(&args);
    assert!(first.status.success() && first.stdout.is_empty());
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("<policies>"));
    std::fs::write(&out, "kept").unwrap();
    assert_fails(&policy(&args), 1, "exists");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "kept");
    let mut forced = args.to_vec();
    forced.push("--force");
    assert!(policy(&forced).status.success());
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("<policies>"));
}
