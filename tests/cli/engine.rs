//! The one rotation engine's round (issue 27): what its front ends share (one token-credential builder, one
//! report writer) and the fixes found on the way.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::common::*;

#[test]
fn an_empty_client_secret_file_is_named_as_a_client_secret_by_token_and_graph() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client.secret");
    fs::write(&secret, "").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    let client = "11111111-2222-3333-4444-555555555555";
    let runs = [
        keycred()
            .args([
                "token",
                "--tenant",
                "contoso.onmicrosoft.com",
                "--client-id",
                client,
            ])
            .args([
                "--scope",
                "api://contoso-orders/.default",
                "--client-secret-file",
            ])
            .arg(&secret)
            .output()
            .unwrap(),
        keycred()
            .args([
                "graph",
                "apps",
                "--tenant",
                "contoso.onmicrosoft.com",
                "--client-id",
                client,
            ])
            .arg("--client-secret-file")
            .arg(&secret)
            .output()
            .unwrap(),
    ];
    for out in runs {
        assert_fails(&out, 2, "the client secret in --client-secret-file");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is empty"), "{stderr}");
        assert!(
            !stderr.contains("PFX"),
            "a client secret is no PFX password: {stderr}"
        );
    }
}

#[test]
fn a_batch_error_names_the_files_as_they_are_not_rewritten_as_plan_keys() {
    // batch used to turn flag names into plan keys by rewriting the library's text, which also rewrote any path
    // holding one: the manifest `legacy--keep.json` was reported as `legacykeep.json`.
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("certs")).unwrap();
    fs::write(dir.path().join("legacy--keep.json"), "{}").unwrap();
    fs::write(
        dir.path().join("plan.toml"),
        "[[app]]\nname = \"orders--days\"\nsubject = \"CN=Orders\"\nmanifest = \"legacy--keep.json\"\n\
         no_pfx = true\nout = \"certs\"\n",
    )
    .unwrap();
    let out = keycred()
        .arg("batch")
        .arg(dir.path().join("plan.toml"))
        .arg("--json")
        .output()
        .unwrap();
    let report = output_json(&out);
    let detail = report["apps"][0]["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("legacy--keep.json"), "{detail}");
    assert!(
        detail.contains("set format = \"graph\" or format = \"legacy\""),
        "the plan's words for the advice: {detail}"
    );
    assert!(!detail.contains("--format"), "{detail}");
}
