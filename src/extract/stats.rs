//! Statistics for the periodic AML report: customers per grade × kind × branch at the period's
//! end; first gradings and grade changes (up, down) within the period; the highest-grade
//! customers and the measures their grade carries (C1); overdue reviews.

use polars::prelude::*;

use super::run::Run;
use super::tables::{history_rows, in_scope, Period};
use crate::error::Result;

/// Every column as text, for the writers.
fn texts(df: DataFrame) -> Result<DataFrame> {
    let cols: Vec<Expr> = df
        .get_column_names()
        .iter()
        .map(|n| col(n.as_str()).cast(DataType::String))
        .collect();
    Ok(df.lazy().select(cols).collect()?)
}

fn kind_name() -> Expr {
    when(col("kind").eq(lit("natural")))
        .then(lit("natural"))
        .otherwise(lit("non_natural"))
        .alias("kind")
}

/// The grade's rank (0 the highest) of a grade-name column.
fn rank(run: &Run, c: &str) -> Expr {
    let names: Vec<String> = run.grades.iter().map(|g| g.name.clone()).collect();
    crate::model::grade_rank(&names, col(c))
}

/// The four statistics tables: (name, table).
pub fn tables(
    run: &Run,
    customers: LazyFrame,
    p: Period,
) -> Result<Vec<(&'static str, DataFrame)>> {
    let scope = run
        .graded(customers.clone(), lit(true), None)?
        .filter(in_scope(p));
    let by_grade = scope
        .clone()
        .group_by([col("branch_id"), kind_name(), col("grade")])
        .agg([len().cast(DataType::UInt64).alias("customers")])
        .sort(
            ["branch_id", "kind", "grade"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let rows = history_rows(run, customers, p, lit(true), None)?;
    let changes = rows
        .with_columns([
            rank(run, "grade").alias("_r"),
            rank(run, "previous_grade").alias("_p"),
        ])
        .group_by([col("branch_id")])
        .agg([
            col("previous_grade")
                .is_null()
                .cast(DataType::UInt64)
                .sum()
                .alias("first_gradings"),
            col("_r")
                .lt(col("_p"))
                .fill_null(lit(false))
                .cast(DataType::UInt64)
                .sum()
                .alias("changed_up"),
            col("_r")
                .gt(col("_p"))
                .fill_null(lit(false))
                .cast(DataType::UInt64)
                .sum()
                .alias("changed_down"),
        ])
        .sort(["branch_id"], SortMultipleOptions::default())
        .collect()?;
    let top = &run.grades[0];
    let high = scope
        .filter(col("grade").eq(lit(top.name.clone())))
        .group_by([col("branch_id")])
        .agg([len().cast(DataType::UInt64).alias("customers")])
        .sort(["branch_id"], SortMultipleOptions::default())
        .with_columns([
            lit(top.name.clone()).alias("grade"),
            lit(top.measures.clone()).alias("measures"),
            lit(top.controls.join("; ")).alias("controls"),
        ])
        .collect()?;
    let overdue = run
        .reclassify(None)?
        .group_by([col("branch_id")])
        .agg([
            col("overdue")
                .cast(DataType::UInt64)
                .sum()
                .alias("overdue_reviews"),
            len()
                .cast(DataType::UInt64)
                .alias("customers_needing_action"),
        ])
        .sort(["branch_id"], SortMultipleOptions::default())
        .with_column(lit(run.as_of.to_string()).alias("as_of"))
        .collect()?;
    Ok(vec![
        ("grades", texts(by_grade)?),
        ("changes", texts(changes)?),
        ("high", texts(high)?),
        ("overdue", texts(overdue)?),
    ])
}
