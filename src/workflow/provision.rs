//! The `new` workflow: a credential spec in, a key, a certificate and its files out.
//!
//! `keycred new`, the wizard, `rotate` (which makes its new credential the same way) and every provisioned app of
//! `batch` go through [`Issue`], so there is one tested path from a spec to files on disk. Everything that can fail
//! is checked before the key is generated and before a password is asked for: the subject, sizes and dates, the
//! name, the folder and every target file.

use std::path::PathBuf;

use crate::credential::{CertRequest, KeySize, SignatureHash, Subject, ValidityEnd};
use crate::error::{Error, Result};
use crate::export::PfxProfile;
use crate::fsio::{self, Access, OutputFile};
use crate::input::PasswordSources;
use crate::interrupt::Interrupt;
use crate::manifest::ManifestFormat;
use crate::provision::{self as domain, FileRole, NewCredential, OutputLayout, PfxOutput};
use crate::rules::LifetimeLimit;
use crate::secret::Password;
use crate::words::Input;

/// Where a new PFX's password comes from.
#[derive(Debug)]
pub enum NewPassword {
    /// Random, written beside the PFX as `NAME.pfx.password` (`--generate-password`).
    Generate,
    /// Already asked for (the wizard's hidden input).
    Given(Password),
    /// `--password-file`, `KEYCRED_PFX_PASSWORD` or a prompt, through [`PasswordSources::new_pfx`].
    FromSources,
}

/// The PFX of a new credential.
#[derive(Debug)]
pub struct PfxSpec {
    /// Its encryption profile.
    pub profile: PfxProfile,
    /// Its password.
    pub password: NewPassword,
}

/// How a new certificate credential is made and written, as `new`, `rotate`, `batch` and the wizard describe it.
#[derive(Debug)]
pub struct CredentialSpec {
    /// A bare name (`Contoso Daemon`) or a DN (`CN=Contoso Daemon,O=Contoso`).
    pub subject: String,
    /// RSA key size in bits.
    pub key_size: u32,
    /// The certificate's signature hash.
    pub hash: SignatureHash,
    /// Validity in days (`None` with no `not_after`: the default, 365).
    pub days: Option<u32>,
    /// End of validity, `YYYY-MM-DD` or RFC 3339.
    pub not_after: Option<String>,
    /// The PFX, or `None` for no PFX.
    pub pfx: Option<PfxSpec>,
    /// The folder the files go to.
    pub out: PathBuf,
    /// The files' base name; `None` derives it from the common name.
    pub name: Option<String>,
    /// Replace existing files.
    pub force: bool,
    /// Write `NAME.key` beside the PFX; `false` keeps the private key only inside the PFX (`--no-key`).
    pub key_file: bool,
    /// Also write `NAME.bundle.pem`, key and certificate in one PEM (`--pem-bundle`).
    pub pem_bundle: bool,
    /// The longest validity the rules allow (the tenant's, or `--max-lifetime`): the default validity is cut to
    /// it, and a longer one is refused before anything is made.
    pub max_lifetime: Option<LifetimeLimit>,
}

impl CredentialSpec {
    /// A spec with keycred's defaults: RSA 2048, SHA-256, 365 days, no PFX, files named after the CN in `out`.
    pub fn new(subject: impl Into<String>, out: impl Into<PathBuf>) -> CredentialSpec {
        CredentialSpec {
            subject: subject.into(),
            key_size: 2048,
            hash: SignatureHash::Sha256,
            days: None,
            not_after: None,
            pfx: None,
            out: out.into(),
            name: None,
            force: false,
            key_file: true,
            pem_bundle: false,
            max_lifetime: None,
        }
    }
}

/// A validated spec with its checked targets and resolved password: everything but the key.
#[derive(Debug)]
pub struct Issue {
    /// The certificate request.
    pub request: CertRequest,
    /// Where the files go.
    pub layout: OutputLayout,
    /// The PFX, with its password.
    pub pfx: Option<PfxOutput>,
    /// Replace existing files.
    pub force: bool,
    /// The output folder does not exist yet: it is created (owner-only) when the files are written.
    pub create_dir: bool,
    /// Write `NAME.key` (else the key is only in the PFX).
    pub key_file: bool,
    /// Also write `NAME.bundle.pem`.
    pub pem_bundle: bool,
    /// Advice about the password (a short typed one).
    pub warnings: Vec<String>,
    /// What the rules made of the validity ("policy P limits this app to 180 days: …").
    pub notes: Vec<String>,
}

