//! Due dates of the periodic reviews, computed once per distinct date and looked up by it, so the
//! work per customer stays in column expressions: T1 (10 working days after the relationship
//! started), T2 (last review + the review period), T3 (first grading + 36 months).

use std::collections::BTreeSet;

use chrono::Months;
use polars::prelude::*;

use crate::calendar::Calendar;
use crate::dates::{days_since_epoch, epoch};
use crate::error::Result;

fn date_col(name: &str, v: Vec<i32>) -> Column {
    Column::new(name.into(), v)
        .cast(&DataType::Date)
        .expect("date cast")
}

fn i32_values(df: &DataFrame, name: &str) -> Result<Vec<Option<i32>>> {
    let c = df.column(name)?.cast(&DataType::Int32)?;
    Ok(c.i32()?.iter().collect())
}

/// Adds calendar months to a day number (the last day of a shorter month when needed).
pub fn add_months(d: i32, m: u32) -> i32 {
    let date = epoch() + chrono::Duration::days(d as i64);
    days_since_epoch(date.checked_add_months(Months::new(m)).unwrap_or(date))
}

/// The tables of due dates: T2 by (`last_reviewed`, `_period`), T3 by `first_graded`, T1 by
/// `relationship_start` of customers without a grade on file; and the years T1 passed through
/// that the calendar does not cover.
pub struct DueDates {
    /// `last_reviewed`, `_period`, `_due_t2`.
    pub t2: DataFrame,
    /// `first_graded`, `_due_t3`.
    pub t3: DataFrame,
    /// `relationship_start`, `_due_t1`.
    pub t1: DataFrame,
    /// Years without calendar data (weekends only were counted).
    pub missing_years: BTreeSet<i32>,
}

impl DueDates {
    /// The due dates of the customers in `df` (columns `last_reviewed`, `_period`,
    /// `first_graded`, `relationship_start`, `grade_on_file`).
    pub fn of(df: &DataFrame, calendar: &Calendar) -> Result<DueDates> {
        let (t1, missing_years) = t1_new_customers(df, calendar)?;
        Ok(DueDates {
            t2: t2_periodic(df)?,
            t3: t3_first_review(df)?,
            t1,
            missing_years,
        })
    }

    /// `_due_t1`, `_due_t2`, `_due_t3` looked up by their dates (T2: by last review and period
    /// as one integer key): elementwise, so the wide frame is not gathered again as a join
    /// would.
    pub fn columns(&self) -> Result<Vec<Expr>> {
        // T2's key: the last review's day number above the period in months.
        let t2_key = col("last_reviewed").to_physical().cast(DataType::Int64) * lit(1i64 << 20)
            + col("_period").cast(DataType::Int64);
        Ok(vec![
            by_key(t2_key, &self.t2, "_due_t2")?,
            by_key(col("first_graded"), &self.t3, "_due_t3")?,
            by_key(col("relationship_start"), &self.t1, "_due_t1")?,
        ])
    }
}

/// The date column `due` of `table` looked up by `key`, evaluated alike on the table and on the
/// frame it is attached to (null where absent).
fn by_key(key: Expr, table: &DataFrame, due: &str) -> Result<Expr> {
    let keys = table
        .clone()
        .lazy()
        .select([key.clone().alias("k"), col(due).alias("v")])
        .collect()?;
    Ok(key
        .replace_strict(
            lit(keys.column("k")?.as_materialized_series().clone()),
            lit(keys.column("v")?.as_materialized_series().clone()),
            Some(lit(NULL).cast(DataType::Date)),
            Some(DataType::Date),
        )
        .alias(due))
}

/// T2: last review + the review period in months.
fn t2_periodic(df: &DataFrame) -> Result<DataFrame> {
    let pairs = df
        .select(["last_reviewed", "_period"])?
        .drop_nulls::<String>(None)?
        .unique_stable(None, UniqueKeepStrategy::First, None)?;
    let (lr, pm) = (
        i32_values(&pairs, "last_reviewed")?,
        pairs.column("_period")?.u32()?.clone(),
    );
    let due: Vec<i32> = lr
        .iter()
        .zip(pm.iter())
        .map(|(d, m)| add_months(d.unwrap(), m.unwrap()))
        .collect();
    Ok(DataFrame::new(
        pairs.height(),
        vec![
            date_col("last_reviewed", lr.iter().map(|d| d.unwrap()).collect()),
            Column::new(
                "_period".into(),
                pm.iter().map(|m| m.unwrap()).collect::<Vec<_>>(),
            ),
            date_col("_due_t2", due),
        ],
    )?)
}

/// T3: three years after the first grading.
fn t3_first_review(df: &DataFrame) -> Result<DataFrame> {
    let firsts = df
        .select(["first_graded"])?
        .drop_nulls::<String>(None)?
        .unique_stable(None, UniqueKeepStrategy::First, None)?;
    let fg = i32_values(&firsts, "first_graded")?;
    Ok(DataFrame::new(
        firsts.height(),
        vec![
            date_col("first_graded", fg.iter().map(|d| d.unwrap()).collect()),
            date_col(
                "_due_t3",
                fg.iter().map(|d| add_months(d.unwrap(), 36)).collect(),
            ),
        ],
    )?)
}

/// T1: the 10th working day after the relationship started (the start day does not count),
/// for customers without a grade on file.
fn t1_new_customers(df: &DataFrame, calendar: &Calendar) -> Result<(DataFrame, BTreeSet<i32>)> {
    let starts = df
        .clone()
        .lazy()
        .filter(col("grade_on_file").is_null())
        .select([col("relationship_start")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    let rs = i32_values(&starts, "relationship_start")?;
    let mut missing_years = BTreeSet::new();
    let mut due = Vec::with_capacity(rs.len());
    for d in rs.iter().flatten() {
        let start = epoch() + chrono::Duration::days(*d as i64);
        let (day, missing) = calendar.add_working_days(start, 10);
        missing_years.extend(missing);
        due.push(days_since_epoch(day));
    }
    let t1 = DataFrame::new(
        due.len(),
        vec![
            date_col("relationship_start", rs.iter().flatten().copied().collect()),
            date_col("_due_t1", due),
        ],
    )?;
    Ok((t1, missing_years))
}
