//! The risk model: a documented TOML file (see `docs/model.md`) holding the number of score
//! levels (W2), grade bands (W4), segments with their sub-item weights (W1, W5), declarative
//! scoring rules per sub-item (S*, PR3), regional coefficients (M2), exceptions (XH, XL),
//! review periods (T2) and control measures (C1, C2), with the written rationale P5 asks for.
//! [`Model::load`] parses and validates it; every error names the key at fault.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::catalog::{self, Kind};
use crate::error::{Error, Result};
use crate::expr::{self, Ast};

/// Fixed-point scale of band bounds and regional coefficients (4 decimals).
pub const E4: i64 = 10_000;
/// Fixed-point scale of weights (2 decimals).
pub const E2: i64 = 100;

// ---------- the file as written ----------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    model: Meta,
    #[serde(default)]
    features: Params,
    grades: Vec<RawGrade>,
    segments: Vec<RawSegment>,
    subitems: BTreeMap<String, RawSubitem>,
    #[serde(default)]
    regional: Option<RawRegional>,
    #[serde(default)]
    exceptions: RawExceptions,
    #[serde(default)]
    scope: Scope,
}

/// Who wrote and approved the model, and why (P5, M4).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Model identifier.
    pub id: String,
    /// Version.
    pub version: String,
    /// Number of score levels m (W2).
    pub m: u8,
    /// Who approved the model.
    #[serde(default)]
    pub approved_by: String,
    /// When it was approved (YYYY-MM-DD).
    #[serde(default)]
    pub approved_on: String,
    /// Why the model is as it is (P5).
    #[serde(default)]
    pub rationale: String,
}

/// Parameters of the feature derivation.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
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
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrade {
    name: String,
    interval: String,
    review_months: u32,
    #[serde(default)]
    measures: Option<String>,
    #[serde(default)]
    controls: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegment {
    name: String,
    kind: String,
    #[serde(default)]
    tenure: Option<String>,
    weights: BTreeMap<String, f64>,
    #[serde(default)]
    rationale: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubitem {
    name: String,
    #[serde(default)]
    rule_id: String,
    missing_score: u8,
    rules: Vec<RawRule>,
    #[serde(default)]
    rationale: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    feature: String,
    #[serde(default)]
    bins: Option<Vec<RawBin>>,
    #[serde(default)]
    map: Option<BTreeMap<String, u8>>,
    #[serde(default)]
    default: Option<u8>,
    #[serde(default)]
    if_true: Option<u8>,
    #[serde(default)]
    if_false: Option<u8>,
    #[serde(default)]
    kinds: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBin {
    interval: String,
    score: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegional {
    by: String,
    coefficients: BTreeMap<String, f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExceptions {
    #[serde(default)]
    direct_highest: Option<RawHighest>,
    #[serde(default)]
    direct_low: Option<RawLow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHighest {
    #[serde(default = "all_xh")]
    enabled: Vec<String>,
    #[serde(default = "two")]
    str_threshold: u32,
    #[serde(default)]
    custom: Vec<RawCustom>,
}

fn all_xh() -> Vec<String> {
    ["xh1", "xh2", "xh3", "xh4", "xh5"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}
fn two() -> u32 {
    2
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustom {
    id: String,
    when: String,
    #[serde(default)]
    description: String,
}

/// Settings of direct low grading (XL); thresholds default to the rulebook's.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLow {
    /// Whether direct-low grading is used at all.
    pub enabled: bool,
    /// Which customers the institution deems clearly low risk (an expression).
    pub eligible: String,
    /// XL1: net financial assets above which a natural person is disqualified, CNY.
    #[serde(default = "d200k")]
    pub net_assets_natural_cny: f64,
    /// XL1: the same for non-natural persons, CNY.
    #[serde(default = "d500k")]
    pub net_assets_non_natural_cny: f64,
    /// XL1: annual life premium above which the customer is disqualified, CNY.
    #[serde(default = "d10k")]
    pub life_premium_cny: f64,
    /// XL1: the same in USD.
    #[serde(default = "d1k")]
    pub life_premium_usd: f64,
    /// XL1: non-cash single premium above which the customer is disqualified, CNY.
    #[serde(default = "d200k")]
    pub single_premium_cny: f64,
    /// XL1: the same in USD.
    #[serde(default = "d20k")]
    pub single_premium_usd: f64,
    /// CNY per USD, to compare the USD thresholds.
    pub usd_cny_rate: f64,
}
fn d200k() -> f64 {
    200_000.0
}
fn d500k() -> f64 {
    500_000.0
}
fn d10k() -> f64 {
    10_000.0
}
fn d1k() -> f64 {
    1_000.0
}
fn d20k() -> f64 {
    20_000.0
}

/// Scope settings (SC2).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scope {
    /// Whether one-off (walk-in) transaction customers are graded (SC2).
    pub grade_walk_in: bool,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            grade_walk_in: true,
        }
    }
}

// ---------- the resolved model ----------

/// One end of an interval, in fixed point (value × 10⁴) for bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Bound {
    /// Value × 10⁴.
    pub e4: i64,
    /// Whether the boundary value belongs to the interval.
    pub inclusive: bool,
}

/// A grade and its band of total score (W4), review period (T2) and measures (C1, C2).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Grade {
    /// Name.
    pub name: String,
    /// The band as written.
    pub interval: String,
    /// Lower end.
    pub lower: Bound,
    /// Upper end.
    pub upper: Bound,
    /// Review period in months (T2).
    pub review_months: u32,
    /// enhanced, standard or simplified (C1, C2).
    pub measures: String,
    /// Control measures that apply.
    pub controls: Vec<String>,
}

/// Customer tenure selector of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tenure {
    /// Relationship at most `new_customer_days` old.
    New,
    /// Older relationships.
    Existing,
}

/// A segment of customers with its own weights (W1, W5).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Segment {
    /// Name.
    pub name: String,
    /// Customer kind it applies to.
    pub kind: String,
    /// Optional tenure selector.
    pub tenure: Option<Tenure>,
    /// Adopted sub-items with weight × 100 (in model sub-item order).
    pub weights: Vec<(String, i64)>,
    /// Why these weights (P5).
    pub rationale: String,
}

