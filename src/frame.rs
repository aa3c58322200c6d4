//! Small Polars idioms used throughout: a left join that keeps the left frame's order, and
//! lookups of a column through a small table.

use polars::prelude::*;

/// Left-join arguments that keep the left frame's rows in their order: the one idiom for
/// looking columns up beside a frame.
pub fn left_in_order() -> JoinArgs {
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    args
}

/// `expr` mapped through a small lookup table: `keys[i]` → `values[i]`, `default` for values
/// not in it, as `dtype`.
pub fn lookup<K, V>(
    expr: Expr,
    keys: Vec<K>,
    values: Vec<V>,
    default: Expr,
    dtype: DataType,
) -> Expr
where
    Series: NamedFrom<Vec<K>, [K]> + NamedFrom<Vec<V>, [V]>,
{
    expr.replace_strict(
        lit(Series::new("k".into(), keys)),
        lit(Series::new("v".into(), values)),
        Some(default),
        Some(dtype),
    )
}

/// `expr` mapped through a small lookup table to a level, `default` for values not in it;
/// null stays null.
pub fn lookup_u8(expr: Expr, keys: Vec<String>, values: Vec<u8>, default: u8) -> Expr {
    let e = expr.clone();
    when(e.is_null())
        .then(lit(NULL).cast(DataType::UInt8))
        .otherwise(lookup(expr, keys, values, lit(default), DataType::UInt8))
}
