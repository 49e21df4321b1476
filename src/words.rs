//! Messages that name a request's inputs without choosing the words for them.
//!
//! The same request comes from three front ends: flags (`--days 0`), a plan row (`days = 0`) and the wizard's
//! prompts ("Validity in days"). An error about an input names it as an [`Input`] (and the advice that differs
//! between front ends as an [`Advice`]) inside a [`Said`]; each front end renders it with its [`Voice`]. The
//! command line's words ([`Flags`]) are the default, so a `Said` displays as the command line says it.
//!
//! Someone else's text inside a message or a report (a server's error, a name from Graph, a token's claim) is
//! written through [`one_line`] or [`escape_controls`], so that it cannot start a line of keycred's.

use std::borrow::Cow;
use std::fmt;

/// A request input a message names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// The base name of the files.
    Name,
    /// The output folder.
    Out,
    /// The certificate subject.
    Subject,
    /// The validity in days.
    Days,
    /// The end of validity as a date.
    NotAfter,
    /// The RSA key size.
    KeySize,
    /// How many client credentials to keep.
    Keep,
    /// No PFX file.
    NoPfx,
    /// No key file.
    NoKey,
    /// The longest validity the tenant's rules allow, given on files.
    MaxLifetime,
}

/// Advice whose words differ between front ends more than by an input's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Advice {
    /// An output file exists: replace it on purpose, or write elsewhere.
    ReplaceOrWriteElsewhere,
    /// A manifest's format could not be detected: say which it is.
    ChooseFormat,
    /// A certificate was given where the app's manifest belongs.
    CertificateNotManifest,
    /// The output must be a folder.
    OutIsAFolder,
    /// A name had a folder in it: the folder is given apart.
    FolderApart,
}

/// One part of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Words that are the same in every front end.
    Text(Cow<'static, str>),
    /// An input, in the front end's words.
    Input(Input),
    /// Advice, in the front end's words.
    Advice(Advice),
}

impl From<&'static str> for Piece {
    fn from(text: &'static str) -> Self {
        Piece::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Piece {
    fn from(text: String) -> Self {
        Piece::Text(Cow::Owned(text))
    }
}

impl From<Input> for Piece {
    fn from(input: Input) -> Self {
        Piece::Input(input)
    }
}

impl From<Advice> for Piece {
    fn from(advice: Advice) -> Self {
        Piece::Advice(advice)
    }
}

/// A message naming inputs, to be said in a front end's [`Voice`]. Displays in the command line's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Said(Vec<Piece>);

/// A [`Said`] from its pieces: text (`&str`, `String`), [`Input`]s and [`Advice`], in order.
macro_rules! said {
    ($($piece:expr),+ $(,)?) => {
        $crate::words::Said::from_pieces(vec![$($crate::words::Piece::from($piece)),+])
    };
}
pub(crate) use said;

impl Said {
    /// A message of these pieces, in order.
    pub fn from_pieces(pieces: Vec<Piece>) -> Said {
        Said(pieces)
    }

    /// The message in `voice`'s words.
    pub fn say(&self, voice: &dyn Voice) -> String {
        let mut text = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(words) => text.push_str(words),
                Piece::Input(input) => text.push_str(&voice.input(*input)),
                Piece::Advice(advice) => text.push_str(&voice.advice(*advice)),
            }
        }
        text
    }

    /// This message after `context`, which every front end says the same way.
    pub fn after(mut self, context: impl Into<Piece>) -> Said {
        self.0.insert(0, context.into());
        self
    }

    /// This message, then `more`.
    pub fn then(mut self, more: impl Into<Said>) -> Said {
        self.0.extend(more.into().0);
        self
    }

    /// Whether the message gives this advice.
    pub fn advises(&self, advice: Advice) -> bool {
        self.0.contains(&Piece::Advice(advice))
    }
}

impl From<&'static str> for Said {
    fn from(text: &'static str) -> Self {
        Said(vec![text.into()])
    }
}

impl From<String> for Said {
    fn from(text: String) -> Self {
        Said(vec![text.into()])
    }
}

impl fmt::Display for Said {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.say(&Flags))
    }
}

/// How a front end names inputs and gives advice.
pub trait Voice {
    /// The input's name, as the front end's user knows it.
    fn input(&self, input: Input) -> Cow<'static, str>;
    /// The advice, in the front end's terms.
    fn advice(&self, advice: Advice) -> Cow<'static, str>;
}

/// The command line's words: flags.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags;

impl Voice for Flags {
    fn input(&self, input: Input) -> Cow<'static, str> {
        Cow::Borrowed(match input {
            Input::Name => "--name",
            Input::Out => "--out",
            Input::Subject => "--subject",
            Input::Days => "--days",
            Input::NotAfter => "--not-after",
            Input::KeySize => "--key-size",
            Input::Keep => "--keep",
            Input::NoPfx => "--no-pfx",
            Input::NoKey => "--no-key",
            Input::MaxLifetime => "--max-lifetime",
        })
    }

    fn advice(&self, advice: Advice) -> Cow<'static, str> {
        Cow::Borrowed(match advice {
            Advice::ReplaceOrWriteElsewhere => {
                "pass --force to replace it (a key, PFX or password it replaces is kept as FILE.bak), or write to \
                 another file"
            }
            Advice::ChooseFormat => "pass --format graph or --format legacy",
            Advice::CertificateNotManifest => {
                "pass it as --cert to rotate it in, and give the app's manifest (Graph or legacy JSON) as --manifest"
            }
            Advice::OutIsAFolder => "--out takes a folder",
            Advice::FolderApart => "put the folder in --out",
        })
    }
}

/// `text` with each control character written escaped (`\u{1b}`), but those `keep` lets through: the one rule
/// for someone else's text in what a person reads (the terminal keeps line breaks and tabs, a report line none).
pub fn escape_controls(text: &str, keep: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    let escaped = |c: char| c.is_control() && !keep(c);
    if !text.chars().any(escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Someone else's text (a name from Graph, a manifest or a certificate, an answer's message) on one line of a
/// text report: every control character, the line break included, written escaped (`\u{a}`), so that it cannot
/// end its line and forge another (an app with a "healthy" verdict, a certificate). JSON keeps it as it is.
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(text, |_| false)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Plain;

    impl Voice for Plain {
        fn input(&self, input: Input) -> Cow<'static, str> {
            Cow::Owned(format!("<{input:?}>"))
        }
        fn advice(&self, advice: Advice) -> Cow<'static, str> {
            Cow::Owned(format!("[{advice:?}]"))
        }
    }

    #[test]
    fn a_message_says_its_inputs_in_the_voice_it_is_given() {
        let message = said!(
            Input::Days,
            format!(" {}: too many; ", 40_000),
            Advice::ChooseFormat
        );
        assert_eq!(
            message.say(&Plain),
            "<Days> 40000: too many; [ChooseFormat]"
        );
        assert_eq!(
            message.to_string(),
            "--days 40000: too many; pass --format graph or --format legacy"
        );
        assert!(message.advises(Advice::ChooseFormat));
        assert!(!message.advises(Advice::FolderApart));
    }
}
