//! The Graph store: an application in the tenant. It plans on the application's credential metadata (keyIds,
//! dates, `customKeyIdentifier`: what a listing page already gave, or one read by id), and spends Graph's rationed
//! read of the keys themselves (`$select=keyCredentials` on one application, 150 a minute per tenant) only where
//! the metadata cannot tell which certificate a credential is. It applies a change by reading the metadata again
//! and refusing if the credentials changed since the plan (Graph has no ETag for them), then either one
//! `PATCH /applications/{id}` with the **whole** collection (every credential kept goes back by its keyId with
//! `key: null`, the new one with its certificate) or, when the app rolls its own keys (`--self`), `addKey` and
//! `removeKey` proven by its current certificate; and it reads the metadata once more to confirm that the new
//! keyId is there and no kept one is gone.

use std::path::PathBuf;

use serde_json::Value;
use uuid::Uuid;

use super::{AppState, Change, LastValid, RunContext, Step, Store};
use crate::credential::CertificateInfo;
use crate::error::{Error, Result};
use crate::graph::{AppRef, GraphClient};
use crate::manifest::ManifestFormat;
use crate::rotation::Disposition;
use crate::rules::{Rules, TenantPolicy};
use crate::workflow::prove::LoadedCredential;
use crate::workflow::tenant_rules;

/// The app properties a rotation plans on: [`crate::graph::PLAN_SELECT`].
pub const SELECT: &str = crate::graph::PLAN_SELECT;

/// About how many items Graph accepts across an application's collections (DESIGN.md "Tenant rules").
pub const ITEM_LIMIT: usize = 1000;

/// The tenant default app management policy, read once per run by the first app that needs it.
pub type TenantPolicyCell = std::sync::OnceLock<TenantPolicy>;

/// One application in the tenant, and what was learnt of it.
pub struct GraphStore<'a> {
    client: &'a GraphClient,
    /// The id it was named or listed by (appId or object id).
    id: Uuid,
    /// Its object id as the admin gave it (`--self --object-id`), for an app that may not read itself by appId.
    given_object_id: Option<Uuid>,
    /// `--self`: the app's current credential, which signs the proofs; else an admin's PATCH.
    signer: Option<&'a LoadedCredential>,
    /// The folder of its new credential's files: the base folder, or its `{appId}` folder inside it.
    folder: (PathBuf, bool),
    /// Its object id, once read.
    pub object_id: Option<Uuid>,
    /// How it was found.
    pub reference: Option<AppRef>,
    /// Its appId, once read.
    pub app_id: String,
    /// Its display name, once read.
    pub display_name: Option<String>,
    /// Its `keyCredentials` entries as Graph gave them.
    entries: Vec<Value>,
    /// When it was created, as Graph gave it.
    created: Option<time::OffsetDateTime>,
    /// The items of its other collections (secrets, URIs, roles…), which count towards Graph's limit.
    other_items: usize,
    /// The tenant default policy, shared by the run's apps.
    tenant: &'a TenantPolicyCell,
    /// The app as a listing page gave it (with [`SELECT`]), to plan on without reading it again.
    listed: Option<Value>,
    /// The plan needs the newest certificate itself (a CA request carries its DNS names), not only its metadata.
    newest_key_needed: bool,
}

