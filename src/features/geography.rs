//! Geography (E2: S2.1 sanctions, S2.2 FATF lists, S2.3 predicate crime, S2.4 offshore centres
//! and locality) and S3.3's cross-border transactions with high-risk countries. A customer's
//! countries are its own and its main counterparty countries; its domestic places are GB/T 2260
//! province and city codes, a null province read from the city.

use polars::lazy::dsl;
use polars::prelude::*;

use super::{cny_sum, count, fen, u32c, Ctx, Part, Window};
use crate::contract;
use crate::frame::{lookup_level, lookup_u8};

/// S2.3, S2.4: a null province is read from the same place's city code, whose first two digits
/// are its province (GB/T 2260); validation has refused a province that contradicts its city.
pub fn provinces_from_cities(cust: LazyFrame) -> LazyFrame {
    cust.with_columns(contract::PLACES.map(|(prov, city)| {
        col(prov)
            .fill_null(col(city).str().head(lit(2)))
            .alias(prov)
    }))
}

/// The country facts of the reference table as lookups: sanctioned, FATF level, predicate-crime
/// level, offshore (0/1 or levels; unlisted: 0, 0, 1, 0; null stays null). The four facts of a
/// country are packed into one integer, a byte each, so a country column is looked up once and
/// the facts are read out of the result.
struct CountryFacts {
    iso: Vec<String>,
    packed: Vec<u32>,
}

impl CountryFacts {
    const DEFAULTS: [u8; 4] = [0, 0, 1, 0];

    fn pack(facts: [u8; 4]) -> u32 {
        facts
            .iter()
            .enumerate()
            .map(|(k, v)| (*v as u32) << (8 * k))
            .sum()
    }

    fn new(ctx: Ctx<'_>) -> Self {
        let c = &ctx.reference.countries;
        CountryFacts {
            iso: c.iter().map(|c| c.iso2.clone()).collect(),
            packed: c
                .iter()
                .map(|c| {
                    Self::pack([
                        c.sanctioned as u8,
                        c.fatf_level,
                        c.predicate,
                        c.offshore as u8,
                    ])
                })
                .collect(),
        }
    }

    fn of(&self, e: Expr) -> [Expr; 4] {
        // Null stays null through the unpacking.
        let packed = lookup_level::<UInt32Type>(
            e,
            self.iso.clone(),
            self.packed.clone(),
            Self::pack(Self::DEFAULTS),
        );
        [0u32, 1, 2, 3].map(|k| {
            (packed.clone().floor_div(lit(1u32 << (8 * k))) % lit(256u32)).cast(DataType::UInt8)
        })
    }
}

/// The customer's own countries (nationality, residence, registration, business, owner).
const OWN_COUNTRIES: [&str; 5] = [
    "nationality",
    "residence_country",
    "registration_country",
    "business_country",
    "bo_country",
];

/// E2 and S3.3 over the range's window aggregates (the fused pass holds the main counterparty
/// countries' facts and the risky cross-border count; the engine groups the window by customer
/// and counterparty country); with `bo_rows` (the beneficial-owners table's rows of the range),
/// the beneficial owners' countries stand for `bo_country` where the graph names owners
/// (S2.1–S2.4).
pub(super) fn part(
    ctx: Ctx<'_>,
    window: &Window,
    bo_rows: Option<LazyFrame>,
) -> PolarsResult<Part> {
    let facts = CountryFacts::new(ctx);
    let mut aggregates = match window {
        Window::Fused(_) => vec![],
        Window::Engine(w) => {
            let [txn, t_agg] = &**w;
            let cp_groups = counterparty_countries(ctx, txn);
            vec![
                main_counterparty_risk(ctx, &facts, &cp_groups, t_agg),
                risky_cross_border(ctx, &cp_groups),
            ]
        }
    };
    let graph = bo_rows.is_some();
    if let Some(rows) = bo_rows {
        aggregates.push(owner_countries(&facts, rows));
    }
    let mut columns = country_columns(&facts, graph)?;
    columns.push(("region_predicate_level", region_level(ctx)?));
    columns.push(("address_locality", locality(ctx)?));
    let home = ctx.params.home_country.as_str();
    let home_risky = ctx.reference.risky_countries().iter().any(|c| c == home);
    columns.push((
        "cross_border_high_risk_count",
        if home_risky {
            u32c("_xb_risky_home")
        } else {
            lit(0u32)
        } + u32c("_xb_risky_foreign"),
    ));
    Ok(Part {
        aggregates,
        columns,
    })
}

/// The worst facts of the beneficial owners' countries, per customer (null where the graph
/// names no owner with a country).
fn owner_countries(facts: &CountryFacts, rows: LazyFrame) -> LazyFrame {
    let [s, f, p, o] = facts.of(col("person_country"));
    rows.filter(col("person_id").is_not_null())
        .select([
            col("customer_id"),
            s.alias("_bo_sanc"),
            f.alias("_bo_fatf"),
            p.alias("_bo_pred"),
            o.alias("_bo_off"),
        ])
        .group_by([col("customer_id")])
        .agg([
            col("_bo_sanc").max(),
            col("_bo_fatf").max(),
            col("_bo_pred").max(),
            col("_bo_off").max(),
        ])
}

/// The window's amounts and cross-border counts per (customer, foreign counterparty country).
fn counterparty_countries(ctx: Ctx<'_>, txn: &LazyFrame) -> LazyFrame {
    let home = ctx.params.home_country.as_str();
    txn.clone()
        .filter(
            col("counterparty_country")
                .is_not_null()
                .and(col("counterparty_country").neq(lit(home))),
        )
        .group_by([col("customer_id"), col("counterparty_country")])
        .agg([
            cny_sum(fen()).alias("_amt"),
            count(col("cross_border")).alias("_xb"),
        ])
        .with_column(col("counterparty_country").cast(DataType::String))
}

