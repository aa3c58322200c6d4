//! `riskgrade extract`: the PBoC inspection tables of a run — scope, `@N`, `Risk_code` for three
//! and five grades, `Time` of a grade set by hand, `Norm` of scored and direct grades, the XLSX
//! read back, the GB18030 CSV decoded, reconciliation that refuses a broken row, and personal
//! data kept to the table files.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use calamine::{open_workbook, Reader, Xlsx};
use common::run::*;
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

/// Extracts the run of `e` for 2026-01-01 … 2026-10-31 (or the end given first in `extra`),
/// extracted on 2026-11-28.
fn extract(e: &Env, out: &Path, extra: &[&str]) -> (i32, String) {
    let (end, extra) = match extra.first() {
        Some(d) if d.starts_with("2026-") => (*d, &extra[1..]),
        _ => ("2026-10-31", extra),
    };
    let mut a = vec![
        "extract",
        "-q",
        "--run",
        s(&e.out),
        "--period-start",
        "2026-01-01",
        "--period-end",
        end,
        "--extracted-on",
        "2026-11-28",
        "--out",
        s(out),
    ];
    a.extend_from_slice(extra);
    riskgrade(&a)
}

/// A CSV file as rows of fields (the tables quote no field that holds no comma).
fn csv_rows(p: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(p).unwrap();
    text.lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

fn row_of<'a>(rows: &'a [Vec<String>], customer: &str) -> Option<&'a Vec<String>> {
    rows.iter().find(|r| r[1] == customer)
}

fn read(p: &Path) -> DataFrame {
    LazyFrame::scan_parquet(PlRefPath::from(s(p)), Default::default())
        .unwrap()
        .collect()
        .unwrap()
}

/// The customer ids of the sample with the given final basis.
fn with_basis(e: &Env, basis: &str) -> Vec<String> {
    let df = read(&e.out.join("scores.parquet"))
        .lazy()
        .filter(col("basis").eq(lit(basis)))
        .collect()
        .unwrap();
    strs(&df, "customer_id").into_iter().flatten().collect()
}

