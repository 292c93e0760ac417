//! Support code shared by the end-to-end tests in `tests/e2e/tests/`: locating the `sunpeak`
//! binary and preparing projects.
//!
//! The tests drive the real binary, so they need it built. [`sunpeak_bin`] builds it once per
//! test process with the same profile as the tests (`cargo build -p sunpeak-cli`, a no-op when it
//! is up to date) and returns the path cargo reports, which respects `CARGO_TARGET_DIR`.
//! `SUNPEAK_BIN` overrides this with a binary of your choice.

pub mod builds;
pub mod compare;
pub mod harness;
pub mod services;
pub mod start;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Path of the `sunpeak` binary under test, built on first use.
///
/// # Panics
/// When the binary cannot be built: every end-to-end test needs it, so failing loudly is right.
pub fn sunpeak_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| match build_sunpeak() {
        Ok(path) => path,
        Err(err) => panic!("cannot build the sunpeak binary for the end-to-end tests: {err:#}"),
    })
}

fn build_sunpeak() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("SUNPEAK_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root()).args([
        "build",
        "-p",
        "sunpeak-cli",
        "--bin",
        "sunpeak",
        "--message-format=json-render-diagnostics",
    ]);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let out = cmd.output().context("running cargo build -p sunpeak-cli")?;
    if !out.status.success() {
        bail!(
            "cargo build -p sunpeak-cli failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == "sunpeak")
        .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .context("cargo build did not report the sunpeak executable")
}

/// Prepares (once, cached) the sunpeak template app with its npm dependencies and returns its
/// path. `zod` pins the project's zod version (the npm `sunpeak start` 0.20.79 needs 4.4.3).
/// Treat the returned directory as read-only: copy it before building in it.
pub fn template(zod: Option<&str>) -> Result<PathBuf> {
    let script = workspace_root().join("tests/support/prepare-template.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script);
    if let Some(version) = zod {
        cmd.env("TEMPLATE_ZOD", version);
    }
    let out = cmd
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(PathBuf::from(path))
}

/// Copies a project directory (including `node_modules`, as symlink-preserving `cp -a`) to a
/// fresh temporary directory and returns the copy's path. The caller owns the directory.
pub fn copy_project(src: &Path, dest_parent: &Path, name: &str) -> Result<PathBuf> {
    let dest = dest_parent.join(name);
    let status = Command::new("cp")
        .arg("-a")
        .arg(src)
        .arg(&dest)
        .status()
        .context("running cp -a")?;
    if !status.success() {
        bail!("cp -a {} {} failed", src.display(), dest.display());
    }
    Ok(dest)
}

/// A scratch directory of one test, `<tmp>/sunpeak-e2e-<tag>-<pid>`: emptied when made,
/// removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// Makes (or empties) the directory of `tag`.
    pub fn new(tag: &str) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("sunpeak-e2e-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating scratch dir {}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
