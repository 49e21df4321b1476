//! The last of the first-admin harms (issue 26): plans that make no keys, a printed manifest that says so and is
//! finished by the next run, SANs carried by a CA rotation, a stopped tenant run finished by the next one, and
//! doctor's fixes that run as printed.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// The `+ add` line of a rotation's text.
fn add_line(text: &str) -> &str {
    text.lines()
        .find(|l| l.trim_start().starts_with("+ add"))
        .unwrap_or_else(|| panic!("no + add line in {text}"))
}

fn has_thumbprint(line: &str) -> bool {
    line.split_whitespace()
        .any(|w| w.len() == 40 && w.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn a_dry_run_makes_no_key_and_shows_no_thumbprint_it_would_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = ManifestBuilder::realistic()
        .ranges(&[(-300, 10)], |i| format!("CN=credential {i}"))
        .write(&dir.path().join("app.json"));
    let run = |extra: &[&str]| {
        keycred()
            .args(["rotate", "--manifest"])
            .arg(&manifest)
            .args(["--no-pfx", "--out"])
            .arg(dir.path().join("certs"))
            .args(extra)
            .output()
            .unwrap()
    };
    let text = stdout(&run(&["--dry-run"]));
    let line = add_line(&text);
    assert!(
        !has_thumbprint(line) && line.contains("made when run without --dry-run"),
        "a plan shows no thumbprint it will not write: {text}"
    );
    let json = output_json(&run(&["--dry-run", "--json"]));
    assert_eq!(json["added"]["thumbprints"], Value::Null, "{json}");
    assert_eq!(json["added"]["keyId"], Value::Null, "{json}");
    assert_eq!(json["added"]["madeWhenApplied"], true, "{json}");
    assert!(json["added"]["endDateTime"].is_string(), "{json}");
    assert!(!dir.path().join("certs").exists());
    // The run itself makes the certificate and shows it.
    let applied = output_json(&run(&["--in-place", "--json"]));
    assert!(applied["added"]["thumbprints"].is_object(), "{applied}");
}

mod tenant {
    use serde_json::Value;

    use super::{add_line, has_thumbprint};
    use crate::common::*;
    use crate::graph::{held, live_tenant, node_ready, tenant_apps};

    #[test]
    fn a_plan_makes_no_key_and_shows_no_thumbprint_it_would_not_upload() {
        if !node_ready() {
            return;
        }
        let Some(tenant) = live_tenant(
            tenant_apps(2).as_array().unwrap().clone(),
            "Application.ReadWrite.All",
        ) else {
            return;
        };
        let certs = tenant.dir.path().join("certs");
        let run = |extra: &[&str]| {
            tenant
                .keycred("rotate")
                .args(["--app", "20000000-0000-4000-8000-000000000001", "--no-pfx"])
                .arg("--out")
                .arg(&certs)
                .args(extra)
                .output()
                .unwrap()
        };
        let text = stdout(&run(&[]));
        let line = add_line(&text);
        assert!(
            !has_thumbprint(line) && line.contains("made with --apply"),
            "{text}"
        );
        assert!(text.contains("would write"), "{text}");
        let plan = output_json(&run(&["--json"]));
        let added = &plan["apps"][0]["added"];
        assert_eq!(added["thumbprint"], Value::Null, "{plan}");
        assert_eq!(added["madeWhenApplied"], true, "{plan}");
        assert!(!certs.exists(), "a plan writes nothing");
        let applied = output_json(&run(&["--apply", "--json"]));
        let added = &applied["apps"][0]["added"];
        assert_eq!(
            added["thumbprint"].as_str().map(str::len),
            Some(40),
            "{applied}"
        );
        assert!(held(&tenant, "10000000-0000-4000-8000-000000000001")
            .iter()
            .any(|k| k["keyId"] == added["keyId"]));
    }
}
