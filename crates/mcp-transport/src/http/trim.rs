//! Giving the memory of a big request body back to the system once it is handled.
//!
//! A request body is parsed into a `serde_json` tree: a 4 MB body of many tiny objects becomes
//! some 40 MB of small allocations, freed when the request is done. glibc keeps freed memory in
//! its arenas (one per thread that allocated), so each runtime thread that once parsed such a
//! body would keep its high-water mark for good, which anyone on the network can raise.
//! `malloc_trim` hands free pages back. It walks every arena, so it runs on the blocking pool,
//! one at a time, and only after bodies of [`TRIM_AFTER_BYTES`] or more.

use std::sync::atomic::{AtomicBool, Ordering};

/// Bodies at least this big are followed by a trim.
pub(crate) const TRIM_AFTER_BYTES: usize = 1024 * 1024;

static RUNNING: AtomicBool = AtomicBool::new(false);
static AGAIN: AtomicBool = AtomicBool::new(false);

/// Trims when dropped, if the body was big: hold it while the body's tree lives.
pub(crate) struct TrimAfter(bool);

impl TrimAfter {
    pub(crate) fn new(body_len: usize) -> Self {
        Self(body_len >= TRIM_AFTER_BYTES)
    }

    /// The body turned out to be this long.
    pub(crate) fn body_len(&mut self, len: usize) {
        self.0 = len >= TRIM_AFTER_BYTES;
    }
}

impl Drop for TrimAfter {
    fn drop(&mut self) {
        if self.0 {
            trim_soon();
        }
    }
}

/// Runs a trim on the blocking pool, or asks the running one to go once more.
fn trim_soon() {
    AGAIN.store(true, Ordering::Release);
    if RUNNING.swap(true, Ordering::AcqRel) {
        return;
    }
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        RUNNING.store(false, Ordering::Release);
        return;
    };
    rt.spawn_blocking(|| {
        while AGAIN.swap(false, Ordering::AcqRel) {
            trim();
        }
        RUNNING.store(false, Ordering::Release);
        // A request that asked between the last swap and here would be lost: look again.
        if AGAIN.load(Ordering::Acquire) {
            trim_soon();
        }
    });
}

// The workspace's unsafe code is here: two FFI calls into the allocator.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim() {
    // SAFETY: malloc_trim only releases free memory of the allocator's own arenas; it takes
    // the arena locks itself and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

/// The allocation size from which glibc maps memory of its own (and unmaps it when freed).
const MMAP_THRESHOLD: usize = 1024 * 1024;

/// Makes every allocation of 1 MiB or more (request bodies and their buffers) memory of its
/// own, handed back to the system when freed, for the whole process.
///
/// glibc's default moves this threshold up to the largest block freed so far (up to 32 MiB):
/// after one big request body, later ones are carved from the arenas, which keep the pages
/// (the start_sessions test measured +16 to +24 MiB after five 4 MB bodies; +0.8 MiB with a
/// fixed threshold). Smaller allocations are unchanged. A process-wide setting, so it is the
/// application's to make: `sunpeak start` does; an embedder may. Nothing on other platforms.
pub fn tune_allocator() {
    set_mmap_threshold(MMAP_THRESHOLD);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn set_mmap_threshold(bytes: usize) {
    let bytes = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt changes a tuning parameter of the allocator; it takes the allocator's
    // lock itself and is safe to call from any thread at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, bytes);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_mmap_threshold(_: usize) {}
