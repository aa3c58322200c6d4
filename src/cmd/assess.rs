//! `riskgrade assess`: the main job. Opens and validates the inputs, derives features, scores and
//! grades every customer, schedules reviews, and writes scores, reports and a manifest into
//! `--out` atomically.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use polars::prelude::*;
use serde_json::{json, Value};

use crate::bucket;
use crate::calendar::Calendar;
use crate::catalog;
use crate::cli::AssessArgs;
use crate::dates;
use crate::error::{Error, Result};
use crate::features::{self, Ctx};
use crate::inputs::Inputs;
use crate::io::{self, Staging};
use crate::model::Model;
use crate::progress::Progress;
use crate::reference::Reference;
use crate::report::{self, RunFacts, Summary};
use crate::review::{self, Review};
use crate::scoring;
use crate::validate::{self, Counts, InPass, TransactionCounts};

/// What [`grade`] returns: the scored frame, the features when kept, the inputs' hashes and
/// the transactions' counts.
type Graded = (
    DataFrame,
    Option<DataFrame>,
    Vec<Value>,
    Option<TransactionCounts>,
);

/// Output file names of a run.
pub const SCORES: &str = "scores.parquet";
/// Customers per grade.
pub const DISTRIBUTION: &str = "distribution.csv";
/// Summary counts.
pub const SUMMARY: &str = "summary.json";
/// Customers needing action (Parquet).
pub const RECLASSIFY: &str = "reclassify.parquet";
/// Customers needing action (CSV).
pub const RECLASSIFY_CSV: &str = "reclassify.csv";
/// The grade file for the next run.
pub const GRADES_NEXT: &str = "grades_next.parquet";
/// Every grading of every customer.
pub const HISTORY: &str = "grade_history.parquet";
/// The report for people.
pub const REPORT: &str = "report.html";
/// Every feature of every customer (with `--keep-features`).
pub const FEATURES: &str = "features.parquet";

/// Every output of a run but the manifest, in manifest order.
pub const OUTPUTS: [&str; 8] = [
    SCORES,
    DISTRIBUTION,
    SUMMARY,
    RECLASSIFY,
    RECLASSIFY_CSV,
    GRADES_NEXT,
    HISTORY,
    REPORT,
];

/// How the totals of `scores.parquet` are derived (in the manifest).
pub const TOTAL_FORMULA: &str = "total_score = weighted_sum / (100 * m); weighted_sum = sum over adopted sub-items of score * (weight * 100); adjusted_score = min(100, total_score * regional_coefficient)";

/// Wall time, CPU time and peak memory of one stage.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageTime {
    /// Stage name.
    pub stage: String,
    /// Wall time, seconds.
    pub wall_s: f64,
    /// CPU time (user + system, all threads), seconds.
    pub cpu_s: f64,
    /// Peak resident memory of the process at the end of the stage, MiB.
    pub peak_rss_mib: f64,
}

/// CPU seconds and peak RSS (MiB) of this process so far.
fn usage() -> (f64, f64) {
    let (cpu, peak) = crate::alloc::usage();
    (cpu, peak as f64 / (1024.0 * 1024.0))
}

/// What a finished run reports back.
#[derive(Debug)]
pub struct Outcome {
    /// The summary written to summary.json.
    pub summary: Summary,
    /// Time and memory per stage.
    pub timings: Vec<StageTime>,
    /// The one-screen summary for the terminal.
    pub screen: String,
}

struct Stages<'a> {
    progress: &'a Progress,
    times: Vec<StageTime>,
}

impl Stages<'_> {
    fn run<T>(&mut self, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let (cpu0, _) = usage();
        let t = Instant::now();
        let out = f()?;
        crate::alloc::release_freed_memory();
        let wall_s = t.elapsed().as_secs_f64();
        let (cpu1, peak_rss_mib) = usage();
        self.progress.line(&format!("{name}: {wall_s:.2}s"));
        self.times.push(StageTime {
            stage: name.to_string(),
            wall_s,
            cpu_s: cpu1 - cpu0,
            peak_rss_mib,
        });
        Ok(out)
    }

    /// The table `--timings` prints.
    fn table(&self) -> String {
        let mut s = format!(
            "{:<24} {:>9} {:>9} {:>12}\n",
            "stage", "wall s", "cpu s", "peak MiB"
        );
        for t in &self.times {
            s += &format!(
                "{:<24} {:>9.2} {:>9.2} {:>12.0}\n",
                t.stage, t.wall_s, t.cpu_s, t.peak_rss_mib
            );
        }
        let (wall, cpu) = self
            .times
            .iter()
            .fold((0.0, 0.0), |a, t| (a.0 + t.wall_s, a.1 + t.cpu_s));
        let peak = self
            .times
            .iter()
            .map(|t| t.peak_rss_mib)
            .fold(0.0, f64::max);
        s + &format!("{:<24} {wall:>9.2} {cpu:>9.2} {peak:>12.0}\n", "total")
    }
}

