//! A small blocking HTTP/1.1 client over `TcpStream`, written for the tests: it sends exactly
//! the bytes a test asks for (malformed `Host` headers, oversized bodies), reads chunked and
//! fixed-length bodies, and parses SSE streams. One request per connection
//! (`Connection: close`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// A response: status, headers (names lower-case, in order) and the decoded body.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header (name, value) pairs, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The JSON-RPC messages of the body: one JSON value (`application/json`) or the `data:`
    /// payloads of an SSE stream (`text/event-stream`).
    pub fn messages(&self) -> Result<Vec<Value>> {
        let content_type = self.header("content-type").unwrap_or("");
        if content_type.starts_with("text/event-stream") {
            Ok(sse_events(&self.text())
                .into_iter()
                .filter(|e| !e.data.is_empty())
                .map(|e| serde_json::from_str(&e.data))
                .collect::<Result<_, _>>()
                .context("SSE data is not JSON")?)
        } else {
            let value: Value = serde_json::from_slice(&self.body).with_context(|| {
                format!("body is not JSON (status {}): {}", self.status, self.text())
            })?;
            Ok(match value {
                Value::Array(items) => items,
                other => vec![other],
            })
        }
    }
}

/// One SSE event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SseEvent {
    /// `id:`.
    pub id: Option<String>,
    /// `event:`.
    pub event: Option<String>,
    /// `data:` lines joined with `\n`.
    pub data: String,
}

/// Parses an SSE stream's text into events.
pub fn sse_events(text: &str) -> Vec<SseEvent> {
    let mut events = Vec::new();
    let mut current = SseEvent::default();
    let mut has_field = false;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            if has_field {
                events.push(std::mem::take(&mut current));
                has_field = false;
            }
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if !current.data.is_empty() {
                    current.data.push('\n');
                }
                current.data.push_str(value);
                has_field = true;
            }
            "id" => {
                current.id = Some(value.to_string());
                has_field = true;
            }
            "event" => {
                current.event = Some(value.to_string());
                has_field = true;
            }
            _ => {}
        }
    }
    if has_field {
        events.push(current);
    }
    events
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers; `Host`, `Content-Length` and `Connection` are added unless present.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Request {
    /// A request without headers or body.
    pub fn new(method: &str, path: &str) -> Self {
        Request {
            method: method.into(),
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// A POST to `/mcp` with the headers an MCP client sends and a JSON body.
    pub fn mcp_post(body: &Value) -> Self {
        Request::new("POST", "/mcp")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string())
    }

    fn has(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// The bytes on the wire.
    pub fn to_bytes(&self, addr: SocketAddr) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.1\r\n", self.method, self.path);
        if !self.has("host") {
            head.push_str(&format!("Host: {addr}\r\n"));
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.has("content-length") && (!self.body.is_empty() || self.method == "POST") {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        if !self.has("connection") {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Sends a request and reads the whole response (until the body ends).
pub fn send(addr: SocketAddr, request: &Request) -> Result<Response> {
    send_with_timeout(addr, request, Duration::from_secs(60))
}

/// [`send`] with a read timeout.
pub fn send_with_timeout(
    addr: SocketAddr,
    request: &Request,
    timeout: Duration,
) -> Result<Response> {
    let mut stream = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    // The server may answer (413) and close before the whole body is written.
    let _ = stream.write_all(&request.to_bytes(addr));
    let mut reader = BufReader::new(stream);
    read_response(&mut reader, request.method == "HEAD")
}

/// Reads one response from a buffered stream.
pub fn read_response(reader: &mut impl BufRead, head_only: bool) -> Result<Response> {
    let (status, headers) = read_head(reader)?;
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if head_only || status == 204 || status == 304 {
        // No body.
    } else if find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .with_context(|| format!("bad chunk size line {line:?}"))?;
            if size == 0 {
                // Trailers until the empty line.
                loop {
                    let mut trailer = String::new();
                    if reader.read_line(&mut trailer)? == 0 || trailer.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if let Some(len) = find("content-length") {
        let len: usize = len.trim().parse().context("bad content-length")?;
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else {
        reader.read_to_end(&mut body)?;
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn read_head(reader: &mut impl BufRead) -> Result<(u16, Vec<(String, String)>)> {
    let mut status_line = String::new();
    if reader.read_line(&mut status_line)? == 0 {
        bail!("connection closed before a response");
    }
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    Ok((status, headers))
}

/// An open response whose body is read incrementally (a GET SSE stream, or a POST answered
/// with SSE that is still running).
pub struct Stream {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    reader: BufReader<TcpStream>,
    chunked: bool,
    chunk_left: usize,
    buffer: String,
}

impl Stream {
    /// Sends `request` and returns once the response head has arrived.
    pub fn open(addr: SocketAddr, request: &Request, timeout: Duration) -> Result<Self> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.write_all(&request.to_bytes(addr))?;
        let mut reader = BufReader::new(stream);
        let (status, headers) = read_head(&mut reader)?;
        let chunked = headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
        Ok(Stream {
            status,
            headers,
            reader,
            chunked,
            chunk_left: 0,
            buffer: String::new(),
        })
    }

    /// Reads until one complete SSE event is buffered and returns it; `None` at the end of the
    /// stream. Fails on the read timeout.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = sse_events(&raw).into_iter().next() {
                    return Ok(Some(event));
                }
                continue;
            }
            let Some(bytes) = self.read_some()? else {
                return Ok(None);
            };
            self.buffer
                .push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n"));
        }
    }

    fn read_some(&mut self) -> Result<Option<Vec<u8>>> {
        if self.chunked {
            if self.chunk_left == 0 {
                let mut line = String::new();
                if self.reader.read_line(&mut line)? == 0 {
                    return Ok(None);
                }
                if line.trim().is_empty() {
                    line.clear();
                    if self.reader.read_line(&mut line)? == 0 {
                        return Ok(None);
                    }
                }
                let size = usize::from_str_radix(line.trim(), 16)
                    .with_context(|| format!("bad chunk size line {line:?}"))?;
                if size == 0 {
                    return Ok(None);
                }
                self.chunk_left = size;
            }
            let mut buf = vec![0u8; self.chunk_left.min(16 * 1024)];
            let n = self.reader.read(&mut buf)?;
            if n == 0 {
                return Ok(None);
            }
            self.chunk_left -= n;
            buf.truncate(n);
            Ok(Some(buf))
        } else {
            let mut buf = vec![0u8; 16 * 1024];
            let n = self.reader.read(&mut buf)?;
            if n == 0 {
                return Ok(None);
            }
            buf.truncate(n);
            Ok(Some(buf))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sse() {
        let events = sse_events(
            "id: 1\nevent: message\ndata: {\"a\":1}\n\n: comment\n\nretry: 5\ndata:\n\n",
        );
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].id.as_deref(), Some("1"));
        assert_eq!(events[0].data, "{\"a\":1}");
        assert_eq!(events[1].data, "");
    }

    #[test]
    fn parses_chunked() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let resp = read_response(&mut &raw[..], false).unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.text(), "abcde");
        assert_eq!(resp.header("Content-Type"), Some("text/plain"));
    }
}
