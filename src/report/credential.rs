//! Credentials: `inspect`, `thumbprint`, what `new` made, and what to do with each secret file.

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{line, thumbprint_lines, thumbprints_json};
use crate::credential::{CertificateInfo, Loaded, Status, ThumbprintForm};
use crate::provision::{FileRole, NewCredential};
use crate::time_fmt::rfc3339_utc;

/// A phrase for how long is left: "123 days left", "EXPIRED 4 days ago", "NOT YET VALID".
pub fn validity_phrase(cert: &CertificateInfo, now: OffsetDateTime) -> String {
    let days = cert.days_left(now);
    match cert.status(now) {
        Status::Valid if days == 1 => "1 day left".into(),
        Status::Valid => format!("{days} days left"),
        Status::Expired => format!("EXPIRED {} days ago", (now - cert.not_after).whole_days()),
        Status::NotYetValid => format!("NOT YET VALID (starts {})", rfc3339_utc(cert.not_before)),
    }
}

/// The JSON description of one certificate, as `inspect --json` prints it.
pub fn certificate_json(cert: &CertificateInfo, now: OffsetDateTime) -> Value {
    let problems = cert.entra_problems();
    json!({
        "subject": cert.subject,
        "issuer": cert.issuer,
        "selfSigned": cert.is_self_issued(),
        "serial": cert.serial,
        "notBefore": rfc3339_utc(cert.not_before),
        "notAfter": rfc3339_utc(cert.not_after),
        "daysLeft": cert.days_left(now),
        "status": cert.status(now).as_str(),
        "keyType": match cert.key {
            crate::credential::KeyKind::Rsa { .. } => "RSA",
            crate::credential::KeyKind::Ec { .. } => "EC",
            crate::credential::KeyKind::Other { .. } => "other",
        },
        "key": cert.key.to_string(),
        "keyBits": match cert.key {
            crate::credential::KeyKind::Rsa { bits } => Some(bits),
            _ => None,
        },
        "signatureAlgorithm": cert.signature_algorithm,
        "thumbprints": thumbprints_json(&cert.thumbprints),
        "entraUsable": problems.is_empty(),
        "problems": problems,
    })
}

/// `inspect --json`: one object per file.
pub fn inspect_json(files: &[Loaded], now: OffsetDateTime) -> Value {
    Value::Array(
        files
            .iter()
            .map(|file| {
                let mut object = json!({
                    "file": file.path.display().to_string(),
                    "encoding": file.encoding.as_str(),
                    "certificates": file
                        .certificates
                        .iter()
                        .map(|c| certificate_json(c, now))
                        .collect::<Vec<_>>(),
                });
                if let Some(key) = &file.key {
                    object["privateKey"] = json!({
                        "key": key.kind().to_string(),
                        "matchesCertificate": file.certificates.first().and_then(|c| key.matches(c)),
                    });
                }
                object
            })
            .collect(),
    )
}

/// `inspect` as text.
pub fn inspect_text(files: &[Loaded], now: OffsetDateTime) -> String {
    let mut out = String::new();
    for (file_index, file) in files.iter().enumerate() {
        if file_index > 0 {
            out.push('\n');
        }
        let count = file.certificates.len();
        for (index, cert) in file.certificates.iter().enumerate() {
            if index > 0 {
                out.push('\n');
            }
            let position = if count > 1 {
                format!(", certificate {} of {count}", index + 1)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "{} ({}{position})\n",
                file.path.display(),
                file.encoding.as_str()
            ));
            line(&mut out, "subject", &cert.subject);
            let issuer = if cert.is_self_issued() {
                format!("{} (self-signed)", cert.issuer)
            } else {
                cert.issuer.clone()
            };
            line(&mut out, "issuer", issuer);
            line(&mut out, "serial", &cert.serial);
            line(&mut out, "not before", rfc3339_utc(cert.not_before));
            line(
                &mut out,
                "not after",
                format!(
                    "{} ({})",
                    rfc3339_utc(cert.not_after),
                    validity_phrase(cert, now)
                ),
            );
            line(&mut out, "key", &cert.key);
            line(&mut out, "signature", &cert.signature_algorithm);
            thumbprint_lines(&mut out, &cert.thumbprints);
            if index == 0 {
                if let Some(key) = &file.key {
                    let matching = match key.matches(cert) {
                        Some(true) => ", matches the certificate",
                        Some(false) => ", DOES NOT match the certificate",
                        None => "",
                    };
                    line(&mut out, "private key", format!("{}{matching}", key.kind()));
                }
            }
            let problems = cert.entra_problems();
            if problems.is_empty() {
                line(&mut out, "entra", "usable as a certificate credential");
            } else {
                line(
                    &mut out,
                    "entra",
                    format!("NOT usable: {}", problems.join("; ")),
                );
            }
        }
    }
    out
}

