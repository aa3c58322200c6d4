//! Progress of long steps on standard error: one line per stage with its wall time, and a
//! running count redrawn in place when standard error is a terminal. Never prints customer data.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Reports stages of a command.
#[derive(Debug)]
pub struct Progress {
    quiet: bool,
    tty: bool,
}

impl Progress {
    /// A reporter; `quiet` silences it.
    pub fn new(quiet: bool) -> Self {
        Progress {
            quiet,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// Starts a counted task of `total` units.
    pub fn task(&self, label: &str, total: u64) -> Task<'_> {
        Task {
            p: self,
            label: label.to_string(),
            total,
            done: AtomicU64::new(0),
            start: Instant::now(),
        }
    }

    /// Prints a warning line, quiet or not: warnings are not progress.
    pub fn warn(&self, msg: &str) {
        eprintln!("warning: {msg}");
    }

    /// Prints one line (unless quiet).
    pub fn line(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }
}

/// A counted task.
#[derive(Debug)]
pub struct Task<'a> {
    p: &'a Progress,
    label: String,
    total: u64,
    done: AtomicU64,
    start: Instant,
}

impl Task<'_> {
    /// Adds `n` finished units.
    pub fn advance(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if self.p.tty && !self.p.quiet {
            let pct = (done * 100).checked_div(self.total).unwrap_or(100);
            eprint!("\r{}: {done}/{} ({pct}%)", self.label, self.total);
            let _ = std::io::stderr().flush();
        }
    }

    /// Ends the task with its wall time.
    pub fn done(&self) {
        if !self.p.quiet {
            if self.p.tty {
                eprint!("\r");
            }
            eprintln!(
                "{}: {} done in {:.1}s",
                self.label,
                self.done.load(Ordering::Relaxed),
                self.start.elapsed().as_secs_f64()
            );
        }
    }
}
