//! `keycred wizard`, driven through a pseudo-terminal as a person would: every path, a rejected and corrected
//! role value, cancellation, the non-terminal refusal, and the printed equivalent commands producing the same
//! fragments as the wizard did.

use std::fs;
use std::path::Path;

use rexpect::session::{spawn_command, PtySession};
use serde_json::Value;

use crate::common::*;

const ENTER: &str = "\r";
const DOWN: &str = "\x1b[B";
const ESC: &str = "\x1b";

fn spawn(dir: &Path) -> PtySession {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_keycred"));
    command
        .arg("wizard")
        .current_dir(dir)
        .env_remove("KEYCRED_PFX_PASSWORD")
        .env("TERM", "xterm");
    spawn_command(command, Some(20_000)).expect("the wizard starts in a pty")
}

/// Waits for `prompt`, then types `keys` and Enter.
fn answer(p: &mut PtySession, prompt: &str, keys: &str) {
    p.exp_string(prompt)
        .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
    p.send(keys).unwrap();
    p.send(ENTER).unwrap();
    p.flush().unwrap();
}

/// Waits for a yes/no question and presses `key` (y or n), which answers it without Enter.
fn confirm(p: &mut PtySession, prompt: &str, key: &str) {
    p.exp_string(prompt)
        .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
    p.send(key).unwrap();
    p.flush().unwrap();
}

/// Waits for a menu and picks the item `n` steps below the default.
fn choose(p: &mut PtySession, prompt: &str, n: usize) {
    answer(p, prompt, &DOWN.repeat(n));
}

/// The equivalent command the wizard prints last, starting with `prefix` (plain words), after checking that it
/// exited with 0.
fn printed_command(p: &mut PtySession, prefix: &str) -> String {
    p.exp_string("The same run without the wizard").unwrap();
    let line = p.exp_regex(&format!("{prefix} [^\\r\\n]+")).unwrap().1;
    assert_eq!(exit_code(p), 0);
    line
}

fn exit_code(p: &mut PtySession) -> i32 {
    match p.process.wait().unwrap() {
        rexpect::process::wait::WaitStatus::Exited(_, code) => code,
        other => panic!("the wizard did not exit normally: {other:?}"),
    }
}

#[test]
fn credential_path_writes_what_new_writes() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("taken.cer"), "x").unwrap();
    let mut p = spawn(dir.path());
    choose(&mut p, "What do you want to prepare?", 0);
    answer(&mut p, "Output folder", "");
    answer(&mut p, "Certificate subject", "CN=Wizard Daemon,O=Contoso");
    choose(&mut p, "Where does the certificate come from?", 0);
    answer(&mut p, "Validity in days", "90");
    choose(&mut p, "RSA key size", 0);
    choose(&mut p, "PFX file", 0);
    choose(&mut p, "PFX password", 0);
    choose(&mut p, "fragment format", 0);
    // Errors at a prompt speak the prompt's language, not the command line's flags.
    answer(&mut p, "Base name for the files", "../up");
    let (_, said) = p.exp_regex(r"the name [^\r\n]+").unwrap();
    assert!(
        said.contains("the name \"../up\" contains a path separator") && !said.contains("--"),
        "{said}"
    );
    answer(&mut p, "Base name for the files", "taken");
    let (_, said) = p.exp_regex(r"taken\.cer[^\r\n]+").unwrap();
    assert!(
        said.contains("already exists")
            && said.contains("choose another name")
            && !said.contains("--"),
        "{said}"
    );
    answer(&mut p, "Base name for the files", "");
    // Everything the certificate will be, before the question.
    p.exp_string("subject       CN=Wizard Daemon, O=Contoso")
        .unwrap();
    p.exp_string("validity      90 days from now").unwrap();
    p.exp_string("key           RSA 2048").unwrap();
    p.exp_string("PFX           modern profile, generated password")
        .unwrap();
    confirm(&mut p, "Write these files?", "y");
    let line = printed_command(&mut p, "keycred new");
    assert_eq!(
        line,
        "keycred new --subject 'CN=Wizard Daemon,O=Contoso' --out . --name wizard-daemon --days 90 --key-size 2048 --pfx-profile modern --generate-password --format graph"
    );
    assert_eq!(
        fs::read(dir.path().join("taken.cer")).unwrap(),
        b"x",
        "untouched"
    );
    fs::remove_file(dir.path().join("taken.cer")).unwrap();
    assert_eq!(
        names_in(dir.path()),
        [
            "wizard-daemon.cer",
            "wizard-daemon.key",
            "wizard-daemon.keycredentials.json",
            "wizard-daemon.pem",
            "wizard-daemon.pfx",
            "wizard-daemon.pfx.password"
        ]
    );
}

