//! What the institution has on file about each graded customer: the grade on file and its
//! reviews (T2, T3), the grades set by hand (PR4) and the trigger events since the last review
//! (T4), joined beside the new grades; then the final grade.

use chrono::NaiveDate;
use polars::lazy::dsl;
use polars::prelude::*;

use crate::contract;
use crate::dates::date_lit;
use crate::error::Result;
use crate::frame::{look_up, lookup};
use crate::inputs::Inputs;
use crate::model::Model;

fn null_date() -> Expr {
    lit(NULL).cast(DataType::Date)
}

fn null_str() -> Expr {
    lit(NULL).cast(DataType::String)
}

/// The grades on file (empty when the folder has none).
fn grades_on_file(inputs: &Inputs) -> Result<LazyFrame> {
    Ok(match inputs.get(&contract::GRADES) {
        Some(g) => g.select([
            col("customer_id"),
            col("institution_id").alias("_grade_institution"),
            col("grade").alias("grade_on_file"),
            col("first_graded"),
            col("last_reviewed"),
            col("reviewer"),
            col("basis").alias("basis_on_file"),
            col("screening").alias("screening_on_file"),
        ]),
        None => {
            let empty = |name: &str, dt: &DataType| Column::new_empty(name.into(), dt);
            DataFrame::new(
                0,
                vec![
                    empty("customer_id", &DataType::String),
                    empty("_grade_institution", &DataType::String),
                    empty("grade_on_file", &DataType::String),
                    empty("first_graded", &DataType::Date),
                    empty("last_reviewed", &DataType::Date),
                    empty("reviewer", &DataType::String),
                    empty("basis_on_file", &DataType::String),
                    empty("screening_on_file", &DataType::String),
                ],
            )?
            .lazy()
        }
    })
}

/// PR4: per customer, the latest grade set by hand on or before the as-of date.
fn latest_overrides(inputs: &Inputs, as_of: NaiveDate) -> Option<LazyFrame> {
    let by_date = |c: &str| {
        col(c)
            .sort_by([col("set_on")], SortMultipleOptions::default())
            .last()
    };
    inputs.get(&contract::OVERRIDES).map(|o| {
        o.filter(col("set_on").lt_eq(date_lit(as_of)))
            .group_by([col("customer_id")])
            .agg([
                by_date("grade").alias("override_grade"),
                by_date("set_by").alias("override_by"),
                by_date("set_by_role").alias("override_role"),
                col("set_on").max().alias("override_on"),
                by_date("expires_on").alias("override_expires"),
            ])
    })
}

/// A grade set by hand is in force unless it has expired (PR4).
fn override_valid(as_of: NaiveDate) -> Expr {
    col("override_grade").is_not_null().and(
        col("override_expires")
            .is_null()
            .or(col("override_expires").gt_eq(date_lit(as_of))),
    )
}

/// The scored customers (a frame of their ids, `institution_id` included) with what is on
/// file beside them, row for row: `last_reviewed` moved to a grade set by hand since (it counts
/// as a review, PR4), and `events_since_review` (T4).
///
/// Every lookup holds at most one row per customer (grades on file have a unique (institution,
/// customer) key, grades set by hand and events are grouped by customer), and is set beside the
/// scored rows in their order ([`look_up`]: a merge when both are in customer order).
pub fn join(scored: DataFrame, inputs: &Inputs, as_of: NaiveDate) -> Result<DataFrame> {
    let df = on_file(scored, inputs, as_of)?;
    events_since_review(df, inputs, as_of)
}

/// The grade on file and the grade set by hand of every customer of `customers` (in its order,
/// with its columns, `customer_id` and `institution_id` among them), `last_reviewed` moved to a
/// grade set by hand since (it counts as a review, PR4); no trigger events.
pub fn on_file(customers: DataFrame, inputs: &Inputs, as_of: NaiveDate) -> Result<DataFrame> {
    // P3: a grade on file is the customer's only in its own institution.
    let df = look_up(
        customers,
        grades_on_file(inputs)?.collect()?,
        &["customer_id", "institution_id"],
        &["customer_id", "_grade_institution"],
    )?;
    let df = match latest_overrides(inputs, as_of) {
        Some(o) => look_up(
            df,
            o.sort(["customer_id"], SortMultipleOptions::default())
                .collect()?,
            &["customer_id"],
            &["customer_id"],
        )?,
        None => df
            .lazy()
            .with_columns([
                null_str().alias("override_grade"),
                null_str().alias("override_by"),
                null_str().alias("override_role"),
                null_date().alias("override_on"),
                null_date().alias("override_expires"),
            ])
            .collect()?,
    };
    Ok(df
        .lazy()
        .with_column(
            when(
                override_valid(as_of).and(
                    col("override_on")
                        .gt(col("last_reviewed"))
                        .fill_null(lit(true)),
                ),
            )
            .then(col("override_on"))
            .otherwise(col("last_reviewed"))
            .alias("last_reviewed"),
        )
        .collect()?)
}

