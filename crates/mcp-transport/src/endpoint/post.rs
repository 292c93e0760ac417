//! POST: JSON-RPC messages from the client. Reads (Accept, Content-Type, body within the
//! limits, JSON), resolves (session, protocol version, batch rules), dispatches the messages,
//! and responds; any refusal is one [`Rejection`].

use std::sync::Arc;

use http::{Response, StatusCode};
use http_body::Body;
use mcp_proto::{
    ErrorCode, Incoming as Messages, InitializeRequestParams, McpError, Message, ParseError,
    ProtocolVersion, Request, methods, parse_body,
};

use super::big_initialize;
use super::rejection::Rejection;
use super::requests::{self, Dispatch};
use super::respond::{self, with_session};
use super::{Incoming, header_version};
use crate::auth::BoxError;
use crate::config::ResponseMode;
use crate::context::HttpInfo;
use crate::engine::Engine;
use crate::http::body::McpBody;
use crate::http::limit::{ReadError, read_limited};
use crate::http::trim::TrimAfter;
use crate::http::{errors, headers};
use crate::logging;
use crate::metrics::Operation;
use crate::modern::{Era, era_of};
use crate::reply::Finished;
use crate::session::client::{ClientInfo, Trimmed};
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
    let sid = headers::get(&req.headers, headers::SESSION_ID).map(str::to_owned);
    match post(engine, req, body, sid.as_deref()).await {
        Ok(resp) => resp,
        Err(rejection) => rejection.into_response(sid.as_deref()),
    }
}

async fn post<B>(
    engine: &Arc<Engine>,
    req: Incoming,
    body: B,
    sid: Option<&str>,
) -> Result<Response<McpBody>, Rejection>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let cfg = &engine.config;
    // Declared first so that it is dropped last, when the body and its JSON tree are gone:
    // then a big body's memory is handed back.
    let mut trim = TrimAfter::new(0);
    let (bytes, messages, client) = read(engine, &req, body).await?;
    trim.body_len(bytes.len());
    log_incoming(engine, &req, &messages, sid);

    let first_params = match &messages {
        Messages::Single(Message::Request(r)) => r.params.as_ref(),
        _ => None,
    };
    let modern = era_of(&req.headers, sid.is_some(), first_params) == Era::Modern;
    let is_init = !modern
        && messages
            .messages()
            .iter()
            .any(|m| matches!(m, Message::Request(r) if r.method == methods::INITIALIZE));
    if is_init && messages.is_batch() {
        return Err(Rejection::InitializeInBatch);
    }
    let auth = super::authenticate_post(engine, &req, &bytes)
        .await
        .map_err(|r| Rejection::Auth(Box::new(r)))?;
    let http = Arc::new(HttpInfo {
        headers: req.headers,
        uri: req.uri,
        auth,
    });
    if modern {
        return super::modern::post(engine, http, messages).await;
    }

    if cfg.stateless {
        if is_init {
            return initialize(engine, http, messages, client, false).await;
        }
        let version =
            header_version(&http.headers)?.unwrap_or(ProtocolVersion::ASSUMED_WITHOUT_HEADER);
        check_batch(&messages, version)?;
        return Ok(requests::run(Dispatch {
            engine: Arc::clone(engine),
            session: None,
            version,
            http,
            batch: messages.is_batch(),
            messages: messages.into_messages(),
            modern: None,
        })
        .await);
    }

    let Some(sid) = sid else {
        if is_init {
            return initialize(engine, http, messages, client, true).await;
        }
        return Err(Rejection::MissingSession);
    };
    let session = engine.sessions.find(sid, http.auth.as_ref()).await?;
    if is_init {
        return Err(Rejection::AlreadyInitialized);
    }
    let header = header_version(&http.headers)?;
    check_batch(&messages, header.unwrap_or(session.version))?;
    let version = session.version;
    let id = Arc::clone(&session.id);
    let resp = requests::run(Dispatch {
        engine: Arc::clone(engine),
        session: Some(session),
        version,
        http,
        batch: messages.is_batch(),
        messages: messages.into_messages(),
        modern: None,
    })
    .await;
    Ok(with_session(resp, Some(&id)))
}

/// What a large `initialize` leaves of its client info, read from the raw JSON.
type BoundedClient = Option<(ClientInfo, Option<Trimmed>)>;

