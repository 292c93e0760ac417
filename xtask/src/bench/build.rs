//! `cargo xtask bench build`: our `sunpeak build` against `npx sunpeak build` on the template
//! app that ships inside the npm package `sunpeak` (4 resources, 7 tools, `server.ts`).
//!
//! Two copies of the template (prepared by `tests/support/prepare-template.sh`), one per
//! builder, so that neither sees the other's output. After `--warmup` unmeasured runs of each,
//! `--iterations` measured rounds alternate which builder goes first. Every run starts from a
//! clean project (`dist/` and `.tmp/` removed, not timed). Reported per builder: median, min
//! and max wall time; median peak RSS of the whole process tree (sampled from `/proc`) and of
//! the largest single process (GNU time); then the ratios. See [`measure`] for the method.
//! Results also go to `<work>/results.json`.
//!
//! Ours is the binary users get: built with the `dist` profile of the root `Cargo.toml`
//! (thin LTO, one codegen unit, stripped), not `release` (which CI's tests use because it
//! compiles faster). The first run after a change pays that build (several minutes).

mod measure;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::{paths, proc};
use measure::Measurement;

/// The speed goal of issue 3 (product.md asks for 10x in the long run).
const GOAL_SPEEDUP: f64 = 3.0;

/// Flags of `cargo xtask bench build`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Measured runs of each builder.
    #[arg(long, short = 'n', default_value_t = 5)]
    pub iterations: usize,
    /// Unmeasured warm-up runs of each builder first (file cache, Node's compile cache).
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Our `sunpeak` binary (default: built with `cargo build --profile <PROFILE> -p
    /// sunpeak-cli`).
    #[arg(long, env = "SUNPEAK_BIN")]
    pub bin: Option<PathBuf>,
    /// The cargo profile our binary is built with when `--bin` is not given: `dist` is what
    /// ships; `release` builds faster.
    #[arg(long, default_value = "dist")]
    pub profile: String,
    /// Measure only `npx sunpeak build` (e.g. while ours cannot build the template yet).
    #[arg(long)]
    pub reference_only: bool,
    /// Where the two template copies and logs go [default: target/bench-build].
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
}

/// One side of the comparison.
struct Builder {
    name: &'static str,
    program: PathBuf,
    args: Vec<&'static str>,
    dir: PathBuf,
    runs: Vec<Measurement>,
}

