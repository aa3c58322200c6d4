//! `riskgrade merge`: the runs of every bucket of a book (`assess --bucket K/N --links FILE`)
//! combined into one run folder with the files a single `assess` of the whole book writes
//! (docs/scale-out.md). Rows are concatenated and sorted as `assess` sorts them; the
//! distribution and the counts that the merged scores give are counted again from them, the
//! others added up; `report.html` is drawn from the merged files. The manifest lists every
//! bucket's manifest (copied under `buckets/`) with its hash. Runs made with another model,
//! as-of date, reference tables, links table, horizon or riskgrade version are refused.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde_json::{json, Value};

use super::assess::{
    DISTRIBUTION, FEATURES, GRADES_NEXT, HISTORY, OUTPUTS, RECLASSIFY, RECLASSIFY_CSV, REPORT,
    SCORES, SUMMARY, TOTAL_FORMULA,
};
use crate::bucket::Bucket;
use crate::cli::MergeArgs;
use crate::dates;
use crate::error::{Error, Result};
use crate::inputs::scan_path;
use crate::io::{self, Staging, RUN_MARKER};
use crate::model::Model;
use crate::progress::Progress;
use crate::report::{self, Summary};

/// Where the bucket manifests are copied in the merged run.
const BUCKETS: &str = "buckets";

/// One bucket's run folder, as read.
struct Run {
    dir: PathBuf,
    manifest: Value,
    manifest_sha256: String,
    bucket: Option<Bucket>,
    summary: Summary,
}

fn refuse(run: &Path, what: String) -> Error {
    Error::Usage(format!(
        "--runs {}: {what}; merge the runs of one book made with one model, as-of date, \
         reference tables, links table and riskgrade version",
        run.display()
    ))
}

impl Run {
    fn open(dir: &Path) -> Result<Run> {
        let mpath = dir.join(RUN_MARKER);
        let text = std::fs::read_to_string(&mpath).map_err(|e| {
            Error::Usage(format!(
                "--runs {}: {e}; give folders written by riskgrade assess",
                mpath.display()
            ))
        })?;
        let manifest: Value = serde_json::from_str(&text)
            .map_err(|e| Error::Input(format!("{}: {e}", mpath.display())))?;
        let bucket = match &manifest["bucket"] {
            Value::Null => None,
            b => Some(Bucket {
                index: b["index"].as_u64().unwrap_or(0) as u32,
                count: b["count"].as_u64().unwrap_or(0) as u32,
            }),
        };
        let spath = dir.join(SUMMARY);
        let summary: Summary = std::fs::read_to_string(&spath)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
            .map_err(|e| Error::Input(format!("{}: {e}", spath.display())))?;
        Ok(Run {
            dir: dir.to_path_buf(),
            manifest_sha256: io::sha256_bytes(text.as_bytes()),
            manifest,
            bucket,
            summary,
        })
    }

    /// The reference tables' hashes (every input outside the data folder), by file name.
    fn reference_hashes(&self) -> Vec<(String, String)> {
        let data = self.manifest["data_folder"].as_str().unwrap_or_default();
        let mut out: Vec<(String, String)> = self.manifest["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let f = e["file"].as_str()?;
                let inside = !data.is_empty() && Path::new(f).starts_with(data);
                let name = Path::new(f.trim_start_matches("built-in:")).file_name()?;
                (!inside).then(|| {
                    (
                        name.to_string_lossy().to_string(),
                        e["sha256"].as_str().unwrap_or_default().to_string(),
                    )
                })
            })
            .collect();
        out.sort();
        out
    }
}

