//! Shared helpers for the integration tests.
#![allow(dead_code)]

pub mod run;

use polars::prelude::*;
use riskgrade::catalog::{Kind, CATALOG};

/// A feature frame of `n` customers with benign values for every catalogue feature
/// (numbers 0, first category, false), natural persons of 30 years at branch B001.
pub fn base_features(n: usize) -> DataFrame {
    let mut cols: Vec<Column> = vec![
        Column::new(
            "customer_id".into(),
            (0..n).map(|i| format!("C{i}")).collect::<Vec<_>>(),
        ),
        Column::new("institution_id".into(), vec!["INST"; n]),
        Column::new("branch_id".into(), vec!["B001"; n]),
    ];
    for f in CATALOG {
        let c = match f.kind {
            Kind::Num => Column::new(f.name.into(), vec![0.0f64; n]),
            Kind::Cat(values) => {
                let v = match f.name {
                    "kind" => "natural",
                    "pep_relation" | "controller_pep_relation" => "none",
                    "onboarding_channel" => "face_to_face",
                    "address_locality" => "local",
                    "id_doc_type" => "resident_id",
                    "info_openness" => "other",
                    "legal_form" => "limited_company",
                    _ => values.first().copied().unwrap_or("X01"),
                };
                Column::new(f.name.into(), vec![v; n])
            }
            Kind::Bool => Column::new(f.name.into(), vec![false; n]),
        };
        // A book without an ownership graph: its features are null.
        let c = if riskgrade::catalog::GRAPH_FEATURES.contains(&f.name) {
            Column::full_null(f.name.into(), n, c.dtype())
        } else {
            c
        };
        cols.push(c);
    }
    let mut df = DataFrame::new(n, cols).unwrap();
    set_num(&mut df, "age_years", &vec![30.0; n]);
    set_num(&mut df, "tenure_days", &vec![1000.0; n]);
    set_num(&mut df, "net_financial_assets", &vec![1000.0; n]);
    for lvl in [
        "country_predicate_level",
        "region_predicate_level",
        "industry_risk",
        "industry_cash_intensity",
    ] {
        set_num(&mut df, lvl, &vec![1.0; n]);
    }
    df
}

/// Replaces a numeric feature column.
pub fn set_num(df: &mut DataFrame, name: &str, v: &[f64]) {
    df.with_column(Column::new(name.into(), v.to_vec()))
        .unwrap();
}

/// Replaces a numeric feature column, with nulls.
pub fn set_num_opt(df: &mut DataFrame, name: &str, v: &[Option<f64>]) {
    df.with_column(Column::new(name.into(), v.to_vec()))
        .unwrap();
}

/// Replaces a string column.
pub fn set_str(df: &mut DataFrame, name: &str, v: &[&str]) {
    df.with_column(Column::new(name.into(), v.to_vec()))
        .unwrap();
}

/// Replaces a string column, with nulls.
pub fn set_str_opt(df: &mut DataFrame, name: &str, v: &[Option<&str>]) {
    df.with_column(Column::new(name.into(), v.to_vec()))
        .unwrap();
}

/// Replaces a boolean column.
pub fn set_bool(df: &mut DataFrame, name: &str, v: &[bool]) {
    df.with_column(Column::new(name.into(), v.to_vec()))
        .unwrap();
}

/// String values of a column.
pub fn strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(|s| s.to_string()))
        .collect()
}

/// Float values of a column.
pub fn floats(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect()
}

/// Integer values of a column.
pub fn ints(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
    df.column(name)
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect()
}

/// Path of a file in the repository.
pub fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

use riskgrade::contract::{ColType, FileSpec};

