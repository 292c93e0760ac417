//! `cargo xtask test`: everything CI runs, in order, stopping at the first failure.
//!
//! 1. `fmt`: `cargo fmt --all -- --check`
//! 2. `clippy`: `cargo clippy --workspace --all-targets --keep-going -- -D warnings`
//! 3. `doc`: `cargo doc --workspace --no-deps --keep-going` with `RUSTDOCFLAGS=-D warnings`
//! 4. `test`: `cargo build --workspace --release --all-targets` (the test build plus the real
//!    binaries, with one set of dependency features), then `cargo test --workspace --release`
//!    (unit, integration and end-to-end tests) with `SUNPEAK_BIN` pointing at that build
//! 5. `conformance`: the conformance server against the official MCP conformance suite (legacy
//!    and 2026-07-28 requirements) and the TypeScript and Python SDK clients in both eras, with
//!    an elicitation round trip, stateful and stateless (see `conformance.rs`)
//!
//! Then a summary of every step with its duration.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::conformance::{self, Target};
use crate::report::Report;
use crate::{paths, proc};

/// One step of `cargo xtask test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Step {
    /// `cargo fmt --check`.
    Fmt,
    /// `cargo clippy -D warnings`.
    Clippy,
    /// `cargo doc` without warnings.
    Doc,
    /// `cargo test --workspace --release`.
    Test,
    /// The conformance suite and SDK clients against the conformance server.
    Conformance,
}

/// The `sunpeak` binary (package `sunpeak-cli`).
const SUNPEAK_BIN: &str = "sunpeak";

const ALL_STEPS: [Step; 5] = [
    Step::Fmt,
    Step::Clippy,
    Step::Doc,
    Step::Test,
    Step::Conformance,
];

/// Flags of `cargo xtask test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Skip fmt, clippy and doc (for quick local runs; CI runs them).
    #[arg(long)]
    skip_lint: bool,
    /// Run only these steps (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Step>,
    /// Skip these steps (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    skip: Vec<Step>,
    /// Run the conformance step against the shared reference `fixture-server.mjs` instead of our
    /// conformance server, to check the orchestration itself.
    #[arg(
        long,
        hide = true,
        env = "SUNPEAK_CONFORMANCE_REFERENCE",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    conformance_reference: bool,
}

impl TestArgs {
    fn wants(&self, step: Step) -> bool {
        let lint = matches!(step, Step::Fmt | Step::Clippy | Step::Doc);
        (self.only.is_empty() || self.only.contains(&step))
            && !self.skip.contains(&step)
            && !(self.skip_lint && lint)
    }
}

/// Runs `cargo xtask test`.
pub fn run(args: TestArgs) -> Result<()> {
    let start = Instant::now();
    let work = work_dir()?;
    println!(
        "cargo xtask test: logs and conformance results in {}",
        work.display()
    );
    let mut report = Report::default();
    let result = run_steps(&args, &mut report, &work);
    report.print_summary(start.elapsed().as_secs_f64());
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        println!("logs and conformance results kept in {}", work.display());
    }
    result
}

