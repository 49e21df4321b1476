//! The wizard's app-roles questions, the request they make, and the equivalent command line.

use std::path::{Path, PathBuf};

use console::Term;
use keycred::fsio::{self, Access, OutputFile};
use keycred::manifest::app_roles::{
    self, derive_description, derive_display_name, MemberType, RoleSpec,
};
use keycred::manifest::roles_source::builtin_templates;
use keycred::manifest::ManifestFormat;
use keycred::workflow::app_roles::AppRolesRequest;

use super::prompts::{confirm, select, text};
use keycred::shell::word as quote;

/// What the admin answered about the resource app's roles.
pub(super) struct RolesAnswers {
    pub template: Option<String>,
    pub specs: Vec<RoleSpec>,
    pub identifier_uri: Option<String>,
    /// Without an identifier URI, a namespace chosen here, so that the printed command gives the same ids.
    pub stable_ids: Option<String>,
    pub resource_app_id: Option<String>,
    pub format: ManifestFormat,
    pub out: PathBuf,
    pub client_out: Option<PathBuf>,
}

impl RolesAnswers {
    /// The app-roles request the answers describe: what `keycred manifest app-roles` builds from the same flags.
    pub fn request(&self) -> AppRolesRequest {
        AppRolesRequest {
            specs: self.specs.clone(),
            stable_ids: self.stable_ids.clone(),
            format: Some(self.format),
            resource_app_id: self.resource_app_id.clone(),
            identifier_uri: self.identifier_uri.clone(),
            out: Some(self.out.clone()),
            client_out: self.client_out.clone(),
            ..AppRolesRequest::default()
        }
    }

    /// `keycred manifest app-roles` with the same answers.
    pub fn command(&self) -> String {
        let r = self;
        let mut line = String::from("keycred manifest app-roles");
        match &r.template {
            Some(name) => line.push_str(&format!(" --template {}", quote(name))),
            None => {
                for spec in &r.specs {
                    line.push_str(&format!(" --role {}", quote(&spec.value)));
                    if let Some(d) = &spec.display_name {
                        line.push_str(&format!(" --display-name {}", quote(d)));
                    }
                    if let Some(d) = &spec.description {
                        line.push_str(&format!(" --description {}", quote(d)));
                    }
                    let members = spec.allowed_member_types.clone().unwrap_or_default();
                    let flag = match (
                        members.iter().any(|m| m == "Application"),
                        members.iter().any(|m| m == "User"),
                    ) {
                        (true, true) => "both",
                        (false, true) => "user",
                        _ => "application",
                    };
                    line.push_str(&format!(" --member-types {flag}"));
                }
            }
        }
        if let Some(uri) = &r.identifier_uri {
            line.push_str(&format!(" --identifier-uri {}", quote(uri)));
        }
        if let Some(namespace) = &r.stable_ids {
            line.push_str(&format!(" --stable-ids {}", quote(namespace)));
        }
        line.push_str(&format!(
            " --format {}",
            keycred::manifest::document::format_name(r.format)
        ));
        if let Some(id) = &r.resource_app_id {
            line.push_str(&format!(" --client-app --resource-app-id {id}"));
        }
        line.push_str(&format!(" --out {}", quote(&r.out.display().to_string())));
        if let Some(c) = &r.client_out {
            line.push_str(&format!(
                " --client-out {}",
                quote(&c.display().to_string())
            ));
        }
        line
    }
}

