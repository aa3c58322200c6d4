//! The window's per-customer aggregates in one fused pass over a range's rows, when they come
//! customer by customer (as core-banking extracts and the generated books do): S3.1–S3.5's
//! counts, totals and maxima, S3.1's large cash days, E2's main counterparty countries and S3.3's
//! cross-border transactions with high-risk countries. Running states are kept per run of one
//! customer's rows, in plain fields, and written into arrays indexed by the customer's position
//! in the range (its code in the range's Enum type): no hash table, no text.
//!
//! Each feature is still defined once, by the expressions of `transactions` and `geography`;
//! this pass computes the same values in the same arithmetic (amounts added in whole fen as
//! 64-bit integers, exact in any order, then multiplied by 0.01). Rows that are not customer by customer, or a null
//! in a column the contract says has none, leave the pass (`None`) and the engine's group-bys
//! compute the aggregates instead. Test `fused_window_pass_equals_the_engine_bit_for_bit`
//! runs both on the same books.

use polars::prelude::*;
use rayon::prelude::*;

use super::Ctx;
use crate::contract;
use crate::error::Result;

/// The line `assess` prints after the feature ranges: in how many the fused pass ran, and
/// why not where it did not.
pub fn summary(fused: usize, ranges: usize, allowed: bool) -> String {
    if !allowed {
        format!("window aggregates: grouped by the engine in {ranges} ranges (RISKGRADE_WINDOW_PASS=engine)")
    } else if fused == ranges {
        format!("window aggregates: one pass over each range's rows ({fused} of {ranges} ranges)")
    } else {
        format!(
            "window aggregates: one pass in {fused} of {ranges} ranges; the others' transactions \
             are not customer by customer (or hold nulls where the contract allows none) and \
             were grouped by the engine: transactions.parquet with each customer's rows together \
             (sorted by customer_id, for example) grades faster"
        )
    }
}

/// Fen to yuan, as the engine's `cny_sum` turns them: times 0.01 (not divided by 100, which
/// gives other last bits for a seventh of all totals).
const CENT: f64 = 0.01;

/// A null country code.
const NO_COUNTRY: u16 = u16::MAX;

/// What the pass needs of the model and the reference tables, resolved once.
struct Setup {
    thr: f64,
    near: f64,
    big_nat: f64,
    big_non: f64,
    share: f64,
    home: u16,
    /// Per country code: sanctioned, FATF level, predicate-crime level, offshore.
    facts: Vec<[u8; 4]>,
    /// Per country code: sanctioned or FATF-listed (S3.3).
    risky: Vec<bool>,
}

impl Setup {
    fn new(ctx: Ctx<'_>) -> Setup {
        let p = ctx.params;
        let r = ctx.reference;
        let risky = r.risky_countries();
        let facts = contract::COUNTRIES
            .iter()
            .map(|iso| match r.countries.iter().find(|c| c.iso2 == *iso) {
                Some(c) => [
                    c.sanctioned as u8,
                    c.fatf_level,
                    c.predicate,
                    c.offshore as u8,
                ],
                None => [0, 0, 1, 0],
            })
            .collect();
        Setup {
            thr: p.large_cash_cny,
            near: p.large_cash_cny * p.near_threshold_ratio,
            big_nat: p.large_transfer_natural_cny,
            big_non: p.large_transfer_non_natural_cny,
            share: p.main_counterparty_share,
            home: code_of(&p.home_country),
            facts,
            risky: contract::COUNTRIES
                .iter()
                .map(|iso| risky.iter().any(|c| c == iso))
                .collect(),
        }
    }
}

/// The code of a country in [`contract::country_enum`] ([`NO_COUNTRY`] if not listed).
fn code_of(iso: &str) -> u16 {
    contract::COUNTRIES
        .iter()
        .position(|c| *c == iso)
        .map_or(NO_COUNTRY, |i| i as u16)
}

/// One customer's running counts, totals and maxima over its rows of the window.
#[derive(Clone, Copy)]
struct Sums {
    n: u32,
    fen: i64,
    max_amount: f64,
    cash_fen: i64,
    cash_n: u32,
    near_n: u32,
    abroad_n: u32,
    city_n: u32,
    online: bool,
    max_online: f64,
    cp_nat: u32,
    cp_corp: u32,
    cp_nat_big: u32,
    cp_corp_big: u32,
    related_big: u32,
    xb: u32,
    xb_out: u32,
    xb_home: u32,
    xb_risky_foreign: u32,
    ip_n: u32,
    device_n: u32,
}

