//! [`McpServerBuilder`]: registers everything once and freezes it into an `Arc<McpServer>`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use mcp_proto::{
    CallToolResult, Implementation, InitializeResult, JsonObject, ListChangedCapability, McpError,
    Prompt, ProtocolVersion, ReadResourceResult, Resource, ResourceContents, ResourceTemplate,
    ResourcesCapability, ServerCapabilities, Tool, methods,
};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::pages::Pages;
use super::uri_template::UriTemplate;
use super::{McpServer, PromptEntry, ResourceEntry, ResourceRead, TemplateEntry, ToolEntry};
use crate::context::RequestContext;
use crate::handler::{
    CompletionHandler, MethodHandler, NotificationHandler, PromptHandler, ResourceHandler,
    TemplateHandler, ToolHandler,
};
use crate::metrics::ToolLabels;
use crate::payload::StaticJson;

/// Why a server definition is invalid.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BuildError {
    /// Two tools with one name.
    #[error("tool \"{0}\" is registered twice")]
    DuplicateTool(String),
    /// A tool's input schema is not `"type": "object"`.
    #[error("tool \"{0}\": inputSchema must have \"type\": \"object\"")]
    InvalidInputSchema(String),
    /// Two resources with one URI.
    #[error("resource \"{0}\" is registered twice")]
    DuplicateResource(String),
    /// A resource template that does not parse.
    #[error("resource template \"{0}\" is not a valid URI template")]
    InvalidTemplate(String),
    /// Two prompts with one name.
    #[error("prompt \"{0}\" is registered twice")]
    DuplicatePrompt(String),
}

/// Builds a [`McpServer`].
///
/// ```
/// use mcp_transport::{McpServer, RequestContext};
/// use mcp_proto::{CallToolResult, Implementation, Tool};
///
/// let server = McpServer::builder()
///     .server_info(Implementation::new("demo", "1.0.0"))
///     .tool(Tool::new("hello", "Says hello", Tool::empty_input_schema()), |_ctx: RequestContext, _args| async {
///         Ok(CallToolResult::text("hello"))
///     })
///     .build()
///     .unwrap();
/// assert_eq!(server.tools().count(), 1);
/// ```
pub struct McpServerBuilder {
    info: Implementation,
    instructions: Option<String>,
    capabilities: Option<ServerCapabilities>,
    logging: bool,
    subscriptions: bool,
    page_size: usize,
    tools: Vec<ToolEntry>,
    resources: Vec<ResourceEntry>,
    templates: Vec<(ResourceTemplate, Arc<dyn TemplateHandler>)>,
    prompts: Vec<PromptEntry>,
    completion: Option<Arc<dyn CompletionHandler>>,
    methods: HashMap<String, Arc<dyn MethodHandler>>,
    notifications: HashMap<String, Arc<dyn NotificationHandler>>,
    metric_tool_names: Vec<String>,
}

impl Default for McpServerBuilder {
    fn default() -> Self {
        Self {
            info: Implementation::new("mcp-server", env!("CARGO_PKG_VERSION")),
            instructions: None,
            capabilities: None,
            logging: false,
            subscriptions: false,
            page_size: 0,
            tools: Vec::new(),
            resources: Vec::new(),
            templates: Vec::new(),
            prompts: Vec::new(),
            completion: None,
            methods: HashMap::new(),
            notifications: HashMap::new(),
            metric_tool_names: Vec::new(),
        }
    }
}

impl McpServerBuilder {
    /// `serverInfo` (name, version, title, description, websiteUrl, icons).
    pub fn server_info(mut self, info: Implementation) -> Self {
        self.info = info;
        self
    }

