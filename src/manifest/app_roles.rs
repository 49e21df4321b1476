//! App roles: what a resource (API) app registration offers, and what client apps request.
//!
//! Flags, roles files, templates and wizard answers all produce [`RoleSpec`]s, raw and partly empty. One step,
//! [`RoleSet::build`], fills the defaults, assigns ids and checks every rule Entra enforces, naming the role and
//! the rule it breaks. The wire shapes ([`WireAppRole`], [`RequiredResourceAccess`]) follow the Microsoft Graph
//! documentation: <https://learn.microsoft.com/graph/api/resources/approle> and
//! <https://learn.microsoft.com/graph/api/resources/requiredresourceaccess>.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The longest role value Entra accepts.
pub const MAX_VALUE_LEN: usize = 120;

/// Punctuation Entra allows in a role value, besides ASCII letters and digits.
pub const VALUE_PUNCTUATION: &str = "!#$%&'()*+,-./:;<=>?@[]^_`{|}~";

/// Who a role can be assigned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MemberType {
    /// Other applications' service principals: an application permission, what the client credentials flow uses.
    Application,
    /// Users and groups.
    User,
}

impl MemberType {
    /// Reads `Application` or `User` (any case).
    pub fn parse(text: &str) -> Option<MemberType> {
        match text.to_ascii_lowercase().as_str() {
            "application" => Some(MemberType::Application),
            "user" => Some(MemberType::User),
            _ => None,
        }
    }
}

/// A role as asked for: everything but the value may be missing and is then derived.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleSpec {
    /// The role's value, the text that appears in the token's `roles` claim.
    #[serde(default)]
    pub value: String,
    /// The name shown in the portal and the consent prompt.
    pub display_name: Option<String>,
    /// The description shown in the portal and the consent prompt.
    pub description: Option<String>,
    /// `Application`, `User`, or both (as text, so a wrong entry can be reported by name).
    pub allowed_member_types: Option<Vec<String>>,
    /// A fixed id (as text, so a malformed one can be reported with the role's name).
    pub id: Option<String>,
    /// Whether the role is enabled.
    pub is_enabled: Option<bool>,
}

/// A validated app role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRole {
    /// Who it can be assigned to; never empty.
    pub allowed_member_types: Vec<MemberType>,
    /// Never empty.
    pub description: String,
    /// Never empty.
    pub display_name: String,
    /// Unique within the set.
    pub id: Uuid,
    /// Whether it is enabled.
    pub is_enabled: bool,
    /// The claim value; follows Entra's rules.
    pub value: String,
    /// Whether `is_enabled` was given explicitly (merging keeps an existing role's state otherwise).
    pub is_enabled_explicit: bool,
}

/// How new role ids are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdPolicy {
    /// Random (v4) ids.
    Random,
    /// Name-based (v5) ids from this namespace and the role's value, the same on every run.
    Stable(Uuid),
}

impl IdPolicy {
    /// `--stable-ids NAMESPACE`: a UUID is used as the namespace itself; any other text becomes one, as the
    /// v5 UUID of `keycred:TEXT` in the URL namespace.
    pub fn stable(namespace: &str) -> Result<IdPolicy> {
        let trimmed = namespace.trim();
        if trimmed.is_empty() {
            return Err(Error::Invalid(
                "--stable-ids needs a namespace: a UUID (such as the resource app's appId) or any text".into(),
            ));
        }
        Ok(IdPolicy::Stable(Uuid::parse_str(trimmed).unwrap_or_else(
            |_| {
                Uuid::new_v5(
                    &Uuid::NAMESPACE_URL,
                    format!("keycred:{trimmed}").as_bytes(),
                )
            },
        )))
    }

    fn id_for(&self, value: &str) -> Uuid {
        match self {
            IdPolicy::Random => Uuid::new_v4(),
            IdPolicy::Stable(namespace) => Uuid::new_v5(namespace, value.as_bytes()),
        }
    }
}

/// A role already in a manifest, as far as id assignment needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingRole {
    /// Its value.
    pub value: String,
    /// Its id.
    pub id: Uuid,
}

/// A checked, complete set of roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSet {
    roles: Vec<AppRole>,
}

