//! Features of the ownership graph (S1.5, S2, XH3, L-BOI6), read from the beneficial-owners
//! table (`owners::table`, or `assess --owners`): per entity customer the number of beneficial
//! owners, whether they were identified, the worst PEP relation and any watch-list hit among
//! them, the structure above it (depth, intermediate entities, cycles) and the fan-out of its
//! owners. Where the graph names beneficial owners, XH3's controller columns are theirs; the
//! customer's own record fills in for an entity the graph does not reach and for a book
//! without a graph. The owners' countries join E2 in `geography`.

use polars::prelude::*;

use super::Part;
use crate::contract::PEP_RELATIONS;
use crate::frame::lookup_u8;
use crate::owners::kernel::BASES;

/// PEP relations from the least to the most severe, for "the worst among the owners": a
/// current foreign PEP, then persons related to one, a former foreign PEP, a senior manager of
/// an international organisation, a domestic PEP, none.
pub const PEP_SEVERITY: [&str; 7] = [
    "none",
    "domestic_pep",
    "io_senior_manager",
    "former_foreign_pep",
    "close_associate",
    "relative",
    "foreign_pep",
];

/// The features from `rows`, the owners table's rows of the range's customers (customer ids
/// of the range's key type), aggregated per customer; `None`: the book has no graph.
pub fn part(rows: Option<LazyFrame>) -> Part {
    let Some(rows) = rows else {
        return Part {
            aggregates: vec![],
            columns: absent(),
        };
    };
    debug_assert_eq!(PEP_SEVERITY.len(), PEP_RELATIONS.len());
    let sev: Vec<String> = PEP_SEVERITY.iter().map(|s| s.to_string()).collect();
    let rank: Vec<u8> = (0..sev.len() as u8).collect();
    let identified: Vec<String> = BASES
        .iter()
        .filter(|b| **b != "fallback")
        .map(|b| b.to_string())
        .collect();
    let rows = rows
        .select([
            col("customer_id"),
            col("person_id").is_not_null().alias("_has"),
            col("basis")
                .is_in(
                    lit(Series::new("b".into(), identified)).implode(false),
                    false,
                )
                .fill_null(lit(false))
                .alias("_identified"),
            lookup_u8(col("person_pep_relation"), sev, rank, 0).alias("_pep"),
            col("person_watchlist_hit")
                .fill_null(lit(false))
                .alias("_wl"),
            col("bo_fanout"),
            col("ownership_depth"),
            col("intermediate_entities"),
            col("circular_ownership"),
        ])
        .group_by([col("customer_id")])
        .agg([
            col("_has").sum().cast(DataType::UInt32).alias("_bo_count"),
            col("_identified").any(true).alias("_bo_identified"),
            col("_pep").filter(col("_has")).max().alias("_bo_pep"),
            col("_wl").filter(col("_has")).any(true).alias("_bo_wl"),
            col("bo_fanout")
                .max()
                .fill_null(lit(0u32))
                .alias("_bo_fanout"),
            col("ownership_depth").first().alias("_depth"),
            col("intermediate_entities").first().alias("_above"),
            col("circular_ownership").first().alias("_circular"),
        ]);
    let entity = col("kind").eq(lit("non_natural"));
    let on_graph = |e: Expr| when(entity.clone()).then(e).otherwise(lit(NULL));
    debug_assert!(dtype("bo_count") == DataType::UInt32);
    let pep_text =
        when(col("_bo_pep").is_null())
            .then(lit("none"))
            .otherwise(col("_bo_pep").replace_strict(
                lit(Series::new(
                    "k".into(),
                    (0..PEP_SEVERITY.len() as u8).collect::<Vec<u8>>(),
                )),
                lit(Series::new("v".into(), PEP_SEVERITY.to_vec())),
                None,
                Some(DataType::String),
            ));
    let named = col("_bo_count").fill_null(lit(0u32)).gt(lit(0u32));
    Part {
        aggregates: vec![rows],
        columns: vec![
            (
                "ownership_depth",
                on_graph(col("_depth").fill_null(lit(0u32))),
            ),
            (
                "intermediate_entities",
                on_graph(col("_above").fill_null(lit(0u32))),
            ),
            (
                "circular_ownership",
                on_graph(col("_circular").fill_null(lit(false))),
            ),
            ("bo_count", on_graph(col("_bo_count").fill_null(lit(0u32)))),
            (
                "bo_identified",
                on_graph(col("_bo_identified").fill_null(lit(false))),
            ),
            (
                "bo_fanout",
                on_graph(col("_bo_fanout").fill_null(lit(0u32))),
            ),
            ("bo_pep_relation", on_graph(pep_text.clone())),
            (
                "bo_watchlist_hit",
                on_graph(col("_bo_wl").fill_null(lit(false))),
            ),
            (
                "controller_pep_relation",
                when(entity.clone().and(named.clone()))
                    .then(pep_text)
                    .otherwise(col("controller_pep_relation").cast(DataType::String)),
            ),
            (
                "controller_watchlist_hit",
                when(entity.and(named))
                    .then(col("_bo_wl").fill_null(lit(false)))
                    .otherwise(col("controller_watchlist_hit")),
            ),
        ],
    }
}

/// A book without a graph: the graph's features are null, the controller columns the record's.
fn absent() -> Vec<(&'static str, Expr)> {
    let mut out: Vec<(&'static str, Expr)> = crate::catalog::GRAPH_FEATURES
        .iter()
        .map(|f| (*f, lit(NULL).cast(dtype(f))))
        .collect();
    out.push(("controller_pep_relation", col("controller_pep_relation")));
    out.push(("controller_watchlist_hit", col("controller_watchlist_hit")));
    out
}

/// The type of a graph feature in the feature frame (category features are cast to their enum
/// when the frame is assembled).
fn dtype(feature: &str) -> DataType {
    match feature {
        "circular_ownership" | "bo_identified" | "bo_watchlist_hit" => DataType::Boolean,
        "bo_pep_relation" => DataType::String,
        _ => DataType::UInt32,
    }
}
