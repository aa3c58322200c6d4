//! Every row of docs/errors.md: a bad input, the message it gets and the exit code. Each case
//! starts from a copy of the bundled sample, breaks one thing and runs the program.

mod common;

use common::run::*;
use common::{read_parquet, repo};
use polars::prelude::*;

#[test]
fn e01_to_e04_usage_errors() {
    let e = env();
    let mut a = e.args();
    a.push("--bogus".into());
    let (c, s) = e.run_with(&a);
    assert_eq!(c, 2, "E01 {s}");
    assert!(s.contains("unexpected argument"), "E01 {s}");
    let mut a = e.args();
    a[3] = "2026-02-30".into();
    let (c, s) = e.run_with(&a);
    assert!(c == 2 && s.contains("YYYY-MM-DD"), "E02 {s}");
    let mut a = e.args();
    let n = a.len();
    a[n - 1] = e.data.to_str().unwrap().into();
    let (c, s) = e.run_with(&a);
    assert!(c == 2 && s.contains("is --data"), "E03 {s}");
    std::fs::create_dir_all(&e.out).unwrap();
    std::fs::write(e.out.join("notes.txt"), "mine").unwrap();
    let (c, s) = e.run();
    assert!(
        c == 2 && s.contains("not an earlier riskgrade output folder"),
        "E04 {s}"
    );
    assert_eq!(
        std::fs::read_to_string(e.out.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn e05_to_e15_model_errors() {
    let cases: Vec<(&str, &str, &str, &str)> = vec![
        ("E06", "[model]", "[model", "TOML parse error"),
        ("E07", "s1_2 = 5\n", "s1_2 = 6\n", "sum to 101"),
        (
            "E08",
            "s1_2 = 5\ns1_3 = 4\n",
            "s1_2 = 9\ns1_3 = 0\n",
            "weight > 0",
        ),
        (
            "E09",
            "map = { face_to_face = 1, affiliate = 2",
            "map = { face_to_face = 6, affiliate = 2",
            "outside 1..5",
        ),
        (
            "E10",
            "interval = \"(35, 50]\"",
            "interval = \"(36, 50]\"",
            "no gap",
        ),
        (
            "E11",
            "interval = \"(35, 50]\"",
            "interval = \"[35, 50]\"",
            "no overlap",
        ),
        (
            "E13",
            "feature = \"cash_total\"",
            "feature = \"cash_sum\"",
            "no feature 'cash_sum'",
        ),
        ("E14", "review_months = 24", "review_months = 36", "T2"),
        (
            "E15",
            "review_months = 12",
            "review_month = 12",
            "unknown field",
        ),
    ];
    for (id, from, to, needle) in cases {
        let e = env();
        e.edit_model(from, to);
        expect(id, &e, 2, needle);
    }
    let e = env();
    std::fs::remove_file(&e.model).unwrap();
    expect("E05", &e, 2, "cannot read");
    let e = env();
    let t = std::fs::read_to_string(&e.model).unwrap();
    let start = t.find("[[grades]]\nname = \"medium\"").unwrap();
    let end = start + t[start..].find("[[grades]]\nname = \"low\"").unwrap();
    std::fs::write(
        &e.model,
        format!("{}{}", &t[..start], &t[end..]).replace("[min, 35]", "[min, 50]"),
    )
    .unwrap();
    expect("E12", &e, 2, "at least three");
}

#[test]
fn e16_to_e19_missing_and_unreadable_files() {
    let e = env();
    std::fs::remove_dir_all(&e.data).unwrap();
    expect("E16", &e, 3, "does not exist");
    let e = env();
    std::fs::remove_file(e.data.join("transactions.parquet")).unwrap();
    expect("E17", &e, 3, "transactions.parquet: missing");
    let e = env();
    std::fs::write(
        e.data.join("customers.parquet"),
        b"customer_id,kind\nC1,natural\n",
    )
    .unwrap();
    expect("E18", &e, 3, "customers.parquet: cannot read as Parquet");
    let e = env();
    let p = e.data.join("accounts.parquet");
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    expect("E19", &e, 3, "accounts.parquet: cannot read as Parquet");
}

#[test]
fn e20_to_e31_contract_violations() {
    let e = env();
    e.edit("customers.parquet", |lf| lf.drop(cols(["kind"])));
    expect("E20", &e, 3, "customers.parquet: missing column 'kind'");
    let e = env();
    e.edit("transactions.parquet", |lf| {
        lf.with_column(col("amount").cast(DataType::String))
    });
    expect(
        "E21",
        &e,
        3,
        "column 'amount' has type str; the contract says f64",
    );
    let e = env();
    e.edit("customers.parquet", |lf| {
        set_first(lf, "customer_id", lit(NULL).cast(DataType::String))
    });
    expect("E22", &e, 3, "column 'customer_id' has null values");
    let e = env();
    e.edit("customers.parquet", |lf| {
        set_first(lf, "customer_id", lit("C0000000001"))
    });
    expect("E23", &e, 3, "P3");
    let e = env();
    e.edit("customers.parquet", |lf| {
        set_first(lf, "kind", lit("person"))
    });
    expect("E24", &e, 3, "column 'kind' has unknown codes; valid: natural, non_natural: 1 rows, first at customer_id C0000000000");
    let e = env();
    e.edit("transactions.parquet", |lf| {
        set_first(lf, "amount", lit(-5.0))
    });
    expect("E25", &e, 3, "column 'amount' has negative");
    let e = env();
    e.edit("transactions.parquet", |lf| {
        set_first(lf, "amount", lit(1e13))
    });
    expect("E26", &e, 3, "absurd");
    let e = env();
    e.edit("customers.parquet", |lf| {
        set_first(lf, "birth_date", lit(20_800).cast(DataType::Date))
    });
    expect(
        "E27",
        &e,
        3,
        "column 'birth_date' has dates after the as-of date 2026-10-31",
    );
    let e = env();
    e.edit("accounts.parquet", |lf| {
        set_first(lf, "opened_date", lit(-30_000).cast(DataType::Date))
    });
    expect(
        "E28",
        &e,
        3,
        "column 'opened_date' has dates before 1900-01-01",
    );
    let e = env();
    e.edit("customers.parquet", |lf| lf.limit(0));
    expect("E29", &e, 3, "customers.parquet: has no rows");
    let e = env();
    e.edit("grades.parquet", |lf| set_first(lf, "grade", lit("severe")));
    expect(
        "E30",
        &e,
        3,
        "grades.parquet: column 'grade' has grades the model does not know",
    );
    let e = env();
    e.edit("transactions.parquet", |lf| {
        set_first(lf, "txn_id", lit(1i64))
    });
    expect("E31", &e, 3, "1 duplicate values in key column 'txn_id'");
    // E31 in a file numbered in sequence (the fast path that proves uniqueness by strict
    // increase): two equal neighbours, and a repeat of the last id at the very end.
    let e = env();
    e.edit("transactions.parquet", |lf| {
        let lf = lf.sort(["txn_id"], Default::default());
        let first = lf
            .clone()
            .limit(1)
            .select([col("txn_id")])
            .collect()
            .unwrap();
        let v = first
            .column("txn_id")
            .unwrap()
            .i64()
            .unwrap()
            .get(0)
            .unwrap();
        lf.with_row_index("_i", None)
            .with_column(
                when(col("_i").eq(lit(1u32)))
                    .then(lit(v))
                    .otherwise(col("txn_id"))
                    .alias("txn_id"),
            )
            .drop(cols(["_i"]))
    });
    expect("E31", &e, 3, "1 duplicate values in key column 'txn_id'");
    let e = env();
    e.edit("transactions.parquet", |lf| {
        let lf = lf.sort(["txn_id"], Default::default());
        concat([lf.clone(), lf.tail(1)], UnionArgs::default()).unwrap()
    });
    expect("E31", &e, 3, "1 duplicate values in key column 'txn_id'");
    // Unique ids in no particular order are accepted.
    for (file, key) in [
        ("transactions.parquet", "txn_id"),
        ("customers.parquet", "customer_id"),
    ] {
        let e = env();
        e.edit(file, |lf| {
            lf.sort(
                [key],
                SortMultipleOptions::default().with_order_descending(true),
            )
        });
        let (code, stderr) = e.run();
        assert_eq!(code, 0, "descending unique {key}: {stderr}");
    }
}

#[test]
fn e32_to_e37_reference_and_codes() {
    let e = env();
    std::fs::remove_file(e.reference.join("countries.csv")).unwrap();
    expect("E32", &e, 3, "countries.csv");
    let e = env();
    let p = e.reference.join("fatf_lists_2026-06.csv");
    let t = std::fs::read_to_string(&p)
        .unwrap()
        .replacen("call_for_action", "blacklist", 1);
    std::fs::write(&p, t).unwrap();
    expect("E33", &e, 3, "fatf_status 'blacklist'");
    let e = env();
    std::fs::write(
        e.reference.join("calendar_2027.csv"),
        "date,kind\n2027-01-01,day_off\n",
    )
    .unwrap();
    expect("E34", &e, 3, "use holiday or workday");
    let e = env();
    e.edit("customers.parquet", |lf| {
        set_first(lf, "alert_level", lit(7u8))
    });
    expect("E35", &e, 3, "alert_level");
    let e = env();
    e.edit("customers.parquet", |lf| {
        set_first(lf, "nationality", lit("CHN"))
    });
    expect("E36", &e, 3, "ISO 3166-1 alpha-2");
    let e = env();
    e.edit("overrides.parquet", |lf| {
        set_first(lf, "grade", lit("extreme"))
    });
    expect(
        "E37",
        &e,
        3,
        "overrides.parquet: column 'grade' has grades the model does not know",
    );
}

/// S2.3: province and city codes are GB/T 2260, and a province agrees with its city.
#[test]
fn e38_to_e40_province_and_city_codes() {
    let e = env();
    e.edit("customers.parquet", |lf| {
        // The first customer lives in a city; give it another province.
        lf.with_column(
            when(col("residence_city").is_not_null())
                .then(lit("65"))
                .otherwise(col("residence_province"))
                .alias("residence_province"),
        )
    });
    expect(
        "E38",
        &e,
        3,
        "column 'residence_province' contradicts column 'residence_city'",
    );
    for (id, column, bad, needle) in [
        (
            "E39",
            "residence_province",
            "Yunnan",
            "not GB/T 2260 province codes",
        ),
        (
            "E39",
            "residence_province",
            "5300",
            "not GB/T 2260 province codes",
        ),
        (
            "E39",
            "residence_province",
            "5",
            "not GB/T 2260 province codes",
        ),
        ("E40", "residence_city", "530", "not GB/T 2260 city codes"),
        ("E40", "residence_city", "9901", "not GB/T 2260 city codes"),
    ] {
        let e = env();
        e.edit("customers.parquet", |lf| {
            lf.with_column(
                when(col(column).is_not_null())
                    .then(lit(bad))
                    .otherwise(col(column))
                    .alias(column),
            )
        });
        expect(id, &e, 3, needle);
    }
}

#[test]
fn w01_w02_rows_of_unknown_customers_are_counted_and_set_aside() {
    let e = env();
    e.edit("transactions.parquet", |lf| {
        set_first(lf, "customer_id", lit("NOBODY"))
    });
    e.edit("accounts.parquet", |lf| {
        set_first(lf, "customer_id", lit("NOBODY"))
    });
    let (code, stderr) = e.run();
    assert_eq!(code, 0, "{stderr}");
    let s = e.summary();
    let w = s["input_warnings"].as_array().unwrap();
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(w[0]["file"], "accounts.parquet");
    assert_eq!(w[0]["rows"], 1);
    assert_eq!(w[1]["file"], "transactions.parquet");
    let (code, _) = e.run_with(&[
        "validate".into(),
        "--data".into(),
        e.data.to_str().unwrap().into(),
        "--as-of".into(),
        "2026-10-31".into(),
    ]);
    assert_eq!(code, 0);
}

/// W01 in a file in customer order: an unknown customer id that sorts after every other (the
/// last row of grades.parquet) keeps the file in order, so its rows are counted by a merge with
/// the customers rather than by a join; the count is the same, one row.
#[test]
fn w01_unknown_customers_counted_in_a_file_in_customer_order() {
    let e = env();
    e.edit("grades.parquet", |lf| {
        set_last(lf, "customer_id", lit("ZZZ-NOBODY"))
    });
    let (code, stderr) = e.run();
    assert_eq!(code, 0, "{stderr}");
    let s = e.summary();
    let w = s["input_warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0]["file"], "grades.parquet");
    assert_eq!(w[0]["rows"], 1);
}

/// E22 when the files carry no row-group statistics: the null-count shortcut cannot prove
/// anything, so the values are read.
#[test]
fn e22_nulls_found_in_files_without_statistics() {
    let rewrite = |e: &Env, file: &str, f: &dyn Fn(LazyFrame) -> LazyFrame| {
        let path = e.data.join(file);
        let lf =
            LazyFrame::scan_parquet(PlRefPath::from(path.to_str().unwrap()), Default::default())
                .unwrap();
        let mut df = f(lf).collect().unwrap();
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .with_statistics(StatisticsOptions::empty())
            .finish(&mut df)
            .unwrap();
    };
    let e = env();
    rewrite(&e, "transactions.parquet", &|lf| lf);
    let (code, stderr) = e.run();
    assert_eq!(code, 0, "no statistics, no nulls: {stderr}");
    let e = env();
    rewrite(&e, "transactions.parquet", &|lf| {
        set_first(lf, "account_id", lit(NULL).cast(DataType::String))
    });
    expect(
        "E22",
        &e,
        3,
        "transactions.parquet: column 'account_id' has null values",
    );
}

#[test]
fn every_case_is_documented() {
    let doc = std::fs::read_to_string(repo("docs/errors.md")).unwrap();
    for i in 1..=77 {
        assert!(doc.contains(&format!("| E{i:02} |")), "E{i:02}");
    }
    assert!(doc.contains("| W01 |") && doc.contains("| W02 |") && doc.contains("| W03 |"));
}

/// The transactions' checks of an assessment are made as the features read the transactions,
/// range by range (three ranges here): a finding in any range gives the error, or the counted
/// warning, of the whole-file check, and the row count is the file's, rows outside the
/// look-back window included.
#[test]
fn e25_e31_e53_w01_transaction_checks_made_range_by_range() {
    let ranged = |e: &Env| {
        let mut a = e.args();
        a.extend(["--partition-rows".to_string(), "1000".to_string()]);
        e.run_with(&a)
    };
    let file = "transactions.parquet";
    let txn = read_parquet(&env().data.join(file));
    let n = txn.height() as u32;
    let (mid, last) = (n / 2, n - 1);
    let str_at = |c: &str, i: u32| {
        txn.column(c)
            .unwrap()
            .str()
            .unwrap()
            .get(i as usize)
            .unwrap()
            .to_string()
    };
    let refused = |e: &Env, id: &str, needle: &str| {
        let (code, stderr) = ranged(e);
        assert_eq!(code, 3, "{id}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{id}: expected '{needle}' in: {stderr}"
        );
        assert!(!e.out.exists(), "{id}: output written by a failed run");
    };

    // E25 in a middle range, then in the last.
    for row in [mid, last] {
        let e = env();
        e.edit(file, |lf| set_row(lf, "amount", row, lit(-5.0)));
        refused(&e, "E25", "column 'amount' has negative, non-finite or absurd values (valid: 0 to 1e12 CNY): 1 rows");
    }
    // E31: the middle row repeats the first row's id.
    let first_id = txn.column("txn_id").unwrap().i64().unwrap().get(0).unwrap();
    let e = env();
    e.edit(file, |lf| set_row(lf, "txn_id", mid, lit(first_id)));
    refused(&e, "E31", "1 duplicate values in key column 'txn_id'");
    // E53: the middle row on the first row's account, which is another customer's.
    assert_ne!(str_at("customer_id", 0), str_at("customer_id", mid));
    let e = env();
    e.edit(file, |lf| {
        set_row(lf, "account_id", mid, lit(str_at("account_id", 0)))
    });
    refused(&e, "E53", "1 rows are on an account of another customer");
    // W01: two rows of customers not in customers.parquet, one sorting into a middle range,
    // one after every customer; counted, set aside, the run completes.
    let e = env();
    let unknown = format!("{}X", str_at("customer_id", mid));
    e.edit(file, |lf| {
        set_row(
            set_row(lf, "customer_id", mid, lit(unknown)),
            "customer_id",
            last,
            lit("ZZZ"),
        )
    });
    let (code, stderr) = ranged(&e);
    assert_eq!(code, 0, "W01: {stderr}");
    let w = e.summary()["input_warnings"].clone();
    assert_eq!(w[0]["file"], file, "{w}");
    assert_eq!(w[0]["rows"], 2, "{w}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(e.out.join("manifest.json")).unwrap())
            .unwrap();
    let rows = manifest["input_rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"] == file)
        .map(|r| r["rows"].clone());
    assert_eq!(rows, Some(serde_json::json!(n)), "{manifest}");
}
