//! Synthetic transactions: about 20 a customer a year with a long tail, over every channel;
//! structuring just below the cash threshold, large cash, shared IP addresses and devices,
//! roaming and foreign IPs, cross-border flows, related parties, proxies (S3.1–S3.5).

use polars::prelude::*;

use super::customers::Profile;
use super::distributions::{strs, Fmt, BRANCHES, FOREIGN};
use crate::rng::{mix, Rng};

const MS_DAY: i64 = 86_400_000;

/// The transactions frame of a chunk's customers (`first_account`: each one's first account).
pub fn make(
    rng: &mut Rng,
    f: &mut Fmt,
    profiles: &[Profile],
    first_account: &[u64],
    as_of: i32,
) -> PolarsResult<DataFrame> {
    let mut t = Txns::new(profiles.len() * 22);
    for (idx, p) in profiles.iter().enumerate() {
        let k = ((2.5 + rng.normal()).exp().round() as u64).min(3000);
        let start = p.rel_start.max(as_of - 365);
        let span = (as_of - start).max(1) as i64;
        for j in 0..k {
            t.push(rng, f, p, (first_account[idx], j), (start, span));
        }
    }
    t.finish()
}

/// The columns of `transactions.parquet` for one chunk.
struct Txns {
    t_id: Vec<i64>,
    t_cust: StringChunkedBuilder,
    t_acc: StringChunkedBuilder,
    t_ts: Vec<i64>,
    t_amt: Vec<f64>,
    t_dir: Vec<&'static str>,
    t_cash: Vec<bool>,
    t_chan: Vec<&'static str>,
    t_ip: StringChunkedBuilder,
    t_ipc: Vec<Option<&'static str>>,
    t_ipcity: StringChunkedBuilder,
    t_dev: StringChunkedBuilder,
    t_xb: Vec<bool>,
    t_cp: StringChunkedBuilder,
    t_cpk: Vec<Option<&'static str>>,
    t_cpc: Vec<Option<&'static str>>,
    t_rel: Vec<bool>,
    t_proxy: StringChunkedBuilder,
}

impl Txns {
    /// Empty columns for about `cap` transactions.
    fn new(cap: usize) -> Self {
        Txns {
            t_id: Vec::with_capacity(cap),
            t_cust: StringChunkedBuilder::new("customer_id".into(), cap),
            t_acc: StringChunkedBuilder::new("account_id".into(), cap),
            t_ts: Vec::with_capacity(cap),
            t_amt: Vec::with_capacity(cap),
            t_dir: Vec::with_capacity(cap),
            t_cash: Vec::with_capacity(cap),
            t_chan: Vec::with_capacity(cap),
            t_ip: StringChunkedBuilder::new("ip_address".into(), cap),
            t_ipc: Vec::with_capacity(cap),
            t_ipcity: StringChunkedBuilder::new("ip_city".into(), cap),
            t_dev: StringChunkedBuilder::new("device_id".into(), cap),
            t_xb: Vec::with_capacity(cap),
            t_cp: StringChunkedBuilder::new("counterparty_id".into(), cap),
            t_cpk: Vec::with_capacity(cap),
            t_cpc: Vec::with_capacity(cap),
            t_rel: Vec::with_capacity(cap),
            t_proxy: StringChunkedBuilder::new("proxy_id".into(), cap),
        }
    }

