//! What every response must look like, whatever the request: a status from the documented
//! set, a body that ends (except a GET stream), JSON where the content type says JSON,
//! JSON-RPC messages in every SSE event, 202/204 without a body, and for requests that
//! reached a handler, one response per request id.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::BodyExt;
use mcp_transport::McpBody;
use serde_json::Value;

/// The statuses the transport documents (mcp-requirements.md 2.4-2.10, 2.16).
const ALLOWED: &[u16] = &[200, 202, 204, 400, 401, 403, 404, 405, 406, 413, 415];

/// How long (virtual time) a POST reply may take to end: longer than any fuzz handler waits.
const REPLY_DEADLINE: Duration = Duration::from_secs(60);

/// What the request was, as far as the checks need it.
pub struct Sent<'a> {
    /// The HTTP method.
    pub method: &'a Method,
    /// The body as sent.
    pub body: &'a [u8],
    /// Whether the reply must end with the response(s) to the request ids in the body
    /// (false when a handler may close the stream early or a DELETE may end the session).
    pub expect_responses: bool,
    /// Whether a 500 is allowed (the auth hook failed).
    pub may_500: bool,
}

/// What the checks learned.
#[derive(Debug, Default)]
pub struct Seen {
    /// The `mcp-session-id` of the response.
    pub session_id: Option<String>,
    /// The status.
    pub status: u16,
}

/// Checks a response, reading its body; panics with a description on any violation.
pub async fn response(sent: &Sent<'_>, resp: Response<McpBody>) -> Seen {
    let status = resp.status();
    if trace() {
        eprintln!(
            "{} {:?} -> {status} {:?}",
            sent.method,
            String::from_utf8_lossy(sent.body),
            resp.headers()
        );
    }
    let ctx = || {
        format!(
            "{} {} with body {:?}",
            sent.method,
            status,
            String::from_utf8_lossy(sent.body)
        )
    };
    assert!(
        ALLOWED.contains(&status.as_u16()) || (sent.may_500 && status.as_u16() == 500),
        "unexpected status: {}",
        ctx()
    );
    let session_id = resp.headers().get("mcp-session-id").map(|v| {
        let b = v.as_bytes();
        assert!(
            !b.is_empty() && b.iter().all(|c| (0x21..=0x7e).contains(c)),
            "session id with invisible characters: {v:?}"
        );
        String::from_utf8_lossy(b).into_owned()
    });
    let content_type = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_sse = content_type.starts_with("text/event-stream");
    let is_json = content_type.starts_with("application/json");
    if *sent.method == Method::POST && status == StatusCode::OK {
        assert!(
            is_sse || is_json,
            "200 to a POST without JSON or SSE ({content_type}): {}",
            ctx()
        );
    }

    if is_sse && *sent.method == Method::GET {
        // A listening stream: read what is there, then hang up.
        let bytes = read_for(resp.into_body(), Duration::from_millis(200)).await;
        for data in sse_data(&bytes, false) {
            if !data.is_empty() {
                json_rpc_message(&data, &ctx);
            }
        }
        return Seen {
            session_id,
            status: status.as_u16(),
        };
    }

    let body = match tokio::time::timeout(REPLY_DEADLINE, resp.into_body().collect()).await {
        Ok(Ok(c)) => c.to_bytes(),
        // The body of an SSE reply may end with an error when the server shuts down; the
        // fuzz transport never does.
        Ok(Err(e)) => panic!("the reply body failed ({e}): {}", ctx()),
        Err(_) => panic!("the reply did not end within {REPLY_DEADLINE:?}: {}", ctx()),
    };
    if trace() {
        eprintln!("   body: {:?}", String::from_utf8_lossy(&body));
    }
    if status == StatusCode::ACCEPTED || status == StatusCode::NO_CONTENT {
        assert!(body.is_empty(), "{status} with a body: {}", ctx());
    }
    let expected = if sent.expect_responses && status == StatusCode::OK {
        request_ids(sent.body)
    } else {
        None
    };
    if is_json {
        let v: Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => panic!(
                "application/json body is not JSON ({e}): {:?}: {}",
                String::from_utf8_lossy(&body),
                ctx()
            ),
        };
        if status.is_success() {
            let responses: Vec<&Value> = match &v {
                Value::Array(items) => items.iter().collect(),
                one => vec![one],
            };
            let mut ids = Vec::new();
            for r in responses {
                assert!(is_response(r), "not a JSON-RPC response: {r}: {}", ctx());
                ids.push(r["id"].clone());
            }
            if let Some(want) = expected {
                same_ids(&want, &ids, &ctx);
            }
        } else {
            assert!(
                v["jsonrpc"] == "2.0"
                    && v["error"]["code"].is_i64()
                    && v["error"]["message"].is_string(),
                "JSON error body is not a JSON-RPC error: {v}: {}",
                ctx()
            );
        }
    } else if is_sse {
        let mut ids = Vec::new();
        for data in sse_data(&body, true) {
            if data.is_empty() {
                continue; // the priming event
            }
            let m = json_rpc_message(&data, &ctx);
            if is_response(&m) {
                ids.push(m["id"].clone());
            }
        }
        if let Some(want) = expected {
            same_ids(&want, &ids, &ctx);
        }
    }
    Seen {
        session_id,
        status: status.as_u16(),
    }
}

