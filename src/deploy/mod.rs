//! Daemon configuration: what the app that signs in with a certificate credential needs, in the words of the
//! library it uses (azure-identity's environment variables, an azure-identity, MSAL Python or msal-node snippet,
//! Microsoft.Identity.Web's `AzureAd` section, the `az login` line).
//!
//! The renderers are pure: they take the facts (tenant, client id, authority, where the credential's files will
//! be, and the certificate, for its thumbprints) and return text. Secrets never appear in it: a PFX password is
//! named by the environment variable that carries it, never given.

mod held;

pub use held::HeldKey;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::credential::{CertificateInfo, ThumbprintForm};
use crate::error::{Error, Result};
use crate::flow::authority::Authority;

/// The environment variable every snippet reads a PFX password from: azure-identity's own name for it.
pub const PASSWORD_ENV: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";

/// What the configuration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// azure-identity's environment variables (`EnvironmentCredential`, `DefaultAzureCredential`).
    Env,
    /// A Python snippet with azure-identity's `CertificateCredential`.
    AzureIdentity,
    /// A Python snippet with MSAL Python's `ConfidentialClientApplication`.
    MsalPython,
    /// A JavaScript (ES module) snippet with `@azure/msal-node`.
    MsalNode,
    /// The `AzureAd` section of `appsettings.json`, for an MSAL.NET app configured through
    /// Microsoft.Identity.Web's credential descriptions.
    MsalDotnet,
    /// The `AzureAd` section of `appsettings.json` for Microsoft.Identity.Web.
    MicrosoftIdentityWeb,
    /// The `az login --service-principal` command line.
    Az,
}

impl Target {
    /// The name `--for` takes.
    pub fn name(self) -> &'static str {
        match self {
            Target::Env => "env",
            Target::AzureIdentity => "azure-identity",
            Target::MsalPython => "msal-python",
            Target::MsalNode => "msal-node",
            Target::MsalDotnet => "msal-dotnet",
            Target::MicrosoftIdentityWeb => "microsoft-identity-web",
            Target::Az => "az",
        }
    }

    /// The language of the rendered text: `dotenv`, `python`, `javascript`, `json` or `shell`.
    pub fn language(self) -> &'static str {
        match self {
            Target::Env => "dotenv",
            Target::AzureIdentity | Target::MsalPython => "python",
            Target::MsalNode => "javascript",
            Target::MsalDotnet | Target::MicrosoftIdentityWeb => "json",
            Target::Az => "shell",
        }
    }
}

/// Where the credential's files will be when the daemon runs (as given: keycred does not move them).
#[derive(Debug, Clone, Default)]
pub struct CredentialFiles {
    /// The PFX (key and certificate, password-protected).
    pub pfx: Option<PathBuf>,
    /// The PEM bundle (unencrypted key and certificate, `keycred new --pem-bundle`).
    pub bundle: Option<PathBuf>,
    /// The PKCS#8 PEM key alone.
    pub key: Option<PathBuf>,
    /// The certificate, when it is a PEM file (a DER certificate is written into the snippet instead).
    pub cert_pem: Option<PathBuf>,
}

/// Where a .NET app loads its certificate from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DotnetSource {
    /// The PFX file on disk (`SourceType` `Path`).
    Path,
    /// A Key Vault certificate (`SourceType` `KeyVault`).
    KeyVault {
        /// The vault, `https://NAME.vault.azure.net`.
        url: String,
        /// The certificate's name in the vault.
        name: String,
    },
    /// The Windows certificate store, by SHA-1 thumbprint (`SourceType` `StoreWithThumbprint`).
    Store {
        /// `CurrentUser/My` or `LocalMachine/My`.
        path: String,
    },
}

/// Which thumbprint a snippet names the certificate by, where the library lets it choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbprintChoice {
    /// SHA-256 (`x5t#S256`, PS256 assertions): what Entra and current MSAL prefer.
    Sha256,
    /// SHA-1 (`x5t`, RS256 assertions): for ADFS and older MSAL versions.
    Sha1,
}

