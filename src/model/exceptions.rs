//! Direct-highest (XH) and direct-low (XL) exceptions and regional coefficients (M2).

use std::collections::BTreeMap;

use super::raw::{all_xh, RawExceptions, RawHighest, RawLow, RawRegional};
use super::{err, to_fixed, E4};
use crate::error::Result;
use crate::expr::{self, Ast};

/// A built-in direct-highest condition (XH1–XH5); the institution's own criteria are XH6
/// ([`Custom`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Xh {
    /// On a list China publishes or recognises for AML monitoring.
    Xh1,
    /// A foreign PEP, or a relative or close associate of one.
    Xh2,
    /// The controller or beneficial owner is under XH1 or XH2.
    Xh3,
    /// Involved in suspicious transaction reports several times.
    Xh4,
    /// Refuses the due diligence required by law.
    Xh5,
}

impl Xh {
    /// Every built-in condition, in rule order.
    pub const ALL: [Xh; 5] = [Xh::Xh1, Xh::Xh2, Xh::Xh3, Xh::Xh4, Xh::Xh5];

    /// Its id in model files and outputs (`xh1` …).
    pub fn id(self) -> &'static str {
        match self {
            Xh::Xh1 => "xh1",
            Xh::Xh2 => "xh2",
            Xh::Xh3 => "xh3",
            Xh::Xh4 => "xh4",
            Xh::Xh5 => "xh5",
        }
    }

    /// The condition of an id.
    pub fn parse(id: &str) -> Option<Xh> {
        Xh::ALL.into_iter().find(|x| x.id() == id)
    }

    /// What it means, in English.
    pub fn meaning(self) -> &'static str {
        match self {
            Xh::Xh1 => "on a list China publishes or recognises for AML monitoring",
            Xh::Xh2 => "foreign PEP, or a relative or close associate of one",
            Xh::Xh3 => "controller or beneficial owner is under xh1 or xh2",
            Xh::Xh4 => "involved in suspicious transaction reports several times",
            Xh::Xh5 => "refuses the due diligence required by law",
        }
    }

    /// The condition as the guideline words it (for regulator extracts, `Norm`).
    pub fn label_zh(self) -> &'static str {
        match self {
            Xh::Xh1 => "客户被列入我国发布或承认的应实施反洗钱监控措施的名单",
            Xh::Xh2 => "客户为外国政要或其亲属、关系密切人",
            Xh::Xh3 => "客户实际控制人或实际受益人属外国政要或监控名单所列人员",
            Xh::Xh4 => "客户多次涉及可疑交易报告",
            Xh::Xh5 => "客户拒绝金融机构依法开展的客户尽职调查工作",
        }
    }
}

/// An institution's own direct-highest criterion (XH6).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Custom {
    /// Identifier (shown as the grade basis).
    pub id: String,
    /// Expression as written.
    pub when: String,
    /// What the criterion means, in words.
    pub description: String,
    /// Its name in the institution's language for regulator extracts; default: the
    /// description, else the id.
    pub label: String,
    /// Parsed expression.
    #[serde(skip)]
    pub ast: Ast,
}

/// Direct-highest settings (XH).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DirectHighest {
    /// Built-in conditions in force.
    pub enabled: Vec<Xh>,
    /// STR count from which XH4 applies ("several times").
    pub str_threshold: u32,
    /// The institution's own criteria (XH6).
    pub custom: Vec<Custom>,
    /// PEP relations that are direct-highest (XH2 for the customer, XH3 for its controller);
    /// unset: the foreign PEPs and their relatives and close associates, and from L-CDD on
    /// (L-CDD33) former foreign PEPs too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pep_kinds: Option<Vec<String>>,
}

impl DirectHighest {
    /// The PEP relations that are direct-highest under the texts in force.
    pub fn pep_kinds(&self, law: super::InForce) -> Vec<String> {
        if let Some(k) = &self.pep_kinds {
            return k.clone();
        }
        let mut k = vec!["foreign_pep", "relative", "close_associate"];
        if law.cdd {
            k.push("former_foreign_pep");
        }
        k.into_iter().map(String::from).collect()
    }
}

