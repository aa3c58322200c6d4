//! Small Polars idioms used throughout: a left join that keeps the left frame's order (and its
//! merge of two frames in key order, [`look_up`]), and lookups of a column through a small
//! table.

use polars::prelude::*;
use polars_arrow::array::{Utf8ViewArray, View};

use crate::error::Result;

/// Left-join arguments that keep the left frame's rows in their order: the one idiom for
/// looking columns up beside a frame.
pub fn left_in_order() -> JoinArgs {
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    args
}

/// `expr` mapped through a small lookup table: `keys[i]` → `values[i]` (keys unique), `default`
/// for values not in it and for null, as `dtype`.
///
/// A table of at most [`FEW`] keys is a chain of comparisons with each key: the engine's
/// `replace_strict` joins the column with the table, and with four such grade lookups the
/// review's final-grades query of 10M customers took 1.4 s.
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
    /// The most keys looked up by comparisons.
    const FEW: usize = 8;
    let (keys, values) = (
        Series::new("k".into(), keys),
        Series::new("v".into(), values),
    );
    let scalar = |s: &Series, i: usize| {
        let v = s.get(i).expect("index within the table").into_static();
        lit(Scalar::new(s.dtype().clone(), v))
    };
    if keys.len() > FEW || keys.len() != values.len() {
        return expr.replace_strict(lit(keys), lit(values), Some(default), Some(dtype));
    }
    (0..keys.len())
        .rev()
        .fold(default, |otherwise, i| {
            when(expr.clone().eq(scalar(&keys, i)))
                .then(scalar(&values, i))
                .otherwise(otherwise)
        })
        .cast(dtype)
}

/// `expr` mapped through a small lookup table to a level, `default` for values not in it;
/// null stays null (see [`lookup_level`]).
pub fn lookup_u8(expr: Expr, keys: Vec<String>, values: Vec<u8>, default: u8) -> Expr {
    lookup_level::<UInt8Type>(expr, keys, values, default)
}

/// Text `expr` mapped through a lookup table: `keys[i]` → `values[i]` (keys unique), `default`
/// for text not among the keys; null stays null. Short keys are looked up by their views
/// ([`lookup_short`]), others by [`lookup`].
pub fn lookup_level<T: PolarsNumericType>(
    expr: Expr,
    keys: Vec<String>,
    values: Vec<T::Native>,
    default: T::Native,
) -> Expr
where
    Series: NamedFrom<Vec<String>, [String]> + NamedFrom<Vec<T::Native>, [T::Native]>,
{
    if let Some(e) = lookup_short::<T>(expr.clone(), &keys, values.clone(), default) {
        return e;
    }
    let dtype = T::get_static_dtype();
    let default = Series::new("d".into(), vec![default]);
    let default = lit(Scalar::new(
        dtype.clone(),
        default.get(0).expect("one value").into_static(),
    ));
    when(expr.clone().is_null())
        .then(lit(NULL).cast(dtype.clone()))
        .otherwise(lookup(expr, keys, values, default, dtype))
}

/// Text `expr` mapped through a table of short keys: `keys[i]` → `values[i]`, `default` for
/// text not among the keys; null stays null. Each row is one probe of a [`ShortCodes`] table by
/// its Arrow view, where the engine joins the column with the table (`replace_strict`) or
/// compares it with every key. `None` when a key is longer than 12 bytes, keys repeat, or there
/// are more than [`SHORT_MAX`]: the caller looks up as before. Input that is not text is cast
/// to text first.
fn lookup_short<T: PolarsNumericType>(
    expr: Expr,
    keys: &[String],
    values: Vec<T::Native>,
    default: T::Native,
) -> Option<Expr> {
    if keys.len() != values.len() {
        return None;
    }
    let table = ShortCodes::of_texts(keys.iter().map(|k| Some(k.as_str())))?;
    Some(expr.map(
        move |c| {
            let s = c.as_materialized_series();
            let s = match s.dtype() {
                DataType::String => s.clone(),
                _ => s.cast(&DataType::String)?,
            };
            let ca = s.str()?;
            let out: Vec<T::Native> = table
                .codes(ca)
                .into_iter()
                .map(|c| values.get(c as usize).copied().unwrap_or(default))
                .collect();
            let valid = ca.rechunk_validity();
            Ok(ChunkedArray::<T>::from_vec_validity(ca.name().clone(), out, valid).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), T::get_static_dtype())),
    ))
}

