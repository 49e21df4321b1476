//! `keycred graph`: the tenant scan, one app, and the addKey / removeKey bodies.

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

use super::shared::{CredentialOptions, PasswordArgs, PolicyArgs};

/// `keycred graph …`
#[derive(Debug, Subcommand)]
pub enum GraphCommand {
    /// Scan the tenant's app registrations: every certificate and secret, with a verdict per app (exit codes as
    /// check's).
    Apps(Box<GraphAppsArgs>),
    /// One app registration's manifest (Graph format, certificates included), for check and rotate offline.
    Show(Box<GraphShowArgs>),
    /// Rotate app registrations' certificates in the tenant: plan, then --apply (PATCH with the whole collection).
    Rotate(Box<GraphRotateArgs>),
    /// Scan the tenant's service principals: SAML signing certificates (the one in use marked), other
    /// certificates and secrets, with a verdict per service principal. Reported only, never changed.
    Sps(Box<GraphSpsArgs>),
    /// Which certificate each app signed in with, and when, from Entra's records (the credential sign-in activity
    /// report and the sign-in log).
    Usage(Box<GraphUsageArgs>),
    /// Remove the certificates newer ones replaced, only on evidence that nothing signs in with them any more:
    /// plan, then --apply.
    Retire(Box<GraphRetireArgs>),
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
    #[arg(long, value_name = "PFX", required_unless_present_any = ["key_vault", "pkcs11_module"], conflicts_with = "pkcs11_module")]
    pub current_pfx: Option<PathBuf>,

    /// Or the app's current certificate in Azure Key Vault, whose key signs the proof there: the vault's URL,
    /// with --vault-cert.
    #[arg(long, value_name = "URL", requires = "vault_cert", conflicts_with_all = ["current_pfx", "pkcs11_module"])]
    pub key_vault: Option<String>,

    /// The vault's certificate: NAME, or NAME/VERSION (else its newest version).
    #[arg(long, value_name = "NAME[/VERSION]", requires = "key_vault")]
    pub vault_cert: Option<String>,

    /// A bearer token for the vault, from the first line of this file; else from KEYCRED_VAULT_TOKEN.
    #[arg(long, value_name = "FILE", requires = "key_vault")]
    pub vault_token_file: Option<PathBuf>,

    /// Or the app's current key in a PKCS#11 token (its certificate kept beside it), which signs the proof there.
    #[command(flatten)]
    pub pkcs11: super::shared::Pkcs11Args,

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

    /// Send the body to Microsoft Graph as the app itself (its token from its current credential) instead of
    /// printing it. remove-key first reads the app (which must be allowed to read its own registration) and never
    /// removes a keyId it lacks or its last valid certificate credential.
    #[arg(long, conflicts_with = "out", requires_all = ["tenant", "client_id"])]
    pub send: bool,

    /// With --send: the app's tenant (GUID or domain).
    #[arg(long, value_name = "TENANT", requires = "send")]
    pub tenant: Option<String>,

    /// With --send: the app's Application (client) ID.
    #[arg(long, value_name = "CLIENT_ID", requires = "send")]
    pub client_id: Option<String>,

    /// With --send: the Microsoft cloud (its Graph and login hosts).
    #[arg(long, value_enum, default_value_t = CloudArg::Public)]
    pub cloud: CloudArg,

    /// With --send: Microsoft Graph's URL, instead of the --cloud's (http:// only to this machine, for tests).
    #[arg(long, value_name = "URL", requires = "send")]
    pub graph_url: Option<String>,

    /// With --send: the login host, instead of the --cloud's.
    #[arg(long = "authority", value_name = "URL", requires = "send")]
    pub authority: Option<String>,

    /// With --send: retries of a throttled (429) or busy (503, 504, 409) request, after Retry-After or with
    /// backoff.
    #[arg(long, value_name = "N", default_value_t = 5, requires = "send")]
    pub max_retries: u32,

