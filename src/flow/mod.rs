//! The other half of the client credentials flow: signed JWTs made with a credential's key, and the Microsoft
//! Graph requests that let an app manage its own certificates.

pub mod graph;
pub mod jwt;
