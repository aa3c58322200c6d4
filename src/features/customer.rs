//! Features read from the customer's own record: identity and characteristics (E1: S1.1–S1.3,
//! S1.5–S1.8), industry (E4: S4.1–S4.3), PEP relations and watch lists (XH), the direct-low
//! disqualifiers (XL) and scope (SC2).

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use super::Ctx;
use crate::frame::lookup_u8;

/// The customer columns, as (feature, expression).
pub fn columns(ctx: Ctx<'_>) -> Vec<(&'static str, Expr)> {
    let home = ctx.params.home_country.as_str();
    let as_of = ctx.as_of;
    let as_of_days = (as_of - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32;
    let days_since =
        |c: &str| (lit(as_of_days) - col(c).cast(DataType::Int32)).cast(DataType::Int32);
    let (ik, (irisk, icash)): (Vec<String>, (Vec<u8>, Vec<u8>)) = ctx
        .reference
        .industries
        .iter()
        .map(|(c, a, b)| (c.clone(), (*a, *b)))
        .unzip();
    let mut out: Vec<(&'static str, Expr)> = [
        "kind",
        "info_openness",
        "onboarding_channel",
        "id_doc_type",
        "legal_form",
        "hidden_shareholders",
        "industry_code",
        "pep_relation",
        "watchlist_hit",
        "refuses_cdd",
        "non_resident",
        "correspondent_relation",
        "trust_relation",
        "net_financial_assets",
        "annual_life_premium",
        "noncash_single_premium",
        "walk_in",
    ]
    .into_iter()
    .map(|c| (c, col(c)))
    .collect();
    out.extend([
        (
            "ownership_layers",
            col("ownership_layers").cast(DataType::UInt8),
        ),
        ("alert_level", col("alert_level").cast(DataType::UInt8)),
        ("age_years", age_years(as_of)),
        ("existence_days", days_since("founding_date")),
        ("tenure_days", days_since("relationship_start")),
        (
            "industry_risk",
            lookup_u8(col("industry_code"), ik.clone(), irisk, 1),
        ),
        (
            "industry_cash_intensity",
            lookup_u8(col("industry_code"), ik, icash, 1),
        ),
        (
            "foreign_id_document",
            col("id_issuing_country").neq(lit(home)),
        ),
        ("onboarding_proxy", col("onboarding_proxy_id").is_not_null()),
        (
            "id_expired",
            col("id_expiry_date").lt(crate::dates::date_lit(as_of)),
        ),
    ]);
    out
}

/// S1.7: age in whole years at the as-of date (a birthday on the as-of date counts).
pub fn age_years(as_of: NaiveDate) -> Expr {
    let (ay, am, ad) = (as_of.year(), as_of.month() as i8, as_of.day() as i8);
    let b = col("birth_date");
    let before_birthday = b.clone().dt().month().gt(lit(am)).or(b
        .clone()
        .dt()
        .month()
        .eq(lit(am))
        .and(b.clone().dt().day().gt(lit(ad))));
    (lit(ay) - b.dt().year() - before_birthday.cast(DataType::Int32)).cast(DataType::Int32)
}
