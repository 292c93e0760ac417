//! Running `sunpeak build` in a project: ours (the Rust binary) or the npm package's
//! (`npx sunpeak build`, the reference).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// Which `sunpeak build` to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builder {
    /// The npm package's CLI from the project's `node_modules`: `npx --no sunpeak build`.
    Reference,
    /// Our binary: `<path> build`.
    Ours(PathBuf),
}

impl fmt::Display for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Builder::Reference => f.write_str("npx sunpeak build"),
            Builder::Ours(bin) => write!(f, "{} build", bin.display()),
        }
    }
}

impl Builder {
    /// The command that builds the project in `dir`.
    pub fn command(&self, dir: &Path) -> Command {
        let mut cmd = match self {
            Builder::Reference => {
                let mut cmd = Command::new("npx");
                // `--no`: never download; the project's installed sunpeak is the reference.
                cmd.args(["--no", "sunpeak", "build"]);
                cmd
            }
            Builder::Ours(bin) => {
                let mut cmd = Command::new(bin);
                cmd.arg("build");
                cmd
            }
        };
        cmd.current_dir(dir).stdin(Stdio::null());
        cmd
    }
}

/// The outcome of one build.
#[derive(Debug)]
pub struct BuildRun {
    /// What ran.
    pub builder: Builder,
    /// Exit status, stdout and stderr.
    pub output: Output,
    /// Wall time.
    pub elapsed: Duration,
}

impl BuildRun {
    /// Whether the build exited 0.
    pub fn success(&self) -> bool {
        self.output.status.success()
    }

    /// A message for a failed build: the command, its status and the end of its output.
    pub fn failure_message(&self) -> String {
        format!(
            "`{}` failed ({}).\n--- stdout (last 40 lines) ---\n{}\n--- stderr (last 40 lines) ---\n{}",
            self.builder,
            self.output.status,
            tail(&String::from_utf8_lossy(&self.output.stdout), 40),
            tail(&String::from_utf8_lossy(&self.output.stderr), 40),
        )
    }
}

/// Removes `dist/` and `.tmp/` in `dir` (what a clean build starts from).
pub fn clean(dir: &Path) -> Result<()> {
    for sub in ["dist", ".tmp"] {
        let path = dir.join(sub);
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

/// Cleans `dir`, then runs `builder` there and captures its output. Fails only when the
/// command cannot be started; a failed build is reported through [`BuildRun::success`].
pub fn run(builder: &Builder, dir: &Path) -> Result<BuildRun> {
    clean(dir)?;
    let start = Instant::now();
    let output = builder
        .command(dir)
        .output()
        .with_context(|| format!("could not start `{builder}` in {}", dir.display()))?;
    Ok(BuildRun {
        builder: builder.clone(),
        output,
        elapsed: start.elapsed(),
    })
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
