//! `keycred wizard`: the scripted commands' outcomes, asked for interactively.
//!
//! The wizard only asks. Every answer becomes the same option structs the command line fills
//! (`CredentialOptions`, `AppRolesArgs`, `RotateArgs`) and goes through the same steps (`Issue`,
//! `app_roles::produce`, `rotate::apply`), so generation, validation and output exist once. Nothing is written
//! before the summary is confirmed; Esc at any prompt and Ctrl-C anywhere before that end the run with exit 130.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use console::{Key, Term};
use dialoguer::{Confirm, Select};
use keycred::credential::Subject;
use keycred::fsio::{self, Access, OutputFile};
use keycred::manifest::app_roles::{
    self, derive_description, derive_display_name, MemberType, RoleSpec,
};
use keycred::manifest::roles_source::builtin_templates;
use keycred::manifest::Manifest;
use keycred::provision;
use keycred::secret::Password;

use crate::cli::{self, AppRolesArgs, CredentialOptions, PasswordArgs, RotateArgs};
use crate::commands::new::{Issue, PasswordSource};
use crate::commands::{app_roles as roles_command, rotate};

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
    if !crate::commands::interactive() {
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

// ---- prompts ----

fn select(term: &Term, prompt: &str, items: &[&str], default: usize) -> anyhow::Result<usize> {
    Select::new()
        .with_prompt(prompt)
        .items(items)
        .default(default)
        .interact_on_opt(term)
        .map_err(cancel_on_interrupt)?
        .ok_or_else(|| Cancelled.into())
}

fn confirm(term: &Term, prompt: &str, default: bool) -> anyhow::Result<bool> {
    Confirm::new()
        .with_prompt(prompt)
        .default(default)
        .interact_on_opt(term)
        .map_err(cancel_on_interrupt)?
        .ok_or_else(|| Cancelled.into())
}

fn cancel_on_interrupt(error: dialoguer::Error) -> anyhow::Error {
    let dialoguer::Error::IO(io) = &error;
    if io.kind() == std::io::ErrorKind::Interrupted {
        Cancelled.into()
    } else {
        error.into()
    }
}

/// One line of text (or hidden text), with Esc to cancel: dialoguer's text input ignores Esc.
fn read_line(term: &Term, prompt: &str, hidden: bool) -> anyhow::Result<String> {
    term.write_str(prompt)?;
    let mut line = String::new();
    loop {
        let key = term.read_key().map_err(|e| -> anyhow::Error {
            if e.kind() == std::io::ErrorKind::Interrupted {
                Cancelled.into()
            } else {
                e.into()
            }
        })?;
        match key {
            Key::Enter => break,
            Key::Escape | Key::CtrlC => {
                term.write_line("")?;
                return Err(Cancelled.into());
            }
            Key::Backspace => {
                let removed = line.pop().is_some();
                if removed && !hidden {
                    term.clear_chars(1)?;
                }
            }
            Key::Char(c) if !c.is_control() => {
                line.push(c);
                if !hidden {
                    term.write_str(c.encode_utf8(&mut [0; 4]))?;
                }
            }
            _ => {}
        }
    }
    term.write_line("")?;
    Ok(line)
}

/// Asks until the answer passes `check`, showing why it did not; an empty answer takes the default.
fn text(
    term: &Term,
    prompt: &str,
    default: Option<&str>,
    check: impl Fn(&str) -> Result<(), String>,
) -> anyhow::Result<String> {
    let shown = match default {
        Some(d) if !d.is_empty() => format!("{prompt} [{d}]: "),
        _ => format!("{prompt}: "),
    };
    loop {
        let answer = read_line(term, &shown, false)?;
        let answer = match (answer.trim(), default) {
            ("", Some(d)) => d.to_owned(),
            (a, _) => a.to_owned(),
        };
        match check(&answer) {
            Ok(()) => return Ok(answer),
            Err(problem) => term.write_line(&format!("  ✗ {problem}"))?,
        }
    }
}

fn new_password(term: &Term) -> anyhow::Result<Password> {
    loop {
        let first = read_line(term, "PFX password (hidden): ", true)?;
        if first.is_empty() {
            term.write_line("  ✗ the password is empty; a PFX protects a private key")?;
            continue;
        }
        let second = read_line(term, "Repeat the password: ", true)?;
        if first == second {
            return Ok(Password::new(first));
        }
        term.write_line("  ✗ the passwords do not match, try again")?;
    }
}

// ---- the questions ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Goal {
    Credential,
    Roles,
    Both,
    Rotation,
}

