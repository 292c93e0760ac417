//! The fixtures the conformance suite calls at protocol version 2026-07-28 (mcp-requirements
//! and the suite's `input-required-result-*`, `server-stateless` scenarios), with the names,
//! input keys and texts of the suite's reference server. Each handler is written once: asking
//! the client (`elicit`, `create_message`, `list_roots`) is a server-to-client request on a
//! legacy session and an `input_required` round trip in the modern era.

use std::sync::OnceLock;

use mcp_proto::{
    CallToolResult, ContentBlock, CreateMessageRequestParams, ElicitAction, ElicitRequestParams,
    GetPromptResult, JsonObject, LoggingLevel, McpError, Prompt, PromptMessage, SamplingMessage,
    Tool, methods,
};
use mcp_transport::{McpServerBuilder, PromptArgs, RequestContext, ToolHandler, Transport};
use serde_json::{Value, json};

type ToolResult = Result<CallToolResult, McpError>;

/// The transport, for the triggers that notify listen streams (set once it exists).
pub static TRANSPORT: OnceLock<Transport> = OnceLock::new();

fn tool(name: &str, description: &str) -> Tool {
    Tool::new(name, description, Tool::empty_input_schema())
}

fn schema(properties: Value, required: &[&str]) -> JsonObject {
    let v = json!({"type": "object", "properties": properties, "required": required});
    match v {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    }
}

/// An accepted elicitation's string field, or an invalid-params error.
fn field(r: &mcp_proto::ElicitResult, key: &str) -> Result<String, McpError> {
    if r.action != ElicitAction::Accept {
        return Err(McpError::invalid_params("the elicitation was not accepted"));
    }
    r.content
        .as_ref()
        .and_then(|c| c.get(key))
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .ok_or_else(|| McpError::invalid_params(format!("missing {key}")))
}

fn ask_name() -> ElicitRequestParams {
    ElicitRequestParams::form(
        "What is your name?",
        schema(json!({"name": {"type": "string"}}), &["name"]),
    )
}

fn question(text: &str) -> CreateMessageRequestParams {
    CreateMessageRequestParams {
        messages: vec![SamplingMessage::user_text(text)],
        max_tokens: 100,
        ..Default::default()
    }
}

async fn missing_capability(ctx: RequestContext, _: JsonObject) -> ToolResult {
    // Needs sampling; without it the client gets -32021 naming it.
    if ctx
        .client_capabilities()
        .is_some_and(|c| c.sampling.is_none())
    {
        return Err(McpError::missing_client_capability(json!({"sampling": {}})));
    }
    Ok(CallToolResult::text("Success"))
}

async fn streaming_elicitation(ctx: RequestContext, _: JsonObject) -> ToolResult {
    let _ = ctx.send_progress(0.0, Some(1.0), None);
    let r = ctx.keyed("user_name").elicit(ask_name()).await?;
    Ok(CallToolResult::text(format!(
        "Hello, {}!",
        field(&r, "name")?
    )))
}

async fn logging_tool(ctx: RequestContext, _: JsonObject) -> ToolResult {
    // Sent only when the request asked for logs (modern) or the session's level allows.
    let _ = ctx.send_log(LoggingLevel::Info, None, Value::from("logging tool ran"));
    Ok(CallToolResult::text("Logging tool executed"))
}

/// A tool that sends `method` to every listener (and legacy GET stream).
fn trigger(method: &'static str) -> impl ToolHandler {
    move |_: RequestContext, _: JsonObject| async move {
        if let Some(t) = TRANSPORT.get() {
            t.notify_all(method, None);
        }
        Ok(CallToolResult::text("Mutation triggered"))
    }
}

async fn mrtr_elicitation(ctx: RequestContext, _: JsonObject) -> ToolResult {
    let r = ctx.keyed("user_name").elicit(ask_name()).await?;
    Ok(CallToolResult::text(format!(
        "Hello, {}!",
        field(&r, "name")?
    )))
}

async fn mrtr_sampling(ctx: RequestContext, _: JsonObject) -> ToolResult {
    let r = ctx
        .keyed("capital_question")
        .create_message(question("What is the capital of France?"))
        .await?;
    Ok(CallToolResult::text(format!(
        "The model said: {}",
        r.text().unwrap_or("")
    )))
}

async fn mrtr_roots(ctx: RequestContext, _: JsonObject) -> ToolResult {
    let r = ctx.keyed("client_roots").list_roots().await?;
    Ok(CallToolResult::text(format!(
        "Found {} root(s)",
        r.roots.len()
    )))
}

async fn mrtr_request_state(ctx: RequestContext, _: JsonObject) -> ToolResult {
    let ask = ElicitRequestParams::form(
        "Confirm?",
        schema(json!({"ok": {"type": "boolean"}}), &["ok"]),
    );
    let r = ctx.keyed("confirm").elicit(ask).await?;
    Ok(CallToolResult::text(format!(
        "state-ok: {}",
        field(&r, "ok")?
    )))
}

