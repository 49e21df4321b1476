//! `keycred new`: validate everything, check every target, then generate and write all files at once.

use anyhow::Context as _;
use keycred::credential::{CertRequest, KeySize, SignatureHash, Subject, ValidityEnd};
use keycred::export::PfxProfile;
use keycred::provision::{self, OutputLayout, PfxOutput};
use keycred::report::NewSummary;
use keycred::secret::{self, Password, PASSWORD_ENV};
use keycred::{fsio, time_fmt};

use crate::cli::{self, NewArgs};

pub fn run(args: NewArgs) -> anyhow::Result<i32> {
    // Arguments first: nothing is read, generated or written until they are all valid.
    let subject = Subject::parse(&args.subject)?;
    let key_size = KeySize::from_bits(args.key_size)?;
    let end = match (&args.not_after, args.days) {
        (Some(date), _) => ValidityEnd::NotAfter(time_fmt::parse_instant(date)?),
        (None, days) => {
            ValidityEnd::Days(days.unwrap_or(keycred::credential::request::DEFAULT_DAYS))
        }
    };
    let request = CertRequest::new(
        subject,
        key_size,
        hash(args.hash),
        end,
        time::OffsetDateTime::now_utc(),
        secret::random_bytes()?,
    )?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => provision::default_name(request.subject.common_name()),
    };
    provision::validate_name(&name)?;
    let layout = OutputLayout {
        dir: args.out.clone(),
        name,
    };

    // The folder and every target are checked before the password prompt and key generation.
    fsio::check_output_dir(&layout.dir)?;
    let pfx = if args.no_pfx {
        None
    } else {
        Some(PfxOutput {
            write_password_file: args.generate_password,
            password: new_password(&args)?,
            profile: match args.pfx_profile {
                cli::PfxProfile::Modern => PfxProfile::Modern,
                cli::PfxProfile::Legacy => PfxProfile::Legacy,
            },
        })
    };
    let planned: Vec<_> = provision::planned_paths(&layout, pfx.as_ref())
        .into_iter()
        .map(|path| fsio::OutputFile::new(path, Vec::new(), fsio::Access::Public))
        .collect();
    fsio::check_targets(&planned, args.force)?;

    let credential = provision::create(&request, uuid::Uuid::new_v4())?;
    let files = provision::render_files(&credential, &layout, pfx.as_ref(), args.format.into())?;
    let (roles, outputs): (Vec<_>, Vec<_>) = files.into_iter().unzip();
    fsio::write_all(&outputs, args.force)
        .with_context(|| format!("writing the credential files to {}", layout.dir.display()))?;

    let warnings = request.warnings();
    for warning in &warnings {
        eprintln!("keycred: warning: {warning}");
    }
    let summary = NewSummary {
        credential: &credential,
        files: roles
            .into_iter()
            .zip(&outputs)
            .map(|(role, file)| (role, file.path.display().to_string()))
            .collect(),
        pfx_profile: pfx.as_ref().map(|p| p.profile.as_str()),
        format: super::format_name(args.format),
        warnings,
    };
    if args.json {
        super::print_json(&summary.json());
    } else {
        super::print(&summary.text());
    }
    Ok(keycred::exit::SUCCESS)
}

fn hash(hash: cli::Hash) -> SignatureHash {
    match hash {
        cli::Hash::Sha256 => SignatureHash::Sha256,
        cli::Hash::Sha384 => SignatureHash::Sha384,
        cli::Hash::Sha512 => SignatureHash::Sha512,
    }
}

/// The new PFX's password: --password-file, --generate-password, KEYCRED_PFX_PASSWORD, or a confirmed prompt.
fn new_password(args: &NewArgs) -> keycred::Result<Password> {
    if let Some(file) = &args.password.password_file {
        return super::password_from_file(file)?
            .require_non_empty(&format!("--password-file {}", file.display()));
    }
    if args.generate_password {
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