/// `right`'s columns but its keys beside the rows of `left`, looked up on `left_on` =
/// `right_on` (text keys, at most one row of `right` per key): what a left join keeping `left`'s
/// order ([`left_in_order`]) gives, `left`'s columns first. When both frames are in ascending
/// order of their first key, as extracts ordered by customer id are, the rows are found by one
/// merge of the two key columns ([`merge_rows`]) and `right` is gathered: no key is hashed (the
/// review's lookups of the grades on file, grades set by hand and events of 10M customers took
/// 2.4–5.2 s instead of 8.6 s). Otherwise the engine joins.
pub fn look_up(
    left: DataFrame,
    right: DataFrame,
    left_on: &[&str],
    right_on: &[&str],
) -> Result<DataFrame> {
    // A file read in row groups comes in hundreds of chunks (306 for 10M grades on file): the
    // keys are read and the rows gathered from one chunk per column (10M: 0.72 s against
    // 0.97–1.21 s).
    let mut right = right;
    right.rechunk_mut_par();
    // An empty `right` is joined: a gather needs a row to gather from.
    let keyed = (right.height() > 0)
        .then(|| text_keys(&left, left_on).zip(text_keys(&right, right_on)))
        .flatten();
    if let Some((l, r)) = keyed {
        if let Some(rows) = merge_rows(&l, &r) {
            let taken = right.drop_many(right_on.iter().copied()).take(&rows)?;
            let mut out = left;
            out.hstack_mut(taken.columns())?;
            return Ok(out);
        }
    }
    Ok(left
        .lazy()
        .join(
            right.lazy(),
            left_on.iter().map(|k| col(*k)).collect::<Vec<_>>(),
            right_on.iter().map(|k| col(*k)).collect::<Vec<_>>(),
            left_in_order(),
        )
        .collect()?)
}

/// How many rows of `left` have no row of `right` with all keys `on` equal (text keys, at most
/// one row of `right` per key), counted by one merge of the key columns when both frames are in
/// ascending order of the first key ([`merge_rows`]); `None` otherwise, for the engine's join.
/// Extracts in customer order are checked against the customers without hashing a key (10M
/// customers: 14.1M accounts and 9.9M grades on file took 1.1 s each as anti-joins).
pub fn unmatched_by_merge(left: &DataFrame, right: &DataFrame, on: &[&str]) -> Option<usize> {
    let rows = merge_rows(&text_keys(left, on)?, &text_keys(right, on)?)?;
    Some(rows.null_count())
}

/// The text columns `on` of `df`, each in one chunk; `None` if one is missing or not text.
fn text_keys(df: &DataFrame, on: &[&str]) -> Option<Vec<StringChunked>> {
    on.iter()
        .map(|k| Some(df.column(k).ok()?.str().ok()?.rechunk().into_owned()))
        .collect()
}

/// For each row of `left`, the row of `right` whose keys are all equal to its own (null where
/// none is), found in one walk over both: `None` unless both are in ascending order of their
/// first key, no key is null, and no row of `left` matches two of `right`. Rows of one first key
/// are matched on the other keys.
fn merge_rows(left: &[StringChunked], right: &[StringChunked]) -> Option<IdxCa> {
    type Text = <StringType as PolarsDataType>::Array;
    fn arrays(keys: &[StringChunked]) -> Option<Vec<&Text>> {
        keys.iter()
            .map(|k| (k.null_count() == 0).then(|| k.downcast_as_array()))
            .collect()
    }
    let (l, r) = (arrays(left)?, arrays(right)?);
    let ascending = |a: &Text| (1..a.len()).all(|i| a.value(i - 1) <= a.value(i));
    if !ascending(l[0]) || !ascending(r[0]) {
        return None;
    }
    let (n, m) = (l[0].len(), r[0].len());
    let mut rows: Vec<Option<IdxSize>> = Vec::with_capacity(n);
    let mut j = 0;
    for i in 0..n {
        let key = l[0].value(i);
        while j < m && r[0].value(j) < key {
            j += 1;
        }
        let mut found = None;
        let mut k = j;
        while k < m && r[0].value(k) == key {
            if (1..l.len()).all(|c| l[c].value(i) == r[c].value(k)) {
                if found.is_some() {
                    return None;
                }
                found = Some(k as IdxSize);
            }
            k += 1;
        }
        rows.push(found);
    }
    Some(IdxCa::from_iter_options("rows".into(), rows.into_iter()))
}

