//! [`RedisStore`]: sessions in Redis, so that any instance serves any session and an
//! instance that dies loses none.
//!
//! What is shared (in Redis): each session's record (negotiated version, the user it is bound
//! to, the bounded client info) under `<prefix>session:<id>` with the idle timeout as its TTL,
//! two sorted sets of session ids by last activity (anonymous and authenticated: the session
//! cap and its eviction order), the key identities are hashed with, and each session's SSE
//! history for `Last-Event-ID` (see [`history`]). The record is JSON, preceded by one digit
//! when `logging/setLevel` set a level (its index; so that every instance reads the level with
//! the record, at no extra round trip). What each instance
//! keeps: a [`Session`] object per session it has served (streams, in-flight requests,
//! requests waiting for the client), made from the record on first use, in a local
//! [`MemoryStore`].
//!
//! Round trips: a request finds its session with one script call (get, refresh the TTL and
//! the activity score: one round trip); `initialize` is one script call (prune, evict at the
//! cap, store, and delete an evicted session's SSE history); DELETE is one (the history with it);
//! `logging/setLevel` one more. An unreachable Redis fails requests with a
//! [`StoreError`] (503) after at most the connection or response timeout; the connection
//! manager reconnects, so requests succeed again once Redis is back.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use mcp_proto::{ClientCapabilities, Implementation, LoggingLevel, ProtocolVersion};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

pub(crate) mod history;

use super::client::ClientInfo;
use super::identity::{Identity, IdentityKey, random_key};
use super::memory::{Limits, MemoryStore};
use super::relay::{Relay, instance_of};
use super::state::{Clock, Local, Session};
use super::{Deliver, Eviction, Followed, Found, Inserted, SessionStore, StoreError, StoreFuture};
use crate::pending::PendingRequests;
use crate::sse::encode::EventId;

/// How long one attempt to connect, or one command, may take before the request fails.
const TIMEOUT: Duration = Duration::from_secs(2);

/// A validated Redis URL (`redis://`, `rediss://`, `redis+unix://`) and a key prefix.
///
/// `rediss://` connects with TLS (rustls). The server's certificate is checked against the
/// system's roots, or those of the `SSL_CERT_FILE` / `SSL_CERT_DIR` environment variables,
/// or only against the PEM certificates given to [`RedisConfig::root_certificates`].
#[derive(Clone)]
pub struct RedisConfig {
    client: redis::Client,
    /// The URL as given (with its password): kept to rebuild the client with other roots.
    url: String,
    shown: String,
    prefix: String,
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.shown)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// A session store URL that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid Redis URL {url}: {reason}")]
pub struct InvalidRedisUrl {
    url: String,
    reason: String,
}

impl RedisConfig {
    /// Checks a URL such as `redis://:password@host:6379/0` (keys are prefixed `sunpeak:`).
    pub fn new(url: &str) -> Result<Self, InvalidRedisUrl> {
        let shown = redact(url);
        install_crypto_provider();
        let client = redis::Client::open(url).map_err(|e| InvalidRedisUrl {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            client,
            url: url.to_owned(),
            shown,
            prefix: "sunpeak:".to_owned(),
        })
    }

    /// Trusts only these PEM certificates (a private CA) for a `rediss://` server, instead of
    /// the system's roots.
    pub fn root_certificates(mut self, pem: Vec<u8>) -> Result<Self, InvalidRedisUrl> {
        let certificates = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(pem),
        };
        self.client =
            redis::Client::build_with_tls(self.url.as_str(), certificates).map_err(|e| {
                InvalidRedisUrl {
                    url: self.shown.clone(),
                    reason: e.to_string(),
                }
            })?;
        Ok(self)
    }

    /// Another key prefix (several servers in one Redis database).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The URL with its password replaced by `***`, for logs.
    pub fn shown_url(&self) -> &str {
        &self.shown
    }

    /// Any URL with its password replaced by `***`.
    pub fn redacted(url: &str) -> String {
        redact(url)
    }
}

/// Makes ring rustls's process-wide provider unless one is set already (by the application
/// embedding us, or an earlier call): `rediss://` connections need one.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err: another thread installed one between the check and here, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// `redis://user:secret@host/0` → `redis://user:***@host/0`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
    format!("{scheme}://{user}:***@{host}{path}")
}