/// Runs the benchmark.
pub fn run(args: Args) -> Result<()> {
    if args.iterations == 0 {
        bail!("--iterations must be at least 1");
    }
    let ours_bin = if args.reference_only {
        None
    } else {
        Some(match &args.bin {
            Some(bin) => bin.clone(),
            None => build_ours(&args.profile)?,
        })
    };
    let template = prepare_template()?;
    let work = args
        .work_dir
        .clone()
        .unwrap_or_else(|| target_dir().join("bench-build"));
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;

    let mut builders = Vec::new();
    if let Some(bin) = &ours_bin {
        builders.push(Builder {
            name: "sunpeak-rs",
            program: bin.clone(),
            args: vec!["build"],
            dir: copy_project(&template, &work.join("ours"))?,
            runs: Vec::new(),
        });
    }
    builders.push(Builder {
        name: "npx sunpeak",
        program: PathBuf::from("npx"),
        // `--no`: never download; the project's installed sunpeak is the reference.
        args: vec!["--no", "sunpeak", "build"],
        dir: copy_project(&template, &work.join("reference"))?,
        runs: Vec::new(),
    });

    let load_before = load_average();
    println!(
        "machine: {} CPUs, load average {load_before}",
        thread_count()
    );
    if let Some(bin) = &ours_bin {
        println!("ours: {}", bin.display());
    }
    for b in &builders {
        for i in 0..args.warmup {
            let m = run_once(b, &work, &format!("warmup{i}"))?;
            check_output(b, &m)?;
            println!("warm-up {:<12} {:>7.3} s", b.name, m.wall.as_secs_f64());
        }
    }
    for round in 0..args.iterations {
        // Alternate who goes first, so that neither always runs on a cache the other warmed.
        let order: Vec<usize> = if round % 2 == 0 {
            (0..builders.len()).collect()
        } else {
            (0..builders.len()).rev().collect()
        };
        for i in order {
            let m = run_once(&builders[i], &work, &format!("run{round}"))?;
            println!(
                "round {}/{} {:<12} {:>7.3} s  tree peak {:>7.1} MiB",
                round + 1,
                args.iterations,
                builders[i].name,
                m.wall.as_secs_f64(),
                mib(m.tree_peak_kib)
            );
            builders[i].runs.push(m);
        }
    }
    let table = summary(&builders, args.iterations);
    println!("\n{table}");
    let load_after = load_average();
    let busiest = [&load_before, &load_after]
        .iter()
        .filter_map(|l| l.split_whitespace().next()?.parse::<f64>().ok())
        .fold(0.0, f64::max);
    if busiest > thread_count() as f64 {
        println!(
            "WARNING: the machine was busy (load average {load_before} before, {load_after} after, {} CPUs): wall times are inflated; the CPU-time ratio is the steadier figure",
            thread_count()
        );
    }
    for b in &builders {
        print_phases(b);
    }
    if ours_bin.is_some() {
        print_debug_phases(&builders[0], &work)?;
    }
    let results = json!({
        "ours_binary": ours_bin.as_ref().map(|b| b.display().to_string()),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "iterations": args.iterations,
        "warmup": args.warmup,
        "sample_interval_ms": measure::SAMPLE_EVERY.as_millis() as u64,
        "builders": builders.iter().map(|b| json!({
            "name": b.name,
            "wall_s": b.runs.iter().map(|m| m.wall.as_secs_f64()).collect::<Vec<_>>(),
            "tree_peak_kib": b.runs.iter().map(|m| m.tree_peak_kib).collect::<Vec<_>>(),
            "largest_process_kib": b.runs.iter().map(|m| m.largest_process_kib).collect::<Vec<_>>(),
            "cpu_s": b.runs.iter().map(|m| m.cpu.map(|c| c.as_secs_f64())).collect::<Vec<_>>(),
            "rss_samples": b.runs.iter().map(|m| m.samples).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let results_file = work.join("results.json");
    std::fs::write(&results_file, serde_json::to_string_pretty(&results)?)
        .with_context(|| format!("writing {}", results_file.display()))?;
    println!("results: {}", results_file.display());
    Ok(())
}

/// `cargo build --profile <profile> -p sunpeak-cli --bin sunpeak`; returns the binary.
fn build_ours(profile: &str) -> Result<PathBuf> {
    let mut cmd = Command::new(paths::cargo());
    cmd.current_dir(paths::workspace_root()).args([
        "build",
        "--profile",
        profile,
        "-p",
        "sunpeak-cli",
        "--bin",
        "sunpeak",
    ]);
    proc::run(&mut cmd)?;
    // cargo puts the `dev` profile into `debug/`; every other profile into its own name.
    let dir = if profile == "dev" { "debug" } else { profile };
    let bin = target_dir()
        .join(dir)
        .join(format!("sunpeak{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        bail!(
            "`cargo build --profile {profile}` did not produce {}",
            bin.display()
        );
    }
    Ok(bin)
}

/// Cleans the project and runs one build, failing with its output when it fails.
fn run_once(b: &Builder, work: &Path, tag: &str) -> Result<Measurement> {
    run_once_with(b, work, tag, &[])
}

fn run_once_with(b: &Builder, work: &Path, tag: &str, env: &[(&str, &str)]) -> Result<Measurement> {
    for sub in ["dist", ".tmp"] {
        let path = b.dir.join(sub);
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("removing {}", path.display()))?;
        }
    }
    let logs = work.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let slug = b.name.replace(' ', "-");
    let m = measure::run(
        &b.program,
        &b.args,
        env,
        &b.dir,
        &logs.join(format!("{slug}-{tag}")),
    )?;
    if !m.status.success() {
        bail!(
            "`{} {}` failed in {} ({}).\n--- stderr ---\n{}",
            b.program.display(),
            b.args.join(" "),
            b.dir.display(),
            m.status,
            tail(&std::fs::read_to_string(&m.stderr).unwrap_or_default(), 30)
        );
    }
    Ok(m)
}

/// A build that exits 0 without writing the resources would make a meaningless benchmark.
fn check_output(b: &Builder, m: &Measurement) -> Result<()> {
    let expected = ["albums", "carousel", "map", "review"]
        .map(|k| format!("{k}/{k}.html"))
        .into_iter()
        .chain(["tools/show-albums.js".to_string(), "server.js".to_string()]);
    let missing: Vec<String> = expected
        .filter(|rel| !b.dir.join("dist").join(rel).is_file())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} exited 0 but dist/ lacks {missing:?} (stdout: {})",
            b.name,
            m.stdout.display()
        );
    }
    Ok(())
}

