//! Streams over real HTTP: JSON-to-SSE upgrade, log levels, resumption after a dropped
//! stream, cancellation reaching the handler, and sampling round-tripping through a client.

mod support;

use std::time::Duration;

use http::Method;
use mcp_transport::TransportConfig;
use serde_json::json;
use support::*;

#[tokio::test]
async fn a_notification_before_the_result_upgrades_a_json_reply_to_sse() {
    let s = start(TransportConfig::new()).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let r = post(
        s.addr,
        rpc(
            1,
            "tools/call",
            json!({"name":"notify","arguments":{"count":3,"gap":10}}),
        ),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), Some("text/event-stream"));
    let msgs = r.sse_messages();
    assert_eq!(msgs.len(), 4, "{msgs:?}");
    assert_eq!(msgs[0]["method"], "notifications/message");
    assert_eq!(
        msgs[0]["params"],
        json!({"level":"info","logger":"test","data":"message 0"})
    );
    assert_eq!(msgs[3]["id"], 1);
    assert_eq!(msgs[3]["result"]["content"][0]["text"], "sent 3");
    // A tool without messages answers with plain JSON.
    let r = post(
        s.addr,
        rpc(2, "tools/call", json!({"name":"echo","arguments":{"a":1}})),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(r.content_type(), Some("application/json"));
}

#[tokio::test]
async fn logging_set_level_filters_per_session() {
    let s = start(TransportConfig::new()).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let r = post(s.addr, rpc(1, "logging/setLevel", json!({"level":"info"})))
        .session(&sid)
        .send()
        .await;
    assert_eq!(r.json()["result"], json!({}));
    let r = post(
        s.addr,
        rpc(
            2,
            "tools/call",
            json!({"name":"notify","arguments":{"count":4,"gap":1}}),
        ),
    )
    .session(&sid)
    .send()
    .await;
    let logs: Vec<_> = r
        .sse_messages()
        .into_iter()
        .filter(|m| m["method"] == "notifications/message")
        .collect();
    // Messages 1 and 3 are debug: filtered out.
    assert_eq!(logs.len(), 2);
    assert!(logs.iter().all(|m| m["params"]["level"] == "info"));
    // Another session is not affected.
    let other = initialize(s.addr, V, json!({})).await;
    let r = post(
        s.addr,
        rpc(
            3,
            "tools/call",
            json!({"name":"notify","arguments":{"count":4,"gap":1}}),
        ),
    )
    .session(&other)
    .send()
    .await;
    assert_eq!(r.sse_messages().len(), 5);
    let r = post(s.addr, rpc(4, "logging/setLevel", json!({"level":"loud"})))
        .session(&sid)
        .send()
        .await;
    assert_rpc_error(&r, -32602);
}