/// What Redis keeps of a session.
#[derive(Serialize, Deserialize)]
struct Record {
    /// The negotiated protocol version.
    v: String,
    /// The identity hash, as a decimal string (JSON numbers lose bits past 2^53).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    i: Option<String>,
    info: Implementation,
    caps: ClientCapabilities,
}

/// Sessions in Redis (see the module docs).
pub(crate) struct RedisStore {
    config: RedisConfig,
    conn: OnceCell<ConnectionManager>,
    identity_key: OnceCell<IdentityKey>,
    local: MemoryStore,
    cap: usize,
    idle_ms: u64,
    history_cap: usize,
    parent: CancellationToken,
    /// This instance's id: the prefix of its server→client request ids, and its channel.
    instance: String,
    /// The SSE history for `Last-Event-ID` on any instance.
    history: history::SharedHistory,
}

/// `initialize`: prune entries of expired sessions from the activity sets, evict at the cap
/// (anonymous sessions first), store the record with its TTL, add it to its set. Returns the
/// evicted id, if any.
const INSERT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idle = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - idle - 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - idle - 1000)
local evicted = false
if redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then
  local set = KEYS[2]
  if redis.call('ZCARD', set) == 0 then set = KEYS[3] end
  local popped = redis.call('ZPOPMIN', set)
  if popped[1] then
    evicted = popped[1]
    redis.call('DEL', ARGV[6] .. 'session:' .. evicted, ARGV[6] .. 'history:' .. evicted,
      ARGV[6] .. 'history-bytes:' .. evicted, ARGV[6] .. 'history-ended:' .. evicted)
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', idle)
if ARGV[5] == '1' then
  redis.call('ZADD', KEYS[3], now, ARGV[1])
else
  redis.call('ZADD', KEYS[2], now, ARGV[1])
end
return evicted
"#;

/// A request: the record, with its TTL and activity refreshed; nil when gone.
const FIND: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return false
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'XX', now, ARGV[1])
redis.call('ZADD', KEYS[3], 'XX', now, ARGV[1])
return v
"#;

/// DELETE: 1 when the session existed.
const REMOVE: &str = r#"
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
return redis.call('DEL', KEYS[1])
"#;

/// Keeps sessions that are busy here alive in Redis; returns the ids that are gone.
const REFRESH: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gone = {}
for _, id in ipairs(ARGV) do
  if id ~= ARGV[1] then
    if redis.call('PEXPIRE', KEYS[1] .. id, ARGV[1]) == 0 then
      table.insert(gone, id)
    else
      redis.call('ZADD', KEYS[2], 'XX', now, id)
      redis.call('ZADD', KEYS[3], 'XX', now, id)
    end
  end
end
return gone
"#;

/// `logging/setLevel`: the record with the level digit `ARGV[1]` in front (TTL kept); 0 when
/// the session is gone.
const SET_LEVEL: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if string.sub(v, 1, 1) ~= '{' then v = string.sub(v, 2) end
redis.call('SET', KEYS[1], ARGV[1] .. v, 'KEEPTTL')
return 1
"#;

/// The shared identity key: set once by whichever instance comes first.
const IDENTITY_KEY: &str = r#"
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
"#;

static INSERT_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(INSERT));
static FIND_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(FIND));
static REMOVE_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(REMOVE));
static REFRESH_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(REFRESH));
static SET_LEVEL_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(SET_LEVEL));
static IDENTITY_KEY_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(IDENTITY_KEY));

/// A stored record: the level `logging/setLevel` set (the leading digit), and the JSON.
fn split_level(stored: &str) -> (Option<LoggingLevel>, &str) {
    match stored.as_bytes().first() {
        Some(d @ b'0'..=b'9') => (LoggingLevel::from_index(d - b'0'), &stored[1..]),
        _ => (None, stored),
    }
}

