//! The risk model: a documented TOML file (see `docs/model.md`) holding the number of score
//! levels (W2), grade bands (W4), segments with their sub-item weights (W1, W5), declarative
//! scoring rules per sub-item (S*, PR3), regional coefficients (M2), exceptions (XH, XL),
//! review periods (T2) and control measures (C1, C2), with the written rationale P5 asks for.
//! [`Model::load`] parses and validates it; every error names the key at fault. One file per
//! part: `raw` (the file as written), `bands`, `rules`, `segments`, `exceptions`.

mod bands;
mod exceptions;
pub mod law;
mod overlays;
mod raw;
mod rules;
mod segments;

use std::collections::BTreeMap;
use std::path::Path;

pub use crate::features::Params;
pub use bands::{parse_e4, Bound, Grade};
pub use exceptions::{Custom, DirectHighest, DirectLow, Regional, Xh, OWN_REASON_CLASS};
pub use law::{InForce, Legacy, ReviewLaw};
pub use overlays::Overlay;
pub use raw::{Disqualify, LowClass, Meta, RawLow, RulebookText, Scope};
pub use rules::{parse_interval, Interval, Rule, RuleKind, Subitem};
pub use segments::{Segment, Tenure};

use crate::error::{Error, Result};

/// The default model, built into the binary: used when no model file is given and none is at
/// the default path, and written by `riskgrade init`.
pub const DEFAULT_TOML: &str = include_str!("../../data/models/default.toml");
/// How a manifest names the built-in default model.
pub const BUILTIN: &str = "built-in:default.toml";

/// Fixed-point scale of band bounds and regional coefficients (4 decimals).
pub const E4: i64 = 10_000;
/// Fixed-point scale of weights (2 decimals).
pub const E2: i64 = 100;
/// Most sub-items a model may have (the ranking of contributions packs an index below it).
pub const MAX_SUBITEMS: usize = 64;

/// A validated risk model.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Model {
    /// Identification and rationale (P5).
    pub meta: Meta,
    /// Feature parameters.
    pub params: Params,
    /// Grades, highest risk first.
    pub grades: Vec<Grade>,
    /// Segments with their weights (W1, W5).
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
    /// The texts the model implements, with the date each took effect.
    pub rulebook: Vec<RulebookText>,
    /// The review settings of the 2025-26 texts.
    pub review: ReviewLaw,
    /// Branch-level adjustments (M2).
    pub overlays: Vec<Overlay>,
    /// The 2025-26 texts in force on the run's as-of date ([`Model::set_as_of`]).
    #[serde(skip)]
    pub law: InForce,
    /// What validation accepted but the institution should know (printed as warnings).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

