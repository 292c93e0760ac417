//! The built-in handlers of the standard methods. A method whose capability the server does
//! not declare answers `-32601`, as sunpeak's servers do.

use std::sync::Arc;

use mcp_proto::{
    CallToolRequestParams, CompleteRequestParams, GetPromptRequestParams, McpError,
    ReadResourceRequestParams, SetLevelRequestParams, methods as m,
};
use serde_json::Value;

use super::{McpServer, ResourceRead};
use crate::context::RequestContext;
use crate::handler::{BoxFuture, HandlerResult, Params};
use crate::payload::Payload;
use crate::pending::lock;

fn ready(r: HandlerResult) -> BoxFuture<HandlerResult> {
    Box::pin(std::future::ready(r))
}

fn cursor(params: Params) -> Result<Option<String>, McpError> {
    // Only `cursor` matters here: reading it alone spares copying the rest (a 2026-07-28
    // request always carries a `_meta` object, which a typed parse would copy).
    match params.get() {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(p)) => match p.get("cursor") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(c)) => Ok(Some(c.clone())),
            Some(_) => Err(McpError::invalid_params(
                "Invalid params: cursor must be a string",
            )),
        },
        Some(_) => Err(McpError::invalid_params(
            "Invalid params: params must be an object",
        )),
    }
}

/// Whether the built-in handlers answer `method` with more than `-32601`.
pub(super) fn supports(server: &McpServer, method: &str) -> bool {
    let caps = &server.capabilities;
    match method {
        m::PING => true,
        m::TOOLS_LIST | m::TOOLS_CALL => caps.tools.is_some(),
        m::RESOURCES_LIST | m::RESOURCES_TEMPLATES_LIST | m::RESOURCES_READ => {
            caps.resources.is_some()
        }
        m::RESOURCES_SUBSCRIBE | m::RESOURCES_UNSUBSCRIBE => caps
            .resources
            .as_ref()
            .is_some_and(|r| r.subscribe == Some(true)),
        m::PROMPTS_LIST | m::PROMPTS_GET => caps.prompts.is_some(),
        m::COMPLETION_COMPLETE => caps.completions.is_some() && server.completion.is_some(),
        m::LOGGING_SET_LEVEL => caps.logging.is_some(),
        _ => false,
    }
}

pub(super) fn call(
    server: Arc<McpServer>,
    ctx: RequestContext,
    method: &str,
    params: Params,
) -> BoxFuture<HandlerResult> {
    let caps = &server.capabilities;
    let ps = server.page_size;
    match method {
        m::PING => ready(Ok(Payload::empty_object())),
        m::TOOLS_LIST if caps.tools.is_some() => {
            ready(cursor(params).and_then(|c| server.tool_pages.page(c.as_deref(), ps)))
        }
        m::TOOLS_CALL if caps.tools.is_some() => call_tool(server, ctx, params),
        m::RESOURCES_LIST if caps.resources.is_some() => {
            ready(cursor(params).and_then(|c| server.resource_pages.page(c.as_deref(), ps)))
        }
        m::RESOURCES_TEMPLATES_LIST if caps.resources.is_some() => {
            ready(cursor(params).and_then(|c| server.template_pages.page(c.as_deref(), ps)))
        }
        m::RESOURCES_READ if caps.resources.is_some() => read_resource(server, ctx, params),
        m::RESOURCES_SUBSCRIBE | m::RESOURCES_UNSUBSCRIBE
            if caps
                .resources
                .as_ref()
                .is_some_and(|r| r.subscribe == Some(true)) =>
        {
            ready(subscribe(&ctx, method == m::RESOURCES_SUBSCRIBE, params))
        }
        m::PROMPTS_LIST if caps.prompts.is_some() => {
            ready(cursor(params).and_then(|c| server.prompt_pages.page(c.as_deref(), ps)))
        }
        m::PROMPTS_GET if caps.prompts.is_some() => get_prompt(server, ctx, params),
        m::COMPLETION_COMPLETE if caps.completions.is_some() => complete(server, ctx, params),
        m::LOGGING_SET_LEVEL if caps.logging.is_some() => set_level(ctx, params),
        _ => ready(Err(McpError::method_not_found())),
    }
}

