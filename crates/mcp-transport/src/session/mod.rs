//! Sessions: where they are kept, who they belong to, and what they hold.
//!
//! All session state lives behind this module. [`Sessions`] is what the endpoint code uses:
//! it creates sessions (keeping a bounded copy of the client's `initialize`), finds them for
//! a request (refusing other users), deletes them, sweeps idle ones and logs each of these.
//! Where sessions are kept is a [`SessionStore`]: [`memory::MemoryStore`] (the default) keeps
//! them in this process; a shared store (Redis) implements the same trait, so that the
//! endpoint code does not change.
//!
//! The store methods return futures because a shared store answers over the network; the
//! in-memory store answers at once (a ready future).

pub(crate) mod client;
pub(crate) mod id;
pub(crate) mod identity;
pub(crate) mod memory;
#[cfg(feature = "redis")]
pub(crate) mod redis;
pub(crate) mod relay;
pub(crate) mod state;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Once, Weak};
use std::time::Duration;

use mcp_proto::{LoggingLevel, ProtocolVersion};
use tokio_util::sync::CancellationToken;

use crate::auth::AuthInfo;
use crate::config::TransportConfig;
use crate::logging;
use crate::pending::{ClientAnswer, PendingRequests, lock};
use crate::sse::encode::EventId;
use client::ClientInfo;
use id::{new_session_id, short};
use identity::{Identity, IdentityKey, identity_of};
use mcp_proto::RequestId;
use relay::Relay;
use state::{Clock, Local, Session};

/// What a store's operations return.
pub(crate) type StoreFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A store could not answer (a shared store that is unreachable). The request fails with
/// 503; nothing is lost.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The store is unreachable or answered with an error.
    #[allow(
        dead_code,
        reason = "a shared store's error: the in-memory store never fails"
    )]
    #[error("session store unavailable: {0}")]
    Unavailable(String),
}

/// Where sessions are kept.
pub(crate) trait SessionStore: Send + Sync + 'static {
    /// The clock sessions of this store are timed and ordered by.
    fn clock(&self) -> &Clock;
    /// The key sessions are bound to users with (shared by every instance of a shared store).
    fn identity_key(&self) -> StoreFuture<'_, IdentityKey>;
    /// Adds a session, first evicting (and closing) what must go to make room.
    fn insert(&self, session: Arc<Session>) -> StoreFuture<'_, Inserted>;
    /// Finds a session and marks it used; an idle-expired one is removed and closed.
    fn find<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Found>;
    /// Removes (and closes) a session; false if it was unknown.
    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, bool>;
    /// Keeps the level `logging/setLevel` set for a session where every instance sees it (the
    /// session's own object has it already; nothing to do for a store of one process).
    fn save_log_level<'a>(&'a self, id: &'a str, level: LoggingLevel) -> StoreFuture<'a, ()>;
    /// Removes and closes every idle-expired session.
    fn sweep(&self) -> StoreFuture<'_, Vec<Arc<Session>>>;
    /// How often [`SessionStore::sweep`] should run.
    fn sweep_interval(&self) -> Duration;
    /// Closes every session of this process (shutdown).
    fn drain(&self) -> Vec<Arc<Session>>;
    /// Sessions live in this process.
    fn len(&self) -> usize;
    /// A snapshot of the sessions live in this process.
    fn local(&self) -> Vec<Arc<Session>>;
    /// A session live in this process, untouched (for sending on its streams).
    fn local_one(&self, id: &str) -> Option<Arc<Session>>;
    /// This instance's id among those sharing the store; `None` for a store of one process.
    fn instance(&self) -> Option<&str>;
    /// Sends a message to the other instances (nothing for a store of one process).
    fn publish(&self, relay: Relay) -> StoreFuture<'_, ()>;
    /// Starts receiving other instances' messages (until `stop`), handing each to `deliver`.
    fn listen(&self, deliver: Deliver, stop: CancellationToken);
    /// Where a session object of a shared store copies its SSE history (`None`: nowhere).
    fn shared_history(&self, _id: &Arc<str>) -> Option<crate::sse::table::Shared> {
        None
    }
    /// Resumes from the shared history a stream this process does not hold (see
    /// [`Sessions::resume_shared`]); `None` for a store of one process.
    fn resume_shared<'a>(
        &'a self,
        _session: &'a Session,
        _id: EventId<'a>,
    ) -> StoreFuture<'a, Option<Followed>> {
        Box::pin(std::future::ready(Ok(None)))
    }
}

