//! One worker process: its channel, the calls in flight on it, and what it says.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use super::api::{ClientPeer, ToolCallOutcome};
use super::frames::{self, Inbound, Kind, LogLevel};

/// What a call waiting on a worker gets back.
pub(crate) enum CallReply {
    /// The worker answered.
    Done(ToolCallOutcome),
    /// The worker went away first; the text says why (`the worker process exited (code 1)`).
    Lost(String),
}

/// What an `auth()` waiting on a worker gets back.
pub(crate) enum AuthReply {
    Info(Option<Value>),
    Denied(Value),
    Threw(String),
    Lost(String),
}

enum Pending {
    Call {
        tool: Arc<str>,
        peer: Arc<dyn ClientPeer>,
        reply: oneshot::Sender<CallReply>,
    },
    Auth {
        reply: oneshot::Sender<AuthReply>,
    },
}

#[derive(Default)]
struct State {
    /// Set once the worker is gone: why.
    closed: Option<String>,
    pending: HashMap<u64, Pending>,
    /// Requests from handlers to the client, by worker-side id: (call id, task).
    requests: HashMap<u64, (u64, AbortHandle)>,
}

/// A connected, loaded worker process.
pub(crate) struct Worker {
    /// Pool slot (0-based), for logs.
    pub slot: usize,
    /// OS process id, for logs.
    pub pid: Option<u32>,
    out: mpsc::Sender<Vec<u8>>,
    state: Mutex<State>,
    next_id: AtomicU64,
    /// Calls and auth runs in flight (the pool picks the least busy worker).
    pub in_flight: AtomicUsize,
}

