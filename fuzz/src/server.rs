//! The server definition the dispatch targets run against: a few tools (plain, typed,
//! notifying, failing, slow, asking the client, reporting the auth info), resources (static, handler, template),
//! prompts and completions, with small pages so that cursors are exercised.
//!
//! No handler panics or waits forever: a panic would be reported by libFuzzer as a crash of
//! the transport, and a handler waiting for the client gives up after a (virtual) timeout.

use std::sync::Arc;
use std::time::Duration;

use mcp_proto::{
    CallToolResult, CompleteRequestParams, CompleteResult, Completion, ContentBlock,
    CreateMessageRequestParams, ElicitRequestParams, GetPromptResult, Implementation, JsonObject,
    LoggingLevel, McpError, Prompt, PromptArgument, PromptMessage, ReadResourceRequestParams,
    ReadResourceResult, Resource, ResourceContents, ResourceTemplate, SamplingMessage, Tool,
};
use mcp_transport::{McpServer, PromptArgs, RequestContext, TemplateVars};
use serde::Deserialize;
use serde_json::{Value, json};

/// How long a handler waits for the client's answer (virtual time).
const CLIENT_WAIT: Duration = Duration::from_secs(10);

type ToolResult = Result<CallToolResult, McpError>;

#[derive(Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// First addend.
    a: i64,
    /// Second addend.
    b: i64,
}

fn obj(v: Value) -> JsonObject {
    match v {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    }
}

fn tool(name: &str, schema: Value) -> Tool {
    Tool::new(name, format!("fuzz tool {name}"), obj(schema))
}

async fn echo(_: RequestContext, args: JsonObject) -> ToolResult {
    Ok(CallToolResult::text(Value::Object(args).to_string()))
}

async fn add(_: RequestContext, args: AddArgs) -> ToolResult {
    Ok(CallToolResult::text(
        args.a.wrapping_add(args.b).to_string(),
    ))
}

