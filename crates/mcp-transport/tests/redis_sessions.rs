//! Sessions in a real Redis (`redis-server`, started here on a free port): two transports share
//! them as two instances behind a load balancer would.

#![cfg(feature = "redis")]

mod support;

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use http::Method;
use mcp_transport::{AuthInfo, AuthRequest, BoxError, RedisConfig, ResponseMode, TransportConfig};
use serde_json::json;
use support::redis::RedisServer;
use support::*;

fn config(redis: &RedisServer, prefix: &str) -> TransportConfig {
    let auth = |req: AuthRequest| async move {
        let token = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        Ok::<_, BoxError>(Some(match token {
            Some(t) => AuthInfo::new(json!({ "token": t, "clientId": "app" })),
            None => AuthInfo::new(json!({})),
        }))
    };
    let store = RedisConfig::new(&redis.url()).unwrap().prefix(prefix);
    TransportConfig::new().auth(auth).redis_sessions(store)
}

async fn open(addr: SocketAddr, who: &str) -> String {
    open_with(addr, who, json!({"roots": {"listChanged": true}})).await
}

/// A session of `who` whose client declares `capabilities`.
async fn open_with(addr: SocketAddr, who: &str, capabilities: serde_json::Value) -> String {
    let r = post(
        addr,
        json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion": V, "capabilities": capabilities,
        "clientInfo": {"name":"it","version":"0"}}}),
    )
    .header("authorization", who)
    .send()
    .await;
    assert_eq!(r.status, 200, "initialize: {:?}", r.body);
    r.header("mcp-session-id").unwrap().to_owned()
}

async fn list(addr: SocketAddr, sid: &str, who: &str) -> u16 {
    post(addr, rpc(1, "tools/list", json!({})))
        .session(sid)
        .header("authorization", who)
        .send()
        .await
        .status
        .as_u16()
}

#[tokio::test]
async fn any_instance_serves_any_session_and_outlives_a_redis_restart() {
    let mut redis = RedisServer::start();
    let a = start(config(&redis, "t1:")).await;
    let b = start(config(&redis, "t1:")).await;

    // Created on A, used on B; bound to its user on every instance.
    let sid = open(a.addr, "Bearer alice").await;
    assert_eq!(list(b.addr, &sid, "Bearer alice").await, 200);
    assert_eq!(list(a.addr, &sid, "Bearer alice").await, 200);
    assert_eq!(list(b.addr, &sid, "Bearer mallory").await, 404);
    assert_eq!(list(b.addr, "no-such-session", "Bearer alice").await, 404);

    // Redis down: a clear 503, quickly, and nothing hangs.
    redis.kill();
    let started = Instant::now();
    let r = post(b.addr, rpc(2, "tools/list", json!({})))
        .session(&sid)
        .header("authorization", "Bearer alice")
        .send()
        .await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert!(
        String::from_utf8_lossy(&r.body).contains("session store is unreachable"),
        "{:?}",
        r.body
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );

    // Redis back (same data): the servers recover by themselves and the session lives on.
    redis.spawn();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = list(a.addr, &sid, "Bearer alice").await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(list(b.addr, &sid, "Bearer alice").await, 200);

    // DELETE on B ends it on A too.
    let del = req(b.addr, Method::DELETE)
        .session(&sid)
        .header("authorization", "Bearer alice")
        .send()
        .await;
    assert_eq!(del.status, 200);
    assert_eq!(list(a.addr, &sid, "Bearer alice").await, 404);
}

