//! A book graded in buckets (`assess --bucket K/N --links FILE`) and merged (`riskgrade merge`)
//! gives the files of one `assess` of the whole book, byte for byte (docs/scale-out.md). The
//! buckets are cut here the way the cluster driver cuts them, by
//! pmod(xxhash64(customer_id), N), rows kept in their order; tests/spark.rs runs the driver
//! itself on Spark.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_same_outputs, read_parquet, repo, s};
use polars::prelude::*;
use riskgrade::bucket;
use riskgrade::generate::{generate, GenOptions};
use riskgrade::progress::Progress;

fn riskgrade(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

fn model_args() -> Vec<String> {
    vec![
        "--model".into(),
        repo("data/models/default.toml").display().to_string(),
        "--reference".into(),
        repo("data/reference").display().to_string(),
    ]
}

fn assess(data: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    let mut a: Vec<String> = [
        "assess",
        "-q",
        "--as-of",
        "2026-10-31",
        "--data",
        s(data),
        "--out",
        s(out),
    ]
    .map(String::from)
    .to_vec();
    a.extend(model_args());
    a.extend(extra.iter().map(|x| x.to_string()));
    riskgrade(&a.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Cuts every file of `data` into `n` bucket folders, rows in their order.
fn split(data: &Path, n: u32, into: &Path) -> Vec<PathBuf> {
    let dirs: Vec<PathBuf> = (0..n).map(|k| into.join(format!("bucket-{k}"))).collect();
    for d in &dirs {
        std::fs::create_dir_all(d).unwrap();
    }
    for e in std::fs::read_dir(data).unwrap() {
        let path = e.unwrap().path();
        // The ownership graph is not split: it crosses buckets (riskgrade owners).
        let graph = ["ownership.parquet", "persons.parquet"]
            .iter()
            .any(|g| path.ends_with(g));
        if path.extension().is_none_or(|x| x != "parquet") || graph {
            continue;
        }
        let df = LazyFrame::scan_parquet(PlRefPath::from(s(&path)), ScanArgsParquet::default())
            .unwrap()
            .collect()
            .unwrap();
        let ids = df.column("customer_id").unwrap().str().unwrap().clone();
        let b = bucket::column(&ids, n);
        for (k, d) in dirs.iter().enumerate() {
            let mut part = df.filter(&b.equal(k as u32)).unwrap();
            let f = std::fs::File::create(d.join(path.file_name().unwrap())).unwrap();
            ParquetWriter::new(f).finish(&mut part).unwrap();
        }
    }
    dirs
}

#[test]
fn e77_e82_buckets_merged_equal_one_run_and_mismatched_runs_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("book");
    let opts = GenOptions {
        customers: 20_000,
        seed: 5,
        as_of: riskgrade::dates::days_since_epoch(
            chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        ),
        graph_only: false,
    };
    generate(&opts, &data, &Progress::new(true)).unwrap();
    let single = t.join("single");
    assert_eq!(assess(&data, &single, &["--keep-features"]).0, 0);
    let links = t.join("links.parquet");
    let mut a = vec![
        "links",
        "-q",
        "--as-of",
        "2026-10-31",
        "--data",
        s(&data),
        "--out",
        s(&links),
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    a.extend(model_args());
    let (code, err) = riskgrade(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");

    // The beneficial owners of the whole book, solved once (L-BOI6).
    let owners = t.join("owners.parquet");
    let mut a = vec![
        "owners",
        "-q",
        "--as-of",
        "2026-10-31",
        "--data",
        s(&data),
        "--out",
        s(&owners),
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    a.extend(model_args());
    let (code, err) = riskgrade(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");

    let n = 4;
    let dirs = split(&data, n, &t.join("buckets"));
    let mut runs = Vec::new();
    for (k, d) in dirs.iter().enumerate() {
        let run = t.join(format!("run-{k}"));
        let (code, err) = assess(
            d,
            &run,
            &[
                "--links",
                s(&links),
                "--owners",
                s(&owners),
                "--bucket",
                &format!("{k}/{n}"),
                "--keep-features",
            ],
        );
        assert_eq!(code, 0, "{err}");
        runs.push(run);
    }
    // --single-file: one assess's files, byte for byte.
    let merged = t.join("merged");
    let merge_into = |out: &Path, extra: &[&str]| {
        let mut m = vec!["merge", "-q", "--out", s(out), "--model"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        m.push(repo("data/models/default.toml").display().to_string());
        m.extend(extra.iter().map(|x| x.to_string()));
        m.push("--runs".into());
        m.extend(runs.iter().map(|r| r.display().to_string()));
        riskgrade(&m.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (code, err) = merge_into(&merged, &["--single-file"]);
    assert_eq!(code, 0, "{err}");
    assert_same_outputs(&single, &merged);
    let (code, err) = riskgrade(&["verify", "--run", s(&merged)]);
    assert_eq!(code, 0, "{err}");
    // Datasets (the default): each bucket's rows as one assess wrote them, a part per bucket,
    // the small outputs from the buckets' own.
    let parts = t.join("parts");
    let (code, err) = merge_into(&parts, &[]);
    assert_eq!(code, 0, "{err}");
    common::assert_same_as_parts(&single, &parts, n);
    let (code, err) = riskgrade(&["verify", "--run", s(&parts)]);
    assert_eq!(code, 0, "{err}");
    // A customer's rating sheet is the same read from its bucket's part alone.
    for id in ["C0000000001", "C0000012345"] {
        let sheet = |run: &Path| {
            let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
                .args(["explain", "--json", "--run", s(run), "--customer", id])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            o.stdout
        };
        assert_eq!(sheet(&single), sheet(&parts), "{id}");
    }
    // The merged run's inspection tables are the single run's (names and ID numbers read from
    // each bucket's own customers file).
    let tables = |run: &Path, out: &Path| {
        riskgrade(&[
            "extract",
            "-q",
            "--run",
            s(run),
            "--period-start",
            "2026-01-01",
            "--period-end",
            "2026-10-31",
            "--extracted-on",
            "2026-11-01",
            "--out",
            s(out),
        ])
    };
    assert_eq!(tables(&single, &t.join("x-single")).0, 0);
    let (code, err) = tables(&merged, &t.join("x-merged"));
    assert_eq!(code, 0, "{err}");
    for f in ["tb_risk_new.csv", "tb_risk_his.csv", "control.csv"] {
        assert_eq!(
            std::fs::read(t.join("x-single").join(f)).unwrap(),
            std::fs::read(t.join("x-merged").join(f)).unwrap(),
            "{f}"
        );
    }
    // Of the datasets: the same rows (in bucket order) and control totals; and made bucket by
    // bucket (--bucket, as the cluster's tasks do) then combined (--parts), the same bytes.
    let (code, err) = tables(&parts, &t.join("x-parts"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read(t.join("x-single").join("control.csv")).unwrap(),
        std::fs::read(t.join("x-parts").join("control.csv")).unwrap()
    );
    let sorted = |p: &Path| {
        let mut l: Vec<String> = std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        l.sort();
        l
    };
    for f in ["tb_risk_new.csv", "tb_risk_his.csv"] {
        assert_eq!(
            sorted(&t.join("x-single").join(f)),
            sorted(&t.join("x-parts").join(f)),
            "{f}"
        );
    }
    let mut part_dirs = Vec::new();
    for k in 0..n {
        let d = t.join(format!("x-part-{k}"));
        let (code, err) = riskgrade(&[
            "extract",
            "-q",
            "--run",
            s(&parts),
            "--bucket",
            &format!("{k}/{n}"),
            "--period-start",
            "2026-01-01",
            "--period-end",
            "2026-10-31",
            "--extracted-on",
            "2026-11-01",
            "--out",
            s(&d),
        ]);
        assert_eq!(code, 0, "{err}");
        part_dirs.push(d);
    }
    let mut a = vec![
        "extract",
        "-q",
        "--run",
        s(&parts),
        "--period-start",
        "2026-01-01",
        "--period-end",
        "2026-10-31",
        "--extracted-on",
        "2026-11-01",
        "--out",
    ];
    let combined = t.join("x-combined");
    a.push(s(&combined));
    a.push("--parts");
    a.extend(part_dirs.iter().map(|d| s(d)));
    let (code, err) = riskgrade(&a);
    assert_eq!(code, 0, "{err}");
    for f in ["tb_risk_new.csv", "tb_risk_his.csv", "control.csv"] {
        assert_eq!(
            std::fs::read(t.join("x-parts").join(f)).unwrap(),
            std::fs::read(combined.join(f)).unwrap(),
            "{f}"
        );
    }
    // A part missing is refused.
    a.pop();
    let (code, err) = riskgrade(&a);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("missing"), "{err}");

    // S3.2(1), S3.2(3), S3.4: without the links table a bucket sees only its own customers'
    // use of shared keys, and some grades of this book change.
    let alone = t.join("alone-0");
    assert_eq!(assess(&dirs[0], &alone, &[]).0, 0);
    let sums = |p: &Path| {
        read_parquet(&p.join("scores.parquet"))
            .select(["customer_id", "weighted_sum"])
            .unwrap()
    };
    assert_ne!(
        sums(&alone),
        sums(&runs[0]),
        "no key of this book is shared across buckets"
    );

    // A bucket folder holding another bucket's customers (E75).
    let (code, err) = assess(
        &dirs[0],
        &t.join("x"),
        &["--links", s(&links), "--bucket", "1/4"],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("not of --bucket 1/4"), "{err}");

    // A links table that is not one (E76): a key counted once.
    let bad_links = t.join("bad-links.parquet");
    let source = "as_of=2026-10-31;lookback_months=12;customers=20000;id_xor=0000000000000000";
    let mut bad = df!(
        "link" => ["computed_from", "ip_address"],
        "key" => [source, "1.2.3.4"],
        "count" => [20000u32, 1u32]
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&bad_links).unwrap())
        .finish(&mut bad)
        .unwrap();
    let (code, err) = assess(&dirs[0], &t.join("x"), &["--links", s(&bad_links)]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("count Some(1)"), "{err}");

    // Merging refuses (E77): a bucket missing, a bucket twice, another as-of date.
    let merge = |runs: &[&Path]| {
        let mut m = vec![
            "merge".to_string(),
            "--out".into(),
            s(&t.join("m2")).into(),
            "--model".into(),
        ];
        m.push(repo("data/models/default.toml").display().to_string());
        m.push("--runs".into());
        m.extend(runs.iter().map(|r| r.display().to_string()));
        riskgrade(&m.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (code, err) = merge(&[&runs[0], &runs[1], &runs[2]]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bucket(s) 3 of 4 have no run"), "{err}");
    // One bucket alone is as incomplete as three (issue: a quarter of the book merged).
    let (code, err) = merge(&[&runs[0]]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bucket(s) 1, 2, 3 of 4 have no run"), "{err}");
    // A bucket declared empty that holds customers: the buckets merged are not the book the
    // links table was computed from.
    let mut m = vec![
        "merge".to_string(),
        "--out".into(),
        s(&t.join("m2")).into(),
        "--empty-buckets".into(),
        "3".into(),
        "--model".into(),
        repo("data/models/default.toml").display().to_string(),
        "--runs".into(),
    ];
    m.extend(runs[..3].iter().map(|r| r.display().to_string()));
    let (code, err) = riskgrade(&m.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("links table was computed from a book of 20000 customers"),
        "{err}"
    );
    let (code, err) = merge(&[&runs[0], &runs[1], &runs[2], &runs[2]]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bucket 2/4 is given twice"), "{err}");
    // A bucket graded without the book's beneficial-owners table (E93).
    let bare = t.join("bare-3");
    let (code, err) = assess(
        &dirs[3],
        &bare,
        &["--links", s(&links), "--bucket", "3/4", "--keep-features"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, err) = merge(&[&runs[0], &runs[1], &runs[2], &bare]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("graded with no beneficial-owners table"),
        "{err}"
    );
    let other = t.join("other-day");
    let links_nov = t.join("links-nov.parquet");
    let mut a = vec![
        "links",
        "-q",
        "--as-of",
        "2026-11-02",
        "--data",
        s(&data),
        "--out",
        s(&links_nov),
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    a.extend(model_args());
    assert_eq!(
        riskgrade(&a.iter().map(String::as_str).collect::<Vec<_>>()).0,
        0
    );
    let (code, err) = riskgrade(
        &[
            vec![
                "assess",
                "-q",
                "--as-of",
                "2026-11-02",
                "--data",
                s(&dirs[3]),
                "--out",
                s(&other),
            ],
            vec!["--links", s(&links_nov), "--bucket", "3/4"],
            model_args().iter().map(String::as_str).collect(),
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let (code, err) = merge(&[&runs[0], &runs[1], &runs[2], &other]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("as-of date"), "{err}");
    // A bucket run made with the links table of another day is refused at once.
    let (code, err) = assess(
        &dirs[3],
        &t.join("x"),
        &["--links", s(&links_nov), "--bucket", "3/4"],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("computed as of 2026-11-02"), "{err}");
    assert!(!t.join("m2").exists(), "a refused merge writes nothing");
}
