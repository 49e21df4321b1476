//! The wizard's rotation questions, the request they make, and the equivalent command line.

use std::path::{Path, PathBuf};

use console::Term;
use keycred::fsio::{self, Access, OutputFile};
use keycred::rotation::Policy;
use keycred::workflow::check;
use keycred::workflow::rotate_app::{ManifestOutput, NewCredentialSource, RotateRequest};

use super::credential::CredentialAnswers;
use super::prompts::{confirm, text};
use keycred::shell::word as quote;

/// The renewal window the wizard shows the current credentials against.
const WARN: time::Duration = time::Duration::days(30);

/// What the admin answered about the rotation.
pub(super) struct RotationAnswers {
    pub manifest: PathBuf,
    pub prune_expired: bool,
    pub manifest_out: Option<PathBuf>,
    /// The subject of the manifest's newest credential, as a default for the new one.
    pub current_subject: Option<String>,
}

impl RotationAnswers {
    /// The rotation request the answers describe: what `keycred rotate` builds from the same flags.
    pub fn request(&self, credential: &CredentialAnswers) -> RotateRequest {
        RotateRequest {
            manifest: self.manifest.clone(),
            format: keycred::workflow::rotate_app::FormatChoice::Detect,
            new: Some(if credential.ca {
                NewCredentialSource::FromCa {
                    spec: credential.spec(),
                    chain: Vec::new(),
                    dns: None,
                }
            } else {
                NewCredentialSource::Make(credential.spec())
            }),
            policy: Policy {
                renew_within: None,
                prune_expired: self.prune_expired,
                keep: None,
                remove_key_ids: Vec::new(),
            },
            output: match &self.manifest_out {
                Some(out) => ManifestOutput::File(out.clone()),
                None => ManifestOutput::InPlace,
            },
            patch_out: None,
            add_key_proof: None,
            repair_key_ids: false,
            dry_run: false,
            force: false,
        }
    }

    /// `keycred rotate` with the same answers.
    pub fn command(&self, c: &CredentialAnswers) -> String {
        let r = self;
        let mut line = format!(
            "keycred rotate --manifest {} {}",
            quote(&r.manifest.display().to_string()),
            c.flags()
        );
        if c.ca {
            line.push_str(" --ca");
        }
        if r.prune_expired {
            line.push_str(" --prune-expired");
        }
        match &r.manifest_out {
            Some(out) => line.push_str(&format!(
                " --manifest-out {}",
                quote(&out.display().to_string())
            )),
            None => line.push_str(" --in-place"),
        }
        line
    }
}

pub(super) fn ask_rotation(term: &Term) -> anyhow::Result<RotationAnswers> {
    // The manifest is read once, through the check workflow, when the answer is validated; what it holds is
    // then shown and gives the default subject.
    let read = std::cell::RefCell::new(None);
    let manifest = PathBuf::from(text(
        term,
        "App manifest to rotate (Graph or legacy JSON)",
        None,
        |path| {
            let file =
                check::check_manifest(Path::new(path), time::OffsetDateTime::now_utc(), WARN)
                    .map_err(super::prompts::said)?;
            *read.borrow_mut() = Some(file);
            Ok(())
        },
    )?);
    let file = read.into_inner().expect("a valid answer was read");
    // What the manifest holds now, before the admin decides what to prune.
    term.write_line("\nThe manifest's certificate credentials now:")?;
    term.write_str(&keycred::report::check_text(
        std::slice::from_ref(&file),
        time::OffsetDateTime::now_utc(),
        WARN,
    ))?;
    let current_subject = keycred::manifest::existing::newest_subject(&file.credentials);
    let prune_expired = confirm(term, "Remove credentials that have expired?", true)?;
    let in_place = confirm(
        term,
        &format!(
            "Update {} in place (keeping a backup, {})?",
            manifest.display(),
            fsio::backup_path(&manifest).display()
        ),
        true,
    )?;
    let manifest_out = if in_place {
        None
    } else {
        let default = format!("{}.rotated.json", manifest.display());
        Some(PathBuf::from(text(
            term,
            "Write the updated manifest to",
            Some(&default),
            |p| {
                fsio::check_targets(&[OutputFile::new(p, Vec::new(), Access::Public)], false)
                    .map_err(super::prompts::said)
            },
        )?))
    };
    Ok(RotationAnswers {
        manifest,
        prune_expired,
        manifest_out,
        current_subject,
    })
}
