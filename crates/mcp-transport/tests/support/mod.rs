//! Shared helpers of the integration tests: a test server on 127.0.0.1:0 and a small HTTP/1
//! client that can read SSE streams event by event.

#![allow(dead_code)]

pub mod redis;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use mcp_proto::{
    CallToolResult, Implementation, JsonObject, LoggingLevel, McpError, Resource, ResourceContents,
    Tool,
};
use mcp_transport::{
    HttpServer, McpServer, RequestContext, ShutdownOutcome, Transport, TransportConfig,
};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

pub const ACCEPT_BOTH: &str = "application/json, text/event-stream";
pub const V: &str = "2025-11-25";

/// Events the test tools report back to the test.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    Started(String),
    Cancelled(String),
    Finished(String),
}

/// A test server on a free loopback port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub transport: Transport,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<ShutdownOutcome>>,
    pub probes: mpsc::UnboundedReceiver<Probe>,
}

impl TestServer {
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// Triggers the graceful shutdown and waits for the outcome.
    pub async fn shutdown(mut self) -> ShutdownOutcome {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.task.take().expect("task").await.expect("server task")
    }

    /// Starts shutting down without waiting.
    pub fn begin_shutdown(&mut self) -> tokio::task::JoinHandle<ShutdownOutcome> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.task.take().expect("task")
    }

    /// The next probe event (fails after 5 s).
    pub async fn probe(&mut self) -> Probe {
        tokio::time::timeout(Duration::from_secs(5), self.probes.recv())
            .await
            .expect("probe timeout")
            .expect("probe channel")
    }
}

fn obj(v: Value) -> JsonObject {
    match v {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    }
}

/// The tools and resources the tests use.
pub fn test_server(probes: mpsc::UnboundedSender<Probe>) -> Arc<McpServer> {
    let p1 = probes.clone();
    let p2 = probes.clone();
    McpServer::builder()
        .server_info(Implementation::new("test-server", "1.0.0"))
        .logging(true)
        .resource_subscriptions(true)
        .tool(Tool::new("echo", "Echoes its arguments", obj(json!({"type":"object"}))), |_ctx: RequestContext, args: JsonObject| async move {
            Ok(CallToolResult::text(Value::Object(args).to_string()))
        })
        .tool(
            Tool::new("slow", "Sleeps for `ms` milliseconds, reporting start, cancellation and end", obj(json!({"type":"object","properties":{"ms":{"type":"integer"},"tag":{"type":"string"}}}))),
            move |ctx: RequestContext, args: JsonObject| {
                let probes = p1.clone();
                async move {
                    let tag = args.get("tag").and_then(Value::as_str).unwrap_or("slow").to_owned();
                    let ms = args.get("ms").and_then(Value::as_u64).unwrap_or(300);
                    let _ = probes.send(Probe::Started(tag.clone()));
                    let token = ctx.cancellation_token().clone();
                    let watcher_probes = probes.clone();
                    let watcher_tag = tag.clone();
                    tokio::spawn(async move {
                        token.cancelled().await;
                        let _ = watcher_probes.send(Probe::Cancelled(watcher_tag));
                    });
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    let _ = probes.send(Probe::Finished(tag.clone()));
                    Ok(CallToolResult::text(format!("slept {ms} ms")))
                }
            },
        )
        .tool(
            Tool::new("notify", "Sends `count` log messages `gap` ms apart, then answers", obj(json!({"type":"object"}))),
            |ctx: RequestContext, args: JsonObject| async move {
                let count = args.get("count").and_then(Value::as_u64).unwrap_or(3);
                let gap = args.get("gap").and_then(Value::as_u64).unwrap_or(20);
                for i in 0..count {
                    if i > 0 {
                        tokio::time::sleep(Duration::from_millis(gap)).await;
                    }
                    let level = if i % 2 == 0 { LoggingLevel::Info } else { LoggingLevel::Debug };
                    ctx.send_log(level, Some("test"), json!(format!("message {i}"))).map_err(|e| McpError::internal(e.to_string()))?;
                }
                Ok(CallToolResult::text(format!("sent {count}")))
            },
        )
        .tool(
            Tool::new("sample", "Asks the client's model", obj(json!({"type":"object"}))),
            move |ctx: RequestContext, args: JsonObject| {
                let probes = p2.clone();
                async move {
                    let prompt = args.get("prompt").and_then(Value::as_str).unwrap_or("hi").to_owned();
                    let r = ctx
                        .create_message(mcp_proto::CreateMessageRequestParams {
                            messages: vec![mcp_proto::SamplingMessage::user_text(prompt)],
                            max_tokens: 10,
                            ..Default::default()
                        })
                        .await;
                    let _ = probes.send(Probe::Finished("sample".into()));
                    let r = r?;
                    Ok(CallToolResult::text(format!("LLM response: {}", r.text().unwrap_or(""))))
                }
            },
        )
        .tool(Tool::new("close_stream", "Closes its SSE connection, then answers after `ms`", obj(json!({"type":"object"}))), |ctx: RequestContext, args: JsonObject| async move {
            ctx.send_log(LoggingLevel::Info, None, json!("before close")).ok();
            ctx.close_sse_stream();
            let ms = args.get("ms").and_then(Value::as_u64).unwrap_or(100);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            ctx.send_log(LoggingLevel::Info, None, json!("after close")).ok();
            Ok(CallToolResult::text("done after reconnect"))
        })
        .tool(Tool::new("whoami", "Reports what the context knows", obj(json!({"type":"object"}))), |ctx: RequestContext, _args: JsonObject| async move {
            let info = json!({
                "auth": ctx.auth().map(|a| a.value().clone()),
                "session": ctx.session_id(),
                "header": ctx.headers().get("x-test").and_then(|v| v.to_str().ok()),
                "version": ctx.protocol_version().as_str(),
                "client": ctx.client_info().map(|c| c.name.clone()),
                "meta": ctx.meta().cloned(),
            });
            Ok(CallToolResult::text(info.to_string()))
        })
        .static_resource(
            Resource::new("test://big", "big"),
            vec![ResourceContents::text("test://big", Some("text/html"), "<p>hello</p>".repeat(20_000))],
        )
        .static_resource(
            Resource::new("test://small", "small"),
            vec![ResourceContents::text("test://small", Some("text/plain"), "small")],
        )
        .build()
        .expect("valid test server")
}

