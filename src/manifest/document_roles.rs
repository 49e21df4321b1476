//! App roles inside a manifest document: reading them, merging new ones (ids kept, Entra's rules checked, the
//! disable-then-remove order enforced), and the identifier URI that goes with them. The document itself (parsing,
//! format detection, rendering) is [`super::document`].

use serde_json::{Map, Value};
use uuid::Uuid;

use super::app_roles::{check_value, ExistingRole, MemberType, RoleSet, WireAppRole};
use super::{Manifest, ManifestFormat};
use crate::error::{Error, Result};

impl Manifest {
    fn roles_array(&self) -> Option<&Vec<Value>> {
        self.root().get("appRoles").and_then(Value::as_array)
    }

    /// Checks `appRoles` is an array of objects with a value and a UUID id, ids unique.
    pub(crate) fn check_roles_array(&self) -> Result<()> {
        let Some(value) = self.root().get("appRoles") else {
            return Ok(());
        };
        let Some(roles) = value.as_array() else {
            return Err(self.document_error("appRoles is not an array"));
        };
        let mut seen: Vec<(Uuid, String)> = Vec::new();
        for (index, role) in roles.iter().enumerate() {
            let Some(object) = role.as_object() else {
                return Err(self.document_error(format!("appRoles[{index}] is not an object")));
            };
            let value = object
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let id = object
                .get("id")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| {
                    self.document_error(format!(
                        "appRoles[{index}] ({value:?}) has no valid id (a UUID string)"
                    ))
                })?;
            if let Some((_, other)) = seen.iter().find(|(seen_id, _)| *seen_id == id) {
                return Err(self.document_error(format!(
                    "appRoles has the id {id} twice (roles {other:?} and {value:?}); fix the manifest first"
                )));
            }
            seen.push((id, value.to_owned()));
        }
        Ok(())
    }

    /// The roles already present, for id assignment.
    pub fn existing_roles(&self) -> Vec<ExistingRole> {
        self.roles_array()
            .into_iter()
            .flatten()
            .filter_map(|role| {
                Some(ExistingRole {
                    value: role.get("value")?.as_str()?.to_owned(),
                    id: Uuid::parse_str(role.get("id")?.as_str()?).ok()?,
                })
            })
            .collect()
    }

    /// Every role as (value, id, assignable to applications, enabled), for `requiredResourceAccess`.
    pub fn role_summaries(&self) -> Vec<(String, Uuid, bool, bool)> {
        self.roles_array()
            .into_iter()
            .flatten()
            .filter_map(|role| {
                let members = role.get("allowedMemberTypes")?.as_array()?;
                Some((
                    role.get("value")?.as_str()?.to_owned(),
                    Uuid::parse_str(role.get("id")?.as_str()?).ok()?,
                    members.iter().any(|m| m.as_str() == Some("Application")),
                    role.get("isEnabled")
                        .and_then(Value::as_bool)
                        .unwrap_or(true),
                ))
            })
            .collect()
    }

    /// The values of the delegated permission scopes (`api.oauth2PermissionScopes`, legacy `oauth2Permissions`).
    pub fn scope_values(&self) -> Vec<String> {
        let scopes = match self.format() {
            ManifestFormat::Graph => self
                .root()
                .get("api")
                .and_then(|api| api.get("oauth2PermissionScopes")),
            ManifestFormat::Legacy => self.root().get("oauth2Permissions"),
        };
        scopes
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("value")?.as_str().map(str::to_owned))
            .collect()
    }

    /// Merges `roles` into `appRoles`: a role with the same value (case-insensitive) is updated in place and
    /// keeps its id and every field keycred does not set; a new role is appended. `disable` sets
    /// `isEnabled: false`; `remove` deletes a role, which Entra only allows once it is disabled, so removing an
    /// enabled role is refused. Then the whole collection is checked.
    pub fn merge_roles(
        &mut self,
        roles: Option<&RoleSet>,
        disable: &[String],
        remove: &[String],
    ) -> Result<()> {
        for value in disable.iter().chain(remove) {
            if roles.is_some_and(|set| {
                set.roles()
                    .iter()
                    .any(|r| r.value.eq_ignore_ascii_case(value))
            }) {
                return Err(role_error(
                    value,
                    "is both given as a role and asked to be disabled or removed; do one per run",
                ));
            }
        }
        let original = self.roles_array().cloned().unwrap_or_default();
        let mut array = original.clone();

        for role in roles.map(RoleSet::roles).into_iter().flatten() {
            let wire = serde_json::to_value(WireAppRole::from(role)).expect("roles serialize");
            match find_role(&array, &role.value) {
                Some(index) => {
                    let existing = array[index].as_object_mut().expect("checked to be objects");
                    for key in ["allowedMemberTypes", "description", "displayName", "value"] {
                        existing.insert(key.to_owned(), wire[key].clone());
                    }
                    if role.is_enabled_explicit || !existing.contains_key("isEnabled") {
                        existing.insert("isEnabled".to_owned(), Value::Bool(role.is_enabled));
                    }
                }
                None => array.push(wire),
            }
        }
        for value in disable {
            let index = find_role(&array, value).ok_or_else(|| {
                role_error(
                    value,
                    format!("--disable: there is no such role in {}", self.source()),
                )
            })?;
            array[index]["isEnabled"] = Value::Bool(false);
        }
        for value in remove {
            let index = find_role(&original, value).ok_or_else(|| {
                role_error(
                    value,
                    format!("--remove: there is no such role in {}", self.source()),
                )
            })?;
            if original[index]
                .get("isEnabled")
                .and_then(Value::as_bool)
                .unwrap_or(true)
            {
                return Err(role_error(
                    value,
                    "is enabled, and Entra rejects deleting an enabled role: first run with --disable and apply \
                     that manifest, then remove the role with --remove in a later run",
                ));
            }
            let index = find_role(&array, value).expect("present in the original, so present now");
            array.remove(index);
        }
        self.check_merged(&array)?;
        self.root_mut()
            .insert("appRoles".to_owned(), Value::Array(array));
        Ok(())
    }

    fn check_merged(&self, array: &[Value]) -> Result<()> {
        let scopes = self.scope_values();
        let mut values: Vec<&str> = Vec::new();
        for role in array {
            let value = role
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or_default();
            check_value(value).map_err(|rule| role_error(value, rule))?;
            let members = role.get("allowedMemberTypes").and_then(Value::as_array);
            let members_ok = members.is_some_and(|m| {
                !m.is_empty()
                    && m.iter()
                        .all(|v| v.as_str().and_then(MemberType::parse).is_some())
            });
            if !members_ok {
                return Err(role_error(
                    value,
                    "allowedMemberTypes must be a non-empty list of Application and User",
                ));
            }
            if let Some(other) = values.iter().find(|v| v.eq_ignore_ascii_case(value)) {
                return Err(role_error(
                    value,
                    format!("value is not unique: the manifest already has {other:?} (compared case-insensitively)"),
                ));
            }
            if let Some(scope) = scopes.iter().find(|s| s.eq_ignore_ascii_case(value)) {
                return Err(role_error(
                    value,
                    format!(
                        "value clashes with the delegated permission scope {scope:?} in {}; role and scope values must differ",
                        match self.format() {
                            ManifestFormat::Graph => "api.oauth2PermissionScopes",
                            ManifestFormat::Legacy => "oauth2Permissions",
                        }
                    ),
                ));
            }
            values.push(value);
        }
        let mut ids: Vec<&str> = Vec::new();
        for role in array {
            let id = role.get("id").and_then(Value::as_str).unwrap_or_default();
            if ids.contains(&id) {
                return Err(self.document_error(format!("appRoles would have the id {id} twice")));
            }
            ids.push(id);
        }
        Ok(())
    }

    /// The access-token version the API asks Entra for: `api.requestedAccessTokenVersion` (Graph) or
    /// `accessTokenAcceptedVersion` (legacy); missing or null means 1, as Entra reads it.
    pub fn access_token_version(&self) -> Result<u8> {
        let (name, value) = match self.format() {
            ManifestFormat::Graph => (
                "api.requestedAccessTokenVersion",
                self.root()
                    .get("api")
                    .and_then(|api| api.get("requestedAccessTokenVersion")),
            ),
            ManifestFormat::Legacy => (
                "accessTokenAcceptedVersion",
                self.root().get("accessTokenAcceptedVersion"),
            ),
        };
        match value {
            None | Some(Value::Null) => Ok(1),
            Some(v) if v.as_u64() == Some(1) => Ok(1),
            Some(v) if v.as_u64() == Some(2) => Ok(2),
            Some(other) => {
                Err(self.document_error(format!("{name} is {other}: Entra takes null, 1 or 2")))
            }
        }
    }

    /// The `identifierUris` (App ID URIs), the audience of v1 tokens.
    pub fn identifier_uris(&self) -> Vec<String> {
        self.root()
            .get("identifierUris")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|u| u.as_str().map(str::to_owned))
            .collect()
    }

    /// The `appId` (the API's client id), the audience of v2 tokens.
    pub fn app_id(&self) -> Option<String> {
        self.root()
            .get("appId")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
    }

    /// Adds `uri` to `identifierUris` (if absent) and asks for v2 access tokens, as Graph
    /// (`api.requestedAccessTokenVersion`) or the legacy manifest (`accessTokenAcceptedVersion`) spells it.
    pub fn add_identifier_uri(&mut self, uri: &str) -> Result<()> {
        let uris = self
            .root_mut()
            .entry("identifierUris")
            .or_insert_with(|| Value::Array(Vec::new()));
        let Some(list) = uris.as_array_mut() else {
            return Err(self.document_error("identifierUris is not an array"));
        };
        if !list.iter().any(|u| u.as_str() == Some(uri)) {
            list.push(Value::String(uri.to_owned()));
        }
        match self.format() {
            ManifestFormat::Graph => {
                let api = self
                    .root_mut()
                    .entry("api")
                    .or_insert_with(|| Value::Object(Map::new()));
                let Some(api) = api.as_object_mut() else {
                    return Err(self.document_error("api is not an object"));
                };
                api.insert("requestedAccessTokenVersion".to_owned(), Value::from(2));
            }
            ManifestFormat::Legacy => {
                self.root_mut()
                    .insert("accessTokenAcceptedVersion".to_owned(), Value::from(2));
            }
        }
        Ok(())
    }
}

