//! What a CA returns, read: a DER or PEM certificate, a PEM chain, or a PKCS#7 `.p7b` (DER or PEM, as AD CS web
//! enrollment gives it), parsed with RustCrypto's CMS types; then the leaf found by its key, the chain ordered
//! from it, and the checks Entra and the clients will make.

use std::path::Path;

use der::{Decode as _, Encode as _};
use x509_parser::prelude::FromDer as _;

use super::{CertificateInfo, PrivateKey, Status};
use crate::error::{Error, Result};

/// Every certificate in `files` (what a CA returned, then more CA certificates), read as [`certificates_in`]
/// reads one file, in order.
pub fn certificates_in_files<'a>(
    files: impl IntoIterator<Item = &'a std::path::PathBuf>,
) -> Result<Vec<CertificateInfo>> {
    let mut certs = Vec::new();
    for path in files {
        certs.extend(certificates_in(path, &crate::input::read_file(path)?)?);
    }
    Ok(certs)
}

/// Every certificate in `bytes` (the contents of `path`), in file order.
pub fn certificates_in(path: &Path, bytes: &[u8]) -> Result<Vec<CertificateInfo>> {
    let fail = |reason: String| Error::NotACertificate {
        path: path.to_owned(),
        reason,
    };
    let bytes = crate::input::strip_bom(bytes);
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let blocks = pem::parse_many(bytes).map_err(|e| fail(format!("unreadable PEM ({e})")))?;
        let mut certs = Vec::new();
        for block in &blocks {
            match block.tag() {
                "CERTIFICATE" | "X509 CERTIFICATE" => {
                    certs.push(CertificateInfo::from_der(block.contents()).map_err(&fail)?)
                }
                "PKCS7" | "CMS" => certs.extend(pkcs7(path, block.contents())?),
                _ => {}
            }
        }
        if certs.is_empty() {
            return Err(fail(
                "holds no CERTIFICATE or PKCS7 block: expected what the CA returned (a .cer, a PEM chain or a .p7b)"
                    .into(),
            ));
        }
        return Ok(certs);
    }
    match CertificateInfo::from_der(bytes) {
        Ok(cert) => Ok(vec![cert]),
        Err(_) => pkcs7(path, bytes),
    }
}

/// The certificates of a PKCS#7 / CMS SignedData (a "certs-only" .p7b).
fn pkcs7(path: &Path, der_bytes: &[u8]) -> Result<Vec<CertificateInfo>> {
    let fail = |reason: String| Error::NotACertificate {
        path: path.to_owned(),
        reason,
    };
    let info = cms::content_info::ContentInfo::from_der(der_bytes).map_err(|_| {
        fail(
            "neither a certificate (DER or PEM) nor a PKCS#7 .p7b: expected what the CA returned"
                .into(),
        )
    })?;
    let signed: cms::signed_data::SignedData = info
        .content
        .decode_as()
        .map_err(|e| fail(format!("a PKCS#7 file, but not SignedData ({e})")))?;
    let mut certs = Vec::new();
    for choice in signed.certificates.iter().flat_map(|set| set.0.iter()) {
        if let cms::cert::CertificateChoices::Certificate(cert) = choice {
            let der = cert
                .to_der()
                .map_err(|e| fail(format!("a certificate in the .p7b cannot be encoded ({e})")))?;
            certs.push(CertificateInfo::from_der(&der).map_err(&fail)?);
        }
    }
    if certs.is_empty() {
        return Err(fail("is a .p7b without certificates".into()));
    }
    Ok(certs)
}

/// The issued certificate and the CA certificates above it.
#[derive(Debug)]
pub struct Issued {
    /// The certificate for the key.
    pub leaf: CertificateInfo,
    /// Its issuers, nearest first (the root last, when given).
    pub chain: Vec<CertificateInfo>,
    /// What works but deserves a look (an intermediate ending before the leaf).
    pub warnings: Vec<String>,
}

