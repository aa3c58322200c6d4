//! What a comparison reports: per candidate, the grade distribution beside the baseline's
//! (overall, per segment, per branch), the migration matrix, who moves up or down, customers
//! near a band edge, the review workload, and the STR back-test; for the baseline, its
//! sensitivity to each weight. Counted over the profiles, each weighing its customers.

use polars::prelude::*;
use serde::Serialize;

use super::candidates::Candidate;
use super::evaluate::{self, add_reviews, DistRow, GradeMatch, Grading, Workload, MONTHS};
use super::profiles::{Groups, Profiles};
use crate::error::Result;
use crate::model::{Model, E2};
use crate::scoring::{segment_expr, SEGMENT};

/// Per-profile facts that do not depend on the model.
pub struct Statics {
    /// Customers with the profile.
    pub n: Vec<u64>,
    /// Branch index (into `branches`).
    pub branch: Vec<u32>,
    /// Branch ids, sorted.
    pub branches: Vec<String>,
    /// Baseline segment index (into `segments`).
    pub segment: Vec<u32>,
    /// Baseline segment names.
    pub segments: Vec<String>,
    /// Has an STR.
    pub str_: Vec<bool>,
    /// Meets a direct-highest condition of some model.
    pub xh: Vec<bool>,
    /// (profile, months since the last review, customers), months capped at 240.
    pub reviews: Vec<(u32, Option<i32>, u64)>,
}

fn bools(df: &DataFrame, name: &str) -> Result<Vec<bool>> {
    Ok(df
        .column(name)?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect())
}

/// Index of each value of a string column in its sorted distinct values.
fn indexed(df: &DataFrame, name: &str) -> Result<(Vec<u32>, Vec<String>)> {
    let s = df.column(name)?.str()?;
    let mut names: Vec<String> = s.iter().map(|v| v.unwrap_or("").to_string()).collect();
    names.sort();
    names.dedup();
    let idx = s
        .iter()
        .map(|v| {
            names
                .binary_search(&v.unwrap_or("").to_string())
                .unwrap_or(0) as u32
        })
        .collect();
    Ok((idx, names))
}

impl Statics {
    /// The facts of `profiles`, segments as the baseline defines them.
    pub fn of(profiles: &Profiles, baseline: &Model) -> Result<Statics> {
        let t = &profiles.table;
        let seg = t
            .clone()
            .lazy()
            .select([segment_expr(baseline).alias(SEGMENT)])
            .collect()?;
        let (segment, segments) = indexed(&seg, SEGMENT)?;
        let (branch, branches) = indexed(t, "branch_id")?;
        let reviews_df = profiles
            .customers
            .clone()
            .lazy()
            .group_by([
                col("_profile"),
                col("_lr_months").clip_max(lit(SINCE_CAP)).alias("_m"),
            ])
            .agg([len().cast(DataType::UInt64).alias("n")])
            .collect()?;
        let p = reviews_df.column("_profile")?.cast(&DataType::UInt32)?;
        let m = reviews_df.column("_m")?.cast(&DataType::Int32)?;
        let n = reviews_df.column("n")?.u64()?.clone();
        let reviews = p
            .u32()?
            .iter()
            .zip(m.i32()?.iter())
            .zip(n.iter())
            .map(|((p, m), n)| (p.unwrap_or(0), m, n.unwrap_or(0)))
            .collect();
        Ok(Statics {
            n: t.column("n")?
                .u64()?
                .iter()
                .map(|v| v.unwrap_or(0))
                .collect(),
            branch,
            branches,
            segment,
            segments,
            str_: bools(t, "_str")?,
            xh: bools(t, "_xh_any")?,
            reviews,
        })
    }

    /// Customers in the book.
    pub fn customers(&self) -> u64 {
        self.n.iter().sum()
    }
}

/// Customers changing grade.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Changed {
    /// To a higher-risk grade.
    pub up: u64,
    /// To a lower-risk grade.
    pub down: u64,
    /// Graded by one model and not the other (SC2).
    pub in_or_out: u64,
}

