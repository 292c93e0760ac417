//! Messages between instances that share sessions: the client's answer to a server→client
//! request that reached another instance than the one waiting for it, and messages for GET
//! streams that another instance holds. A store that is not shared relays nothing.

use mcp_proto::{McpError, RequestId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One message for another instance.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub(crate) enum Relay {
    /// The client's answer to a request the server sent (sampling, elicitation, roots).
    Answer {
        session: String,
        id: RequestId,
        answer: Result<Value, McpError>,
    },
    /// A message for GET streams: of one session, or of every session (subscribed to `uri`,
    /// when given). `from` is the sending instance, which delivered it already.
    Notify {
        from: String,
        session: Option<String>,
        uri: Option<String>,
        message: String,
    },
}

/// The instance a server→client request id was made by: ids of shared sessions are
/// `<instance>-<n>-<random>`.
pub(crate) fn instance_of(id: &RequestId) -> Option<&str> {
    match id {
        RequestId::String(s) => s.split('-').next().filter(|i| !i.is_empty()),
        RequestId::Number(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relays_round_trip_as_json() {
        let r = Relay::Answer {
            session: "s".into(),
            id: RequestId::from("ab12-3-ff".to_owned()),
            answer: Ok(json!({"action": "accept"})),
        };
        let text = serde_json::to_string(&r).unwrap();
        let back: Relay = serde_json::from_str(&text).unwrap();
        match back {
            Relay::Answer { id, answer, .. } => {
                assert_eq!(instance_of(&id), Some("ab12"));
                assert_eq!(answer.unwrap()["action"], "accept");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(instance_of(&RequestId::Number(3)), None);
        assert!(serde_json::from_str::<Relay>(r#"{"kind":"other"}"#).is_err());
    }
}
