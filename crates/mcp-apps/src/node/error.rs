//! Errors of the tool host, and the texts of the `isError` results the host itself produces.

use std::path::PathBuf;
use std::time::Duration;

/// Why the tool host could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeHostError {
    /// No usable Node.js.
    #[error(
        "Node.js 18 or later is required to run tool handlers: {detail}. Install Node.js or set SUNPEAK_NODE to the path of a node binary."
    )]
    NodeNotFound {
        /// What was tried and what went wrong.
        detail: String,
    },
    /// A tool module or the server entry failed to load, with sunpeak's words:
    /// `Failed to load tool <name>: <message>` or `Failed to load server entry: <message>`.
    #[error("{message}")]
    Load {
        /// The message.
        message: String,
    },
    /// A worker process could not be started or did not come up.
    #[error("could not start a Node.js tool worker: {detail}")]
    Worker {
        /// What happened (including the last lines the process wrote to stderr).
        detail: String,
    },
    /// `dist/` could not be read, or the private runtime directory could not be prepared.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Why `auth()` gave no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// `auth()` threw or rejected (the message includes the stack when there is one).
    #[error("auth() threw: {0}")]
    Threw(String),
    /// `auth()` could not run or did not finish: no worker, the worker died, timeout.
    #[error("auth() failed: {0}")]
    Failed(String),
    /// The server entry has no `auth` export (check [`crate::node::ServerEntry::has_auth`]).
    #[error("the server entry exports no auth() function")]
    NotConfigured,
}

/// Texts of the `isError` results that come from the host rather than from the SDK semantics.
pub(crate) mod texts {
    use super::*;

    /// The SDK's text for an unknown tool.
    pub fn not_found(tool: &str) -> String {
        format!("MCP error -32602: Tool {tool} not found")
    }

    pub fn timed_out(tool: &str, after: Duration) -> String {
        format!("Tool {tool} timed out after {}", human_duration(after))
    }

    pub fn cancelled(tool: &str) -> String {
        format!("Tool {tool} was cancelled")
    }

    pub fn failed(tool: &str, why: &str) -> String {
        format!("Tool {tool} failed: {why}")
    }

    /// `250ms`, `5s`, `1.5s`, `2m`.
    pub fn human_duration(d: Duration) -> String {
        let ms = d.as_millis();
        if ms < 1000 {
            format!("{ms}ms")
        } else if ms.is_multiple_of(60_000) {
            format!("{}m", ms / 60_000)
        } else if ms.is_multiple_of(1000) {
            format!("{}s", ms / 1000)
        } else {
            let s = format!("{:.3}", d.as_secs_f64());
            format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn durations_read_naturally() {
            assert_eq!(human_duration(Duration::from_millis(250)), "250ms");
            assert_eq!(human_duration(Duration::from_secs(5)), "5s");
            assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
            assert_eq!(human_duration(Duration::from_secs(120)), "2m");
            assert_eq!(human_duration(Duration::from_millis(61_250)), "61.25s");
        }
    }
}
