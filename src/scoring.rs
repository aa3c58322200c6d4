//! Sub-item scores, weighted totals, grades and exceptions, as Polars expressions over whole
//! columns. Three separable stages:
//! 1. [`subitem_scores`]: features → segment and one small-integer score per sub-item (S*, PR3);
//! 2. [`totals_and_grades`]: sub-item scores → exact weighted total (W3), regional coefficient
//!    (M2) and scored grade (W4) — the only stage a weight benchmark has to repeat;
//! 3. [`exceptions`]: direct-highest (XH) and direct-low (XL) on top of the scored grade.
//!
//! Exact arithmetic: weights are held × 100 and band bounds and coefficients × 10⁴, so the
//! total Σ aᵢ·pᵢ / m is compared with a band bound as integers: a total of exactly 60 or 80
//! lands in the band the model says, never one float step away.

use polars::lazy::dsl;
use polars::prelude::*;

use crate::catalog::{LAW_COLUMNS, RESULT_COLUMNS};
use crate::model::{Model, Rule, RuleKind, Tenure, Xh, E2, E4, OWN_REASON_CLASS};

/// Output column: the segment each customer is scored in.
pub const SEGMENT: &str = "segment";

fn null_u8() -> Expr {
    lit(NULL).cast(DataType::UInt8)
}

/// The score one rule gives, null where the feature is missing or no bin/category matches
/// (whether the rule applies to the customer aside).
pub fn rule_score(feature: &str, kind: &RuleKind) -> Expr {
    let x = col(feature);
    match kind {
        RuleKind::Bins(bins) => {
            let mut chain: Option<ChainedThen> = None;
            let mut first: Option<Then> = None;
            for (iv, s) in bins {
                let lo = if iv.lo.is_infinite() {
                    lit(true)
                } else if iv.lo_inc {
                    x.clone().cast(DataType::Float64).gt_eq(lit(iv.lo))
                } else {
                    x.clone().cast(DataType::Float64).gt(lit(iv.lo))
                };
                let hi = if iv.hi.is_infinite() {
                    lit(true)
                } else if iv.hi_inc {
                    x.clone().cast(DataType::Float64).lt_eq(lit(iv.hi))
                } else {
                    x.clone().cast(DataType::Float64).lt(lit(iv.hi))
                };
                let cond = lo.and(hi).and(x.clone().is_not_null());
                let v = lit(*s);
                match (first.take(), chain.take()) {
                    (None, None) => first = Some(when(cond).then(v)),
                    (Some(t), None) => chain = Some(t.when(cond).then(v)),
                    (_, Some(c)) => chain = Some(c.when(cond).then(v)),
                }
            }
            match (first, chain) {
                (_, Some(c)) => c.otherwise(null_u8()),
                (Some(t), None) => t.otherwise(null_u8()),
                _ => null_u8(),
            }
        }
        RuleKind::Map(map, default) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let vals: Vec<u8> = map.values().cloned().collect();
            let mapped = x.clone().replace_strict(
                lit(Series::new("k".into(), keys)),
                lit(Series::new("v".into(), vals)),
                Some(match default {
                    Some(d) => lit(*d),
                    None => null_u8(),
                }),
                Some(DataType::UInt8),
            );
            when(x.is_null()).then(null_u8()).otherwise(mapped)
        }
        RuleKind::Flag { if_true, if_false } => when(x.clone().is_null())
            .then(null_u8())
            .when(x)
            .then(lit(*if_true))
            .otherwise(lit(*if_false)),
    }
}

/// Expression giving each customer's segment name (W1, W5 groups).
pub fn segment_expr(model: &Model) -> Expr {
    let new_days = model.params.new_customer_days as i32;
    let mut out = lit(NULL).cast(DataType::String);
    for s in model.segments.iter().rev() {
        let mut cond = col("kind").eq(lit(s.kind.clone()));
        match s.tenure {
            Some(Tenure::New) => cond = cond.and(col("tenure_days").lt_eq(lit(new_days))),
            Some(Tenure::Existing) => cond = cond.and(col("tenure_days").gt(lit(new_days))),
            None => {}
        }
        out = when(cond).then(lit(s.name.clone())).otherwise(out);
    }
    out
}

