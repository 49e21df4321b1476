//! The client side of app roles in a manifest document: the `requiredResourceAccess` entry that asks for an
//! API's application roles, merged beside whatever the client already requests (Microsoft Graph scopes, other
//! APIs), in the same shape in both manifest formats.

use serde_json::{json, Value};
use uuid::Uuid;

use super::Manifest;
use crate::error::Result;

/// What a grant changed in `requiredResourceAccess`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantChange {
    /// The API's entry was there already (and was updated), rather than appended.
    pub entry_existed: bool,
    /// The role ids added to it.
    pub added: Vec<Uuid>,
    /// The role ids it already held.
    pub already: Vec<Uuid>,
}

impl Manifest {
    /// Adds `roles` as `{"id": …, "type": "Role"}` to the `requiredResourceAccess` entry for `resource_app_id`,
    /// creating the entry (and the collection) at the end when there is none. Every other entry, and every other
    /// access in the API's entry (its delegated `Scope` entries too), stays as it was, in its order.
    pub fn grant_roles(&mut self, resource_app_id: Uuid, roles: &[Uuid]) -> Result<GrantChange> {
        let source = self.source().to_owned();
        let wrong = |what: String| crate::error::Error::Document {
            source_name: source.clone(),
            reason: format!(
                "{what}; Graph's type is an array of {{resourceAppId, resourceAccess}} objects"
            ),
        };
        let root = self.root_mut();
        let collection = root
            .entry("requiredResourceAccess")
            .or_insert_with(|| Value::Array(Vec::new()));
        if collection.is_null() {
            *collection = Value::Array(Vec::new());
        }
        let entries = collection
            .as_array_mut()
            .ok_or_else(|| wrong("requiredResourceAccess is not an array".into()))?;
        let position = entries.iter().position(|entry| {
            entry
                .get("resourceAppId")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok())
                == Some(resource_app_id)
        });
        let entry_existed = position.is_some();
        let index = match position {
            Some(index) => index,
            None => {
                entries.push(json!({
                    "resourceAppId": resource_app_id.to_string(),
                    "resourceAccess": [],
                }));
                entries.len() - 1
            }
        };
        let entry = entries[index]
            .as_object_mut()
            .ok_or_else(|| wrong(format!("requiredResourceAccess[{index}] is not an object")))?;
        let access = entry
            .entry("resourceAccess")
            .or_insert_with(|| Value::Array(Vec::new()));
        if access.is_null() {
            *access = Value::Array(Vec::new());
        }
        let access = access.as_array_mut().ok_or_else(|| {
            wrong(format!(
                "requiredResourceAccess[{index}].resourceAccess is not an array"
            ))
        })?;
        let mut change = GrantChange {
            entry_existed,
            added: Vec::new(),
            already: Vec::new(),
        };
        for role in roles {
            let held = access.iter().any(|a| {
                a.get("type").and_then(Value::as_str) == Some("Role")
                    && a.get("id")
                        .and_then(Value::as_str)
                        .and_then(|id| Uuid::parse_str(id).ok())
                        == Some(*role)
            });
            if held {
                change.already.push(*role);
            } else {
                access.push(json!({"id": role.to_string(), "type": "Role"}));
                change.added.push(*role);
            }
        }
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: Uuid = Uuid::from_u128(0xaaaa);

    #[test]
    fn adds_an_entry_then_only_what_is_missing() {
        let mut m = Manifest::parse(
            r#"{"id": "x", "appId": "y", "requiredResourceAccess": [{"resourceAppId": "00000003-0000-0000-c000-000000000000", "resourceAccess": []}], "z": 1}"#,
            "client.json",
            None,
        )
        .unwrap();
        let change = m.grant_roles(API, &[Uuid::from_u128(1)]).unwrap();
        assert!(!change.entry_existed && change.added == [Uuid::from_u128(1)]);
        let change = m
            .grant_roles(API, &[Uuid::from_u128(1), Uuid::from_u128(2)])
            .unwrap();
        assert!(change.entry_existed);
        assert_eq!(change.added, [Uuid::from_u128(2)]);
        assert_eq!(change.already, [Uuid::from_u128(1)]);
        let rra = m.root()["requiredResourceAccess"].as_array().unwrap();
        assert_eq!(rra.len(), 2);
        assert_eq!(rra[1]["resourceAccess"].as_array().unwrap().len(), 2);
        let keys: Vec<&String> = m.root().keys().collect();
        assert_eq!(keys, ["id", "appId", "requiredResourceAccess", "z"]);
    }

    #[test]
    fn a_wrong_shape_is_named() {
        let mut m = Manifest::parse(
            r#"{"id": "x", "appId": "y", "requiredResourceAccess": {}}"#,
            "client.json",
            None,
        )
        .unwrap();
        let err = m.grant_roles(API, &[]).unwrap_err().to_string();
        assert!(
            err.contains("requiredResourceAccess is not an array"),
            "{err}"
        );
    }
}
