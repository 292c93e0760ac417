//! POST: JSON-RPC messages from the client. Validates Accept, Content-Type, body size and
//! JSON, then the session and protocol version, then hands the messages on.

use std::sync::Arc;

use http::{Response, StatusCode};
use http_body::Body;
use mcp_proto::{
    ErrorCode, Incoming as Messages, InitializeRequestParams, McpError, Message, ParseError,
    ProtocolVersion, Request, methods, parse_body,
};

use super::requests::{self, Dispatch};
use super::respond::{self, with_session};
use super::{Incoming, find_session, header_version};
use crate::auth::BoxError;
use crate::config::ResponseMode;
use crate::context::HttpInfo;
use crate::engine::Engine;
use crate::http::body::McpBody;
use crate::http::limit::{ReadError, read_limited};
use crate::http::{errors, headers};
use crate::logging;
use crate::reply::Finished;
use crate::session::id::{new_session_id, short};
use crate::session::state::{ClientInfo, Session};
use crate::sse::body::{SseBody, StreamGuard};
use crate::sse::encode;

/// The most messages one batch may hold (each request costs a future and a token).
const MAX_BATCH: usize = 1000;

pub(super) async fn handle<B>(engine: &Arc<Engine>, req: Incoming, body: B) -> Response<McpBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let cfg = &engine.config;
    let sid = headers::get(&req.headers, headers::SESSION_ID).map(str::to_owned);
    let sid = sid.as_deref();
    if !headers::accepts(&req.headers, "application/json")
        || !headers::accepts(&req.headers, "text/event-stream")
    {
        logging::transport_error(
            sid,
            "Not Acceptable: Client must accept both application/json and text/event-stream",
        );
        return errors::not_acceptable_post();
    }
    if !headers::is_json_content(&req.headers) {
        logging::transport_error(
            sid,
            "Unsupported Media Type: Content-Type must be application/json",
        );
        return errors::unsupported_media_type();
    }
    let bytes = match read_limited(
        body,
        cfg.max_body_bytes,
        headers::content_length(&req.headers),
    )
    .await
    {
        Ok(b) => b,
        Err(ReadError::TooLarge) => return errors::payload_too_large(),
        Err(ReadError::Stalled) => {
            logging::transport_error(sid, "Request Timeout: the request body stopped arriving");
            return errors::server_error(
                StatusCode::REQUEST_TIMEOUT,
                "Request Timeout: the request body stopped arriving",
            );
        }
        Err(ReadError::Io(e)) => {
            logging::transport_error(sid, &format!("could not read request body: {e}"));
            return errors::server_error(
                StatusCode::BAD_REQUEST,
                "Bad Request: could not read the request body",
            );
        }
    };
    let messages = match parse_body(&bytes) {
        Ok(m) => m,
        Err(e) => {
            let err = e.to_error();
            if matches!(e, ParseError::Invalid(_)) {
                logging::transport_error(sid, &err.message);
            }
            return errors::rpc_error(StatusCode::BAD_REQUEST, &err);
        }
    };
    if let Messages::Single(m) = &messages
        && let Some(method) = m.method()
    {
        let uri = match m {
            Message::Request(r) if method == methods::RESOURCES_READ => r
                .params
                .as_ref()
                .and_then(|p| p.get("uri"))
                .and_then(|u| u.as_str()),
            _ => None,
        };
        logging::incoming(method, uri, sid);
        if cfg.log_headers {
            logging::headers(&req.headers);
        }
    }

    let is_init = messages
        .messages()
        .iter()
        .any(|m| matches!(m, Message::Request(r) if r.method == methods::INITIALIZE));
    if is_init && messages.is_batch() {
        let e = McpError::invalid_request(
            "Invalid Request: Only one initialization request is allowed",
        );
        logging::transport_error(sid, &e.message);
        return errors::rpc_error(StatusCode::BAD_REQUEST, &e);
    }
    let auth = match super::authenticate_post(engine, &req, &bytes).await {
        Ok(auth) => auth,
        Err(r) => return r,
    };
    let http = Arc::new(HttpInfo {
        headers: req.headers,
        uri: req.uri,
        auth,
    });

    if cfg.stateless {
        if is_init {
            return initialize(engine, http, messages, false).await;
        }
        let version = match header_version(&http.headers, None) {
            Ok(v) => v.unwrap_or(ProtocolVersion::ASSUMED_WITHOUT_HEADER),
            Err(r) => return r,
        };
        if let Some(r) = reject_batch(&messages, version, None) {
            return r;
        }
        return requests::run(Dispatch {
            engine: Arc::clone(engine),
            session: None,
            version,
            http,
            batch: messages.is_batch(),
            messages: messages.into_messages(),
        })
        .await;
    }

    let Some(sid) = sid else {
        if is_init {
            return initialize(engine, http, messages, true).await;
        }
        let msg = "Bad Request: Mcp-Session-Id header is required";
        logging::transport_error(None, msg);
        return errors::missing_session();
    };
    let session = match find_session(engine, sid, http.auth.as_ref()) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if is_init {
        let e = McpError::invalid_request("Invalid Request: Server already initialized");
        logging::transport_error(Some(sid), &e.message);
        return with_session(errors::rpc_error(StatusCode::BAD_REQUEST, &e), Some(sid));
    }
    let header = match header_version(&http.headers, Some(sid)) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(r) = reject_batch(&messages, header.unwrap_or(session.version), Some(sid)) {
        return r;
    }
    let version = session.version;
    let id = Arc::clone(&session.id);
    let resp = requests::run(Dispatch {
        engine: Arc::clone(engine),
        session: Some(session),
        version,
        http,
        batch: messages.is_batch(),
        messages: messages.into_messages(),
    })
    .await;
    with_session(resp, Some(&id))
}