struct CredentialAnswers {
    subject: String,
    options: CredentialOptions,
    password: Option<Password>,
    format: cli::Format,
}

struct RolesAnswers {
    template: Option<String>,
    specs: Vec<RoleSpec>,
    identifier_uri: Option<String>,
    resource_app_id: Option<String>,
    format: cli::Format,
    out: PathBuf,
    client_out: Option<PathBuf>,
}

struct RotationAnswers {
    manifest: PathBuf,
    prune_expired: bool,
    in_place: bool,
    manifest_out: Option<PathBuf>,
}

fn wizard(term: &Term) -> anyhow::Result<()> {
    term.write_line(
        "keycred wizard: prepares an Entra ID app registration for the client credentials flow.",
    )?;
    term.write_line("Esc or Ctrl-C cancels; nothing is written until you confirm the summary.\n")?;
    let goal = match select(
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
    };

    let rotation = if goal == Goal::Rotation {
        Some(ask_rotation(term)?)
    } else {
        None
    };
    let default_subject = rotation.as_ref().and_then(|r| current_subject(&r.manifest));
    let out = PathBuf::from(text(
        term,
        "Output folder (must exist)",
        Some("."),
        |dir| fsio::check_output_dir(Path::new(dir)).map_err(|e| e.to_string()),
    )?);
    let credential = if goal == Goal::Roles {
        None
    } else {
        Some(ask_credential(term, &out, default_subject.as_deref())?)
    };
    let roles = if matches!(goal, Goal::Roles | Goal::Both) {
        let base = credential
            .as_ref()
            .and_then(|c| c.options.name.clone())
            .unwrap_or_else(|| "app".to_owned());
        Some(ask_roles(term, &out, &base)?)
    } else {
        None
    };

    // The summary, then the one confirmation.
    term.write_line("\nSummary: keycred will write")?;
    let mut planned: Vec<(PathBuf, String)> = Vec::new();
    if let Some(c) = &credential {
        let pfx = c.password.is_some() || c.options.generate_password;
        let layout = provision::OutputLayout {
            dir: c.options.out.clone(),
            name: c
                .options
                .name
                .clone()
                .expect("the wizard always names the files"),
        };
        for role in provision::OutputLayout::roles(pfx, c.options.generate_password) {
            planned.push((layout.path(role), role.describe().to_owned()));
        }
    }
    if let Some(r) = &roles {
        let count = r.specs.len();
        planned.push((
            r.out.clone(),
            format!("appRoles fragment of the resource app ({count} roles)"),
        ));
        if let Some(client) = &r.client_out {
            planned.push((
                client.clone(),
                "requiredResourceAccess of the client app".into(),
            ));
        }
    }
    if let Some(r) = &rotation {
        match &r.manifest_out {
            Some(out) => planned.push((
                out.clone(),
                format!("{} with the new credential added", r.manifest.display()),
            )),
            None => planned.push((
                r.manifest.clone(),
                format!(
                    "updated in place, the original kept as {}.bak",
                    r.manifest.display()
                ),
            )),
        }
    }
    let width = planned
        .iter()
        .map(|(p, _)| p.display().to_string().len())
        .max()
        .unwrap_or(0);
    for (path, what) in &planned {
        term.write_line(&format!("  {:<width$}  {what}", path.display().to_string()))?;
    }
    if !confirm(term, "Write these files?", true)? {
        return Err(Cancelled.into());
    }
    WRITING.store(true, Ordering::SeqCst);

    let mut commands = Vec::new();
    let mut next_steps = Vec::new();
    if let Some(c) = &credential {
        if let Some(r) = &rotation {
            let args = RotateArgs {
                manifest: r.manifest.clone(),
                subject: Some(c.subject.clone()),
                cert: None,
                credential: c.options.clone(),
                renew_within: None,
                prune_expired: r.prune_expired,
                keep: None,
                manifest_out: r.manifest_out.clone(),
                in_place: r.in_place,
                patch_out: None,
                add_key_proof: None,
                object_id: None,
                current_pfx: None,
                current_password_file: None,
                repair_key_ids: false,
                dry_run: false,
                json: false,
            };
            let outcome = rotate::apply(&args, &keycred::interrupt::Interrupt::none())?;
            for warning in &outcome.warnings {
                eprintln!("keycred: warning: {warning}");
            }
            crate::commands::print(&outcome.diff);
            commands.push(rotate_command(c, r));
            next_steps.push("Apply the updated manifest (portal: App registrations > your app > Manifest, or Graph PATCH). Move the app to the new certificate, then prune the old one once it has expired (keycred rotate --prune-expired).".to_owned());
        } else {
            let source = match &c.password {
                Some(p) => PasswordSource::Given(Password::new(p.expose().to_owned())),
                None if c.options.generate_password => PasswordSource::Resolve {
                    file: None,
                    generate: true,
                },
                None => PasswordSource::None,
            };
            let issue = Issue::prepare(&c.subject, &c.options, source)?;
            let made = issue.create()?;
            let files = issue.write(&made, c.format.into())?;
            let fragment =
                std::fs::read_to_string(issue.layout.path(provision::FileRole::KeyCredentials))?;
            crate::commands::print(
                &issue
                    .summary(&made, files, crate::commands::format_name(c.format))
                    .text(),
            );
            crate::commands::print(&format!("\nkeyCredentials fragment:\n{fragment}"));
            commands.push(new_command(c));
            next_steps.push(format!(
                "Upload {} in the portal (App registrations > your app > Certificates & secrets > Certificates > Upload certificate), or paste the keyCredentials fragment into the app's Manifest. Keep the .key and .pfx secret.",
                issue.layout.path(provision::FileRole::Cer).display()
            ));
        }
    }
    if let Some(r) = &roles {
        let args = roles_args(r);
        roles_command::produce(&args, r.specs.clone())?;
        crate::commands::print(&format!(
            "\nappRoles fragment ({}):\n{}",
            r.out.display(),
            std::fs::read_to_string(&r.out)?
        ));
        if let Some(client) = &r.client_out {
            crate::commands::print(&format!(
                "\nrequiredResourceAccess ({}):\n{}",
                client.display(),
                std::fs::read_to_string(client)?
            ));
            next_steps.push("Paste requiredResourceAccess into the client app's Manifest, then grant admin consent (client app > API permissions > Grant admin consent).".into());
        }
        next_steps.push(
            "Paste appRoles (and identifierUris / api) into the resource app's Manifest.".into(),
        );
        commands.push(roles_command_line(r));
    }

    crate::commands::print("\nNext steps:\n");
    for step in next_steps {
        crate::commands::print(&format!("  - {step}\n"));
    }
    crate::commands::print("\nThe same run without the wizard:\n");
    for command in commands {
        crate::commands::print(&format!("  {command}\n"));
    }
    if credential.as_ref().is_some_and(|c| c.password.is_some()) {
        crate::commands::print("  (you typed the PFX password: put it in PASSWORD_FILE, or drop --password-file and set KEYCRED_PFX_PASSWORD)\n");
    }
    Ok(())
}

