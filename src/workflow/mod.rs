//! Workflows: what each command does, as a library call. Each takes a typed, validated request and returns a
//! typed outcome (what was planned, written, warned about); none parses arguments, prints, prompts or reads the
//! environment. The front ends (the commands, the wizard, batch) build the same requests and render the outcomes
//! with [`crate::report`], so one path serves all of them.

pub mod api_policy;
pub mod app_relations;
pub mod app_roles;
pub mod batch_app;
pub mod batch_run;
pub mod budget_record;
pub mod ca;
pub mod ca_rotation;
pub mod check;
pub mod deploy;
pub mod doctor;
pub mod grant;
pub mod graph;
pub mod graph_retire;
pub mod graph_rotate;
pub mod made;
pub mod prove;
pub mod provision;
pub mod rotate_app;
pub mod rotation;
pub mod scan_state;
pub mod sp_scan;
pub mod tenant;
pub mod tenant_rules;
pub mod token_new;
pub mod vault_new;
pub mod vault_renewals;