impl RoleSet {
    /// Fills defaults, assigns ids (an existing role with the same value, compared case-insensitively, keeps
    /// its id), and checks every rule. Fails on the first problem, naming the role and the rule.
    pub fn build(
        specs: Vec<RoleSpec>,
        ids: IdPolicy,
        existing: &[ExistingRole],
    ) -> Result<RoleSet> {
        if specs.is_empty() {
            return Err(Error::Invalid(
                "no roles given: use --role VALUE, --roles-file FILE, --template NAME or --template-file FILE"
                    .into(),
            ));
        }
        let mut roles: Vec<AppRole> = Vec::with_capacity(specs.len());
        for (index, spec) in specs.into_iter().enumerate() {
            let role = build_role(spec, index, ids, existing)?;
            if let Some(other) = roles
                .iter()
                .find(|r| r.value.eq_ignore_ascii_case(&role.value))
            {
                return Err(role_error(
                    &role.value,
                    format!(
                        "value is not unique: it equals {:?} (values are compared case-insensitively)",
                        other.value
                    ),
                ));
            }
            if let Some(other) = roles.iter().find(|r| r.id == role.id) {
                return Err(role_error(
                    &role.value,
                    format!(
                        "id {} is already used by role {:?}; ids must be unique",
                        role.id, other.value
                    ),
                ));
            }
            roles.push(role);
        }
        Ok(RoleSet { roles })
    }

    /// The roles in order.
    pub fn roles(&self) -> &[AppRole] {
        &self.roles
    }
}

fn role_error(role: &str, rule: impl Into<String>) -> Error {
    Error::Role {
        role: format!("{role:?}"),
        rule: rule.into(),
    }
}

