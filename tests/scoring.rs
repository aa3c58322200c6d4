//! Sub-item scores, totals, bands and exceptions on hand-made feature rows, with expected
//! values computed by hand from the model files (not read back from the code).

mod common;

use common::*;
use polars::prelude::*;
use riskgrade::model::Model;
use riskgrade::scoring;

fn load(path: &str) -> Model {
    Model::load(&repo(path)).unwrap()
}

fn score(df: DataFrame, model: &Model) -> DataFrame {
    scoring::score(df.lazy(), model).collect().unwrap()
}

/// The published institution table (tests/models/published.toml), natural persons.
/// Customer 0: Σ a·p = 400 → total exactly 80 → medium (80 belongs to the medium band).
/// Customer 1: Σ a·p = 300 → total exactly 60 → low (60 belongs to the low band).
/// Customer 2: customer 0 plus one STR (+4×15) → 460/5 = 92 → high.
/// Customer 3: customer 1 plus region level 2 (+1×5) → 305/5 = 61 → medium.
/// Customer 4: every sub-item at 1 → 100/5 = 20 → low.
#[test]
fn w3_w4_published_table_totals_and_exact_band_boundaries() {
    let model = load("tests/models/published.toml");
    let mut df = base_features(5);
    // customer 0 and 2: cash 5, single 5, freq 5, industry 5, special 5, age 5, region 5,
    // channel 4, pep 4, document 3; customers 1 and 3: the first six only.
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
    let out = score(df, &model);
    assert_eq!(
        floats(&out, "total_score"),
        vec![Some(80.0), Some(60.0), Some(92.0), Some(61.0), Some(20.0)]
    );
    // weighted_sum is Σ a·(p×100)
    assert_eq!(
        ints(&out, "weighted_sum"),
        vec![
            Some(40000),
            Some(30000),
            Some(46000),
            Some(30500),
            Some(10000)
        ]
    );
    let g = strs(&out, "scored_grade");
    assert_eq!(
        g,
        ["medium", "low", "high", "medium", "low"].map(|s| Some(s.to_string()))
    );
}

/// Bins of the published table at their boundaries (S1.7, S1.8, single amount, frequency).
#[test]
fn s1_7_s1_8_published_bins_at_their_boundaries() {
    let model = load("tests/models/published.toml");
    let ages = [15.0, 16.0, 17.0, 18.0, 69.0, 70.0, 79.0, 80.0, 95.0];
    let mut df = base_features(ages.len());
    set_num(&mut df, "age_years", &ages);
    let out = score(df, &model);
    assert_eq!(
        ints(&out, "age"),
        [5, 4, 4, 1, 1, 2, 2, 3, 3].map(Some).to_vec()
    );

    let days = [0.0, 10.0, 11.0, 20.0, 21.0, 30.0, 31.0, 60.0, 61.0];
    let mut df = base_features(days.len());
    set_str(&mut df, "kind", &vec!["non_natural"; days.len()]);
    set_num(&mut df, "existence_days", &days);
    let out = score(df, &model);
    assert_eq!(
        ints(&out, "existence"),
        [5, 5, 4, 4, 3, 3, 2, 2, 1].map(Some).to_vec()
    );
    // age is not adopted for non-natural persons (W1): no score at all.
    assert_eq!(ints(&out, "age"), vec![None; days.len()]);

    let amounts = [
        2e6,
        2_000_000.01,
        5e6,
        10e6,
        10_000_000.5,
        30e6,
        30_000_001.0,
    ];
    let mut df = base_features(amounts.len());
    set_num(&mut df, "max_single_amount", &amounts);
    let out = score(df, &model);
    assert_eq!(
        ints(&out, "single_amount"),
        [1, 2, 2, 3, 4, 4, 5].map(Some).to_vec()
    );

    let counts = [0.0, 2.0, 3.0, 4.0, 6.0, 7.0, 9.0, 10.0];
    let mut df = base_features(counts.len());
    set_num(&mut df, "txn_count", &counts);
    let out = score(df, &model);
    assert_eq!(
        ints(&out, "frequency"),
        [1, 1, 2, 3, 3, 4, 4, 5].map(Some).to_vec()
    );
}

