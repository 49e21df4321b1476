//! Pure renderers for the files `keycred new` writes: CER, PEM, PKCS#8 and PFX.
//!
//! Each returns bytes; where they go (file, permissions, atomic rename) is decided by [`crate::fsio`].

mod pfx;

pub use pfx::{pfx, pfx_with_chain, PfxProfile, PFX_ITERATIONS};

use zeroize::Zeroizing;

use crate::credential::PrivateKey;

/// The certificate as PEM (`-----BEGIN CERTIFICATE-----`, 64-column base64, LF line endings).
pub fn certificate_pem(der: &[u8]) -> String {
    pem_text("CERTIFICATE", der)
}

/// A certificate request (PKCS#10) as PEM (`-----BEGIN CERTIFICATE REQUEST-----`).
pub fn request_pem(der: &[u8]) -> String {
    pem_text("CERTIFICATE REQUEST", der)
}

/// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). Secret: write it with owner-only permissions.
pub fn private_key_pem(key: &PrivateKey) -> Zeroizing<String> {
    Zeroizing::new(pem_text("PRIVATE KEY", key.pkcs8_der()))
}

fn pem_text(tag: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(tag, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}
