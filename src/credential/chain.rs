//! Whether a certificate chains to a CA the tenant trusts: each link's names, and the issuer's signature over it,
//! checked with aws-lc-rs (the crypto keycred already has; no other stack).

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::prelude::{FromDer as _, X509Certificate};

/// How many CA certificates a chain may pass through before keycred stops looking.
const MAX_DEPTH: usize = 8;

/// Whether `issuer` issued `child`: `child`'s issuer name is `issuer`'s subject, and `issuer`'s key verifies
/// `child`'s signature (RSA PKCS#1 v1.5 with SHA-2, or ECDSA P-256/P-384). Anything unreadable or of another
/// algorithm is not issued by it.
pub fn issued_by(child: &[u8], issuer: &[u8]) -> bool {
    let (Ok((_, child)), Ok((_, issuer))) = (
        X509Certificate::from_der(child),
        X509Certificate::from_der(issuer),
    ) else {
        return false;
    };
    if child.issuer().as_raw() != issuer.subject().as_raw() {
        return false;
    }
    let key = issuer.public_key().subject_public_key.data.as_ref();
    // An uncompressed P-256 point is 65 bytes, a P-384 one 97.
    let p384 = key.len() == 97;
    let algorithm: &'static dyn VerificationAlgorithm =
        match child.signature_algorithm.algorithm.to_id_string().as_str() {
            "1.2.840.113549.1.1.11" => &signature::RSA_PKCS1_2048_8192_SHA256,
            "1.2.840.113549.1.1.12" => &signature::RSA_PKCS1_2048_8192_SHA384,
            "1.2.840.113549.1.1.13" => &signature::RSA_PKCS1_2048_8192_SHA512,
            "1.2.840.10045.4.3.2" if p384 => &signature::ECDSA_P384_SHA256_ASN1,
            "1.2.840.10045.4.3.2" => &signature::ECDSA_P256_SHA256_ASN1,
            "1.2.840.10045.4.3.3" if p384 => &signature::ECDSA_P384_SHA384_ASN1,
            "1.2.840.10045.4.3.3" => &signature::ECDSA_P256_SHA384_ASN1,
            _ => return false,
        };
    UnparsedPublicKey::new(algorithm, key)
        .verify(
            child.tbs_certificate.as_ref(),
            child.signature_value.data.as_ref(),
        )
        .is_ok()
}

/// Whether `leaf` chains to one of `roots`, through any of `intermediates` (DER each).
pub fn chains_to(leaf: &[u8], intermediates: &[&[u8]], roots: &[&[u8]]) -> bool {
    let mut current = leaf;
    for _ in 0..MAX_DEPTH {
        if roots.iter().any(|root| issued_by(current, root)) {
            return true;
        }
        match intermediates
            .iter()
            .find(|ca| **ca != current && issued_by(current, ca))
        {
            Some(next) => current = next,
            None => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

    fn ca(name: &str) -> (CertificateParams, KeyPair) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        (params, KeyPair::generate().unwrap())
    }

    #[test]
    fn a_leaf_chains_to_its_root_through_its_intermediate_and_to_nothing_else() {
        let (root_params, root_key) = ca("Root");
        let root = root_params.self_signed(&root_key).unwrap();
        let root_issuer = Issuer::from_params(&root_params, &root_key);
        let (inter_params, inter_key) = ca("Issuing");
        let inter = inter_params.signed_by(&inter_key, &root_issuer).unwrap();
        let inter_issuer = Issuer::from_params(&inter_params, &inter_key);
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "Daemon");
        let leaf = leaf_params.signed_by(&leaf_key, &inter_issuer).unwrap();
        let self_signed = leaf_params.self_signed(&leaf_key).unwrap();
        let (other_params, other_key) = ca("Root");
        let other_root = other_params.self_signed(&other_key).unwrap();

        assert!(issued_by(leaf.der(), inter.der()));
        assert!(!issued_by(leaf.der(), root.der()), "names differ");
        assert!(chains_to(leaf.der(), &[inter.der()], &[root.der()]));
        assert!(
            !chains_to(leaf.der(), &[], &[root.der()]),
            "the intermediate is needed"
        );
        assert!(!chains_to(self_signed.der(), &[inter.der()], &[root.der()]));
        // Same name, another key: the signature decides.
        assert!(!chains_to(leaf.der(), &[inter.der()], &[other_root.der()]));
        assert!(!issued_by(b"not a certificate", root.der()));
    }
}
