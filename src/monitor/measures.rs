//! The monitor's measures, each a few column expressions over the runs' scores (one pass per
//! measure and run); only the score distributions the statistics sort leave Polars.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use polars::prelude::*;
use serde_json::Value;

use super::{
    stats, Backtest, BranchOutlier, Capture, Discrimination, Driver, Health, Migration, Outcomes,
    Psi, Run, Stability, SubitemPsi, OUTLIER_Z,
};
use crate::dates::date_lit;
use crate::error::Result;
use crate::model::grade_rank;

/// The one-row results of `predicates` over `lf`: how many rows each holds true for.
fn counts(lf: LazyFrame, predicates: Vec<Expr>) -> Result<Vec<u64>> {
    let exprs: Vec<Expr> = predicates
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            p.fill_null(lit(false))
                .cast(DataType::UInt64)
                .sum()
                .alias(format!("c{i}"))
        })
        .collect();
    let df = lf.select(exprs).collect()?;
    df.columns()
        .iter()
        .map(|c| Ok(c.u64()?.get(0).unwrap_or(0)))
        .collect()
}

/// Counts per key of `key` over the rows `keep`, as a map (a null key as `null_key`).
fn count_by(lf: LazyFrame, keep: Expr, key: &str, null_key: &str) -> Result<BTreeMap<String, u64>> {
    let df = lf
        .filter(keep)
        .group_by([col(key).fill_null(lit(null_key.to_string())).alias("k")])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    Ok(df
        .column("k")?
        .str()?
        .iter()
        .zip(df.column("n")?.u64()?.iter())
        .map(|(k, n)| (k.unwrap_or_default().to_string(), n.unwrap_or(0)))
        .collect())
}

