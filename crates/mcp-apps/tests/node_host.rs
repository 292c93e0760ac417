//! The Node.js tool host with real Node worker processes, on the `app` fixture
//! (`tests/fixtures/node/app`, hand-written ESM tools with zod 4.4.3 and the SDK oracle).

mod node_support;

use std::time::Duration;

use mcp_apps::node::{
    AuthAnswer, AuthError, AuthRequest, NodeHost, NodeHostError, ToolCallOutcome,
};
use node_support::*;
use serde_json::{Value, json};

async fn start_app() -> (NodeHost, mcp_apps::node::LoadedApp, Project) {
    capture_logs();
    let project = Project::from_fixture("app", &npm_env("4.4.3"));
    let (host, app) = NodeHost::start(project.config())
        .await
        .expect("host starts");
    (host, app, project)
}

async fn call(host: &NodeHost, tool: &str, args: Value) -> ToolCallOutcome {
    host.call_tool(tool, args, ctx(TestPeer::new())).await
}

/// Waits until a handler printed `line` (it is running).
async fn started(line: &str) {
    wait_for_log(|c| c.message == line, Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("{line:?} was never logged"));
}

#[tokio::test]
async fn loads_tools_in_file_order_and_reports_skips() {
    let (host, app, _project) = start_app().await;
    let names: Vec<&str> = app.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ask",
            "barrier",
            "echo",
            "exit",
            "hang",
            "noisy",
            "out",
            "plain-json",
            "progress",
            "ret",
            "slow",
            "spin",
            "throws",
            "whoami"
        ]
    );
    assert_eq!(
        app.warnings,
        [
            r#"No default handler export in no-default.js. Skipping."#,
            r#"No "tool" export in no-tool.js. Skipping."#,
        ]
    );
    let echo = &app.tools[2];
    // Only the keys sunpeak reads, in the export's order.
    assert_eq!(
        serde_json::to_string(&echo.config).unwrap(),
        r#"{"title":"Echo","description":"Echo text back","annotations":{"readOnlyHint":true},"_meta":{"ui":{"visibility":["model"]}}}"#
    );
    assert_eq!(
        echo.input_schema.get(),
        r#"{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"text":{"type":"string","description":"Text to echo"},"times":{"default":1,"type":"integer","minimum":1,"maximum":9007199254740991}},"required":["text"]}"#
    );
    assert!(echo.output_schema.is_none());
    let whoami = app.tools.iter().find(|t| t.name == "whoami").unwrap();
    assert_eq!(
        whoami.input_schema.get(),
        r#"{"type":"object","properties":{}}"#
    );
    let plain = app.tools.iter().find(|t| t.name == "plain-json").unwrap();
    assert_eq!(
        plain.input_schema.get(),
        r#"{"type":"object","properties":{"q":{"type":"string","description":"query"}},"required":["q"]}"#
    );
    let server = app.server.as_ref().expect("server entry");
    assert!(server.has_auth);
    assert_eq!(
        server.config,
        Some(json!({"name": "fixture-app", "version": "1.2.3", "instructions": "Be nice"}))
    );
    // Output of a module's top level is tagged with its tool.
    let loaded = wait_for_log(
        |c| c.message == "echo module loaded",
        Duration::from_secs(2),
    )
    .await
    .expect("top-level output is logged");
    assert_eq!(
        (loaded.target.as_str(), loaded.tool.as_deref()),
        ("tool", Some("echo"))
    );
    assert!(host.is_ready());
    host.shutdown().await;
    assert!(!host.is_ready());
}

