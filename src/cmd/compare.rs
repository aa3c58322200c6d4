//! `riskgrade compare`: candidate models against the baseline over the whole book.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use serde_json::json;

use super::book::{Book as OpenBook, Opening};
use super::Source;
use crate::catalog;
use crate::cli::CompareArgs;
use crate::compare::{self, Book};
use crate::dates;
use crate::error::{Error, Result};
use crate::features::{self, FeaturesSource};
use crate::guard::Guard;
use crate::inputs::Inputs;
use crate::model::Model;
use crate::progress::Progress;
use crate::review;
use crate::run_folder::{
    self, Compared, FileHash, FolderKind, Manifest, Record, RunFolder, CHANGED,
};

/// Runs the command; returns the one-screen summary.
pub fn run(args: &CompareArgs, progress: &Progress) -> Result<String> {
    let started = dates::now_rfc3339();
    let mut baseline = Model::load(&args.baseline)?;
    let mut candidates = compare::load_candidates(
        &args.candidate,
        args.candidates.as_deref(),
        args.grid.as_deref(),
        &baseline,
    )?;
    let grade_map = parse_grade_map(&args.grade_map)?;
    let mut guard = Guard::new();
    guard.input("--baseline", &args.baseline);
    for c in &args.candidate {
        guard.input("--candidate", c);
    }
    for (flag, p) in [
        ("--candidates", &args.candidates),
        ("--grid", &args.grid),
        ("--data", &args.data),
        ("--reference", &args.reference),
    ] {
        if let Some(p) = p {
            guard.input(flag, p);
        }
    }
    if let Some(f) = &args.features {
        guard.input("--features", f.parent().unwrap_or(Path::new(".")));
    }
    let out = guard.folder("--out", &args.out, FolderKind::Compare)?;
    let (features, as_of, source, inputs) = features_of(args, &baseline, progress)?;
    // Every model graded as of the features' date, with the texts in force then and its
    // branch-level adjustments placed.
    let (ref_src, _builtin) = super::reference_from(args.reference.as_deref())?;
    let branches = crate::reference::Reference::load(&ref_src.value, as_of)?.branches;
    let ids: Vec<String> = branches.iter().map(|b| b.0.clone()).collect();
    for m in std::iter::once(&mut baseline).chain(candidates.iter_mut().map(|c| &mut c.model)) {
        m.set_as_of(as_of);
        m.check_branches(&ids)?;
        m.place_overlays(&branches)?;
    }
    progress.line(&format!(
        "comparing {} candidates with {} {} as of {as_of}",
        candidates.len(),
        baseline.meta.id,
        baseline.meta.version
    ));
    let staged = out.stage()?;
    let changed_dir = staged.path(CHANGED);
    let lists = args.changed_lists == "all";
    if lists {
        crate::io::create_private_dir(&changed_dir)?;
    }
    let book = Book {
        baseline: &baseline,
        candidates: &candidates,
        as_of,
    };
    let task = progress.task("candidates", candidates.len() as u64);
    let result = compare::compare(&book, features, &grade_map, |g| {
        if lists {
            compare::write_changed(&g, &changed_dir)?;
        }
        task.advance(1);
        Ok(())
    })?;
    task.done();
    let lang = crate::report::lang::Lang::choose(args.lang, baseline.meta.language.as_deref());
    compare::write(&result, &staged.dir(), lang)?;
    let mut manifest = Manifest::new(
        started,
        Record::Compare(Compared {
            as_of: as_of.to_string(),
            baseline_file: args.baseline.display().to_string(),
            baseline: serde_json::to_value(&baseline)
                .map_err(|e| Error::Internal(e.to_string()))?,
            candidates: candidates
                .iter()
                .map(|c| json!({"name": c.name, "source": c.source, "model": c.model}))
                .collect(),
            features: source,
        }),
    );
    manifest.inputs = inputs;
    staged.commit(&mut manifest)?;
    Ok(compare::screen(&result))
}

/// `A=B` pairs of --grade-map.
fn parse_grade_map(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "--grade-map {p}: write CANDIDATE_GRADE=BASELINE_GRADE"
                    ))
                })
        })
        .collect()
}

