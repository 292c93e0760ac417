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
//! With `--rounds N` every server is restarted per round and the report shows the median of
//! the rounds. Results: a Markdown table on stdout, `<target>/bench-transport/results.md` and
//! `results.json`. Goals (product.md 4): `tools/list` at least half the hello-world rate,
//! `/health` within 1.5x of it, at most 4 KiB per idle session.

mod mcp;
mod process;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::load::{self, LoadResult, RequestFactory, http_request, request_once};
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
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Hello => "hyper",
            Target::Stateful => "stateful",
            Target::Stateless => "stateless",
        }
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
        s("tools/list", Target::Stateful, true, tools_list),
        s(
            "tools/call test_simple_text",
            Target::Stateless,
            true,
            tools_call,
        ),
        s(
            "tools/call test_simple_text",
            Target::Stateful,
            true,
            tools_call,
        ),
        s("initialize", Target::Stateless, true, initialize),
        s(
            "initialize (new session each)",
            Target::Stateful,
            true,
            initialize,
        ),
    ]
}

fn fixed(bytes: Vec<u8>) -> RequestFactory {
    Arc::new(move |_| Ok(bytes.clone()))
}

/// `body` on every connection; stateful connections each get a session of their own.
fn per_connection(addr: SocketAddr, target: Target, body: Value) -> RequestFactory {
    Arc::new(move |_| {
        let session = match target {
            Target::Stateful => Some(mcp::new_session_once(addr)?),
            _ => None,
        };
        Ok(mcp::post(addr, &body, session.as_deref()))
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
    Ok(fixed(mcp::post(addr, &mcp::initialize_body(), None)))
}

/// One measured run.
struct Row {
    scenario: &'static str,
    target: Target,
    concurrency: usize,
    result: LoadResult,
}

/// The memory measurement of one round.
#[derive(Debug, Clone, Copy)]
struct Memory {
    idle_kib: u64,
    after_kib: u64,
}

impl Memory {
    fn bytes_per_session(self, sessions: usize) -> f64 {
        self.after_kib.saturating_sub(self.idle_kib) as f64 * 1024.0 / sessions.max(1) as f64
    }
}

/// Runs the benchmark.
pub fn run(args: Args) -> Result<()> {
    if args.rounds == 0 || args.concurrency.is_empty() {
        bail!("--rounds and --concurrency must not be empty");
    }
    let work = args.work_dir.clone().unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| paths::workspace_root().join("target"))
            .join("bench-transport")
    });
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let server_bin = match &args.server_bin {
        Some(b) => b.clone(),
        None => proc::cargo_build_bin("conformance-server", "conformance-server", true)?,
    };
    let hello_bin = match &args.hello_bin {
        Some(b) => b.clone(),
        None => proc::cargo_build_bin("xtask", "bench-hello", true)?,
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
        .filter(|s| {
            s.name == HELLO
                || args.only.is_empty()
                || args.only.iter().any(|o| s.name.contains(o.as_str()))
        })
        .collect();
    let mut rows: Vec<Row> = Vec::new();
    let mut memory: Vec<Memory> = Vec::new();
    for round in 0..args.rounds {
        println!("\n# round {} of {}", round + 1, args.rounds);
        if args.sessions > 0 {
            let m = measure_memory(&server_bin, &work, args.sessions)?;
            println!(
                "memory: idle {} KiB, after {} sessions {} KiB: {:.0} bytes per session",
                m.idle_kib,
                args.sessions,
                m.after_kib,
                m.bytes_per_session(args.sessions)
            );
            memory.push(m);
        }
        let hello = Process::start(
            "bench-hello",
            &hello_bin,
            &["{port}"],
            &work.join("hello.log"),
        )?;
        let stateful = Process::start(
            "conformance-server",
            &server_bin,
            &["--port", "{port}"],
            &work.join("stateful.log"),
        )?;
        let stateless = Process::start(
            "conformance-server --stateless",
            &server_bin,
            &["--port", "{port}", "--stateless"],
            &work.join("stateless.log"),
        )?;
        for &concurrency in &args.concurrency {
            for s in &scenarios {
                let addr = match s.target {
                    Target::Hello => hello.addr,
                    Target::Stateful => stateful.addr,
                    Target::Stateless => stateless.addr,
                };
                let factory = (s.make)(addr, s.target)?;
                verify(addr, s, &factory)?;
                let result = load::run(addr, concurrency, warmup, duration, factory)
                    .with_context(|| format!("{} {} c={concurrency}", s.name, s.target.name()))?;
                println!(
                    "{:32} {:9} c={:<3} {:>9.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  errors {}",
                    s.name,
                    s.target.name(),
                    concurrency,
                    result.rps,
                    ms(result.p50),
                    ms(result.p99),
                    result.errors
                );
                rows.push(Row {
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

/// RSS of a fresh stateful server before and after `sessions` idle sessions.
fn measure_memory(
    server_bin: &std::path::Path,
    work: &std::path::Path,
    sessions: usize,
) -> Result<Memory> {
    let server = Process::start(
        "conformance-server (memory)",
        server_bin,
        &["--port", "{port}"],
        &work.join("memory.log"),
    )?;
    // One session first, so that lazily initialised parts (the sweeper, allocator arenas of
    // the worker threads) count as idle cost, not per-session cost.
    let first = mcp::new_session_once(server.addr)?;
    std::thread::sleep(Duration::from_secs(1));
    let idle_kib = server.rss_kib()?;
    let ids = mcp::open_sessions(server.addr, sessions, 16)?;
    std::thread::sleep(Duration::from_secs(1));
    let after_kib = server.rss_kib()?;
    // The sessions are real: the oldest new one still answers (none was evicted or lost).
    for id in [&first, &ids[0]] {
        let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        let reply = request_once(server.addr, &mcp::post(server.addr, &list, Some(id)))?;
        mcp::expect_result("tools/list in an idle session", &reply)?;
    }
    Ok(Memory {
        idle_kib,
        after_kib,
    })
}

fn report(
    args: &Args,
    scenarios: &[Scenario],
    rows: &[Row],
    memory: &[Memory],
    load_before: &str,
    load_after: &str,
) -> (String, Value) {
    let median_of = |name: &str, target: Target, c: usize| -> Option<(f64, f64, f64, u64)> {
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
    };
    let mut t = String::new();
    let _ = writeln!(
        t,
        "\n## Transport: conformance server vs plain hyper ({} s per run, {} round(s), median)\n",
        args.duration, args.rounds
    );
    let _ = writeln!(
        t,
        "Load average before: {load_before}; after: {load_after}; CPUs: {}.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let _ = writeln!(
        t,
        "| scenario | mode | conc | req/s | p50 ms | p99 ms | errors | vs hello |"
    );
    let _ = writeln!(t, "|---|---|---|---|---|---|---|---|");
    let mut json_rows = Vec::new();
    for s in scenarios {
        for &c in &args.concurrency {
            let Some((rps, p50, p99, errors)) = median_of(s.name, s.target, c) else {
                continue;
            };
            let hello = median_of(HELLO, Target::Hello, c).map_or(0.0, |h| h.0);
            let ratio = rps / hello.max(0.001);
            let _ = writeln!(
                t,
                "| {} | {} | {c} | {rps:.0} | {p50:.3} | {p99:.3} | {errors} | {ratio:.2} |",
                s.name,
                s.target.name()
            );
            json_rows.push(json!({
                "scenario": s.name, "mode": s.target.name(), "concurrency": c,
                "rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors, "vs_hello": ratio,
            }));
        }
    }
    let _ = writeln!(t, "\n| goal | conc | measured | met |\n|---|---|---|---|");
    for &c in &args.concurrency {
        let hello = median_of(HELLO, Target::Hello, c).map_or(0.0, |h| h.0);
        for target in [Target::Stateless, Target::Stateful] {
            if let Some((rps, ..)) = median_of("tools/list", target, c) {
                let ratio = rps / hello.max(0.001);
                let _ = writeln!(
                    t,
                    "| tools/list {} ≥ 0.5 × hello | {c} | {ratio:.2} | {} |",
                    target.name(),
                    yes(ratio >= 0.5)
                );
            }
        }
        if let Some((rps, ..)) = median_of("GET /health", Target::Stateful, c) {
            let slowdown = hello / rps.max(0.001);
            let _ = writeln!(
                t,
                "| /health within 1.5x of hello | {c} | {slowdown:.2}x | {} |",
                yes(slowdown <= 1.5)
            );
        }
    }
    let mut mem_json = Value::Null;
    if !memory.is_empty() {
        let mut per: Vec<f64> = memory
            .iter()
            .map(|m| m.bytes_per_session(args.sessions))
            .collect();
        per.sort_by(f64::total_cmp);
        let bytes = per[per.len() / 2];
        let mut idle: Vec<u64> = memory.iter().map(|m| m.idle_kib).collect();
        idle.sort_unstable();
        let mut after: Vec<u64> = memory.iter().map(|m| m.after_kib).collect();
        after.sort_unstable();
        let _ = writeln!(
            t,
            "| ≤ 4 KiB per idle session ({} sessions; RSS {} → {} KiB) | – | {:.0} B ({:.2} KiB) | {} |",
            args.sessions,
            idle[idle.len() / 2],
            after[after.len() / 2],
            bytes,
            bytes / 1024.0,
            yes(bytes <= 4096.0)
        );
        mem_json = json!({
            "sessions": args.sessions,
            "rounds": memory.iter().map(|m| json!({"idle_kib": m.idle_kib, "after_kib": m.after_kib})).collect::<Vec<_>>(),
            "bytes_per_session_median": bytes,
        });
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
