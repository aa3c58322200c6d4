//! Synthetic accounts: one to four per customer, some closed, some opened by the customer's
//! proxy (S3.4(1), S3.4(3), S3.5).

use polars::prelude::*;

use super::customers::Profile;
use super::distributions::{dates, Fmt};
use crate::rng::Rng;

/// The accounts frame of a chunk's customers, and each customer's first account number.
pub fn make(
    rng: &mut Rng,
    f: &mut Fmt,
    profiles: &[Profile],
    as_of: i32,
) -> PolarsResult<(DataFrame, Vec<u64>)> {
    let cap = profiles.len() * 2;
    let mut a_id = StringChunkedBuilder::new("account_id".into(), cap);
    let mut a_cust = StringChunkedBuilder::new("customer_id".into(), cap);
    let mut a_open = Vec::with_capacity(cap);
    let mut a_close = Vec::with_capacity(cap);
    let mut a_proxy = StringChunkedBuilder::new("opened_by_proxy_id".into(), cap);
    let mut first_account = Vec::with_capacity(profiles.len());
    for p in profiles {
        let k = 1 + rng.chance(0.3) as u64 + rng.chance(0.08) as u64 + rng.chance(0.03) as u64;
        first_account.push(p.g * 10);
        for j in 0..k {
            a_id.append_value(f.id("A", p.g * 10 + j, 11));
            a_cust.append_value(f.id("C", p.g, 10));
            let open = p.rel_start
                + rng.range(0, (as_of - p.rel_start).max(1) as i64) as i32 * (j > 0) as i32;
            a_open.push(Some(open));
            a_close.push(if j > 0 && rng.chance(0.1) {
                Some(open + rng.range(0, (as_of - open).max(1) as i64) as i32)
            } else {
                None
            });
            match p.proxy {
                Some(px) if j == 0 || rng.chance(0.5) => a_proxy.append_value(f.id("P", px, 10)),
                _ => a_proxy.append_null(),
            }
        }
    }
    let na = a_open.len();
    let accounts = DataFrame::new(
        na,
        vec![
            a_id.finish().into_column(),
            a_cust.finish().into_column(),
            dates("opened_date", a_open)?,
            dates("closed_date", a_close)?,
            a_proxy.finish().into_column(),
        ],
    )?;
    Ok((accounts, first_account))
}