/// Everything a daemon's configuration is made from.
#[derive(Debug, Clone)]
pub struct Daemon {
    /// The directory (tenant) id or domain.
    pub tenant: String,
    /// The app's Application (client) ID.
    pub client_id: String,
    /// Where tokens come from.
    pub authority: Authority,
    /// The scope the daemon asks for (`…/.default`).
    pub scope: String,
    /// The credential's files.
    pub files: CredentialFiles,
    /// The registered certificate.
    pub certificate: CertificateInfo,
    /// Which thumbprint to name it by.
    pub thumbprint: ThumbprintChoice,
    /// For the .NET targets: where the certificate comes from.
    pub dotnet: DotnetSource,
    /// Where the key is held when no file has it (a vault, a token): the library's assertion callback has
    /// keycred sign there.
    pub held: Option<HeldKey>,
}

/// A rendered configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// What it is for.
    pub target: Target,
    /// The text to paste or save, ending in a newline.
    pub content: String,
    /// What the person deploying must also know (the password, the authority), one sentence each.
    pub notes: Vec<String>,
}

/// Renders `daemon`'s configuration for `target`, or says which file that target needs and how to make it.
pub fn render(daemon: &Daemon, target: Target) -> Result<Snippet> {
    let mut notes = Vec::new();
    if let Some(held) = &daemon.held {
        let content = held::render(daemon, held, target, &mut notes)?;
        return Ok(Snippet {
            target,
            content,
            notes,
        });
    }
    let content = match target {
        Target::Env => env(daemon, &mut notes)?,
        Target::AzureIdentity => azure_identity(daemon, &mut notes)?,
        Target::MsalPython => msal_python(daemon, &mut notes)?,
        Target::MsalNode => msal_node(daemon, &mut notes)?,
        Target::MsalDotnet | Target::MicrosoftIdentityWeb => azure_ad_section(daemon, &mut notes)?,
        Target::Az => az(daemon, &mut notes)?,
    };
    Ok(Snippet {
        target,
        content,
        notes,
    })
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

/// A string literal for Python and JavaScript (a JSON string is one in both).
fn literal(value: &str) -> String {
    Value::String(value.to_owned()).to_string()
}

fn password_note(pfx: &Path) -> String {
    format!(
        "the password of {} goes in the environment variable {PASSWORD_ENV} where the daemon runs, set from your secret store (keycred new --generate-password wrote it to NAME.pfx.password); keycred never prints it",
        pfx.display()
    )
}

/// The file azure-identity and az read: a PEM with key and certificate, or (azure-identity only) a PFX.
fn key_and_cert_file(daemon: &Daemon, target: Target) -> Result<&Path> {
    let files = &daemon.files;
    match (&files.bundle, &files.pfx) {
        (Some(bundle), _) => Ok(bundle),
        (None, Some(pfx)) if target != Target::Az => Ok(pfx),
        _ => Err(Error::Invalid(format!(
            "--for {}: {} reads the private key and the certificate from one file: give --bundle NAME.bundle.pem (keycred new --pem-bundle writes it){}",
            target.name(),
            if target == Target::Az { "az login" } else { "azure-identity" },
            if target == Target::Az {
                ", az cannot read a PFX"
            } else {
                " or --pfx FILE"
            }
        ))),
    }
}

fn env(daemon: &Daemon, notes: &mut Vec<String>) -> Result<String> {
    let path = key_and_cert_file(daemon, Target::Env)?;
    let mut out = format!(
        "# azure-identity EnvironmentCredential / DefaultAzureCredential: app {} in tenant {}\n# certificate {} (SHA-1 {})\n",
        daemon.client_id,
        daemon.tenant,
        daemon.certificate.subject,
        daemon.certificate.thumbprints.render(ThumbprintForm::Hex)
    );
    // Single quotes where needed: what dotenv readers, systemd's EnvironmentFile and sh all undo.
    let mut line = |name: &str, value: &str| {
        let _ = writeln!(out, "{name}={}", crate::shell::word(value));
    };
    line("AZURE_TENANT_ID", &daemon.tenant);
    line("AZURE_CLIENT_ID", &daemon.client_id);
    line("AZURE_CLIENT_CERTIFICATE_PATH", &text(path));
    if !daemon.authority.is_default() {
        line("AZURE_AUTHORITY_HOST", daemon.authority.as_str());
    }
    if Some(path) == daemon.files.pfx.as_deref() {
        let _ = writeln!(
            out,
            "# {PASSWORD_ENV}: the PFX password, set from your secret store (never written here)"
        );
        notes.push(password_note(path));
    }
    if !daemon.authority.is_microsoft_cloud() {
        notes.push(format!(
            "{} is not a Microsoft cloud, so azure-identity would check it with login.microsoftonline.com first: construct the credential with disable_instance_discovery=True (EnvironmentCredential(disable_instance_discovery=True))",
            daemon.authority.host()
        ));
    }
    Ok(out)
}

fn azure_identity(daemon: &Daemon, notes: &mut Vec<String>) -> Result<String> {
    let path = key_and_cert_file(daemon, Target::AzureIdentity)?;
    let pfx = Some(path) == daemon.files.pfx.as_deref();
    let mut out = String::new();
    if pfx {
        out.push_str("import os\n\n");
        notes.push(password_note(path));
    }
    out.push_str("from azure.identity import CertificateCredential\n\n");
    let _ = writeln!(
        out,
        "# app {} in tenant {}, certificate {} (SHA-1 {})",
        daemon.client_id,
        daemon.tenant,
        daemon.certificate.subject,
        daemon.certificate.thumbprints.render(ThumbprintForm::Hex)
    );
    out.push_str("credential = CertificateCredential(\n");
    let _ = writeln!(out, "    tenant_id={},", literal(&daemon.tenant));
    let _ = writeln!(out, "    client_id={},", literal(&daemon.client_id));
    let _ = writeln!(out, "    certificate_path={},", literal(&text(path)));
    if pfx {
        let _ = writeln!(out, "    password=os.environ[{}],", literal(PASSWORD_ENV));
    }
    azure_identity_end(&mut out, daemon);
    Ok(out)
}

/// The end of an azure-identity credential's arguments (its authority), and its token for the daemon's scope.
fn azure_identity_end(out: &mut String, daemon: &Daemon) {
    if !daemon.authority.is_default() {
        let _ = writeln!(out, "    authority={},", literal(daemon.authority.as_str()));
    }
    if !daemon.authority.is_microsoft_cloud() {
        out.push_str("    disable_instance_discovery=True,  # not a Microsoft cloud\n");
    }
    out.push_str(")\n");
    let _ = writeln!(
        out,
        "access_token = credential.get_token({}).token",
        literal(&daemon.scope)
    );
}

/// How a snippet gets the certificate's PEM text: read from a file, or written in.
enum CertPem<'a> {
    File(&'a Path),
    Inline(String),
}

fn cert_pem(daemon: &Daemon) -> CertPem<'_> {
    match (&daemon.files.cert_pem, &daemon.files.bundle) {
        (Some(path), _) | (None, Some(path)) => CertPem::File(path),
        (None, None) => CertPem::Inline(crate::export::certificate_pem(daemon.certificate.der())),
    }
}

