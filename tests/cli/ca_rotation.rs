//! Two-phase rotation with certificates from the organisation's CA (OpenSSL 3 as the CA): the first run writes a
//! key and a request for each due app and changes nothing else; the next, once the CA's answers lie beside the
//! requests, imports them and adds the certificates.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::ca::Ca;
use crate::common::*;

/// The one file in `dir` whose name ends with `suffix`.
fn only(dir: &Path, suffix: &str) -> PathBuf {
    let found: Vec<String> = names_in(dir)
        .into_iter()
        .filter(|n| n.ends_with(suffix))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one *{suffix} in {}: {:?}",
        dir.display(),
        names_in(dir)
    );
    dir.join(&found[0])
}

/// Issues a certificate for `csr` and puts the CA's answer beside it as a PKCS#7 `.p7b` (DER) with the
/// intermediate, as AD CS web enrollment gives it.
fn answer(ca: &Ca, csr: &Path, days: &str) -> PathBuf {
    let leaf = ca.issue(
        csr,
        days,
        &format!("{}.leaf.pem", csr.file_stem().unwrap().to_str().unwrap()),
    );
    let out = csr.with_extension("issued.p7b");
    run_peer(
        "openssl",
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            leaf.to_str().unwrap(),
            "-certfile",
            ca.path("inter.pem").to_str().unwrap(),
            "-outform",
            "DER",
            "-out",
            out.to_str().unwrap(),
        ],
    );
    out
}

