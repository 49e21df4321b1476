//! `keycred wizard`: the scripted commands' outcomes, asked for interactively.
//!
//! The wizard only asks. Every answer becomes the same library request the command line builds
//! (`CredentialSpec`/`ProvisionRequest`, `AppRolesRequest`, `RotateRequest`) and runs the same workflow, and the
//! wizard renders the equivalent command line from those answers, so generation, validation and output exist
//! once. It imports nothing from the commands. Nothing is written before the summary is confirmed; Esc at any
//! prompt and Ctrl-C anywhere before that end the run with exit 130.

mod credential;
mod prompts;
mod roles;
mod rotation;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use console::Term;
use keycred::fsio;
use keycred::input::PasswordSources;
use keycred::interrupt::Interrupt;
use keycred::provision;
use keycred::report::{self, NewSummary};
use keycred::shell::word as quote;
use keycred::workflow::app_roles;
use keycred::workflow::provision::ProvisionRequest;
use keycred::workflow::rotate_app;

use crate::terminal;
use prompts::{confirm, select, text};

/// Set once the summary is confirmed: from then on Ctrl-C waits for the atomic writes to finish.
static WRITING: AtomicBool = AtomicBool::new(false);

/// The user ended the wizard before anything was written.
#[derive(Debug)]
struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancelled {}