/// Scope: joined after the period, left before it are out; left during it or after it (by the
/// extraction day) are in. `@N` for a missing name. Risk_code 10/11/12 by grade. Time and Norm
/// by basis. Reconciled control file.
#[test]
fn scope_absent_values_codes_time_and_norm() {
    let e = env();
    // C…0: joined after the period; C…1: left before it; C…2: left during it; C…3: left
    // after it, before the run; C…4: no name on file.
    e.edit("customers.parquet", |lf| {
        let id = |i: u32| col("customer_id").eq(lit(format!("C{i:010}")));
        lf.with_columns([
            when(id(0))
                .then(lit(NaiveDateLit::d("2026-08-01")))
                .otherwise(col("relationship_start"))
                .alias("relationship_start"),
            when(id(1))
                .then(lit(NaiveDateLit::d("2025-12-01")))
                .when(id(2))
                .then(lit(NaiveDateLit::d("2026-03-01")))
                .when(id(3))
                .then(lit(NaiveDateLit::d("2026-09-01")))
                .otherwise(lit(NULL).cast(DataType::Date))
                .alias("relationship_end"),
            when(id(4))
                .then(lit(NULL).cast(DataType::String))
                .otherwise(col("customer_name"))
                .alias("customer_name"),
        ])
    });
    assert_eq!(e.run().0, 0);
    let out = e.out.parent().unwrap().join("inspection");
    let (code, msg) = extract(&e, &out, &["2026-06-30"]);
    assert_eq!(code, 0, "{msg}");
    let rows = csv_rows(&out.join("tb_risk_new.csv"));
    assert_eq!(
        rows[0],
        [
            "Bank_code1",
            "Cst_no",
            "Self_acc_name",
            "Id_no",
            "Acc_type",
            "Risk_code",
            "Time",
            "Norm"
        ]
    );
    assert!(
        row_of(&rows, "C0000000000").is_none(),
        "joined after the period"
    );
    assert!(
        row_of(&rows, "C0000000001").is_none(),
        "left before the period"
    );
    assert!(
        row_of(&rows, "C0000000002").is_some(),
        "left during the period"
    );
    assert!(
        row_of(&rows, "C0000000003").is_some(),
        "left after the period"
    );
    assert_eq!(row_of(&rows, "C0000000004").unwrap()[2], "@N");
    // Everyone else who joined by the period's end is in.
    let joined = read(&e.data.join("customers.parquet"))
        .lazy()
        .filter(col("relationship_start").lt_eq(lit(NaiveDateLit::d("2026-06-30"))))
        .collect()
        .unwrap()
        .height();
    assert_eq!(
        rows.len() - 1,
        joined - 1,
        "all who joined by the end but C…1"
    );
    // Risk_code = 9 + rank: high 10, medium 11, low 12; Acc_type 11 / 12 by kind.
    let scores = read(&e.out.join("scores.parquet"));
    let grade = strs(&scores, "grade");
    let ids = strs(&scores, "customer_id");
    let kinds = strs(&scores, "kind");
    for ((id, g), k) in ids.iter().zip(&grade).zip(&kinds) {
        let Some(r) = row_of(&rows, id.as_deref().unwrap()) else {
            continue;
        };
        let want = match g.as_deref().unwrap() {
            "high" => "10",
            "medium" => "11",
            _ => "12",
        };
        assert_eq!(r[5], want, "{id:?}");
        assert_eq!(
            r[4],
            if k.as_deref() == Some("natural") {
                "11"
            } else {
                "12"
            }
        );
    }
    // Time: the as-of date, or the day a grade set by hand was set.
    let overrides = read(&e.data.join("overrides.parquet"));
    let over = with_basis(&e, "override");
    assert!(!over.is_empty());
    for id in &over {
        let set_on = overrides
            .clone()
            .lazy()
            .filter(col("customer_id").eq(lit(id.clone())))
            .filter(col("set_on").lt_eq(lit(NaiveDateLit::d("2026-10-31"))))
            .select([col("set_on").max().dt().strftime("%Y%m%d")])
            .collect()
            .unwrap();
        let want = strs(&set_on, "set_on")[0].clone().unwrap();
        let Some(r) = row_of(&rows, id) else {
            continue;
        };
        assert_eq!(r[6], want, "{id}");
        assert!(r[7].starts_with("人工认定; 系统评定: "), "{}", r[7]);
    }
    let first = |basis: &str| {
        with_basis(&e, basis)
            .iter()
            .find_map(|id| row_of(&rows, id).cloned())
            .unwrap()
    };
    let r = first("scored");
    assert_eq!(r[6], "20261031");
    assert!(
        r[7].contains("与现金的关联程度 ") && r[7].contains("分; "),
        "{}",
        r[7]
    );
    let r = first("direct_highest");
    assert!(r[7].starts_with("直接评定为最高风险: 客户"), "{}", r[7]);
    let r = first("direct_low");
    assert!(r[7].starts_with("直接评定为低风险"), "{}", r[7]);
    assert!(rows.iter().all(|r| r[7].chars().count() <= 500));
    // The control file reconciles with the summary: 2 customers out of scope.
    let control: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("control.json")).unwrap()).unwrap();
    let out_of_scope: u64 = control["reconciliation"]["tb_risk_new_by_grade"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["out_of_scope"].as_u64().unwrap())
        .sum();
    assert_eq!(out_of_scope, 3000 - (joined as u64 - 1));
    assert_eq!(control["tables"]["tb_risk_new"]["rows"], joined as u64 - 1);
    // History: gradings within the period only, by customer and date.
    let his = csv_rows(&out.join("tb_risk_his.csv"));
    assert!(his[1..]
        .iter()
        .all(|r| r[6].as_str() >= "20260101" && r[6].as_str() <= "20260630"));
}

