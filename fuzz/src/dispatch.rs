//! The two dispatch targets: scripted requests through the stateless serverless handler, and
//! through the stateful tower service (sessions, concurrent requests, answers to the
//! server's own requests, DELETE, GET streams).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use http::Request;
use mcp_transport::serverless::ServerlessHandler;
use mcp_transport::{
    AuthInfo, AuthRequest, BoxError, McpServer, ResponseMode, Transport, TransportConfig,
};
use tokio::runtime::Runtime;
use tower::ServiceExt;

use crate::body::FuzzBody;
use crate::check::{self, Sent};
use crate::script::{self, ScriptRequest};
use crate::server;

/// A single-threaded runtime whose clock only moves when every task waits, so timers cost
/// no wall time and a hang becomes a timeout.
fn paused_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a tokio runtime")
}

/// Which transport a script runs against (flags of its first request line; stateless:
/// of each request).
#[derive(Clone, Copy)]
struct Mode {
    sse: bool,
    auth: bool,
}

fn config(mode: Mode, stateless: bool) -> TransportConfig {
    let mut c = TransportConfig::new()
        .stateless(stateless)
        .response_mode(if mode.sse {
            ResponseMode::Sse
        } else {
            ResponseMode::Json
        })
        // As the conformance server: loopback Host names only, plus one browser origin.
        .allowed_hosts(Vec::<String>::new())
        .allowed_origins(["https://app.example.com"])
        // Small enough that libFuzzer's inputs can cross it.
        .max_body_bytes(2048)
        .session_idle_timeout(Duration::from_secs(5))
        // Small enough that a script of 8 requests reaches them: LRU eviction at the session
        // cap, SSE history overflow before a Last-Event-ID resumption.
        .max_sessions(3)
        .sse_history(4);
    if mode.auth {
        c = c.auth(auth);
    }
    c
}

/// The fuzz auth hook: `Bearer error` fails (500), `Bearer <token>` passes, anything else is
/// 401.
fn auth(req: AuthRequest) -> std::future::Ready<Result<Option<AuthInfo>, BoxError>> {
    let token = req
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    std::future::ready(match token.as_deref() {
        Some("error") => Err("fuzz: the auth backend failed".into()),
        Some(t) if !t.is_empty() => Ok(Some(AuthInfo::new(
            serde_json::json!({"token": t, "clientId": "fuzz", "scopes": ["read"]}),
        ))),
        _ => Ok(None),
    })
}

/// Whether the request may get a 500: only from the auth hook's failure.
fn may_fail_auth(mode: Mode, r: &ScriptRequest) -> bool {
    mode.auth
        && r.headers
            .iter()
            .any(|(n, v)| n == http::header::AUTHORIZATION && v.windows(5).any(|w| w == b"error"))
}

fn server() -> Arc<McpServer> {
    static SERVER: OnceLock<Arc<McpServer>> = OnceLock::new();
    Arc::clone(SERVER.get_or_init(server::build))
}

/// Whether every request id in the script must get its response: not when a handler may
/// close its stream early, a GET may resume (take over) a POST's stream, a DELETE may end
/// the session, or a request may be cancelled.
fn expect_responses(reqs: &[ScriptRequest]) -> bool {
    let has = |needle: &[u8]| {
        reqs.iter()
            .any(|r| r.body.windows(needle.len()).any(|w| w == needle))
    };
    // A GET with Last-Event-ID takes a POST's stream over (the response then goes there).
    let resumes = reqs
        .iter()
        .any(|r| r.headers.iter().any(|(n, _)| n.as_str() == "last-event-id"));
    !has(b"reconnect")
        && !has(b"cancelled")
        && !resumes
        && !reqs.iter().any(|r| r.method == http::Method::DELETE)
}

