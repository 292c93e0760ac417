//! `GET /metrics` of the real `sunpeak start`: the exposition text after known traffic (names,
//! labels, counts), `--metrics off`, `--metrics-port`, and a real Prometheus scraping the
//! template app and answering queries over what it scraped.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use e2e_tests::builds::{self, Builder};
use e2e_tests::start::http::{Request, Stream, send};
use e2e_tests::start::mcp::{McpClient, PROTOCOL_VERSION};
use e2e_tests::start::server::{Launch, Server};
use e2e_tests::{Scratch, copy_project, sunpeak_bin, template, workspace_root};
use serde_json::{Value, json};

fn fixture() -> PathBuf {
    workspace_root().join("tests/e2e/fixtures/start/faults")
}

/// One sample of the exposition text: name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the sample lines of the Prometheus text format (label values here have no escapes).
fn parse(text: &str) -> Result<Vec<Sample>> {
    let mut samples = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').context("no value")?;
        let value: f64 = value
            .parse()
            .with_context(|| format!("value of {line:?}"))?;
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').context("unclosed labels")?;
                let mut labels = BTreeMap::new();
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once("=\"").context("label")?;
                    labels.insert(k.to_string(), v.trim_end_matches('"').to_string());
                }
                (name.to_string(), labels)
            }
            None => (series.to_string(), BTreeMap::new()),
        };
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    Ok(samples)
}

/// The value of the sample named `name` whose labels are exactly `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples
        .iter()
        .find(|s| s.name == name && s.labels == want)
        .map(|s| s.value)
}

fn scrape(addr: SocketAddr) -> Result<(String, Vec<Sample>)> {
    let resp = send(addr, &Request::new("GET", "/metrics"))?;
    ensure!(resp.status == 200, "/metrics: HTTP {}", resp.status);
    ensure!(
        resp.header("content-type") == Some("text/plain; version=0.0.4; charset=utf-8"),
        "content-type {:?}",
        resp.header("content-type")
    );
    let text = resp.text();
    let samples = parse(&text)?;
    Ok((text, samples))
}

