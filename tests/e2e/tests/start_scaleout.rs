//! Scale-out: three `sunpeak start` instances of the template app share their sessions in a
//! real Redis, behind nginx doing plain round robin (no sticky sessions). Real clients (the
//! TypeScript and Python SDKs) use them through nginx; a JavaScript tool's elicitation is
//! answered through another instance than the one that asked; a stream dropped on one
//! instance is resumed with `Last-Event-ID` on a third; one instance is killed (SIGKILL)
//! mid-session and Redis is restarted, and the session goes on.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use e2e_tests::builds::{self, Builder};
use e2e_tests::services::{Nginx, RedisServer};
use e2e_tests::start::clients::{Ours, PY_MCP_VERSIONS, run_ours, run_py, run_ts};
use e2e_tests::start::http::{Request, SseEvent, Stream, send};
use e2e_tests::start::mcp::{McpClient, PROTOCOL_VERSION};
use e2e_tests::start::server::{Launch, Server};
use e2e_tests::{Scratch, copy_project, sunpeak_bin, template, workspace_root};
use serde_json::{Value, json};

/// `tools/list` in the session through nginx: the HTTP status.
fn list(nginx: &Nginx, sid: &str) -> Result<u16> {
    let r = send(
        nginx.addr,
        &Request::mcp_post(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list"}))
            .header("mcp-session-id", sid)
            .header("mcp-protocol-version", PROTOCOL_VERSION),
    )?;
    Ok(r.status)
}

/// How many `tools/list` requests an instance logged.
fn lists_served(server: &Server) -> usize {
    server
        .stdout()
        .iter()
        .chain(server.stderr().iter())
        .filter(|l| l.contains("← tools/list"))
        .count()
}

/// How many lines of an instance's log contain `needle`.
fn logged(server: &Server, needle: &str) -> usize {
    server
        .stdout()
        .iter()
        .chain(server.stderr().iter())
        .filter(|l| l.contains(needle))
        .count()
}

/// Per instance, how many lines contain `needle`.
fn log_counts(servers: &[Server], needle: &str) -> Vec<usize> {
    servers.iter().map(|s| logged(s, needle)).collect()
}

/// The one instance that logged `needle` since `before` (waiting a little: logs are read by
/// a thread).
fn the_one_that_logged(servers: &[Server], before: &[usize], needle: &str) -> Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let grew: Vec<usize> = log_counts(servers, needle)
            .iter()
            .zip(before)
            .enumerate()
            .filter(|(_, (now, then))| now > then)
            .map(|(i, _)| i)
            .collect();
        match grew.len() {
            1 => return Ok(grew[0]),
            0 if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => bail!("instances {grew:?} logged {needle:?}, expected exactly one"),
        }
    }
}

/// A request of the session `sid` (protocol 2025-11-25) through nginx.
fn in_session(request: Request, sid: &str) -> Request {
    request
        .header("mcp-session-id", sid)
        .header("mcp-protocol-version", PROTOCOL_VERSION)
}

/// A session whose client can answer elicitations, through nginx.
fn eliciting_session(nginx: &Nginx) -> Result<String> {
    let r = send(
        nginx.addr,
        &Request::mcp_post(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": PROTOCOL_VERSION, "capabilities": {"elicitation": {}},
                       "clientInfo": {"name": "e2e-resume", "version": "1.0.0"}}})),
    )?;
    ensure!(r.status == 200, "initialize: {} {}", r.status, r.text());
    let sid = r
        .header("mcp-session-id")
        .context("no session id")?
        .to_owned();
    let notified = send(
        nginx.addr,
        &in_session(
            Request::mcp_post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"})),
            &sid,
        ),
    )?;
    ensure!(notified.status == 202, "initialized: {}", notified.status);
    Ok(sid)
}

/// The next event with data (skipping priming events); `None` at the end of the stream.
fn next_message(stream: &mut Stream) -> Result<Option<SseEvent>> {
    while let Some(e) = stream.next_event()? {
        if !e.data.is_empty() {
            return Ok(Some(e));
        }
    }
    Ok(None)
}

