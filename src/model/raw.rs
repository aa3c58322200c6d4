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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrade {
    pub(super) name: String,
    pub(super) interval: String,
    pub(super) review_months: u32,
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