/// Customers with STRs (and with direct-highest conditions) in one grade: how well the model
/// puts known suspicious customers in higher grades.
#[derive(Debug, Clone, Serialize)]
pub struct Backtest {
    /// The grade (baseline name).
    pub grade: String,
    /// Customers in it.
    pub customers: u64,
    /// Of those, with at least one STR.
    pub with_str: u64,
    /// Share of all customers with STRs that are in this grade.
    pub str_share: f64,
    /// Of those, meeting a direct-highest condition.
    pub with_xh: u64,
}

/// A candidate against the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateResult {
    /// Name.
    pub name: String,
    /// Model file or generated vector.
    pub source: String,
    /// `same` (the baseline's sub-item scores reused) or `rescored` (its own rules).
    pub scoring_rules: &'static str,
    /// How its grades were matched to the baseline's: `name`, `map` or `rank`.
    pub grades_compared_by: &'static str,
    /// Who moves.
    pub changed: Changed,
    /// Change in customers in the highest grade.
    pub highest_grade_change: i64,
    /// Customers per grade beside the baseline's.
    pub distribution: Vec<DistRow>,
    /// Customers by baseline grade (rows) and candidate grade (columns), baseline names, the
    /// last row and column `not graded` (SC2).
    pub migration: Vec<Vec<u64>>,
    /// Scored customers within one point of a band edge: [baseline, candidate].
    pub near_band_edge: [u64; 2],
    /// Reviews falling due per month and per branch.
    pub workload: Workload,
    /// Change in reviews over the 25 months.
    pub workload_change: i64,
    /// STR back-test per grade, highest first.
    pub backtest: Vec<Backtest>,
}

/// A model's grade per profile in baseline indices (None: not graded).
fn ranks(g: &Grading, m: Option<&GradeMatch>) -> Vec<Option<u8>> {
    g.own
        .iter()
        .map(|o| o.map(|o| m.map_or(o, |m| m.to_base[o as usize])))
        .collect()
}

/// Months since the last review kept apart (beyond, all are overdue alike).
const SINCE_CAP: i32 = 240;

/// Reviews per month and per branch under a grading (periods of the model's own grades).
/// Customers are first summed by (branch, grade, months since the last review), so the review
/// calendar is laid out once per cell, not per profile.
fn workload(s: &Statics, g: &Grading, model: &Model) -> (Vec<u64>, Vec<u64>) {
    let grades = model.grades.len();
    let slots = (SINCE_CAP + 2) as usize;
    let mut cells = vec![0u64; s.branches.len() * grades * slots];
    for (p, since, n) in &s.reviews {
        let Some(own) = g.own[*p as usize] else {
            continue;
        };
        let k = since.map_or(0, |m| (m.clamp(0, SINCE_CAP) + 1) as usize);
        cells[(s.branch[*p as usize] as usize * grades + own as usize) * slots + k] += n;
    }
    let mut months = vec![0u64; MONTHS];
    let mut per_branch = vec![0u64; s.branches.len()];
    let mut one = vec![0u64; MONTHS];
    for (i, n) in cells.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let (k, rest) = (i % slots, i / slots);
        let (branch, own) = (rest / grades, rest % grades);
        let since = (k > 0).then(|| k as i32 - 1);
        one.iter_mut().for_each(|x| *x = 0);
        add_reviews(&mut one, model.grades[own].review_months, since, *n);
        per_branch[branch] += one.iter().sum::<u64>();
        for (a, b) in months.iter_mut().zip(&one) {
            *a += b;
        }
    }
    (months, per_branch)
}

