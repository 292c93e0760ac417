//! The Node.js tool host: runs a sunpeak app's JavaScript tool handlers and `auth()` in a pool
//! of supervised Node.js worker processes.
//!
//! Each worker imports `dist/tools/*.js` and `dist/server.js` and talks to the host over a
//! private Unix domain socket (newline-delimited JSON, see `js/worker.mjs`); its stdout and
//! stderr are only ever log output. Tool semantics are those of `sunpeak start` 0.20 on
//! `@modelcontextprotocol/sdk` 1.29: Zod schemas converted to JSON Schema with the project's own
//! `zod` (draft-07, `io: input|output`), arguments validated before the handler runs, results
//! normalised, `outputSchema` enforced, and the SDK's error texts.
//!
//! Supervision: a worker that exits, crashes or stops answering pings is killed and replaced
//! (with backoff when it keeps failing); only its in-flight calls fail, with an `isError` result.
//!
//! Logging (`tracing`): handler console output has target `tool` and a `tool` field, `auth()`
//! output target `auth`, worker lifecycle and output outside handlers target `node` (field
//! `worker`); the `CallTool: <name>{<keys>}` line (sunpeak's) has target `mcp`.
//!
//! ```no_run
//! # async fn demo(peer: std::sync::Arc<dyn mcp_apps::node::ClientPeer>) -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_apps::node::{NodeHost, NodeHostConfig, ToolCallContext};
//! let (host, app) = NodeHost::start(NodeHostConfig::new(".", "dist")).await?;
//! for tool in &app.tools {
//!     println!("{}: {}", tool.name, tool.input_schema.get());
//! }
//! let ctx = ToolCallContext::new(serde_json::json!(1), peer);
//! let outcome = host.call_tool("show-albums", serde_json::json!({"category": "food"}), ctx).await;
//! host.shutdown().await;
//! # Ok(()) }
//! ```

mod api;
mod discover;
mod error;
mod frames;
mod pool;
mod process;
mod runtime_dir;
mod worker;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use api::{
    AuthAnswer, AuthRequest, BoxFuture, ClientPeer, LoadedApp, LoadedTool, NodeHostConfig,
    ServerEntry, ToolCallContext, ToolCallOutcome,
};
pub use discover::{MIN_NODE_MAJOR, NodeBinary, find_node};
pub use error::{AuthError, NodeHostError};
pub use pool::{WORKER_RESTARTS, WORKER_WAIT};

use error::texts;
use frames::ToolFile;
use pool::Pool;
use process::{SpawnEnv, Spawned, Timing};
use runtime_dir::RuntimeDir;
use worker::{AuthReply, CallReply, Worker};