fn ask_credential(
    term: &Term,
    out: &Path,
    default_subject: Option<&str>,
) -> anyhow::Result<CredentialAnswers> {
    let subject = text(
        term,
        "Certificate subject (a name, or CN=...,O=...)",
        default_subject,
        |s| Subject::parse(s).map(drop).map_err(|e| e.to_string()),
    )?;
    let days = text(
        term,
        "Validity in days (Microsoft recommends at most 365)",
        Some("365"),
        |d| match d.parse::<u32>() {
            Ok(n) if (1..=keycred::credential::request::MAX_DAYS).contains(&n) => Ok(()),
            _ => Err(format!(
                "give a whole number of days from 1 to {}",
                keycred::credential::request::MAX_DAYS
            )),
        },
    )?;
    let key_size = [2048, 3072, 4096][select(
        term,
        "RSA key size",
        &["2048 (Entra's minimum)", "3072", "4096"],
        0,
    )?];
    let pfx_choice = select(
        term,
        "PFX file (key + certificate, for Windows and most SDKs)",
        &[
            "Modern PFX: AES-256 (OpenSSL 3, current Windows and .NET)",
            "Legacy PFX: 3DES (Windows Server 2016, older .NET Framework)",
            "No PFX",
        ],
        0,
    )?;
    let (generate, password) = if pfx_choice == 2 {
        (false, None)
    } else {
        match select(
            term,
            "PFX password",
            &[
                "Generate one for me (saved beside the PFX, owner-only)",
                "Type a password",
            ],
            0,
        )? {
            0 => (true, None),
            _ => (false, Some(new_password(term)?)),
        }
    };
    let format = match select(
        term,
        "keyCredentials fragment format",
        &[
            "Microsoft Graph (the portal's manifest editor, Graph API)",
            "Legacy (Azure AD Graph manifest)",
        ],
        0,
    )? {
        0 => cli::Format::Graph,
        _ => cli::Format::Legacy,
    };
    let cn = Subject::parse(&subject)?.common_name().to_owned();
    let name = text(
        term,
        "Base name for the files",
        Some(&provision::default_name(&cn)),
        |name| {
            provision::validate_name(name).map_err(|e| e.to_string())?;
            let layout = provision::OutputLayout {
                dir: out.to_path_buf(),
                name: name.to_owned(),
            };
            let files: Vec<_> = provision::planned_paths(&layout, pfx_choice != 2, generate)
                .into_iter()
                .map(|p| OutputFile::new(p, Vec::new(), Access::Public))
                .collect();
            fsio::check_targets(&files, false).map_err(|e| e.to_string())
        },
    )?;
    Ok(CredentialAnswers {
        subject,
        options: CredentialOptions {
            out: out.to_path_buf(),
            name: Some(name),
            days: Some(days.parse().expect("checked")),
            not_after: None,
            key_size,
            hash: cli::Hash::Sha256,
            pfx_profile: if pfx_choice == 1 {
                cli::PfxProfile::Legacy
            } else {
                cli::PfxProfile::Modern
            },
            password: PasswordArgs {
                password_file: None,
            },
            generate_password: generate,
            no_pfx: pfx_choice == 2,
            force: false,
        },
        password,
        format,
    })
}

