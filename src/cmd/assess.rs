//! `riskgrade assess`: the main job. Opens and validates the inputs, derives features, scores and
//! grades every customer, schedules reviews, and writes scores, reports and a manifest into
//! `--out` atomically.

use std::path::Path;
use std::time::Instant;

use polars::prelude::*;

use super::book::{Book, Opening};
use crate::bucket::{self, CustomerSet};
use crate::catalog;
use crate::cli::AssessArgs;
use crate::dates;
use crate::error::{Error, Result};
use crate::features::{self, LinksSource};
use crate::guard::{Guard, OutFolder, Staged};
use crate::io;
use crate::owners;
use crate::progress::Progress;
use crate::report::{self, RunFacts, Summary};
use crate::review::{self, Review};
use crate::run_folder::{
    self, Assessment, FileHash, InputRows, LinksUsed, Manifest, OwnersUsed, Record, StageTime,
    BENEFICIAL_OWNERS, DISTRIBUTION, FEATURES, GRADES_NEXT, HISTORY, RECLASSIFY, RECLASSIFY_CSV,
    REPORT, REPORT_DATA, SCORES, SUMMARY,
};
use crate::scoring;
use crate::validate::TransactionCounts;

/// What [`grade`] returns: the scored frame, the inputs' hashes and the transactions' counts.
type Graded = (DataFrame, Vec<FileHash>, Option<TransactionCounts>);

/// How the totals of `scores.parquet` are derived (in the manifest).
pub const TOTAL_FORMULA: &str = "total_score = weighted_sum / (100 * m); weighted_sum = sum over adopted sub-items of score * (weight * 100); adjusted_score = min(100, total_score * regional_coefficient)";

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
    /// The book, model and reference tables.
    book: Book,
    /// Where the run goes.
    out: OutFolder,
    /// The customers graded from.
    customers: CustomerSet,
    /// The links table of `--links`, what it was computed from, and its SHA-256.
    links: Option<(DataFrame, LinksSource, String)>,
    /// The beneficial-owners table of the run's customers and where it came from (read from
    /// `--owners`, or solved from the book's graph in its own stage).
    owners: Option<(DataFrame, OwnersUsed)>,
}

/// Runs the job: prepare, grade, review, write.
pub fn run(args: &AssessArgs, progress: &Progress) -> Result<Outcome> {
    let started = dates::now_rfc3339();
    let mut st = Stages {
        progress,
        times: Vec::new(),
    };
    let mut job = st.run("validate inputs", || prepare(args, progress))?;
    if job.owners.is_none() && owners::has_graph(&job.book.inputs) {
        let book = &job.book;
        let table = st.run("beneficial owners", || {
            owners::table(
                &book.inputs,
                book.as_of,
                book.model.params.beneficial_owner_share,
            )
        })?;
        let used = OwnersUsed {
            file: None,
            sha256: None,
            computed_from: owners::OwnersSource {
                as_of: book.as_of,
                threshold: book.model.params.beneficial_owner_share,
                book: job.customers,
                graph_sha256: super::owners::graph_sha256(&book.inputs)?,
            },
        };
        job.owners = Some((table, used));
    }
    let book = &job.book;
    progress.line(&format!(
        "model {} {}; as of {}; FATF lists {}",
        book.model.meta.id, book.model.meta.version, book.as_of, book.reference.fatf_version
    ));
    // The outputs' folder is staged now: features.parquet goes into it as soon as it is made.
    let staged = job.out.stage()?;
    let (scored, hashes, txn) = grade(&job, &staged, &mut st)?;
    if let (Some(checks), Some(txn)) = (&job.book.txn_checks, txn) {
        if let Some(w) = txn.warning() {
            progress.warn(&format!("{}: {} {}", w.file, w.rows, w.message));
        }
        job.book.counts.complete(checks, txn);
    }
    let book = &job.book;
    let rev = st.run("reclassification", || {
        review::review(
            scored,
            review::Setting {
                inputs: &book.inputs,
                model: &book.model,
                as_of: book.as_of,
                horizon_days: args.horizon,
                calendar: &book.calendar,
                lists: &book.reference.fatf_version,
            },
        )
    })?;
    let missing = &rev.summary.calendar.years_without_data_weekends_only;
    if !missing.is_empty() {
        progress.warn(&format!(
            "no working-day calendar data for year(s) {missing:?}; T1 due dates there count weekends only. Add the year's holidays to a calendar_*.csv in {}",
            book.reference_name
        ));
    }
    let (summary, page, hashed) =
        st.run("reports and outputs", || write_outputs(&job, rev, &staged))?;
    progress.line(&format!(
        "{REPORT}: {} KB in {:.2}s",
        page.bytes.div_ceil(1024),
        page.wall_s
    ));
    let mut manifest = manifest(&job, hashes, started, &st.times)?;
    staged.commit_with(&mut manifest, &hashed)?;
    if args.timings {
        crate::out!("{}", st.table());
    }
    Ok(Outcome {
        screen: report::screen(&summary, &job.book.model),
        summary,
        timings: st.times,
    })
}

