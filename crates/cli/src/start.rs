//! `sunpeak start`: serve the built `dist/` of the project in the current directory.
//!
//! Order of work, as the npm `sunpeak start` (its startup lines are kept verbatim):
//! 1. read `package.json` and the resources of `dist/` → `Found N resource(s): ...`;
//! 2. start the Node.js tool host, which loads `dist/tools/*.js` and `dist/server.js`
//!    → `Found N tool(s): ...`, `Loaded auth from server entry`;
//! 3. bind (a busy port is an error, never a silent move to another port), then
//!    `Starting <name> v<version> on <host>:<port>...` and `[MCP] Server listening on ...`;
//! 4. serve until SIGTERM/SIGINT, then drain (`Shutting down MCP server...`).

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use mcp_apps::app::McpApp;
use mcp_apps::node::{LoadedApp, NodeHost, NodeHostConfig, NodeHostError};
use mcp_apps::routes::{ProtectedResource, not_found, site_route};
use mcp_apps::{DistResource, PackageInfo, load_resources, serve};
use mcp_transport::{
    BindError, HttpServer, McpBody, ResponseMode, ShutdownOutcome, Transport, TransportConfig,
};

use crate::logging::{self, Format};
use crate::{console, console_warn};

mod args;
mod units;

pub use args::StartArgs;

/// Runs `sunpeak start` in the current directory. Errors are logged (as JSON lines with
/// `--json-logs`) and turned into exit code 1 here, so that every line has the chosen format.
pub fn run(args: StartArgs) -> Result<ExitCode> {
    logging::init(if args.json_logs {
        Format::Json
    } else {
        Format::Human
    });
    let root = std::env::current_dir().context("cannot read the current directory")?;
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(start(&root, args)));
    let code = match outcome {
        Ok(code) => code,
        Err(err) => {
            tracing::error!(target: logging::CONSOLE, "Error: {err:#}");
            ExitCode::FAILURE
        }
    };
    // The last lines (`MCP server closed`, the error) must reach the output before exit.
    logging::flush();
    Ok(code)
}

async fn start(root: &Path, args: StartArgs) -> Result<ExitCode> {
    check_session_store(args.session_store.as_deref())?;
    let package = PackageInfo::read(root).map_err(|err| match err {
        mcp_apps::DistError::NoPackageJson(_) => anyhow::anyhow!(
            "No package.json found in current directory\nMake sure you are in a Sunpeak project directory"
        ),
        other => other.into(),
    })?;
    let dist = root.join("dist");
    if !dist.is_dir() {
        return Err(mcp_apps::DistError::NoDist(dist).into());
    }
    // Node.js starts (and imports the tools) while the resources are read.
    let mut node_config = NodeHostConfig::new(root, &dist);
    node_config.workers = args.workers.resolve();
    node_config.call_timeout = args.tool_timeout;
    node_config.max_result_bytes =
        usize::try_from(args.max_tool_result_bytes).unwrap_or(usize::MAX);
    let node = tokio::spawn(NodeHost::start(node_config));
    let read = tokio::task::spawn_blocking(move || load_resources(&dist)).await;
    let resources = match read {
        Ok(Ok(resources)) => resources,
        Ok(Err(err)) => {
            // Dropping the half-started host stops its workers.
            node.abort();
            return Err(err.into());
        }
        Err(join) => {
            node.abort();
            bail!("reading dist/ failed: {join}");
        }
    };
    if !resources.is_empty() {
        let names: Vec<&str> = resources.iter().map(|r| r.name.as_str()).collect();
        console!(
            "Found {} resource(s): {}",
            resources.len(),
            names.join(", ")
        );
    }

    let started = node.await.context("the Node.js tool host task failed")?;
    let app = load_app(started, &args, &resources, &package).await?;
    // The catalog holds the HTML now (already JSON-escaped); the files' text is not needed.
    drop(resources);
    let oauth = oauth_metadata(&args, &app);

    let mut config = TransportConfig::new()
        .stateless(args.stateless)
        .response_mode(if args.sse {
            ResponseMode::Sse
        } else {
            ResponseMode::Json
        })
        .session_idle_timeout(args.session_idle_timeout)
        .max_sessions(usize::try_from(args.max_sessions).unwrap_or(usize::MAX))
        .max_body_bytes(usize::try_from(args.max_body_bytes).unwrap_or(usize::MAX))
        .body_timeout(args.body_timeout)
        .allowed_origins(allowed_origins(&args))
        .drain_timeout(args.drain_timeout)
        // As sunpeak: any non-empty value turns it on.
        .log_headers(std::env::var_os("SUNPEAK_LOG_HEADERS").is_some_and(|v| !v.is_empty()));
    if let Some(oauth) = &oauth {
        config = config.resource_metadata_url(oauth.metadata_url());
    }
    if let Some(hook) = serve::auth_hook(&app) {
        config = config.auth(hook);
    }
    let server = serve::mcp_server(&app).context("cannot register the tools and resources")?;
    let transport = Transport::new(server, config);

    let ready = Arc::clone(&app);
    let oauth = oauth.map(Arc::new);
    let http = HttpServer::new(transport)
        .max_connections(usize::try_from(args.max_connections).unwrap_or(usize::MAX))
        .readiness(move || {
            if ready.is_ready() {
                Ok(())
            } else {
                Err("no Node.js tool worker is running".to_string())
            }
        })
        .fallback(move |req| {
            let oauth = oauth.clone();
            async move {
                let resp = site_route(req.method(), req.uri().path(), oauth.as_deref())
                    .unwrap_or_else(not_found);
                resp.map(McpBody::full)
            }
        });

    let addr = resolve(&args.host, args.port).await?;
    let bound = http.bind(addr).await.map_err(|err| match err {
        BindError::AddrInUse { .. } => anyhow::anyhow!(
            "Port {} is already in use on {}. Stop the other process or choose another port with --port (or PORT).",
            args.port,
            args.host
        ),
        other => other.into(),
    })?;
    let port = bound.local_addr().port();
    let identity = app.identity();
    console!("");
    console!(
        "Starting {} v{} on {}:{port}...",
        identity.name(),
        identity.version(),
        args.host
    );
    if args.stateless {
        console!("Stateless mode enabled (no session tracking)");
    }
    let shown = display_host(&args.host);
    tracing::info!(target: "mcp", "Server listening on http://{shown}:{port}");
    tracing::info!(target: "mcp", "MCP endpoint: http://{shown}:{port}/mcp");
    tracing::info!(target: "mcp", "Health check: http://{shown}:{port}/health");

    let outcome = bound.serve().await;
    app.shutdown().await;
    Ok(match outcome {
        ShutdownOutcome::Graceful => ExitCode::SUCCESS,
        ShutdownOutcome::Forced => ExitCode::FAILURE,
    })
}

