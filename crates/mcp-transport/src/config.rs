//! Transport configuration: endpoint, modes, limits, origins, SSE, auth.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::AuthHook;

/// What one request body may cost: its size, and the time to receive all of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BodyLimits {
    pub(crate) bytes: usize,
    pub(crate) total: Duration,
}

/// How POST requests are answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResponseMode {
    /// One `application/json` body, upgraded to an SSE stream when the handler sends a
    /// notification or a request before its result (the default, as sunpeak).
    #[default]
    Json,
    /// Always an SSE stream (`--sse`).
    Sse,
}

/// Configuration of a [`Transport`](crate::Transport). Built with chained setters:
///
/// ```
/// use std::time::Duration;
/// use mcp_transport::TransportConfig;
/// let config = TransportConfig::new()
///     .endpoint_path("/mcp")
///     .session_idle_timeout(Duration::from_secs(300))
///     .allowed_origins(["https://app.example.com"]);
/// assert_eq!(config.get_endpoint_path(), "/mcp");
/// ```
#[derive(Clone)]
pub struct TransportConfig {
    pub(crate) endpoint_path: String,
    pub(crate) stateless: bool,
    pub(crate) response_mode: ResponseMode,
    pub(crate) session_idle_timeout: Duration,
    pub(crate) max_sessions: usize,
    pub(crate) max_body_bytes: BodyLimits,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) allowed_hosts: Option<Vec<String>>,
    pub(crate) sse_keep_alive: Duration,
    pub(crate) sse_history: usize,
    pub(crate) sse_retry: Duration,
    pub(crate) sse_buffer: usize,
    pub(crate) sse_buffer_bytes: usize,
    pub(crate) sse_history_bytes: usize,
    pub(crate) max_reply_bytes: usize,
    pub(crate) drain_timeout: Duration,
    pub(crate) resource_metadata_url: Option<String>,
    pub(crate) gzip: bool,
    pub(crate) auth: Option<Arc<dyn AuthHook>>,
    pub(crate) log_headers: bool,
    pub(crate) client_request_timeout: Option<Duration>,
    pub(crate) state_key: Option<crate::StateKey>,
    pub(crate) cache_hints: mcp_proto::CacheHints,
    pub(crate) read_cache_hints: Option<mcp_proto::CacheHints>,
    #[cfg(feature = "redis")]
    pub(crate) redis: Option<crate::RedisConfig>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            endpoint_path: "/mcp".into(),
            stateless: false,
            response_mode: ResponseMode::Json,
            session_idle_timeout: Duration::from_secs(300),
            max_sessions: 10_000,
            max_body_bytes: BodyLimits {
                bytes: 4 * 1024 * 1024,
                total: Duration::from_secs(60),
            },
            allowed_origins: Vec::new(),
            allowed_hosts: None,
            sse_keep_alive: Duration::from_secs(15),
            sse_history: 100,
            sse_retry: Duration::from_millis(1000),
            sse_buffer: 256,
            sse_buffer_bytes: 8 * 1024 * 1024,
            sse_history_bytes: 4 * 1024 * 1024,
            max_reply_bytes: 64 * 1024 * 1024,
            drain_timeout: Duration::from_secs(5),
            resource_metadata_url: None,
            gzip: true,
            auth: None,
            log_headers: false,
            client_request_timeout: Some(Duration::from_secs(60)),
            state_key: None,
            cache_hints: mcp_proto::CacheHints::NONE,
            read_cache_hints: None,
            #[cfg(feature = "redis")]
            redis: None,
        }
    }
}

impl TransportConfig {
    /// Keeps sessions in Redis instead of this process, so that several instances behind a
    /// load balancer (no sticky sessions needed) serve the same sessions, and an instance
    /// that dies loses none. `max_sessions` and `session_idle_timeout` apply to all
    /// instances together.
    #[cfg(feature = "redis")]
    pub fn redis_sessions(mut self, redis: crate::RedisConfig) -> Self {
        self.redis = Some(redis);
        self
    }

    /// The key that signs the `requestState` of modern (2026-07-28) `input_required` results.
    /// Instances behind one load balancer must share it (a round trip may come back to any of
    /// them); without one, each transport makes a random key.
    pub fn state_key(mut self, key: crate::StateKey) -> Self {
        self.state_key = Some(key);
        self
    }

    /// Whether a state key was set.
    pub fn has_state_key(&self) -> bool {
        self.state_key.is_some()
    }

