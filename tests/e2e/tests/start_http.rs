//! HTTP behaviour of `sunpeak start` through the real binary: the routes, CORS, Origin and
//! Host checks, the body limit, the session cap, stateless mode, and draining on SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use e2e_tests::start::http::{Request, send};
use e2e_tests::start::mcp::McpClient;
use e2e_tests::start::server::Launch;
use e2e_tests::workspace_root;
use serde_json::{Value, json};

fn fixture() -> PathBuf {
    workspace_root().join("tests/e2e/fixtures/start/faults")
}

fn initialize_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                      "clientInfo": {"name": "e2e", "version": "1"}}})
}

#[test]
fn site_routes_and_404() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let root = send(server.addr, &Request::new("GET", "/"))?;
    ensure!(root.status == 200 && root.header("content-type") == Some("text/html"));
    ensure!(
        root.text().contains("<title>Sunpeak MCP Server</title>"),
        "{}",
        root.text()
    );

    for path in ["/favicon.ico", "/favicon.png"] {
        let icon = send(server.addr, &Request::new("GET", path))?;
        ensure!(
            icon.status == 200 && icon.header("content-type") == Some("image/png"),
            "{path}"
        );
        ensure!(
            icon.body.len() == 1061 && icon.body.starts_with(b"\x89PNG"),
            "{path}: {} bytes",
            icon.body.len()
        );
        ensure!(icon.header("cache-control") == Some("public, max-age=86400"));
    }
    let head = send(server.addr, &Request::new("HEAD", "/favicon.png"))?;
    ensure!(head.status == 200 && head.header("content-length") == Some("1061"));

    let health = send(server.addr, &Request::new("GET", "/health"))?;
    ensure!(health.status == 200, "/health {}", health.status);
    let body: Value = serde_json::from_slice(&health.body)?;
    ensure!(body["status"] == "ok" && body["uptime"].is_u64(), "{body}");
    ensure!(health.header("cache-control") == Some("no-cache"));

    let missing = send(server.addr, &Request::new("GET", "/nope?x=1"))?;
    ensure!(
        missing.status == 404 && missing.text() == "Not Found",
        "{} {}",
        missing.status,
        missing.text()
    );
    server.wait_for(Duration::from_secs(5), |l| l == "[MCP] GET /nope → 404")?;
    let trailing = send(server.addr, &Request::new("POST", "/mcp/"))?;
    ensure!(
        trailing.status == 404,
        "/mcp/ is not /mcp: {}",
        trailing.status
    );
    Ok(())
}

#[test]
fn cors_on_mcp_responses_and_preflight() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let preflight = send(
        server.addr,
        &Request::new("OPTIONS", "/mcp")
            .header("origin", "http://localhost:5173")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "mcp-protocol-version, mcp-session-id, last-event-id, mcp-method, mcp-name",
            ),
    )?;
    ensure!(preflight.status == 204, "preflight {}", preflight.status);
    let allowed = preflight
        .header("access-control-allow-headers")
        .unwrap_or("")
        .to_ascii_lowercase();
    for h in [
        "mcp-protocol-version",
        "mcp-method",
        "mcp-name",
        "mcp-session-id",
        "last-event-id",
        "authorization",
        "content-type",
        "accept",
    ] {
        ensure!(
            allowed.contains(h),
            "{h} not in Access-Control-Allow-Headers: {allowed}"
        );
    }
    let init = send(server.addr, &Request::mcp_post(&initialize_body()))?;
    ensure!(init.status == 200);
    ensure!(
        init.header("access-control-expose-headers")
            .unwrap_or("")
            .contains("mcp-session-id")
    );
    // Error responses of /mcp carry CORS too (sunpeak leaves them off several).
    let unknown = send(
        server.addr,
        &Request::mcp_post(&json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}))
            .header("mcp-session-id", "nope"),
    )?;
    ensure!(unknown.status == 404, "unknown session {}", unknown.status);
    ensure!(
        unknown.header("access-control-allow-origin").is_some(),
        "no CORS on 404 Unknown session"
    );
    Ok(())
}