fn ask_roles(term: &Term, out: &Path, base: &str) -> anyhow::Result<RolesAnswers> {
    let mut template = None;
    let mut specs: Vec<RoleSpec> = Vec::new();
    if select(
        term,
        "App roles",
        &["Use a template", "Add roles one by one"],
        0,
    )? == 0
    {
        let templates = builtin_templates();
        let items: Vec<String> = templates
            .iter()
            .map(|t| format!("{}: {}", t.name, t.description))
            .collect();
        let items: Vec<&str> = items.iter().map(String::as_str).collect();
        let chosen = &templates[select(term, "Template", &items, 0)?];
        template = Some(chosen.name.clone());
        specs = chosen.roles.clone();
    } else {
        loop {
            let taken: Vec<String> = specs.iter().map(|s| s.value.clone()).collect();
            let value = text(
                term,
                "Role value (the roles claim, e.g. Orders.Read)",
                None,
                |v| {
                    app_roles::check_value(v)
                        .map_err(|rule| format!("{rule} (Entra's rule for app role values)"))?;
                    if let Some(other) = taken.iter().find(|t| t.eq_ignore_ascii_case(v)) {
                        return Err(format!("value is not unique: it equals {other:?} (compared case-insensitively)"));
                    }
                    Ok(())
                },
            )?;
            let members = match select(
                term,
                "Who can hold it",
                &[
                    "Applications (application permission: client credentials)",
                    "Users and groups",
                    "Both",
                ],
                0,
            )? {
                0 => vec![MemberType::Application],
                1 => vec![MemberType::User],
                _ => vec![MemberType::Application, MemberType::User],
            };
            let display = text(
                term,
                "Display name",
                Some(&derive_display_name(&value)),
                |d| {
                    if d.trim().is_empty() {
                        Err("the display name is empty".into())
                    } else {
                        Ok(())
                    }
                },
            )?;
            let description = text(
                term,
                "Description",
                Some(&derive_description(&value, &members)),
                |d| {
                    if d.trim().is_empty() {
                        Err("the description is empty".into())
                    } else {
                        Ok(())
                    }
                },
            )?;
            specs.push(RoleSpec {
                value,
                display_name: Some(display),
                description: Some(description),
                allowed_member_types: Some(
                    members
                        .iter()
                        .map(|m| match m {
                            MemberType::Application => "Application".to_owned(),
                            MemberType::User => "User".to_owned(),
                        })
                        .collect(),
                ),
                id: None,
                is_enabled: None,
            });
            if !confirm(term, "Add another role?", false)? {
                break;
            }
        }
    }
    let uri = text(
        term,
        "Identifier URI of the resource app (api://..., empty for none)",
        Some(""),
        |u| {
            if u.is_empty() {
                Ok(())
            } else {
                app_roles::check_identifier_uri(u).map_err(|e| e.to_string())
            }
        },
    )?;
    let resource_app_id = if confirm(
        term,
        "Also write the client app's requiredResourceAccess?",
        true,
    )? {
        Some(text(
            term,
            "The resource app's appId (client id)",
            None,
            |g| {
                app_roles::parse_guid(g, "the appId")
                    .map(drop)
                    .map_err(|e| e.to_string())
            },
        )?)
    } else {
        None
    };
    let format = match select(
        term,
        "Manifest format",
        &["Microsoft Graph", "Legacy (Azure AD Graph)"],
        0,
    )? {
        0 => cli::Format::Graph,
        _ => cli::Format::Legacy,
    };
    let not_there = |p: &PathBuf| -> Result<(), String> {
        fsio::check_targets(&[OutputFile::new(p, Vec::new(), Access::Public)], false)
            .map_err(|e| e.to_string())
    };
    let out_file = out.join(format!("{base}.approles.json"));
    not_there(&out_file).map_err(|e| anyhow::anyhow!(e))?;
    let client_out = resource_app_id
        .as_ref()
        .map(|_| out.join(format!("{base}.client.json")));
    if let Some(c) = &client_out {
        not_there(c).map_err(|e| anyhow::anyhow!(e))?;
    }
    Ok(RolesAnswers {
        template,
        specs,
        identifier_uri: (!uri.is_empty()).then_some(uri),
        resource_app_id,
        format,
        out: out_file,
        client_out,
    })
}