/// The thumbprint lines of `thumbprint`: one form per certificate, or every form labelled.
pub fn thumbprint_text(files: &[Loaded], form: Option<ThumbprintForm>) -> String {
    let mut out = String::new();
    let certs: Vec<_> = files
        .iter()
        .flat_map(|f| f.certificates.iter().map(move |c| (f, c)))
        .collect();
    for (file, cert) in &certs {
        match form {
            Some(form) if certs.len() == 1 => {
                out.push_str(&cert.thumbprints.render(form));
                out.push('\n');
            }
            Some(form) => {
                out.push_str(&format!(
                    "{}  {}\n",
                    cert.thumbprints.render(form),
                    file.path.display()
                ));
            }
            None => {
                out.push_str(&format!("{} ({})\n", file.path.display(), cert.subject));
                thumbprint_lines(&mut out, &cert.thumbprints);
            }
        }
    }
    out
}

/// `thumbprint --json`: one object per certificate.
pub fn thumbprint_json(files: &[Loaded], form: Option<ThumbprintForm>) -> Value {
    Value::Array(
        files
            .iter()
            .flat_map(|f| {
                f.certificates.iter().map(move |cert| {
                    let mut object = json!({
                        "file": f.path.display().to_string(),
                        "subject": cert.subject,
                    });
                    match form {
                        Some(form) => {
                            object[form.label()] = Value::String(cert.thumbprints.render(form));
                        }
                        None => object["thumbprints"] = thumbprints_json(&cert.thumbprints),
                    }
                    object
                })
            })
            .collect(),
    )
}

/// What to do with the secret files of one credential, in words that fit the files really written: `new`,
/// `rotate`, `batch` and the wizard all print these lines. Each line starts with `secrets:`. Advice to delete a
/// file is given only where the PFX holds the private key and keeps it; the only copy of a key is never named for
/// deletion.
pub fn secrets_advice(files: &[(FileRole, String)]) -> Vec<String> {
    let path_of = |wanted: FileRole| {
        files
            .iter()
            .find(|(role, _)| *role == wanted)
            .map(|(_, path)| path.as_str())
    };
    let (pfx, key, password, bundle) = (
        path_of(FileRole::Pfx),
        path_of(FileRole::Key),
        path_of(FileRole::PfxPassword),
        path_of(FileRole::Bundle),
    );
    let mut lines = Vec::new();
    match pfx {
        Some(pfx) => {
            // The password file opens the PFX for every later step (token, config, doctor): it is moved to a
            // secret store once the PFX is deployed, never deleted before.
            let keep_password = password
                .map(|password| {
                    format!(
                        "; {password} opens it (keycred token, config and doctor read it): once the PFX is \
                         deployed, move it into your secret store"
                    )
                })
                .unwrap_or_default();
            match key {
                None => lines.push(format!(
                    "secrets: {pfx} is the only copy of the private key (encrypted with your password): import it \
                     where the app runs (Key Vault, or the certificate store) and keep it owner-only{keep_password}"
                )),
                Some(key) => lines.push(format!(
                    "secrets: import {pfx} where the app runs (Key Vault, or the certificate store), then delete {key} \
                     from this folder: {pfx} keeps the private key{keep_password}"
                )),
            }
        }
        None => {
            if let Some(key) = key {
                lines.push(format!(
                    "secrets: {key} is the unencrypted private key and no PFX holds it: keep it owner-only where the \
                     app runs, and nowhere else (it cannot be made again)"
                ));
            }
        }
    }
    if let Some(bundle) = bundle {
        let only = pfx.is_none() && key.is_none();
        lines.push(format!(
            "secrets: {bundle} holds the unencrypted private key{}: deploy it owner-only where the app runs \
             (azure-identity, az login), and nowhere else",
            if only { " (its only copy)" } else { " too" }
        ));
    }
    lines
}