/// S4.2 of the published table: controller a foreign PEP 5; customer one 4; relative 3;
/// close associate 2; none 1 — the sub-item takes the worst of its rules. The controller rule
/// applies to non-natural persons (customer 0); a natural person has no controller of its own.
#[test]
fn s4_2_pep_scores_take_the_worst_rule() {
    let model = load("tests/models/published.toml");
    let mut df = base_features(5);
    set_str(
        &mut df,
        "kind",
        &["non_natural", "natural", "natural", "natural", "natural"],
    );
    set_str(
        &mut df,
        "controller_pep_relation",
        &["foreign_pep", "none", "none", "none", "none"],
    );
    set_str(
        &mut df,
        "pep_relation",
        &[
            "relative",
            "foreign_pep",
            "relative",
            "close_associate",
            "none",
        ],
    );
    let out = score(df, &model);
    assert_eq!(ints(&out, "pep"), [5, 4, 3, 2, 1].map(Some).to_vec());
}

/// W2 with m = 3: scores 1..3, total Σ a·p / 3; [min, 50] starts at 100/3.
#[test]
fn w2_three_level_model_end_to_end_totals() {
    let model = load("tests/models/three_level.toml");
    let mut df = base_features(4);
    // cash 600k → 3, relative → 3, online → 2: (3·40 + 3·30 + 2·30)/3 = 270/3 = 90 → high
    // cash 600k → 3, none → 1, online → 2: (120 + 30 + 60)/3 = 70 → medium (70 is in (50, 70])
    // all ones: 100/3 → low
    // non-natural, cash 60k → 2, pep none → 1: (2·50 + 1·50)/3 = 50 → low (50 in [min, 50])
    set_num(
        &mut df,
        "cash_total",
        &[600_000.0, 600_000.0, 0.0, 60_000.0],
    );
    set_str(
        &mut df,
        "pep_relation",
        &["relative", "none", "none", "none"],
    );
    set_str(
        &mut df,
        "onboarding_channel",
        &["online", "online", "face_to_face", "face_to_face"],
    );
    set_str(
        &mut df,
        "kind",
        &["natural", "natural", "natural", "non_natural"],
    );
    let out = score(df, &model);
    assert_eq!(
        ints(&out, "weighted_sum"),
        vec![Some(27000), Some(21000), Some(10000), Some(15000)]
    );
    let t = floats(&out, "total_score");
    assert_eq!(t[0], Some(90.0));
    assert_eq!(t[1], Some(70.0));
    assert!((t[2].unwrap() - 100.0 / 3.0).abs() < 1e-12);
    assert_eq!(t[3], Some(50.0));
    let g = strs(&out, "scored_grade");
    assert_eq!(
        g,
        ["high", "medium", "low", "low"].map(|s| Some(s.to_string()))
    );
    assert_eq!(strs(&out, "segment")[3].as_deref(), Some("all_non_natural"));
}

/// PR3: a missing input gets the sub-item's missing_score and is marked; sub-items the
/// segment does not adopt are neither scored nor marked.
#[test]
fn pr3_missing_information_scored_and_marked() {
    let model = load("tests/models/published.toml");
    let mut df = base_features(2);
    set_num_opt(&mut df, "age_years", &[None, Some(40.0)]);
    set_str_opt(&mut df, "id_doc_type", &[None, None]);
    let out = score(df, &model);
    // age missing_score 3, document missing_score 3
    assert_eq!(ints(&out, "age"), vec![Some(3), Some(1)]);
    assert_eq!(ints(&out, "document"), vec![Some(3), Some(3)]);
    assert_eq!(
        strs(&out, "missing_subitems"),
        vec![
            Some("age,document".to_string()),
            Some("document".to_string())
        ]
    );
    // Σ a·p: all ones 100, + (3−1)·5 for age + (3−1)·10 for document = 130 → 26.
    assert_eq!(floats(&out, "total_score"), vec![Some(26.0), Some(24.0)]);
}

/// PR3: a value outside every bin (doubtful) also takes the missing score.
#[test]
fn pr3_value_in_no_bin_is_doubtful() {
    let model = load("tests/models/published.toml");
    let mut df = base_features(1);
    set_num(&mut df, "age_years", &[-3.0]);
    let out = score(df, &model);
    assert_eq!(ints(&out, "age"), vec![Some(3)]);
    assert_eq!(
        strs(&out, "missing_subitems"),
        vec![Some("age".to_string())]
    );
}

