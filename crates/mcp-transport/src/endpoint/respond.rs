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

/// Replies that compress this many plain bytes or more are built on the blocking pool: gzip
/// runs at roughly 100 MB/s, so a big reply would stall every connection on its runtime thread.
pub(crate) const OFF_THREAD_GZIP_BYTES: usize = 128 * 1024;

/// [`json`], built on the blocking pool when it has a big body to compress (an 800 KB
/// resource read is not: its payload is compressed once, and a reply splices it in).
pub(crate) async fn json_off_thread(
    done: Vec<Finished>,
    batch: bool,
    gzip_ok: bool,
) -> Response<McpBody> {
    if !gzip_ok || plain_bytes_to_compress(&done, batch) < OFF_THREAD_GZIP_BYTES {
        return json(done, batch, gzip_ok);
    }
    match tokio::task::spawn_blocking(move || json(done, batch, gzip_ok)).await {
        Ok(r) => r,
        Err(_) => errors::server_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error: the reply could not be built",
        ),
    }
}

/// How many bytes [`json`] would compress itself (not counting pre-compressed payloads).
fn plain_bytes_to_compress(done: &[Finished], batch: bool) -> usize {
    let single = !batch && done.len() == 1;
    done.iter()
        .map(|f| match &f.result {
            Ok(p) if single && p.precompressed().is_some() => 0,
            // Values were serialized when they finished; an unknown length counts as big.
            Ok(p) => p.known_len().unwrap_or(usize::MAX),
            Err(e) => e.message.len() + 64,
        })
        .fold(0usize, usize::saturating_add)
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
        let len: usize = done
            .iter()
            .map(|f| {
                f.result
                    .as_ref()
                    .ok()
                    .and_then(|p| p.known_len())
                    .unwrap_or(64)
                    + 48
            })
            .fold(2, usize::saturating_add);
        let mut out = Vec::with_capacity(len);
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
