//! What the transport records through the [`metrics`] facade: HTTP requests, MCP operations and
//! open SSE streams. Nothing is exported here; a program that wants the numbers installs a
//! recorder (`sunpeak start` installs a Prometheus exporter). Without one, every recording is a
//! call into the facade's no-op recorder.
//!
//! Names follow the OpenTelemetry semantic conventions where they define the metric
//! (`mcp.server.operation.duration`, `http.server.request.duration`), written as the
//! OpenTelemetry Prometheus exporter writes them: dots become underscores, the unit becomes a
//! `_seconds` suffix. Metrics without a convention are prefixed `sunpeak_`.
//!
//! Every label has a bounded set of values: known MCP methods (anything else is `other`),
//! tool names the server defines, JSON-RPC error codes the protocol defines (anything else is
//! `_OTHER`), HTTP methods and status codes. Nothing per session, per request or per argument.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use http::{Method, StatusCode};
use mcp_proto::{ErrorCode, McpError, methods};
use metrics::SharedString;

use crate::payload::{Payload, Repr};

/// Histogram: seconds from receiving an MCP request until its result or error is ready
/// (OpenTelemetry `mcp.server.operation.duration`). Labels: `mcp_method_name`;
/// `gen_ai_tool_name` on `tools/call` of a defined tool; `error_type` when it failed
/// (the JSON-RPC error code, `tool_error` for an `isError` result, `cancelled`). A request
/// whose future is dropped (its client disconnected before a JSON reply) is not recorded.
pub const OPERATION_DURATION: &str = "mcp_server_operation_duration_seconds";
/// Histogram: seconds from receiving an HTTP request until its response head is ready
/// (OpenTelemetry `http.server.request.duration`; the streaming of an SSE body is not
/// included). Labels: `http_request_method`, `http_response_status_code`, and `http_route` for
/// the MCP endpoint, `/health` and `/metrics`.
pub const HTTP_REQUEST_DURATION: &str = "http_server_request_duration_seconds";
/// Gauge: SSE response bodies currently open (POST replies streamed as SSE and GET streams).
pub const SSE_STREAMS_OPEN: &str = "sunpeak_sse_streams_open";

/// Bucket bounds (seconds) for the duration histograms: OpenTelemetry's advice for
/// `mcp.server.operation.duration` (10 ms to 300 s) with four finer buckets below 10 ms,
/// where most answers of this server fall.
pub const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0,
];

/// The label value of an MCP method: itself when MCP defines it as a client request, else
/// `other` (a client can send any method name; labels must stay few).
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        methods::INITIALIZE,
        methods::PING,
        methods::TOOLS_LIST,
        methods::TOOLS_CALL,
        methods::RESOURCES_LIST,
        methods::RESOURCES_TEMPLATES_LIST,
        methods::RESOURCES_READ,
        methods::RESOURCES_SUBSCRIBE,
        methods::RESOURCES_UNSUBSCRIBE,
        methods::PROMPTS_LIST,
        methods::PROMPTS_GET,
        methods::COMPLETION_COMPLETE,
        methods::LOGGING_SET_LEVEL,
        methods::SERVER_DISCOVER,
    ];
    KNOWN
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("other")
}

/// The `error_type` of a JSON-RPC error: its code when the protocol defines it, else `_OTHER`
/// (OpenTelemetry's value for an error type outside the known set).
pub fn error_code_label(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::PARSE_ERROR => "-32700",
        ErrorCode::INVALID_REQUEST => "-32600",
        ErrorCode::METHOD_NOT_FOUND => "-32601",
        ErrorCode::INVALID_PARAMS => "-32602",
        ErrorCode::INTERNAL_ERROR => "-32603",
        ErrorCode::SERVER_ERROR => "-32000",
        ErrorCode::REQUEST_TIMEOUT => "-32001",
        ErrorCode::RESOURCE_NOT_FOUND => "-32002",
        ErrorCode::URL_ELICITATION_REQUIRED => "-32042",
        ErrorCode::REQUEST_CANCELLED => "-32800",
        _ => "_OTHER",
    }
}

/// Tool names usable as label values, shared so that a label costs no allocation.
#[derive(Debug, Default)]
pub(crate) struct ToolLabels(HashMap<Box<str>, Arc<str>>);

impl ToolLabels {
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self(
            names
                .into_iter()
                .map(|n| (Box::from(n), Arc::from(n)))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<SharedString> {
        self.0.get(name).map(|n| SharedString::from(Arc::clone(n)))
    }
}

/// One MCP request being handled; [`Operation::finish`] records its duration.
pub(crate) struct Operation {
    started: Instant,
    method: &'static str,
    tool: Option<SharedString>,
}

impl Operation {
    pub(crate) fn start(
        method: &str,
        params: Option<&serde_json::Value>,
        tools: &ToolLabels,
    ) -> Self {
        let method = method_label(method);
        let tool = (method == methods::TOOLS_CALL)
            .then(|| params?.get("name")?.as_str())
            .flatten()
            .and_then(|name| tools.get(name));
        Self {
            started: Instant::now(),
            method,
            tool,
        }
    }

