//! Measuring one command: wall time and peak memory of its whole process tree.
//!
//! Method (Linux only):
//! - **Wall time**: from `spawn` to `wait` returning, on the main thread.
//! - **Peak RSS of the tree**: a sampler thread walks the tree every [`SAMPLE_EVERY`] through
//!   `/proc/<pid>/task/<tid>/children` and sums `VmRSS` from `/proc/<pid>/status` over every live
//!   process in it; the peak is the largest sum seen. It catches every process that lives
//!   longer than the sampling interval (Vite, esbuild's service, our worker processes). Shared
//!   pages (libraries, the same file mapped twice) are counted once per process, as `ps`/`top`
//!   add them up.
//! - **Largest single process**: GNU time's `%M` (`/usr/bin/time`, Debian package `time`): the
//!   kernel's `ru_maxrss` over the child and every descendant it waited for, i.e. the peak of
//!   the biggest process, exact but not a sum. Absent when `/usr/bin/time` is missing.
//! - **CPU time**: GNU time's `%U + %S`, user plus system time of the whole tree (every process
//!   that was waited for). On a busy machine it varies much less than wall time.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How often the process tree is sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(5);

const GNU_TIME: &str = "/usr/bin/time";

/// What one run cost.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Exit status of the command.
    pub status: ExitStatus,
    /// Wall time.
    pub wall: Duration,
    /// Peak of the summed RSS of the process tree, in KiB (sampled).
    pub tree_peak_kib: u64,
    /// Peak RSS of the largest single process, in KiB (`ru_maxrss` via GNU time), if available.
    pub largest_process_kib: Option<u64>,
    /// User + system CPU time of the whole tree (GNU time), if available.
    pub cpu: Option<Duration>,
    /// How many samples the tree walk took.
    pub samples: u64,
    /// The file that received stdout.
    pub stdout: PathBuf,
    /// The file that received stderr.
    pub stderr: PathBuf,
}

/// Runs `program args…` in `dir` with extra environment `env` and stdout/stderr going to
/// `<log_prefix>.out` / `.err`.
pub fn run(
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    dir: &Path,
    log_prefix: &Path,
) -> Result<Measurement> {
    let stdout = log_prefix.with_extension("out");
    let stderr = log_prefix.with_extension("err");
    let maxrss_file = log_prefix.with_extension("maxrss");
    let _ = std::fs::remove_file(&maxrss_file);
    let use_time = Path::new(GNU_TIME).is_file();
    let mut cmd = if use_time {
        let mut cmd = Command::new(GNU_TIME);
        cmd.arg("-f")
            .arg("%M %U %S")
            .arg("-o")
            .arg(&maxrss_file)
            .arg(program);
        cmd
    } else {
        Command::new(program)
    };
    cmd.args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout).with_context(|| format!("creating {}", stdout.display()))?)
        .stderr(File::create(&stderr).with_context(|| format!("creating {}", stderr.display()))?);

    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start {}", program.display()))?;
    let root = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            let (mut peak, mut samples) = (0u64, 0u64);
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(tree_rss_kib(root));
                samples += 1;
                thread::sleep(SAMPLE_EVERY);
            }
            (peak, samples)
        })
    };
    let status = child
        .wait()
        .context("waiting for the benchmarked command")?;
    let wall = start.elapsed();
    done.store(true, Ordering::Relaxed);
    let (tree_peak_kib, samples) = sampler.join().unwrap_or((0, 0));
    // GNU time writes "Command exited with non-zero status N" first when the command fails.
    let time_line = std::fs::read_to_string(&maxrss_file)
        .ok()
        .and_then(|text| text.lines().last().map(str::to_string))
        .unwrap_or_default();
    let fields: Vec<&str> = time_line.split_whitespace().collect();
    let largest_process_kib = fields.first().and_then(|f| f.parse().ok());
    let cpu = match (fields.get(1), fields.get(2)) {
        (Some(user), Some(sys)) => match (user.parse::<f64>(), sys.parse::<f64>()) {
            (Ok(u), Ok(s)) if u >= 0.0 && s >= 0.0 => Some(Duration::from_secs_f64(u + s)),
            _ => None,
        },
        _ => None,
    };
    Ok(Measurement {
        status,
        wall,
        tree_peak_kib,
        largest_process_kib,
        cpu,
        samples,
        stdout,
        stderr,
    })
}

/// Sum of `VmRSS` (KiB) over `root` and all its descendants that are alive right now.
fn tree_rss_kib(root: u32) -> u64 {
    let mut total = 0;
    let mut stack = vec![root];
    let mut seen = 0usize;
    while let Some(pid) = stack.pop() {
        seen += 1;
        if seen > 10_000 {
            break; // a runaway tree; the number is meaningless anyway
        }
        total += vm_rss_kib(pid).unwrap_or(0);
        stack.extend(children(pid));
    }
    total
}

fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_child_tree() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("xtask-measure-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        // A shell with two children.
        let m = run(
            Path::new("/bin/sh"),
            &["-c", "sleep 0.2 & sleep 0.2; wait"],
            &[],
            &dir,
            &dir.join("run"),
        )?;
        let _ = std::fs::remove_dir_all(&dir);
        assert!(m.status.success());
        assert!(m.wall >= Duration::from_millis(200), "{:?}", m.wall);
        assert!(m.samples > 5, "{} samples", m.samples);
        assert!(m.tree_peak_kib > 0);
        if Path::new(GNU_TIME).is_file() {
            assert!(m.largest_process_kib.is_some_and(|k| k > 0), "{m:?}");
            assert!(m.cpu.is_some(), "{m:?}");
        }
        Ok(())
    }
}
