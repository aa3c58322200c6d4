//! Reclassification and review scheduling (P4, T1–T4, PR4): compares the new grades with the
//! grades on file, applies grades set by hand, reads trigger events, and lists every customer
//! that needs action with all its reasons and a due date. Also builds the grade file for the
//! next run and the grade history.
//!
//! Due dates are computed once per distinct date (working days, month arithmetic) and joined
//! back, so the work per customer stays in column expressions.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{Months, NaiveDate};
use polars::lazy::dsl;
use polars::prelude::*;
use serde_json::{json, Map, Value};

use crate::calendar::Calendar;
use crate::contract::{self, FileSpec};
use crate::dates::{date_lit, days_since_epoch, epoch};
use crate::error::{Error, Result};
use crate::features::scan;
use crate::model::Model;

/// Every reason a customer may need action, in output order.
pub const REASONS: &[(&str, &str)] = &[
    (
        "grade_change",
        "P4: the grade differs from the grade on file",
    ),
    (
        "new_customer",
        "T1: not yet graded; due 10 working days after the relationship started",
    ),
    (
        "review_due",
        "T2: periodic review of the grade is due (or within the horizon)",
    ),
    (
        "first_review",
        "T3: first review within three years of the first grading",
    ),
    (
        "trigger_event",
        "T4: identity change, judicial investigation or media report after the last review",
    ),
    (
        "override_disagreement",
        "PR4: a grade set by hand that the new score disagrees with",
    ),
    (
        "override_expired",
        "PR4: a grade set by hand whose expiry has passed",
    ),
    (
        "exception_entered",
        "XH: the customer now meets a direct-highest condition",
    ),
    (
        "exception_left",
        "XH: the customer no longer meets the direct-highest condition on file",
    ),
];

/// Results of the review stage.
#[derive(Debug)]
pub struct Review {
    /// The scores with the final `grade` and `basis` (overrides applied) and `grade_on_file`.
    pub scores: DataFrame,
    /// One row per customer needing action.
    pub reclassify: DataFrame,
    /// The grade file for the next run.
    pub grades_next: DataFrame,
    /// The grade history with this run's gradings appended.
    pub history: DataFrame,
    /// Counts for summary.json.
    pub summary: Value,
}

fn optional(data: &Path, spec: &FileSpec) -> Result<Option<LazyFrame>> {
    Ok(if data.join(spec.file).exists() {
        Some(scan(data, spec)?)
    } else {
        None
    })
}

fn date_col(name: &str, v: Vec<i32>) -> Column {
    Column::new(name.into(), v)
        .cast(&DataType::Date)
        .expect("date cast")
}

fn i32_values(df: &DataFrame, name: &str) -> Result<Vec<Option<i32>>> {
    let c = df.column(name)?.cast(&DataType::Int32)?;
    Ok(c.i32()?.iter().collect())
}

/// Checks that every grade name in `column` of `file` is a grade of the model.
fn check_grades(lf: &LazyFrame, file: &str, column: &str, model: &Model) -> Result<()> {
    let known = model
        .grades
        .iter()
        .map(|g| col(column).eq(lit(g.name.clone())))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let ids = crate::validate::examples(
        lf.clone(),
        col(column).is_not_null().and(known.not()),
        "customer_id",
    );
    if !ids.is_empty() {
        let names: Vec<String> = model.grades.iter().map(|g| g.name.clone()).collect();
        return Err(Error::Input(format!(
            "{file}: column '{column}' has grades the model does not know, e.g. at customer_id {ids}; valid: {}",
            names.join(", ")
        )));
    }
    Ok(())
}

