//! One session: what the protocol needs to remember between requests.
//!
//! Kept small (a few hundred bytes when idle): negotiated version, client info, log level,
//! auth binding, activity, and lazily filled maps for streams, in-flight requests and waiting
//! server→client requests. No tasks, no timers, no copy of the server definition.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

use mcp_proto::{LoggingLevel, McpError, ProtocolVersion, RequestId};
use tokio_util::sync::CancellationToken;

use super::client::ClientInfo;
use super::identity::Identity;
use crate::pending::{PendingRequests, lock};
use crate::sse::table::{Shared, StreamTable};

const LEVEL_UNSET: u8 = u8::MAX;

/// The most resources one session may subscribe to, and the longest URI it may subscribe
/// with: the set is fed by the client and lives as long as the session.
pub(crate) const MAX_SUBSCRIPTIONS: usize = 1000;
/// See [`MAX_SUBSCRIPTIONS`].
pub(crate) const MAX_SUBSCRIPTION_URI_BYTES: usize = 4096;

/// What the instance serving a session adds to what the client and the store said.
pub(crate) struct Local {
    /// Cancelled when the session ends here (a child of the transport's root token).
    pub(crate) token: CancellationToken,
    /// Events of SSE history kept per stream.
    pub(crate) history_cap: usize,
    /// Its server→client requests waiting here.
    pub(crate) pending: PendingRequests,
    /// For a session shared by several instances: where its SSE history is copied to.
    pub(crate) shared_history: Option<Shared>,
}

/// A live session.
pub(crate) struct Session {
    pub(crate) id: Arc<str>,
    pub(crate) version: ProtocolVersion,
    pub(crate) client: Arc<ClientInfo>,
    /// Cancelled when the session ends; parent of its requests' tokens.
    pub(crate) token: CancellationToken,
    log_level: AtomicU8,
    /// Milliseconds since the clock's epoch (for idle expiry).
    last_active: AtomicU64,
    /// The clock's sequence number at the last activity (for LRU order: unlike milliseconds,
    /// no two activities share one).
    last_seq: AtomicU64,
    /// In-flight requests plus attached GET streams.
    busy: AtomicU32,
    pub(crate) streams: Mutex<StreamTable>,
    pub(crate) in_flight: Mutex<HashMap<RequestId, CancellationToken>>,
    pub(crate) pending: PendingRequests,
    pub(crate) subscriptions: Mutex<HashSet<String>>,
    /// Who created the session (see [`Identity`]): requests of anyone else are answered as
    /// for an unknown session. `None`: created without auth.
    pub(crate) identity: Option<Identity>,
}

impl Session {
    pub(crate) fn new(
        id: Arc<str>,
        version: ProtocolVersion,
        client: ClientInfo,
        identity: Option<Identity>,
        local: Local,
        clock: &Clock,
    ) -> Self {
        Self {
            id,
            version,
            client: Arc::new(client),
            token: local.token,
            log_level: AtomicU8::new(LEVEL_UNSET),
            last_active: AtomicU64::new(clock.now_ms()),
            last_seq: AtomicU64::new(clock.next_seq()),
            busy: AtomicU32::new(0),
            streams: Mutex::new(match local.shared_history {
                Some(shared) if local.history_cap > 0 => {
                    StreamTable::shared(local.history_cap, shared)
                }
                _ => StreamTable::new(local.history_cap),
            }),
            in_flight: Mutex::new(HashMap::new()),
            pending: local.pending,
            subscriptions: Mutex::new(HashSet::new()),
            identity,
        }
    }

    /// The minimum log level set with `logging/setLevel`, if any.
    pub(crate) fn log_level(&self) -> Option<LoggingLevel> {
        LoggingLevel::from_index(self.log_level.load(Ordering::Relaxed))
    }

    pub(crate) fn set_log_level(&self, level: LoggingLevel) {
        self.log_level.store(level.index(), Ordering::Relaxed);
    }

