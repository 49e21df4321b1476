//! The command line, declared with clap. Raw data only: `commands::*` validates it into library requests.
//! Help text lives in the doc comments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Prepare and prove certificate credentials for Microsoft Entra ID app registrations.
///
/// keycred makes RSA keys and self-signed certificates, exports them as CER, PEM, PKCS#8 and PFX, computes
/// every thumbprint form, and writes the keyCredentials manifest fragments that Entra ID and Microsoft Graph
/// expect.
#[derive(Debug, Parser)]
#[command(
    name = "keycred",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Exit codes: 0 success, 1 failure, 2 usage error, 3 renewal due, 4 expired, 130 cancelled."
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// keycred's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an RSA key and a self-signed certificate, with CER, PEM, key, PFX and keyCredentials files.
    New(NewArgs),
    /// Show what a certificate or PFX holds: subject, validity, key, thumbprints, expiry.
    Inspect(InspectArgs),
    /// Print certificate thumbprints (SHA-1 hex, base64, x5t, SHA-256 hex, x5t#S256).
    Thumbprint(ThumbprintArgs),
    /// Emit app-registration manifest fragments.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// List the built-in app-role templates.
    Templates(TemplatesArgs),
    /// Report credential expiry in manifests or certificates; the exit code says whether renewal is due.
    Check(CheckArgs),
    /// Add a new certificate credential to a manifest beside the current one; prune what the policy says.
    Rotate(Box<RotateArgs>),
    /// Be walked through a credential, app roles or a rotation interactively (needs a terminal).
    #[command(
        after_help = "Nothing is written before you confirm the summary; Esc or Ctrl-C cancels (exit 130). It ends by printing the same run as commands.\n\nExample:\n  keycred wizard"
    )]
    Wizard,
    /// Provision or rotate many app registrations from a plan file, in parallel.
    Batch(BatchArgs),
    /// Microsoft Graph request bodies an app can send itself to add or remove its certificates.
    #[command(subcommand)]
    Graph(GraphCommand),
    /// Sign a client assertion (the JWT an app sends instead of a secret) with a certificate credential.
    Assertion(AssertionArgs),
    /// Request an app-only access token (client credentials flow) with a certificate or a secret.
    Token(Box<TokenArgs>),
    /// Show what a JWT says, and check it as an API would: signature, expiry, audience, issuer, roles.
    Decode(DecodeArgs),
    /// Print what the daemon that uses the credential needs: environment variables, a library snippet, appsettings.
    Config(Box<ConfigArgs>),
    /// Print the token checks an API makes: an API Management validate-jwt policy, or rules for any middleware.
    ApiPolicy(ApiPolicyArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Example:\n  keycred completions bash > ~/.local/share/bash-completion/completions/keycred"
    )]
    Completions(CompletionsArgs),
    /// Print keycred's man page (roff).
    #[command(after_help = "Example:\n  keycred man > ~/.local/share/man/man1/keycred.1")]
    Man,
}

/// `keycred config`
#[derive(Debug, Args)]
#[command(
    after_help = "Each target reads the credential differently: env, azure-identity and az need one file with the key and the certificate (--bundle from keycred new --pem-bundle; env and azure-identity also take --pfx); msal-python takes --pfx, --bundle or --key with --cert; msal-node takes --key or --bundle; microsoft-identity-web and msal-dotnet load a PFX (--source path), a Key Vault certificate or a store certificate. Thumbprints are computed from the certificate. A PFX password is never printed: the output names the environment variable that carries it (AZURE_CLIENT_CERTIFICATE_PASSWORD). Paths are the files' absolute paths here, or, with --deploy-dir, their names in the folder they will have where the daemon runs.\n\nExamples:\n  keycred config --for env --tenant contoso.onmicrosoft.com \\\n    --client-id 11111111-2222-3333-4444-555555555555 --bundle certs/daemon.bundle.pem\n  keycred config --for msal-node --tenant TENANT --client-id CLIENT \\\n    --cert certs/daemon.pem --key certs/daemon.key --scope api://contoso-orders/.default"
)]
pub struct ConfigArgs {
    /// The library or tool the daemon uses.
    #[arg(long = "for", value_enum, value_name = "TARGET")]
    pub target: ConfigTarget,

    /// Directory (tenant) id or domain.
    #[arg(long, value_name = "TENANT")]
    pub tenant: String,

    /// The app's Application (client) ID.
    #[arg(long, value_name = "CLIENT_ID")]
    pub client_id: String,

    /// The PFX the daemon reads (key and certificate).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "key", "bundle"])]
    pub pfx: Option<PathBuf>,

    /// The registered certificate (DER or PEM).
    #[arg(long, value_name = "FILE", required_unless_present_any = ["pfx", "bundle"])]
    pub cert: Option<PathBuf>,

    /// The PEM bundle the daemon reads: private key and certificate (keycred new --pem-bundle).
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// The PKCS#8 PEM private key the daemon reads (keycred's NAME.key); with --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,

