//! The two inspection tables built from an assessment run: `tb_risk_new` (every customer's
//! latest grade, for the customers in scope) and `tb_risk_his` (every grading within the
//! inspection period), one text column per interface column.

use chrono::NaiveDate;
use polars::prelude::*;

use super::norm;
use super::profile::{Col, Source};
use super::run::Run;
use crate::dates::date_lit;
use crate::error::{Error, Result};

/// The value the interface writes where a value does not exist.
pub const ABSENT: &str = "@N";

/// The inspection period and the day of extraction.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    /// First day of the inspection period.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// The day of extraction.
    pub extracted_on: NaiveDate,
}

/// A customer is in scope when its relationship started by the period's end and was live at
/// its start or later: live at the period's end, or ended between the period's start and the
/// extraction day. Customers who left before the period, or joined after it, are left out.
pub fn in_scope(p: Period) -> Expr {
    col("relationship_start").lt_eq(date_lit(p.end)).and(
        col("relationship_end")
            .is_null()
            .or(col("relationship_end").gt_eq(date_lit(p.start))),
    )
}

/// `11` for natural persons, `12` for organisations.
fn acc_type() -> Expr {
    when(col("kind").eq(lit("natural")))
        .then(lit("11"))
        .otherwise(lit("12"))
}

/// `9 + rank` of a grade name, highest grade 10.
fn risk_code(run: &Run, grade: Expr) -> Expr {
    let names: Vec<String> = run.grades.iter().map(|g| g.name.clone()).collect();
    let codes: Vec<String> = (0..names.len()).map(|i| (10 + i).to_string()).collect();
    crate::frame::lookup(
        grade,
        names,
        codes,
        lit(NULL).cast(DataType::String),
        DataType::String,
    )
}

/// The value of one interface column over the prepared frame.
fn value(run: &Run, src: Source) -> Expr {
    let text = |e: Expr| e.cast(DataType::String).fill_null(lit(ABSENT));
    match src {
        Source::Branch => text(col("branch_id")),
        Source::Customer => col("customer_id"),
        Source::Name => text(col("customer_name")),
        Source::IdNumber => text(col("id_number")),
        Source::AccType => acc_type(),
        Source::RiskCode => text(risk_code(run, col("grade"))),
        Source::Time => text(col("_time").dt().strftime("%Y%m%d")),
        Source::Norm => text(col("_norm")),
        Source::Score => text(
            (col("_score") * lit(100.0))
                .round(0, RoundMode::HalfToEven)
                .cast(DataType::Int64)
                .cast(DataType::String),
        )
        .map(
            |c| {
                let ca = c.str()?;
                let out: StringChunked = ca.iter().map(|v| v.map(score_text)).collect();
                Ok(out.with_name(c.name().clone()).into_column())
            },
            |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
        ),
        Source::FirstGrading => when(col("previous_grade").is_null())
            .then(lit("11"))
            .otherwise(lit("12")),
    }
}

/// Hundredths written as a decimal with two places (`2340` → `23.40`); `@N` stays.
fn score_text(v: &str) -> String {
    match v.parse::<i64>() {
        Ok(n) => format!("{}.{:02}", n / 100, n % 100),
        Err(_) => v.to_string(),
    }
}

fn select(run: &Run, lf: LazyFrame, cols: &[Col]) -> LazyFrame {
    lf.select(
        cols.iter()
            .map(|c| value(run, c.value).alias(c.header.as_str()))
            .collect::<Vec<_>>(),
    )
}

/// The run's graded customers that `within` selects, with their basis text (`_norm`),
/// computed once for both tables.
pub fn graded_with_norm(
    run: &Run,
    customers: LazyFrame,
    within: Expr,
    piece: Option<u32>,
) -> Result<DataFrame> {
    Ok(run
        .graded(customers, within, piece)?
        .with_column(norm::current(run).alias("_norm"))
        .select([
            col("customer_id"),
            col("institution_id"),
            col("branch_id"),
            col("kind"),
            col("customer_name"),
            col("id_number"),
            col("relationship_start"),
            col("relationship_end"),
            col("grade"),
            col("basis"),
            col("_set_on"),
            col("adjusted_score"),
            col("_norm"),
        ])
        .collect()?)
}

