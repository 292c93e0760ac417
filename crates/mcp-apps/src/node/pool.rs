//! The worker pool: picking a worker for a call, and one supervisor per slot that replaces a
//! worker when it exits, crashes or stops answering.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::texts::human_duration;
use super::process::{self, SpawnEnv, Spawned, Timing};
use super::worker::Worker;

/// Counter: workers replaced after they exited, crashed or stopped answering.
pub const WORKER_RESTARTS: &str = "sunpeak_node_worker_restarts_total";
/// Histogram: seconds a call or `auth()` run waited for a worker because none was up.
pub const WORKER_WAIT: &str = "sunpeak_node_worker_wait_seconds";

/// A worker that stayed up this long had a clean run: its replacement starts without delay.
const STABLE_AFTER: Duration = Duration::from_secs(10);
/// Restart delays grow from this, doubling...
const BACKOFF_START: Duration = Duration::from_millis(100);
/// ...up to this.
const BACKOFF_MAX: Duration = Duration::from_secs(10);

pub(crate) struct Pool {
    live: RwLock<Vec<Arc<Worker>>>,
    /// Number of live workers, for callers waiting for one.
    count: watch::Sender<usize>,
    pub shutdown: CancellationToken,
    generation: AtomicU64,
    env: SpawnEnv,
    timing: Timing,
    supervisors: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    pub fn new(env: SpawnEnv, timing: Timing) -> Arc<Self> {
        Arc::new(Pool {
            live: RwLock::new(Vec::new()),
            count: watch::Sender::new(0),
            shutdown: CancellationToken::new(),
            generation: AtomicU64::new(0),
            env,
            timing,
            supervisors: Mutex::new(Vec::new()),
        })
    }

    pub fn env(&self) -> &SpawnEnv {
        &self.env
    }

    pub fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::Relaxed)
    }

    pub fn is_ready(&self) -> bool {
        *self.count.borrow() > 0
    }

    /// Live workers.
    pub fn live_count(&self) -> usize {
        *self.count.borrow()
    }

    /// Calls and `auth()` runs in flight on the live workers.
    pub fn in_flight(&self) -> usize {
        let live = self.live.read().unwrap_or_else(|p| p.into_inner());
        live.iter()
            .map(|w| w.in_flight.load(Ordering::Relaxed))
            .sum()
    }

    /// The least busy live worker, waiting up to `wait` while none is up.
    pub async fn acquire(&self, wait: Duration) -> Option<Arc<Worker>> {
        if let Some(worker) = self.pick() {
            return Some(worker);
        }
        // Only calls that found no worker up wait, and only they are timed.
        let started = Instant::now();
        let found = self.wait_for_worker(wait).await;
        metrics::histogram!(WORKER_WAIT).record(started.elapsed().as_secs_f64());
        found
    }

    async fn wait_for_worker(&self, wait: Duration) -> Option<Arc<Worker>> {
        let mut count = self.count.subscribe();
        let waiting = async {
            loop {
                if let Some(worker) = self.pick() {
                    return Some(worker);
                }
                if self.shutdown.is_cancelled() || count.changed().await.is_err() {
                    return None;
                }
            }
        };
        tokio::select! {
            found = tokio::time::timeout(wait, waiting) => found.ok().flatten(),
            _ = self.shutdown.cancelled() => None,
        }
    }

    fn pick(&self) -> Option<Arc<Worker>> {
        let live = self.live.read().unwrap_or_else(|p| p.into_inner());
        live.iter()
            .min_by_key(|w| w.in_flight.load(Ordering::Relaxed))
            .cloned()
    }

    fn add(&self, worker: &Arc<Worker>) {
        let mut live = self.live.write().unwrap_or_else(|p| p.into_inner());
        live.push(worker.clone());
        self.count.send_replace(live.len());
    }

    fn remove(&self, worker: &Arc<Worker>) {
        let mut live = self.live.write().unwrap_or_else(|p| p.into_inner());
        live.retain(|w| !Arc::ptr_eq(w, worker));
        self.count.send_replace(live.len());
    }

    /// Starts the supervisor of `slot`, which takes over the already started `first` worker.
    pub fn supervise(self: &Arc<Self>, slot: usize, first: Spawned) {
        // Live before this returns, so that the host is ready as soon as `start` returns.
        self.add(&first.worker);
        let pool = Arc::clone(self);
        let task = tokio::spawn(async move { pool.supervise_slot(slot, first).await });
        self.supervisors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task);
    }

    async fn supervise_slot(self: Arc<Self>, slot: usize, first: Spawned) {
        let mut failures: u32 = 0;
        let mut next = Some(first);
        let mut added = true;
        loop {
            let spawned = match next.take() {
                Some(spawned) => spawned,
                None => match process::spawn(&self.env, slot, self.next_generation()).await {
                    Ok(spawned) => {
                        tracing::info!(target: "node", worker = slot, "Tool worker {slot} is up again (pid {})", spawned.worker.pid.unwrap_or(0));
                        spawned
                    }
                    Err(err) => {
                        failures += 1;
                        let delay = backoff(failures);
                        tracing::error!(target: "node", worker = slot, "Tool worker {slot} could not be started: {err}; retrying in {}", human_duration(delay));
                        if self.pause(delay).await {
                            return;
                        }
                        continue;
                    }
                },
            };
            let Spawned { worker, conn, .. } = spawned;
            if !added {
                self.add(&worker);
            }
            added = false;
            let started = Instant::now();
            let why = process::run(&worker, conn, self.timing, &self.shutdown).await;
            // Out of the pool before its calls fail, so that nobody retries on it and
            // `/health` says 503 until the replacement is up.
            self.remove(&worker);
            worker.close(&why);
            if self.shutdown.is_cancelled() {
                return;
            }
            failures = if started.elapsed() >= STABLE_AFTER {
                0
            } else {
                failures + 1
            };
            tracing::warn!(target: "node", worker = slot, "Tool worker {slot}: {why}; starting a replacement");
            metrics::counter!(WORKER_RESTARTS).increment(1);
            if failures > 1 && self.pause(backoff(failures - 1)).await {
                return;
            }
        }
    }

    /// Sleeps unless shutting down; true when shutting down.
    async fn pause(&self, delay: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(delay) => self.shutdown.is_cancelled(),
            _ = self.shutdown.cancelled() => true,
        }
    }

    /// Stops every worker and waits for the supervisors to finish.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        let tasks: Vec<JoinHandle<()>> = self
            .supervisors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for task in tasks {
            let _ = task.await;
        }
    }
}

/// 100 ms, 200 ms, 400 ms, ... up to 10 s.
fn backoff(failures: u32) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(16);
    BACKOFF_START.saturating_mul(factor).min(BACKOFF_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(5), Duration::from_millis(1600));
        assert_eq!(backoff(40), BACKOFF_MAX);
    }
}
