//! The grant workflow (`keycred manifest grant`): the API's application roles, read from its manifest, merged into
//! the client app's `requiredResourceAccess`, under the same lock, backup and field-order rules as every other
//! manifest write. The certificates and every other field of the client's manifest stay as they were.

use std::path::PathBuf;

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::fsio::{self, Access, OutputFile};
use crate::input;
use crate::manifest::document_grant::GrantChange;
use crate::manifest::{Manifest, ManifestFormat};

/// Where the client's updated manifest goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantOutput {
    /// Back to the client's manifest, under its lock, keeping a numbered backup.
    InPlace,
    /// To another file (replaced only with `force`).
    File(PathBuf),
}

/// One grant.
#[derive(Debug, Clone)]
pub struct GrantRequest {
    /// The API (resource) app's manifest: its appId and its appRoles.
    pub api: PathBuf,
    /// The client (daemon) app's manifest.
    pub client: PathBuf,
    /// The roles' values; empty: every enabled role the API offers to applications.
    pub roles: Vec<String>,
    /// Where the result goes.
    pub output: GrantOutput,
    /// Plan and report only.
    pub dry_run: bool,
    /// Replace an existing `GrantOutput::File`.
    pub force: bool,
}

/// One role granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedRole {
    /// Its value (`Orders.Read`).
    pub value: String,
    /// Its id on the API.
    pub id: Uuid,
    /// Whether this run added it (else the client already asked for it).
    pub added: bool,
}

/// What a grant did (or, in a dry run, would do).
#[derive(Debug, Clone)]
pub struct GrantOutcome {
    /// The client's manifest.
    pub client: PathBuf,
    /// Its format.
    pub format: ManifestFormat,
    /// The API's appId.
    pub resource_app_id: Uuid,
    /// The API's display name, when its manifest has one.
    pub api_name: Option<String>,
    /// The roles, in the order asked.
    pub roles: Vec<GrantedRole>,
    /// The client already had an entry for the API.
    pub entry_existed: bool,
    /// Whether the manifest changed.
    pub changed: bool,
    /// Nothing was written.
    pub dry_run: bool,
    /// The file written (the client's manifest in place, or the output file).
    pub written: Option<PathBuf>,
    /// The backup of an in-place update.
    pub backup: Option<PathBuf>,
}