/// `segment IN (segments adopting sub-item id)`.
fn adopted(model: &Model, id: &str) -> Expr {
    model
        .segments
        .iter()
        .filter(|s| s.weight_e2(id) > 0)
        .map(|s| col(SEGMENT).eq(lit(s.name.clone())))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false))
}

/// Name of the per-customer flag column of a direct-highest condition.
pub fn xh_col(id: &str) -> String {
    format!("_xh_{id}")
}

/// Name of the per-customer flag column of a direct-low disqualifier.
pub fn xl_col(id: &str) -> String {
    format!("_xl_{id}")
}

/// Name of the hidden column marking a sub-item scored on missing data.
pub fn missing_col(id: &str) -> String {
    format!("_missing_{id}")
}

/// `kind IN kinds`, or `None` when the rule applies to every customer.
fn applies_expr(kinds: &[String]) -> Option<Expr> {
    if crate::contract::KINDS
        .iter()
        .all(|k| kinds.iter().any(|g| g == k))
    {
        return None;
    }
    kinds
        .iter()
        .map(|k| col("kind").eq(lit(k.clone())))
        .reduce(|a, b| a.or(b))
}

/// Where rule `r` applies (`None`: to every customer): to the customer kinds it names, and a
/// rule over a feature of the ownership graph only where the book has one (not null).
pub fn rule_applies(r: &Rule) -> Option<Expr> {
    let on = applies_expr(&r.kinds);
    if !crate::catalog::GRAPH_FEATURES.contains(&r.feature.as_str()) {
        return on;
    }
    let has = col(r.feature.as_str()).is_not_null();
    Some(on.map_or(has.clone(), |on| on.and(has)))
}

/// Stage 1: adds `segment`, one `u8` score column per sub-item (null where the customer's
/// segment does not adopt it) and the `missing_subitems` list (PR3). A rule that does not apply
/// to the customer's kind gives no score and does not mark the sub-item missing; the model
/// guarantees that an adopted sub-item has a rule that applies.
pub fn subitem_scores(features: LazyFrame, model: &Model) -> LazyFrame {
    let lf = features.with_column(segment_expr(model).alias(SEGMENT));
    let mut cols = Vec::new();
    let mut missing = Vec::new();
    for s in &model.subitems {
        let (mut score, mut any_missing) = rules_score(&s.rules, s.missing_score);
        // M2: where an overlay covers the customer's branch, its rules score the sub-item.
        for o in &model.overlays {
            if let (Some(rules), false) = (o.rules.get(&s.id), o.applies_to.is_empty()) {
                let (os, om) = rules_score(rules, s.missing_score);
                let here = in_branches(&o.applies_to);
                score = when(here.clone()).then(os).otherwise(score);
                any_missing = when(here).then(om).otherwise(any_missing);
            }
        }
        let on = adopted(model, &s.id);
        cols.push(
            when(on.clone())
                .then(score)
                .otherwise(null_u8())
                .alias(s.id.as_str()),
        );
        cols.push(on.and(any_missing).alias(missing_col(&s.id)));
        missing.push((s.id.clone(), col(missing_col(&s.id))));
    }
    lf.with_columns(cols)
        .with_column(names_where(missing, ",").alias("missing_subitems"))
}

/// A sub-item's score by `rules` (the highest of the rules that apply; the missing score where
/// a rule that applies has no value, PR3) and whether it was scored on missing data.
fn rules_score(rules: &[Rule], missing_score: u8) -> (Expr, Expr) {
    let mut filled = Vec::new();
    let mut any_missing: Option<Expr> = None;
    for r in rules {
        let raw = rule_score(&r.feature, &r.kind);
        let (miss, score) = match rule_applies(r) {
            None => (raw.clone().is_null(), raw.fill_null(lit(missing_score))),
            Some(on) => (
                on.clone().and(raw.clone().is_null()),
                when(on)
                    .then(raw.fill_null(lit(missing_score)))
                    .otherwise(null_u8()),
            ),
        };
        any_missing = Some(match any_missing {
            None => miss,
            Some(a) => a.or(miss),
        });
        filled.push(score);
    }
    (
        dsl::max_horizontal(filled).expect("at least one rule"),
        any_missing.unwrap_or(lit(false)),
    )
}

