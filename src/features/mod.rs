//! Customer-level features (the catalogue, `catalog.rs`) derived from the inputs with the Polars
//! lazy API, in ranges of customers cut in customer-id order so memory stays bounded. Each
//! range's window transactions are read and decoded once into a compacted frame every aggregate
//! reads; aggregates are computed per customer before anything is joined to the customers.
//! Cross-customer patterns (shared IP address, device, phone, proxy; S3.2, S3.4) are counted
//! once at the end from the distinct (key, customer) pairs every range contributes. Nothing here
//! knows about weights or scores, so totals can be recomputed without redoing this stage.
//!
//! One file per group of rules: `window` (the look-back window), `customer` (E1, E4, XH, XL
//! fields of the customer's record), `records` (S1.4 reports, S3.5 accounts), `transactions`
//! (S3.1–S3.5), `geography` (E2, S3.3), `cross` (S3.2(1)(3), S3.4(1)(3)(4)).

mod cross;
mod customer;
mod fused;
mod geography;
mod owners;
mod records;
mod transactions;
mod window;

use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Deserialize;

use crate::bucket::CustomerSet;
use crate::catalog::{enum_features, CATALOG};
use crate::contract;
use crate::error::{Error, Result};
use crate::frame::to_enum;
use crate::inputs::Inputs;
use crate::progress::Progress;
use crate::reference::Reference;
use crate::validate::{InPass, TransactionCounts};

pub use customer::age_years;
pub use window::window;

/// Parameters of the feature derivation (the `[features]` table of the model file).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Length of the transaction look-back window ending at the as-of date, in months.
    pub lookback_months: u32,
    /// Large-value cash threshold, CNY, inclusive (PBoC order 2016 No. 3).
    pub large_cash_cny: f64,
    /// Cash amounts in [ratio × threshold, threshold) count as just below it (S3.1).
    pub near_threshold_ratio: f64,
    /// Large transfer threshold for non-natural persons, CNY, inclusive.
    pub large_transfer_non_natural_cny: f64,
    /// Large transfer threshold for natural persons, CNY, inclusive.
    pub large_transfer_natural_cny: f64,
    /// A counterparty country is "main" when it carries at least this share of the customer's
    /// transaction amount in the window (E2).
    pub main_counterparty_share: f64,
    /// Tenure up to which a customer is "new" for segments with `tenure = "new"`, in days.
    pub new_customer_days: u32,
    /// The institution's home country (ISO alpha-2).
    pub home_country: String,
    /// Effective share of equity, or of income or voting rights, at which a natural person is
    /// a beneficial owner (L-BOI6: 25 %).
    pub beneficial_owner_share: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            lookback_months: 12,
            large_cash_cny: 50_000.0,
            near_threshold_ratio: 0.9,
            large_transfer_non_natural_cny: 2_000_000.0,
            large_transfer_natural_cny: 500_000.0,
            main_counterparty_share: 0.1,
            new_customer_days: 365,
            home_country: "CN".into(),
            beneficial_owner_share: 0.25,
        }
    }
}

/// What the features depend on besides the data.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// Feature parameters of the model.
    pub params: &'a Params,
    /// Reference tables.
    pub reference: &'a Reference,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// A links table of the whole book (`riskgrade links`), when these inputs are one bucket
    /// of it: shared keys are then counted over the book (see [`links`]).
    pub links: Option<&'a DataFrame>,
    /// The beneficial-owners table (`owners::table`) when the book has an ownership graph.
    pub owners: Option<&'a DataFrame>,
    /// Whether a range's window aggregates may come from the fused pass over its rows
    /// ([`fused`]; the default, see [`fused_pass_enabled`]); false: always the engine's
    /// group-bys. The two give the same bits.
    pub fused: bool,
}

/// Whether runs use the fused window pass: yes, unless the environment sets
/// `RISKGRADE_WINDOW_PASS=engine` (to compare the two paths; the outputs are the same).
pub fn fused_pass_enabled() -> bool {
    std::env::var("RISKGRADE_WINDOW_PASS").map_or(true, |v| v != "engine")
}

