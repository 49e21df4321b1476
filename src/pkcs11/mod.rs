//! PKCS#11 tokens (an HSM, a YubiKey, SoftHSM) through `cryptoki`: the one client of a token, used by workflows
//! only. A key keycred makes in a token is made there, sensitive and never extractable; every signature with it is
//! made there (RS256 as PKCS #1 v1.5 over the SHA-256 DigestInfo, PS256 as PSS with MGF1-SHA-256 and a 32-byte
//! salt), and keycred holds only its public half. The token's PIN comes from a file or the environment, never
//! the command line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{
    Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use sha1::{Digest as _, Sha1};

use crate::error::{Error, Result};
use crate::flow::jwt::{Algorithm, RemoteSigner};
use crate::secret::Password;

/// Where a key is: the module, the token and the key's label, and the user PIN.
#[derive(Debug)]
pub struct TokenTarget {
    /// The PKCS#11 module (`/usr/lib/softhsm/libsofthsm2.so`, a vendor's library).
    pub module: PathBuf,
    /// The token's label.
    pub token: String,
    /// The key's label (`CKA_LABEL`); its certificate in the token has the same label.
    pub key: String,
    /// The user PIN.
    pub pin: Password,
}

/// An RSA private key in a token, with its public half; signs through the session it was found in.
pub struct TokenKey {
    session: Mutex<Session>,
    handle: ObjectHandle,
    id: Vec<u8>,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
    label: String,
    token: String,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKey({}/{})", self.token, self.label)
    }
}

/// The DigestInfo prefix of a SHA-256 digest (RFC 8017, 9.2 note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The modules loaded and initialised in this process: a module is initialised once, and stays so.
fn context(module: &Path) -> Result<Pkcs11> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut loaded = LOADED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(found) = loaded.get(module) {
        return Ok(found.clone());
    }
    if !module.is_file() {
        return Err(Error::Invalid(format!(
            "--pkcs11-module {}: no such file; give the token's PKCS#11 library (SoftHSM: \
             /usr/lib/softhsm/libsofthsm2.so)",
            module.display()
        )));
    }
    if let Some(why) = not_trusted_module(module) {
        return Err(Error::Refused(format!(
            "--pkcs11-module {}: {why}; a module runs as keycred with the token's PIN, so keycred loads only one \
             that no other user can change (owned by you or root, not writable by group or others, in such a \
             folder)",
            module.display()
        )));
    }
    let context = Pkcs11::new(module).map_err(|e| {
        Error::Pkcs11(format!(
            "{}: not a PKCS#11 module keycred can load ({e})",
            module.display()
        ))
    })?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => {}
        Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(Error::Pkcs11(format!(
                "{}: the module did not start ({e})",
                module.display()
            )))
        }
    }
    loaded.insert(module.to_owned(), context.clone());
    Ok(context)
}

/// Why the module at `path` (links resolved) could be changed by another user, if it could: the file or its
/// folder is not owned by this user or root, or group or others may write it.
fn not_trusted_module(path: &Path) -> Option<String> {
    let real = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) => return Some(crate::error::io_reason(&e)),
    };
    let folder = real.parent().map(Path::to_path_buf).unwrap_or_default();
    for (what, at) in [("the module", &real), ("its folder", &folder)] {
        let why = match std::fs::metadata(at) {
            Ok(meta) => crate::fsio::not_owned_alone(&meta, true),
            Err(e) => Some(crate::error::io_reason(&e)),
        };
        if let Some(why) = why {
            return Some(format!("{what} ({}): {why}", at.display()));
        }
    }
    None
}

