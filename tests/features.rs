//! Feature derivation on a hand-made portfolio of three customers; every expected value is
//! worked out by hand from the rows below (as-of 2026-10-31, window 2025-10-31 < day ≤ 2026-10-31).

mod common;

use common::*;
use polars::prelude::*;
use riskgrade::contract;
use riskgrade::features::{self, Ctx};
use riskgrade::inputs::Inputs;
use riskgrade::model::Params;
use riskgrade::reference::Reference;

/// customer, ts, amount, cash, channel, ip, ip_country, ip_city, device, counterparty kind,
/// cross-border, counterparty country, related party
type Txn<'a> = (
    &'a str,
    &'a str,
    f64,
    bool,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    bool,
    &'a str,
    bool,
);

fn portfolio(dir: &std::path::Path) {
    // Customers: C1 natural (B001, Beijing), C2 natural (B008, Kunming), C3 non-natural (B001).
    let mut c = contract_frame(&contract::CUSTOMERS, 3);
    set_str(&mut c, "customer_id", &["C1", "C2", "C3"]);
    set_str(&mut c, "branch_id", &["B001", "B008", "B001"]);
    set_str(&mut c, "kind", &["natural", "natural", "non_natural"]);
    set_dates(
        &mut c,
        "birth_date",
        &[Some("2010-11-01"), Some("2010-10-31"), None],
    );
    set_dates(&mut c, "founding_date", &[None, None, Some("2026-10-21")]);
    set_str_opt(&mut c, "nationality", &[Some("CN"), Some("KP"), None]);
    set_str_opt(&mut c, "bo_country", &[None, None, Some("VG")]);
    set_str_opt(
        &mut c,
        "residence_province",
        &[Some("11"), Some("53"), None],
    );
    set_str_opt(
        &mut c,
        "residence_city",
        &[Some("1101"), Some("5303"), None],
    );
    set_str_opt(&mut c, "registration_province", &[None, None, Some("65")]);
    set_str_opt(&mut c, "registration_city", &[None, None, Some("6501")]);
    for col in [
        "residence_country",
        "registration_country",
        "business_country",
        "business_province",
        "business_city",
        "id_issuing_country",
    ] {
        set_str_opt(&mut c, col, &[None, None, None]);
    }
    set_str_opt(&mut c, "onboarding_proxy_id", &[Some("P1"), None, None]);
    set_str_opt(&mut c, "phone_hash", &[Some("h1"), Some("h1"), None]);
    set_str_opt(&mut c, "emergency_contact_hash", &[None, None, Some("e3")]);
    set_str_opt(&mut c, "industry_code", &[Some("R87"), None, Some("K70")]);
    write(&mut c, dir, "customers.parquet");

    // Accounts: A3 of C3 opened 2026-10-21 by P1; A4 of C2 opened by P1 in 2020.
    let mut a = contract_frame(&contract::ACCOUNTS, 3);
    set_str(&mut a, "account_id", &["A1", "A3", "A4"]);
    set_str(&mut a, "customer_id", &["C1", "C3", "C2"]);
    set_dates(
        &mut a,
        "opened_date",
        &[Some("2015-01-01"), Some("2026-10-21"), Some("2020-01-01")],
    );
    set_dates(&mut a, "closed_date", &[None, None, None]);
    set_str_opt(
        &mut a,
        "opened_by_proxy_id",
        &[None, Some("P1"), Some("P1")],
    );
    write(&mut a, dir, "accounts.parquet");

    // Transactions.
    let rows: Vec<Txn> = vec![
        // customer, ts, amount, cash, channel, ip, ip_country, ip_city, device, cp_kind, cross_border, cp_country, related
        (
            "C1",
            "2026-05-01 10:00",
            30_000.0,
            true,
            "counter",
            None,
            None,
            None,
            None,
            "natural",
            false,
            "CN",
            false,
        ),
        (
            "C1",
            "2026-05-01 15:00",
            25_000.0,
            true,
            "counter",
            None,
            None,
            None,
            None,
            "natural",
            false,
            "CN",
            false,
        ),
        (
            "C1",
            "2026-06-01 09:00",
            49_999.0,
            true,
            "atm",
            None,
            None,
            None,
            None,
            "natural",
            false,
            "CN",
            false,
        ),
        (
            "C1",
            "2025-10-31 23:00",
            60_000.0,
            true,
            "counter",
            None,
            None,
            None,
            None,
            "natural",
            false,
            "CN",
            false,
        ), // day 2025-10-31: outside
        (
            "C1",
            "2026-11-01 00:00",
            70_000.0,
            true,
            "counter",
            None,
            None,
            None,
            None,
            "natural",
            false,
            "CN",
            false,
        ), // after as-of: outside
        (
            "C1",
            "2026-10-31 23:59",
            600_000.0,
            false,
            "online",
            Some("1.1.1.1"),
            Some("CN"),
            Some("3101"),
            Some("D1"),
            "non_natural",
            false,
            "CN",
            false,
        ),
        (
            "C1",
            "2026-07-01 12:00",
            100.0,
            false,
            "mobile",
            Some("9.9.9.9"),
            Some("US"),
            None,
            Some("D1"),
            "natural",
            false,
            "CN",
            false,
        ),
        (
            "C2",
            "2026-03-01 12:00",
            10.0,
            false,
            "online",
            Some("1.1.1.1"),
            Some("CN"),
            Some("5303"),
            Some("D1"),
            "natural",
            false,
            "CN",
            false,
        ),
        (
            "C2",
            "2026-03-02 12:00",
            5_000.0,
            false,
            "counter",
            None,
            None,
            None,
            None,
            "natural",
            true,
            "IR",
            false,
        ),
        (
            "C3",
            "2026-10-25 12:00",
            1_000_000.0,
            false,
            "online",
            Some("2.2.2.2"),
            Some("CN"),
            Some("1101"),
            Some("D1"),
            "natural",
            false,
            "CN",
            false,
        ),
        (
            "C3",
            "2026-10-26 12:00",
            2_000_000.0,
            false,
            "counter",
            None,
            None,
            None,
            None,
            "non_natural",
            false,
            "CN",
            true,
        ),
    ];
    let n = rows.len();
    let mut t = contract_frame(&contract::TRANSACTIONS, n);
    set_str(
        &mut t,
        "customer_id",
        &rows.iter().map(|r| r.0).collect::<Vec<_>>(),
    );
    set_ts(&mut t, "ts", &rows.iter().map(|r| r.1).collect::<Vec<_>>());
    set_num(
        &mut t,
        "amount",
        &rows.iter().map(|r| r.2).collect::<Vec<_>>(),
    );
    set_bool(
        &mut t,
        "cash",
        &rows.iter().map(|r| r.3).collect::<Vec<_>>(),
    );
    set_str(
        &mut t,
        "channel",
        &rows.iter().map(|r| r.4).collect::<Vec<_>>(),
    );
    set_str_opt(
        &mut t,
        "ip_address",
        &rows.iter().map(|r| r.5).collect::<Vec<_>>(),
    );
    set_str_opt(
        &mut t,
        "ip_country",
        &rows.iter().map(|r| r.6).collect::<Vec<_>>(),
    );
    set_str_opt(
        &mut t,
        "ip_city",
        &rows.iter().map(|r| r.7).collect::<Vec<_>>(),
    );
    set_str_opt(
        &mut t,
        "device_id",
        &rows.iter().map(|r| r.8).collect::<Vec<_>>(),
    );
    set_str(
        &mut t,
        "counterparty_kind",
        &rows.iter().map(|r| r.9).collect::<Vec<_>>(),
    );
    set_bool(
        &mut t,
        "cross_border",
        &rows.iter().map(|r| r.10).collect::<Vec<_>>(),
    );
    set_str(
        &mut t,
        "counterparty_country",
        &rows.iter().map(|r| r.11).collect::<Vec<_>>(),
    );
    set_bool(
        &mut t,
        "related_party",
        &rows.iter().map(|r| r.12).collect::<Vec<_>>(),
    );
    set_str(&mut t, "direction", &vec!["out"; n]);
    set_str_opt(&mut t, "proxy_id", &vec![None; n]);
    write(&mut t, dir, "transactions.parquet");

    // Reports: C1 one STR in time (with proxy), one after the as-of date, one large-value
    // report before the window.
    let mut r = contract_frame(&contract::REPORTS, 3);
    set_str(&mut r, "report_id", &["R1", "R2", "R3"]);
    set_str(&mut r, "customer_id", &["C1", "C1", "C1"]);
    set_str(
        &mut r,
        "report_type",
        &["suspicious", "suspicious", "large_value"],
    );
    set_dates(
        &mut r,
        "report_date",
        &[Some("2026-01-01"), Some("2027-01-01"), Some("2025-06-01")],
    );
    set_bool(&mut r, "proxy_involved", &[true, false, false]);
    write(&mut r, dir, "reports.parquet");
}