fn call_tool(
    server: Arc<McpServer>,
    ctx: RequestContext,
    params: Params,
) -> BoxFuture<HandlerResult> {
    let p: CallToolRequestParams = match params.parse() {
        Ok(p) => p,
        Err(e) => return ready(Err(e)),
    };
    let Some(&i) = server.tool_index.get(&p.name) else {
        return ready(Err(McpError::unknown_tool(&p.name)));
    };
    let handler = Arc::clone(&server.tools[i].handler);
    Box::pin(async move {
        let result = handler.call(ctx, p.arguments.unwrap_or_default()).await?;
        Payload::json(&result)
    })
}

fn read_resource(
    server: Arc<McpServer>,
    ctx: RequestContext,
    params: Params,
) -> BoxFuture<HandlerResult> {
    let p: ReadResourceRequestParams = match params.parse() {
        Ok(p) => p,
        Err(e) => return ready(Err(e)),
    };
    if let Some(&i) = server.resource_index.get(&p.uri) {
        return match &server.resources[i].read {
            ResourceRead::Static(json) => ready(Ok(json.clone().into())),
            ResourceRead::Handler(h) => {
                let h = Arc::clone(h);
                Box::pin(async move { Payload::json(&h.call(ctx, p).await?) })
            }
        };
    }
    for t in &server.templates {
        if let Some(vars) = t.matcher.matches(&p.uri) {
            let h = Arc::clone(&t.handler);
            return Box::pin(async move { Payload::json(&h.call(ctx, p.uri, vars).await?) });
        }
    }
    ready(Err(McpError::resource_not_found(&p.uri)))
}

fn subscribe(ctx: &RequestContext, on: bool, params: Params) -> HandlerResult {
    let p: ReadResourceRequestParams = params.parse()?;
    if let Some(s) = &ctx.0.session {
        if on {
            s.subscribe(p.uri)?;
        } else {
            lock(&s.subscriptions).remove(&p.uri);
        }
    }
    Ok(Payload::empty_object())
}

fn get_prompt(
    server: Arc<McpServer>,
    ctx: RequestContext,
    params: Params,
) -> BoxFuture<HandlerResult> {
    let p: GetPromptRequestParams = match params.parse() {
        Ok(p) => p,
        Err(e) => return ready(Err(e)),
    };
    let Some(&i) = server.prompt_index.get(&p.name) else {
        return ready(Err(McpError::invalid_params(format!(
            "Unknown prompt: {}",
            p.name
        ))));
    };
    let entry = &server.prompts[i];
    let args = p.arguments.unwrap_or_default();
    for a in entry.prompt.arguments.iter().flatten() {
        if a.required == Some(true) && !args.contains_key(&a.name) {
            return ready(Err(McpError::invalid_params(format!(
                "Missing required argument: {}",
                a.name
            ))));
        }
    }
    let h = Arc::clone(&entry.handler);
    Box::pin(async move { Payload::json(&h.call(ctx, args).await?) })
}

fn complete(
    server: Arc<McpServer>,
    ctx: RequestContext,
    params: Params,
) -> BoxFuture<HandlerResult> {
    let Some(h) = server.completion.clone() else {
        return ready(Err(McpError::method_not_found()));
    };
    let p: CompleteRequestParams = match params.parse() {
        Ok(p) => p,
        Err(e) => return ready(Err(e)),
    };
    Box::pin(async move {
        let mut r = h.call(ctx, p).await?;
        r.completion
            .values
            .truncate(mcp_proto::completion::MAX_COMPLETION_VALUES);
        Payload::json(&r)
    })
}

fn set_level(ctx: RequestContext, params: Params) -> BoxFuture<HandlerResult> {
    let level = match params.parse::<SetLevelRequestParams>() {
        Ok(p) => p.level,
        Err(_) => return ready(Err(McpError::invalid_params("Invalid log level"))),
    };
    let Some(session) = ctx.0.session.clone() else {
        return ready(Ok(Payload::empty_object()));
    };
    Box::pin(async move {
        let sessions = &ctx.0.engine.sessions;
        match sessions.set_log_level(&session, level).await {
            Ok(()) => Ok(Payload::empty_object()),
            Err(e) => {
                tracing::warn!(target: crate::logging::TARGET, error = %e, "Session store unavailable");
                Err(McpError::internal(
                    "Internal error: the session store is unreachable",
                ))
            }
        }
    })
}
