//! The rules in force in 2026 (`docs/rules.md`, L-*): the rulebook recorded in every output,
//! the review floor (L-CDD25), the new re-grading triggers (L-CDD26, L-SP13), direct-low only
//! with reasons and never on suspicion (L-CDD29), the PEP taxonomy (L-CDD33), enhanced due
//! diligence (L-CDD27/28/30/40), the legacy-book deadlines (L-CDD51, L-BO39), retention
//! (L-CDD44) and branch-level adjustments (M2). Each on a copy of the sample with one
//! customer's record set by hand, the expectation worked out from the rule.

mod common;

use common::run::{env, Env};
use common::{read_parquet, repo, s};
use polars::prelude::*;

/// The row of customer `id` in a Parquet output, as (column → value text).
fn row(path: &std::path::Path, id: &str) -> Option<DataFrame> {
    let df = read_parquet(path)
        .lazy()
        .filter(col("customer_id").eq(lit(id.to_string())))
        .collect()
        .unwrap();
    (df.height() > 0).then_some(df)
}

fn text(df: &DataFrame, c: &str) -> Option<String> {
    let v = df.column(c).unwrap().get(0).unwrap();
    match v {
        AnyValue::Null => None,
        AnyValue::String(s) => Some(s.to_string()),
        AnyValue::StringOwned(s) => Some(s.to_string()),
        other => Some(other.to_string()),
    }
}

/// Sets column `c` of customer `id` in `file` to `v`.
fn set(e: &Env, file: &str, id: &str, c: &str, v: Expr) {
    let id = id.to_string();
    e.edit(file, move |lf| {
        lf.with_column(
            when(col("customer_id").eq(lit(id)))
                .then(v)
                .otherwise(col(c))
                .alias(c),
        )
    });
}

fn date(s: &str) -> Expr {
    riskgrade::dates::date_lit(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

fn assess(e: &Env) {
    let (code, err) = e.run();
    assert_eq!(code, 0, "{err}");
}

/// A natural person of the sample graded direct-low under the default model (its first).
fn direct_low_customer(e: &Env) -> String {
    assess(e);
    let scores = read_parquet(&e.out.join("scores.parquet"))
        .lazy()
        .filter(col("basis").eq(lit("direct_low")))
        .collect()
        .unwrap();
    text(&scores.slice(0, 1), "customer_id").unwrap()
}

#[test]
fn l_rulebook_is_recorded_in_manifest_summary_report_and_extract() {
    let e = env();
    assess(&e);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(e.out.join("summary.json")).unwrap())
            .unwrap();
    let ids: Vec<&str> = summary["rulebook"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["PBoC-2013", "L-AML", "L-BOI", "L-CDD", "L-BO", "L-SP"]
    );
    assert!(summary["rulebook"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["in_force"] == true));
    let manifest = std::fs::read_to_string(e.out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"L-CDD\"") && manifest.contains("2026-01-01"));
    let report = std::fs::read_to_string(e.out.join("report.html")).unwrap();
    assert!(
        report.contains("Rulebook: PBoC-2013"),
        "report names the rulebook"
    );
    let x = e.out.parent().unwrap().join("x");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args([
            "extract",
            "-q",
            "--run",
            s(&e.out),
            "--period-start",
            "2026-01-01",
        ])
        .args([
            "--period-end",
            "2026-10-31",
            "--extracted-on",
            "2026-11-01",
            "--out",
            s(&x),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let control: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(x.join("control.json")).unwrap()).unwrap();
    assert_eq!(control["rulebook"], summary["rulebook"]);
    // As of 2025-12-31, L-CDD, L-BO and L-SP were not yet in force; L-AML and L-BOI were.
    let mut m = riskgrade::model::Model::load(&e.model).unwrap();
    m.set_as_of(chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap());
    assert!(!m.law.cdd && !m.law.bo && !m.law.sp);
    m.set_as_of(chrono::NaiveDate::from_ymd_opt(2026, 1, 19).unwrap());
    assert!(m.law.cdd && !m.law.bo && !m.law.sp);
    m.set_as_of(chrono::NaiveDate::from_ymd_opt(2026, 2, 16).unwrap());
    assert!(m.law.cdd && m.law.bo && m.law.sp);
    let rb = riskgrade::report::rulebook_of(&m, "2025-12-31");
    let cdd = rb.iter().find(|t| t.id == "L-CDD").unwrap();
    assert!(!cdd.in_force);
}

#[test]
fn l_rulebook_a_known_text_with_another_date_is_refused() {
    let e = env();
    e.edit_model(
        "{ id = \"L-CDD\", effective = \"2026-01-01\" }",
        "{ id = \"L-CDD\", effective = \"2026-02-01\" }",
    );
    let (code, err) = e.run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("L-CDD took effect on 2026-01-01"), "{err}");
}