/// Checks that the runs are the buckets of one book, graded alike.
fn check_runs(runs: &[Run], model: &Model, model_name: &str, empty: &[u32]) -> Result<()> {
    let first = &runs[0];
    let model_json = serde_json::to_value(model).map_err(|e| Error::Internal(e.to_string()))?;
    for r in runs {
        let m = &r.manifest;
        let version = m["riskgrade_version"].as_str().unwrap_or_default();
        if version != env!("CARGO_PKG_VERSION") {
            return Err(refuse(
                &r.dir,
                format!(
                    "made by riskgrade {version}, this is {}",
                    env!("CARGO_PKG_VERSION")
                ),
            ));
        }
        if m["model"] != model_json {
            return Err(refuse(
                &r.dir,
                format!(
                    "made with model {} {}, not with --model {model_name} ({} {})",
                    m["model"]["meta"]["id"],
                    m["model"]["meta"]["version"],
                    model.meta.id,
                    model.meta.version
                ),
            ));
        }
        for (key, what) in [("as_of", "as-of date"), ("fatf_lists", "FATF lists")] {
            if m[key] != first.manifest[key] {
                return Err(refuse(
                    &r.dir,
                    format!(
                        "{what} {} differs from {} of {}",
                        m[key],
                        first.manifest[key],
                        first.dir.display()
                    ),
                ));
            }
        }
        if m["links"]["sha256"] != first.manifest["links"]["sha256"] {
            return Err(refuse(
                &r.dir,
                format!(
                    "made with links table {} (SHA-256 {}), not the one of {}",
                    m["links"]["file"],
                    m["links"]["sha256"],
                    first.dir.display()
                ),
            ));
        }
        if r.reference_hashes() != first.reference_hashes() {
            return Err(refuse(
                &r.dir,
                format!(
                    "made with other reference tables than {}",
                    first.dir.display()
                ),
            ));
        }
        if r.summary.reclassification.horizon_days != first.summary.reclassification.horizon_days {
            return Err(refuse(&r.dir, "made with another --horizon".to_string()));
        }
    }
    if runs.len() == 1 && empty.is_empty() {
        return Ok(());
    }
    // Several runs: each one bucket of the same split, made with a links table, none twice,
    // and every bucket present or declared empty.
    let count = match first.bucket {
        Some(b) => b.count,
        None => {
            return Err(refuse(
                &first.dir,
                "not a bucket run (made without --bucket K/N and --links)".into(),
            ))
        }
    };
    let mut seen = vec![false; count as usize];
    for r in runs {
        let b = r.bucket.ok_or_else(|| {
            refuse(
                &r.dir,
                "not a bucket run (made without --bucket K/N and --links)".into(),
            )
        })?;
        if b.count != count {
            return Err(refuse(
                &r.dir,
                format!(
                    "bucket {b}, but {} is a bucket of {count}",
                    first.dir.display()
                ),
            ));
        }
        if std::mem::replace(&mut seen[b.index as usize], true) {
            return Err(refuse(&r.dir, format!("bucket {b} is given twice")));
        }
    }
    for &k in empty {
        if k >= count || std::mem::replace(&mut seen[k as usize], true) {
            return Err(Error::Usage(format!(
                "--empty-buckets {k}: not a bucket of {count} without a run"
            )));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|k| !seen[*k as usize])
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "bucket(s) {} of {count} have no run; give every bucket's run (a bucket without \
             customers: --empty-buckets)",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// The runs' `file`, concatenated and sorted by `by` (stable: rows of one key keep their order).
fn concat_sorted(runs: &[Run], file: &str, by: &[&str]) -> Result<DataFrame> {
    let scans = runs
        .iter()
        .map(|r| scan_path(&r.dir.join(file)))
        .collect::<Result<Vec<_>>>()?;
    let mut df = concat(scans, UnionArgs::default())?
        .sort(
            by.to_vec(),
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    df.rechunk_mut();
    Ok(df)
}

/// Runs the command; returns the one-screen summary.
pub fn run(args: &MergeArgs, progress: &Progress) -> Result<String> {
    let started = dates::now_rfc3339();
    let src = super::model_from(args.model.as_deref())?;
    let model = src.value;
    let out = io::resolve_out(&args.out)?;
    for r in &args.runs {
        io::check_run_dest(&out, r)?;
    }
    let runs = args
        .runs
        .iter()
        .map(|d| Run::open(d))
        .collect::<Result<Vec<_>>>()?;
    check_runs(&runs, &model, &src.name, &args.empty_buckets)?;
    progress.line(&format!("merging {} runs", runs.len()));
    let staging = Staging::new(&out)?;
    let scores = concat_sorted(&runs, SCORES, &["customer_id"])?;
    let mut reclassify = concat_sorted(&runs, RECLASSIFY, &["due_date", "customer_id"])?;
    let dist = report::distribution(&scores, &model)?;
    let parts: Vec<Summary> = runs.iter().map(|r| r.summary.clone()).collect();
    let summary = report::merged_summary(&scores, &dist, &model, &parts)?;
    io::write_parquet(&mut scores.clone(), &staging.path(SCORES))?;
    io::write_csv(&mut dist.clone(), &staging.path(DISTRIBUTION))?;
    let summary_json =
        serde_json::to_value(&summary).map_err(|e| Error::Internal(e.to_string()))?;
    io::write_json(&summary_json, &staging.path(SUMMARY))?;
    io::write_parquet(&mut reclassify, &staging.path(RECLASSIFY))?;
    io::write_csv(&mut reclassify, &staging.path(RECLASSIFY_CSV))?;
    let mut next = concat_sorted(&runs, GRADES_NEXT, &["customer_id"])?;
    io::write_parquet(&mut next, &staging.path(GRADES_NEXT))?;
    let mut history = concat_sorted(&runs, HISTORY, &["customer_id", "graded_on"])?;
    io::write_parquet(&mut history, &staging.path(HISTORY))?;
    let agg = report::html::Aggregates::of(&scores, &reclassify, &model)?;
    let page = report::html::render(&summary, &model, &agg)?;
    std::fs::write(staging.path(REPORT), &page)
        .map_err(|e| Error::Env(format!("writing {REPORT}: {e}")))?;
    let kept = runs.iter().all(|r| r.dir.join(FEATURES).is_file());
    if kept {
        let mut f = concat_sorted(&runs, FEATURES, &["customer_id"])?;
        io::write_parquet(&mut f, &staging.path(FEATURES))?;
    }
    // Every bucket's manifest, copied, and the merged manifest naming them.
    std::fs::create_dir(staging.path(BUCKETS))
        .map_err(|e| Error::Env(format!("creating {BUCKETS}: {e}")))?;
    let mut merged_from = Vec::new();
    let mut copies = Vec::new();
    for r in &runs {
        let name = match r.bucket {
            Some(b) => format!("{BUCKETS}/bucket-{:05}-of-{:05}.json", b.index, b.count),
            None => format!("{BUCKETS}/run.json"),
        };
        std::fs::copy(r.dir.join(RUN_MARKER), staging.path(&name))
            .map_err(|e| Error::Env(format!("copying {}: {e}", r.dir.display())))?;
        merged_from.push(json!({
            "run": std::fs::canonicalize(&r.dir).unwrap_or_else(|_| r.dir.clone()).display().to_string(),
            "bucket": r.manifest["bucket"],
            "manifest": name,
            "sha256": r.manifest_sha256,
        }));
        copies.push(name);
    }
    let mut outputs = Vec::new();
    let features = kept.then_some(FEATURES);
    for f in OUTPUTS.into_iter().chain(features) {
        outputs.push(json!({"file": f, "sha256": io::sha256_file(&staging.path(f))?}));
    }
    for f in &copies {
        outputs.push(json!({"file": f, "sha256": io::sha256_file(&staging.path(f))?}));
    }
    let first = &runs[0].manifest;
    let manifest = json!({
        "riskgrade_version": env!("CARGO_PKG_VERSION"),
        "as_of": first["as_of"],
        "started": started,
        "finished": dates::now_rfc3339(),
        "model_file": src.name,
        "model": first["model"],
        "fatf_lists": first["fatf_lists"],
        "merged_from": {
            "buckets": runs[0].bucket.map_or(1, |b| b.count),
            "empty_buckets": args.empty_buckets,
            "runs": merged_from,
        },
        // The table each bucket read lies where its task ran: its hash and size are kept.
        "links": match &first["links"] {
            Value::Null => Value::Null,
            l => json!({"sha256": l["sha256"], "keys": l["keys"]}),
        },
        "inputs": [],
        "outputs": outputs,
        "reference_folder": first["reference_folder"],
        "total_formula": TOTAL_FORMULA,
    });
    io::write_json(&manifest, &staging.path(RUN_MARKER))?;
    staging.commit_replace()?;
    Ok(report::screen(&summary, &model))
}
