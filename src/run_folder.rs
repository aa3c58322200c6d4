//! The output folders riskgrade writes, and the one place that knows them: the names of their
//! files, the `.riskgrade` marker that says which kind of folder it is, and the typed manifest
//! (M4) that lists every input read and every file written with its SHA-256.
//!
//! A reader never opens a run's file by itself: [`RunFolder::open`] checks the folder's shape
//! (marker, manifest, every file listed, every output of the kind present in the list), and
//! [`RunFolder::file`] hands out a file only once its hash equals the manifest's. A file edited,
//! added or removed since the run is an error before any reader sees it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::bucket::{Bucket, CustomerSet};
use crate::error::{Error, Result};
use crate::io;

/// The manifest of an output folder.
pub const MANIFEST: &str = "manifest.json";
/// The marker file that identifies a folder written by riskgrade, and its kind.
pub const MARKER: &str = ".riskgrade";
/// The first line of [`MARKER`].
const MARKER_TEXT: &str = "riskgrade output folder: replaced as a whole by the next run\n";
/// The manifest format this riskgrade writes and reads.
pub const FORMAT: u32 = 2;

/// Every customer's scores and grades.
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
/// The figures the report draws besides the summary, as data (added up by `merge`).
pub const REPORT_DATA: &str = "report.json";
/// Every feature of every customer (with `--keep-features`).
pub const FEATURES: &str = "features.parquet";
/// The beneficial owners of the run's entity customers (when the book has an ownership graph).
pub const BENEFICIAL_OWNERS: &str = "beneficial_owners.parquet";
/// Where a merged run keeps the manifests of the bucket runs it was made from.
pub const BUCKETS: &str = "buckets";

/// Every output of an assessment run but the manifest, in manifest order.
pub const OUTPUTS: [&str; 9] = [
    SCORES,
    DISTRIBUTION,
    SUMMARY,
    RECLASSIFY,
    RECLASSIFY_CSV,
    GRADES_NEXT,
    HISTORY,
    REPORT,
    REPORT_DATA,
];

/// The outputs with a row per customer (or per customer and event): in a run merged from
/// buckets they may be datasets, a folder of the same name holding one part per bucket
/// (`scores.parquet/part-00003.parquet`).
pub const PER_CUSTOMER: [&str; 7] = [
    SCORES,
    RECLASSIFY,
    RECLASSIFY_CSV,
    GRADES_NEXT,
    HISTORY,
    FEATURES,
    BENEFICIAL_OWNERS,
];

/// The path of bucket `k`'s part of the dataset `name` (`scores.parquet` →
/// `scores.parquet/part-00003.parquet`).
pub fn part_name(name: &str, k: u32) -> String {
    let ext = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_string())
        .unwrap_or_default();
    format!("{name}/part-{k:05}.{ext}")
}

/// The extract's control record (JSON).
pub const CONTROL_JSON: &str = "control.json";
/// The extract's control counts (CSV).
pub const CONTROL_CSV: &str = "control.csv";
/// The comparison's result (JSON).
pub const COMPARE_JSON: &str = "compare.json";
/// The comparison's page (the committee pack).
pub const COMPARE_HTML: &str = "compare.html";
/// The comparison's result per candidate (CSV).
pub const COMPARE_CSV: &str = "compare.csv";
/// The comparison's lists of customers changing grade, one file per candidate.
pub const CHANGED: &str = "changed";
/// The monitor's figures (JSON).
pub const MONITOR_JSON: &str = "monitor.json";
/// The monitor's figures, a row each (CSV).
pub const MONITOR_CSV: &str = "monitor.csv";
/// The monitor's page.
pub const MONITOR_HTML: &str = "monitor.html";

/// What kind of folder riskgrade wrote: each command replaces only a folder of its own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FolderKind {
    /// An assessment run (`assess`, `merge`).
    Run,
    /// Inspection tables (`extract`).
    Extract,
    /// A comparison of models (`compare`).
    Compare,
    /// A synthetic portfolio (`generate`).
    Book,
    /// The monitoring of runs (`monitor`).
    Monitor,
}

