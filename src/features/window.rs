//! The look-back window and the window's transactions, compacted as they are read.

use chrono::{Months, NaiveDate};
use polars::prelude::*;

use crate::contract;
use crate::frame::to_enum;

/// The look-back window (start exclusive, end inclusive) as dates.
pub fn window(as_of: NaiveDate, months: u32) -> (NaiveDate, NaiveDate) {
    let start = as_of
        .checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN);
    (start, as_of)
}

/// True on a transaction of day d with as-of − months < d ≤ as-of.
pub fn in_window(as_of: NaiveDate, months: u32) -> Expr {
    let (win_start, as_of) = window(as_of, months);
    let day_after = |d: NaiveDate| d.succ_opt().unwrap_or(d).and_hms_opt(0, 0, 0).unwrap();
    col("ts")
        .gt_eq(lit(day_after(win_start)))
        .and(col("ts").lt(lit(day_after(as_of))))
}

/// The transactions of the window (see [`in_window`]).
pub fn window_transactions(txn: LazyFrame, as_of: NaiveDate, months: u32) -> LazyFrame {
    txn.filter(in_window(as_of, months))
}

/// The window's transactions compacted as they are read: categories become booleans early, so
/// the wide string columns are never held whole, and `customer_id` is cast to `key` (an Enum
/// of the customers' ids; rows of other ids, W01, are left out).
pub fn compact(raw_txn: LazyFrame, key: &DataType) -> LazyFrame {
    raw_txn
        .select(compacted(key))
        .filter(col("customer_id").is_not_null())
}

/// The columns of [`compact`]; `customer_id` null on a row of another customer.
pub fn compacted(key: &DataType) -> Vec<Expr> {
    vec![
        to_enum(col("customer_id"), key.clone()),
        col("ts").dt().date().alias("_day"),
        col("amount"),
        col("cash"),
        col("channel")
            .eq(lit("online"))
            .or(col("channel").eq(lit("mobile")))
            .alias("_online"),
        col("direction").eq(lit("out")).alias("_out"),
        col("ip_address"),
        // Codes held as one byte or two, not as text; the checks cast them by the same
        // functions, so each column is cast once (a value outside the lists is refused before
        // any work).
        contract::to_country(col("ip_country")),
        contract::to_city(col("ip_city")),
        col("device_id"),
        col("cross_border"),
        col("counterparty_kind")
            .eq(lit("natural"))
            .alias("_cp_is_nat"),
        // S3.2(5), S3.5: a 对公 (public/corporate) account is a non-natural person's or a
        // government body's.
        col("counterparty_kind")
            .eq(lit("non_natural"))
            .or(col("counterparty_kind").eq(lit("government")))
            .alias("_cp_is_corp"),
        contract::to_country(col("counterparty_country")),
        col("related_party"),
        col("proxy_id"),
    ]
}