/// Text `e` cast to the Enum type `to`, a value outside its categories null, as
/// `e.cast(to)` gives, but faster on the two kinds of columns a book holds:
/// - few short categories (country and city codes: at most [`SHORT_MAX`] categories of at most
///   12 bytes): a row's text is held inline in its Arrow view, so each row is one load of its
///   view and a probe of a small table ([`ShortCodes`]), no hashing of text;
/// - otherwise (customer ids) each run of equal values is looked up once ([`codes_by_runs`]):
///   transactions come customer by customer, so a book's 20M rows cost a lookup per customer,
///   not per row.
///
/// Input that is not text is cast by the engine. Each call makes a new function, which the
/// engine's common-subexpression elimination never folds with another: to cast one column in
/// two places of a query (the checks and the features) once, use one [`EnumCast`].
pub fn to_enum(e: Expr, to: DataType) -> Expr {
    let out = to.clone();
    let short = ShortCodes::of(&to);
    e.map(
        move |c| {
            let s = c.as_materialized_series();
            let (DataType::Enum(cats, mapping), DataType::String) = (&to, s.dtype()) else {
                return s.cast(&to).map(Column::from);
            };
            let ca = s.str()?;
            let codes = match &short {
                Some(t) => t.codes(ca),
                None => codes_by_runs(ca, cats.categories(), mapping),
            };
            enum_of_codes(ca, codes, &to).map(Column::from)
        },
        move |_, f| Ok(Field::new(f.name().clone(), out.clone())),
    )
}

/// One [`to_enum`] function for every column it casts ([`EnumCast::of`]): the engine folds
/// equal expressions of a query only when their functions are the same one, so the checks'
/// cast of a column and the features' are computed once.
pub struct EnumCast(Expr);

impl EnumCast {
    /// The cast to the Enum type `to`.
    pub fn new(to: DataType) -> EnumCast {
        EnumCast(to_enum(col(""), to))
    }

    /// `e` cast (see [`to_enum`]).
    pub fn of(&self, e: Expr) -> Expr {
        let mut out = self.0.clone();
        if let Expr::AnonymousFunction { input, .. } = &mut out {
            *input = vec![e];
        }
        out
    }
}

/// Most categories an Enum type may have for [`ShortCodes`].
const SHORT_MAX: usize = 4096;

/// The categories of an Enum type, each at most 12 bytes, by their Arrow view: text that short
/// is held inline in the view (zero-padded, which Polars checks), so equal text has equal
/// views. An open-addressing table, a quarter full: one multiply and, most often, one probe.
struct ShortCodes {
    /// Each slot's category view and code ([`EMPTY`] for none).
    slots: Vec<(u128, u32)>,
    shift: u32,
}

const EMPTY: u32 = u32::MAX;

impl ShortCodes {
    /// The table of `to`'s categories, `None` when `to` is not an Enum type of at most
    /// [`SHORT_MAX`] categories of at most 12 bytes.
    fn of(to: &DataType) -> Option<ShortCodes> {
        let DataType::Enum(cats, _) = to else {
            return None;
        };
        Self::of_texts(cats.categories().iter())
    }