impl FolderKind {
    /// The name written in the marker.
    pub fn name(self) -> &'static str {
        match self {
            FolderKind::Run => "run",
            FolderKind::Extract => "extract",
            FolderKind::Compare => "compare",
            FolderKind::Book => "book",
            FolderKind::Monitor => "monitor",
        }
    }

    /// What such a folder is, for messages.
    pub fn what(self) -> &'static str {
        match self {
            FolderKind::Run => "an assessment run (riskgrade assess or merge)",
            FolderKind::Extract => "inspection tables (riskgrade extract)",
            FolderKind::Compare => "a comparison (riskgrade compare)",
            FolderKind::Book => "a synthetic portfolio (riskgrade generate)",
            FolderKind::Monitor => "the monitoring of runs (riskgrade monitor)",
        }
    }

    fn parse(s: &str) -> Option<FolderKind> {
        [
            FolderKind::Run,
            FolderKind::Extract,
            FolderKind::Compare,
            FolderKind::Book,
            FolderKind::Monitor,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

/// A file listed in a manifest with its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    /// Inputs: the absolute path (or `built-in:NAME`); outputs: the path inside the folder.
    pub file: String,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

impl FileHash {
    /// The hash of the file at `path`, listed as `name`.
    pub fn of(path: &Path, name: &str) -> Result<FileHash> {
        Ok(FileHash {
            file: name.to_string(),
            sha256: io::sha256_file(path)?,
        })
    }
}

/// Rows read from an input file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputRows {
    /// The file's name.
    pub file: String,
    /// Rows.
    pub rows: u64,
}

/// Wall time, CPU time and peak memory of one stage of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// The links table a bucket run read (`assess --links`) and what it was computed from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinksUsed {
    /// Its path where it was read (absent in a merged run: it lay where each task ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Its SHA-256.
    pub sha256: String,
    /// Shared keys it holds.
    pub keys: u64,
    /// The book it was computed from.
    pub book: CustomerSet,
}

/// The beneficial-owners table a run graded with: computed from the book's ownership graph,
/// or read (`assess --owners`, a table of the whole book for a bucket).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnersUsed {
    /// The table's path where it was read (absent: computed from the book's graph, or a
    /// merged run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Its SHA-256 where it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// What it was computed from.
    pub computed_from: crate::owners::OwnersSource,
}

/// A bucket run a merged run was made from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergedRun {
    /// The bucket run's folder when merged.
    pub run: String,
    /// Its bucket (absent: a run of the whole book).
    pub bucket: Option<Bucket>,
    /// Its manifest, copied into the merged run.
    pub manifest: String,
    /// SHA-256 of its manifest.
    pub sha256: String,
}

/// What a merged run was made from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergedFrom {
    /// Buckets of the split.
    pub buckets: u32,
    /// Buckets declared without customers.
    pub empty_buckets: Vec<u32>,
    /// The bucket runs.
    pub runs: Vec<MergedRun>,
    /// Whether the per-customer outputs are datasets of one part per bucket ([`PER_CUSTOMER`],
    /// [`part_name`]) rather than single files.
    #[serde(default)]
    pub parts: bool,
}

/// What an assessment run (`assess`, or `merge` of bucket runs) records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assessment {
    /// The as-of date, YYYY-MM-DD.
    pub as_of: String,
    /// The model file (absolute path, or `built-in:…`).
    pub model_file: String,
    /// The resolved model.
    pub model: Value,
    /// SHA-256 of the resolved model's JSON (what `features.parquet` names).
    pub model_sha256: String,
    /// The FATF lists in force.
    pub fatf_lists: String,
    /// The reference tables' folder (absolute path, or `built-in:reference`).
    pub reference_folder: String,
    /// The data folder (absent in a merged run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_folder: Option<String>,
    /// Rows of each input file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_rows: Vec<InputRows>,
    /// The customers graded from (`customers.parquet`).
    pub customers: CustomerSet,
    /// The links table read (`--links`).
    pub links: Option<LinksUsed>,
    /// The bucket graded (`--bucket`).
    pub bucket: Option<Bucket>,
    /// `--horizon` in days.
    pub horizon_days: u32,
    /// Whether `features.parquet` was kept.
    pub keep_features: bool,
    /// The beneficial owners graded with (`beneficial_owners.parquet` written); absent: the
    /// book has no ownership graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<OwnersUsed>,
    /// How the totals of `scores.parquet` are derived.
    pub total_formula: String,
    /// Time and memory per stage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timings: Vec<StageTime>,
    /// The bucket runs merged (`merge` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<MergedFrom>,
}

/// What an extract records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extraction {
    /// The run extracted from.
    pub run: String,
    /// SHA-256 of the run's manifest.
    pub run_manifest_sha256: String,
}

