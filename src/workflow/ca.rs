//! Certificates from the organisation's CA, first half (`keycred csr`): the private key, made here and kept here
//! (owner-only, as `new` writes it), and the PKCS#10 request the CA signs. The issued certificate comes back
//! through `keycred import`.

use std::path::PathBuf;

use crate::credential::{self, KeySize, PrivateKey, SignatureHash, Subject};
use crate::error::{Error, Result};
use crate::fsio::{self, Access, OutputFile};
use crate::provision::FileRole;

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
        // The record that this key is keycred's, so that a rotation sends the CA's answer for it and no other.
        files.push(super::made::record(
            &request.out,
            &request.name,
            &super::made::public_key_of(&key)?,
            None,
            None,
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
    prepare_import(request, passwords, now)?.write(request.force)
}

/// What the CA returned, read and checked, with the files it makes (not yet written).
pub struct PreparedImport {
    /// What the import gives; its `files` are those to be written.
    pub outcome: ImportOutcome,
    roles: Vec<FileRole>,
    outputs: Vec<OutputFile>,
    create_dir: Option<PathBuf>,
    key: PathBuf,
}

impl PreparedImport {
    /// The credential's files, with their roles: the key (already there, not written again), then those to be
    /// written.
    pub fn files(&self) -> Vec<(FileRole, String)> {
        std::iter::once((FileRole::Key, self.key.display().to_string()))
            .chain(
                self.roles
                    .iter()
                    .zip(&self.outputs)
                    .map(|(role, file)| (*role, file.path.display().to_string())),
            )
            .collect()
    }

    /// Writes every file, all or nothing (`force` replaces existing ones, keeping secrets as `.bak`).
    pub fn write(self, force: bool) -> Result<ImportOutcome> {
        if let Some(dir) = &self.create_dir {
            if fsio::output_dir_state(dir)? == fsio::OutputDir::Missing {
                fsio::create_output_dir(dir, true)?;
            }
        }
        fsio::write_all(&self.outputs, force)?;
        Ok(self.outcome)
    }
}

/// Reads and checks what the CA returned and prepares its files; writes nothing.
pub fn prepare_import(
    request: &ImportRequest,
    passwords: &crate::input::PasswordSources,
    now: time::OffsetDateTime,
) -> Result<PreparedImport> {
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
    let file = |role: FileRole, what: &'static str, bytes: Vec<u8>, access: Access| {
        (
            role,
            what,
            OutputFile::new(layout.path(role), bytes, access),
        )
    };
    let mut files = vec![
        file(
            FileRole::Cer,
            "certificate, DER: upload this in the portal",
            leaf.der().to_vec(),
            Access::Public,
        ),
        file(
            FileRole::Pem,
            "certificate, PEM",
            crate::export::certificate_pem(leaf.der()).into_bytes(),
            Access::Public,
        ),
    ];
    if !chain_pem.is_empty() {
        files.push(file(
            FileRole::Chain,
            "the CA certificates, PEM, nearest first",
            chain_pem.clone().into_bytes(),
            Access::Public,
        ));
    }
    if let Some(spec) = &request.pfx {
        for (role, what, bytes) in pfx_files(spec, passwords, &key, &issued)? {
            files.push(file(role, what, bytes, Access::Secret));
        }
    }
    if request.pem_bundle {
        let bundle = format!(
            "{}{}{}",
            crate::export::private_key_pem(&key).as_str(),
            crate::export::certificate_pem(leaf.der()),
            chain_pem
        );
        files.push(file(
            FileRole::Bundle,
            if chain_pem.is_empty() {
                "private key and certificate, PEM (owner-only)"
            } else {
                "private key, certificate and chain, PEM (owner-only)"
            },
            bundle.into_bytes(),
            Access::Secret,
        ));
    }
    files.push(file(
        FileRole::KeyCredentials,
        "keyCredentials manifest fragment",
        crate::manifest::KeyCredentialsDocument::new(&[(leaf, key_id)], request.format)
            .render(false)
            .into_bytes(),
        Access::Public,
    ));
    let missing = fsio::output_dir_state(&request.out)? == fsio::OutputDir::Missing;
    let mut roles = Vec::new();
    let mut whats = Vec::new();
    let mut outputs = Vec::new();
    for (role, what, output) in files {
        roles.push(role);
        whats.push((what, output.path.clone()));
        outputs.push(output);
    }
    if !missing {
        fsio::check_targets(&outputs, request.force)?;
    }
    Ok(PreparedImport {
        outcome: ImportOutcome {
            leaf: issued.leaf.clone(),
            key_id,
            chain: issued.chain,
            files: whats,
            warnings: issued.warnings,
        },
        roles,
        outputs,
        create_dir: missing.then(|| request.out.clone()),
        key: request.key.clone(),
    })
}

/// The PFX (key, certificate and the CA's chain) and, when keycred made its password, the password file.
fn pfx_files(
    spec: &super::provision::PfxSpec,
    passwords: &crate::input::PasswordSources,
    key: &crate::credential::PrivateKey,
    issued: &credential::issued::Issued,
) -> Result<Vec<(FileRole, &'static str, Vec<u8>)>> {
    let (password, written) = match &spec.password {
        super::provision::NewPassword::Generate => (crate::secret::Password::generate()?, true),
        super::provision::NewPassword::Given(p) => {
            (crate::secret::Password::new(p.expose().to_owned()), false)
        }
        super::provision::NewPassword::FromSources => (passwords.new_pfx()?, false),
    };
    let der =
        crate::export::pfx_with_chain(key, &issued.leaf, &issued.chain, &password, spec.profile)?;
    let mut files = vec![(
        FileRole::Pfx,
        if issued.chain.is_empty() {
            "PKCS#12: key and certificate (owner-only)"
        } else {
            "PKCS#12: key, certificate and chain (owner-only)"
        },
        der,
    )];
    if written {
        files.push((
            FileRole::PfxPassword,
            "PFX password (owner-only)",
            format!("{}\n", password.expose()).into_bytes(),
        ));
    }
    Ok(files)
}
