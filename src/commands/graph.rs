//! `keycred graph …`: the tenant scan and one app (through the tenant workflow), and the addKey / removeKey
//! bodies (clap arguments → a proof request → the body).

use keycred::flow::authority::Authority;
use keycred::graph::Cloud;
use keycred::manifest::app_roles::parse_guid;

use keycred::workflow::graph::{self, ProofAction, ProofRequest};
use keycred::workflow::prove::TokenCredential;
use keycred::workflow::tenant::{self, GraphAuth, GraphConnection, ScanRequest, ShowRequest};

use crate::cli::{GraphCommand, ProofArgs};
use crate::terminal;

pub fn run(command: GraphCommand) -> anyhow::Result<i32> {
    let proof = match &command {
        GraphCommand::Apps(args) => return apps(args),
        GraphCommand::Show(args) => return show(args),
        GraphCommand::Rotate(args) => return rotate(args),
        GraphCommand::Usage(args) => return super::graph_usage::usage(args),
        GraphCommand::Sps(args) => {
            return super::graph_sps::sps(&args.connect, args.warn_days, args.page_size, args.json)
        }
        GraphCommand::Retire(args) => return super::graph_usage::retire(args),
        GraphCommand::AddKey(args) => &args.proof,
        GraphCommand::RemoveKey(args) => &args.proof,
    };
    let object_id = parse_guid(&proof.object_id, "--object-id")?;
    let action = match &command {
        GraphCommand::AddKey(args) => ProofAction::AddKey(args.cert.clone()),
        GraphCommand::RemoveKey(args) => {
            ProofAction::RemoveKey(parse_guid(&args.key_id, "--key-id")?)
        }
        GraphCommand::Apps(_)
        | GraphCommand::Show(_)
        | GraphCommand::Rotate(_)
        | GraphCommand::Usage(_)
        | GraphCommand::Sps(_)
        | GraphCommand::Retire(_) => {
            unreachable!("answered above")
        }
    };
    let held = match (&proof.key_vault, &proof.vault_cert) {
        (Some(vault), Some(named)) => Some(super::vault_source(
            vault,
            named,
            proof.vault_token_file.as_deref(),
            Cloud::from(proof.cloud),
            std::time::Duration::from_secs(proof.timeout.clamp(1, 60)),
        )?),
        _ => super::token_key::source(&proof.pkcs11)?,
    };
    let request = ProofRequest {
        object_id,
        current_pfx: proof.current_pfx.clone(),
        held: held.clone(),
        action,
        out: proof.out.clone(),
        force: proof.force,
    };
    let now = time::OffsetDateTime::now_utc();
    if proof.send {
        return send(proof, &request, held, now);
    }
    let outcome = graph::proof_body(&request, &passwords(proof), now)?;
    for note in &outcome.notes {
        terminal::note(note);
    }
    if proof.out.is_none() {
        terminal::print(&outcome.text);
    }
    terminal::eprint_line("keycred: the proof is valid for 10 minutes; send the body before then");
    Ok(keycred::exit::SUCCESS)
}