/// L-CDD25: 13 months for the highest grade is refused whatever the rationale; 9 months only
/// with a recorded rationale, with a warning naming T2 and L-CDD25.
#[test]
fn l_cdd25_review_floor_of_the_highest_grade() {
    let e = env();
    e.edit_model(
        "review_months = 6       # T2: at most 6 for the highest grade",
        "review_months = 13\nreview_rationale = \"committee decision 2026-11\"",
    );
    let (code, err) = e.run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("L-CDD25"), "{err}");
    let e = env();
    e.edit_model(
        "review_months = 6       # T2: at most 6 for the highest grade",
        "review_months = 9",
    );
    let (code, err) = e.run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("review_rationale"), "{err}");
    let e = env();
    e.edit_model(
        "review_months = 6       # T2: at most 6 for the highest grade",
        "review_months = 9\nreview_rationale = \"committee decision 2026-11: staff\"",
    );
    let (code, err) = e.run();
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning") && err.contains("T2") && err.contains("L-CDD25"),
        "{err}"
    );
}

/// L-CDD26: a name change after the last review is its own reason, due on the as-of date; an
/// expired identity document gives `id_expired`, due at once; T4's own events stay
/// `trigger_event`.
#[test]
fn l_cdd26_new_triggers_and_expired_documents() {
    let e = env();
    // Customer with a grade on file reviewed before 2026-10-01 (the sample's first).
    let grades = read_parquet(&e.data.join("grades.parquet"))
        .lazy()
        .filter(col("last_reviewed").lt(date("2026-09-01")))
        .collect()
        .unwrap();
    let who = text(&grades.slice(0, 1), "customer_id").unwrap();
    let other = text(&grades.slice(1, 1), "customer_id").unwrap();
    let mut ev = read_parquet(&e.data.join("events.parquet")).slice(0, 0);
    let mut add = df!(
        "customer_id" => [who.as_str(), other.as_str()],
        "event_type" => ["name_change", "media_report"],
    )
    .unwrap();
    common::set_dates(
        &mut add,
        "event_date",
        &[Some("2026-10-15"), Some("2026-10-15")],
    );
    let add = add
        .lazy()
        .select([
            col("customer_id"),
            col("event_type").cast(ev.column("event_type").unwrap().dtype().clone()),
            col("event_date"),
        ])
        .collect()
        .unwrap();
    ev.vstack_mut(&add).unwrap();
    common::write(&mut ev, &e.data, "events.parquet");
    set(
        &e,
        "customers.parquet",
        &other,
        "id_expiry_date",
        date("2026-10-30"),
    );
    assess(&e);
    let r = row(&e.out.join("reclassify.parquet"), &who).unwrap();
    let reasons = text(&r, "reasons").unwrap();
    assert!(
        reasons.contains("name_change") && !reasons.contains("trigger_event"),
        "{reasons}"
    );
    assert_eq!(text(&r, "due_date").unwrap(), "2026-10-31");
    let r = row(&e.out.join("reclassify.parquet"), &other).unwrap();
    let reasons = text(&r, "reasons").unwrap();
    assert!(
        reasons.contains("trigger_event") && reasons.contains("id_expired"),
        "{reasons}"
    );
    assert_eq!(text(&r, "due_date").unwrap(), "2026-10-31");
}

