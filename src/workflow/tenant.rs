//! The tenant workflows (`keycred graph apps`, `graph show`): connect to Microsoft Graph with a token from
//! elsewhere or one keycred requests itself, scan the app registrations page by page, and read one app's
//! manifest. The Graph client ([`crate::graph`]) sends the requests; nothing here prints.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::prove::{self, TokenCredential};
use crate::error::{Error, Result};
use crate::flow::authority::Authority;
use crate::flow::token::TokenRequest;
use crate::fsio::{self, Access, OutputFile};
use crate::graph::{self, AppRef, Budget, GraphClient, Throttle};
use crate::input::PasswordSources;
use crate::manifest::{ExistingCredential, Manifest};
use crate::rotation::{self, Verdict};
use crate::secret::Password;

/// How keycred authenticates to Graph.
#[derive(Debug)]
pub enum GraphAuth {
    /// A bearer token obtained elsewhere (`--token-file`, `KEYCRED_GRAPH_TOKEN`), such as
    /// `az account get-access-token --resource-type ms-graph` prints.
    Bearer(Password),
    /// An automation app's credential: keycred requests `{graph}/.default` for it from the tenant's authority.
    App {
        /// The tenant.
        tenant: String,
        /// The automation app's client id.
        client_id: String,
        /// Its certificate or secret.
        credential: TokenCredential,
        /// The login host (the cloud's, or `--authority`).
        authority: Authority,
        /// The token cache to reuse a token from (and store a new one in), as `keycred token --cache` does.
        cache: Option<PathBuf>,
    },
}

/// Where Graph is and how to reach it.
#[derive(Debug)]
pub struct GraphConnection {
    /// The Graph base URL (a cloud's host, or a test server on this machine).
    pub graph_url: String,
    /// The token.
    pub auth: GraphAuth,
    /// One request's time limit (a listing's: all its pages), retries and waits included.
    pub timeout: Duration,
    /// Retries of one throttled or busy request.
    pub max_retries: u32,
    /// The percentage of Graph's request limits the run may use (`--budget`).
    pub budget: u8,
    /// Where keycred keeps what its runs spent of each tenant's budget ([`super::budget_record`]); `None` keeps
    /// nothing.
    pub budget_record: Option<std::path::PathBuf>,
}

/// The share of Graph's limits a run uses unless told (`--budget`): it leaves a tenth to other tools.
pub const DEFAULT_BUDGET: u8 = 90;

/// How much faster than Graph's clock a test server on this machine runs its limits (`KEYCRED_GRAPH_TIME_SCALE`,
/// read only for an `http://` Graph URL, which keycred allows only to this machine): a test of the pacing then
/// takes seconds, not minutes. Graph itself is always on its own clock.
fn time_scale(base: &str) -> f64 {
    if !base.starts_with("http://") {
        return 1.0;
    }
    std::env::var("KEYCRED_GRAPH_TIME_SCALE")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 1.0)
        .unwrap_or(1.0)
}

/// A client for the connection: the token is requested first when keycred gets it itself.
pub fn connect(
    connection: GraphConnection,
    passwords: &PasswordSources,
    now: OffsetDateTime,
) -> Result<GraphClient> {
    crate::flow::authority::check_url(
        &connection.graph_url,
        "--graph-url",
        "https://graph.microsoft.com",
    )?;
    let base = connection.graph_url.trim_end_matches('/').to_owned();
    let token = match connection.auth {
        GraphAuth::Bearer(token) => token.require_non_empty("the Graph token")?,
        GraphAuth::App {
            tenant,
            client_id,
            credential,
            authority,
            cache,
        } => {
            let request = TokenRequest {
                authority,
                tenant,
                client_id,
                scope: format!("{base}/.default"),
                timeout: connection.timeout.min(Duration::from_secs(60)),
                cache,
            };
            Password::new(prove::token(&request, &credential, passwords, now)?.access_token)
        }
    };
    let client = GraphClient::new(
        &base,
        token,
        connection.timeout,
        connection.max_retries,
        Arc::new(Throttle::default()),
        Arc::new(Budget::new(connection.budget, time_scale(&base))),
    )?;
    if let Some(dir) = &connection.budget_record {
        super::budget_record::attach(&client, dir);
    }
    Ok(client)
}

