//! Synthetic customers: identity and dates, documents and countries, domestic places, PEP and
//! alert flags, proxies and shared contacts, assets, and the traits (a [`Profile`]) the later
//! generators read. The random stream is consumed customer by customer in a fixed order, so a
//! seed always gives the same bytes.

use polars::prelude::*;

use super::distributions::{dates, strs, Fmt, BRANCHES, FOREIGN, INDUSTRIES, OFFSHORE, PROVINCES};
use crate::rng::{mix, Rng};

/// Per-customer traits the account, transaction and record generators need.
pub struct Profile {
    /// Global customer number.
    pub g: u64,
    /// Natural person.
    pub natural: bool,
    /// Start of the relationship (days since 1970-01-01).
    pub rel_start: i32,
    /// City code of the customer's main place (the branch city when none).
    pub city: String,
    /// Key of the IP address used at home (shared by some customers).
    pub home_ip: u64,
    /// Key of the device used (shared by some customers).
    pub home_device: u64,
    /// The proxy who onboarded the customer, if any.
    pub proxy: Option<u64>,
    /// Deposits cash just below the large-value threshold.
    pub structurer: bool,
    /// Handles large cash amounts.
    pub big_cash: bool,
    /// Trades across the border often.
    pub cross_border_trader: bool,
    /// Foreign customer.
    pub foreign: bool,
}

/// About 0.5% of relationships have ended, on a day between their start and the as-of date.
/// Derived from the customer number alone (no draw), so the rest of the portfolio is the same
/// as without it.
fn ended(g: u64, start: i32, as_of: i32) -> Option<i32> {
    let h = mix(g ^ (1 << 60));
    (h % 200 == 0 && as_of > start).then(|| start + 1 + ((h >> 8) % (as_of - start) as u64) as i32)
}

/// What one customer's draws decide that later draws depend on.
struct Drawn {
    natural: bool,
    branch: (&'static str, &'static str, &'static str),
    industry: Option<&'static str>,
}

/// The columns of `customers.parquet` for one chunk, filled customer by customer.
pub struct Customers {
    c_id: StringChunkedBuilder,
    c_name: StringChunkedBuilder,
    c_idno: StringChunkedBuilder,
    branch: Vec<&'static str>,
    kind: Vec<&'static str>,
    birth: Vec<Option<i32>>,
    founding: Vec<Option<i32>>,
    rel: Vec<Option<i32>>,
    rel_end: Vec<Option<i32>>,
    channel: Vec<Option<&'static str>>,
    openness: Vec<Option<&'static str>>,
    doc: Vec<Option<&'static str>>,
    doc_country: Vec<Option<&'static str>>,
    legal: Vec<Option<&'static str>>,
    layers: Vec<Option<u8>>,
    hidden: Vec<Option<bool>>,
    nationality: Vec<Option<&'static str>>,
    res_c: Vec<Option<&'static str>>,
    reg_c: Vec<Option<&'static str>>,
    bus_c: Vec<Option<&'static str>>,
    bo_c: Vec<Option<&'static str>>,
    addr: [Vec<Option<String>>; 6],
    industry: Vec<Option<&'static str>>,
    pep: Vec<Option<&'static str>>,
    cpep: Vec<Option<&'static str>>,
    watch: Vec<bool>,
    cwatch: Vec<Option<bool>>,
    alert: Vec<Option<u8>>,
    refuses: Vec<bool>,
    nonres: Vec<bool>,
    corr: Vec<bool>,
    trust: Vec<bool>,
    proxy: StringChunkedBuilder,
    phone: StringChunkedBuilder,
    emerg: StringChunkedBuilder,
    nfa: Vec<Option<f64>>,
    life: Vec<Option<f64>>,
    single: Vec<Option<f64>>,
    walk_in: Vec<bool>,
    id_expiry: Vec<Option<i32>>,
    cdd_done: Vec<Option<i32>>,
    bo_verified: Vec<Option<i32>>,
}

impl Customers {
    /// Empty columns for `n` customers.
    pub fn new(n: usize) -> Self {
        Customers {
            c_id: StringChunkedBuilder::new("customer_id".into(), n),
            c_name: StringChunkedBuilder::new("customer_name".into(), n),
            c_idno: StringChunkedBuilder::new("id_number".into(), n),
            branch: Vec::with_capacity(n),
            kind: Vec::with_capacity(n),
            birth: Vec::with_capacity(n),
            founding: Vec::with_capacity(n),
            rel: Vec::with_capacity(n),
            rel_end: Vec::with_capacity(n),
            channel: Vec::with_capacity(n),
            openness: Vec::with_capacity(n),
            doc: Vec::with_capacity(n),
            doc_country: Vec::with_capacity(n),
            legal: Vec::with_capacity(n),
            layers: Vec::with_capacity(n),
            hidden: Vec::with_capacity(n),
            nationality: Vec::with_capacity(n),
            res_c: Vec::with_capacity(n),
            reg_c: Vec::with_capacity(n),
            bus_c: Vec::with_capacity(n),
            bo_c: Vec::with_capacity(n),
            addr: Default::default(),
            industry: Vec::with_capacity(n),
            pep: Vec::with_capacity(n),
            cpep: Vec::with_capacity(n),
            watch: Vec::with_capacity(n),
            cwatch: Vec::with_capacity(n),
            alert: Vec::with_capacity(n),
            refuses: Vec::with_capacity(n),
            nonres: Vec::with_capacity(n),
            corr: Vec::with_capacity(n),
            trust: Vec::with_capacity(n),
            proxy: StringChunkedBuilder::new("onboarding_proxy_id".into(), n),
            phone: StringChunkedBuilder::new("phone_hash".into(), n),
            emerg: StringChunkedBuilder::new("emergency_contact_hash".into(), n),
            nfa: Vec::with_capacity(n),
            life: Vec::with_capacity(n),
            single: Vec::with_capacity(n),
            walk_in: Vec::with_capacity(n),
            id_expiry: Vec::with_capacity(n),
            cdd_done: Vec::with_capacity(n),
            bo_verified: Vec::with_capacity(n),
        }
    }