/// `--send`: as the app itself, with the token its current credential gets. An addKey goes as its proven body;
/// a removeKey goes through the rotation engine, which reads the app first and never removes its last valid
/// credential.
fn send(
    proof: &ProofArgs,
    request: &ProofRequest,
    held: Option<keycred::workflow::prove::CredentialSource>,
    now: time::OffsetDateTime,
) -> anyhow::Result<i32> {
    let (Some(tenant), Some(client_id)) = (&proof.tenant, &proof.client_id) else {
        unreachable!("clap requires --tenant and --client-id with --send")
    };
    let cloud = Cloud::from(proof.cloud);
    let current = match (held, &proof.current_pfx) {
        (Some(source), _) => source,
        (None, Some(pfx)) => keycred::workflow::prove::CredentialSource::Pfx(pfx.clone()),
        (None, None) => {
            unreachable!("clap requires --current-pfx, --key-vault or --pkcs11-module")
        }
    };
    // The app's own token, from the same current credential that signs the proof.
    let token_passwords = keycred::input::PasswordSources::from_environment(
        proof
            .current_password_file
            .clone()
            .or_else(|| proof.password.password_file.clone()),
        None,
        terminal::password_prompt(),
    );
    let client = tenant::connect(
        GraphConnection {
            graph_url: proof
                .graph_url
                .clone()
                .unwrap_or_else(|| cloud.graph().to_owned()),
            auth: GraphAuth::App {
                tenant: tenant.clone(),
                client_id: client_id.clone(),
                credential: TokenCredential::Certificate(
                    current.clone(),
                    keycred::flow::jwt::Algorithm::Ps256,
                ),
                authority: Authority::parse(proof.authority.as_deref().unwrap_or(cloud.login()))?,
                cache: None,
            },
            timeout: std::time::Duration::from_secs(proof.timeout.max(1)),
            max_retries: proof.max_retries,
            budget: keycred::workflow::tenant::DEFAULT_BUDGET,
            budget_record: keycred::workflow::budget_record::default_dir(),
        },
        &token_passwords,
        now,
    )?;
    match &request.action {
        ProofAction::AddKey(_) => {
            let outcome = graph::proof_body(request, &passwords(proof), now)?;
            for note in &outcome.notes {
                terminal::note(note);
            }
            let answer = graph::add_key_sent(&client, request.object_id, &outcome.body)?;
            terminal::print_json(&answer);
        }
        ProofAction::RemoveKey(key_id) => {
            let signer = keycred::workflow::prove::load_credential(&current, &token_passwords)?;
            let warnings = graph::remove_key_sent(
                &client,
                request.object_id,
                *key_id,
                &signer,
                &token_passwords,
                now,
            )?;
            for warning in &warnings {
                terminal::warn(warning);
            }
            terminal::note(&format!(
                "removed keyId {key_id} from application {}",
                request.object_id
            ));
        }
    }
    Ok(keycred::exit::SUCCESS)
}

fn passwords(proof: &ProofArgs) -> keycred::input::PasswordSources {
    super::password_sources(&proof.password, proof.current_password_file.as_deref())
}

/// The folder of the scan states, with `--since-last`.
fn since_last_dir(since_last: bool) -> keycred::Result<Option<std::path::PathBuf>> {
    if !since_last {
        return Ok(None);
    }
    keycred::workflow::scan_state::default_dir()
        .map(Some)
        .ok_or_else(|| {
            keycred::Error::Invalid(
                "--since-last: this system has no user state folder (set XDG_STATE_HOME)".into(),
            )
        })
}

fn apps(args: &crate::cli::GraphAppsArgs) -> anyhow::Result<i32> {
    if args.service_principals {
        return super::graph_sps::sps(&args.connect, args.warn_days, args.page_size, args.json);
    }
    let now = time::OffsetDateTime::now_utc();
    let request = ScanRequest {
        filter: args.filter.clone(),
        expiring_within: args.expiring_within,
        warn: time::Duration::days(i64::from(args.warn_days)),
        page_size: args.page_size,
        require_credential: args.require_credential,
        rules: args.rules,
        usage: args.usage,
        owners: args.owners,
        federated: args.federated,
        since_last: since_last_dir(args.since_last)?,
        key_vault: args
            .key_vault
            .as_deref()
            .map(|vault| vault_access(&args.connect, vault))
            .transpose()?,
    };
    let client = super::graph_connect(&args.connect, now)?;
    let interrupt = keycred::interrupt::Interrupt::install()?;
    use crate::cli::ScanFormat;
    use keycred::report::tenant as render;
    let format = match (args.json, args.format) {
        (true, _) => ScanFormat::Json,
        (false, format) => format.unwrap_or(ScanFormat::Text),
    };
    // Printed as the pages arrive: memory holds one page, however large the tenant.
    match format {
        ScanFormat::Json => terminal::print(&render::apps_json_start(now, request.warn)),
        ScanFormat::Csv => terminal::print(&render::apps_csv_header()),
        ScanFormat::Text => {}
    }
    let mut first = true;
    let scanned = tenant::scan(&client, &request, now, &interrupt, |app| {
        terminal::print(&match format {
            ScanFormat::Json => render::apps_json_entry(app, now, request.warn, first),
            ScanFormat::Csv => render::apps_csv_rows(app, now, request.warn),
            ScanFormat::Text => render::app_text(app, now, request.warn),
        });
        first = false;
    });
    let outcome = match scanned {
        Ok(outcome) => outcome,
        Err(error) => {
            // What was printed stays JSON: closed, marked incomplete, with the error (also on standard error).
            if format == ScanFormat::Json {
                terminal::print(&render::apps_json_stopped(&error, !first));
            }
            return Err(error.into());
        }
    };
    match format {
        ScanFormat::Json => terminal::print(&render::apps_json_end(&outcome, !first)),
        ScanFormat::Text => terminal::print(&render::scan_summary_text(&outcome)),
        // The rows alone, for a spreadsheet; the counts go to standard error.
        ScanFormat::Csv => terminal::note(render::scan_summary_text(&outcome).trim_end()),
    }
    Ok(outcome.exit_code)
}

