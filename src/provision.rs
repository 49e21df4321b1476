//! `keycred new` as a library call: one validated request in, a key, a certificate and the rendered files out.
//!
//! The scripted command, the wizard and rotation all go through [`create`] and [`render_files`], so there is one
//! tested path from request to files. Nothing here touches the file system; [`crate::fsio`] writes the result.

use std::path::PathBuf;

use uuid::Uuid;

use crate::credential::{build_certificate, CertRequest, CertificateInfo, PrivateKey};
use crate::error::{Error, Result};
use crate::export::{self, PfxProfile};
use crate::fsio::{Access, OutputFile};
use crate::manifest::{KeyCredentialsDocument, ManifestFormat};
use crate::secret::Password;
use crate::words::{Advice, Input, Piece, Said};

/// A freshly made credential: the key, its certificate (read back from the DER), and the manifest key id.
#[derive(Debug)]
pub struct NewCredential {
    /// The private key.
    pub key: PrivateKey,
    /// The certificate's facts and DER.
    pub certificate: CertificateInfo,
    /// The `keyId` the fragment carries.
    pub key_id: Uuid,
}

/// Generates the key and builds the certificate for `request`. The key id is injected for reproducible tests.
pub fn create(request: &CertRequest, key_id: Uuid) -> Result<NewCredential> {
    let key = PrivateKey::generate(request.key_size)?;
    let der = build_certificate(request, &key)?;
    let certificate = CertificateInfo::from_der(&der).map_err(Error::Generation)?;
    Ok(NewCredential {
        key,
        certificate,
        key_id,
    })
}

/// The PFX part of the output.
#[derive(Debug)]
pub struct PfxOutput {
    /// The password that protects it.
    pub password: Password,
    /// The encryption profile.
    pub profile: PfxProfile,
    /// Whether to write the password beside the PFX (`--generate-password`).
    pub write_password_file: bool,
}

/// Where and how the files of a new credential are written.
#[derive(Debug)]
pub struct OutputLayout {
    /// The folder.
    pub dir: PathBuf,
    /// The base name: files are `NAME.cer`, `NAME.pem`, ….
    pub name: String,
}

/// What one output file is, for listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// `NAME.cer`, DER certificate.
    Cer,
    /// `NAME.pem`, PEM certificate.
    Pem,
    /// `NAME.key`, PKCS#8 private key.
    Key,
    /// `NAME.pfx`.
    Pfx,
    /// `NAME.pfx.password`.
    PfxPassword,
    /// `NAME.keycredentials.json`.
    KeyCredentials,
    /// `NAME.bundle.pem`: private key and certificate in one PEM (`--pem-bundle`).
    Bundle,
    /// `NAME.chain.pem`: a CA-issued certificate's CA certificates, nearest first.
    Chain,
    /// `NAME.csr`: the PKCS#10 request for the organisation's CA.
    Request,
}

impl FileRole {
    /// The file name suffix after `NAME`.
    pub fn suffix(self) -> &'static str {
        match self {
            FileRole::Cer => ".cer",
            FileRole::Pem => ".pem",
            FileRole::Key => ".key",
            FileRole::Pfx => ".pfx",
            FileRole::PfxPassword => ".pfx.password",
            FileRole::KeyCredentials => ".keycredentials.json",
            FileRole::Bundle => ".bundle.pem",
            FileRole::Chain => ".chain.pem",
            FileRole::Request => ".csr",
        }
    }

    /// A short description for listings.
    pub fn describe(self) -> &'static str {
        match self {
            FileRole::Cer => "certificate, DER: upload this in the portal",
            FileRole::Pem => "certificate, PEM",
            FileRole::Key => "private key, PKCS#8 PEM (owner-only)",
            FileRole::Pfx => "PKCS#12 key + certificate (owner-only)",
            FileRole::PfxPassword => "PFX password (owner-only)",
            FileRole::KeyCredentials => "keyCredentials manifest fragment",
            FileRole::Bundle => "private key + certificate, PEM (owner-only): azure-identity, az login --certificate",
            FileRole::Chain => "the CA certificates, PEM, nearest first",
            FileRole::Request => "the certificate request (PKCS#10, PEM): send it to your CA",
        }
    }

    /// The camelCase name used in JSON output, like every other JSON key keycred prints.
    pub fn as_str(self) -> &'static str {
        match self {
            FileRole::Cer => "cer",
            FileRole::Pem => "pem",
            FileRole::Key => "key",
            FileRole::Pfx => "pfx",
            FileRole::PfxPassword => "pfxPassword",
            FileRole::KeyCredentials => "keyCredentials",
            FileRole::Bundle => "bundle",
            FileRole::Chain => "chain",
            FileRole::Request => "request",
        }
    }
}

