//! Is the model still working? Runs of one book at successive as-of dates, read back from their
//! verified run folders (M4), compared: stability of the scores (PSI), grade migration and the
//! sub-items behind it, discrimination back-tested on suspicious-transaction reports filed
//! after each run (AUC, KS, capture per grade), and process health (overrides, exceptions,
//! missing data, work list, branches apart). Formulas in docs/monitor.md.

mod measures;
pub mod page;
pub mod stats;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::run_folder::{RunFolder, SCORES, SUMMARY};

/// The |z| from which a branch's highest-grade share is called apart from the book's.
pub const OUTLIER_Z: f64 = 3.0;

/// One run as the monitor reads it.
pub struct Run {
    /// The folder, as given.
    pub folder: String,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// `id version` of the model.
    pub model: String,
    /// SHA-256 of the resolved model.
    pub model_sha256: String,
    /// Grade names, highest first.
    pub grades: Vec<String>,
    /// The model's page language (`[model] language`), if set.
    pub language: Option<String>,
    /// Sub-item ids.
    pub subitems: Vec<String>,
    /// customer_id, branch_id, total_score, computed_grade, grade, basis, direct_low_class and
    /// a column per sub-item (Int16, -1 where the sub-item does not apply).
    pub scores: DataFrame,
    /// summary.json.
    pub summary: Value,
}

impl Run {
    /// Opens a run folder (its files checked against its manifest) and reads what the monitor
    /// needs.
    pub fn open(dir: &std::path::Path) -> Result<Run> {
        let f = RunFolder::open(dir)?;
        let a = f.assessment();
        let model = &a.model;
        let names = |key: &str, field: &str| -> Vec<String> {
            model[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|g| g[field].as_str().map(String::from))
                .collect()
        };
        let grades = names("grades", "name");
        let subitems = names("subitems", "id");
        let mut cols = vec![
            col("customer_id").cast(DataType::String),
            col("branch_id").cast(DataType::String),
            col("total_score").cast(DataType::Float64),
            col("computed_grade").cast(DataType::String),
            col("grade").cast(DataType::String),
            col("basis").cast(DataType::String),
        ];
        let schema = f.scan(SCORES)?.collect_schema()?;
        cols.push(if schema.contains("direct_low_class") {
            col("direct_low_class").cast(DataType::String)
        } else {
            lit(NULL).cast(DataType::String).alias("direct_low_class")
        });
        cols.extend(
            subitems
                .iter()
                .filter(|s| schema.contains(s))
                // A sub-item that does not apply to a customer (no score): level -1.
                .map(|s| col(s.as_str()).cast(DataType::Int16).fill_null(lit(-1i16))),
        );
        let scores = f.scan(SCORES)?.select(cols).collect()?;
        let text = std::fs::read_to_string(f.file(SUMMARY)?)
            .map_err(|e| Error::Input(format!("{}: {e}", dir.display())))?;
        let summary: Value = serde_json::from_str(&text)
            .map_err(|e| Error::Input(format!("{}/{SUMMARY}: {e}", dir.display())))?;
        Ok(Run {
            folder: dir.display().to_string(),
            as_of: f.as_of()?,
            model: format!(
                "{} {}",
                model["meta"]["id"].as_str().unwrap_or("?"),
                model["meta"]["version"].as_str().unwrap_or("?")
            ),
            model_sha256: a.model_sha256.clone(),
            language: model["meta"]["language"].as_str().map(String::from),
            grades,
            subitems,
            scores,
            summary,
        })
    }
}

/// The suspicious-transaction reports the back-test reads, and the customers' relationship
/// ends, from one book (the latest run's inputs, or `--data`).
pub struct Outcomes {
    /// Where they were read from.
    pub source: String,
    /// customer_id and report_date of every suspicious report.
    pub reports: DataFrame,
    /// customer_id and relationship_end (null: still a customer) of every customer of the book.
    pub customers: DataFrame,
    /// The last day the book observes.
    pub observed_to: NaiveDate,
}

