//! Scale-out: three `sunpeak start` instances of the template app share their sessions in a
//! real Redis, behind nginx doing plain round robin (no sticky sessions). Real clients (the
//! TypeScript and Python SDKs) use them through nginx; one instance is killed (SIGKILL)
//! mid-session and Redis is restarted, and the session goes on.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use e2e_tests::builds::{self, Builder};
use e2e_tests::services::{Nginx, RedisServer};
use e2e_tests::start::clients::{PY_MCP_VERSIONS, run_py, run_ts};
use e2e_tests::start::http::{Request, send};
use e2e_tests::start::mcp::{McpClient, PROTOCOL_VERSION};
use e2e_tests::start::server::{Launch, Server};
use e2e_tests::{copy_project, sunpeak_bin, template};
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

#[test]
fn three_instances_behind_round_robin_share_sessions_through_redis() -> Result<()> {
    let scratch = std::env::temp_dir().join(format!("sunpeak-e2e-scaleout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    let project = copy_project(&template(None)?, &scratch, "template")?;
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

    // One instance dies mid-session: the next calls succeed on the others.
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
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