fn ask_rotation(term: &Term) -> anyhow::Result<RotationAnswers> {
    let manifest = PathBuf::from(text(
        term,
        "App manifest to rotate (Graph or legacy JSON)",
        None,
        |path| {
            let text = crate::commands::read_text(Path::new(path)).map_err(|e| format!("{e:#}"))?;
            let manifest = Manifest::parse(&text, path, None).map_err(|e| e.to_string())?;
            manifest
                .key_credentials()
                .map(drop)
                .map_err(|e| e.to_string())
        },
    )?);
    let prune_expired = confirm(term, "Remove credentials that have expired?", true)?;
    let in_place = confirm(
        term,
        &format!("Update {} in place (keeping a .bak)?", manifest.display()),
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
                    .map_err(|e| e.to_string())
            },
        )?))
    };
    Ok(RotationAnswers {
        manifest,
        prune_expired,
        in_place,
        manifest_out,
    })
}

/// The subject of the manifest's newest credential, as a default for the new one.
fn current_subject(manifest: &Path) -> Option<String> {
    let text = crate::commands::read_text(manifest).ok()?;
    let parsed = Manifest::parse(&text, "", None).ok()?;
    parsed
        .key_credentials()
        .ok()?
        .into_iter()
        .max_by_key(|c| c.end)?
        .display_name
        .filter(|n| n.starts_with("CN="))
}

