//! The ready server (what `sunpeak start` uses): binds a port, serves the MCP endpoint,
//! `/health` and a fallback, and shuts down gracefully on SIGTERM/SIGINT.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::engine::Transport;
use crate::handler::BoxFuture;
use crate::http::body::McpBody;
use crate::http::cors;
use crate::http::linger::Lingering;
use crate::http::write_deadline::WriteDeadline;
use crate::logging::TARGET;
use crate::metrics::HttpTimer;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// The port is taken.
    #[error(
        "port {port} on {host} is already in use; stop the other process or choose another port with --port"
    )]
    AddrInUse {
        /// The address.
        host: std::net::IpAddr,
        /// The port.
        port: u16,
    },
    /// The address cannot be bound here.
    #[error("cannot listen on {addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// How the server ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownOutcome {
    /// Every connection finished within the drain timeout.
    Graceful,
    /// The drain timeout passed; remaining calls were cancelled and connections closed.
    Forced,
}

type Readiness = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;
type Fallback = Arc<dyn Fn(Request<Incoming>) -> BoxFuture<Response<McpBody>> + Send + Sync>;

/// A ready-to-run HTTP server around a [`Transport`].
///
/// Routes: `OPTIONS` anything → 204 with CORS; `GET /health` → `{"status":"ok","uptime":N}`
/// (503 `{"status":"unavailable",…}` while the readiness check fails; never authenticated);
/// the endpoint path → MCP; anything else → the fallback (default: 404 `Not Found`). Every 404
/// is logged as `<METHOD> <path> → 404`.
pub struct HttpServer {
    transport: Transport,
    readiness: Option<Readiness>,
    fallback: Option<Fallback>,
    limits: ConnLimits,
}

/// What one client connection may cost.
#[derive(Clone, Copy, Debug)]
struct ConnLimits {
    header_read_timeout: Duration,
    write_timeout: Duration,
    max_connections: usize,
    idle_timeout: Duration,
    max_head_bytes: usize,
    h2_keep_alive: Duration,
}

/// The longest request head (request line and headers) by default, as Node's
/// `--max-http-header-size`; longer ones get 431.
pub const DEFAULT_MAX_HEAD_BYTES: usize = 16 * 1024;

impl HttpServer {
    /// A server for a transport.
    pub fn new(transport: Transport) -> Self {
        Self {
            transport,
            readiness: None,
            fallback: None,
            limits: ConnLimits {
                header_read_timeout: Duration::from_secs(10),
                write_timeout: Duration::from_secs(60),
                max_connections: 10_000,
                idle_timeout: Duration::from_secs(60),
                max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
                h2_keep_alive: Duration::from_secs(20),
            },
        }
    }

    /// A readiness check for `/health`: `Err(reason)` answers 503.
    pub fn readiness(
        mut self,
        check: impl Fn() -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.readiness = Some(Arc::new(check));
        self
    }

    /// Handles paths other than the endpoint and `/health`.
    pub fn fallback<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<McpBody>> + Send + 'static,
    {
        self.fallback = Some(Arc::new(move |req| Box::pin(f(req))));
        self
    }

    /// How long a client may take to send a request head (default 10 s); a new connection
    /// that has sent no complete request head by then is closed.
    pub fn header_read_timeout(mut self, t: Duration) -> Self {
        self.limits.header_read_timeout = t;
        self
    }

