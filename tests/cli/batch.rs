//! `keycred batch`: many apps, one broken, parallel, idempotent, with a report.

use std::fs;
use std::path::Path;

use serde_json::{json, Value};

use crate::common::*;

/// A Graph manifest whose only credential ends in `days` days.
fn manifest(path: &Path, days: i64) {
    graph_manifest(
        path,
        vec![key_credential(
            "00000000-0000-4000-8000-000000000001",
            "CN=old",
            -300,
            days,
        )],
    );
}

/// The summary line of a batch run with one failed app.
fn stdout_counts(out: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("23 apps: 0 provisioned, 0 rotated, 22 skipped, 1 failed"),
        "{stdout}"
    );
}

#[test]
fn a_plan_of_22_apps_with_one_broken() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("manifests")).unwrap();
    let mut plan = String::from("[defaults]\nout = \"certs\"\ndays = 90\nno_pfx = true\n");
    for i in 0..10 {
        manifest(
            &dir.path().join(format!("manifests/rot{i}.json")),
            if i < 8 { 10 } else { 200 },
        );
        plan.push_str(&format!(
            "\n[[app]]\nname = \"rot{i}\"\nsubject = \"CN=Rotated {i}\"\nmanifest = \"manifests/rot{i}.json\"\n"
        ));
    }
    for i in 0..11 {
        plan.push_str(&format!(
            "\n[[app]]\nname = \"new{i}\"\nsubject = \"CN=New {i}\"\n"
        ));
    }
    plan.push_str("\n[[app]]\nname = \"withpfx\"\nsubject = \"CN=With PFX\"\nno_pfx = false\n");
    fs::write(dir.path().join("manifests/broken.json"), "{ not json").unwrap();
    plan.push_str("\n[[app]]\nname = \"broken\"\nsubject = \"CN=Broken\"\nmanifest = \"manifests/broken.json\"\n");
    let plan_path = dir.path().join("plan.toml");
    fs::write(&plan_path, &plan).unwrap();
    let report_path = dir.path().join("report.json");

    let run_with = |extra: &[&str]| {
        keycred()
            .arg("batch")
            .arg(&plan_path)
            .args(["--jobs", "2", "--generate-password", "--report"])
            .arg(&report_path)
            .args(extra)
            .output()
            .unwrap()
    };
    let run = || run_with(&[]);
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed app makes the run fail"
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("23 apps: 12 provisioned, 8 rotated, 2 skipped, 1 failed (2 jobs)"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr.contains("[23/23]"),
        "plain progress lines off a terminal: {stderr}"
    );
    let report: Value = serde_json::from_slice(&fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(
        report["counts"],
        json!({"provisioned": 12, "rotated": 8, "skipped": 2, "requested": 0, "failed": 1, "interrupted": 0, "notStarted": 0})
    );
    let broken = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "broken")
        .unwrap();
    assert_eq!(broken["result"], "failed");
    assert!(
        broken["detail"]
            .as_str()
            .unwrap()
            .contains("malformed JSON"),
        "{broken}"
    );

    // Files: provisioned apps in certs/NAME, a PFX with its own password only where asked.
    assert!(dir.path().join("certs/new3/new3.cer").exists());
    assert!(!dir.path().join("certs/new3/new3.pfx").exists());
    assert!(dir
        .path()
        .join("certs/withpfx/withpfx.pfx.password")
        .exists());
    let rotated: Value =
        serde_json::from_slice(&fs::read(dir.path().join("manifests/rot0.json")).unwrap()).unwrap();
    assert_eq!(rotated["keyCredentials"].as_array().unwrap().len(), 2);
    assert!(dir.path().join("manifests/rot0.json.bak").exists());
    let skipped: Value =
        serde_json::from_slice(&fs::read(dir.path().join("manifests/rot9.json")).unwrap()).unwrap();
    assert_eq!(
        skipped["keyCredentials"].as_array().unwrap().len(),
        1,
        "not due: untouched"
    );

    // Re-running the finished plan changes nothing.
    let snapshot = |name: &str| fs::read(dir.path().join(name)).unwrap();
    let before = (
        snapshot("manifests/rot0.json"),
        snapshot("certs/new0/new0.cer"),
    );
    // The report is the run's output: the same command again replaces the first run's report (from cron,
    // exactly as README shows it), and --force is no longer needed.
    let first_report = snapshot("report.json");
    let out = run();
    assert_ne!(snapshot("report.json"), first_report, "a new report");
    let report: Value = serde_json::from_slice(&snapshot("report.json")).unwrap();
    assert_eq!(report["counts"]["skipped"], 22, "{report}");
    stdout_counts(&out);
    let out = run_with(&["--force"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("23 apps: 0 provisioned, 0 rotated, 22 skipped, 1 failed"),
        "{stdout}"
    );
    assert_eq!(
        (
            snapshot("manifests/rot0.json"),
            snapshot("certs/new0/new0.cer")
        ),
        before
    );
}

