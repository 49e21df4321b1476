//! The tenant's credential rules as Graph gives them, read one way for every workflow: for one app (the Graph
//! store of a rotation, `doctor`'s live checks: the default policy, the one assigned to the app, the CAs a
//! trusted-CA rule lists), and for a whole scan (`graph apps --rules`: the default and every assigned policy with
//! the apps it applies to, read once, then applied to each app as its page arrives, so that the scan costs a few
//! requests more, not one per app).

use std::collections::HashMap;

use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::graph::GraphClient;
use crate::manifest::ExistingCredential;
use crate::rules::{self, AppRules, Authority, Rules, TenantPolicy};
use uuid::Uuid;

/// Reads the tenant default app management policy (from beta when v1.0 hides a rule): without the permission,
/// why it is unknown.
pub fn read_default(client: &GraphClient) -> TenantPolicy {
    match default_policy(client) {
        Ok(policy) => TenantPolicy::Read(policy),
        Err(error) => match rules::unreadable(&error) {
            Some(why) => TenantPolicy::Unreadable(why),
            None => TenantPolicy::Failed(error.to_string()),
        },
    }
}

/// The tenant default policy: from v1.0, or from beta when v1.0 hides a rule.
fn default_policy(client: &GraphClient) -> Result<Value> {
    let policy = client.default_app_management_policy(false)?;
    match rules::hides_a_rule(&policy) {
        true => client.default_app_management_policy(true),
        false => Ok(policy),
    }
}

/// The rules that bind one application (object id, created at `created`): the policy assigned to it, else the
/// tenant `default`, and the CAs a trusted-CA rule lists. Without the permission, why they are unknown.
pub fn app_rules(
    client: &GraphClient,
    default: &Value,
    object_id: Uuid,
    created: Option<OffsetDateTime>,
) -> Result<Rules> {
    let assigned = match client
        .app_management_policy(object_id, false)
        .and_then(|p| match p {
            Some(p) if rules::hides_a_rule(&p) => client.app_management_policy(object_id, true),
            other => Ok(other),
        }) {
        Ok(assigned) => assigned,
        Err(error) => match rules::unreadable(&error) {
            Some(why) => return Ok(Rules::Unknown(why)),
            None => return Err(error),
        },
    };
    let mut known = rules::effective(Some(default), assigned.as_ref(), created);
    for id in known.trusted_ca.clone().unwrap_or_default() {
        match read_authorities(client, &id)? {
            Ok(list) => known.authorities.extend(list),
            Err(why) => known.authorities_unread = Some(why),
        }
    }
    Ok(Rules::Known(known))
}

/// The CAs a trusted-CA configuration lists, or (without `AppCertTrustConfiguration.Read.All`) why not.
fn read_authorities(
    client: &GraphClient,
    id: &str,
) -> Result<std::result::Result<Vec<Authority>, String>> {
    match client.trusted_certificate_authorities(id) {
        Ok(list) => Ok(Ok(rules::authorities(&list))),
        Err(Error::Graph(failure)) if failure.status == 403 => Ok(Err(
            "the CAs the tenant trusts could not be read (AppCertTrustConfiguration.Read.All is needed), so a \
             certificate is not checked against them"
                .to_owned(),
        )),
        Err(error) => Err(error),
    }
}

/// The tenant's rules as a scan holds them.
#[derive(Debug)]
pub enum ScanRules {
    /// Read.
    Known {
        /// The tenant default policy.
        default: Value,
        /// Each assigned policy, by the object id of the app it applies to.
        assigned: HashMap<String, Value>,
        /// The CAs each trusted-CA configuration lists, or why they could not be read.
        authorities: HashMap<String, std::result::Result<Vec<Authority>, String>>,
    },
    /// Not readable (why).
    Unknown(String),
}

/// Reads the tenant's rules: without `Policy.Read.All`, why they are unknown.
pub fn read(client: &GraphClient) -> Result<ScanRules> {
    match read_known(client) {
        Ok(rules) => Ok(rules),
        Err(error) => match rules::unreadable(&error) {
            Some(why) => Ok(ScanRules::Unknown(why)),
            None => Err(error),
        },
    }
}