/// Columns of the feature frame that are not features: the customer's ids and branch, and the
/// start (T1) and end of the relationship. The frame holds these, then every catalogue feature in
/// catalogue order.
pub const CARRIED: [&str; 5] = [
    "customer_id",
    "institution_id",
    "branch_id",
    "relationship_start",
    "relationship_end",
];

/// What one group of rules contributes to a range: per-customer aggregates (keyed by
/// `customer_id`) and feature columns over the customer row joined with them.
struct Part {
    aggregates: Vec<LazyFrame>,
    columns: Vec<(&'static str, Expr)>,
}

/// The per-customer aggregates of a range's window: from the fused pass ([`fused`]), or the
/// engine's group-bys over the compacted window `[txn, t_agg]`: the rows and their main
/// aggregation ([`transactions::per_customer`]).
enum Window {
    Fused(Box<LazyFrame>),
    Engine(Box<[LazyFrame; 2]>),
}

impl Window {
    fn of(ctx: Ctx<'_>, range: &Range, key: &DataType, txn: &DataFrame) -> Result<Window> {
        if ctx.fused {
            if let Some(f) = fused::window_aggregates(ctx, txn, range.ids.len(), key)? {
                return Ok(Window::Fused(Box::new(f.lazy())));
            }
        }
        let txn = txn.clone().lazy();
        let t_agg = transactions::per_customer(ctx, &txn);
        Ok(Window::Engine(Box::new([txn, t_agg])))
    }
}

/// Rows where `pred` holds (a boolean sum; nulls count as false).
fn count(pred: Expr) -> Expr {
    pred.sum()
}

/// A transaction's amount in whole fen (0.01 CNY, the smallest unit of the yuan), rounded half
/// away from zero: an integer held as a float.
fn fen() -> Expr {
    (col("amount") * lit(100.0)).round(0, RoundMode::HalfAwayFromZero)
}

/// The sum of amounts in whole fen ([`fen`]; `fen` may mask rows to 0), in CNY. The fen are
/// added as 64-bit integers, so the total is the exact sum of the amounts whatever order the
/// rows are added in (up to 9.2·10^16 CNY): the same on every run and at every thread count,
/// and a day's cash exactly at the threshold reaches it (S3.1). Summed as floats directly, the
/// last bits of a total depended on how the batches were scheduled; integers held as floats
/// were exact only up to 2^53 fen (90 trillion CNY, a hundred rows at the largest amount the
/// checks accept). Turned into yuan by multiplying with 0.01, never by dividing by 100: Polars
/// divides a column by a scalar
/// through its reciprocal but a one-row piece element by element, so `/ 100` gave 3425.99 for
/// a range's only customer and 3425.9900000000002 for the same total among others (and could
/// move a main counterparty country across its share, E2). The fused pass multiplies alike.
fn cny_sum(fen: Expr) -> Expr {
    fen.cast(DataType::Int64).sum().cast(DataType::Float64) * lit(0.01)
}

/// A count column, 0 where the customer had no row.
fn u32c(name: &str) -> Expr {
    col(name).fill_null(lit(0u32)).cast(DataType::UInt32)
}

/// A range of customer ids, `lo` inclusive, `hi` exclusive (`None`: open).
#[derive(Debug, Clone)]
pub struct Range {
    /// Lowest id in the range.
    pub lo: Option<String>,
    /// First id after the range.
    pub hi: Option<String>,
    /// The customer ids in the range, sorted.
    ids: StringChunked,
}

impl Range {
    /// The range's customer ids as an Enum type. Transactions' customer ids are cast to it as
    /// they are read, so every group-by and join of a range hashes dense integers, not strings;
    /// an id outside the range's customers (W01) becomes null and is ignored.
    fn key(&self) -> Result<DataType> {
        let cats = FrozenCategories::new(self.ids.iter().flatten())?;
        Ok(DataType::from_frozen_categories(cats))
    }

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

/// The ranges of at most `rows` customers, in customer-id order.
fn ranges(inputs: &Inputs, rows: usize) -> Result<Vec<Range>> {
    let ids = inputs
        .required(&contract::CUSTOMERS)
        .select([col("customer_id")])
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()?;
    let ids = ids.column("customer_id")?.str()?.clone();
    let bounds: Vec<String> = (rows..ids.len())
        .step_by(rows.max(1))
        .filter_map(|i| ids.get(i).map(|s| s.to_string()))
        .collect();
    let mut out = Vec::new();
    let mut lo: Option<String> = None;
    for (k, hi) in bounds
        .into_iter()
        .map(Some)
        .chain(std::iter::once(None))
        .enumerate()
    {
        let start = k * rows.max(1);
        out.push(Range {
            lo: lo.clone(),
            hi: hi.clone(),
            ids: ids.slice(
                start as i64,
                rows.max(1).min(ids.len().saturating_sub(start)),
            ),
        });
        lo = hi;
    }
    Ok(out)
}

/// A column of a range's frame: true where the aggregates' customer id equals the customer's
/// (always, unless the row order was broken).
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

/// The range's window transactions, read and decoded once into a compacted frame whose
/// `customer_id` is of the range's `key` type (see [`Range::key`]), S3.2(2)'s off-site rows
/// marked. With `checks`, every row of the range is read and checked on the way
/// ([`checked_read`]); without, only the window's rows are read.
fn range_transactions(
    inputs: &Inputs,
    ctx: Ctx<'_>,
    range: &Range,
    key: &DataType,
    checks: Option<&InPass>,
) -> Result<DataFrame> {
    let raw = range.filter(inputs.required(&contract::TRANSACTIONS));
    let (as_of, months) = (ctx.as_of, ctx.params.lookback_months);
    let txn = match checks {
        None => window::compact(window::window_transactions(raw, as_of, months), key)
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single(),
        Some(checks) => checked_read(raw, window::in_window(as_of, months), key, checks)?,
    };
    let cust = range.filter(inputs.required(&contract::CUSTOMERS));
    transactions::mark_offsite_city(ctx, txn, cust, key)
}

/// The range's transactions, every row read once: each batch is shown to `checks` (the
/// transactions' row checks, [`InPass`]), then its window rows of the range's customers are
/// compacted (see [`window::compact`]) and kept.
fn checked_read(
    raw: LazyFrame,
    in_window: Expr,
    key: &DataType,
    checks: &InPass,
) -> Result<DataFrame> {
    const IN_WINDOW: &str = "_in_window";
    let compacted = window::compacted(key);
    let schema = raw.clone().select(compacted.clone()).collect_schema()?;
    let kept: Vec<PlSmallStr> = schema.iter_names().cloned().collect();
    let observe = checks.observer();
    // Batch by batch as they stream past, in parallel: the checks see every row, then only the
    // window's rows of the range's customers go on, compacted.
    let take = move |df: DataFrame| -> PolarsResult<DataFrame> {
        observe(&df)?;
        let keep = df.column(IN_WINDOW)?.bool()? & &df.column("customer_id")?.is_not_null();
        let df = df.select(kept.iter().cloned())?;
        if keep.all() {
            Ok(df)
        } else {
            df.filter(&keep)
        }
    };
    let out_schema = schema.clone();
    Ok(raw
        .select(
            compacted
                .into_iter()
                .chain([in_window.alias(IN_WINDOW)])
                .chain(checks.columns())
                .collect::<Vec<_>>(),
        )
        .map(
            take,
            OptFlags::STREAMING,
            Some(Arc::new(move |_: &Schema| Ok(out_schema.clone()))),
            Some("transaction checks"),
        )
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single())
}

/// The feature frame of every customer (see [`CARRIED`]), computed in ranges of at most `rows`
/// customers cut in customer-id order (memory stays bounded by a range), the cross-customer
/// features counted over the whole book. With `checks`, the transactions' row checks are made
/// as the transactions are read, range by range, and settled after the last.
pub fn build_partitioned(
    inputs: &Inputs,
    ctx: Ctx<'_>,
    rows: usize,
    progress: &Progress,
    checks: Option<&InPass>,
) -> Result<(DataFrame, Option<TransactionCounts>)> {
    let mut parts = Vec::new();
    let mut pairs: Vec<[DataFrame; 3]> = Vec::new();
    let all = ranges(inputs, rows)?;
    let (n_ranges, mut in_one_pass) = (all.len(), 0);
    let task = progress.task("feature ranges", n_ranges as u64);
    let accounts = || inputs.required(&contract::ACCOUNTS);
    // Each range's Enum type (a hash table of its customer ids) is built on another thread
    // while the range before is computed.
    std::thread::scope(|s| -> Result<()> {
        let mut next_key = all.first().map(|r| s.spawn(move || r.key()));
        for (i, range) in all.iter().enumerate() {
            let key = next_key
                .take()
                .expect("a key per range")
                .join()
                .map_err(|_| Error::Internal("range key thread panicked".into()))??;
            next_key = all.get(i + 1).map(|r| s.spawn(move || r.key()));
            let txn = range_transactions(inputs, ctx, range, &key, checks)?;
            if let Some(checks) = checks {
                checks.range_done(
                    range
                        .filter(accounts())
                        .select([col("account_id"), to_enum(col("customer_id"), key.clone())]),
                )?;
            }
            pairs.push(cross::distinct_pairs(&txn)?);
            let (plan, fused) = range_plan(inputs, ctx, range, &key, txn)?;
            // The engine's group-bys stream; with the fused pass's aggregates in hand, what is
            // left (lookups and joins of the range's customers) runs faster in memory.
            let engine = if fused {
                in_one_pass += 1;
                Engine::InMemory
            } else {
                Engine::Streaming
            };
            parts.push(check_aligned(
                plan.collect_with_engine(engine)?.unwrap_single(),
            )?);
            task.advance(1);
        }
        Ok(())
    })?;
    task.done();
    progress.line(&fused::summary(in_one_pass, n_ranges, ctx.fused));
    let counts = checks.map(|c| c.finish(accounts())).transpose()?;
    let mut out = stack(parts)?;
    complete_cross(inputs, ctx, &mut out, pairs)?;
    flag_sorted_ids(&mut out)?;
    Ok((out, counts))
}

/// Flags `customer_id` as sorted when the rows are in ascending id order, as they are when the
/// customers file is (ranges are stacked in id order). Sorting the outputs by customer id is
/// then free instead of a gather of every column; an unsorted book is sorted as before.
fn flag_sorted_ids(df: &mut DataFrame) -> Result<()> {
    let ids = col("customer_id");
    let ascending = df
        .clone()
        .lazy()
        .select([ids
            .clone()
            .gt(ids.shift(lit(1)))
            .fill_null(lit(true))
            .all(false)
            .alias("ok")])
        .collect()?;
    if ascending.column("ok")?.bool()?.get(0) == Some(true) {
        let mut c = df.column("customer_id")?.clone();
        c.set_sorted_flag(polars::series::IsSorted::Ascending);
        df.with_column(c)?;
    }
    Ok(())
}

/// The link name of the links table's row that says what the table was computed from.
pub const COMPUTED_FROM: &str = "computed_from";

/// What a links table was computed from: the as-of date, the look-back window and the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinksSource {
    /// The as-of date.
    pub as_of: NaiveDate,
    /// The look-back window, months.
    pub lookback_months: u32,
    /// The book's customers.
    pub book: CustomerSet,
}

impl LinksSource {
    /// The key of the [`COMPUTED_FROM`] row:
    /// `as_of=YYYY-MM-DD;lookback_months=N;customers=N;id_xor=16 hex digits`.
    pub fn key(&self) -> String {
        format!(
            "as_of={};lookback_months={};customers={};id_xor={:016x}",
            self.as_of, self.lookback_months, self.book.customers, self.book.id_xor
        )
    }

