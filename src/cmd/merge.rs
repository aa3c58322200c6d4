//! `riskgrade merge`: the runs of every bucket of a book (`assess --bucket K/N --links FILE`)
//! combined into one run folder with the files a single `assess` of the whole book writes
//! (docs/scale-out.md). Every bucket run is opened through [`RunFolder`], so each file is
//! checked against its own manifest before it is read. Rows are concatenated and sorted as
//! `assess` sorts them; the distribution and the counts that the merged scores give are counted
//! again from them, the others added up; `report.html` is drawn from the merged files. The
//! manifest lists every bucket's manifest (copied under `buckets/`) with its hash. Runs made
//! with another model, as-of date, reference tables, links table, horizon or riskgrade version
//! are refused, as are a missing or repeated bucket (for one run as for many), buckets that do
//! not make up the book the links table was computed from, and a customer in two buckets.

use std::path::Path;

use polars::prelude::*;

use crate::bucket::CustomerSet;
use crate::cli::MergeArgs;
use crate::dates;
use crate::error::{Error, Result};
use crate::guard::{Guard, Staged};
use crate::io;
use crate::model::Model;
use crate::progress::Progress;
use crate::report::html::Aggregates;
use crate::report::{self, Summary};
use crate::run_folder::{
    part_name, Assessment, FileHash, FolderKind, LinksUsed, Manifest, MergedFrom, MergedRun,
    Record, RunFolder, BENEFICIAL_OWNERS, BUCKETS, DISTRIBUTION, FEATURES, GRADES_NEXT, HISTORY,
    PER_CUSTOMER, RECLASSIFY, RECLASSIFY_CSV, REPORT, REPORT_DATA, SCORES, SUMMARY,
};

fn refuse(run: &Path, what: String) -> Error {
    Error::Usage(format!(
        "--runs {}: {what}; merge the runs of one book made with one model, as-of date, \
         reference tables, links table and riskgrade version",
        run.display()
    ))
}

/// The reference tables' hashes of a run (every input outside the data folder), by file name.
fn reference_hashes(run: &RunFolder) -> Vec<(String, String)> {
    let data = run.assessment().data_folder.clone().unwrap_or_default();
    let mut out: Vec<(String, String)> = run
        .manifest()
        .inputs
        .iter()
        .filter_map(|e| {
            let inside = !data.is_empty() && Path::new(&e.file).starts_with(&data);
            let name = Path::new(e.file.trim_start_matches("built-in:")).file_name()?;
            (!inside).then(|| (name.to_string_lossy().to_string(), e.sha256.clone()))
        })
        .collect();
    out.sort();
    out
}

/// The reference tables of the runs (the same in every run, checked), as `--reference` holds
/// them: each file of the first run's tables found there with the same SHA-256, listed by its
/// path there (or as `built-in:NAME`).
fn reference_files(first: &RunFolder, given: Option<&Path>) -> Result<Vec<FileHash>> {
    let (src, _builtin) = super::reference_from(given)?;
    let builtin = src.name.starts_with("built-in");
    let mut out = Vec::new();
    for (name, sha256) in reference_hashes(first) {
        let path = src.value.join(&name);
        let file = if builtin {
            format!("built-in:{name}")
        } else {
            path.canonicalize()
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string()
        };
        let here = io::sha256_file(&path).ok();
        if here.as_deref() != Some(sha256.as_str()) {
            return Err(Error::Usage(format!(
                "--reference {}: {name} {}; give the reference tables the runs were made with",
                src.name,
                if here.is_some() {
                    "differs from the one the runs read"
                } else {
                    "is not there"
                }
            )));
        }
        out.push(FileHash { file, sha256 });
    }
    Ok(out)
}

