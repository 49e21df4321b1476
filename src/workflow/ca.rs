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

/// One import of what the CA returned.
#[derive(Debug)]
pub struct ImportRequest {
    /// The issued certificate: DER, PEM, a PEM chain, or a PKCS#7 `.p7b`.
    pub cert: PathBuf,
    /// More CA certificates (intermediates, the root), in any of those forms.
    pub chain: Vec<PathBuf>,
    /// The private key the request was made with (PKCS#8 PEM).
    pub key: PathBuf,
    /// The folder.
    pub out: PathBuf,
    /// The files' base name.
    pub name: String,
    /// The PFX (key, leaf and chain), or none.
    pub pfx: Option<super::provision::PfxSpec>,
    /// Also write `NAME.bundle.pem` (key, leaf and chain).
    pub pem_bundle: bool,
    /// The keyCredentials fragment's format.
    pub format: crate::manifest::ManifestFormat,
    /// Replace existing files (keys, PFX and passwords are kept as `.bak`).
    pub force: bool,
}

/// What `keycred import` wrote.
#[derive(Debug)]
pub struct ImportOutcome {
    /// The certificate for the key.
    pub leaf: credential::CertificateInfo,
    /// Its keyId.
    pub key_id: uuid::Uuid,
    /// Its CA certificates, nearest first.
    pub chain: Vec<credential::CertificateInfo>,
    /// The files written, as (what, path).
    pub files: Vec<(&'static str, PathBuf)>,
    /// What works but deserves a look.
    pub warnings: Vec<String>,
}

/// Reads, checks and writes what the CA returned, all or nothing.
pub fn import(
    request: &ImportRequest,
    passwords: &crate::input::PasswordSources,
    now: time::OffsetDateTime,
) -> Result<ImportOutcome> {
    use crate::provision::FileRole;
    crate::provision::validate_name(&request.name)?;
    let key = crate::workflow::prove::read_key(&request.key)?;
    let mut certs = Vec::new();
    for path in std::iter::once(&request.cert).chain(&request.chain) {
        certs.extend(credential::issued::certificates_in(
            path,
            &crate::input::read_file(path)?,
        )?);
    }
    let issued =
        credential::issued::assemble(certs, &key, &request.cert.display().to_string(), now)?;
    let layout = crate::provision::OutputLayout {
        dir: request.out.clone(),
        name: request.name.clone(),
    };
    let leaf = &issued.leaf;
    let key_id = leaf.key_id();
    let chain_pem: String = issued
        .chain
        .iter()
        .map(|c| crate::export::certificate_pem(c.der()))
        .collect();
    let mut files: Vec<(&'static str, OutputFile)> = vec![
        (
            "certificate, DER: upload this in the portal",
            OutputFile::new(
                layout.path(FileRole::Cer),
                leaf.der().to_vec(),
                Access::Public,
            ),
        ),
        (
            "certificate, PEM",
            OutputFile::new(
                layout.path(FileRole::Pem),
                crate::export::certificate_pem(leaf.der()),
                Access::Public,
            ),
        ),
    ];
    if !chain_pem.is_empty() {
        files.push((
            "the CA certificates, PEM, nearest first",
            OutputFile::new(
                request.out.join(format!("{}.chain.pem", request.name)),
                chain_pem.clone(),
                Access::Public,
            ),
        ));
    }
    if let Some(spec) = &request.pfx {
        let (password, written) = match &spec.password {
            super::provision::NewPassword::Generate => (crate::secret::Password::generate()?, true),
            super::provision::NewPassword::Given(p) => {
                (crate::secret::Password::new(p.expose().to_owned()), false)
            }
            super::provision::NewPassword::FromSources => (passwords.new_pfx()?, false),
        };
        let der =
            crate::export::pfx_with_chain(&key, leaf, &issued.chain, &password, spec.profile)?;
        files.push((
            "PKCS#12: key, certificate and chain (owner-only)",
            OutputFile::new(layout.path(FileRole::Pfx), der, Access::Secret),
        ));
        if written {
            files.push((
                "PFX password (owner-only)",
                OutputFile::new(
                    layout.path(FileRole::PfxPassword),
                    format!("{}\n", password.expose()),
                    Access::Secret,
                ),
            ));
        }
    }
    if request.pem_bundle {
        let bundle = format!(
            "{}{}{}",
            crate::export::private_key_pem(&key).as_str(),
            crate::export::certificate_pem(leaf.der()),
            chain_pem
        );
        files.push((
            "private key, certificate and chain, PEM (owner-only)",
            OutputFile::new(layout.path(FileRole::Bundle), bundle, Access::Secret),
        ));
    }
    files.push((
        "keyCredentials manifest fragment",
        OutputFile::new(
            layout.path(FileRole::KeyCredentials),
            crate::manifest::KeyCredentialsDocument::new(&[(leaf, key_id)], request.format)
                .render(false),
            Access::Public,
        ),
    ));
    if fsio::output_dir_state(&request.out)? == fsio::OutputDir::Missing {
        fsio::create_output_dir(&request.out, true)?;
    }
    let (whats, outputs): (Vec<&'static str>, Vec<OutputFile>) = files.into_iter().unzip();
    fsio::write_all(&outputs, request.force)?;
    Ok(ImportOutcome {
        leaf: issued.leaf.clone(),
        key_id,
        chain: issued.chain,
        files: whats
            .into_iter()
            .zip(outputs.into_iter().map(|f| f.path))
            .collect(),
        warnings: issued.warnings,
    })
}
