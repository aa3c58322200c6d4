//! `riskgrade compare`: candidate models against the baseline over the whole book.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use serde_json::json;

use crate::catalog;
use crate::cli::CompareArgs;
use crate::compare::{self, Book};
use crate::dates;
use crate::error::{Error, Result};
use crate::features::{self, Ctx};
use crate::inputs::{self, Inputs};
use crate::io::{self, Staging};
use crate::model::Model;
use crate::progress::Progress;
use crate::reference::Reference;
use crate::{review, validate};

/// The comparison's output files (beside `changed/`).
pub const OUTPUTS: [&str; 2] = ["compare.json", "compare.csv"];

/// Runs the command; returns the one-screen summary.
pub fn run(args: &CompareArgs, progress: &Progress) -> Result<String> {
    let started = dates::now_rfc3339();
    let baseline = Model::load(&args.baseline)?;
    let candidates = compare::load_candidates(
        &args.candidate,
        args.candidates.as_deref(),
        args.grid.as_deref(),
        &baseline,
    )?;
    let grade_map = parse_grade_map(&args.grade_map)?;
    let out = io::resolve_out(&args.out)?;
    io::check_replaceable(&out)?;
    let (features, as_of, source) = features_of(args, &baseline, progress)?;
    progress.line(&format!(
        "comparing {} candidates with {} {} as of {as_of}",
        candidates.len(),
        baseline.meta.id,
        baseline.meta.version
    ));
    let staging = Staging::new(&out)?;
    let changed_dir = staging.path("changed");
    let lists = args.changed_lists == "all";
    if lists {
        std::fs::create_dir(&changed_dir)
            .map_err(|e| Error::Env(format!("creating {}: {e}", changed_dir.display())))?;
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
    compare::write(&result, staging.path("").as_path())?;
    let mut outputs = Vec::new();
    for f in OUTPUTS {
        outputs.push(json!({"file": f, "sha256": io::sha256_file(&staging.path(f))?}));
    }
    if lists {
        for c in &candidates {
            let f = format!("changed/{}.parquet", c.name);
            outputs.push(json!({"file": f, "sha256": io::sha256_file(&staging.path(&f))?}));
        }
    }
    let manifest = json!({
        "riskgrade_version": env!("CARGO_PKG_VERSION"),
        "command": "compare",
        "as_of": as_of.to_string(),
        "started": started,
        "finished": dates::now_rfc3339(),
        "baseline_file": args.baseline.display().to_string(),
        "baseline": baseline,
        "candidates": candidates.iter().map(|c| json!({"name": c.name, "source": c.source, "model": c.model})).collect::<Vec<_>>(),
        "features": source,
        "inputs": [],
        "outputs": outputs,
    });
    io::write_json(&manifest, &staging.path(io::RUN_MARKER))?;
    staging.commit_replace()?;
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

/// The feature frame (with the last review and grade on file) and the as-of date: read from
/// `--features`, or computed from `--data` in ranges as `assess` does.
fn features_of(
    args: &CompareArgs,
    baseline: &Model,
    progress: &Progress,
) -> Result<(LazyFrame, NaiveDate, String)> {
    if let Some(f) = &args.features {
        let as_of = match args.as_of {
            Some(d) => d,
            None => as_of_of_run(f)?,
        };
        return Ok((read_features(f)?, as_of, f.display().to_string()));
    }
    let Some(data) = &args.data else {
        return Err(Error::Usage(
            "give the book: --data DIR (features computed here) or --features FILE (from assess --keep-features)".into(),
        ));
    };
    let as_of = args.as_of.unwrap_or_else(dates::today);
    let inputs = Inputs::open(data)?;
    let (counts, checks) =
        validate::validate_inputs_in_pass(&inputs, as_of, &baseline.grade_names())?;
    for w in &counts.warnings {
        progress.warn(&format!("{}: {} {}", w.file, w.rows, w.message));
    }
    let (ref_src, _builtin) = super::reference_from(args.reference.as_deref())?;
    let reference = Reference::load(&ref_src.value, as_of)?;
    let ids: Vec<String> = reference.branches.iter().map(|b| b.0.clone()).collect();
    baseline.check_branches(&ids)?;
    validate::branches_known(&inputs, &ids)?;
    let ctx = Ctx {
        params: &baseline.params,
        reference: &reference,
        as_of,
        links: None,
    };
    let (feats, txn) = features::build_partitioned(
        &inputs,
        ctx,
        args.partition_rows as usize,
        progress,
        checks.as_ref(),
    )?;
    if let Some(w) = txn.as_ref().and_then(|t| t.warning()) {
        progress.warn(&format!("{}: {} {}", w.file, w.rows, w.message));
    }
    let lf = with_last_review(catalog::categories_as_text(feats.lazy()), &inputs, as_of)?;
    Ok((lf, as_of, data.display().to_string()))
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
        crate::reference::left_in_order(),
    ))
}

/// Reads a features.parquet written by `assess --keep-features`, checking it holds the
/// columns the comparison reads.
fn read_features(path: &Path) -> Result<LazyFrame> {
    if !path.is_file() {
        return Err(Error::Usage(format!(
            "--features {}: no such file; write one with riskgrade assess --keep-features",
            path.display()
        )));
    }
    let mut lf = inputs::scan_path(path)?;
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
    Ok(lf)
}

/// The as-of date of the run a features file belongs to (its manifest), or an error asking
/// for --as-of.
fn as_of_of_run(features: &Path) -> Result<NaiveDate> {
    let manifest = features
        .parent()
        .unwrap_or(Path::new("."))
        .join(io::RUN_MARKER);
    std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["as_of"].as_str().map(String::from))
        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
        .ok_or_else(|| {
            Error::Usage(format!(
                "--features {}: no run manifest beside it names the as-of date; give --as-of",
                features.display()
            ))
        })
}