impl Sums {
    const EMPTY: Sums = Sums {
        n: 0,
        fen: 0,
        max_amount: f64::NEG_INFINITY,
        cash_fen: 0,
        cash_n: 0,
        near_n: 0,
        abroad_n: 0,
        city_n: 0,
        online: false,
        max_online: f64::NEG_INFINITY,
        cp_nat: 0,
        cp_corp: 0,
        cp_nat_big: 0,
        cp_corp_big: 0,
        related_big: 0,
        xb: 0,
        xb_out: 0,
        xb_home: 0,
        xb_risky_foreign: 0,
        ip_n: 0,
        device_n: 0,
    };

    /// Adds the sums of a later part of the same customer's rows.
    fn merge(&mut self, o: &Sums) {
        self.n += o.n;
        self.fen = self.fen.wrapping_add(o.fen);
        self.max_amount = max(self.max_amount, o.max_amount);
        self.cash_fen = self.cash_fen.wrapping_add(o.cash_fen);
        self.cash_n += o.cash_n;
        self.near_n += o.near_n;
        self.abroad_n += o.abroad_n;
        self.city_n += o.city_n;
        self.online |= o.online;
        self.max_online = max(self.max_online, o.max_online);
        self.cp_nat += o.cp_nat;
        self.cp_corp += o.cp_corp;
        self.cp_nat_big += o.cp_nat_big;
        self.cp_corp_big += o.cp_corp_big;
        self.related_big += o.related_big;
        self.xb += o.xb;
        self.xb_out += o.xb_out;
        self.xb_home += o.xb_home;
        self.xb_risky_foreign += o.xb_risky_foreign;
        self.ip_n += o.ip_n;
        self.device_n += o.device_n;
    }
}

/// The rows of one customer's run that sub-groups need: its cash rows as (day, fen) and its
/// rows with a foreign counterparty country as (country code, fen).
#[derive(Default)]
struct Rows {
    days: Vec<(i32, i64)>,
    countries: Vec<(u16, i64)>,
}

impl Rows {
    /// S3.1's days whose cash reached the threshold and E2's main counterparty countries'
    /// worst facts, for a run of `total_fen`; leaves the buffers empty for the next run.
    fn reduce(&mut self, total_fen: i64, s: &Setup) -> (u32, Option<[u8; 4]>) {
        // S3.1: a day's cash, added in fen, at or above the threshold (inclusive).
        self.days.sort_unstable_by_key(|d| d.0);
        let mut large_days = 0u32;
        for day in self.days.chunk_by(|a, b| a.0 == b.0) {
            let fen = day.iter().fold(0i64, |t, d| t.wrapping_add(d.1));
            large_days += (fen as f64 * CENT >= s.thr) as u32;
        }
        // E2: a counterparty country carrying at least `share` of the window's amount.
        self.countries.sort_unstable_by_key(|c| c.0);
        let total = total_fen as f64 * CENT;
        let mut cp: Option<[u8; 4]> = None;
        for group in self.countries.chunk_by(|a, b| a.0 == b.0) {
            let fen = group.iter().fold(0i64, |t, c| t.wrapping_add(c.1));
            if fen as f64 * CENT >= total * s.share {
                let f = s.facts[group[0].0 as usize];
                cp = Some(cp.map_or(f, |w| std::array::from_fn(|k| w[k].max(f[k]))));
            }
        }
        self.days.clear();
        self.countries.clear();
        (large_days, cp)
    }
}

/// The larger of two amounts (amounts are finite: the checks refuse others).
fn max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// A customer's finished state.
struct Done {
    code: u32,
    sums: Sums,
    large_days: u32,
    cp: Option<[u8; 4]>,
}

/// A run that may continue in the chunk before or after it.
struct Open {
    code: u32,
    sums: Sums,
    rows: Rows,
}

impl Open {
    fn finish(mut self, s: &Setup) -> Done {
        let (large_days, cp) = self.rows.reduce(self.sums.fen, s);
        Done {
            code: self.code,
            sums: self.sums,
            large_days,
            cp,
        }
    }
}

/// What one chunk of rows gives: its first and last runs, which may continue in the chunks
/// beside it, and the runs between, finished.
struct ChunkOut {
    first: Open,
    middle: Vec<Done>,
    last: Option<Open>,
}

