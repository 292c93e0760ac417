//! Resource limits of `sunpeak start` through the real binary, as an unauthenticated client on
//! the internet would meet them: a batch cannot multiply work or memory, byte limits on tool
//! results and on the SSE history, and log lines a tool or a client cannot forge. Memory
//! figures come from `/proc/<pid>/status` (VmRSS, VmHWM) of the server process and are printed
//! in the failure messages.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use e2e_tests::start::http::{Request, Response, Stream, send, send_with_timeout};
use e2e_tests::start::server::Launch;
use e2e_tests::{sunpeak_bin, workspace_root};
use serde_json::{Value, json};

/// A copy of the `limits` fixture with an 800 KB resource added (not committed: generated).
struct Project {
    dir: PathBuf,
}

impl Project {
    fn new(name: &str) -> Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("sunpeak-e2e-limits-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let status = Command::new("cp")
            .arg("-a")
            .arg(workspace_root().join("tests/e2e/fixtures/start/limits"))
            .arg(&dir)
            .status()?;
        ensure!(status.success(), "cp -a failed");
        let big = dir.join("dist/big");
        std::fs::create_dir_all(&big)?;
        let mut html = String::from("<!doctype html><html><body>");
        let mut i = 0u64;
        while html.len() < 800 * 1024 {
            // Varied text, so that it does not compress to nothing.
            html.push_str(&format!("<p>row {i} {}</p>", i.wrapping_mul(2_654_435_761)));
            i += 1;
        }
        html.push_str("</body></html>");
        std::fs::write(big.join("big.html"), html)?;
        std::fs::write(
            big.join("big.json"),
            json!({"name": "big", "title": "Big", "description": "An 800 KB resource",
                   "uri": "ui://big-00000001"})
            .to_string(),
        )?;
        Ok(Project { dir })
    }

    fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// VmRSS and VmHWM of a process, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// A session at a given protocol version, over raw requests.
struct Session {
    addr: std::net::SocketAddr,
    id: String,
    version: &'static str,
}

impl Session {
    fn open(addr: std::net::SocketAddr, version: &'static str) -> Result<Self> {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": {},
                       "clientInfo": {"name": "e2e-limits", "version": "1"}}});
        let resp = send(addr, &Request::mcp_post(&init))?;
        ensure!(
            resp.status == 200,
            "initialize: {} {}",
            resp.status,
            resp.text()
        );
        let id = resp
            .header("mcp-session-id")
            .context("no session id")?
            .to_string();
        let session = Session { addr, id, version };
        let done =
            session.post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        ensure!(done.status == 202, "initialized: {}", done.status);
        Ok(session)
    }

    fn request(&self, body: &Value) -> Request {
        Request::mcp_post(body)
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", self.version)
    }

    fn post(&self, body: &Value) -> Result<Response> {
        send(self.addr, &self.request(body))
    }

    fn call(&self, id: u64, tool: &str, arguments: Value) -> Result<Value> {
        let resp = self.post(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                                     "params": {"name": tool, "arguments": arguments}}))?;
        ensure!(
            resp.status == 200,
            "tools/call {tool}: {} {}",
            resp.status,
            resp.text()
        );
        resp.messages()?
            .into_iter()
            .find(|m| m["id"] == id)
            .context("no answer")
    }
}

