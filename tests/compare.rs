//! `riskgrade compare`: a hand-computed small book checks the migration matrix, the band-edge
//! counts, the workload and the changed-customer list; on a generated book, every candidate's
//! grades equal those `assess` gives with that candidate as the model, from `--data` and from
//! `--features` alike.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use polars::prelude::*;

fn riskgrade(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args(args)
        .current_dir(repo(""))
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn read(p: &Path) -> DataFrame {
    LazyFrame::scan_parquet(PlRefPath::from(s(p)), Default::default())
        .unwrap()
        .collect()
        .unwrap()
}

/// The five natural persons of `tests/scoring.rs` (published table, m = 5): totals 80, 60, 92,
/// 61, 20 → medium, low, high, medium, low. The grid moves 1 point from `monitoring` (scored 1
/// by all but customer 2, who scores 5) to `age` (scored 5 by customers 0–3): Σ a·p changes by
/// 5 − 1 = +4 (customers 0, 1, 3), 0 (customer 2: 5 − 5), 0 (customer 4: 1 − 1), so totals
/// become 80.8 (high), 60.8 (medium), 92, 61.8, 20.
fn small_book(dir: &Path) -> std::path::PathBuf {
    let mut df = base_features(5);
    set_num(
        &mut df,
        "industry_cash_intensity",
        &[5.0, 5.0, 5.0, 5.0, 1.0],
    );
    set_num(
        &mut df,
        "max_single_amount",
        &[31e6, 30_000_000.01, 40e6, 35e6, 2e6],
    );
    set_num(&mut df, "txn_count", &[10.0, 12.0, 50.0, 10.0, 2.0]);
    set_num(&mut df, "industry_risk", &[5.0, 5.0, 5.0, 5.0, 1.0]);
    set_str(
        &mut df,
        "address_locality",
        &[
            "no_address",
            "no_address",
            "no_address",
            "no_address",
            "local",
        ],
    );
    set_num(&mut df, "age_years", &[15.0, 0.0, 15.0, 15.0, 40.0]);
    set_num(
        &mut df,
        "region_predicate_level",
        &[5.0, 1.0, 5.0, 2.0, 1.0],
    );
    set_str(
        &mut df,
        "onboarding_channel",
        &[
            "intermediary",
            "face_to_face",
            "intermediary",
            "face_to_face",
            "face_to_face",
        ],
    );
    set_str(
        &mut df,
        "pep_relation",
        &["foreign_pep", "none", "foreign_pep", "none", "none"],
    );
    set_str(
        &mut df,
        "id_doc_type",
        &[
            "passport",
            "resident_id",
            "passport",
            "resident_id",
            "resident_id",
        ],
    );
    set_num(&mut df, "str_count", &[0.0, 0.0, 1.0, 0.0, 0.0]);
    // Reviewed in the as-of month: the next reviews fall a period later.
    set_dates(&mut df, "relationship_start", &[Some("2020-01-01"); 5]);
    set_dates(&mut df, "last_reviewed", &[Some("2026-10-02"); 5]);
    common::run_with_features(&mut df, dir)
}

#[test]
fn hand_computed_migration_edges_workload_and_changed_list() {
    let tmp = tempfile::tempdir().unwrap();
    let features = small_book(tmp.path());
    let grid = tmp.path().join("grid.toml");
    std::fs::write(
        &grid,
        "[[moves]]\nfrom = \"monitoring\"\nto = \"age\"\nstart = 1\nend = 1\nstep = 1\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (code, msg) = riskgrade(&[
        "compare",
        "-q",
        "--baseline",
        "tests/models/published.toml",
        "--grid",
        s(&grid),
        "--features",
        s(&features),
        "--as-of",
        "2026-10-31",
        "--out",
        s(&out),
    ]);
    assert_eq!(code, 0, "{msg}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    let c = &j["candidates"][0];
    assert_eq!(c["name"], "monitoring_to_age_+1");
    assert_eq!(c["scoring_rules"], "same");
    // Rows baseline high, medium, low, not graded; columns the candidate's.
    assert_eq!(
        c["migration"],
        serde_json::json!([[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]])
    );
    assert_eq!(c["changed"]["up"], 2);
    assert_eq!(c["changed"]["down"], 0);
    // Within one point of 60 or 80: baseline 80, 60, 61; candidate 80.8, 60.8.
    assert_eq!(c["near_band_edge"], serde_json::json!([3, 2]));
    assert_eq!(c["highest_grade_change"], 1);
    // Periods high 6, medium 12, low 24 months, all reviewed in the as-of month: baseline
    // 2 + 1 + 4 + 2 + 1 = 10 reviews in 24 months, candidate 4 + 2 + 4 + 2 + 1 = 13.
    assert_eq!(c["workload_change"], 3);
    let wl = &c["workload"];
    assert_eq!(wl["baseline_by_month"][6], 1);
    assert_eq!(wl["candidate_by_month"][6], 2);
    // The STR back-test: the one customer with an STR is in the highest grade.
    assert_eq!(c["backtest"][0]["with_str"], 1);
    assert_eq!(c["backtest"][0]["str_share"], 1.0);
    // The changed customers, with both totals and grades and what moved them.
    let ch = read(&out.join("changed/monitoring_to_age_+1.parquet"));
    assert_eq!(
        strs(&ch, "customer_id"),
        vec![Some("C0".into()), Some("C1".into())]
    );
    assert_eq!(floats(&ch, "baseline_total"), vec![Some(80.0), Some(60.0)]);
    assert_eq!(floats(&ch, "candidate_total"), vec![Some(80.8), Some(60.8)]);
    assert_eq!(
        strs(&ch, "baseline_grade"),
        vec![Some("medium".into()), Some("low".into())]
    );
    assert_eq!(
        strs(&ch, "candidate_grade"),
        vec![Some("high".into()), Some("medium".into())]
    );
    assert_eq!(
        strs(&ch, "moved_by"),
        vec![
            Some("age:+1.00,monitoring:-0.20".into()),
            Some("age:+1.00,monitoring:-0.20".into())
        ]
    );
    // compare.csv: one row per candidate × dimension × grade.
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert!(
        csv.contains("monitoring_to_age_+1,all,all,high,1,2,1"),
        "{csv}"
    );
    // compare.html, the committee pack: loads in Chromium without console messages, fits
    // 1280 px, draws its charts and shows the migration matrix as compare.json has it.
    let (dom, console) = chromium_dom(&out.join("compare.html"));
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(dom.contains("data-wide=\"false\""), "wider than 1280 px");
    assert!(
        dom.contains("data-ready=\"3\""),
        "distribution and workload charts"
    );
    let m = dom
        .split("id=\"migration-monitoring_to_age_+1\"")
        .nth(1)
        .unwrap();
    let m = &m[..m.find("</table>").unwrap()];
    let cells: Vec<&str> = m
        .split("<td class=\"heat\"")
        .skip(1)
        .map(|c| &c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()])
        .collect();
    assert_eq!(
        cells,
        ["1", "0", "0", "0", "1", "1", "0", "0", "0", "1", "1", "0", "0", "0", "0", "0"]
    );
    // The pack in Chinese: the same figures, the guideline's terms.
    let zh = tmp.path().join("out-zh");
    let (code, msg) = riskgrade(&[
        "compare",
        "-q",
        "--lang",
        "zh",
        "--baseline",
        "tests/models/published.toml",
        "--grid",
        s(&grid),
        "--features",
        s(&features),
        "--as-of",
        "2026-10-31",
        "--out",
        s(&zh),
    ]);
    assert_eq!(code, 0, "{msg}");
    let (dom, console) = chromium_dom(&zh.join("compare.html"));
    assert!(console.is_empty(), "console messages: {console:?}");
    for t in ["模型比较", "风险等级分布", "可疑交易报告回测", "高风险"] {
        assert!(dom.contains(t), "{t}");
    }
}