/// A boolean column of one chunk, null read as false (as the engine's boolean sums and Kleene
/// `and` count it), in one piece.
fn flags(ca: &BooleanChunked) -> Result<BooleanChunked> {
    Ok(ca.fill_null_with_values(false)?.rechunk().into_owned())
}

/// A country column of one chunk as codes, [`NO_COUNTRY`] for null, in one piece.
fn countries(c: &Column) -> Result<UInt16Chunked> {
    let s = c
        .as_materialized_series()
        .to_physical_repr()
        .cast(&DataType::UInt16)?;
    Ok(s.u16()?
        .fill_null_with_values(NO_COUNTRY)?
        .rechunk()
        .into_owned())
}

/// The rows of one chunk, every column in one piece (`None`: a null where the contract allows
/// none).
fn chunk_pass(df: &DataFrame, s: &Setup) -> Result<Option<ChunkOut>> {
    let c = |name: &str| df.column(name);
    let code = c("customer_id")?
        .as_materialized_series()
        .to_physical_repr()
        .cast(&DataType::UInt32)?;
    let day = c("_day")?.as_materialized_series().to_physical_repr();
    let amount = c("amount")?.as_materialized_series().clone();
    for name in ["cash", "_online", "_out", "cross_border", "related_party"] {
        if c(name)?.null_count() > 0 {
            return Ok(None);
        }
    }
    let (Ok(code), Ok(day), Ok(amount)) = (code.u32(), day.i32(), amount.f64()) else {
        return Ok(None);
    };
    let (Ok(code), Ok(day), Ok(amount)) =
        (code.cont_slice(), day.cont_slice(), amount.cont_slice())
    else {
        return Ok(None);
    };
    let owned = [
        flags(c("cash")?.bool()?)?,
        flags(c("_online")?.bool()?)?,
        flags(c("_out")?.bool()?)?,
        flags(c("cross_border")?.bool()?)?,
        flags(c("related_party")?.bool()?)?,
        flags(c("_cp_is_nat")?.bool()?)?,
        flags(c("_cp_is_corp")?.bool()?)?,
        flags(c("_offsite_city")?.bool()?)?,
        flags(&c("ip_address")?.is_not_null())?,
        flags(&c("device_id")?.is_not_null())?,
    ];
    let Some(bits) = owned
        .iter()
        .map(|ca| ca.downcast_iter().next().map(|a| a.values()))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    let [cash, online, out, xb, related, cp_nat, cp_corp, city, ip, device] = bits.as_slice()
    else {
        return Ok(None);
    };
    let ip_country = countries(c("ip_country")?)?;
    let cp_country = countries(c("counterparty_country")?)?;
    let (Ok(ip_country), Ok(cp_country)) = (ip_country.cont_slice(), cp_country.cont_slice())
    else {
        return Ok(None);
    };
    let n = code.len();
    if n == 0 || [day.len(), amount.len(), ip_country.len(), cp_country.len()] != [n; 4] {
        return Ok(None);
    }
    let mut first: Option<Open> = None;
    let mut middle = Vec::new();
    let mut rows = Rows::default();
    let mut cur = code[0];
    let mut acc = Sums::EMPTY;
    for i in 0..n {
        if code[i] != cur {
            if first.is_none() {
                first = Some(Open {
                    code: cur,
                    sums: acc,
                    rows: std::mem::take(&mut rows),
                });
            } else {
                let (large_days, cp) = rows.reduce(acc.fen, s);
                middle.push(Done {
                    code: cur,
                    sums: acc,
                    large_days,
                    cp,
                });
            }
            cur = code[i];
            acc = Sums::EMPTY;
        }
        let a = amount[i];
        let fen = (a * 100.0).round() as i64;
        acc.n += 1;
        acc.fen = acc.fen.wrapping_add(fen);
        acc.max_amount = max(acc.max_amount, a);
        if cash.get_bit(i) {
            acc.cash_fen = acc.cash_fen.wrapping_add(fen);
            acc.cash_n += 1;
            acc.near_n += (a >= s.near && a < s.thr) as u32;
            rows.days.push((day[i], fen));
        }
        if online.get_bit(i) {
            acc.online = true;
            acc.max_online = max(acc.max_online, a);
            let ic = ip_country[i];
            acc.abroad_n += (ic != NO_COUNTRY && ic != s.home) as u32;
            acc.ip_n += ip.get_bit(i) as u32;
            acc.device_n += device.get_bit(i) as u32;
        }
        acc.city_n += city.get_bit(i) as u32;
        if cp_nat.get_bit(i) {
            acc.cp_nat += 1;
            acc.cp_nat_big += (a >= s.big_non) as u32;
        }
        if cp_corp.get_bit(i) {
            acc.cp_corp += 1;
            acc.cp_corp_big += (a >= s.big_nat) as u32;
        }
        acc.related_big += (related.get_bit(i) && a >= s.big_non) as u32;
        let cc = cp_country[i];
        let foreign = cc != NO_COUNTRY && cc != s.home;
        if xb.get_bit(i) {
            acc.xb += 1;
            acc.xb_out += out.get_bit(i) as u32;
            acc.xb_home += (cc != NO_COUNTRY && cc == s.home) as u32;
            acc.xb_risky_foreign += (foreign && s.risky[cc as usize]) as u32;
        }
        if foreign {
            rows.countries.push((cc, fen));
        }
    }
    let open = Open {
        code: cur,
        sums: acc,
        rows,
    };
    Ok(Some(match first {
        None => ChunkOut {
            first: open,
            middle,
            last: None,
        },
        Some(first) => ChunkOut {
            first,
            middle,
            last: Some(open),
        },
    }))
}