/// Per-segment weight × 100 of a sub-item as an expression over `segment`.
fn weight_expr(model: &Model, id: &str) -> Expr {
    let mut e = lit(0i64);
    for s in &model.segments {
        let w = s.weight_e2(id);
        if w > 0 {
            e = when(col(SEGMENT).eq(lit(s.name.clone())))
                .then(lit(w))
                .otherwise(e);
        }
    }
    e
}

/// Per-segment contribution aᵢ·(pᵢ×100) of every sub-item, as expressions over the score
/// columns and `segment`.
pub fn contributions(model: &Model) -> Vec<Expr> {
    model
        .subitems
        .iter()
        .map(|s| {
            col(s.id.as_str())
                .cast(DataType::Int64)
                .fill_null(lit(0i64))
                * weight_expr(model, &s.id)
        })
        .collect()
}

/// `num / den` for an integer column, as the double nearest to the exact quotient: one IEEE
/// division per value (correctly rounded). Polars' own division by a literal multiplies by the
/// reciprocal, which can land one float step away (23.400000000000002 for 11700 / 500); an
/// examiner re-deriving a grade from the floats on file must see the exact quotient. Integers
/// here stay far below 2⁵³, so the conversions are exact too.
pub fn exact_ratio(num: Expr, den: i64) -> Expr {
    let d = den as f64;
    num.cast(DataType::Int64).map(
        move |c: Column| {
            let out: Float64Chunked = c.i64()?.iter().map(|v| v.map(|v| v as f64 / d)).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f: &Field| Ok(Field::new(f.name().clone(), DataType::Float64)),
    )
}

/// Stage 2: from the sub-item scores, the exact weighted sum Σ aᵢ·(pᵢ×100) (`weighted_sum`),
/// `total_score` = Σ aᵢ·pᵢ / m (W3), the regional coefficient (M2), `adjusted_score` =
/// min(100, total × coefficient) and `scored_grade` (W4). This is all a weight benchmark has to
/// recompute for another weight vector or band table.
pub fn totals_and_grades(scores: LazyFrame, model: &Model) -> LazyFrame {
    let m = model.m() as i64;
    let weighted = contributions(model)
        .into_iter()
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0i64));
    let coef = match &model.regional {
        Some(r) if !r.coefficients_e4.is_empty() => {
            let (k, v): (Vec<String>, Vec<i64>) = r
                .coefficients_e4
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .unzip();
            col(r.by.as_str()).replace_strict(
                lit(Series::new("k".into(), k)),
                lit(Series::new("v".into(), v)),
                Some(lit(E4)),
                Some(DataType::Int64),
            )
        }
        _ => lit(E4),
    };
    // adjusted × (100·m·10⁴): weighted_sum × coefficient×10⁴, capped at 100.
    let cap = 100 * E2 * m * E4;
    let adj = col("weighted_sum") * col("_coef_e4");
    let adj = when(adj.clone().gt(lit(cap))).then(lit(cap)).otherwise(adj);
    let mut grade: Expr = lit(model.lowest().name.clone());
    for g in model.grades.iter().rev().skip(1) {
        let bound = g.lower.e4 * E2 * m;
        let cond = if g.lower.inclusive {
            col("_adj").gt_eq(lit(bound))
        } else {
            col("_adj").gt(lit(bound))
        };
        grade = when(cond).then(lit(g.name.clone())).otherwise(grade);
    }
    scores
        .with_columns([weighted.alias("weighted_sum"), coef.alias("_coef_e4")])
        .with_column(adj.alias("_adj"))
        .with_columns([
            exact_ratio(col("weighted_sum"), E2 * m).alias("total_score"),
            exact_ratio(col("_coef_e4"), E4).alias("regional_coefficient"),
            exact_ratio(col("_adj"), E2 * m * E4).alias("adjusted_score"),
            grade.alias("scored_grade"),
        ])
}

