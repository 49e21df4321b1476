//! README's examples, run: every `keycred …` command in its fenced blocks (`$ keycred …` in text blocks, plain
//! lines in sh blocks), in order, in a scratch folder per top-level section, with the inputs the examples
//! assume (an app manifest, a plan, a current PFX). Each must end with the exit code README shows (`echo $?`, else
//! 0), and the first line of output README shows, where it has no digits (times, ids, thumbprints change from run
//! to run), must appear in what keycred printed. So README cannot drift from the program.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use serde_json::json;

use crate::common::*;

/// One example: its command line, the exit code README shows, and the first output line README shows.
#[derive(Debug)]
struct Example {
    section: String,
    command: String,
    code: i32,
    first_output: Option<String>,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut lines = readme.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(title) = line.strip_prefix("## ") {
            section = title.to_owned();
            continue;
        }
        let Some(lang) = line.strip_prefix("```").filter(|l| !l.is_empty()) else {
            continue;
        };
        let mut block: Vec<String> = Vec::new();
        for inner in lines.by_ref() {
            if inner.starts_with("```") {
                break;
            }
            block.push(inner.to_owned());
        }
        let mut i = 0;
        while i < block.len() {
            let line = &block[i];
            let start = match lang {
                // `openssl` too: README's CA step, with OpenSSL as the CA.
                "text" => line
                    .strip_prefix("$ ")
                    .filter(|l| l.starts_with("keycred ") || l.starts_with("openssl ")),
                // `mkdir -p` too: the install lines must work in a fresh home; `tools/lab`: the local tenant.
                "sh" => Some(line.as_str()).filter(|l| {
                    l.starts_with("keycred ")
                        || l.starts_with("cargo run --release -- ")
                        || l.starts_with("mkdir -p ")
                        || l.starts_with("tools/lab ")
                }),
                _ => None,
            };
            let Some(start) = start else {
                i += 1;
                continue;
            };
            let mut command = start.to_owned();
            while command.trim_end().ends_with('\\') && i + 1 < block.len() {
                i += 1;
                command = format!(
                    "{} {}",
                    command.trim_end().trim_end_matches('\\'),
                    block[i].trim()
                );
            }
            let command = command
                .split("   #")
                .next()
                .unwrap()
                .replace("cargo run --release -- ", "keycred ")
                .trim()
                .to_owned();
            // Output lines up to the next prompt; `$ echo $?` (or `; echo $?`) shows the exit code.
            let mut output = Vec::new();
            let mut code = 0;
            let mut j = i + 1;
            while j < block.len() && !block[j].starts_with("$ ") && lang == "text" {
                output.push(block[j].clone());
                j += 1;
            }
            if command.ends_with("; echo $?") {
                code = output
                    .last()
                    .and_then(|l| l.trim().parse().ok())
                    .unwrap_or(0);
                output.pop();
            } else if block.get(j).is_some_and(|l| l == "$ echo $?") {
                code = block
                    .get(j + 1)
                    .and_then(|l| l.trim().parse().ok())
                    .unwrap_or(0);
            }
            out.push(Example {
                section: section.clone(),
                command: command.trim_end_matches("; echo $?").to_owned(),
                code,
                first_output: output
                    .into_iter()
                    .map(|l| l.trim().to_owned())
                    .find(|l| !l.is_empty())
                    .filter(|l| !l.chars().any(|c| c.is_ascii_digit())),
            });
            i += 1;
        }
    }
    out
}

/// The small Graph manifest README's examples assume, with credentials over these day ranges and, with `roles`,
/// one application role.
fn graph_manifest(path: &Path, ranges: &[(i64, i64)], roles: bool) {
    let mut manifest = ManifestBuilder::fields(json!({
        "id": "2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c10",
        "appId": "11111111-2222-3333-4444-555555555555",
        "api": {"requestedAccessTokenVersion": 2},
    }))
    .ranges(ranges, |_| "CN=Orders Daemon".into());
    if roles {
        manifest = manifest.field(
            "appRoles",
            json!([{
                "allowedMemberTypes": ["Application"], "description": "Export orders.", "displayName": "Export",
                "id": "00000000-0000-4000-8000-0000000000e1", "isEnabled": true, "value": "Orders.Export"
            }]),
        );
    }
    manifest.write(path);
}