/// The running tool host. Cheap to clone; the workers stop when [`NodeHost::shutdown`] is
/// called or the last clone is dropped.
#[derive(Clone)]
pub struct NodeHost {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None` when `dist/` has nothing to run (no tools, no server entry).
    pool: Option<Arc<Pool>>,
    tools: HashSet<String>,
    has_auth: bool,
    call_timeout: Option<Duration>,
    auth_timeout: Duration,
    worker_wait: Duration,
    // Dropped after the pool's workers were told to stop (see `Drop`).
    _runtime_dir: Option<RuntimeDir>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.shutdown.cancel();
        }
    }
}

impl std::fmt::Debug for NodeHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHost")
            .field("tools", &self.inner.tools.len())
            .field("ready", &self.is_ready())
            .finish_non_exhaustive()
    }
}

impl NodeHost {
    /// Finds Node.js, starts `cfg.workers` workers and loads `dist/` in them. Fails, like
    /// `sunpeak start`, when a tool module or the server entry throws on import. When `dist/`
    /// has no tool modules and no `server.js`, no worker (and no Node.js) is needed.
    pub async fn start(cfg: NodeHostConfig) -> Result<(NodeHost, LoadedApp), NodeHostError> {
        let (files, server) = scan_dist(&cfg.dist_dir)?;
        if files.is_empty() && server.is_none() {
            let host = NodeHost {
                inner: Arc::new(Inner {
                    pool: None,
                    tools: HashSet::new(),
                    has_auth: false,
                    call_timeout: cfg.call_timeout,
                    auth_timeout: cfg.auth_timeout,
                    worker_wait: cfg.worker_wait,
                    _runtime_dir: None,
                }),
            };
            return Ok((host, LoadedApp::default()));
        }
        let node = find_node(cfg.node.as_deref()).await?;
        let runtime_dir = RuntimeDir::create()?;
        let env = SpawnEnv {
            node: node.path.clone(),
            script: runtime_dir.script().to_path_buf(),
            runtime_dir: runtime_dir.path().to_path_buf(),
            project_root: cfg.project_root.clone(),
            load_frame: frames::load(
                &cfg.project_root.to_string_lossy(),
                &files,
                server.as_deref(),
            ),
            startup_timeout: cfg.startup_timeout,
            max_frame_bytes: cfg.max_result_bytes,
        };
        let timing = Timing {
            ping_interval: cfg.ping_interval,
            ping_timeout: cfg.ping_timeout,
        };
        let pool = Pool::new(env, timing);

        // Start every worker at once; the first report describes the app.
        let count = cfg.workers.max(1);
        let mut starting = Vec::with_capacity(count);
        for slot in 0..count {
            let pool = Arc::clone(&pool);
            let generation = pool.next_generation();
            starting.push(tokio::spawn(async move {
                process::spawn(pool.env(), slot, generation).await
            }));
        }
        let mut started: Vec<Spawned> = Vec::with_capacity(count);
        let mut failure: Option<NodeHostError> = None;
        for task in starting {
            match task.await {
                Ok(Ok(spawned)) => started.push(spawned),
                Ok(Err(err)) => {
                    // A load error says more than "the worker exited".
                    if failure.is_none() || matches!(err, NodeHostError::Load { .. }) {
                        failure = Some(err);
                    }
                }
                Err(join) => {
                    failure.get_or_insert(NodeHostError::Worker {
                        detail: format!("the start task failed ({join})"),
                    });
                }
            }
        }
        if let Some(err) = failure {
            // Dropping the spawned workers kills their processes.
            drop(started);
            return Err(err);
        }
        let app = loaded_app(&mut started[0].loaded);
        tracing::debug!(target: "node", "{count} tool worker(s) ready on Node.js {}", node.version);
        for (slot, spawned) in started.into_iter().enumerate() {
            pool.supervise(slot, spawned);
        }
        let host = NodeHost {
            inner: Arc::new(Inner {
                pool: Some(pool),
                tools: app.tools.iter().map(|t| t.name.clone()).collect(),
                has_auth: app.server.as_ref().is_some_and(|s| s.has_auth),
                call_timeout: cfg.call_timeout,
                auth_timeout: cfg.auth_timeout,
                worker_wait: cfg.worker_wait,
                _runtime_dir: Some(runtime_dir),
            }),
        };
        Ok((host, app))
    }

    /// Runs a tool: validates `args` (`Value::Null` = no arguments), calls the handler with
    /// `(args, extra)`, and returns the normalised result or the error sunpeak would give.
    /// Never fails otherwise: a dead worker, a timeout or a cancellation give an `isError`
    /// result.
    pub async fn call_tool(
        &self,
        name: &str,
        args: Value,
        ctx: ToolCallContext,
    ) -> ToolCallOutcome {
        let inner = &self.inner;
        let Some(pool) = inner.pool.as_ref().filter(|_| inner.tools.contains(name)) else {
            return ToolCallOutcome::tool_error(texts::not_found(name));
        };
        let Some((worker, id, reply)) = register_call(pool, inner.worker_wait, name, &ctx).await
        else {
            return ToolCallOutcome::tool_error(texts::failed(
                name,
                "no Node.js worker is available",
            ));
        };
        let guard = Registration {
            worker: &worker,
            id,
            cancel_on_drop: true,
        };
        let exchange = async {
            worker.send(frames::call(id, name, &args, &ctx)).await;
            reply.await
        };
        let deadline = async {
            match inner.call_timeout {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            answer = exchange => {
                let mut guard = guard;
                guard.cancel_on_drop = false;
                match answer {
                    Ok(CallReply::Done(outcome)) => outcome,
                    Ok(CallReply::Lost(why)) => ToolCallOutcome::tool_error(texts::failed(name, &why)),
                    Err(_) => ToolCallOutcome::tool_error(texts::failed(name, "the worker process went away")),
                }
            }
            _ = ctx.cancel.cancelled() => {
                worker.try_send(frames::cancel(id, "cancel"));
                let mut guard = guard;
                guard.cancel_on_drop = false;
                ToolCallOutcome::tool_error(texts::cancelled(name))
            }
            _ = deadline => {
                worker.try_send(frames::cancel(id, "timeout"));
                let mut guard = guard;
                guard.cancel_on_drop = false;
                let limit = inner.call_timeout.unwrap_or_default();
                let text = texts::timed_out(name, limit);
                tracing::warn!(target: "node", worker = worker.slot, "{text}");
                ToolCallOutcome::tool_error(text)
            }
        }
    }

    /// Runs `auth(req, context)` from `dist/server.js`. `Ok(None)`: it returned a falsy value or
    /// an `AuthorizationFailure` (answer 401). `Err`: it threw, or could not run; answer 500 and
    /// keep serving. [`NodeHost::authorize`] tells the failure's details.
    pub async fn authenticate(&self, req: AuthRequest) -> Result<Option<Value>, AuthError> {
        Ok(match self.authorize(req).await? {
            AuthAnswer::Authorized(info) => Some(info),
            AuthAnswer::Rejected(_) => None,
        })
    }

    /// Runs `auth(req, context)` from `dist/server.js`: its auth info, or its rejection (with
    /// the `AuthorizationFailure` fields, if it returned one). `Err`: it threw, or could not
    /// run; answer 500 and keep serving.
    pub async fn authorize(&self, req: AuthRequest) -> Result<AuthAnswer, AuthError> {
        let inner = &self.inner;
        let pool = match &inner.pool {
            Some(pool) if inner.has_auth => pool,
            _ => return Err(AuthError::NotConfigured),
        };
        let deadline = tokio::time::Instant::now() + inner.worker_wait;
        let (worker, id, reply) = loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(worker) = pool.acquire(remaining).await else {
                return Err(AuthError::Failed(
                    "no Node.js worker is available".to_string(),
                ));
            };
            // A worker that died between `acquire` and here: try the next one.
            if let Ok((id, reply)) = worker.register_auth() {
                break (worker, id, reply);
            }
            tokio::task::yield_now().await;
        };
        let _guard = Registration {
            worker: &worker,
            id,
            cancel_on_drop: false,
        };
        worker.send(frames::auth(id, &req)).await;
        let limit = inner
            .call_timeout
            .map_or(inner.auth_timeout, |t| t.min(inner.auth_timeout));
        let Ok(answer) = tokio::time::timeout(limit, reply).await else {
            return Err(AuthError::Failed(format!(
                "auth() did not finish within {}",
                texts::human_duration(limit)
            )));
        };
        match answer {
            Ok(AuthReply::Info(Some(info))) => Ok(AuthAnswer::Authorized(info)),
            Ok(AuthReply::Info(None)) => Ok(AuthAnswer::Rejected(None)),
            Ok(AuthReply::Denied(failure)) => Ok(AuthAnswer::Rejected(Some(failure))),
            Ok(AuthReply::Threw(text)) => Err(AuthError::Threw(text)),
            Ok(AuthReply::Lost(why)) => Err(AuthError::Failed(why)),
            Err(_) => Err(AuthError::Failed(
                "the worker process went away".to_string(),
            )),
        }
    }

    /// Workers running now (0 when `dist/` needs none).
    pub fn worker_count(&self) -> usize {
        self.inner.pool.as_ref().map_or(0, |pool| pool.live_count())
    }

    /// Tool calls and `auth()` runs in flight on the workers now.
    pub fn calls_in_flight(&self) -> usize {
        self.inner.pool.as_ref().map_or(0, |pool| pool.in_flight())
    }

    /// False while no worker is up (answer `/health` with 503). True when `dist/` needs none.
    pub fn is_ready(&self) -> bool {
        self.inner.pool.as_ref().is_none_or(|pool| pool.is_ready())
    }

    /// Stops the workers (in-flight calls fail with `the server is shutting down`) and waits
    /// until they are gone. Drain calls before this.
    pub async fn shutdown(&self) {
        if let Some(pool) = &self.inner.pool {
            pool.shutdown().await;
        }
    }
}

/// Picks a worker and registers the call on it, retrying when the picked worker died in
/// between.
async fn register_call(
    pool: &Arc<Pool>,
    wait: Duration,
    name: &str,
    ctx: &ToolCallContext,
) -> Option<(Arc<Worker>, u64, tokio::sync::oneshot::Receiver<CallReply>)> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let worker = pool.acquire(remaining).await?;
        if let Ok((id, reply)) = worker.register_call(name, Arc::clone(&ctx.peer)) {
            return Some((worker, id, reply));
        }
        tokio::task::yield_now().await;
    }
}

/// Ends a call's or auth run's registration however the waiting ends, including when the
/// caller drops the future (client gone): then the handler's signal is aborted too.
struct Registration<'a> {
    worker: &'a Arc<Worker>,
    id: u64,
    cancel_on_drop: bool,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if self.cancel_on_drop {
            self.worker.try_send(frames::cancel(self.id, "cancel"));
        }
        self.worker.finish(self.id);
    }
}

/// `dist/tools/*.js` (not `*.test.js`) in bytewise name order, and `dist/server.js`.
fn scan_dist(dist: &Path) -> Result<(Vec<ToolFile>, Option<String>), NodeHostError> {
    let tools_dir = dist.join("tools");
    let mut files = Vec::new();
    match std::fs::read_dir(&tools_dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.map_err(|source| NodeHostError::Io {
                    what: "could not read",
                    path: tools_dir.clone(),
                    source,
                })?;
                let Ok(file_name) = entry.file_name().into_string() else {
                    tracing::warn!(target: "node", "skipping a tool file whose name is not UTF-8: {:?}", entry.file_name());
                    continue;
                };
                if !file_name.ends_with(".js") || file_name.ends_with(".test.js") {
                    continue;
                }
                let path = entry.path();
                if !path.is_file() {
                    continue;
                }
                let name = file_name.trim_end_matches(".js").to_string();
                files.push((file_name, name, absolute(&path)));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(NodeHostError::Io {
                what: "could not read",
                path: tools_dir,
                source,
            });
        }
    }
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let tools = files
        .into_iter()
        .map(|(_, name, file)| ToolFile { name, file })
        .collect();
    let server_path = dist.join("server.js");
    let server = server_path.is_file().then(|| absolute(&server_path));
    Ok((tools, server))
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

fn loaded_app(frame: &mut frames::Inbound) -> LoadedApp {
    LoadedApp {
        tools: frame
            .tools
            .take()
            .unwrap_or_default()
            .into_iter()
            .map(|t| LoadedTool {
                name: t.name,
                config: t.config,
                input_schema: t.input,
                output_schema: t.output,
            })
            .collect(),
        server: frame.server.take().map(|s| ServerEntry {
            has_auth: s.has_auth,
            oauth: s.oauth,
            config: s.config,
        }),
        warnings: frame.warnings.take().unwrap_or_default(),
    }
}