fn f64s(df: &DataFrame, c: &str) -> Result<Vec<f64>> {
    Ok(df
        .column(c)?
        .f64()?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

/// Customers per grade of a run, highest first.
pub fn grade_counts(r: &Run) -> Result<Vec<(String, u64)>> {
    let n = counts(
        r.scores.clone().lazy(),
        r.grades
            .iter()
            .map(|g| col("grade").eq(lit(g.clone())))
            .collect(),
    )?;
    Ok(r.grades.iter().cloned().zip(n).collect())
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

/// PSI of the total score (the first run's deciles) and of each sub-item (its levels).
pub fn stability(runs: &[Run]) -> Result<Stability> {
    let edges = stats::decile_edges(&f64s(&runs[0].scores, "total_score")?);
    let dates: Vec<String> = runs.iter().map(|r| r.as_of.to_string()).collect();
    let bins = runs
        .iter()
        .map(|r| Ok(stats::bin_counts(&f64s(&r.scores, "total_score")?, &edges)))
        .collect::<Result<Vec<_>>>()?;
    let total_score = psi_rows(&bins, &dates);
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
        let per_level = scored
            .iter()
            .map(|r| {
                let df = r
                    .scores
                    .clone()
                    .lazy()
                    .group_by([col(s.as_str()).alias("level")])
                    .agg([len().cast(DataType::UInt64).alias("n")])
                    .collect()?;
                Ok(df
                    .column("level")?
                    .i16()?
                    .iter()
                    .zip(df.column("n")?.u64()?.iter())
                    .map(|(l, n)| (l.unwrap_or(-1), n.unwrap_or(0)))
                    .collect::<BTreeMap<i16, u64>>())
            })
            .collect::<Result<Vec<_>>>()?;
        let mut levels: Vec<i16> = per_level.iter().flat_map(|m| m.keys().copied()).collect();
        levels.sort_unstable();
        levels.dedup();
        let counts: Vec<Vec<u64>> = per_level
            .iter()
            .map(|m| {
                levels
                    .iter()
                    .map(|l| m.get(l).copied().unwrap_or(0))
                    .collect()
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

/// Grade migration from run `a` to run `b`: one join of their customers, then counts.
pub fn migration(a: &Run, b: &Run) -> Result<Migration> {
    let common: Vec<&String> = a
        .subitems
        .iter()
        .filter(|s| b.subitems.contains(s))
        .collect();
    let side = |r: &Run, sfx: &str| {
        let mut cols = vec![
            col("customer_id"),
            col("grade").alias(format!("grade{sfx}")),
        ];
        cols.extend(
            common
                .iter()
                .map(|s| col(s.as_str()).alias(format!("{s}{sfx}"))),
        );
        r.scores.clone().lazy().select(cols)
    };
    let both = side(a, "_a").join(
        side(b, "_b"),
        [col("customer_id")],
        [col("customer_id")],
        JoinArgs::new(JoinType::Inner),
    );
    let changed = col("grade_a").neq_missing(col("grade_b"));
    let mut predicates = vec![col("customer_id").is_not_null(), changed.clone()];
    for s in &common {
        let (x, y) = (col(format!("{s}_a")), col(format!("{s}_b")));
        predicates.push(changed.clone().and(y.clone().gt(x.clone())));
        predicates.push(changed.clone().and(y.lt(x)));
    }
    for ga in &a.grades {
        for gb in &b.grades {
            predicates.push(
                col("grade_a")
                    .eq(lit(ga.clone()))
                    .and(col("grade_b").eq(lit(gb.clone()))),
            );
        }
    }
    let n = counts(both, predicates)?;
    let (in_both, changed) = (n[0], n[1]);
    let moved = &n[2..2 + 2 * common.len()];
    let cells = &n[2 + 2 * common.len()..];
    let mut drivers: Vec<Driver> = common
        .iter()
        .enumerate()
        .filter(|(k, _)| moved[2 * k] + moved[2 * k + 1] > 0)
        .map(|(k, s)| Driver {
            subitem: s.to_string(),
            up: moved[2 * k],
            down: moved[2 * k + 1],
        })
        .collect();
    drivers.sort_by_key(|d| std::cmp::Reverse(d.up + d.down));
    Ok(Migration {
        from: a.as_of.to_string(),
        to: b.as_of.to_string(),
        from_grades: a.grades.clone(),
        to_grades: b.grades.clone(),
        matrix: cells
            .chunks(b.grades.len().max(1))
            .map(<[u64]>::to_vec)
            .collect(),
        in_both,
        changed,
        changed_share: changed as f64 / in_both.max(1) as f64,
        entered: b.scores.height() as u64 - in_both,
        left: a.scores.height() as u64 - in_both,
        drivers,
    })
}

/// The back-test of every run on the reports filed after it.
pub fn discrimination(runs: &[Run], o: &Outcomes, horizon_months: u32) -> Result<Discrimination> {
    let runs = runs
        .iter()
        .map(|r| {
            let end = r
                .as_of
                .checked_add_months(Months::new(horizon_months))
                .unwrap_or(NaiveDate::MAX);
            backtest(r, o, end)
        })
        .collect::<Result<_>>()?;
    Ok(Discrimination {
        reports_from: o.source.clone(),
        observed_to: o.observed_to.to_string(),
        horizon_months,
        runs,
    })
}

/// One run's back-test over the horizon ending `end`: a customer reported in it is a
/// positive; one not reported counts only if watched for the whole horizon (the book observes
/// it, and the customer is in the book and stayed); the others are left out. A horizon the
/// book does not observe whole leaves every customer out.
fn backtest(r: &Run, o: &Outcomes, end: NaiveDate) -> Result<Backtest> {
    let complete = end <= o.observed_to;
    let mut b = Backtest {
        as_of: r.as_of.to_string(),
        horizon_end: end.to_string(),
        horizon_complete: complete,
        customers: 0,
        left_out: r.scores.height() as u64,
        reported: 0,
        auc: None,
        ks: None,
        capture: Vec::new(),
    };
    if !complete {
        return Ok(b);
    }
    let reported = o
        .reports
        .clone()
        .lazy()
        .filter(
            col("report_date")
                .gt(date_lit(r.as_of))
                .and(col("report_date").lt_eq(date_lit(end))),
        )
        .select([col("customer_id")])
        .unique(None, UniqueKeepStrategy::Any)
        .with_column(lit(true).alias("reported"));
    let book = o
        .customers
        .clone()
        .lazy()
        .with_column(lit(true).alias("in_book"));
    let left = || JoinArgs::new(JoinType::Left);
    let kept = r
        .scores
        .clone()
        .lazy()
        .select([col("customer_id"), col("total_score"), col("grade")])
        .join(reported, [col("customer_id")], [col("customer_id")], left())
        .join(book, [col("customer_id")], [col("customer_id")], left())
        .with_column(col("reported").fill_null(lit(false)))
        .filter(
            col("reported").or(col("in_book").fill_null(lit(false)).and(
                col("relationship_end")
                    .is_null()
                    .or(col("relationship_end").gt_eq(date_lit(end))),
            )),
        )
        .select([col("total_score"), col("grade"), col("reported")])
        .collect()?;
    let scores = f64s(&kept, "total_score")?;
    let labels: Vec<bool> = kept
        .column("reported")?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let mut predicates = vec![col("reported")];
    for g in &r.grades {
        let inside = col("grade").eq(lit(g.clone()));
        predicates.push(inside.clone());
        predicates.push(inside.and(col("reported")));
    }
    let n = counts(kept.clone().lazy(), predicates)?;
    let reported = n[0];
    b.capture = r
        .grades
        .iter()
        .zip(n[1..].chunks(2))
        .map(|(g, c)| Capture {
            grade: g.clone(),
            customers: c[0],
            reported: c[1],
            capture_rate: c[1] as f64 / reported.max(1) as f64,
        })
        .collect();
    b.customers = kept.height() as u64;
    b.left_out -= b.customers;
    b.reported = reported;
    b.auc = stats::auc(&scores, &labels);
    b.ks = stats::ks(&scores, &labels);
    Ok(b)
}

fn count_map(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
        .collect()
}

/// Process health of one run.
pub fn health(r: &Run) -> Result<Health> {
    let n = r.scores.height() as u64;
    let lf = r.scores.clone().lazy();
    let basis = |b: &str| col("basis").eq(lit(b.to_string()));
    // Grades are ranked highest first: a smaller rank is a higher grade.
    let (g, c) = (
        grade_rank(&r.grades, col("grade")),
        grade_rank(&r.grades, col("computed_grade")),
    );
    let k = counts(
        lf.clone(),
        vec![
            basis("override"),
            basis("override").and(g.clone().lt(c.clone())),
            basis("override").and(g.gt(c)),
            basis("direct_highest"),
            basis("direct_low"),
        ],
    )?;
    let mut dh = count_map(&r.summary["direct_highest"]);
    dh.remove("several_conditions");
    let rec = &r.summary["reclassification"];
    let rate = |x: u64| x as f64 / n.max(1) as f64;
    Ok(Health {
        as_of: r.as_of.to_string(),
        customers: n,
        overrides: k[0],
        override_rate: rate(k[0]),
        overrides_up: k[1],
        overrides_down: k[2],
        direct_highest: k[3],
        direct_highest_rate: rate(k[3]),
        direct_highest_by_condition: dh,
        direct_low: k[4],
        direct_low_rate: rate(k[4]),
        direct_low_by_class: count_by(
            lf,
            basis("direct_low"),
            "direct_low_class",
            "(no class recorded)",
        )?,
        scored_on_missing_data: count_map(&r.summary["scored_on_missing_data"]),
        work_list: rec["customers_needing_action"].as_u64().unwrap_or(0),
        overdue: rec["overdue"].as_u64().unwrap_or(0),
        branch_outliers: outliers(r)?,
    })
}

/// Branches whose highest-grade share lies OUTLIER_Z standard errors or more from the book's
/// (a z-test of one proportion against the book's share).
fn outliers(r: &Run) -> Result<Vec<BranchOutlier>> {
    let Some(highest) = r.grades.first() else {
        return Ok(Vec::new());
    };
    let df = r
        .scores
        .clone()
        .lazy()
        .group_by([col("branch_id").fill_null(lit(""))])
        .agg([
            len().cast(DataType::UInt64).alias("n"),
            col("grade")
                .eq(lit(highest.clone()))
                .fill_null(lit(false))
                .cast(DataType::UInt64)
                .sum()
                .alias("high"),
        ])
        .collect()?;
    let per: Vec<(String, u64, u64)> = df
        .column("branch_id")?
        .str()?
        .iter()
        .zip(df.column("n")?.u64()?.iter())
        .zip(df.column("high")?.u64()?.iter())
        .map(|((b, n), h)| {
            (
                b.unwrap_or_default().to_string(),
                n.unwrap_or(0),
                h.unwrap_or(0),
            )
        })
        .collect();
    let (n, h) = per
        .iter()
        .fold((0u64, 0u64), |(a, b), (_, x, y)| (a + x, b + y));
    let p = h as f64 / n.max(1) as f64;
    if p <= 0.0 || p >= 1.0 {
        return Ok(Vec::new());
    }
    let mut out: Vec<BranchOutlier> = per
        .into_iter()
        .filter_map(|(branch, c, hi)| {
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
    out.sort_by(|a, b| {
        b.z.abs()
            .total_cmp(&a.z.abs())
            .then(a.branch.cmp(&b.branch))
    });
    Ok(out)
}