/// The ids of the requests in a body that is valid JSON-RPC (`None` when the body is not
/// JSON or holds nothing that needs an answer).
fn request_ids(body: &[u8]) -> Option<Vec<Value>> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let items = match v {
        Value::Array(items) => items,
        one => vec![one],
    };
    let ids: Vec<Value> = items
        .into_iter()
        .filter(|m| m.get("method").is_some_and(Value::is_string))
        .filter_map(|mut m| m.get_mut("id").map(Value::take))
        .collect();
    (!ids.is_empty()).then_some(ids)
}

fn same_ids(want: &[Value], got: &[Value], ctx: &dyn Fn() -> String) {
    let key = |v: &Value| v.to_string();
    let mut want: Vec<String> = want.iter().map(key).collect();
    let mut got: Vec<String> = got.iter().map(key).collect();
    want.sort();
    got.sort();
    assert_eq!(
        want,
        got,
        "responses do not match the request ids: {}",
        ctx()
    );
}

fn is_response(v: &Value) -> bool {
    let Some(o) = v.as_object() else {
        return false;
    };
    let id_ok = matches!(
        o.get("id"),
        Some(Value::String(_)) | Some(Value::Number(_)) | Some(Value::Null)
    );
    let result = o.contains_key("result");
    let error = o
        .get("error")
        .is_some_and(|e| e["code"].is_i64() && e["message"].is_string());
    o.get("jsonrpc").is_some_and(|j| j == "2.0") && id_ok && (result != error)
}

fn json_rpc_message(data: &str, ctx: &dyn Fn() -> String) -> Value {
    let v: Value = match serde_json::from_str(data) {
        Ok(v) => v,
        Err(e) => panic!("SSE data is not JSON ({e}): {data:?}: {}", ctx()),
    };
    assert!(
        v["jsonrpc"] == "2.0" && (v.get("method").is_some_and(Value::is_string) || is_response(&v)),
        "SSE data is not a JSON-RPC message: {v}: {}",
        ctx()
    );
    v
}

/// Whether `SUNPEAK_FUZZ_TRACE` is set: print every request and response (for replaying
/// one input by hand).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("SUNPEAK_FUZZ_TRACE").is_some())
}

/// The `data` of each SSE event (multi-line data joined with `\n`). With `complete`, the
/// stream must end at an event boundary.
fn sse_data(bytes: &[u8], complete: bool) -> Vec<String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => panic!("SSE stream is not UTF-8: {e}"),
    };
    let mut events = Vec::new();
    let mut rest = text;
    while let Some(end) = rest.find("\n\n") {
        let event = &rest[..end];
        rest = &rest[end + 2..];
        let mut data: Option<String> = None;
        for line in event.split('\n') {
            if line.starts_with(':') {
                continue; // a comment (keep-alive)
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "data" => match &mut data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => data = Some(value.to_owned()),
                },
                "id" | "event" => {}
                "retry" => assert!(value.parse::<u64>().is_ok(), "bad retry field: {line:?}"),
                _ => panic!("unknown SSE field in {event:?}"),
            }
        }
        if let Some(d) = data {
            events.push(d);
        }
    }
    if complete {
        assert!(rest.is_empty(), "SSE stream ends inside an event: {rest:?}");
    }
    events
}

/// Reads a never-ending body for `window` of (virtual) time.
async fn read_for(mut body: McpBody, window: Duration) -> Bytes {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, body.frame()).await {
        match frame {
            Ok(f) => {
                if let Ok(data) = f.into_data() {
                    out.extend_from_slice(&data);
                }
            }
            Err(_) => break,
        }
    }
    // Only complete events count.
    if let Some(end) = out.windows(2).rposition(|w| w == b"\n\n") {
        out.truncate(end + 2);
    } else {
        out.clear();
    }
    Bytes::from(out)
}
