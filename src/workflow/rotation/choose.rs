//! The choice of an app's new credential, made once for every store: a certificate an earlier run made for this
//! app and did not get onto it, the CA's answer to an earlier request (or a new request, or waiting), one made
//! here, or one the admin names.

use std::path::Path;

use super::in_vault::{self, Prepared, VaultNew};
use super::{AppState, NewCredentialSource, Reused, RunContext, Written};
use crate::credential::{self, CertificateInfo};
use crate::error::{Error, Result};
use crate::manifest::existing::{newest_dns_names, newest_subject};
use crate::manifest::ManifestFormat;
use crate::provision::{FileRole, NewCredential};
use crate::rotation::{self as planner, Candidate, Plan, Policy, ToMake};
use crate::rules::{LifetimeLimit, Rules};
use crate::words::Input;
use crate::workflow::ca::{CsrRequest, PreparedImport};
use crate::workflow::ca_rotation::{self, CaStep, Next};
use crate::workflow::provision::{CredentialSpec, Issue};

/// The credential to rotate in, made or read.
pub(super) enum New {
    /// Made by this run (not yet written).
    Made(Box<Issue>, Box<NewCredential>),
    /// In a plan: what would be made, checked, with no key made.
    ToMake(Box<Issue>, ToMake),
    /// Found in the app's folder: made by an earlier run, or the CA's answer an earlier run imported.
    Reused(Box<CertificateInfo>, Reused),
    /// Named by the admin.
    Given(Box<CertificateInfo>),
    /// The CA's answer to an earlier run's request, read and checked, not yet written.
    Imported(Box<PreparedImport>),
    /// To make in Azure Key Vault (in a plan, or until written), or made there by an earlier run for this app.
    InVault(Box<VaultNew>),
}

impl New {
    /// The certificate, when it exists.
    pub(super) fn certificate(&self) -> Option<&CertificateInfo> {
        match self {
            New::Made(_, credential) => Some(&credential.certificate),
            New::ToMake(..) => None,
            New::Given(cert) | New::Reused(cert, _) => Some(cert),
            New::Imported(prepared) => Some(&prepared.outcome.leaf),
            New::InVault(new) => new.found.as_ref().map(|(_, cert)| cert.as_ref()),
        }
    }

    pub(super) fn key_id(&self) -> Option<uuid::Uuid> {
        self.certificate().map(CertificateInfo::key_id)
    }

    /// The planner's view of it.
    pub(super) fn candidate(&self) -> Candidate {
        match (self, self.certificate()) {
            (New::ToMake(_, to_make), _) => to_make.candidate(),
            (New::InVault(new), None) => new.to_make.candidate(),
            (_, Some(cert)) => Candidate::of(cert),
            (_, None) => unreachable!("only a certificate to make has none"),
        }
    }

    pub(super) fn reused(&self) -> Option<Reused> {
        match self {
            New::Reused(_, reused) => Some(reused.clone()),
            _ => None,
        }
    }

    pub(super) fn to_make(&self) -> Option<ToMake> {
        match self {
            New::ToMake(_, to_make) => Some(to_make.clone()),
            New::InVault(new) if new.found.is_none() => Some(new.to_make.clone()),
            _ => None,
        }
    }
}

/// The choice, and what the plan is made with.
pub(super) struct Chosen {
    pub(super) new: Option<New>,
    /// The policy the plan is made with: a certificate the admin names, or the CA issued, is added whenever it is
    /// new (the renewal window only decides whether one is made or requested).
    pub(super) policy: Policy,
    /// The plan without a new credential (whether renewal is due, what the policy removes).
    pub(super) precheck: Plan,
    /// Where a CA rotation stands.
    pub(super) ca: Option<CaStep>,
    /// A request to write for the CA.
    pub(super) request: Option<CsrRequest>,
    /// The rules that bind the app's new credentials, where they were read.
    pub(super) rules: Option<Rules>,
    /// Why the app is left as it is (a rule no credential made here can keep).
    pub(super) held: Option<String>,
    /// What the choice found worth saying.
    pub(super) warnings: Vec<String>,
}