    /// The most client connections open at once (default 10,000). A connection past the cap
    /// is accepted and closed at once (the client sees the connection close without a
    /// response), so the kernel's backlog does not fill up with clients that wait.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.limits.max_connections = max.max(1);
        self
    }

    /// A connection with no request in flight (and no response being sent) for this long is
    /// closed (default 60 s). HTTP/1.1 connections are closed sooner, after the header read
    /// timeout, when they start no next request.
    pub fn idle_timeout(mut self, t: Duration) -> Self {
        self.limits.idle_timeout = t;
        self
    }

    /// The longest request head (request line plus headers) in bytes (default 16 KiB, at
    /// least 8 KiB); a longer one is answered 431 Request Header Fields Too Large.
    pub fn max_head_bytes(mut self, max: usize) -> Self {
        self.limits.max_head_bytes = max.max(8192);
        self
    }

    /// Interval of HTTP/2 PING frames (default 20 s); a client that does not answer one within
    /// the same time is disconnected.
    pub fn http2_keep_alive(mut self, interval: Duration) -> Self {
        self.limits.h2_keep_alive = interval;
        self
    }

    /// How long writing to a client may make no progress (it reads nothing) before its
    /// connection is closed (default 60 s). Covers a stalled SSE reader, whose stream would
    /// otherwise hold its connection, and a GET stream its session, for as long as the
    /// kernel keeps the socket.
    pub fn write_timeout(mut self, t: Duration) -> Self {
        self.limits.write_timeout = t;
        self
    }

    /// Binds the address (port 0 picks a free port).
    pub async fn bind(self, addr: SocketAddr) -> Result<BoundServer, BindError> {
        let listener = TcpListener::bind(addr).await.map_err(|e| {
            if e.kind() == io::ErrorKind::AddrInUse {
                BindError::AddrInUse {
                    host: addr.ip(),
                    port: addr.port(),
                }
            } else {
                BindError::Io { addr, source: e }
            }
        })?;
        let local = listener
            .local_addr()
            .map_err(|e| BindError::Io { addr, source: e })?;
        Ok(BoundServer {
            listener,
            local,
            state: Arc::new(Routes {
                transport: self.transport,
                readiness: self.readiness,
                fallback: self.fallback,
                started: Instant::now(),
            }),
            limits: self.limits,
        })
    }
}

struct Routes {
    transport: Transport,
    readiness: Option<Readiness>,
    fallback: Option<Fallback>,
    started: Instant,
}

impl Routes {
    async fn route(self: Arc<Self>, req: Request<Incoming>) -> Response<McpBody> {
        let path = req.uri().path();
        if path == self.transport.config().get_endpoint_path() {
            return self.transport.handle(req).await;
        }
        if req.method() == Method::OPTIONS {
            let mut r = Response::new(McpBody::empty());
            *r.status_mut() = StatusCode::NO_CONTENT;
            cors::apply(r.headers_mut());
            return r;
        }
        if path == "/health" && req.method() == Method::GET {
            return self.health();
        }
        let method = req.method().clone();
        let path = path.to_owned();
        let r = match &self.fallback {
            Some(f) => f(req).await,
            None => {
                let mut r = Response::new(McpBody::from("Not Found"));
                *r.status_mut() = StatusCode::NOT_FOUND;
                r
            }
        };
        if r.status() == StatusCode::NOT_FOUND {
            tracing::info!(target: TARGET, "{method} {path} → 404");
        }
        r
    }

    fn health(&self) -> Response<McpBody> {
        let uptime = self.started.elapsed().as_secs();
        let (status, body) = match self.readiness.as_ref().map(|f| f()) {
            Some(Err(reason)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"status": "unavailable", "reason": reason, "uptime": uptime}),
            ),
            _ => (
                StatusCode::OK,
                serde_json::json!({"status": "ok", "uptime": uptime}),
            ),
        };
        let mut r = Response::new(McpBody::full(Bytes::from(body.to_string())));
        *r.status_mut() = status;
        let h = r.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        r
    }
}

/// A bound server, ready to serve.
pub struct BoundServer {
    listener: TcpListener,
    local: SocketAddr,
    state: Arc<Routes>,
    limits: ConnLimits,
}

