//! Grading the profiles under one model, exactly as `assess` grades customers (the same
//! scoring expressions: exact integer totals, regional coefficients, bands, XH before XL before
//! scoring, SC2), and the counts a comparison reports for one candidate against the baseline.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::Serialize;

use super::profiles::{dl_col, score_col, xh_col, Groups};
use crate::error::{Error, Result};
use crate::frame::lookup;
use crate::model::{Model, E2, E4};
use crate::scoring::{self, SEGMENT};

/// One model's grading of every profile, in profile order.
pub struct Grading {
    /// The grade's index in the model's own grades (highest first); null: not graded (SC2).
    pub own: Vec<Option<u8>>,
    /// Exact weighted sum Σ a·(p × 100).
    pub weighted_sum: Vec<i64>,
    /// Adjusted total score (after the regional coefficient).
    pub adjusted: Vec<f64>,
    /// Scored (not by exception) and within one point of a band edge.
    pub near_edge: Vec<bool>,
}

/// Grades the profiles of `table` under `model`.
pub fn grade(table: &DataFrame, model: &Model, groups: &Groups) -> Result<Grading> {
    let g = groups.rules_of(model);
    let e = groups.exceptions_of(model);
    let mut cols = vec![
        col("kind"),
        col("tenure_days"),
        col("branch_id"),
        col("walk_in"),
        col(xh_col(e)).alias("_xh"),
        col(dl_col(e)).alias("_dl"),
    ];
    cols.extend(
        model
            .subitems
            .iter()
            .map(|s| col(score_col(g, &s.id)).alias(s.id.as_str())),
    );
    let names = model.grade_names();
    let last = (names.len() - 1) as u8;
    let idx: Vec<u8> = (0..names.len() as u8).collect();
    let scored = lookup(
        col("scored_grade"),
        names.clone(),
        idx,
        lit(NULL).cast(DataType::UInt8),
        DataType::UInt8,
    );
    let own = when(col("walk_in").and(lit(!model.scope.grade_walk_in)))
        .then(lit(NULL).cast(DataType::UInt8))
        .when(col("_xh"))
        .then(lit(0u8))
        .when(col("_dl"))
        .then(lit(last))
        .otherwise(scored);
    let m = model.m() as i64;
    let point = E2 * m * E4;
    let near = model.grades[..model.grades.len() - 1]
        .iter()
        .map(|gr| {
            let bound = gr.lower.e4 * E2 * m;
            (col("_adj") - lit(bound)).abs().lt_eq(lit(point))
        })
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let lf = table
        .clone()
        .lazy()
        .select(cols)
        .with_column(scoring::segment_expr(model).alias(SEGMENT));
    let df = scoring::totals_and_grades(lf, model)
        .select([
            own.alias("own"),
            col("weighted_sum"),
            col("adjusted_score"),
            near.and(col("_xh").not())
                .and(col("_dl").not())
                .alias("near"),
        ])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    Ok(Grading {
        own: df.column("own")?.u8()?.iter().collect(),
        weighted_sum: df
            .column("weighted_sum")?
            .i64()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect(),
        adjusted: df
            .column("adjusted_score")?
            .f64()?
            .iter()
            .map(|v| v.unwrap_or(0.0))
            .collect(),
        near_edge: df
            .column("near")?
            .bool()?
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect(),
    })
}

/// How a candidate's grades are matched to the baseline's.
#[derive(Debug, Clone)]
pub struct GradeMatch {
    /// Baseline index of each of the candidate's grades.
    pub to_base: Vec<u8>,
    /// `name`, `map` (given by --grade-map) or `rank`.
    pub by: &'static str,
}

impl GradeMatch {
    /// Matches `cand`'s grades to `base`'s: by name when the names are the same, by the
    /// user's mapping when given, else by rank when the counts agree.
    pub fn of(
        base: &Model,
        cand: &Model,
        map: &BTreeMap<String, String>,
        who: &str,
    ) -> Result<Self> {
        let b = base.grade_names();
        let c = cand.grade_names();
        let pos = |name: &str| b.iter().position(|x| x == name).map(|i| i as u8);
        if c.iter().all(|n| pos(n).is_some()) {
            return Ok(GradeMatch {
                to_base: c.iter().map(|n| pos(n).unwrap_or(0)).collect(),
                by: "name",
            });
        }
        if !map.is_empty() {
            let to_base = c
                .iter()
                .map(|n| {
                    map.get(n).and_then(|t| pos(t)).or_else(|| pos(n)).ok_or_else(|| {
                        Error::Usage(format!(
                            "{who}: grade '{n}' is not a baseline grade ({}) and --grade-map does not map it",
                            b.join(", ")
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            return Ok(GradeMatch { to_base, by: "map" });
        }
        if c.len() == b.len() {
            return Ok(GradeMatch {
                to_base: (0..c.len() as u8).collect(),
                by: "rank",
            });
        }
        Err(Error::Usage(format!(
            "{who}: grades {} cannot be matched to the baseline's {}; give --grade-map CANDIDATE=BASELINE for each",
            c.join(", "),
            b.join(", ")
        )))
    }
}

/// Customers per grade for one key of one dimension.
#[derive(Debug, Clone, Serialize)]
pub struct DistRow {
    /// `all`, `segment` (the baseline's segments) or `branch`.
    pub dimension: String,
    /// The segment or branch (`all` for the whole book).
    pub key: String,
    /// The grade (baseline name).
    pub grade: String,
    /// Customers with it under the baseline.
    pub baseline: u64,
    /// Under the candidate.
    pub candidate: u64,
}

/// Review workload implied by the review periods (T2): reviews falling due in each of the
/// as-of month (month 0, with the overdue) and the 24 months after it.
#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    /// Reviews per month under the baseline, months 0..=24.
    pub baseline_by_month: Vec<u64>,
    /// Under the candidate.
    pub candidate_by_month: Vec<u64>,
    /// Per branch, the 25 months' total: [baseline, candidate].
    pub by_branch: BTreeMap<String, [u64; 2]>,
}

/// Months of workload reported (the as-of month and 24 after it).
pub const MONTHS: usize = 25;

/// Adds the reviews of `n` customers with review period `period` months, last reviewed
/// `since` months before the as-of month (None: never), to `months`.
pub fn add_reviews(months: &mut [u64], period: u32, since: Option<i32>, n: u64) {
    let p = period.max(1) as i64;
    let first = match since {
        None => 0,
        Some(m) => (p - m as i64).max(0),
    };
    let mut k = first;
    while (k as usize) < months.len() {
        months[k as usize] += n;
        k += p;
    }
}