fn roles_args(r: &RolesAnswers) -> AppRolesArgs {
    AppRolesArgs {
        roles: Vec::new(),
        display_name: Vec::new(),
        description: Vec::new(),
        member_types: Vec::new(),
        roles_file: None,
        template: None,
        template_file: None,
        stable_ids: None,
        format: Some(r.format),
        fragment: false,
        client_app: r.resource_app_id.is_some(),
        resource_app_id: r.resource_app_id.clone(),
        identifier_uri: r.identifier_uri.clone(),
        merge: None,
        disable: Vec::new(),
        remove: Vec::new(),
        out: Some(r.out.clone()),
        in_place: false,
        client_out: r.client_out.clone(),
        force: false,
    }
}

// ---- the equivalent command lines (never with a secret) ----

fn quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn credential_flags(c: &CredentialAnswers) -> String {
    let o = &c.options;
    let mut flags = format!(
        "--subject {} --out {} --name {} --days {} --key-size {}",
        quote(&c.subject),
        quote(&o.out.display().to_string()),
        quote(o.name.as_deref().unwrap_or_default()),
        o.days.unwrap_or(365),
        o.key_size
    );
    if o.no_pfx {
        flags.push_str(" --no-pfx");
    } else {
        flags.push_str(match o.pfx_profile {
            cli::PfxProfile::Modern => " --pfx-profile modern",
            cli::PfxProfile::Legacy => " --pfx-profile legacy",
        });
        if o.generate_password {
            flags.push_str(" --generate-password");
        } else if c.password.is_some() {
            flags.push_str(" --password-file PASSWORD_FILE");
        }
    }
    flags
}

fn new_command(c: &CredentialAnswers) -> String {
    format!(
        "keycred new {} --format {}",
        credential_flags(c),
        crate::commands::format_name(c.format)
    )
}

fn rotate_command(c: &CredentialAnswers, r: &RotationAnswers) -> String {
    let mut line = format!(
        "keycred rotate --manifest {} {}",
        quote(&r.manifest.display().to_string()),
        credential_flags(c)
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

fn roles_command_line(r: &RolesAnswers) -> String {
    let mut line = String::from("keycred manifest app-roles");
    match &r.template {
        Some(name) => line.push_str(&format!(" --template {}", quote(name))),
        None => {
            for spec in &r.specs {
                line.push_str(&format!(" --role {}", quote(&spec.value)));
                if let Some(d) = &spec.display_name {
                    line.push_str(&format!(" --display-name {}", quote(d)));
                }
                if let Some(d) = &spec.description {
                    line.push_str(&format!(" --description {}", quote(d)));
                }
                let members = spec.allowed_member_types.clone().unwrap_or_default();
                let flag = match (
                    members.iter().any(|m| m == "Application"),
                    members.iter().any(|m| m == "User"),
                ) {
                    (true, true) => "both",
                    (false, true) => "user",
                    _ => "application",
                };
                line.push_str(&format!(" --member-types {flag}"));
            }
        }
    }
    if let Some(uri) = &r.identifier_uri {
        line.push_str(&format!(" --identifier-uri {}", quote(uri)));
    }
    line.push_str(&format!(
        " --format {}",
        crate::commands::format_name(r.format)
    ));
    if let Some(id) = &r.resource_app_id {
        line.push_str(&format!(" --client-app --resource-app-id {id}"));
    }
    line.push_str(&format!(" --out {}", quote(&r.out.display().to_string())));
    if let Some(c) = &r.client_out {
        line.push_str(&format!(
            " --client-out {}",
            quote(&c.display().to_string())
        ));
    }
    line
}