/// Chooses the new credential for the app `state` describes. `plan_only` makes no key. `rules` reads the rules
/// that bind the app, asked only when a credential may be added.
pub(super) fn choose(
    source: Option<NewCredentialSource>,
    policy: &Policy,
    state: &AppState,
    plan_only: bool,
    cx: &RunContext,
    rules: &mut dyn FnMut() -> Result<Option<Rules>>,
) -> Result<Chosen> {
    let mut source = source.map(|s| shaped(s, state, cx)).transpose()?;
    let policy = match &source {
        Some(NewCredentialSource::Given(_) | NewCredentialSource::FromVault { .. }) => {
            anytime(policy)
        }
        _ => policy.clone(),
    };
    // Not due, or nothing to add: nothing is made; only what the policy removes (if anything) changes.
    let precheck = planner::plan(&state.existing, None, cx.now, &policy)?;
    let mut chosen = Chosen {
        new: None,
        policy,
        precheck,
        ca: None,
        request: None,
        rules: None,
        held: None,
        warnings: Vec::new(),
    };
    let due = chosen.precheck.renewal_due;
    // The rules matter only where a credential may be added: a due app, or a certificate added whenever new.
    // (A certificate made here or in a vault is made only when due.)
    let made_when_due = |s: &NewCredentialSource| {
        matches!(
            s,
            NewCredentialSource::Make(_) | NewCredentialSource::InVault { .. }
        )
    };
    if due || source.as_ref().is_some_and(|s| !made_when_due(s)) {
        chosen.rules = rules()?;
    }
    // The limit a new certificate keeps: the stricter of the tenant's rule and the spec's own (`--max-lifetime`).
    let asked = source
        .as_ref()
        .and_then(spec_of)
        .and_then(|s| s.max_lifetime.clone());
    let limit = match chosen.rules.as_ref().and_then(Rules::lifetime).cloned() {
        Some(tenant) => Some(tenant.stricter(asked)),
        None => asked,
    };
    if let (
        Some(Rules::Known(known)),
        Some(NewCredentialSource::Make(_) | NewCredentialSource::InVault { .. }),
    ) = (&chosen.rules, &source)
    {
        if known.trusted_ca.is_some() {
            chosen.held = Some(
                "needs a CA-issued certificate: the tenant's rules accept only certificates from a CA it trusts, \
                 so keycred makes no self-signed one for it; rotate it with --ca (a request now, the CA's answer \
                 imported and sent by a later run)"
                    .into(),
            );
            return Ok(chosen);
        }
    }
    if let Some(NewCredentialSource::Make(spec)) = source.as_mut() {
        spec.max_lifetime.clone_from(&limit);
    }
    // A certificate an earlier run made for this app (same subject) and did not get onto it (its manifest was only
    // printed, or the run stopped before the change was saved or sent) is added now, rather than another key made
    // or requested.
    // (A certificate made in a vault is found in the vault: its key is not in the folder.)
    let in_folder = source
        .as_ref()
        .filter(|s| !matches!(s, NewCredentialSource::InVault { .. }));
    if let (true, Some(spec)) = (due, in_folder.and_then(spec_of)) {
        let subject = credential::Subject::parse(&spec.subject)?.to_string();
        if let Some((cer, cert)) = crate::workflow::made::earlier_certificate(
            &spec.out,
            &state.existing,
            cx.now,
            state.made_for.as_deref(),
        )?
        .filter(|(_, cert)| cert.subject == subject && within(cert, limit.as_ref()))
        {
            let reused = Reused {
                cer,
                from_ca: false,
            };
            chosen.new = Some(New::Reused(Box::new(cert), reused));
            return Ok(chosen);
        }
    }
    match source {
        Some(NewCredentialSource::FromCa { spec, chain, dns }) => {
            let dns = dns.unwrap_or_else(|| newest_dns_names(&state.existing));
            let next = ca_rotation::next(
                ca_rotation::NextFor {
                    spec,
                    dns: &dns,
                    chain: &chain,
                    due,
                    existing: &state.existing,
                    format: state.format,
                },
                cx.passwords,
                cx.now,
            )?;
            from_ca(&mut chosen, next);
        }
        Some(NewCredentialSource::Given(path)) if due => {
            chosen.new = Some(given(&path, cx)?);
        }
        Some(NewCredentialSource::Make(spec)) if due => {
            chosen.new = Some(made(spec, plan_only, cx)?);
        }
        Some(NewCredentialSource::FromVault { vault, newest }) => {
            let found = state.app_id.as_ref().and_then(|app| newest.get(app));
            if let Some(certificate) = found {
                let folder = state.folder.clone().unwrap_or_default();
                chosen.new = Some(New::InVault(Box::new(VaultNew::existing(
                    vault,
                    certificate.clone(),
                    folder,
                )?)));
            }
        }
        Some(NewCredentialSource::InVault { spec, vault }) if due => {
            match in_vault::prepare(spec, vault, limit.as_ref(), state, cx.now, plan_only)? {
                Prepared::Ready(new) => chosen.new = Some(New::InVault(new)),
                Prepared::Held(why) => {
                    chosen.held = Some(why);
                    return Ok(chosen);
                }
            }
        }
        _ => {}
    }
    keeps_the_rules(&mut chosen, limit.as_ref())?;
    Ok(chosen)
}

