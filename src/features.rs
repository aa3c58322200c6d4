//! Customer-level features (see `catalog.rs`) derived from the input tables with the Polars lazy
//! API: transactions are filtered to the look-back window and aggregated per customer before
//! anything is joined to the customers; cross-customer patterns (shared IP address, device,
//! phone, proxy; S3.2, S3.4) are group-bys over distinct (key, customer) pairs. Nothing here
//! knows about weights or scores, so totals can be recomputed without redoing this stage.

use std::path::Path;

use chrono::{Months, NaiveDate};
use polars::lazy::dsl;
use polars::prelude::*;

use crate::contract::{self, FileSpec};
use crate::dates::date_lit;
use crate::error::{Error, Result};
use crate::model::Params;
use crate::reference::{lookup_u8, Reference};

/// What the features depend on besides the data.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// Feature parameters of the model.
    pub params: &'a Params,
    /// Reference tables.
    pub reference: &'a Reference,
    /// The as-of date.
    pub as_of: NaiveDate,
}

/// The look-back window (start exclusive, end inclusive) as dates.
pub fn window(as_of: NaiveDate, months: u32) -> (NaiveDate, NaiveDate) {
    let start = as_of
        .checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN);
    (start, as_of)
}

/// Lazily scans one input file of the contract. The path is a path, never a pattern (no glob
/// expansion, no hive partitions). Columns written in a form users' tools commonly produce are
/// read as the contract's type (see [`contract::ColType::accepts`]): a dictionary-encoded or
/// categorical string, an all-null column, another integer or float width, another timestamp
/// unit, a date written as a timestamp.
pub fn scan(data: &Path, spec: &FileSpec) -> Result<LazyFrame> {
    let path = data.join(spec.file);
    let p = path
        .to_str()
        .ok_or_else(|| Error::Usage(format!("path {} is not UTF-8", path.display())))?;
    let args = ScanArgsParquet {
        glob: false,
        hive_options: HiveOptions::new_disabled(),
        ..Default::default()
    };
    let mut lf = LazyFrame::scan_parquet(PlRefPath::from(p), args)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    let schema = lf
        .collect_schema()
        .map_err(|e| Error::Input(format!("{}: cannot read as Parquet: {e}", path.display())))?;
    let casts: Vec<Expr> = spec
        .columns
        .iter()
        .filter_map(|c| {
            let have = schema.get(c.name)?;
            (*have != c.ty.dtype() && c.ty.accepts(have))
                .then(|| col(c.name).strict_cast(c.ty.dtype()))
        })
        .collect();
    if !casts.is_empty() {
        lf = lf.with_columns(casts);
    }
    Ok(lf)
}

/// Rows where `pred` holds (a boolean sum; nulls count as false).
fn count(pred: Expr) -> Expr {
    pred.sum()
}

fn u32c(name: &str) -> Expr {
    col(name).fill_null(lit(0u32)).cast(DataType::UInt32)
}

/// Builds the lazy per-customer feature frame: `customer_id`, `institution_id`, `branch_id`,
/// and every feature of the catalogue.
pub fn build(data: &Path, ctx: Ctx<'_>) -> Result<LazyFrame> {
    let txn = compact(window_transactions(data, ctx)?);
    let cross = cross_customer(
        scan(data, &contract::CUSTOMERS)?,
        scan(data, &contract::ACCOUNTS)?,
        Pairs::of(&txn),
    )?;
    Ok(build_range(data, ctx, &Range::default(), txn, Some(cross))?.drop(cols([ALIGNED])))
}

/// A column of `build_range`'s output: true where the aggregates' customer id equals the
/// customer's (always, unless the row order was broken).
const ALIGNED: &str = "_aligned";

/// Drops [`ALIGNED`] from a computed range after checking it.
fn check_aligned(mut part: DataFrame) -> Result<DataFrame> {
    let ok = part.column(ALIGNED)?.bool()?.all();
    if !ok {
        return Err(Error::Internal(
            "feature rows out of step with their customers".into(),
        ));
    }
    part.drop_in_place(ALIGNED)?;
    Ok(part)
}