impl OutputLayout {
    /// The path of one output file.
    pub fn path(&self, role: FileRole) -> PathBuf {
        self.dir.join(format!("{}{}", self.name, role.suffix()))
    }

    /// The paths of `roles`' files, with their roles, as outcomes list them.
    pub fn listed(&self, roles: impl IntoIterator<Item = FileRole>) -> Vec<(FileRole, String)> {
        roles
            .into_iter()
            .map(|role| (role, self.path(role).display().to_string()))
            .collect()
    }

    /// The files a run writes, in order: whether it writes a PFX, and whether it writes the PFX's password beside
    /// it (`--generate-password`).
    pub fn roles(pfx: bool, password_file: bool) -> Vec<FileRole> {
        let mut roles = vec![FileRole::Cer, FileRole::Pem, FileRole::Key];
        if pfx {
            roles.push(FileRole::Pfx);
            if password_file {
                roles.push(FileRole::PfxPassword);
            }
        }
        roles.push(FileRole::KeyCredentials);
        roles
    }
}

/// Checks a `--name`: a plain file name, so that every output stays inside `--out`.
pub fn validate_name(name: &str) -> Result<()> {
    let problem: Option<Vec<Piece>> = if name.is_empty() {
        Some(vec!["is empty".into()])
    } else if name.contains('/') || name.contains('\\') {
        Some(vec![
            "contains a path separator; ".into(),
            Advice::FolderApart.into(),
        ])
    } else if name == "." || name == ".." || name.starts_with('.') {
        Some(vec![
            "starts with '.'; hidden or relative names are not used".into(),
        ])
    } else if name.chars().any(char::is_control) {
        Some(vec!["contains a control character".into()])
    } else {
        None
    };
    match problem {
        Some(reason) => {
            let mut pieces = vec![Input::Name.into(), format!(" {name:?} ").into()];
            pieces.extend(reason);
            pieces.push(": the name is a plain file name such as contoso-daemon".into());
            Err(Error::Usage(Said::from_pieces(pieces)))
        }
        None => Ok(()),
    }
}