/// Refuses a new certificate (named, found or the CA's) that the app's rules would have Graph refuse: longer
/// than the lifetime limit, or not from a CA the tenant trusts for it.
fn keeps_the_rules(chosen: &mut Chosen, limit: Option<&LifetimeLimit>) -> Result<()> {
    let Some(cert) = chosen.new.as_ref().and_then(New::certificate) else {
        return Ok(());
    };
    let named = || {
        format!(
            "the new certificate ({}, SHA-1 {})",
            cert.subject,
            cert.thumbprints.render(credential::ThumbprintForm::Hex)
        )
    };
    if let Some(limit) = limit.filter(|l| !within(cert, Some(l))) {
        return Err(Error::Refused(format!(
            "{} is valid for {} days, beyond the rule: {}; nothing was written or sent. Give (or have the CA \
             issue) a certificate of at most {} days",
            named(),
            (cert.not_after - cert.not_before).whole_days(),
            limit.rule(),
            limit.whole_days()
        )));
    }
    let Some(Rules::Known(known)) = &chosen.rules else {
        return Ok(());
    };
    if known.trusted_ca.is_none() {
        return Ok(());
    }
    match &known.authorities_unread {
        Some(why) => chosen.warnings.push(why.clone()),
        None if !crate::rules::trusted(cert.der(), known) => {
            return Err(Error::Refused(format!(
                "{} does not chain to a CA the tenant trusts for this app (its rules list {} CA certificate{}), \
                 and Graph would refuse it; nothing was sent. Have it issued by one of them",
                named(),
                known.authorities.len(),
                if known.authorities.len() == 1 { "" } else { "s" }
            )))
        }
        None => {}
    }
    Ok(())
}

/// Whether the certificate's whole validity keeps within the limit, if there is one.
fn within(cert: &CertificateInfo, limit: Option<&LifetimeLimit>) -> bool {
    limit.is_none_or(|limit| cert.not_after - cert.not_before <= limit.max)
}

/// The CA's step, as the choice.
fn from_ca(chosen: &mut Chosen, next: Next) {
    match next {
        Next::Import(prepared, step) => {
            chosen.ca = Some(step);
            chosen.policy = anytime(&chosen.policy);
            chosen.new = Some(New::Imported(prepared));
        }
        // Imported by an earlier run while the app was not due, and not on it yet.
        Next::Imported(cer, cert, step) => {
            chosen.ca = Some(step);
            chosen.policy = anytime(&chosen.policy);
            chosen.new = Some(New::Reused(cert, Reused { cer, from_ca: true }));
        }
        Next::Request(csr, step) => {
            chosen.ca = Some(step);
            chosen.request = Some(csr);
        }
        Next::Waiting(step) => chosen.ca = Some(step),
        Next::Nothing => {}
    }
}

/// The policy for a certificate added whenever it is new.
fn anytime(policy: &Policy) -> Policy {
    Policy {
        renew_within: None,
        ..policy.clone()
    }
}

fn spec_of(source: &NewCredentialSource) -> Option<&CredentialSpec> {
    match source {
        NewCredentialSource::Make(spec)
        | NewCredentialSource::FromCa { spec, .. }
        | NewCredentialSource::InVault { spec, .. } => Some(spec),
        NewCredentialSource::Given(_) | NewCredentialSource::FromVault { .. } => None,
    }
}

/// The source with the app's folder, its subject (the request's, else the app's newest credential's, else the
/// store's fallback), and a made certificate's dated file name.
fn shaped(
    source: NewCredentialSource,
    state: &AppState,
    cx: &RunContext,
) -> Result<NewCredentialSource> {
    let shape = |spec: &mut CredentialSpec| -> Result<()> {
        if let Some(folder) = &state.folder {
            spec.out = folder.clone();
        }
        if spec.subject.is_empty() {
            spec.subject = newest_subject(&state.existing)
                .or_else(|| state.fallback_subject.clone())
                .ok_or_else(|| {
                    Error::Usage(crate::words::said!(
                        Input::Subject,
                        format!(
                            ": {} has no credential whose displayName or certificate names a subject (CN=…) \
                             to reuse; give ",
                            state.label
                        ),
                        Input::Subject
                    ))
                })?;
        }
        Ok(())
    };
    Ok(match source {
        NewCredentialSource::Make(mut spec) => {
            shape(&mut spec)?;
            spec.name = Some(rotated_files_name(&spec, cx.now)?);
            NewCredentialSource::Make(spec)
        }
        NewCredentialSource::FromCa {
            mut spec,
            chain,
            dns,
        } => {
            shape(&mut spec)?;
            NewCredentialSource::FromCa { spec, chain, dns }
        }
        NewCredentialSource::InVault { mut spec, vault } => {
            shape(&mut spec)?;
            NewCredentialSource::InVault { spec, vault }
        }
        given => given,
    })
}

