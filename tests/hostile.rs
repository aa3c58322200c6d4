//! Hostile but realistic inputs and faults beyond the basic contract (docs/errors.md E41–E67):
//! no silent wrong grade, no panic, no lost file. Each case starts from a copy of the sample,
//! breaks one thing and runs the program.

mod common;

use std::path::Path;
use std::process::Command;

use common::repo;
use common::run::*;
use polars::prelude::*;

fn riskgrade(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stderr),
            String::from_utf8_lossy(&o.stdout)
        ),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Country codes are exactly ISO 3166-1 alpha-2: lower case, blanks, accents and digits would
/// match no reference row and grade a sanctioned country as harmless (S2.1).
#[test]
fn e41_e42_e43_country_codes_are_refused_not_matched_silently() {
    for (file, column, bad) in [
        ("customers.parquet", "nationality", "kp"),
        ("customers.parquet", "nationality", "  "),
        ("customers.parquet", "bo_country", "é"),
        ("transactions.parquet", "counterparty_country", "K1"),
        ("transactions.parquet", "ip_country", "ZZ"),
    ] {
        let e = env();
        e.edit(file, |lf| set_first(lf, column, lit(bad)));
        expect(
            "E41",
            &e,
            3,
            &format!("column '{column}' has values that are not ISO 3166-1"),
        );
    }
    let e = env();
    e.edit_reference("countries.csv", |t| t.replacen("\nKP,", "\nkp,", 1));
    expect("E42", &e, 3, "countries.csv: row");
    let (_, msg) = e.run();
    assert!(
        msg.contains("iso2 'kp' is not an ISO 3166-1 alpha-2 code"),
        "{msg}"
    );
    let e = env();
    e.edit_model("home_country = \"CN\"", "home_country = \"cn\"");
    expect(
        "E43",
        &e,
        2,
        "features.home_country: 'cn' is not an ISO 3166-1",
    );
}

/// Paths are paths: a folder named with glob characters is read as itself, not as a pattern
/// matching its siblings.
#[test]
fn e44_data_folder_with_glob_characters_is_read_as_named() {
    let e = env();
    let parent = e.data.parent().unwrap();
    let globbed = parent.join("port[1]");
    copy_dir(&e.data, &globbed);
    // A sibling the pattern would match, holding something else.
    std::fs::create_dir_all(parent.join("port1")).unwrap();
    let mut a = e.args();
    let i = a.iter().position(|x| x == "--data").unwrap();
    a[i + 1] = s(&globbed).into();
    let (code, msg) = e.run_with(&a);
    assert_eq!(code, 0, "{msg}");
    assert_eq!(e.summary()["customers"], 3000);
}

/// A user's folder that happens to hold a manifest.json is not a run: nothing in it is removed.
#[test]
fn e45_out_with_a_foreign_manifest_is_left_alone() {
    let e = env();
    std::fs::create_dir_all(&e.out).unwrap();
    std::fs::write(e.out.join("manifest.json"), "{\"mine\": true}").unwrap();
    std::fs::write(e.out.join("plan.xlsx"), "mine").unwrap();
    let (code, msg) = e.run();
    assert_eq!(code, 2, "E45: {msg}");
    assert!(
        msg.contains("not an earlier riskgrade output folder"),
        "{msg}"
    );
    assert!(e.out.join("plan.xlsx").exists() && e.out.join("manifest.json").exists());
    // A run folder with a file added by hand is not replaced either.
    let e = env();
    assert_eq!(e.run().0, 0);
    std::fs::write(e.out.join("my_notes.txt"), "keep").unwrap();
    let (code, msg) = e.run();
    assert_eq!(code, 2, "{msg}");
    assert!(
        msg.contains("'my_notes.txt', which riskgrade did not write"),
        "{msg}"
    );
    assert!(e.out.join("my_notes.txt").exists());
}

