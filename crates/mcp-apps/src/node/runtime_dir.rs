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
    /// Creates `<tmp>/sunpeak-rs-<pid>-<n>` (mode 0700) with the worker script in it.
    pub fn create() -> Result<Self, NodeHostError> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let base = std::env::temp_dir();
        let mut attempts = 0;
        let path = loop {
            let candidate = base.join(format!(
                "sunpeak-rs-{}-{}",
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

#[cfg(unix)]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(path)
}

#[cfg(not(unix))]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir(path)
}
