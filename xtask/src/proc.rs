//! Running commands and background servers.
//!
//! Every failure names the command that failed; background servers are stopped by their PID
//! (SIGTERM, then SIGKILL) when their [`Server`] handle is dropped, so that no process outlives
//! the step that started it, whether the step passed or failed.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::paths;

/// The command line of `cmd` as one string, for messages.
pub fn show(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        line.push(' ');
        if arg.is_empty() || arg.contains([' ', '{', '}', '"', '\'']) {
            line.push('\'');
            line.push_str(&arg);
            line.push('\'');
        } else {
            line.push_str(&arg);
        }
    }
    line
}

/// Runs `cmd` with inherited stdio; fails unless it exits 0.
pub fn run(cmd: &mut Command) -> Result<()> {
    println!("$ {}", show(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{}`", show(cmd)))?;
    check_status(cmd, status)
}

/// Runs `cmd` and captures stdout and stderr (stdin closed); does not check the exit status.
pub fn output(cmd: &mut Command) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{}`", show(cmd)))
}

/// Runs `cmd`, echoing its stdout line by line and handing every line to `on_line`; stderr is
/// inherited. Fails unless it exits 0.
pub fn run_tee(cmd: &mut Command, mut on_line: impl FnMut(&str)) -> Result<()> {
    println!("$ {}", show(cmd));
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{}`", show(cmd)))?;
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::new(stdout);
        let mut out = std::io::stdout();
        let mut buf = Vec::new();
        // Bytes, not `lines()`: a test may print invalid UTF-8, which must not end the run.
        while reader.read_until(b'\n', &mut buf).unwrap_or(0) > 0 {
            let line = String::from_utf8_lossy(&buf);
            let line = line.trim_end_matches(['\n', '\r']);
            let _ = writeln!(out, "{line}");
            on_line(line);
            buf.clear();
        }
    }
    let status = child.wait().context("waiting for a child process")?;
    check_status(cmd, status)
}

fn check_status(cmd: &Command, status: ExitStatus) -> Result<()> {
    if status.success() {
        Ok(())
    } else {
        bail!("`{}` failed ({status})", show(cmd))
    }
}

/// Builds one binary of a workspace package with cargo and returns the executable's path as
/// cargo reports it (so `CARGO_TARGET_DIR` and `--release` are respected).
pub fn cargo_build_bin(package: &str, bin: &str, release: bool) -> Result<PathBuf> {
    let mut cmd = Command::new(paths::cargo());
    cmd.current_dir(paths::workspace_root()).args([
        "build",
        "-p",
        package,
        "--bin",
        bin,
        "--message-format=json-render-diagnostics",
    ]);
    if release {
        cmd.arg("--release");
    }
    println!("$ {}", show(&cmd));
    let out = cmd
        .stderr(Stdio::inherit())
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{}`", show(&cmd)))?;
    if !out.status.success() {
        bail!("`{}` failed ({})", show(&cmd), out.status);
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == bin)
        .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .with_context(|| format!("`{}` did not report the {bin} executable", show(&cmd)))
}

/// `cargo build --workspace --release --all-targets`: everything `cargo test --workspace
/// --release` compiles, with the same dependency features (dev-dependencies included), plus the
/// real binaries. Returns the executables of the binaries named in `bins`, by name.
///
/// Building one package with `-p` resolves dependency features for that package alone and so
/// recompiles dozens of shared crates; building the binaries this way reuses the test build.
pub fn cargo_build_workspace(bins: &[&str]) -> Result<HashMap<String, PathBuf>> {
    let mut cmd = Command::new(paths::cargo());
    cmd.current_dir(paths::workspace_root()).args([
        "build",
        "--workspace",
        "--release",
        "--all-targets",
        "--message-format=json-render-diagnostics",
    ]);
    println!("$ {}", show(&cmd));
    let out = cmd
        .stderr(Stdio::inherit())
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{}`", show(&cmd)))?;
    if !out.status.success() {
        bail!("`{}` failed ({})", show(&cmd), out.status);
    }
    let mut found = HashMap::new();
    for msg in String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
    {
        let name = msg["target"]["name"].as_str().unwrap_or_default();
        let is_bin = msg["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"));
        if msg["reason"] == "compiler-artifact"
            && is_bin
            && msg["profile"]["test"] == false
            && bins.contains(&name)
            && let Some(exe) = msg["executable"].as_str()
        {
            found.insert(name.to_string(), PathBuf::from(exe));
        }
    }
    for bin in bins {
        if !found.contains_key(*bin) {
            bail!("`{}` did not report the {bin} executable", show(&cmd));
        }
    }
    Ok(found)
}

/// A free TCP port on 127.0.0.1 (bound and released; the window for a race is tiny, and a
/// server that cannot bind exits, which [`Server::wait_ready`] reports).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A background server process, stopped by PID when dropped.
pub struct Server {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Server {
    /// Starts `cmd` with stdout and stderr going to the file `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Result<Self> {
        let file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let file2 = file.try_clone().context("duplicating a log file handle")?;
        println!("$ {} > {}", show(&cmd), log.display());
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(file2))
            .spawn()
            .with_context(|| format!("could not start {name}: `{}`", show(&cmd)))?;
        println!("{name} started, pid {}", child.id());
        Ok(Self {
            name: name.to_string(),
            child: Some(child),
            log: log.to_path_buf(),
        })
    }

    /// Waits until the server answers HTTP on `127.0.0.1:port` (any status counts) or fails
    /// with the end of its log when it exits early or does not answer within `timeout`.
    pub fn wait_ready(&mut self, port: u16, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                bail!(
                    "{} exited before it answered ({status}); its log ({}):\n{}",
                    self.name,
                    self.log.display(),
                    self.log_tail(40)
                );
            }
            if http_answers(port) {
                println!(
                    "{} answers on 127.0.0.1:{port} after {:.1}s",
                    self.name,
                    start.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            if start.elapsed() > timeout {
                bail!(
                    "{} did not answer on 127.0.0.1:{port} within {}s; its log ({}):\n{}",
                    self.name,
                    timeout.as_secs(),
                    self.log.display(),
                    self.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The exit status if the server has exited, `None` while it runs (or after [`Self::stop`]).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten())
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Stops the server: SIGTERM, up to 5 s to exit, then SIGKILL. Idempotent.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        let pid = child.id().to_string();
        let _ = Command::new("kill")
            .args(["-TERM", &pid])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                println!("{} (pid {pid}) stopped", self.name);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        println!("{} (pid {pid}) killed after 5 s", self.name);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether something answers an HTTP request on `127.0.0.1:port` (any status line counts).
fn http_answers(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 8];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}
