//! Rotation with certificates from the organisation's CA, in two runs. A run that finds an app due and no request
//! waiting writes the new key and a request (`BASE-YYYYMMDD.key`, `BASE-YYYYMMDD.csr`) and adds nothing. The admin
//! sends the request to the CA and puts its answer beside the request as `BASE-YYYYMMDD.issued.cer` (or `.crt`,
//! `.pem`, `.p7b`). The next run imports that answer as `keycred import` does and adds the certificate. Runs in
//! between report the request as waiting and make no other. The state is the files alone, so `rotate`, `batch`
//! and `graph rotate` share it, and a run can stop anywhere.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::ca::{CsrRequest, ImportRequest, PreparedImport};
use super::provision::CredentialSpec;
use crate::credential::Subject;
use crate::error::Result;
use crate::input::PasswordSources;
use crate::manifest::{ExistingCredential, ManifestFormat};

/// The names the CA's answer to `STEM.csr` may have, beside it: `STEM` followed by one of these.
pub const ANSWER_SUFFIXES: [&str; 4] = [".issued.cer", ".issued.crt", ".issued.pem", ".issued.p7b"];

/// Where an app stands in a CA rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaStep {
    /// Phase one: the new key and the request for the CA (written, or in a plan or dry run to be written).
    Requested {
        /// The request's subject.
        subject: String,
        /// `STEM.csr`.
        csr: PathBuf,
        /// `STEM.key`.
        key: PathBuf,
    },
    /// An earlier run's request; the CA's answer is not beside it yet.
    Waiting {
        /// `STEM.csr`.
        csr: PathBuf,
        /// Where the answer is looked for first (`STEM.issued.cer`).
        answer: PathBuf,
    },
    /// Phase two: the CA's answer, imported (or, in a plan or dry run, read and checked).
    Imported {
        /// The answer.
        answer: PathBuf,
        /// Its CA certificates' subjects, nearest first.
        chain: Vec<String>,
    },
}

impl CaStep {
    /// The word in JSON and reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            CaStep::Requested { .. } => "requested",
            CaStep::Waiting { .. } => "waiting",
            CaStep::Imported { .. } => "imported",
        }
    }

    /// Why no certificate is added yet, for the plan (`None` once imported).
    pub fn not_added_because(&self) -> Option<String> {
        match self {
            CaStep::Requested { csr, .. } => Some(format!(
                "the certificate is requested from your CA: send {} to it, put its answer at {}, and run again \
                 to add it",
                csr.display(),
                answer_names(csr)
            )),
            CaStep::Waiting { csr, .. } => Some(format!(
                "waiting for your CA's answer to {}: put it at {} and run again; no new request is made meanwhile",
                csr.display(),
                answer_names(csr)
            )),
            CaStep::Imported { .. } => None,
        }
    }
}

/// Where the answer to `csr` goes, as shown to the admin: `STEM.issued.cer (or .crt, .pem, .p7b)`.
fn answer_names(csr: &Path) -> String {
    let others: Vec<&str> = ANSWER_SUFFIXES[1..]
        .iter()
        .map(|suffix| suffix.trim_start_matches(".issued"))
        .collect();
    format!(
        "{}{} (or {})",
        csr.with_extension("").display(),
        ANSWER_SUFFIXES[0],
        others.join(", ")
    )
}

/// A plan that adds nothing, saying why when a CA rotation holds it back (requested, or waiting).
pub(crate) fn with_ca_reason(
    mut plan: crate::rotation::Plan,
    step: Option<&CaStep>,
) -> crate::rotation::Plan {
    if let Some(reason) = step.and_then(CaStep::not_added_because) {
        plan.skipped = Some(reason);
    }
    plan
}

/// What this run does for one due (or waiting) app.
pub(crate) enum Next {
    /// Write a key and a request.
    Request(CsrRequest, CaStep),
    /// A request waits for the CA.
    Waiting(CaStep),
    /// The CA answered: its files, checked and ready to write, and the certificate to add.
    Import(Box<PreparedImport>, CaStep),
    /// An earlier run imported the CA's answer (`STEM.cer` beside the request) but the app does not hold it yet:
    /// that certificate is added, and nothing is asked of the CA again.
    Imported(PathBuf, Box<crate::credential::CertificateInfo>, CaStep),
    /// Not due and nothing waiting.
    Nothing,
}

