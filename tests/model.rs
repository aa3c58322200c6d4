//! Model file validation: each invalid model is refused with a message naming the key and
//! what would be valid.

mod common;

use common::repo;
use riskgrade::error::Error;
use riskgrade::model::Model;

fn base() -> String {
    std::fs::read_to_string(repo("tests/models/three_level.toml")).unwrap()
}

fn refused(text: &str) -> String {
    match Model::parse(text) {
        Err(Error::Model(m)) => m,
        Err(e) => panic!("wrong error kind: {e}"),
        Ok(_) => panic!("model accepted:\n{text}"),
    }
}

#[test]
fn bundled_models_are_valid() {
    for f in [
        "data/models/default.toml",
        "tests/models/published.toml",
        "tests/models/three_level.toml",
    ] {
        let m = Model::load(&repo(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(m.grades.len() >= 3);
    }
}

#[test]
fn w1_weights_must_sum_to_exactly_100() {
    let m = refused(&base().replace("cash = 40", "cash = 41"));
    assert!(
        m.contains("all_natural") && m.contains("sum to 101") && m.contains("W1"),
        "{m}"
    );
    let m = refused(&base().replace("cash = 40\npep = 30", "cash = 39.995\npep = 30.005"));
    assert!(m.contains("2 decimals"), "{m}");
}

#[test]
fn w1_adopted_weight_must_be_positive() {
    let m = refused(&base().replace(
        "cash = 40\npep = 30\nchannel = 30",
        "cash = 70\npep = 30\nchannel = 0",
    ));
    assert!(m.contains("weights.channel") && m.contains("> 0"), "{m}");
    let m = refused(&base().replace(
        "cash = 40\npep = 30\nchannel = 30",
        "cash = 80\npep = 30\nchannel = -10",
    ));
    assert!(m.contains("weights.channel"), "{m}");
}

#[test]
fn w1_weight_of_unknown_subitem() {
    let m = refused(&base().replace("channel = 30", "chanel = 30"));
    assert!(m.contains("no sub-item 'chanel'"), "{m}");
}

#[test]
fn w2_scores_must_lie_in_1_to_m() {
    let m = refused(&base().replace(
        "{ interval = \"[500000, inf)\", score = 3 }",
        "{ interval = \"[500000, inf)\", score = 4 }",
    ));
    assert!(
        m.contains("subitems.cash.rules[0].bins[2].score") && m.contains("outside 1..3"),
        "{m}"
    );
    let m = refused(&base().replace(
        "missing_score = 2\n[[subitems.pep",
        "missing_score = 0\n[[subitems.pep",
    ));
    assert!(m.contains("subitems.pep.missing_score"), "{m}");
    let m = refused(&base().replace("m = 3", "m = 1"));
    assert!(m.contains("model.m"), "{m}");
}

#[test]
fn w4_bands_without_gap_or_overlap() {
    // gap: (50, 70] and [min, 49]
    let m = refused(&base().replace("[min, 50]", "[min, 49]"));
    assert!(
        m.contains("medium") && m.contains("low") && m.contains("no gap"),
        "{m}"
    );
    // overlap: both include 50
    let m = refused(&base().replace("(50, 70]", "[50, 70]"));
    assert!(m.contains("no overlap"), "{m}");
    // top must end at 100 inclusive
    let m = refused(&base().replace("(70, 100]", "(70, 100)"));
    assert!(m.contains("100 inclusive"), "{m}");
    // bottom must start at 100/m
    let m = refused(&base().replace("[min, 50]", "[30, 50]"));
    assert!(m.contains("100/m"), "{m}");
    // side unstated
    let m = refused(&base().replace("(50, 70]", "50-70"));
    assert!(m.contains("interval"), "{m}");
}

#[test]
fn w4_at_least_three_grades() {
    let t = base()
        .replace(
            "[[grades]]\nname = \"medium\"\ninterval = \"(50, 70]\"\nreview_months = 12\n",
            "",
        )
        .replace("[min, 50]", "[min, 70]");
    let m = refused(&t);
    assert!(m.contains("at least three"), "{m}");
}

#[test]
fn t2_review_periods() {
    // T2, L-CDD25: more than six months only with a recorded rationale, never more than 12.
    let m = refused(&base().replace("review_months = 6", "review_months = 7"));
    assert!(
        m.contains("high") && m.contains("T2") && m.contains("review_rationale"),
        "{m}"
    );
    let m = refused(&base().replace(
        "review_months = 6",
        "review_months = 13\nreview_rationale = \"staff\"",
    ));
    assert!(m.contains("L-CDD25"), "{m}");
    let m = refused(&base().replace("review_months = 24", "review_months = 25"));
    assert!(
        m.contains("low") && m.contains("medium") && m.contains("twice"),
        "{m}"
    );
}

#[test]
fn unknown_feature_and_wrong_rule_type() {
    let m = refused(&base().replace("feature = \"cash_total\"", "feature = \"cash_sum\""));
    assert!(m.contains("no feature 'cash_sum'"), "{m}");
    let m = refused(&base().replace("feature = \"pep_relation\"", "feature = \"cash_total\""));
    assert!(m.contains("scored with bins"), "{m}");
    let m = refused(&base().replace("intermediary = 3", "intermediry = 3"));
    assert!(m.contains("'intermediry' is not a value"), "{m}");
}

#[test]
fn unknown_key_is_named() {
    let m = refused(&base().replace("review_months = 12", "review_month = 12"));
    assert!(m.contains("review_month"), "{m}");
}

#[test]
fn segments_cover_each_kind_once() {
    let t = base().replace("kind = \"non_natural\"", "kind = \"natural\"");
    let m = refused(&t);
    assert!(m.contains("exactly one segment"), "{m}");
}

#[test]
fn exceptions_are_checked() {
    let t = format!(
        "{}\n[exceptions.direct_highest]\nenabled = [\"xh9\"]\n",
        base()
    );
    assert!(refused(&t).contains("xh9"));
    let t = format!(
        "{}\n[[exceptions.direct_highest.custom]]\nid = \"xh6_x\"\nwhen = \"no_such_feature > 1\"\n",
        base()
    );
    let t = t.replace(
        "[[exceptions.direct_highest.custom]]",
        "[exceptions.direct_highest]\n[[exceptions.direct_highest.custom]]",
    );
    assert!(refused(&t).contains("no feature 'no_such_feature'"));
    let t = format!("{}\n[exceptions.direct_low]\nenabled = true\neligible = \"txn_count <\"\nusd_cny_rate = 7\n", base());
    assert!(refused(&t).contains("exceptions.direct_low.eligible"));
}

#[test]
fn m2_coefficients_are_checked() {
    let t = format!(
        "{}\n[regional]\nby = \"branch_id\"\n[regional.coefficients]\nB1 = 0\n",
        base()
    );
    assert!(refused(&t).contains("regional.coefficients.B1"));
    let t = format!(
        "{}\n[regional]\nby = \"province\"\n[regional.coefficients]\nB1 = 1.1\n",
        base()
    );
    assert!(refused(&t).contains("regional.by"));
}

/// PR3: a segment that weights a sub-item none of whose rules applies to its kind would score
/// nothing there; the model is refused. S1.5 reads only features of non-natural persons.
#[test]
fn pr3_adopted_subitem_needs_a_rule_that_applies() {
    let text = std::fs::read_to_string(repo("data/models/default.toml"))
        .unwrap()
        .replacen("s1_2 = 5\n", "s1_5 = 5\n", 1);
    let m = refused(&text);
    assert!(
        m.contains("segments[0] (natural).weights.s1_5")
            && m.contains("none of the rules of sub-item 's1_5' applies to natural customers"),
        "{m}"
    );
    // A rule's kinds must be customer kinds.
    let text = std::fs::read_to_string(repo("data/models/default.toml"))
        .unwrap()
        .replacen(
            "feature = \"pep_relation\"\n",
            "feature = \"pep_relation\"\nkinds = [\"people\"]\n",
            1,
        );
    let m = refused(&text);
    assert!(
        m.contains("subitems.s4_2.rules[1].kinds") && m.contains("natural, non_natural"),
        "{m}"
    );
}
