//! The request headers a modern (2026-07-28) POST mirrors from its body, and their check:
//! `MCP-Protocol-Version` = `_meta` version, `Mcp-Method` = `method`, `Mcp-Name` = `params.name`
//! or `params.uri` (for `tools/call`, `prompts/get`, `resources/read`). Any missing, malformed
//! or different value is a `HeaderMismatch` (`-32020`, HTTP 400): a proxy may have routed the
//! request on the header, so the body must say the same.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use http::HeaderMap;
use mcp_proto::{McpError, methods};
use serde_json::Value;

use crate::http::headers::PROTOCOL_VERSION;

/// `Mcp-Method`.
pub const MCP_METHOD: &str = "mcp-method";
/// `Mcp-Name`.
pub const MCP_NAME: &str = "mcp-name";

/// The body member `Mcp-Name` mirrors for a method, if any.
fn name_member(method: &str) -> Option<&'static str> {
    match method {
        methods::TOOLS_CALL | methods::PROMPTS_GET => Some("name"),
        methods::RESOURCES_READ => Some("uri"),
        _ => None,
    }
}

/// A header's text, when present and made of visible ASCII, space and tab only.
fn text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, McpError> {
    let Some(v) = headers.get(name) else {
        return Ok(None);
    };
    let bytes = v.as_bytes();
    if bytes
        .iter()
        .any(|&b| !(b == b'\t' || (0x20..=0x7e).contains(&b)))
    {
        return Err(McpError::header_mismatch(format_args!(
            "{name} header contains invalid characters"
        )));
    }
    // Visible ASCII is UTF-8.
    Ok(std::str::from_utf8(bytes).ok())
}

/// Decodes the `=?base64?...?=` sentinel form; plain values are returned as they are.
fn decode(name: &str, value: &str) -> Result<String, McpError> {
    match value
        .strip_prefix("=?base64?")
        .and_then(|v| v.strip_suffix("?="))
    {
        Some(encoded) => B64
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                McpError::header_mismatch(format_args!("{name} header has invalid base64"))
            }),
        None => Ok(value.to_owned()),
    }
}

/// Checks the mirrored headers of a modern request against its body.
pub(crate) fn check(
    headers: &HeaderMap,
    meta_version: &str,
    method: &str,
    params: Option<&Value>,
) -> Result<(), McpError> {
    match text(headers, PROTOCOL_VERSION)? {
        None => {
            return Err(McpError::header_mismatch(
                "MCP-Protocol-Version header is required",
            ));
        }
        Some(v) if v.trim() != meta_version => {
            return Err(McpError::header_mismatch(format_args!(
                "MCP-Protocol-Version header value '{}' does not match body value '{meta_version}'",
                v.trim()
            )));
        }
        Some(_) => {}
    }
    match text(headers, MCP_METHOD)? {
        None => return Err(McpError::header_mismatch("Mcp-Method header is required")),
        Some(v) if v.trim() != method => {
            return Err(McpError::header_mismatch(format_args!(
                "Mcp-Method header value '{}' does not match body value '{method}'",
                v.trim()
            )));
        }
        Some(_) => {}
    }
    let Some(member) = name_member(method) else {
        return Ok(());
    };
    let body = params.and_then(|p| p.get(member)).and_then(Value::as_str);
    let Some(header) = text(headers, MCP_NAME)? else {
        return Err(McpError::header_mismatch("Mcp-Name header is required"));
    };
    let header = decode("Mcp-Name", header.trim())?;
    match body {
        Some(b) if b == header => Ok(()),
        _ => Err(McpError::header_mismatch(format_args!(
            "Mcp-Name header value '{header}' does not match body value '{}'",
            body.unwrap_or("")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn headers_must_mirror_the_body() {
        let p = json!({"name": "get_weather"});
        let ok = headers(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "get_weather"),
        ]);
        assert!(check(&ok, "2026-07-28", "tools/call", Some(&p)).is_ok());
        // Header names are case-insensitive (HeaderMap lowercases them).
        let encoded = headers(&[
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", "=?base64?Z2V0X3dlYXRoZXI=?="),
        ]);
        assert!(check(&encoded, "2026-07-28", "tools/call", Some(&p)).is_ok());

        for bad in [
            vec![("mcp-method", "tools/call"), ("mcp-name", "get_weather")],
            vec![
                ("mcp-protocol-version", "2025-11-25"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "get_weather"),
            ],
            vec![
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/list"),
                ("mcp-name", "get_weather"),
            ],
            vec![
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
            ],
            vec![
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "other"),
            ],
            vec![
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "=?base64?!!!?="),
            ],
        ] {
            let e = check(&headers(&bad), "2026-07-28", "tools/call", Some(&p)).unwrap_err();
            assert_eq!(e.code.0, -32020, "{bad:?}");
        }
        // No Mcp-Name for methods without a name.
        let list = headers(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
        ]);
        assert!(check(&list, "2026-07-28", "tools/list", None).is_ok());
    }
}