/// The connection kept in `cell`, made on first use with the store's timeouts; it reconnects
/// by itself afterwards.
async fn connection(
    cell: &OnceCell<ConnectionManager>,
    client: &redis::Client,
) -> Result<ConnectionManager, StoreError> {
    let conn = cell
        .get_or_try_init(|| async {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(TIMEOUT))
                .set_response_timeout(Some(TIMEOUT))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_secs(1));
            ConnectionManager::new_lazy_with_config(client.clone(), config)
        })
        .await
        .map_err(unavailable)?;
    Ok(conn.clone())
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl RedisStore {
    /// `history`: the SSE history kept per session, in events and bytes.
    pub(crate) fn new(
        config: RedisConfig,
        limits: Limits,
        history: (usize, usize),
        parent: CancellationToken,
    ) -> Self {
        let (history_cap, history_bytes) = history;
        let idle_ms = u64::try_from(limits.idle.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let instance = hex(&rand::random::<[u8; 6]>());
        let history = history::SharedHistory::new(
            &config,
            &instance,
            history_cap,
            history_bytes,
            idle_ms,
            parent.clone(),
        );
        Self {
            config,
            conn: OnceCell::new(),
            identity_key: OnceCell::new(),
            local: MemoryStore::new(limits),
            cap: limits.cap.max(1),
            idle_ms,
            history_cap,
            parent,
            instance,
            history,
        }
    }

    /// The channel an instance receives its answers on.
    fn channel_of(&self, instance: &str) -> String {
        format!("{}instance:{instance}", self.config.prefix)
    }

    /// The channel every instance receives notifications on.
    fn broadcast(&self) -> String {
        format!("{}broadcast", self.config.prefix)
    }

    async fn publish_async(&self, relay: Relay) -> Result<(), StoreError> {
        let channel = match &relay {
            Relay::Answer { id, .. } => match instance_of(id) {
                Some(instance) => self.channel_of(instance),
                None => return Ok(()),
            },
            Relay::Notify { .. } => self.broadcast(),
        };
        let payload = serde_json::to_string(&relay)
            .map_err(|e| StoreError::Unavailable(format!("relay: {e}")))?;
        let mut conn = self.conn().await?;
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async::<i64>(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Receives this instance's channel and the broadcast until `stop`, reconnecting (with a
    /// pause) whenever the subscription breaks.
    async fn listen_loop(
        client: redis::Client,
        channels: [String; 2],
        deliver: Deliver,
        stop: CancellationToken,
    ) {
        let mut logged = false;
        loop {
            let subscribed = async {
                let mut pubsub = client.get_async_pubsub().await?;
                for c in &channels {
                    pubsub.subscribe(c).await?;
                }
                Ok::<_, redis::RedisError>(pubsub)
            };
            let pubsub = tokio::select! {
                () = stop.cancelled() => return,
                r = tokio::time::timeout(TIMEOUT, subscribed) => r,
            };
            match pubsub {
                Ok(Ok(pubsub)) => {
                    logged = false;
                    let mut messages = pubsub.into_on_message();
                    loop {
                        let msg = tokio::select! {
                            () = stop.cancelled() => return,
                            m = futures_util::StreamExt::next(&mut messages) => m,
                        };
                        let Some(msg) = msg else { break };
                        let Ok(payload) = msg.get_payload::<String>() else {
                            continue;
                        };
                        match serde_json::from_str::<Relay>(&payload) {
                            Ok(relay) => deliver(relay),
                            Err(e) => {
                                tracing::warn!(target: crate::logging::TARGET, error = %e, "Unreadable message from another instance");
                            }
                        }
                    }
                }
                Ok(Err(e)) if !logged => {
                    logged = true;
                    tracing::warn!(target: crate::logging::TARGET, error = %e, "Cannot listen to the other instances (Redis); retrying");
                }
                Err(_) if !logged => {
                    logged = true;
                    tracing::warn!(target: crate::logging::TARGET, "Cannot listen to the other instances (Redis timed out); retrying");
                }
                _ => {}
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    fn key(&self, id: &str) -> String {
        format!("{}session:{id}", self.config.prefix)
    }

    fn sets(&self) -> (String, String) {
        (
            format!("{}sessions:anonymous", self.config.prefix),
            format!("{}sessions:users", self.config.prefix),
        )
    }

    /// The connection (made on first use; it reconnects by itself afterwards).
    async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        connection(&self.conn, &self.config.client).await
    }

    async fn insert_async(&self, session: Arc<Session>) -> Result<Inserted, StoreError> {
        let record = Record {
            v: session.version.to_string(),
            i: session.identity.map(|i| i.0.to_string()),
            info: session.client.info.clone(),
            caps: session.client.capabilities.clone(),
        };
        let json = serde_json::to_string(&record)
            .map_err(|e| StoreError::Unavailable(format!("session record: {e}")))?;
        let (anonymous, users) = self.sets();
        let mut conn = self.conn().await?;
        let evicted: Option<String> = INSERT_SCRIPT
            .key(self.key(&session.id))
            .key(anonymous)
            .key(users)
            .arg(&*session.id)
            .arg(json)
            .arg(self.idle_ms)
            .arg(self.cap)
            .arg(if session.identity.is_some() { "1" } else { "0" })
            .arg(&self.config.prefix)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let mut inserted = self.local.insert_now(session);
        // Local objects evicted to make room are only copies: the sessions live on in Redis.
        inserted.evicted.clear();
        if let Some(id) = evicted {
            self.local.remove_now(&id);
            inserted.evicted.push((Arc::from(id), Eviction::Cap));
        }
        Ok(inserted)
    }

    async fn find_async(&self, id: &str) -> Result<Found, StoreError> {
        let (anonymous, users) = self.sets();
        let mut conn = self.conn().await?;
        let record: Option<String> = FIND_SCRIPT
            .key(self.key(id))
            .key(anonymous)
            .key(users)
            .arg(id)
            .arg(self.idle_ms)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let Some(record) = record else {
            // Gone (deleted, evicted or expired, maybe by another instance): drop our copy.
            self.local.remove_now(id);
            return Ok(Found::Unknown);
        };
        if let Found::Live(s) = self.local.find_now(id) {
            // Another instance may have set the level since.
            if let (Some(level), _) = split_level(&record) {
                s.set_log_level(level);
            }
            return Ok(Found::Live(s));
        }
        let Some(session) = self.hydrate(id, &record) else {
            return Ok(Found::Unknown);
        };
        let inserted = self.local.insert_now(session);
        Ok(Found::Live(inserted.session))
    }

    /// This instance's object for a session another instance created.
    fn hydrate(&self, id: &str, stored: &str) -> Option<Arc<Session>> {
        let (level, record) = split_level(stored);
        let record: Record = match serde_json::from_str(record) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(target: crate::logging::TARGET, error = %e, "Unreadable session record in Redis");
                return None;
            }
        };
        let version = ProtocolVersion::parse(&record.v)?;
        let identity = match record.i {
            Some(i) => Some(Identity(i.parse().ok()?)),
            None => None,
        };
        let session = Arc::new(Session::new(
            Arc::from(id),
            version,
            ClientInfo {
                info: record.info,
                capabilities: record.caps,
            },
            identity,
            Local {
                token: self.parent.child_token(),
                history_cap: self.history_cap,
                pending: PendingRequests::with_prefix(self.instance.clone()),
                shared_history: self.history.sink(&Arc::from(id)),
            },
            self.local.clock(),
        ));
        if let Some(level) = level {
            session.set_log_level(level);
        }
        Some(session)
    }

    async fn save_log_level_async(&self, id: &str, level: LoggingLevel) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let _: i64 = SET_LEVEL_SCRIPT
            .key(self.key(id))
            .arg(level.index())
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn remove_async(&self, id: &str) -> Result<bool, StoreError> {
        let (anonymous, users) = self.sets();
        let mut conn = self.conn().await?;
        let mut script = REMOVE_SCRIPT.prepare_invoke();
        script.key(self.key(id)).key(anonymous).key(users);
        for key in self.history.keys(id) {
            script.key(key);
        }
        let existed: i64 = script
            .arg(id)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let local = self.local.remove_now(id);
        Ok(existed > 0 || local)
    }

    /// Drops local copies that went idle here (their sessions live on in Redis), keeps busy
    /// ones alive in Redis, and closes local copies of sessions that are gone from Redis.
    async fn sweep_async(&self) -> Result<Vec<Arc<Session>>, StoreError> {
        self.local.sweep_now();
        let busy: Vec<Arc<str>> = self
            .local
            .local_all()
            .into_iter()
            .filter(|s| s.is_busy())
            .map(|s| Arc::clone(&s.id))
            .collect();
        if busy.is_empty() {
            return Ok(Vec::new());
        }
        let (anonymous, users) = self.sets();
        let mut conn = self.conn().await?;
        let mut script = REFRESH_SCRIPT.prepare_invoke();
        script
            .key(format!("{}session:", self.config.prefix))
            .key(anonymous)
            .key(users)
            .arg(self.idle_ms);
        for id in &busy {
            script.arg(&**id);
        }
        let gone: Vec<String> = script.invoke_async(&mut conn).await.map_err(unavailable)?;
        Ok(gone
            .iter()
            .filter_map(|id| self.local.take_now(id))
            .collect())
    }

    async fn identity_key_async(&self) -> Result<IdentityKey, StoreError> {
        let key = self
            .identity_key
            .get_or_try_init(|| async {
                let mut conn = self.conn().await?;
                let fresh: String = hex(&random_key());
                let shared: String = IDENTITY_KEY_SCRIPT
                    .key(format!("{}identity-key", self.config.prefix))
                    .arg(fresh)
                    .invoke_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
                unhex(&shared).ok_or_else(|| {
                    StoreError::Unavailable("the shared identity key in Redis is malformed".into())
                })
            })
            .await?;
        Ok(*key)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<IdentityKey> {
    let mut key = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(key)
}

impl SessionStore for RedisStore {
    fn clock(&self) -> &Clock {
        self.local.clock()
    }

    fn identity_key(&self) -> StoreFuture<'_, IdentityKey> {
        Box::pin(self.identity_key_async())
    }

    fn insert(&self, session: Arc<Session>) -> StoreFuture<'_, Inserted> {
        Box::pin(self.insert_async(session))
    }

    fn find<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Found> {
        Box::pin(self.find_async(id))
    }

    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(self.remove_async(id))
    }

    fn save_log_level<'a>(&'a self, id: &'a str, level: LoggingLevel) -> StoreFuture<'a, ()> {
        Box::pin(self.save_log_level_async(id, level))
    }

    fn sweep(&self) -> StoreFuture<'_, Vec<Arc<Session>>> {
        Box::pin(self.sweep_async())
    }

    fn sweep_interval(&self) -> Duration {
        self.local.sweep_interval()
    }

    fn drain(&self) -> Vec<Arc<Session>> {
        self.local.drain()
    }

    fn len(&self) -> usize {
        self.local.len()
    }

    fn local(&self) -> Vec<Arc<Session>> {
        self.local.local_all()
    }

    fn local_one(&self, id: &str) -> Option<Arc<Session>> {
        self.local.local_one(id)
    }

    fn instance(&self) -> Option<&str> {
        Some(&self.instance)
    }

    fn publish(&self, relay: Relay) -> StoreFuture<'_, ()> {
        Box::pin(self.publish_async(relay))
    }

    fn listen(&self, deliver: Deliver, stop: CancellationToken) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let channels = [self.channel_of(&self.instance), self.broadcast()];
        handle.spawn(Self::listen_loop(
            self.config.client.clone(),
            channels,
            deliver,
            stop,
        ));
    }

    fn shared_history(&self, id: &Arc<str>) -> Option<crate::sse::table::Shared> {
        self.history.sink(id)
    }

    fn resume_shared<'a>(
        &'a self,
        session: &'a Session,
        id: EventId<'a>,
    ) -> StoreFuture<'a, Option<Followed>> {
        Box::pin(async move {
            let origin = id.origin.unwrap_or(&self.instance);
            let followed = self
                .history
                .resume(
                    &session.id,
                    origin,
                    id.stream,
                    id.seq,
                    session.token.clone(),
                )
                .await?;
            Ok(Some(followed))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_passwords_hidden() {
        let c = RedisConfig::new("redis://:s3cret@cache:6379/2").unwrap();
        assert_eq!(c.shown_url(), "redis://:***@cache:6379/2");
        assert!(!format!("{c:?}").contains("s3cret"));
        let c = RedisConfig::new("redis://user:pw@cache").unwrap();
        assert_eq!(c.shown_url(), "redis://user:***@cache");
        assert_eq!(redact("redis://a:b@c@host/1"), "redis://a:***@host/1");
        assert_eq!(
            RedisConfig::new("redis://cache:6379").unwrap().shown_url(),
            "redis://cache:6379"
        );
        let e = RedisConfig::new("http://cache").unwrap_err();
        assert!(e.to_string().contains("invalid Redis URL"), "{e}");
    }

    #[test]
    fn keys_round_trip_through_hex() {
        let k = random_key();
        assert_eq!(unhex(&hex(&k)), Some(k));
        assert_eq!(unhex("zz"), None);
    }
}