/// Checks that the runs are the buckets of one book, graded alike, each bucket once and every
/// bucket present or declared empty.
/// Checks that run `r` was graded like `first`: this riskgrade, a bucket run, the model of
/// --model, the same date, lists, links and beneficial-owners tables, reference tables,
/// horizon and kept features.
fn check_alike(
    r: &RunFolder,
    first: &RunFolder,
    model: &Model,
    model_json: &serde_json::Value,
    model_name: &str,
) -> Result<()> {
    let a0 = first.assessment();
    let a = r.assessment();
    let version = &r.manifest().riskgrade_version;
    if version != env!("CARGO_PKG_VERSION") {
        return Err(refuse(
            r.dir(),
            format!(
                "made by riskgrade {version}, this is {}",
                env!("CARGO_PKG_VERSION")
            ),
        ));
    }
    if !matches!(r.manifest().record, Record::Assess(_)) {
        return Err(refuse(
            r.dir(),
            "a merged run; merge the bucket runs themselves".into(),
        ));
    }
    if a.model != *model_json {
        return Err(refuse(
            r.dir(),
            format!(
                "made with model {} {}, not with --model {model_name} ({} {})",
                a.model["meta"]["id"],
                a.model["meta"]["version"],
                model.meta.id,
                model.meta.version
            ),
        ));
    }
    for (what, mine, theirs) in [
        ("as-of date", &a.as_of, &a0.as_of),
        ("FATF lists", &a.fatf_lists, &a0.fatf_lists),
    ] {
        if mine != theirs {
            return Err(refuse(
                r.dir(),
                format!(
                    "{what} {mine} differs from {theirs} of {}",
                    first.dir().display()
                ),
            ));
        }
    }
    let sha = |l: &Option<LinksUsed>| l.as_ref().map(|l| l.sha256.clone());
    if sha(&a.links) != sha(&a0.links) {
        return Err(refuse(
            r.dir(),
            format!(
                "made with links table {} (SHA-256 {}), not the one of {}",
                a.links
                    .as_ref()
                    .and_then(|l| l.file.clone())
                    .unwrap_or_else(|| "none".into()),
                sha(&a.links).unwrap_or_else(|| "none".into()),
                first.dir().display()
            ),
        ));
    }
    if reference_hashes(r) != reference_hashes(first) {
        return Err(refuse(
            r.dir(),
            format!(
                "made with other reference tables than {}",
                first.dir().display()
            ),
        ));
    }
    if a.horizon_days != a0.horizon_days {
        return Err(refuse(r.dir(), "made with another --horizon".to_string()));
    }
    // Every bucket graded with the one beneficial-owners table of the book, or none.
    let source = |a: &crate::run_folder::Assessment| {
        a.owners
            .as_ref()
            .map(|o| (o.computed_from.clone(), o.sha256.clone()))
    };
    if source(a) != source(a0) {
        return Err(refuse(
            r.dir(),
            format!(
                "graded with {}, unlike {} ({}); give every bucket the beneficial-owners table of the book (riskgrade owners, assess --owners)",
                describe_owners(a),
                first.dir().display(),
                describe_owners(a0)
            ),
        ));
    }
    if a.keep_features != a0.keep_features {
        return Err(refuse(
            r.dir(),
            format!(
                "made {} --keep-features, unlike {}",
                if a.keep_features { "with" } else { "without" },
                first.dir().display()
            ),
        ));
    }
    Ok(())
}