async fn mrtr_multiple(ctx: RequestContext, _: JsonObject) -> ToolResult {
    // Asked side by side: one round trip carries all three.
    let (name, greeting, roots) = tokio::join!(
        ctx.keyed("user_name").elicit(ask_name()),
        ctx.keyed("greeting").create_message(question("Say hello")),
        ctx.keyed("client_roots").list_roots(),
    );
    let (name, greeting, roots) = (name?, greeting?, roots?);
    Ok(CallToolResult::text(format!(
        "{} / {} / {} root(s)",
        field(&name, "name")?,
        greeting.text().unwrap_or(""),
        roots.roots.len()
    )))
}

async fn mrtr_multi_round(ctx: RequestContext, _: JsonObject) -> ToolResult {
    let name = ctx.keyed("step1").elicit(ask_name()).await?;
    let color = ElicitRequestParams::form(
        "What is your favourite colour?",
        schema(json!({"color": {"type": "string"}}), &["color"]),
    );
    let color = ctx.keyed("step2").elicit(color).await?;
    Ok(CallToolResult::text(format!(
        "{} likes {}",
        field(&name, "name")?,
        field(&color, "color")?
    )))
}

async fn mrtr_capabilities(ctx: RequestContext, _: JsonObject) -> ToolResult {
    // Asks only what the request's capabilities allow.
    let caps = ctx.client_capabilities().cloned().unwrap_or_default();
    if caps.elicitation.is_some() {
        let r = ctx.keyed("user_name").elicit(ask_name()).await?;
        return Ok(CallToolResult::text(format!(
            "Hello, {}!",
            field(&r, "name")?
        )));
    }
    if caps.sampling.is_some() {
        let r = ctx
            .keyed("sample_input")
            .create_message(question("Say something"))
            .await?;
        return Ok(CallToolResult::text(r.text().unwrap_or("").to_owned()));
    }
    Ok(CallToolResult::text("No input capability declared"))
}

async fn mrtr_prompt(ctx: RequestContext, _: PromptArgs) -> Result<GetPromptResult, McpError> {
    let ask = ElicitRequestParams::form(
        "What context should the prompt use?",
        schema(json!({"context": {"type": "string"}}), &["context"]),
    );
    let r = ctx.keyed("user_context").elicit(ask).await?;
    Ok(GetPromptResult {
        description: None,
        messages: vec![PromptMessage::user(ContentBlock::text(format!(
            "Prompt with context: {}",
            field(&r, "context")?
        )))],
        meta: None,
    })
}

/// Adds the modern-era fixtures to a server definition.
pub fn register(b: McpServerBuilder) -> McpServerBuilder {
    let mrtr = |name: &str| format!("MRTR fixture: {name}");
    b.tool(
        tool(
            "test_missing_capability",
            "Needs the client's sampling capability",
        ),
        missing_capability,
    )
    .tool(
        tool(
            "test_streaming_elicitation",
            "Reports progress, then asks the user's name",
        ),
        streaming_elicitation,
    )
    .tool(
        tool(
            "test_logging_tool",
            "Logs one message if the request asked for logs",
        ),
        logging_tool,
    )
    .tool(
        tool(
            "test_trigger_tool_change",
            "Notifies listeners that the tool list changed",
        ),
        trigger(methods::NOTIFICATION_TOOLS_LIST_CHANGED),
    )
    .tool(
        tool(
            "test_trigger_prompt_change",
            "Notifies listeners that the prompt list changed",
        ),
        trigger(methods::NOTIFICATION_PROMPTS_LIST_CHANGED),
    )
    .tool(
        tool(
            "test_input_required_result_elicitation",
            &mrtr("elicitation"),
        ),
        mrtr_elicitation,
    )
    .tool(
        tool("test_input_required_result_sampling", &mrtr("sampling")),
        mrtr_sampling,
    )
    .tool(
        tool("test_input_required_result_list_roots", &mrtr("roots")),
        mrtr_roots,
    )
    .tool(
        tool(
            "test_input_required_result_request_state",
            &mrtr("request state"),
        ),
        mrtr_request_state,
    )
    .tool(
        tool(
            "test_input_required_result_multiple_inputs",
            &mrtr("three inputs at once"),
        ),
        mrtr_multiple,
    )
    .tool(
        tool(
            "test_input_required_result_multi_round",
            &mrtr("two rounds"),
        ),
        mrtr_multi_round,
    )
    .tool(
        tool(
            "test_input_required_result_tampered_state",
            &mrtr("signed state"),
        ),
        mrtr_request_state,
    )
    .tool(
        tool(
            "test_input_required_result_capabilities",
            &mrtr("asks only what is declared"),
        ),
        mrtr_capabilities,
    )
    .prompt(
        Prompt::new(
            "test_input_required_result_prompt",
            "MRTR: prompt that requires elicitation input",
        ),
        mrtr_prompt,
    )
}
