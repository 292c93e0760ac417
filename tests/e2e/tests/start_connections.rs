//! Connections and slow clients against the real `sunpeak start`: idle and trickling
//! connections do not starve other clients, connections past `--max-connections` are closed
//! at once, and a body must arrive within `--body-timeout` however steadily it trickles.
//! Server memory (VmRSS / VmHWM from `/proc/<pid>/status`) is in the failure messages.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tests of this file run one at a time: the cap test failed (every probe served) while the
/// 1,100-connection test ran beside it, and passed alone; cause not found yet (see the issue
/// note of 2026-12-03).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

use anyhow::{Context, Result, ensure};
use e2e_tests::start::http::{Request, send_with_timeout};
use e2e_tests::start::mcp::McpClient;
use e2e_tests::start::server::Launch;
use e2e_tests::workspace_root;
use serde_json::{Value, json};

fn fixture() -> PathBuf {
    workspace_root().join("tests/e2e/fixtures/start/limits")
}

/// VmRSS and VmHWM of a process, in MiB.
fn memory(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    format!(
        "server VmRSS {:.1} MiB, VmHWM {:.1} MiB",
        field("VmRSS:"),
        field("VmHWM:")
    )
}

/// A POST head promising `len` body bytes.
fn trickle_head(addr: SocketAddr, len: usize) -> String {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {len}\r\n\r\n"
    )
}

/// `/health` and a stateless-style `tools/list` in an existing session, each within 2 s.
fn still_serving(addr: SocketAddr, client: &McpClient) -> Result<Duration> {
    let started = Instant::now();
    let health = send_with_timeout(
        addr,
        &Request::new("GET", "/health"),
        Duration::from_secs(2),
    )
    .context("/health did not answer within 2 s")?;
    ensure!(health.status == 200, "/health: {}", health.status);
    let list = send_with_timeout(
        addr,
        &client.post(&json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list"})),
        Duration::from_secs(2),
    )
    .context("tools/list did not answer within 2 s")?;
    ensure!(list.status == 200, "tools/list: {}", list.status);
    let messages: Vec<Value> = list.messages()?;
    ensure!(messages[0]["result"]["tools"].is_array(), "{:?}", messages);
    let took = started.elapsed();
    ensure!(took < Duration::from_secs(2), "took {took:?}");
    Ok(took)
}

#[test]
fn idle_and_trickling_connections_do_not_starve_other_clients() -> Result<()> {
    let _serial = one_at_a_time();
    let server = Launch::ours(&fixture()).start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let before = memory(server.pid());
    let mut held = Vec::new();
    for _ in 0..900 {
        held.push(TcpStream::connect(server.addr)?);
    }
    for _ in 0..200 {
        let mut s = TcpStream::connect(server.addr)?;
        s.write_all(trickle_head(server.addr, 1000).as_bytes())?;
        s.write_all(b"{")?;
        held.push(s);
    }
    // One more byte on every trickling connection after a while: they are alive.
    std::thread::sleep(Duration::from_millis(500));
    for s in held.iter_mut().skip(900) {
        s.write_all(b" ")?;
    }
    let took = still_serving(server.addr, &client)
        .with_context(|| format!("before the flood {before}; during {}", memory(server.pid())))?;
    let during = memory(server.pid());
    println!(
        "1,100 held connections: /health + tools/list took {took:?}; before {before}; during {during}"
    );
    drop(held);
    still_serving(server.addr, &client)?;
    Ok(())
}

#[test]
fn connections_past_the_cap_are_closed_at_once() -> Result<()> {
    let _serial = one_at_a_time();
    let server = Launch::ours(&fixture())
        .args(&["--max-connections", "20"])
        .start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(server.addr)?);
    }
    // The 21st is accepted by the kernel and closed by the server without an answer. On a
    // loaded machine the server may not have taken in all 20 yet: a probe that is answered is
    // dropped (freeing its slot) and another is tried, a few times.
    let mut tries = Vec::new();
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        let mut extra = TcpStream::connect(server.addr)?;
        extra.set_read_timeout(Some(Duration::from_secs(3)))?;
        let _ = extra.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut got = Vec::new();
        let read = extra.read_to_end(&mut got);
        let elapsed = started.elapsed();
        if got.is_empty() && elapsed < Duration::from_secs(2) {
            tries.clear();
            break;
        }
        tries.push(format!(
            "read {read:?}, {} bytes after {elapsed:?}",
            got.len()
        ));
    }
    ensure!(
        tries.is_empty(),
        "past the cap, every probe was served: {tries:?}"
    );
    server.wait_for(Duration::from_secs(5), |l| {
        l.contains("Connection limit reached (20 open, --max-connections)")
    })?;
    // Freed slots serve again.
    held.truncate(10);
    std::thread::sleep(Duration::from_millis(200));
    still_serving(server.addr, &client).with_context(|| memory(server.pid()))?;
    Ok(())
}

#[test]
fn a_trickled_body_gets_408_at_the_total_deadline() -> Result<()> {
    let _serial = one_at_a_time();
    let server = Launch::ours(&fixture())
        .args(&["--body-timeout", "2s"])
        .start()?;
    let mut s = TcpStream::connect(server.addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(trickle_head(server.addr, 1000).as_bytes())?;
    let started = Instant::now();
    // A byte every 300 ms: never a pause the 30 s idle limit would catch.
    let mut writer = s.try_clone()?;
    let trickler = std::thread::spawn(move || {
        for _ in 0..30 {
            if writer.write_all(b" ").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    let mut reader = std::io::BufReader::new(s);
    let resp = e2e_tests::start::http::read_response(&mut reader, false)?;
    let took = started.elapsed();
    let _ = trickler.join();
    ensure!(resp.status == 408, "{} {}", resp.status, resp.text());
    ensure!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(5),
        "answered after {took:?}"
    );
    Ok(())
}
