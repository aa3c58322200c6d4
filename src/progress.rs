//! Progress of long steps on standard error: a progress bar (indicatif) for counted tasks when
//! standard error is a terminal, plain lines otherwise, nothing with `--quiet`; warnings always.
//! Never prints customer data.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

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
        let bar = (self.tty && !self.quiet).then(|| {
            let b = ProgressBar::new(total);
            b.set_style(
                ProgressStyle::with_template("{msg}: [{bar:40}] {pos}/{len} {elapsed} (ETA {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b.set_message(label.to_string());
            b
        });
        Task {
            p: self,
            label: label.to_string(),
            total,
            bar,
            done: AtomicU64::new(0),
            start: Instant::now(),
        }
    }

    /// Prints a warning line, quiet or not: warnings are not progress.
    pub fn warn(&self, msg: &str) {
        crate::errln!("warning: {msg}");
    }

    /// Prints one line (unless quiet).
    pub fn line(&self, msg: &str) {
        if !self.quiet {
            crate::errln!("{msg}");
        }
    }
}

/// A counted task.
#[derive(Debug)]
pub struct Task<'a> {
    p: &'a Progress,
    label: String,
    total: u64,
    bar: Option<ProgressBar>,
    done: AtomicU64,
    start: Instant,
}

impl Task<'_> {
    /// Adds `n` finished units: the bar moves on a terminal; otherwise a line is printed for
    /// each tenth of the work when the task has few units (ranges, candidates).
    pub fn advance(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        match &self.bar {
            Some(b) => b.set_position(done),
            None if !self.p.quiet && self.total <= 1000 => {
                let step = self.total.div_ceil(10).max(1);
                if done % step == 0 && done < self.total {
                    crate::errln!("{}: {done}/{}", self.label, self.total);
                }
            }
            None => {}
        }
    }

    /// Ends the task with its wall time.
    pub fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        if !self.p.quiet {
            crate::errln!(
                "{}: {} done in {:.1}s",
                self.label,
                self.done.load(Ordering::Relaxed),
                self.start.elapsed().as_secs_f64()
            );
        }
    }
}