/// An application id as `--app` gives it: Graph tells an appId from an object id only by trying, so keycred
/// looks it up as an appId first (what admins copy from the portal's first line), then as an object id.
pub fn parse_app(text: &str) -> Result<Uuid> {
    Uuid::try_parse(text.trim()).map_err(|_| {
        Error::Invalid(format!(
            "--app {text:?} is not an application id: give its Application (client) ID or its object id, a GUID"
        ))
    })
}

/// One secret (password credential): only what identifies it and when it ends; Graph never returns its value.
#[derive(Debug, Clone)]
pub struct SecretSummary {
    /// Its keyId.
    pub key_id: Option<String>,
    /// Its display name.
    pub display_name: Option<String>,
    /// Its end.
    pub end: Option<OffsetDateTime>,
}

/// One app registration as the scan sees it.
#[derive(Debug, Clone)]
pub struct AppSummary {
    /// Object id.
    pub id: String,
    /// appId (client id).
    pub app_id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Its certificate credentials.
    pub certificates: Vec<ExistingCredential>,
    /// Its secrets.
    pub secrets: Vec<SecretSummary>,
    /// The certificates' verdict at the scan's moment.
    pub verdict: Verdict,
    /// What makes its credentials invalid or unusual (a repeated keyId).
    pub problems: Vec<String>,
    /// The tenant's rules for its new credentials, where the scan read them.
    pub rules: Option<crate::rules::Rules>,
    /// What those rules mean for its credentials as they are.
    pub findings: Vec<String>,
    /// With `usage`: each certificate's last sign-in, in the order of `certificates`.
    pub last_sign_ins: Vec<Option<crate::usage::Seen>>,
    /// With `key_vault`: where each certificate's key is in the vault (`NAME/VERSION`), in the order of
    /// `certificates`; `None` for a key the vault does not hold.
    pub key_places: Vec<Option<String>>,
    /// With `owners`: who owns it (empty: nobody, so nobody gets Entra's expiry mail); `None`: not read.
    pub owners: Option<Vec<super::app_relations::Owner>>,
    /// With `federated`: how many federated identity credentials it holds (they do not expire); `None`: not read.
    pub federated_credentials: Option<usize>,
}

/// One scan of the tenant.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// An OData `$filter` for the applications.
    pub filter: Option<String>,
    /// Only apps with a certificate ending within this many days (a Graph `$filter` on `keyCredentials`).
    pub expiring_within: Option<u32>,
    /// The renewal window of the verdicts.
    pub warn: time::Duration,
    /// Applications per page (Graph: at most 999).
    pub page_size: usize,
    /// An app with no certificate credential at all counts in the exit code (4); else it is listed as such but
    /// does not fail the scan (API apps, SPAs and public clients hold none by design). A filter counts them too:
    /// the admin chose those apps.
    pub require_credential: bool,
    /// Read the tenant's credential rules and judge each app by them (a few requests more).
    pub rules: bool,
    /// Read Entra's credential sign-in activity report once, and give each certificate its last sign-in.
    pub usage: bool,
    /// `--since-last`: read only what changed since the last such run (`applications/delta`), its state kept in
    /// this folder.
    pub since_last: Option<PathBuf>,
    /// Read each app's owners (one more read per app, twenty to a `$batch`).
    pub owners: bool,
    /// Count each app's federated identity credentials (one more read per app, twenty to a `$batch`).
    pub federated: bool,
    /// Say which certificates' keys this Azure Key Vault holds (`--key-vault`: its certificates and their versions
    /// read once, matched by thumbprint).
    pub key_vault: Option<super::vault_new::VaultAccess>,
}

/// What the scan found: counts only, since the apps go to `each` as their pages arrive.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    /// Apps seen.
    pub apps: usize,
    /// Apps by verdict, in [`Verdict`]'s order: healthy, renewal due, not yet valid, expired, none.
    pub by_verdict: [usize; 5],
    /// Apps with at least one secret.
    pub with_secrets: usize,
    /// The pages read.
    pub pages: usize,
    /// The exit code: the worst verdict (0, 3, 4), as `check`'s.
    pub exit_code: i32,
    /// Whether apps without a certificate counted in the exit code.
    pub no_credential_counts: bool,
    /// With `--since-last`: what this run read of the tenant.
    pub since_last: Option<super::scan_state::SinceLast>,
    /// Why the tenant's rules could not be read, if they could not.
    pub rules_unknown: Option<String>,
    /// With `usage`: why there is no evidence of use, if there is none.
    pub usage_unknown: Option<String>,
    /// With `owners`: the apps nobody owns.
    pub without_owner: Option<usize>,
}

