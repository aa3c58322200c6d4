//! Reclassification and review scheduling (P4, T1–T4, PR4) and China's working-day calendar,
//! on hand-made grades, events, overrides and calendars.

mod common;

use chrono::NaiveDate;
use common::*;
use polars::prelude::*;
use riskgrade::calendar::Calendar;
use riskgrade::contract;
use riskgrade::model::Model;
use riskgrade::review::review;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The State Council notice for 2026 and the 2025 year end, entered by hand.
fn notice_2026() -> Calendar {
    let mut e = Vec::new();
    for h in [
        "2026-01-01",
        "2026-01-02",
        "2026-01-03",
        "2026-04-04",
        "2026-04-05",
        "2026-04-06",
    ] {
        e.push((d(h), false));
    }
    for day in 15..=23 {
        e.push((d(&format!("2026-02-{day:02}")), false));
    }
    for day in 1..=7 {
        e.push((d(&format!("2026-10-{day:02}")), false));
    }
    for w in [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ] {
        e.push((d(w), true));
    }
    e.push((d("2025-10-11"), true));
    Calendar::from_entries(&e)
}

#[test]
fn t1_working_days_across_the_2026_spring_festival() {
    let cal = notice_2026();
    // From Fri 13 Feb: Sat 14 (make-up) 1; 15–23 off; 24, 25, 26, 27 → 5; Sat 28 (make-up) 6;
    // 2, 3, 4, 5 March → 10.
    let (due, missing) = cal.add_working_days(d("2026-02-13"), 10);
    assert_eq!(due, d("2026-03-05"));
    assert!(missing.is_empty());
    assert!(cal.is_working(d("2026-02-14")) && cal.is_working(d("2026-02-28")));
    assert!(!cal.is_working(d("2026-02-16")) && !cal.is_working(d("2026-02-23")));
    // Weekends alone would give 27 Feb: the holidays and make-up days matter.
    let (weekends_only, _) =
        Calendar::from_entries(&[(d("2026-06-01"), true)]).add_working_days(d("2026-02-13"), 10);
    assert_eq!(weekends_only, d("2026-02-27"));
}

#[test]
fn t1_working_days_across_national_day() {
    // From Wed 30 Sep: 1–7 Oct off; Thu 8 1, Fri 9 2, Sat 10 (make-up) 3, 12–16 → 8, 19, 20 → 10.
    let (due, _) = notice_2026().add_working_days(d("2026-09-30"), 10);
    assert_eq!(due, d("2026-10-20"));
}

#[test]
fn t1_working_days_across_a_year_end() {
    let mut cal = notice_2026();
    cal.add_csv("test", "date,kind\n2025-12-31,holiday\n")
        .unwrap();
    // From Wed 24 Dec 2025: 25, 26, 29, 30 → 4 (31 Dec made a holiday here); 1–3 Jan off;
    // Sun 4 Jan (make-up) 5; 5, 6, 7, 8, 9 Jan → 10.
    let (due, missing) = cal.add_working_days(d("2025-12-24"), 10);
    assert_eq!(due, d("2026-01-09"));
    assert!(missing.is_empty());
}

#[test]
fn t1_year_without_data_falls_back_to_weekends_and_is_reported() {
    // 2027 has no entry: 1 Jan 2027 (a Friday) counts as a working day, and 2027 is reported.
    let (due, missing) = notice_2026().add_working_days(d("2026-12-24"), 10);
    assert_eq!(due, d("2027-01-07"));
    assert_eq!(missing.into_iter().collect::<Vec<_>>(), vec![2027]);
}

#[test]
fn bundled_calendar_agrees_with_the_chinese_holiday_crate() {
    let cal = Calendar::load(&repo("data/reference")).unwrap();
    let mut day = d("2004-01-01");
    let mut checked = 0;
    while day <= d("2026-12-25") {
        use chrono::Datelike;
        let kind = chinese_holiday::chinese_holiday((
            day.year() as u16,
            day.month() as u8,
            day.day() as u8,
        ));
        assert_eq!(cal.is_working(day), kind.is_workday(), "{day}");
        day = day.succ_opt().unwrap();
        checked += 1;
    }
    assert!(checked > 8000);
    assert!(cal.covers(2026) && cal.covers(2004) && !cal.covers(2027));
}

fn scored(rows: &[(&str, &str, &str, Option<&str>, &str)]) -> DataFrame {
    // customer, computed grade, basis, direct_highest, relationship_start
    let n = rows.len();
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new(
                "customer_id".into(),
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            ),
            Column::new("institution_id".into(), vec!["INST"; n]),
            Column::new("branch_id".into(), vec!["B001"; n]),
            Column::new(
                "computed_grade".into(),
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            ),
            Column::new("basis".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
            Column::new(
                "direct_highest".into(),
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            ),
            Column::new("adjusted_score".into(), vec![30.0; n]),
            Column::new("kind".into(), vec!["natural"; n]),
            Column::new("_law".into(), vec![0u8; n]),
            Column::new("screening".into(), vec!["0-0"; n]),
        ],
    )
    .unwrap();
    set_dates(
        &mut df,
        "relationship_start",
        &rows.iter().map(|r| Some(r.4)).collect::<Vec<_>>(),
    );
    set_dates(&mut df, "relationship_end", &vec![None; n]);
    df
}

