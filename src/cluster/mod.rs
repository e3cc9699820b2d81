//! The cluster access layer: the few Secret operations the commands need,
//! over a connection made from the kubeconfig as kubectl makes it
//! ([`kubeconfig`]), each failure read ([`errors`]) and turned into an
//! error a person can act on (`translate.rs`).
//!
//! Reads (GET, LIST) are retried a few times on transient failures (429, 5xx,
//! dropped connections). Writes are retried here only when the server
//! pushes back (429, 503: after its `Retry-After`, bounded), which is safe
//! because every write is conditional (a create on the name being free, a
//! merge on a resourceVersion, a delete on a UID). A write whose connection
//! was lost may have been applied: it is not repeated here, but by a caller
//! that can tell its own landed write from a conflict (`secrets::execute`).
//! Every call is bounded by the request timeout.

pub mod access;
mod duration;
mod errors;
mod exec_plugin;
mod incluster;
mod kubeconfig;
mod oidc;
mod pages;
mod proxy;
mod short_strings;
mod text;
mod translate;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use serde::Serialize;

pub use duration::{humanize, parse_timeout};
pub use errors::FailureClass;
use errors::{OVER_CAP, Operation, Sent};
use kubeconfig::UserRef;
pub use pages::LIST_PAGE;

/// How much longer than the request timeout a request through a proxy may
/// take before our own timer stops it (see `call_inner`).
const TUNNEL_GRACE: Duration = Duration::from_secs(1);

/// How long to wait for a TCP connection, at most.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{self, LiveSecret, SecretListing, SecretMetadata};

/// Our field manager name, as recorded in `managedFields`.
pub const FIELD_MANAGER: &str = "kubectl-konduktor";
/// Attempts for a read, first one included.
pub const READ_ATTEMPTS: u32 = 3;
/// Attempts for a write the server pushes back (429, 503), first one included.
const WRITE_ATTEMPTS: u32 = 4;
/// The longest a `Retry-After` may make one write wait.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// Wait `wait` before attempt `next` of `attempts` of a request, saying so
/// at `-v`: the one backoff step of every retry loop.
pub(crate) async fn pause_before_attempt(wait: Duration, next: u32, attempts: u32) {
    crate::log::log(1, || {
        format!(
            "retrying in {}ms (attempt {next} of {attempts})",
            wait.as_millis()
        )
    });
    tokio::time::sleep(wait).await;
}

/// How long to wait before sending a write again that the server pushed
/// back: what its `Retry-After` asked, else our backoff; never more than
/// [`MAX_RETRY_AFTER`].
fn wait_before_retry(retry_after: Option<Duration>, backoff: Duration) -> Duration {
    retry_after.unwrap_or(backoff).min(MAX_RETRY_AFTER)
}

/// Worth another try: a server fault or a refused/dropped connection. A
/// timeout is not: the time allowed is already spent.
fn is_transient(e: &Error) -> bool {
    // An answer over our caps would come as large again: it says so
    // itself (`errors::OverCap`, translated as a final answer).
    matches!(e.kind, ErrorKind::Server | ErrorKind::Unreachable) && e.worth_asking_again()
}

/// The most items and pages one LIST is read to: a server that keeps
/// handing out new page tokens (or pages of more than was asked for)
/// would otherwise be read until memory runs out. 100,000 Secrets is far
/// beyond a namespace etcd serves well; the pages allow for short ones.
pub const MAX_LIST_ITEMS: usize = 100_000;
pub const MAX_LIST_PAGES: u32 = 2_000;

/// The most bytes of an answer that is one Secret (a GET, a write's
/// answer) read: a Secret holds at most 1 MiB of data (1.4 MiB in
/// base64) and etcd stores objects of at most 1.5 MiB, so a real server's
/// answer is well under this; past it nothing more is read.
pub const MAX_OBJECT_BYTES: usize = 8 << 20;
/// The most bytes of a review's answer read (access, rules, who we are):
/// the rules of one namespace, or one user's groups, are a few KiB on a
/// real cluster.
pub const MAX_REVIEW_BYTES: usize = 4 << 20;

/// What `--kubeconfig`, `--context`, `-n` and `--request-timeout` said.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// `None` means no limit (kubectl's `--request-timeout=0`).
    pub request_timeout: Option<Duration>,
}

