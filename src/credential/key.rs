//! Private keys: generation, identification, and the self-signed certificate built from one.
//!
//! A [`PrivateKey`] is only PKCS#8 bytes plus what kind of key they hold. It stays apart from the certificate
//! until an exporter puts the two together, its bytes are wiped on drop, and its `Debug` never shows them.
//! Every private-key operation goes through aws-lc-rs (via rcgen or directly): never through the `rsa` crate,
//! which carries RUSTSEC-2023-0071 (a timing side channel).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::KeyPair as _;
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use super::certificate::{CertificateInfo, KeyKind};
use super::request::{CertRequest, KeySize};
use crate::error::{Error, Result};

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";

/// A private key in PKCS#8 form.
pub struct PrivateKey {
    pkcs8: Zeroizing<Vec<u8>>,
    kind: KeyKind,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Generates a new RSA key with aws-lc-rs.
    pub fn generate(size: KeySize) -> Result<PrivateKey> {
        let aws_size = match size {
            KeySize::Rsa2048 => aws_lc_rs::rsa::KeySize::Rsa2048,
            KeySize::Rsa3072 => aws_lc_rs::rsa::KeySize::Rsa3072,
            KeySize::Rsa4096 => aws_lc_rs::rsa::KeySize::Rsa4096,
        };
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_size)
            .map_err(|_| Error::Generation("RSA key generation failed".into()))?;
        let der = pair
            .as_der()
            .map_err(|_| Error::Generation("RSA key could not be encoded as PKCS#8".into()))?;
        Ok(PrivateKey {
            pkcs8: Zeroizing::new(der.as_ref().to_vec()),
            kind: KeyKind::Rsa {
                bits: size.bits() as usize,
            },
        })
    }

    /// Reads a PKCS#8 (unencrypted) private key; `Err` carries a reason for the user.
    pub fn from_pkcs8_der(der: &[u8]) -> std::result::Result<PrivateKey, String> {
        let algorithm = pkcs8_algorithm(der)?;
        let kind = match algorithm.oid.as_str() {
            OID_RSA => {
                let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(der)
                    .map_err(|e| match e.to_string().as_str() {
                        "TooSmall" => "the RSA key is smaller than 2048 bits: Entra ID requires at least 2048 \
                                       (make a new key: keycred csr, or keycred new)"
                            .to_owned(),
                        other => format!("the RSA private key is malformed ({other})"),
                    })?;
                KeyKind::Rsa {
                    bits: pair.public_modulus_len() * 8,
                }
            }
            OID_EC => KeyKind::Ec {
                curve: algorithm
                    .parameter_oid
                    .as_deref()
                    .map(super::certificate::curve_name)
                    .unwrap_or_else(|| "unknown curve".into()),
            },
            other => KeyKind::Other {
                algorithm: super::certificate::algorithm_name(other),
            },
        };
        Ok(PrivateKey {
            pkcs8: Zeroizing::new(der.to_vec()),
            kind,
        })
    }

    /// What kind of key this is.
    pub fn kind(&self) -> &KeyKind {
        &self.kind
    }

    /// The PKCS#8 DER bytes (secret).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The RSA key as PKCS#1 `RSAPrivateKey` DER (secret, wiped on drop): the PKCS#8 wrapper's inner key, which is
    /// what JWT signers take. `None` for other kinds of key.
    pub fn rsa_pkcs1_der(&self) -> Option<Zeroizing<Vec<u8>>> {
        use x509_parser::der_parser::ber::BerObjectContent;
        if !matches!(self.kind, KeyKind::Rsa { .. }) {
            return None;
        }
        let (_, outer) = x509_parser::der_parser::parse_der(&self.pkcs8).ok()?;
        let BerObjectContent::Sequence(fields) = &outer.content else {
            return None;
        };
        match fields.get(2).map(|f| &f.content) {
            Some(BerObjectContent::OctetString(inner)) => Some(Zeroizing::new(inner.to_vec())),
            _ => None,
        }
    }

    /// Refuses anything but RSA, naming `what` in the error.
    pub fn require_rsa(&self, what: &str) -> Result<()> {
        match self.kind {
            KeyKind::Rsa { .. } => Ok(()),
            ref other => Err(Error::NotRsa {
                what: what.to_owned(),
                found: other.to_string(),
            }),
        }
    }

    /// Whether this key is the private half of the certificate's public key. RSA and EC (P-256, P-384, P-521)
    /// keys are compared by their public halves; a key of another kind than the certificate's never matches;
    /// anything that cannot be compared answers `None`.
    pub fn matches(&self, cert: &CertificateInfo) -> Option<bool> {
        match (&self.kind, &cert.key) {
            (KeyKind::Rsa { .. }, KeyKind::Rsa { .. })
            | (KeyKind::Ec { .. }, KeyKind::Ec { .. }) => {
                Some(self.public_key()? == cert.subject_public_key())
            }
            (KeyKind::Other { .. }, _) | (_, KeyKind::Other { .. }) => None,
            // An RSA key and an EC certificate, or the other way round.
            _ => Some(false),
        }
    }

    /// The public half, as a certificate's subject public key bits hold it
    /// ([`CertificateInfo::subject_public_key`]); `None` for a kind keycred cannot compute it for.
    pub fn public_key(&self) -> Option<Vec<u8>> {
        match &self.kind {
            KeyKind::Rsa { .. } => {
                let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&self.pkcs8).ok()?;
                Some(pair.public_key().as_ref().to_vec())
            }
            KeyKind::Ec { .. } => {
                use aws_lc_rs::signature::{
                    EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING,
                    ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P521_SHA512_ASN1_SIGNING,
                };
                [
                    &ECDSA_P256_SHA256_ASN1_SIGNING,
                    &ECDSA_P384_SHA384_ASN1_SIGNING,
                    &ECDSA_P521_SHA512_ASN1_SIGNING,
                ]
                .into_iter()
                .find_map(|alg| EcdsaKeyPair::from_pkcs8(alg, &self.pkcs8).ok())
                .map(|pair| pair.public_key().as_ref().to_vec())
            }
            KeyKind::Other { .. } => None,
        }
    }
}