    fn parse(key: &str) -> Option<LinksSource> {
        let mut as_of = None;
        let mut months = None;
        let mut customers = None;
        let mut id_xor = None;
        for part in key.split(';') {
            let (k, v) = part.split_once('=')?;
            match k {
                "as_of" => as_of = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok(),
                "lookback_months" => months = v.parse().ok(),
                "customers" => customers = v.parse().ok(),
                "id_xor" => id_xor = u64::from_str_radix(v, 16).ok(),
                _ => return None,
            }
        }
        Some(LinksSource {
            as_of: as_of?,
            lookback_months: months?,
            book: CustomerSet {
                customers: customers?,
                id_xor: id_xor?,
            },
        })
    }
}

/// What a kept feature file (`assess --keep-features`) was computed with, carried in its
/// Parquet key-value metadata: `compare --features` refuses a baseline or an as-of date that
/// differs, since its grades would not be the grades of those features.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FeaturesSource {
    /// The as-of date.
    pub as_of: NaiveDate,
    /// The `[features]` parameters.
    pub params: Params,
    /// SHA-256 of the resolved model of the run (its manifest's `model_sha256`).
    pub model_sha256: String,
    /// The FATF lists in force (E2).
    pub fatf_lists: String,
}

impl FeaturesSource {
    /// Key of the metadata that marks a features file.
    pub const KIND: (&'static str, &'static str) = ("riskgrade", "features");