/// The feature frame (with the last review and grade on file), the as-of date, where the
/// features came from, and the files read with their hashes: read from `--features` (the kept
/// features of a run, checked against the run's manifest and the baseline), or computed from
/// `--data` in ranges as `assess` does.
fn features_of(
    args: &CompareArgs,
    baseline: &Model,
    progress: &Progress,
) -> Result<(LazyFrame, NaiveDate, String, Vec<FileHash>)> {
    if let Some(f) = &args.features {
        let (lf, as_of, hash) = read_features(f, baseline, args.as_of)?;
        return Ok((lf, as_of, f.display().to_string(), vec![hash]));
    }
    let Some(data) = &args.data else {
        return Err(Error::Usage(
            "give the book: --data DIR (features computed here) or --features FILE (from assess --keep-features)".into(),
        ));
    };
    let book = OpenBook::open(
        Opening {
            data,
            reference: args.reference.as_deref(),
            as_of: args.as_of,
            checks_in_pass: true,
        },
        Source {
            value: baseline.clone(),
            name: args.baseline.display().to_string(),
        },
        progress,
    )?;
    let owners = book.owners()?;
    let (feats, txn) = features::build_partitioned(
        &book.inputs,
        book.ctx(None, owners.as_ref()),
        args.partition_rows as usize,
        progress,
        book.txn_checks.as_ref(),
    )?;
    if let Some(w) = txn.as_ref().and_then(|t| t.warning()) {
        progress.warn(&format!("{}: {} {}", w.file, w.rows, w.message));
    }
    let lf = with_last_review(
        catalog::categories_as_text(feats.lazy()),
        &book.inputs,
        book.as_of,
    )?;
    let mut hashes = Vec::new();
    for f in &book.inputs.files {
        hashes.push(FileHash::of(&f.path, &f.path.display().to_string())?);
    }
    Ok((lf, book.as_of, data.display().to_string(), hashes))
}

/// The features with the grade on file and the last review beside them, as `assess
/// --keep-features` writes them.
fn with_last_review(feats: LazyFrame, inputs: &Inputs, as_of: NaiveDate) -> Result<LazyFrame> {
    let on_file = review::on_file_now(
        feats
            .clone()
            .select([col("customer_id"), col("institution_id")]),
        inputs,
        as_of,
    )?
    .select([
        col("customer_id"),
        col("grade_on_file"),
        col("last_reviewed"),
    ]);
    Ok(feats.join(
        on_file,
        [col("customer_id")],
        [col("customer_id")],
        crate::frame::left_in_order(),
    ))
}

/// Reads the `features.parquet` of a run made with `assess --keep-features`: the run folder it
/// lies in must list it with its hash (so a file edited since is refused), it must have been
/// computed with the baseline's `[features]` settings, and `--as-of`, when given, must be its
/// as-of date. Every catalogue column must be there and every customer once.
fn read_features(
    path: &Path,
    baseline: &Model,
    as_of: Option<NaiveDate>,
) -> Result<(LazyFrame, NaiveDate, FileHash)> {
    let flag = |m: String| Error::Usage(format!("--features {}: {m}", path.display()));
    if !path.is_file() {
        return Err(flag(
            "no such file; write one with riskgrade assess --keep-features".into(),
        ));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if name != run_folder::FEATURES {
        return Err(flag(format!(
            "give the {} of a run folder written by riskgrade assess --keep-features",
            run_folder::FEATURES
        )));
    }
    let run = RunFolder::open(dir).map_err(|e| {
        flag(format!(
            "its folder is not a run it can be checked against ({e}); give the {} of a run              folder written by riskgrade assess --keep-features",
            run_folder::FEATURES
        ))
    })?;
    let checked = run.file(run_folder::FEATURES)?;
    let source = FeaturesSource::read(&checked)?.ok_or_else(|| {
        Error::Input(format!(
            "{}: does not say what it was computed with (no riskgrade metadata); write it again with riskgrade assess --keep-features",
            path.display()
        ))
    })?;
    if source.params != baseline.params {
        return Err(Error::Usage(format!(
            "--features {}: computed with [features] {} but --baseline {} has [features] {};              its grades would not be the baseline's: compute the features with the baseline              (--data) or give a baseline with the run's [features]",
            path.display(),
            serde_json::to_string(&source.params).unwrap_or_default(),
            baseline.meta.id,
            serde_json::to_string(&baseline.params).unwrap_or_default()
        )));
    }
    if let Some(d) = as_of {
        if d != source.as_of {
            return Err(flag(format!(
                "computed as of {}, not as of --as-of {d}; a feature file holds one look-back                  window: leave --as-of out, or compute the features for {d} with --data",
                source.as_of
            )));
        }
    }
    let mut lf = crate::inputs::scan_path(&checked)?;
    let schema = lf
        .collect_schema()
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    let needed = features::CARRIED
        .iter()
        .copied()
        .filter(|c| *c != "relationship_end")
        .chain(crate::catalog::CATALOG.iter().map(|f| f.name))
        .chain(["last_reviewed"]);
    for c in needed {
        if schema.get(c).is_none() {
            return Err(Error::Input(format!(
                "{}: missing column '{c}'; give the features.parquet of riskgrade assess --keep-features",
                path.display()
            )));
        }
    }
    let counts = lf
        .clone()
        .select([
            len().cast(DataType::UInt64).alias("rows"),
            col("customer_id")
                .n_unique()
                .cast(DataType::UInt64)
                .alias("ids"),
        ])
        .collect()?;
    let get = |c: &str| -> Result<u64> { Ok(counts.column(c)?.u64()?.get(0).unwrap_or(0)) };
    let (rows, ids) = (get("rows")?, get("ids")?);
    if rows != ids {
        return Err(Error::Input(format!(
            "{}: {} rows repeat a customer id; each customer is graded once (P3)",
            path.display(),
            rows - ids
        )));
    }
    let hash = FileHash::of(&checked, &checked.display().to_string())?;
    Ok((lf, source.as_of, hash))
}