/// Checks a role value against Entra's rules; `Err` is the rule broken.
pub fn check_value(value: &str) -> std::result::Result<(), String> {
    if value.is_empty() {
        return Err("value is required".into());
    }
    if value.chars().count() > MAX_VALUE_LEN {
        return Err(format!(
            "value is {} characters long; the limit is {MAX_VALUE_LEN}",
            value.chars().count()
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_whitespace()) {
        return Err(format!(
            "value contains whitespace ({c:?}); spaces are not allowed"
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || VALUE_PUNCTUATION.contains(*c)))
    {
        return Err(format!(
            "value contains {c:?}; only 0-9, A-Z, a-z and {VALUE_PUNCTUATION} are allowed"
        ));
    }
    if value.starts_with('.') {
        return Err("value must not start with '.'".into());
    }
    Ok(())
}

fn build_role(
    spec: RoleSpec,
    index: usize,
    ids: IdPolicy,
    existing: &[ExistingRole],
) -> Result<AppRole> {
    let name = if spec.value.is_empty() {
        format!("#{}", index + 1)
    } else {
        spec.value.clone()
    };
    check_value(&spec.value).map_err(|rule| role_error(&name, rule))?;

    let allowed_member_types = match spec.allowed_member_types {
        None => vec![MemberType::Application],
        Some(types) if types.is_empty() => {
            return Err(role_error(
                &name,
                "allowedMemberTypes is empty; use Application, User, or both",
            ))
        }
        Some(types) => {
            let mut parsed = Vec::new();
            for text in &types {
                let member = MemberType::parse(text).ok_or_else(|| {
                    role_error(
                        &name,
                        format!("allowedMemberTypes has {text:?}; only Application and User are allowed"),
                    )
                })?;
                if !parsed.contains(&member) {
                    parsed.push(member);
                }
            }
            parsed
        }
    };

    let display_name = match spec.display_name {
        Some(text) if text.trim().is_empty() => {
            return Err(role_error(
                &name,
                "displayName is empty; give a name or leave it out to derive one",
            ))
        }
        Some(text) => text,
        None => derive_display_name(&spec.value),
    };
    let description = match spec.description {
        Some(text) if text.trim().is_empty() => {
            return Err(role_error(
                &name,
                "description is empty; give one or leave it out to derive one",
            ))
        }
        Some(text) => text,
        None => derive_description(&spec.value, &allowed_member_types),
    };

    let existing_id = existing
        .iter()
        .find(|e| e.value.eq_ignore_ascii_case(&spec.value))
        .map(|e| e.id);
    let id = match (spec.id, existing_id) {
        (Some(text), existing_id) => {
            let id = Uuid::parse_str(text.trim())
                .map_err(|_| role_error(&name, format!("id {text:?} is not a UUID")))?;
            if let Some(existing_id) = existing_id.filter(|e| *e != id) {
                return Err(role_error(
                    &name,
                    format!(
                        "id {id} differs from the manifest's id {existing_id} for this value; an existing role keeps its id"
                    ),
                ));
            }
            id
        }
        (None, Some(existing_id)) => existing_id,
        (None, None) => ids.id_for(&spec.value),
    };

    Ok(AppRole {
        allowed_member_types,
        description,
        display_name,
        id,
        is_enabled: spec.is_enabled.unwrap_or(true),
        is_enabled_explicit: spec.is_enabled.is_some(),
        value: spec.value,
    })
}

/// `Resource.Read` → `Resource Read`: the value with `.`, `_`, `-` and `:` turned into spaces.
pub fn derive_display_name(value: &str) -> String {
    let spaced: String = value
        .chars()
        .map(|c| {
            if matches!(c, '.' | '_' | '-' | ':') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let words: Vec<&str> = spaced.split_whitespace().collect();
    if words.is_empty() {
        value.to_owned()
    } else {
        words.join(" ")
    }
}

/// `Grants applications the Resource.Read role.` (or users, or users and applications).
pub fn derive_description(value: &str, members: &[MemberType]) -> String {
    let who = match (
        members.contains(&MemberType::Application),
        members.contains(&MemberType::User),
    ) {
        (true, true) => "users and applications",
        (false, true) => "users",
        _ => "applications",
    };
    format!("Grants {who} the {value} role.")
}

/// The client app's `requiredResourceAccess` entry for the enabled application roles of `roles`. Roles that
/// only users can hold, and disabled roles, cannot be requested as application permissions and are left out;
/// their values are returned so the caller can say so.
pub fn required_resource_access<'a>(
    resource_app_id: Uuid,
    roles: impl IntoIterator<Item = (&'a str, Uuid, bool, bool)>,
) -> (RequiredResourceAccess, Vec<String>) {
    let mut access = Vec::new();
    let mut skipped = Vec::new();
    for (value, id, application, enabled) in roles {
        if application && enabled {
            access.push(ResourceAccess { id, kind: "Role" });
        } else {
            skipped.push(value.to_owned());
        }
    }
    (
        RequiredResourceAccess {
            resource_app_id,
            resource_access: access,
        },
        skipped,
    )
}

pub use super::wire_roles::{RequiredResourceAccess, ResourceAccess, WireAppRole};

/// Checks an identifier URI for `identifierUris`: `api://…` or `https://…`, no trailing slash, no `/.default`.
pub fn check_identifier_uri(uri: &str) -> Result<()> {
    let fail = |rule: &str| Err(Error::Invalid(format!("identifier URI {uri:?}: {rule}")));
    let rest = if let Some(rest) = uri.strip_prefix("api://") {
        rest
    } else if let Some(rest) = uri.strip_prefix("https://") {
        rest
    } else {
        return fail("must start with api:// or https:// (api://<appId> is the portal's default)");
    };
    if rest.is_empty() || rest.starts_with('/') {
        return fail("has nothing after the scheme; use api://<appId> or api://<host>/<path>");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail("contains whitespace");
    }
    if uri.ends_with('/') {
        return fail("must not end with '/'");
    }
    if uri.to_ascii_lowercase().contains("/.default") {
        return fail(
            "must not contain /.default (that suffix belongs in a token request's scope, not here)",
        );
    }
    if uri.contains('*') {
        return fail("must not contain wildcards");
    }
    Ok(())
}

/// Parses a GUID given for an app id or object id, naming the option.
pub fn parse_guid(text: &str, option: &str) -> Result<Uuid> {
    Uuid::parse_str(text.trim()).map_err(|_| {
        Error::Invalid(format!(
            "{option} {text:?} is not a GUID (expected the form 00000000-0000-0000-0000-000000000000)"
        ))
    })
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
    fn defaults_are_derived() {
        let set = RoleSet::build(vec![spec("Resource.Read")], IdPolicy::Random, &[]).unwrap();
        let role = &set.roles()[0];
        assert_eq!(role.display_name, "Resource Read");
        assert_eq!(
            role.description,
            "Grants applications the Resource.Read role."
        );
        assert_eq!(role.allowed_member_types, [MemberType::Application]);
        assert!(role.is_enabled);
        assert_eq!(role.id.get_version_num(), 4);
    }

    #[test]
    fn stable_ids_repeat_and_existing_ids_are_kept() {
        let policy = IdPolicy::stable("contoso-api").unwrap();
        let a = RoleSet::build(vec![spec("Resource.Read")], policy, &[]).unwrap();
        let b = RoleSet::build(vec![spec("Resource.Read")], policy, &[]).unwrap();
        assert_eq!(a.roles()[0].id, b.roles()[0].id);
        assert_eq!(a.roles()[0].id.get_version_num(), 5);
        let namespace = Uuid::parse_str("11111111-2222-3333-4444-555555555555").unwrap();
        assert_eq!(
            IdPolicy::stable("11111111-2222-3333-4444-555555555555").unwrap(),
            IdPolicy::Stable(namespace)
        );

        let existing = [ExistingRole {
            value: "resource.read".into(),
            id: Uuid::nil(),
        }];
        let kept = RoleSet::build(vec![spec("Resource.Read")], policy, &existing).unwrap();
        assert_eq!(kept.roles()[0].id, Uuid::nil());
    }

    #[test]
    fn every_rule_is_named() {
        let long = "a".repeat(121);
        let cases: Vec<(Vec<RoleSpec>, &str)> = vec![
            (vec![spec("")], "value is required"),
            (vec![spec(&long)], "121 characters long; the limit is 120"),
            (vec![spec("Read All")], "contains whitespace"),
            (vec![spec("Read\"All")], "contains '\"'"),
            (vec![spec("Résumé")], "contains 'é'"),
            (vec![spec(".Read")], "must not start with '.'"),
            (vec![spec("Read"), spec("READ")], "value is not unique"),
            (
                vec![RoleSpec {
                    id: Some("not-a-uuid".into()),
                    ..spec("A")
                }],
                "is not a UUID",
            ),
            (
                vec![
                    RoleSpec {
                        id: Some(Uuid::nil().to_string()),
                        ..spec("A")
                    },
                    RoleSpec {
                        id: Some(Uuid::nil().to_string()),
                        ..spec("B")
                    },
                ],
                "ids must be unique",
            ),
            (
                vec![RoleSpec {
                    display_name: Some(" ".into()),
                    ..spec("A")
                }],
                "displayName is empty",
            ),
            (
                vec![RoleSpec {
                    description: Some(String::new()),
                    ..spec("A")
                }],
                "description is empty",
            ),
            (
                vec![RoleSpec {
                    allowed_member_types: Some(vec![]),
                    ..spec("A")
                }],
                "allowedMemberTypes is empty",
            ),
            (
                vec![RoleSpec {
                    allowed_member_types: Some(vec!["Group".into()]),
                    ..spec("A")
                }],
                "allowedMemberTypes has \"Group\"",
            ),
            (vec![], "no roles given"),
        ];
        for (specs, expected) in cases {
            let err = RoleSet::build(specs, IdPolicy::Random, &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "expected {expected:?} in {err}");
        }
    }

    #[test]
    fn every_allowed_punctuation_character_is_accepted() {
        let value = format!("a{VALUE_PUNCTUATION}");
        check_value(&value).unwrap();
        assert_eq!(check_value(&"x".repeat(120)), Ok(()));
    }

    #[test]
    fn identifier_uris_are_checked() {
        for good in [
            "api://11111111-2222-3333-4444-555555555555",
            "api://contoso.com/orders",
            "https://contoso.com/api",
        ] {
            check_identifier_uri(good).unwrap();
        }
        for (bad, rule) in [
            ("http://contoso.com", "must start with api://"),
            ("contoso", "must start with api://"),
            ("api://", "nothing after the scheme"),
            ("api://contoso/", "must not end with '/'"),
            ("api://contoso/.default", "must not contain /.default"),
            ("api://con toso", "whitespace"),
        ] {
            let err = check_identifier_uri(bad).unwrap_err().to_string();
            assert!(err.contains(rule), "{bad}: {err}");
        }
    }

    #[test]
    fn client_access_lists_only_enabled_application_roles() {
        let app = Uuid::nil();
        let (access, skipped) = required_resource_access(
            app,
            [
                ("A", Uuid::from_u128(1), true, true),
                ("UserOnly", Uuid::from_u128(2), false, true),
                ("Off", Uuid::from_u128(3), true, false),
            ],
        );
        assert_eq!(access.resource_access.len(), 1);
        assert_eq!(access.resource_access[0].id, Uuid::from_u128(1));
        assert_eq!(skipped, ["UserOnly", "Off"]);
    }
}
