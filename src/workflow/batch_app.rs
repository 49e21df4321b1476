//! One app of a batch plan: its row becomes the same request `keycred new` or `keycred rotate --in-place` would
//! make, and runs through the same workflow. The batch front end only schedules apps and reports on them.

use super::ca_rotation::CaStep;
use super::provision::{self, CredentialSpec, NewPassword, PfxSpec, ProvisionRequest};
use super::rotate_app::{self, FormatChoice, ManifestOutput, NewCredentialSource, RotateRequest};
use crate::batch::{BatchApp, FormatName, HashName, ProfileName};
use crate::credential::{SignatureHash, ThumbprintForm};
use crate::error::{Error, Result};
use crate::export::PfxProfile;
use crate::input::{self, PasswordSources};
use crate::interrupt::Interrupt;
use crate::manifest::ManifestFormat;
use crate::rotation::Policy;

/// What happened to one app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppResult {
    /// Its first credential was made.
    Provisioned,
    /// A credential was added to (or removed from) its manifest.
    Rotated,
    /// Nothing was due.
    Skipped,
    /// Its certificate was requested from the CA (`ca = true`): the key and the request are written.
    Requested,
}

impl AppResult {
    /// The word in summaries and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            AppResult::Provisioned => "provisioned",
            AppResult::Rotated => "rotated",
            AppResult::Skipped => "skipped",
            AppResult::Requested => "requested",
        }
    }
}

/// One app's outcome, for the summary table and the report.
#[derive(Debug, Clone)]
pub struct AppOutcome {
    /// What happened.
    pub result: AppResult,
    /// In words.
    pub detail: String,
    /// The new certificate's SHA-1 thumbprint (hex), when one was added.
    pub thumbprint: Option<String>,
    /// The credential files written, with their roles.
    pub files: Vec<(crate::provision::FileRole, String)>,
}

/// The credential an app's row describes. `generate_password` is the run's `--generate-password`.
pub fn credential_spec(app: &BatchApp, generate_password: bool) -> CredentialSpec {
    let s = &app.settings;
    CredentialSpec {
        subject: app.subject.clone(),
        key_size: s.key_size.unwrap_or(2048),
        hash: match s.hash {
            Some(HashName::Sha384) => SignatureHash::Sha384,
            Some(HashName::Sha512) => SignatureHash::Sha512,
            _ => SignatureHash::Sha256,
        },
        days: s.days,
        not_after: s.not_after.clone(),
        pfx: app.wants_pfx().then(|| PfxSpec {
            profile: match s.pfx_profile {
                Some(ProfileName::Legacy) => PfxProfile::Legacy,
                _ => PfxProfile::Modern,
            },
            password: if generate_password {
                NewPassword::Generate
            } else {
                NewPassword::FromSources
            },
        }),
        out: app.out_dir.clone(),
        name: Some(app.name.clone()),
        force: false,
        key_file: true,
        pem_bundle: app.settings.pem_bundle.unwrap_or(false),
        max_lifetime: None,
    }
}

/// The rotation a row with a manifest asks for: exactly `keycred rotate --in-place` with the row's options.
pub fn rotate_request(app: &BatchApp, generate_password: bool) -> Option<RotateRequest> {
    let manifest = app.manifest.clone()?;
    Some(RotateRequest {
        manifest,
        format: match app.settings.format {
            Some(FormatName::Graph) => FormatChoice::Fallback(ManifestFormat::Graph),
            Some(FormatName::Legacy) => FormatChoice::Fallback(ManifestFormat::Legacy),
            None => FormatChoice::Detect,
        },
        new: Some(if app.settings.ca == Some(true) {
            NewCredentialSource::FromCa {
                spec: credential_spec(app, generate_password),
                chain: app.settings.ca_chain.clone().unwrap_or_default(),
                dns: None,
            }
        } else {
            NewCredentialSource::Make(credential_spec(app, generate_password))
        }),
        policy: Policy {
            renew_within: Some(time::Duration::days(i64::from(app.renew_within()))),
            prune_expired: app.settings.prune_expired.unwrap_or(false),
            keep: app.settings.keep,
            remove_key_ids: Vec::new(),
        },
        output: ManifestOutput::InPlace,
        patch_out: None,
        add_key_proof: None,
        repair_key_ids: false,
        dry_run: false,
        force: false,
    })
}

