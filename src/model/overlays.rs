//! Branch-level adjustments (M2, second half): head office may authorise a branch or region to
//! adjust sub-items and their criteria to local conditions. An overlay names the branches (or
//! provinces) it covers and, for named sub-items, the rules that replace head office's there;
//! the weights stay head office's. Validated like the base model's rules.

use std::collections::BTreeMap;

use super::err;
use super::raw::RawOverlay;
use super::rules::{rule, Rule, Subitem};
use crate::error::Result;

/// A branch-level adjustment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Overlay {
    /// Its name (`scores.parquet` column `overlay`).
    pub name: String,
    /// Branches it covers.
    pub branches: Vec<String>,
    /// Provinces (GB/T 2260, two digits) whose branches it covers.
    pub provinces: Vec<String>,
    /// Who at head office authorised it (M2).
    pub approved_by: String,
    /// Why (P5).
    pub rationale: String,
    /// Per sub-item id, the rules that replace head office's.
    pub rules: BTreeMap<String, Vec<Rule>>,
    /// The branches it applies to, once the branches' provinces are known
    /// ([`super::Model::check_branches`]).
    #[serde(skip)]
    pub applies_to: Vec<String>,
}

/// Resolves the overlays against the model's sub-items and levels.
pub(super) fn resolve(raw: Vec<RawOverlay>, subitems: &[Subitem], m: u8) -> Result<Vec<Overlay>> {
    let mut out: Vec<Overlay> = Vec::new();
    for (i, o) in raw.into_iter().enumerate() {
        let key = format!("overlays[{i}]");
        if o.name.trim().is_empty() || out.iter().any(|x| x.name == o.name) {
            return Err(err(
                &format!("{key}.name"),
                format!("'{}'; give each overlay its own name", o.name),
            ));
        }
        if o.branches.is_empty() && o.provinces.is_empty() {
            return Err(err(
                &key,
                "names no branch and no province; list the branches or provinces it covers",
            ));
        }
        for (j, p) in o.provinces.iter().enumerate() {
            if !(p.len() == 2 && p.chars().all(|c| c.is_ascii_digit())) {
                return Err(err(
                    &format!("{key}.provinces[{j}]"),
                    format!("'{p}' is not a GB/T 2260 province code (two digits, e.g. 53)"),
                ));
            }
        }
        if o.subitems.is_empty() {
            return Err(err(&format!("{key}.subitems"), "adjusts no sub-item"));
        }
        let mut rules = BTreeMap::new();
        for (id, s) in &o.subitems {
            let skey = format!("{key}.subitems.{id}");
            if !subitems.iter().any(|x| &x.id == id) {
                return Err(err(
                    &skey,
                    format!("no sub-item '{id}' in the model; an overlay adjusts head office's sub-items"),
                ));
            }
            if s.rules.is_empty() {
                return Err(err(&format!("{skey}.rules"), "give at least one rule"));
            }
            let mut list = Vec::new();
            for (j, r) in s.rules.iter().enumerate() {
                list.push(rule(&format!("{skey}.rules[{j}]"), r, m)?);
            }
            rules.insert(id.clone(), list);
        }
        out.push(Overlay {
            name: o.name,
            branches: o.branches,
            provinces: o.provinces,
            approved_by: o.approved_by,
            rationale: o.rationale,
            rules,
            applies_to: Vec::new(),
        });
    }
    Ok(out)
}