/// `top_subitems`: the three sub-items contributing most to the total (a·p), largest first,
/// comma-joined; a tie goes to the sub-item listed first, and a sub-item contributing nothing
/// is not named. One pass over the rows ([`top_names`]): as rounds of horizontal maxima over
/// keyed copies of the contributions, the engine took about a fifth of the scoring query.
pub fn top_contributors(scores: LazyFrame, model: &Model) -> LazyFrame {
    let ids: Vec<String> = model.subitems.iter().map(|s| s.id.clone()).collect();
    let names = dsl::map_multiple(
        move |cols| top_names(cols, &ids),
        contributions(model),
        |_, _| Ok(Field::new("top_subitems".into(), DataType::String)),
    );
    scores.with_column(names.alias("top_subitems"))
}

/// The names (`ids`, in the sub-items' order) of the three largest positive contributions
/// `cols` of each row, largest first, the earlier sub-item first among equals; a null
/// contribution is none.
fn top_names(cols: &[Column], ids: &[String]) -> PolarsResult<Column> {
    let rows = cols.first().map_or(0, |c| c.len());
    let cols: Vec<Int64Chunked> = cols
        .iter()
        .map(|c| Ok(c.cast(&DataType::Int64)?.i64()?.rechunk().into_owned()))
        .collect::<PolarsResult<_>>()?;
    let cols: Vec<_> = cols.iter().map(|c| c.downcast_as_array()).collect();
    let mut out = StringChunkedBuilder::new("top_subitems".into(), rows);
    let mut text = String::new();
    for row in 0..rows {
        // (contribution, position) of the three largest so far, largest first.
        let mut top: [(i64, usize); 3] = [(0, 0); 3];
        let mut held = 0;
        for (i, c) in cols.iter().enumerate() {
            let Some(v) = c.get(row).filter(|v| *v >= 1) else {
                continue;
            };
            // Earlier sub-items come first, so a later one passes only a smaller value.
            let at = top[..held].iter().position(|(t, _)| v > *t).unwrap_or(held);
            if at < 3 {
                top.copy_within(at..2, at + 1);
                top[at] = (v, i);
                held = (held + 1).min(3);
            }
        }
        text.clear();
        for (k, (_, i)) in top[..held].iter().enumerate() {
            if k > 0 {
                text.push(',');
            }
            text.push_str(&ids[*i]);
        }
        out.append_value(&text);
    }
    Ok(out.finish().into_column())
}

/// The direct-highest conditions in force (XH1–XH6) as (id, predicate) pairs. XH2 and XH3
/// read the PEP relations the model counts (former foreign PEPs too from L-CDD33 on).
pub fn xh_conditions(model: &Model) -> Vec<(String, Expr)> {
    let kinds = model.direct_highest.pep_kinds(model.law);
    let pep = |c: &str| {
        kinds
            .iter()
            .map(|k| col(c).eq(lit(k.clone())))
            .reduce(|a, b| a.or(b))
            .unwrap_or(lit(false))
            .fill_null(lit(false))
    };
    let dh = &model.direct_highest;
    let mut out = Vec::new();
    for x in &dh.enabled {
        let e = match x {
            Xh::Xh1 => col("watchlist_hit").fill_null(lit(false)),
            Xh::Xh2 => pep("pep_relation"),
            Xh::Xh3 => pep("controller_pep_relation")
                .or(col("controller_watchlist_hit").fill_null(lit(false))),
            Xh::Xh4 => col("str_count")
                .gt_eq(lit(dh.str_threshold))
                .fill_null(lit(false)),
            Xh::Xh5 => col("refuses_cdd").fill_null(lit(false)),
        };
        out.push((x.id().to_string(), e));
    }
    for c in &dh.custom {
        out.push((c.id.clone(), c.ast.to_predicate()));
    }
    out
}

