//! The command line of `sunpeak start`: startup lines, `--json-logs`, a busy port, and the
//! errors for projects it cannot serve.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use e2e_tests::start::mcp::McpClient;
use e2e_tests::start::server::{Launch, run_to_exit};
use e2e_tests::{Scratch, workspace_root};
use serde_json::{Value, json};

fn fixture() -> PathBuf {
    workspace_root().join("tests/e2e/fixtures/start/faults")
}

#[test]
fn startup_lines_as_sunpeak() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let port = server.addr.port();
    // The last startup line (the launcher returns at the listening line).
    server.wait_for(Duration::from_secs(5), |l| {
        l.starts_with("[MCP] Health check: ")
    })?;
    let out = server.stdout();
    let expected = [
        "Found 2 resource(s): orphan, widget".to_string(),
        "Found 8 tool(s): exits, hangs, prints, progress, show-widget, slow, throws, whoami"
            .to_string(),
        "Loaded auth from server entry".to_string(),
        String::new(),
        format!("Starting faults-app v2.0.0 on 127.0.0.1:{port}..."),
        format!("[MCP] Server listening on http://127.0.0.1:{port}"),
        format!("[MCP] MCP endpoint: http://127.0.0.1:{port}/mcp"),
        format!("[MCP] Health check: http://127.0.0.1:{port}/health"),
    ];
    ensure!(out.len() >= expected.len(), "stdout: {out:#?}");
    ensure!(out[..expected.len()] == expected, "stdout: {out:#?}");
    ensure!(server.stderr().is_empty(), "stderr: {:?}", server.stderr());
    Ok(())
}

#[test]
fn request_and_session_log_lines() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let sid = client.session.clone().unwrap_or_default();
    let sid8: String = sid.chars().take(8).collect();
    client.result("resources/read", json!({"uri": "ui://widget-00000001"}))?;
    client.call_tool("whoami", json!({"ignored": 1}))?;
    let wait = |line: String| {
        server
            .wait_for(Duration::from_secs(5), |l| l == line)
            .with_context(|| format!("no line {line:?} in {:#?}", server.stdout()))
    };
    wait("[MCP] ← initialize".into())?;
    let started = server.wait_for(Duration::from_secs(5), |l| {
        l.starts_with("[MCP] Session started: ")
    })?;
    ensure!(
        started
            == format!("[MCP] Session started: {sid8}... {{\"sessionId\":\"{sid}\",\"active\":1}}"),
        "{started}"
    );
    wait(format!(
        "[MCP] ← resources/read uri=\"ui://widget-00000001\" ({sid8}...)"
    ))?;
    wait(format!("[MCP] ← tools/call ({sid8}...)"))?;
    // A tool without a schema gets its arguments (sunpeak drops them and logs `{}`).
    wait("[MCP] CallTool: whoami{ignored}".into())?;
    Ok(())
}

#[test]
fn json_logs_make_every_line_json() -> Result<()> {
    let server = Launch::ours(&fixture()).args(&["--json-logs"]).start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    client.call_tool("prints", json!({}))?;
    server.wait_for(Duration::from_secs(5), |l| l.contains("hello from prints"))?;
    let out = server.stdout();
    ensure!(!out.is_empty());
    let mut msgs = Vec::new();
    for line in out.iter().chain(server.stderr().iter()) {
        let value: Value =
            serde_json::from_str(line).map_err(|e| anyhow::anyhow!("not JSON: {line:?}: {e}"))?;
        let ts = value["ts"].as_str().unwrap_or_default();
        ensure!(
            ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
            "ts {ts:?} in {line}"
        );
        ensure!(
            matches!(value["level"].as_str(), Some("info" | "warn" | "error")),
            "{line}"
        );
        msgs.push(value["msg"].as_str().unwrap_or_default().to_string());
    }
    let port = server.addr.port();
    for expected in [
        "Found 2 resource(s): orphan, widget".to_string(),
        "Loaded auth from server entry".to_string(),
        format!("Starting faults-app v2.0.0 on 127.0.0.1:{port}..."),
        format!("Server listening on http://127.0.0.1:{port}"),
        "← initialize".to_string(),
    ] {
        ensure!(
            msgs.contains(&expected),
            "no JSON line with msg {expected:?}: {msgs:#?}"
        );
    }
    let session = out
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| {
            v["msg"]
                .as_str()
                .is_some_and(|m| m.starts_with("Session started: "))
        })
        .ok_or_else(|| anyhow::anyhow!("no Session started line"))?;
    ensure!(
        session["sessionId"].is_string() && session["active"] == json!(1),
        "{session}"
    );
    Ok(())
}

#[test]
fn busy_port_is_a_clear_error() -> Result<()> {
    let taken = TcpListener::bind("127.0.0.1:0")?;
    let port = taken.local_addr()?.port().to_string();
    let (status, stdout, stderr) = run_to_exit(
        &fixture(),
        &["--host", "127.0.0.1", "--port", &port],
        Duration::from_secs(60),
    )?;
    ensure!(
        status.code() == Some(1),
        "exit {status}; stdout {stdout}; stderr {stderr}"
    );
    ensure!(
        stderr.contains(&format!("Port {port}")) && stderr.contains("in use"),
        "stderr: {stderr}"
    );
    ensure!(
        !stdout.contains("Server listening"),
        "it must not move to another port: {stdout}"
    );
    Ok(())
}

