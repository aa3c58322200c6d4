//! Features of the customer's own transactions in the window (S3.1 cash, S3.2 non-face-to-face,
//! S3.3 cross-border, S3.5 special types), aggregated per customer in one pass over the
//! compacted window.

use polars::prelude::*;

use super::{cny_sum, count, fen, u32c, Ctx, Part, Window};
use crate::contract;
use crate::error::{Error, Result};

/// S3.1–S3.5 over the range's window aggregates: the fused pass's, or [`per_customer`] and the
/// cash days over the compacted window transactions (marked by [`mark_offsite_city`]).
pub(super) fn part(ctx: Ctx<'_>, window: &Window) -> Part {
    let p = ctx.params;
    let natural = col("kind").eq(lit("natural"));
    Part {
        aggregates: match window {
            Window::Fused(f) => vec![(**f).clone()],
            Window::Engine(w) => {
                let [txn, t_agg] = &**w;
                vec![t_agg.clone(), cash_days(txn, p.large_cash_cny)]
            }
        },
        columns: vec![
            ("txn_count", u32c("txn_count")),
            (
                "txn_amount_total",
                col("txn_amount_total").fill_null(lit(0.0)),
            ),
            (
                "max_single_amount",
                col("max_single_amount").fill_null(lit(0.0)),
            ),
            ("cash_total", col("cash_total").fill_null(lit(0.0))),
            ("cash_count", u32c("cash_count")),
            ("cash_large_days", u32c("cash_large_days")),
            (
                "cash_near_threshold_count",
                u32c("cash_near_threshold_count"),
            ),
            (
                "offsite_online_count",
                u32c("_offsite_abroad") + u32c("_offsite_city"),
            ),
            (
                "max_online_amount",
                col("max_online_amount").fill_null(lit(0.0)),
            ),
            // S3.2(5), S3.5: 对私 customers count 对公 counterparties and the reverse.
            (
                "corp_personal_count",
                when(natural.clone())
                    .then(u32c("_cp_corp"))
                    .otherwise(u32c("_cp_nat")),
            ),
            (
                "corp_personal_large_count",
                when(natural.clone())
                    .then(u32c("_cp_corp_big"))
                    .otherwise(u32c("_cp_nat_big")),
            ),
            (
                "related_party_large_count",
                u32c("related_party_large_count"),
            ),
            ("cross_border_count", u32c("cross_border_count")),
            (
                "natural_crossborder_remit_count",
                when(natural).then(u32c("_xb_out")).otherwise(lit(0u32)),
            ),
        ],
    }
}

/// The per-customer aggregates of one pass over the window's transactions.
pub fn per_customer(ctx: Ctx<'_>, txn: &LazyFrame) -> LazyFrame {
    let p = ctx.params;
    let home = p.home_country.as_str();
    let online = col("_online");
    let amount = col("amount");
    let thr = p.large_cash_cny;
    let (big_nat, big_non) = (
        p.large_transfer_natural_cny,
        p.large_transfer_non_natural_cny,
    );
    let mut aggs = vec![
        len().cast(DataType::UInt32).alias("txn_count"),
        cny_sum(fen()).alias("txn_amount_total"),
        amount.clone().max().alias("max_single_amount"),
        // Elementwise masks, not `filter`, inside aggregations: the streaming group-by
        // reduces those in one pass instead of evaluating each group on its own.
        cny_sum(when(col("cash")).then(fen()).otherwise(lit(0.0))).alias("cash_total"),
        count(col("cash")).alias("cash_count"),
        // S3.1: just below the large-value threshold (structuring).
        count(
            col("cash")
                .and(amount.clone().gt_eq(lit(thr * p.near_threshold_ratio)))
                .and(amount.clone().lt(lit(thr))),
        )
        .alias("cash_near_threshold_count"),
        // S3.2(2): online from abroad.
        count(
            online
                .clone()
                .and(col("ip_country").is_not_null())
                .and(col("ip_country").neq(lit(home))),
        )
        .alias("_offsite_abroad"),
        count(col("_offsite_city")).alias("_offsite_city"),
        // S3.2(4)
        when(online.clone())
            .then(amount.clone())
            .otherwise(lit(NULL).cast(DataType::Float64))
            .max()
            .alias("max_online_amount"),
        // S3.2(5), S3.5
        count(col("_cp_is_nat")).alias("_cp_nat"),
        count(col("_cp_is_corp")).alias("_cp_corp"),
        count(col("_cp_is_nat").and(amount.clone().gt_eq(lit(big_non)))).alias("_cp_nat_big"),
        count(col("_cp_is_corp").and(amount.clone().gt_eq(lit(big_nat)))).alias("_cp_corp_big"),
        // S3.2(6)
        count(col("related_party").and(amount.clone().gt_eq(lit(big_non))))
            .alias("related_party_large_count"),
        // S3.3, S3.5
        count(col("cross_border")).alias("cross_border_count"),
        count(col("cross_border").and(col("_out"))).alias("_xb_out"),
        // S3.3: cross-border with a high-risk country; foreign countries are looked up after
        // the (customer, country) group-by of the geography features, on far fewer rows.
        count(col("cross_border").and(col("counterparty_country").eq(lit(home))))
            .alias("_xb_risky_home"),
    ];
    aggs.extend(super::cross::own_use());
    txn.clone().group_by([col("customer_id")]).agg(aggs)
}

