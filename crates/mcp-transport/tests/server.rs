//! The ready server over real HTTP: shutdown draining an in-flight call, /health, fallback
//! routes, bind errors, auth, limits, gzip, CORS.

mod support;

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use http::Method;
use mcp_transport::{
    AuthInfo, AuthRequest, BindError, BoxError, HttpServer, McpBody, ShutdownOutcome, Transport,
    TransportConfig,
};
use serde_json::{Value, json};
use support::*;

fn tool_text(r: &Resp) -> Value {
    serde_json::from_str(
        r.message()["result"]["content"][0]["text"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn shutdown_drains_an_in_flight_call() {
    let mut s = start(TransportConfig::new().drain_timeout(Duration::from_secs(5))).await;
    let sid = initialize(s.addr, V, json!({})).await;
    // An open GET stream must not hold the shutdown up.
    let mut get = req(s.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .stream()
        .await;
    get.next_event().await.unwrap();
    let addr = s.addr;
    let sid2 = sid.clone();
    let call = tokio::spawn(async move {
        post(
            addr,
            rpc(
                1,
                "tools/call",
                json!({"name":"slow","arguments":{"ms":400,"tag":"drain"}}),
            ),
        )
        .session(&sid2)
        .send()
        .await
    });
    assert_eq!(s.probe().await, Probe::Started("drain".into()));
    let started = std::time::Instant::now();
    let outcome = s.begin_shutdown();
    let r = call.await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["result"]["content"][0]["text"], "slept 400 ms");
    assert_eq!(outcome.await.unwrap(), ShutdownOutcome::Graceful);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        get.next_event().await.is_none(),
        "the GET stream ended at shutdown"
    );
    // Not accepting any more.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn shutdown_cancels_calls_that_outlive_the_drain_timeout() {
    let mut s = start(TransportConfig::new().drain_timeout(Duration::from_millis(200))).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let addr = s.addr;
    let call = tokio::spawn(async move {
        post(
            addr,
            rpc(
                1,
                "tools/call",
                json!({"name":"slow","arguments":{"ms":10000,"tag":"long"}}),
            ),
        )
        .session(&sid)
        .stream()
        .await
    });
    assert_eq!(s.probe().await, Probe::Started("long".into()));
    let outcome = s.begin_shutdown();
    assert_eq!(outcome.await.unwrap(), ShutdownOutcome::Forced);
    assert_eq!(s.probe().await, Probe::Cancelled("long".into()));
    call.abort();
}

#[tokio::test]
async fn health_fallback_and_options() {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let transport = Transport::new(test_server(tx), TransportConfig::new());
    let ready = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let r2 = ready.clone();
    let bound = HttpServer::new(transport)
        .readiness(move || {
            if r2.load(std::sync::atomic::Ordering::Relaxed) {
                Ok(())
            } else {
                Err("workers starting".into())
            }
        })
        .fallback(|req| async move {
            if req.uri().path() == "/" {
                http::Response::new(McpBody::from("home"))
            } else {
                let mut r = http::Response::new(McpBody::from("Not Found"));
                *r.status_mut() = http::StatusCode::NOT_FOUND;
                r
            }
        })
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = bound.local_addr();
    let task = tokio::spawn(bound.serve_until(std::future::pending()));
    drop(rx);
    let r = req(addr, Method::GET).path("/health").send().await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["status"], "unavailable");
    ready.store(true, std::sync::atomic::Ordering::Relaxed);
    let r = req(addr, Method::GET).path("/health").send().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), Some("application/json"));
    assert_eq!(r.json()["status"], "ok");
    assert!(r.json()["uptime"].is_u64());
    let r = req(addr, Method::GET).path("/").send().await;
    assert_eq!((r.status.as_u16(), &r.body[..]), (200, &b"home"[..]));
    let r = req(addr, Method::GET).path("/nope").send().await;
    assert_eq!(r.status, 404);
    // /mcp/ is not the endpoint.
    let r = post(addr, rpc(1, "ping", json!({})))
        .path("/mcp/")
        .send()
        .await;
    assert_eq!(r.status, 404);
    let r = req(addr, Method::OPTIONS).send().await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(
        r.header("access-control-allow-headers")
            .unwrap()
            .contains("mcp-protocol-version")
    );
    assert!(
        r.header("access-control-allow-headers")
            .unwrap()
            .contains("last-event-id")
    );
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("mcp-session-id, www-authenticate")
    );
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, POST, DELETE, OPTIONS")
    );
    task.abort();
}