/// Runs a printed command line in `dir`, with `keycred` meaning the binary under test.
fn run_printed(line: &str, dir: &Path) {
    let command = line.replacen("keycred", env!("CARGO_BIN_EXE_keycred"), 1);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .current_dir(dir)
        .env_remove("KEYCRED_PFX_PASSWORD")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fragment without what must differ between runs (ids, key material, times).
fn comparable(doc: &Value) -> Value {
    match doc {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "id" | "keyId"
                            | "key"
                            | "customKeyIdentifier"
                            | "startDateTime"
                            | "endDateTime"
                    )
                })
                .map(|(k, v)| (k.clone(), comparable(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(comparable).collect()),
        other => other.clone(),
    }
}

#[test]
fn both_path_with_a_corrected_role_and_its_equivalent_commands_agree() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path());
    choose(&mut p, "What do you want to prepare?", 2);
    answer(&mut p, "Output folder", "");
    answer(&mut p, "Certificate subject", "Orders Daemon");
    choose(&mut p, "Where does the certificate come from?", 0);
    answer(&mut p, "Validity in days", "");
    choose(&mut p, "RSA key size", 1);
    choose(&mut p, "PFX file", 2);
    choose(&mut p, "fragment format", 0);
    answer(&mut p, "Base name for the files", "orders");
    choose(&mut p, "App roles", 1);
    answer(&mut p, "Role value", "Orders Read");
    p.exp_string("value contains whitespace").unwrap();
    answer(&mut p, "Role value", ".Orders");
    p.exp_string("must not start with '.'").unwrap();
    answer(&mut p, "Role value", "Orders.Read");
    choose(&mut p, "Who can hold it", 0);
    answer(&mut p, "Display name", "Read orders");
    answer(&mut p, "Description", "");
    confirm(&mut p, "Add another role?", "y");
    answer(&mut p, "Role value", "orders.read");
    p.exp_string("value is not unique").unwrap();
    answer(&mut p, "Role value", "Orders.Admin");
    choose(&mut p, "Who can hold it", 2);
    answer(&mut p, "Display name", "");
    answer(&mut p, "Description", "Administer orders: everything.");
    confirm(&mut p, "Add another role?", "n");
    answer(&mut p, "Identifier URI", "api://orders/");
    p.exp_string("must not end with '/'").unwrap();
    answer(&mut p, "Identifier URI", "api://orders");
    confirm(&mut p, "requiredResourceAccess?", "y");
    answer(&mut p, "appId (client id)", "not-a-guid");
    p.exp_string("is not a GUID").unwrap();
    answer(
        &mut p,
        "appId (client id)",
        "11111111-2222-3333-4444-555555555555",
    );
    // The format was asked once, for the credential; the summary says which file goes on which app.
    p.exp_string("goes on the resource (API) app").unwrap();
    p.exp_string("goes on the client (daemon) app").unwrap();
    confirm(&mut p, "Write these files?", "y");
    // Next steps in the order Entra needs them: roles on the API app, the client's permission, consent, then
    // the certificate.
    p.exp_string("On the resource (API) app: add the appRoles")
        .unwrap();
    p.exp_string("On the client (daemon) app: add the requiredResourceAccess")
        .unwrap();
    p.exp_string("Grant admin consent").unwrap();
    p.exp_string("On the client (daemon) app: upload").unwrap();
    p.exp_string("The same run without the wizard:").unwrap();
    let new_line = p.exp_regex(r"keycred new [^\r\n]+").unwrap().1;
    let roles_line = p
        .exp_regex(r"keycred manifest app-roles [^\r\n]+")
        .unwrap()
        .1;
    assert_eq!(exit_code(&mut p), 0);

    let roles = read_json(&dir.path().join("orders.approles.json"));
    let values: Vec<&str> = roles["appRoles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["Orders.Read", "Orders.Admin"]);
    assert_eq!(
        roles["appRoles"][1]["description"],
        "Administer orders: everything."
    );
    assert_eq!(
        roles["appRoles"][0]["description"],
        "Grants applications the Orders.Read role."
    );
    assert_eq!(roles["identifierUris"][0], "api://orders");
    let client = read_json(&dir.path().join("orders.client.json"));
    assert_eq!(
        client["requiredResourceAccess"][0]["resourceAccess"][0]["id"],
        roles["appRoles"][0]["id"]
    );
    assert!(
        !dir.path().join("orders.pfx").exists(),
        "no PFX was asked for"
    );

    // The printed commands, run without the wizard, produce the same fragments; the roles and the client's
    // request byte for byte (the ids are stable, derived from the identifier URI), so a client configured from
    // the wizard's run points at the roles a rerun of the command writes.
    let again = tempfile::tempdir().unwrap();
    run_printed(&new_line, again.path());
    run_printed(&roles_line, again.path());
    for name in ["orders.approles.json", "orders.client.json"] {
        assert_eq!(
            std::fs::read(again.path().join(name)).unwrap(),
            std::fs::read(dir.path().join(name)).unwrap(),
            "{name}: byte for byte"
        );
    }
    for name in [
        "orders.keycredentials.json",
        "orders.approles.json",
        "orders.client.json",
    ] {
        assert_eq!(
            comparable(&read_json(&again.path().join(name))),
            comparable(&read_json(&dir.path().join(name))),
            "{name}"
        );
    }
    let validity = |doc: &Value| {
        let at = |k: &str| {
            time::OffsetDateTime::parse(
                doc["keyCredentials"][0][k].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap()
        };
        (at("endDateTime") - at("startDateTime")).whole_days()
    };
    assert_eq!(
        validity(&read_json(&again.path().join("orders.keycredentials.json"))),
        365
    );
    assert_eq!(
        validity(&read_json(&dir.path().join("orders.keycredentials.json"))),
        365
    );
    assert_eq!(
        names_in(again.path()),
        names_in(dir.path()),
        "the same files"
    );
}

#[test]
fn template_roles_path_and_typed_password() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path());
    choose(&mut p, "What do you want to prepare?", 1);
    // A folder that does not exist yet is accepted, and created when the files are written.
    answer(&mut p, "Output folder", "roles-out");
    choose(&mut p, "App roles", 0);
    choose(&mut p, "Template", 0);
    answer(&mut p, "Identifier URI", "");
    confirm(&mut p, "requiredResourceAccess?", "n");
    choose(&mut p, "Manifest format", 1);
    confirm(&mut p, "Write these files?", "y");
    let line = p
        .exp_regex(r"keycred manifest app-roles [^\r\n]+")
        .unwrap()
        .1;
    assert_eq!(exit_code(&mut p), 0);
    // Without an identifier URI the wizard picks a namespace for stable ids and prints it, so the command
    // reproduces the file byte for byte.
    let namespace = line
        .strip_prefix("keycred manifest app-roles --template read-write --stable-ids ")
        .and_then(|rest| rest.strip_suffix(" --format legacy --out roles-out/api.approles.json"))
        .unwrap_or_else(|| panic!("{line}"));
    uuid::Uuid::parse_str(namespace).unwrap();
    assert_eq!(
        names_in(&dir.path().join("roles-out")),
        ["api.approles.json"]
    );
    let again = tempfile::tempdir().unwrap();
    run_printed(&line, again.path());
    assert_eq!(
        std::fs::read(again.path().join("roles-out/api.approles.json")).unwrap(),
        std::fs::read(dir.path().join("roles-out/api.approles.json")).unwrap()
    );

    // A typed password: hidden, confirmed (a mismatch is asked again), and the PFX opens with it.
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path());
    choose(&mut p, "What do you want to prepare?", 0);
    answer(&mut p, "Output folder", "");
    answer(&mut p, "Certificate subject", "Typed");
    choose(&mut p, "Where does the certificate come from?", 0);
    answer(&mut p, "Validity in days", "");
    choose(&mut p, "RSA key size", 0);
    choose(&mut p, "PFX file", 1);
    choose(&mut p, "PFX password", 1);
    answer(&mut p, "PFX password (hidden)", "first-try");
    answer(&mut p, "Repeat the password", "typo");
    p.exp_string("do not match").unwrap();
    answer(&mut p, "PFX password (hidden)", "s3cret-typed");
    answer(&mut p, "Repeat the password", "s3cret-typed");
    choose(&mut p, "fragment format", 0);
    answer(&mut p, "Base name for the files", "");
    confirm(&mut p, "Write these files?", "y");
    let line = p.exp_regex(r"keycred new [^\r\n]+").unwrap().1;
    assert_eq!(exit_code(&mut p), 0);
    assert!(
        line.contains("--pfx-profile legacy --password-file PASSWORD_FILE"),
        "{line}"
    );
    assert!(!line.contains("s3cret"), "no secret in the printed command");
    keycred()
        .env("KEYCRED_PFX_PASSWORD", "s3cret-typed")
        .arg("inspect")
        .arg(dir.path().join("typed.pfx"))
        .assert()
        .success();
}