impl<'a> GraphStore<'a> {
    /// The store of the application `id`, its new files under `base` (in `base/{appId}` with `per_app_folder`).
    pub fn new(
        client: &'a GraphClient,
        id: Uuid,
        signer: Option<&'a LoadedCredential>,
        given_object_id: Option<Uuid>,
        folder: (PathBuf, bool),
        tenant: &'a TenantPolicyCell,
    ) -> GraphStore<'a> {
        GraphStore {
            client,
            id,
            given_object_id,
            signer,
            folder,
            object_id: None,
            reference: None,
            app_id: String::new(),
            display_name: None,
            entries: Vec::new(),
            created: None,
            other_items: 0,
            tenant,
            listed: None,
            newest_key_needed: false,
        }
    }

    /// Plans on `app` as a listing page gave it (with [`SELECT`]), instead of reading it again.
    pub fn listed(mut self, app: Option<Value>) -> GraphStore<'a> {
        self.listed = app;
        self
    }

    /// Reads the newest certificate itself too (`--ca`: the request carries its DNS names).
    pub fn with_newest_key(mut self, needed: bool) -> GraphStore<'a> {
        self.newest_key_needed = needed;
        self
    }

    /// The Graph client.
    pub fn client(&self) -> &GraphClient {
        self.client
    }

    /// The app's folder.
    pub fn folder(&self) -> PathBuf {
        match &self.folder {
            (base, true) => base.join(&self.app_id),
            (base, false) => base.clone(),
        }
    }

    /// Its object id and how it was found, once read.
    pub fn found(&self) -> Result<(Uuid, AppRef)> {
        self.object_id
            .zip(self.reference)
            .ok_or_else(|| Error::Network(format!("application {}: not read yet", self.id)))
    }

    fn read_app(&self) -> Result<(Value, AppRef)> {
        let found = match self.given_object_id {
            Some(object_id) => self
                .client
                .application(AppRef::ObjectId(object_id), None)
                .map(|app| (app, AppRef::ObjectId(object_id))),
            None => crate::workflow::tenant::find(self.client, self.id, None),
        };
        found.map_err(|error| match (&error, self.signer) {
            (Error::Graph(failure), Some(_)) if failure.code == "Authorization_RequestDenied" => {
                Error::Refused(format!(
                    "{error}\n  this app may not read its own registration here, and keycred reads an app's \
                     credentials before it changes them (it never removes the last valid one), so nothing was \
                     sent; give graph rotate --self the app's --object-id only where it may read itself by it, or \
                     have an admin make the change (graph rotate, graph retire)"
                ))
            }
            _ => error,
        })
    }

    fn keys_needed(&self, existing: &[crate::manifest::ExistingCredential]) -> bool {
        keys_needed(existing, self.newest_key_needed)
    }

    /// Refuses a change after which the app would hold more items than Graph accepts, naming what to retire.
    fn within_item_limit(&self, change: &Change, now: time::OffsetDateTime) -> Result<()> {
        let kept = change
            .plan
            .existing
            .iter()
            .filter(|d| **d == Disposition::Keep)
            .count();
        let after = self.other_items + kept + usize::from(change.plan.add);
        if after <= ITEM_LIMIT {
            return Ok(());
        }
        let mut expired: Vec<&crate::manifest::ExistingCredential> = change
            .existing
            .iter()
            .zip(&change.plan.existing)
            .filter(|(c, d)| **d == Disposition::Keep && c.end < now)
            .map(|(c, _)| c)
            .collect();
        expired.sort_by_key(|c| c.end);
        Err(Error::Refused(format!(
            "application {}: after this rotation it would hold {after} items across its collections \
             (credentials, secrets, URIs, roles…), over the about {ITEM_LIMIT} Graph accepts, so nothing was \
             sent. Retire what it no longer needs first{}",
            self.app_id,
            match expired.first() {
                None => String::new(),
                Some(oldest) => format!(
                    ": {} of its certificates have expired (--prune-expired removes them), the oldest keyId {}",
                    expired.len(),
                    oldest.key_id.map(|k| k.to_string()).unwrap_or_default()
                ),
            }
        )))
    }

    /// Sends the change by addKey and removeKey, proven by the app's current certificate (still on the app):
    /// added first, then removed. Returns the keyId Graph gave the new credential.
    fn send_proven(
        &self,
        current: &LoadedCredential,
        object_id: Uuid,
        change: &Change,
        cx: &RunContext,
    ) -> Result<Option<Uuid>> {
        let signer = crate::flow::graph::Signer {
            certificate: &current.certificate,
            key: current.as_credential().key,
        };
        let mut given = None;
        if let Some(added) = change.added {
            let body =
                crate::flow::graph::add_key_body(&signer, object_id, &added.certificate, cx.now)?;
            let answer = self
                .client
                .add_key(object_id, &body)
                .map_err(|e| name_the_signer(e, &current.certificate))?;
            // Graph gives the new credential its own keyId.
            given = answer
                .get("keyId")
                .and_then(Value::as_str)
                .and_then(|i| i.parse().ok());
        }
        for (c, d) in change.existing.iter().zip(&change.plan.existing) {
            if let (Disposition::Remove(_), Some(key_id)) = (d, c.key_id) {
                let body = crate::flow::graph::remove_key_body(&signer, object_id, key_id, cx.now)?;
                self.client
                    .remove_key(object_id, &body)
                    .map_err(|e| name_the_signer(e, &current.certificate))?;
            }
        }
        Ok(given)
    }
}

