//! The daemon-configuration workflow (`keycred config`): read the registered certificate from the files the
//! daemon will use, check that they belong together (the key is the certificate's, the bundle holds the same
//! certificate), and render the configuration for one library with [`crate::deploy`].

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::credential::{self, CertificateInfo, Encoding, Status};
use crate::deploy::{
    self, CredentialFiles, Daemon, DotnetSource, Snippet, Target, ThumbprintChoice,
};
use crate::error::{Error, Result};
use crate::flow::authority::{check_client_id, check_tenant, Authority};
use crate::input::{self, PasswordSources};

/// What `keycred config` was asked for.
#[derive(Debug, Clone)]
pub struct ConfigRequest {
    /// The library or tool.
    pub target: Target,
    /// The directory (tenant) id or domain.
    pub tenant: String,
    /// The app's Application (client) ID.
    pub client_id: String,
    /// Where tokens come from.
    pub authority: Authority,
    /// The scope the daemon asks for.
    pub scope: String,
    /// The PFX the daemon will read.
    pub pfx: Option<PathBuf>,
    /// The registered certificate (DER or PEM).
    pub cert: Option<PathBuf>,
    /// The PEM bundle (key and certificate) the daemon will read.
    pub bundle: Option<PathBuf>,
    /// The PKCS#8 PEM key the daemon will read.
    pub key: Option<PathBuf>,
    /// Which thumbprint to name the certificate by.
    pub thumbprint: ThumbprintChoice,
    /// For the .NET targets: where the certificate comes from.
    pub dotnet: DotnetSource,
    /// The folder the files will be in where the daemon runs; `None`: where they are now.
    pub deploy_dir: Option<String>,
    /// The key is held in a vault or a token, not in a file: the certificate comes from `cert`, and the library's
    /// assertion callback has keycred sign where the key is.
    pub held: Option<deploy::HeldKey>,
}

