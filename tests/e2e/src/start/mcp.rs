//! A minimal MCP client over [`super::http`]: initialize, then requests in a session (or
//! without one, for stateless servers). It returns raw JSON-RPC messages, so tests can compare
//! servers byte for byte where that matters.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::http::{Request, Response, send};

/// The protocol version the tests negotiate.
pub const PROTOCOL_VERSION: &str = "2025-11-25";

/// One client (one session once initialized).
pub struct McpClient {
    addr: SocketAddr,
    /// The session id, after `initialize`.
    pub session: Option<String>,
    headers: Vec<(String, String)>,
    next_id: u64,
}

impl McpClient {
    /// A client for the server at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        McpClient {
            addr,
            session: None,
            headers: Vec::new(),
            next_id: 1,
        }
    }

    /// Adds a header to every request (e.g. `authorization`, `user-agent`).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The request for a JSON-RPC body, with the session and extra headers.
    pub fn post(&self, body: &Value) -> Request {
        let mut request = Request::mcp_post(body);
        if let Some(session) = &self.session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", PROTOCOL_VERSION);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request
    }

    /// Sends a JSON-RPC body and returns the HTTP response.
    pub fn post_raw(&self, body: &Value) -> Result<Response> {
        send(self.addr, &self.post(body))
    }

    /// `initialize` + `notifications/initialized`; returns the initialize response message.
    pub fn initialize(&mut self) -> Result<Value> {
        let body = json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                       "clientInfo": {"name": "e2e", "version": "1.0.0"}}
        });
        let resp = self.post_raw(&body)?;
        if resp.status != 200 {
            bail!("initialize: HTTP {}: {}", resp.status, resp.text());
        }
        self.session = resp.header("mcp-session-id").map(String::from);
        let message = resp
            .messages()?
            .into_iter()
            .next()
            .context("no initialize reply")?;
        let notified =
            self.post_raw(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        if notified.status != 202 {
            bail!("notifications/initialized: HTTP {}", notified.status);
        }
        Ok(message)
    }

    /// Sends a request and returns its JSON-RPC response message (notifications sent before it
    /// on an SSE stream are skipped; see [`McpClient::request_all`]).
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value> {
        let messages = self.request_all(method, params)?;
        messages
            .into_iter()
            .find(|m| m.get("id").is_some() && m.get("method").is_none())
            .context("no response message")
    }

    /// Sends a request and returns every message of the reply (notifications, then response).
    pub fn request_all(&mut self, method: &str, params: Value) -> Result<Vec<Value>> {
        let id = self.next_id;
        self.next_id += 1;
        let mut body = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            body["params"] = params;
        }
        let resp = self.post_raw(&body)?;
        if resp.status != 200 {
            bail!("{method}: HTTP {}: {}", resp.status, resp.text());
        }
        resp.messages()
    }

    /// The `result` of a request, failing on a JSON-RPC error.
    pub fn result(&mut self, method: &str, params: Value) -> Result<Value> {
        let message = self.request(method, params)?;
        match message.get("result") {
            Some(result) => Ok(result.clone()),
            None => bail!("{method} failed: {message}"),
        }
    }

    /// `tools/call`, returning the result (which may be an `isError` result).
    pub fn call_tool(&mut self, name: &str, arguments: Value) -> Result<Value> {
        self.result("tools/call", json!({"name": name, "arguments": arguments}))
    }
}