/// A read-write session on the token `target` names, logged in as its user.
fn session(target: &TokenTarget) -> Result<Session> {
    let context = context(&target.module)?;
    let failed = |what: &str, e: CkError| Error::Pkcs11(format!("{what}: {e}"));
    let slots = context
        .get_slots_with_token()
        .map_err(|e| failed("listing the module's tokens", e))?;
    let mut labels = Vec::new();
    let mut found = None;
    for slot in slots {
        let info = context
            .get_token_info(slot)
            .map_err(|e| failed("reading a token's label", e))?;
        let label = info.label().trim_end().to_owned();
        if label == target.token {
            found = Some(slot);
            break;
        }
        labels.push(label);
    }
    let Some(slot) = found else {
        return Err(Error::Invalid(format!(
            "--pkcs11-token {:?}: the module has no token of that label (it has: {}); give one of them",
            target.token,
            if labels.is_empty() {
                "none".to_owned()
            } else {
                labels
                    .iter()
                    .map(|l| format!("{l:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )));
    };
    let session = context
        .open_rw_session(slot)
        .map_err(|e| failed("opening a session on the token", e))?;
    let pin = cryptoki::types::AuthPin::new(target.pin.expose().to_owned().into());
    match session.login(UserType::User, Some(&pin)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
        Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => Err(Error::Refused(format!(
            "token {:?} refused the PIN (CKR_PIN_INCORRECT); nothing was signed or written. Check the PIN in \
             --pkcs11-pin-file or KEYCRED_PKCS11_PIN: a few more wrong PINs lock the token",
            target.token
        ))),
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(Error::Refused(format!(
            "token {:?}: its user PIN is locked (CKR_PIN_LOCKED); its security officer must reset it",
            target.token
        ))),
        Err(e) => Err(failed("logging in to the token", e)),
    }
}

/// Makes an RSA key of `bits` in the token, labelled `target.key`: private, sensitive, never extractable, for
/// signing only. A key of that label is never replaced.
pub fn generate(target: &TokenTarget, bits: u32) -> Result<TokenKey> {
    if ![2048, 3072, 4096].contains(&bits) {
        return Err(Error::KeySize(bits));
    }
    check_label(&target.key)?;
    let session = session(target)?;
    if !private_keys(&session, &target.key)?.is_empty() {
        return Err(Error::Refused(format!(
            "token {:?} holds a key labelled {:?} already; keycred never replaces a key: give another --pkcs11-key",
            target.token, target.key
        )));
    }
    let label = target.key.as_bytes().to_vec();
    // The key's id: random, so that two keys of one label (made elsewhere) never share it.
    let id = crate::secret::random_bytes::<16>()?.to_vec();
    let public = [
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::Encrypt(false),
        Attribute::Wrap(false),
        Attribute::ModulusBits(u64::from(bits).into()),
        Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
        Attribute::Label(label.clone()),
        Attribute::Id(id.clone()),
    ];
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Label(label),
        Attribute::Id(id),
    ];
    let (_, handle) = session
        .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)
        .map_err(|e| Error::Pkcs11(format!("making the key in token {:?}: {e}", target.token)))?;
    key_of(session, handle, target)
}

/// The RSA private key labelled `target.key` in the token.
pub fn find(target: &TokenTarget) -> Result<TokenKey> {
    check_label(&target.key)?;
    let session = session(target)?;
    let found = private_keys(&session, &target.key)?;
    match found.as_slice() {
        [handle] => key_of(session, *handle, target),
        [] => Err(Error::Invalid(format!(
            "--pkcs11-key {:?}: token {:?} holds no private key of that label; make one with keycred new --pkcs11-module FILE --pkcs11-token LABEL --pkcs11-key LABEL",
            target.key, target.token
        ))),
        more => Err(Error::Invalid(format!(
            "--pkcs11-key {:?}: token {:?} holds {} private keys of that label; keycred signs only with a key it \
             can name alone",
            target.key,
            target.token,
            more.len()
        ))),
    }
}

fn check_label(label: &str) -> Result<()> {
    if label.is_empty() || label.len() > 128 || label.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "--pkcs11-key {label:?}: give a label of 1 to 128 printable characters"
        )));
    }
    Ok(())
}

fn private_keys(session: &Session, label: &str) -> Result<Vec<ObjectHandle>> {
    session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(|e| Error::Pkcs11(format!("looking for key {label:?} in the token: {e}")))
}

/// The key `handle` as keycred uses it: RSA of 2048 bits or more, its public half read from the token.
fn key_of(session: Session, handle: ObjectHandle, target: &TokenTarget) -> Result<TokenKey> {
    let attributes = session
        .get_attributes(
            handle,
            &[
                AttributeType::KeyType,
                AttributeType::Modulus,
                AttributeType::PublicExponent,
                AttributeType::Id,
            ],
        )
        .map_err(|e| Error::Pkcs11(format!("reading key {:?}: {e}", target.key)))?;
    let (mut kind, mut modulus, mut exponent, mut id) = (None, Vec::new(), Vec::new(), Vec::new());
    for attribute in attributes {
        match attribute {
            Attribute::KeyType(k) => kind = Some(k),
            Attribute::Modulus(m) => modulus = m,
            Attribute::PublicExponent(e) => exponent = e,
            Attribute::Id(i) => id = i,
            _ => {}
        }
    }
    let what = format!("--pkcs11-key {:?} in token {:?}", target.key, target.token);
    if kind != Some(KeyType::RSA) {
        return Err(Error::NotRsa {
            what,
            found: match kind {
                Some(k) if k == KeyType::EC => "an EC key".to_owned(),
                Some(k) => format!("a {k} key"),
                None => "no key type".to_owned(),
            },
        });
    }
    let bits = bit_length(&modulus);
    if bits < 2048 {
        return Err(Error::Refused(format!(
            "{what} is RSA of {bits} bits: Entra accepts 2048 bits or more; make a new one with keycred new \
             --pkcs11-module FILE --pkcs11-token LABEL --pkcs11-key LABEL"
        )));
    }
    Ok(TokenKey {
        session: Mutex::new(session),
        handle,
        id,
        modulus,
        exponent,
        label: target.key.clone(),
        token: target.token.clone(),
    })
}