/// The range's window aggregates in one pass over its compacted, marked window rows `txn`
/// (see `transactions::mark_offsite_city`): one row per customer of the range in code order,
/// `customer_id` of the range's Enum type `key` (of `n` customers). `None` when the rows are
/// not customer by customer, or a column the contract says is never null holds a null: the
/// engine's path then computes them.
pub fn window_aggregates(
    ctx: Ctx<'_>,
    txn: &DataFrame,
    n: usize,
    key: &DataType,
) -> Result<Option<DataFrame>> {
    let s = Setup::new(ctx);
    let mut narrow = txn.select([
        "customer_id",
        "_day",
        "amount",
        "cash",
        "_online",
        "_out",
        "cross_border",
        "related_party",
        "_cp_is_nat",
        "_cp_is_corp",
        "_offsite_city",
        "ip_address",
        "device_id",
        "ip_country",
        "counterparty_country",
    ])?;
    let chunks: Vec<DataFrame> = narrow.split_chunks().filter(|c| c.height() > 0).collect();
    let outs: Vec<Option<ChunkOut>> = chunks
        .par_iter()
        .map(|c| chunk_pass(c, &s))
        .collect::<Result<_>>()?;
    let mut table = Table::new(n);
    // The partial runs at the chunks' edges are joined where one customer's rows continue.
    let mut open: Option<Open> = None;
    for out in outs {
        let Some(out) = out else { return Ok(None) };
        let first = out.first;
        open = match open {
            Some(mut o) if o.code == first.code => {
                o.sums.merge(&first.sums);
                o.rows.days.extend(first.rows.days);
                o.rows.countries.extend(first.rows.countries);
                Some(o)
            }
            Some(o) => {
                table.put(o.finish(&s));
                Some(first)
            }
            None => Some(first),
        };
        if let Some(last) = out.last {
            if let Some(o) = open.take() {
                table.put(o.finish(&s));
            }
            for d in out.middle {
                table.put(d);
            }
            open = Some(last);
        }
    }
    if let Some(o) = open {
        table.put(o.finish(&s));
    }
    table.frame(key)
}

/// The finished states by customer code. A customer met twice means its rows were not
/// together: the table is then refused.
struct Table {
    seen: Vec<bool>,
    done: Vec<Done>,
    broken: bool,
}

impl Table {
    fn new(n: usize) -> Table {
        Table {
            seen: vec![false; n],
            done: Vec::with_capacity(n),
            broken: false,
        }
    }

    fn put(&mut self, d: Done) {
        match self.seen.get_mut(d.code as usize) {
            Some(seen) if !*seen => {
                *seen = true;
                self.done.push(d);
            }
            _ => self.broken = true,
        }
    }