#[test]
fn origin_checks() -> Result<()> {
    let server = Launch::ours(&fixture())
        .args(&[
            "--allowed-origins",
            "https://app.example.com",
            "--server-url",
            "https://public.example.org/mcp",
        ])
        .start()?;
    let with_origin = |origin: &str| {
        send(
            server.addr,
            &Request::mcp_post(&initialize_body()).header("origin", origin),
        )
    };
    for origin in [
        "https://evil.example",
        "http://localhost.evil.example",
        "null",
    ] {
        let resp = with_origin(origin)?;
        ensure!(resp.status == 403, "Origin {origin}: {}", resp.status);
    }
    for origin in [
        "https://app.example.com",
        "https://public.example.org",
        "http://localhost:5173",
        "http://127.0.0.1:3000",
        "http://[::1]:8080",
    ] {
        let resp = with_origin(origin)?;
        ensure!(
            resp.status == 200,
            "Origin {origin}: {} {}",
            resp.status,
            resp.text()
        );
    }
    // No Origin at all (server-to-server, as ChatGPT and Claude call): allowed.
    ensure!(send(server.addr, &Request::mcp_post(&initialize_body()))?.status == 200);

    let open = Launch::ours(&fixture())
        .args(&["--allowed-origins=*"])
        .start()?;
    let resp = send(
        open.addr,
        &Request::mcp_post(&initialize_body()).header("origin", "https://evil.example"),
    )?;
    ensure!(
        resp.status == 200,
        "--allowed-origins=* allows all: {}",
        resp.status
    );
    Ok(())
}

#[test]
fn malformed_host_is_400_and_never_a_crash() -> Result<()> {
    let mut server = Launch::ours(&fixture()).start()?;
    for host in ["[bad", "exa mple.com", "a@b"] {
        let resp = send(
            server.addr,
            &Request::mcp_post(&initialize_body()).header("Host", host),
        )?;
        ensure!(resp.status == 400, "Host {host:?}: {}", resp.status);
    }
    ensure!(server.is_running(), "the server died");
    ensure!(send(server.addr, &Request::mcp_post(&initialize_body()))?.status == 200);
    Ok(())
}

#[test]
fn body_limit_is_413() -> Result<()> {
    let server = Launch::ours(&fixture())
        .args(&["--max-body-bytes", "2048"])
        .start()?;
    let big =
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x".repeat(4096)}});
    let resp = send(server.addr, &Request::mcp_post(&big))?;
    ensure!(resp.status == 413, "status {}", resp.status);
    ensure!(
        resp.header("access-control-allow-origin").is_some(),
        "413 without CORS"
    );
    // The env variable works as sunpeak's.
    let env = Launch::ours(&fixture())
        .env("SUNPEAK_MAX_BODY_BYTES", "2048")
        .start()?;
    ensure!(send(env.addr, &Request::mcp_post(&big))?.status == 413);
    ensure!(send(env.addr, &Request::mcp_post(&initialize_body()))?.status == 200);
    Ok(())
}

#[test]
fn session_cap_evicts_the_least_recently_used() -> Result<()> {
    let server = Launch::ours(&fixture())
        .args(&["--max-sessions", "2"])
        .start()?;
    let mut first = McpClient::new(server.addr);
    first.initialize()?;
    // The store records activity in milliseconds: sessions used within the same millisecond
    // are equally recent, so the steps are spaced for the order to be observable.
    let tick = || std::thread::sleep(std::time::Duration::from_millis(5));
    tick();
    let mut second = McpClient::new(server.addr);
    second.initialize()?;
    tick();
    // Touch the first: the second becomes the least recently used.
    first.result("ping", Value::Null)?;
    tick();
    let mut third = McpClient::new(server.addr);
    third.initialize()?;
    let evicted = second.post_raw(&json!({"jsonrpc": "2.0", "id": 9, "method": "ping"}))?;
    ensure!(
        evicted.status == 404,
        "the LRU session should be gone: {}",
        evicted.status
    );
    first.result("ping", Value::Null).context("first session")?;
    third.result("ping", Value::Null).context("third session")?;
    Ok(())
}