/// S3.3: cross-border transactions with a sanctioned or FATF-listed foreign country.
fn risky_cross_border(ctx: Ctx<'_>, cp_groups: &LazyFrame) -> LazyFrame {
    cp_groups
        .clone()
        .filter(col("counterparty_country").is_in(
            lit(Series::new("risky".into(), ctx.reference.risky_countries())).implode(false),
            false,
        ))
        .group_by([col("customer_id")])
        .agg([col("_xb").sum().alias("_xb_risky_foreign")])
}

/// E2: the worst facts of the customer's main counterparty countries: those carrying at least
/// `main_counterparty_share` of the amount of all its window transactions.
fn main_counterparty_risk(
    ctx: Ctx<'_>,
    facts: &CountryFacts,
    cp_groups: &LazyFrame,
    t_agg: &LazyFrame,
) -> LazyFrame {
    let share = ctx.params.main_counterparty_share;
    let [cs, cf, cp, co] = facts.of(col("counterparty_country"));
    // Looked up row by row first, then reduced: a lookup inside an aggregation is evaluated
    // group by group.
    cp_groups
        .clone()
        .join(
            t_agg
                .clone()
                .select([col("customer_id"), col("txn_amount_total")]),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("_amt").gt_eq(col("txn_amount_total") * lit(share)))
        .select([
            col("customer_id"),
            cs.alias("_cp_sanc"),
            cf.alias("_cp_fatf"),
            cp.alias("_cp_pred"),
            co.alias("_cp_off"),
        ])
        .group_by([col("customer_id")])
        .agg([
            col("_cp_sanc").max(),
            col("_cp_fatf").max(),
            col("_cp_pred").max(),
            col("_cp_off").max(),
        ])
}

/// S2.1, S2.2, S2.3 (countries), S2.4 (offshore): the worst fact among the customer's own and
/// main counterparty countries (null when it has none). With the ownership `graph`, the
/// beneficial owners' countries stand for the record's `bo_country` where the graph gives them.
fn country_columns(facts: &CountryFacts, graph: bool) -> PolarsResult<Vec<(&'static str, Expr)>> {
    let mut by_fact: [Vec<Expr>; 4] = Default::default();
    let from_graph = ["_bo_sanc", "_bo_fatf", "_bo_pred", "_bo_off"];
    for c in OWN_COUNTRIES {
        for (k, e) in facts.of(col(c)).into_iter().enumerate() {
            by_fact[k].push(if graph && c == "bo_country" {
                when(col("_bo_fatf").is_not_null())
                    .then(col(from_graph[k]))
                    .otherwise(e)
            } else {
                e
            });
        }
    }
    for (k, extra) in ["_cp_sanc", "_cp_fatf", "_cp_pred", "_cp_off"]
        .iter()
        .enumerate()
    {
        by_fact[k].push(col(*extra));
    }
    let [sanc, fatf, pred, off] = by_fact;
    Ok(vec![
        (
            "country_sanctioned",
            dsl::max_horizontal(sanc)?.gt(lit(0u8)),
        ),
        ("country_fatf_level", dsl::max_horizontal(fatf)?),
        ("country_predicate_level", dsl::max_horizontal(pred)?),
        ("country_offshore", dsl::max_horizontal(off)?.gt(lit(0u8))),
    ])
}

/// S2.3: the worst predicate-crime level of the customer's domestic provinces (unlisted: 1).
fn region_level(ctx: Ctx<'_>) -> PolarsResult<Expr> {
    let (rk, rv): (Vec<String>, Vec<u8>) = ctx.reference.regions.iter().cloned().unzip();
    dsl::max_horizontal(
        contract::PLACES
            .iter()
            .map(|(prov, _)| lookup_u8(col(*prov), rk.clone(), rv.clone(), 1))
            .collect::<Vec<_>>(),
    )
}

/// S2.4: where the residence / registration / business places lie relative to the
/// institution's branch cities and provinces.
fn locality(ctx: Ctx<'_>) -> PolarsResult<Expr> {
    let dedup = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        v
    };
    let b = &ctx.reference.branches;
    let inst_cities = dedup(b.iter().map(|b| b.2.clone()).collect());
    let inst_provs = dedup(b.iter().map(|b| b.1.clone()).collect());
    let sum_of = |es: Vec<Expr>| -> PolarsResult<Expr> { dsl::sum_horizontal(es, true) };
    let is_one_of = |c: &str, set: &Vec<String>| {
        lookup_u8(col(c), set.clone(), vec![1; set.len()], 0).fill_null(lit(0u8))
    };
    let n_places = sum_of(
        contract::PLACES
            .iter()
            .map(|(prov, city)| {
                col(*city)
                    .is_not_null()
                    .or(col(*prov).is_not_null())
                    .cast(DataType::UInt8)
            })
            .collect(),
    )?;
    let n_local = sum_of(
        contract::PLACES
            .iter()
            .map(|(_, city)| is_one_of(city, &inst_cities))
            .collect(),
    )?;
    let n_local_prov = sum_of(
        contract::PLACES
            .iter()
            .map(|(prov, _)| is_one_of(prov, &inst_provs))
            .collect(),
    )?;
    Ok(when(n_places.clone().eq(lit(0u8)))
        .then(lit("no_address"))
        .when(n_local.clone().eq(n_places))
        .then(lit("local"))
        .when(n_local.gt(lit(0u8)))
        .then(lit("partly_local"))
        .when(n_local_prov.gt(lit(0u8)))
        .then(lit("other_city"))
        .otherwise(lit("other_province")))
}
