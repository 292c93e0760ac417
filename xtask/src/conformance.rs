//! The conformance step: our conformance server against the official MCP conformance suite and
//! the TypeScript and Python SDK clients, stateful and stateless: the legacy-era clients of the
//! shared folder, and our own clients (`tests/clients`) in the modern era (2026-07-28) and the
//! legacy era, each with an elicitation round trip.
//!
//! Each check is a sub-step of its own in the summary. The server is started on a free port of
//! 127.0.0.1 and stopped by PID when the step ends, passed or failed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::proc::{self, Server};
use crate::report::Report;
use crate::{clients, paths};

/// The tool and resource every client calls, with the texts the fixture contract requires.
const CLIENT_TOOL: &str = "test_simple_text";
const CLIENT_TOOL_TEXT: &str = "This is a simple text response for testing.";
const CLIENT_RESOURCE: &str = "test://static-text";
const CLIENT_RESOURCE_TEXT: &str = "This is the content of the static text resource.";
/// The tool that elicits the user's name (key `user_name`, schema `{name}`) in either era: an
/// `input_required` result in the modern one, an `elicitation/create` request in the legacy one.
const ELICIT_TOOL: &str = "test_input_required_result_elicitation";
/// What it answers once the client's elicitation handler accepted with `{"name": "Alice"}`.
const ELICIT_TEXT: &str = "Hello, Alice!";

/// The conformance suite version that scores the 2026-07-28 requirements.
const CONF_2026_VERSION: &str = "0.2.0-alpha.12";

/// Scenarios that are expected to fail in stateless mode, if any (YAML `server: [...]`, the
/// conformance CLI's `--expected-failures` format). Used only when the file exists.
const STATELESS_EXPECTED_FAILURES: &str = ".ci/conformance-stateless-expected-failures.yml";

/// The binary of `examples/conformance-server`.
pub const SERVER_BIN: &str = "conformance-server";

/// Which server the step runs against.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// `examples/conformance-server`, built in release: the real thing.
    Ours,
    /// The shared reference `fixture-server.mjs` (TS SDK): checks this orchestration itself.
    Reference,
}

