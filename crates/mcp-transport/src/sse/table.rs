//! The streams of one session (or of one stateless reply): which connection each logical
//! stream is attached to, event numbering, and the bounded history for `Last-Event-ID`.
//!
//! A *stream* outlives its connection: a POST's stream keeps receiving its handler's messages
//! after the client dropped the connection (they go to the history), and a GET with
//! `Last-Event-ID` re-attaches a new connection to it.

use std::collections::VecDeque;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::encode;

struct Slot {
    id: u64,
    sink: Option<Sink>,
}

struct Sink {
    tx: mpsc::Sender<Bytes>,
    generation: u64,
}

struct Stored {
    stream: u64,
    seq: u64,
    frame: Bytes,
}

/// The receiving end of a connection attached to a stream.
pub(crate) struct Attached {
    pub(crate) rx: mpsc::Receiver<Bytes>,
    pub(crate) generation: u64,
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
    standalone: Option<u64>,
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
            standalone: None,
        }
    }

    /// Opens a new logical stream.
    pub(crate) fn open(&mut self) -> u64 {
        let id = self.next_stream;
        self.next_stream += 1;
        self.slots.push(Slot { id, sink: None });
        id
    }

    /// The standalone (GET) stream, opened on first use.
    pub(crate) fn standalone(&mut self) -> u64 {
        if let Some(id) = self.standalone {
            return id;
        }
        self.slots.push(Slot { id: 0, sink: None });
        self.standalone = Some(0);
        0
    }

    /// Whether a standalone stream was ever opened.
    pub(crate) fn has_standalone(&self) -> bool {
        self.standalone.is_some()
    }

    fn slot(&mut self, stream: u64) -> Option<&mut Slot> {
        self.slots.iter_mut().find(|s| s.id == stream)
    }

    /// Attaches a new connection to a stream, replacing (and so closing) any previous one.
    pub(crate) fn attach(&mut self, stream: u64, capacity: usize) -> Option<Attached> {
        let generation = self.next_generation;
        self.next_generation += 1;
        let slot = self.slot(stream)?;
        let (tx, rx) = mpsc::channel(capacity.max(1));
        slot.sink = Some(Sink { tx, generation });
        Some(Attached { rx, generation })
    }

    fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Sends a priming event (id, `retry`, empty data) on a stream's connection.
    pub(crate) fn prime(&mut self, stream: u64, retry_ms: u64) {
        let seq = self.next_seq();
        let frame = encode::priming(stream, seq, retry_ms);
        self.deliver(stream, frame);
    }

    /// Sends one JSON-RPC message on a stream: stored in the history (when resumable) and
    /// written to the attached connection, if any. A connection whose buffer is full is a
    /// stalled client: it is dropped, and can resume from the history.
    pub(crate) fn send(&mut self, stream: u64, json: &[u8], resumable: bool) {
        let frame = if resumable && self.history_cap > 0 {
            let seq = self.next_seq();
            let frame = encode::message(Some((stream, seq)), json);
            if self.history.len() >= self.history_cap {
                self.history.pop_front();
            }
            self.history.push_back(Stored {
                stream,
                seq,
                frame: frame.clone(),
            });
            frame
        } else {
            encode::message(None, json)
        };
        self.deliver(stream, frame);
    }

    fn deliver(&mut self, stream: u64, frame: Bytes) {
        let Some(slot) = self.slot(stream) else {
            return;
        };
        if let Some(sink) = &slot.sink
            && sink.tx.try_send(frame).is_err()
        {
            tracing::debug!(target: "mcp", stream, "SSE client too slow or gone; connection dropped");
            slot.sink = None;
        }
    }

    /// The stream's last message was sent: close its connection and forget it. Its history is
    /// dropped if a connection was attached (the client got everything), kept otherwise.
    pub(crate) fn finish(&mut self, stream: u64) {
        let Some(pos) = self.slots.iter().position(|s| s.id == stream) else {
            return;
        };
        let slot = self.slots.swap_remove(pos);
        if slot.sink.is_some() {
            self.history.retain(|e| e.stream != stream);
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
    pub(crate) fn resume(&mut self, stream: u64, after: u64, capacity: usize) -> Resumed {
        let replay = self
            .history
            .iter()
            .filter(|e| e.stream == stream && e.seq > after)
            .map(|e| e.frame.clone())
            .collect();
        let live = self.attach(stream, capacity);
        Resumed { replay, live }
    }

    /// Closes every connection (session end).
    pub(crate) fn close_all(&mut self) {
        for s in &mut self.slots {
            s.sink = None;
        }
        self.history.clear();
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
        let mut a = t.attach(s, 8).unwrap();
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
        let a = t.attach(s, 8).unwrap();
        t.prime(s, 1000); // seq 1
        t.close_connection(s);
        drop(a);
        t.send(s, b"1", true); // seq 2
        t.send(s, b"2", true); // seq 3
        let r = t.resume(s, 2, 8);
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
        let r = t.resume(s, 0, 8);
        assert_eq!(r.replay.len(), 1);
        assert!(r.live.is_none());
    }

    #[test]
    fn history_is_bounded_and_slow_clients_dropped() {
        let mut t = StreamTable::new(3);
        let s = t.open();
        let a = t.attach(s, 2).unwrap();
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
        let old = t.attach(s, 2).unwrap();
        let _new = t.attach(s, 2).unwrap();
        t.detach(s, old.generation);
        assert!(t.is_attached(s));
    }

    #[test]
    fn no_ids_without_history() {
        let mut t = StreamTable::new(0);
        let s = t.open();
        let mut a = t.attach(s, 2).unwrap();
        t.send(s, b"{}", true);
        assert_eq!(
            text(&a.rx.try_recv().unwrap()),
            "event: message\ndata: {}\n\n"
        );
    }
}
