//! What every modern result carries: `resultType` (`"complete"` unless the handler said
//! otherwise) and, on lists, reads and `server/discover`, cache hints (`ttlMs`, `cacheScope`)
//! unless the handler set its own.

use mcp_proto::{CacheHints, methods};

use crate::payload::Payload;

/// Whether results of a method are cacheable (carry `ttlMs` and `cacheScope`).
pub(crate) fn is_cacheable(method: &str) -> bool {
    matches!(
        method,
        methods::TOOLS_LIST
            | methods::PROMPTS_LIST
            | methods::RESOURCES_LIST
            | methods::RESOURCES_TEMPLATES_LIST
            | methods::RESOURCES_READ
            | methods::SERVER_DISCOVER
    )
}

/// A handler's result as the modern era sends it.
pub(crate) fn complete(method: &str, payload: Payload, hints: CacheHints) -> Payload {
    if is_cacheable(method) {
        let ttl = hints.ttl_ms.to_string();
        let scope = format!("\"{}\"", hints.cache_scope.as_str());
        payload.with_members(&[
            ("resultType", "\"complete\""),
            ("ttlMs", &ttl),
            ("cacheScope", &scope),
        ])
    } else {
        payload.with_members(&[("resultType", "\"complete\"")])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_proto::CacheScope;
    use serde_json::json;

    #[test]
    fn lists_get_hints_calls_do_not() {
        let hints = CacheHints {
            ttl_ms: 60_000,
            cache_scope: CacheScope::Public,
        };
        let list = complete("tools/list", Payload::raw(&br#"{"tools":[]}"#[..]), hints);
        assert_eq!(
            list.to_value().unwrap(),
            json!({"resultType": "complete", "ttlMs": 60000, "cacheScope": "public", "tools": []})
        );
        let call = complete("tools/call", Payload::value(json!({"content": []})), hints);
        assert_eq!(
            call.to_value().unwrap(),
            json!({"resultType": "complete", "content": []})
        );
        // A handler's own hints win.
        let own = complete(
            "resources/read",
            Payload::value(json!({"contents": [], "ttlMs": 5, "cacheScope": "private"})),
            hints,
        );
        assert_eq!(own.to_value().unwrap()["ttlMs"], 5);
        assert_eq!(own.to_value().unwrap()["cacheScope"], "private");
    }
}
