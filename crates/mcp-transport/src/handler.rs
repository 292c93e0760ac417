//! Handler types: what the server definition stores for methods, tools, resources, prompts and
//! completions. Every handler is an async function taking a [`RequestContext`].

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use mcp_proto::{
    CallToolResult, CompleteRequestParams, CompleteResult, GetPromptResult, JsonObject, McpError,
    ReadResourceRequestParams, ReadResourceResult,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::{NotificationContext, RequestContext};
use crate::payload::Payload;

/// A boxed, `Send` future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What a method handler returns: a result payload or a JSON-RPC error.
pub type HandlerResult = Result<Payload, McpError>;

/// The `params` of a request or notification, as received (absent params are `None`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params(pub Option<Value>);

impl Params {
    /// The raw params.
    pub fn get(&self) -> Option<&Value> {
        self.0.as_ref()
    }

    /// The raw params, by value.
    pub fn into_inner(self) -> Option<Value> {
        self.0
    }

    /// Deserializes the params (absent params read as `{}`); a failure is `-32602`.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, McpError> {
        let v = self.0.unwrap_or_else(|| Value::Object(JsonObject::new()));
        serde_json::from_value(v)
            .map_err(|e| McpError::invalid_params(format!("Invalid params: {e}")))
    }

    /// A member of the params object.
    pub fn field(&self, key: &str) -> Option<&Value> {
        self.0.as_ref()?.get(key)
    }
}

/// Handles one JSON-RPC method (built in or added).
pub trait MethodHandler: Send + Sync + 'static {
    /// Handles a request.
    fn call(&self, ctx: RequestContext, params: Params) -> BoxFuture<HandlerResult>;
}

impl<F, Fut> MethodHandler for F
where
    F: Fn(RequestContext, Params) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    fn call(&self, ctx: RequestContext, params: Params) -> BoxFuture<HandlerResult> {
        Box::pin(self(ctx, params))
    }
}

/// Handles one client notification method.
pub trait NotificationHandler: Send + Sync + 'static {
    /// Handles a notification (no answer is sent).
    fn call(&self, ctx: NotificationContext, params: Params) -> BoxFuture<()>;
}

impl<F, Fut> NotificationHandler for F
where
    F: Fn(NotificationContext, Params) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, ctx: NotificationContext, params: Params) -> BoxFuture<()> {
        Box::pin(self(ctx, params))
    }
}

/// Runs a tool with its (JSON object) arguments.
pub trait ToolHandler: Send + Sync + 'static {
    /// Runs the tool.
    fn call(
        &self,
        ctx: RequestContext,
        arguments: JsonObject,
    ) -> BoxFuture<Result<CallToolResult, McpError>>;
}

impl<F, Fut> ToolHandler for F
where
    F: Fn(RequestContext, JsonObject) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CallToolResult, McpError>> + Send + 'static,
{
    fn call(
        &self,
        ctx: RequestContext,
        arguments: JsonObject,
    ) -> BoxFuture<Result<CallToolResult, McpError>> {
        Box::pin(self(ctx, arguments))
    }
}

/// Reads one registered resource.
pub trait ResourceHandler: Send + Sync + 'static {
    /// Reads the resource.
    fn call(
        &self,
        ctx: RequestContext,
        params: ReadResourceRequestParams,
    ) -> BoxFuture<Result<ReadResourceResult, McpError>>;
}

impl<F, Fut> ResourceHandler for F
where
    F: Fn(RequestContext, ReadResourceRequestParams) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ReadResourceResult, McpError>> + Send + 'static,
{
    fn call(
        &self,
        ctx: RequestContext,
        params: ReadResourceRequestParams,
    ) -> BoxFuture<Result<ReadResourceResult, McpError>> {
        Box::pin(self(ctx, params))
    }
}

/// The variables a URI matched a resource template with (`{id}` → `"123"`).
pub type TemplateVars = BTreeMap<String, String>;

/// Reads a resource whose URI matched a resource template.
pub trait TemplateHandler: Send + Sync + 'static {
    /// Reads the resource at `uri`.
    fn call(
        &self,
        ctx: RequestContext,
        uri: String,
        vars: TemplateVars,
    ) -> BoxFuture<Result<ReadResourceResult, McpError>>;
}

impl<F, Fut> TemplateHandler for F
where
    F: Fn(RequestContext, String, TemplateVars) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ReadResourceResult, McpError>> + Send + 'static,
{
    fn call(
        &self,
        ctx: RequestContext,
        uri: String,
        vars: TemplateVars,
    ) -> BoxFuture<Result<ReadResourceResult, McpError>> {
        Box::pin(self(ctx, uri, vars))
    }
}

/// The arguments of `prompts/get`.
pub type PromptArgs = BTreeMap<String, String>;

/// Renders one prompt.
pub trait PromptHandler: Send + Sync + 'static {
    /// Renders the prompt with its arguments (required ones are checked before the call).
    fn call(
        &self,
        ctx: RequestContext,
        arguments: PromptArgs,
    ) -> BoxFuture<Result<GetPromptResult, McpError>>;
}

impl<F, Fut> PromptHandler for F
where
    F: Fn(RequestContext, PromptArgs) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<GetPromptResult, McpError>> + Send + 'static,
{
    fn call(
        &self,
        ctx: RequestContext,
        arguments: PromptArgs,
    ) -> BoxFuture<Result<GetPromptResult, McpError>> {
        Box::pin(self(ctx, arguments))
    }
}

/// Answers `completion/complete`.
pub trait CompletionHandler: Send + Sync + 'static {
    /// Completes an argument.
    fn call(
        &self,
        ctx: RequestContext,
        params: CompleteRequestParams,
    ) -> BoxFuture<Result<CompleteResult, McpError>>;
}

impl<F, Fut> CompletionHandler for F
where
    F: Fn(RequestContext, CompleteRequestParams) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CompleteResult, McpError>> + Send + 'static,
{
    fn call(
        &self,
        ctx: RequestContext,
        params: CompleteRequestParams,
    ) -> BoxFuture<Result<CompleteResult, McpError>> {
        Box::pin(self(ctx, params))
    }
}
