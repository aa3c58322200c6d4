//! Errors and exit codes. Every user-facing failure is one of these kinds; the message
//! names the file, column, row or setting at fault and says what would be valid.

use std::fmt;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: an internal failure (a bug or an I/O failure outside the inputs).
pub const EXIT_INTERNAL: i32 = 1;
/// Exit code: bad command-line usage or an invalid risk model file.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: the input data breaks the data contract.
pub const EXIT_INPUT: i32 = 3;
/// Exit code: `verify` found files changed since the run.
pub const EXIT_CHANGED: i32 = 4;
/// Exit code: the environment failed the run: an output location that cannot be written (a
/// read-only file system, no permission, `/proc`), a full disk.
pub const EXIT_ENV: i32 = 5;

/// A failure of a riskgrade command.
#[derive(Debug)]
pub enum Error {
    /// Bad command-line usage (exit 2).
    Usage(String),
    /// The risk model file is unreadable or invalid (exit 2).
    Model(String),
    /// An input file breaks the data contract (exit 3).
    Input(String),
    /// The environment failed the run: output not writable, disk full (exit 5).
    Env(String),
    /// Anything else (exit 1).
    Internal(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Model(_) => EXIT_USAGE,
            Error::Input(_) => EXIT_INPUT,
            Error::Env(_) => EXIT_ENV,
            Error::Internal(_) => EXIT_INTERNAL,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) => write!(f, "usage error: {m}"),
            Error::Model(m) => write!(f, "model error: {m}"),
            Error::Input(m) => write!(f, "input error: {m}"),
            Error::Env(m) => write!(f, "environment error: {m}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<polars::error::PolarsError> for Error {
    fn from(e: polars::error::PolarsError) -> Self {
        Error::Internal(e.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Internal(e.to_string())
    }
}

/// Result alias for riskgrade operations.
pub type Result<T> = std::result::Result<T, Error>;

/// Adds the file (or setting) a polars/io failure happened in, classifying it.
pub trait Context<T> {
    /// Maps the error to an input-data error naming `what`.
    fn input_ctx(self, what: &str) -> Result<T>;
    /// Maps the error to an internal error naming `what`.
    fn internal_ctx(self, what: &str) -> Result<T>;
    /// Maps the error to an environment error naming `what` (a path that cannot be written).
    fn env_ctx(self, what: &str) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn input_ctx(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::Input(format!("{what}: {e}")))
    }
    fn internal_ctx(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::Internal(format!("{what}: {e}")))
    }
    fn env_ctx(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::Env(format!("{what}: {e}")))
    }
}