fn summary(builders: &[Builder], iterations: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "sunpeak build on the template (4 resources, 7 tools, server.ts): {iterations} alternating runs each, clean dist/ and .tmp/ before every run"
    );
    let _ = writeln!(
        out,
        "| builder | wall median | wall min | wall max | CPU user+sys (median) | peak RSS, process tree (median) | peak RSS, largest process (median) |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for b in builders {
        let walls: Vec<f64> = b.runs.iter().map(|m| m.wall.as_secs_f64()).collect();
        let _ = writeln!(
            out,
            "| {} | {:.3} s | {:.3} s | {:.3} s | {} | {:.1} MiB | {} |",
            b.name,
            median(&walls),
            walls.iter().copied().fold(f64::INFINITY, f64::min),
            walls.iter().copied().fold(0.0, f64::max),
            cpu_median(b)
                .map(|c| format!("{c:.3} s"))
                .unwrap_or_else(|| "n/a".into()),
            mib(median_u64(b.runs.iter().map(|m| m.tree_peak_kib))),
            largest_median(b)
                .map(|k| format!("{:.1} MiB", mib(k)))
                .unwrap_or_else(|| "n/a (no /usr/bin/time)".into()),
        );
    }
    if let [ours, reference] = builders {
        let wall = |b: &Builder| {
            median(
                &b.runs
                    .iter()
                    .map(|m| m.wall.as_secs_f64())
                    .collect::<Vec<_>>(),
            )
        };
        let tree = |b: &Builder| median_u64(b.runs.iter().map(|m| m.tree_peak_kib)) as f64;
        let speedup = wall(reference) / wall(ours);
        let largest = match (largest_median(reference), largest_median(ours)) {
            (Some(r), Some(o)) if o > 0 => format!("{:.1}x less", r as f64 / o as f64),
            _ => "n/a".into(),
        };
        let cpu = match (cpu_median(reference), cpu_median(ours)) {
            (Some(r), Some(o)) if o > 0.0 => format!("{:.1}x less", r / o),
            _ => "n/a".into(),
        };
        let _ = writeln!(
            out,
            "| ratio (npx / ours) | **{speedup:.1}x faster** | | | {cpu} | {:.1}x less | {largest} |",
            tree(reference) / tree(ours).max(1.0)
        );
        let _ = writeln!(
            out,
            "\ngoal (issue 3): at least {GOAL_SPEEDUP}x faster: {}",
            if speedup >= GOAL_SPEEDUP {
                "MET"
            } else {
                "NOT MET"
            }
        );
    }
    let _ = write!(
        out,
        "peak RSS, process tree: VmRSS summed over the live process tree, sampled every {} ms from /proc; largest process: ru_maxrss via /usr/bin/time -f %M; CPU: %U + %S of the whole tree",
        measure::SAMPLE_EVERY.as_millis()
    );
    out
}

/// Lines of the median run's output that carry a duration: per-phase numbers as each builder
/// reports them (ours: one line per resource and tool; Vite: "built in …ms").
fn print_phases(b: &Builder) {
    let mut runs: Vec<&Measurement> = b.runs.iter().collect();
    runs.sort_by_key(|m| m.wall);
    let Some(m) = runs.get(runs.len() / 2) else {
        return;
    };
    let text = std::fs::read_to_string(&m.stdout).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| has_duration(l)).collect();
    if lines.is_empty() {
        println!("\n{}: no per-phase times in its output", b.name);
    } else {
        println!(
            "\n{} per phase (median run, {:.3} s):\n  {}",
            b.name,
            m.wall.as_secs_f64(),
            lines.join("\n  ")
        );
    }
}

