//! Which AI host sent a request, from its HTTP headers.
//!
//! ChatGPT sends `user-agent: openai-mcp/1.0.0` on its MCP requests; Claude sends
//! `user-agent: Claude-User` and `x-anthropic-client: ClaudeAI`. The host matters for resources
//! whose `_meta.ui.domain` is a per-host map and for the default sandbox domains computed from
//! `--server-url` (see [`crate::domain`]). The rules are those of the npm `sunpeak`
//! `detectClientFromHeaders`, in the same order.

use http::HeaderMap;

/// An AI host recognised from request headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostClient {
    /// Claude (claude.ai, Claude Desktop): client name `claude`.
    Claude,
    /// ChatGPT: client name `openai-mcp`.
    OpenAi,
}

impl HostClient {
    /// The client name used as a key of `_meta.ui.domain` maps: `claude` or `openai-mcp`.
    pub fn name(self) -> &'static str {
        match self {
            HostClient::Claude => "claude",
            HostClient::OpenAi => "openai-mcp",
        }
    }
}

impl std::fmt::Display for HostClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Detects the host from request headers, as sunpeak's `detectClientFromHeaders`:
///
/// 1. `user-agent` contains `claude` (any case): Claude (checked first);
/// 2. `user-agent` contains `openai` (any case): ChatGPT;
/// 3. a non-empty `x-anthropic-client` header: Claude;
/// 4. a non-empty `x-openai-session` header: ChatGPT;
/// 5. otherwise `None`.
///
/// Only the first value of a repeated header is looked at.
///
/// ```
/// use http::HeaderMap;
/// use mcp_apps::{detect_client, HostClient};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("user-agent", "openai-mcp/1.0.0".parse().unwrap());
/// assert_eq!(detect_client(&headers), Some(HostClient::OpenAi));
/// ```
pub fn detect_client(headers: &HeaderMap) -> Option<HostClient> {
    if let Some(ua) = header_value(headers, "user-agent") {
        let ua = ua.to_ascii_lowercase();
        if ua.contains("claude") {
            return Some(HostClient::Claude);
        }
        if ua.contains("openai") {
            return Some(HostClient::OpenAi);
        }
    }
    if header_value(headers, "x-anthropic-client").is_some() {
        return Some(HostClient::Claude);
    }
    if header_value(headers, "x-openai-session").is_some() {
        return Some(HostClient::OpenAi);
    }
    None
}

/// The first value of a header as text, `None` when absent or empty (falsy in sunpeak).
fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?;
    if value.is_empty() {
        return None;
    }
    Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn user_agents() {
        assert_eq!(
            detect_client(&headers(&[("user-agent", "Claude-User")])),
            Some(HostClient::Claude)
        );
        assert_eq!(
            detect_client(&headers(&[("user-agent", "openai-mcp/1.0.0")])),
            Some(HostClient::OpenAi)
        );
        assert_eq!(
            detect_client(&headers(&[("user-agent", "Mozilla/5.0 OpenAI bot")])),
            Some(HostClient::OpenAi)
        );
        assert_eq!(detect_client(&headers(&[("user-agent", "curl/8.0")])), None);
        assert_eq!(detect_client(&HeaderMap::new()), None);
    }

    #[test]
    fn claude_is_checked_before_openai() {
        let h = headers(&[("user-agent", "openai-compatible claude proxy")]);
        assert_eq!(detect_client(&h), Some(HostClient::Claude));
    }

    #[test]
    fn user_agent_wins_over_fallback_headers() {
        let h = headers(&[
            ("user-agent", "openai-mcp/1.0.0"),
            ("x-anthropic-client", "ClaudeAI"),
        ]);
        assert_eq!(detect_client(&h), Some(HostClient::OpenAi));
    }

    #[test]
    fn fallback_headers() {
        let h = headers(&[("user-agent", "node"), ("x-anthropic-client", "ClaudeAI")]);
        assert_eq!(detect_client(&h), Some(HostClient::Claude));
        let h = headers(&[("x-openai-session", "abc")]);
        assert_eq!(detect_client(&h), Some(HostClient::OpenAi));
        let h = headers(&[("x-anthropic-client", ""), ("x-openai-session", "abc")]);
        assert_eq!(detect_client(&h), Some(HostClient::OpenAi));
        let h = headers(&[("x-anthropic-client", ""), ("user-agent", "")]);
        assert_eq!(detect_client(&h), None);
    }

    #[test]
    fn first_value_of_repeated_header() {
        let h = headers(&[("user-agent", "curl"), ("user-agent", "claude")]);
        assert_eq!(detect_client(&h), None);
    }

    #[test]
    fn non_utf8_header_does_not_panic() {
        let mut h = HeaderMap::new();
        h.insert(
            "user-agent",
            http::HeaderValue::from_bytes(b"\xffclaude").unwrap(),
        );
        assert_eq!(detect_client(&h), Some(HostClient::Claude));
    }
}
