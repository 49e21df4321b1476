//! What keycred knows about a certificate, read from its DER bytes.
//!
//! Every fact keycred prints or puts in a manifest (subject, dates, thumbprints, key) is read back from the
//! DER, whether keycred made the certificate or another tool did. Deriving the output from the bytes, not from
//! the request that produced them, is what keeps a fragment's dates and thumbprints equal to the certificate.

use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use super::thumbprint::{upper_hex, Thumbprints};

/// The kind and size of a public or private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA with a modulus of `bits` bits.
    Rsa {
        /// Modulus size in bits.
        bits: usize,
    },
    /// Elliptic curve on the named curve.
    Ec {
        /// The curve, e.g. `P-256`.
        curve: String,
    },
    /// Anything else (Ed25519, DSA, …).
    Other {
        /// The algorithm's name or OID.
        algorithm: String,
    },
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA {bits}"),
            KeyKind::Ec { curve } => write!(f, "EC {curve}"),
            KeyKind::Other { algorithm } => f.write_str(algorithm),
        }
    }
}

/// The namespace of keycred's certificate keyIds: UUID v5 of the URL `https://keycred/keyId`. Never change it:
/// every fragment keycred wrote would then disagree with the next.
pub const KEY_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x5f2c_6a3e_9d41_5b7a_8e0c_1d2f_3a4b_5c6d);

/// Where a certificate stands relative to a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Before not-before.
    NotYetValid,
    /// Between not-before and not-after.
    Valid,
    /// After not-after.
    Expired,
}

impl Status {
    /// The word used in text and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotYetValid => "not-yet-valid",
            Status::Valid => "valid",
            Status::Expired => "expired",
        }
    }
}

/// The facts of one certificate, owned.
#[derive(Debug, Clone)]
pub struct CertificateInfo {
    der: Vec<u8>,
    subject_public_key: Vec<u8>,
    /// Subject DN as text (`CN=…, O=…`), in encoding order.
    pub subject: String,
    /// The subject's common name, if it has one.
    pub common_name: Option<String>,
    /// Issuer DN as text.
    pub issuer: String,
    /// Serial number, uppercase hex.
    pub serial: String,
    /// Start of validity, UTC.
    pub not_before: OffsetDateTime,
    /// End of validity, UTC.
    pub not_after: OffsetDateTime,
    /// The public key.
    pub key: KeyKind,
    /// The signature algorithm's name (`sha256WithRSAEncryption`) or OID.
    pub signature_algorithm: String,
    /// SHA-1 and SHA-256 of the DER.
    pub thumbprints: Thumbprints,
    /// The DNS names of its subject alternative names, in order (a CA template may require them).
    pub dns_names: Vec<String>,
}

