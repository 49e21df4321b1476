//! The app-roles workflow: role specs in, the resource app's fragment (or its merged manifest) and the client
//! app's `requiredResourceAccess` out, written or returned for standard output.
//!
//! `keycred manifest app-roles` and the wizard's roles path both run [`app_roles()`]; where the specs come from
//! (flags, files, templates, prompts) is the front end's business.

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::fsio::{self, Access, OutputFile};
use crate::input;
use crate::manifest::app_roles::{self, IdPolicy, RoleSet, RoleSpec, WireAppRole};
use crate::manifest::document::fragment_text;
use crate::manifest::{Manifest, ManifestFormat};

/// One app-roles run.
#[derive(Debug, Clone, Default)]
pub struct AppRolesRequest {
    /// The roles, in order (templates, files and flags already gathered).
    pub specs: Vec<RoleSpec>,
    /// `--stable-ids NAMESPACE`: derive ids from it; `None`: random ids.
    pub stable_ids: Option<String>,
    /// Manifest shape (with `merge`, detected, and this must agree).
    pub format: Option<ManifestFormat>,
    /// Print only the properties, for pasting.
    pub fragment: bool,
    /// The resource app's appId: also emit the client app's `requiredResourceAccess`.
    pub resource_app_id: Option<String>,
    /// Add this identifier URI and ask for v2 tokens.
    pub identifier_uri: Option<String>,
    /// Merge into this manifest.
    pub merge: Option<PathBuf>,
    /// Roles of the merged manifest to disable.
    pub disable: Vec<String>,
    /// Roles of the merged manifest to remove (already disabled).
    pub remove: Vec<String>,
    /// Write the resource app's output here.
    pub out: Option<PathBuf>,
    /// Write the merged manifest back (under its lock, with a backup).
    pub in_place: bool,
    /// Write the client app's output here.
    pub client_out: Option<PathBuf>,
    /// Replace `out` / `client_out`.
    pub force: bool,
}

/// What a merge did to one role of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    /// `added`, `disabled` or `removed`.
    pub change: &'static str,
    /// The role's value.
    pub value: String,
    /// Its id.
    pub id: uuid::Uuid,
}

/// What an app-roles run produced.
#[derive(Debug, Default)]
pub struct AppRolesOutcome {
    /// What goes to standard output (empty when everything went to files).
    pub stdout: String,
    /// The files written, each with what it holds (for a front end to show without reading it back).
    pub written: Vec<(PathBuf, String)>,
    /// The backup of an in-place merge.
    pub backup: Option<PathBuf>,
    /// Notes for the user (roles the client app cannot request).
    pub notes: Vec<String>,
    /// With `merge`: the roles it added, disabled or removed, in that order.
    pub changes: Vec<RoleChange>,
}

/// Validates the roles and writes or returns the outputs the request asks for.
pub fn app_roles(request: AppRolesRequest) -> Result<AppRolesOutcome> {
    let args = &request;
    let specs = request.specs.clone();
    let mut notes = Vec::new();
    if let Some(uri) = &args.identifier_uri {
        app_roles::check_identifier_uri(uri)?;
    }
    let resource_app_id = args
        .resource_app_id
        .as_deref()
        .map(|id| app_roles::parse_guid(id, "--resource-app-id"))
        .transpose()?;
    let format = args.format;

    // An in-place merge runs under the manifest's lock, as `rotate --in-place` does.
    let _lock = match (&args.merge, args.in_place) {
        (Some(path), true) => Some(fsio::Lock::acquire(path)?),
        _ => None,
    };
    let mut changes = Vec::new();
    let (resource, summaries, original) = match &args.merge {
        Some(path) => {
            let bytes = input::read_file(path)?;
            let text = input::text(path, bytes.clone())?;
            let mut manifest = Manifest::parse(&text, &path.display().to_string(), format)?;
            let set = if specs.is_empty() {
                None
            } else {
                let app_id = manifest
                    .root()
                    .get("appId")
                    .and_then(Value::as_str)
                    .filter(|id| uuid::Uuid::parse_str(id).is_ok());
                let ids = id_policy(args, app_id, &mut notes)?;
                Some(RoleSet::build(specs, ids, &manifest.existing_roles())?)
            };
            if set.is_none()
                && args.disable.is_empty()
                && args.remove.is_empty()
                && args.identifier_uri.is_none()
            {
                return Err(Error::Invalid(
                    "nothing to merge: give roles (--role, --roles-file, --template), --disable, --remove or --identifier-uri"
                        .into(),
                ));
            }
            let before = manifest.role_summaries();
            manifest.merge_roles(set.as_ref(), &args.disable, &args.remove)?;
            if let Some(uri) = &args.identifier_uri {
                manifest.add_identifier_uri(uri)?;
            }
            let after = manifest.role_summaries();
            changes = role_changes(&before, &after);
            (manifest.render(), after, Some((path.clone(), bytes)))
        }
        None => {
            let set = RoleSet::build(specs, id_policy(args, None, &mut notes)?, &[])?;
            let object = resource_object(
                &set,
                args.identifier_uri.as_deref(),
                format.unwrap_or(ManifestFormat::Graph),
            );
            let summaries = set
                .roles()
                .iter()
                .map(|r| {
                    (
                        r.value.clone(),
                        r.id,
                        r.allowed_member_types
                            .contains(&app_roles::MemberType::Application),
                        r.is_enabled,
                    )
                })
                .collect();
            (render(&object, args.fragment), summaries, None)
        }
    };

    let client = resource_app_id.map(|app_id| {
        let (access, skipped) = app_roles::required_resource_access(
            app_id,
            summaries.iter().map(|(v, id, app, enabled)| (v.as_str(), *id, *app, *enabled)),
        );
        for value in skipped {
            notes.push(format!(
                "role {value:?} is disabled or user-only, so the client app cannot request it as an application permission"
            ));
        }
        let mut object = Map::new();
        object.insert("requiredResourceAccess".into(), json!([access]));
        object
    });
    if client.as_ref().is_some_and(|c| {
        c["requiredResourceAccess"][0]["resourceAccess"]
            .as_array()
            .is_some_and(Vec::is_empty)
    }) {
        return Err(Error::Refused("--client-app: none of the roles is an enabled application role, so there is nothing the client app can request".into()));
    }

    let mut outcome = write_outputs(args, resource, client, original)?;
    outcome.notes = notes;
    outcome.changes = changes;
    Ok(outcome)
}