impl CandidateResult {
    /// Counts a candidate's grading against the baseline's.
    pub fn of(
        c: &Candidate,
        s: &Statics,
        baseline: &Model,
        base: &Grading,
        cand: &Grading,
        matching: &GradeMatch,
        rescored: bool,
    ) -> CandidateResult {
        let names = baseline.grade_names();
        let g = names.len();
        let (b, k) = (ranks(base, None), ranks(cand, Some(matching)));
        let mut migration = vec![vec![0u64; g + 1]; g + 1];
        let mut changed = Changed::default();
        // [dimension key][grade] counts, baseline and candidate.
        let mut all = vec![[0u64; 2]; g];
        let mut seg = vec![vec![[0u64; 2]; g]; s.segments.len()];
        let mut br = vec![vec![[0u64; 2]; g]; s.branches.len()];
        let mut back = vec![[0u64; 3]; g];
        let mut near = [0u64; 2];
        for p in 0..s.n.len() {
            let n = s.n[p];
            migration[b[p].map_or(g, |x| x as usize)][k[p].map_or(g, |x| x as usize)] += n;
            match (b[p], k[p]) {
                (Some(x), Some(y)) if y < x => changed.up += n,
                (Some(x), Some(y)) if y > x => changed.down += n,
                (Some(_), None) | (None, Some(_)) => changed.in_or_out += n,
                _ => {}
            }
            for (side, r) in [(0, b[p]), (1, k[p])] {
                if let Some(r) = r {
                    let r = r as usize;
                    all[r][side] += n;
                    seg[s.segment[p] as usize][r][side] += n;
                    br[s.branch[p] as usize][r][side] += n;
                }
            }
            if let Some(r) = k[p] {
                back[r as usize][0] += n;
                back[r as usize][1] += n * s.str_[p] as u64;
                back[r as usize][2] += n * s.xh[p] as u64;
            }
            near[0] += n * base.near_edge[p] as u64;
            near[1] += n * cand.near_edge[p] as u64;
        }
        let mut distribution = Vec::new();
        let mut rows = |dim: &str, key: &str, counts: &[[u64; 2]]| {
            for (gi, c) in counts.iter().enumerate() {
                distribution.push(DistRow {
                    dimension: dim.into(),
                    key: key.into(),
                    grade: names[gi].clone(),
                    baseline: c[0],
                    candidate: c[1],
                });
            }
        };
        rows("all", "all", &all);
        for (i, name) in s.segments.iter().enumerate() {
            rows("segment", name, &seg[i]);
        }
        for (i, name) in s.branches.iter().enumerate() {
            rows("branch", name, &br[i]);
        }
        let strs: u64 = back.iter().map(|x| x[1]).sum();
        let backtest = back
            .iter()
            .enumerate()
            .map(|(gi, x)| Backtest {
                grade: names[gi].clone(),
                customers: x[0],
                with_str: x[1],
                str_share: if strs == 0 {
                    0.0
                } else {
                    x[1] as f64 / strs as f64
                },
                with_xh: x[2],
            })
            .collect();
        let (bm, bb) = workload(s, base, baseline);
        let (cm, cb) = workload(s, cand, &c.model);
        let workload_change = cm.iter().sum::<u64>() as i64 - bm.iter().sum::<u64>() as i64;
        CandidateResult {
            name: c.name.clone(),
            source: c.source.clone(),
            scoring_rules: if rescored { "rescored" } else { "same" },
            grades_compared_by: matching.by,
            changed,
            highest_grade_change: all[0][1] as i64 - all[0][0] as i64,
            distribution,
            migration,
            near_band_edge: near,
            workload: Workload {
                baseline_by_month: bm,
                candidate_by_month: cm,
                by_branch: s
                    .branches
                    .iter()
                    .enumerate()
                    .map(|(i, name)| (name.clone(), [bb[i], cb[i]]))
                    .collect(),
            },
            workload_change,
            backtest,
        }
    }
}

/// The baseline's own figures.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineSummary {
    /// Model id and version.
    pub model: String,
    /// Customers per grade, highest first.
    pub grades: Vec<(String, u64)>,
    /// Scored customers within one point of a band edge.
    pub near_band_edge: u64,
    /// Reviews per month, months 0..=24.
    pub workload_by_month: Vec<u64>,
}

/// The baseline's figures.
pub fn baseline_summary(baseline: &Model, s: &Statics, base: &Grading) -> BaselineSummary {
    let names = baseline.grade_names();
    let mut grades: Vec<(String, u64)> = names.iter().map(|n| (n.clone(), 0)).collect();
    let mut near = 0;
    for p in 0..s.n.len() {
        if let Some(o) = base.own[p] {
            grades[o as usize].1 += s.n[p];
        }
        near += s.n[p] * base.near_edge[p] as u64;
    }
    BaselineSummary {
        model: format!("{} {}", baseline.meta.id, baseline.meta.version),
        grades,
        near_band_edge: near,
        workload_by_month: workload(s, base, baseline).0,
    }
}

