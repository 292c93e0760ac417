//! Starting a worker process, loading `dist/` in it, and running its channel until it ends.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;

use super::error::NodeHostError;
use super::frames::{self, Inbound, Kind, LogLevel};
use super::worker::{Worker, log_worker};

/// The first bytes of an oversized frame kept to tell what it was (`{"t":"done","id":N`).
const OVERSIZED_HEAD_BYTES: usize = 64;
/// Capacity the frame buffer keeps between frames.
const KEEP_FRAME_CAPACITY: usize = 256 * 1024;
/// Frames queued for one worker before senders wait.
const OUT_QUEUE: usize = 1024;
/// Raw output lines (Node's own messages) are cut after this many bytes.
const MAX_LOG_LINE_BYTES: usize = 16 * 1024;
/// Stderr lines kept for error messages about a worker that failed to start.
const STDERR_TAIL: usize = 20;

/// Everything needed to start a worker.
pub(crate) struct SpawnEnv {
    pub node: PathBuf,
    pub script: PathBuf,
    pub runtime_dir: PathBuf,
    pub project_root: PathBuf,
    /// The `load` frame, encoded once.
    pub load_frame: Vec<u8>,
    pub startup_timeout: Duration,
    /// The longest frame (tool result) taken from a worker; longer ones are skipped unread.
    pub max_frame_bytes: usize,
}

/// Timing of the channel supervision.
#[derive(Clone, Copy)]
pub(crate) struct Timing {
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
}

/// A started worker: the shared handle, its connection, and what it loaded.
pub(crate) struct Spawned {
    pub worker: Arc<Worker>,
    pub conn: Connection,
    pub loaded: Inbound,
}

/// The host's end of a worker: the read half of the channel and the process.
pub(crate) struct Connection {
    reader: BufReader<OwnedReadHalf>,
    buf: Vec<u8>,
    frame: FrameState,
    child: Child,
    /// Cancelling it closes the channel, which tells the worker to exit.
    close: CancellationToken,
}

type Tail = Arc<Mutex<VecDeque<String>>>;

/// Starts a worker in `slot` and waits until it has loaded `dist/`.
pub(crate) async fn spawn(
    env: &SpawnEnv,
    slot: usize,
    generation: u64,
) -> Result<Spawned, NodeHostError> {
    let socket = env.runtime_dir.join(format!("w{slot}-{generation}.sock"));
    let _ = std::fs::remove_file(&socket);
    let listener = UnixListener::bind(&socket).map_err(|source| NodeHostError::Io {
        what: "could not create the worker socket",
        path: socket.clone(),
        source,
    })?;
    let mut child = Command::new(&env.node)
        .arg(&env.script)
        .current_dir(&env.project_root)
        .env("SUNPEAK_WORKER_SOCKET", &socket)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // Its own process group: a terminal's Ctrl-C reaches the server, which then drains
        // and stops the workers itself, instead of killing calls in flight.
        .process_group(0)
        .spawn()
        .map_err(|e| NodeHostError::Worker {
            detail: format!("{} could not be started ({e})", env.node.display()),
        })?;
    let pid = child.id();
    let tail: Tail = Arc::default();
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(pipe_output(stdout, slot, LogLevel::Info, None));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(pipe_output(
            stderr,
            slot,
            LogLevel::Warn,
            Some(tail.clone()),
        ));
    }

    let deadline = Instant::now() + env.startup_timeout;
    let accepted = tokio::select! {
        r = listener.accept() => r.map(|(stream, _)| stream).map_err(|e| NodeHostError::Worker {
            detail: format!("the worker did not connect ({e})"),
        }),
        status = child.wait() => Err(exited_early(status, &tail).await),
        _ = sleep_until(deadline) => Err(NodeHostError::Worker {
            detail: format!("the worker did not connect within {:?}", env.startup_timeout),
        }),
    };
    drop(listener);
    let _ = std::fs::remove_file(&socket);
    let stream = accepted?;

    let (read_half, write_half) = stream.into_split();
    let (out, queue) = mpsc::channel(OUT_QUEUE);
    let close = CancellationToken::new();
    tokio::spawn(write_loop(queue, write_half, close.clone()));
    let worker = Arc::new(Worker::new(slot, pid, out));
    worker.send(env.load_frame.clone()).await;

    let mut conn = Connection {
        reader: BufReader::with_capacity(64 * 1024, read_half),
        buf: Vec::new(),
        frame: FrameState::new(env.max_frame_bytes),
        child,
        close,
    };
    let loaded = {
        let Connection {
            reader,
            buf,
            frame,
            child,
            ..
        } = &mut conn;
        tokio::select! {
            r = wait_loaded(&worker, reader, buf, frame) => r,
            status = child.wait() => {
                // A loadError may still be in the socket.
                match timeout(Duration::from_millis(500), wait_loaded(&worker, reader, buf, frame)).await {
                    Ok(Err(load @ NodeHostError::Load { .. })) => Err(load),
                    _ => Err(exited_early(status, &tail).await),
                }
            }
            _ = sleep_until(deadline) => Err(NodeHostError::Worker {
                detail: format!("the worker did not load dist/ within {:?}", env.startup_timeout),
            }),
        }
    };
    match loaded {
        Ok(loaded) => Ok(Spawned {
            worker,
            conn,
            loaded,
        }),
        Err(err) => {
            let _ = conn.child.start_kill();
            let _ = conn.child.wait().await;
            Err(err)
        }
    }
}

