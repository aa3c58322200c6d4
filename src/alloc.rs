//! Memory settings of the process, shared by the binaries: how the global allocator (mimalloc)
//! and the kernel hand memory to Polars.

// Links mimalloc, whose C library defines the functions declared below.
extern crate mimalloc;

use std::ffi::{c_int, c_long};
use std::sync::atomic::{AtomicBool, Ordering};

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    fn mi_collect(force: bool);
}

/// `mi_option_purge_delay` in mimalloc.h: milliseconds before freed memory goes back to the
/// OS; -1 never.
const MI_OPTION_PURGE_DELAY: c_int = 15;
/// Purge delay while a run keeps its freed memory: a day, so freed memory is held for reuse
/// within a stage. Not -1: mimalloc (v3) schedules freed memory for its return only when the
/// delay is positive, and returns only what was scheduled, even when asked to at once
/// ([`release_freed_memory`]). With -1, what a stage freed was never returned (10M customers:
/// 6.7 GiB resident after scoring, against 3.9–4.2 GiB).
const HOLD_PURGE_DELAY_MS: c_long = 86_400_000;
/// Purge delay once freed memory goes back to the OS: a buffer freed and reused within a
/// second stays. mimalloc's own default (10 ms) returned buffers between the steps of one
/// stage, and the kernel faulted in and zeroed them again: at 10M customers the stages after
/// the features took 38-39 s with 10 ms, 30.1 s with 1 s (peak +0.4 GiB) and 29.0 s with 5 s
/// (peak +1.6 GiB).
const RETURN_PURGE_DELAY_MS: c_long = 1_000;
/// Above this share of the machine's memory in use, freed memory goes back to the OS.
const KEEP_BELOW_SHARE: f64 = 0.25;

static RETURNING: AtomicBool = AtomicBool::new(false);

/// Call once at the start of `main`, before any large allocation.
///
/// - Freed memory stays in the allocator for reuse instead of going back to the OS 10 ms after
///   it is freed. Polars frees and reallocates large buffers throughout a query; returning them
///   made the kernel fault in and zero every page again on its next use (assess at 1M
///   customers: 14.8 s with 9 s of system time, against 10.5 s and 2.3 s).
/// - Transparent huge pages are turned off for this process: on a machine whose memory is
///   fragmented (a full page cache), faulting in a huge page can stall in the kernel's
///   compaction; the same bare scan took 1.2 to 5.3 s with them and 1.6 to 2.0 s without.
pub fn tune_memory() {
    // SAFETY: sets an integer option; mimalloc reads options atomically.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, HOLD_PURGE_DELAY_MS) };
    #[cfg(target_os = "linux")]
    // SAFETY: a process attribute; no memory is touched. A failure leaves the default.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Call between the stages of a long job. Once the process has used more than a quarter of
/// the machine's memory, returns the memory freed so far to the OS, and freed memory keeps
/// going back (a purge delay of a second, which mimalloc multiplies by ten for its arenas) for
/// the rest of the run, so that buffers freed by one stage are not held beside the next
/// stage's (at 10M customers: peak 10.4 GB instead of 15.7 GB). Below that, freed memory stays
/// for reuse.
pub fn release_freed_memory() {
    let large = match physical_memory_bytes() {
        Some(total) => usage().1 as f64 > KEEP_BELOW_SHARE * total as f64,
        None => true,
    };
    if large {
        RETURNING.store(true, Ordering::Relaxed);
    }
    if !RETURNING.load(Ordering::Relaxed) {
        return;
    }
    // A forced collection returns every free range at once, before its delay.
    // SAFETY: an option setting and a collection of free memory; no live allocation is touched.
    unsafe {
        mi_option_set(MI_OPTION_PURGE_DELAY, RETURN_PURGE_DELAY_MS);
        mi_collect(true);
    }
}

/// Purge delay of [`return_freed_memory`] until the next [`release_freed_memory`]: `riskgrade
/// owners` on 10M customers (1M entities) peaked at 1.77–2.07 GiB in 8.5–9.7 s with 1 s (twelve
/// runs), 1.73–2.03 GiB in 8.7–10.0 s with 100 ms (eight runs), and took 10.4–10.9 s with 0.
const SHORT_PURGE_DELAY_MS: c_long = 100;

/// Call at the start of a short command whose stages each hold less than the one before freed:
/// freed memory goes back to the OS soon after it is freed, on every thread (100 ms until the
/// next [`release_freed_memory`], a second after it).
pub fn return_freed_memory() {
    RETURNING.store(true, Ordering::Relaxed);
    // SAFETY: sets an integer option; mimalloc reads options atomically.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, SHORT_PURGE_DELAY_MS) };
}

/// CPU time (user and system, seconds) and peak resident memory (bytes) of the process so far.
pub fn usage() -> (f64, u64) {
    // SAFETY: getrusage only writes into the zeroed struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    // Linux reports the peak in kilobytes.
    (
        secs(ru.ru_utime) + secs(ru.ru_stime),
        ru.ru_maxrss as u64 * 1024,
    )
}

fn physical_memory_bytes() -> Option<u64> {
    // SAFETY: sysconf reads system constants.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages > 0 && size > 0).then(|| pages as u64 * size as u64)
}