    /// The scope the snippets request a token for.
    #[arg(
        long,
        value_name = "SCOPE",
        default_value = "https://graph.microsoft.com/.default"
    )]
    pub scope: String,

    #[command(flatten)]
    pub authority: AuthorityArg,

    /// Name the certificate by its SHA-256 thumbprint (PS256 assertions) or SHA-1 (RS256; ADFS, old MSAL).
    #[arg(long, value_enum, default_value_t = ThumbprintKind::Sha256)]
    pub thumbprint: ThumbprintKind,

    /// microsoft-identity-web / msal-dotnet: where the app loads the certificate from.
    #[arg(long, value_enum, default_value_t = DotnetSourceKind::Path)]
    pub source: DotnetSourceKind,

    /// With --source keyvault: the vault (https://NAME.vault.azure.net).
    #[arg(long, value_name = "URL", required_if_eq("source", "keyvault"))]
    pub key_vault_url: Option<String>,

    /// With --source keyvault: the certificate's name in the vault.
    #[arg(long, value_name = "NAME", required_if_eq("source", "keyvault"))]
    pub key_vault_cert_name: Option<String>,

    /// With --source store: the store (CurrentUser/My or LocalMachine/My).
    #[arg(long, value_name = "STORE", default_value = "CurrentUser/My")]
    pub store: String,

    /// The folder the files will be in on the machine that runs the daemon (default: where they are now).
    #[arg(long, value_name = "DIR")]
    pub deploy_dir: Option<String>,

    /// Write the configuration to this file instead of standard output (never over a file without --force).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace --out if it exists.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Print target, language, content and notes as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `keycred api-policy`
#[derive(Debug, Args)]
#[command(
    after_help = "The issuers follow the token version Entra issues for the API: v1 tokens (the registration's default, requestedAccessTokenVersion null or 1) come from https://sts.windows.net/{tenant}/, v2 tokens from https://login.microsoftonline.com/{tenant}/v2.0. With --manifest the version, and the audiences when --audience is not given (identifierUris for v1, appId for v2), come from the API's registration, and every --role must be one of its application roles. --format apim prints a whole <policies> document: to add the check to an existing policy, copy its <validate-jwt> element into <inbound>. --format json prints the same rules and the keycred decode command line that applies them.\n\nExamples:\n  keycred api-policy --tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 --manifest orders-api.json --role Orders.Read\n  keycred api-policy --tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 --audience api://contoso-orders \\\n    --token-version 1 --role Orders.Read --format json"
)]
pub struct ApiPolicyArgs {
    /// The directory (tenant) ID, a GUID: issuers name the tenant by its id.
    #[arg(long, value_name = "TENANT_ID")]
    pub tenant: String,

    /// An audience the API accepts (its App ID URI for v1 tokens, its client id for v2); repeat for more.
    #[arg(long, value_name = "AUD")]
    pub audience: Vec<String>,

    /// An application role of which a token must carry at least one; repeat for more.
    #[arg(long, value_name = "ROLE")]
    pub role: Vec<String>,

    /// The access-token versions the API accepts (required without --manifest).
    #[arg(long, value_enum)]
    pub token_version: Option<TokenVersionArg>,

    /// The API's app manifest (Graph or legacy format): its token version, audiences and roles.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,

    /// What to print.
    #[arg(long, value_enum, default_value_t = PolicyFormat::Apim)]
    pub format: PolicyFormat,

    #[command(flatten)]
    pub authority: AuthorityArg,

    /// Write to this file instead of standard output (never over a file without --force).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace --out if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Access-token versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenVersionArg {
    /// v1.0 tokens (issuer https://sts.windows.net/{tenant}/).
    #[value(name = "1")]
    V1,
    /// v2.0 tokens (issuer https://login.microsoftonline.com/{tenant}/v2.0).
    #[value(name = "2")]
    V2,
    /// Both, while the API moves from one to the other.
    Both,
}

/// What `keycred api-policy` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyFormat {
    /// Azure API Management policy XML with validate-jwt.
    Apim,
    /// Issuers, audiences, JWKS URL and roles as JSON, with the matching keycred decode command.
    Json,
}

/// What `keycred config` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConfigTarget {
    /// azure-identity's environment variables (EnvironmentCredential, DefaultAzureCredential).
    Env,
    /// Python: azure-identity's CertificateCredential.
    AzureIdentity,
    /// Python: MSAL's ConfidentialClientApplication.
    MsalPython,
    /// JavaScript: @azure/msal-node's ConfidentialClientApplication.
    MsalNode,
    /// appsettings.json AzureAd section (Microsoft.Identity.Web credential descriptions).
    MsalDotnet,
    /// appsettings.json AzureAd section for Microsoft.Identity.Web.
    MicrosoftIdentityWeb,
    /// The az login --service-principal command line.
    Az,
}

/// Which thumbprint names the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ThumbprintKind {
    /// SHA-256 (x5t#S256).
    Sha256,
    /// SHA-1 (x5t).
    Sha1,
}

