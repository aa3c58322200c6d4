//! Customers with identical score profiles, counted once. A profile is everything a grade can
//! depend on under any of the models compared: kind and tenure class (segments), branch
//! (regional coefficients, per-branch counts), walk-in (SC2), STR and direct-highest flags (the
//! back-test), the direct-highest and direct-low outcome of each exception configuration, and
//! the sub-item scores of each set of scoring rules. Grading a candidate is then a handful of
//! integer expressions over the profiles, not over every customer.

use polars::prelude::*;

use crate::error::Result;
use crate::model::{Model, Segment};
use crate::scoring;

/// The distinct scoring-rule sets and exception configurations among the models compared.
pub struct Groups {
    /// Canonical rules text of each rule set, in first-seen order.
    pub rules: Vec<String>,
    /// Canonical exceptions text of each configuration, in first-seen order.
    pub exceptions: Vec<String>,
}

impl Groups {
    /// The groups of `models` (the baseline first).
    pub fn of(models: &[&Model]) -> Groups {
        let mut g = Groups {
            rules: Vec::new(),
            exceptions: Vec::new(),
        };
        for m in models {
            let (r, e) = (m.rules_json(), m.exceptions_json());
            if !g.rules.contains(&r) {
                g.rules.push(r);
            }
            if !g.exceptions.contains(&e) {
                g.exceptions.push(e);
            }
        }
        g
    }

    /// Index of a model's rule set.
    pub fn rules_of(&self, m: &Model) -> usize {
        let r = m.rules_json();
        self.rules.iter().position(|x| *x == r).unwrap_or(0)
    }

    /// Index of a model's exception configuration.
    pub fn exceptions_of(&self, m: &Model) -> usize {
        let e = m.exceptions_json();
        self.exceptions.iter().position(|x| *x == e).unwrap_or(0)
    }
}

/// Name of the score column of sub-item `id` under rule set `g`.
pub fn score_col(g: usize, id: &str) -> String {
    format!("_g{g}_{id}")
}

/// Name of the direct-highest flag of exception configuration `e`.
pub fn xh_col(e: usize) -> String {
    format!("_xh{e}")
}

/// Name of the direct-low flag of exception configuration `e`.
pub fn dl_col(e: usize) -> String {
    format!("_dl{e}")
}

/// `model` with one segment per kind adopting every sub-item that has a rule for that kind:
/// scoring it gives every sub-item's score for every customer it can apply to.
fn scoring_everything(model: &Model) -> Model {
    let mut m = model.clone();
    m.segments = crate::contract::KINDS
        .iter()
        .map(|kind| Segment {
            name: format!("_all_{kind}"),
            kind: kind.to_string(),
            tenure: None,
            weights: model
                .subitems
                .iter()
                .filter(|s| s.rules.iter().any(|r| r.applies_to(kind)))
                .map(|s| (s.id.clone(), 1))
                .collect(),
            rationale: String::new(),
        })
        .collect();
    m
}

/// The profiles of the customers of `features` and which profile each customer has.
pub struct Profiles {
    /// One row per profile: `_profile`, the key columns, `n` (customers).
    pub table: DataFrame,
    /// One row per customer, in `features` order: `customer_id`, `institution_id`,
    /// `branch_id`, `_profile`, `_lr_months` (whole months from the last review to the as-of
    /// month; null: never reviewed).
    pub customers: DataFrame,
    /// Rows of `customers` grouped by profile, in profile order: profile `p` holds rows
    /// `by_profile[starts[p]..starts[p + 1]]`.
    pub by_profile: Vec<IdxSize>,
    /// Where each profile's rows start in `by_profile` (one more entry than profiles).
    pub starts: Vec<usize>,
}

impl Profiles {
    /// The rows of `customers` of the given profiles, in that order.
    pub fn rows_of(&self, profiles: &[u32]) -> Vec<IdxSize> {
        let mut out = Vec::new();
        for p in profiles {
            let p = *p as usize;
            out.extend_from_slice(&self.by_profile[self.starts[p]..self.starts[p + 1]]);
        }
        out
    }
}

/// The key columns of every profile.
pub fn key_columns(models: &[&Model], groups: &Groups) -> Vec<String> {
    let mut keys: Vec<String> = [
        "kind",
        "tenure_days",
        "branch_id",
        "walk_in",
        "_str",
        "_xh_any",
    ]
    .map(String::from)
    .to_vec();
    for e in 0..groups.exceptions.len() {
        keys.push(xh_col(e));
        keys.push(dl_col(e));
    }
    for (g, rules) in groups.rules.iter().enumerate() {
        let m = models
            .iter()
            .find(|m| m.rules_json() == *rules)
            .expect("a model per rule set");
        keys.extend(m.subitems.iter().map(|s| score_col(g, &s.id)));
    }
    keys
}

