//! Buckets of customers for a run split over a cluster (docs/scale-out.md): a customer belongs
//! to bucket `pmod(xxhash64(customer_id), N)` exactly as Spark SQL computes it — XXH64 with seed
//! 42 over the id's UTF-8 bytes, read as a signed 64-bit integer, then its non-negative
//! remainder by N. A bucket folder is checked to hold only its own customers' rows.

use std::fmt;
use std::str::FromStr;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::inputs::Inputs;

/// Spark's seed for `xxhash64`.
pub const SPARK_SEED: u64 = 42;

/// The bucket of a customer id among `count` buckets (Spark's `pmod(xxhash64(id), count)`).
pub fn of(id: &str, count: u32) -> u32 {
    let h = xxhash_rust::xxh64::xxh64(id.as_bytes(), SPARK_SEED) as i64;
    h.rem_euclid(i64::from(count.max(1))) as u32
}

/// One bucket of a split run: `index` of `count` (`--bucket K/N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Bucket {
    /// This bucket, from 0.
    pub index: u32,
    /// How many buckets the book was split into.
    pub count: u32,
}

impl FromStr for Bucket {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("'{s}' is not a bucket; write K/N with 0 <= K < N, e.g. 3/8");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Bucket { index, count })
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Which customers something was computed from: their number and the XOR of the Spark
/// `xxhash64` of their ids. Order-free, and one id more, fewer or changed changes it; the set
/// of a book is the [`CustomerSet::union`] of its buckets' sets, so a merge can check that its
/// buckets make up the book a links table was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustomerSet {
    /// Customers (rows of `customers.parquet`).
    pub customers: u64,
    /// XOR of `xxhash64(customer_id)` over them.
    #[serde(with = "hex64")]
    pub id_xor: u64,
}

mod hex64 {
    pub fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:016x}"))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let t: String = serde::Deserialize::deserialize(d)?;
        u64::from_str_radix(&t, 16).map_err(serde::de::Error::custom)
    }
}

impl CustomerSet {
    /// The set of the ids of a string column (nulls are not ids).
    pub fn of(ids: &StringChunked) -> CustomerSet {
        let mut id_xor = 0u64;
        let mut customers = 0u64;
        for id in ids.iter().flatten() {
            id_xor ^= xxhash_rust::xxh64::xxh64(id.as_bytes(), SPARK_SEED);
            customers += 1;
        }
        CustomerSet { customers, id_xor }
    }

    /// The set of the customers of a book's `customers.parquet`.
    pub fn of_inputs(inputs: &Inputs) -> Result<CustomerSet> {
        let ids = inputs
            .required(&crate::contract::CUSTOMERS)
            .select([col("customer_id")])
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single();
        Ok(CustomerSet::of(ids.column("customer_id")?.str()?))
    }

    /// The set made of disjoint sets (the buckets of one book).
    pub fn union(parts: impl IntoIterator<Item = CustomerSet>) -> CustomerSet {
        parts.into_iter().fold(
            CustomerSet {
                customers: 0,
                id_xor: 0,
            },
            |a, b| CustomerSet {
                customers: a.customers + b.customers,
                id_xor: a.id_xor ^ b.id_xor,
            },
        )
    }
}

impl fmt::Display for CustomerSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} customers, id digest {:016x}",
            self.customers, self.id_xor
        )
    }
}

/// The bucket of every id of a string column.
pub fn column(ids: &StringChunked, count: u32) -> UInt32Chunked {
    ids.apply_nonnull_values_generic(DataType::UInt32, |id| of(id, count))
}

/// Checks that every row with a `customer_id` in every input file belongs to `bucket`: a row
/// of another bucket means the folder was not cut by `pmod(xxhash64(customer_id), N)`.
pub fn check(inputs: &Inputs, bucket: Bucket) -> Result<()> {
    for f in &inputs.files {
        if !f.spec.columns.iter().any(|c| c.name == "customer_id") {
            continue;
        }
        let ids = f
            .scan
            .clone()
            .select([col("customer_id")])
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single();
        let ids = ids.column("customer_id")?.str()?.clone();
        let buckets = column(&ids, bucket.count);
        let wrong = buckets.not_equal(bucket.index);
        let first = wrong.iter().position(|w| w == Some(true));
        if let Some(row) = first {
            let found = buckets.get(row).unwrap_or_default();
            return Err(Error::Input(format!(
                "{}: row {row} holds a customer of bucket {found}/{n}, not of --bucket {bucket} \
                 ({} rows of other buckets); a bucket folder holds the rows whose \
                 pmod(xxhash64(customer_id), {n}) = {}",
                f.spec.file,
                wrong.sum().unwrap_or(0),
                bucket.index,
                n = bucket.count,
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by Spark 3.5: `SELECT xxhash64(''), xxhash64('C0000001'),
    /// pmod(xxhash64('C0000001'), 7)`.
    #[test]
    fn spark_xxhash64_of_known_values() {
        let h = |s: &str| xxhash_rust::xxh64::xxh64(s.as_bytes(), SPARK_SEED) as i64;
        assert_eq!(h(""), -7444071767201028348);
        assert_eq!(h("C0000001"), -7289589106169719567);
        assert_eq!(of("C0000001", 7), 6);
    }

    #[test]
    fn pmod_is_never_negative() {
        for id in ["", "a", "C0000001", "客户"] {
            for n in [1, 2, 7, 1000] {
                assert!(of(id, n) < n);
            }
        }
    }

    #[test]
    fn bucket_flag_parses_k_of_n() {
        assert_eq!("3/8".parse::<Bucket>(), Ok(Bucket { index: 3, count: 8 }));
        for bad in ["8/8", "1/0", "3", "a/b", "-1/4"] {
            assert!(bad.parse::<Bucket>().is_err(), "{bad}");
        }
    }
}