/// Reads frames until `loaded` (or `loadError`), logging what the modules print meanwhile.
async fn wait_loaded(
    worker: &Arc<Worker>,
    reader: &mut BufReader<OwnedReadHalf>,
    buf: &mut Vec<u8>,
    frame: &mut FrameState,
) -> Result<Inbound, NodeHostError> {
    loop {
        let got = read_frame(reader, buf, frame)
            .await
            .map_err(|e| NodeHostError::Worker {
                detail: format!("reading from the worker failed ({e})"),
            })?;
        match got {
            Got::Frame => {}
            Got::End => {
                return Err(NodeHostError::Worker {
                    detail: "the worker closed its channel while loading".to_string(),
                });
            }
            Got::TooLarge { head } => {
                worker.oversized(&head, frame.max);
                continue;
            }
        }
        let parsed = serde_json::from_slice::<Inbound>(buf);
        match parsed {
            Ok(frame) if frame.t == Kind::Loaded => {
                reset_frame(buf);
                return Ok(frame);
            }
            Ok(frame) if frame.t == Kind::LoadError => {
                reset_frame(buf);
                return Err(NodeHostError::Load {
                    message: frame
                        .message
                        .unwrap_or_else(|| "Failed to load dist/".to_string()),
                });
            }
            // Console output of the modules' top level.
            Ok(_) => {
                worker.handle(buf);
                reset_frame(buf);
            }
            Err(e) => {
                reset_frame(buf);
                return Err(NodeHostError::Worker {
                    detail: format!("the worker sent an unreadable load report ({e})"),
                });
            }
        }
    }
}

