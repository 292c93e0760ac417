//! The streams of one session (or of one stateless reply): which connection each logical
//! stream is attached to, event numbering, and the bounded history for `Last-Event-ID`.
//!
//! A *stream* outlives its connection: a POST's stream keeps receiving its handler's messages
//! after the client dropped the connection (they go to the history), and a GET with
//! `Last-Event-ID` re-attaches a new connection to it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::sync::mpsc;

use super::encode;

/// Where the table of a session shared by several instances copies its history, so that
/// another instance can resume its streams (see `session/redis/history.rs`).
pub(crate) trait HistorySink: Send + Sync {
    /// A frame kept in the history (the very frame the local history keeps: its id, or the
    /// short stand-in of a response too big to keep).
    fn append(&self, stream: u64, seq: u64, frame: &Bytes);
    /// The stream sent its last message: a resumption of it ends after the replay.
    fn end(&self, stream: u64);
}

/// A shared session's link to the shared history: the instance its event ids name, and the
/// sink of its history.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) origin: Arc<str>,
    pub(crate) sink: Arc<dyn HistorySink>,
}

/// Stream numbers of shared tables: unique in the process, so that a session's object that is
/// dropped here and made again from Redis never reuses an id another instance may resume.
static SHARED_STREAMS: AtomicU64 = AtomicU64::new(1);

/// What one session's streams may hold, in events and in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SseLimits {
    /// Events waiting for one slow connection before it is dropped.
    pub(crate) buffer_events: usize,
    /// Bytes waiting for one slow connection before it is dropped (one event always fits).
    pub(crate) buffer_bytes: usize,
    /// Bytes of history kept for `Last-Event-ID` (the event count is the table's own cap).
    pub(crate) history_bytes: usize,
}

impl Default for SseLimits {
    fn default() -> Self {
        Self {
            buffer_events: 256,
            buffer_bytes: 8 * 1024 * 1024,
            history_bytes: 4 * 1024 * 1024,
        }
    }
}

struct Slot {
    id: u64,
    sink: Option<Sink>,
}

struct Sink {
    tx: mpsc::Sender<Bytes>,
    generation: u64,
    /// Bytes sent and not yet taken by the connection.
    queued: Arc<AtomicUsize>,
}

struct Stored {
    stream: u64,
    seq: u64,
    frame: Bytes,
}

/// The receiving end of a connection attached to a stream.
pub(crate) struct Attached {
    pub(crate) rx: ConnRx,
    pub(crate) generation: u64,
}

/// The frames waiting for one connection, with their byte count.
pub(crate) struct ConnRx {
    rx: mpsc::Receiver<Bytes>,
    queued: Arc<AtomicUsize>,
}

