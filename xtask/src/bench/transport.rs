//! `cargo xtask bench transport`: the MCP transport (the conformance server, release build)
//! against a plain hyper "hello world" ([`bench-hello`](transport/hello_server.rs)) measured in
//! the same run, on loopback, with the shared load generator ([`load`]).
//!
//! Measured, at each concurrency (default 1, 16, 64 keep-alive connections):
//! - the hello-world ceiling (`GET /`);
//! - `GET /health` of the MCP server;
//! - `initialize` (stateless; and stateful, where every request opens a new session),
//!   `tools/list` and `tools/call test_simple_text`, stateless and stateful (one session per
//!   connection);
//!
//! and, on a fresh stateful server, the resident memory of `--sessions` idle sessions
//! (`initialize` + `notifications/initialized`, then nothing): `VmRSS` before and after.
//!
//! With `--rmcp`, the official Rust SDK (rmcp, `xtask/bench-rmcp`, its own workspace) serves
//! the same tool in both modes and runs the same MCP scenarios and memory measurement
//! (product.md 4: with Rust-defined tools, at least rmcp's throughput on the same calls).
//!
//! With `--rounds N` every server is restarted per round; the report shows the median of the
//! rounds, and ratios (to hello world, ours to rmcp) as the median of the per-round ratios. Results: a Markdown table on stdout, `<target>/bench-transport/results.md` and
//! `results.json`. Goals (product.md 4): `tools/list` at least half the hello-world rate,
//! `/health` within 1.5x of it, at most 4 KiB per idle session.

mod process;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::load::{self, LoadResult, RequestFactory, http_request, request_once};
use super::mcp;
use crate::{paths, proc};
use process::Process;

/// Flags of `cargo xtask bench transport`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds measured per load run.
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Seconds of unmeasured load before each run.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Concurrency levels (keep-alive connections).
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    pub concurrency: Vec<usize>,
    /// Rounds; servers restart every round, the report shows medians.
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// Idle sessions opened for the memory measurement (0 skips it).
    #[arg(long, default_value_t = 10_000)]
    pub sessions: usize,
    /// Only scenarios whose name contains one of these (comma-separated; the hello-world
    /// ceiling always runs).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// The conformance server [default: `cargo build --release -p conformance-server`].
    #[arg(long, env = "CONFORMANCE_SERVER_BIN")]
    pub server_bin: Option<PathBuf>,
    /// The hello-world server [default: `cargo build --release -p xtask --bin bench-hello`].
    #[arg(long)]
    pub hello_bin: Option<PathBuf>,
    /// Also measure the official Rust SDK (rmcp) serving the same tool (`xtask/bench-rmcp`, built
    /// on first use with `cargo build --release`; not part of the workspace).
    #[arg(long)]
    pub rmcp: bool,
    /// A prebuilt `bench-rmcp` binary (implies `--rmcp`).
    #[arg(long)]
    pub rmcp_bin: Option<PathBuf>,
    /// Where logs and results go [default: `$CARGO_TARGET_DIR/bench-transport` or `target/bench-transport`].
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
}

/// Which server a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Hello,
    Stateful,
    Stateless,
    /// MCP 2026-07-28 requests (no session) to the default (stateful) server.
    Modern,
    RmcpStateful,
    RmcpStateless,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Hello => "hyper",
            Target::Stateful => "stateful",
            Target::Stateless => "stateless",
            Target::Modern => "modern (2026-07-28)",
            Target::RmcpStateful => "rmcp stateful",
            Target::RmcpStateless => "rmcp stateless",
        }
    }

    fn is_stateful(self) -> bool {
        matches!(self, Target::Stateful | Target::RmcpStateful)
    }

    /// Our server in the same mode, for rmcp's rows.
    fn ours(self) -> Option<Target> {
        match self {
            Target::RmcpStateful => Some(Target::Stateful),
            Target::RmcpStateless => Some(Target::Stateless),
            _ => None,
        }
    }
}

/// The servers of one round (rmcp's only with `--rmcp`).
struct Servers {
    hello: Process,
    stateful: Process,
    stateless: Process,
    rmcp: Option<(Process, Process)>,
}

