//! The modern era (MCP 2026-07-28) next to the legacy one on one endpoint: stateless
//! requests, `input_required` round trips that may finish on another instance (same state
//! key) but not with a changed or foreign state, listen streams fed by the transport's
//! notifications, and legacy sessions untouched beside them.

mod support;

use std::time::Duration;

use mcp_transport::{StateKey, TransportConfig};
use serde_json::{Value, json};
use support::*;

const MODERN: &str = "2026-07-28";

fn meta(caps: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "modern-test", "version": "1"}
    })
}

/// A modern request: the body's `_meta` and the mirrored headers.
fn modern(addr: std::net::SocketAddr, id: i64, method: &str, mut params: Value) -> Req {
    let name = params
        .get("name")
        .or_else(|| params.get("uri"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if params.get("_meta").is_none() {
        params["_meta"] = meta(json!({"sampling": {}}));
    }
    let mut r = post(addr, rpc(id, method, params))
        .header("mcp-protocol-version", MODERN)
        .header("mcp-method", method);
    if let Some(n) = name {
        r = r.header("mcp-name", &n);
    }
    r
}

#[tokio::test]
async fn a_round_trip_finishes_on_another_instance_with_the_same_key_only() {
    let key = StateKey::from_secret(b"shared secret");
    let a = start(TransportConfig::new().state_key(key.clone())).await;
    let b = start(TransportConfig::new().state_key(key)).await;
    let other = start(TransportConfig::new()).await;

    let call = json!({"name": "sample", "arguments": {"prompt": "2+2?"}});
    let r = modern(a.addr, 1, "tools/call", call.clone()).send().await;
    assert_eq!(r.status, 200);
    assert!(r.header("mcp-session-id").is_none());
    let first = r.json()["result"].clone();
    assert_eq!(first["resultType"], "input_required");
    let ask = &first["inputRequests"]["r0"];
    assert_eq!(ask["method"], "sampling/createMessage");
    assert_eq!(ask["params"]["messages"][0]["content"]["text"], "2+2?");
    let state = first["requestState"]
        .as_str()
        .expect("requestState")
        .to_owned();
    assert!(
        first.get("ttlMs").is_none(),
        "no cache hints on input_required"
    );

    let mut retry = call.clone();
    retry["inputResponses"] = json!({"r0": {"role": "assistant", "model": "m",
        "content": {"type": "text", "text": "4"}}});
    retry["requestState"] = Value::from(state.clone());
    let r = modern(b.addr, 2, "tools/call", retry.clone()).send().await;
    let done = &r.json()["result"];
    assert_eq!(done["resultType"], "complete", "{done}");
    assert_eq!(done["content"][0]["text"], "LLM response: 4");

    // A process with another key, a changed state, a state moved to other arguments: refused.
    let r = modern(other.addr, 3, "tools/call", retry.clone())
        .send()
        .await;
    assert_rpc_error(&r, -32602);
    assert_eq!(r.json()["id"], 3);
    let mut tampered = retry.clone();
    tampered["requestState"] = Value::from(format!("{state}-TAMPERED"));
    assert_rpc_error(
        &modern(b.addr, 4, "tools/call", tampered).send().await,
        -32602,
    );
    let mut moved = retry;
    moved["arguments"] = json!({"prompt": "something else"});
    assert_rpc_error(&modern(b.addr, 5, "tools/call", moved).send().await, -32602);

    // Without the capability the tool is not even asked: -32021, HTTP 400.
    let mut bare = call;
    bare["_meta"] = meta(json!({}));
    let r = modern(a.addr, 6, "tools/call", bare).send().await;
    assert_eq!(r.status, 400);
    assert_rpc_error(&r, -32021);
}

#[tokio::test]
async fn modern_and_legacy_requests_share_the_endpoint() {
    let s = start(TransportConfig::new()).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let legacy = post(s.addr, rpc(1, "tools/call", json!({"name": "whoami"})))
        .session(&sid)
        .header("mcp-protocol-version", V)
        .send()
        .await;
    let text = legacy.json()["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let who: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(who["version"], V);
    assert_eq!(who["session"], Value::from(sid.as_str()));
    assert!(legacy.json()["result"].get("resultType").is_none());

    let r = modern(s.addr, 2, "tools/call", json!({"name": "whoami"}))
        .send()
        .await;
    let result = &r.json()["result"];
    assert_eq!(result["resultType"], "complete");
    let who: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(who["version"], MODERN);
    assert_eq!(who["client"], "modern-test");
    assert_eq!(who["session"], Value::Null);
    assert_eq!(
        s.transport.session_count(),
        1,
        "a modern request makes no session"
    );

    // Headers must mirror the body; methods 2026-07-28 removed are 404.
    let r = modern(s.addr, 3, "tools/call", json!({"name": "whoami"}))
        .header("mcp-name", "echo")
        .send()
        .await;
    assert_eq!(r.status, 400);
    assert_rpc_error(&r, -32020);
    let r = modern(s.addr, 4, "ping", json!({})).send().await;
    assert_eq!(r.status, 404);
    assert_rpc_error(&r, -32601);
    let r = modern(s.addr, 5, "tools/list", json!({})).send().await;
    assert_eq!(r.json()["result"]["cacheScope"], "private");
    assert_eq!(r.json()["result"]["ttlMs"], 0);
    // No GET stream and no DELETE in the modern era.
    for method in [http::Method::GET, http::Method::DELETE] {
        let r = req(s.addr, method)
            .header("accept", "text/event-stream")
            .header("mcp-protocol-version", MODERN)
            .send()
            .await;
        assert_eq!(r.status, 405);
    }
}

#[tokio::test]
async fn a_listen_stream_gets_what_it_asked_for_tagged_with_its_id() {
    let s = start(TransportConfig::new()).await;
    let mut tools = modern(
        s.addr,
        7,
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true, "promptsListChanged": true}}),
    )
    .stream()
    .await;
    let (_, ack) = tools.next_message().await.expect("ack");
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        7
    );
    // The test server has no prompts: that part is not acknowledged.
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true})
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while s.transport.listen_stream_count() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "listener never registered"
        );
        tokio::task::yield_now().await;
    }

    s.transport
        .notify_all("notifications/resources/list_changed", None);
    s.transport
        .notify_all("notifications/tools/list_changed", None);
    let (_, note) = tools.next_message().await.expect("notification");
    assert_eq!(note["method"], "notifications/tools/list_changed");
    assert_eq!(
        note["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        7
    );
}
