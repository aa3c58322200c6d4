//! `riskgrade links`: the links table of the whole book (S3.2(1), S3.2(3), S3.4(1), S3.4(3),
//! S3.4(4)), for `assess --links` on one bucket of it (docs/scale-out.md). Written atomically:
//! a temporary file beside `--out`, renamed when complete.

use crate::cli::LinksArgs;
use crate::error::{Error, Result};
use crate::features::{self, Ctx};
use crate::inputs::Inputs;
use crate::io;
use crate::progress::Progress;
use crate::reference::Reference;
use crate::validate::validate_inputs;

/// Runs the command.
pub fn run(args: &LinksArgs, progress: &Progress) -> Result<()> {
    let inp = &args.inputs;
    let as_of = args.as_of.unwrap_or_else(crate::dates::today);
    let model = super::model_from(inp.model.as_deref())?.value;
    let inputs = Inputs::open(&inp.data)?;
    let counts = validate_inputs(&inputs, as_of, &model.grade_names())?;
    for w in &counts.warnings {
        progress.warn(&format!("{}: {} {}", w.file, w.rows, w.message));
    }
    let (ref_src, _builtin) = super::reference_from(inp.reference.as_deref())?;
    let reference = Reference::load(&ref_src.value, as_of)?;
    let ctx = Ctx {
        params: &model.params,
        reference: &reference,
        as_of,
        links: None,
    };
    let mut table = features::links(&inputs, ctx)?;
    let dir = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".riskgrade-links-")
        .tempfile_in(&dir)
        .map_err(|e| Error::Env(format!("--out {}: {e}", args.out.display())))?;
    io::write_parquet(&mut table, tmp.path())?;
    tmp.persist(&args.out)
        .map_err(|e| Error::Env(format!("--out {}: {}", args.out.display(), e.error)))?;
    println!(
        "{} shared keys (as of {as_of}, look-back {} months) in {}",
        table.height(),
        model.params.lookback_months,
        args.out.display()
    );
    Ok(())
}