    /// The key-value metadata of the file.
    pub fn metadata(&self) -> Vec<(&'static str, String)> {
        vec![
            (Self::KIND.0, Self::KIND.1.to_string()),
            ("as_of", self.as_of.to_string()),
            (
                "features_params",
                serde_json::to_string(&self.params).unwrap_or_default(),
            ),
            ("model_sha256", self.model_sha256.clone()),
            ("fatf_lists", self.fatf_lists.clone()),
        ]
    }

    /// Reads it back from a file's metadata (`None`: not a features file of this riskgrade).
    pub fn read(path: &std::path::Path) -> Result<Option<FeaturesSource>> {
        let kv = crate::inputs::parquet_metadata(path)?;
        let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        if get(Self::KIND.0).as_deref() != Some(Self::KIND.1) {
            return Ok(None);
        }
        let parsed = (|| {
            Some(FeaturesSource {
                as_of: NaiveDate::parse_from_str(&get("as_of")?, "%Y-%m-%d").ok()?,
                params: serde_json::from_str(&get("features_params")?).ok()?,
                model_sha256: get("model_sha256")?,
                fatf_lists: get("fatf_lists")?,
            })
        })();
        Ok(parsed)
    }
}

/// The links table of the whole book (`riskgrade links`): every shared key (IP address and
/// device of online transactions in the window, proxy, accounts opened by a proxy, phone,
/// emergency contact) counted more than once, with its count; see [`cross::links_table`]. Its
/// first row (link [`COMPUTED_FROM`]) says what it was computed from (count: the customers).
pub fn links(inputs: &Inputs, ctx: Ctx<'_>) -> Result<DataFrame> {
    // One range of the whole book: its key leaves out the transactions of unknown customers
    // (W01), as the ranges of `assess` do.
    let book = ranges(inputs, usize::MAX)?.remove(0);
    let txn = window::compact(
        window::window_transactions(
            inputs.required(&contract::TRANSACTIONS),
            ctx.as_of,
            ctx.params.lookback_months,
        ),
        &book.key()?,
    );
    let source = LinksSource {
        as_of: ctx.as_of,
        lookback_months: ctx.params.lookback_months,
        book: CustomerSet::of_inputs(inputs)?,
    };
    let first = df!(
        "link" => [COMPUTED_FROM],
        "key" => [source.key()],
        "count" => [u32::try_from(source.book.customers).unwrap_or(u32::MAX)],
    )?;
    let table = cross::links_table(
        inputs.required(&contract::CUSTOMERS),
        inputs.required(&contract::ACCOUNTS),
        cross::Pairs::of(&txn),
    )?;
    Ok(concat([first.lazy(), table], UnionArgs::default())?
        .sort(["link", "key"], SortMultipleOptions::default())
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single())
}

