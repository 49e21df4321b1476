//! The wizard's credential questions, the request they make, and the equivalent command line.

use std::path::{Path, PathBuf};

use console::Term;
use keycred::credential::{SignatureHash, Subject};
use keycred::export::PfxProfile;
use keycred::manifest::ManifestFormat;
use keycred::provision as domain;
use keycred::secret::Password;
use keycred::workflow::provision::{check_targets, CredentialSpec, NewPassword, PfxSpec};

use super::prompts::{new_password, select, text};
use keycred::shell::word as quote;

/// What the admin answered about the new credential.
pub(super) struct CredentialAnswers {
    pub subject: String,
    pub out: PathBuf,
    pub name: String,
    pub days: u32,
    pub key_size: u32,
    /// `None`: no PFX.
    pub pfx: Option<PfxProfile>,
    pub generate: bool,
    /// Typed at the hidden prompt.
    pub password: Option<Password>,
    pub format: ManifestFormat,
    /// From the organisation's CA: a key and a request now, the CA's certificate imported later (no `days`).
    pub ca: bool,
}

impl CredentialAnswers {
    /// The credential spec the answers describe: what `keycred new` builds from the same flags.
    pub fn spec(&self) -> CredentialSpec {
        CredentialSpec {
            subject: self.subject.clone(),
            key_size: self.key_size,
            hash: SignatureHash::Sha256,
            days: (!self.ca).then_some(self.days),
            not_after: None,
            pfx: self.pfx.map(|profile| PfxSpec {
                profile,
                password: match &self.password {
                    _ if self.generate => NewPassword::Generate,
                    Some(typed) => NewPassword::Given(Password::new(typed.expose().to_owned())),
                    None => NewPassword::Generate,
                },
            }),
            out: self.out.clone(),
            name: Some(self.name.clone()),
            force: false,
            key_file: true,
            pem_bundle: false,
            max_lifetime: None,
        }
    }

    /// The flags of `keycred new` (and `rotate`) for the same credential, never with a secret.
    pub fn flags(&self) -> String {
        let mut flags = format!(
            "--subject {} --out {} --name {}",
            quote(&self.subject),
            quote(&self.out.display().to_string()),
            quote(&self.name),
        );
        if !self.ca {
            flags.push_str(&format!(" --days {}", self.days));
        }
        flags.push_str(&format!(" --key-size {}", self.key_size));
        match self.pfx {
            None => flags.push_str(" --no-pfx"),
            Some(profile) => {
                flags.push_str(&format!(" --pfx-profile {}", profile.as_str()));
                if self.generate {
                    flags.push_str(" --generate-password");
                } else if self.password.is_some() {
                    flags.push_str(" --password-file PASSWORD_FILE");
                }
            }
        }
        flags
    }

    /// `keycred new` with the same answers (`keycred csr` for a certificate from the CA).
    pub fn new_command(&self) -> String {
        if self.ca {
            return format!(
                "keycred csr --subject {} --out {} --name {} --key-size {}",
                quote(&self.subject),
                quote(&self.out.display().to_string()),
                quote(&self.name),
                self.key_size
            );
        }
        format!(
            "keycred new {} --format {}",
            self.flags(),
            keycred::manifest::document::format_name(self.format)
        )
    }
}

