//! The real MCP clients the conformance step drives, installed on first use into the cache.
//!
//! The legacy-era scripts stay in the shared folder; the project's own clients (modern and
//! legacy era, elicitation) are in `tests/clients`. The TypeScript ones are copied next to the
//! `node_modules` they import from (ESM resolves packages from the importing file's directory),
//! as the shared `verify-all.sh` does.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::{paths, proc};

/// The TypeScript SDK version the TS client (and the reference fixture server) run on.
pub const TS_SDK_VERSION: &str = "1.32.2";
/// The Python `mcp` versions the Python client runs on (the 1.x and the 2.x line).
pub const PY_MCP_VERSIONS: [&str; 2] = ["1.30.0", "2.3.0"];
/// The TypeScript SDK v2 client package (`@modelcontextprotocol/client`) our TS client runs on.
pub const TS_CLIENT_V2_VERSION: &str = "2.4.0";
/// The Python `mcp` our Python client runs on (2.x: the first line with the 2026-07-28 era).
pub const PY_MCP_MODERN_VERSION: &str = "2.3.0";

/// `tests/clients/<name>`: the project's own client scripts.
pub fn our_client(name: &str) -> PathBuf {
    paths::workspace_root()
        .join("tests")
        .join("clients")
        .join(name)
}

/// A directory with `@modelcontextprotocol/client` (TS SDK v2) installed and
/// `tests/clients/mcp_client.mjs` copied in; returns it. Installs on first use.
pub fn ts_client_v2_dir() -> Result<PathBuf> {
    let dir = paths::cache_dir()
        .join("clients")
        .join(format!("ts-client-{TS_CLIENT_V2_VERSION}"));
    npm_install_once(
        &dir,
        &format!("@modelcontextprotocol/client@{TS_CLIENT_V2_VERSION}"),
    )?;
    let from = our_client("mcp_client.mjs");
    std::fs::copy(&from, dir.join("mcp_client.mjs"))
        .with_context(|| format!("copying {} into {}", from.display(), dir.display()))?;
    Ok(dir)
}

/// `npm install <package>` into `dir` unless a marker says it was done.
fn npm_install_once(dir: &Path, package: &str) -> Result<()> {
    let marker = dir.join(".installed");
    if marker.is_file() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    proc::run(Command::new("npm").args([
        "install",
        "--prefix",
        &dir.to_string_lossy(),
        "--no-audit",
        "--no-fund",
        "--silent",
        package,
    ]))
    .with_context(|| format!("installing {package} from npm"))?;
    std::fs::write(&marker, "").with_context(|| format!("writing {}", marker.display()))
}

/// A directory with `@modelcontextprotocol/sdk` installed and the shared `.mjs` scripts and
/// `tests/clients/legacy_client.mjs` copied in; returns it. Installs on first use.
pub fn ts_sdk_dir(shared: &Path) -> Result<PathBuf> {
    let dir = paths::cache_dir()
        .join("clients")
        .join(format!("ts-sdk-{TS_SDK_VERSION}"));
    npm_install_once(&dir, &format!("@modelcontextprotocol/sdk@{TS_SDK_VERSION}"))?;
    let ours = our_client("legacy_client.mjs");
    for from in [
        shared.join("tools").join("ts-client.mjs"),
        shared.join("tools").join("fixture-server.mjs"),
        ours,
    ] {
        let to = dir.join(from.file_name().unwrap_or_default());
        std::fs::copy(&from, &to)
            .with_context(|| format!("copying {} into {}", from.display(), dir.display()))?;
    }
    Ok(dir)
}

/// The Python interpreter of a venv with `mcp==<version>` installed. Installs on first use.
pub fn py_mcp_python(version: &str) -> Result<PathBuf> {
    let dir = paths::cache_dir()
        .join("clients")
        .join(format!("py-mcp-{version}"));
    let python = dir.join("bin").join("python");
    let marker = dir.join(".installed");
    if !marker.is_file() {
        if dir.exists() {
            // A half-made venv from an interrupted run: start over.
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("removing the incomplete venv {}", dir.display()))?;
        }
        proc::run(Command::new("python3").arg("-m").arg("venv").arg(&dir))
            .context("creating a Python venv (python3 -m venv)")?;
        proc::run(
            Command::new(&python)
                .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
                .arg(format!("mcp=={version}")),
        )
        .with_context(|| format!("installing mcp=={version} from PyPI"))?;
        std::fs::write(&marker, "").with_context(|| format!("writing {}", marker.display()))?;
    }
    Ok(python)
}