#[test]
fn rotation_path_updates_the_manifest_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("app.json");
    fs::copy(fixture("manifest-legacy.json"), &manifest).unwrap();
    let mut p = spawn(dir.path());
    choose(&mut p, "What do you want to prepare?", 3);
    answer(&mut p, "App manifest to rotate", "missing.json");
    p.exp_string("missing.json: it does not exist").unwrap();
    answer(&mut p, "App manifest to rotate", "app.json");
    // The current credentials are shown before the prune question.
    p.exp_string("The manifest's certificate credentials now:")
        .unwrap();
    p.exp_string("572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969")
        .unwrap();
    confirm(&mut p, "Remove credentials that have expired?", "y");
    confirm(&mut p, "in place", "y");
    answer(&mut p, "Output folder", "");
    // The subject defaults to the current credential's.
    answer(
        &mut p,
        "Certificate subject (a name, or CN=...,O=...) [CN=Fixture Daemon, O=Contoso Test]",
        "",
    );
    choose(&mut p, "Where does the certificate come from?", 0);
    answer(&mut p, "Validity in days", "");
    choose(&mut p, "RSA key size", 0);
    choose(&mut p, "PFX file", 2);
    // No format question: the manifest fixes it.
    answer(&mut p, "Base name for the files", "next");
    // The diff is shown before anything is written, then confirmed.
    p.exp_string("dry run: nothing written").unwrap();
    p.exp_string("+ add").unwrap();
    // No thumbprint or keyId before the certificate exists: what the admin confirms is what is written.
    let preview = p.exp_string("Summary: keycred will write").unwrap();
    assert!(
        preview.contains("a new certificate, made when run without --dry-run")
            && !preview.split_whitespace().any(|w| w.len() == 40
                && w.bytes().all(|b| b.is_ascii_hexdigit())
                && w != "572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969"),
        "{preview}"
    );
    // The summary names the files as the rotation will write them: dated, never the current credential's names.
    let planned = p.exp_regex(r"next-\d{8}\.cer").unwrap().1;
    confirm(&mut p, "Write these files?", "y");
    p.exp_string("+ add").unwrap();
    // One advice for the credential the new one replaces, not two that disagree.
    let done = p.exp_string("The same run without the wizard").unwrap();
    assert_eq!(
        done.matches("--remove-key-id").count() + done.matches("prune the old one").count(),
        1,
        "{done}"
    );
    let line = p
        .exp_regex("keycred rotate --manifest [^\\r\\n]+")
        .unwrap()
        .1;
    assert_eq!(exit_code(&mut p), 0);
    assert!(
        line.contains("--manifest app.json") && line.contains("--prune-expired --in-place"),
        "{line}"
    );
    let doc = read_json(&manifest);
    assert_eq!(doc["keyCredentials"].as_array().unwrap().len(), 2);
    assert!(dir.path().join("app.json.bak").exists());
    assert_eq!(
        rotated_file(dir.path(), "next", ".cer"),
        dir.path().join(&planned),
        "written as planned"
    );
}