struct Case {
    reasons: Vec<Option<String>>,
    out: DataFrame,
    /// The grade history (M4), made while the input files are there.
    history: DataFrame,
}

fn run(horizon: u32) -> (Case, riskgrade::review::Review) {
    let dir = tempfile::tempdir().unwrap();
    // Grades on file: customer, grade, first graded, last reviewed, basis.
    let g: Vec<(&str, &str, &str, &str, &str)> = vec![
        ("G1", "low", "2020-01-01", "2026-06-01", "scored"),
        ("G2", "high", "2020-01-01", "2026-06-01", "scored"),
        ("R1", "low", "2020-01-01", "2024-10-30", "scored"),
        ("R2", "low", "2020-01-01", "2024-11-15", "scored"),
        ("F1", "low", "2023-11-20", "2023-11-20", "scored"),
        ("E1", "low", "2020-01-01", "2026-01-01", "scored"),
        ("O1", "high", "2020-01-01", "2026-01-01", "override"),
        ("O2", "medium", "2020-01-01", "2026-01-01", "override"),
        ("X1", "high", "2020-01-01", "2026-06-01", "scored"),
        ("X2", "high", "2020-01-01", "2026-06-01", "direct_highest"),
    ];
    let mut gf = contract_frame(&contract::GRADES, g.len());
    set_str(
        &mut gf,
        "customer_id",
        &g.iter().map(|r| r.0).collect::<Vec<_>>(),
    );
    set_str(&mut gf, "institution_id", &vec!["INST"; g.len()]);
    set_str(&mut gf, "grade", &g.iter().map(|r| r.1).collect::<Vec<_>>());
    set_dates(
        &mut gf,
        "first_graded",
        &g.iter().map(|r| Some(r.2)).collect::<Vec<_>>(),
    );
    set_dates(
        &mut gf,
        "last_reviewed",
        &g.iter().map(|r| Some(r.3)).collect::<Vec<_>>(),
    );
    set_str(&mut gf, "basis", &g.iter().map(|r| r.4).collect::<Vec<_>>());
    write(&mut gf, dir.path(), "grades.parquet");
    // The required files, empty: the review stage reads only the grades, events and overrides.
    for spec in [
        riskgrade::contract::CUSTOMERS,
        riskgrade::contract::ACCOUNTS,
        riskgrade::contract::TRANSACTIONS,
        riskgrade::contract::REPORTS,
    ] {
        write(&mut contract_frame(&spec, 0), dir.path(), spec.file);
    }
    // Events: E1 after its last review, before it, and after the as-of date.
    let mut ev = contract_frame(&contract::EVENTS, 3);
    set_str(&mut ev, "customer_id", &["E1", "E1", "E1"]);
    set_str(
        &mut ev,
        "event_type",
        &["identity_change", "media_report", "judicial_investigation"],
    );
    set_dates(
        &mut ev,
        "event_date",
        &[Some("2026-02-01"), Some("2025-12-01"), Some("2026-11-15")],
    );
    write(&mut ev, dir.path(), "events.parquet");
    // Overrides: O1 high in force; O2 medium expired on 30 Sep; O2's older one is superseded.
    let mut ov = contract_frame(&contract::OVERRIDES, 3);
    set_str(&mut ov, "customer_id", &["O1", "O2", "O2"]);
    set_str(&mut ov, "grade", &["high", "medium", "high"]);
    set_str(&mut ov, "set_by", &["S1", "S2", "S3"]);
    set_dates(
        &mut ov,
        "set_on",
        &[Some("2026-05-01"), Some("2026-03-01"), Some("2025-03-01")],
    );
    set_dates(&mut ov, "expires_on", &[None, Some("2026-09-30"), None]);
    write(&mut ov, dir.path(), "overrides.parquet");

    let s = scored(&[
        ("G1", "medium", "scored", None, "2019-12-20"),
        ("G2", "low", "scored", None, "2019-12-20"),
        ("N1", "low", "scored", None, "2026-10-20"),
        ("N2", "low", "scored", None, "2026-09-30"),
        ("R1", "low", "scored", None, "2019-12-20"),
        ("R2", "low", "scored", None, "2019-12-20"),
        ("F1", "low", "scored", None, "2023-11-10"),
        ("E1", "low", "scored", None, "2019-12-20"),
        ("O1", "low", "scored", None, "2019-12-20"),
        ("O2", "low", "scored", None, "2019-12-20"),
        ("X1", "high", "direct_highest", Some("xh1"), "2019-12-20"),
        ("X2", "medium", "scored", None, "2019-12-20"),
    ]);
    let model = Model::load(&repo("data/models/default.toml")).unwrap();
    let cal = Calendar::load(&repo("data/reference")).unwrap();
    let inputs = riskgrade::inputs::Inputs::open(dir.path()).unwrap();
    // The model's texts are left unset (as of no date): the 2013 guideline's rules alone.
    let r = review(
        s,
        riskgrade::review::Setting {
            inputs: &inputs,
            model: &model,
            as_of: d("2026-10-31"),
            horizon_days: horizon,
            calendar: &cal,
            lists: "2026-06",
        },
    )
    .unwrap();
    let out = r
        .scores
        .sort(["customer_id"], SortMultipleOptions::default())
        .unwrap();
    (
        Case {
            reasons: strs(&out, "reasons"),
            out,
            history: r.history(&inputs).unwrap(),
        },
        r,
    )
}

