//! A server process under measurement: started on a free loopback port, ready when `/health`
//! answers, stopped by its PID when dropped. Its PID gives `/proc/<pid>/status` for RSS.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench::load::{http_request, request_once};
use crate::proc;

/// A running server.
pub struct Process {
    name: String,
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Process {
    /// Starts `bin` with `args` (where `{port}` is replaced by a free port), logging to `log`,
    /// and waits until `GET /health` gets any HTTP answer.
    pub fn start(name: &str, bin: &Path, args: &[&str], log: &Path) -> Result<Self> {
        let port = proc::free_port()?;
        let file =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut cmd = Command::new(bin);
        for a in args {
            cmd.arg(a.replace("{port}", &port.to_string()));
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::from(file));
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {name}: {}", proc::show(&cmd)))?;
        let mut p = Self {
            name: name.to_owned(),
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        p.wait_ready(log)?;
        Ok(p)
    }

    fn wait_ready(&mut self, log: &Path) -> Result<()> {
        let probe = http_request(
            "GET",
            "/health",
            self.addr,
            &[("Connection", "close".into())],
            b"",
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!(
                    "{} exited during startup ({status}); see {}",
                    self.name,
                    log.display()
                );
            }
            if request_once(self.addr, &probe).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not answer within 30 s; see {}",
                    self.name,
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `VmRSS` of the process, KiB.
    pub fn rss_kib(&self) -> Result<u64> {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("reading /proc/{pid}/status"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .context("no VmRSS in /proc/<pid>/status")
    }
}

impl Drop for Process {
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
