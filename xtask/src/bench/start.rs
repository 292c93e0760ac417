//! `cargo xtask bench start`: our `sunpeak start` against the npm `sunpeak start` 0.20.79 on
//! the template app, same machine, same load generator ([`load`]), alternating which server
//! runs first in every round.
//!
//! Both serve the template with zod pinned to 4.4.3 (the npm server cannot list tools with a
//! newer zod), each from its own copy built by its own `sunpeak build` (ours falls back to a copy
//! of the npm build's `dist/` when our build fails, and says so). Measured:
//! - requests/s, p50 and p99 at each concurrency for `GET /health`, `tools/list`,
//!   `resources/read` (with and without gzip), `tools/call show-albums`, and `initialize`
//!   (in stateful mode: the rate of new sessions), in stateless and in stateful mode, and in
//!   `modern` mode: MCP 2026-07-28 requests (per-request `_meta`, mirrored headers, no
//!   session) to our default server, next to npm sunpeak's stateless mode (it has no
//!   2026-07-28);
//! - time from spawn to the first `200` from `/health`;
//! - idle RSS (the server process, and the whole process tree with Node workers);
//! - RSS after 10,000 sessions.
//!
//! Results: a Markdown table on stdout and `<work>/results.json`.

use super::load;
mod rss;

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::mcp::{
    initialize_body, modern_post, new_session_once, open_sessions, parse_reply, post,
};
use crate::{paths, proc};
use load::{LoadResult, RequestFactory, http_request, request_once};

/// Flags of `cargo xtask bench start`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds measured per load run.
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Seconds of unmeasured load before each run.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Concurrency levels (connections).
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    pub concurrency: Vec<usize>,
    /// Rounds (each round measures both servers, alternating which goes first).
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// Starts measured for start-to-healthy, per server.
    #[arg(long, default_value_t = 5)]
    pub starts: usize,
    /// Sessions opened for the memory-per-session measurement.
    #[arg(long, default_value_t = 10_000)]
    pub sessions: usize,
    /// Only these scenarios (comma-separated names; default all).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Also measure our stateful server with its sessions in this Redis
    /// (`redis://127.0.0.1:6379/0`): extra rows of mode `stateful-redis` (npm sunpeak, which
    /// has no shared store, runs its plain stateful mode there).
    #[arg(long)]
    pub session_store: Option<String>,
    /// Our `sunpeak` binary [default: built with `cargo build --release -p sunpeak-cli`].
    #[arg(long, env = "SUNPEAK_BIN")]
    pub bin: Option<PathBuf>,
    /// Where the template copies, logs and results go [default: target/bench-start].
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Extra flags for our `sunpeak start` (repeat it, e.g. `--ours-arg=--metrics --ours-arg=off`).
    #[arg(long = "ours-arg", allow_hyphen_values = true)]
    pub ours_args: Vec<String>,
    /// Measure only our server (no npm sunpeak; no ratios in the table).
    #[arg(long)]
    pub ours_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Ours,
    Sunpeak,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Ours => "ours",
            Side::Sunpeak => "sunpeak",
        }
    }
}

struct Setup {
    bin: PathBuf,
    ours_args: Vec<String>,
    ours_only: bool,
    ours_dir: PathBuf,
    sunpeak_dir: PathBuf,
    work: PathBuf,
    session_store: Option<String>,
}

/// A server under measurement.
struct Running {
    child: Child,
    addr: SocketAddr,
}

impl Running {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args(["-TERM", &pid])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(8);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn spawn(
    setup: &Setup,
    side: Side,
    stateless: bool,
    redis: bool,
    log: &str,
) -> Result<(Running, Instant)> {
    let port = free_port()?;
    let mut cmd = match side {
        Side::Ours => {
            let mut cmd = Command::new(&setup.bin);
            cmd.current_dir(&setup.ours_dir)
                .arg("start")
                .args(&setup.ours_args);
            cmd
        }
        Side::Sunpeak => {
            let mut cmd = Command::new("node");
            cmd.current_dir(&setup.sunpeak_dir)
                .arg("node_modules/sunpeak/bin/sunpeak.js")
                .arg("start");
            cmd
        }
    };
    cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
    if stateless {
        cmd.arg("--stateless");
    }
    if let (true, Side::Ours, Some(store)) = (redis, side, &setup.session_store) {
        cmd.args(["--session-store", store]);
    }
    let log_path = setup.work.join(format!("{}-{log}.log", side.name()));
    let file = std::fs::File::create(&log_path)?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(file.try_clone()?))
        .stderr(Stdio::from(file));
    let started = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {}", side.name()))?;
    Ok((
        Running {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        },
        started,
    ))
}