#[test]
fn a_batch_of_big_reads_is_capped_in_bytes_and_memory() -> Result<()> {
    let project = Project::new("batch")?;
    let server = Launch::ours(project.path()).start()?;
    let session = Session::open(server.addr, "2025-03-26")?;
    let batch: Vec<Value> = (1..=400)
        .map(|i| {
            json!({"jsonrpc": "2.0", "id": i, "method": "resources/read",
                        "params": {"uri": "ui://big-00000001"}})
        })
        .collect();
    let batch = Value::Array(batch);
    std::thread::sleep(Duration::from_millis(300));
    let (rss_before, _) = memory(server.pid());

    // gzip: compressed on the blocking pool; the test only checks its size and headers.
    let started = Instant::now();
    let gz = send(
        server.addr,
        &session.request(&batch).header("accept-encoding", "gzip"),
    )?;
    let gz_took = started.elapsed();
    ensure!(gz.status == 200 && gz.header("content-encoding") == Some("gzip"));
    let plain = session.post(&batch)?;
    ensure!(plain.status == 200, "{}", plain.status);
    let (rss_after, hwm) = memory(server.pid());
    let growth = hwm.saturating_sub(rss_before);
    let figures = format!(
        "server VmRSS before {}, after {}, VmHWM {} (growth {}); reply {} bytes plain, {} gzipped in {gz_took:?}",
        mib(rss_before),
        mib(rss_after),
        mib(hwm),
        mib(growth),
        plain.body.len(),
        gz.body.len()
    );
    println!("{figures}");

    let messages = plain.messages()?;
    ensure!(
        messages.len() == 400,
        "{} answers; {figures}",
        messages.len()
    );
    let ok = messages
        .iter()
        .filter(|m| m.get("result").is_some())
        .count();
    let capped = messages
        .iter()
        .filter(|m| {
            m["error"]["message"]
                .as_str()
                .is_some_and(|t| t.starts_with("Reply too large"))
        })
        .count();
    ensure!(
        ok + capped == 400,
        "{ok} results, {capped} capped; {figures}"
    );
    ensure!(
        (60..=90).contains(&ok),
        "{ok} results within 64 MiB; {figures}"
    );
    ensure!(
        plain.body.len() < 70 * 1024 * 1024,
        "reply of {} bytes; {figures}",
        plain.body.len()
    );
    ensure!(
        growth < 256 * 1024,
        "peak RSS grew by {}; {figures}",
        mib(growth)
    );
    // Still serving.
    let health = send_with_timeout(
        server.addr,
        &Request::new("GET", "/health"),
        Duration::from_secs(2),
    )?;
    ensure!(health.status == 200);
    Ok(())
}

#[test]
fn a_batch_runs_at_most_16_calls_at_once_and_each_sees_the_headers() -> Result<()> {
    let project = Project::new("concurrency")?;
    let server = Launch::ours(project.path()).start()?;
    let session = Session::open(server.addr, "2025-03-26")?;
    let batch: Vec<Value> = (1..=48)
        .map(|i| {
            json!({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                        "params": {"name": "concurrency", "arguments": {}}})
        })
        .collect();
    let mut request = session.request(&Value::Array(batch));
    for i in 0..40 {
        request = request.header(&format!("x-padding-{i}"), &"p".repeat(100));
    }
    let started = Instant::now();
    let resp = send(server.addr, &request)?;
    let took = started.elapsed();
    ensure!(resp.status == 200, "{} {}", resp.status, resp.text());
    let messages = resp.messages()?;
    ensure!(messages.len() == 48);
    let mut most = 0;
    for m in &messages {
        let text = m["result"]["content"][0]["text"]
            .as_str()
            .with_context(|| format!("{m}"))?;
        let seen: Value = serde_json::from_str(text)?;
        most = most.max(seen["most"].as_u64().unwrap_or(0));
        // Every call sees the request's headers (40 padding headers and the MCP ones).
        ensure!(seen["headers"].as_u64().unwrap_or(0) >= 45, "{seen}");
    }
    ensure!(
        (2..=16).contains(&most),
        "{most} calls ran at once (48 calls of 100 ms took {took:?})"
    );
    Ok(())
}

#[test]
fn a_tool_result_over_the_frame_cap_is_an_error_naming_the_tool() -> Result<()> {
    let project = Project::new("frames")?;
    let server = Launch::ours(project.path())
        .args(&["--max-tool-result-bytes", "1MiB"])
        .start()?;
    let session = Session::open(server.addr, "2025-11-25")?;
    let (rss_before, _) = memory(server.pid());
    let big = session.call(1, "big-result", json!({"bytes": 3_000_000}))?;
    let result = &big["result"];
    let text = result["content"][0]["text"].as_str().unwrap_or("");
    ensure!(result["isError"] == true, "{big}");
    ensure!(
        text.contains("big-result") && text.contains("1048576 bytes"),
        "{text}"
    );
    // The worker was not replaced: the next call answers at once, and nothing restarted.
    let small = session.call(2, "big-result", json!({"bytes": 1000}))?;
    ensure!(
        small["result"]["content"][0]["text"].as_str().map(str::len) == Some(1000),
        "{small}"
    );
    let (rss_after, hwm) = memory(server.pid());
    ensure!(
        !server
            .stderr()
            .iter()
            .chain(server.stdout().iter())
            .any(|l| l.contains("restart")),
        "a worker restarted: {:?}",
        server.stderr()
    );
    ensure!(
        hwm.saturating_sub(rss_before) < 32 * 1024,
        "VmRSS before {}, after {}, VmHWM {}",
        mib(rss_before),
        mib(rss_after),
        mib(hwm)
    );
    Ok(())
}