/// Runs one grant. Every input is read and checked before anything is written.
pub fn grant(request: GrantRequest) -> Result<GrantOutcome> {
    if fsio::same_file(&request.api, &request.client) {
        return Err(Error::Refused(format!(
            "--api and --client are the same file ({}): the client is the daemon's app registration, the API the \
             resource app it calls",
            request.client.display()
        )));
    }
    if let GrantOutput::File(out) = &request.output {
        if fsio::same_file(out, &request.client) {
            return Err(Error::Refused(format!(
                "--manifest-out {} is the client's manifest: use --in-place to update it (under a lock, keeping a \
                 backup), or write to another file",
                out.display()
            )));
        }
    }
    let api = read_manifest(&request.api)?;
    let resource_app_id = api
        .root()
        .get("appId")
        .and_then(serde_json::Value::as_str)
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| Error::Document {
            source_name: request.api.display().to_string(),
            reason: "has no appId (a GUID): --api takes the API app's whole manifest, as the portal's manifest \
                     editor or GET /applications/{id} gives it"
                .into(),
        })?;
    let chosen = match choose_roles(&api, &request) {
        Ok(chosen) => chosen,
        Err(error) => {
            // The client offering what the API lacks: the two were given the other way round.
            let swapped = read_manifest(&request.client)
                .ok()
                .is_some_and(|client| choose_roles(&client, &request).is_ok());
            if swapped {
                return Err(Error::Refused(format!(
                    "{error}\n  --api and --client look swapped: {} offers the role(s) asked for. --api takes the API's \
                     manifest (the resource app whose roles are granted), --client the daemon's (the app that gets \
                     them): keycred manifest grant --api {} --client {} …",
                    request.client.display(),
                    request.client.display(),
                    request.api.display()
                )));
            }
            return Err(error);
        }
    };

    let _lock = (request.output == GrantOutput::InPlace && !request.dry_run)
        .then(|| fsio::Lock::acquire(&request.client))
        .transpose()?;
    let original = input::read_file(&request.client)?;
    let text = input::text(&request.client, original.clone())?;
    let mut client = Manifest::parse(&text, &request.client.display().to_string(), None)?;
    let ids: Vec<Uuid> = chosen.iter().map(|(_, id)| *id).collect();
    let GrantChange {
        entry_existed,
        added,
        ..
    } = client.grant_roles(resource_app_id, &ids)?;
    let mut outcome = GrantOutcome {
        client: request.client.clone(),
        format: client.format(),
        resource_app_id,
        api_name: api
            .root()
            .get("displayName")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        roles: chosen
            .into_iter()
            .map(|(value, id)| GrantedRole {
                added: added.contains(&id),
                value,
                id,
            })
            .collect(),
        entry_existed,
        changed: !added.is_empty(),
        dry_run: request.dry_run,
        written: None,
        backup: None,
    };
    if request.dry_run || !outcome.changed {
        return Ok(outcome);
    }
    let rendered = client.render().into_bytes();
    match &request.output {
        GrantOutput::InPlace => {
            outcome.backup = Some(fsio::update_in_place(&request.client, &original, rendered)?);
            outcome.written = Some(request.client.clone());
        }
        GrantOutput::File(out) => {
            fsio::write_all(
                &[OutputFile::new(out.clone(), rendered, Access::Public)],
                request.force,
            )?;
            outcome.written = Some(out.clone());
        }
    }
    Ok(outcome)
}

fn read_manifest(path: &std::path::Path) -> Result<Manifest> {
    let text = input::read_text(path)?;
    Manifest::parse(&text, &path.display().to_string(), None)
}

/// The roles to grant, as (value, id): the named ones, each an enabled application role of the API, or every
/// such role when none is named.
fn choose_roles(api: &Manifest, request: &GrantRequest) -> Result<Vec<(String, Uuid)>> {
    let roles = api.role_summaries();
    let offered: Vec<&str> = roles
        .iter()
        .filter(|(_, _, app, enabled)| *app && *enabled)
        .map(|(value, ..)| value.as_str())
        .collect();
    let api_name = request.api.display();
    if request.roles.is_empty() {
        let all: Vec<(String, Uuid)> = roles
            .iter()
            .filter(|(_, _, app, enabled)| *app && *enabled)
            .map(|(value, id, ..)| (value.clone(), *id))
            .collect();
        if all.is_empty() {
            return Err(Error::Refused(format!(
                "{api_name} offers no enabled application role (allowedMemberTypes with Application), so there is \
                 nothing a daemon can be granted; add one with keycred manifest app-roles --merge {api_name}"
            )));
        }
        return Ok(all);
    }
    let mut chosen: Vec<(String, Uuid)> = Vec::new();
    for wanted in &request.roles {
        let Some((value, id, app, enabled)) = roles.iter().find(|(value, ..)| value == wanted)
        else {
            return Err(Error::Refused(format!(
                "--role {wanted}: {api_name} has no role with that value; its application roles: {}",
                if offered.is_empty() {
                    "none".to_owned()
                } else {
                    offered.join(", ")
                }
            )));
        };
        if !app {
            return Err(Error::Refused(format!(
                "--role {wanted}: {api_name} offers it to users only (allowedMemberTypes has no Application), so a \
                 daemon gets no such role in the client credentials flow; its application roles: {}",
                offered.join(", ")
            )));
        }
        if !enabled {
            return Err(Error::Refused(format!(
                "--role {wanted} is disabled (isEnabled: false) on {api_name}: Entra issues no disabled role"
            )));
        }
        if !chosen.iter().any(|(_, seen)| seen == id) {
            chosen.push((value.clone(), *id));
        }
    }
    Ok(chosen)
}