fn build(r: &ScriptRequest, sid: Option<&str>) -> (Request<FuzzBody>, Vec<u8>) {
    let body = script::substitute(&r.body, sid);
    let mut builder = Request::builder().method(r.method.clone()).uri(
        http::Uri::try_from(r.path.as_str()).unwrap_or_else(|_| http::Uri::from_static("/mcp")),
    );
    for (name, value) in &r.headers {
        if let Some(v) = script::header_value(&script::substitute(value, sid)) {
            builder = builder.header(name, v);
        }
    }
    let req = builder
        .body(FuzzBody::new(body.clone().into(), r.chunked, r.body_error))
        .expect("parts were validated");
    (req, body)
}

/// `dispatch_stateless`: each request through [`ServerlessHandler::handle`].
pub fn stateless(data: &[u8]) {
    struct State {
        rt: Runtime,
        /// By `sse`, `auth` flags.
        handlers: [[ServerlessHandler; 2]; 2],
    }
    static STATE: OnceLock<State> = OnceLock::new();
    let state = STATE.get_or_init(|| {
        let h = |sse, auth| ServerlessHandler::new(server(), config(Mode { sse, auth }, true));
        State {
            rt: paused_runtime(),
            handlers: [
                [h(false, false), h(false, true)],
                [h(true, false), h(true, true)],
            ],
        }
    });
    let reqs = script::parse(data);
    let expect = expect_responses(&reqs);
    state.rt.block_on(async {
        for r in &reqs {
            let mode = Mode {
                sse: r.sse,
                auth: r.auth,
            };
            let (req, body) = build(r, None);
            let handler = &state.handlers[usize::from(r.sse)][usize::from(r.auth)];
            let resp = handler.handle(req).await;
            let sent = Sent {
                method: &r.method,
                body: &body,
                expect_responses: expect,
                may_500: may_fail_auth(mode, r),
            };
            let seen = check::response(&sent, resp).await;
            assert!(
                seen.session_id.is_none(),
                "a stateless reply carries a session id"
            );
        }
    });
}

/// `dispatch_stateful`: a fresh transport per input; the requests start in order, each
/// while the earlier ones may still run, through the tower service (path matching
/// included). `$SID` is the session id of the latest successful `initialize`.
pub fn stateful(data: &[u8]) {
    let reqs = script::parse(data);
    if reqs.is_empty() {
        return;
    }
    let expect = expect_responses(&reqs);
    let rt = paused_runtime();
    let mode = Mode {
        sse: reqs[0].sse,
        auth: reqs[0].auth,
    };
    rt.block_on(async move {
        let transport = Transport::new(server(), config(mode, false));
        let sid: Arc<Mutex<Option<String>>> = Arc::default();
        let mut tasks = Vec::new();
        let mut initializes = 0usize;
        for r in reqs {
            let current = sid.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let (req, body) = build(&r, current.as_deref());
            let is_init = body.windows(10).any(|w| w == b"initialize");
            initializes += usize::from(is_init);
            let service = transport.service();
            let sid = Arc::clone(&sid);
            let method = r.method.clone();
            let may_500 = may_fail_auth(mode, &r);
            tasks.push(tokio::spawn(async move {
                let resp = match service.oneshot(req).await {
                    Ok(resp) => resp,
                    Err(never) => match never {},
                };
                let sent = Sent {
                    method: &method,
                    body: &body,
                    expect_responses: expect,
                    may_500,
                };
                let seen = check::response(&sent, resp).await;
                if let (Some(id), 200, true) = (seen.session_id, seen.status, is_init) {
                    *sid.lock().unwrap_or_else(|e| e.into_inner()) = Some(id);
                }
            }));
            // Let this request run until it waits, before the next one starts.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        for t in tasks {
            if let Err(e) = t.await {
                // A panic already aborted the process under libFuzzer; this is for replays.
                std::panic::resume_unwind(e.into_panic());
            }
        }
        assert!(
            transport.session_count() <= initializes.min(3),
            "{} sessions after {initializes} initialize requests",
            transport.session_count()
        );
        // Every reply has ended, so nothing may still be in flight once handlers that were
        // left behind (e.g. waiting for a GET stream's client) had time to give up.
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(
            transport.in_flight(),
            0,
            "requests still in flight after every reply ended"
        );
    });
}
