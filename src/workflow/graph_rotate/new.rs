//! The new credential of an app: made here (not yet written), or found in the app's folder from an earlier run.

use super::*;

/// The new credential: made by this run, or found in the app's folder from an earlier one.
pub(super) enum New {
    Made(Box<Made>),
    /// In a plan (no `--apply`): what would be made, checked, with no key made.
    ToMake(Box<Issue>, crate::rotation::ToMake),
    Reused(Box<CertificateInfo>),
    /// The CA's answer to an earlier run's request (`--ca`), read and checked.
    Imported(Box<crate::workflow::ca::PreparedImport>),
}

pub(super) struct Made {
    pub(super) issue: Issue,
    pub(super) credential: crate::provision::NewCredential,
}

impl New {
    /// The certificate, when it exists.
    pub(super) fn certificate(&self) -> Option<&CertificateInfo> {
        match self {
            New::Made(made) => Some(&made.credential.certificate),
            New::ToMake(..) => None,
            New::Reused(cert) => Some(cert),
            New::Imported(prepared) => Some(&prepared.outcome.leaf),
        }
    }

    /// The planner's view of it.
    pub(super) fn candidate(&self) -> Candidate {
        match (self, self.certificate()) {
            (New::ToMake(_, to_make), _) => to_make.candidate(),
            (_, Some(cert)) => Candidate::of(cert),
            (_, None) => unreachable!("only a certificate to make has none"),
        }
    }
}

/// Makes the app's new key and certificate (not yet written); for a plan (no `--apply`), only checks what would
/// be made: a plan makes no key.
pub(super) fn make(
    request: &GraphRotateRequest,
    existing: &[ExistingCredential],
    rotation: &AppRotation,
    folder: &Path,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<New> {
    let mut spec = spec(request, existing, rotation, folder)?;
    spec.name = Some(crate::workflow::rotate_app::rotated_files_name(&spec, now)?);
    let issue = Issue::prepare(spec, passwords, now, crate::secret::random_bytes()?)?;
    if !request.apply {
        let to_make = issue.to_make();
        return Ok(New::ToMake(Box::new(issue), to_make));
    }
    let credential = issue.create()?;
    Ok(New::Made(Box::new(Made { issue, credential })))
}

/// The app's new credential as the request describes it, in `folder`: the subject given, else the app's newest
/// credential's, else `CN={displayName}`; the files' base name as given (else from the CN), not yet dated.
pub(super) fn spec(
    request: &GraphRotateRequest,
    existing: &[ExistingCredential],
    rotation: &AppRotation,
    folder: &Path,
) -> Result<CredentialSpec> {
    let base = &request.credential;
    let subject = if !base.subject.is_empty() {
        base.subject.clone()
    } else {
        crate::manifest::existing::newest_subject(existing).unwrap_or_else(|| {
            // Graph lets a display name hold anything: `,`, `+`, 200 characters, only spaces.
            crate::credential::subject::common_name_subject(
                rotation.display_name.as_deref().unwrap_or_default(),
                &rotation.app_id,
            )
        })
    };
    Ok(CredentialSpec {
        subject,
        key_size: base.key_size,
        hash: base.hash,
        days: base.days,
        not_after: base.not_after.clone(),
        pfx: base
            .pfx
            .as_ref()
            .map(|p| crate::workflow::provision::PfxSpec {
                profile: p.profile,
                password: match &p.password {
                    crate::workflow::provision::NewPassword::Generate => {
                        crate::workflow::provision::NewPassword::Generate
                    }
                    _ => crate::workflow::provision::NewPassword::FromSources,
                },
            }),
        out: folder.to_path_buf(),
        name: base.name.clone(),
        force: false,
        key_file: base.key_file,
        pem_bundle: base.pem_bundle,
    })
}
