//! Session lifecycle over real HTTP: idle expiry, the cap with LRU eviction, stateless mode.

mod support;

use std::time::Duration;

use http::Method;
use mcp_transport::TransportConfig;
use serde_json::json;
use support::*;

#[tokio::test]
async fn idle_sessions_expire() {
    let s = start(TransportConfig::new().session_idle_timeout(Duration::from_millis(150))).await;
    let sid = initialize(s.addr, V, json!({})).await;
    assert_eq!(
        post(s.addr, rpc(1, "ping", json!({})))
            .session(&sid)
            .send()
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Reaped by the sweeper (or at lookup at the latest).
    assert_eq!(s.transport.session_count(), 0);
    let r = post(s.addr, rpc(2, "ping", json!({})))
        .session(&sid)
        .send()
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn activity_keeps_a_session_alive_and_busy_sessions_do_not_expire() {
    let mut s =
        start(TransportConfig::new().session_idle_timeout(Duration::from_millis(200))).await;
    let sid = initialize(s.addr, V, json!({})).await;
    for i in 0..4 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            post(s.addr, rpc(i, "ping", json!({})))
                .session(&sid)
                .send()
                .await
                .status,
            200
        );
    }
    // A call longer than the idle timeout does not let the session expire under it.
    let r = post(
        s.addr,
        rpc(
            9,
            "tools/call",
            json!({"name":"slow","arguments":{"ms":500}}),
        ),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(r.json()["result"]["content"][0]["text"], "slept 500 ms");
    assert_eq!(s.probe().await, Probe::Started("slow".into()));
    assert_eq!(s.probe().await, Probe::Finished("slow".into()));
    assert_eq!(
        post(s.addr, rpc(10, "ping", json!({})))
            .session(&sid)
            .send()
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn the_cap_evicts_the_least_recently_used_idle_session() {
    let s = start(TransportConfig::new().max_sessions(2)).await;
    let a = initialize(s.addr, V, json!({})).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let b = initialize(s.addr, V, json!({})).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    // Touch a: b is now the least recently used.
    assert_eq!(
        post(s.addr, rpc(1, "ping", json!({})))
            .session(&a)
            .send()
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    let c = initialize(s.addr, V, json!({})).await;
    assert_eq!(s.transport.session_count(), 2);
    assert_eq!(
        post(s.addr, rpc(2, "ping", json!({})))
            .session(&b)
            .send()
            .await
            .status,
        404
    );
    assert_eq!(
        post(s.addr, rpc(3, "ping", json!({})))
            .session(&a)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(
        post(s.addr, rpc(4, "ping", json!({})))
            .session(&c)
            .send()
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_busy_session_is_not_evicted_before_an_idle_one() {
    let s = start(TransportConfig::new().max_sessions(2)).await;
    let a = initialize(s.addr, V, json!({})).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let b = initialize(s.addr, V, json!({})).await;
    // a is older but holds an open GET stream.
    let mut get = req(s.addr, Method::GET)
        .session(&a)
        .header("accept", "text/event-stream")
        .stream()
        .await;
    assert_eq!(get.status, 200);
    get.next_event().await.unwrap();
    let _c = initialize(s.addr, V, json!({})).await;
    assert_eq!(
        post(s.addr, rpc(1, "ping", json!({})))
            .session(&b)
            .send()
            .await
            .status,
        404
    );
    assert_eq!(
        post(s.addr, rpc(2, "ping", json!({})))
            .session(&a)
            .send()
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn deleting_a_session_cancels_its_calls_and_ends_its_streams() {
    let mut s = start(TransportConfig::new()).await;
    let sid = initialize(s.addr, V, json!({})).await;
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
                json!({"name":"slow","arguments":{"ms":5000,"tag":"del"}}),
            ),
        )
        .session(&sid2)
        .stream()
        .await
    });
    assert_eq!(s.probe().await, Probe::Started("del".into()));
    assert_eq!(
        req(s.addr, Method::DELETE)
            .session(&sid)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(s.probe().await, Probe::Cancelled("del".into()));
    // The GET stream ends.
    assert!(get.next_event().await.is_none());
    // The call's connection gets no answer for the cancelled request.
    let r = call.await.unwrap();
    let r = r.finish().await;
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn stateless_mode_serves_posts_without_sessions() {
    let s = start(TransportConfig::new().stateless(true)).await;
    let r = post(s.addr, rpc(1, "tools/list", json!({}))).send().await;
    assert_eq!(r.status, 200);
    assert!(r.header("mcp-session-id").is_none());
    assert!(r.json()["result"]["tools"].as_array().unwrap().len() >= 3);
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":V,"capabilities":{},"clientInfo":{"name":"x","version":"0"}}});
    let r = post(s.addr, init).send().await;
    assert_eq!(r.status, 200);
    assert!(r.header("mcp-session-id").is_none());
    assert_eq!(r.json()["result"]["protocolVersion"], V);
    for m in [Method::GET, Method::DELETE] {
        let r = req(s.addr, m.clone())
            .header("accept", "text/event-stream")
            .send()
            .await;
        assert_eq!(r.status, 405, "{m}");
    }
    // A session header is ignored.
    let r = post(s.addr, rpc(2, "ping", json!({})))
        .header("mcp-session-id", "whatever")
        .send()
        .await;
    assert_eq!(r.status, 200);
    // Notifications stream in stateless mode too (no ids: nothing to resume).
    let r = post(
        s.addr,
        rpc(
            3,
            "tools/call",
            json!({"name":"notify","arguments":{"count":2,"gap":1}}),
        ),
    )
    .send()
    .await;
    assert_eq!(r.content_type(), Some("text/event-stream"));
    let msgs = r.sse_messages();
    assert_eq!(msgs.len(), 3);
    assert!(
        parse_sse(&String::from_utf8_lossy(&r.body))
            .iter()
            .all(|e| e.id.is_none())
    );
}

#[tokio::test]
async fn negotiates_versions() {
    let s = start(TransportConfig::new()).await;
    for (asked, got) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2026-07-28", "2025-11-25"),
        ("garbage", "2025-11-25"),
    ] {
        let r = post(s.addr, json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":asked,"capabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}},"clientInfo":{"name":"x","version":"0"}}}))
            .send()
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["result"]["protocolVersion"], got, "asked {asked}");
    }
    // Missing protocolVersion: invalid params.
    let r = post(
        s.addr,
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}),
    )
    .send()
    .await;
    assert_rpc_error(&r, -32602);
}

