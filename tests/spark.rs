//! The cluster driver (`spark/riskgrade_spark.py`) on PySpark in local mode: its merged run
//! equals one `assess` of the same book byte for byte for N = 1, 4 and 7 buckets; its stage-1
//! links table equals `riskgrade links`; Spark's pmod(xxhash64(id), N) equals riskgrade's
//! bucket for 100k ids. PySpark is installed by `.ci/run` into a virtual environment
//! (`RISKGRADE_SPARK_PYTHON`, default /var/tmp/riskgrade-spark/bin/python); Java 17 runs it.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{assert_same_outputs, read_parquet, repo, s};
use polars::prelude::*;
use riskgrade::bucket;
use riskgrade::generate::{generate, GenOptions};
use riskgrade::progress::Progress;

fn python() -> PathBuf {
    let p = PathBuf::from(
        std::env::var("RISKGRADE_SPARK_PYTHON")
            .unwrap_or_else(|_| "/var/tmp/riskgrade-spark/bin/python".into()),
    );
    assert!(
        p.exists(),
        "{}: no Python with pyspark; .ci/run installs it (python3 -m venv /var/tmp/riskgrade-spark \
         && /var/tmp/riskgrade-spark/bin/pip install 'pyspark==3.5.*')",
        p.display()
    );
    p
}

fn run(cmd: &mut Command) {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{:?} failed:\n{}",
        cmd,
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter(|l| !l.contains("WARN"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn riskgrade() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riskgrade"));
    c.current_dir(repo("."));
    c
}

#[test]
fn spark_driver_equals_one_assess_for_1_4_7_buckets() {
    let py = python();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("book");
    let opts = GenOptions {
        customers: 20_000,
        seed: 11,
        as_of: riskgrade::dates::days_since_epoch(
            chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        ),
    };
    generate(&opts, &data, &Progress::new(true)).unwrap();
    let single = t.join("single");
    run(riskgrade()
        .args([
            "assess",
            "-q",
            "--as-of",
            "2026-10-31",
            "--data",
            s(&data),
            "--out",
            s(&single),
        ])
        .args([
            "--model",
            "data/models/default.toml",
            "--reference",
            "data/reference",
        ]));
    let links = t.join("links.parquet");
    run(riskgrade()
        .args([
            "links",
            "--as-of",
            "2026-10-31",
            "--data",
            s(&data),
            "--out",
            s(&links),
        ])
        .args([
            "--model",
            "data/models/default.toml",
            "--reference",
            "data/reference",
        ]));
    let ours = read_parquet(&links);
    assert!(ours.height() > 0);

    for n in [1, 4, 7] {
        let out = t.join(format!("spark-{n}"));
        run(Command::new(&py)
            .current_dir(repo("."))
            .arg(repo("spark/riskgrade_spark.py"))
            .args([
                "--master",
                "local[2]",
                "--data",
                s(&data),
                "--buckets",
                &n.to_string(),
            ])
            .args(["--out", s(&out), "--as-of", "2026-10-31"])
            .args(["--binary", env!("CARGO_BIN_EXE_riskgrade")])
            .args([
                "--model",
                "data/models/default.toml",
                "--reference",
                "data/reference",
            ]));
        assert_same_outputs(&single, &out);
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
                .unwrap();
        assert_eq!(manifest["merged_from"]["buckets"], n);
        run(riskgrade().args(["verify", "--run", s(&out)]));
        // Stage 1 (Spark SQL) is the table riskgrade links writes.
        let part = std::fs::read_dir(t.join(format!("spark-{n}.work/links")))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "parquet"))
            .unwrap();
        let theirs = read_parquet(&part)
            .lazy()
            .select([col("link"), col("key"), col("count").cast(DataType::UInt32)])
            .collect()
            .unwrap();
        assert!(
            theirs.equals_missing(&ours),
            "Spark's links table differs from riskgrade links"
        );
    }
}

#[test]
fn spark_buckets_equal_riskgrade_buckets_for_100k_ids() {
    let py = python();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // Ids of several shapes: the generator's, short, long, non-ASCII, empty.
    let mut ids: Vec<String> = (0..99_990).map(|i| format!("C{i:010}")).collect();
    ids.extend(
        [
            "",
            "a",
            "客户0001",
            "ÄÖÜ-42",
            "x".repeat(200).as_str(),
            "0",
            "-1",
            " ",
            "C 1",
            "\t",
        ]
        .map(String::from),
    );
    let mut df = df!("customer_id" => &ids).unwrap();
    let path = t.join("ids.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let out = t.join("spark-buckets");
    let counts = [1u32, 4, 7, 1000];
    run(Command::new(&py)
        .arg(repo("tests/spark/bucket_ids.py"))
        .arg(&path)
        .arg(&out)
        .args(counts.map(|n| n.to_string())));
    let part = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    let spark = read_parquet(&part);
    assert_eq!(spark.height(), 100_000);
    let got = spark.column("customer_id").unwrap().str().unwrap().clone();
    for n in counts {
        let want = bucket::column(&got, n);
        let theirs = spark
            .column(&format!("b{n}"))
            .unwrap()
            .cast(&DataType::UInt32)
            .unwrap();
        let theirs = theirs.u32().unwrap();
        let differ = want
            .iter()
            .zip(theirs.iter())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            differ, 0,
            "{differ} of 100,000 ids in another bucket of {n}"
        );
    }
}
