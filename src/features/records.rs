//! Features of the records kept about the customer: its AML monitoring record (S1.4: STRs and
//! large-value reports; S3.4(2): STRs on business done by a proxy; XH4, XL4) and its accounts
//! opened or closed in the window (S3.5).

use polars::prelude::*;

use super::window::window;
use super::{count, u32c, Ctx, Part};
use crate::dates::date_lit;

/// The range's reports `rep` and accounts `acc`.
pub fn part(ctx: Ctx<'_>, rep: LazyFrame, acc: LazyFrame) -> Part {
    let (win_start, as_of) = window(ctx.as_of, ctx.params.lookback_months);
    let in_window = |c: &str| {
        col(c)
            .gt(date_lit(win_start))
            .and(col(c).lt_eq(date_lit(as_of)))
            .fill_null(lit(false))
    };
    // S3.5: accounts opened or closed in the window.
    let acc_changes = acc
        .filter(in_window("opened_date").or(in_window("closed_date")))
        .group_by([col("customer_id")])
        .agg([len().cast(DataType::UInt32).alias("accounts_opened_closed")]);
    // S1.4, S3.4(2), XH4, XL4: reports up to the as-of date; STRs of all time, large-value
    // reports of the window.
    let suspicious = col("report_type").eq(lit("suspicious"));
    let reports = rep
        .filter(col("report_date").lt_eq(date_lit(as_of)))
        .group_by([col("customer_id")])
        .agg([
            count(suspicious.clone()).alias("str_count"),
            count(
                col("report_type")
                    .eq(lit("large_value"))
                    .and(in_window("report_date")),
            )
            .alias("large_value_report_count"),
            count(suspicious.and(col("proxy_involved"))).alias("proxy_str_count"),
        ]);
    Part {
        aggregates: vec![acc_changes, reports],
        columns: vec![
            ("str_count", u32c("str_count")),
            ("large_value_report_count", u32c("large_value_report_count")),
            ("proxy_str_count", u32c("proxy_str_count")),
            ("accounts_opened_closed", u32c("accounts_opened_closed")),
        ],
    }
}