fn bit_length(big_endian: &[u8]) -> usize {
    let trimmed: Vec<u8> = big_endian.iter().copied().skip_while(|b| *b == 0).collect();
    match trimmed.first() {
        Some(first) => trimmed.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

impl TokenKey {
    /// The public key as PKCS #1 `RSAPublicKey` DER (the bit string of a certificate's SubjectPublicKeyInfo).
    pub fn public_key_der(&self) -> Result<Vec<u8>> {
        use der::Encode as _;
        let failed = |e: der::Error| Error::Pkcs11(format!("the token's public key: {e}"));
        let n = der::asn1::UintRef::new(&self.modulus).map_err(failed)?;
        let e = der::asn1::UintRef::new(&self.exponent).map_err(failed)?;
        let length = (n.encoded_len().map_err(failed)? + e.encoded_len().map_err(failed)?)
            .map_err(failed)?;
        let mut out = Vec::new();
        der::Header::new(der::Tag::Sequence, length)
            .encode_to_vec(&mut out)
            .map_err(failed)?;
        n.encode_to_vec(&mut out).map_err(failed)?;
        e.encode_to_vec(&mut out).map_err(failed)?;
        Ok(out)
    }

    /// The key's size in bits.
    pub fn bits(&self) -> usize {
        bit_length(&self.modulus)
    }

    /// The token's label.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The key's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Keeps `der` in the token beside the key: an X.509 certificate object of the key's label and id, which
    /// [`TokenKey::certificate`] finds.
    pub fn store_certificate(&self, der: &[u8]) -> Result<()> {
        use x509_parser::prelude::FromDer as _;
        let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
            .map_err(|e| Error::Invalid(format!("the certificate for the token: {e}")))?;
        let session = self.lock();
        session
            .create_object(&[
                Attribute::Class(ObjectClass::CERTIFICATE),
                Attribute::CertificateType(CertificateType::X_509),
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Label(self.label.as_bytes().to_vec()),
                Attribute::Id(self.id.clone()),
                Attribute::Subject(cert.tbs_certificate.subject.as_raw().to_vec()),
                Attribute::Value(der.to_vec()),
            ])
            .map(|_| ())
            .map_err(|e| {
                Error::Pkcs11(format!(
                    "keeping the certificate in token {:?}: {e}",
                    self.token
                ))
            })
    }

    /// The newest-ending certificate of the key's label in the token whose public key is this key's, if any.
    pub fn certificate(&self) -> Result<Option<Vec<u8>>> {
        let session = self.lock();
        let handles = session
            .find_objects(&[
                Attribute::Class(ObjectClass::CERTIFICATE),
                Attribute::Label(self.label.as_bytes().to_vec()),
            ])
            .map_err(|e| Error::Pkcs11(format!("looking for the key's certificate: {e}")))?;
        let public = self.public_key_der()?;
        let mut best: Option<(time::OffsetDateTime, Vec<u8>)> = None;
        for handle in handles {
            let values = session
                .get_attributes(handle, &[AttributeType::Value])
                .map_err(|e| Error::Pkcs11(format!("reading a certificate in the token: {e}")))?;
            let Some(Attribute::Value(der)) = values.into_iter().next() else {
                continue;
            };
            let Ok(info) = crate::credential::CertificateInfo::from_der(&der) else {
                continue;
            };
            if info.subject_public_key() == public.as_slice()
                && best.as_ref().is_none_or(|(end, _)| info.not_after > *end)
            {
                best = Some((info.not_after, der));
            }
        }
        Ok(best.map(|(_, der)| der))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The key's id (`CKA_ID`) as hex, and a short name for messages.
    pub fn describe_id(&self) -> String {
        let sha = Sha1::digest(&self.modulus);
        format!(
            "token {:?}, key {:?} (modulus SHA-1 {})",
            self.token,
            self.label,
            crate::credential::thumbprint::upper_hex(&sha[..8])
        )
    }
}

impl RemoteSigner for TokenKey {
    fn sign_digest(&self, algorithm: Algorithm, digest: &[u8; 32]) -> Result<Vec<u8>> {
        let (mechanism, data) = match algorithm {
            Algorithm::Rs256 => (
                Mechanism::RsaPkcs,
                [SHA256_DIGEST_INFO.as_slice(), digest].concat(),
            ),
            Algorithm::Ps256 => (
                Mechanism::RsaPkcsPss(PkcsPssParams {
                    hash_alg: MechanismType::SHA256,
                    mgf: PkcsMgfType::MGF1_SHA256,
                    s_len: 32u64.into(),
                }),
                digest.to_vec(),
            ),
        };
        self.lock()
            .sign(&mechanism, self.handle, &data)
            .map_err(|e| {
                Error::Pkcs11(format!(
                    "token {:?} did not sign with key {:?}: {e}",
                    self.token, self.label
                ))
            })
    }

    fn describe(&self) -> String {
        format!("the key {:?} in PKCS#11 token {:?}", self.label, self.token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths_skip_leading_zero_bytes_and_bits() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01, 0x00]), 9);
        assert_eq!(bit_length(&[0x00]), 0);
    }
}