/// `keycred rotate --manifest MANIFEST --ca --no-pfx --name orders --out OUT EXTRA…`.
fn rotate_ca_run(manifest: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    keycred()
        .args(["rotate", "--manifest"])
        .arg(manifest)
        .args(["--ca", "--no-pfx", "--name", "orders", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// The same, `--in-place --json`: its summary.
fn rotate_ca(manifest: &Path, out: &Path, extra: &[&str]) -> serde_json::Value {
    json(&rotate_ca_run(
        manifest,
        out,
        &[&["--in-place", "--json"], extra].concat(),
    ))
}

#[test]
fn rotate_requests_then_imports_the_cas_answer() {
    let Some(ca) = Ca::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = due_orders_manifest(&dir.path().join("app.json"));
    let certs = dir.path().join("certs");
    let before = fs::read(&manifest).unwrap();

    // Phase one: a key and a request, nothing else; the subject is the current credential's.
    let first = rotate_ca(&manifest, &certs, &[]);
    assert_eq!(first["ca"]["step"], "requested", "{first}");
    assert_eq!(first["ca"]["subject"], "CN=Orders Daemon", "{first}");
    assert_eq!(first["changed"], false, "{first}");
    assert!(first["added"].is_null(), "{first}");
    assert_eq!(
        fs::read(&manifest).unwrap(),
        before,
        "the manifest is untouched"
    );
    assert!(!dir.path().join("app.json.bak").exists());
    let csr = only(&certs, ".csr");
    let key = only(&certs, ".key");
    assert_eq!(first["files"]["request"], csr.display().to_string());
    assert_eq!(first["files"]["key"], key.display().to_string());
    assert_eq!(
        fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600,
        "the key is owner-only"
    );
    // OpenSSL accepts the request, and it is for the key beside it.
    let verified = std::process::Command::new("openssl")
        .args(["req", "-verify", "-noout", "-in"])
        .arg(&csr)
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let modulus = |args: &[&str], path: &Path| {
        run_peer(
            "openssl",
            &[args, &["-noout", "-modulus", "-in", path.to_str().unwrap()]].concat(),
        )
    };
    assert_eq!(modulus(&["req"], &csr), modulus(&["rsa"], &key));

    // In between: the request waits; no second one is made.
    let waiting = rotate_ca(&manifest, &certs, &[]);
    assert_eq!(waiting["ca"]["step"], "waiting", "{waiting}");
    assert_eq!(waiting["ca"]["request"], csr.display().to_string());
    assert!(
        waiting["skipped"].as_str().unwrap().contains(".issued.cer"),
        "{waiting}"
    );
    assert_eq!(only(&certs, ".csr"), csr);
    assert_eq!(fs::read(&manifest).unwrap(), before);
    let text = stdout(&rotate_ca_run(&manifest, &certs, &["--dry-run"]));
    assert!(text.contains("waiting for your CA's answer to"), "{text}");

    // An answer that is not for the request's key (the CA signed another one) is refused: nothing is written, and
    // the request still waits.
    let stranger = dir.path().join("stranger");
    openssl_self_signed(
        &stranger.with_extension("key"),
        &stranger.with_extension("pem"),
        "/CN=Stranger",
        "30",
        &[],
    );
    let wrong = csr.with_extension("issued.pem");
    fs::copy(stranger.with_extension("pem"), &wrong).unwrap();
    let refused = rotate_ca_run(&manifest, &certs, &["--in-place"]);
    assert_fails(
        &refused,
        1,
        "none of its certificates is for the key given (CN=Stranger)",
    );
    assert_fails(&refused, 1, "issued.pem");
    assert_eq!(fs::read(&manifest).unwrap(), before);
    assert!(
        !csr.with_extension("cer").exists(),
        "no certificate file for the request"
    );
    fs::remove_file(&wrong).unwrap();

    // Phase two: the answer beside the request is imported and added beside the current credential.
    let p7b = answer(&ca, &csr, "300");
    let second = rotate_ca(&manifest, &certs, &[]);
    assert_eq!(second["ca"]["step"], "imported", "{second}");
    assert_eq!(second["ca"]["answer"], p7b.display().to_string());
    assert_eq!(
        second["ca"]["chain"],
        serde_json::json!(["CN=Contoso Issuing CA"])
    );
    assert_eq!(second["changed"], true, "{second}");
    let stem = csr.with_extension("");
    let cer = stem.with_extension("cer");
    let chain = PathBuf::from(format!("{}.chain.pem", stem.display()));
    assert_eq!(second["files"]["cer"], cer.display().to_string());
    assert_eq!(second["files"]["chain"], chain.display().to_string());
    // OpenSSL verifies the imported leaf with the written chain, and its thumbprint is the one added.
    let verify = run_peer(
        "openssl",
        &[
            "verify",
            "-CAfile",
            ca.path("root.pem").to_str().unwrap(),
            "-untrusted",
            chain.to_str().unwrap(),
            stem.with_extension("pem").to_str().unwrap(),
        ],
    );
    assert!(verify.trim().ends_with("OK"), "{verify}");
    let sha1 = openssl_fingerprint(&cer, "DER", "sha1");
    assert_eq!(
        second["added"]["thumbprints"]["sha1"]
            .as_str()
            .unwrap()
            .to_uppercase(),
        sha1,
        "{second}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    let creds = doc["keyCredentials"].as_array().unwrap();
    assert_eq!(creds.len(), 2, "beside the current one: {doc}");
    assert_eq!(creds[0]["keyId"], "0f0e0d0c-0b0a-4908-8706-050403020100");
    assert_eq!(creds[1]["keyId"], second["added"]["keyId"]);
    assert_eq!(fs::read(dir.path().join("app.json.bak")).unwrap(), before);

    // Done: the new certificate is valid for 300 days, so a third run neither requests nor adds.
    let third = rotate_ca(&manifest, &certs, &[]);
    assert!(third["ca"].is_null(), "{third}");
    assert_eq!(third["changed"], false);
    assert_eq!(only(&certs, ".csr"), csr, "no new request");
}

/// The CA's answer for every request waiting in `dir`'s folders; returns how many.
fn answer_all(ca: &Ca, dir: &Path) -> usize {
    let mut answered = 0;
    for entry in walk(dir) {
        if entry.extension().is_some_and(|e| e == "csr") {
            answer(ca, &entry, "300");
            answered += 1;
        }
    }
    answered
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// OpenSSL as the CA, and a tenant of `count` apps (`None`, skipped, when a peer is missing outside CI).
fn ca_and_tenant(count: usize) -> Option<(Ca, crate::graph::Tenant)> {
    if !crate::graph::node_ready() {
        return None;
    }
    let ca = Ca::new()?;
    let apps = crate::graph::tenant_apps(count);
    let tenant = crate::graph::Tenant::start(&apps, "Application.ReadWrite.All")?;
    Some((ca, tenant))
}

fn results(report: &serde_json::Value) -> Vec<String> {
    report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["result"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn graph_rotate_requests_for_every_due_app_then_sends_the_cas_certificates() {
    use crate::graph::{held, live_tenant, node_ready, patches, tenant_apps};
    if !node_ready() {
        return;
    }
    let Some(ca) = Ca::new() else { return };
    // The OAuth server trusts what Graph holds for each app, so --verify signs in with the CA's certificates.
    let apps = tenant_apps(4).as_array().unwrap().clone();
    let Some(tenant) = live_tenant(apps, "Application.ReadWrite.All") else {
        return;
    };
    let out = tenant.dir.path().join("certs");
    let run = |extra: &[&str]| {
        json(
            &tenant
                .keycred("rotate")
                .args([
                    "--all",
                    "--include-without-certificate",
                    "--ca",
                    "--no-pfx",
                    "--json",
                    "--out",
                ])
                .arg(&out)
                .args(extra)
                .output()
                .unwrap(),
        )
    };
    // App 0 is healthy; 1 is due, 2 expired, 3 has no certificate; the automation app (last) is healthy.
    let plan = run(&[]);
    assert_eq!(
        results(&plan),
        ["skipped", "planned", "planned", "planned", "skipped"],
        "{plan}"
    );
    assert_eq!(plan["apps"][1]["ca"]["step"], "requested", "{plan}");
    assert!(!out.exists(), "a plan writes nothing");

    // Phase one: a key and a request per due app, nothing sent.
    let first = run(&["--apply"]);
    assert_eq!(
        results(&first),
        ["skipped", "requested", "requested", "requested", "skipped"],
        "{first}"
    );
    assert!(patches(&tenant).is_empty(), "phase one sends nothing");
    for i in 1..4 {
        let folder = out.join(format!("20000000-0000-4000-8000-{i:012}"));
        assert_eq!(
            only(&folder, ".csr"),
            PathBuf::from(first["apps"][i]["files"]["request"].as_str().unwrap())
        );
        only(&folder, ".key");
    }
    assert_eq!(
        first["apps"][3]["ca"]["subject"], "CN=App 3",
        "the display name without a credential"
    );
    let waiting = run(&["--apply"]);
    assert_eq!(
        results(&waiting),
        [
            "skipped",
            "waiting for the CA",
            "waiting for the CA",
            "waiting for the CA",
            "skipped"
        ],
        "{waiting}"
    );
    assert!(patches(&tenant).is_empty());

    // Phase two: the answers are imported and sent, one PATCH per app, beside what each app holds, and each
    // app gets a token with its CA-issued certificate.
    assert_eq!(answer_all(&ca, &out), 3);
    let second = run(&["--apply", "--verify"]);
    assert_eq!(
        results(&second),
        ["skipped", "rotated", "rotated", "rotated", "skipped"],
        "{second}"
    );
    assert_eq!(patches(&tenant).len(), 3);
    for i in 1..4 {
        let app = &second["apps"][i];
        assert_eq!(app["ca"]["step"], "imported", "{app}");
        assert_eq!(app["verified"], true, "{app}");
        let held = held(&tenant, &format!("10000000-0000-4000-8000-{i:012}"));
        let new = held
            .iter()
            .find(|k| k["keyId"] == app["added"]["keyId"])
            .expect("the CA's certificate is on the app");
        use base64::Engine as _;
        let cer = fs::read(app["files"]["cer"].as_str().unwrap()).unwrap();
        assert_eq!(
            new["key"],
            base64::engine::general_purpose::STANDARD.encode(&cer)
        );
        let issuer = run_peer(
            "openssl",
            &[
                "x509",
                "-inform",
                "DER",
                "-noout",
                "-issuer",
                "-in",
                app["files"]["cer"].as_str().unwrap(),
            ],
        );
        assert!(issuer.contains("Contoso Issuing CA"), "{issuer}");
        assert_eq!(held.len(), if i == 3 { 1 } else { 2 }, "{held:?}");
    }
    // Done: nothing is due, nothing waits.
    let third = run(&["--apply"]);
    assert_eq!(results(&third), ["skipped"; 5], "{third}");
    assert_eq!(patches(&tenant).len(), 3);
}

#[test]
fn a_batch_plan_requests_for_its_due_apps_then_rotates_them() {
    let Some(ca) = Ca::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    graph_manifest(
        &manifests.join("orders.json"),
        vec![key_credential(
            "0f0e0d0c-0b0a-4908-8706-050403020100",
            "CN=Orders Daemon",
            -300,
            10,
        )],
    );
    graph_manifest(
        &manifests.join("billing.json"),
        vec![key_credential(
            "1f0e0d0c-0b0a-4908-8706-050403020100",
            "CN=Billing Daemon",
            -300,
            -1,
        )],
    );
    graph_manifest(
        &manifests.join("healthy.json"),
        vec![key_credential(
            "2f0e0d0c-0b0a-4908-8706-050403020100",
            "CN=Healthy Daemon",
            -10,
            300,
        )],
    );
    fs::write(
        dir.path().join("plan.toml"),
        "[defaults]\nout = \"certs\"\nno_pfx = true\nca = true\n\n\
         [[app]]\nname = \"orders\"\nsubject = \"CN=Orders Daemon\"\nmanifest = \"manifests/orders.json\"\n\n\
         [[app]]\nname = \"billing\"\nsubject = \"CN=Billing Daemon\"\nmanifest = \"manifests/billing.json\"\n\n\
         [[app]]\nname = \"healthy\"\nsubject = \"CN=Healthy Daemon\"\nmanifest = \"manifests/healthy.json\"\n",
    )
    .unwrap();
    let batch = |plan: &str, json_out: bool| {
        let mut cmd = keycred();
        cmd.arg("batch").arg(dir.path().join(plan));
        if json_out {
            cmd.arg("--json");
        }
        cmd.output().unwrap()
    };
    let before = fs::read(manifests.join("orders.json")).unwrap();
    let first = json(&batch("plan.toml", true));
    assert_eq!(
        results(&first),
        ["requested", "requested", "skipped"],
        "{first}"
    );
    assert_eq!(first["counts"]["requested"], 2, "{first}");
    assert_eq!(
        fs::read(manifests.join("orders.json")).unwrap(),
        before,
        "phase one leaves the manifest"
    );
    let orders = dir.path().join("certs/orders");
    only(&orders, ".csr");
    assert!(
        !dir.path().join("certs/healthy").exists(),
        "no folder for a skipped app"
    );
    let text = stdout(&batch("plan.toml", false));
    assert!(
        text.contains("3 apps: 0 provisioned, 0 rotated, 3 skipped, 0 failed"),
        "{text}"
    );
    assert!(text.contains("waiting for your CA's answer"), "{text}");

    assert_eq!(answer_all(&ca, &dir.path().join("certs")), 2);
    let second = json(&batch("plan.toml", true));
    assert_eq!(
        results(&second),
        ["rotated", "rotated", "skipped"],
        "{second}"
    );
    for name in ["orders", "billing"] {
        let doc: serde_json::Value =
            serde_json::from_slice(&fs::read(manifests.join(format!("{name}.json"))).unwrap())
                .unwrap();
        assert_eq!(
            doc["keyCredentials"].as_array().unwrap().len(),
            2,
            "{name}: {doc}"
        );
        let cer = PathBuf::from(
            second["apps"][if name == "orders" { 0 } else { 1 }]["files"]["cer"]
                .as_str()
                .unwrap(),
        );
        let sha1 = openssl_fingerprint(&cer, "DER", "sha1");
        assert_eq!(
            doc["keyCredentials"][1]["customKeyIdentifier"]
                .as_str()
                .map(|k| k.len()),
            Some(28),
            "{doc}"
        );
        assert!(
            second["apps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["thumbprint"].as_str().map(str::to_uppercase) == Some(sha1.clone())),
            "{second}"
        );
    }

    // A CA row must rotate something, and the CA decides the validity.
    fs::write(
        dir.path().join("bad.toml"),
        "[[app]]\nname = \"fresh\"\nsubject = \"CN=Fresh\"\nca = true\n\n\
         [[app]]\nname = \"dated\"\nsubject = \"CN=Dated\"\nmanifest = \"manifests/orders.json\"\nca = true\ndays = 90\n",
    )
    .unwrap();
    let bad = batch("bad.toml", false);
    assert_fails(&bad, 1, "ca = true is for rotations");
    assert_fails(&bad, 1, "your CA decides the certificate's validity");
}

#[test]
fn an_app_rolls_its_own_key_to_a_cas_certificate_with_proofs() {
    use crate::graph::{live_tenant, node_ready, AUTOMATION};
    if !node_ready() {
        return;
    }
    let Some(ca) = Ca::new() else { return };
    let Some(tenant) = live_tenant(Vec::new(), "Application.ReadWrite.All") else {
        return;
    };
    let out = tenant.dir.path().join("certs");
    let run = |extra: &[&str]| {
        json(
            &tenant
                .keycred("rotate")
                .args(["--self", "--app", AUTOMATION, "--force-renewal", "--ca"])
                .args(["--no-pfx", "--apply", "--json", "--out"])
                .arg(&out)
                .args(extra)
                .output()
                .unwrap(),
        )
    };
    let first = run(&[]);
    assert_eq!(results(&first), ["requested"], "{first}");
    assert!(
        tenant.graph.log().iter().all(|e| e["method"] == "GET"),
        "phase one sends nothing"
    );
    assert_eq!(answer_all(&ca, &out), 1);
    // The app proves itself with its current certificate, adds the CA's, signs in with it, then removes the old.
    let second = run(&["--verify", "--retire-previous"]);
    let app = &second["apps"][0];
    assert_eq!(
        (
            app["result"].as_str(),
            app["verified"].as_bool(),
            app["ca"]["step"].as_str()
        ),
        (Some("rotated"), Some(true), Some("imported")),
        "{second}"
    );
    assert_eq!(app["retired"], "50000000-0000-4000-8000-000000000001");
    let actions: Vec<String> = tenant
        .graph
        .log()
        .iter()
        .filter(|e| e["method"] == "POST")
        .map(|e| {
            e["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(actions, ["addKey", "removeKey"]);
}

#[test]
fn a_batch_row_in_the_tenant_requests_then_sends_the_cas_certificate() {
    use crate::graph::{held, patches};
    let Some((ca, tenant)) = ca_and_tenant(2) else {
        return;
    };
    let dir = tenant.dir.path();
    fs::write(
        dir.join("plan.toml"),
        "[defaults]\nout = \"certs\"\nno_pfx = true\nca = true\n\n\
         [[app]]\nname = \"due\"\ngraph = true\napp_id = \"20000000-0000-4000-8000-000000000001\"\n",
    )
    .unwrap();
    let batch = || json(&tenant.batch(&dir.join("plan.toml")).output().unwrap());
    let first = batch();
    assert_eq!(results(&first), ["requested"], "{first}");
    assert!(patches(&tenant).is_empty(), "phase one sends nothing");
    only(&dir.join("certs/due"), ".csr");
    assert_eq!(answer_all(&ca, &dir.join("certs")), 1);
    let second = batch();
    assert_eq!(results(&second), ["rotated"], "{second}");
    assert_eq!(patches(&tenant).len(), 1);
    assert_eq!(
        held(&tenant, "10000000-0000-4000-8000-000000000001").len(),
        2,
        "the CA's certificate beside the one it replaces"
    );
}

#[test]
fn a_ca_rotation_stopped_before_graph_took_the_certificate_sends_it_on_the_next_run() {
    use crate::graph::{held, patches};
    let Some((ca, tenant)) = ca_and_tenant(2) else {
        return;
    };
    let out = tenant.dir.path().join("certs");
    let folder = out.join("20000000-0000-4000-8000-000000000001");
    let run = || {
        tenant
            .keycred("rotate")
            .args(["--app", "20000000-0000-4000-8000-000000000001", "--ca"])
            .args(["--no-pfx", "--apply", "--json", "--out"])
            .arg(&out)
            .output()
            .unwrap()
    };
    assert_eq!(results(&json(&run())), ["requested"]);
    // The CA answers in DER, as STEM.issued.cer.
    let csr = only(&folder, ".csr");
    let pem = ca.issue(&csr, "300", "answer.pem");
    run_peer(
        "openssl",
        &[
            "x509",
            "-in",
            pem.to_str().unwrap(),
            "-outform",
            "DER",
            "-out",
            csr.with_extension("issued.cer").to_str().unwrap(),
        ],
    );
    // Graph refuses the PATCH: the import's files are written, the app is unchanged.
    tenant.graph.faults(
        serde_json::json!([{"method": "PATCH", "status": 403, "code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}]),
        0,
    );
    let stopped = run();
    assert_eq!(
        stopped.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&stopped.stdout)
    );
    assert!(
        csr.with_extension("cer").exists(),
        "the imported certificate is on disk"
    );
    assert_eq!(
        held(&tenant, "10000000-0000-4000-8000-000000000001").len(),
        1
    );
    // Graph answers again: the next run sends the imported certificate; it asks the CA for nothing new.
    tenant.graph.faults(serde_json::json!([]), 0);
    let again = json(&run());
    let app = &again["apps"][0];
    assert_eq!(app["result"], "rotated", "{again}");
    assert_eq!(app["added"]["reused"], true, "{again}");
    assert_eq!(only(&folder, ".csr"), csr, "no second request");
    assert_eq!(
        patches(&tenant)
            .iter()
            .filter(|p| p["status"] == 200 || p["status"] == 204)
            .count(),
        1
    );
    let held = held(&tenant, "10000000-0000-4000-8000-000000000001");
    use base64::Engine as _;
    let cer = fs::read(csr.with_extension("cer")).unwrap();
    assert!(
        held.iter()
            .any(|k| k["key"] == base64::engine::general_purpose::STANDARD.encode(&cer)),
        "{held:?}"
    );
}

#[test]
fn an_answer_imported_by_hand_is_added_by_the_next_rotation_without_a_new_request() {
    let Some(ca) = Ca::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = due_orders_manifest(&dir.path().join("app.json"));
    let certs = dir.path().join("certs");
    assert_eq!(rotate_ca(&manifest, &certs, &[])["ca"]["step"], "requested");
    let csr = only(&certs, ".csr");
    let stem = csr.file_stem().unwrap().to_str().unwrap().to_owned();
    // The admin imports the answer with keycred import (or a run stopped after its import): STEM.cer is there,
    // the manifest does not hold it.
    let answer = ca.issue(&csr, "300", "answer.pem");
    stdout(
        &keycred()
            .args(["import", "--cert"])
            .arg(&answer)
            .arg("--key")
            .arg(csr.with_extension("key"))
            .arg("--out")
            .arg(&certs)
            .args(["--name", &stem, "--no-pfx"])
            .output()
            .unwrap(),
    );
    let next = rotate_ca(&manifest, &certs, &[]);
    assert_eq!(next["changed"], true, "{next}");
    assert_eq!(next["ca"]["step"], "imported", "{next}");
    let sha1 = openssl_fingerprint(&csr.with_extension("cer"), "DER", "sha1");
    assert_eq!(
        next["added"]["thumbprints"]["sha1"]
            .as_str()
            .unwrap()
            .to_uppercase(),
        sha1
    );
    assert_eq!(only(&certs, ".csr"), csr, "nothing asked of the CA again");
    assert_eq!(
        read_json(&manifest)["keyCredentials"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