fn with_regional(text: &str) -> Model {
    let t = format!(
        "{text}\n[regional]\nby = \"branch_id\"\n[regional.coefficients]\nB008 = 1.1\nB009 = 0.9\n"
    );
    Model::parse(&t).unwrap()
}

/// M2: total × branch coefficient, capped at 100, decides the band; other branches × 1.
#[test]
fn m2_regional_coefficient_applied_and_capped() {
    let text = std::fs::read_to_string(repo("tests/models/published.toml")).unwrap();
    let model = with_regional(&text);
    let mut df = base_features(4);
    // Customer totals: 60 (B008 → 66 medium), 60 (B001 → 60 low), 92 (B008 → 101.2 → 100),
    // 80 (B009 → 72 medium).
    set_str(&mut df, "branch_id", &["B008", "B001", "B008", "B009"]);
    set_num(&mut df, "industry_cash_intensity", &[5.0, 5.0, 5.0, 5.0]);
    set_num(&mut df, "max_single_amount", &[31e6, 31e6, 31e6, 31e6]);
    set_num(&mut df, "txn_count", &[10.0, 10.0, 10.0, 10.0]);
    set_num(&mut df, "industry_risk", &[5.0, 5.0, 5.0, 5.0]);
    set_str(&mut df, "address_locality", &["no_address"; 4]);
    set_num(&mut df, "age_years", &[15.0, 15.0, 15.0, 15.0]);
    set_num(&mut df, "region_predicate_level", &[1.0, 1.0, 5.0, 5.0]);
    set_str(
        &mut df,
        "onboarding_channel",
        &[
            "face_to_face",
            "face_to_face",
            "intermediary",
            "intermediary",
        ],
    );
    set_str(
        &mut df,
        "pep_relation",
        &["none", "none", "foreign_pep", "foreign_pep"],
    );
    set_str(
        &mut df,
        "id_doc_type",
        &["resident_id", "resident_id", "passport", "passport"],
    );
    set_num(&mut df, "str_count", &[0.0, 0.0, 1.0, 0.0]);
    let out = score(df, &model);
    assert_eq!(
        floats(&out, "total_score"),
        vec![Some(60.0), Some(60.0), Some(92.0), Some(80.0)]
    );
    assert_eq!(
        floats(&out, "regional_coefficient"),
        vec![Some(1.1), Some(1.0), Some(1.1), Some(0.9)]
    );
    let adj = floats(&out, "adjusted_score");
    assert!((adj[0].unwrap() - 66.0).abs() < 1e-9);
    assert_eq!(adj[1], Some(60.0));
    assert_eq!(adj[2], Some(100.0));
    assert!((adj[3].unwrap() - 72.0).abs() < 1e-9);
    let g = strs(&out, "scored_grade");
    assert_eq!(
        g,
        ["medium", "low", "high", "medium"].map(|s| Some(s.to_string()))
    );
}

fn default_model() -> Model {
    load("data/models/default.toml")
}

/// XH1–XH6: each condition alone puts the customer in the highest grade, recorded as the
/// basis with the condition; several are all listed.
#[test]
fn xh1_to_xh6_direct_highest_each_condition() {
    let model = default_model();
    let mut df = base_features(8);
    set_bool(
        &mut df,
        "watchlist_hit",
        &[true, false, false, false, false, false, true, false],
    );
    set_str(
        &mut df,
        "pep_relation",
        &[
            "none",
            "relative",
            "none",
            "none",
            "none",
            "none",
            "foreign_pep",
            "domestic_pep",
        ],
    );
    set_str(
        &mut df,
        "kind",
        &[
            "natural",
            "natural",
            "non_natural",
            "natural",
            "natural",
            "natural",
            "natural",
            "natural",
        ],
    );
    set_str(
        &mut df,
        "controller_pep_relation",
        &[
            "none",
            "none",
            "close_associate",
            "none",
            "none",
            "none",
            "none",
            "none",
        ],
    );
    set_num(
        &mut df,
        "str_count",
        &[0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0],
    );
    set_bool(
        &mut df,
        "refuses_cdd",
        &[false, false, false, false, true, false, false, false],
    );
    set_num(
        &mut df,
        "alert_level",
        &[0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 2.0],
    );
    let out = score(df, &model);
    let dh = strs(&out, "direct_highest");
    assert_eq!(
        dh,
        vec![
            Some("xh1".into()),
            Some("xh2".into()),
            Some("xh3".into()),
            Some("xh4".into()),
            Some("xh5".into()),
            Some("xh6_criminal_record".into()),
            Some("xh1+xh2".into()),
            None, // domestic PEP, one STR, alert level 2: none of XH applies
        ]
    );
    let g = strs(&out, "grade");
    let basis = strs(&out, "basis");
    for (i, (g, b)) in g.iter().zip(&basis).take(7).enumerate() {
        assert_eq!(g.as_deref(), Some("high"), "customer {i}");
        assert_eq!(b.as_deref(), Some("direct_highest"), "customer {i}");
    }
    assert_eq!(strs(&out, "basis")[7].as_deref(), Some("scored"));
}

