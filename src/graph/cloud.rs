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