/// W1, W3, W4: weights that overflow fixed point and bands no customer can reach are refused.
#[test]
fn e46_e47_weights_that_overflow_and_bands_below_the_minimum() {
    let e = env();
    e.edit_model("s1_2 = 5\ns1_3 = 4\n", "s1_2 = 1e300\ns1_3 = 1e300\n");
    expect("E46", &e, 2, "weight 1e300; use a number from 0.01 to 100");
    // m = 3: the minimum total is 33.33; a low band ending at 20 is unreachable.
    let e = env();
    std::fs::copy(repo("tests/models/three_level.toml"), &e.model).unwrap();
    let t = std::fs::read_to_string(&e.model).unwrap();
    let ivs: Vec<String> = t
        .lines()
        .filter(|l| l.starts_with("interval"))
        .map(String::from)
        .collect();
    assert_eq!(ivs.len(), 3, "{ivs:?}");
    let t = t
        .replacen(&ivs[0], "interval = \"(30, 100]\"", 1)
        .replacen(&ivs[1], "interval = \"(20, 30]\"", 1)
        .replacen(&ivs[2], "interval = \"[min, 20]\"", 1);
    std::fs::write(&e.model, t).unwrap();
    expect("E47", &e, 2, "ends below the minimum total 100/m = 33.33");
}

/// Which FATF lists are in force is explicit: files are named by plenary month, the newest not
/// after the as-of month is used, an empty list is an error. A calendar without its header
/// line would lose its first day.
#[test]
fn e48_e49_e50_fatf_list_choice_and_calendar_header() {
    let e = env();
    std::fs::write(
        e.reference.join("fatf_lists_backup.csv"),
        "iso2,fatf_status\n",
    )
    .unwrap();
    expect(
        "E48",
        &e,
        3,
        "fatf_lists_backup.csv: a FATF list file is named fatf_lists_<YYYY-MM>.csv",
    );
    let e = env();
    std::fs::write(
        e.reference.join("fatf_lists_2026-09.csv"),
        "iso2,fatf_status\n",
    )
    .unwrap();
    expect("E49", &e, 3, "fatf_lists_2026-09.csv: has no rows");
    // A list dated after the as-of month is not in force yet.
    let e = env();
    std::fs::write(
        e.reference.join("fatf_lists_2027-02.csv"),
        "iso2,fatf_status\nCN,call_for_action\n",
    )
    .unwrap();
    assert_eq!(e.run().0, 0);
    assert_eq!(e.summary()["fatf_lists"], "2026-06");
    let e = env();
    std::fs::write(
        e.reference.join("calendar_2027.csv"),
        "2027-01-01,holiday\n2027-01-02,holiday\n",
    )
    .unwrap();
    expect(
        "E50",
        &e,
        3,
        "calendar_2027.csv: line 1: the first line must be the header",
    );
}

/// PR4, P3, M4: contradictions between rows and files are refused or set aside, never resolved
/// silently.
#[test]
fn e51_to_e55_contradictory_records() {
    // Two grades set by hand for one customer on one day, different grades.
    let e = env();
    e.edit("overrides.parquet", |lf| {
        let first = lf.clone().limit(1).with_column(
            when(col("grade").eq(lit("high")))
                .then(lit("low"))
                .otherwise(lit("high"))
                .alias("grade"),
        );
        concat([lf, first], UnionArgs::default()).unwrap()
    });
    expect("E51", &e, 3, "different grades set by hand on the same day");
    // An account closed before it opened.
    let e = env();
    e.edit("accounts.parquet", |lf| {
        set_first(lf, "closed_date", lit(NULL).cast(DataType::Date)).with_column(
            when(col("account_id").eq(col("account_id").first()))
                .then(col("opened_date") - lit(chrono::Duration::days(1)))
                .otherwise(col("closed_date"))
                .alias("closed_date"),
        )
    });
    expect(
        "E52",
        &e,
        3,
        "column 'closed_date' has dates before 'opened_date'",
    );
    // A transaction on another customer's account.
    let e = env();
    e.edit("transactions.parquet", |lf| {
        let other = col("customer_id").last();
        set_first(lf, "customer_id", other)
    });
    expect("E53", &e, 3, "on an account of another customer");
    // Reviewed before first graded.
    let e = env();
    e.edit("grades.parquet", |lf| {
        set_first(
            lf,
            "last_reviewed",
            col("first_graded") - lit(chrono::Duration::days(1)),
        )
    });
    expect(
        "E54",
        &e,
        3,
        "column 'last_reviewed' has dates before 'first_graded'",
    );
    // A grade basis that is none.
    let e = env();
    e.edit("grades.parquet", |lf| set_first(lf, "basis", lit("banana")));
    expect(
        "E55",
        &e,
        3,
        "column 'basis' has unknown codes; valid: scored, direct_highest",
    );
}