/// A frame of `n` rows in the contract of `spec`, with neutral values: strings "x" (the first
/// allowed value for category columns), false, 2020-01-01, 0.
pub fn contract_frame(spec: &FileSpec, n: usize) -> DataFrame {
    let cols = spec
        .columns
        .iter()
        .map(|c| {
            let name = c.name.into();
            let col = match c.ty {
                ColType::Str => {
                    Column::new(name, vec![c.values.first().copied().unwrap_or("x"); n])
                }
                ColType::Bool => Column::new(name, vec![false; n]),
                ColType::Date => Column::new(name, vec![18262i32; n]),
                ColType::Datetime => Column::new(name, vec![1_577_836_800_000i64; n]),
                ColType::F64 => Column::new(name, vec![0.0f64; n]),
                ColType::I64 => Column::new(name, (0..n as i64).collect::<Vec<_>>()),
                ColType::U8 => Column::new(name, vec![0u8; n]),
            };
            col.cast(&c.ty.dtype()).unwrap()
        })
        .collect();
    DataFrame::new(n, cols).unwrap()
}

/// Replaces a column with dates given as "YYYY-MM-DD" (None: null).
pub fn set_dates(df: &mut DataFrame, name: &str, v: &[Option<&str>]) {
    let days: Vec<Option<i32>> = v
        .iter()
        .map(|d| {
            d.map(|d| {
                riskgrade::dates::days_since_epoch(
                    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap(),
                )
            })
        })
        .collect();
    df.with_column(
        Column::new(name.into(), days)
            .cast(&DataType::Date)
            .unwrap(),
    )
    .unwrap();
}

/// Replaces a timestamp column with "YYYY-MM-DD HH:MM" values.
pub fn set_ts(df: &mut DataFrame, name: &str, v: &[&str]) {
    let ms: Vec<i64> = v
        .iter()
        .map(|t| {
            chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M")
                .unwrap()
                .and_utc()
                .timestamp_millis()
        })
        .collect();
    df.with_column(
        Column::new(name.into(), ms)
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .unwrap(),
    )
    .unwrap();
}

/// Writes a frame as Parquet.
pub fn write(df: &mut DataFrame, dir: &std::path::Path, file: &str) {
    let f = std::fs::File::create(dir.join(file)).unwrap();
    ParquetWriter::new(f).finish(df).unwrap();
}

/// The outputs of a run that a run of the same book in buckets, merged, must reproduce byte for
/// byte (the manifest and report carry times and paths).
pub const SAME_OUTPUTS: [&str; 8] = [
    "scores.parquet",
    "reclassify.parquet",
    "reclassify.csv",
    "grades_next.parquet",
    "grade_history.parquet",
    "distribution.csv",
    "summary.json",
    "beneficial_owners.parquet",
];

/// A path as the `&str` a command line takes.
pub fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

/// A whole Parquet file.
pub fn read_parquet(path: &std::path::Path) -> DataFrame {
    LazyFrame::scan_parquet(PlRefPath::from(s(path)), Default::default())
        .unwrap()
        .collect()
        .unwrap()
}