#[test]
fn plan_problems_are_reported_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[[app]]\nname = \"a\"\nsubject = \"A\"\nno_pfx = true\nsubjct = \"typo\"\n", 1, "line 5"),
        (
            "[[app]]\nname = \"a\"\nsubject = \"A\"\nno_pfx = true\n\n[[app]]\nname = \"a\"\nsubject = \"B\"\nno_pfx = true\n",
            1,
            "line 7: app name \"a\" is already used on line 2",
        ),
        (
            "[[app]]\nname = \"a\"\nsubject = \"A\"\nmanifest = \"m.json\"\nno_pfx = true\n\n[[app]]\nname = \"b\"\nsubject = \"B\"\nmanifest = \"./m.json\"\nno_pfx = true\n",
            1,
            "two runs on one manifest would race",
        ),
        ("[[app]]\nname = \"a\"\nsubject = \"A\"\n", 2, "batch needs a password source"),
    ];
    for (text, code, expected) in cases {
        let plan = dir.path().join("plan.toml");
        fs::write(&plan, text).unwrap();
        let out = keycred().arg("batch").arg(&plan).output().unwrap();
        assert_fails(&out, code, expected);
        assert_eq!(names_in(dir.path()), ["plan.toml"], "nothing ran");
    }
}

#[test]
fn on_a_terminal_progress_is_a_bar() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = String::from("[defaults]\nno_pfx = true\n");
    for i in 0..3 {
        plan.push_str(&format!(
            "\n[[app]]\nname = \"tty{i}\"\nsubject = \"CN=Tty {i}\"\n"
        ));
    }
    fs::write(dir.path().join("plan.toml"), plan).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_keycred"));
    command
        .args(["batch", "plan.toml", "--jobs", "1"])
        .current_dir(dir.path());
    let mut p = rexpect::session::spawn_command(command, Some(20_000)).unwrap();
    // indicatif's bar ("N/3 apps"), not the plain "[N/3]" lines used off a terminal.
    p.exp_regex(r"[0-3]/3 apps").unwrap();
    let before = p.exp_string("3 apps: 3 provisioned").unwrap();
    assert!(
        !before.contains("[1/3]"),
        "plain progress lines on a terminal: {before}"
    );
    match p.process.wait().unwrap() {
        rexpect::process::wait::WaitStatus::Exited(_, code) => assert_eq!(code, 0),
        other => panic!("{other:?}"),
    }
}

