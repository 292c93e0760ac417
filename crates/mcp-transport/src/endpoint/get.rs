//! GET: the standalone stream for server-initiated messages, or the resumption of any stream
//! with `Last-Event-ID`.

use std::sync::Arc;

use http::Response;

use super::rejection::Rejection;
use super::respond::{sse_response, with_session};
use super::{Incoming, header_version};
use crate::engine::Engine;
use crate::http::body::McpBody;
use crate::http::headers;
use crate::pending::lock;
use crate::sse::body::{SseBody, StreamGuard};
use crate::sse::encode::parse_event_id;

pub(super) async fn handle(engine: &Arc<Engine>, req: Incoming) -> Response<McpBody> {
    let sid = headers::get(&req.headers, headers::SESSION_ID);
    match get(engine, &req, sid).await {
        Ok(resp) => resp,
        Err(rejection) => rejection.into_response(sid),
    }
}

async fn get(
    engine: &Arc<Engine>,
    req: &Incoming,
    sid: Option<&str>,
) -> Result<Response<McpBody>, Rejection> {
    if !headers::accepts(&req.headers, "text/event-stream") {
        return Err(Rejection::NotAcceptableGet);
    }
    let sid = sid.ok_or(Rejection::MissingSession)?;
    let session = engine.sessions.find(sid, req.auth.as_ref()).await?;
    header_version(&req.headers)?;
    if engine.closing.is_cancelled() {
        return Err(Rejection::ShuttingDown);
    }
    let cfg = &engine.config;
    let resume = headers::get(&req.headers, headers::LAST_EVENT_ID).and_then(parse_event_id);
    if let Some(id) = resume
        && let Some(followed) = engine.sessions.resume_shared(&session, id).await?
    {
        // A stream another instance holds (or held): from the shared history.
        let guard = StreamGuard {
            detach: None,
            cancel: None,
            busy: Some(session.busy_guard(engine.sessions.clock())),
        };
        let body = SseBody::new(followed.replay, followed.live, cfg.sse_keep_alive, guard)
            .stop_on(engine.closing.clone());
        return Ok(with_session(sse_response(body), Some(&session.id)));
    }
    let (replay, attached, stream, standalone) = {
        let mut t = lock(&session.streams);
        t.set_limits(cfg.sse_limits());
        match resume {
            Some(id) => {
                if id.stream == 0 && id.origin.is_none() {
                    t.standalone();
                }
                let r = t.resume(id.stream, id.seq);
                (r.replay, r.live, id.stream, t.is_standalone(id.stream))
            }
            None => {
                let stream = t.standalone();
                let attached = t.attach(stream);
                if session.version.sends_priming_event() {
                    t.prime(
                        stream,
                        u64::try_from(cfg.sse_retry.as_millis()).unwrap_or(1000),
                    );
                }
                (Vec::new(), attached, stream, true)
            }
        }
    };
    let guard = StreamGuard {
        detach: attached
            .as_ref()
            .map(|a| (Arc::clone(&session), stream, a.generation)),
        cancel: None,
        busy: Some(session.busy_guard(engine.sessions.clock())),
    };
    let mut body = SseBody::new(replay, attached.map(|a| a.rx), cfg.sse_keep_alive, guard);
    if standalone {
        body = body.stop_on(engine.closing.clone());
    }
    Ok(with_session(sse_response(body), Some(&session.id)))
}