/// Builds and signs the self-signed certificate for `request` with `key`, returning its DER.
///
/// Every field is set from the request; none is left to rcgen's defaults (validity 1975–4096, a placeholder
/// CN). Extensions follow `New-SelfSignedCertificate`: BasicConstraints CA:false, KeyUsage digitalSignature +
/// keyEncipherment, EKU clientAuth, and a SubjectKeyIdentifier computed as RFC 5280 method 1 (SHA-1 of the
/// public key bits), as OpenSSL and Windows do, with an AuthorityKeyIdentifier equal to it (a self-signed
/// certificate is its own authority; `openssl req -x509` and `New-SelfSignedCertificate` both include it, and
/// strict linters expect it).
pub fn build_certificate(request: &CertRequest, key: &PrivateKey) -> Result<Vec<u8>> {
    key.require_rsa("the signing key")?;
    let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(key.pkcs8_der());
    let signer =
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, request.hash.rcgen_algorithm())
            .map_err(|e| Error::Generation(e.to_string()))?;
    build_certificate_with(request, &signer)
}

/// As [`build_certificate`], signed by `signer`: a key keycred holds, or one that signs elsewhere (a PKCS#11
/// token), whose public key and algorithm it gives.
pub fn build_certificate_with(
    request: &CertRequest,
    signer: &impl rcgen::SigningKey,
) -> Result<Vec<u8>> {
    let mut params = rcgen::CertificateParams::default();
    params.not_before = request.not_before;
    params.not_after = request.not_after;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&request.serial));
    params.distinguished_name = request.subject.to_distinguished_name()?;
    params.subject_alt_names = Vec::new();
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    params.key_identifier_method =
        rcgen::KeyIdMethod::PreSpecified(Sha1::digest(signer.der_bytes()).to_vec());

    let cert = params
        .self_signed(signer)
        .map_err(|e| Error::Generation(e.to_string()))?;
    Ok(cert.der().to_vec())
}