fn reason_of(c: &Case, id: &str) -> Option<String> {
    let ids = strs(&c.out, "customer_id");
    let i = ids.iter().position(|x| x.as_deref() == Some(id)).unwrap();
    c.reasons[i].clone()
}

fn value_of(df: &DataFrame, id: &str, col: &str) -> Option<String> {
    let ids = strs(df, "customer_id");
    let i = ids.iter().position(|x| x.as_deref() == Some(id)).unwrap();
    strs(df, col)[i].clone()
}

#[test]
fn p4_t1_t2_t3_t4_pr4_every_reason_and_several_at_once() {
    let (c, r) = run(0);
    let reason = |id| reason_of(&c, id);
    assert_eq!(reason("G1").as_deref(), Some("grade_change"));
    assert_eq!(reason("G2").as_deref(), Some("grade_change"));
    assert_eq!(reason("N1").as_deref(), Some("new_customer"));
    assert_eq!(reason("N2").as_deref(), Some("new_customer"));
    assert_eq!(reason("R1").as_deref(), Some("review_due"));
    assert_eq!(reason("R2"), None, "due 15 Nov: outside a zero horizon");
    assert_eq!(
        reason("F1").as_deref(),
        Some("review_due"),
        "T3 due 20 Nov: outside a zero horizon"
    );
    assert_eq!(reason("E1").as_deref(), Some("trigger_event"));
    assert_eq!(reason("O1").as_deref(), Some("override_disagreement"));
    assert_eq!(
        reason("O2").as_deref(),
        Some("grade_change,override_expired")
    );
    assert_eq!(reason("X1").as_deref(), Some("exception_entered"));
    assert_eq!(reason("X2").as_deref(), Some("grade_change,exception_left"));

    // Steps: up is positive (low → medium +1, high → low −2).
    let steps = |id| value_of(&c.out, id, "grade_steps");
    assert_eq!(steps("G1").as_deref(), Some("1"));
    assert_eq!(steps("G2").as_deref(), Some("-2"));
    // PR4: the valid override stands, the computed grade is kept beside it; set on 1 May, it
    // counts as a review: high's 6 months run to 1 Nov, so no review is due yet.
    assert_eq!(value_of(&c.out, "O1", "grade").as_deref(), Some("high"));
    assert_eq!(value_of(&c.out, "O1", "basis").as_deref(), Some("override"));
    assert_eq!(
        value_of(&c.out, "O1", "computed_grade").as_deref(),
        Some("low")
    );
    assert_eq!(value_of(&c.out, "O2", "grade").as_deref(), Some("low"));
    // T4 names the events after the last review only.
    assert_eq!(
        value_of(&c.out, "E1", "events_since_review").as_deref(),
        Some("identity_change")
    );

    // Due dates: T1 N1 (20 Oct) → 3 Nov, not overdue; N2 (30 Sep) → 20 Oct, overdue;
    // T2 R1 reviewed 30 Oct 2024 + 24 months → 30 Oct 2026, overdue; O2 expired 30 Sep.
    let rc = &r.reclassify().unwrap();
    assert_eq!(
        value_of(rc, "N1", "due_date").as_deref(),
        Some("2026-11-03")
    );
    assert_eq!(value_of(rc, "N1", "overdue").as_deref(), Some("false"));
    assert_eq!(
        value_of(rc, "N2", "due_date").as_deref(),
        Some("2026-10-20")
    );
    assert_eq!(value_of(rc, "N2", "overdue").as_deref(), Some("true"));
    assert_eq!(
        value_of(rc, "R1", "due_date").as_deref(),
        Some("2026-10-30")
    );
    assert_eq!(
        value_of(rc, "O2", "due_date").as_deref(),
        Some("2026-09-30")
    );
    assert_eq!(
        value_of(rc, "G1", "due_date").as_deref(),
        Some("2026-10-31")
    );
    assert_eq!(rc.height(), 11);
    // The summary counts the work list's rows, and those due before the as-of date (T4).
    assert_eq!(r.summary.customers_needing_action, 11);
    let before = rc
        .column("due_date")
        .unwrap()
        .date()
        .unwrap()
        .as_date_iter()
        .flatten()
        .filter(|due| *due < d("2026-10-31"))
        .count();
    assert!(before >= 3, "N2, R1 and O2 at least");
    assert_eq!(r.summary.overdue, before as u64);
    let per_reason = &r.summary.per_reason.0;
    assert_eq!(per_reason[0], ("grade_change".to_string(), 4));
    assert_eq!(r.summary.per_branch["B001"].customers, 11);
}

