//! What the institution has on file about each graded customer: the grade on file and its
//! reviews (T2, T3), the grades set by hand (PR4) and the trigger events since the last review
//! (T4), joined beside the new grades; then the final grade.

use chrono::NaiveDate;
use polars::lazy::dsl;
use polars::prelude::*;

use crate::contract;
use crate::dates::date_lit;
use crate::error::{Error, Result};
use crate::frame::{left_in_order, lookup};
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

/// The customer id of the looked-up side of [`join`]: equal to `customer_id` on every row
/// (checked by [`final_grades`]).
pub const ON_FILE_ID: &str = "_on_file_id";

/// The scored customers with what is on file beside them, `last_reviewed` moved to a grade set
/// by hand since (it counts as a review, PR4), and `events_since_review` (T4).
///
/// The lookups join the customer ids alone, in the scored customers' order, and are set beside
/// the scored columns: the joins gather a narrow frame, not the wide one. Every lookup holds at
/// most one row per customer (grades on file have a unique customer id, grades set by hand and
/// events are grouped by customer), so the two sides stay row for row.
pub fn join(scored: LazyFrame, inputs: &Inputs, as_of: NaiveDate) -> Result<LazyFrame> {
    let lf = on_file(scored.clone(), inputs, as_of)?;
    let looked_up = events_since_review(lf, inputs, as_of)
        .rename(["customer_id"], [ON_FILE_ID], true)
        .drop(cols(["institution_id"]));
    Ok(concat_lf_horizontal(
        [scored, looked_up],
        HConcatOptions::default(),
    )?)
}

/// The grade on file and the grade set by hand of every customer of `customers` (in its order,
/// with its `customer_id` and `institution_id`), `last_reviewed` moved to a grade set by hand
/// since (it counts as a review, PR4); no trigger events.
pub fn on_file(customers: LazyFrame, inputs: &Inputs, as_of: NaiveDate) -> Result<LazyFrame> {
    let ids = [col("customer_id"), col("institution_id")];
    // P3: a grade on file is the customer's only in its own institution.
    let mut lf = customers.select(ids.clone()).join(
        grades_on_file(inputs)?,
        ids,
        [col("customer_id"), col("_grade_institution")],
        left_in_order(),
    );
    lf = match latest_overrides(inputs, as_of) {
        Some(o) => lf.join(
            o,
            [col("customer_id")],
            [col("customer_id")],
            left_in_order(),
        ),
        None => lf.with_columns([
            null_str().alias("override_grade"),
            null_str().alias("override_by"),
            null_str().alias("override_role"),
            null_date().alias("override_on"),
            null_date().alias("override_expires"),
        ]),
    };
    lf = lf.with_column(
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
    );
    Ok(lf)
}

/// T4: the kinds of trigger event after the last review, up to the as-of date, comma-joined.
fn events_since_review(lf: LazyFrame, inputs: &Inputs, as_of: NaiveDate) -> LazyFrame {
    let Some(ev) = inputs.get(&contract::EVENTS) else {
        return lf.with_columns([
            null_str().alias("events_since_review"),
            lit(NULL).cast(DataType::UInt16).alias(EVENTS_SEEN),
        ]);
    };
    let types: Vec<String> = contract::EVENT_TYPES
        .iter()
        .map(|t| t.to_string())
        .collect();
    let bits: Vec<u16> = (0..types.len()).map(|i| 1u16 << i).collect();
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
        ]);
    lf.join(
        ev,
        [col("customer_id")],
        [col("customer_id")],
        left_in_order(),
    )
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
/// Only the ids, the computed grade and the basis go through the query; its columns are then
/// set into `scored` as `with_columns` would (a column of that name replaced where it stands, a
/// new one appended): the wide scored frame is neither copied nor gathered.
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
    let mut df = join(scored.select(READ)?.lazy(), inputs, as_of)?
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
        .with_column(col(ON_FILE_ID).eq(col("customer_id")).alias(ON_FILE_ID))
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    if !df.column(ON_FILE_ID)?.bool()?.all() {
        return Err(Error::Internal(
            "grades on file out of step with the scored customers".into(),
        ));
    }
    df.drop_in_place(ON_FILE_ID)?;
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
