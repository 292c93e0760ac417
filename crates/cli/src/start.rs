//! `sunpeak start`: serve the built `dist/` of the project in the current directory.
//!
//! Order of work, as the npm `sunpeak start` (its startup lines are kept verbatim):
//! 1. read `package.json` and the resources of `dist/` → `Found N resource(s): ...`;
//! 2. start the Node.js tool host, which loads `dist/tools/*.js` and `dist/server.js`
//!    → `Found N tool(s): ...`, `Loaded auth from server entry`;
//! 3. `Starting <name> v<version> on <host>:<port>...`, bind (a busy port is an error, never a
//!    silent move to another port), `[MCP] Server listening on ...`;
//! 4. serve until SIGTERM/SIGINT, then drain (`Shutting down MCP server...`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use mcp_apps::{PackageInfo, load_resources};

use crate::logging::{self, Format};
use crate::{console, console_warn};

mod args;
mod units;

pub use args::StartArgs;

/// Runs `sunpeak start` in the current directory. Errors are logged (as JSON lines with
/// `--json-logs`) and turned into exit code 1 here, so that every line has the chosen format.
pub fn run(args: StartArgs) -> Result<ExitCode> {
    logging::init(if args.json_logs {
        Format::Json
    } else {
        Format::Human
    });
    let root = std::env::current_dir().context("cannot read the current directory")?;
    match start(&root, args) {
        Ok(code) => Ok(code),
        Err(err) => {
            tracing::error!(target: logging::CONSOLE, "Error: {err:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn start(root: &Path, args: StartArgs) -> Result<ExitCode> {
    check_session_store(args.session_store.as_deref())?;
    let package = PackageInfo::read(root).map_err(|err| match err {
        mcp_apps::DistError::NoPackageJson(_) => anyhow::anyhow!(
            "No package.json found in current directory\nMake sure you are in a Sunpeak project directory"
        ),
        other => other.into(),
    })?;
    let dist = root.join("dist");
    let resources = load_resources(&dist)?;
    if !resources.is_empty() {
        let names: Vec<&str> = resources.iter().map(|r| r.name.as_str()).collect();
        console!("Found {} resource(s): {}", resources.len(), names.join(", "));
    }
    let _ = (package, args);
    console_warn!("sunpeak start: serving is not wired up yet");
    bail!("sunpeak start is not implemented yet")
}

/// Only the in-memory session store exists today.
fn check_session_store(store: Option<&str>) -> Result<()> {
    match store.map(str::trim) {
        None | Some("") | Some("memory") | Some("in-memory") => Ok(()),
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => bail!(
            "--session-store {url}: Redis session stores are not supported yet. \
             Run one instance with the in-memory store, or several in --stateless mode behind any load balancer."
        ),
        Some(other) => bail!(
            "--session-store {other}: unknown session store (expected `memory` or a redis:// URL)"
        ),
    }
}
