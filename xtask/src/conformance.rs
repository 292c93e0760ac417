//! The conformance step: our conformance server against the official MCP conformance suite and
//! the TypeScript and Python SDK clients, stateful and stateless.
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
    let mut pythons = Vec::new();
    report.step("conformance: install clients", || {
        ts_dir = clients::ts_sdk_dir(&shared)?;
        for version in clients::PY_MCP_VERSIONS {
            pythons.push((version, clients::py_mcp_python(version)?));
        }
        Ok(format!(
            "TS SDK {}, Python mcp {}",
            clients::TS_SDK_VERSION,
            clients::PY_MCP_VERSIONS.join(" and ")
        ))
    })?;

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
    report.step("client (stateless): TypeScript SDK", || {
        let mut cmd = Command::new("node");
        cmd.arg(ts_dir.join("ts-client.mjs"));
        run_client(cmd, &url)
    })?;
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
