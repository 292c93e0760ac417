//! The auth contract of the npm `sunpeak start` 0.20.79, side by side with ours: the sunpeak
//! template with `tests/e2e/fixtures/start/oauth/server.ts` as its server entry (an `oauth`
//! export and an `auth(req, context)` that returns each kind of `AuthorizationFailure`) and a
//! `whoami` tool, built once with our `sunpeak build`; the same `dist/` is served by both.
//!
//! Compared exactly (after writing each server's own `127.0.0.1:<port>` as `HOST`): status,
//! `WWW-Authenticate`, `Content-Type`, `Cache-Control` and body of the RFC 9728 documents and of
//! every rejection, the JSON-RPC answer of a call whose auth info came from the body, and the
//! startup lines (`Loaded OAuth metadata from server entry`). Bodies are compared only where we
//! do not differ on purpose (docs/differences.md: our 413 and 400 bodies are JSON-RPC).
//!
//! Invalid configs: sunpeak starts, then dies on the first request that needs the config with
//! `Error: <reason>`; ours refuses to start with the same `Error: <reason>` and exit code 1.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use e2e_tests::builds::{self, Builder};
use e2e_tests::start::http::{Request, Response, send};
use e2e_tests::start::mcp::McpClient;
use e2e_tests::start::server::{Implementation, Launch, Server};
use e2e_tests::{copy_project, sunpeak_bin, template, workspace_root};
use serde_json::{Value, json};

/// The template with the OAuth server entry and the `whoami` tool, built by us (once).
fn project() -> &'static Path {
    static PROJECT: OnceLock<PathBuf> = OnceLock::new();
    PROJECT.get_or_init(|| match prepare() {
        Ok(path) => path,
        Err(err) => panic!("cannot prepare the OAuth project: {err:#}"),
    })
}

fn prepare() -> Result<PathBuf> {
    // One fixed directory, replaced by each run: a static cannot clean up after the last test.
    let scratch = std::env::temp_dir().join("sunpeak-e2e-start-oauth");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(&scratch)?;
    let project = copy_project(&template(Some("4.4.3"))?, &scratch, "oauth")?;
    let fixture = workspace_root().join("tests/e2e/fixtures/start/oauth");
    std::fs::copy(fixture.join("server.ts"), project.join("src/server.ts"))?;
    std::fs::copy(
        fixture.join("whoami.ts"),
        project.join("src/tools/whoami.ts"),
    )?;
    let run = builds::run(&Builder::Ours(sunpeak_bin().to_path_buf()), &project)?;
    ensure!(run.success(), "{}", run.failure_message());
    Ok(project)
}

/// One answer, as compared: status, the headers that matter, the body.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, Option<String>)>,
    body: Option<String>,
}

const HEADERS: [&str; 4] = [
    "www-authenticate",
    "content-type",
    "cache-control",
    "access-control-expose-headers",
];

/// What of a response is compared.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// Status, [`HEADERS`] and the body bytes.
    Full,
    /// The status alone.
    Status,
    /// Status, content type and the body as JSON (key order aside).
    Json,
}

fn answer(server: &Server, resp: &Response, part: Part) -> Answer {
    let own = server.addr.to_string();
    let norm = |s: &str| s.replace(&own, "HOST");
    let names: &[&'static str] = match part {
        Part::Full => &HEADERS,
        Part::Status => &[],
        Part::Json => &["content-type"],
    };
    Answer {
        status: resp.status,
        headers: names
            .iter()
            .map(|name| (*name, resp.header(name).map(norm)))
            .collect(),
        body: match part {
            Part::Full => Some(norm(&resp.text())),
            Part::Status => None,
            Part::Json => Some(
                serde_json::from_slice::<Value>(&resp.body)
                    .map(|v| sorted(&v).to_string())
                    .unwrap_or_else(|_| resp.text()),
            ),
        },
    }
}

/// `value` with every object's keys sorted.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn post(body: &Value, token: Option<&str>, session: Option<&str>) -> Request {
    let mut request = Request::mcp_post(body);
    if let Some(token) = token {
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25");
    }
    request
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
           "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                      "clientInfo": {"name": "e2e", "version": "1.0.0"}}})
}

/// Opens a session with `token` (which must be allowed to initialize).
fn session(server: &Server, token: &str) -> Result<String> {
    let mut client =
        McpClient::new(server.addr).with_header("authorization", &format!("Bearer {token}"));
    client.initialize()?;
    client.session.context("no session id")
}

