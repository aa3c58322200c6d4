//! `riskgrade retention --run DIR`: the customers whose records may be purged (L-CDD44,
//! L-AML34): relationship ended at least `--years` (default 10) before the run's as-of date,
//! and no open investigation or alert (alert level below 2). It lists them, with the gradings
//! the history holds of each; it never deletes anything, and a run never shortens the grade
//! history (every grading read is written again).

use polars::prelude::*;

use crate::cli::RetentionArgs;
use crate::error::Result;
use crate::run_folder::{RunFolder, HISTORY};

/// Runs the command: CSV on standard output (customer_id, institution_id, relationship_end,
/// purgeable_from, gradings); the count on standard error.
pub fn run(args: &RetentionArgs) -> Result<()> {
    let run = RunFolder::open(&args.run)?;
    let as_of = run.as_of()?;
    let cutoff = as_of
        .checked_sub_months(chrono::Months::new(12 * args.years))
        .unwrap_or(as_of);
    let file = crate::contract::CUSTOMERS.file;
    let scans = run
        .inputs(file)?
        .iter()
        .map(|p| crate::inputs::scan_path(p))
        .collect::<Result<Vec<_>>>()?;
    let mut customers = concat(scans, UnionArgs::default())?;
    let schema = customers.collect_schema()?;
    if schema.get("relationship_end").is_none() {
        customers = customers.with_column(lit(NULL).cast(DataType::Date).alias("relationship_end"));
    }
    let gradings = run
        .scan(HISTORY)?
        .group_by([col("customer_id")])
        .agg([len().cast(DataType::UInt64).alias("gradings")]);
    let mut out = customers
        .filter(
            col("relationship_end")
                .lt_eq(crate::dates::date_lit(cutoff))
                .and(
                    col("alert_level")
                        .cast(DataType::Int32)
                        .lt(lit(2))
                        .fill_null(lit(true)),
                ),
        )
        .select([
            col("customer_id"),
            col("institution_id"),
            col("relationship_end"),
        ])
        .join(
            gradings,
            [col("customer_id")],
            [col("customer_id")],
            crate::frame::left_in_order(),
        )
        .with_column(col("gradings").fill_null(lit(0u64)))
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()?;
    let months = 12 * args.years;
    let ends = out.column("relationship_end")?.cast(&DataType::Int32)?;
    let from: Vec<Option<i32>> = ends
        .i32()?
        .iter()
        .map(|d| d.map(|d| crate::review::add_months(d, months)))
        .collect();
    let from = Column::new("purgeable_from".into(), from).cast(&DataType::Date)?;
    out.insert_column(3, from)?;
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .include_header(true)
        .finish(&mut out)?;
    if !buf.ends_with(b"\n") {
        buf.push(b'\n');
    }
    crate::out!("{}", String::from_utf8_lossy(&buf));
    crate::errln!(
        "{} customers whose relationship ended on or before {cutoff} ({} years before the as-of date {as_of}) and who are under no investigation may be purged; nothing was deleted",
        out.height(),
        args.years
    );
    Ok(())
}