/// A stream resumed from the shared history: the events after the client's id, then (when
/// the stream is still open on its instance) the rest as it comes.
pub(crate) struct Followed {
    pub(crate) replay: Vec<bytes::Bytes>,
    pub(crate) live: Option<crate::sse::table::ConnRx>,
}

/// Where a store hands the messages of other instances.
pub(crate) type Deliver = Arc<dyn Fn(Relay) + Send + Sync>;

/// What [`SessionStore::find`] found.
pub(crate) enum Found {
    Live(Arc<Session>),
    /// It had expired: now removed and closed.
    Expired(Arc<Session>),
    Unknown,
}

/// What [`SessionStore::insert`] did.
pub(crate) struct Inserted {
    pub(crate) session: Arc<Session>,
    /// Sessions removed (and closed) to make room, and why.
    pub(crate) evicted: Vec<(Arc<str>, Eviction)>,
}

/// Why a session was evicted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Eviction {
    /// The store was full (`max_sessions`).
    Cap,
}

/// Why a request gets no session.
#[derive(Debug)]
pub(crate) enum Missing {
    /// Unknown, expired, or another user's (all answered 404, so as to tell nothing).
    NotFound,
    /// The store could not answer.
    Unavailable(StoreError),
}

/// The sessions of a transport: a store and its background tasks (sweeper, relay listener).
pub(crate) struct Sessions {
    store: Box<dyn SessionStore>,
    history_cap: usize,
    /// The parent of every session's token; the background tasks stop when it fires.
    root: CancellationToken,
    background: Once,
    /// This, for the background tasks (which hold it weakly).
    me: Weak<Sessions>,
    /// Modern `subscriptions/listen` streams: not sessions, but they get what every session's
    /// GET stream gets (here and, for a shared store, from the other instances).
    listeners: crate::modern::listen::Listeners,
}

impl Sessions {
    /// Sessions in the store the config names (in memory by default), with its limits.
    /// `root` is the parent of every session's token.
    pub(crate) fn new(config: &TransportConfig, root: &CancellationToken) -> Arc<Self> {
        let limits = memory::Limits {
            cap: config.max_sessions,
            idle: config.session_idle_timeout,
        };
        let store: Box<dyn SessionStore> = match config.redis_store() {
            #[cfg(feature = "redis")]
            Some(redis) => Box::new(redis::RedisStore::new(
                redis.clone(),
                limits,
                (config.sse_history, config.sse_history_bytes),
                root.clone(),
            )),
            _ => Box::new(memory::MemoryStore::new(limits)),
        };
        Arc::new_cyclic(|me| Self {
            store,
            history_cap: config.sse_history,
            root: root.clone(),
            background: Once::new(),
            me: me.clone(),
            listeners: crate::modern::listen::Listeners::new(config.max_sessions),
        })
    }

    /// The modern era's listen streams of this process.
    pub(crate) fn listeners(&self) -> &crate::modern::listen::Listeners {
        &self.listeners
    }

    /// Opens a listen stream; with a shared store, this instance starts hearing the others'
    /// notifications if it had not yet (a modern-only instance never creates or finds a
    /// session, which is what starts that otherwise).
    pub(crate) fn open_listener(
        &self,
        id: mcp_proto::RequestId,
        filter: mcp_proto::SubscriptionFilter,
    ) -> Result<tokio::sync::mpsc::Receiver<bytes::Bytes>, crate::modern::listen::TooMany> {
        self.ensure_background();
        self.listeners.open(id, filter)
    }

    pub(crate) fn clock(&self) -> &Clock {
        self.store.clock()
    }

    /// Sessions live in this process.
    pub(crate) fn len(&self) -> usize {
        self.store.len()
    }

    /// A snapshot of the sessions live in this process.
    pub(crate) fn local(&self) -> Vec<Arc<Session>> {
        self.store.local()
    }

    /// A session live in this process, untouched.
    pub(crate) fn local_one(&self, id: &str) -> Option<Arc<Session>> {
        self.store.local_one(id)
    }

    /// Who a request is (see [`identity_of`]).
    pub(crate) async fn identity(
        &self,
        auth: Option<&AuthInfo>,
    ) -> Result<Option<Identity>, StoreError> {
        if auth.is_none() {
            return Ok(None);
        }
        let key = self.store.identity_key().await?;
        Ok(identity_of(&key, auth))
    }