/// Asks for the resource app's roles. `client` names the client (daemon) app's files; `format` is the format
/// already asked for the credential, if any, so it is asked once.
pub(super) fn ask_roles(
    term: &Term,
    out: &Path,
    client: &str,
    format: Option<ManifestFormat>,
) -> anyhow::Result<RolesAnswers> {
    let mut template = None;
    let mut specs: Vec<RoleSpec> = Vec::new();
    if select(
        term,
        "App roles",
        &["Use a template", "Add roles one by one"],
        0,
    )? == 0
    {
        let templates = builtin_templates();
        let items: Vec<String> = templates
            .iter()
            .map(|t| format!("{}: {}", t.name, t.description))
            .collect();
        let items: Vec<&str> = items.iter().map(String::as_str).collect();
        let chosen = &templates[select(term, "Template", &items, 0)?];
        template = Some(chosen.name.clone());
        specs = chosen.roles.clone();
    } else {
        loop {
            let taken: Vec<String> = specs.iter().map(|s| s.value.clone()).collect();
            specs.push(ask_one_role(term, &taken)?);
            if !confirm(term, "Add another role?", false)? {
                break;
            }
        }
    }
    let uri = text(
        term,
        "Identifier URI of the resource app (api://..., empty for none)",
        Some(""),
        |u| {
            if u.is_empty() {
                Ok(())
            } else {
                app_roles::check_identifier_uri(u).map_err(super::prompts::said)
            }
        },
    )?;
    let resource_app_id = if confirm(
        term,
        "Also write the client app's requiredResourceAccess?",
        true,
    )? {
        Some(text(
            term,
            "The resource app's appId (client id)",
            None,
            |g| {
                app_roles::parse_guid(g, "the appId")
                    .map(drop)
                    .map_err(super::prompts::said)
            },
        )?)
    } else {
        None
    };
    let format = match format {
        Some(format) => format,
        None => super::credential::ask_format(term, "Manifest format")?,
    };
    let not_there = |p: &PathBuf| -> Result<(), String> {
        fsio::check_targets(&[OutputFile::new(p, Vec::new(), Access::Public)], false)
            .map_err(super::prompts::said)
    };
    // The roles belong to the resource (API) app: its file is named after the API.
    let api = api_name(&uri).unwrap_or_else(|| "api".to_owned());
    let out_file = out.join(format!("{api}.approles.json"));
    not_there(&out_file).map_err(|e| anyhow::anyhow!(e))?;
    let client_out = resource_app_id
        .as_ref()
        .map(|_| out.join(format!("{client}.client.json")));
    if let Some(c) = &client_out {
        not_there(c).map_err(|e| anyhow::anyhow!(e))?;
    }
    Ok(RolesAnswers {
        template,
        specs,
        stable_ids: uri.is_empty().then(|| uuid::Uuid::new_v4().to_string()),
        identifier_uri: (!uri.is_empty()).then_some(uri),
        resource_app_id,
        format,
        out: out_file,
        client_out,
    })
}

/// One role, asked for: its value (unique among `taken`), who can hold it, its display name and description.
fn ask_one_role(term: &Term, taken: &[String]) -> anyhow::Result<RoleSpec> {
    let value = text(
        term,
        "Role value (the roles claim, e.g. Orders.Read)",
        None,
        |v| {
            app_roles::check_value(v)
                .map_err(|rule| format!("{rule} (Entra's rule for app role values)"))?;
            if let Some(other) = taken.iter().find(|t| t.eq_ignore_ascii_case(v)) {
                return Err(format!(
                    "value is not unique: it equals {other:?} (compared case-insensitively)"
                ));
            }
            Ok(())
        },
    )?;
    let members = match select(
        term,
        "Who can hold it",
        &[
            "Applications (application permission: client credentials)",
            "Users and groups",
            "Both",
        ],
        0,
    )? {
        0 => vec![MemberType::Application],
        1 => vec![MemberType::User],
        _ => vec![MemberType::Application, MemberType::User],
    };
    let display = text(
        term,
        "Display name",
        Some(&derive_display_name(&value)),
        |d| {
            if d.trim().is_empty() {
                Err("the display name is empty".into())
            } else {
                Ok(())
            }
        },
    )?;
    let description = text(
        term,
        "Description",
        Some(&derive_description(&value, &members)),
        |d| {
            if d.trim().is_empty() {
                Err("the description is empty".into())
            } else {
                Ok(())
            }
        },
    )?;
    Ok(RoleSpec {
        value,
        display_name: Some(display),
        description: Some(description),
        allowed_member_types: Some(
            members
                .iter()
                .map(|m| match m {
                    MemberType::Application => "Application".to_owned(),
                    MemberType::User => "User".to_owned(),
                })
                .collect(),
        ),
        id: None,
        is_enabled: None,
    })
}

/// A file name for the API from its identifier URI: `api://contoso-orders` → `contoso-orders`.
fn api_name(uri: &str) -> Option<String> {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let last = rest.trim_end_matches('/').rsplit('/').next()?;
    let name = keycred::provision::default_name(last);
    (name != "keycred" && !last.is_empty()).then_some(name)
}