fn show(args: &crate::cli::GraphShowArgs) -> anyhow::Result<i32> {
    let request = ShowRequest {
        app: tenant::parse_app(&args.app)?,
        out: args.out.clone(),
        force: args.force,
    };
    let client = super::graph_connect(&args.connect, time::OffsetDateTime::now_utc())?;
    let outcome = tenant::show(&client, &request)?;
    match &outcome.written {
        Some(path) => terminal::note(&format!("wrote {}", path.display())),
        None => terminal::print(&outcome.manifest),
    }
    Ok(keycred::exit::SUCCESS)
}

fn rotate(args: &crate::cli::GraphRotateArgs) -> anyhow::Result<i32> {
    if args.from_vault && args.self_service {
        return super::graph_vault::from_vault(args);
    }
    if args.from_vault && args.key_vault.is_none() {
        return Err(keycred::Error::Invalid(
            "--from-vault: with --self and --auth-key-vault URL --auth-vault-cert NAME the app adds its own \
             renewals; in admin mode give --key-vault URL, whose tagged certificates name their apps"
                .into(),
        )
        .into());
    }
    let (code, planned) = rotate_with(args, args.apply)?;
    // A person at a terminal may apply the plan just shown: the run is made again with --apply (every app read
    // again, so nothing sent is older than this answer).
    if !args.apply && planned > 0 && !args.json && args.report.is_none() && terminal::interactive()
    {
        let apply = dialoguer::Confirm::new()
            .with_prompt(format!(
                "Apply this plan to {planned} app(s) in the tenant?"
            ))
            .default(false)
            .interact()
            .unwrap_or(false);
        if apply {
            return Ok(rotate_with(args, true)?.0);
        }
    }
    Ok(code)
}

/// The typed request of one `graph rotate` run, from its arguments.
fn rotate_request(
    args: &crate::cli::GraphRotateArgs,
    apply: bool,
) -> anyhow::Result<keycred::workflow::graph_rotate::GraphRotateRequest> {
    use keycred::workflow::graph_rotate::{self, GraphRotateRequest};
    let apps = args
        .apps
        .iter()
        .map(|id| tenant::parse_app(id))
        .collect::<keycred::Result<Vec<_>>>()?;
    Ok(GraphRotateRequest {
        apps,
        all: args.all,
        include_without_certificate: args.include_without_certificate,
        filter: args.filter.clone(),
        since_last: since_last_dir(args.since_last)?,
        policy: keycred::rotation::Policy {
            renew_within: (!args.policy.force_renewal)
                .then(|| time::Duration::days(i64::from(args.policy.renew_within))),
            prune_expired: args.policy.prune_expired,
            keep: args.policy.keep,
            remove_key_ids: Vec::new(),
        },
        credential: super::credential_spec(
            args.subject.as_deref().unwrap_or_default(),
            &args.credential,
        )?,
        apply,
        verify: match (args.verify, &args.connect.tenant) {
            (false, _) => None,
            (true, None) => {
                return Err(keycred::Error::Invalid(
                    "--verify signs in as each app with its new certificate: give --tenant (with --client-id and \
                     the automation app's credential)"
                        .into(),
                )
                .into())
            }
            (true, Some(tenant)) => Some(graph_rotate::Verify {
                authority: super::automation_authority(&args.connect)?,
                tenant: tenant.clone(),
                scope: String::new(),
                timeout: std::time::Duration::from_secs(args.verify_timeout),
            }),
        },
        retire_previous: args.retire_previous,
        jobs: args.jobs,
        per_app_folder: true,
        ca: args.ca.then(|| args.chain.clone()),
        from_vault: args.from_vault,
        key_vault: args
            .key_vault
            .as_deref()
            .map(|vault| vault_access(&args.connect, vault))
            .transpose()?,
        self_service: match args.self_service {
            false => None,
            true => Some(graph_rotate::SelfService {
                credential: super::automation_credential(&args.connect)?.ok_or_else(|| {
                    keycred::Error::Invalid(
                        "--self: sign in with the app's own current certificate (--pfx FILE, --key FILE --cert FILE, \
                         or --auth-key-vault URL --auth-vault-cert NAME): it also signs the addKey proof"
                            .into(),
                    )
                })?,
                passwords: super::auth_passwords(&args.connect),
                object_id: args
                    .object_id
                    .as_deref()
                    .map(|id| parse_guid(id, "--object-id"))
                    .transpose()?,
            }),
        },
    })
}