impl ConnRx {
    /// The next frame (`None`: the stream ended or the connection was dropped).
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let polled = self.rx.poll_recv(cx);
        if let Poll::Ready(Some(b)) = &polled {
            self.queued.fetch_sub(b.len(), Ordering::Relaxed);
        }
        polled
    }

    /// A receiver over a bare channel (listen streams, tests of the body).
    pub(crate) fn from_channel(rx: mpsc::Receiver<Bytes>) -> Self {
        Self {
            rx,
            queued: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A frame if one is waiting.
    #[cfg(test)]
    pub(crate) fn try_recv(&mut self) -> Result<Bytes, mpsc::error::TryRecvError> {
        let b = self.rx.try_recv()?;
        self.queued.fetch_sub(b.len(), Ordering::Relaxed);
        Ok(b)
    }
}

/// What a resumption found.
pub(crate) struct Resumed {
    /// Stored events after the given id, oldest first.
    pub(crate) replay: Vec<Bytes>,
    /// The live stream, if it is still open.
    pub(crate) live: Option<Attached>,
}

/// The streams, their connections and the history.
pub(crate) struct StreamTable {
    next_seq: u64,
    next_stream: u64,
    next_generation: u64,
    slots: Vec<Slot>,
    history: VecDeque<Stored>,
    history_cap: usize,
    /// Bytes of the frames in `history`.
    history_bytes: usize,
    limits: SseLimits,
    standalone: Option<u64>,
    /// Set for a session shared by several instances.
    shared: Option<Shared>,
}

impl StreamTable {
    /// A table keeping at most `history_cap` events (0: no history, no resumption).
    pub(crate) fn new(history_cap: usize) -> Self {
        Self {
            next_seq: 0,
            // Stream 0 is reserved for the standalone GET stream.
            next_stream: 1,
            next_generation: 0,
            slots: Vec::new(),
            history: VecDeque::new(),
            history_cap,
            history_bytes: 0,
            limits: SseLimits::default(),
            standalone: None,
            shared: None,
        }
    }

    /// A table of a shared session: ids name this instance, stream numbers are unique in the
    /// process, and the history is also copied to `shared.sink`.
    pub(crate) fn shared(history_cap: usize, shared: Shared) -> Self {
        Self {
            shared: Some(shared),
            ..Self::new(history_cap)
        }
    }

    fn new_stream_id(&mut self) -> u64 {
        if self.shared.is_some() {
            return SHARED_STREAMS.fetch_add(1, Ordering::Relaxed);
        }
        let id = self.next_stream;
        self.next_stream += 1;
        id
    }

    fn origin(&self) -> Option<&str> {
        self.shared.as_ref().map(|s| &*s.origin)
    }

    /// Sets the byte and buffer limits (the transport's configuration; cheap, called before
    /// the table is used by a request).
    pub(crate) fn set_limits(&mut self, limits: SseLimits) {
        self.limits = limits;
    }

    /// Opens a new logical stream.
    pub(crate) fn open(&mut self) -> u64 {
        let id = self.new_stream_id();
        self.slots.push(Slot { id, sink: None });
        id
    }

    /// The standalone (GET) stream, opened on first use.
    pub(crate) fn standalone(&mut self) -> u64 {
        if let Some(id) = self.standalone {
            return id;
        }
        let id = if self.shared.is_some() {
            self.new_stream_id()
        } else {
            0
        };
        self.slots.push(Slot { id, sink: None });
        self.standalone = Some(id);
        id
    }

    /// Whether `stream` is the standalone (GET) stream.
    pub(crate) fn is_standalone(&self, stream: u64) -> bool {
        self.standalone == Some(stream)
    }

    /// Whether `stream` is open in this table (its handler may still send on it).
    pub(crate) fn is_open(&self, stream: u64) -> bool {
        self.slots.iter().any(|s| s.id == stream)
    }

    /// Whether a standalone stream was ever opened.
    pub(crate) fn has_standalone(&self) -> bool {
        self.standalone.is_some()
    }

    fn slot(&mut self, stream: u64) -> Option<&mut Slot> {
        self.slots.iter_mut().find(|s| s.id == stream)
    }

    /// Attaches a new connection to a stream, replacing (and so closing) any previous one.
    pub(crate) fn attach(&mut self, stream: u64) -> Option<Attached> {
        let generation = self.next_generation;
        self.next_generation += 1;
        let capacity = self.limits.buffer_events.max(1);
        let slot = self.slot(stream)?;
        let (tx, rx) = mpsc::channel(capacity);
        let queued = Arc::new(AtomicUsize::new(0));
        slot.sink = Some(Sink {
            tx,
            generation,
            queued: Arc::clone(&queued),
        });
        Some(Attached {
            rx: ConnRx { rx, queued },
            generation,
        })
    }

    fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Sends a priming event (id, `retry`, empty data) on a stream's connection.
    pub(crate) fn prime(&mut self, stream: u64, retry_ms: u64) {
        let seq = self.next_seq();
        let frame = encode::priming(self.origin(), stream, seq, retry_ms);
        self.deliver(stream, frame);
    }

    /// Sends one JSON-RPC message on a stream: stored in the history (when resumable) and
    /// written to the attached connection, if any. A connection whose buffer is full (in
    /// events or bytes) is a stalled client: it is dropped, and can resume from the history.
    pub(crate) fn send(&mut self, stream: u64, json: &[u8], resumable: bool) {
        self.send_or(stream, json, resumable, None);
    }

    /// As [`send`](Self::send), but when `json` is too big for the history, `stand_in` (a
    /// short message, e.g. an error response for the same request) is kept in its place, so
    /// that a client resuming after missing it learns what happened instead of waiting.
    /// Without a stand-in, a message bigger than the whole history is delivered live only.
    pub(crate) fn send_or(
        &mut self,
        stream: u64,
        json: &[u8],
        resumable: bool,
        stand_in: Option<&[u8]>,
    ) {
        let frame = if resumable && self.history_cap > 0 {
            let seq = self.next_seq();
            let frame = encode::message_from(self.origin(), Some((stream, seq)), json);
            if frame.len() <= self.limits.history_bytes {
                self.remember(stream, seq, frame.clone());
            } else if let Some(stand_in) = stand_in {
                let kept = encode::message_from(self.origin(), Some((stream, seq)), stand_in);
                if kept.len() <= self.limits.history_bytes {
                    self.remember(stream, seq, kept);
                }
            }
            frame
        } else {
            encode::message(None, json)
        };
        self.deliver(stream, frame);
    }

    /// Stores a frame, evicting the oldest ones beyond the event and byte caps.
    fn remember(&mut self, stream: u64, seq: u64, frame: Bytes) {
        if let Some(shared) = &self.shared {
            shared.sink.append(stream, seq, &frame);
        }
        self.history_bytes += frame.len();
        self.history.push_back(Stored { stream, seq, frame });
        while self.history.len() > self.history_cap
            || self.history_bytes > self.limits.history_bytes
        {
            let Some(old) = self.history.pop_front() else {
                break;
            };
            self.history_bytes -= old.frame.len();
        }
    }

    fn forget_stream(&mut self, stream: u64) {
        let mut bytes = self.history_bytes;
        self.history.retain(|e| {
            let keep = e.stream != stream;
            if !keep {
                bytes -= e.frame.len();
            }
            keep
        });
        self.history_bytes = bytes;
    }

    fn deliver(&mut self, stream: u64, frame: Bytes) {
        let max_bytes = self.limits.buffer_bytes;
        let Some(slot) = self.slot(stream) else {
            return;
        };
        let Some(sink) = &slot.sink else {
            return;
        };
        let len = frame.len();
        let queued = sink.queued.load(Ordering::Relaxed);
        // One frame always fits an empty queue, however big.
        let over_bytes = queued > 0 && queued.saturating_add(len) > max_bytes;
        if !over_bytes && sink.tx.try_send(frame).is_ok() {
            sink.queued.fetch_add(len, Ordering::Relaxed);
            return;
        }
        tracing::debug!(target: "mcp", stream, queued, "SSE client too slow or gone; connection dropped");
        slot.sink = None;
    }

    /// The stream's last message was sent: close its connection and forget it. Its history is
    /// dropped if a connection was attached (the client got everything), kept otherwise.
    pub(crate) fn finish(&mut self, stream: u64) {
        let Some(pos) = self.slots.iter().position(|s| s.id == stream) else {
            return;
        };
        let slot = self.slots.swap_remove(pos);
        if let Some(shared) = &self.shared {
            shared.sink.end(stream);
        }
        if slot.sink.is_some() {
            self.forget_stream(stream);
        }
        if self.standalone == Some(stream) {
            self.standalone = None;
        }
    }

    /// Closes the stream's connection without ending the stream (SSE polling, SEP-1699).
    pub(crate) fn close_connection(&mut self, stream: u64) {
        if let Some(slot) = self.slot(stream) {
            slot.sink = None;
        }
    }

    /// A connection went away; detach it unless a newer one replaced it.
    pub(crate) fn detach(&mut self, stream: u64, generation: u64) {
        if let Some(slot) = self.slot(stream)
            && slot
                .sink
                .as_ref()
                .is_some_and(|s| s.generation == generation)
        {
            slot.sink = None;
        }
    }

    /// Whether the stream has a connection.
    #[cfg(test)]
    pub(crate) fn is_attached(&mut self, stream: u64) -> bool {
        self.slot(stream).is_some_and(|s| s.sink.is_some())
    }

    /// Resumes after the event `(stream, after)`: the stored events of that stream after it,
    /// and a new connection if the stream is still open.
    pub(crate) fn resume(&mut self, stream: u64, after: u64) -> Resumed {
        let replay = self
            .history
            .iter()
            .filter(|e| e.stream == stream && e.seq > after)
            .map(|e| e.frame.clone())
            .collect();
        let live = self.attach(stream);
        Resumed { replay, live }
    }

    /// Closes every connection (session end).
    pub(crate) fn close_all(&mut self) {
        for s in &mut self.slots {
            s.sink = None;
        }
        self.history.clear();
        self.history_bytes = 0;
    }

    /// Number of stored events (for tests and stats).
    #[cfg(test)]
    pub(crate) fn history_len(&self) -> usize {
        self.history.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &Bytes) -> String {
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn delivers_and_purges_on_finish() {
        let mut t = StreamTable::new(10);
        let s = t.open();
        let mut a = t.attach(s).unwrap();
        t.prime(s, 1000);
        t.send(s, b"{}", true);
        assert!(text(&a.rx.try_recv().unwrap()).contains("retry: 1000"));
        assert!(text(&a.rx.try_recv().unwrap()).contains("data: {}"));
        assert_eq!(t.history_len(), 1);
        t.finish(s);
        assert_eq!(t.history_len(), 0);
        assert!(a.rx.try_recv().is_err());
    }

    #[test]
    fn resumes_a_detached_stream() {
        let mut t = StreamTable::new(10);
        let s = t.open();
        let a = t.attach(s).unwrap();
        t.prime(s, 1000); // seq 1
        t.close_connection(s);
        drop(a);
        t.send(s, b"1", true); // seq 2
        t.send(s, b"2", true); // seq 3
        let r = t.resume(s, 2);
        assert_eq!(r.replay.len(), 1);
        assert!(text(&r.replay[0]).contains(&format!("id: {s}-3")));
        let mut live = r.live.unwrap();
        t.send(s, b"3", true);
        t.finish(s);
        assert!(text(&live.rx.try_recv().unwrap()).contains("data: 3"));
        assert_eq!(t.history_len(), 0);
    }

    #[test]
    fn finished_detached_stream_replays_from_history() {
        let mut t = StreamTable::new(10);
        let s = t.open();
        t.send(s, b"r", true);
        t.finish(s);
        let r = t.resume(s, 0);
        assert_eq!(r.replay.len(), 1);
        assert!(r.live.is_none());
    }

    #[test]
    fn history_is_bounded_and_slow_clients_dropped() {
        let mut t = StreamTable::new(3);
        t.set_limits(SseLimits {
            buffer_events: 2,
            ..SseLimits::default()
        });
        let s = t.open();
        let a = t.attach(s).unwrap();
        for _ in 0..5 {
            t.send(s, b"x", true);
        }
        assert_eq!(t.history_len(), 3);
        assert!(!t.is_attached(s));
        drop(a);
    }

    #[test]
    fn stale_detach_keeps_new_connection() {
        let mut t = StreamTable::new(3);
        let s = t.standalone();
        let old = t.attach(s).unwrap();
        let _new = t.attach(s).unwrap();
        t.detach(s, old.generation);
        assert!(t.is_attached(s));
    }

    #[test]
    fn no_ids_without_history() {
        let mut t = StreamTable::new(0);
        let s = t.open();
        let mut a = t.attach(s).unwrap();
        t.send(s, b"{}", true);
        assert_eq!(
            text(&a.rx.try_recv().unwrap()),
            "event: message\ndata: {}\n\n"
        );
    }

    #[test]
    fn history_is_bounded_in_bytes() {
        let mut t = StreamTable::new(100);
        t.set_limits(SseLimits {
            history_bytes: 1000,
            ..SseLimits::default()
        });
        let s = t.open();
        let big = vec![b'x'; 300];
        for _ in 0..10 {
            t.send(s, &big, true);
        }
        // Each frame is 300 bytes plus its `id:`/`data:` lines: three fit.
        assert_eq!(t.history_len(), 3);
        assert!(t.history_bytes <= 1000, "{}", t.history_bytes);
        // A message bigger than the whole history keeps its stand-in instead.
        let huge = vec![b'y'; 5000];
        t.send_or(s, &huge, true, Some(b"{\"error\":1}"));
        let r = t.resume(s, 0);
        assert!(text(r.replay.last().unwrap()).contains("{\"error\":1}"));
        assert!(r.replay.iter().all(|f| f.len() < 1000));
        t.finish(s);
        assert_eq!(t.history_bytes, 0);
    }

    /// Records what a shared table copies.
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<String>>);

    impl HistorySink for Recorder {
        fn append(&self, stream: u64, seq: u64, frame: &Bytes) {
            let text = String::from_utf8_lossy(frame).into_owned();
            self.0
                .lock()
                .unwrap()
                .push(format!("{stream}-{seq} {text}"));
        }
        fn end(&self, stream: u64) {
            self.0.lock().unwrap().push(format!("{stream} end"));
        }
    }

    #[test]
    fn a_shared_table_names_its_instance_and_copies_its_history() {
        let sink = Arc::new(Recorder::default());
        let shared = Shared {
            origin: Arc::from("ab12"),
            sink: Arc::clone(&sink) as Arc<dyn HistorySink>,
        };
        let mut t = StreamTable::shared(10, shared.clone());
        let mut other = StreamTable::shared(10, shared);
        let s = t.open();
        // Stream numbers are unique in the process, the standalone stream's too.
        let s2 = other.open();
        let g = other.standalone();
        assert!(s != s2 && s2 != g && g != 0);
        assert!(other.is_standalone(g) && !other.is_standalone(s2));
        let mut a = t.attach(s).unwrap();
        t.prime(s, 500);
        t.send(s, b"{}", true);
        t.finish(s);
        assert!(text(&a.rx.try_recv().unwrap()).starts_with(&format!("id: ab12.{s}-1\n")));
        let event = text(&a.rx.try_recv().unwrap());
        assert!(event.contains(&format!("id: ab12.{s}-2\n")), "{event}");
        // Priming events are not history; the message and the end are copied.
        let copied = sink.0.lock().unwrap().clone();
        assert_eq!(copied, vec![format!("{s}-2 {event}"), format!("{s} end")]);
        assert!(!t.is_open(s));
    }

    #[test]
    fn a_slow_connection_is_dropped_by_bytes() {
        let mut t = StreamTable::new(0);
        t.set_limits(SseLimits {
            buffer_events: 1000,
            buffer_bytes: 1000,
            history_bytes: 0,
        });
        let s = t.open();
        let mut a = t.attach(s).unwrap();
        // One frame always fits, even one above the cap.
        t.send(s, &[b'a'; 2000], false);
        assert!(t.is_attached(s));
        // Read: the queue is empty again, so the next big frame fits too.
        a.rx.try_recv().unwrap();
        t.send(s, &[b'b'; 600], false);
        assert!(t.is_attached(s));
        // Unread 600 + 600 > 1000: the client is too slow.
        t.send(s, &[b'c'; 600], false);
        assert!(!t.is_attached(s));
    }
}