/// Starts the test server with a configuration.
pub async fn start(config: TransportConfig) -> TestServer {
    let (tx, rx) = mpsc::unbounded_channel();
    start_with(test_server(tx), config, rx).await
}

/// Starts any server definition.
pub async fn start_with(
    server: Arc<McpServer>,
    config: TransportConfig,
    probes: mpsc::UnboundedReceiver<Probe>,
) -> TestServer {
    let transport = Transport::new(server, config);
    let bound = HttpServer::new(transport.clone())
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = bound.local_addr();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(bound.serve_until(async move {
        let _ = stop_rx.await;
    }));
    TestServer {
        addr,
        transport,
        stop: Some(stop_tx),
        task: Some(task),
        probes,
    }
}

/// A response whose body has not been read yet.
pub struct Streaming {
    pub status: StatusCode,
    pub headers: HeaderMap,
    body: Incoming,
    buf: Vec<u8>,
    // Keeps the connection task alive.
    _conn: tokio::task::JoinHandle<()>,
}

/// A fully read response.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// The `data:` payloads of an SSE body, parsed (empty data skipped).
    pub fn sse_messages(&self) -> Vec<Value> {
        parse_sse(&String::from_utf8_lossy(&self.body))
            .into_iter()
            .filter(|e| !e.data.is_empty())
            .map(|e| serde_json::from_str(&e.data).expect("SSE data is JSON"))
            .collect()
    }

    /// The one JSON-RPC message of the reply, whether JSON or SSE.
    pub fn message(&self) -> Value {
        if self
            .content_type()
            .is_some_and(|c| c.starts_with("text/event-stream"))
        {
            self.sse_messages().pop().expect("an SSE message")
        } else {
            self.json()
        }
    }
}

/// One SSE event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub retry: Option<u64>,
    pub data: String,
}

pub fn parse_sse(text: &str) -> Vec<SseEvent> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        if block.trim().is_empty() || block.lines().all(|l| l.starts_with(':')) {
            continue;
        }
        let mut e = SseEvent::default();
        let mut data = Vec::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("id:") {
                e.id = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("retry:") {
                e.retry = v.trim().parse().ok();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
            }
        }
        e.data = data.join("\n");
        out.push(e);
    }
    out
}

