//! The ready server (what `sunpeak start` uses): binds a port, serves the MCP endpoint,
//! `/health` and a fallback, and shuts down gracefully on SIGTERM/SIGINT.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::engine::Transport;
use crate::handler::BoxFuture;
use crate::http::body::McpBody;
use crate::http::cors;
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
    header_read_timeout: Duration,
    write_timeout: Duration,
}

impl HttpServer {
    /// A server for a transport.
    pub fn new(transport: Transport) -> Self {
        Self {
            transport,
            readiness: None,
            fallback: None,
            header_read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(60),
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
        self.header_read_timeout = t;
        self
    }

    /// How long writing to a client may make no progress (it reads nothing) before its
    /// connection is closed (default 60 s). Covers a stalled SSE reader, whose stream would
    /// otherwise hold its connection, and a GET stream its session, for as long as the
    /// kernel keeps the socket.
    pub fn write_timeout(mut self, t: Duration) -> Self {
        self.write_timeout = t;
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
            header_read_timeout: self.header_read_timeout,
            write_timeout: self.write_timeout,
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
    header_read_timeout: Duration,
    write_timeout: Duration,
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
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        let graceful = GracefulShutdown::new();
        let mut conns = JoinSet::new();
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
                    let _ = stream.set_nodelay(true);
                    let state = Arc::clone(&self.state);
                    // Set by the first request. hyper's header timer only runs once the HTTP
                    // version is known, which takes the client's first bytes: a client that
                    // sends nothing (or half the HTTP/2 preface) would hold the connection
                    // forever. So the connection must have produced a request by the header
                    // read timeout; after that, hyper's own timer guards each request head.
                    let got_request = Arc::new(AtomicBool::new(false));
                    let seen = Arc::clone(&got_request);
                    let svc = hyper::service::service_fn(move |req| {
                        seen.store(true, Ordering::Relaxed);
                        let state = Arc::clone(&state);
                        let timer = HttpTimer::start(req.method(), req.uri().path(), state.transport.config().get_endpoint_path());
                        async move {
                            let resp = state.route(req).await;
                            timer.finish(resp.status());
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(WriteDeadline::new(stream, self.write_timeout)), svc).into_owned();
                    let conn = graceful.watch(conn);
                    let first_request_timeout = self.header_read_timeout;
                    conns.spawn(async move {
                        let mut conn = std::pin::pin!(conn);
                        let ended = match tokio::time::timeout(first_request_timeout, conn.as_mut()).await {
                            Ok(ended) => ended,
                            Err(_) if !got_request.load(Ordering::Relaxed) => {
                                tracing::debug!(target: TARGET, "no request within the header read timeout; connection closed");
                                return;
                            }
                            Err(_) => conn.await,
                        };
                        if let Err(e) = ended {
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
