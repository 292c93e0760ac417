//! Names the commit in `sunpeak --version`: `sunpeak 0.1.0 (abc1234 2026-12-03)`.
//!
//! The commit comes from git when the source is a git checkout and git is installed; otherwise
//! (a source tarball, no git) from `SUNPEAK_COMMIT` and `SUNPEAK_COMMIT_DATE` if set, else the
//! version is the package version alone. Nothing here fails the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SUNPEAK_COMMIT");
    println!("cargo:rerun-if-env-changed=SUNPEAK_COMMIT_DATE");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let commit = env_commit().or_else(git_commit);
    let long = match commit {
        Some((hash, date)) if date.is_empty() => format!("{version} ({hash})"),
        Some((hash, date)) => format!("{version} ({hash} {date})"),
        None => version,
    };
    println!("cargo:rustc-env=SUNPEAK_LONG_VERSION={long}");
}

/// `SUNPEAK_COMMIT` (and `SUNPEAK_COMMIT_DATE`), for builds from a tree without `.git`.
fn env_commit() -> Option<(String, String)> {
    let hash = std::env::var("SUNPEAK_COMMIT").ok()?;
    let hash = hash.trim();
    if hash.is_empty() {
        return None;
    }
    let date = std::env::var("SUNPEAK_COMMIT_DATE").unwrap_or_default();
    Some((short(hash).to_owned(), date.trim().to_owned()))
}

/// The short hash and the committer date (`YYYY-MM-DD`) of `HEAD`. `None` without git, or
/// when this package is not tracked by the repository git finds (a source tarball unpacked
/// inside some other checkout must not take that checkout's commit).
fn git_commit() -> Option<(String, String)> {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    git(&dir, &["ls-files", "--error-unmatch", "Cargo.toml"])?;
    // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it names (a commit), and
    // packed-refs (a branch that was packed). Only files that exist, since cargo reruns the
    // script on every build for a missing one.
    for path in ["HEAD", "packed-refs"]
        .into_iter()
        .filter_map(|name| git(&dir, &["rev-parse", "--git-path", name]))
        .chain(
            git(&dir, &["symbolic-ref", "-q", "HEAD"])
                .and_then(|branch| git(&dir, &["rev-parse", "--git-path", &branch])),
        )
    {
        let path = absolute(&dir, &path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    let line = git(&dir, &["log", "-1", "--format=%h %cs", "--abbrev=7"])?;
    let (hash, date) = line.split_once(' ')?;
    Some((short(hash).to_owned(), date.to_owned()))
}

/// Seven characters, as `git log --abbrev=7` gives them.
fn short(hash: &str) -> &str {
    hash.get(..7).unwrap_or(hash)
}

/// git's relative paths are relative to the directory it ran in.
fn absolute(dir: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

/// The trimmed standard output of a successful `git <args>` in `dir`.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
