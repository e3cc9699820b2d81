//! End-to-end tests: the built binary against an API server (ours by
//! default, a real cluster with KONDUKTOR_E2E_KUBECONFIG). See tests/support.

#[path = "../support/mod.rs"]
mod support;

mod apiserver_conformance;
mod apply_execution;
mod bad_manifests;
mod completion;
mod conventions;
mod credentials;
mod declarative;
mod docs;
mod drift;
mod errors;
mod export;
mod failures;
mod from_command;
mod hostile_inputs;
mod hostile_manifests;
mod huge_answers;
mod identity;
mod identity_local;
mod konduktor_config;
mod konduktor_own;
mod krew;
mod kubeconfig;
mod layers;
mod live_objects;
mod manifest_owner;
mod paged_lists;
mod plugin;
mod proxies;
mod readme;
mod release;
mod render_job;
mod render_launch;
mod saved_plans;
mod secret_create;
mod secret_delete;
mod secret_list;
mod standard_output;
mod style;
mod surfaces;
mod targets;
mod terminal;
mod whoami;
mod workflows;