/// The PEM key file a snippet reads: the key alone, else the bundle (both libraries take the key from it).
fn pem_key(daemon: &Daemon, target: Target) -> Result<&Path> {
    daemon
        .files
        .key
        .as_deref()
        .or(daemon.files.bundle.as_deref())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "--for {}: {} signs with a PEM private key: give --key NAME.key (with --cert) or --bundle NAME.bundle.pem{}",
                target.name(),
                if target == Target::MsalNode { "msal-node" } else { "MSAL Python" },
                if daemon.files.pfx.is_some() && target == Target::MsalNode {
                    "; msal-node cannot read a PFX"
                } else {
                    ""
                }
            ))
        })
}

fn msal_python(daemon: &Daemon, notes: &mut Vec<String>) -> Result<String> {
    let mut credential = String::new();
    let mut imports = vec!["import msal"];
    let uses_pfx = daemon.files.key.is_none() && daemon.files.bundle.is_none();
    if let (true, Some(pfx)) = (uses_pfx, &daemon.files.pfx) {
        imports.insert(0, "import os\n");
        let _ = writeln!(
            credential,
            "        \"private_key_pfx_path\": {},",
            literal(&text(pfx))
        );
        let _ = writeln!(
            credential,
            "        \"passphrase\": os.environ[{}],",
            literal(PASSWORD_ENV)
        );
        notes.push(password_note(pfx));
        if daemon.thumbprint == ThumbprintChoice::Sha1 {
            notes.push("MSAL Python names a PFX's certificate by its SHA-256 thumbprint (PS256); --thumbprint sha1 needs --key or --bundle".into());
        }
    } else {
        let key = pem_key(daemon, Target::MsalPython)?;
        imports.insert(0, "from pathlib import Path\n");
        let _ = writeln!(
            credential,
            "        \"private_key\": Path({}).read_text(),",
            literal(&text(key))
        );
        match daemon.thumbprint {
            ThumbprintChoice::Sha1 => {
                let _ = writeln!(
                    credential,
                    "        \"thumbprint\": {},  # SHA-1: MSAL signs RS256 with x5t",
                    literal(&daemon.certificate.thumbprints.render(ThumbprintForm::Hex))
                );
            }
            ThumbprintChoice::Sha256 => {
                let value = match cert_pem(daemon) {
                    CertPem::File(path) => format!("Path({}).read_text()", literal(&text(path))),
                    CertPem::Inline(pem) => literal(&pem),
                };
                let _ = writeln!(
                    credential,
                    "        # MSAL computes the SHA-256 thumbprint ({}) from this and signs PS256 with x5t#S256\n        \"public_certificate\": {value},",
                    daemon.certificate.thumbprints.render(ThumbprintForm::Sha256Hex)
                );
            }
        }
    }
    let mut out = imports.join("\n");
    out.push_str("\n\n");
    let _ = writeln!(
        out,
        "# app {} in tenant {}, certificate {}",
        daemon.client_id, daemon.tenant, daemon.certificate.subject
    );
    msal_python_app(&mut out, daemon, &format!("{{\n{credential}    }}"));
    Ok(out)
}