/// Runs every conformance sub-step, recording each in `report`. `built` is the conformance
/// server from the workspace build of the test step, if that ran.
pub fn run(report: &mut Report, target: Target, built: Option<PathBuf>, work: &Path) -> Result<()> {
    let shared = paths::shared_dir()?;
    let tools = shared.join("tools");

    let mut ts_dir = PathBuf::new();
    let mut ts2_dir = PathBuf::new();
    let mut pythons = Vec::new();
    let mut py_modern = PathBuf::new();
    report.step("conformance: install clients", || {
        ts_dir = clients::ts_sdk_dir(&shared)?;
        ts2_dir = clients::ts_client_v2_dir()?;
        for version in clients::PY_MCP_VERSIONS {
            pythons.push((version, clients::py_mcp_python(version)?));
        }
        py_modern = clients::py_mcp_python(clients::PY_MCP_MODERN_VERSION)?;
        Ok(format!(
            "TS SDK {} and {}, Python mcp {}",
            clients::TS_SDK_VERSION,
            clients::TS_CLIENT_V2_VERSION,
            clients::PY_MCP_VERSIONS.join(" and ")
        ))
    })?;
    // Our clients (`tests/clients`): label, interpreter, script, and the `--mode`s they run in
    // against a stateful and a stateless server (`None`: the script has no `--mode`).
    let ours: [OurClient; 3] = [
        OurClient {
            label: format!("Python mcp {}", clients::PY_MCP_MODERN_VERSION),
            interpreter: py_modern.clone(),
            script: clients::our_client("mcp_client.py"),
            stateful: &[Some("auto"), Some("modern"), Some("legacy")],
            stateless: &[Some("auto"), Some("legacy")],
        },
        OurClient {
            label: format!("TypeScript client {}", clients::TS_CLIENT_V2_VERSION),
            interpreter: PathBuf::from("node"),
            script: ts2_dir.join("mcp_client.mjs"),
            stateful: &[Some("auto"), Some("modern"), Some("legacy")],
            stateless: &[Some("auto"), Some("legacy")],
        },
        OurClient {
            label: format!("TypeScript SDK {}", clients::TS_SDK_VERSION),
            interpreter: PathBuf::from("node"),
            script: ts_dir.join("legacy_client.mjs"),
            stateful: &[None],
            stateless: &[None],
        },
    ];
    let modern = !matches!(target, Target::Reference);

    let mut server_bin = None;
    if matches!(target, Target::Ours) {
        match built {
            Some(bin) => server_bin = Some(bin),
            None => report.step("conformance: build server", || {
                let mut bins = proc::cargo_build_workspace(&[SERVER_BIN])?;
                let bin = bins
                    .remove(SERVER_BIN)
                    .context("no conformance-server binary")?;
                let note = bin.display().to_string();
                server_bin = Some(bin);
                Ok(note)
            })?,
        }
    }

    let start_server = |report: &mut Report, stateless: bool| -> Result<(Server, String)> {
        let label = if stateless {
            "conformance: start server (stateless)"
        } else {
            "conformance: start server"
        };
        let mut started = None;
        report.step(label, || {
            let port = proc::free_port()?;
            let (name, cmd) = server_command(server_bin.as_deref(), stateless, port, &ts_dir);
            let log = work.join(format!(
                "{}.log",
                if stateless {
                    "server-stateless"
                } else {
                    "server"
                }
            ));
            let mut server = Server::spawn(name, cmd, &log)?;
            server.wait_ready(port, Duration::from_secs(60))?;
            started = Some((server, format!("http://127.0.0.1:{port}/mcp")));
            Ok(format!("{name} on port {port}"))
        })?;
        started.context("the server step passed without a server")
    };

    // Stateful (the default mode).
    {
        let (mut server, url) = start_server(report, false)?;
        let suite = |args: &[&str], env: &[(&str, &str)], out: &str| {
            run_suite(&tools, &url, args, env, None, &work.join(out))
        };
        report.step("conformance: active suite", || suite(&[], &[], "active"))?;
        report.step("conformance: --suite all", || {
            suite(&["--suite", "all"], &[], "all")
        })?;
        report.step(
            "conformance 0.2.0-alpha.12: --requirements 2025-11-25",
            || {
                suite(
                    &["--requirements", "2025-11-25"],
                    &[("MCP_CONF_VERSION", "0.2.0-alpha.12")],
                    "requirements-2025-11-25",
                )
            },
        )?;
        if modern {
            report.step(
                &format!("conformance {CONF_2026_VERSION}: --requirements 2026-07-28"),
                || suite_2026(&tools, &url, &work.join("requirements-2026-07-28")),
            )?;
        }
        report.step("client: TypeScript SDK", || {
            let mut cmd = Command::new("node");
            cmd.arg(ts_dir.join("ts-client.mjs"));
            run_client(cmd, &url)
        })?;
        for (version, python) in &pythons {
            report.step(&format!("client: Python mcp {version}"), || {
                let mut cmd = Command::new(python);
                cmd.arg(tools.join("py-client.py"));
                run_client(cmd, &url)
            })?;
        }
        if modern {
            for client in &ours {
                for &mode in client.stateful {
                    report.step(&client.step("client", mode), || {
                        run_our_client(client, &url, mode)
                    })?;
                }
            }
        }
        if let Err(err) = check_alive(&mut server) {
            report.step("conformance: server still up", || Err(err))?;
        }
        server.stop();
    }

    // Stateless.
    if matches!(target, Target::Reference) {
        report.skip(
            "conformance: stateless",
            "the reference fixture server has no stateless mode",
        );
        return Ok(());
    }
    let (mut server, url) = start_server(report, true)?;
    let expected = paths::workspace_root().join(STATELESS_EXPECTED_FAILURES);
    let expected = expected.is_file().then_some(expected);
    report.step("conformance (stateless): active suite", || {
        run_suite(
            &tools,
            &url,
            &[],
            &[],
            expected.as_deref(),
            &work.join("stateless-active"),
        )
    })?;
    report.step(
        &format!("conformance {CONF_2026_VERSION} (stateless): --requirements 2026-07-28"),
        || {
            suite_2026(
                &tools,
                &url,
                &work.join("stateless-requirements-2026-07-28"),
            )
        },
    )?;
    report.step("client (stateless): TypeScript SDK", || {
        let mut cmd = Command::new("node");
        cmd.arg(ts_dir.join("ts-client.mjs"));
        run_client(cmd, &url)
    })?;
    for client in &ours {
        for &mode in client.stateless {
            report.step(&client.step("client (stateless)", mode), || {
                run_our_client(client, &url, mode)
            })?;
        }
    }
    if let Err(err) = check_alive(&mut server) {
        report.step("conformance (stateless): server still up", || Err(err))?;
    }
    server.stop();
    Ok(())
}

/// The command that starts the server under test on `port`: our binary when `bin` is given,
/// else the reference fixture server.
fn server_command(
    bin: Option<&Path>,
    stateless: bool,
    port: u16,
    ts_dir: &Path,
) -> (&'static str, Command) {
    match bin {
        Some(bin) => {
            let mut cmd = Command::new(bin);
            cmd.args(["--port", &port.to_string()]);
            if stateless {
                cmd.arg("--stateless");
            }
            ("conformance-server", cmd)
        }
        None => {
            let mut cmd = Command::new("node");
            cmd.arg(ts_dir.join("fixture-server.mjs"))
                .env("PORT", port.to_string());
            ("reference fixture-server.mjs", cmd)
        }
    }
}