/// Five grades give Risk_code 10 to 14 (9 + rank).
#[test]
fn risk_code_for_five_grades() {
    let e = env();
    let t = std::fs::read_to_string(&e.model).unwrap();
    let start = t.find("[[grades]]").unwrap();
    let end = t.find("[[segments]]").unwrap();
    let five = r#"[[grades]]
name = "g1"
interval = "(42, 100]"
review_months = 6
[[grades]]
name = "g2"
interval = "(38, 42]"
review_months = 12
[[grades]]
name = "g3"
interval = "(34, 38]"
review_months = 24
[[grades]]
name = "g4"
interval = "(30, 34]"
review_months = 48
[[grades]]
name = "g5"
interval = "[min, 30]"
review_months = 48

"#;
    std::fs::write(&e.model, format!("{}{five}{}", &t[..start], &t[end..])).unwrap();
    // The grades on file and set by hand are of the three-grade model: drop them.
    std::fs::remove_file(e.data.join("grades.parquet")).unwrap();
    std::fs::remove_file(e.data.join("overrides.parquet")).unwrap();
    let (code, msg) = e.run();
    assert_eq!(code, 0, "{msg}");
    let out = e.out.parent().unwrap().join("x5");
    let (code, msg) = extract(&e, &out, &[]);
    assert_eq!(code, 0, "{msg}");
    let rows = csv_rows(&out.join("tb_risk_new.csv"));
    let scores = read(&e.out.join("scores.parquet"));
    let mut seen = std::collections::BTreeSet::new();
    for (id, g) in strs(&scores, "customer_id")
        .iter()
        .zip(strs(&scores, "grade"))
    {
        // A customer whose relationship ended before the period is out of scope.
        let Some(r) = row_of(&rows, id.as_deref().unwrap()) else {
            continue;
        };
        let rank: u32 = g.unwrap()[1..].parse().unwrap();
        assert_eq!(r[5], (9 + rank).to_string());
        seen.insert(r[5].clone());
    }
    assert!(seen.len() >= 4, "{seen:?}");
}

/// The XLSX read back equals the CSV; the GB18030 CSV decodes to the UTF-8 one; files are the
/// owner's only; the insurance profile adds Score and First_flag.
#[test]
fn xlsx_gb18030_permissions_and_profiles() {
    let e = env();
    assert_eq!(e.run().0, 0);
    let utf = e.out.parent().unwrap().join("utf");
    assert_eq!(extract(&e, &utf, &["--stats", "--xlsx"]).0, 0);
    let gb = e.out.parent().unwrap().join("gb");
    assert_eq!(extract(&e, &gb, &["--encoding", "gb18030"]).0, 0);
    for t in ["tb_risk_new.csv", "tb_risk_his.csv"] {
        let bytes = std::fs::read(gb.join(t)).unwrap();
        let (decoded, _, errors) = encoding_rs::GB18030.decode(&bytes);
        assert!(!errors);
        assert_eq!(
            decoded,
            std::fs::read_to_string(utf.join(t)).unwrap(),
            "{t}"
        );
        assert_ne!(
            bytes,
            std::fs::read(utf.join(t)).unwrap(),
            "{t} is re-encoded"
        );
    }
    let rows = csv_rows(&utf.join("tb_risk_new.csv"));
    let mut wb: Xlsx<_> = open_workbook(utf.join("tb_risk_new.xlsx")).unwrap();
    let sheet = wb.worksheet_range("tb_risk_new").unwrap();
    assert_eq!(sheet.rows().count(), rows.len());
    for i in [0, 1, 1500, rows.len() - 1] {
        let got: Vec<String> = sheet
            .rows()
            .nth(i)
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(got, rows[i], "row {i}");
    }
    for f in std::fs::read_dir(&utf).unwrap() {
        let p = f.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("tb_risk") || name.starts_with("stats") || name.starts_with("control") {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name}");
        }
    }
    assert!(utf.join("stats_grades.csv").exists() && utf.join("stats.xlsx").exists());
    let ins = e.out.parent().unwrap().join("ins");
    assert_eq!(extract(&e, &ins, &["--profile", "insurance"]).0, 0);
    let his = csv_rows(&ins.join("tb_risk_his.csv"));
    assert_eq!(his[0][8..], ["Score", "First_flag"]);
    assert!(his[1..].iter().all(|r| r[9] == "11" || r[9] == "12"));
    let new = csv_rows(&ins.join("tb_risk_new.csv"));
    assert!(new[1][8].contains('.'), "{:?}", new[1]);
}

/// Personal data stays in the table files: not in messages, the control file or the summary;
/// --mask replaces it.
#[test]
fn personal_data_only_in_the_tables() {
    let e = env();
    assert_eq!(e.run().0, 0);
    let out = e.out.parent().unwrap().join("x");
    let (code, msg) = extract(&e, &out, &[]);
    assert_eq!(code, 0);
    assert!(
        !msg.contains("Customer ") && !msg.contains("customer_name"),
        "{msg}"
    );
    let control = std::fs::read_to_string(out.join("control.json")).unwrap();
    assert!(!control.contains("Customer "));
    let masked = e.out.parent().unwrap().join("m");
    assert_eq!(
        extract(&e, &masked, &["--mask", "--salt", "0123456789abcdef"]).0,
        0
    );
    let rows = csv_rows(&masked.join("tb_risk_new.csv"));
    assert!(rows[1..]
        .iter()
        .all(|r| !r[2].starts_with("Customer") && r[2].len() == 32));
    let plain = csv_rows(&out.join("tb_risk_new.csv"));
    assert_ne!(rows[1][3], plain[1][3]);
}