    /// Creates a session for an `initialize`: keeps the bounded copy of what the client said
    /// ([`ClientInfo::bounded`]; one log line when it was cut), binds it to the request's user,
    /// evicts what must go, logs.
    pub(crate) async fn create(
        &self,
        version: ProtocolVersion,
        (client, trimmed): (ClientInfo, Option<client::Trimmed>),
        auth: Option<&AuthInfo>,
    ) -> Result<Arc<Session>, StoreError> {
        self.ensure_background();
        let id: Arc<str> = Arc::from(new_session_id());
        if let Some(t) = trimmed {
            tracing::warn!(
                target: logging::TARGET,
                sessionId = &*id,
                sent = t.sent,
                kept = t.kept,
                "Client info too large: kept {} of {} bytes (name, version, known capabilities)",
                t.kept,
                t.sent
            );
        }
        let session = Arc::new(Session::new(
            Arc::clone(&id),
            version,
            client,
            self.identity(auth).await?,
            Local {
                token: self.root.child_token(),
                history_cap: self.history_cap,
                pending: self.new_pending(),
                shared_history: self.store.shared_history(&id),
            },
            self.clock(),
        ));
        let inserted = self.store.insert(session).await?;
        for (evicted, why) in &inserted.evicted {
            let reason = match why {
                Eviction::Cap => "session cap reached",
            };
            tracing::info!(target: logging::TARGET, sessionId = &**evicted, "Session evicted: {}... ({reason})", short(evicted));
            logging::session_closed(evicted, self.len().saturating_sub(1));
        }
        logging::session_started(&id, self.len());
        Ok(inserted.session)
    }

    /// The live session `sid` names, for a request of `auth`'s user. An idle-expired one is
    /// closed and logged on the way. A session bound to a user is unknown to anyone else
    /// (MCP security best practices: a leaked session id is of no use to another user).
    pub(crate) async fn find(
        &self,
        sid: &str,
        auth: Option<&AuthInfo>,
    ) -> Result<Arc<Session>, Missing> {
        self.ensure_background();
        let session = match self.store.find(sid).await.map_err(Missing::Unavailable)? {
            Found::Live(s) => s,
            Found::Expired(s) => {
                logging::session_expired(&s.id, self.len());
                return Err(Missing::NotFound);
            }
            Found::Unknown => return Err(Missing::NotFound),
        };
        if session.identity.is_some()
            && self.identity(auth).await.map_err(Missing::Unavailable)? != session.identity
        {
            logging::transport_error(
                Some(sid),
                "Not Found: the session belongs to another identity",
            );
            return Err(Missing::NotFound);
        }
        Ok(session)
    }

    /// `logging/setLevel`: the session's level, here and (for a shared store) on every
    /// instance.
    pub(crate) async fn set_log_level(
        &self,
        session: &Session,
        level: LoggingLevel,
    ) -> Result<(), StoreError> {
        session.set_log_level(level);
        self.store.save_log_level(&session.id, level).await
    }

    /// For a shared store, resumes a stream named by `Last-Event-ID` that this process does
    /// not hold open (another instance's, or one that ended here) from the shared history;
    /// `Ok(None)`: resume it locally (a store of one process, or a stream open here).
    pub(crate) async fn resume_shared(
        &self,
        session: &Session,
        id: EventId<'_>,
    ) -> Result<Option<Followed>, StoreError> {
        let Some(me) = self.store.instance() else {
            return Ok(None);
        };
        let Some(origin) = id.origin else {
            return Ok(None);
        };
        if origin == me && lock(&session.streams).is_open(id.stream) {
            return Ok(None);
        }
        let followed = self.store.resume_shared(session, id).await?;
        tracing::info!(
            target: logging::TARGET,
            sessionId = &*session.id,
            "SSE stream {origin}.{} resumed after event {} from the shared history ({} replayed{})",
            id.stream,
            id.seq,
            followed.as_ref().map_or(0, |f| f.replay.len()),
            if followed.as_ref().is_some_and(|f| f.live.is_some()) { ", following it live" } else { "" }
        );
        Ok(followed)
    }

    /// Ends a session (DELETE, or the embedder's `close_session`); logs it. False if unknown.
    pub(crate) async fn delete(&self, sid: &str) -> Result<bool, StoreError> {
        let existed = self.store.remove(sid).await?;
        if existed {
            logging::session_closed(sid, self.len());
        }
        Ok(existed)
    }

    /// Closes every session of this process (forced shutdown).
    pub(crate) fn drain(&self) {
        self.store.drain();
    }

    /// The table of a new session's server→client requests: with ids unique across the
    /// instances of a shared store, so that an answer can find its way back.
    pub(crate) fn new_pending(&self) -> PendingRequests {
        match self.store.instance() {
            Some(instance) => PendingRequests::with_prefix(instance.to_owned()),
            None => PendingRequests::new(),
        }
    }

