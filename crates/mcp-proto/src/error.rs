//! JSON-RPC and MCP error codes, and the error object carried by an error response.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A JSON-RPC error code (an integer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    /// Invalid JSON was received (JSON-RPC). Sent with `id: null`.
    pub const PARSE_ERROR: Self = Self(-32700);
    /// The JSON sent is not a valid request object (JSON-RPC).
    pub const INVALID_REQUEST: Self = Self(-32600);
    /// The method does not exist or is not available (JSON-RPC).
    pub const METHOD_NOT_FOUND: Self = Self(-32601);
    /// Invalid method parameters (JSON-RPC): unknown tool, bad prompt arguments, bad cursor,
    /// bad log level.
    pub const INVALID_PARAMS: Self = Self(-32602);
    /// Internal error (JSON-RPC).
    pub const INTERNAL_ERROR: Self = Self(-32603);
    /// The generic implementation-defined server error that HTTP-level error bodies use
    /// (406, 415, 400 session errors, 400 unsupported version, 403), as the TypeScript SDK does.
    pub const SERVER_ERROR: Self = Self(-32000);
    /// Resource not found (MCP up to 2025-11-25; 2026-07-28 uses -32602).
    pub const RESOURCE_NOT_FOUND: Self = Self(-32002);
    /// URL-mode elicitation required (MCP 2025-11-25).
    pub const URL_ELICITATION_REQUIRED: Self = Self(-32042);
    /// The HTTP headers do not match the body, or a required header is missing or malformed
    /// (2026-07-28, `HeaderMismatch`; HTTP 400).
    pub const HEADER_MISMATCH: Self = Self(-32020);
    /// The request needs a client capability its `clientCapabilities` do not declare
    /// (2026-07-28, `MissingRequiredClientCapability`; HTTP 400).
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: Self = Self(-32021);
    /// The request's protocol version is not supported (2026-07-28,
    /// `UnsupportedProtocolVersion`, with `data: {supported, requested}`; HTTP 400).
    pub const UNSUPPORTED_PROTOCOL_VERSION: Self = Self(-32022);
    /// The request was cancelled (used only locally, for a cancelled request to the client).
    pub const REQUEST_CANCELLED: Self = Self(-32800);
    /// A request to the client timed out (used only locally; the TypeScript SDK uses -32001).
    pub const REQUEST_TIMEOUT: Self = Self(-32001);
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The error object of a JSON-RPC error response: `{code, message, data?}`.
///
/// This is also the error type MCP handlers return: whatever a handler returns as `Err` is
/// sent to the client as a JSON-RPC error with this code, message and data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("MCP error {code}: {message}")]
pub struct McpError {
    /// The error code.
    pub code: ErrorCode,
    /// A short description.
    pub message: String,
    /// Optional extra information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl McpError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Adds `data` to the error.
    #[must_use]
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// `-32700 Parse error`.
    pub fn parse_error(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PARSE_ERROR, message)
    }

    /// `-32600 Invalid Request`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INVALID_REQUEST, message)
    }

    /// `-32601 Method not found`.
    pub fn method_not_found() -> Self {
        Self::new(ErrorCode::METHOD_NOT_FOUND, "Method not found")
    }

    /// `-32602` with a message.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INVALID_PARAMS, message)
    }

    /// `-32603` with a message.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INTERNAL_ERROR, message)
    }

    /// `-32002 Resource not found` with `data: {uri}` (MCP 2024-11-05 through 2025-11-25).
    pub fn resource_not_found(uri: &str) -> Self {
        Self::new(ErrorCode::RESOURCE_NOT_FOUND, "Resource not found")
            .with_data(serde_json::json!({ "uri": uri }))
    }

    /// `-32020 Header mismatch: ...` (2026-07-28).
    pub fn header_mismatch(message: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorCode::HEADER_MISMATCH,
            format!("Header mismatch: {message}"),
        )
    }

    /// `-32022 Unsupported protocol version` with `data: {supported, requested}`, `supported`
    /// listing every version of both eras, newest first (2026-07-28).
    pub fn unsupported_protocol_version(requested: &str) -> Self {
        let supported: Vec<&str> = crate::ProtocolVersion::ALL.map(|v| v.as_str()).to_vec();
        Self::new(
            ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
            "Unsupported protocol version",
        )
        .with_data(serde_json::json!({ "supported": supported, "requested": requested }))
    }

    /// `-32021 Missing required client capability` with `data: {requiredCapabilities}`
    /// (2026-07-28), e.g. `{"elicitation": {}}`.
    pub fn missing_client_capability(required: Value) -> Self {
        Self::new(
            ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
            "Missing required client capability",
        )
        .with_data(serde_json::json!({ "requiredCapabilities": required }))
    }

    /// `-32602 Unknown tool: <name>` (the spec's example for an unknown tool).
    pub fn unknown_tool(name: &str) -> Self {
        Self::invalid_params(format!("Unknown tool: {name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_without_data() {
        let e = McpError::method_not_found();
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":-32601,"message":"Method not found"}"#
        );
    }

    #[test]
    fn resource_not_found_carries_uri() {
        let e = McpError::resource_not_found("test://x");
        assert_eq!(e.code, ErrorCode::RESOURCE_NOT_FOUND);
        assert_eq!(e.data.unwrap()["uri"], "test://x");
    }

    #[test]
    fn display_names_code() {
        assert_eq!(
            McpError::invalid_params("bad").to_string(),
            "MCP error -32602: bad"
        );
    }
}