#[tokio::test]
async fn cors_headers_on_every_endpoint_response() {
    let s = start(TransportConfig::new().allowed_hosts(Vec::<String>::new())).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let cases = vec![
        post(s.addr, rpc(1, "ping", json!({})))
            .session(&sid)
            .send()
            .await,
        post(s.addr, rpc(1, "ping", json!({})))
            .session("nope")
            .send()
            .await,
        post(s.addr, rpc(1, "ping", json!({}))).send().await,
        post(s.addr, json!(null))
            .session(&sid)
            .raw("{")
            .send()
            .await,
        post(s.addr, rpc(1, "ping", json!({})))
            .header("accept", "application/json")
            .send()
            .await,
        post(s.addr, rpc(1, "ping", json!({})))
            .header("host", "evil.example.com")
            .send()
            .await,
        req(s.addr, Method::PUT).send().await,
        post(
            s.addr,
            json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        )
        .session(&sid)
        .send()
        .await,
    ];
    for r in cases {
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some("*"),
            "status {}",
            r.status
        );
        assert_eq!(
            r.header("access-control-expose-headers"),
            Some("mcp-session-id, www-authenticate")
        );
    }
}

#[tokio::test]
async fn port_in_use_is_a_typed_error() {
    let s = start(TransportConfig::new()).await;
    let server = mcp_transport::McpServer::builder().build().unwrap();
    let err = HttpServer::new(Transport::new(server, TransportConfig::new()))
        .bind(s.addr)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, BindError::AddrInUse { port, .. } if port == s.addr.port()));
    assert!(err.to_string().contains("already in use"));
}

#[tokio::test]
async fn auth_hook_allows_rejects_and_fails_safely() {
    let auth = |req: AuthRequest| async move {
        match req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        {
            Some("Bearer good") => Ok(Some(AuthInfo::new(
                json!({"token":"good","clientId":"c1","scopes":["read"],"extra":{"n":1}}),
            ))),
            Some("Bearer boom") => Err::<Option<AuthInfo>, BoxError>("auth backend down".into()),
            _ => Ok(None),
        }
    };
    let s = start(
        TransportConfig::new()
            .auth(auth)
            .resource_metadata_url("https://example.com/.well-known/oauth-protected-resource/mcp"),
    )
    .await;
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":V,"capabilities":{},"clientInfo":{"name":"x","version":"0"}}});
    let r = post(s.addr, init.clone()).send().await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            "Bearer resource_metadata=\"https://example.com/.well-known/oauth-protected-resource/mcp\""
        )
    );
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(&r.body[..], b"Unauthorized");
    // GET and DELETE are checked too; OPTIONS is not.
    assert_eq!(
        req(s.addr, Method::GET)
            .header("accept", "text/event-stream")
            .send()
            .await
            .status,
        401
    );
    assert_eq!(req(s.addr, Method::OPTIONS).send().await.status, 204);
    // A failing hook: 500, and the server keeps running.
    let r = post(s.addr, init.clone())
        .header("authorization", "Bearer boom")
        .send()
        .await;
    assert_eq!(r.status, 500);
    let r = post(s.addr, init)
        .header("authorization", "Bearer good")
        .send()
        .await;
    assert_eq!(r.status, 200);
    let sid = r.header("mcp-session-id").unwrap().to_owned();
    let r = post(
        s.addr,
        rpc(
            2,
            "tools/call",
            json!({"name":"whoami","arguments":{},"_meta":{"k":"v"}}),
        ),
    )
    .session(&sid)
    .header("authorization", "Bearer good")
    .header("x-test", "hdr")
    .send()
    .await;
    let info = tool_text(&r);
    assert_eq!(info["auth"]["extra"]["n"], 1);
    assert_eq!(info["session"], sid.as_str());
    assert_eq!(info["header"], "hdr");
    assert_eq!(info["version"], V);
    assert_eq!(info["client"], "x");
    assert_eq!(info["meta"], json!({"k":"v"}));
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let s = start(TransportConfig::new().max_body_bytes(1024)).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let big = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"x":"y".repeat(2000)}}});
    let r = post(s.addr, big).session(&sid).send().await;
    assert_eq!(r.status, 413);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    // Just under the limit is fine.
    let ok = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"x":"y".repeat(800)}}});
    assert_eq!(post(s.addr, ok).session(&sid).send().await.status, 200);
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn gzip_when_accepted_including_spliced_static_payloads() {
    let s = start(TransportConfig::new()).await;
    let sid = initialize(s.addr, V, json!({})).await;
    for id in [1, 2] {
        let r = post(
            s.addr,
            rpc(id, "resources/read", json!({"uri":"test://big"})),
        )
        .session(&sid)
        .header("accept-encoding", "gzip, br")
        .send()
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        assert!(r.body.len() < 20_000, "compressed size {}", r.body.len());
        let v: Value = serde_json::from_slice(&gunzip(&r.body)).unwrap();
        assert_eq!(v["id"], id);
        assert_eq!(
            v["result"]["contents"][0]["text"].as_str().unwrap().len(),
            12 * 20_000
        );
    }
    // Small replies and clients without gzip: plain.
    let r = post(
        s.addr,
        rpc(3, "resources/read", json!({"uri":"test://small"})),
    )
    .session(&sid)
    .header("accept-encoding", "gzip")
    .send()
    .await;
    assert!(r.header("content-encoding").is_none());
    let r = post(
        s.addr,
        rpc(4, "resources/read", json!({"uri":"test://big"})),
    )
    .session(&sid)
    .send()
    .await;
    assert!(r.header("content-encoding").is_none());
    assert_eq!(r.json()["id"], 4);
}

