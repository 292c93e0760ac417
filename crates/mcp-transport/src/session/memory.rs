//! [`MemoryStore`]: the sessions of one process, in a map, with an LRU cap that is fair to
//! authenticated users and idle expiry.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_proto::LoggingLevel;

use super::identity::{Identity, IdentityKey, random_key};
use super::relay::Relay;
use super::state::{Clock, Session};
use super::{Deliver, Eviction, Found, Inserted, SessionStore, StoreFuture};
use crate::pending::lock;
use tokio_util::sync::CancellationToken;

/// How many sessions a [`MemoryStore`] keeps, and for how long.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// The most sessions in all.
    pub(crate) cap: usize,
    /// A session unused for longer (and with nothing in flight) expires.
    pub(crate) idle: Duration,
}

/// The live sessions of this process.
pub(crate) struct MemoryStore {
    inner: Mutex<Inner>,
    cap: usize,
    idle_ms: u64,
    clock: Clock,
    identity_key: IdentityKey,
}

/// Least recently used first: `(activity sequence, id)`. Keys are lower bounds: a request
/// only touches the session (an atomic store), not the heap. Eviction pops the smallest key
/// and re-pushes it with the session's real sequence until the popped key is exact; so
/// requests pay nothing, and eviction costs O(log n) amortized. Entries of removed sessions
/// are skipped, and the heaps are rebuilt when they pile up.
type Lru = BinaryHeap<Reverse<(u64, Arc<str>)>>;

/// The sessions of one user (or of all anonymous clients).
#[derive(Default)]
struct Bucket {
    count: usize,
    lru: Lru,
}

struct Inner {
    map: HashMap<Arc<str>, Arc<Session>>,
    /// Sessions by owner; `None`: created without auth. When the store is full, anonymous
    /// sessions go first, then those of the user who holds the most: a flood of `initialize`
    /// (anonymous, or of one user) evicts its own sessions, not those of other users.
    buckets: HashMap<Option<Identity>, Bucket>,
}

impl Inner {
    fn add(&mut self, s: Arc<Session>) {
        let bucket = self.buckets.entry(s.identity).or_default();
        bucket.count += 1;
        bucket.lru.push(Reverse((s.last_seq(), Arc::clone(&s.id))));
        self.map.insert(Arc::clone(&s.id), s);
    }

    fn take(&mut self, id: &str) -> Option<Arc<Session>> {
        let s = self.map.remove(id)?;
        if let Some(b) = self.buckets.get_mut(&s.identity) {
            b.count -= 1;
            if b.count == 0 {
                self.buckets.remove(&s.identity);
            } else if b.lru.len() > 2 * b.count + 64 {
                let map = &self.map;
                b.lru.retain(|Reverse((_, id))| map.contains_key(id));
            }
        }
        Some(s)
    }

    /// The least recently used session of `bucket` (idle first), its entry popped.
    fn pop_lru(map: &HashMap<Arc<str>, Arc<Session>>, bucket: &mut Bucket) -> Option<Arc<str>> {
        let mut busy = Vec::new();
        let found = loop {
            let Some(Reverse((key, id))) = bucket.lru.pop() else {
                break None;
            };
            let Some(s) = map.get(&id) else { continue };
            let real = s.last_seq();
            if real > key {
                bucket.lru.push(Reverse((real, id)));
                continue;
            }
            if s.is_busy() {
                busy.push((key, id));
                continue;
            }
            break Some(id);
        };
        let found = match found {
            Some(id) => Some(id),
            // All busy: the least recently used of them.
            None if !busy.is_empty() => Some(busy.remove(0).1),
            None => None,
        };
        bucket.lru.extend(busy.into_iter().map(Reverse));
        found
    }