fn check_runs(runs: &[RunFolder], model: &Model, model_name: &str, empty: &[u32]) -> Result<()> {
    let first = &runs[0];
    let a0 = first.assessment();
    let model_json = serde_json::to_value(model).map_err(|e| Error::Internal(e.to_string()))?;
    for r in runs {
        check_alike(r, first, model, &model_json, model_name)?;
    }
    let Some(b0) = a0.bucket else {
        // A run of the whole book: merged alone, it is copied.
        if runs.len() > 1 || !empty.is_empty() {
            return Err(refuse(
                first.dir(),
                "not a bucket run (made without --bucket K/N and --links)".into(),
            ));
        }
        return Ok(());
    };
    let count = b0.count;
    let mut seen = vec![false; count as usize];
    for r in runs {
        let b = r.assessment().bucket.ok_or_else(|| {
            refuse(
                r.dir(),
                "not a bucket run (made without --bucket K/N and --links)".into(),
            )
        })?;
        if b.count != count {
            return Err(refuse(
                r.dir(),
                format!(
                    "bucket {b}, but {} is a bucket of {count}",
                    first.dir().display()
                ),
            ));
        }
        if std::mem::replace(&mut seen[b.index as usize], true) {
            return Err(refuse(r.dir(), format!("bucket {b} is given twice")));
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
    check_book(runs)
}

/// The buckets together are the book the links and beneficial-owners tables were computed
/// from.
fn check_book(runs: &[RunFolder]) -> Result<()> {
    let a0 = runs[0].assessment();
    // The buckets together are the book the links table was computed from.
    if let Some(l) = &a0.links {
        let union = CustomerSet::union(runs.iter().map(|r| r.assessment().customers));
        if union != l.book {
            return Err(Error::Usage(format!(
                "the bucket runs hold {union}, but their links table was computed from a book of {}; \
                 merge the buckets of the book the links table was made from, with every bucket given",
                l.book
            )));
        }
    }
    // The buckets together are the book the beneficial-owners table was computed from.
    if let Some(o) = &a0.owners {
        let union = CustomerSet::union(runs.iter().map(|r| r.assessment().customers));
        if union != o.computed_from.book {
            return Err(Error::Usage(format!(
                "the bucket runs hold {union}, but their beneficial-owners table was computed from a book of {}; \
                 merge the buckets of the book the table was made from, with every bucket given",
                o.computed_from.book
            )));
        }
    }
    Ok(())
}

/// The beneficial-owners table a run graded with, in words.
fn describe_owners(a: &crate::run_folder::Assessment) -> String {
    match &a.owners {
        None => "no beneficial-owners table".into(),
        Some(o) => format!(
            "a beneficial-owners table computed as of {} with threshold {} from a book of {} (sha256 {})",
            o.computed_from.as_of, o.computed_from.threshold, o.computed_from.book, o.sha256.as_deref().unwrap_or("made in the run")
        ),
    }
}

/// The runs' `file`, each checked against its run's manifest, concatenated and sorted by `by`
/// (stable: rows of one key keep their order).
fn concat_sorted(runs: &[RunFolder], file: &str, by: &[&str]) -> Result<DataFrame> {
    let scans = runs
        .iter()
        .map(|r| r.scan(file))
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

/// Refuses a customer id that appears in more than one row of a frame sorted by it.
fn unique_sorted_ids(df: &DataFrame, file: &str) -> Result<()> {
    let ids = df.column("customer_id")?.str()?;
    let mut prev: Option<&str> = None;
    for id in ids.iter() {
        if id.is_some() && id == prev {
            return Err(Error::Input(format!(
                "{file}: customer {} is in two bucket runs; each customer belongs to one bucket (P3)",
                id.unwrap_or_default()
            )));
        }
        prev = id;
    }
    Ok(())
}

/// The small outputs (summary, distribution, report), from the buckets' own: no
/// per-customer row is read for them. Returns the summary.
fn write_small(
    runs: &[RunFolder],
    model: &Model,
    staged: &Staged,
    lang: report::lang::Lang,
) -> Result<Summary> {
    let parts: Vec<Summary> = runs.iter().map(|r| r.summary()).collect::<Result<_>>()?;
    let summary = report::merged_summary(model, &parts)?;
    let mut dist = report::distribution_of(&summary)?;
    io::write_csv(&mut dist, &staged.path(DISTRIBUTION))?;
    let summary_json =
        serde_json::to_value(&summary).map_err(|e| Error::Internal(e.to_string()))?;
    io::write_json(&summary_json, &staged.path(SUMMARY))?;
    let aggs = runs
        .iter()
        .map(|r| {
            let p = r.file(REPORT_DATA)?;
            std::fs::read_to_string(&p)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
                .map_err(|e| Error::Input(format!("{}: {e}", p.display())))
        })
        .collect::<Result<Vec<Aggregates>>>()?;
    let agg = Aggregates::merge(&aggs);
    let page = report::html::render(&summary, model, &agg, lang)?;
    io::write_private(&staged.path(REPORT), page.as_bytes())?;
    let data = serde_json::to_value(&agg).map_err(|e| Error::Internal(e.to_string()))?;
    io::write_json(&data, &staged.path(REPORT_DATA))?;
    Ok(summary)
}

/// Each bucket's per-customer files become its parts of `datasets`: linked, not read (the
/// bucket manifests' hashes are listed; every reader and verify check them).
fn link_parts(runs: &[RunFolder], datasets: &[&str], staged: &Staged) -> Result<Vec<FileHash>> {
    let mut hashes = Vec::new();
    for name in datasets {
        io::create_private_dir(&staged.path(name))?;
        for r in runs {
            let k = r.assessment().bucket.map_or(0, |b| b.index);
            let part = part_name(name, k);
            let src = r.dir().join(name);
            let sha = r
                .manifest()
                .outputs
                .iter()
                .find(|o| o.file == *name)
                .map(|o| o.sha256.clone())
                .ok_or_else(|| {
                    Error::Input(format!("{}: the run has no {name}", r.dir().display()))
                })?;
            let copied = io::link_or_copy(&src, &staged.path(&part))?;
            if copied {
                // A copy is read anyway: its hash is checked as it is.
                if io::sha256_file(&staged.path(&part))? != sha {
                    return Err(Error::Input(format!(
                        "{}: changed since the run (SHA-256 differs from the manifest's)",
                        src.display()
                    )));
                }
            }
            hashes.push(FileHash {
                file: part,
                sha256: sha,
            });
        }
    }
    Ok(hashes)
}

/// The per-customer files concatenated and sorted as one `assess` writes them
/// (`--single-file`).
fn concat_files(runs: &[RunFolder], a0: &Assessment, staged: &Staged) -> Result<()> {
    let mut scores = concat_sorted(runs, SCORES, &["customer_id"])?;
    unique_sorted_ids(&scores, SCORES)?;
    io::write_parquet(&mut scores, &staged.path(SCORES))?;
    drop(scores);
    let mut reclassify = concat_sorted(runs, RECLASSIFY, &["due_date", "customer_id"])?;
    io::write_parquet(&mut reclassify, &staged.path(RECLASSIFY))?;
    io::write_csv(&mut reclassify, &staged.path(RECLASSIFY_CSV))?;
    let mut next = concat_sorted(runs, GRADES_NEXT, &["customer_id"])?;
    unique_sorted_ids(&next, GRADES_NEXT)?;
    io::write_parquet(&mut next, &staged.path(GRADES_NEXT))?;
    let mut history = concat_sorted(runs, HISTORY, &["customer_id", "graded_on"])?;
    io::write_parquet(&mut history, &staged.path(HISTORY))?;
    if a0.keep_features {
        let mut f = concat_sorted(runs, FEATURES, &["customer_id"])?;
        unique_sorted_ids(&f, FEATURES)?;
        let kv = crate::inputs::parquet_metadata(&runs[0].file(FEATURES)?)?;
        let kv: Vec<(&str, String)> = kv.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        io::write_parquet_with(&mut f, &staged.path(FEATURES), &kv)?;
    }
    if a0.owners.is_some() {
        let mut bo = concat_sorted(runs, BENEFICIAL_OWNERS, &["customer_id", "person_id"])?;
        io::write_parquet(&mut bo, &staged.path(BENEFICIAL_OWNERS))?;
    }
    Ok(())
}

/// Every bucket's manifest, copied into `buckets/`, as the merged manifest names them.
fn copy_manifests(runs: &[RunFolder], staged: &Staged) -> Result<Vec<MergedRun>> {
    io::create_private_dir(&staged.path(BUCKETS))?;
    let mut merged = Vec::new();
    for r in runs {
        let a = r.assessment();
        let name = match a.bucket {
            Some(b) => format!("{BUCKETS}/bucket-{:05}-of-{:05}.json", b.index, b.count),
            None => format!("{BUCKETS}/run.json"),
        };
        io::write_private(&staged.path(&name), &r.manifest_bytes()?)?;
        merged.push(MergedRun {
            run: std::fs::canonicalize(r.dir())
                .unwrap_or_else(|_| r.dir().to_path_buf())
                .display()
                .to_string(),
            bucket: a.bucket,
            manifest: name,
            sha256: r.manifest_sha256().to_string(),
        });
    }
    Ok(merged)
}

/// Runs the command; returns the one-screen summary.
pub fn run(args: &MergeArgs, progress: &Progress) -> Result<String> {
    let started = dates::now_rfc3339();
    let src = super::model_from(args.model.as_deref())?;
    let model = src.value;
    let mut guard = Guard::new();
    for r in &args.runs {
        guard.input("--runs", r);
    }
    if let Some(m) = &args.model {
        guard.input("--model", m);
    }
    if let Some(r) = &args.reference {
        guard.input("--reference", r);
    }
    let out = guard.folder("--out", &args.out, FolderKind::Run)?;
    let runs = args
        .runs
        .iter()
        .map(|d| RunFolder::open(d))
        .collect::<Result<Vec<_>>>()?;
    check_runs(&runs, &model, &src.name, &args.empty_buckets)?;
    let reference = reference_files(&runs[0], args.reference.as_deref())?;
    progress.line(&format!("merging {} runs", runs.len()));
    let staged = out.stage()?;
    let lang = report::lang::Lang::choose(args.lang, model.meta.language.as_deref());
    let summary = write_small(&runs, &model, &staged, lang)?;
    let a0 = runs[0].assessment().clone();
    let datasets: Vec<&str> = PER_CUSTOMER
        .into_iter()
        .filter(|f| *f != FEATURES || a0.keep_features)
        .filter(|f| *f != BENEFICIAL_OWNERS || a0.owners.is_some())
        .collect();
    let parts = !args.single_file && a0.bucket.is_some();
    let hashes = if parts {
        link_parts(&runs, &datasets, &staged)?
    } else {
        concat_files(&runs, &a0, &staged)?;
        Vec::new()
    };
    let merged = copy_manifests(&runs, &staged)?;
    let mut manifest = Manifest::new(
        started,
        Record::Merge(Assessment {
            model_file: src.name,
            data_folder: None,
            input_rows: Vec::new(),
            customers: CustomerSet::union(runs.iter().map(|r| r.assessment().customers)),
            // The table each bucket read lies where its task ran: its hash and size are kept.
            links: a0.links.clone().map(|l| LinksUsed { file: None, ..l }),
            owners: a0
                .owners
                .clone()
                .map(|o| crate::run_folder::OwnersUsed { file: None, ..o }),
            bucket: None,
            timings: Vec::new(),
            merged_from: Some(MergedFrom {
                buckets: a0.bucket.map_or(1, |b| b.count),
                empty_buckets: args.empty_buckets.clone(),
                runs: merged,
                parts,
            }),
            ..a0
        }),
    );
    // What the buckets read: each bucket's files of the book, and the reference tables as
    // --reference holds them (the same, checked above).
    manifest.inputs = reference;
    for r in &runs {
        let data = r.assessment().data_folder.clone().unwrap_or_default();
        for i in &r.manifest().inputs {
            let of_book = !data.is_empty() && Path::new(&i.file).starts_with(&data);
            if of_book && !manifest.inputs.contains(i) {
                manifest.inputs.push(i.clone());
            }
        }
    }
    staged.commit_with(&mut manifest, &hashes)?;
    Ok(report::screen(&summary, &model))
}
