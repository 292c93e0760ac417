//! Shared by the `node_*` tests: cached npm environments (the real `@modelcontextprotocol/sdk`
//! 1.32.2 (what npm sunpeak 0.20.79 resolves) and a chosen `zod`), throw-away projects made from `tests/fixtures/node/<name>`, a
//! recording `ClientPeer`, and a capture of the host's `tracing` events.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::Duration;

use mcp_apps::node::{BoxFuture, ClientPeer, NodeHostConfig, ToolCallContext, ToolCallOutcome};
use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

pub const SDK_VERSION: &str = "1.32.2";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/node")
}

/// `$SUNPEAK_RS_CACHE`, else `$XDG_CACHE_HOME/sunpeak-rs`, else `~/.cache/sunpeak-rs`.
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("SUNPEAK_RS_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME must be set");
    base.join("sunpeak-rs")
}

/// A directory with `node_modules` holding the SDK and `zod@<zod>` (any npm version spec),
/// installed on first use and cached.
pub fn npm_env(zod: &str) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let slug: String = zod
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = cache_root()
        .join("node-host")
        .join(format!("env-sdk{SDK_VERSION}-zod{slug}"));
    if dir.join(".ready").exists() {
        return dir;
    }
    let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(
        tmp.join("package.json"),
        r#"{"name":"sunpeak-rs-node-host-test-env","private":true,"type":"module"}"#,
    )
    .unwrap();
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--silent"])
        .arg(format!("@modelcontextprotocol/sdk@{SDK_VERSION}"))
        .arg(format!("zod@{zod}"))
        .current_dir(&tmp)
        .status()
        .expect("npm must be on PATH");
    assert!(status.success(), "npm install in {} failed", tmp.display());
    std::fs::write(tmp.join(".ready"), "").unwrap();
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another test process won the race.
        let _ = std::fs::remove_dir_all(&tmp);
        assert!(dir.join(".ready").exists());
    }
    dir
}

