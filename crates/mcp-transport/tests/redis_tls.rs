//! Sessions in a Redis reached over TLS (`rediss://`): a real `redis-server` with only a TLS
//! port and a certificate of a private CA (`support::redis`).

#![cfg(feature = "redis")]

mod support;

use std::net::SocketAddr;

use mcp_transport::{RedisConfig, TransportConfig};
use serde_json::json;
use support::redis::RedisServer;
use support::*;

async fn open(addr: SocketAddr) -> (u16, Option<String>) {
    let r = post(
        addr,
        json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion": V, "capabilities": {}, "clientInfo": {"name":"it","version":"0"}}}),
    )
    .send()
    .await;
    (
        r.status.as_u16(),
        r.header("mcp-session-id").map(str::to_owned),
    )
}

#[tokio::test]
async fn sessions_are_shared_through_a_redis_reached_over_tls() {
    let redis = RedisServer::start_tls();
    let store = || {
        RedisConfig::new(&redis.url())
            .expect("a rediss:// URL")
            .prefix("tls:")
    };
    let trusted = || {
        TransportConfig::new()
            .redis_sessions(store().root_certificates(redis.ca()).expect("the CA"))
    };
    let a = start(trusted()).await;
    let b = start(trusted()).await;

    // Created on A, used on B: both reach Redis over TLS.
    let (status, sid) = open(a.addr).await;
    assert_eq!(status, 200, "initialize over rediss://");
    let sid = sid.expect("a session id");
    let r = post(b.addr, rpc(1, "tools/list", json!({})))
        .session(&sid)
        .send()
        .await;
    assert_eq!(
        r.status, 200,
        "tools/list on the other instance: {:?}",
        r.body
    );

    // The certificate is checked: an instance that does not trust the private CA (system roots
    // only) cannot use this Redis, and says so with a 503.
    let untrusting = start(TransportConfig::new().redis_sessions(store())).await;
    let (status, _) = open(untrusting.addr).await;
    assert_eq!(
        status, 503,
        "a Redis whose certificate is not trusted must not be used"
    );
}