fn features() -> DataFrame {
    let dir = tempfile::tempdir().unwrap();
    portfolio(dir.path());
    compute(dir.path(), None)
}

/// The features of the portfolio in `dir` sorted by customer, in one range or range by range
/// with `rows` customers per range (the production path either way).
fn compute(dir: &std::path::Path, rows: Option<usize>) -> DataFrame {
    compute_with(dir, rows, &Params::default())
}

/// [`compute`] with the feature parameters `params`.
fn compute_with(dir: &std::path::Path, rows: Option<usize>, params: &Params) -> DataFrame {
    as_built_with(dir, rows, params)
        .sort(["customer_id"], Default::default())
        .unwrap()
}

/// The feature frame as `build_partitioned` returns it (rows in range, then file, order).
fn as_built(dir: &std::path::Path, rows: Option<usize>) -> DataFrame {
    as_built_with(dir, rows, &Params::default())
}

/// [`as_built`] with the feature parameters `params`. Computed twice, the window aggregates
/// from the fused pass and from the engine's group-bys: the frames must be equal bit for bit.
fn as_built_with(dir: &std::path::Path, rows: Option<usize>, params: &Params) -> DataFrame {
    let inputs = Inputs::open(dir).unwrap();
    let [fused, engine] = [true, false].map(|fused| {
        with_params(params, |ctx| {
            features::build_partitioned(
                &inputs,
                Ctx { fused, ..ctx },
                rows.unwrap_or(usize::MAX),
                &riskgrade::progress::Progress::new(true),
                None,
            )
            .unwrap()
            .0
        })
    });
    assert!(fused.equals_missing(&engine), "{fused}\n{engine}");
    fused
}

