//! Building replies: JSON bodies (with gzip, spliced for static payloads) and SSE bodies.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, HeaderName, HeaderValue, VARY};
use http::{Response, StatusCode};

use crate::engine::Engine;
use crate::gzip::{MIN_GZIP_BYTES, Part, gzip};
use crate::http::body::McpBody;
use crate::http::errors::{self, JSON};
use crate::http::headers::SESSION_ID;
use crate::reply::Finished;
use crate::sse::body::{SseBody, StreamGuard};
use crate::sse::table::Attached;
use crate::wire;

/// Adds `mcp-session-id` to a response.
pub(crate) fn with_session(mut r: Response<McpBody>, session: Option<&str>) -> Response<McpBody> {
    if let Some(id) = session
        && let Ok(v) = HeaderValue::from_str(id)
    {
        r.headers_mut()
            .insert(HeaderName::from_static(SESSION_ID), v);
    }
    r
}

/// A JSON reply: one object, an array for a batch, or 202 when nothing is answered.
pub(crate) fn json(done: Vec<Finished>, batch: bool, gzip_ok: bool) -> Response<McpBody> {
    if done.is_empty() {
        return errors::status(StatusCode::ACCEPTED);
    }
    let (body, gzipped) = if !batch && done.len() == 1 {
        let f = &done[0];
        match &f.result {
            Ok(p) if gzip_ok && p.known_len().is_some_and(|n| n >= MIN_GZIP_BYTES) => {
                match p.precompressed() {
                    Some((before, middle, after)) => {
                        let mut head = Vec::with_capacity(48 + before.len());
                        wire::result_prefix(&mut head, &f.id);
                        head.extend_from_slice(before);
                        let mut tail = Vec::with_capacity(after.len() + 1);
                        tail.extend_from_slice(after);
                        tail.push(b'}');
                        (
                            gzip(&[
                                Part::Plain(&head),
                                Part::Pre(middle.deflated()),
                                Part::Plain(&tail),
                            ]),
                            true,
                        )
                    }
                    None => plain(f),
                }
            }
            _ => plain(f),
        }
    } else {
        let mut out = Vec::with_capacity(done.len() * 64);
        out.push(b'[');
        for (i, f) in done.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            wire::response(&mut out, &f.id, &f.result);
        }
        out.push(b']');
        (out, false)
    };
    let (body, gzipped) = if !gzipped && gzip_ok && body.len() >= MIN_GZIP_BYTES {
        (gzip(&[Part::Plain(&body)]), true)
    } else {
        (body, gzipped)
    };
    let mut r = Response::new(McpBody::full(Bytes::from(body)));
    r.headers_mut().insert(CONTENT_TYPE, JSON);
    if gzipped {
        r.headers_mut()
            .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r.headers_mut()
            .insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    r
}

fn plain(f: &Finished) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(
        f.result
            .as_ref()
            .ok()
            .and_then(|p| p.known_len())
            .unwrap_or(128)
            + 48,
    );
    wire::response(&mut out, &f.id, &f.result);
    (out, false)
}

/// SSE response headers.
pub(crate) fn sse_response(body: SseBody) -> Response<McpBody> {
    let mut r = Response::new(McpBody::sse(body));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    h.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    r
}

/// An SSE reply from an attached connection.
pub(crate) fn sse(
    engine: &Arc<Engine>,
    attached: Option<Attached>,
    queued: Vec<Bytes>,
    guard: StreamGuard,
) -> Response<McpBody> {
    let rx = attached.map(|a| a.rx);
    sse_response(SseBody::new(
        queued,
        rx,
        engine.config.sse_keep_alive,
        guard,
    ))
}