impl Segment {
    /// Weight × 100 of a sub-item, 0 when not adopted.
    pub fn weight_e2(&self, subitem: &str) -> i64 {
        self.weights
            .iter()
            .find(|(s, _)| s == subitem)
            .map_or(0, |(_, w)| *w)
    }
}

/// A numeric interval of a scoring bin.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    /// Lower end (may be -inf).
    pub lo: f64,
    /// Whether `lo` belongs.
    pub lo_inc: bool,
    /// Upper end (may be +inf).
    pub hi: f64,
    /// Whether `hi` belongs.
    pub hi_inc: bool,
}

impl Interval {
    /// Whether `x` lies in the interval.
    pub fn contains(&self, x: f64) -> bool {
        (if self.lo_inc {
            x >= self.lo
        } else {
            x > self.lo
        }) && (if self.hi_inc {
            x <= self.hi
        } else {
            x < self.hi
        })
    }
    fn overlaps(&self, o: &Interval) -> bool {
        let below = self.hi < o.lo || (self.hi == o.lo && !(self.hi_inc && o.lo_inc));
        let above = o.hi < self.lo || (o.hi == self.lo && !(o.hi_inc && self.lo_inc));
        !(below || above)
    }
}

/// How one rule maps a feature to a score.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Numeric bins; a value in no bin is treated as doubtful (PR3).
    Bins(Vec<(Interval, u8)>),
    /// Category map with an optional default for unlisted categories.
    Map(BTreeMap<String, u8>, Option<u8>),
    /// Boolean flag.
    Flag {
        /// Score when true.
        if_true: u8,
        /// Score when false.
        if_false: u8,
    },
}

/// A scoring rule over one feature.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rule {
    /// The feature read.
    pub feature: String,
    /// The mapping.
    pub kind: RuleKind,
    /// The customer kinds the rule applies to (default: those the feature describes). For
    /// other customers the rule gives no score and is not missing information (PR3).
    pub kinds: Vec<String>,
}

impl Rule {
    /// Whether the rule applies to customers of `kind`.
    pub fn applies_to(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }
}

/// A sub-item: its score is the worst (highest) of its rules' scores (S*).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Subitem {
    /// Column id, e.g. `s3_2`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Rulebook ID, e.g. `S3.2`.
    pub rule_id: String,
    /// Score given when an input is missing or doubtful (PR3).
    pub missing_score: u8,
    /// The rules.
    pub rules: Vec<Rule>,
    /// Why (P5).
    pub rationale: String,
}

/// Built-in direct-highest conditions (XH1–XH5).
pub const XH_BUILTIN: &[(&str, &str)] = &[
    (
        "xh1",
        "on a list China publishes or recognises for AML monitoring",
    ),
    (
        "xh2",
        "foreign PEP, or a relative or close associate of one",
    ),
    ("xh3", "controller or beneficial owner is under xh1 or xh2"),
    (
        "xh4",
        "involved in suspicious transaction reports several times",
    ),
    ("xh5", "refuses the due diligence required by law"),
];

/// An institution's own direct-highest criterion (XH6).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Custom {
    /// Identifier (shown as the grade basis).
    pub id: String,
    /// Expression as written.
    pub when: String,
    /// Description.
    pub description: String,
    /// Parsed expression.
    #[serde(skip)]
    pub ast: Ast,
}

