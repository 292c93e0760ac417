//! What the transport records through the [`metrics`] facade: HTTP requests, MCP operations and
//! open SSE streams. Nothing is exported here; a program that wants the numbers installs a
//! recorder (`sunpeak start` installs a Prometheus exporter). Without one, every recording is a
//! call into the facade's no-op recorder. Install it before serving: each label set's handle is
//! resolved once, from the recorder current at its first recording (a recorder installed later
//! is still used, through a registry look-up per recording).
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
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use http::{Method, StatusCode};
use mcp_proto::{ErrorCode, McpError, methods};
use metrics::{Histogram, Key, Label, Level, Metadata, Recorder, SharedString};

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

/// The MCP methods that are label values as themselves; anything else is `other`.
const KNOWN_METHODS: [&str; 14] = [
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
/// Label values of `mcp_method_name`, by method index ([`KNOWN_METHODS`], then `other`).
const METHOD_LABELS: [&str; KNOWN_METHODS.len() + 1] = {
    let mut out = ["other"; KNOWN_METHODS.len() + 1];
    let mut i = 0;
    while i < KNOWN_METHODS.len() {
        out[i] = KNOWN_METHODS[i];
        i += 1;
    }
    out
};

/// The index of a method's label in [`METHOD_LABELS`].
fn method_index(method: &str) -> usize {
    KNOWN_METHODS
        .iter()
        .position(|known| *known == method)
        .unwrap_or(KNOWN_METHODS.len())
}

/// The label value of an MCP method: itself when MCP defines it as a client request, else
/// `other` (a client can send any method name; labels must stay few).
pub fn method_label(method: &str) -> &'static str {
    METHOD_LABELS[method_index(method)]
}

/// Label values of `error_type`: none (index 0), the JSON-RPC codes the protocol defines,
/// `_OTHER`, and the two outcomes that are not JSON-RPC errors.
const ERROR_LABELS: [Option<&str>; 14] = [
    None,
    Some("-32700"),
    Some("-32600"),
    Some("-32601"),
    Some("-32602"),
    Some("-32603"),
    Some("-32000"),
    Some("-32001"),
    Some("-32002"),
    Some("-32042"),
    Some("-32800"),
    Some("_OTHER"),
    Some("cancelled"),
    Some("tool_error"),
];
const ERROR_OTHER: usize = 11;
const ERROR_CANCELLED: usize = 12;
const ERROR_TOOL: usize = 13;

/// The index of a JSON-RPC error code's label in [`ERROR_LABELS`].
fn error_index(code: ErrorCode) -> usize {
    match code {
        ErrorCode::PARSE_ERROR => 1,
        ErrorCode::INVALID_REQUEST => 2,
        ErrorCode::METHOD_NOT_FOUND => 3,
        ErrorCode::INVALID_PARAMS => 4,
        ErrorCode::INTERNAL_ERROR => 5,
        ErrorCode::SERVER_ERROR => 6,
        ErrorCode::REQUEST_TIMEOUT => 7,
        ErrorCode::RESOURCE_NOT_FOUND => 8,
        ErrorCode::URL_ELICITATION_REQUIRED => 9,
        ErrorCode::REQUEST_CANCELLED => 10,
        _ => ERROR_OTHER,
    }
}

/// The `error_type` of a JSON-RPC error: its code when the protocol defines it, else `_OTHER`
/// (OpenTelemetry's value for an error type outside the known set).
pub fn error_code_label(code: ErrorCode) -> &'static str {
    ERROR_LABELS[error_index(code)].unwrap_or("_OTHER")
}

/// A histogram handle resolved once for one label set and kept.
///
/// Resolving a handle through `histogram!` with labels builds a key, hashes it and looks it up
/// in the recorder's registry on every call (about 2,000 instructions with the Prometheus
/// recorder); a kept handle records directly. It is resolved on the first recording, from the
/// recorder current then (so a recorder installed before serving is the one used), and tagged
/// with that recorder's address: if the current recorder is another one (a local recorder in a
/// test, or a global recorder installed after the first recording), recording goes through a
/// fresh lookup in it, as the macro would.
struct Slot(OnceLock<(usize, Histogram)>);

/// What `histogram!` would pass as metadata from this module.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

impl Slot {
    const fn new() -> Self {
        Self(OnceLock::new())
    }

    /// Records `value` in the histogram `name` with the labels `labels()` (called only when the
    /// handle must be resolved).
    fn record(&self, value: f64, name: &'static str, labels: impl FnOnce() -> Vec<Label>) {
        metrics::with_recorder(|recorder| {
            let id = recorder_id(recorder);
            let resolve = |labels: Vec<Label>| {
                recorder.register_histogram(&Key::from_parts(name, labels), &METADATA)
            };
            let mut labels = Some(labels);
            let (kept, handle) = self
                .0
                .get_or_init(|| (id, resolve(labels.take().map(|f| f()).unwrap_or_default())));
            if *kept == id {
                handle.record(value);
            } else if let Some(labels) = labels {
                resolve(labels()).record(value);
            }
        });
    }
}