    /// With --send: seconds the token and the request may take, waits included.
    #[arg(long, value_name = "SECONDS", default_value_t = 120, value_parser = super::shared::seconds, requires = "send")]
    pub timeout: u64,
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
    after_help = "Send the body, within 10 minutes, as POST https://graph.microsoft.com/v1.0/applications/{object-id}/removeKey with a Microsoft Graph token the app itself gets with its current certificate. With --send, keycred reads the app first, refuses to remove its last valid certificate credential (or a keyId it lacks), reads it again right before sending, and once more to confirm.\n\nExample:\n  keycred graph remove-key --object-id 2b0d3a6e-6f0a-4c5e-9d7a-1f6f2b1a9c10 \\\n    --current-pfx current.pfx --key-id 8e2a5c1d-2b3f-4a6e-9c8d-7f6e5d4c3b2a"
)]
pub struct RemoveKeyArgs {
    #[command(flatten)]
    pub proof: ProofArgs,

    /// keyId of the credential to remove.
    #[arg(long, value_name = "GUID")]
    pub key_id: String,
}

/// How keycred reaches Microsoft Graph and gets its token.
#[derive(Debug, Args)]
pub struct GraphConnectArgs {
    /// The Microsoft cloud: it sets both the Graph host and the login host.
    #[arg(long, value_enum, default_value_t = CloudArg::Public)]
    pub cloud: CloudArg,

    /// Microsoft Graph's URL, instead of the --cloud's (http:// only to this machine, for tests).
    #[arg(long, value_name = "URL")]
    pub graph_url: Option<String>,

    /// Read a bearer token for Graph from this file's first line (for example from az account get-access-token
    /// --resource-type ms-graph); else KEYCRED_GRAPH_TOKEN, else --tenant and --client-id.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["tenant", "client_id"])]
    pub token_file: Option<PathBuf>,

    /// The tenant (GUID or domain) of the automation app whose credential gets the token.
    #[arg(long, value_name = "TENANT", requires = "client_id")]
    pub tenant: Option<String>,

    /// The automation app's Application (client) ID.
    #[arg(long, value_name = "CLIENT_ID", requires = "tenant")]
    pub client_id: Option<String>,

    /// PFX with the automation app's certificate and key.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "cert", "pkcs11_module"])]
    pub pfx: Option<PathBuf>,

    /// The automation app's private key, PKCS#8 PEM; with --cert.
    #[arg(
        long,
        value_name = "FILE",
        requires = "cert",
        conflicts_with = "pkcs11_module"
    )]
    pub key: Option<PathBuf>,

    /// The automation app's certificate (DER or PEM); with --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,

    /// Read the password of the automation app's --pfx from the first line of this file (else
    /// KEYCRED_PFX_PASSWORD, else a prompt).
    #[arg(long, value_name = "PATH", requires = "pfx")]
    pub auth_password_file: Option<PathBuf>,

    /// The automation app's certificate in Azure Key Vault, whose key signs there: the vault's URL (of --cloud's
    /// cloud); with --auth-vault-cert. Also signs the addKey proofs of --self.
    #[arg(long, value_name = "URL", requires = "auth_vault_cert", conflicts_with_all = ["pfx", "key", "cert", "pkcs11_module"])]
    pub auth_key_vault: Option<String>,

    /// The vault certificate of --auth-key-vault: NAME, or NAME/VERSION (else its newest version).
    #[arg(long, value_name = "NAME[/VERSION]", requires = "auth_key_vault")]
    pub auth_vault_cert: Option<String>,

    /// A bearer token for the vault of a certificate in Azure Key Vault (--auth-key-vault, and doctor's
    /// --credential-vault), from the first line of this file; else from KEYCRED_VAULT_TOKEN.
    #[arg(long, value_name = "FILE")]
    pub vault_token_file: Option<PathBuf>,

    /// Read the automation app's client secret from the first line of this file (instead of a certificate).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["pfx", "key", "cert", "auth_key_vault", "pkcs11_module"])]
    pub client_secret_file: Option<PathBuf>,

    /// The automation app's key in a PKCS#11 token, which signs there (its certificate kept in the token
    /// beside it); also signs the addKey proofs of --self.
    #[command(flatten)]
    pub pkcs11: super::shared::Pkcs11Args,

    /// The login host, instead of the --cloud's (http:// only to this machine, for tests).
    #[arg(long = "authority", value_name = "URL")]
    pub authority: Option<String>,

    /// Reuse the automation app's cached Graph token while it is valid for more than 5 minutes, and cache a new
    /// one (the cache of keycred token --cache: per user, owner-only).
    #[arg(long, requires = "client_id")]
    pub cache: bool,

    /// Retries of one throttled (429) or busy (503, 504, 409) request, after Retry-After or with backoff.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_retries: u32,

    /// Seconds one request may take, its retries and Graph's waits included (a listing: all its pages).
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = super::shared::seconds)]
    pub timeout: u64,

    /// The share of Graph's request limits keycred may use, in percent: it paces itself under them (150 reads of
    /// keys a minute, 3,000 writes per 150 s) and leaves the rest to other tools in the tenant.
    #[arg(long, value_name = "PERCENT", default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub budget: u8,
}

