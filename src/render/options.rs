//! What a render is given besides the task: who renders (owner, user,
//! run id), Konduktor's launch settings, and which secrets exist; shared by
//! the pod, the JobSet or Job around it, and a serving task's objects.

use std::collections::BTreeSet;

/// What Konduktor's config changes in what `konduktor launch` submits
/// (docs/konduktor-compat.md §7.7): the config's launch settings, as read.
pub use crate::konduktor::config::LaunchSettings as LaunchConfig;

impl LaunchConfig {
    pub fn ssh_enabled(&self) -> bool {
        self.ssh || self.tailscale_secret.is_some()
    }
}

/// Who renders, and how.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub unpack_image: String,
    pub owner_hash: String,
    /// The cleaned username (`trainy.ai/username`).
    pub username: String,
    /// `<login>-<last 4 hex of md5(hostname)>` (`trainy.ai/user-id`).
    pub user_id: String,
    /// The 4 characters after the name ([`super::task::run_id_of`]).
    pub run_id: String,
    /// `KONDUKTOR_DEBUG` set: Konduktor labels the pod `konduktor.ai/debug`.
    pub debug: bool,
    pub launch: LaunchConfig,
    /// The names of the caller's secrets on the cluster; `None` offline
    /// (`--secrets`), where nothing can be checked.
    pub present_secrets: Option<BTreeSet<String>>,
}

impl RenderOptions {
    /// The secret `konduktor launch` writes the SSH keys into.
    pub fn ssh_secret_name(&self) -> String {
        format!("konduktor-ssh-keys-{}", self.owner_hash)
    }
}
