//! The files of a comparison: `compare.json` (everything), `compare.html` (the committee
//! pack), `compare.csv` (one row per candidate
//! × dimension × grade), `changed/<candidate>.parquet` (the customers who change grade), and
//! the one-screen summary.

use std::path::Path;

use polars::prelude::*;

use super::profiles::score_col;
use super::result::Comparison;
use super::Graded;
use crate::error::{Error, Result};
use crate::io;
use crate::model::{Model, E2};
use crate::scoring::{contributions, segment_expr, SEGMENT};

/// `compare.json` and `compare.csv` into `dir`.
pub fn write(c: &Comparison, dir: &Path, lang: crate::report::lang::Lang) -> Result<()> {
    let json = serde_json::to_value(c).map_err(|e| Error::Internal(e.to_string()))?;
    io::write_json(&json, &dir.join(crate::run_folder::COMPARE_JSON))?;
    io::write_private(
        &dir.join(crate::run_folder::COMPARE_HTML),
        super::page::html(c, lang)?.as_bytes(),
    )?;
    let mut rows: [Vec<String>; 4] = Default::default();
    let mut nums: [Vec<u64>; 2] = Default::default();
    let mut change = Vec::new();
    for cand in &c.candidates {
        for d in &cand.distribution {
            rows[0].push(cand.name.clone());
            rows[1].push(d.dimension.clone());
            rows[2].push(d.key.clone());
            rows[3].push(d.grade.clone());
            nums[0].push(d.baseline);
            nums[1].push(d.candidate);
            change.push(d.candidate as i64 - d.baseline as i64);
        }
    }
    let n = change.len();
    let [cand, dim, key, grade] = rows;
    let [base, cnt] = nums;
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new("candidate".into(), cand),
            Column::new("dimension".into(), dim),
            Column::new("key".into(), key),
            Column::new("grade".into(), grade),
            Column::new("baseline".into(), base),
            Column::new("candidate_customers".into(), cnt),
            Column::new("change".into(), change),
        ],
    )?;
    io::write_csv(&mut df, &dir.join(crate::run_folder::COMPARE_CSV))
}

/// The score and contribution columns of `model` over profile rows `rows` of the table.
fn contributions_of(rows: &DataFrame, model: &Model, g: usize, prefix: &str) -> Result<DataFrame> {
    let mut cols: Vec<Expr> = vec![col("kind"), col("tenure_days")];
    cols.extend(
        model
            .subitems
            .iter()
            .map(|s| col(score_col(g, &s.id)).alias(s.id.as_str())),
    );
    Ok(rows
        .clone()
        .lazy()
        .select(cols)
        .with_column(segment_expr(model).alias(SEGMENT))
        .select(
            contributions(model)
                .into_iter()
                .zip(&model.subitems)
                .map(|(e, s)| e.alias(format!("{prefix}{}", s.id)))
                .collect::<Vec<_>>(),
        )
        .collect()?)
}