#[test]
fn a_detached_result_too_big_for_the_history_is_replaced_by_an_error() -> Result<()> {
    let project = Project::new("history")?;
    let server = Launch::ours(project.path()).args(&["--sse"]).start()?;
    let session = Session::open(server.addr, "2025-11-25")?;
    // 6 MB after 500 ms; the history keeps 4 MiB per session.
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "big-result", "arguments": {"bytes": 6_000_000, "delay": 500}}});
    let mut stream = Stream::open(
        server.addr,
        &session.request(&call),
        Duration::from_secs(10),
    )?;
    ensure!(stream.status == 200);
    let priming = stream.next_event()?.context("no priming event")?;
    let last_id = priming.id.context("priming event without id")?;
    drop(stream); // the client goes away before the result
    std::thread::sleep(Duration::from_millis(1500));
    let (rss, hwm) = memory(server.pid());
    let resume = Request::new("GET", "/mcp")
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session.id)
        .header("mcp-protocol-version", "2025-11-25")
        .header("last-event-id", &last_id);
    let mut replay = Stream::open(server.addr, &resume, Duration::from_secs(5))?;
    ensure!(replay.status == 200, "{}", replay.status);
    let event = replay.next_event()?.context("nothing replayed")?;
    let message: Value = serde_json::from_str(&event.data)?;
    let shown = &event.data[..event.data.len().min(300)];
    ensure!(message["id"] == 7, "{shown}");
    let error = message["error"]["message"].as_str().unwrap_or("");
    ensure!(
        error.contains("too large to keep"),
        "replayed {} bytes: {shown}...; server VmRSS {}, VmHWM {}",
        event.data.len(),
        mib(rss),
        mib(hwm)
    );
    Ok(())
}

#[test]
fn tool_output_and_client_text_cannot_forge_log_lines() -> Result<()> {
    let project = Project::new("logs")?;
    let server = Launch::ours(project.path())
        .env("SUNPEAK_LOG_HEADERS", "1")
        .start()?;
    let session = Session::open(server.addr, "2025-11-25")?;
    let resp = send(
        server.addr,
        &session
            .request(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                             "params": {"name": "noisy", "arguments": {}}}))
            .header("authorization", "Bearer top-secret-token")
            .header("cookie", "sid=secret-cookie"),
    )?;
    ensure!(resp.status == 200, "{}", resp.status);
    server.wait_for(Duration::from_secs(5), |l| l.contains("second"))?;
    // A bogus session id of 5,000 characters.
    let bogus = "b".repeat(5000);
    let unknown = send(
        server.addr,
        &Request::mcp_post(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
            .header("mcp-session-id", &bogus),
    )?;
    ensure!(unknown.status == 404, "{}", unknown.status);
    server.wait_for(Duration::from_secs(5), |l| {
        l.contains("← tools/list (bbbbbbbb...)")
    })?;
    // Logged as a transport error, with the id as a field.
    let refused = send(
        server.addr,
        &Request::new("GET", "/mcp")
            .header("accept", "application/json")
            .header("mcp-session-id", &bogus),
    )?;
    ensure!(refused.status == 406, "{}", refused.status);
    server.wait_for(Duration::from_secs(5), |l| {
        l.contains("Transport error (bbbbbbbb...)")
    })?;
    std::thread::sleep(Duration::from_millis(200));
    let lines: Vec<String> = server.stdout().into_iter().chain(server.stderr()).collect();
    let all = lines.join("\n");
    for l in &lines {
        ensure!(
            !l.contains('\u{1b}'),
            "an ANSI escape reached the log: {l:?}"
        );
        ensure!(
            !l.starts_with("[MCP] Session started: forged")
                && !l.starts_with("[MCP] ← tools/call (forged"),
            "a forged line: {l:?}\n{all}"
        );
        ensure!(
            l.len() < 1000,
            "a long line: {} bytes: {}...",
            l.len(),
            &l[..100.min(l.len())]
        );
    }
    ensure!(
        all.contains("first\\n[MCP] Session started: forged...\\n\\u{1b}[31mred"),
        "{all}"
    );
    ensure!(
        !all.contains("top-secret-token") && !all.contains("secret-cookie"),
        "{all}"
    );
    ensure!(all.contains("[redacted]"), "{all}");
    ensure!(
        !all.contains(&bogus[..100]),
        "the bogus session id was logged whole"
    );
    Ok(())
}

