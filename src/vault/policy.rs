//! The policy keycred gives Key Vault for a certificate it makes there: an RSA key that is never exportable, made
//! new for every version, and a certificate for Entra's client credentials (digital signature, client
//! authentication).

use serde_json::{json, Value};

/// Who issues the vault's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issuer {
    /// The vault signs it with its own key (self-signed).
    SelfSigned,
    /// The organisation's CA: the vault gives a CSR and waits for the CA's answer (merge).
    Unknown,
}

/// A certificate policy (Key Vault's `policy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePolicy {
    /// The subject, as `CN=…, O=…`.
    pub subject: String,
    /// How long each certificate is valid, in months (Key Vault counts validity so).
    pub validity_months: u32,
    /// RSA key size: 2048, 3072 or 4096.
    pub key_size: u32,
    /// Self-signed or from a CA.
    pub issuer: Issuer,
}

impl CertificatePolicy {
    /// As Key Vault takes it: the key never exportable, never reused.
    pub fn to_json(&self) -> Value {
        json!({
            "key_props": {"exportable": false, "kty": "RSA", "key_size": self.key_size, "reuse_key": false},
            "secret_props": {"contentType": "application/x-pem-file"},
            "x509_props": {
                "subject": self.subject,
                "validity_months": self.validity_months,
                "key_usage": ["digitalSignature"],
                "ekus": ["1.3.6.1.5.5.7.3.2"],
            },
            "issuer": {"name": match self.issuer {
                Issuer::SelfSigned => "Self",
                Issuer::Unknown => "Unknown",
            }},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_never_exportable_nor_reused() {
        let policy = CertificatePolicy {
            subject: "CN=Orders Daemon".into(),
            validity_months: 6,
            key_size: 3072,
            issuer: Issuer::Unknown,
        }
        .to_json();
        assert_eq!(policy["key_props"]["exportable"], false);
        assert_eq!(policy["key_props"]["reuse_key"], false);
        assert_eq!(policy["key_props"]["key_size"], 3072);
        assert_eq!(policy["issuer"]["name"], "Unknown");
        assert_eq!(policy["x509_props"]["validity_months"], 6);
    }
}