fn abs(p: &Path) -> String {
    p.canonicalize()
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// Everything a run reads, opened and checked before any work.
struct Job<'a> {
    args: &'a AssessArgs,
    /// How the model and the reference tables are named (path or built-in).
    model_name: String,
    reference_name: String,
    /// Keeps the built-in reference tables' folder while the run lasts.
    _builtin: Option<tempfile::TempDir>,
    as_of: NaiveDate,
    out: PathBuf,
    model: Model,
    inputs: Inputs,
    /// Row counts and warnings of the inputs; the transactions' are filled by the features.
    counts: Counts,
    /// The transactions' row checks, made as the features read them.
    txn_checks: Option<InPass>,
    reference: Reference,
    calendar: Calendar,
    /// The links table of `--links`, with its SHA-256.
    links: Option<DataFrame>,
    links_sha256: Option<String>,
}

/// Runs the job: prepare, grade, review, write.
pub fn run(args: &AssessArgs, progress: &Progress) -> Result<Outcome> {
    let started = dates::now_rfc3339();
    let mut st = Stages {
        progress,
        times: Vec::new(),
    };
    let mut job = st.run("validate inputs", || prepare(args, progress))?;
    progress.line(&format!(
        "model {} {}; as of {}; FATF lists {}",
        job.model.meta.id, job.model.meta.version, job.as_of, job.reference.fatf_version
    ));
    let (scored, kept_features, hashes, txn) = grade(&job, &mut st)?;
    if let (Some(checks), Some(txn)) = (&job.txn_checks, txn) {
        if let Some(w) = txn.warning() {
            progress.warn(&format!("{}: {} {}", w.file, w.rows, w.message));
        }
        job.counts.complete(checks, txn);
    }
    let rev = st.run("reclassification", || {
        review::review(
            scored,
            &job.inputs,
            &job.model,
            job.as_of,
            args.horizon,
            &job.calendar,
        )
    })?;
    let missing = &rev.summary.calendar.years_without_data_weekends_only;
    if !missing.is_empty() {
        progress.warn(&format!(
            "no working-day calendar data for year(s) {missing:?}; T1 due dates there count weekends only. Add the year's holidays to a calendar_*.csv in {}",
            job.reference_name
        ));
    }
    let staging = Staging::new(&job.out)?;
    let (summary, page) = st.run("reports and outputs", || {
        if let Some(f) = kept_features {
            write_features(f, &rev, &staging)?;
        }
        write_outputs(&job, rev, &staging)
    })?;
    progress.line(&format!(
        "{REPORT}: {} KB in {:.2}s",
        page.bytes.div_ceil(1024),
        page.wall_s
    ));
    let manifest = manifest(&job, &staging, hashes, &started, &st.times)?;
    io::write_json(&manifest, &staging.path(io::RUN_MARKER))?;
    staging.commit_replace()?;
    if args.timings {
        print!("{}", st.table());
    }
    Ok(Outcome {
        screen: report::screen(&summary, &job.model),
        summary,
        timings: st.times,
    })
}