/// Serves the worker's channel until the worker ends; returns why it ended (the text its
/// in-flight calls fail with; the caller closes the worker with it).
pub(crate) async fn run(
    worker: &Arc<Worker>,
    mut conn: Connection,
    timing: Timing,
    shutdown: &CancellationToken,
) -> String {
    let mut ping = tokio::time::interval(timing.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let mut last_seen = Instant::now();
    let mut pings = 0u64;
    let Connection {
        reader,
        buf,
        frame,
        child,
        close,
    } = &mut conn;
    let why = loop {
        tokio::select! {
            r = read_frame(reader, buf, frame) => match r {
                Ok(Got::Frame) => {
                    last_seen = Instant::now();
                    worker.handle(buf);
                    reset_frame(buf);
                }
                Ok(Got::TooLarge { head }) => {
                    last_seen = Instant::now();
                    worker.oversized(&head, frame.max);
                }
                Ok(Got::End) => {
                    // The worker closed the channel: it is exiting.
                    let status = wait_or_kill(child, Duration::from_secs(2)).await;
                    break exit_text(status);
                }
                Err(e) => {
                    tracing::error!(target: "node", worker = worker.slot, "tool worker channel failed: {e}");
                    let _ = child.start_kill();
                    let status = child.wait().await.ok();
                    break format!("the worker process broke its channel ({e}){}", code_suffix(status));
                }
            },
            status = child.wait() => {
                // Deliver what it wrote before exiting (console output, answers).
                let _ = timeout(Duration::from_millis(500), drain(worker, reader, buf, frame)).await;
                break exit_text(status.ok());
            }
            _ = ping.tick() => {
                if last_seen.elapsed() >= timing.ping_timeout {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    break "the worker process stopped responding and was restarted".to_string();
                }
                pings += 1;
                worker.try_send(frames::ping(pings));
            }
            _ = shutdown.cancelled() => {
                close.cancel();
                let _ = wait_or_kill(child, Duration::from_secs(2)).await;
                break "the server is shutting down".to_string();
            }
        }
    };
    close.cancel();
    why
}

/// Handles the frames left in the channel after the process exited.
async fn drain(
    worker: &Arc<Worker>,
    reader: &mut BufReader<OwnedReadHalf>,
    buf: &mut Vec<u8>,
    frame: &mut FrameState,
) {
    loop {
        match read_frame(reader, buf, frame).await {
            Ok(Got::Frame) => {
                worker.handle(buf);
                reset_frame(buf);
            }
            Ok(Got::TooLarge { head }) => worker.oversized(&head, frame.max),
            Ok(Got::End) | Err(_) => return,
        }
    }
}

/// Empties the frame buffer after a frame was handled, giving back the memory of a large one
/// (a frame may be hundreds of MiB; the buffer lives as long as the worker).
fn reset_frame(buf: &mut Vec<u8>) {
    buf.clear();
    buf.shrink_to(KEEP_FRAME_CAPACITY);
}

/// What [`read_frame`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Got {
    /// A frame, in the buffer.
    Frame,
    /// A frame longer than the limit, skipped without keeping it; its first bytes.
    TooLarge { head: Vec<u8> },
    /// The end of the stream.
    End,
}

/// The frame size limit, and the state of skipping an oversized frame across calls.
pub(crate) struct FrameState {
    pub(crate) max: usize,
    /// The first bytes of the oversized frame being skipped.
    skipping: Option<Vec<u8>>,
}

impl FrameState {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            skipping: None,
        }
    }
}

/// Reads one newline-terminated frame into `buf` (without the newline). Cancel-safe: bytes of
/// an unfinished frame stay in `buf` (or, for an oversized one, the skipping goes on) for the
/// next call. A frame longer than `state.max` is not kept: the rest of its line is read and
/// dropped, so a huge tool result costs the limit in memory, not its size.
async fn read_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    state: &mut FrameState,
) -> std::io::Result<Got> {
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Got::End);
        }
        let newline = available.iter().position(|&b| b == b'\n');
        let line = newline.unwrap_or(available.len());
        if state.skipping.is_none() {
            buf.extend_from_slice(&available[..line]);
        }
        reader.consume(newline.map_or(line, |i| i + 1));
        if state.skipping.is_none() && buf.len() > state.max {
            let head = buf[..OVERSIZED_HEAD_BYTES.min(buf.len())].to_vec();
            reset_frame(buf);
            state.skipping = Some(head);
        }
        if newline.is_none() {
            continue;
        }
        if let Some(head) = state.skipping.take() {
            return Ok(Got::TooLarge { head });
        }
        if buf.is_empty() {
            continue; // blank line
        }
        return Ok(Got::Frame);
    }
}