/// What a comparison records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Compared {
    /// The as-of date of the features compared.
    pub as_of: String,
    /// The baseline model file.
    pub baseline_file: String,
    /// The resolved baseline model.
    pub baseline: Value,
    /// Each candidate: name, source, resolved model.
    pub candidates: Vec<Value>,
    /// Where the features came from (a data folder, or a run's features file).
    pub features: String,
}

/// What a synthetic portfolio records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Generated {
    /// Customers.
    pub customers: u64,
    /// Seed.
    pub seed: u64,
    /// The as-of date the portfolio was made for.
    pub as_of: String,
}

/// What a monitor records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Monitored {
    /// The runs' as-of dates, oldest first (their manifests are among the inputs).
    pub as_of: Vec<String>,
    /// The back-test's horizon, months.
    pub horizon_months: u32,
    /// The last day the reports observe.
    pub observed_to: String,
    /// Where the reports came from.
    pub reports_from: String,
}

/// What the command that wrote a folder records, by command.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Record {
    /// `riskgrade assess`.
    Assess(Assessment),
    /// `riskgrade merge`.
    Merge(Assessment),
    /// `riskgrade extract`.
    Extract(Extraction),
    /// `riskgrade compare`.
    Compare(Compared),
    /// `riskgrade generate`.
    Generate(Generated),
    /// `riskgrade monitor`.
    Monitor(Monitored),
}

impl Record {
    /// The kind of folder the command writes.
    pub fn kind(&self) -> FolderKind {
        match self {
            Record::Assess(_) | Record::Merge(_) => FolderKind::Run,
            Record::Extract(_) => FolderKind::Extract,
            Record::Compare(_) => FolderKind::Compare,
            Record::Generate(_) => FolderKind::Book,
            Record::Monitor(_) => FolderKind::Monitor,
        }
    }
}

/// The manifest of an output folder (`manifest.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// The riskgrade version that wrote the folder.
    pub riskgrade_version: String,
    /// When the command started (RFC 3339).
    pub started: String,
    /// When it finished.
    pub finished: String,
    /// What the command records.
    #[serde(flatten)]
    pub record: Record,
    /// Every input read, with its hash.
    pub inputs: Vec<FileHash>,
    /// Every file written into the folder but the marker and the manifest, with its hash.
    pub outputs: Vec<FileHash>,
}

impl Manifest {
    /// A manifest of this riskgrade for `record`.
    pub fn new(started: String, record: Record) -> Manifest {
        Manifest {
            format: FORMAT,
            riskgrade_version: env!("CARGO_PKG_VERSION").to_string(),
            started,
            finished: crate::dates::now_rfc3339(),
            record,
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// Lists every file of a staged folder (marker and manifest aside) with its hash, in
    /// name order, folders walked; a file in `known` is listed with the hash given there
    /// (parts linked from bucket runs, whose hashes their manifests hold), not read.
    pub fn list_outputs(&mut self, dir: &Path, known: &[FileHash]) -> Result<()> {
        let mut out = Vec::new();
        for rel in files_under(dir)? {
            if rel == MARKER || rel == MANIFEST {
                continue;
            }
            match known.iter().find(|k| k.file == rel) {
                Some(k) => out.push(k.clone()),
                None => out.push(FileHash::of(&dir.join(&rel), &rel)?),
            }
        }
        self.outputs = out;
        Ok(())
    }

    /// Writes the manifest into a staged folder, with the marker of its kind.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let v = serde_json::to_value(self).map_err(|e| Error::Internal(e.to_string()))?;
        io::write_json(&v, &dir.join(MANIFEST))?;
        write_marker(dir, self.record.kind())
    }

    /// Reads the manifest of `dir`.
    pub fn read(dir: &Path) -> Result<(Manifest, String)> {
        let path = dir.join(MANIFEST);
        let text = fs::read_to_string(&path).map_err(|e| {
            Error::Usage(format!(
                "{}: {e}; give a folder written by riskgrade",
                path.display()
            ))
        })?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| Error::Input(format!("{}: not valid JSON: {e}", path.display())))?;
        if v["format"].as_u64() != Some(u64::from(FORMAT)) {
            return Err(Error::Input(format!(
                "{}: manifest format {} is not {FORMAT}; the folder was written by another \
                 riskgrade version ({}): read it with that version, or run the command again",
                path.display(),
                v["format"],
                v["riskgrade_version"]
            )));
        }
        let m: Manifest = serde_json::from_value(v).map_err(|e| {
            Error::Input(format!(
                "{}: {e}; the manifest is not as riskgrade wrote it",
                path.display()
            ))
        })?;
        Ok((m, io::sha256_bytes(text.as_bytes())))
    }
}