/// Everything the test asks of one server, labelled.
fn script(server: &Server) -> Result<Vec<(String, Answer)>> {
    let mut out = Vec::new();
    let mut ask = |label: &str, request: Request, part: Part| -> Result<()> {
        let resp = send(server.addr, &request).with_context(|| label.to_string())?;
        out.push((label.to_string(), answer(server, &resp, part)));
        Ok(())
    };
    script_into(server, &mut ask)?;
    Ok(out)
}

type Ask<'a> = dyn FnMut(&str, Request, Part) -> Result<()> + 'a;

fn script_into(server: &Server, ask: &mut Ask<'_>) -> Result<()> {
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource/other",
    ] {
        ask(
            &format!("GET {path}"),
            Request::new("GET", path),
            Part::Full,
        )?;
    }
    for token in [
        None,
        Some("malformed"),
        Some("expired"),
        Some("teapot"),
        Some("unknown"),
    ] {
        let label = format!("initialize with {token:?}");
        ask(&label, post(&initialize(), token, None), Part::Full)?;
    }
    // GET and DELETE: auth runs with `context.body === undefined`, before the session check.
    ask(
        "GET /mcp expired",
        Request::new("GET", "/mcp")
            .header("accept", "text/event-stream")
            .header("authorization", "Bearer expired"),
        Part::Full,
    )?;
    ask(
        "DELETE /mcp expired",
        Request::new("DELETE", "/mcp").header("authorization", "Bearer expired"),
        Part::Full,
    )?;
    // The body decides: a reader may initialize and list, but not call.
    let reader = session(server, "readonly")?;
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let resp = send(server.addr, &post(&list, Some("readonly"), Some(&reader)))?;
    ensure!(
        resp.status == 200,
        "tools/list as reader: {} {}",
        resp.status,
        resp.text()
    );
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": {"name": "whoami", "arguments": {}}});
    ask(
        "tools/call as reader",
        post(&call, Some("readonly"), Some(&reader)),
        Part::Full,
    )?;
    // A success built from the body: the tool sees the auth info auth() returned.
    let writer = session(server, "good")?;
    ask(
        "tools/call whoami as writer",
        post(&call, Some("good"), Some(&writer)),
        Part::Json,
    )?;
    // Not JSON, and over the body limit: answered before auth() runs (no 401), as sunpeak.
    // Bodies and content types differ on purpose (ours are JSON-RPC errors): status only.
    let garbage = Request::new("POST", "/mcp")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body("{not json");
    ask("invalid JSON, no token", garbage, Part::Status)?;
    let big =
        json!({"jsonrpc": "2.0", "id": 3, "method": "ping", "params": {"pad": "x".repeat(70_000)}});
    ask(
        "over the body limit, no token",
        post(&big, None, None),
        Part::Status,
    )?;
    Ok(())
}

fn startup_lines(server: &Server) -> Vec<String> {
    server
        .stdout()
        .into_iter()
        .take_while(|line| !line.is_empty())
        .collect()
}

fn launch(implementation: Implementation, config: Option<&str>) -> Result<Server> {
    let launch = match implementation {
        Implementation::Ours => Launch::ours(project()),
        Implementation::Reference => Launch::reference(project()),
    };
    let mut launch = launch.env("SUNPEAK_MAX_BODY_BYTES", "65536");
    if let Some(config) = config {
        launch = launch.env("OAUTH_CONFIG", config);
    }
    launch.start()
}

fn compare(reference: &[(String, Answer)], ours: &[(String, Answer)]) -> Vec<String> {
    let mut failures = Vec::new();
    for ((label, expected), (_, actual)) in reference.iter().zip(ours) {
        if expected != actual {
            failures.push(format!(
                "{label}:\n  sunpeak: {expected:?}\n  ours:    {actual:?}"
            ));
        }
    }
    if reference.len() != ours.len() {
        failures.push(format!("{} answers vs {}", reference.len(), ours.len()));
    }
    failures
}

