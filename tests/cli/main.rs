//! keycred's integration tests: the real binary end to end, snapshots of its renderers, and independent
//! verification of its output by OpenSSL 3, Java keytool and Python `cryptography`.

mod admin_safety;
mod api_policy;
mod app_roles;
mod attacks;
mod batch;
mod ca;
mod ca_rotation;
mod common;
mod config;
mod doctor;
mod engine;
mod first_use;
mod flow;
mod fuzz_corpus;
mod graph;
mod hardening;
mod inspect;
mod key_credentials;
mod loopback;
mod man;
mod merge_props;
mod new;
mod peers;
mod randomness;
mod readme;
mod retire;
mod rotation;
mod round_four;
mod round_three;
mod schemas;
mod snapshots;
mod tenant_rules;
mod tenant_scale;
mod thumbprint;
mod wizard;
