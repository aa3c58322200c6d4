//! Grades and their bands of total score (W4), review periods (T2) and measures (C1, C2).
//! Bounds are held × 10⁴ as integers so the comparison with a total is exact.

use std::collections::BTreeSet;

use super::raw::RawGrade;
use super::{err, E4, INTERVAL_HELP};
use crate::error::Result;

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
    /// The grade's name, as written to outputs.
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
    /// Why the review period is what it is (P5; required for a highest grade reviewed less
    /// often than every six months, L-CDD25).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub review_rationale: String,
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

/// Splits "(a, b]" into its parts.
pub(super) fn split_interval(s: &str) -> Option<(bool, &str, &str, bool)> {
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

/// Resolves the grades: at least three, bands that cover exactly [100/m, 100] from the highest
/// down (W3, W4), review periods that at most double from one grade to the next (T2).
pub(super) fn resolve(raw: &[RawGrade], m: u8) -> Result<(Vec<Grade>, Vec<String>)> {
    if raw.len() < 3 {
        return Err(err(
            "grades",
            format!("{} grades; W4 asks for at least three", raw.len()),
        ));
    }
    let mut grades = Vec::new();
    let mut names = BTreeSet::new();
    for (i, g) in raw.iter().enumerate() {
        let key = format!("grades[{i}] ({})", g.name);
        if g.name.trim().is_empty() || !names.insert(g.name.clone()) {
            return Err(err(&key, "grade names must be non-empty and distinct"));
        }
        grades.push(grade(&key, g, m)?);
    }
    let grades = cover(grades, m)?;
    let warnings = review_periods(&grades)?;
    Ok((grades, warnings))
}

/// One grade as written, with its lower bound (`None`: `min`).
fn grade(key: &str, g: &RawGrade, m: u8) -> Result<(Option<i64>, Grade)> {
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
    Ok((
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
            review_rationale: g.review_rationale.clone(),
        },
    ))
}

/// Orders the grades from the highest band down and checks that the bands cover exactly
/// [100/m, 100] (W3, W4): the highest ends at 100 inclusive, neighbours meet at one value that
/// exactly one includes, the lowest starts at `min` and reaches the minimum total.
fn cover(mut grades: Vec<(Option<i64>, Grade)>, m: u8) -> Result<Vec<Grade>> {
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
    Ok(grades)
}

/// T2 and L-CDD25: the highest grade is reviewed at least once a year whatever the rationale
/// (the legal floor, L-CDD25); more rarely than every six months (T2) only with a recorded
/// rationale (P5), and with a warning naming both rules. Each lower grade at most twice as
/// rarely as the grade above it (T2). Returns the warnings.
fn review_periods(grades: &[Grade]) -> Result<Vec<String>> {
    let top = &grades[0];
    let key = format!("grade {}.review_months", top.name);
    let mut warnings = Vec::new();
    if top.review_months > 12 {
        return Err(err(
            &key,
            format!(
                "{} months; the highest grade is reviewed at least once a year whatever the rationale (L-CDD25; T2 asks for every six months)",
                top.review_months
            ),
        ));
    }
    if top.review_months > 6 {
        if top.review_rationale.trim().is_empty() {
            return Err(err(
                &key,
                format!(
                    "{} months; T2 asks the highest grade to be reviewed every six months: up to 12 (L-CDD25's floor) only with a recorded review_rationale (P5)",
                    top.review_months
                ),
            ));
        }
        warnings.push(format!(
            "{key}: {} months, more than the six of T2 (the 12 of L-CDD25 are the legal floor), on the recorded rationale: {}",
            top.review_months, top.review_rationale
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
    Ok(warnings)
}