/// L-SP13: the grade on file was screened with nothing found ("0-0"); the customer is now on a
/// monitoring list: `list_change`; the summary counts every customer screened and the changes.
#[test]
fn l_sp13_a_changed_screening_result_is_listed() {
    let e = env();
    assess(&e);
    let before: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(e.out.join("summary.json")).unwrap())
            .unwrap();
    let changed_before = before["reclassification"]["screening"]["result_changed"]
        .as_u64()
        .unwrap();
    let grades = read_parquet(&e.data.join("grades.parquet"));
    let who = text(
        &grades
            .lazy()
            .filter(col("screening").eq(lit("0-0")))
            .collect()
            .unwrap()
            .slice(0, 1),
        "customer_id",
    )
    .unwrap();
    set(&e, "customers.parquet", &who, "watchlist_hit", lit(true));
    assess(&e);
    let r = row(&e.out.join("reclassify.parquet"), &who).unwrap();
    assert!(text(&r, "reasons").unwrap().contains("list_change"));
    let next = row(&e.out.join("grades_next.parquet"), &who).unwrap();
    assert_eq!(text(&next, "screening").unwrap(), "1-0");
    assert_eq!(text(&next, "screened_lists").unwrap(), "2026-06");
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(e.out.join("summary.json")).unwrap())
            .unwrap();
    let sc = &after["reclassification"]["screening"];
    assert_eq!(sc["lists"], "2026-06");
    assert_eq!(sc["screened"], 3000);
    assert_eq!(sc["result_changed"].as_u64().unwrap(), changed_before + 1);
}

/// L-CDD29: a direct-low customer who becomes a domestic PEP is no longer direct-low
/// (`xl_pep`); with the disqualifier turned off it stays, recorded in the institution's own
/// class; a 2013-only model keeps it too. A direct-low grade's class and reason reach the
/// extract's Norm.
#[test]
fn l_cdd29_direct_low_never_for_a_pep_and_always_with_a_class() {
    let e = env();
    let who = direct_low_customer(&e);
    let r = row(&e.out.join("scores.parquet"), &who).unwrap();
    assert_eq!(text(&r, "direct_low_class").unwrap(), "institution_reason");
    set(
        &e,
        "customers.parquet",
        &who,
        "pep_relation",
        lit("domestic_pep"),
    );
    assess(&e);
    let r = row(&e.out.join("scores.parquet"), &who).unwrap();
    assert_ne!(text(&r, "basis").unwrap(), "direct_low");
    assert!(text(&r, "direct_low_blocked_by")
        .unwrap()
        .contains("xl_pep"));
    assert_eq!(text(&r, "direct_low_class"), None);
    // S4.2: a domestic PEP scores 4 under the default model.
    assert_eq!(text(&r, "s4_2").unwrap(), "4");
    e.edit_model(
        "usd_cny_rate = 7.1   # for the USD thresholds of XL1",
        "usd_cny_rate = 7.1\ndisqualify = { pep = false }",
    );
    assess(&e);
    let r = row(&e.out.join("scores.parquet"), &who).unwrap();
    assert_eq!(text(&r, "basis").unwrap(), "direct_low");
    // A 2013-only model: the six disqualifiers of 2013 alone.
    let m2013 = e.out.parent().unwrap().join("m2013.toml");
    std::fs::copy(repo("tests/models/guideline-2013.toml"), &m2013).unwrap();
    let mut a = e.args();
    let at = a.iter().position(|x| x == "--model").unwrap();
    a[at + 1] = s(&m2013).to_string();
    let (code, err) = e.run_with(&a);
    assert_eq!(code, 0, "{err}");
    let r = row(&e.out.join("scores.parquet"), &who).unwrap();
    assert_eq!(text(&r, "basis").unwrap(), "direct_low");
    // A model declaring L-CDD with direct-low grading but no recorded reason is refused.
    let e = env();
    e.edit_model("reason = \"本机构评估", "# reason = \"本机构评估");
    let (code, err) = e.run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("L-CDD29"), "{err}");
}