/// The app a CA step is decided for.
pub(crate) struct NextFor<'a> {
    /// The credential, in its folder (`spec.out`).
    pub(crate) spec: CredentialSpec,
    /// The request's DNS names.
    pub(crate) dns: &'a [String],
    /// More CA certificates for an import.
    pub(crate) chain: &'a [PathBuf],
    /// Whether renewal is due.
    pub(crate) due: bool,
    /// The app's credentials.
    pub(crate) existing: &'a [ExistingCredential],
    /// Their format.
    pub(crate) format: ManifestFormat,
}

/// A request an earlier run wrote whose certificate is not imported yet.
struct Pending {
    stem: String,
    csr: PathBuf,
    key: PathBuf,
}

/// Decides (and prepares, writing nothing) this run's step for the credential `spec` describes in `spec.out`:
/// the CA's answer to a waiting request is imported whether or not the policy finds the app due (the request
/// was made when it was); else a due app gets a request.
pub(crate) fn next(
    for_app: NextFor,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<Next> {
    let NextFor {
        spec,
        dns,
        chain,
        due,
        existing,
        format,
    } = for_app;
    let base = match &spec.name {
        Some(name) => name.clone(),
        None => crate::provision::default_name(Subject::parse(&spec.subject)?.common_name()),
    };
    crate::provision::validate_name(&base)?;
    if let Some((cer, cert)) = imported_not_held(&spec.out, &base, existing, now)? {
        return Ok(Next::Imported(
            cer.clone(),
            Box::new(cert),
            CaStep::Imported {
                answer: cer,
                chain: Vec::new(),
            },
        ));
    }
    if let Some(pending) = pending(&spec.out, &base) {
        let answer = ANSWER_SUFFIXES
            .iter()
            .map(|suffix| spec.out.join(format!("{}{suffix}", pending.stem)))
            .find(|path| path.exists());
        let Some(answer) = answer else {
            return Ok(Next::Waiting(CaStep::Waiting {
                answer: spec
                    .out
                    .join(format!("{}{}", pending.stem, ANSWER_SUFFIXES[0])),
                csr: pending.csr,
            }));
        };
        let stem = pending.stem.clone();
        let prepared = super::ca::prepare_import(
            &ImportRequest {
                cert: answer.clone(),
                chain: chain.to_vec(),
                key: pending.key,
                out: spec.out.clone(),
                name: pending.stem,
                pfx: spec.pfx,
                pem_bundle: spec.pem_bundle,
                format,
                force: false,
            },
            passwords,
            now,
        )?;
        if let Some(why) =
            super::made::not_made_here(&spec.out, &stem, &answer, &prepared.outcome.leaf)?
        {
            return Err(crate::error::Error::Refused(format!(
                "{}: the CA's answer is not imported, because {why}: keycred adds a CA's certificate only for a \
                 request it made itself (its record is {}). If you made this request, add the certificate by name \
                 (keycred rotate --cert, or keycred import and then graph add-key)",
                answer.display(),
                super::made::record_path(&spec.out, &stem).display()
            )));
        }
        let step = CaStep::Imported {
            answer,
            chain: prepared
                .outcome
                .chain
                .iter()
                .map(|c| c.subject.clone())
                .collect(),
        };
        return Ok(Next::Import(Box::new(prepared), step));
    }
    if !due {
        return Ok(Next::Nothing);
    }
    // Checked when the plan is made, not when the request is written.
    for name in dns {
        crate::credential::key::check_dns_name(name)?;
    }
    let stem = crate::provision::rotated_name(&spec.out, &base, now.date(), |path| {
        path.exists() || path.is_symlink()
    });
    let request = CsrRequest {
        subject: spec.subject.clone(),
        dns: dns.to_vec(),
        key_size: spec.key_size,
        hash: spec.hash,
        key: None,
        out: spec.out.clone(),
        name: stem.clone(),
        force: false,
    };
    let step = CaStep::Requested {
        subject: Subject::parse(&spec.subject)?.to_string(),
        csr: spec.out.join(format!("{stem}.csr")),
        key: spec.out.join(format!("{stem}.key")),
    };
    Ok(Next::Request(request, step))
}

/// The requests for `base` in `dir` (`BASE.csr` or `BASE-…` with digits) with their key beside them, oldest
/// first (dated names sort by date).
fn requests(dir: &Path, base: &str) -> Vec<Pending> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<Pending> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".csr")?;
            let dated = stem
                .strip_prefix(base)?
                .strip_prefix('-')
                .is_some_and(|rest| {
                    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '-')
                });
            if stem != base && !dated {
                return None;
            }
            let key = dir.join(format!("{stem}.key"));
            key.is_file().then(|| Pending {
                stem: stem.to_owned(),
                csr: entry.path(),
                key,
            })
        })
        .collect();
    found.sort_by(|a, b| a.stem.cmp(&b.stem));
    found
}