/// The six direct-low disqualifiers (XL1–XL6). Unknown net assets or residence disqualify
/// (the customer cannot be shown to be low risk); unknown premiums count as none.
pub fn xl_disqualifiers(model: &Model) -> Vec<(&'static str, Expr)> {
    let Some(low) = &model.direct_low else {
        return vec![];
    };
    let s = &low.settings;
    let natural = col("kind").eq(lit("natural"));
    let nfa = col("net_financial_assets");
    let life = col("annual_life_premium").fill_null(lit(0.0));
    let single = col("noncash_single_premium").fill_null(lit(0.0));
    let xl1 = nfa
        .clone()
        .gt(when(natural)
            .then(lit(s.net_assets_natural_cny))
            .otherwise(lit(s.net_assets_non_natural_cny)))
        .fill_null(lit(true))
        .or(life.clone().gt(lit(s.life_premium_cny)))
        .or(life.gt(lit(s.life_premium_usd * s.usd_cny_rate)))
        .or(single.clone().gt(lit(s.single_premium_cny)))
        .or(single.gt(lit(s.single_premium_usd * s.usd_cny_rate)));
    let t = |c: &str, unknown: bool| col(c).fill_null(lit(unknown));
    // L-CDD29: never on suspicion, and only with reasons; each of these on when the model
    // declares L-CDD (in force on the as-of date), unless the model sets it.
    let d = &s.disqualify;
    let on = |x: Option<bool>| x.unwrap_or(model.law.cdd);
    let mut lcdd: Vec<(&'static str, Expr)> = Vec::new();
    if on(d.pep) {
        lcdd.push((
            "xl_pep",
            col("pep_relation")
                .neq(lit("none"))
                .fill_null(lit(true))
                .or(col("controller_pep_relation")
                    .neq(lit("none"))
                    .fill_null(lit(false))),
        ));
    }
    if on(d.watchlist) {
        lcdd.push((
            "xl_watchlist",
            t("watchlist_hit", true).or(t("controller_watchlist_hit", false)),
        ));
    }
    if on(d.fatf_country) {
        lcdd.push((
            "xl_fatf_country",
            col("country_fatf_level")
                .gt_eq(lit(1))
                .fill_null(lit(false)),
        ));
    }
    if on(d.id_expired) {
        lcdd.push(("xl_id_expired", t("id_expired", false)));
    }
    if on(d.investigation) {
        lcdd.push((
            "xl_investigation",
            col("alert_level").gt_eq(lit(2)).fill_null(lit(false)),
        ));
    }
    if d.bo_unidentified.unwrap_or(model.law.bo) {
        lcdd.push((
            "xl_bo_unidentified",
            col("bo_identified").not().fill_null(lit(false)),
        ));
    }
    let mut all = vec![
        ("xl1", xl1),
        (
            "xl2",
            t("correspondent_relation", true).or(t("trust_relation", true)),
        ),
        (
            "xl3",
            t("non_resident", true).or(t("foreign_id_document", true)),
        ),
        (
            "xl4",
            col("str_count").gt_eq(lit(1u32)).fill_null(lit(true)),
        ),
        ("xl5", t("onboarding_proxy", true)),
        ("xl6", t("refuses_cdd", true)),
    ];
    all.extend(lcdd);
    all
}

/// Bits of the `_law` column: the facts the 2025-26 rules read after scoring (enhanced due
/// diligence, L-CDD26's expired document, L-CDD30's refusal).
pub mod law_bits {
    /// A foreign PEP (current, former, related) as customer or controller (L-CDD33).
    pub const FOREIGN_PEP: u8 = 1;
    /// A senior manager of an international organisation (L-CDD33, enhanced when higher risk).
    pub const IO_MANAGER: u8 = 2;
    /// Under investigation or alert: alert level 2 or more (L-CDD28).
    pub const INVESTIGATION: u8 = 4;
    /// A country under increased monitoring or a call for action among its countries (L-CDD40).
    pub const MONITORED_COUNTRY: u8 = 8;
    /// Refuses due diligence (L-CDD30).
    pub const CDD_REFUSED: u8 = 16;
    /// The identity document has expired (L-CDD26).
    pub const ID_EXPIRED: u8 = 32;
}

/// The PEP relations of foreign PEPs: current, former, and the persons related to them
/// (L-CDD33).
pub const FOREIGN_PEPS: [&str; 4] = [
    "foreign_pep",
    "former_foreign_pep",
    "relative",
    "close_associate",
];

/// `_law`: the [`law_bits`] of each customer.
fn law_flags() -> Expr {
    let any_of = |c: &str, kinds: &[&str]| {
        kinds
            .iter()
            .map(|k| col(c).eq(lit(*k)))
            .reduce(|a, b| a.or(b))
            .expect("kinds")
            .fill_null(lit(false))
    };
    let bit = |b: u8, e: Expr| {
        when(e.fill_null(lit(false)))
            .then(lit(b))
            .otherwise(lit(0u8))
    };
    bit(
        law_bits::FOREIGN_PEP,
        any_of("pep_relation", &FOREIGN_PEPS).or(any_of("controller_pep_relation", &FOREIGN_PEPS)),
    ) + bit(
        law_bits::IO_MANAGER,
        any_of("pep_relation", &["io_senior_manager"])
            .or(any_of("controller_pep_relation", &["io_senior_manager"])),
    ) + bit(law_bits::INVESTIGATION, col("alert_level").gt_eq(lit(2)))
        + bit(
            law_bits::MONITORED_COUNTRY,
            col("country_fatf_level").gt_eq(lit(1)),
        )
        + bit(law_bits::CDD_REFUSED, col("refuses_cdd"))
        + bit(law_bits::ID_EXPIRED, col("id_expired"))
}

/// `screening` (L-SP13): what screening against the lists found, as three characters: the
/// customer's watch-list hit (0, 1), its controller's (0, 1, `-` none), the worst FATF status
/// among its countries (0 none, 1 increased monitoring, 2 call for action, `-` unknown).
fn screening() -> Expr {
    let flag = |c: &str, none: &str| {
        when(col(c).is_null())
            .then(lit(none.to_string()))
            .when(col(c))
            .then(lit("1"))
            .otherwise(lit("0"))
    };
    let fatf = when(col("country_fatf_level").is_null())
        .then(lit("-"))
        .otherwise(col("country_fatf_level").cast(DataType::String));
    concat_str(
        [
            flag("watchlist_hit", "0"),
            flag("controller_watchlist_hit", "-"),
            fatf,
        ],
        "",
        false,
    )
}

/// `direct_low_class` (L-CDD29): for a direct-low grade, the first listed low-risk class the
/// customer is in, else the institution's own reason ([`OWN_REASON_CLASS`]); null otherwise.
fn direct_low_class(model: &Model) -> Expr {
    let none = lit(NULL).cast(DataType::String);
    let Some(low) = &model.direct_low else {
        return none;
    };
    let mut class: Expr = lit(OWN_REASON_CLASS);
    for (c, ast) in low.settings.classes.iter().zip(&low.classes).rev() {
        class = when(ast.to_predicate().fill_null(lit(false)))
            .then(lit(c.class.clone()))
            .otherwise(class);
    }
    when(col("basis").eq(lit("direct_low")))
        .then(class)
        .otherwise(none)
}

/// `overlay`: the branch-level adjustment covering the customer's branch (M2), null where none.
fn overlay_name(model: &Model) -> Expr {
    let mut e = lit(NULL).cast(DataType::String);
    for o in model.overlays.iter().rev() {
        if o.applies_to.is_empty() {
            continue;
        }
        e = when(in_branches(&o.applies_to))
            .then(lit(o.name.clone()))
            .otherwise(e);
    }
    e
}

/// `branch_id IN branches`.
fn in_branches(branches: &[String]) -> Expr {
    col("branch_id")
        .cast(DataType::String)
        .is_in(
            lit(Series::new("b".into(), branches.to_vec())).implode(false),
            false,
        )
        .fill_null(lit(false))
}

/// Conditions read as the bits of one integer by [`names_where`]: a table of 2^10 lists.
const NAMES_PER_TABLE: usize = 10;

/// The names whose condition holds (a null condition does not), joined by `sep`, in the order
/// given; null when none does.
///
/// Each group of up to [`NAMES_PER_TABLE`] conditions is read as the bits of one integer and
/// looked up in the table of every combination's joined names, and the groups' lists are
/// joined: per row, one integer lookup a group instead of one text column a condition joined.
pub fn names_where(parts: Vec<(String, Expr)>, sep: &str) -> Expr {
    if parts.is_empty() {
        return lit(NULL).cast(DataType::String);
    }
    let lists: Vec<Expr> = parts
        .chunks(NAMES_PER_TABLE)
        .map(|group| {
            let bits = group
                .iter()
                .enumerate()
                .map(|(i, (_, e))| {
                    e.clone().fill_null(lit(false)).cast(DataType::UInt16) * lit(1u16 << i)
                })
                .reduce(|a, b| a + b)
                .expect("a group holds a condition");
            let combos: Vec<u16> = (0..1u16 << group.len()).collect();
            let lists: Vec<Option<String>> = combos
                .iter()
                .map(|k| {
                    let names: Vec<&str> = group
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| k >> i & 1 == 1)
                        .map(|(_, (name, _))| name.as_str())
                        .collect();
                    (!names.is_empty()).then(|| names.join(sep))
                })
                .collect();
            bits.replace_strict(
                lit(Series::new("k".into(), combos)),
                lit(Series::new("v".into(), lists)),
                None,
                Some(DataType::String),
            )
        })
        .collect();
    if lists.len() == 1 {
        return lists.into_iter().next().expect("one list");
    }
    let l = concat_str(lists, sep, true);
    when(l.clone().eq(lit("")))
        .then(lit(NULL).cast(DataType::String))
        .otherwise(l)
}