    /// The cache hints (`ttlMs`, `cacheScope`) of modern list, read and `server/discover`
    /// results whose handler set none. Default: `ttlMs: 0`, `"private"` (fetch again, share
    /// with nobody), which is never wrong; a server whose answers are the same for every user
    /// can say more.
    pub fn cache_hints(mut self, hints: mcp_proto::CacheHints) -> Self {
        self.cache_hints = hints;
        self
    }

    /// Cache hints for `resources/read` results alone (default: those of
    /// [`cache_hints`](Self::cache_hints)), e.g. a long `ttlMs` for content-hashed URIs.
    pub fn resource_read_cache_hints(mut self, hints: mcp_proto::CacheHints) -> Self {
        self.read_cache_hints = Some(hints);
        self
    }

    /// The cache hints of a cacheable method's results.
    pub(crate) fn cache_hints_for(&self, method: &str) -> mcp_proto::CacheHints {
        match self.read_cache_hints {
            Some(h) if method == mcp_proto::methods::RESOURCES_READ => h,
            _ => self.cache_hints,
        }
    }

    #[cfg(feature = "redis")]
    pub(crate) fn redis_store(&self) -> Option<&crate::RedisConfig> {
        self.redis.as_ref()
    }

    #[cfg(not(feature = "redis"))]
    pub(crate) fn redis_store(&self) -> Option<std::convert::Infallible> {
        None
    }

    /// The defaults: `/mcp`, stateful, JSON replies, 5 min idle timeout, 10,000 sessions,
    /// 4 MiB bodies read within 60 s, 64 MiB batch replies, loopback origins, any Host, 15 s
    /// keep-alive, 100 events and 4 MiB of SSE history, 256 events and 8 MiB waiting for a
    /// slow SSE client, `retry: 1000`, 5 s drain, gzip on, 60 s for the client to answer a
    /// server request.
    pub fn new() -> Self {
        Self::default()
    }

    /// The endpoint path (default `/mcp`); only this exact path is served.
    pub fn endpoint_path(mut self, path: impl Into<String>) -> Self {
        self.endpoint_path = path.into();
        self
    }

    /// Stateless mode: no sessions, POST only (GET and DELETE get 405).
    pub fn stateless(mut self, stateless: bool) -> Self {
        self.stateless = stateless;
        self
    }

    /// JSON (default) or SSE replies to POST requests.
    pub fn response_mode(mut self, mode: ResponseMode) -> Self {
        self.response_mode = mode;
        self
    }