/// Finds the certificate for `key` among `certs`, orders the others as its chain, and checks what Entra and the
/// clients will meet: RSA of at least 2048 bits, a SHA-2 signature, validity now, key usage and extended key
/// usage that allow client authentication, and CA certificates valid now.
pub fn assemble(
    certs: Vec<CertificateInfo>,
    key: &PrivateKey,
    source: &str,
    now: time::OffsetDateTime,
) -> Result<Issued> {
    assemble_for(certs, |c| key.matches(c) == Some(true), source, now)
}

/// As [`assemble`], the certificate found by `is_leaf` (for a key kept elsewhere: its public key).
pub fn assemble_for(
    certs: Vec<CertificateInfo>,
    is_leaf: impl Fn(&CertificateInfo) -> bool,
    source: &str,
    now: time::OffsetDateTime,
) -> Result<Issued> {
    let refuse =
        |reason: String| Error::Refused(format!("{source}: {reason}; nothing was written"));
    let Some(position) = certs.iter().position(is_leaf) else {
        return Err(refuse(format!(
            "none of its certificates is for the key given ({}): did the CA sign another request?",
            certs
                .iter()
                .map(|c| c.subject.clone())
                .collect::<Vec<_>>()
                .join("; ")
        )));
    };
    let mut rest = certs;
    let leaf = rest.remove(position);
    let problems = leaf.entra_problems();
    if !problems.is_empty() {
        return Err(refuse(format!(
            "{} cannot be an Entra ID credential: {}",
            leaf.subject,
            problems.join("; ")
        )));
    }
    match leaf.status(now) {
        Status::Valid => {}
        Status::Expired => {
            return Err(refuse(format!(
                "{} expired on {}",
                leaf.subject,
                crate::time_fmt::rfc3339_utc(leaf.not_after)
            )))
        }
        Status::NotYetValid => {
            return Err(refuse(format!(
                "{} is valid only from {}",
                leaf.subject,
                crate::time_fmt::rfc3339_utc(leaf.not_before)
            )))
        }
    }
    client_auth_allowed(&leaf).map_err(|reason| refuse(format!("{}: {reason}", leaf.subject)))?;
    // The chain: each certificate's issuer next, as far as the given certificates go.
    let mut chain = Vec::new();
    let mut issuer = leaf.issuer.clone();
    while let Some(i) = rest.iter().position(|c| {
        c.subject == issuer
            && !chain
                .iter()
                .any(|k: &CertificateInfo| k.subject == c.subject)
    }) {
        let ca = rest.remove(i);
        issuer = ca.issuer.clone();
        let self_signed = ca.subject == ca.issuer;
        chain.push(ca);
        if self_signed {
            break;
        }
    }
    let mut warnings = Vec::new();
    for ca in &chain {
        if ca.status(now) != Status::Valid {
            return Err(refuse(format!(
                "the CA certificate {} is not valid now (it runs from {} to {}): clients will refuse the chain",
                ca.subject,
                crate::time_fmt::rfc3339_utc(ca.not_before),
                crate::time_fmt::rfc3339_utc(ca.not_after)
            )));
        }
        if ca.not_after < leaf.not_after {
            warnings.push(format!(
                "the CA certificate {} ends {}, before the certificate does ({}): renew the chain by then",
                ca.subject,
                crate::time_fmt::rfc3339_utc(ca.not_after),
                crate::time_fmt::rfc3339_utc(leaf.not_after)
            ));
        }
    }
    for unused in &rest {
        warnings.push(format!(
            "{} is not in the certificate's chain and was left out",
            unused.subject
        ));
    }
    Ok(Issued {
        leaf,
        chain,
        warnings,
    })
}

/// Key usage (when present) must allow digitalSignature; extended key usage (when present) clientAuth or any.
fn client_auth_allowed(cert: &CertificateInfo) -> std::result::Result<(), String> {
    let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(cert.der())
        .map_err(|e| format!("unreadable ({e})"))?;
    if let Ok(Some(ku)) = parsed.key_usage() {
        if !ku.value.digital_signature() {
            return Err(
                "its key usage does not allow digitalSignature, which a client assertion needs"
                    .into(),
            );
        }
    }
    if let Ok(Some(eku)) = parsed.extended_key_usage() {
        if !eku.value.client_auth && !eku.value.any {
            return Err(
                "its extended key usage does not allow client authentication (clientAuth)".into(),
            );
        }
    }
    Ok(())
}
