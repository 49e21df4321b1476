//! Snapshots of every fragment and report keycred renders. Inputs are fixed (an OpenSSL-made fixture, an
//! injected clock and key id), so most snapshots are exact; the `new` output redacts what must stay random.

use keycred::credential::{self, Loaded, ThumbprintForm};
use keycred::manifest::{KeyCredentialsDocument, ManifestFormat};
use keycred::report;
use time::macros::datetime;
use uuid::uuid;

use crate::common::*;

const KEY_ID: uuid::Uuid = uuid!("00000000-0000-4000-8000-000000000001");

fn fixture_file(name: &str) -> Loaded {
    let path = fixture(name);
    let bytes = std::fs::read(&path).unwrap();
    let mut loaded = credential::load(&path, &bytes, || {
        Ok(keycred::secret::Password::new("fixture-password".into()))
    })
    .unwrap();
    // Snapshots show the file name, not the absolute path of this checkout.
    loaded.path = name.into();
    loaded
}

fn cert() -> credential::CertificateInfo {
    fixture_file("openssl-rsa.cer").certificates.remove(0)
}

#[test]
fn key_credentials_graph() {
    let cert = cert();
    let doc = KeyCredentialsDocument::new(&[(&cert, KEY_ID)], ManifestFormat::Graph);
    insta::assert_snapshot!(doc.render(false));
}

#[test]
fn key_credentials_legacy() {
    let cert = cert();
    let doc = KeyCredentialsDocument::new(&[(&cert, KEY_ID)], ManifestFormat::Legacy);
    insta::assert_snapshot!(doc.render(false));
}

#[test]
fn key_credentials_graph_fragment() {
    let cert = cert();
    let doc = KeyCredentialsDocument::new(&[(&cert, KEY_ID)], ManifestFormat::Graph);
    insta::assert_snapshot!(doc.render(true));
}

#[test]
fn inspect_text_pfx() {
    let files = [fixture_file("openssl-rsa.pfx")];
    insta::assert_snapshot!(report::inspect_text(
        &files,
        datetime!(2027-01-01 00:00 UTC)
    ));
}

#[test]
fn inspect_text_bundle_with_an_ec_certificate() {
    let files = [fixture_file("bundle.pem")];
    insta::assert_snapshot!(report::inspect_text(
        &files,
        datetime!(2027-01-01 00:00 UTC)
    ));
}

#[test]
fn inspect_json_expired() {
    let files = [fixture_file("openssl-rsa.pem")];
    insta::assert_snapshot!(pretty(&report::inspect_json(
        &files,
        datetime!(2037-01-01 00:00 UTC)
    )));
}

#[test]
fn thumbprint_text_all_forms() {
    let files = [fixture_file("openssl-rsa.pem")];
    insta::assert_snapshot!(report::thumbprint_text(&files, None));
    assert_eq!(
        report::thumbprint_text(&files, Some(ThumbprintForm::Hex)),
        "572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969\n"
    );
}

#[test]
fn new_text_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = keycred()
        .args([
            "new",
            "-s",
            "CN=Contoso Daemon,O=Contoso",
            "--name",
            "daemon",
            "--generate-password",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let folder = dir.path().display().to_string();
    insta::with_settings!({filters => vec![
        (folder.as_str(), "[DIR]"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]"),
        (r"[0-9a-f]{8}-[0-9a-f]{4}-[45][0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", "[KEY-ID]"),
        (r"((?:sha1|sha1Base64|x5t|sha256|x5t#S256|serial) +)\S+", "$1[REDACTED]"),
    ]}, {
        insta::assert_snapshot!(text);
    });
}

#[test]
fn new_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let summary = new_credential(dir.path(), &["--no-pfx"]);
    let folder = dir.path().display().to_string();
    insta::with_settings!({filters => vec![(folder.as_str(), "[DIR]")]}, {
        insta::assert_json_snapshot!(summary, {
            ".keyId" => "[KEY-ID]",
            ".serial" => "[SERIAL]",
            ".notBefore" => "[TIME]",
            ".notAfter" => "[TIME]",
            ".thumbprints.sha1" => "[SHA1-HEX]",
            ".thumbprints.sha1Base64" => "[SHA1-BASE64]",
            ".thumbprints.x5t" => "[X5T]",
            ".thumbprints.sha256" => "[SHA256-HEX]",
            ".thumbprints[\"x5t#S256\"]" => "[X5T-S256]",
        });
    });
}