/// A range of customer ids, `lo` inclusive, `hi` exclusive (`None`: open).
#[derive(Debug, Clone, Default)]
pub struct Range {
    /// Lowest id in the range.
    pub lo: Option<String>,
    /// First id after the range.
    pub hi: Option<String>,
}

impl Range {
    fn filter(&self, lf: LazyFrame) -> LazyFrame {
        let mut pred = lit(true);
        if let Some(lo) = &self.lo {
            pred = pred.and(col("customer_id").gt_eq(lit(lo.clone())));
        }
        if let Some(hi) = &self.hi {
            pred = pred.and(col("customer_id").lt(lit(hi.clone())));
        }
        if self.lo.is_none() && self.hi.is_none() {
            lf
        } else {
            lf.filter(pred)
        }
    }
}

/// The window's transactions with the columns the features read.
fn window_transactions(data: &Path, ctx: Ctx<'_>) -> Result<LazyFrame> {
    let (win_start, as_of) = window(ctx.as_of, ctx.params.lookback_months);
    let day_after = |d: NaiveDate| d.succ_opt().unwrap_or(d).and_hms_opt(0, 0, 0).unwrap();
    Ok(scan(data, &contract::TRANSACTIONS)?.filter(
        col("ts")
            .gt_eq(lit(day_after(win_start)))
            .and(col("ts").lt(lit(day_after(as_of)))),
    ))
}

/// Distinct (key, customer) pairs of the window's transactions, from which the
/// cross-customer features are counted: online transactions by IP address and by device, and
/// transactions by proxy. A range of customers gives the pairs of its own customers.
pub struct Pairs {
    /// `ip_address`, `customer_id` of online transactions.
    pub ip: LazyFrame,
    /// `device_id`, `customer_id` of online transactions.
    pub device: LazyFrame,
    /// `_proxy`, `customer_id` of transactions made through a proxy.
    pub proxy: LazyFrame,
}

impl Pairs {
    /// The pairs of a compacted transaction frame (see [`compact`]).
    fn of(txn: &LazyFrame) -> Pairs {
        let pairs = |key: &str, online: bool| {
            let mut pred = col(key).is_not_null();
            if online {
                pred = pred.and(col("_online"));
            }
            txn.clone()
                .filter(pred)
                .select([col(key), col("customer_id")])
                .unique(None, UniqueKeepStrategy::Any)
        };
        Pairs {
            ip: pairs("ip_address", true),
            device: pairs("device_id", true),
            proxy: pairs("proxy_id", false)
                .select([col("proxy_id").alias("_proxy"), col("customer_id")]),
        }
    }

    /// Materialises the pairs (one streaming query).
    fn collect(self) -> Result<[DataFrame; 3]> {
        let dfs = LazyFrame::collect_all_with_engine(
            vec![
                self.ip.logical_plan,
                self.device.logical_plan,
                self.proxy.logical_plan,
            ],
            Engine::Streaming,
            OptFlags::default(),
        )?;
        let [ip, device, proxy]: [DataFrame; 3] = dfs
            .try_into()
            .map_err(|_| Error::Internal("three pair frames expected".into()))?;
        Ok([ip, device, proxy])
    }
}

/// Columns of the cross-customer frame (prefixed `_x_`) and the features they become.
const CROSS: [(&str, &str); 5] = [
    ("_x_shared_ip", "shared_ip_customers"),
    ("_x_shared_device", "shared_device_customers"),
    ("_x_proxy_customers", "proxy_customers"),
    ("_x_proxy_accounts", "proxy_accounts_opened"),
    ("_x_shared_contact", "shared_contact_customers"),
];