fn read_known(client: &GraphClient) -> Result<ScanRules> {
    let default = default_policy(client)?;
    let mut policies = client.app_management_policies(false)?;
    if policies.iter().any(|(p, _)| rules::hides_a_rule(p)) {
        policies = client.app_management_policies(true)?;
    }
    let mut assigned = HashMap::new();
    for (policy, applies_to) in &policies {
        for id in applies_to {
            assigned.insert(id.clone(), policy.clone());
        }
    }
    let mut authorities = HashMap::new();
    for policy in std::iter::once(&default).chain(policies.iter().map(|(p, _)| p)) {
        for id in rules::ca_configurations(policy) {
            if authorities.contains_key(&id) {
                continue;
            }
            let read = read_authorities(client, &id)?;
            authorities.insert(id, read);
        }
    }
    Ok(ScanRules::Known {
        default,
        assigned,
        authorities,
    })
}

impl ScanRules {
    /// The rules that bind the app with this object id, created at `created`.
    pub fn for_app(&self, object_id: &str, created: Option<OffsetDateTime>) -> Rules {
        match self {
            ScanRules::Unknown(why) => Rules::Unknown(why.clone()),
            ScanRules::Known {
                default,
                assigned,
                authorities,
            } => {
                let mut known = rules::effective(Some(default), assigned.get(object_id), created);
                for id in known.trusted_ca.clone().unwrap_or_default() {
                    match authorities.get(&id) {
                        Some(Ok(list)) => known.authorities.extend(list.iter().cloned()),
                        Some(Err(why)) => known.authorities_unread = Some(why.clone()),
                        None => {}
                    }
                }
                Rules::Known(known)
            }
        }
    }

    /// Why the rules are unknown, if they are.
    pub fn unknown(&self) -> Option<&str> {
        match self {
            ScanRules::Unknown(why) => Some(why),
            ScanRules::Known { .. } => None,
        }
    }
}

/// What the rules mean for an app's credentials as they are: certificates that live longer than the rule allows
/// (they keep working: a rule binds only writes, but they cannot be renewed as they are), certificates a
/// trusted-CA rule would refuse now (their `certificate` read), and secrets that may no longer be renewed.
pub fn findings(
    rules: &AppRules,
    certificates: &[ExistingCredential],
    has_secrets: bool,
) -> Vec<String> {
    let mut found = Vec::new();
    let clients = certificates.iter().filter(|c| !c.signs());
    let key_id = |c: &ExistingCredential| {
        c.key_id
            .map(|k| k.to_string())
            .unwrap_or_else(|| "-".into())
    };
    if let Some(limit) = &rules.lifetime {
        for c in clients.clone().filter(|c| c.end - c.start > limit.max) {
            found.push(format!(
                "keyId {}: valid for {} days, longer than {}: it keeps working (a rule binds only writes), but \
                 cannot be renewed as it is",
                key_id(c),
                (c.end - c.start).whole_days(),
                limit.rule()
            ));
        }
    }
    if rules.trusted_ca.is_some() {
        for c in clients {
            let Some(cert) = &c.certificate else { continue };
            let self_signed = cert.subject == cert.issuer;
            if self_signed
                || (rules.authorities_unread.is_none() && !rules::trusted(cert.der(), rules))
            {
                found.push(format!(
                    "keyId {}: {}, which the tenant's trusted-CA rule would refuse now: its successor must come \
                     from a CA the tenant trusts (graph rotate --ca)",
                    key_id(c),
                    if self_signed {
                        "self-signed"
                    } else {
                        "not from a CA the tenant trusts"
                    }
                ));
            }
        }
    }
    if rules.no_new_secrets && has_secrets {
        found.push(
            "its secrets cannot be renewed: the tenant's rules allow no new client secret, so a certificate is \
             the way on (keycred new, then graph add-key, or graph rotate --include-without-certificate)"
                .into(),
        );
    }
    found
}
