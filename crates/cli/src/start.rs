//! `sunpeak start`: serve the built `dist/` of the project in the current directory.
//!
//! Order of work, as the npm `sunpeak start` (its startup lines are kept verbatim):
//! 1. read `package.json` and the resources of `dist/` → `Found N resource(s): ...`;
//! 2. start the Node.js tool host, which loads `dist/tools/*.js` and `dist/server.js`
//!    → `Found N tool(s): ...`, `Loaded auth from server entry`, `Loaded OAuth metadata from
//!    server entry`; an OAuth config that breaks sunpeak's URL rules stops here (exit 1);
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
use mcp_apps::oauth::{OAuth, OAuthConfig};
use mcp_apps::routes::{not_found, site_route};
use mcp_apps::{DistResource, PackageInfo, load_resources, serve};
use mcp_transport::{
    BindError, CacheHints, CacheScope, HttpServer, McpBody, RedisConfig, ResponseMode,
    ShutdownOutcome, StateKey, Transport, TransportConfig,
};

use crate::logging::{self, Format};
use crate::{console, console_warn};

mod args;
mod metrics;
mod units;

pub use args::StartArgs;
use args::Switch;

/// Runs `sunpeak start` in the current directory. Errors are logged (as JSON lines with
/// `--json-logs`) and turned into exit code 1 here, so that every line has the chosen format.
pub fn run(args: StartArgs) -> Result<ExitCode> {
    logging::init(if args.json_logs {
        Format::Json
    } else {
        Format::Human
    });
    // Big request bodies go back to the system once handled (see the function's docs).
    mcp_transport::tune_allocator();
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
    let store = session_store(args.session_store.as_deref())?;
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
    let (app, oauth_export) = load_app(started, &args, &resources, &package).await?;
    // The catalog holds the HTML now (already JSON-escaped); the files' text is not needed.
    drop(resources);
    let oauth = oauth(&args, &app, oauth_export.as_deref())?.map(Arc::new);

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
    if let Some(hook) = serve::auth_hook(&app, oauth.clone()) {
        config = config.auth(hook);
    }
    if let Some(redis) = &store {
        config = config.redis_sessions(redis.clone());
    }
    config = config
        .cache_hints(LIST_HINTS)
        .resource_read_cache_hints(READ_HINTS);
    match args.state_key.as_deref().filter(|k| !k.is_empty()) {
        Some(secret) => config = config.state_key(StateKey::from_secret(secret.as_bytes())),
        // Sessions in Redis, or none at all, are how several instances are run: then a random
        // key per process breaks 2026-07-28 round trips that land on another one. A stateful
        // server with sessions in memory is one instance (its startup lines stay sunpeak's).
        None if store.is_some() || args.stateless => console_warn!(
            "Warning: no --state-key (SUNPEAK_STATE_KEY): MCP 2026-07-28 input_required round trips are signed with a random key of this process; give every instance the same secret"
        ),
        None => {
            tracing::debug!(target: "mcp", "no --state-key: input_required round trips are signed with a random key")
        }
    }
    let server = serve::mcp_server(&app).context("cannot register the tools and resources")?;
    let transport = Transport::new(server, config);
    let metrics = match args.metrics {
        Switch::On => Some(metrics::install(transport.clone(), Arc::clone(&app))?),
        Switch::Off => None,
    };
    // `/metrics` on the main port unless it has a port of its own.
    let metrics_route = metrics.clone().filter(|_| args.metrics_port.is_none());

    let ready = Arc::clone(&app);
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
            let scraped = metrics_route
                .as_ref()
                .and_then(|m| m.route(req.method(), req.uri().path()));
            async move {
                if let Some(resp) = scraped {
                    return resp;
                }
                let host = req
                    .headers()
                    .get(http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .or_else(|| req.uri().authority().map(|a| a.as_str()));
                let resp = site_route(req.method(), req.uri().path(), host, oauth.as_deref())
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
    let metrics_alone = match (&metrics, args.metrics_port) {
        (Some(m), Some(metrics_port)) => {
            let listener = metrics::bind(resolve(&args.host, metrics_port).await?).await?;
            let metrics_port = listener.local_addr()?.port();
            Some((
                tokio::spawn(metrics::serve_alone(listener, Arc::clone(m))),
                metrics_port,
            ))
        }
        _ => None,
    };
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
    } else if let Some(redis) = &store {
        console!("Sessions in Redis: {}", redis.shown_url());
    }
    let shown = display_host(&args.host);
    tracing::info!(target: "mcp", "Server listening on http://{shown}:{port}");
    tracing::info!(target: "mcp", "MCP endpoint: http://{shown}:{port}/mcp");
    tracing::info!(target: "mcp", "Health check: http://{shown}:{port}/health");
    if metrics.is_some() {
        let metrics_port = metrics_alone.as_ref().map_or(port, |(_, p)| *p);
        tracing::info!(target: "mcp", "Metrics: http://{shown}:{metrics_port}/metrics");
    }

    let outcome = bound.serve().await;
    if let Some((task, _)) = metrics_alone {
        task.abort();
    }
    app.shutdown().await;
    Ok(match outcome {
        ShutdownOutcome::Graceful => ExitCode::SUCCESS,
        ShutdownOutcome::Forced => ExitCode::FAILURE,
    })
}

/// Takes what the Node.js tool host loaded (`dist/tools`, `dist/server.js`) and assembles the
/// app, printing sunpeak's lines on the way. Also returns the `oauth` export (JSON text).
async fn load_app(
    started: Result<(NodeHost, LoadedApp), NodeHostError>,
    args: &StartArgs,
    resources: &[DistResource],
    package: &PackageInfo,
) -> Result<(Arc<McpApp>, Option<String>)> {
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
    let oauth = loaded.server.as_ref().and_then(|s| s.oauth.as_ref());
    if oauth.is_some() {
        console!("Loaded OAuth metadata from server entry");
    }
    let oauth = oauth.map(|raw| raw.get().to_string());
    let server_url = args.server_url.as_deref();
    let app = Arc::new(McpApp::new(resources, &loaded, host, package, server_url));
    Ok((app, oauth))
}

/// The OAuth setup: the `oauth` export of the server entry, which wins over
/// `--authorization-server` and `--oauth-scopes` (ignored then, with a warning), else those
/// flags with `--server-url`. `--server-url` is the public URL of `/mcp` in both cases (sunpeak's
/// `serverUrl`). A config that breaks sunpeak's URL rules is an error with sunpeak's text.
fn oauth(args: &StartArgs, app: &McpApp, export: Option<&str>) -> Result<Option<OAuth>> {
    let scopes: Vec<String> = args
        .oauth_scopes
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let config = match export {
        Some(json) => {
            if !args.authorization_server.is_empty() || !scopes.is_empty() {
                console_warn!(
                    "Warning: --authorization-server and --oauth-scopes are ignored: dist/server.js exports oauth"
                );
            }
            OAuthConfig::from_export(json)?
        }
        None if args.server_url.is_some() && !args.authorization_server.is_empty() => OAuthConfig {
            authorization_servers: args.authorization_server.clone(),
            scopes_supported: Some(scopes),
            resource_name: Some(app.identity().name().into()),
            ..OAuthConfig::default()
        },
        None => return Ok(None),
    };
    Ok(Some(OAuth::new(config, args.server_url.clone())?))
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

/// `--session-store`: `None` for the in-memory store, or a checked Redis URL.
/// The cache hints of modern list results: five minutes, for the requesting client only.
/// Lists do not change while the process runs, but a redeploy changes them (and the `ui://`
/// URIs tools point at), so five minutes bounds how stale a client may be; "private" because
/// resource `_meta` differs per host and an app with `auth()` may be answering one user.
const LIST_HINTS: CacheHints = CacheHints {
    ttl_ms: 300_000,
    cache_scope: CacheScope::Private,
};

/// The cache hints of `resources/read`: a day. `sunpeak build` names each resource by a hash
/// of its content (`ui://albums-3j9cl01x`), so new HTML comes under a new URI and a read can
/// never be stale; still "private", as its `_meta` is resolved per host.
const READ_HINTS: CacheHints = CacheHints {
    ttl_ms: 86_400_000,
    cache_scope: CacheScope::Private,
};

fn session_store(store: Option<&str>) -> Result<Option<RedisConfig>> {
    match store.map(str::trim) {
        None | Some("") | Some("memory") | Some("in-memory") => Ok(None),
        Some(url)
            if url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("redis+unix://") =>
        {
            let config = RedisConfig::new(url).with_context(|| {
                format!("--session-store: cannot use {}", RedisConfig::redacted(url))
            })?;
            Ok(Some(config))
        }
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
        assert!(session_store(None).unwrap().is_none());
        assert!(session_store(Some("memory")).unwrap().is_none());
        let redis = session_store(Some("redis://:pw@r:6379/1"))
            .unwrap()
            .unwrap();
        assert_eq!(redis.shown_url(), "redis://:***@r:6379/1");
        let tls = session_store(Some("rediss://:pw@r:6380/0"))
            .unwrap()
            .unwrap();
        assert_eq!(tls.shown_url(), "rediss://:***@r:6380/0");
        let err = format!(
            "{:#}",
            session_store(Some("redis://r:notaport")).unwrap_err()
        );
        assert!(
            err.contains("--session-store") && err.contains("invalid Redis URL"),
            "{err}"
        );
        let err = session_store(Some("etcd://x")).unwrap_err().to_string();
        assert!(err.contains("unknown session store"), "{err}");
    }
}