#[tokio::test]
async fn resumes_after_a_dropped_sse_stream() {
    let s = start(TransportConfig::new()).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let mut st = post(
        s.addr,
        rpc(
            7,
            "tools/call",
            json!({"name":"notify","arguments":{"count":5,"gap":60}}),
        ),
    )
    .session(&sid)
    .stream()
    .await;
    assert_eq!(st.headers.get("content-type").unwrap(), "text/event-stream");
    let priming = st.next_event().await.unwrap();
    assert!(priming.data.is_empty() && priming.retry.is_some());
    let (first, m) = st.next_message().await.unwrap();
    assert_eq!(m["params"]["data"], "message 0");
    // The client loses the connection after the first message.
    drop(st);
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Reconnect with Last-Event-ID: the rest of the stream, then the result, then the end.
    let mut resumed = req(s.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .header("last-event-id", first.id.as_deref().unwrap())
        .stream()
        .await;
    assert_eq!(resumed.status, 200);
    let mut got = Vec::new();
    while let Some((_, m)) = resumed.next_message().await {
        got.push(m);
    }
    let data: Vec<_> = got
        .iter()
        .filter_map(|m| m["params"]["data"].as_str())
        .collect();
    assert_eq!(
        data,
        vec!["message 1", "message 2", "message 3", "message 4"]
    );
    assert_eq!(got.last().unwrap()["id"], 7);
    assert_eq!(
        got.last().unwrap()["result"]["content"][0]["text"],
        "sent 5"
    );
}

#[tokio::test]
async fn a_server_closed_stream_resumes_on_get_sep_1699() {
    let s = start(TransportConfig::new()).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let mut st = post(
        s.addr,
        rpc(
            3,
            "tools/call",
            json!({"name":"close_stream","arguments":{"ms":150}}),
        ),
    )
    .session(&sid)
    .stream()
    .await;
    let priming = st.next_event().await.unwrap();
    assert!(priming.retry.is_some());
    let (e, m) = st.next_message().await.unwrap();
    assert_eq!(m["params"]["data"], "before close");
    // The server closed the connection.
    assert!(st.next_event().await.is_none());
    let mut resumed = req(s.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .header("last-event-id", e.id.as_deref().unwrap())
        .stream()
        .await;
    let (_, m) = resumed.next_message().await.unwrap();
    assert_eq!(m["params"]["data"], "after close");
    let (_, m) = resumed.next_message().await.unwrap();
    assert_eq!(m["result"]["content"][0]["text"], "done after reconnect");
    assert!(resumed.next_event().await.is_none());
}

#[tokio::test]
async fn the_get_stream_resumes_from_its_history() {
    let s = start(TransportConfig::new()).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let mut get = req(s.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .stream()
        .await;
    let priming = get.next_event().await.unwrap();
    drop(get);
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Sent while disconnected: kept in the history.
    assert!(
        s.transport
            .notify_session(&sid, "notifications/resources/list_changed", None)
    );
    let mut again = req(s.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .header("last-event-id", priming.id.as_deref().unwrap())
        .stream()
        .await;
    let (_, m) = again.next_message().await.unwrap();
    assert_eq!(m["method"], "notifications/resources/list_changed");
}

#[tokio::test]
async fn notifications_cancelled_reaches_the_handler() {
    let mut s = start(TransportConfig::new()).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let addr = s.addr;
    let sid2 = sid.clone();
    let call = tokio::spawn(async move {
        post(
            addr,
            rpc(
                42,
                "tools/call",
                json!({"name":"slow","arguments":{"ms":5000,"tag":"c"}}),
            ),
        )
        .session(&sid2)
        .send()
        .await
    });
    assert_eq!(s.probe().await, Probe::Started("c".into()));
    let r = post(s.addr, json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":42,"reason":"user"}}))
        .session(&sid)
        .send()
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(s.probe().await, Probe::Cancelled("c".into()));
    // No answer for a cancelled request.
    let r = call.await.unwrap();
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    // Unknown ids are ignored.
    let r = post(
        s.addr,
        json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"nope"}}),
    )
    .session(&sid)
    .send()
    .await;
    assert_eq!(r.status, 202);
}

#[tokio::test]
async fn a_client_disconnect_cancels_a_json_reply() {
    let mut s = start(TransportConfig::new()).await;
    let sid = initialize(s.addr, V, json!({})).await;
    let addr = s.addr;
    let call = tokio::spawn(async move {
        post(
            addr,
            rpc(
                1,
                "tools/call",
                json!({"name":"slow","arguments":{"ms":5000,"tag":"d"}}),
            ),
        )
        .session(&sid)
        .send()
        .await
    });
    assert_eq!(s.probe().await, Probe::Started("d".into()));
    call.abort();
    assert_eq!(s.probe().await, Probe::Cancelled("d".into()));
}

#[tokio::test]
async fn sampling_round_trips_through_the_client() {
    let mut s = start(TransportConfig::new()).await;
    let sid = initialize(s.addr, V, json!({"sampling":{}})).await;
    let mut st = post(
        s.addr,
        rpc(
            5,
            "tools/call",
            json!({"name":"sample","arguments":{"prompt":"2+2?"}}),
        ),
    )
    .session(&sid)
    .stream()
    .await;
    assert_eq!(st.headers.get("content-type").unwrap(), "text/event-stream");
    let (_, req_msg) = st.next_message().await.unwrap();
    assert_eq!(req_msg["method"], "sampling/createMessage");
    assert_eq!(req_msg["params"]["messages"][0]["content"]["text"], "2+2?");
    assert_eq!(req_msg["params"]["maxTokens"], 10);
    let id = req_msg["id"].clone();
    // The client answers with a POST of its own.
    let answer = json!({"jsonrpc":"2.0","id":id,"result":{"role":"assistant","content":{"type":"text","text":"4"},"model":"m"}});
    assert_eq!(post(s.addr, answer).session(&sid).send().await.status, 202);
    let (_, m) = st.next_message().await.unwrap();
    assert_eq!(m["id"], 5);
    assert_eq!(m["result"]["content"][0]["text"], "LLM response: 4");
    assert_eq!(s.probe().await, Probe::Finished("sample".into()));

    // A client error answer becomes the tool's JSON-RPC error.
    let mut st = post(
        s.addr,
        rpc(6, "tools/call", json!({"name":"sample","arguments":{}})),
    )
    .session(&sid)
    .stream()
    .await;
    let (_, req_msg) = st.next_message().await.unwrap();
    let answer = json!({"jsonrpc":"2.0","id":req_msg["id"],"error":{"code":-1,"message":"User rejected sampling request"}});
    post(s.addr, answer).session(&sid).send().await;
    let (_, m) = st.next_message().await.unwrap();
    assert_eq!(m["error"]["code"], -1);

    // Without the sampling capability the request is not sent: the tool fails with the
    // 2026-07-28 code for it (in both eras), naming the capability.
    let plain = initialize(s.addr, V, json!({})).await;
    let r = post(
        s.addr,
        rpc(7, "tools/call", json!({"name":"sample","arguments":{}})),
    )
    .session(&plain)
    .send()
    .await;
    assert_eq!(r.content_type(), Some("application/json"));
    assert_rpc_error(&r, -32021);
    assert_eq!(
        r.json()["error"]["data"]["requiredCapabilities"],
        json!({"sampling": {}})
    );
}

#[tokio::test]
async fn a_client_that_never_answers_a_sampling_request_times_out() {
    let mut s =
        start(TransportConfig::new().client_request_timeout(Duration::from_millis(300))).await;
    let sid = initialize(s.addr, V, json!({"sampling":{}})).await;
    let mut st = post(
        s.addr,
        rpc(8, "tools/call", json!({"name":"sample","arguments":{}})),
    )
    .session(&sid)
    .stream()
    .await;
    let (_, req_msg) = st.next_message().await.unwrap();
    assert_eq!(req_msg["method"], "sampling/createMessage");
    // No answer: the handler waited (and kept its session busy) for ever.
    let (_, cancel) = st.next_message().await.unwrap();
    assert_eq!(cancel["method"], "notifications/cancelled");
    assert_eq!(cancel["params"]["requestId"], req_msg["id"]);
    let (_, m) = st.next_message().await.unwrap();
    assert_eq!(m["id"], 8);
    assert_eq!(m["error"]["code"], -32001);
    assert_eq!(s.probe().await, Probe::Finished("sample".into()));
    // A late answer is ignored.
    let late = json!({"jsonrpc":"2.0","id":req_msg["id"],"result":{"role":"assistant","content":{"type":"text","text":"4"},"model":"m"}});
    assert_eq!(post(s.addr, late).session(&sid).send().await.status, 202);
}