/// MSAL Python's app with `credential` (a Python expression), and its token for the daemon's scope.
fn msal_python_app(out: &mut String, daemon: &Daemon, credential: &str) {
    let authority = format!("{}/{}", daemon.authority.as_str(), daemon.tenant);
    out.push_str("app = msal.ConfidentialClientApplication(\n");
    let _ = writeln!(out, "    {},", literal(&daemon.client_id));
    let _ = writeln!(out, "    authority={},", literal(&authority));
    let _ = writeln!(out, "    client_credential={credential},");
    if !daemon.authority.is_microsoft_cloud() {
        out.push_str("    instance_discovery=False,  # not a Microsoft cloud\n");
    }
    out.push_str(")\n");
    let _ = writeln!(
        out,
        "result = app.acquire_token_for_client(scopes=[{}])",
        literal(&daemon.scope)
    );
    out.push_str("if \"access_token\" not in result:\n");
    out.push_str(
        "    raise RuntimeError(f\"{result.get('error')}: {result.get('error_description')}\")\n",
    );
    out.push_str("access_token = result[\"access_token\"]\n");
}

fn msal_node(daemon: &Daemon, _notes: &mut Vec<String>) -> Result<String> {
    let key = pem_key(daemon, Target::MsalNode)?;
    let authority = format!("{}/{}", daemon.authority.as_str(), daemon.tenant);
    let mut out = String::from(
        "import { readFileSync } from \"node:fs\";\nimport { ConfidentialClientApplication } from \"@azure/msal-node\";\n\n",
    );
    let _ = writeln!(
        out,
        "// app {} in tenant {}, certificate {}",
        daemon.client_id, daemon.tenant, daemon.certificate.subject
    );
    out.push_str("const app = new ConfidentialClientApplication({\n  auth: {\n");
    let _ = writeln!(out, "    clientId: {},", literal(&daemon.client_id));
    let _ = writeln!(out, "    authority: {},", literal(&authority));
    if !daemon.authority.is_microsoft_cloud() {
        let host = authority_netloc(&daemon.authority);
        let _ = writeln!(
            out,
            "    knownAuthorities: [{}], // not a Microsoft cloud",
            literal(&host)
        );
    }
    out.push_str("    clientCertificate: {\n");
    match daemon.thumbprint {
        ThumbprintChoice::Sha256 => {
            let _ = writeln!(
                out,
                "      thumbprintSha256: {},",
                literal(
                    &daemon
                        .certificate
                        .thumbprints
                        .render(ThumbprintForm::Sha256Hex)
                )
            );
        }
        ThumbprintChoice::Sha1 => {
            let _ = writeln!(
                out,
                "      thumbprint: {}, // SHA-1: msal-node signs RS256 with x5t",
                literal(&daemon.certificate.thumbprints.render(ThumbprintForm::Hex))
            );
        }
    }
    let _ = writeln!(
        out,
        "      privateKey: readFileSync({}, \"utf8\"),",
        literal(&text(key))
    );
    let x5c = match cert_pem(daemon) {
        CertPem::File(path) => format!("readFileSync({}, \"utf8\")", literal(&text(path))),
        CertPem::Inline(pem) => literal(&pem),
    };
    let _ = writeln!(
        out,
        "      x5c: {x5c}, // the certificate, sent in the assertion (needed only for subject name + issuer authentication)"
    );
    out.push_str("    },\n  },\n});\n");
    let _ = writeln!(
        out,
        "const result = await app.acquireTokenByClientCredential({{ scopes: [{}] }});",
        literal(&daemon.scope)
    );
    out.push_str("const accessToken = result.accessToken;\n");
    Ok(out)
}