/// Runs `f` with the default feature parameters and reference tables as of 2026-10-31.
fn with_ctx<T>(f: impl FnOnce(Ctx<'_>) -> T) -> T {
    with_params(&Params::default(), f)
}

/// Runs `f` with the feature parameters `params` and reference tables as of 2026-10-31.
fn with_params<T>(params: &Params, f: impl FnOnce(Ctx<'_>) -> T) -> T {
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    let reference = Reference::load(&repo("data/reference"), as_of).unwrap();
    f(Ctx {
        params,
        reference: &reference,
        as_of,
        links: None,
        owners: None,
        fused: true,
    })
}

/// Rewrites one file of the portfolio in `dir` through `f`.
fn rewrite(dir: &std::path::Path, file: &str, f: impl FnOnce(LazyFrame) -> LazyFrame) {
    let path = dir.join(file);
    let lf = LazyFrame::scan_parquet(PlRefPath::from(path.to_str().unwrap()), Default::default())
        .unwrap();
    let mut df = f(lf).collect().unwrap();
    write(&mut df, dir, file);
}

/// S3.2(1), S3.2(3), S3.4(4): a customer who used no IP address or device online and gave no
/// phone or emergency contact counts 0, whole portfolio or range by range.
#[test]
fn s3_2_s3_4_no_key_counts_zero() {
    let dir = tempfile::tempdir().unwrap();
    portfolio(dir.path());
    rewrite(dir.path(), "transactions.parquet", |lf| {
        let online = col("channel")
            .eq(lit("online"))
            .or(col("channel").eq(lit("mobile")));
        lf.filter(col("customer_id").eq(lit("C3")).and(online).not())
    });
    rewrite(dir.path(), "customers.parquet", |lf| {
        lf.with_column(
            when(col("customer_id").eq(lit("C3")))
                .then(lit(NULL).cast(DataType::String))
                .otherwise(col("emergency_contact_hash"))
                .alias("emergency_contact_hash"),
        )
    });
    for rows in [None, Some(1)] {
        let f = compute(dir.path(), rows);
        // C1 and C2 still share IP 1.1.1.1, device D1 and phone h1.
        for c in [
            "shared_ip_customers",
            "shared_device_customers",
            "shared_contact_customers",
        ] {
            assert_eq!(ints(&f, c), vec![Some(2), Some(2), Some(0)], "{c} {rows:?}");
        }
    }
}

#[test]
fn s1_7_s1_8_age_and_time_in_existence_at_the_as_of_date() {
    let f = features();
    // C1 turns 16 the day after the as-of date; C2 turns 16 on it.
    assert_eq!(ints(&f, "age_years"), vec![Some(15), Some(16), None]);
    assert_eq!(ints(&f, "existence_days"), vec![None, None, Some(10)]);
}

#[test]
fn s3_1_cash_window_large_days_and_structuring() {
    let f = features();
    // In the window: 30,000 + 25,000 (one day, 55,000 ≥ 50,000) and 49,999.
    assert_eq!(
        floats(&f, "cash_total"),
        vec![Some(104_999.0), Some(0.0), Some(0.0)]
    );
    assert_eq!(ints(&f, "cash_count"), vec![Some(3), Some(0), Some(0)]);
    assert_eq!(ints(&f, "cash_large_days"), vec![Some(1), Some(0), Some(0)]);
    assert_eq!(
        ints(&f, "cash_near_threshold_count"),
        vec![Some(1), Some(0), Some(0)]
    );
    // 3 cash + 2 online in the window for C1.
    assert_eq!(ints(&f, "txn_count"), vec![Some(5), Some(2), Some(2)]);
    assert_eq!(
        floats(&f, "max_single_amount"),
        vec![Some(600_000.0), Some(5_000.0), Some(2_000_000.0)]
    );
}

#[test]
fn s3_2_non_face_to_face_patterns() {
    let f = features();
    // (1) device D1 used online by C1, C2 and C3; (3) IP 1.1.1.1 by C1 and C2.
    assert_eq!(
        ints(&f, "shared_device_customers"),
        vec![Some(3), Some(3), Some(3)]
    );
    assert_eq!(
        ints(&f, "shared_ip_customers"),
        vec![Some(2), Some(2), Some(1)]
    );
    // (2) C1: one from Shanghai (branch Beijing) and one from abroad; C2: Kunming branch,
    // IP city 5303 ≠ 5301; C3: Beijing from Beijing.
    assert_eq!(
        ints(&f, "offsite_online_count"),
        vec![Some(2), Some(1), Some(0)]
    );
    // (4) largest online amount.
    assert_eq!(
        floats(&f, "max_online_amount"),
        vec![Some(600_000.0), Some(10.0), Some(1_000_000.0)]
    );
    // (5) C1 natural with a non-natural counterparty 600,000 ≥ 500,000; C3 non-natural with a
    // natural counterparty 1,000,000 < 2,000,000.
    assert_eq!(
        ints(&f, "corp_personal_count"),
        vec![Some(1), Some(0), Some(1)]
    );
    assert_eq!(
        ints(&f, "corp_personal_large_count"),
        vec![Some(1), Some(0), Some(0)]
    );
    // (6) related party at exactly 2,000,000 (inclusive).
    assert_eq!(
        ints(&f, "related_party_large_count"),
        vec![Some(0), Some(0), Some(1)]
    );
}

#[test]
fn s3_3_s3_5_cross_border_and_special_types() {
    let f = features();
    assert_eq!(
        ints(&f, "cross_border_count"),
        vec![Some(0), Some(1), Some(0)]
    );
    assert_eq!(
        ints(&f, "cross_border_high_risk_count"),
        vec![Some(0), Some(1), Some(0)]
    );
    assert_eq!(
        ints(&f, "natural_crossborder_remit_count"),
        vec![Some(0), Some(1), Some(0)]
    );
    assert_eq!(
        ints(&f, "accounts_opened_closed"),
        vec![Some(0), Some(0), Some(1)]
    );
}

#[test]
fn s3_4_agency_patterns() {
    let f = features();
    // P1 onboarded C1 and opened accounts of C2 and C3.
    assert_eq!(ints(&f, "proxy_customers"), vec![Some(3), Some(3), Some(3)]);
    assert_eq!(
        ints(&f, "proxy_accounts_opened"),
        vec![Some(0), Some(2), Some(2)]
    );
    assert_eq!(ints(&f, "proxy_str_count"), vec![Some(1), Some(0), Some(0)]);
    // C1 and C2 share phone h1; C3 alone gave emergency contact e3 (itself: 1).
    assert_eq!(
        ints(&f, "shared_contact_customers"),
        vec![Some(2), Some(2), Some(1)]
    );
    assert_eq!(
        strs(&f, "onboarding_proxy"),
        vec![
            Some("true".into()),
            Some("false".into()),
            Some("false".into())
        ]
    );
}

#[test]
fn s1_4_reports_up_to_the_as_of_date() {
    let f = features();
    assert_eq!(ints(&f, "str_count"), vec![Some(1), Some(0), Some(0)]);
    assert_eq!(
        ints(&f, "large_value_report_count"),
        vec![Some(0), Some(0), Some(0)]
    );
}

#[test]
fn s2_1_to_s2_4_geography() {
    let f = features();
    // C2: nationality KP (sanctioned, call for action, level 5) and its main counterparty
    // country IR (5,000 of 5,010). C3: owner in VG (offshore, increased monitoring, level 2).
    assert_eq!(
        strs(&f, "country_sanctioned"),
        vec![
            Some("false".into()),
            Some("true".into()),
            Some("false".into())
        ]
    );
    assert_eq!(
        ints(&f, "country_fatf_level"),
        vec![Some(0), Some(2), Some(1)]
    );
    assert_eq!(
        ints(&f, "country_predicate_level"),
        vec![Some(1), Some(5), Some(2)]
    );
    assert_eq!(
        strs(&f, "country_offshore"),
        vec![
            Some("false".into()),
            Some("false".into()),
            Some("true".into())
        ]
    );
    // Yunnan (53) is level 5; C3's only province (65) is not listed: 1.
    assert_eq!(
        ints(&f, "region_predicate_level"),
        vec![Some(1), Some(5), Some(1)]
    );
    // C1 lives in a branch city; C2 in a branch province but another city; C3 elsewhere.
    assert_eq!(
        strs(&f, "address_locality"),
        vec![
            Some("local".into()),
            Some("other_city".into()),
            Some("other_province".into())
        ]
    );
}

#[test]
fn s4_1_s4_3_industry_lookups() {
    let f = features();
    // R87 art: risk 3, cash 4; unknown industry stays missing; K70 real estate: 4, 1.
    assert_eq!(ints(&f, "industry_risk"), vec![Some(3), None, Some(4)]);
    assert_eq!(
        ints(&f, "industry_cash_intensity"),
        vec![Some(4), None, Some(1)]
    );
}

/// A portfolio processed in ranges of one customer gives the same features as in one piece:
/// the cross-customer patterns (shared IP, device, phone, proxy) span the ranges.
#[test]
fn partitioned_features_equal_whole_portfolio_features() {
    let dir = tempfile::tempdir().unwrap();
    portfolio(dir.path());
    let whole = compute(dir.path(), None);
    let parts = compute(dir.path(), Some(1));
    assert_eq!(parts.height(), 3);
    assert!(whole.equals_missing(&parts), "{whole}\n{parts}");
    assert_eq!(
        ints(&parts, "shared_device_customers"),
        vec![Some(3), Some(3), Some(3)]
    );
}

/// S3.2(5), S3.5: a government body's account is a 对公 (public) account. With every
/// counterparty a government body, the natural persons C1 and C2 count each of their window
/// transactions (C1: 5, of which 600,000 ≥ 500,000 is large; C2: 2); the non-natural C3 with a
/// government counterparty is 对公↔对公 and counts none.
#[test]
fn s3_2_s3_5_government_counterparty_is_corporate() {
    let dir = tempfile::tempdir().unwrap();
    portfolio(dir.path());
    rewrite(dir.path(), "transactions.parquet", |lf| {
        lf.with_column(lit("government").alias("counterparty_kind"))
    });
    for rows in [None, Some(1)] {
        let f = compute(dir.path(), rows);
        assert_eq!(
            ints(&f, "corp_personal_count"),
            vec![Some(5), Some(2), Some(0)],
            "{rows:?}"
        );
        assert_eq!(
            ints(&f, "corp_personal_large_count"),
            vec![Some(1), Some(0), Some(0)],
            "{rows:?}"
        );
    }
}

/// S2.3, S2.4: a null province is read from the city code of the same place (GB/T 2260: its
/// first two digits). C2 lives in city 5303 with no province given: Yunnan (53), level 5, and
/// a branch province (B008 is in 53) but another city.
#[test]
fn s2_3_province_from_the_city_code() {
    let dir = tempfile::tempdir().unwrap();
    portfolio(dir.path());
    rewrite(dir.path(), "customers.parquet", |lf| {
        lf.with_column(
            when(col("customer_id").eq(lit("C2")))
                .then(lit(NULL).cast(DataType::String))
                .otherwise(col("residence_province"))
                .alias("residence_province"),
        )
    });
    let f = compute(dir.path(), None);
    assert_eq!(
        ints(&f, "region_predicate_level"),
        vec![Some(1), Some(5), Some(1)]
    );
    assert_eq!(strs(&f, "address_locality")[1], Some("other_city".into()));
}

/// W01: transactions of customers not in customers.parquet are ignored, also by the
/// cross-customer patterns. Two unknown customers, one sorting before every known one (C0) and
/// one after (C9), use device D1 online from IP 1.1.1.1: D1 stays shared by the three known
/// customers (not 5), in one range or range by range, and the links table counts it 3.
#[test]
fn w01_unknown_customers_transactions_are_ignored_by_shared_keys() {
    let dir = tempfile::tempdir().unwrap();
    portfolio(dir.path());
    let before = compute(dir.path(), None);
    rewrite(dir.path(), "transactions.parquet", |lf| {
        let c1_online = lf
            .clone()
            .filter(
                col("customer_id")
                    .eq(lit("C1"))
                    .and(col("device_id").eq(lit("D1"))),
            )
            .limit(1);
        let as_customer = |id: &str, txn: i64| {
            c1_online.clone().with_columns([
                lit(id.to_string()).alias("customer_id"),
                lit(txn).cast(DataType::Int64).alias("txn_id"),
            ])
        };
        concat(
            [lf, as_customer("C0", 9000), as_customer("C9", 9009)],
            UnionArgs::default(),
        )
        .unwrap()
    });
    for rows in [None, Some(1)] {
        let f = compute(dir.path(), rows);
        assert_eq!(
            ints(&f, "shared_device_customers"),
            vec![Some(3), Some(3), Some(3)],
            "{rows:?}"
        );
        assert!(before.equals_missing(&f), "{before}\n{f}");
    }
    let links = with_ctx(|ctx| features::links(&Inputs::open(dir.path()).unwrap(), ctx).unwrap());
    let d1 = links
        .lazy()
        .filter(
            col("link")
                .eq(lit("device_id"))
                .and(col("key").eq(lit("D1"))),
        )
        .collect()
        .unwrap();
    assert_eq!(ints(&d1, "count"), vec![Some(3)]);
}

/// The feature frame's customer ids are flagged sorted (later sorts by customer are then
/// skipped) exactly when its rows are in id order: in order for the customers file in id order,
/// not for the same file reversed in one range.
#[test]
fn customer_ids_flagged_sorted_only_when_in_order() {
    use polars::series::IsSorted;
    let dir = tempfile::tempdir().unwrap();
    portfolio(dir.path());
    let flag = |dir: &std::path::Path| {
        let f = as_built(dir, None);
        (
            f.column("customer_id").unwrap().is_sorted_flag(),
            strs(&f, "customer_id"),
        )
    };
    let (sorted, ids) = flag(dir.path());
    assert_eq!(sorted, IsSorted::Ascending);
    assert_eq!(ids, ["C1", "C2", "C3"].map(|s| Some(s.to_string())));
    rewrite(dir.path(), "customers.parquet", |lf| lf.reverse());
    let (sorted, ids) = flag(dir.path());
    assert_eq!(sorted, IsSorted::Not);
    assert_eq!(ids, ["C3", "C2", "C1"].map(|s| Some(s.to_string())));
}

/// S3.1, E3: amounts are added exactly (in whole fen), so a total does not depend on the order
/// rows are added in and a day's cash exactly at the threshold reaches it. C1's cash on
/// 2026-05-01 becomes 0.70 + 0.10 = 0.80 CNY against a threshold of 0.80 (inclusive): a large
/// day, as is 2026-06-01 (49,999); added as floats, 0.7 + 0.1 is 0.7999999999999999 and the
/// day was missed. C2's two rows become 0.10 and 0.20: 0.30 CNY, where float addition gives
/// 0.30000000000000004.
#[test]
fn s3_1_e3_amounts_add_exactly_in_fen() {
    let dir = tempfile::tempdir().unwrap();
    portfolio(dir.path());
    rewrite(dir.path(), "transactions.parquet", |lf| {
        let a = col("amount");
        lf.with_column(
            when(a.clone().eq(lit(30_000.0)))
                .then(lit(0.70))
                .when(a.clone().eq(lit(25_000.0)))
                .then(lit(0.10))
                .when(a.clone().eq(lit(10.0)))
                .then(lit(0.10))
                .when(a.clone().eq(lit(5_000.0)))
                .then(lit(0.20))
                .otherwise(a)
                .alias("amount"),
        )
    });
    let params = Params {
        large_cash_cny: 0.8,
        ..Params::default()
    };
    for rows in [None, Some(1)] {
        let f = compute_with(dir.path(), rows, &params);
        assert_eq!(
            ints(&f, "cash_large_days"),
            vec![Some(2), Some(0), Some(0)],
            "{rows:?}"
        );
        // 0.70 + 0.10 + 49,999
        assert_eq!(
            floats(&f, "cash_total"),
            vec![Some(49_999.8), Some(0.0), Some(0.0)],
            "{rows:?}"
        );
        // C1: 0.70 + 0.10 + 49,999 + 600,000 + 100; C2: 0.10 + 0.20; C3: 1,000,000 + 2,000,000.
        assert_eq!(
            floats(&f, "txn_amount_total"),
            vec![Some(650_099.8), Some(0.3), Some(3_000_000.0)],
            "{rows:?}"
        );
    }
}

/// E3: a window total is the same bits whether its customer is alone in a range or among
/// others, by either path: C2's 10.00 + 3,415.99 = 342,599 fen is 3,425.9900000000002 CNY
/// (times 0.01), where dividing by 100 gives 3,425.99 (Polars divides a one-row piece element
/// by element but a longer one through the reciprocal).
#[test]
fn e3_a_total_is_the_same_alone_in_its_range_or_among_others() {
    let dir = tempfile::tempdir().unwrap();
    portfolio(dir.path());
    rewrite(dir.path(), "transactions.parquet", |lf| {
        lf.with_column(
            when(
                col("customer_id")
                    .eq(lit("C2"))
                    .and(col("amount").eq(lit(5_000.0))),
            )
            .then(lit(3_415.99))
            .otherwise(col("amount"))
            .alias("amount"),
        )
    });
    for rows in [None, Some(1)] {
        let f = compute(dir.path(), rows);
        assert_eq!(
            floats(&f, "txn_amount_total")[1],
            Some(342_599.0 * 0.01),
            "{rows:?}"
        );
        assert_ne!(342_599.0 * 0.01, 342_599.0 / 100.0);
    }
}

/// S2.1–S2.4, PR3: a customer with no country at all (C1 without its nationality; its
/// counterparties are all domestic) has no country facts: null, scored as missing information,
/// not as an unlisted country (sanctioned false, FATF 0, predicate-crime level 1, offshore false).
#[test]
fn s2_1_to_s2_4_no_country_is_missing_not_unlisted_pr3() {
    let dir = tempfile::tempdir().unwrap();
    portfolio(dir.path());
    rewrite(dir.path(), "customers.parquet", |lf| {
        lf.with_column(
            when(col("customer_id").eq(lit("C1")))
                .then(lit(NULL).cast(DataType::String))
                .otherwise(col("nationality"))
                .alias("nationality"),
        )
    });
    for rows in [None, Some(1)] {
        let f = compute(dir.path(), rows);
        // C2 and C3 as in `s2_1_to_s2_4_geography`.
        assert_eq!(
            ints(&f, "country_fatf_level"),
            vec![None, Some(2), Some(1)],
            "{rows:?}"
        );
        assert_eq!(
            ints(&f, "country_predicate_level"),
            vec![None, Some(5), Some(2)],
            "{rows:?}"
        );
        assert_eq!(
            strs(&f, "country_sanctioned"),
            vec![None, Some("true".into()), Some("false".into())],
            "{rows:?}"
        );
        assert_eq!(
            strs(&f, "country_offshore"),
            vec![None, Some("false".into()), Some("true".into())],
            "{rows:?}"
        );
    }
}