/// The SHA-256 of a model as the manifest records it (its JSON).
pub fn model_sha256(model: &Value) -> String {
    io::sha256_bytes(model.to_string().as_bytes())
}

/// Writes [`MARKER`] of `kind` into `dir`.
pub fn write_marker(dir: &Path, kind: FolderKind) -> Result<()> {
    let p = dir.join(MARKER);
    io::write_private(
        &p,
        format!("{MARKER_TEXT}kind: {}\n", kind.name()).as_bytes(),
    )
}

/// The kind of a folder riskgrade wrote, from its marker (`None`: no marker of riskgrade's).
/// A marker of an earlier version, without a kind, is read as the kind its manifest's command
/// writes.
pub fn marker_kind(dir: &Path) -> Option<FolderKind> {
    let text = fs::read_to_string(dir.join(MARKER)).ok()?;
    let rest = text.strip_prefix(MARKER_TEXT)?;
    if rest.is_empty() {
        let command = fs::read_to_string(dir.join(MANIFEST))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["command"].as_str().map(String::from));
        return Some(match command.as_deref() {
            Some("extract") => FolderKind::Extract,
            Some("compare") => FolderKind::Compare,
            _ => FolderKind::Run,
        });
    }
    FolderKind::parse(rest.strip_prefix("kind: ")?.trim_end())
}