impl Servers {
    fn addr(&self, target: Target) -> Option<SocketAddr> {
        Some(match target {
            Target::Hello => self.hello.addr,
            Target::Stateful => self.stateful.addr,
            Target::Stateless => self.stateless.addr,
            Target::Modern => self.stateful.addr,
            Target::RmcpStateful => self.rmcp.as_ref()?.0.addr,
            Target::RmcpStateless => self.rmcp.as_ref()?.1.addr,
        })
    }
}

/// One load scenario.
struct Scenario {
    name: &'static str,
    target: Target,
    /// Whether a reply must be a JSON-RPC result (checked once before the load).
    mcp: bool,
    make: fn(SocketAddr, Target) -> Result<RequestFactory>,
}

const HELLO: &str = "hello world (GET /)";
const INIT_SESSION: &str = "initialize (new session each)";

fn scenarios() -> Vec<Scenario> {
    let s = |name, target, mcp, make| Scenario {
        name,
        target,
        mcp,
        make,
    };
    vec![
        s(HELLO, Target::Hello, false, |addr, _| {
            Ok(fixed(http_request("GET", "/", addr, &[], b"")))
        }),
        s("GET /health", Target::Stateful, false, |addr, _| {
            Ok(fixed(http_request("GET", "/health", addr, &[], b"")))
        }),
        s("tools/list", Target::Stateless, true, tools_list),
        s("tools/list", Target::RmcpStateless, true, tools_list),
        s("tools/list", Target::Stateful, true, tools_list),
        s("tools/list", Target::Modern, true, tools_list),
        s("tools/list", Target::RmcpStateful, true, tools_list),
        s(
            "tools/call test_simple_text",
            Target::Stateless,
            true,
            tools_call,
        ),
        s(
            "tools/call test_simple_text",
            Target::RmcpStateless,
            true,
            tools_call,
        ),
        s(
            "tools/call test_simple_text",
            Target::Stateful,
            true,
            tools_call,
        ),
        s(
            "tools/call test_simple_text",
            Target::Modern,
            true,
            tools_call,
        ),
        s(
            "tools/call test_simple_text",
            Target::RmcpStateful,
            true,
            tools_call,
        ),
        s("initialize", Target::Stateless, true, initialize),
        s("initialize", Target::RmcpStateless, true, initialize),
        s(INIT_SESSION, Target::Stateful, true, initialize),
        s(INIT_SESSION, Target::RmcpStateful, true, initialize),
    ]
}

fn fixed(bytes: Vec<u8>) -> RequestFactory {
    Arc::new(move |_| Ok(bytes.clone()))
}

/// `body` on every connection; stateful connections each get a session of their own.
fn per_connection(addr: SocketAddr, target: Target, body: Value) -> RequestFactory {
    Arc::new(move |_| {
        if target == Target::Modern {
            return Ok(mcp::modern_post(addr, &body, false));
        }
        let session = match target.is_stateful() {
            true => Some(mcp::new_session_once(addr)?),
            false => None,
        };
        Ok(mcp::post(addr, &body, session.as_deref(), false))
    })
}

fn tools_list(addr: SocketAddr, target: Target) -> Result<RequestFactory> {
    Ok(per_connection(
        addr,
        target,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    ))
}

fn tools_call(addr: SocketAddr, target: Target) -> Result<RequestFactory> {
    Ok(per_connection(
        addr,
        target,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "test_simple_text", "arguments": {}}}),
    ))
}

fn initialize(addr: SocketAddr, _: Target) -> Result<RequestFactory> {
    Ok(fixed(mcp::post(addr, &mcp::initialize_body(), None, false)))
}

/// One measured run.
struct Row {
    round: usize,
    scenario: &'static str,
    target: Target,
    concurrency: usize,
    result: LoadResult,
}

/// The memory measurement of one server in one round.
#[derive(Debug, Clone, Copy)]
struct Memory {
    idle_kib: u64,
    after_kib: u64,
}

impl Memory {
    /// The growth per session opened after the idle measurement (`sessions - 1` of them).
    fn bytes_per_session(self, sessions: usize) -> f64 {
        self.after_kib.saturating_sub(self.idle_kib) as f64 * 1024.0
            / sessions.saturating_sub(1).max(1) as f64
    }
}

/// The executables under measurement.
struct Bins {
    server: PathBuf,
    hello: PathBuf,
    rmcp: Option<PathBuf>,
}

