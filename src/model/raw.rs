//! The model file as written: the TOML structure, before any check. Unknown keys are refused
//! (`deny_unknown_fields`), so a misspelt key never passes silently.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::features::Params;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawModel {
    pub(super) model: Meta,
    #[serde(default)]
    pub(super) features: Params,
    pub(super) grades: Vec<RawGrade>,
    pub(super) segments: Vec<RawSegment>,
    pub(super) subitems: BTreeMap<String, RawSubitem>,
    #[serde(default)]
    pub(super) regional: Option<RawRegional>,
    #[serde(default)]
    pub(super) exceptions: RawExceptions,
    #[serde(default)]
    pub(super) scope: Scope,
    #[serde(default)]
    pub(super) rulebook: Option<RawRulebook>,
    #[serde(default)]
    pub(super) review: Option<RawReview>,
    #[serde(default)]
    pub(super) overlays: Vec<RawOverlay>,
}

/// The texts a model implements (`[rulebook]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRulebook {
    pub(super) texts: Vec<RulebookText>,
}

/// One text of the rulebook: the 2013 guideline or one of the 2025-26 texts (L-*), or an
/// institution's own.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RulebookText {
    /// Its id: `PBoC-2013`, `L-AML`, `L-CDD`, `L-BO`, `L-BOI`, `L-SP`, or the institution's.
    pub id: String,
    /// Its title.
    #[serde(default)]
    pub name: String,
    /// The day it took effect (YYYY-MM-DD).
    pub effective: String,
}

/// Review settings of the 2025-26 texts (`[review]`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReview {
    #[serde(default)]
    pub(super) higher_risk_grades: Option<Vec<String>>,
    #[serde(default)]
    pub(super) legacy: Option<RawLegacy>,
}

/// The legacy-book deadlines (L-CDD51, L-BO39): dates, defaults the texts'.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLegacy {
    pub(super) cdd_effective: Option<String>,
    pub(super) cdd_higher_risk_by: Option<String>,
    pub(super) cdd_others_by: Option<String>,
    pub(super) bo_effective: Option<String>,
    pub(super) bo_higher_risk_by: Option<String>,
    pub(super) bo_others_by: Option<String>,
}

/// A branch-level adjustment (M2): for listed branches or provinces, sub-items scored by their
/// own rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOverlay {
    pub(super) name: String,
    #[serde(default)]
    pub(super) branches: Vec<String>,
    #[serde(default)]
    pub(super) provinces: Vec<String>,
    #[serde(default)]
    pub(super) approved_by: String,
    #[serde(default)]
    pub(super) rationale: String,
    pub(super) subitems: BTreeMap<String, RawOverlaySubitem>,
}

/// The rules an overlay gives one sub-item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOverlaySubitem {
    pub(super) rules: Vec<RawRule>,
}

/// Who wrote and approved the model, and why (P5, M4).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Model identifier.
    pub id: String,
    /// Version of the model, copied to the manifest.
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
    /// The language of the pages made with it (`en` or `zh`) when no `--lang` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrade {
    pub(super) name: String,
    pub(super) interval: String,
    pub(super) review_months: u32,
    #[serde(default)]
    pub(super) review_rationale: String,
    #[serde(default)]
    pub(super) measures: Option<String>,
    #[serde(default)]
    pub(super) controls: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSegment {
    pub(super) name: String,
    pub(super) kind: String,
    #[serde(default)]
    pub(super) tenure: Option<String>,
    pub(super) weights: BTreeMap<String, f64>,
    #[serde(default)]
    pub(super) rationale: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSubitem {
    pub(super) name: String,
    #[serde(default)]
    pub(super) label: Option<String>,
    #[serde(default)]
    pub(super) rule_id: String,
    pub(super) missing_score: u8,
    pub(super) rules: Vec<RawRule>,
    #[serde(default)]
    pub(super) rationale: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub(super) feature: String,
    #[serde(default)]
    pub(super) bins: Option<Vec<RawBin>>,
    #[serde(default)]
    pub(super) map: Option<BTreeMap<String, u8>>,
    #[serde(default)]
    pub(super) default: Option<u8>,
    #[serde(default)]
    pub(super) if_true: Option<u8>,
    #[serde(default)]
    pub(super) if_false: Option<u8>,
    #[serde(default)]
    pub(super) kinds: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBin {
    pub(super) interval: String,
    pub(super) score: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRegional {
    pub(super) by: String,
    pub(super) coefficients: BTreeMap<String, f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExceptions {
    #[serde(default)]
    pub(super) direct_highest: Option<RawHighest>,
    #[serde(default)]
    pub(super) direct_low: Option<RawLow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHighest {
    #[serde(default = "all_xh")]
    pub(super) enabled: Vec<String>,
    #[serde(default = "two")]
    pub(super) str_threshold: u32,
    #[serde(default)]
    pub(super) custom: Vec<RawCustom>,
    /// PEP relations that are direct-highest (XH2 for the customer, XH3 for its controller).
    #[serde(default)]
    pub(super) pep_kinds: Option<Vec<String>>,
}

pub(super) fn all_xh() -> Vec<String> {
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
pub(super) struct RawCustom {
    pub(super) id: String,
    pub(super) when: String,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default)]
    pub(super) label: Option<String>,
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
    /// L-CDD29 disqualifiers beyond the six of 2013 (each on when the model declares L-CDD).
    #[serde(default)]
    pub disqualify: Disqualify,
    /// L-CDD29: the listed low-risk classes a direct-low customer may be recorded in, first
    /// matching first.
    #[serde(default)]
    pub classes: Vec<LowClass>,
    /// L-CDD29: the institution's own recorded reason for direct-low customers of no class.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The L-CDD29 disqualifiers of direct-low grading; unset: on when the model declares L-CDD.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Disqualify {
    /// The customer (or its controller) is a PEP of any kind or a senior manager of an
    /// international organisation.
    pub pep: Option<bool>,
    /// The customer (or its controller) is on a monitoring list.
    pub watchlist: Option<bool>,
    /// A country under increased monitoring or a call for action is among its countries.
    pub fatf_country: Option<bool>,
    /// Its identity document has expired.
    pub id_expired: Option<bool>,
    /// An open investigation or alert (alert level 2 or more).
    pub investigation: Option<bool>,
    /// An entity whose beneficial owners the ownership graph does not identify (only the
    /// fallback, or no one; L-BO); unset: on when the model declares L-BO.
    pub bo_unidentified: Option<bool>,
}

/// A listed low-risk class (L-CDD29): its id, name and which customers are in it.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LowClass {
    /// Id written to `scores.parquet` (`direct_low_class`).
    pub class: String,
    /// Its name in the institution's language (the extract's `Norm`).
    #[serde(default)]
    pub label: String,
    /// Which customers belong to it (an expression).
    pub when: String,
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
