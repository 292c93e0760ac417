//! The MCP server engine and its Streamable HTTP transport (MCP 2024-11-05 through
//! 2025-11-25) on hyper 1 and tokio.
//!
//! A server is **defined once** with [`McpServer::builder`] (tools with JSON-Schema or Rust-type
//! input, resources, resource templates, prompts, completions, and your own handlers for any
//! method) and shared by every session. A [`Transport`] adds the HTTP side: sessions,
//! JSON or SSE replies, the GET stream, SSE event ids and `Last-Event-ID` resumption, CORS,
//! Host/Origin checks, body limits, gzip, auth. Three ways to serve, all from the same core:
//!
//! - [`Transport::service`]: a `tower::Service` for the endpoint path that passes other paths
//!   to a fallback, for hyper or axum;
//! - [`serverless::ServerlessHandler`]: a stateless `http::Request` → `http::Response`
//!   function;
//! - [`HttpServer`]: a ready server with `/health` and graceful shutdown.
//!
//! Handlers get a [`RequestContext`]: session id, request id, `_meta`, headers, auth info,
//! protocol version, client info and capabilities, a cancellation token, and ways to talk back
//! while they run (progress, logs, any notification, requests such as sampling and
//! elicitation). Sending anything before the result turns a JSON reply into an SSE stream.
//!
//! # Example
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use mcp_proto::{CallToolResult, Implementation, McpError, Tool, ReadResourceResult, ResourceContents, Resource};
//! use mcp_transport::{HttpServer, McpServer, RequestContext, Transport, TransportConfig};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, schemars::JsonSchema)]
//! struct Greet {
//!     /// Who to greet.
//!     name: String,
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = McpServer::builder()
//!         .server_info(Implementation::new("demo", "1.0.0"))
//!         .logging(true)
//!         .typed_tool(Tool::new("greet", "Greets someone", Default::default()),
//!             |ctx: RequestContext, args: Greet| async move {
//!                 ctx.send_progress(50.0, Some(100.0), None).ok();
//!                 Ok::<_, McpError>(CallToolResult::text(format!("Hello, {}!", args.name)))
//!             })
//!         .static_resource(
//!             Resource::new("ui://demo/page", "page"),
//!             vec![ResourceContents::text("ui://demo/page", Some("text/html"), "<p>hi</p>")],
//!         )
//!         .build()?;
//!     let transport = Transport::new(server, TransportConfig::new());
//!     let bound = HttpServer::new(transport).bind(SocketAddr::from(([127, 0, 0, 1], 3000))).await?;
//!     println!("listening on http://{}/mcp", bound.local_addr());
//!     bound.serve().await; // until SIGTERM/SIGINT, then drains
//!     Ok(())
//! }
//! ```
//!
//! Replacing a built-in method (here: answering unknown tools with an `isError` result, and
//! serving a pre-serialized `tools/list`):
//!
//! ```
//! use mcp_transport::{McpServer, Params, Payload, RequestContext, StaticJson};
//! use mcp_proto::{CallToolRequestParams, CallToolResult};
//!
//! let list = StaticJson::new(br#"{"tools":[]}"#.to_vec());
//! let server = McpServer::builder()
//!     .method("tools/list", move |_ctx: RequestContext, _p: Params| {
//!         let list = list.clone();
//!         async move { Ok(Payload::from(list)) }
//!     })
//!     .method("tools/call", |_ctx: RequestContext, p: Params| async move {
//!         let p: CallToolRequestParams = p.parse()?;
//!         Payload::json(&CallToolResult::error(format!("Tool {} not found", p.name)))
//!     })
//!     .build()
//!     .unwrap();
//! assert!(server.capabilities().tools.is_some());
//! ```
//!
//! Logging goes through `tracing` with target [`logging::TARGET`] (`mcp`) and sunpeak's
//! message texts (`Session started: 1a2b3c4d...`, `← tools/call`, …); the library never prints.

pub mod auth;
pub mod config;
pub mod context;
mod endpoint;
mod engine;
mod gzip;
pub mod handler;
pub mod http;
pub mod logging;
pub mod metrics;
mod modern;
mod payload;
mod pending;
mod registry;
mod reply;
pub mod server;
pub mod serverless;
pub mod service;
mod session;
mod sse;
mod wire;

pub use auth::{AuthDecision, AuthDenial, AuthHook, AuthInfo, AuthRequest, BoxError};
pub use config::{ResponseMode, TransportConfig};
pub use context::{ClientRequestError, Keyed, NotificationContext, RequestContext};
pub use engine::Transport;
pub use handler::{
    BoxFuture, CompletionHandler, HandlerResult, MethodHandler, NotificationHandler, Params,
    PromptArgs, PromptHandler, ResourceHandler, TemplateHandler, TemplateVars, ToolHandler,
};
pub use http::body::McpBody;
pub use http::trim::tune_allocator;
pub use mcp_proto::{CacheHints, CacheScope};
pub use modern::state::StateKey;
pub use payload::{Payload, StaticJson};
pub use registry::schema::schema_for;
pub use registry::{BuildError, McpServer, McpServerBuilder};
pub use reply::SendError;
pub use server::{BindError, BoundServer, HttpServer, ShutdownOutcome, shutdown_signal};
pub use service::{McpService, NotFound};
#[cfg(feature = "redis")]
pub use session::redis::{InvalidRedisUrl, RedisConfig};

/// Re-exported so handlers can name the token type.
pub use tokio_util::sync::CancellationToken;