#[test]
fn a_stuck_stdout_does_not_stop_the_server() -> Result<()> {
    let project = Project::new("stdout")?;
    // stdout is a pipe nobody reads: once its 64 KiB are full, every write would block.
    let mut child = Command::new(sunpeak_bin())
        .args(["start", "--host", "127.0.0.1", "--port", "0"])
        .current_dir(project.path())
        .env("SUNPEAK_LOG_HEADERS", "1")
        .env_remove("PORT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let result = (|| -> Result<()> {
        let mut out = child.stdout.take().context("stdout")?;
        // Read only up to the listening line.
        let mut seen = Vec::new();
        let mut byte = [0u8; 1];
        let deadline = Instant::now() + Duration::from_secs(60);
        while !String::from_utf8_lossy(&seen).contains("Health check: http://") {
            ensure!(Instant::now() < deadline, "no listening line");
            if out.read(&mut byte)? == 0 {
                bail!("stdout closed");
            }
            seen.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&seen).into_owned();
        let port: u16 = text
            .split("Server listening on http://127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .context("no port")?;
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        // Each logged request prints its headers: ~2 KB of log per request, 400 requests.
        let session = Session::open(addr, "2025-11-25")?;
        let started = Instant::now();
        for i in 0..400 {
            let mut req =
                session.request(&json!({"jsonrpc": "2.0", "id": i, "method": "tools/list"}));
            for h in 0..10 {
                req = req.header(&format!("x-filler-{h}"), &"f".repeat(150));
            }
            let resp = send_with_timeout(addr, &req, Duration::from_secs(2))
                .with_context(|| format!("request {i} got no answer within 2 s"))?;
            ensure!(resp.status == 200, "request {i}: {}", resp.status);
        }
        let took = started.elapsed();
        let health = send_with_timeout(
            addr,
            &Request::new("GET", "/health"),
            Duration::from_secs(2),
        )?;
        ensure!(health.status == 200);
        ensure!(took < Duration::from_secs(20), "400 requests took {took:?}");
        drop(out);
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// Sends raw bytes and returns what comes back until the server closes (or `timeout`).
fn raw_exchange(addr: std::net::SocketAddr, bytes: &[u8], timeout: Duration) -> Result<Vec<u8>> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(timeout))?;
    let _ = s.write_all(bytes);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    Ok(got)
}

#[test]
fn an_oversized_request_head_gets_431_not_a_reset() -> Result<()> {
    let project = Project::new("head")?;
    let server = Launch::ours(project.path()).start()?;
    for size in [20 * 1024, 70 * 1024, 300 * 1024] {
        let head = format!(
            "GET /health HTTP/1.1\r\nHost: {}\r\nX-Big: {}\r\n\r\n",
            server.addr,
            "h".repeat(size)
        );
        let got = raw_exchange(server.addr, head.as_bytes(), Duration::from_secs(5))?;
        let text = String::from_utf8_lossy(&got);
        ensure!(
            text.starts_with("HTTP/1.1 431"),
            "{size}-byte header: got {:?}",
            &text[..text.len().min(100)]
        );
    }
    // 10 KiB of headers are fine.
    let ok = send(
        server.addr,
        &Request::new("GET", "/health").header("x-ok", &"o".repeat(10 * 1024)),
    )?;
    ensure!(ok.status == 200, "{}", ok.status);
    Ok(())
}