/// A grid vector that would take a weight to 0 is refused naming the vector (W1); so is a
/// candidate file with an invalid model, naming the file and key.
#[test]
fn invalid_candidates_stop_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let features = small_book(tmp.path());
    let grid = tmp.path().join("grid.toml");
    std::fs::write(
        &grid,
        "[[moves]]\nfrom = \"age\"\nto = \"monitoring\"\nstart = 1\nend = 5\nstep = 1\n",
    )
    .unwrap();
    let args = |extra: &[&str]| {
        let mut a = vec![
            "compare",
            "--baseline",
            "tests/models/published.toml",
            "--features",
            s(&features),
            "--as-of",
            "2026-10-31",
            "--out",
        ];
        let out = tmp.path().join("out");
        let out = Box::leak(out.into_os_string().into_string().unwrap().into_boxed_str());
        a.push(out);
        a.extend_from_slice(extra);
        a.iter().map(|x| x.to_string()).collect::<Vec<_>>()
    };
    let a = args(&["--grid", s(&grid)]);
    let (code, msg) = riskgrade(&a.iter().map(|x| x.as_str()).collect::<Vec<_>>());
    assert_eq!(code, 2, "{msg}");
    assert!(
        msg.contains("age_to_monitoring_+5") && msg.contains("W1"),
        "{msg}"
    );
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(repo("tests/models/published.toml"))
            .unwrap()
            .replacen("age = 5", "age = 6", 1),
    )
    .unwrap();
    let a = args(&["--candidate", s(&bad)]);
    let (code, msg) = riskgrade(&a.iter().map(|x| x.as_str()).collect::<Vec<_>>());
    assert_eq!(code, 2, "{msg}");
    assert!(
        msg.contains("bad.toml") && msg.contains("sum to 101"),
        "{msg}"
    );
    assert!(!tmp.path().join("out").exists());
    // E70: a features file that is not assess's.
    let mut df = read(&features).drop("last_reviewed").unwrap();
    let partial = common::run_with_features(&mut df, &tmp.path().join("partial"));
    let ok_grid = tmp.path().join("ok.toml");
    std::fs::write(
        &ok_grid,
        "[[moves]]\nfrom = \"monitoring\"\nto = \"age\"\nstart = 1\nend = 1\nstep = 1\n",
    )
    .unwrap();
    let a = args(&["--grid", s(&ok_grid)]);
    let mut a: Vec<&str> = a.iter().map(|x| x.as_str()).collect();
    let at = a.iter().position(|x| *x == "--features").unwrap();
    a[at + 1] = s(&partial);
    let (code, msg) = riskgrade(&a);
    assert_eq!(code, 3, "{msg}");
    assert!(msg.contains("missing column 'last_reviewed'"), "{msg}");
}