/// Writes queued frames, coalescing what is queued at once into one write.
async fn write_loop(
    mut queue: mpsc::Receiver<Vec<u8>>,
    mut out: OwnedWriteHalf,
    close: CancellationToken,
) {
    let mut batch = Vec::with_capacity(16 * 1024);
    loop {
        let first = tokio::select! {
            f = queue.recv() => f,
            _ = close.cancelled() => None,
        };
        let Some(first) = first else { break };
        batch.clear();
        batch.extend_from_slice(&first);
        while batch.len() < 1024 * 1024 {
            match queue.try_recv() {
                Ok(more) => batch.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        if out.write_all(&batch).await.is_err() {
            break;
        }
    }
    let _ = out.shutdown().await;
}

/// Logs what the process writes to stdout/stderr outside the patched console (Node's own
/// messages, uncaught exceptions, native code). Any bytes are fine (not UTF-8: replaced), and
/// a line longer than [`MAX_LOG_LINE_BYTES`] is cut, so that the pipe is always drained and
/// never gathered whole in memory.
async fn pipe_output<R: AsyncRead + Unpin>(
    stream: R,
    slot: usize,
    level: LogLevel,
    tail: Option<Tail>,
) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    while let Ok(Some(cut)) = read_log_line(&mut reader, &mut buf, MAX_LOG_LINE_BYTES).await {
        let mut line = String::from_utf8_lossy(&buf).into_owned();
        if cut > 0 {
            line.push_str(&format!("... [{cut} more bytes]"));
        }
        log_worker(level, slot, &line);
        if let Some(tail) = &tail {
            let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
            if tail.len() == STDERR_TAIL {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
}

/// Reads one line (without its `\n` or `\r\n`) into `buf`, keeping at most `keep` bytes;
/// returns how many bytes were cut, or `None` at the end of the stream.
async fn read_log_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    keep: usize,
) -> std::io::Result<Option<usize>> {
    buf.clear();
    let mut cut = 0usize;
    let mut started = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(started.then_some(cut));
        }
        started = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        let take = chunk.len().min(keep.saturating_sub(buf.len()));
        buf.extend_from_slice(&chunk[..take]);
        cut = cut.saturating_add(chunk.len() - take);
        let used = newline.map_or(chunk.len(), |i| i + 1);
        reader.consume(used);
        if newline.is_some() {
            if cut == 0 && buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(cut));
        }
    }
}

async fn wait_or_kill(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    match timeout(grace, child.wait()).await {
        Ok(status) => status.ok(),
        Err(_) => {
            let _ = child.start_kill();
            child.wait().await.ok()
        }
    }
}

async fn exited_early(status: std::io::Result<ExitStatus>, tail: &Tail) -> NodeHostError {
    // Let the stderr reader catch up with the last lines.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let lines: Vec<String> = tail
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .cloned()
        .collect();
    let mut detail = format!(
        "the worker exited before it was ready{}",
        code_suffix(status.ok())
    );
    if !lines.is_empty() {
        detail.push_str(":\n");
        detail.push_str(&lines.join("\n"));
    }
    NodeHostError::Worker { detail }
}

fn exit_text(status: Option<ExitStatus>) -> String {
    format!("the worker process exited{}", code_suffix(status))
}