impl GraphConnectArgs {
    /// The options as a command line gives them back (files and URLs, never a secret), for a printed command that
    /// must reach the same tenant the same way.
    pub fn as_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if self.cloud != CloudArg::Public {
            if let Some(value) = clap::ValueEnum::to_possible_value(&self.cloud) {
                flags.extend(["--cloud".to_owned(), value.get_name().to_owned()]);
            }
        }
        let text = [
            ("--graph-url", self.graph_url.clone()),
            ("--tenant", self.tenant.clone()),
            ("--client-id", self.client_id.clone()),
            ("--authority", self.authority.clone()),
        ];
        let paths = [
            ("--token-file", &self.token_file),
            ("--pfx", &self.pfx),
            ("--key", &self.key),
            ("--cert", &self.cert),
            ("--auth-password-file", &self.auth_password_file),
            ("--client-secret-file", &self.client_secret_file),
        ];
        for (flag, value) in text {
            if let Some(value) = value {
                flags.extend([flag.to_owned(), value]);
            }
        }
        for (flag, path) in paths {
            if let Some(path) = path {
                flags.extend([flag.to_owned(), path.display().to_string()]);
            }
        }
        if self.cache {
            flags.push("--cache".into());
        }
        flags
    }
}

/// Microsoft's clouds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudArg {
    /// graph.microsoft.com, login.microsoftonline.com.
    Public,
    /// US Government L4: graph.microsoft.us, login.microsoftonline.us.
    Usgov,
    /// US Government L5 (DoD): dod-graph.microsoft.us, login.microsoftonline.us.
    UsgovDod,
    /// China (21Vianet): microsoftgraph.chinacloudapi.cn, login.chinacloudapi.cn.
    China,
}

/// `keycred graph apps`
#[derive(Debug, Args)]
#[command(
    after_help = "Needs Application.Read.All (or Application.ReadWrite.OwnedBy, for the apps the automation app owns). Pages of up to 999 apps are read one at a time. Exit codes as check: 0 every app healthy, 3 one due for renewal, 4 one without a valid certificate; 1 an error.\n\nExamples:\n  keycred graph apps --token-file graph.token\n  keycred graph apps --tenant contoso.onmicrosoft.com \\\n    --client-id 11111111-2222-3333-4444-555555555555 --pfx automation.pfx \\\n    --expiring-within 30 --json"
)]
pub struct GraphAppsArgs {
    #[command(flatten)]
    pub connect: GraphConnectArgs,

    /// An OData $filter for the applications (for example "startswith(displayName,'Orders')").
    #[arg(long, value_name = "ODATA", conflicts_with = "expiring_within")]
    pub filter: Option<String>,

    /// Only apps with a certificate that ends within DAYS (or has ended).
    #[arg(long, value_name = "DAYS")]
    pub expiring_within: Option<u32>,

    /// Renewal window of the verdicts, in days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: u32,

    /// Applications per page (1 to 999).
    #[arg(long, value_name = "N", default_value_t = 999)]
    pub page_size: usize,

    /// Count apps that hold no certificate at all in the exit code (4), as --filter does; else they are listed as
    /// "without a certificate" and do not fail the scan.
    #[arg(long)]
    pub require_credential: bool,

    /// Also read the tenant's credential rules (app management policies; Policy.Read.All) and show per app the
    /// rule that applies, certificates that live longer than it allows, self-signed ones a trusted-CA rule would
    /// refuse, and secrets that may no longer be renewed. A few requests more, not one per app.
    #[arg(long)]
    pub rules: bool,

    /// Also show each certificate's last sign-in, from Entra's credential sign-in activity report (one read for
    /// the tenant; AuditLog.Read.All, Entra ID P1/P2, global cloud). The report lags: a hint, not proof.
    #[arg(long)]
    pub usage: bool,

