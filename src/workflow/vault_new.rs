//! `keycred new --key-vault`: a certificate credential made in Azure Key Vault, its key non-exportable and never
//! seen by keycred; only what is public is written here (the certificate as CER and PEM, and the keyCredentials
//! fragment), so that nothing on this machine can be copied to sign as the app.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::credential::CertificateInfo;
use crate::error::{Error, Result};
use crate::fsio::{self, Access, OutputFile};
use crate::manifest::ManifestFormat;
use crate::provision::{FileRole, OutputLayout, PUBLIC_ROLES};
use crate::secret::Password;
use crate::vault::{CertificatePolicy, Issuer, VaultClient};

/// How long keycred waits for the vault to make a self-signed certificate.
const PATIENCE: Duration = Duration::from_secs(120);

/// One certificate to make in the vault.
#[derive(Debug)]
pub struct VaultNewRequest {
    /// The vault's URL.
    pub vault: String,
    /// A bearer token for the vault.
    pub token: Password,
    /// The certificate's name in the vault, which also names the files (`NAME.cer`, …).
    pub name: String,
    /// The subject: a bare name or a DN.
    pub subject: String,
    /// Validity in months, as Key Vault counts it.
    pub validity_months: u32,
    /// RSA key size.
    pub key_size: u32,
    /// The folder for the public files.
    pub out: PathBuf,
    /// The keyCredentials fragment's format.
    pub format: ManifestFormat,
    /// Replace existing files (kept as backups).
    pub force: bool,
    /// Time limit per call.
    pub timeout: Duration,
    /// Self-signed by the vault, or (`Unknown`) a request for the organisation's CA, written as `NAME.csr`, whose
    /// answer [`vault_import`] merges into the vault.
    pub issuer: Issuer,
}

/// What `new --key-vault` did: the certificate made, or (`--ca`) the request written.
#[derive(Debug)]
pub enum VaultNewOutcome {
    /// Made and written.
    Made(Box<VaultMade>),
    /// The vault made the key and a request for the CA: the request's file.
    Requested {
        /// The certificate's name in the vault.
        name: String,
        /// `NAME.csr`.
        csr: String,
    },
}

/// The CA's answer to a vault's request, to merge (`import --key-vault`).
#[derive(Debug)]
pub struct VaultImportRequest {
    /// The vault's URL.
    pub vault: String,
    /// A bearer token for the vault.
    pub token: Password,
    /// The certificate's name in the vault, which also names the files.
    pub name: String,
    /// What the CA returned.
    pub cert: PathBuf,
    /// More CA certificates.
    pub chain: Vec<PathBuf>,
    /// The folder for the public files.
    pub out: PathBuf,
    /// The keyCredentials fragment's format.
    pub format: ManifestFormat,
    /// Replace existing files (kept as backups).
    pub force: bool,
    /// Time limit per call.
    pub timeout: Duration,
}

/// What was made.
#[derive(Debug)]
pub struct VaultMade {
    /// The certificate, as the vault made it (the keyCredentials fragment's keyId derives from it).
    pub certificate: CertificateInfo,
    /// The URL of the key that signs for it (in the vault).
    pub kid: String,
    /// The version the vault gave it.
    pub version: String,
    /// The files written.
    pub files: Vec<(FileRole, String)>,
}

/// Makes the certificate in the vault, waits for it, and writes its public files (with issuer `Unknown`: has the
/// vault make the key and a request, and writes the request). Everything that can be checked here is checked
/// before the vault is asked: the name, the subject, the key size, the validity and that no file would be replaced
/// without `force`.
pub fn vault_new(request: &VaultNewRequest) -> Result<VaultNewOutcome> {
    let name = crate::vault::check_name(&request.name)?;
    crate::provision::validate_name(name)?;
    let subject = crate::credential::Subject::parse(&request.subject)?.to_string();
    if ![2048, 3072, 4096].contains(&request.key_size) {
        return Err(Error::KeySize(request.key_size));
    }
    if !(1..=120).contains(&request.validity_months) {
        return Err(Error::Invalid(format!(
            "a validity of {} months: Key Vault makes certificates of 1 to 120 months (Microsoft recommends 12 at \
             most for an app credential)",
            request.validity_months
        )));
    }
    let layout = OutputLayout {
        dir: request.out.clone(),
        name: name.to_owned(),
    };
    let roles: &[FileRole] = match request.issuer {
        Issuer::SelfSigned => &PUBLIC_ROLES,
        Issuer::Unknown => &[FileRole::Request],
    };
    check_free(&layout, roles, request.force)?;
    let client = client(&request.vault, &request.token, request.timeout)?;
    refuse_new_version(&client, name, request.force)?;
    let policy = CertificatePolicy {
        subject,
        validity_months: request.validity_months,
        key_size: request.key_size,
        issuer: request.issuer,
    };
    let created = client.create_certificate(name, &policy, &[])?;
    if request.issuer == Issuer::Unknown {
        let csr = crate::vault::request_of(&created).ok_or_else(|| {
            Error::Vault(format!(
                "the vault gave no request (csr) for certificate {name}"
            ))
        })?;
        let path = layout.path(FileRole::Request);
        fsio::write_all_in(
            &layout.dir,
            &[OutputFile::new(
                &path,
                crate::export::request_pem(&csr),
                Access::Public,
            )],
            request.force,
        )?;
        return Ok(VaultNewOutcome::Requested {
            name: name.to_owned(),
            csr: path.display().to_string(),
        });
    }
    let made = client.completed(name, PATIENCE)?;
    write_public(&layout, made, request.format, request.force)
        .map(|m| VaultNewOutcome::Made(Box::new(m)))
}

