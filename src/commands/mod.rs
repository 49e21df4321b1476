//! The command-line front end: one `run` per subcommand, each turning its clap arguments into a library request,
//! running the workflow, and printing the outcome. What they share is here: turning the shared option groups into
//! requests and password sources. Command files never import each other.

mod api_policy;
mod app_roles;
mod assertion;
mod batch;
mod check;
mod config;
mod csr;
mod decode;
mod doctor;
mod grant;
mod graph;
mod graph_sps;
mod graph_usage;
mod graph_vault;
mod inspect;
mod key_credentials;
mod new;
mod rotate;
mod templates;
mod thumbprint;
mod token;
mod token_key;

use std::path::{Path, PathBuf};

use keycred::credential::{self, Loaded, SignatureHash};
use keycred::export::PfxProfile;
use keycred::input::PasswordSources;
use keycred::workflow::provision::{CredentialSpec, NewPassword, PfxSpec};

use crate::cli::{self, Cli, CloudArg, Command, GraphConnectArgs, ManifestCommand};
use crate::terminal;
use keycred::flow::authority::Authority;
use keycred::graph::Cloud;
use keycred::secret::Password;
use keycred::workflow::prove::TokenCredential;
use keycred::workflow::tenant::{self, GraphAuth, GraphConnection};

/// Runs the parsed command and returns the exit code.
pub fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<i32> {
    match cli.command {
        Command::Manifest(ManifestCommand::AppRoles(args)) => {
            let positions = matches
                .subcommand_matches("manifest")
                .and_then(|m| m.subcommand_matches("app-roles"))
                .expect("the app-roles subcommand was parsed");
            app_roles::run(*args, positions)
        }
        Command::Templates(args) => templates::run(args),
        Command::Check(args) => check::run(args),
        Command::Batch(args) => batch::run(args),
        Command::Wizard => crate::wizard::run(),
        Command::Rotate(args) => rotate::run(*args),
        Command::Graph(command) => graph::run(command),
        Command::New(args) => new::run(args),
        Command::Csr(args) => csr::run(*args),
        Command::Import(args) => csr::import(*args),
        Command::Inspect(args) => inspect::run(args),
        Command::Thumbprint(args) => thumbprint::run(args),
        Command::Assertion(args) => assertion::run(args),
        Command::Token(args) => token::run(*args),
        Command::Decode(args) => decode::run(args),
        Command::Doctor(args) => doctor::run(*args),
        Command::Config(args) => config::run(*args),
        Command::ApiPolicy(args) => api_policy::run(args),
        Command::Completions(args) => {
            use clap::CommandFactory as _;
            let mut command = Cli::command();
            let mut out = Vec::new();
            clap_complete::generate(args.shell, &mut command, "keycred", &mut out);
            terminal::print(&String::from_utf8_lossy(&out));
            Ok(keycred::exit::SUCCESS)
        }
        Command::Man(args) => man(&args),
        Command::Manifest(ManifestCommand::KeyCredentials(args)) => key_credentials::run(args),
        Command::Manifest(ManifestCommand::Grant(args)) => grant::run(args),
    }
}

/// `keycred man`: the top page to standard output, or with `--out` one page per command, each as its name says
/// (`keycred-graph-rotate.1`), so that the top page's `keycred-new(1)` and the others are there to read.
fn man(args: &cli::ManArgs) -> anyhow::Result<i32> {
    use clap::CommandFactory as _;
    let render = |command: clap::Command| -> keycred::Result<Vec<u8>> {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map_err(|e| keycred::Error::io("a man page", e))?;
        Ok(page)
    };
    let Some(dir) = &args.out else {
        terminal::print(&String::from_utf8_lossy(&render(Cli::command())?));
        return Ok(keycred::exit::SUCCESS);
    };
    // Built, the commands know their full names (keycred-graph-rotate), which name their pages.
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    let mut pages = Vec::new();
    let mut pending = vec![top];
    while let Some(command) = pending.pop() {
        pending.extend(
            command
                .get_subcommands()
                .filter(|c| !c.is_hide_set())
                .cloned(),
        );
        let name = command
            .get_display_name()
            .unwrap_or_else(|| command.get_name())
            .to_owned();
        let file = dir.join(format!("{name}.1"));
        pages.push(keycred::fsio::OutputFile::new(
            file,
            render(command)?,
            keycred::fsio::Access::Public,
        ));
    }
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    if keycred::fsio::output_dir_state(dir)? == keycred::fsio::OutputDir::Missing {
        keycred::fsio::create_output_dir(dir, false)?;
    }
    // keycred's own pages (an earlier `man --out`) are refreshed as they are; any other file there is replaced
    // only with --force.
    let (own, others): (Vec<_>, Vec<_>) = pages.into_iter().partition(|page| {
        keycred::input::read_file(&page.path).is_ok_and(|old| {
            String::from_utf8_lossy(&old)
                .lines()
                .take(5)
                .any(|line| line.starts_with(".TH keycred"))
        })
    });
    if let Some(taken) = others
        .iter()
        .find(|page| !args.force && std::fs::symlink_metadata(&page.path).is_ok())
    {
        return Err(keycred::Error::Refused(format!(
            "{} exists and is not a keycred man page: nothing was written; pass --force to replace it (kept as its \
             .bak), or choose another --out",
            taken.path.display()
        ))
        .into());
    }
    keycred::fsio::write_all(&others, args.force)?;
    keycred::fsio::replace_own(&own)?;
    terminal::print(&format!(
        "wrote {} man pages to {}: keycred.1 and one per command; read them with man keycred (when {} is on MANPATH) or man -l {}\n",
        own.len() + others.len(),
        dir.display(),
        dir.display(),
        dir.join("keycred.1").display()
    ));
    Ok(keycred::exit::SUCCESS)
}