/// Tells recorders apart by address (the global recorder never moves).
fn recorder_id(recorder: &dyn Recorder) -> usize {
    std::ptr::from_ref(recorder).cast::<()>() as usize
}

/// One [`Slot`] per `error_type` value.
type ErrorSlots = [Slot; ERROR_LABELS.len()];

const fn error_slots() -> ErrorSlots {
    [const { Slot::new() }; ERROR_LABELS.len()]
}

/// Operation histograms without a tool label, by method and error index.
static OPERATION_SLOTS: [ErrorSlots; METHOD_LABELS.len()] =
    [const { error_slots() }; METHOD_LABELS.len()];

/// The tools the server defines, with their label values and the operation histograms of
/// their `tools/call`s (one per `error_type`).
#[derive(Default)]
pub(crate) struct ToolLabels(HashMap<Box<str>, Arc<ToolSlots>>);

struct ToolSlots {
    /// Shared, so that a label costs no allocation.
    name: Arc<str>,
    slots: ErrorSlots,
}

impl std::fmt::Debug for ToolLabels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl ToolLabels {
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self(
            names
                .into_iter()
                .map(|n| {
                    let tool = ToolSlots {
                        name: Arc::from(n),
                        slots: error_slots(),
                    };
                    (Box::from(n), Arc::new(tool))
                })
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<Arc<ToolSlots>> {
        self.0.get(name).cloned()
    }
}

/// One MCP request being handled; [`Operation::finish`] records its duration.
pub(crate) struct Operation {
    started: Instant,
    method: usize,
    tool: Option<Arc<ToolSlots>>,
}

impl Operation {
    pub(crate) fn start(
        method: &str,
        params: Option<&serde_json::Value>,
        tools: &ToolLabels,
    ) -> Self {
        let method = method_index(method);
        let tool = (METHOD_LABELS[method] == methods::TOOLS_CALL)
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
        let m = METHOD_LABELS[self.method];
        let error = match out {
            None => ERROR_CANCELLED,
            Some(Err(e)) => error_index(e.code),
            Some(Ok(p)) if m == methods::TOOLS_CALL && is_error_result(p) => ERROR_TOOL,
            Some(Ok(_)) => 0,
        };
        let e = ERROR_LABELS[error];
        match &self.tool {
            None => OPERATION_SLOTS[self.method][error].record(seconds, OPERATION_DURATION, || {
                let mut labels = vec![Label::from_static_parts("mcp_method_name", m)];
                labels.extend(e.map(|e| Label::from_static_parts("error_type", e)));
                labels
            }),
            Some(tool) => tool.slots[error].record(seconds, OPERATION_DURATION, || {
                let mut labels = vec![
                    Label::from_static_parts("mcp_method_name", m),
                    Label::new(
                        "gen_ai_tool_name",
                        SharedString::from(Arc::clone(&tool.name)),
                    ),
                ];
                labels.extend(e.map(|e| Label::from_static_parts("error_type", e)));
                labels
            }),
        }
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
    method: usize,
    route: usize,
}

/// Label values of `http_route`: none (index 0) or one of the routes.
const ROUTES: [Option<&str>; 4] = [None, Some("/mcp"), Some("/health"), Some("/metrics")];

/// Label values of `http_request_method`: the standard methods, then `_OTHER` (as
/// OpenTelemetry says).
const HTTP_METHODS: [&str; 10] = [
    "GET", "POST", "DELETE", "OPTIONS", "HEAD", "PUT", "PATCH", "CONNECT", "TRACE", "_OTHER",
];

/// The status codes this server answers with (others are labelled too, without a kept handle).
const STATUSES: [&str; 13] = [
    "200", "202", "204", "400", "401", "403", "404", "405", "406", "413", "415", "500", "503",
];

/// HTTP histograms by method, status and route index.
type RouteSlots = [Slot; ROUTES.len()];
static HTTP_SLOTS: [[RouteSlots; STATUSES.len()]; HTTP_METHODS.len()] =
    [const { [const { [const { Slot::new() }; ROUTES.len()] }; STATUSES.len()] };
        HTTP_METHODS.len()];

impl HttpTimer {
    pub(crate) fn start(method: &Method, path: &str, endpoint: &str) -> Self {
        let route = if path == endpoint {
            // The endpoint path is configurable; the label names the route, not the path.
            1
        } else {
            match path {
                "/health" => 2,
                "/metrics" => 3,
                _ => 0,
            }
        };
        Self {
            started: Instant::now(),
            method: http_method_index(method),
            route,
        }
    }

