//! The binary's terminal: standard output, warnings on standard error, and hidden password prompts when a person
//! is there. Shared by the front ends (the commands and the wizard), which never import each other.

use std::io::IsTerminal as _;

use keycred::input::Prompt;
use keycred::secret::Password;

/// Whether a person can answer a prompt: stdin and stderr are both terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// A hidden prompt on the terminal, with confirmation for a new password.
pub fn prompt(text: &str, confirm: bool) -> keycred::Result<Password> {
    let mut input = dialoguer::Password::new().with_prompt(text);
    if confirm {
        input = input.with_confirmation(
            "Repeat the password",
            "The passwords do not match, try again",
        );
    }
    input
        .interact()
        .map(Password::new)
        .map_err(|e| keycred::Error::Password(format!("password prompt failed: {e}")))
}

/// The prompt for password sources: the terminal's, when a person is there.
pub fn password_prompt() -> Option<Prompt> {
    interactive().then(|| Box::new(prompt) as Prompt)
}

/// Text for a person's terminal: every control character but the line break and the tab is shown escaped
/// (`\u{1b}`), so that a name from Graph or a certificate (an app's display name, a subject) cannot move the
/// cursor, rewrite a verdict already printed, or retitle the window. JSON needs nothing of the kind: serde_json
/// escapes control characters in strings itself.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    keycred::report::escape_controls(text, |c| c == '\n' || c == '\t')
}

/// Writes `text` to standard output, its control characters escaped ([`escape_controls`]).
pub fn print(text: &str) {
    write_stdout(&escape_controls(text));
}

/// The first failed write to standard output, other than a closed pipe: the run fails with it.
static STDOUT_FAILURE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn write_stdout(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        // A closed pipe (keycred … | head) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        // A full disk or an I/O error: what was printed is cut, and nobody may trust it.
        Err(e) => {
            let mut failure = STDOUT_FAILURE.lock().unwrap_or_else(|p| p.into_inner());
            failure.get_or_insert_with(|| e.to_string());
        }
    }
}

/// Why writing to standard output failed, if it did (not for a closed pipe): the run then exits 1.
pub fn stdout_failure() -> Option<String> {
    STDOUT_FAILURE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// Pretty JSON with a trailing newline, exactly as serialized.
pub fn print_json(value: &serde_json::Value) {
    write_stdout(&format!(
        "{}\n",
        serde_json::to_string_pretty(value).expect("JSON values serialize")
    ));
}

/// A line on standard error for a person, its control characters escaped.
pub fn eprint_line(text: &str) {
    eprintln!("{}", escape_controls(text));
}

/// A warning on standard error.
pub fn warn(text: &str) {
    eprint_line(&format!("keycred: warning: {text}"));
}

/// A note on standard error.
pub fn note(text: &str) {
    eprint_line(&format!("keycred: note: {text}"));
}

/// A progress bar on a terminal; one plain line per app otherwise (logs, CI, cron).
pub enum Progress {
    Bar(indicatif::ProgressBar),
    Lines {
        total: usize,
        done: std::sync::atomic::AtomicUsize,
    },
}

impl Progress {
    /// A bar for `total` apps on a terminal, else plain lines; `0`: the count is not known (plain lines, numbered
    /// without a total).
    pub fn new(total: usize) -> Progress {
        if total > 0 && std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} apps  {elapsed_precise}  {msg}",
                )
                .expect("a valid template"),
            );
            Progress::Bar(bar)
        } else {
            Progress::Lines {
                total,
                done: std::sync::atomic::AtomicUsize::new(0),
            }
        }
    }

    /// One app has ended with `action` (`failed` is also printed above the bar).
    pub fn done(&self, name: &str, action: &str, detail: &str) {
        match self {
            Progress::Bar(bar) => {
                bar.inc(1);
                bar.set_message(escape_controls(&format!("{name}: {action}")).into_owned());
                if action == "failed" {
                    bar.println(escape_controls(&format!("{name}: failed: {detail}")));
                }
            }
            Progress::Lines { total, done } => {
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                let count = match total {
                    0 => n.to_string(),
                    total => format!("{n}/{total}"),
                };
                match detail {
                    "" => eprint_line(&format!("[{count}] {name}: {action}")),
                    detail => eprint_line(&format!("[{count}] {name}: {action} ({detail})")),
                }
            }
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escape_controls("App 1\tok\n"), "App 1\tok\n");
        assert_eq!(
            escape_controls("Evil\u{1b}[2K\rhealthy\u{7}\u{9b}31m"),
            "Evil\\u{1b}[2K\\u{d}healthy\\u{7}\\u{9b}31m"
        );
        assert!(matches!(
            escape_controls("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