/// A connection to one namespace of one cluster.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    pub namespace: String,
    pub context: String,
    pub server: String,
    timeout: Option<Duration>,
    /// The context's user, for messages about its credentials.
    user: UserRef,
    /// `through the proxy URL (from where)`, when there is one.
    via: Option<String>,
    /// The `CONNECT` proxy, for what it says when it fails.
    tunnel: Option<proxy::Tunnel>,
    /// Name the context in each request's log line: one run over several
    /// targets, where two may share a namespace's name.
    context_in_logs: bool,
}

/// The labels and annotations a merge patch sets (merged into the
/// object's: keys not named are kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchMeta {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// What a DELETE left: nothing, or the object, still there (Terminating)
/// until the finalizers that hold it are removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    Gone,
    Pending(konduktor::Terminating),
}

/// Who the API server says we are (`SelfSubjectReview`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClusterUser {
    pub username: String,
    pub groups: Vec<String>,
}

/// A namespace must be a DNS-1123 label; checked here so a typo is an input
/// error, not a confusing 404 from a URL path.
fn validate_namespace(ns: &str) -> Result<()> {
    if crate::kube_names::is_dns1123_label(ns) {
        Ok(())
    } else {
        Err(
            Error::input(format!("`{ns}` is not a valid namespace name"))
                .with_help("namespaces are DNS-1123 labels: lowercase letters, digits and `-`"),
        )
    }
}

/// `kube::Client::try_from`, or `None` where it panicked: the HTTP layer
/// stops on a bearer token that is no valid header value (one a credential
/// plugin printed with a line break, say). Its panic is silenced: the
/// message would quote the token's header.
fn build_client(config: kube::Config) -> Option<Result<kube::Client, kube::Error>> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        kube::Client::try_from(config)
    }));
    std::panic::set_hook(hook);
    built.ok()
}

impl Cluster {
    /// Connect as kubectl would: load the kubeconfig, pick the context,
    /// run a credential plugin if the user has one (bounded, see
    /// `exec_plugin`), apply the timeouts, check the namespace, build the
    /// client.
    pub async fn connect(opts: &ConnectOptions) -> Result<Self> {
        let kubeconfig::Prepared {
            mut config,
            context,
            user,
            files,
            via,
            tunnel,
        } = kubeconfig::prepare(opts.kubeconfig.as_deref(), opts.context.as_deref())?;
        // We retry reads ourselves, within the request timeout; kube's own
        // retry layer would also repeat writes and wait up to minutes.
        config.default_retry = false;
        config.connect_timeout = Some(
            opts.request_timeout
                .map_or(CONNECT_TIMEOUT, |t| t.min(CONNECT_TIMEOUT)),
        );
        config.read_timeout = opts.request_timeout;
        config.write_timeout = opts.request_timeout;
        if config
            .auth_info
            .auth_provider
            .as_ref()
            .is_some_and(|p| p.name == "oidc")
        {
            let file = match &files {
                kubeconfig::KubeconfigFiles::Files(list) => oidc::file_of_user(list, &user.name),
                kubeconfig::KubeconfigFiles::InCluster => None,
            };
            let owner = oidc::Owner {
                user: &user.name,
                context: &context,
                file: file.as_deref(),
            };
            oidc::refresh_if_expired(&mut config.auth_info, &owner, opts.request_timeout).await?;
        }
        let namespace = opts
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        validate_namespace(&namespace)?;
        // Shown in messages and logs: without credentials in the URL.
        let server =
            text::without_url_secrets(config.cluster_url.to_string().trim_end_matches('/'));
        crate::log::log(2, || {
            format!(
                "kubeconfig {}, context {context}, server {server}{}, namespace {namespace}, request timeout {}",
                files.describe(),
                via.as_ref().map(|v| format!(" {v}")).unwrap_or_default(),
                opts.request_timeout.map_or("none".to_string(), humanize)
            )
        });
        if let Some(held) = &user.withheld {
            crate::log::log(1, || {
                format!(
                    "not sending the credentials of user `{}` ({held}): the server {server} is plain http, and they go only over TLS, as with kubectl",
                    user.name
                )
            });
        }
        let client = build_client(config)
            .ok_or_else(|| errors::unusable_token(&context, &user))?
            .map_err(|e| match &e {
                kube::Error::Auth(auth) => errors::auth_error(auth, &context, &user),
                other => kubeconfig::kubeconfig_error(&files, text::kube_error_text(other)),
            })?;
        Ok(Cluster {
            client,
            namespace,
            context,
            server,
            timeout: opts.request_timeout,
            user,
            via,
            tunnel,
            context_in_logs: false,
        })
    }

