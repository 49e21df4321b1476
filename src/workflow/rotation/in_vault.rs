//! A rotation's new certificate made in Azure Key Vault (`graph rotate --key-vault`): its key is made there,
//! never exportable, and never seen here; the app's folder gets only what is public (the certificate as CER and
//! PEM, the keyCredentials fragment) and keycred's record of where the key is.
//!
//! Each new certificate gets a name of its own in the vault, `BASE-YYYYMMDD` (then `-2`, `-3`, …), so that a
//! rotation never makes a new version of a certificate a daemon signs with by name before the app holds it. It is
//! tagged with the app's appId: a run that made one and stopped before the app got it adds that one next time,
//! instead of making another, and a name another app's certificate holds is passed over.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;

use super::{AppState, Written};
use crate::credential::{CertificateInfo, Status};
use crate::error::{Error, Result};
use crate::fsio::{self, OutputFile};
use crate::manifest::ManifestFormat;
use crate::provision::{FileRole, OutputLayout, PUBLIC_ROLES};
use crate::rotation::ToMake;
use crate::rules::LifetimeLimit;
use crate::vault::{CertificatePolicy, Issuer, VaultCertificate, VaultClient};
use crate::workflow::provision::CredentialSpec;

/// The tag that names the app a certificate was made for.
pub const APP_TAG: &str = "keycred-app";

/// How long a run waits for the vault to make one certificate.
const PATIENCE: Duration = Duration::from_secs(120);

/// Numbered names tried for one day's certificate before the run gives up.
const NAMES_PER_DAY: u32 = 20;

/// Where a credential's key is in the vault: what signs with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultHeld {
    /// The vault's URL.
    pub vault: String,
    /// The certificate's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The key's URL.
    pub kid: String,
}

/// A certificate to make in the vault for one app, or one an earlier run made for it.
pub(super) struct VaultNew {
    vault: Arc<VaultClient>,
    /// Its name in the vault (in a plan, the first one the day's names would try).
    pub(super) name: String,
    /// The base name of its files here: its name in the vault, and for a version found there its version's start.
    files_name: String,
    policy: CertificatePolicy,
    /// The appId it is tagged with.
    app: Option<String>,
    /// Made by an earlier run for this app and not on it yet: added instead of making another.
    pub(super) found: Option<(Box<VaultCertificate>, Box<CertificateInfo>)>,
    pub(super) to_make: ToMake,
    folder: PathBuf,
}

/// What [`prepare`] decided: the certificate to make (or found), or why none can be.
pub(super) enum Prepared {
    Ready(Box<VaultNew>),
    Held(String),
}

