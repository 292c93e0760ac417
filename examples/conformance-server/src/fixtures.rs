//! The fixtures of the MCP conformance suite (mcp-requirements.md 4.2), with the exact names
//! and texts the reference fixture server uses.

use std::sync::Arc;
use std::time::Duration;

use mcp_proto::{
    CallToolResult, CompleteRequestParams, CompleteResult, Completion, CompletionReference,
    ContentBlock, CreateMessageRequestParams, ElicitRequestParams, GetPromptResult, Implementation,
    JsonObject, LoggingLevel, McpError, Prompt, PromptArgument, PromptMessage, ReadResourceResult,
    Resource, ResourceContents, ResourceTemplate, SamplingMessage, Tool,
};
use mcp_transport::{BuildError, McpServer, PromptArgs, RequestContext, TemplateVars};
use serde::Deserialize;
use serde_json::{Value, json};

/// A 1x1 PNG.
pub const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A tiny WAV.
pub const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

type ToolResult = Result<CallToolResult, McpError>;

fn obj(v: Value) -> JsonObject {
    match v {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    }
}

fn tool(name: &str, description: &str) -> Tool {
    Tool::new(name, description, Tool::empty_input_schema())
}

fn tool_with(name: &str, description: &str, schema: Value) -> Tool {
    Tool::new(name, description, obj(schema))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct SamplingArgs {
    /// The prompt to send to the client's model.
    prompt: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ElicitationArgs {
    /// The message to show the user.
    message: String,
}

async fn simple_text(_: RequestContext, _: JsonObject) -> ToolResult {
    Ok(CallToolResult::text(
        "This is a simple text response for testing.",
    ))
}

async fn image(_: RequestContext, _: JsonObject) -> ToolResult {
    Ok(CallToolResult::success(vec![ContentBlock::image(
        PNG,
        "image/png",
    )]))
}

async fn audio(_: RequestContext, _: JsonObject) -> ToolResult {
    Ok(CallToolResult::success(vec![ContentBlock::audio(
        WAV,
        "audio/wav",
    )]))
}

async fn embedded(_: RequestContext, _: JsonObject) -> ToolResult {
    Ok(CallToolResult::success(vec![ContentBlock::resource(
        ResourceContents::text(
            "test://embedded-resource",
            Some("text/plain"),
            "This is an embedded resource content.",
        ),
    )]))
}

async fn mixed(_: RequestContext, _: JsonObject) -> ToolResult {
    Ok(CallToolResult::success(vec![
        ContentBlock::text("Multiple content types test:"),
        ContentBlock::image(PNG, "image/png"),
        ContentBlock::resource(ResourceContents::text(
            "test://mixed-content-resource",
            Some("application/json"),
            json!({"test": "data", "value": 123}).to_string(),
        )),
    ]))
}

async fn logging(ctx: RequestContext, _: JsonObject) -> ToolResult {
    for (i, m) in [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ctx.send_log(LoggingLevel::Info, None, Value::from(m))
            .map_err(|e| McpError::internal(e.to_string()))?;
    }
    Ok(CallToolResult::text(
        "Tool with logging executed successfully",
    ))
}

async fn progress(ctx: RequestContext, _: JsonObject) -> ToolResult {
    for p in [0.0, 50.0, 100.0] {
        if p > 0.0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ctx.send_progress(p, Some(100.0), Some(format!("Completed step {p} of 100")))
            .map_err(|e| McpError::internal(e.to_string()))?;
    }
    Ok(CallToolResult::text(
        ctx.progress_token()
            .map_or_else(|| "no-token".to_owned(), |t| t.to_string()),
    ))
}

async fn error(_: RequestContext, _: JsonObject) -> ToolResult {
    Ok(CallToolResult::error(
        "This tool intentionally returns an error for testing",
    ))
}

async fn reconnection(ctx: RequestContext, _: JsonObject) -> ToolResult {
    ctx.close_sse_stream();
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(CallToolResult::text(
        "Reconnection test completed successfully.",
    ))
}

async fn sampling(ctx: RequestContext, args: SamplingArgs) -> ToolResult {
    let r = ctx
        .create_message(CreateMessageRequestParams {
            messages: vec![SamplingMessage::user_text(args.prompt)],
            max_tokens: 100,
            ..Default::default()
        })
        .await?;
    Ok(CallToolResult::text(format!(
        "LLM response: {}",
        r.text().unwrap_or("No response")
    )))
}

async fn elicit(
    ctx: &RequestContext,
    message: String,
    properties: Value,
    required: Value,
    prefix: &str,
) -> ToolResult {
    let schema = obj(json!({"type": "object", "properties": properties, "required": required}));
    let r = ctx
        .elicit(ElicitRequestParams::form(message, schema))
        .await?;
    let content = Value::Object(r.content.unwrap_or_default());
    Ok(CallToolResult::text(format!(
        "{prefix}: action={}, content={content}",
        r.action.as_str()
    )))
}

async fn elicitation(ctx: RequestContext, args: ElicitationArgs) -> ToolResult {
    let props = json!({
        "username": {"type": "string", "description": "User's response"},
        "email": {"type": "string", "description": "User's email address"}
    });
    elicit(
        &ctx,
        args.message,
        props,
        json!(["username", "email"]),
        "User response",
    )
    .await
}

async fn elicitation_defaults(ctx: RequestContext, _: JsonObject) -> ToolResult {
    let props = json!({
        "name": {"type": "string", "description": "User name", "default": "John Doe"},
        "age": {"type": "integer", "description": "User age", "default": 30},
        "score": {"type": "number", "description": "User score", "default": 95.5},
        "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active"},
        "verified": {"type": "boolean", "description": "Verification status", "default": true}
    });
    let msg = "Please review and update the form fields with defaults".to_owned();
    elicit(&ctx, msg, props, json!([]), "Elicitation completed").await
}

async fn elicitation_enums(ctx: RequestContext, _: JsonObject) -> ToolResult {
    let props = json!({
        "untitledSingle": {"type": "string", "description": "Select one option", "enum": ["option1", "option2", "option3"]},
        "titledSingle": {"type": "string", "description": "Select one option with titles", "oneOf": [
            {"const": "value1", "title": "First Option"},
            {"const": "value2", "title": "Second Option"},
            {"const": "value3", "title": "Third Option"}]},
        "legacyEnum": {"type": "string", "description": "Select one option (legacy)", "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"]},
        "untitledMulti": {"type": "array", "description": "Select multiple options", "minItems": 1, "maxItems": 3,
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
        "titledMulti": {"type": "array", "description": "Select multiple options with titles", "minItems": 1, "maxItems": 3,
            "items": {"anyOf": [
                {"const": "value1", "title": "First Choice"},
                {"const": "value2", "title": "Second Choice"},
                {"const": "value3", "title": "Third Choice"}]}}
    });
    let msg = "Please select options from the enum fields".to_owned();
    elicit(&ctx, msg, props, json!([]), "Elicitation completed").await
}

async fn json_schema_tool(_: RequestContext, args: JsonObject) -> ToolResult {
    Ok(CallToolResult::text(format!(
        "JSON Schema 2020-12 tool called with: {}",
        Value::Object(args)
    )))
}

const WIDGET_URI: &str = "ui://fixture/widget.html";

async fn widget(_: RequestContext, _: JsonObject) -> ToolResult {
    let mut r = CallToolResult::text(r#"{"greeting":"hello"}"#);
    r.structured_content = Some(obj(json!({"greeting": "hello"})));
    Ok(r)
}

fn widget_tool() -> Tool {
    let mut t = tool("show_widget", "MCP Apps sample: renders a view");
    t.meta = Some(obj(json!({
        "ui": {"resourceUri": WIDGET_URI, "visibility": ["model", "app"]},
        "ui/resourceUri": WIDGET_URI,
        "openai/outputTemplate": WIDGET_URI,
        "openai/widgetAccessible": true,
        "openai/toolInvocation/invoking": "Rendering…",
        "openai/toolInvocation/invoked": "Rendered"
    })));
    t.output_schema = Some(obj(json!({
        "type": "object", "properties": {"greeting": {"type": "string"}}, "required": ["greeting"]
    })));
    t
}

fn text_resource(
    uri: &str,
    name: &str,
    description: &str,
    mime: &str,
    text: &str,
) -> (Resource, Vec<ResourceContents>) {
    let mut r = Resource::new(uri, name);
    r.description = Some(description.into());
    r.mime_type = Some(mime.into());
    (r, vec![ResourceContents::text(uri, Some(mime), text)])
}

async fn template_read(
    _: RequestContext,
    uri: String,
    vars: TemplateVars,
) -> Result<ReadResourceResult, McpError> {
    let id = vars.get("id").cloned().unwrap_or_default();
    let text =
        json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")}).to_string();
    Ok(ReadResourceResult {
        contents: vec![ResourceContents::text(uri, Some("application/json"), text)],
        meta: None,
    })
}

fn prompt_text(text: impl Into<String>) -> PromptMessage {
    PromptMessage::user(ContentBlock::text(text))
}

async fn simple_prompt(_: RequestContext, _: PromptArgs) -> Result<GetPromptResult, McpError> {
    Ok(GetPromptResult {
        messages: vec![prompt_text("This is a simple prompt for testing.")],
        ..Default::default()
    })
}

async fn args_prompt(_: RequestContext, a: PromptArgs) -> Result<GetPromptResult, McpError> {
    let get = |k: &str| a.get(k).map_or("", String::as_str).to_owned();
    Ok(GetPromptResult {
        messages: vec![prompt_text(format!(
            "Prompt with arguments: arg1='{}', arg2='{}'",
            get("arg1"),
            get("arg2")
        ))],
        ..Default::default()
    })
}

async fn embedded_prompt(_: RequestContext, a: PromptArgs) -> Result<GetPromptResult, McpError> {
    let uri = a.get("resourceUri").cloned().unwrap_or_default();
    Ok(GetPromptResult {
        messages: vec![
            PromptMessage::user(ContentBlock::resource(ResourceContents::text(
                uri,
                Some("text/plain"),
                "Embedded resource content for testing.",
            ))),
            prompt_text("Please process the embedded resource above."),
        ],
        ..Default::default()
    })
}

async fn image_prompt(_: RequestContext, _: PromptArgs) -> Result<GetPromptResult, McpError> {
    Ok(GetPromptResult {
        messages: vec![
            PromptMessage::user(ContentBlock::image(PNG, "image/png")),
            prompt_text("Please analyze the image above."),
        ],
        ..Default::default()
    })
}

async fn complete(_: RequestContext, p: CompleteRequestParams) -> Result<CompleteResult, McpError> {
    let candidates: &[&str] = match &p.reference {
        CompletionReference::Prompt { name, .. } if name == "test_prompt_with_arguments" => {
            &["hello", "help", "world"]
        }
        _ => &[],
    };
    let values = candidates
        .iter()
        .filter(|c| c.starts_with(&p.argument.value))
        .map(|c| (*c).to_owned())
        .collect();
    Ok(CompleteResult {
        completion: Completion::from_values(values),
        meta: None,
    })
}

/// The fixture server definition.
pub fn server() -> Result<Arc<McpServer>, BuildError> {
    let (st, st_c) = text_resource(
        "test://static-text",
        "static-text",
        "A static text resource for testing",
        "text/plain",
        "This is the content of the static text resource.",
    );
    let mut bin = Resource::new("test://static-binary", "static-binary");
    bin.description = Some("A static binary resource (image) for testing".into());
    bin.mime_type = Some("image/png".into());
    let bin_c = vec![ResourceContents::blob(
        "test://static-binary",
        Some("image/png"),
        PNG,
    )];
    let (w, w_c) = text_resource(
        "test://watched-resource",
        "watched-resource",
        "A subscribable resource",
        "text/plain",
        "Watched resource content",
    );
    let mut ui = Resource::new(WIDGET_URI, "fixture-widget");
    ui.description = Some("MCP Apps sample view".into());
    ui.mime_type = Some("text/html;profile=mcp-app".into());
    let ui_c = vec![ResourceContents::Text(mcp_proto::TextResourceContents {
        uri: WIDGET_URI.into(),
        mime_type: Some("text/html;profile=mcp-app".into()),
        text: "<!DOCTYPE html><html><body><p id=\"g\">loading</p></body></html>".into(),
        meta: Some(obj(json!({
            "ui": {"csp": {"connectDomains": [], "resourceDomains": []}, "prefersBorder": true},
            "openai/widgetCSP": {"connect_domains": [], "resource_domains": []},
            "openai/widgetPrefersBorder": true
        }))),
    })];
    let template = ResourceTemplate {
        uri_template: "test://template/{id}/data".into(),
        name: "template".into(),
        description: Some("Resource template".into()),
        mime_type: Some("application/json".into()),
        ..Default::default()
    };
    let b = McpServer::builder()
        .server_info(Implementation::new("conformance-server", env!("CARGO_PKG_VERSION")))
        .logging(true)
        .resource_subscriptions(true)
        .tool(tool("test_simple_text", "Returns a simple text response"), simple_text)
        .tool(tool("test_image_content", "Returns an image"), image)
        .tool(tool("test_audio_content", "Returns audio"), audio)
        .tool(tool("test_embedded_resource", "Returns an embedded resource"), embedded)
        .tool(tool("test_multiple_content_types", "Returns text, an image and a resource"), mixed)
        .tool(tool("test_tool_with_logging", "Sends three log messages while running"), logging)
        .tool(tool("test_error_handling", "Always returns a tool error"), error)
        .tool(tool("test_tool_with_progress", "Reports progress three times"), progress)
        .tool(tool("test_reconnection", "Closes its SSE stream mid-call; the result arrives after reconnection"), reconnection)
        .typed_tool(tool("test_sampling", "Asks the client's model through sampling"), sampling)
        .typed_tool(tool("test_elicitation", "Asks the user for a username and an email"), elicitation)
        .tool(tool("test_elicitation_sep1034_defaults", "Elicitation with default values (SEP-1034)"), elicitation_defaults)
        .tool(tool("test_elicitation_sep1330_enums", "Elicitation with enum fields (SEP-1330)"), elicitation_enums)
        .tool(
            tool_with(
                "json_schema_2020_12_tool",
                "A tool whose input schema uses JSON Schema 2020-12 features",
                json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "type": "object",
                    "$defs": {"address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
                    "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
                    "additionalProperties": false
                }),
            ),
            json_schema_tool,
        )
        .tool(widget_tool(), widget)
        .static_resource(st, st_c)
        .static_resource(bin, bin_c)
        .static_resource(w, w_c)
        .static_resource(ui, ui_c)
        .resource_template(template, template_read)
        .prompt(Prompt::new("test_simple_prompt", "A prompt without arguments"), simple_prompt)
        .prompt(
            Prompt {
                arguments: Some(vec![
                    PromptArgument::required("arg1", "First test argument"),
                    PromptArgument::required("arg2", "Second test argument"),
                ]),
                ..Prompt::new("test_prompt_with_arguments", "A prompt with two arguments")
            },
            args_prompt,
        )
        .prompt(
            Prompt {
                arguments: Some(vec![PromptArgument::required("resourceUri", "URI of the resource to embed")]),
                ..Prompt::new("test_prompt_with_embedded_resource", "A prompt embedding a resource")
            },
            embedded_prompt,
        )
        .prompt(Prompt::new("test_prompt_with_image", "A prompt with an image"), image_prompt)
        .completion(complete);
    crate::modern::register(b).build()
}
