//! The edge-case projects rendered in headless Chromium (the harness of `tests/browser`): what
//! a user sees is what Vite's build would show. The resources do not speak the MCP Apps
//! protocol (they stand in for sunpeak's `AppProvider`), so each render waits out a short
//! handshake timeout and then reads the page's text.
//!
//! Needs Node.js + npm (playwright-core is installed into the user cache on first use) and
//! Chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`).

mod support;

use std::path::Path;
use std::process::Command;

use app_bundler::BuildOptions;
use support::{Workspace, build_ok, build_with, repo_root};

/// `node_modules` with playwright-core, from `tests/browser/install.sh`.
fn harness_modules() -> String {
    let out = Command::new("bash")
        .arg(repo_root().join("tests/browser/install.sh"))
        .output()
        .expect("bash must be on PATH");
    assert!(
        out.status.success(),
        "tests/browser/install.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Renders each HTML file; returns the visible text of each, checking there were no errors.
fn render(work: &Path, pages: &[&Path]) -> Vec<String> {
    let jobs: Vec<serde_json::Value> = pages
        .iter()
        .map(|html| {
            serde_json::json!({
                "html": html.to_string_lossy(),
                "toolInput": {},
                "toolResult": { "content": [] },
            })
        })
        .collect();
    let jobs_file = work.join("jobs.json");
    std::fs::write(&jobs_file, serde_json::Value::from(jobs).to_string()).expect("write jobs");
    let out = Command::new("node")
        .arg(repo_root().join("tests/browser/render.mjs"))
        .arg("--jobs")
        .arg(&jobs_file)
        .env("SUNPEAK_HARNESS_MODULES", harness_modules())
        .env("RENDER_TIMEOUT_MS", "3000")
        .output()
        .expect("node must be on PATH");
    assert!(
        out.status.success(),
        "render.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).expect("render.mjs prints a JSON array");
    results
        .iter()
        .map(|r| {
            assert_eq!(r["pageErrors"], serde_json::json!([]), "page errors: {r}");
            r["text"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

#[test]
fn env_variables_and_import_suffixes_render_in_chromium() {
    let ws = Workspace::new();
    let env_project = ws.project("vite-env");
    let options = BuildOptions::new(&env_project).threads(2).process_env([
        ("VITE_FROM_PROCESS", "from the process"),
        ("VITE_ONLY_IN_PROCESS", "only in the process"),
    ]);
    if let (Err(e), _) = build_with(&options) {
        panic!("build failed:\n{e}");
    }
    let suffix_project = ws.project("import-suffixes");
    build_ok(&suffix_project);

    let texts = render(
        &ws.dir,
        &[
            &env_project.join("dist/env/env.html"),
            &suffix_project.join("dist/suffixes/suffixes.html"),
        ],
    );
    assert_eq!(
        texts[0],
        "greeting: hello from .env\n\
         overridden: from .env.production\n\
         local: from .env.local\n\
         production local: from .env.production.local\n\
         from process: from the process\n\
         only in process: only in the process\n\
         expanded: https://api.example.com/v1\n\
         quoted: single # kept\n\
         multiline: \"line one\\nline two\"\n\
         missing: undefined\n\
         dev only: undefined\n\
         mode: production\n\
         keys: VITE_API_URL,VITE_FROM_PROCESS,VITE_GREETING,VITE_LOCAL,VITE_MULTILINE,VITE_ONLY_IN_PROCESS,VITE_OVERRIDDEN,VITE_PROD_LOCAL,VITE_QUOTED"
    );
    let suffixes = &texts[1];
    for expected in [
        // Shown only because the ?inline CSS (`.inline-probe{display:none}`) is not applied.
        "inline css not applied",
        // (HTML collapses the newlines of the text.)
        "raw txt: Plain text, with \"quotes\" and </script> inside. Second line.",
        "raw md: # Readme Some *markdown*.",
        "png url: data:image/png;base64,iVBORw0KGgo",
        "svg url: data:image/svg+xml,%3csvg%20xmlns='http://www.w3.org/2000/svg'",
        "svg plain import is the same: true",
        "inline css: .inline-probe{display:none}.from-inline{color:red;",
        "helper imported with an unknown query",
    ] {
        assert!(
            suffixes.contains(expected),
            "missing {expected:?} in\n{suffixes}"
        );
    }
}
