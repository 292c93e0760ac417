//! Fault handling of `sunpeak start`, on the hand-written fixture
//! `tests/e2e/fixtures/start/faults`: `auth()` that rejects or throws, handlers that throw,
//! never return, exit the process, print to stdout, or send progress. Each behaves as the
//! product contract says, and the server keeps serving afterwards.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use e2e_tests::start::http::{Request, send};
use e2e_tests::start::mcp::McpClient;
use e2e_tests::start::server::{Launch, Server};
use e2e_tests::workspace_root;
use serde_json::{Value, json};

fn fixture() -> PathBuf {
    workspace_root().join("tests/e2e/fixtures/start/faults")
}

fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

/// The server still answers a normal call.
fn still_serving(server: &Server) -> Result<()> {
    let mut client = McpClient::new(server.addr);
    client.initialize().context("initialize after the fault")?;
    let result = client.call_tool("whoami", json!({}))?;
    ensure!(
        result.get("isError").is_none(),
        "whoami failed after the fault: {result}"
    );
    let health = send(server.addr, &Request::new("GET", "/health"))?;
    ensure!(
        health.status == 200,
        "/health: {} {}",
        health.status,
        health.text()
    );
    Ok(())
}

#[test]
fn auth_null_is_401_with_bearer_challenge() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let client = McpClient::new(server.addr).with_header("authorization", "Bearer bad");
    let resp = client.post_raw(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))?;
    ensure!(resp.status == 401, "status {}", resp.status);
    ensure!(
        resp.header("www-authenticate") == Some("Bearer"),
        "{:?}",
        resp.headers
    );
    ensure!(resp.text() == "Unauthorized", "body {:?}", resp.text());
    ensure!(
        resp.header("access-control-allow-origin") == Some("*"),
        "no CORS on 401"
    );
    // GET and DELETE are authenticated too.
    let get = send(
        server.addr,
        &Request::new("GET", "/mcp")
            .header("authorization", "Bearer bad")
            .header("accept", "text/event-stream"),
    )?;
    ensure!(get.status == 401, "GET status {}", get.status);
    // /health never is.
    let health = send(
        server.addr,
        &Request::new("GET", "/health").header("authorization", "Bearer bad"),
    )?;
    ensure!(health.status == 200);
    still_serving(&server)
}

#[test]
fn throwing_auth_is_500_and_the_server_keeps_serving() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let client = McpClient::new(server.addr).with_header("authorization", "Bearer throw");
    for _ in 0..3 {
        let resp = client.post_raw(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))?;
        ensure!(
            resp.status == 500,
            "status {}: {}",
            resp.status,
            resp.text()
        );
    }
    server
        .wait_for(Duration::from_secs(5), |l| l.contains("auth exploded"))
        .context("the auth error is not logged")?;
    still_serving(&server)
}

#[test]
fn auth_info_and_request_details_reach_the_handler() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let mut client = McpClient::new(server.addr)
        .with_header("authorization", "Bearer good")
        .with_header("user-agent", "e2e-agent/1.0");
    client.initialize()?;
    let result = client.call_tool("whoami", json!({}))?;
    ensure!(
        result["structuredContent"]
            == json!({
                "authInfo": {"token": "good", "clientId": "client-good", "scopes": ["read"],
                             "extra": {"method": "POST", "url": "/mcp"}},
                "hasSessionId": true,
                "hasSignal": true,
                "userAgent": "e2e-agent/1.0"
            }),
        "handler saw {result}"
    );
    Ok(())
}

#[test]
fn throwing_handler_is_an_error_result_with_its_message() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let result = client.call_tool("throws", json!({}))?;
    ensure!(result["isError"] == json!(true), "{result}");
    ensure!(text_of(&result) == "boom from handler", "{result}");
    still_serving(&server)
}

