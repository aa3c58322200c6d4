//! Is the model still working? Runs of one book at successive as-of dates, read back from their
//! verified run folders (M4), compared: stability of the scores (PSI), grade migration and the
//! sub-items behind it, discrimination back-tested on suspicious-transaction reports filed
//! after each run (AUC, KS, capture per grade), and process health (overrides, exceptions,
//! missing data, work list, branches apart). Formulas in docs/monitor.md.

pub mod page;
pub mod stats;

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
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
    /// Sub-item ids.
    pub subitems: Vec<String>,
    /// customer_id, branch_id, total_score, computed_grade, grade, basis, direct_low_class and
    /// a column per sub-item, sorted by customer_id.
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
                .map(|s| col(s.as_str()).cast(DataType::Int16)),
        );
        let scores = f
            .scan(SCORES)?
            .select(cols)
            .sort(["customer_id"], SortMultipleOptions::default())
            .collect()?;
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
            grades,
            subitems,
            scores,
            summary,
        })
    }

    fn strs(&self, c: &str) -> Result<Vec<Option<String>>> {
        Ok(self
            .scores
            .column(c)?
            .str()?
            .iter()
            .map(|s| s.map(String::from))
            .collect())
    }

    fn floats(&self, c: &str) -> Result<Vec<f64>> {
        Ok(self
            .scores
            .column(c)?
            .f64()?
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect())
    }

    fn rank(&self, grade: Option<&str>) -> Option<usize> {
        grade.and_then(|g| self.grades.iter().position(|x| x == g))
    }
}

/// The suspicious-transaction reports the back-test reads, and the customers' relationship
/// ends, from one book (the latest run's inputs, or `--data`).
pub struct Outcomes {
    /// Where they were read from.
    pub source: String,
    /// (customer_id, report_date) of every suspicious report.
    pub reports: Vec<(String, NaiveDate)>,
    /// relationship_end of each customer of the book (`None`: still a customer).
    pub customers: BTreeMap<String, Option<NaiveDate>>,
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
        let r = reports
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
        let days = r.column("report_date")?.date()?.physical().clone();
        let ids = r.column("customer_id")?.str()?;
        let reports = ids
            .iter()
            .zip(days.iter())
            .filter_map(|(c, d)| Some((c?.to_string(), day(d?))))
            .collect();
        let c = customers
            .select([
                col("customer_id").cast(DataType::String),
                col("relationship_end"),
            ])
            .collect()?;
        let ends = c.column("relationship_end")?.date()?.physical().clone();
        let customers = c
            .column("customer_id")?
            .str()?
            .iter()
            .zip(ends.iter())
            .filter_map(|(id, d)| Some((id?.to_string(), d.map(day))))
            .collect();
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
        let grades = r.strs("grade")?;
        let counts = r
            .grades
            .iter()
            .map(|g| {
                (
                    g.clone(),
                    grades.iter().filter(|x| x.as_deref() == Some(g)).count() as u64,
                )
            })
            .collect();
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
        stability: stability(runs)?,
        migration: runs
            .windows(2)
            .map(|w| migration(&w[0], &w[1]))
            .collect::<Result<_>>()?,
        discrimination: discrimination(runs, outcomes, horizon_months)?,
        health: runs.iter().map(health).collect::<Result<_>>()?,
    })
}

fn psi_rows(counts: &[Vec<u64>], dates: &[String]) -> Vec<Psi> {
    counts
        .iter()
        .enumerate()
        .map(|(i, c)| Psi {
            as_of: dates[i].clone(),
            counts: c.clone(),
            vs_previous: (i > 0).then(|| stats::psi(&counts[i - 1], c)).flatten(),
            vs_first: stats::psi(&counts[0], c),
        })
        .collect()
}

fn stability(runs: &[Run]) -> Result<Stability> {
    let edges = stats::decile_edges(&runs[0].floats("total_score")?);
    let dates: Vec<String> = runs.iter().map(|r| r.as_of.to_string()).collect();
    let counts = runs
        .iter()
        .map(|r| Ok(stats::bin_counts(&r.floats("total_score")?, &edges)))
        .collect::<Result<Vec<_>>>()?;
    let total_score = psi_rows(&counts, &dates);
    let mut subitems = Vec::new();
    for s in &runs[0].subitems {
        // The runs that score it, from the first on (a sub-item dropped by a later model ends
        // the series).
        let scored: Vec<&Run> = runs
            .iter()
            .take_while(|r| r.scores.column(s).is_ok())
            .collect();
        if scored.is_empty() {
            continue;
        }
        let values = scored
            .iter()
            .map(|r| {
                Ok(r.scores
                    .column(s)?
                    .i16()?
                    .iter()
                    .map(|v| v.unwrap_or(-1))
                    .collect::<Vec<i16>>())
            })
            .collect::<Result<Vec<_>>>()?;
        let mut levels: Vec<i16> = values.iter().flatten().copied().collect();
        levels.sort_unstable();
        levels.dedup();
        let counts: Vec<Vec<u64>> = values
            .iter()
            .map(|v| {
                let mut c = vec![0u64; levels.len()];
                for x in v {
                    c[levels.binary_search(x).unwrap_or(0)] += 1;
                }
                c
            })
            .collect();
        subitems.push(SubitemPsi {
            subitem: s.clone(),
            levels,
            runs: psi_rows(&counts, &dates[..scored.len()]),
        });
    }
    Ok(Stability {
        score_edges: edges,
        total_score,
        subitems,
    })
}

