//! Replays the fuzzers' corpus and every crash they ever found (`fuzz/seeds/TARGET.b64`, one input per line in
//! base64, and `fuzz/regressions/TARGET`) through the same entry points the fuzz targets call, so a parser that
//! once panicked cannot panic again unnoticed, even where nobody runs the fuzzers.

use base64::Engine;
use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = Vec::new();
    let seeds = root.join("seeds").join(format!("{target}.b64"));
    let packed =
        std::fs::read_to_string(&seeds).unwrap_or_else(|e| panic!("{}: {e}", seeds.display()));
    for (number, line) in packed.lines().enumerate() {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(line)
            .unwrap_or_else(|e| panic!("{} line {}: {e}", seeds.display(), number + 1));
        inputs.push((format!("{} line {}", seeds.display(), number + 1), bytes));
    }
    if let Ok(entries) = std::fs::read_dir(root.join("regressions").join(target)) {
        for entry in entries {
            let path = entry.unwrap().path();
            inputs.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    assert!(
        !inputs.is_empty(),
        "no corpus for {target} under {}",
        root.display()
    );
    for (origin, bytes) in &inputs {
        let outcome = std::panic::catch_unwind(|| run(bytes));
        assert!(outcome.is_ok(), "{origin} panics {target}");
    }
}

fn text(run: fn(&str)) -> impl Fn(&[u8]) {
    move |bytes| {
        if let Ok(text) = std::str::from_utf8(bytes) {
            run(text);
        }
    }
}

#[test]
fn load_credential_corpus_and_regressions() {
    replay("load_credential", keycred::fuzzing::load_credential);
}

#[test]
fn manifest_corpus_and_regressions() {
    replay("manifest", |b| text(keycred::fuzzing::manifest)(b));
}

#[test]
fn plan_corpus_and_regressions() {
    replay("plan", |b| text(keycred::fuzzing::plan)(b));
}

#[test]
fn graph_page_corpus_and_regressions() {
    replay("graph_page", |b| text(keycred::fuzzing::graph_page)(b));
}

#[test]
fn policy_corpus_and_regressions() {
    replay("policy", |b| text(keycred::fuzzing::policy)(b));
}

#[test]
fn usage_corpus_and_regressions() {
    replay("usage", |b| text(keycred::fuzzing::usage)(b));
}

#[test]
fn roles_corpus_and_regressions() {
    replay("roles", |b| text(keycred::fuzzing::roles)(b));
}

#[test]
fn vault_answer_corpus_and_regressions() {
    replay("vault_answer", |b| text(keycred::fuzzing::vault_answer)(b));
}

#[test]
fn token_corpus_and_regressions() {
    replay("token", |b| text(keycred::fuzzing::token)(b));
}