/// Every deterministic call gives exactly what `sunpeak start` on the SDK 1.32 gives.
#[tokio::test]
async fn results_and_error_texts_match_the_sdk() {
    let (host, _app, project) = start_app().await;
    let mut calls = vec![
        json!({"name": "echo", "arguments": {"text": "hi", "times": 2, "unknown": true}}),
        json!({"name": "echo", "arguments": {"text": "hi"}}),
        json!({"name": "echo", "arguments": {"text": 5, "times": 0}}),
        json!({"name": "echo", "arguments": {}}),
        json!({"name": "echo"}),
        json!({"name": "nope", "arguments": {}}),
        json!({"name": "throws", "arguments": {"message": "handler failed"}}),
    ];
    for kind in [
        "num",
        "undef",
        "null",
        "arr",
        "str",
        "sc",
        "extra",
        "ordered",
        "badcontent",
        "unknowntype",
        "contentstring",
        "image",
        "badimage",
        "link",
        "embedded",
        "annotated",
        "scarray",
        "iserrorstring",
        "missing-kind",
    ] {
        calls.push(json!({"name": "ret", "arguments": {"kind": kind}}));
    }
    for kind in [
        "ok",
        "missing",
        "bad",
        "iserror",
        "nocontentkey",
        "undef",
        "str",
        "num",
        "throw",
        "throwstring",
    ] {
        calls.push(json!({"name": "out", "arguments": {"kind": kind}}));
    }
    let oracle = project.sdk_reference(&npm_env("4.4.3"), &calls);
    assert_eq!(oracle["calls"].as_array().unwrap().len(), calls.len());
    for (request, expected) in calls.iter().zip(oracle["calls"].as_array().unwrap()) {
        let name = request["name"].as_str().unwrap();
        let args = request.get("arguments").cloned().unwrap_or(Value::Null);
        let ours = as_response(&call(&host, name, args).await);
        // Compared as text: key order matters too.
        assert_eq!(
            serde_json::to_string(&ours).unwrap(),
            serde_json::to_string(expected).unwrap(),
            "call {request}"
        );
    }
    host.shutdown().await;
}

