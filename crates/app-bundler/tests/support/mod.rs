//! Shared by the integration tests: the npm dependencies of `tests/projects/_deps` (installed
//! once per content hash into the user cache), temporary workspaces, and helpers that run Node.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use app_bundler::{BuildError, BuildOptions, BuildReport, Event};
use sha2::{Digest, Sha256};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `tests/projects/<name>`.
pub fn project_source(name: &str) -> PathBuf {
    repo_root().join("tests/projects").join(name)
}

fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("SUNPEAK_RS_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("sunpeak-rs")
}

fn hash_dir(dir: &Path, hasher: &mut Sha256) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("read _deps")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "node_modules"))
        .collect();
    entries.sort();
    for path in entries {
        hasher.update(
            path.strip_prefix(dir)
                .expect("prefix")
                .to_string_lossy()
                .as_bytes(),
        );
        if path.is_dir() {
            hash_dir(&path, hasher);
        } else {
            hasher.update(fs::read(&path).expect("read dep file"));
        }
    }
}

/// Copies a directory tree, without `node_modules` anywhere and without a top-level `dist`
/// (build output of a project).
fn copy_dir(from: &Path, to: &Path) {
    copy_tree(from, to, true);
}

fn copy_tree(from: &Path, to: &Path, top: bool) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            let skip = entry.file_name() == "node_modules" || (top && entry.file_name() == "dist");
            if !skip {
                copy_tree(&entry.path(), &target, false);
            }
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// `node_modules` with the shared test dependencies, installed from npm on first use.
pub fn deps_node_modules() -> &'static Path {
    static DEPS: OnceLock<PathBuf> = OnceLock::new();
    DEPS.get_or_init(|| {
        let source = project_source("_deps");
        let mut hasher = Sha256::new();
        hash_dir(&source, &mut hasher);
        let digest = hasher.finalize();
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        let dest = cache_root().join(format!("app-bundler-deps-{hex}"));
        if dest.join("node_modules/.package-lock.json").exists() {
            return dest.join("node_modules");
        }
        let staging =
            cache_root().join(format!("app-bundler-deps-{hex}.tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        copy_dir(&source, &staging);
        let status = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--prefer-offline",
                "--ignore-scripts",
                "--silent",
            ])
            .current_dir(&staging)
            .status()
            .expect("npm must be on PATH to install the test projects' dependencies");
        assert!(
            status.success(),
            "npm install of tests/projects/_deps failed"
        );
        if fs::rename(&staging, &dest).is_err() {
            // Another test binary won the race.
            let _ = fs::remove_dir_all(&staging);
        }
        dest.join("node_modules")
    })
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A temporary directory whose `node_modules` is the shared dependencies (or, with
/// [`Workspace::with_packages`], only some of them). Removed on drop.
pub struct Workspace {
    pub dir: PathBuf,
}

impl Workspace {
    fn empty() -> Workspace {
        let dir = std::env::temp_dir().join(format!(
            "app-bundler-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create workspace");
        Workspace { dir }
    }

    /// With all shared dependencies.
    pub fn new() -> Workspace {
        let ws = Workspace::empty();
        symlink(deps_node_modules(), &ws.dir.join("node_modules"));
        ws
    }

    /// With only the listed packages of the shared dependencies.
    pub fn with_packages(packages: &[&str]) -> Workspace {
        let ws = Workspace::empty();
        let modules = ws.dir.join("node_modules");
        fs::create_dir_all(&modules).expect("mkdir node_modules");
        for p in packages {
            let target = modules.join(p);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).expect("mkdir scope");
            }
            symlink(&deps_node_modules().join(p), &target);
        }
        ws
    }

    /// Copies `tests/projects/<name>` into the workspace; returns its path.
    pub fn project(&self, name: &str) -> PathBuf {
        let dest = self.dir.join(name);
        copy_dir(&project_source(name), &dest);
        dest
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[cfg(unix)]
fn symlink(from: &Path, to: &Path) {
    std::os::unix::fs::symlink(from, to).expect("symlink");
}

#[cfg(not(unix))]
fn symlink(from: &Path, to: &Path) {
    std::os::windows::fs::symlink_dir(from, to).expect("symlink");
}

/// Builds `project`, collecting the events.
pub fn build(project: &Path) -> (Result<BuildReport, BuildError>, Vec<Event>) {
    build_with(&BuildOptions::new(project).threads(2))
}

/// Builds with `options`, collecting the events.
pub fn build_with(options: &BuildOptions) -> (Result<BuildReport, BuildError>, Vec<Event>) {
    let mut events = Vec::new();
    let result = app_bundler::build(options, &mut |e: Event| events.push(e));
    (result, events)
}

/// Builds `project` and expects success.
pub fn build_ok(project: &Path) -> (BuildReport, Vec<Event>) {
    let (result, events) = build(project);
    match result {
        Ok(report) => (report, events),
        Err(e) => panic!("build of {} failed:\n{e}", project.display()),
    }
}

/// Builds `project` and expects failure; returns the error's message.
pub fn build_err(project: &Path) -> (BuildError, String) {
    match build(project).0 {
        Ok(_) => panic!("build of {} unexpectedly succeeded", project.display()),
        Err(e) => {
            let message = e.to_string();
            (e, message)
        }
    }
}

/// Reads a file, panicking with its path.
pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// All files under `dir`, relative, sorted, `/`-separated.
pub fn files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).expect("prefix");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Runs a Node ES module snippet with `cwd`; returns stdout (panics on failure).
pub fn node(cwd: &Path, script: &str) -> String {
    let out = Command::new("node")
        .args(["--input-type=module", "-e", script])
        .current_dir(cwd)
        .output()
        .expect("node must be on PATH");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The sorted export names of the ES module `file`, imported by Node.
pub fn node_exports(file: &Path) -> String {
    let url = format!("file://{}", file.display());
    node(
        file.parent().unwrap_or(Path::new(".")),
        &format!("const m = await import({url:?}); console.log(Object.keys(m).sort().join());"),
    )
}

/// The CSS a built HTML injects (the `textContent` JSON string literal, decoded).
pub fn injected_css(html: &str) -> Option<String> {
    let start = html.find("s.textContent=")? + "s.textContent=".len();
    let end = html[start..].find(";document.head.appendChild(s)")? + start;
    serde_json::from_str(&html[start..end]).ok()
}

/// The inline script of a built HTML.
pub fn script(html: &str) -> &str {
    let start = html
        .find("<script>\n")
        .map_or(0, |i| i + "<script>\n".len());
    let end = html.rfind("\n  </script>").unwrap_or(html.len());
    &html[start..end]
}