/// `tb_risk_new`: the run's final grade of every customer in scope, by customer number, with
/// the grade itself in a last column [`GRADE`].
/// `Time` is the run's as-of date, or the day a person set the grade (PR4).
pub fn new_table(run: &Run, graded: &DataFrame, p: Period, cols: &[Col]) -> Result<DataFrame> {
    let lf = graded
        .clone()
        .lazy()
        .filter(in_scope(p))
        .with_columns([
            when(col("basis").eq(lit("override")))
                .then(col("_set_on"))
                .otherwise(date_lit(run.as_of))
                .alias("_time"),
            col("adjusted_score").alias("_score"),
        ])
        .sort(["customer_id"], SortMultipleOptions::default());
    let mut exprs: Vec<Expr> = cols
        .iter()
        .map(|c| value(run, c.value).alias(c.header.as_str()))
        .collect();
    exprs.push(col("grade").alias(GRADE));
    Ok(lf.select(exprs).collect()?)
}

/// The column of `tb_risk_new` as [`new_table`] returns it that holds each row's grade, for
/// the reconciliation whatever columns the profile has; dropped before the table is written.
pub const GRADE: &str = "_grade";

/// The grade history's rows within the period of the customers `within` selects (one per
/// customer and day: the last written), joined with the customers.
pub fn history_rows(
    run: &Run,
    customers: LazyFrame,
    p: Period,
    within: Expr,
    piece: Option<u32>,
) -> Result<LazyFrame> {
    let h = run
        .history(within, piece)?
        .filter(
            col("graded_on")
                .gt_eq(date_lit(p.start))
                .and(col("graded_on").lt_eq(date_lit(p.end))),
        )
        .with_row_index("_order", None)
        .sort(
            ["customer_id", "graded_on", "_order"],
            SortMultipleOptions::default(),
        )
        .unique_stable(
            Some(cols(["customer_id", "graded_on"])),
            UniqueKeepStrategy::Last,
        );
    Ok(h.join(
        customers.select([
            col("customer_id"),
            col("institution_id").alias("_ci"),
            col("branch_id"),
            col("kind"),
            col("customer_name"),
            col("id_number"),
        ]),
        [col("customer_id"), col("institution_id")],
        [col("customer_id"), col("_ci")],
        crate::frame::left_in_order(),
    ))
}

/// `tb_risk_his`: every grading within the period of the customers `within` selects, by
/// customer and date; rows of this run carry the run's full basis (from `graded`).
pub fn his_table(
    run: &Run,
    customers: LazyFrame,
    graded: &DataFrame,
    p: Period,
    cols: &[Col],
    within: Expr,
    piece: Option<u32>,
) -> Result<DataFrame> {
    let rows = history_rows(run, customers, p, within, piece)?;
    let unknown = rows
        .clone()
        .filter(col("kind").is_null())
        .select([len().alias("n")])
        .collect()?;
    let n = unknown
        .column("n")?
        .cast(&DataType::UInt64)?
        .u64()?
        .get(0)
        .unwrap_or(0);
    if n > 0 {
        return Err(Error::Input(format!(
            "{}: {n} gradings of customers that customers.parquet does not have",
            run.dir.join(crate::run_folder::HISTORY).display()
        )));
    }
    let current = graded
        .clone()
        .lazy()
        .select([col("customer_id"), col("_norm").alias("_run_norm")]);
    let lf = rows
        .join(
            current,
            [col("customer_id")],
            [col("customer_id")],
            crate::frame::left_in_order(),
        )
        .with_columns([
            col("graded_on").alias("_time"),
            when(col("graded_on").eq(date_lit(run.as_of)))
                .then(col("_run_norm"))
                .otherwise(norm::historic())
                .alias("_norm"),
            col("total_score").alias("_score"),
        ])
        .sort(["customer_id", "_time"], SortMultipleOptions::default());
    Ok(select(run, lf, cols).collect()?)
}
