//! Reading the request headers that MCP cares about.

use http::HeaderMap;
use http::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};

/// `Mcp-Session-Id`.
pub const SESSION_ID: &str = "mcp-session-id";
/// `MCP-Protocol-Version`.
pub const PROTOCOL_VERSION: &str = "mcp-protocol-version";
/// `Last-Event-ID`.
pub const LAST_EVENT_ID: &str = "last-event-id";

/// A header as text (`None` if absent or not visible ASCII).
pub(crate) fn get<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)?.to_str().ok()
}

/// Whether `Accept` lists the media type itself. Wildcards do not count: MCP clients must
/// list both `application/json` and `text/event-stream`, and curl's default `*/*` gets 406
/// as with the TypeScript SDK.
pub(crate) fn accepts(h: &HeaderMap, media: &str) -> bool {
    h.get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|item| {
                let mut parts = item.split(';');
                let m = parts.next().unwrap_or("").trim();
                let zero_q = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                !zero_q && m.eq_ignore_ascii_case(media)
            })
        })
}

/// Whether `Content-Type` is `application/json` (parameters such as charset allowed).
pub(crate) fn is_json_content(h: &HeaderMap) -> bool {
    get(h, CONTENT_TYPE.as_str()).is_some_and(|v| {
        v.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// `Content-Length`, if present and valid.
pub(crate) fn content_length(h: &HeaderMap) -> Option<u64> {
    get(h, CONTENT_LENGTH.as_str())?.trim().parse().ok()
}

/// Whether the client accepts gzip.
pub(crate) fn accepts_gzip(h: &HeaderMap) -> bool {
    crate::gzip::accepts_gzip(
        h.get_all(ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn h(accept: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(ACCEPT, HeaderValue::from_str(accept).unwrap());
        m
    }

    #[test]
    fn accept_matching() {
        let both = h("application/json, text/event-stream");
        assert!(accepts(&both, "application/json") && accepts(&both, "text/event-stream"));
        assert!(!accepts(&h("application/json"), "text/event-stream"));
        assert!(!accepts(&h("*/*"), "text/event-stream"));
        assert!(accepts(&h("Text/Event-Stream"), "text/event-stream"));
        assert!(!accepts(&h("text/event-stream;q=0"), "text/event-stream"));
        assert!(!accepts(&HeaderMap::new(), "application/json"));
    }

    #[test]
    fn content_type() {
        let mut m = HeaderMap::new();
        m.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(is_json_content(&m));
        m.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!is_json_content(&m));
    }
}