impl Store for GraphStore<'_> {
    fn read(&mut self, _cx: &RunContext) -> Result<AppState> {
        let (mut app, reference) = match self.listed.take() {
            Some(app) => (app, AppRef::ObjectId(self.id)),
            None => self.read_app()?,
        };
        let object_id: Uuid = app
            .get("id")
            .and_then(Value::as_str)
            .and_then(|i| i.parse().ok())
            .ok_or_else(|| {
                Error::Network(format!("application {}: Graph gave no object id", self.id))
            })?;
        self.object_id = Some(object_id);
        self.reference = Some(reference);
        self.app_id = text(&app, "appId").unwrap_or_default();
        self.display_name = text(&app, "displayName");
        // The appId names the app's folder: only a GUID may (never `..`, a slash or an absolute path from Graph).
        if Uuid::try_parse(&self.app_id).is_err() {
            return Err(Error::Network(format!(
                "application {object_id}: Graph gave its appId as {:?}, which is not a GUID; nothing was written \
                 or sent for this app",
                self.app_id
            )));
        }
        self.other_items = other_items(&app);
        self.created =
            text(&app, "createdDateTime").and_then(|t| crate::time_fmt::parse_instant(&t).ok());
        let label = format!("application {}", self.app_id);
        let mut existing =
            crate::workflow::tenant::as_manifest(app.clone(), &label)?.key_credentials()?;
        if self.keys_needed(&existing) {
            let keys = self
                .client
                .application(AppRef::ObjectId(object_id), Some("id,keyCredentials"))?;
            with_keys(&mut app, &keys);
            existing =
                crate::workflow::tenant::as_manifest(app.clone(), &label)?.key_credentials()?;
        }
        self.entries = key_credentials(&app);
        Ok(AppState {
            existing,
            format: ManifestFormat::Graph,
            folder: Some(self.folder()),
            made_for: None,
            // Graph lets a display name hold anything: `,`, `+`, 200 characters, only spaces.
            fallback_subject: Some(crate::credential::subject::common_name_subject(
                self.display_name.as_deref().unwrap_or_default(),
                &self.app_id,
            )),
            label,
            last_valid: LastValid::Refuse,
            notes: Vec::new(),
            app_id: Some(self.app_id.clone()),
        })
    }

    /// The tenant default policy (read once per run) and the policy assigned to the app, which replaces it.
    fn rules(&mut self, _cx: &RunContext) -> Result<Option<Rules>> {
        let client = self.client;
        let default = match self.tenant.get_or_init(|| tenant_rules::read_default(client)) {
            TenantPolicy::Read(policy) => policy,
            TenantPolicy::Unreadable(why) => return Ok(Some(Rules::Unknown(why.clone()))),
            TenantPolicy::Failed(error) => {
                return Err(Error::Refused(format!(
                    "the tenant's default app management policy could not be read, so nothing was planned \
                     for this app: {error}"
                )))
            }
        };
        let (object_id, _) = self.found()?;
        tenant_rules::app_rules(client, default, object_id, self.created).map(Some)
    }

    /// An admin's change is one PATCH of the whole collection, which cannot send a signing key (`Sign`, or a
    /// `X509CertAndPassword` entry whose password shares its keyId) back as it is: such an app is left alone. An
    /// app rolling its own keys (`--self`) adds and removes one credential at a time, and leaves the others be.
    fn prepare(&mut self, change: &Change, cx: &RunContext) -> Result<Option<String>> {
        if change.step != Step::Change {
            return Ok(None);
        }
        self.within_item_limit(change, cx.now)?;
        if self.signer.is_some() {
            return Ok(None);
        }
        let signing = self.entries.iter().find(|entry| {
            text(entry, "usage").is_some_and(|u| u.eq_ignore_ascii_case("Sign"))
                || text(entry, "type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("X509CertAndPassword"))
        });
        Ok(signing.map(|entry| {
            format!(
                "it holds a signing key (keyId {}, {}: SAML or token signing) that the one PATCH an admin's \
                 rotation sends cannot send back as it is, so nothing was sent; renew its client certificate in \
                 the portal, or have the app rotate itself (graph rotate --self adds and removes one credential \
                 and leaves the rest)",
                text(entry, "keyId").unwrap_or_default(),
                text(entry, "displayName").unwrap_or_else(|| "no name".into())
            )
        }))
    }

    /// Read-modify-write without an ETag: the app is read again right before writing.
    fn check_unchanged(&mut self, change: &Change, _cx: &RunContext) -> Result<()> {
        if change.step != Step::Change {
            return Ok(());
        }
        let (object_id, _) = self.found()?;
        let again = self.client.application(AppRef::ObjectId(object_id), None)?;
        if metadata(&key_credentials(&again)) != metadata(&self.entries) {
            return Err(Error::Refused(format!(
                "application {}: its credentials changed since the plan (another run or an admin); nothing was \
                 sent. Run again to plan on what it has now",
                self.app_id
            )));
        }
        Ok(())
    }

    fn apply(&mut self, change: &Change, cx: &RunContext) -> Result<Option<Uuid>> {
        // A CA request changes nothing on the app, not even what the policy would prune, so that the app changes
        // once, when its new certificate arrives.
        if change.step != Step::Change {
            return Ok(None);
        }
        let (object_id, _) = self.found()?;
        let kept: Vec<Value> = self
            .entries
            .iter()
            .zip(&change.plan.existing)
            .filter(|(_, d)| **d == Disposition::Keep)
            .map(|(entry, _)| {
                let mut entry = entry.clone();
                entry["key"] = Value::Null;
                entry
            })
            .collect();
        let mut added = change.added.map(|a| a.entry.clone());
        let given = match self.signer {
            None => {
                let body: Vec<Value> = kept.iter().cloned().chain(added.clone()).collect();
                self.client.patch_key_credentials(object_id, &body)?;
                None
            }
            Some(current) => self.send_proven(current, object_id, change, cx)?,
        };
        if let (Some(id), Some(entry)) = (given, &mut added) {
            entry["keyId"] = Value::String(id.to_string());
        }
        // Confirm from the metadata: the new keyId is there, and no kept one is gone.
        let after = self.client.application(AppRef::ObjectId(object_id), None)?;
        let after_ids: Vec<String> = key_credentials(&after)
            .iter()
            .filter_map(|k| k.get("keyId")?.as_str().map(str::to_owned))
            .collect();
        let missing: Vec<String> = kept
            .iter()
            .chain(&added)
            .filter_map(|k| k.get("keyId")?.as_str().map(str::to_owned))
            .filter(|id| !after_ids.contains(id))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Refused(format!(
                "application {}: after the PATCH, Graph does not list keyId {}; check the app in the portal",
                self.app_id,
                missing.join(", ")
            )));
        }
        Ok(given)
    }
}