    /// The frame in code order: `customer_id`, then the columns of
    /// `transactions::per_customer`, `cash_large_days`, the main counterparty countries' facts
    /// (`_cp_sanc`, `_cp_fatf`, `_cp_pred`, `_cp_off`) and `_xb_risky_foreign`. A customer
    /// without rows has zero counts and amounts (what the feature columns fill the engine's
    /// nulls with) and null counterparty facts.
    fn frame(self, key: &DataType) -> Result<Option<DataFrame>> {
        if self.broken {
            return Ok(None);
        }
        let n = self.seen.len();
        let count = |name: &str, f: fn(&Done) -> u32| -> Column {
            let mut v = vec![0u32; n];
            for d in &self.done {
                v[d.code as usize] = f(d);
            }
            UInt32Chunked::from_vec(name.into(), v).into_column()
        };
        let amount = |name: &str, f: fn(&Sums) -> f64| -> Column {
            let mut v = vec![0f64; n];
            for d in &self.done {
                v[d.code as usize] = f(&d.sums);
            }
            Float64Chunked::from_vec(name.into(), v).into_column()
        };
        let fact = |name: &str, k: usize| -> Column {
            let mut v: Vec<Option<u8>> = vec![None; n];
            for d in &self.done {
                v[d.code as usize] = d.cp.map(|c| c[k]);
            }
            UInt8Chunked::from_iter_options(name.into(), v.into_iter()).into_column()
        };
        let codes = UInt32Chunked::from_vec("customer_id".into(), (0..n as u32).collect())
            .into_series()
            .cast(&DataType::from(key.cat_physical()?))?;
        let out = vec![
            Series::from_cats_and_dtype(&codes, key, true)?.into_column(),
            count("txn_count", |d| d.sums.n),
            amount("txn_amount_total", |a| a.fen as f64 * CENT),
            amount("max_single_amount", |a| a.max_amount),
            amount("cash_total", |a| a.cash_fen as f64 * CENT),
            count("cash_count", |d| d.sums.cash_n),
            count("cash_near_threshold_count", |d| d.sums.near_n),
            count("_offsite_abroad", |d| d.sums.abroad_n),
            count("_offsite_city", |d| d.sums.city_n),
            amount("max_online_amount", |a| {
                if a.online {
                    a.max_online
                } else {
                    0.0
                }
            }),
            count("_cp_nat", |d| d.sums.cp_nat),
            count("_cp_corp", |d| d.sums.cp_corp),
            count("_cp_nat_big", |d| d.sums.cp_nat_big),
            count("_cp_corp_big", |d| d.sums.cp_corp_big),
            count("related_party_large_count", |d| d.sums.related_big),
            count("cross_border_count", |d| d.sums.xb),
            count("_xb_out", |d| d.sums.xb_out),
            count("_xb_risky_home", |d| d.sums.xb_home),
            count("_ip_n", |d| d.sums.ip_n),
            count("_device_n", |d| d.sums.device_n),
            count("cash_large_days", |d| d.large_days),
            fact("_cp_sanc", 0),
            fact("_cp_fatf", 1),
            fact("_cp_pred", 2),
            fact("_cp_off", 3),
            count("_xb_risky_foreign", |d| d.sums.xb_risky_foreign),
        ];
        Ok(Some(DataFrame::new(n, out)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::Params;
    use crate::reference::Reference;

    /// customer, day, amount, cash, online, out, cross-border, related party, counterparty
    /// natural, counterparty corporate, off-site city, IP address, device, IP country,
    /// counterparty country
    type Row = (
        &'static str,
        &'static str,
        f64,
        [bool; 8],
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );

    const NONE: [bool; 8] = [false; 8];

    fn key() -> DataType {
        DataType::from_frozen_categories(FrozenCategories::new(["A", "B", "C"]).unwrap())
    }

    fn frame(rows: &[Row]) -> DataFrame {
        let day = |d: &str| {
            let d = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
            crate::dates::days_since_epoch(d)
        };
        let flag = |k: usize| -> Vec<bool> { rows.iter().map(|r| r.3[k]).collect() };
        let text = |f: fn(&Row) -> Option<&'static str>| -> Vec<Option<&str>> {
            rows.iter().map(f).collect()
        };
        let country = contract::country_enum();
        df!(
            "customer_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "_day" => rows.iter().map(|r| day(r.1)).collect::<Vec<_>>(),
            "amount" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "cash" => flag(0),
            "_online" => flag(1),
            "_out" => flag(2),
            "cross_border" => flag(3),
            "related_party" => flag(4),
            "_cp_is_nat" => flag(5),
            "_cp_is_corp" => flag(6),
            "_offsite_city" => flag(7),
            "ip_address" => text(|r| r.4),
            "device_id" => text(|r| r.5),
            "ip_country" => text(|r| r.6),
            "counterparty_country" => text(|r| r.7),
        )
        .unwrap()
        .lazy()
        .with_columns([
            col("customer_id").cast(key()),
            col("_day").cast(DataType::Date),
            col("ip_country").cast(country.clone()),
            col("counterparty_country").cast(country),
        ])
        .collect()
        .unwrap()
    }

    /// Customer A's five rows and C's three (B has none), as worked out in the test below.
    fn rows() -> Vec<Row> {
        let (t, f) = (true, false);
        vec![
            (
                "A",
                "2026-05-01",
                30_000.10,
                [t, f, f, f, f, f, f, f],
                None,
                None,
                None,
                None,
            ),
            (
                "A",
                "2026-05-01",
                19_999.91,
                [t, f, f, f, f, f, f, f],
                None,
                None,
                None,
                None,
            ),
            (
                "A",
                "2026-06-01",
                45_000.00,
                [t, f, f, f, f, f, f, f],
                None,
                None,
                None,
                None,
            ),
            (
                "A",
                "2026-07-01",
                100.00,
                [f, t, t, t, f, f, f, f],
                Some("1.1.1.1"),
                None,
                Some("US"),
                Some("KP"),
            ),
            (
                "A",
                "2026-07-02",
                200.00,
                [f, t, f, f, f, f, f, t],
                None,
                Some("D1"),
                Some("CN"),
                None,
            ),
            (
                "C",
                "2026-08-01",
                600_000.00,
                [f, f, f, t, t, t, f, f],
                None,
                None,
                None,
                Some("VG"),
            ),
            (
                "C",
                "2026-08-02",
                2_500_000.00,
                [f, f, t, t, t, f, t, f],
                None,
                None,
                None,
                Some("CN"),
            ),
            ("C", "2026-08-03", 10.00, NONE, None, None, None, Some("KP")),
        ]
    }

    fn run(df: &DataFrame) -> Option<DataFrame> {
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/reference");
        let reference = Reference::load(&dir, as_of).unwrap();
        let params = Params::default();
        let ctx = Ctx {
            params: &params,
            reference: &reference,
            as_of,
            links: None,
            owners: None,
            fused: true,
        };
        window_aggregates(ctx, df, 3, &key()).unwrap()
    }

    fn u(df: &DataFrame, c: &str) -> Vec<Option<u32>> {
        df.column(c).unwrap().u32().unwrap().iter().collect()
    }

    fn x(df: &DataFrame, c: &str) -> Vec<Option<f64>> {
        df.column(c).unwrap().f64().unwrap().iter().collect()
    }

    fn b(df: &DataFrame, c: &str) -> Vec<Option<u8>> {
        df.column(c).unwrap().u8().unwrap().iter().collect()
    }

    /// S3.1–S3.5, E2, S3.3 by hand. A: cash 30,000.10 + 19,999.91 on one day (50,000.01 ≥
    /// 50,000: one large day) and 45,000.00 (in [45,000, 50,000): near the threshold); online
    /// 100.00 from the US (abroad, IP, cross-border out to KP, sanctioned: high-risk) and 200.00
    /// from home on device D1 in another city; KP's 100.00 is under 10 % of 95,300.01, so no
    /// main counterparty country. B: no rows. C: 600,000.00 to a natural counterparty in VG
    /// (cross-border, related, under the 2,000,000 large transfer), 2,500,000.00 to a corporate
    /// one at home (large for a natural person's counterparty, related and large, cross-border
    /// out with home), 10.00 to KP; VG carries 600,000 ≥ 10 % of 3,100,010.00: its facts
    /// (FATF increased monitoring 1, predicate crime 2, offshore) are the main ones.
    #[test]
    fn s3_e2_window_aggregates_by_hand() {
        let df = run(&frame(&rows())).expect("customer by customer");
        let ids: Vec<_> = df
            .column("customer_id")
            .unwrap()
            .cast(&DataType::String)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|s| s.unwrap().to_string())
            .collect();
        assert_eq!(ids, ["A", "B", "C"]);
        assert_eq!(u(&df, "txn_count"), [Some(5), Some(0), Some(3)]);
        // Whole fen added, then times 1/100 as the engine divides.
        assert_eq!(
            x(&df, "txn_amount_total"),
            [
                Some(9_530_001.0 * 0.01),
                Some(0.0),
                Some(310_001_000.0 * 0.01)
            ]
        );
        assert_eq!(
            x(&df, "max_single_amount"),
            [Some(45_000.0), Some(0.0), Some(2_500_000.0)]
        );
        assert_eq!(
            x(&df, "cash_total"),
            [Some(9_500_001.0 * 0.01), Some(0.0), Some(0.0)]
        );
        assert_eq!(u(&df, "cash_count"), [Some(3), Some(0), Some(0)]);
        assert_eq!(
            u(&df, "cash_near_threshold_count"),
            [Some(1), Some(0), Some(0)]
        );
        assert_eq!(u(&df, "cash_large_days"), [Some(1), Some(0), Some(0)]);
        assert_eq!(u(&df, "_offsite_abroad"), [Some(1), Some(0), Some(0)]);
        assert_eq!(u(&df, "_offsite_city"), [Some(1), Some(0), Some(0)]);
        assert_eq!(
            x(&df, "max_online_amount"),
            [Some(200.0), Some(0.0), Some(0.0)]
        );
        assert_eq!(u(&df, "_ip_n"), [Some(1), Some(0), Some(0)]);
        assert_eq!(u(&df, "_device_n"), [Some(1), Some(0), Some(0)]);
        assert_eq!(u(&df, "_cp_nat"), [Some(0), Some(0), Some(1)]);
        assert_eq!(u(&df, "_cp_nat_big"), [Some(0), Some(0), Some(0)]);
        assert_eq!(u(&df, "_cp_corp"), [Some(0), Some(0), Some(1)]);
        assert_eq!(u(&df, "_cp_corp_big"), [Some(0), Some(0), Some(1)]);
        assert_eq!(
            u(&df, "related_party_large_count"),
            [Some(0), Some(0), Some(1)]
        );
        assert_eq!(u(&df, "cross_border_count"), [Some(1), Some(0), Some(2)]);
        assert_eq!(u(&df, "_xb_out"), [Some(1), Some(0), Some(1)]);
        assert_eq!(u(&df, "_xb_risky_home"), [Some(0), Some(0), Some(1)]);
        assert_eq!(u(&df, "_xb_risky_foreign"), [Some(1), Some(0), Some(1)]);
        assert_eq!(b(&df, "_cp_sanc"), [None, None, Some(0)]);
        assert_eq!(b(&df, "_cp_fatf"), [None, None, Some(1)]);
        assert_eq!(b(&df, "_cp_pred"), [None, None, Some(2)]);
        assert_eq!(b(&df, "_cp_off"), [None, None, Some(1)]);
    }

    /// A customer's rows split across chunks (A over three, C over two) are joined at the
    /// chunks' edges: the same frame as from one chunk.
    #[test]
    fn runs_split_across_chunks_are_joined() {
        let all = rows();
        let whole = run(&frame(&all)).unwrap();
        let mut split = frame(&all[..1]);
        for part in [&all[1..2], &all[2..6], &all[6..7], &all[7..]] {
            split.vstack_mut_owned(frame(part)).unwrap();
        }
        assert_eq!(split.first_col_n_chunks(), 5);
        let joined = run(&split).unwrap();
        assert!(joined.equals_missing(&whole));
    }

    /// The catalogue names the features this pass feeds, each once and each a feature.
    #[test]
    fn the_catalogue_names_the_features_of_the_window_pass() {
        use crate::catalog::{CATALOG, WINDOW_PASS};
        for (i, f) in WINDOW_PASS.iter().enumerate() {
            assert!(
                CATALOG.iter().any(|c| c.name == *f),
                "{f} not in the catalogue"
            );
            assert!(!WINDOW_PASS[..i].contains(f), "{f} twice");
        }
    }

    /// Rows that are not customer by customer (A, C, then A again), or a null amount, leave
    /// the pass: the engine computes those.
    #[test]
    fn interleaved_rows_or_nulls_leave_the_pass() {
        let mut all = rows();
        let a = all.remove(0);
        all.push(a);
        assert!(run(&frame(&all)).is_none());
        let mut df = frame(&rows());
        let amount: Float64Chunked = (0..8).map(|i| (i != 3).then_some(1.0)).collect();
        df.with_column(
            amount
                .into_series()
                .with_name("amount".into())
                .into_column(),
        )
        .unwrap();
        assert!(run(&df).is_none());
    }
}