impl BoundServer {
    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The transport being served.
    pub fn transport(&self) -> &Transport {
        &self.state.transport
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully.
    pub async fn serve(self) -> ShutdownOutcome {
        self.serve_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests finish
    /// for up to the drain timeout, and cancels what is left.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) -> ShutdownOutcome {
        let limits = self.limits;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            // hyper reads a head into a buffer of at most this many bytes and answers 431 when
            // the head does not fit (hyper-util's builder has no separate head limit). So a
            // connection holds at most this much of a head, instead of hyper's ~400 KB.
            .max_buf_size(limits.max_head_bytes);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(limits.max_head_bytes).unwrap_or(u32::MAX))
            .keep_alive_interval((!limits.h2_keep_alive.is_zero()).then_some(limits.h2_keep_alive))
            .keep_alive_timeout(limits.h2_keep_alive);
        let graceful = GracefulShutdown::new();
        let mut conns = JoinSet::new();
        let slots = Arc::new(Semaphore::new(limits.max_connections));
        let mut refused = Refusals::default();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: back off, keep serving.
                            tracing::error!(target: TARGET, error = %e, "HTTP client error");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                        // At the cap: closing at once costs nothing but the accept.
                        drop(stream);
                        refused.count(limits.max_connections);
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let linger = Arc::new(AtomicBool::new(false));
                    let io = Lingering::new(stream, Arc::clone(&linger), permit);
                    let state = Arc::clone(&self.state);
                    let activity = Arc::new(Activity::new());
                    let seen = Arc::clone(&activity);
                    let svc = hyper::service::service_fn(move |req| {
                        let state = Arc::clone(&state);
                        let timer = HttpTimer::start(req.method(), req.uri().path(), state.transport.config().get_endpoint_path());
                        let active = Active::start(&seen);
                        async move {
                            let resp = state.route(req).await;
                            timer.finish(resp.status());
                            Ok::<_, Infallible>(resp.map(|body| CountedBody { body, _active: active }))
                        }
                    });
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(WriteDeadline::new(io, limits.write_timeout)), svc).into_owned();
                    let conn = graceful.watch(conn);
                    conns.spawn(async move {
                        let conn = std::pin::pin!(conn);
                        let ended = serve_while_active(conn, &activity, &limits).await;
                        if let Some(Err(e)) = ended {
                            if e.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_parse_too_large) {
                                // 431 was sent; let it reach the client before closing.
                                linger.store(true, Ordering::Relaxed);
                            }
                            tracing::debug!(target: TARGET, error = %e, "connection ended with an error");
                        }
                    });
                    // Reap finished connection tasks so the set does not grow.
                    while conns.try_join_next().is_some() {}
                }
                () = &mut shutdown => break,
            }
        }
        tracing::info!(target: TARGET, "Shutting down MCP server...");
        drop(self.listener);
        let transport = self.state.transport.clone();
        transport.begin_shutdown();
        let drain = transport.config().get_drain_timeout();
        let outcome = tokio::select! {
            () = graceful.shutdown() => ShutdownOutcome::Graceful,
            () = tokio::time::sleep(drain) => ShutdownOutcome::Forced,
        };
        match outcome {
            ShutdownOutcome::Graceful => {
                transport.cancel_all();
                tracing::info!(target: TARGET, "MCP server closed");
            }
            ShutdownOutcome::Forced => {
                tracing::error!(target: TARGET, "Force closing MCP server");
                transport.cancel_all();
                conns.abort_all();
            }
        }
        while conns.join_next().await.is_some() {}
        outcome
    }
}

/// Serves a connection until it ends, or until it has been idle (no request in flight, no
/// response body being sent) for too long: before its first request, the header read timeout
/// (hyper's header timer only starts once the HTTP version is known, so a client sending
/// nothing, or half the HTTP/2 preface, would hold the connection for ever); after it, the
/// idle timeout. `None`: closed for idleness.
async fn serve_while_active<F, E>(
    mut conn: Pin<&mut F>,
    activity: &Activity,
    limits: &ConnLimits,
) -> Option<Result<(), E>>
where
    F: Future<Output = Result<(), E>>,
{
    loop {
        let limit = if activity.seen_request() {
            limits.idle_timeout
        } else {
            limits.header_read_timeout
        };
        let wait = activity
            .idle_for()
            .map_or(limit, |idle| limit.saturating_sub(idle));
        tokio::select! {
            ended = conn.as_mut() => return Some(ended),
            () = tokio::time::sleep(wait) => {
                if activity.idle_for().is_some_and(|idle| idle >= limit) {
                    tracing::debug!(target: TARGET, "idle connection closed");
                    return None;
                }
            }
        }
    }
}