/// The `zod` version installed in an environment.
pub fn zod_version(node_modules_parent: &Path) -> String {
    let text =
        std::fs::read_to_string(node_modules_parent.join("node_modules/zod/package.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    manifest["version"].as_str().unwrap().to_string()
}

/// A temporary project: `dist/` from a fixture, `node_modules` linked to an npm environment.
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    pub fn from_fixture(fixture: &str, node_modules_parent: &Path) -> Project {
        let project = Project::empty(node_modules_parent);
        copy_dir(
            &fixtures().join(fixture).join("dist"),
            &project.root.join("dist"),
        );
        project
    }

    pub fn empty(node_modules_parent: &Path) -> Project {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let root = std::env::temp_dir().join(format!(
            "sunpeak-rs-node-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("dist")).unwrap();
        std::fs::write(
            root.join("package.json"),
            r#"{"name":"node-host-fixture","version":"0.0.1","private":true,"type":"module"}"#,
        )
        .unwrap();
        std::os::unix::fs::symlink(
            node_modules_parent.join("node_modules"),
            root.join("node_modules"),
        )
        .unwrap();
        Project { root }
    }

    pub fn dist(&self) -> PathBuf {
        self.root.join("dist")
    }

    pub fn config(&self) -> NodeHostConfig {
        NodeHostConfig::new(&self.root, self.dist())
    }

    /// Runs the SDK oracle (`fixtures/node/sdk-reference.mjs`) from `env` on this project's
    /// `dist/` and returns its answer.
    pub fn sdk_reference(&self, env: &Path, calls: &[Value]) -> Value {
        let script = env.join("sdk-reference.mjs");
        std::fs::copy(fixtures().join("sdk-reference.mjs"), &script).unwrap();
        let request = self.root.join("oracle-request.json");
        let answer = self.root.join("oracle-answer.json");
        std::fs::write(
            &request,
            serde_json::to_vec(&json!({"dist": self.dist(), "calls": calls})).unwrap(),
        )
        .unwrap();
        let output = Command::new("node")
            .arg(&script)
            .arg(&request)
            .arg(&answer)
            .current_dir(env)
            .output()
            .expect("node must be on PATH");
        assert!(
            output.status.success(),
            "the SDK oracle failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&std::fs::read(&answer).unwrap()).unwrap()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

type RequestHandler = dyn Fn(&str, Value) -> Result<Value, Value> + Send + Sync;

/// A client that records notifications and answers requests with a closure.
pub struct TestPeer {
    pub notifications: Mutex<Vec<(String, Value)>>,
    pub requests: Mutex<Vec<(String, Value)>>,
    answer: Box<RequestHandler>,
}

impl TestPeer {
    pub fn new() -> Arc<TestPeer> {
        TestPeer::answering(|method, _| {
            Err(json!({"code": -32601, "message": format!("Method not found: {method}")}))
        })
    }

    pub fn answering(
        answer: impl Fn(&str, Value) -> Result<Value, Value> + Send + Sync + 'static,
    ) -> Arc<TestPeer> {
        Arc::new(TestPeer {
            notifications: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            answer: Box::new(answer),
        })
    }

    pub fn notifications(&self) -> Vec<(String, Value)> {
        self.notifications.lock().unwrap().clone()
    }
}

impl ClientPeer for TestPeer {
    fn notify(&self, method: &str, params: Value) {
        self.notifications
            .lock()
            .unwrap()
            .push((method.to_string(), params));
    }

    fn request(&self, method: &str, params: Value) -> BoxFuture<'static, Result<Value, Value>> {
        self.requests
            .lock()
            .unwrap()
            .push((method.to_string(), params.clone()));
        let answer = (self.answer)(method, params);
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            answer
        })
    }
}

pub fn ctx(peer: Arc<TestPeer>) -> ToolCallContext {
    ToolCallContext::new(json!(1), peer)
}

/// The outcome as the JSON-RPC response member it becomes: `{"result": ...}` or
/// `{"error": {...}}`.
pub fn as_response(outcome: &ToolCallOutcome) -> Value {
    match outcome {
        ToolCallOutcome::Result(v) => json!({ "result": v }),
        ToolCallOutcome::Error {
            code,
            message,
            data,
        } => {
            let mut error = json!({"code": code, "message": message});
            if let Some(data) = data {
                error["data"] = data.clone();
            }
            json!({ "error": error })
        }
    }
}

/// The text of the first content item of a result.
pub fn text(outcome: &ToolCallOutcome) -> String {
    match outcome {
        ToolCallOutcome::Result(v) => v["content"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("no text content in {v}"))
            .to_string(),
        other => panic!("expected a result, got {other:?}"),
    }
}

pub fn is_error(outcome: &ToolCallOutcome) -> bool {
    matches!(outcome, ToolCallOutcome::Result(v) if v["isError"] == json!(true))
}

/// One captured `tracing` event.
#[derive(Debug, Clone)]
pub struct Captured {
    pub target: String,
    pub level: tracing::Level,
    pub tool: Option<String>,
    pub message: String,
}

fn captured() -> &'static Mutex<Vec<Captured>> {
    static LOGS: OnceLock<Mutex<Vec<Captured>>> = OnceLock::new();
    LOGS.get_or_init(|| Mutex::new(Vec::new()))
}

struct CaptureLayer;

#[derive(Default)]
struct CaptureVisit {
    tool: Option<String>,
    message: String,
}

impl Visit for CaptureVisit {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "tool" => self.tool = Some(value.to_string()),
            "message" => self.message = value.to_string(),
            _ => {}
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "tool" => self.tool = Some(format!("{value:?}")),
            "message" => self.message = format!("{value:?}"),
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for CaptureLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut visit = CaptureVisit::default();
        event.record(&mut visit);
        captured().lock().unwrap().push(Captured {
            target: event.metadata().target().to_string(),
            level: *event.metadata().level(),
            tool: visit.tool,
            message: visit.message,
        });
    }
}

/// Installs the capture (once per test binary).
pub fn capture_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = tracing_subscriber::registry().with(CaptureLayer).try_init();
    });
}

/// Waits until an event matching `pred` was logged.
pub async fn wait_for_log(pred: impl Fn(&Captured) -> bool, within: Duration) -> Option<Captured> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = captured().lock().unwrap().iter().find(|c| pred(c)).cloned() {
            return Some(found);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn logs_matching(pred: impl Fn(&Captured) -> bool) -> Vec<Captured> {
    captured()
        .lock()
        .unwrap()
        .iter()
        .filter(|c| pred(c))
        .cloned()
        .collect()
}
