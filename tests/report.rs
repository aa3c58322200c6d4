//! What people look at: `report.html` (self-contained, its numbers those of the summary, every
//! chart drawn and no script error in a real headless Chromium), `explain` (a rating sheet whose
//! numbers equal the scores for customers of every basis), progress lines, and a binary that
//! works from any folder with its built-in model and reference tables.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use polars::prelude::*;

fn riskgrade_in(dir: &Path, bin: &Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_riskgrade"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A run of the sample, with the features kept.
fn run_sample(out: &Path) {
    let (code, _, err) = riskgrade_in(
        &repo(""),
        &bin(),
        &[
            "assess",
            "-q",
            "--keep-features",
            "--as-of",
            "2026-10-31",
            "--out",
            s(out),
        ],
    );
    assert_eq!(code, 0, "{err}");
}

const CHARTS: &[&str] = &[
    "chart-grades",
    "chart-segment",
    "chart-branch",
    "chart-histogram",
    "chart-elements",
    "chart-exceptions",
    "chart-reasons",
    "chart-due",
];

#[test]
fn report_is_self_contained_and_says_what_the_summary_says() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run_sample(&out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for bad in [
        "src=\"http",
        "href=\"http",
        "<link",
        "<script src",
        "@import",
    ] {
        assert!(!html.contains(bad), "fetches something: {bad}");
    }
    for id in CHARTS {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for (g, n) in summary["grades"].as_object().unwrap() {
        let row = format!("<tr><td>{g}</td><td>{n}</td>");
        assert!(html.contains(&row), "{row}");
    }
    let r = &summary["reclassification"];
    assert!(html.contains(&format!(
        "{} customers need action, {} overdue",
        r["customers_needing_action"], r["overdue"]
    )));
    // No customer's row: no customer number appears.
    assert!(!html.contains("C000000"), "aggregates only");
    // The manifest lists and hashes it.
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"report.html\""));
}

/// Chromium, headless, loads the report from disk: the page's own check finds every chart
/// drawn, and the browser logs no console message (no script error).
#[test]
fn report_renders_in_headless_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run_sample(&out);
    let (dom, console) = chromium_dom(&out.join("report.html"));
    assert!(
        dom.contains(&format!("data-ready=\"{}\"", CHARTS.len())),
        "charts drawn: {}",
        dom.split("data-ready")
            .nth(1)
            .unwrap_or("none")
            .chars()
            .take(20)
            .collect::<String>()
    );
    assert!(console.is_empty(), "console messages: {console:?}");
    // At 1280 px the page does not scroll sideways.
    assert!(
        dom.contains("data-wide=\"false\""),
        "the page is wider than 1280 px"
    );
    // The headline: customers, the highest grade's share, to act on, overdue (summary.json).
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let head = dom.split("id=\"headline\"").nth(1).unwrap();
    let head = &head[..head.find("</div></div>").unwrap()];
    let rec = &summary["reclassification"];
    for n in [
        summary["customers"].as_u64().unwrap(),
        rec["customers_needing_action"].as_u64().unwrap(),
        rec["overdue"].as_u64().unwrap(),
    ] {
        assert!(head.contains(&format!("<b>{n}</b>")), "{n} in {head}");
    }
    let high = summary["grades"]["high"].as_u64().unwrap();
    let share = high as f64 * 100.0 / summary["customers"].as_f64().unwrap();
    assert!(
        head.contains(&format!("<b>{share:.2}%</b>high ({high})")),
        "{head}"
    );
    // Every bar of the grade chart carries its count, however small beside the others.
    let grades = dom.split("id=\"chart-grades\"").nth(1).unwrap();
    let grades = &grades[..grades.find("</figure>").unwrap()];
    for (g, n) in summary["grades"].as_object().unwrap() {
        assert!(grades.contains(&format!(">{n}</text>")), "{g}: {n}");
    }
}

