//! `keycred new --pkcs11-module …`: a certificate credential whose key is made inside a PKCS#11 token (an HSM, a
//! YubiKey, SoftHSM), sensitive and never extractable. The self-signed certificate is signed there (rcgen asks the
//! token for the signature), kept in the token beside the key, and written here with what else is public: CER, PEM
//! and the keyCredentials fragment. No private key, PFX or password is ever written.

use crate::credential::{CertRequest, CertificateInfo, KeySize, SignatureHash, Subject};
use crate::error::{Error, Result};
use crate::fsio::{self, OutputFile};
use crate::manifest::ManifestFormat;
use crate::pkcs11::TokenTarget;
use crate::provision::{FileRole, OutputLayout, PUBLIC_ROLES};
use crate::workflow::provision::CredentialSpec;

/// One credential to make in a token.
#[derive(Debug)]
pub struct TokenNewRequest {
    /// The module, token, key label and PIN.
    pub target: TokenTarget,
    /// The subject, key size, validity, folder and name (`--name`, else from the CN) of the files.
    pub spec: CredentialSpec,
    /// The keyCredentials fragment's format.
    pub format: ManifestFormat,
}

/// What was made.
#[derive(Debug)]
pub struct TokenMade {
    /// The certificate.
    pub certificate: CertificateInfo,
    /// The token's label.
    pub token: String,
    /// The key's label (and the certificate's, in the token).
    pub key: String,
    /// The files written.
    pub files: Vec<(FileRole, String)>,
}

/// Makes the key in the token, the certificate signed by it, keeps the certificate in the token, and writes the
/// public files. Everything that can be checked here is checked before the token is touched: the subject, the
/// key size, the hash, the validity and that no file would be replaced without `force`.
pub fn token_new(request: TokenNewRequest, now: time::OffsetDateTime) -> Result<TokenMade> {
    let spec = &request.spec;
    if spec.hash != SignatureHash::Sha256 {
        return Err(Error::Invalid(
            "a key in a PKCS#11 token signs its certificate with SHA-256 (sha256WithRSAEncryption): leave --hash \
             out"
            .into(),
        ));
    }
    let cert_request = CertRequest::new(
        Subject::parse(&spec.subject)?,
        KeySize::from_bits(spec.key_size)?,
        SignatureHash::Sha256,
        super::provision::validity_end(spec, now)?,
        now,
        crate::secret::random_bytes()?,
    )?;
    let name = match &spec.name {
        Some(name) => name.clone(),
        None => crate::provision::default_name(cert_request.subject.common_name()),
    };
    crate::provision::validate_name(&name)?;
    let layout = OutputLayout {
        dir: spec.out.clone(),
        name,
    };
    let targets: Vec<OutputFile> = PUBLIC_ROLES
        .iter()
        .map(|role| layout.path(*role))
        .chain([crate::workflow::made::record_path(
            &layout.dir,
            &layout.name,
        )])
        .map(|path| OutputFile::new(path, Vec::new(), fsio::Access::Public))
        .collect();
    fsio::check_targets(&targets, spec.force)?;
    let key = crate::pkcs11::generate(&request.target, spec.key_size)?;
    let signer = crate::flow::jwt::CertificateSigner::new(&key, key.public_key_der()?);
    let der = signer.outcome(crate::credential::build_certificate_with(
        &cert_request,
        &signer,
    ))?;
    let certificate = CertificateInfo::from_der(&der)
        .map_err(|reason| Error::Generation(format!("the token's certificate: {reason}")))?;
    key.store_certificate(&der)?;
    let (roles, mut files): (Vec<FileRole>, Vec<OutputFile>) =
        crate::provision::public_files(&layout, &certificate, request.format)
            .into_iter()
            .unzip();
    files.push(record(&layout, &certificate, &key));
    fsio::write_all_in(&layout.dir, &files, spec.force)?;
    Ok(TokenMade {
        certificate,
        token: key.token().to_owned(),
        key: key.label().to_owned(),
        files: layout.listed(roles),
    })
}

/// A request for the organisation's CA whose key is made in a token (`csr --pkcs11-…`).
#[derive(Debug)]
pub struct TokenCsrRequest {
    /// The module, token, key label and PIN.
    pub target: TokenTarget,
    /// The subject: a bare name or a DN.
    pub subject: String,
    /// DNS names for the subject alternative names.
    pub dns: Vec<String>,
    /// RSA key size.
    pub key_size: u32,
    /// The folder of `NAME.csr`.
    pub out: std::path::PathBuf,
    /// The file's base name.
    pub name: String,
    /// Replace an existing request file (kept as a backup).
    pub force: bool,
}