fn id_list(conds: &[(impl AsRef<str>, Expr)], sep: &str) -> Expr {
    names_where(
        conds
            .iter()
            .map(|(id, e)| (id.as_ref().to_string(), e.clone()))
            .collect(),
        sep,
    )
}

/// Stage 3: `direct_highest` (the XH conditions met, `+`-joined), `direct_low_blocked_by`
/// (XL disqualifiers of an eligible customer), and the `computed_grade` with its `basis`:
/// direct-highest beats direct-low beats scoring.
pub fn exceptions(graded: LazyFrame, model: &Model) -> LazyFrame {
    let xh = xh_conditions(model);
    let xl = xl_disqualifiers(model);
    let eligible = match &model.direct_low {
        Some(l) => l.eligible.to_predicate(),
        None => lit(false),
    };
    let blocked = xl
        .iter()
        .map(|(_, e)| e.clone())
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let mut flags: Vec<Expr> = xh
        .iter()
        .map(|(id, e)| e.clone().alias(xh_col(id)))
        .collect();
    flags.extend(xl.iter().map(|(id, e)| e.clone().alias(xl_col(id))));
    graded
        .with_columns(flags)
        .with_columns([
            id_list(&xh, "+").alias("direct_highest"),
            when(eligible.clone())
                .then(id_list(&xl, "+"))
                .otherwise(lit(NULL).cast(DataType::String))
                .alias("direct_low_blocked_by"),
            eligible.and(blocked.not()).alias("_direct_low"),
        ])
        .with_columns([
            when(col("direct_highest").is_not_null())
                .then(lit(model.highest().name.clone()))
                .when(col("_direct_low"))
                .then(lit(model.lowest().name.clone()))
                .otherwise(col("scored_grade"))
                .alias("computed_grade"),
            when(col("direct_highest").is_not_null())
                .then(lit("direct_highest"))
                .when(col("_direct_low"))
                .then(lit("direct_low"))
                .otherwise(lit("scored"))
                .alias("basis"),
        ])
        .with_columns([
            direct_low_class(model).alias("direct_low_class"),
            overlay_name(model).alias("overlay"),
            law_flags().alias("_law"),
            screening().alias("screening"),
        ])
}

