//! `keycred new`, and the steps `rotate` and `batch` share with it: validate everything, check every target,
//! then generate and write all files at once.

use anyhow::Context as _;
use keycred::credential::{CertRequest, KeySize, SignatureHash, Subject, ValidityEnd};
use keycred::export::PfxProfile;
use keycred::fsio::{self, OutputFile};
use keycred::manifest::ManifestFormat;
use keycred::provision::{self, FileRole, NewCredential, OutputLayout, PfxOutput};
use keycred::report::NewSummary;
use keycred::secret::{self, Password, PASSWORD_ENV};
use keycred::time_fmt;

use crate::cli::{self, CredentialOptions, NewArgs};

pub fn run(args: NewArgs) -> anyhow::Result<i32> {
    let issue = Issue::prepare(
        &args.subject,
        &args.credential,
        PasswordSource::from_options(&args.credential),
    )?;
    let credential = issue.create()?;
    let written = issue.write(&credential, args.format.into())?;
    let summary = issue.summary(&credential, written, super::format_name(args.format));
    if args.json {
        super::print_json(&summary.json());
    } else {
        super::print(&summary.text());
    }
    Ok(keycred::exit::SUCCESS)
}

/// Where the new PFX's password comes from.
pub enum PasswordSource {
    /// No PFX is written.
    None,
    /// A password already asked for (the wizard's hidden input).
    Given(Password),
    /// --password-file, --generate-password, KEYCRED_PFX_PASSWORD or a prompt, in that order.
    Resolve {
        /// --password-file.
        file: Option<std::path::PathBuf>,
        /// --generate-password.
        generate: bool,
    },
}

impl PasswordSource {
    pub fn from_options(options: &CredentialOptions) -> PasswordSource {
        if options.no_pfx {
            PasswordSource::None
        } else {
            PasswordSource::Resolve {
                file: options.password.password_file.clone(),
                generate: options.generate_password,
            }
        }
    }
}

/// A validated request with its checked output targets and resolved password: everything but the key.
pub struct Issue {
    pub request: CertRequest,
    pub layout: OutputLayout,
    pub pfx: Option<PfxOutput>,
    pub force: bool,
}

impl Issue {
    /// Validates the options, checks the folder and every target, and resolves the password, in that order, so
    /// that nothing is generated (and no password asked for) when the run cannot succeed.
    pub fn prepare(
        subject: &str,
        options: &CredentialOptions,
        password: PasswordSource,
    ) -> anyhow::Result<Issue> {
        let subject = Subject::parse(subject)?;
        let key_size = KeySize::from_bits(options.key_size)?;
        let end = match (&options.not_after, options.days) {
            (Some(date), _) => ValidityEnd::NotAfter(time_fmt::parse_instant(date)?),
            (None, days) => {
                ValidityEnd::Days(days.unwrap_or(keycred::credential::request::DEFAULT_DAYS))
            }
        };
        let request = CertRequest::new(
            subject,
            key_size,
            hash(options.hash),
            end,
            time::OffsetDateTime::now_utc(),
            secret::random_bytes()?,
        )?;
        let name = match &options.name {
            Some(name) => name.clone(),
            None => provision::default_name(request.subject.common_name()),
        };
        provision::validate_name(&name)?;
        let layout = OutputLayout {
            dir: options.out.clone(),
            name,
        };
        fsio::check_output_dir(&layout.dir)?;
        // The files are planned (and checked) before the password is resolved or asked for.
        let (pfx, password_file) = match &password {
            PasswordSource::None => (false, false),
            PasswordSource::Given(_) => (true, false),
            PasswordSource::Resolve { generate, .. } => (true, *generate),
        };
        let planned: Vec<_> = provision::planned_paths(&layout, pfx, password_file)
            .into_iter()
            .map(|path| OutputFile::new(path, Vec::new(), fsio::Access::Public))
            .collect();
        fsio::check_targets(&planned, options.force)?;

        let profile = match options.pfx_profile {
            cli::PfxProfile::Modern => PfxProfile::Modern,
            cli::PfxProfile::Legacy => PfxProfile::Legacy,
        };
        let pfx = match password {
            PasswordSource::None => None,
            PasswordSource::Given(password) => Some(PfxOutput {
                write_password_file: false,
                password: password.require_non_empty("the prompt")?,
                profile,
            }),
            PasswordSource::Resolve { file, generate } => Some(PfxOutput {
                write_password_file: generate,
                password: new_password(file.as_deref(), generate)?,
                profile,
            }),
        };
        Ok(Issue {
            request,
            layout,
            pfx,
            force: options.force,
        })
    }

    /// Generates the key and the certificate.
    pub fn create(&self) -> keycred::Result<NewCredential> {
        provision::create(&self.request, uuid::Uuid::new_v4())
    }

    /// Renders and writes every file; returns the roles and paths written.
    pub fn write(
        &self,
        credential: &NewCredential,
        format: ManifestFormat,
    ) -> anyhow::Result<Vec<(FileRole, String)>> {
        let files = provision::render_files(credential, &self.layout, self.pfx.as_ref(), format)?;
        let (roles, outputs): (Vec<_>, Vec<_>) = files.into_iter().unzip();
        fsio::write_all(&outputs, self.force).with_context(|| {
            format!(
                "writing the credential files to {}",
                self.layout.dir.display()
            )
        })?;
        Ok(roles
            .into_iter()
            .zip(&outputs)
            .map(|(role, file)| (role, file.path.display().to_string()))
            .collect())
    }

    /// The summary `new` prints, with warnings also sent to stderr.
    pub fn summary<'a>(
        &'a self,
        credential: &'a NewCredential,
        files: Vec<(FileRole, String)>,
        format: &'a str,
    ) -> NewSummary<'a> {
        let warnings = self.request.warnings();
        for warning in &warnings {
            eprintln!("keycred: warning: {warning}");
        }
        NewSummary {
            credential,
            files,
            pfx_profile: self.pfx.as_ref().map(|p| p.profile.as_str()),
            format,
            warnings,
        }
    }
}

fn hash(hash: cli::Hash) -> SignatureHash {
    match hash {
        cli::Hash::Sha256 => SignatureHash::Sha256,
        cli::Hash::Sha384 => SignatureHash::Sha384,
        cli::Hash::Sha512 => SignatureHash::Sha512,
    }
}

/// The new PFX's password: --password-file, --generate-password, KEYCRED_PFX_PASSWORD, or a confirmed prompt.
pub fn new_password(file: Option<&std::path::Path>, generate: bool) -> keycred::Result<Password> {
    if let Some(file) = file {
        return super::password_from_file(file, "--password-file")?
            .require_non_empty(&format!("--password-file {}", file.display()));
    }
    if generate {
        return Password::generate();
    }
    if let Some(value) = std::env::var_os(PASSWORD_ENV) {
        return Password::new(value.to_string_lossy().into_owned()).require_non_empty(PASSWORD_ENV);
    }
    if super::interactive() {
        return super::prompt("PFX password", true)?.require_non_empty("the prompt");
    }
    Err(keycred::Error::Password(format!(
        "a PFX password is required: pass --password-file PATH or --generate-password, set {PASSWORD_ENV}, \
         or run in a terminal to be asked; --no-pfx skips the PFX"
    )))
}