async fn notify(ctx: RequestContext, _: JsonObject) -> ToolResult {
    for step in 0..3u8 {
        let p = f64::from(step);
        ctx.send_progress(p, Some(2.0), Some(format!("step {step}")))
            .map_err(|e| McpError::internal(e.to_string()))?;
        ctx.send_log(LoggingLevel::Info, Some("fuzz"), Value::from(step))
            .map_err(|e| McpError::internal(e.to_string()))?;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = ctx.send_notification("notifications/fuzz", Some(json!({"x": 1})));
    Ok(CallToolResult::text("notified"))
}

async fn fail(_: RequestContext, _: JsonObject) -> ToolResult {
    Err(McpError::invalid_params("fail always fails"))
}

async fn tool_error(_: RequestContext, _: JsonObject) -> ToolResult {
    Ok(CallToolResult::error("tool_error always reports an error"))
}

async fn slow(ctx: RequestContext, _: JsonObject) -> ToolResult {
    tokio::select! {
        () = tokio::time::sleep(Duration::from_secs(2)) => Ok(CallToolResult::text("slept")),
        () = ctx.cancellation_token().cancelled() => Err(McpError::internal("cancelled")),
    }
}

async fn reconnect(ctx: RequestContext, _: JsonObject) -> ToolResult {
    ctx.close_sse_stream();
    tokio::time::sleep(Duration::from_millis(20)).await;
    Ok(CallToolResult::text("after reconnect"))
}

async fn ask(ctx: RequestContext, args: JsonObject) -> ToolResult {
    let which = args
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("sampling");
    let answer = tokio::time::timeout(CLIENT_WAIT, async {
        match which {
            "elicit" => ctx
                .elicit(ElicitRequestParams::form("name?", JsonObject::new()))
                .await
                .map(|r| r.action.as_str().to_owned()),
            "roots" => ctx.list_roots().await.map(|r| r.roots.len().to_string()),
            _ => ctx
                .create_message(CreateMessageRequestParams {
                    messages: vec![SamplingMessage::user_text("hi")],
                    max_tokens: 10,
                    ..Default::default()
                })
                .await
                .map(|r| r.text().unwrap_or("").to_owned()),
        }
    })
    .await;
    match answer {
        Ok(Ok(text)) => Ok(CallToolResult::text(text)),
        Ok(Err(e)) => Ok(CallToolResult::error(e.to_string())),
        Err(_) => Ok(CallToolResult::error("the client did not answer")),
    }
}

async fn whoami(ctx: RequestContext, _: JsonObject) -> ToolResult {
    let who = ctx.auth().map_or_else(
        || "anonymous".to_owned(),
        |a| {
            format!(
                "{} {:?} {:?}",
                a.token().unwrap_or(""),
                a.client_id(),
                a.scopes()
            )
        },
    );
    Ok(CallToolResult::text(who))
}

async fn dynamic(
    _: RequestContext,
    p: ReadResourceRequestParams,
) -> Result<ReadResourceResult, McpError> {
    if p.uri.ends_with("fail") {
        return Err(McpError::internal("dynamic resource failed"));
    }
    Ok(ReadResourceResult {
        contents: vec![ResourceContents::text(p.uri, Some("text/plain"), "dynamic")],
        meta: None,
    })
}

async fn template(
    _: RequestContext,
    uri: String,
    vars: TemplateVars,
) -> Result<ReadResourceResult, McpError> {
    let text = json!({"vars": vars}).to_string();
    Ok(ReadResourceResult {
        contents: vec![ResourceContents::text(uri, Some("application/json"), text)],
        meta: None,
    })
}

async fn prompt(_: RequestContext, args: PromptArgs) -> Result<GetPromptResult, McpError> {
    let topic = args.get("topic").cloned().unwrap_or_default();
    Ok(GetPromptResult {
        messages: vec![PromptMessage::user(ContentBlock::text(format!(
            "about {topic}"
        )))],
        ..Default::default()
    })
}

async fn complete(_: RequestContext, p: CompleteRequestParams) -> Result<CompleteResult, McpError> {
    let values = ["alpha", "beta", "gamma"]
        .iter()
        .filter(|c| c.starts_with(&p.argument.value))
        .map(|c| (*c).to_owned())
        .collect();
    Ok(CompleteResult {
        completion: Completion::from_values(values),
        meta: None,
    })
}

/// Builds the server definition.
pub fn build() -> Arc<McpServer> {
    let text = Resource::new("test://static", "static");
    let text_c = vec![ResourceContents::text(
        "test://static",
        Some("text/html"),
        "<p>\"hi\" & </p>\u{2028}",
    )];
    let blob = Resource::new("test://blob", "blob");
    let blob_c = vec![ResourceContents::blob(
        "test://blob",
        Some("image/png"),
        "AAEC",
    )];
    McpServer::builder()
        .server_info(Implementation::new("fuzz", "0.0.0"))
        .instructions("fuzzing")
        .logging(true)
        .resource_subscriptions(true)
        .page_size(2)
        .tool(
            tool(
                "echo",
                json!({"type": "object", "properties": {"text": {"type": "string"}}}),
            ),
            echo,
        )
        .typed_tool(tool("add", json!({})), add)
        .tool(tool("notify", json!({"type": "object"})), notify)
        .tool(tool("fail", json!({"type": "object"})), fail)
        .tool(tool("tool_error", json!({"type": "object"})), tool_error)
        .tool(tool("slow", json!({"type": "object"})), slow)
        .tool(tool("reconnect", json!({"type": "object"})), reconnect)
        .tool(tool("ask", json!({"type": "object"})), ask)
        .tool(tool("whoami", json!({"type": "object"})), whoami)
        .static_resource(text, text_c)
        .static_resource(blob, blob_c)
        .resource(Resource::new("test://dynamic", "dynamic"), dynamic)
        .resource(
            Resource::new("test://dynamic/fail", "dynamic-fail"),
            dynamic,
        )
        .resource_template(
            ResourceTemplate {
                uri_template: "test://items/{id}/{+rest}".into(),
                name: "items".into(),
                ..Default::default()
            },
            template,
        )
        .prompt(Prompt::new("plain", "no arguments"), prompt)
        .prompt(
            Prompt {
                arguments: Some(vec![PromptArgument::required("topic", "the topic")]),
                ..Prompt::new("with_args", "one required argument")
            },
            prompt,
        )
        .completion(complete)
        .build()
        .expect("the fuzz server definition is valid")
}