/// Every file under `dir`, as paths relative to it with `/` between folders, in name order.
pub fn files_under(dir: &Path) -> Result<Vec<String>> {
    fn walk(root: &Path, rel: &str, out: &mut Vec<String>) -> Result<()> {
        let here = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        let mut names: Vec<_> = fs::read_dir(&here)
            .map_err(|e| Error::Input(format!("{}: {e}", here.display())))?
            .flatten()
            .collect();
        names.sort_by_key(|e| e.file_name());
        for e in names {
            let name = e.file_name().to_string_lossy().to_string();
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let ft = e
                .file_type()
                .map_err(|x| Error::Input(format!("{}: {x}", e.path().display())))?;
            if ft.is_dir() {
                walk(root, &r, out)?;
            } else {
                out.push(r);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    Ok(out)
}

/// Why a folder may not be replaced by an output of `kind`, or `None` when it may: it carries
/// the marker of that kind and holds nothing but what its manifest lists.
pub fn not_replaceable(dir: &Path, kind: FolderKind) -> Option<String> {
    let found = match marker_kind(dir) {
        Some(k) => k,
        None => return Some(format!("no {MARKER} marker: riskgrade did not write it")),
    };
    if found != kind {
        return Some(format!("it holds {}, not {}", found.what(), kind.what()));
    }
    let manifest: Value = match fs::read_to_string(dir.join(MANIFEST))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
    {
        Some(v) => v,
        None => return Some(format!("no readable {MANIFEST}")),
    };
    let Some(outputs) = manifest["outputs"].as_array() else {
        return Some(format!("its {MANIFEST} lists no outputs"));
    };
    let mut listed: Vec<(&str, &str)> = Vec::new();
    for o in outputs {
        match (o["file"].as_str(), o["sha256"].as_str()) {
            (Some(f), Some(h)) if safe_relative(f) => listed.push((f, h)),
            _ => {
                return Some(format!(
                    "its {MANIFEST} lists {o}, which is not a file of it"
                ))
            }
        }
    }
    let files = match files_under(dir) {
        Ok(f) => f,
        Err(e) => return Some(e.to_string()),
    };
    if let Some(f) = files
        .iter()
        .find(|f| *f != MARKER && *f != MANIFEST && !listed.iter().any(|(l, _)| l == f))
    {
        return Some(format!("it holds '{f}', which riskgrade did not write"));
    }
    // Every file as riskgrade wrote it: a file edited since is someone's work, kept.
    for (f, want) in listed {
        let p = dir.join(f);
        let regular = fs::symlink_metadata(&p).is_ok_and(|m| m.is_file());
        if !regular || io::sha256_file(&p).ok().as_deref() != Some(want) {
            return Some(format!("'{f}' changed since riskgrade wrote it"));
        }
    }
    None
}

/// Every difference between an output folder of any kind (with the inputs it read) and its
/// manifest: inputs and outputs changed or missing, files added, outputs of its kind the
/// manifest fails to list (`riskgrade verify`).
pub fn verify(dir: &Path) -> Result<Verification> {
    let inspected = inspect(dir, None);
    let (manifest, _, problems) = match inspected {
        Ok(x) => x,
        // A folder whose manifest is there but unreadable, of another format, or whose marker
        // is gone or contradicts it: changed since, not a usage error.
        Err(Error::Usage(m) | Error::Input(m)) if dir.join(MANIFEST).exists() => {
            return Ok(Verification {
                unchanged: 0,
                changed: vec![m],
            })
        }
        Err(e) => return Err(e),
    };
    let mut v = Verification {
        unchanged: 0,
        changed: problems,
    };
    // Some(true): the same; Some(false): changed; None: missing.
    let mut note = |same: Option<bool>, name: &str| match same {
        Some(true) => v.unchanged += 1,
        Some(false) => v.changed.push(format!("changed: {name}")),
        None => v.changed.push(format!("missing: {name}")),
    };
    let same = |path: &Path, want: &str| io::sha256_file(path).ok().map(|h| h == want);
    for i in &manifest.inputs {
        match i.file.strip_prefix("built-in:") {
            // A table built into riskgrade: checked against this binary's copy.
            Some(name) => {
                let ours = crate::reference::BUILTIN.iter().find(|(n, _)| *n == name);
                let ok = ours.is_some_and(|(_, t)| io::sha256_bytes(t.as_bytes()) == i.sha256);
                note(
                    Some(ok),
                    &format!("{} (compared with this riskgrade's copy)", i.file),
                );
            }
            None => note(same(Path::new(&i.file), &i.sha256), &i.file),
        }
    }
    if let Record::Assess(a) = &manifest.record {
        if let Some(LinksUsed {
            file: Some(file),
            sha256,
            ..
        }) = &a.links
        {
            note(same(Path::new(file), sha256), file);
        }
    }
    for o in &manifest.outputs {
        if safe_relative(&o.file) {
            let p = dir.join(&o.file);
            note(same(&p, &o.sha256), &p.display().to_string());
        }
    }
    Ok(v)
}

/// The outputs every folder of a kind writes (an assessment run's `features.parquet` when it
/// kept them; a merged run's bucket manifests).
fn required_outputs(record: &Record) -> Vec<String> {
    match record {
        Record::Assess(a) | Record::Merge(a) => {
            let mut r: Vec<String> = OUTPUTS.iter().map(|s| s.to_string()).collect();
            if a.keep_features {
                r.push(FEATURES.into());
            }
            if a.owners.is_some() {
                r.push(BENEFICIAL_OWNERS.into());
            }
            if let Some(m) = a.merged_from.as_ref().filter(|m| m.parts) {
                // Datasets: a part per bucket that has a run.
                let buckets: Vec<u32> = m
                    .runs
                    .iter()
                    .filter_map(|x| x.bucket.map(|b| b.index))
                    .collect();
                r = r
                    .into_iter()
                    .flat_map(|name| {
                        if PER_CUSTOMER.contains(&name.as_str()) {
                            buckets.iter().map(|k| part_name(&name, *k)).collect()
                        } else {
                            vec![name]
                        }
                    })
                    .collect();
            }
            if let Some(m) = &a.merged_from {
                r.extend(m.runs.iter().map(|x| x.manifest.clone()));
            }
            r
        }
        Record::Extract(_) => vec![CONTROL_CSV.into(), CONTROL_JSON.into()],
        Record::Compare(_) => vec![COMPARE_JSON.into(), COMPARE_CSV.into()],
        Record::Monitor(_) => vec![MONITOR_JSON.into(), MONITOR_CSV.into(), MONITOR_HTML.into()],
        Record::Generate(_) => crate::contract::FILES
            .iter()
            .filter(|f| f.required)
            .map(|f| f.file.to_string())
            .collect(),
    }
}

/// The inputs every folder of a kind read, by file name: an assessment run the data contract's
/// required files and the reference tables (the FATF lists and calendars by their own names);
/// an extract the run's manifest and customers file.
fn required_inputs(record: &Record) -> Vec<String> {
    match record {
        Record::Assess(a) | Record::Merge(a) => {
            let mut r: Vec<String> = crate::contract::FILES
                .iter()
                .filter(|f| f.required)
                .map(|f| f.file.to_string())
                .collect();
            r.extend(
                [
                    "countries.csv",
                    "regions.csv",
                    "industries.csv",
                    "branches.csv",
                ]
                .map(String::from),
            );
            r.extend(a.input_rows.iter().map(|i| i.file.clone()));
            r
        }
        Record::Extract(_) => vec![MANIFEST.into(), crate::contract::CUSTOMERS.file.into()],
        Record::Compare(_) | Record::Generate(_) | Record::Monitor(_) => Vec::new(),
    }
}

/// Reads the folder's marker and manifest (of kind `want`, or any) and lists what is wrong
/// with its shape: paths that are not the folder's, files listed twice, outputs of the kind the
/// manifest fails to list, files the manifest does not list.
fn inspect(dir: &Path, want: Option<FolderKind>) -> Result<(Manifest, String, Vec<String>)> {
    let expected = want.map_or("a folder written by riskgrade", |k| k.what());
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{}: no such folder; give {expected}",
            dir.display()
        )));
    }
    let kind = marker_kind(dir).ok_or_else(|| {
        Error::Usage(format!(
            "{}: no {MARKER} marker; give {expected}",
            dir.display()
        ))
    })?;
    if want.is_some_and(|w| w != kind) {
        return Err(Error::Usage(format!(
            "{}: holds {}; give {expected}",
            dir.display(),
            kind.what()
        )));
    }
    let (manifest, sha) = Manifest::read(dir)?;
    if manifest.record.kind() != kind {
        return Err(Error::Input(format!(
            "{}: its marker says {} but its manifest is of riskgrade {}",
            dir.display(),
            kind.what(),
            manifest.record.kind().name()
        )));
    }
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for o in &manifest.outputs {
        let f = o.file.as_str();
        if !safe_relative(f) || f == MARKER || f == MANIFEST {
            problems.push(format!(
                "{MANIFEST} lists '{f}', which is not a file of the folder"
            ));
        } else if !seen.insert(f) {
            problems.push(format!("{MANIFEST} lists '{f}' twice"));
        }
    }
    for r in required_outputs(&manifest.record) {
        if !seen.contains(r.as_str()) {
            problems.push(format!(
                "{MANIFEST} does not list {r}, which every such folder holds"
            ));
        }
    }
    for f in files_under(dir)? {
        if f != MARKER && f != MANIFEST && !seen.contains(f.as_str()) {
            problems.push(format!("added: {f} (the manifest does not list it)"));
        }
    }
    for f in &seen {
        if !fs::symlink_metadata(dir.join(f)).is_ok_and(|m| m.is_file()) {
            problems.push(format!("missing: {f} (the manifest lists it)"));
        }
    }
    let mut inputs = BTreeSet::new();
    for i in &manifest.inputs {
        if !inputs.insert(i.file.as_str()) {
            problems.push(format!("{MANIFEST} lists the input {} twice", i.file));
        }
    }
    let named = |n: &str| {
        manifest.inputs.iter().any(|i| {
            Path::new(i.file.trim_start_matches("built-in:"))
                .file_name()
                .is_some_and(|f| f == n)
        })
    };
    for r in required_inputs(&manifest.record) {
        if !named(&r) {
            problems.push(format!(
                "{MANIFEST} does not list the input {r}, which every such folder read"
            ));
        }
    }
    Ok((manifest, sha, problems))
}

