//! The reply to one POST: collects results for a JSON body, or streams them as SSE once the
//! handler sends anything before its result (or from the start in SSE mode).
//!
//! The responder polls the handlers inline; when a handler sends a notification or a request,
//! the reply upgrades (opens a stream, attaches a connection channel, primes it) and wakes the
//! responder, which then answers with the SSE body and lets the handlers finish in a task.

use std::sync::{Arc, Mutex};

use mcp_proto::{McpError, RequestId};
use tokio::sync::Notify;

use crate::payload::{Payload, Repr};
use crate::pending::lock;
use crate::session::state::Session;
use crate::sse::table::{Attached, SseLimits, StreamTable};
use crate::wire;

/// Where a reply's stream lives: in its session (resumable) or on its own (stateless).
pub(crate) enum Hub {
    Session(Arc<Session>),
    Local(Mutex<StreamTable>),
}

impl Hub {
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut StreamTable) -> R) -> R {
        match self {
            Self::Session(s) => f(&mut lock(&s.streams)),
            Self::Local(t) => f(&mut lock(t)),
        }
    }
}

/// How the reply's SSE stream behaves.
pub(crate) struct StreamOptions {
    /// Events get ids and go to the history.
    pub(crate) resumable: bool,
    /// Send a priming event with this `retry` (ms) when the stream opens.
    pub(crate) priming_retry: Option<u64>,
    /// Buffer and history limits of the stream.
    pub(crate) limits: SseLimits,
    /// The most result bytes a JSON reply to a batch collects (see
    /// [`TransportConfig::max_reply_bytes`](crate::TransportConfig::max_reply_bytes)).
    pub(crate) max_reply_bytes: usize,
}

/// One request's answer.
pub(crate) struct Finished {
    pub(crate) id: RequestId,
    pub(crate) result: Result<Payload, McpError>,
}

enum Mode {
    Collect(Vec<Finished>),
    Stream {
        stream: u64,
        attached: Option<Attached>,
    },
}

struct State {
    remaining: usize,
    /// Result bytes collected so far (JSON mode).
    collected: usize,
    mode: Mode,
}

/// Why a message could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The request already has its result; progress and requests must stop.
    #[error("the request has already finished")]
    Finished,
}

/// How the responder answers.
pub(crate) enum Outcome {
    /// A JSON body (one object, an array, or 202 when empty).
    Json(Vec<Finished>),
    /// An SSE body from this connection.
    Stream {
        stream: u64,
        attached: Option<Attached>,
    },
}

/// The reply to one POST.
pub(crate) struct Reply {
    pub(crate) hub: Hub,
    opts: StreamOptions,
    state: Mutex<State>,
    upgraded: Notify,
}

impl Reply {
    /// A reply expecting `expected` results; `stream_now` opens the SSE stream at once.
    pub(crate) fn new(
        hub: Hub,
        opts: StreamOptions,
        expected: usize,
        stream_now: bool,
    ) -> Arc<Self> {
        let r = Arc::new(Self {
            hub,
            opts,
            state: Mutex::new(State {
                remaining: expected,
                collected: 0,
                mode: Mode::Collect(Vec::new()),
            }),
            upgraded: Notify::new(),
        });
        if stream_now {
            let mut st = lock(&r.state);
            r.upgrade(&mut st);
        }
        r
    }

    pub(crate) fn is_resumable(&self) -> bool {
        self.opts.resumable
    }

    fn upgrade(&self, st: &mut State) {
        let Mode::Collect(done) = &mut st.mode else {
            return;
        };
        let done = std::mem::take(done);
        let resumable = self.opts.resumable;
        let (stream, attached) = self.hub.with(|t| {
            t.set_limits(self.opts.limits);
            let stream = t.open();
            let attached = t.attach(stream);
            if let Some(retry) = self.opts.priming_retry {
                t.prime(stream, retry);
            }
            for f in &done {
                let mut out = Vec::with_capacity(64);
                wire::response(&mut out, &f.id, &f.result);
                t.send(stream, &out, resumable);
            }
            (stream, attached)
        });
        st.mode = Mode::Stream { stream, attached };
        if st.remaining == 0 {
            self.hub.with(|t| t.finish(stream));
        }
        self.upgraded.notify_one();
    }

    /// Sends a notification or request related to this reply, upgrading it to SSE.
    pub(crate) fn send_message(&self, json: &[u8]) -> Result<(), SendError> {
        let mut st = lock(&self.state);
        if st.remaining == 0 {
            return Err(SendError::Finished);
        }
        self.upgrade(&mut st);
        if let Mode::Stream { stream, .. } = st.mode {
            self.hub.with(|t| t.send(stream, json, self.opts.resumable));
        }
        Ok(())
    }

