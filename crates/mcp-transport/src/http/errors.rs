//! HTTP-level error responses with JSON-RPC bodies (`id: null`), using the texts clients of
//! the TypeScript SDK and sunpeak see.

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use http::{Response, StatusCode};
use mcp_proto::{ErrorCode, McpError};

use crate::auth::AuthDenial;
use crate::http::body::McpBody;

/// `application/json`.
pub(crate) const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A JSON-RPC error body for an HTTP error.
pub(crate) fn rpc_error(status: StatusCode, error: &McpError) -> Response<McpBody> {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": error});
    let mut r = Response::new(McpBody::full(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, JSON);
    r
}

/// A JSON-RPC error body with the generic `-32000` code.
pub(crate) fn server_error(status: StatusCode, message: impl Into<String>) -> Response<McpBody> {
    rpc_error(status, &McpError::new(ErrorCode::SERVER_ERROR, message))
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<McpBody> {
    let mut r = Response::new(McpBody::full(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// An empty response with a status.
pub(crate) fn status(status: StatusCode) -> Response<McpBody> {
    let mut r = Response::new(McpBody::empty());
    *r.status_mut() = status;
    r
}

/// 406 for a POST whose `Accept` lacks JSON or SSE.
pub(crate) fn not_acceptable_post() -> Response<McpBody> {
    server_error(
        StatusCode::NOT_ACCEPTABLE,
        "Not Acceptable: Client must accept both application/json and text/event-stream",
    )
}

/// 406 for a GET whose `Accept` lacks SSE.
pub(crate) fn not_acceptable_get() -> Response<McpBody> {
    server_error(
        StatusCode::NOT_ACCEPTABLE,
        "Not Acceptable: Client must accept text/event-stream",
    )
}

/// 415 for a POST that is not JSON.
pub(crate) fn unsupported_media_type() -> Response<McpBody> {
    server_error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Unsupported Media Type: Content-Type must be application/json",
    )
}

/// 413.
pub(crate) fn payload_too_large() -> Response<McpBody> {
    server_error(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large")
}

/// 405 for methods other than GET, POST, DELETE, OPTIONS.
pub(crate) fn method_not_allowed(stateless: bool) -> Response<McpBody> {
    let (allow, msg) = if stateless {
        (
            "POST, OPTIONS",
            "Method Not Allowed: stateless mode only supports POST",
        )
    } else {
        ("GET, POST, DELETE", "Method not allowed.")
    };
    let mut r = server_error(StatusCode::METHOD_NOT_ALLOWED, msg);
    r.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    r
}

/// 400 for a request that needs a session but has none.
pub(crate) fn missing_session() -> Response<McpBody> {
    server_error(
        StatusCode::BAD_REQUEST,
        "Bad Request: Mcp-Session-Id header is required",
    )
}

/// 404 for an unknown, expired or deleted session.
pub(crate) fn unknown_session() -> Response<McpBody> {
    server_error(StatusCode::NOT_FOUND, "Not Found: Unknown session")
}

/// An auth rejection: its status, its challenge (or `Bearer` plus `resource_metadata` when
/// configured), and the body `Unauthorized` without a content type, as the npm `sunpeak`.
pub(crate) fn denied(denial: AuthDenial, resource_metadata: Option<&str>) -> Response<McpBody> {
    let mut r = Response::new(McpBody::full(Bytes::from_static(b"Unauthorized")));
    *r.status_mut() = denial.status;
    let challenge = denial.challenge.unwrap_or_else(|| {
        resource_metadata
            .and_then(|url| {
                let value = format!("Bearer resource_metadata=\"{}\"", url.replace('"', "%22"));
                HeaderValue::from_str(&value).ok()
            })
            .unwrap_or_else(|| HeaderValue::from_static("Bearer"))
    });
    r.headers_mut().insert(WWW_AUTHENTICATE, challenge);
    r
}
