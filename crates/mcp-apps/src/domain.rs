//! Per-host widget sandbox domains (`_meta.ui.domain`).
//!
//! A resource's `_meta.ui.domain` is either one string for every host or a map keyed by client
//! name (`claude`, `openai-mcp`, `default`). Maps are resolved for the connecting host
//! ([`inject_resolved_domain`]); when the server knows its public URL (`--server-url`), hosts
//! without an explicit domain get the one they compute themselves ([`inject_default_domain`]).
//! The algorithms are those of the npm `sunpeak` (`resolve-domain.ts`), kept exactly, including
//! where the resolved `domain` key lands (last in `ui`).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::js::truthy;

/// Claude's sandbox domain for a server URL: the first 32 hex characters of the SHA-256 of
/// the exact URL string, under `claudemcpcontent.com`.
///
/// ```
/// assert_eq!(
///     mcp_apps::compute_claude_domain("https://example.com/mcp"),
///     "c3d80a4ed901ee05b21755a88273b4a4.claudemcpcontent.com"
/// );
/// ```
pub fn compute_claude_domain(server_url: &str) -> String {
    let digest = Sha256::digest(server_url.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest.iter().take(16) {
        hex.push_str(&format!("{byte:02x}"));
    }
    format!("{hex}.claudemcpcontent.com")
}

/// ChatGPT's sandbox domain for a server URL: the URL's host name (the whole string when it
/// does not parse as a URL) with every run of characters other than ASCII letters and digits
/// replaced by `-`, one leading and one trailing `-` removed, under `oaiusercontent.com`.
///
/// ```
/// assert_eq!(
///     mcp_apps::compute_chatgpt_domain("https://My-App.example.com:8443/mcp"),
///     "my-app-example-com.oaiusercontent.com"
/// );
/// ```
pub fn compute_chatgpt_domain(server_url: &str) -> String {
    let host = match url::Url::parse(server_url) {
        Ok(url) => url.host_str().unwrap_or("").to_string(),
        Err(_) => server_url.to_string(),
    };
    let mut slug = String::with_capacity(host.len());
    let mut in_run = false;
    for c in host.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
            in_run = false;
        } else if !in_run {
            slug.push('-');
            in_run = true;
        }
    }
    let slug = slug.strip_prefix('-').unwrap_or(&slug);
    let slug = slug.strip_suffix('-').unwrap_or(slug);
    format!("{slug}.oaiusercontent.com")
}

/// Resolves a domain config for a host: a string is returned as is; a map gives
/// `map[client]` when the client is known and its entry is truthy, else `map["default"]`.
///
/// Any other value resolves to `None` (sunpeak throws on `null`; we treat it as "no domain").
pub fn resolve_domain(domain: &Value, client: Option<&str>) -> Option<Value> {
    match domain {
        Value::String(_) => Some(domain.clone()),
        Value::Object(map) => {
            if let Some(value) = client.and_then(|c| map.get(c)).filter(|v| truthy(v)) {
                return Some(value.clone());
            }
            map.get("default").cloned()
        }
        _ => None,
    }
}

/// Resolves a per-host `_meta.ui.domain` map for the connecting host.
///
/// When `_meta.ui.domain` is a map, it is replaced by the resolved value (moved to the end of
/// `ui`), or removed when nothing matches. A string domain, a missing one, or metadata without
/// `ui` leaves `meta` unchanged.
///
/// ```
/// use serde_json::json;
/// let meta = json!({"ui": {"domain": {"claude": "c.example", "default": "d.example"}, "x": 1}});
/// assert_eq!(
///     mcp_apps::inject_resolved_domain(Some(&meta), Some("claude")),
///     Some(json!({"ui": {"x": 1, "domain": "c.example"}}))
/// );
/// ```
pub fn inject_resolved_domain(meta: Option<&Value>, client: Option<&str>) -> Option<Value> {
    let meta = meta?;
    let Some(ui) = meta.get("ui").and_then(Value::as_object) else {
        return Some(meta.clone());
    };
    let domain = match ui.get("domain") {
        None | Some(Value::String(_)) => return Some(meta.clone()),
        Some(domain) => domain,
    };
    let resolved = resolve_domain(domain, client);
    let mut new_ui = ui.clone();
    new_ui.shift_remove("domain");
    if let Some(resolved) = resolved {
        new_ui.insert("domain".to_string(), resolved);
    }
    let mut new_meta = meta.as_object().cloned().unwrap_or_default();
    new_meta.insert("ui".to_string(), Value::Object(new_ui));
    Some(Value::Object(new_meta))
}

