//! Which of the peers the tests verify against this machine has, printed in every `cargo test` run (this target
//! has no test harness, so its output is not captured): a check that needs a missing peer is skipped, and a
//! plain `cargo test` says so here rather than only under `--nocapture`. With `CI=true` a missing peer fails.

use std::path::Path;
use std::process::{Command, ExitCode};

/// A peer: its name, how to tell it is there, and what the tests check with it.
struct Peer {
    name: &'static str,
    probe: Probe,
    checks: &'static str,
}

enum Probe {
    /// A program that must run and exit 0.
    Runs(&'static [&'static str]),
    /// A Python module.
    Python(&'static str),
    /// Packages under tests/oidc/node_modules (npm ci --prefix tests/oidc).
    Node(&'static [&'static str]),
}

const PEERS: &[Peer] = &[
    Peer {
        name: "OpenSSL 3",
        probe: Probe::Runs(&["openssl", "version"]),
        checks: "certificates, keys and PFX files opened without -legacy; CSRs verified; the CA of the csr/import tests",
    },
    Peer {
        name: "Java keytool",
        probe: Probe::Runs(&["keytool", "-help"]),
        checks: "PFX files (and their chains) opened as Java opens them",
    },
    Peer {
        name: "man",
        probe: Probe::Runs(&["man", "--version"]),
        checks: "every page of keycred man --out rendered with man -l",
    },
    Peer {
        name: "Python cryptography",
        probe: Probe::Python("cryptography"),
        checks: "PFX files and keys read; certificates with dates keycred refuses to make",
    },
    Peer {
        name: "Python jsonschema",
        probe: Probe::Python("jsonschema"),
        checks: "the manifest fragments against schemas written from Microsoft's documentation",
    },
    Peer {
        name: "PyJWT",
        probe: Probe::Python("jwt"),
        checks: "client assertions verified by another JWT library",
    },
    Peer {
        name: "azure-identity",
        probe: Probe::Python("azure.identity"),
        checks: "tokens through keycred config's environment and snippet",
    },
    Peer {
        name: "MSAL Python",
        probe: Probe::Python("msal"),
        checks: "tokens through keycred config's snippets, self-signed and CA-issued",
    },
    Peer {
        name: "lxml",
        probe: Probe::Python("lxml"),
        checks: "the API Management policy against its schema",
    },
    Peer {
        name: "Node.js",
        probe: Probe::Runs(&["node", "--version"]),
        checks: "the OAuth 2.0 server (oidc-provider) and the Microsoft Graph test server",
    },
    Peer {
        name: "tests/oidc packages",
        probe: Probe::Node(&["oidc-provider", "jose", "@azure/msal-node"]),
        checks: "every token flow, the Graph tests and msal-node's snippets",
    },
];

fn present(probe: &Probe) -> bool {
    let runs = |args: &[&str]| {
        Command::new(args[0])
            .args(&args[1..])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    match probe {
        Probe::Runs(args) => runs(args),
        Probe::Python(module) => runs(&["python3", "-c", &format!("import {module}")]),
        Probe::Node(packages) => packages.iter().all(|package| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/oidc/node_modules")
                .join(package)
                .join("package.json")
                .exists()
        }),
    }
}

fn main() -> ExitCode {
    let missing: Vec<&Peer> = PEERS.iter().filter(|peer| !present(&peer.probe)).collect();
    println!(
        "peers: {} of {} present{}",
        PEERS.len() - missing.len(),
        PEERS.len(),
        if missing.is_empty() {
            ": every check runs"
        } else {
            ""
        }
    );
    for peer in &missing {
        println!(
            "SKIPPED: {} is missing, so these checks do not run: {}",
            peer.name, peer.checks
        );
    }
    if missing.is_empty() {
        return ExitCode::SUCCESS;
    }
    println!("install every peer with: bash .ci/install-peers (Debian packages need root)");
    if std::env::var("CI").as_deref() == Ok("true") {
        println!("CI=true: a missing peer is a failure");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