/// XH3 also covers a controller on a watch list.
#[test]
fn xh3_controller_on_watch_list() {
    let model = default_model();
    let mut df = base_features(1);
    set_bool(&mut df, "controller_watchlist_hit", &[true]);
    let out = score(df, &model);
    assert_eq!(strs(&out, "direct_highest"), vec![Some("xh3".into())]);
}

fn low_model() -> Model {
    let text = std::fs::read_to_string(repo("data/models/default.toml")).unwrap();
    let start = text.find("eligible = ").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let t = format!(
        "{}eligible = \"txn_count < 100\"{}",
        &text[..start],
        &text[end..]
    );
    Model::parse(&t).unwrap()
}

/// XL: an eligible customer with none of the six disqualifiers is graded low directly; each
/// disqualifier alone blocks it and is named; the customer is then scored.
#[test]
fn xl1_to_xl6_direct_low_and_each_disqualifier() {
    let model = low_model();
    let n = 11;
    let mut df = base_features(n);
    // 0 clean; 1 XL1 natural assets 200,001; 2 natural assets exactly 200,000 (not over);
    // 3 XL1 non-natural 500,001; 4 XL1 life premium 7,200 > 1,000 USD × 7.1; 5 XL2
    // correspondent; 6 XL3 non-resident; 7 XL3 foreign document; 8 XL4 one STR; 9 XL5 proxy;
    // 10 XL6 refuses due diligence.
    set_num(
        &mut df,
        "net_financial_assets",
        &[
            1e3, 200_001.0, 200_000.0, 500_001.0, 1e3, 1e3, 1e3, 1e3, 1e3, 1e3, 1e3,
        ],
    );
    set_str(
        &mut df,
        "kind",
        &[
            "natural",
            "natural",
            "natural",
            "non_natural",
            "natural",
            "natural",
            "natural",
            "natural",
            "natural",
            "natural",
            "natural",
        ],
    );
    set_num(
        &mut df,
        "annual_life_premium",
        &[0.0, 0.0, 0.0, 0.0, 7200.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    );
    set_bool(
        &mut df,
        "correspondent_relation",
        &[
            false, false, false, false, false, true, false, false, false, false, false,
        ],
    );
    set_bool(
        &mut df,
        "non_resident",
        &[
            false, false, false, false, false, false, true, false, false, false, false,
        ],
    );
    set_bool(
        &mut df,
        "foreign_id_document",
        &[
            false, false, false, false, false, false, false, true, false, false, false,
        ],
    );
    set_num(
        &mut df,
        "str_count",
        &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
    );
    set_bool(
        &mut df,
        "onboarding_proxy",
        &[
            false, false, false, false, false, false, false, false, false, true, false,
        ],
    );
    set_bool(
        &mut df,
        "refuses_cdd",
        &[
            false, false, false, false, false, false, false, false, false, false, true,
        ],
    );
    let out = score(df, &model);
    let basis = strs(&out, "basis");
    let blocked = strs(&out, "direct_low_blocked_by");
    assert_eq!(basis[0].as_deref(), Some("direct_low"));
    assert_eq!(basis[2].as_deref(), Some("direct_low"));
    let expect = [
        (1, "xl1"),
        (3, "xl1"),
        (4, "xl1"),
        (5, "xl2"),
        (6, "xl3"),
        (7, "xl3"),
        (8, "xl4"),
        (9, "xl5"),
    ];
    for (i, id) in expect {
        assert_eq!(basis[i].as_deref(), Some("scored"), "customer {i}");
        assert_eq!(blocked[i].as_deref(), Some(id), "customer {i}");
    }
    // XL6 refusing due diligence is also XH5: direct-highest wins.
    assert_eq!(basis[10].as_deref(), Some("direct_highest"));
    assert_eq!(blocked[10].as_deref(), Some("xl6"));
    assert_eq!(strs(&out, "grade")[0].as_deref(), Some("low"));
}

/// XL/XH precedence: direct-highest beats direct-low beats scoring.
#[test]
fn xh_beats_xl_beats_scoring() {
    let model = low_model();
    let mut df = base_features(2);
    set_bool(&mut df, "watchlist_hit", &[true, false]);
    // customer 1 scores high by cash but is eligible and clean: direct low.
    set_num(&mut df, "cash_total", &[0.0, 0.0]);
    let out = score(df, &model);
    assert_eq!(
        strs(&out, "basis"),
        vec![Some("direct_highest".into()), Some("direct_low".into())]
    );
    assert_eq!(
        strs(&out, "grade"),
        vec![Some("high".into()), Some("low".into())]
    );
}

/// W5: segments by tenure use their own weights.
#[test]
fn w5_new_and_existing_segments_use_their_own_weights() {
    let text = std::fs::read_to_string(repo("tests/models/three_level.toml")).unwrap();
    let t = text.replace(
        "[[segments]]\nname = \"all_natural\"\nkind = \"natural\"\n",
        "[[segments]]\nname = \"new_natural\"\nkind = \"natural\"\ntenure = \"new\"\n[segments.weights]\ncash = 20\npep = 20\nchannel = 60\n\n[[segments]]\nname = \"all_natural\"\nkind = \"natural\"\ntenure = \"existing\"\n",
    );
    let model = Model::parse(&t).unwrap();
    let mut df = base_features(2);
    set_num(&mut df, "tenure_days", &[365.0, 366.0]);
    set_str(
        &mut df,
        "onboarding_channel",
        &["intermediary", "intermediary"],
    );
    let out = score(df, &model);
    assert_eq!(
        strs(&out, "segment"),
        vec![Some("new_natural".into()), Some("all_natural".into())]
    );
    // new: (1·20 + 1·20 + 3·60)/3 = 220/3; existing: (40 + 30 + 90)/3 = 160/3
    assert_eq!(ints(&out, "weighted_sum"), vec![Some(22000), Some(16000)]);
}

/// Top contributing sub-items are ordered by a·p, largest first.
#[test]
fn top_subitems_by_contribution() {
    let model = load("tests/models/published.toml");
    let mut df = base_features(1);
    set_num(&mut df, "industry_cash_intensity", &[5.0]); // 55
    set_num(&mut df, "str_count", &[1.0]); // 75
    set_num(&mut df, "txn_count", &[10.0]); // 50
    let out = score(df, &model);
    assert_eq!(
        strs(&out, "top_subitems"),
        vec![Some("monitoring,cash_industry,frequency".into())]
    );
}

/// The default model's rules for S1.1, S1.5, S1.6, S2.1–S2.4, S3.1–S3.5, S4.1 and S4.3, on
/// non-natural persons (each sub-item takes the worst of its rules; values from
/// data/models/default.toml).
#[test]
fn s1_s2_s3_s4_default_model_rules() {
    let model = default_model();
    let mut df = base_features(4);
    set_str(&mut df, "kind", &["non_natural"; 4]);
    set_num(&mut df, "existence_days", &[1000.0; 4]);
    set_str_opt(
        &mut df,
        "info_openness",
        &[Some("state_organ"), Some("soe"), Some("other"), None],
    );
    set_str(
        &mut df,
        "legal_form",
        &[
            "limited_company",
            "sole_proprietorship",
            "limited_company",
            "listed_company",
        ],
    );
    set_num(&mut df, "ownership_layers", &[1.0, 1.0, 5.0, 1.0]);
    set_bool(&mut df, "hidden_shareholders", &[false, false, false, true]);
    set_num(&mut df, "alert_level", &[0.0, 1.0, 2.0, 3.0]);
    set_bool(&mut df, "country_sanctioned", &[false, true, false, false]);
    set_num(&mut df, "country_fatf_level", &[0.0, 1.0, 2.0, 0.0]);
    set_num(&mut df, "country_predicate_level", &[1.0, 3.0, 2.0, 1.0]);
    set_num(&mut df, "region_predicate_level", &[1.0, 1.0, 5.0, 2.0]);
    set_bool(&mut df, "country_offshore", &[false, false, false, true]);
    set_str(
        &mut df,
        "address_locality",
        &["local", "other_city", "partly_local", "local"],
    );
    set_num(
        &mut df,
        "cash_total",
        &[0.0, 250_000.0, 49_999.0, 5_000_000.0],
    );
    set_num(&mut df, "cash_near_threshold_count", &[0.0, 0.0, 3.0, 0.0]);
    set_num(&mut df, "cash_large_days", &[0.0, 1.0, 0.0, 0.0]);
    set_num(&mut df, "shared_ip_customers", &[1.0, 5.0, 0.0, 2.0]);
    set_num(&mut df, "offsite_online_count", &[0.0, 5.0, 20.0, 0.0]);
    set_num(&mut df, "cross_border_count", &[0.0, 6.0, 1.0, 20.0]);
    set_num(
        &mut df,
        "cross_border_high_risk_count",
        &[0.0, 1.0, 0.0, 0.0],
    );
    set_num(&mut df, "proxy_customers", &[0.0, 2.0, 0.0, 5.0]);
    set_num(&mut df, "shared_contact_customers", &[1.0, 1.0, 4.0, 0.0]);
    set_num(&mut df, "accounts_opened_closed", &[0.0, 6.0, 3.0, 0.0]);
    set_num(&mut df, "corp_personal_count", &[0.0, 0.0, 0.0, 200.0]);
    set_num(&mut df, "industry_risk", &[1.0, 4.0, 2.0, 5.0]);
    set_num(&mut df, "industry_cash_intensity", &[1.0, 3.0, 4.0, 2.0]);
    let out = score(df, &model);
    let v = |c: &str| {
        ints(&out, c)
            .into_iter()
            .map(|x| x.unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(v("s1_1"), [1, 2, 3, 3]); // state organ 1, SOE 2, other 3, missing 3
    assert_eq!(v("s1_5"), [2, 4, 5, 5]); // limited 2; sole proprietorship 4; 5 layers 5; hidden 5
    assert_eq!(v("s1_6"), [1, 3, 4, 5]);
    assert_eq!(v("s2_1"), [1, 5, 1, 1]);
    assert_eq!(v("s2_2"), [1, 4, 5, 1]);
    assert_eq!(v("s2_3"), [1, 3, 5, 2]); // worst of country and region
    assert_eq!(v("s2_4"), [1, 3, 2, 5]); // locality; offshore 5
    assert_eq!(v("s3_1"), [1, 3, 5, 5]); // 250k 3 / one large day 3; 3 near-threshold 5; 5M 5
    assert_eq!(v("s3_2"), [1, 5, 3, 3]); // shared IP 5; 20 offsite 3; 2 sharing one IP 3
    assert_eq!(v("s3_3"), [1, 4, 2, 4]); // 1 high-risk 4; 1 cross-border 2; 20 → 4
    assert_eq!(v("s3_4"), [1, 3, 5, 5]);
    assert_eq!(v("s3_5"), [1, 5, 3, 3]); // 6 accounts 5; 3 accounts 3; 200 corporate-personal 3
    assert_eq!(v("s4_1"), [1, 4, 2, 5]);
    assert_eq!(v("s4_3"), [1, 3, 4, 2]);
    assert_eq!(strs(&out, "missing_subitems")[3].as_deref(), Some("s1_1"));
    // S1.7 (age) is not adopted for non-natural persons: no score.
    assert_eq!(ints(&out, "s1_7"), vec![None; 4]);
}

/// PR3: a field that does not apply to the customer's kind is not missing information. With the
/// default model a natural person has no controller of its own (`controller_pep_relation` is
/// null by design): S4.2 is scored from its own PEP relation alone (none → 1) and not marked. A
/// non-natural person whose controller's PEP relation is unknown is marked and scored the
/// missing score 2 (max of 2 and its own relation none → 1).
#[test]
fn pr3_not_applicable_is_not_missing() {
    let model = default_model();
    let mut df = base_features(2);
    set_str(&mut df, "kind", &["natural", "non_natural"]);
    set_str_opt(&mut df, "controller_pep_relation", &[None, None]);
    // Fields of the other kind are null too: none of them may be marked.
    set_str_opt(&mut df, "legal_form", &[None, Some("limited_company")]);
    set_num_opt(&mut df, "ownership_layers", &[None, Some(1.0)]);
    set_num_opt(&mut df, "existence_days", &[None, Some(1000.0)]);
    set_num_opt(&mut df, "age_years", &[Some(30.0), None]);
    let out = score(df, &model);
    assert_eq!(ints(&out, "s4_2"), vec![Some(1), Some(2)]);
    assert_eq!(
        strs(&out, "missing_subitems"),
        vec![None, Some("s4_2".to_string())]
    );
}

/// PR3: a rule's `kinds` narrows the customers it applies to; for the others it gives no score.
/// Here S4.2 reads the customer's own PEP relation for natural persons only, so a non-natural
/// person's S4.2 comes from its controller alone (relative → 3, not its own foreign_pep → 4).
#[test]
fn pr3_rule_kinds_choose_the_customers_a_rule_scores() {
    let text = std::fs::read_to_string(repo("data/models/default.toml"))
        .unwrap()
        .replacen(
            "feature = \"pep_relation\"\n",
            "feature = \"pep_relation\"\nkinds = [\"natural\"]\n",
            1,
        );
    let model = Model::parse(&text).unwrap();
    let mut df = base_features(2);
    set_str(&mut df, "kind", &["natural", "non_natural"]);
    set_str(&mut df, "pep_relation", &["domestic_pep", "domestic_pep"]);
    set_str_opt(
        &mut df,
        "controller_pep_relation",
        &[None, Some("relative")],
    );
    let out = score(df, &model);
    // natural: own domestic_pep → 4 (L-CDD33, the default model's choice); non-natural:
    // controller relative → 3 (own not read).
    assert_eq!(ints(&out, "s4_2"), vec![Some(4), Some(3)]);
}

/// W3: `total_score` is the double nearest to weighted_sum / (100·m), one correctly rounded
/// division; `adjusted_score` equals it where the coefficient is 1. Default model, natural
/// segment: every sub-item 1 (Σ a·p = 100) plus S1.2 affiliate 2 (+5) and S3.1 cash 60,000 → 2
/// (+12): Σ a·p = 117, weighted_sum 11,700, total 117 / 5 = 23.4. Multiplying by the
/// reciprocal of 500 gives 23.400000000000002. At branch B008 (coefficient 1.1):
/// 23.4 × 1.1 = 25.74.
#[test]
fn w3_totals_on_file_are_the_exact_quotient() {
    let model = default_model();
    let mut df = base_features(2);
    set_str(&mut df, "onboarding_channel", &["affiliate", "affiliate"]);
    set_num(&mut df, "cash_total", &[60_000.0, 60_000.0]);
    set_str(&mut df, "branch_id", &["B001", "B008"]);
    let out = score(df, &model);
    assert_eq!(ints(&out, "weighted_sum"), vec![Some(11_700), Some(11_700)]);
    let total = floats(&out, "total_score");
    assert_eq!(total, vec![Some(23.4), Some(23.4)]);
    assert_eq!(
        floats(&out, "regional_coefficient"),
        vec![Some(1.0), Some(1.1)]
    );
    assert_eq!(
        floats(&out, "adjusted_score"),
        vec![Some(23.4), Some(25.74)]
    );
    // Bit for bit, not just within a tolerance.
    assert_eq!(total[0].unwrap().to_bits(), 23.4f64.to_bits());
}

/// PR3, T4: a list of names (missing sub-items, reasons, XH conditions) holds the names whose
/// condition is true, in the order given, a null condition counting as false; null when none
/// holds. Twelve conditions span two lookup groups (ten and two): row 0 has n1, n10 (last of
/// the first group) and n11 (first of the second); row 1 only n12; row 2 none (one null); row
/// 3 all twelve.
#[test]
fn pr3_t4_name_lists_in_order_across_groups() {
    let names: Vec<String> = (1..=12).map(|i| format!("n{i}")).collect();
    let mut cols = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let v: [Option<bool>; 4] = match i + 1 {
            1 | 10 | 11 => [Some(true), Some(false), None, Some(true)],
            12 => [Some(false), Some(true), Some(false), Some(true)],
            _ => [Some(false), None, Some(false), Some(true)],
        };
        cols.push(Column::new(n.as_str().into(), v));
    }
    let df = DataFrame::new(4, cols).unwrap();
    let parts = names.iter().map(|n| (n.clone(), col(n.as_str()))).collect();
    let out = df
        .lazy()
        .select([scoring::names_where(parts, ",").alias("l")])
        .collect()
        .unwrap();
    assert_eq!(
        strs(&out, "l"),
        vec![
            Some("n1,n10,n11".to_string()),
            Some("n12".to_string()),
            None,
            Some("n1,n2,n3,n4,n5,n6,n7,n8,n9,n10,n11,n12".to_string()),
        ]
    );
    // One group alone (three names, "+"-joined).
    let parts = names[..3]
        .iter()
        .map(|n| (n.clone(), col(n.as_str())))
        .collect();
    let three = DataFrame::new(
        2,
        vec![
            Column::new("n1".into(), [Some(true), None]),
            Column::new("n2".into(), [Some(false), None]),
            Column::new("n3".into(), [Some(true), Some(false)]),
        ],
    )
    .unwrap()
    .lazy()
    .select([scoring::names_where(parts, "+").alias("l")])
    .collect()
    .unwrap();
    assert_eq!(strs(&three, "l"), vec![Some("n1+n3".to_string()), None]);
}

/// S1.5 over the ownership graph (default model; L-BOI6, PR3): a book without a graph (the
/// graph's features null) is scored on the record alone and not marked missing; with one,
/// beneficial owners not identified score 5, a chain of 3 links 3 and of 5 links 5, a cycle 5,
/// an owner who owns 10 entity customers 3 and 50 entity customers 5, the worst rule winning.
#[test]
fn s1_5_reads_the_ownership_graph_where_the_book_has_one() {
    let model = default_model();
    let mut df = base_features(7);
    set_str(&mut df, "kind", &["non_natural"; 7]);
    set_num(&mut df, "existence_days", &[1000.0; 7]);
    set_num(&mut df, "ownership_layers", &[1.0; 7]);
    // Row 0: no graph (nulls). Rows 1-6: the graph's values.
    let graph = |v: &[Option<f64>]| Series::new("x".into(), v.to_vec());
    let mut put = |name: &str, s: Series| {
        df.with_column(s.with_name(name.into()).into_column())
            .unwrap();
    };
    put(
        "bo_identified",
        Series::new(
            "x".into(),
            [
                None,
                Some(true),
                Some(false),
                Some(true),
                Some(true),
                Some(true),
                Some(true),
            ],
        ),
    );
    put(
        "ownership_depth",
        graph(&[
            None,
            Some(1.0),
            Some(1.0),
            Some(3.0),
            Some(5.0),
            Some(1.0),
            Some(2.0),
        ]),
    );
    put(
        "circular_ownership",
        Series::new(
            "x".into(),
            [
                None,
                Some(false),
                Some(false),
                Some(false),
                Some(false),
                Some(true),
                Some(false),
            ],
        ),
    );
    put(
        "bo_fanout",
        graph(&[
            None,
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(10.0),
        ]),
    );
    let out = score(df, &model);
    let s15: Vec<i64> = ints(&out, "s1_5").into_iter().map(|x| x.unwrap()).collect();
    // limited company 2 on the record; graph: identified 1, not identified 5, depth 3 → 3,
    // depth 5 → 5, cycle 5, fan-out 10 → 3.
    assert_eq!(s15, [2, 2, 5, 3, 5, 5, 3]);
    let missing = strs(&out, "missing_subitems");
    assert!(
        missing
            .iter()
            .all(|m| !m.as_deref().unwrap_or("").contains("s1_5")),
        "{missing:?}"
    );
}