/// Requests in flight on one connection, and since when it has had none.
struct Activity {
    started: tokio::time::Instant,
    active: AtomicU32,
    /// Milliseconds since `started` when the last request ended.
    idle_since: AtomicU64,
    seen: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: tokio::time::Instant::now(),
            active: AtomicU32::new(0),
            idle_since: AtomicU64::new(0),
            seen: AtomicBool::new(false),
        }
    }

    fn seen_request(&self) -> bool {
        self.seen.load(Ordering::Relaxed)
    }

    /// How long the connection has had nothing in flight; `None` while something is.
    fn idle_for(&self) -> Option<Duration> {
        if self.active.load(Ordering::Acquire) > 0 {
            return None;
        }
        let since = Duration::from_millis(self.idle_since.load(Ordering::Relaxed));
        Some(self.started.elapsed().saturating_sub(since))
    }
}

/// One request in flight, until its response body is dropped.
struct Active(Arc<Activity>);

impl Active {
    fn start(activity: &Arc<Activity>) -> Self {
        activity.seen.store(true, Ordering::Relaxed);
        activity.active.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(activity))
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        let a = &self.0;
        let now = u64::try_from(a.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        a.idle_since.store(now, Ordering::Relaxed);
        a.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in flight until it is sent or dropped.
struct CountedBody {
    body: McpBody,
    _active: Active,
}

impl Body for CountedBody {
    type Data = Bytes;
    type Error = <McpBody as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Counts connections refused at the cap, logging at most one warning per 10 s.
#[derive(Default)]
struct Refusals {
    since_log: u64,
    last_log: Option<Instant>,
}

impl Refusals {
    fn count(&mut self, max: usize) {
        self.since_log += 1;
        if self
            .last_log
            .is_some_and(|t| t.elapsed() < Duration::from_secs(10))
        {
            return;
        }
        tracing::warn!(
            target: TARGET,
            refused = self.since_log,
            "Connection limit reached ({max} open, --max-connections); new connections are closed"
        );
        self.since_log = 0;
        self.last_log = Some(Instant::now());
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnLimits {
        ConnLimits {
            header_read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(60),
            max_connections: 1,
            idle_timeout: Duration::from_secs(60),
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
            h2_keep_alive: Duration::from_secs(20),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn idle_connections_are_closed_and_busy_ones_kept() {
        // A connection that never ends by itself (an HTTP/2 client keeping it open).
        let mut conn = std::pin::pin!(std::future::pending::<Result<(), ()>>());
        let started = tokio::time::Instant::now();
        // Nothing ever sent: closed after the header read timeout.
        let idle = Activity::new();
        assert!(
            serve_while_active(conn.as_mut(), &idle, &limits())
                .await
                .is_none()
        );
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        // A request in flight (an SSE stream, a long tool call) keeps it open...
        let activity = Arc::new(Activity::new());
        let active = Active::start(&activity);
        let kept = tokio::time::timeout(
            Duration::from_secs(600),
            serve_while_active(conn.as_mut(), &activity, &limits()),
        )
        .await;
        assert!(kept.is_err(), "closed with a request in flight");
        // ...and once it ends, the idle timeout counts from then.
        drop(active);
        let ended = tokio::time::Instant::now();
        assert!(
            serve_while_active(conn.as_mut(), &activity, &limits())
                .await
                .is_none()
        );
        assert_eq!(ended.elapsed(), Duration::from_secs(60));
    }
}
