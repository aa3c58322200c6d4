//! The synthetic portfolio: in the data contract, with the promised frequencies, and
//! byte-identical for the same seed.

mod common;

use common::*;
use polars::prelude::*;
use riskgrade::contract;
use riskgrade::generate::{generate, GenOptions};
use riskgrade::inputs::scan;
use riskgrade::inputs::{check_schema, Inputs};
use riskgrade::io::sha256_file;
use riskgrade::progress::Progress;
use riskgrade::validate::validate_inputs;

fn make(dir: &std::path::Path, customers: u64, seed: u64) {
    let opts = GenOptions {
        customers,
        seed,
        as_of: riskgrade::dates::days_since_epoch(
            chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        ),
        graph_only: false,
    };
    generate(&opts, dir, &Progress::new(true)).unwrap();
}

#[test]
fn generated_files_follow_the_contract_and_promised_frequencies() {
    let dir = tempfile::tempdir().unwrap();
    let n = 200_000u64;
    make(dir.path(), n, 11);
    // Every file but the grade history (which runs write) is generated.
    for spec in contract::FILES
        .iter()
        .filter(|s| s.file != contract::HISTORY.file)
    {
        assert!(
            check_schema(dir.path(), spec).unwrap().is_some(),
            "{}",
            spec.file
        );
    }
    let grades = ["high", "medium", "low"].map(String::from);
    let counts = validate_inputs(
        &Inputs::open(dir.path()).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        &grades,
    )
    .unwrap();
    assert_eq!(counts.rows[0], ("customers.parquet".to_string(), n));

    let c = scan(dir.path(), &contract::CUSTOMERS)
        .unwrap()
        .select([
            col("kind")
                .eq(lit("natural"))
                .cast(DataType::Float64)
                .mean()
                .alias("natural"),
            col("pep_relation")
                .is_in(
                    lit(Series::new(
                        "".into(),
                        ["foreign_pep", "relative", "close_associate"],
                    ))
                    .implode(false),
                    false,
                )
                .cast(DataType::Float64)
                .mean()
                .alias("pep"),
            col("watchlist_hit")
                .cast(DataType::Float64)
                .sum()
                .alias("watch"),
        ])
        .collect()
        .unwrap();
    let natural = floats(&c, "natural")[0].unwrap();
    assert!((natural - 0.9).abs() < 0.005, "natural share {natural}");
    // PEP relations (foreign PEP, relative, close associate): 0.1% → 200 of 200,000.
    let pep = floats(&c, "pep")[0].unwrap() * n as f64;
    assert!((150.0..=250.0).contains(&pep), "PEPs {pep}");
    // Watch-list hits: 0.01% → 20.
    let watch = floats(&c, "watch")[0].unwrap();
    assert!((8.0..=35.0).contains(&watch), "watch-list hits {watch}");
    // About 20 transactions per customer per year.
    let t = counts
        .rows
        .iter()
        .find(|(f, _)| f == "transactions.parquet")
        .unwrap()
        .1 as f64;
    let per = t / n as f64;
    assert!(
        (18.0..=22.0).contains(&per),
        "transactions per customer {per}"
    );
}

#[test]
fn same_seed_gives_byte_identical_files() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    make(a.path(), 70_000, 3);
    make(b.path(), 70_000, 3);
    make(c.path(), 70_000, 4);
    for spec in contract::FILES
        .iter()
        .filter(|s| a.path().join(s.file).exists())
    {
        let ha = sha256_file(&a.path().join(spec.file)).unwrap();
        assert_eq!(
            ha,
            sha256_file(&b.path().join(spec.file)).unwrap(),
            "{}",
            spec.file
        );
        if spec.file == "customers.parquet" {
            assert_ne!(ha, sha256_file(&c.path().join(spec.file)).unwrap());
        }
    }
}
