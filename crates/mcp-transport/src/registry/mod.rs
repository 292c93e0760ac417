//! The server definition: tools, resources, resource templates, prompts, completions and
//! method handlers, built once ([`McpServerBuilder`]) and shared by every session.

mod builder;
mod builtin;
pub(crate) mod pages;
pub(crate) mod schema;
pub(crate) mod uri_template;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use mcp_proto::{
    Implementation, Prompt, ProtocolVersion, Resource, ResourceTemplate, ServerCapabilities, Tool,
};

pub use builder::{BuildError, McpServerBuilder};

use crate::context::RequestContext;
use crate::handler::{
    BoxFuture, CompletionHandler, HandlerResult, MethodHandler, NotificationHandler, Params,
    PromptHandler, ResourceHandler, TemplateHandler, ToolHandler,
};
use crate::payload::StaticJson;
use pages::Pages;
use uri_template::UriTemplate;

pub(crate) struct ToolEntry {
    pub(crate) tool: Tool,
    pub(crate) handler: Arc<dyn ToolHandler>,
}

pub(crate) enum ResourceRead {
    Handler(Arc<dyn ResourceHandler>),
    Static(StaticJson),
}

pub(crate) struct ResourceEntry {
    pub(crate) resource: Resource,
    pub(crate) read: ResourceRead,
}

pub(crate) struct TemplateEntry {
    pub(crate) template: ResourceTemplate,
    pub(crate) matcher: UriTemplate,
    pub(crate) handler: Arc<dyn TemplateHandler>,
}

pub(crate) struct PromptEntry {
    pub(crate) prompt: Prompt,
    pub(crate) handler: Arc<dyn PromptHandler>,
}

/// A server definition. Build it with [`McpServer::builder`]; share the `Arc` with any number
/// of transports and sessions.
pub struct McpServer {
    pub(crate) info: Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) capabilities: ServerCapabilities,
    /// `initialize` results, serialized once per protocol version (indexed like
    /// `ProtocolVersion::ALL`).
    pub(crate) init_results: Vec<(ProtocolVersion, StaticJson)>,
    pub(crate) tools: Vec<ToolEntry>,
    pub(crate) tool_index: HashMap<String, usize>,
    pub(crate) tool_pages: Pages,
    pub(crate) resources: Vec<ResourceEntry>,
    pub(crate) resource_index: HashMap<String, usize>,
    pub(crate) resource_pages: Pages,
    pub(crate) templates: Vec<TemplateEntry>,
    pub(crate) template_pages: Pages,
    pub(crate) prompts: Vec<PromptEntry>,
    pub(crate) prompt_index: HashMap<String, usize>,
    pub(crate) prompt_pages: Pages,
    pub(crate) completion: Option<Arc<dyn CompletionHandler>>,
    pub(crate) methods: HashMap<String, Arc<dyn MethodHandler>>,
    pub(crate) notifications: HashMap<String, Arc<dyn NotificationHandler>>,
    pub(crate) page_size: usize,
    /// Tool names metrics may use as labels.
    pub(crate) tool_labels: crate::metrics::ToolLabels,
}

impl McpServer {
    /// A new builder.
    pub fn builder() -> McpServerBuilder {
        McpServerBuilder::default()
    }

    /// `serverInfo`.
    pub fn info(&self) -> &Implementation {
        &self.info
    }

    /// `instructions`, if set.
    pub fn instructions(&self) -> Option<&str> {
        self.instructions.as_deref()
    }

    /// The declared capabilities.
    pub fn capabilities(&self) -> &ServerCapabilities {
        &self.capabilities
    }

    /// The registered tools, in registration order.
    pub fn tools(&self) -> impl Iterator<Item = &Tool> {
        self.tools.iter().map(|t| &t.tool)
    }

    /// The registered resources, in registration order.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources.iter().map(|r| &r.resource)
    }

    /// The serialized `initialize` result for a negotiated version.
    pub fn initialize_result(&self, version: ProtocolVersion) -> Bytes {
        self.init_results
            .iter()
            .find(|(v, _)| *v == version)
            .or_else(|| self.init_results.first())
            .map(|(_, j)| j.bytes().clone())
            .unwrap_or_default()
    }

    /// Handles a request as the server would: an added or overriding handler if registered
    /// for `method`, else the built-in one.
    pub fn dispatch(
        self: &Arc<Self>,
        ctx: RequestContext,
        method: &str,
        params: Params,
    ) -> BoxFuture<HandlerResult> {
        match self.methods.get(method) {
            Some(h) => h.call(ctx, params),
            None => self.call_builtin(ctx, method, params),
        }
    }

    /// Whether the server answers `method` (an added handler, or a built-in one whose
    /// capability is declared). The modern era answers anything else with HTTP 404.
    pub fn handles(&self, method: &str) -> bool {
        self.methods.contains_key(method) || builtin::supports(self, method)
    }

    /// Handles a request with the built-in handler only (useful from an overriding handler
    /// that wants the default behaviour in some cases). Unknown methods get `-32601`.
    pub fn call_builtin(
        self: &Arc<Self>,
        ctx: RequestContext,
        method: &str,
        params: Params,
    ) -> BoxFuture<HandlerResult> {
        builtin::call(Arc::clone(self), ctx, method, params)
    }
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("info", &self.info)
            .field("tools", &self.tools.len())
            .field("resources", &self.resources.len())
            .field("templates", &self.templates.len())
            .field("prompts", &self.prompts.len())
            .field("methods", &self.methods.keys().collect::<Vec<_>>())
            .finish()
    }
}