/// Loads the model, checks `--out`, opens and validates the inputs, loads the reference tables
/// and checks them against the model and the customers.
fn prepare<'a>(args: &'a AssessArgs, progress: &Progress) -> Result<Job<'a>> {
    let inp = &args.inputs;
    let as_of = args.as_of.unwrap_or_else(dates::today);
    let model_src = super::model_from(inp.model.as_deref())?;
    let model = model_src.value;
    let out = io::resolve_out(&args.out)?;
    io::check_run_dest(&out, &inp.data)?;
    let inputs = Inputs::open(&inp.data)?;
    let (counts, txn_checks) =
        validate::validate_inputs_in_pass(&inputs, as_of, &model.grade_names())?;
    for w in &counts.warnings {
        progress.warn(&format!("{}: {} {}", w.file, w.rows, w.message));
    }
    let (ref_src, builtin) = super::reference_from(inp.reference.as_deref())?;
    let reference = Reference::load(&ref_src.value, as_of)?;
    let calendar = Calendar::load(&ref_src.value)?;
    progress.line(&format!(
        "model {}; reference tables {}",
        model_src.name, ref_src.name
    ));
    let branch_ids: Vec<String> = reference.branches.iter().map(|b| b.0.clone()).collect();
    model.check_branches(&branch_ids)?;
    validate::branches_known(&inputs, &branch_ids)?;
    if let Some(b) = args.bucket {
        bucket::check(&inputs, b)?;
    }
    let (links, links_sha256) = match &args.links {
        Some(p) => (Some(features::read_links(p)?), Some(io::sha256_file(p)?)),
        None => (None, None),
    };
    Ok(Job {
        args,
        model_name: model_src.name,
        reference_name: ref_src.name,
        _builtin: builtin,
        as_of,
        out,
        model,
        inputs,
        counts,
        txn_checks,
        reference,
        calendar,
        links,
        links_sha256,
    })
}

/// Features, scores and grades of every customer; the inputs are hashed on another thread
/// meanwhile.
/// Also returns the transactions' counts when their checks were made as they were read.
fn grade(job: &Job<'_>, st: &mut Stages<'_>) -> Result<Graded> {
    let (hashes, scored) = std::thread::scope(|s| {
        let h = s.spawn(|| hash_inputs(job));
        let scored = (|| -> Result<(DataFrame, Option<DataFrame>, Option<TransactionCounts>)> {
            let ctx = Ctx {
                params: &job.model.params,
                reference: &job.reference,
                as_of: job.as_of,
                links: job.links.as_ref(),
            };
            let (feats, txn) = st.run("features", || {
                features::build_partitioned(
                    &job.inputs,
                    ctx,
                    job.args.partition_rows as usize,
                    st.progress,
                    job.txn_checks.as_ref(),
                )
            })?;
            let kept = job.args.keep_features.then(|| feats.clone());
            Ok((
                st.run("scoring and grading", || score(feats, &job.model))?,
                kept,
                txn,
            ))
        })();
        let hashes = h
            .join()
            .map_err(|_| Error::Internal("hashing thread panicked".into()));
        (hashes, scored)
    });
    let (scored, kept, txn) = scored?;
    Ok((scored, kept, hashes??, txn))
}

/// Scores and grades the features; SC2 leaves walk-in customers out when the model says so.
fn score(feats: DataFrame, model: &Model) -> Result<DataFrame> {
    let mut lf = scoring::score(catalog::categories_as_text(feats.lazy()), model);
    if !model.scope.grade_walk_in {
        lf = lf.filter(col("walk_in").not());
    }
    // Only the columns later stages read leave the query. The streaming engine evaluates the
    // long chains of column expressions in cache-sized morsels: 5x faster than materialising
    // every intermediate column.
    let mut scored = lf
        .select(scoring::kept_columns(model))
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    // Columns passed through keep the features' cuts, computed ones the engine's batches':
    // one chunk each from here, so the review's steps add columns without copying the frame.
    crate::layout::into_one_chunk(&mut scored)?;
    Ok(scored)
}

/// SHA-256 of every input: data files, reference tables, calendars.
fn hash_inputs(job: &Job<'_>) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for f in &job.inputs.files {
        out.push(json!({"file": abs(&f.path), "sha256": io::sha256_file(&f.path)?}));
    }
    let builtin = job.reference_name.starts_with("built-in");
    for p in job.reference.files.iter().chain(&job.calendar.files) {
        let name = if builtin {
            format!(
                "built-in:{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            )
        } else {
            abs(p)
        };
        out.push(json!({"file": name, "sha256": io::sha256_file(p)?}));
    }
    Ok(out)
}

/// Size and time of the written report.html.
struct PageStats {
    bytes: usize,
    wall_s: f64,
}