#[tokio::test]
async fn resource_subscriptions_per_session_are_bounded() {
    let s = start(TransportConfig::new()).await;
    // 2025-03-26 allows batches: 1000 subscriptions in one POST.
    let sid = initialize(s.addr, "2025-03-26", json!({})).await;
    let batch: Vec<_> = (0..1000)
        .map(|i| {
            rpc(
                i,
                "resources/subscribe",
                json!({"uri": format!("test://r/{i}")}),
            )
        })
        .collect();
    let r = post(s.addr, json!(batch))
        .header("mcp-session-id", &sid)
        .send()
        .await;
    assert_eq!(r.status, 200);
    let answers = r.json();
    assert_eq!(answers.as_array().map(Vec::len), Some(1000));
    assert!(
        answers
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["result"] == json!({}))
    );
    // Was accepted without end (one session could hold any number of URIs).
    let more = post(
        s.addr,
        rpc(1000, "resources/subscribe", json!({"uri": "test://r/more"})),
    )
    .session(&sid)
    .send()
    .await;
    assert_rpc_error(&more, -32602);
    // Subscribing again to a URI already held is fine; unsubscribing makes room.
    let again = post(
        s.addr,
        rpc(1001, "resources/subscribe", json!({"uri": "test://r/7"})),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(again.json()["result"], json!({}));
    let off = post(
        s.addr,
        rpc(1002, "resources/unsubscribe", json!({"uri": "test://r/7"})),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(off.json()["result"], json!({}));
    let now = post(
        s.addr,
        rpc(1003, "resources/subscribe", json!({"uri": "test://r/more"})),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(now.json()["result"], json!({}));
    // A URI of several KiB is refused on its own.
    let sid2 = initialize(s.addr, V, json!({})).await;
    let long = format!("test://{}", "x".repeat(8 * 1024));
    let r = post(s.addr, rpc(1, "resources/subscribe", json!({"uri": long})))
        .session(&sid2)
        .send()
        .await;
    assert_rpc_error(&r, -32602);
}