/// Removes these keyIds from an application through the one engine: the app read, the planner's refusals (a keyId
/// it lacks, a signing key, its last valid certificate credential), the app read again right before the change,
/// the change sent, and the app read once more to confirm. By an admin's PATCH, or with `signer` (the app itself)
/// by removeKey proven with it. No certificate is made, so no folder is used. Returns what the engine decided.
pub fn remove_keys(
    client: &GraphClient,
    object_id: Uuid,
    key_ids: &[Uuid],
    signer: Option<&LoadedCredential>,
    tenant: &TenantPolicyCell,
    now: time::OffsetDateTime,
    passwords: &crate::input::PasswordSources,
) -> Result<super::Rotation> {
    // Read by its object id, never first guessed as an appId.
    let mut store = GraphStore::new(
        client,
        object_id,
        signer,
        Some(object_id),
        (PathBuf::new(), false),
        tenant,
    );
    let order = super::Order {
        source: None,
        policy: crate::rotation::Policy {
            remove_key_ids: key_ids.to_vec(),
            ..crate::rotation::Policy::default()
        },
        apply: true,
    };
    // A removal makes nothing and writes no file, so no signal has anything to stop.
    let interrupt = crate::interrupt::Interrupt::none();
    let cx = RunContext {
        now,
        passwords,
        interrupt: &interrupt,
    };
    let mut done = super::Rotation::default();
    super::rotate(&mut store, order, &cx, &mut done)?;
    Ok(done)
}