#[test]
fn cancelling_anywhere_writes_nothing_and_exits_130() {
    // Esc at the first menu.
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path());
    p.exp_string("What do you want to prepare?").unwrap();
    p.send(ESC).unwrap();
    p.flush().unwrap();
    p.exp_string("cancelled: nothing was written").unwrap();
    assert_eq!(exit_code(&mut p), 130);

    // Esc at a text prompt.
    let mut p = spawn(dir.path());
    choose(&mut p, "What do you want to prepare?", 0);
    answer(&mut p, "Output folder", "");
    p.exp_string("Certificate subject").unwrap();
    p.send("half typed").unwrap();
    p.send(ESC).unwrap();
    p.flush().unwrap();
    assert_eq!(exit_code(&mut p), 130);

    // Ctrl-C at a text prompt, after several answers.
    let mut p = spawn(dir.path());
    choose(&mut p, "What do you want to prepare?", 0);
    answer(&mut p, "Output folder", "");
    answer(&mut p, "Certificate subject", "Cancelled");
    choose(&mut p, "Where does the certificate come from?", 0);
    p.exp_string("Validity in days").unwrap();
    p.send_control('c').unwrap();
    assert_eq!(exit_code(&mut p), 130);

    // "No" at the summary.
    let mut p = spawn(dir.path());
    choose(&mut p, "What do you want to prepare?", 0);
    answer(&mut p, "Output folder", "");
    answer(&mut p, "Certificate subject", "Declined");
    choose(&mut p, "Where does the certificate come from?", 0);
    answer(&mut p, "Validity in days", "");
    choose(&mut p, "RSA key size", 0);
    choose(&mut p, "PFX file", 2);
    choose(&mut p, "fragment format", 0);
    answer(&mut p, "Base name for the files", "");
    confirm(&mut p, "Write these files?", "n");
    assert_eq!(exit_code(&mut p), 130);

    assert!(
        names_in(dir.path()).is_empty(),
        "nothing was written: {:?}",
        names_in(dir.path())
    );
}

