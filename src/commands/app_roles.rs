//! `keycred manifest app-roles`: gather role specs from templates, files and flags (with the per-role options
//! tied to the --role they follow), then run the app-roles workflow and print what it returns.

use keycred::manifest::app_roles::RoleSpec;
use keycred::manifest::roles_source;
use keycred::workflow::app_roles::{self, AppRolesRequest};

use crate::cli::{AppRolesArgs, MemberTypes};
use crate::terminal;

pub fn run(args: AppRolesArgs, positions: &clap::ArgMatches) -> anyhow::Result<i32> {
    let specs = gather_specs(&args, positions)?;
    let merged = args.merge.clone();
    let merged_to = args
        .out
        .clone()
        .or_else(|| args.merge.clone().filter(|_| args.in_place));
    let outcome = app_roles::app_roles(AppRolesRequest {
        specs,
        stable_ids: args.stable_ids,
        format: args.format.map(Into::into),
        fragment: args.fragment,
        resource_app_id: args.resource_app_id,
        identifier_uri: args.identifier_uri,
        merge: args.merge,
        disable: args.disable,
        remove: args.remove,
        out: args.out,
        in_place: args.in_place,
        client_out: args.client_out,
        force: args.force,
    })?;
    for note in &outcome.notes {
        terminal::note(note);
    }
    let printed = !outcome.stdout.is_empty();
    terminal::print(&outcome.stdout);
    if let Some(manifest) = &merged {
        let text = keycred::report::manifest::app_roles_merge_text(
            &outcome,
            manifest,
            merged_to.as_deref(),
        );
        // Standard output holds the JSON when the manifest or a fragment was printed.
        if printed {
            terminal::eprint_line(text.trim_end());
        } else {
            terminal::print(&text);
        }
    }
    Ok(keycred::exit::SUCCESS)
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
            roles_source::parse_template(
                &keycred::input::read_text(path)?,
                &path.display().to_string(),
            )?
            .roles,
        );
    }
    if let Some(path) = &args.roles_file {
        specs.extend(roles_source::parse_roles_file(
            &keycred::input::read_text(path)?,
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
