//! What every command shares, as cargo's `command_prelude`: the context
//! built from the global flags, `-o`, and the first steps most commands
//! take. A leaf of the command layer: it imports the core, never `cli` or
//! another command, so dependencies run one way (`cli` -> `cmd` -> core).

use std::sync::OnceLock;

use clap::ValueEnum;

use crate::cluster::{Cluster, ClusterUser, ConnectOptions};
use crate::error::{ErrorKind, Result};
use crate::konduktor::CustomMetadata;
use crate::konduktor::WriteMeta;
use crate::konduktor::candidates::{self, Candidates};
use crate::konduktor::config::{self, ConfigInputs, KonduktorConfig};
use crate::konduktor::digest_key::{self, DigestKey, KeyInputs};
use crate::konduktor::identity::{IdentityInputs, Owner, resolve_owner};
use crate::output::Format;
use crate::secrets::plan::Plan;

/// How to reach the cluster, from the global flags. (Colour is decided
/// once for the process, in `cli`.)
#[derive(Debug, Clone)]
pub struct Context {
    pub connect: ConnectOptions,
    /// Every context `--context` named, in order, each once. With one,
    /// it is `connect.context`; several are targets of diff and apply
    /// (`cmd::targets`).
    pub contexts: Vec<String>,
}

/// `-o` for commands that print data.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum OutputArg {
    #[default]
    Text,
    Json,
    Yaml,
}

impl From<OutputArg> for Format {
    fn from(o: OutputArg) -> Self {
        match o {
            OutputArg::Text => Format::Text,
            OutputArg::Json => Format::Json,
            OutputArg::Yaml => Format::Yaml,
        }
    }
}

/// `--allow-commands`, for commands that read a manifest.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct CommandsArg {
    /// Run the programs the manifest's `fromCommand` entries name (also KONDUKTOR_ALLOW_COMMANDS=1)
    #[arg(long)]
    pub allow_commands: bool,
}

impl CommandsArg {
    /// Allowed by the flag, or by `KONDUKTOR_ALLOW_COMMANDS=1` (never by
    /// the manifest itself: docs/konduktor-compat.md §5.2).
    pub fn allowed(self) -> bool {
        self.allow_commands
            || std::env::var("KONDUKTOR_ALLOW_COMMANDS")
                .is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"))
    }
}

/// `--wait` and `--timeout`, for commands that delete: as `kubectl delete`,
/// wait for a deleted secret a finalizer holds to go.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct WaitArgs {
    /// Wait for a deleted secret to be gone (a finalizer may hold it); --wait=false reports it pending and exits 0
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub wait: bool,
    /// How long to wait for deleted secrets to go (e.g. 30s, 2m); 0 waits forever
    #[arg(
        long,
        value_name = "DURATION",
        default_value = crate::secrets::execute::wait::DEFAULT_TIMEOUT,
        value_parser = wait_timeout_arg
    )]
    pub timeout: WaitTimeout,
}

/// `--timeout`, parsed (`None`: no limit).
#[derive(Debug, Clone, Copy)]
pub struct WaitTimeout(pub Option<std::time::Duration>);

fn wait_timeout_arg(text: &str) -> std::result::Result<WaitTimeout, String> {
    crate::cluster::parse_timeout(text).map(WaitTimeout)
}

impl WaitArgs {
    pub fn wait(self) -> crate::secrets::execute::wait::Wait {
        if self.wait {
            crate::secrets::execute::wait::Wait::Upto(self.timeout.0)
        } else {
            crate::secrets::execute::wait::Wait::No
        }
    }
}

/// The caller's owner identity, from this process's environment.
pub fn owner() -> Result<Owner> {
    let owner = resolve_owner(&IdentityInputs::from_process())?;
    crate::log::log(2, || {
        format!(
            "owner hash {} ({}), user {}",
            owner.hash, owner.source, owner.username
        )
    });
    Ok(owner)
}

/// `<login>-<last 4 hex of md5(hostname)>`: Konduktor's user id
/// (`trainy.ai/user-id`, and the name of its storage secrets).
///
/// # Errors
///
/// The login name or hostname cannot be told.
pub fn user_id() -> Result<String> {
    let inputs = IdentityInputs::from_process();
    match (inputs.login.as_deref(), inputs.hostname.as_deref()) {
        (Some(login), Some(host)) => Ok(crate::konduktor::identity::hash_seed(login, host)),
        _ => Err(crate::error::Error::input(
            "cannot tell the login name or hostname of this machine, which Konduktor's user id is made of",
        )
        .with_help("set USER (or LOGNAME)")),
    }
}