/// Waits for the first 200 from `/health`; returns the time since `started`.
fn wait_healthy(server: &mut Running, started: Instant) -> Result<Duration> {
    let request = http_request(
        "GET",
        "/health",
        server.addr,
        &[("Connection", "close".into())],
        b"",
    );
    let deadline = started + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            bail!("the server exited during startup ({status})");
        }
        if let Ok((200, _, _)) = request_once(server.addr, &request) {
            return Ok(started.elapsed());
        }
        if Instant::now() > deadline {
            bail!("not healthy within 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn start(setup: &Setup, side: Side, stateless: bool, redis: bool, log: &str) -> Result<Running> {
    let (mut server, started) = spawn(setup, side, stateless, redis, log)?;
    wait_healthy(&mut server, started)?;
    Ok(server)
}

/// Runs the benchmark.
pub fn run(args: Args) -> Result<()> {
    let setup = prepare(&args)?;
    let duration = Duration::from_secs_f64(args.duration);
    let warmup = Duration::from_secs_f64(args.warmup);
    let mut results = json!({"startup": {}, "memory": {}, "load": []});
    let mut table = String::new();

    // Start to healthy.
    let mut startup: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for i in 0..args.starts {
        for side in order(&setup, i) {
            let (mut server, started) = spawn(&setup, side, false, false, "startup")?;
            let took = wait_healthy(&mut server, started)?;
            startup[side as usize].push(took);
        }
    }
    let ours_start = median(&mut startup[0]);
    let sunpeak_start = median(&mut startup[1]);
    println!(
        "start to healthy (median): ours {:.0} ms, sunpeak {:.0} ms",
        ms(ours_start),
        ms(sunpeak_start)
    );
    results["startup"] = json!({"ours_ms": ms(ours_start), "sunpeak_ms": ms(sunpeak_start)});

    // Idle RSS and RSS after N sessions (stateful).
    let mut memory = Vec::new();
    for side in order(&setup, 0) {
        let server = start(&setup, side, false, false, "memory")?;
        std::thread::sleep(Duration::from_secs(2));
        let idle = rss::process_kib(server.pid()).unwrap_or(0);
        let idle_tree = rss::tree_kib(server.pid());
        open_sessions(server.addr, args.sessions, 16)?;
        std::thread::sleep(Duration::from_secs(1));
        let after = rss::process_kib(server.pid()).unwrap_or(0);
        let after_tree = rss::tree_kib(server.pid());
        println!(
            "{}: idle RSS {} (tree {}), after {} sessions {} (tree {})",
            side.name(),
            mib(idle),
            mib(idle_tree),
            args.sessions,
            mib(after),
            mib(after_tree)
        );
        memory.push((side, idle, idle_tree, after, after_tree));
        results["memory"][side.name()] = json!({
            "idle_kib": idle, "idle_tree_kib": idle_tree,
            "after_sessions_kib": after, "after_sessions_tree_kib": after_tree,
            "sessions": args.sessions,
        });
    }

    // Load.
    let scenarios = scenarios();
    let mut rows = Vec::new();
    // (mode, --stateless, sessions in Redis, modern requests)
    let mut modes = vec![
        ("stateless", true, false, false),
        ("stateful", false, false, false),
        ("modern", false, false, true),
    ];
    if setup.session_store.is_some() {
        modes.push(("stateful-redis", false, true, false));
    }
    for &(mode, stateless, redis, modern) in &modes {
        for round in 0..args.rounds {
            for side in order(&setup, round) {
                // npm sunpeak has no 2026-07-28: its stateless mode stands beside our modern.
                let wire = match (modern, side, stateless) {
                    (true, Side::Ours, _) => Wire::Modern,
                    (true, Side::Sunpeak, _) | (false, _, true) => Wire::Stateless,
                    (false, _, false) => Wire::Stateful,
                };
                let stateless = stateless || wire == Wire::Stateless;
                let mut server = start(&setup, side, stateless, redis, mode)?;
                for scenario in &scenarios {
                    if !args.only.is_empty() && !args.only.iter().any(|o| o == scenario.name) {
                        continue;
                    }
                    if modern && scenario.name.starts_with("initialize") {
                        continue;
                    }
                    for &concurrency in &args.concurrency {
                        // A server that died (npm sunpeak runs out of heap under stateful load)
                        // is noted and restarted, so the other scenarios are still measured.
                        if let Ok(Some(status)) = server.child.try_wait() {
                            println!(
                                "{} exited ({status}) during the previous run; see {}-{mode}.log; restarting",
                                side.name(),
                                side.name()
                            );
                            server =
                                start(&setup, side, stateless, redis, &format!("{mode}-restart"))?;
                        }
                        let cpu_before = rss::cpu_seconds(server.pid());
                        let result = (scenario.make)(server.addr, wire).and_then(|factory| {
                            load::run(server.addr, concurrency, warmup, duration, factory)
                        });
                        // Server-process CPU per request, warm-up included on both sides of the
                        // division (assumed at the measured rate): steadier than req/s on a
                        // machine shared with other work.
                        let cpu_us = match (cpu_before, rss::cpu_seconds(server.pid()), &result) {
                            (Some(a), Some(b), Ok(r)) if r.rps > 0.0 => {
                                (b - a) * 1e6 / (r.rps * (duration + warmup).as_secs_f64())
                            }
                            _ => f64::NAN,
                        };
                        let result = match result {
                            Ok(result) => result,
                            Err(err) => {
                                // Recorded as 0 req/s; the run goes on with the next scenario.
                                println!(
                                    "{:8} {:10} {:28} c={:<3} FAILED: {err:#}",
                                    side.name(),
                                    mode,
                                    scenario.name,
                                    concurrency
                                );
                                LoadResult {
                                    rps: 0.0,
                                    p50: Duration::ZERO,
                                    p99: Duration::ZERO,
                                    errors: u64::MAX,
                                }
                            }
                        };
                        println!(
                            "{:8} {:10} {:28} c={:<3} {:>9.0} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {}  server CPU {:.1} us/req",
                            side.name(),
                            mode,
                            scenario.name,
                            concurrency,
                            result.rps,
                            ms(result.p50),
                            ms(result.p99),
                            result.errors,
                            cpu_us
                        );
                        rows.push((scenario.name, mode, concurrency, side, result));
                    }
                }
            }
        }
    }

    let _ = writeln!(
        table,
        "\n## sunpeak start: ours vs npm sunpeak 0.20.79 (template, {} s per run)\n",
        args.duration
    );
    let _ = writeln!(
        table,
        "| scenario | mode | conc | ours req/s | sunpeak req/s | ratio | ours p50 / p99 ms | sunpeak p50 / p99 ms |"
    );
    let _ = writeln!(table, "|---|---|---|---|---|---|---|---|");
    for scenario in &scenarios {
        for &(mode, _, _, _) in &modes {
            for &concurrency in &args.concurrency {
                let pick = |side: Side| -> Option<LoadResult> {
                    let mut matching: Vec<LoadResult> = rows
                        .iter()
                        .filter(|r| {
                            r.0 == scenario.name && r.1 == mode && r.2 == concurrency && r.3 == side
                        })
                        .map(|r| r.4)
                        .collect();
                    matching.sort_by(|a, b| a.rps.total_cmp(&b.rps));
                    matching.get(matching.len() / 2).copied()
                };
                let Some(o) = pick(Side::Ours) else {
                    continue;
                };
                // `--ours-only`: the npm columns stay empty.
                let s = pick(Side::Sunpeak).unwrap_or(LoadResult {
                    rps: 0.0,
                    p50: Duration::ZERO,
                    p99: Duration::ZERO,
                    errors: u64::MAX,
                });
                let cell = |r: &LoadResult| {
                    if r.errors == u64::MAX {
                        ("failed".to_string(), "-".to_string())
                    } else {
                        (
                            format!("{:.0}", r.rps),
                            format!("{:.2} / {:.2}", ms(r.p50), ms(r.p99)),
                        )
                    }
                };
                let (o_rps, o_lat) = cell(&o);
                let (s_rps, s_lat) = if setup.ours_only {
                    ("-".to_string(), "-".to_string())
                } else {
                    cell(&s)
                };
                let ratio = if o.rps > 0.0 && s.rps > 0.0 {
                    format!("{:.1}x", o.rps / s.rps)
                } else {
                    "-".to_string()
                };
                let _ = writeln!(
                    table,
                    "| {} | {mode} | {concurrency} | {o_rps} | {s_rps} | {ratio} | {o_lat} | {s_lat} |",
                    scenario.name,
                );
                if let Some(a) = results["load"].as_array_mut() {
                    a.push(json!({
                    "scenario": scenario.name, "mode": mode, "concurrency": concurrency,
                    "ours": {"rps": o.rps, "p50_ms": ms(o.p50), "p99_ms": ms(o.p99), "errors": o.errors},
                    "sunpeak": {"rps": s.rps, "p50_ms": ms(s.p50), "p99_ms": ms(s.p99), "errors": s.errors},
                }));
                }
            }
        }
    }
    let _ = writeln!(
        table,
        "\n| measure | ours | sunpeak | ratio |\n|---|---|---|---|"
    );
    // `--ours-only` has no npm start to compare with.
    let (theirs, ratio) = match ms(sunpeak_start) {
        t if t > 0.0 => (format!("{t:.0} ms"), format!("{:.2}", ms(ours_start) / t)),
        _ => ("-".to_owned(), "-".to_owned()),
    };
    let _ = writeln!(
        table,
        "| start to healthy (median of {}) | {:.0} ms | {theirs} | {ratio} |",
        args.starts,
        ms(ours_start),
    );
    if let [(_, oi, oit, oa, oat), (_, si, sit, sa, sat)] = memory[..] {
        let _ = writeln!(
            table,
            "| idle RSS, server process | {} | {} | {:.2} |",
            mib(oi),
            mib(si),
            oi as f64 / si.max(1) as f64
        );
        let _ = writeln!(
            table,
            "| idle RSS, with Node workers | {} | {} | {:.2} |",
            mib(oit),
            mib(sit),
            oit as f64 / sit.max(1) as f64
        );
        let _ = writeln!(
            table,
            "| RSS after {} sessions, server process | {} | {} | {:.2} |",
            args.sessions,
            mib(oa),
            mib(sa),
            oa as f64 / sa.max(1) as f64
        );
        let _ = writeln!(
            table,
            "| RSS after {} sessions, with workers | {} | {} | {:.2} |",
            args.sessions,
            mib(oat),
            mib(sat),
            oat as f64 / sat.max(1) as f64
        );
        let per =
            |a: u64, b: u64| (a.saturating_sub(b) as f64 * 1024.0) / args.sessions.max(1) as f64;
        let _ = writeln!(
            table,
            "| bytes per idle session | {:.0} | {:.0} | |",
            per(oa, oi),
            per(sa, si)
        );
    }
    println!("{table}");
    let out = setup.work.join("results.json");
    std::fs::write(&out, serde_json::to_string_pretty(&results)?)?;
    std::fs::write(setup.work.join("results.md"), &table)?;
    println!("results: {}", out.display());
    Ok(())
}

fn order(setup: &Setup, i: usize) -> Vec<Side> {
    if setup.ours_only {
        vec![Side::Ours]
    } else if i.is_multiple_of(2) {
        vec![Side::Ours, Side::Sunpeak]
    } else {
        vec![Side::Sunpeak, Side::Ours]
    }
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// How requests are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wire {
    /// Legacy, no session (`--stateless` server).
    Stateless,
    /// Legacy, one session per connection.
    Stateful,
    /// MCP 2026-07-28: `_meta` in the body, `MCP-Protocol-Version`/`Mcp-Method`/`Mcp-Name`.
    Modern,
}

/// One load scenario: builds the request factory for a server.
struct Scenario {
    name: &'static str,
    make: fn(SocketAddr, Wire) -> Result<RequestFactory>,
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "GET /health",
            make: |addr, _| Ok(fixed(http_request("GET", "/health", addr, &[], b""))),
        },
        Scenario {
            name: "tools/list",
            make: |addr, wire| {
                mcp(
                    addr,
                    wire,
                    json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}),
                    false,
                )
            },
        },
        Scenario {
            name: "resources/read albums",
            make: |addr, wire| read_albums(addr, wire, false),
        },
        Scenario {
            name: "resources/read albums (gzip)",
            make: |addr, wire| read_albums(addr, wire, true),
        },
        Scenario {
            name: "tools/call show-albums",
            make: |addr, wire| {
                mcp(
                    addr,
                    wire,
                    json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"show-albums","arguments":{"category":"food","search":"","limit":3}}}),
                    false,
                )
            },
        },
        Scenario {
            name: "initialize (new sessions)",
            make: |addr, _| Ok(fixed(post(addr, &initialize_body(), None, false))),
        },
    ]
}