/// A `graph = true` row: exactly `keycred graph rotate --app APP_ID --apply` with the row's options, its files
/// in the row's folder.
fn tenant_row(
    app: &BatchApp,
    app_id: uuid::Uuid,
    generate_password: bool,
    passwords: &PasswordSources,
    client: &crate::graph::GraphClient,
) -> Result<AppOutcome> {
    use super::graph_rotate::{self, AppAction, GraphRotateRequest};
    let request = GraphRotateRequest {
        since_last: None,
        apps: vec![app_id],
        all: false,
        include_without_certificate: false,
        filter: None,
        policy: Policy {
            renew_within: Some(time::Duration::days(i64::from(app.renew_within()))),
            prune_expired: app.settings.prune_expired.unwrap_or(false),
            keep: app.settings.keep,
            remove_key_ids: Vec::new(),
        },
        credential: CredentialSpec {
            name: None,
            ..credential_spec(app, generate_password)
        },
        apply: true,
        self_service: None,
        verify: None,
        retire_previous: false,
        jobs: 1,
        per_app_folder: false,
        ca: (app.settings.ca == Some(true))
            .then(|| app.settings.ca_chain.clone().unwrap_or_default()),
        key_vault: None,
        from_vault: false,
    };
    let outcome = graph_rotate::graph_rotate(
        client,
        request,
        passwords,
        time::OffsetDateTime::now_utc(),
        &Interrupt::none(),
        &|_| {},
    )?;
    let rotation = outcome
        .apps
        .into_iter()
        .next()
        .expect("one app asked, one answered");
    let removed = rotation.plan.as_ref().map_or(0, |p| {
        p.existing
            .iter()
            .filter(|d| matches!(d, crate::rotation::Disposition::Remove(_)))
            .count()
    });
    match rotation.action {
        AppAction::Rotated => Ok(AppOutcome {
            result: AppResult::Rotated,
            detail: match &rotation.added {
                Some((_, key_id)) => {
                    format!("added keyId {key_id} in the tenant, removed {removed}")
                }
                None => format!("removed {removed} in the tenant"),
            },
            thumbprint: rotation
                .added
                .as_ref()
                .map(|(cert, _)| cert.thumbprints.render(ThumbprintForm::Hex)),
            files: rotation.files,
        }),
        AppAction::Finished => Ok(AppOutcome {
            result: AppResult::Rotated,
            detail: format!(
                "verified keyId {}, which an earlier run added{}",
                rotation
                    .finishing
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                match rotation.retired {
                    Some(id) => format!(", and removed keyId {id}, which it replaced"),
                    None => String::new(),
                }
            ),
            thumbprint: None,
            files: rotation.files,
        }),
        AppAction::Requested => Ok(AppOutcome {
            result: AppResult::Requested,
            detail: rotation.plan.and_then(|p| p.skipped).unwrap_or_default(),
            thumbprint: None,
            files: rotation.files,
        }),
        AppAction::Skipped | AppAction::Waiting => Ok(AppOutcome {
            result: AppResult::Skipped,
            detail: rotation
                .plan
                .and_then(|p| p.skipped)
                .unwrap_or_else(|| "renewal is not due".into()),
            thumbprint: None,
            files: Vec::new(),
        }),
        _ => Err(rotation
            .error
            .unwrap_or_else(|| Error::Refused("the rotation in the tenant did not finish".into()))),
    }
}

