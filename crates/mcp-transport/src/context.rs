//! The context a handler gets: who is asking, with what, and how to talk back.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Uri};
use mcp_proto::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, ErrorCode, Implementation, ListRootsResult, LoggingLevel, McpError, Meta,
    ProgressNotificationParams, ProgressToken, ProtocolVersion, RequestId, methods,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::auth::AuthInfo;
use crate::engine::Engine;
use crate::modern::Modern;
use crate::registry::McpServer;
use crate::reply::{Reply, SendError};
use crate::session::state::Session;
use crate::wire;

/// What one HTTP request carried, shared by the JSON-RPC messages of its body.
pub(crate) struct HttpInfo {
    pub(crate) headers: Arc<HeaderMap>,
    pub(crate) uri: Uri,
    pub(crate) auth: Option<AuthInfo>,
}

pub(crate) struct Inner {
    pub(crate) request_id: RequestId,
    pub(crate) meta: Option<Meta>,
    pub(crate) http: Arc<HttpInfo>,
    pub(crate) session: Option<Arc<Session>>,
    pub(crate) version: ProtocolVersion,
    pub(crate) token: CancellationToken,
    pub(crate) reply: Arc<Reply>,
    pub(crate) engine: Arc<Engine>,
    /// A modern (2026-07-28) request's `_meta` and round-trip answers.
    pub(crate) modern: Option<Arc<Modern>>,
}

/// The context of one request: identity, headers, auth, session, cancellation, and the way
/// back to the client (progress, logs, notifications, requests).
///
/// Sending anything before the result turns a JSON reply into an SSE stream, so the client
/// receives it while the handler runs. Cheap to clone.
#[derive(Clone)]
pub struct RequestContext(pub(crate) Arc<Inner>);

/// Why a request to the client failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientRequestError {
    /// The client answered with a JSON-RPC error.
    #[error("client returned an error: {0}")]
    Rpc(McpError),
    /// The request (or its session) was cancelled while waiting.
    #[error("cancelled while waiting for the client")]
    Cancelled,
    /// The client did not answer in time (see
    /// [`TransportConfig::client_request_timeout`](crate::TransportConfig::client_request_timeout)).
    #[error("the client did not answer within {0:?}")]
    Timeout(Duration),
    /// The session closed, or the stream the request had to go on is gone.
    #[error("the connection to the client is closed")]
    Closed,
    /// The client did not declare the capability this request needs.
    #[error("the client does not support {0}")]
    Unsupported(&'static str),
    /// The client's answer does not have the expected shape.
    #[error("invalid answer from the client: {0}")]
    InvalidResult(String),
}

impl From<SendError> for ClientRequestError {
    fn from(_: SendError) -> Self {
        Self::Closed
    }
}

impl From<ClientRequestError> for McpError {
    fn from(e: ClientRequestError) -> Self {
        match e {
            ClientRequestError::Rpc(e) => e,
            ClientRequestError::Timeout(after) => McpError::new(
                ErrorCode::REQUEST_TIMEOUT,
                format!("Request timed out after {} ms", after.as_millis()),
            ),
            ClientRequestError::Unsupported(what) => {
                let cap = match what {
                    "sampling with tools" => serde_json::json!({ "sampling": { "tools": {} } }),
                    "this elicitation mode" | "elicitation" => {
                        serde_json::json!({ "elicitation": {} })
                    }
                    other => serde_json::json!({ other: {} }),
                };
                McpError::missing_client_capability(cap)
            }
            other => McpError::internal(other.to_string()),
        }
    }
}

impl RequestContext {
    /// The session id (`None` in stateless mode).
    pub fn session_id(&self) -> Option<&str> {
        self.0.session.as_deref().map(|s| &*s.id)
    }

    /// The JSON-RPC id of this request.
    pub fn request_id(&self) -> &RequestId {
        &self.0.request_id
    }

    /// The request's `params._meta`.
    pub fn meta(&self) -> Option<&Meta> {
        self.0.meta.as_ref()
    }

    /// The `progressToken` of `params._meta`, if the client asked for progress.
    pub fn progress_token(&self) -> Option<ProgressToken> {
        mcp_proto::progress::progress_token(self.meta())
    }

