//! Sessions of `sunpeak start` under hostile clients, through the real binary: what a session
//! keeps of a huge `initialize` is bounded, and a session id is of no use to another user.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use e2e_tests::start::http::Request;
use e2e_tests::start::mcp::{McpClient, PROTOCOL_VERSION};
use e2e_tests::start::server::Launch;
use e2e_tests::workspace_root;
use serde_json::{Map, Value, json};

fn fixture() -> PathBuf {
    workspace_root().join("tests/e2e/fixtures/start/faults")
}

/// `VmRSS` of a process, KiB.
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

/// An `initialize` whose `capabilities.experimental` is about `bytes` of tiny objects: the
/// shape that costs the most memory per byte once parsed.
fn huge_initialize(bytes: usize) -> Value {
    let entries = bytes / 12;
    let experimental: Map<String, Value> = (0..entries)
        .map(|i| (format!("k{i:07}"), json!({})))
        .collect();
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": PROTOCOL_VERSION,
                      "capabilities": {"experimental": experimental,
                                       "roots": {"listChanged": true}},
                      "clientInfo": {"name": "x".repeat(100_000), "version": "1"}}})
}

fn session_of(addr: SocketAddr, body: &Value) -> Result<String> {
    let resp = McpClient::new(addr).post_raw(body)?;
    ensure!(
        resp.status == 200,
        "initialize: {} {}",
        resp.status,
        resp.text()
    );
    resp.header("mcp-session-id")
        .map(String::from)
        .context("no session id")
}

#[test]
fn huge_initialize_payloads_do_not_grow_the_server() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    // Warm up: one normal session and a tools/list, so that the baseline includes them.
    let mut warm = McpClient::new(server.addr);
    warm.initialize()?;
    warm.request("tools/list", json!({}))?;
    let before = rss_kib(server.pid())?;

    let body = huge_initialize(3_500_000);
    let size = serde_json::to_vec(&body)?.len();
    ensure!(size > 3_400_000 && size < 4 * 1024 * 1024, "{size} bytes");
    // The server hands a big body's memory back right after the request, on another thread:
    // the lowest RSS seen while it settles (at most 3 s) is what stays.
    let settled = |pid: u32| -> Result<u64> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let mut low = rss_kib(pid)?;
        while std::time::Instant::now() < deadline && low > before + 8 * 1024 {
            std::thread::sleep(std::time::Duration::from_millis(50));
            low = low.min(rss_kib(pid)?);
        }
        Ok(low)
    };
    let mut sessions = Vec::new();
    for _ in 0..5 {
        sessions.push(session_of(server.addr, &body)?);
    }
    let after5 = settled(server.pid())?;
    for _ in 0..5 {
        sessions.push(session_of(server.addr, &body)?);
    }
    let after10 = settled(server.pid())?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let grown5 = mib(after5.saturating_sub(before));
    let grown_next5 = mib(after10.saturating_sub(after5));
    let figures = format!(
        "{size}-byte initialize: server {before} KiB, after 5 sessions {after5} KiB (+{grown5:.1} MiB), \
         after 10 {after10} KiB (+{grown_next5:.1} MiB for the second 5)"
    );
    // A large initialize is read without building the JSON tree of its params (which was some
    // 40 MB of small allocations), and `sunpeak start` has glibc map every block of 1 MiB or
    // more on its own (the body and its buffers), so that freeing gives it back. What stays is
    // the bounded client info per session.
    // Before: +34 to +53 MiB for the first five (the tree, and glibc keeping a high-water mark
    // per thread arena); with malloc_trim alone +10 to +30; now +5.0 to +5.3 (three runs).
    // Issue 7: "well under 48 MiB" for five.
    ensure!(
        grown5 < 16.0,
        "5 sessions grew the server too much: {figures}"
    );
    // Not a copy per session: ten such sessions once held ~40 MiB each; now ten hold no more
    // than five plus noise (seen: +0.5 to +0.7 MiB for the second five).
    let grown10 = mib(after10.saturating_sub(before));
    ensure!(
        grown10 < 20.0,
        "sessions keep what the client sent: {figures}"
    );
    // The sessions work, and the server said what it dropped.
    for sid in &sessions {
        let mut c = McpClient::new(server.addr);
        c.session = Some(sid.clone());
        let list = c.request("tools/list", json!({}))?;
        ensure!(list["result"]["tools"].is_array(), "{list}");
    }
    let logged = server
        .stdout()
        .iter()
        .chain(server.stderr().iter())
        .filter(|l| l.contains("Client info too large"))
        .count();
    ensure!(
        logged == 10,
        "expected 10 'Client info too large' lines, got {logged}"
    );
    eprintln!("{figures}");
    Ok(())
}

#[test]
fn a_session_id_is_of_no_use_to_another_user_of_the_same_client() -> Result<()> {
    // The fixture's auth(): the bearer token is the user's; a token without a subject binds
    // the session to the token.
    let server = Launch::ours(&fixture()).start()?;
    let mut alice = McpClient::new(server.addr).with_header("authorization", "Bearer alice");
    alice.initialize()?;
    let sid = alice.session.clone().context("no session")?;
    let mut mallory = McpClient::new(server.addr).with_header("authorization", "Bearer mallory");
    mallory.session = Some(sid.clone());
    let stolen = mallory.post_raw(&json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list"}))?;
    ensure!(stolen.status == 404, "{} {}", stolen.status, stolen.text());
    let delete = e2e_tests::start::http::send(
        server.addr,
        &Request::new("DELETE", "/mcp")
            .header("mcp-session-id", &sid)
            .header("authorization", "Bearer mallory"),
    )?;
    ensure!(
        delete.status == 404,
        "DELETE by another user: {}",
        delete.status
    );
    let list = alice.request("tools/list", json!({}))?;
    ensure!(list["result"]["tools"].is_array(), "{list}");
    Ok(())
}