/// One more, unmeasured run of ours with `RUST_LOG=app_bundler=debug`, which makes the bundler
/// log per-phase timings (bundle, CSS, total per resource) on stderr; prints those lines.
fn print_debug_phases(ours: &Builder, work: &Path) -> Result<()> {
    let env = [("RUST_LOG", "app_bundler=debug"), ("NO_COLOR", "1")];
    let m = run_once_with(ours, work, "phases", &env)?;
    let stderr = std::fs::read_to_string(&m.stderr).unwrap_or_default();
    let lines: Vec<String> = stderr
        .lines()
        .map(strip_ansi)
        .filter(|l| l.contains("_ms="))
        .map(|l| match l.find("app_bundler") {
            Some(at) => l[at..].to_string(),
            None => l,
        })
        .collect();
    if lines.is_empty() {
        println!(
            "
{}: no phase timings under RUST_LOG=app_bundler=debug",
            ours.name
        );
    } else {
        println!(
            "\n{} phases (RUST_LOG=app_bundler=debug, one extra unmeasured run, {:.3} s):\n  {}",
            ours.name,
            m.wall.as_secs_f64(),
            lines.join("\n  ")
        );
    }
    Ok(())
}

/// `line` without ANSI escape sequences (`ESC [ … letter`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `line` contains a number directly followed by `ms` or `s` (e.g. `12ms`, `0.4 s`).
fn has_duration(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.iter().enumerate().any(|(i, b)| {
        // A number starts here: a digit not preceded by a letter, digit or dot (so the `6s`
        // inside `ui://albums-mwwetv6s` is not a duration).
        let starts_number =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.');
        if !b.is_ascii_digit() || !starts_number {
            return false;
        }
        let mut j = i + 1;
        while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        let rest = &line[j..];
        (rest.starts_with("ms") || rest.starts_with('s'))
            && !rest[if rest.starts_with("ms") { 2 } else { 1 }..]
                .starts_with(|c: char| c.is_ascii_alphabetic())
    })
}

fn cpu_median(b: &Builder) -> Option<f64> {
    let values: Vec<f64> = b
        .runs
        .iter()
        .filter_map(|m| m.cpu.map(|c| c.as_secs_f64()))
        .collect();
    (values.len() == b.runs.len()).then(|| median(&values))
}

fn largest_median(b: &Builder) -> Option<u64> {
    let values: Vec<u64> = b
        .runs
        .iter()
        .filter_map(|m| m.largest_process_kib)
        .collect();
    (values.len() == b.runs.len()).then(|| median_u64(values.into_iter()))
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn median_u64(values: impl Iterator<Item = u64>) -> u64 {
    let v: Vec<f64> = values.map(|x| x as f64).collect();
    median(&v).round() as u64
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` prints them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn thread_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `$CARGO_TARGET_DIR`, else `<workspace>/target`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| paths::workspace_root().join("target"))
}

/// The cached template copy from `tests/support/prepare-template.sh` (read-only for us).
fn prepare_template() -> Result<PathBuf> {
    let script = paths::workspace_root().join("tests/support/prepare-template.sh");
    let out = proc::output(Command::new("bash").arg(&script))?;
    if !out.status.success() {
        bail!(
            "{} failed ({}):\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn copy_project(src: &Path, dest: &Path) -> Result<PathBuf> {
    proc::run(Command::new("cp").arg("-a").arg(src).arg(dest))?;
    Ok(dest.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median_u64([5, 1, 9].into_iter()), 5);
    }

    #[test]
    fn strips_ansi() {
        assert_eq!(
            strip_ansi("\u{1b}[2mapp\u{1b}[0m x\u{1b}[3mbundle_ms\u{1b}[0m=1"),
            "app xbundle_ms=1"
        );
    }

    #[test]
    fn finds_durations() {
        assert!(has_duration("✓ Built albums/albums.html (12 ms)"));
        assert!(has_duration("✓ built in 301ms"));
        assert!(has_duration("albums 0.19s"));
        assert!(!has_duration("[1/4] Building albums..."));
        assert!(!has_duration("✓ Compiled tools/show-albums.js"));
        assert!(!has_duration("2 seconds"));
        assert!(!has_duration("4 resources"));
        assert!(!has_duration(
            "✓ Generated albums/albums.json (uri: ui://albums-mwwetv6s)"
        ));
    }
}
