//! `keycred manifest app-roles` and `keycred templates`: every source of roles, every option, every rule.

use std::fs;

use predicates::str::contains;
use serde_json::Value;

use crate::common::*;

const APP_ID: &str = "11111111-2222-3333-4444-555555555555";

fn app_roles(args: &[&str]) -> std::process::Output {
    keycred()
        .args(["manifest", "app-roles"])
        .args(args)
        .output()
        .unwrap()
}

fn values(doc: &Value) -> Vec<String> {
    doc["appRoles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn templates_are_listed() {
    keycred()
        .arg("templates")
        .assert()
        .success()
        .stdout(contains("read-write"))
        .stdout(contains("admin-readonly"))
        .stdout(contains("invoke"));
    let out = keycred().args(["templates", "--json"]).output().unwrap();
    let list = json(&out);
    assert_eq!(list[0]["name"], "read-write");
    assert_eq!(
        list[0]["roles"],
        serde_json::json!(["Resource.Read", "Resource.Write"])
    );
}

#[test]
fn flags_with_per_role_options_and_the_compact_form() {
    let out = app_roles(&[
        "--role",
        "Orders.Read:Read orders:Allow the app to read orders: all of them.",
        "--member-types",
        "both",
        "--role",
        "Orders.Write",
        "--display-name",
        "Write orders",
        "--description",
        "Allow the app to write orders.",
        "--role",
        "Orders.Audit",
        "--member-types",
        "user",
    ]);
    let doc = json(&out);
    let roles = doc["appRoles"].as_array().unwrap();
    assert_eq!(
        values(&doc),
        ["Orders.Read", "Orders.Write", "Orders.Audit"]
    );
    assert_eq!(roles[0]["displayName"], "Read orders");
    assert_eq!(
        roles[0]["description"],
        "Allow the app to read orders: all of them."
    );
    assert_eq!(
        roles[0]["allowedMemberTypes"],
        serde_json::json!(["Application", "User"])
    );
    assert_eq!(roles[1]["displayName"], "Write orders");
    assert_eq!(
        roles[1]["allowedMemberTypes"],
        serde_json::json!(["Application"])
    );
    assert_eq!(roles[2]["allowedMemberTypes"], serde_json::json!(["User"]));
    // Derived when not given.
    assert_eq!(roles[2]["displayName"], "Orders Audit");
    assert_eq!(
        roles[2]["description"],
        "Grants users the Orders.Audit role."
    );
    for role in roles {
        assert_eq!(role["isEnabled"], true);
        assert!(role.get("origin").is_none(), "origin is never written");
        let id = uuid::Uuid::parse_str(role["id"].as_str().unwrap()).unwrap();
        assert_eq!(id.get_version_num(), 4, "random ids by default");
    }
}

#[test]
fn stable_ids_make_reruns_identical() {
    let run = || {
        app_roles(&[
            "--template",
            "read-write",
            "--stable-ids",
            "contoso-orders",
            "--role",
            "Extra",
        ])
        .stdout
    };
    let first = run();
    assert_eq!(first, run());
    let doc: Value = serde_json::from_slice(&first).unwrap();
    let id = uuid::Uuid::parse_str(doc["appRoles"][0]["id"].as_str().unwrap()).unwrap();
    assert_eq!(id.get_version_num(), 5);
    assert_eq!(values(&doc), ["Resource.Read", "Resource.Write", "Extra"]);
}

#[test]
fn roles_files_in_json_and_toml_and_template_files() {
    let dir = tempfile::tempdir().unwrap();
    let json_file = dir.path().join("roles.json");
    fs::write(
        &json_file,
        r#"[{"value": "A.Read", "displayName": "A read", "description": "Reads A.", "allowedMemberTypes": ["Application"], "id": "00000000-0000-4000-8000-00000000000a", "isEnabled": true}]"#,
    )
    .unwrap();
    let toml_file = dir.path().join("roles.toml");
    fs::write(&toml_file, "[[role]]\nvalue = \"B.Read\"\n").unwrap();
    let template = dir.path().join("mine.toml");
    fs::write(
        &template,
        "description = \"mine\"\n[[role]]\nvalue = \"C.Read\"\n",
    )
    .unwrap();

    for (flag, file, value) in [
        ("--roles-file", &json_file, "A.Read"),
        ("--roles-file", &toml_file, "B.Read"),
        ("--template-file", &template, "C.Read"),
    ] {
        let out = app_roles(&[flag, file.to_str().unwrap()]);
        assert_eq!(values(&json(&out)), [value]);
    }
    let out = app_roles(&["--roles-file", json_file.to_str().unwrap()]);
    assert_eq!(
        json(&out)["appRoles"][0]["id"],
        "00000000-0000-4000-8000-00000000000a"
    );
}

#[test]
fn client_app_and_identifier_uri() {
    let out = app_roles(&[
        "--template",
        "admin-readonly",
        "--role",
        "Audit",
        "--member-types",
        "user",
        "--client-app",
        "--resource-app-id",
        APP_ID,
        "--identifier-uri",
        "api://contoso-orders",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = json(&out);
    let resource = &doc["resourceApp"];
    assert_eq!(
        resource["identifierUris"],
        serde_json::json!(["api://contoso-orders"])
    );
    assert_eq!(resource["api"]["requestedAccessTokenVersion"], 2);
    let access = &doc["clientApp"]["requiredResourceAccess"][0];
    assert_eq!(access["resourceAppId"], APP_ID);
    let requested: Vec<&Value> = access["resourceAccess"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["id"])
        .collect();
    let role_ids: Vec<&Value> = resource["appRoles"].as_array().unwrap()[..2]
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(
        requested, role_ids,
        "the client requests the application roles by id"
    );
    assert!(access["resourceAccess"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["type"] == "Role"));
    assert!(
        stderr.contains("\"Audit\" is disabled or user-only"),
        "{stderr}"
    );

    let legacy = json(&app_roles(&[
        "--role",
        "A",
        "--identifier-uri",
        "api://x",
        "--format",
        "legacy",
    ]));
    assert_eq!(legacy["accessTokenAcceptedVersion"], 2);
    assert!(legacy.get("api").is_none());
}

#[test]
fn fragments_and_output_files() {
    let out = app_roles(&["--role", "A", "--fragment"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("\"appRoles\": ["), "{text}");
    serde_json::from_str::<Value>(&format!("{{{text}}}")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let resource = dir.path().join("resource.json");
    let client = dir.path().join("client.json");
    let out = keycred()
        .args([
            "manifest",
            "app-roles",
            "--role",
            "A",
            "--client-app",
            "--resource-app-id",
            APP_ID,
            "--out",
        ])
        .arg(&resource)
        .arg("--client-out")
        .arg(&client)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let resource_doc: Value = serde_json::from_slice(&fs::read(&resource).unwrap()).unwrap();
    let client_doc: Value = serde_json::from_slice(&fs::read(&client).unwrap()).unwrap();
    assert_eq!(
        resource_doc["appRoles"][0]["id"],
        client_doc["requiredResourceAccess"][0]["resourceAccess"][0]["id"]
    );

    let again = keycred()
        .args(["manifest", "app-roles", "--role", "A", "--out"])
        .arg(&resource)
        .output()
        .unwrap();
    assert_fails(&again, 1, "resource.json already exists");
}

#[test]
fn every_validation_rule_is_named() {
    let long = "x".repeat(121);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--role", "Read All"], "value contains whitespace"),
        (
            vec!["--role", &long],
            "121 characters long; the limit is 120",
        ),
        (vec!["--role", ".Read"], "must not start with '.'"),
        (vec!["--role", "Read\"x"], "only 0-9, A-Z, a-z and"),
        (vec!["--role", "A", "--role", "a"], "value is not unique"),
        (vec!["--role", ":Name"], "value is required"),
        (
            vec!["--role", "A", "--display-name", ""],
            "displayName is empty",
        ),
        (
            vec!["--role", "A", "--description", " "],
            "description is empty",
        ),
        (
            vec!["--display-name", "X", "--role", "A"],
            "--display-name must follow the --role",
        ),
        (
            vec!["--role", "A:Name", "--display-name", "Other"],
            "is given --display-name twice",
        ),
        (vec!["--template", "nope"], "there is no template \"nope\""),
        (
            vec!["--stable-ids", " ", "--role", "A"],
            "--stable-ids needs a namespace",
        ),
        (
            vec!["--role", "A", "--identifier-uri", "http://x"],
            "must start with api://",
        ),
        (
            vec!["--role", "A", "--identifier-uri", "api://x/"],
            "must not end with '/'",
        ),
        (
            vec!["--role", "A", "--identifier-uri", "api://x/.default"],
            "must not contain /.default",
        ),
        (
            vec!["--role", "A", "--client-app", "--resource-app-id", "nope"],
            "is not a GUID",
        ),
        (vec![], "no roles given"),
    ];
    for (args, expected) in cases {
        let out = app_roles(&args);
        assert_fails(&out, 2, expected);
        assert!(out.stdout.is_empty(), "{args:?}: nothing printed on stdout");
    }
    // clap-level usage errors.
    assert_fails(
        &app_roles(&["--role", "A", "--client-app"]),
        2,
        "--resource-app-id",
    );
    assert_fails(
        &app_roles(&["--role", "A", "--member-types", "group"]),
        2,
        "invalid value 'group'",
    );
    assert_fails(&app_roles(&["--role", "A", "--disable", "A"]), 2, "--merge");
}

#[test]
fn roles_file_problems_give_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("bad.json", "[\n  {\"value\": \"A\"\n]", "line 3 column 1"),
        (
            "unknown.json",
            r#"[{"value": "A", "scope": "x"}]"#,
            "unknown field `scope`",
        ),
        (
            "types.json",
            r#"[{"value": "A", "allowedMemberTypes": ["Group"]}]"#,
            "allowedMemberTypes has \"Group\"",
        ),
        (
            "empty-types.json",
            r#"[{"value": "A", "allowedMemberTypes": []}]"#,
            "allowedMemberTypes is empty",
        ),
        (
            "id.json",
            r#"[{"value": "A", "id": "123"}]"#,
            "id \"123\" is not a UUID",
        ),
        (
            "dup-id.json",
            r#"[{"value": "A", "id": "00000000-0000-4000-8000-000000000001"}, {"value": "B", "id": "00000000-0000-4000-8000-000000000001"}]"#,
            "ids must be unique",
        ),
        (
            "bad.toml",
            "[[role]]\nvalue = \"A\"\nvalu = \"B\"\n",
            "line 3, column 1",
        ),
        ("syntax.toml", "[[role]\nvalue = \"A\"\n", "line 1"),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        let out = app_roles(&["--roles-file", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{name}");
        assert!(
            stderr.contains(expected),
            "{name}: expected {expected:?} in {stderr}"
        );
    }
}

// ---- merging into a manifest ----

fn merge_copy(fixture_name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.json");
    fs::copy(fixture(fixture_name), &path).unwrap();
    (dir, path)
}

/// Everything but the keys keycred owns, for comparing a merged manifest with its input.
fn without_owned(doc: &Value) -> Vec<(String, Value)> {
    doc.as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "appRoles" | "identifierUris" | "api" | "accessTokenAcceptedVersion"
            )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn merge_round_trips_a_full_manifest_in_both_formats() {
    for fixture_name in ["manifest-graph.json", "manifest-legacy.json"] {
        let input: Value =
            serde_json::from_slice(&fs::read(fixture(fixture_name)).unwrap()).unwrap();
        let out = keycred()
            .args([
                "manifest",
                "app-roles",
                "--role",
                "orders.read",
                "--role",
                "Orders.Write",
                "--identifier-uri",
                "api://contoso-orders",
                "--merge",
            ])
            .arg(fixture(fixture_name))
            .output()
            .unwrap();
        let merged = json(&out);
        assert_eq!(
            without_owned(&merged),
            without_owned(&input),
            "{fixture_name}: other fields, in order"
        );
        let in_keys: Vec<_> = input.as_object().unwrap().keys().collect();
        let out_keys: Vec<_> = merged
            .as_object()
            .unwrap()
            .keys()
            .take(in_keys.len())
            .collect();
        assert_eq!(in_keys, out_keys, "{fixture_name}: key order");

        let roles = merged["appRoles"].as_array().unwrap();
        let old = &input["appRoles"][0];
        assert_eq!(roles[0]["id"], old["id"], "same value keeps its id");
        assert_eq!(roles[0]["value"], "orders.read");
        assert_eq!(
            roles[0]["origin"], old["origin"],
            "unknown role fields stay"
        );
        assert_eq!(roles.last().unwrap()["value"], "Orders.Write");
        assert!(merged["identifierUris"]
            .as_array()
            .unwrap()
            .contains(&Value::from("api://contoso-orders")));
        if fixture_name.contains("graph") {
            assert_eq!(merged["api"]["requestedAccessTokenVersion"], 2);
            assert_eq!(
                merged["api"]["oauth2PermissionScopes"],
                input["api"]["oauth2PermissionScopes"]
            );
        } else {
            assert_eq!(merged["accessTokenAcceptedVersion"], 2);
        }
    }
}

#[test]
fn merge_in_place_keeps_a_backup_and_never_overwrites_silently() {
    let (_dir, path) = merge_copy("manifest-graph.json");
    let original = fs::read(&path).unwrap();

    let out = keycred()
        .args(["manifest", "app-roles", "--role", "Orders.Write", "--merge"])
        .arg(&path)
        .arg("--out")
        .arg(&path)
        .output()
        .unwrap();
    assert_fails(&out, 1, "use --in-place");
    assert_eq!(fs::read(&path).unwrap(), original);

    keycred()
        .args([
            "manifest",
            "app-roles",
            "--role",
            "Orders.Write",
            "--in-place",
            "--merge",
        ])
        .arg(&path)
        .assert()
        .success()
        // What changed, not the manifest: it was written back.
        .stdout(predicates::prelude::PredicateBooleanExt::and(
            contains("(added)"),
            predicates::prelude::PredicateBooleanExt::not(contains("{")),
        ));
    let mut backup = path.clone().into_os_string();
    backup.push(".bak");
    assert_eq!(
        fs::read(&backup).unwrap(),
        original,
        ".bak holds the original bytes"
    );
    let merged: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        values(&merged),
        ["Orders.Read", "Orders.Export", "Orders.Write"]
    );
}

#[test]
fn roles_are_disabled_before_they_can_be_removed() {
    let (_dir, path) = merge_copy("manifest-graph.json");
    let merge = |extra: &[&str]| {
        keycred()
            .args(["manifest", "app-roles", "--merge"])
            .arg(&path)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = merge(&["--remove", "Orders.Read"]);
    assert_fails(
        &out,
        2,
        "is enabled, and Entra rejects deleting an enabled role: first run with --disable",
    );

    let disabled = json(&merge(&["--disable", "Orders.Read"]));
    assert_eq!(disabled["appRoles"][0]["isEnabled"], false);

    // Orders.Export is already disabled in the fixture, so it may go.
    let removed = json(&merge(&["--remove", "Orders.Export"]));
    assert_eq!(values(&removed), ["Orders.Read"]);

    assert_fails(&merge(&["--remove", "Nope"]), 2, "no such role");
    assert_fails(
        &merge(&["--role", "Orders.Read", "--disable", "Orders.Read"]),
        2,
        "do one per run",
    );
    assert_fails(&merge(&[]), 2, "nothing to merge");
}

#[test]
fn merge_refuses_clashes_and_broken_manifests_and_leaves_them_untouched() {
    let (dir, path) = merge_copy("manifest-graph.json");
    let out = keycred()
        .args([
            "manifest",
            "app-roles",
            "--role",
            "User_Impersonation",
            "--merge",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert_fails(&out, 2, "clashes with the delegated permission scope \"user_impersonation\" in api.oauth2PermissionScopes");
    let out = keycred()
        .args([
            "manifest",
            "app-roles",
            "--role",
            "A",
            "--format",
            "legacy",
            "--merge",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert_fails(
        &out,
        1,
        "is a graph manifest, but --format legacy was given",
    );

    let cases = [
        (
            "malformed.json",
            "{\n  \"api\": {},\n  \"appRoles\": [\n",
            "malformed JSON",
        ),
        (
            "not-array.json",
            r#"{"api": {}, "appRoles": {"value": "A"}}"#,
            "appRoles is not an array",
        ),
        (
            "dup.json",
            r#"{"api": {}, "appRoles": [{"value": "A", "id": "00000000-0000-4000-8000-000000000001", "allowedMemberTypes": ["Application"]}, {"value": "B", "id": "00000000-0000-4000-8000-000000000001", "allowedMemberTypes": ["Application"]}]}"#,
            "has the id 00000000-0000-4000-8000-000000000001 twice",
        ),
        (
            "unknown.json",
            r#"{"displayName": "x"}"#,
            "pass --format graph or --format legacy",
        ),
    ];
    for (name, text, expected) in cases {
        let file = dir.path().join(name);
        fs::write(&file, text).unwrap();
        let out = keycred()
            .args([
                "manifest",
                "app-roles",
                "--role",
                "Z",
                "--in-place",
                "--merge",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert_fails(&out, 1, expected);
        assert_eq!(fs::read_to_string(&file).unwrap(), text, "{name} untouched");
        let mut backup = file.into_os_string();
        backup.push(".bak");
        assert!(
            !std::path::Path::new(&backup).exists(),
            "no backup written for a failed run"
        );
    }
    let malformed = keycred()
        .args(["manifest", "app-roles", "--role", "Z", "--merge"])
        .arg(dir.path().join("malformed.json"))
        .output()
        .unwrap();
    assert_fails(&malformed, 1, "line 4 column 0");
}

#[test]
fn client_app_from_a_merged_manifest_uses_its_ids() {
    let out = keycred()
        .args([
            "manifest",
            "app-roles",
            "--role",
            "Orders.Write",
            "--client-app",
            "--resource-app-id",
            APP_ID,
            "--merge",
        ])
        .arg(fixture("manifest-graph.json"))
        .output()
        .unwrap();
    let doc = json(&out);
    let ids: Vec<&Value> = doc["clientApp"]["requiredResourceAccess"][0]["resourceAccess"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["id"])
        .collect();
    let roles = doc["resourceApp"]["appRoles"].as_array().unwrap();
    // Orders.Export is disabled, so only Orders.Read (existing id) and Orders.Write are requested.
    assert_eq!(ids, [&roles[0]["id"], &roles[2]["id"]]);
    assert_eq!(roles[0]["id"], "0f9a3c2b-1d4e-4f5a-8b6c-7d8e9f0a1b2c");
}