/// A batch row and a `rotate --in-place` with the same options take the same path: the same files with the same
/// modes, the same manifest and backup. Fresh keys make the new certificate's bytes differ, so the comparison
/// masks exactly what is random or time-dependent (key, thumbprint, keyId, serial, and the dates, which may not
/// fall in the same second) and compares everything else byte for byte.
#[test]
fn a_batch_row_and_rotate_with_the_same_options_write_the_same_files_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    manifest(&dir.path().join("template.json"), 10);
    let original = fs::read(dir.path().join("template.json")).unwrap();
    for side in ["rotate", "batch"] {
        fs::create_dir_all(dir.path().join(side).join("orders")).unwrap();
        fs::write(dir.path().join(side).join("app.json"), &original).unwrap();
    }
    let password = dir.path().join("pw.txt");
    fs::write(&password, "correct horse battery staple\n").unwrap();

    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(dir.path().join("rotate/app.json"))
        .args(["--subject", "CN=Orders Daemon,O=Contoso", "--out"])
        .arg(dir.path().join("rotate/orders"))
        .args([
            "--name",
            "orders",
            "--days",
            "180",
            "--key-size",
            "2048",
            "--hash",
            "sha384",
            "--pfx-profile",
            "legacy",
            "--renew-within",
            "45",
            "--prune-expired",
            "--keep",
            "3",
            "--in-place",
            "--password-file",
        ])
        .arg(&password)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let plan = dir.path().join("batch/plan.toml");
    fs::write(
        &plan,
        "[[app]]\nname = \"orders\"\nsubject = \"CN=Orders Daemon,O=Contoso\"\nmanifest = \"app.json\"\n\
         days = 180\nkey_size = 2048\nhash = \"sha384\"\npfx_profile = \"legacy\"\nrenew_within = 45\n\
         prune_expired = true\nkeep = 3\n",
    )
    .unwrap();
    let out = keycred()
        .arg("batch")
        .arg(&plan)
        .arg("--password-file")
        .arg(&password)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The same files, with the same modes.
    let listing = |side: &str| -> Vec<(String, u32)> {
        let folder = dir.path().join(side).join("orders");
        names_in(&folder)
            .into_iter()
            .map(|n| {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = fs::metadata(folder.join(&n)).unwrap().permissions().mode() & 0o777;
                (n, mode)
            })
            .collect()
    };
    assert_eq!(listing("rotate"), listing("batch"));
    assert_eq!(
        names_in(&dir.path().join("rotate")),
        names_in(&dir.path().join("batch"))
            .into_iter()
            .filter(|n| n != "plan.toml")
            .collect::<Vec<_>>()
    );
    // The same backup, byte for byte.
    assert_eq!(
        fs::read(dir.path().join("rotate/app.json.bak")).unwrap(),
        fs::read(dir.path().join("batch/app.json.bak")).unwrap()
    );
    // The same manifest and fragment but for what is random.
    let mask = |path: &std::path::Path| -> String {
        let mut value: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
        for entry in value["keyCredentials"].as_array_mut().unwrap() {
            if entry["displayName"] == "CN=Orders Daemon, O=Contoso" {
                for field in [
                    "customKeyIdentifier",
                    "key",
                    "keyId",
                    "startDateTime",
                    "endDateTime",
                ] {
                    entry[field] = json!("(random)");
                }
            }
        }
        serde_json::to_string_pretty(&value).unwrap()
    };
    // Rotated files are named after the certificate's start date, never the current credential's names.
    let fragment = |side: &str| {
        rotated_file(
            &dir.path().join(side).join("orders"),
            "orders",
            ".keycredentials.json",
        )
    };
    assert_eq!(
        mask(&dir.path().join("rotate/app.json")),
        mask(&dir.path().join("batch/app.json"))
    );
    assert_eq!(mask(&fragment("rotate")), mask(&fragment("batch")));
    // The same certificate profile, as `inspect` reads it.
    let profile = |side: &str| -> Value {
        let out = keycred()
            .args(["inspect", "--json"])
            .arg(rotated_file(
                &dir.path().join(side).join("orders"),
                "orders",
                ".cer",
            ))
            .output()
            .unwrap();
        let mut cert = json(&out)[0]["certificates"][0].clone();
        for field in ["serial", "thumbprints", "notBefore", "notAfter", "daysLeft"] {
            cert[field] = json!("(random)");
        }
        cert
    };
    assert_eq!(profile("rotate"), profile("batch"));
}