/// A distinguished name as text, each control character written as RFC 4514's `\XX` (its UTF-8 bytes in hex), as
/// OpenSSL's RFC 2253 form writes it. A subject is someone else's text (a CA's, a vault's, a colleague's): a line
/// break in it must not become a line of a report, an environment file or the daemon code `config` writes.
pub fn dn_text(name: &x509_parser::x509::X509Name) -> String {
    let text = name.to_string();
    if !text.chars().any(char::is_control) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                out.push_str(&format!("\\{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl CertificateInfo {
    /// Parses one DER certificate; the whole input must be the certificate. `Err` is a reason for the user.
    pub fn from_der(der: &[u8]) -> Result<CertificateInfo, String> {
        if let Some(declared) = der_total_len(der) {
            if declared > der.len() {
                return Err(format!(
                    "the DER certificate is truncated: its header announces {declared} bytes but there are only {}",
                    der.len()
                ));
            }
        }
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| match e {
            x509_parser::nom::Err::Incomplete(_) => {
                format!("the DER certificate is truncated ({} bytes)", der.len())
            }
            other => format!("not a valid DER certificate ({other})"),
        })?;
        if !rest.is_empty() {
            return Err(format!(
                "{} unexpected bytes follow the DER certificate",
                rest.len()
            ));
        }
        let spki = cert.public_key();
        let key = match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => KeyKind::Rsa {
                bits: rsa.key_size(),
            },
            Ok(PublicKey::EC(_)) => KeyKind::Ec {
                curve: spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|oid| curve_name(&oid.to_id_string()))
                    .unwrap_or_else(|| "unknown curve".into()),
            },
            _ => KeyKind::Other {
                algorithm: algorithm_name(&spki.algorithm.algorithm.to_id_string()),
            },
        };
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned);
        // A malformed or repeated SAN extension gives no names here; the certificate is still what it is.
        let dns_names = match cert.subject_alternative_name() {
            Ok(Some(san)) => san
                .value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    x509_parser::extensions::GeneralName::DNSName(dns) => Some((*dns).to_owned()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(CertificateInfo {
            dns_names,
            der: der.to_vec(),
            subject_public_key: spki.subject_public_key.data.to_vec(),
            subject: dn_text(cert.subject()),
            common_name,
            issuer: dn_text(cert.issuer()),
            serial: upper_hex(cert.raw_serial()),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            key,
            signature_algorithm: algorithm_name(&cert.signature_algorithm.algorithm.to_id_string()),
            thumbprints: Thumbprints::of_der(der),
        })
    }

    /// The certificate's DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subjectPublicKey bit string's bytes (for RSA, the DER `RSAPublicKey`).
    pub fn subject_public_key(&self) -> &[u8] {
        &self.subject_public_key
    }

    /// Valid, expired or not yet valid at `now`.
    pub fn status(&self, now: OffsetDateTime) -> Status {
        if now < self.not_before {
            Status::NotYetValid
        } else if now > self.not_after {
            Status::Expired
        } else {
            Status::Valid
        }
    }

    /// The `keyId` keycred gives this certificate in every fragment: a UUID v5 of its SHA-256 thumbprint, so the
    /// same certificate always has the same keyId (uploading the .cer in the portal assigns the portal's own;
    /// the thumbprint is what identifies a credential there).
    pub fn key_id(&self) -> uuid::Uuid {
        uuid::Uuid::new_v5(&KEY_ID_NAMESPACE, &self.thumbprints.sha256)
    }

    /// Whole days from `now` to not-after; negative once expired.
    pub fn days_left(&self, now: OffsetDateTime) -> i64 {
        (self.not_after - now).whole_days()
    }

    /// Whether subject and issuer are the same name.
    pub fn is_self_issued(&self) -> bool {
        self.subject == self.issuer
    }

    /// Refuses a certificate Entra ID cannot use as a credential, naming `path`: a non-RSA key as
    /// [`crate::Error::NotRsa`], anything else (a small RSA key, a SHA-1 signature) with every problem listed.
    pub fn require_entra_usable(&self, path: &std::path::Path) -> crate::Result<()> {
        let problems = self.entra_problems();
        if problems.is_empty() {
            return Ok(());
        }
        let what = format!("{} ({})", path.display(), self.subject);
        Err(match &self.key {
            KeyKind::Rsa { .. } => crate::Error::NotACertificate {
                path: path.to_owned(),
                reason: format!(
                    "{what} cannot be an Entra ID credential: {}",
                    problems.join("; ")
                ),
            },
            other => crate::Error::NotRsa {
                what,
                found: other.to_string(),
            },
        })
    }

    /// Problems that stop this certificate from being an Entra ID credential, if any.
    pub fn entra_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match self.key {
            KeyKind::Rsa { bits } if bits < 2048 => problems.push(format!(
                "RSA key of {bits} bits: Entra ID requires at least 2048"
            )),
            KeyKind::Rsa { .. } => {}
            ref other => problems.push(format!(
                "{other} key, not RSA: Entra ID certificate credentials need RSA"
            )),
        }
        if self.signature_algorithm.starts_with("sha1With") {
            problems.push("signed with SHA-1, which Entra ID rejects".into());
        }
        problems
    }
}

/// The header length and announced content length of a DER SEQUENCE, if its header is readable.
pub(crate) fn der_sequence_header(der: &[u8]) -> Option<(usize, usize)> {
    if *der.first()? != 0x30 {
        return None;
    }
    let first = *der.get(1)?;
    if first < 0x80 {
        return Some((2, usize::from(first)));
    }
    let count = usize::from(first & 0x7f);
    if count == 0 || count > 4 {
        return None;
    }
    let len = der
        .get(2..2 + count)?
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Some((2 + count, len))
}

/// The total length (header + content) a DER SEQUENCE announces, if the header is readable.
pub(crate) fn der_total_len(der: &[u8]) -> Option<usize> {
    der_sequence_header(der).map(|(header, content)| header + content)
}

/// The name of a named curve's OID.
pub(crate) fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256".into(),
        "1.3.132.0.34" => "P-384".into(),
        "1.3.132.0.35" => "P-521".into(),
        other => other.into(),
    }
}

/// The usual name of a signature or key algorithm OID, or the OID itself.
pub(crate) fn algorithm_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.10040.4.1" => "DSA",
        other => other,
    }
    .to_owned()
}
