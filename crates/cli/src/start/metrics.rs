//! `GET /metrics` of `sunpeak start`: installs the Prometheus exporter as the recorder of the
//! `metrics` facade (the libraries record through it), samples the gauges that are cheaper to
//! read than to keep (sessions, workers, calls in flight) at scrape time, and serves the text
//! exposition format, on the main port or on `--metrics-port`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use mcp_apps::app::McpApp;
use mcp_transport::{McpBody, Transport};
use metrics::Unit;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// Gauge: live MCP sessions (sampled at scrape time).
pub const SESSIONS_ACTIVE: &str = "sunpeak_sessions_active";
/// Gauge: POSTs to the MCP endpoint whose requests are being handled (sampled at scrape time).
pub const REQUESTS_IN_FLIGHT: &str = "sunpeak_mcp_requests_in_flight";
/// Gauge: Node.js tool workers running (sampled at scrape time).
pub const NODE_WORKERS: &str = "sunpeak_node_workers";
/// Gauge: tool calls and `auth()` runs in flight on the workers (sampled at scrape time).
pub const NODE_CALLS_IN_FLIGHT: &str = "sunpeak_node_calls_in_flight";
/// Gauge, always 1: the sunpeak version as a label.
pub const BUILD_INFO: &str = "sunpeak_build_info";

/// The content type of the Prometheus text exposition format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The installed exporter and what the scrape-time gauges are read from.
pub struct Metrics {
    handle: PrometheusHandle,
    transport: Transport,
    app: Arc<McpApp>,
}

/// Installs the exporter as the process's recorder. Call once, before serving.
pub fn install(transport: Transport, app: Arc<McpApp>) -> Result<Arc<Metrics>> {
    let handle = PrometheusBuilder::new()
        .set_buckets(mcp_transport::metrics::DURATION_BUCKETS)
        .context("cannot configure the metrics buckets")?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    describe();
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    // Present from the start, so that `increase()` sees the first restart.
    metrics::counter!(mcp_apps::node::WORKER_RESTARTS).absolute(0);
    // Histogram samples wait in lock-free buffers until upkeep folds them into the buckets; a
    // scrape does it too, this keeps them bounded when nobody scrapes.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(Arc::new(Metrics {
        handle,
        transport,
        app,
    }))
}

/// `# HELP` texts and units.
fn describe() {
    use mcp_apps::catalog::RESOURCE_READS;
    use mcp_apps::node::{WORKER_RESTARTS, WORKER_WAIT};
    use mcp_transport::metrics::{HTTP_REQUEST_DURATION, OPERATION_DURATION, SSE_STREAMS_OPEN};
    metrics::describe_histogram!(
        OPERATION_DURATION,
        Unit::Seconds,
        "MCP request duration, from receipt until the result or error is ready"
    );
    metrics::describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "HTTP request duration, until the response head is ready"
    );
    metrics::describe_gauge!(SSE_STREAMS_OPEN, "SSE response streams open");
    metrics::describe_counter!(RESOURCE_READS, "resources/read answers by listed resource");
    metrics::describe_counter!(WORKER_RESTARTS, "Node.js tool workers replaced");
    metrics::describe_histogram!(
        WORKER_WAIT,
        Unit::Seconds,
        "Time a call waited for a Node.js worker because none was up"
    );
    metrics::describe_gauge!(SESSIONS_ACTIVE, "Live MCP sessions");
    metrics::describe_gauge!(
        REQUESTS_IN_FLIGHT,
        "POSTs to the MCP endpoint whose requests are being handled"
    );
    metrics::describe_gauge!(NODE_WORKERS, "Node.js tool workers running");
    metrics::describe_gauge!(
        NODE_CALLS_IN_FLIGHT,
        "Tool calls and auth() runs in flight on the workers"
    );
    metrics::describe_gauge!(BUILD_INFO, "Always 1; the sunpeak version is a label");
}

impl Metrics {
    /// The exposition text, with the scrape-time gauges read now.
    pub fn render(&self) -> String {
        metrics::gauge!(SESSIONS_ACTIVE).set(self.transport.session_count() as f64);
        metrics::gauge!(REQUESTS_IN_FLIGHT).set(self.transport.in_flight() as f64);
        metrics::gauge!(NODE_WORKERS).set(self.app.worker_count() as f64);
        metrics::gauge!(NODE_CALLS_IN_FLIGHT).set(self.app.calls_in_flight() as f64);
        self.handle.render()
    }

    /// The answer to `GET /metrics` (`HEAD` too), or `None` for other methods and paths.
    pub fn route(&self, method: &Method, path: &str) -> Option<Response<McpBody>> {
        if path != "/metrics" || !(method == Method::GET || method == Method::HEAD) {
            return None;
        }
        let text = self.render();
        let mut r = Response::new(McpBody::full(Bytes::from(text)));
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_FORMAT));
        Some(r)
    }
}

/// Binds `addr` for `--metrics-port` (a busy port is an error, as for `--port`).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!(
            "cannot listen on {addr} for --metrics-port (choose another port, or --metrics-port is not needed: /metrics is on the main port by default)"
        )
    })
}

/// Serves only `/metrics` on its own listener until the task is aborted.
pub async fn serve_alone(listener: TcpListener, metrics: Arc<Metrics>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::debug!(target: "mcp", error = %e, "metrics listener: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let metrics = Arc::clone(&metrics);
        let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
            let resp = metrics
                .route(req.method(), req.uri().path())
                .unwrap_or_else(|| {
                    let mut r = Response::new(McpBody::from("Not Found"));
                    *r.status_mut() = StatusCode::NOT_FOUND;
                    r
                });
            async move { Ok::<_, Infallible>(resp) }
        });
        let conn = http.serve_connection(TokioIo::new(stream), svc);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(target: "mcp", error = %e, "metrics connection ended with an error");
            }
        });
    }
}