/// A path listed in a manifest: relative, inside the folder, no `..`.
fn safe_relative(name: &str) -> bool {
    let p = Path::new(name);
    !name.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)))
}

/// What checking a folder against its manifest found.
#[derive(Debug, Default)]
pub struct Verification {
    /// Files whose hash matches.
    pub unchanged: usize,
    /// What differs: files changed, missing or added, outputs the manifest fails to list.
    pub changed: Vec<String>,
}

/// An assessment run's folder, opened for reading: shape checked at [`RunFolder::open`], each
/// file's hash checked the first time it is handed out.
pub struct RunFolder {
    dir: PathBuf,
    manifest: Manifest,
    manifest_sha256: String,
    checked: Mutex<BTreeSet<String>>,
}

impl std::fmt::Debug for RunFolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RunFolder({})", self.dir.display())
    }
}

impl RunFolder {
    /// Opens the assessment run in `dir`: a folder with riskgrade's marker of a run, a manifest
    /// of this format, every output of a run listed, every file in the folder listed. The
    /// hashes are checked as the files are asked for ([`RunFolder::file`]).
    pub fn open(dir: &Path) -> Result<RunFolder> {
        let (run, problems) = Self::inspect(dir)?;
        if let Some(p) = problems.first() {
            return Err(Error::Input(format!(
                "{}: {p}; the run folder is not as riskgrade wrote it (riskgrade verify --run {} lists every difference)",
                dir.display(),
                dir.display()
            )));
        }
        // The manifest's dates and lists against the summary it hashes: a manifest edited to
        // move the run's date is refused.
        let summary = run.summary()?;
        let a = run.assessment();
        if summary.as_of != a.as_of || summary.fatf_lists != a.fatf_lists {
            return Err(Error::Input(format!(
                "{}: the manifest says as of {} with FATF lists {}, its summary.json as of {} with {}; the run folder is not as riskgrade wrote it",
                dir.display(),
                a.as_of,
                a.fatf_lists,
                summary.as_of,
                summary.fatf_lists
            )));
        }
        Ok(run)
    }