/// Reads the credential's files, checks them against each other and renders the configuration.
pub fn config(
    request: &ConfigRequest,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<Snippet> {
    check_tenant(&request.tenant)?;
    check_client_id(&request.client_id)?;
    crate::flow::token::check_scope(&request.scope)?;
    if let DotnetSource::KeyVault { url, .. } = &request.dotnet {
        crate::flow::authority::check_url(
            url,
            "--key-vault-url",
            "https://contoso.vault.azure.net",
        )?;
    }

    if let Some(held) = &request.held {
        check_held(request, held)?;
    }
    let (certificate, cert_pem) = read_credential(request, passwords)?;

    // Where the daemon will find each file: in --deploy-dir, or where it is now (as an absolute path).
    let absolute = |path: &Option<PathBuf>| -> Result<Option<PathBuf>> {
        path.as_ref()
            .map(|p| match &request.deploy_dir {
                Some(dir) => Ok(PathBuf::from(deployed(dir, p))),
                None => std::path::absolute(p).map_err(|e| Error::io(p, e)),
            })
            .transpose()
    };
    let daemon = Daemon {
        tenant: request.tenant.clone(),
        client_id: request.client_id.clone(),
        authority: request.authority.clone(),
        scope: request.scope.clone(),
        files: CredentialFiles {
            pfx: absolute(&request.pfx)?,
            bundle: absolute(&request.bundle)?,
            key: absolute(&request.key)?,
            cert_pem: absolute(&cert_pem)?,
        },
        certificate,
        thumbprint: request.thumbprint,
        dotnet: request.dotnet.clone(),
        held: request.held.clone(),
    };
    let mut snippet = deploy::render(&daemon, request.target)?;
    if let Some(note) = validity_note(&daemon.certificate, now) {
        snippet.notes.insert(0, note);
    }
    Ok(snippet)
}

/// Checks a held key's request: the certificate alone is given (the key is in no file), and the vault is one of
/// the authority's cloud.
fn check_held(request: &ConfigRequest, held: &deploy::HeldKey) -> Result<()> {
    if request.cert.is_none()
        || request.pfx.is_some()
        || request.key.is_some()
        || request.bundle.is_some()
    {
        return Err(Error::Invalid(
            "a key held in a vault or a token is in no file: give the certificate alone, --cert NAME.cer (the one \
             keycred new --key-vault or --pkcs11-… wrote)"
                .into(),
        ));
    }
    match held {
        deploy::HeldKey::KeyVault { vault, cert } => {
            crate::vault::check_url(
                vault,
                crate::graph::Cloud::of_authority(request.authority.as_str()),
            )?;
            let name = cert.split_once('/').map_or(cert.as_str(), |(name, _)| name);
            crate::vault::check_name(name)?;
        }
        deploy::HeldKey::Pkcs11 { token, key, .. } => {
            if token.is_empty() || key.is_empty() {
                return Err(Error::Invalid(
                    "--pkcs11-token and --pkcs11-key name the token and the key: give both".into(),
                ));
            }
        }
    }
    Ok(())
}

/// Reads the credential's files and checks that they hold one certificate and its key; gives that certificate and
/// the PEM certificate file, if one was given.
fn read_credential(
    request: &ConfigRequest,
    passwords: &PasswordSources,
) -> Result<(CertificateInfo, Option<PathBuf>)> {
    let mut certificate: Option<CertificateInfo> = None;
    let mut cert_pem = None;
    let mut bundle_key = None;
    // The certificate every given file must agree on: the first one read.
    let mut agree = |found: CertificateInfo, path: &Path| -> Result<()> {
        match &certificate {
            None => certificate = Some(found),
            Some(first) if first.thumbprints == found.thumbprints => {}
            Some(first) => {
                return Err(Error::Refused(format!(
                    "{}: holds the certificate {} (SHA-1 {}), not the one given first, {} (SHA-1 {}): give the files of one credential",
                    path.display(),
                    found.subject,
                    found.thumbprints.render(credential::ThumbprintForm::Hex),
                    first.subject,
                    first.thumbprints.render(credential::ThumbprintForm::Hex),
                )))
            }
        }
        Ok(())
    };
    if let Some(pfx) = &request.pfx {
        let loaded = credential::load_file(pfx, passwords)?;
        if loaded.encoding != Encoding::Pfx {
            return Err(Error::Refused(format!(
                "{}: --pfx takes a PFX (PKCS#12) file, this is {}; give a PEM key + certificate with --bundle",
                pfx.display(),
                loaded.encoding.as_str()
            )));
        }
        let (found, key) = loaded.into_leaf();
        if key.is_none() {
            return Err(Error::Refused(format!(
                "{}: holds no private key, so the daemon could not sign with it: give the PFX with the key",
                pfx.display()
            )));
        }
        agree(found, pfx)?;
    }
    if let Some(cert) = &request.cert {
        let loaded = credential::load_file(cert, passwords)?;
        if loaded.encoding == Encoding::Pem {
            cert_pem = Some(cert.clone());
        }
        agree(loaded.into_leaf().0, cert)?;
    }
    if let Some(bundle) = &request.bundle {
        let loaded = credential::load(bundle, &input::read_file(bundle)?, || {
            Err(Error::Refused(format!(
                "{}: --bundle takes a PEM file with the key and the certificate (keycred new --pem-bundle), not a PFX; give a PFX with --pfx",
                bundle.display()
            )))
        })?;
        let (found, key) = loaded.into_leaf();
        bundle_key = Some(key.ok_or_else(|| {
            Error::Refused(format!(
                "{}: has no PRIVATE KEY block: a bundle holds the PKCS#8 key and the certificate (keycred new --pem-bundle writes one)",
                bundle.display()
            ))
        })?);
        agree(found, bundle)?;
    }
    let certificate = certificate.ok_or_else(|| {
        Error::Invalid("give the credential the daemon uses: --pfx FILE, --bundle FILE or --cert FILE (with --key FILE or --bundle FILE)".into())
    })?;
    let keys = [
        request
            .key
            .as_ref()
            .map(|path| Ok::<_, Error>((path, crate::workflow::prove::read_key(path)?)))
            .transpose()?,
        request.bundle.as_ref().zip(bundle_key),
    ];
    for (path, key) in keys.into_iter().flatten() {
        key_of(&key, &certificate, path)?;
    }
    Ok((certificate, cert_pem))
}

/// Refuses a private key that is not the certificate's.
fn key_of(key: &credential::PrivateKey, certificate: &CertificateInfo, path: &Path) -> Result<()> {
    if key.matches(certificate) == Some(false) {
        return Err(Error::Refused(format!(
            "{}: this private key is not the certificate's ({}, SHA-1 {}): Entra would refuse every assertion \
             signed with it (AADSTS700027); give the key made with the certificate",
            path.display(),
            certificate.subject,
            certificate.thumbprints.render(credential::ThumbprintForm::Hex)
        )));
    }
    Ok(())
}

/// What to say first of a certificate that is not valid now.
fn validity_note(cert: &CertificateInfo, now: OffsetDateTime) -> Option<String> {
    match cert.status(now) {
        Status::Expired => Some(format!(
            "the certificate expired on {}: Entra refuses an expired credential (AADSTS700027); make a new one \
             with keycred rotate",
            crate::time_fmt::rfc3339_utc(cert.not_after)
        )),
        Status::NotYetValid => Some(format!(
            "the certificate is valid only from {}: tokens will be refused until then",
            crate::time_fmt::rfc3339_utc(cert.not_before)
        )),
        Status::Valid => None,
    }
}

/// `file`'s name in `dir`, spelt with the separator `dir` uses (a Windows folder keeps its backslashes).
fn deployed(dir: &str, file: &Path) -> String {
    let name = file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    if dir.ends_with('/') || dir.ends_with('\\') {
        format!("{dir}{name}")
    } else if dir.contains('\\') && !dir.contains('/') {
        format!("{dir}\\{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployed_paths_keep_the_folder_s_separator() {
        let file = Path::new("certs/daemon.pfx");
        assert_eq!(deployed("/etc/contoso", file), "/etc/contoso/daemon.pfx");
        assert_eq!(deployed("/etc/contoso/", file), "/etc/contoso/daemon.pfx");
        assert_eq!(
            deployed(r"C:\ProgramData\Contoso", file),
            r"C:\ProgramData\Contoso\daemon.pfx"
        );
    }
}