    /// Also show each app's owners, and name the apps nobody owns (Entra mails certificate expiry notices to the
    /// owners, so nobody hears of theirs). One more read per app (Application.Read.All), twenty to a $batch.
    #[arg(long)]
    pub owners: bool,

    /// Also count each app's federated identity credentials (workload identity federation: they do not expire,
    /// and are never judged). One more read per app, twenty to a $batch.
    #[arg(long)]
    pub federated: bool,

    /// Say which certificates' keys this Azure Key Vault holds (each version of each of its certificates, matched
    /// by thumbprint): its URL; the token from --vault-token-file or KEYCRED_VAULT_TOKEN.
    #[arg(long, value_name = "URL")]
    pub key_vault: Option<String>,

    /// Read only what changed since the last --since-last run for this tenant (Graph's applications/delta), and
    /// judge every app again: the first run reads every app; the state (owner-only) is kept in
    /// $XDG_STATE_HOME/keycred/scans.
    #[arg(long, conflicts_with_all = ["filter", "expiring_within"])]
    pub since_last: bool,

    /// Scan the service principals instead, as keycred graph sps does (SAML signing certificates included).
    #[arg(long, conflicts_with_all = ["filter", "expiring_within", "since_last", "rules", "usage", "owners", "federated", "format", "require_credential"])]
    pub service_principals: bool,

    /// Output: text (default), json (as --json), or csv (one row per credential, for a spreadsheet; cells that
    /// a spreadsheet would run as a formula are prefixed with ').
    #[arg(long, value_enum, conflicts_with = "json")]
    pub format: Option<ScanFormat>,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// How `graph apps` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// Per app its credentials, then the counts.
    Text,
    /// One JSON document (as --json).
    Json,
    /// One row per credential.
    Csv,
}

/// Which apps `graph usage` and `graph retire` read.
#[derive(Debug, Args)]
pub struct AppSelection {
    /// An app: its Application (client) ID or object id; repeat for more.
    #[arg(
        long = "app",
        value_name = "ID",
        required_unless_present_any = ["all", "from_report"],
        conflicts_with = "all"
    )]
    pub apps: Vec<String>,

    /// The apps an earlier graph rotate --report FILE says it rotated, each with the credential that run added
    /// as its successor (the safest schedule: rotate --report, then retire --from-report every day).
    #[arg(long, value_name = "FILE")]
    pub from_report: Option<PathBuf>,

    /// Every app the token may read (with --filter, those it matches).
    #[arg(long)]
    pub all: bool,

    /// An OData $filter for --all.
    #[arg(long, value_name = "ODATA", requires = "all")]
    pub filter: Option<String>,

    /// With --all: take the tenant's apps from the state of the last --since-last run (graph apps or graph
    /// rotate), brought up to date through Graph's applications/delta, instead of listing every app: a scheduled
    /// rotation reads only what changed. The first run reads every app; the state (owner-only) is kept in
    /// $XDG_STATE_HOME/keycred/scans.
    #[arg(long, requires = "all", conflicts_with = "filter")]
    pub since_last: bool,
}

/// `keycred graph sps`
#[derive(Debug, Args)]
#[command(
    after_help = "Needs Application.Read.All. A SAML signing certificate is the Sign and Verify entries and the password Graph made for it (one customKeyIdentifier); the one named by preferredTokenSigningKeyThumbprint is in use and decides the verdict. App Proxy's own secret (CWAP_AuthSecret) is shown as self-managed. Exit codes as check: 0 healthy, 3 one due for renewal, 4 one without a valid certificate; 1 an error.\n\nExample:\n  keycred graph sps --token-file graph.token --warn-days 60"
)]
pub struct GraphSpsArgs {
    #[command(flatten)]
    pub connect: GraphConnectArgs,

    /// Renewal window of the verdicts, in days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: u32,

    /// Service principals per page (1 to 999).
    #[arg(long, value_name = "N", default_value_t = 999)]
    pub page_size: usize,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `keycred graph usage`
#[derive(Debug, Args)]
#[command(
    after_help = "Needs Application.Read.All and AuditLog.Read.All, in a tenant with Entra ID P1 or P2, in the global cloud; elsewhere each app says why there is no evidence. Entra's report lags (minutes to hours): a last sign-in is a hint, and the output says how old the evidence is.

Example:
  keycred graph usage --all --token-file graph.token"
)]
pub struct GraphUsageArgs {
    #[command(flatten)]
    pub connect: GraphConnectArgs,