fn migration(a: &Run, b: &Run) -> Result<Migration> {
    let (ida, idb) = (a.strs("customer_id")?, b.strs("customer_id")?);
    let (ga, gb) = (a.strs("grade")?, b.strs("grade")?);
    let common: Vec<&String> = a
        .subitems
        .iter()
        .filter(|s| b.subitems.contains(s))
        .collect();
    let scores = |r: &Run| -> Result<Vec<Vec<i16>>> {
        common
            .iter()
            .map(|s| {
                Ok(r.scores
                    .column(s.as_str())?
                    .i16()?
                    .iter()
                    .map(|v| v.unwrap_or(-1))
                    .collect())
            })
            .collect()
    };
    let (sa, sb) = (scores(a)?, scores(b)?);
    let mut matrix = vec![vec![0u64; b.grades.len()]; a.grades.len()];
    let (mut in_both, mut changed, mut left) = (0u64, 0u64, 0u64);
    let mut up = vec![0u64; common.len()];
    let mut down = vec![0u64; common.len()];
    // Both frames are sorted by customer id: walked side by side.
    let (mut i, mut j) = (0usize, 0usize);
    while i < ida.len() {
        match (j < idb.len()).then(|| ida[i].cmp(&idb[j])) {
            Some(std::cmp::Ordering::Greater) => j += 1,
            Some(std::cmp::Ordering::Equal) => {
                in_both += 1;
                if let (Some(x), Some(y)) = (a.rank(ga[i].as_deref()), b.rank(gb[j].as_deref())) {
                    matrix[x][y] += 1;
                }
                if ga[i] != gb[j] {
                    changed += 1;
                    for k in 0..common.len() {
                        match sb[k][j].cmp(&sa[k][i]) {
                            std::cmp::Ordering::Greater => up[k] += 1,
                            std::cmp::Ordering::Less => down[k] += 1,
                            _ => {}
                        }
                    }
                }
                i += 1;
                j += 1;
            }
            _ => {
                left += 1;
                i += 1;
            }
        }
    }
    let mut drivers: Vec<Driver> = common
        .iter()
        .enumerate()
        .filter(|(k, _)| up[*k] + down[*k] > 0)
        .map(|(k, s)| Driver {
            subitem: s.to_string(),
            up: up[k],
            down: down[k],
        })
        .collect();
    drivers.sort_by_key(|d| std::cmp::Reverse(d.up + d.down));
    Ok(Migration {
        from: a.as_of.to_string(),
        to: b.as_of.to_string(),
        from_grades: a.grades.clone(),
        to_grades: b.grades.clone(),
        matrix,
        in_both,
        changed,
        changed_share: changed as f64 / in_both.max(1) as f64,
        entered: idb.len() as u64 - in_both,
        left,
        drivers,
    })
}

fn discrimination(runs: &[Run], o: &Outcomes, horizon_months: u32) -> Result<Discrimination> {
    let mut by_customer: BTreeMap<&str, Vec<NaiveDate>> = BTreeMap::new();
    for (c, d) in &o.reports {
        by_customer.entry(c.as_str()).or_default().push(*d);
    }
    let mut out = Vec::new();
    for r in runs {
        let end = r
            .as_of
            .checked_add_months(Months::new(horizon_months))
            .unwrap_or(NaiveDate::MAX);
        let complete = end <= o.observed_to;
        let ids = r.strs("customer_id")?;
        let totals = r.floats("total_score")?;
        let grades = r.strs("grade")?;
        let (mut scores, mut labels, mut gr) = (Vec::new(), Vec::new(), Vec::new());
        let mut left_out = 0u64;
        for (k, id) in ids.iter().enumerate() {
            let id = id.as_deref().unwrap_or_default();
            let reported = by_customer
                .get(id)
                .is_some_and(|ds| ds.iter().any(|d| *d > r.as_of && *d <= end));
            // A customer not reported is known to be negative only if watched for the whole
            // horizon: the book observes it, and the customer stayed.
            let watched = complete
                && match o.customers.get(id) {
                    None => false,
                    Some(None) => true,
                    Some(Some(ended)) => *ended >= end,
                };
            if !reported && !watched {
                left_out += 1;
                continue;
            }
            scores.push(totals[k]);
            labels.push(reported);
            gr.push(r.rank(grades[k].as_deref()));
        }
        // An incomplete horizon leaves only the reported: no back-test.
        let usable = complete;
        let reported = labels.iter().filter(|x| **x).count() as u64;
        let capture = r
            .grades
            .iter()
            .enumerate()
            .map(|(g, name)| {
                let inside: Vec<usize> = (0..gr.len()).filter(|k| gr[*k] == Some(g)).collect();
                let rep = inside.iter().filter(|k| labels[**k]).count() as u64;
                Capture {
                    grade: name.clone(),
                    customers: inside.len() as u64,
                    reported: rep,
                    capture_rate: rep as f64 / reported.max(1) as f64,
                }
            })
            .collect();
        out.push(Backtest {
            as_of: r.as_of.to_string(),
            horizon_end: end.to_string(),
            horizon_complete: complete,
            customers: if usable { labels.len() as u64 } else { 0 },
            left_out: if usable { left_out } else { ids.len() as u64 },
            reported: if usable { reported } else { 0 },
            auc: usable.then(|| stats::auc(&scores, &labels)).flatten(),
            ks: usable.then(|| stats::ks(&scores, &labels)).flatten(),
            capture: if usable { capture } else { Vec::new() },
        });
    }
    Ok(Discrimination {
        reports_from: o.source.clone(),
        observed_to: o.observed_to.to_string(),
        horizon_months,
        runs: out,
    })
}