    /// From now on, each request's log line names this context (a run over
    /// several targets).
    pub fn name_context_in_logs(&mut self) {
        self.context_in_logs = true;
    }

    /// What a request's log line starts with: the context, where asked.
    fn log_prefix(&self) -> String {
        match self.context_in_logs {
            true => format!("context `{}`: ", self.context),
            false => String::new(),
        }
    }

    fn secrets_api(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn op(&self, verb: &'static str, name: Option<&str>) -> Operation {
        Operation {
            verb,
            resource: "secrets",
            name: name.map(str::to_string),
            namespace: Some(self.namespace.clone()),
        }
    }

    /// Run one request under the timeout and translate its error.
    async fn call<T, F>(&self, op: &Operation, fut: F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T, kube::Error>>,
    {
        self.call_sending(op, &Sent::default(), fut).await
    }

    /// [`Self::call`] for a request that carries values (`sent`): they are
    /// blanked out of whatever the server says back.
    async fn call_sending<T, F>(&self, op: &Operation, sent: &Sent, fut: F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T, kube::Error>>,
    {
        let started = std::time::Instant::now();
        crate::log::log(1, || format!("{}{} ...", self.log_prefix(), op.describe()));
        let result = self.call_inner(op, sent, fut).await;
        crate::log::log(1, || {
            let outcome = match &result {
                Ok(_) => "ok".to_string(),
                Err(e) => format!("failed: {}", e.message()),
            };
            format!(
                "{}{} -> {outcome} in {}ms",
                self.log_prefix(),
                op.describe(),
                started.elapsed().as_millis()
            )
        });
        result
    }

    async fn call_inner<T, F>(&self, op: &Operation, sent: &Sent, fut: F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T, kube::Error>>,
    {
        // Through a proxy, the connector's own timeout (the same limit) is
        // let fire first: only its error tells a tunnel that was never
        // opened (the proxy's fault) from a server that did not answer.
        let outer = self.timeout.map(|limit| match self.tunnel {
            Some(_) => limit.saturating_add(TUNNEL_GRACE),
            None => limit,
        });
        let result = match outer {
            Some(outer) => match tokio::time::timeout(outer, fut).await {
                Ok(r) => r,
                Err(_) => {
                    return Err(self.timeout_error(op, self.timeout.unwrap_or(outer)));
                }
            },
            None => fut.await,
        };
        match result {
            Ok(r) => Ok(r),
            Err(e) => match (&self.tunnel, proxy::refusal(&e)) {
                (Some(tunnel), Some(refusal)) => Err(self.tunnel_refused(tunnel, refusal).await),
                _ => Err(self.translate(op, sent, e)),
            },
        }
    }

    /// A read, retried on transient failures with a short backoff.
    async fn read<T, F, Fut>(&self, op: &Operation, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        let mut delay = Duration::from_millis(200);
        for n in 1..=READ_ATTEMPTS {
            match self.call(op, attempt()).await {
                Err(e) if n < READ_ATTEMPTS && is_transient(&e) => {
                    pause_before_attempt(delay, n + 1, READ_ATTEMPTS).await;
                    delay *= 2;
                }
                other => return other,
            }
        }
        Err(Error::new(
            ErrorKind::Server,
            format!("could not {}", op.describe()),
        ))
    }
    /// A write, sent as built by `build` (again for each attempt) and
    /// retried when the server pushes back (429, 503: after `Retry-After`
    /// where given, at most [`MAX_RETRY_AFTER`]); any other answer is final.
    /// The body of a success is parsed as `T`.
    async fn write<T, F>(&self, op: &Operation, sent: &Sent, build: F) -> Result<T>
    where
        T: serde::de::DeserializeOwned,
        F: Fn() -> std::result::Result<http::Request<Vec<u8>>, kube::core::request::Error>,
    {
        let mut delay = Duration::from_millis(200);
        for n in 1..=WRITE_ATTEMPTS {
            let request = build().map_err(|e| {
                Error::new(
                    ErrorKind::Invalid,
                    format!(
                        "could not {}: {}",
                        op.describe(),
                        sent.scrub(&e.to_string())
                    ),
                )
            })?;
            let pushed_back = std::cell::Cell::new(None::<Option<Duration>>);
            let answer = self
                .call_sending(
                    op,
                    sent,
                    self.send_once(
                        request,
                        &pushed_back,
                        MAX_OBJECT_BYTES,
                        "the answer to a write",
                    ),
                )
                .await;
            let wait = match (&answer, pushed_back.get()) {
                (Err(_), Some(retry_after)) => wait_before_retry(retry_after, delay),
                _ => return answer,
            };
            if n == WRITE_ATTEMPTS {
                return answer;
            }
            pause_before_attempt(wait, n + 1, WRITE_ATTEMPTS).await;
            delay *= 2;
        }
        Err(Error::new(
            ErrorKind::Server,
            format!("could not {}", op.describe()),
        ))
    }

    /// Send one request; a failure status becomes [`kube::Error::Api`] as
    /// kube makes it, and a 429 or 503 also sets `pushed_back` (to the
    /// `Retry-After` it gave, if any).
    /// A success's body is read to at most `cap` bytes: past it, the
    /// answer (`what`) is an error that names it.
    async fn send_once<T: serde::de::DeserializeOwned>(
        &self,
        request: http::Request<Vec<u8>>,
        pushed_back: &std::cell::Cell<Option<Option<Duration>>>,
        cap: usize,
        what: &str,
    ) -> std::result::Result<T, kube::Error> {
        let response = self
            .client
            .send(request.map(kube::client::Body::from))
            .await?;
        let code = response.status();
        if matches!(code.as_u16(), 429 | 503) {
            pushed_back.set(Some(errors::retry_after(response.headers())));
        }
        if code.is_success() {
            let (body, cut) = errors::read_capped_body(response.into_body(), cap).await?;
            if cut {
                return Err(errors::OverCap::Answer(format!(
                    "the server sent {what} over {} MiB, {OVER_CAP}",
                    cap >> 20
                ))
                .into_kube());
            }
            return serde_json::from_slice(&body).map_err(kube::Error::SerdeError);
        }
        let (body, _cut) =
            errors::read_capped_body(response.into_body(), errors::MAX_ERROR_BODY_BYTES).await?;
        let text = String::from_utf8_lossy(&body);
        let status = serde_json::from_str::<kube::core::Status>(&text).unwrap_or_else(|_| {
            kube::core::Status::failure(text.trim(), "").with_code(code.as_u16())
        });
        Err(kube::Error::Api(status.with_code(code.as_u16()).boxed()))
    }

    fn secrets_request(&self) -> kube::core::Request {
        kube::core::Request::new(<Secret as kube::Resource>::url_path(
            &(),
            Some(&self.namespace),
        ))
    }

    /// Send a request that stores nothing (a GET, a review) once, its
    /// answer (`what`) read to at most `cap` bytes (see [`Self::send_once`]).
    async fn capped_answer<T: serde::de::DeserializeOwned>(
        &self,
        request: std::result::Result<http::Request<Vec<u8>>, kube::core::request::Error>,
        cap: usize,
        what: &str,
    ) -> std::result::Result<T, kube::Error> {
        let request = request.map_err(kube::Error::BuildRequest)?;
        let pushed_back = std::cell::Cell::new(None);
        self.send_once(request, &pushed_back, cap, what).await
    }

    /// POST a review (`K`, which stores nothing), its answer read to at
    /// most [`MAX_REVIEW_BYTES`].
    async fn review<K>(&self, review: &K, what: &str) -> std::result::Result<K, kube::Error>
    where
        K: kube::Resource<DynamicType = ()> + Serialize + serde::de::DeserializeOwned,
    {
        let body = serde_json::to_vec(review).map_err(kube::Error::SerdeError)?;
        let request =
            kube::core::Request::new(K::url_path(&(), None)).create(&PostParams::default(), body);
        self.capped_answer(request, MAX_REVIEW_BYTES, what).await
    }

    /// LIST secrets in the namespace, with a server-side label selector.
    /// A LIST read page by page (`limit` [`LIST_PAGE`], then each page's
    /// `continue` token), each page retried as any read is; `page` fetches
    /// one page given its parameters. A server that hands back the token
    /// it was given would never end: that is an error.
    async fn list_paged<T, F, Fut>(
        &self,
        op: &Operation,
        params: ListParams,
        mut page: F,
    ) -> Result<Vec<T>>
    where
        F: FnMut(ListParams) -> Fut,
        Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), kube::Error>>,
    {
        let first = params.limit(LIST_PAGE);
        let mut token: Option<String> = None;
        // Every token given so far: one given again would loop.
        let mut seen = std::collections::HashSet::new();
        let mut items = Vec::new();
        let mut pages = 0u32;
        loop {
            let params = match &token {
                Some(t) => first.clone().continue_token(t),
                None => first.clone(),
            };
            // A page holds at most the LIST_PAGE items asked for (the
            // page reader refuses more), so the total is checked before
            // it grows past MAX_LIST_ITEMS.
            let (mut got, next) = self.read(op, || page(params.clone())).await?;
            pages = pages.saturating_add(1);
            crate::log::log(2, || {
                format!(
                    "page {pages}: {}",
                    crate::output::count(got.len(), "item", "items")
                )
            });
            if items.len().saturating_add(got.len()) > MAX_LIST_ITEMS {
                return Err(Error::new(
                    ErrorKind::Server,
                    format!(
                        "could not {} on {}: the list is over {MAX_LIST_ITEMS} items after {pages} pages, more than this tool reads",
                        op.describe(),
                        self.server,
                    ),
                ));
            }
            items.append(&mut got);
            let more = next.as_deref().is_some_and(|t| !t.is_empty());
            if more && pages >= MAX_LIST_PAGES {
                return Err(Error::new(
                    ErrorKind::Server,
                    format!(
                        "could not {} on {}: the list did not end after {pages} pages and {} items (more than this tool reads: {MAX_LIST_PAGES} pages, {MAX_LIST_ITEMS} items)",
                        op.describe(),
                        self.server,
                        items.len()
                    ),
                ));
            }
            match next.filter(|t| !t.is_empty()) {
                Some(next) if !seen.insert(next.clone()) => {
                    return Err(Error::new(
                        ErrorKind::Server,
                        format!(
                            "could not {} on {}: the server gave the same page token twice",
                            op.describe(),
                            self.server
                        ),
                    ));
                }
                Some(next) => token = Some(next),
                None => break,
            }
        }
        crate::log::log(1, || {
            format!(
                "listed {} in {}",
                crate::output::count(items.len(), "secret", "secrets"),
                crate::output::count(pages, "page", "pages")
            )
        });
        Ok(items)
    }

    /// LIST secrets in the namespace, values and all, with a server-side
    /// label selector (the caller's own, for a plan or an export).
    pub async fn list_secrets(&self, selector: Option<&str>) -> Result<Vec<LiveSecret>> {
        let api = self.secrets_api();
        let params = match selector {
            Some(s) => ListParams::default().labels(s),
            None => ListParams::default(),
        };
        let op = self.op("list", None);
        crate::log::log(2, || {
            format!("label selector: {}", selector.unwrap_or("(none)"))
        });
        // Read as it arrives and at most pages::MAX_PAGE_BYTES of it (a
        // page held whole, as kube's `api.list` holds it, is as large as
        // the server makes it); a page over that is asked for again in
        // pages of SMALL_PAGE, which any real server's fit.
        let url = api.resource_url().to_string();
        self.list_paged(&op, params, |params| {
            let client = self.client.clone();
            let url = url.clone();
            async move {
                let (items, next) = pages::or_smaller(&params, |params| {
                    let (client, url) = (client.clone(), url.clone());
                    async move { pages::object_page::<Secret>(&client, &url, &params, false).await }
                })
                .await?;
                let items = items.into_iter().map(LiveSecret::from_object).collect();
                Ok((items, next))
            }
        })
        .await
    }

    /// LIST secrets in the namespace as listings: names, labels, key names
    /// and sizes. Each value is dropped as its page is read, so memory
    /// holds one page's names, never anyone's values.
    pub async fn list_secret_listings(&self, selector: Option<&str>) -> Result<Vec<SecretListing>> {
        let api = self.secrets_api();
        let params = match selector {
            Some(s) => ListParams::default().labels(s),
            None => ListParams::default(),
        };
        let op = self.op("list", None);
        crate::log::log(2, || {
            format!("label selector: {}", selector.unwrap_or("(none)"))
        });
        let url = api.resource_url().to_string();
        self.list_paged(&op, params, |params| {
            let client = self.client.clone();
            let url = url.clone();
            async move {
                // Values are skipped, not held, but still sent: the
                // page is capped and asked again smaller as above.
                let page = pages::or_smaller(&params, |params| {
                    let (client, url) = (client.clone(), url.clone());
                    async move { pages::listing_page(&client, &url, &params).await }
                })
                .await?;
                Ok((page.items, page.next))
            }
        })
        .await
    }

    pub async fn get_secret(&self, name: &str) -> Result<Option<LiveSecret>> {
        let op = self.op("get", Some(name));
        let request = self.secrets_request();
        let got = self
            .read(&op, || async {
                let answer = request.get(name, &kube::api::GetParams::default());
                match self
                    .capped_answer::<Secret>(answer, MAX_OBJECT_BYTES, "a secret")
                    .await
                {
                    Ok(secret) => Ok(Some(secret)),
                    // As kube's `get_opt`: a 404 is no such secret.
                    Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await?;
        Ok(got.map(LiveSecret::from_object))
    }

    pub async fn create_secret(&self, secret: &Secret) -> Result<LiveSecret> {
        let name = secret.metadata.name.clone().unwrap_or_default();
        let op = self.op("create", Some(&name));
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..PostParams::default()
        };
        let sent = Sent::of_secret(secret);
        let body = serde_json::to_vec(secret)
            .map_err(|_| Error::new(ErrorKind::Invalid, format!("could not {}", op.describe())))?;
        let request = self.secrets_request();
        let created: Secret = self
            .write(&op, &sent, || request.create(&params, body.clone()))
            .await?;
        Ok(LiveSecret::from_object(created))
    }

    /// A server-side dry run (`?dryRun=All`) of creating `object` in the
    /// namespace, at the collection `path` (`/apis/<group>/<version>`) of
    /// `resource`: the cluster's admission and validation answer, nothing
    /// is created. `render-job --validate` (docs/konduktor-compat.md §7.8).
    pub async fn dry_run_create(
        &self,
        api: &str,
        resource: &'static str,
        name: &str,
        object: &serde_json::Value,
    ) -> Result<()> {
        let op = Operation {
            verb: "dry-run create",
            resource,
            name: Some(name.to_string()),
            namespace: Some(self.namespace.clone()),
        };
        let params = PostParams {
            dry_run: true,
            field_manager: Some(FIELD_MANAGER.to_string()),
        };
        let body = serde_json::to_vec(object)
            .map_err(|_| Error::new(ErrorKind::Invalid, format!("could not {}", op.describe())))?;
        let request =
            kube::core::Request::new(format!("{api}/namespaces/{}/{resource}", self.namespace));
        let _: serde_json::Value = self
            .write(&op, &Sent::default(), || {
                request.create(&params, body.clone())
            })
            .await?;
        Ok(())
    }

    /// A JSON merge patch of data, labels and annotations, conditional on `resource_version`
    /// (the server answers 409 Conflict if the object changed since). A `None`
    /// value removes that key.
    pub async fn merge_secret(
        &self,
        name: &str,
        resource_version: &str,
        metadata: &PatchMeta,
        data: &BTreeMap<String, Option<SecretBytes>>,
    ) -> Result<LiveSecret> {
        let op = self.op("patch", Some(name));
        let sent = Sent::of_values(data.values().flatten().map(SecretBytes::expose));
        let data: serde_json::Map<String, serde_json::Value> = data
            .iter()
            .map(|(k, v)| {
                let value = v.as_ref().map_or(serde_json::Value::Null, |bytes| {
                    serde_json::to_value(k8s_openapi::ByteString(bytes.expose().to_vec()))
                        .unwrap_or(serde_json::Value::Null)
                });
                (k.clone(), value)
            })
            .collect();
        let mut meta = serde_json::json!({
            "resourceVersion": resource_version,
            "labels": metadata.labels,
        });
        if !metadata.annotations.is_empty() {
            meta["annotations"] = serde_json::json!(metadata.annotations);
        }
        let patch = serde_json::json!({"metadata": meta, "data": data});
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..PatchParams::default()
        };
        let request = self.secrets_request();
        let patched: Secret = self
            .write(&op, &sent, || {
                request.patch(name, &params, &Patch::Merge(&patch))
            })
            .await?;
        Ok(LiveSecret::from_object(patched))
    }

    /// DELETE with UID and resourceVersion preconditions: a secret replaced or
    /// changed since it was read is not deleted (409 Conflict). A finalizer
    /// may hold it: the server then answers with the object itself, its
    /// `deletionTimestamp` set (fixture delete-with-finalizer), and it stays.
    pub async fn delete_secret(
        &self,
        name: &str,
        uid: Option<String>,
        resource_version: Option<String>,
    ) -> Result<Deleted> {
        let op = self.op("delete", Some(name));
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid,
                resource_version,
            }),
            ..DeleteParams::default()
        };
        let request = self.secrets_request();
        let answer = self
            .write::<serde_json::Value, _>(&op, &Sent::default(), || request.delete(name, &params))
            .await?;
        Ok(deleted_from_answer(&answer))
    }

    /// Every Secret in the namespace as listings read from a metadata-only
    /// LIST (in pages): names, labels, times and finalizers, no key names,
    /// and no byte of anyone's values fetched.
    pub async fn list_secret_metadata(&self) -> Result<Vec<SecretListing>> {
        let op = self.op("list", None);
        self.list_metadata_paged(
            self.secrets_api(),
            &op,
            ListParams::default(),
            SecretListing::from_object_meta,
        )
        .await
    }

    /// A metadata-only LIST (`PartialObjectMetadataList`) in pages, each
    /// item's metadata turned into a `T` as its page arrives.
    async fn list_metadata_paged<T>(
        &self,
        api: Api<Secret>,
        op: &Operation,
        params: ListParams,
        item: fn(ObjectMeta) -> T,
    ) -> Result<Vec<T>> {
        // Streamed and capped as the values' pages are (list_secrets): a
        // hostile server can make metadata as large as values.
        let url = api.resource_url().to_string();
        self.list_paged(op, params, |params| {
            let client = self.client.clone();
            let url = url.clone();
            async move {
                let (items, next) =
                    pages::object_page::<pages::MetadataItem>(&client, &url, &params, true).await?;
                let items = items.into_iter().map(|i| item(i.metadata)).collect();
                Ok((items, next))
            }
        })
        .await
    }

    /// The metadata of every Konduktor secret (`parent=konduktor`) in the
    /// namespace, or in every namespace: a metadata-only LIST, in pages, so no
    /// value of anyone's secret is ever fetched. Only the name, the owner
    /// label, the `created-by` annotations and times are kept (managedFields
    /// name data keys: they are read for their times alone).
    pub async fn list_konduktor_metadata(
        &self,
        all_namespaces: bool,
    ) -> Result<Vec<SecretMetadata>> {
        let api: Api<Secret> = if all_namespaces {
            Api::all(self.client.clone())
        } else {
            self.secrets_api()
        };
        let params = ListParams::default().labels(&format!(
            "{}={}",
            konduktor::LABEL_PARENT,
            konduktor::PARENT_VALUE
        ));
        let op = Operation {
            verb: "list",
            resource: "secrets",
            name: None,
            namespace: (!all_namespaces).then(|| self.namespace.clone()),
        };
        // Checked, not trusted to the selector: only Konduktor's.
        let found = self
            .list_metadata_paged(api, &op, params, SecretMetadata::from_konduktor_object_meta)
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// May we `verb` secrets in the namespace? Asked with a
    /// SelfSubjectAccessReview (authorization.k8s.io/v1); `Ok(None)` where
    /// the server gives no answer: the review API missing (404) or refused
    /// to us (403). Nothing is stored by a review, so it is retried as a
    /// read is.
    pub async fn may(&self, verb: &'static str) -> Result<Option<bool>> {
        self.access_review(verb, None).await
    }

    /// May we `verb` the secret `name`? As [`Cluster::may`], with the
    /// object's name (fixtures selfsubjectaccessreview-named-allowed,
    /// -named-denied): a Role that lists `resourceNames` allows it here
    /// where the name-less review says no.
    pub async fn may_named(&self, verb: &'static str, name: &str) -> Result<Option<bool>> {
        self.access_review(verb, Some(name)).await
    }

    async fn access_review(&self, verb: &'static str, name: Option<&str>) -> Result<Option<bool>> {
        use k8s_openapi::api::authorization::v1::{
            ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
        };
        let op = Operation {
            verb: "create",
            resource: "selfsubjectaccessreviews",
            name: None,
            namespace: None,
        };
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(self.namespace.clone()),
                    verb: Some(verb.to_string()),
                    group: Some(String::new()),
                    resource: Some("secrets".to_string()),
                    name: name.map(str::to_string),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        match self
            .read(&op, || self.review(&review, "an access review's answer"))
            .await
        {
            Ok(answer) => Ok(Some(answer.status.is_some_and(|s| s.allowed))),
            Err(e) if matches!(e.kind, ErrorKind::Forbidden | ErrorKind::NotFound) => {
                crate::log::log(1, || {
                    format!(
                        "cannot check permissions before writing ({}): going on",
                        e.message()
                    )
                });
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// What RBAC lets us do to secrets in the namespace, read once with a
    /// SelfSubjectRulesReview (fixture selfsubjectrulesreview-resourcenames);
    /// `Ok(None)` where the server gives no answer (the API missing or
    /// refused to us), as for [`Cluster::may`].
    pub async fn secret_rules(&self) -> Result<Option<access::SecretRules>> {
        use k8s_openapi::api::authorization::v1::{
            SelfSubjectRulesReview, SelfSubjectRulesReviewSpec,
        };
        let op = Operation {
            verb: "create",
            resource: "selfsubjectrulesreviews",
            name: None,
            namespace: None,
        };
        let review = SelfSubjectRulesReview {
            spec: SelfSubjectRulesReviewSpec {
                namespace: Some(self.namespace.clone()),
            },
            ..SelfSubjectRulesReview::default()
        };
        match self
            .read(&op, || self.review(&review, "a rules review's answer"))
            .await
        {
            Ok(answer) => Ok(answer.status.map(access::SecretRules::from_status)),
            Err(e) if matches!(e.kind, ErrorKind::Forbidden | ErrorKind::NotFound) => {
                crate::log::log(1, || {
                    format!("cannot read your RBAC rules ({}): going on", e.message())
                });
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Who the server thinks we are. Old servers (before 1.28) lack the API.
    pub async fn whoami(&self) -> Result<ClusterUser> {
        let op = Operation {
            verb: "create",
            resource: "selfsubjectreviews",
            name: None,
            namespace: None,
        };
        let review = self
            .call(
                &op,
                self.review(&SelfSubjectReview::default(), "a user review's answer"),
            )
            .await?;
        let info = review.status.and_then(|s| s.user_info).unwrap_or_default();
        Ok(ClusterUser {
            username: info.username.unwrap_or_default(),
            groups: info.groups.unwrap_or_default(),
        })
    }

    /// The label selector for the caller's own secrets.
    pub fn owner_selector(owner_hash: &str) -> String {
        format!("{}={owner_hash}", konduktor::LABEL_OWNER)
    }
}

/// What a DELETE's answer says: a `Status` (gone), or the object with a
/// `deletionTimestamp` (a finalizer holds it: fixture delete-with-finalizer).
fn deleted_from_answer(answer: &serde_json::Value) -> Deleted {
    let meta = &answer["metadata"];
    let Some(since) = meta["deletionTimestamp"].as_str() else {
        return Deleted::Gone;
    };
    if answer["kind"].as_str() == Some("Status") {
        return Deleted::Gone;
    }
    let finalizers = meta["finalizers"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Deleted::Pending(konduktor::Terminating {
        since: since.parse().ok(),
        finalizers,
    })
}

#[cfg(test)]
mod tests;
