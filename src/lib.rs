//! keycred prepares certificate credentials for Microsoft Entra ID app registrations (OAuth 2.0 client
//! credentials flow) and proves they work.
//!
//! The library does all the work; the `keycred` binary only parses arguments, calls in here, and prints. Data
//! flows one way: a validated request ([`credential::CertRequest`]) → pure domain functions
//! ([`provision::create`]) → pure renderers ([`export`], [`manifest`], [`report`]) → the one writer
//! ([`fsio`]).
//!
//! ```
//! use keycred::credential::{CertRequest, KeySize, SignatureHash, Subject, ThumbprintForm, ValidityEnd};
//! use keycred::manifest::{KeyCredentialsDocument, ManifestFormat};
//!
//! let request = CertRequest::new(
//!     Subject::parse("Contoso Daemon")?,
//!     KeySize::Rsa2048,
//!     SignatureHash::Sha256,
//!     ValidityEnd::Days(365),
//!     time::OffsetDateTime::now_utc(),
//!     keycred::secret::random_bytes()?,
//! )?;
//! let credential = keycred::provision::create(&request, uuid::Uuid::new_v4())?;
//! let cert = &credential.certificate;
//! assert_eq!(cert.subject, "CN=Contoso Daemon");
//! assert_eq!(cert.thumbprints.render(ThumbprintForm::Hex).len(), 40);
//!
//! let fragment = KeyCredentialsDocument::new(&[(cert, credential.key_id)], ManifestFormat::Graph);
//! assert!(fragment.render(false).contains("\"type\": \"AsymmetricX509Cert\""));
//! # Ok::<(), keycred::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod batch;
pub mod credential;
pub mod error;
pub mod exit;
pub mod export;
pub mod flow;
pub mod fsio;
pub mod input;
pub mod interrupt;
pub mod manifest;
pub mod provision;
pub mod report;
pub mod rotation;
pub mod secret;
pub mod time_fmt;

pub use error::{Error, Result};