/// The legacy TypeScript SDK client calls `ask-name` through nginx and answers its
/// elicitation; the answer lands on another instance than the call's and is relayed to it.
fn elicitation_across_instances(servers: &[Server], nginx: &Nginx) -> Result<()> {
    let calls = log_counts(servers, "← tools/call");
    let relayed = log_counts(servers, "relayed to instance");
    let received = log_counts(servers, "received from another instance");
    let run = run_ours(
        Ours::TypeScriptV1,
        &nginx.mcp_url(),
        &[
            "--elicit-tool",
            "ask-name",
            "--elicit-args",
            r#"{"greeting":"Hi"}"#,
            "--answer",
            r#"{"name":"Alice"}"#,
            "--expect-elicit",
            "Hi, Alice!",
        ],
    )?;
    ensure!(run.ok(), "{}", run.describe());
    let asker = the_one_that_logged(servers, &calls, "← tools/call")?;
    let relay = the_one_that_logged(servers, &relayed, "relayed to instance")?;
    let waiter = the_one_that_logged(servers, &received, "received from another instance")?;
    ensure!(
        relay != asker && waiter == asker,
        "the call ran on instance {asker}, the answer arrived at {relay} and reached {waiter}"
    );
    Ok(())
}

/// `ask-name` called on instance A (an SSE reply); the client reads the elicitation, drops
/// the connection, answers through nginx (instance B), and resumes with `Last-Event-ID`,
/// which nginx sends to instance C: C replays the result from Redis and ends the stream.
fn resumption_on_a_third_instance(servers: &[Server], nginx: &Nginx) -> Result<()> {
    let sid = eliciting_session(nginx)?;
    let calls = log_counts(servers, "← tools/call");
    let relayed = log_counts(servers, "relayed to instance");
    let resumed_logs = log_counts(servers, "from the shared history");
    let call = json!({"jsonrpc": "2.0", "id": 11, "method": "tools/call",
        "params": {"name": "ask-name", "arguments": {"greeting": "Welcome"}}});
    let mut stream = Stream::open(
        nginx.addr,
        &in_session(Request::mcp_post(&call), &sid),
        Duration::from_secs(20),
    )?;
    ensure!(stream.status == 200, "tools/call: {}", stream.status);
    let asked = next_message(&mut stream)?.context("no elicitation on the call's stream")?;
    let request: Value = serde_json::from_str(&asked.data)?;
    ensure!(request["method"] == "elicitation/create", "{request}");
    let asked_id = asked.id.context("the elicitation event has no id")?;
    drop(stream);

    let answer = json!({"jsonrpc": "2.0", "id": request["id"],
        "result": {"action": "accept", "content": {"name": "Bob"}}});
    let posted = send(nginx.addr, &in_session(Request::mcp_post(&answer), &sid))?;
    ensure!(posted.status == 202, "the answer: {}", posted.status);

    let get = Request::new("GET", "/mcp")
        .header("accept", "text/event-stream")
        .header("last-event-id", &asked_id);
    let mut resumed = Stream::open(nginx.addr, &in_session(get, &sid), Duration::from_secs(20))?;
    ensure!(
        resumed.status == 200,
        "GET with Last-Event-ID: {}",
        resumed.status
    );
    let result = next_message(&mut resumed)?.context("the resumed stream ended empty")?;
    let result: Value = serde_json::from_str(&result.data)?;
    ensure!(
        result["id"] == 11 && result.to_string().contains("Welcome, Bob!"),
        "{result}"
    );
    ensure!(
        resumed.next_event()?.is_none(),
        "the resumed stream should end after the result"
    );

    let a = the_one_that_logged(servers, &calls, "← tools/call")?;
    let b = the_one_that_logged(servers, &relayed, "relayed to instance")?;
    let c = the_one_that_logged(servers, &resumed_logs, "from the shared history")?;
    ensure!(
        a != b && b != c && a != c,
        "call on {a}, answer on {b}, resumption on {c}: round robin should use all three"
    );
    Ok(())
}

/// A stream of instance `owner` (an `ask-name` call waiting for its answer) resumed on
/// instance `follower`, which follows it live from Redis; returns the open resumption.
fn follow_a_waiting_stream(nginx: &Nginx, owner: &Server, follower: &Server) -> Result<Stream> {
    let sid = eliciting_session(nginx)?;
    let call = json!({"jsonrpc": "2.0", "id": 12, "method": "tools/call",
        "params": {"name": "ask-name", "arguments": {}}});
    let mut stream = Stream::open(
        owner.addr,
        &in_session(Request::mcp_post(&call), &sid),
        Duration::from_secs(20),
    )?;
    let asked = next_message(&mut stream)?.context("no elicitation on the call's stream")?;
    let asked_id = asked.id.context("the elicitation event has no id")?;
    drop(stream);
    let following = logged(follower, "following it live");
    let get = Request::new("GET", "/mcp")
        .header("accept", "text/event-stream")
        .header("last-event-id", &asked_id);
    let resumed = Stream::open(
        follower.addr,
        &in_session(get, &sid),
        Duration::from_secs(15),
    )?;
    ensure!(
        resumed.status == 200,
        "GET with Last-Event-ID: {}",
        resumed.status
    );
    follower.wait_for(Duration::from_secs(5), |l| l.contains("following it live"))?;
    ensure!(logged(follower, "following it live") > following);
    Ok(resumed)
}

