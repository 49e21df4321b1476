//! `keycred man --out DIR`: a page for every command, each named as the pages refer to it, and each one `man -l`
//! renders.

use std::collections::BTreeSet;
use std::fs;

use crate::common::*;

#[test]
fn man_writes_a_page_for_every_command_that_man_renders() {
    let home = tempfile::tempdir().unwrap();
    // The README's install line, in a fresh home: the folder is made.
    let dir = home.path().join(".local/share/man/man1");
    let out = keycred().args(["man", "--out"]).arg(&dir).output().unwrap();
    assert!(stdout(&out).contains("man pages"), "{}", stdout(&out));
    let written: BTreeSet<String> = names_in(&dir).into_iter().collect();
    let mut expected: BTreeSet<String> = commands(&[])
        .into_iter()
        .map(|name| format!("{name}.1"))
        .collect();
    expected.insert("keycred.1".into());
    assert!(expected.len() > 25, "{expected:?}");
    assert_eq!(written, expected);
    // Every page another page refers to is there.
    for page in &written {
        let text = fs::read_to_string(dir.join(page)).unwrap();
        for reference in text.split("keycred\\-").skip(1) {
            let name = reference.split('(').next().unwrap().replace("\\-", "-");
            if reference[name.replace('-', "\\-").len()..].starts_with("(1)") {
                assert!(
                    written.contains(&format!("keycred-{name}.1")),
                    "{page} refers to keycred-{name}(1)"
                );
            }
        }
    }
    if peer_available("man", &["--version"]) {
        for page in &written {
            let rendered = std::process::Command::new("man")
                .arg("-l")
                .arg(dir.join(page))
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "100")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&rendered.stdout);
            assert!(
                rendered.status.success(),
                "man -l {page}: {}",
                String::from_utf8_lossy(&rendered.stderr)
            );
            assert!(
                text.contains("NAME") && text.contains(page.trim_end_matches(".1")),
                "man -l {page}:\n{text}"
            );
        }
    }
    // keycred's own pages are refreshed by the next run (an upgrade's install line); another file of a page's name
    // is replaced only with --force, and kept as its backup.
    stdout(&keycred().args(["man", "--out"]).arg(&dir).output().unwrap());
    std::fs::write(dir.join("keycred-new.1"), "my own notes\n").unwrap();
    let again = keycred().args(["man", "--out"]).arg(&dir).output().unwrap();
    assert_fails(
        &again,
        1,
        "keycred-new.1 exists and is not a keycred man page",
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("keycred-new.1")).unwrap(),
        "my own notes\n"
    );
    let forced = keycred()
        .args(["man", "--force", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    stdout(&forced);
    assert_eq!(
        std::fs::read_to_string(dir.join("keycred-new.1.bak")).unwrap(),
        "my own notes\n"
    );
}