/// Loads the model, checks `--out`, opens and validates the book, loads the reference tables
/// and checks them against the model and the customers, reads the links table.
fn prepare<'a>(args: &'a AssessArgs, progress: &Progress) -> Result<Job<'a>> {
    let inp = &args.inputs;
    let model = super::model_from(inp.model.as_deref())?;
    let mut guard = Guard::new();
    guard.input("--data", &inp.data);
    for (flag, p) in [
        ("--model", &inp.model),
        ("--reference", &inp.reference),
        ("--links", &args.links),
        ("--owners", &args.owners),
    ] {
        if let Some(p) = p {
            guard.input(flag, p);
        }
    }
    let out = guard.folder("--out", &args.out, run_folder::FolderKind::Run)?;
    let book = Book::open(
        Opening {
            data: &inp.data,
            reference: inp.reference.as_deref(),
            as_of: args.as_of,
            checks_in_pass: true,
        },
        model,
        progress,
    )?;
    if let Some(b) = args.bucket {
        bucket::check(&book.inputs, b)?;
    }
    let customers = CustomerSet::of_inputs(&book.inputs)?;
    let links = match &args.links {
        Some(p) => {
            let (table, source) = features::read_links(p)?;
            check_links_source(
                p,
                &source,
                &book,
                args.bucket.is_none().then_some(customers),
            )?;
            Some((table, source, io::sha256_file(p)?))
        }
        None => None,
    };
    let owners = match &args.owners {
        Some(p) => {
            let (table, source) = owners::read(p)?;
            check_owners_source(
                p,
                &source,
                &book,
                args.bucket.is_none().then_some(customers),
            )?;
            let rows = owners::rows_of(
                &table,
                book.inputs.required(&crate::contract::CUSTOMERS),
            )?;
            owners::check_rows(
                &rows,
                book.inputs.required(&crate::contract::CUSTOMERS),
                p,
                args.bucket.is_none().then_some(table.height()),
            )?;
            let used = OwnersUsed {
                file: Some(abs(p)),
                sha256: Some(io::sha256_file(p)?),
                computed_from: source,
            };
            Some((rows, used))
        }
        None if args.bucket.is_some() && owners::has_graph(&book.inputs) => {
            return Err(Error::Usage(format!(
                "--data {} holds ownership.parquet, but it is bucket {} of a book: its entities may be owned through entities of other buckets. Solve the graph once for the whole book with riskgrade owners and give the table with --owners",
                args.inputs.data.display(),
                args.bucket.map(|b| b.to_string()).unwrap_or_default()
            )))
        }
        None => None,
    };
    Ok(Job {
        args,
        book,
        out,
        customers,
        links,
        owners,
    })
}

/// A beneficial-owners table must have been computed for this as-of date and threshold, and
/// (for a run of the whole book) from these customers; a bucket's book is checked by `merge`.
fn check_owners_source(
    path: &Path,
    source: &owners::OwnersSource,
    book: &Book,
    whole: Option<CustomerSet>,
) -> Result<()> {
    let bad = |what: String| {
        Error::Input(format!(
            "--owners {}: {what}; make the table of this book with riskgrade owners for this as-of date and model",
            path.display()
        ))
    };
    if source.as_of != book.as_of {
        return Err(bad(format!(
            "computed as of {}, but this run is as of {}",
            source.as_of, book.as_of
        )));
    }
    let share = book.model.params.beneficial_owner_share;
    if source.threshold != share {
        return Err(bad(format!(
            "computed with a beneficial-owner share of {}, but the model's [features] beneficial_owner_share is {share}",
            source.threshold
        )));
    }
    if let Some(c) = whole {
        if c != source.book {
            return Err(bad(format!(
                "computed from another book ({}), not from --data ({c})",
                source.book
            )));
        }
    }
    // Where --data holds the graph, the table must be of this graph.
    if let (Some(here), Some(there)) = (
        super::owners::graph_sha256(&book.inputs)?,
        &source.graph_sha256,
    ) {
        if &here != there {
            return Err(bad(format!(
                "computed from another ownership graph (ownership.parquet and persons.parquet hash to {there}, those of --data to {here})"
            )));
        }
    }
    Ok(())
}

