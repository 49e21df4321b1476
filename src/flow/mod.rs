//! The other half of the client credentials flow: client assertions, token requests and token inspection,
//! and the Microsoft Graph requests that let an app manage its own certificates.

pub mod assertion;
pub mod authority;
pub mod decode;
pub mod graph;
pub mod jwt;
pub mod token;
