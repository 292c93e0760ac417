//! One test per row of the HTTP baseline table (mcp-requirements.md 2.16), against the real
//! server over real HTTP: status, content type and JSON-RPC code.

mod support;

use http::Method;
use mcp_transport::TransportConfig;
use serde_json::json;
use support::*;

async fn session() -> (TestServer, String) {
    let s = start(TransportConfig::new().allowed_hosts(Vec::<String>::new())).await;
    let sid = initialize(s.addr, V, json!({})).await;
    (s, sid)
}

fn is_json(r: &Resp) -> bool {
    r.content_type() == Some("application/json")
}

#[tokio::test]
async fn row_initialized_notification_202_no_body() {
    let (s, sid) = session().await;
    let r = post(
        s.addr,
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    assert!(r.content_type().is_none());
}

#[tokio::test]
async fn row_ping_200_empty_result() {
    let (s, sid) = session().await;
    let r = post(s.addr, rpc(2, "ping", json!({})))
        .session(&sid)
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert!(is_json(&r));
    assert_eq!(r.json(), json!({"jsonrpc":"2.0","id":2,"result":{}}));
}

#[tokio::test]
async fn row_accept_json_only_or_missing_406() {
    let (s, sid) = session().await;
    for accept in [Some("application/json"), Some("*/*"), None] {
        let mut q = post(s.addr, rpc(3, "ping", json!({}))).session(&sid);
        q = match accept {
            Some(a) => q.header("accept", a),
            None => q.without("accept"),
        };
        let r = q.send().await;
        assert_eq!(r.status, 406, "accept {accept:?}");
        assert!(is_json(&r));
        assert_rpc_error(&r, -32000);
    }
}

#[tokio::test]
async fn row_content_type_text_plain_415() {
    let (s, sid) = session().await;
    let r = post(s.addr, rpc(5, "ping", json!({})))
        .session(&sid)
        .header("content-type", "text/plain")
        .send()
        .await;
    assert_eq!(r.status, 415);
    assert!(is_json(&r));
    assert_rpc_error(&r, -32000);
}

#[tokio::test]
async fn row_malformed_json_400_parse_error_id_null() {
    let (s, sid) = session().await;
    let r = post(s.addr, json!(null))
        .session(&sid)
        .raw("{\"jsonrpc\":")
        .send()
        .await;
    assert_eq!(r.status, 400);
    assert!(is_json(&r));
    assert_eq!(
        r.json(),
        json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})
    );
    // JSON that is not JSON-RPC: -32600.
    let r = post(s.addr, json!({"foo":1})).session(&sid).send().await;
    assert_eq!(r.status, 400);
    assert_rpc_error(&r, -32600);
}

#[tokio::test]
async fn row_unknown_method_32601() {
    let (s, sid) = session().await;
    let r = post(s.addr, rpc(6, "no/such", json!({})))
        .session(&sid)
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert!(is_json(&r));
    assert_rpc_error(&r, -32601);
    assert_eq!(r.json()["id"], 6);
}

