//! Log lines with sunpeak's texts (target `mcp`), so a binary can print `[MCP] <msg>` with
//! the structured fields (`sessionId`, `active`, `error`) as sunpeak's JSON extras.

use tracing::Level;

use crate::session::id::short;

/// The tracing target of every line this crate logs.
pub const TARGET: &str = "mcp";

/// `← <method>` (+ ` uri="…"` for `resources/read`, + ` (<sid8>...)` with a session header).
pub(crate) fn incoming(method: &str, uri: Option<&str>, session_header: Option<&str>) {
    if !tracing::enabled!(target: TARGET, Level::INFO) {
        return;
    }
    let mut line = format!("← {method}");
    if let Some(uri) = uri {
        line.push_str(" uri=");
        line.push_str(&serde_json::to_string(uri).unwrap_or_default());
    }
    if let Some(sid) = session_header {
        line.push_str(&format!(" ({}...)", short(sid)));
    }
    tracing::info!(target: TARGET, "{line}");
}

/// `Headers: <JSON.stringify(headers, null, 2)>`: lower-case names, repeated values joined
/// with `", "`, as Node presents `IncomingMessage` headers.
pub(crate) fn headers(headers: &http::HeaderMap) {
    if !tracing::enabled!(target: TARGET, Level::INFO) {
        return;
    }
    let mut map = serde_json::Map::new();
    for name in headers.keys() {
        let joined = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        map.insert(name.as_str().to_owned(), serde_json::Value::String(joined));
    }
    let pretty = serde_json::to_string_pretty(&map).unwrap_or_default();
    tracing::info!(target: TARGET, "Headers: {pretty}");
}

/// `Session started: <sid8>...` {sessionId, active}.
pub(crate) fn session_started(id: &str, active: usize) {
    tracing::info!(target: TARGET, sessionId = id, active, "Session started: {}...", short(id));
}

/// `Session closed: <sid8>...` {sessionId, active}.
pub(crate) fn session_closed(id: &str, active: usize) {
    tracing::info!(target: TARGET, sessionId = id, active, "Session closed: {}...", short(id));
}

/// `Session expired: <sid8>...` {sessionId, active}, then `Session closed`.
pub(crate) fn session_expired(id: &str, active: usize) {
    tracing::info!(target: TARGET, sessionId = id, active, "Session expired: {}...", short(id));
    session_closed(id, active);
}

/// `Transport error (<sid8>...)` / `Transport error` {sessionId?, error}.
pub(crate) fn transport_error(session: Option<&str>, error: &str) {
    match session {
        Some(id) => tracing::error!(
            target: TARGET,
            sessionId = id,
            error = format!("Error: {error}"),
            "Transport error ({}...)",
            short(id)
        ),
        None => {
            tracing::error!(target: TARGET, error = format!("Error: {error}"), "Transport error")
        }
    }
}
