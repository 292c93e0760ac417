//! The other two ways to serve: the tower service (mounted in a plain hyper server with a
//! fallback for other paths) and the stateless serverless function.

mod support;

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mcp_transport::serverless::ServerlessHandler;
use mcp_transport::{Transport, TransportConfig};
use serde_json::json;
use support::*;
use tower::ServiceExt;

#[tokio::test]
async fn tower_service_serves_the_endpoint_and_passes_other_paths_on() {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let transport = Transport::new(
        test_server(tx),
        TransportConfig::new().endpoint_path("/api/mcp"),
    );
    let fallback = tower::service_fn(|req: Request<hyper::body::Incoming>| async move {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
            "fallback {}",
            req.uri().path()
        )))))
    });
    let svc = transport.service_with_fallback(fallback);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                break;
            };
            let svc = svc.clone();
            let svc = hyper::service::service_fn(move |req| svc.clone().oneshot(req));
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    let r = req(addr, Method::GET).path("/other").send().await;
    assert_eq!(&r.body[..], b"fallback /other");
    let r = post(addr, json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":V,"capabilities":{},"clientInfo":{"name":"x","version":"0"}}}))
        .path("/api/mcp")
        .send()
        .await;
    assert_eq!(r.status, 200);
    let sid = r.header("mcp-session-id").unwrap().to_owned();
    let r = post(
        addr,
        rpc(2, "tools/call", json!({"name":"echo","arguments":{"k":1}})),
    )
    .path("/api/mcp")
    .session(&sid)
    .send()
    .await;
    assert_eq!(r.json()["result"]["content"][0]["text"], "{\"k\":1}");
    server.abort();

    // The same service, called directly (no network), default fallback: 404.
    let r = transport
        .service()
        .oneshot(Request::get("/x").body(Full::new(Bytes::new())).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn serverless_handler_is_stateless_and_serves_any_path() {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let h = ServerlessHandler::new(test_server(tx), TransportConfig::new());
    let call = |path: &str, body: serde_json::Value| {
        Request::post(path)
            .header("content-type", "application/json")
            .header("accept", ACCEPT_BOTH)
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap()
    };
    let r = h
        .handle(call("/anything", rpc(1, "tools/list", json!({}))))
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("mcp-session-id").is_none());
    let v: serde_json::Value =
        serde_json::from_slice(&r.into_body().collect_bytes().await.unwrap()).unwrap();
    assert!(
        v["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "echo")
    );
    // A streaming reply collects into the whole SSE body.
    let r = h
        .handle(call(
            "/",
            rpc(
                2,
                "tools/call",
                json!({"name":"notify","arguments":{"count":2,"gap":1}}),
            ),
        ))
        .await;
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let text = String::from_utf8(r.into_body().collect_bytes().await.unwrap().to_vec()).unwrap();
    assert_eq!(parse_sse(&text).len(), 3);
    let r = h
        .handle(
            Request::get("/")
                .header("accept", "text/event-stream")
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), 405);
}