#[tokio::test]
async fn row_tools_call_unknown_tool_32602() {
    let (s, sid) = session().await;
    let r = post(
        s.addr,
        rpc(7, "tools/call", json!({"name":"nope","arguments":{}})),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(r.status, 200);
    assert_rpc_error(&r, -32602);
    assert_eq!(r.json()["error"]["message"], "Unknown tool: nope");
}

#[tokio::test]
async fn row_resources_read_unknown_uri_32002_with_uri() {
    let (s, sid) = session().await;
    let r = post(
        s.addr,
        rpc(8, "resources/read", json!({"uri":"test://nope"})),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(r.status, 200);
    assert_rpc_error(&r, -32002);
    assert_eq!(r.json()["error"]["data"]["uri"], "test://nope");
}

#[tokio::test]
async fn row_batch_rejected_at_2025_11_25_accepted_at_2025_03_26() {
    let (s, sid) = session().await;
    let batch = json!([rpc(9, "ping", json!({})), rpc(10, "ping", json!({}))]);
    let r = post(s.addr, batch.clone()).session(&sid).send().await;
    assert_eq!(r.status, 400);
    assert!(is_json(&r));
    assert_rpc_error(&r, -32600);
    // A 2025-03-26 session gets both answers in one JSON array.
    let old = initialize(s.addr, "2025-03-26", json!({})).await;
    let r = post(s.addr, batch)
        .header("mcp-session-id", &old)
        .send()
        .await;
    assert_eq!(r.status, 200);
    let arr = r.json();
    let mut ids: Vec<i64> = arr
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![9, 10]);
    // Batches are bounded.
    let huge: Vec<_> = (0..1001).map(|i| rpc(i, "ping", json!({}))).collect();
    let r = post(s.addr, json!(huge))
        .header("mcp-session-id", &old)
        .send()
        .await;
    assert_eq!(r.status, 400);
    assert_rpc_error(&r, -32600);
    // A batch of notifications only: 202.
    let r = post(s.addr, json!([{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}]))
        .header("mcp-session-id", &old)
        .send()
        .await;
    assert_eq!(r.status, 202);
}

#[tokio::test]
async fn row_client_response_body_202() {
    let (s, sid) = session().await;
    let r = post(s.addr, json!({"jsonrpc":"2.0","id":"srv-1","result":{}}))
        .session(&sid)
        .send()
        .await;
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    let r = post(
        s.addr,
        json!({"jsonrpc":"2.0","id":"srv-2","error":{"code":-1,"message":"no"}}),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(r.status, 202);
}

#[tokio::test]
async fn row_unsupported_protocol_version_400() {
    let (s, sid) = session().await;
    let r = post(s.addr, rpc(11, "ping", json!({})))
        .session(&sid)
        .header("mcp-protocol-version", "1999-01-01")
        .send()
        .await;
    assert_eq!(r.status, 400);
    assert!(is_json(&r));
    assert_rpc_error(&r, -32000);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1999-01-01")
    );
}

#[tokio::test]
async fn row_no_protocol_version_header_accepted_and_any_supported_version_mid_session() {
    let (s, sid) = session().await;
    let r = post(s.addr, rpc(12, "ping", json!({})))
        .header("mcp-session-id", &sid)
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["result"], json!({}));
    let r = post(s.addr, rpc(13, "ping", json!({})))
        .session(&sid)
        .header("mcp-protocol-version", "2025-03-26")
        .send()
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn row_non_initialize_without_session_400() {
    let (s, _sid) = session().await;
    let r = post(s.addr, rpc(13, "ping", json!({})))
        .header("mcp-protocol-version", V)
        .send()
        .await;
    assert_eq!(r.status, 400);
    assert!(is_json(&r));
    assert_rpc_error(&r, -32000);
}

#[tokio::test]
async fn row_unknown_session_404() {
    let (s, _sid) = session().await;
    let r = post(s.addr, rpc(14, "ping", json!({})))
        .session("does-not-exist")
        .send()
        .await;
    assert_eq!(r.status, 404);
    assert!(is_json(&r));
    assert_rpc_error(&r, -32000);
}

#[tokio::test]
async fn row_second_initialize_400_32600() {
    let (s, sid) = session().await;
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":V,"capabilities":{},"clientInfo":{"name":"x","version":"0"}}});
    let r = post(s.addr, init).session(&sid).send().await;
    assert_eq!(r.status, 400);
    assert!(is_json(&r));
    assert_rpc_error(&r, -32600);
}

#[tokio::test]
async fn row_server_discover_is_answered_in_both_modes() {
    // The dual-era probe of Python `mcp` 2.x: a modern server/discover. Served statefully or
    // statelessly alike (modern requests need no session).
    let meta = json!({"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    }});
    for config in [
        TransportConfig::new(),
        TransportConfig::new().stateless(true),
    ] {
        let s = start(config).await;
        let r = post(s.addr, rpc(15, "server/discover", meta.clone()))
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "server/discover")
            .send()
            .await;
        assert_eq!(r.status, 200);
        let result = &r.json()["result"];
        assert_eq!(result["resultType"], "complete");
        assert_eq!(result["supportedVersions"][0], "2026-07-28");
        assert!(result["ttlMs"].is_u64());
        // Without `_meta` it is a modern error (the header says modern): -32602 with the id.
        let r = post(s.addr, rpc(16, "server/discover", json!({})))
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "server/discover")
            .send()
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["id"], 16);
        assert_rpc_error(&r, -32602);
    }
}

