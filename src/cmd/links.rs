//! `riskgrade links`: the links table of the whole book (S3.2(1), S3.2(3), S3.4(1), S3.4(3),
//! S3.4(4)), for `assess --links` on one bucket of it (docs/scale-out.md). Its first row says
//! what it was computed from (the as-of date, the look-back window, the book's customers), so a
//! run refuses a table of another book or date. Written atomically: a temporary file beside
//! `--out`, renamed when complete; an existing `--out` is replaced only if riskgrade wrote it
//! as a links table.

use super::book::{Book, Opening};
use crate::cli::LinksArgs;
use crate::error::{Error, Result};
use crate::features;
use crate::guard::{FileKind, Guard, LINKS_KEY, LINKS_VALUE};
use crate::io;
use crate::progress::Progress;

/// Runs the command.
pub fn run(args: &LinksArgs, progress: &Progress) -> Result<()> {
    let inp = &args.inputs;
    let model = super::model_from(inp.model.as_deref())?;
    let mut guard = Guard::new();
    guard.input("--data", &inp.data);
    for (flag, p) in [("--model", &inp.model), ("--reference", &inp.reference)] {
        if let Some(p) = p {
            guard.input(flag, p);
        }
    }
    let out = guard.file("--out", &args.out, FileKind::Links)?;
    let book = Book::open(
        Opening {
            data: &inp.data,
            reference: inp.reference.as_deref(),
            as_of: args.as_of,
            checks_in_pass: false,
        },
        model,
        progress,
    )?;
    let mut table = features::links(&book.inputs, book.ctx(None, None))?;
    let dir = out
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let tmp = tempfile::Builder::new()
        .prefix(".riskgrade-links-")
        .tempfile_in(&dir)
        .map_err(|e| Error::Env(format!("--out {}: {e}", args.out.display())))?;
    io::write_parquet_with(
        &mut table,
        tmp.path(),
        &[(LINKS_KEY, LINKS_VALUE.to_string())],
    )?;
    tmp.persist(&out)
        .map_err(|e| Error::Env(format!("--out {}: {}", args.out.display(), e.error)))?;
    crate::outln!(
        "{} shared keys (as of {}, look-back {} months) in {}",
        table.height() - 1,
        book.as_of,
        book.model.params.lookback_months,
        args.out.display()
    );
    Ok(())
}
