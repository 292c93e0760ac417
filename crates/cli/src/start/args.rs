//! The flags of `sunpeak start` (product contract, section 2). Every flag takes both
//! `--flag value` and `--flag=value`; environment variables are read where the table names one.

use std::time::Duration;

use super::units::{Workers, parse_bytes, parse_duration, parse_workers};

/// Flags of `sunpeak start`.
#[derive(Debug, Clone, clap::Args)]
pub struct StartArgs {
    /// Listen port. If it is busy, start fails (it never picks another port).
    #[arg(long, short, env = "PORT", default_value_t = 8000)]
    pub port: u16,

    /// Bind address.
    #[arg(long, env = "HOST", default_value = "0.0.0.0")]
    pub host: String,

    /// Log JSON lines (`ts`, `level`, `msg` and fields): errors to stderr, the rest to stdout.
    #[arg(long)]
    pub json_logs: bool,

    /// Answer POSTs with SSE streams instead of JSON.
    #[arg(long)]
    pub sse: bool,

    /// No sessions: POST only; GET and DELETE get 405.
    #[arg(long)]
    pub stateless: bool,

    /// Public URL of /mcp (e.g. `https://app.example.com/mcp`): per-host widget domains
    /// (`_meta.ui.domain`) and OAuth protected-resource metadata.
    #[arg(long, env = "SUNPEAK_SERVER_URL", value_parser = parse_server_url)]
    pub server_url: Option<String>,

    /// Extra allowed browser origins, comma-separated (`*` allows all). Loopback origins and
    /// the origin of --server-url are always allowed.
    #[arg(long, env = "SUNPEAK_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// OAuth authorization server issuer URL(s), comma-separated. With --server-url, serves
    /// RFC 9728 protected-resource metadata and points 401 challenges at it.
    #[arg(long, env = "SUNPEAK_AUTHORIZATION_SERVERS", value_delimiter = ',', value_parser = parse_http_url)]
    pub authorization_server: Vec<String>,

    /// Scopes named in the protected-resource metadata and 401 challenges, comma-separated.
    #[arg(long, env = "SUNPEAK_OAUTH_SCOPES", value_delimiter = ',')]
    pub oauth_scopes: Vec<String>,

    /// Live-session cap; when full, the least recently used idle session is evicted.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_sessions: u64,

    /// Idle sessions are closed after this long (e.g. 300ms, 30s, 5m, 1h).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub session_idle_timeout: Duration,

    /// Larger POST bodies get 413 (bytes, or with a unit: 4MiB).
    #[arg(long, env = "SUNPEAK_MAX_BODY_BYTES", default_value = "4194304", value_parser = parse_bytes)]
    pub max_body_bytes: u64,

    /// A POST body must arrive within this long, however steadily it trickles (408 after).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub body_timeout: Duration,

    /// Open client connections at most; past it, new connections are closed at once.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,

    /// The largest tool result taken from a Node.js worker (bytes, or with a unit: 64MiB); a
    /// bigger one becomes an `isError` result naming the tool.
    #[arg(long, env = "SUNPEAK_MAX_TOOL_RESULT_BYTES", default_value = "64MiB", value_parser = parse_bytes)]
    pub max_tool_result_bytes: u64,

    /// On SIGTERM/SIGINT: stop accepting, let in-flight calls finish for this long, then exit.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub drain_timeout: Duration,

    /// Node.js tool-worker processes (`auto`: one per CPU).
    #[arg(long, env = "SUNPEAK_WORKERS", default_value = "1", value_parser = parse_workers)]
    pub workers: Workers,

    /// A tool call running longer gets an error result and is cancelled (default: no limit).
    #[arg(long, value_parser = parse_duration)]
    pub tool_timeout: Option<Duration>,

    /// Where sessions live: `memory` (default), or Redis (`redis://[:password@]host:port/db`,
    /// `rediss://` with TLS) shared by several instances.
    #[arg(long, env = "SUNPEAK_SESSION_STORE")]
    pub session_store: Option<String>,

    /// The secret that signs the `requestState` of MCP 2026-07-28 `input_required` round
    /// trips (any text; at least 32 bytes of randomness). Every instance behind one load
    /// balancer needs the same one. Default: a random key per process.
    #[arg(long, env = "SUNPEAK_STATE_KEY", hide_env_values = true)]
    pub state_key: Option<String>,