impl ScanOutcome {
    /// How many apps have this verdict.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.by_verdict[verdict_index(verdict)]
    }
}

pub(crate) fn verdict_index(verdict: Verdict) -> usize {
    match verdict {
        Verdict::Healthy => 0,
        Verdict::RenewalDue => 1,
        Verdict::NotYetValid => 2,
        Verdict::Expired => 3,
        Verdict::NoCredentials => 4,
    }
}

/// Scans the tenant's app registrations page by page, handing each app to `each` as its page arrives, so memory
/// holds one page however large the tenant is. A signal recorded in `interrupt` stops the scan after the page in
/// flight.
pub fn scan(
    client: &GraphClient,
    request: &ScanRequest,
    now: OffsetDateTime,
    interrupt: &crate::interrupt::Interrupt,
    mut each: impl FnMut(&AppSummary),
) -> Result<ScanOutcome> {
    let filter = match (&request.filter, request.expiring_within) {
        (Some(_), Some(_)) => {
            return Err(Error::Invalid(
                "give --filter or --expiring-within, not both: Graph takes one $filter here".into(),
            ))
        }
        (Some(filter), None) => Some(filter.clone()),
        (None, Some(days)) => Some(format!(
            "keyCredentials/any(k:k/endDateTime le {})",
            crate::time_fmt::rfc3339_utc(now + time::Duration::days(i64::from(days)))
        )),
        (None, None) => None,
    };
    let mut outcome = ScanOutcome {
        no_credential_counts: request.require_credential || filter.is_some(),
        ..ScanOutcome::default()
    };
    let mut worst: Option<Verdict> = None;
    let rules = match request.rules {
        true => Some(super::tenant_rules::read(client)?),
        false => None,
    };
    outcome.rules_unknown = rules.as_ref().and_then(|r| r.unknown()).map(str::to_owned);
    let usage = match request.usage {
        true => Some(tenant_evidence(client)?),
        false => None,
    };
    if let Some(crate::usage::Evidence::Unavailable(why)) = &usage {
        outcome.usage_unknown = Some(why.clone());
    }
    let places = match &request.key_vault {
        Some(access) => Some(super::vault_new::key_places(&*access.client()?)?),
        None => None,
    };
    // The creation date decides whether a rule binds an app.
    let select = match rules {
        Some(_) => format!("{},createdDateTime", graph::SCAN_SELECT),
        None => graph::SCAN_SELECT.to_owned(),
    };
    if request.owners {
        outcome.without_owner = Some(0);
    }
    let mut judge_page = |page: Vec<Value>, outcome: &mut ScanOutcome| -> Result<()> {
        interrupt.check()?;
        outcome.pages += 1;
        let mut summaries = Vec::with_capacity(page.len());
        for app in page {
            let created =
                text(&app, "createdDateTime").and_then(|t| crate::time_fmt::parse_instant(&t).ok());
            let mut summary = summarize(app, now, request.warn)?;
            if let Some(rules) = &rules {
                judge(client, rules, created, &mut summary)?;
            }
            if let Some(places) = &places {
                summary.key_places = summary
                    .certificates
                    .iter()
                    .map(|c| c.thumbprint.and_then(|t| places.get(t.as_slice()).cloned()))
                    .collect();
            }
            if let Some(evidence @ crate::usage::Evidence::Read { .. }) = &usage {
                summary.last_sign_ins = summary
                    .certificates
                    .iter()
                    .map(|c| evidence.seen(c.key_id))
                    .collect();
            }
            summaries.push(summary);
        }
        let ids: Vec<&str> = summaries.iter().map(|s| s.id.as_str()).collect();
        let relations =
            super::app_relations::read(client, &ids, request.owners, request.federated)?;
        for (summary, found) in summaries.iter_mut().zip(relations) {
            summary.owners = found.owners;
            summary.federated_credentials = found.federated;
            summary.problems.extend(found.problems);
        }
        for summary in summaries {
            outcome.apps += 1;
            outcome.by_verdict[verdict_index(summary.verdict)] += 1;
            outcome.with_secrets += usize::from(!summary.secrets.is_empty());
            if let (Some(count), Some(owners)) = (&mut outcome.without_owner, &summary.owners) {
                *count += usize::from(owners.is_empty());
            }
            if summary.verdict != Verdict::NoCredentials || outcome.no_credential_counts {
                worst = worst.max(Some(summary.verdict));
            }
            each(&summary);
        }
        Ok(())
    };
    match &request.since_last {
        None => client.applications(filter.as_deref(), &select, request.page_size, |page| {
            judge_page(page, &mut outcome)
        })?,
        Some(dir) => {
            if filter.is_some() {
                return Err(Error::Invalid(
                    "--since-last reads the whole tenant's changes: give it without --filter or --expiring-within"
                        .into(),
                ));
            }
            // The properties graph rotate --all --since-last plans on (the scan's among them), so that a daily
            // scan and a scheduled rotation keep one state of the tenant.
            let select = graph::PLAN_SELECT;
            let caught_up = super::scan_state::catch_up(client, select, dir, now)?;
            outcome.since_last = Some(caught_up.summary());
            let mut apps = caught_up.apps;
            while !apps.is_empty() {
                let rest = apps.split_off(apps.len().min(request.page_size.max(1)));
                judge_page(std::mem::replace(&mut apps, rest), &mut outcome)?;
            }
        }
    }
    outcome.exit_code = worst.map_or(crate::exit::SUCCESS, Verdict::exit_code);
    Ok(outcome)
}