/// Runs one app: rotates its manifest, or provisions it (an app whose files exist is done unless its
/// certificate is due, and then it fails rather than overwrite them).
pub fn run_app(
    app: &BatchApp,
    generate_password: bool,
    passwords: &PasswordSources,
    interrupt: &Interrupt,
    graph: Option<&crate::graph::GraphClient>,
) -> Result<AppOutcome> {
    if let Some(app_id) = app.graph_app {
        let client = graph.ok_or_else(|| {
            Error::Invalid(
                "a graph = true row needs a Microsoft Graph connection: give batch --token-file FILE, or --tenant \
                 and --client-id with the automation app's credential"
                    .into(),
            )
        })?;
        return tenant_row(app, app_id, generate_password, passwords, client);
    }
    // No folder is made here: the workflow makes it (owner-only) when it writes files, so a skipped or failed
    // app leaves none behind.
    if let Some(request) = rotate_request(app, generate_password) {
        let outcome = rotate_app::rotate_app(request, passwords, interrupt)?;
        let removed = outcome
            .plan
            .existing
            .iter()
            .filter(|d| matches!(d, crate::rotation::Disposition::Remove(_)))
            .count();
        let requested = matches!(outcome.ca, Some(CaStep::Requested { .. }));
        return Ok(if requested && !outcome.changed {
            AppOutcome {
                result: AppResult::Requested,
                detail: outcome.plan.skipped.unwrap_or_default(),
                thumbprint: None,
                files: outcome.files,
            }
        } else if outcome.changed {
            AppOutcome {
                result: AppResult::Rotated,
                detail: match &outcome.added {
                    Some(added) => format!("added keyId {}, removed {removed}", added.key_id),
                    None => format!("removed {removed}"),
                },
                thumbprint: outcome
                    .added
                    .as_ref()
                    .map(|added| added.certificate.thumbprints.render(ThumbprintForm::Hex)),
                files: outcome.files,
            }
        } else {
            AppOutcome {
                result: AppResult::Skipped,
                detail: outcome
                    .plan
                    .skipped
                    .unwrap_or_else(|| "renewal is not due".into()),
                thumbprint: None,
                files: Vec::new(),
            }
        });
    }

    let existing = app.out_dir.join(format!("{}.cer", app.name));
    if existing.exists() {
        let bytes = input::read_file(&existing)?;
        let loaded = crate::credential::load(&existing, &bytes, || {
            Err(Error::Invalid(format!(
                "{} is not a PFX",
                existing.display()
            )))
        })?;
        let cert = &loaded.certificates[0];
        let left = cert.not_after - time::OffsetDateTime::now_utc();
        if left > time::Duration::days(i64::from(app.renew_within())) {
            return Ok(AppOutcome {
                result: AppResult::Skipped,
                detail: format!(
                    "already provisioned, valid until {}",
                    crate::time_fmt::rfc3339_utc(cert.not_after)
                ),
                thumbprint: None,
                files: Vec::new(),
            });
        }
        return Err(Error::Refused(format!(
            "{} is due for renewal (ends {}), but its files exist: add `manifest = …` to rotate it, or move the old files away",
            existing.display(),
            crate::time_fmt::rfc3339_utc(cert.not_after)
        )));
    }
    let format = match app.settings.format {
        Some(FormatName::Legacy) => ManifestFormat::Legacy,
        _ => ManifestFormat::Graph,
    };
    let made = provision::provision(
        ProvisionRequest {
            credential: credential_spec(app, generate_password),
            format,
        },
        passwords,
        interrupt,
    )?;
    Ok(AppOutcome {
        result: AppResult::Provisioned,
        detail: format!("keyId {}", made.credential.key_id),
        thumbprint: Some(
            made.credential
                .certificate
                .thumbprints
                .render(ThumbprintForm::Hex),
        ),
        files: made.files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn app(dir: &Path, plan: &str) -> BatchApp {
        crate::batch::parse_plan(plan, "plan.toml", dir)
            .unwrap()
            .remove(0)
    }

    #[test]
    fn provisions_then_skips_then_refuses_to_overwrite_a_due_credential() {
        let dir = tempfile::tempdir().unwrap();
        let a = app(
            dir.path(),
            "[[app]]\nname = \"orders\"\nsubject = \"CN=Orders\"\nno_pfx = true\nout = \"certs\"\n",
        );
        let none = PasswordSources::default();
        let first = run_app(&a, false, &none, &Interrupt::none(), None).unwrap();
        assert_eq!(first.result, AppResult::Provisioned);
        assert_eq!(first.thumbprint.as_ref().unwrap().len(), 40);
        assert!(dir.path().join("certs/orders/orders.cer").exists());
        let again = run_app(&a, false, &none, &Interrupt::none(), None).unwrap();
        assert_eq!(again.result, AppResult::Skipped);
        assert!(
            again.detail.starts_with("already provisioned"),
            "{}",
            again.detail
        );

        let due = app(
            dir.path(),
            "[[app]]\nname = \"orders\"\nsubject = \"CN=Orders\"\nno_pfx = true\nout = \"certs\"\nrenew_within = 400\n",
        );
        let err = run_app(&due, false, &none, &Interrupt::none(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("is due for renewal"), "{err}");
    }

    #[test]
    fn a_pfx_without_a_password_source_fails_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let a = app(
            dir.path(),
            "[[app]]\nname = \"orders\"\nsubject = \"CN=Orders\"\nout = \"certs\"\n",
        );
        let err = run_app(
            &a,
            false,
            &PasswordSources::default(),
            &Interrupt::none(),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("a PFX password is required"), "{err}");
        assert!(
            !dir.path().join("certs/orders").exists(),
            "no folder is left for a failed app"
        );
    }

    #[test]
    fn a_row_with_a_manifest_is_the_rotate_in_place_request() {
        let dir = tempfile::tempdir().unwrap();
        let a = app(
            dir.path(),
            "[[app]]\nname = \"orders\"\nsubject = \"CN=Orders\"\nmanifest = \"m.json\"\nprune_expired = true\nkeep = 3\nkey_size = 3072\nno_pfx = true\n",
        );
        let request = rotate_request(&a, false).unwrap();
        assert_eq!(request.manifest, dir.path().join("m.json"));
        assert_eq!(request.output, ManifestOutput::InPlace);
        assert_eq!(
            request.policy,
            Policy {
                renew_within: Some(time::Duration::days(30)),
                prune_expired: true,
                keep: Some(3),
                remove_key_ids: Vec::new(),
            }
        );
        let Some(NewCredentialSource::Make(spec)) = request.new else {
            panic!("batch makes its credentials")
        };
        assert_eq!((spec.key_size, spec.pfx.is_none()), (3072, true));
        assert_eq!(spec.out, dir.path().join("orders"));
    }
}