/// How many customers change grade when one weight moves by one point.
#[derive(Debug, Clone, Serialize)]
pub struct Sensitivity {
    /// The sub-item.
    pub subitem: String,
    /// Weight + 1 point (taken from the others in proportion): [up, down]; None where a
    /// weight would reach 0 (W1).
    pub plus_one: Option<[u64; 2]>,
    /// Weight − 1 point (given to the others in proportion).
    pub minus_one: Option<[u64; 2]>,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The as-of date.
    pub as_of: String,
    /// Customers in the book.
    pub customers: u64,
    /// Distinct score profiles the customers fall in.
    pub profiles: u64,
    /// The baseline's figures.
    pub baseline: BaselineSummary,
    /// Each candidate against the baseline.
    pub candidates: Vec<CandidateResult>,
    /// The baseline's sensitivity to each weight.
    pub sensitivity: Vec<Sensitivity>,
}

/// Weights of one segment with sub-item `id` moved by `delta` (× 100) and the others moved the
/// other way in proportion to their weights, rounded (largest remainder) so they still sum to
/// exactly 100 with two decimals; None when a weight would fall to 0 or below (W1).
pub fn shifted(weights: &[(String, i64)], id: &str, delta: i64) -> Option<Vec<(String, i64)>> {
    let total: i64 = weights.iter().map(|w| w.1).sum();
    let at = weights.iter().position(|w| w.0 == id)?;
    let target = weights[at].1 + delta;
    let rest_before = total - weights[at].1;
    let rest_after = total - target;
    if target <= 0 || rest_after <= 0 || rest_before <= 0 {
        return None;
    }
    let mut out: Vec<(String, i64)> = weights.to_vec();
    out[at].1 = target;
    let mut shares: Vec<(usize, i64, i64)> = Vec::new(); // (index, floor, remainder)
    let mut assigned = 0;
    for (i, w) in weights.iter().enumerate() {
        if i == at {
            continue;
        }
        let num = w.1 * rest_after;
        let (q, r) = (num / rest_before, num % rest_before);
        shares.push((i, q, r));
        assigned += q;
    }
    let mut left = rest_after - assigned;
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| shares[*b].2.cmp(&shares[*a].2).then(a.cmp(b)));
    for j in order {
        if left == 0 {
            break;
        }
        shares[j].1 += 1;
        left -= 1;
    }
    for (i, q, _) in shares {
        if q <= 0 {
            return None;
        }
        out[i].1 = q;
    }
    Some(out)
}

/// The baseline's sensitivity: per sub-item, the customers changing grade when its weight
/// moves by ±1 point in every segment adopting it.
pub fn sensitivity(
    table: &DataFrame,
    s: &Statics,
    baseline: &Model,
    groups: &Groups,
    base: &Grading,
) -> Result<Vec<Sensitivity>> {
    let mut out = Vec::new();
    for sub in &baseline.subitems {
        if baseline.segments.iter().all(|g| g.weight_e2(&sub.id) == 0) {
            continue;
        }
        let mut moved = [None, None];
        for (k, delta) in [E2, -E2].into_iter().enumerate() {
            let mut m = baseline.clone();
            let mut ok = true;
            for seg in &mut m.segments {
                if seg.weight_e2(&sub.id) == 0 {
                    continue;
                }
                match shifted(&seg.weights, &sub.id, delta) {
                    Some(w) => seg.weights = w,
                    None => ok = false,
                }
            }
            if !ok {
                continue;
            }
            let g = evaluate::grade(table, &m, groups)?;
            let mut c = [0u64; 2];
            for p in 0..s.n.len() {
                match (base.own[p], g.own[p]) {
                    (Some(x), Some(y)) if y < x => c[0] += s.n[p],
                    (Some(x), Some(y)) if y > x => c[1] += s.n[p],
                    _ => {}
                }
            }
            moved[k] = Some(c);
        }
        out.push(Sensitivity {
            subitem: sub.id.clone(),
            plus_one: moved[0],
            minus_one: moved[1],
        });
    }
    Ok(out)
}
