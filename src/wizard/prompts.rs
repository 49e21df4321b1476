//! The wizard's prompts: each ends the wizard (nothing written) on Esc or Ctrl-C.

use std::borrow::Cow;

use console::{Key, Term};
use dialoguer::{Confirm, Select};
use keycred::secret::Password;
use keycred::words::{Advice, Flags, Input, Voice};

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

/// A library error as the wizard says it: the inputs it names are the answers to the wizard's questions, not the
/// command line's flags (--name, --out, --force), which mean nothing at a prompt.
pub(super) fn said(error: keycred::Error) -> String {
    error.say(&Prompts)
}

/// The wizard's words for the inputs the library's messages name.
struct Prompts;

impl Voice for Prompts {
    fn input(&self, input: Input) -> Cow<'static, str> {
        Cow::Borrowed(match input {
            Input::Name => "the name",
            Input::Out => "folder",
            Input::Subject => "the subject",
            Input::Days => "the validity in days",
            Input::NotAfter => "the end of validity",
            Input::KeySize => "the key size",
            Input::Keep => "the number of credentials to keep",
            Input::NoPfx => "choosing no PFX",
            Input::NoKey => "no key file",
            Input::MaxLifetime => "the tenant's longest lifetime",
            _ => return Flags.input(input),
        })
    }

    fn advice(&self, advice: Advice) -> Cow<'static, str> {
        Cow::Borrowed(match advice {
            Advice::ReplaceOrWriteElsewhere => "choose another name",
            Advice::ChooseFormat => "choose the manifest's format",
            Advice::CertificateNotManifest => "give the app's manifest (Graph or legacy JSON) here",
            Advice::OutIsAFolder => "give a folder",
            Advice::FolderApart => "the folder is asked separately",
            _ => return Flags.advice(advice),
        })
    }
}
