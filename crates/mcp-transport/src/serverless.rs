//! A stateless `http::Request` → `http::Response` function for serverless runtimes (the
//! analogue of sunpeak's `createHandler`): every request stands alone, any path is served.

use std::sync::Arc;

use http::{Request, Response};
use http_body::Body;

use crate::auth::BoxError;
use crate::config::TransportConfig;
use crate::engine::Transport;
use crate::http::body::McpBody;
use crate::registry::McpServer;

/// Handles MCP requests without sessions.
///
/// ```
/// # async fn demo() {
/// use mcp_transport::{McpServer, TransportConfig, serverless::ServerlessHandler};
/// let server = McpServer::builder().build().unwrap();
/// let handler = ServerlessHandler::new(server, TransportConfig::new());
/// let req = http::Request::post("/anything")
///     .header("content-type", "application/json")
///     .header("accept", "application/json, text/event-stream")
///     .body(http_body_util::Full::new(bytes::Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)))
///     .unwrap();
/// let resp = handler.handle(req).await;
/// assert_eq!(resp.status(), 200);
/// assert_eq!(resp.into_body().collect_bytes().await.unwrap(), r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo());
/// ```
#[derive(Clone, Debug)]
pub struct ServerlessHandler {
    transport: Transport,
}

impl ServerlessHandler {
    /// A handler for a server; `config` is forced to stateless.
    pub fn new(server: Arc<McpServer>, config: TransportConfig) -> Self {
        Self {
            transport: Transport::new(server, config.stateless(true)),
        }
    }

    /// Handles one request (any path). The body of an SSE reply ends with the last response,
    /// so [`McpBody::collect_bytes`] works for runtimes that need a whole body.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<McpBody>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        self.transport.handle(req).await
    }
}

/// One-shot form: handles a request with a fresh stateless transport.
pub async fn handle<B>(
    server: Arc<McpServer>,
    config: TransportConfig,
    req: Request<B>,
) -> Response<McpBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    ServerlessHandler::new(server, config).handle(req).await
}