    /// `out`: the handler's answer, `None` when the request was cancelled.
    pub(crate) fn finish(self, out: Option<&Result<Payload, McpError>>) {
        let seconds = self.started.elapsed().as_secs_f64();
        let error = match out {
            None => Some("cancelled"),
            Some(Err(e)) => Some(error_code_label(e.code)),
            Some(Ok(p)) if self.method == methods::TOOLS_CALL && is_error_result(p) => {
                Some("tool_error")
            }
            Some(Ok(_)) => None,
        };
        let m = self.method;
        match (self.tool, error) {
            (None, None) => metrics::histogram!(OPERATION_DURATION, "mcp_method_name" => m),
            (None, Some(e)) => metrics::histogram!(
                OPERATION_DURATION, "mcp_method_name" => m, "error_type" => e
            ),
            (Some(t), None) => metrics::histogram!(
                OPERATION_DURATION, "mcp_method_name" => m, "gen_ai_tool_name" => t
            ),
            (Some(t), Some(e)) => metrics::histogram!(
                OPERATION_DURATION,
                "mcp_method_name" => m,
                "gen_ai_tool_name" => t,
                "error_type" => e
            ),
        }
        .record(seconds);
    }
}

/// Whether a `tools/call` result says `"isError": true`. Only a result held as a value is
/// looked into (what `sunpeak start` and typed tools return); bytes are never parsed for this.
fn is_error_result(p: &Payload) -> bool {
    match &p.0 {
        Repr::Value(v) => v.get("isError").and_then(serde_json::Value::as_bool) == Some(true),
        _ => false,
    }
}

/// One HTTP request being answered; [`HttpTimer::finish`] records it.
pub(crate) struct HttpTimer {
    started: Instant,
    method: &'static str,
    route: Option<&'static str>,
}

impl HttpTimer {
    pub(crate) fn start(method: &Method, path: &str, endpoint: &str) -> Self {
        let route = if path == endpoint {
            // The endpoint path is configurable; the label names the route, not the path.
            Some("/mcp")
        } else {
            match path {
                "/health" => Some("/health"),
                "/metrics" => Some("/metrics"),
                _ => None,
            }
        };
        Self {
            started: Instant::now(),
            method: http_method_label(method),
            route,
        }
    }

    pub(crate) fn finish(self, status: StatusCode) {
        let seconds = self.started.elapsed().as_secs_f64();
        let status = status_label(status);
        let m = self.method;
        match self.route {
            Some(r) => metrics::histogram!(
                HTTP_REQUEST_DURATION,
                "http_request_method" => m,
                "http_response_status_code" => status,
                "http_route" => r
            ),
            None => metrics::histogram!(
                HTTP_REQUEST_DURATION,
                "http_request_method" => m,
                "http_response_status_code" => status
            ),
        }
        .record(seconds);
    }
}

/// Standard HTTP methods as they are, anything else `_OTHER` (as OpenTelemetry says).
fn http_method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

/// The status code as a label value (at most the 500 codes HTTP can carry).
fn status_label(status: StatusCode) -> SharedString {
    match status.as_u16() {
        200 => SharedString::const_str("200"),
        202 => SharedString::const_str("202"),
        204 => SharedString::const_str("204"),
        400 => SharedString::const_str("400"),
        401 => SharedString::const_str("401"),
        403 => SharedString::const_str("403"),
        404 => SharedString::const_str("404"),
        405 => SharedString::const_str("405"),
        406 => SharedString::const_str("406"),
        413 => SharedString::const_str("413"),
        415 => SharedString::const_str("415"),
        500 => SharedString::const_str("500"),
        503 => SharedString::const_str("503"),
        other => SharedString::from(other.to_string()),
    }
}

/// Counts an open SSE body for as long as it lives.
pub(crate) struct OpenStream(());

impl OpenStream {
    pub(crate) fn new() -> Self {
        metrics::gauge!(SSE_STREAMS_OPEN).increment(1.0);
        Self(())
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!(SSE_STREAMS_OPEN).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_mcp_are_other() {
        assert_eq!(method_label("tools/call"), "tools/call");
        assert_eq!(method_label("initialize"), "initialize");
        assert_eq!(method_label("tools/call2"), "other");
        assert_eq!(method_label(&"x".repeat(10_000)), "other");
    }

    #[test]
    fn error_codes_outside_the_protocol_are_other() {
        assert_eq!(error_code_label(ErrorCode::INVALID_PARAMS), "-32602");
        assert_eq!(error_code_label(ErrorCode(-1)), "_OTHER");
        assert_eq!(error_code_label(ErrorCode(12345)), "_OTHER");
    }

    #[test]
    fn only_defined_tools_are_labels() {
        let tools = ToolLabels::new(["a", "b"]);
        let params = serde_json::json!({"name": "a"});
        let op = Operation::start("tools/call", Some(&params), &tools);
        assert_eq!(op.tool.as_deref(), Some("a"));
        let params = serde_json::json!({"name": "nope"});
        assert!(
            Operation::start("tools/call", Some(&params), &tools)
                .tool
                .is_none()
        );
        // A tool label only on tools/call.
        let params = serde_json::json!({"name": "a"});
        assert!(
            Operation::start("prompts/get", Some(&params), &tools)
                .tool
                .is_none()
        );
    }

    #[test]
    fn is_error_results() {
        assert!(is_error_result(&Payload::value(
            serde_json::json!({"content": [], "isError": true})
        )));
        assert!(!is_error_result(&Payload::value(
            serde_json::json!({"content": []})
        )));
    }

    #[test]
    fn routes_and_methods() {
        let t = HttpTimer::start(&Method::POST, "/api/mcp", "/api/mcp");
        assert_eq!((t.method, t.route), ("POST", Some("/mcp")));
        let t = HttpTimer::start(&Method::GET, "/anything", "/mcp");
        assert_eq!(t.route, None);
        let t = HttpTimer::start(&Method::from_bytes(b"BREW").unwrap(), "/", "/mcp");
        assert_eq!(t.method, "_OTHER");
        assert_eq!(&*status_label(StatusCode::IM_A_TEAPOT), "418");
    }
}
