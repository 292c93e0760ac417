//! The SSE history of shared sessions, in Redis: `Last-Event-ID` resumption on any instance.
//!
//! Every event a shared session's stream keeps for resumption (what the local history keeps:
//! the frame with its id, or the short `-32603` stand-in of a response too big to keep) is
//! also appended to a capped Redis stream per session, `<prefix>history:<session>`, with a
//! field naming its SSE stream (`<instance>.<n>`, the prefix of its event ids) and its
//! sequence number; a stream's end is appended as a marker and recorded in
//! `<prefix>history-ended:<session>` (a sorted set, so that the end is known even after newer
//! events pushed the marker out). The history holds at most `sse_history` entries and
//! `sse_history_bytes` bytes of frames (the byte count in `<prefix>history-bytes:<session>`),
//! the same bound as the local history; all three keys expire with the idle timeout after the
//! last write and are deleted with the session.
//!
//! Writes never delay a client: the table queues them (bounded in bytes) and one writer task
//! per instance sends whatever is queued as one script call, so concurrent events share one
//! round trip. A reply that stays JSON opens no stream and costs nothing here.
//!
//! A GET with `Last-Event-ID` of a stream this instance does not hold reads the history with
//! one script call (the stream's events after the id, whether it ended, and where the Redis
//! stream stands) and, when the stream has not ended and its instance is alive, follows it:
//! `XREAD BLOCK` on a connection of its own (a blocking read would stall the shared,
//! multiplexed connection) until the end marker. Following the Redis stream rather than a
//! pub/sub relay means no event can fall between the replay and the live part: the read goes
//! on from the exact entry the replay ended at. An instance is alive while it is subscribed to
//! its relay channel (`PUBSUB NUMSUB`, checked whenever a read waited in vain), so a follower
//! of a killed instance's stream ends instead of waiting for ever.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, MultiplexedConnection};
use tokio::sync::{OnceCell, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::super::{Followed, StoreError};
use super::{TIMEOUT, unavailable};
use crate::pending::lock;
use crate::sse::table::{ConnRx, HistorySink, Shared};

/// Bytes of events waiting to be written; beyond it events are shared no more (they stay in
/// the local history) until Redis catches up.
const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;
/// Events and bytes written by one script call at most.
const MAX_BATCH_EVENTS: usize = 256;
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// How long one `XREAD` waits before the follower checks that the stream's instance lives.
const BLOCK: Duration = Duration::from_secs(2);
/// Followers (each with its own Redis connection) per instance; a resumption beyond it gets
/// the replay and ends, and the client resumes again.
const MAX_FOLLOWERS: usize = 256;
/// Ended streams remembered per session.
const MAX_ENDED: usize = 1000;

/// Appends events of one or more sessions. KEYS: per session its history, byte count and
/// ended set; ARGV: caps (entries, bytes, ttl ms, ended), then per event the 1-based session
/// index, the SSE stream, the sequence number (`end` for an end marker) and the frame.
const APPEND: &str = r#"
local cap, capb, ttl, cape = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local totals = {}
for i = 5, #ARGV, 4 do
  local k = tonumber(ARGV[i]) * 3 - 2
  local hist = KEYS[k]
  if totals[k] == nil then totals[k] = tonumber(redis.call('GET', KEYS[k + 1]) or '0') end
  if ARGV[i + 2] == 'end' then
    local id = redis.call('XADD', hist, '*', 's', ARGV[i + 1], 'e', '1')
    redis.call('ZADD', KEYS[k + 2], tonumber(string.match(id, '^%d+')), ARGV[i + 1])
    if redis.call('ZCARD', KEYS[k + 2]) > cape then
      redis.call('ZREMRANGEBYRANK', KEYS[k + 2], 0, -cape - 1)
    end
  elseif #ARGV[i + 3] <= capb then
    redis.call('XADD', hist, '*', 's', ARGV[i + 1], 'q', ARGV[i + 2], 'f', ARGV[i + 3])
    totals[k] = totals[k] + #ARGV[i + 3]
  end
  local len = redis.call('XLEN', hist)
  while len > cap or totals[k] > capb do
    local first = redis.call('XRANGE', hist, '-', '+', 'COUNT', 1)[1]
    if not first then
      totals[k] = 0
      break
    end
    if first[2][5] == 'f' then totals[k] = totals[k] - #first[2][6] end
    redis.call('XDEL', hist, first[1])
    len = len - 1
  end
end
for k, total in pairs(totals) do
  redis.call('SET', KEYS[k + 1], total, 'PX', ttl)
  redis.call('PEXPIRE', KEYS[k], ttl)
  redis.call('PEXPIRE', KEYS[k + 2], ttl)
end
return 1
"#;

/// A resumption: whether the stream ended (or its instance is gone: not subscribed to its
/// relay channel, ARGV[3]), the last entry id of the history (where a follower goes on from),
/// and the stream's frames after the given sequence number.
const READ: &str = r#"
local ended = 0
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then ended = 1 end
if redis.call('PUBSUB', 'NUMSUB', ARGV[3])[2] == 0 then ended = 1 end
local last = '0-0'
local out = {}
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  last = e[1]
  local f = e[2]
  if f[2] == ARGV[1] and f[3] == 'q' and tonumber(f[4]) > tonumber(ARGV[2]) then
    out[#out + 1] = f[6]
  end
end
return {ended, last, out}
"#;

static APPEND_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(APPEND));
static READ_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(READ));

