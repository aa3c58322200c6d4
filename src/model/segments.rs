//! Segments of customers and their weights (W1, W5): every customer in exactly one segment,
//! weights > 0 with two decimals summing to exactly 100, every adopted sub-item with a rule that
//! applies to the segment's customers (PR3).

use std::collections::BTreeSet;

use super::raw::RawSegment;
use super::rules::Subitem;
use super::{err, to_fixed, E2};
use crate::error::Result;

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
    /// The segment's name (output column `segment`).
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

/// Resolves the segments against the sub-items.
pub(super) fn resolve(raw: &[RawSegment], subitems: &[Subitem]) -> Result<Vec<Segment>> {
    // Segments (W1, W5): each kind covered once, weights > 0, sum exactly 100.
    let mut segments = Vec::new();
    let mut seg_names = BTreeSet::new();
    for (i, s) in raw.iter().enumerate() {
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
            if !subitems.iter().any(|x| &x.id == sub) {
                return Err(err(&wkey, format!("no sub-item '{sub}' in [subitems]")));
            }
            let we2 = to_fixed(*w, E2).ok_or_else(|| {
                err(
                    &wkey,
                    format!(
                        "weight {}; use a number from 0.01 to 100 with at most 2 decimals (W1)",
                        if w.abs() >= 1e6 {
                            format!("{w:e}")
                        } else {
                            format!("{w}")
                        }
                    ),
                )
            })?;
            if we2 <= 0 {
                return Err(err(
                    &wkey,
                    format!(
                        "weight {w}; an adopted sub-item needs a weight > 0, or leave it out (W1)"
                    ),
                ));
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

    Ok(segments)
}
