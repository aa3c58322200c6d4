//! Writing to the terminal: results to standard output, progress and warnings to standard
//! error. A closed pipe (`riskgrade verify --run R | head -1`) or a closed terminal never stops
//! a command or changes its exit code: what cannot be written is dropped.

use std::io::Write;

/// Writes `text` to standard output as it is.
pub fn print(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes()).and_then(|()| o.flush());
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
