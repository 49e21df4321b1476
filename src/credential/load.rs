//! Reading certificates and PFX files made by any tool.
//!
//! The file's content decides how it is read, not its name: PEM (one certificate or a bundle, optionally with
//! an unencrypted PKCS#8 key), DER, or PKCS#12. A PFX password is asked for only when the file turns out to be a
//! PFX, through a callback, so `inspect cert.pem` never prompts. Each failure says what the file looked like
//! and what keycred expected.

use std::path::{Path, PathBuf};

use super::certificate::CertificateInfo;
use super::key::PrivateKey;
use crate::error::{Error, Result};
use crate::secret::Password;

/// How a file was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// A DER certificate (`.cer`, `.der`, `.crt`).
    Der,
    /// One or more PEM blocks.
    Pem,
    /// PKCS#12 (`.pfx`, `.p12`).
    Pfx,
}

impl Encoding {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Der => "DER",
            Encoding::Pem => "PEM",
            Encoding::Pfx => "PFX",
        }
    }
}

/// What a file held.
#[derive(Debug)]
pub struct Loaded {
    /// The file.
    pub path: PathBuf,
    /// Its encoding.
    pub encoding: Encoding,
    /// Its certificates, the end-entity certificate first for a PFX.
    pub certificates: Vec<CertificateInfo>,
    /// Its private key, if it had one.
    pub key: Option<PrivateKey>,
}

impl Loaded {
    /// The end-entity certificate (the first; `load` always returns at least one) and the key, if any.
    pub fn into_leaf(self) -> (CertificateInfo, Option<PrivateKey>) {
        let certificate = self
            .certificates
            .into_iter()
            .next()
            .expect("load returns at least one certificate");
        (certificate, self.key)
    }
}

/// Reads the file at `path` (size-limited) and loads it, a PFX's password coming from `passwords`.
pub fn load_file(path: &Path, passwords: &crate::input::PasswordSources) -> Result<Loaded> {
    load(path, &crate::input::read_file(path)?, || {
        passwords.existing(path)
    })
}