/// P3: a grade on file of another institution is not this customer's: it is set aside with a
/// counted warning and the customer is treated as not yet graded (T1).
#[test]
fn w03_grade_of_another_institution_is_not_applied() {
    let e = env();
    e.edit("grades.parquet", |lf| {
        set_first(lf, "institution_id", lit("OTHER"))
    });
    let (code, msg) = e.run();
    assert_eq!(code, 0, "{msg}");
    let w = e.summary()["input_warnings"].clone();
    assert_eq!(w[0]["file"], "grades.parquet", "{w}");
    assert_eq!(w[0]["rows"], 1);
    let grades = LazyFrame::scan_parquet(
        PlRefPath::from(s(&e.data.join("grades.parquet"))),
        Default::default(),
    )
    .unwrap()
    .limit(1)
    .collect()
    .unwrap();
    let id = grades
        .column("customer_id")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .unwrap()
        .to_string();
    let rc = LazyFrame::scan_parquet(
        PlRefPath::from(s(&e.out.join("reclassify.parquet"))),
        Default::default(),
    )
    .unwrap()
    .filter(col("customer_id").eq(lit(id.clone())))
    .collect()
    .unwrap();
    assert_eq!(rc.height(), 1, "{id}");
    let reasons = rc
        .column("reasons")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .unwrap()
        .to_string();
    assert!(reasons.contains("new_customer"), "{reasons}");
    assert!(rc.column("grade_on_file").unwrap().is_null().all());
}

/// Expressions are type-checked and bounded when the model is loaded: validate and assess both
/// refuse them with exit 2, and nothing overflows the stack.
#[test]
fn e56_to_e59_expressions_checked_at_load() {
    let deep_parens = format!(
        "{}alert_level >= 3{}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let deep_not = format!("{}alert_level >= 3", "not ".repeat(1_000));
    let many = vec!["alert_level >= 3"; 1_000].join(" or ");
    let cases: Vec<(&str, String, &str)> = vec![
        ("E56", deep_parens, "nested deeper than 32 levels"),
        ("E56", deep_not, "nested deeper than 32 levels"),
        (
            "E57",
            "kind > 3".into(),
            "compares a category with a number",
        ),
        (
            "E57",
            "age_years == 'adult'".into(),
            "compares a number with a category",
        ),
        ("E57", "alert_level".into(), "not a condition"),
        (
            "E57",
            "watchlist_hit > 'x'".into(),
            "compares a flag with a category",
        ),
        (
            "E57",
            "watchlist_hit > true".into(),
            "compared with == or != only",
        ),
        (
            "E57",
            "kind == 'natral'".into(),
            "'natral' is not a value of kind",
        ),
        ("E59", many, "more than 64 comparisons"),
    ];
    for (id, when, needle) in cases {
        let e = env();
        e.edit_model("when = \"alert_level >= 3\"", &format!("when = \"{when}\""));
        let (code, msg) = e.validate();
        assert_eq!(code, 2, "{id} validate: {msg}");
        assert!(msg.contains(needle), "{id}: expected '{needle}' in {msg}");
        expect(id, &e, 2, needle);
        assert!(
            msg.len() < 2_000,
            "{id}: the message quotes the whole expression"
        );
    }
    let e = env();
    e.edit_model(
        "description = \"XH6: record of crime, financial violation or fraud\"",
        "description = \"XH6\"\n[[exceptions.direct_highest.custom]]\nid = \"xh6_criminal_record\"\nwhen = \"str_count >= 5\"",
    );
    expect(
        "E58",
        &e,
        2,
        "'xh6_criminal_record' is used by an earlier criterion",
    );
}

/// Reference tables: a key given twice is refused with its rows, a trailing blank line is not
/// a row, an empty branch table is refused.
#[test]
fn e60_reference_tables_keys_blank_lines_and_empty_branches() {
    for (file, dup) in [
        ("countries.csv", "KP,true,5,false\n"),
        ("branches.csv", "B001,Beijing,11,1101\n"),
        ("regions.csv", "53,Yunnan,5\n"),
        ("industries.csv", ""),
    ] {
        let e = env();
        e.edit_reference(file, |t| {
            let extra = if dup.is_empty() {
                format!("{}\n", t.lines().nth(1).unwrap())
            } else {
                dup.to_string()
            };
            format!("{}{extra}", if t.ends_with('\n') { t } else { t + "\n" })
        });
        expect("E60", &e, 3, "appears again (first at row");
    }
    let e = env();
    e.edit_reference("branches.csv", |t| t + "\n\n");
    assert_eq!(e.run().0, 0, "a trailing blank line is not a row");
    let e = env();
    e.edit_reference("branches.csv", |t| {
        t.lines().next().unwrap().to_string() + "\n"
    });
    expect("E60", &e, 3, "branches.csv: has no rows");
}

/// A folder of parts or a pipe where a Parquet file is due is refused at once (a pipe would
/// block the run forever).
#[test]
fn e61_input_that_is_not_a_regular_file() {
    let e = env();
    let p = e.data.join("customers.parquet");
    std::fs::remove_file(&p).unwrap();
    std::fs::create_dir(&p).unwrap();
    std::fs::copy(
        repo("data/sample/customers.parquet"),
        p.join("part-0.parquet"),
    )
    .unwrap();
    expect("E61", &e, 3, "customers.parquet is not a regular file");
    let e = env();
    let fifo = e.data.join("events.parquet");
    std::fs::remove_file(&fifo).unwrap();
    let st = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(st.success());
    let t = std::time::Instant::now();
    expect("E61", &e, 3, "events.parquet is not a regular file");
    assert!(t.elapsed().as_secs() < 60);
}

/// Flags and environment out of range are usage errors, not panics.
#[test]
fn e62_flags_and_environment_out_of_range() {
    let e = env();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_riskgrade"));
    let o = cmd
        .args(e.args())
        .env("POLARS_MAX_THREADS", "0")
        .output()
        .unwrap();
    let msg = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("POLARS_MAX_THREADS=0: give a positive number"),
        "{msg}"
    );
    for (flag, value, needle) in [
        ("--horizon", "4294967295", "--horizon"),
        ("--partition-rows", "1", "--partition-rows"),
        ("--partition-rows", "0", "--partition-rows"),
    ] {
        let mut a = e.args();
        a.push(flag.into());
        a.push(value.into());
        let (code, msg) = e.run_with(&a);
        assert_eq!(code, 2, "{flag} {value}: {msg}");
        assert!(msg.contains(needle) && !msg.contains("panicked"), "{msg}");
    }
}