/// The tenant README's `graph` examples talk to (`contoso.onmicrosoft.com`): the OAuth server, trusting for each
/// app the certificates Graph holds for it (as Entra does), and the Graph server with three apps: the Orders API
/// (its certificate due in 10 days, and a secret), the Orders Daemon (its certificate, `current.pem`, due in 20
/// days), and the automation app `11111111-…` (its certificate `automation.pfx`, with Graph permission). Its
/// Graph token is left in `graph.token`.
fn graph_tenant(dir: &Path) -> Option<(crate::flow::OidcServer, crate::graph::GraphServer)> {
    use base64::Engine as _;
    let tenant = "contoso.onmicrosoft.com";
    let automation = "11111111-2222-3333-4444-555555555555";
    let made = keycred()
        .args([
            "new",
            "-s",
            "CN=Rotation Automation",
            "--name",
            "automation",
            "--password-file",
        ])
        .arg(dir.join("current.pw"))
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap();
    stdout(&made);
    let der = |name: &str| {
        base64::engine::general_purpose::STANDARD.encode(fs::read(dir.join(name)).unwrap())
    };
    let at = |days: i64| days_from_now(days);
    let apps = json!([
        {"id": "2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c10", "appId": "6e8b1c2d-3f4a-4b5c-8d9e-0a1b2c3d4e5f",
         "displayName": "Contoso Orders API",
         "keyCredentials": [{"key": base64::engine::general_purpose::STANDARD.encode(fs::read(fixture("openssl-rsa.cer")).unwrap()),
                             "keyId": "3c1f1b7e-9a2d-4e8f-b6a5-0d9c8b7a6f5e", "displayName": "CN=Orders Daemon",
                             "startDateTime": at(-355), "endDateTime": at(10)}],
         "passwordCredentials": [{"keyId": "8e2a5c1d-2b3f-4a6e-9c8d-7f6e5d4c3b2a", "displayName": "old secret",
                                  "endDateTime": "2027-03-01T00:00:00Z", "hint": "abc", "secretText": null}]},
        {"id": "3c1e4b7f-7a1b-4d6f-8e8b-2a7a3c2b0d21", "appId": "7f9c2d3e-4a5b-4c6d-9e0f-1a2b3c4d5e6f",
         "displayName": "Contoso Orders Daemon",
         "keyCredentials": [{"key": der("current.cer"), "keyId": "4d2a6c8e-1b3d-4f5a-8c7e-9d0b1a2c3e4f",
                             "displayName": "CN=Orders Daemon", "startDateTime": at(-345), "endDateTime": at(20)}]},
        {"id": "40000000-0000-4000-8000-000000000001", "appId": automation, "displayName": "Rotation Automation",
         "keyCredentials": [{"key": der("automation.cer"), "keyId": "50000000-0000-4000-8000-000000000001"}]},
    ]);
    let state = dir.join("graph-url.txt");
    let oidc = crate::flow::OidcServer::launch_with_env(
        tenant,
        automation,
        &dir.join("automation.pem"),
        ("x", "y"),
        None,
        &[
            ("GRAPH_ROLES", "Application.ReadWrite.All"),
            ("GRAPH_STATE_FILE", state.to_str().unwrap()),
        ],
    )?;
    let graph =
        crate::graph::GraphServer::start_in(&oidc, tenant, &apps, &dir.join("graph-server"));
    fs::write(&state, graph.url()).unwrap();
    let token = keycred()
        .args([
            "token",
            "--tenant",
            tenant,
            "--client-id",
            automation,
            "--scope",
        ])
        .arg(format!("{}/.default", graph.url()))
        .arg("--authority")
        .arg(oidc.authority())
        .arg("--pfx")
        .arg(dir.join("automation.pfx"))
        .arg("--password-file")
        .arg(dir.join("current.pw"))
        .output()
        .unwrap();
    fs::write(dir.join("graph.token"), stdout(&token)).unwrap();
    Some((oidc, graph))
}

