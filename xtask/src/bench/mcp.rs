//! MCP requests as bytes for the load generator (both eras), sessions, and checks that a
//! scenario's reply is a real result (a 200 carrying a JSON-RPC error would otherwise count as
//! a success). Shared by `bench transport` and `bench start`.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::bench::load::{self, Reply, http_request, request_on};

/// The protocol version the benchmark speaks.
pub const VERSION: &str = "2025-11-25";

/// The `initialize` request.
pub fn initialize_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": VERSION,
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"}
    }})
}

/// A POST to `/mcp`, in a session when `session` is set, asking for gzip when `gzip`.
pub fn post(addr: SocketAddr, body: &Value, session: Option<&str>, gzip: bool) -> Vec<u8> {
    let mut headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("Accept", "application/json, text/event-stream".to_string()),
    ];
    if let Some(session) = session {
        headers.push(("Mcp-Session-Id", session.to_string()));
        headers.push(("Mcp-Protocol-Version", VERSION.to_string()));
    }
    if gzip {
        headers.push(("Accept-Encoding", "gzip".to_string()));
    }
    http_request("POST", "/mcp", addr, &headers, body.to_string().as_bytes())
}

/// A 2026-07-28 request: `body` with the per-request `_meta`, and the headers mirroring it
/// (`Mcp-Name` from the tool name or resource URI).
pub fn modern_post(addr: SocketAddr, body: &Value, gzip: bool) -> Vec<u8> {
    let mut body = body.clone();
    let method = body["method"].as_str().unwrap_or_default().to_owned();
    if !body["params"].is_object() {
        body["params"] = json!({});
    }
    body["params"]["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"}
    });
    let mut headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("Accept", "application/json, text/event-stream".to_string()),
        ("MCP-Protocol-Version", "2026-07-28".to_string()),
        ("Mcp-Method", method),
    ];
    let name = body["params"]["name"]
        .as_str()
        .or_else(|| body["params"]["uri"].as_str());
    if let Some(name) = name {
        headers.push(("Mcp-Name", name.to_string()));
    }
    if gzip {
        headers.push(("Accept-Encoding", "gzip".to_string()));
    }
    http_request("POST", "/mcp", addr, &headers, body.to_string().as_bytes())
}

/// A new session on an open connection: `initialize` + `notifications/initialized`.
pub fn new_session(
    addr: SocketAddr,
    conn: &mut std::io::BufReader<std::net::TcpStream>,
) -> Result<String> {
    let (status, headers, body) = request_on(conn, &post(addr, &initialize_body(), None, false))?;
    if status != 200 {
        bail!(
            "initialize: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let session = headers
        .iter()
        .find(|(n, _)| n == "mcp-session-id")
        .map(|(_, v)| v.clone())
        .context("initialize: no mcp-session-id header")?;
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (status, _, _) = request_on(conn, &post(addr, &initialized, Some(&session), false))?;
    if status != 202 {
        bail!("notifications/initialized: HTTP {status}, expected 202");
    }
    Ok(session)
}

/// A new session on a connection of its own.
pub fn new_session_once(addr: SocketAddr) -> Result<String> {
    new_session(addr, &mut load::connect(addr)?)
}

/// Opens `count` sessions over `threads` keep-alive connections; returns their ids.
pub fn open_sessions(addr: SocketAddr, count: usize, threads: usize) -> Result<Vec<String>> {
    let threads = threads.clamp(1, count.max(1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            std::thread::spawn(move || -> Result<Vec<String>> {
                let mut conn = load::connect(addr)?;
                let mut ids = Vec::new();
                let mut i = t;
                while i < count {
                    ids.push(new_session(addr, &mut conn)?);
                    i += threads;
                }
                Ok(ids)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(count);
    for h in handles {
        all.extend(
            h.join()
                .map_err(|_| anyhow::anyhow!("a session thread panicked"))??,
        );
    }
    Ok(all)
}

/// The JSON-RPC message of a JSON or single-event SSE reply body.
pub fn parse_reply(body: &[u8]) -> Result<Value> {
    let text = String::from_utf8_lossy(body);
    if let Ok(value) = serde_json::from_str(&text) {
        return Ok(value);
    }
    let data = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .find(|d| !d.is_empty())
        .context("reply is neither JSON nor SSE")?;
    Ok(serde_json::from_str(data)?)
}

/// Fails unless the reply is a 200 with a JSON-RPC result (not an error).
pub fn expect_result(what: &str, reply: &Reply) -> Result<Value> {
    let (status, _, body) = reply;
    if *status != 200 {
        bail!("{what}: HTTP {status}: {}", String::from_utf8_lossy(body));
    }
    let v = parse_reply(body).with_context(|| format!("{what}: reading the reply"))?;
    if v.get("result").is_none() || v.get("error").is_some() {
        bail!("{what}: not a result: {v}");
    }
    Ok(v)
}