    /// Marks the session used now.
    pub(crate) fn touch(&self, clock: &Clock) {
        self.last_active.store(clock.now_ms(), Ordering::Relaxed);
        self.last_seq.store(clock.next_seq(), Ordering::Relaxed);
    }

    /// Milliseconds since the clock's epoch at the last activity.
    pub(crate) fn last_active(&self) -> u64 {
        self.last_active.load(Ordering::Relaxed)
    }

    /// The sequence number of the last activity: a larger one is more recent.
    pub(crate) fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    pub(crate) fn set_activity(&self, ms: u64, seq: u64) {
        self.last_active.store(ms, Ordering::Relaxed);
        self.last_seq.store(seq, Ordering::Relaxed);
    }

    pub(crate) fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Relaxed) > 0
    }

    /// Marks the session busy until the guard drops.
    pub(crate) fn busy_guard(self: &Arc<Self>, clock: &Clock) -> BusyGuard {
        self.busy.fetch_add(1, Ordering::Relaxed);
        BusyGuard {
            session: Arc::clone(self),
            clock: clock.clone(),
        }
    }

    /// Registers an in-flight request so that `notifications/cancelled` can reach it.
    pub(crate) fn track(&self, id: RequestId, token: CancellationToken) {
        lock(&self.in_flight).insert(id, token);
    }

    pub(crate) fn untrack(&self, id: &RequestId) {
        lock(&self.in_flight).remove(id);
    }

    /// Cancels an in-flight request; unknown or finished ids are ignored.
    pub(crate) fn cancel_request(&self, id: &RequestId) -> bool {
        match lock(&self.in_flight).get(id) {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }

    /// Adds a `resources/subscribe` URI, within [`MAX_SUBSCRIPTIONS`] and
    /// [`MAX_SUBSCRIPTION_URI_BYTES`] (`-32602` beyond them).
    pub(crate) fn subscribe(&self, uri: String) -> Result<(), McpError> {
        if uri.len() > MAX_SUBSCRIPTION_URI_BYTES {
            return Err(McpError::invalid_params(format!(
                "Resource URI too long to subscribe to (at most {MAX_SUBSCRIPTION_URI_BYTES} bytes)"
            )));
        }
        let mut subs = lock(&self.subscriptions);
        if subs.len() >= MAX_SUBSCRIPTIONS && !subs.contains(&uri) {
            return Err(McpError::invalid_params(format!(
                "Too many resource subscriptions (at most {MAX_SUBSCRIPTIONS} per session)"
            )));
        }
        subs.insert(uri);
        Ok(())
    }

    /// Sends a message on the session's GET stream (kept in the history if it is momentarily
    /// disconnected); false if the session never opened one.
    pub(crate) fn send_on_get_stream(&self, msg: &[u8]) -> bool {
        let mut t = lock(&self.streams);
        if !t.has_standalone() {
            return false;
        }
        let id = t.standalone();
        t.send(id, msg, true);
        true
    }

    /// Ends the session: cancels its requests, closes its streams, drops waiting requests.
    pub(crate) fn close(&self) {
        self.token.cancel();
        lock(&self.streams).close_all();
        self.pending.clear();
    }
}

/// The time and order of session activity, shared by a store and its sessions: monotonic
/// milliseconds (idle expiry) and a sequence number (LRU order without ties).
#[derive(Clone, Debug)]
pub(crate) struct Clock {
    epoch: std::time::Instant,
    seq: Arc<AtomicU64>,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Self {
            epoch: std::time::Instant::now(),
            seq: Arc::new(AtomicU64::new(0)),
        }
    }

    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The next sequence number (never the same twice).
    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Keeps a session out of idle expiry while alive; refreshes its activity when dropped.
pub(crate) struct BusyGuard {
    session: Arc<Session>,
    clock: Clock,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.session.touch(&self.clock);
        self.session.busy.fetch_sub(1, Ordering::Relaxed);
    }
}