/// The newest request for `base` in `dir` with no imported certificate (`STEM.cer`) yet.
fn pending(dir: &Path, base: &str) -> Option<Pending> {
    requests(dir, base)
        .into_iter()
        .rfind(|p| !dir.join(format!("{}.cer", p.stem)).exists())
}

/// The newest imported certificate (`STEM.cer` of a request for `base`) that is valid now and that the app
/// does not hold.
fn imported_not_held(
    dir: &Path,
    base: &str,
    existing: &[ExistingCredential],
    now: OffsetDateTime,
) -> Result<Option<(PathBuf, crate::credential::CertificateInfo)>> {
    for request in requests(dir, base).into_iter().rev() {
        let cer = dir.join(format!("{}.cer", request.stem));
        if !cer.exists() {
            continue;
        }
        if let Some(cert) = crate::manifest::existing::unheld_certificate(&cer, existing, now)? {
            // Only for a key keycred made here (a planted request, key and certificate are not ours to send).
            if super::made::not_made_here(dir, &request.stem, &cer, &cert)?.is_none() {
                return Ok(Some((cer, cert)));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, names: &[&str]) {
        for name in names {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
    }

    #[test]
    fn a_request_is_pending_while_its_key_is_there_and_its_certificate_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let stem = |p: Option<Pending>| p.map(|p| p.stem);
        assert_eq!(stem(pending(dir.path(), "orders")), None, "an empty folder");
        // Another app's request, one without its key, and a name that only starts like ours are not ours.
        touch(
            dir.path(),
            &[
                "billing-20261201.csr",
                "billing-20261201.key",
                "orders-20261101.csr",
                "orders-extra.csr",
                "orders-extra.key",
            ],
        );
        assert_eq!(stem(pending(dir.path(), "orders")), None);
        touch(
            dir.path(),
            &[
                "orders-20261101.key",
                "orders-20261201.csr",
                "orders-20261201.key",
            ],
        );
        assert_eq!(
            stem(pending(dir.path(), "orders")).as_deref(),
            Some("orders-20261201"),
            "the newest"
        );
        // Imported: its certificate is there, so the earlier request is the one still waiting.
        touch(dir.path(), &["orders-20261201.cer"]);
        assert_eq!(
            stem(pending(dir.path(), "orders")).as_deref(),
            Some("orders-20261101")
        );
        touch(dir.path(), &["orders-20261101.cer"]);
        assert_eq!(stem(pending(dir.path(), "orders")), None);
        assert_eq!(stem(pending(&dir.path().join("missing"), "orders")), None);
    }

    #[test]
    fn the_steps_say_where_the_answer_goes() {
        let step = CaStep::Waiting {
            csr: PathBuf::from("certs/orders-20261201.csr"),
            answer: PathBuf::from("certs/orders-20261201.issued.cer"),
        };
        assert_eq!(step.as_str(), "waiting");
        assert_eq!(
            step.not_added_because().unwrap(),
            "waiting for your CA's answer to certs/orders-20261201.csr: put it at certs/orders-20261201.issued.cer \
             (or .crt, .pem, .p7b) and run again; no new request is made meanwhile"
        );
        let done = CaStep::Imported {
            answer: PathBuf::from("a.issued.p7b"),
            chain: Vec::new(),
        };
        assert_eq!(done.not_added_because(), None);
    }
}