#[allow(clippy::result_large_err)]
fn reject_batch(
    messages: &Messages,
    version: ProtocolVersion,
    sid: Option<&str>,
) -> Option<Response<McpBody>> {
    if messages.messages().len() > MAX_BATCH {
        let e = McpError::invalid_request(format!(
            "Invalid Request: a batch may hold at most {MAX_BATCH} messages"
        ));
        logging::transport_error(sid, &e.message);
        return Some(errors::rpc_error(StatusCode::BAD_REQUEST, &e));
    }
    if messages.is_batch() && !version.allows_batching() {
        let e = McpError::invalid_request(format!(
            "Invalid Request: JSON-RPC batches are not supported at protocol version {version}"
        ));
        logging::transport_error(sid, &e.message);
        return Some(errors::rpc_error(StatusCode::BAD_REQUEST, &e));
    }
    None
}

/// `initialize`: negotiates the version, creates the session (stateful) and answers with the
/// server's prepared result.
async fn initialize(
    engine: &Arc<Engine>,
    http: Arc<HttpInfo>,
    messages: Messages,
    stateful: bool,
) -> Response<McpBody> {
    let Some(Message::Request(Request { id, params, .. })) =
        messages.into_messages().into_iter().next()
    else {
        return errors::status(StatusCode::BAD_REQUEST);
    };
    let gzip_ok = engine.config.gzip && headers::accepts_gzip(&http.headers);
    let params: InitializeRequestParams = match mcp_proto::parse_params(methods::INITIALIZE, params)
    {
        Ok(p) => p,
        Err(e) => return respond::json(vec![Finished { id, result: Err(e) }], false, gzip_ok),
    };
    let version = ProtocolVersion::negotiate(&params.protocol_version);
    let payload = engine
        .server
        .init_results
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, j)| j.clone());
    let Some(payload) = payload else {
        return respond::json(
            vec![Finished {
                id,
                result: Err(McpError::new(
                    ErrorCode::INTERNAL_ERROR,
                    "no initialize result",
                )),
            }],
            false,
            gzip_ok,
        );
    };
    let session_id = if stateful {
        if engine.closing.is_cancelled() {
            return errors::server_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable: server is shutting down",
            );
        }
        let sid: Arc<str> = Arc::from(new_session_id());
        let session = Arc::new(Session::new(
            Arc::clone(&sid),
            version,
            ClientInfo {
                info: params.client_info,
                capabilities: params.capabilities,
            },
            engine.root.child_token(),
            engine.config.sse_history,
            engine.store.now_ms(),
            engine.store.identity(http.auth.as_ref()),
        ));
        if let Some(evicted) = engine.store.insert(session) {
            tracing::info!(target: logging::TARGET, sessionId = &*evicted.id, "Session evicted: {}... (session cap reached)", short(&evicted.id));
            logging::session_closed(&evicted.id, engine.store.len().saturating_sub(1));
        }
        engine.ensure_sweeper();
        logging::session_started(&sid, engine.store.len());
        Some(sid)
    } else {
        None
    };
    let finished = Finished {
        id,
        result: Ok(payload.into()),
    };
    let resp = match engine.config.response_mode {
        ResponseMode::Json => respond::json(vec![finished], false, gzip_ok),
        ResponseMode::Sse => {
            let mut out = Vec::with_capacity(512);
            crate::wire::response(&mut out, &finished.id, &finished.result);
            let frame = encode::message(None, &out);
            respond::sse_response(SseBody::new(
                vec![frame],
                None,
                engine.config.sse_keep_alive,
                StreamGuard::default(),
            ))
        }
    };
    with_session(resp, session_id.as_deref())
}