    /// The client's answer to a server→client request that nobody here waits for: another
    /// instance may. False when the store is not shared.
    pub(crate) async fn relay_answer(
        &self,
        sid: &str,
        id: RequestId,
        answer: ClientAnswer,
    ) -> bool {
        if self.store.instance().is_none() || relay::instance_of(&id).is_none() {
            return false;
        }
        let to = relay::instance_of(&id).unwrap_or_default().to_owned();
        let shown = id.to_string();
        let relay = Relay::Answer {
            session: sid.to_owned(),
            id,
            answer,
        };
        match self.store.publish(relay).await {
            Ok(()) => {
                tracing::info!(target: logging::TARGET, sessionId = sid, "Client answer to {shown} relayed to instance {to}");
                true
            }
            Err(e) => {
                tracing::warn!(target: logging::TARGET, sessionId = sid, error = %e, "Could not relay a client answer");
                false
            }
        }
    }

    /// Sends `message` on GET streams: of session `sid` (else of every session; with `uri`,
    /// only those subscribed to it), here and, for a shared store, on the other instances.
    /// Returns how many streams here got it, and whether other instances were asked.
    pub(crate) fn notify(
        self: &Arc<Self>,
        sid: Option<&str>,
        uri: Option<&str>,
        message: &[u8],
    ) -> (usize, bool) {
        let here = self.deliver_here(sid, uri, message);
        let Some(from) = self.store.instance() else {
            return (here, false);
        };
        if sid.is_some() && here > 0 {
            return (here, false);
        }
        let relay = Relay::Notify {
            from: from.to_owned(),
            session: sid.map(str::to_owned),
            uri: uri.map(str::to_owned),
            message: String::from_utf8_lossy(message).into_owned(),
        };
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return (here, false);
        };
        let sessions = Arc::clone(self);
        handle.spawn(async move {
            if let Err(e) = sessions.store.publish(relay).await {
                tracing::warn!(target: logging::TARGET, error = %e, "Could not relay a notification");
            }
        });
        (here, true)
    }

    fn deliver_here(&self, sid: Option<&str>, uri: Option<&str>, message: &[u8]) -> usize {
        let subscribed = |s: &Session| uri.is_none_or(|u| lock(&s.subscriptions).contains(u));
        match sid {
            Some(id) => self
                .local_one(id)
                .filter(|s| subscribed(s) && s.send_on_get_stream(message))
                .map_or(0, |_| 1),
            None => {
                let sessions = self
                    .local()
                    .iter()
                    .filter(|s| subscribed(s) && s.send_on_get_stream(message))
                    .count();
                sessions + self.listeners.deliver(message)
            }
        }
    }

    /// A message from another instance.
    fn deliver(&self, relay: Relay) {
        match relay {
            Relay::Answer {
                session,
                id,
                answer,
            } => {
                if let Some(s) = self.local_one(&session)
                    && s.pending.complete(&id, answer)
                {
                    tracing::info!(target: logging::TARGET, sessionId = session, "Client answer to {id} received from another instance");
                }
            }
            Relay::Notify {
                from,
                session,
                uri,
                message,
            } => {
                if Some(from.as_str()) != self.store.instance() {
                    self.deliver_here(session.as_deref(), uri.as_deref(), message.as_bytes());
                }
            }
        }
    }

    /// Starts, once and inside a runtime, the idle sweeper and (for a shared store) the
    /// listener for other instances' messages. Both hold only a weak reference and end when
    /// the sessions are dropped or the root token fires.
    fn ensure_background(&self) {
        // Every request passes here: after the first, one atomic load and nothing else.
        if self.background.is_completed() {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(me) = self.me.upgrade() else {
            return;
        };
        self.background.call_once(|| {
            let weak = Arc::downgrade(&me);
            let deliver: Deliver = Arc::new(move |relay| {
                if let Some(sessions) = weak.upgrade() {
                    sessions.deliver(relay);
                }
            });
            me.store.listen(deliver, me.root.clone());
            let weak: Weak<Sessions> = Arc::downgrade(&me);
            let interval = me.store.sweep_interval();
            let stop = me.root.clone();
            handle.spawn(async move {
                loop {
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(interval) => {}
                    }
                    let Some(sessions) = weak.upgrade() else { break };
                    match sessions.store.sweep().await {
                        Ok(expired) => {
                            for s in expired {
                                logging::session_expired(&s.id, sessions.len());
                            }
                        }
                        Err(e) => {
                            tracing::warn!(target: logging::TARGET, error = %e, "Session sweep failed");
                        }
                    }
                }
            });
        });
    }
}