/// Fails if the server exited during the checks (it must survive every client).
fn check_alive(server: &mut Server) -> Result<()> {
    match server.exit_status() {
        None => Ok(()),
        Some(status) => bail!(
            "the server exited during the checks ({status}); the end of its log:\n{}",
            server.log_tail(40)
        ),
    }
}

/// Runs the shared `run-conformance.sh` once. Passes when it exits 0 and, without an
/// expected-failures file, its closing `Total: N passed, M failed` line has M = 0. Returns that
/// line.
fn run_suite(
    tools: &Path,
    url: &str,
    args: &[&str],
    env: &[(&str, &str)],
    expected_failures: Option<&Path>,
    out_dir: &Path,
) -> Result<String> {
    let mut cmd = Command::new("bash");
    cmd.arg(tools.join("run-conformance.sh"))
        .arg(url)
        .args(args)
        .env("MCP_CONF_OUT", out_dir);
    if let Some(file) = expected_failures {
        cmd.arg("--expected-failures").arg(file);
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    let shown = env
        .iter()
        .map(|(k, v)| format!("{k}={v} "))
        .collect::<String>()
        + &proc::show(&cmd);
    println!("$ {shown}");
    let out = proc::output(&mut cmd)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 0.1.x ends with the `Total:` line; 0.2.x prints notes on unscored scenarios after it.
    let last = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("Total:"));
    let totals = last.and_then(parse_total);
    let clean = match totals {
        Some((_, failed)) => failed == 0 || expected_failures.is_some(),
        None => false,
    };
    if !out.status.success() || !clean {
        println!("{stdout}");
        eprintln!("{stderr}");
        bail!(
            "the conformance suite did not pass ({}); its `Total:` line: {:?}; results in {}",
            out.status,
            last.unwrap_or(""),
            out_dir.display()
        );
    }
    // Print the summary section only; every check is in checks.json under out_dir.
    let summary = stdout
        .find("=== SUMMARY ===")
        .map_or(stdout.as_ref(), |at| &stdout[at..]);
    println!("{}", summary.trim_end());
    let mut note = last.unwrap_or_default().trim().to_string();
    if let Some(file) = expected_failures {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        note.push_str(&format!(
            "; expected failures from {}",
            name.unwrap_or_default()
        ));
    }
    Ok(note)
}

/// The official suite scoring the 2026-07-28 requirements. It also runs scenarios that are not
/// scored (extensions, pending ones) and counts their failures in its `Total:` line, so the run
/// passes on its exit code alone, which is 0 exactly when no scored scenario failed.
fn suite_2026(tools: &Path, url: &str, out_dir: &Path) -> Result<String> {
    run_suite_scored(
        tools,
        url,
        &["--requirements", "2026-07-28"],
        &[("MCP_CONF_VERSION", CONF_2026_VERSION)],
        out_dir,
    )
}

/// Runs `run-conformance.sh` and passes when it exits 0; returns its `Total:` and `Not scored`
/// lines.
fn run_suite_scored(
    tools: &Path,
    url: &str,
    args: &[&str],
    env: &[(&str, &str)],
    out_dir: &Path,
) -> Result<String> {
    let mut cmd = Command::new("bash");
    cmd.arg(tools.join("run-conformance.sh"))
        .arg(url)
        .args(args)
        .env("MCP_CONF_OUT", out_dir);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let shown = env
        .iter()
        .map(|(k, v)| format!("{k}={v} "))
        .collect::<String>()
        + &proc::show(&cmd);
    println!("$ {shown}");
    let out = proc::output(&mut cmd)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let total = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("Total:"));
    let unscored = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Not scored"));
    if !out.status.success() || total.and_then(parse_total).is_none() {
        println!("{stdout}");
        eprintln!("{stderr}");
        bail!(
            "the conformance suite did not pass ({}); its `Total:` line: {:?}; results in {}",
            out.status,
            total.unwrap_or(""),
            out_dir.display()
        );
    }
    let summary = stdout
        .find("=== SUMMARY ===")
        .map_or(stdout.as_ref(), |at| &stdout[at..]);
    println!("{}", summary.trim_end());
    let mut note = format!("exit 0; {}", total.unwrap_or_default().trim());
    if let Some(line) = unscored {
        // "Not scored for 2026-07-28: 13 scenario(s) run, 11 failing. These do not ..."
        let line = line.trim();
        note.push_str(&format!("; {}", line.split('.').next().unwrap_or(line)));
    }
    Ok(note)
}