#[tokio::test]
async fn results_json_cannot_carry_are_errors_and_the_worker_keeps_serving() {
    let (host, _app, _project) = start_app().await;
    for (kind, detail) in [
        (
            "bigint",
            "cannot be serialised to JSON: Do not know how to serialize a BigInt",
        ),
        (
            "circular",
            "cannot be serialised to JSON: Converting circular structure to JSON",
        ),
        (
            "deep",
            "the server could not read: recursion limit exceeded",
        ),
    ] {
        match call(&host, "ret", json!({"kind": kind})).await {
            ToolCallOutcome::Error { code, message, .. } => {
                assert_eq!(code, -32603, "{kind}");
                assert!(
                    message.starts_with("Tool ret returned a result "),
                    "{message}"
                );
                assert!(message.contains(detail), "{kind}: {message}");
            }
            other => panic!("{kind}: {other:?}"),
        }
    }
    assert_eq!(
        text(&call(&host, "echo", json!({"text": "fine"})).await),
        "fine"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn a_throwing_handler_gives_its_message_and_the_worker_keeps_serving() {
    let (host, _app, _project) = start_app().await;
    let out = call(&host, "throws", json!({"message": "it broke"})).await;
    assert!(is_error(&out));
    assert_eq!(text(&out), "it broke");
    let out = call(&host, "echo", json!({"text": "still here"})).await;
    assert_eq!(text(&out), "still here");
    host.shutdown().await;
}

#[tokio::test]
async fn a_hanging_handler_times_out_and_its_signal_is_aborted() {
    capture_logs();
    let project = Project::from_fixture("app", &npm_env("4.4.3"));
    let mut config = project.config();
    config.call_timeout = Some(Duration::from_millis(300));
    let (host, _app) = NodeHost::start(config).await.unwrap();
    let out = call(&host, "hang", json!({"tag": "t-timeout"})).await;
    assert_eq!(
        out,
        ToolCallOutcome::tool_error("Tool hang timed out after 300ms")
    );
    let aborted = wait_for_log(
        |c| c.message == "aborted t-timeout: TimeoutError",
        Duration::from_secs(5),
    )
    .await
    .expect("the handler saw its signal aborted");
    assert_eq!(aborted.tool.as_deref(), Some("hang"));
    assert_eq!(aborted.target, "tool");
    // Same worker, still serving.
    assert_eq!(
        text(&call(&host, "echo", json!({"text": "next"})).await),
        "next"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn cancelling_a_call_aborts_the_handler_signal() {
    let (host, _app, _project) = start_app().await;
    let context = ctx(TestPeer::new());
    let cancel = context.cancel.clone();
    let call = {
        let host = host.clone();
        tokio::spawn(async move {
            host.call_tool("hang", json!({"tag": "t-cancel"}), context)
                .await
        })
    };
    started("hanging t-cancel").await;
    cancel.cancel();
    let out = call.await.unwrap();
    assert_eq!(out, ToolCallOutcome::tool_error("Tool hang was cancelled"));
    let aborted = wait_for_log(
        |c| c.message.starts_with("aborted t-cancel: "),
        Duration::from_secs(5),
    )
    .await
    .expect("the handler saw its signal aborted");
    assert_eq!(aborted.message, "aborted t-cancel: AbortError");
    host.shutdown().await;
}

/// A client that never answers (the handler's request waits until something settles it) and
/// says when it was asked.
struct SilentPeer(tokio::sync::mpsc::UnboundedSender<String>);

impl mcp_apps::node::ClientPeer for SilentPeer {
    fn notify(&self, _: &str, _: Value) {}
    fn request(
        &self,
        method: &str,
        _: Value,
    ) -> mcp_apps::node::BoxFuture<'static, Result<Value, Value>> {
        let _ = self.0.send(method.to_owned());
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn cancelling_a_call_settles_its_requests_to_the_client() {
    // What an MCP 2026-07-28 round does to a handler that asked the client: the call ends; the
    // handler's pending `sendRequest` must end with it, not 60 s later.
    let (host, _app, _project) = start_app().await;
    let (asked, mut requests) = tokio::sync::mpsc::unbounded_channel();
    let peer = std::sync::Arc::new(SilentPeer(asked));
    let context = mcp_apps::node::ToolCallContext::new(json!(9), peer);
    let cancel = context.cancel.clone();
    let call = {
        let host = host.clone();
        tokio::spawn(async move { host.call_tool("ask", json!({"prompt": "p"}), context).await })
    };
    let method = tokio::time::timeout(Duration::from_secs(10), requests.recv())
        .await
        .expect("the handler asked the client")
        .expect("a request");
    assert_eq!(method, "sampling/createMessage");
    cancel.cancel();
    let _ = call.await;
    wait_for_log(
        |c| c.message == "ask rejected: -32800",
        Duration::from_secs(5),
    )
    .await
    .expect("the handler's request was settled when its call was cancelled");
    host.shutdown().await;
}

#[tokio::test]
async fn dropping_the_call_future_aborts_the_handler_signal() {
    let (host, _app, _project) = start_app().await;
    let pending = host.call_tool("hang", json!({"tag": "t-drop"}), ctx(TestPeer::new()));
    let dropped_once_running = async {
        tokio::select! {
            _ = pending => panic!("hang returned"),
            _ = started("hanging t-drop") => {}
        }
    };
    dropped_once_running.await;
    wait_for_log(
        |c| c.message.starts_with("aborted t-drop: "),
        Duration::from_secs(5),
    )
    .await
    .expect("the handler saw its signal aborted");
    host.shutdown().await;
}

#[tokio::test]
async fn process_exit_fails_only_that_worker_s_calls_and_a_replacement_serves_the_next() {
    let (host, _app, _project) = start_app().await;
    // A call in flight on the same worker fails with the exit too.
    let bystander = {
        let host = host.clone();
        tokio::spawn(async move { call(&host, "slow", json!({"ms": 3000})).await })
    };
    started("sleeping 3000ms").await;
    let out = call(&host, "exit", json!({"code": 3})).await;
    assert_eq!(
        out,
        ToolCallOutcome::tool_error("Tool exit failed: the worker process exited (code 3)")
    );
    assert_eq!(
        bystander.await.unwrap(),
        ToolCallOutcome::tool_error("Tool slow failed: the worker process exited (code 3)")
    );
    // No worker is up until the replacement has loaded: /health would say 503.
    assert!(!host.is_ready());
    // What the handler printed before exiting still reached the log.
    wait_for_log(|c| c.message == "exiting with 3", Duration::from_secs(2))
        .await
        .expect("output before exit is logged");
    // The next call waits for the replacement.
    let out = call(&host, "echo", json!({"text": "after exit"})).await;
    assert_eq!(text(&out), "after exit");
    assert!(host.is_ready());
    host.shutdown().await;
}

#[tokio::test]
async fn a_worker_that_stops_answering_is_replaced() {
    capture_logs();
    let project = Project::from_fixture("app", &npm_env("4.4.3"));
    let mut config = project.config();
    config.ping_interval = Duration::from_millis(100);
    config.ping_timeout = Duration::from_millis(800);
    let (host, _app) = NodeHost::start(config).await.unwrap();
    let spin = {
        let host = host.clone();
        tokio::spawn(async move { call(&host, "spin", Value::Null).await })
    };
    started("spinning").await;
    // A call that lands on the spinning worker fails when it is killed, like the spin itself.
    let stuck = call(&host, "echo", json!({"text": "stuck"})).await;
    let why = "the worker process stopped responding and was restarted";
    assert_eq!(
        stuck,
        ToolCallOutcome::tool_error(format!("Tool echo failed: {why}"))
    );
    assert_eq!(
        spin.await.unwrap(),
        ToolCallOutcome::tool_error(format!("Tool spin failed: {why}"))
    );
    // The replacement serves.
    assert_eq!(
        text(&call(&host, "echo", json!({"text": "fresh"})).await),
        "fresh"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn console_output_is_logged_with_the_tool_name_and_never_breaks_the_channel() {
    let (host, _app, _project) = start_app().await;
    let out = call(&host, "noisy", Value::Null).await;
    assert_eq!(text(&out), "quiet result");
    for (message, level) in [
        ("noisy log { a: 1 }", tracing::Level::INFO),
        ("noisy info", tracing::Level::INFO),
        ("noisy warn", tracing::Level::WARN),
        ("noisy error", tracing::Level::ERROR),
        ("noisy debug", tracing::Level::DEBUG),
        ("noisy raw stdout", tracing::Level::INFO),
        ("noisy raw stderr", tracing::Level::WARN),
        ("noisy after await", tracing::Level::INFO),
    ] {
        let line = wait_for_log(|c| c.message == message, Duration::from_secs(2))
            .await
            .unwrap_or_else(|| panic!("{message:?} was not logged"));
        assert_eq!(line.target, "tool", "{message}");
        assert_eq!(line.tool.as_deref(), Some("noisy"), "{message}");
        assert_eq!(line.level, level, "{message}");
    }
    // A 5 MiB console line was sent, buffered and printed whole.
    let huge = wait_for_log(|c| c.message.starts_with("yyyy"), Duration::from_secs(2))
        .await
        .expect("the huge line, cut");
    assert_eq!(
        huge.message.len(),
        64 * 1024 + "... [5177344 more characters]".len()
    );
    assert!(huge.message.ends_with("y... [5177344 more characters]"));
    // sunpeak's CallTool line, with the keys after validation (defaults applied).
    let _ = call(&host, "echo", json!({"text": "x"})).await;
    wait_for_log(
        |c| c.target == "mcp" && c.message == "CallTool: echo{text, times}",
        Duration::from_secs(2),
    )
    .await
    .expect("CallTool line");
    // Argument names of a tool without a schema are the client's text: a line break in one
    // printed a forged second log line.
    let _ = call(&host, "plain-json", json!({"q": "x", "a\n[MCP] forged": 1})).await;
    wait_for_log(
        |c| c.target == "mcp" && c.message == r"CallTool: plain-json{q, a\n[MCP] forged}",
        Duration::from_secs(2),
    )
    .await
    .expect("CallTool line with the line break escaped");
    host.shutdown().await;
}

#[tokio::test]
async fn progress_and_log_notifications_reach_the_peer() {
    let (host, _app, _project) = start_app().await;
    let peer = TestPeer::new();
    let mut context = ctx(peer.clone());
    context.meta = Some(json!({"progressToken": "tok-1"}));
    let out = host
        .call_tool("progress", json!({"steps": 3}), context)
        .await;
    assert_eq!(text(&out), "did 3 steps");
    let notes = peer.notifications();
    assert_eq!(notes.len(), 4);
    for (i, (method, params)) in notes.iter().take(3).enumerate() {
        assert_eq!(method, "notifications/progress");
        assert_eq!(
            params,
            &json!({"progressToken": "tok-1", "progress": i + 1, "total": 3, "message": format!("step {}", i + 1)})
        );
    }
    assert_eq!(notes[3].0, "notifications/message");
    assert_eq!(
        notes[3].1,
        json!({"level": "info", "data": "all steps done"})
    );
    host.shutdown().await;
}

#[tokio::test]
async fn send_request_goes_to_the_peer_and_back() {
    let (host, _app, _project) = start_app().await;
    let peer = TestPeer::answering(|method, params| match method {
        "sampling/createMessage" => Ok(json!({
            "role": "assistant",
            "content": {"type": "text", "text": format!("sampled: {}", params["messages"][0]["content"]["text"].as_str().unwrap_or(""))},
            "model": "test-model",
        })),
        _ => {
            Err(json!({"code": -32601, "message": "Method not found", "data": {"method": method}}))
        }
    });
    let out = host
        .call_tool("ask", json!({"prompt": "hello"}), ctx(peer.clone()))
        .await;
    assert_eq!(
        out,
        ToolCallOutcome::Result(json!({
            "content": [{"type": "text", "text": "sampled: hello"}],
            "structuredContent": {"role": "assistant", "content": {"type": "text", "text": "sampled: hello"}, "model": "test-model"},
        }))
    );
    let requests = peer.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].0, "sampling/createMessage");
    assert_eq!(requests[0].1["maxTokens"], json!(20));
    // A JSON-RPC error from the client rejects with an McpError.
    let out = host
        .call_tool(
            "ask",
            json!({"prompt": "x", "method": "elicitation/create"}),
            ctx(peer),
        )
        .await;
    assert_eq!(
        text(&out),
        "McpError: MCP error -32601: Method not found (code -32601)"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn extra_carries_the_request_context() {
    let (host, _app, _project) = start_app().await;
    let mut context = ctx(TestPeer::new());
    context.request_id = json!("req-7");
    context.session_id = Some("sess-1".into());
    context.auth_info = Some(json!({"token": "t", "clientId": "c", "scopes": []}));
    context.meta = Some(json!({"progressToken": 5}));
    let mut headers = http::HeaderMap::new();
    headers.insert("host", http::HeaderValue::from_static("example.test"));
    headers.insert("x-multi", http::HeaderValue::from_static("a"));
    headers.append("x-multi", http::HeaderValue::from_static("b"));
    context.headers = std::sync::Arc::new(headers);
    context.url = Some("http://example.test/mcp?x=1".into());
    let out = host
        .call_tool("whoami", json!({"kept": [1, 2]}), context)
        .await;
    let ToolCallOutcome::Result(result) = out else {
        panic!("{out:?}")
    };
    let seen = &result["structuredContent"];
    // Tools without a schema get their arguments (sunpeak passes {}).
    assert_eq!(seen["args"], json!({"kept": [1, 2]}));
    assert_eq!(
        seen["keys"],
        json!([
            "signal",
            "sessionId",
            "_meta",
            "sendNotification",
            "sendRequest",
            "authInfo",
            "requestId",
            "requestInfo",
            "taskId",
            "taskStore",
            "taskRequestedTtl",
            "closeSSEStream",
            "closeStandaloneSSEStream"
        ])
    );
    assert_eq!(seen["signalIsAbortSignal"], json!(true));
    assert_eq!(
        seen["authInfo"],
        json!({"token": "t", "clientId": "c", "scopes": []})
    );
    assert_eq!(seen["sessionId"], json!("sess-1"));
    assert_eq!(seen["requestId"], json!("req-7"));
    assert_eq!(seen["meta"], json!({"progressToken": 5}));
    assert_eq!(
        seen["headers"],
        json!({"host": "example.test", "x-multi": "a, b"})
    );
    assert_eq!(seen["url"], json!("http://example.test/mcp?x=1"));
    host.shutdown().await;
}

#[tokio::test]
async fn plain_json_schema_tools_get_their_arguments_unvalidated() {
    let (host, _app, _project) = start_app().await;
    let out = call(&host, "plain-json", json!({"q": 1, "other": true})).await;
    assert_eq!(text(&out), r#"{"q":1,"other":true}"#);
    host.shutdown().await;
}

#[tokio::test]
async fn auth_returns_info_null_or_an_error() {
    let (host, _app, _project) = start_app().await;
    let request = |mode: Option<&str>| AuthRequest {
        method: "POST".into(),
        url: "/mcp?x=1".into(),
        headers: [
            Some(("authorization".to_string(), "Bearer abc".to_string())),
            mode.map(|m| ("x-auth-mode".to_string(), m.to_string())),
        ]
        .into_iter()
        .flatten()
        .collect(),
        body: None,
    };
    let info = host.authenticate(request(None)).await.unwrap();
    assert_eq!(
        info,
        Some(json!({
            "token": "abc",
            "clientId": "fixture",
            "scopes": ["read"],
            "extra": {"method": "POST", "url": "/mcp?x=1", "headerNames": ["authorization"]},
        }))
    );
    assert_eq!(
        host.authenticate(request(Some("deny"))).await.unwrap(),
        None
    );
    match host.authenticate(request(Some("throw"))).await {
        Err(AuthError::Threw(text)) => assert!(text.starts_with("Error: auth exploded"), "{text}"),
        other => panic!("{other:?}"),
    }
    match host.authenticate(request(Some("reject"))).await {
        Err(AuthError::Threw(text)) => assert!(text.starts_with("Error: auth rejected"), "{text}"),
        other => panic!("{other:?}"),
    }
    // auth()'s console output is logged under its own target.
    wait_for_log(
        |c| c.target == "auth" && c.message == "auth POST /mcp?x=1",
        Duration::from_secs(2),
    )
    .await
    .expect("auth output is logged");
    // Still serving.
    assert!(host.authenticate(request(None)).await.unwrap().is_some());
    host.shutdown().await;
}

#[tokio::test]
async fn an_auth_that_never_settles_fails_the_request_after_auth_timeout() {
    let project = Project::from_fixture("app", &npm_env("4.4.3"));
    let mut config = project.config();
    config.auth_timeout = Duration::from_millis(300);
    let (host, _app) = NodeHost::start(config).await.unwrap();
    let request = |mode: &str| AuthRequest {
        method: "POST".into(),
        url: "/mcp".into(),
        headers: [("x-auth-mode".to_string(), mode.to_string())]
            .into_iter()
            .collect(),
        body: None,
    };
    let started = std::time::Instant::now();
    match host.authenticate(request("hang")).await {
        Err(AuthError::Failed(text)) => {
            assert!(text.starts_with("auth() did not finish within"), "{text}")
        }
        other => panic!("{other:?}"),
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(10),
        "{took:?}"
    );
    // The worker is not stuck: the next request is answered.
    assert!(host.authenticate(request("allow")).await.unwrap().is_some());
    host.shutdown().await;
}

#[tokio::test]
async fn one_worker_runs_many_calls_at_once() {
    let (host, _app, _project) = start_app().await;
    let n = 40;
    let mut calls = Vec::new();
    for _ in 0..n {
        let host = host.clone();
        calls.push(tokio::spawn(async move {
            call(&host, "barrier", json!({"key": "many", "n": n})).await
        }));
    }
    let all = tokio::time::timeout(Duration::from_secs(20), async {
        let mut out = Vec::new();
        for c in calls {
            out.push(c.await.unwrap());
        }
        out
    })
    .await
    .expect("all calls were in flight together");
    for out in all {
        assert_eq!(text(&out), format!("released {n}"));
    }
    host.shutdown().await;
}

#[tokio::test]
async fn calls_are_spread_over_workers() {
    capture_logs();
    let project = Project::from_fixture("app", &npm_env("4.4.3"));
    let mut config = project.config();
    config.workers = 2;
    let (host, _app) = NodeHost::start(config).await.unwrap();
    let a = {
        let host = host.clone();
        tokio::spawn(async move { call(&host, "slow", json!({"ms": 300})).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let b = call(&host, "slow", json!({"ms": 10})).await;
    let a = a.await.unwrap();
    assert_ne!(
        text(&a),
        text(&b),
        "the second call went to the idle worker"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn a_tool_that_throws_on_import_stops_the_start() {
    let project = Project::from_fixture("broken", &npm_env("4.4.3"));
    let err = NodeHost::start(project.config()).await.unwrap_err();
    assert!(matches!(err, NodeHostError::Load { .. }), "{err:?}");
    assert_eq!(err.to_string(), "Failed to load tool broken: kaput");
}

#[tokio::test]
async fn a_missing_node_is_a_clear_error() {
    let project = Project::from_fixture("app", &npm_env("4.4.3"));
    let mut config = project.config();
    config.node = Some("/nonexistent/node".into());
    let err = NodeHost::start(config).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "Node.js 18 or later is required to run tool handlers: /nonexistent/node could not be run"
        ),
        "{text}"
    );
    assert!(text.ends_with("Install Node.js or set SUNPEAK_NODE to the path of a node binary."));
}

#[tokio::test]
async fn a_node_older_than_18_is_refused() {
    let project = Project::from_fixture("app", &npm_env("4.4.3"));
    let fake = project.root.join("old-node");
    std::fs::write(&fake, "#!/bin/sh\necho v16.20.2\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut config = project.config();
    config.node = Some(fake.clone());
    let err = NodeHost::start(config).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Node.js 18 or later is required to run tool handlers: {} is v16.20.2. Install Node.js or set SUNPEAK_NODE to the path of a node binary.",
            fake.display()
        )
    );
}

#[tokio::test]
async fn a_dist_without_tools_or_server_needs_no_node() {
    let project = Project::empty(&npm_env("4.4.3"));
    let mut config = project.config();
    config.node = Some("/nonexistent/node".into());
    let (host, app) = NodeHost::start(config).await.unwrap();
    assert!(app.tools.is_empty() && app.server.is_none());
    assert!(host.is_ready());
    assert_eq!(
        call(&host, "any", Value::Null).await,
        ToolCallOutcome::tool_error("MCP error -32602: Tool any not found")
    );
    assert!(matches!(
        host.authenticate(AuthRequest::default()).await,
        Err(AuthError::NotConfigured)
    ));
}

#[tokio::test]
async fn without_zod_in_the_project_results_are_checked_structurally() {
    let bare =
        std::env::temp_dir().join(format!("sunpeak-rs-node-test-nozod-{}", std::process::id()));
    std::fs::create_dir_all(bare.join("node_modules")).unwrap();
    let project = Project::from_fixture("nozod", &bare);
    let (host, _app) = NodeHost::start(project.config()).await.unwrap();
    assert_eq!(
        text(&call(&host, "bare", json!({"kind": "text"})).await),
        "plain"
    );
    assert_eq!(
        call(&host, "bare", json!({"kind": "image"})).await,
        ToolCallOutcome::Result(
            json!({"content": [{"type": "image", "data": "aGk=", "mimeType": "image/png", "extra": 1}]})
        )
    );
    assert_eq!(
        call(&host, "bare", json!({"kind": "num"})).await,
        ToolCallOutcome::Error {
            code: -32602,
            message: "MCP error -32602: Invalid tools/call result: [\n  {\n    \"expected\": \"object\",\n    \"code\": \"invalid_type\",\n    \"path\": [],\n    \"message\": \"Invalid input: expected object, received number\"\n  }\n]".to_string(),
            data: None,
        }
    );
    host.shutdown().await;
    drop(project);
    let _ = std::fs::remove_dir_all(&bare);
}

#[tokio::test]
async fn calls_after_shutdown_fail_cleanly() {
    let (host, _app, _project) = start_app().await;
    host.shutdown().await;
    let out = call(&host, "echo", json!({"text": "late"})).await;
    assert_eq!(
        out,
        ToolCallOutcome::tool_error("Tool echo failed: no Node.js worker is available")
    );
}

#[tokio::test]
async fn auth_gets_the_body_and_may_return_a_failure() {
    let (host, app, _project) = start_app().await;
    // The oauth export reaches the host as JavaScript serialised it.
    let oauth = app
        .server
        .as_ref()
        .and_then(|s| s.oauth.as_ref())
        .map(|o| o.get().to_string());
    assert_eq!(
        oauth.as_deref(),
        Some(
            r#"{"authorizationServers":["https://auth.example.com"],"additionalMetadata":{"big":12345678901234567000,"float":1e+21}}"#
        )
    );
    let request = |mode: &str, body: Option<&'static str>| AuthRequest {
        method: if body.is_some() { "POST" } else { "GET" }.into(),
        url: "/mcp".into(),
        headers: vec![("x-auth-mode".to_string(), mode.to_string())],
        body: body.map(|b| bytes::Bytes::from_static(b.as_bytes())),
    };
    // A body with a newline: the frame carries it as a string.
    let with_body = host
        .authorize(request(
            "context",
            Some("{\"jsonrpc\":\"2.0\",\n\"method\":\"ping\",\"id\":1}"),
        ))
        .await
        .unwrap();
    assert_eq!(
        with_body,
        AuthAnswer::Authorized(
            json!({"token": "t", "context": {"keys": ["body"], "body": {"jsonrpc": "2.0", "method": "ping", "id": 1}}})
        )
    );
    let without = host.authorize(request("context", None)).await.unwrap();
    assert_eq!(
        without,
        AuthAnswer::Authorized(
            json!({"token": "t", "context": {"keys": ["body"], "body": "undefined"}})
        )
    );
    assert_eq!(
        host.authorize(request("fail", None)).await.unwrap(),
        AuthAnswer::Rejected(Some(
            json!({"error": "insufficient_scope", "errorDescription": "needs write", "scopes": ["write"]})
        ))
    );
    assert_eq!(
        host.authorize(request("deny", None)).await.unwrap(),
        AuthAnswer::Rejected(None)
    );
    assert_eq!(
        host.authenticate(request("fail", None)).await.unwrap(),
        None
    );
    host.shutdown().await;
}
