//! A deterministic synthetic portfolio in the data contract (`contract.rs`), realistic enough
//! that every rule fires on some customers. Customers are made in fixed-size chunks, each from
//! its own random stream, several chunks in parallel; each chunk is written as one row group of
//! every file as soon as it is made, so memory stays constant whatever the portfolio size and
//! the bytes depend only on the seed.

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use crate::contract::{self, FileSpec};
use crate::error::{Context, Result};
use crate::rng::Rng;
use crate::{io, progress::Progress};

/// Customers per chunk (one Parquet row group of each file).
const CHUNK: u64 = 32_768;

/// Settings of `riskgrade generate`.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Number of customers.
    pub customers: u64,
    /// Random seed.
    pub seed: u64,
    /// Date the portfolio is observed (transactions cover the 365 days before it).
    pub as_of: i32,
}

/// Row counts of a generated portfolio.
#[derive(Debug, Default, Clone, Copy)]
pub struct GenStats {
    /// Customers.
    pub customers: u64,
    /// Accounts.
    pub accounts: u64,
    /// Transactions.
    pub transactions: u64,
    /// Reports.
    pub reports: u64,
    /// Grades on file.
    pub grades: u64,
    /// Events.
    pub events: u64,
    /// Grades set by hand.
    pub overrides: u64,
}

/// Branches of the synthetic institution: id, province, city (GB/T 2260 codes).
pub const BRANCHES: &[(&str, &str, &str)] = &[
    ("B001", "11", "1101"),
    ("B002", "31", "3101"),
    ("B003", "44", "4401"),
    ("B004", "44", "4403"),
    ("B005", "33", "3301"),
    ("B006", "32", "3201"),
    ("B007", "51", "5101"),
    ("B008", "53", "5301"),
    ("B009", "45", "4501"),
    ("B010", "64", "6401"),
];

const PROVINCES: &[(&str, f64)] = &[
    ("11", 8.0),
    ("31", 8.0),
    ("44", 14.0),
    ("33", 9.0),
    ("32", 9.0),
    ("37", 7.0),
    ("51", 7.0),
    ("42", 6.0),
    ("53", 5.0),
    ("45", 5.0),
    ("64", 2.0),
    ("54", 1.0),
    ("65", 2.0),
    ("21", 4.0),
];

const FOREIGN: &[(&str, f64)] = &[
    ("US", 10.0),
    ("GB", 5.0),
    ("JP", 8.0),
    ("KR", 8.0),
    ("SG", 6.0),
    ("RU", 5.0),
    ("DE", 4.0),
    ("AU", 4.0),
    ("CA", 4.0),
    ("MY", 4.0),
    ("TH", 3.0),
    ("VN", 3.0),
    ("LA", 1.0),
    ("MM", 1.0),
    ("KE", 0.5),
    ("IR", 0.4),
    ("KP", 0.2),
    ("VG", 1.0),
    ("KY", 1.0),
];

const OFFSHORE: &[(&str, f64)] = &[("VG", 1.0), ("KY", 1.0), ("BM", 0.5), ("SC", 0.3)];

const INDUSTRIES: &[(&str, f64)] = &[
    ("A01", 4.0),
    ("C13", 5.0),
    ("C42", 1.0),
    ("E47", 5.0),
    ("F51", 8.0),
    ("F52", 10.0),
    ("G54", 4.0),
    ("H61", 3.0),
    ("H62", 5.0),
    ("I65", 6.0),
    ("J66", 1.0),
    ("J67", 1.0),
    ("J69", 0.5),
    ("K70", 3.0),
    ("L72", 5.0),
    ("L7291", 1.0),
    ("M73", 2.0),
    ("P83", 4.0),
    ("Q84", 4.0),
    ("R86", 0.8),
    ("R87", 0.5),
    ("R90", 1.0),
    ("S92", 1.0),
];

fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Builds string ids without allocating one `String` per value.
struct Fmt(String);
impl Fmt {
    fn id(&mut self, prefix: &str, n: u64, width: usize) -> &str {
        self.0.clear();
        let _ = write!(self.0, "{prefix}{n:0width$}");
        &self.0
    }
    fn hex(&mut self, prefix: &str, n: u64) -> &str {
        self.0.clear();
        let _ = write!(self.0, "{prefix}{n:016x}");
        &self.0
    }
    fn ip(&mut self, n: u64) -> &str {
        self.0.clear();
        let b = n.to_le_bytes();
        let _ = write!(
            self.0,
            "{}.{}.{}.{}",
            1 + b[0] % 223,
            b[1],
            b[2],
            1 + b[3] % 254
        );
        &self.0
    }
}

fn strs(name: &str, v: Vec<Option<&str>>) -> Column {
    Column::new(name.into(), v)
}

/// Per-customer traits the transaction and report generators need.
struct Profile {
    g: u64,
    natural: bool,
    rel_start: i32,
    city: String,
    home_ip: u64,
    home_device: u64,
    proxy: Option<u64>,
    structurer: bool,
    big_cash: bool,
    cross_border_trader: bool,
    foreign: bool,
}

struct Chunk {
    frames: [DataFrame; 7],
}

