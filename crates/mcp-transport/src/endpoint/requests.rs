//! Running the messages of one POST: notifications and client responses are handled on the
//! spot; requests go to their handlers, whose answers make a JSON body or an SSE stream.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures_util::{FutureExt, StreamExt};
use http::{Response, StatusCode};
use mcp_proto::{
    CancelledNotificationParams, ErrorCode, McpError, Message, ProtocolVersion, RequestId, methods,
};
use tokio_util::sync::CancellationToken;

use super::respond;
use crate::context::{HttpInfo, Inner, NotificationContext, RequestContext};
use crate::engine::{Engine, InFlight};
use crate::handler::{HandlerResult, Params};
use crate::http::body::McpBody;
use crate::http::errors;
use crate::http::headers;
use crate::metrics::Operation;
use crate::modern::Modern;
use crate::payload::Payload;
use crate::reply::{Hub, Outcome, Reply, StreamOptions};
use crate::session::state::Session;
use crate::sse::body::StreamGuard;
use crate::sse::table::StreamTable;

/// How many requests of one batch run at once. A batch may hold 1,000 requests (protocol
/// 2025-03-26); run all at once they would start 1,000 tool calls and hold 1,000 results.
/// The rest wait their turn, so one POST costs at most this many handlers' work and memory.
pub(crate) const BATCH_CONCURRENCY: usize = 16;

/// The messages of one POST, with where they came from.
pub(super) struct Dispatch {
    pub(super) engine: Arc<Engine>,
    pub(super) session: Option<Arc<Session>>,
    pub(super) version: ProtocolVersion,
    pub(super) http: Arc<HttpInfo>,
    pub(super) batch: bool,
    pub(super) messages: Vec<Message>,
    /// A modern (2026-07-28) request's `_meta` and round-trip answers.
    pub(super) modern: Option<Arc<Modern>>,
}

/// Cancels a token when dropped, unless disarmed.
struct CancelOnDrop(Option<CancellationToken>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            t.cancel();
        }
    }
}

/// Untracks a request from its session when it ends.
struct Untrack(Option<Arc<Session>>, RequestId);

impl Drop for Untrack {
    fn drop(&mut self) {
        if let Some(s) = &self.0 {
            s.untrack(&self.1);
        }
    }
}

pub(super) async fn run(d: Dispatch) -> Response<McpBody> {
    let Dispatch {
        engine,
        session,
        version,
        http,
        batch,
        messages,
        modern,
    } = d;
    let mut requests = Vec::new();
    for m in messages {
        match m {
            Message::Request(r) => requests.push(r),
            Message::Notification(n) => {
                notification(&engine, session.as_ref(), &http, &n.method, n.params)
            }
            Message::Result(r) => answer(&engine, session.as_ref(), r.id, Ok(r.result)).await,
            Message::Error(e) => {
                if let Some(id) = e.id {
                    answer(&engine, session.as_ref(), id, Err(e.error)).await;
                }
            }
        }
    }
    if requests.is_empty() {
        return errors::status(StatusCode::ACCEPTED);
    }

    let cfg = &engine.config;
    let resumable = session.is_some() && cfg.sse_history > 0;
    let hub = match &session {
        Some(s) => Hub::Session(Arc::clone(s)),
        None => Hub::Local(Mutex::new(StreamTable::new(0))),
    };
    let priming_retry = (resumable && version.sends_priming_event())
        .then(|| u64::try_from(cfg.sse_retry.as_millis()).unwrap_or(1000));
    let reply = Reply::new(
        hub,
        StreamOptions {
            resumable,
            priming_retry,
            limits: cfg.sse_limits(),
            max_reply_bytes: cfg.max_reply_bytes,
        },
        requests.len(),
        // A modern reply stays JSON until the handler streams: its errors have HTTP statuses
        // (400 for -32021, 404 for -32601) that an SSE reply, already 200, could not carry.
        cfg.response_mode == crate::config::ResponseMode::Sse && modern.is_none(),
    );
    let parent = session.as_ref().map_or(&engine.root, |s| &s.token);
    let reply_token = parent.child_token();
    let single = requests.len() == 1;
    let mut work = Vec::with_capacity(requests.len());
    for r in requests {
        let token = if single {
            reply_token.clone()
        } else {
            reply_token.child_token()
        };
        if let Some(s) = &session {
            s.track(r.id.clone(), token.clone());
        }
        let meta = r
            .params
            .as_ref()
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.as_object())
            .cloned();
        let ctx = RequestContext(Arc::new(Inner {
            request_id: r.id.clone(),
            meta,
            http: Arc::clone(&http),
            session: session.clone(),
            version,
            token: token.clone(),
            reply: Arc::clone(&reply),
            engine: Arc::clone(&engine),
            modern: modern.clone(),
        }));
        let op = Operation::start(&r.method, r.params.as_ref(), &engine.server.tool_labels);
        let engine = Arc::clone(&engine);
        let reply = Arc::clone(&reply);
        let untrack = Untrack(session.clone(), r.id.clone());
        let id = r.id;
        let (method, params) = (r.method, r.params);
        let modern = modern.clone();
        work.push(async move {
            let _untrack = untrack;
            // Dispatched when its turn comes: a handler may do work when called.
            let fut = engine.server.dispatch(ctx, &method, Params(params));
            let mut fut = AssertUnwindSafe(fut).catch_unwind();
            let mut asked = false;
            let out = tokio::select! {
                biased;
                () = token.cancelled() => None,
                r = &mut fut => Some(r.unwrap_or_else(|_| {
                    tracing::error!(target: crate::logging::TARGET, "handler panicked");
                    Err(McpError::internal("Internal error"))
                })),
                () = needs_input(modern.as_deref()) => {
                    let m = modern.as_deref();
                    asked = true;
                    Some(Ok(input_required(&mut fut, m, &engine).await))
                }
            };
            let out = match (&modern, out) {
                (Some(_), Some(r)) if !asked => Some(modern_result(&engine, &method, r)),
                (_, out) => out,
            };
            op.finish(out.as_ref());
            reply.finish(id, out);
        });
    }

    let in_flight = InFlight::new(&engine);
    let busy = session
        .as_ref()
        .map(|s| s.busy_guard(engine.sessions.clock()));
    let mut cancel = CancelOnDrop(Some(reply_token.clone()));
    // One request (the common case) runs as it is; a batch through the bounded runner.
    let mut all: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> =
        if work.len() == 1 {
            match work.pop() {
                Some(one) => Box::pin(one),
                None => Box::pin(async {}),
            }
        } else {
            Box::pin(
                futures_util::stream::iter(work)
                    .buffer_unordered(BATCH_CONCURRENCY)
                    .for_each(|()| async {}),
            )
        };
    let upgraded = tokio::select! {
        biased;
        _ = &mut all => false,
        () = reply.upgraded() => true,
    };
    if upgraded {
        tokio::spawn(async move {
            all.await;
            drop(busy);
            drop(in_flight);
        });
    }
    cancel.0 = None;
    let gzip_ok = cfg.gzip && headers::accepts_gzip(&http.headers);
    match reply.take_outcome() {
        Outcome::Json(done) if modern.is_some() => {
            let status = done
                .first()
                .and_then(|f| f.result.as_ref().err())
                .map_or(StatusCode::OK, |e| modern_status(e.code));
            let mut r = respond::json_off_thread(done, batch, gzip_ok).await;
            *r.status_mut() = status;
            r
        }
        Outcome::Json(done) => respond::json_off_thread(done, batch, gzip_ok).await,
        Outcome::Stream { stream, attached } => {
            let guard = StreamGuard {
                detach: match (&session, &attached) {
                    (Some(s), Some(a)) => Some((Arc::clone(s), stream, a.generation)),
                    _ => None,
                },
                cancel: (!resumable).then_some(reply_token),
                busy: None,
            };
            respond::sse(&engine, attached, Vec::new(), guard)
        }
    }
}