/// Adds the connecting host's default sandbox domain, computed from the public server URL,
/// when `_meta.ui.domain` is not already a string: ChatGPT (`openai-mcp` or a name starting
/// with `chatgpt`) gets [`compute_chatgpt_domain`], Claude gets [`compute_claude_domain`].
/// Other hosts get `meta` unchanged, and missing metadata becomes `{}` (as sunpeak).
///
/// ```
/// use serde_json::json;
/// assert_eq!(
///     mcp_apps::inject_default_domain(None, Some("openai-mcp"), "https://www.example.com/mcp"),
///     json!({"ui": {"domain": "www-example-com.oaiusercontent.com"}})
/// );
/// ```
pub fn inject_default_domain(
    meta: Option<&Value>,
    client: Option<&str>,
    server_url: &str,
) -> Value {
    let ui = meta.and_then(|m| m.get("ui")).filter(|ui| !ui.is_null());
    if let Some(Value::String(_)) = ui.and_then(|ui| ui.get("domain")) {
        return meta.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    }
    let domain = match client {
        Some(c) if c == "openai-mcp" || c.starts_with("chatgpt") => {
            compute_chatgpt_domain(server_url)
        }
        Some("claude") => compute_claude_domain(server_url),
        _ => return meta.cloned().unwrap_or_else(|| Value::Object(Map::new())),
    };
    let mut new_ui = ui.and_then(Value::as_object).cloned().unwrap_or_default();
    new_ui.insert("domain".to_string(), Value::String(domain));
    let mut new_meta = meta.and_then(Value::as_object).cloned().unwrap_or_default();
    new_meta.insert("ui".to_string(), Value::Object(new_ui));
    Value::Object(new_meta)
}

