//! `riskgrade monitor`: runs of one book at successive as-of dates (S3, PR1, M4).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{book_as_of, read_parquet, s};
use polars::prelude::*;

fn rg(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

/// A generated book as of the last date, cut back to each date and assessed there.
fn runs(tmp: &Path, customers: &str, dates: &[&str]) -> (PathBuf, Vec<PathBuf>) {
    runs_with(tmp, customers, dates, &[])
}

/// [`runs`], each assessed also with the extra flags given (e.g. `--model`) into `run-DATE`.
fn runs_with(
    tmp: &Path,
    customers: &str,
    dates: &[&str],
    extra: &[&str],
) -> (PathBuf, Vec<PathBuf>) {
    let last = dates[dates.len() - 1];
    let book = tmp.join("book");
    let (c, _, e) = rg(&[
        "generate",
        "-q",
        "--customers",
        customers,
        "--as-of",
        last,
        "--out",
        s(&book),
    ]);
    assert_eq!(c, 0, "{e}");
    let mut out = Vec::new();
    for d in dates {
        let data = tmp.join(format!("data-{d}"));
        book_as_of(&book, &data, d);
        let run = tmp.join(format!("run-{d}"));
        let mut args = vec![
            "assess",
            "-q",
            "--as-of",
            d,
            "--data",
            s(&data),
            "--out",
            s(&run),
        ];
        args.extend_from_slice(extra);
        let (c, _, e) = rg(&args);
        assert_eq!(c, 0, "{d}: {e}");
        out.push(run);
    }
    (book, out)
}

fn monitor_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("monitor.json")).unwrap()).unwrap()
}

fn scores(run: &Path) -> DataFrame {
    read_parquet(&run.join("scores.parquet"))
}

/// PSI the textbook way, written again here: shares per bin, 0 floored at 0.0001.
fn psi(e: &[f64], a: &[f64]) -> f64 {
    let (te, ta): (f64, f64) = (e.iter().sum(), a.iter().sum());
    e.iter()
        .zip(a)
        .map(|(e, a)| {
            let (e, a) = ((e / te).max(1e-4), (a / ta).max(1e-4));
            (a - e) * (a / e).ln()
        })
        .sum()
}