#[tokio::test]
async fn spliced_payloads_share_their_middle_and_are_sent_whole_plain_and_gzipped() {
    use mcp_transport::{McpServer, Params, Payload, RequestContext, StaticJson};
    let html = "<p>hello</p>".repeat(20_000);
    let middle = StaticJson::new(serde_json::to_vec(&html).unwrap());
    let server = McpServer::builder()
        .method("x/read", move |_c: RequestContext, p: Params| {
            let tag =
                p.0.as_ref()
                    .and_then(|v| v.get("tag"))
                    .and_then(Value::as_str)
                    .unwrap_or("none")
                    .to_owned();
            let middle = middle.clone();
            async move {
                let after = format!(",\"tag\":{}}}", serde_json::to_string(&tag).unwrap());
                Ok(Payload::spliced(&b"{\"text\":"[..], middle, after))
            }
        })
        .build()
        .unwrap();
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let s = start_with(server, TransportConfig::new(), rx).await;
    let sid = initialize(s.addr, V, json!({})).await;
    for (id, tag, gzip) in [
        (1, "claude", true),
        (2, "chatgpt", true),
        (3, "claude", false),
    ] {
        let mut r = post(s.addr, rpc(id, "x/read", json!({ "tag": tag }))).session(&sid);
        if gzip {
            r = r.header("accept-encoding", "gzip");
        }
        let r = r.send().await;
        assert_eq!(r.status, 200);
        let body = if gzip {
            assert_eq!(r.header("content-encoding"), Some("gzip"));
            assert!(r.body.len() < 20_000, "compressed size {}", r.body.len());
            gunzip(&r.body)
        } else {
            assert!(r.header("content-encoding").is_none());
            r.body.to_vec()
        };
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["id"], id);
        assert_eq!(v["result"], json!({"text": html, "tag": tag}));
    }
}