/// The rating sheet's numbers equal scores.parquet for customers of every basis: sub-item
/// scores, Σ score × weight, totals, grade and basis; the worst applying rule gives the score.
#[test]
fn explain_equals_the_scores_for_every_basis() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run_sample(&out);
    let scores = LazyFrame::scan_parquet(
        PlRefPath::from(s(&out.join("scores.parquet"))),
        Default::default(),
    )
    .unwrap()
    .collect()
    .unwrap();
    for basis in ["scored", "direct_highest", "direct_low", "override"] {
        let rows = scores
            .clone()
            .lazy()
            .filter(col("basis").eq(lit(basis)))
            .limit(2)
            .collect()
            .unwrap();
        assert!(rows.height() > 0, "{basis}");
        for (i, id) in strs(&rows, "customer_id").into_iter().enumerate() {
            let id = id.unwrap();
            let (code, json, err) = riskgrade_in(
                &repo(""),
                &bin(),
                &["explain", "--run", s(&out), "--customer", &id, "--json"],
            );
            assert_eq!(code, 0, "{err}");
            let sheet: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(sheet["basis"], basis);
            assert_eq!(sheet["grade"], strs(&rows, "grade")[i].clone().unwrap());
            assert_eq!(
                sheet["weighted_sum"],
                ints(&rows, "weighted_sum")[i].unwrap()
            );
            assert_eq!(
                sheet["adjusted_score"].as_f64(),
                floats(&rows, "adjusted_score")[i]
            );
            assert!(sheet["identity"].is_null(), "no personal data unless asked");
            let mut sum = 0i64;
            for l in sheet["subitems"].as_array().unwrap() {
                let sid = l["id"].as_str().unwrap();
                let score = l["score"].as_i64().unwrap();
                assert_eq!(Some(score), ints(&rows, sid)[i], "{id} {sid}");
                let w: f64 = l["weight"].as_str().unwrap().parse().unwrap();
                sum += score * (w * 100.0).round() as i64;
                if !l["missing"].as_bool().unwrap() {
                    let worst = l["rules"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(|r| r["score"].as_i64())
                        .max();
                    assert_eq!(worst, Some(score), "{id} {sid}");
                }
            }
            assert_eq!(sum, ints(&rows, "weighted_sum")[i].unwrap(), "{id}");
        }
    }
    // A run without the features says so.
    let plain = tmp.path().join("plain");
    let (code, _, _) = riskgrade_in(
        &repo(""),
        &bin(),
        &["assess", "-q", "--as-of", "2026-10-31", "--out", s(&plain)],
    );
    assert_eq!(code, 0);
    let (code, _, err) = riskgrade_in(
        &repo(""),
        &bin(),
        &["explain", "--run", s(&plain), "--customer", "C0000000001"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("made without --keep-features"), "{err}");
}

/// An installed binary run outside the repository: the built-in model and reference tables,
/// said on standard error and in the manifest; `init` writes them out for editing.
#[test]
fn works_from_any_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let b = tmp.path().join("riskgrade");
    std::fs::copy(bin(), &b).unwrap();
    let data = repo("data/sample");
    let (code, _, err) = riskgrade_in(
        tmp.path(),
        &b,
        &[
            "assess",
            "--as-of",
            "2026-10-31",
            "--data",
            s(&data),
            "--out",
            "run",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("model built-in:default.toml; reference tables built-in:reference"),
        "{err}"
    );
    assert!(
        err.contains("feature ranges: 1 done"),
        "progress lines: {err}"
    );
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("run/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["model_file"], "built-in:default.toml");
    let (code, out, _) = riskgrade_in(tmp.path(), &b, &["verify", "--run", "run"]);
    assert_eq!(code, 0, "{out}");
    // The same grades as in the repository with its files.
    let inrepo = tmp.path().join("inrepo");
    let (code, _, _) = riskgrade_in(
        &repo(""),
        &bin(),
        &["assess", "-q", "--as-of", "2026-10-31", "--out", s(&inrepo)],
    );
    assert_eq!(code, 0);
    assert_eq!(
        std::fs::read(tmp.path().join("run/scores.parquet")).unwrap(),
        std::fs::read(inrepo.join("scores.parquet")).unwrap()
    );
    let (code, out, _) = riskgrade_in(tmp.path(), &b, &["init", "inst"]);
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = riskgrade_in(
        tmp.path(),
        &b,
        &[
            "assess",
            "-q",
            "--as-of",
            "2026-10-31",
            "--data",
            s(&data),
            "--model",
            "inst/model.toml",
            "--reference",
            "inst/reference",
            "--out",
            "run2",
        ],
    );
    assert_eq!(code, 0, "{err}");
    // Quiet: no progress line at all.
    let (_, _, err) = riskgrade_in(
        tmp.path(),
        &b,
        &[
            "assess",
            "-q",
            "--as-of",
            "2026-10-31",
            "--data",
            s(&data),
            "--out",
            "run3",
        ],
    );
    assert!(err.is_empty(), "{err}");
}

/// The pages in the users' language: `--lang zh` writes report.html in Chinese, in the
/// guideline's terms (风险等级, 高风险 …), as `[model] language = "zh"` does without the flag;
/// it loads in Chromium without console messages and draws every chart. A language other than
/// en or zh in the model is refused (E97).
#[test]
fn e97_report_in_chinese_by_flag_or_by_the_model() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("zh");
    let (code, _, err) = riskgrade_in(
        &repo(""),
        &bin(),
        &[
            "assess",
            "-q",
            "--keep-features",
            "--as-of",
            "2026-10-31",
            "--lang",
            "zh",
            "--out",
            s(&out),
        ],
    );
    assert_eq!(code, 0, "{err}");
    // The rating sheet in Chinese, as text and as a page.
    let page = tmp.path().join("sheet.html");
    let (code, text, err) = riskgrade_in(
        &repo(""),
        &bin(),
        &[
            "explain",
            "--run",
            s(&out),
            "--customer",
            "C0000000242",
            "--lang",
            "zh",
            "--html",
            s(&page),
        ],
    );
    assert_eq!(code, 0, "{err}");
    for zh in [
        "客户风险等级评定表",
        "最终风险等级",
        "加权和",
        "受益所有人（L-BOI6）",
    ] {
        assert!(text.contains(zh), "{zh}: {text}");
    }
    assert!(std::fs::read_to_string(&page)
        .unwrap()
        .contains("客户风险等级评定表"));
    let (dom, console) = chromium_dom(&out.join("report.html"));
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(dom.contains(&format!("data-ready=\"{}\"", CHARTS.len())));
    assert!(dom.contains("lang=\"zh-CN\""));
    for zh in [
        "风险等级分布",
        "各风险等级客户数",
        "待办清单",
        "高风险",
        "定期审核到期（T2）",
    ] {
        assert!(dom.contains(zh), "{zh}");
    }
    for en in [
        "Grade distribution",
        "Customers per grade",
        "Work list",
        "review_due",
    ] {
        assert!(!dom.contains(en), "{en} left in English");
    }
    // The model's language, without the flag.
    let text = std::fs::read_to_string(repo("data/models/default.toml")).unwrap();
    let zh_model = tmp.path().join("zh.toml");
    std::fs::write(
        &zh_model,
        text.replacen("[model]\n", "[model]\nlanguage = \"zh\"\n", 1),
    )
    .unwrap();
    let out2 = tmp.path().join("zh2");
    let (code, _, err) = riskgrade_in(
        &repo(""),
        &bin(),
        &[
            "assess",
            "-q",
            "--as-of",
            "2026-10-31",
            "--model",
            s(&zh_model),
            "--out",
            s(&out2),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(out2.join("report.html")).unwrap();
    assert!(page.contains("风险等级分布"));
    let bad = tmp.path().join("fr.toml");
    std::fs::write(
        &bad,
        text.replacen("[model]\n", "[model]\nlanguage = \"fr\"\n", 1),
    )
    .unwrap();
    let (code, _, err) = riskgrade_in(
        &repo(""),
        &bin(),
        &[
            "assess",
            "-q",
            "--as-of",
            "2026-10-31",
            "--model",
            s(&bad),
            "--out",
            s(&tmp.path().join("fr")),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("model.language") && err.contains("zh"),
        "{err}"
    );
}
