//! Serializing outgoing JSON-RPC messages straight into bytes.

use mcp_proto::{McpError, RequestId};
use serde_json::Value;

use crate::payload::Payload;

fn write_id(out: &mut Vec<u8>, id: Option<&RequestId>) {
    match id {
        Some(RequestId::Number(n)) => out.extend_from_slice(n.to_string().as_bytes()),
        Some(RequestId::String(s)) => {
            let _ = serde_json::to_writer(&mut *out, &**s);
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// `{"jsonrpc":"2.0","id":<id>,"result":` — the part before a result payload.
pub(crate) fn result_prefix(out: &mut Vec<u8>, id: &RequestId) {
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    write_id(out, Some(id));
    out.extend_from_slice(b",\"result\":");
}

/// A response (result or error) for a request.
pub(crate) fn response(out: &mut Vec<u8>, id: &RequestId, result: &Result<Payload, McpError>) {
    match result {
        Ok(p) => {
            result_prefix(out, id);
            p.write_to(out);
            out.push(b'}');
        }
        Err(e) => error(out, Some(id), e),
    }
}

/// An error response.
pub(crate) fn error(out: &mut Vec<u8>, id: Option<&RequestId>, e: &McpError) {
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    write_id(out, id);
    out.extend_from_slice(b",\"error\":");
    let _ = serde_json::to_writer(&mut *out, e);
    out.push(b'}');
}

/// A notification.
pub(crate) fn notification(method: &str, params: Option<&Value>) -> Vec<u8> {
    outgoing(None, method, params)
}

/// A request to the client.
pub(crate) fn request(id: &RequestId, method: &str, params: Option<&Value>) -> Vec<u8> {
    outgoing(Some(id), method, params)
}

/// A request (with an id) or a notification (without).
fn outgoing(id: Option<&RequestId>, method: &str, params: Option<&Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",");
    if id.is_some() {
        out.extend_from_slice(b"\"id\":");
        write_id(&mut out, id);
        out.push(b',');
    }
    out.extend_from_slice(b"\"method\":");
    let _ = serde_json::to_writer(&mut out, method);
    if let Some(p) = params {
        out.extend_from_slice(b",\"params\":");
        let _ = serde_json::to_writer(&mut out, p);
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        let mut out = Vec::new();
        response(
            &mut out,
            &RequestId::from("a\"b"),
            &Ok(Payload::empty_object()),
        );
        assert_eq!(out, br#"{"jsonrpc":"2.0","id":"a\"b","result":{}}"#);
        let mut out = Vec::new();
        response(
            &mut out,
            &RequestId::Number(3),
            &Err(McpError::method_not_found()),
        );
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            json!({"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found"}})
        );
        assert_eq!(
            notification("n", Some(&json!({"a":1}))),
            br#"{"jsonrpc":"2.0","method":"n","params":{"a":1}}"#
        );
        assert_eq!(
            request(&RequestId::Number(0), "ping", None),
            br#"{"jsonrpc":"2.0","id":0,"method":"ping"}"#
        );
    }
}