/// The tenant a command talks to: its --tenant, else the path segment after the server's address.
fn tenant_of(command: &str) -> String {
    let words: Vec<&str> = command.split_whitespace().collect();
    if let Some(i) = words.iter().position(|w| *w == "--tenant") {
        return words[i + 1].to_owned();
    }
    command
        .split("https://login.microsoftonline.com/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("contoso.onmicrosoft.com")
        .to_owned()
}

#[test]
fn readme_examples_run_as_shown() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(
        examples.len() >= 20,
        "found only {} examples",
        examples.len()
    );
    let root = tempfile::tempdir().unwrap();
    // A fresh home: README's install lines make the folders they need.
    let home = root.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let mut server = None;
    let mut tenant: Option<(String, crate::flow::OidcServer, crate::graph::GraphServer)> = None;
    let mut tenant_tried: Option<String> = None;
    let mut current_section = String::new();
    let mut dir = root.path().to_path_buf();
    // The files that skipped steps would have written (a peer is missing): a later step that reads one is skipped
    // too, and says so, rather than failing for the missing file.
    let mut not_written: Vec<PathBuf> = Vec::new();
    // The local tenant README's walkthrough starts with `tools/lab start DIR`: stopped at the end, whatever happens.
    let mut labs: Vec<Lab> = Vec::new();
    let mut lab_missing = false;
    for example in &examples {
        if example.command == "keycred wizard" {
            continue; // interactive: its pty tests are in tests/cli/wizard.rs
        }
        let outputs = outputs_of(&example.command);
        if let Some(file) = example
            .command
            .split_whitespace()
            .filter(|word| !outputs.iter().any(|o| o == word))
            .find(|word| not_written.contains(&dir.join(word)))
        {
            let why = format!("it reads {file}, which a skipped step writes");
            skip(example, &why, &dir, &mut not_written);
            continue;
        }
        if example.section != current_section {
            current_section = example.section.clone();
            dir = root
                .path()
                .join(current_section.split_whitespace().next().unwrap_or("s"));
            fs::create_dir_all(&dir).unwrap();
            // What the examples of the Commands section assume is there.
            graph_manifest(&dir.join("app.json"), &[(-357, 8), (-385, -20)], true);
            graph_manifest(&dir.join("manifests/orders.json"), &[(-357, 8)], false);
            // The grant example: an API app with a role, and a client app.
            graph_manifest(&dir.join("client.json"), &[(-357, 300)], false);
            graph_manifest(&dir.join("orders-api-app.json"), &[], true);
            let mut api: serde_json::Value =
                serde_json::from_slice(&fs::read(dir.join("orders-api-app.json")).unwrap())
                    .unwrap();
            api["appId"] = json!("6e8b1c2d-3f4a-4b5c-8d9e-0a1b2c3d4e5f");
            api["displayName"] = json!("Contoso Orders API");
            fs::write(
                dir.join("orders-api-app.json"),
                serde_json::to_string_pretty(&api).unwrap(),
            )
            .unwrap();
            // The CA README's csr and import examples use: an issuing CA, made by OpenSSL.
            if peer_available("openssl", &["version"]) {
                openssl_self_signed(
                    &dir.join("issuing-ca.key"),
                    &dir.join("issuing-ca.pem"),
                    "/CN=Contoso Issuing CA",
                    "30",
                    &[
                        "-addext",
                        "basicConstraints=critical,CA:true",
                        "-addext",
                        "keyUsage=critical,keyCertSign,cRLSign",
                    ],
                );
            }
            let pw = dir.join("current.pw");
            fs::write(&pw, "a current pfx password\n").unwrap();
            for (name, subject) in [
                ("current", "CN=Orders Daemon"),
                ("next", "CN=Orders Daemon next"),
            ] {
                let out = keycred()
                    .args(["new", "-s", subject, "--name", name, "--password-file"])
                    .arg(&pw)
                    .arg("--out")
                    .arg(&dir)
                    .output()
                    .unwrap();
                assert!(out.status.success());
            }
            // The plan README shows: its toml block with [[app]] tables.
            if let Some(plan) = readme
                .split("```toml\n")
                .skip(1)
                .filter_map(|t| t.split("```").next())
                .find(|t| t.contains("[[app]]"))
            {
                fs::write(dir.join("plan.toml"), plan).unwrap();
            }
            // The API manifest README shows: its json block with requestedAccessTokenVersion.
            if let Some(api) = readme
                .split("```json\n")
                .skip(1)
                .filter_map(|t| t.split("```").next())
                .find(|t| t.contains("requestedAccessTokenVersion"))
            {
                fs::write(dir.join("orders-api.json"), api).unwrap();
            }
        }
        let mut command = example.command.clone();
        // `tools/lab` starts the tests' servers itself; what talks to them names them (`$(cat lab/connection)`).
        let uses_lab = command.starts_with("tools/lab ") || command.contains("$(cat lab/");
        if uses_lab {
            let servers = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/node_modules");
            let installed = ["oidc-provider", "jose"]
                .iter()
                .all(|p| servers.join(p).exists())
                && peer_available("node", &["--version"]);
            if !installed || lab_missing {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "the test servers' packages are required when CI=true (npm ci --prefix tests/oidc)"
                );
                lab_missing = true;
                skip(
                    example,
                    "the test servers' packages are missing (tools/lab would install them)",
                    &dir,
                    &mut not_written,
                );
                continue;
            }
            if let Some(lab_dir) = command.strip_prefix("tools/lab start ") {
                labs.push(Lab(dir.join(lab_dir.trim())));
            }
            command = command.replacen(
                "tools/lab",
                &Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tools/lab")
                    .display()
                    .to_string(),
                1,
            );
        }
        // README shows Entra itself. The commands that talk to it or name it (a token, a JWKS, an API's token
        // rules) go to the tests' OAuth server instead, laid out as Entra: its URL for Entra's, and `--authority`
        // where a token request or the rules name none.
        let entra = "https://login.microsoftonline.com";
        let names_authority = ["keycred token ", "keycred api-policy "]
            .iter()
            .find(|c| command.starts_with(**c));
        if !uses_lab && (names_authority.is_some() || command.contains(&format!("--jwks {entra}/")))
        {
            // One server per section and tenant, with the section's contoso-daemon certificate registered.
            let tenant = tenant_of(&command);
            let key = (current_section.clone(), tenant.clone());
            if server.as_ref().map(|(k, _)| k) != Some(&key) {
                server = crate::flow::OidcServer::launch_with_env(
                    &tenant,
                    "11111111-2222-3333-4444-555555555555",
                    &if dir.join("certs/contoso-daemon.pem").exists() {
                        dir.join("certs/contoso-daemon.pem")
                    } else {
                        dir.join("contoso-daemon.pem")
                    },
                    ("x", "y"),
                    None,
                    // The API as README's orders-api.json names it.
                    &[("API_URI", "api://contoso-orders")],
                )
                .map(|s| (key, s));
            }
            let Some((_, server)) = &server else {
                skip(
                    example,
                    "the OAuth test server's packages are missing",
                    &dir,
                    &mut not_written,
                );
                continue;
            };
            let local = server.authority();
            command = command.replace(entra, &local);
            if let Some(start) = names_authority.filter(|_| !command.contains("--authority")) {
                command = command.replacen(start, &format!("{start}--authority {local} "), 1);
            }
        }
        // `keycred graph` goes to the Graph test server, holding the apps README's examples show (add-key and
        // remove-key without --send only print their bodies).
        let talks_to_graph = ["apps ", "show ", "rotate "]
            .iter()
            .any(|sub| command.starts_with(&format!("keycred graph {sub}")))
            || (command.starts_with("keycred graph ") && command.contains(" --send"));
        if let Some(rest) = command
            .strip_prefix("keycred graph ")
            .filter(|_| talks_to_graph && !uses_lab)
        {
            // Started once per section (it makes the automation app's files there), whether or not it could start.
            if tenant_tried.as_ref() != Some(&current_section) {
                tenant_tried = Some(current_section.clone());
                tenant = graph_tenant(&dir).map(|(o, g)| (current_section.clone(), o, g));
            }
            let Some((_, oidc, graph)) = &tenant else {
                skip(
                    example,
                    "the test servers' packages are missing",
                    &dir,
                    &mut not_written,
                );
                continue;
            };
            let (sub, args) = rest.split_once(' ').unwrap_or((rest, ""));
            command = format!(
                "keycred graph {sub} --graph-url {} --authority {} {args}",
                graph.url(),
                oidc.authority()
            );
        }
        let shell = command
            .split(' ')
            .map(|word| {
                if word == "keycred" {
                    env!("CARGO_BIN_EXE_keycred")
                } else {
                    word
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        let out = StdCommand::new("sh")
            .arg("-c")
            .arg(&shell)
            .current_dir(&dir)
            .env("HOME", &home)
            .env("KEYCRED_CURRENT_PFX_PASSWORD", "a current pfx password")
            .env("KEYCRED_PFX_PASSWORD", "a current pfx password")
            .env("XDG_CACHE_HOME", root.path().join("cache"))
            .env("KEYCRED", env!("CARGO_BIN_EXE_keycred"))
            .output()
            .unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.status.code(),
            Some(example.code),
            "README example `{}` ({}):\n{printed}",
            example.command,
            example.section
        );
        assert!(!printed.contains("panicked"), "{printed}");
        // What this step wrote is there for the steps after it.
        not_written.retain(|path| !outputs.iter().any(|o| dir.join(o) == *path));
        if let Some(first) = &example.first_output {
            assert!(
                printed.contains(first.as_str()),
                "README shows {first:?} for `{}`, keycred printed:\n{printed}",
                example.command
            );
        }
    }
}

/// A local tenant `tools/lab` started, stopped when the test ends (passing or not).
struct Lab(PathBuf);

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = StdCommand::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/lab"))
            .arg("stop")
            .arg(&self.0)
            .output();
    }
}