/// The end of validity `spec` asks for: days, an end date or a duration (`PT…H`), else the default (within
/// `max_lifetime`).
pub fn validity_end(spec: &CredentialSpec, now: time::OffsetDateTime) -> Result<ValidityEnd> {
    Ok(match (&spec.not_after, spec.days) {
        (Some(_), Some(_)) => {
            return Err(Error::Invalid(
                "give the validity as days or as an end date, not both".into(),
            ))
        }
        (Some(text), None) => match duration(text) {
            Some(Duration::Days(days)) => ValidityEnd::Days(days),
            // Counted from not-before, as days are.
            Some(Duration::Hours(hours)) => ValidityEnd::NotAfter(
                now - crate::credential::request::CLOCK_SKEW
                    + time::Duration::hours(i64::from(hours)),
            ),
            None => ValidityEnd::NotAfter(crate::time_fmt::parse_instant(text)?),
        },
        (None, Some(days)) => ValidityEnd::Days(days),
        (None, None) => default_validity(spec.max_lifetime.as_ref(), now)?,
    })
}

impl Issue {
    /// Validates the spec, checks the folder and every target, then resolves the password, in that order, so
    /// that nothing is generated (and no password asked for) when the run cannot succeed. `now` and `serial`
    /// are injected for reproducible tests.
    pub fn prepare(
        spec: CredentialSpec,
        passwords: &PasswordSources,
        now: time::OffsetDateTime,
        serial: [u8; 16],
    ) -> Result<Issue> {
        let subject = Subject::parse(&spec.subject)?;
        let key_size = KeySize::from_bits(spec.key_size)?;
        let end = validity_end(&spec, now)?;
        let request = CertRequest::new(subject, key_size, spec.hash, end, now, serial)?;
        let mut notes = Vec::new();
        if let Some(limit) = &spec.max_lifetime {
            notes.push(within_limit(&request, limit, spec.days)?);
        }
        let name = match spec.name {
            Some(name) => name,
            None => domain::default_name(request.subject.common_name()),
        };
        domain::validate_name(&name)?;
        let layout = OutputLayout {
            dir: spec.out,
            name,
        };
        // A missing folder is made when the files are written (owner-only: it will hold the private key); nothing
        // can exist in it yet, so there are no targets to check.
        let create_dir = fsio::output_dir_state(&layout.dir)? == fsio::OutputDir::Missing;
        if !spec.key_file && spec.pfx.is_none() {
            return Err(Error::Usage(crate::words::said!(
                Input::NoKey,
                " with ",
                Input::NoPfx,
                " would keep the private key nowhere: drop one of them"
            )));
        }
        let password_file = matches!(
            spec.pfx,
            Some(PfxSpec {
                password: NewPassword::Generate,
                ..
            })
        );
        if !create_dir {
            check_targets(&layout, spec.pfx.is_some(), password_file, spec.force)?;
            if spec.pem_bundle {
                fsio::check_targets(
                    &[OutputFile::new(
                        layout.path(FileRole::Bundle),
                        Vec::new(),
                        Access::Secret,
                    )],
                    spec.force,
                )?;
            }
        }
        let mut warnings = Vec::new();
        let pfx = match spec.pfx {
            None => None,
            Some(PfxSpec { profile, password }) => Some(PfxOutput {
                write_password_file: matches!(password, NewPassword::Generate),
                password: match password {
                    NewPassword::Generate => Password::generate()?,
                    NewPassword::Given(password) => {
                        short_password_warning(&password, &mut warnings);
                        password.require_non_empty("the prompt")?
                    }
                    NewPassword::FromSources => {
                        let password = passwords.new_pfx()?;
                        short_password_warning(&password, &mut warnings);
                        password
                    }
                },
                profile,
            }),
        };
        Ok(Issue {
            request,
            layout,
            pfx,
            force: spec.force,
            create_dir,
            key_file: spec.key_file,
            pem_bundle: spec.pem_bundle,
            warnings,
            notes,
        })
    }

    /// Generates the key and the certificate; the keyId is the certificate's own
    /// ([`crate::credential::CertificateInfo::key_id`]).
    pub fn create(&self) -> Result<NewCredential> {
        let mut made = domain::create(&self.request, uuid::Uuid::nil())?;
        made.key_id = made.certificate.key_id();
        Ok(made)
    }

    /// Renders and writes every file, all or nothing; returns the roles and paths written.
    pub fn write(
        &self,
        credential: &NewCredential,
        format: ManifestFormat,
    ) -> Result<Vec<(FileRole, String)>> {
        self.write_with(credential, format, None)
    }

