//! The input format of the dispatch targets: one or more HTTP requests as text, so that the
//! seed corpus is real requests and libFuzzer's mutations keep their shape.
//!
//! ```text
//! POST /mcp chunked          <- method, path, then flags
//! content-type: application/json
//! accept: application/json, text/event-stream
//! mcp-session-id: $SID       <- replaced by the session id of the last initialize
//!
//! {"jsonrpc":"2.0","id":1,"method":"tools/list"}
//! ~~~                        <- the next request
//! ```
//!
//! Flags: `chunked` (the body arrives in 3-byte frames), `error` (the body fails after its
//! data), `sse` (the transport answers POSTs with SSE), `auth` (the transport has an auth hook:
//! `authorization: Bearer <token>` passes, `Bearer error` fails with 500, anything else is 401).
//! Stateless: per request; stateful: the first request's flags hold for the whole run.

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};

/// Requests per input, at most.
pub const MAX_REQUESTS: usize = 8;

/// One request of an input.
#[derive(Debug, Clone)]
pub struct ScriptRequest {
    /// The HTTP method.
    pub method: Method,
    /// The request target.
    pub path: String,
    /// Body in 3-byte frames.
    pub chunked: bool,
    /// The body stream fails after its data.
    pub body_error: bool,
    /// SSE response mode.
    pub sse: bool,
    /// The transport has an auth hook.
    pub auth: bool,
    /// Raw headers (value bytes may contain `$SID`).
    pub headers: Vec<(HeaderName, Vec<u8>)>,
    /// The body (may contain `$SID`).
    pub body: Bytes,
}

/// Splits an input into requests; unparsable parts are skipped.
pub fn parse(data: &[u8]) -> Vec<ScriptRequest> {
    split(data, b"\n~~~\n")
        .into_iter()
        .filter_map(parse_one)
        .take(MAX_REQUESTS)
        .collect()
}

fn split<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = find(rest, sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_one(part: &[u8]) -> Option<ScriptRequest> {
    let (head, body) = match find(part, b"\n\n") {
        Some(i) => (&part[..i], &part[i + 2..]),
        None => (part, &[][..]),
    };
    let mut lines = head.split(|&b| b == b'\n');
    let request_line = std::str::from_utf8(lines.next()?).ok()?;
    let mut words = request_line.split_ascii_whitespace();
    let method = Method::from_bytes(words.next()?.as_bytes()).ok()?;
    let path = words.next().unwrap_or("/mcp").to_owned();
    let mut req = ScriptRequest {
        method,
        path,
        chunked: false,
        body_error: false,
        sse: false,
        auth: false,
        headers: Vec::new(),
        body: Bytes::copy_from_slice(body),
    };
    for flag in words {
        match flag {
            "chunked" => req.chunked = true,
            "error" => req.body_error = true,
            "sse" => req.sse = true,
            "auth" => req.auth = true,
            _ => {}
        }
    }
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let Ok(name) = HeaderName::from_bytes(line[..colon].trim_ascii()) else {
            continue;
        };
        req.headers
            .push((name, line[colon + 1..].trim_ascii().to_vec()));
    }
    Some(req)
}

/// Replaces `$SID` with the session id (or removes it when there is none).
pub fn substitute(bytes: &[u8], sid: Option<&str>) -> Vec<u8> {
    let sid = sid.unwrap_or("").as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(i) = find(rest, b"$SID") {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(sid);
        rest = &rest[i + 4..];
    }
    out.extend_from_slice(rest);
    out
}

/// A header value from raw bytes, if valid.
pub fn header_value(bytes: &[u8]) -> Option<HeaderValue> {
    HeaderValue::from_bytes(bytes).ok()
}