#[test]
fn auth_failures_and_metadata_match_npm_sunpeak() -> Result<()> {
    let reference = launch(Implementation::Reference, None)?;
    let expected = script(&reference)?;
    let ours = launch(Implementation::Ours, None)?;
    let actual = script(&ours)?;
    let mut failures = compare(&expected, &actual);

    let (reference_lines, our_lines) = (startup_lines(&reference), startup_lines(&ours));
    if reference_lines != our_lines {
        failures.push(format!(
            "startup lines:\n  sunpeak: {reference_lines:?}\n  ours:    {our_lines:?}"
        ));
    }
    ensure!(
        our_lines
            .iter()
            .any(|l| l == "Loaded OAuth metadata from server entry"),
        "{our_lines:?}"
    );
    ensure!(failures.is_empty(), "differences:\n{}", failures.join("\n"));

    // What was compared is what the contract says (so that two identical mistakes fail).
    let find = |label: &str| {
        actual
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, a)| a)
            .with_context(|| label.to_string())
    };
    let challenge = |label: &str| -> Result<(u16, String)> {
        let a = find(label)?;
        Ok((a.status, a.headers[0].1.clone().unwrap_or_default()))
    };
    let base = r#"Bearer resource_metadata="http://HOST/.well-known/oauth-protected-resource/mcp""#;
    assert_eq!(
        challenge("initialize with None")?,
        (401, format!(r#"{base}, scope="read write""#))
    );
    assert_eq!(
        challenge("initialize with Some(\"malformed\")")?,
        (
            400,
            format!(
                r#"{base}, scope="read write", error="invalid_request", error_description="The \"Authorization\" header is not a \\ bearer token""#
            )
        )
    );
    assert_eq!(challenge("initialize with Some(\"teapot\")")?.0, 403);
    assert_eq!(
        challenge("tools/call as reader")?,
        (
            403,
            format!(
                r#"{base}, scope="read write", error="insufficient_scope", error_description="whoami needs the write scope""#
            )
        )
    );
    assert_eq!(challenge("GET /mcp expired")?.0, 401);
    assert_eq!(
        find("initialize with None")?.body.as_deref(),
        Some("Unauthorized")
    );
    assert_eq!(find("invalid JSON, no token")?.status, 400);
    assert_eq!(find("over the body limit, no token")?.status, 413);
    let doc: Value = serde_json::from_str(
        find("GET /.well-known/oauth-protected-resource/mcp")?
            .body
            .as_deref()
            .unwrap_or(""),
    )?;
    assert_eq!(doc["resource"], "http://HOST/mcp");
    assert_eq!(
        doc["resource_documentation"],
        "https://docs.example.com/mcp"
    );
    let whoami = find("tools/call whoami as writer")?;
    let message: Value = serde_json::from_str(whoami.body.as_deref().unwrap_or(""))?;
    let info: Value = serde_json::from_str(
        message["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or(""),
    )?;
    assert_eq!(info["extra"]["bodyMethod"], "tools/call", "{message}");
    Ok(())
}

/// A `resource` with a path and a query: the endpoint-specific metadata path follows it (and
/// `/.well-known/oauth-protected-resource/mcp` is a 404); no scopes, no `scope` in challenges.
#[test]
fn resource_with_a_path_matches_npm_sunpeak() -> Result<()> {
    let config = r#"{"authorizationServers":["https://auth.example.com"],"resource":"https://app.example.com/api/mcp?tenant=1"}"#;
    let run = |server: &Server| -> Result<Vec<(String, Answer)>> {
        let mut out = Vec::new();
        for path in [
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-protected-resource/api/mcp",
            "/.well-known/oauth-protected-resource/mcp",
        ] {
            let resp = send(server.addr, &Request::new("GET", path))?;
            out.push((path.to_string(), answer(server, &resp, Part::Full)));
        }
        let resp = send(server.addr, &post(&initialize(), Some("expired"), None))?;
        out.push(("expired".to_string(), answer(server, &resp, Part::Full)));
        Ok(out)
    };
    let expected = run(&launch(Implementation::Reference, Some(config))?)?;
    let actual = run(&launch(Implementation::Ours, Some(config))?)?;
    let failures = compare(&expected, &actual);
    ensure!(failures.is_empty(), "differences:\n{}", failures.join("\n"));
    assert_eq!(actual[2].1.status, 404);
    assert_eq!(
        actual[3].1.headers[0].1.as_deref(),
        Some(
            r#"Bearer resource_metadata="https://app.example.com/.well-known/oauth-protected-resource/api/mcp?tenant=1", error="invalid_token", error_description="The token expired""#
        )
    );
    Ok(())
}

/// Ours only (sunpeak's `start` has neither flag): the `oauth` export wins over
/// `--authorization-server` and `--oauth-scopes` (ignored, with a warning), and `--server-url`
/// is the public URL (sunpeak's `serverUrl`): the default `resource` and the challenge's URL.
#[test]
fn the_export_wins_over_the_flags_and_server_url_is_the_public_url() -> Result<()> {
    let server = Launch::ours(project())
        .args(&[
            "--server-url",
            "https://app.example.com/mcp",
            "--authorization-server",
            "https://flag.example.com",
            "--oauth-scopes",
            "admin",
        ])
        .start()?;
    let warning = "Warning: --authorization-server and --oauth-scopes are ignored: dist/server.js exports oauth";
    ensure!(
        server.stderr().iter().any(|l| l == warning),
        "{:?}",
        server.stderr()
    );
    let resp = send(
        server.addr,
        &Request::new("GET", "/.well-known/oauth-protected-resource/mcp"),
    )?;
    ensure!(resp.status == 200, "{} {}", resp.status, resp.text());
    let doc: Value = serde_json::from_slice(&resp.body)?;
    assert_eq!(doc["resource"], "https://app.example.com/mcp");
    assert_eq!(
        doc["authorization_servers"],
        json!(["https://auth.example.com", "http://localhost:9000/issuer"])
    );
    assert_eq!(doc["scopes_supported"], json!(["read", "write"]));
    let resp = send(server.addr, &post(&initialize(), None, None))?;
    assert_eq!(resp.status, 401);
    assert_eq!(
        resp.header("www-authenticate"),
        Some(
            r#"Bearer resource_metadata="https://app.example.com/.well-known/oauth-protected-resource/mcp", scope="read write""#
        )
    );
    Ok(())
}

/// Runs our `sunpeak start` with `OAUTH_CONFIG`, expecting it to exit; returns (code, stderr).
fn ours_to_exit(config: &str) -> Result<(Option<i32>, String)> {
    let out = Command::new(sunpeak_bin())
        .args(["start", "--host", "127.0.0.1", "--port", "0"])
        .current_dir(project())
        .env("OAUTH_CONFIG", config)
        .stdin(Stdio::null())
        .output()?;
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// sunpeak with an invalid config: serving the metadata kills it; returns (code, stderr).
fn reference_dies(config: &str) -> Result<(Option<i32>, String)> {
    let mut server = launch(Implementation::Reference, Some(config))?;
    // The connection is cut when the process dies: no answer is the expected outcome.
    if let Ok(resp) = send(
        server.addr,
        &Request::new("GET", "/.well-known/oauth-protected-resource"),
    ) {
        bail!(
            "sunpeak answered an invalid config with {}: {}",
            resp.status,
            resp.text()
        );
    }
    let status = server.wait_exit(Duration::from_secs(20))?;
    Ok((status.code(), server.stderr().join("\n")))
}

#[test]
fn invalid_configs_fail_with_sunpeak_texts() -> Result<()> {
    let cases = [
        (
            r#"{"authorizationServers":["http://auth.example.com"]}"#,
            "OAuth authorization server must use https unless it is on localhost",
        ),
        (
            r#"{"authorizationServers":["https://auth.example.com"],"resource":"https://app.example.com/mcp#frag"}"#,
            "OAuth resource must not contain a fragment",
        ),
        (
            r#"{"authorizationServers":["https://user:pw@auth.example.com"]}"#,
            "OAuth authorization server must not contain credentials",
        ),
        (
            r#"{"authorizationServers":["https://auth.example.com"],"resource":"http://app.example.com/mcp"}"#,
            "OAuth resource must use https unless it is on localhost",
        ),
        (
            r#"{"authorizationServers":[]}"#,
            "OAuth protected-resource metadata requires an authorization server",
        ),
    ];
    let mut failures = Vec::new();
    for (config, reason) in cases {
        let line = format!("Error: {reason}");
        let (code, stderr) = reference_dies(config)?;
        if code != Some(1) || !stderr.lines().any(|l| l == line) {
            failures.push(format!(
                "sunpeak with {config}: exit {code:?}, stderr:\n{stderr}"
            ));
        }
        let (code, stderr) = ours_to_exit(config)?;
        if code != Some(1) || !stderr.lines().any(|l| l == line) {
            failures.push(format!(
                "ours with {config}: exit {code:?}, stderr:\n{stderr}"
            ));
        }
    }
    ensure!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}