fn gen_chunk(opts: &GenOptions, chunk: u64) -> PolarsResult<Chunk> {
    let first = chunk * CHUNK;
    let n = CHUNK.min(opts.customers - first) as usize;
    let mut rng = Rng::new(opts.seed, chunk);
    let as_of = opts.as_of;
    let mut f = Fmt(String::with_capacity(32));

    // customers
    let mut profiles = Vec::with_capacity(n);
    let mut c_id = StringChunkedBuilder::new("customer_id".into(), n);
    let mut c_name = StringChunkedBuilder::new("customer_name".into(), n);
    let mut c_idno = StringChunkedBuilder::new("id_number".into(), n);
    let mut branch = Vec::with_capacity(n);
    let mut kind = Vec::with_capacity(n);
    let mut birth = Vec::with_capacity(n);
    let mut founding = Vec::with_capacity(n);
    let mut rel = Vec::with_capacity(n);
    let mut channel = Vec::with_capacity(n);
    let mut openness = Vec::with_capacity(n);
    let mut doc = Vec::with_capacity(n);
    let mut doc_country = Vec::with_capacity(n);
    let mut legal = Vec::with_capacity(n);
    let mut layers: Vec<Option<u8>> = Vec::with_capacity(n);
    let mut hidden = Vec::with_capacity(n);
    let mut nationality = Vec::with_capacity(n);
    let mut res_c = Vec::with_capacity(n);
    let mut reg_c = Vec::with_capacity(n);
    let mut bus_c = Vec::with_capacity(n);
    let mut bo_c = Vec::with_capacity(n);
    let mut addr: [Vec<Option<String>>; 6] = Default::default();
    let mut industry = Vec::with_capacity(n);
    let mut pep = Vec::with_capacity(n);
    let mut cpep = Vec::with_capacity(n);
    let mut watch = Vec::with_capacity(n);
    let mut cwatch = Vec::with_capacity(n);
    let mut alert: Vec<Option<u8>> = Vec::with_capacity(n);
    let mut refuses = Vec::with_capacity(n);
    let mut nonres = Vec::with_capacity(n);
    let mut corr = Vec::with_capacity(n);
    let mut trust = Vec::with_capacity(n);
    let mut proxy = StringChunkedBuilder::new("onboarding_proxy_id".into(), n);
    let mut phone = StringChunkedBuilder::new("phone_hash".into(), n);
    let mut emerg = StringChunkedBuilder::new("emergency_contact_hash".into(), n);
    let mut nfa = Vec::with_capacity(n);
    let mut life = Vec::with_capacity(n);
    let mut single = Vec::with_capacity(n);
    let mut walk_in = Vec::with_capacity(n);

    for i in 0..n as u64 {
        let g = first + i;
        let natural = rng.chance(0.9);
        c_id.append_value(f.id("C", g, 10));
        c_name.append_value(f.id("Customer ", g, 1));
        c_idno.append_value(f.id("", mix(g) % 1_000_000_000_000_000_000, 18));
        let (bid, bprov, bcity) = BRANCHES[rng.range(0, BRANCHES.len() as i64) as usize];
        branch.push(bid);
        kind.push(if natural { "natural" } else { "non_natural" });

        let mut rel_start = {
            let r = rng.f64();
            if r < 0.005 {
                as_of - rng.range(0, 20) as i32
            } else if r < 0.08 {
                as_of - rng.range(0, 365) as i32
            } else {
                as_of - rng.range(365, 5475) as i32
            }
        };
        if natural {
            let (lo, hi) = *rng.pick(&[
                ((0, 16), 0.02),
                ((16, 18), 0.01),
                ((18, 70), 0.88),
                ((70, 80), 0.06),
                ((80, 96), 0.03),
            ]);
            let age = rng.range(lo, hi);
            let b = as_of - (age as f64 * 365.25) as i32 - rng.range(1, 365) as i32;
            birth.push(Some(b));
            founding.push(None);
            rel_start = rel_start.max(b);
        } else {
            let (lo, hi) = *rng.pick(&[
                ((1, 11), 0.01),
                ((11, 21), 0.01),
                ((21, 31), 0.01),
                ((31, 61), 0.03),
                ((61, 11000), 0.94),
            ]);
            let fd = as_of - rng.range(lo, hi) as i32;
            founding.push(Some(fd));
            birth.push(None);
            rel_start = rel_start.max(fd);
        }
        rel.push(rel_start);

        channel.push(Some(if natural {
            *rng.pick(&[
                ("face_to_face", 0.70),
                ("online", 0.20),
                ("affiliate", 0.06),
                ("intermediary", 0.04),
            ])
        } else {
            *rng.pick(&[
                ("face_to_face", 0.85),
                ("online", 0.05),
                ("affiliate", 0.06),
                ("intermediary", 0.04),
            ])
        }));

        let ind = if natural && rng.chance(0.1) {
            None
        } else {
            Some(*rng.pick(INDUSTRIES))
        };
        industry.push(ind);

        let foreign;
        if natural {
            openness.push(Some("other"));
            let d = *rng.pick(&[
                ("resident_id", 0.95),
                ("passport", 0.025),
                ("hk_macau_permit", 0.01),
                ("taiwan_permit", 0.005),
                ("foreign_permanent_residence", 0.005),
                ("other", 0.005),
            ]);
            doc.push(Some(d));
            let nat = match d {
                "passport" | "foreign_permanent_residence" => *rng.pick(FOREIGN),
                "hk_macau_permit" => "HK",
                "taiwan_permit" => "TW",
                _ => "CN",
            };
            foreign = nat != "CN";
            nationality.push(Some(nat));
            doc_country.push(Some(nat));
            let rc = if foreign && rng.chance(0.5) {
                nat
            } else {
                "CN"
            };
            res_c.push(Some(rc));
            nonres.push(rc != "CN");
            reg_c.push(None);
            bus_c.push(None);
            bo_c.push(None);
            legal.push(None);
            layers.push(None);
            hidden.push(None);
        } else {
            let lf = *rng.pick(&[
                ("limited_company", 0.58),
                ("sole_proprietorship", 0.15),
                ("partnership", 0.05),
                ("family_firm", 0.05),
                ("joint_stock", 0.05),
                ("state_owned", 0.03),
                ("listed_company", 0.02),
                ("public_institution", 0.02),
                ("state_organ", 0.01),
                ("foreign_entity", 0.01),
                ("other", 0.03),
            ]);
            legal.push(Some(lf));
            openness.push(Some(match lf {
                "state_organ" => "state_organ",
                "public_institution" => "public_institution",
                "state_owned" => "soe",
                "listed_company" => "listed",
                _ => "other",
            }));
            doc.push(Some(*rng.pick(&[
                ("unified_social_credit", 0.97),
                ("business_license", 0.02),
                ("other", 0.01),
            ])));
            let reg = if lf == "foreign_entity" {
                *rng.pick(FOREIGN)
            } else {
                "CN"
            };
            foreign = reg != "CN";
            doc_country.push(Some(reg));
            nationality.push(None);
            res_c.push(None);
            reg_c.push(Some(reg));
            nonres.push(foreign);
            bus_c.push(Some(if rng.chance(0.02) {
                *rng.pick(FOREIGN)
            } else {
                "CN"
            }));
            let r = rng.f64();
            bo_c.push(Some(if r < 0.015 {
                *rng.pick(OFFSHORE)
            } else if r < 0.03 {
                *rng.pick(FOREIGN)
            } else {
                "CN"
            }));
            layers.push(Some(*rng.pick(&[
                (1u8, 0.6),
                (2, 0.25),
                (3, 0.1),
                (4, 0.03),
                (6, 0.02),
            ])));
            hidden.push(Some(rng.chance(0.01)));
        }

        // Domestic addresses: residence for natural persons, registration and business place
        // for the others; about 1% have none at all.
        let no_address = rng.chance(0.01);
        let place = |rng: &mut Rng| -> (String, String) {
            if rng.chance(0.85) {
                (bprov.to_string(), bcity.to_string())
            } else {
                let p = *rng.pick(PROVINCES);
                (p.to_string(), format!("{p}{:02}", rng.range(1, 4)))
            }
        };
        let slots: &[usize] = if natural { &[0] } else { &[2, 4] };
        for s in (0..6).step_by(2) {
            if !no_address && slots.contains(&s) {
                let (p, c) = place(&mut rng);
                addr[s].push(Some(p));
                addr[s + 1].push(Some(c));
            } else {
                addr[s].push(None);
                addr[s + 1].push(None);
            }
        }

        let r = rng.f64();
        pep.push(Some(if r < 0.0004 {
            "foreign_pep"
        } else if r < 0.0007 {
            "relative"
        } else if r < 0.001 {
            "close_associate"
        } else if r < 0.003 {
            "domestic_pep"
        } else {
            "none"
        }));
        if natural {
            cpep.push(None);
            cwatch.push(None);
        } else {
            let r = rng.f64();
            cpep.push(Some(if r < 0.0005 {
                "foreign_pep"
            } else if r < 0.0008 {
                "relative"
            } else if r < 0.001 {
                "close_associate"
            } else {
                "none"
            }));
            cwatch.push(Some(rng.chance(0.0001)));
        }
        watch.push(rng.chance(0.0001));
        let r = rng.f64();
        alert.push(Some(if r < 0.003 {
            3
        } else if r < 0.01 {
            2
        } else if r < 0.02 {
            1
        } else {
            0
        }));
        refuses.push(rng.chance(0.0005));
        corr.push(!natural && ind == Some("J66") && rng.chance(0.2));
        trust.push(rng.chance(0.005));

        // Proxies: 3% onboarded by a proxy; a few proxies act for many customers.
        let prx = if rng.chance(0.03) {
            Some(if rng.chance(0.4) {
                1_000_000_000 + i / 200 + chunk * 1000
            } else {
                g
            })
        } else {
            None
        };
        proxy.append_option(prx.map(|p| f.id("P", p, 10).to_string()));
        // Phones: some shared across customers.
        if rng.chance(0.02) {
            phone.append_null();
        } else if rng.chance(0.01) {
            phone.append_value(f.hex("", mix(chunk * 1_000_003 + i / 500 + (1 << 40))));
        } else {
            phone.append_value(f.hex("", mix(g)));
        }
        if rng.chance(0.05) {
            emerg.append_null();
        } else if rng.chance(0.01) {
            emerg.append_value(f.hex("", mix(chunk * 1_000_003 + i / 400 + (1 << 41))));
        } else {
            emerg.append_value(f.hex("", mix(g + (1 << 42))));
        }
        let (mu, sd) = if natural { (10.0, 1.8) } else { (13.0, 2.0) };
        nfa.push(Some(
            ((mu + sd * rng.normal()).exp() * 100.0).round() / 100.0,
        ));
        life.push(Some(if natural && rng.chance(0.2) {
            ((8.5 + rng.normal()).exp()).round()
        } else {
            0.0
        }));
        single.push(Some(if rng.chance(0.02) {
            ((11.0 + 1.2 * rng.normal()).exp()).round()
        } else {
            0.0
        }));
        walk_in.push(natural && rng.chance(0.02));

        // IP and device rings: some customers share one address / one device.
        let home_ip = if rng.chance(0.02) {
            (1 << 50) + chunk * 10_000 + i / 400
        } else {
            g
        };
        let home_device = if rng.chance(0.015) {
            (1 << 51) + chunk * 10_000 + i / 300
        } else {
            g
        };
        let city = addr[if natural { 1 } else { 5 }]
            .last()
            .cloned()
            .flatten()
            .unwrap_or_else(|| bcity.to_string());
        profiles.push(Profile {
            g,
            natural,
            rel_start,
            city,
            home_ip,
            home_device,
            proxy: prx,
            structurer: rng.chance(0.002),
            big_cash: rng.chance(0.005),
            cross_border_trader: rng.chance(0.01),
            foreign,
        });
    }

    let date_col = |name: &str, v: Vec<Option<i32>>| -> PolarsResult<Column> {
        Column::new(name.into(), v).cast(&DataType::Date)
    };
    let [res_p, res_ci, reg_p, reg_ci, bus_p, bus_ci] = addr;
    let customers = DataFrame::new(
        n,
        vec![
            c_id.finish().into_column(),
            Column::new("institution_id".into(), vec!["INST001"; n]),
            Column::new("branch_id".into(), branch),
            Column::new("kind".into(), kind),
            c_name.finish().into_column(),
            c_idno.finish().into_column(),
            date_col("birth_date", birth)?,
            date_col("founding_date", founding)?,
            date_col("relationship_start", rel.iter().map(|d| Some(*d)).collect())?,
            strs("onboarding_channel", channel),
            strs("info_openness", openness),
            strs("id_doc_type", doc),
            strs("id_issuing_country", doc_country),
            strs("legal_form", legal),
            Column::new("ownership_layers".into(), layers),
            Column::new("hidden_shareholders".into(), hidden),
            strs("nationality", nationality),
            strs("residence_country", res_c),
            strs("registration_country", reg_c),
            strs("business_country", bus_c),
            strs("bo_country", bo_c),
            Column::new("residence_province".into(), res_p),
            Column::new("residence_city".into(), res_ci),
            Column::new("registration_province".into(), reg_p),
            Column::new("registration_city".into(), reg_ci),
            Column::new("business_province".into(), bus_p),
            Column::new("business_city".into(), bus_ci),
            strs("industry_code", industry),
            strs("pep_relation", pep),
            strs("controller_pep_relation", cpep),
            Column::new("watchlist_hit".into(), watch),
            Column::new("controller_watchlist_hit".into(), cwatch),
            Column::new("alert_level".into(), alert),
            Column::new("refuses_cdd".into(), refuses),
            Column::new("non_resident".into(), nonres),
            Column::new("correspondent_relation".into(), corr),
            Column::new("trust_relation".into(), trust),
            proxy.finish().into_column(),
            phone.finish().into_column(),
            emerg.finish().into_column(),
            Column::new("net_financial_assets".into(), nfa),
            Column::new("annual_life_premium".into(), life),
            Column::new("noncash_single_premium".into(), single),
            Column::new("walk_in".into(), walk_in),
        ],
    )?;

    // accounts
    let mut a_id = StringChunkedBuilder::new("account_id".into(), n * 2);
    let mut a_cust = StringChunkedBuilder::new("customer_id".into(), n * 2);
    let mut a_open = Vec::with_capacity(n * 2);
    let mut a_close = Vec::with_capacity(n * 2);
    let mut a_proxy = StringChunkedBuilder::new("opened_by_proxy_id".into(), n * 2);
    let mut first_account = Vec::with_capacity(n);
    for p in &profiles {
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
            date_col("opened_date", a_open)?,
            date_col("closed_date", a_close)?,
            a_proxy.finish().into_column(),
        ],
    )?;

    // transactions
    let cap = n * 22;
    let mut t_id = Vec::with_capacity(cap);
    let mut t_cust = StringChunkedBuilder::new("customer_id".into(), cap);
    let mut t_acc = StringChunkedBuilder::new("account_id".into(), cap);
    let mut t_ts = Vec::with_capacity(cap);
    let mut t_amt = Vec::with_capacity(cap);
    let mut t_dir = Vec::with_capacity(cap);
    let mut t_cash = Vec::with_capacity(cap);
    let mut t_chan = Vec::with_capacity(cap);
    let mut t_ip = StringChunkedBuilder::new("ip_address".into(), cap);
    let mut t_ipc: Vec<Option<&str>> = Vec::with_capacity(cap);
    let mut t_ipcity = StringChunkedBuilder::new("ip_city".into(), cap);
    let mut t_dev = StringChunkedBuilder::new("device_id".into(), cap);
    let mut t_xb = Vec::with_capacity(cap);
    let mut t_cp = StringChunkedBuilder::new("counterparty_id".into(), cap);
    let mut t_cpk = Vec::with_capacity(cap);
    let mut t_cpc = Vec::with_capacity(cap);
    let mut t_rel = Vec::with_capacity(cap);
    let mut t_proxy = StringChunkedBuilder::new("proxy_id".into(), cap);
    const MS_DAY: i64 = 86_400_000;
    for (idx, p) in profiles.iter().enumerate() {
        let k = ((2.5 + rng.normal()).exp().round() as u64).min(3000);
        let start = p.rel_start.max(as_of - 365);
        let span = (as_of - start).max(1) as i64;
        for j in 0..k {
            t_id.push((p.g * 10_000 + j) as i64);
            t_cust.append_value(f.id("C", p.g, 10));
            t_acc.append_value(f.id("A", first_account[idx], 11));
            let day = start as i64 + rng.range(0, span);
            t_ts.push(day * MS_DAY + rng.range(8 * 3_600_000, 22 * 3_600_000));
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
            t_amt.push(amount.max(0.01));
            t_dir.push(dir);
            t_cash.push(cash);
            t_chan.push(ch);
            if ch == "online" || ch == "mobile" {
                let roam = rng.chance(0.03);
                t_ip.append_value(f.ip(mix(if roam { rng.next_u64() } else { p.home_ip })));
                let abroad = (p.foreign && rng.chance(0.3)) || rng.chance(0.003);
                t_ipc.push(Some(if abroad { *rng.pick(FOREIGN) } else { "CN" }));
                if abroad {
                    t_ipcity.append_null();
                } else if rng.chance(0.1) {
                    t_ipcity.append_value(BRANCHES[rng.range(0, BRANCHES.len() as i64) as usize].2);
                } else {
                    t_ipcity.append_value(&p.city);
                }
                t_dev.append_value(f.hex("D", mix(p.home_device + (1 << 52))));
            } else {
                t_ip.append_null();
                t_ipc.push(None);
                t_ipcity.append_null();
                t_dev.append_null();
            }
            let xb = !cash && rng.chance(if p.cross_border_trader { 0.3 } else { 0.004 });
            t_xb.push(xb);
            let cpk = *rng.pick(&[
                ("natural", 0.6),
                ("non_natural", 0.38),
                ("government", 0.02),
            ]);
            t_cpk.push(Some(cpk));
            t_cp.append_value(f.hex("X", mix(rng.next_u64() % 5_000_000)));
            t_cpc.push(Some(if xb { *rng.pick(FOREIGN) } else { "CN" }));
            t_rel.push(!p.natural && cpk == "non_natural" && rng.chance(0.05));
            match p.proxy {
                Some(px) if ch == "counter" && rng.chance(0.3) => {
                    t_proxy.append_value(f.id("P", px, 10))
                }
                _ => t_proxy.append_null(),
            }
        }
    }
    let nt = t_id.len();
    let transactions = DataFrame::new(
        nt,
        vec![
            Column::new("txn_id".into(), t_id),
            t_cust.finish().into_column(),
            t_acc.finish().into_column(),
            Column::new("ts".into(), t_ts)
                .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?,
            Column::new("amount".into(), t_amt),
            Column::new("direction".into(), t_dir),
            Column::new("cash".into(), t_cash),
            Column::new("channel".into(), t_chan),
            t_ip.finish().into_column(),
            strs("ip_country", t_ipc),
            t_ipcity.finish().into_column(),
            t_dev.finish().into_column(),
            Column::new("cross_border".into(), t_xb),
            t_cp.finish().into_column(),
            strs("counterparty_kind", t_cpk),
            strs("counterparty_country", t_cpc),
            Column::new("related_party".into(), t_rel),
            t_proxy.finish().into_column(),
        ],
    )?;

    // reports, grades, events
    let mut r_id = StringChunkedBuilder::new("report_id".into(), n / 10);
    let mut r_cust = StringChunkedBuilder::new("customer_id".into(), n / 10);
    let (mut r_type, mut r_date, mut r_proxy) = (Vec::new(), Vec::new(), Vec::new());
    let mut g_cust = StringChunkedBuilder::new("customer_id".into(), n);
    let (mut g_grade, mut g_first, mut g_last, mut g_rev) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut o_cust = StringChunkedBuilder::new("customer_id".into(), n / 100);
    let (mut o_grade, mut o_role, mut o_by, mut o_on, mut o_reason, mut o_exp) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let mut e_cust = StringChunkedBuilder::new("customer_id".into(), n / 100);
    let (mut e_type, mut e_date) = (Vec::new(), Vec::new());
    for p in &profiles {
        let strs_n = if rng.chance(if p.structurer { 0.5 } else { 0.005 }) {
            1 + rng.chance(0.3) as u64 + rng.chance(0.1) as u64
        } else {
            0
        };
        let lv_n = if p.big_cash || rng.chance(0.03) {
            rng.range(1, 6) as u64
        } else {
            0
        };
        for j in 0..strs_n + lv_n {
            r_id.append_value(f.id("R", p.g * 10 + j, 11));
            r_cust.append_value(f.id("C", p.g, 10));
            let suspicious = j < strs_n;
            r_type.push(if suspicious {
                "suspicious"
            } else {
                "large_value"
            });
            let back = if suspicious { 1095 } else { 365 };
            r_date.push(Some(as_of - rng.range(0, back) as i32));
            r_proxy.push(suspicious && p.proxy.is_some() && rng.chance(0.5));
        }
        if p.rel_start <= as_of - 15 && rng.chance(0.995) {
            g_cust.append_value(f.id("C", p.g, 10));
            g_grade.push(*rng.pick(&[("low", 0.9), ("medium", 0.08), ("high", 0.02)]));
            let first_g = p.rel_start + rng.range(0, 14) as i32;
            g_first.push(Some(first_g));
            // Most reviews are recent; some are overdue.
            let back = rng.range(0, 800) as i32;
            g_last.push(Some((as_of - back).max(first_g)));
            g_rev.push(Some(*rng.pick(&[("R01", 1.0), ("R02", 1.0), ("R03", 1.0)])));
            // Grades set by hand (PR4): some expired, some in force.
            if rng.chance(0.002) {
                o_cust.append_value(f.id("C", p.g, 10));
                o_grade.push(*rng.pick(&[("low", 0.5), ("medium", 0.3), ("high", 0.2)]));
                o_role.push(*rng.pick(&[("second_reviewer", 0.6), ("compliance", 0.4)]));
                o_by.push(*rng.pick(&[("S101", 1.0), ("S102", 1.0), ("S201", 1.0)]));
                let on = as_of - rng.range(1, 700) as i32;
                o_on.push(Some(on));
                o_reason.push(Some("documented review of the customer's business"));
                o_exp.push(if rng.chance(0.5) {
                    Some(on + rng.range(30, 730) as i32)
                } else {
                    None
                });
            }
        }
        if rng.chance(0.003) {
            e_cust.append_value(f.id("C", p.g, 10));
            e_type.push(*rng.pick(&[
                ("identity_change", 0.6),
                ("judicial_investigation", 0.2),
                ("media_report", 0.2),
            ]));
            e_date.push(Some(as_of - rng.range(0, 730) as i32));
        }
    }
    let nr = r_type.len();
    let reports = DataFrame::new(
        nr,
        vec![
            r_id.finish().into_column(),
            r_cust.finish().into_column(),
            Column::new("report_type".into(), r_type),
            date_col("report_date", r_date)?,
            Column::new("proxy_involved".into(), r_proxy),
        ],
    )?;
    let ng = g_grade.len();
    let grades = DataFrame::new(
        ng,
        vec![
            g_cust.finish().into_column(),
            Column::new("institution_id".into(), vec!["INST001"; ng]),
            Column::new("grade".into(), g_grade),
            date_col("first_graded", g_first)?,
            date_col("last_reviewed", g_last)?,
            strs("reviewer", g_rev),
            Column::new("basis".into(), vec!["scored"; ng]),
        ],
    )?;
    let no = o_grade.len();
    let overrides = DataFrame::new(
        no,
        vec![
            o_cust.finish().into_column(),
            Column::new("grade".into(), o_grade),
            Column::new("set_by_role".into(), o_role),
            Column::new("set_by".into(), o_by),
            date_col("set_on", o_on)?,
            strs("reason", o_reason),
            date_col("expires_on", o_exp)?,
        ],
    )?;
    let ne = e_type.len();
    let events = DataFrame::new(
        ne,
        vec![
            e_cust.finish().into_column(),
            Column::new("event_type".into(), e_type),
            date_col("event_date", e_date)?,
        ],
    )?;
    Ok(Chunk {
        frames: [
            customers,
            accounts,
            transactions,
            reports,
            grades,
            events,
            overrides,
        ],
    })
}

