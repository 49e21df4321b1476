//! `keycred doctor`: clap arguments → a doctor request → the workflow → the findings, and their exit code.

use keycred::workflow::doctor::{self, DoctorRequest};
use keycred::workflow::prove::CredentialSource;

use crate::cli::DoctorArgs;
use crate::terminal;

pub fn run(args: DoctorArgs) -> anyhow::Result<i32> {
    let token = match &args.token {
        Some(path) if path.as_os_str() == "-" => {
            Some(String::from_utf8_lossy(&keycred::input::read_stdin()?).into_owned())
        }
        Some(path) => Some(keycred::input::read_text(path)?),
        None => None,
    };
    let request = DoctorRequest {
        client: args.client.clone(),
        api: args.api.clone(),
        credential: match (&args.credential_vault, &args.credential_vault_cert) {
            _ if args.credential_pkcs11_module.is_some() => {
                super::token_key::source(&crate::cli::Pkcs11Args {
                    pkcs11_module: args.credential_pkcs11_module.clone(),
                    pkcs11_token: args.credential_pkcs11_token.clone(),
                    pkcs11_key: args.credential_pkcs11_key.clone(),
                    pkcs11_pin_file: args.credential_pkcs11_pin_file.clone(),
                })?
            }
            (Some(vault), Some(named)) => Some(super::vault_source(
                vault,
                named,
                args.graph.vault_token_file.as_deref(),
                super::cloud_of(&args.graph),
                std::time::Duration::from_secs(60),
            )?),
            _ => args
                .credential
                .as_ref()
                .map(|path| match &args.credential_key {
                    Some(key) => CredentialSource::KeyAndCert {
                        key: key.clone(),
                        cert: path.clone(),
                    },
                    None => CredentialSource::Pfx(path.clone()),
                }),
        },
        scope: args.scope.clone(),
        token,
        rules: args.rules.clone(),
        warn: time::Duration::days(i64::from(args.warn_days)),
        live: match (&args.client_app, &args.api_app) {
            (Some(client), Some(api)) => Some(doctor::LiveApps {
                client_app: keycred::workflow::tenant::parse_app(client)?,
                api_app: keycred::workflow::tenant::parse_app(api)?,
                show: std::iter::once("keycred graph show".to_owned())
                    .chain(
                        args.graph
                            .as_flags()
                            .iter()
                            .map(|f| keycred::shell::word(f)),
                    )
                    .collect::<Vec<_>>()
                    .join(" "),
            }),
            _ => None,
        },
    };
    let now = time::OffsetDateTime::now_utc();
    let graph = match request.live {
        Some(_) => Some(super::graph_connect(&args.graph, now)?),
        None => None,
    };
    let passwords = super::password_sources(&args.password, None);
    let diagnosis = doctor::doctor(&request, graph.as_ref(), &passwords, now)?;
    if args.json {
        terminal::print_json(&keycred::report::doctor::doctor_json(&diagnosis));
    } else {
        terminal::print(&keycred::report::doctor::doctor_text(&diagnosis));
    }
    Ok(diagnosis.exit_code)
}
