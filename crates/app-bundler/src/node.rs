//! One Node.js process per build, started only when needed, for the work that has no Rust
//! implementation: the Tailwind v4 compiler (TypeScript) and evaluating a `resource` export that
//! is not a static literal. The script is `js/helper.mjs`.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Mutex;

use crate::error::BuildError;

const HELPER_SOURCE: &str = include_str!("../js/helper.mjs");
const MARK: &str = "\u{0}sunpeak\u{0}";
/// How long one Tailwind compilation or `resource` evaluation may take.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The lazily started helper process, shared by all tasks of a build.
pub(crate) struct NodeHelper {
    root: PathBuf,
    scratch: PathBuf,
    process: Mutex<Option<Running>>,
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

#[derive(Debug, Deserialize)]
struct Response {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    missing: Option<String>,
    #[serde(default)]
    changed: bool,
    #[serde(default)]
    css: Option<String>,
    #[serde(default)]
    json: Option<String>,
}

/// Why a request failed.
pub(crate) enum HelperError {
    /// A package could not be found from the project.
    Missing(String),
    /// The JavaScript side threw.
    Failed(String),
    /// The process could not be started or died.
    Build(BuildError),
}

impl NodeHelper {
    /// `scratch` is a directory inside the project where the script is written (so that bare
    /// imports of evaluated modules resolve from the project's `node_modules`).
    pub(crate) fn new(root: &Path, scratch: &Path) -> NodeHelper {
        NodeHelper {
            root: root.to_owned(),
            scratch: scratch.to_owned(),
            process: Mutex::new(None),
        }
    }

    async fn start(&self, needed_for: &str) -> Result<Running, BuildError> {
        tokio::fs::create_dir_all(&self.scratch)
            .await
            .map_err(|e| BuildError::io("create directory", &self.scratch, e))?;
        let script = self.scratch.join("sunpeak-build-helper.mjs");
        tokio::fs::write(&script, HELPER_SOURCE)
            .await
            .map_err(|e| BuildError::io("write", &script, e))?;
        let mut child = Command::new("node")
            .arg(&script)
            .current_dir(&self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| BuildError::NodeNotFound {
                needed_for: needed_for.to_owned(),
                source,
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(BuildError::Node {
                context: needed_for.to_owned(),
                message: "could not open pipes to the node process".to_owned(),
            });
        };
        tracing::debug!(script = %script.display(), "started node helper");
        Ok(Running {
            child,
            stdin,
            stdout: BufReader::new(stdout).lines(),
        })
    }

    async fn request(
        &self,
        needed_for: &str,
        request: serde_json::Value,
    ) -> Result<Response, HelperError> {
        let mut guard = self.process.lock().await;
        if guard.is_none() {
            *guard = Some(self.start(needed_for).await.map_err(HelperError::Build)?);
        }
        let Some(running) = guard.as_mut() else {
            return Err(HelperError::Failed("node helper not running".to_owned()));
        };
        let died = |what: String| {
            HelperError::Build(BuildError::Node {
                context: needed_for.to_owned(),
                message: what,
            })
        };
        let mut line = request.to_string();
        line.push('\n');
        running
            .stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| died(format!("the node process exited ({e})")))?;
        running
            .stdin
            .flush()
            .await
            .map_err(|e| died(format!("the node process exited ({e})")))?;
        loop {
            let next = tokio::time::timeout(REQUEST_TIMEOUT, running.stdout.next_line()).await;
            let Ok(next) = next else {
                // Dropping the child kills it (`kill_on_drop`).
                *guard = None;
                return Err(died(format!(
                    "no answer from node within {} s (an endless loop in the evaluated code?)",
                    REQUEST_TIMEOUT.as_secs()
                )));
            };
            match next {
                Ok(Some(l)) => {
                    if let Some(body) = l.strip_prefix(MARK) {
                        let response: Response = serde_json::from_str(body)
                            .map_err(|e| died(format!("bad response from node: {e}")))?;
                        if response.ok {
                            return Ok(response);
                        }
                        return Err(match response.missing {
                            Some(pkg) => HelperError::Missing(pkg),
                            None => HelperError::Failed(response.error.unwrap_or_default()),
                        });
                    }
                    tracing::info!(target: "sunpeak::node", "{l}");
                }
                Ok(None) => return Err(died("the node process exited unexpectedly".to_owned())),
                Err(e) => return Err(died(format!("reading from node failed: {e}"))),
            }
        }
    }

    /// Compiles one CSS file with the project's Tailwind. `None`: Tailwind left it unchanged
    /// (no utilities, `@apply`, `theme()` or variants), as `@tailwindcss/vite` does.
    pub(crate) async fn tailwind(
        &self,
        file: &Path,
        css: &str,
    ) -> Result<Option<String>, HelperError> {
        let response = self
            .request(
                "Tailwind CSS",
                json!({"op": "tailwind", "root": self.root.to_string_lossy(), "file": file.to_string_lossy(), "css": css}),
            )
            .await?;
        Ok(if response.changed { response.css } else { None })
    }

    /// Imports the ES module `file` and returns `JSON.stringify(module.resource)`, or `None`
    /// when the export is missing or falsy.
    pub(crate) async fn evaluate(&self, file: &Path) -> Result<Option<String>, HelperError> {
        let response = self
            .request(
                "Evaluating a computed `resource` export",
                json!({"op": "eval", "file": file.to_string_lossy()}),
            )
            .await?;
        Ok(response.json)
    }

    /// Ends the process (closing its stdin lets the script finish).
    pub(crate) async fn shutdown(&self) {
        if let Some(mut running) = self.process.lock().await.take() {
            drop(running.stdin);
            let _ = running.child.wait().await;
        }
    }
}