/// A file name derived from a common name: lowercase letters (any script, so `Ünïcode Dæmon` stays readable as
/// `ünïcode-dæmon`), digits and single dashes (`Contoso Daemon` → `contoso-daemon`), or `keycred` when nothing
/// usable remains.
pub fn default_name(common_name: &str) -> String {
    let mut name = String::new();
    for c in common_name.chars() {
        if c.is_alphanumeric() {
            name.extend(c.to_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_end_matches('-').to_owned();
    if name.is_empty() {
        "keycred".to_owned()
    } else {
        name
    }
}

/// Every role a credential's files can have, for checking that a name is free.
pub const ALL_ROLES: [FileRole; 9] = [
    FileRole::Cer,
    FileRole::Pem,
    FileRole::Key,
    FileRole::Pfx,
    FileRole::PfxPassword,
    FileRole::KeyCredentials,
    FileRole::Bundle,
    FileRole::Chain,
    FileRole::Request,
];

/// The name of a rotated credential's files: `BASE-YYYYMMDD` after the certificate's start date, then
/// `BASE-YYYYMMDD-2`, `-3`, … when a file of that name is already in `dir`. The current credential's files are
/// named `BASE` (or an earlier date), so a rotation never takes their names, and one name never holds two keys'
/// files. `taken` says whether a path exists (the file system, in the workflow).
pub fn rotated_name(
    dir: &std::path::Path,
    base: &str,
    start: time::Date,
    taken: impl Fn(&std::path::Path) -> bool,
) -> String {
    let dated = format!(
        "{base}-{:04}{:02}{:02}",
        start.year(),
        u8::from(start.month()),
        start.day()
    );
    let free = |name: &str| {
        let layout = OutputLayout {
            dir: dir.to_path_buf(),
            name: name.to_owned(),
        };
        !ALL_ROLES.iter().any(|role| taken(&layout.path(*role)))
    };
    if free(&dated) {
        return dated;
    }
    (2u32..)
        .map(|n| format!("{dated}-{n}"))
        .find(|name| free(name))
        .expect("some numbered name is free")
}

/// The files of a certificate whose key keycred does not hold (a vault's, a token's): all public.
pub const PUBLIC_ROLES: [FileRole; 3] = [FileRole::Cer, FileRole::Pem, FileRole::KeyCredentials];

/// The files of a certificate whose key keycred does not hold (made in a vault or a token): CER, PEM and the
/// keyCredentials fragment (keyId from the certificate), all public, in [`PUBLIC_ROLES`]' order. Pure: nothing is
/// written.
pub fn public_files(
    layout: &OutputLayout,
    cert: &CertificateInfo,
    format: ManifestFormat,
) -> Vec<(FileRole, OutputFile)> {
    let fragment = KeyCredentialsDocument::new(&[(cert, cert.key_id())], format).render(false);
    [
        (FileRole::Cer, cert.der().to_vec()),
        (
            FileRole::Pem,
            export::certificate_pem(cert.der()).into_bytes(),
        ),
        (FileRole::KeyCredentials, fragment.into_bytes()),
    ]
    .into_iter()
    .map(|(role, bytes)| {
        (
            role,
            OutputFile::new(layout.path(role), bytes, Access::Public),
        )
    })
    .collect()
}

/// Renders every file of a new credential. Pure: nothing is written.
pub fn render_files(
    credential: &NewCredential,
    layout: &OutputLayout,
    pfx: Option<&PfxOutput>,
    format: ManifestFormat,
) -> Result<Vec<(FileRole, OutputFile)>> {
    let cert = &credential.certificate;
    let mut files = Vec::new();
    for role in OutputLayout::roles(pfx.is_some(), pfx.is_some_and(|p| p.write_password_file)) {
        let (contents, access): (Vec<u8>, Access) = match role {
            FileRole::Cer => (cert.der().to_vec(), Access::Public),
            FileRole::Pem => (
                export::certificate_pem(cert.der()).into_bytes(),
                Access::Public,
            ),
            FileRole::Key => (
                export::private_key_pem(&credential.key).as_bytes().to_vec(),
                Access::Secret,
            ),
            FileRole::Pfx => {
                let pfx = pfx.expect("roles include Pfx only with PFX options");
                (
                    export::pfx(&credential.key, cert, &pfx.password, pfx.profile)?,
                    Access::Secret,
                )
            }
            FileRole::PfxPassword => {
                let pfx = pfx.expect("roles include the password only with PFX options");
                (
                    format!("{}\n", pfx.password.expose()).into_bytes(),
                    Access::Secret,
                )
            }
            FileRole::Bundle => (bundle_pem(credential).into_bytes(), Access::Secret),
            FileRole::KeyCredentials => (
                KeyCredentialsDocument::new(&[(cert, credential.key_id)], format)
                    .render(false)
                    .into_bytes(),
                Access::Public,
            ),
            // A self-signed credential has neither; `roles` never lists them.
            FileRole::Chain | FileRole::Request => continue,
        };
        files.push((role, OutputFile::new(layout.path(role), contents, access)));
    }
    Ok(files)
}

/// `NAME.bundle.pem`: the PKCS#8 private key, then the certificate, as azure-identity's `CertificateCredential`,
/// its `EnvironmentCredential` (`AZURE_CLIENT_CERTIFICATE_PATH`) and `az login --service-principal --certificate`
/// take them.
pub fn bundle_pem(credential: &NewCredential) -> String {
    format!(
        "{}{}",
        export::private_key_pem(&credential.key).as_str(),
        export::certificate_pem(credential.certificate.der())
    )
}

/// The paths a run will write, for checking before any key is generated.
pub fn planned_paths(layout: &OutputLayout, pfx: bool, password_file: bool) -> Vec<PathBuf> {
    OutputLayout::roles(pfx, password_file)
        .into_iter()
        .map(|r| layout.path(r))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_are_file_safe() {
        assert_eq!(default_name("Contoso Daemon (prod)"), "contoso-daemon-prod");
        assert_eq!(default_name("--"), "keycred");
        assert_eq!(default_name("app.contoso.com"), "app-contoso-com");
        assert_eq!(default_name("Ünïcode Dæmon"), "ünïcode-dæmon");
    }

    #[test]
    fn rotated_names_carry_the_start_date_and_never_take_a_used_name() {
        let date = time::macros::date!(2026 - 12 - 01);
        let dir = std::path::Path::new("/certs");
        assert_eq!(
            rotated_name(dir, "orders", date, |_| false),
            "orders-20261201"
        );
        let taken = |p: &std::path::Path| {
            p == std::path::Path::new("/certs/orders-20261201.bundle.pem")
                || p == std::path::Path::new("/certs/orders-20261201-2.pfx.password")
        };
        assert_eq!(
            rotated_name(dir, "orders", date, taken),
            "orders-20261201-3"
        );
    }

    #[test]
    fn names_that_escape_the_folder_are_refused() {
        for bad in ["", "../x", "a/b", ".hidden", "a\\b"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        validate_name("contoso-daemon").unwrap();
    }
}
