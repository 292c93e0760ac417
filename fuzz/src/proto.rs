//! Checks for the `proto_parse` target.

use mcp_proto::resources::SubscribeRequestParams;
use mcp_proto::{
    CallToolRequestParams, CancelledNotificationParams, ClientNotification, ClientRequest,
    CompleteRequestParams, CreateMessageResult, ElicitResult, GetPromptRequestParams, Incoming,
    InitializeRequestParams, ListRootsResult, McpError, Message, PaginatedRequestParams,
    ProgressNotificationParams, ProtocolVersion, ReadResourceRequestParams, SetLevelRequestParams,
    parse_body,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A POST body: parse, then type every message; every parsed message must survive a
/// write/read round trip unchanged.
pub fn body(data: &[u8]) {
    let Ok(incoming) = parse_body(data) else {
        return;
    };
    if let Incoming::Batch(items) = &incoming {
        assert!(!items.is_empty(), "an empty batch was accepted");
    }
    for message in incoming.into_messages() {
        round_trip_message(&message);
        match message {
            Message::Request(r) => {
                if let Ok(typed) = ClientRequest::parse(&r.method, r.params.clone()) {
                    if let ClientRequest::Initialize(p) = &typed {
                        let _ = ProtocolVersion::negotiate(&p.protocol_version);
                    }
                } else {
                    // Only known methods with bad params may fail, and with -32602.
                    let e = ClientRequest::parse(&r.method, r.params).unwrap_err();
                    assert_eq!(e.code.0, -32602, "unexpected error code: {e:?}");
                }
            }
            Message::Notification(n) => {
                let _ = ClientNotification::parse(&n.method, n.params);
            }
            Message::Result(r) => {
                // What a client answers to our sampling, elicitation and roots requests.
                let _ = serde_json::from_value::<CreateMessageResult>(r.result.clone());
                let _ = serde_json::from_value::<ElicitResult>(r.result.clone());
                let _ = serde_json::from_value::<ListRootsResult>(r.result);
            }
            Message::Error(e) => {
                let _ = e.error.to_string();
            }
        }
    }
}

fn round_trip_message(m: &Message) {
    let v = serde_json::to_value(m).expect("a parsed message serializes");
    let text = v.to_string();
    let again = match parse_body(text.as_bytes()) {
        Ok(Incoming::Single(again)) => again,
        other => panic!("re-parsing {text} gave {other:?}"),
    };
    assert_eq!(&again, m, "message changed in a round trip through {text}");
}

/// The bytes as each params type (objects a server receives): when they parse, writing and
/// reading back must succeed and be stable.
pub fn all_params(data: &[u8]) {
    // Cheap pre-filter: serde_json rejects everything else at the first byte anyway.
    if !data
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
    {
        return;
    }
    check::<InitializeRequestParams>(data);
    check::<CallToolRequestParams>(data);
    check::<PaginatedRequestParams>(data);
    check::<ReadResourceRequestParams>(data);
    check::<SubscribeRequestParams>(data);
    check::<GetPromptRequestParams>(data);
    check::<CompleteRequestParams>(data);
    check::<SetLevelRequestParams>(data);
    check::<CancelledNotificationParams>(data);
    check::<ProgressNotificationParams>(data);
    check::<CreateMessageResult>(data);
    check::<ElicitResult>(data);
    check::<ListRootsResult>(data);
    check::<McpError>(data);
}

fn check<T: Serialize + DeserializeOwned>(data: &[u8]) {
    let Ok(first) = serde_json::from_slice::<T>(data) else {
        return;
    };
    let v1: Value = serde_json::to_value(&first).expect("a parsed value serializes");
    let second: T = match serde_json::from_value(v1.clone()) {
        Ok(s) => s,
        Err(e) => panic!(
            "{} does not read back what it wrote: {v1}: {e}",
            std::any::type_name::<T>()
        ),
    };
    let v2 = serde_json::to_value(&second).expect("serializes");
    assert_eq!(
        v1,
        v2,
        "{} is not stable in a round trip",
        std::any::type_name::<T>()
    );
}

/// Version strings (header values and `protocolVersion`).
pub fn version(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(v) = ProtocolVersion::parse(s) {
        assert_eq!(v.as_str(), s);
        assert_eq!(ProtocolVersion::negotiate(s), v);
    } else {
        assert_eq!(ProtocolVersion::negotiate(s), ProtocolVersion::LATEST);
    }
}