/// S3.1: days whose cash total reached the large-value threshold (inclusive). The (customer,
/// day) groups are keyed by one integer, the customer's dense index (its id is of the range's
/// Enum type) above the day: a single-integer group-by instead of a two-column one.
fn cash_days(txn: &LazyFrame, threshold: f64) -> LazyFrame {
    const DAYS: i64 = 1 << 32;
    let day_key = col("customer_id").to_physical().cast(DataType::Int64) * lit(DAYS)
        + col("_day").to_physical().cast(DataType::Int64)
        + lit(DAYS / 2);
    txn.clone()
        .filter(col("cash"))
        .group_by([day_key.alias("_ck")])
        .agg([
            cny_sum(fen()).alias("_day_cash"),
            col("customer_id").first(),
        ])
        .filter(col("_day_cash").gt_eq(lit(threshold)))
        .group_by([col("customer_id")])
        .agg([len().cast(DataType::UInt32).alias("cash_large_days")])
}

/// S3.2(2): marks the range's compacted window transactions `txn` made online from a domestic
/// city other than the customer's branch city (the account-opening place; an unknown branch
/// city counts as other) as `_offsite_city`, and drops `ip_city`. `cust` holds every customer
/// of the range once and `key` is the range's id type ([`super::Range::key`]): the branch city
/// of each row is gathered by the customer's dense index, with no join or group-by.
pub fn mark_offsite_city(
    ctx: Ctx<'_>,
    txn: DataFrame,
    cust: LazyFrame,
    key: &DataType,
) -> Result<DataFrame> {
    let index = |e: Expr| {
        crate::frame::to_enum(e, key.clone())
            .to_physical()
            .cast(IDX_DTYPE)
    };
    let cities = cust
        .select([
            index(col("customer_id")).alias("_i"),
            // As a code of the IP cities' type: each row then compares two integers.
            contract::to_city(branch_city(ctx)),
        ])
        .sort(["_i"], SortMultipleOptions::default())
        .collect()?;
    let n = enum_len(key);
    // n distinct indices from 0 to n - 1, sorted: exactly 0, 1, …, n - 1.
    let i = cities.column("_i")?.idx()?;
    let in_step = i.len() == n as usize
        && i.null_count() == 0
        && i.n_unique()? == n as usize
        && (n == 0 || (i.first() == Some(0) && i.last() == Some(n - 1)));
    if !in_step {
        return Err(Error::Internal(
            "customers of a range out of step with its ids".into(),
        ));
    }
    let rows = txn
        .column("customer_id")?
        .to_physical_repr()
        .cast(&IDX_DTYPE)?;
    let bcity = cities.column("_bcity")?.take(rows.idx()?)?;
    let home = ctx.params.home_country.as_str();
    Ok(txn
        .hstack(&[bcity])?
        .lazy()
        .with_column(
            col("_online")
                .and(col("ip_country").eq(lit(home)))
                .and(col("ip_city").is_not_null())
                .and(col("ip_city").neq(col("_bcity")).fill_null(lit(true)))
                .alias("_offsite_city"),
        )
        .drop(by_name(["ip_city", "_bcity"], true, false))
        .collect()?)
}

/// How many categories the Enum type `key` has.
fn enum_len(key: &DataType) -> IdxSize {
    match key {
        DataType::Enum(cats, _) => cats.categories().len() as IdxSize,
        _ => 0,
    }
}

/// The city of the customer's branch (S2.4, S3.2(2)).
pub fn branch_city(ctx: Ctx<'_>) -> Expr {
    let r = ctx.reference;
    crate::frame::lookup(
        col("branch_id"),
        r.branches.iter().map(|b| b.0.clone()).collect(),
        r.branches.iter().map(|b| b.2.clone()).collect::<Vec<_>>(),
        lit(NULL).cast(DataType::String),
        DataType::String,
    )
    .alias("_bcity")
}
