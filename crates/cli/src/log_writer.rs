//! Writing log lines without blocking the threads that log them.
//!
//! A `tracing` event used to write its line to stdout/stderr on the thread that logged it. When
//! nobody reads the pipe (a stuck log collector, a terminal paused with Ctrl-S), the write
//! blocks, and with it the runtime thread and every connection on it: one slow reader of the
//! logs could stop the server. Lines now go to one writer thread through a queue bounded in
//! bytes; when the queue is full, lines are dropped and counted, and the writer reports the
//! count once it can write again. One thread for both streams keeps their order. The writer takes
//! what has gathered in the queue and writes it at once, then waits a moment ([`GATHER`]), so a
//! line per request does not cost a thread wake-up per request.
//!
//! `tracing-appender`'s `non_blocking` does the same for one writer; two of them (stdout and
//! stderr) would not keep the order between the streams, and the queue here is bounded in bytes
//! rather than in lines (a line can be long).

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Bytes of lines waiting for the writer before new lines are dropped.
const MAX_QUEUED_BYTES: usize = 8 * 1024 * 1024;

/// Where a line goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

enum Job {
    Line(Stream, String),
    Flush(Sender<()>),
}

/// The sending side, shared by every thread that logs.
pub struct LogWriter {
    tx: Sender<Job>,
    queued: Arc<AtomicUsize>,
    dropped: Arc<AtomicU64>,
    max_bytes: usize,
}

/// The text of the line reporting dropped lines (human or JSON).
pub type Notice = fn(u64) -> String;

static WRITER: OnceLock<LogWriter> = OnceLock::new();

/// The process's writer to stdout and stderr, started on first use.
pub fn global(notice: Notice) -> &'static LogWriter {
    WRITER.get_or_init(|| LogWriter::start(MAX_QUEUED_BYTES, notice, write_std))
}

/// The process's writer, if one was started.
pub fn started() -> Option<&'static LogWriter> {
    WRITER.get()
}

fn write_std(stream: Stream, bytes: &[u8]) -> std::io::Result<()> {
    match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
        Stream::Stderr => std::io::stderr().lock().write_all(bytes),
    }
}

impl LogWriter {
    /// A writer whose thread hands lines to `sink`, queueing at most `max_bytes` (one line
    /// always fits an empty queue); dropped lines are reported with `notice` on stderr.
    pub fn start(
        max_bytes: usize,
        notice: Notice,
        sink: impl FnMut(Stream, &[u8]) -> std::io::Result<()> + Send + 'static,
    ) -> Self {
        let (tx, rx) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        let writer = Self {
            tx,
            queued: Arc::clone(&queued),
            dropped: Arc::clone(&dropped),
            max_bytes,
        };
        let thread = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || run(rx, queued, dropped, notice, sink));
        if thread.is_err() {
            // No thread: every line will be dropped and counted rather than block.
            writer.queued.store(usize::MAX, Ordering::Relaxed);
        }
        writer
    }

    /// Queues a line; drops it (and counts it) if the queue is full.
    pub fn write(&self, stream: Stream, line: String) {
        let len = line.len();
        let before = self.queued.fetch_add(len, Ordering::AcqRel);
        if before > 0 && before.saturating_add(len) > self.max_bytes {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.tx.send(Job::Line(stream, line)).is_err() {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits (at most `timeout`) until the lines queued so far are written; for the end of
    /// the process, whose last lines must not be lost.
    pub fn flush(&self, timeout: Duration) {
        let (done_tx, done_rx) = mpsc::channel();
        if self.tx.send(Job::Flush(done_tx)).is_ok() {
            let _ = done_rx.recv_timeout(timeout);
        }
    }

    /// Lines dropped so far because the queue was full.
    #[cfg(test)]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// How long the writer waits after a write before it takes the next lines. Under a steady
/// stream of lines (one per request), a writer that went back to waiting after every line had
/// to be woken for every line: a futex wake and a thread switch per request, about a third of
/// the CPU a `tools/list` costs. Waiting this long lets the lines of a burst gather and go out
/// in one write, and wakes the thread at most about a thousand times a second; a line reaches
/// the output at most this much later.
const GATHER: Duration = Duration::from_millis(1);

fn run(
    rx: Receiver<Job>,
    queued: Arc<AtomicUsize>,
    dropped: Arc<AtomicU64>,
    notice: Notice,
    mut sink: impl FnMut(Stream, &[u8]) -> std::io::Result<()>,
) {
    let mut reported = 0u64;
    let mut batch: Vec<u8> = Vec::new();
    let mut flushed: Vec<Sender<()>> = Vec::new();
    while let Ok(first) = rx.recv() {
        // Consecutive lines of one stream go out in one write; a change of stream writes what
        // was gathered first, which keeps the order between the streams.
        let mut current = None;
        for job in std::iter::once(first).chain(rx.try_iter()) {
            match job {
                Job::Line(stream, line) => {
                    if current.is_some_and(|c| c != stream) {
                        write_batch(&mut sink, current, &mut batch, &queued);
                    }
                    current = Some(stream);
                    batch.extend_from_slice(line.as_bytes());
                }
                Job::Flush(done) => flushed.push(done),
            }
        }
        write_batch(&mut sink, current, &mut batch, &queued);
        let now = dropped.load(Ordering::Relaxed);
        if now > reported {
            let _ = sink(Stream::Stderr, notice(now - reported).as_bytes());
            reported = now;
        }
        for done in flushed.drain(..) {
            let _ = done.send(());
        }
        if current.is_some() {
            std::thread::sleep(GATHER);
        }
    }
}

/// Writes the gathered lines of `stream` and takes their bytes off the queue.
fn write_batch(
    sink: &mut impl FnMut(Stream, &[u8]) -> std::io::Result<()>,
    stream: Option<Stream>,
    batch: &mut Vec<u8>,
    queued: &AtomicUsize,
) {
    if let Some(stream) = stream {
        // A closed stdout/stderr must not take the server down: the lines are lost.
        let _ = sink(stream, batch);
    }
    queued.fetch_sub(batch.len(), Ordering::AcqRel);
    batch.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Instant;

    #[test]
    fn a_stuck_output_drops_and_counts_instead_of_blocking() {
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let written = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = Arc::clone(&written);
        let writer = LogWriter::start(
            1000,
            |n| format!("dropped {n}\n"),
            move |_, bytes| {
                // The first write blocks, as on a pipe nobody reads, until released.
                if let Ok(rx) = release_rx.lock() {
                    let _ = rx.recv();
                }
                if let Ok(mut w) = seen.lock() {
                    w.push(String::from_utf8_lossy(bytes).into_owned());
                }
                Ok(())
            },
        );
        let started = Instant::now();
        for i in 0..1000 {
            writer.write(Stream::Stdout, format!("line {i:03} ............\n"));
        }
        // 1000 lines of 22 bytes with the output stuck: no write waited.
        assert!(started.elapsed() < Duration::from_millis(500));
        assert!(writer.dropped() > 900, "{}", writer.dropped());
        drop(release_tx); // unblocks every later write
        writer.flush(Duration::from_secs(5));
        let writes = written.lock().unwrap().clone();
        // Lines queued together may share a write.
        assert!(
            writes[0].starts_with("line 000 ............\n"),
            "{writes:?}"
        );
        let notice = writes.iter().find(|l| l.starts_with("dropped ")).unwrap();
        assert_eq!(*notice, format!("dropped {}\n", writer.dropped()));
    }
}