/// For each customer in the distinct (`key`, customer) `pairs`, the largest number of `counted`
/// rows over its keys, as column `out`. With `shared_only`, keys counted once are left out
/// (only customers with a key counted more than once get a row).
fn largest_count(
    pairs: LazyFrame,
    counted: LazyFrame,
    key: &str,
    out: &str,
    shared_only: bool,
) -> LazyFrame {
    let mut per_key = counted
        .group_by([col(key)])
        .agg([len().cast(DataType::UInt32).alias("_k")]);
    if shared_only {
        per_key = per_key.filter(col("_k").gt(lit(1u32)));
    }
    pairs
        .join(
            per_key,
            [col(key)],
            [col(key)],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by([col("customer_id")])
        .agg([col("_k").max().alias(out)])
}

/// Cross-customer features over the whole portfolio (S3.2(1), S3.2(3), S3.4(1), S3.4(3),
/// S3.4(4)): group-bys over distinct (key, customer) pairs. One row per customer with any;
/// columns named as in [`CROSS`].
fn cross_customer(cust: LazyFrame, acc: LazyFrame, pairs: Pairs) -> Result<LazyFrame> {
    let [ip, device, proxy, proxy_acc, contact] = CROSS.map(|(x, _)| x);
    let mut parts: Vec<(LazyFrame, &str)> = Vec::new();
    // S3.2(1), S3.2(3): customers per IP / device, for the keys used by more than one
    // customer; every other user of a key counts 1 (the in-range default, see `cross_col`).
    for (p, key, out) in [
        (pairs.ip, "ip_address", ip),
        (pairs.device, "device_id", device),
    ] {
        parts.push((largest_count(p.clone(), p, key, out, true), out));
    }
    // S3.4(1): customers each proxy acted for (onboarding, account opening, transactions).
    let proxy_pairs = concat(
        [
            cust.clone().select([
                col("onboarding_proxy_id").alias("_proxy"),
                col("customer_id"),
            ]),
            acc.clone().select([
                col("opened_by_proxy_id").alias("_proxy"),
                col("customer_id"),
            ]),
            pairs.proxy,
        ],
        UnionArgs::default(),
    )?
    .filter(col("_proxy").is_not_null())
    .unique(None, UniqueKeepStrategy::Any);
    parts.push((
        largest_count(proxy_pairs.clone(), proxy_pairs, "_proxy", proxy, false),
        proxy,
    ));
    // S3.4(3): accounts opened by each proxy that opened one of this customer's accounts.
    let key = "opened_by_proxy_id";
    let acc_proxy = acc.filter(col(key).is_not_null());
    let acc_pairs = acc_proxy
        .clone()
        .select([col(key), col("customer_id")])
        .unique(None, UniqueKeepStrategy::Any);
    parts.push((
        largest_count(acc_pairs, acc_proxy, key, proxy_acc, false),
        proxy_acc,
    ));
    // S3.4(4): customers sharing a phone number or an emergency contact, for the numbers given
    // by more than one customer (others count 1 or 0: the in-range default).
    for key in ["phone_hash", "emergency_contact_hash"] {
        let p = cust
            .clone()
            .filter(col(key).is_not_null())
            .select([col(key), col("customer_id")]);
        parts.push((largest_count(p.clone(), p, key, contact, true), contact));
    }
    // One row per customer with any part, one column per feature (null where that feature
    // has nothing).
    let widened: Vec<LazyFrame> = parts
        .into_iter()
        .map(|(f, own)| {
            let mut sel = vec![col("customer_id")];
            sel.extend(CROSS.map(|(x, _)| {
                if x == own {
                    col(x)
                } else {
                    lit(NULL).cast(DataType::UInt32).alias(x)
                }
            }));
            f.select(sel)
        })
        .collect();
    Ok(concat(widened, UnionArgs::default())?
        .group_by([col("customer_id")])
        .agg(CROSS.map(|(x, _)| col(x).max())))
}

/// Default number of customers per range when the portfolio is processed range by range.
pub const PARTITION_ROWS: usize = 500_000;

/// The feature frame, computed in ranges of at most `rows` customers cut in customer-id order
/// (memory stays bounded by a range). Each range's window transactions are read once into a
/// compacted frame; the cross-customer features are counted at the end from the distinct
/// pairs every range contributes. Same result as [`build`].
pub fn build_partitioned(data: &Path, ctx: Ctx<'_>, rows: usize) -> Result<DataFrame> {
    let ids = scan(data, &contract::CUSTOMERS)?
        .select([col("customer_id")])
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()?;
    let ids = ids.column("customer_id")?.str()?.clone();
    let bounds: Vec<String> = (rows..ids.len())
        .step_by(rows)
        .filter_map(|i| ids.get(i).map(|s| s.to_string()))
        .collect();
    drop(ids);
    let mut parts = Vec::new();
    let mut pairs: Vec<[DataFrame; 3]> = Vec::new();
    let mut lo: Option<String> = None;
    for hi in bounds.into_iter().map(Some).chain(std::iter::once(None)) {
        let range = Range {
            lo: lo.clone(),
            hi: hi.clone(),
        };
        // The range's transactions are read and decoded once; every aggregate below reads
        // the compacted frame.
        let txn = compact(range.filter(window_transactions(data, ctx)?))
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single()
            .lazy();
        pairs.push(Pairs::of(&txn).collect()?);
        parts.push(check_aligned(
            build_range(data, ctx, &range, txn, None)?
                .collect_with_engine(Engine::Streaming)?
                .unwrap_single(),
        )?);
        lo = hi;
    }
    let stack = |mut dfs: Vec<DataFrame>| -> Result<DataFrame> {
        let mut out = dfs.remove(0);
        for p in dfs {
            out.vstack_mut_owned(p)?;
        }
        Ok(out)
    };
    let [mut ip, mut device, mut proxy] = [Vec::new(), Vec::new(), Vec::new()];
    for [i, d, p] in pairs {
        ip.push(i);
        device.push(d);
        proxy.push(p);
    }
    // Customers are disjoint between ranges, so the stacked pairs stay distinct.
    let cross = cross_customer(
        scan(data, &contract::CUSTOMERS)?,
        scan(data, &contract::ACCOUNTS)?,
        Pairs {
            ip: stack(ip)?.lazy(),
            device: stack(device)?.lazy(),
            proxy: stack(proxy)?.lazy(),
        },
    )?;
    // The cross-customer columns are looked up for the stacked ids alone, in their order, and
    // set beside the other features (no gather of the wide frame).
    let mut out = stack(parts)?;
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    let cross = out
        .select(std::iter::once("customer_id").chain(CROSS.map(|(_, name)| name)))?
        .lazy()
        .join(cross, [col("customer_id")], [col("customer_id")], args)
        .select(CROSS.map(|(x, name)| col(x).fill_null(col(name)).alias(name)))
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    for c in cross.columns() {
        out.with_column(c.clone())?;
    }
    Ok(out)
}

/// The window's transactions compacted as they are read: categories become booleans early, so
/// the wide string columns are never held whole.
fn compact(raw_txn: LazyFrame) -> LazyFrame {
    raw_txn.select([
        col("customer_id"),
        col("ts").dt().date().alias("_day"),
        col("amount"),
        col("cash"),
        col("channel")
            .eq(lit("online"))
            .or(col("channel").eq(lit("mobile")))
            .alias("_online"),
        col("direction").eq(lit("out")).alias("_out"),
        col("ip_address"),
        col("ip_country"),
        col("ip_city"),
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
        col("counterparty_country"),
        col("related_party"),
        col("proxy_id"),
    ])
}

/// S2.3, S2.4: a null province is read from the same place's city code, whose first two digits
/// are its province (GB/T 2260); validation has refused a province that contradicts its city.
fn provinces_from_cities(cust: LazyFrame) -> LazyFrame {
    cust.with_columns(contract::PLACES.map(|(prov, city)| {
        col(prov)
            .fill_null(col(city).str().head(lit(2)))
            .alias(prov)
    }))
}

/// The feature frame of the customers in `range` from their compacted window transactions
/// `txn`. `cross` holds the cross-customer counts; without it their columns hold the in-range
/// defaults (1 for a customer who used a key, else 0) for the caller to complete (see
/// [`CROSS`]).
fn build_range(
    data: &Path,
    ctx: Ctx<'_>,
    range: &Range,
    txn: LazyFrame,
    cross: Option<LazyFrame>,
) -> Result<LazyFrame> {
    let p = ctx.params;
    let r = ctx.reference;
    let home = p.home_country.as_str();
    let (win_start, as_of) = window(ctx.as_of, p.lookback_months);
    let as_of_days = (as_of - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32;

    let cust = provinces_from_cities(range.filter(scan(data, &contract::CUSTOMERS)?));
    let acc = range.filter(scan(data, &contract::ACCOUNTS)?);
    let rep = range.filter(scan(data, &contract::REPORTS)?);

    let online = col("_online");
    let risky = r.risky_countries();
    let home_risky = risky.iter().any(|c| c == home);
    let amount = col("amount");
    let thr = p.large_cash_cny;
    let big_nat = p.large_transfer_natural_cny;
    let big_non = p.large_transfer_non_natural_cny;

    // Per-customer transaction aggregates (S3.1–S3.5) in one pass.
    let t_agg = txn.clone().group_by([col("customer_id")]).agg([
        len().cast(DataType::UInt32).alias("txn_count"),
        amount.clone().sum().alias("txn_amount_total"),
        amount.clone().max().alias("max_single_amount"),
        // Elementwise masks, not `filter`, inside aggregations: the streaming group-by
        // reduces those in one pass instead of evaluating each group on its own.
        when(col("cash"))
            .then(amount.clone())
            .otherwise(lit(0.0))
            .sum()
            .alias("cash_total"),
        count(col("cash")).alias("cash_count"),
        count(
            col("cash")
                .and(amount.clone().gt_eq(lit(thr * p.near_threshold_ratio)))
                .and(amount.clone().lt(lit(thr))),
        )
        .alias("cash_near_threshold_count"),
        count(
            online
                .clone()
                .and(col("ip_country").is_not_null())
                .and(col("ip_country").neq(lit(home))),
        )
        .alias("_offsite_abroad"),
        when(online.clone())
            .then(amount.clone())
            .otherwise(lit(NULL).cast(DataType::Float64))
            .max()
            .alias("max_online_amount"),
        count(col("_cp_is_nat")).alias("_cp_nat"),
        count(col("_cp_is_corp")).alias("_cp_corp"),
        count(col("_cp_is_nat").and(amount.clone().gt_eq(lit(big_non)))).alias("_cp_nat_big"),
        count(col("_cp_is_corp").and(amount.clone().gt_eq(lit(big_nat)))).alias("_cp_corp_big"),
        count(col("related_party").and(amount.clone().gt_eq(lit(big_non))))
            .alias("related_party_large_count"),
        count(col("cross_border")).alias("cross_border_count"),
        count(col("cross_border").and(col("_out"))).alias("_xb_out"),
        count(online.clone().and(col("ip_address").is_not_null())).alias("_ip_n"),
        count(online.clone().and(col("device_id").is_not_null())).alias("_device_n"),
        // S3.3: cross-border with a high-risk country; foreign countries are looked up after
        // the (customer, country) group-by below, on far fewer rows.
        count(col("cross_border").and(col("counterparty_country").eq(lit(home))))
            .alias("_xb_risky_home"),
    ]);

    // S3.1: days whose cash total reached the large-value threshold.
    let cash_days = txn
        .clone()
        .filter(col("cash"))
        .group_by([col("customer_id"), col("_day")])
        .agg([amount.clone().sum().alias("_day_cash")])
        .filter(col("_day_cash").gt_eq(lit(thr)))
        .group_by([col("customer_id")])
        .agg([len().cast(DataType::UInt32).alias("cash_large_days")]);

    // Branch city of each customer (the account-opening place, S3.2(2); locality S2.4).
    let branch_ids: Vec<String> = r.branches.iter().map(|b| b.0.clone()).collect();
    let branch_cities: Vec<String> = r.branches.iter().map(|b| b.2.clone()).collect();
    let branch_city = col("branch_id").replace_strict(
        lit(Series::new("k".into(), branch_ids)),
        lit(Series::new("v".into(), branch_cities.clone())),
        Some(lit(NULL).cast(DataType::String)),
        Some(DataType::String),
    );

    // S3.2(2): domestic online transactions from a city other than the branch city.
    let offsite_city = txn
        .clone()
        .filter(
            online
                .clone()
                .and(col("ip_country").eq(lit(home)))
                .and(col("ip_city").is_not_null()),
        )
        .group_by([col("customer_id"), col("ip_city")])
        .agg([len().cast(DataType::UInt32).alias("_n")])
        .join(
            cust.clone()
                .select([col("customer_id"), branch_city.clone().alias("_bcity")]),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("ip_city").neq(col("_bcity")).fill_null(lit(true)))
        .group_by([col("customer_id")])
        .agg([col("_n").sum().alias("_offsite_city")]);

    // S3.5: accounts opened or closed in the window.
    let in_window = |c: &str| {
        col(c)
            .gt(date_lit(win_start))
            .and(col(c).lt_eq(date_lit(as_of)))
            .fill_null(lit(false))
    };
    let acc_changes = acc
        .filter(in_window("opened_date").or(in_window("closed_date")))
        .group_by([col("customer_id")])
        .agg([len().cast(DataType::UInt32).alias("accounts_opened_closed")]);

    // S1.4, S3.4(2), XH4, XL4: reports up to the as-of date.
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

    // E2 and S3.3: the window's amounts and cross-border counts per (customer, foreign
    // counterparty country).
    let cp_groups = txn
        .filter(
            col("counterparty_country")
                .is_not_null()
                .and(col("counterparty_country").neq(lit(home))),
        )
        .group_by([col("customer_id"), col("counterparty_country")])
        .agg([
            amount.sum().alias("_amt"),
            count(col("cross_border")).alias("_xb"),
        ]);
    let risky_foreign = cp_groups
        .clone()
        .filter(col("counterparty_country").is_in(
            lit(Series::new("risky".into(), risky)).implode(false),
            false,
        ))
        .group_by([col("customer_id")])
        .agg([col("_xb").sum().alias("_xb_risky_foreign")]);
    // E2: main counterparty countries (share of the customer's amount in the window).
    let cp_countries = cp_groups
        .join(
            t_agg
                .clone()
                .select([col("customer_id"), col("txn_amount_total")]),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("_amt").gt_eq(col("txn_amount_total") * lit(p.main_counterparty_share)));
    let iso: Vec<String> = r.countries.iter().map(|c| c.iso2.clone()).collect();
    let sanc: Vec<u8> = r.countries.iter().map(|c| c.sanctioned as u8).collect();
    let fatf: Vec<u8> = r.countries.iter().map(|c| c.fatf_level).collect();
    let pred: Vec<u8> = r.countries.iter().map(|c| c.predicate).collect();
    let offs: Vec<u8> = r.countries.iter().map(|c| c.offshore as u8).collect();
    let country_facts = |e: Expr| {
        [
            lookup_u8(e.clone(), iso.clone(), sanc.clone(), 0),
            lookup_u8(e.clone(), iso.clone(), fatf.clone(), 0),
            lookup_u8(e.clone(), iso.clone(), pred.clone(), 1),
            lookup_u8(e, iso.clone(), offs.clone(), 0),
        ]
    };
    let [cs, cf, cp, co] = country_facts(col("counterparty_country"));
    // Looked up row by row first, then reduced: a lookup inside an aggregation is evaluated
    // group by group.
    let cp_risk = cp_countries
        .select([
            col("customer_id"),
            cs.alias("_cp_sanc"),
            cf.alias("_cp_fatf"),
            cp.alias("_cp_pred"),
            co.alias("_cp_off"),
        ])
        .group_by([col("customer_id")])
        .agg([
            col("_cp_sanc").max(),
            col("_cp_fatf").max(),
            col("_cp_pred").max(),
            col("_cp_off").max(),
        ]);

    // The customer's own countries (nationality, residence, registration, business, owner).
    let own = [
        "nationality",
        "residence_country",
        "registration_country",
        "business_country",
        "bo_country",
    ];
    let mut facts: [Vec<Expr>; 4] = Default::default();
    for c in own {
        for (k, e) in country_facts(col(c)).into_iter().enumerate() {
            facts[k].push(e);
        }
    }
    for (k, extra) in ["_cp_sanc", "_cp_fatf", "_cp_pred", "_cp_off"]
        .iter()
        .enumerate()
    {
        facts[k].push(col(*extra));
    }
    let [f_sanc, f_fatf, f_pred, f_off] = facts;

    // S2.3 domestic regions and S2.4 locality against the branch cities and provinces.
    let (rk, rv): (Vec<String>, Vec<u8>) = r.regions.iter().cloned().unzip();
    let provinces = [
        "residence_province",
        "registration_province",
        "business_province",
    ];
    let cities = ["residence_city", "registration_city", "business_city"];
    let region_pred = dsl::max_horizontal(
        provinces
            .iter()
            .map(|c| lookup_u8(col(*c), rk.clone(), rv.clone(), 1))
            .collect::<Vec<_>>(),
    )?;
    let dedup = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        v
    };
    let inst_cities = dedup(branch_cities);
    let inst_provs = dedup(r.branches.iter().map(|b| b.1.clone()).collect());
    let sum_of = |es: Vec<Expr>| -> PolarsResult<Expr> { dsl::sum_horizontal(es, true) };
    let n_places = sum_of(
        (0..3)
            .map(|i| {
                col(cities[i])
                    .is_not_null()
                    .or(col(provinces[i]).is_not_null())
                    .cast(DataType::UInt8)
            })
            .collect(),
    )?;
    let n_local = sum_of(
        cities
            .iter()
            .map(|c| {
                lookup_u8(col(*c), inst_cities.clone(), vec![1; inst_cities.len()], 0)
                    .fill_null(lit(0u8))
            })
            .collect(),
    )?;
    let n_local_prov = sum_of(
        provinces
            .iter()
            .map(|c| {
                lookup_u8(col(*c), inst_provs.clone(), vec![1; inst_provs.len()], 0)
                    .fill_null(lit(0u8))
            })
            .collect(),
    )?;
    let locality = when(col("_n_places").eq(lit(0u8)))
        .then(lit("no_address"))
        .when(col("_n_local").eq(col("_n_places")))
        .then(lit("local"))
        .when(col("_n_local").gt(lit(0u8)))
        .then(lit("partly_local"))
        .when(col("_n_local_prov").gt(lit(0u8)))
        .then(lit("other_city"))
        .otherwise(lit("other_province"));

    let (ik, (irisk, icash)): (Vec<String>, (Vec<u8>, Vec<u8>)) = r
        .industries
        .iter()
        .map(|(c, a, b)| (c.clone(), (*a, *b)))
        .unzip();

    // Age in whole years at the as-of date (S1.7).
    let (ay, am, ad) = (
        chrono::Datelike::year(&as_of),
        chrono::Datelike::month(&as_of) as i8,
        chrono::Datelike::day(&as_of) as i8,
    );
    let b = col("birth_date");
    let before_birthday = b.clone().dt().month().gt(lit(am)).or(b
        .clone()
        .dt()
        .month()
        .eq(lit(am))
        .and(b.clone().dt().day().gt(lit(ad))));
    let age =
        (lit(ay) - b.dt().year() - before_birthday.cast(DataType::Int32)).cast(DataType::Int32);
    let days_since =
        |c: &str| (lit(as_of_days) - col(c).cast(DataType::Int32)).cast(DataType::Int32);

    let natural = col("kind").eq(lit("natural"));
    let has_cross = cross.is_some();
    // A cross-customer feature is the count found for the customer's shared keys; without
    // one, 1 if the customer used such a key at all (only they use it), else 0.
    let one_if = |used: Expr| when(used).then(lit(1u32)).otherwise(lit(0u32));
    let cross_col = |name: &str| {
        let (x, _) = CROSS.iter().find(|c| c.1 == name).expect("cross column");
        let default = match name {
            "shared_ip_customers" => one_if(u32c("_ip_n").gt(lit(0u32))),
            "shared_device_customers" => one_if(u32c("_device_n").gt(lit(0u32))),
            "shared_contact_customers" => one_if(
                col("phone_hash")
                    .is_not_null()
                    .or(col("emergency_contact_hash").is_not_null()),
            ),
            // The proxy frames hold every customer with a proxy.
            _ => lit(0u32),
        };
        if has_cross {
            col(*x).fill_null(default).alias(name)
        } else {
            default.alias(name)
        }
    };

    let aggregates = [
        t_agg,
        cash_days,
        offsite_city,
        acc_changes,
        reports,
        cp_risk,
        risky_foreign,
    ]
    .into_iter()
    .chain(cross);
    // The aggregates are joined onto the customer ids alone, in the customers' order, and set
    // beside the customer columns: the joins gather the narrow frame, not the wide one.
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    let narrow = aggregates.fold(cust.clone().select([col("customer_id")]), |acc, other| {
        acc.join(
            other,
            [col("customer_id")],
            [col("customer_id")],
            args.clone(),
        )
    });
    let joined = concat_lf_horizontal(
        [cust, narrow.rename(["customer_id"], [ALIGNED], true)],
        HConcatOptions::default(),
    )?;

    let out = joined
        .with_columns([
            n_places.alias("_n_places"),
            n_local.alias("_n_local"),
            n_local_prov.alias("_n_local_prov"),
        ])
        .select([
            col("customer_id"),
            // Checked by the caller, then dropped: the two sides of the horizontal
            // concatenation hold the same customer on every row.
            col(ALIGNED).eq(col("customer_id")).alias(ALIGNED),
            col("institution_id"),
            col("branch_id"),
            col("kind"),
            col("info_openness"),
            col("onboarding_channel"),
            col("id_doc_type"),
            u32c("str_count"),
            u32c("large_value_report_count"),
            col("legal_form"),
            col("ownership_layers").cast(DataType::UInt8),
            col("hidden_shareholders"),
            col("alert_level").cast(DataType::UInt8),
            age.alias("age_years"),
            days_since("founding_date").alias("existence_days"),
            days_since("relationship_start").alias("tenure_days"),
            col("relationship_start"),
            (dsl::max_horizontal(f_sanc)?.gt(lit(0u8))).alias("country_sanctioned"),
            dsl::max_horizontal(f_fatf)?.alias("country_fatf_level"),
            dsl::max_horizontal(f_pred)?.alias("country_predicate_level"),
            region_pred.alias("region_predicate_level"),
            (dsl::max_horizontal(f_off)?.gt(lit(0u8))).alias("country_offshore"),
            locality.alias("address_locality"),
            u32c("txn_count"),
            col("txn_amount_total").fill_null(lit(0.0)),
            col("max_single_amount").fill_null(lit(0.0)),
            col("cash_total").fill_null(lit(0.0)),
            u32c("cash_count"),
            u32c("cash_large_days"),
            u32c("cash_near_threshold_count"),
            cross_col("shared_device_customers"),
            (u32c("_offsite_abroad") + u32c("_offsite_city")).alias("offsite_online_count"),
            cross_col("shared_ip_customers"),
            col("max_online_amount").fill_null(lit(0.0)),
            when(natural.clone())
                .then(u32c("_cp_corp"))
                .otherwise(u32c("_cp_nat"))
                .alias("corp_personal_count"),
            when(natural.clone())
                .then(u32c("_cp_corp_big"))
                .otherwise(u32c("_cp_nat_big"))
                .alias("corp_personal_large_count"),
            u32c("related_party_large_count"),
            u32c("cross_border_count"),
            (if home_risky {
                u32c("_xb_risky_home")
            } else {
                lit(0u32)
            } + u32c("_xb_risky_foreign"))
            .alias("cross_border_high_risk_count"),
            cross_col("proxy_customers"),
            u32c("proxy_str_count"),
            cross_col("proxy_accounts_opened"),
            cross_col("shared_contact_customers"),
            u32c("accounts_opened_closed"),
            when(natural)
                .then(u32c("_xb_out"))
                .otherwise(lit(0u32))
                .alias("natural_crossborder_remit_count"),
            col("industry_code"),
            lookup_u8(col("industry_code"), ik.clone(), irisk, 1).alias("industry_risk"),
            lookup_u8(col("industry_code"), ik, icash, 1).alias("industry_cash_intensity"),
            col("pep_relation"),
            col("controller_pep_relation"),
            col("watchlist_hit"),
            col("controller_watchlist_hit"),
            col("refuses_cdd"),
            col("non_resident"),
            col("id_issuing_country")
                .neq(lit(home))
                .alias("foreign_id_document"),
            col("correspondent_relation"),
            col("trust_relation"),
            col("onboarding_proxy_id")
                .is_not_null()
                .alias("onboarding_proxy"),
            col("net_financial_assets"),
            col("annual_life_premium"),
            col("noncash_single_premium"),
            col("walk_in"),
        ]);
    Ok(out)
}
