//! Microsoft's clouds: each has its own Graph host and its own login host, and a token of one cloud is not
//! accepted by another.

/// A Microsoft cloud (`--cloud`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cloud {
    /// The global cloud.
    #[default]
    Public,
    /// US Government L4 (GCC High).
    UsGov,
    /// US Government L5 (DoD).
    UsGovDod,
    /// China, operated by 21Vianet.
    China,
}

impl Cloud {
    /// The Microsoft Graph host.
    pub fn graph(self) -> &'static str {
        match self {
            Cloud::Public => "https://graph.microsoft.com",
            Cloud::UsGov => "https://graph.microsoft.us",
            Cloud::UsGovDod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    /// The domain under which this cloud's key vaults are named (`NAME.vault.azure.net`).
    pub fn key_vault_domain(self) -> &'static str {
        match self {
            Cloud::Public => "vault.azure.net",
            Cloud::UsGov | Cloud::UsGovDod => "vault.usgovcloudapi.net",
            Cloud::China => "vault.azure.cn",
        }
    }

    /// The cloud whose vault domain `vault` (a URL) is under; the global cloud for any other (a test server).
    pub fn of_vault(vault: &str) -> Cloud {
        let host = vault
            .split("://")
            .nth(1)
            .unwrap_or(vault)
            .split(['/', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        [Cloud::UsGov, Cloud::China]
            .into_iter()
            .find(|cloud| host.ends_with(&format!(".{}", cloud.key_vault_domain())))
            .unwrap_or_default()
    }

    /// The cloud whose login host `authority` is; the global cloud for any other (a test server).
    pub fn of_authority(authority: &str) -> Cloud {
        [Cloud::UsGov, Cloud::China]
            .into_iter()
            .find(|cloud| authority.trim_end_matches('/').starts_with(cloud.login()))
            .unwrap_or_default()
    }

    /// The login (authority) host whose tokens this cloud's Graph accepts.
    pub fn login(self) -> &'static str {
        match self {
            Cloud::Public => "https://login.microsoftonline.com",
            Cloud::UsGov | Cloud::UsGovDod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cloud_pairs_its_graph_and_login_hosts() {
        assert_eq!(Cloud::default().graph(), "https://graph.microsoft.com");
        assert_eq!(Cloud::UsGovDod.login(), Cloud::UsGov.login());
        assert_eq!(
            Cloud::China.graph(),
            "https://microsoftgraph.chinacloudapi.cn"
        );
        assert_eq!(Cloud::China.login(), "https://login.chinacloudapi.cn");
    }
}