/// The sub-items that moved a profile's total most, largest first: `s3_1:+2.40,s2_1:-1.20`
/// (points of total score).
fn top_moves(base: &DataFrame, cand: &DataFrame, bm: &Model, cm: &Model) -> Result<Vec<String>> {
    let mut ids: Vec<String> = bm.subitems.iter().map(|s| s.id.clone()).collect();
    for s in &cm.subitems {
        if !ids.contains(&s.id) {
            ids.push(s.id.clone());
        }
    }
    let points = |df: &DataFrame, name: String, m: u8| -> Result<Vec<f64>> {
        Ok(match df.column(&name) {
            Ok(c) => c
                .cast(&DataType::Float64)?
                .f64()?
                .iter()
                .map(|v| v.unwrap_or(0.0) / (E2 * m as i64) as f64)
                .collect(),
            Err(_) => vec![0.0; df.height()],
        })
    };
    let mut deltas = Vec::new();
    for id in &ids {
        let b = points(base, format!("_b_{id}"), bm.m())?;
        let c = points(cand, format!("_c_{id}"), cm.m())?;
        deltas.push(b.iter().zip(c).map(|(b, c)| c - b).collect::<Vec<_>>());
    }
    Ok((0..base.height())
        .map(|row| {
            let mut v: Vec<(usize, f64)> = deltas
                .iter()
                .enumerate()
                .map(|(k, d)| (k, d[row]))
                .filter(|(_, d)| d.abs() > 1e-12)
                .collect();
            v.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
            v.iter()
                .take(3)
                .map(|(k, d)| format!("{}:{d:+.2}", ids[*k]))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect())
}

/// `changed/<candidate>.parquet`: every customer whose grade differs under the candidate,
/// with both totals and grades and the sub-items that moved it most, sorted by customer.
pub fn write_changed(g: &Graded<'_>, dir: &Path) -> Result<u64> {
    let groups = g.groups;
    let base_names = g.baseline.grade_names();
    let cand_names = g.candidate.model.grade_names();
    let mut idx = Vec::new();
    for p in 0..g.base.own.len() {
        let b = g.base.own[p];
        let c = g.cand.own[p].map(|o| g.matching.to_base[o as usize]);
        if b != c {
            idx.push(p as u32);
        }
    }
    let rows = g
        .profiles
        .table
        .take(&IdxCa::from_vec("i".into(), idx.clone()))?;
    let gb = groups.rules_of(g.baseline);
    let gc = groups.rules_of(&g.candidate.model);
    let b = contributions_of(&rows, g.baseline, gb, "_b_")?;
    let c = contributions_of(&rows, &g.candidate.model, gc, "_c_")?;
    let moves = top_moves(&b, &c, g.baseline, &g.candidate.model)?;
    let pick = |own: &[Option<u8>], names: &[String]| -> Vec<Option<String>> {
        idx.iter()
            .map(|p| own[*p as usize].map(|o| names[o as usize].clone()))
            .collect()
    };
    let totals = |v: &[f64]| -> Vec<f64> { idx.iter().map(|p| v[*p as usize]).collect() };
    // The changed customers, gathered by profile (no join over the whole book).
    let mut counts = Vec::with_capacity(idx.len());
    let rows = g.profiles.rows_of(&idx);
    for p in &idx {
        let p = *p as usize;
        counts.push(g.profiles.starts[p + 1] - g.profiles.starts[p]);
    }
    let repeat = |v: Vec<Option<String>>| -> Vec<Option<String>> {
        v.into_iter()
            .zip(&counts)
            .flat_map(|(x, k)| std::iter::repeat_n(x, *k))
            .collect()
    };
    let repeat_f = |v: Vec<f64>| -> Vec<f64> {
        v.into_iter()
            .zip(&counts)
            .flat_map(|(x, k)| std::iter::repeat_n(x, *k))
            .collect()
    };
    let cust = g
        .profiles
        .customers
        .select(["customer_id", "institution_id", "branch_id"])?
        .take(&IdxCa::from_vec("i".into(), rows))?;
    let n_rows = cust.height();
    let mut df = cust
        .hstack(&[
            Column::new("baseline_total".into(), repeat_f(totals(&g.base.adjusted))),
            Column::new(
                "baseline_grade".into(),
                repeat(pick(&g.base.own, &base_names)),
            ),
            Column::new("candidate_total".into(), repeat_f(totals(&g.cand.adjusted))),
            Column::new(
                "candidate_grade".into(),
                repeat(pick(&g.cand.own, &cand_names)),
            ),
            Column::new(
                "moved_by".into(),
                repeat(moves.into_iter().map(Some).collect()),
            ),
        ])?
        .sort(["customer_id"], SortMultipleOptions::default())?;
    debug_assert_eq!(df.height(), n_rows);
    let n = df.height() as u64;
    io::write_parquet(&mut df, &dir.join(format!("{}.parquet", g.candidate.name)))?;
    Ok(n)
}

/// The one-screen summary: per candidate, customers moving up and down, the change in the
/// highest grade, and the change in reviews over the 25 months.
pub fn screen(c: &Comparison) -> String {
    let mut s = format!(
        "compared {} candidates with {} over {} customers ({} distinct profiles)\n",
        c.candidates.len(),
        c.baseline.model,
        c.customers,
        c.profiles
    );
    s += &format!(
        "{:<36} {:>9} {:>9} {:>10} {:>12}\n",
        "candidate", "up", "down", "highest Δ", "reviews Δ"
    );
    let mut shown: Vec<&super::result::CandidateResult> = c.candidates.iter().collect();
    if shown.len() > SCREEN_ROWS {
        shown.sort_by_key(|r| std::cmp::Reverse(r.changed.up + r.changed.down));
        shown.truncate(SCREEN_ROWS);
    }
    for r in &shown {
        s += &format!(
            "{:<36} {:>9} {:>9} {:>+10} {:>+12}\n",
            r.name, r.changed.up, r.changed.down, r.highest_grade_change, r.workload_change
        );
    }
    if c.candidates.len() > SCREEN_ROWS {
        s += &format!(
            "(the {SCREEN_ROWS} candidates moving most customers; all {} in compare.json)\n",
            c.candidates.len()
        );
    }
    let mut sens: Vec<(&str, u64)> = c
        .sensitivity
        .iter()
        .map(|x| {
            let moved = |m: Option<[u64; 2]>| m.map_or(0, |m| m[0] + m[1]);
            (
                x.subitem.as_str(),
                moved(x.plus_one).max(moved(x.minus_one)),
            )
        })
        .collect();
    sens.sort_by_key(|x| std::cmp::Reverse(x.1));
    s += "baseline weights moving most customers by ±1 point:";
    for (id, n) in sens.iter().take(3) {
        s += &format!(" {id} ({n})");
    }
    s + "\n"
}

/// Candidates listed on the screen at most.
const SCREEN_ROWS: usize = 20;