/// Asks for the credential. `format` is the fragment format when it is already fixed (a rotation follows its
/// manifest's), so it is not asked; `rotating` says the credential joins a manifest (a CA's certificate then
/// arrives in a later run, which makes the PFX).
pub(super) fn ask_credential(
    term: &Term,
    out: &Path,
    default_subject: Option<&str>,
    format: Option<ManifestFormat>,
    rotating: bool,
) -> anyhow::Result<CredentialAnswers> {
    let subject = text(
        term,
        "Certificate subject (a name, or CN=...,O=...)",
        default_subject,
        |s| Subject::parse(s).map(drop).map_err(super::prompts::said),
    )?;
    let ca = select(
        term,
        "Where does the certificate come from?",
        &[
            "Self-signed: made here, now",
            "Certificate from our CA: a key and a request now, the CA's answer imported later",
        ],
        0,
    )? == 1;
    let days = if ca {
        "0".to_owned()
    } else {
        text(
            term,
            "Validity in days (Microsoft recommends at most 365)",
            Some("365"),
            |d| match d.parse::<u32>() {
                Ok(n) if (1..=keycred::credential::request::MAX_DAYS).contains(&n) => Ok(()),
                _ => Err(format!(
                    "give a whole number of days from 1 to {}",
                    keycred::credential::request::MAX_DAYS
                )),
            },
        )?
    };
    let key_size = [2048, 3072, 4096][select(
        term,
        "RSA key size",
        &["2048 (Entra's minimum)", "3072", "4096"],
        0,
    )?];
    // A request alone has no PFX: keycred import makes it with the CA's certificate.
    let pfx_choice = if ca && !rotating {
        2
    } else {
        select(
            term,
            "PFX file (key + certificate, for Windows and most SDKs)",
            &[
                "Modern PFX: AES-256 (OpenSSL 3, current Windows and .NET)",
                "Legacy PFX: 3DES (Windows Server 2016, older .NET Framework)",
                "No PFX",
            ],
            0,
        )?
    };
    let (generate, password) = if pfx_choice == 2 {
        (false, None)
    } else {
        match select(
            term,
            "PFX password",
            &[
                "Generate one for me (saved beside the PFX, owner-only)",
                "Type a password",
            ],
            0,
        )? {
            0 => (true, None),
            _ => (false, Some(new_password(term)?)),
        }
    };
    let format = match format {
        Some(format) => format,
        None if ca => ManifestFormat::Graph,
        None => ask_format(term, "keyCredentials fragment format")?,
    };
    let cn = Subject::parse(&subject)?.common_name().to_owned();
    let name = text(
        term,
        "Base name for the files",
        Some(&domain::default_name(&cn)),
        |name| {
            domain::validate_name(name).map_err(super::prompts::said)?;
            let layout = domain::OutputLayout {
                dir: out.to_path_buf(),
                name: name.to_owned(),
            };
            if ca {
                let csr = out.join(format!("{name}.csr"));
                if csr.exists() {
                    return Err(format!(
                        "{} already exists: choose another name",
                        csr.display()
                    ));
                }
            }
            check_targets(&layout, pfx_choice != 2, generate, false).map_err(super::prompts::said)
        },
    )?;
    Ok(CredentialAnswers {
        subject,
        out: out.to_path_buf(),
        name,
        days: days.parse().expect("checked"),
        key_size,
        pfx: match pfx_choice {
            0 => Some(PfxProfile::Modern),
            1 => Some(PfxProfile::Legacy),
            _ => None,
        },
        generate,
        password,
        format,
        ca,
    })
}

/// The manifest format, asked once per run.
pub(super) fn ask_format(term: &Term, prompt: &str) -> anyhow::Result<ManifestFormat> {
    Ok(
        match select(
            term,
            prompt,
            &[
                "Microsoft Graph (the portal's manifest editor, Graph API)",
                "Legacy (Azure AD Graph manifest)",
            ],
            0,
        )? {
            0 => ManifestFormat::Graph,
            _ => ManifestFormat::Legacy,
        },
    )
}

impl CredentialAnswers {
    /// Subject, validity, key size, PFX profile and every warning, for the summary before anything is written.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "subject       {}",
                Subject::parse(&self.subject)
                    .map_or_else(|_| self.subject.clone(), |s| s.to_string())
            ),
            if self.ca {
                "certificate   from your CA: a request now; its validity is the CA's to decide"
                    .to_owned()
            } else {
                format!("validity      {} days from now", self.days)
            },
            format!(
                "key           RSA {}, sha256WithRSAEncryption",
                self.key_size
            ),
            format!(
                "PFX           {}",
                match self.pfx {
                    Some(profile) if self.generate =>
                        format!("{} profile, generated password", profile.as_str()),
                    Some(profile) =>
                        format!("{} profile, the password you typed", profile.as_str()),
                    None => "none".to_owned(),
                }
            ),
        ];
        let request = keycred::credential::CertRequest::new(
            Subject::parse(&self.subject).expect("checked when asked"),
            keycred::credential::KeySize::from_bits(self.key_size).expect("offered sizes"),
            SignatureHash::Sha256,
            keycred::credential::ValidityEnd::Days(self.days),
            time::OffsetDateTime::now_utc(),
            [1; 16],
        );
        if let (Ok(request), false) = (request, self.ca) {
            for warning in request.warnings() {
                lines.push(format!("warning       {warning}"));
            }
        }
        lines
    }
}