/// A run whose outputs were changed after it is refused; so is one whose rows were changed
/// consistently with the manifest: the reconciliation with the summary catches it, and nothing
/// is written.
#[test]
fn a_broken_row_is_refused() {
    let e = env();
    assert_eq!(e.run().0, 0);
    // E73: a period the run does not lie in.
    let (code, msg) = riskgrade(&[
        "extract",
        "--run",
        s(&e.out),
        "--period-start",
        "2026-11-01",
        "--period-end",
        "2026-11-20",
        "--extracted-on",
        "2026-11-28",
        "--out",
        s(&e.out.parent().unwrap().join("y")),
    ]);
    assert_eq!(code, 2, "{msg}");
    assert!(msg.contains("outside the inspection period"), "{msg}");
    let scores = e.out.join("scores.parquet");
    let mut df = read(&scores);
    let g = strs(&df, "grade");
    let flipped: Vec<Option<String>> = g
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if i == 0 {
                Some(if v.as_deref() == Some("low") {
                    "high".into()
                } else {
                    "low".into()
                })
            } else {
                v.clone()
            }
        })
        .collect();
    df.with_column(Column::new("grade".into(), flipped))
        .unwrap();
    write(&mut df, &e.out, "scores.parquet");
    let out = e.out.parent().unwrap().join("x");
    let (code, msg) = extract(&e, &out, &[]);
    assert_eq!(code, 3, "{msg}");
    assert!(
        msg.contains("scores.parquet: changed since the run"),
        "{msg}"
    );
    // The manifest made to agree: the reconciliation refuses.
    let m = e.out.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
    let hash = riskgrade::io::sha256_file(&scores).unwrap();
    for o in manifest["outputs"].as_array_mut().unwrap() {
        if o["file"] == "scores.parquet" {
            o["sha256"] = serde_json::json!(hash);
        }
    }
    std::fs::write(&m, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    let (code, msg) = extract(&e, &out, &[]);
    assert_eq!(code, 3, "{msg}");
    assert!(msg.contains("reconciliation: tb_risk_new has"), "{msg}");
    assert!(!out.exists(), "nothing written");
}

/// Dates as polars literals.
struct NaiveDateLit;
impl NaiveDateLit {
    fn d(s: &str) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
}

/// The tables are built a range of customer ids at a time: three ranges of 1,000 customers give
/// the same files, byte for byte, as one range of the whole book; without `--xlsx` no workbook
/// is written.
#[test]
fn ranges_of_customers_give_the_same_tables() {
    let e = env();
    assert_eq!(e.run().0, 0);
    let one = e.out.parent().unwrap().join("one");
    let three = e.out.parent().unwrap().join("three");
    assert_eq!(extract(&e, &one, &["--xlsx"]).0, 0);
    let (code, msg) = extract(&e, &three, &["--partition-rows", "1000"]);
    assert_eq!(code, 0, "{msg}");
    for f in ["tb_risk_new.csv", "tb_risk_his.csv", "control.csv"] {
        assert_eq!(
            std::fs::read(one.join(f)).unwrap(),
            std::fs::read(three.join(f)).unwrap(),
            "{f}"
        );
    }
    assert!(one.join("tb_risk_new.xlsx").exists());
    assert!(!three.join("tb_risk_new.xlsx").exists());
    // One row (and the header) per customer of the sample in the period's scope: started by
    // 2026-10-31, not ended before 2026-01-01.
    let customers = common::read_parquet(&e.data.join("customers.parquet"));
    let in_scope = customers
        .lazy()
        .filter(
            col("relationship_end")
                .is_null()
                .or(col("relationship_end").gt_eq(lit(20454).cast(DataType::Date))),
        )
        .collect()
        .unwrap()
        .height();
    assert_eq!(csv_rows(&three.join("tb_risk_new.csv")).len(), in_scope + 1);
}