fn fixed(bytes: Vec<u8>) -> RequestFactory {
    Arc::new(move |_| Ok(bytes.clone()))
}

/// Requests with `body`; stateful servers get one session per connection.
fn mcp(addr: SocketAddr, wire: Wire, body: Value, gzip: bool) -> Result<RequestFactory> {
    Ok(Arc::new(move |_| match wire {
        Wire::Stateless => Ok(post(addr, &body, None, gzip)),
        Wire::Modern => Ok(modern_post(addr, &body, gzip)),
        Wire::Stateful => {
            let session = new_session_once(addr)?;
            Ok(post(addr, &body, Some(&session), gzip))
        }
    }))
}

fn read_albums(addr: SocketAddr, wire: Wire, gzip: bool) -> Result<RequestFactory> {
    let list = json!({"jsonrpc":"2.0","id":1,"method":"resources/list"});
    let request = match wire {
        Wire::Stateless => post(addr, &list, None, false),
        Wire::Modern => modern_post(addr, &list, false),
        Wire::Stateful => post(addr, &list, Some(&new_session_once(addr)?), false),
    };
    let (_, _, body) = request_once(addr, &request)?;
    let value = parse_reply(&body)?;
    let uri = value["result"]["resources"]
        .as_array()
        .and_then(|list| list.iter().find(|r| r["name"] == "albums"))
        .and_then(|r| r["uri"].as_str())
        .map(String::from)
        .context("no albums resource")?;
    mcp(
        addr,
        wire,
        json!({"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri": uri}}),
        gzip,
    )
}