impl Outcomes {
    /// Reads `reports.parquet` and `customers.parquet` from the scans given.
    pub fn read(
        source: String,
        reports: LazyFrame,
        customers: LazyFrame,
        observed_to: NaiveDate,
    ) -> Result<Outcomes> {
        let reports = reports
            .filter(
                col("report_type")
                    .cast(DataType::String)
                    .eq(lit("suspicious")),
            )
            .select([
                col("customer_id").cast(DataType::String),
                col("report_date"),
            ])
            .collect()?;
        let customers = customers
            .select([
                col("customer_id").cast(DataType::String),
                col("relationship_end"),
            ])
            .collect()?;
        Ok(Outcomes {
            source,
            reports,
            customers,
            observed_to,
        })
    }
}

/// What `monitor` found (monitor.json).
#[derive(Debug, Serialize)]
pub struct Monitor {
    /// The runs, oldest first.
    pub runs: Vec<RunInfo>,
    /// Where the runs' models differ from the first run's.
    pub model_changes: Vec<String>,
    /// Score stability.
    pub stability: Stability,
    /// Grade migration between consecutive runs.
    pub migration: Vec<Migration>,
    /// The back-test of each run.
    pub discrimination: Discrimination,
    /// Process health per run.
    pub health: Vec<Health>,
}

/// A run in the monitor.
#[derive(Debug, Serialize)]
pub struct RunInfo {
    /// YYYY-MM-DD.
    pub as_of: String,
    /// The folder.
    pub folder: String,
    /// `id version`.
    pub model: String,
    /// SHA-256 of the resolved model.
    pub model_sha256: String,
    /// Customers graded.
    pub customers: u64,
    /// Customers per grade, highest first.
    pub grades: Vec<(String, u64)>,
}

/// Population stability indices.
#[derive(Debug, Serialize)]
pub struct Stability {
    /// The decile edges of the first run's total scores (the bins of every run's).
    pub score_edges: Vec<f64>,
    /// Total score: per run, customers per bin and the PSI against the previous and the first
    /// run.
    pub total_score: Vec<Psi>,
    /// Per sub-item, its levels and per run the PSI of its score distribution.
    pub subitems: Vec<SubitemPsi>,
}

/// A run's PSI.
#[derive(Debug, Serialize)]
pub struct Psi {
    /// The run's as-of date.
    pub as_of: String,
    /// Customers per bin.
    pub counts: Vec<u64>,
    /// Against the run before (none for the first).
    pub vs_previous: Option<f64>,
    /// Against the first run.
    pub vs_first: Option<f64>,
}

/// A sub-item's PSI per run.
#[derive(Debug, Serialize)]
pub struct SubitemPsi {
    /// The sub-item.
    pub subitem: String,
    /// Its levels (scores) seen in any run.
    pub levels: Vec<i16>,
    /// Per run (those that score it).
    pub runs: Vec<Psi>,
}

/// Migration between two consecutive runs.
#[derive(Debug, Serialize)]
pub struct Migration {
    /// The earlier run's as-of date.
    pub from: String,
    /// The later run's.
    pub to: String,
    /// Grades of the earlier run (rows), highest first.
    pub from_grades: Vec<String>,
    /// Grades of the later run (columns).
    pub to_grades: Vec<String>,
    /// Customers in both runs per (earlier grade, later grade).
    pub matrix: Vec<Vec<u64>>,
    /// Customers in both runs.
    pub in_both: u64,
    /// Of them, those whose grade changed.
    pub changed: u64,
    /// changed / in_both.
    pub changed_share: f64,
    /// Customers only in the later run.
    pub entered: u64,
    /// Customers only in the earlier run.
    pub left: u64,
    /// The sub-items whose score moved for customers who changed grade, most first.
    pub drivers: Vec<Driver>,
}

/// A sub-item behind grade changes.
#[derive(Debug, Serialize)]
pub struct Driver {
    /// The sub-item.
    pub subitem: String,
    /// Customers who changed grade and whose score of it rose.
    pub up: u64,
    /// … and fell.
    pub down: u64,
}

/// The back-test.
#[derive(Debug, Serialize)]
pub struct Discrimination {
    /// Where the reports came from.
    pub reports_from: String,
    /// The last day observed.
    pub observed_to: String,
    /// The horizon after each as-of date, months.
    pub horizon_months: u32,
    /// Per run.
    pub runs: Vec<Backtest>,
}