/// Writes every output but the manifest into the staging folder; returns the summary and what
/// the report took.
fn write_outputs(
    job: &Job<'_>,
    mut rev: Review,
    staging: &Staging,
) -> Result<(Summary, PageStats)> {
    let scored = std::mem::take(&mut rev.scores);
    let dist = report::distribution(&scored, &job.model)?;
    let summary = report::summary(
        &scored,
        &dist,
        &job.model,
        RunFacts {
            as_of: job.as_of.to_string(),
            fatf_lists: job.reference.fatf_version.clone(),
            reclassification: rev.summary.clone(),
            input_warnings: job.counts.warnings.clone(),
        },
    )?;
    let summary_json =
        serde_json::to_value(&summary).map_err(|e| Error::Internal(e.to_string()))?;
    // The scores file (the largest) is sorted and written on its own thread while the others
    // are written here.
    let (scores_written, others_written) = std::thread::scope(|s| {
        let scores = s.spawn(|| -> Result<()> {
            let mut out = scored
                .clone()
                .lazy()
                .select(scoring::output_columns(&job.model))
                .sort(["customer_id"], SortMultipleOptions::default())
                .collect()?;
            io::write_parquet(&mut out, &staging.path(SCORES))
        });
        let others = (|| -> Result<PageStats> {
            io::write_csv(&mut dist.clone(), &staging.path(DISTRIBUTION))?;
            io::write_json(&summary_json, &staging.path(SUMMARY))?;
            io::write_parquet(&mut rev.reclassify, &staging.path(RECLASSIFY))?;
            io::write_csv(&mut rev.reclassify, &staging.path(RECLASSIFY_CSV))?;
            io::write_parquet(&mut rev.grades_next, &staging.path(GRADES_NEXT))?;
            io::write_parquet(&mut rev.history, &staging.path(HISTORY))?;
            let t = Instant::now();
            let agg = report::html::Aggregates::of(&scored, &rev.reclassify, &job.model)?;
            let page = report::html::render(&summary, &job.model, &agg)?;
            std::fs::write(staging.path(REPORT), &page)
                .map_err(|e| Error::Env(format!("writing {REPORT}: {e}")))?;
            Ok(PageStats {
                bytes: page.len(),
                wall_s: t.elapsed().as_secs_f64(),
            })
        })();
        (scores.join(), others)
    });
    scores_written.map_err(|_| Error::Internal("scores writer thread panicked".into()))??;
    let page = others_written?;
    Ok((summary, page))
}

/// `features.parquet`: the feature frame with the grade on file and the last review (as the
/// review stage read them, a grade set by hand counting as a review), sorted by customer.
fn write_features(feats: DataFrame, rev: &Review, staging: &Staging) -> Result<()> {
    let args = crate::reference::left_in_order();
    let on_file = rev.scores.clone().lazy().select([
        col("customer_id"),
        col("grade_on_file"),
        col("last_reviewed"),
    ]);
    let mut df = catalog::categories_as_text(feats.lazy())
        .join(on_file, [col("customer_id")], [col("customer_id")], args)
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()?;
    io::write_parquet(&mut df, &staging.path(FEATURES))
}

/// The manifest (M4): the resolved model, every input and output with its hash, the as-of
/// date, versions, times: enough to re-derive every total from `scores.parquet`.
fn manifest(
    job: &Job<'_>,
    staging: &Staging,
    hashes: Vec<Value>,
    started: &str,
    times: &[StageTime],
) -> Result<Value> {
    let mut outputs = Vec::new();
    let kept = staging.path(FEATURES).exists().then_some(FEATURES);
    for f in OUTPUTS.into_iter().chain(kept) {
        outputs.push(json!({"file": f, "sha256": io::sha256_file(&staging.path(f))?}));
    }
    let inp = &job.args.inputs;
    Ok(json!({
        "riskgrade_version": env!("CARGO_PKG_VERSION"),
        "as_of": job.as_of.to_string(),
        "started": started,
        "finished": dates::now_rfc3339(),
        "model_file": job.model_name,
        "model": job.model,
        "fatf_lists": job.reference.fatf_version,
        "inputs": hashes,
        "input_rows": job.counts.rows.iter().map(|(f, n)| json!({"file": f, "rows": n})).collect::<Vec<_>>(),
        "outputs": outputs,
        "data_folder": abs(&inp.data),
        "reference_folder": job.reference_name,
        "links": job.args.links.as_ref().map(|p| json!({
            "file": abs(p),
            "sha256": job.links_sha256,
            "keys": job.links.as_ref().map_or(0, |t| t.height()),
        })),
        "bucket": job.args.bucket.map(|b| json!({"index": b.index, "count": b.count})),
        "timings": times,
        "total_formula": TOTAL_FORMULA,
    }))
}