    #[command(flatten)]
    pub selection: AppSelection,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `keycred graph retire`
#[derive(Debug, Args)]
#[command(
    after_help = "For each app holding a newer certificate, each valid certificate it replaced is removed only when the new one has been seen signing in and the old one has not been seen since the new one was added, for at least --quiet-for. Otherwise both stay, and the output says why, with the evidence and its age. Where no evidence can be had (403 for the licence or the permission, a national cloud), only --overlap removes, on a timer, and says so. The app's last valid credential is never removed. Exit 5 when a credential was kept because it is, or may be, still in use. Run it every day after a rotation (admin mode, Application.ReadWrite.All or .OwnedBy, and AuditLog.Read.All).

Examples:
  keycred graph retire --all --token-file graph.token
  keycred graph retire --all --token-file graph.token --apply"
)]
pub struct GraphRetireArgs {
    #[command(flatten)]
    pub connect: GraphConnectArgs,

    #[command(flatten)]
    pub selection: AppSelection,

    /// How long the old certificate must have been quiet since its successor was added: 24h, 90m, 2d, 30s.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub quiet_for: String,

    /// Where there is no evidence of use, remove the old certificate once its successor is this old (a decision
    /// on a timer, said as such): 14d, 72h.
    #[arg(long, value_name = "DURATION")]
    pub overlap: Option<String>,

    /// Send the removals; without it the plan is printed and nothing is sent.
    #[arg(long)]
    pub apply: bool,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `keycred graph show`
#[derive(Debug, Args)]
#[command(
    after_help = "Needs Application.Read.All (or none for an app reading itself). The manifest is in the Graph format with the certificates' keys, so check, rotate --dry-run and the rest work on it offline.\n\nExample:\n  keycred graph show --app 11111111-2222-3333-4444-555555555555 \\\n    --token-file graph.token --out orders.json"
)]
pub struct GraphShowArgs {
    #[command(flatten)]
    pub connect: GraphConnectArgs,

    /// The application: its Application (client) ID or its object id.
    #[arg(long, value_name = "ID")]
    pub app: String,

    /// Write the manifest to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace --out if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// `keycred graph rotate`
#[derive(Debug, Args)]
#[command(
    after_help = "Admin mode, with Application.ReadWrite.OwnedBy (apps the automation app owns) or Application.ReadWrite.All. Without --apply it prints the plan and sends nothing. With --apply, per app: the new certificate's files are written to OUT/APPID/ first, the app is read again and left alone if its credentials changed since the plan, one PATCH sends every credential kept (by keyId, key null) and the new one, and the app is read once more to confirm. The app's last valid credential is never removed. Running the same command again after a stop finishes the job: a certificate already made for an app but not yet on it is uploaded, not made again.\n\nExamples:\n  keycred graph rotate --all --token-file graph.token --out certs --no-pfx\n  keycred graph rotate --app 11111111-2222-3333-4444-555555555555 --token-file graph.token \\\n    --out certs --generate-password --prune-expired --apply\n  keycred graph rotate --all --token-file graph.token --out certs --ca --apply   (twice: requests, then imports)"
)]
pub struct GraphRotateArgs {
    #[command(flatten)]
    pub connect: GraphConnectArgs,

    /// An app to rotate: its Application (client) ID or object id; repeat for more.
    #[arg(
        long = "app",
        value_name = "ID",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub apps: Vec<String>,

    /// Every app the token may read that holds a certificate credential (with --filter, those it matches); apps
    /// with secrets only or no credential are listed apart and left alone.
    #[arg(long)]
    pub all: bool,

    /// With --all, also give the apps that hold no certificate credential (secrets only, or nothing) their first
    /// certificate. A named --app always gets one.
    #[arg(long, requires = "all")]
    pub include_without_certificate: bool,

    /// An OData $filter for --all.
    #[arg(long, value_name = "ODATA", requires = "all")]
    pub filter: Option<String>,

