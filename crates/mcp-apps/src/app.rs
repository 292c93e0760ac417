//! One served app: the catalog, the server identity and the Node.js tool host together, with
//! the MCP operations `sunpeak start` answers itself (everything else is the engine's).
//!
//! Built once at start and shared by every session and request; nothing here is per session.

use mcp_transport::{Payload, StaticJson};
use serde_json::{Value, json};

use crate::catalog::{AppTool, Catalog};
use crate::client::HostClient;
use crate::dist::{DistResource, PackageInfo};
use crate::identity::ServerIdentity;
use crate::node::{
    AuthAnswer, AuthError, AuthRequest, LoadedApp, NodeHost, ToolCallContext, ToolCallOutcome,
};

/// A JSON-RPC error to answer a request with.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// The code.
    pub code: i64,
    /// The message.
    pub message: String,
    /// Optional data.
    pub data: Option<Value>,
}

/// JSON-RPC "Resource not found" (MCP, up to 2025-11-25).
pub const RESOURCE_NOT_FOUND: i64 = -32002;
/// JSON-RPC "Invalid params".
pub const INVALID_PARAMS: i64 = -32602;

/// The served app.
pub struct McpApp {
    catalog: Catalog,
    identity: ServerIdentity,
    host: NodeHost,
    has_auth: bool,
}

impl std::fmt::Debug for McpApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpApp")
            .field("tools", &self.catalog.tool_count())
            .field("resources", &self.catalog.resource_count())
            .field("has_auth", &self.has_auth)
            .finish_non_exhaustive()
    }
}

impl McpApp {
    /// Assembles the app from the resources of `dist/`, what the tool host loaded, and
    /// `package.json`. `server_url` is the public URL of `/mcp` (default sandbox domains).
    /// Tools whose `resource` does not exist are skipped and logged, as sunpeak does.
    pub fn new(
        resources: &[DistResource],
        loaded: &LoadedApp,
        host: NodeHost,
        package: &PackageInfo,
        server_url: Option<&str>,
    ) -> Self {
        let tools: Vec<AppTool> = loaded
            .tools
            .iter()
            .map(|tool| AppTool {
                name: tool.name.clone(),
                config: tool.config.clone(),
                input_schema: Some(tool.input_schema.clone()),
                output_schema: tool.output_schema.clone(),
            })
            .collect();
        let catalog = Catalog::new(&tools, resources, server_url);
        for warning in catalog.warnings() {
            tracing::warn!(target: "mcp", "{warning}");
        }
        let server = loaded.server.as_ref();
        let identity = ServerIdentity::new(server.and_then(|s| s.config.as_ref()), package);
        McpApp {
            has_auth: server.is_some_and(|s| s.has_auth),
            catalog,
            identity,
            host,
        }
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// `serverInfo` and `instructions`.
    pub fn identity(&self) -> &ServerIdentity {
        &self.identity
    }

    /// The `capabilities` of the `initialize` result, as sunpeak's: `tools` and `resources`,
    /// each `{"listChanged":true}` when there is at least one, else `{}`.
    pub fn capabilities(&self) -> Value {
        let cap = |n: usize| {
            if n > 0 {
                json!({"listChanged": true})
            } else {
                json!({})
            }
        };
        json!({
            "resources": cap(self.catalog.resource_count()),
            "tools": cap(self.catalog.tool_count()),
        })
    }

    /// Whether `dist/server.js` exports `auth`.
    pub fn has_auth(&self) -> bool {
        self.has_auth
    }

    /// Runs `auth(req, context)`: `Ok(Some(info))` authenticated, `Ok(None)` rejected (401),
    /// `Err` failed (500).
    pub async fn authenticate(&self, req: AuthRequest) -> Result<Option<Value>, AuthError> {
        self.host.authenticate(req).await
    }

    /// Runs `auth(req, context)`: the auth info, or the rejection with the fields of the
    /// `AuthorizationFailure` it returned; `Err` failed (500).
    pub async fn authorize(&self, req: AuthRequest) -> Result<AuthAnswer, AuthError> {
        self.host.authorize(req).await
    }

    /// `tools/call`: an unknown (or skipped) tool is an `isError` result with sunpeak's text;
    /// malformed params are a JSON-RPC error.
    pub async fn call_tool(&self, params: &Value, ctx: ToolCallContext) -> ToolCallOutcome {
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return ToolCallOutcome::Error {
                code: INVALID_PARAMS,
                message:
                    "MCP error -32602: Invalid tools/call request: params.name must be a string"
                        .to_string(),
                data: None,
            };
        };
        if !self.catalog.has_tool(name) {
            return ToolCallOutcome::tool_error(format!("MCP error -32602: Tool {name} not found"));
        }
        let args = params.get("arguments").cloned().unwrap_or(Value::Null);
        self.host.call_tool(name, args, ctx).await
    }

    /// `resources/list` for a host.
    pub fn list_resources(&self, client: Option<HostClient>) -> StaticJson {
        self.catalog.resources_list(client)
    }

    /// `tools/list`.
    pub fn list_tools(&self) -> StaticJson {
        self.catalog.tools_list()
    }

    /// `resources/read` for a host: the serialized result, or `-32002` for an unknown URI.
    pub fn read_resource(
        &self,
        params: &Value,
        client: Option<HostClient>,
    ) -> Result<Payload, RpcError> {
        let Some(uri) = params.get("uri").and_then(Value::as_str) else {
            return Err(RpcError {
                code: INVALID_PARAMS,
                message: "Invalid resources/read request: params.uri must be a string".to_string(),
                data: None,
            });
        };
        self.catalog
            .read_resource(uri, client)
            .ok_or_else(|| RpcError {
                code: RESOURCE_NOT_FOUND,
                message: format!("Resource not found: {uri}"),
                data: Some(json!({ "uri": uri })),
            })
    }

    /// False while no Node.js worker is up (`/health` answers 503).
    pub fn is_ready(&self) -> bool {
        self.host.is_ready()
    }

    /// Node.js workers running now.
    pub fn worker_count(&self) -> usize {
        self.host.worker_count()
    }

    /// Tool calls and `auth()` runs in flight on the Node.js workers now.
    pub fn calls_in_flight(&self) -> usize {
        self.host.calls_in_flight()
    }

    /// Stops the Node.js workers. Drain requests first.
    pub async fn shutdown(&self) {
        self.host.shutdown().await;
    }
}
