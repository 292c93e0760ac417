//! The data types of the host's public API: what was loaded, what a call carries, what it returns.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

/// A boxed, sendable future (what [`ClientPeer::request`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How to start the Node.js tool host.
#[derive(Debug, Clone)]
pub struct NodeHostConfig {
    /// The `node` binary. `None`: `SUNPEAK_NODE`, else `node` on `PATH`.
    pub node: Option<PathBuf>,
    /// The project directory (worker working directory; `zod` is resolved from here for
    /// result validation).
    pub project_root: PathBuf,
    /// The built `dist/` directory (`dist/tools/*.js`, `dist/server.js`).
    pub dist_dir: PathBuf,
    /// Number of worker processes (at least 1 is started when there is anything to run).
    pub workers: usize,
    /// A tool call running longer gets an `isError` result and its `extra.signal` is aborted
    /// (`--tool-timeout`). `None`: no limit. Also bounds `auth()` when shorter than
    /// `auth_timeout`.
    pub call_timeout: Option<Duration>,
    /// `auth()` must settle within this time, else the request fails (500) instead of being
    /// held until its client gives up: a credentials check that hangs (an unreachable identity
    /// provider) would otherwise keep every request of every client waiting.
    pub auth_timeout: Duration,
    /// A worker must connect and load `dist/` within this time.
    pub startup_timeout: Duration,
    /// How often an idle channel is pinged.
    pub ping_interval: Duration,
    /// A worker that sends nothing (not even a pong) for this long is killed and replaced.
    pub ping_timeout: Duration,
    /// How long a call waits for a worker while none is up (during a restart).
    pub worker_wait: Duration,
    /// The largest message taken from a worker, which bounds a tool result
    /// (`--max-tool-result-bytes`): a bigger result is not read into memory; its call gets an
    /// `isError` result naming the tool, and the worker keeps running.
    pub max_result_bytes: usize,
}