/// Checks `Accept` and `Content-Type`, reads the body within the limits and parses it (the
/// bytes are kept for an auth hook that wants them). A large `initialize` is read without the
/// tree of its params (see [`big_initialize`]).
async fn read<B>(
    engine: &Engine,
    req: &Incoming,
    body: B,
) -> Result<(bytes::Bytes, Messages, BoundedClient), Rejection>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    if !headers::accepts(&req.headers, "application/json")
        || !headers::accepts(&req.headers, "text/event-stream")
    {
        return Err(Rejection::NotAcceptablePost);
    }
    if !headers::is_json_content(&req.headers) {
        return Err(Rejection::UnsupportedMediaType);
    }
    let limit = engine.config.max_body_bytes;
    let bytes = read_limited(body, limit, headers::content_length(&req.headers))
        .await
        .map_err(|e| match e {
            ReadError::TooLarge => Rejection::BodyTooLarge,
            ReadError::Stalled => Rejection::BodyStalled,
            ReadError::Io(e) => Rejection::BodyUnreadable(e.to_string()),
        })?;
    if bytes.len() >= big_initialize::ABOVE
        && let Some(big) = big_initialize::read(&bytes)
    {
        return Ok((bytes, big.messages, Some(big.client)));
    }
    let messages = parse_body(&bytes).map_err(|e| Rejection::BadJson {
        error: e.to_error(),
        log: matches!(e, ParseError::Invalid(_)),
    })?;
    Ok((bytes, messages, None))
}

/// sunpeak's `← <method>` line for a single message (and the headers, when asked).
fn log_incoming(engine: &Engine, req: &Incoming, messages: &Messages, sid: Option<&str>) {
    let Messages::Single(m) = messages else {
        return;
    };
    let Some(method) = m.method() else { return };
    let uri = match m {
        Message::Request(r) if method == methods::RESOURCES_READ => r
            .params
            .as_ref()
            .and_then(|p| p.get("uri"))
            .and_then(|u| u.as_str()),
        _ => None,
    };
    logging::incoming(method, uri, sid);
    if engine.config.log_headers {
        logging::headers(&req.headers);
    }
}

/// The batch cap, and batches only at versions that allow them.
fn check_batch(messages: &Messages, version: ProtocolVersion) -> Result<(), Rejection> {
    if messages.messages().len() > MAX_BATCH {
        return Err(Rejection::BatchTooLarge(MAX_BATCH));
    }
    if messages.is_batch() && !version.allows_batching() {
        return Err(Rejection::BatchNotSupported(version));
    }
    Ok(())
}

/// `initialize`: negotiates the version, creates the session (stateful) and answers with the
/// server's prepared result.
async fn initialize(
    engine: &Arc<Engine>,
    http: Arc<HttpInfo>,
    messages: Messages,
    client: BoundedClient,
    stateful: bool,
) -> Result<Response<McpBody>, Rejection> {
    let Some(Message::Request(Request { id, params, .. })) =
        messages.into_messages().into_iter().next()
    else {
        return Ok(errors::status(StatusCode::BAD_REQUEST));
    };
    let op = Operation::start(methods::INITIALIZE, None, &engine.server.tool_labels);
    let gzip_ok = engine.config.gzip && headers::accepts_gzip(&http.headers);
    let params: InitializeRequestParams = match mcp_proto::parse_params(methods::INITIALIZE, params)
    {
        Ok(p) => p,
        Err(e) => {
            let done = vec![Finished { id, result: Err(e) }];
            op.finish(Some(&done[0].result));
            return Ok(respond::json(done, false, gzip_ok));
        }
    };
    let version = ProtocolVersion::negotiate(&params.protocol_version);
    let payload = engine
        .server
        .init_results
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, j)| j.clone());
    let Some(payload) = payload else {
        let e = McpError::new(ErrorCode::INTERNAL_ERROR, "no initialize result");
        let done = vec![Finished { id, result: Err(e) }];
        op.finish(Some(&done[0].result));
        return Ok(respond::json(done, false, gzip_ok));
    };
    let session_id = if stateful {
        if engine.closing.is_cancelled() {
            return Err(Rejection::ShuttingDown);
        }
        let client =
            client.unwrap_or_else(|| ClientInfo::bounded(params.client_info, params.capabilities));
        let session = engine
            .sessions
            .create(version, client, http.auth.as_ref())
            .await?;
        Some(Arc::clone(&session.id))
    } else {
        None
    };
    let finished = Finished {
        id,
        result: Ok(payload.into()),
    };
    op.finish(Some(&finished.result));
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
    Ok(with_session(resp, session_id.as_deref()))
}
