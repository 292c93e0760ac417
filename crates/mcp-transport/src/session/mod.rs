//! Sessions and the in-memory session store.
//!
//! All session state lives behind this module: the store (lookup, insert with LRU eviction,
//! idle expiry) and [`state::Session`]. A shared store (e.g. Redis) would replace
//! [`SessionStore`] without touching the endpoint code.

pub(crate) mod id;
pub(crate) mod state;

use std::cmp::Reverse;
use std::collections::hash_map::RandomState;
use std::collections::{BinaryHeap, HashMap};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::auth::AuthInfo;
use crate::pending::lock;
use state::{Clock, Session};

/// The live sessions.
pub(crate) struct SessionStore {
    inner: Mutex<Inner>,
    cap: usize,
    idle_ms: u64,
    pub(crate) clock: Clock,
    /// Keys the identity hashes sessions are bound to (random per store).
    identity_keys: RandomState,
}

/// The map, and a min-heap of `(last activity, id)` for LRU eviction.
///
/// Heap keys are lower bounds: a request only touches the session (an atomic store), not the
/// heap. Eviction pops the smallest key and re-pushes it with the session's real activity
/// time until the popped key is exact; that session is then the least recently used one. So
/// requests pay nothing, and eviction costs O(log n) amortized. Entries of removed sessions
/// are skipped, and the heap is rebuilt when they pile up.
struct Inner {
    map: HashMap<Arc<str>, Arc<Session>>,
    lru: BinaryHeap<Reverse<(u64, Arc<str>)>>,
}

impl Inner {
    fn compact(&mut self) {
        if self.lru.len() > 2 * self.map.len() + 64 {
            self.lru = self
                .map
                .values()
                .map(|s| Reverse((s.last_active(), Arc::clone(&s.id))))
                .collect();
        }
    }

    /// Removes the least recently used idle session, or the least recently used one when
    /// every session is busy.
    fn evict_lru(&mut self) -> Option<Arc<Session>> {
        let mut busy = Vec::new();
        let victim = loop {
            let Some(Reverse((key, id))) = self.lru.pop() else {
                break None;
            };
            let Some(s) = self.map.get(&id) else { continue };
            let real = s.last_active();
            if real > key {
                self.lru.push(Reverse((real, id)));
                continue;
            }
            if s.is_busy() {
                busy.push((key, id));
                continue;
            }
            break Some(id);
        };
        let victim = match victim {
            Some(v) => Some(v),
            None if !busy.is_empty() => Some(busy.remove(0).1),
            None => None,
        };
        for (key, id) in busy {
            self.lru.push(Reverse((key, id)));
        }
        victim.and_then(|id| self.map.remove(&id))
    }
}

impl SessionStore {
    pub(crate) fn new(cap: usize, idle: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                lru: BinaryHeap::new(),
            }),
            cap: cap.max(1),
            idle_ms: u64::try_from(idle.as_millis()).unwrap_or(u64::MAX),
            clock: Clock(std::time::Instant::now()),
            identity_keys: RandomState::new(),
        }
    }

    /// Who a request is, for binding sessions to it: a keyed hash of the auth info's
    /// `clientId` (the user in sunpeak's `auth()` convention; stable across token refreshes),
    /// else of its `token`. `None` without auth or without either field.
    pub(crate) fn identity(&self, auth: Option<&AuthInfo>) -> Option<u64> {
        let auth = auth?;
        let who = auth.client_id().map(|c| ("clientId", c));
        let (kind, value) = who.or_else(|| auth.token().map(|t| ("token", t)))?;
        Some(self.identity_keys.hash_one((kind, value)))
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
        let mut inner = lock(&self.inner);
        let Some(s) = inner.map.get(id) else {
            return (None, None);
        };
        if self.is_expired(s, now) {
            let s = inner.map.remove(id);
            inner.compact();
            drop(inner);
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
        let mut inner = lock(&self.inner);
        let evicted = if inner.map.len() >= self.cap {
            inner.evict_lru()
        } else {
            None
        };
        inner
            .lru
            .push(Reverse((session.last_active(), Arc::clone(&session.id))));
        inner.map.insert(Arc::clone(&session.id), session);
        inner.compact();
        drop(inner);
        if let Some(s) = &evicted {
            s.close();
        }
        evicted
    }

    /// Removes and closes a session.
    pub(crate) fn remove(&self, id: &str) -> Option<Arc<Session>> {
        let mut inner = lock(&self.inner);
        let s = inner.map.remove(id);
        inner.compact();
        drop(inner);
        if let Some(s) = &s {
            s.close();
        }
        s
    }

    /// Removes and closes every idle-expired session.
    pub(crate) fn sweep(&self) -> Vec<Arc<Session>> {
        let now = self.now_ms();
        let mut inner = lock(&self.inner);
        let expired: Vec<Arc<str>> = inner
            .map
            .values()
            .filter(|s| self.is_expired(s, now))
            .map(|s| Arc::clone(&s.id))
            .collect();
        let removed: Vec<Arc<Session>> = expired
            .iter()
            .filter_map(|id| inner.map.remove(id))
            .collect();
        inner.compact();
        drop(inner);
        for s in &removed {
            s.close();
        }
        removed
    }

    /// Removes and closes every session.
    pub(crate) fn drain(&self) -> Vec<Arc<Session>> {
        let mut inner = lock(&self.inner);
        let all: Vec<Arc<Session>> = inner.map.drain().map(|(_, s)| s).collect();
        inner.lru.clear();
        drop(inner);
        for s in &all {
            s.close();
        }
        all
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.inner).map.len()
    }

    /// A snapshot of the live sessions.
    pub(crate) fn all(&self) -> Vec<Arc<Session>> {
        lock(&self.inner).map.values().cloned().collect()
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
            None,
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
    fn exact_lru_among_many_with_stale_heap_entries() {
        let store = SessionStore::new(50, Duration::from_secs(60));
        let all: Vec<_> = (0..50).map(|i| session(&store, &format!("s{i}"))).collect();
        for (i, s) in all.iter().enumerate() {
            s.touch(i as u64 * 10);
            store.insert(s.clone());
        }
        // Touch every session but s7, in reverse: s7 (t=70) is now the least recent.
        for (i, s) in all.iter().enumerate() {
            if i != 7 {
                s.touch(10_000 - i as u64);
            }
        }
        // Removed sessions leave stale heap entries behind.
        store.remove("s3");
        let fresh = |id: &str| {
            let s = session(&store, id);
            s.touch(20_000);
            s
        };
        assert!(store.insert(fresh("x")).is_none());
        let evicted = store.insert(fresh("y")).unwrap();
        assert_eq!(&*evicted.id, "s7");
        let evicted = store.insert(fresh("z")).unwrap();
        // Next least recent: s49 (touched at 10_000 - 49).
        assert_eq!(&*evicted.id, "s49");
        assert_eq!(store.len(), 50);
    }

    #[test]
    fn heap_is_compacted() {
        let store = SessionStore::new(10_000, Duration::from_secs(60));
        for i in 0..1000 {
            store.insert(session(&store, &format!("s{i}")));
            store.remove(&format!("s{i}"));
        }
        assert!(lock(&store.inner).lru.len() <= 64 + 1);
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
