//! CORS headers, on every response of the MCP endpoint.

use http::HeaderMap;
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue,
};

/// `Access-Control-Allow-Headers`: what MCP clients send (sunpeak's set plus
/// `mcp-protocol-version` and `last-event-id`, which browsers otherwise fail to preflight, and
/// the 2026-07-28 request headers `mcp-method` and `mcp-name`).
pub const ALLOW_HEADERS: &str = "content-type, accept, authorization, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name, last-event-id, ngrok-skip-browser-warning";
/// `Access-Control-Allow-Methods`.
pub const ALLOW_METHODS: &str = "GET, POST, DELETE, OPTIONS";
/// `Access-Control-Expose-Headers`: the session id, and the 401 challenge so that browser
/// clients can read `resource_metadata` (npm sunpeak 0.20.79 sends the same pair).
pub const EXPOSE_HEADERS: &str = "mcp-session-id, www-authenticate";

/// Adds the CORS headers.
pub fn apply(headers: &mut HeaderMap) {
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOW_METHODS),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    headers.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}