#[test]
fn handler_that_never_returns_times_out() -> Result<()> {
    let server = Launch::ours(&fixture())
        .args(&["--tool-timeout", "1s"])
        .start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let started = Instant::now();
    let result = client.call_tool("hangs", json!({}))?;
    let elapsed = started.elapsed();
    ensure!(result["isError"] == json!(true), "{result}");
    ensure!(
        text_of(&result).contains("hangs"),
        "the timeout text names the tool: {result}"
    );
    ensure!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(10),
        "answered after {elapsed:?}"
    );
    // The handler's signal was aborted.
    server
        .wait_for(Duration::from_secs(5), |l| l.contains("hangs: aborted"))
        .context("extra.signal was not aborted on timeout")?;
    still_serving(&server)
}

#[test]
fn process_exit_fails_only_that_call() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let result = client.call_tool("exits", json!({}))?;
    ensure!(result["isError"] == json!(true), "{result}");
    ensure!(!text_of(&result).is_empty(), "{result}");
    // A replacement worker serves the next calls, in the same session.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let again = client.call_tool("whoami", json!({}))?;
        if again.get("isError").is_none() {
            break;
        }
        ensure!(Instant::now() < deadline, "no replacement worker: {again}");
        std::thread::sleep(Duration::from_millis(100));
    }
    still_serving(&server)
}

#[test]
fn handler_stdout_goes_to_the_log_not_the_protocol() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let result = client.call_tool("prints", json!({}))?;
    ensure!(
        result == json!({"content": [{"type": "text", "text": "printed"}]}),
        "{result}"
    );
    let line = server.wait_for(Duration::from_secs(5), |l| l.contains("hello from prints"))?;
    ensure!(
        line.contains("prints"),
        "the log line names the tool: {line}"
    );
    server.wait_for(Duration::from_secs(5), |l| {
        l.contains("warning from prints")
    })?;
    still_serving(&server)
}

#[test]
fn progress_notifications_reach_the_client_before_the_result() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let messages = client.request_all(
        "tools/call",
        json!({"name": "progress", "arguments": {}, "_meta": {"progressToken": "tok-1"}}),
    )?;
    ensure!(
        messages.len() == 3,
        "expected 2 notifications and the result, got {messages:?}"
    );
    for (i, message) in messages[..2].iter().enumerate() {
        ensure!(message["method"] == "notifications/progress", "{message}");
        ensure!(message["params"]["progressToken"] == "tok-1", "{message}");
        ensure!(message["params"]["progress"] == json!(i + 1), "{message}");
        ensure!(message["params"]["total"] == json!(2), "{message}");
    }
    ensure!(
        text_of(&messages[2]["result"]) == "progress done",
        "{}",
        messages[2]
    );
    still_serving(&server)
}

#[test]
fn faults_in_stateless_mode_too() -> Result<()> {
    let server = Launch::ours(&fixture())
        .args(&["--stateless", "--tool-timeout", "1s"])
        .start()?;
    let client = McpClient::new(server.addr);
    for (tool, expect_error) in [
        ("throws", true),
        ("exits", true),
        ("hangs", true),
        ("whoami", false),
    ] {
        let resp = client.post_raw(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                           "params": {"name": tool, "arguments": {}}}))?;
        ensure!(resp.status == 200, "{tool}: status {}", resp.status);
        let message = resp.messages()?.pop().context("no reply")?;
        let is_error = message["result"]["isError"] == json!(true);
        if is_error != expect_error {
            // The worker that exited may still be restarting: one retry for whoami.
            ensure!(tool == "whoami", "{tool}: {message}");
            std::thread::sleep(Duration::from_secs(1));
            let again = client
                .post_raw(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                                "params": {"name": "whoami", "arguments": {}}}))?;
            let again = again.messages()?.pop().context("no reply")?;
            ensure!(again["result"].get("isError").is_none(), "whoami: {again}");
            ensure!(
                again["result"]["structuredContent"]["hasSessionId"] == json!(false),
                "{again}"
            );
        }
    }
    Ok(())
}