    /// Draws customer number `g` (the `i`-th of chunk `chunk`) and returns its profile.
    pub fn push(
        &mut self,
        rng: &mut Rng,
        f: &mut Fmt,
        (g, i, chunk): (u64, u64, u64),
        as_of: i32,
    ) -> Profile {
        let natural = rng.chance(0.9);
        self.c_id.append_value(f.id("C", g, 10));
        self.c_name.append_value(f.id("Customer ", g, 1));
        self.c_idno
            .append_value(f.id("", mix(g) % 1_000_000_000_000_000_000, 18));
        let branch = BRANCHES[rng.range(0, BRANCHES.len() as i64) as usize];
        self.branch.push(branch.0);
        self.kind
            .push(if natural { "natural" } else { "non_natural" });
        let rel_start = self.dates(rng, natural, as_of);
        self.rel_end.push(ended(g, rel_start, as_of));
        self.due_diligence(rng, natural, rel_start, as_of);
        let industry = self.channel_and_industry(rng, natural);
        let d = Drawn {
            natural,
            branch,
            industry,
        };
        let foreign = if natural {
            self.natural_identity(rng)
        } else {
            self.organisation_identity(rng)
        };
        self.places(rng, &d);
        self.risk_flags(rng, &d);
        self.showcase(g, natural);
        let proxy = self.proxy_and_contacts(rng, f, g, i, chunk);
        self.assets(rng, natural);
        Profile {
            g,
            natural,
            rel_start,
            home_ip: if rng.chance(0.02) {
                (1 << 50) + chunk * 10_000 + i / 400
            } else {
                g
            },
            home_device: if rng.chance(0.015) {
                (1 << 51) + chunk * 10_000 + i / 300
            } else {
                g
            },
            city: self.addr[if natural { 1 } else { 5 }]
                .last()
                .cloned()
                .flatten()
                .unwrap_or_else(|| branch.2.to_string()),
            proxy,
            structurer: rng.chance(0.002),
            big_cash: rng.chance(0.005),
            cross_border_trader: rng.chance(0.01),
            foreign,
        }
    }

    /// Start of the relationship, and the birth (S1.7) or founding date (S1.8) before it.
    fn dates(&mut self, rng: &mut Rng, natural: bool, as_of: i32) -> i32 {
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
            self.birth.push(Some(b));
            self.founding.push(None);
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
            self.founding.push(Some(fd));
            self.birth.push(None);
            rel_start = rel_start.max(fd);
        }
        self.rel.push(Some(rel_start));
        rel_start
    }

