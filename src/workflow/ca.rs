//! Certificates from the organisation's CA, first half (`keycred csr`): the private key, made here and kept here
//! (owner-only, as `new` writes it), and the PKCS#10 request the CA signs. The issued certificate comes back
//! through `keycred import`.

use std::path::PathBuf;

use crate::credential::{self, KeySize, PrivateKey, SignatureHash, Subject};
use crate::error::{Error, Result};
use crate::fsio::{self, Access, OutputFile};

/// One certificate request.
#[derive(Debug, Clone)]
pub struct CsrRequest {
    /// A bare name or a DN.
    pub subject: String,
    /// DNS names for the subject alternative names.
    pub dns: Vec<String>,
    /// RSA key size in bits, for a new key.
    pub key_size: u32,
    /// The request's signature hash.
    pub hash: SignatureHash,
    /// An existing key (PKCS#8 PEM) to make the request for, instead of a new one.
    pub key: Option<PathBuf>,
    /// The folder.
    pub out: PathBuf,
    /// The files' base name: `NAME.key`, `NAME.csr`.
    pub name: String,
    /// Replace existing files (a key it replaces is kept as `NAME.key.bak`).
    pub force: bool,
}

/// What `keycred csr` wrote.
#[derive(Debug)]
pub struct CsrOutcome {
    /// The subject, as the request has it.
    pub subject: String,
    /// The request (PEM).
    pub csr: PathBuf,
    /// The key file, when this run made the key.
    pub key: Option<PathBuf>,
    /// The key given (not written).
    pub existing_key: Option<PathBuf>,
}

/// Makes (or reads) the key and writes the request; everything is checked before the key is made.
pub fn csr(request: &CsrRequest) -> Result<CsrOutcome> {
    let subject = Subject::parse(&request.subject)?;
    crate::provision::validate_name(&request.name)?;
    let key_size = KeySize::from_bits(request.key_size)?;
    let csr_path = request.out.join(format!("{}.csr", request.name));
    let key_path = request.out.join(format!("{}.key", request.name));
    let mut targets = vec![OutputFile::new(
        csr_path.clone(),
        Vec::new(),
        Access::Public,
    )];
    if request.key.is_none() {
        targets.push(OutputFile::new(
            key_path.clone(),
            Vec::new(),
            Access::Secret,
        ));
    }
    let missing = fsio::output_dir_state(&request.out)? == fsio::OutputDir::Missing;
    if !missing {
        fsio::check_targets(&targets, request.force)?;
    }
    let key = match &request.key {
        Some(path) => {
            if fsio::same_file(path, &key_path) && request.force {
                return Err(Error::Refused(format!(
                    "--key {} is the key this request would replace: drop --force, or choose another --name",
                    path.display()
                )));
            }
            crate::workflow::prove::read_key(path)?
        }
        None => PrivateKey::generate(key_size)?,
    };
    let pem = credential::build_request(&subject, &request.dns, &key, request.hash)?;
    let mut files = vec![OutputFile::new(csr_path.clone(), pem, Access::Public)];
    if request.key.is_none() {
        files.push(OutputFile::new(
            key_path.clone(),
            crate::export::private_key_pem(&key).as_bytes().to_vec(),
            Access::Secret,
        ));
    }
    if missing {
        fsio::create_output_dir(&request.out, true)?;
    }
    fsio::write_all(&files, request.force)?;
    Ok(CsrOutcome {
        subject: subject.to_string(),
        csr: csr_path,
        key: request.key.is_none().then_some(key_path),
        existing_key: request.key.clone(),
    })
}