/// `Total: N passed, M failed` → `(N, M)`.
fn parse_total(line: &str) -> Option<(u64, u64)> {
    let rest = line.trim().strip_prefix("Total:")?;
    let (passed, failed) = rest.split_once(',')?;
    let passed = passed.trim().strip_suffix("passed")?.trim().parse().ok()?;
    let failed = failed.trim().strip_suffix("failed")?.trim().parse().ok()?;
    Some((passed, failed))
}

/// Runs one SDK client script (`cmd` = interpreter + script): connect, list, call the simple
/// text tool, read the static text resource. Passes when it exits 0 and printed both texts.
fn run_client(mut cmd: Command, url: &str) -> Result<String> {
    cmd.args([url, CLIENT_TOOL, "{}", CLIENT_RESOURCE]);
    println!("$ {}", proc::show(&cmd));
    let out = proc::output(&mut cmd)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{}", stdout.trim_end());
    if !stderr.trim().is_empty() {
        eprintln!("{}", stderr.trim_end());
    }
    if !out.status.success() {
        bail!("the client failed ({})", out.status);
    }
    for text in [CLIENT_TOOL_TEXT, CLIENT_RESOURCE_TEXT] {
        if !stdout.contains(text) {
            bail!("the client's output does not contain {text:?}");
        }
    }
    let protocol = stdout
        .lines()
        .find_map(|l| l.split("protocol: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("?");
    Ok(format!("protocol {protocol}"))
}

/// One of the project's own client scripts (`tests/clients`).
struct OurClient {
    label: String,
    interpreter: PathBuf,
    script: PathBuf,
    /// The `--mode`s it runs in against the stateful server (`None`: no `--mode` option).
    stateful: &'static [Option<&'static str>],
    /// The same against the stateless server.
    stateless: &'static [Option<&'static str>],
}

impl OurClient {
    fn step(&self, prefix: &str, mode: Option<&str>) -> String {
        match mode {
            Some(mode) => format!("{prefix}: {}, --mode {mode}", self.label),
            None => format!("{prefix}: {}", self.label),
        }
    }
}

/// Runs one of our clients (`tests/clients`) in `mode` (`auto`, `modern`: the 2026-07-28 era;
/// `legacy`: initialize and a session): list, call the simple text tool, read the static text
/// resource, and the elicitation round trip. The script checks the wire itself (no session in
/// the modern era, the headers and `_meta`); this passes when it exits 0, ends with `OK` and
/// printed the texts.
fn run_our_client(client: &OurClient, url: &str, mode: Option<&str>) -> Result<String> {
    let mut cmd = Command::new(&client.interpreter);
    cmd.arg(&client.script).arg(url);
    if let Some(mode) = mode {
        cmd.args(["--mode", mode]);
    }
    cmd.args([
        "--tool",
        CLIENT_TOOL,
        "--expect",
        CLIENT_TOOL_TEXT,
        "--resource",
        CLIENT_RESOURCE,
        "--expect-resource",
        CLIENT_RESOURCE_TEXT,
        "--elicit-tool",
        ELICIT_TOOL,
        "--answer",
        r#"{"name":"Alice"}"#,
        "--expect-elicit",
        ELICIT_TEXT,
    ]);
    if let Some(dir) = client.script.parent() {
        cmd.current_dir(dir);
    }
    println!("$ {}", proc::show(&cmd));
    let out = proc::output(&mut cmd)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{}", stdout.trim_end());
    if !stderr.trim().is_empty() {
        eprintln!("{}", stderr.trim_end());
    }
    if !out.status.success() {
        bail!("the client failed ({})", out.status);
    }
    if stdout.lines().last().map(str::trim) != Some("OK") {
        bail!("the client's output does not end with OK");
    }
    let line = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    for (prefix, text) in [
        ("callTool:", CLIENT_TOOL_TEXT),
        ("readResource:", CLIENT_RESOURCE_TEXT),
        ("elicitTool:", ELICIT_TEXT),
    ] {
        if !line(prefix).contains(text) {
            bail!("the client's `{prefix}` line does not contain {text:?}");
        }
    }
    let protocol = line("protocol:");
    let protocol = protocol.split_whitespace().next().unwrap_or("?");
    let modern = matches!(mode, Some("auto" | "modern"));
    if modern != (protocol == "2026-07-28") {
        bail!("--mode {mode:?} ran at protocol {protocol}");
    }
    Ok(format!(
        "protocol {protocol}, elicitation answered; {}",
        line("session:")
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_total;

    #[test]
    fn parses_the_closing_line() {
        assert_eq!(parse_total("Total: 40 passed, 0 failed"), Some((40, 0)));
        assert_eq!(parse_total("  Total: 3 passed, 12 failed "), Some((3, 12)));
        assert_eq!(parse_total("✓ ping: 1 passed, 0 failed"), None);
        assert_eq!(parse_total("Total: many passed, 0 failed"), None);
    }
}
