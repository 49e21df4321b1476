//! Who owns each app and how many federated identity credentials it holds (`graph apps --owners --federated`):
//! one read of `/applications/{id}/owners` and one of `/federatedIdentityCredentials` per app, twenty to a
//! `$batch` (DESIGN.md "Graph at tenant scale"). An app nobody owns is one whose expiring certificate nobody hears
//! about: Entra mails its expiry notices to the owners. Federated credentials are counted, never judged: they have
//! no end.

use serde_json::Value;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::graph::GraphClient;

/// What kind of directory object owns an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    /// A person.
    User,
    /// An app (its service principal), such as the automation that made the registration.
    ServicePrincipal,
    /// Anything else Graph may list (a group is not allowed as an owner today).
    Other,
}

impl OwnerKind {
    /// As scripts read it.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::User => "user",
            OwnerKind::ServicePrincipal => "servicePrincipal",
            OwnerKind::Other => "other",
        }
    }

    /// As people read it.
    pub fn describe(self) -> &'static str {
        match self {
            OwnerKind::User => "user",
            OwnerKind::ServicePrincipal => "service principal",
            OwnerKind::Other => "directory object",
        }
    }
}

/// One owner of an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Its object id.
    pub id: String,
    /// User, service principal, other.
    pub kind: OwnerKind,
    /// A user's sign-in name, else its display name; `None` when Graph gave neither.
    pub name: Option<String>,
}

/// The two reads this module makes of one app.
#[derive(Debug, Clone, Copy)]
enum Read {
    Owners,
    Federated,
}

/// What was read of one app: its owners and its federated credentials' count (`None`: not read), and why a read
/// failed.
#[derive(Debug, Default)]
pub struct Relations {
    /// Its owners.
    pub owners: Option<Vec<Owner>>,
    /// How many federated identity credentials it holds.
    pub federated: Option<usize>,
    /// What could not be read, and why.
    pub problems: Vec<String>,
}

/// Reads the owners (with `owners`) and counts the federated identity credentials (with `federated`) of each app
/// (by object id), in batches; one [`Relations`] per id, in order. An app whose read fails gets the failure as a
/// problem and no answer; a refusal (403) ends the scan, since every other app would be refused the same.
pub(crate) fn read(
    client: &GraphClient,
    ids: &[&str],
    owners: bool,
    federated: bool,
) -> Result<Vec<Relations>> {
    let mut found: Vec<Relations> = ids.iter().map(|_| Relations::default()).collect();
    let mut paths = Vec::new();
    let mut slots = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        let Ok(id) = Uuid::try_parse(id) else {
            continue;
        };
        if owners {
            paths.push(format!(
                "/applications/{id}/owners?$select=id,displayName,userPrincipalName"
            ));
            slots.push((index, Read::Owners));
        }
        if federated {
            paths.push(format!(
                "/applications/{id}/federatedIdentityCredentials?$select=id"
            ));
            slots.push((index, Read::Federated));
        }
    }
    if paths.is_empty() {
        return Ok(found);
    }
    let answers = client.get_many(&paths)?;
    for ((index, what), answer) in slots.into_iter().zip(answers) {
        let app = &mut found[index];
        let body = match answer {
            Ok(body) => body,
            Err(Error::Graph(failure)) if failure.status == 403 => {
                return Err(Error::Graph(failure))
            }
            Err(error) => {
                app.problems.push(format!(
                    "its {} could not be read: {error}",
                    match what {
                        Read::Owners => "owners",
                        Read::Federated => "federated identity credentials",
                    }
                ));
                continue;
            }
        };
        let mut values = listed(&body);
        // Graph pages owners by 100; an app with more has a next page, read on its own.
        if let Some(next) = body.get("@odata.nextLink").and_then(Value::as_str) {
            values.extend(client.list_all(next.to_owned())?);
        }
        match what {
            Read::Owners => app.owners = Some(values.iter().map(owner).collect()),
            Read::Federated => app.federated = Some(values.len()),
        }
    }
    Ok(found)
}

/// The `value` of a collection's answer; anything else holds nothing.
fn listed(body: &Value) -> Vec<Value> {
    body.get("value")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// One directory object of an owners answer.
pub(crate) fn owner(object: &Value) -> Owner {
    let kind = match object.get("@odata.type").and_then(Value::as_str) {
        Some("#microsoft.graph.user") => OwnerKind::User,
        Some("#microsoft.graph.servicePrincipal") => OwnerKind::ServicePrincipal,
        _ => OwnerKind::Other,
    };
    Owner {
        id: text(object, "id").unwrap_or_default(),
        kind,
        name: text(object, "userPrincipalName").or_else(|| text(object, "displayName")),
    }
}

/// A text property of a directory object.
fn text(object: &Value, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owners_are_told_by_their_type_and_named_by_sign_in_name_first() {
        let user = owner(&json!({"@odata.type": "#microsoft.graph.user", "id": "u",
            "displayName": "Alice", "userPrincipalName": "alice@contoso.com"}));
        assert_eq!(user.kind, OwnerKind::User);
        assert_eq!(user.name.as_deref(), Some("alice@contoso.com"));
        let sp = owner(
            &json!({"@odata.type": "#microsoft.graph.servicePrincipal", "id": "s",
            "displayName": "Automation"}),
        );
        assert_eq!(
            (sp.kind, sp.name.as_deref()),
            (OwnerKind::ServicePrincipal, Some("Automation"))
        );
        let odd = owner(&json!({"id": 5, "userPrincipalName": null}));
        assert_eq!(
            odd,
            Owner {
                id: String::new(),
                kind: OwnerKind::Other,
                name: None
            }
        );
        assert!(listed(&json!({"value": "x"})).is_empty());
    }
}