/// The password sources of a command: its files, the environment, and the terminal's prompt.
pub fn password_sources(
    password: &cli::PasswordArgs,
    current_file: Option<&Path>,
) -> PasswordSources {
    PasswordSources::from_environment(
        password.password_file.clone(),
        current_file.map(Path::to_path_buf),
        terminal::password_prompt(),
    )
}

/// The credential that `new` and `rotate` make, from the shared options.
pub fn credential_spec(
    subject: &str,
    options: &cli::CredentialOptions,
) -> keycred::Result<CredentialSpec> {
    if options.out_pfx.is_some() {
        return Err(keycred::Error::Invalid(
            "--out-pfx is not a keycred option: the PFX is written as NAME.pfx in the --out folder (give --out DIR \
             --name NAME; --no-pfx skips it)"
                .into(),
        ));
    }
    let days = match options.years {
        Some(years) => Some(years.checked_mul(365).ok_or_else(|| {
            keycred::Error::Validity(format!("--years {years} is too many").into())
        })?),
        None => options.days,
    };
    Ok(CredentialSpec {
        subject: subject.to_owned(),
        key_size: options.key_size,
        hash: match options.hash {
            cli::Hash::Sha256 => SignatureHash::Sha256,
            cli::Hash::Sha384 => SignatureHash::Sha384,
            cli::Hash::Sha512 => SignatureHash::Sha512,
        },
        days,
        not_after: options.not_after.clone(),
        pfx: pfx_spec(&options.pfx),
        out: options.out.clone(),
        name: options.name.clone(),
        force: options.force,
        key_file: !options.no_key,
        pem_bundle: options.pfx.pem_bundle,
        max_lifetime: options
            .max_lifetime
            .as_deref()
            .map(keycred::rules::LifetimeLimit::given)
            .transpose()?,
    })
}

/// The PFX the options ask for (`None` with `--no-pfx`), its password generated or from the sources.
pub fn pfx_spec(options: &cli::PfxOptions) -> Option<PfxSpec> {
    (!options.no_pfx).then(|| PfxSpec {
        profile: match options.pfx_profile {
            cli::PfxProfile::Modern => PfxProfile::Modern,
            cli::PfxProfile::Legacy => PfxProfile::Legacy,
        },
        password: if options.generate_password {
            NewPassword::Generate
        } else {
            NewPassword::FromSources
        },
    })
}

/// Loads every file, asking for a PFX password only for PFX files.
pub fn load_all(
    files: &[std::path::PathBuf],
    password: &cli::PasswordArgs,
) -> anyhow::Result<Vec<Loaded>> {
    let passwords = password_sources(password, None);
    files
        .iter()
        .map(|path| Ok(credential::load_file(path, &passwords)?))
        .collect()
}

impl From<cli::Format> for keycred::manifest::ManifestFormat {
    fn from(format: cli::Format) -> Self {
        match format {
            cli::Format::Graph => Self::Graph,
            cli::Format::Legacy => Self::Legacy,
        }
    }
}

/// The environment variable that can carry a bearer token for Key Vault.
pub const VAULT_TOKEN_ENV: &str = "KEYCRED_VAULT_TOKEN";

/// A bearer token for Key Vault: the first line of `file`, else `KEYCRED_VAULT_TOKEN`; never the command line.
pub fn vault_token(file: Option<&std::path::Path>) -> keycred::Result<keycred::secret::Password> {
    match file {
        Some(file) => keycred::input::password_file(file, "--vault-token-file"),
        None => match std::env::var(VAULT_TOKEN_ENV) {
            Ok(token) if !token.trim().is_empty() => Ok(keycred::secret::Password::new(token.trim().to_owned())),
            _ => Err(keycred::Error::Invalid(format!(
                "--key-vault: give a token for the vault with --vault-token-file FILE or {VAULT_TOKEN_ENV} (az \
                 account get-access-token --resource https://vault.azure.net --query accessToken -o tsv)"
            ))),
        },
    }
}