#[tokio::test]
async fn typed_tools_lists_and_pagination() {
    use mcp_proto::{CallToolResult, McpError, Tool};
    use mcp_transport::{McpServer, RequestContext};
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Add {
        a: i64,
        b: i64,
    }
    let mut b = McpServer::builder().page_size(2).typed_tool(
        Tool::new("add", "Adds", Default::default()),
        |_c: RequestContext, x: Add| async move {
            Ok::<_, McpError>(CallToolResult::text((x.a + x.b).to_string()))
        },
    );
    for i in 0..3 {
        b = b.tool(
            Tool::new(format!("t{i}"), "d", Tool::empty_input_schema()),
            |_c: RequestContext, _a| async { Ok(CallToolResult::text("x")) },
        );
    }
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let s = start_with(b.build().unwrap(), TransportConfig::new(), rx).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let r = post(
        s.addr,
        rpc(
            1,
            "tools/call",
            json!({"name":"add","arguments":{"a":2,"b":3}}),
        ),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(r.json()["result"]["content"][0]["text"], "5");
    let r = post(
        s.addr,
        rpc(2, "tools/call", json!({"name":"add","arguments":{"a":"x"}})),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(r.json()["result"]["isError"], true);
    assert!(
        r.json()["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Input validation error")
    );
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let r = post(s.addr, rpc(3, "tools/list", params))
            .session(&sid)
            .send()
            .await
            .json();
        for t in r["result"]["tools"].as_array().unwrap() {
            names.push(t["name"].as_str().unwrap().to_owned());
        }
        match r["result"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(names, vec!["add", "t0", "t1", "t2"]);
    let r = post(s.addr, rpc(4, "tools/list", json!({"cursor":"bogus"})))
        .session(&sid)
        .send()
        .await;
    assert_rpc_error(&r, -32602);
    let r = post(s.addr, rpc(5, "prompts/list", json!({})))
        .session(&sid)
        .send()
        .await;
    assert_rpc_error(&r, -32601);
}

/// Serves with a short header read timeout; returns the address.
async fn start_with_header_timeout(t: Duration) -> SocketAddr {
    let server = mcp_transport::McpServer::builder().build().unwrap();
    let bound = HttpServer::new(Transport::new(server, TransportConfig::new()))
        .header_read_timeout(t)
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = bound.local_addr();
    tokio::spawn(bound.serve_until(std::future::pending()));
    addr
}

/// Reads until the server closes the connection; false if it is still open after `within`.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    let read_to_end = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, read_to_end).await.is_ok()
}

#[tokio::test]
async fn silent_and_slow_connections_are_closed_after_the_header_read_timeout() {
    use tokio::io::AsyncWriteExt;
    let addr = start_with_header_timeout(Duration::from_millis(200)).await;
    // Connects and says nothing: was held open forever (the HTTP version was never decided,
    // so the HTTP/1 header timer never started).
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(5)).await);
    // Sends the first bytes of the HTTP/2 preface, then stalls: same.
    let mut preface = tokio::net::TcpStream::connect(addr).await.unwrap();
    preface.write_all(b"PRI * HTTP").await.unwrap();
    assert!(closed_within(&mut preface, Duration::from_secs(5)).await);
    // An HTTP/1 request head that never ends.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut slow, Duration::from_secs(5)).await);
    // A complete request is still answered.
    let mut ok = tokio::net::TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut ok, &mut text)
        .await
        .unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[tokio::test]