/// The computed grades of a run, by customer.
fn grades_of(run: &Path) -> DataFrame {
    read(&run.join("scores.parquet"))
        .lazy()
        .select([col("customer_id"), col("computed_grade")])
        .sort(["customer_id"], Default::default())
        .collect()
        .unwrap()
}

/// Every candidate's grades equal `assess`'s with that candidate as the model, for every
/// customer: a weight move, bands and regional coefficients changed, other scoring rules
/// (rescored), and other exceptions. From --data and from --features the outputs are the same.
#[test]
fn compare_grades_equal_assess_grades_for_every_customer() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (code, msg) = riskgrade(&[
        "generate",
        "-q",
        "--customers",
        "20000",
        "--seed",
        "9",
        "--out",
        s(&data),
    ]);
    assert_eq!(code, 0, "{msg}");
    let base_text = std::fs::read_to_string(repo("data/models/default.toml")).unwrap();
    let cands = tmp.path().join("cands");
    std::fs::create_dir(&cands).unwrap();
    let variants: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "weights",
            vec![("s1_2 = 5\ns1_3 = 4\n", "s1_2 = 3.5\ns1_3 = 5.5\n")],
        ),
        (
            "bands_regional",
            vec![
                ("interval = \"(50, 100]\"", "interval = \"(45, 100]\""),
                ("interval = \"(35, 50]\"", "interval = \"(30, 45]\""),
                ("interval = \"[min, 35]\"", "interval = \"[min, 30]\""),
                ("B008 = 1.1 ", "B008 = 1.25 "),
                ("B009 = 1.05", "B009 = 1.05\nB001 = 1.3"),
            ],
        ),
        (
            "rules",
            vec![(
                "bins = [ { interval = \"[0, 50000)\", score = 1 }, { interval = \"[50000, 200000)\", score = 2 }",
                "bins = [ { interval = \"[0, 20000)\", score = 1 }, { interval = \"[20000, 200000)\", score = 3 }",
            )],
        ),
        (
            "exceptions",
            vec![("enabled = true", "enabled = false"), ("str_threshold = 2", "str_threshold = 3")],
        ),
    ];
    for (name, edits) in &variants {
        let mut t = base_text.clone();
        for (a, b) in edits {
            assert!(t.contains(a), "{name}: {a}");
            t = t.replacen(a, b, 1);
        }
        std::fs::write(cands.join(format!("{name}.toml")), t).unwrap();
    }
    let base_run = tmp.path().join("base");
    let (code, msg) = riskgrade(&[
        "assess",
        "-q",
        "--keep-features",
        "--as-of",
        "2026-10-31",
        "--data",
        s(&data),
        "--out",
        s(&base_run),
    ]);
    assert_eq!(code, 0, "{msg}");
    let base = grades_of(&base_run);
    let outs: Vec<std::path::PathBuf> = ["from_data", "from_features"]
        .iter()
        .map(|n| tmp.path().join(n))
        .collect();
    for (out, source) in outs.iter().zip([
        ["--data", s(&data)],
        ["--features", s(&base_run.join("features.parquet"))],
    ]) {
        let (code, msg) = riskgrade(&[
            "compare",
            "-q",
            "--baseline",
            "data/models/default.toml",
            "--candidates",
            s(&cands),
            source[0],
            source[1],
            "--as-of",
            "2026-10-31",
            "--out",
            s(out),
        ]);
        assert_eq!(code, 0, "{msg}");
    }
    let same = std::fs::read(outs[0].join("compare.json")).unwrap()
        == std::fs::read(outs[1].join("compare.json")).unwrap();
    assert!(same, "--data and --features give the same comparison");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outs[0].join("compare.json")).unwrap())
            .unwrap();
    for (name, _) in &variants {
        let run = tmp.path().join(format!("run_{name}"));
        let model = cands.join(format!("{name}.toml"));
        let (code, msg) = riskgrade(&[
            "assess",
            "-q",
            "--as-of",
            "2026-10-31",
            "--data",
            s(&data),
            "--model",
            s(&model),
            "--out",
            s(&run),
        ]);
        assert_eq!(code, 0, "{msg}");
        let want = grades_of(&run);
        let changed = read(&outs[0].join(format!("changed/{name}.parquet")));
        assert!(changed.height() > 0, "{name} changes someone");
        let got = base
            .clone()
            .lazy()
            .join(
                changed
                    .lazy()
                    .select([col("customer_id"), col("candidate_grade")]),
                [col("customer_id")],
                [col("customer_id")],
                JoinArgs::new(JoinType::Left),
            )
            .select([
                col("customer_id"),
                col("candidate_grade")
                    .fill_null(col("computed_grade"))
                    .alias("computed_grade"),
            ])
            .sort(["customer_id"], Default::default())
            .collect()
            .unwrap();
        assert!(got.equals(&want), "{name}: compare and assess disagree");
        let rules = j["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == *name)
            .unwrap()["scoring_rules"]
            .clone();
        assert_eq!(
            rules,
            if *name == "rules" { "rescored" } else { "same" },
            "{name}"
        );
    }
}
