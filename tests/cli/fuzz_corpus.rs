//! Replays the fuzzers' corpus and every crash they ever found (`fuzz/corpus/TARGET`, `fuzz/regressions/TARGET`)
//! through the same entry points the fuzz targets call, so a parser that once panicked cannot panic again
//! unnoticed, even where nobody runs the fuzzers.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for folder in ["corpus", "regressions"] {
        let dir = root.join(folder).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            assert!(outcome.is_ok(), "{} panics {target}", path.display());
            count += 1;
        }
    }
    assert!(count > 0, "no corpus for {target} under {}", root.display());
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