/// One write for the writer task.
struct Op {
    session: Arc<str>,
    stream: u64,
    /// `None`: the stream's end.
    seq: Option<u64>,
    frame: Bytes,
}

/// The shared history of one Redis store (one per instance).
pub(crate) struct SharedHistory {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    prefix: String,
    instance: Arc<str>,
    cap_events: usize,
    cap_bytes: usize,
    ttl_ms: u64,
    /// A connection of its own: big frames must not hold up session lookups.
    conn: OnceCell<ConnectionManager>,
    tx: mpsc::UnboundedSender<Op>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Op>>>,
    queued: AtomicUsize,
    /// A warning about dropped or failed writes was logged (until writes succeed again).
    warned: AtomicBool,
    followers: Arc<Semaphore>,
    stop: CancellationToken,
}

/// What [`SharedHistory::sink`] gives a session's table.
struct SessionSink {
    session: Arc<str>,
    inner: Arc<Inner>,
}

impl HistorySink for SessionSink {
    fn append(&self, stream: u64, seq: u64, frame: &Bytes) {
        self.inner.queue(Op {
            session: Arc::clone(&self.session),
            stream,
            seq: Some(seq),
            frame: frame.clone(),
        });
    }

    fn end(&self, stream: u64) {
        self.inner.queue(Op {
            session: Arc::clone(&self.session),
            stream,
            seq: None,
            frame: Bytes::new(),
        });
    }
}

impl SharedHistory {
    /// `cap_events` and `cap_bytes`: the per-session history bound; `ttl`: the idle timeout.
    pub(crate) fn new(
        config: &super::RedisConfig,
        instance: &str,
        cap_events: usize,
        cap_bytes: usize,
        ttl_ms: u64,
        stop: CancellationToken,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            inner: Arc::new(Inner {
                client: config.client.clone(),
                prefix: config.prefix.clone(),
                instance: Arc::from(instance),
                cap_events,
                cap_bytes,
                ttl_ms,
                conn: OnceCell::new(),
                tx,
                rx: Mutex::new(Some(rx)),
                queued: AtomicUsize::new(0),
                warned: AtomicBool::new(false),
                followers: Arc::new(Semaphore::new(MAX_FOLLOWERS)),
                stop,
            }),
        }
    }

    /// The link a session's table copies its history through (`None` without history). The
    /// writer task starts with the first one (inside the runtime).
    pub(crate) fn sink(&self, session: &Arc<str>) -> Option<Shared> {
        if self.inner.cap_events == 0 {
            return None;
        }
        if let Some(rx) = lock(&self.inner.rx).take() {
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    handle.spawn(write_loop(Arc::clone(&self.inner), rx));
                }
                Err(_) => *lock(&self.inner.rx) = Some(rx),
            }
        }
        Some(Shared {
            origin: Arc::clone(&self.inner.instance),
            sink: Arc::new(SessionSink {
                session: Arc::clone(session),
                inner: Arc::clone(&self.inner),
            }),
        })
    }

    /// The keys of a session's history (deleted with the session by the store's scripts).
    pub(crate) fn keys(&self, session: &str) -> [String; 3] {
        self.inner.keys(session)
    }

    /// Resumes the stream `<origin>.<stream>` of `session` after `after`: its events from
    /// Redis and, unless it ended or `origin` is this instance (which holds no such stream
    /// any more), the rest as it comes, until its end, `stop`, or its instance is gone.
    pub(crate) async fn resume(
        &self,
        session: &str,
        origin: &str,
        stream: u64,
        after: u64,
        stop: CancellationToken,
    ) -> Result<Followed, StoreError> {
        let inner = &self.inner;
        let [hist, _, ended_key] = inner.keys(session);
        let token = format!("{origin}.{stream}");
        let owner = format!("{}instance:{origin}", inner.prefix);
        let mut conn = inner.conn().await?;
        let (ended, cursor, replay): (i64, String, Vec<Vec<u8>>) = READ_SCRIPT
            .key(&hist)
            .key(ended_key)
            .arg(&token)
            .arg(after)
            .arg(&owner)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let replay: Vec<Bytes> = replay.into_iter().map(Bytes::from).collect();
        let last = replay
            .iter()
            .filter_map(|f| seq_of(f))
            .max()
            .unwrap_or(after);
        if ended == 1 || origin == &*inner.instance {
            return Ok(Followed { replay, live: None });
        }
        let Ok(permit) = Arc::clone(&inner.followers).try_acquire_owned() else {
            tracing::warn!(target: crate::logging::TARGET, sessionId = session, "Too many resumed streams of other instances are followed here; this one ends after its replay");
            return Ok(Followed { replay, live: None });
        };
        let (tx, rx) = mpsc::channel(64);
        let follower = Follower {
            client: inner.client.clone(),
            hist,
            token,
            owner,
            after: last,
            cursor,
            tx,
            stop,
            session: session.to_owned(),
        };
        tokio::spawn(async move {
            follower.run().await;
            drop(permit);
        });
        Ok(Followed {
            replay,
            live: Some(ConnRx::from_channel(rx)),
        })
    }
}

