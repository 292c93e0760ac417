//! Log lines with sunpeak's texts (target `mcp`), so a binary can print `[MCP] <msg>` with
//! the structured fields (`sessionId`, `active`, `error`) as sunpeak's JSON extras.

use std::borrow::Cow;

use tracing::Level;

use crate::session::id::short;

/// The tracing target of every line this crate logs.
pub const TARGET: &str = "mcp";

/// `← <method>` (+ ` uri="…"` for `resources/read`, + ` (<sid8>...)` with a session header).
pub(crate) fn incoming(method: &str, uri: Option<&str>, session_header: Option<&str>) {
    if !tracing::enabled!(target: TARGET, Level::INFO) {
        return;
    }
    let line = incoming_line(method, uri, session_header);
    tracing::info!(target: TARGET, "{line}");
}

fn incoming_line(method: &str, uri: Option<&str>, session_header: Option<&str>) -> String {
    let mut line = format!("← {}", printable(method, 200));
    if let Some(uri) = uri {
        line.push_str(" uri=");
        line.push_str(&serde_json::to_string(&printable(uri, 2048)).unwrap_or_default());
    }
    if let Some(sid) = session_header {
        line.push_str(&format!(" ({}...)", short(sid)));
    }
    line
}

/// Text a client chose (a method name, a URI, argument names), made safe for one log line:
/// control characters escaped (`\n` cannot start a forged line) and cut after `max` bytes.
pub fn printable(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max && !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(max) + 16);
    for c in text.chars() {
        if out.len() >= max {
            out.push_str(&format!("... [{} bytes]", text.len()));
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Headers whose values are credentials: logged as [`REDACTED`].
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// What a secret header's value is logged as.
pub const REDACTED: &str = "[redacted]";

/// The longest client-sent session id kept in a log field (ours are 36 characters).
const MAX_LOGGED_SESSION_ID: usize = 64;

/// `Headers: <JSON.stringify(headers, null, 2)>`: lower-case names, repeated values joined
/// with `", "`, as Node presents `IncomingMessage` headers; credentials (`Authorization`,
/// `Proxy-Authorization`, `Cookie`, `Set-Cookie`) as `[redacted]`, as logs are read by more
/// people than the tokens are meant for.
pub(crate) fn headers(headers: &http::HeaderMap) {
    if !tracing::enabled!(target: TARGET, Level::INFO) {
        return;
    }
    tracing::info!(target: TARGET, "Headers: {}", headers_json(headers));
}

fn headers_json(headers: &http::HeaderMap) -> String {
    let mut map = serde_json::Map::new();
    for name in headers.keys() {
        let joined = if SECRET_HEADERS.contains(&name.as_str()) {
            REDACTED.to_owned()
        } else if name.as_str() == crate::http::headers::SESSION_ID {
            let id = crate::http::headers::get(headers, name.as_str()).unwrap_or("");
            printable(id, MAX_LOGGED_SESSION_ID).into_owned()
        } else {
            headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        map.insert(name.as_str().to_owned(), serde_json::Value::String(joined));
    }
    serde_json::to_string_pretty(&map).unwrap_or_default()
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

/// `Transport error (<sid8>...)` / `Transport error` {sessionId?, error}. The session id is
/// the client's header, possibly bogus and huge: the field keeps at most 64 characters.
pub(crate) fn transport_error(session: Option<&str>, error: &str) {
    match session {
        Some(id) => tracing::error!(
            target: TARGET,
            sessionId = &*printable(id, MAX_LOGGED_SESSION_ID),
            error = format!("Error: {error}"),
            "Transport error ({}...)",
            short(id)
        ),
        None => {
            tracing::error!(target: TARGET, error = format!("Error: {error}"), "Transport error")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_text_cannot_forge_or_flood_log_lines() {
        assert_eq!(incoming_line("tools/list", None, None), "← tools/list");
        // A method with a line break printed a second, forged line.
        let forged = incoming_line("x\n[MCP] Session started: evil...", None, None);
        assert!(!forged.contains('\n'), "{forged}");
        assert_eq!(forged, "← x\\n[MCP] Session started: evil...");
        // A 4 MiB method was printed whole.
        let long = incoming_line(
            &"m".repeat(4 << 20),
            Some(&"u".repeat(4 << 20)),
            Some("abcdefghij"),
        );
        assert!(long.len() < 2400, "{}", long.len());
        assert!(
            long.ends_with("... [4194304 bytes]\" (abcdefgh...)"),
            "{}",
            &long[long.len() - 60..]
        );
        assert_eq!(printable("ok", 10), "ok");
        assert_eq!(printable("a\u{7}é", 10), "a\\u{7}é");
    }

    #[test]
    fn credentials_are_redacted_from_logged_headers() {
        let mut h = http::HeaderMap::new();
        h.insert(
            "authorization",
            http::HeaderValue::from_static("Bearer secret"),
        );
        h.insert("cookie", http::HeaderValue::from_static("sid=secret"));
        h.insert("set-cookie", http::HeaderValue::from_static("a=secret"));
        h.insert("user-agent", http::HeaderValue::from_static("e2e"));
        let json = headers_json(&h);
        assert!(!json.contains("secret"), "{json}");
        assert!(json.contains("\"authorization\": \"[redacted]\""), "{json}");
        assert!(json.contains("\"user-agent\": \"e2e\""), "{json}");
        // A client's (bogus, huge) session id is cut.
        let long = "s".repeat(5000);
        h.insert(
            "mcp-session-id",
            http::HeaderValue::from_str(&long).unwrap(),
        );
        assert!(headers_json(&h).len() < 400, "{}", headers_json(&h).len());
    }
}
