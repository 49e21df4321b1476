//! Quoting for the command lines keycred prints (the wizard's equivalent commands, `config`'s `az login`,
//! `api-policy`'s `keycred decode`), so a path or a value with spaces or quotes pastes back into a shell intact.

/// A word for a POSIX shell: as it is when safe, else single-quoted.
pub fn word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn safe_words_stay_and_others_are_quoted() {
        assert_eq!(
            super::word("api://orders/.default"),
            "api://orders/.default"
        );
        assert_eq!(super::word(""), "''");
        assert_eq!(super::word("it's here"), r"'it'\''s here'");
    }
}