    /// As [`Issue::write`], with keycred's record that it made this key (see [`super::made`]) in the same
    /// all-or-nothing set: for a rotation, whose next run may send the certificate instead of making another.
    /// `made_for` is the manifest a `rotate` made it for.
    pub fn write_recorded(
        &self,
        credential: &NewCredential,
        format: ManifestFormat,
        made_for: Option<&std::path::Path>,
    ) -> Result<Vec<(FileRole, String)>> {
        let cert = &credential.certificate;
        let record = super::made::record(
            &self.layout.dir,
            &self.layout.name,
            cert.subject_public_key(),
            Some(cert),
            made_for,
        );
        self.write_with(credential, format, Some(record))
    }

    fn write_with(
        &self,
        credential: &NewCredential,
        format: ManifestFormat,
        record: Option<OutputFile>,
    ) -> Result<Vec<(FileRole, String)>> {
        let mut files = domain::render_files(credential, &self.layout, self.pfx.as_ref(), format)?;
        if self.pem_bundle {
            files.push((
                FileRole::Bundle,
                OutputFile::new(
                    self.layout.path(FileRole::Bundle),
                    domain::bundle_pem(credential),
                    Access::Secret,
                ),
            ));
        }
        let (roles, mut outputs): (Vec<_>, Vec<_>) = files
            .into_iter()
            .filter(|(role, _)| self.key_file || *role != FileRole::Key)
            .unzip();
        outputs.extend(record);
        if self.create_dir {
            fsio::create_output_dir(&self.layout.dir, true)?;
        }
        fsio::write_all(&outputs, self.force)?;
        if self.force {
            // A secret file of the name that this run did not write (the bundle or PFX of the credential it
            // replaced) would sit beside the new key: it goes to its backup too, so one name holds one key.
            for role in [
                FileRole::Key,
                FileRole::Pfx,
                FileRole::PfxPassword,
                FileRole::Bundle,
            ] {
                if !roles.contains(&role) {
                    let path = self.layout.path(role);
                    if fsio::keep_as_backup(&path)?.is_some() {
                        std::fs::remove_file(&path).map_err(|e| crate::Error::io(&path, e))?;
                    }
                }
            }
        }
        Ok(roles
            .into_iter()
            .zip(&outputs)
            .map(|(role, file)| (role, file.path.display().to_string()))
            .collect())
    }

    /// What [`Issue::create`] would make, without making a key: for a plan.
    pub fn to_make(&self) -> crate::rotation::ToMake {
        crate::rotation::ToMake {
            subject: self.request.subject.to_string(),
            start: self.request.not_before,
            end: self.request.not_after,
        }
    }

    /// The files [`Issue::write`] writes, with their roles, in its order: for a plan shown before writing.
    pub fn planned_files(&self) -> Vec<(FileRole, String)> {
        let pfx = self.pfx.as_ref();
        let mut roles =
            domain::OutputLayout::roles(pfx.is_some(), pfx.is_some_and(|p| p.write_password_file));
        if self.pem_bundle {
            roles.push(FileRole::Bundle);
        }
        roles
            .into_iter()
            .filter(|role| self.key_file || *role != FileRole::Key)
            .map(|role| (role, self.path(role).display().to_string()))
            .collect()
    }

    /// The path of one of the files.
    pub fn path(&self, role: FileRole) -> PathBuf {
        self.layout.path(role)
    }
}

/// The shortest PFX password typed (or read) without a warning; `--generate-password` gives 32 characters.
pub const MIN_PASSWORD_CHARS: usize = 12;

fn short_password_warning(password: &Password, warnings: &mut Vec<String>) {
    let length = password.expose().chars().count();
    if length > 0 && length < MIN_PASSWORD_CHARS {
        warnings.push(format!(
            "the PFX password has {length} characters: anyone who gets the PFX can try passwords offline, so use at \
             least {MIN_PASSWORD_CHARS}, or --generate-password"
        ));
    }
}

/// How far inside a rule's limit a default validity ends, so that clocks that disagree (keycred's, Graph's) and
/// a rule that counts its limit strictly still accept it.
pub const LIMIT_MARGIN: time::Duration = time::Duration::minutes(10);

/// The default validity (365 days), cut to the rules' limit less [`LIMIT_MARGIN`].
fn default_validity(
    limit: Option<&LifetimeLimit>,
    now: time::OffsetDateTime,
) -> Result<ValidityEnd> {
    let default = crate::credential::request::DEFAULT_DAYS;
    let Some(limit) = limit.filter(|l| l.max < time::Duration::days(i64::from(default))) else {
        return Ok(ValidityEnd::Days(default));
    };
    if limit.max < time::Duration::days(1) {
        return Err(Error::Refused(format!(
            "{}: less than a day, and keycred makes no certificate that short",
            limit.rule()
        )));
    }
    Ok(ValidityEnd::NotAfter(
        now - crate::credential::request::CLOCK_SKEW + limit.max - LIMIT_MARGIN,
    ))
}

