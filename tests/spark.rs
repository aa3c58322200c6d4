//! The cluster driver (`spark/riskgrade_spark.py`) on PySpark, in local mode and on a Spark
//! standalone cluster started here (a master and two workers, separate processes): its run is
//! one `assess` of the same book (each per-customer dataset's part of bucket k holds the single
//! run's rows of bucket k in their order; summary and distribution byte for byte; with
//! `--single-file` every file byte for byte) for 1, 4 and 7 buckets; `verify` passes on it; its
//! extract, made bucket by bucket on the executors, has the single run's rows and control
//! totals; the driver receives a few hundred bytes from the tasks whatever the book's size; its
//! stage-1 links table equals `riskgrade links`; Spark's pmod(xxhash64(id), N) equals
//! riskgrade's bucket for 100k ids. PySpark and Java are installed by tests/run.sh
//! (`RISKGRADE_SPARK_PYTHON`, default /var/tmp/riskgrade-spark/bin/python).

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use common::{assert_same_as_parts, assert_same_outputs, read_parquet, repo, s};
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
        "{}: no Python with pyspark; run the tests with tests/run.sh, which installs it",
        p.display()
    );
    p
}

/// Runs a command that must succeed; returns its standard error.
fn run(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        o.status.success(),
        "{:?} failed:\n{}\n{}",
        cmd,
        String::from_utf8_lossy(&o.stdout),
        err.lines()
            .filter(|l| !l.contains("WARN"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    err
}

fn riskgrade() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riskgrade"));
    c.current_dir(repo("."));
    c
}

const MODEL: [&str; 4] = [
    "--model",
    "data/models/default.toml",
    "--reference",
    "data/reference",
];

/// A generated book of `n` customers, its single `assess` (features kept), its links table
/// and its extract.
struct Book {
    _tmp: tempfile::TempDir,
    t: PathBuf,
    data: PathBuf,
    single: PathBuf,
    links: PathBuf,
    extract: PathBuf,
}

fn book(customers: u64) -> Book {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().to_path_buf();
    let data = t.join("book");
    let opts = GenOptions {
        customers,
        seed: 11,
        as_of: riskgrade::dates::days_since_epoch(
            chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        ),
        graph_only: false,
    };
    generate(&opts, &data, &Progress::new(true)).unwrap();
    let single = t.join("single");
    run(riskgrade()
        .args(["assess", "-q", "--as-of", "2026-10-31", "--keep-features"])
        .args(["--data", s(&data), "--out", s(&single)])
        .args(MODEL));
    let links = t.join("links.parquet");
    run(riskgrade()
        .args(["links", "--as-of", "2026-10-31", "--data", s(&data)])
        .args(["--out", s(&links)])
        .args(MODEL));
    let extract = t.join("single.extract");
    run(riskgrade()
        .args(["extract", "-q", "--run", s(&single)])
        .args(EXTRACT)
        .args(["--out", s(&extract)]));
    Book {
        _tmp: tmp,
        t,
        data,
        single,
        links,
        extract,
    }
}

const EXTRACT: [&str; 6] = [
    "--period-start",
    "2026-01-01",
    "--period-end",
    "2026-10-31",
    "--extracted-on",
    "2026-11-01",
];

/// Runs the driver on `master` with `n` buckets (and `extra` flags) into `name`; returns the
/// run folder and the bytes the driver received from the tasks.
fn drive(b: &Book, master: &str, n: u32, name: &str, extra: &[&str]) -> (PathBuf, u64) {
    let py = python();
    let out = b.t.join(name);
    let err = run(Command::new(&py)
        .current_dir(repo("."))
        .env("PYSPARK_PYTHON", &py)
        .arg(repo("spark/riskgrade_spark.py"))
        .args([
            "--master",
            master,
            "--data",
            s(&b.data),
            "--buckets",
            &n.to_string(),
        ])
        .args(["--out", s(&out), "--as-of", "2026-10-31", "--keep-features"])
        .args(["--binary", env!("CARGO_BIN_EXE_riskgrade")])
        .args(MODEL)
        .args(extra));
    let bytes: u64 = err
        .lines()
        .find_map(|l| {
            l.strip_prefix("riskgrade-spark: the driver received ")?
                .strip_suffix(" bytes from the tasks")?
                .parse()
                .ok()
        })
        .expect("the driver says what it received");
    (out, bytes)
}

/// Checks a driver's run against the single run: datasets, verify, extract, links table, and
/// what the driver received.
fn check_against_single(b: &Book, out: &Path, n: u32, bytes: u64, customers: u64) {
    assert_same_as_parts(&b.single, out, n);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["merged_from"]["buckets"], n);
    run(riskgrade().args(["verify", "--run", s(out)]));
    // The extract made bucket by bucket on the executors: the single run's rows and control
    // totals.
    let ext = PathBuf::from(format!("{}.extract", out.display()));
    assert_eq!(
        std::fs::read(b.extract.join("control.csv")).unwrap(),
        std::fs::read(ext.join("control.csv")).unwrap()
    );
    for f in ["tb_risk_new.csv", "tb_risk_his.csv"] {
        let sorted = |p: &Path| {
            let mut l: Vec<String> = std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(String::from)
                .collect();
            l.sort();
            l
        };
        assert_eq!(sorted(&b.extract.join(f)), sorted(&ext.join(f)), "{f}");
    }
    // Nothing per customer reached the driver: the bucket counts and the tasks' statuses only,
    // under 100 bytes a bucket, against at least 40 bytes a customer in scores alone.
    assert!(
        bytes < 100 * u64::from(n) + 1000,
        "the driver received {bytes} bytes for {customers} customers in {n} buckets"
    );
    // Stage 1 (Spark SQL) is the table riskgrade links writes, what it was computed from
    // included.
    let part = std::fs::read_dir(PathBuf::from(format!("{}.work/links", out.display())))
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
        theirs.equals_missing(&read_parquet(&b.links)),
        "Spark's links table differs from riskgrade links"
    );
}