/// Runs the benchmark.
pub fn run(args: Args) -> Result<()> {
    if args.rounds == 0 || args.concurrency.is_empty() {
        bail!("--rounds and --concurrency must not be empty");
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| paths::workspace_root().join("target"));
    let work = args
        .work_dir
        .clone()
        .unwrap_or_else(|| target_dir.join("bench-transport"));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let bins = Bins {
        server: match &args.server_bin {
            Some(b) => b.clone(),
            None => proc::cargo_build_bin("conformance-server", "conformance-server", true)?,
        },
        hello: match &args.hello_bin {
            Some(b) => b.clone(),
            None => proc::cargo_build_bin("xtask", "bench-hello", true)?,
        },
        rmcp: match (&args.rmcp_bin, args.rmcp) {
            (Some(b), _) => Some(b.clone()),
            (None, true) => Some(build_rmcp(&target_dir)?),
            (None, false) => None,
        },
    };
    let duration = Duration::from_secs_f64(args.duration);
    let warmup = Duration::from_secs_f64(args.warmup);
    let load_before = loadavg();
    println!(
        "machine: {} CPUs, load average {load_before}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let scenarios: Vec<Scenario> = scenarios()
        .into_iter()
        .filter(|s| bins.rmcp.is_some() || s.target.ours().is_none())
        .filter(|s| {
            s.name == HELLO
                || args.only.is_empty()
                || args.only.iter().any(|o| s.name.contains(o.as_str()))
        })
        .collect();
    let mut rows: Vec<Row> = Vec::new();
    let mut memory: Vec<(Target, Memory)> = Vec::new();
    for round in 0..args.rounds {
        println!("\n# round {} of {}", round + 1, args.rounds);
        if args.sessions > 0 {
            let mut which = vec![(Target::Stateful, &bins.server, vec!["--port", "{port}"])];
            if let Some(rmcp) = &bins.rmcp {
                which.push((Target::RmcpStateful, rmcp, vec!["{port}"]));
            }
            for (target, bin, server_args) in which {
                let m = measure_memory(bin, &server_args, &work, args.sessions)
                    .with_context(|| format!("memory of {}", target.name()))?;
                println!(
                    "memory ({}): idle {} KiB, after {} sessions {} KiB: {:.0} bytes per session",
                    target.name(),
                    m.idle_kib,
                    args.sessions,
                    m.after_kib,
                    m.bytes_per_session(args.sessions)
                );
                memory.push((target, m));
            }
        }
        let servers = start_servers(&bins, &work)?;
        for &concurrency in &args.concurrency {
            for s in &scenarios {
                let Some(addr) = servers.addr(s.target) else {
                    continue;
                };
                let factory = (s.make)(addr, s.target)?;
                verify(addr, s, &factory)?;
                let result = load::run(addr, concurrency, warmup, duration, factory)
                    .with_context(|| format!("{} {} c={concurrency}", s.name, s.target.name()))?;
                println!(
                    "{:32} {:14} c={:<3} {:>9.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  errors {}",
                    s.name,
                    s.target.name(),
                    concurrency,
                    result.rps,
                    ms(result.p50),
                    ms(result.p99),
                    result.errors
                );
                rows.push(Row {
                    round,
                    scenario: s.name,
                    target: s.target,
                    concurrency,
                    result,
                });
            }
        }
    }
    let load_after = loadavg();

    let (table, results) = report(&args, &scenarios, &rows, &memory, &load_before, &load_after);
    println!("{table}");
    std::fs::write(work.join("results.md"), &table)?;
    let out = work.join("results.json");
    std::fs::write(&out, serde_json::to_string_pretty(&results)?)?;
    println!("results: {}", out.display());
    Ok(())
}

fn start_servers(bins: &Bins, work: &Path) -> Result<Servers> {
    let hello = Process::start(
        "bench-hello",
        &bins.hello,
        &["{port}"],
        &work.join("hello.log"),
    )?;
    let stateful = Process::start(
        "conformance-server",
        &bins.server,
        &["--port", "{port}"],
        &work.join("stateful.log"),
    )?;
    let stateless = Process::start(
        "conformance-server --stateless",
        &bins.server,
        &["--port", "{port}", "--stateless"],
        &work.join("stateless.log"),
    )?;
    let rmcp = match &bins.rmcp {
        Some(bin) => Some((
            Process::start(
                "bench-rmcp",
                bin,
                &["{port}"],
                &work.join("rmcp-stateful.log"),
            )?,
            Process::start(
                "bench-rmcp --stateless",
                bin,
                &["{port}", "--stateless"],
                &work.join("rmcp-stateless.log"),
            )?,
        )),
        None => None,
    };
    Ok(Servers {
        hello,
        stateful,
        stateless,
        rmcp,
    })
}

/// Builds `xtask/bench-rmcp` (its own workspace) into `<target>/bench-rmcp`.
fn build_rmcp(target_dir: &Path) -> Result<PathBuf> {
    let mut cmd = std::process::Command::new(paths::cargo());
    cmd.current_dir(paths::workspace_root())
        .arg("build")
        .arg("--release")
        .arg("--manifest-path")
        .arg(paths::workspace_root().join("xtask/bench-rmcp/Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir.join("bench-rmcp"))
        .arg("--message-format=json-render-diagnostics")
        .stderr(std::process::Stdio::inherit());
    println!("$ {}", proc::show(&cmd));
    let out = cmd.output().context("could not start cargo")?;
    if !out.status.success() {
        bail!("building bench-rmcp failed ({})", out.status);
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "bench-rmcp")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo did not report the bench-rmcp executable")
}

/// One request with the scenario's bytes, before the load: a 200, and for MCP scenarios a
/// JSON-RPC result, so that the load never measures error replies.
fn verify(addr: SocketAddr, s: &Scenario, factory: &RequestFactory) -> Result<()> {
    let bytes = factory(usize::MAX)?;
    let reply = request_once(addr, &bytes)?;
    let what = format!("{} ({})", s.name, s.target.name());
    if s.mcp {
        mcp::expect_result(&what, &reply)?;
    } else if reply.0 != 200 {
        bail!("{what}: HTTP {}", reply.0);
    }
    Ok(())
}

/// RSS of a fresh stateful server with one session, and after `sessions` in all (idle).
fn measure_memory(
    bin: &Path,
    server_args: &[&str],
    work: &Path,
    sessions: usize,
) -> Result<Memory> {
    let server = Process::start("memory", bin, server_args, &work.join("memory.log"))?;
    // One session first, so that lazily initialised parts (the sweeper, allocator arenas of
    // the worker threads) count as idle cost, not per-session cost.
    let first = mcp::new_session_once(server.addr)?;
    std::thread::sleep(Duration::from_secs(1));
    let idle_kib = server.rss_kib()?;
    // `sessions` in all, the first included (the default cap is 10,000: one more would evict).
    let ids = mcp::open_sessions(server.addr, sessions.saturating_sub(1), 16)?;
    std::thread::sleep(Duration::from_secs(1));
    let after_kib = server.rss_kib()?;
    // The sessions are real: the first one and the oldest new one still answer.
    for id in [Some(&first), ids.first()].into_iter().flatten() {
        let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        let reply = request_once(server.addr, &mcp::post(server.addr, &list, Some(id), false))?;
        mcp::expect_result("tools/list in an idle session", &reply)?;
    }
    Ok(Memory {
        idle_kib,
        after_kib,
    })
}

/// The median over the rounds of `a`'s req/s divided by `b`'s in the same round: both were
/// measured minutes apart under the same machine load, so this is steadier than a ratio of
/// medians.
fn ratio(rows: &[Row], a: (&str, Target), b: (&str, Target), c: usize) -> Option<f64> {
    let rps = |(name, target): (&str, Target), round: usize| {
        rows.iter()
            .find(|r| {
                r.round == round && r.scenario == name && r.target == target && r.concurrency == c
            })
            .map(|r| r.result.rps)
    };
    let mut v: Vec<f64> = rows
        .iter()
        .map(|r| r.round)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter_map(|round| Some(rps(a, round)? / rps(b, round)?.max(0.001)))
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// Median of each measure over the rounds: req/s, p50 ms, p99 ms, and the summed errors.
type Medians = (f64, f64, f64, u64);

fn medians(rows: &[Row], name: &str, target: Target, c: usize) -> Option<Medians> {
    let runs: Vec<&LoadResult> = rows
        .iter()
        .filter(|r| r.scenario == name && r.target == target && r.concurrency == c)
        .map(|r| &r.result)
        .collect();
    if runs.is_empty() {
        return None;
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Some((
        med(runs.iter().map(|r| r.rps).collect()),
        med(runs.iter().map(|r| ms(r.p50)).collect()),
        med(runs.iter().map(|r| ms(r.p99)).collect()),
        runs.iter().map(|r| r.errors).sum(),
    ))
}

fn report(
    args: &Args,
    scenarios: &[Scenario],
    rows: &[Row],
    memory: &[(Target, Memory)],
    load_before: &str,
    load_after: &str,
) -> (String, Value) {
    let vs_hello = |name, target, c| ratio(rows, (name, target), (HELLO, Target::Hello), c);
    let mut t = String::new();
    let _ = writeln!(
        t,
        "\n## Transport: conformance server vs plain hyper ({} s per run, {} round(s); medians, ratios: median of the per-round ratios)\n",
        args.duration, args.rounds
    );
    let _ = writeln!(
        t,
        "Load average before: {load_before}; after: {load_after}; CPUs: {}.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let _ = writeln!(
        t,
        "| scenario | server | conc | req/s | p50 ms | p99 ms | errors | vs hello |"
    );
    let _ = writeln!(t, "|---|---|---|---|---|---|---|---|");
    let mut json_rows = Vec::new();
    for s in scenarios {
        for &c in &args.concurrency {
            let Some((rps, p50, p99, errors)) = medians(rows, s.name, s.target, c) else {
                continue;
            };
            let ratio = vs_hello(s.name, s.target, c).unwrap_or(0.0);
            let _ = writeln!(
                t,
                "| {} | {} | {c} | {rps:.0} | {p50:.3} | {p99:.3} | {errors} | {ratio:.2} |",
                s.name,
                s.target.name()
            );
            json_rows.push(json!({
                "scenario": s.name, "server": s.target.name(), "concurrency": c,
                "rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors, "vs_hello": ratio,
            }));
        }
    }
    let _ = writeln!(t, "\n| goal | conc | measured | met |\n|---|---|---|---|");
    for &c in &args.concurrency {
        for target in [Target::Stateless, Target::Stateful, Target::Modern] {
            if let Some(ratio) = vs_hello("tools/list", target, c) {
                let _ = writeln!(
                    t,
                    "| tools/list {} ≥ 0.5 × hello | {c} | {ratio:.2} | {} |",
                    target.name(),
                    yes(ratio >= 0.5)
                );
            }
        }
        if let Some(r) = vs_hello("GET /health", Target::Stateful, c) {
            let slowdown = 1.0 / r.max(0.001);
            let _ = writeln!(
                t,
                "| /health within 1.5x of hello | {c} | {slowdown:.2}x | {} |",
                yes(slowdown <= 1.5)
            );
        }
        for s in scenarios {
            let Some(ours) = s.target.ours() else {
                continue;
            };
            if let Some(ratio) = ratio(rows, (s.name, ours), (s.name, s.target), c) {
                let _ = writeln!(
                    t,
                    "| {} {} ≥ rmcp (req/s ratio) | {c} | {ratio:.2} | {} |",
                    s.name,
                    ours.name(),
                    yes(ratio >= 1.0)
                );
            }
        }
    }
    let mut mem_json = Vec::new();
    for target in [Target::Stateful, Target::RmcpStateful] {
        let ms: Vec<Memory> = memory
            .iter()
            .filter(|(t, _)| *t == target)
            .map(|(_, m)| *m)
            .collect();
        if ms.is_empty() {
            continue;
        }
        let mid = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let bytes = mid(ms
            .iter()
            .map(|m| m.bytes_per_session(args.sessions))
            .collect());
        let idle = mid(ms.iter().map(|m| m.idle_kib as f64).collect());
        let after = mid(ms.iter().map(|m| m.after_kib as f64).collect());
        let _ = writeln!(
            t,
            "| ≤ 4 KiB per idle session, {} ({} sessions; RSS {idle:.0} → {after:.0} KiB) | – | {bytes:.0} B ({:.2} KiB) | {} |",
            target.name(),
            args.sessions,
            bytes / 1024.0,
            if target == Target::Stateful {
                yes(bytes <= 4096.0)
            } else {
                "(reference)"
            }
        );
        mem_json.push(json!({
            "server": target.name(),
            "sessions": args.sessions,
            "rounds": ms.iter().map(|m| json!({"idle_kib": m.idle_kib, "after_kib": m.after_kib})).collect::<Vec<_>>(),
            "bytes_per_session_median": bytes,
        }));
    }
    let results = json!({
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "rounds": args.rounds,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "load": json_rows,
        "memory": mem_json,
    });
    (t, results)
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The first three fields of `/proc/loadavg`.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
