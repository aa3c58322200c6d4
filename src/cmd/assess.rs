//! `riskgrade assess`: the main job. Validates the inputs, derives features, scores and grades
//! every customer, and writes scores, reports and a manifest into `--out` atomically.

use std::path::Path;
use std::time::Instant;

use polars::prelude::*;
use serde_json::{json, Value};

use crate::calendar::Calendar;
use crate::cli::AssessArgs;
use crate::dates;
use crate::error::{Error, Result};
use crate::features::{self, Ctx};
use crate::io::{self, Staging};
use crate::model::Model;
use crate::progress::Progress;
use crate::reference::Reference;
use crate::{contract, report, review, scoring, validate};

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
    pub summary: Value,
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
}

fn hash_inputs(data: &Path, reference: &Reference, calendar: &Calendar) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for spec in contract::FILES {
        let p = data.join(spec.file);
        if p.exists() {
            out.push(json!({"file": abs(&p), "sha256": io::sha256_file(&p)?}));
        }
    }
    for p in reference.files.iter().chain(&calendar.files) {
        out.push(json!({"file": abs(p), "sha256": io::sha256_file(p)?}));
    }
    Ok(out)
}

fn abs(p: &Path) -> String {
    p.canonicalize()
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// Runs the job.
pub fn run(args: &AssessArgs, progress: &Progress) -> Result<Outcome> {
    let started = dates::now_rfc3339();
    let inp = &args.inputs;
    let as_of = args.as_of.unwrap_or_else(dates::today);
    let model = Model::load(&inp.model)?;
    let out = io::resolve_out(&args.out)?;
    io::check_run_dest(&out, &inp.data)?;
    let mut st = Stages {
        progress,
        times: Vec::new(),
    };
    let counts = st.run("validate inputs", || {
        validate::validate_inputs(&inp.data, as_of)
    })?;
    for w in &counts.warnings {
        progress.line(&format!("warning: {}: {} {}", w.file, w.rows, w.message));
    }
    let reference = Reference::load(&inp.reference, as_of)?;
    let calendar = Calendar::load(&inp.reference)?;
    let branch_ids: Vec<String> = reference.branches.iter().map(|b| b.0.clone()).collect();
    model.check_branches(&branch_ids)?;
    validate::branches_known(&inp.data, &branch_ids)?;
    progress.line(&format!(
        "model {} {}; as of {as_of}; FATF lists {}",
        model.meta.id, model.meta.version, reference.fatf_version
    ));

    // Hash the inputs on another thread while the features are computed.
    let (hashes, scored) = std::thread::scope(|s| {
        let h = s.spawn(|| hash_inputs(&inp.data, &reference, &calendar));
        let scored = (|| -> Result<DataFrame> {
            let ctx = Ctx {
                params: &model.params,
                reference: &reference,
                as_of,
            };
            let feats = st.run("features", || {
                features::build_partitioned(&inp.data, ctx, args.partition_rows as usize)
            })?;
            st.run("scoring and grading", || {
                let mut lf = scoring::score(feats.lazy(), &model);
                if !model.scope.grade_walk_in {
                    lf = lf.filter(col("walk_in").not());
                }
                // Only the columns later stages read leave the query. The streaming engine
                // evaluates the long chains of column expressions in cache-sized morsels: 5x
                // faster than materialising every intermediate column.
                Ok(lf
                    .select(scoring::kept_columns(&model))
                    .collect_with_engine(Engine::Streaming)?
                    .unwrap_single())
            })
        })();
        let hashes = h
            .join()
            .map_err(|_| Error::Internal("hashing thread panicked".into()));
        (hashes, scored)
    });
    let scored = scored?;
    let hashes = hashes??;
    let mut rev = st.run("reclassification", || {
        review::review(scored, &inp.data, &model, as_of, args.horizon, &calendar)
    })?;
    let missing = &rev.summary["calendar"]["years_without_data_weekends_only"];
    if missing.as_array().is_some_and(|a| !a.is_empty()) {
        progress.line(&format!(
            "warning: no working-day calendar data for year(s) {missing}; T1 due dates there count weekends only. Add the year's holidays to a calendar_*.csv in {}",
            inp.reference.display()
        ));
    }
    let scored = std::mem::take(&mut rev.scores);

    let staging = Staging::new(&out)?;
    let summary = st.run("reports and outputs", || {
        let dist = report::distribution(&scored, &model)?;
        let mut summary = report::summary(&scored, &dist, &model)?;
        summary["as_of"] = json!(as_of.to_string());
        summary["fatf_lists"] = json!(reference.fatf_version);
        summary["reclassification"] = rev.summary.clone();
        summary["input_warnings"] = json!(counts.warnings);
        // The scores file (the largest) is sorted and written on its own thread while the
        // others are written here.
        let (scores_written, others_written) = std::thread::scope(|s| {
            let scores = s.spawn(|| -> Result<()> {
                let mut out = scored
                    .clone()
                    .lazy()
                    .select(scoring::output_columns(&model))
                    .sort(["customer_id"], SortMultipleOptions::default())
                    .collect()?;
                io::write_parquet(&mut out, &staging.path(SCORES))
            });
            let others = (|| -> Result<()> {
                io::write_csv(&mut dist.clone(), &staging.path(DISTRIBUTION))?;
                io::write_json(&summary, &staging.path(SUMMARY))?;
                io::write_parquet(&mut rev.reclassify, &staging.path(RECLASSIFY))?;
                io::write_csv(&mut rev.reclassify, &staging.path(RECLASSIFY_CSV))?;
                io::write_parquet(&mut rev.grades_next, &staging.path(GRADES_NEXT))?;
                io::write_parquet(&mut rev.history, &staging.path(HISTORY))
            })();
            (scores.join(), others)
        });
        scores_written.map_err(|_| Error::Internal("scores writer thread panicked".into()))??;
        others_written?;
        Ok(summary)
    })?;

    let mut outputs = Vec::new();
    for f in [
        SCORES,
        DISTRIBUTION,
        SUMMARY,
        RECLASSIFY,
        RECLASSIFY_CSV,
        GRADES_NEXT,
        HISTORY,
    ] {
        outputs.push(json!({"file": f, "sha256": io::sha256_file(&staging.path(f))?}));
    }
    let manifest = json!({
        "riskgrade_version": env!("CARGO_PKG_VERSION"),
        "as_of": as_of.to_string(),
        "started": started,
        "finished": dates::now_rfc3339(),
        "model_file": inp.model.display().to_string(),
        "model": model,
        "fatf_lists": reference.fatf_version,
        "inputs": hashes,
        "input_rows": counts.rows.iter().map(|(f, n)| json!({"file": f, "rows": n})).collect::<Vec<_>>(),
        "outputs": outputs,
        "data_folder": abs(&inp.data),
        "reference_folder": abs(&inp.reference),
        "timings": st.times,
        "total_formula": "total_score = weighted_sum / (100 * m); weighted_sum = sum over adopted sub-items of score * (weight * 100); adjusted_score = min(100, total_score * regional_coefficient)",
    });
    io::write_json(&manifest, &staging.path(io::RUN_MARKER))?;
    staging.commit_replace()?;
    if args.timings {
        println!(
            "{:<24} {:>9} {:>9} {:>12}",
            "stage", "wall s", "cpu s", "peak MiB"
        );
        for t in &st.times {
            println!(
                "{:<24} {:>9.2} {:>9.2} {:>12.0}",
                t.stage, t.wall_s, t.cpu_s, t.peak_rss_mib
            );
        }
        let (wall, cpu) = st
            .times
            .iter()
            .fold((0.0, 0.0), |a, t| (a.0 + t.wall_s, a.1 + t.cpu_s));
        let peak = st.times.iter().map(|t| t.peak_rss_mib).fold(0.0, f64::max);
        println!("{:<24} {wall:>9.2} {cpu:>9.2} {peak:>12.0}", "total");
    }
    Ok(Outcome {
        screen: report::screen(&summary, &model),
        summary,
        timings: st.times,
    })
}