/// The metadata a host sees for a resource: the per-host map resolved, then (with a public
/// server URL) the default domain injected. `None` means "no `_meta`".
pub fn final_resource_meta(
    meta: Option<&Value>,
    client: Option<&str>,
    server_url: Option<&str>,
) -> Option<Value> {
    let resolved = inject_resolved_domain(meta, client);
    match server_url {
        Some(url) => Some(inject_default_domain(resolved.as_ref(), client, url)),
        None => resolved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claude_domain_examples() {
        // The example in sunpeak-reference 5.9 (sunpeak's own JSDoc example is wrong).
        assert_eq!(
            compute_claude_domain("https://example.com/mcp"),
            "c3d80a4ed901ee05b21755a88273b4a4.claudemcpcontent.com"
        );
        // Exact string: a trailing slash changes the hash.
        assert_ne!(
            compute_claude_domain("https://example.com/mcp/"),
            compute_claude_domain("https://example.com/mcp")
        );
    }

    #[test]
    fn chatgpt_domain_examples() {
        assert_eq!(
            compute_chatgpt_domain("https://My-App.example.com:8443/mcp"),
            "my-app-example-com.oaiusercontent.com"
        );
        assert_eq!(
            compute_chatgpt_domain("https://www.example.com/mcp"),
            "www-example-com.oaiusercontent.com"
        );
        // Not a URL: the whole string is slugged.
        assert_eq!(
            compute_chatgpt_domain("not a url!"),
            "not-a-url.oaiusercontent.com"
        );
        assert_eq!(
            compute_chatgpt_domain("http://[::1]:3000/mcp"),
            "1.oaiusercontent.com"
        );
        assert_eq!(
            compute_chatgpt_domain("https://a--b..c/mcp"),
            "a-b-c.oaiusercontent.com"
        );
    }

    #[test]
    fn resolve_domain_rules() {
        let map = json!({"claude": "c", "openai-mcp": "", "default": "d"});
        assert_eq!(resolve_domain(&map, Some("claude")), Some(json!("c")));
        // An empty (falsy) entry falls back to default.
        assert_eq!(resolve_domain(&map, Some("openai-mcp")), Some(json!("d")));
        assert_eq!(resolve_domain(&map, None), Some(json!("d")));
        assert_eq!(resolve_domain(&json!({"claude": "c"}), None), None);
        assert_eq!(
            resolve_domain(&json!("s"), Some("claude")),
            Some(json!("s"))
        );
        assert_eq!(resolve_domain(&Value::Null, Some("claude")), None);
    }

    #[test]
    fn resolved_domain_moves_to_end_of_ui() {
        let meta =
            json!({"ui": {"domain": {"openai-mcp": "o", "default": "d"}, "csp": {}}, "z": 1});
        let out = inject_resolved_domain(Some(&meta), Some("openai-mcp")).unwrap();
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"ui":{"csp":{},"domain":"o"},"z":1}"#
        );
        let out = inject_resolved_domain(Some(&meta), Some("claude")).unwrap();
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"ui":{"csp":{},"domain":"d"},"z":1}"#
        );
    }

    #[test]
    fn unmatched_map_removes_domain() {
        let meta = json!({"ui": {"domain": {"claude": "c"}, "csp": {}}});
        let out = inject_resolved_domain(Some(&meta), None).unwrap();
        assert_eq!(out, json!({"ui": {"csp": {}}}));
    }

    #[test]
    fn string_or_missing_domain_unchanged() {
        let meta = json!({"ui": {"domain": "fixed.example", "csp": {}}});
        assert_eq!(
            inject_resolved_domain(Some(&meta), Some("claude")),
            Some(meta.clone())
        );
        let meta = json!({"other": 1});
        assert_eq!(
            inject_resolved_domain(Some(&meta), Some("claude")),
            Some(meta.clone())
        );
        assert_eq!(inject_resolved_domain(None, Some("claude")), None);
    }

    #[test]
    fn default_domain_per_host() {
        let url = "https://example.com/mcp";
        let meta = json!({"ui": {"csp": {}}});
        assert_eq!(
            inject_default_domain(Some(&meta), Some("claude"), url),
            json!({"ui": {"csp": {}, "domain": "c3d80a4ed901ee05b21755a88273b4a4.claudemcpcontent.com"}})
        );
        assert_eq!(
            inject_default_domain(Some(&meta), Some("openai-mcp"), url),
            json!({"ui": {"csp": {}, "domain": "example-com.oaiusercontent.com"}})
        );
        assert_eq!(
            inject_default_domain(Some(&meta), Some("chatgpt-web"), url),
            json!({"ui": {"csp": {}, "domain": "example-com.oaiusercontent.com"}})
        );
        // Unknown host: unchanged; missing meta becomes {}.
        assert_eq!(inject_default_domain(Some(&meta), None, url), meta);
        assert_eq!(inject_default_domain(None, None, url), json!({}));
        // An explicit string domain is kept.
        let fixed = json!({"ui": {"domain": "mine.example"}});
        assert_eq!(
            inject_default_domain(Some(&fixed), Some("claude"), url),
            fixed
        );
    }

    #[test]
    fn final_meta_resolves_then_defaults() {
        let url = "https://example.com/mcp";
        let meta = json!({"ui": {"domain": {"openai-mcp": "o.example"}}});
        // ChatGPT: the map entry wins.
        assert_eq!(
            final_resource_meta(Some(&meta), Some("openai-mcp"), Some(url)),
            Some(json!({"ui": {"domain": "o.example"}}))
        );
        // Claude: no entry, the map is removed, then Claude's default is computed.
        assert_eq!(
            final_resource_meta(Some(&meta), Some("claude"), Some(url)),
            Some(
                json!({"ui": {"domain": "c3d80a4ed901ee05b21755a88273b4a4.claudemcpcontent.com"}})
            )
        );
        // Without a server URL, nothing is computed.
        assert_eq!(
            final_resource_meta(Some(&meta), Some("claude"), None),
            Some(json!({"ui": {}}))
        );
        assert_eq!(final_resource_meta(None, None, None), None);
    }
}