    /// With --all: take the tenant's apps from the state of the last --since-last run (graph apps or graph
    /// rotate), brought up to date through Graph's applications/delta, instead of listing every app: a scheduled
    /// rotation reads only what changed. The first run reads every app; the state (owner-only) is kept in
    /// $XDG_STATE_HOME/keycred/scans.
    #[arg(long, requires = "all", conflicts_with = "filter")]
    pub since_last: bool,

    /// Subject of the new certificates; default: each app's newest credential's, else CN=<its display name>.
    #[arg(long, short = 's')]
    pub subject: Option<String>,

    /// Take the new certificates from your organisation's CA, in two runs. With --apply, the first run writes a
    /// key and a request (OUT/APPID/NAME-YYYYMMDD.csr) for every due app and sends nothing; put each CA answer
    /// beside its request as NAME-YYYYMMDD.issued.cer (or .crt, .pem, .p7b) and run again: keycred imports the
    /// answers and sends them as it sends made certificates.
    #[arg(long, conflicts_with_all = ["days", "years", "not_after", "no_key"])]
    pub ca: bool,

    /// More CA certificates (intermediates, the root) for --ca's imports; repeat for more.
    #[arg(long, value_name = "FILE", requires = "ca")]
    pub chain: Vec<PathBuf>,

    /// Make each due app's new certificate in Azure Key Vault, its key non-exportable and never on this machine:
    /// the vault's URL (of --cloud's cloud). Each gets its own name there, NAME-YYYYMMDD (NAME: --name, else from
    /// its CN), tagged with the app's appId; only CER, PEM and the keyCredentials fragment are written to
    /// OUT/APPID/. Validity in whole months (--days, --years) within the app's lifetime rule; --verify signs in the
    /// vault. The token: --vault-token-file or KEYCRED_VAULT_TOKEN; needs Key Vault Certificates Officer.
    #[arg(long, value_name = "URL", conflicts_with_all = [
        "ca", "not_after", "hash", "pfx_profile", "password_file", "generate_password", "no_pfx",
        "pem_bundle", "no_key"
    ])]
    pub key_vault: Option<String>,

    #[command(flatten)]
    pub credential: CredentialOptions,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Send the changes (without it: the plan only).
    #[arg(long)]
    pub apply: bool,

    /// The app rolls its own keys: connect as the app itself (--client-id its appId, --pfx or --key/--cert its
    /// current certificate); addKey and removeKey are proven with that certificate, and need no permission.
    #[arg(long = "self", requires = "client_id")]
    pub self_service: bool,

    /// Make no certificate: add the vault's own versions (its AutoRenew's, or anyone's), the daily run that lets
    /// a vault renewal reach the app. With --self and --auth-key-vault: every newer version of the app's vault
    /// certificate (--auth-vault-cert NAME) it does not hold yet, each proven by the version it holds; nothing is
    /// written here. In admin mode with --key-vault URL (and --all, or --app): each app a certificate there is
    /// tagged for (keycred-app, as graph rotate --key-vault tags them) gets the newest enabled version of its
    /// certificates when it lacks it, by one PATCH; its CER, PEM and keyCredentials go to OUT/APPID/.
    #[arg(long, conflicts_with_all = ["retire_previous", "ca"])]
    pub from_vault: bool,

    /// After applying, get a token with each new certificate from the tenant's authority (needs --tenant),
    /// waiting while Entra replicates it (AADSTS700027) up to --verify-timeout.
    #[arg(long, requires = "apply")]
    pub verify: bool,

    /// Seconds --verify waits for a new certificate to work.
    #[arg(long, value_name = "SECONDS", default_value_t = 120, value_parser = super::shared::seconds)]
    pub verify_timeout: u64,

    /// With --self: after a verified rotation, remove the credential the new one replaces (only once its token
    /// worked). Refused in an admin's run, whose new key is not yet where the app runs: there, graph retire
    /// removes it once Entra's records show nothing signs in with it.
    #[arg(long, requires = "verify")]
    pub retire_previous: bool,

    /// With --self: the application's object id (the proof's iss), where the app may not read its own
    /// registration to find it.
    #[arg(long, value_name = "GUID", requires = "self_service")]
    pub object_id: Option<String>,

    /// How many apps to work on at once.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 2)]
    pub jobs: usize,

    /// Also write the run's JSON report to FILE (an earlier run's report is replaced; any other file never).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Print the run as JSON.
    #[arg(long)]
    pub json: bool,
}