/// Says that `example` is skipped and why; the files it would have written are missing for the steps after it.
fn skip(example: &Example, why: &str, dir: &Path, not_written: &mut Vec<PathBuf>) {
    eprintln!("SKIPPED: README example `{}`: {why}", example.command);
    not_written.extend(outputs_of(&example.command).iter().map(|o| dir.join(o)));
}

/// The files a README command writes: after `>`, `--out` and `--report`.
fn outputs_of(command: &str) -> Vec<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    words
        .windows(2)
        .filter(|pair| matches!(pair[0], ">" | "--out" | "--report"))
        .map(|pair| pair[1].to_owned())
        .collect()
}

/// The long flags `keycred COMMAND --help` lists (not --help and --version).
fn flags_of(command: &[&str]) -> Vec<String> {
    let mut args = command.to_vec();
    args.push("--help");
    let help = stdout(&keycred().args(&args).output().unwrap());
    let options = help.split("Options:\n").nth(1).unwrap_or_default();
    options
        .lines()
        // An option's own line: indented 2 (with a short form) or 6 spaces; its description's lines are deeper.
        .filter(|l| {
            let text = l.trim_start();
            matches!(l.len() - text.len(), 2 | 6) && text.starts_with('-')
        })
        .filter_map(|l| {
            l.trim_start()
                .split([',', ' '])
                .find(|w| w.starts_with("--"))
        })
        .filter(|f| !matches!(*f, "--help" | "--version"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_lists_every_flag_of_every_command_and_no_other() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut checked = 0;
    for page in commands(&[]) {
        let words: Vec<&str> = page.trim_start_matches("keycred-").split('-').collect();
        // Command names with dashes (api-policy, add-key, key-credentials, app-roles): as clap spells them.
        let command: Vec<String> = match words.as_slice() {
            ["api", "policy"] => vec!["api-policy".into()],
            ["graph", "add", "key"] => vec!["graph".into(), "add-key".into()],
            ["graph", "remove", "key"] => vec!["graph".into(), "remove-key".into()],
            ["manifest", "key", "credentials"] => vec!["manifest".into(), "key-credentials".into()],
            ["manifest", "app", "roles"] => vec!["manifest".into(), "app-roles".into()],
            other => other.iter().map(|w| (*w).to_owned()).collect(),
        };
        let command: Vec<&str> = command.iter().map(String::as_str).collect();
        let flags = flags_of(&command);
        if !commands(&command).is_empty() || flags.is_empty() {
            continue; // a group (graph, manifest), or no flags (wizard)
        }
        // `new` has its own table; every other command a block of its flags.
        let block = if command == ["new"] {
            readme
                .split("#### `keycred new`")
                .nth(1)
                .unwrap()
                .split("\n#### ")
                .next()
                .unwrap()
        } else {
            let summary = format!(
                "<summary>Every flag of <code>keycred {}</code></summary>",
                command.join(" ")
            );
            readme
                .split(&summary)
                .nth(1)
                .unwrap_or_else(|| panic!("README has no {summary}"))
                .split("</details>")
                .next()
                .unwrap()
        };
        for flag in &flags {
            assert!(
                block.contains(&format!("`{flag}")),
                "README's table for keycred {} lacks {flag}",
                command.join(" ")
            );
        }
        if command != ["new"] {
            for row in block.lines().filter(|l| l.starts_with("| `--")) {
                let listed = row[3..].split(['`', ' ']).next().unwrap();
                assert!(
                    flags.iter().any(|f| f == listed),
                    "README lists {listed} for keycred {}, which has no such flag",
                    command.join(" ")
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 24, "checked {checked} commands");
}

/// A heading's anchor as GitHub makes it: lowercase, punctuation dropped (but `-` and `_`), spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn readme_links_reach_its_headings_and_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["README.md", "CONTRIBUTING.md"] {
        let text = fs::read_to_string(root.join(name)).unwrap();
        let mut in_code = false;
        let mut anchors = std::collections::BTreeSet::new();
        for line in text.lines() {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with('#') {
                anchors.insert(anchor(line.trim_start_matches('#')));
            }
        }
        let mut links = 0;
        for piece in text.split("](").skip(1) {
            let target = piece.split(')').next().unwrap();
            if let Some(fragment) = target.strip_prefix('#') {
                assert!(
                    anchors.contains(fragment),
                    "{name}: no heading for #{fragment}"
                );
                links += 1;
            } else if !target.contains("://") {
                assert!(
                    root.join(target).exists(),
                    "{name}: {target} does not exist"
                );
                links += 1;
            }
        }
        assert!(
            links > 0 || name == "CONTRIBUTING.md",
            "{name}: no links checked"
        );
    }
}