fn run_steps(args: &TestArgs, report: &mut Report, work: &Path) -> Result<()> {
    // Binaries from the workspace build of the test step, by name.
    let built = &mut HashMap::new();
    for step in ALL_STEPS {
        if !args.wants(step) {
            continue;
        }
        match step {
            Step::Fmt => report.step("fmt", || {
                proc::run(cargo().args(["fmt", "--all", "--", "--check"]))
                    .context("code is not formatted: run `cargo fmt --all`")?;
                Ok(String::new())
            })?,
            Step::Clippy => report.step("clippy", || {
                // --keep-going: report every crate's lints in one run, not only the first's.
                proc::run(cargo().args([
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--keep-going",
                    "--",
                    "-D",
                    "warnings",
                ]))?;
                Ok(String::new())
            })?,
            Step::Doc => report.step("doc", || {
                let flags = match std::env::var("RUSTDOCFLAGS") {
                    Ok(flags) if !flags.trim().is_empty() => format!("{flags} -D warnings"),
                    _ => "-D warnings".to_string(),
                };
                proc::run(
                    cargo()
                        .args(["doc", "--workspace", "--no-deps", "--keep-going"])
                        .env("RUSTDOCFLAGS", flags),
                )
                .context("the docs have warnings (RUSTDOCFLAGS=-D warnings)")?;
                Ok(String::new())
            })?,
            Step::Test => {
                report.step("build (release, all targets)", || {
                    *built = proc::cargo_build_workspace(&[SUNPEAK_BIN, conformance::SERVER_BIN])?;
                    Ok(String::new())
                })?;
                report.step("test", || cargo_test(built.get(SUNPEAK_BIN)))?;
            }
            Step::Conformance => {
                let target = if args.conformance_reference {
                    println!("\nconformance: against the REFERENCE fixture server, not ours");
                    Target::Reference
                } else {
                    Target::Ours
                };
                let server = built.get(conformance::SERVER_BIN).cloned();
                conformance::run(report, target, server, work)?;
            }
        }
    }
    Ok(())
}

/// `cargo test --workspace --release`, counting the results of every test binary. The
/// end-to-end tests get the `sunpeak` binary just built (`SUNPEAK_BIN`) unless one is set, so
/// that they do not build it again with other dependency features.
fn cargo_test(sunpeak: Option<&PathBuf>) -> Result<String> {
    let mut totals = [0u64; 3]; // passed, failed, ignored
    let mut binaries = 0;
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--release"]);
    if let Some(bin) = sunpeak
        && std::env::var_os("SUNPEAK_BIN").is_none()
    {
        cmd.env("SUNPEAK_BIN", bin);
    }
    proc::run_tee(&mut cmd, |line| {
        if let Some(counts) = parse_test_result(line) {
            binaries += 1;
            for (total, count) in totals.iter_mut().zip(counts) {
                *total += count;
            }
        }
    })?;
    let [passed, failed, ignored] = totals;
    Ok(format!(
        "{passed} passed, {failed} failed, {ignored} ignored in {binaries} test binaries"
    ))
}

/// `test result: ok. 5 passed; 0 failed; 1 ignored; ...` → `[5, 0, 1]`.
fn parse_test_result(line: &str) -> Option<[u64; 3]> {
    let rest = line.strip_prefix("test result: ")?;
    let mut counts = [None; 3];
    for part in rest.split([';', '.']) {
        let mut words = part.split_whitespace();
        let (Some(n), Some(what)) = (words.next(), words.next()) else {
            continue;
        };
        let slot = match what {
            "passed" => 0,
            "failed" => 1,
            "ignored" => 2,
            _ => continue,
        };
        counts[slot] = n.parse().ok();
    }
    Some([counts[0]?, counts[1]?, counts[2].unwrap_or(0)])
}

/// A cargo command in the workspace root, with `SUNPEAK_SHARED_DIR` set for the tests when the
/// shared folder can be found.
fn cargo() -> Command {
    let mut cmd = Command::new(paths::cargo());
    cmd.current_dir(paths::workspace_root());
    if let Ok(shared) = paths::shared_dir() {
        cmd.env("SUNPEAK_SHARED_DIR", shared);
    }
    cmd
}

/// A fresh directory for server logs and conformance results of this run.
fn work_dir() -> Result<PathBuf> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let dir =
        std::env::temp_dir().join(format!("sunpeak-xtask-test-{stamp}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::parse_test_result;

    #[test]
    fn parses_cargo_test_result_lines() {
        let line = "test result: ok. 12 passed; 0 failed; 3 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(parse_test_result(line), Some([12, 0, 3]));
        let line = "test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!(parse_test_result(line), Some([1, 2, 0]));
        assert_eq!(parse_test_result("running 3 tests"), None);
    }
}