/// Runs the review stage over the scored customers.
pub fn review(
    scored: DataFrame,
    data: &Path,
    model: &Model,
    as_of: NaiveDate,
    horizon_days: u32,
    calendar: &Calendar,
) -> Result<Review> {
    let horizon_end = as_of + chrono::Days::new(horizon_days as u64);
    let null_date = || lit(NULL).cast(DataType::Date);
    let null_str = || lit(NULL).cast(DataType::String);

    // Grades on file.
    let grades = match optional(data, &contract::GRADES)? {
        Some(g) => {
            check_grades(&g, contract::GRADES.file, "grade", model)?;
            g.select([
                col("customer_id"),
                col("institution_id").alias("_grade_institution"),
                col("grade").alias("grade_on_file"),
                col("first_graded"),
                col("last_reviewed"),
                col("reviewer"),
                col("basis").alias("basis_on_file"),
            ])
        }
        None => DataFrame::new(
            0,
            vec![
                Column::new_empty("customer_id".into(), &DataType::String),
                Column::new_empty("_grade_institution".into(), &DataType::String),
                Column::new_empty("grade_on_file".into(), &DataType::String),
                Column::new_empty("first_graded".into(), &DataType::Date),
                Column::new_empty("last_reviewed".into(), &DataType::Date),
                Column::new_empty("reviewer".into(), &DataType::String),
                Column::new_empty("basis_on_file".into(), &DataType::String),
            ],
        )?
        .lazy(),
    };
    // Grades set by hand: the latest set on or before the as-of date (PR4).
    let overrides = match optional(data, &contract::OVERRIDES)? {
        Some(o) => {
            check_grades(&o, contract::OVERRIDES.file, "grade", model)?;
            let by_date = |c: &str| {
                col(c)
                    .sort_by([col("set_on")], SortMultipleOptions::default())
                    .last()
            };
            Some(
                o.filter(col("set_on").lt_eq(date_lit(as_of)))
                    .group_by([col("customer_id")])
                    .agg([
                        by_date("grade").alias("override_grade"),
                        by_date("set_by").alias("override_by"),
                        by_date("set_by_role").alias("override_role"),
                        col("set_on").max().alias("override_on"),
                        by_date("expires_on").alias("override_expires"),
                    ]),
            )
        }
        None => None,
    };
    // P3: a grade on file is the customer's only in its own institution.
    let mut lf = scored.lazy().join(
        grades.clone(),
        [col("customer_id"), col("institution_id")],
        [col("customer_id"), col("_grade_institution")],
        JoinArgs::new(JoinType::Left),
    );
    lf = match overrides {
        Some(o) => lf.join(
            o,
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Left),
        ),
        None => lf.with_columns([
            null_str().alias("override_grade"),
            null_str().alias("override_by"),
            null_str().alias("override_role"),
            null_date().alias("override_on"),
            null_date().alias("override_expires"),
        ]),
    };
    let valid_override = col("override_grade").is_not_null().and(
        col("override_expires")
            .is_null()
            .or(col("override_expires").gt_eq(date_lit(as_of))),
    );
    // The last review: the one on file, or a grade set by hand since (PR4).
    lf = lf.with_column(
        when(
            valid_override.clone().and(
                col("override_on")
                    .gt(col("last_reviewed"))
                    .fill_null(lit(true)),
            ),
        )
        .then(col("override_on"))
        .otherwise(col("last_reviewed"))
        .alias("last_reviewed"),
    );
    // Trigger events after the last review (T4), up to the as-of date.
    lf = match optional(data, &contract::EVENTS)? {
        Some(ev) => {
            let ev = ev
                .filter(col("event_date").lt_eq(date_lit(as_of)))
                .join(
                    lf.clone()
                        .select([col("customer_id"), col("last_reviewed")]),
                    [col("customer_id")],
                    [col("customer_id")],
                    JoinArgs::new(JoinType::Inner),
                )
                .filter(
                    col("last_reviewed")
                        .is_null()
                        .or(col("event_date").gt(col("last_reviewed"))),
                )
                .group_by([col("customer_id")])
                .agg([col("event_type")
                    .unique()
                    .sort(SortOptions::default())
                    .str()
                    .join(",", true)
                    .alias("events_since_review")]);
            lf.join(
                ev,
                [col("customer_id")],
                [col("customer_id")],
                JoinArgs::new(JoinType::Left),
            )
        }
        None => lf.with_column(null_str().alias("events_since_review")),
    };
    let rank = |c: &str| {
        let names: Vec<String> = model.grades.iter().map(|g| g.name.clone()).collect();
        let ranks: Vec<i32> = (0..names.len() as i32).collect();
        col(c).replace_strict(
            lit(Series::new("k".into(), names)),
            lit(Series::new("v".into(), ranks)),
            Some(lit(NULL).cast(DataType::Int32)),
            Some(DataType::Int32),
        )
    };
    let period = |c: &str| {
        let names: Vec<String> = model.grades.iter().map(|g| g.name.clone()).collect();
        let months: Vec<u32> = model.grades.iter().map(|g| g.review_months).collect();
        col(c).replace_strict(
            lit(Series::new("k".into(), names)),
            lit(Series::new("v".into(), months)),
            Some(lit(NULL).cast(DataType::UInt32)),
            Some(DataType::UInt32),
        )
    };
    let mut df = lf
        .with_columns([
            valid_override.clone().alias("_override_valid"),
            col("override_grade")
                .is_not_null()
                .and(valid_override.clone().not())
                .alias("_override_expired"),
        ])
        .with_columns([
            when(col("_override_valid"))
                .then(col("override_grade"))
                .otherwise(col("computed_grade"))
                .alias("grade"),
            when(col("_override_valid"))
                .then(lit("override"))
                .otherwise(col("basis"))
                .alias("basis"),
        ])
        .with_columns([
            (rank("grade_on_file") - rank("grade")).alias("grade_steps"),
            // T2: the stricter of the periods of the grade on file and the new grade.
            dsl::min_horizontal([period("grade_on_file"), period("grade")])?.alias("_period"),
        ])
        .collect()?;

    // Due dates per distinct date: T2 (last review + period), T3 (first grading + 36 months),
    // T1 (10 working days after the relationship started).
    let mut missing_years = BTreeSet::new();
    let add_months = |d: i32, m: u32| -> i32 {
        let date = epoch() + chrono::Duration::days(d as i64);
        days_since_epoch(date.checked_add_months(Months::new(m)).unwrap_or(date))
    };
    let pairs = df
        .select(["last_reviewed", "_period"])?
        .drop_nulls::<String>(None)?
        .unique_stable(None, UniqueKeepStrategy::First, None)?;
    let (lr, pm) = (
        i32_values(&pairs, "last_reviewed")?,
        pairs.column("_period")?.u32()?.clone(),
    );
    let due_t2: Vec<i32> = lr
        .iter()
        .zip(pm.iter())
        .map(|(d, m)| add_months(d.unwrap(), m.unwrap()))
        .collect();
    let t2 = DataFrame::new(
        pairs.height(),
        vec![
            date_col("last_reviewed", lr.iter().map(|d| d.unwrap()).collect()),
            Column::new(
                "_period".into(),
                pm.iter().map(|m| m.unwrap()).collect::<Vec<_>>(),
            ),
            date_col("_due_t2", due_t2),
        ],
    )?;
    let firsts = df
        .select(["first_graded"])?
        .drop_nulls::<String>(None)?
        .unique_stable(None, UniqueKeepStrategy::First, None)?;
    let fg = i32_values(&firsts, "first_graded")?;
    let t3 = DataFrame::new(
        firsts.height(),
        vec![
            date_col("first_graded", fg.iter().map(|d| d.unwrap()).collect()),
            date_col(
                "_due_t3",
                fg.iter().map(|d| add_months(d.unwrap(), 36)).collect(),
            ),
        ],
    )?;
    let starts = df
        .clone()
        .lazy()
        .filter(col("grade_on_file").is_null())
        .select([col("relationship_start")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    let rs = i32_values(&starts, "relationship_start")?;
    let mut due_t1 = Vec::with_capacity(rs.len());
    for d in rs.iter().flatten() {
        let start = epoch() + chrono::Duration::days(*d as i64);
        let (due, missing) = calendar.add_working_days(start, 10);
        missing_years.extend(missing);
        due_t1.push(days_since_epoch(due));
    }
    let t1 = DataFrame::new(
        due_t1.len(),
        vec![
            date_col("relationship_start", rs.iter().flatten().copied().collect()),
            date_col("_due_t1", due_t1),
        ],
    )?;
    let left = JoinArgs::new(JoinType::Left);
    let graded = col("grade_on_file").is_not_null();
    let reasons: Vec<(&str, Expr, Expr)> = vec![
        (
            "grade_change",
            graded.clone().and(col("grade_on_file").neq(col("grade"))),
            date_lit(as_of),
        ),
        ("new_customer", graded.clone().not(), col("_due_t1")),
        (
            "review_due",
            graded
                .clone()
                .and(col("_due_t2").lt_eq(date_lit(horizon_end))),
            col("_due_t2"),
        ),
        (
            "first_review",
            graded
                .clone()
                .and(col("last_reviewed").lt_eq(col("first_graded")))
                .and(col("_due_t3").lt_eq(date_lit(horizon_end))),
            col("_due_t3"),
        ),
        (
            "trigger_event",
            col("events_since_review").is_not_null(),
            date_lit(as_of),
        ),
        (
            "override_disagreement",
            col("_override_valid").and(col("override_grade").neq(col("computed_grade"))),
            date_lit(as_of),
        ),
        (
            "override_expired",
            col("_override_expired"),
            col("override_expires"),
        ),
        (
            "exception_entered",
            graded.clone().and(col("direct_highest").is_not_null()).and(
                col("basis_on_file")
                    .neq(lit("direct_highest"))
                    .fill_null(lit(true)),
            ),
            date_lit(as_of),
        ),
        (
            "exception_left",
            col("direct_highest")
                .is_null()
                .and(col("basis_on_file").eq(lit("direct_highest"))),
            date_lit(as_of),
        ),
    ];
    let flags: Vec<Expr> = reasons
        .iter()
        .map(|(name, cond, _)| {
            cond.clone()
                .fill_null(lit(false))
                .alias(format!("_r_{name}"))
        })
        .collect();
    let dues: Vec<Expr> = reasons
        .iter()
        .map(|(name, _, due)| {
            when(col(format!("_r_{name}")))
                .then(due.clone())
                .otherwise(null_date())
        })
        .collect();
    let list = concat_str(
        reasons
            .iter()
            .map(|(name, _, _)| {
                when(col(format!("_r_{name}")))
                    .then(lit(*name))
                    .otherwise(null_str())
            })
            .collect::<Vec<_>>(),
        ",",
        true,
    );
    df = df
        .lazy()
        .join(
            t2.lazy(),
            [col("last_reviewed"), col("_period")],
            [col("last_reviewed"), col("_period")],
            left.clone(),
        )
        .join(
            t3.lazy(),
            [col("first_graded")],
            [col("first_graded")],
            left.clone(),
        )
        .join(
            t1.lazy(),
            [col("relationship_start")],
            [col("relationship_start")],
            left,
        )
        .with_columns(flags)
        .with_columns([
            dsl::min_horizontal(dues)?
                .cast(DataType::Date)
                .alias("due_date"),
            when(list.clone().eq(lit("")))
                .then(null_str())
                .otherwise(list)
                .alias("reasons"),
        ])
        .with_column(
            col("due_date")
                .lt(date_lit(as_of))
                .fill_null(lit(false))
                .alias("overdue"),
        )
        .collect()?;

    let reclassify = df
        .clone()
        .lazy()
        .filter(col("reasons").is_not_null())
        .select([
            col("customer_id"),
            col("institution_id"),
            col("branch_id"),
            col("reasons"),
            col("due_date"),
            col("overdue"),
            col("grade_on_file"),
            col("computed_grade"),
            col("grade"),
            col("grade_steps"),
            col("basis"),
            col("direct_highest"),
            col("last_reviewed"),
            col("first_graded"),
            col("relationship_start"),
            col("events_since_review"),
            col("override_grade"),
            col("override_expires"),
        ])
        .sort(["due_date", "customer_id"], SortMultipleOptions::default())
        .collect()?;

    // Grade file for the next run: the final grade; a first grading starts the clock (T3), and a
    // grade set by hand counts as a review on the day it was set.
    let as_of_lit = date_lit(as_of);
    let grades_next = df
        .clone()
        .lazy()
        .select([
            col("customer_id"),
            col("institution_id"),
            col("grade"),
            col("first_graded").fill_null(as_of_lit.clone()),
            when(
                col("_override_valid").and(
                    col("override_on")
                        .gt(col("last_reviewed"))
                        .fill_null(lit(true)),
                ),
            )
            .then(col("override_on"))
            .otherwise(col("last_reviewed").fill_null(as_of_lit.clone()))
            .alias("last_reviewed"),
            when(col("_override_valid"))
                .then(col("override_by"))
                .otherwise(col("reviewer"))
                .alias("reviewer"),
            col("basis"),
        ])
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()?;

    // Grade history: every grading; this run adds the customers graded for the first time or
    // whose grade changed.
    let new_rows = df
        .clone()
        .lazy()
        .filter(
            col("grade_on_file")
                .is_null()
                .or(col("grade_on_file").neq(col("grade"))),
        )
        .select([
            col("customer_id"),
            col("institution_id"),
            col("grade"),
            col("grade_on_file").alias("previous_grade"),
            as_of_lit.alias("graded_on"),
            col("basis"),
            col("adjusted_score").alias("total_score"),
        ])
        .sort(["customer_id"], SortMultipleOptions::default());
    let history = match optional(data, &contract::HISTORY)? {
        Some(h) => concat([h, new_rows], UnionArgs::default())?.collect()?,
        None => new_rows.collect()?,
    };

    // Summary: customers per reason, overdue, and the workload per branch.
    let mut per_reason = Map::new();
    for (name, _) in REASONS {
        let n = df.column(&format!("_r_{name}"))?.bool()?.sum().unwrap_or(0);
        per_reason.insert(name.to_string(), json!(n));
    }
    let branch = df
        .clone()
        .lazy()
        .filter(col("reasons").is_not_null())
        .group_by([col("branch_id")])
        .agg([
            len().cast(DataType::UInt64).alias("customers"),
            col("overdue").cast(DataType::UInt64).sum().alias("overdue"),
        ])
        .sort(["branch_id"], SortMultipleOptions::default())
        .collect()?;
    let mut per_branch = Map::new();
    let (b, c, o) = (
        branch.column("branch_id")?.str()?,
        branch.column("customers")?.u64()?,
        branch.column("overdue")?.u64()?,
    );
    for ((b, c), o) in b.iter().zip(c.iter()).zip(o.iter()) {
        per_branch.insert(
            b.unwrap_or("").to_string(),
            json!({"customers": c, "overdue": o}),
        );
    }
    let summary = json!({
        "customers_needing_action": reclassify.height(),
        "overdue": reclassify.column("overdue")?.bool()?.sum().unwrap_or(0),
        "per_reason": per_reason,
        "per_branch": per_branch,
        "horizon_days": horizon_days,
        "grades_set_by_hand_in_force": df.column("_override_valid")?.bool()?.sum().unwrap_or(0),
        "calendar": {
            "years_covered": calendar.years(),
            "years_without_data_weekends_only": missing_years.iter().collect::<Vec<_>>(),
        },
    });
    Ok(Review {
        scores: df,
        reclassify,
        grades_next,
        history,
        summary,
    })
}