/// Merges the CA's answer to the vault's request for certificate `name`, and writes its public files: the answer's
/// certificate for the vault's key (found by the request's public key), its chain ordered after it.
pub fn vault_import(request: &VaultImportRequest, now: time::OffsetDateTime) -> Result<VaultMade> {
    let name = crate::vault::check_name(&request.name)?;
    crate::provision::validate_name(name)?;
    let layout = OutputLayout {
        dir: request.out.clone(),
        name: name.to_owned(),
    };
    check_free(&layout, &PUBLIC_ROLES, request.force)?;
    let certs = crate::credential::issued::certificates_in_files(
        std::iter::once(&request.cert).chain(&request.chain),
    )?;
    let client = client(&request.vault, &request.token, request.timeout)?;
    let pending = client.pending(name)?;
    let requested_key = crate::vault::request_of(&pending)
        .and_then(|der| request_public_key(&der))
        .ok_or_else(|| {
            Error::Vault(format!(
                "the vault has no request pending for certificate {name}: make one with keycred new --key-vault URL \
                 --name {name} --ca"
            ))
        })?;
    let issued = crate::credential::issued::assemble_for(
        certs,
        |c| c.subject_public_key() == requested_key.as_slice(),
        &request.cert.display().to_string(),
        now,
    )?;
    let chain: Vec<Vec<u8>> = std::iter::once(&issued.leaf)
        .chain(&issued.chain)
        .map(|c| c.der().to_vec())
        .collect();
    let made = client.merge(name, &chain)?;
    write_public(&layout, made, request.format, request.force)
}

/// Refuses (without `force`) to make a new version of a certificate the vault holds already: the new version would
/// at once be the one `--vault-cert NAME` signs with, before any app holds it.
fn refuse_new_version(client: &VaultClient, name: &str, force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    match client.find(name)? {
        Some(current) => Err(Error::Refused(format!(
            "{}/certificates/{name} exists already (version {}): a new version would at once be the one \
             --vault-cert {name} signs with, before the app holds it; nothing was made. Give another --name, or \
             --force to make the new version anyway",
            client.base(),
            current.version
        ))),
        None => Ok(()),
    }
}

/// The public key (its bit string) a PKCS#10 request is for.
fn request_public_key(der: &[u8]) -> Option<Vec<u8>> {
    use x509_parser::prelude::FromDer as _;
    let (_, csr) =
        x509_parser::certification_request::X509CertificationRequest::from_der(der).ok()?;
    Some(
        csr.certification_request_info
            .subject_pki
            .subject_public_key
            .data
            .to_vec(),
    )
}

fn client(vault: &str, token: &Password, timeout: Duration) -> Result<VaultClient> {
    VaultClient::new(
        vault,
        crate::graph::Cloud::of_vault(vault),
        Password::new(token.expose().to_owned()),
        timeout,
    )
}

/// Refuses, before the vault is asked anything, a run that would replace one of these files without `force`.
fn check_free(layout: &OutputLayout, roles: &[FileRole], force: bool) -> Result<()> {
    let targets: Vec<OutputFile> = roles
        .iter()
        .map(|role| OutputFile::new(layout.path(*role), Vec::new(), Access::Public))
        .collect();
    fsio::check_targets(&targets, force)
}

/// The vault version's public files: CER, PEM and the keyCredentials fragment.
fn write_public(
    layout: &OutputLayout,
    made: crate::vault::VaultCertificate,
    format: ManifestFormat,
    force: bool,
) -> Result<VaultMade> {
    let certificate = made.info()?;
    let (roles, files): (Vec<FileRole>, Vec<OutputFile>) =
        crate::provision::public_files(layout, &certificate, format)
            .into_iter()
            .unzip();
    fsio::write_all_in(&layout.dir, &files, force)?;
    Ok(VaultMade {
        certificate,
        kid: made.kid,
        version: made.version,
        files: layout.listed(roles),
    })
}

/// `--key-vault`: the vault, and the token for it.
#[derive(Debug, Clone)]
pub struct VaultAccess {
    /// The vault's URL.
    pub vault: String,
    /// The cloud it must be in.
    pub cloud: crate::graph::Cloud,
    /// A bearer token for the vault's resource.
    pub token: Arc<Password>,
    /// Time limit per call.
    pub timeout: std::time::Duration,
}

impl VaultAccess {
    /// A client for the vault (its URL checked against the cloud).
    pub fn client(&self) -> Result<Arc<VaultClient>> {
        Ok(Arc::new(VaultClient::new(
            &self.vault,
            self.cloud,
            Password::new(self.token.expose().to_owned()),
            self.timeout,
        )?))
    }

    /// The source a token client signs with: the version `held` names, in this vault.
    pub fn source(
        &self,
        held: &crate::workflow::rotation::in_vault::VaultHeld,
    ) -> crate::workflow::prove::CredentialSource {
        crate::workflow::prove::CredentialSource::KeyVault(Box::new(
            crate::workflow::prove::VaultSource {
                vault: held.vault.clone(),
                name: held.name.clone(),
                version: Some(held.version.clone()),
                cloud: self.cloud,
                token: self.token.clone(),
                timeout: self.timeout,
            },
        ))
    }
}

/// Which vault version holds the key of each certificate: the SHA-1 thumbprint of every version of every
/// certificate in the vault, and `NAME/VERSION` (one list of certificates, one of versions per certificate).
pub fn key_places(vault: &VaultClient) -> Result<std::collections::BTreeMap<Vec<u8>, String>> {
    let mut places = std::collections::BTreeMap::new();
    for listed in vault.certificates()? {
        for version in vault.versions(&listed.name)? {
            places.insert(version.sha1, format!("{}/{}", listed.name, version.version));
        }
    }
    Ok(places)
}
