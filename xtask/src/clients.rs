//! The real MCP clients the conformance step drives, installed on first use into the cache.
//!
//! The scripts themselves stay in the shared folder; the TypeScript ones are copied next to the
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

/// A directory with `@modelcontextprotocol/sdk` installed and the shared `.mjs` scripts copied
/// in; returns it. Installs on first use.
pub fn ts_sdk_dir(shared: &Path) -> Result<PathBuf> {
    let dir = paths::cache_dir()
        .join("clients")
        .join(format!("ts-sdk-{TS_SDK_VERSION}"));
    let marker = dir.join(".installed");
    if !marker.is_file() {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        proc::run(Command::new("npm").args([
            "install",
            "--prefix",
            &dir.to_string_lossy(),
            "--no-audit",
            "--no-fund",
            "--silent",
            &format!("@modelcontextprotocol/sdk@{TS_SDK_VERSION}"),
        ]))
        .context("installing the TypeScript MCP SDK from npm")?;
        std::fs::write(&marker, "").with_context(|| format!("writing {}", marker.display()))?;
    }
    for script in ["ts-client.mjs", "fixture-server.mjs"] {
        let from = shared.join("tools").join(script);
        std::fs::copy(&from, dir.join(script))
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