    /// Removes the session to drop when the store is full: from the anonymous sessions if
    /// any, else from the user holding the most; within those, the least recently used idle
    /// one, else the least recently used one.
    fn evict_for_room(&mut self) -> Option<Arc<Session>> {
        let owner = if self.buckets.contains_key(&None) {
            None
        } else {
            // Ties go to the bucket with the oldest activity (heap keys are lower bounds).
            *self
                .buckets
                .iter()
                .max_by_key(|(_, b)| {
                    let oldest = b.lru.peek().map_or(u64::MAX, |Reverse((seq, _))| *seq);
                    (b.count, Reverse(oldest))
                })
                .map(|(owner, _)| owner)?
        };
        let bucket = self.buckets.get_mut(&owner)?;
        let id = Self::pop_lru(&self.map, bucket)?;
        self.take(&id)
    }
}

impl MemoryStore {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                buckets: HashMap::new(),
            }),
            cap: limits.cap.max(1),
            idle_ms: u64::try_from(limits.idle.as_millis()).unwrap_or(u64::MAX),
            clock: Clock::new(),
            identity_key: random_key(),
        }
    }

    fn is_expired(&self, s: &Session, now: u64) -> bool {
        !s.is_busy() && now.saturating_sub(s.last_active()) > self.idle_ms
    }

    pub(super) fn insert_now(&self, session: Arc<Session>) -> Inserted {
        let mut inner = lock(&self.inner);
        let mut evicted = Vec::new();
        if inner.map.len() >= self.cap {
            evicted.extend(inner.evict_for_room().map(|s| (s, Eviction::Cap)));
        }
        inner.add(Arc::clone(&session));
        drop(inner);
        let evicted = evicted
            .into_iter()
            .map(|(s, why)| {
                s.close();
                (Arc::clone(&s.id), why)
            })
            .collect();
        Inserted { session, evicted }
    }

    pub(super) fn find_now(&self, id: &str) -> Found {
        let now = self.clock.now_ms();
        let mut inner = lock(&self.inner);
        let Some(s) = inner.map.get(id) else {
            return Found::Unknown;
        };
        if self.is_expired(s, now) {
            let s = inner.take(id);
            drop(inner);
            return match s {
                Some(s) => {
                    s.close();
                    Found::Expired(s)
                }
                None => Found::Unknown,
            };
        }
        s.touch(&self.clock);
        Found::Live(Arc::clone(s))
    }

    /// Removes and closes a session; false if unknown.
    pub(super) fn remove_now(&self, id: &str) -> bool {
        self.take_now(id).is_some()
    }

    /// Removes and closes a session, and returns it.
    pub(super) fn take_now(&self, id: &str) -> Option<Arc<Session>> {
        let s = lock(&self.inner).take(id);
        if let Some(s) = &s {
            s.close();
        }
        s
    }

    pub(super) fn local_all(&self) -> Vec<Arc<Session>> {
        lock(&self.inner).map.values().cloned().collect()
    }

    pub(super) fn sweep_now(&self) -> Vec<Arc<Session>> {
        let now = self.clock.now_ms();
        let mut inner = lock(&self.inner);
        let expired: Vec<Arc<str>> = inner
            .map
            .values()
            .filter(|s| self.is_expired(s, now))
            .map(|s| Arc::clone(&s.id))
            .collect();
        let removed: Vec<Arc<Session>> = expired.iter().filter_map(|id| inner.take(id)).collect();
        drop(inner);
        for s in &removed {
            s.close();
        }
        removed
    }
}

impl SessionStore for MemoryStore {
    fn clock(&self) -> &Clock {
        &self.clock
    }