/// T4: the kinds of trigger event after the last review, up to the as-of date, comma-joined.
fn events_since_review(df: DataFrame, inputs: &Inputs, as_of: NaiveDate) -> Result<DataFrame> {
    let Some(ev) = inputs.get(&contract::EVENTS) else {
        return Ok(df
            .lazy()
            .with_columns([
                null_str().alias("events_since_review"),
                lit(NULL).cast(DataType::UInt16).alias(EVENTS_SEEN),
            ])
            .collect()?);
    };
    let types: Vec<String> = contract::EVENT_TYPES
        .iter()
        .map(|t| t.to_string())
        .collect();
    let bits: Vec<u16> = (0..types.len()).map(|i| 1u16 << i).collect();
    // Each event with its customer's last review; events of customers not graded here go.
    const KNOWN: &str = "_known";
    let reviewed = df
        .select(["customer_id", "last_reviewed"])?
        .lazy()
        .with_column(lit(true).alias(KNOWN))
        .collect()?;
    let ev = ev
        .filter(col("event_date").lt_eq(date_lit(as_of)))
        .select([col("customer_id"), col("event_type"), col("event_date")])
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()?;
    let ev = look_up(ev, reviewed, &["customer_id"], &["customer_id"])?
        .lazy()
        .filter(
            col(KNOWN).is_not_null().and(
                col("last_reviewed")
                    .is_null()
                    .or(col("event_date").gt(col("last_reviewed"))),
            ),
        )
        .with_column(
            lookup(
                col("event_type").cast(DataType::String),
                types,
                bits,
                lit(0u16),
                DataType::UInt16,
            )
            .alias("_bit"),
        )
        .group_by([col("customer_id")])
        .agg([
            col("event_type")
                .unique()
                .sort(SortOptions::default())
                .str()
                .join(",", true)
                .alias("events_since_review"),
            col("_bit")
                .unique()
                .sum()
                .cast(DataType::UInt16)
                .alias(EVENTS_SEEN),
        ])
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()?;
    look_up(df, ev, &["customer_id"], &["customer_id"])
}

/// The kinds of trigger event since the last review, as the bits of `1 << i` for the i-th of
/// `contract::EVENT_TYPES`.
pub const EVENTS_SEEN: &str = "_events";

/// Whether an event of `event_type` happened since the last review (over [`EVENTS_SEEN`]).
pub fn event_seen(event_type: &str) -> Expr {
    let i = contract::EVENT_TYPES
        .iter()
        .position(|t| *t == event_type)
        .expect("an event type of the contract");
    (col(EVENTS_SEEN) / lit(1u16 << i) % lit(2u16))
        .eq(lit(1u16))
        .fill_null(lit(false))
}

/// The columns of the scored frame the final grade reads besides the lookups.
const READ: [&str; 4] = ["customer_id", "institution_id", "computed_grade", "basis"];

/// The scored customers with what is on file beside them ([`join`]), the final `grade` and
/// `basis` (a grade set by hand in force stands, PR4), the override flags, `grade_steps` from
/// the grade on file (up is positive) and the review `_period` (T2: the stricter of the periods
/// of the grade on file and the new grade).
///
/// Only the ids, the computed grade and the basis are looked up on; the looked-up and computed
/// columns are then set into `scored` as `with_columns` would (a column of that name replaced
/// where it stands, a new one appended): the wide scored frame is neither copied nor gathered.
pub fn final_grades(
    mut scored: DataFrame,
    inputs: &Inputs,
    model: &Model,
    as_of: NaiveDate,
) -> Result<DataFrame> {
    let names: Vec<String> = model.grades.iter().map(|g| g.name.clone()).collect();
    let rank = |c: &str| crate::model::grade_rank(&names, col(c));
    let period = |c: &str| {
        let months: Vec<u32> = model.grades.iter().map(|g| g.review_months).collect();
        lookup(
            col(c),
            names.clone(),
            months,
            lit(NULL).cast(DataType::UInt32),
            DataType::UInt32,
        )
    };
    let valid = override_valid(as_of);
    let df = join(scored.select(READ)?, inputs, as_of)?
        .lazy()
        .with_columns([
            valid.clone().alias("_override_valid"),
            col("override_grade")
                .is_not_null()
                .and(valid.not())
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
            dsl::min_horizontal([period("grade_on_file"), period("grade")])?.alias("_period"),
        ])
        .collect()?;
    // Cut as the scored frame's columns are (see [`crate::layout`]).
    let layout = crate::layout::of(scored.column("customer_id")?);
    for c in df.columns() {
        // The ids and the computed grade came from `scored` unchanged.
        if !READ[..3].contains(&c.name().as_str()) {
            scored.with_column(crate::layout::cut(c, &layout)?)?;
        }
    }
    Ok(scored)
}
