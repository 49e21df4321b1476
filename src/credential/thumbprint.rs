//! Certificate thumbprints in every form Entra, Windows, MSAL and JWT headers use.
//!
//! All five forms are encodings of two digests of the certificate's DER bytes. The one mistake worth guarding
//! against here is putting the *hex string* into `customKeyIdentifier`: that field holds the raw 20 SHA-1 bytes
//! (base64 in JSON), which the portal then shows as hex.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The SHA-1 and SHA-256 digests of a certificate's DER encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thumbprints {
    /// SHA-1 of the DER bytes.
    pub sha1: [u8; 20],
    /// SHA-256 of the DER bytes.
    pub sha256: [u8; 32],
}

/// The text forms of a thumbprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbprintForm {
    /// Uppercase hex of SHA-1: Windows certificate store, the portal's Thumbprint column, MSAL `thumbprint`.
    Hex,
    /// Standard base64 of the SHA-1 bytes: `customKeyIdentifier`.
    Base64,
    /// base64url of SHA-1 without padding: JWT header `x5t`.
    X5t,
    /// Uppercase hex of SHA-256: MSAL `thumbprintSha256`.
    Sha256Hex,
    /// base64url of SHA-256 without padding: JWT header `x5t#S256`.
    X5tS256,
}

impl ThumbprintForm {
    /// Every form, in the order keycred prints them.
    pub const ALL: [ThumbprintForm; 5] = [
        ThumbprintForm::Hex,
        ThumbprintForm::Base64,
        ThumbprintForm::X5t,
        ThumbprintForm::Sha256Hex,
        ThumbprintForm::X5tS256,
    ];

    /// The label used in text output and the key used in JSON output.
    pub fn label(self) -> &'static str {
        match self {
            ThumbprintForm::Hex => "sha1",
            ThumbprintForm::Base64 => "sha1Base64",
            ThumbprintForm::X5t => "x5t",
            ThumbprintForm::Sha256Hex => "sha256",
            ThumbprintForm::X5tS256 => "x5t#S256",
        }
    }
}

impl Thumbprints {
    /// Digests the DER bytes of a certificate.
    pub fn of_der(der: &[u8]) -> Thumbprints {
        Thumbprints {
            sha1: Sha1::digest(der).into(),
            sha256: Sha256::digest(der).into(),
        }
    }

    /// One form as text.
    pub fn render(&self, form: ThumbprintForm) -> String {
        match form {
            ThumbprintForm::Hex => upper_hex(&self.sha1),
            ThumbprintForm::Base64 => STANDARD.encode(self.sha1),
            ThumbprintForm::X5t => URL_SAFE_NO_PAD.encode(self.sha1),
            ThumbprintForm::Sha256Hex => upper_hex(&self.sha256),
            ThumbprintForm::X5tS256 => URL_SAFE_NO_PAD.encode(self.sha256),
        }
    }
}

/// Uppercase hex without separators.
pub fn upper_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02X}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Digests of the bytes "abc" are published test vectors (FIPS 180), so every form can be checked against
    // values computed outside this crate.
    #[test]
    fn forms_encode_the_published_abc_vectors() {
        let t = Thumbprints::of_der(b"abc");
        assert_eq!(
            t.render(ThumbprintForm::Hex),
            "A9993E364706816ABA3E25717850C26C9CD0D89D"
        );
        assert_eq!(
            t.render(ThumbprintForm::Base64),
            "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="
        );
        assert_eq!(t.render(ThumbprintForm::X5t), "qZk-NkcGgWq6PiVxeFDCbJzQ2J0");
        assert_eq!(
            t.render(ThumbprintForm::Sha256Hex),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        );
        assert_eq!(
            t.render(ThumbprintForm::X5tS256),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }

    #[test]
    fn base64_form_is_the_raw_digest_not_the_hex_text() {
        let t = Thumbprints::of_der(b"abc");
        let decoded = STANDARD.decode(t.render(ThumbprintForm::Base64)).unwrap();
        assert_eq!(decoded, t.sha1);
        assert_eq!(t.render(ThumbprintForm::Base64).len(), 28);
    }
}