    /// Transaction `j` of customer `p` on `account`, on a day of the `span` days from `start`.
    fn push(
        &mut self,
        rng: &mut Rng,
        f: &mut Fmt,
        p: &Profile,
        (account, j): (u64, u64),
        (start, span): (i32, i64),
    ) {
        self.t_id.push((p.g * 10_000 + j) as i64);
        self.t_cust.append_value(f.id("C", p.g, 10));
        self.t_acc.append_value(f.id("A", account, 11));
        let day = start as i64 + rng.range(0, span);
        self.t_ts
            .push(day * MS_DAY + rng.range(8 * 3_600_000, 22 * 3_600_000));
        let ch = *rng.pick(&[
            ("counter", 0.25),
            ("online", 0.30),
            ("mobile", 0.35),
            ("atm", 0.10),
        ]);
        let mut cash = ch == "atm" || (ch == "counter" && rng.chance(0.5));
        let mut dir = if rng.chance(0.5) { "in" } else { "out" };
        let (mu, sd) = if p.natural { (7.5, 1.6) } else { (9.5, 1.8) };
        let mut amount = ((mu + sd * rng.normal()).exp() * 100.0).round() / 100.0;
        if p.structurer && rng.chance(0.4) {
            cash = true;
            dir = "in";
            amount = rng.range(4_500_000, 4_999_999) as f64 / 100.0;
        } else if p.big_cash && cash && rng.chance(0.3) {
            amount = rng.range(5_000_000, 30_000_000) as f64 / 100.0;
        }
        self.t_amt.push(amount.max(0.01));
        self.t_dir.push(dir);
        self.t_cash.push(cash);
        self.t_chan.push(ch);
        self.network(rng, f, p, ch);
        let xb = !cash && rng.chance(if p.cross_border_trader { 0.3 } else { 0.004 });
        self.t_xb.push(xb);
        let cpk = *rng.pick(&[
            ("natural", 0.6),
            ("non_natural", 0.38),
            ("government", 0.02),
        ]);
        self.t_cpk.push(Some(cpk));
        self.t_cp
            .append_value(f.hex("X", mix(rng.next_u64() % 5_000_000)));
        self.t_cpc
            .push(Some(if xb { *rng.pick(FOREIGN) } else { "CN" }));
        self.t_rel
            .push(!p.natural && cpk == "non_natural" && rng.chance(0.05));
        match p.proxy {
            Some(px) if ch == "counter" && rng.chance(0.3) => {
                self.t_proxy.append_value(f.id("P", px, 10))
            }
            _ => self.t_proxy.append_null(),
        }
    }

    /// IP address, its country and city, and device of an online or mobile transaction (S3.2).
    fn network(&mut self, rng: &mut Rng, f: &mut Fmt, p: &Profile, ch: &str) {
        if ch == "online" || ch == "mobile" {
            let roam = rng.chance(0.03);
            self.t_ip
                .append_value(f.ip(mix(if roam { rng.next_u64() } else { p.home_ip })));
            let abroad = (p.foreign && rng.chance(0.3)) || rng.chance(0.003);
            self.t_ipc
                .push(Some(if abroad { *rng.pick(FOREIGN) } else { "CN" }));
            if abroad {
                self.t_ipcity.append_null();
            } else if rng.chance(0.1) {
                self.t_ipcity
                    .append_value(BRANCHES[rng.range(0, BRANCHES.len() as i64) as usize].2);
            } else {
                self.t_ipcity.append_value(&p.city);
            }
            self.t_dev
                .append_value(f.hex("D", mix(p.home_device + (1 << 52))));
        } else {
            self.t_ip.append_null();
            self.t_ipc.push(None);
            self.t_ipcity.append_null();
            self.t_dev.append_null();
        }
    }

    /// The frame in the contract's column order.
    fn finish(self) -> PolarsResult<DataFrame> {
        let nt = self.t_id.len();
        DataFrame::new(
            nt,
            vec![
                Column::new("txn_id".into(), self.t_id),
                self.t_cust.finish().into_column(),
                self.t_acc.finish().into_column(),
                Column::new("ts".into(), self.t_ts)
                    .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?,
                Column::new("amount".into(), self.t_amt),
                Column::new("direction".into(), self.t_dir),
                Column::new("cash".into(), self.t_cash),
                Column::new("channel".into(), self.t_chan),
                self.t_ip.finish().into_column(),
                strs("ip_country", self.t_ipc),
                self.t_ipcity.finish().into_column(),
                self.t_dev.finish().into_column(),
                Column::new("cross_border".into(), self.t_xb),
                self.t_cp.finish().into_column(),
                strs("counterparty_kind", self.t_cpk),
                strs("counterparty_country", self.t_cpc),
                Column::new("related_party".into(), self.t_rel),
                self.t_proxy.finish().into_column(),
            ],
        )
    }
}
