//! Requests the server sent to a client and is waiting on (sampling, elicitation, roots).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use mcp_proto::{McpError, RequestId};
use serde_json::Value;
use tokio::sync::oneshot;

/// The client's answer: a result or a JSON-RPC error.
pub(crate) type ClientAnswer = Result<Value, McpError>;

/// Waiting requests by id.
pub(crate) struct PendingRequests {
    next: AtomicI64,
    prefix: Option<String>,
    map: Mutex<HashMap<RequestId, oneshot::Sender<ClientAnswer>>>,
}

impl PendingRequests {
    /// Integer ids (unique within one session).
    pub(crate) fn new() -> Self {
        Self {
            next: AtomicI64::new(0),
            prefix: None,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// String ids `<prefix>-<n>-<16 random hex digits>`, for a stateless server: its clients
    /// share one table and answer with a plain POST, so an id must be unique across clients
    /// and impossible to guess from one seen earlier (else any client could answer, or
    /// spoil, another client's sampling or elicitation request).
    pub(crate) fn with_prefix(prefix: String) -> Self {
        Self {
            prefix: Some(prefix),
            ..Self::new()
        }
    }

    /// Registers a new request; the receiver gets the answer.
    pub(crate) fn register(&self) -> (RequestId, oneshot::Receiver<ClientAnswer>) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = match &self.prefix {
            Some(p) => RequestId::from(format!("{p}-{n}-{:016x}", rand::random::<u64>())),
            None => RequestId::Number(n),
        };
        let (tx, rx) = oneshot::channel();
        lock(&self.map).insert(id.clone(), tx);
        (id, rx)
    }

    /// Delivers an answer; false if nobody waits for this id.
    pub(crate) fn complete(&self, id: &RequestId, answer: ClientAnswer) -> bool {
        match lock(&self.map).remove(id) {
            Some(tx) => tx.send(answer).is_ok(),
            None => false,
        }
    }

    /// Whether a request with this id waits here.
    pub(crate) fn is_waiting(&self, id: &RequestId) -> bool {
        lock(&self.map).contains_key(id)
    }

    /// Forgets a request (its waiter gave up).
    pub(crate) fn forget(&self, id: &RequestId) {
        lock(&self.map).remove(id);
    }

    /// Drops every waiter (they see the session closing).
    pub(crate) fn clear(&self) {
        lock(&self.map).clear();
    }
}

/// Locks a mutex, recovering from poisoning (a panicking handler must not wedge a session).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip() {
        let p = PendingRequests::new();
        let (id, rx) = p.register();
        assert!(p.complete(&id, Ok(Value::from(1))));
        assert_eq!(rx.await.unwrap().unwrap(), Value::from(1));
        assert!(!p.complete(&id, Ok(Value::Null)));
        let (id2, rx2) = p.register();
        assert_ne!(id, id2);
        p.clear();
        assert!(rx2.await.is_err());
        let s = PendingRequests::with_prefix("abc".into());
        let ids: Vec<String> = (0..2)
            .map(|_| match s.register().0 {
                RequestId::String(id) => id.to_string(),
                other => panic!("{other:?}"),
            })
            .collect();
        // `abc-<n>-<random>`: the random parts differ, so the next id cannot be derived.
        let random = |id: &str| id.rsplit('-').next().unwrap_or_default().to_string();
        assert!(
            ids[0].starts_with("abc-0-") && ids[1].starts_with("abc-1-"),
            "{ids:?}"
        );
        assert_eq!(random(&ids[0]).len(), 16);
        assert_ne!(random(&ids[0]), random(&ids[1]));
    }
}
