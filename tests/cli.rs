//! The command-line program as a user meets it: the README's first command, exit codes, and
//! outputs that a failed run leaves untouched.

mod common;

use std::process::Command;

use common::repo;
use riskgrade::io::sha256_file;

fn riskgrade(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args(args)
        .current_dir(repo(""))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn assess_runs_on_the_bundled_sample_with_defaults() {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("run");
    let (code, stdout, stderr) = riskgrade(&[
        "assess",
        "--as-of",
        "2026-10-31",
        "--out",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("graded 3000 customers"), "{stdout}");
    for f in [
        "scores.parquet",
        "distribution.csv",
        "summary.json",
        "manifest.json",
    ] {
        assert!(dest.join(f).exists(), "{f}");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dest.join("manifest.json")).unwrap())
            .unwrap();
    let inputs = manifest["inputs"].as_array().unwrap();
    let cust = inputs
        .iter()
        .find(|i| i["file"].as_str().unwrap().ends_with("customers.parquet"))
        .unwrap();
    assert_eq!(
        cust["sha256"].as_str().unwrap(),
        sha256_file(&repo("data/sample/customers.parquet")).unwrap()
    );
    assert_eq!(manifest["model"]["meta"]["m"], 5);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dest.join("summary.json")).unwrap()).unwrap();
    let total: u64 = summary["grades"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 3000, "P2: every customer gets a grade");
    // No staging folder is left beside the output.
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(left.len(), 1);
}

#[test]
fn invalid_model_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.toml");
    let text = std::fs::read_to_string(repo("data/models/default.toml"))
        .unwrap()
        .replace("s1_2 = 5\n", "s1_2 = 6\n");
    std::fs::write(&model, text).unwrap();
    let (code, _, stderr) = riskgrade(&["validate", "--model", model.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("segments[0] (natural).weights") && stderr.contains("101"),
        "{stderr}"
    );
}

#[test]
fn missing_input_exits_3_and_keeps_previous_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("run");
    let d = dest.to_str().unwrap();
    let (code, _, stderr) = riskgrade(&["assess", "-q", "--as-of", "2026-10-31", "--out", d]);
    assert_eq!(code, 0, "{stderr}");
    let before = sha256_file(&dest.join("scores.parquet")).unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, stderr) = riskgrade(&[
        "assess",
        "-q",
        "--data",
        empty.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--out",
        d,
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("customers.parquet"), "{stderr}");
    assert_eq!(sha256_file(&dest.join("scores.parquet")).unwrap(), before);
}

#[test]
fn out_equal_to_data_is_refused() {
    let (code, _, stderr) = riskgrade(&["assess", "-q", "--out", "data/sample"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("is --data") && stderr.contains("which this command reads"),
        "{stderr}"
    );
}

#[test]
fn bad_date_is_a_usage_error() {
    let (code, _, stderr) = riskgrade(&["assess", "--as-of", "2026-13-01"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("YYYY-MM-DD"), "{stderr}");
}

#[test]
fn w2_three_level_model_runs_end_to_end_on_the_sample() {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("run");
    let model = repo("tests/models/three_level.toml");
    let (code, stdout, stderr) = riskgrade(&[
        "assess",
        "-q",
        "--as-of",
        "2026-10-31",
        "--model",
        model.to_str().unwrap(),
        "--out",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("graded 3000 customers with model three-level"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dest.join("summary.json")).unwrap()).unwrap();
    let grades = summary["grades"].as_object().unwrap();
    assert_eq!(
        grades.keys().cloned().collect::<Vec<_>>(),
        ["high", "medium", "low"]
    );
    assert_eq!(
        grades.values().map(|v| v.as_u64().unwrap()).sum::<u64>(),
        3000
    );
}

#[test]
fn sc2_walk_in_customers_left_out_when_the_model_says_so() {
    use polars::prelude::*;
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("m.toml");
    let text = std::fs::read_to_string(repo("data/models/default.toml"))
        .unwrap()
        .replace("grade_walk_in = true", "grade_walk_in = false");
    std::fs::write(&model, text).unwrap();
    let dest = out.path().join("run");
    let (code, _, stderr) = riskgrade(&[
        "assess",
        "-q",
        "--as-of",
        "2026-10-31",
        "--model",
        model.to_str().unwrap(),
        "--out",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let walk_in = LazyFrame::scan_parquet(
        PlRefPath::from(repo("data/sample/customers.parquet").to_str().unwrap()),
        Default::default(),
    )
    .unwrap()
    .filter(col("walk_in"))
    .collect()
    .unwrap()
    .height();
    assert!(walk_in > 0);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dest.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["customers"].as_u64().unwrap() as usize,
        3000 - walk_in
    );
}

#[test]
fn m4_verify_finds_changed_outputs() {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("run");
    let d = dest.to_str().unwrap();
    let (code, _, stderr) = riskgrade(&["assess", "-q", "--as-of", "2026-10-31", "--out", d]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = riskgrade(&["verify", "--run", d]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("match the manifest"), "{stdout}");
    let mut csv = std::fs::read_to_string(dest.join("reclassify.csv")).unwrap();
    csv.push_str("edited\n");
    std::fs::write(dest.join("reclassify.csv"), csv).unwrap();
    let (code, stdout, _) = riskgrade(&["verify", "--run", d]);
    assert_eq!(code, 4, "{stdout}");
    assert!(
        stdout.contains("changed:") && stdout.contains("reclassify.csv"),
        "{stdout}"
    );
}

/// Every bundled model that validates also runs: each model of data/models and tests/models
/// assesses the sample (among them one with no built-in direct-highest condition).
#[test]
fn every_bundled_model_assesses_the_sample() {
    let out = tempfile::tempdir().unwrap();
    let mut models = Vec::new();
    for dir in ["data/models", "tests/models"] {
        for e in std::fs::read_dir(repo(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                models.push(p);
            }
        }
    }
    assert!(models.len() >= 3, "{models:?}");
    for (i, m) in models.iter().enumerate() {
        let dest = out.path().join(format!("run{i}"));
        let (code, stdout, stderr) = riskgrade(&[
            "assess",
            "-q",
            "--as-of",
            "2026-10-31",
            "--model",
            m.to_str().unwrap(),
            "--out",
            dest.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{}: {stderr}", m.display());
        assert!(stdout.contains("graded 3000 customers"), "{stdout}");
    }
}
