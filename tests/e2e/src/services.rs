//! Real services the scale-out tests run beside `sunpeak start`: a `redis-server` and an
//! `nginx` load balancer, each on a free loopback port with its own directory, stopped on drop.
//! Both are Debian packages that `.ci/run` installs.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_listening(port: u16, what: &str, child: &mut Child) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            bail!("{what} exited at start ({status})");
        }
        if Instant::now() > deadline {
            bail!("{what} did not listen on port {port} within 15 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn scratch(tag: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("sunpeak-e2e-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A `redis-server` that persists every write (append-only, fsync always), so that a restart
/// keeps the sessions as a production Redis with persistence would.
pub struct RedisServer {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one on a free port.
    pub fn start() -> Result<Self> {
        let port = free_port()?;
        let mut redis = RedisServer {
            child: None,
            port,
            dir: scratch(&format!("redis-{port}"))?,
        };
        redis.spawn()?;
        Ok(redis)
    }

    /// Starts it again (after [`RedisServer::kill`]) on the same port and data.
    pub fn spawn(&mut self) -> Result<()> {
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("running redis-server (Debian package redis-server; .ci/run installs it)")?;
        wait_listening(self.port, "redis-server", &mut child)?;
        self.child = Some(child);
        Ok(())
    }

    /// Kills it (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Runs `redis-cli` against it and returns its output.
    pub fn cli(&self, args: &[&str]) -> Result<String> {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .context("running redis-cli")?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// nginx as a plain round-robin load balancer (no sticky sessions), with response buffering
/// off so that SSE streams pass through, and retries on the next instance when one refuses
/// the connection (a dead instance).
pub struct Nginx {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    dir: PathBuf,
}

impl Nginx {
    /// Starts one in front of `upstreams`.
    pub fn start(upstreams: &[SocketAddr]) -> Result<Self> {
        let port = free_port()?;
        let dir = scratch(&format!("nginx-{port}"))?;
        let servers: String = upstreams
            .iter()
            .map(|a| format!("    server {a} max_fails=1 fail_timeout=30s;\n"))
            .collect();
        let d = dir.display();
        let conf = format!(
            "worker_processes 1;\n\
             error_log {d}/error.log warn;\n\
             pid {d}/nginx.pid;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
               access_log off;\n\
               client_body_temp_path {d}/body;\n\
               proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n\
               uwsgi_temp_path {d}/uwsgi;\n\
               scgi_temp_path {d}/scgi;\n\
               upstream sunpeak {{\n{servers}  }}\n\
               server {{\n\
                 listen 127.0.0.1:{port};\n\
                 location / {{\n\
                   proxy_pass http://sunpeak;\n\
                   proxy_http_version 1.1;\n\
                   proxy_set_header Connection \"\";\n\
                   proxy_set_header Host $host;\n\
                   proxy_buffering off;\n\
                   proxy_request_buffering off;\n\
                   proxy_read_timeout 60s;\n\
                   proxy_next_upstream error timeout non_idempotent;\n\
                 }}\n\
               }}\n\
             }}\n"
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf)?;
        // Workers may run as another user: let them write their temporary files.
        let _ = Command::new("chmod")
            .arg("-R")
            .arg("0777")
            .arg(&dir)
            .status();
        let mut child = Command::new("nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf_path)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("running nginx (Debian package nginx; .ci/run installs it)")?;
        wait_listening(port, "nginx", &mut child)?;
        Ok(Nginx {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        })
    }

    /// `http://<addr>/mcp`.
    pub fn mcp_url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers too (SIGKILL would leave them serving).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
