//! Entra's record of which credential signed in (DESIGN.md "Credential usage"): the credential sign-in activity
//! report and the service principal sign-in log, both beta, both needing `AuditLog.Read.All` and an Entra ID
//! P1/P2 tenant, global cloud only.

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{encode, GraphClient};
use crate::error::Result;

impl GraphClient {
    /// The credential sign-in activity report's rows for one app: the last sign-in per credential.
    pub fn credential_sign_in_activities(&self, app_id: Uuid) -> Result<Vec<Value>> {
        let filter = format!("appId eq '{app_id}'");
        self.list_all(format!(
            "{}/beta/reports/appCredentialSignInActivities?$filter={}",
            self.base,
            encode(&filter)
        ))
    }

    /// The whole tenant's credential sign-in activity report (every page): one read for a scan.
    pub fn all_credential_sign_in_activities(&self) -> Result<Vec<Value>> {
        self.list_all(format!(
            "{}/beta/reports/appCredentialSignInActivities",
            self.base
        ))
    }

    /// The app's service principal sign-ins since `since`, each naming the credential (keyId, thumbprint) it used.
    pub fn service_principal_sign_ins(
        &self,
        app_id: Uuid,
        since: OffsetDateTime,
    ) -> Result<Vec<Value>> {
        let filter = format!(
            "signInEventTypes/any(t: t eq 'servicePrincipal') and appId eq '{app_id}' and createdDateTime ge {}",
            crate::time_fmt::rfc3339_utc(since)
        );
        self.list_all(format!(
            "{}/beta/auditLogs/signIns?$filter={}",
            self.base,
            encode(&filter)
        ))
    }

    /// Whether the usage records can exist where this client points: the report is global-cloud only.
    pub fn national_cloud(&self) -> bool {
        [
            "graph.microsoft.us",
            "dod-graph.microsoft.us",
            "microsoftgraph.chinacloudapi.cn",
        ]
        .iter()
        .any(|host| self.base.contains(host))
    }
}
