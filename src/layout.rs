//! The chunk layout of in-memory frames. A column is held as a list of chunks; Polars' in-memory
//! engine, asked to add a column to a frame whose columns are not cut at the same rows, first
//! copies every column into one chunk, all at once. The streaming engine returns columns cut
//! wherever its batches ended, and a column passed through unchanged keeps its input's cuts, so
//! a frame assembled from several queries is misaligned unless it is aligned on purpose. The
//! scored frame is put into one chunk per column once ([`into_one_chunk`]), and every column
//! set into it later is cut the same way ([`cut`], [`with_columns`]).

use polars::prelude::*;

use crate::error::Result;

/// The lengths of `c`'s chunks.
pub fn of(c: &Column) -> Vec<usize> {
    c.as_materialized_series().chunk_lengths().collect()
}

/// `c` cut into chunks of the lengths `layout` (slices of one buffer: only a column cut
/// elsewhere is copied, once, into one chunk first). `layout` adds up to `c`'s length.
pub fn cut(c: &Column, layout: &[usize]) -> Result<Column> {
    if of(c) == layout {
        return Ok(c.clone());
    }
    let s = c.as_materialized_series().rechunk();
    let mut at = 0;
    let mut out: Option<Series> = None;
    for &len in layout {
        let piece = s.slice(at as i64, len);
        at += len;
        match &mut out {
            None => out = Some(piece),
            Some(o) => {
                o.append_owned(piece)?;
            }
        }
    }
    Ok(Column::from(out.unwrap_or(s)))
}

/// Copies every column of `df` held in several chunks into one, a column at a time, returning
/// the memory of each column's old chunks before the next is copied: the frame is never held
/// twice (at 10M customers, copying the scored frame's columns all at once raised the job's
/// peak by 0.3 GiB; a column at a time, not at all).
pub fn into_one_chunk(df: &mut DataFrame) -> Result<()> {
    for name in df.get_column_names_owned() {
        let c = df.column(&name)?;
        if c.n_chunks() > 1 {
            let c = c.rechunk();
            df.with_column(c)?;
            crate::alloc::release_freed_memory();
        }
    }
    Ok(())
}

/// `df` with the columns of `exprs` (evaluated on `df`, each of its height) set in as
/// `with_columns` sets them, cut as `df`'s columns are (see [`cut`]). Keeps an aligned frame
/// aligned whatever chunks the expressions return: a lookup (`replace_strict`) returns its
/// own.
pub fn with_columns(mut df: DataFrame, exprs: Vec<Expr>) -> Result<DataFrame> {
    let new = df.clone().lazy().select(exprs).collect()?;
    let Some(first) = df.columns().first() else {
        return Ok(new);
    };
    let layout = of(first);
    for c in new.columns() {
        df.with_column(cut(c, &layout)?)?;
    }
    Ok(df)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame of columns `a` (1..=10) and `b` (its doubles), `a` held in chunks of 4 and 6 rows
    /// and `b` in 5 and 5: misaligned.
    fn misaligned() -> DataFrame {
        let part = |name: &str, from: i64, to: i64, k: i64| {
            Series::new(name.into(), (from..to).map(|v| v * k).collect::<Vec<i64>>())
        };
        let mut a = part("a", 1, 5, 1);
        a.append(&part("a", 5, 11, 1)).unwrap();
        let mut b = part("b", 1, 6, 2);
        b.append(&part("b", 6, 11, 2)).unwrap();
        DataFrame::new_infer_height(vec![a.into(), b.into()]).unwrap()
    }

    fn values(df: &DataFrame, c: &str) -> Vec<Option<i64>> {
        df.column(c).unwrap().i64().unwrap().iter().collect()
    }

    #[test]
    fn cut_gives_the_layout_and_keeps_the_values() {
        let c = Column::from(Series::new("x".into(), (0..10i64).collect::<Vec<_>>()));
        let out = cut(&c, &[3, 3, 4]).unwrap();
        assert_eq!(of(&out), vec![3, 3, 4]);
        assert_eq!(
            out.i64().unwrap().iter().collect::<Vec<_>>(),
            (0..10).map(Some).collect::<Vec<_>>()
        );
        // A column cut elsewhere (4 + 6) is recut.
        let df = misaligned();
        assert_eq!(
            of(&cut(df.column("a").unwrap(), &[5, 5]).unwrap()),
            vec![5, 5]
        );
    }

    #[test]
    fn into_one_chunk_aligns_a_frame_without_changing_it() {
        let mut df = misaligned();
        assert!(df.should_rechunk());
        into_one_chunk(&mut df).unwrap();
        assert!(!df.should_rechunk());
        assert_eq!(of(df.column("a").unwrap()), vec![10]);
        assert_eq!(values(&df, "a"), (1..=10).map(Some).collect::<Vec<_>>());
        assert_eq!(
            values(&df, "b"),
            (1..=10).map(|v| Some(2 * v)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn columns_set_in_are_cut_as_the_frame() {
        let mut df = misaligned();
        into_one_chunk(&mut df).unwrap();
        // A lookup returns its own chunks; the frame stays in one chunk per column.
        let df = with_columns(
            df,
            vec![
                (col("a") + col("b")).alias("c"),
                col("a")
                    .replace_strict(
                        lit(Series::new("k".into(), [1i64, 2])),
                        lit(Series::new("v".into(), [10i64, 20])),
                        Some(lit(0i64)),
                        Some(DataType::Int64),
                    )
                    .alias("d"),
            ],
        )
        .unwrap();
        assert!(!df.should_rechunk());
        assert!(df.columns().iter().all(|c| c.n_chunks() == 1));
        assert_eq!(
            values(&df, "c"),
            (1..=10).map(|v| Some(3 * v)).collect::<Vec<_>>()
        );
        let d = [10, 20, 0, 0, 0, 0, 0, 0, 0, 0].map(Some).to_vec();
        assert_eq!(values(&df, "d"), d);
    }
}