/// Reads and checks a links table file (`assess --links`): columns `link` (one of
/// [`cross::LINKS`]), `key`, `count` (at least 2), one row per (link, key), and one row of link
/// [`COMPUTED_FROM`] saying what it was computed from; returns the keys and that source.
pub fn read_links(path: &std::path::Path) -> Result<(DataFrame, LinksSource)> {
    let name = path.display();
    let bad = |m: String| {
        Error::Input(format!("--links {name}: {m}; give the table written by riskgrade links or the cluster driver's stage 1"))
    };
    let df = crate::inputs::scan_path(path)?
        .collect()
        .map_err(|e| bad(format!("cannot read as Parquet: {e}")))?;
    for (c, want) in [("link", "text"), ("key", "text"), ("count", "integer")] {
        let dt = df
            .column(c)
            .map_err(|_| bad(format!("no column '{c}'")))?
            .dtype()
            .clone();
        let ok = match want {
            "text" => matches!(dt, DataType::String),
            _ => dt.is_integer(),
        };
        if !ok {
            return Err(bad(format!("column '{c}' is {dt}, not {want}")));
        }
    }
    let df = df
        .lazy()
        .select([
            col("link"),
            col("key"),
            col("count").strict_cast(DataType::UInt32),
        ])
        .collect()
        .map_err(|e| bad(format!("column 'count': {e}")))?;
    let links = df.column("link")?.str()?;
    let sources: Vec<usize> = links
        .iter()
        .enumerate()
        .filter(|(_, l)| *l == Some(COMPUTED_FROM))
        .map(|(i, _)| i)
        .collect();
    let source = match sources.as_slice() {
        [row] => {
            let key = df.column("key")?.str()?.get(*row).unwrap_or_default();
            LinksSource::parse(key).ok_or_else(|| {
                bad(format!(
                    "row {row}: '{key}' does not say what the table was computed from                      (as_of=YYYY-MM-DD;lookback_months=N;customers=N;id_xor=HEX)"
                ))
            })?
        }
        [] => {
            return Err(bad(format!(
                "no row of link '{COMPUTED_FROM}' saying which book, as-of date and look-back                  window it was computed from"
            )))
        }
        _ => return Err(bad(format!("{} rows of link '{COMPUTED_FROM}'", sources.len()))),
    };
    let df = df
        .lazy()
        .filter(col("link").neq(lit(COMPUTED_FROM)))
        .collect()?;
    let links = df.column("link")?.str()?;
    if let Some((row, l)) = links
        .iter()
        .enumerate()
        .find(|(_, l)| !l.is_some_and(|l| cross::LINKS.contains(&l)))
    {
        return Err(bad(format!(
            "row {row}: link {l:?} is not one of {}",
            cross::LINKS.join(", ")
        )));
    }
    let count = df.column("count")?.u32()?;
    if let Some(row) = count.iter().position(|n| n.is_none_or(|n| n < 2)) {
        return Err(bad(format!(
            "row {row}: count {:?}; the table holds keys counted at least twice",
            count.get(row)
        )));
    }
    if let Some(row) = df.column("key")?.str()?.iter().position(|k| k.is_none()) {
        return Err(bad(format!("row {row}: key is null")));
    }
    let distinct = df
        .clone()
        .lazy()
        .select([col("link"), col("key")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?
        .height();
    if distinct != df.height() {
        return Err(bad(format!(
            "{} rows repeat a (link, key) pair",
            df.height() - distinct
        )));
    }
    Ok((df, source))
}

/// The query of the first range of at most `rows` customers (for profiling).
pub fn first_range_plan(inputs: &Inputs, ctx: Ctx<'_>, rows: usize) -> Result<LazyFrame> {
    let range = ranges(inputs, rows)?.remove(0);
    let key = range.key()?;
    let txn = range_transactions(inputs, ctx, &range, &key, None)?;
    Ok(range_plan(inputs, ctx, &range, &key, txn)?.0)
}

fn stack(mut dfs: Vec<DataFrame>) -> Result<DataFrame> {
    let mut out = dfs.remove(0);
    for p in dfs {
        out.vstack_mut_owned(p)?;
    }
    Ok(out)
}

/// Counts the cross-customer features over the distinct pairs every range contributed and sets
/// them beside the other features, looked up for the stacked ids alone, in their order (no
/// gather of the wide frame).
fn complete_cross(
    inputs: &Inputs,
    ctx: Ctx<'_>,
    out: &mut DataFrame,
    pairs: Vec<[DataFrame; 3]>,
) -> Result<()> {
    let [mut ip, mut device, mut proxy] = [Vec::new(), Vec::new(), Vec::new()];
    for [i, d, p] in pairs {
        ip.push(i);
        device.push(d);
        proxy.push(p);
    }
    // Customers are disjoint between ranges, so the stacked pairs stay distinct.
    let counts = cross::cross_customer(
        inputs.required(&contract::CUSTOMERS),
        inputs.required(&contract::ACCOUNTS),
        cross::Pairs {
            ip: stack(ip)?.lazy(),
            device: stack(device)?.lazy(),
            proxy: stack(proxy)?.lazy(),
        },
        ctx.links.map(|t| t.clone().lazy()),
    )?;
    let args = crate::frame::left_in_order();
    let cols = out
        .select(std::iter::once("customer_id").chain(cross::CROSS.map(|(_, name)| name)))?
        .lazy()
        .join(counts, [col("customer_id")], [col("customer_id")], args)
        .select(cross::CROSS.map(|(x, name)| col(x).fill_null(col(name)).alias(name)))
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    for c in cols.columns() {
        out.with_column(c.clone())?;
    }
    Ok(())
}

/// The query of one range's feature frame from its compacted window transactions `txn`, whose
/// customer ids are of type `key`, and whether its window aggregates came from the fused pass.
/// The cross-customer columns hold what the range alone shows; [`complete_cross`] completes
/// them.
fn range_plan(
    inputs: &Inputs,
    ctx: Ctx<'_>,
    range: &Range,
    key: &DataType,
    txn: DataFrame,
) -> Result<(LazyFrame, bool)> {
    let cust =
        geography::provinces_from_cities(range.filter(inputs.required(&contract::CUSTOMERS)));
    let keyed = |lf: LazyFrame| lf.with_column(to_enum(col("customer_id"), key.clone()));
    let window = Window::of(ctx, range, key, &txn)?;
    let fused = matches!(window, Window::Fused(_));
    drop(txn);
    let bo_rows = ctx
        .owners
        .map(|t| keyed(range.filter(t.clone().lazy())).filter(col("customer_id").is_not_null()));
    let parts = [
        records::part(
            ctx,
            keyed(range.filter(inputs.required(&contract::REPORTS))),
            keyed(range.filter(inputs.required(&contract::ACCOUNTS))),
        ),
        transactions::part(ctx, &window),
        geography::part(ctx, &window, bo_rows.clone())?,
        owners::part(bo_rows),
        Part {
            aggregates: vec![],
            columns: customer::columns(ctx)
                .into_iter()
                .chain(
                    cross::columns(false)
                        .into_iter()
                        .zip(cross::CROSS)
                        .map(|(e, (_, name))| (name, e)),
                )
                .collect(),
        },
    ];
    let mut aggregates = Vec::new();
    let mut columns = Vec::new();
    for p in parts {
        aggregates.extend(p.aggregates);
        columns.extend(p.columns);
    }
    // The aggregates are joined onto the customer ids alone, in the customers' order, and set
    // beside the customer columns: the joins gather the narrow frame, not the wide one.
    let args = crate::frame::left_in_order();
    let narrow = aggregates.into_iter().fold(
        keyed(cust.clone().select([col("customer_id")])),
        |acc, other| {
            acc.join(
                other,
                [col("customer_id")],
                [col("customer_id")],
                args.clone(),
            )
        },
    );
    let joined = concat_lf_horizontal(
        [cust, narrow.rename(["customer_id"], [ALIGNED], true)],
        HConcatOptions::default(),
    )?;
    Ok((joined.select(in_catalogue_order(columns)?), fused))
}

/// The frame's columns: [`CARRIED`] and the check column, then one expression per catalogue
/// feature in catalogue order. A feature without exactly one expression is a bug.
fn in_catalogue_order(mut columns: Vec<(&'static str, Expr)>) -> Result<Vec<Expr>> {
    let mut out = vec![
        col("customer_id"),
        // Checked by the caller, then dropped: the two sides of the horizontal concatenation
        // hold the same customer on every row.
        col(ALIGNED)
            .cast(DataType::String)
            .eq(col("customer_id"))
            .alias(ALIGNED),
        col("institution_id"),
        col("branch_id"),
        col("relationship_start"),
        col("relationship_end"),
    ];
    for f in CATALOG {
        let at = columns
            .iter()
            .position(|(n, _)| *n == f.name)
            .ok_or_else(|| Error::Internal(format!("no expression for feature {}", f.name)))?;
        let (name, e) = columns.swap_remove(at);
        out.push(match enum_features().iter().find(|(n, _)| *n == name) {
            Some((_, t)) => e.cast(t.clone()).alias(name),
            None => e.alias(name),
        });
    }
    if let Some((name, _)) = columns.first() {
        return Err(Error::Internal(format!(
            "feature {name} computed but not in the catalogue"
        )));
    }
    Ok(out)
}
