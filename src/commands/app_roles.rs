//! `keycred manifest app-roles`: gather role specs from templates, files and flags, validate them into one
//! role set, and emit the resource app's fragment (or merged manifest) and the client app's request.

use std::path::PathBuf;

use keycred::fsio::{self, Access, OutputFile};
use keycred::manifest::app_roles::{self, IdPolicy, RoleSet, RoleSpec, WireAppRole};
use keycred::manifest::document::fragment_text;
use keycred::manifest::{roles_source, Manifest, ManifestFormat};
use serde_json::{json, Map, Value};

use crate::cli::{AppRolesArgs, MemberTypes};

pub fn run(args: AppRolesArgs, positions: &clap::ArgMatches) -> anyhow::Result<i32> {
    let specs = gather_specs(&args, positions)?;
    produce(&args, specs)?;
    Ok(keycred::exit::SUCCESS)
}

/// Validates `specs` (plus what `args` names besides --role flags is already in them) and writes or prints
/// the outputs `args` asks for. The wizard calls this with the roles it asked for.
pub fn produce(args: &AppRolesArgs, specs: Vec<RoleSpec>) -> anyhow::Result<()> {
    let ids = match &args.stable_ids {
        Some(namespace) => IdPolicy::stable(namespace)?,
        None => IdPolicy::Random,
    };
    if let Some(uri) = &args.identifier_uri {
        app_roles::check_identifier_uri(uri)?;
    }
    let resource_app_id = args
        .resource_app_id
        .as_deref()
        .map(|id| app_roles::parse_guid(id, "--resource-app-id"))
        .transpose()?;
    let format = args.format.map(ManifestFormat::from);

    // An in-place merge runs under the manifest's lock, as `rotate --in-place` does.
    let _lock = match (&args.merge, args.in_place) {
        (Some(path), true) => Some(fsio::Lock::acquire(path)?),
        _ => None,
    };
    let (resource, summaries, original) = match &args.merge {
        Some(path) => {
            let bytes = super::read_input(path)?;
            let text = super::utf8(path, bytes.clone())?;
            let mut manifest = Manifest::parse(&text, &path.display().to_string(), format)?;
            let set = if specs.is_empty() {
                None
            } else {
                Some(RoleSet::build(specs, ids, &manifest.existing_roles())?)
            };
            if set.is_none()
                && args.disable.is_empty()
                && args.remove.is_empty()
                && args.identifier_uri.is_none()
            {
                return Err(keycred::Error::Invalid(
                    "nothing to merge: give roles (--role, --roles-file, --template), --disable, --remove or --identifier-uri"
                        .into(),
                )
                .into());
            }
            manifest.merge_roles(set.as_ref(), &args.disable, &args.remove)?;
            if let Some(uri) = &args.identifier_uri {
                manifest.add_identifier_uri(uri)?;
            }
            (
                manifest.render(),
                manifest.role_summaries(),
                Some((path.clone(), bytes)),
            )
        }
        None => {
            let set = RoleSet::build(specs, ids, &[])?;
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
            eprintln!(
                "keycred: note: role {value:?} is disabled or user-only, so the client app cannot request it as an application permission"
            );
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
        anyhow::bail!("--client-app: none of the roles is an enabled application role, so there is nothing the client app can request");
    }

    write_outputs(args, resource, client, original)
}

/// Templates first, then the roles file, then --role flags with the options that follow each.
pub fn gather_specs(
    args: &AppRolesArgs,
    positions: &clap::ArgMatches,
) -> anyhow::Result<Vec<RoleSpec>> {
    let mut specs = Vec::new();
    if let Some(name) = &args.template {
        specs.extend(roles_source::builtin_template(name)?.roles);
    }
    if let Some(path) = &args.template_file {
        specs.extend(
            roles_source::parse_template(&super::read_text(path)?, &path.display().to_string())?
                .roles,
        );
    }
    if let Some(path) = &args.roles_file {
        specs.extend(roles_source::parse_roles_file(
            &super::read_text(path)?,
            &path.display().to_string(),
        )?);
    }

    let role_positions: Vec<usize> = positions
        .indices_of("roles")
        .map(Iterator::collect)
        .unwrap_or_default();
    let mut flag_specs: Vec<RoleSpec> = args
        .roles
        .iter()
        .map(|text| {
            let mut parts = text.splitn(3, ':');
            RoleSpec {
                value: parts.next().unwrap_or_default().trim().to_owned(),
                display_name: parts.next().map(|s| s.trim().to_owned()),
                description: parts.next().map(|s| s.trim().to_owned()),
                ..RoleSpec::default()
            }
        })
        .collect();

    let owner = |option: &str, index: usize| -> anyhow::Result<usize> {
        role_positions
            .iter()
            .rposition(|p| *p < index)
            .ok_or_else(|| {
                keycred::Error::Invalid(format!("{option} must follow the --role it describes"))
                    .into()
            })
    };
    let attach = |option: &str,
                  id: &str,
                  values: &[String],
                  specs: &mut Vec<RoleSpec>,
                  set: fn(&mut RoleSpec, String) -> bool|
     -> anyhow::Result<()> {
        let indices: Vec<usize> = positions
            .indices_of(id)
            .map(Iterator::collect)
            .unwrap_or_default();
        for (value, index) in values.iter().zip(indices) {
            let role = owner(option, index)?;
            if !set(&mut specs[role], value.clone()) {
                return Err(keycred::Error::Invalid(format!(
                    "role {:?} is given {option} twice (or also in its VALUE:NAME:DESCRIPTION form)",
                    specs[role].value
                ))
                .into());
            }
        }
        Ok(())
    };
    attach(
        "--display-name",
        "display_name",
        &args.display_name,
        &mut flag_specs,
        |s, v| s.display_name.replace(v).is_none(),
    )?;
    attach(
        "--description",
        "description",
        &args.description,
        &mut flag_specs,
        |s, v| s.description.replace(v).is_none(),
    )?;
    let member_texts: Vec<String> = args
        .member_types
        .iter()
        .map(|m| match m {
            MemberTypes::Application => "Application",
            MemberTypes::User => "User",
            MemberTypes::Both => "Both",
        })
        .map(str::to_owned)
        .collect();
    attach(
        "--member-types",
        "member_types",
        &member_texts,
        &mut flag_specs,
        |s, v| {
            let types = if v == "Both" {
                vec!["Application".to_owned(), "User".to_owned()]
            } else {
                vec![v]
            };
            s.allowed_member_types.replace(types).is_none()
        },
    )?;
    specs.extend(flag_specs);
    Ok(specs)
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
    args: &AppRolesArgs,
    resource: String,
    client: Option<Map<String, Value>>,
    original: Option<(PathBuf, Vec<u8>)>,
) -> anyhow::Result<()> {
    if let (Some(out), Some((manifest, _))) = (&args.out, &original) {
        if fsio::same_file(out, manifest) {
            anyhow::bail!(
                "--out {} is the manifest being merged: use --in-place to replace it (a .bak copy is kept)",
                out.display()
            );
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
    for file in &files {
        if let Some(dir) = file.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fsio::check_output_dir(dir)?;
        }
    }
    fsio::check_targets(&files, args.force)?;

    if args.in_place {
        let (path, bytes) = original.as_ref().expect("--in-place requires --merge");
        // The backup holds the manifest as it was before this run; the manifest itself is replaced atomically.
        let backup = fsio::update_in_place(path, bytes, resource.into_bytes())?;
        eprintln!(
            "keycred: updated {} (the previous version is in {})",
            path.display(),
            backup.display()
        );
    }
    fsio::write_all(&files, args.force)?;

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
    super::print(&stdout);
    Ok(())
}
