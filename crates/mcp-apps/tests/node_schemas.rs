//! `tools/list` schemas and argument validation compared byte for byte with the real
//! `@modelcontextprotocol/sdk` 1.29 (what `sunpeak start` serves), for zod 4.4.3 and the latest
//! zod 4.x: on our `schemas` fixture and on the sunpeak template's own tools.

mod node_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use mcp_apps::node::{LoadedApp, NodeHost};
use node_support::*;
use serde_json::{Value, json};

/// Our `tools/list` view of the app next to the SDK's, tool by tool.
fn assert_same_schemas(app: &LoadedApp, oracle: &Value, skip: &[&str]) {
    let expected: Vec<&Value> = oracle["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !skip.contains(&s["name"].as_str().unwrap()))
        .collect();
    let ours: Vec<_> = app
        .tools
        .iter()
        .filter(|t| !skip.contains(&t.name.as_str()))
        .collect();
    assert_eq!(
        ours.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        expected
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect::<Vec<_>>()
    );
    for (tool, reference) in ours.iter().zip(expected) {
        assert_eq!(
            tool.input_schema.get(),
            reference["input"].as_str().unwrap(),
            "inputSchema of {}",
            tool.name
        );
        assert_eq!(
            tool.output_schema.as_ref().map(|s| s.get()),
            reference["output"].as_str(),
            "outputSchema of {}",
            tool.name
        );
    }
}

async fn assert_same_calls(host: &NodeHost, oracle: &Value, calls: &[Value]) {
    let answers = oracle["calls"].as_array().unwrap();
    assert_eq!(answers.len(), calls.len());
    for (request, expected) in calls.iter().zip(answers) {
        let name = request["name"].as_str().unwrap();
        let args = request.get("arguments").cloned().unwrap_or(Value::Null);
        let ours = host.call_tool(name, args, ctx(TestPeer::new())).await;
        assert_eq!(
            serde_json::to_string(&as_response(&ours)).unwrap(),
            serde_json::to_string(expected).unwrap(),
            "call {request}"
        );
    }
}

async fn fixture_matches_the_sdk(zod: &str) {
    let env = npm_env(zod);
    let project = Project::from_fixture("schemas", &env);
    let calls = vec![
        json!({"name": "basic", "arguments": {"name": "", "count": 0, "tags": "x", "kind": "other", "either": true, "nested": {"a": 1, "b": [{"c": "x"}]}, "big": 1}}),
        json!({"name": "basic", "arguments": {"name": "n", "count": 2, "tags": [], "maybe": null, "kind": "fixed", "either": 1, "nested": {"a": "a", "b": []}, "big": 3, "extra": 1}}),
        json!({"name": "object", "arguments": {"q": "x"}}),
        json!({"name": "object", "arguments": {"limit": "ten"}}),
        json!({"name": "empty", "arguments": {"dropped": 1}}),
        json!({"name": "pipes", "arguments": {"n": "42", "c": "7", "p": "ok"}}),
        json!({"name": "pipes", "arguments": {"n": "42", "c": "7", "p": "x"}}),
        json!({"name": "union-top", "arguments": {"b": 2}}),
        json!({"name": "union-top", "arguments": {"c": 2}}),
        json!({"name": "meta", "arguments": {"city": "Paris"}}),
        json!({"name": "v3", "arguments": {"word": "w"}}),
        json!({"name": "v3", "arguments": {"word": 1, "n": 1.5}}),
    ];
    let oracle = project.sdk_reference(&env, &calls);
    let (host, app) = NodeHost::start(project.config())
        .await
        .expect("host starts");
    assert!(app.warnings.is_empty(), "{:?}", app.warnings);
    assert_same_schemas(&app, &oracle, &[]);
    assert_same_calls(&host, &oracle, &calls).await;
    host.shutdown().await;
}

#[tokio::test]
async fn fixture_schemas_and_validation_match_the_sdk_with_zod_4_4_3() {
    fixture_matches_the_sdk("4.4.3").await;
}

#[tokio::test]
async fn fixture_schemas_and_validation_match_the_sdk_with_the_latest_zod_4() {
    fixture_matches_the_sdk("4").await;
}

/// The sunpeak template (prepared by `tests/support/prepare-template.sh`), its tools compiled
/// with the template's own esbuild the way `sunpeak build` compiles them.
fn template_project(template_zod: Option<&str>) -> (Project, PathBuf) {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/support/prepare-template.sh");
    let mut prepare = Command::new("bash");
    prepare.arg(&script);
    if let Some(zod) = template_zod {
        prepare.env("TEMPLATE_ZOD", zod);
    }
    let output = prepare.output().expect("bash runs");
    assert!(
        output.status.success(),
        "prepare-template.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let template = PathBuf::from(String::from_utf8(output.stdout).unwrap().trim());
    let project = Project::empty(&template);
    let tools: Vec<PathBuf> = std::fs::read_dir(template.join("src/tools"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".ts") && !name.ends_with(".test.ts")
        })
        .collect();
    assert!(!tools.is_empty());
    let status = Command::new(template.join("node_modules/.bin/esbuild"))
        .args(&tools)
        .arg(template.join("src/server.ts"))
        .args([
            "--bundle",
            "--format=esm",
            "--platform=node",
            "--target=node18",
            "--packages=external",
            "--log-level=warning",
        ])
        .arg(format!("--outdir={}", project.dist().display()))
        .status()
        .expect("the template's esbuild runs");
    assert!(status.success());
    // esbuild puts the common ancestor's layout under outdir: tools/ and server.js.
    assert!(project.dist().join("tools/show-albums.js").is_file());
    assert!(project.dist().join("server.js").is_file());
    (project, template)
}

async fn template_matches_the_sdk(template_zod: Option<&str>) {
    let (project, template) = template_project(template_zod);
    let env = npm_env(&zod_version(&template));
    let calls = vec![
        json!({"name": "show-albums", "arguments": {"category": "food", "search": "", "limit": 3}}),
        json!({"name": "show-albums", "arguments": {"category": "food"}}),
        json!({"name": "review", "arguments": {}}),
    ];
    let oracle = project.sdk_reference(&env, &calls);
    let (host, app) = NodeHost::start(project.config())
        .await
        .expect("host starts");
    assert_eq!(app.tools.len(), 7);
    assert!(app.server.as_ref().is_some_and(|s| s.has_auth));
    assert_same_schemas(&app, &oracle, &[]);
    assert_same_calls(&host, &oracle, &calls).await;
    host.shutdown().await;
}

#[tokio::test]
async fn template_tools_match_the_sdk_with_zod_4_4_3() {
    template_matches_the_sdk(Some("4.4.3")).await;
}

/// sunpeak 0.20.79 itself cannot list these tools (its bundled zod 4.4.3 converter throws on
/// zod >= 4.6 schemas); the SDK with a matching zod, and we, can.
#[tokio::test]
async fn template_tools_match_the_sdk_with_the_template_s_latest_zod() {
    template_matches_the_sdk(None).await;
}