    /// Opens the run and lists what is wrong with its shape, without stopping at the first.
    fn inspect(dir: &Path) -> Result<(RunFolder, Vec<String>)> {
        let (manifest, manifest_sha256, problems) = inspect(dir, Some(FolderKind::Run))?;
        Ok((
            RunFolder {
                dir: dir.to_path_buf(),
                manifest,
                manifest_sha256,
                checked: Mutex::new(BTreeSet::new()),
            },
            problems,
        ))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest file as it was read (checked against its hash again).
    pub fn manifest_bytes(&self) -> Result<Vec<u8>> {
        let path = self.dir.join(MANIFEST);
        let bytes =
            fs::read(&path).map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
        if io::sha256_bytes(&bytes) != self.manifest_sha256 {
            return Err(Error::Input(format!(
                "{}: changed while it was read",
                path.display()
            )));
        }
        Ok(bytes)
    }

    /// SHA-256 of the manifest file.
    pub fn manifest_sha256(&self) -> &str {
        &self.manifest_sha256
    }

    /// What the run records.
    pub fn assessment(&self) -> &Assessment {
        match &self.manifest.record {
            Record::Assess(a) | Record::Merge(a) => a,
            _ => unreachable!("RunFolder::open accepts assessment runs only"),
        }
    }

    /// The run's as-of date.
    pub fn as_of(&self) -> Result<NaiveDate> {
        let a = &self.assessment().as_of;
        NaiveDate::parse_from_str(a, "%Y-%m-%d").map_err(|_| {
            Error::Input(format!(
                "{}: as_of '{a}' is not a date",
                self.dir.join(MANIFEST).display()
            ))
        })
    }

    /// Whether the run lists `name` among its outputs, as a file or as a dataset of parts.
    pub fn has(&self, name: &str) -> bool {
        self.manifest.outputs.iter().any(|o| o.file == name) || !self.parts_of(name).is_empty()
    }

    /// The parts of the dataset `name`, in bucket order (none: a single file, or absent).
    fn parts_of(&self, name: &str) -> Vec<&str> {
        let prefix = format!("{name}/part-");
        let mut parts: Vec<&str> = self
            .manifest
            .outputs
            .iter()
            .map(|o| o.file.as_str())
            .filter(|f| f.starts_with(&prefix))
            .collect();
        parts.sort_unstable();
        parts
    }

    /// For a run whose per-customer outputs are datasets, the number of buckets they were cut
    /// into (`pmod(xxhash64(customer_id), N)`).
    pub fn buckets(&self) -> Option<u32> {
        self.assessment()
            .merged_from
            .as_ref()
            .filter(|m| m.parts)
            .map(|m| m.buckets)
    }

    /// The bucket runs' parts that exist, by bucket index (a run of datasets), in order.
    pub fn part_buckets(&self) -> Vec<u32> {
        let mut out: Vec<u32> = self
            .assessment()
            .merged_from
            .iter()
            .filter(|m| m.parts)
            .flat_map(|m| m.runs.iter().filter_map(|r| r.bucket.map(|b| b.index)))
            .collect();
        out.sort_unstable();
        out
    }

    /// The path of the output `name`, once its hash equals the manifest's.
    pub fn file(&self, name: &str) -> Result<PathBuf> {
        let want = self
            .manifest
            .outputs
            .iter()
            .find(|o| o.file == name)
            .ok_or_else(|| {
                Error::Input(format!("{}: the run has no {name}", self.dir.display()))
            })?;
        let path = self.dir.join(name);
        self.check_once(&path, &want.sha256, name)?;
        Ok(path)
    }

    /// A lazy scan of the Parquet output `name`: the file, or every part of the dataset in
    /// bucket order, each once its hash is checked.
    pub fn scan(&self, name: &str) -> Result<LazyFrame> {
        let parts = self.parts_of(name);
        if parts.is_empty() {
            return crate::inputs::scan_path(&self.file(name)?);
        }
        let scans = parts
            .iter()
            .map(|p| crate::inputs::scan_path(&self.file(p)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(concat(scans, UnionArgs::default())?)
    }

    /// A lazy scan of what the output `name` holds of bucket `k`: its part (`None` when the
    /// bucket has none), or, for a single file, the whole file (the caller selects the rows).
    pub fn scan_bucket(&self, name: &str, k: u32) -> Result<Option<LazyFrame>> {
        if self.buckets().is_none() {
            return Ok(Some(self.scan(name)?));
        }
        let part = part_name(name, k);
        if !self.manifest.outputs.iter().any(|o| o.file == part) {
            return Ok(None);
        }
        Ok(Some(crate::inputs::scan_path(&self.file(&part)?)?))
    }

    /// A lazy scan of the rows of `name` that may hold `customer`: in a run of datasets only
    /// the part of the customer's bucket is read (and checked).
    pub fn scan_for(&self, name: &str, customer: &str) -> Result<Option<LazyFrame>> {
        match self.buckets() {
            Some(n) => self.scan_bucket(name, crate::bucket::of(customer, n)),
            None => Ok(Some(self.scan(name)?)),
        }
    }

    /// The manifest of bucket `k`'s run, copied into a merged run (checked).
    pub fn bucket_manifest(&self, k: u32) -> Result<Option<Manifest>> {
        let Some(m) = &self.assessment().merged_from else {
            return Ok(None);
        };
        let Some(r) = m.runs.iter().find(|r| r.bucket.map(|b| b.index) == Some(k)) else {
            return Ok(None);
        };
        let path = self.file(&r.manifest)?;
        let text = fs::read_to_string(&path)
            .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::Input(format!("{}: {e}", path.display())))
    }

    /// The input files of the run named `file_name` (e.g. `customers.parquet`: one for a run
    /// of a book, one per bucket for a merged run), once each one's hash equals the manifest's.
    pub fn inputs(&self, file_name: &str) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for entry in self.manifest.inputs.iter().filter(|i| {
            Path::new(&i.file)
                .file_name()
                .is_some_and(|n| n == file_name)
        }) {
            let path = PathBuf::from(&entry.file);
            self.check_once(&path, &entry.sha256, &entry.file)?;
            out.push(path);
        }
        if out.is_empty() {
            return Err(Error::Input(format!(
                "{}: the run's manifest names no {file_name} among its inputs",
                self.dir.display()
            )));
        }
        Ok(out)
    }

    /// The input file named `file_name` that bucket `k`'s run read (a run of datasets; its
    /// copied manifest names it), once its hash equals the manifest's.
    pub fn input_of_bucket(&self, file_name: &str, k: u32) -> Result<PathBuf> {
        let theirs = self.bucket_manifest(k)?.ok_or_else(|| {
            Error::Input(format!(
                "{}: no run of bucket {k} was merged into it",
                self.dir.display()
            ))
        })?;
        let entry = theirs
            .inputs
            .iter()
            .find(|i| {
                Path::new(&i.file)
                    .file_name()
                    .is_some_and(|n| n == file_name)
            })
            .ok_or_else(|| {
                Error::Input(format!(
                    "{}: bucket {k}'s run names no {file_name} among its inputs",
                    self.dir.display()
                ))
            })?;
        if !self.manifest.inputs.contains(entry) {
            return Err(Error::Input(format!(
                "{}: bucket {k}'s {file_name} is not among the merged run's inputs",
                self.dir.display()
            )));
        }
        let path = PathBuf::from(&entry.file);
        self.check_once(&path, &entry.sha256, &entry.file)?;
        Ok(path)
    }

    fn check_once(&self, path: &Path, want: &str, name: &str) -> Result<()> {
        if self.checked.lock().expect("lock").contains(name) {
            return Ok(());
        }
        let got = io::sha256_file(path).map_err(|_| {
            Error::Input(format!(
                "{}: missing since the run (its manifest lists it)",
                path.display()
            ))
        })?;
        if got != want {
            return Err(Error::Input(format!(
                "{}: changed since the run (SHA-256 differs from the manifest's); a command reads only what the run read and wrote",
                path.display()
            )));
        }
        self.checked.lock().expect("lock").insert(name.to_string());
        Ok(())
    }

    /// The run's summary, once checked.
    pub fn summary(&self) -> Result<crate::report::Summary> {
        let p = self.file(SUMMARY)?;
        let t =
            fs::read_to_string(&p).map_err(|e| Error::Input(format!("{}: {e}", p.display())))?;
        serde_json::from_str(&t).map_err(|e| Error::Input(format!("{}: {e}", p.display())))
    }
}