/// The columns scoring gives each customer, in `scores.parquet` order.
pub fn score_columns(model: &Model) -> Vec<Expr> {
    let mut out = vec![
        col("customer_id"),
        col("institution_id"),
        col("branch_id"),
        col("kind"),
        col(SEGMENT),
    ];
    out.extend(model.subitems.iter().map(|s| col(s.id.as_str())));
    out.extend(
        RESULT_COLUMNS
            .iter()
            .filter(|c| **c != GRADE_ON_FILE)
            .map(|c| col(*c)),
    );
    out.extend(["direct_low_class", "overlay"].map(col));
    out
}

/// The columns of `scores.parquet`, in order: the scoring columns with the grade on file after
/// the final grade and its basis.
pub fn output_columns(model: &Model) -> Vec<Expr> {
    let mut out = score_columns(model);
    out.truncate(out.len() - (RESULT_COLUMNS.len() - 1) - 2);
    out.extend(RESULT_COLUMNS.iter().map(|c| col(*c)));
    out.extend(LAW_COLUMNS.iter().map(|c| col(*c)));
    out
}

/// The result column the review stage adds: the grade on file.
const GRADE_ON_FILE: &str = "grade_on_file";

/// The columns the stages after scoring read: the scoring columns, the relationship start
/// (T1), and the per-customer flags the summary counts (`_xh_*`, `_xl_*`, `_missing_*`).
pub fn kept_columns(model: &Model) -> Vec<Expr> {
    let mut out = score_columns(model);
    out.push(col("relationship_start"));
    out.push(col("relationship_end"));
    out.push(col("_law"));
    out.push(col("screening"));
    out.extend(model.subitems.iter().map(|s| col(missing_col(&s.id))));
    for (id, _) in xh_conditions(model) {
        out.push(col(xh_col(&id)));
    }
    for (id, _) in xl_disqualifiers(model) {
        out.push(col(xl_col(id)));
    }
    out
}