/// Konduktor's own config file (`KONDUKTOR_CONFIG`, else
/// `~/.konduktor/config.yaml`), read once per run: `None` when there is
/// none. The first call logs at `-vv` which file applied and warns on
/// stderr about each of our labels or annotations it tries to set.
///
/// # Errors
///
/// The file is broken or `KONDUKTOR_CONFIG` names no file (the same error
/// on every call): commands that connect or write stop on it.
pub fn konduktor_config() -> Result<Option<&'static KonduktorConfig>> {
    static LOADED: OnceLock<Result<Option<KonduktorConfig>>> = OnceLock::new();
    let loaded = LOADED.get_or_init(|| {
        let loaded = config::load(&ConfigInputs::from_process());
        match &loaded {
            Ok(Some(c)) => {
                crate::log::log(2, || {
                    format!("Konduktor config: {}", crate::escape::path(&c.path))
                });
                warn_reserved(c);
            }
            Ok(None) => crate::log::log(2, || {
                format!(
                    "Konduktor config: none ({} unset, no ~/{})",
                    config::ENV_CONFIG,
                    config::DEFAULT_RELATIVE_PATH
                )
            }),
            Err(_) => {}
        }
        loaded
    });
    match loaded {
        Ok(c) => Ok(c.as_ref()),
        Err(e) => Err(e.clone()),
    }
}

/// Our labels and annotations win over the config's: say so, once each.
fn warn_reserved(c: &KonduktorConfig) {
    for reserved in c.overrides_ours() {
        let line = format!(
            "{} sets the {reserved} in `kubernetes.custom_metadata`, which this tool sets itself: ours is written, the config's is ignored",
            crate::escape::path(&c.path)
        );
        eprintln!("warning: {}", crate::escape::text(&line));
    }
}

/// The context `kubernetes.allowed_contexts` picks when `--context` was not
/// given: its one entry. With several, it is ignored (logged at `-v`) and
/// the kubeconfig's current context applies.
fn config_context(opts: &ConnectOptions, c: &KonduktorConfig) -> Option<String> {
    let path = crate::escape::path(&c.path);
    if let Some(given) = &opts.context {
        if !c.allowed_contexts.is_empty() {
            crate::log::log(1, || {
                format!(
                    "context `{given}` from --context; `kubernetes.allowed_contexts` in {path} not used"
                )
            });
        }
        return None;
    }
    match (c.default_context(), c.allowed_contexts.len()) {
        (Some(one), _) => {
            crate::log::log(1, || {
                format!("context `{one}` from `kubernetes.allowed_contexts` in {path}")
            });
            Some(one.to_string())
        }
        (None, n) if n > 1 => {
            crate::log::log(1, || {
                format!(
                    "`kubernetes.allowed_contexts` in {path} lists {n} contexts: ignored (only a single entry picks the context); using the kubeconfig's current context"
                )
            });
            None
        }
        (None, _) => None,
    }
}

/// Connect with the global flags, the context from Konduktor's config when
/// `--context` was not given ([`config_context`]). A broken config stops
/// here, before any request.
pub async fn connect(ctx: &Context) -> Result<Cluster> {
    let mut opts = ctx.connect.clone();
    let picked = konduktor_config()?.and_then(|c| {
        let context = config_context(&opts, c)?;
        opts.context = Some(context.clone());
        Some((context, &c.path))
    });
    Cluster::connect(&opts).await.map_err(|e| match picked {
        // Say where a context nobody typed came from.
        Some((context, path)) if e.kind == ErrorKind::Kubeconfig => {
            let note = format!(
                "the context `{context}` comes from `kubernetes.allowed_contexts` in {} (pick another with --context)",
                crate::escape::path(path)
            );
            e.with_help_note(&note)
        }
        _ => e,
    })
}

/// The caller's other owner hashes (docs/konduktor-compat.md §2.4), for a hint: who the
/// server says we are (unless `user` is known already), then one
/// metadata-only LIST of Konduktor secrets. `None` when either fails (a
/// hint is not worth an error; logged at -v).
pub async fn other_identities(
    cluster: &Cluster,
    owner_hash: &str,
    user: Option<&ClusterUser>,
) -> Option<Candidates> {
    // A hint must not hold the command up: a slow server gets a short while.
    const HINT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);
    let lookup = look_for_other_identities(cluster, owner_hash, user);
    match tokio::time::timeout(HINT_DEADLINE, lookup).await {
        Ok(found) => found,
        Err(_) => {
            crate::log::log(1, || {
                "cannot look for your other owner hashes: no answer within 5s".to_string()
            });
            None
        }
    }
}

async fn look_for_other_identities(
    cluster: &Cluster,
    owner_hash: &str,
    user: Option<&ClusterUser>,
) -> Option<Candidates> {
    let asked;
    let user = match user {
        Some(u) => u,
        None => match cluster.whoami().await {
            Ok(u) => {
                asked = u;
                &asked
            }
            Err(e) => {
                crate::log::log(1, || {
                    format!("cannot look for your other owner hashes: {}", e.message())
                });
                return None;
            }
        },
    };
    if user.username.is_empty() {
        return None;
    }
    match cluster.list_konduktor_metadata(false).await {
        Ok(secrets) => {
            let login = IdentityInputs::from_process().login;
            Some(candidates::find(
                &secrets,
                &user.username,
                owner_hash,
                login.as_deref(),
            ))
        }
        Err(e) => {
            crate::log::log(1, || {
                format!("cannot look for your other owner hashes: {}", e.message())
            });
            None
        }
    }
}

