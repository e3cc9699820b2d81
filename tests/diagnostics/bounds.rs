//! Bounded work without timing assertions: a counting allocator measures
//! the peak memory one thread uses for one input, and a watchdog that only
//! catches a hang (a generous limit, never a speed check).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

/// The system allocator, counting live bytes per thread.
pub struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(delta);
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

fn signed(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are
// const-initialised thread locals without destructors, so touching them
// never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(signed(layout.size()));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(signed(layout.size()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) };
        add(-signed(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            add(signed(new_size) - signed(layout.size()));
        }
        p
    }
}

/// Run `f` and return its result and the most memory (bytes, net of what
/// was live before) this thread held at any moment while it ran.
pub fn peak_memory<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let r = f();
    let peak = PEAK.with(Cell::get).saturating_sub(start);
    (r, usize::try_from(peak).unwrap_or(0))
}

/// How long one input may take before it counts as a hang: generous, for a
/// debug build on a loaded machine. Not a speed check.
pub const HANG: Duration = Duration::from_secs(300);

/// Run `f` on its own thread (the default 2 MiB stack, less than a main
/// thread's 8 MiB); a panic or a hang fails with `what` named.
pub fn watchdog<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("watched".to_string())
        .spawn(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        });
    if let Err(e) = spawned {
        panic!("{what}: cannot start a thread: {e}");
    }
    match rx.recv_timeout(HANG) {
        Ok(Ok(r)) => r,
        Ok(Err(p)) => panic!("{what}: panicked: {}", super::check::panic_text(p.as_ref())),
        Err(_) => panic!("{what}: did not finish within {HANG:?}: a hang"),
    }
}