/// Makes the key in the token and writes `NAME.csr`, signed there; returns the request's path.
pub fn token_csr(request: &TokenCsrRequest) -> Result<String> {
    let subject = Subject::parse(&request.subject)?;
    KeySize::from_bits(request.key_size)?;
    for name in &request.dns {
        crate::credential::key::check_dns_name(name)?;
    }
    crate::provision::validate_name(&request.name)?;
    let layout = OutputLayout {
        dir: request.out.clone(),
        name: request.name.clone(),
    };
    let path = layout.path(FileRole::Request);
    fsio::check_targets(
        &[OutputFile::new(&path, Vec::new(), fsio::Access::Public)],
        request.force,
    )?;
    let key = crate::pkcs11::generate(&request.target, request.key_size)?;
    let signer = crate::flow::jwt::CertificateSigner::new(&key, key.public_key_der()?);
    let pem = signer.outcome(crate::credential::build_request_with(
        &subject,
        &request.dns,
        &signer,
    ))?;
    fsio::write_all_in(
        &layout.dir,
        &[OutputFile::new(
            &path,
            pem.into_bytes(),
            fsio::Access::Public,
        )],
        request.force,
    )?;
    Ok(path.display().to_string())
}

/// The CA's answer to a token's request (`import --pkcs11-…`).
#[derive(Debug)]
pub struct TokenImportRequest {
    /// The module, token, key label and PIN.
    pub target: TokenTarget,
    /// What the CA returned.
    pub cert: std::path::PathBuf,
    /// More CA certificates.
    pub chain: Vec<std::path::PathBuf>,
    /// The folder of the public files.
    pub out: std::path::PathBuf,
    /// Their base name.
    pub name: String,
    /// The keyCredentials fragment's format.
    pub format: ManifestFormat,
    /// Replace existing files (kept as backups).
    pub force: bool,
}

/// Finds the answer's certificate for the token's key, keeps it in the token beside the key, and writes the
/// public files (the CA certificates as `NAME.chain.pem` when the answer has any).
pub fn token_import(request: &TokenImportRequest, now: time::OffsetDateTime) -> Result<TokenMade> {
    crate::provision::validate_name(&request.name)?;
    let layout = OutputLayout {
        dir: request.out.clone(),
        name: request.name.clone(),
    };
    let certs = crate::credential::issued::certificates_in_files(
        std::iter::once(&request.cert).chain(&request.chain),
    )?;
    let key = crate::pkcs11::find(&request.target)?;
    let public = key.public_key_der()?;
    let issued = crate::credential::issued::assemble_for(
        certs,
        |c| c.subject_public_key() == public.as_slice(),
        &request.cert.display().to_string(),
        now,
    )?;
    let (mut roles, mut files): (Vec<FileRole>, Vec<OutputFile>) =
        crate::provision::public_files(&layout, &issued.leaf, request.format)
            .into_iter()
            .unzip();
    if !issued.chain.is_empty() {
        let chain: String = issued
            .chain
            .iter()
            .map(|c| crate::export::certificate_pem(c.der()))
            .collect();
        roles.push(FileRole::Chain);
        files.push(OutputFile::new(
            layout.path(FileRole::Chain),
            chain.into_bytes(),
            fsio::Access::Public,
        ));
    }
    files.push(record(&layout, &issued.leaf, &key));
    fsio::check_targets(&files, request.force)?;
    key.store_certificate(issued.leaf.der())?;
    fsio::write_all_in(&layout.dir, &files, request.force)?;
    Ok(TokenMade {
        certificate: issued.leaf,
        token: key.token().to_owned(),
        key: key.label().to_owned(),
        files: layout.listed(roles),
    })
}

/// keycred's record beside the files: where the key is (the token and the key's label).
fn record(
    layout: &OutputLayout,
    cert: &CertificateInfo,
    key: &crate::pkcs11::TokenKey,
) -> OutputFile {
    crate::workflow::made::held_record(
        &layout.dir,
        &layout.name,
        cert,
        (
            "pkcs11",
            serde_json::json!({"token": key.token(), "key": key.label()}),
        ),
    )
}
