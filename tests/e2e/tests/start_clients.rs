//! Real MCP clients against our `sunpeak build` + `sunpeak start`: the TypeScript SDK client,
//! the Python SDK client (mcp 1.30 and 2.3) and the MCP Inspector CLI, on the sunpeak template
//! and on the example app `examples/trip-planner`. Each must connect, list the tools, call a
//! UI tool and read its resource (the Inspector also checks the MCP Apps metadata and runs 200
//! calls at concurrency 10).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use e2e_tests::builds::{self, Builder};
use e2e_tests::start::clients::{
    PY_MCP_VERSIONS, run_inspector_call, run_inspector_smoke, run_py, run_ts,
};
use e2e_tests::start::mcp::McpClient;
use e2e_tests::start::server::Launch;
use e2e_tests::{Scratch, copy_project, sunpeak_bin, template, workspace_root};
use serde_json::{Value, json};

struct Case<'a> {
    tool: &'a str,
    args: Value,
    resource: &'a str,
    /// Text the call result must contain.
    expect: &'a str,
}

/// Builds `project` with our build, serves it with our start, and runs the three clients.
fn check_clients(project: &Path, case: &Case<'_>) -> Result<()> {
    let run = builds::run(&Builder::Ours(sunpeak_bin().to_path_buf()), project)?;
    if !run.success() {
        bail!("{}", run.failure_message());
    }
    let server = Launch::ours(project).start()?;
    let url = server.mcp_url();

    let mut client = McpClient::new(server.addr);
    client.initialize()?;
    let tools: Vec<String> = client.result("tools/list", Value::Null)?["tools"]
        .as_array()
        .context("tools")?
        .iter()
        .filter_map(|t| t["name"].as_str().map(String::from))
        .collect();
    let uri = client.result("resources/list", Value::Null)?["resources"]
        .as_array()
        .context("resources")?
        .iter()
        .find(|r| r["name"] == case.resource)
        .and_then(|r| r["uri"].as_str().map(String::from))
        .with_context(|| format!("resource {} is not listed", case.resource))?;
    let args = case.args.to_string();

    let mut failures = Vec::new();
    let mut runs = vec![run_ts(&url, case.tool, &args, &uri)?];
    for version in PY_MCP_VERSIONS {
        runs.push(run_py(version, &url, case.tool, &args, &uri)?);
    }
    for run in &runs {
        let out = run.stdout();
        let tool_line = out.lines().find(|l| l.starts_with("tools:")).unwrap_or("");
        let call_line = out
            .lines()
            .find(|l| l.starts_with("callTool:"))
            .unwrap_or("");
        let read_line = out
            .lines()
            .find(|l| l.starts_with("readResource:"))
            .unwrap_or("");
        if !run.ok()
            || tools.iter().any(|t| !tool_line.contains(t.as_str()))
            || !call_line.contains(case.expect)
            || call_line.contains("\"isError\":true")
            || !read_line.contains("text/html;profile=mcp-app")
            || !read_line.contains("<!DOCTYPE html>")
        {
            failures.push(run.describe());
        }
    }

    let smoke = run_inspector_smoke(&url, &uri, project)?;
    let out = smoke.stdout();
    let app_info_ok = out.contains("\"hasApp\":true") && out.contains(&uri);
    if !smoke.ok()
        || tools.iter().any(|t| !out.contains(t.as_str()))
        || !app_info_ok
        || !out.contains("text/html;profile=mcp-app")
    {
        failures.push(smoke.describe());
    }
    let call = run_inspector_call(&url, case.tool, &args, false)?;
    if !call.ok() || !call.stdout().contains(case.expect) {
        failures.push(call.describe());
    }
    let load = run_inspector_call(&url, case.tool, &args, true)?;
    if !load.ok() {
        failures.push(load.describe());
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
    Ok(())
}

#[test]
fn template_serves_the_three_clients() -> Result<()> {
    let scratch = Scratch::new("start-clients-template")?;
    let project = copy_project(&template(None)?, &scratch.0, "template")?;
    check_clients(
        &project,
        &Case {
            tool: "show-albums",
            args: json!({"category": "food", "search": "", "limit": 3}),
            resource: "albums",
            expect: "Food Photos",
        },
    )
}

#[test]
fn example_app_serves_the_three_clients() -> Result<()> {
    let scratch = Scratch::new("start-clients-example")?;
    let source = workspace_root().join("examples/trip-planner");
    let project = scratch.0.join("trip-planner");
    // The sources only; dependencies are installed fresh from the lockfile.
    let status = Command::new("cp")
        .arg("-r")
        .arg(&source)
        .arg(&project)
        .status()?;
    ensure!(status.success(), "copying the example");
    let _ = std::fs::remove_dir_all(project.join("node_modules"));
    let _ = std::fs::remove_dir_all(project.join("dist"));
    let npm = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .current_dir(&project)
        .output()?;
    ensure!(
        npm.status.success(),
        "npm ci in the example: {}",
        String::from_utf8_lossy(&npm.stderr)
    );
    check_clients(
        &project,
        &Case {
            tool: "plan-trip",
            args: json!({"destination": "Lisbon", "days": 2}),
            resource: "itinerary",
            expect: "Lisbon",
        },
    )
}