/// Where a .NET app loads its certificate from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DotnetSourceKind {
    /// The PFX on disk.
    Path,
    /// A Key Vault certificate.
    Keyvault,
    /// The Windows certificate store, by thumbprint.
    Store,
}

/// Where tokens come from.
#[derive(Debug, Args, Clone)]
pub struct AuthorityArg {
    /// Authority: Entra's, a sovereign cloud's (https://login.microsoftonline.us, https://login.chinacloudapi.cn, …), or a local test server on http://127.0.0.1.
    #[arg(
        long = "authority",
        value_name = "URL",
        default_value = "https://login.microsoftonline.com"
    )]
    pub url: String,
}

/// `keycred completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The certificate credential that signs: a PFX, or a key and its certificate.
#[derive(Debug, Args, Clone)]
pub struct ClientCertArgs {
    /// PFX with the app's registered certificate and its key.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "cert"])]
    pub pfx: Option<std::path::PathBuf>,

    /// The private key, PKCS#8 PEM (keycred's NAME.key); with --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<std::path::PathBuf>,

    /// The registered certificate (DER or PEM); with --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub password: PasswordArgs,
}

/// JWS algorithm of a client assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwtAlg {
    /// RSASSA-PSS SHA-256, header x5t#S256 (what MSAL sends to Entra today).
    #[value(name = "PS256", alias = "ps256")]
    Ps256,
    /// RSASSA-PKCS1-v1_5 SHA-256, header x5t (SHA-1 thumbprint).
    #[value(name = "RS256", alias = "rs256")]
    Rs256,
}

/// `keycred assertion`
#[derive(Debug, Args)]
#[command(
    after_help = "The assertion goes to standard output as one line; --json adds its header and claims. PFX password: --password-file, KEYCRED_PFX_PASSWORD, or a prompt on a terminal.\n\nExample:\n  keycred assertion --tenant contoso.onmicrosoft.com \\\n    --client-id 11111111-2222-3333-4444-555555555555 \\\n    --pfx daemon.pfx --password-file daemon.pfx.password"
)]
pub struct AssertionArgs {
    /// Directory (tenant) id or domain.
    #[arg(long, value_name = "TENANT")]
    pub tenant: String,

    /// The app's Application (client) ID.
    #[arg(long, value_name = "CLIENT_ID")]
    pub client_id: String,

    #[command(flatten)]
    pub credential: ClientCertArgs,

    /// Signature algorithm.
    #[arg(long, value_enum, default_value_t = JwtAlg::Ps256)]
    pub alg: JwtAlg,

    /// Seconds the assertion is valid (at most 600).
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub lifetime: i64,

    #[command(flatten)]
    pub authority: AuthorityArg,

    /// Print header, claims and token as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `keycred token`
#[derive(Debug, Args)]
#[command(
    after_help = "The access token goes to standard output. A client secret comes from --client-secret-file or KEYCRED_CLIENT_SECRET, never the command line. --cache keeps tokens in the user's cache folder ($XDG_CACHE_HOME/keycred/tokens.json on Linux), owner-only, keyed by authority, tenant, client id, scope and credential, and reuses one until 5 minutes before it expires.\n\nExample:\n  keycred token --tenant contoso.onmicrosoft.com \\\n    --client-id 11111111-2222-3333-4444-555555555555 \\\n    --scope api://contoso-orders/.default \\\n    --pfx daemon.pfx --password-file daemon.pfx.password"
)]
pub struct TokenArgs {
    /// Directory (tenant) id or domain.
    #[arg(long, value_name = "TENANT")]
    pub tenant: String,

    /// The app's Application (client) ID.
    #[arg(long, value_name = "CLIENT_ID")]
    pub client_id: String,

    /// The resource's .default scope (api://…/.default, https://graph.microsoft.com/.default).
    #[arg(long, value_name = "SCOPE")]
    pub scope: String,

    #[command(flatten)]
    pub credential: ClientCertArgs,

    /// Read a client secret from the first line of this file (instead of a certificate).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["pfx", "key", "cert"])]
    pub client_secret_file: Option<std::path::PathBuf>,

    /// Assertion signature algorithm.
    #[arg(long, value_enum, default_value_t = JwtAlg::Ps256)]
    pub alg: JwtAlg,

    #[command(flatten)]
    pub authority: AuthorityArg,

    /// Reuse a cached token valid for more than 5 minutes; store new ones.
    #[arg(long)]
    pub cache: bool,

    /// Seconds to wait for the token endpoint.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,

    /// Print access_token, token_type, expires_in, expires_on and fromCache as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `keycred decode`
#[derive(Debug, Args)]
#[command(
    after_help = "Exit code 1 when a check fails, naming the claim (expired, audience, issuer, signature, missing role). Without --verify-cert or --jwks nothing is verified: the token is only shown.\n\nExample:\n  keycred token … | keycred decode - \\\n    --jwks https://login.microsoftonline.com/contoso.onmicrosoft.com/discovery/v2.0/keys \\\n    --audience api://contoso-orders --require-role Orders.Read"
)]
pub struct DecodeArgs {
    /// The JWT, or - to read it from standard input.
    #[arg(value_name = "TOKEN")]
    pub token: String,