/// Direct-highest settings (XH).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DirectHighest {
    /// Built-in conditions in force.
    pub enabled: Vec<String>,
    /// STR count from which XH4 applies ("several times").
    pub str_threshold: u32,
    /// The institution's own criteria (XH6).
    pub custom: Vec<Custom>,
}

/// Direct-low settings (XL).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DirectLow {
    /// Thresholds and the eligibility expression as written.
    pub settings: RawLow,
    /// Parsed eligibility.
    #[serde(skip)]
    pub eligible: Ast,
}

/// Regional coefficients (M2).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Regional {
    /// The customer column the coefficients are keyed by (`branch_id`).
    pub by: String,
    /// Coefficient × 10⁴ per key; 1 elsewhere.
    pub coefficients_e4: BTreeMap<String, i64>,
}

/// A validated risk model.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Model {
    /// Identification and rationale (P5).
    pub meta: Meta,
    /// Feature parameters.
    pub params: Params,
    /// Grades, highest risk first.
    pub grades: Vec<Grade>,
    /// Segments.
    pub segments: Vec<Segment>,
    /// Sub-items in id order.
    pub subitems: Vec<Subitem>,
    /// Regional coefficients (M2).
    pub regional: Option<Regional>,
    /// XH settings.
    pub direct_highest: DirectHighest,
    /// XL settings, when used.
    pub direct_low: Option<DirectLow>,
    /// SC2 settings.
    pub scope: Scope,
}

fn err(key: &str, msg: impl std::fmt::Display) -> Error {
    Error::Model(format!("{key}: {msg}"))
}

/// Parses a decimal string into value × 10⁴, exactly; `None` when it has more than four
/// decimals or is not a number.
pub fn parse_e4(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty()
        || frac.len() > 4
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let i: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let f: i64 = format!("{frac:0<4}").parse().ok()?;
    let v = i.checked_mul(E4)?.checked_add(f)?;
    Some(if neg { -v } else { v })
}

/// Converts a TOML number to fixed point with `scale` (10⁴ or 10²), refusing more decimals.
fn to_fixed(x: f64, scale: i64) -> Option<i64> {
    // Numbers beyond ±10¹² are never a weight, coefficient or bound; refusing them keeps
    // every product below in range (no wrap-around).
    if !x.is_finite() || x.abs() > 1e12 {
        return None;
    }
    let v = x * scale as f64;
    let r = v.round();
    ((v - r).abs() < 1e-6).then_some(r as i64)
}

/// Splits "(a, b]" into its parts.
fn split_interval(s: &str) -> Option<(bool, &str, &str, bool)> {
    let s = s.trim();
    let lo_inc = match s.chars().next()? {
        '[' => true,
        '(' => false,
        _ => return None,
    };
    let hi_inc = match s.chars().last()? {
        ']' => true,
        ')' => false,
        _ => return None,
    };
    let (a, b) = s[1..s.len() - 1].split_once(',')?;
    Some((lo_inc, a.trim(), b.trim(), hi_inc))
}

/// Parses a scoring-bin interval such as `[0, 16)` or `(30000000, inf)`.
pub fn parse_interval(s: &str) -> Option<Interval> {
    let (lo_inc, a, b, hi_inc) = split_interval(s)?;
    let num = |t: &str| -> Option<f64> {
        match t {
            "-inf" => Some(f64::NEG_INFINITY),
            "inf" | "+inf" => Some(f64::INFINITY),
            _ => t.replace('_', "").parse().ok(),
        }
    };
    let (lo, hi) = (num(a)?, num(b)?);
    (lo < hi || (lo == hi && lo_inc && hi_inc)).then_some(Interval {
        lo,
        lo_inc: lo_inc && lo.is_finite(),
        hi,
        hi_inc: hi_inc && hi.is_finite(),
    })
}

const INTERVAL_HELP: &str =
    "write an interval like \"(60, 80]\": '(' or ')' leaves the value out, '[' or ']' takes it in";

