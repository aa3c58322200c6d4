//! The columns the 2025-26 texts add to the reviewed customers: whether and why enhanced due
//! diligence is required (L-CDD27, 28, 30, 33, 40), the action a refused due diligence calls
//! for (L-CDD30, L-AML38), and the legacy-book deadlines (L-CDD51, L-BO39).

use polars::prelude::*;

use super::reasons::{law_bit, law_bits};
use crate::contract;
use crate::dates::date_lit;
use crate::error::Result;
use crate::frame::left_in_order;
use crate::inputs::Inputs;
use crate::model::Model;
use crate::scoring::names_where;

/// The action of a refused due diligence (L-CDD30, L-AML38).
pub const END_AND_REPORT: &str = "end relationship, file STR";

/// The reasons for enhanced due diligence, each with its condition over the reviewed columns.
fn edd_reasons(model: &Model) -> Vec<(String, Expr)> {
    let grade_in = |grades: &[String]| {
        grades
            .iter()
            .map(|g| col("grade").eq(lit(g.clone())))
            .reduce(|a, b| a.or(b))
            .unwrap_or(lit(false))
    };
    vec![
        ("foreign_pep".into(), law_bit(law_bits::FOREIGN_PEP)),
        (
            "io_manager_higher_risk".into(),
            law_bit(law_bits::IO_MANAGER).and(grade_in(model.higher_risk_grades())),
        ),
        (
            "under_investigation".into(),
            law_bit(law_bits::INVESTIGATION),
        ),
        (
            "monitored_country".into(),
            law_bit(law_bits::MONITORED_COUNTRY),
        ),
        (
            "highest_grade".into(),
            col("grade").eq(lit(model.highest().name.clone())),
        ),
        ("cdd_refused".into(), law_bit(law_bits::CDD_REFUSED)),
    ]
}

/// Adds `edd_required` and `edd_reasons` (under L-CDD; without it the guideline's C1 alone:
/// the highest grade), `action` (a refused due diligence under L-CDD), and the legacy-book
/// due dates `_due_legacy_cdd` and `_due_legacy_bo` (null where none applies).
pub fn with_law_columns(df: DataFrame, inputs: &Inputs, model: &Model) -> Result<DataFrame> {
    let law = model.law;
    let reasons: Vec<(String, Expr)> = if law.cdd {
        edd_reasons(model)
    } else {
        edd_reasons(model)
            .into_iter()
            .filter(|(id, _)| id == "highest_grade")
            .collect()
    };
    let any = reasons
        .iter()
        .map(|(_, e)| e.clone())
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let mut cols = vec![
        any.alias("edd_required"),
        names_where(reasons, ",").alias("edd_reasons"),
        if law.cdd {
            when(law_bit(law_bits::CDD_REFUSED))
                .then(lit(END_AND_REPORT))
                .otherwise(lit(NULL).cast(DataType::String))
        } else {
            lit(NULL).cast(DataType::String)
        }
        .alias("action"),
    ];
    let none = || lit(NULL).cast(DataType::Date);
    if !(law.cdd || law.bo) {
        cols.push(none().alias("_due_legacy_cdd"));
        cols.push(none().alias("_due_legacy_bo"));
        return crate::layout::with_columns(df, cols);
    }
    // When each customer's due diligence was completed and its beneficial owners verified,
    // beside it in its row.
    let done = completed_dates(&df, inputs)?;
    let df = crate::layout::with_columns(
        df,
        done.columns()
            .iter()
            .map(|c| lit(c.as_materialized_series().clone()))
            .collect(),
    )?;
    let l = model.review.legacy;
    // The grade group is the grade the customer had on the text's effective date: the grade on
    // file, else this run's.
    let group = col("grade_on_file").fill_null(col("grade"));
    let higher = model
        .higher_risk_grades()
        .iter()
        .map(|g| group.clone().eq(lit(g.clone())))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let legacy = |effective, done_col: &str, higher_by, others_by, applies: Expr| {
        when(
            applies
                .and(col("relationship_start").lt(date_lit(effective)))
                .and(
                    col(done_col)
                        .is_null()
                        .or(col(done_col).lt(date_lit(effective))),
                ),
        )
        .then(
            when(higher.clone())
                .then(date_lit(higher_by))
                .otherwise(date_lit(others_by)),
        )
        .otherwise(none())
    };
    cols.push(
        legacy(
            l.cdd_effective,
            "cdd_completed_on",
            l.cdd_higher_risk_by,
            l.cdd_others_by,
            lit(law.cdd),
        )
        .alias("_due_legacy_cdd"),
    );
    cols.push(
        legacy(
            l.bo_effective,
            "bo_verified_on",
            l.bo_higher_risk_by,
            l.bo_others_by,
            lit(law.bo).and(col("kind").eq(lit("non_natural"))),
        )
        .alias("_due_legacy_bo"),
    );
    crate::layout::with_columns(df, cols)
}

/// `cdd_completed_on` and `bo_verified_on` of customers.parquet for the rows of `df`, in its
/// order. The reviewed rows are normally the customers file's own, in its order (features are
/// made in ranges of ids, each in file order, from a file in id order): the dates are then read
/// in file order and set beside them once every customer id is checked to be in step. Otherwise
/// (a file out of id order, walk-in customers left out, SC2) they are looked up by a join on
/// (customer, institution), which at 10M customers held about a gigabyte more.
fn completed_dates(df: &DataFrame, inputs: &Inputs) -> Result<DataFrame> {
    let keys = || [col("customer_id"), col("institution_id")];
    let dates = || [col("cdd_completed_on"), col("bo_verified_on")];
    let customers = || {
        inputs
            .required(&contract::CUSTOMERS)
            .select(keys().into_iter().chain(dates()).collect::<Vec<_>>())
    };
    let file = customers()
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let same = |c: &str| -> Result<bool> {
        Ok(file
            .column(c)?
            .as_materialized_series()
            .equal_missing(df.column(c)?.as_materialized_series())?
            .all())
    };
    let in_step = file.height() == df.height() && same("customer_id")? && same("institution_id")?;
    if in_step {
        return Ok(file.select(["cdd_completed_on", "bo_verified_on"])?);
    }
    drop(file);
    Ok(df
        .select(["customer_id", "institution_id"])?
        .lazy()
        .join(customers(), keys(), keys(), left_in_order())
        .select(dates())
        .collect()?)
}