/// One `graph rotate` run; returns the exit code and how many apps have a change planned (not applied).
fn rotate_with(args: &crate::cli::GraphRotateArgs, apply: bool) -> anyhow::Result<(i32, usize)> {
    use keycred::workflow::graph_rotate::{self, AppAction};
    let now = time::OffsetDateTime::now_utc();
    let mut request = rotate_request(args, apply)?;
    let client = super::graph_connect(&args.connect, now)?;
    if let Some(verify) = &mut request.verify {
        verify.scope = format!("{}/.default", client.base());
    }
    if let Some(report) = &args.report {
        // Checked before anything is sent: a run must not end unable to say what it did.
        graph_rotate::check_report_target(report)?;
    }
    let passwords = super::password_sources(&args.credential.pfx.password, None);
    let interrupt = keycred::interrupt::Interrupt::install()?;
    // With --all the count is known once Graph has listed the apps: plain lines then, a bar for named apps.
    let progress = terminal::Progress::new(if args.all { 0 } else { args.apps.len() });
    let outcome = graph_rotate::graph_rotate(
        &client,
        request,
        &passwords,
        now,
        &interrupt,
        &|app: &graph_rotate::AppRotation| {
            progress.done(
                app.label(),
                app.action.as_str(),
                &app.error
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            )
        },
    )?;
    progress.finish();
    let report = keycred::report::tenant_rotation::rotate_json(&outcome);
    if args.json {
        terminal::print_json(&report);
    } else {
        terminal::print(&keycred::report::tenant_rotation::rotate_text(&outcome));
    }
    if let Some(path) = &args.report {
        keycred::fsio::write_report(path, &report)?;
    }
    let planned = outcome
        .apps
        .iter()
        .filter(|a| a.action == AppAction::Planned)
        .count();
    if let Some(signal) = outcome.interrupted_by {
        return Ok((128 + signal, 0));
    }
    let code = if outcome.apps.iter().any(|a| a.action == AppAction::Failed) {
        keycred::exit::FAILURE
    } else {
        keycred::exit::SUCCESS
    };
    Ok((code, planned))
}

/// `--key-vault URL` of a Graph command: the vault of the connection's cloud, its token from `--vault-token-file`
/// or `KEYCRED_VAULT_TOKEN`, else one the automation app gets for the vault with its own credential (a file's key or
/// a secret: a key held in a vault needs a vault token first).
fn vault_access(
    connect: &crate::cli::GraphConnectArgs,
    vault: &str,
) -> anyhow::Result<keycred::workflow::vault_new::VaultAccess> {
    let cloud = super::cloud_of(connect);
    let given = connect.vault_token_file.is_some()
        || std::env::var(super::VAULT_TOKEN_ENV).is_ok_and(|t| !t.trim().is_empty());
    let token = match (&connect.tenant, &connect.client_id) {
        (Some(tenant), Some(client_id)) if !given && connect.auth_key_vault.is_none() => {
            let credential = super::automation_token_credential(connect, client_id)?;
            let request = keycred::flow::token::TokenRequest {
                authority: super::automation_authority(connect)?,
                tenant: tenant.clone(),
                client_id: client_id.clone(),
                scope: format!("{}/.default", keycred::vault::resource(cloud)),
                timeout: std::time::Duration::from_secs(60),
                cache: None,
            };
            let token = keycred::workflow::prove::token(
                &request,
                &credential,
                &super::auth_passwords(connect),
                time::OffsetDateTime::now_utc(),
            )?;
            keycred::secret::Password::new(token.access_token)
        }
        _ => super::vault_token(connect.vault_token_file.as_deref())?,
    };
    Ok(keycred::workflow::vault_new::VaultAccess {
        vault: vault.to_owned(),
        cloud,
        token: std::sync::Arc::new(token),
        timeout: std::time::Duration::from_secs(60),
    })
}