async fn a_session_is_bound_to_the_user_that_created_it() {
    // `Bearer <user>:<n>`: every user comes through one OAuth client ("chatgpt"), the subject
    // (`extra.userId`) is the user, the token changes with n (a refresh). `tokenonly:<x>`
    // has no subject: the token is the identity.
    let auth = |req: AuthRequest| async move {
        let token = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        Ok::<_, BoxError>(token.map(|t| {
            let user = t.split(':').next().unwrap_or("").to_owned();
            if user == "tokenonly" {
                AuthInfo::new(json!({ "token": t, "clientId": "chatgpt" }))
            } else {
                AuthInfo::new(
                    json!({ "token": t, "clientId": "chatgpt", "extra": {"userId": user} }),
                )
            }
        }))
    };
    let s = start(TransportConfig::new().auth(auth)).await;
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":V,"capabilities":{},"clientInfo":{"name":"x","version":"0"}}});
    let r = post(s.addr, init.clone())
        .header("authorization", "Bearer alice:1")
        .send()
        .await;
    let sid = r.header("mcp-session-id").unwrap().to_owned();
    let list = |who: &'static str, id: i64| {
        post(s.addr, rpc(id, "tools/list", json!({})))
            .session(&sid)
            .header("authorization", who)
    };
    // Another user of the same OAuth client with the session id: 404 on every method.
    assert_eq!(list("Bearer mallory:1", 2).send().await.status, 404);
    let get = req(s.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .header("authorization", "Bearer mallory:1")
        .send()
        .await;
    assert_eq!(get.status, 404);
    let delete = req(s.addr, Method::DELETE)
        .session(&sid)
        .header("authorization", "Bearer mallory:1")
        .send()
        .await;
    assert_eq!(delete.status, 404);
    // The same user, also after a token refresh, keeps the session.
    assert_eq!(list("Bearer alice:1", 3).send().await.status, 200);
    assert_eq!(list("Bearer alice:2", 4).send().await.status, 200);
    // Without a subject the token is the identity: same client id, other token: 404.
    let r = post(s.addr, init)
        .header("authorization", "Bearer tokenonly:a")
        .send()
        .await;
    let sid2 = r.header("mcp-session-id").unwrap().to_owned();
    let other = post(s.addr, rpc(5, "tools/list", json!({})))
        .session(&sid2)
        .header("authorization", "Bearer tokenonly:b")
        .send()
        .await;
    assert_eq!(other.status, 404);
    let same = post(s.addr, rpc(6, "tools/list", json!({})))
        .session(&sid2)
        .header("authorization", "Bearer tokenonly:a")
        .send()
        .await;
    assert_eq!(same.status, 200);
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // An endless response (as an SSE stream is) to a client that reads nothing.
    let server = mcp_transport::McpServer::builder().build().unwrap();
    let bound = HttpServer::new(Transport::new(server, TransportConfig::new()))
        .write_timeout(Duration::from_millis(300))
        .fallback(|_req| async {
            let chunks = futures_util::stream::repeat_with(|| {
                Ok::<_, std::convert::Infallible>(http_body::Frame::data(bytes::Bytes::from(
                    vec![b'x'; 64 * 1024],
                )))
            });
            http::Response::new(McpBody::new(http_body_util::StreamBody::new(chunks)))
        })
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = bound.local_addr();
    tokio::spawn(bound.serve_until(std::future::pending()));
    let mut stalled = tokio::net::TcpStream::connect(addr).await.unwrap();
    stalled
        .write_all(b"GET /endless HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    // Not reading: the socket buffers fill and the server's writes stop making progress.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The server gave up on it: what it had sent drains, then the connection ends. (Was kept
    // for ever, its response still being produced.)
    let mut buf = vec![0u8; 256 * 1024];
    let drained = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stalled.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(drained.is_ok(), "the stalled connection is still open");
}

#[tokio::test]
async fn floods_of_initialize_do_not_evict_other_users_sessions() {
    // A bearer token is a user; no token is an anonymous client (auth info without identity).
    let auth = |req: AuthRequest| async move {
        let token = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        Ok::<_, BoxError>(Some(match token {
            Some(t) => AuthInfo::new(json!({ "token": t })),
            None => AuthInfo::new(json!({ "scopes": [] })),
        }))
    };
    let s = start(TransportConfig::new().auth(auth).max_sessions(10)).await;
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":V,"capabilities":{},"clientInfo":{"name":"x","version":"0"}}});
    let open = |who: Option<&'static str>| {
        let mut r = post(s.addr, init.clone());
        if let Some(w) = who {
            r = r.header("authorization", w);
        }
        r
    };
    let mut users = Vec::new();
    for who in ["Bearer alice", "Bearer bob", "Bearer carol"] {
        let r = open(Some(who)).send().await;
        users.push((who, r.header("mcp-session-id").unwrap().to_owned()));
    }
    let alive = |who: &'static str, sid: String, id: i64| {
        post(s.addr, rpc(id, "tools/list", json!({})))
            .session(&sid)
            .header("authorization", who)
    };
    // 200 anonymous sessions on a cap of 10: they evict each other.
    for _ in 0..200 {
        assert_eq!(open(None).send().await.status, 200);
    }
    for (i, (who, sid)) in users.iter().enumerate() {
        let r = alive(who, sid.clone(), i as i64 + 10).send().await;
        assert_eq!(r.status, 200, "{who}'s session after an anonymous flood");
    }
    // Mallory, authenticated, opens 50: she holds the most, so she loses her own.
    for _ in 0..50 {
        assert_eq!(open(Some("Bearer mallory")).send().await.status, 200);
    }
    for (i, (who, sid)) in users.iter().enumerate() {
        let r = alive(who, sid.clone(), i as i64 + 20).send().await;
        assert_eq!(r.status, 200, "{who}'s session after one user's flood");
    }
}