    /// Records one request's answer (`None`: cancelled, no answer).
    pub(crate) fn finish(&self, id: RequestId, result: Option<Result<Payload, McpError>>) {
        // Serialized here, outside the lock: the size is then known (for the reply cap and
        // the choice of where to compress), and the `Value` tree is freed at once.
        let result = result.map(|r| r.map(serialized));
        let mut st = lock(&self.state);
        st.remaining = st.remaining.saturating_sub(1);
        let last = st.remaining == 0;
        let State {
            collected, mode, ..
        } = &mut *st;
        match mode {
            Mode::Collect(done) => {
                if let Some(mut result) = result {
                    let len = result
                        .as_ref()
                        .ok()
                        .and_then(Payload::known_len)
                        .unwrap_or(0);
                    // The first result always fits; a batch's later ones only within the cap.
                    if !done.is_empty() && collected.saturating_add(len) > self.opts.max_reply_bytes
                    {
                        result = Err(reply_too_large(self.opts.max_reply_bytes));
                    } else {
                        *collected = collected.saturating_add(len);
                    }
                    done.push(Finished { id, result });
                }
            }
            Mode::Stream { stream, .. } => {
                let stream = *stream;
                let resumable = self.opts.resumable;
                let history_bytes = self.opts.limits.history_bytes;
                self.hub.with(|t| {
                    if let Some(result) = &result {
                        let mut out = Vec::with_capacity(256);
                        wire::response(&mut out, &id, result);
                        let mut stand_in = Vec::new();
                        if resumable && out.len() > history_bytes {
                            wire::error(&mut stand_in, Some(&id), &too_large_to_keep(out.len()));
                        }
                        t.send_or(
                            stream,
                            &out,
                            resumable,
                            (!stand_in.is_empty()).then_some(&stand_in[..]),
                        );
                    }
                    if last {
                        t.finish(stream);
                    }
                });
            }
        }
    }

    /// Closes the connection of this reply's stream without ending it (SSE polling): the
    /// client reconnects with `Last-Event-ID` and gets the rest.
    pub(crate) fn close_connection(&self) {
        let mut st = lock(&self.state);
        if st.remaining > 0 {
            // A JSON reply cannot be resumed: switch to SSE first (this primes the stream).
            self.upgrade(&mut st);
        }
        if let Mode::Stream { stream, .. } = st.mode {
            self.hub.with(|t| t.close_connection(stream));
        }
    }

    /// Resolves once the reply has upgraded to SSE.
    pub(crate) async fn upgraded(&self) {
        self.upgraded.notified().await;
    }

    /// Takes what the responder should send.
    pub(crate) fn take_outcome(&self) -> Outcome {
        let mut st = lock(&self.state);
        match &mut st.mode {
            Mode::Collect(done) => Outcome::Json(std::mem::take(done)),
            Mode::Stream { stream, attached } => Outcome::Stream {
                stream: *stream,
                attached: attached.take(),
            },
        }
    }
}

/// A value payload as its JSON bytes (other forms are left as they are: they know their size
/// and may share or pre-compress their bytes).
fn serialized(p: Payload) -> Payload {
    match &p.0 {
        Repr::Value(_) => Payload::raw(p.to_bytes()),
        _ => p,
    }
}

/// The error for a batch result past [`StreamOptions::max_reply_bytes`].
fn reply_too_large(max: usize) -> McpError {
    McpError::internal(format!(
        "Reply too large: the results of this batch exceed {max} bytes; send this request again on its own"
    ))
}

/// What the SSE history keeps for a response too big to keep.
fn too_large_to_keep(len: usize) -> McpError {
    McpError::internal(format!(
        "The response ({len} bytes) was too large to keep for resumption; send the request again"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(expected: usize, now: bool) -> Arc<Reply> {
        Reply::new(
            Hub::Local(Mutex::new(StreamTable::new(0))),
            StreamOptions {
                resumable: false,
                priming_retry: None,
                limits: SseLimits::default(),
                max_reply_bytes: 100,
            },
            expected,
            now,
        )
    }

    #[test]
    fn collects_without_messages() {
        let r = local(1, false);
        r.finish(RequestId::Number(1), Some(Ok(Payload::empty_object())));
        assert!(matches!(r.take_outcome(), Outcome::Json(v) if v.len() == 1));
        assert_eq!(r.send_message(b"{}"), Err(SendError::Finished));
    }

    #[test]
    fn upgrades_on_message_and_streams_result() {
        let r = local(2, false);
        r.finish(RequestId::Number(1), Some(Ok(Payload::empty_object())));
        r.send_message(b"{\"n\":1}").unwrap();
        r.finish(RequestId::Number(2), Some(Ok(Payload::empty_object())));
        let Outcome::Stream {
            attached: Some(mut a),
            ..
        } = r.take_outcome()
        else {
            panic!()
        };
        let mut got = Vec::new();
        while let Ok(b) = a.rx.try_recv() {
            got.push(String::from_utf8(b.to_vec()).unwrap());
        }
        assert_eq!(got.len(), 3);
        assert!(got[0].contains("\"id\":1"));
        assert!(got[1].contains("\"n\":1"));
        assert!(got[2].contains("\"id\":2"));
        // The stream ended: the sender is gone.
        assert!(matches!(
            a.rx.try_recv(),
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected)
        ));
    }

    #[test]
    fn cancelled_request_sends_nothing() {
        let r = local(1, false);
        r.finish(RequestId::Number(1), None);
        assert!(matches!(r.take_outcome(), Outcome::Json(v) if v.is_empty()));
    }

    #[test]
    fn batch_results_past_the_reply_cap_become_errors() {
        let r = local(3, false);
        let big = || Some(Ok(Payload::raw(vec![b'1'; 60])));
        r.finish(RequestId::Number(1), big());
        r.finish(RequestId::Number(2), big());
        r.finish(RequestId::Number(3), Some(Ok(Payload::raw(&b"7"[..]))));
        let Outcome::Json(done) = r.take_outcome() else {
            panic!()
        };
        assert!(done[0].result.is_ok());
        let err = done[1].result.as_ref().unwrap_err();
        assert!(
            err.message.starts_with("Reply too large"),
            "{}",
            err.message
        );
        // A small one still fits after the refused one.
        assert!(done[2].result.is_ok());
    }
}
