//! Sub-items and their scoring rules (S*, PR3): bins for numbers, maps for categories, flags;
//! which customers each rule applies to.

use std::collections::BTreeMap;

use super::bands::split_interval;
use super::raw::{RawRule, RawSubitem};
use super::{err, score_ok, INTERVAL_HELP, MAX_SUBITEMS};
use crate::catalog::{self, Kind};
use crate::error::Result;

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
    /// What the sub-item assesses, in words.
    pub name: String,
    /// Its name in the institution's language, as regulator extracts print it (`Norm`);
    /// default: `name`.
    pub label: String,
    /// Rulebook ID, e.g. `S3.2`.
    pub rule_id: String,
    /// Score given when an input is missing or doubtful (PR3).
    pub missing_score: u8,
    /// The rules.
    pub rules: Vec<Rule>,
    /// Why (P5).
    pub rationale: String,
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

/// Resolves the sub-items and their rules.
pub(super) fn resolve(raw: &BTreeMap<String, RawSubitem>, m: u8) -> Result<Vec<Subitem>> {
    // Sub-items and their rules.
    if raw.len() > MAX_SUBITEMS {
        return Err(err(
            "subitems",
            format!(
                "{} sub-items; at most {MAX_SUBITEMS} are supported",
                raw.len()
            ),
        ));
    }
    let mut subitems = Vec::new();
    for (id, s) in raw {
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
        if catalog::is_reserved(id) {
            return Err(err(
                &key,
                "this id is already a feature or output column name; choose another",
            ));
        }
        score_ok(m, &format!("{key}.missing_score"), s.missing_score)?;
        if s.rules.is_empty() {
            return Err(err(&format!("{key}.rules"), "give at least one rule"));
        }
        let mut rules = Vec::new();
        for (j, r) in s.rules.iter().enumerate() {
            let rkey = format!("{key}.rules[{j}]");
            rules.push(rule(&rkey, r, m)?);
        }
        subitems.push(Subitem {
            id: id.clone(),
            name: s.name.clone(),
            label: s.label.clone().unwrap_or_else(|| s.name.clone()),
            rule_id: s.rule_id.clone(),
            missing_score: s.missing_score,
            rules,
            rationale: s.rationale.clone(),
        });
    }

    Ok(subitems)
}

/// One rule: the feature it reads, its mapping to scores, the customers it applies to.
pub(super) fn rule(rkey: &str, r: &RawRule, m: u8) -> Result<Rule> {
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
            rkey,
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
                out.push((iv, score_ok(m, &format!("{bkey}.score"), b.score)?));
            }
            if r.default.is_some() {
                return Err(err(rkey, "bins take no default: a value in no bin is scored missing_score and marked (PR3)"));
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
                score_ok(m, &format!("{rkey}.map.{k}"), *v)?;
            }
            if let Some(d) = r.default {
                score_ok(m, &format!("{rkey}.default"), d)?;
            }
            RuleKind::Map(map.clone(), r.default)
        }
        (Kind::Bool, None, None) => {
            let (t, f) = match (r.if_true, r.if_false) {
                (Some(t), Some(f)) => (t, f),
                _ => return Err(err(rkey, "a flag rule needs both if_true and if_false")),
            };
            RuleKind::Flag {
                if_true: score_ok(m, &format!("{rkey}.if_true"), t)?,
                if_false: score_ok(m, &format!("{rkey}.if_false"), f)?,
            }
        }
        (k, _, _) => {
            let want = match k {
                Kind::Num => "bins",
                Kind::Cat(_) => "map",
                Kind::Bool => "if_true/if_false",
            };
            return Err(err(
                rkey,
                format!("feature '{}' is scored with {want}", r.feature),
            ));
        }
    };
    let kinds = rule_kinds(rkey, r, feat)?;
    Ok(Rule {
        feature: r.feature.clone(),
        kind,
        kinds,
    })
}

/// The customer kinds a rule applies to: as written, or those its feature describes.
fn rule_kinds(rkey: &str, r: &RawRule, feat: &catalog::Feature) -> Result<Vec<String>> {
    Ok(match &r.kinds {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_with_their_sides() {
        let iv = parse_interval("[0, 16)").unwrap();
        assert!(iv.contains(0.0) && iv.contains(15.999) && !iv.contains(16.0));
        let iv = parse_interval("(30000000, inf)").unwrap();
        assert!(!iv.contains(30_000_000.0) && iv.contains(1e15));
        let iv = parse_interval("(-inf, 1_000]").unwrap();
        assert!(iv.contains(-1e300) && iv.contains(1000.0) && !iv.contains(1000.5));
        assert!(parse_interval("[5, 5]").unwrap().contains(5.0));
        for bad in ["[5, 5)", "(3, 2]", "0, 1", "[a, 1]", "[1 2]", ""] {
            assert!(parse_interval(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn overlaps_only_where_a_value_is_shared() {
        let iv = |s| parse_interval(s).unwrap();
        assert!(!iv("[0, 16)").overlaps(&iv("[16, 18)")));
        assert!(iv("[0, 16]").overlaps(&iv("[16, 18)")));
        assert!(!iv("[0, 16]").overlaps(&iv("(16, 18)")));
        assert!(iv("[0, 100]").overlaps(&iv("[50, 60]")));
        assert!(!iv("(10, 20]").overlaps(&iv("(20, 30]")));
    }
}