    /// Onboarding channel (S1.2) and industry (S4.1, S4.3; unknown for 10% of people).
    fn channel_and_industry(&mut self, rng: &mut Rng, natural: bool) -> Option<&'static str> {
        self.channel.push(Some(if natural {
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
        self.industry.push(ind);
        ind
    }

    /// A natural person's document, nationality and residence (S1.3, E2); whether foreign.
    fn natural_identity(&mut self, rng: &mut Rng) -> bool {
        self.openness.push(Some("other"));
        let d = *rng.pick(&[
            ("resident_id", 0.95),
            ("passport", 0.025),
            ("hk_macau_permit", 0.01),
            ("taiwan_permit", 0.005),
            ("foreign_permanent_residence", 0.005),
            ("other", 0.005),
        ]);
        self.doc.push(Some(d));
        let nat = match d {
            "passport" | "foreign_permanent_residence" => *rng.pick(FOREIGN),
            "hk_macau_permit" => "HK",
            "taiwan_permit" => "TW",
            _ => "CN",
        };
        let foreign = nat != "CN";
        self.nationality.push(Some(nat));
        self.doc_country.push(Some(nat));
        let rc = if foreign && rng.chance(0.5) {
            nat
        } else {
            "CN"
        };
        self.res_c.push(Some(rc));
        self.nonres.push(rc != "CN");
        self.reg_c.push(None);
        self.bus_c.push(None);
        self.bo_c.push(None);
        self.legal.push(None);
        self.layers.push(None);
        self.hidden.push(None);
        foreign
    }

    /// An organisation's legal form, openness, document, countries and ownership (S1.1, S1.3,
    /// S1.5, E2); whether foreign.
    fn organisation_identity(&mut self, rng: &mut Rng) -> bool {
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
        self.legal.push(Some(lf));
        self.openness.push(Some(match lf {
            "state_organ" => "state_organ",
            "public_institution" => "public_institution",
            "state_owned" => "soe",
            "listed_company" => "listed",
            _ => "other",
        }));
        self.doc.push(Some(*rng.pick(&[
            ("unified_social_credit", 0.97),
            ("business_license", 0.02),
            ("other", 0.01),
        ])));
        let reg = if lf == "foreign_entity" {
            *rng.pick(FOREIGN)
        } else {
            "CN"
        };
        let foreign = reg != "CN";
        self.doc_country.push(Some(reg));
        self.nationality.push(None);
        self.res_c.push(None);
        self.reg_c.push(Some(reg));
        self.nonres.push(foreign);
        self.bus_c.push(Some(if rng.chance(0.02) {
            *rng.pick(FOREIGN)
        } else {
            "CN"
        }));
        let r = rng.f64();
        self.bo_c.push(Some(if r < 0.015 {
            *rng.pick(OFFSHORE)
        } else if r < 0.03 {
            *rng.pick(FOREIGN)
        } else {
            "CN"
        }));
        self.layers.push(Some(*rng.pick(&[
            (1u8, 0.6),
            (2, 0.25),
            (3, 0.1),
            (4, 0.03),
            (6, 0.02),
        ])));
        self.hidden.push(Some(rng.chance(0.01)));
        foreign
    }

    /// Domestic places (S2.3, S2.4): residence for natural persons, registration and business
    /// place for the others, mostly in the branch city; about 1% have none at all.
    fn places(&mut self, rng: &mut Rng, d: &Drawn) {
        let no_address = rng.chance(0.01);
        let (_, bprov, bcity) = d.branch;
        let slots: &[usize] = if d.natural { &[0] } else { &[2, 4] };
        for s in (0..6).step_by(2) {
            if !no_address && slots.contains(&s) {
                let (p, c) = if rng.chance(0.85) {
                    (bprov.to_string(), bcity.to_string())
                } else {
                    let p = *rng.pick(PROVINCES);
                    (p.to_string(), format!("{p}{:02}", rng.range(1, 4)))
                };
                self.addr[s].push(Some(p));
                self.addr[s + 1].push(Some(c));
            } else {
                self.addr[s].push(None);
                self.addr[s + 1].push(None);
            }
        }
    }

    /// PEP relations (S4.2, XH2, XH3), watch lists (XH1), alerts (S1.6), refusals (XH5) and
    /// correspondent or trust relationships (XL2).
    fn risk_flags(&mut self, rng: &mut Rng, d: &Drawn) {
        let r = rng.f64();
        self.pep.push(Some(if r < 0.0004 {
            "foreign_pep"
        } else if r < 0.0007 {
            "relative"
        } else if r < 0.001 {
            "close_associate"
        } else if r < 0.0013 {
            "former_foreign_pep"
        } else if r < 0.0016 {
            "io_senior_manager"
        } else if r < 0.003 {
            "domestic_pep"
        } else {
            "none"
        }));
        if d.natural {
            self.cpep.push(None);
            self.cwatch.push(None);
        } else {
            let r = rng.f64();
            self.cpep.push(Some(if r < 0.0005 {
                "foreign_pep"
            } else if r < 0.0008 {
                "relative"
            } else if r < 0.001 {
                "close_associate"
            } else if r < 0.0012 {
                "former_foreign_pep"
            } else {
                "none"
            }));
            self.cwatch.push(Some(rng.chance(0.0001)));
        }
        self.watch.push(rng.chance(0.0001));
        let r = rng.f64();
        self.alert.push(Some(if r < 0.003 {
            3
        } else if r < 0.01 {
            2
        } else if r < 0.02 {
            1
        } else {
            0
        }));
        self.refuses.push(rng.chance(0.0005));
        self.corr
            .push(!d.natural && d.industry == Some("J66") && rng.chance(0.2));
        self.trust.push(rng.chance(0.005));
    }

    /// Proxies (S3.4: 3% onboarded by one, a few acting for many) and phones and emergency
    /// contacts, some shared (S3.4(4)); returns the proxy.
    fn proxy_and_contacts(
        &mut self,
        rng: &mut Rng,
        f: &mut Fmt,
        g: u64,
        i: u64,
        chunk: u64,
    ) -> Option<u64> {
        let prx = if rng.chance(0.03) {
            Some(if rng.chance(0.4) {
                1_000_000_000 + i / 200 + chunk * 1000
            } else {
                g
            })
        } else {
            None
        };
        self.proxy
            .append_option(prx.map(|p| f.id("P", p, 10).to_string()));
        if rng.chance(0.02) {
            self.phone.append_null();
        } else if rng.chance(0.01) {
            self.phone
                .append_value(f.hex("", mix(chunk * 1_000_003 + i / 500 + (1 << 40))));
        } else {
            self.phone.append_value(f.hex("", mix(g)));
        }
        if rng.chance(0.05) {
            self.emerg.append_null();
        } else if rng.chance(0.01) {
            self.emerg
                .append_value(f.hex("", mix(chunk * 1_000_003 + i / 400 + (1 << 41))));
        } else {
            self.emerg.append_value(f.hex("", mix(g + (1 << 42))));
        }
        prx
    }

    /// Net financial assets and premiums (XL1), walk-in customers (SC2).
    fn assets(&mut self, rng: &mut Rng, natural: bool) {
        let (mu, sd) = if natural { (10.0, 1.8) } else { (13.0, 2.0) };
        self.nfa.push(Some(
            ((mu + sd * rng.normal()).exp() * 100.0).round() / 100.0,
        ));
        self.life.push(Some(if natural && rng.chance(0.2) {
            ((8.5 + rng.normal()).exp()).round()
        } else {
            0.0
        }));
        self.single.push(Some(if rng.chance(0.02) {
            ((11.0 + 1.2 * rng.normal()).exp()).round()
        } else {
            0.0
        }));
        self.walk_in.push(natural && rng.chance(0.02));
    }

    /// Every PEP relation on a few customers of every book, whatever its size or seed, so the
    /// whole pipeline meets each one: customers 10-16 (their own), 20-29 (a non-natural
    /// customer's controller).
    fn showcase(&mut self, g: u64, natural: bool) {
        let kinds = &crate::contract::PEP_RELATIONS[1..];
        if (10..10 + kinds.len() as u64).contains(&g) {
            if let Some(last) = self.pep.last_mut() {
                *last = Some(kinds[(g - 10) as usize]);
            }
        }
        if !natural && (20..20 + kinds.len() as u64).contains(&g) {
            if let Some(last) = self.cpep.last_mut() {
                *last = Some(kinds[(g - 20) as usize]);
            }
        }
    }

    /// The 2025-26 texts' records (L-CDD26, L-CDD51, L-BO39): when the identity document
    /// expires (about 2% expired, 15% none recorded), when due diligence was last completed
    /// (relationships of before 2026: about 40% since; later ones at onboarding) and, for
    /// entities, when the beneficial owners were verified (about 30% of those of before 2026).
    fn due_diligence(&mut self, rng: &mut Rng, natural: bool, rel_start: i32, as_of: i32) {
        let cdd_effective = crate::dates::days_since_epoch(
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        );
        let bo_effective = cdd_effective + 19;
        let r = rng.f64();
        self.id_expiry.push(if r < 0.15 {
            None
        } else if r < 0.17 {
            Some(as_of - rng.range(1, 400) as i32)
        } else {
            Some(as_of + rng.range(1, 3650) as i32)
        });
        let since = |rng: &mut Rng, from: i32| {
            if from < as_of {
                Some(from + rng.range(0, (as_of - from) as i64) as i32)
            } else {
                None
            }
        };
        self.cdd_done.push(if rel_start >= cdd_effective {
            Some(rel_start)
        } else if rng.chance(0.4) {
            since(rng, cdd_effective)
        } else {
            None
        });
        self.bo_verified.push(if natural {
            None
        } else if rel_start >= bo_effective {
            Some(rel_start.min(as_of))
        } else if rng.chance(0.3) {
            since(rng, bo_effective)
        } else {
            None
        });
    }

    /// The customers frame in the contract's column order.
    pub fn finish(mut self) -> PolarsResult<DataFrame> {
        let n = self.kind.len();
        let [res_p, res_ci, reg_p, reg_ci, bus_p, bus_ci] = std::mem::take(&mut self.addr);
        let c = self;
        DataFrame::new(
            n,
            vec![
                c.c_id.finish().into_column(),
                Column::new("institution_id".into(), vec!["INST001"; n]),
                Column::new("branch_id".into(), c.branch),
                Column::new("kind".into(), c.kind),
                c.c_name.finish().into_column(),
                c.c_idno.finish().into_column(),
                dates("birth_date", c.birth)?,
                dates("founding_date", c.founding)?,
                dates("relationship_start", c.rel)?,
                dates("relationship_end", c.rel_end)?,
                strs("onboarding_channel", c.channel),
                strs("info_openness", c.openness),
                strs("id_doc_type", c.doc),
                strs("id_issuing_country", c.doc_country),
                strs("legal_form", c.legal),
                Column::new("ownership_layers".into(), c.layers),
                Column::new("hidden_shareholders".into(), c.hidden),
                strs("nationality", c.nationality),
                strs("residence_country", c.res_c),
                strs("registration_country", c.reg_c),
                strs("business_country", c.bus_c),
                strs("bo_country", c.bo_c),
                Column::new("residence_province".into(), res_p),
                Column::new("residence_city".into(), res_ci),
                Column::new("registration_province".into(), reg_p),
                Column::new("registration_city".into(), reg_ci),
                Column::new("business_province".into(), bus_p),
                Column::new("business_city".into(), bus_ci),
                strs("industry_code", c.industry),
                strs("pep_relation", c.pep),
                strs("controller_pep_relation", c.cpep),
                Column::new("watchlist_hit".into(), c.watch),
                Column::new("controller_watchlist_hit".into(), c.cwatch),
                Column::new("alert_level".into(), c.alert),
                Column::new("refuses_cdd".into(), c.refuses),
                Column::new("non_resident".into(), c.nonres),
                Column::new("correspondent_relation".into(), c.corr),
                Column::new("trust_relation".into(), c.trust),
                c.proxy.finish().into_column(),
                c.phone.finish().into_column(),
                c.emerg.finish().into_column(),
                Column::new("net_financial_assets".into(), c.nfa),
                Column::new("annual_life_premium".into(), c.life),
                Column::new("noncash_single_premium".into(), c.single),
                Column::new("walk_in".into(), c.walk_in),
                dates("id_expiry_date", c.id_expiry)?,
                dates("cdd_completed_on", c.cdd_done)?,
                dates("bo_verified_on", c.bo_verified)?,
            ],
        )
    }
}