/// JSON as keycred prints it. serde_json is built with `arbitrary_precision` (numbers keep their digits), whose
/// numbers insta's own JSON serializer does not know, so snapshots of JSON values are taken of this text.
fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = keycred().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn app_roles_resource_and_client_graph() {
    insta::assert_snapshot!(stdout_of(&[
        "manifest",
        "app-roles",
        "--template",
        "read-write",
        "--stable-ids",
        "contoso-orders",
        "--identifier-uri",
        "api://contoso-orders",
        "--client-app",
        "--resource-app-id",
        "11111111-2222-3333-4444-555555555555",
    ]));
}

#[test]
fn app_roles_legacy_fragment() {
    insta::assert_snapshot!(stdout_of(&[
        "manifest",
        "app-roles",
        "--role",
        "Orders.Read:Read orders:Allow the app to read orders.",
        "--role",
        "Orders.Admin",
        "--member-types",
        "both",
        "--stable-ids",
        "contoso-orders",
        "--identifier-uri",
        "api://contoso-orders",
        "--format",
        "legacy",
        "--fragment",
    ]));
}

#[test]
fn app_roles_merged_into_the_graph_manifest() {
    let manifest = fixture("manifest-graph.json");
    insta::assert_snapshot!(stdout_of(&[
        "manifest",
        "app-roles",
        "--template",
        "read-write",
        "--stable-ids",
        "contoso-orders",
        "--disable",
        "Orders.Read",
        "--merge",
        manifest.to_str().unwrap(),
    ]));
}

#[test]
fn templates_listing() {
    insta::assert_snapshot!(stdout_of(&["templates"]));
}

fn checked(
    now: time::OffsetDateTime,
) -> (Vec<keycred::workflow::check::CheckedFile>, time::Duration) {
    let text = std::fs::read_to_string(fixture("manifest-legacy.json")).unwrap();
    let manifest = keycred::manifest::Manifest::parse(&text, "manifest-legacy.json", None).unwrap();
    let credentials = manifest.key_credentials().unwrap();
    let warn = time::Duration::days(30);
    let verdict = keycred::rotation::verdict(&credentials, now, warn);
    (
        vec![keycred::workflow::check::CheckedFile {
            file: "manifest-legacy.json".into(),
            credentials,
            verdict,
            problems: Vec::new(),
            key_held: None,
        }],
        warn,
    )
}

#[test]
fn check_text_renewal_due() {
    let now = datetime!(2036-11-01 00:00 UTC);
    let (files, warn) = checked(now);
    insta::assert_snapshot!(report::check_text(&files, now, warn));
}

#[test]
fn check_json_healthy() {
    let now = datetime!(2027-01-01 00:00 UTC);
    let (files, warn) = checked(now);
    insta::assert_snapshot!(pretty(&report::check_json(&files, &[], now, warn, 0)));
}

#[test]
fn rotate_dry_run_diff() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("app.json");
    std::fs::copy(fixture("manifest-legacy.json"), &manifest).unwrap();
    let text = stdout_of(&[
        "rotate",
        "--manifest",
        manifest.to_str().unwrap(),
        "-s",
        "CN=Orders Daemon",
        "--no-pfx",
        "--out",
        dir.path().to_str().unwrap(),
        "--force-renewal",
        "--keep",
        "1",
        "--dry-run",
    ]);
    let folder = dir.path().display().to_string();
    insta::with_settings!({filters => vec![
        (folder.as_str(), "[DIR]"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]"),
        (r"\(\d+ days left\)", "([N] days left)"),
        (r"\+ add     [0-9A-F]{40}  keyId [0-9a-f-]{36}", "+ add     [THUMBPRINT]  keyId [KEY-ID]"),
    ]}, {
        insta::assert_snapshot!(text);
    });
}
