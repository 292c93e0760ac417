//! The JavaScript side of the end-to-end tests (`tests/browser/`): importing built tool modules
//! under Node (`tools.mjs`) and rendering resources in headless Chromium inside a minimal MCP
//! Apps host page (`render.mjs`). This module installs its npm dependencies into a cache
//! (`tests/browser/install.sh`), runs the scripts and parses what they print.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::workspace_root;

/// The browser binary: `$CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`.
pub fn chromium_path() -> PathBuf {
    std::env::var_os("CHROMIUM_PATH")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// One built tool module as `tools.mjs` saw it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolEntry {
    /// Tool name (file name without `.js`).
    pub name: String,
    /// Path relative to `dist/`.
    pub file: String,
    /// Export names, sorted.
    pub exports: Vec<String>,
    /// `tool.resource`: the name of the resource that shows this tool's result.
    pub resource: Option<String>,
    /// The arguments the handler was called with.
    pub args: Value,
    /// Where the arguments came from (`simulation`, `simulation+generated`, `generated`).
    pub args_source: String,
    /// The handler's CallToolResult (normalized like the MCP SDK does).
    pub result: Value,
    /// Import, argument or handler failure.
    pub error: Option<String>,
}

/// `dist/server.js` as `tools.mjs` saw it.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerEntry {
    /// Export names, sorted.
    pub exports: Vec<String>,
    /// Import failure.
    pub error: Option<String>,
}

/// Everything `tools.mjs` reports about a project's `dist/`.
#[derive(Debug, Clone, Deserialize)]
pub struct ToolsReport {
    /// One entry per `dist/tools/*.js`, sorted by file name.
    pub tools: Vec<ToolEntry>,
    /// `dist/server.js`, if it exists.
    pub server: Option<ServerEntry>,
}

/// One page to render: a resource's HTML and the host messages for it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderJob {
    /// A name for messages, e.g. `show-albums -> albums`.
    pub label: String,
    /// The resource's HTML file.
    pub html: PathBuf,
    /// `ui/notifications/tool-input` arguments.
    pub tool_input: Value,
    /// `ui/notifications/tool-result` params (a CallToolResult).
    pub tool_result: Value,
    /// Where to save a full-page screenshot, if wanted.
    pub screenshot: Option<PathBuf>,
}

/// What rendered.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rendered {
    /// The job's label.
    pub label: String,
    /// The iframe body's `innerText` once it stopped changing.
    pub text: Option<String>,
    /// Number of elements in the iframe document.
    pub element_count: Option<u64>,
    /// Uncaught exceptions and unhandled rejections.
    pub page_errors: Vec<String>,
    /// `console.error` messages (including failed network loads).
    pub console_errors: Vec<String>,
    /// URLs the page asked for that the harness failed (the network is closed).
    pub failed_requests: Vec<String>,
    /// Methods of the JSON-RPC messages the host received from the app, in order.
    pub host_received: Vec<String>,
    /// Whether the app completed the `ui/initialize` handshake.
    pub initialized: bool,
    /// Whether the host sent tool-input and tool-result.
    pub tool_result_sent: bool,
    /// Whether the handshake or settling hit the time limit.
    pub timed_out: bool,
    /// The screenshot's path, if one was taken.
    pub screenshot: Option<PathBuf>,
}

/// The result of comparing two screenshots pixel by pixel.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageDiff {
    /// Whether both have the same dimensions.
    pub same_size: bool,
    /// Width and height of the first.
    pub size_a: (u32, u32),
    /// Width and height of the second.
    pub size_b: (u32, u32),
    /// Pixels that differ (when the sizes match).
    pub different_pixels: Option<u64>,
}

/// The installed harness.
#[derive(Debug, Clone)]
pub struct Harness {
    dir: PathBuf,
    modules: PathBuf,
}

impl Harness {
    /// Installs the harness's npm dependencies into the cache (once) and checks that the
    /// browser exists.
    pub fn install() -> Result<Self> {
        let dir = workspace_root().join("tests/browser");
        let script = dir.join("install.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {}", script.display()))?;
        if !out.status.success() {
            bail!(
                "{} failed ({}):\n{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let modules = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let chromium = chromium_path();
        if !chromium.exists() {
            bail!(
                "no browser at {}: install Debian's chromium (`apt-get install -y chromium`) \
                 or set CHROMIUM_PATH",
                chromium.display()
            );
        }
        Ok(Self { dir, modules })
    }

    fn node(&self, script: &str) -> Command {
        let mut cmd = Command::new("node");
        cmd.arg(self.dir.join(script))
            .env("SUNPEAK_HARNESS_MODULES", &self.modules)
            .env("CHROMIUM_PATH", chromium_path())
            .stdin(Stdio::null());
        cmd
    }

    /// Imports every `dist/tools/*.js` (and `dist/server.js`) of `project` under Node and
    /// calls each tool's handler.
    pub fn tools(&self, project: &Path) -> Result<ToolsReport> {
        let mut cmd = self.node("tools.mjs");
        cmd.arg(project).current_dir(project);
        let stdout = run_json(cmd, "tools.mjs")?;
        serde_json::from_str(&stdout).context("parsing the output of tools.mjs")
    }

    /// Renders every job in one browser; `scratch` receives the job file.
    pub fn render(&self, jobs: &[RenderJob], scratch: &Path) -> Result<Vec<Rendered>> {
        std::fs::create_dir_all(scratch)
            .with_context(|| format!("creating {}", scratch.display()))?;
        let jobs_file = scratch.join("render-jobs.json");
        let json = serde_json::to_vec_pretty(jobs).context("serializing render jobs")?;
        std::fs::write(&jobs_file, json)
            .with_context(|| format!("writing {}", jobs_file.display()))?;
        let mut cmd = self.node("render.mjs");
        cmd.arg("--jobs").arg(&jobs_file);
        let stdout = run_json(cmd, "render.mjs")?;
        let rendered: Vec<Rendered> =
            serde_json::from_str(&stdout).context("parsing the output of render.mjs")?;
        if rendered.len() != jobs.len() {
            bail!(
                "render.mjs returned {} results for {} jobs",
                rendered.len(),
                jobs.len()
            );
        }
        Ok(rendered)
    }

    /// Compares two PNG screenshots pixel by pixel.
    pub fn diff_images(&self, a: &Path, b: &Path) -> Result<ImageDiff> {
        let mut cmd = self.node("render.mjs");
        cmd.arg("--diff").arg(a).arg(b);
        let stdout = run_json(cmd, "render.mjs --diff")?;
        serde_json::from_str(&stdout).context("parsing the output of render.mjs --diff")
    }
}

fn run_json(mut cmd: Command, what: &str) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("could not start node for {what} (is Node.js on PATH?)"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).with_context(|| format!("{what} printed invalid UTF-8"))
}
