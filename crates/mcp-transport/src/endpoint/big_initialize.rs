//! A large `initialize` read without the JSON tree of its params.
//!
//! A client may send megabytes of `capabilities.experimental` (or of anything) in an
//! `initialize`. Read the usual way, a few megabytes of tiny objects become tens of megabytes
//! of `serde_json::Value` tree, of which the session keeps a few hundred bytes; the allocator
//! may keep the rest. A body this large is first read as an envelope whose members stay raw:
//! an `initialize` is then made of its small members and its client info bounded from the raw
//! JSON ([`ClientInfo::from_raw`]). Anything else, or anything malformed, is read the usual
//! way (so errors are the usual ones).

use std::borrow::Cow;

use mcp_proto::modern::keys;
use mcp_proto::{Incoming as Messages, Message, Request, RequestId, methods};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::session::client::{ClientInfo, MAX_CLIENT_INFO_BYTES, Trimmed};

/// Bodies at least this large are looked at first.
pub(super) const ABOVE: usize = 64 * 1024;

/// A large `initialize`, read: the message (without `clientInfo` and `capabilities`) and what
/// the session keeps of those two.
pub(super) struct BigInitialize {
    pub(super) messages: Messages,
    pub(super) client: (ClientInfo, Option<Trimmed>),
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    jsonrpc: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params<'a> {
    protocol_version: String,
    #[serde(borrow, default)]
    capabilities: Option<&'a RawValue>,
    #[serde(borrow, default)]
    client_info: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "_meta")]
    meta: Option<&'a RawValue>,
}

/// Of a large `_meta`, only what chooses the era.
#[derive(Deserialize)]
struct MetaVersion {
    #[serde(default, rename = "io.modelcontextprotocol/protocolVersion")]
    version: Option<Value>,
}

/// `body` as an `initialize` read from its raw members; `None` when it is not one (or not a
/// well-formed one).
pub(super) fn read(body: &[u8]) -> Option<BigInitialize> {
    let envelope: Envelope<'_> = serde_json::from_slice(body).ok()?;
    if envelope.jsonrpc.as_deref() != Some(mcp_proto::jsonrpc::JSONRPC_VERSION)
        || envelope.method.as_deref() != Some(methods::INITIALIZE)
    {
        return None;
    }
    let id = serde_json::from_str::<Value>(envelope.id?.get()).ok()?;
    let id = RequestId::from_value(&id)?;
    let params: Params<'_> = serde_json::from_str(envelope.params?.get()).ok()?;
    let client = ClientInfo::from_raw(params.client_info, params.capabilities).ok()?;
    let mut kept = Map::new();
    kept.insert(
        "protocolVersion".to_owned(),
        Value::String(params.protocol_version),
    );
    if let Some(meta) = params.meta {
        let meta = if meta.get().len() <= MAX_CLIENT_INFO_BYTES {
            serde_json::from_str::<Value>(meta.get()).ok()?
        } else {
            let v = serde_json::from_str::<MetaVersion>(meta.get()).ok()?;
            let mut m = Map::new();
            if let Some(version) = v.version {
                m.insert(keys::PROTOCOL_VERSION.to_owned(), version);
            }
            Value::Object(m)
        };
        kept.insert("_meta".to_owned(), meta);
    }
    let request = Request::new(id, methods::INITIALIZE, Some(Value::Object(kept)));
    Some(BigInitialize {
        messages: Messages::Single(Message::Request(request)),
        client,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn big_caps() -> Value {
        let experimental: Map<String, Value> =
            (0..20_000).map(|i| (format!("k{i}"), json!({}))).collect();
        json!({"roots": {"listChanged": true}, "experimental": experimental})
    }

    #[test]
    fn a_large_initialize_keeps_its_small_members_and_bounded_client_info() {
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": big_caps(),
            "clientInfo": {"name": "big", "version": "1"}, "_meta": {"progressToken": 1}}});
        let body = body.to_string();
        assert!(body.len() > ABOVE);
        let read = read(body.as_bytes()).expect("an initialize");
        let Messages::Single(Message::Request(r)) = read.messages else {
            panic!("one request")
        };
        assert_eq!(r.id, RequestId::Number(7));
        assert_eq!(
            r.params,
            Some(json!({"protocolVersion": "2025-11-25", "_meta": {"progressToken": 1}}))
        );
        let (client, trimmed) = read.client;
        assert_eq!(client.info.name, "big");
        assert_eq!(
            client.capabilities.roots.and_then(|r| r.list_changed),
            Some(true)
        );
        assert!(client.capabilities.experimental.is_none());
        assert!(trimmed.is_some_and(|t| t.sent > ABOVE));
    }

    #[test]
    fn anything_else_is_read_the_usual_way() {
        let caps = big_caps();
        for body in [
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"arguments": caps}}),
            json!({"jsonrpc": "1.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "x", "capabilities": caps}}),
            json!({"jsonrpc": "2.0", "method": "initialize", "params": {"protocolVersion": "x", "capabilities": caps}}),
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": 5, "capabilities": caps}}),
            json!([{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "x", "capabilities": caps}}]),
        ] {
            assert!(
                read(body.to_string().as_bytes()).is_none(),
                "{}",
                &body.to_string()[..80]
            );
        }
        assert!(read(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",").is_none());
    }
}
