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

/// Writes `text` to standard output.
pub fn print(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    // A closed pipe (keycred … | head) is not an error worth reporting.
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Pretty JSON with a trailing newline.
pub fn print_json(value: &serde_json::Value) {
    print(&format!(
        "{}\n",
        serde_json::to_string_pretty(value).expect("JSON values serialize")
    ));
}

/// A warning on standard error.
pub fn warn(text: &str) {
    eprintln!("keycred: warning: {text}");
}

/// A note on standard error.
pub fn note(text: &str) {
    eprintln!("keycred: note: {text}");
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
                bar.set_message(format!("{}: {}", name, action));
                if action == "failed" {
                    bar.println(format!("{}: failed: {}", name, detail));
                }
            }
            Progress::Lines { total, done } => {
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                let count = match total {
                    0 => n.to_string(),
                    total => format!("{n}/{total}"),
                };
                match detail {
                    "" => eprintln!("[{count}] {name}: {action}"),
                    detail => eprintln!("[{count}] {name}: {action} ({detail})"),
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