#[test]
fn off_a_terminal_it_names_the_commands_to_use() {
    let out = keycred().arg("wizard").output().unwrap();
    assert_fails(&out, 2, "needs a terminal");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("keycred new --subject") && stderr.contains("keycred manifest app-roles"),
        "{stderr}"
    );
}

#[test]
fn a_certificate_from_the_ca_is_requested_then_finished_by_the_printed_commands() {
    let Some(ca) = crate::ca::Ca::new() else {
        return;
    };
    // A new credential from the CA: the key and the request, no validity or PFX question.
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path());
    choose(&mut p, "What do you want to prepare?", 0);
    answer(&mut p, "Output folder", "");
    answer(&mut p, "Certificate subject", "CN=CA Daemon,O=Contoso");
    choose(&mut p, "Where does the certificate come from?", 1);
    choose(&mut p, "RSA key size", 0);
    answer(&mut p, "Base name for the files", "");
    p.exp_string("from your CA").unwrap();
    confirm(&mut p, "Write these files?", "y");
    p.exp_string("Send ").unwrap();
    p.exp_string("keycred import --cert ISSUED.cer").unwrap();
    let line = printed_command(&mut p, "keycred csr");
    assert_eq!(
        line,
        "keycred csr --subject 'CN=CA Daemon,O=Contoso' --out . --name ca-daemon --key-size 2048"
    );
    // The request, its key, and keycred's owner-only record that it made the key (a rotation sends the CA's answer
    // only for such a key).
    assert_eq!(
        names_in(dir.path()),
        [
            "ca-daemon.csr",
            "ca-daemon.key",
            "ca-daemon.keycred-state.json"
        ]
    );
    let verified = run_peer(
        "openssl",
        &[
            "req",
            "-verify",
            "-noout",
            "-subject",
            "-in",
            dir.path().join("ca-daemon.csr").to_str().unwrap(),
        ],
    );
    assert!(verified.contains("CN = CA Daemon"), "{verified}");

    // A rotation from the CA: the request now; the printed rotate command imports the CA's answer later.
    let manifest = due_orders_manifest(&dir.path().join("app.json"));
    let before = fs::read(&manifest).unwrap();
    let mut p = spawn(dir.path());
    choose(&mut p, "What do you want to prepare?", 3);
    answer(&mut p, "App manifest to rotate", "app.json");
    confirm(&mut p, "Remove credentials that have expired?", "n");
    confirm(&mut p, "in place", "y");
    answer(&mut p, "Output folder", "certs");
    answer(&mut p, "Certificate subject", "");
    choose(&mut p, "Where does the certificate come from?", 1);
    choose(&mut p, "RSA key size", 0);
    choose(&mut p, "PFX file", 2);
    answer(&mut p, "Base name for the files", "orders");
    p.exp_string("the certificate is requested from your CA")
        .unwrap();
    confirm(&mut p, "Write these files?", "y");
    let line = printed_command(&mut p, "keycred rotate --manifest");
    assert!(
        line.contains(" --ca") && line.contains("--in-place") && !line.contains("--days"),
        "{line}"
    );
    assert_eq!(
        fs::read(&manifest).unwrap(),
        before,
        "the request changes no manifest"
    );
    let certs = dir.path().join("certs");
    let csr = rotated_file(&certs, "orders", ".csr");
    let leaf = ca.issue(&csr, "300", "orders.leaf.pem");
    fs::copy(&leaf, csr.with_extension("issued.pem")).unwrap();
    run_printed(&line, dir.path());
    let doc = read_json(&manifest);
    assert_eq!(doc["keyCredentials"].as_array().unwrap().len(), 2, "{doc}");
    let cer = rotated_file(&certs, "orders", ".cer");
    assert_eq!(
        doc["keyCredentials"][1]["customKeyIdentifier"],
        keycred_thumbprint_base64(&cer),
    );
}

/// The certificate's SHA-1 thumbprint, base64, as Graph's customKeyIdentifier holds it.
fn keycred_thumbprint_base64(cer: &Path) -> String {
    let hex = openssl_fingerprint(cer, "DER", "sha1");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