/// Reads `bytes` (the contents of `path`), asking `password` for a password only if it is a PFX.
pub fn load(
    path: &Path,
    bytes: &[u8],
    password: impl FnOnce() -> Result<Password>,
) -> Result<Loaded> {
    let fail = |reason: String| Error::NotACertificate {
        path: path.to_owned(),
        reason,
    };
    // PEM saved by Windows PowerShell 5.1 or Notepad starts with a byte-order mark.
    let bytes = crate::input::strip_bom(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(fail(
            "the file is empty: expected a certificate (DER or PEM) or a PFX".into(),
        ));
    }
    if looks_like_pem(bytes) {
        return load_pem(path, bytes);
    }
    if is_pfx(bytes) {
        let password = password()?;
        return load_pfx(path, bytes, &password);
    }
    if bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[')
    {
        return Err(fail(
            "is JSON, not a certificate: for the credentials in an app manifest use keycred check FILE (expiry) \
             or keycred rotate --manifest FILE; certificates are DER or PEM files, or a PFX"
                .into(),
        ));
    }
    if bytes.first() != Some(&0x30) {
        return Err(fail(
            "not a certificate: neither PEM text (-----BEGIN CERTIFICATE-----), nor DER, nor a PFX"
                .into(),
        ));
    }
    let cert = CertificateInfo::from_der(bytes).map_err(fail)?;
    Ok(Loaded {
        path: path.to_owned(),
        encoding: Encoding::Der,
        certificates: vec![cert],
        key: None,
    })
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// A PFX is a DER SEQUENCE whose first element is `INTEGER 3` (the PFX version); a certificate's first element
/// is another SEQUENCE.
fn is_pfx(bytes: &[u8]) -> bool {
    super::certificate::der_sequence_header(bytes)
        .is_some_and(|(header, _)| bytes.get(header..header + 3) == Some(&[0x02, 0x01, 0x03][..]))
}

fn load_pem(path: &Path, bytes: &[u8]) -> Result<Loaded> {
    let fail = |reason: String| Error::NotACertificate {
        path: path.to_owned(),
        reason,
    };
    let blocks = pem::parse_many(bytes).map_err(|e| fail(pem_error(&e)))?;
    if blocks.is_empty() {
        return Err(fail(
            "has a -----BEGIN line but no complete PEM block (is the -----END line missing?)"
                .into(),
        ));
    }
    let mut certificates = Vec::new();
    let mut key = None;
    let mut other_tags = Vec::new();
    for (index, block) in blocks.iter().enumerate() {
        match block.tag() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                let cert = CertificateInfo::from_der(block.contents())
                    .map_err(|reason| fail(format!("PEM block {}: {reason}", index + 1)))?;
                certificates.push(cert);
            }
            "PRIVATE KEY" if key.is_none() => {
                let parsed = PrivateKey::from_pkcs8_der(block.contents())
                    .map_err(|reason| fail(format!("PEM block {}: {reason}", index + 1)))?;
                key = Some(parsed);
            }
            other => other_tags.push(other.to_owned()),
        }
    }
    if certificates.is_empty() {
        return Err(fail(format!(
            "contains no CERTIFICATE block (found: {})",
            other_tags
                .iter()
                .chain(key.as_ref().map(|_| "PRIVATE KEY".to_owned()).iter())
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(Loaded {
        path: path.to_owned(),
        encoding: Encoding::Pem,
        certificates,
        key,
    })
}

fn pem_error(error: &pem::PemError) -> String {
    match error {
        pem::PemError::InvalidData(e) => format!("a PEM block's base64 body is malformed ({e})"),
        pem::PemError::MismatchedTags(begin, end) => {
            format!("a PEM block begins with {begin:?} but ends with {end:?}")
        }
        pem::PemError::MissingEndTag => "a PEM block has no -----END line".into(),
        pem::PemError::NotUtf8(_) => "the PEM text is not valid UTF-8".into(),
        other => format!("malformed PEM ({other})"),
    }
}

fn load_pfx(path: &Path, bytes: &[u8], password: &Password) -> Result<Loaded> {
    use p12_keystore::error::Error as P12Error;
    // The work is counted first: a PFX may ask for any number of 1,000,000-round derivations.
    super::pfx_work::check_work(bytes, password.expose()).map_err(|reason| Error::Pfx {
        path: path.to_owned(),
        reason,
    })?;
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(bytes, password.expose()).map_err(
        |e| match e {
            // Without a MAC, a wrong password shows up as bad padding after decryption.
            P12Error::MacError(_) | P12Error::UnpadError => Error::PfxPassword {
                path: path.to_owned(),
            },
            other => Error::Pfx {
                path: path.to_owned(),
                reason: format!("the PFX could not be read ({other})"),
            },
        },
    )?;

    let key_bag = archive.keys.first();
    let key = key_bag
        .map(|bag| {
            PrivateKey::from_pkcs8_der(bag.key.as_der()).map_err(|reason| Error::Pfx {
                path: path.to_owned(),
                reason,
            })
        })
        .transpose()?;
    let key_id = key_bag.and_then(|bag| bag.local_key_id.as_ref().map(|id| id.0.clone()));

    // The certificate paired with the key (same localKeyId) comes first; the rest keep their order.
    let mut bags: Vec<_> = archive.certs.iter().collect();
    if let Some(id) = key_id {
        if let Some(pos) = bags
            .iter()
            .position(|b| b.local_key_id.as_deref() == Some(id.as_slice()))
        {
            let leaf = bags.remove(pos);
            bags.insert(0, leaf);
        }
    }
    let certificates = bags
        .iter()
        .map(|bag| {
            CertificateInfo::from_der(bag.cert.as_der()).map_err(|reason| Error::Pfx {
                path: path.to_owned(),
                reason: format!("a certificate in the PFX is unreadable: {reason}"),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if certificates.is_empty() {
        return Err(Error::Pfx {
            path: path.to_owned(),
            reason: "the PFX holds no certificate".into(),
        });
    }
    Ok(Loaded {
        path: path.to_owned(),
        encoding: Encoding::Pfx,
        certificates,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_password() -> Result<Password> {
        panic!("a non-PFX input must not ask for a password")
    }

    #[test]
    fn garbage_empty_and_bad_pem_are_named() {
        let p = Path::new("x");
        let cases: [(&[u8], &str); 6] = [
            (b"", "the file is empty"),
            (b" \n", "the file is empty"),
            (b"hello world", "neither PEM text"),
            (b"\x30\x82\x01\x00\x30\x82", "truncated"),
            (
                b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
                "base64 body is malformed",
            ),
            (
                b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                "no CERTIFICATE block (found: PUBLIC KEY)",
            ),
        ];
        for (bytes, expected) in cases {
            let err = load(p, bytes, no_password).unwrap_err().to_string();
            assert!(err.contains(expected), "{bytes:?}: {err}");
        }
    }

    #[test]
    fn pfx_is_recognised_by_its_version_field() {
        assert!(is_pfx(&[0x30, 0x82, 0x0a, 0x00, 0x02, 0x01, 0x03]));
        assert!(is_pfx(&[0x30, 0x10, 0x02, 0x01, 0x03]));
        assert!(!is_pfx(&[0x30, 0x82, 0x0a, 0x00, 0x30, 0x82]));
        assert!(!is_pfx(&[0x30]));
    }
}
