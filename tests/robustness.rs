//! Runs that are killed part-way, and runs with different thread counts.

mod common;

use std::path::Path;
use std::process::Command;

use common::repo;
use riskgrade::generate::{generate, GenOptions};
use riskgrade::io::sha256_file;
use riskgrade::progress::Progress;

fn portfolio(dir: &Path, customers: u64) {
    let opts = GenOptions {
        customers,
        seed: 5,
        as_of: riskgrade::dates::days_since_epoch(
            chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        ),
        graph_only: false,
    };
    generate(&opts, dir, &Progress::new(true)).unwrap();
}

fn assess(data: &Path, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riskgrade"));
    c.args(["assess", "-q", "--as-of", "2026-10-31", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .arg("--model")
        .arg(repo("data/models/default.toml"))
        .arg("--reference")
        .arg(repo("data/reference"));
    c
}

fn hashes(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "manifest.json")
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                sha256_file(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn partials(parent: &Path) -> usize {
    std::fs::read_dir(parent)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".partial-")
        })
        .count()
}

/// Every output, `features.parquet` included (its amount totals are added exactly in fen, E3,
/// S3.1), is the same byte for byte at one thread and at two.
#[test]
fn one_and_two_threads_give_byte_identical_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    portfolio(&data, 20_000);
    let mut runs = Vec::new();
    for threads in ["1", "2"] {
        let out = tmp.path().join(format!("out{threads}"));
        let st = assess(&data, &out)
            .arg("--keep-features")
            .stdout(std::process::Stdio::null())
            .env("POLARS_MAX_THREADS", threads)
            .env("RAYON_NUM_THREADS", threads)
            .status()
            .unwrap();
        assert!(st.success());
        runs.push(hashes(&out));
    }
    // nine outputs (report.html and report.json included), features.parquet,
    // beneficial_owners.parquet (the book has an ownership graph) and the marker
    assert_eq!(runs[0].len(), 12);
    assert_eq!(runs[0], runs[1]);
}

#[test]
fn a_killed_run_leaves_the_previous_outputs_and_a_rerun_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    portfolio(&data, 400_000);
    let out = tmp.path().join("out");
    let started = std::time::Instant::now();
    assert!(assess(&data, &out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap()
        .success());
    // The rerun is killed at 70% of the first run's time (past the features, before the
    // outputs are committed), however fast this machine or the job is.
    let kill_after = started.elapsed().mul_f64(0.7);
    let before = hashes(&out);
    let manifest = std::fs::read(out.join("manifest.json")).unwrap();

    let mut child = assess(&data, &out)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(kill_after);
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        still_running,
        "the run finished before it could be killed; use more customers"
    );
    assert_eq!(hashes(&out), before);
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), manifest);
    // Nothing partial inside the output folder.
    assert_eq!(partials(&out), 0);

    assert!(assess(&data, &out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap()
        .success());
    assert_eq!(hashes(&out), before);
    // The rerun removed the staging folder the killed run left beside the output.
    assert_eq!(partials(tmp.path()), 0);
}

/// A customers file out of id order gives the outputs of the same book in id order, sorted by
/// customer (sorting is skipped only when the ids are found in order).
#[test]
fn customers_out_of_id_order_give_the_same_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    portfolio(&data, 3_000);
    let reversed = tmp.path().join("reversed");
    common::run::copy_dir(&data, &reversed);
    let path = reversed.join("customers.parquet");
    let mut df = polars::prelude::LazyFrame::scan_parquet(
        polars::prelude::PlRefPath::from(path.to_str().unwrap()),
        Default::default(),
    )
    .unwrap()
    .reverse()
    .collect()
    .unwrap();
    common::write(&mut df, &reversed, "customers.parquet");
    let (a, b) = (tmp.path().join("out_a"), tmp.path().join("out_b"));
    for (d, o) in [(&data, &a), (&reversed, &b)] {
        let st = assess(d, o)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
    }
    common::assert_same_outputs(&a, &b);
}

/// The window aggregates (S3.1–S3.5, E2's main counterparty countries, S3.3's high-risk
/// cross-border count) come from one fused pass over each range's rows when the transactions
/// come customer by customer, and from the engine's group-bys otherwise: every output is the
/// same byte for byte either way, at one thread and at two, in one range or several. A book
/// whose transactions are reordered by time (customers interleaved) leaves the pass and grades
/// the same.
#[test]
fn fused_window_pass_equals_the_engine_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    portfolio(&data, 20_000);
    let run = |data: &Path, name: &str, env: &[(&str, &str)], rows: &str| {
        let out = tmp.path().join(name);
        // Not quiet: the line about the window pass is wanted.
        let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
            .args(["assess", "--as-of", "2026-10-31", "--keep-features"])
            .args(["--partition-rows", rows, "--data"])
            .arg(data)
            .arg("--out")
            .arg(&out)
            .arg("--model")
            .arg(repo("data/models/default.toml"))
            .arg("--reference")
            .arg(repo("data/reference"))
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let parquet: Vec<_> = hashes(&out)
            .into_iter()
            .filter(|(f, _)| f.ends_with(".parquet"))
            .collect();
        (String::from_utf8_lossy(&o.stderr).to_string(), parquet)
    };
    let one = [("POLARS_MAX_THREADS", "1"), ("RAYON_NUM_THREADS", "1")];
    let engine = [("RISKGRADE_WINDOW_PASS", "engine")];
    let (log, fused) = run(&data, "fused", &[], "500000");
    assert!(
        log.contains("one pass over each range's rows (1 of 1 ranges)"),
        "{log}"
    );
    assert_eq!(fused.len(), 6, "{fused:?}");
    let (log, ranges) = run(&data, "ranges", &[], "3000");
    assert!(log.contains("(7 of 7 ranges)"), "{log}");
    let (_, single) = run(&data, "single", &one, "3000");
    let (log, by_engine) = run(&data, "engine", &engine, "3000");
    assert!(log.contains("grouped by the engine in 7 ranges"), "{log}");
    assert_eq!(fused, ranges);
    assert_eq!(fused, single);
    assert_eq!(fused, by_engine);

    // The same book with its transactions in time order: customers interleave.
    let shuffled = tmp.path().join("shuffled");
    std::fs::create_dir(&shuffled).unwrap();
    for e in std::fs::read_dir(&data).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "parquet") {
            std::fs::copy(&p, shuffled.join(p.file_name().unwrap())).unwrap();
        }
    }
    let path = data.join("transactions.parquet");
    let mut df = polars::prelude::LazyFrame::scan_parquet(
        polars::prelude::PlRefPath::from(path.to_str().unwrap()),
        Default::default(),
    )
    .unwrap()
    .sort(["ts", "txn_id"], Default::default())
    .collect()
    .unwrap();
    common::write(&mut df, &shuffled, "transactions.parquet");
    let (log, interleaved) = run(&shuffled, "interleaved", &[], "3000");
    assert!(log.contains("one pass in 0 of 7 ranges"), "{log}");
    assert!(log.contains("each customer's rows together"), "{log}");
    assert_eq!(fused, interleaved);
}
