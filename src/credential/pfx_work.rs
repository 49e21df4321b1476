//! The key-derivation work a PFX asks for, counted before it is done.
//!
//! Reading a PFX runs a password-based key derivation for its MAC, for every encrypted safe and for every shrouded
//! key bag, each with the iteration count the file names. The PFX library caps each one at 1,000,000, but not their
//! sum: a 16 MB file that repeats one bag with 1,000,000 rounds costs half an hour of CPU. So the iterations are
//! added up first, from the file's structure (an encrypted safe is opened to count the bags inside it), and a file
//! that asks for more than [`WORK_LIMIT`] in all is refused before any of it is done. What cannot be parsed here is
//! left to the PFX library, which reports it.

use cms::content_info::ContentInfo;
use cms::encrypted_data::EncryptedData;
use der::asn1::{ContextSpecific, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use pkcs12::pbe_params::EncryptedPrivateKeyInfo;
use pkcs12::pfx::Pfx;
use pkcs12::safe_bag::SafeContents;
use spki::AlgorithmIdentifierOwned;

/// The most key-derivation iterations one PFX may ask for in all: about a second or two of CPU. keycred's own PFX
/// asks for 6,144 (2,048 for the MAC, the certificates and the key), OpenSSL 3's the same, and a PFX made with
/// 600,000 per derivation (the strictest advice today) 1,800,000.
pub const WORK_LIMIT: u64 = 10_000_000;

/// The PFX library's cap on one derivation: what a derivation counts when its count cannot be read.
const ONE_DERIVATION_CAP: u64 = 1_000_000;

const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const SHROUDED_KEY_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const SECRET_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.5");
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const PBE_SHA_3DES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");
const PBE_SHA_RC2_40: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.6");

/// The iterations counted so far.
struct Budget(u64);

impl Budget {
    fn spend(&mut self, iterations: u64) -> Result<(), String> {
        self.0 = self.0.saturating_add(iterations);
        if self.0 > WORK_LIMIT {
            return Err(format!(
                "the PFX asks for more than {WORK_LIMIT} key-derivation iterations in all (its MAC, safes and key \
                 bags), far beyond any real PFX: it was not read. Export it again with common settings (OpenSSL 3, \
                 keycred new)"
            ));
        }
        Ok(())
    }
}

/// The key-derivation iterations reading the PFX `bytes` with `password` costs (what this could count of it), or
/// `Err(why)` when that is more than [`WORK_LIMIT`].
pub fn check_work(bytes: &[u8], password: &str) -> Result<u64, String> {
    let Ok(pfx) = Pfx::from_der(bytes) else {
        return Ok(0);
    };
    let mut budget = Budget(0);
    if let Some(mac) = &pfx.mac_data {
        budget.spend(
            u64::try_from(mac.iterations)
                .unwrap_or(ONE_DERIVATION_CAP)
                .max(1),
        )?;
    }
    if pfx.auth_safe.content_type != DATA {
        return Ok(budget.0);
    }
    let Some(safes) = octets(&pfx.auth_safe).and_then(|d| Vec::<ContentInfo>::from_der(&d).ok())
    else {
        return Ok(budget.0);
    };
    for safe in &safes {
        let contents = match safe.content_type {
            DATA => octets(safe),
            ENCRYPTED_DATA => {
                let Some(encrypted) = safe
                    .content
                    .to_der()
                    .ok()
                    .and_then(|d| EncryptedData::from_der(&d).ok())
                else {
                    continue;
                };
                let info = &encrypted.enc_content_info;
                budget.spend(iterations(&info.content_enc_alg))?;
                info.encrypted_content
                    .as_ref()
                    .and_then(|data| decrypt(&info.content_enc_alg, data.as_bytes(), password))
            }
            _ => None,
        };
        let Some(bags) = contents.and_then(|c| SafeContents::from_der(&c).ok()) else {
            continue;
        };
        for bag in &bags {
            match bag.bag_id {
                SHROUDED_KEY_BAG => budget.spend(
                    ContextSpecific::<EncryptedPrivateKeyInfo>::from_der(&bag.bag_value)
                        .map_or(ONE_DERIVATION_CAP, |key| {
                            iterations(&key.value.encryption_algorithm)
                        }),
                )?,
                // The library tries to open a secret bag's key too.
                SECRET_BAG => budget.spend(ONE_DERIVATION_CAP)?,
                _ => {}
            }
        }
    }
    Ok(budget.0)
}

/// The bytes of a `data` content (an OCTET STRING).
fn octets(info: &ContentInfo) -> Option<Vec<u8>> {
    let der = info.content.to_der().ok()?;
    Some(OctetString::from_der(&der).ok()?.into_bytes().into_vec())
}

/// The iterations one derivation with `algorithm` costs: PBES2's PBKDF2 count, the PKCS#12 PBE count, else the
/// library's cap (a scheme it refuses costs nothing, but is not worth telling apart).
fn iterations(algorithm: &AlgorithmIdentifierOwned) -> u64 {
    let Some(params) = algorithm.parameters.as_ref().and_then(|p| p.to_der().ok()) else {
        return ONE_DERIVATION_CAP;
    };
    match algorithm.oid {
        PBES2 => match pkcs5::pbes2::Parameters::from_der(&params).map(|p| p.kdf) {
            Ok(pkcs5::pbes2::Kdf::Pbkdf2(pbkdf2)) => u64::from(pbkdf2.iteration_count).max(1),
            _ => ONE_DERIVATION_CAP,
        },
        _ => pkcs12::pbe_params::Pkcs12PbeParams::from_der(&params)
            .ok()
            .and_then(|p| u64::try_from(p.iterations).ok())
            .map_or(ONE_DERIVATION_CAP, |n| n.max(1)),
    }
}

/// An encrypted safe's contents, to count the bags inside; `None` when this cannot open it (the library then says
/// why, or opens what this does not know).
fn decrypt(algorithm: &AlgorithmIdentifierOwned, data: &[u8], password: &str) -> Option<Vec<u8>> {
    use cbc::cipher::{block_padding::Pkcs7, BlockModeDecrypt, KeyIvInit};
    let params = algorithm.parameters.as_ref()?.to_der().ok()?;
    match algorithm.oid {
        PBES2 => pkcs5::pbes2::Parameters::from_der(&params)
            .ok()?
            .decrypt(password.as_bytes(), data)
            .ok(),
        PBE_SHA_3DES | PBE_SHA_RC2_40 => {
            let pbe = pkcs12::pbe_params::Pkcs12PbeParams::from_der(&params).ok()?;
            let salt = pbe.salt.as_bytes();
            let key_len = if algorithm.oid == PBE_SHA_3DES { 24 } else { 5 };
            let derive = |kind, len| {
                pkcs12::kdf::derive_key_utf8::<sha1::Sha1>(
                    password,
                    salt,
                    kind,
                    pbe.iterations,
                    len,
                )
                .ok()
            };
            let key = derive(pkcs12::kdf::Pkcs12KeyType::EncryptionKey, key_len)?;
            let iv = derive(pkcs12::kdf::Pkcs12KeyType::Iv, 8)?;
            if algorithm.oid == PBE_SHA_3DES {
                cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                    .ok()?
                    .decrypt_padded_vec::<Pkcs7>(data)
                    .ok()
            } else {
                cbc::Decryptor::<rc2::Rc2>::new_from_slices(&key, &iv)
                    .ok()?
                    .decrypt_padded_vec::<Pkcs7>(data)
                    .ok()
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::request::{CertRequest, ValidityEnd};
    use crate::credential::{KeySize, SignatureHash, Subject};
    use crate::export::{PfxProfile, PFX_ITERATIONS};
    use crate::secret::Password;

    fn keycreds_pfx(profile: PfxProfile) -> Vec<u8> {
        let now = time::OffsetDateTime::now_utc();
        let request = CertRequest::new(
            Subject::parse("CN=Work").unwrap(),
            KeySize::from_bits(2048).unwrap(),
            SignatureHash::Sha256,
            ValidityEnd::Days(30),
            now,
            [1; 16],
        )
        .unwrap();
        let made = crate::provision::create(&request, uuid::Uuid::nil()).unwrap();
        crate::export::pfx(
            &made.key,
            &made.certificate,
            &Password::new("pw".into()),
            profile,
        )
        .unwrap()
    }

    #[test]
    fn every_derivation_of_keycreds_own_pfx_is_counted() {
        // The MAC, the encrypted certificate safe and the key bag, in both profiles; the key bag is counted only if
        // the safes were read (the modern one's through PBES2, the legacy one's through PKCS#12 3DES).
        for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
            let pfx = keycreds_pfx(profile);
            assert_eq!(
                check_work(&pfx, "pw"),
                Ok(3 * u64::from(PFX_ITERATIONS)),
                "{profile:?}"
            );
        }
    }

    #[test]
    fn what_cannot_be_read_costs_nothing_here_and_is_left_to_the_library() {
        assert_eq!(check_work(b"not a pfx", "pw"), Ok(0));
    }
}