/// Polls the scrape until `check` passes (the server records some things after answering).
fn scrape_until(
    addr: SocketAddr,
    what: &str,
    check: impl Fn(&[Sample]) -> bool,
) -> Result<(String, Vec<Sample>)> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (text, samples) = scrape(addr)?;
        if check(&samples) {
            return Ok((text, samples));
        }
        if Instant::now() > deadline {
            bail!("{what}: not seen in\n{text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

const OP_COUNT: &str = "mcp_server_operation_duration_seconds_count";

#[test]
fn exposition_after_known_traffic() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    client.result("tools/list", Value::Null)?;
    client.call_tool("whoami", json!({}))?;
    client.call_tool("whoami", json!({}))?;
    let thrown = client.call_tool("throws", json!({}))?;
    ensure!(thrown["isError"] == true, "{thrown}");
    client.call_tool("no-such-tool", json!({}))?;
    client.result("resources/read", json!({"uri": "ui://widget-00000001"}))?;
    let unknown = client.request("made/up", Value::Null)?;
    ensure!(unknown["error"]["code"] == -32601, "{unknown}");
    let sid = client.session.clone().context("session")?;
    let stream = Stream::open(
        server.addr,
        &Request::new("GET", "/mcp")
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &sid)
            .header("mcp-protocol-version", PROTOCOL_VERSION),
        Duration::from_secs(5),
    )?;
    ensure!(stream.status == 200, "GET stream: {}", stream.status);

    let (text, s) = scrape_until(server.addr, "the open GET stream", |s| {
        value(s, "sunpeak_sse_streams_open", &[]) == Some(1.0)
    })?;
    let whoami = [
        ("mcp_method_name", "tools/call"),
        ("gen_ai_tool_name", "whoami"),
    ];
    let checks: Vec<(&str, Option<f64>, f64)> = vec![
        ("whoami calls", value(&s, OP_COUNT, &whoami), 2.0),
        (
            "throws: a tool_error",
            value(
                &s,
                OP_COUNT,
                &[
                    ("mcp_method_name", "tools/call"),
                    ("gen_ai_tool_name", "throws"),
                    ("error_type", "tool_error"),
                ],
            ),
            1.0,
        ),
        (
            "an unknown tool: no tool label",
            value(
                &s,
                OP_COUNT,
                &[
                    ("mcp_method_name", "tools/call"),
                    ("error_type", "tool_error"),
                ],
            ),
            1.0,
        ),
        (
            "an unknown method is `other`",
            value(
                &s,
                OP_COUNT,
                &[("mcp_method_name", "other"), ("error_type", "-32601")],
            ),
            1.0,
        ),
        (
            "tools/list",
            value(&s, OP_COUNT, &[("mcp_method_name", "tools/list")]),
            1.0,
        ),
        (
            "initialize",
            value(&s, OP_COUNT, &[("mcp_method_name", "initialize")]),
            1.0,
        ),
        (
            "resource reads",
            value(
                &s,
                "sunpeak_resource_reads_total",
                &[("mcp_resource_uri", "ui://widget-00000001")],
            ),
            1.0,
        ),
        ("sessions", value(&s, "sunpeak_sessions_active", &[]), 1.0),
        ("workers", value(&s, "sunpeak_node_workers", &[]), 1.0),
        (
            "calls in flight",
            value(&s, "sunpeak_node_calls_in_flight", &[]),
            0.0,
        ),
        (
            "build info",
            value(
                &s,
                "sunpeak_build_info",
                &[("version", env!("CARGO_PKG_VERSION"))],
            ),
            1.0,
        ),
        (
            "202 for notifications/initialized",
            value(
                &s,
                "http_server_request_duration_seconds_count",
                &[
                    ("http_request_method", "POST"),
                    ("http_response_status_code", "202"),
                    ("http_route", "/mcp"),
                ],
            ),
            1.0,
        ),
    ];
    for (what, got, want) in checks {
        ensure!(
            got == Some(want),
            "{what}: {got:?}, expected {want}\n{text}"
        );
    }
    ensure!(
        s.iter()
            .all(|x| x.labels.get("gen_ai_tool_name").map(String::as_str) != Some("no-such-tool")),
        "an unknown tool name became a label"
    );
    ensure!(
        s.iter().all(|x| !x.labels.contains_key("mcp_session_id")),
        "a per-session label"
    );
    let posts = value(
        &s,
        "http_server_request_duration_seconds_count",
        &[
            ("http_request_method", "POST"),
            ("http_response_status_code", "200"),
            ("http_route", "/mcp"),
        ],
    )
    .unwrap_or(0.0);
    ensure!(posts == 8.0, "POST /mcp 200: {posts}\n{text}");
    // Histogram buckets in seconds, cumulative up to +Inf = count.
    let inf = value(
        &s,
        "mcp_server_operation_duration_seconds_bucket",
        &[
            ("mcp_method_name", "tools/call"),
            ("gen_ai_tool_name", "whoami"),
            ("le", "+Inf"),
        ],
    );
    ensure!(inf == Some(2.0), "+Inf bucket {inf:?}\n{text}");
    ensure!(
        text.contains("# TYPE mcp_server_operation_duration_seconds histogram"),
        "{text}"
    );
    ensure!(
        value(&s, "sunpeak_node_worker_restarts_total", &[]) == Some(0.0),
        "restarts before any: {text}"
    );
    ensure!(
        text.contains("# TYPE sunpeak_node_worker_restarts_total counter"),
        "{text}"
    );

    // The GET stream closes: the gauge goes back to 0.
    drop(stream);
    scrape_until(server.addr, "the closed GET stream", |s| {
        value(s, "sunpeak_sse_streams_open", &[]) == Some(0.0)
    })?;

    // A worker that exits is replaced and counted.
    let exited = client.call_tool("exits", json!({}))?;
    ensure!(exited["isError"] == true, "{exited}");
    scrape_until(server.addr, "a worker restart", |s| {
        value(s, "sunpeak_node_worker_restarts_total", &[]) == Some(1.0)
            && value(s, "sunpeak_node_workers", &[]) == Some(1.0)
    })?;
    Ok(())
}

#[test]
fn metrics_off_and_on_its_own_port() -> Result<()> {
    let off = Launch::ours(&fixture())
        .args(&["--metrics", "off"])
        .start()?;
    let resp = send(off.addr, &Request::new("GET", "/metrics"))?;
    ensure!(resp.status == 404, "--metrics off: HTTP {}", resp.status);
    ensure!(
        off.stdout()
            .iter()
            .all(|l| !l.starts_with("[MCP] Metrics:")),
        "{:?}",
        off.stdout()
    );
    let env_off = Launch::ours(&fixture())
        .env("SUNPEAK_METRICS", "off")
        .start()?;
    let resp = send(env_off.addr, &Request::new("GET", "/metrics"))?;
    ensure!(
        resp.status == 404,
        "SUNPEAK_METRICS=off: HTTP {}",
        resp.status
    );

    let on = Launch::ours(&fixture()).start()?;
    on.wait_for(Duration::from_secs(5), |l| {
        l == format!("[MCP] Metrics: http://127.0.0.1:{}/metrics", on.addr.port())
    })?;

    let apart = Launch::ours(&fixture())
        .args(&["--metrics-port", "0"])
        .start()?;
    let port = metrics_port(&apart)?;
    ensure!(port != apart.addr.port());
    let metrics_addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut client = McpClient::new(apart.addr);
    client.initialize()?;
    client.call_tool("whoami", json!({}))?;
    let (text, s) = scrape(metrics_addr)?;
    ensure!(
        value(
            &s,
            OP_COUNT,
            &[
                ("mcp_method_name", "tools/call"),
                ("gen_ai_tool_name", "whoami")
            ]
        ) == Some(1.0),
        "{text}"
    );
    let main = send(apart.addr, &Request::new("GET", "/metrics"))?;
    ensure!(main.status == 404, "main port /metrics: {}", main.status);
    let mcp = send(metrics_addr, &Request::new("POST", "/mcp"))?;
    ensure!(mcp.status == 404, "metrics port /mcp: {}", mcp.status);
    Ok(())
}