/// The base name of a made credential's files (`--name`, else from the CN), dated so that it never takes the
/// name of the current credential's files in the same folder.
fn rotated_files_name(spec: &CredentialSpec, now: time::OffsetDateTime) -> Result<String> {
    let base = match &spec.name {
        Some(name) => name.clone(),
        None => {
            crate::provision::default_name(credential::Subject::parse(&spec.subject)?.common_name())
        }
    };
    crate::provision::validate_name(&base)?;
    let start = (now - credential::request::CLOCK_SKEW).date();
    Ok(crate::provision::rotated_name(
        &spec.out,
        &base,
        start,
        |path| path.exists() || path.is_symlink(),
    ))
}

/// A certificate the admin names: usable by Entra and not expired.
fn given(path: &Path, cx: &RunContext) -> Result<New> {
    let (cert, _) = credential::load_file(path, cx.passwords)?.into_leaf();
    cert.require_entra_usable(path)?;
    if cert.status(cx.now) == credential::Status::Expired {
        return Err(Error::Refused(format!(
            "{}: the certificate ({}) expired on {}, and Entra refuses an expired credential; nothing was \
             written. Make its successor (keycred new, or keycred rotate without --cert)",
            path.display(),
            cert.subject,
            crate::time_fmt::rfc3339_utc(cert.not_after)
        )));
    }
    Ok(New::Given(Box::new(cert)))
}

/// Makes the key and certificate (not yet written), or for a plan only checks the spec and says what would be
/// made: a plan makes no key.
fn made(spec: CredentialSpec, plan_only: bool, cx: &RunContext) -> Result<New> {
    let issue = Issue::prepare(spec, cx.passwords, cx.now, crate::secret::random_bytes()?)?;
    if plan_only {
        let to_make = issue.to_make();
        return Ok(New::ToMake(Box::new(issue), to_make));
    }
    let credential = issue.create()?;
    Ok(New::Made(Box::new(issue), Box::new(credential)))
}

impl Chosen {
    /// The files the choice writes when applied (made only when the plan adds it; the CA's answer always, which
    /// ends its request; a request).
    pub(super) fn planned_files(&self, add: bool) -> Vec<(FileRole, String)> {
        match (&self.new, &self.request) {
            (Some(New::Made(issue, _) | New::ToMake(issue, _)), _) if add => issue.planned_files(),
            (Some(New::Imported(prepared)), _) => prepared.files(),
            (Some(New::InVault(new)), _) if add => new.planned_files(),
            (_, Some(csr)) => requested_files(csr),
            _ => Vec::new(),
        }
    }

    /// Writes them; returns them (empty when there were none) and the folder this created, if any.
    pub(super) fn write(
        self,
        add: bool,
        format: ManifestFormat,
        made_for: Option<&Path>,
    ) -> Result<Written> {
        match (self.new, &self.request) {
            (Some(New::Made(issue, credential)), _) if add => Ok(Written {
                files: issue.write_recorded(&credential, format, made_for)?,
                created_dir: issue.create_dir.then(|| issue.layout.dir.clone()),
                made: None,
            }),
            (Some(New::InVault(new)), _) if add => new.write(format),
            (Some(New::Imported(prepared)), _) => {
                let files = prepared.files();
                prepared.write(false)?;
                Ok(Written {
                    files,
                    created_dir: None,
                    made: None,
                })
            }
            (_, Some(csr)) => {
                let missing =
                    crate::fsio::output_dir_state(&csr.out)? == crate::fsio::OutputDir::Missing;
                crate::workflow::ca::csr(csr)?;
                Ok(Written {
                    files: requested_files(csr),
                    created_dir: missing.then(|| csr.out.clone()),
                    made: None,
                })
            }
            _ => Ok(Written::default()),
        }
    }
}

/// The files a CA request writes.
fn requested_files(csr: &CsrRequest) -> Vec<(FileRole, String)> {
    [FileRole::Key, FileRole::Request]
        .into_iter()
        .map(|role| {
            (
                role,
                csr.out
                    .join(format!("{}{}", csr.name, role.suffix()))
                    .display()
                    .to_string(),
            )
        })
        .collect()
}