    /// The HTTP request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.0.http.headers
    }

    /// The HTTP request headers, shared: every request of one POST (a batch) gets the same
    /// map, so keeping or passing them on costs no copy.
    pub fn shared_headers(&self) -> Arc<HeaderMap> {
        Arc::clone(&self.0.http.headers)
    }

    /// The HTTP request URI.
    pub fn uri(&self) -> &Uri {
        &self.0.http.uri
    }

    /// What the auth hook returned for this request.
    pub fn auth(&self) -> Option<&AuthInfo> {
        self.0.http.auth.as_ref()
    }

    /// The protocol version: the request's own (modern era), the session's negotiated one, or
    /// in legacy stateless mode the `MCP-Protocol-Version` header, else 2025-03-26.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.0.version
    }

    /// The client's `clientInfo`: of this request (modern era) or of the session's
    /// `initialize`; `None` in legacy stateless mode.
    pub fn client_info(&self) -> Option<&Implementation> {
        if let Some(m) = &self.0.modern {
            return m.meta.client_info.as_ref();
        }
        self.0.session.as_deref().map(|s| &s.client.info)
    }

    /// The client's capabilities: of this request (modern era) or of the session's
    /// `initialize`; `None` in legacy stateless mode.
    pub fn client_capabilities(&self) -> Option<&ClientCapabilities> {
        if let Some(m) = &self.0.modern {
            return Some(&m.meta.client_capabilities);
        }
        self.0.session.as_deref().map(|s| &s.client.capabilities)
    }

    /// Fired by `notifications/cancelled`, client disconnect (when the reply cannot be
    /// resumed), session close and forced shutdown. When it fires, the handler's future is
    /// dropped and no answer is sent. For a timeout that should still answer, use
    /// `tokio::time::timeout` and a [`CancellationToken::child_token`] of this one.
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.0.token
    }

    /// Whether the request was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.0.token.is_cancelled()
    }

    /// The server definition (e.g. to fall back to a built-in method handler).
    pub fn server(&self) -> &Arc<McpServer> {
        &self.0.engine.server
    }

    /// Sends any notification to the client on this request's stream.
    pub fn send_notification(&self, method: &str, params: Option<Value>) -> Result<(), SendError> {
        let msg = wire::notification(method, params.as_ref());
        self.0.reply.send_message(&msg)
    }

    /// Sends `notifications/progress` if the client gave a progress token (otherwise does
    /// nothing). `progress` must increase from call to call.
    pub fn send_progress(
        &self,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    ) -> Result<(), SendError> {
        let Some(token) = self.progress_token() else {
            return Ok(());
        };
        let params = ProgressNotificationParams {
            progress_token: token,
            progress,
            total,
            message,
        };
        let params = serde_json::to_value(params).unwrap_or(Value::Null);
        self.send_notification(methods::NOTIFICATION_PROGRESS, Some(params))
    }

    /// Sends `notifications/message` unless the session's `logging/setLevel` filters it out.
    pub fn send_log(
        &self,
        level: LoggingLevel,
        logger: Option<&str>,
        data: Value,
    ) -> Result<(), SendError> {
        let min = match &self.0.modern {
            // Modern: only what the request asked for with its `logLevel`.
            Some(m) => match m.meta.log_level {
                Some(min) => Some(min),
                None => return Ok(()),
            },
            None => self.0.session.as_deref().and_then(Session::log_level),
        };
        if min.is_some_and(|min| level < min) {
            return Ok(());
        }
        let mut params = serde_json::Map::new();
        params.insert("level".into(), Value::from(level.as_str()));
        if let Some(l) = logger {
            params.insert("logger".into(), Value::from(l));
        }
        params.insert("data".into(), data);
        self.send_notification(methods::NOTIFICATION_MESSAGE, Some(Value::Object(params)))
    }

    /// Closes this request's SSE connection without ending its stream (SSE polling,
    /// SEP-1699): the client reconnects with `Last-Event-ID` after the `retry` delay and
    /// receives what was sent meanwhile. Only resumable (stateful) streams can be closed.
    pub fn close_sse_stream(&self) {
        if self.0.reply.is_resumable() {
            self.0.reply.close_connection();
        }
    }

    /// Sends a request to the client on this request's stream and waits for the answer, at
    /// most the transport's
    /// [`client_request_timeout`](crate::TransportConfig::client_request_timeout).
    pub async fn send_request(
        &self,
        method: &str,
        params: Option<Value>,
    ) -> Result<Value, ClientRequestError> {
        let timeout = self.0.engine.config.client_request_timeout;
        self.send_request_with_timeout(method, params, timeout)
            .await
    }

    /// [`send_request`](Self::send_request) with its own time limit (`None`: wait until the
    /// request is cancelled). When the time is up, the client is told with
    /// `notifications/cancelled`.
    ///
    /// In the modern era (2026-07-28) nothing is sent on the stream: the answer comes from the
    /// client's retry of this request (`inputResponses`), or, when it has not been given yet,
    /// this call never returns and the request is answered with an `input_required` result
    /// naming what it asked; the client answers and retries, and the handler runs again from
    /// the start, getting its earlier answers at once. So a handler that asks the client must
    /// do nothing before asking that it cannot do twice.
    pub async fn send_request_with_timeout(
        &self,
        method: &str,
        params: Option<Value>,
        timeout: Option<Duration>,
    ) -> Result<Value, ClientRequestError> {
        self.request_client(None, method, params, timeout).await
    }

    /// Names the client's answers to this handler's requests in the modern era: the requests
    /// made through the returned [`Keyed`] are `inputRequests` under `key` instead of an
    /// automatic key (`r0`, `r1`, ... in the order the handler asks). Keys matter only to
    /// clients that look at them; in the legacy era they are not sent.
    pub fn keyed<'a>(&'a self, key: &'a str) -> Keyed<'a> {
        Keyed { ctx: self, key }
    }

    async fn request_client(
        &self,
        key: Option<&str>,
        method: &str,
        params: Option<Value>,
        timeout: Option<Duration>,
    ) -> Result<Value, ClientRequestError> {
        if let Some(m) = &self.0.modern {
            if let Err(e) = m.check_capability(method) {
                return Err(ClientRequestError::Rpc(e));
            }
            return match m.answer_or_ask(key, method, params) {
                Some(v) => Ok(v),
                None => std::future::pending().await,
            };
        }
        let pending = match &self.0.session {
            Some(s) => PendingOwner::Session(Arc::clone(s)),
            None => PendingOwner::Engine(Arc::clone(&self.0.engine)),
        };
        let (id, rx) = pending.get().register();
        let guard = ForgetOnDrop { owner: pending, id };
        let msg = wire::request(&guard.id, method, params.as_ref());
        self.0.reply.send_message(&msg)?;
        let deadline = async {
            match timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        let (gave_up, reason) = tokio::select! {
            answer = rx => return match answer {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(ClientRequestError::Rpc(e)),
                Err(_) => Err(ClientRequestError::Closed),
            },
            () = self.0.token.cancelled() => (ClientRequestError::Cancelled, "cancelled"),
            () = deadline => (
                ClientRequestError::Timeout(timeout.unwrap_or_default()),
                "timed out",
            ),
        };
        let p = serde_json::json!({"requestId": guard.id, "reason": reason});
        let _ = self.send_notification(methods::NOTIFICATION_CANCELLED, Some(p));
        Err(gave_up)
    }

    async fn typed_request<T: DeserializeOwned>(
        &self,
        key: Option<&str>,
        method: &str,
        params: Option<Value>,
    ) -> Result<T, ClientRequestError> {
        let timeout = self.0.engine.config.client_request_timeout;
        let v = self.request_client(key, method, params, timeout).await?;
        serde_json::from_value(v).map_err(|e| ClientRequestError::InvalidResult(e.to_string()))
    }

    /// `sampling/createMessage`. Fails with `Unsupported` if the client did not declare
    /// `sampling` (or `sampling.tools` when `params.tools` is set).
    pub async fn create_message(
        &self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, ClientRequestError> {
        self.create_message_as(None, params).await
    }

    async fn create_message_as(
        &self,
        key: Option<&str>,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, ClientRequestError> {
        if let Some(caps) = self.client_capabilities() {
            let Some(s) = &caps.sampling else {
                return Err(ClientRequestError::Unsupported("sampling"));
            };
            if params.tools.is_some() && s.tools.is_none() {
                return Err(ClientRequestError::Unsupported("sampling with tools"));
            }
        }
        let p = serde_json::to_value(params)
            .map_err(|e| ClientRequestError::InvalidResult(e.to_string()))?;
        self.typed_request(key, methods::SAMPLING_CREATE_MESSAGE, Some(p))
            .await
    }

    /// `elicitation/create`. Fails with `Unsupported` if the client did not declare
    /// `elicitation` or the requested mode.
    pub async fn elicit(
        &self,
        params: ElicitRequestParams,
    ) -> Result<ElicitResult, ClientRequestError> {
        self.elicit_as(None, params).await
    }

    async fn elicit_as(
        &self,
        key: Option<&str>,
        params: ElicitRequestParams,
    ) -> Result<ElicitResult, ClientRequestError> {
        if let Some(caps) = self.client_capabilities() {
            let Some(e) = &caps.elicitation else {
                return Err(ClientRequestError::Unsupported("elicitation"));
            };
            let url = params.mode.as_deref() == Some("url");
            if (url && !e.supports_url()) || (!url && !e.supports_form()) {
                return Err(ClientRequestError::Unsupported("this elicitation mode"));
            }
        }
        let p = serde_json::to_value(params)
            .map_err(|e| ClientRequestError::InvalidResult(e.to_string()))?;
        self.typed_request(key, methods::ELICITATION_CREATE, Some(p))
            .await
    }

    /// `roots/list`. Fails with `Unsupported` if the client did not declare `roots`.
    pub async fn list_roots(&self) -> Result<ListRootsResult, ClientRequestError> {
        self.list_roots_as(None).await
    }

    async fn list_roots_as(
        &self,
        key: Option<&str>,
    ) -> Result<ListRootsResult, ClientRequestError> {
        if let Some(caps) = self.client_capabilities()
            && caps.roots.is_none()
        {
            return Err(ClientRequestError::Unsupported("roots"));
        }
        let params = self
            .0
            .modern
            .is_some()
            .then(|| Value::Object(Default::default()));
        self.typed_request(key, methods::ROOTS_LIST, params).await
    }
}

/// Requests to the client whose modern-era answers go under a chosen key (see
/// [`RequestContext::keyed`]).
#[derive(Clone, Copy)]
pub struct Keyed<'a> {
    ctx: &'a RequestContext,
    key: &'a str,
}

impl<'a> Keyed<'a> {
    /// [`RequestContext::send_request`] under this key.
    pub async fn send_request(
        self,
        method: &str,
        params: Option<Value>,
    ) -> Result<Value, ClientRequestError> {
        let timeout = self.ctx.0.engine.config.client_request_timeout;
        self.ctx
            .request_client(Some(self.key), method, params, timeout)
            .await
    }

    /// [`RequestContext::elicit`] under this key.
    pub async fn elicit(
        self,
        params: ElicitRequestParams,
    ) -> Result<ElicitResult, ClientRequestError> {
        self.ctx.elicit_as(Some(self.key), params).await
    }

    /// [`RequestContext::create_message`] under this key.
    pub async fn create_message(
        self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, ClientRequestError> {
        self.ctx.create_message_as(Some(self.key), params).await
    }

    /// [`RequestContext::list_roots`] under this key.
    pub async fn list_roots(self) -> Result<ListRootsResult, ClientRequestError> {
        self.ctx.list_roots_as(Some(self.key)).await
    }
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("request_id", &self.0.request_id)
            .field("session_id", &self.session_id())
            .field("protocol_version", &self.0.version)
            .finish_non_exhaustive()
    }
}

enum PendingOwner {
    Session(Arc<Session>),
    Engine(Arc<Engine>),
}

impl PendingOwner {
    fn get(&self) -> &crate::pending::PendingRequests {
        match self {
            Self::Session(s) => &s.pending,
            Self::Engine(e) => &e.stateless_pending,
        }
    }
}

struct ForgetOnDrop {
    owner: PendingOwner,
    id: RequestId,
}

impl Drop for ForgetOnDrop {
    fn drop(&mut self) {
        self.owner.get().forget(&self.id);
    }
}

/// The context of a client notification handler.
#[derive(Clone)]
pub struct NotificationContext {
    pub(crate) session: Option<Arc<Session>>,
    pub(crate) http: Arc<HttpInfo>,
}

impl NotificationContext {
    /// The session id (`None` in stateless mode).
    pub fn session_id(&self) -> Option<&str> {
        self.session.as_deref().map(|s| &*s.id)
    }

    /// The HTTP request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.http.headers
    }

    /// What the auth hook returned.
    pub fn auth(&self) -> Option<&AuthInfo> {
        self.http.auth.as_ref()
    }

    /// The client's `clientInfo` (stateful sessions only).
    pub fn client_info(&self) -> Option<&Implementation> {
        self.session.as_deref().map(|s| &s.client.info)
    }
}

impl std::fmt::Debug for NotificationContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationContext")
            .field("session_id", &self.session_id())
            .finish_non_exhaustive()
    }
}