fn metrics_port(server: &Server) -> Result<u16> {
    let line = server.wait_for(Duration::from_secs(5), |l| l.starts_with("[MCP] Metrics: "))?;
    line.trim_end_matches("/metrics")
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .with_context(|| format!("no port in {line:?}"))
}

/// A Prometheus server of its own: config, data directory and port, stopped when dropped.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
}

impl Prometheus {
    fn start(dir: &Path, target: SocketAddr) -> Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: sunpeak\n    metrics_path: /metrics\n    \
                 static_configs:\n      - targets: ['{target}']\n"
            ),
        )?;
        let log = std::fs::File::create(dir.join("prometheus.log"))?;
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .context("starting prometheus (Debian package `prometheus`; .ci/run installs it)")?;
        Ok(Prometheus { child, addr })
    }

    /// An instant query; the first result's value, if any.
    fn query(&self, promql: &str) -> Result<Option<f64>> {
        let path = format!("/api/v1/query?query={}", encode(promql));
        let resp = send(self.addr, &Request::new("GET", &path))?;
        ensure!(
            resp.status == 200,
            "{promql}: HTTP {}: {}",
            resp.status,
            resp.text()
        );
        let body: Value = serde_json::from_slice(&resp.body)?;
        ensure!(body["status"] == "success", "{promql}: {body}");
        Ok(body["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok()))
    }

    /// Polls `promql` until `check` accepts its value.
    fn query_until(&self, promql: &str, check: impl Fn(f64) -> bool) -> Result<f64> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = None;
        loop {
            // Refused while Prometheus is still starting.
            if let Ok(Some(v)) = self.query(promql) {
                if check(v) {
                    return Ok(v);
                }
                last = Some(v);
            }
            if Instant::now() > deadline {
                bail!("{promql}: last value {last:?}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Percent-encodes a query parameter.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn prometheus_scrapes_the_template() -> Result<()> {
    let scratch = Scratch::new("start-metrics")?;
    let project = copy_project(&template(None)?, &scratch.0, "template")?;
    let run = builds::run(&Builder::Ours(sunpeak_bin().to_path_buf()), &project)?;
    ensure!(run.success(), "{}", run.failure_message());
    let server = Launch::ours(&project).start()?;
    let prometheus = Prometheus::start(&scratch.0, server.addr)?;
    // Scraped at least once before the traffic.
    prometheus
        .query_until("up{job=\"sunpeak\"}", |v| v == 1.0)
        .with_context(|| {
            std::fs::read_to_string(scratch.0.join("prometheus.log")).unwrap_or_default()
        })?;

    const CALLS: usize = 7;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    for _ in 0..CALLS {
        let result = client.call_tool(
            "show-albums",
            json!({"category": "food", "search": "", "limit": 3}),
        )?;
        ensure!(result.get("isError").is_none(), "{result}");
    }

    let series = "mcp_server_operation_duration_seconds{mcp_method_name=\"tools/call\",gen_ai_tool_name=\"show-albums\"}";
    let count = format!("sum({})", series.replacen('{', "_count{", 1));
    let calls = prometheus.query_until(&count, |v| v >= CALLS as f64)?;
    ensure!(calls == CALLS as f64, "{count} = {calls}, expected {CALLS}");
    let p90 = format!(
        "histogram_quantile(0.9, sum by (le) ({}))",
        series.replacen('{', "_bucket{", 1)
    );
    let quantile = prometheus.query_until(&p90, |v| v.is_finite())?;
    ensure!(quantile.is_finite() && quantile > 0.0, "{p90} = {quantile}");
    let sessions = prometheus.query_until("sunpeak_sessions_active", |v| v == 1.0)?;
    ensure!(sessions == 1.0);
    Ok(())
}
