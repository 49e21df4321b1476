//! The JSON shapes of app roles as Microsoft Graph and the manifest editor take them, separate from the domain
//! types in [`super::app_roles`] (which validate): <https://learn.microsoft.com/graph/api/resources/approle>,
//! <https://learn.microsoft.com/graph/api/resources/requiredresourceaccess>.

use serde::Serialize;
use uuid::Uuid;

use super::app_roles::{AppRole, MemberType};

/// The Graph `appRole` wire shape (the legacy manifest uses the same fields). `origin` is read-only in Graph
/// and is never written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAppRole {
    /// `["Application"]`, `["User"]` or both.
    pub allowed_member_types: Vec<MemberType>,
    /// Shown at assignment and consent.
    pub description: String,
    /// Shown at assignment and consent.
    pub display_name: String,
    /// Unique role id.
    pub id: Uuid,
    /// Must be true on create; set false before a role can be deleted.
    pub is_enabled: bool,
    /// The `roles` claim value.
    pub value: String,
}

impl From<&AppRole> for WireAppRole {
    fn from(role: &AppRole) -> Self {
        WireAppRole {
            allowed_member_types: role.allowed_member_types.clone(),
            description: role.description.clone(),
            display_name: role.display_name.clone(),
            id: role.id,
            is_enabled: role.is_enabled,
            value: role.value.clone(),
        }
    }
}

/// One entry of a client app's `requiredResourceAccess`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequiredResourceAccess {
    /// The resource app's appId (client id).
    pub resource_app_id: Uuid,
    /// The roles (and scopes) requested.
    pub resource_access: Vec<ResourceAccess>,
}

/// A requested permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceAccess {
    /// The app role's id.
    pub id: Uuid,
    /// `Role` for an application permission (an app role); `Scope` for a delegated one.
    #[serde(rename = "type")]
    pub kind: &'static str,
}
