//! [`Transport`]: the server definition, its configuration and the live sessions, i.e. the
//! engine behind all three ways to serve (tower service, stateless function, ready server).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::{Request, Response};
use http_body::Body;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::auth::BoxError;
use crate::config::TransportConfig;
use crate::http::body::McpBody;
use crate::pending::PendingRequests;
use crate::registry::McpServer;
use crate::service::{McpService, NotFound};
use crate::session::Sessions;
use crate::session::id::new_session_id;
use crate::wire;

pub(crate) struct Engine {
    pub(crate) server: Arc<McpServer>,
    pub(crate) config: TransportConfig,
    pub(crate) sessions: Arc<Sessions>,
    /// Cancelled on forced shutdown: every handler stops.
    pub(crate) root: CancellationToken,
    /// Cancelled when shutdown begins: GET streams end, no new sessions.
    pub(crate) closing: CancellationToken,
    pub(crate) stateless_pending: PendingRequests,
    pub(crate) in_flight: AtomicUsize,
    /// Signs the request state of modern `input_required` results.
    pub(crate) state_key: crate::StateKey,
}

/// An MCP server definition served over Streamable HTTP: configuration, sessions, streams.
/// Cheap to clone (all clones share the sessions).
///
/// ```
/// # use mcp_transport::{McpServer, Transport, TransportConfig};
/// let server = McpServer::builder().build().unwrap();
/// let transport = Transport::new(server, TransportConfig::new());
/// let service = transport.service(); // a tower::Service for /mcp; other paths get 404
/// # let _ = service;
/// ```
#[derive(Clone)]
pub struct Transport {
    pub(crate) engine: Arc<Engine>,
}

impl Transport {
    /// A transport for a server definition.
    pub fn new(server: Arc<McpServer>, config: TransportConfig) -> Self {
        let root = CancellationToken::new();
        let sessions = Sessions::new(&config, &root);
        let config_state_key = config
            .state_key
            .clone()
            .unwrap_or_else(crate::StateKey::random);
        let stateless_pending =
            PendingRequests::with_prefix(format!("srv-{}", &new_session_id()[..8]));
        Self {
            engine: Arc::new(Engine {
                server,
                config,
                sessions,
                root,
                closing: CancellationToken::new(),
                stateless_pending,
                in_flight: AtomicUsize::new(0),
                state_key: config_state_key,
            }),
        }
    }

    /// The server definition.
    pub fn server(&self) -> &Arc<McpServer> {
        &self.engine.server
    }

    /// The configuration.
    pub fn config(&self) -> &TransportConfig {
        &self.engine.config
    }

    /// Handles one request to the MCP endpoint (the path is not checked).
    pub async fn handle<B>(&self, req: Request<B>) -> Response<McpBody>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        crate::endpoint::handle(&self.engine, req).await
    }

    /// A `tower::Service` serving the endpoint path; other paths get 404.
    pub fn service(&self) -> McpService<NotFound> {
        McpService::new(self.clone(), NotFound)
    }

    /// A `tower::Service` serving the endpoint path and passing other paths to `fallback`.
    pub fn service_with_fallback<S>(&self, fallback: S) -> McpService<S> {
        McpService::new(self.clone(), fallback)
    }

    /// Open `subscriptions/listen` streams (modern clients) in this process.
    pub fn listen_stream_count(&self) -> usize {
        self.engine.sessions.listeners().len()
    }

    /// Live sessions.
    pub fn session_count(&self) -> usize {
        self.engine.sessions.len()
    }

    /// Requests being handled right now.
    pub fn in_flight(&self) -> usize {
        self.engine.in_flight.load(Ordering::Relaxed)
    }

    /// Sends a notification to one session on its GET stream (kept in the history if the
    /// stream is momentarily disconnected). False if the session never opened a GET stream
    /// here; with a shared store (Redis) the other instances are asked and it is true.
    pub fn notify_session(&self, session_id: &str, method: &str, params: Option<Value>) -> bool {
        let msg = wire::notification(method, params.as_ref());
        let (here, relayed) = self.engine.sessions.notify(Some(session_id), None, &msg);
        here > 0 || relayed
    }

    /// Sends a notification (e.g. `notifications/tools/list_changed`) to every session with a
    /// GET stream, on every instance of a shared store; returns how many here.
    pub fn notify_all(&self, method: &str, params: Option<Value>) -> usize {
        let msg = wire::notification(method, params.as_ref());
        self.engine.sessions.notify(None, None, &msg).0
    }

    /// Sends `notifications/resources/updated` to the sessions subscribed to `uri` (on every
    /// instance of a shared store); returns how many here.
    pub fn notify_resource_updated(&self, uri: &str) -> usize {
        let msg = wire::notification(
            mcp_proto::methods::NOTIFICATION_RESOURCES_UPDATED,
            Some(&serde_json::json!({ "uri": uri })),
        );
        self.engine.sessions.notify(None, Some(uri), &msg).0
    }

    /// Ends a session as DELETE would; false if unknown (or the store is unreachable).
    pub async fn close_session(&self, session_id: &str) -> bool {
        matches!(self.engine.sessions.delete(session_id).await, Ok(true))
    }

    /// Starts a graceful shutdown: GET streams end and new sessions are refused; in-flight
    /// requests continue.
    pub fn begin_shutdown(&self) {
        self.engine.closing.cancel();
        self.engine.sessions.listeners().close_all();
    }

    /// Cancels every in-flight request and closes every session (after the drain timeout).
    pub fn cancel_all(&self) {
        self.engine.closing.cancel();
        self.engine.sessions.listeners().close_all();
        self.engine.root.cancel();
        self.engine.sessions.drain();
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("config", &self.engine.config)
            .field("sessions", &self.engine.sessions.len())
            .finish()
    }
}

/// Keeps the in-flight counter accurate.
pub(crate) struct InFlight(pub(crate) Arc<Engine>);

impl InFlight {
    pub(crate) fn new(engine: &Arc<Engine>) -> Self {
        engine.in_flight.fetch_add(1, Ordering::Relaxed);
        Self(Arc::clone(engine))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