/// What `new` reports after writing: facts, thumbprints and the files.
pub struct NewSummary<'a> {
    /// The credential made.
    pub credential: &'a NewCredential,
    /// The files written, with their roles.
    pub files: Vec<(FileRole, String)>,
    /// The PFX profile, if a PFX was written.
    pub pfx_profile: Option<&'a str>,
    /// The fragment format name.
    pub format: &'a str,
    /// Non-fatal advice.
    pub warnings: Vec<String>,
}

impl<'a> NewSummary<'a> {
    /// The summary of what the provisioning workflow made.
    pub fn of(made: &'a crate::workflow::provision::Provisioned) -> NewSummary<'a> {
        NewSummary {
            credential: &made.credential,
            files: made.files.clone(),
            pfx_profile: made.pfx_profile.map(|p| p.as_str()),
            format: crate::manifest::document::format_name(made.format),
            warnings: made.warnings.clone(),
        }
    }

    /// The keyCredentials fragment of the credential made, as its `.keycredentials.json` holds it.
    pub fn fragment(made: &crate::workflow::provision::Provisioned) -> String {
        crate::manifest::KeyCredentialsDocument::new(
            &[(&made.credential.certificate, made.credential.key_id)],
            made.format,
        )
        .render(false)
    }

    /// Text for a person.
    pub fn text(&self) -> String {
        let cert = &self.credential.certificate;
        let mut out = format!("Created a certificate credential for {}\n", cert.subject);
        let days = (cert.not_after - cert.not_before).whole_days();
        line(
            &mut out,
            "valid",
            format!(
                "{} to {} ({days} days)",
                rfc3339_utc(cert.not_before),
                rfc3339_utc(cert.not_after)
            ),
        );
        line(
            &mut out,
            "key",
            format!("{}, {}", cert.key, cert.signature_algorithm),
        );
        line(&mut out, "serial", &cert.serial);
        line(&mut out, "keyId", self.credential.key_id);
        out.push_str("thumbprints\n");
        thumbprint_lines(&mut out, &cert.thumbprints);
        out.push_str("files\n");
        let width = self.files.iter().map(|(_, p)| p.len()).max().unwrap_or(0);
        for (role, path) in &self.files {
            let detail = match role {
                FileRole::Pfx => format!(
                    "{}, {} profile",
                    role.describe(),
                    self.pfx_profile.unwrap_or("")
                ),
                FileRole::KeyCredentials => format!("{} ({} format)", role.describe(), self.format),
                _ => role.describe().to_owned(),
            };
            out.push_str(&format!("  {path:<width$}  {detail}\n"));
        }
        let path_of = |wanted: FileRole| {
            self.files
                .iter()
                .find(|(role, _)| *role == wanted)
                .map(|(_, path)| path.as_str())
        };
        let cer = path_of(FileRole::Cer).unwrap_or("NAME.cer");
        out.push_str(&format!(
            "next: upload {cer} under Certificates & secrets > Certificates (the portal identifies it by its SHA-1 \
             thumbprint), or add the keyCredentials entry beside the app's existing ones, never over them: \
             keycred rotate --cert {cer} --manifest app.json does that safely\n"
        ));
        for advice in secrets_advice(&self.files) {
            out.push_str(&advice);
            out.push('\n');
        }
        out
    }

    /// JSON for scripts.
    pub fn json(&self) -> Value {
        let cert = &self.credential.certificate;
        let files = super::files_json(&self.files);
        json!({
            "subject": cert.subject,
            "serial": cert.serial,
            "notBefore": rfc3339_utc(cert.not_before),
            "notAfter": rfc3339_utc(cert.not_after),
            "key": cert.key.to_string(),
            "signatureAlgorithm": cert.signature_algorithm,
            "keyId": self.credential.key_id,
            "thumbprints": thumbprints_json(&cert.thumbprints),
            "format": self.format,
            "pfxProfile": self.pfx_profile,
            "files": files,
            "warnings": self.warnings,
        })
    }
}
