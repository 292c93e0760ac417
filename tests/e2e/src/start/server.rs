//! Running a server under test: our `sunpeak start` or the npm package's, on 127.0.0.1 with
//! a port the OS picks (`--port 0`), its output collected line by line.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::sunpeak_bin;

/// Which `sunpeak start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    /// Our binary.
    Ours,
    /// The npm package's CLI from the project's `node_modules` (run with `node` directly, so
    /// that the process we signal is the server itself).
    Reference,
}

#[derive(Default)]
struct Lines {
    stdout: Vec<String>,
    stderr: Vec<String>,
    closed: usize,
}

/// A running server. Killed when dropped.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    lines: Arc<(Mutex<Lines>, Condvar)>,
}

/// How to start a server.
#[derive(Debug, Clone)]
pub struct Launch<'a> {
    /// Which implementation.
    pub implementation: Implementation,
    /// The project directory (with `dist/`).
    pub project: &'a Path,
    /// Extra flags after `start --host 127.0.0.1 --port 0`.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

impl<'a> Launch<'a> {
    /// Our `sunpeak start` in `project`.
    pub fn ours(project: &'a Path) -> Self {
        Launch {
            implementation: Implementation::Ours,
            project,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// The npm `sunpeak start` in `project`.
    pub fn reference(project: &'a Path) -> Self {
        Launch {
            implementation: Implementation::Reference,
            ..Launch::ours(project)
        }
    }

    /// Adds flags.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Starts the server and waits (up to 60 s) until it prints its listening line.
    pub fn start(&self) -> Result<Server> {
        let mut cmd = match self.implementation {
            Implementation::Ours => {
                let mut cmd = Command::new(sunpeak_bin());
                cmd.arg("start");
                cmd
            }
            Implementation::Reference => {
                let mut cmd = Command::new("node");
                cmd.arg(self.project.join("node_modules/sunpeak/bin/sunpeak.js"))
                    .arg("start");
                cmd
            }
        };
        cmd.args(["--host", "127.0.0.1", "--port", "0"])
            .args(&self.args)
            .current_dir(self.project)
            .env_remove("PORT")
            .env_remove("HOST")
            .env_remove("SUNPEAK_SERVER_URL")
            .env_remove("SUNPEAK_ALLOWED_ORIGINS")
            .env_remove("SUNPEAK_MAX_BODY_BYTES")
            .env_remove("SUNPEAK_WORKERS")
            .env_remove("SUNPEAK_SESSION_STORE")
            .env_remove("SUNPEAK_LOG_HEADERS")
            .env_remove("SUNPEAK_MAX_TOOL_RESULT_BYTES")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &self.env {
            cmd.env(name, value);
        }
        let mut child = cmd.spawn().with_context(|| {
            format!(
                "starting {:?} in {}",
                self.implementation,
                self.project.display()
            )
        })?;
        let lines = Arc::new((Mutex::new(Lines::default()), Condvar::new()));
        if let Some(out) = child.stdout.take() {
            collect(out, lines.clone(), false);
        }
        if let Some(err) = child.stderr.take() {
            collect(err, lines.clone(), true);
        }
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            lines,
        };
        let line = server
            .wait_for(Duration::from_secs(60), |l| {
                l.contains("Server listening on http://")
            })
            .with_context(|| {
                format!(
                    "{:?} server did not start.\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    self.implementation,
                    server.stdout().join("\n"),
                    server.stderr().join("\n")
                )
            })?;
        server.addr = SocketAddr::from(([127, 0, 0, 1], listening_port(&line)?));
        Ok(server)
    }
}

fn collect(pipe: impl Read + Send + 'static, lines: Arc<(Mutex<Lines>, Condvar)>, stderr: bool) {
    std::thread::spawn(move || {
        let reader = BufReader::new(pipe);
        for line in reader.split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line).into_owned();
            let (lock, cvar) = &*lines;
            if let Ok(mut guard) = lock.lock() {
                if stderr {
                    guard.stderr.push(line);
                } else {
                    guard.stdout.push(line);
                }
            }
            cvar.notify_all();
        }
        let (lock, cvar) = &*lines;
        if let Ok(mut guard) = lock.lock() {
            guard.closed += 1;
        }
        cvar.notify_all();
    });
}

/// The port of a `Server listening on http://<host>:<port>` line (human or JSON).
fn listening_port(line: &str) -> Result<u16> {
    let rest = line
        .split("Server listening on http://")
        .nth(1)
        .context("no listening URL")?;
    let host_port: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '/')
        .collect();
    let port = host_port.rsplit(':').next().unwrap_or("");
    port.parse()
        .with_context(|| format!("no port in listening line {line:?}"))
}

impl Server {
    /// The URL of `/mcp`.
    pub fn mcp_url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lines written to stdout so far.
    pub fn stdout(&self) -> Vec<String> {
        self.lines
            .0
            .lock()
            .map(|l| l.stdout.clone())
            .unwrap_or_default()
    }

    /// Lines written to stderr so far.
    pub fn stderr(&self) -> Vec<String> {
        self.lines
            .0
            .lock()
            .map(|l| l.stderr.clone())
            .unwrap_or_default()
    }

    /// Waits until a line (stdout or stderr) matches; returns it.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let (lock, cvar) = &*self.lines;
        let mut guard = lock.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        loop {
            if let Some(line) = guard
                .stdout
                .iter()
                .chain(guard.stderr.iter())
                .find(|l| pred(l))
            {
                return Ok(line.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                bail!("timed out waiting for a log line");
            }
            if guard.closed >= 2 {
                bail!("the server's output ended");
            }
            guard = cvar
                .wait_timeout(guard, deadline - now)
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .0;
        }
    }

    /// Sends SIGTERM (by process id).
    pub fn terminate(&self) -> Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        if !status.success() {
            bail!("kill -TERM failed");
        }
        Ok(())
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                bail!("the server did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs a `sunpeak start` that is expected to fail at startup; returns its exit status and
/// output.
pub fn run_to_exit(
    project: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<(ExitStatus, String, String)> {
    let mut child = Command::new(sunpeak_bin())
        .arg("start")
        .args(args)
        .current_dir(project)
        .env_remove("PORT")
        .env_remove("HOST")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut out = child.stdout.take().context("stdout")?;
    let mut err = child.stderr.take().context("stderr")?;
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("sunpeak start did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    Ok((status, stdout, stderr))
}

#[cfg(test)]
mod tests {
    use super::listening_port;

    #[test]
    fn ports_from_listening_lines() {
        assert_eq!(
            listening_port("[MCP] Server listening on http://127.0.0.1:4321").unwrap(),
            4321
        );
        assert_eq!(
            listening_port("[MCP] Server listening on http://127.0.0.1:4321 (port 0 was in use)")
                .unwrap(),
            4321
        );
        assert_eq!(
            listening_port(
                r#"{"ts":"x","level":"info","msg":"Server listening on http://127.0.0.1:99"}"#
            )
            .unwrap(),
            99
        );
    }
}
