//! The rulebook a model implements (`[rulebook]`): the 2013 guideline and the 2025-26 texts
//! (L-*, `../docs/rules.md`), with the date each took effect; which of them are in force on a
//! run's as-of date; and the settings of their rules: the grades counted as "higher risk or
//! above" and the legacy-book deadlines (L-CDD51, L-BO39).

use chrono::NaiveDate;

use super::err;
use super::raw::{RawReview, RulebookText};
use crate::error::Result;

/// The texts riskgrade knows, with their titles and effective dates.
pub const KNOWN_TEXTS: &[(&str, &str, &str)] = &[
    (
        "PBoC-2013",
        "Guideline on ML/TF risk assessment and customer classification of financial institutions (PBoC 2013 No. 2)",
        "2013-01-05",
    ),
    (
        "L-AML",
        "Anti-Money Laundering Law of the PRC, revised 2024-11-08",
        "2025-01-01",
    ),
    (
        "L-CDD",
        "Measures on customer due diligence and keeping of customer identity and transaction records (PBoC, NFRA, CSRC Order 2025 No. 11)",
        "2026-01-01",
    ),
    (
        "L-BO",
        "Measures on identifying beneficial owners of customers of financial institutions (PBoC Order 2025 No. 12)",
        "2026-01-20",
    ),
    (
        "L-BOI",
        "Measures on beneficial-owner information (PBoC and SAMR Order 2024 No. 3)",
        "2024-11-01",
    ),
    (
        "L-SP",
        "Measures on special preventive measures against money laundering (sanctions lists)",
        "2026-02-16",
    ),
];

fn date(key: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| err(key, format!("'{s}' is not a date; write YYYY-MM-DD")))
}

/// Resolves `[rulebook]`: the 2013 guideline alone when absent; ids once each, dates valid,
/// a known text's date its own.
pub(super) fn rulebook(raw: Option<Vec<RulebookText>>) -> Result<Vec<RulebookText>> {
    let texts = raw.unwrap_or_else(|| {
        vec![RulebookText {
            id: "PBoC-2013".into(),
            name: String::new(),
            effective: "2013-01-05".into(),
        }]
    });
    let mut out: Vec<RulebookText> = Vec::new();
    for (i, t) in texts.into_iter().enumerate() {
        let key = format!("rulebook.texts[{i}]");
        date(&format!("{key}.effective"), &t.effective)?;
        if out.iter().any(|o| o.id == t.id) {
            return Err(err(
                &format!("{key}.id"),
                format!("'{}' is declared twice; declare each text once", t.id),
            ));
        }
        let mut t = t;
        if let Some((_, name, effective)) = KNOWN_TEXTS.iter().find(|(id, _, _)| *id == t.id) {
            if t.effective != *effective {
                return Err(err(
                    &format!("{key}.effective"),
                    format!(
                        "{} took effect on {effective}, not {}; correct the date",
                        t.id, t.effective
                    ),
                ));
            }
            if t.name.is_empty() {
                t.name = name.to_string();
            }
        }
        out.push(t);
    }
    Ok(out)
}

/// The 2025-26 texts in force on a run's as-of date (set by [`super::Model::set_as_of`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InForce {
    /// L-CDD: review floor, re-grading triggers, direct-low only with reasons, PEP taxonomy,
    /// enhanced due diligence, legacy-book deadlines.
    pub cdd: bool,
    /// L-BO: beneficial owners identified and verified, their legacy-book deadline.
    pub bo: bool,
    /// L-SP: every customer screened again when a list changes.
    pub sp: bool,
}

/// The texts of `rulebook` in force on `as_of`.
pub fn in_force(rulebook: &[RulebookText], as_of: NaiveDate) -> InForce {
    let on = |id: &str| {
        rulebook.iter().any(|t| {
            t.id == id
                && NaiveDate::parse_from_str(&t.effective, "%Y-%m-%d").is_ok_and(|d| d <= as_of)
        })
    };
    InForce {
        cdd: on("L-CDD"),
        bo: on("L-BO"),
        sp: on("L-SP"),
    }
}

/// The legacy-book deadlines (L-CDD51, L-BO39): existing customers of a text's effective date
/// complete due diligence (and have their beneficial owners verified) by these dates, the
/// "higher risk or above" first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Legacy {
    /// L-CDD took effect: relationships started before are the legacy book.
    #[serde(serialize_with = "ymd")]
    pub cdd_effective: NaiveDate,
    /// Due diligence of higher-risk legacy customers completed by.
    #[serde(serialize_with = "ymd")]
    pub cdd_higher_risk_by: NaiveDate,
    /// Of every other legacy customer.
    #[serde(serialize_with = "ymd")]
    pub cdd_others_by: NaiveDate,
    /// L-BO took effect.
    #[serde(serialize_with = "ymd")]
    pub bo_effective: NaiveDate,
    /// Beneficial owners of higher-risk legacy entities verified by.
    #[serde(serialize_with = "ymd")]
    pub bo_higher_risk_by: NaiveDate,
    /// Of every other legacy entity.
    #[serde(serialize_with = "ymd")]
    pub bo_others_by: NaiveDate,
}

fn ymd<S: serde::Serializer>(d: &NaiveDate, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&d.to_string())
}

/// The review settings of the 2025-26 texts (`[review]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReviewLaw {
    /// The grades counted as "higher risk or above" (L-CDD51, L-BO39, L-CDD33).
    pub higher_risk_grades: Vec<String>,
    /// The legacy-book deadlines.
    pub legacy: Legacy,
}

/// Resolves `[review]`: the higher-risk grades default to the highest for three grades or
/// fewer, the two highest for more; the deadlines default to the texts'.
pub(super) fn review(raw: Option<RawReview>, grades: &[String]) -> Result<ReviewLaw> {
    let raw = raw.unwrap_or_default();
    let higher_risk_grades = match raw.higher_risk_grades {
        Some(g) => {
            for (i, name) in g.iter().enumerate() {
                if !grades.contains(name) {
                    return Err(err(
                        &format!("review.higher_risk_grades[{i}]"),
                        format!("'{name}' is not a grade; grades: {}", grades.join(", ")),
                    ));
                }
            }
            // Higher risk or above: the highest grades, contiguous from the top.
            let n = g.len();
            if grades.iter().take(n).any(|x| !g.contains(x)) {
                return Err(err(
                    "review.higher_risk_grades",
                    format!(
                        "{g:?}; name the {n} highest grades ({}): 'higher risk or above' runs from the top",
                        grades[..n.min(grades.len())].join(", ")
                    ),
                ));
            }
            g
        }
        None => grades[..if grades.len() <= 3 { 1 } else { 2 }].to_vec(),
    };
    let l = raw.legacy.unwrap_or_default();
    let d = |key: &str, v: Option<String>, default: &str| {
        date(
            &format!("review.legacy.{key}"),
            v.as_deref().unwrap_or(default),
        )
    };
    let legacy = Legacy {
        cdd_effective: d("cdd_effective", l.cdd_effective, "2026-01-01")?,
        cdd_higher_risk_by: d("cdd_higher_risk_by", l.cdd_higher_risk_by, "2026-06-30")?,
        cdd_others_by: d("cdd_others_by", l.cdd_others_by, "2027-12-31")?,
        bo_effective: d("bo_effective", l.bo_effective, "2026-01-20")?,
        bo_higher_risk_by: d("bo_higher_risk_by", l.bo_higher_risk_by, "2026-07-19")?,
        bo_others_by: d("bo_others_by", l.bo_others_by, "2028-01-19")?,
    };
    Ok(ReviewLaw {
        higher_risk_grades,
        legacy,
    })
}