pub fn run() -> anyhow::Result<i32> {
    if !terminal::interactive() {
        return Err(keycred::Error::Invalid(
            "keycred wizard asks questions and needs a terminal (stdin and stderr). In scripts use the commands it \
             runs: keycred new --subject NAME --out DIR --name NAME --generate-password; keycred manifest app-roles \
             --template NAME (or --role VALUE) --out FILE; keycred rotate --manifest FILE --subject NAME --in-place"
                .into(),
        )
        .into());
    }
    ctrlc::set_handler(|| {
        if !WRITING.load(Ordering::SeqCst) {
            let term = Term::stderr();
            let _ = term.show_cursor();
            let _ = term.write_line("\ncancelled: nothing was written");
            std::process::exit(keycred::exit::CANCELLED);
        }
    })?;
    let term = Term::stderr();
    match wizard(&term) {
        Ok(()) => Ok(keycred::exit::SUCCESS),
        Err(error) if error.is::<Cancelled>() => {
            let _ = term.show_cursor();
            term.write_line("cancelled: nothing was written")?;
            Ok(keycred::exit::CANCELLED)
        }
        Err(error) => Err(error),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Goal {
    Credential,
    Roles,
    Both,
    Rotation,
}

/// What the admin wants to prepare.
fn ask_goal(term: &Term) -> anyhow::Result<Goal> {
    Ok(
        match select(
            term,
            "What do you want to prepare?",
            &[
                "A new certificate credential (key, certificate, PFX, keyCredentials)",
                "App roles for a resource (API) app",
                "Both: a certificate credential and app roles",
                "Rotation: add a new certificate to an existing manifest",
            ],
            0,
        )? {
            0 => Goal::Credential,
            1 => Goal::Roles,
            2 => Goal::Both,
            _ => Goal::Rotation,
        },
    )
}

fn wizard(term: &Term) -> anyhow::Result<()> {
    term.write_line(
        "keycred wizard: prepares an Entra ID app registration for the client credentials flow.",
    )?;
    term.write_line("Esc or Ctrl-C cancels; nothing is written until you confirm the summary.\n")?;
    let goal = ask_goal(term)?;

    let rotating = if goal == Goal::Rotation {
        Some(rotation::ask_rotation(term)?)
    } else {
        None
    };
    let default_subject = rotating.as_ref().and_then(|r| r.current_subject.clone());
    let out = PathBuf::from(text(
        term,
        "Output folder (created if it does not exist)",
        Some("."),
        |dir| {
            fsio::output_dir_state(Path::new(dir))
                .map(drop)
                .map_err(prompts::said)
        },
    )?);
    let credential = if goal == Goal::Roles {
        None
    } else {
        // A rotation's format is its manifest's: not asked.
        let fixed = rotating
            .as_ref()
            .map(|_| keycred::manifest::ManifestFormat::Graph);
        Some(credential::ask_credential(
            term,
            &out,
            default_subject.as_deref(),
            fixed,
            rotating.is_some(),
        )?)
    };
    let roles = if matches!(goal, Goal::Roles | Goal::Both) {
        let client = credential
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_else(|| "client".to_owned());
        Some(roles::ask_roles(
            term,
            &out,
            &client,
            credential.as_ref().map(|c| c.format),
        )?)
    } else {
        None
    };

    // The summary, then the one confirmation.
    if let Some(c) = &credential {
        term.write_line("\nThe new certificate credential (for the client / daemon app):")?;
        for line in c.describe() {
            term.write_line(&format!("  {line}"))?;
        }
    }
    let mut preview_files = None;
    if let (Some(c), Some(r)) = (&credential, &rotating) {
        // What the rotation will keep, remove and add, and the files it will write, before anything is written.
        let mut preview = r.request(c);
        preview.dry_run = true;
        let outcome =
            rotate_app::rotate_app(preview, &PasswordSources::default(), &Interrupt::none())?;
        term.write_line("")?;
        term.write_str(&report::rotate_text(&outcome))?;
        preview_files = Some(outcome.files);
    }
    term.write_line("\nSummary: keycred will write")?;
    let planned = planned_files(
        credential.as_ref(),
        roles.as_ref(),
        rotating.as_ref(),
        preview_files,
    );
    print_planned(term, &planned)?;
    if !confirm(term, "Write these files?", true)? {
        return Err(Cancelled.into());
    }
    WRITING.store(true, Ordering::SeqCst);

    let mut commands = Vec::new();
    let mut next_steps = Vec::new();
    if let Some(c) = &credential {
        write_credential(c, rotating.as_ref(), &mut commands, &mut next_steps)?;
    }
    if let Some(r) = &roles {
        write_roles(r, &mut commands, &mut next_steps)?;
    }

    terminal::print("\nNext steps:\n");
    for step in next_steps {
        terminal::print(&format!("  - {step}\n"));
    }
    terminal::print("\nThe same run without the wizard:\n");
    for command in commands {
        terminal::print(&format!("  {command}\n"));
    }
    if credential.as_ref().is_some_and(|c| c.password.is_some()) {
        terminal::print("  (you typed the PFX password: put it in PASSWORD_FILE, or drop --password-file and set KEYCRED_PFX_PASSWORD)\n");
    }
    Ok(())
}

/// The files the summary lists: the credential's (a rotation's as its preview said), the roles', the manifest.
fn planned_files(
    credential: Option<&credential::CredentialAnswers>,
    roles: Option<&roles::RolesAnswers>,
    rotating: Option<&rotation::RotationAnswers>,
    preview_files: Option<Vec<(provision::FileRole, String)>>,
) -> Vec<(PathBuf, String)> {
    let mut planned: Vec<(PathBuf, String)> = Vec::new();
    if let Some(c) = credential {
        let layout = provision::OutputLayout {
            dir: c.out.clone(),
            name: c.name.clone(),
        };
        let files = preview_files.unwrap_or_else(|| {
            let roles = if c.ca {
                vec![provision::FileRole::Key, provision::FileRole::Request]
            } else {
                provision::OutputLayout::roles(c.pfx.is_some(), c.generate)
            };
            layout.listed(roles)
        });
        for (role, path) in files {
            planned.push((PathBuf::from(path), role.describe().to_owned()));
        }
    }
    if let Some(r) = roles {
        let count = r.specs.len();
        planned.push((
            r.out.clone(),
            format!("appRoles ({count} roles): goes on the resource (API) app"),
        ));
        if let Some(client) = &r.client_out {
            planned.push((
                client.clone(),
                "requiredResourceAccess: goes on the client (daemon) app".into(),
            ));
        }
    }
    if let Some(r) = rotating {
        match &r.manifest_out {
            Some(out) => planned.push((
                out.clone(),
                format!("{} with the new credential added", r.manifest.display()),
            )),
            None => planned.push((
                r.manifest.clone(),
                format!(
                    "updated in place, the original kept as {}",
                    fsio::backup_path(&r.manifest).display()
                ),
            )),
        }
    }
    planned
}

/// Makes (or requests, or rotates in) the credential, printing what was written; adds its command and steps.
fn write_credential(
    c: &credential::CredentialAnswers,
    rotating: Option<&rotation::RotationAnswers>,
    commands: &mut Vec<String>,
    next_steps: &mut Vec<String>,
) -> anyhow::Result<()> {
    let none = PasswordSources::default();
    if let Some(r) = rotating {
        let outcome = rotate_app::rotate_app(r.request(c), &none, &Interrupt::none())?;
        for warning in &outcome.warnings {
            terminal::warn(warning);
        }
        terminal::print(&report::rotate_text(&outcome));
        commands.push(r.command(c));
        match outcome.ca.as_ref().and_then(|step| step.not_added_because()) {
            // The CA's answer comes later: what to do with the request, and the command that finishes it.
            Some(step) => next_steps.push(format!(
                "Send the request to your CA: {step} (with the command below, or this wizard again)."
            )),
            // What to do with the credential the new one replaces is the rotation's own advice, printed above.
            None => next_steps.push("Apply the updated manifest (portal: App registrations > your app > Manifest, or Graph PATCH), then move the app to the new certificate.".to_owned()),
        }
    } else if c.ca {
        let outcome = keycred::workflow::ca::csr(&keycred::workflow::ca::CsrRequest {
            subject: c.subject.clone(),
            dns: Vec::new(),
            key_size: c.key_size,
            hash: keycred::credential::SignatureHash::Sha256,
            key: None,
            out: c.out.clone(),
            name: c.name.clone(),
            force: false,
        })?;
        terminal::print(&format!(
            "Created a certificate request for {}\n  {}  the request (PKCS#10, PEM)\n  {}  the private key (owner-only)\n",
            outcome.subject,
            outcome.csr.display(),
            outcome.key.as_ref().map_or_else(String::new, |k| k.display().to_string()),
        ));
        commands.push(c.new_command());
        next_steps.push(format!(
            "Send {} to your CA (AD CS web enrollment, step-ca, openssl ca, a vendor); the private key stays here.",
            outcome.csr.display()
        ));
        next_steps.push(format!(
            "When the CA has issued the certificate: keycred import --cert ISSUED.cer [--chain CHAIN.pem] --key {} --out {} --name {} --generate-password; then register NAME.cer on the client app (keycred rotate --cert {} --manifest app.json does it safely).",
            quote(&outcome.key.as_ref().map_or_else(String::new, |k| k.display().to_string())),
            quote(&c.out.display().to_string()),
            quote(&c.name),
            quote(&c.out.join(format!("{}.cer", c.name)).display().to_string()),
        ));
    } else {
        let made = keycred::workflow::provision::provision(
            ProvisionRequest {
                credential: c.spec(),
                format: c.format,
            },
            &none,
            &Interrupt::none(),
        )?;
        for warning in &made.warnings {
            terminal::warn(warning);
        }
        let layout = provision::OutputLayout {
            dir: c.out.clone(),
            name: c.name.clone(),
        };
        let fragment = NewSummary::fragment(&made);
        terminal::print(&NewSummary::of(&made).text());
        terminal::print(&format!("\nkeyCredentials fragment:\n{fragment}"));
        commands.push(c.new_command());
        next_steps.push(format!(
            "On the client (daemon) app: upload {} in the portal (App registrations > your app > Certificates & secrets > Certificates > Upload certificate), or add the keyCredentials entry beside the existing ones in the app's Manifest (never over them: keycred rotate --cert CERT --manifest app.json does it safely).",
            layout.path(provision::FileRole::Cer).display()
        ));
        next_steps.extend(report::secrets_advice(&made.files));
    }
    Ok(())
}

/// Writes the roles' fragments, printing them; adds their command and steps (first: Entra needs them first).
fn write_roles(
    r: &roles::RolesAnswers,
    commands: &mut Vec<String>,
    next_steps: &mut Vec<String>,
) -> anyhow::Result<()> {
    if let Some(folder) = r.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        if fsio::output_dir_state(folder)? == fsio::OutputDir::Missing {
            fsio::create_output_dir(folder, false)?;
        }
    }
    let outcome = app_roles::app_roles(r.request())?;
    for note in &outcome.notes {
        terminal::note(note);
    }
    let written = |path: &std::path::Path| {
        outcome
            .written
            .iter()
            .find(|(p, _)| p == path)
            .map_or("", |(_, text)| text.as_str())
    };
    terminal::print(&format!(
        "\nappRoles fragment ({}):\n{}",
        r.out.display(),
        written(&r.out)
    ));
    if let Some(client) = &r.client_out {
        terminal::print(&format!(
            "\nrequiredResourceAccess ({}):\n{}",
            client.display(),
            written(client)
        ));
    }
    // In the order Entra needs them, before the certificate's steps: the roles must exist on the API app
    // before the client can request them, and a request grants nothing until an admin consents.
    let mut role_steps = vec![format!(
        "On the resource (API) app: add the appRoles of {} (and identifierUris / api) to its Manifest.",
        r.out.display()
    )];
    if let Some(client) = &r.client_out {
        role_steps.push(format!(
            "On the client (daemon) app: add the requiredResourceAccess of {} to its Manifest (API permissions).",
            client.display()
        ));
        role_steps.push(
            "Grant admin consent: client app > API permissions > Grant admin consent.".into(),
        );
    }
    next_steps.splice(0..0, role_steps);
    commands.push(r.command());
    Ok(())
}

/// The summary's files, their paths aligned.
fn print_planned(term: &Term, planned: &[(PathBuf, String)]) -> std::io::Result<()> {
    let width = planned
        .iter()
        .map(|(p, _)| p.display().to_string().len())
        .max()
        .unwrap_or(0);
    for (path, what) in planned {
        term.write_line(&format!("  {:<width$}  {what}", path.display().to_string()))?;
    }
    Ok(())
}