/// The certificate credential the flags name: a file, or a certificate in Key Vault (its token from
/// `--vault-token-file` or `KEYCRED_VAULT_TOKEN`); `authority` tells the vault's cloud.
pub fn credential_source(
    args: &cli::ClientCertArgs,
    authority: &str,
    timeout: std::time::Duration,
) -> anyhow::Result<Option<keycred::workflow::prove::CredentialSource>> {
    if let Some(source) = token_key::source(&args.pkcs11)? {
        return Ok(Some(source));
    }
    if let (Some(vault), Some(named)) = (&args.key_vault, &args.vault_cert) {
        let cloud = keycred::graph::Cloud::of_authority(authority);
        return Ok(Some(vault_source(
            vault,
            named,
            args.vault_token_file.as_deref(),
            cloud,
            timeout,
        )?));
    }
    Ok(certificate_source(
        args.pfx.as_ref(),
        args.key.as_ref(),
        args.cert.as_ref(),
    ))
}

/// A certificate in Key Vault, `named` NAME or NAME/VERSION, its token from `token_file` or the environment.
pub fn vault_source(
    vault: &str,
    named: &str,
    token_file: Option<&std::path::Path>,
    cloud: keycred::graph::Cloud,
    timeout: std::time::Duration,
) -> anyhow::Result<keycred::workflow::prove::CredentialSource> {
    use keycred::workflow::prove::{CredentialSource, VaultSource};
    let (name, version) = match named.split_once('/') {
        Some((name, version)) => (name, Some(version.to_owned())),
        None => (named, None),
    };
    keycred::vault::check_name(name)?;
    let token = vault_token(token_file)?;
    Ok(CredentialSource::KeyVault(Box::new(VaultSource {
        vault: vault.to_owned(),
        name: name.to_owned(),
        version,
        cloud,
        token: std::sync::Arc::new(token),
        timeout,
    })))
}

/// A PFX, or a key with its certificate, as the flags of a command name them.
fn certificate_source(
    pfx: Option<&PathBuf>,
    key: Option<&PathBuf>,
    cert: Option<&PathBuf>,
) -> Option<keycred::workflow::prove::CredentialSource> {
    use keycred::workflow::prove::CredentialSource;
    match (pfx, key, cert) {
        (Some(pfx), _, _) => Some(CredentialSource::Pfx(pfx.clone())),
        (None, Some(key), Some(cert)) => Some(CredentialSource::KeyAndCert {
            key: key.clone(),
            cert: cert.clone(),
        }),
        _ => None,
    }
}

impl From<cli::JwtAlg> for keycred::flow::jwt::Algorithm {
    fn from(alg: cli::JwtAlg) -> Self {
        match alg {
            cli::JwtAlg::Ps256 => Self::Ps256,
            cli::JwtAlg::Rs256 => Self::Rs256,
        }
    }
}

/// The environment variable that can carry a bearer token for Graph.
const TOKEN_ENV: &str = "KEYCRED_GRAPH_TOKEN";

/// The environment variable that can carry a client secret (`token`'s app's, or the automation app's).
const SECRET_ENV: &str = "KEYCRED_CLIENT_SECRET";

/// The one way a token credential is built from flags (`token`, the Graph commands, batch's tenant rows): the
/// certificate when one is named, else the secret from `--client-secret-file`, else from `KEYCRED_CLIENT_SECRET`.
/// `whose` starts the error that none was given ("give the app's credential").
pub fn token_credential(
    certificate: Option<(
        keycred::workflow::prove::CredentialSource,
        keycred::flow::jwt::Algorithm,
    )>,
    secret_file: Option<&std::path::PathBuf>,
    whose: &str,
) -> anyhow::Result<TokenCredential> {
    Ok(match (certificate, secret_file) {
        (Some((source, alg)), _) => TokenCredential::Certificate(source, alg),
        (None, Some(file)) => {
            let secret = keycred::input::password_file(file, "--client-secret-file")?;
            if secret.expose().is_empty() {
                return Err(keycred::Error::Invalid(format!(
                    "the client secret in --client-secret-file {} is empty: put the secret's value in it (the \
                     portal shows it once, when the secret is added), or give the app's certificate instead",
                    file.display()
                ))
                .into());
            }
            TokenCredential::Secret(secret)
        }
        (None, None) => match std::env::var(SECRET_ENV) {
            Ok(secret) if !secret.is_empty() => TokenCredential::Secret(Password::new(secret)),
            _ => {
                return Err(keycred::Error::Invalid(format!(
                    "{whose}: --pfx FILE, --key FILE --cert FILE, --client-secret-file FILE, or set {SECRET_ENV}"
                ))
                .into())
            }
        },
    })
}