/// Refuses a certificate that lives longer than `limit` allows (its whole validity, the clock-skew backdate
/// included, as Graph measures it); otherwise says what the limit made of it.
fn within_limit(request: &CertRequest, limit: &LifetimeLimit, days: Option<u32>) -> Result<String> {
    let lifetime = request.not_after - request.not_before;
    let allowed = limit.whole_days();
    if lifetime > limit.max {
        let asked = match days {
            Some(days) => crate::words::said!(Input::Days, format!(" {days}")),
            None => crate::words::said!(
                Input::NotAfter,
                format!(" {}", crate::time_fmt::rfc3339_utc(request.not_after))
            ),
        };
        return Err(Error::Usage(
            asked.then(" is beyond the rule: ").then(limit.rule()).then(
                crate::words::said!(
                    "; nothing was made. Give at most ",
                    Input::Days,
                    format!(
                        " {allowed}, or no validity at all (the longest the rule allows, at most 365 days)"
                    )
                ),
            ),
        ));
    }
    Ok(format!(
        "{}: the new certificate ends {}",
        limit.rule(),
        crate::time_fmt::rfc3339_utc(request.not_after)
    ))
}

/// A validity given as a duration from now, as `step` spells it: `90d`, `2160h`.
enum Duration {
    Days(u32),
    Hours(u32),
}

fn duration(text: &str) -> Option<Duration> {
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let number: u32 = number.parse().ok().filter(|n| *n > 0)?;
    match unit {
        "d" => Some(Duration::Days(number)),
        "h" => Some(Duration::Hours(number)),
        _ => None,
    }
}

/// Refuses any file of `layout` that exists (unless `force`), before anything is made.
pub fn check_targets(
    layout: &OutputLayout,
    pfx: bool,
    password_file: bool,
    force: bool,
) -> Result<()> {
    let planned: Vec<_> = domain::planned_paths(layout, pfx, password_file)
        .into_iter()
        .map(|path| OutputFile::new(path, Vec::new(), Access::Public))
        .collect();
    fsio::check_targets(&planned, force)
}

/// `keycred new`: one credential, written in `format`.
#[derive(Debug)]
pub struct ProvisionRequest {
    /// The credential.
    pub credential: CredentialSpec,
    /// The keyCredentials fragment's format.
    pub format: ManifestFormat,
}

/// What `keycred new` made.
#[derive(Debug)]
pub struct Provisioned {
    /// The key, the certificate and the keyId.
    pub credential: NewCredential,
    /// The files written, with their roles.
    pub files: Vec<(FileRole, String)>,
    /// The PFX profile, when a PFX was written.
    pub pfx_profile: Option<PfxProfile>,
    /// The fragment's format.
    pub format: ManifestFormat,
    /// Advice about the request (a validity beyond a year, …).
    pub warnings: Vec<String>,
    /// The folder, when this run created it.
    pub created_dir: Option<PathBuf>,
}