impl NodeHostConfig {
    /// Defaults: one worker, no call timeout, `auth()` within 30 s, 30 s startup, ping every 5 s, unresponsive after
    /// 30 s, calls wait up to 10 s for a replacement worker, tool results up to 64 MiB.
    pub fn new(project_root: impl Into<PathBuf>, dist_dir: impl Into<PathBuf>) -> Self {
        NodeHostConfig {
            node: None,
            project_root: project_root.into(),
            dist_dir: dist_dir.into(),
            workers: 1,
            call_timeout: None,
            auth_timeout: Duration::from_secs(30),
            startup_timeout: Duration::from_secs(30),
            ping_interval: Duration::from_secs(5),
            ping_timeout: Duration::from_secs(30),
            worker_wait: Duration::from_secs(10),
            max_result_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What the workers loaded from `dist/`.
#[derive(Debug, Clone, Default)]
pub struct LoadedApp {
    /// Tools in `dist/tools` file order (bytewise sorted names, `*.test.js` skipped).
    pub tools: Vec<LoadedTool>,
    /// `dist/server.js`, when it exists.
    pub server: Option<ServerEntry>,
    /// Skipped tool modules, as sunpeak words them without its `Warning: ` prefix, e.g.
    /// `No "tool" export in foo.js. Skipping.`
    pub warnings: Vec<String>,
}

/// One loaded tool.
#[derive(Debug, Clone)]
pub struct LoadedTool {
    /// The file name without `.js`.
    pub name: String,
    /// The `resource`, `title`, `description`, `annotations` and `_meta` keys of the `tool`
    /// export, in the export's key order.
    pub config: Value,
    /// The JSON Schema of the arguments, exactly as Node serialised it (what sunpeak's
    /// `tools/list` shows, byte for byte).
    pub input_schema: Box<RawValue>,
    /// The JSON Schema of `structuredContent`, when the tool exports `outputSchema`.
    pub output_schema: Option<Box<RawValue>>,
}

/// The server entry (`dist/server.js`).
#[derive(Debug, Clone)]
pub struct ServerEntry {
    /// Whether it exports an `auth` function.
    pub has_auth: bool,
    /// Its `oauth` export (`OAuthProtectedResourceConfig`) as JSON text, when it is an object
    /// (read it with [`crate::oauth::OAuthConfig::from_export`]).
    pub oauth: Option<Box<RawValue>>,
    /// Its `server` export (name, version, title, description, websiteUrl, icons,
    /// instructions), when truthy.
    pub config: Option<Value>,
}

/// The client side of the request a tool call belongs to: where `extra.sendNotification` and
/// `extra.sendRequest` go (the request's SSE stream, the session).
pub trait ClientPeer: Send + Sync {
    /// A notification from the handler (`notifications/progress`, `notifications/message`,
    /// ...). `params` is `Value::Null` when the handler sent none.
    fn notify(&self, method: &str, params: Value);
    /// A request from the handler to the client (`sampling/createMessage`,
    /// `elicitation/create`, `roots/list`). Resolves with the JSON-RPC `result`, or the
    /// JSON-RPC `error` object (`{code, message, data?}`).
    fn request(&self, method: &str, params: Value) -> BoxFuture<'static, Result<Value, Value>>;
}

/// Per-call context: what the handler sees as `extra`.
#[derive(Clone)]
pub struct ToolCallContext {
    /// `extra.authInfo`: what `auth()` returned for this request.
    pub auth_info: Option<Value>,
    /// `extra.sessionId` (none in stateless mode).
    pub session_id: Option<String>,
    /// `extra.requestId`: the JSON-RPC id of the `tools/call` request.
    pub request_id: Value,
    /// `extra._meta`: the request's `params._meta`.
    pub meta: Option<Value>,
    /// `extra.requestInfo.headers`, shared by the calls of one HTTP request (a batch does not
    /// copy them per call). The worker sees them as Node shows them: lower-case names,
    /// repeated headers joined by `", "`.
    pub headers: Arc<http::HeaderMap>,
    /// `extra.requestInfo.url` (a `URL` in JS): `http://<Host><path>`.
    pub url: Option<String>,
    /// Cancelled on `notifications/cancelled`, client disconnect or session end: aborts
    /// `extra.signal`; the call then returns at once and its outcome should be discarded.
    pub cancel: CancellationToken,
    /// Where notifications and requests of the handler go.
    pub peer: Arc<dyn ClientPeer>,
}

impl ToolCallContext {
    /// A context with only the request id and the peer set.
    pub fn new(request_id: Value, peer: Arc<dyn ClientPeer>) -> Self {
        ToolCallContext {
            auth_info: None,
            session_id: None,
            request_id,
            meta: None,
            headers: Arc::default(),
            url: None,
            cancel: CancellationToken::new(),
            peer,
        }
    }
}

impl std::fmt::Debug for ToolCallContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolCallContext")
            .field("session_id", &self.session_id)
            .field("request_id", &self.request_id)
            .field("cancelled", &self.cancel.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// The answer to a `tools/call`.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolCallOutcome {
    /// A `CallToolResult` object (errors of the tool are `isError` results).
    Result(Value),
    /// A JSON-RPC error response, e.g. `-32602` `MCP error -32602: Invalid tools/call result:
    /// ...` when a handler returned a non-object.
    Error {
        /// JSON-RPC error code.
        code: i64,
        /// Error message.
        message: String,
        /// Error data, when there is any.
        data: Option<Value>,
    },
}

impl ToolCallOutcome {
    /// An `isError` result with one text item.
    pub fn tool_error(text: impl Into<String>) -> Self {
        ToolCallOutcome::Result(serde_json::json!({
            "content": [{"type": "text", "text": text.into()}],
            "isError": true,
        }))
    }
}

/// The HTTP request `auth(req, context)` sees (as Node's `IncomingMessage`: `headers`,
/// `method`, `url`) and its context's `body`.
#[derive(Debug, Clone, Default)]
pub struct AuthRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query, e.g. `/mcp?x=1`.
    pub url: String,
    /// Lower-case names; repeated headers joined by `", "`.
    pub headers: Vec<(String, String)>,
    /// The JSON text of a POST body; `auth()` gets it parsed as `context.body` (`undefined`
    /// when `None`, as for GET and DELETE).
    pub body: Option<bytes::Bytes>,
}

/// What `auth(req, context)` answered.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthAnswer {
    /// A truthy value that is not a failure: the request's auth info.
    Authorized(Value),
    /// A falsy value (`None`), or an `AuthorizationFailure` (`{ authorized: false, ... }`):
    /// its `status`, `error`, `errorDescription` and `scopes` fields.
    Rejected(Option<Value>),
}