/// L-CDD33: a former foreign PEP is direct-highest (XH2) under L-CDD, not under the 2013
/// guideline alone; a senior manager of an international organisation scores 4 on S4.2 and
/// needs enhanced due diligence only when graded higher risk.
#[test]
fn l_cdd33_pep_taxonomy() {
    let e = env();
    assess(&e);
    let scores = read_parquet(&e.out.join("scores.parquet"));
    let natural_low = scores
        .lazy()
        .filter(
            col("kind")
                .eq(lit("natural"))
                .and(col("grade").eq(lit("low")))
                .and(col("basis").eq(lit("scored")))
                .and(col("edd_required").not()),
        )
        .collect()
        .unwrap();
    let former = text(&natural_low.slice(0, 1), "customer_id").unwrap();
    let io = text(&natural_low.slice(1, 1), "customer_id").unwrap();
    set(
        &e,
        "customers.parquet",
        &former,
        "pep_relation",
        lit("former_foreign_pep"),
    );
    set(
        &e,
        "customers.parquet",
        &io,
        "pep_relation",
        lit("io_senior_manager"),
    );
    assess(&e);
    let r = row(&e.out.join("scores.parquet"), &former).unwrap();
    assert_eq!(text(&r, "direct_highest").unwrap(), "xh2");
    assert_eq!(text(&r, "grade").unwrap(), "high");
    assert!(text(&r, "edd_reasons").unwrap().contains("foreign_pep"));
    let r = row(&e.out.join("scores.parquet"), &io).unwrap();
    assert_eq!(text(&r, "s4_2").unwrap(), "4");
    let reasons = text(&r, "edd_reasons");
    if text(&r, "grade").unwrap() == "high" {
        assert!(reasons.unwrap().contains("io_manager_higher_risk"));
    } else {
        assert!(
            reasons.as_deref().is_none_or(|r| !r.contains("io_manager")),
            "{reasons:?}"
        );
    }
    // The 2013 guideline alone: a former PEP is not direct-highest.
    let m2013 = e.out.parent().unwrap().join("m2013.toml");
    std::fs::copy(repo("tests/models/guideline-2013.toml"), &m2013).unwrap();
    let mut a = e.args();
    let at = a.iter().position(|x| x == "--model").unwrap();
    a[at + 1] = s(&m2013).to_string();
    let (code, err) = e.run_with(&a);
    assert_eq!(code, 0, "{err}");
    let r = row(&e.out.join("scores.parquet"), &former).unwrap();
    assert_eq!(text(&r, "direct_highest"), None);
}

/// L-CDD27/28/30/40: alert level 2 (an investigation) requires enhanced due diligence; a
/// refused due diligence is listed with the action "end relationship, file STR".
#[test]
fn l_cdd27_to_30_enhanced_due_diligence_and_refusal() {
    let e = env();
    assess(&e);
    let low = read_parquet(&e.out.join("scores.parquet"))
        .lazy()
        .filter(
            col("edd_required")
                .not()
                .and(col("basis").eq(lit("scored"))),
        )
        .collect()
        .unwrap();
    let probed = text(&low.slice(0, 1), "customer_id").unwrap();
    let refusing = text(&low.slice(1, 1), "customer_id").unwrap();
    set(&e, "customers.parquet", &probed, "alert_level", lit(2u8));
    set(&e, "customers.parquet", &refusing, "refuses_cdd", lit(true));
    assess(&e);
    let r = row(&e.out.join("scores.parquet"), &probed).unwrap();
    assert_eq!(text(&r, "edd_required").unwrap(), "true");
    assert!(text(&r, "edd_reasons")
        .unwrap()
        .contains("under_investigation"));
    let r = row(&e.out.join("reclassify.parquet"), &refusing).unwrap();
    assert!(text(&r, "reasons").unwrap().contains("cdd_refused"));
    assert_eq!(text(&r, "action").unwrap(), "end relationship, file STR");
    assert_eq!(text(&r, "due_date").unwrap(), "2026-10-31");
    // XH5 makes the refusing customer highest: enhanced measures for the highest grade too.
    let s = row(&e.out.join("scores.parquet"), &refusing).unwrap();
    let reasons = text(&s, "edd_reasons").unwrap();
    assert!(
        reasons.contains("cdd_refused") && reasons.contains("highest_grade"),
        "{reasons} {:?} {:?} {:?}",
        text(&s, "grade"),
        text(&s, "basis"),
        text(&s, "direct_highest")
    );
}