impl Model {
    /// Reads and validates a model file.
    pub fn load(path: &Path) -> Result<Model> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Model(format!("cannot read {}: {e}", path.display())))?;
        Model::parse(&text).map_err(|e| match e {
            Error::Model(m) => Error::Model(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Parses and validates model text.
    pub fn parse(text: &str) -> Result<Model> {
        let raw: RawModel = toml::from_str(text).map_err(|e| Error::Model(e.to_string()))?;
        Model::resolve(raw)
    }

    fn resolve(raw: RawModel) -> Result<Model> {
        let m = raw.model.m;
        if !(2..=10).contains(&m) {
            return Err(err(
                "model.m",
                format!("{m} levels; use 2 to 10 (W2), e.g. 3 or 5"),
            ));
        }
        let score_ok = |key: &str, s: u8| -> Result<u8> {
            if (1..=m).contains(&s) {
                Ok(s)
            } else {
                Err(err(
                    key,
                    format!("score {s} is outside 1..{m} (W2: m = {m})"),
                ))
            }
        };
        let p = &raw.features;
        if p.lookback_months == 0 || p.lookback_months > 120 {
            return Err(err("features.lookback_months", "use 1 to 120 months"));
        }
        if !(0.0..1.0).contains(&p.near_threshold_ratio) {
            return Err(err(
                "features.near_threshold_ratio",
                "use a ratio in [0, 1)",
            ));
        }
        if !crate::contract::is_country(&p.home_country) {
            return Err(err(
                "features.home_country",
                format!(
                    "'{}' is not an ISO 3166-1 alpha-2 code (two capital letters, e.g. \"CN\")",
                    p.home_country
                ),
            ));
        }
        for (key, v) in [
            ("features.large_cash_cny", p.large_cash_cny),
            (
                "features.large_transfer_non_natural_cny",
                p.large_transfer_non_natural_cny,
            ),
            (
                "features.large_transfer_natural_cny",
                p.large_transfer_natural_cny,
            ),
        ] {
            if !(v > 0.0 && v <= 1e12) {
                return Err(err(key, format!("{v}; give an amount in CNY, > 0")));
            }
        }
        if !(0.0..=1.0).contains(&p.main_counterparty_share) {
            return Err(err(
                "features.main_counterparty_share",
                "use a share in [0, 1]",
            ));
        }

        // Grades (W4), ordered from the highest band down; coverage of [100/m, 100] exactly.
        if raw.grades.len() < 3 {
            return Err(err(
                "grades",
                format!("{} grades; W4 asks for at least three", raw.grades.len()),
            ));
        }
        let mut grades = Vec::new();
        let mut names = BTreeSet::new();
        for (i, g) in raw.grades.iter().enumerate() {
            let key = format!("grades[{i}] ({})", g.name);
            if g.name.trim().is_empty() || !names.insert(g.name.clone()) {
                return Err(err(&key, "grade names must be non-empty and distinct"));
            }
            let (lo_inc, a, b, hi_inc) = split_interval(&g.interval)
                .ok_or_else(|| err(&format!("{key}.interval"), INTERVAL_HELP))?;
            let min_e4 = 100 * E4; // 100/m × 10⁴ × m
            let lo = if a == "min" {
                if !lo_inc {
                    return Err(err(
                        &format!("{key}.interval"),
                        "'min' (= 100/m) must be inclusive: '[min, ...'",
                    ));
                }
                None
            } else {
                Some(parse_e4(a).ok_or_else(|| {
                    err(
                        &format!("{key}.interval"),
                        format!("'{a}' is not a number with at most 4 decimals"),
                    )
                })?)
            };
            let hi = parse_e4(b).ok_or_else(|| {
                err(
                    &format!("{key}.interval"),
                    format!("'{b}' is not a number with at most 4 decimals"),
                )
            })?;
            let measures = g.measures.clone().unwrap_or_else(|| "standard".into());
            if !["enhanced", "standard", "simplified"].contains(&measures.as_str()) {
                return Err(err(
                    &format!("{key}.measures"),
                    "use enhanced (C1), standard or simplified (C2)",
                ));
            }
            if g.review_months == 0 {
                return Err(err(
                    &format!("{key}.review_months"),
                    "must be at least 1 (T2)",
                ));
            }
            grades.push((
                lo,
                Grade {
                    name: g.name.clone(),
                    interval: g.interval.clone(),
                    // `min` is stored as 100/m rounded down; it is only used for display, the
                    // comparison treats it as "everything up to the upper bound".
                    lower: Bound {
                        e4: lo.unwrap_or(min_e4 / m as i64),
                        inclusive: lo_inc,
                    },
                    upper: Bound {
                        e4: hi,
                        inclusive: hi_inc,
                    },
                    review_months: g.review_months,
                    measures,
                    controls: g.controls.clone(),
                },
            ));
        }
        grades.sort_by(|a, b| {
            b.1.upper
                .e4
                .cmp(&a.1.upper.e4)
                .then(b.1.upper.inclusive.cmp(&a.1.upper.inclusive))
        });
        let top = &grades[0].1;
        if top.upper.e4 != 100 * E4 || !top.upper.inclusive {
            return Err(err(
                &format!("grade {}", top.name),
                format!(
                    "the highest band is {}; it must end at 100 inclusive: '..., 100]'",
                    top.interval
                ),
            ));
        }
        for w in grades.windows(2) {
            let (hi, lo) = (&w[0].1, &w[1].1);
            if hi.lower.e4 != lo.upper.e4
                || hi.lower.inclusive == lo.upper.inclusive
                || w[0].0.is_none()
            {
                return Err(err(
                    &format!("grades {} and {}", hi.name, lo.name),
                    format!(
                        "bands {} and {} must meet at one value that exactly one of them includes (no gap, no overlap)",
                        hi.interval, lo.interval
                    ),
                ));
            }
        }
        let bottom = &grades[grades.len() - 1];
        match bottom.0 {
            None => {}
            Some(lo) if lo * m as i64 == 100 * E4 && bottom.1.lower.inclusive => {}
            Some(_) => {
                return Err(err(
                    &format!("grade {}", bottom.1.name),
                    format!(
                        "the lowest band is {}; it must start at the minimum total 100/m inclusive: write '[min, ...]'",
                        bottom.1.interval
                    ),
                ))
            }
        }
        // W3, W4: the lowest band must reach the minimum total 100/m, or no customer could
        // fall in it and the bands above would start below any reachable total.
        let low_top = bottom.1.upper;
        let reach = (low_top.e4 * m as i64).cmp(&(100 * E4));
        if reach == std::cmp::Ordering::Less
            || (reach == std::cmp::Ordering::Equal && !low_top.inclusive)
        {
            return Err(err(
                &format!("grade {}", bottom.1.name),
                format!(
                    "the lowest band {} ends below the minimum total 100/m = {:.2} (W3: every score is at least 1): no customer could be graded {}; move the band limits above it",
                    bottom.1.interval,
                    100.0 / m as f64,
                    bottom.1.name
                ),
            ));
        }
        let grades: Vec<Grade> = grades.into_iter().map(|g| g.1).collect();
        for (i, g) in grades.iter().enumerate() {
            if g.lower.e4 >= g.upper.e4 && i + 1 < grades.len() {
                return Err(err(
                    &format!("grade {}", g.name),
                    format!("band {} is empty", g.interval),
                ));
            }
        }
        // T2: highest at most 6 months, each lower at most twice the one above.
        if grades[0].review_months > 6 {
            return Err(err(
                &format!("grade {}.review_months", grades[0].name),
                format!(
                    "{} months; T2 allows the highest grade at most 6",
                    grades[0].review_months
                ),
            ));
        }
        for w in grades.windows(2) {
            if w[1].review_months > 2 * w[0].review_months {
                return Err(err(
                    &format!("grade {}.review_months", w[1].name),
                    format!(
                        "{} months is more than twice the {} months of grade {} above it (T2)",
                        w[1].review_months, w[0].review_months, w[0].name
                    ),
                ));
            }
        }

        // Sub-items and their rules.
        if raw.subitems.len() > 64 {
            return Err(err(
                "subitems",
                format!("{} sub-items; at most 64 are supported", raw.subitems.len()),
            ));
        }
        let mut subitems = Vec::new();
        for (id, s) in &raw.subitems {
            let key = format!("subitems.{id}");
            if !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                || !id.starts_with(|c: char| c.is_ascii_lowercase())
            {
                return Err(err(
                    &key,
                    "ids use lower-case letters, digits and '_', e.g. s3_2",
                ));
            }
            if catalog::feature(id).is_some() || is_output_column(id) {
                return Err(err(
                    &key,
                    "this id is already a feature or output column name; choose another",
                ));
            }
            score_ok(&format!("{key}.missing_score"), s.missing_score)?;
            if s.rules.is_empty() {
                return Err(err(&format!("{key}.rules"), "give at least one rule"));
            }
            let mut rules = Vec::new();
            for (j, r) in s.rules.iter().enumerate() {
                let rkey = format!("{key}.rules[{j}]");
                let feat = catalog::feature(&r.feature).ok_or_else(|| {
                    err(
                        &format!("{rkey}.feature"),
                        format!(
                            "no feature '{}'; features are listed in docs/model.md",
                            r.feature
                        ),
                    )
                })?;
                let given = [
                    r.bins.is_some(),
                    r.map.is_some(),
                    r.if_true.is_some() || r.if_false.is_some(),
                ];
                if given.iter().filter(|g| **g).count() != 1 {
                    return Err(err(
                        &rkey,
                        "give exactly one of bins, map, or if_true/if_false",
                    ));
                }
                let kind = match (feat.kind, &r.bins, &r.map) {
                    (Kind::Num, Some(bins), _) => {
                        let mut out: Vec<(Interval, u8)> = Vec::new();
                        for (k, b) in bins.iter().enumerate() {
                            let bkey = format!("{rkey}.bins[{k}]");
                            let iv = parse_interval(&b.interval)
                                .ok_or_else(|| err(&format!("{bkey}.interval"), INTERVAL_HELP))?;
                            if let Some((prev, _)) = out.iter().find(|(p, _)| p.overlaps(&iv)) {
                                return Err(err(
                                    &bkey,
                                    format!("{} overlaps an earlier bin ({prev:?})", b.interval),
                                ));
                            }
                            out.push((iv, score_ok(&format!("{bkey}.score"), b.score)?));
                        }
                        if r.default.is_some() {
                            return Err(err(&rkey, "bins take no default: a value in no bin is scored missing_score and marked (PR3)"));
                        }
                        RuleKind::Bins(out)
                    }
                    (Kind::Cat(values), _, Some(map)) => {
                        for (k, v) in map {
                            if !values.is_empty() && !values.contains(&k.as_str()) {
                                return Err(err(
                                    &format!("{rkey}.map.{k}"),
                                    format!(
                                        "'{k}' is not a value of {}; valid: {}",
                                        r.feature,
                                        values.join(", ")
                                    ),
                                ));
                            }
                            score_ok(&format!("{rkey}.map.{k}"), *v)?;
                        }
                        if let Some(d) = r.default {
                            score_ok(&format!("{rkey}.default"), d)?;
                        }
                        RuleKind::Map(map.clone(), r.default)
                    }
                    (Kind::Bool, None, None) => {
                        let (t, f) = match (r.if_true, r.if_false) {
                            (Some(t), Some(f)) => (t, f),
                            _ => {
                                return Err(err(
                                    &rkey,
                                    "a flag rule needs both if_true and if_false",
                                ))
                            }
                        };
                        RuleKind::Flag {
                            if_true: score_ok(&format!("{rkey}.if_true"), t)?,
                            if_false: score_ok(&format!("{rkey}.if_false"), f)?,
                        }
                    }
                    (k, _, _) => {
                        let want = match k {
                            Kind::Num => "bins",
                            Kind::Cat(_) => "map",
                            Kind::Bool => "if_true/if_false",
                        };
                        return Err(err(
                            &rkey,
                            format!("feature '{}' is scored with {want}", r.feature),
                        ));
                    }
                };
                let kinds = match &r.kinds {
                    None => feat.applies.kinds().iter().map(|k| k.to_string()).collect(),
                    Some(ks) => {
                        let known = crate::contract::KINDS;
                        if ks.is_empty() || ks.iter().any(|k| !known.contains(&k.as_str())) {
                            return Err(err(
                                &format!("{rkey}.kinds"),
                                format!(
                                    "{ks:?}; list one or more of {} (default: the kinds the feature describes, here {})",
                                    known.join(", "),
                                    feat.applies.label()
                                ),
                            ));
                        }
                        let mut ks: Vec<String> = known
                            .iter()
                            .filter(|k| ks.iter().any(|g| g == *k))
                            .map(|k| k.to_string())
                            .collect();
                        ks.dedup();
                        ks
                    }
                };
                rules.push(Rule {
                    feature: r.feature.clone(),
                    kind,
                    kinds,
                });
            }
            subitems.push(Subitem {
                id: id.clone(),
                name: s.name.clone(),
                rule_id: s.rule_id.clone(),
                missing_score: s.missing_score,
                rules,
                rationale: s.rationale.clone(),
            });
        }

        // Segments (W1, W5): each kind covered once, weights > 0, sum exactly 100.
        let mut segments = Vec::new();
        let mut seg_names = BTreeSet::new();
        for (i, s) in raw.segments.iter().enumerate() {
            let key = format!("segments[{i}] ({})", s.name);
            if !seg_names.insert(s.name.clone()) {
                return Err(err(&key, "segment names must be distinct"));
            }
            if !crate::contract::KINDS.contains(&s.kind.as_str()) {
                return Err(err(
                    &format!("{key}.kind"),
                    format!("'{}'; use natural or non_natural", s.kind),
                ));
            }
            let tenure = match s.tenure.as_deref() {
                None => None,
                Some("new") => Some(Tenure::New),
                Some("existing") => Some(Tenure::Existing),
                Some(t) => {
                    return Err(err(
                        &format!("{key}.tenure"),
                        format!("'{t}'; use new or existing"),
                    ))
                }
            };
            let mut weights = Vec::new();
            let mut sum = 0;
            for (sub, w) in &s.weights {
                let wkey = format!("{key}.weights.{sub}");
                if !raw.subitems.contains_key(sub) {
                    return Err(err(&wkey, format!("no sub-item '{sub}' in [subitems]")));
                }
                let we2 =
                    to_fixed(*w, E2).ok_or_else(|| {
                        err(
                            &wkey,
                            format!(
                            "weight {}; use a number from 0.01 to 100 with at most 2 decimals (W1)",
                            if w.abs() >= 1e6 { format!("{w:e}") } else { format!("{w}") }
                        ),
                        )
                    })?;
                if we2 <= 0 {
                    return Err(err(&wkey, format!("weight {w}; an adopted sub-item needs a weight > 0, or leave it out (W1)")));
                }
                if we2 > 100 * E2 {
                    return Err(err(
                        &wkey,
                        format!("weight {w}; a weight is at most 100 (W1: the weights sum to 100)"),
                    ));
                }
                let applies = subitems
                    .iter()
                    .find(|x: &&Subitem| &x.id == sub)
                    .is_some_and(|x| x.rules.iter().any(|r| r.applies_to(&s.kind)));
                if !applies {
                    return Err(err(
                        &wkey,
                        format!(
                            "none of the rules of sub-item '{sub}' applies to {} customers (see each rule's kinds and the features' 'applies to' in docs/model.md); leave it out of this segment or add a rule that applies (PR3: not applicable is not missing)",
                            s.kind
                        ),
                    ));
                }
                sum += we2;
                weights.push((sub.clone(), we2));
            }
            if sum != 100 * E2 {
                return Err(err(
                    &format!("{key}.weights"),
                    format!(
                        "weights sum to {}; they must sum to exactly 100 (W1)",
                        sum as f64 / E2 as f64
                    ),
                ));
            }
            segments.push(Segment {
                name: s.name.clone(),
                kind: s.kind.clone(),
                tenure,
                weights,
                rationale: s.rationale.clone(),
            });
        }
        for kind in crate::contract::KINDS {
            let of: Vec<&Segment> = segments.iter().filter(|s| s.kind == *kind).collect();
            let ok = match of.as_slice() {
                [one] => one.tenure.is_none(),
                [a, b] => matches!(
                    (a.tenure, b.tenure),
                    (Some(Tenure::New), Some(Tenure::Existing))
                        | (Some(Tenure::Existing), Some(Tenure::New))
                ),
                _ => false,
            };
            if !ok {
                return Err(err(
                    "segments",
                    format!("every {kind} customer must fall in exactly one segment: give one segment without tenure, or one with tenure = \"new\" and one with \"existing\""),
                ));
            }
        }

        // Regional coefficients (M2).
        let regional = match raw.regional {
            None => None,
            Some(r) => {
                if r.by != "branch_id" {
                    return Err(err(
                        "regional.by",
                        format!("'{}'; coefficients are keyed by branch_id", r.by),
                    ));
                }
                let mut c = BTreeMap::new();
                for (k, v) in r.coefficients {
                    let e4 = to_fixed(v, E4)
                        .filter(|e| *e > 0 && *e <= 10 * E4)
                        .ok_or_else(|| {
                            err(
                                &format!("regional.coefficients.{k}"),
                                format!("{v}; use a number in (0, 10] with at most 4 decimals"),
                            )
                        })?;
                    c.insert(k, e4);
                }
                Some(Regional {
                    by: r.by,
                    coefficients_e4: c,
                })
            }
        };

        // Exceptions.
        let parse_expr = |key: &str, src: &str| -> Result<Ast> {
            expr::parse_checked(src).map_err(|e| {
                let shown: String = src.chars().take(80).collect();
                let more = if src.chars().count() > 80 { "…" } else { "" };
                err(key, format!("'{shown}{more}': {e}"))
            })
        };
        let dh = raw.exceptions.direct_highest.unwrap_or(RawHighest {
            enabled: all_xh(),
            str_threshold: 2,
            custom: vec![],
        });
        for (i, e) in dh.enabled.iter().enumerate() {
            if !XH_BUILTIN.iter().any(|(id, _)| id == e) {
                return Err(err(
                    &format!("exceptions.direct_highest.enabled[{i}]"),
                    format!("'{e}'; use xh1 to xh5 (xh6 is `custom`)"),
                ));
            }
        }
        if dh.str_threshold < 1 {
            return Err(err(
                "exceptions.direct_highest.str_threshold",
                "must be at least 1",
            ));
        }
        let mut custom = Vec::new();
        for (i, c) in dh.custom.iter().enumerate() {
            let key = format!("exceptions.direct_highest.custom[{i}]");
            if !c.id.starts_with("xh6") || XH_BUILTIN.iter().any(|(id, _)| *id == c.id) {
                return Err(err(
                    &format!("{key}.id"),
                    format!(
                        "'{}'; custom criteria are named xh6 or xh6_<name> (XH6)",
                        c.id
                    ),
                ));
            }
            if custom.iter().any(|x: &Custom| x.id == c.id) {
                return Err(err(
                    &format!("{key}.id"),
                    format!(
                        "'{}' is used by an earlier criterion; give each its own id",
                        c.id
                    ),
                ));
            }
            custom.push(Custom {
                id: c.id.clone(),
                when: c.when.clone(),
                description: c.description.clone(),
                ast: parse_expr(&format!("{key}.when"), &c.when)?,
            });
        }
        let direct_highest = DirectHighest {
            enabled: dh.enabled,
            str_threshold: dh.str_threshold,
            custom,
        };
        let direct_low = match raw.exceptions.direct_low {
            Some(l) if l.enabled => {
                if !(l.usd_cny_rate.is_finite() && l.usd_cny_rate > 0.0) {
                    return Err(err(
                        "exceptions.direct_low.usd_cny_rate",
                        "give the CNY per USD rate, > 0",
                    ));
                }
                for (key, v) in [
                    ("net_assets_natural_cny", l.net_assets_natural_cny),
                    ("net_assets_non_natural_cny", l.net_assets_non_natural_cny),
                    ("life_premium_cny", l.life_premium_cny),
                    ("life_premium_usd", l.life_premium_usd),
                    ("single_premium_cny", l.single_premium_cny),
                    ("single_premium_usd", l.single_premium_usd),
                ] {
                    if !(v.is_finite() && v >= 0.0) {
                        return Err(err(
                            &format!("exceptions.direct_low.{key}"),
                            format!("{v}; give an amount, >= 0 (XL1)"),
                        ));
                    }
                }
                let eligible = parse_expr("exceptions.direct_low.eligible", &l.eligible)?;
                Some(DirectLow {
                    settings: l,
                    eligible,
                })
            }
            _ => None,
        };

        Ok(Model {
            meta: raw.model,
            params: raw.features,
            grades,
            segments,
            subitems,
            regional,
            direct_highest,
            direct_low,
            scope: raw.scope,
        })
    }

    /// Checks that every branch the regional coefficients name is one of `branches` (M2): a
    /// coefficient for a branch that does not exist would apply to nobody, silently.
    pub fn check_branches(&self, branches: &[String]) -> Result<()> {
        if let Some(r) = &self.regional {
            for k in r.coefficients_e4.keys() {
                if !branches.contains(k) {
                    return Err(err(
                        &format!("regional.coefficients.{k}"),
                        format!(
                            "no branch '{k}' in the reference table branches.csv; known: {}",
                            branches.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Number of levels m (W2).
    pub fn m(&self) -> u8 {
        self.meta.m
    }

    /// The highest-risk grade (XH target).
    pub fn highest(&self) -> &Grade {
        &self.grades[0]
    }

    /// The lowest-risk grade (XL target).
    pub fn lowest(&self) -> &Grade {
        &self.grades[self.grades.len() - 1]
    }

    /// A short human summary (for `riskgrade validate`).
    pub fn summary(&self) -> String {
        let mut s = format!(
            "model {} version {} (approved by {} on {})\nm = {} levels; {} sub-items; look-back {} months\ngrades (highest first):\n",
            self.meta.id,
            self.meta.version,
            or_dash(&self.meta.approved_by),
            or_dash(&self.meta.approved_on),
            self.m(),
            self.subitems.len(),
            self.params.lookback_months
        );
        for g in &self.grades {
            s += &format!(
                "  {:<12} {:<14} review every {:>2} months, {} measures\n",
                g.name, g.interval, g.review_months, g.measures
            );
        }
        for seg in &self.segments {
            let tenure = seg
                .tenure
                .map(|t| format!(", {t:?}").to_lowercase())
                .unwrap_or_default();
            s += &format!("segment {} ({}{}): ", seg.name, seg.kind, tenure);
            s += &seg
                .weights
                .iter()
                .map(|(id, w)| format!("{id}={}", fmt_e2(*w)))
                .collect::<Vec<_>>()
                .join(" ");
            s += "\n";
        }
        s += &format!(
            "direct highest: {}{}\n",
            self.direct_highest.enabled.join(", "),
            self.direct_highest
                .custom
                .iter()
                .map(|c| format!(", {}", c.id))
                .collect::<String>()
        );
        s += &format!(
            "direct low: {}\n",
            match &self.direct_low {
                Some(l) => format!("for customers where {}", l.settings.eligible),
                None => "not used".into(),
            }
        );
        if let Some(r) = &self.regional {
            s += &format!(
                "regional coefficients by {}: {} set\n",
                r.by,
                r.coefficients_e4.len()
            );
        }
        s
    }
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

/// Formats a value × 100 as a decimal.
pub fn fmt_e2(v: i64) -> String {
    if v % E2 == 0 {
        format!("{}", v / E2)
    } else {
        format!("{:.2}", v as f64 / E2 as f64)
    }
}

/// Columns of `scores.parquet` that a sub-item id must not shadow.
pub fn is_output_column(id: &str) -> bool {
    [
        "customer_id",
        "institution_id",
        "branch_id",
        "segment",
        "weighted_sum",
        "total_score",
        "regional_coefficient",
        "adjusted_score",
        "computed_grade",
        "grade",
        "basis",
        "direct_highest",
        "missing_subitems",
        "top_subitems",
    ]
    .contains(&id)
}