    /// `instructions` in the `initialize` result.
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.instructions = Some(text.into());
        self
    }

    /// Declares exactly these capabilities instead of deriving them from what is registered.
    pub fn capabilities(mut self, caps: ServerCapabilities) -> Self {
        self.capabilities = Some(caps);
        self
    }

    /// Declares `logging` and answers `logging/setLevel` (per session).
    pub fn logging(mut self, on: bool) -> Self {
        self.logging = on;
        self
    }

    /// Declares `resources.subscribe` and answers `resources/subscribe` / `unsubscribe`. A
    /// session holds at most 1000 subscriptions of URIs up to 4 KiB (`-32602` beyond).
    pub fn resource_subscriptions(mut self, on: bool) -> Self {
        self.subscriptions = on;
        self
    }

    /// Items per page of the built-in list methods (0, the default: everything in one page).
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n;
        self
    }

    /// A tool whose input schema is given as JSON (kept verbatim).
    pub fn tool(mut self, tool: Tool, handler: impl ToolHandler) -> Self {
        self.tools.push(ToolEntry {
            tool,
            handler: Arc::new(handler),
        });
        self
    }

    /// A tool whose arguments are a Rust type: its JSON Schema becomes `inputSchema`, and
    /// arguments that do not deserialize give an `isError` result naming the problem.
    pub fn typed_tool<A, F, Fut>(self, mut tool: Tool, handler: F) -> Self
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        F: Fn(RequestContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, McpError>> + Send + 'static,
    {
        tool.input_schema = super::schema::schema_for::<A>();
        let name = tool.name.clone();
        let handler = Arc::new(handler);
        self.tool(tool, move |ctx: RequestContext, args: JsonObject| {
            let handler = Arc::clone(&handler);
            let name = name.clone();
            async move {
                match serde_json::from_value::<A>(Value::Object(args)) {
                    Ok(a) => handler(ctx, a).await,
                    Err(e) => Ok(CallToolResult::error(format!(
                        "Input validation error: Invalid arguments for tool {name}: {e}"
                    ))),
                }
            }
        })
    }

    /// A resource read by a handler.
    pub fn resource(mut self, resource: Resource, handler: impl ResourceHandler) -> Self {
        self.resources.push(ResourceEntry {
            resource,
            read: ResourceRead::Handler(Arc::new(handler)),
        });
        self
    }

    /// A resource with fixed contents, serialized once (and gzipped once when asked for).
    pub fn static_resource(mut self, resource: Resource, contents: Vec<ResourceContents>) -> Self {
        let result = ReadResourceResult {
            contents,
            meta: None,
        };
        let json = StaticJson::from_serialize(&result)
            .unwrap_or_else(|_| StaticJson::new(b"{\"contents\":[]}".to_vec()));
        self.resources.push(ResourceEntry {
            resource,
            read: ResourceRead::Static(json),
        });
        self
    }

    /// A resource template; reads of matching URIs go to the handler with the variables.
    pub fn resource_template(
        mut self,
        template: ResourceTemplate,
        handler: impl TemplateHandler,
    ) -> Self {
        self.templates.push((template, Arc::new(handler)));
        self
    }

    /// A prompt.
    pub fn prompt(mut self, prompt: Prompt, handler: impl PromptHandler) -> Self {
        self.prompts.push(PromptEntry {
            prompt,
            handler: Arc::new(handler),
        });
        self
    }

    /// The `completion/complete` handler (declares `completions`).
    pub fn completion(mut self, handler: impl CompletionHandler) -> Self {
        self.completion = Some(Arc::new(handler));
        self
    }

    /// Handles a request method with your own handler: replaces a built-in one (e.g.
    /// `tools/list`, `tools/call`, `resources/read`) or adds a new method. `initialize` is
    /// answered by the transport and cannot be replaced; shape it with [`server_info`],
    /// [`instructions`] and [`capabilities`].
    ///
    /// [`server_info`]: Self::server_info
    /// [`instructions`]: Self::instructions
    /// [`capabilities`]: Self::capabilities
    pub fn method(mut self, name: impl Into<String>, handler: impl MethodHandler) -> Self {
        self.methods.insert(name.into(), Arc::new(handler));
        self
    }

    /// Names of the tools that an overriding `tools/call` handler (see [`method`]) answers, so
    /// that metrics can label calls of them (`gen_ai_tool_name`). Tools added with [`tool`] or
    /// [`typed_tool`] are known already; calls of any other name get no tool label.
    ///
    /// [`method`]: Self::method
    /// [`tool`]: Self::tool
    /// [`typed_tool`]: Self::typed_tool
    pub fn metric_tool_names(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.metric_tool_names
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// Handles a client notification method (e.g. `notifications/roots/list_changed`).
    pub fn notification(
        mut self,
        name: impl Into<String>,
        handler: impl NotificationHandler,
    ) -> Self {
        self.notifications.insert(name.into(), Arc::new(handler));
        self
    }

    fn derive_capabilities(&self) -> ServerCapabilities {
        let has = |m: &str| self.methods.contains_key(m);
        let mut caps = ServerCapabilities::default();
        if self.logging || has(methods::LOGGING_SET_LEVEL) {
            caps.logging = Some(JsonObject::new());
        }
        if self.completion.is_some() || has(methods::COMPLETION_COMPLETE) {
            caps.completions = Some(JsonObject::new());
        }
        if !self.prompts.is_empty() || has(methods::PROMPTS_LIST) {
            caps.prompts = Some(ListChangedCapability::list_changed());
        }
        if !self.resources.is_empty()
            || !self.templates.is_empty()
            || has(methods::RESOURCES_LIST)
            || has(methods::RESOURCES_READ)
        {
            caps.resources = Some(ResourcesCapability {
                subscribe: self.subscriptions.then_some(true),
                list_changed: Some(true),
                ..Default::default()
            });
        }
        if !self.tools.is_empty() || has(methods::TOOLS_LIST) || has(methods::TOOLS_CALL) {
            caps.tools = Some(ListChangedCapability::list_changed());
        }
        caps
    }

    /// Checks and freezes the definition.
    pub fn build(self) -> Result<Arc<McpServer>, BuildError> {
        let capabilities = self
            .capabilities
            .clone()
            .unwrap_or_else(|| self.derive_capabilities());
        let mut tool_index = HashMap::new();
        for (i, t) in self.tools.iter().enumerate() {
            if t.tool.input_schema.get("type").and_then(Value::as_str) != Some("object") {
                return Err(BuildError::InvalidInputSchema(t.tool.name.clone()));
            }
            if tool_index.insert(t.tool.name.clone(), i).is_some() {
                return Err(BuildError::DuplicateTool(t.tool.name.clone()));
            }
        }
        let mut resource_index = HashMap::new();
        for (i, r) in self.resources.iter().enumerate() {
            if resource_index.insert(r.resource.uri.clone(), i).is_some() {
                return Err(BuildError::DuplicateResource(r.resource.uri.clone()));
            }
        }
        let mut templates = Vec::with_capacity(self.templates.len());
        for (template, handler) in self.templates {
            let matcher = UriTemplate::parse(&template.uri_template)
                .ok_or_else(|| BuildError::InvalidTemplate(template.uri_template.clone()))?;
            templates.push(TemplateEntry {
                template,
                matcher,
                handler,
            });
        }
        let mut prompt_index = HashMap::new();
        for (i, p) in self.prompts.iter().enumerate() {
            if prompt_index.insert(p.prompt.name.clone(), i).is_some() {
                return Err(BuildError::DuplicatePrompt(p.prompt.name.clone()));
            }
        }
        let init_results = ProtocolVersion::LEGACY
            .iter()
            .map(|&v| {
                let result = InitializeResult {
                    protocol_version: v.as_str().to_owned(),
                    capabilities: capabilities.clone(),
                    server_info: self.info.clone(),
                    instructions: self.instructions.clone(),
                    meta: None,
                };
                let json = StaticJson::from_serialize(&result)
                    .unwrap_or_else(|_| StaticJson::new(b"{}".to_vec()));
                (v, json)
            })
            .collect();
        let ps = self.page_size;
        let tool_list: Vec<&Tool> = self.tools.iter().map(|t| &t.tool).collect();
        let resource_list: Vec<&Resource> = self.resources.iter().map(|r| &r.resource).collect();
        let template_list: Vec<&ResourceTemplate> = templates.iter().map(|t| &t.template).collect();
        let prompt_list: Vec<&Prompt> = self.prompts.iter().map(|p| &p.prompt).collect();
        let tool_pages = Pages::build("tools", &tool_list, ps);
        let resource_pages = Pages::build("resources", &resource_list, ps);
        let template_pages = Pages::build("resourceTemplates", &template_list, ps);
        let prompt_pages = Pages::build("prompts", &prompt_list, ps);
        let tool_labels = ToolLabels::new(
            self.tools
                .iter()
                .map(|t| t.tool.name.as_str())
                .chain(self.metric_tool_names.iter().map(String::as_str)),
        );
        Ok(Arc::new(McpServer {
            tool_labels,
            info: self.info,
            instructions: self.instructions,
            capabilities,
            init_results,
            tools: self.tools,
            tool_index,
            tool_pages,
            resources: self.resources,
            resource_index,
            resource_pages,
            templates,
            template_pages,
            prompts: self.prompts,
            prompt_index,
            prompt_pages,
            completion: self.completion,
            methods: self.methods,
            notifications: self.notifications,
            page_size: ps,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop_tool(name: &str) -> Tool {
        Tool::new(name, "d", Tool::empty_input_schema())
    }

    async fn ok(_: RequestContext, _: JsonObject) -> Result<CallToolResult, McpError> {
        Ok(CallToolResult::text("x"))
    }

    #[test]
    fn derives_capabilities() {
        let s = McpServer::builder()
            .tool(noop_tool("a"), ok)
            .logging(true)
            .build()
            .unwrap();
        let caps = serde_json::to_value(s.capabilities()).unwrap();
        assert_eq!(
            caps,
            serde_json::json!({"logging": {}, "tools": {"listChanged": true}})
        );
        let s = McpServer::builder().build().unwrap();
        assert_eq!(
            serde_json::to_value(s.capabilities()).unwrap(),
            serde_json::json!({})
        );
    }

    #[test]
    fn rejects_bad_definitions() {
        let e = McpServer::builder()
            .tool(noop_tool("a"), ok)
            .tool(noop_tool("a"), ok)
            .build()
            .unwrap_err();
        assert_eq!(e, BuildError::DuplicateTool("a".into()));
        let e = McpServer::builder()
            .tool(Tool::new("b", "d", JsonObject::new()), ok)
            .build()
            .unwrap_err();
        assert_eq!(e, BuildError::InvalidInputSchema("b".into()));
    }

    #[test]
    fn initialize_result_per_version() {
        let s = McpServer::builder()
            .server_info(Implementation::new("n", "1"))
            .instructions("use it")
            .build()
            .unwrap();
        let v: Value =
            serde_json::from_slice(&s.initialize_result(ProtocolVersion::V2025_06_18)).unwrap();
        assert_eq!(v["protocolVersion"], "2025-06-18");
        assert_eq!(v["serverInfo"]["name"], "n");
        assert_eq!(v["instructions"], "use it");
    }
}