/// A hook that wants the body: it runs on a POST after the body was read within the limit and
/// parsed (413 and 400 come first), gets `None` for GET, and may answer 400/403 with its own
/// challenge.
#[tokio::test]
async fn auth_hook_with_the_body_decides_status_and_challenge() {
    use bytes::Bytes;
    use mcp_transport::{AuthDecision, AuthDenial, AuthHook};

    struct BodyAuth;
    impl AuthHook for BodyAuth {
        fn authenticate(
            &self,
            _req: AuthRequest,
        ) -> mcp_transport::BoxFuture<Result<Option<AuthInfo>, BoxError>> {
            Box::pin(async { Ok(None) })
        }
        fn wants_body(&self) -> bool {
            true
        }
        fn decide(
            &self,
            req: AuthRequest,
        ) -> mcp_transport::BoxFuture<Result<AuthDecision, BoxError>> {
            Box::pin(async move {
                let method = req
                    .body
                    .as_ref()
                    .and_then(|b: &Bytes| serde_json::from_slice::<Value>(b).ok())
                    .and_then(|v| v["method"].as_str().map(String::from));
                Ok(match method.as_deref() {
                    Some("initialize") | Some("notifications/initialized") => {
                        AuthDecision::Allow(AuthInfo::new(json!({"clientId": "c"})))
                    }
                    Some("tools/call") => AuthDecision::Deny(AuthDenial {
                        status: http::StatusCode::FORBIDDEN,
                        challenge: Some(http::HeaderValue::from_static(
                            "Bearer error=\"insufficient_scope\"",
                        )),
                    }),
                    // GET and DELETE come without a body.
                    None if req.method == Method::GET => AuthDecision::Deny(AuthDenial {
                        status: http::StatusCode::BAD_REQUEST,
                        challenge: None,
                    }),
                    _ => AuthDecision::Deny(AuthDenial::default()),
                })
            })
        }
    }
    let s = start(TransportConfig::new().auth(BodyAuth).max_body_bytes(1000)).await;
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":V,"capabilities":{},"clientInfo":{"name":"x","version":"0"}}});
    let r = post(s.addr, init).send().await;
    assert_eq!(r.status, 200);
    let sid = r.header("mcp-session-id").unwrap().to_owned();
    let r = post(
        s.addr,
        rpc(2, "tools/call", json!({"name":"whoami","arguments":{}})),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\"")
    );
    assert_eq!(r.header("content-type"), None);
    assert_eq!(&r.body[..], b"Unauthorized");
    let r = post(s.addr, rpc(3, "ping", json!({})))
        .session(&sid)
        .send()
        .await;
    assert_eq!(
        (r.status, r.header("www-authenticate")),
        (http::StatusCode::UNAUTHORIZED, Some("Bearer"))
    );
    let r = req(s.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .send()
        .await;
    assert_eq!(r.status, 400);
    // The limit and the parse come before the hook.
    let big = rpc(4, "tools/call", json!({"pad": "x".repeat(2000)}));
    assert_eq!(post(s.addr, big).session(&sid).send().await.status, 413);
    let r = post(s.addr, json!("not a message"))
        .session(&sid)
        .send()
        .await;
    assert_eq!(r.status, 400);
}
