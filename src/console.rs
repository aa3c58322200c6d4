//! Writing to the terminal: results to standard output, progress and warnings to standard
//! error. A closed pipe (`riskgrade verify --run R | head -1`) or a closed terminal never stops
//! a command or changes its exit code: what cannot be written is dropped. Any other failure to
//! write the results (a full disk behind `> file`) is kept and ends the command with exit 5.

use std::io::Write;
use std::sync::Mutex;

/// The first failure to write standard output other than a closed pipe.
static FAILED: Mutex<Option<String>> = Mutex::new(None);

/// Writes `text` to standard output as it is.
pub fn print(text: &str) {
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_all(text.as_bytes()).and_then(|()| o.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            let mut f = FAILED.lock().unwrap_or_else(|p| p.into_inner());
            f.get_or_insert_with(|| format!("writing standard output: {e}"));
        }
    }
}

/// The first failure to write standard output that was not a closed pipe, if any.
pub fn failure() -> Option<String> {
    FAILED.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Writes `line` and a line break to standard output.
pub fn say(line: &str) {
    print(&format!("{line}\n"));
}

/// Writes `line` and a line break to standard error.
pub fn tell(line: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(format!("{line}\n").as_bytes());
}

/// `println!` that drops what a closed standard output cannot take (see [`say`]).
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => { $crate::console::say(&format!($($t)*)) };
}

/// `print!` that drops what a closed standard output cannot take (see [`print`]).
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::console::print(&format!($($t)*)) };
}

/// `eprintln!` that drops what a closed standard error cannot take (see [`tell`]).
#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => { $crate::console::tell(&format!($($t)*)) };
}