/// Resolves when a modern request's handler asked the client for something it has not
/// answered yet (never for a legacy request).
async fn needs_input(modern: Option<&Modern>) {
    match modern {
        Some(m) => m.need_input.notified().await,
        None => std::future::pending().await,
    }
}

/// The `input_required` result of a round: the handler gets a few more turns to ask for
/// everything it wants at once (requests made side by side), then is dropped; its next
/// round replays the answers.
async fn input_required<F: std::future::Future + Unpin>(
    fut: &mut F,
    modern: Option<&Modern>,
    engine: &Engine,
) -> Payload {
    for _ in 0..8 {
        tokio::select! {
            biased;
            _ = &mut *fut => break,
            () = tokio::task::yield_now() => {}
        }
    }
    match modern {
        Some(m) => Payload::value(m.input_required(&engine.state_key)),
        None => Payload::empty_object(),
    }
}

/// A modern result: `resultType` and cache hints added; the legacy resource-not-found code
/// becomes the modern one.
fn modern_result(engine: &Engine, method: &str, r: HandlerResult) -> HandlerResult {
    match r {
        Ok(p) => Ok(crate::modern::result::complete(
            method,
            p,
            engine.config.cache_hints_for(method),
        )),
        Err(mut e) => {
            if e.code == ErrorCode::RESOURCE_NOT_FOUND {
                e.code = ErrorCode::INVALID_PARAMS;
            }
            Err(e)
        }
    }
}

/// The HTTP status of a modern JSON reply that is an error.
fn modern_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        ErrorCode::HEADER_MISMATCH
        | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
        | ErrorCode::UNSUPPORTED_PROTOCOL_VERSION => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// The client's answer to a server→client request: to the request waiting here, else (a
/// shared store) to the instance that sent it.
async fn answer(
    engine: &Arc<Engine>,
    session: Option<&Arc<Session>>,
    id: RequestId,
    answer: crate::pending::ClientAnswer,
) {
    let pending = pending_of(engine, session);
    if pending.is_waiting(&id) {
        pending.complete(&id, answer);
    } else if let Some(s) = session {
        engine.sessions.relay_answer(&s.id, id, answer).await;
    }
}

fn pending_of<'a>(
    engine: &'a Arc<Engine>,
    session: Option<&'a Arc<Session>>,
) -> &'a crate::pending::PendingRequests {
    match session {
        Some(s) => &s.pending,
        None => &engine.stateless_pending,
    }
}

fn notification(
    engine: &Arc<Engine>,
    session: Option<&Arc<Session>>,
    http: &Arc<HttpInfo>,
    method: &str,
    params: Option<serde_json::Value>,
) {
    if method == methods::NOTIFICATION_CANCELLED
        && let (Some(s), Some(p)) = (session, params.clone())
        && let Ok(CancelledNotificationParams {
            request_id: Some(id),
            ..
        }) = serde_json::from_value(p)
    {
        s.cancel_request(&id);
    }
    if let Some(h) = engine.server.notifications.get(method) {
        let ctx = NotificationContext {
            session: session.cloned(),
            http: Arc::clone(http),
        };
        let fut = h.call(ctx, Params(params));
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(AssertUnwindSafe(fut).catch_unwind());
        }
    }
}