/// The sequence number in a stored frame's `id: <origin>.<stream>-<seq>` line.
fn seq_of(frame: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(frame.get(..frame.len().min(200))?).ok()?;
    let line = text.lines().find_map(|l| l.strip_prefix("id: "))?;
    crate::sse::encode::parse_event_id(line).map(|id| id.seq)
}

impl Inner {
    fn keys(&self, session: &str) -> [String; 3] {
        let p = &self.prefix;
        [
            format!("{p}history:{session}"),
            format!("{p}history-bytes:{session}"),
            format!("{p}history-ended:{session}"),
        ]
    }

    /// The history's own connection (writes never wait behind the request path's).
    async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        super::connection(&self.conn, &self.client).await
    }

    /// Queues a write, unless too much is waiting already (Redis slow or down): then the
    /// event stays in the local history only, and one warning says so.
    fn queue(&self, op: Op) {
        let len = op.frame.len() + 64;
        if self.queued.fetch_add(len, Ordering::Relaxed) + len > MAX_QUEUED_BYTES {
            self.queued.fetch_sub(len, Ordering::Relaxed);
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(target: crate::logging::TARGET, "SSE history writes to Redis are behind: events are kept on this instance only until it catches up");
            }
            return;
        }
        if self.tx.send(op).is_err() {
            self.queued.fetch_sub(len, Ordering::Relaxed);
        }
    }

    /// Writes a batch of events with one script call.
    async fn write(&self, batch: &[Op]) -> Result<(), StoreError> {
        let mut sessions: Vec<&str> = Vec::new();
        let mut script = APPEND_SCRIPT.prepare_invoke();
        script
            .arg(self.cap_events)
            .arg(self.cap_bytes)
            .arg(self.ttl_ms)
            .arg(MAX_ENDED);
        for op in batch {
            let index = match sessions.iter().position(|s| *s == &*op.session) {
                Some(i) => i + 1,
                None => {
                    sessions.push(&op.session);
                    for key in self.keys(&op.session) {
                        script.key(key);
                    }
                    sessions.len()
                }
            };
            script
                .arg(index)
                .arg(format!("{}.{}", self.instance, op.stream))
                .arg(op.seq.map_or_else(|| "end".to_owned(), |s| s.to_string()))
                .arg(&op.frame[..]);
        }
        let mut conn = self.conn().await?;
        script
            .invoke_async::<i64>(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

/// The writer task: whatever is queued, in order, one script call at a time.
async fn write_loop(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<Op>) {
    loop {
        let first = tokio::select! {
            () = inner.stop.cancelled() => return,
            op = rx.recv() => match op {
                Some(op) => op,
                None => return,
            },
        };
        let mut bytes = first.frame.len() + 64;
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH_EVENTS && bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(op) => {
                    bytes += op.frame.len() + 64;
                    batch.push(op);
                }
                Err(_) => break,
            }
        }
        let written = inner.write(&batch).await;
        inner.queued.fetch_sub(bytes, Ordering::Relaxed);
        match written {
            Ok(()) => {
                if inner.warned.swap(false, Ordering::Relaxed) {
                    tracing::info!(target: crate::logging::TARGET, "SSE history writes to Redis caught up");
                }
            }
            Err(e) => {
                if !inner.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(target: crate::logging::TARGET, error = %e, "Could not copy SSE events to Redis: they can be resumed on this instance only");
                }
            }
        }
    }
}