/// Every file of [`SAME_OUTPUTS`] is identical in the run folders `a` and `b`.
pub fn assert_same_outputs(a: &std::path::Path, b: &std::path::Path) {
    for f in SAME_OUTPUTS {
        // A book without an ownership graph has no beneficial owners file: in neither run.
        if f == "beneficial_owners.parquet" && !a.join(f).exists() {
            assert!(!b.join(f).exists(), "{f} in {} only", b.display());
            continue;
        }
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// A run folder whose kept features are `df`, a frame made by hand: the sample assessed as of
/// 2026-10-31 with `--keep-features` into `dir/run`, its features.parquet replaced by `df` with
/// the run's own metadata (as-of date, `[features]`, model) and the manifest's hash of it
/// updated, as if the run had computed these features. Returns the features file.
pub fn run_with_features(df: &mut DataFrame, dir: &std::path::Path) -> std::path::PathBuf {
    let run = dir.join("run");
    if !run.exists() {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_riskgrade"))
            .args(["assess", "-q", "--as-of", "2026-10-31", "--keep-features"])
            .args([
                "--model",
                "data/models/default.toml",
                "--reference",
                "data/reference",
            ])
            .arg("--out")
            .arg(&run)
            .current_dir(repo(""))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let f = run.join("features.parquet");
    let kv = riskgrade::inputs::parquet_metadata(&f).unwrap();
    let kv: Vec<(&str, String)> = kv.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    riskgrade::io::write_parquet_with(df, &f, &kv).unwrap();
    let m = run.join("manifest.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
    for o in v["outputs"].as_array_mut().unwrap() {
        if o["file"] == "features.parquet" {
            o["sha256"] = riskgrade::io::sha256_file(&f).unwrap().into();
        }
    }
    std::fs::write(&m, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    f
}

/// A run merged as datasets against one `assess` of the same book: `distribution.csv` and
/// `summary.json` byte for byte, and each per-customer dataset's part of bucket k holds exactly
/// the single file's rows of the customers of bucket k, in the same order (Parquet compared as
/// frames, CSV as lines after the header).
pub fn assert_same_as_parts(single: &std::path::Path, parts: &std::path::Path, buckets: u32) {
    for f in ["distribution.csv", "summary.json"] {
        assert_eq!(
            std::fs::read(single.join(f)).unwrap(),
            std::fs::read(parts.join(f)).unwrap(),
            "{f}"
        );
    }
    for f in [
        "scores.parquet",
        "reclassify.parquet",
        "grades_next.parquet",
        "grade_history.parquet",
        "features.parquet",
        "beneficial_owners.parquet",
    ] {
        if !single.join(f).exists() {
            continue;
        }
        assert!(parts.join(f).is_dir(), "{f} is a dataset");
        let whole = read_parquet(&single.join(f));
        let ids = whole.column("customer_id").unwrap().str().unwrap().clone();
        let b = riskgrade::bucket::column(&ids, buckets);
        let mut rows = 0;
        for k in 0..buckets {
            let part = parts.join(f).join(format!("part-{k:05}.parquet"));
            let mine = whole.filter(&b.equal(k)).unwrap();
            if !part.exists() {
                assert_eq!(mine.height(), 0, "{f}: bucket {k} has rows but no part");
                continue;
            }
            let theirs = read_parquet(&part);
            assert!(mine.equals_missing(&theirs), "{f}: part {k} differs");
            rows += theirs.height();
        }
        assert_eq!(rows, whole.height(), "{f}");
    }
    // reclassify.csv: each part's lines are the single file's lines of its customers.
    let text = std::fs::read_to_string(single.join("reclassify.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let mut all: Vec<&str> = lines.collect();
    let mut seen: Vec<String> = Vec::new();
    for k in 0..buckets {
        let part = parts
            .join("reclassify.csv")
            .join(format!("part-{k:05}.csv"));
        if let Ok(t) = std::fs::read_to_string(&part) {
            let mut l = t.lines();
            assert_eq!(l.next(), Some(header));
            seen.extend(l.map(String::from));
        }
    }
    all.sort_unstable();
    seen.sort_unstable();
    assert_eq!(all, seen, "reclassify.csv parts");
}

/// The book of `src` as it stood on `day` (YYYY-MM-DD), written into `dst`: customers who had
/// started by then (born and founded by then), their accounts opened by then, transactions,
/// reports, events, overrides and ownership edges dated by then; dates after `day` that say
/// something ended or was done later (relationship and account ends, CDD, BO verification)
/// cleared; grades on file reviewed after `day` left out (not yet on file).
pub fn book_as_of(src: &std::path::Path, dst: &std::path::Path, day: &str) {
    std::fs::create_dir_all(dst).unwrap();
    let d = lit(day).cast(DataType::Date);
    let scan = |f: &str| read_parquet(&src.join(f)).lazy();
    let by = |c: &str| col(c).is_null().or(col(c).lt_eq(d.clone()));
    let clear_after = |c: &str| {
        when(col(c).gt(d.clone()))
            .then(lit(NULL).cast(DataType::Date))
            .otherwise(col(c))
            .alias(c)
    };
    let semi = |lf: LazyFrame, keys: &DataFrame, c: &str| {
        lf.join(
            keys.clone().lazy(),
            [col(c)],
            [col(c)],
            JoinArgs::new(JoinType::Semi),
        )
    };
    let mut customers = scan("customers.parquet")
        .filter(
            col("relationship_start")
                .lt_eq(d.clone())
                .and(by("birth_date"))
                .and(by("founding_date")),
        )
        .with_columns([
            clear_after("relationship_end"),
            clear_after("cdd_completed_on"),
            clear_after("bo_verified_on"),
        ])
        .collect()
        .unwrap();
    let ids = customers.select(["customer_id"]).unwrap();
    let mut accounts = semi(scan("accounts.parquet"), &ids, "customer_id")
        .filter(col("opened_date").lt_eq(d.clone()))
        .with_columns([clear_after("closed_date")])
        .collect()
        .unwrap();
    let accts = accounts.select(["account_id"]).unwrap();
    let end_of_day = lit(format!("{day} 23:59:59")).str().to_datetime(
        None,
        None,
        StrptimeOptions::default(),
        lit("raise"),
    );
    let ts_type = read_parquet(&src.join("transactions.parquet"))
        .column("ts")
        .unwrap()
        .dtype()
        .clone();
    let mut txns = semi(scan("transactions.parquet"), &accts, "account_id")
        .filter(col("ts").lt_eq(end_of_day.cast(ts_type)))
        .collect()
        .unwrap();
    let dated = |f: &str, c: &str| {
        semi(scan(f), &ids, "customer_id")
            .filter(col(c).lt_eq(d.clone()))
            .collect()
            .unwrap()
    };
    let mut reports = dated("reports.parquet", "report_date");
    let mut events = dated("events.parquet", "event_date");
    let mut overrides = dated("overrides.parquet", "set_on");
    let mut grades = semi(scan("grades.parquet"), &ids, "customer_id")
        .filter(
            col("last_reviewed")
                .lt_eq(d.clone())
                .and(by("first_graded")),
        )
        .collect()
        .unwrap();
    write(&mut customers, dst, "customers.parquet");
    write(&mut accounts, dst, "accounts.parquet");
    write(&mut txns, dst, "transactions.parquet");
    write(&mut reports, dst, "reports.parquet");
    write(&mut events, dst, "events.parquet");
    write(&mut overrides, dst, "overrides.parquet");
    write(&mut grades, dst, "grades.parquet");
    if src.join("ownership.parquet").is_file() {
        let mut persons = read_parquet(&src.join("persons.parquet"));
        let mut known = ids.clone();
        known
            .vstack_mut(
                &persons
                    .select(["person_id"])
                    .unwrap()
                    .rename("person_id", "customer_id".into())
                    .unwrap()
                    .clone(),
            )
            .unwrap();
        let k = |c: &str| {
            known
                .clone()
                .lazy()
                .select([col("customer_id").alias(c)])
                .collect()
                .unwrap()
        };
        let mut edges = semi(
            semi(scan("ownership.parquet"), &k("owned_id"), "owned_id"),
            &k("owner_id"),
            "owner_id",
        )
        .filter(col("formed_on").lt_eq(d.clone()))
        .collect()
        .unwrap();
        write(&mut edges, dst, "ownership.parquet");
        write(&mut persons, dst, "persons.parquet");
    }
}

/// Loads `page` in headless Chromium in a window 1280 px wide (`RISKGRADE_CHROMIUM`, default /usr/bin/chromium, which
/// tests/run.sh installs): the DOM after its scripts ran, and the console messages it logged.
pub fn chromium_dom(page: &std::path::Path) -> (String, Vec<String>) {
    let chromium =
        std::env::var("RISKGRADE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} not found: install Debian's chromium (tests/run.sh installs it when missing)"
    );
    let profile = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            // The width the pages are made for.
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", s(profile.path())))
        .arg("--dump-dom")
        .arg(format!("file://{}", s(page)))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{log}");
    let console = log
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(String::from)
        .collect();
    (String::from_utf8_lossy(&o.stdout).into_owned(), console)
}
