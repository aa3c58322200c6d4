//! Memory settings of the process, shared by the binaries: how the global allocator (mimalloc)
//! and the kernel hand memory to Polars.

// Links mimalloc, whose C library defines the function declared below.
extern crate mimalloc;

use std::ffi::{c_int, c_long};

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
}

/// `mi_option_purge_delay` in mimalloc.h.
const MI_OPTION_PURGE_DELAY: c_int = 15;

/// Call once at the start of `main`, before any large allocation.
///
/// - Freed memory stays in the allocator for reuse instead of going back to the OS 10 ms after
///   it is freed. Polars frees and reallocates large buffers throughout a query; returning them
///   made the kernel fault in and zero every page again on its next use (features at 1M
///   customers: 210,000 page faults and 4.7 s of system time, against 20,000 and 1.7 s).
/// - Transparent huge pages are turned off for this process: on a machine whose memory is
///   fragmented (a full page cache), faulting in a huge page can stall in the kernel's
///   compaction; the same bare scan took 1.2 to 5.3 s with them and 1.6 to 2.0 s without.
pub fn tune_memory() {
    // SAFETY: sets an integer option; mimalloc reads options atomically.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    #[cfg(target_os = "linux")]
    // SAFETY: a process attribute; no memory is touched. A failure leaves the default.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