    fn identity_key(&self) -> StoreFuture<'_, IdentityKey> {
        Box::pin(std::future::ready(Ok(self.identity_key)))
    }

    fn insert(&self, session: Arc<Session>) -> StoreFuture<'_, Inserted> {
        Box::pin(std::future::ready(Ok(self.insert_now(session))))
    }

    fn find<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Found> {
        Box::pin(std::future::ready(Ok(self.find_now(id))))
    }

    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(std::future::ready(Ok(self.remove_now(id))))
    }

    fn save_log_level<'a>(&'a self, _: &'a str, _: LoggingLevel) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn sweep(&self) -> StoreFuture<'_, Vec<Arc<Session>>> {
        Box::pin(std::future::ready(Ok(self.sweep_now())))
    }

    fn drain(&self) -> Vec<Arc<Session>> {
        let mut inner = lock(&self.inner);
        let all: Vec<Arc<Session>> = inner.map.drain().map(|(_, s)| s).collect();
        inner.buckets.clear();
        drop(inner);
        for s in &all {
            s.close();
        }
        all
    }

    fn len(&self) -> usize {
        lock(&self.inner).map.len()
    }

    fn local(&self) -> Vec<Arc<Session>> {
        self.local_all()
    }

    fn local_one(&self, id: &str) -> Option<Arc<Session>> {
        lock(&self.inner).map.get(id).cloned()
    }

    fn sweep_interval(&self) -> Duration {
        Duration::from_millis((self.idle_ms / 4).clamp(20, 30_000))
    }

    fn instance(&self) -> Option<&str> {
        None
    }

    fn publish(&self, _relay: Relay) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn listen(&self, _deliver: Deliver, _stop: CancellationToken) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthInfo;
    use crate::session::client::ClientInfo;
    use crate::session::identity::identity_of;
    use crate::session::state::Local;

    struct Identities([u8; 32]);
    impl Identities {
        fn default() -> Self {
            Self(random_key())
        }
        fn of(&self, auth: Option<&AuthInfo>) -> Option<Identity> {
            identity_of(&self.0, auth)
        }
    }
    use mcp_proto::ProtocolVersion;
    use serde_json::json;
    use tokio_util::sync::CancellationToken;

    fn store(cap: usize, idle: Duration) -> MemoryStore {
        MemoryStore::new(Limits { cap, idle })
    }

    fn session(store: &MemoryStore, id: &str, who: Option<Identity>) -> Arc<Session> {
        Arc::new(Session::new(
            Arc::from(id),
            ProtocolVersion::LATEST,
            ClientInfo::default(),
            who,
            Local {
                token: CancellationToken::new(),
                history_cap: 10,
                pending: crate::pending::PendingRequests::new(),
                shared_history: None,
            },
            store.clock(),
        ))
    }

    fn evicted(i: Inserted) -> Vec<String> {
        i.evicted.iter().map(|(id, _)| id.to_string()).collect()
    }

    #[test]
    fn lru_eviction_prefers_idle() {
        let store = store(2, Duration::from_secs(60));
        let a = session(&store, "a", None);
        let b = session(&store, "b", None);
        store.insert_now(a.clone());
        store.insert_now(b.clone());
        // a is older but busy: b goes.
        let _busy = a.busy_guard(store.clock());
        let out = store.insert_now(session(&store, "c", None));
        assert_eq!(evicted(out), ["b"]);
        assert!(b.token.is_cancelled());
        assert_eq!(store.len(), 2);
        assert!(matches!(store.find_now("a"), Found::Live(_)));
        assert!(matches!(store.find_now("b"), Found::Unknown));
    }

    #[test]
    fn sequence_orders_activities_of_the_same_millisecond() {
        // Every step below runs within one millisecond; the sequence still orders them.
        let store = store(2, Duration::from_secs(60));
        let a = session(&store, "a", None);
        let b = session(&store, "b", None);
        store.insert_now(a);
        store.insert_now(b);
        assert!(matches!(store.find_now("a"), Found::Live(_)));
        let out = store.insert_now(session(&store, "c", None));
        assert_eq!(evicted(out), ["b"]);
    }

    #[test]
    fn exact_lru_among_many_with_stale_heap_entries() {
        let store = store(50, Duration::from_secs(60));
        let all: Vec<_> = (0..50)
            .map(|i| session(&store, &format!("s{i}"), None))
            .collect();
        for (i, s) in all.iter().enumerate() {
            s.set_activity(0, i as u64 * 10);
            store.insert_now(s.clone());
        }
        // Touch every session but s7, in reverse: s7 is now the least recent.
        for (i, s) in all.iter().enumerate() {
            if i != 7 {
                s.set_activity(0, 10_000 - i as u64);
            }
        }
        // Removed sessions leave stale heap entries behind.
        store.remove_now("s3");
        let fresh = |id: &str| {
            let s = session(&store, id, None);
            s.set_activity(0, 20_000);
            s
        };
        assert!(store.insert_now(fresh("x")).evicted.is_empty());
        assert_eq!(evicted(store.insert_now(fresh("y"))), ["s7"]);
        // Next least recent: s49 (touched at 10_000 - 49).
        assert_eq!(evicted(store.insert_now(fresh("z"))), ["s49"]);
        assert_eq!(store.len(), 50);
    }

    #[test]
    fn anonymous_floods_do_not_evict_authenticated_sessions() {
        let ids = Identities::default();
        let alice = ids.of(Some(&AuthInfo::new(json!({"token": "alice"}))));
        let store = store(10, Duration::from_secs(60));
        for i in 0..3 {
            store.insert_now(session(&store, &format!("alice{i}"), alice));
        }
        for i in 0..1000 {
            store.insert_now(session(&store, &format!("anon{i}"), None));
        }
        assert_eq!(store.len(), 10);
        for i in 0..3 {
            assert!(matches!(
                store.find_now(&format!("alice{i}")),
                Found::Live(_)
            ));
        }
        // With no anonymous session left to evict, the least recently used user session goes.
        let store = store_with_users(&ids);
        let out = store.insert_now(session(&store, "late", None));
        assert_eq!(evicted(out), ["u0"]);
    }

    fn store_with_users(ids: &Identities) -> MemoryStore {
        let store = store(3, Duration::from_secs(60));
        for i in 0..3 {
            let who = ids.of(Some(&AuthInfo::new(json!({"token": format!("user{i}")}))));
            store.insert_now(session(&store, &format!("u{i}"), who));
        }
        store
    }

    #[test]
    fn a_flood_of_one_user_evicts_its_own_sessions() {
        let ids = Identities::default();
        let mallory = ids.of(Some(&AuthInfo::new(json!({"token": "m"}))));
        let bob = ids.of(Some(&AuthInfo::new(json!({"token": "b"}))));
        let store = store(10, Duration::from_secs(60));
        store.insert_now(session(&store, "bob", bob));
        for i in 0..50 {
            let out = store.insert_now(session(&store, &format!("m{i}"), mallory));
            if i >= 9 {
                // Mallory holds the most: her own oldest session makes room.
                assert_eq!(evicted(out), [format!("m{}", i - 9)]);
            }
        }
        assert_eq!(store.len(), 10);
        assert!(matches!(store.find_now("bob"), Found::Live(_)));
    }

    #[test]
    fn heap_is_compacted() {
        let store = store(10_000, Duration::from_secs(60));
        store.insert_now(session(&store, "kept", None));
        for i in 0..1000 {
            store.insert_now(session(&store, &format!("s{i}"), None));
            store.remove_now(&format!("s{i}"));
        }
        let inner = lock(&store.inner);
        assert_eq!(inner.buckets.len(), 1);
        assert!(inner.buckets.values().all(|b| b.lru.len() <= 2 + 64 + 1));
    }

    #[test]
    fn idle_expiry() {
        let store = store(10, Duration::from_millis(0));
        let a = session(&store, "a", None);
        store.insert_now(a.clone());
        a.set_activity(0, 1);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while store.clock().now_ms() < 2 && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert!(matches!(store.find_now("a"), Found::Expired(_)));
        assert!(a.token.is_cancelled());
        let b = session(&store, "b", None);
        store.insert_now(b.clone());
        let guard = b.busy_guard(store.clock());
        b.set_activity(0, 2);
        assert!(store.sweep_now().is_empty());
        drop(guard);
        b.set_activity(0, 3);
        assert_eq!(store.sweep_now().len(), 1);
        assert_eq!(store.len(), 0);
    }
}