/// Direct-low settings (XL).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DirectLow {
    /// Thresholds and the eligibility expression as written.
    pub settings: RawLow,
    /// Parsed eligibility.
    #[serde(skip)]
    pub eligible: Ast,
    /// The listed low-risk classes' parsed conditions, in `settings.classes` order.
    #[serde(skip)]
    pub classes: Vec<Ast>,
}

/// The class recorded for a direct-low customer of no listed class (L-CDD29).
pub const OWN_REASON_CLASS: &str = "institution_reason";

/// Regional coefficients (M2).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Regional {
    /// The customer column the coefficients are keyed by (`branch_id`).
    pub by: String,
    /// Coefficient × 10⁴ per key; 1 elsewhere.
    pub coefficients_e4: BTreeMap<String, i64>,
}

/// Resolves the regional coefficients (M2): > 0, ≤ 10, four decimals, keyed by branch.
pub(super) fn resolve_regional(raw: Option<RawRegional>) -> Result<Option<Regional>> {
    // Regional coefficients (M2).
    let regional = match raw {
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

    Ok(regional)
}

/// Resolves the exceptions: the built-in XH conditions in force, the institution's own (XH6)
/// with type-checked expressions and distinct ids, and the XL settings.
pub(super) fn resolve(
    raw: RawExceptions,
    declares_cdd: bool,
) -> Result<(DirectHighest, Option<DirectLow>)> {
    // Exceptions.
    let parse_expr = |key: &str, src: &str| -> Result<Ast> {
        expr::parse_checked(src).map_err(|e| {
            let shown: String = src.chars().take(80).collect();
            let more = if src.chars().count() > 80 { "…" } else { "" };
            err(key, format!("'{shown}{more}': {e}"))
        })
    };
    let dh = raw.direct_highest.unwrap_or(RawHighest {
        enabled: all_xh(),
        str_threshold: 2,
        custom: vec![],
        pep_kinds: None,
    });
    let mut enabled = Vec::new();
    for (i, e) in dh.enabled.iter().enumerate() {
        match Xh::parse(e) {
            Some(x) => enabled.push(x),
            None => {
                return Err(err(
                    &format!("exceptions.direct_highest.enabled[{i}]"),
                    format!("'{e}'; use xh1 to xh5 (xh6 is `custom`)"),
                ))
            }
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
        if !c.id.starts_with("xh6") || Xh::parse(&c.id).is_some() {
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
            label: c.label.clone().unwrap_or_else(|| {
                if c.description.is_empty() {
                    c.id.clone()
                } else {
                    c.description.clone()
                }
            }),
            ast: parse_expr(&format!("{key}.when"), &c.when)?,
        });
    }
    if let Some(kinds) = &dh.pep_kinds {
        for (i, k) in kinds.iter().enumerate() {
            if !crate::contract::PEP_RELATIONS.contains(&k.as_str()) || k == "none" {
                return Err(err(
                    &format!("exceptions.direct_highest.pep_kinds[{i}]"),
                    format!(
                        "'{k}' is not a PEP relation; use {}",
                        crate::contract::PEP_RELATIONS[1..].join(", ")
                    ),
                ));
            }
        }
    }
    let direct_highest = DirectHighest {
        enabled,
        str_threshold: dh.str_threshold,
        custom,
        pep_kinds: dh.pep_kinds,
    };
    let direct_low = match raw.direct_low {
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
            let mut classes = Vec::new();
            for (i, c) in l.classes.iter().enumerate() {
                let key = format!("exceptions.direct_low.classes[{i}]");
                if c.class.trim().is_empty() || l.classes[..i].iter().any(|x| x.class == c.class) {
                    return Err(err(
                        &format!("{key}.class"),
                        format!("'{}'; give each class its own id", c.class),
                    ));
                }
                classes.push(parse_expr(&format!("{key}.when"), &c.when)?);
            }
            // L-CDD29: simplified measures only after an assessment with recorded reasons.
            let reasoned =
                !l.classes.is_empty() || l.reason.as_deref().is_some_and(|r| !r.trim().is_empty());
            if declares_cdd && !reasoned {
                return Err(err(
                    "exceptions.direct_low",
                    "direct-low grading under L-CDD29 needs recorded reasons: give `reason` (the institution's own) or `classes` (the listed low-risk classes)",
                ));
            }
            Some(DirectLow {
                settings: l,
                eligible,
                classes,
            })
        }
        _ => None,
    };

    Ok((direct_highest, direct_low))
}
