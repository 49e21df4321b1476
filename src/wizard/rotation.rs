//! The wizard's rotation questions, the request they make, and the equivalent command line.

use std::path::{Path, PathBuf};

use console::Term;
use keycred::fsio::{self, Access, OutputFile};
use keycred::manifest::Manifest;
use keycred::rotation::Policy;
use keycred::workflow::rotate_app::{ManifestOutput, NewCredentialSource, RotateRequest};

use super::credential::CredentialAnswers;
use super::prompts::{confirm, text};
use keycred::shell::word as quote;

/// What the admin answered about the rotation.
pub(super) struct RotationAnswers {
    pub manifest: PathBuf,
    pub prune_expired: bool,
    pub manifest_out: Option<PathBuf>,
}

impl RotationAnswers {
    /// The rotation request the answers describe: what `keycred rotate` builds from the same flags.
    pub fn request(&self, credential: &CredentialAnswers) -> RotateRequest {
        RotateRequest {
            manifest: self.manifest.clone(),
            format: keycred::workflow::rotate_app::FormatChoice::Detect,
            new: Some(NewCredentialSource::Make(credential.spec())),
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
    let manifest = PathBuf::from(text(
        term,
        "App manifest to rotate (Graph or legacy JSON)",
        None,
        |path| {
            let text = keycred::input::read_text(Path::new(path)).map_err(super::prompts::said)?;
            let manifest = Manifest::parse(&text, path, None).map_err(super::prompts::said)?;
            manifest
                .key_credentials()
                .map(drop)
                .map_err(super::prompts::said)
        },
    )?);
    // What the manifest holds now, before the admin decides what to prune.
    if let Ok(text) = keycred::input::read_text(&manifest) {
        if let Ok(parsed) = Manifest::parse(&text, &manifest.display().to_string(), None) {
            if let Ok(existing) = parsed.key_credentials() {
                let now = time::OffsetDateTime::now_utc();
                let file = keycred::report::CheckedFile {
                    file: manifest.display().to_string(),
                    verdict: keycred::rotation::verdict(&existing, now, time::Duration::days(30)),
                    credentials: existing,
                    problems: Vec::new(),
                };
                term.write_line("\nThe manifest's certificate credentials now:")?;
                term.write_str(&keycred::report::check_text(
                    std::slice::from_ref(&file),
                    now,
                    time::Duration::days(30),
                ))?;
            }
        }
    }
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
    })
}

/// The subject of the manifest's newest credential, as a default for the new one.
pub(super) fn current_subject(manifest: &Path) -> Option<String> {
    let text = keycred::input::read_text(manifest).ok()?;
    let parsed = Manifest::parse(&text, "", None).ok()?;
    keycred::manifest::existing::newest_subject(&parsed.key_credentials().ok()?)
}