/// The whole tenant's credential sign-in activity report, read once (`graph apps --usage`); none to be had is
/// [`crate::usage::Evidence::Unavailable`].
fn tenant_evidence(client: &GraphClient) -> Result<crate::usage::Evidence> {
    use crate::usage::{self, Evidence};
    if client.national_cloud() {
        return Ok(Evidence::Unavailable(usage::NATIONAL_CLOUD.into()));
    }
    match client.all_credential_sign_in_activities() {
        Ok(report) => Ok(Evidence::from_records(&report, &[], &Default::default())),
        Err(error) => usage::unavailable(&error)
            .map(Evidence::Unavailable)
            .ok_or(error),
    }
}

/// The tenant's rules for one app, and what they mean for its credentials. Under a trusted-CA rule its
/// certificates themselves are read (the listing carries no keys), to tell self-signed ones.
fn judge(
    client: &GraphClient,
    rules: &super::tenant_rules::ScanRules,
    created: Option<OffsetDateTime>,
    summary: &mut AppSummary,
) -> Result<()> {
    let app_rules = rules.for_app(&summary.id, created);
    if let crate::rules::Rules::Known(known) = &app_rules {
        let mut certificates = None;
        if known.trusted_ca.is_some() && summary.certificates.iter().any(|c| !c.signs()) {
            if let Ok(object_id) = Uuid::try_parse(&summary.id) {
                let app = client
                    .application(AppRef::ObjectId(object_id), Some("id,appId,keyCredentials"))?;
                certificates = Some(as_manifest(app, &summary.app_id)?.key_credentials()?);
            }
        }
        summary.findings = super::tenant_rules::findings(
            known,
            certificates.as_deref().unwrap_or(&summary.certificates),
            !summary.secrets.is_empty(),
        );
    }
    summary.rules = Some(app_rules);
    Ok(())
}

/// An application object from Graph as a manifest document (Graph format).
pub fn as_manifest(app: Value, source: &str) -> Result<Manifest> {
    let Value::Object(root) = app else {
        return Err(Error::Network(format!(
            "{source}: Graph returned {} where an application object belongs",
            crate::manifest::existing::json_type(&app)
        )));
    };
    Manifest::from_graph_object(root, source)
}

/// A text property of a Graph object.
pub fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

pub(crate) fn summarize(
    app: Value,
    now: OffsetDateTime,
    warn: time::Duration,
) -> Result<AppSummary> {
    let id = text(&app, "id").unwrap_or_default();
    let app_id = text(&app, "appId").unwrap_or_default();
    let display_name = text(&app, "displayName");
    let secrets = app
        .get("passwordCredentials")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| SecretSummary {
            key_id: text(s, "keyId"),
            display_name: text(s, "displayName"),
            end: text(s, "endDateTime").and_then(|t| crate::time_fmt::parse_instant(&t).ok()),
        })
        .collect();
    let mut app = app;
    let mut undated = take_undated(&mut app);
    undated.extend(extended_values(&app));
    let manifest = as_manifest(app, &format!("application {app_id}"))?;
    let certificates = manifest.key_credentials()?;
    let mut problems = crate::manifest::existing::describe_duplicate_key_ids(
        &crate::manifest::existing::duplicate_key_ids(&certificates),
    );
    problems.extend(undated);
    Ok(AppSummary {
        verdict: rotation::verdict(&certificates, now, warn),
        id,
        app_id,
        display_name,
        certificates,
        secrets,
        problems,
        rules: None,
        findings: Vec::new(),
        last_sign_ins: Vec::new(),
        key_places: Vec::new(),
        owners: None,
        federated_credentials: None,
    })
}