    /// Idle sessions (no request in flight, no open GET stream) are closed after this long.
    pub fn session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.session_idle_timeout = timeout;
        self
    }

    /// The live-session cap; at the cap the least recently used idle session is evicted.
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = max.max(1);
        self
    }

    /// POST bodies larger than this get 413 (counted while streaming).
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes.bytes = max;
        self
    }

    /// Browser origins allowed besides loopback ones (`"*"` allows every origin). Requests
    /// without an `Origin` header are never affected.
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Restricts the `Host` header to loopback names plus these (`host` or `host:port`;
    /// `"*"` allows all). Without this call any well-formed Host is accepted, as a server
    /// behind a proxy or load balancer needs. A malformed Host always gets 400.
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }

    /// Interval of SSE keep-alive comments (default 15 s).
    pub fn sse_keep_alive(mut self, interval: Duration) -> Self {
        self.sse_keep_alive = interval;
        self
    }

    /// How many SSE events per session are kept for `Last-Event-ID` resumption (default 100).
    pub fn sse_history(mut self, events: usize) -> Self {
        self.sse_history = events;
        self
    }

    /// The `retry:` value sent with priming events (default 1 s).
    pub fn sse_retry(mut self, retry: Duration) -> Self {
        self.sse_retry = retry;
        self
    }

    /// How many SSE events may wait for a slow client before its connection is dropped
    /// (the events stay in the history for resumption). Default 256.
    pub fn sse_buffer(mut self, events: usize) -> Self {
        self.sse_buffer = events.max(1);
        self
    }

    /// How many bytes of SSE events may wait for a slow client before its connection is
    /// dropped (default 8 MiB; one event always fits, however big).
    pub fn sse_buffer_bytes(mut self, bytes: usize) -> Self {
        self.sse_buffer_bytes = bytes;
        self
    }

    /// How many bytes of SSE events per session are kept for `Last-Event-ID` resumption
    /// (default 4 MiB), besides the event count of [`sse_history`](Self::sse_history). A
    /// response bigger than this is sent live only; the history keeps a short JSON-RPC error
    /// for its request instead, so a client that missed it is told rather than left waiting.
    pub fn sse_history_bytes(mut self, bytes: usize) -> Self {
        self.sse_history_bytes = bytes;
        self
    }

    /// The most bytes of results one JSON reply to a batch may carry (default 64 MiB). Results
    /// past it are answered with a JSON-RPC error (`-32603`, "reply too large"), so a small
    /// batch cannot make the server build a huge body. A single request is not limited here
    /// (its result is bounded where it is made).
    pub fn max_reply_bytes(mut self, bytes: usize) -> Self {
        self.max_reply_bytes = bytes;
        self
    }

    /// How long a client may take to send a whole POST body (default 60 s), however steadily
    /// it trickles; after that it gets 408. Pauses between chunks are limited to 30 s too.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.max_body_bytes.total = timeout;
        self
    }

    /// Graceful shutdown: how long in-flight calls may run before they are cancelled.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// The protected-resource-metadata URL to name in `WWW-Authenticate` on 401.
    pub fn resource_metadata_url(mut self, url: impl Into<String>) -> Self {
        self.resource_metadata_url = Some(url.into());
        self
    }

    /// gzip JSON replies of 1 KiB or more when the client accepts it (default on).
    pub fn gzip(mut self, on: bool) -> Self {
        self.gzip = on;
        self
    }

    /// Log the headers of every POST whose body parsed, after its `← <method>` line, as
    /// `Headers: <pretty JSON>` (sunpeak's `SUNPEAK_LOG_HEADERS`). Off by default: headers can
    /// carry credentials.
    pub fn log_headers(mut self, on: bool) -> Self {
        self.log_headers = on;
        self
    }

    /// How long [`RequestContext::send_request`](crate::RequestContext::send_request) (and
    /// sampling, elicitation, roots) waits for the client's answer before it gives up with
    /// [`ClientRequestError::Timeout`](crate::ClientRequestError::Timeout) and tells the client
    /// with `notifications/cancelled`. Default 60 s, as the TypeScript SDK; `None` waits until
    /// the request is cancelled.
    pub fn client_request_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.client_request_timeout = timeout.into();
        self
    }

    /// The authentication hook (see [`AuthHook`]).
    pub fn auth(mut self, hook: impl AuthHook) -> Self {
        self.auth = Some(Arc::new(hook));
        self
    }

    /// The endpoint path.
    pub fn get_endpoint_path(&self) -> &str {
        &self.endpoint_path
    }

    /// Whether stateless mode is on.
    pub fn is_stateless(&self) -> bool {
        self.stateless
    }

    /// The response mode.
    pub fn get_response_mode(&self) -> ResponseMode {
        self.response_mode
    }

    /// The drain timeout.
    pub fn get_drain_timeout(&self) -> Duration {
        self.drain_timeout
    }

    pub(crate) fn sse_limits(&self) -> crate::sse::table::SseLimits {
        crate::sse::table::SseLimits {
            buffer_events: self.sse_buffer,
            buffer_bytes: self.sse_buffer_bytes,
            history_bytes: self.sse_history_bytes,
        }
    }
}

impl fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportConfig")
            .field("endpoint_path", &self.endpoint_path)
            .field("stateless", &self.stateless)
            .field("response_mode", &self.response_mode)
            .field("session_idle_timeout", &self.session_idle_timeout)
            .field("max_sessions", &self.max_sessions)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("allowed_origins", &self.allowed_origins)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("sse_keep_alive", &self.sse_keep_alive)
            .field("sse_history", &self.sse_history)
            .field("state_key", &self.state_key)
            .field("cache_hints", &self.cache_hints)
            .field("read_cache_hints", &self.read_cache_hints)
            .field("sse_retry", &self.sse_retry)
            .field("sse_buffer", &self.sse_buffer)
            .field("sse_buffer_bytes", &self.sse_buffer_bytes)
            .field("sse_history_bytes", &self.sse_history_bytes)
            .field("max_reply_bytes", &self.max_reply_bytes)
            .field("drain_timeout", &self.drain_timeout)
            .field("resource_metadata_url", &self.resource_metadata_url)
            .field("gzip", &self.gzip)
            .field("auth", &self.auth.is_some())
            .field("log_headers", &self.log_headers)
            .field("client_request_timeout", &self.client_request_timeout)
            .finish()
    }
}