/// The roles a merge added, disabled and removed, from the manifest's roles before and after it.
fn role_changes(
    before: &[(String, uuid::Uuid, bool, bool)],
    after: &[(String, uuid::Uuid, bool, bool)],
) -> Vec<RoleChange> {
    let change = |change, (value, id): (&String, &uuid::Uuid)| RoleChange {
        change,
        value: value.clone(),
        id: *id,
    };
    let added = after
        .iter()
        .filter(|a| !before.iter().any(|b| b.1 == a.1))
        .map(|a| change("added", (&a.0, &a.1)));
    let disabled = after
        .iter()
        .filter(|a| !a.3 && before.iter().any(|b| b.1 == a.1 && b.3))
        .map(|a| change("disabled", (&a.0, &a.1)));
    let removed = before
        .iter()
        .filter(|b| !after.iter().any(|a| a.1 == b.1))
        .map(|b| change("removed", (&b.0, &b.1)));
    added.chain(disabled).chain(removed).collect()
}

/// How new role ids are chosen. They are stable whenever something names the API: an explicit namespace, else
/// its identifier URI, else the merged manifest's appId; only then does a rerun give the ids a client's
/// requiredResourceAccess points at. Random ids are announced in `notes`.
fn id_policy(
    request: &AppRolesRequest,
    merged_app_id: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<IdPolicy> {
    match (&request.stable_ids, &request.identifier_uri, merged_app_id) {
        (Some(namespace), _, _) => IdPolicy::stable(namespace),
        (None, Some(uri), _) => IdPolicy::stable(uri),
        (None, None, Some(app_id)) => IdPolicy::stable(app_id),
        (None, None, None) => {
            notes.push(
                "new role ids are random: pass --stable-ids NAMESPACE (or --identifier-uri) so that a rerun gives \
                 the same ids, or a client's requiredResourceAccess from an earlier run will point at roles that \
                 no longer exist"
                    .to_owned(),
            );
            Ok(IdPolicy::Random)
        }
    }
}

/// The resource app's fragment: appRoles, and with an identifier URI, identifierUris and the token version.
fn resource_object(
    set: &RoleSet,
    identifier_uri: Option<&str>,
    format: ManifestFormat,
) -> Map<String, Value> {
    let roles: Vec<WireAppRole> = set.roles().iter().map(WireAppRole::from).collect();
    let mut object = Map::new();
    object.insert(
        "appRoles".into(),
        serde_json::to_value(roles).expect("roles serialize"),
    );
    if let Some(uri) = identifier_uri {
        object.insert("identifierUris".into(), json!([uri]));
        match format {
            ManifestFormat::Graph => {
                object.insert("api".into(), json!({ "requestedAccessTokenVersion": 2 }))
            }
            ManifestFormat::Legacy => object.insert("accessTokenAcceptedVersion".into(), json!(2)),
        };
    }
    object
}

fn render(object: &Map<String, Value>, fragment: bool) -> String {
    if fragment {
        fragment_text(object)
    } else {
        format!(
            "{}\n",
            serde_json::to_string_pretty(object).expect("JSON values serialize")
        )
    }
}

fn write_outputs(
    args: &AppRolesRequest,
    resource: String,
    client: Option<Map<String, Value>>,
    original: Option<(PathBuf, Vec<u8>)>,
) -> Result<AppRolesOutcome> {
    let mut outcome = AppRolesOutcome::default();
    if let (Some(out), Some((manifest, _))) = (&args.out, &original) {
        if fsio::same_file(out, manifest) {
            return Err(Error::Refused(format!(
                "--out {} is the manifest being merged: use --in-place to replace it (a .bak copy is kept)",
                out.display()
            )));
        }
    }
    let mut files = Vec::new();
    let mut resource_to_stdout = None;
    if let Some(out) = &args.out {
        files.push(OutputFile::new(
            out.clone(),
            resource.clone(),
            Access::Public,
        ));
    } else if !args.in_place {
        resource_to_stdout = Some(resource.clone());
    }
    let mut client_to_stdout = None;
    if let Some(client) = &client {
        match &args.client_out {
            Some(path) => files.push(OutputFile::new(
                path.clone(),
                render(client, args.fragment),
                Access::Public,
            )),
            None => client_to_stdout = Some(client),
        }
    }
    // A folder that does not exist yet is created when the files are written, as `new` does.
    let mut missing = Vec::new();
    for file in &files {
        if let Some(dir) = file.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if fsio::output_dir_state(dir)? == fsio::OutputDir::Missing {
                missing.push(dir.to_path_buf());
            }
        }
    }
    fsio::check_targets(&files, args.force)?;
    for file in &files {
        // A merged manifest may replace another manifest (--merge A --out B); a fragment never replaces one.
        let whole_manifest = original.is_some() && Some(&file.path) == args.out.as_ref();
        if !whole_manifest {
            fsio::refuse_replacing_a_manifest(&file.path)?;
        }
    }

    if args.in_place {
        let (path, bytes) = original.as_ref().expect("--in-place requires --merge");
        // The backup holds the manifest as it was before this run; the manifest itself is replaced atomically.
        outcome.backup = Some(fsio::update_in_place(path, bytes, resource.into_bytes())?);
    }
    for dir in &missing {
        fsio::create_output_dir(dir, false)?;
    }
    fsio::write_all(&files, args.force)?;
    outcome.written = files
        .into_iter()
        .map(|f| (f.path, String::from_utf8_lossy(&f.contents).into_owned()))
        .collect();

    let stdout = match (resource_to_stdout, client_to_stdout) {
        (Some(resource), Some(client)) if args.fragment => format!(
            "// resource app manifest\n{resource}\n// client app manifest\n{}",
            fragment_text(client)
        ),
        (Some(resource), Some(client)) => {
            let resource: Value = serde_json::from_str(&resource).expect("keycred's own JSON");
            let mut both = Map::new();
            both.insert("resourceApp".into(), resource);
            both.insert("clientApp".into(), Value::Object(client.clone()));
            render(&both, false)
        }
        (Some(resource), None) => resource,
        (None, Some(client)) => render(client, args.fragment),
        (None, None) => String::new(),
    };
    outcome.stdout = stdout;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(value: &str) -> RoleSpec {
        RoleSpec {
            value: value.into(),
            ..RoleSpec::default()
        }
    }

    #[test]
    fn a_fragment_with_stable_ids_and_the_client_request() {
        let request = AppRolesRequest {
            specs: vec![spec("Orders.Read"), spec("Orders.Write")],
            stable_ids: Some("api://orders".into()),
            resource_app_id: Some("11111111-2222-3333-4444-555555555555".into()),
            ..AppRolesRequest::default()
        };
        let first = app_roles(request.clone()).unwrap();
        let again = app_roles(request).unwrap();
        assert_eq!(first.stdout, again.stdout, "stable ids: the same output");
        let doc: Value = serde_json::from_str(&first.stdout).unwrap();
        assert_eq!(doc["resourceApp"]["appRoles"].as_array().unwrap().len(), 2);
        assert_eq!(
            doc["clientApp"]["requiredResourceAccess"][0]["resourceAccess"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert!(first.written.is_empty() && first.backup.is_none());
    }

    #[test]
    fn merging_in_place_keeps_a_backup_and_refuses_what_entra_would() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("app.json");
        std::fs::write(
            &manifest,
            r#"{"api": {}, "appRoles": [], "keyCredentials": []}"#,
        )
        .unwrap();
        let merge = |specs: Vec<RoleSpec>, remove: Vec<String>| AppRolesRequest {
            specs,
            merge: Some(manifest.clone()),
            in_place: true,
            remove,
            ..AppRolesRequest::default()
        };
        let outcome = app_roles(merge(vec![spec("Orders.Read")], Vec::new())).unwrap();
        assert_eq!(
            outcome.backup.as_deref(),
            Some(dir.path().join("app.json.bak").as_path())
        );
        assert!(outcome.stdout.is_empty());
        let err = app_roles(merge(Vec::new(), vec!["Orders.Read".into()]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("first run with --disable"), "{err}");
        let err = app_roles(merge(vec![spec("bad value")], Vec::new()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad value"), "{err}");
        let err = app_roles(AppRolesRequest {
            out: Some(manifest.clone()),
            in_place: false,
            ..merge(vec![spec("Orders.Write")], Vec::new())
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("is the manifest being merged"), "{err}");
        let err = app_roles(AppRolesRequest {
            resource_app_id: Some("11111111-2222-3333-4444-555555555555".into()),
            specs: vec![RoleSpec {
                allowed_member_types: Some(vec!["User".into()]),
                ..spec("Orders.Admin")
            }],
            ..AppRolesRequest::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("nothing the client app can request"), "{err}");
    }
}
