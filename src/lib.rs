//! keycred prepares certificate credentials for Microsoft Entra ID app registrations (OAuth 2.0 client
//! credentials flow) and proves they work.
//!
//! The library does all the work; the `keycred` binary only asks (flags, prompts, plan rows), calls in here, and
//! prints. The layers, top to bottom:
//!
//! - **front ends** (in the binary, independent of each other): the commands, the wizard, and batch. Each turns
//!   what it was given into the same typed requests.
//! - **workflows** ([`workflow`]): [`workflow::provision`] (`new`); [`workflow::rotation`], the one rotation
//!   engine ([`workflow::rotation::rotate`]: the choice of the new credential, plan, last-valid guard, dry-run
//!   files, interrupt check and certificate written before any save or send) over a `Store` trait with two
//!   stores, the manifest store and the Graph store, and its `runner` (workers, progress, signals) for `batch`
//!   and `graph rotate`;
//!   [`workflow::rotate_app`] (`rotate` and each batch app: the manifest store's adapter),
//!   [`workflow::batch_app`] (one plan row), [`workflow::batch_run`] (a whole plan), [`workflow::check`], [`workflow::app_roles`], [`workflow::grant`]
//!   (`manifest grant`), [`workflow::graph`], [`workflow::prove`] (`assertion`, `token`, `decode`),
//!   [`workflow::deploy`] (`config`), [`workflow::api_policy`], [`workflow::ca`] (`csr`, `import`),
//!   [`workflow::ca_rotation`] (the two runs of a rotation with the organisation's CA, for `rotate`, batch and
//!   `graph rotate`), [`workflow::made`] (the record of the keys keycred made, which decides whether a
//!   certificate found in a folder may be sent), [`workflow::tenant`] and [`workflow::graph_rotate`] (`graph
//!   apps`, `show`, `rotate`: the Graph store's adapter, with verification and retirement beside it, through the
//!   one Graph client, [`graph`]), [`workflow::tenant_rules`] (the tenant's credential rules, read one way for
//!   the Graph store, `graph apps --rules` and `doctor`), [`workflow::graph_retire`] (`graph usage`, `graph
//!   retire`: Entra's sign-in records, and removals through the rotation engine), [`workflow::scan_state`] (`graph
//!   apps --since-last` and `graph rotate --all --since-last`: the delta link and the apps it saw, kept between
//!   runs), [`workflow::app_relations`] (`graph apps --owners --federated`), [`workflow::sp_scan`] (`graph sps`),
//!   [`workflow::vault_new`] (`new --key-vault`: a certificate made in Azure Key Vault through the one Key Vault
//!   client, [`vault`], whose keys also sign `assertion` and `token` through [`workflow::prove`]; the rotation
//!   engine's `in_vault` source makes `graph rotate --key-vault`'s certificates there),
//!   [`workflow::token_new`] (`new`, `csr` and `import` with `--pkcs11-…`: a key made in a PKCS#11 token through
//!   the one token client, [`pkcs11`], which signs certificates and requests through rcgen and assertions, tokens
//!   and proofs through [`workflow::prove`]), [`workflow::doctor`]. A typed request in, a typed outcome out; no
//!   argument parsing, printing, prompting or environment. The outside services' clients, [`graph`], [`vault`]
//!   and [`pkcs11`] (and the token endpoint's, in [`flow`]), are used by workflows only.
//! - **domain and renderers**: [`credential`], [`manifest`], [`rotation`] (the pure planner), [`rules`] (app
//!   management policies: the effective rule, ISO 8601 durations, trusted CAs), [`usage`] (sign-in evidence and
//!   the retire decision), [`signing`] (service principals' SAML signing certificates, grouped), [`flow`] (JWTs,
//!   signed with a local key or a [`flow::jwt::RemoteSigner`] such as a vault's; Graph bodies), [`batch`] (plans), and the pure renderers [`export`], [`manifest`]'s documents, [`deploy`],
//!   [`policy`] and [`report`] (one file per area: credential, manifest, rotation, flow, ca, tenant, tenant_rotation, vault, batch,
//!   doctor;
//!   it renders the workflows' typed outcomes, so it is the one renderer that reads workflow types, and nothing
//!   below it reads report).
//! - **the writer and the inputs**: [`fsio`] (atomic writes, owner-only secrets, locks, backups) and [`input`]
//!   (size limit, BOM, strict JSON, password sources), which every front end uses through the workflows; below
//!   them [`interrupt`] and [`error`], which depends on nothing of keycred's but [`words`] (messages that name a
//!   request's inputs, each front end saying them in its own words: flags, plan keys, prompts; and the one rule
//!   for someone else's text in them, [`words::one_line`]).
//!
//! One command through the layers: `keycred rotate --manifest app.json --subject … --in-place` is parsed by
//! the binary's `commands/rotate.rs` (its flags declared in `cli/rotate.rs`) into a
//! [`workflow::rotate_app::RotateRequest`] (its new credential a
//! [`workflow::provision::CredentialSpec`]); [`workflow::rotate_app::rotate_app`] hands a manifest store to
//! the engine ([`workflow::rotation::rotate`]), which has the store take the manifest's [`fsio::Lock`] and read
//! it through [`input`], plans with [`rotation::plan`], makes the certificate through
//! [`workflow::provision::Issue`], writes its files through [`fsio`], and has the store save the manifest; the
//! adapter returns a
//! [`workflow::rotate_app::RotateOutcome`], which the command prints with [`report::rotate_text`]. A batch row
//! with the same options builds the same request ([`workflow::batch_app::rotate_request`]).
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
pub mod deploy;
pub mod error;
pub mod exit;
pub mod export;
pub mod flow;
pub mod fsio;
#[doc(hidden)]
pub mod fuzzing;
pub mod graph;
pub mod input;
pub mod interrupt;
pub mod manifest;
pub mod pkcs11;
pub mod policy;
pub mod provision;
pub mod report;
pub mod rotation;
pub mod rules;
pub mod secret;
pub mod shell;
pub mod signing;
pub mod time_fmt;
pub mod usage;
pub mod vault;
pub mod words;
pub mod workflow;

pub use error::{Error, Result};
