//! The host's private directory: the worker script and the workers' sockets. Removed on drop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::error::NodeHostError;

/// The worker script, embedded in the binary.
const WORKER_SCRIPT: &str = include_str!("../../js/worker.mjs");

pub(crate) struct RuntimeDir {
    path: PathBuf,
    script: PathBuf,
}

impl RuntimeDir {
    /// Creates `<tmp>/sunpeak-rs-node-<pid>-<n>` (mode 0700) with the worker script in it.
    pub fn create() -> Result<Self, NodeHostError> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let mut base = std::env::temp_dir();
        // Socket paths must fit in sockaddr_un (104 bytes on macOS, 108 on Linux).
        if base.as_os_str().len() > 64 {
            base = PathBuf::from("/tmp");
        }
        remove_stale(&base);
        let mut attempts = 0;
        let path = loop {
            let candidate = base.join(format!(
                "sunpeak-rs-node-{}-{}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            ));
            match create_private_dir(&candidate) {
                Ok(()) => break candidate,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 100 => {
                    attempts += 1;
                }
                Err(source) => {
                    return Err(NodeHostError::Io {
                        what: "could not create the tool host's runtime directory",
                        path: candidate,
                        source,
                    });
                }
            }
        };
        let dir = RuntimeDir {
            script: path.join("worker.mjs"),
            path,
        };
        std::fs::write(&dir.script, WORKER_SCRIPT).map_err(|source| NodeHostError::Io {
            what: "could not write the worker script",
            path: dir.script.clone(),
            source,
        })?;
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn script(&self) -> &Path {
        &self.script
    }
}

impl Drop for RuntimeDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Removes the directories of hosts whose process is gone (killed without cleaning up). Only
/// where `/proc` tells which processes exist.
fn remove_stale(base: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("sunpeak-rs-node-"))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, seq)| seq.parse::<u32>().ok().and(pid.parse::<u32>().ok()))
        else {
            continue;
        };
        if pid != own && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(unix)]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(path)
}

#[cfg(not(unix))]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_is_private_and_removed_on_drop() {
        let dir = RuntimeDir::create().unwrap();
        let path = dir.path().to_path_buf();
        assert!(dir.script().is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn directories_of_dead_hosts_are_removed() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let base =
            std::env::temp_dir().join(format!("sunpeak-rs-stale-test-{}", std::process::id()));
        let dead = base.join("sunpeak-rs-node-4000000000-0"); // above any pid_max
        let alive = base.join(format!("sunpeak-rs-node-{}-0", std::process::id()));
        let other = base.join("sunpeak-rs-node-test-1-2");
        for d in [&dead, &alive, &other] {
            std::fs::create_dir_all(d).unwrap();
        }
        remove_stale(&base);
        assert!(!dead.exists());
        assert!(alive.exists());
        assert!(other.exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
