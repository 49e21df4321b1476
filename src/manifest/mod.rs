//! The JSON shapes Entra ID and Microsoft Graph expect: wire types, kept apart from the domain model.

pub mod key_credentials;

pub use key_credentials::{KeyCredentialsDocument, ManifestFormat};