/// Takes what the Node.js tool host loaded (`dist/tools`, `dist/server.js`) and assembles the
/// app, printing sunpeak's lines on the way.
async fn load_app(
    started: Result<(NodeHost, LoadedApp), NodeHostError>,
    args: &StartArgs,
    resources: &[DistResource],
    package: &PackageInfo,
) -> Result<Arc<McpApp>> {
    let (host, loaded) = started?;
    for warning in &loaded.warnings {
        console_warn!("Warning: {warning}");
    }
    if loaded.tools.is_empty() && resources.is_empty() {
        host.shutdown().await;
        bail!("No compiled tools or resources found in dist/. Run `sunpeak build` first.");
    }
    if !loaded.tools.is_empty() {
        let names: Vec<&str> = loaded.tools.iter().map(|t| t.name.as_str()).collect();
        console!("Found {} tool(s): {}", names.len(), names.join(", "));
    }
    if loaded.server.as_ref().is_some_and(|s| s.has_auth) {
        console!("Loaded auth from server entry");
    }
    let server_url = args.server_url.as_deref();
    Ok(Arc::new(McpApp::new(
        resources, &loaded, host, package, server_url,
    )))
}

/// The protected-resource metadata, when both the public URL and an authorization server are
/// known.
fn oauth_metadata(args: &StartArgs, app: &McpApp) -> Option<ProtectedResource> {
    let resource = args.server_url.clone()?;
    if args.authorization_server.is_empty() {
        return None;
    }
    Some(ProtectedResource {
        resource,
        authorization_servers: args.authorization_server.clone(),
        scopes: args
            .oauth_scopes
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        resource_name: Some(app.identity().name()),
    })
}

/// `--allowed-origins` plus the origin of `--server-url`.
fn allowed_origins(args: &StartArgs) -> Vec<String> {
    let mut origins = args.extra_origins();
    if let Some(url) = args
        .server_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
    {
        origins.push(url.origin().ascii_serialization());
    }
    origins
}

/// The socket address for `--host` (an IP address or a name) and `--port`.
async fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    tokio::net::lookup_host((host, port))
        .await
        .with_context(|| format!("cannot resolve --host {host}"))?
        .next()
        .with_context(|| format!("--host {host} resolves to no address"))
}

/// The host shown in URLs: `localhost` for `0.0.0.0` (as sunpeak), IPv6 in brackets.
fn display_host(host: &str) -> String {
    match host {
        "0.0.0.0" => "localhost".to_string(),
        h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        h => h.to_string(),
    }
}

/// Only the in-memory session store exists today.
fn check_session_store(store: Option<&str>) -> Result<()> {
    match store.map(str::trim) {
        None | Some("") | Some("memory") | Some("in-memory") => Ok(()),
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => bail!(
            "--session-store {url}: Redis session stores are not supported yet. \
             Run one instance with the in-memory store, or several in --stateless mode behind any load balancer."
        ),
        Some(other) => bail!(
            "--session-store {other}: unknown session store (expected `memory` or a redis:// URL)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hosts() {
        assert_eq!(display_host("0.0.0.0"), "localhost");
        assert_eq!(display_host("127.0.0.1"), "127.0.0.1");
        assert_eq!(display_host("::"), "[::]");
        assert_eq!(display_host("[::1]"), "[::1]");
    }

    #[test]
    fn session_stores() {
        assert!(check_session_store(None).is_ok());
        assert!(check_session_store(Some("memory")).is_ok());
        let err = check_session_store(Some("redis://r:6379"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not supported yet"), "{err}");
        assert!(check_session_store(Some("etcd://x")).is_err());
    }
}