/// One run's back-test.
#[derive(Debug, Serialize)]
pub struct Backtest {
    /// The run's as-of date.
    pub as_of: String,
    /// The end of its horizon.
    pub horizon_end: String,
    /// Whether the book observes the whole horizon.
    pub horizon_complete: bool,
    /// Customers back-tested.
    pub customers: u64,
    /// Customers left out: no full horizon (the book ends before it, or their relationship
    /// ended within it, or they are no longer in the book), and not reported.
    pub left_out: u64,
    /// Customers back-tested who were reported within the horizon.
    pub reported: u64,
    /// AUC of the total score.
    pub auc: Option<f64>,
    /// KS of the total score.
    pub ks: Option<f64>,
    /// Per grade (highest first): (grade, reported customers in it, share of the reported,
    /// customers in it, reported rate in it).
    pub capture: Vec<Capture>,
}

/// A grade's capture.
#[derive(Debug, Serialize)]
pub struct Capture {
    /// The grade.
    pub grade: String,
    /// Back-tested customers in it.
    pub customers: u64,
    /// Of them reported.
    pub reported: u64,
    /// reported / all reported.
    pub capture_rate: f64,
}

/// Process health of one run.
#[derive(Debug, Serialize)]
pub struct Health {
    /// The as-of date.
    pub as_of: String,
    /// Customers.
    pub customers: u64,
    /// Grades set by hand (basis `override`), and their share.
    pub overrides: u64,
    /// overrides / customers.
    pub override_rate: f64,
    /// Overrides to a higher grade than computed.
    pub overrides_up: u64,
    /// … to a lower.
    pub overrides_down: u64,
    /// Direct-highest customers and their share; per condition from the summary.
    pub direct_highest: u64,
    /// direct_highest / customers.
    pub direct_highest_rate: f64,
    /// Per condition (customers meeting it; one customer may meet several).
    pub direct_highest_by_condition: BTreeMap<String, u64>,
    /// Direct-low customers and their share.
    pub direct_low: u64,
    /// direct_low / customers.
    pub direct_low_rate: f64,
    /// Per recorded class (L-CDD29).
    pub direct_low_by_class: BTreeMap<String, u64>,
    /// Customers scored on missing data, per sub-item (PR3).
    pub scored_on_missing_data: BTreeMap<String, u64>,
    /// Customers needing action.
    pub work_list: u64,
    /// Of them overdue.
    pub overdue: u64,
    /// Branches whose highest-grade share lies apart from the book's.
    pub branch_outliers: Vec<BranchOutlier>,
}

/// A branch apart.
#[derive(Debug, Serialize)]
pub struct BranchOutlier {
    /// The branch.
    pub branch: String,
    /// Its customers.
    pub customers: u64,
    /// Its highest-grade share.
    pub highest_share: f64,
    /// The book's.
    pub book_share: f64,
    /// (branch share − book share) / √(book share·(1 − book share)/customers).
    pub z: f64,
}

/// Computes the monitor of `runs` (oldest first, distinct as-of dates).
pub fn monitor(runs: &[Run], outcomes: &Outcomes, horizon_months: u32) -> Result<Monitor> {
    let first = &runs[0];
    let model_changes = runs
        .iter()
        .skip(1)
        .filter(|r| r.model_sha256 != first.model_sha256)
        .map(|r| {
            format!(
                "{}: model {} (sha256 {}…) differs from the first run's {} (sha256 {}…)",
                r.as_of,
                r.model,
                &r.model_sha256[..12.min(r.model_sha256.len())],
                first.model,
                &first.model_sha256[..12.min(first.model_sha256.len())]
            )
        })
        .collect();
    let mut infos = Vec::new();
    for r in runs {
        let counts = measures::grade_counts(r)?;
        infos.push(RunInfo {
            as_of: r.as_of.to_string(),
            folder: r.folder.clone(),
            model: r.model.clone(),
            model_sha256: r.model_sha256.clone(),
            customers: r.scores.height() as u64,
            grades: counts,
        });
    }
    Ok(Monitor {
        runs: infos,
        model_changes,
        stability: measures::stability(runs)?,
        migration: runs
            .windows(2)
            .map(|w| measures::migration(&w[0], &w[1]))
            .collect::<Result<_>>()?,
        discrimination: measures::discrimination(runs, outcomes, horizon_months)?,
        health: runs.iter().map(measures::health).collect::<Result<_>>()?,
    })
}