    /// Verify the signature with this certificate (DER, PEM or PFX).
    #[arg(long, value_name = "FILE", conflicts_with = "jwks")]
    pub verify_cert: Option<std::path::PathBuf>,

    /// Verify the signature with a JWKS file or URL (https://…/discovery/v2.0/keys).
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: Option<String>,

    /// An audience the API accepts (aud); repeat to accept any of several.
    #[arg(long, value_name = "AUD")]
    pub audience: Vec<String>,

    /// An issuer the API accepts (iss); repeat to accept any of several (v1 and v2).
    #[arg(long, value_name = "ISS")]
    pub issuer: Vec<String>,

    /// A role the token must carry; repeat for more (all are required).
    #[arg(long, value_name = "ROLE")]
    pub require_role: Vec<String>,

    /// A role of which the token must carry at least one; repeat to list them (API Management's match="any").
    #[arg(long, value_name = "ROLE")]
    pub require_any_role: Vec<String>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Seconds to wait for a JWKS URL.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `keycred check`
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 healthy, 3 renewal due (the newest valid credential ends within --warn-days), 4 no credential is valid now, 1 an input could not be read or is invalid (a repeated keyId), 2 usage. With several inputs the worst verdict wins. Expired leftovers beside a valid credential are listed as prunable but do not change the verdict.\n\nExamples:\n  keycred check app.json\n  keycred check --warn-days 45 --json manifests/*.json"
)]
pub struct CheckArgs {
    /// App manifests (Graph or legacy format) or certificate files (DER, PEM, PFX).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Renewal is due when the newest valid credential ends within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: u32,

    /// Manifest shape, when a manifest does not show it (e.g. no credentials yet).
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Print JSON for monitoring systems.
    #[arg(long)]
    pub json: bool,
}

/// `keycred manifest …`
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// The keyCredentials fragment for existing certificates (from openssl, Key Vault, anything).
    KeyCredentials(KeyCredentialsArgs),
    /// The appRoles fragment of a resource (API) app, and the client app's requiredResourceAccess.
    AppRoles(Box<AppRolesArgs>),
    /// Grant the API's application roles to the client app: merge them into its manifest's requiredResourceAccess.
    Grant(GrantArgs),
}

/// `keycred manifest grant`
#[derive(Debug, Args)]
#[command(
    group(clap::ArgGroup::new("output").required(true).args(["in_place", "manifest_out", "dry_run"])),
    after_help = "The role ids come from the API's manifest. The client's other requiredResourceAccess entries (Microsoft Graph, other APIs), its certificates and every other field stay as they were. Then grant admin consent (portal: the client app > API permissions > Grant admin consent): until then the token has no roles.\n\nExamples:\n  keycred manifest grant --api api.json --client client.json --in-place\n  keycred manifest grant --api api.json --client client.json \\\n    --role Orders.Read --manifest-out client.granted.json"
)]
pub struct GrantArgs {
    /// The API (resource) app's manifest, either format: its appId and appRoles.
    #[arg(long, value_name = "API.json")]
    pub api: PathBuf,

    /// The client (daemon) app's manifest, either format.
    #[arg(long, value_name = "CLIENT.json")]
    pub client: PathBuf,

    /// The value of a role to grant (repeat for more); default: every enabled role the API offers to
    /// applications.
    #[arg(long = "role", value_name = "VALUE")]
    pub roles: Vec<String>,

    /// Write the merged manifest back to CLIENT.json (under a lock), keeping the original as CLIENT.json.bak (or
    /// .bak.N).
    #[arg(long, conflicts_with = "manifest_out")]
    pub in_place: bool,

    /// Write the merged manifest to FILE (atomically) instead.
    #[arg(long, value_name = "FILE")]
    pub manifest_out: Option<PathBuf>,

    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Replace --manifest-out FILE if it exists.
    #[arg(long, requires = "manifest_out")]
    pub force: bool,

    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `keycred batch`
#[derive(Debug, Args)]
#[command(
    after_help = "The plan (TOML) has a [defaults] table and one [[app]] table per app with name, subject, and optionally manifest (rotate it in place, keeping a backup) and any of out, days, not_after, key_size, hash, pfx_profile, format, renew_within (default 30), prune_expired, keep, no_pfx. Files go to OUT/NAME/. Apps whose credential is not due are skipped, so re-running a finished plan changes nothing. Exit code 1 if any app failed; 130/143 when interrupted.\n\nA plan:\n  [defaults]\n  out = \"certs\"\n  renew_within = 30\n\n  [[app]]\n  name = \"orders\"\n  subject = \"CN=Orders Daemon\"\n  manifest = \"manifests/orders.json\"\n\nExample:\n  keycred batch plan.toml --generate-password --report report.json"
)]
pub struct BatchArgs {
    /// The plan file.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,

    /// How many apps to work on at once (default: the number of cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    /// Write a JSON report of every app's result to FILE, replacing an earlier run's report (atomically); a FILE
    /// that is not a keycred report is never replaced.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Read the PFX password (shared by all apps) from the first line of this file.
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<PathBuf>,

    /// Give each app its own random PFX password, written to OUT/NAME/NAME.pfx.password.
    #[arg(long, conflicts_with = "password_file")]
    pub generate_password: bool,

    /// No longer needed: an earlier report is always replaced (kept so that existing scripts still run).
    #[arg(long, requires = "report", hide = true)]
    pub force: bool,

    /// Print the report (every app's result, the counts) as JSON on standard output instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `keycred graph …`
#[derive(Debug, Subcommand)]
pub enum GraphCommand {
    /// The POST /applications/{id}/addKey body: adds NEW beside the current credential, proven with the current key.
    AddKey(AddKeyArgs),
    /// The POST /applications/{id}/removeKey body: removes a credential by keyId, proven with the current key.
    RemoveKey(RemoveKeyArgs),
}

/// What every Graph proof needs.
#[derive(Debug, Args)]
pub struct ProofArgs {
    /// The application's object id (not its appId / client id).
    #[arg(long, value_name = "GUID")]
    pub object_id: String,

    /// PFX with the app's current certificate and key, which sign the proof.
    #[arg(long, value_name = "PFX")]
    pub current_pfx: PathBuf,

    /// Read the current PFX's password from the first line of this file (else KEYCRED_CURRENT_PFX_PASSWORD, else
    /// the --password-file / KEYCRED_PFX_PASSWORD source, else a prompt).
    #[arg(long, value_name = "PATH")]
    pub current_password_file: Option<PathBuf>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Write the body to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace --out if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// `keycred graph add-key`
#[derive(Debug, Args)]
#[command(
    after_help = "Send the body, within 10 minutes, as POST https://graph.microsoft.com/v1.0/applications/{object-id}/addKey with a Microsoft Graph token the app itself gets with its current certificate (keycred token --scope https://graph.microsoft.com/.default --pfx current.pfx ...).\n\nExample:\n  keycred graph add-key --object-id 2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c10 \\\n    --current-pfx current.pfx --cert next.cer --out addkey.json"
)]
pub struct AddKeyArgs {
    #[command(flatten)]
    pub proof: ProofArgs,

    /// The new certificate (DER, PEM, or PFX).
    #[arg(long, value_name = "CERT")]
    pub cert: PathBuf,
}

/// `keycred graph remove-key`
#[derive(Debug, Args)]
#[command(
    after_help = "Send the body, within 10 minutes, as POST https://graph.microsoft.com/v1.0/applications/{object-id}/removeKey with a Microsoft Graph token the app itself gets with its current certificate.\n\nExample:\n  keycred graph remove-key --object-id 2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c10 \\\n    --current-pfx current.pfx --key-id 8e2a5c1d-2b3f-4a6e-9c8d-7f6e5d4c3b2a"
)]
pub struct RemoveKeyArgs {
    #[command(flatten)]
    pub proof: ProofArgs,

    /// keyId of the credential to remove.
    #[arg(long, value_name = "GUID")]
    pub key_id: String,
}

/// `keycred templates`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  keycred templates\n  keycred manifest app-roles --template read-write"
)]
pub struct TemplatesArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `keycred manifest app-roles`
#[derive(Debug, Args)]
#[command(
    after_help = "Roles come from --template/--template-file, --roles-file and --role, in that order. --display-name, --description and --member-types describe the --role they follow. Without them keycred derives a display name (Resource.Read -> \"Resource Read\") and a description (\"Grants applications the Resource.Read role.\").\n\nExamples:\n  keycred manifest app-roles --template read-write \\\n    --stable-ids api://contoso-orders\n  keycred manifest app-roles \\\n    --role 'Orders.Read:Read orders:Allow the app to read orders.' \\\n    --role Orders.Admin --member-types both\n  keycred manifest app-roles --template read-write --client-app \\\n    --resource-app-id 11111111-2222-3333-4444-555555555555\n  keycred manifest app-roles --merge app.json --role Orders.Write --in-place"
)]
pub struct AppRolesArgs {
    /// A role: VALUE, or VALUE:DISPLAY NAME:DESCRIPTION (VALUE ends at the first ':'; a value containing ':' needs --roles-file). Repeat for more roles.
    #[arg(long = "role", value_name = "SPEC")]
    pub roles: Vec<String>,

    /// Display name of the --role it follows.
    #[arg(long, value_name = "TEXT")]
    pub display_name: Vec<String>,

    /// Description of the --role it follows.
    #[arg(long, value_name = "TEXT")]
    pub description: Vec<String>,

    /// Who can hold the --role it follows (default: application).
    #[arg(long, value_enum)]
    pub member_types: Vec<MemberTypes>,

    /// Roles from a file: JSON (an array of appRole objects) or TOML ([[role]] tables).
    #[arg(long, value_name = "FILE")]
    pub roles_file: Option<PathBuf>,

    /// Roles from a built-in template (see `keycred templates`).
    #[arg(long, value_name = "NAME", conflicts_with = "template_file")]
    pub template: Option<String>,

    /// Roles from your own template file (TOML, the shape of templates/*.toml).
    #[arg(long, value_name = "FILE")]
    pub template_file: Option<PathBuf>,

    /// Derive role ids (UUID v5) from NAMESPACE and each value, so reruns give the same ids. NAMESPACE: a UUID (e.g. the app's appId) or any text.
    #[arg(long, value_name = "NAMESPACE")]
    pub stable_ids: Option<String>,

    /// Manifest shape; with --merge, detected from the file.
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Print only the properties, for pasting into the manifest editor.
    #[arg(long, conflicts_with = "merge")]
    pub fragment: bool,

    /// Also emit the client app's requiredResourceAccess for these roles.
    #[arg(long, requires = "resource_app_id")]
    pub client_app: bool,

    /// The resource app's appId (client id), for --client-app.
    #[arg(long, value_name = "GUID", requires = "client_app")]
    pub resource_app_id: Option<String>,

    /// Add this identifier URI (api://… or https://…) and ask for v2 access tokens.
    #[arg(long, value_name = "URI")]
    pub identifier_uri: Option<String>,

    /// Merge into this app manifest (Graph or legacy format): same-value roles keep their ids, every other field is kept.
    #[arg(long, value_name = "MANIFEST")]
    pub merge: Option<PathBuf>,

    /// Set isEnabled: false on this role of the merged manifest (the step before removing it).
    #[arg(long, value_name = "VALUE", requires = "merge")]
    pub disable: Vec<String>,

    /// Remove this role from the merged manifest; it must already be disabled there.
    #[arg(long, value_name = "VALUE", requires = "merge")]
    pub remove: Vec<String>,

    /// Write the resource app's output to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Write the merged manifest back to MANIFEST (under a lock), keeping the original as MANIFEST.bak (or
    /// MANIFEST.bak.N when earlier backups exist).
    #[arg(long, requires = "merge", conflicts_with = "out")]
    pub in_place: bool,

    /// Write the client app's requiredResourceAccess to FILE.
    #[arg(long, value_name = "FILE", requires = "client_app")]
    pub client_out: Option<PathBuf>,

    /// Replace --out / --client-out if they exist.
    #[arg(long)]
    pub force: bool,
}

/// Who can hold a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MemberTypes {
    /// Applications (application permission; the client credentials flow).
    Application,
    /// Users and groups.
    User,
    /// Both.
    Both,
}

/// Where a PFX password comes from. Never from the command line itself: argv is visible to every user.
#[derive(Debug, Args, Clone)]
pub struct PasswordArgs {
    /// Read the PFX password from the first line of this file.
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<PathBuf>,
}

/// `keycred new`
#[derive(Debug, Args)]
#[command(
    after_help = "PFX password sources, in order: --password-file, --generate-password, the environment variable KEYCRED_PFX_PASSWORD, a hidden prompt (on a terminal). Use --no-pfx to skip the PFX.\n\nExample:\n  keycred new --subject 'CN=Contoso Daemon,O=Contoso' \\\n    --out certs --name daemon --generate-password"
)]
pub struct NewArgs {
    /// Certificate subject: a name ("Contoso Daemon", becomes CN=Contoso Daemon) or a DN ("CN=Contoso Daemon,O=Contoso").
    #[arg(long, short = 's')]
    pub subject: String,

    #[command(flatten)]
    pub credential: CredentialOptions,

    /// Shape of the keyCredentials fragment.
    #[arg(long, value_enum, default_value_t = Format::Graph)]
    pub format: Format,

    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
}

/// How a new certificate credential is made and written: shared by `new`, `rotate` and `batch`.
#[derive(Debug, Args, Clone)]
pub struct CredentialOptions {
    /// Folder to write the files into; created (owner-only) if it does not exist.
    #[arg(long, short = 'o', value_name = "DIR", default_value = ".")]
    pub out: PathBuf,

    /// Base name of the files (NAME.cer, NAME.pem, NAME.key, NAME.pfx, NAME.keycredentials.json); default: derived from the CN.
    #[arg(long, short = 'n')]
    pub name: Option<String>,

    /// Validity in days from now (minus 5 minutes for clock skew); default 365, which Microsoft recommends as the
    /// most.
    #[arg(long, value_name = "N", conflicts_with_all = ["not_after", "years"])]
    pub days: Option<u32>,

    /// Validity in years (N x 365 days).
    #[arg(long, value_name = "N", conflicts_with = "not_after")]
    pub years: Option<u32>,

    /// End of validity: YYYY-MM-DD (through the end of that day, UTC), RFC 3339, or a duration from now such as
    /// 90d or 2160h. Also accepted as --end-date (az).
    #[arg(long, value_name = "DATE", alias = "end-date")]
    pub not_after: Option<String>,

    /// Not a keycred option: the PFX is NAME.pfx in --out (hidden; named here to explain that).
    #[arg(long, value_name = "PATH", hide = true)]
    pub out_pfx: Option<PathBuf>,

    /// RSA key size in bits: 2048, 3072 or 4096.
    #[arg(long, value_name = "BITS", default_value_t = 2048)]
    pub key_size: u32,

    /// Hash of the certificate's RSA signature.
    #[arg(long, value_enum, default_value_t = Hash::Sha256)]
    pub hash: Hash,

    /// PFX encryption: modern (AES-256, opens in OpenSSL 3) or legacy (3DES, for Windows Server 2016 and older).
    #[arg(long, value_enum, default_value_t = PfxProfile::Modern)]
    pub pfx_profile: PfxProfile,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Generate a random PFX password and write it to NAME.pfx.password (owner-only).
    #[arg(long, conflicts_with = "password_file")]
    pub generate_password: bool,

    /// Do not write a PFX (no password is needed then).
    #[arg(long, conflicts_with_all = ["password_file", "generate_password"])]
    pub no_pfx: bool,

    /// Also write NAME.bundle.pem: private key and certificate in one PEM (owner-only), as azure-identity's
    /// CertificateCredential and az login --service-principal --certificate take them.
    #[arg(long)]
    pub pem_bundle: bool,

    /// Do not write NAME.key: the private key is then only in the (encrypted) PFX (so not with --no-pfx).
    #[arg(long)]
    pub no_key: bool,

    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
}

/// `keycred rotate`
#[derive(Debug, Args)]
#[command(
    after_help = "The new credential is added beside the current one; nothing else in the manifest changes. Its files are named NAME-YYYYMMDD after the certificate's start date (NAME from --name, else the CN; -2, -3, ... when that name is taken), so they never replace the current credential's files. Without --in-place or --manifest-out the updated manifest goes to standard output and the summary to standard error.\n\nExamples:\n  keycred rotate --manifest app.json --subject 'CN=Orders Daemon' \\\n    --out certs --generate-password --prune-expired --in-place\n  keycred rotate --manifest app.json --cert next.cer --in-place\n  keycred rotate --manifest app.json \\\n    --remove-key-id 00000000-0000-0000-0000-000000000000 --in-place"
)]
pub struct RotateArgs {
    /// The app manifest (Graph or legacy format) to add the new credential to.
    #[arg(long, value_name = "MANIFEST")]
    pub manifest: PathBuf,

    /// Subject of the new certificate (as for `new`); default: the subject of the manifest's newest credential.
    #[arg(long, short = 's', conflicts_with = "cert")]
    pub subject: Option<String>,

    /// Rotate in a certificate made elsewhere instead of making one. It is added whenever the manifest does not
    /// hold it yet: the renewal window only decides whether keycred makes a certificate.
    #[arg(long, value_name = "CERT")]
    pub cert: Option<PathBuf>,

    /// The manifest's format, when its fields cannot tell (a manifest with id and appId is the Graph format).
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Remove the credential with this keyId (as az ad app credential delete --key-id does); repeat for more.
    /// A still-valid one is removed with a warning; the app's last valid credential never is. Alone (without
    /// --subject or --cert) it only removes.
    #[arg(long, value_name = "GUID")]
    pub remove_key_id: Vec<String>,

    #[command(flatten)]
    pub credential: CredentialOptions,

    /// Only rotate when the newest valid credential ends within DAYS (otherwise report "not due" and change
    /// nothing), so a scheduled run adds a credential only when one is due.
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 30,
        conflicts_with = "force_renewal"
    )]
    pub renew_within: u32,

    /// Add the new credential even when the current one is not due (an early, deliberate rotation).
    #[arg(long)]
    pub force_renewal: bool,

    /// Remove credentials that have expired.
    #[arg(long)]
    pub prune_expired: bool,

    /// Keep at most N credentials, the new one included; the earliest-ending go first.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,

    /// Write the updated manifest here (atomically).
    #[arg(long, value_name = "FILE", conflicts_with = "in_place")]
    pub manifest_out: Option<PathBuf>,

    /// Replace MANIFEST (atomically, under a lock), keeping the original as MANIFEST.bak (or MANIFEST.bak.N when
    /// earlier backups exist).
    #[arg(long)]
    pub in_place: bool,

    /// Also write the Graph PATCH /applications/{id} body: the whole keyCredentials collection to keep.
    #[arg(long, value_name = "FILE")]
    pub patch_out: Option<PathBuf>,

    /// Also write the Graph addKey body for the new certificate (the route that keeps credentials whose key Graph
    /// does not return), proven with --current-pfx, to FILE.
    #[arg(long, value_name = "FILE", requires_all = ["object_id", "current_pfx"])]
    pub add_key_proof: Option<PathBuf>,

    /// The application's object id, for --add-key-proof.
    #[arg(long, value_name = "GUID", requires = "add_key_proof")]
    pub object_id: Option<String>,

    /// PFX with the app's current certificate and key, which sign the addKey proof.
    #[arg(long, value_name = "PFX", requires = "add_key_proof")]
    pub current_pfx: Option<PathBuf>,

    /// Read the current PFX's password from the first line of this file (else KEYCRED_CURRENT_PFX_PASSWORD, else
    /// the --password-file / KEYCRED_PFX_PASSWORD source, else a prompt).
    #[arg(long, value_name = "PATH", requires = "current_pfx")]
    pub current_password_file: Option<PathBuf>,

    /// When the manifest repeats a keyId (which Entra rejects), give each later credential with it a new keyId
    /// instead of refusing.
    #[arg(long)]
    pub repair_key_ids: bool,

    /// Show the plan and the keyCredentials diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print a JSON summary (needs --in-place, --manifest-out or --dry-run, so that stdout holds only JSON).
    #[arg(long)]
    pub json: bool,
}

/// `keycred inspect`
#[derive(Debug, Args)]
#[command(
    after_help = "Reads DER and PEM certificates (single or bundles) and PFX files made by any tool; the content decides, not the name.\n\nExamples:\n  keycred inspect certs/daemon.cer\n  keycred inspect daemon.pfx --password-file daemon.pfx.password --json"
)]
pub struct InspectArgs {
    /// Certificates (DER or PEM, single or bundle) and PFX files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `keycred thumbprint`
#[derive(Debug, Args)]
#[command(
    after_help = "Forms: hex (sha1), base64 (sha1Base64), x5t, sha256-hex (sha256), x5t-s256 (x5t#S256).\n\nExamples:\n  keycred thumbprint certs/daemon.cer\n  keycred thumbprint --form x5t certs/daemon.cer"
)]
pub struct ThumbprintArgs {
    /// Certificates (DER or PEM, single or bundle) and PFX files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Print only this form; without it every form is printed, labelled.
    #[arg(long, short = 'f', value_enum)]
    pub form: Option<Form>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `keycred manifest key-credentials`
#[derive(Debug, Args)]
#[command(
    after_help = "Add the entries beside the app's existing keyCredentials, never over them: keycred rotate --cert CERT --manifest app.json does it safely.\n\nExamples:\n  keycred manifest key-credentials certs/daemon.cer\n  keycred manifest key-credentials --fragment \\\n    --format legacy certs/daemon.pem"
)]
pub struct KeyCredentialsArgs {
    /// Certificates (DER or PEM; every certificate in a bundle gets an entry) or PFX files.
    #[arg(required = true, value_name = "CERT")]
    pub certs: Vec<PathBuf>,

    /// Shape of the fragment.
    #[arg(long, value_enum, default_value_t = Format::Graph)]
    pub format: Format,

    /// Print only the "keyCredentials": [...] property, for the manifest editor: add its entries beside the
    /// existing ones (pasted over them, it removes the app's current certificates; `keycred rotate --cert CERT
    /// --manifest app.json` adds them safely).
    #[arg(long)]
    pub fragment: bool,

    /// Write to this file (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace --out if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,

    /// Emit entries for certificates that have expired (Entra refuses to add them; useful only for records).
    #[arg(long)]
    pub allow_expired: bool,

    #[command(flatten)]
    pub password: PasswordArgs,
}

/// Signature hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Hash {
    /// sha256WithRSAEncryption
    Sha256,
    /// sha384WithRSAEncryption
    Sha384,
    /// sha512WithRSAEncryption
    Sha512,
}

/// PFX encryption profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PfxProfile {
    /// PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC, HMAC-SHA256 MAC.
    Modern,
    /// pbeWithSHAAnd3-KeyTripleDES-CBC, HMAC-SHA1 MAC.
    Legacy,
}

/// Manifest format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Microsoft Graph (endDateTime, key, displayName): the current portal manifest and Graph API.
    Graph,
    /// Azure AD Graph (endDate, value): the older portal manifest.
    Legacy,
}

/// Thumbprint form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Form {
    /// SHA-1, uppercase hex (Windows, portal, MSAL thumbprint); also accepted as the printed label, sha1.
    #[value(alias = "sha1")]
    Hex,
    /// SHA-1, base64 (customKeyIdentifier); also sha1Base64.
    #[value(alias = "sha1Base64", alias = "sha1-base64")]
    Base64,
    /// SHA-1, base64url (JWT x5t).
    X5t,
    /// SHA-256, uppercase hex (MSAL thumbprintSha256); also sha256.
    #[value(alias = "sha256")]
    Sha256Hex,
    /// SHA-256, base64url (JWT x5t#S256); also x5t#S256.
    #[value(alias = "x5t#S256", alias = "x5t#s256")]
    X5tS256,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