/// Prepares the app's certificate in the vault: its policy within `limit`, and (unless `plan_only`, which asks
/// the vault nothing) its name, or the certificate an earlier run made for the app and did not get onto it.
pub(super) fn prepare(
    spec: CredentialSpec,
    vault: Arc<VaultClient>,
    limit: Option<&LifetimeLimit>,
    state: &AppState,
    now: OffsetDateTime,
    plan_only: bool,
) -> Result<Prepared> {
    if ![2048, 3072, 4096].contains(&spec.key_size) {
        return Err(Error::KeySize(spec.key_size));
    }
    let subject = crate::credential::Subject::parse(&spec.subject)?;
    let mut months = crate::vault::months_for_days(spec.days);
    if let Some(limit) = limit {
        let within = crate::vault::months_within(limit.max);
        if within == 0 {
            return Ok(Prepared::Held(format!(
                "Key Vault makes certificates of whole months, and the rule ({}) allows less than one; nothing was \
                 made. Rotate it without --key-vault",
                limit.rule()
            )));
        }
        months = months.min(within);
    }
    let base = match &spec.name {
        Some(name) => name.clone(),
        None => crate::provision::default_name(subject.common_name()),
    };
    let date = now.date();
    let dated = format!(
        "{base}-{:04}{:02}{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    );
    crate::vault::check_name(&dated)?;
    let mut new = VaultNew {
        vault,
        name: dated.clone(),
        files_name: dated.clone(),
        policy: CertificatePolicy {
            subject: subject.to_string(),
            validity_months: months,
            key_size: spec.key_size,
            issuer: Issuer::SelfSigned,
        },
        app: state.app_id.clone(),
        found: None,
        to_make: ToMake {
            subject: subject.to_string(),
            start: now,
            end: add_months(now, months),
        },
        folder: spec.out,
    };
    if !plan_only {
        new.find_name(&dated, state, now, limit)?;
    }
    Ok(Prepared::Ready(Box::new(new)))
}

impl VaultNew {
    /// A version the vault holds already (`graph rotate --from-vault --key-vault`): its files are named after
    /// the certificate and the version's first characters, so that each version's files are its own.
    pub(super) fn existing(
        vault: Arc<VaultClient>,
        found: VaultCertificate,
        folder: PathBuf,
    ) -> Result<VaultNew> {
        let cert = found.info()?;
        let short: String = found.version.chars().take(8).collect();
        Ok(VaultNew {
            vault,
            name: found.name.clone(),
            files_name: format!("{}-{short}", found.name),
            policy: CertificatePolicy {
                subject: cert.subject.clone(),
                validity_months: 12,
                key_size: 2048,
                issuer: Issuer::SelfSigned,
            },
            app: found.tags.get(APP_TAG).cloned(),
            to_make: ToMake {
                subject: cert.subject.clone(),
                start: cert.not_before,
                end: cert.not_after,
            },
            found: Some((Box::new(found), Box::new(cert))),
            folder,
        })
    }

    /// Takes the first of the day's names that is free, or holds a certificate made for this app that it lacks.
    fn find_name(
        &mut self,
        dated: &str,
        state: &AppState,
        now: OffsetDateTime,
        limit: Option<&LifetimeLimit>,
    ) -> Result<()> {
        for n in 1..=NAMES_PER_DAY {
            let name = match n {
                1 => dated.to_owned(),
                n => format!("{dated}-{n}"),
            };
            let Some(found) = self.vault.find(&name)? else {
                self.files_name.clone_from(&name);
                self.name = name;
                return Ok(());
            };
            if found.tags.get(APP_TAG) != self.app.as_ref() || !found.enabled {
                continue;
            }
            let cert = found.info()?;
            let held = state
                .existing
                .iter()
                .any(|c| c.thumbprint == Some(cert.thumbprints.sha1));
            let fits = limit.is_none_or(|l| cert.not_after - cert.not_before <= l.max);
            if !held && fits && cert.status(now) == Status::Valid {
                self.files_name.clone_from(&name);
                self.name = name;
                self.found = Some((Box::new(found), Box::new(cert)));
                return Ok(());
            }
        }
        Err(Error::Vault(format!(
            "the vault holds {dated} and {} more of that name already: keycred made no other; give another --name",
            NAMES_PER_DAY - 1
        )))
    }

    /// The files it gets in the app's folder.
    pub(super) fn planned_files(&self) -> Vec<(FileRole, String)> {
        self.layout().listed(PUBLIC_ROLES)
    }

    fn layout(&self) -> OutputLayout {
        OutputLayout {
            dir: self.folder.clone(),
            name: self.files_name.clone(),
        }
    }

    /// Makes the certificate in the vault (unless an earlier run did) and writes its public files and keycred's
    /// record of where its key is. Files an earlier run wrote for it are left as they are.
    pub(super) fn write(self, format: ManifestFormat) -> Result<Written> {
        let layout = self.layout();
        let made = match self.found {
            Some((found, _)) => *found,
            None => {
                let tags: Vec<(&str, &str)> = self
                    .app
                    .as_deref()
                    .map(|app| (APP_TAG, app))
                    .into_iter()
                    .collect();
                self.vault
                    .create_certificate(&self.name, &self.policy, &tags)?;
                self.vault.completed(&self.name, PATIENCE)?
            }
        };
        let cert = made.info()?;
        let held = VaultHeld {
            vault: self.vault.base().to_owned(),
            name: made.name.clone(),
            version: made.version.clone(),
            kid: made.kid.clone(),
        };
        let mut files: Vec<OutputFile> = crate::provision::public_files(&layout, &cert, format)
            .into_iter()
            .map(|(_, file)| file)
            .collect();
        files.push(record(&layout, &cert, &held));
        // A file an earlier run wrote with these very bytes stays; any other is refused as every writer refuses.
        files.retain(|f| std::fs::read(&f.path).ok().as_deref() != Some(f.contents.as_slice()));
        let created_dir = fsio::write_all_in(&layout.dir, &files, false)?;
        Ok(Written {
            files: layout.listed(PUBLIC_ROLES),
            created_dir: created_dir.then_some(layout.dir),
            made: Some((Box::new(cert), held)),
        })
    }
}

/// keycred's record beside the files: the key's public half and the certificate, and where the key is.
fn record(layout: &OutputLayout, cert: &CertificateInfo, held: &VaultHeld) -> OutputFile {
    crate::workflow::made::held_record(
        &layout.dir,
        &layout.name,
        cert,
        (
            "keyVault",
            json!({"vault": held.vault, "name": held.name, "version": held.version, "kid": held.kid}),
        ),
    )
}

/// `months` calendar months after `at` (the day kept, or the month's last when it has fewer days).
fn add_months(at: OffsetDateTime, months: u32) -> OffsetDateTime {
    let total = i64::from(at.year()) * 12 + i64::from(u8::from(at.month())) - 1 + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).unwrap_or(i32::MAX);
    let month = time::Month::try_from(u8::try_from(total.rem_euclid(12) + 1).unwrap_or(1))
        .unwrap_or(time::Month::January);
    let day = at.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day)
        .map(|date| at.replace_date(date))
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_calendar_months_with_the_day_kept_or_clamped() {
        let at = time::macros::datetime!(2026-01-31 10:00 UTC);
        assert_eq!(
            add_months(at, 1),
            time::macros::datetime!(2026-02-28 10:00 UTC)
        );
        assert_eq!(
            add_months(at, 12),
            time::macros::datetime!(2027-01-31 10:00 UTC)
        );
        assert_eq!(
            add_months(at, 13),
            time::macros::datetime!(2027-02-28 10:00 UTC)
        );
    }
}