/// Builds our binary, prepares and builds the two template copies.
fn prepare(args: &Args) -> Result<Setup> {
    let bin = match &args.bin {
        // Absolute: the servers run in the template copies.
        Some(bin) => bin
            .canonicalize()
            .with_context(|| format!("--bin {}", bin.display()))?,
        None => proc::cargo_build_bin("sunpeak-cli", "sunpeak", true)?,
    };
    let work = args
        .work_dir
        .clone()
        .unwrap_or_else(|| paths::workspace_root().join("target").join("bench-start"));
    std::fs::create_dir_all(&work)?;
    let script = paths::workspace_root().join("tests/support/prepare-template.sh");
    let out = proc::output(
        Command::new("bash")
            .arg(&script)
            .env("TEMPLATE_ZOD", "4.4.3"),
    )?;
    let template = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let ours_dir = work.join("ours");
    let sunpeak_dir = work.join("sunpeak");
    for dir in [&ours_dir, &sunpeak_dir] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        proc::run(Command::new("cp").arg("-a").arg(&template).arg(dir))?;
    }
    proc::run(
        Command::new("npx")
            .args(["--no", "sunpeak", "build"])
            .current_dir(&sunpeak_dir),
    )
    .context("npx sunpeak build")?;
    if let Err(err) = proc::run(Command::new(&bin).arg("build").current_dir(&ours_dir)) {
        println!(
            "warning: our sunpeak build failed ({err:#}); serving a copy of the npm build's dist/ instead"
        );
        copy_dir(&sunpeak_dir.join("dist"), &ours_dir.join("dist"))?;
    }
    Ok(Setup {
        bin,
        ours_args: args.ours_args.clone(),
        ours_only: args.ours_only,
        ours_dir,
        sunpeak_dir,
        work,
        session_store: args.session_store.clone(),
    })
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to)?;
    }
    proc::run(Command::new("cp").arg("-a").arg(from).arg(to))
}