/// Print the hint about the caller's other owner hashes, if there is one.
pub fn hint_other_identities(found: Option<&Candidates>) {
    if let Some(hint) = found.and_then(Candidates::hint) {
        eprintln!("{hint}");
    }
}

/// `kubernetes.custom_metadata` of Konduktor's config, without what only
/// this tool may set (docs/konduktor-compat.md §5.4).
pub fn custom_metadata() -> Result<CustomMetadata> {
    Ok(konduktor_config()?
        .map(|c| c.custom_metadata.without_reserved())
        .unwrap_or_default())
}

/// What the writes of this run add to each object (docs/konduktor-compat.md
/// §5.1, §5.4): who the cluster says we are, asked once (a
/// SelfSubjectReview), this workstation's login, and the config's custom
/// metadata. A server that
/// cannot say (no review API before 1.28, or RBAC) leaves `created-by`
/// out: the writes go on.
pub async fn write_meta(cluster: &Cluster) -> Result<WriteMeta> {
    let custom = custom_metadata()?;
    let created_by = match cluster.whoami().await {
        Ok(user) if !user.username.is_empty() => Some(user.username),
        Ok(_) => {
            crate::log::log(1, || {
                "the server named no user: secrets are written without a created-by annotation"
                    .to_string()
            });
            None
        }
        Err(e) => {
            crate::log::log(1, || {
                format!(
                    "cannot ask the server who we are ({}): secrets are written without a created-by annotation",
                    e.message()
                )
            });
            None
        }
    };
    Ok(WriteMeta {
        created_by,
        created_by_user_id: crate::konduktor::identity::user_id(&IdentityInputs::from_process()),
        custom,
        digest_key: digest_key_for_records(),
    })
}

/// Standard output failed after the cluster was written to: the failure
/// says that the writes were made, so that nobody runs the command again
/// believing nothing happened.
pub fn output_failed_after_writing(e: crate::error::Error) -> crate::error::Error {
    e.with_help(
        "the changes were made before the output failed: `kubectl konduktor secret list` or `diff` shows where your secrets stand",
    )
}

/// The digest key that checks a saved plan: the variable's or the file's,
/// never a new one (a new key checks no plan).
///
/// # Errors
///
/// The variable or the file is there but unusable.
pub fn digest_key_existing() -> Result<Option<DigestKey>> {
    Ok(digest_key::load(&KeyInputs::from_process())?)
}

/// The digest key a saved plan is made with, made on first use.
///
/// # Errors
///
/// The variable or the file is unusable, or a new file cannot be made.
pub fn digest_key_or_create() -> Result<DigestKey> {
    let key = digest_key::load_or_create(&KeyInputs::from_process())?;
    crate::log::log(2, || format!("digest key {} from {}", key.id(), key.source));
    Ok(key)
}

/// The digest key that tells where a change came from: `None`, with a
/// warning, when the variable or the file is unusable (origins then show
/// as unknown; nothing else needs it).
pub fn digest_key_for_origins() -> Option<DigestKey> {
    match digest_key::load(&KeyInputs::from_process()) {
        Ok(key) => key,
        Err(e) => {
            eprintln!(
                "warning: {}; where changes came from is shown as unknown ({})",
                e,
                e.help()
            );
            None
        }
    }
}

/// The digest key the `applied` records of this run's writes are made
/// with, made on first use; `None` (said at `-v`) when there is none to
/// be had: the writes then leave no record.
fn digest_key_for_records() -> Option<DigestKey> {
    match digest_key::load_or_create(&KeyInputs::from_process()) {
        Ok(key) => Some(key),
        Err(e) => {
            crate::log::log(1, || {
                format!("no digest key ({e}): secrets are written without an applied record")
            });
            None
        }
    }
}

/// Parse, validate and load a manifest (nothing sent), then read the
/// caller's live secrets with one LIST and plan. Shared by diff and apply.
pub async fn plan_manifest(
    ctx: &Context,
    file: &std::path::Path,
    prune: bool,
    commands: CommandsArg,
) -> Result<(Plan, Cluster)> {
    let manifest = crate::secrets::manifest::read(file)?;
    let owner = owner()?;
    crate::konduktor::identity::fits_object_names(&owner)?;
    manifest.check_owner(&owner)?;
    // Programs run last: not for a run that an unusable kubeconfig stops.
    let runs_programs = commands.allowed() && !manifest.commands().is_empty();
    let connected_first = match runs_programs {
        true => Some(connect(ctx).await?),
        false => None,
    };
    let desired = crate::secrets::manifest::load_here(&manifest, commands.allowed())?;
    let cluster = match connected_first {
        Some(cluster) => cluster,
        None => connect(ctx).await?,
    };
    let live = cluster
        .list_secrets(Some(&Cluster::owner_selector(&owner.hash)))
        .await?;
    let key = digest_key_for_origins();
    let plan =
        crate::secrets::plan::plan_with_key(&desired, &live, &owner.hash, prune, key.as_ref());
    plan.refuse_oversized()?;
    Ok((plan, cluster))
}