/// The date of a Polars date (days since 1970-01-01).
fn day(d: i32) -> NaiveDate {
    crate::dates::epoch() + chrono::TimeDelta::days(i64::from(d))
}

fn count_map(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
        .collect()
}

fn health(r: &Run) -> Result<Health> {
    let n = r.scores.height() as u64;
    let basis = r.strs("basis")?;
    let (computed, grade) = (r.strs("computed_grade")?, r.strs("grade")?);
    let count = |b: &str| basis.iter().filter(|x| x.as_deref() == Some(b)).count() as u64;
    let (mut up, mut down) = (0u64, 0u64);
    for k in 0..basis.len() {
        if basis[k].as_deref() == Some("override") {
            // Grades are ranked highest first: a smaller rank is a higher grade.
            match (r.rank(grade[k].as_deref()), r.rank(computed[k].as_deref())) {
                (Some(g), Some(c)) if g < c => up += 1,
                (Some(g), Some(c)) if g > c => down += 1,
                _ => {}
            }
        }
    }
    let mut by_class: BTreeMap<String, u64> = BTreeMap::new();
    for (b, c) in basis.iter().zip(r.strs("direct_low_class")?) {
        if b.as_deref() == Some("direct_low") {
            *by_class
                .entry(c.unwrap_or_else(|| "(no class recorded)".into()))
                .or_default() += 1;
        }
    }
    let mut dh = count_map(&r.summary["direct_highest"]);
    dh.remove("several_conditions");
    let rec = &r.summary["reclassification"];
    let rate = |x: u64| x as f64 / n.max(1) as f64;
    Ok(Health {
        as_of: r.as_of.to_string(),
        customers: n,
        overrides: count("override"),
        override_rate: rate(count("override")),
        overrides_up: up,
        overrides_down: down,
        direct_highest: count("direct_highest"),
        direct_highest_rate: rate(count("direct_highest")),
        direct_highest_by_condition: dh,
        direct_low: count("direct_low"),
        direct_low_rate: rate(count("direct_low")),
        direct_low_by_class: by_class,
        scored_on_missing_data: count_map(&r.summary["scored_on_missing_data"]),
        work_list: rec["customers_needing_action"].as_u64().unwrap_or(0),
        overdue: rec["overdue"].as_u64().unwrap_or(0),
        branch_outliers: outliers(r, &grade)?,
    })
}

/// Branches whose highest-grade share lies OUTLIER_Z standard errors or more from the book's
/// (a z-test of one proportion against the book's share).
fn outliers(r: &Run, grade: &[Option<String>]) -> Result<Vec<BranchOutlier>> {
    let Some(highest) = r.grades.first() else {
        return Ok(Vec::new());
    };
    let mut per: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (b, g) in r.strs("branch_id")?.into_iter().zip(grade) {
        let e = per.entry(b.unwrap_or_default()).or_default();
        e.0 += 1;
        e.1 += u64::from(g.as_ref() == Some(highest));
    }
    let (n, h) = per
        .values()
        .fold((0u64, 0u64), |(a, b), (x, y)| (a + x, b + y));
    let p = h as f64 / n.max(1) as f64;
    if p <= 0.0 || p >= 1.0 {
        return Ok(Vec::new());
    }
    let mut out: Vec<BranchOutlier> = per
        .into_iter()
        .filter_map(|(branch, (c, hi))| {
            let share = hi as f64 / c as f64;
            let z = (share - p) / (p * (1.0 - p) / c as f64).sqrt();
            (z.abs() >= OUTLIER_Z).then_some(BranchOutlier {
                branch,
                customers: c,
                highest_share: share,
                book_share: p,
                z,
            })
        })
        .collect();
    out.sort_by(|a, b| b.z.abs().total_cmp(&a.z.abs()));
    Ok(out)
}