/// Checks a DNS name for a subject alternative name as a CA checks it: dot-separated labels of 1 to 63 ASCII
/// letters, digits and `-` (not at a label's ends), 253 characters at most, and at most a leading `*.` wildcard.
pub fn check_dns_name(name: &str) -> Result<()> {
    let fail = |why: &str| {
        Err(Error::Invalid(format!(
            "--dns {name:?} is not a DNS name: {why} (such as daemon.contoso.com, or *.contoso.com)"
        )))
    };
    let host = name.strip_prefix("*.").unwrap_or(name);
    if host.is_empty() || name.len() > 253 {
        return fail("it must have 1 to 253 characters");
    }
    for label in host.split('.') {
        if label.is_empty() || label.len() > 63 {
            return fail("each dot-separated label has 1 to 63 characters");
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return fail("a label holds only ASCII letters, digits and '-'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return fail("a label neither starts nor ends with '-'");
        }
    }
    Ok(())
}

/// A PKCS#10 certificate request (PEM) for `subject` with `key`: the key usages and the `clientAuth` extended key
/// usage a client credential needs, and `dns` as subject alternative names, asked for in an extension request,
/// signed with `key` (`hash`). What the CA returns is imported with `keycred import`.
pub fn build_request(
    subject: &super::Subject,
    dns: &[String],
    key: &PrivateKey,
    hash: super::SignatureHash,
) -> Result<String> {
    key.require_rsa("the request's key")?;
    let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(key.pkcs8_der());
    let signer = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, hash.rcgen_algorithm())
        .map_err(|e| Error::Generation(e.to_string()))?;
    build_request_with(subject, dns, &signer)
}

/// As [`build_request`], signed by `signer` (a key keycred holds, or one that signs elsewhere).
pub fn build_request_with(
    subject: &super::Subject,
    dns: &[String],
    signer: &impl rcgen::SigningKey,
) -> Result<String> {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = subject.to_distinguished_name()?;
    params.subject_alt_names = dns
        .iter()
        .map(|name| {
            check_dns_name(name)?;
            rcgen::string::Ia5String::try_from(name.as_str())
                .map(rcgen::SanType::DnsName)
                .map_err(|_| Error::Invalid(format!("--dns {name:?} is not ASCII")))
        })
        .collect::<Result<_>>()?;
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    params
        .serialize_request(signer)
        .and_then(|request| request.pem())
        .map_err(|e| Error::Generation(e.to_string()))
}

struct Pkcs8Algorithm {
    oid: String,
    parameter_oid: Option<String>,
}

/// Reads the AlgorithmIdentifier of a PKCS#8 PrivateKeyInfo without decoding the key itself.
fn pkcs8_algorithm(der: &[u8]) -> std::result::Result<Pkcs8Algorithm, String> {
    use x509_parser::der_parser::ber::BerObjectContent;
    let not_pkcs8 = || "the private key is not PKCS#8 (PrivateKeyInfo)".to_string();
    let (_, outer) = x509_parser::der_parser::parse_der(der).map_err(|_| not_pkcs8())?;
    let BerObjectContent::Sequence(fields) = &outer.content else {
        return Err(not_pkcs8());
    };
    let Some(BerObjectContent::Sequence(alg)) = fields.get(1).map(|f| &f.content) else {
        return Err(not_pkcs8());
    };
    let oid = alg
        .first()
        .and_then(|o| o.as_oid().ok())
        .map(|o| o.to_id_string())
        .ok_or_else(not_pkcs8)?;
    let parameter_oid = alg
        .get(1)
        .and_then(|o| o.as_oid().ok())
        .map(|o| o.to_id_string());
    Ok(Pkcs8Algorithm { oid, parameter_oid })
}

#[cfg(test)]
mod tests {
    use super::check_dns_name;

    #[test]
    fn dns_names_are_checked_as_a_ca_checks_them() {
        for good in ["daemon.contoso.com", "*.contoso.com", "a", "x-1.y"] {
            assert!(check_dns_name(good).is_ok(), "{good}");
        }
        let long = "a".repeat(64);
        for bad in [
            "bad name!",
            "",
            "a..b",
            "-a.b",
            "a-.b",
            "*",
            "a.*.b",
            "ümlaut.de",
            &long,
        ] {
            assert!(check_dns_name(bad).is_err(), "{bad}");
        }
    }
}