#[tokio::test]
async fn row_evil_host_403() {
    let (s, _sid) = session().await;
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":V,"capabilities":{},"clientInfo":{"name":"x","version":"0"}}});
    let r = post(s.addr, init.clone())
        .header("host", "evil.example.com")
        .header("origin", "http://evil.example.com")
        .send()
        .await;
    assert_eq!(r.status, 403);
    assert!(is_json(&r));
    assert_rpc_error(&r, -32000);
    let r = post(s.addr, init.clone())
        .header("host", "evil.example.com")
        .send()
        .await;
    assert_eq!(r.status, 403);
    // A malformed Host is 400, never a crash.
    let r = post(s.addr, init).header("host", "[bad").send().await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn row_valid_host_evil_origin_403() {
    let (s, _sid) = session().await;
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":V,"capabilities":{},"clientInfo":{"name":"x","version":"0"}}});
    let r = post(s.addr, init.clone())
        .header("origin", "http://evil.example.com")
        .send()
        .await;
    assert_eq!(r.status, 403);
    assert!(is_json(&r));
    assert_rpc_error(&r, -32000);
    let r = post(s.addr, init)
        .header("origin", &format!("http://{}", s.addr))
        .send()
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn row_get_accept_json_406() {
    let (s, sid) = session().await;
    let r = req(s.addr, Method::GET)
        .session(&sid)
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(r.status, 406);
    assert!(is_json(&r));
    assert_rpc_error(&r, -32000);
}

#[tokio::test]
async fn row_get_accept_sse_200_stream_held_open() {
    let (s, sid) = session().await;
    let mut st = req(s.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .stream()
        .await;
    assert_eq!(st.status, 200);
    assert_eq!(st.headers.get("content-type").unwrap(), "text/event-stream");
    assert_eq!(st.headers.get("x-accel-buffering").unwrap(), "no");
    // 2025-11-25: a priming event with an id and retry comes first.
    let e = st.next_event().await.expect("priming");
    assert!(e.id.is_some() && e.retry.is_some() && e.data.is_empty());
    // Held open: a server notification arrives on it.
    assert!(
        s.transport
            .notify_session(&sid, "notifications/tools/list_changed", None)
    );
    let (_, m) = st.next_message().await.expect("notification");
    assert_eq!(m["method"], "notifications/tools/list_changed");
}

#[tokio::test]
async fn row_put_405_with_allow() {
    let (s, sid) = session().await;
    let r = req(s.addr, Method::PUT)
        .session(&sid)
        .header("content-type", "application/json")
        .raw("{}")
        .send()
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, POST, DELETE"));
    assert_rpc_error(&r, -32000);
}

#[tokio::test]
async fn row_delete_session_200() {
    let (s, sid) = session().await;
    let r = req(s.addr, Method::DELETE).session(&sid).send().await;
    assert_eq!(r.status, 200);
    assert_eq!(s.transport.session_count(), 0);
}

#[tokio::test]
async fn row_request_after_delete_404() {
    let (s, sid) = session().await;
    assert_eq!(
        req(s.addr, Method::DELETE)
            .session(&sid)
            .send()
            .await
            .status,
        200
    );
    let r = post(s.addr, rpc(16, "ping", json!({})))
        .session(&sid)
        .send()
        .await;
    assert_eq!(r.status, 404);
    assert_rpc_error(&r, -32000);
    let r = req(s.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .send()
        .await;
    assert_eq!(r.status, 404);
    let r = req(s.addr, Method::DELETE).session(&sid).send().await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn row_priming_event_and_retry_on_post_sse() {
    let s = start(TransportConfig::new().response_mode(mcp_transport::ResponseMode::Sse)).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let mut st = post(s.addr, rpc(1, "ping", json!({})))
        .session(&sid)
        .stream()
        .await;
    assert_eq!(st.status, 200);
    assert_eq!(st.headers.get("content-type").unwrap(), "text/event-stream");
    let first = st.next_event().await.unwrap();
    assert!(first.id.is_some(), "priming event has an id");
    assert!(first.retry.is_some(), "priming event has retry");
    assert!(first.data.is_empty());
    let (e, m) = st.next_message().await.unwrap();
    assert_eq!(m, json!({"jsonrpc":"2.0","id":1,"result":{}}));
    // Ids are unique and name their stream.
    assert_ne!(e.id, first.id);
    assert_eq!(
        e.id.as_ref().unwrap().split('-').next(),
        first.id.as_ref().unwrap().split('-').next()
    );
    assert!(
        st.next_event().await.is_none(),
        "stream ends after the response"
    );
    // Before 2025-11-25: no priming.
    let old = initialize(s.addr, "2025-06-18", json!({})).await;
    let r = post(s.addr, rpc(2, "ping", json!({})))
        .header("mcp-session-id", &old)
        .send()
        .await;
    let events = parse_sse(&String::from_utf8_lossy(&r.body));
    assert_eq!(events.len(), 1);
    assert!(events[0].retry.is_none());
}