/// Takes out of a listed app the credentials Graph gave without a start or end date (it sometimes shows null),
/// which no verdict can judge, and says which: the scan goes on with the others.
fn take_undated(app: &mut Value) -> Vec<String> {
    let Some(entries) = app.get_mut("keyCredentials").and_then(Value::as_array_mut) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    entries.retain(|entry| {
        let missing: Vec<&str> = ["startDateTime", "endDateTime"]
            .into_iter()
            .filter(|field| entry.get(*field).is_none_or(Value::is_null))
            .collect();
        if missing.is_empty() {
            return true;
        }
        problems.push(format!(
            "keyId {} has no {} (Graph gave none), so keycred cannot judge it: look at it in the portal's \
             Certificates & secrets",
            text(entry, "keyId").unwrap_or_else(|| "-".into()),
            missing.join(" or ")
        ));
        false
    });
    problems
}

/// The credentials Graph flags with `hasExtendedValue`: private key material stored in the directory.
fn extended_values(app: &Value) -> Vec<String> {
    app.get("keyCredentials")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|entry| entry.get("hasExtendedValue").and_then(Value::as_bool) == Some(true))
        .map(|entry| {
            format!(
                "keyId {} has private key material stored in the directory (hasExtendedValue): anyone who may \
                 read the app may read it; rotate it now",
                text(entry, "keyId").unwrap_or_else(|| "-".into())
            )
        })
        .collect()
}

/// `graph show`: one application's manifest, in the Graph format, certificates (`key`) included.
#[derive(Debug, Clone)]
pub struct ShowRequest {
    /// Its appId or object id.
    pub app: Uuid,
    /// Write the manifest here (else it is returned for standard output).
    pub out: Option<PathBuf>,
    /// Replace `out`.
    pub force: bool,
}

/// What `graph show` read.
#[derive(Debug)]
pub struct ShowOutcome {
    /// The manifest, rendered.
    pub manifest: String,
    /// The file written, if any.
    pub written: Option<PathBuf>,
}

/// Reads one application: every property, then (Graph returns certificates only when `$select` names them) its
/// keyCredentials with their keys, merged in place.
pub fn show(client: &GraphClient, request: &ShowRequest) -> Result<ShowOutcome> {
    let (app, reference) = find(client, request.app, None)?;
    let Value::Object(mut root) = app else {
        return Err(Error::Network(
            "Graph returned something other than an application object".into(),
        ));
    };
    let keys = client.application(reference, Some("id,keyCredentials"))?;
    if let Some(with_keys) = keys.get("keyCredentials") {
        root.insert("keyCredentials".into(), with_keys.clone());
    }
    // Graph's OData annotations are not part of the manifest.
    root.retain(|key, _| !key.starts_with("@odata."));
    let manifest = Manifest::from_graph_object(root, &format!("application {}", request.app))?;
    let rendered = manifest.render();
    let written = match &request.out {
        Some(path) => {
            fsio::write_all(
                &[OutputFile::new(
                    path.clone(),
                    rendered.clone(),
                    Access::Public,
                )],
                request.force,
            )?;
            Some(path.clone())
        }
        None => None,
    };
    Ok(ShowOutcome {
        manifest: rendered,
        written,
    })
}

/// Finds an application by appId, then by object id; returns it with the reference that found it.
pub fn find(client: &GraphClient, id: Uuid, select: Option<&str>) -> Result<(Value, AppRef)> {
    match client.application(AppRef::AppId(id), select) {
        Ok(app) => Ok((app, AppRef::AppId(id))),
        Err(Error::Graph(failure)) if failure.code == "Request_ResourceNotFound" => {
            let reference = AppRef::ObjectId(id);
            Ok((client.application(reference, select)?, reference))
        }
        Err(other) => Err(other),
    }
}