/// A links table must have been computed for this as-of date and look-back window, and (for a
/// run of the whole book) from these customers; a bucket's book is checked by `merge`.
fn check_links_source(
    path: &Path,
    source: &LinksSource,
    book: &Book,
    whole: Option<CustomerSet>,
) -> Result<()> {
    let bad = |what: String| {
        Error::Input(format!(
            "--links {}: {what}; make the links table of this book with riskgrade links (or the cluster driver's stage 1) for this as-of date and model",
            path.display()
        ))
    };
    if source.as_of != book.as_of {
        return Err(bad(format!(
            "computed as of {}, but this run is as of {}",
            source.as_of, book.as_of
        )));
    }
    if source.lookback_months != book.model.params.lookback_months {
        return Err(bad(format!(
            "computed over a look-back window of {} months, but the model's [features] lookback_months is {}",
            source.lookback_months, book.model.params.lookback_months
        )));
    }
    if let Some(c) = whole {
        if c != source.book {
            return Err(bad(format!(
                "computed from another book ({}), not from --data ({c})",
                source.book
            )));
        }
    }
    Ok(())
}

/// Features, scores and grades of every customer; the inputs are hashed on another thread
/// meanwhile.
/// Also returns the transactions' counts when their checks were made as they were read.
fn grade(job: &Job<'_>, staged: &Staged, st: &mut Stages<'_>) -> Result<Graded> {
    let (hashes, scored) = std::thread::scope(|s| {
        let h = s.spawn(|| hash_inputs(job));
        let scored = (|| -> Result<(DataFrame, Option<TransactionCounts>)> {
            let ctx = job.book.ctx(
                job.links.as_ref().map(|l| &l.0),
                job.owners.as_ref().map(|o| &o.0),
            );
            let (feats, txn) = st.run("features", || {
                features::build_partitioned(
                    &job.book.inputs,
                    ctx,
                    job.args.partition_rows as usize,
                    st.progress,
                    job.book.txn_checks.as_ref(),
                )
            })?;
            // features.parquet is written from the frame the scoring reads next, before the
            // scoring's own columns are made (written beside the scoring, the two peaks add up).
            if job.args.keep_features {
                st.run("features file", || {
                    write_features(&feats, job, &staged.path(FEATURES))
                })?;
            }
            let scored = st.run("scoring and grading", || score(feats, &job.book.model))?;
            Ok((scored, txn))
        })();
        let hashes = h
            .join()
            .map_err(|_| Error::Internal("hashing thread panicked".into()));
        (hashes, scored)
    });
    let (scored, txn) = scored?;
    Ok((scored, hashes??, txn))
}

