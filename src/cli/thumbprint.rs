//! `keycred thumbprint` and its forms.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

use super::shared::PasswordArgs;

/// `keycred thumbprint`
#[derive(Debug, Args)]
#[command(
    after_help = "Forms: hex (sha1), base64 (sha1Base64), x5t, sha256-hex (sha256), x5t-s256 (x5t#S256).\n\nExamples:\n  keycred thumbprint certs/daemon.cer\n  keycred thumbprint --form x5t certs/daemon.cer"
)]
pub struct ThumbprintArgs {
    /// Certificates (DER or PEM, single or bundle) and PFX files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Print only this form; without it every form is printed, labelled.
    #[arg(long, short = 'f', value_enum)]
    pub form: Option<Form>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Thumbprint form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Form {
    /// SHA-1, uppercase hex (Windows, portal, MSAL thumbprint); also accepted as the printed label, sha1.
    #[value(alias = "sha1")]
    Hex,
    /// SHA-1, base64 (customKeyIdentifier); also sha1Base64.
    #[value(alias = "sha1Base64", alias = "sha1-base64")]
    Base64,
    /// SHA-1, base64url (JWT x5t).
    X5t,
    /// SHA-256, uppercase hex (MSAL thumbprintSha256); also sha256.
    #[value(alias = "sha256")]
    Sha256Hex,
    /// SHA-256, base64url (JWT x5t#S256); also x5t#S256.
    #[value(alias = "x5t#S256", alias = "x5t#s256")]
    X5tS256,
}
