//! What a first-time admin tripped over (the "safe and clear for admins" issue), one test per item fixed.

use std::fs;

use serde_json::{json, Value};

use crate::common::*;

/// The same certificate gets the same keyId in every fragment: `new`'s equals `manifest key-credentials`'.
#[test]
fn key_ids_are_derived_from_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let summary = new_credential(dir.path(), &["--no-pfx"]);
    let cer = dir.path().join("daemon.cer");
    let out = keycred()
        .args(["manifest", "key-credentials"])
        .arg(&cer)
        .output()
        .unwrap();
    let fragment = json(&out);
    assert_eq!(fragment["keyCredentials"][0]["keyId"], summary["keyId"]);
    let written: Value =
        serde_json::from_slice(&fs::read(dir.path().join("daemon.keycredentials.json")).unwrap())
            .unwrap();
    assert_eq!(written["keyCredentials"][0]["keyId"], summary["keyId"]);
    let again = json(
        &keycred()
            .args(["manifest", "key-credentials"])
            .arg(&cer)
            .output()
            .unwrap(),
    );
    assert_eq!(again, fragment, "the same certificate, the same fragment");
}

/// Every place that offers a fragment says to add it beside the existing credentials, and how.
#[test]
fn fragments_come_with_the_advice_not_to_paste_over_live_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let out = keycred()
        .args([
            "new",
            "-s",
            "CN=Advice",
            "--no-pfx",
            "--name",
            "advice",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("beside the app's existing ones, never over them")
            && text.contains(&format!(
                "keycred rotate --cert {} --manifest app.json",
                dir.path().join("advice.cer").display()
            )),
        "{text}"
    );
    let out = keycred()
        .args(["manifest", "key-credentials", "--fragment"])
        .arg(dir.path().join("advice.cer"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("add these entries beside the app's existing keyCredentials"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let help = keycred()
        .args(["manifest", "key-credentials", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("beside the existing ones"));
}

/// `rotate` renews only when due (30 days, like batch), so a scheduled job does not pile credentials up;
/// `--force-renewal` renews anyway; `renewalDue` tells the truth.
#[test]
fn rotate_renews_only_when_due_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = ManifestBuilder::fields(json!({"api": {}}))
        .credentials(vec![key_credential(
            "00000000-0000-4000-8000-000000000001",
            "CN=Orders",
            -1,
            364,
        )])
        .write(&dir.path().join("app.json"));
    let rotate = |extra: &[&str]| {
        keycred()
            .args(["rotate", "--manifest"])
            .arg(&manifest)
            .args([
                "--subject",
                "CN=Orders",
                "--no-pfx",
                "--in-place",
                "--json",
                "--out",
            ])
            .arg(dir.path())
            .args(extra)
            .output()
            .unwrap()
    };
    let before = fs::read(&manifest).unwrap();
    let summary = json(&rotate(&[]));
    assert_eq!(summary["renewalDue"], false, "364 days left is not due");
    assert_eq!(summary["changed"], false);
    assert_eq!(fs::read(&manifest).unwrap(), before);
    assert!(
        !dir.path().join("orders.cer").exists(),
        "no certificate made"
    );

    let summary = json(&rotate(&["--force-renewal"]));
    assert_eq!(summary["changed"], true);
    assert!(summary["added"]["keyId"].is_string());
    let out = rotate(&["--force-renewal", "--renew-within", "10"]);
    assert_fails(&out, 2, "cannot be used with");
}

/// `--form` accepts the labels `thumbprint` prints.
#[test]
fn thumbprint_forms_accept_the_printed_labels() {
    let cert = fixture("openssl-rsa.cer");
    let form = |name: &str| {
        let out = keycred()
            .args(["thumbprint", "--form", name])
            .arg(&cert)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for (label, canonical) in [
        ("sha1", "hex"),
        ("sha1Base64", "base64"),
        ("sha256", "sha256-hex"),
        ("x5t#S256", "x5t-s256"),
    ] {
        assert_eq!(form(label), form(canonical), "{label}");
    }
    assert_eq!(
        form("sha1").trim(),
        "572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969"
    );
}

/// `rotate` takes the subject of the manifest's newest credential when `--subject` is not given, lists the
/// files it wrote with what to do next, and its JSON carries keyIds as values, not labels.
#[test]
fn rotate_defaults_the_subject_lists_its_files_and_says_what_next() {
    let dir = tempfile::tempdir().unwrap();
    let credential = |key_id: &str, name: &str, end: i64| key_credential(key_id, name, -300, end);
    let manifest = ManifestBuilder::fields(json!({"api": {}}))
        .credentials(vec![
            credential("00000000-0000-4000-8000-000000000001", "CN=Old Name", -5),
            credential(
                "00000000-0000-4000-8000-000000000002",
                "CN=Orders Daemon, O=Contoso",
                10,
            ),
        ])
        .write(&dir.path().join("app.json"));
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(&manifest)
        .args(["--no-pfx", "--in-place", "--prune-expired", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("CN=Orders Daemon, O=Contoso"), "{text}");
    let cer = rotated_file(dir.path(), "orders-daemon", ".cer");
    let cer_name = cer.file_name().unwrap().to_str().unwrap();
    for expected in [
        "files\n",
        cer_name,
        "app.json.bak",
        "the manifest as it was before this run",
        "next: apply ",
        // --no-pfx: the key file is the only copy, and the advice says so (never "delete the .key").
        "is the unencrypted private key and no PFX holds it",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }

    // JSON: kept and removed credentials by position and keyId; file roles in camelCase.
    let summary = json(
        &keycred()
            .args(["rotate", "--manifest"])
            .arg(&manifest)
            .args([
                "--no-pfx",
                "--dry-run",
                "--json",
                "--force-renewal",
                "--name",
                "dry",
                "--keep",
                "1",
                "--out",
            ])
            .arg(dir.path())
            .output()
            .unwrap(),
    );
    assert_eq!(summary["removed"][0]["index"], 0);
    assert_eq!(
        summary["removed"][0]["keyId"],
        "00000000-0000-4000-8000-000000000002"
    );
    assert!(summary["removed"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("--keep 1"));
    let other = tempfile::tempdir().unwrap();
    let made = new_credential(other.path(), &["--no-pfx"]);
    assert!(made["files"]["keyCredentials"].is_string(), "{made}");
    assert!(made["files"].get("key-credentials").is_none());

    // No subject anywhere to reuse: a usage error naming the flag.
    let bare = ManifestBuilder::fields(json!({"api": {}}))
        .credentials(vec![credential(
            "00000000-0000-4000-8000-000000000003",
            "not a DN",
            10,
        )])
        .write(&dir.path().join("bare.json"));
    let out = keycred()
        .args(["rotate", "--manifest"])
        .arg(&bare)
        .args(["--no-pfx", "--in-place", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_fails(&out, 2, "give --subject");
}

/// Shell completions from the same clap definition (bash's checked by bash itself) and the man page.
#[test]
fn completions_for_every_shell_and_a_man_page() {
    let run = |args: &[&str]| {
        let out = keycred().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let bash = run(&["completions", "bash"]);
    assert!(
        bash.contains("_keycred()") && bash.contains("assertion"),
        "bash"
    );
    if peer_available("bash", &["--version"]) {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("keycred.bash");
        fs::write(&script, &bash).unwrap();
        run_peer("bash", &["-n", script.to_str().unwrap()]);
        // Sourced, it registers the completion function for keycred.
        let registered = run_peer(
            "bash",
            &[
                "-c",
                &format!("source {} && complete -p keycred", script.display()),
            ],
        );
        assert!(registered.contains("_keycred"), "{registered}");
    }
    assert!(run(&["completions", "zsh"]).starts_with("#compdef keycred"));
    assert!(run(&["completions", "fish"]).contains("complete -c keycred"));
    assert!(run(&["completions", "powershell"]).contains("Register-ArgumentCompleter"));
    let man = run(&["man"]);
    assert!(man.contains(".TH keycred 1"), "{man}");
    for command in [
        "new",
        "rotate",
        "assertion",
        "token",
        "decode",
        "completions",
    ] {
        assert!(man.contains(command), "{command} in the man page");
    }
}

/// `batch --json`: the report on standard output, the same as the `--report` file.
#[test]
fn batch_json_prints_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    fs::write(
        &plan,
        "[defaults]\nout = \"certs\"\nno_pfx = true\n\n[[app]]\nname = \"a\"\nsubject = \"CN=A\"\npem_bundle = true\n\n[[app]]\nname = \"b\"\nsubject = \"CN=B\"\n",
    )
    .unwrap();
    let report = dir.path().join("report.json");
    let out = keycred()
        .arg("batch")
        .arg(&plan)
        .args(["--json", "--report"])
        .arg(&report)
        .output()
        .unwrap();
    let doc = json(&out);
    assert_eq!(doc["counts"]["provisioned"], 2);
    assert_eq!(doc["apps"][1]["name"], "b");
    let file: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    assert_eq!(file, doc);
    // A plan can ask for the PEM bundle per app.
    assert!(dir.path().join("certs/a/a.bundle.pem").exists());
    assert!(!dir.path().join("certs/b/b.bundle.pem").exists());
}

/// What users of az and step type works: --end-date, durations, --years; --out-pfx explains itself.
#[test]
fn validity_as_az_and_step_spell_it() {
    let dir = tempfile::tempdir().unwrap();
    let validity = |args: &[&str]| -> i64 {
        let out = keycred()
            .args([
                "new",
                "-s",
                "X",
                "--no-pfx",
                "--json",
                "--name",
                &format!("n{}", args.join("").len()),
                "--out",
            ])
            .arg(dir.path().join(args.join("_").replace(['-', ':'], "")))
            .args(args)
            .output()
            .unwrap();
        let doc = json(&out);
        let parse = |k: &str| {
            time::OffsetDateTime::parse(
                doc[k].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap()
        };
        (parse("notAfter") - parse("notBefore")).whole_days()
    };
    assert_eq!(validity(&["--not-after", "90d"]), 90);
    assert_eq!(validity(&["--not-after", "2160h"]), 90);
    assert_eq!(validity(&["--years", "1"]), 365);
    assert_eq!(validity(&["--days", "30"]), 30);
    let out = keycred()
        .args([
            "new",
            "-s",
            "X",
            "--no-pfx",
            "--json",
            "--end-date",
            "2030-01-01",
            "--out",
        ])
        .arg(dir.path().join("az"))
        .output()
        .unwrap();
    assert_eq!(json(&out)["notAfter"], "2030-01-01T23:59:59Z");
    let out = keycred()
        .args(["new", "-s", "X", "--out-pfx", "x.pfx"])
        .output()
        .unwrap();
    assert_fails(
        &out,
        2,
        "the PFX is written as NAME.pfx in the --out folder",
    );
}

/// Secrets: --no-key keeps the private key only in the PFX, a short password is warned about, and `new` ends
/// with what to do with each secret file.
#[test]
fn secrets_do_not_pile_up_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str], env: Option<&str>| {
        let mut cmd = keycred();
        cmd.args(["new", "-s", "CN=Secrets", "--out"])
            .arg(dir.path())
            .args(extra);
        if let Some(password) = env {
            cmd.env("KEYCRED_PFX_PASSWORD", password);
        }
        cmd.output().unwrap()
    };
    let out = run(
        &["--name", "nokey", "--no-key"],
        Some("correct horse battery staple"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.path().join("nokey.key").exists());
    assert!(dir.path().join("nokey.pfx").exists());
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "a long password: no warning"
    );

    let out = run(&["--name", "short"], Some("abc"));
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the PFX password has 3 characters") && stderr.contains("at least 12"),
        "{stderr}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("secrets: import")
            && text.contains("short.key")
            && text.contains("then delete"),
        "{text}"
    );
    // As a word: random thumbprints and serials may hold the letters "abc" by chance.
    assert!(
        !text
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| word == "abc"),
        "the password is never printed"
    );

    let out = run(&["--name", "nowhere", "--no-key", "--no-pfx"], None);
    assert_fails(&out, 2, "would keep the private key nowhere");
}

/// Smaller things: no raw "(os error N)" endings, no --name advice where there is no --name, a plan's missing
/// manifest found before any app runs, and Unicode names kept readable.
#[test]
fn clearer_messages_and_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = keycred()
        .args(["inspect", "/nonexistent/cert.pem"])
        .output()
        .unwrap();
    assert_fails(&out, 1, "/nonexistent/cert.pem: it does not exist");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("os error"));

    let existing = dir.path().join("out.json");
    fs::write(&existing, "{}").unwrap();
    let out = keycred()
        .args(["manifest", "key-credentials", "--out"])
        .arg(&existing)
        .arg(fixture("openssl-rsa.cer"))
        .output()
        .unwrap();
    assert_fails(&out, 1, "already exists");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("--name"));

    let plan = dir.path().join("plan.toml");
    fs::write(
        &plan,
        "[[app]]\nname = \"ok\"\nsubject = \"CN=Ok\"\nno_pfx = true\n\n[[app]]\nname = \"typo\"\nsubject = \"CN=T\"\nmanifest = \"manifests/tpyo.json\"\n",
    )
    .unwrap();
    let out = keycred().arg("batch").arg(&plan).output().unwrap();
    assert_fails(&out, 1, "line 7, app \"typo\": manifest");
    assert!(!dir.path().join("ok").exists(), "nothing ran");

    let out = keycred()
        .args(["new", "-s", "CN=Ünïcode Dæmon", "--no-pfx", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        dir.path().join("ünïcode-dæmon.cer").exists(),
        "{:?}",
        names_in(dir.path())
    );
}

/// Every subcommand's --help has an example, and no example is wrapped mid-command: a line that goes on ends in
/// `\` and the next is indented, so pasting the first line never runs a different command. Defaults are shown.
#[test]
fn every_help_has_an_unbroken_example() {
    let commands: [&[&str]; 17] = [
        &["new"],
        &["inspect"],
        &["thumbprint"],
        &["manifest", "key-credentials"],
        &["manifest", "app-roles"],
        &["templates"],
        &["check"],
        &["rotate"],
        &["wizard"],
        &["batch"],
        &["graph", "add-key"],
        &["graph", "remove-key"],
        &["assertion"],
        &["token"],
        &["decode"],
        &["completions"],
        &["man"],
    ];
    for command in commands {
        let out = keycred().args(command).arg("--help").output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        let start = help
            .find("Example")
            .unwrap_or_else(|| panic!("{command:?} --help has no example:\n{help}"));
        let lines: Vec<&str> = help[start..].lines().skip(1).collect();
        let mut continued = false;
        for (i, line) in lines.iter().enumerate() {
            if continued {
                assert!(
                    line.starts_with("    "),
                    "{command:?}: a continuation is indented: {line:?}"
                );
            } else if !line.is_empty() && !line.starts_with("  keycred") {
                // Only example lines (and what follows a `\`) belong to an example block.
                assert!(
                    lines[..i]
                        .last()
                        .is_none_or(|prev| prev.is_empty() || !prev.starts_with("  keycred")),
                    "{command:?}: {line:?} looks like a wrapped piece of the example above it"
                );
            }
            continued = line.ends_with('\\');
        }
    }
    let help = keycred().args(["new", "--help"]).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("default 365"), "{help}");
    assert!(help.contains("[default: 2048]"), "{help}");
}

/// Role ids are stable whenever the API is named, and random ones are announced.
#[test]
fn role_ids_are_stable_when_the_api_is_named() {
    let run = |extra: &[&str]| {
        keycred()
            .args(["manifest", "app-roles", "--role", "Orders.Read"])
            .args(extra)
            .output()
            .unwrap()
    };
    let id = |out: &std::process::Output| json(out)["appRoles"][0]["id"].clone();
    let named = ["--identifier-uri", "api://orders"];
    assert_eq!(id(&run(&named)), id(&run(&named)));
    assert_eq!(
        id(&run(&named)),
        id(&run(&["--stable-ids", "api://orders"])),
        "the identifier URI is the namespace"
    );
    let random = run(&[]);
    assert_ne!(id(&random), id(&run(&[])));
    assert!(String::from_utf8_lossy(&random.stderr).contains("new role ids are random"));

    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("app.json");
    fs::write(
        &manifest,
        r#"{"appId": "11111111-2222-3333-4444-555555555555", "api": {}, "appRoles": []}"#,
    )
    .unwrap();
    let merged = |_: ()| {
        let out = keycred()
            .args(["manifest", "app-roles", "--role", "Orders.Read", "--merge"])
            .arg(&manifest)
            .output()
            .unwrap();
        json(&out)["appRoles"][0]["id"].clone()
    };
    assert_eq!(
        merged(()),
        merged(()),
        "the manifest's appId is the namespace"
    );
}
