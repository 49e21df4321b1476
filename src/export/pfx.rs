//! PKCS#12 (PFX) export with p12-keystore.
//!
//! Two profiles: `modern` (PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC bags, HMAC-SHA256 MAC), which OpenSSL 3
//! opens without `-legacy`, as do Java keytool, Python `cryptography` and .NET; and `legacy` (3DES bags,
//! HMAC-SHA1 MAC) for Windows Server 2016 and older .NET Framework, which cannot import AES PFX files. RC2-40,
//! which the `p12` crate writes and OpenSSL 3 refuses, is never used.

use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKeyChain,
};

use crate::credential::{CertificateInfo, PrivateKey};
use crate::error::{Error, Result};
use crate::secret::Password;

/// Key-derivation iterations for bag encryption and the MAC: OpenSSL 3's default, and the floor DESIGN.md sets.
pub const PFX_ITERATIONS: u32 = 2048;

/// How the PFX is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PfxProfile {
    /// AES-256-CBC with PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC.
    Modern,
    /// pbeWithSHAAnd3-KeyTripleDES-CBC, HMAC-SHA1 MAC.
    Legacy,
}

impl PfxProfile {
    /// The profile's name as the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PfxProfile::Modern => "modern",
            PfxProfile::Legacy => "legacy",
        }
    }
}

/// Renders a PFX holding `key` and `cert`. The key bag's friendlyName (the alias keytool shows) is the
/// certificate's CN, and both bags carry localKeyId = the SHA-1 thumbprint, as Windows does.
pub fn pfx(
    key: &PrivateKey,
    cert: &CertificateInfo,
    password: &Password,
    profile: PfxProfile,
) -> Result<Vec<u8>> {
    pfx_with_chain(key, cert, &[], password, profile)
}

/// As [`pfx`], with the CA certificates that issued `cert` after it, leaf first, as Windows and OpenSSL expect.
pub fn pfx_with_chain(
    key: &PrivateKey,
    cert: &CertificateInfo,
    chain: &[CertificateInfo],
    password: &Password,
    profile: PfxProfile,
) -> Result<Vec<u8>> {
    key.require_rsa("the PFX key")?;
    let p12_key = p12_keystore::PrivateKey::from_der(key.pkcs8_der())
        .map_err(|e| Error::PfxExport(e.to_string()))?;
    let p12_cert =
        Certificate::from_der(cert.der()).map_err(|e| Error::PfxExport(e.to_string()))?;
    let mut certs = vec![p12_cert];
    for ca in chain {
        certs.push(Certificate::from_der(ca.der()).map_err(|e| Error::PfxExport(e.to_string()))?);
    }
    let chain = PrivateKeyChain::new(cert.thumbprints.sha1.to_vec(), p12_key, certs);
    let alias = cert
        .common_name
        .clone()
        .unwrap_or_else(|| cert.subject.clone());
    let mut store = KeyStore::new();
    store.add_entry(&alias, KeyStoreEntry::PrivateKeyChain(chain));

    let (encryption, mac) = match profile {
        PfxProfile::Modern => (
            EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
            MacAlgorithm::HmacSha256,
        ),
        PfxProfile::Legacy => (
            EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
            MacAlgorithm::HmacSha1,
        ),
    };
    store
        .writer(password.expose())
        .encryption_algorithm(encryption)
        .encryption_iterations(PFX_ITERATIONS)
        .mac_algorithm(mac)
        .mac_iterations(PFX_ITERATIONS)
        .write()
        .map_err(|e| Error::PfxExport(e.to_string()))
}
