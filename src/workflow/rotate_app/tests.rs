//! The rotation workflow's own tests; the command's are in tests/cli.

use super::*;
use crate::error::Error;
use crate::rotation::Disposition;
use serde_json::{json, Value};
use std::path::Path;

fn manifest(dir: &Path, ends: &[(i64, &str)]) -> PathBuf {
    let now = OffsetDateTime::now_utc();
    let creds: Vec<Value> = ends
        .iter()
        .map(|(end, key_id)| {
            json!({
                "customKeyIdentifier": null,
                "displayName": "CN=Orders Daemon",
                "endDateTime": crate::time_fmt::rfc3339_utc(now + time::Duration::days(*end)),
                "key": null,
                "keyId": key_id,
                "startDateTime": crate::time_fmt::rfc3339_utc(now - time::Duration::days(300)),
                "type": "AsymmetricX509Cert",
                "usage": "Verify"
            })
        })
        .collect();
    let path = dir.join("app.json");
    let doc = json!({"api": {}, "keyCredentials": creds, "zLast": [1, {"kept": true}]});
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path
}

fn request(manifest: PathBuf, out: &Path) -> RotateRequest {
    let mut spec = CredentialSpec::new("CN=Orders Daemon", out);
    spec.name = Some("orders".into());
    RotateRequest {
        manifest,
        format: FormatChoice::Detect,
        new: Some(NewCredentialSource::Make(spec)),
        policy: Policy {
            renew_within: Some(time::Duration::days(30)),
            prune_expired: true,
            keep: None,
            remove_key_ids: Vec::new(),
        },
        output: ManifestOutput::InPlace,
        patch_out: None,
        add_key_proof: None,
        repair_key_ids: false,
        dry_run: false,
        force: false,
    }
}

const A: &str = "00000000-0000-4000-8000-00000000000a";
const B: &str = "00000000-0000-4000-8000-00000000000b";

#[test]
fn adds_beside_the_current_one_prunes_and_keeps_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(dir.path(), &[(10, A), (-5, B)]);
    let before = std::fs::read(&path).unwrap();
    let outcome = rotate_app(
        request(path.clone(), dir.path()),
        &PasswordSources::default(),
        &Interrupt::none(),
    )
    .unwrap();
    assert!(outcome.changed && outcome.plan.add);
    assert_eq!(outcome.plan.existing[0], Disposition::Keep);
    assert!(matches!(outcome.plan.existing[1], Disposition::Remove(_)));
    assert_eq!(
        outcome.backup.as_deref(),
        Some(dir.path().join("app.json.bak").as_path())
    );
    assert_eq!(
        std::fs::read(dir.path().join("app.json.bak")).unwrap(),
        before
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(doc["keyCredentials"][0]["keyId"], A);
    assert_eq!(
        doc["keyCredentials"][1]["keyId"],
        outcome.added.as_ref().unwrap().key_id.to_string()
    );
    assert_eq!(doc["zLast"], json!([1, {"kept": true}]));
    assert_eq!(
        outcome.files.len(),
        4,
        "cer, pem, key, fragment: {:?}",
        outcome.files
    );
    assert!(!dir.path().join("app.json.lock").exists());
}

#[test]
fn not_due_changes_nothing_and_makes_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(dir.path(), &[(200, A)]);
    let before = std::fs::read(&path).unwrap();
    let outcome = rotate_app(
        request(path.clone(), dir.path()),
        &PasswordSources::default(),
        &Interrupt::none(),
    )
    .unwrap();
    assert!(!outcome.changed && outcome.candidate.is_none());
    assert!(outcome
        .plan
        .skipped
        .as_deref()
        .unwrap()
        .starts_with("not due"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no backup, no files"
    );
}

#[test]
fn refusals_leave_everything_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(dir.path(), &[(10, A), (20, A)]);
    let before = std::fs::read(&path).unwrap();
    let run = |change: fn(&mut RotateRequest)| {
        let mut request = request(path.clone(), dir.path());
        change(&mut request);
        rotate_app(request, &PasswordSources::default(), &Interrupt::none())
            .unwrap_err()
            .to_string()
    };
    let err = run(|_| {});
    assert!(err.contains(&format!("keyId {A} is used 2 times")), "{err}");
    let err = run(|r| r.output = ManifestOutput::File(r.manifest.clone()));
    assert!(err.contains("use --in-place"), "{err}");
    let err = run(|r| {
        r.repair_key_ids = true;
        r.policy.keep = Some(0);
    });
    assert!(err.contains("lock the app out"), "{err}");
    let err = run(|r| {
        r.repair_key_ids = true;
        r.new = Some(NewCredentialSource::Given(PathBuf::from(
            "/nonexistent/next.cer",
        )));
    });
    assert!(err.contains("next.cer"), "{err}");
    let interrupted = {
        let mut r = request(path.clone(), dir.path());
        r.repair_key_ids = true;
        let interrupt = Interrupt::none();
        interrupt.raise(2);
        rotate_app(r, &PasswordSources::default(), &interrupt).unwrap_err()
    };
    assert!(
        matches!(interrupted, Error::Interrupted(2)),
        "{interrupted}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn the_manifest_can_be_returned_instead_of_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(dir.path(), &[(10, A)]);
    let mut r = request(path.clone(), dir.path());
    r.output = ManifestOutput::Returned;
    r.dry_run = true;
    let outcome = rotate_app(r, &PasswordSources::default(), &Interrupt::none()).unwrap();
    assert!(outcome.dry_run && outcome.plan.add && outcome.manifest_text.is_none());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "a dry run writes nothing"
    );
    let mut r = request(path, dir.path());
    r.output = ManifestOutput::Returned;
    let outcome = rotate_app(r, &PasswordSources::default(), &Interrupt::none()).unwrap();
    let text = outcome.manifest_text.unwrap();
    assert!(text.contains(&outcome.added.unwrap().key_id.to_string()));
}