/// All three stages, plus the final `grade` (= computed grade until overrides apply).
pub fn score(features: LazyFrame, model: &Model) -> LazyFrame {
    let s = subitem_scores(features, model);
    let g = top_contributors(totals_and_grades(s, model), model);
    exceptions(g, model).with_column(col("computed_grade").alias("grade"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three largest contributions of each row, worked by hand: largest first, the earlier
    /// sub-item first among equals, nothing for a sub-item contributing nothing or null, and
    /// the empty text when none contributes (as the engine's comma-join of no names gives).
    #[test]
    fn top_names_three_largest_contributions_first() {
        let ids: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        let rows: [[Option<i64>; 4]; 6] = [
            [Some(10), Some(30), Some(20), Some(5)],
            [Some(0), Some(0), Some(0), Some(0)],
            [None, Some(5), None, Some(5)],
            [Some(7), Some(7), Some(7), Some(7)],
            [Some(0), Some(1), Some(0), Some(0)],
            [Some(3), None, Some(9), Some(9)],
        ];
        let want = ["b,c,a", "", "b,d", "a,b,c", "b", "c,d,a"];
        let cols: Vec<Column> = (0..4)
            .map(|i| {
                let v: Vec<Option<i64>> = rows.iter().map(|r| r[i]).collect();
                Column::new(ids[i].as_str().into(), v)
            })
            .collect();
        let out = top_names(&cols, &ids).unwrap();
        let got: Vec<Option<&str>> = out.str().unwrap().iter().collect();
        assert_eq!(got, want.map(Some).to_vec());
    }
}
