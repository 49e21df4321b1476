//! The tenant's credential rules as Graph serves them (DESIGN.md "Tenant rules"): app management policies (v1.0, or
//! beta where v1.0 hides a restriction type it lacks) and the CAs a trusted-CA rule lists (beta). Reading them
//! needs `Policy.Read.All` (and `AppCertTrustConfiguration.Read.All` for the CAs).

use serde_json::Value;
use uuid::Uuid;

use super::GraphClient;
use crate::error::{Error, Result};

impl GraphClient {
    /// The tenant default app management policy (needs `Policy.Read.All`), from v1.0 or beta (where the
    /// restriction types v1.0 lacks show).
    pub fn default_app_management_policy(&self, beta: bool) -> Result<Value> {
        let url = format!(
            "{}/{}/policies/defaultAppManagementPolicy",
            self.base,
            version(beta)
        );
        Ok(self.send("GET", &url, None, false)?.body)
    }

    /// The app management policy assigned to an application (Graph allows at most one), if any (needs
    /// `Policy.Read.All`).
    pub fn app_management_policy(&self, object_id: Uuid, beta: bool) -> Result<Option<Value>> {
        let url = format!(
            "{}/{}/applications/{object_id}/appManagementPolicies",
            self.base,
            version(beta)
        );
        let body = self.send("GET", &url, None, false)?.body;
        Ok(body
            .get("value")
            .and_then(Value::as_array)
            .and_then(|policies| policies.first())
            .cloned())
    }

    /// The CAs a `certificateBasedApplicationConfiguration` trusts (beta; needs
    /// `AppCertTrustConfiguration.Read.All`). `id` must be a GUID's characters: it goes into the path.
    pub fn trusted_certificate_authorities(&self, id: &str) -> Result<Vec<Value>> {
        if !crate::rules::safe_id(id) {
            return Err(Error::Network(format!(
                "Graph named a trusted-CA configuration {id:?}, which is not an id keycred puts into a URL"
            )));
        }
        let url = format!(
            "{}/beta/directory/certificateAuthorities/certificateBasedApplicationConfigurations/{id}/\
             trustedCertificateAuthorities",
            self.base
        );
        self.list_all(url)
    }

    /// Every app management policy of the tenant (not the default), with the ids of the objects each applies to:
    /// one listing, and one per policy, instead of one request per app.
    pub fn app_management_policies(&self, beta: bool) -> Result<Vec<(Value, Vec<String>)>> {
        let url = format!(
            "{}/{}/policies/appManagementPolicies",
            self.base,
            version(beta)
        );
        let mut out = Vec::new();
        for policy in self.list_all(url)? {
            let id = policy
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if !crate::rules::safe_id(&id) {
                return Err(Error::Network(format!(
                    "Graph named an app management policy {id:?}, which is not an id keycred puts into a URL"
                )));
            }
            let url = format!(
                "{}/{}/policies/appManagementPolicies/{id}/appliesTo?$select=id",
                self.base,
                version(beta)
            );
            let applies_to = self
                .list_all(url)?
                .iter()
                .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect();
            out.push((policy, applies_to));
        }
        Ok(out)
    }
}

/// The path segment of a Graph version.
fn version(beta: bool) -> &'static str {
    if beta {
        "beta"
    } else {
        "v1.0"
    }
}