#[tokio::test]
async fn the_cap_holds_across_instances_and_evicts_anonymous_sessions_first() {
    let redis = RedisServer::start();
    let a = start(config(&redis, "t2:").max_sessions(5)).await;
    let b = start(config(&redis, "t2:").max_sessions(5)).await;
    let alice = open(a.addr, "Bearer alice").await;
    let bob = open(b.addr, "Bearer bob").await;
    for i in 0..20 {
        let at = if i % 2 == 0 { a.addr } else { b.addr };
        let r = post(at, json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion": V, "capabilities": {}, "clientInfo": {"name":"anon","version":"0"}}}))
        .send()
        .await;
        assert_eq!(r.status, 200);
    }
    assert_eq!(list(b.addr, &alice, "Bearer alice").await, 200);
    assert_eq!(list(a.addr, &bob, "Bearer bob").await, 200);
}

#[tokio::test]
async fn a_client_answer_and_a_notification_reach_the_instance_that_waits() {
    let redis = RedisServer::start();
    let a = start(config(&redis, "t3:")).await;
    let b = start(config(&redis, "t3:")).await;
    let who = "Bearer carol";
    let sid = open_with(a.addr, who, json!({"sampling": {}})).await;

    // A tool on A asks the client's model; the client's answer goes to B.
    let mut st = post(
        a.addr,
        rpc(
            5,
            "tools/call",
            json!({"name":"sample","arguments":{"prompt":"2+2?"}}),
        ),
    )
    .session(&sid)
    .header("authorization", who)
    .stream()
    .await;
    let (_, asked) = st.next_message().await.unwrap();
    assert_eq!(asked["method"], "sampling/createMessage");
    let id = asked["id"].clone();
    assert!(
        id.is_string(),
        "ids of shared sessions name their instance: {id}"
    );
    let answer = json!({"jsonrpc":"2.0","id":id,"result":{"role":"assistant","content":{"type":"text","text":"4"},"model":"m"}});
    let posted = post(b.addr, answer)
        .session(&sid)
        .header("authorization", who)
        .send()
        .await;
    assert_eq!(posted.status, 202);
    let (_, m) = st.next_message().await.unwrap();
    assert_eq!(m["id"], 5);
    assert_eq!(m["result"]["content"][0]["text"], "LLM response: 4");

    // A GET stream held by B gets a notification sent through A.
    let mut get = req(b.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .header("authorization", who)
        .stream()
        .await;
    assert_eq!(get.status, 200);
    get.next_event().await.unwrap(); // the priming event
    let deadline = Instant::now() + Duration::from_secs(10);
    let notified = loop {
        assert!(
            a.transport
                .notify_session(&sid, "notifications/tools/list_changed", None)
        );
        match tokio::time::timeout(Duration::from_millis(300), get.next_message()).await {
            Ok(Some((_, m))) => break m,
            _ => assert!(
                Instant::now() < deadline,
                "no notification on B's GET stream"
            ),
        }
    };
    assert_eq!(notified["method"], "notifications/tools/list_changed");
}

#[tokio::test]
async fn a_listen_stream_hears_notifications_sent_through_another_instance() {
    // A 2026-07-28 client's listen stream on B, a notification sent through A: no session
    // anywhere, so B must hear A's relays from its first modern request on.
    let redis = RedisServer::start();
    let a = start(config(&redis, "t4:")).await;
    let b = start(config(&redis, "t4:")).await;
    let listen = json!({"jsonrpc": "2.0", "id": "L1", "method": "subscriptions/listen",
        "params": {"notifications": {"toolsListChanged": true}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}}});
    let mut stream = post(b.addr, listen)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "subscriptions/listen")
        .header("authorization", "Bearer someone")
        .stream()
        .await;
    let (_, ack) = stream.next_message().await.expect("ack");
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(b.transport.session_count(), 0);
    // B subscribes to the relay channel asynchronously: send until it hears one.
    let deadline = Instant::now() + Duration::from_secs(10);
    let note = loop {
        a.transport
            .notify_all("notifications/tools/list_changed", None);
        match tokio::time::timeout(Duration::from_millis(300), stream.next_message()).await {
            Ok(Some((_, m))) => break m,
            _ => assert!(
                Instant::now() < deadline,
                "no notification on B's listen stream"
            ),
        }
    };
    assert_eq!(note["method"], "notifications/tools/list_changed");
    assert_eq!(
        note["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "L1"
    );
}

/// `notifications/message` of a `notify` tool call (info and debug alternately) made on `addr`.
async fn logged_levels(addr: SocketAddr, sid: &str, who: &str) -> Vec<String> {
    let call = rpc(
        9,
        "tools/call",
        json!({"name":"notify","arguments":{"count":4,"gap":1}}),
    );
    post(addr, call)
        .session(sid)
        .header("authorization", who)
        .send()
        .await
        .sse_messages()
        .into_iter()
        .filter(|m| m["method"] == "notifications/message")
        .map(|m| m["params"]["level"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[tokio::test]
async fn a_log_level_set_on_one_instance_holds_on_the_others() {
    let redis = RedisServer::start();
    let a = start(config(&redis, "t-level:")).await;
    let b = start(config(&redis, "t-level:")).await;
    let sid = open(a.addr, "Bearer alice").await;
    // B knows the session (its own copy) before the level is set on A.
    assert_eq!(logged_levels(b.addr, &sid, "Bearer alice").await.len(), 4);

    let r = post(a.addr, rpc(2, "logging/setLevel", json!({"level": "info"})))
        .session(&sid)
        .header("authorization", "Bearer alice")
        .send()
        .await;
    assert_eq!(r.json()["result"], json!({}), "{:?}", r.body);
    // Debug messages are now filtered on B (which had a copy) and on a third instance (which
    // makes its copy from the record).
    let c = start(config(&redis, "t-level:")).await;
    for addr in [b.addr, c.addr, a.addr] {
        assert_eq!(
            logged_levels(addr, &sid, "Bearer alice").await,
            ["info", "info"],
            "on {addr}"
        );
    }
    // The level is kept with the record: the session is still usable everywhere.
    assert_eq!(list(c.addr, &sid, "Bearer alice").await, 200);
}

/// `redis-cli` on the test's Redis (to look at what the server stored).
fn redis_cli(redis: &RedisServer, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &redis.port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli (Debian package redis-tools, a dependency of redis-server)");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Waits until the session's shared SSE history holds at least `n` entries.
async fn history_holds(redis: &RedisServer, key: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let len: usize = redis_cli(redis, &["XLEN", key]).parse().unwrap_or(0);
        if len >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{key} holds {len} entries, not {n}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_stream_started_on_one_instance_resumes_on_another() {
    let redis = RedisServer::start();
    let a = start(config(&redis, "t5:")).await;
    let b = start(config(&redis, "t5:")).await;
    let who = "Bearer dave";
    let sid = open_with(a.addr, who, json!({"sampling": {}})).await;

    // A tool on A asks the client's model; the client reads the request and drops the
    // connection (the stream lives on: its handler waits on A).
    let mut st = post(
        a.addr,
        rpc(
            5,
            "tools/call",
            json!({"name":"sample","arguments":{"prompt":"3+3?"}}),
        ),
    )
    .session(&sid)
    .header("authorization", who)
    .stream()
    .await;
    let priming = st.next_event().await.unwrap();
    let primed = priming.id.clone().unwrap();
    let (asked_event, asked) = st.next_message().await.unwrap();
    assert_eq!(asked["method"], "sampling/createMessage");
    let asked_id = asked_event.id.clone().unwrap();
    let (origin, _) = primed
        .split_once('.')
        .expect("ids of shared sessions name their instance");
    assert!(asked_id.starts_with(&format!("{origin}.")), "{asked_id}");
    drop(st);
    let history = format!("t5:history:{sid}");
    history_holds(&redis, &history, 1).await;

    // Resumed on B after the priming event: the request is replayed from Redis, then the
    // result (made on A once the answer, posted to B, reached it) comes live, and the stream
    // ends.
    let mut resumed = req(b.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .header("authorization", who)
        .header("last-event-id", &primed)
        .stream()
        .await;
    assert_eq!(resumed.status, 200);
    let (replayed_event, replayed) = resumed.next_message().await.unwrap();
    assert_eq!(replayed_event.id.as_deref(), Some(asked_id.as_str()));
    assert_eq!(replayed["method"], "sampling/createMessage");
    let answer = json!({"jsonrpc":"2.0","id":asked["id"],"result":{"role":"assistant","content":{"type":"text","text":"6"},"model":"m"}});
    let posted = post(b.addr, answer)
        .session(&sid)
        .header("authorization", who)
        .send()
        .await;
    assert_eq!(posted.status, 202);
    let (result_event, result) = resumed.next_message().await.unwrap();
    assert_eq!(result["id"], 5);
    assert_eq!(result["result"]["content"][0]["text"], "LLM response: 6");
    let result_id = result_event.id.unwrap();
    assert!(result_id.starts_with(&format!("{origin}.")), "{result_id}");
    assert!(
        resumed.next_event().await.is_none(),
        "the stream should end"
    );

    // Once ended, a resumption anywhere (A included, which no longer holds the stream)
    // replays from Redis and ends at once.
    for at in [a.addr, b.addr] {
        let again = req(at, Method::GET)
            .session(&sid)
            .header("accept", "text/event-stream")
            .header("authorization", who)
            .header("last-event-id", &asked_id)
            .send()
            .await;
        assert_eq!(again.status, 200);
        let events = parse_sse(&String::from_utf8_lossy(&again.body));
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].id.as_deref(), Some(result_id.as_str()));
    }

    // A stream of an instance that does not run (none is subscribed to its channel): nothing
    // to replay, and the stream ends at once instead of waiting for events that cannot come.
    let started = Instant::now();
    let gone = req(b.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .header("authorization", who)
        .header("last-event-id", "0123456789ab.7-1")
        .send()
        .await;
    assert_eq!(gone.status, 200);
    assert!(parse_sse(&String::from_utf8_lossy(&gone.body)).is_empty());
    assert!(started.elapsed() < Duration::from_secs(2));

    // Another user cannot resume it; DELETE removes the history with the session.
    let stranger = req(b.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .header("authorization", "Bearer mallory")
        .header("last-event-id", &asked_id)
        .send()
        .await;
    assert_eq!(stranger.status, 404);
    let del = req(b.addr, Method::DELETE)
        .session(&sid)
        .header("authorization", who)
        .send()
        .await;
    assert_eq!(del.status, 200);
    assert_eq!(redis_cli(&redis, &["EXISTS", &history]), "0");
}

#[tokio::test]
async fn the_shared_history_is_bounded_in_bytes() {
    let redis = RedisServer::start();
    let cfg = |r: &RedisServer| {
        config(r, "t6:")
            .sse_history_bytes(2000)
            .response_mode(ResponseMode::Sse)
    };
    let a = start(cfg(&redis)).await;
    let b = start(cfg(&redis)).await;
    let who = "Bearer erin";
    let sid = open(a.addr, who).await;
    let call = |n: i64, text: String| {
        post(
            a.addr,
            rpc(
                n,
                "tools/call",
                json!({"name": "echo", "arguments": {"t": text}}),
            ),
        )
        .session(&sid)
        .header("authorization", who)
        .send()
    };

    // A result bigger than the whole history is kept as the short error, as locally.
    let big = call(1, "x".repeat(5000)).await;
    let events = parse_sse(&String::from_utf8_lossy(&big.body));
    let primed = events[0].id.clone().unwrap();
    let history = format!("t6:history:{sid}");
    history_holds(&redis, &history, 2).await; // the stand-in and the end marker
    let resumed = req(b.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .header("authorization", who)
        .header("last-event-id", &primed)
        .send()
        .await;
    let replay = parse_sse(&String::from_utf8_lossy(&resumed.body));
    assert_eq!(replay.len(), 1, "{replay:?}");
    let stand_in: serde_json::Value = serde_json::from_str(&replay[0].data).unwrap();
    assert_eq!(stand_in["id"], 1);
    assert_eq!(stand_in["error"]["code"], -32603);
    assert!(
        stand_in["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too large to keep for resumption"),
        "{stand_in}"
    );

    // Results that fit, one after another: Redis keeps at most 2000 bytes of them, dropping
    // the oldest.
    let mut first = None;
    for n in 2..8 {
        let r = call(n, "y".repeat(600)).await;
        let events = parse_sse(&String::from_utf8_lossy(&r.body));
        first.get_or_insert(events[0].id.clone().unwrap());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // The last call's end marker is in once its result is.
        let tail = redis_cli(&redis, &["XREVRANGE", &history, "+", "-", "COUNT", "2"]);
        if tail.contains("\\\"id\\\":7") || tail.contains("\"id\":7") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the last result never reached Redis: {tail}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let bytes: usize = redis_cli(&redis, &["GET", &format!("t6:history-bytes:{sid}")])
        .parse()
        .unwrap();
    assert!((1200..=2000).contains(&bytes), "{bytes} bytes kept");
    // The oldest of them is gone from the history, but known to have ended: nothing to
    // replay, and the stream ends at once instead of waiting.
    let oldest = req(b.addr, Method::GET)
        .session(&sid)
        .header("accept", "text/event-stream")
        .header("authorization", who)
        .header("last-event-id", first.as_deref().unwrap())
        .send()
        .await;
    assert_eq!(oldest.status, 200);
    assert!(parse_sse(&String::from_utf8_lossy(&oldest.body)).is_empty());
}

/// Calls of a command since Redis started (`INFO commandstats`; commands run by scripts count).
fn calls(redis: &RedisServer, command: &str) -> u64 {
    let stats = redis_cli(redis, &["INFO", "commandstats"]);
    let prefix = format!("cmdstat_{command}:calls=");
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_json_reply_costs_one_round_trip_and_sse_events_are_batched() {
    let redis = RedisServer::start();
    let a = start(config(&redis, "t7:")).await;
    let who = "Bearer frank";
    let sid = open(a.addr, who).await;
    assert_eq!(list(a.addr, &sid, who).await, 200); // scripts loaded

    // JSON replies: one script call each (the session lookup), no history.
    let (scripts, appended) = (calls(&redis, "evalsha"), calls(&redis, "xadd"));
    for _ in 0..20 {
        assert_eq!(list(a.addr, &sid, who).await, 200);
    }
    assert_eq!(calls(&redis, "evalsha") - scripts, 20);
    assert_eq!(calls(&redis, "xadd"), appended);

    // An SSE reply of 5 log messages and the result: 6 events and the end marker appended,
    // in at most 7 script calls besides the lookup (fewer when the writer batches).
    let (scripts, appended) = (calls(&redis, "evalsha"), calls(&redis, "xadd"));
    let r = post(
        a.addr,
        rpc(
            9,
            "tools/call",
            json!({"name": "notify", "arguments": {"count": 5, "gap": 0}}),
        ),
    )
    .session(&sid)
    .header("authorization", who)
    .send()
    .await;
    assert_eq!(parse_sse(&String::from_utf8_lossy(&r.body)).len(), 7); // priming + 6
    let deadline = Instant::now() + Duration::from_secs(10);
    while calls(&redis, "xadd") - appended < 7 {
        assert!(Instant::now() < deadline, "the events never reached Redis");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let writes = calls(&redis, "evalsha") - scripts - 1;
    assert!((1..=7).contains(&writes), "{writes} history writes");
    eprintln!("an SSE reply of 6 events: 1 lookup + {writes} history write round trips");
}