#[test]
fn stateless_mode() -> Result<()> {
    let server = Launch::ours(&fixture()).args(&["--stateless"]).start()?;
    server.wait_for(Duration::from_secs(5), |l| {
        l == "Stateless mode enabled (no session tracking)"
    })?;
    let list = send(
        server.addr,
        &Request::mcp_post(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
    )?;
    ensure!(
        list.status == 200,
        "tools/list without initialize: {}",
        list.status
    );
    ensure!(list.header("mcp-session-id").is_none());
    for method in ["GET", "DELETE"] {
        let resp = send(
            server.addr,
            &Request::new(method, "/mcp").header("accept", "text/event-stream"),
        )?;
        ensure!(resp.status == 405, "{method}: {}", resp.status);
        // sunpeak's text (the engine wraps it in a JSON-RPC error body).
        ensure!(
            resp.text()
                .contains("Method Not Allowed: stateless mode only supports POST"),
            "{}",
            resp.text()
        );
    }
    Ok(())
}

#[test]
fn sse_mode_answers_with_event_streams() -> Result<()> {
    let server = Launch::ours(&fixture()).args(&["--sse"]).start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let resp = client.post_raw(&json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list"}))?;
    ensure!(
        resp.header("content-type")
            .unwrap_or("")
            .starts_with("text/event-stream"),
        "{:?}",
        resp.headers
    );
    let messages = resp.messages()?;
    ensure!(
        messages.last().is_some_and(|m| m["id"] == json!(5)),
        "{messages:?}"
    );
    Ok(())
}

#[test]
fn sigterm_lets_the_in_flight_call_finish() -> Result<()> {
    let mut server = Launch::ours(&fixture())
        .args(&["--drain-timeout", "5s"])
        .start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let call = std::thread::spawn(move || client.call_tool("slow", json!({})));
    // The call is running (1.5 s) when the signal arrives.
    server.wait_for(Duration::from_secs(5), |l| l.contains("CallTool: slow"))?;
    server.terminate()?;
    let result = call
        .join()
        .map_err(|_| anyhow::anyhow!("client thread panicked"))??;
    ensure!(result["content"][0]["text"] == "slow done", "{result}");
    let status = server.wait_exit(Duration::from_secs(10))?;
    ensure!(status.success(), "exit status {status}");
    // The output is read by other threads: wait for the lines rather than peek.
    for line in [
        "[MCP] Shutting down MCP server...",
        "[MCP] MCP server closed",
    ] {
        server
            .wait_for(Duration::from_secs(5), |l| l == line)
            .with_context(|| format!("no {line:?} in {:?}", server.stdout()))?;
    }
    Ok(())
}

#[test]
fn drain_timeout_cuts_a_call_that_runs_too_long() -> Result<()> {
    let mut server = Launch::ours(&fixture())
        .args(&["--drain-timeout", "300ms"])
        .start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let call = std::thread::spawn(move || client.call_tool("hangs", json!({})));
    server.wait_for(Duration::from_secs(5), |l| l.contains("CallTool: hangs"))?;
    server.terminate()?;
    let status = server.wait_exit(Duration::from_secs(10))?;
    ensure!(
        !status.success(),
        "forced shutdown exits non-zero: {status}"
    );
    server
        .wait_for(Duration::from_secs(5), |l| {
            l.contains("Force closing MCP server")
        })
        .with_context(|| format!("no Force closing line in {:?}", server.stderr()))?;
    let _ = call.join();
    Ok(())
}

#[test]
fn server_url_gives_per_host_domains_and_oauth_metadata() -> Result<()> {
    let server = Launch::ours(&fixture())
        .args(&[
            "--server-url",
            "https://example.com/mcp",
            "--authorization-server",
            "https://auth.example.com",
            "--oauth-scopes",
            "read",
        ])
        .start()?;
    let domains = |user_agent: &str| -> Result<(Value, Value)> {
        let mut client = McpClient::new(server.addr).with_header("user-agent", user_agent);
        client.initialize()?;
        let list = client.result("resources/list", Value::Null)?;
        let domain = |name: &str| {
            list["resources"]
                .as_array()
                .and_then(|l| l.iter().find(|r| r["name"] == name))
                .map(|r| r["_meta"]["ui"]["domain"].clone())
                .unwrap_or(Value::Null)
        };
        // The read result carries the same metadata as the listing.
        let read = client.result("resources/read", json!({"uri": "ui://orphan-00000002"}))?;
        ensure!(
            read["contents"][0]["_meta"]["ui"]["domain"] == domain("orphan"),
            "{read}"
        );
        Ok((domain("widget"), domain("orphan")))
    };
    // Claude: the map's entry; the default domain it computes (sha256 of the URL).
    let (widget, orphan) = domains("Claude-User")?;
    ensure!(widget == "claude.widget.example", "claude widget {widget}");
    ensure!(
        orphan == "c3d80a4ed901ee05b21755a88273b4a4.claudemcpcontent.com",
        "claude orphan {orphan}"
    );
    // ChatGPT: the map's default; ChatGPT's own default.
    let (widget, orphan) = domains("openai-mcp/1.0.0")?;
    ensure!(widget == "widget.example", "chatgpt widget {widget}");
    ensure!(
        orphan == "example-com.oaiusercontent.com",
        "chatgpt orphan {orphan}"
    );
    // Another client: the map's default, nothing computed.
    let (widget, orphan) = domains("curl/8")?;
    ensure!(
        widget == "widget.example" && orphan.is_null(),
        "{widget} {orphan}"
    );

    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let resp = send(server.addr, &Request::new("GET", path))?;
        ensure!(resp.status == 200, "{path}: {}", resp.status);
        let doc: Value = serde_json::from_slice(&resp.body)?;
        ensure!(doc["resource"] == "https://example.com/mcp", "{doc}");
        ensure!(
            doc["authorization_servers"] == json!(["https://auth.example.com"]),
            "{doc}"
        );
        ensure!(doc["scopes_supported"] == json!(["read"]), "{doc}");
    }
    let denied = McpClient::new(server.addr)
        .with_header("authorization", "Bearer bad")
        .post_raw(&initialize_body())?;
    ensure!(denied.status == 401);
    let challenge = denied.header("www-authenticate").unwrap_or("");
    ensure!(
        challenge.starts_with("Bearer")
            && challenge.contains(
                "resource_metadata=\"https://example.com/.well-known/oauth-protected-resource/mcp\""
            ),
        "{challenge}"
    );
    Ok(())
}

#[test]
fn get_stream_opens_at_once() -> Result<()> {
    let server = Launch::ours(&fixture()).start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let session = client.session.clone().context("no session")?;
    let stream = e2e_tests::start::http::Stream::open(
        server.addr,
        &Request::new("GET", "/mcp")
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &session),
        Duration::from_secs(5),
    )
    .context("the GET stream did not send its head within 5 s")?;
    ensure!(stream.status == 200, "status {}", stream.status);
    ensure!(
        stream
            .headers
            .iter()
            .any(|(n, v)| n == "content-type" && v.starts_with("text/event-stream")),
        "{:?}",
        stream.headers
    );
    Ok(())
}

#[test]
fn idle_sessions_are_reaped() -> Result<()> {
    let server = Launch::ours(&fixture())
        .args(&["--session-idle-timeout", "500ms"])
        .start()?;
    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    server
        .wait_for(Duration::from_secs(10), |l| {
            l.starts_with("[MCP] Session expired: ")
        })
        .context("the idle session was not reaped")?;
    let gone = client.post_raw(&json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}))?;
    ensure!(
        gone.status == 404,
        "an expired session answers 404, got {}",
        gone.status
    );
    Ok(())
}
