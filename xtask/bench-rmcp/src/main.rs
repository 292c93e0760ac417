//! `bench-rmcp`: the official Rust MCP SDK (rmcp) serving `tools/list` and
//! `tools/call test_simple_text` as the conformance server does, on the same runtime and hyper
//! setup, for `cargo xtask bench transport --rmcp` (product.md 4: with Rust-defined tools, at
//! least rmcp's throughput on the same calls).
//!
//! Usage: `bench-rmcp <port> [--stateless]`. Stateful: rmcp's session mode with its
//! in-memory session manager (replies are SSE). Stateless: no sessions, JSON replies.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tokio::net::TcpListener;

/// The conformance fixture's `test_simple_text` tool, and nothing else.
#[derive(Clone)]
struct Fixture {
    tools: Arc<Vec<Tool>>,
}

impl Fixture {
    fn new() -> Self {
        let schema = serde_json::json!({"type": "object", "properties": {}});
        let schema = match schema {
            serde_json::Value::Object(o) => o,
            _ => serde_json::Map::new(),
        };
        let tool = Tool::new(
            "test_simple_text",
            "Returns a simple text response",
            Arc::new(schema),
        );
        Self {
            tools: Arc::new(vec![tool]),
        }
    }
}

impl ServerHandler for Fixture {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("bench-rmcp", "0.0.0"))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if request.name != "test_simple_text" {
            return Err(ErrorData::invalid_params(
                format!("Unknown tool: {}", request.name),
                None,
            ));
        }
        Ok(CallToolResult::success(vec![ContentBlock::text(
            "This is a simple text response for testing.",
        )])
        .into())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(Ok(port)) = args.next().map(|p| p.parse::<u16>()) else {
        eprintln!("usage: bench-rmcp <port> [--stateless]");
        return ExitCode::FAILURE;
    };
    let stateless = args.any(|a| a == "--stateless");
    let mut config = StreamableHttpServerConfig::default();
    config.legacy_session_mode = !stateless;
    config.json_response = stateless;
    let service = StreamableHttpService::new(
        || Ok(Fixture::new()),
        LocalSessionManager::default().into(),
        config,
    );
    let service = TowerToHyperService::new(service);
    let listener = match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Ok(addr) = listener.local_addr() {
        println!("listening on {addr}");
    }
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    let builder = Arc::new(builder);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let builder = Arc::clone(&builder);
        let service = service.clone();
        tokio::spawn(async move {
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