#[test]
fn spark_local_mode_equals_one_assess_for_1_4_7_buckets() {
    let customers = 50_000;
    let b = book(customers);
    for n in [1, 4, 7] {
        let (out, bytes) = drive(
            &b,
            "local[2]",
            n,
            &format!("local-{n}"),
            &[
                "--extract-period",
                "2026-01-01",
                "2026-10-31",
                "--extracted-on",
                "2026-11-01",
            ],
        );
        check_against_single(&b, &out, n, bytes, customers);
    }
    // --single-file: one assess's files, byte for byte.
    let (out, _) = drive(&b, "local[2]", 4, "single-file-4", &["--single-file"]);
    assert_same_outputs(&b.single, &out);
    run(riskgrade().args(["verify", "--run", s(&out)]));
}

/// A Spark standalone cluster on this machine: a master and two workers of one core each, as
/// separate processes, stopped when dropped.
struct Cluster {
    procs: Vec<Child>,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for p in &mut self.procs {
            let _ = p.kill();
            let _ = p.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The master web UI's JSON status.
fn status(ui: u16) -> Option<serde_json::Value> {
    let mut c = std::net::TcpStream::connect(("127.0.0.1", ui)).ok()?;
    c.write_all(b"GET /json/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut body = String::new();
    c.read_to_string(&mut body).ok()?;
    serde_json::from_str(body.split("\r\n\r\n").nth(1)?).ok()
}

fn start_cluster(py: &Path) -> Cluster {
    let home = String::from_utf8(
        Command::new(py)
            .args([
                "-c",
                "import os, pyspark; print(os.path.dirname(pyspark.__file__))",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let dir = tempfile::tempdir().unwrap();
    let class = Path::new(&home).join("bin/spark-class");
    let (port, ui) = (free_port(), free_port());
    let url = format!("spark://127.0.0.1:{port}");
    let spawn = |args: &[String], log: &str| {
        Command::new(&class)
            .args(args)
            .env("SPARK_HOME", &home)
            .env("PYSPARK_PYTHON", py)
            .env("SPARK_LOCAL_IP", "127.0.0.1")
            .stdout(std::fs::File::create(dir.path().join(format!("{log}.out"))).unwrap())
            .stderr(std::fs::File::create(dir.path().join(format!("{log}.err"))).unwrap())
            .spawn()
            .unwrap()
    };
    let mut procs = vec![spawn(
        &[
            "org.apache.spark.deploy.master.Master".into(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--webui-port".into(),
            ui.to_string(),
        ],
        "master",
    )];
    for w in 0..2 {
        let work = dir.path().join(format!("worker-{w}"));
        procs.push(spawn(
            &[
                "org.apache.spark.deploy.worker.Worker".into(),
                "--host".into(),
                "127.0.0.1".into(),
                "--cores".into(),
                "1".into(),
                "--memory".into(),
                "1g".into(),
                "--webui-port".into(),
                free_port().to_string(),
                "--work-dir".into(),
                work.display().to_string(),
                url.clone(),
            ],
            &format!("worker-{w}"),
        ));
    }
    let cluster = Cluster {
        procs,
        url,
        _dir: dir,
    };
    let start = std::time::Instant::now();
    loop {
        let alive = status(ui).and_then(|v| v["aliveworkers"].as_u64());
        if alive == Some(2) {
            return cluster;
        }
        assert!(
            start.elapsed().as_secs() < 120,
            "the standalone cluster did not start two workers (status {:?})",
            status(ui)
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

#[test]
fn spark_standalone_cluster_equals_one_assess_for_4_7_buckets() {
    let py = python();
    let customers = 50_000;
    let b = book(customers);
    let cluster = start_cluster(&py);
    for n in [4, 7] {
        let (out, bytes) = drive(
            &b,
            &cluster.url,
            n,
            &format!("standalone-{n}"),
            &[
                "--extract-period",
                "2026-01-01",
                "2026-10-31",
                "--extracted-on",
                "2026-11-01",
            ],
        );
        check_against_single(&b, &out, n, bytes, customers);
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