fn find_role(array: &[Value], value: &str) -> Option<usize> {
    array.iter().position(|r| {
        r.get("value")
            .and_then(Value::as_str)
            .is_some_and(|v| v.eq_ignore_ascii_case(value))
    })
}

fn role_error(value: &str, rule: impl Into<String>) -> Error {
    Error::Role {
        role: format!("{value:?}"),
        rule: rule.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::app_roles::{IdPolicy, RoleSpec};

    const GRAPH: &str = r#"{
  "id": "8b0f...",
  "appId": "11111111-2222-3333-4444-555555555555",
  "zeta": {"unknown": [1, 2]},
  "api": {"oauth2PermissionScopes": [{"value": "user_impersonation", "id": "00000000-0000-0000-0000-0000000000aa"}]},
  "appRoles": [
    {"allowedMemberTypes": ["Application"], "description": "old", "displayName": "Old", "id": "00000000-0000-0000-0000-000000000001", "isEnabled": true, "lang": null, "origin": "Application", "value": "Resource.Read"},
    {"allowedMemberTypes": ["Application"], "description": "x", "displayName": "X", "id": "00000000-0000-0000-0000-000000000002", "isEnabled": false, "value": "Retired"}
  ],
  "alpha": true
}"#;

    fn set(values: &[&str]) -> RoleSet {
        RoleSet::build(
            values
                .iter()
                .map(|v| RoleSpec {
                    value: (*v).into(),
                    ..RoleSpec::default()
                })
                .collect(),
            IdPolicy::Stable(Uuid::nil()),
            &Manifest::parse(GRAPH, "m.json", None)
                .unwrap()
                .existing_roles(),
        )
        .unwrap()
    }

    #[test]
    fn merging_updates_in_place_and_appends() {
        let mut m = Manifest::parse(GRAPH, "m.json", None).unwrap();
        m.merge_roles(Some(&set(&["resource.read", "Resource.Write"])), &[], &[])
            .unwrap();
        let roles = m.root()["appRoles"].as_array().unwrap();
        assert_eq!(roles.len(), 3);
        assert_eq!(
            roles[0]["id"], "00000000-0000-0000-0000-000000000001",
            "kept its id"
        );
        assert_eq!(roles[0]["value"], "resource.read");
        assert_eq!(roles[0]["origin"], "Application", "unknown fields stay");
        let keys: Vec<_> = roles[0].as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "allowedMemberTypes",
                "description",
                "displayName",
                "id",
                "isEnabled",
                "lang",
                "origin",
                "value"
            ]
        );
        assert_eq!(roles[2]["value"], "Resource.Write");
        let top: Vec<_> = m.root().keys().cloned().collect();
        assert_eq!(top, ["id", "appId", "zeta", "api", "appRoles", "alpha"]);
    }

    #[test]
    fn removal_needs_a_disabled_role() {
        let mut m = Manifest::parse(GRAPH, "m.json", None).unwrap();
        let err = m
            .merge_roles(None, &[], &["Resource.Read".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("first run with --disable"), "{err}");
        m.merge_roles(None, &[], &["Retired".into()]).unwrap();
        assert_eq!(m.root()["appRoles"].as_array().unwrap().len(), 1);
        m.merge_roles(None, &["Resource.Read".into()], &[]).unwrap();
        assert_eq!(m.root()["appRoles"][0]["isEnabled"], false);
        let err = m
            .merge_roles(None, &["Nope".into()], &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no such role"), "{err}");
    }

    #[test]
    fn clashes_and_bad_manifests_are_refused() {
        let mut m = Manifest::parse(GRAPH, "m.json", None).unwrap();
        let err = m
            .merge_roles(Some(&set(&["User_Impersonation"])), &[], &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("clashes with the delegated permission scope"),
            "{err}"
        );

        for (text, expected) in [
            ("{", "malformed JSON"),
            ("[]", "is an array in JSON, not an app manifest"),
            (r#"{"api": {}, "appRoles": {}}"#, "appRoles is not an array"),
            (
                r#"{"api": {}, "appRoles": [{"value": "A"}]}"#,
                "has no valid id",
            ),
            (
                r#"{"api": {}, "appRoles": [{"value": "A", "id": "00000000-0000-0000-0000-000000000001"}, {"value": "B", "id": "00000000-0000-0000-0000-000000000001"}]}"#,
                "has the id 00000000-0000-0000-0000-000000000001 twice",
            ),
        ] {
            let err = Manifest::parse(text, "m.json", None)
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn identifier_uri_and_token_version() {
        let mut m = Manifest::parse(GRAPH, "m.json", None).unwrap();
        m.add_identifier_uri("api://contoso").unwrap();
        m.add_identifier_uri("api://contoso").unwrap();
        assert_eq!(
            m.root()["identifierUris"],
            serde_json::json!(["api://contoso"])
        );
        assert_eq!(m.root()["api"]["requestedAccessTokenVersion"], 2);
        assert!(
            m.root()["api"].get("oauth2PermissionScopes").is_some(),
            "api keeps its fields"
        );

        let mut legacy = Manifest::parse(r#"{"oauth2Permissions": []}"#, "m", None).unwrap();
        legacy.add_identifier_uri("api://contoso").unwrap();
        assert_eq!(legacy.root()["accessTokenAcceptedVersion"], 2);
    }
}
