//! The project's own MCP clients (`tests/clients`) against our `sunpeak build` + `sunpeak start`,
//! in the modern era (2026-07-28: no initialize, no session) and the legacy one:
//!
//! - on the sunpeak template, the Python SDK 2.x and TypeScript SDK v2 clients in the modern era
//!   list the tools, call a UI tool and read its resource;
//! - on `tests/projects/elicitation`, whose JavaScript tool handler (run by the Node worker) asks
//!   the user's name with `extra.sendRequest({method: "elicitation/create"})`, legacy clients
//!   (TypeScript SDK 1.x and 2.x, Python SDK 2.x) get an `elicitation/create` request and modern
//!   ones an `input_required` result, answer it from their elicitation handler, and get the
//!   greeting with the answer.
//!
//! The client scripts check the wire themselves (protocol version, no `Mcp-Session-Id` in the
//! modern era, the `MCP-Protocol-Version`/`Mcp-Method`/`Mcp-Name` headers and `_meta`, one retry
//! carrying `requestState`) and exit non-zero on any failure.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use e2e_tests::builds::{self, Builder};
use e2e_tests::start::clients::{ClientRun, Ours, run_ours};
use e2e_tests::start::mcp::McpClient;
use e2e_tests::start::server::{Launch, Server};
use e2e_tests::{Scratch, copy_project, sunpeak_bin, template, workspace_root};
use serde_json::Value;

/// Builds `project` with our build and serves it with our start.
fn build_and_start(project: &Path) -> Result<Server> {
    let run = builds::run(&Builder::Ours(sunpeak_bin().to_path_buf()), project)?;
    if !run.success() {
        bail!("{}", run.failure_message());
    }
    Launch::ours(project).start()
}

/// Runs every client; fails with the reports of all that failed.
fn run_all(server: &Server, runs: &[(Ours, Vec<&str>)]) -> Result<Vec<ClientRun>> {
    let url = server.mcp_url();
    let mut done = Vec::new();
    let mut failures = Vec::new();
    for (client, args) in runs {
        let run = run_ours(*client, &url, args)?;
        let out = run.stdout();
        if !run.ok() || out.lines().last() != Some("OK") {
            failures.push(run.describe());
        }
        done.push(run);
    }
    ensure!(
        server.stderr().iter().all(|l| !l.contains("panicked")),
        "the server panicked"
    );
    ensure!(
        failures.is_empty(),
        "client failures:\n{}",
        failures.join("\n\n")
    );
    Ok(done)
}

/// The line of a client's output that starts with `prefix`.
fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or("")
}

#[test]
fn template_serves_modern_clients() -> Result<()> {
    let scratch = Scratch::new("start-modern-template")?;
    let project = copy_project(&template(None)?, &scratch.0, "template")?;
    let server = build_and_start(&project)?;

    // The UI tool's resource, as the legacy harness lists it.
    let mut probe = McpClient::new(server.addr);
    probe.initialize()?;
    let uri = probe.result("resources/list", Value::Null)?["resources"]
        .as_array()
        .context("resources")?
        .iter()
        .find(|r| r["name"] == "albums")
        .and_then(|r| r["uri"].as_str().map(String::from))
        .context("the albums resource is not listed")?;

    let args = vec![
        "--tool",
        "show-albums",
        "--args",
        r#"{"category":"food","search":"","limit":3}"#,
        "--expect",
        "Food Photos",
        "--resource",
        uri.as_str(),
        "--expect-resource",
        "text/html;profile=mcp-app",
    ];
    let runs = run_all(
        &server,
        &[
            (Ours::Python("auto"), args.clone()),
            (Ours::Python("modern"), args.clone()),
            (Ours::TypeScript("auto"), args.clone()),
            (Ours::TypeScript("modern"), args),
        ],
    )?;
    for run in &runs {
        let out = run.stdout();
        ensure!(
            line(&out, "protocol: ").starts_with("2026-07-28"),
            "{}: not the modern era\n{out}",
            run.name
        );
        ensure!(
            line(&out, "readResource: ").contains("<!DOCTYPE html>"),
            "{}: the resource is not the HTML page\n{out}",
            run.name
        );
        for tool in ["show-albums", "show-carousel", "show-map", "review-diff"] {
            ensure!(
                line(&out, "tools: ").contains(tool),
                "{}: {tool} is not listed\n{out}",
                run.name
            );
        }
    }
    Ok(())
}

#[test]
fn js_tool_handler_elicits_in_both_eras() -> Result<()> {
    let scratch = Scratch::new("start-modern-elicitation")?;
    let project = scratch.0.join("elicitation");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(workspace_root().join("tests/projects/elicitation"))
        .arg(&project)
        .status()?;
    ensure!(status.success(), "copying tests/projects/elicitation");
    // zod, sunpeak and @modelcontextprotocol/sdk, from the prepared template.
    std::os::unix::fs::symlink(
        template(None)?.join("node_modules"),
        project.join("node_modules"),
    )?;
    let server = build_and_start(&project)?;

    let args = vec![
        "--elicit-tool",
        "ask-name",
        "--elicit-args",
        r#"{"greeting":"Hi"}"#,
        "--answer",
        r#"{"name":"Alice"}"#,
        "--expect-elicit",
        "Hi, Alice!",
    ];
    let runs = run_all(
        &server,
        &[
            (Ours::TypeScriptV1, args.clone()),
            (Ours::TypeScript("legacy"), args.clone()),
            (Ours::Python("legacy"), args.clone()),
            (Ours::TypeScript("auto"), args.clone()),
            (Ours::Python("auto"), args.clone()),
        ],
    )?;
    for run in &runs {
        let out = run.stdout();
        ensure!(
            line(&out, "elicitation: ").contains("What is your name?"),
            "{}: the elicitation did not reach the client\n{out}",
            run.name
        );
        ensure!(
            line(&out, "elicitTool: ").contains("Hi, Alice!"),
            "{}: the answer is not in the result\n{out}",
            run.name
        );
    }
    Ok(())
}