/// `--out` written as `DIR/.`, through a symbolic link, or where nothing can be written.
#[test]
fn e63_e65_out_paths() {
    let e = env();
    assert_eq!(e.run().0, 0);
    let mut a = e.args();
    let n = a.len();
    a[n - 1] = format!("{}/.", s(&e.out));
    let (code, msg) = e.run_with(&a);
    assert_eq!(code, 0, "E63 DIR/.: {msg}");
    assert!(e.out.join("scores.parquet").exists());
    // A symbolic link stays a link; the run lands in the folder it points to.
    let e = env();
    let target = e.out.parent().unwrap().join("real_out");
    std::fs::create_dir(&target).unwrap();
    std::os::unix::fs::symlink(&target, &e.out).unwrap();
    let (code, msg) = e.run();
    assert_eq!(code, 0, "E63 link: {msg}");
    assert!(std::fs::symlink_metadata(&e.out)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(target.join("scores.parquet").exists());
    assert_eq!(e.run().0, 0, "rerun through the link");
    assert!(std::fs::symlink_metadata(&e.out)
        .unwrap()
        .file_type()
        .is_symlink());
    // Nowhere to write: an environment error, exit 5, naming the path.
    let e = env();
    let mut a = e.args();
    let n = a.len();
    a[n - 1] = "/proc/riskgrade-out".into();
    let (code, msg) = e.run_with(&a);
    assert_eq!(code, 5, "E65: {msg}");
    assert!(
        msg.contains("environment error") && msg.contains("/proc"),
        "{msg}"
    );
}

/// `generate` refuses an existing file, a run folder and an empty portfolio.
#[test]
fn e64_generate_out_and_size() {
    let e = env();
    let file = e.out.parent().unwrap().join("a_file");
    std::fs::write(&file, "x").unwrap();
    let (code, msg) = riskgrade(&["generate", "-q", "--customers", "10", "--out", s(&file)]);
    assert_eq!(code, 2, "{msg}");
    assert!(msg.contains("is not a folder"), "{msg}");
    assert_eq!(e.run().0, 0);
    let (code, msg) = riskgrade(&["generate", "-q", "--customers", "10", "--out", s(&e.out)]);
    assert_eq!(code, 2, "{msg}");
    assert!(msg.contains("it holds an assessment run"), "{msg}");
    let fresh = e.out.parent().unwrap().join("fresh");
    let (code, msg) = riskgrade(&["generate", "-q", "--customers", "0", "--out", s(&fresh)]);
    assert_eq!(code, 2, "{msg}");
    assert!(!fresh.exists());
}

/// M2, S2.4: a coefficient for a branch the reference does not list, or a customer of such a
/// branch, would match nothing silently.
#[test]
fn e66_e67_branches_the_reference_does_not_list() {
    let e = env();
    e.edit_model("B009 = 1.05", "B099 = 1.05");
    expect("E66", &e, 2, "regional.coefficients.B099: no branch 'B099'");
    let e = env();
    e.edit("customers.parquet", |lf| {
        set_first(lf, "branch_id", lit("B777"))
    });
    expect(
        "E67",
        &e,
        3,
        "column 'branch_id' has branches that branches.csv does not list",
    );
}

/// Ordinary Parquet from pandas and pyarrow: a categorical string column, an all-null column of
/// Arrow's null type, 64-bit integers for small counts, nanosecond timestamps, and an empty
/// optional-content file are read, with the same grades as the contract's own types.
#[test]
fn a01_users_tools_parquet_is_accepted() {
    let base = env();
    assert_eq!(base.run().0, 0);
    let want = std::fs::read(base.out.join("scores.parquet")).unwrap();
    let e = env();
    e.edit("customers.parquet", |lf| {
        lf.with_columns([
            col("kind").cast(DataType::from_categories(Categories::global())),
            col("ownership_layers").cast(DataType::Int64),
            col("alert_level").cast(DataType::Int64),
        ])
    });
    e.edit("transactions.parquet", |lf| {
        lf.with_column(col("ts").cast(DataType::Datetime(TimeUnit::Nanoseconds, None)))
    });
    let (code, msg) = e.run();
    assert_eq!(code, 0, "{msg}");
    let got = std::fs::read(e.out.join("scores.parquet")).unwrap();
    assert!(got == want, "the same inputs in other types grade the same");
    // An all-null optional column written with the null type; no report at all.
    let e = env();
    e.edit("customers.parquet", |lf| {
        lf.with_column(lit(NULL).alias("noncash_single_premium"))
    });
    e.edit("reports.parquet", |lf| lf.limit(0));
    let (code, msg) = e.run();
    assert_eq!(code, 0, "{msg}");
    // A value out of range for the contract's type is still an input error.
    let e = env();
    e.edit("customers.parquet", |lf| {
        set_first(
            lf.with_column(col("alert_level").cast(DataType::Int64)),
            "alert_level",
            lit(300i64),
        )
    });
    let (code, msg) = e.run();
    assert_eq!(code, 3, "{msg}");
}

/// The output swap: stopped at each step (as a kill there would), `--out` holds a complete run
/// (`verify` accepts it), and the next run cleans the leftovers and succeeds. Also on a file
/// system without the atomic exchange (the fallback moves the old run aside and the next run
/// puts it back), and with a leftover of an interrupted run of an older version beside it.
#[test]
fn swap_keeps_a_complete_run_at_every_step() {
    let verify = |out: &Path| riskgrade(&["verify", "--run", s(out)]);
    for point in [
        "swap:synced",
        "swap:exchanged",
        "swap:done",
        "no-exchange,swap:aside",
        "no-exchange,swap:done",
    ] {
        let e = env();
        assert_eq!(e.run().0, 0);
        let o = Command::new(env!("CARGO_BIN_EXE_riskgrade"))
            .args(e.args())
            .env("RISKGRADE_FAILPOINT", point)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{point}: the fail point stops the run");
        let parent = e.out.parent().unwrap();
        if point == "no-exchange,swap:aside" {
            // The previous run is aside and --out is missing until the next run puts it back.
            assert!(!e.out.exists(), "{point}");
        } else {
            let (code, msg) = verify(&e.out);
            assert_eq!(code, 0, "{point}: {msg}");
        }
        let (code, msg) = e.run();
        assert_eq!(code, 0, "{point}: the next run: {msg}");
        assert_eq!(verify(&e.out).0, 0, "{point}");
        let left: Vec<String> = std::fs::read_dir(parent)
            .unwrap()
            .map(|d| d.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with(".out."))
            .collect();
        assert!(left.is_empty(), "{point}: leftovers {left:?}");
    }
    // A non-empty leftover of an interrupted swap beside --out does not stop later runs.
    let e = env();
    assert_eq!(e.run().0, 0);
    let stale = e.out.parent().unwrap().join(".out.old-999999999");
    copy_dir(&e.out, &stale);
    let (code, msg) = e.run();
    assert_eq!(code, 0, "{msg}");
    assert!(!stale.exists());
}
