//! Finding a usable `node`: the configured path, `SUNPEAK_NODE`, or `node` on `PATH`, version 18
//! or later.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::error::NodeHostError;

/// The oldest supported major version.
pub const MIN_NODE_MAJOR: u32 = 18;

/// A checked Node.js binary.
#[derive(Debug, Clone)]
pub struct NodeBinary {
    /// Path to run.
    pub path: PathBuf,
    /// `node --version`, e.g. `v20.11.1`.
    pub version: String,
}

/// Finds and checks the `node` to run workers with.
pub async fn find_node(explicit: Option<&Path>) -> Result<NodeBinary, NodeHostError> {
    let (path, origin) = match explicit {
        Some(p) => (p.to_path_buf(), format!("{}", p.display())),
        None => match std::env::var_os("SUNPEAK_NODE").filter(|v| !v.is_empty()) {
            Some(p) => {
                let path = PathBuf::from(&p);
                (path, format!("SUNPEAK_NODE={}", Path::new(&p).display()))
            }
            None => match search_path(std::env::var_os("PATH"), "node") {
                Some(p) => {
                    let origin = format!("{}", p.display());
                    (p, origin)
                }
                None => {
                    return Err(NodeHostError::NodeNotFound {
                        detail: "`node` was not found on PATH".to_string(),
                    });
                }
            },
        },
    };
    let output = tokio::process::Command::new(&path)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| NodeHostError::NodeNotFound {
            detail: format!("{origin} could not be run ({e})"),
        })?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    match parse_major(&version) {
        Some(major) if output.status.success() && major >= MIN_NODE_MAJOR => {
            Ok(NodeBinary { path, version })
        }
        Some(_) => Err(NodeHostError::NodeNotFound {
            detail: format!("{origin} is {version}"),
        }),
        None => Err(NodeHostError::NodeNotFound {
            detail: format!(
                "{origin} did not report a Node.js version (`--version` printed {version:?})"
            ),
        }),
    }
}

/// `v20.11.1` -> 20.
fn parse_major(version: &str) -> Option<u32> {
    version.strip_prefix('v')?.split('.').next()?.parse().ok()
}

/// The first executable `name` in the `PATH` list.
fn search_path(path: Option<OsString>, name: &str) -> Option<PathBuf> {
    std::env::split_paths(&path?)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors() {
        assert_eq!(parse_major("v20.11.1"), Some(20));
        assert_eq!(parse_major("v18.0.0"), Some(18));
        assert_eq!(parse_major("20.1.0"), None);
        assert_eq!(parse_major(""), None);
    }

    #[test]
    fn path_search_skips_missing_dirs() {
        let paths = std::env::join_paths(["/nonexistent-dir-for-test", ""]).ok();
        assert_eq!(search_path(paths, "node"), None);
        assert_eq!(search_path(None, "node"), None);
    }
}