/// Delivers the live part of a stream held by another instance.
struct Follower {
    client: redis::Client,
    hist: String,
    token: String,
    /// The relay channel of the stream's instance: subscribed while it lives.
    owner: String,
    /// The last sequence number sent.
    after: u64,
    /// The last Redis entry read.
    cursor: String,
    tx: mpsc::Sender<Bytes>,
    stop: CancellationToken,
    session: String,
}

/// One `XREAD` answer: per key, its entries (id, flat field list).
type XRead = Option<Vec<(String, Vec<(String, Vec<Vec<u8>>)>)>>;

impl Follower {
    async fn run(mut self) {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(BLOCK + TIMEOUT));
        let conn = tokio::select! {
            () = self.tx.closed() => return,
            c = self.client.get_multiplexed_async_connection_with_config(&config) => c,
        };
        let mut conn = match conn {
            Ok(c) => c,
            Err(e) => {
                self.lost(&e.to_string());
                return;
            }
        };
        loop {
            let read = tokio::select! {
                () = self.tx.closed() => return,
                () = self.stop.cancelled() => return,
                r = self.read(&mut conn) => r,
            };
            match read {
                Err(e) => {
                    self.lost(&e.to_string());
                    return;
                }
                Ok(None) => {
                    if !self.owner_alive(&mut conn).await {
                        tracing::info!(target: crate::logging::TARGET, sessionId = &*self.session, stream = &*self.token, "The instance of a resumed stream is gone; the stream ends");
                        return;
                    }
                }
                Ok(Some(entries)) => {
                    for (id, fields) in entries {
                        self.cursor = id;
                        match self.frame_of(fields) {
                            Entry::Other => {}
                            Entry::End => return,
                            Entry::Frame(frame) => {
                                if self.tx.send(frame).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The next entries after the cursor; `None` when none came within [`BLOCK`].
    async fn read(
        &self,
        conn: &mut MultiplexedConnection,
    ) -> redis::RedisResult<Option<Vec<(String, Vec<Vec<u8>>)>>> {
        let reply: XRead = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(100)
            .arg("BLOCK")
            .arg(u64::try_from(BLOCK.as_millis()).unwrap_or(2000))
            .arg("STREAMS")
            .arg(&self.hist)
            .arg(&self.cursor)
            .query_async(conn)
            .await?;
        Ok(reply.and_then(|keys| keys.into_iter().next().map(|(_, entries)| entries)))
    }

    fn frame_of(&mut self, fields: Vec<Vec<u8>>) -> Entry {
        // Fields as APPEND writes them: s <stream> (q <seq> f <frame> | e 1).
        let mut fields = fields.into_iter();
        let (Some(_), Some(stream), Some(kind), Some(value)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Entry::Other;
        };
        if stream != self.token.as_bytes() {
            return Entry::Other;
        }
        if kind == b"e" {
            return Entry::End;
        }
        let seq = std::str::from_utf8(&value)
            .ok()
            .and_then(|s| s.parse::<u64>().ok());
        match (seq, fields.nth(1)) {
            (Some(seq), Some(frame)) if seq > self.after => {
                self.after = seq;
                Entry::Frame(Bytes::from(frame))
            }
            _ => Entry::Other,
        }
    }

    async fn owner_alive(&self, conn: &mut MultiplexedConnection) -> bool {
        let reply: redis::RedisResult<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&self.owner)
            .query_async(conn)
            .await;
        // Unknown (an error): keep following; the next read tells.
        reply.map_or(true, |(_, n)| n > 0)
    }

    fn lost(&self, error: &str) {
        tracing::warn!(target: crate::logging::TARGET, sessionId = &*self.session, error, "Lost Redis while following a resumed stream; it ends (the client can resume again)");
    }
}

enum Entry {
    Frame(Bytes),
    End,
    Other,
}