/// A refused proof says which certificate signed it: the one to look for among the app's credentials.
pub fn name_the_signer(error: Error, signer: &CertificateInfo) -> Error {
    match error {
        Error::Graph(mut failure) if failure.code == "Authentication_MissingOrMalformed" => {
            let signed = format!(
                "the proof was signed by {} (SHA-1 {}, valid until {}): that certificate must be one of the app's",
                signer.subject,
                signer
                    .thumbprints
                    .render(crate::credential::ThumbprintForm::Hex),
                crate::time_fmt::rfc3339_utc(signer.not_after)
            );
            failure.hint = Some(match failure.hint {
                Some(hint) => hint.after(format!("{signed}; ")),
                None => signed.into(),
            });
            Error::Graph(failure)
        }
        other => other,
    }
}

pub use crate::workflow::tenant::text;

/// The items of an application's collections other than its certificates: every array among its properties,
/// and among the properties of its objects (`api.oauth2PermissionScopes`, `web.redirectUris`, …).
fn other_items(app: &Value) -> usize {
    let arrays = |value: &Value| -> usize {
        value.as_object().map_or(0, |object| {
            object
                .iter()
                .filter(|(name, _)| name.as_str() != "keyCredentials")
                .map(|(_, v)| v.as_array().map_or(0, Vec::len))
                .sum()
        })
    };
    arrays(app)
        + app.as_object().map_or(0, |o| {
            o.values().filter(|v| v.is_object()).map(arrays).sum()
        })
}

/// Credentials as metadata: what a listing, or a read without `$select`, gives (no `key`), for comparing reads
/// made with and without the keys.
fn metadata(entries: &[Value]) -> Vec<Value> {
    entries
        .iter()
        .map(|entry| {
            let mut entry = entry.clone();
            if let Some(object) = entry.as_object_mut() {
                object.remove("key");
            }
            entry
        })
        .collect()
}

/// Whether the metadata leaves a client credential unidentified (no thumbprint in its `customKeyIdentifier`, in
/// either form Graph stores), or the plan needs the newest certificate itself (`newest`): then, and only then, the
/// keys are read.
pub fn keys_needed(existing: &[crate::manifest::ExistingCredential], newest: bool) -> bool {
    let clients = || existing.iter().filter(|c| !c.signs());
    clients().any(|c| c.thumbprint.is_none() && !c.has_key())
        || (newest
            && clients()
                .max_by_key(|c| c.end)
                .is_some_and(|newest| !newest.has_key()))
}

/// Whether a listed app's plan needs its keys read ([`keys_needed`] on its metadata).
pub fn listed_needs_keys(app: &Value, newest: bool) -> bool {
    crate::workflow::tenant::as_manifest(app.clone(), "application")
        .and_then(|m| m.key_credentials())
        .is_ok_and(|existing| keys_needed(&existing, newest))
}

/// Puts the keys of a read with `$select=keyCredentials` into the app's entries, matched by keyId.
pub fn with_keys(app: &mut Value, keys: &Value) {
    let keyed = key_credentials(keys);
    if let Some(entries) = app.get_mut("keyCredentials").and_then(Value::as_array_mut) {
        for entry in entries {
            let found = keyed
                .iter()
                .find(|k| k.get("keyId").is_some() && k.get("keyId") == entry.get("keyId"));
            if let Some(key) = found.and_then(|k| k.get("key")) {
                entry["key"] = key.clone();
            }
        }
    }
}

/// An application's `keyCredentials` entries.
pub fn key_credentials(app: &Value) -> Vec<Value> {
    app.get("keyCredentials")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}
