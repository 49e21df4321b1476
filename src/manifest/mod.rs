//! The JSON shapes Entra ID and Microsoft Graph expect: wire types, kept apart from the domain model, and
//! manifest documents that keycred edits without disturbing what it does not own.

pub mod app_roles;
pub mod document;
pub mod document_grant;
mod document_roles;
pub mod existing;
pub mod key_credentials;
pub mod roles_source;
mod wire_roles;

pub use document::Manifest;
pub use existing::ExistingCredential;
pub use key_credentials::{KeyCredentialsDocument, ManifestFormat};
