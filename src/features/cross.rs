//! Cross-customer features (S3.2(1), S3.2(3), S3.4(1), S3.4(3), S3.4(4)): how many customers
//! share an IP address, a device, a phone or emergency contact, or a proxy. They are properties
//! of the whole book: each range contributes its distinct (key, customer) pairs, counted once
//! at the end; a customer who alone uses a key counts 1 from its own range.

use polars::prelude::*;

use super::{count, u32c};
use crate::error::{Error, Result};

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
    pub fn of(txn: &LazyFrame) -> Pairs {
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
    pub fn collect(self) -> Result<[DataFrame; 3]> {
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
pub const CROSS: [(&str, &str); 5] = [
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
pub fn cross_customer(cust: LazyFrame, acc: LazyFrame, pairs: Pairs) -> Result<LazyFrame> {
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

/// The counts of a range's own use of the shared keys, aggregated with its transactions: how
/// many of its online transactions carry an IP address and a device.
pub fn own_use() -> [Expr; 2] {
    let online = col("_online");
    [
        count(online.clone().and(col("ip_address").is_not_null())).alias("_ip_n"),
        count(online.and(col("device_id").is_not_null())).alias("_device_n"),
    ]
}

/// The cross-customer feature columns of a range: the count found for the customer's shared
/// keys (`complete`: the columns of [`CROSS`] are joined in), or else what the range alone
/// shows (1 if the customer used such a key at all, else 0; proxies: 0) for the caller to
/// complete.
pub fn columns(complete: bool) -> Vec<Expr> {
    let one_if = |used: Expr| when(used).then(lit(1u32)).otherwise(lit(0u32));
    CROSS
        .iter()
        .map(|(x, name)| {
            let default = match *name {
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
            if complete {
                col(*x).fill_null(default).alias(*name)
            } else {
                default.alias(*name)
            }
        })
        .collect()
}
