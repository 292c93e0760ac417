//! Sessions in a Redis reached over TLS (`rediss://`): a real `redis-server` with a TLS port
//! and a certificate of a private CA made here with the `openssl` command.

#![cfg(feature = "redis")]

mod support;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_transport::{RedisConfig, TransportConfig};
use serde_json::json;
use support::*;

/// A `redis-server` that only speaks TLS, with its private CA.
struct TlsRedis {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl TlsRedis {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let dir =
            std::env::temp_dir().join(format!("sunpeak-redis-tls-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("redis dir");
        make_certificates(&dir);
        let child = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .args([
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--tls-auth-clients",
                "no",
            ])
            .arg("--tls-cert-file")
            .arg(dir.join("server.pem"))
            .arg("--tls-key-file")
            .arg(dir.join("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(dir.join("ca.pem"))
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "redis-server must be installed (Debian package redis-server; .ci/run installs it)",
            );
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port, dir }
    }

    fn url(&self) -> String {
        format!("rediss://localhost:{}/0", self.port)
    }

    fn ca(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("ca.pem")).expect("ca.pem")
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A CA and a certificate for `localhost` / 127.0.0.1 signed by it.
fn make_certificates(dir: &Path) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("server.ext");
    let key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    openssl(
        dir,
        &format!("req -x509 {key} -keyout ca.key -out ca.pem -days 1 -subj /CN=test-CA"),
    );
    openssl(
        dir,
        &format!("req {key} -keyout server.key -out server.csr -subj /CN=localhost"),
    );
    openssl(
        dir,
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
         -days 1 -extfile server.ext",
    );
}

fn openssl(dir: &Path, args: &str) {
    let out = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .expect("openssl must be installed (Debian package openssl; .ci/run installs it)");
    assert!(
        out.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn open(addr: SocketAddr) -> (u16, Option<String>) {
    let r = post(
        addr,
        json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion": V, "capabilities": {}, "clientInfo": {"name":"it","version":"0"}}}),
    )
    .send()
    .await;
    (
        r.status.as_u16(),
        r.header("mcp-session-id").map(str::to_owned),
    )
}

#[tokio::test]
async fn sessions_are_shared_through_a_redis_reached_over_tls() {
    let redis = TlsRedis::start();
    let store = || {
        RedisConfig::new(&redis.url())
            .expect("a rediss:// URL")
            .prefix("tls:")
    };
    let trusted = || {
        TransportConfig::new()
            .redis_sessions(store().root_certificates(redis.ca()).expect("the CA"))
    };
    let a = start(trusted()).await;
    let b = start(trusted()).await;

    // Created on A, used on B: both reach Redis over TLS.
    let (status, sid) = open(a.addr).await;
    assert_eq!(status, 200, "initialize over rediss://");
    let sid = sid.expect("a session id");
    let r = post(b.addr, rpc(1, "tools/list", json!({})))
        .session(&sid)
        .send()
        .await;
    assert_eq!(
        r.status, 200,
        "tools/list on the other instance: {:?}",
        r.body
    );

    // The certificate is checked: an instance that does not trust the private CA (system roots
    // only) cannot use this Redis, and says so with a 503.
    let untrusting = start(TransportConfig::new().redis_sessions(store())).await;
    let (status, _) = open(untrusting.addr).await;
    assert_eq!(
        status, 503,
        "a Redis whose certificate is not trusted must not be used"
    );
}