/// ` (code 3)`, ` (signal 9)` or nothing.
fn code_suffix(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!(" (code {code})"),
            (None, Some(signal)) => format!(" (signal {signal})"),
            _ => String::new(),
        },
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cancelled_read_keeps_the_partial_frame() {
        let (mut tx, rx) = tokio::io::duplex(64);
        let mut reader = BufReader::new(rx);
        let mut buf = Vec::new();
        tx.write_all(b"{\"half\":").await.unwrap();
        let cancelled = timeout(
            Duration::from_millis(50),
            read_frame(&mut reader, &mut buf, &mut FrameState::new(100)),
        )
        .await;
        assert!(cancelled.is_err());
        tx.write_all(b"1}\n").await.unwrap();
        let got = read_frame(&mut reader, &mut buf, &mut FrameState::new(100)).await;
        assert_eq!(got.unwrap(), Got::Frame);
        assert_eq!(buf, b"{\"half\":1}");
    }

    #[tokio::test]
    async fn frames_split_on_newlines() {
        let data: &[u8] = b"{\"a\":1}\n\n{\"b\":2}\npartial";
        let mut reader = BufReader::with_capacity(3, data);
        let mut buf = Vec::new();
        let mut state = FrameState::new(100);
        let got = read_frame(&mut reader, &mut buf, &mut state).await.unwrap();
        assert_eq!(got, Got::Frame);
        assert_eq!(buf, b"{\"a\":1}");
        buf.clear();
        let got = read_frame(&mut reader, &mut buf, &mut state).await.unwrap();
        assert_eq!(got, Got::Frame);
        assert_eq!(buf, b"{\"b\":2}");
        buf.clear();
        let got = read_frame(&mut reader, &mut buf, &mut state).await.unwrap();
        assert_eq!(got, Got::End);
    }

    #[tokio::test]
    async fn oversized_frames_are_skipped_and_the_next_one_read() {
        let mut data = b"{\"t\":\"done\",\"id\":42,\"result\":\"".to_vec();
        data.extend_from_slice(&[b'x'; 1000]);
        data.extend_from_slice(b"\"}\n{\"t\":\"pong\"}\n");
        let mut reader = BufReader::with_capacity(64, &data[..]);
        let mut buf = Vec::new();
        let mut state = FrameState::new(100);
        let got = read_frame(&mut reader, &mut buf, &mut state).await.unwrap();
        let Got::TooLarge { head } = got else {
            panic!("{got:?}")
        };
        assert!(head.starts_with(b"{\"t\":\"done\",\"id\":42,"));
        // What it held is given back, not kept for the life of the worker.
        assert!(buf.is_empty() && buf.capacity() <= KEEP_FRAME_CAPACITY);
        let got = read_frame(&mut reader, &mut buf, &mut state).await.unwrap();
        assert_eq!(got, Got::Frame);
        assert_eq!(buf, b"{\"t\":\"pong\"}");
    }

    #[tokio::test]
    async fn raw_output_survives_bad_utf8_and_huge_lines() {
        let (mut tx, rx) = tokio::io::duplex(1024);
        let tail: Tail = Arc::default();
        let reader = tokio::spawn(pipe_output(rx, 0, LogLevel::Warn, Some(tail.clone())));
        // Invalid UTF-8 ended the reader (`lines()` fails on it): later output was never
        // read, and a worker blocked on its full stderr pipe.
        tx.write_all(b"bad \xff\xfe bytes\n").await.unwrap();
        // A line without end was gathered whole in memory.
        let huge = vec![b'x'; 3 * MAX_LOG_LINE_BYTES];
        tx.write_all(&huge).await.unwrap();
        tx.write_all(b"\nafter\n").await.unwrap();
        drop(tx);
        reader.await.unwrap();
        let lines: Vec<String> = tail.lock().unwrap().iter().cloned().collect();
        assert_eq!(
            lines.len(),
            3,
            "{:?}",
            lines.iter().map(|l| l.len()).collect::<Vec<_>>()
        );
        assert_eq!(lines[0], "bad \u{fffd}\u{fffd} bytes");
        assert!(lines[1].len() < MAX_LOG_LINE_BYTES + 100);
        assert!(
            lines[1].ends_with(&format!("[{} more bytes]", 2 * MAX_LOG_LINE_BYTES)),
            "{}",
            &lines[1][lines[1].len() - 40..]
        );
        assert_eq!(lines[2], "after");
    }

    #[tokio::test]
    async fn a_large_frame_does_not_keep_its_memory() {
        let mut data = vec![b'x'; 8 * KEEP_FRAME_CAPACITY];
        data.extend_from_slice(b"\n{}\n");
        let mut reader = BufReader::new(&data[..]);
        let mut buf = Vec::new();
        let mut state = FrameState::new(usize::MAX);
        let got = read_frame(&mut reader, &mut buf, &mut state).await.unwrap();
        assert_eq!(got, Got::Frame);
        assert!(buf.capacity() >= 8 * KEEP_FRAME_CAPACITY);
        // `clear` alone kept all of it for the life of the worker.
        reset_frame(&mut buf);
        assert!(buf.is_empty() && buf.capacity() <= KEEP_FRAME_CAPACITY);
        let got = read_frame(&mut reader, &mut buf, &mut state).await.unwrap();
        assert_eq!(got, Got::Frame);
        assert_eq!(buf, b"{}");
    }
}
