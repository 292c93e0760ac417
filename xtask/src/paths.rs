//! Where things are: the workspace, the shared folder with the outside-in tools, caches, cargo.
//!
//! Nothing here is an absolute path of one machine: the shared folder is found relative to the
//! repository (`<root>/../shared`, as CI lays it out) and caches live under `$HOME/.cache`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// The workspace root: the parent of the `xtask` package directory.
///
/// `cargo run` sets `CARGO_MANIFEST_DIR` for the running binary too; the compile-time value is
/// the fallback when the binary is started some other way.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

/// The shared folder with the conformance scripts and clients: `$SUNPEAK_SHARED_DIR`, or
/// `../shared` beside the repository.
pub fn shared_dir() -> Result<PathBuf> {
    let dir = match std::env::var_os("SUNPEAK_SHARED_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("..").join("shared"),
    };
    let tools = dir.join("tools").join("run-conformance.sh");
    if !tools.is_file() {
        bail!(
            "the shared folder with the MCP test tools was not found: {} does not exist.\n\
             It is expected beside the repository (../shared); set SUNPEAK_SHARED_DIR to its path.",
            tools.display()
        );
    }
    // Canonical, so that child processes started in other directories can use it too.
    Ok(dir.canonicalize().unwrap_or(dir))
}

/// Cache root for things installed by the tests (npm packages, Python venvs):
/// `$SUNPEAK_RS_CACHE`, else `${XDG_CACHE_HOME:-$HOME/.cache}/sunpeak-rs` (the same root as
/// `tests/support/prepare-template.sh`).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = non_empty_env("SUNPEAK_RS_CACHE") {
        return PathBuf::from(dir);
    }
    let base = non_empty_env("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty_env("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("sunpeak-rs")
}

/// The cargo that runs us (`$CARGO`, set by `cargo run`), else `cargo` from `PATH`.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn non_empty_env(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}
