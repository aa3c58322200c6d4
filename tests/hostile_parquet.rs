//! A generated corpus of hostile Parquet files — columns of other types, nulls where none are
//! allowed, empty and truncated files, extreme numbers, duplicated and shuffled rows, strings
//! where codes are due — run through `validate` and `assess` with a bounded budget: every case
//! ends with a clear exit code (0, 2 or 3) and never with a panic or a signal.

mod common;

use std::process::Command;

use common::run::*;
use polars::prelude::*;
use riskgrade::contract::{self, ColType};
use riskgrade::rng::Rng;

/// One mutation of a column of `file`, chosen by `rng`.
fn mutate(rng: &mut Rng, lf: LazyFrame, spec: &contract::FileSpec) -> (LazyFrame, String) {
    let c = &spec.columns[rng.range(0, spec.columns.len() as i64) as usize];
    let name = c.name;
    let pick = rng.range(0, 10);
    let what = format!("{}:{name}:{pick}", spec.file);
    let lf = match pick {
        // another type
        0 => lf.with_column(col(name).cast(DataType::String)),
        1 => lf.with_column(col(name).cast(DataType::Float32)),
        2 => lf.with_column(lit(NULL).alias(name)),
        // nulls in some rows
        3 => lf
            .with_row_index("_i", None)
            .with_column(
                when((col("_i") % lit(7u32)).eq(lit(0u32)))
                    .then(lit(NULL))
                    .otherwise(col(name))
                    .alias(name),
            )
            .drop(cols(["_i"])),
        // extreme and odd values
        4 => lf.with_column(match c.ty {
            ColType::F64 => lit(f64::INFINITY).alias(name),
            ColType::I64 => lit(i64::MIN).alias(name),
            ColType::U8 => lit(255u8).alias(name),
            ColType::Date => lit(-1_000_000i32).cast(DataType::Date).alias(name),
            ColType::Datetime => lit(i64::MAX / 2)
                .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
                .alias(name),
            ColType::Bool => lit(NULL).cast(DataType::Boolean).alias(name),
            ColType::Str => lit("\u{0}é ☃ 💥").alias(name),
        }),
        5 => lf.with_column(col(name).cast(DataType::Int64)),
        // rows: none, duplicated, one
        6 => lf.limit(0),
        7 => concat([lf.clone(), lf], UnionArgs::default()).unwrap(),
        8 => lf.limit(1),
        _ => lf.drop(cols([name])),
    };
    (lf, what)
}

#[test]
fn hostile_parquet_corpus_never_panics() {
    let mut rng = Rng::new(2026, 17);
    let specs = [
        contract::CUSTOMERS,
        contract::ACCOUNTS,
        contract::TRANSACTIONS,
        contract::REPORTS,
        contract::GRADES,
        contract::EVENTS,
        contract::OVERRIDES,
    ];
    let mut codes = std::collections::BTreeMap::new();
    for case in 0..120 {
        let e = env();
        let mut what = Vec::new();
        for _ in 0..rng.range(1, 3) {
            let spec = specs[rng.range(0, specs.len() as i64) as usize];
            let path = e.data.join(spec.file);
            let df = LazyFrame::scan_parquet(
                PlRefPath::from(path.to_str().unwrap()),
                Default::default(),
            )
            .unwrap();
            let (lf, w) = mutate(&mut rng, df, &spec);
            what.push(w);
            let Ok(mut df) = lf.collect() else { continue };
            let file = std::fs::File::create(&path).unwrap();
            if rng.range(0, 8) == 0 {
                // a truncated file
                let mut buf = Vec::new();
                ParquetWriter::new(&mut buf).finish(&mut df).unwrap();
                std::fs::write(&path, &buf[..buf.len() * 2 / 3]).unwrap();
            } else {
                ParquetWriter::new(file).finish(&mut df).unwrap();
            }
        }
        let args = if case % 3 == 0 {
            e.args()
        } else {
            [
                "validate",
                "--as-of",
                "2026-10-31",
                "--data",
                e.data.to_str().unwrap(),
                "--reference",
                e.reference.to_str().unwrap(),
            ]
            .map(String::from)
            .to_vec()
        };
        let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
            .args(&args)
            .output()
            .unwrap();
        let msg = String::from_utf8_lossy(&o.stderr).to_string();
        let code = o.status.code();
        assert!(
            matches!(code, Some(0) | Some(2) | Some(3)) && !msg.contains("panicked"),
            "case {case} {what:?}: exit {code:?}: {msg}"
        );
        assert!(
            !msg.contains("internal error"),
            "case {case} {what:?}: {msg}"
        );
        *codes.entry(code.unwrap()).or_insert(0) += 1;
    }
    eprintln!("exit codes over the corpus: {codes:?}");
    // The corpus reaches both the refusals and the accepted forms.
    assert!(codes.get(&3).copied().unwrap_or(0) > 0, "{codes:?}");
    assert!(codes.get(&0).copied().unwrap_or(0) > 0, "{codes:?}");
}