/// Scores and grades the features; SC2 leaves walk-in customers out when the model says so.
fn score(feats: DataFrame, model: &crate::model::Model) -> Result<DataFrame> {
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
fn hash_inputs(job: &Job<'_>) -> Result<Vec<FileHash>> {
    let book = &job.book;
    let mut out = Vec::new();
    for f in &book.inputs.files {
        out.push(FileHash::of(&f.path, &abs(&f.path))?);
    }
    let builtin = book.reference_name.starts_with("built-in");
    for p in book.reference.files.iter().chain(&book.calendar.files) {
        let name = if builtin {
            format!(
                "built-in:{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            )
        } else {
            abs(p)
        };
        out.push(FileHash::of(p, &name)?);
    }
    Ok(out)
}

/// Size and time of the written report.html.
struct PageStats {
    bytes: usize,
    wall_s: f64,
}

/// Writes every output but the manifest into the staging folder; returns the summary, what
/// the report took and the hashes of the outputs hashed as they were written ([`Hashing`]).
/// The outputs are made and written one at a time, each let go before the next is made: at 10M
/// customers the work list, the next grade file and the history are a gigabyte or more each.
fn write_outputs(
    job: &Job<'_>,
    mut rev: Review,
    staging: &Staged,
) -> Result<(Summary, PageStats, Vec<FileHash>)> {
    let mut hashing = Hashing::default();
    let model = &job.book.model;
    let dist = report::distribution(&rev.scores, model)?;
    let summary = report::summary(
        &rev.scores,
        &dist,
        model,
        RunFacts {
            as_of: job.book.as_of.to_string(),
            fatf_lists: job.book.reference.fatf_version.clone(),
            reclassification: rev.summary.clone(),
            input_warnings: job.book.counts.warnings.clone(),
        },
    )?;
    let summary_json =
        serde_json::to_value(&summary).map_err(|e| Error::Internal(e.to_string()))?;
    io::write_csv(&mut dist.clone(), &staging.path(DISTRIBUTION))?;
    io::write_json(&summary_json, &staging.path(SUMMARY))?;
    let t = Instant::now();
    let agg = report::html::Aggregates::of(&rev.scores, model)?;
    let lang = report::lang::Lang::choose(job.args.lang, model.meta.language.as_deref());
    let page = report::html::render(&summary, model, &agg, lang)?;
    io::write_private(&staging.path(REPORT), page.as_bytes())?;
    let data = serde_json::to_value(&agg).map_err(|e| Error::Internal(e.to_string()))?;
    io::write_json(&data, &staging.path(REPORT_DATA))?;
    let page = PageStats {
        bytes: page.len(),
        wall_s: t.elapsed().as_secs_f64(),
    };
    // Each output is a temporary of its statement: let go as soon as it is written.
    io::write_parquet(
        &mut rev
            .scores
            .clone()
            .lazy()
            .select(scoring::output_columns(model))
            .sort(["customer_id"], SortMultipleOptions::default())
            .collect()?,
        &staging.path(SCORES),
    )?;
    hashing.start(staging, SCORES);
    rev.keep_output_sources()?;
    crate::alloc::release_freed_memory();
    let mut list = rev.reclassify()?;
    io::write_parquet(&mut list, &staging.path(RECLASSIFY))?;
    hashing.start(staging, RECLASSIFY);
    io::write_csv(&mut list, &staging.path(RECLASSIFY_CSV))?;
    hashing.start(staging, RECLASSIFY_CSV);
    drop(list);
    crate::alloc::release_freed_memory();
    io::write_parquet(&mut rev.grades_next()?, &staging.path(GRADES_NEXT))?;
    hashing.start(staging, GRADES_NEXT);
    crate::alloc::release_freed_memory();
    io::write_parquet(&mut rev.history(&job.book.inputs)?, &staging.path(HISTORY))?;
    if let Some((table, _)) = &job.owners {
        io::write_parquet(&mut table.clone(), &staging.path(BENEFICIAL_OWNERS))?;
    }
    Ok((summary, page, hashing.finish()?))
}

/// Output files hashed for the manifest on other threads while the next outputs are made,
/// instead of one after another once all are written (10M customers: 945 MB of outputs, the
/// work list's CSV 795 MB of them; 0.29–0.36 s from the last stage to the exit instead of
/// 0.82–0.90 s).
#[derive(Default)]
struct Hashing(Vec<std::thread::JoinHandle<Result<FileHash>>>);

impl Hashing {
    /// Starts hashing the written output `name`, which no step changes after.
    fn start(&mut self, staging: &Staged, name: &'static str) {
        let path = staging.path(name);
        self.0
            .push(std::thread::spawn(move || FileHash::of(&path, name)));
    }

    /// The hashes, once every one is done.
    fn finish(self) -> Result<Vec<FileHash>> {
        self.0
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| Error::Internal("hashing thread panicked".into()))?
            })
            .collect()
    }
}

