//! `subscriptions/listen` (2026-07-28): long-lived SSE streams of the change notifications
//! each client opted in to, tagged with the listen request's id. They replace the legacy GET
//! stream and `resources/subscribe`, and need no session: the registry here is per process,
//! and notifications reach it the way they reach sessions' GET streams (on every instance of a
//! shared store).

use std::sync::Mutex;

use bytes::Bytes;
use mcp_proto::{RequestId, SubscriptionFilter, methods, modern::keys};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::pending::lock;
use crate::sse::encode;

/// Frames one listen stream may have waiting before it is dropped as stalled.
const QUEUE: usize = 64;

struct Listener {
    id: RequestId,
    filter: SubscriptionFilter,
    tx: mpsc::Sender<Bytes>,
}

/// The open listen streams of this process.
pub(crate) struct Listeners {
    open: Mutex<Vec<Listener>>,
    max: usize,
}

/// Why a listen stream was not opened.
#[derive(Debug)]
pub(crate) struct TooMany;

impl Listeners {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            open: Mutex::new(Vec::new()),
            max,
        }
    }

    /// Registers a stream; its frames arrive on the receiver.
    pub(crate) fn open(
        &self,
        id: RequestId,
        filter: SubscriptionFilter,
    ) -> Result<mpsc::Receiver<Bytes>, TooMany> {
        let mut open = lock(&self.open);
        open.retain(|l| !l.tx.is_closed());
        if open.len() >= self.max {
            return Err(TooMany);
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        open.push(Listener { id, filter, tx });
        Ok(rx)
    }

    /// Open streams.
    pub(crate) fn len(&self) -> usize {
        let mut open = lock(&self.open);
        open.retain(|l| !l.tx.is_closed());
        open.len()
    }

    /// Delivers a server notification (a serialized JSON-RPC notification) to every stream
    /// whose filter asked for it; returns how many got it. A stream that cannot keep up is
    /// closed.
    pub(crate) fn deliver(&self, message: &[u8]) -> usize {
        let mut open = lock(&self.open);
        open.retain(|l| !l.tx.is_closed());
        if open.is_empty() {
            return 0;
        }
        let Ok(Value::Object(mut note)) = serde_json::from_slice::<Value>(message) else {
            return 0;
        };
        let method = note
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let uri = note
            .get("params")
            .and_then(|p| p.get("uri"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut sent = 0;
        open.retain(|l| {
            if !wants(&l.filter, &method, uri.as_deref()) {
                return true;
            }
            let frame = tagged(&mut note, &l.id);
            match l.tx.try_send(frame) {
                Ok(()) => {
                    sent += 1;
                    true
                }
                Err(_) => false,
            }
        });
        sent
    }

    /// Ends every stream with the listen result (graceful shutdown).
    pub(crate) fn close_all(&self) {
        let mut open = lock(&self.open);
        for l in open.drain(..) {
            let _ = l.tx.try_send(closing_frame(&l.id));
        }
    }
}

/// Whether a filter asked for a notification.
fn wants(f: &SubscriptionFilter, method: &str, uri: Option<&str>) -> bool {
    match method {
        methods::NOTIFICATION_TOOLS_LIST_CHANGED => f.tools_list_changed == Some(true),
        methods::NOTIFICATION_PROMPTS_LIST_CHANGED => f.prompts_list_changed == Some(true),
        methods::NOTIFICATION_RESOURCES_LIST_CHANGED => f.resources_list_changed == Some(true),
        methods::NOTIFICATION_RESOURCES_UPDATED => uri.is_some_and(|u| {
            f.resource_subscriptions
                .as_ref()
                .is_some_and(|s| s.iter().any(|x| x == u))
        }),
        _ => false,
    }
}

/// The notification with `params._meta[subscriptionId]` set, as an SSE frame.
fn tagged(note: &mut serde_json::Map<String, Value>, id: &RequestId) -> Bytes {
    let params = note
        .entry("params")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Value::Object(p) = params {
        let meta = p
            .entry("_meta")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(m) = meta {
            m.insert(
                keys::SUBSCRIPTION_ID.to_owned(),
                serde_json::to_value(id).unwrap_or(Value::Null),
            );
        }
    }
    let json = serde_json::to_vec(&Value::Object(note.clone())).unwrap_or_default();
    encode::message(None, &json)
}

/// What a server agrees to send: the filter cut to what it can send.
pub(crate) fn honored(
    asked: &SubscriptionFilter,
    tools: bool,
    prompts: bool,
    resources: bool,
    subscribe: bool,
) -> SubscriptionFilter {
    let on = |want: Option<bool>, can: bool| (want == Some(true) && can).then_some(true);
    SubscriptionFilter {
        tools_list_changed: on(asked.tools_list_changed, tools),
        prompts_list_changed: on(asked.prompts_list_changed, prompts),
        resources_list_changed: on(asked.resources_list_changed, resources),
        resource_subscriptions: if subscribe {
            asked.resource_subscriptions.clone()
        } else {
            None
        },
    }
}

/// The first frame of a listen stream: `notifications/subscriptions/acknowledged`.
pub(crate) fn acknowledged_frame(id: &RequestId, filter: &SubscriptionFilter) -> Bytes {
    let note = serde_json::json!({
        "jsonrpc": "2.0",
        "method": methods::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED,
        "params": {
            "notifications": filter,
            "_meta": { keys::SUBSCRIPTION_ID: id },
        },
    });
    encode::message(None, &serde_json::to_vec(&note).unwrap_or_default())
}

/// The last frame of a listen stream the server ends: its (empty) result.
pub(crate) fn closing_frame(id: &RequestId) -> Bytes {
    let resp = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {
            "resultType": "complete",
            "_meta": { keys::SUBSCRIPTION_ID: id },
        },
    });
    encode::message(None, &serde_json::to_vec(&resp).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_json(b: &Bytes) -> Value {
        let text = std::str::from_utf8(b).unwrap();
        let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
        serde_json::from_str(data).unwrap()
    }

    #[tokio::test]
    async fn delivers_only_what_was_asked_tagged_with_the_listen_id() {
        let ls = Listeners::new(2);
        let tools = SubscriptionFilter {
            tools_list_changed: Some(true),
            ..Default::default()
        };
        let res = SubscriptionFilter {
            resource_subscriptions: Some(vec!["test://a".into()]),
            ..Default::default()
        };
        let mut a = ls.open(RequestId::Number(7), tools).unwrap();
        let mut b = ls.open(RequestId::String("L".into()), res).unwrap();
        assert!(ls.open(RequestId::Number(9), Default::default()).is_err());

        let n = ls.deliver(br#"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#);
        assert_eq!(n, 1);
        let got = frame_json(&a.recv().await.unwrap());
        assert_eq!(got["params"]["_meta"][keys::SUBSCRIPTION_ID], 7);
        assert!(b.try_recv().is_err());

        ls.deliver(br#"{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"test://b"}}"#);
        assert!(b.try_recv().is_err());
        ls.deliver(br#"{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"test://a"}}"#);
        let got = frame_json(&b.recv().await.unwrap());
        assert_eq!(got["params"]["uri"], "test://a");
        assert_eq!(got["params"]["_meta"][keys::SUBSCRIPTION_ID], "L");

        // A closed stream frees its place.
        drop(a);
        assert_eq!(ls.len(), 1);
        ls.close_all();
        let last = frame_json(&b.recv().await.unwrap());
        assert_eq!(last["id"], "L");
        assert_eq!(last["result"]["resultType"], "complete");
    }

    #[test]
    fn honors_only_what_the_server_can_send() {
        let asked = SubscriptionFilter {
            tools_list_changed: Some(true),
            prompts_list_changed: Some(true),
            resources_list_changed: Some(false),
            resource_subscriptions: Some(vec!["x".into()]),
        };
        let h = honored(&asked, true, false, true, false);
        assert_eq!(h.tools_list_changed, Some(true));
        assert_eq!(h.prompts_list_changed, None);
        assert_eq!(h.resources_list_changed, None);
        assert_eq!(h.resource_subscriptions, None);
    }
}