    /// Prometheus metrics at `GET /metrics` (`on` or `off`).
    #[arg(long, env = "SUNPEAK_METRICS", value_enum, default_value = "on")]
    pub metrics: Switch,

    /// Serve `/metrics` on this port (same --host) instead of the main port.
    #[arg(long, env = "SUNPEAK_METRICS_PORT")]
    pub metrics_port: Option<u16>,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

fn parse_server_url(text: &str) -> Result<String, String> {
    parse_http_url(text)
}

fn parse_http_url(text: &str) -> Result<String, String> {
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
            // Kept exactly as given: Claude's sandbox domain is a hash of this string.
            Ok(text.to_string())
        }
        Ok(_) => Err(format!(
            "`{text}` is not an http(s) URL (expected e.g. https://app.example.com/mcp)"
        )),
        Err(err) => Err(format!(
            "`{text}` is not a URL ({err}); expected e.g. https://app.example.com/mcp"
        )),
    }
}

impl StartArgs {
    /// The allowed origins as given, without empty entries.
    pub fn extra_origins(&self) -> Vec<String> {
        self.allowed_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: StartArgs,
    }

    fn parse(argv: &[&str]) -> Result<StartArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("start").chain(argv.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn both_flag_forms() {
        // Environment variables of the test process could leak in; only flags are checked.
        let a = parse(&[
            "--port=3001",
            "--host",
            "127.0.0.1",
            "--drain-timeout=300ms",
        ])
        .unwrap();
        assert_eq!(a.port, 3001);
        assert_eq!(a.host, "127.0.0.1");
        assert_eq!(a.drain_timeout, Duration::from_millis(300));
        let a = parse(&[
            "--max-connections=50",
            "--body-timeout",
            "2s",
            "--max-tool-result-bytes=1MiB",
        ])
        .unwrap();
        assert_eq!(a.max_connections, 50);
        assert_eq!(a.body_timeout, Duration::from_secs(2));
        assert_eq!(a.max_tool_result_bytes, 1024 * 1024);
        let a = parse(&["-p", "3002", "--workers=auto", "--tool-timeout", "5s"]).unwrap();
        assert_eq!(a.port, 3002);
        assert_eq!(a.workers, Workers::Auto);
        assert_eq!(a.tool_timeout, Some(Duration::from_secs(5)));
        let a = parse(&["--allowed-origins=https://a.example,https://b.example/"]).unwrap();
        assert_eq!(
            a.extra_origins(),
            ["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse(&["--port", "abc"]).is_err());
        assert!(parse(&["--port", "70000"]).is_err());
        assert!(parse(&["--max-sessions", "0"]).is_err());
        assert!(parse(&["--max-connections", "0"]).is_err());
        assert!(parse(&["--body-timeout", "slow"]).is_err());
        assert!(parse(&["--server-url", "not a url"]).is_err());
        assert!(parse(&["--server-url", "ftp://x.example/mcp"]).is_err());
        assert!(parse(&["--session-idle-timeout", "soon"]).is_err());
        assert!(parse(&["--unknown-flag"]).is_err());
        assert!(parse(&["--authorization-server", "auth.example.com"]).is_err());
        assert!(parse(&["--metrics", "maybe"]).is_err());
        assert!(parse(&["--metrics-port", "70000"]).is_err());
    }

    #[test]
    fn metrics_flags() {
        let a = parse(&["--metrics=off"]).unwrap();
        assert_eq!(a.metrics, Switch::Off);
        let a = parse(&["--metrics-port", "9464"]).unwrap();
        assert_eq!(a.metrics_port, Some(9464));
    }

    #[test]
    fn oauth_lists() {
        let a = parse(&[
            "--authorization-server=https://a.example,https://b.example",
            "--oauth-scopes",
            "read,write",
        ])
        .unwrap();
        assert_eq!(
            a.authorization_server,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(a.oauth_scopes, ["read", "write"]);
    }

    #[test]
    fn server_url_kept_verbatim() {
        let a = parse(&["--server-url", "https://Example.com/mcp"]).unwrap();
        assert_eq!(a.server_url.as_deref(), Some("https://Example.com/mcp"));
    }
}
