//! Registering an [`McpApp`] on the `mcp-transport` engine, once: the server definition with
//! sunpeak's `initialize` identity and capabilities, the methods this crate answers itself
//! (`tools/list`, `tools/call`, `resources/list`, `resources/read`,
//! `resources/templates/list`), and the auth hook that runs the project's `auth()`.
//!
//! Everything else (sessions, `ping`, errors, SSE, CORS, limits) is the engine's.

use std::sync::Arc;

use http::{HeaderValue, StatusCode};
use mcp_proto::{ErrorCode, Implementation, McpError, ServerCapabilities};
use mcp_transport::{
    AuthDecision, AuthDenial, AuthHook, AuthInfo, AuthRequest, BoxError, BuildError, McpServer,
    Params, Payload, RequestContext,
};
use serde_json::{Value, json};

use crate::app::McpApp;
use crate::client::detect_client;
use crate::node::{self, AuthAnswer, BoxFuture, ClientPeer, ToolCallContext, ToolCallOutcome};
use crate::oauth::{AuthFailure, OAuth, OAuthError};

/// Builds the server definition for `app`.
pub fn mcp_server(app: &Arc<McpApp>) -> Result<Arc<McpServer>, BuildError> {
    let identity = app.identity();
    let mut info = identity.server_info.clone();
    // `Implementation` wants strings; sunpeak would send whatever the config held.
    info["name"] = Value::String(identity.name());
    info["version"] = Value::String(identity.version());
    let info: Implementation = serde_json::from_value(info)
        .unwrap_or_else(|_| Implementation::new(identity.name(), identity.version()));
    let capabilities: ServerCapabilities =
        serde_json::from_value(app.capabilities()).unwrap_or_default();

    let mut builder = McpServer::builder()
        .server_info(info)
        .capabilities(capabilities)
        .metric_tool_names(app.catalog().tool_names());
    if let Some(instructions) = &identity.instructions {
        builder = builder.instructions(match instructions {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }

    let a = Arc::clone(app);
    builder = builder.method("tools/list", move |_ctx: RequestContext, _p: Params| {
        let list = a.list_tools();
        async move { Ok(Payload::from(list)) }
    });
    let a = Arc::clone(app);
    builder = builder.method("tools/call", move |ctx: RequestContext, p: Params| {
        let app = Arc::clone(&a);
        async move {
            let params = p.into_inner().unwrap_or(Value::Null);
            let call = tool_call_context(&ctx);
            match app.call_tool(&params, call).await {
                ToolCallOutcome::Result(result) => Ok(Payload::value(result)),
                ToolCallOutcome::Error {
                    code,
                    message,
                    data,
                } => Err(rpc_error(code, message, data)),
            }
        }
    });
    let a = Arc::clone(app);
    builder = builder.method("resources/list", move |ctx: RequestContext, _p: Params| {
        let list = a.list_resources(detect_client(ctx.headers()));
        async move { Ok(Payload::from(list)) }
    });
    let a = Arc::clone(app);
    builder = builder.method("resources/read", move |ctx: RequestContext, p: Params| {
        let params = p.into_inner().unwrap_or(Value::Null);
        let read = a
            .read_resource(&params, detect_client(ctx.headers()))
            .map_err(|e| rpc_error(e.code, e.message, e.data));
        async move { read }
    });
    builder = builder.method(
        "resources/templates/list",
        |_ctx: RequestContext, _p: Params| async {
            Ok(Payload::raw(&br#"{"resourceTemplates":[]}"#[..]))
        },
    );
    builder.build()
}

/// The auth hook: runs `auth(req, context)` of `dist/server.js` for every request to `/mcp` but
/// OPTIONS (after the body of a POST is read: `context.body`). `None` when the server entry
/// exports no `auth`. `oauth` makes the challenges of rejections.
pub fn auth_hook(app: &Arc<McpApp>, oauth: Option<Arc<OAuth>>) -> Option<JsAuth> {
    app.has_auth().then(|| JsAuth {
        app: Arc::clone(app),
        oauth,
    })
}

/// [`AuthHook`] calling the project's JavaScript `auth(req, { body })`, as sunpeak: a truthy
/// value authenticates (it becomes `extra.authInfo`); a falsy one answers 401, an
/// `AuthorizationFailure` 400 (`invalid_request`), 403 (`insufficient_scope`), its `status` or
/// 401, always with the body `Unauthorized` and the bearer challenge (`Bearer`, or with OAuth
/// `resource_metadata`, `scope`, `error`, `error_description`); a throw answers 500.
#[derive(Clone)]
pub struct JsAuth {
    app: Arc<McpApp>,
    oauth: Option<Arc<OAuth>>,
}

impl JsAuth {
    /// The answer to a rejection: status and challenge.
    fn denial(&self, req: &AuthRequest, failure: Option<&Value>) -> Result<AuthDenial, OAuthError> {
        let failure = failure.map(AuthFailure::from_value).transpose()?;
        let status = StatusCode::from_u16(AuthFailure::status(failure.as_ref()))
            .unwrap_or(StatusCode::UNAUTHORIZED);
        let challenge = match &self.oauth {
            None => HeaderValue::from_static("Bearer"),
            Some(oauth) => {
                let host = request_host(req);
                let url = oauth.public_url(host.as_deref())?;
                latin1_header(&oauth.challenge(&url, failure.as_ref())?)?
            }
        };
        Ok(AuthDenial {
            status,
            challenge: Some(challenge),
        })
    }
}

impl AuthHook for JsAuth {
    fn authenticate(
        &self,
        req: AuthRequest,
    ) -> mcp_transport::BoxFuture<Result<Option<AuthInfo>, BoxError>> {
        let decided = self.decide(req);
        Box::pin(async move {
            Ok(match decided.await? {
                AuthDecision::Allow(info) => Some(info),
                AuthDecision::Deny(_) => None,
            })
        })
    }

    /// sunpeak hands `auth()` the parsed body of a POST.
    fn wants_body(&self) -> bool {
        true
    }

    fn decide(&self, req: AuthRequest) -> mcp_transport::BoxFuture<Result<AuthDecision, BoxError>> {
        let hook = self.clone();
        Box::pin(async move {
            let request = node::AuthRequest {
                method: req.method.as_str().to_string(),
                url: req
                    .uri
                    .path_and_query()
                    .map_or_else(|| req.uri.path().to_string(), |pq| pq.as_str().to_string()),
                headers: joined_headers(&req.headers),
                body: req.body.clone(),
            };
            match hook.app.authorize(request).await {
                Ok(AuthAnswer::Authorized(info)) => Ok(AuthDecision::Allow(AuthInfo::new(info))),
                Ok(AuthAnswer::Rejected(failure)) => hook
                    .denial(&req, failure.as_ref())
                    .map(AuthDecision::Deny)
                    .map_err(|e| Box::new(e) as BoxError),
                Err(err) => Err(Box::new(err) as BoxError),
            }
        })
    }
}

/// The request's `Host` (or the authority of an HTTP/2 request).
fn request_host(req: &AuthRequest) -> Option<String> {
    req.headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri.authority().map(|a| a.to_string()))
}

/// A header value as Node writes a string: one byte per character up to U+00FF; anything
/// above is refused (Node throws `Invalid character in header content`).
fn latin1_header(value: &str) -> Result<HeaderValue, OAuthError> {
    let bytes: Option<Vec<u8>> = value
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect();
    bytes
        .and_then(|b| HeaderValue::from_bytes(&b).ok())
        .ok_or_else(|| {
            OAuthError::new(format!(
                "Invalid character in header content [\"WWW-Authenticate\"]: {value}"
            ))
        })
}

fn rpc_error(code: i64, message: String, data: Option<Value>) -> McpError {
    let code = i32::try_from(code).unwrap_or(ErrorCode::INTERNAL_ERROR.0);
    let error = McpError::new(ErrorCode(code), message);
    match data {
        Some(data) => error.with_data(data),
        None => error,
    }
}

/// What the JavaScript handler sees as `extra`, from the engine's request context.
fn tool_call_context(ctx: &RequestContext) -> ToolCallContext {
    let host = ctx
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| ctx.uri().authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_string());
    let path = ctx
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_string();
    ToolCallContext {
        auth_info: ctx.auth().map(|a| a.value().clone()),
        session_id: ctx.session_id().map(str::to_string),
        request_id: serde_json::to_value(ctx.request_id()).unwrap_or(Value::Null),
        meta: ctx.meta().and_then(|m| serde_json::to_value(m).ok()),
        headers: ctx.shared_headers(),
        url: Some(format!("http://{host}{path}")),
        cancel: ctx.cancellation_token().clone(),
        peer: Arc::new(Peer(ctx.clone())),
    }
}

/// Headers as Node shows them: lower-case names, repeated values joined with `", "`.
fn joined_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .keys()
        .map(|name| {
            let values: Vec<String> = headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            (name.as_str().to_string(), values.join(", "))
        })
        .collect()
}

/// `extra.sendNotification` / `extra.sendRequest` of a handler, on its request's stream.
struct Peer(RequestContext);

impl ClientPeer for Peer {
    fn notify(&self, method: &str, params: Value) {
        let params = (!params.is_null()).then_some(params);
        // A client that went away gets nothing; the handler goes on.
        let _ = self.0.send_notification(method, params);
    }

    fn request(&self, method: &str, params: Value) -> BoxFuture<'static, Result<Value, Value>> {
        let ctx = self.0.clone();
        let method = method.to_string();
        Box::pin(async move {
            let params = (!params.is_null()).then_some(params);
            // No time limit here: the worker applies the handler's own (`options.timeout`,
            // 60 s by default) and withdraws the request with `cancelRequest`.
            ctx.send_request_with_timeout(&method, params, None)
                .await
                .map_err(|err| match err {
                    mcp_transport::ClientRequestError::Rpc(e) => {
                        serde_json::to_value(e).unwrap_or(Value::Null)
                    }
                    other => {
                        json!({"code": ErrorCode::INTERNAL_ERROR.0, "message": other.to_string()})
                    }
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_headers_are_joined() {
        let mut h = http::HeaderMap::new();
        h.append("x-a", "1".parse().unwrap());
        h.append("x-a", "2".parse().unwrap());
        h.insert("user-agent", "t".parse().unwrap());
        let joined = joined_headers(&h);
        assert!(joined.contains(&("x-a".to_string(), "1, 2".to_string())));
        assert!(joined.contains(&("user-agent".to_string(), "t".to_string())));
    }

    #[test]
    fn error_codes_map() {
        let e = rpc_error(-32602, "bad".into(), Some(json!({"x": 1})));
        assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
        assert_eq!(e.data, Some(json!({"x": 1})));
        assert_eq!(
            rpc_error(i64::MAX, "x".into(), None).code,
            ErrorCode::INTERNAL_ERROR
        );
    }
}