/// Builds the profiles from the feature frame (`features`: the feature frame of
/// `assess`, with `last_reviewed` when known) for the `models` compared.
pub fn build(
    features: LazyFrame,
    models: &[&Model],
    groups: &Groups,
    as_of: chrono::NaiveDate,
) -> Result<Profiles> {
    let base = models[0];
    let new_days = base.params.new_customer_days as i32;
    let mut keep = vec![
        col("customer_id"),
        col("institution_id"),
        col("branch_id"),
        col("kind"),
        // The tenure class is all a segment reads of the tenure.
        when(col("tenure_days").lt_eq(lit(new_days)))
            .then(lit(0i32))
            .otherwise(lit(new_days + 1))
            .alias("tenure_days"),
        col("walk_in").fill_null(lit(false)),
        col("str_count")
            .gt_eq(lit(1u32))
            .fill_null(lit(false))
            .alias("_str"),
        lr_months(as_of).alias("_lr_months"),
    ];
    // The direct-highest and direct-low outcome of each exception configuration.
    let mut any_xh: Vec<Expr> = Vec::new();
    for (e, text) in groups.exceptions.iter().enumerate() {
        let m = models
            .iter()
            .find(|m| m.exceptions_json() == *text)
            .expect("a model per configuration");
        let (xh, dl) = exception_flags(m);
        any_xh.push(xh.clone());
        keep.push(xh.alias(xh_col(e)));
        keep.push(dl.alias(dl_col(e)));
    }
    keep.push(
        any_xh
            .into_iter()
            .reduce(|a, b| a.or(b))
            .unwrap_or(lit(false))
            .alias("_xh_any"),
    );
    // The sub-item scores of each rule set.
    let mut lf = features;
    for (g, rules) in groups.rules.iter().enumerate() {
        let m = models
            .iter()
            .find(|m| m.rules_json() == *rules)
            .expect("a model per rule set");
        let all = scoring_everything(m);
        lf = scoring::subitem_scores(lf, &all).with_columns(
            m.subitems
                .iter()
                .map(|s| col(s.id.as_str()).alias(score_col(g, &s.id)))
                .collect::<Vec<_>>(),
        );
        for s in &m.subitems {
            keep.push(col(score_col(g, &s.id)));
        }
    }
    let keyed = lf
        .select(keep)
        .with_row_index("_row", None)
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let keys = key_columns(models, groups);
    let grouped = keyed
        .clone()
        .lazy()
        .group_by(keys.iter().map(|k| col(k.as_str())).collect::<Vec<_>>())
        .agg([len().cast(DataType::UInt64).alias("n"), col("_row")])
        .sort(keys.clone(), SortMultipleOptions::default())
        .with_row_index("_profile", None)
        .collect()?;
    let rows = grouped
        .clone()
        .lazy()
        .select([col("_profile"), col("_row")])
        .explode(
            polars::prelude::cols(["_row"]),
            ExplodeOptions {
                empty_as_null: false,
                keep_nulls: false,
            },
        )
        .sort(["_row"], SortMultipleOptions::default())
        .collect()?;
    let customers = keyed
        .lazy()
        .select([
            col("customer_id"),
            col("institution_id"),
            col("branch_id"),
            col("_lr_months"),
        ])
        .collect()?
        .hstack(&[rows.column("_profile")?.clone()])?;
    let flat = grouped
        .clone()
        .lazy()
        .select([col("_row")])
        .explode(
            polars::prelude::cols(["_row"]),
            ExplodeOptions {
                empty_as_null: false,
                keep_nulls: false,
            },
        )
        .collect()?;
    let by_profile: Vec<IdxSize> = flat
        .column("_row")?
        .cast(&IDX_DTYPE)?
        .idx()?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let mut starts = vec![0usize];
    for n in grouped.column("n")?.u64()?.iter() {
        starts.push(starts[starts.len() - 1] + n.unwrap_or(0) as usize);
    }
    let table = grouped.drop("_row")?;
    Ok(Profiles {
        table,
        customers,
        by_profile,
        starts,
    })
}

/// Whole months from the month of `last_reviewed` to the as-of month (null when the features
/// do not carry it or the customer was never reviewed).
fn lr_months(as_of: chrono::NaiveDate) -> Expr {
    use chrono::Datelike;
    let now = as_of.year() * 12 + as_of.month() as i32 - 1;
    let lr = col("last_reviewed");
    (lit(now)
        - (lr.clone().dt().year() * lit(12i32) + lr.dt().month().cast(DataType::Int32) - lit(1i32)))
    .cast(DataType::Int32)
}

/// The direct-highest condition (any in force) and direct-low outcome of a model (XH, XL).
fn exception_flags(m: &Model) -> (Expr, Expr) {
    let xh = scoring::xh_conditions(m)
        .into_iter()
        .map(|(_, e)| e)
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let dl = match &m.direct_low {
        None => lit(false),
        Some(l) => {
            let blocked = scoring::xl_disqualifiers(m)
                .into_iter()
                .map(|(_, e)| e)
                .reduce(|a, b| a.or(b))
                .unwrap_or(lit(false));
            l.eligible.to_predicate().and(blocked.not())
        }
    };
    (xh, dl)
}