fn err(key: &str, msg: impl std::fmt::Display) -> Error {
    Error::Model(format!("{key}: {msg}"))
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

/// How to write an interval, for error messages.
pub(crate) const INTERVAL_HELP: &str =
    "write an interval like \"(60, 80]\": '(' or ')' leaves the value out, '[' or ']' takes it in";

/// A score of the model's levels 1..m (W2), or an error naming `key`.
fn score_ok(m: u8, key: &str, s: u8) -> Result<u8> {
    if (1..=m).contains(&s) {
        Ok(s)
    } else {
        Err(err(
            key,
            format!("score {s} is outside 1..{m} (W2: m = {m})"),
        ))
    }
}

/// Checks the feature parameters.
fn check_params(p: &Params) -> Result<()> {
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
    if !(p.beneficial_owner_share > 0.0 && p.beneficial_owner_share <= 1.0) {
        return Err(err(
            "features.beneficial_owner_share",
            format!(
                "{}; use a fraction in (0, 1]: 0.25 for the 25 % of L-BOI6",
                p.beneficial_owner_share
            ),
        ));
    }
    if !(0.0..=1.0).contains(&p.main_counterparty_share) {
        return Err(err(
            "features.main_counterparty_share",
            "use a share in [0, 1]",
        ));
    }
    Ok(())
}

impl Model {
    /// The built-in default model.
    pub fn builtin() -> Result<Model> {
        Model::parse(DEFAULT_TOML)
    }

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
        let raw: raw::RawModel = toml::from_str(text).map_err(|e| Error::Model(e.to_string()))?;
        Model::resolve(raw)
    }

    fn resolve(raw: raw::RawModel) -> Result<Model> {
        let m = raw.model.m;
        if !(2..=10).contains(&m) {
            return Err(err(
                "model.m",
                format!("{m} levels; use 2 to 10 (W2), e.g. 3 or 5"),
            ));
        }
        check_params(&raw.features)?;
        if let Some(l) = &raw.model.language {
            if l != "en" && l != "zh" {
                return Err(err(
                    "model.language",
                    format!("{l:?}; the pages are written in en (English) or zh (简体中文)"),
                ));
            }
        }
        let (grades, warnings) = bands::resolve(&raw.grades, m)?;
        let subitems = rules::resolve(&raw.subitems, m)?;
        let segments = segments::resolve(&raw.segments, &subitems)?;
        let regional = exceptions::resolve_regional(raw.regional)?;
        let rulebook = law::rulebook(raw.rulebook.map(|r| r.texts))?;
        // The 2026 rules' options of a model that declares L-CDD, whatever the as-of date.
        let declares_cdd = rulebook.iter().any(|t| t.id == "L-CDD");
        let (direct_highest, direct_low) = exceptions::resolve(raw.exceptions, declares_cdd)?;
        let names: Vec<String> = grades.iter().map(|g| g.name.clone()).collect();
        let review = law::review(raw.review, &names)?;
        let overlays = overlays::resolve(raw.overlays, &subitems, m)?;
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
            rulebook,
            review,
            overlays,
            law: InForce::default(),
            warnings,
        })
    }

    /// Sets the texts in force on `as_of` (every rule of a text applies from its effective
    /// date): a run's model is resolved for its as-of date before any rule is built.
    pub fn set_as_of(&mut self, as_of: chrono::NaiveDate) {
        self.law = law::in_force(&self.rulebook, as_of);
    }

    /// The grades counted as "higher risk or above" (L-CDD51, L-BO39, L-CDD33).
    pub fn higher_risk_grades(&self) -> &[String] {
        &self.review.higher_risk_grades
    }

    /// Checks that every branch the regional coefficients name is one of `branches` (M2): a
    /// coefficient for a branch that does not exist would apply to nobody, silently.
    pub fn check_branches(&self, branches: &[String]) -> Result<()> {
        for (i, o) in self.overlays.iter().enumerate() {
            for b in &o.branches {
                if !branches.contains(b) {
                    return Err(err(
                        &format!("overlays[{i}] ({}).branches", o.name),
                        format!(
                            "no branch '{b}' in the reference table branches.csv; known: {}",
                            branches.join(", ")
                        ),
                    ));
                }
            }
        }
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

    /// Resolves which branches each overlay covers (its branches and those of its provinces,
    /// `branches`: id, province, city) and refuses a branch two overlays cover.
    pub fn place_overlays(&mut self, branches: &[(String, String, String)]) -> Result<()> {
        let mut taken: BTreeMap<String, String> = BTreeMap::new();
        for (i, o) in self.overlays.iter_mut().enumerate() {
            let mut to: Vec<String> = branches
                .iter()
                .filter(|(id, prov, _)| o.branches.contains(id) || o.provinces.contains(prov))
                .map(|(id, _, _)| id.clone())
                .collect();
            to.sort();
            to.dedup();
            for b in &to {
                if let Some(other) = taken.insert(b.clone(), o.name.clone()) {
                    return Err(err(
                        &format!("overlays[{i}] ({})", o.name),
                        format!("branch {b} is covered by overlay '{other}' too; an overlay covers a branch alone"),
                    ));
                }
            }
            o.applies_to = to;
        }
        Ok(())
    }

    /// The feature parameters as canonical text (two models with equal text read the same
    /// features).
    pub fn params_json(&self) -> String {
        serde_json::to_string(&self.params).unwrap_or_default()
    }

    /// The sub-items and their rules as canonical text (two models with equal text score every
    /// sub-item alike).
    pub fn rules_json(&self) -> String {
        let rules: Vec<_> = self
            .subitems
            .iter()
            .map(|s| (&s.id, s.missing_score, &s.rules))
            .collect();
        serde_json::to_string(&rules).unwrap_or_default()
    }

    /// The label of a direct-highest condition for regulator extracts: the guideline's words
    /// for XH1–XH5, the model's label for its own criteria.
    pub fn xh_label(&self, id: &str) -> String {
        Xh::parse(id)
            .map(|x| x.label_zh().to_string())
            .or_else(|| {
                self.direct_highest
                    .custom
                    .iter()
                    .find(|c| c.id == id)
                    .map(|c| c.label.clone())
            })
            .unwrap_or_else(|| id.to_string())
    }

    /// The exceptions (XH, XL) and scope (SC2) as canonical text.
    pub fn exceptions_json(&self) -> String {
        serde_json::to_string(&(&self.direct_highest, &self.direct_low, &self.scope))
            .unwrap_or_default()
    }

    /// The grade names, highest first.
    pub fn grade_names(&self) -> Vec<String> {
        self.grades.iter().map(|g| g.name.clone()).collect()
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
            self.direct_highest
                .enabled
                .iter()
                .map(|x| x.id())
                .collect::<Vec<_>>()
                .join(", "),
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

/// The rank of a grade-name expression among the grade `names` of a model, highest first: 0
/// for the highest grade, 1 for the next, and so on; null for a name that is not one of them.
/// The one grade order of riskgrade: distribution rows, grade steps (up is positive), moves up
/// or down in the statistics.
pub fn grade_rank(names: &[String], grade: polars::prelude::Expr) -> polars::prelude::Expr {
    use polars::prelude::*;
    let ranks: Vec<i32> = (0..names.len() as i32).collect();
    crate::frame::lookup(
        grade,
        names.to_vec(),
        ranks,
        lit(NULL).cast(DataType::Int32),
        DataType::Int32,
    )
}
