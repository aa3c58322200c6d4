//! `riskgrade owners`: the beneficial-owners table of the whole book from its ownership graph
//! (L-BOI6, S1.5, XH3), for `assess --owners` on one bucket of it (docs/scale-out.md): an
//! entity of one bucket may be owned through entities of others, so the graph is solved once.
//! Its Parquet metadata says what it was computed from (the as-of date, the threshold, the
//! book's customers), so a run refuses a table of another book, date or model. Written
//! atomically; an existing `--out` is replaced only if riskgrade wrote it as such a table.

use super::book::{Book, Opening};
use crate::cli::OwnersArgs;
use crate::error::{Error, Result};
use crate::guard::{FileKind, Guard};
use crate::io;
use crate::owners::OwnersSource;
use crate::progress::Progress;

/// Runs the command.
pub fn run(args: &OwnersArgs, progress: &Progress) -> Result<()> {
    let inp = &args.inputs;
    let model = super::model_from(inp.model.as_deref())?;
    let mut guard = Guard::new();
    guard.input("--data", &inp.data);
    for (flag, p) in [("--model", &inp.model), ("--reference", &inp.reference)] {
        if let Some(p) = p {
            guard.input(flag, p);
        }
    }
    let out = guard.file("--out", &args.out, FileKind::Owners)?;
    crate::alloc::return_freed_memory();
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
    // The book's customer set is read before the graph is built, and what the checks of the
    // whole book freed goes back: the graph's stage holds only its own data.
    let source = OwnersSource {
        as_of: book.as_of,
        threshold: book.model.params.beneficial_owner_share,
        book: crate::bucket::CustomerSet::of_inputs(&book.inputs)?,
        graph_sha256: graph_sha256(&book.inputs)?,
    };
    crate::alloc::release_freed_memory();
    let Some(mut table) = book.owners()? else {
        return Err(Error::Input(format!(
            "--data {}: no ownership.parquet; the table is made from the book's ownership graph (docs/data-contract.md)",
            inp.data.display()
        )));
    };
    let dir = out
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let tmp = tempfile::Builder::new()
        .prefix(".riskgrade-owners-")
        .tempfile_in(&dir)
        .map_err(|e| Error::Env(format!("--out {}: {e}", args.out.display())))?;
    io::write_parquet_with(&mut table, tmp.path(), &source.metadata())?;
    tmp.persist(&out)
        .map_err(|e| Error::Env(format!("--out {}: {}", args.out.display(), e.error)))?;
    let entities = table
        .column("customer_id")?
        .as_materialized_series()
        .n_unique()?;
    crate::outln!(
        "{} rows for {entities} entity customers (as of {}, threshold {}) in {}",
        table.height(),
        book.as_of,
        source.threshold,
        args.out.display()
    );
    Ok(())
}

/// SHA-256 of the book's graph files (see [`crate::owners::OwnersSource::graph_sha256`]); `None` without
/// `ownership.parquet`.
pub fn graph_sha256(inputs: &crate::inputs::Inputs) -> Result<Option<String>> {
    let dir = &inputs.dir;
    let own = dir.join(crate::contract::OWNERSHIP.file);
    if !own.is_file() {
        return Ok(None);
    }
    let mut text = crate::io::sha256_file(&own)?;
    let persons = dir.join(crate::contract::PERSONS.file);
    if persons.is_file() {
        text += &crate::io::sha256_file(&persons)?;
    }
    Ok(Some(crate::io::sha256_bytes(text.as_bytes())))
}