impl From<CloudArg> for Cloud {
    fn from(cloud: CloudArg) -> Self {
        match cloud {
            CloudArg::Public => Cloud::Public,
            CloudArg::Usgov => Cloud::UsGov,
            CloudArg::UsgovDod => Cloud::UsGovDod,
            CloudArg::China => Cloud::China,
        }
    }
}

pub fn cloud_of(args: &GraphConnectArgs) -> Cloud {
    args.cloud.into()
}

/// The password source of the automation app's PFX: its own, since in `graph rotate` --password-file is the new
/// PFX's.
pub fn auth_passwords(args: &GraphConnectArgs) -> keycred::input::PasswordSources {
    keycred::input::PasswordSources::from_environment(
        args.auth_password_file.clone(),
        None,
        terminal::password_prompt(),
    )
}

/// The automation app's certificate, as the connection options name it.
pub fn automation_credential(
    args: &GraphConnectArgs,
) -> anyhow::Result<Option<keycred::workflow::prove::CredentialSource>> {
    if let Some(source) = token_key::source(&args.pkcs11)? {
        return Ok(Some(source));
    }
    if let (Some(vault), Some(named)) = (&args.auth_key_vault, &args.auth_vault_cert) {
        let timeout = std::time::Duration::from_secs(args.timeout.clamp(1, 60));
        return Ok(Some(vault_source(
            vault,
            named,
            args.vault_token_file.as_deref(),
            cloud_of(args),
            timeout,
        )?));
    }
    Ok(certificate_source(
        args.pfx.as_ref(),
        args.key.as_ref(),
        args.cert.as_ref(),
    ))
}

/// How the automation app `client_id` signs in: its certificate (PS256) or its secret.
pub fn automation_token_credential(
    args: &GraphConnectArgs,
    client_id: &str,
) -> anyhow::Result<TokenCredential> {
    token_credential(
        automation_credential(args)?.map(|source| (source, keycred::flow::jwt::Algorithm::Ps256)),
        args.client_secret_file.as_ref(),
        &format!("--client-id {client_id}: give the automation app's credential"),
    )
}

/// Where the automation app gets its tokens: `--authority`, else the cloud's login host.
pub fn automation_authority(args: &GraphConnectArgs) -> keycred::Result<Authority> {
    Authority::parse(args.authority.as_deref().unwrap_or(cloud_of(args).login()))
}

/// The Graph client the connection options describe: a token from a file or the environment, or one keycred
/// requests for the automation app.
pub fn graph_connect(
    args: &GraphConnectArgs,
    now: time::OffsetDateTime,
) -> anyhow::Result<keycred::graph::GraphClient> {
    let cloud = cloud_of(args);
    let auth = match (&args.token_file, &args.tenant, &args.client_id) {
        (Some(file), _, _) => GraphAuth::Bearer(keycred::input::password_file(file, "--token-file")?),
        (None, Some(tenant), Some(client_id)) => GraphAuth::App {
            tenant: tenant.clone(),
            client_id: client_id.clone(),
            credential: automation_token_credential(args, client_id)?,
            authority: automation_authority(args)?,
            cache: match args.cache {
                false => None,
                true => Some(keycred::flow::token::default_cache_path().ok_or_else(|| {
                    keycred::Error::Invalid(
                        "--cache: this system has no user cache folder (set XDG_CACHE_HOME)".into(),
                    )
                })?),
            },
        },
        _ => match std::env::var(TOKEN_ENV) {
            Ok(token) if !token.trim().is_empty() => GraphAuth::Bearer(Password::new(token.trim().to_owned())),
            _ => {
                return Err(keycred::Error::Invalid(format!(
                    "how should keycred get its Graph token? give --token-file FILE (for example from az account \
                     get-access-token --resource-type ms-graph), set {TOKEN_ENV}, or give --tenant and --client-id \
                     with the automation app's --pfx, --key and --cert, or --client-secret-file"
                ))
                .into())
            }
        },
    };
    let passwords = auth_passwords(args);
    Ok(tenant::connect(
        GraphConnection {
            graph_url: args
                .graph_url
                .clone()
                .unwrap_or_else(|| cloud.graph().to_owned()),
            auth,
            timeout: std::time::Duration::from_secs(args.timeout.max(1)),
            max_retries: args.max_retries,
            budget: args.budget,
            budget_record: keycred::workflow::budget_record::default_dir(),
        },
        &passwords,
        now,
    )?)
}

/// What a vault made (`new --key-vault`, `import --key-vault`), printed.
pub fn print_vault_made(made: &keycred::workflow::vault_new::VaultMade, json: bool) {
    if json {
        terminal::print_json(&keycred::report::vault::vault_new_json(made));
    } else {
        terminal::print(&keycred::report::vault::vault_new_text(made));
    }
}