/// AUC by counting pairs (O(P·N)), ties ½: independent of the rank formula.
fn auc_pairs(pos: &[f64], neg: &[f64]) -> f64 {
    let mut wins = 0.0;
    for p in pos {
        for n in neg {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (pos.len() * neg.len()) as f64
}

/// KS by scanning every threshold of the combined scores.
fn ks_scan(pos: &[f64], neg: &[f64]) -> f64 {
    let mut all: Vec<f64> = pos.iter().chain(neg).copied().collect();
    all.sort_by(f64::total_cmp);
    all.dedup();
    all.iter()
        .map(|t| {
            let fp = pos.iter().filter(|x| *x <= t).count() as f64 / pos.len() as f64;
            let fn_ = neg.iter().filter(|x| *x <= t).count() as f64 / neg.len() as f64;
            (fp - fn_).abs()
        })
        .fold(0.0, f64::max)
}

fn col_f64(df: &DataFrame, c: &str) -> Vec<f64> {
    df.column(c)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        // A sub-item that does not apply to a customer's segment has no score: its own level.
        .map(|v| v.unwrap_or(-1.0))
        .collect()
}

fn col_str(df: &DataFrame, c: &str) -> Vec<String> {
    common::strs(df, c)
        .into_iter()
        .map(|v| v.unwrap_or_default())
        .collect()
}

#[test]
fn s3_pr1_m4_five_quarterly_runs_agree_with_an_independent_computation() {
    let tmp = tempfile::tempdir().unwrap();
    let dates = [
        "2026-06-30",
        "2026-09-30",
        "2026-12-31",
        "2027-03-31",
        "2027-06-30",
    ];
    let (book, runs) = runs(tmp.path(), "4000", &dates);
    let out = tmp.path().join("monitor");
    let mut args = vec![
        "monitor",
        "-q",
        "--horizon-months",
        "3",
        "--out",
        s(&out),
        "--runs",
    ];
    // Given out of order: the monitor orders them by date.
    for r in runs.iter().rev() {
        args.push(s(r));
    }
    let (c, o, e) = rg(&args);
    assert_eq!(c, 0, "{e}");
    assert!(o.contains("2026-06-30"), "{o}");
    let m = monitor_json(&out);
    for f in [
        "monitor.json",
        "monitor.csv",
        "monitor.html",
        "manifest.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // PSI of the total score: deciles of the first run (value at position ⌈k·n/10⌉).
    let first = col_f64(&scores(&runs[0]), "total_score");
    let mut sorted = first.clone();
    sorted.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..10)
        .map(|k| sorted[(k * sorted.len()).div_ceil(10) - 1])
        .collect();
    edges.dedup();
    let bins = |v: &[f64]| -> Vec<f64> {
        let mut c = vec![0.0; edges.len() + 1];
        for x in v {
            c[edges.iter().filter(|e| *e < x).count()] += 1.0;
        }
        c
    };
    let all: Vec<Vec<f64>> = runs
        .iter()
        .map(|r| bins(&col_f64(&scores(r), "total_score")))
        .collect();
    for i in 1..runs.len() {
        let got = &m["stability"]["total_score"][i];
        let prev = got["vs_previous"].as_f64().unwrap();
        let vs_first = got["vs_first"].as_f64().unwrap();
        assert!((prev - psi(&all[i - 1], &all[i])).abs() < 1e-12, "run {i}");
        assert!((vs_first - psi(&all[0], &all[i])).abs() < 1e-12, "run {i}");
    }
    // A sub-item's PSI over its levels.
    let lv = |r: &Path| col_f64(&scores(r), "s1_1");
    let (a, b) = (lv(&runs[0]), lv(&runs[1]));
    let mut levels: Vec<f64> = a.iter().chain(&b).copied().collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    let per = |v: &[f64]| -> Vec<f64> {
        levels
            .iter()
            .map(|l| v.iter().filter(|x| *x == l).count() as f64)
            .collect()
    };
    let s11 = m["stability"]["subitems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["subitem"] == "s1_1")
        .unwrap();
    let got = s11["runs"][1]["vs_previous"].as_f64().unwrap();
    assert!((got - psi(&per(&a), &per(&b))).abs() < 1e-12);
    // Back-test: suspicious reports within 3 months after each date, from the latest run's
    // book; runs whose horizon passes the latest date have no back-test.
    let reports = read_parquet(&tmp.path().join("data-2027-06-30/reports.parquet"));
    let customers = read_parquet(&tmp.path().join("data-2027-06-30/customers.parquet"));
    let ends: std::collections::HashMap<String, Option<i32>> = col_str(&customers, "customer_id")
        .into_iter()
        .zip(
            customers
                .column("relationship_end")
                .unwrap()
                .date()
                .unwrap()
                .physical()
                .iter(),
        )
        .collect();
    let kinds = col_str(&reports, "report_type");
    let rc = col_str(&reports, "customer_id");
    let rd: Vec<i32> = reports
        .column("report_date")
        .unwrap()
        .date()
        .unwrap()
        .physical()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    let day = |t: &str| {
        (chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").unwrap()
            - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
        .num_days() as i32
    };
    let horizon_end = [
        "2026-09-30",
        "2026-12-31",
        "2027-03-31",
        "2027-06-30",
        "2027-09-30",
    ];
    let mut tested = 0;
    for (i, r) in runs.iter().enumerate() {
        let got = &m["discrimination"]["runs"][i];
        let (lo, hi) = (day(dates[i]), day(horizon_end[i]));
        if hi > day("2027-06-30") {
            assert_eq!(got["horizon_complete"], false);
            assert!(got["auc"].is_null());
            continue;
        }
        let sc = scores(r);
        let ids = col_str(&sc, "customer_id");
        let tot = col_f64(&sc, "total_score");
        let (mut pos, mut neg, mut left) = (Vec::new(), Vec::new(), 0);
        for (id, t) in ids.iter().zip(&tot) {
            let reported = (0..rc.len())
                .any(|k| &rc[k] == id && kinds[k] == "suspicious" && rd[k] > lo && rd[k] <= hi);
            let stayed = match ends.get(id) {
                None => false,
                Some(None) => true,
                Some(Some(e)) => *e >= hi,
            };
            if reported {
                pos.push(*t);
            } else if stayed {
                neg.push(*t);
            } else {
                left += 1;
            }
        }
        assert_eq!(
            got["reported"].as_u64().unwrap() as usize,
            pos.len(),
            "run {i}"
        );
        assert_eq!(got["left_out"].as_u64().unwrap(), left, "run {i}");
        if pos.is_empty() {
            assert!(got["auc"].is_null());
            continue;
        }
        tested += 1;
        let auc = got["auc"].as_f64().unwrap();
        assert!(
            (auc - auc_pairs(&pos, &neg)).abs() < 1e-12,
            "run {i}: {auc}"
        );
        let ks = got["ks"].as_f64().unwrap();
        assert!((ks - ks_scan(&pos, &neg)).abs() < 1e-12, "run {i}: {ks}");
    }
    assert!(tested >= 2, "at least two runs back-tested");
    // Migration between the first two runs, counted again.
    let (a, b) = (scores(&runs[0]), scores(&runs[1]));
    let ga: std::collections::HashMap<String, String> = col_str(&a, "customer_id")
        .into_iter()
        .zip(col_str(&a, "grade"))
        .collect();
    let (mut both, mut changed) = (0u64, 0u64);
    for (id, g) in col_str(&b, "customer_id")
        .into_iter()
        .zip(col_str(&b, "grade"))
    {
        if let Some(x) = ga.get(&id) {
            both += 1;
            changed += u64::from(*x != g);
        }
    }
    let mig = &m["migration"][0];
    assert_eq!(mig["in_both"].as_u64().unwrap(), both);
    assert_eq!(mig["changed"].as_u64().unwrap(), changed);
    assert_eq!(mig["entered"].as_u64().unwrap(), b.height() as u64 - both);
    let total: u64 = mig["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .sum();
    assert_eq!(total, both);
    // The page loads in headless Chromium without console messages, its chart drawn.
    let (dom, console) = common::chromium_dom(&out.join("monitor.html"));
    assert!(dom.contains("data-ready=\"1\""), "chart not drawn");
    assert!(dom.contains("Discrimination, back-tested"));
    assert!(dom.contains("data-wide=\"false\""), "wider than 1280 px");
    assert!(console.is_empty(), "console messages: {console:?}");
    // In Chinese, the same page in the guideline's terms.
    let zh = tmp.path().join("monitor-zh");
    let mut args = vec![
        "monitor",
        "-q",
        "--lang",
        "zh",
        "--horizon-months",
        "3",
        "--out",
        s(&zh),
        "--runs",
    ];
    for r in &runs {
        args.push(s(r));
    }
    let (c, _, e) = rg(&args);
    assert_eq!(c, 0, "{e}");
    let (dom, console) = common::chromium_dom(&zh.join("monitor.html"));
    assert!(console.is_empty(), "console messages: {console:?}");
    for t in ["模型监测", "稳定性", "区分能力回测", "高风险"] {
        assert!(dom.contains(t), "{t}");
    }
    assert_eq!(
        std::fs::read(zh.join("monitor.json")).unwrap(),
        std::fs::read(out.join("monitor.json")).unwrap(),
        "the figures do not depend on the language"
    );
    // The monitor folder verifies, and the book it read is untouched.
    let (c, _, e) = rg(&["verify", "--run", s(&out)]);
    assert_eq!(c, 0, "{e}");
    assert!(book.join("customers.parquet").is_file());
}

#[test]
fn e96_monitor_refuses_one_run_and_two_runs_of_one_date() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, runs) = runs(tmp.path(), "300", &["2026-10-31"]);
    let out = tmp.path().join("m");
    let (c, _, e) = rg(&["monitor", "--runs", s(&runs[0]), "--out", s(&out)]);
    assert_eq!(c, 2, "{e}");
    assert!(e.contains("at least two runs"), "{e}");
    let (c, _, e) = rg(&[
        "monitor",
        "--runs",
        s(&runs[0]),
        s(&runs[0]),
        "--out",
        s(&out),
    ]);
    assert_eq!(c, 2, "{e}");
    assert!(e.contains("both as of 2026-10-31"), "{e}");
    assert!(!out.exists());
}

/// The default model with every sub-item's weight on S1.2 (onboarding channel), which the
/// generator draws independently of whether a customer will be reported.
fn channel_only_model(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(common::repo("data/models/default.toml")).unwrap();
    let mut out = String::new();
    let mut in_weights = false;
    for line in text.lines() {
        if line == "[segments.weights]" {
            in_weights = true;
            out += "[segments.weights]\ns1_2 = 100\n";
            continue;
        }
        if in_weights && line.starts_with('s') && line.contains(" = ") {
            continue;
        }
        in_weights = false;
        out += line;
        out += "\n";
    }
    let p = dir.join("channel.toml");
    std::fs::write(&p, out).unwrap();
    p
}

/// S3, PR1: the back-test tells a model that says nothing about later reports from one that
/// does. A model scoring only a feature drawn independently of the reports has an AUC near 0.5
/// (within sampling error of the few reported customers); the default model's is clearly
/// higher on the same book.
#[test]
fn s3_pr1_auc_is_near_half_for_an_unrelated_score_and_higher_for_the_default_model() {
    let tmp = tempfile::tempdir().unwrap();
    let dates = ["2026-06-30", "2027-06-30"];
    let auc = |dir: &Path, extra: &[&str]| -> (f64, u64) {
        let (_, runs) = runs_with(dir, "30000", &dates, extra);
        let out = dir.join("monitor");
        let (c, _, e) = rg(&[
            "monitor",
            "-q",
            "--out",
            s(&out),
            "--runs",
            s(&runs[0]),
            s(&runs[1]),
        ]);
        assert_eq!(c, 0, "{e}");
        let b = &monitor_json(&out)["discrimination"]["runs"][0];
        (b["auc"].as_f64().unwrap(), b["reported"].as_u64().unwrap())
    };
    let unrelated_dir = tmp.path().join("unrelated");
    std::fs::create_dir_all(&unrelated_dir).unwrap();
    let model = channel_only_model(tmp.path());
    let (unrelated, reported) = auc(&unrelated_dir, &["--model", s(&model)]);
    let default_dir = tmp.path().join("default");
    std::fs::create_dir_all(&default_dir).unwrap();
    let (default, _) = auc(&default_dir, &[]);
    eprintln!("AUC unrelated {unrelated}, default {default}, reported {reported}");
    assert!(reported >= 30, "{reported} reported customers");
    assert!(
        (unrelated - 0.5).abs() < 0.1,
        "unrelated score: AUC {unrelated}"
    );
    assert!(
        default > 0.6 && default > unrelated + 0.1,
        "default {default}, unrelated {unrelated}"
    );
}