#[test]
fn bad_flags_under_json_logs_are_one_json_line() -> Result<()> {
    let (status, stdout, stderr) = run_to_exit(
        &fixture(),
        &["--json-logs", "--port", "not-a-port"],
        Duration::from_secs(60),
    )?;
    ensure!(
        status.code() == Some(2),
        "exit {status}; stdout {stdout}; stderr {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    ensure!(lines.len() == 1, "one line expected: {stderr}");
    let line: Value = serde_json::from_str(lines[0]).context(stderr.clone())?;
    ensure!(line["level"] == "error", "{line}");
    let msg = line["msg"].as_str().unwrap_or_default();
    ensure!(
        msg.starts_with("Error: ") && msg.contains("not-a-port") && msg.contains("--port"),
        "{line}"
    );

    // Without --json-logs it stays clap's text.
    let (status, _, stderr) = run_to_exit(
        &fixture(),
        &["--port", "not-a-port"],
        Duration::from_secs(60),
    )?;
    ensure!(status.code() == Some(2), "exit {status}; stderr {stderr}");
    ensure!(
        stderr.starts_with("error: invalid value 'not-a-port'") && stderr.contains("--help"),
        "stderr: {stderr}"
    );
    Ok(())
}

fn expect_start_error(project: &Path, args: &[&str], needle: &str) -> Result<()> {
    let (status, stdout, stderr) = run_to_exit(project, args, Duration::from_secs(60))?;
    ensure!(
        status.code() == Some(1),
        "exit {status}; stdout {stdout}; stderr {stderr}"
    );
    ensure!(
        stderr.contains(needle),
        "stderr should contain {needle:?}: {stderr}"
    );
    Ok(())
}

#[test]
fn projects_that_cannot_be_served() -> Result<()> {
    let scratch = Scratch::new("start-cli-errors")?;
    let dir = &scratch.0;
    expect_start_error(
        dir,
        &[],
        "Error: No package.json found in current directory",
    )?;
    std::fs::write(
        dir.join("package.json"),
        r#"{"name":"x","version":"1.0.0"}"#,
    )?;
    expect_start_error(
        dir,
        &[],
        "Error: No dist/ directory found. Run `sunpeak build` first.",
    )?;
    std::fs::create_dir_all(dir.join("dist"))?;
    expect_start_error(
        dir,
        &[],
        "Error: No compiled tools or resources found in dist/. Run `sunpeak build` first.",
    )?;
    std::fs::create_dir_all(dir.join("dist/tools"))?;
    std::fs::write(
        dir.join("dist/tools/broken.js"),
        "export const tool = {};\nthrow new Error('kaput');\n",
    )?;
    expect_start_error(dir, &[], "Failed to load tool broken: kaput")?;
    expect_start_error(
        &fixture(),
        &["--session-store", "etcd://localhost:2379"],
        "unknown session store",
    )?;
    expect_start_error(
        &fixture(),
        &["--session-store", "redis://:secret@localhost:notaport/0"],
        "invalid Redis URL",
    )?;
    Ok(())
}

#[test]
fn resources_only_dist_needs_no_node() -> Result<()> {
    let scratch = Scratch::new("start-cli-resources-only")?;
    let dir = &scratch.0;
    std::fs::write(
        dir.join("package.json"),
        r#"{"name":"ui-only","version":"3.0.0"}"#,
    )?;
    std::fs::create_dir_all(dir.join("dist/card"))?;
    std::fs::write(
        dir.join("dist/card/card.json"),
        r#"{"name":"card","uri":"ui://card-abcdefgh"}"#,
    )?;
    std::fs::write(
        dir.join("dist/card/card.html"),
        "<!DOCTYPE html><p>card</p>",
    )?;
    // PATH without node: the server must not need it.
    let server = Launch::ours(dir).env("PATH", "/nonexistent").start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let list = client.result("resources/list", Value::Null)?;
    ensure!(
        list["resources"][0]["uri"] == "ui://card-abcdefgh",
        "{list}"
    );
    let read = client.result("resources/read", json!({"uri": "ui://card-abcdefgh"}))?;
    ensure!(
        read["contents"][0]["text"] == "<!DOCTYPE html><p>card</p>",
        "{read}"
    );
    Ok(())
}

#[test]
fn sunpeak_log_headers_logs_post_headers() -> Result<()> {
    let server = Launch::ours(&fixture())
        .env("SUNPEAK_LOG_HEADERS", "1")
        .start()?;
    let mut client = McpClient::new(server.addr).with_header("x-probe", "probe-value");
    client.initialize()?;
    server
        .wait_for(Duration::from_secs(5), |l| {
            l.starts_with("[MCP] Headers: {")
        })
        .context("no Headers: line")?;
    server
        .wait_for(Duration::from_secs(5), |l| {
            l.contains("\"x-probe\": \"probe-value\"")
        })
        .context("the header is not in the Headers: line")?;
    Ok(())
}