impl Worker {
    pub fn new(slot: usize, pid: Option<u32>, out: mpsc::Sender<Vec<u8>>) -> Self {
        Worker {
            slot,
            pid,
            out,
            state: Mutex::new(State::default()),
            next_id: AtomicU64::new(1),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock would be a bug of ours; keep serving regardless.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a frame for the worker (waits while the queue is full).
    pub async fn send(&self, frame: Vec<u8>) {
        // Fails only when the channel is gone; the pending entry is then failed by `close`.
        let _ = self.out.send(frame).await;
    }

    /// Queues a frame without waiting (dropped when the queue is full).
    pub fn try_send(&self, frame: Vec<u8>) {
        let _ = self.out.try_send(frame);
    }

    /// Registers a call; its id goes into the `call` frame. Fails when the worker is gone.
    pub fn register_call(
        &self,
        tool: &str,
        peer: Arc<dyn ClientPeer>,
    ) -> Result<(u64, oneshot::Receiver<CallReply>), String> {
        let (reply, rx) = oneshot::channel();
        let id = self.register(Pending::Call {
            tool: Arc::from(tool),
            peer,
            reply,
        })?;
        Ok((id, rx))
    }

    /// Registers an `auth()` run.
    pub fn register_auth(&self) -> Result<(u64, oneshot::Receiver<AuthReply>), String> {
        let (reply, rx) = oneshot::channel();
        let id = self.register(Pending::Auth { reply })?;
        Ok((id, rx))
    }

    fn register(&self, pending: Pending) -> Result<u64, String> {
        let mut state = self.state();
        if let Some(why) = &state.closed {
            return Err(why.clone());
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        state.pending.insert(id, pending);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Ok(id)
    }

    /// Ends the bookkeeping of a call or auth run (answered, cancelled, timed out or
    /// abandoned): drops its entry and stops its requests to the client. Call exactly once
    /// per registration.
    pub fn finish(&self, id: u64) {
        let mut state = self.state();
        state.pending.remove(&id);
        state.requests.retain(|_, (call, task)| {
            if *call == id {
                task.abort();
                false
            } else {
                true
            }
        });
        drop(state);
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// The worker is gone: every call and auth run on it fails with `why`.
    pub fn close(&self, why: &str) {
        let mut state = self.state();
        state.closed = Some(why.to_string());
        for (_, pending) in state.pending.drain() {
            match pending {
                Pending::Call { reply, .. } => {
                    let _ = reply.send(CallReply::Lost(why.to_string()));
                }
                Pending::Auth { reply } => {
                    let _ = reply.send(AuthReply::Lost(why.to_string()));
                }
            }
        }
        for (_, (_, task)) in state.requests.drain() {
            task.abort();
        }
    }

    /// Handles one frame from the worker.
    pub fn handle(self: &Arc<Self>, bytes: &[u8]) {
        let frame: Inbound = match serde_json::from_slice(bytes) {
            Ok(frame) => frame,
            Err(err) => return self.unreadable(bytes, &err),
        };
        match frame.t {
            Kind::Done => self.on_done(frame),
            Kind::Calltool => {
                if let Some(tool) = frame.id.and_then(|id| self.tool_of(id)) {
                    // Without a schema the argument names are the client's own text.
                    let keys = frame.keys.unwrap_or_default();
                    let keys = mcp_transport::logging::printable(&keys, 1024);
                    tracing::info!(target: "mcp", "CallTool: {tool}{{{keys}}}");
                }
            }
            Kind::Notify => self.on_notify(frame),
            Kind::Request => self.on_request(frame),
            Kind::CancelRequest => {
                if let Some(rid) = frame.rid
                    && let Some((_, task)) = self.state().requests.remove(&rid)
                {
                    task.abort();
                }
            }
            Kind::Authed => self.on_authed(frame),
            Kind::Log => self.on_log(frame),
            Kind::Pong | Kind::Loaded | Kind::LoadError => {}
            Kind::Unknown => {
                tracing::debug!(target: "node", worker = self.slot, "ignoring a frame of unknown kind");
            }
        }
    }

    fn tool_of(&self, id: u64) -> Option<Arc<str>> {
        match self.state().pending.get(&id) {
            Some(Pending::Call { tool, .. }) => Some(tool.clone()),
            _ => None,
        }
    }

    fn on_done(&self, frame: Inbound) {
        let Some(id) = frame.id else { return };
        let Some(Pending::Call { reply, .. }) = self.state().pending.remove(&id) else {
            return; // cancelled or timed out: nobody is waiting
        };
        let outcome = match (frame.result, frame.error) {
            (_, Some(error)) => ToolCallOutcome::Error {
                code: error.code,
                message: error.message,
                data: error.data,
            },
            (Some(result), None) => ToolCallOutcome::Result(result),
            (None, None) => ToolCallOutcome::Error {
                code: -32603,
                message: "Internal error: the tool worker sent an empty answer".to_string(),
                data: None,
            },
        };
        let _ = reply.send(CallReply::Done(outcome));
    }

    /// A frame longer than the limit was skipped (`head`: its first bytes). If it was a tool's
    /// result, that call gets an `isError` result naming the tool; the worker goes on.
    pub fn oversized(&self, head: &[u8], max: usize) {
        let Some(id) = done_frame_id(head) else {
            tracing::error!(target: "node", worker = self.slot, "the tool worker sent a message over {max} bytes; it was dropped");
            return;
        };
        let Some(Pending::Call { reply, tool, .. }) = self.state().pending.remove(&id) else {
            return;
        };
        tracing::warn!(target: "node", worker = self.slot, "Tool {tool} returned a result over {max} bytes; the call gets an error result");
        let _ = reply.send(CallReply::Done(ToolCallOutcome::tool_error(format!(
            "Tool {tool} returned a result larger than the {max} bytes limit (--max-tool-result-bytes)"
        ))));
    }

    /// A frame serde could not read (for example a result nested deeper than its recursion
    /// limit): fail the call it answers rather than the whole worker.
    fn unreadable(&self, bytes: &[u8], err: &serde_json::Error) {
        let Some(id) = done_frame_id(bytes) else {
            tracing::error!(target: "node", worker = self.slot, "unreadable frame from the tool worker: {err}");
            return;
        };
        let Some(Pending::Call { reply, tool, .. }) = self.state().pending.remove(&id) else {
            return;
        };
        let _ = reply.send(CallReply::Done(ToolCallOutcome::Error {
            code: -32603,
            message: format!("Tool {tool} returned a result the server could not read: {err}"),
            data: None,
        }));
    }

    fn on_notify(&self, frame: Inbound) {
        let (Some(id), Some(method)) = (frame.id, frame.method) else {
            return;
        };
        let peer = match self.state().pending.get(&id) {
            Some(Pending::Call { peer, .. }) => peer.clone(),
            _ => return,
        };
        peer.notify(&method, frame.params.unwrap_or(Value::Null));
    }

    fn on_request(self: &Arc<Self>, frame: Inbound) {
        let (Some(id), Some(rid), Some(method)) = (frame.id, frame.rid, frame.method) else {
            return;
        };
        let peer = match self.state().pending.get(&id) {
            Some(Pending::Call { peer, .. }) => peer.clone(),
            _ => {
                let gone = serde_json::json!({"code": -32000, "message": "Request was cancelled"});
                self.try_send(frames::response(rid, &Err(gone)));
                return;
            }
        };
        // Outside the lock: the peer is foreign code.
        let answer = peer.request(&method, frame.params.unwrap_or(Value::Null));
        let worker = Arc::clone(self);
        let task = tokio::spawn(async move {
            let answer = answer.await;
            worker.state().requests.remove(&rid);
            worker.send(frames::response(rid, &answer)).await;
        });
        let mut state = self.state();
        if state.pending.contains_key(&id) {
            // If the task already finished, this entry is dropped with the call (`finish`).
            state.requests.insert(rid, (id, task.abort_handle()));
        } else {
            task.abort();
        }
    }

    fn on_authed(&self, frame: Inbound) {
        let Some(id) = frame.id else { return };
        let Some(Pending::Auth { reply }) = self.state().pending.remove(&id) else {
            return;
        };
        let answer = match (frame.fail, frame.denied) {
            (Some(text), _) => AuthReply::Threw(text),
            (None, Some(failure)) => AuthReply::Denied(failure),
            (None, None) => AuthReply::Info(frame.info),
        };
        let _ = reply.send(answer);
    }

    fn on_log(&self, frame: Inbound) {
        let msg = frame.msg.unwrap_or_default();
        let level = frame.lv.unwrap_or(LogLevel::Info);
        match (frame.src.as_deref(), frame.tool) {
            (Some("tool"), Some(tool)) => log_tool(level, &tool, &msg),
            (Some("auth"), _) => log_auth(level, &msg),
            _ => log_worker(level, self.slot, &msg),
        }
    }
}

/// The id of a `{"t":"done","id":<n>,...}` frame, read from its first bytes (the worker always
/// writes `t` and `id` first).
fn done_frame_id(bytes: &[u8]) -> Option<u64> {
    let rest = bytes.strip_prefix(br#"{"t":"done","id":"#)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// Console output of a tool handler.
fn log_tool(level: LogLevel, tool: &str, msg: &str) {
    match level {
        LogLevel::Debug => tracing::debug!(target: "tool", tool, "{msg}"),
        LogLevel::Info => tracing::info!(target: "tool", tool, "{msg}"),
        LogLevel::Warn => tracing::warn!(target: "tool", tool, "{msg}"),
        LogLevel::Error => tracing::error!(target: "tool", tool, "{msg}"),
    }
}

/// Console output of `auth()`.
fn log_auth(level: LogLevel, msg: &str) {
    match level {
        LogLevel::Debug => tracing::debug!(target: "auth", "{msg}"),
        LogLevel::Info => tracing::info!(target: "auth", "{msg}"),
        LogLevel::Warn => tracing::warn!(target: "auth", "{msg}"),
        LogLevel::Error => tracing::error!(target: "auth", "{msg}"),
    }
}

/// Output of a worker outside any handler (module top level, the worker itself).
pub(crate) fn log_worker(level: LogLevel, worker: usize, msg: &str) {
    match level {
        LogLevel::Debug => tracing::debug!(target: "node", worker, "{msg}"),
        LogLevel::Info => tracing::info!(target: "node", worker, "{msg}"),
        LogLevel::Warn => tracing::warn!(target: "node", worker, "{msg}"),
        LogLevel::Error => tracing::error!(target: "node", worker, "{msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_id_from_prefix() {
        assert_eq!(
            done_frame_id(br#"{"t":"done","id":42,"result":[[[["#),
            Some(42)
        );
        assert_eq!(done_frame_id(br#"{"t":"log","id":42}"#), None);
        assert_eq!(done_frame_id(br#"{"t":"done","id":"x"}"#), None);
    }
}