/// L-CDD51, L-BO39: a customer of 2020 graded high on file, with no due diligence completed
/// since 2026-01-01, is due by 2026-06-30 (overdue on 2026-10-31); graded low, by 2027-12-31;
/// with due diligence completed on 2026-03-01, not listed. An entity of 2020 without its
/// beneficial owners verified: by 2026-07-19 (high) or 2028-01-19.
#[test]
fn l_cdd51_l_bo39_legacy_book_deadlines() {
    let e = env();
    let customers = read_parquet(&e.data.join("customers.parquet"));
    let grades = read_parquet(&e.data.join("grades.parquet"));
    let old_with_grade = customers
        .lazy()
        .filter(col("relationship_start").lt(date("2025-01-01")))
        .join(
            grades.lazy().select([col("customer_id"), col("grade")]),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .collect()
        .unwrap();
    let pick = |kind: &str, n: usize| -> Vec<String> {
        let df = old_with_grade
            .clone()
            .lazy()
            .filter(col("kind").eq(lit(kind.to_string())))
            .collect()
            .unwrap();
        (0..n)
            .map(|i| text(&df.slice(i as i64, 1), "customer_id").unwrap())
            .collect()
    };
    let nat = pick("natural", 3);
    let org = pick("non_natural", 2);
    let no_date = lit(NULL).cast(DataType::Date);
    for (who, grade) in [(&nat[0], "high"), (&nat[1], "low"), (&nat[2], "low")] {
        set(&e, "grades.parquet", who, "grade", lit(grade));
        set(
            &e,
            "customers.parquet",
            who,
            "cdd_completed_on",
            no_date.clone(),
        );
    }
    set(
        &e,
        "customers.parquet",
        &nat[2],
        "cdd_completed_on",
        date("2026-03-01"),
    );
    for (who, grade) in [(&org[0], "high"), (&org[1], "low")] {
        set(&e, "grades.parquet", who, "grade", lit(grade));
        set(
            &e,
            "customers.parquet",
            who,
            "bo_verified_on",
            no_date.clone(),
        );
        set(
            &e,
            "customers.parquet",
            who,
            "cdd_completed_on",
            date("2026-03-01"),
        );
    }
    // Reviewed yesterday, first graded long before: no periodic or first review is due, so
    // every other reason is due on the as-of date, after the higher-risk deadlines.
    for who in [&nat[0], &org[0]] {
        set(
            &e,
            "grades.parquet",
            who,
            "first_graded",
            date("2025-06-01"),
        );
        set(
            &e,
            "grades.parquet",
            who,
            "last_reviewed",
            date("2026-10-30"),
        );
    }
    assess(&e);
    let listed = |who: &str| row(&e.out.join("reclassify.parquet"), who);
    let r = listed(&nat[0]).unwrap();
    assert!(text(&r, "reasons").unwrap().contains("legacy_cdd"));
    assert_eq!(text(&r, "due_date").unwrap(), "2026-06-30");
    assert_eq!(text(&r, "overdue").unwrap(), "true");
    let r = listed(&nat[1]).unwrap();
    assert!(text(&r, "reasons").unwrap().contains("legacy_cdd"));
    assert!(text(&r, "due_date").unwrap().as_str() <= "2027-12-31");
    let reasons = listed(&nat[2]).and_then(|r| text(&r, "reasons"));
    assert!(reasons.is_none_or(|r| !r.contains("legacy_cdd")));
    let r = listed(&org[0]).unwrap();
    let reasons = text(&r, "reasons").unwrap();
    assert!(
        reasons.contains("legacy_bo") && !reasons.contains("legacy_cdd"),
        "{reasons}"
    );
    assert_eq!(text(&r, "due_date").unwrap(), "2026-07-19");
    let r = listed(&org[1]).unwrap();
    assert!(text(&r, "reasons").unwrap().contains("legacy_bo"));
    assert!(text(&r, "due_date").unwrap().as_str() <= "2028-01-19");
}

/// L-CDD44: a relationship that ended more than ten years before the as-of date, with no open
/// investigation, may be purged; one under investigation (alert level 2) may not. The run's
/// history keeps every grading it read.
#[test]
fn l_cdd44_retention_lists_what_may_be_purged_and_deletes_nothing() {
    let e = env();
    let ids: Vec<String> = {
        let c = read_parquet(&e.data.join("customers.parquet"));
        (0..2)
            .map(|i| text(&c.slice(i, 1), "customer_id").unwrap())
            .collect()
    };
    for who in &ids {
        set(
            &e,
            "customers.parquet",
            who,
            "relationship_start",
            date("2005-01-01"),
        );
        set(
            &e,
            "customers.parquet",
            who,
            "relationship_end",
            date("2015-06-30"),
        );
        set(&e, "customers.parquet", who, "alert_level", lit(0u8));
    }
    set(&e, "customers.parquet", &ids[1], "alert_level", lit(2u8));
    assess(&e);
    let before = std::fs::read(e.out.join("grade_history.parquet")).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args(["retention", "--run", s(&e.out)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("customer_id,institution_id,relationship_end,purgeable_from,gradings"));
    assert!(out.contains(&format!("{},", ids[0])), "{out}");
    assert!(out.contains("2015-06-30,2025-06-30"), "{out}");
    assert!(!out.contains(&format!("{},", ids[1])), "{out}");
    assert_eq!(
        std::fs::read(e.out.join("grade_history.parquet")).unwrap(),
        before
    );
    // Every grading of the input history is in the run's history.
    if e.data.join("grade_history.parquet").exists() {
        let input = read_parquet(&e.data.join("grade_history.parquet")).height();
        let output = read_parquet(&e.out.join("grade_history.parquet")).height();
        assert!(output >= input);
    }
}

/// M2: an overlay for branch B008 scores S2.3 by its own map (every customer 5):
/// customers of B008 get 5 there and the overlay's name, others are untouched; the weights stay
/// head office's. An overlay naming an unknown branch is refused.
#[test]
fn m2_overlays_replace_a_subitems_rules_at_listed_branches() {
    let e = env();
    assess(&e);
    let base = read_parquet(&e.out.join("scores.parquet"));
    let mut model = std::fs::read_to_string(&e.model).unwrap();
    model.push_str(
        "\n[[overlays]]\nname = \"yunnan-border\"\nbranches = [\"B008\"]\napproved_by = \"head office\"\nrationale = \"border region\"\n[overlays.subitems.s2_3]\nrules = [ { feature = \"kind\", map = { natural = 5, non_natural = 5 } } ]\n",
    );
    std::fs::write(&e.model, &model).unwrap();
    assess(&e);
    let after = read_parquet(&e.out.join("scores.parquet"));
    let pair = base
        .lazy()
        .select([
            col("customer_id"),
            col("branch_id"),
            col("s2_3").alias("before"),
        ])
        .join(
            after
                .lazy()
                .select([col("customer_id"), col("s2_3"), col("overlay")]),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .collect()
        .unwrap();
    let at = |b: bool| {
        pair.clone()
            .lazy()
            .filter(col("branch_id").eq(lit("B008")).eq(lit(b)))
            .collect()
            .unwrap()
    };
    let b8 = at(true);
    assert!(b8.height() > 0);
    let s23 = b8.column("s2_3").unwrap().cast(&DataType::UInt8).unwrap();
    let adopted = s23.u8().unwrap().iter().flatten().count();
    assert!(adopted > 0);
    assert!(s23.u8().unwrap().iter().flatten().all(|x| x == 5));
    assert!(b8
        .column("overlay")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .all(|o| o == Some("yunnan-border")));
    let rest = at(false);
    assert!(rest.column("overlay").unwrap().null_count() == rest.height());
    let same = rest
        .column("s2_3")
        .unwrap()
        .as_materialized_series()
        .equal_missing(rest.column("before").unwrap().as_materialized_series())
        .unwrap()
        .all();
    assert!(same, "customers of other branches keep head office's S2.3");
    // explain names the overlay and shows its rule: kind → 5.
    let mut a = e.args();
    a.push("--keep-features".into());
    let (code, err) = e.run_with(&a);
    assert_eq!(code, 0, "{err}");
    let who = text(&b8.slice(0, 1), "customer_id").unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args(["explain", "--run", s(&e.out), "--customer", &who])
        .output()
        .unwrap();
    let sheet = String::from_utf8_lossy(&o.stdout);
    assert!(
        sheet.contains("branch-level adjustment yunnan-border"),
        "{sheet}"
    );
    assert!(
        sheet.contains("kind = natural → 5") || sheet.contains("kind = non_natural → 5"),
        "{sheet}"
    );
    let e = env();
    let mut model = std::fs::read_to_string(&e.model).unwrap();
    model.push_str("\n[[overlays]]\nname = \"x\"\nbranches = [\"B999\"]\n[overlays.subitems.s2_3]\nrules = [ { feature = \"region_predicate_level\", bins = [ { interval = \"[1, 5]\", score = 5 } ] } ]\n");
    std::fs::write(&e.model, &model).unwrap();
    let (code, err) = e.run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("B999"), "{err}");
}