#[test]
fn three_instances_behind_round_robin_share_sessions_through_redis() -> Result<()> {
    let scratch = Scratch::new("scaleout")?;
    let project = copy_project(&template(None)?, &scratch.0, "template")?;
    // A JavaScript tool that asks the user's name (zod and the MCP SDK are the template's).
    std::fs::copy(
        workspace_root().join("tests/projects/elicitation/src/tools/ask-name.ts"),
        project.join("src/tools/ask-name.ts"),
    )?;
    let run = builds::run(&Builder::Ours(sunpeak_bin().to_path_buf()), &project)?;
    if !run.success() {
        bail!("{}", run.failure_message());
    }

    let mut redis = RedisServer::start()?;
    let store = redis.url();
    let launch = Launch::ours(&project).args(&["--session-store", &store]);
    let mut servers = vec![launch.start()?, launch.start()?, launch.start()?];
    let nginx = Nginx::start(&servers.iter().map(|s| s.addr).collect::<Vec<_>>())?;

    // Initialize through nginx on one instance; every later request lands on the others too.
    let mut client = McpClient::new(nginx.addr);
    client.initialize()?;
    let sid = client.session.clone().context("no session id")?;
    for _ in 0..9 {
        let status = list(&nginx, &sid)?;
        ensure!(status == 200, "tools/list through nginx: {status}");
    }
    let served: Vec<usize> = servers.iter().map(lists_served).collect();
    ensure!(
        served.iter().all(|n| *n >= 2),
        "round robin should have spread 9 requests over the 3 instances: {served:?}"
    );

    // Real clients, through nginx: connect, list, call a UI tool, read its resource.
    let uri = client.result("resources/list", Value::Null)?["resources"]
        .as_array()
        .context("resources")?
        .iter()
        .find(|r| r["name"] == "albums")
        .and_then(|r| r["uri"].as_str().map(String::from))
        .context("the albums resource is not listed")?;
    let args = json!({"category": "food", "search": "", "limit": 3}).to_string();
    let mut runs = vec![run_ts(&nginx.mcp_url(), "show-albums", &args, &uri)?];
    for version in PY_MCP_VERSIONS {
        runs.push(run_py(
            version,
            &nginx.mcp_url(),
            "show-albums",
            &args,
            &uri,
        )?);
    }
    for run in &runs {
        let out = run.stdout();
        ensure!(
            run.ok()
                && out
                    .lines()
                    .any(|l| l.starts_with("callTool:") && !l.contains("\"isError\":true"))
                && out.contains("<!DOCTYPE html>"),
            "{}",
            run.describe()
        );
    }

    elicitation_across_instances(&servers, &nginx)?;
    resumption_on_a_third_instance(&servers, &nginx)?;

    // One instance dies mid-session: the next calls succeed on the others, and a stream of
    // the dead instance that another one follows ends (within the 2 s follower check).
    let mut followed = follow_a_waiting_stream(&nginx, &servers[1], &servers[0])?;
    let victim = servers.remove(1);
    let status = std::process::Command::new("kill")
        .args(["-KILL", &victim.pid().to_string()])
        .status()?;
    ensure!(status.success(), "kill -KILL failed");
    for i in 0..6 {
        let status = list(&nginx, &sid)?;
        ensure!(
            status == 200,
            "call {i} after SIGKILL of one instance: {status}"
        );
    }
    let call = client.call_tool(
        "show-albums",
        json!({"category": "food", "search": "", "limit": 3}),
    )?;
    ensure!(call["content"].is_array(), "{call}");
    ensure!(
        next_message(&mut followed)?.is_none(),
        "the followed stream of the killed instance should end"
    );
    servers[0].wait_for(Duration::from_secs(5), |l| {
        l.contains("The instance of a resumed stream is gone")
    })?;

    // Redis restarts: requests fail cleanly (503) while it is down, then the servers recover
    // and the session (persisted by Redis) goes on.
    redis.kill();
    let down = list(&nginx, &sid)?;
    ensure!(down == 503, "with Redis down: {down} (expected 503)");
    redis.spawn()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = list(&nginx, &sid)?;
        if status == 200 {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "still {status} 30 s after Redis came back"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for s in &servers {
        ensure!(
            s.stderr()
                .iter()
                .chain(s.stdout().iter())
                .all(|l| !l.contains("panicked")),
            "a server panicked"
        );
    }
    let keys = redis.cli(&["--scan", "--pattern", "sunpeak:session:*"])?;
    ensure!(
        keys.lines().count() >= 1,
        "no session records in Redis: {keys:?}"
    );
    drop(nginx);
    Ok(())
}
