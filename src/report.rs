//! Reports of a run: `distribution.csv` (customers per grade overall, per segment, per branch),
//! `summary.json` (the same plus bases, exception counts and missing-data counts) and the
//! one-screen summary printed at the end.

use polars::lazy::dsl;
use polars::prelude::*;
use serde_json::{json, Map, Value};

use crate::error::Result;
use crate::model::Model;
use crate::scoring;

fn grade_rank(model: &Model) -> Expr {
    let names: Vec<String> = model.grades.iter().map(|g| g.name.clone()).collect();
    let ranks: Vec<u32> = (0..names.len() as u32).collect();
    col("grade").replace_strict(
        lit(Series::new("k".into(), names)),
        lit(Series::new("v".into(), ranks)),
        Some(lit(u32::MAX)),
        Some(DataType::UInt32),
    )
}

/// Customers per grade: overall, per segment and per branch, in model grade order.
pub fn distribution(scores: &DataFrame, model: &Model) -> Result<DataFrame> {
    let lf = scores.clone().lazy();
    let by = |dim: &str, key: Expr| {
        lf.clone()
            .group_by([key.alias("key"), col("grade")])
            .agg([len().cast(DataType::UInt64).alias("customers")])
            .with_column(lit(dim.to_string()).alias("dimension"))
    };
    let all = concat(
        [
            by("all", lit("all")),
            by("segment", col("segment")),
            by("branch", col("branch_id")),
        ],
        UnionArgs::default(),
    )?;
    let df = all
        .with_column(grade_rank(model).alias("_rank"))
        .with_column(
            when(col("dimension").eq(lit("all")))
                .then(lit(0u8))
                .when(col("dimension").eq(lit("segment")))
                .then(lit(1u8))
                .otherwise(lit(2u8))
                .alias("_dim"),
        )
        .sort_by_exprs(
            [col("_dim"), col("key"), col("_rank")],
            SortMultipleOptions::default(),
        )
        .select([col("dimension"), col("key"), col("grade"), col("customers")])
        .collect()?;
    Ok(df)
}

/// Count of rows per value of `key` (nulls skipped), as a JSON object in key order.
fn counts(scores: &DataFrame, key: &str) -> Result<Map<String, Value>> {
    let df = scores
        .clone()
        .lazy()
        .filter(col(key).is_not_null())
        .group_by([col(key).cast(DataType::String)])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .sort([key], SortMultipleOptions::default())
        .collect()?;
    let k = df.column(key)?.str()?.clone();
    let n = df.column("n")?.u64()?.clone();
    Ok(k.iter()
        .zip(n.iter())
        .map(|(k, n)| (k.unwrap_or("").to_string(), json!(n.unwrap_or(0))))
        .collect())
}

fn nested(dist: &DataFrame, dim: &str) -> Result<Value> {
    let d = dist
        .clone()
        .lazy()
        .filter(col("dimension").eq(lit(dim)))
        .collect()?;
    let mut out = Map::new();
    let keys = d.column("key")?.str()?.clone();
    let grades = d.column("grade")?.str()?.clone();
    let n = d.column("customers")?.u64()?.clone();
    for ((k, g), n) in keys.iter().zip(grades.iter()).zip(n.iter()) {
        let entry = out
            .entry(k.unwrap_or("").to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[g.unwrap_or("")] = json!(n.unwrap_or(0));
    }
    Ok(Value::Object(out))
}

/// The summary of a run (grades, bases, exceptions, missing data).
pub fn summary(scores: &DataFrame, dist: &DataFrame, model: &Model) -> Result<Value> {
    let grades = counts(scores, "grade")?;
    let ordered: Map<String, Value> = model
        .grades
        .iter()
        .map(|g| {
            (
                g.name.clone(),
                grades.get(&g.name).cloned().unwrap_or(json!(0)),
            )
        })
        .collect();
    // Exception and missing-data counts: sums of the per-customer flag columns, in one pass.
    let names: Vec<String> = scores
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let xh_cols: Vec<&String> = names.iter().filter(|n| n.starts_with("_xh_")).collect();
    let xl_cols: Vec<&String> = names.iter().filter(|n| n.starts_with("_xl_")).collect();
    let as_u32 = |e: Expr| e.cast(DataType::UInt32);
    let mut aggs: Vec<Expr> = xh_cols
        .iter()
        .map(|n| as_u32(col(n.as_str())).sum())
        .collect();
    // With no direct-highest condition in force nobody meets several.
    let several = if xh_cols.is_empty() {
        lit(0u32)
    } else {
        dsl::sum_horizontal(
            xh_cols
                .iter()
                .map(|n| as_u32(col(n.as_str())))
                .collect::<Vec<_>>(),
            true,
        )?
    };
    aggs.push(as_u32(several.gt(lit(1u32))).sum().alias("_several"));
    aggs.extend(xl_cols.iter().map(|n| {
        as_u32(
            col("direct_low_blocked_by")
                .is_not_null()
                .and(col(n.as_str())),
        )
        .sum()
        .alias(n.as_str())
    }));
    aggs.extend(
        model
            .subitems
            .iter()
            .map(|s| as_u32(col(scoring::missing_col(&s.id))).sum()),
    );
    let totals = scores.clone().lazy().select(aggs).collect()?;
    let total = |name: &str| -> Result<u64> {
        Ok(totals
            .column(name)?
            .cast(&DataType::UInt64)?
            .u64()?
            .get(0)
            .unwrap_or(0))
    };
    let mut xh = Map::new();
    for n in &xh_cols {
        xh.insert(n["_xh_".len()..].to_string(), json!(total(n)?));
    }
    xh.insert("several_conditions".into(), json!(total("_several")?));
    let mut xl = Map::new();
    for n in &xl_cols {
        xl.insert(n["_xl_".len()..].to_string(), json!(total(n)?));
    }
    let mut missing = Map::new();
    for s in &model.subitems {
        missing.insert(s.id.clone(), json!(total(&scoring::missing_col(&s.id))?));
    }
    Ok(json!({
        "customers": scores.height(),
        "grades": ordered,
        "by_segment": nested(dist, "segment")?,
        "by_branch": nested(dist, "branch")?,
        "basis": counts(scores, "basis")?,
        "direct_highest": xh,
        "direct_low_blocked_by": xl,
        "scored_on_missing_data": missing,
    }))
}

/// A one-screen text summary.
pub fn screen(summary: &Value, model: &Model) -> String {
    let total = summary["customers"].as_u64().unwrap_or(0).max(1);
    let mut s = format!(
        "graded {} customers with model {} {}\n",
        summary["customers"], model.meta.id, model.meta.version
    );
    for g in &model.grades {
        let n = summary["grades"][&g.name].as_u64().unwrap_or(0);
        s += &format!(
            "  {:<12} {:>10}  {:>5.1}%\n",
            g.name,
            n,
            n as f64 * 100.0 / total as f64
        );
    }
    s += "basis:";
    if let Some(b) = summary["basis"].as_object() {
        for (k, v) in b {
            s += &format!(" {k} {v}");
        }
    }
    s += "\ndirect highest:";
    if let Some(b) = summary["direct_highest"].as_object() {
        for (k, v) in b {
            s += &format!(" {k} {v}");
        }
    }
    s += "\n";
    if let Some(r) = summary["reclassification"].as_object() {
        s += &format!(
            "needing action: {} customers ({} overdue):",
            r["customers_needing_action"], r["overdue"]
        );
        if let Some(p) = r["per_reason"].as_object() {
            for (k, v) in p {
                s += &format!(" {k} {v}");
            }
        }
        s += "\n";
    }
    s
}
