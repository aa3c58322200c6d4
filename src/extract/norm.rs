//! The `Norm` column: the basis of a grade in the institution's language. A scored grade lists
//! each criterion with its points (`与现金的关联程度 3分; 跨境交易 1分; …`) in model order; a
//! grade given directly names the reason (the XH conditions met, the XL route), a grade set by
//! hand says so and what the system scored. At most 500 characters: a longer text keeps the
//! whole criteria that fit and ends with `; 另有N项` (N more).

use polars::prelude::*;

use super::run::Run;
use crate::model::Xh;

/// Most characters of a `Norm` value.
pub const MAX_CHARS: usize = 500;

/// Cuts `text` (criteria joined by `; `) to at most [`MAX_CHARS`] characters at a criterion's
/// end, saying how many were left out.
pub fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_CHARS {
        return text.to_string();
    }
    let parts: Vec<&str> = text.split("; ").collect();
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        let candidate = if out.is_empty() {
            p.to_string()
        } else {
            format!("{out}; {p}")
        };
        let suffix = format!("; 另有{}项", parts.len() - i - 1);
        let room = if i + 1 == parts.len() {
            0
        } else {
            suffix.chars().count()
        };
        if candidate.chars().count() + room > MAX_CHARS {
            let left = parts.len() - i;
            let suffix = format!("; 另有{left}项");
            // Nothing fits before the suffix: cut the first criterion itself.
            if out.is_empty() {
                let keep = MAX_CHARS - suffix.chars().count();
                out = p.chars().take(keep).collect();
                return format!("{out}; 另有{}项", left - 1);
            }
            return format!("{out}{suffix}");
        }
        out = candidate;
    }
    out
}

