//! Certificate subjects as admins type them.
//!
//! `--subject` takes either a bare name, which becomes `CN=name`, or a distinguished name written the way
//! Windows and most guides write one (`CN=Contoso Daemon,O=Contoso`). Attributes are encoded in the order they
//! are written, so the certificate shows the subject exactly as typed. Only the attribute types Entra and
//! Windows tools commonly use are accepted; anything else is refused with the list of what is, rather than
//! being silently dropped.

use crate::error::{Error, Result};

/// The upper bound X.520 sets on a common name, which OpenSSL also enforces.
const MAX_ATTRIBUTE_LEN: usize = 64;

/// One attribute type of a subject DN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    /// `CN`, common name.
    CommonName,
    /// `O`, organization.
    Organization,
    /// `OU`, organizational unit.
    OrganizationalUnit,
    /// `L`, locality.
    Locality,
    /// `ST`, state or province.
    State,
    /// `C`, two-letter country code.
    Country,
}

impl Attribute {
    const ALL: [(&'static str, Attribute); 6] = [
        ("CN", Attribute::CommonName),
        ("O", Attribute::Organization),
        ("OU", Attribute::OrganizationalUnit),
        ("L", Attribute::Locality),
        ("ST", Attribute::State),
        ("C", Attribute::Country),
    ];

    /// The short name used in DN strings (`CN`, `O`, …).
    pub fn short_name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(n, _)| *n)
            .expect("every attribute is listed in ALL")
    }

    fn parse(name: &str) -> Option<Attribute> {
        Self::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, a)| *a)
    }
}

/// A validated certificate subject: at least a common name, each attribute at most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    attributes: Vec<(Attribute, String)>,
}

impl Subject {
    /// Parses `--subject`: a bare name or a comma-separated DN.
    pub fn parse(input: &str) -> Result<Subject> {
        let fail = |reason: String| Error::Subject {
            subject: input.to_owned(),
            reason,
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(fail("is empty".into()));
        }
        if let Some(c) = trimmed.chars().find(|c| c.is_control()) {
            return Err(fail(format!("contains the control character {c:?}")));
        }

        let attributes = if trimmed.contains('=') {
            parse_dn(trimmed).map_err(fail)?
        } else {
            vec![(Attribute::CommonName, trimmed.to_owned())]
        };

        for (attr, value) in &attributes {
            if value.chars().count() > MAX_ATTRIBUTE_LEN {
                return Err(fail(format!(
                    "{} is {} characters long; the limit is {MAX_ATTRIBUTE_LEN}",
                    attr.short_name(),
                    value.chars().count()
                )));
            }
            if *attr == Attribute::Country
                && !(value.len() == 2 && value.chars().all(|c| c.is_ascii_alphabetic()))
            {
                return Err(fail(format!(
                    "C={value} is not a two-letter country code (such as US or DE)"
                )));
            }
        }
        if !attributes.iter().any(|(a, _)| *a == Attribute::CommonName) {
            return Err(fail("has no CN (common name)".into()));
        }
        Ok(Subject { attributes })
    }

    /// The attributes in the order they are encoded.
    pub fn attributes(&self) -> &[(Attribute, String)] {
        &self.attributes
    }

    /// The common name.
    pub fn common_name(&self) -> &str {
        self.attributes
            .iter()
            .find(|(a, _)| *a == Attribute::CommonName)
            .map(|(_, v)| v.as_str())
            .expect("a parsed subject always has a CN")
    }

    /// The rcgen form of this subject.
    pub(crate) fn to_distinguished_name(&self) -> Result<rcgen::DistinguishedName> {
        let mut dn = rcgen::DistinguishedName::new();
        for (attr, value) in &self.attributes {
            let ty = match attr {
                Attribute::CommonName => rcgen::DnType::CommonName,
                Attribute::Organization => rcgen::DnType::OrganizationName,
                Attribute::OrganizationalUnit => rcgen::DnType::OrganizationalUnitName,
                Attribute::Locality => rcgen::DnType::LocalityName,
                Attribute::State => rcgen::DnType::StateOrProvinceName,
                Attribute::Country => rcgen::DnType::CountryName,
            };
            // X.520 requires countryName to be a PrintableString.
            let value = if *attr == Attribute::Country {
                rcgen::DnValue::PrintableString(
                    rcgen::string::PrintableString::try_from(value.to_ascii_uppercase())
                        .map_err(|e| Error::Generation(e.to_string()))?,
                )
            } else {
                rcgen::DnValue::Utf8String(value.clone())
            };
            dn.push(ty, value);
        }
        Ok(dn)
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (attr, value)) in self.attributes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={}", attr.short_name(), value)?;
        }
        Ok(())
    }
}

/// Splits a DN on unescaped commas and reads each `TYPE=value` pair.
fn parse_dn(input: &str) -> std::result::Result<Vec<(Attribute, String)>, String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => {
                    current.push('\\');
                    current.push(escaped);
                }
                None => return Err("ends with a lone backslash".into()),
            },
            ',' => parts.push(std::mem::take(&mut current)),
            '+' => {
                return Err(
                    "uses '+' (multi-valued RDN), which keycred does not write; escape it as \\+"
                        .into(),
                )
            }
            _ => current.push(c),
        }
    }
    parts.push(current);

    let mut attributes: Vec<(Attribute, String)> = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        let position = index + 1;
        let Some((name, raw_value)) = part.split_once('=') else {
            return Err(format!(
                "part {position} ({:?}) is not TYPE=value",
                part.trim()
            ));
        };
        let name = name.trim();
        let attr = Attribute::parse(name).ok_or_else(|| {
            let known: Vec<_> = Attribute::ALL.iter().map(|(n, _)| *n).collect();
            format!(
                "unknown attribute type {name:?} in part {position} (keycred writes {})",
                known.join(", ")
            )
        })?;
        let value = unescape(raw_value.trim())?;
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            return Err(format!(
                "{} contains the control character {c:?}",
                attr.short_name()
            ));
        }
        if value.is_empty() {
            return Err(format!("{} has an empty value", attr.short_name()));
        }
        if attributes.iter().any(|(a, _)| *a == attr) {
            return Err(format!("{} appears more than once", attr.short_name()));
        }
        attributes.push((attr, value));
    }
    Ok(attributes)
}