impl Streaming {
    /// Reads until one complete SSE event (not a comment) is buffered; `None` at the end.
    pub async fn next_event(&mut self) -> Option<SseEvent> {
        loop {
            let text = String::from_utf8_lossy(&self.buf).to_string();
            if let Some(pos) = text.find("\n\n") {
                let block = text[..pos].to_owned();
                self.buf.drain(..pos + 2);
                if let Some(e) = parse_sse(&(block + "\n\n")).into_iter().next() {
                    return Some(e);
                }
                continue;
            }
            let frame = tokio::time::timeout(Duration::from_secs(5), self.body.frame())
                .await
                .expect("SSE read timeout")?;
            let Ok(frame) = frame else { return None };
            if let Ok(data) = frame.into_data() {
                self.buf.extend_from_slice(&data);
            }
        }
    }

    /// The next event with JSON data (skips priming events).
    pub async fn next_message(&mut self) -> Option<(SseEvent, Value)> {
        loop {
            let e = self.next_event().await?;
            if !e.data.is_empty() {
                let v = serde_json::from_str(&e.data).expect("JSON data");
                return Some((e, v));
            }
        }
    }

    /// Reads the rest of the body.
    pub async fn finish(mut self) -> Resp {
        let rest = tokio::time::timeout(Duration::from_secs(5), self.body.collect())
            .await
            .expect("body timeout")
            .expect("body")
            .to_bytes();
        let mut all = std::mem::take(&mut self.buf);
        all.extend_from_slice(&rest);
        Resp {
            status: self.status,
            headers: self.headers,
            body: Bytes::from(all),
        }
    }
}

/// A request builder over a fresh HTTP/1 connection.
pub struct Req {
    addr: SocketAddr,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Bytes,
}

pub fn req(addr: SocketAddr, method: Method) -> Req {
    Req {
        addr,
        method,
        path: "/mcp".into(),
        headers: vec![("host".into(), addr.to_string())],
        body: Bytes::new(),
    }
}

/// A POST with the usual MCP headers and a JSON body.
pub fn post(addr: SocketAddr, body: Value) -> Req {
    req(addr, Method::POST)
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "application/json")
        .json(body)
}

impl Req {
    pub fn path(mut self, p: &str) -> Self {
        self.path = p.into();
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn without(mut self, k: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
        self
    }

    pub fn session(self, sid: &str) -> Self {
        self.header("mcp-session-id", sid)
            .header("mcp-protocol-version", V)
    }

    pub fn json(mut self, v: Value) -> Self {
        self.body = Bytes::from(v.to_string());
        self
    }

    pub fn raw(mut self, b: impl Into<Bytes>) -> Self {
        self.body = b.into();
        self
    }

    /// Sends and returns the response head; the body is read later.
    pub async fn stream(self) -> Streaming {
        let tcp = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .expect("handshake");
        let conn = tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut b = Request::builder().method(self.method).uri(self.path);
        for (k, v) in &self.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let r = b.body(Full::new(self.body)).expect("request");
        let resp = tokio::time::timeout(Duration::from_secs(10), sender.send_request(r))
            .await
            .expect("response timeout")
            .expect("response");
        let (parts, body) = resp.into_parts();
        Streaming {
            status: parts.status,
            headers: parts.headers,
            body,
            buf: Vec::new(),
            _conn: conn,
        }
    }

    /// Sends and reads the whole response.
    pub async fn send(self) -> Resp {
        self.stream().await.finish().await
    }
}

/// `initialize` at a version; returns the session id.
pub async fn initialize(addr: SocketAddr, version: &str, capabilities: Value) -> String {
    let r = post(addr, json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion": version, "capabilities": capabilities, "clientInfo": {"name":"it","version":"0"}}}))
    .send()
    .await;
    assert_eq!(r.status, 200, "initialize: {:?}", r.body);
    let sid = r.header("mcp-session-id").expect("session id").to_owned();
    let init = post(
        addr,
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(init.status, 202);
    sid
}

/// A JSON-RPC request body.
pub fn rpc(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":method,"params":params})
}

/// Asserts a JSON-RPC error code in a reply.
pub fn assert_rpc_error(r: &Resp, code: i64) {
    let m = r.message();
    assert_eq!(m["error"]["code"], code, "reply: {m}");
}