    pub(crate) fn finish(self, status: StatusCode) {
        let seconds = self.started.elapsed().as_secs_f64();
        let labels = |status: SharedString| {
            let mut labels = vec![
                Label::from_static_parts("http_request_method", HTTP_METHODS[self.method]),
                Label::new("http_response_status_code", status),
            ];
            labels.extend(ROUTES[self.route].map(|r| Label::from_static_parts("http_route", r)));
            labels
        };
        match STATUSES.iter().position(|s| *s == status.as_str()) {
            Some(i) => HTTP_SLOTS[self.method][i][self.route].record(
                seconds,
                HTTP_REQUEST_DURATION,
                || labels(SharedString::const_str(STATUSES[i])),
            ),
            None => metrics::histogram!(HTTP_REQUEST_DURATION, labels(status_label(status)))
                .record(seconds),
        }
    }
}

/// The index of a method's label in [`HTTP_METHODS`].
fn http_method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::POST => 1,
        Method::DELETE => 2,
        Method::OPTIONS => 3,
        Method::HEAD => 4,
        Method::PUT => 5,
        Method::PATCH => 6,
        Method::CONNECT => 7,
        Method::TRACE => 8,
        _ => 9,
    }
}

/// The status code as a label value (at most the 500 codes HTTP can carry).
fn status_label(status: StatusCode) -> SharedString {
    match STATUSES.iter().find(|s| **s == status.as_str()) {
        Some(s) => SharedString::const_str(s),
        None => SharedString::from(status.as_str().to_owned()),
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
        assert_eq!(op.tool.as_ref().map(|t| &*t.name), Some("a"));
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

    /// Counts the handles it gives out and the samples recorded, by key.
    #[derive(Default)]
    struct Counting {
        registered: std::sync::Mutex<Vec<String>>,
        samples: Arc<std::sync::Mutex<Vec<String>>>,
    }

    struct Sample(String, Arc<std::sync::Mutex<Vec<String>>>);

    impl metrics::HistogramFn for Sample {
        fn record(&self, _: f64) {
            self.1.lock().unwrap().push(self.0.clone());
        }
    }

    impl Recorder for Counting {
        fn describe_counter(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: SharedString) {
        }
        fn describe_gauge(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: SharedString) {}
        fn describe_histogram(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: SharedString,
        ) {
        }
        fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> metrics::Counter {
            metrics::Counter::noop()
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> metrics::Gauge {
            metrics::Gauge::noop()
        }
        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
            let mut labels: Vec<_> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.insert(0, key.name().to_owned());
            let key = labels.join(",");
            self.registered.lock().unwrap().push(key.clone());
            Histogram::from_arc(Arc::new(Sample(key, Arc::clone(&self.samples))))
        }
    }

    #[test]
    fn handles_are_kept_per_label_set_and_recorder() {
        let tools = ToolLabels::new(["kept"]);
        let call = serde_json::json!({"name": "kept"});
        let ok = Ok(Payload::value(serde_json::json!({"content": []})));
        let failed = Ok(Payload::value(serde_json::json!({"isError": true})));
        let first = Counting::default();
        metrics::with_local_recorder(&first, || {
            for _ in 0..3 {
                Operation::start("tools/call", Some(&call), &tools).finish(Some(&ok));
            }
            Operation::start("tools/call", Some(&call), &tools).finish(Some(&failed));
        });
        let op = "mcp_server_operation_duration_seconds,mcp_method_name=tools/call,gen_ai_tool_name=kept";
        let tool_error = format!("{op},error_type=tool_error");
        assert_eq!(
            *first.registered.lock().unwrap(),
            [op.to_owned(), tool_error.clone()]
        );
        assert_eq!(
            *first.samples.lock().unwrap(),
            [op, op, op, &tool_error].map(str::to_owned)
        );
        // Another recorder gets its own samples, through a fresh look-up.
        let second = Counting::default();
        metrics::with_local_recorder(&second, || {
            Operation::start("tools/call", Some(&call), &tools).finish(Some(&ok));
            HttpTimer::start(&Method::POST, "/mcp", "/mcp").finish(StatusCode::IM_A_TEAPOT);
        });
        assert_eq!(first.samples.lock().unwrap().len(), 4);
        assert_eq!(
            *second.samples.lock().unwrap(),
            [
                op,
                "http_server_request_duration_seconds,http_request_method=POST,http_response_status_code=418,http_route=/mcp"
            ]
            .map(str::to_owned)
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
        assert_eq!(
            (HTTP_METHODS[t.method], ROUTES[t.route]),
            ("POST", Some("/mcp"))
        );
        let t = HttpTimer::start(&Method::GET, "/anything", "/mcp");
        assert_eq!(ROUTES[t.route], None);
        let t = HttpTimer::start(&Method::from_bytes(b"BREW").unwrap(), "/", "/mcp");
        assert_eq!(HTTP_METHODS[t.method], "_OTHER");
        assert_eq!(&*status_label(StatusCode::IM_A_TEAPOT), "418");
    }
}