/// Undoes a DN value's escapes: `\,` and the like stand for the character, and RFC 4514's `\XX` for a byte of
/// its UTF-8 (`\2C` is a comma; keycred and OpenSSL write a control character as one, `\0A`).
fn unescape(value: &str) -> std::result::Result<String, String> {
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c != '\\' {
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            continue;
        }
        let pair = rest
            .get(..2)
            .filter(|p| p.bytes().all(|b| b.is_ascii_hexdigit()));
        match (pair, rest.chars().next()) {
            (Some(pair), _) => {
                out.push(u8::from_str_radix(pair, 16).expect("two hex digits"));
                rest = &rest[2..];
            }
            (None, Some(next)) => {
                out.extend_from_slice(next.encode_utf8(&mut [0; 4]).as_bytes());
                rest = &rest[next.len_utf8()..];
            }
            (None, None) => {}
        }
    }
    String::from_utf8(out).map_err(|_| format!("{value:?} has \\XX escapes that are not UTF-8"))
}

/// The subject of a certificate named after something else (an app's display name, which Graph lets hold any
/// text): `CN=` with the DN's special characters escaped, control characters and surrounding spaces dropped, and
/// cut to the 64 characters a CN may have; `fallback` (an appId) when nothing is left. It always parses.
pub fn common_name_subject(name: &str, fallback: &str) -> String {
    let cleaned: String = name.chars().filter(|c| !c.is_control()).collect();
    let source = match cleaned.trim() {
        "" => fallback.trim(),
        trimmed => trimmed,
    };
    let value: String = source.chars().take(MAX_ATTRIBUTE_LEN).collect();
    let mut out = String::from("CN=");
    for (i, c) in value.trim_end().chars().enumerate() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') || (i == 0 && c == '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_escapes_stand_for_bytes_and_a_control_character_is_refused() {
        let parsed = super::Subject::parse(r"CN=Orders\2C Billing,O=Caf\C3\A9 \3D Bar").unwrap();
        assert_eq!(parsed.common_name(), "Orders, Billing");
        assert_eq!(parsed.attributes()[1].1, "Café = Bar");
        // A non-hex pair is the character itself, as before.
        assert_eq!(
            super::Subject::parse(r"CN=C\3PO").unwrap().common_name(),
            "C3PO"
        );
        // What keycred (and OpenSSL) print for a certificate whose name holds a line break.
        let err = super::Subject::parse(r"CN=Fixture\0Aimport os")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("CN contains the control character '\\n'"),
            "{err}"
        );
        let err = super::Subject::parse(r"CN=a\FF").unwrap_err().to_string();
        assert!(err.contains("not UTF-8"), "{err}");
    }

    #[test]
    fn a_display_name_always_makes_a_subject() {
        let long = "Orders ".repeat(20);
        for (name, cn) in [
            ("Contoso, Orders + Billing", "Contoso, Orders + Billing"),
            ("a=b;c<d>\"e\\f", "a=b;c<d>\"e\\f"),
            ("#1 app", "#1 app"),
            ("   ", "20000000-0000-4000-8000-000000000001"),
            ("tab\there\u{1b}[2K", "tabhere[2K"),
        ] {
            let subject = common_name_subject(name, "20000000-0000-4000-8000-000000000001");
            let parsed =
                Subject::parse(&subject).unwrap_or_else(|e| panic!("{name:?}: {subject}: {e}"));
            assert_eq!(parsed.common_name(), cn, "{name:?}");
        }
        let subject = Subject::parse(&common_name_subject(&long, "x")).unwrap();
        assert_eq!(subject.common_name(), long[..64].trim_end());
    }

    use super::*;

    #[test]
    fn bare_name_becomes_common_name() {
        let s = Subject::parse("  Contoso Daemon ").unwrap();
        assert_eq!(s.common_name(), "Contoso Daemon");
        assert_eq!(s.to_string(), "CN=Contoso Daemon");
    }

    #[test]
    fn dn_keeps_written_order_and_escapes() {
        let s = Subject::parse(r"CN=Daemon\, Prod, O = Contoso ,c=us").unwrap();
        assert_eq!(
            s.attributes(),
            &[
                (Attribute::CommonName, "Daemon, Prod".to_owned()),
                (Attribute::Organization, "Contoso".to_owned()),
                (Attribute::Country, "us".to_owned()),
            ]
        );
    }

    #[test]
    fn malformed_subjects_name_the_problem() {
        let cases = [
            ("", "is empty"),
            ("   ", "is empty"),
            ("O=Contoso", "has no CN"),
            ("CN=a,CN=b", "CN appears more than once"),
            ("CN=", "CN has an empty value"),
            ("CN=a,,O=b", "part 2"),
            ("CN=a,XX=b", "unknown attribute type \"XX\""),
            ("CN=a,C=USA", "not a two-letter country code"),
            ("CN=a+O=b", "multi-valued RDN"),
            ("CN=a\\", "lone backslash"),
            ("bad\u{7}name", "control character"),
        ];
        for (input, expected) in cases {
            let err = Subject::parse(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
        let long = "x".repeat(65);
        let err = Subject::parse(&long).unwrap_err().to_string();
        assert!(err.contains("65 characters long"), "{err}");
    }
}