/// `features.parquet`: every catalogue feature of every customer, with the grade on file and
/// the last review (as the review stage reads them, a grade set by hand counting as a review;
/// none for customers the model leaves out, SC2), in customer order. Written as soon as the
/// features are made, a row group at a time from the feature frame the scoring reads anyway, so
/// keeping the features adds one row group's text to the memory the run holds. Its Parquet
/// metadata names what it was computed with: the feature parameters, the model and the as-of
/// date (`compare --features` refuses a baseline that differs).
fn write_features(feats: &DataFrame, job: &Job<'_>, path: &Path) -> Result<()> {
    let book = &job.book;
    let ids = feats.select(["customer_id", "institution_id"])?;
    let mut on_file = crate::review::on_file_now(ids.lazy(), &book.inputs, book.as_of)?
        .select([col("grade_on_file"), col("last_reviewed")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    if !book.model.scope.grade_walk_in {
        on_file.hstack_mut(&[feats.column("walk_in")?.clone()])?;
        on_file = on_file
            .lazy()
            .select([
                when(col("walk_in"))
                    .then(lit(NULL).cast(DataType::String))
                    .otherwise(col("grade_on_file"))
                    .alias("grade_on_file"),
                when(col("walk_in"))
                    .then(lit(NULL).cast(DataType::Date))
                    .otherwise(col("last_reviewed"))
                    .alias("last_reviewed"),
            ])
            .collect()?;
    }
    // In customer order: a book whose rows are (the features flag them sorted) is read in
    // slices; another is read through the order of its ids.
    let ids = feats.column("customer_id")?.as_materialized_series();
    let order = (ids.is_sorted_flag() != polars::series::IsSorted::Ascending)
        .then(|| ids.arg_sort(SortOptions::default()));
    let kv = features_metadata(job)?;
    io::write_parquet_groups(path, feats.height(), &kv, |offset, len| {
        let (f, o) = match &order {
            None => (
                feats.slice(offset as i64, len),
                on_file.slice(offset as i64, len),
            ),
            Some(idx) => {
                let take = idx.slice(offset as i64, len);
                (feats.take(&take)?, on_file.take(&take)?)
            }
        };
        let mut df = catalog::categories_as_text(f.lazy()).collect()?;
        df.hstack_mut(o.columns())?;
        Ok(df)
    })
}

/// The key-value metadata of `features.parquet` (see [`features::FeaturesSource`]).
fn features_metadata(job: &Job<'_>) -> Result<Vec<(&'static str, String)>> {
    let model =
        serde_json::to_value(&job.book.model).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(features::FeaturesSource {
        as_of: job.book.as_of,
        params: job.book.model.params.clone(),
        model_sha256: run_folder::model_sha256(&model),
        fatf_lists: job.book.reference.fatf_version.clone(),
    }
    .metadata())
}

/// The manifest (M4): the resolved model, every input with its hash, the as-of date,
/// versions, times: enough to re-derive every total from `scores.parquet` (the outputs are
/// listed when the folder is committed).
fn manifest(
    job: &Job<'_>,
    hashes: Vec<FileHash>,
    started: String,
    times: &[StageTime],
) -> Result<Manifest> {
    let book = &job.book;
    let model = serde_json::to_value(&book.model).map_err(|e| Error::Internal(e.to_string()))?;
    let mut m = Manifest::new(
        started,
        Record::Assess(Assessment {
            as_of: book.as_of.to_string(),
            model_file: book.model_name.clone(),
            model_sha256: run_folder::model_sha256(&model),
            model,
            fatf_lists: book.reference.fatf_version.clone(),
            reference_folder: book.reference_name.clone(),
            data_folder: Some(abs(&job.args.inputs.data)),
            input_rows: book
                .counts
                .rows
                .iter()
                .map(|(f, n)| InputRows {
                    file: f.clone(),
                    rows: *n,
                })
                .collect(),
            customers: job.customers,
            links: match (&job.args.links, &job.links) {
                (Some(p), Some((table, source, sha256))) => Some(LinksUsed {
                    file: Some(abs(p)),
                    sha256: sha256.clone(),
                    keys: table.height() as u64,
                    book: source.book,
                }),
                _ => None,
            },
            bucket: job.args.bucket,
            horizon_days: job.args.horizon,
            keep_features: job.args.keep_features,
            owners: job.owners.as_ref().map(|o| o.1.clone()),
            total_formula: TOTAL_FORMULA.to_string(),
            timings: times.to_vec(),
            merged_from: None,
        }),
    );
    m.inputs = hashes;
    Ok(m)
}