    /// The table of `texts`, each coded by its position; `None` when there are more than
    /// [`SHORT_MAX`], one is null or longer than 12 bytes, or one repeats.
    fn of_texts<'a>(texts: impl ExactSizeIterator<Item = Option<&'a str>>) -> Option<ShortCodes> {
        if texts.len() > SHORT_MAX {
            return None;
        }
        let bits = (texts.len().max(1) * 4)
            .next_power_of_two()
            .trailing_zeros();
        let mut t = ShortCodes {
            slots: vec![(0, EMPTY); 1 << bits],
            shift: 64 - bits,
        };
        let mask = t.slots.len() - 1;
        for (code, text) in texts.enumerate() {
            let text = text.filter(|t| t.len() <= View::MAX_INLINE_SIZE as usize)?;
            let view = View::new_inline(text.as_bytes()).as_u128();
            let mut slot = t.slot(view);
            while t.slots[slot].1 != EMPTY {
                if t.slots[slot].0 == view {
                    return None;
                }
                slot = (slot + 1) & mask;
            }
            t.slots[slot] = (view, code as u32);
        }
        Some(t)
    }

    #[inline(always)]
    fn slot(&self, view: u128) -> usize {
        let folded = (view as u64) ^ ((view >> 64) as u64).rotate_left(32);
        (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The code of the text whose view is `view`, if it is a category.
    #[inline(always)]
    fn get(&self, view: View) -> Option<u32> {
        if !view.is_inline() {
            return None;
        }
        let v = view.as_u128();
        let mask = self.slots.len() - 1;
        let mut slot = self.slot(v);
        loop {
            // SAFETY: a slot is masked to the table's length, a power of two.
            let (key, code) = *unsafe { self.slots.get_unchecked(slot) };
            if code == EMPTY {
                return None;
            }
            if key == v {
                return Some(code);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The code of each row of `ca` ([`EMPTY`] where the text is not a category; a null
    /// row's view is looked up too, and [`enum_of_codes`] masks it).
    fn codes(&self, ca: &StringChunked) -> Vec<u32> {
        // The last row's view and code: rows often repeat the row before (most transactions
        // are domestic), which one comparison then settles.
        let mut last = (u128::MAX, EMPTY);
        let mut lookup = |view: &View| {
            let v = view.as_u128();
            if v != last.0 {
                last = (v, self.get(*view).unwrap_or(EMPTY));
            }
            last.1
        };
        // Extended from each chunk's slice of views: no capacity check per row.
        let mut codes = Vec::with_capacity(ca.len());
        for arr in ca.downcast_iter() {
            codes.extend(arr.views().iter().map(&mut lookup));
        }
        codes
    }
}

/// The Enum column of type `to` of `ca`'s rows, whose `codes` are the categories' positions:
/// null where `ca` is null or the code is [`EMPTY`].
fn enum_of_codes(ca: &StringChunked, codes: Vec<u32>, to: &DataType) -> PolarsResult<Series> {
    use polars_arrow::bitmap::Bitmap;
    let found = Bitmap::from_trusted_len_iter(codes.iter().map(|&c| c != EMPTY));
    let valid = match ca.rechunk_validity() {
        Some(text) => &found & &text,
        None => found,
    };
    fn physical<T: PolarsNumericType>(
        name: PlSmallStr,
        codes: &[u32],
        valid: Bitmap,
        code: impl Fn(u32) -> T::Native,
    ) -> Series {
        // A row left null keeps code 0, a category's.
        let codes = codes.iter().map(|&c| code(if c == EMPTY { 0 } else { c }));
        ChunkedArray::<T>::from_vec_validity(name, codes.collect(), Some(valid)).into_series()
    }
    let name = ca.name().clone();
    let phys = match to.to_physical() {
        DataType::UInt8 => physical::<UInt8Type>(name, &codes, valid, |c| c as u8),
        DataType::UInt16 => physical::<UInt16Type>(name, &codes, valid, |c| c as u16),
        _ => physical::<UInt32Type>(name, &codes, valid, |c| c),
    };
    // SAFETY: every code is the position of one of `to`'s categories.
    unsafe { phys.from_physical_unchecked(to) }
}

/// The code of each row of `ca` among the categories `cats` (`mapping` finds a text's),
/// [`EMPTY`] where the text is null or not a category: each run of equal values is looked up
/// once (see [`to_enum`]).
fn codes_by_runs(
    ca: &StringChunked,
    cats: &Utf8ViewArray,
    mapping: &CategoricalMapping,
) -> Vec<u32> {
    let mut codes = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        let validity = polars_arrow::array::Array::validity(arr);
        // The last value's view and code. Equal views hold equal text (inline, or the same
        // bytes of the same buffer); text held twice in a buffer is looked up again.
        let mut last: Option<(View, u32)> = None;
        codes.extend(arr.views().iter().enumerate().map(|(i, view)| {
            // SAFETY: `i` is below the validity's length, the array's.
            if validity.is_some_and(|v| !unsafe { v.get_bit_unchecked(i) }) {
                return EMPTY;
            }
            match last {
                Some((v, code)) if v == *view => code,
                _ => {
                    // SAFETY: `i` is below the array's length.
                    let text = unsafe { arr.value_unchecked(i) };
                    // Text in the categories' order (customer ids, each range's categories in
                    // id order) is most often the category after the last: one comparison
                    // instead of a probe of a table too large for the cache.
                    let next = match last {
                        Some((_, c)) if c != EMPTY => c as usize + 1,
                        _ => 0,
                    };
                    let code = if next < cats.len() && cats.value(next) == text {
                        next as u32
                    } else {
                        mapping.get_cat(text).unwrap_or(EMPTY)
                    };
                    last = Some((*view, code));
                    code
                }
            }
        }));
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(cols: &[(&str, &[Option<&str>])]) -> DataFrame {
        let cols: Vec<Column> = cols
            .iter()
            .map(|(n, v)| Column::new((*n).into(), v.to_vec()))
            .collect();
        DataFrame::new(cols[0].len(), cols).unwrap()
    }

    fn texts(df: &DataFrame, name: &str) -> Vec<Option<String>> {
        let c = df.column(name).unwrap().str().unwrap().clone();
        c.iter().map(|v| v.map(str::to_string)).collect()
    }

    /// A lookup table gives each key's value, and the default for a value not in it and for
    /// null, as the type asked for. The same holds by comparisons (at most eight keys) and by the
    /// engine's join (more). Worked by hand: high → 0, medium → 1, low → 2.
    #[test]
    fn lookup_by_comparisons_or_by_join_gives_the_same_values() {
        let df = frame(&[(
            "g",
            &[
                Some("low"),
                Some("high"),
                None,
                Some("other"),
                Some("medium"),
            ],
        )]);
        let want = [Some(2), Some(0), None, None, Some(1)];
        let nine = [Some(2), Some(0), Some(9), Some(9), Some(1)];
        let run = |keys: Vec<String>, values: Vec<i32>, default: Expr| -> Vec<Option<i32>> {
            let out = df
                .clone()
                .lazy()
                .select([lookup(col("g"), keys, values, default, DataType::Int32).alias("r")])
                .collect()
                .unwrap();
            assert_eq!(out.column("r").unwrap().dtype(), &DataType::Int32);
            out.column("r").unwrap().i32().unwrap().iter().collect()
        };
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let null = || lit(NULL).cast(DataType::Int32);
        let three = || names(&["high", "medium", "low"]);
        assert_eq!(run(three(), vec![0, 1, 2], null()), want);
        assert_eq!(run(three(), vec![0, 1, 2], lit(9)), nine);
        // Nine keys: past the comparisons, the engine joins.
        let mut many = three();
        let mut values = vec![0, 1, 2];
        for i in 0..6 {
            many.push(format!("unused{i}"));
            values.push(10 + i);
        }
        assert_eq!(run(many.clone(), values.clone(), null()), want);
        assert_eq!(run(many, values, lit(9)), nine);
        // A default that is a value: null and unknown text take it.
        let out = df
            .clone()
            .lazy()
            .select([lookup_u8(col("g"), names(&["high"]), vec![3], 1).alias("r")])
            .collect()
            .unwrap();
        let got: Vec<Option<u8>> = out.column("r").unwrap().u8().unwrap().iter().collect();
        assert_eq!(got, [Some(1), Some(3), None, Some(1), Some(1)]);
    }

    /// Rows without a match, counted by a merge (W01: rows of unknown customers). Worked by
    /// hand: (C2, I2) has no row (C2 is only in I1) and C5 none at all, so 2 of 5; the same rows
    /// out of order, or a null key, are left to the engine.
    #[test]
    fn unmatched_rows_counted_by_merge_or_left_to_the_engine() {
        let left = frame(&[
            (
                "customer_id",
                &[Some("C1"), Some("C1"), Some("C2"), Some("C3"), Some("C5")],
            ),
            (
                "institution_id",
                &[Some("I1"), Some("I1"), Some("I2"), Some("I1"), Some("I1")],
            ),
        ]);
        let right = frame(&[
            (
                "customer_id",
                &[Some("C1"), Some("C2"), Some("C3"), Some("C4")],
            ),
            (
                "institution_id",
                &[Some("I1"), Some("I1"), Some("I1"), Some("I1")],
            ),
        ]);
        let on = ["customer_id", "institution_id"];
        assert_eq!(unmatched_by_merge(&left, &right, &on), Some(2));
        assert_eq!(unmatched_by_merge(&left, &right, &on[..1]), Some(1));
        assert_eq!(
            unmatched_by_merge(&left, &right.head(Some(0)), &on),
            Some(5)
        );
        let reversed = left.reverse();
        assert_eq!(unmatched_by_merge(&reversed, &right, &on), None);
        let with_null = frame(&[
            ("customer_id", &[Some("C1"), None]),
            ("institution_id", &[Some("I1"), Some("I1")]),
        ]);
        assert_eq!(unmatched_by_merge(&with_null, &right, &on), None);
    }

    /// Text cast to an Enum run by run ([`to_enum`]): runs, nulls, text outside the categories,
    /// categories out of their order, text longer than a view holds inline, and a second chunk.
    /// Worked by hand from the categories' positions (C1 0, C2 1, C3 2, C4 3, the long id 4).
    #[test]
    fn text_to_enum_run_by_run_gives_the_engines_codes() {
        let long = "C-an-id-longer-than-twelve-bytes";
        let to = DataType::from_frozen_categories(
            FrozenCategories::new(["C1", "C2", "C3", "C4", long]).unwrap(),
        );
        let mut s = Series::new(
            "k".into(),
            [
                Some("C1"),
                Some("C1"),
                Some("C2"),
                None,
                Some("C2"),
                Some("C9"),
                Some("C9"),
                Some("C4"),
                Some("C3"),
                Some(long),
                Some(long),
            ],
        );
        s.append(&Series::new("k".into(), [Some(long), Some("C4"), Some("")]))
            .unwrap();
        assert_eq!(s.n_chunks(), 2);
        let want = [
            Some(0u32),
            Some(0),
            Some(1),
            None,
            Some(1),
            None,
            None,
            Some(3),
            Some(2),
            Some(4),
            Some(4),
            Some(4),
            Some(3),
            None,
        ];
        let codes = |s: &Series| -> Vec<Option<u32>> {
            assert_eq!(s.dtype(), &to);
            let c = s.to_physical_repr().cast(&DataType::UInt32).unwrap();
            c.u32().unwrap().iter().collect()
        };
        let (DataType::Enum(cats, mapping), Ok(ca)) = (&to, s.str()) else {
            unreachable!("an Enum type and text")
        };
        let by_runs = codes_by_runs(ca, cats.categories(), mapping);
        assert_eq!(codes(&enum_of_codes(ca, by_runs, &to).unwrap()), want);
        assert_eq!(codes(&s.cast(&to).unwrap()), want);
        let out = cast_in_query(s, &to);
        assert_eq!(codes(out.as_materialized_series()), want);
    }

    /// Text column "c" held in two chunks: `first`'s rows, then `second`'s.
    fn two_chunks(first: &[Option<&str>], second: &[Option<&str>]) -> Series {
        let mut s = Series::new("c".into(), first);
        s.append(&Series::new("c".into(), second)).unwrap();
        assert_eq!(s.n_chunks(), 2);
        s
    }

    /// `s` cast to `to` by [`to_enum`] in a query.
    fn cast_in_query(s: Series, to: &DataType) -> Column {
        let name = s.name().clone();
        let df = DataFrame::new(s.len(), vec![s.into()]).unwrap();
        let out = df
            .lazy()
            .select([to_enum(col(name.clone()), to.clone())])
            .collect()
            .unwrap();
        out.column(&name).unwrap().clone()
    }

    /// Few short categories (country codes) are found by their views: each is looked up in a
    /// small table, text of more than 12 bytes or in another case is no category, and a null
    /// row stays null whatever its view holds. Worked by hand: CN 0, HK 1, the empty text 2,
    /// ABCDEFGHIJKL (12 bytes, the most a view holds inline) 3.
    #[test]
    fn short_codes_found_by_their_views_as_the_engine_casts() {
        let twelve = "ABCDEFGHIJKL";
        let to = DataType::from_frozen_categories(
            FrozenCategories::new(["CN", "HK", "", twelve]).unwrap(),
        );
        assert!(ShortCodes::of(&to).is_some());
        let s = two_chunks(
            &[
                Some("CN"),
                Some("CN"),
                None,
                Some("HK"),
                Some("cn"),
                Some(""),
                Some(twelve),
                Some("ABCDEFGHIJKLM"),
                Some("CN "),
            ],
            &[Some("HK"), None, Some("XX")],
        );
        let want = [
            Some(0u32),
            Some(0),
            None,
            Some(1),
            None,
            Some(2),
            Some(3),
            None,
            None,
            Some(1),
            None,
            None,
        ];
        let codes = |c: &Column| -> Vec<Option<u32>> {
            assert_eq!(c.dtype(), &to);
            // Four categories: the codes are held in one byte, as the engine holds them.
            assert_eq!(c.to_physical_repr().dtype(), &DataType::UInt8);
            let c = c.to_physical_repr().cast(&DataType::UInt32).unwrap();
            c.u32().unwrap().iter().collect()
        };
        assert_eq!(codes(&s.cast(&to).unwrap().into()), want);
        assert_eq!(codes(&cast_in_query(s, &to)), want);
        // Long categories are left to the runs' lookup.
        let long = DataType::from_frozen_categories(
            FrozenCategories::new(["CN", "ABCDEFGHIJKLM"]).unwrap(),
        );
        assert!(ShortCodes::of(&long).is_none());
    }

    /// A lookup through short keys gives what the engine's lookups give, worked by hand: CN 1,
    /// HK 2, the empty text 3, ABCDEFGHIJKL (12 bytes) 4, anything else the default 9, and null
    /// stays null. Keys longer than 12 bytes or repeated are left to the engine.
    #[test]
    fn short_keys_looked_up_by_their_views_as_the_engine_looks_up() {
        let twelve = "ABCDEFGHIJKL";
        let keys: Vec<String> = ["CN", "HK", "", twelve].map(String::from).to_vec();
        let values = vec![1u8, 2, 3, 4];
        let s = two_chunks(
            &[
                Some("CN"),
                None,
                Some("HK"),
                Some("cn"),
                Some(""),
                Some(twelve),
            ],
            &[
                Some("ABCDEFGHIJKLM"),
                Some("HK "),
                Some("HK"),
                None,
                Some("XX"),
            ],
        );
        let want = [
            Some(1u8),
            None,
            Some(2),
            Some(9),
            Some(3),
            Some(4),
            Some(9),
            Some(9),
            Some(2),
            None,
            Some(9),
        ];
        let run = |e: Expr| -> Vec<Option<u8>> {
            let df = DataFrame::new(s.len(), vec![s.clone().into()]).unwrap();
            let out = df.lazy().select([e.alias("v")]).collect().unwrap();
            out.column("v").unwrap().u8().unwrap().iter().collect()
        };
        let short = lookup_short::<UInt8Type>(col("c"), &keys, values.clone(), 9).unwrap();
        assert_eq!(run(short), want);
        // The engine's lookups: a chain of comparisons (at most eight keys) and a join.
        let engine = |keys: Vec<String>, values: Vec<u8>| {
            let e = lookup(col("c"), keys, values, lit(9u8), DataType::UInt8);
            when(col("c").is_null())
                .then(lit(NULL).cast(DataType::UInt8))
                .otherwise(e)
        };
        assert_eq!(run(engine(keys.clone(), values.clone())), want);
        let mut many = keys.clone();
        let mut more = values.clone();
        for k in 0..10 {
            many.push(format!("Z{k}"));
            more.push(5);
        }
        assert_eq!(run(engine(many, more)), want);
        assert_eq!(
            run(lookup_u8(col("c"), keys.clone(), values.clone(), 9)),
            want
        );
        // Not for keys the views cannot hold whole, nor repeated keys.
        let long = vec!["ABCDEFGHIJKLM".to_string()];
        assert!(lookup_short::<UInt8Type>(col("c"), &long, vec![1], 9).is_none());
        let twice = vec!["CN".to_string(), "CN".to_string()];
        assert!(lookup_short::<UInt8Type>(col("c"), &twice, vec![1, 2], 9).is_none());
    }

    /// One [`EnumCast`] applied to a column in two places of a query is one function: the
    /// engine computes the cast once (a common subexpression), which `to_enum` called twice
    /// would not give.
    #[test]
    fn one_enum_cast_is_computed_once_per_column() {
        let to = DataType::from_frozen_categories(FrozenCategories::new(["CN", "HK"]).unwrap());
        let df = df!("c" => [Some("CN"), Some("XX"), None]).unwrap();
        let shared = EnumCast::new(to.clone());
        let query = |a: Expr, b: Expr| {
            df.clone()
                .lazy()
                .select([a.alias("a"), b.is_null().alias("b")])
                .explain(true)
                .unwrap()
        };
        let plan = query(shared.of(col("c")), shared.of(col("c")));
        assert!(plan.contains("__POLARS_CSER"), "{plan}");
        let plan = query(to_enum(col("c"), to.clone()), to_enum(col("c"), to));
        assert!(!plan.contains("__POLARS_CSER"), "{plan}");
    }

    /// Customers C2 in two institutions, C1, C4; grades of (C1, I1), (C2, I2), (C2, I1), (C3,
    /// I1), and (C4, I9) of another institution (P3). Worked by hand: C1/I1 → A, C2/I1 → C,
    /// C2/I2 → B, C4/I1 → none (its grade is another institution's).
    fn customers_and_grades(sorted: bool) -> (DataFrame, DataFrame) {
        let customers = frame(&[
            (
                "customer_id",
                &[Some("C1"), Some("C2"), Some("C2"), Some("C4")],
            ),
            (
                "institution_id",
                &[Some("I1"), Some("I1"), Some("I2"), Some("I1")],
            ),
        ]);
        let mut ids = vec!["C1", "C2", "C2", "C3", "C4"];
        let mut inst = vec!["I1", "I2", "I1", "I1", "I9"];
        let mut grade = vec!["A", "B", "C", "D", "E"];
        if !sorted {
            for v in [&mut ids, &mut inst, &mut grade] {
                v.swap(0, 3);
            }
        }
        let opt = |v: Vec<&'static str>| v.into_iter().map(Some).collect::<Vec<_>>();
        let grades = frame(&[
            ("customer_id", &opt(ids)),
            ("inst", &opt(inst)),
            ("grade", &opt(grade)),
        ]);
        (customers, grades)
    }

    #[test]
    fn look_up_merges_sorted_frames_and_joins_others_alike() {
        let expected = vec![Some("A".into()), Some("C".into()), Some("B".into()), None];
        for sorted in [true, false] {
            let (customers, grades) = customers_and_grades(sorted);
            let on = (["customer_id", "institution_id"], ["customer_id", "inst"]);
            let keys = |df: &DataFrame, on: &[&str]| -> Vec<StringChunked> {
                on.iter()
                    .map(|k| df.column(k).unwrap().str().unwrap().clone())
                    .collect()
            };
            // The merge is taken exactly when the grades are in customer order.
            let rows = merge_rows(&keys(&customers, &on.0), &keys(&grades, &on.1));
            assert_eq!(rows.is_some(), sorted);
            let out = look_up(customers, grades, &on.0, &on.1).unwrap();
            let names: Vec<&str> = out.get_column_names().iter().map(|n| n.as_str()).collect();
            assert_eq!(names, ["customer_id", "institution_id", "grade"]);
            assert_eq!(texts(&out, "grade"), expected, "sorted: {sorted}");
            assert_eq!(
                texts(&out, "customer_id"),
                ["C1", "C2", "C2", "C4"].map(|s| Some(s.to_string()))
            );
        }
    }

    /// A key matched by two rows of the other frame, a null key, or customers out of order:
    /// no merge (the engine's join decides).
    #[test]
    fn merge_rows_declines_what_it_cannot_match() {
        let ca =
            |v: &[Option<&str>]| StringChunked::from_iter_options("k".into(), v.iter().copied());
        let a = ca(&[Some("C1"), Some("C2")]);
        assert!(merge_rows(std::slice::from_ref(&a), &[ca(&[Some("C1"), Some("C1")])]).is_none());
        assert!(merge_rows(std::slice::from_ref(&a), &[ca(&[Some("C1"), None])]).is_none());
        assert!(merge_rows(&[ca(&[Some("C2"), Some("C1")])], std::slice::from_ref(&a)).is_none());
        let rows = merge_rows(&[a], &[ca(&[Some("C0"), Some("C2"), Some("C3")])]).unwrap();
        assert_eq!(rows.iter().collect::<Vec<_>>(), [None, Some(1)]);
    }
}