/// `host[:port]` of the authority, as msal-node's `knownAuthorities` lists it.
fn authority_netloc(authority: &Authority) -> String {
    let rest = authority
        .as_str()
        .split_once("://")
        .map_or(authority.as_str(), |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

fn azure_ad_section(daemon: &Daemon, notes: &mut Vec<String>) -> Result<String> {
    let credential = match &daemon.dotnet {
        DotnetSource::Path => {
            let pfx = daemon.files.pfx.as_deref().ok_or_else(|| {
                Error::Invalid(
                    "--for microsoft-identity-web/msal-dotnet with --source path loads a PFX: give --pfx FILE, or --source keyvault / --source store"
                        .into(),
                )
            })?;
            notes.push(format!(
                "the password of {} goes in the environment variable AzureAd__ClientCredentials__0__CertificatePassword where the app runs (ASP.NET configuration), set from your secret store; keycred never prints it",
                pfx.display()
            ));
            json!({"SourceType": "Path", "CertificateDiskPath": text(pfx)})
        }
        DotnetSource::KeyVault { url, name } => {
            notes.push(format!(
                "import the PFX into the vault as certificate {name:?}: az keyvault certificate import --vault-name VAULT --name {name} --file NAME.pfx; the app's identity needs permission to read its secret"
            ));
            json!({"SourceType": "KeyVault", "KeyVaultUrl": url, "KeyVaultCertificateName": name})
        }
        DotnetSource::Store { path } => {
            notes.push(format!(
                "import the PFX into {path} on the machine that runs the app (Import-PfxCertificate -CertStoreLocation Cert:\\{}), and let the app's account read its private key",
                path.replace('/', "\\")
            ));
            json!({
                "SourceType": "StoreWithThumbprint",
                "CertificateStorePath": path,
                "CertificateThumbprint": daemon.certificate.thumbprints.render(ThumbprintForm::Hex),
            })
        }
    };
    let instance = format!("{}/", daemon.authority.as_str());
    let section = json!({
        "AzureAd": {
            "Instance": instance,
            "TenantId": daemon.tenant,
            "ClientId": daemon.client_id,
            "ClientCredentials": [credential],
        }
    });
    let mut out = serde_json::to_string_pretty(&section).expect("JSON values serialize");
    out.push('\n');
    Ok(out)
}

fn az(daemon: &Daemon, notes: &mut Vec<String>) -> Result<String> {
    let path = key_and_cert_file(daemon, Target::Az)?;
    if !daemon.authority.is_default() {
        notes.push(format!(
            "az signs in to the cloud it is set to, not to --authority: for {} run az cloud set --name AzureUSGovernment (or AzureChinaCloud) first",
            daemon.authority.host()
        ));
    }
    Ok(format!(
        "az login --service-principal --username {} --tenant {} --certificate {}\n",
        crate::shell::word(&daemon.client_id),
        crate::shell::word(&daemon.tenant),
        crate::shell::word(&text(path))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn daemon(files: CredentialFiles) -> Daemon {
        let der = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/openssl-rsa.cer"
        ))
        .unwrap();
        Daemon {
            tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            authority: Authority::default(),
            scope: "https://graph.microsoft.com/.default".into(),
            files,
            certificate: CertificateInfo::from_der(&der).unwrap(),
            thumbprint: ThumbprintChoice::Sha256,
            dotnet: DotnetSource::Path,
            held: None,
        }
    }

    #[test]
    fn each_target_names_the_file_it_can_read() {
        let cert_only = daemon(CredentialFiles {
            cert_pem: Some("d.pem".into()),
            ..CredentialFiles::default()
        });
        for (target, expected) in [
            (Target::Env, "give --bundle NAME.bundle.pem"),
            (Target::AzureIdentity, "or --pfx FILE"),
            (Target::Az, "az cannot read a PFX"),
            (Target::MsalPython, "give --key NAME.key"),
            (Target::MsalNode, "give --key NAME.key"),
            (Target::MicrosoftIdentityWeb, "give --pfx FILE"),
        ] {
            let err = render(&cert_only, target).unwrap_err().to_string();
            assert!(err.contains(expected), "{target:?}: {err}");
        }
        let pfx = daemon(CredentialFiles {
            pfx: Some("d.pfx".into()),
            ..CredentialFiles::default()
        });
        let err = render(&pfx, Target::MsalNode).unwrap_err().to_string();
        assert!(err.contains("msal-node cannot read a PFX"), "{err}");
        assert!(render(&pfx, Target::Az).is_err());
    }

    #[test]
    fn a_pfx_password_is_named_never_given() {
        let pfx = daemon(CredentialFiles {
            pfx: Some("/srv/d.pfx".into()),
            ..CredentialFiles::default()
        });
        for target in [
            Target::Env,
            Target::AzureIdentity,
            Target::MsalPython,
            Target::MicrosoftIdentityWeb,
        ] {
            let snippet = render(&pfx, target).unwrap();
            assert!(
                snippet.notes.iter().any(|n| n.contains("never prints it")),
                "{target:?}: {:?}",
                snippet.notes
            );
            assert!(!snippet.content.contains("password\":"), "{target:?}");
        }
        let env = render(&pfx, Target::Env).unwrap().content;
        assert!(
            env.contains("AZURE_CLIENT_CERTIFICATE_PATH=/srv/d.pfx\n"),
            "{env}"
        );
        assert!(!env.contains("AZURE_AUTHORITY_HOST"), "{env}");
    }

    #[test]
    fn values_are_quoted_for_their_language() {
        let mut odd = daemon(CredentialFiles {
            bundle: Some("/srv/my certs/it's.pem".into()),
            ..CredentialFiles::default()
        });
        odd.authority = Authority::parse("https://login.microsoftonline.us").unwrap();
        let env = render(&odd, Target::Env).unwrap().content;
        assert!(
            env.contains("AZURE_CLIENT_CERTIFICATE_PATH='/srv/my certs/it'\\''s.pem'\n"),
            "{env}"
        );
        assert!(env.contains("AZURE_AUTHORITY_HOST=https://login.microsoftonline.us\n"));
        let az = render(&odd, Target::Az).unwrap().content;
        assert!(
            az.ends_with("--certificate '/srv/my certs/it'\\''s.pem'\n"),
            "{az}"
        );
        let python = render(&odd, Target::AzureIdentity).unwrap().content;
        assert!(
            python.contains("certificate_path=\"/srv/my certs/it's.pem\","),
            "{python}"
        );
        assert!(!python.contains("disable_instance_discovery"), "{python}");
    }

    #[test]
    fn a_der_certificate_is_written_into_the_snippet() {
        let key_only = daemon(CredentialFiles {
            key: Some("d.key".into()),
            ..CredentialFiles::default()
        });
        let node = render(&key_only, Target::MsalNode).unwrap().content;
        assert!(
            node.contains("x5c: \"-----BEGIN CERTIFICATE-----\\n"),
            "{node}"
        );
        assert!(node.contains(&format!(
            "thumbprintSha256: \"{}\"",
            key_only
                .certificate
                .thumbprints
                .render(ThumbprintForm::Sha256Hex)
        )));
        assert_eq!(
            authority_netloc(&Authority::parse("http://127.0.0.1:8443/x").unwrap()),
            "127.0.0.1:8443"
        );
    }
}
