//! A build writes into a fresh directory next to the output directory and swaps it in only when
//! everything succeeded, so a failed build leaves the old `dist/` untouched (sunpeak deletes
//! `dist/` first).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::BuildError;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The staging directory; removed on drop unless committed.
#[derive(Debug)]
pub(crate) struct Staging {
    dir: PathBuf,
    out_dir: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates `<parent>/.<out>.sunpeak-<pid>-<n>` for `out_dir`.
    pub(crate) fn create(out_dir: &Path) -> Result<Staging, BuildError> {
        let parent = out_dir.parent().unwrap_or(Path::new("."));
        let name = out_dir
            .file_name()
            .map_or_else(|| "dist".into(), |n| n.to_string_lossy().into_owned());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = parent.join(format!(".{name}.sunpeak-{}-{n}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| BuildError::io("remove", &dir, e))?;
        }
        fs::create_dir_all(&dir).map_err(|e| BuildError::io("create directory", &dir, e))?;
        Ok(Staging {
            dir,
            out_dir: out_dir.to_owned(),
            committed: false,
        })
    }

    /// The staging directory.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `relative` inside the staging directory, creating parent directories.
    pub(crate) fn write(&self, relative: &str, contents: &[u8]) -> Result<(), BuildError> {
        let path = self.dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| BuildError::io("create directory", parent, e))?;
        }
        fs::write(&path, contents).map_err(|e| BuildError::io("write", &path, e))
    }

    /// Replaces the output directory with the staging directory. The old output is moved
    /// aside first and deleted only after the new one is in place.
    pub(crate) fn commit(mut self) -> Result<(), BuildError> {
        let old = self.dir.with_extension("old");
        let had_old = self.out_dir.exists();
        if had_old {
            fs::rename(&self.out_dir, &old)
                .map_err(|e| BuildError::io("move aside", &self.out_dir, e))?;
        }
        if let Err(e) = fs::rename(&self.dir, &self.out_dir) {
            if had_old {
                let _ = fs::rename(&old, &self.out_dir);
            }
            return Err(BuildError::io("replace", &self.out_dir, e));
        }
        self.committed = true;
        if had_old && let Err(e) = fs::remove_dir_all(&old) {
            tracing::warn!(path = %old.display(), error = %e, "could not remove the previous output");
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_root(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "app-bundler-staging-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn commit_replaces_and_drop_discards() {
        let root = temp_root("commit");
        let out = root.join("dist");
        fs::create_dir_all(out.join("old")).expect("mkdir");
        fs::write(out.join("old/x.txt"), "old").expect("write");

        let staging = Staging::create(&out).expect("create");
        staging.write("a/a.html", b"new").expect("write");
        let staged = staging.path().to_owned();
        drop(staging);
        assert!(!staged.exists(), "dropped staging is removed");
        assert!(out.join("old/x.txt").exists(), "old output untouched");

        let staging = Staging::create(&out).expect("create");
        staging.write("a/a.html", b"new").expect("write");
        staging.commit().expect("commit");
        assert_eq!(
            fs::read_to_string(out.join("a/a.html")).ok().as_deref(),
            Some("new")
        );
        assert!(!out.join("old").exists());
        let leftovers: Vec<_> = fs::read_dir(&root).expect("ls").collect();
        assert_eq!(leftovers.len(), 1, "only dist/ remains");
        let _ = fs::remove_dir_all(&root);
    }
}