#[test]
fn t2_t3_horizon_lists_reviews_falling_due() {
    let (c, r) = run(30);
    assert_eq!(reason_of(&c, "R2").as_deref(), Some("review_due"));
    // F1: T2 (first graded 20 Nov 2023 + 24 months) overdue and T3 (+36 months) within 30 days.
    assert_eq!(
        reason_of(&c, "F1").as_deref(),
        Some("review_due,first_review")
    );
    assert_eq!(
        value_of(&r.reclassify().unwrap(), "F1", "due_date").as_deref(),
        Some("2025-11-20")
    );
    assert_eq!(
        value_of(&r.reclassify().unwrap(), "R2", "overdue").as_deref(),
        Some("false")
    );
}

#[test]
fn t2_medium_grade_shortens_the_review_period() {
    // G1 was low (24 months) and is now medium (12 months): reviewed 1 Jun 2026, due 1 Jun 2027.
    // 1 Jun 2027 is 213 days after the as-of date; low's 24 months would give 1 Jun 2028.
    let (_, r) = run(200);
    assert_eq!(
        value_of(&r.reclassify().unwrap(), "G1", "reasons").as_deref(),
        Some("grade_change")
    );
    let (_, r) = run(220);
    assert_eq!(
        value_of(&r.reclassify().unwrap(), "G1", "reasons").as_deref(),
        Some("grade_change,review_due")
    );
}

#[test]
fn next_grade_file_and_history() {
    let (c, r) = run(0);
    let g = &r.grades_next().unwrap();
    assert_eq!(g.height(), 12);
    // A first grading starts the clock; a grade set by hand counts as a review that day.
    assert_eq!(
        value_of(g, "N1", "first_graded").as_deref(),
        Some("2026-10-31")
    );
    assert_eq!(
        value_of(g, "N1", "last_reviewed").as_deref(),
        Some("2026-10-31")
    );
    assert_eq!(
        value_of(g, "O1", "last_reviewed").as_deref(),
        Some("2026-05-01")
    );
    assert_eq!(value_of(g, "O1", "reviewer").as_deref(), Some("S1"));
    assert_eq!(
        value_of(g, "R1", "last_reviewed").as_deref(),
        Some("2024-10-30")
    );
    assert_eq!(value_of(g, "O1", "grade").as_deref(), Some("high"));
    // History: first gradings and changed grades only.
    let ids: Vec<String> = strs(&c.history, "customer_id")
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(ids, ["G1", "G2", "N1", "N2", "O2", "X2"]);
    assert_eq!(
        value_of(&c.history, "G2", "previous_grade").as_deref(),
        Some("high")
    );
}

/// A relationship that has ended needs no review: the customer is still graded (scores) but
/// listed for no action; an end date after the as-of date leaves it live.
#[test]
fn ended_relationships_are_listed_for_no_action() {
    let e = common::run::env();
    assert_eq!(e.run().0, 0);
    let listed = |e: &common::run::Env| -> Vec<String> {
        let df = LazyFrame::scan_parquet(
            PlRefPath::from(e.out.join("reclassify.parquet").to_str().unwrap()),
            Default::default(),
        )
        .unwrap()
        .collect()
        .unwrap();
        strs(&df, "customer_id").into_iter().flatten().collect()
    };
    let before = listed(&e);
    let (gone, kept) = (before[0].clone(), before[1].clone());
    e.edit("customers.parquet", |lf| {
        lf.with_column(
            when(col("customer_id").eq(lit(gone.clone())))
                .then(lit(d("2026-10-01")).cast(DataType::Date))
                .otherwise(col("relationship_end"))
                .alias("relationship_end"),
        )
    });
    assert_eq!(e.run().0, 0);
    let after = listed(&e);
    assert!(!after.contains(&gone) && after.contains(&kept));
    assert_eq!(after.len(), before.len() - 1);
    let s = e.summary();
    assert_eq!(s["customers"], 3000, "still graded");
}