/// A string column mapped row by row through `f` (nulls stay null).
fn map_str(e: Expr, f: impl Fn(&str) -> String + Send + Sync + 'static) -> Expr {
    e.map(
        move |c| {
            let out: StringChunked = c.str()?.iter().map(|v| v.map(&f)).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, fl| Ok(Field::new(fl.name().clone(), DataType::String)),
    )
}

/// [`shorten`] over a column; a column with no value over the limit is passed as it is.
fn shorten_all(e: Expr) -> Expr {
    e.map(
        |c| {
            let ca = c.str()?;
            let long = |v: &str| v.len() > MAX_CHARS && v.chars().count() > MAX_CHARS;
            if !ca.iter().flatten().any(long) {
                return Ok(c);
            }
            let out: StringChunked = ca.iter().map(|v| v.map(shorten)).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, fl| Ok(Field::new(fl.name().clone(), DataType::String)),
    )
}

/// Each adopted sub-item with its score, in model order (`label 3分`): each score is looked up
/// in the sub-item's ready-made texts, then the texts are joined.
fn scored(run: &Run) -> Expr {
    let levels: Vec<u8> = (1..=run.levels).collect();
    let items: Vec<Expr> = run
        .subitems
        .iter()
        .map(|(id, label)| {
            let texts: Vec<String> = levels.iter().map(|k| format!("{label} {k}分")).collect();
            crate::frame::lookup(
                col(id.as_str()).cast(DataType::UInt8),
                levels.clone(),
                texts,
                lit(NULL).cast(DataType::String),
                DataType::String,
            )
        })
        .collect();
    if items.is_empty() {
        return lit("");
    }
    concat_str(items, "; ", true)
}

/// The direct-highest conditions met (`xh1+xh4`) in the guideline's or the model's words.
fn direct_highest(run: &Run) -> Expr {
    let labels: Vec<(String, String)> = Xh::ALL
        .iter()
        .map(|x| (x.id().to_string(), x.label_zh().to_string()))
        .chain(run.custom_xh.iter().cloned())
        .collect();
    map_str(col("direct_highest"), move |ids| {
        let named: Vec<String> = ids
            .split('+')
            .map(|id| {
                labels
                    .iter()
                    .find(|(x, _)| x == id)
                    .map_or(id.to_string(), |(_, l)| l.clone())
            })
            .collect();
        format!("直接评定为最高风险: {}", named.join("; "))
    })
}

const DIRECT_LOW: &str = "直接评定为低风险: 风险程度显著较低且预估能够有效控制其风险";

/// A direct-low grade's basis: the guideline's words, or (L-CDD29) its recorded class.
fn direct_low(run: &Run) -> Expr {
    if run.low_classes.is_empty() && run.low_reason.is_none() {
        return lit(DIRECT_LOW);
    }
    let mut names: Vec<String> = run.low_classes.iter().map(|c| c.0.clone()).collect();
    let mut labels: Vec<String> = run.low_classes.iter().map(|c| c.1.clone()).collect();
    names.push(crate::model::OWN_REASON_CLASS.into());
    labels.push(
        run.low_reason
            .clone()
            .unwrap_or_else(|| DIRECT_LOW_REASON.into()),
    );
    concat_str(
        [
            lit("直接评定为低风险: "),
            crate::frame::lookup(
                col("direct_low_class"),
                names,
                labels,
                lit(DIRECT_LOW_REASON),
                DataType::String,
            ),
        ],
        "",
        false,
    )
}

const DIRECT_LOW_REASON: &str = "风险程度显著较低且预估能够有效控制其风险";

/// The basis of the run's final grade of a customer (over the scores columns).
pub fn current(run: &Run) -> Expr {
    // XH3 from the ownership graph names the beneficial owner behind it.
    let xh3 = col("direct_highest")
        .map(
            |c| {
                let out: BooleanChunked = c
                    .str()?
                    .iter()
                    .map(|v| Some(v.is_some_and(|v| v.split('+').any(|x| x == Xh::Xh3.id()))))
                    .collect();
                Ok(out.with_name(c.name().clone()).into_column())
            },
            |_, fl| Ok(Field::new(fl.name().clone(), DataType::Boolean)),
        )
        .and(col(super::run::XH3_OWNER).is_not_null());
    let computed = when(xh3)
        .then(concat_str(
            [direct_highest(run), lit("; "), col(super::run::XH3_OWNER)],
            "",
            false,
        ))
        .when(col("direct_highest").is_not_null())
        .then(direct_highest(run))
        .when(col("basis").eq(lit("direct_low")))
        .then(direct_low(run))
        .otherwise(scored(run));
    let text = when(col("basis").eq(lit("override")))
        .then(concat_str(
            [lit("人工认定; 系统评定: "), computed.clone()],
            "",
            false,
        ))
        .otherwise(computed);
    shorten_all(text)
}

/// The basis of an earlier grading, from the history's basis and total.
pub fn historic() -> Expr {
    let total = col("total_score")
        .round(2, RoundMode::HalfToEven)
        .cast(DataType::String);
    when(col("basis").eq(lit("direct_highest")))
        .then(lit("直接评定为最高风险"))
        .when(col("basis").eq(lit("direct_low")))
        .then(lit("直接评定为低风险"))
        .when(col("basis").eq(lit("override")))
        .then(lit("人工认定"))
        .otherwise(concat_str([lit("综合评分 "), total, lit("分")], "", false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_stay_and_long_ones_end_at_a_criterion() {
        assert_eq!(shorten("甲 1分; 乙 2分"), "甲 1分; 乙 2分");
        let item = "与现金的关联程度 3分"; // 11 characters
        let text = vec![item; 60].join("; "); // 60·11 + 59·2 = 778 characters
        let out = shorten(&text);
        assert!(out.chars().count() <= MAX_CHARS, "{}", out.chars().count());
        // k whole items take 13k − 2 characters, "; 另有22项" 7 more: 38 items give
        // 492 + 7 = 499 ≤ 500, 39 would give 505.
        assert!(out.ends_with("; 另有22项"), "{out}");
        assert_eq!(out.matches(item).count(), 38);
    }
}
