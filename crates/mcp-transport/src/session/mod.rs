//! Sessions and the in-memory session store.
//!
//! All session state lives behind this module: the store (lookup, insert with LRU eviction,
//! idle expiry) and [`state::Session`]. A shared store (e.g. Redis) would replace
//! [`SessionStore`] without touching the endpoint code.

pub(crate) mod id;
pub(crate) mod state;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::pending::lock;
use state::{Clock, Session};

/// The live sessions.
pub(crate) struct SessionStore {
    map: Mutex<HashMap<Arc<str>, Arc<Session>>>,
    cap: usize,
    idle_ms: u64,
    pub(crate) clock: Clock,
}

impl SessionStore {
    pub(crate) fn new(cap: usize, idle: Duration) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            cap: cap.max(1),
            idle_ms: u64::try_from(idle.as_millis()).unwrap_or(u64::MAX),
            clock: Clock(std::time::Instant::now()),
        }
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn is_expired(&self, s: &Session, now: u64) -> bool {
        !s.is_busy() && now.saturating_sub(s.last_active()) > self.idle_ms
    }

    /// Finds a live session and marks it active. An idle-expired one is removed and closed
    /// (and returned as the second value so the caller can log it).
    pub(crate) fn get(&self, id: &str) -> (Option<Arc<Session>>, Option<Arc<Session>>) {
        let now = self.now_ms();
        let mut map = lock(&self.map);
        let Some(s) = map.get(id) else {
            return (None, None);
        };
        if self.is_expired(s, now) {
            let s = map.remove(id);
            drop(map);
            if let Some(s) = &s {
                s.close();
            }
            return (None, s);
        }
        s.touch(now);
        (Some(Arc::clone(s)), None)
    }

    /// Adds a session; at the cap, first evicts the least recently used idle session (or, if
    /// none is idle, the least recently used one), which is returned closed.
    pub(crate) fn insert(&self, session: Arc<Session>) -> Option<Arc<Session>> {
        let mut map = lock(&self.map);
        let mut evicted = None;
        if map.len() >= self.cap {
            let victim = map
                .values()
                .filter(|s| !s.is_busy())
                .min_by_key(|s| s.last_active())
                .or_else(|| map.values().min_by_key(|s| s.last_active()))
                .map(|s| Arc::clone(&s.id));
            if let Some(v) = victim {
                evicted = map.remove(&v);
            }
        }
        map.insert(Arc::clone(&session.id), session);
        drop(map);
        if let Some(s) = &evicted {
            s.close();
        }
        evicted
    }

    /// Removes and closes a session.
    pub(crate) fn remove(&self, id: &str) -> Option<Arc<Session>> {
        let s = lock(&self.map).remove(id);
        if let Some(s) = &s {
            s.close();
        }
        s
    }

    /// Removes and closes every idle-expired session.
    pub(crate) fn sweep(&self) -> Vec<Arc<Session>> {
        let now = self.now_ms();
        let mut map = lock(&self.map);
        let expired: Vec<Arc<str>> = map
            .values()
            .filter(|s| self.is_expired(s, now))
            .map(|s| Arc::clone(&s.id))
            .collect();
        let removed: Vec<Arc<Session>> = expired.iter().filter_map(|id| map.remove(id)).collect();
        drop(map);
        for s in &removed {
            s.close();
        }
        removed
    }

    /// Removes and closes every session.
    pub(crate) fn drain(&self) -> Vec<Arc<Session>> {
        let all: Vec<Arc<Session>> = lock(&self.map).drain().map(|(_, s)| s).collect();
        for s in &all {
            s.close();
        }
        all
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.map).len()
    }

    /// A snapshot of the live sessions.
    pub(crate) fn all(&self) -> Vec<Arc<Session>> {
        lock(&self.map).values().cloned().collect()
    }

    /// How often the sweeper should run for this idle timeout.
    pub(crate) fn sweep_interval(&self) -> Duration {
        Duration::from_millis((self.idle_ms / 4).clamp(20, 30_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::state::ClientInfo;
    use mcp_proto::ProtocolVersion;
    use tokio_util::sync::CancellationToken;

    fn session(store: &SessionStore, id: &str) -> Arc<Session> {
        Arc::new(Session::new(
            Arc::from(id),
            ProtocolVersion::LATEST,
            ClientInfo::default(),
            CancellationToken::new(),
            10,
            store.now_ms(),
        ))
    }

    #[test]
    fn lru_eviction_prefers_idle() {
        let store = SessionStore::new(2, Duration::from_secs(60));
        let a = session(&store, "a");
        let b = session(&store, "b");
        store.insert(a.clone());
        store.insert(b.clone());
        // a is older but busy: b goes.
        a.touch(0);
        b.touch(5);
        let _busy = a.busy_guard(store.clock);
        let evicted = store.insert(session(&store, "c")).unwrap();
        assert_eq!(&*evicted.id, "b");
        assert!(evicted.token.is_cancelled());
        assert_eq!(store.len(), 2);
        assert!(store.get("a").0.is_some());
        assert!(store.get("b").0.is_none());
    }

    #[test]
    fn idle_expiry() {
        let store = SessionStore::new(10, Duration::from_millis(0));
        let a = session(&store, "a");
        store.insert(a.clone());
        a.touch(0);
        std::thread::sleep(Duration::from_millis(5));
        let (found, expired) = store.get("a");
        assert!(found.is_none());
        assert!(expired.is_some());
        assert!(a.token.is_cancelled());
        let b = session(&store, "b");
        store.insert(b.clone());
        let guard = b.busy_guard(store.clock);
        std::thread::sleep(Duration::from_millis(5));
        assert!(store.sweep().is_empty());
        drop(guard);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(store.sweep().len(), 1);
    }
}
