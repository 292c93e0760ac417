//! POST in the modern era (2026-07-28): one request per POST, no session. Resolves the
//! request's `_meta` and headers, answers `server/discover` and `subscriptions/listen` here,
//! and runs everything else through the same dispatch as the legacy era, with the
//! per-request `_meta` and the answers of an `input_required` round trip in its context.

use std::sync::Arc;

use http::{Response, StatusCode};
use mcp_proto::{
    DiscoverResult, ErrorCode, Incoming as Messages, McpError, Message, ProtocolVersion, Request,
    RequestId, RequestMeta, ResultType, SubscriptionsListenRequestParams, methods, modern::keys,
};

use super::rejection::Rejection;
use super::requests::{self, Dispatch};
use super::respond;
use crate::context::HttpInfo;
use crate::engine::Engine;
use crate::http::body::McpBody;
use crate::http::errors;
use crate::modern::{self, Modern, headers as mirrored, listen};
use crate::reply::Finished;
use crate::sse::body::{SseBody, StreamGuard};
use crate::sse::table::ConnRx;

/// Serves a modern POST whose body was read and whose auth was decided.
pub(super) async fn post(
    engine: &Arc<Engine>,
    http: Arc<HttpInfo>,
    messages: Messages,
) -> Result<Response<McpBody>, Rejection> {
    let request = match messages {
        Messages::Batch(_) => return Err(Rejection::ModernBatch),
        Messages::Single(Message::Request(r)) => r,
        // No client notifications are defined on Streamable HTTP at 2026-07-28; accepting
        // one does no harm.
        Messages::Single(Message::Notification(_)) => {
            return Ok(errors::status(StatusCode::ACCEPTED));
        }
        Messages::Single(_) => return Err(Rejection::ModernResponse),
    };
    let id = request.id.clone();
    let refuse = |status: StatusCode, error: McpError| Rejection::Modern {
        id: id.clone(),
        status,
        error,
    };

    let meta = RequestMeta::from_params(request.params.as_ref())
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, e.into()))?;
    mirrored::check(
        &http.headers,
        &meta.protocol_version,
        &request.method,
        request.params.as_ref(),
    )
    .map_err(|e| refuse(StatusCode::BAD_REQUEST, e))?;
    let version = ProtocolVersion::parse(&meta.protocol_version)
        .filter(|v| v.is_modern())
        .ok_or_else(|| {
            refuse(
                StatusCode::BAD_REQUEST,
                McpError::unsupported_protocol_version(&meta.protocol_version),
            )
        })?;

    match request.method.as_str() {
        methods::SERVER_DISCOVER => return Ok(discover(engine, &http, id)),
        methods::SUBSCRIPTIONS_LISTEN => return listen(engine, request),
        m if methods::REMOVED_IN_2026_07_28.contains(&m) || !engine.server.handles(m) => {
            return Err(refuse(StatusCode::NOT_FOUND, McpError::method_not_found()));
        }
        _ => {}
    }

    let user = crate::session::identity::user_text(http.auth.as_ref());
    let (answers, bind) = modern::answers_of(
        &engine.state_key,
        &request.method,
        request.params.as_ref(),
        &modern::state::user_digest(user.as_deref()),
    )
    .map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            McpError::invalid_params(format!("Invalid params: {e}")),
        )
    })?;
    let modern = Arc::new(Modern::new(meta, answers, bind));
    Ok(requests::run(Dispatch {
        engine: Arc::clone(engine),
        session: None,
        version,
        http,
        batch: false,
        messages: vec![Message::Request(request)],
        modern: Some(modern),
    })
    .await)
}

/// `server/discover`: versions of both eras, capabilities, instructions, cache hints and
/// the server's identity.
fn discover(engine: &Arc<Engine>, http: &HttpInfo, id: RequestId) -> Response<McpBody> {
    let server = &engine.server;
    let mut meta = serde_json::Map::new();
    meta.insert(
        keys::SERVER_INFO.to_owned(),
        serde_json::to_value(server.info()).unwrap_or_default(),
    );
    let result = DiscoverResult {
        result_type: ResultType::Complete,
        supported_versions: ProtocolVersion::ALL
            .iter()
            .map(|v| v.as_str().to_owned())
            .collect(),
        capabilities: server.capabilities().clone(),
        instructions: server.instructions().map(str::to_owned),
        cache: engine.config.cache_hints,
        meta: Some(meta),
    };
    let gzip_ok = engine.config.gzip && crate::http::headers::accepts_gzip(&http.headers);
    let result = crate::payload::Payload::json(&result);
    respond::json(vec![Finished { id, result }], false, gzip_ok)
}

/// `subscriptions/listen`: an SSE stream that starts with the acknowledgement and then
/// carries the change notifications the client opted in to, until either side closes it.
fn listen(engine: &Arc<Engine>, request: Request) -> Result<Response<McpBody>, Rejection> {
    let id = request.id;
    let params: SubscriptionsListenRequestParams =
        mcp_proto::parse_params(methods::SUBSCRIPTIONS_LISTEN, request.params).map_err(|e| {
            Rejection::Modern {
                id: id.clone(),
                status: StatusCode::BAD_REQUEST,
                error: e,
            }
        })?;
    let caps = engine.server.capabilities();
    let list_changed = |c: Option<&mcp_proto::ListChangedCapability>| {
        c.is_some_and(|c| c.list_changed == Some(true))
    };
    let resources = caps.resources.as_ref();
    let filter = listen::honored(
        &params.notifications,
        list_changed(caps.tools.as_ref()),
        list_changed(caps.prompts.as_ref()),
        resources.is_some_and(|r| r.list_changed == Some(true)),
        resources.is_some_and(|r| r.subscribe == Some(true)),
    );
    if engine.closing.is_cancelled() {
        return Err(Rejection::ShuttingDown);
    }
    let rx = engine
        .sessions
        .open_listener(id.clone(), filter.clone())
        .map_err(|_| Rejection::Modern {
            id: id.clone(),
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: McpError::new(ErrorCode::INTERNAL_ERROR, "Too many subscriptions"),
        })?;
    let body = SseBody::new(
        vec![listen::acknowledged_frame(&id, &filter)],
        Some(ConnRx::from_channel(rx)),
        engine.config.sse_keep_alive,
        StreamGuard::default(),
    );
    Ok(respond::sse_response(body))
}
