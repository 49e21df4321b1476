//! The wizard's prompts: each ends the wizard (nothing written) on Esc or Ctrl-C.

use console::{Key, Term};
use dialoguer::{Confirm, Select};
use keycred::secret::Password;

use super::Cancelled;

pub(super) fn select(
    term: &Term,
    prompt: &str,
    items: &[&str],
    default: usize,
) -> anyhow::Result<usize> {
    Select::new()
        .with_prompt(prompt)
        .items(items)
        .default(default)
        .interact_on_opt(term)
        .map_err(cancel_on_interrupt)?
        .ok_or_else(|| Cancelled.into())
}

pub(super) fn confirm(term: &Term, prompt: &str, default: bool) -> anyhow::Result<bool> {
    Confirm::new()
        .with_prompt(prompt)
        .default(default)
        .interact_on_opt(term)
        .map_err(cancel_on_interrupt)?
        .ok_or_else(|| Cancelled.into())
}

fn cancel_on_interrupt(error: dialoguer::Error) -> anyhow::Error {
    let dialoguer::Error::IO(io) = &error;
    if io.kind() == std::io::ErrorKind::Interrupted {
        Cancelled.into()
    } else {
        error.into()
    }
}

/// One line of text (or hidden text), with Esc to cancel: dialoguer's text input ignores Esc.
pub(super) fn read_line(term: &Term, prompt: &str, hidden: bool) -> anyhow::Result<String> {
    term.write_str(prompt)?;
    let mut line = String::new();
    loop {
        let key = term.read_key().map_err(|e| -> anyhow::Error {
            if e.kind() == std::io::ErrorKind::Interrupted {
                Cancelled.into()
            } else {
                e.into()
            }
        })?;
        match key {
            Key::Enter => break,
            Key::Escape | Key::CtrlC => {
                term.write_line("")?;
                return Err(Cancelled.into());
            }
            Key::Backspace => {
                let removed = line.pop().is_some();
                if removed && !hidden {
                    term.clear_chars(1)?;
                }
            }
            Key::Char(c) if !c.is_control() => {
                line.push(c);
                if !hidden {
                    term.write_str(c.encode_utf8(&mut [0; 4]))?;
                }
            }
            _ => {}
        }
    }
    term.write_line("")?;
    Ok(line)
}

/// Asks until the answer passes `check`, showing why it did not; an empty answer takes the default.
pub(super) fn text(
    term: &Term,
    prompt: &str,
    default: Option<&str>,
    check: impl Fn(&str) -> Result<(), String>,
) -> anyhow::Result<String> {
    let shown = match default {
        Some(d) if !d.is_empty() => format!("{prompt} [{d}]: "),
        _ => format!("{prompt}: "),
    };
    loop {
        let answer = read_line(term, &shown, false)?;
        let answer = match (answer.trim(), default) {
            ("", Some(d)) => d.to_owned(),
            (a, _) => a.to_owned(),
        };
        match check(&answer) {
            Ok(()) => return Ok(answer),
            Err(problem) => term.write_line(&format!("  ✗ {problem}"))?,
        }
    }
}

pub(super) fn new_password(term: &Term) -> anyhow::Result<Password> {
    loop {
        let first = read_line(term, "PFX password (hidden): ", true)?;
        if first.is_empty() {
            term.write_line("  ✗ the password is empty; a PFX protects a private key")?;
            continue;
        }
        let second = read_line(term, "Repeat the password: ", true)?;
        if first == second {
            return Ok(Password::new(first));
        }
        term.write_line("  ✗ the passwords do not match, try again")?;
    }
}

/// A library error as the wizard says it: the messages are written for the command line and name its flags
/// (--name, --out, --force), which mean nothing at a prompt.
pub(super) fn said(error: impl std::fmt::Display) -> String {
    error
        .to_string()
        .replace(
            "pass --force to replace it (a key, PFX or password it replaces is kept as FILE.bak), or write to \
             another file",
            "choose another name",
        )
        .replace("choose another --out", "choose another folder")
        .replace(
            "pass it as --cert to rotate it in, and give the app's manifest (Graph or legacy JSON) as --manifest",
            "give the app's manifest (Graph or legacy JSON) here",
        )
        .replace("--out takes a folder", "give a folder")
        .replace("put the folder in --out", "the folder is asked separately")
        .replace("--name ", "the name ")
}