/// Generates the portfolio into `out` (created if needed); files are written under temporary
/// names and renamed into place only when all of them are complete.
pub fn generate(opts: &GenOptions, out: &Path, progress: &Progress) -> Result<GenStats> {
    let specs: [FileSpec; 7] = [
        contract::CUSTOMERS,
        contract::ACCOUNTS,
        contract::TRANSACTIONS,
        contract::REPORTS,
        contract::GRADES,
        contract::EVENTS,
        contract::OVERRIDES,
    ];
    let staging = io::Staging::new(out)?;
    let mut writers = specs
        .iter()
        .map(|s| {
            let file = File::create(staging.path(s.file)).internal_ctx(s.file)?;
            ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .batched(&s.schema())
                .internal_ctx(s.file)
        })
        .collect::<Result<Vec<_>>>()?;
    let chunks = opts.customers.div_ceil(CHUNK);
    let window = rayon::current_num_threads().max(1) as u64;
    let mut stats = GenStats::default();
    let task = progress.task("generating customers", opts.customers);
    let mut start = 0;
    while start < chunks {
        let end = (start + window).min(chunks);
        let made: Vec<Chunk> = (start..end)
            .into_par_iter()
            .map(|c| gen_chunk(opts, c))
            .collect::<PolarsResult<_>>()?;
        for chunk in made {
            let rows: Vec<u64> = chunk.frames.iter().map(|d| d.height() as u64).collect();
            stats.customers += rows[0];
            stats.accounts += rows[1];
            stats.transactions += rows[2];
            stats.reports += rows[3];
            stats.grades += rows[4];
            stats.events += rows[5];
            stats.overrides += rows[6];
            for (w, (df, s)) in writers.iter_mut().zip(chunk.frames.iter().zip(&specs)) {
                w.write_batch(df).internal_ctx(s.file)?;
            }
            task.advance(rows[0]);
        }
        start = end;
    }
    for (w, s) in writers.iter().zip(&specs) {
        w.finish().internal_ctx(s.file)?;
    }
    task.done();
    staging.commit()?;
    Ok(stats)
}