/// Makes and writes one credential. A signal recorded in `interrupt` before writing stops it with nothing written.
pub fn provision(
    request: ProvisionRequest,
    passwords: &PasswordSources,
    interrupt: &Interrupt,
) -> Result<Provisioned> {
    let issue = Issue::prepare(
        request.credential,
        passwords,
        time::OffsetDateTime::now_utc(),
        crate::secret::random_bytes()?,
    )?;
    let credential = issue.create()?;
    interrupt.check()?;
    let files = issue.write(&credential, request.format)?;
    Ok(Provisioned {
        created_dir: issue.create_dir.then(|| issue.layout.dir.clone()),
        warnings: issue
            .request
            .warnings()
            .into_iter()
            .chain(issue.warnings.iter().cloned())
            .chain(issue.notes.iter().cloned())
            .collect(),
        pfx_profile: issue.pfx.as_ref().map(|p| p.profile),
        credential,
        files,
        format: request.format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn spec(dir: &Path) -> CredentialSpec {
        let mut spec = CredentialSpec::new("CN=Workflow Test", dir);
        spec.name = Some("w".into());
        spec
    }

    #[test]
    fn provisions_every_file_and_refuses_to_replace_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut request = ProvisionRequest {
            credential: spec(dir.path()),
            format: ManifestFormat::Graph,
        };
        request.credential.pfx = Some(PfxSpec {
            profile: PfxProfile::Modern,
            password: NewPassword::Generate,
        });
        let made = provision(request, &PasswordSources::default(), &Interrupt::none()).unwrap();
        let roles: Vec<FileRole> = made.files.iter().map(|(r, _)| *r).collect();
        let mut planned = spec(dir.path());
        planned.name = Some("w2".into());
        planned.pfx = Some(PfxSpec {
            profile: PfxProfile::Modern,
            password: NewPassword::Generate,
        });
        let issue = Issue::prepare(
            planned,
            &PasswordSources::default(),
            time::OffsetDateTime::now_utc(),
            [1; 16],
        )
        .unwrap();
        let planned_roles: Vec<FileRole> = issue.planned_files().iter().map(|(r, _)| *r).collect();
        assert_eq!(planned_roles, roles, "the plan lists what write writes");
        assert_eq!(
            roles,
            [
                FileRole::Cer,
                FileRole::Pem,
                FileRole::Key,
                FileRole::Pfx,
                FileRole::PfxPassword,
                FileRole::KeyCredentials
            ]
        );
        assert_eq!(made.credential.certificate.subject, "CN=Workflow Test");
        assert_eq!(made.pfx_profile, Some(PfxProfile::Modern));

        let again = ProvisionRequest {
            credential: spec(dir.path()),
            format: ManifestFormat::Graph,
        };
        let err = provision(again, &PasswordSources::default(), &Interrupt::none())
            .unwrap_err()
            .to_string();
        assert!(err.contains("w.cer already exists"), "{err}");
    }

    #[test]
    fn bad_specs_fail_before_anything_is_made_or_asked() {
        let dir = tempfile::tempdir().unwrap();
        let asked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = asked.clone();
        let passwords = PasswordSources {
            prompt: Some(Box::new(move |_, _| {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(Password::new("never".into()))
            })),
            ..PasswordSources::default()
        };
        type Change = fn(&mut CredentialSpec);
        let cases: [(Change, &str); 5] = [
            (|s| s.key_size = 1024, "key size 1024"),
            (|s| s.subject = String::new(), "subject"),
            (
                |s| s.name = Some("../x".into()),
                "contains a path separator",
            ),
            (
                // A path through a regular file can never be a folder.
                |s| s.out = s.out.join("a-file").join("sub"),
                "output folder",
            ),
            (
                |s| {
                    s.days = Some(10);
                    s.not_after = Some("2030-01-01".into());
                },
                "not both",
            ),
        ];
        std::fs::write(dir.path().join("a-file"), "").unwrap();
        for (change, expected) in cases {
            let mut spec = spec(dir.path());
            spec.pfx = Some(PfxSpec {
                profile: PfxProfile::Modern,
                password: NewPassword::FromSources,
            });
            change(&mut spec);
            let request = ProvisionRequest {
                credential: spec,
                format: ManifestFormat::Graph,
            };
            let err = provision(request, &passwords, &Interrupt::none())
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{expected}: {err}");
        }
        assert!(
            !asked.load(std::sync::atomic::Ordering::SeqCst),
            "no prompt"
        );
        assert!(crate::provision::planned_paths(
            &OutputLayout {
                dir: dir.path().into(),
                name: "w".into()
            },
            true,
            false
        )
        .iter()
        .all(|p| !p.exists()));
    }

    #[test]
    fn an_interrupt_before_writing_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let interrupt = Interrupt::none();
        interrupt.raise(15);
        let request = ProvisionRequest {
            credential: spec(dir.path()),
            format: ManifestFormat::Graph,
        };
        let err = provision(request, &PasswordSources::default(), &interrupt).unwrap_err();
        assert!(matches!(err, Error::Interrupted(15)), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_pfx_password_comes_from_the_sources_and_is_never_empty() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = spec(dir.path());
        s.pfx = Some(PfxSpec {
            profile: PfxProfile::Legacy,
            password: NewPassword::FromSources,
        });
        let err = Issue::prepare(
            s,
            &PasswordSources::default(),
            time::OffsetDateTime::now_utc(),
            [1; 16],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("a PFX password is required"), "{err}");
        let mut s = spec(dir.path());
        s.pfx = Some(PfxSpec {
            profile: PfxProfile::Legacy,
            password: NewPassword::FromSources,
        });
        let sources = PasswordSources {
            env: Some(String::new()),
            ..PasswordSources::default()
        };
        let err = Issue::prepare(s, &sources, time::OffsetDateTime::now_utc(), [1; 16])
            .unwrap_err()
            .to_string();
        assert!(err.contains("is empty"), "{err}");
    }
}
