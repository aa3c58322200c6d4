use polars::prelude::*;
use riskgrade::contract;
use riskgrade::features::{self, scan, Ctx};
use riskgrade::model::Model;
use riskgrade::reference::Reference;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn t<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let s = Instant::now();
    let r = f();
    eprintln!("{name}: {:.2}s", s.elapsed().as_secs_f64());
    r
}

fn main() {
    riskgrade::alloc::tune_memory();
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().unwrap());
    let which = args.next().unwrap_or_default();
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    let model = Model::load(std::path::Path::new("data/models/default.toml")).unwrap();
    let reference = Reference::load(std::path::Path::new("data/reference")).unwrap();
    let ctx = Ctx {
        params: &model.params,
        reference: &reference,
        as_of,
    };
    let tx = || scan(&dir, &contract::TRANSACTIONS).unwrap();
    let s = Engine::Streaming;
    for w in which.split(',') {
        match w {
            "validate" => {
                t(w, || {
                    riskgrade::validate::validate_inputs(&dir, as_of).unwrap()
                });
            }
            "nuniq" => {
                t(w, || {
                    tx().select([col("txn_id").n_unique()])
                        .collect_with_engine(s)
                        .unwrap()
                });
            }
            "orphan" => {
                t(w, || {
                    tx().select([col("customer_id")])
                        .join(
                            scan(&dir, &contract::CUSTOMERS)
                                .unwrap()
                                .select([col("customer_id")]),
                            [col("customer_id")],
                            [col("customer_id")],
                            JoinArgs::new(JoinType::Anti),
                        )
                        .select([len()])
                        .collect()
                        .unwrap()
                });
            }
            "readtx" => {
                t(w, || {
                    tx().select([
                        col("customer_id"),
                        col("amount"),
                        col("ts"),
                        col("channel"),
                        col("ip_address"),
                        col("device_id"),
                        col("ip_city"),
                        col("ip_country"),
                        col("counterparty_country"),
                        col("counterparty_kind"),
                        col("direction"),
                        col("cash"),
                        col("cross_border"),
                        col("related_party"),
                        col("proxy_id"),
                    ])
                    .collect()
                    .unwrap()
                });
            }
            "readtx_s" => {
                t(w, || {
                    tx().select([
                        col("customer_id").n_unique(),
                        col("amount").sum(),
                        col("ts").max(),
                        col("channel").n_unique(),
                        col("ip_address").n_unique(),
                        col("device_id").n_unique(),
                        col("ip_city").n_unique(),
                    ])
                    .collect_with_engine(s)
                    .unwrap()
                });
            }
            "gb_cust" => {
                t(w, || {
                    tx().group_by([col("customer_id")])
                        .agg([len(), col("amount").sum()])
                        .collect()
                        .unwrap()
                });
            }
            "gb_cust_s" => {
                t(w, || {
                    tx().group_by([col("customer_id")])
                        .agg([len(), col("amount").sum()])
                        .collect_with_engine(s)
                        .unwrap()
                });
            }
            "feat" => {
                t(w, || features::build(&dir, ctx).unwrap().collect().unwrap());
            }
            "feat_s" => {
                t(w, || {
                    features::build(&dir, ctx)
                        .unwrap()
                        .collect_with_engine(s)
                        .unwrap()
                });
            }
            w if w.starts_with("p=") => {
                let n: usize = w[2..].parse().unwrap();
                t(w, || features::build_partitioned(&dir, ctx, n).unwrap());
            }
            "part500" => {
                t(w, || {
                    features::build_partitioned(&dir, ctx, 500_000).unwrap()
                });
            }
            "part125" => {
                t(w, || {
                    features::build_partitioned(&dir, ctx, 125_000).unwrap()
                });
            }
            "part" => {
                t(w, || {
                    features::build_partitioned(&dir, ctx, 250_000).unwrap()
                });
            }
            "pairs_ip" => {
                t(w, || {
                    tx().filter(
                        col("channel")
                            .eq(lit("online"))
                            .or(col("channel").eq(lit("mobile")))
                            .and(col("ip_address").is_not_null()),
                    )
                    .select([col("ip_address"), col("customer_id")])
                    .unique(None, UniqueKeepStrategy::Any)
                    .group_by([col("ip_address")])
                    .agg([len()])
                    .collect_with_engine(s)
                    .unwrap()
                });
            }
            "pairs_ip_gb" => {
                t(w, || {
                    tx().filter(
                        col("channel")
                            .eq(lit("online"))
                            .or(col("channel").eq(lit("mobile")))
                            .and(col("ip_address").is_not_null()),
                    )
                    .group_by([col("ip_address"), col("customer_id")])
                    .agg([len()])
                    .group_by([col("ip_address")])
                    .agg([len()])
                    .collect_with_engine(s)
                    .unwrap()
                });
            }
            "cashdays" => {
                t(w, || {
                    tx().filter(col("cash"))
                        .group_by([col("customer_id"), col("ts").dt().date()])
                        .agg([col("amount").sum()])
                        .collect_with_engine(s)
                        .unwrap()
                });
            }
            "ipcity" => {
                t(w, || {
                    tx().filter(col("ip_city").is_not_null())
                        .group_by([col("customer_id"), col("ip_city")])
                        .agg([len()])
                        .collect_with_engine(s)
                        .unwrap()
                });
            }
            "cpc" => {
                t(w, || {
                    tx().filter(col("counterparty_country").neq(lit("CN")))
                        .group_by([col("customer_id"), col("counterparty_country")])
                        .agg([col("amount").sum()])
                        .collect_with_engine(s)
                        .unwrap()
                });
            }
            "cust" => {
                t(w, || {
                    scan(&dir, &contract::CUSTOMERS).unwrap().collect().unwrap()
                });
            }
            "contacts" => {
                t(w, || {
                    scan(&dir, &contract::CUSTOMERS)
                        .unwrap()
                        .select([
                            col("customer_id"),
                            col("customer_id")
                                .count()
                                .over([col("phone_hash")])
                                .unwrap(),
                        ])
                        .collect()
                        .unwrap()
                });
            }
            "sortids" => {
                t(w, || {
                    scan(&dir, &contract::CUSTOMERS)
                        .unwrap()
                        .select([col("customer_id")])
                        .sort(["customer_id"], Default::default())
                        .collect()
                        .unwrap()
                });
            }
            "aggs" => {
                let cnt = |e: Expr| e.fill_null(lit(false)).cast(DataType::UInt32).sum();
                let a = col("amount");
                let all: Vec<(&str, Expr)> = vec![
                    ("len", len().alias("a0")),
                    ("sum", a.clone().sum().alias("a1")),
                    ("cntcash", cnt(col("cash")).alias("a2")),
                    (
                        "cntcmp",
                        cnt(col("cash").and(a.clone().gt_eq(lit(45000.0)))).alias("a3"),
                    ),
                    (
                        "cntstr",
                        cnt(col("ip_country")
                            .is_not_null()
                            .and(col("ip_country").neq(lit("CN"))))
                        .alias("a4"),
                    ),
                    (
                        "whensum",
                        when(col("cash"))
                            .then(a.clone())
                            .otherwise(lit(0.0))
                            .sum()
                            .alias("a5"),
                    ),
                    ("cntchan", cnt(col("channel").eq(lit("online"))).alias("a6")),
                    (
                        "cntrisky",
                        cnt(col("cross_border").and(
                            riskgrade::reference::lookup_u8(
                                col("counterparty_country"),
                                vec!["IR".into(), "KP".into()],
                                vec![1, 1],
                                0,
                            )
                            .eq(lit(1u8)),
                        ))
                        .alias("a7"),
                    ),
                    (
                        "cntisin",
                        cnt(col("cross_border").and(col("counterparty_country").is_in(
                            lit(Series::new("x".into(), ["IR", "KP"])).implode(false),
                            false,
                        )))
                        .alias("a8"),
                    ),
                    (
                        "cntwin",
                        cnt(
                            col("ts").gt_eq(lit(chrono::NaiveDate::from_ymd_opt(2025, 11, 1)
                                .unwrap()
                                .and_hms_opt(0, 0, 0)
                                .unwrap())),
                        )
                        .alias("a9"),
                    ),
                ];
                let es: Vec<Expr> = all.iter().map(|x| x.1.clone()).collect();
                for k in [1, 3, 5, 7, 10] {
                    let es = es[..k.min(es.len())].to_vec();
                    t(&format!("first {k}"), || {
                        tx().group_by([col("customer_id")])
                            .agg(es)
                            .collect_with_engine(s)
                            .unwrap()
                    });
                }
                for (n, e) in all {
                    t(n, || {
                        tx().group_by([col("customer_id")])
                            .agg([e])
                            .collect_with_engine(s)
                            .unwrap()
                    });
                }
            }
            "explain" => {
                println!(
                    "{}",
                    features::build(&dir, ctx).unwrap().explain(true).unwrap()
                );
            }
            "idx" => {
                let ids = scan(&dir, &contract::CUSTOMERS)
                    .unwrap()
                    .select([col("customer_id")])
                    .with_row_index("_i", None);
                let j = || {
                    tx().join(
                        ids.clone(),
                        [col("customer_id")],
                        [col("customer_id")],
                        JoinArgs::new(JoinType::Left),
                    )
                };
                t("join only", || {
                    j().select([col("_i").max(), col("amount").sum()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                t("join+gb", || {
                    j().group_by([col("_i")])
                        .agg([len(), col("amount").sum()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                t("join+gb2", || {
                    let jj = j().select([
                        col("_i"),
                        col("amount"),
                        col("ts").dt().date().alias("d"),
                        col("ip_city"),
                    ]);
                    concat_lf_horizontal(
                        [
                            jj.clone()
                                .group_by([col("_i")])
                                .agg([len(), col("amount").sum()]),
                            jj.clone()
                                .group_by([col("_i"), col("d")])
                                .agg([len()])
                                .select([len().alias("n2")]),
                            jj.group_by([col("_i"), col("ip_city")])
                                .agg([len()])
                                .select([len().alias("n3")]),
                        ],
                        Default::default(),
                    )
                    .unwrap()
                    .collect_with_engine(s)
                    .unwrap()
                });
                t("str gb2", || {
                    let jj = tx().select([
                        col("customer_id"),
                        col("amount"),
                        col("ts").dt().date().alias("d"),
                        col("ip_city"),
                    ]);
                    concat_lf_horizontal(
                        [
                            jj.clone()
                                .group_by([col("customer_id")])
                                .agg([len(), col("amount").sum()]),
                            jj.clone()
                                .group_by([col("customer_id"), col("d")])
                                .agg([len()])
                                .select([len().alias("n2")]),
                            jj.group_by([col("customer_id"), col("ip_city")])
                                .agg([len()])
                                .select([len().alias("n3")]),
                        ],
                        Default::default(),
                    )
                    .unwrap()
                    .collect_with_engine(s)
                    .unwrap()
                });
            }
            "sep" => {
                let jj = || {
                    tx().select([
                        col("customer_id"),
                        col("amount"),
                        col("ts").dt().date().alias("d"),
                        col("ip_city"),
                    ])
                };
                t("sep1", || {
                    jj().group_by([col("customer_id")])
                        .agg([len(), col("amount").sum()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                t("sep2", || {
                    jj().group_by([col("customer_id"), col("d")])
                        .agg([len()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                t("sep3", || {
                    jj().group_by([col("customer_id"), col("ip_city")])
                        .agg([len()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                t("sep2b", || {
                    jj().group_by([col("customer_id"), col("d")])
                        .agg([len()])
                        .select([len()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                let ids = scan(&dir, &contract::CUSTOMERS)
                    .unwrap()
                    .select([col("customer_id")])
                    .with_row_index("_i", None);
                let j = || {
                    tx().join(
                        ids.clone(),
                        [col("customer_id")],
                        [col("customer_id")],
                        JoinArgs::new(JoinType::Left),
                    )
                    .select([
                        col("_i"),
                        col("amount"),
                        col("ts").dt().date().alias("d"),
                        col("ip_city"),
                    ])
                };
                t("isep2", || {
                    j().group_by([col("_i"), col("d")])
                        .agg([len()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                let m = t("materialise", || {
                    j().collect_with_engine(s).unwrap().unwrap_single()
                });
                t("m1", || {
                    m.clone()
                        .lazy()
                        .group_by([col("_i")])
                        .agg([len(), col("amount").sum()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                t("m2", || {
                    m.clone()
                        .lazy()
                        .group_by([col("_i"), col("d")])
                        .agg([len()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                t("m3", || {
                    m.clone()
                        .lazy()
                        .group_by([col("_i"), col("ip_city")])
                        .agg([len()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                t("m2mem", || {
                    m.clone()
                        .lazy()
                        .group_by([col("_i"), col("d")])
                        .agg([len()])
                        .collect()
                        .unwrap()
                });
            }
            "ipmm" => {
                let on = || {
                    tx().filter(
                        col("channel")
                            .eq(lit("online"))
                            .or(col("channel").eq(lit("mobile")))
                            .and(col("ip_address").is_not_null()),
                    )
                    .select([col("ip_address"), col("customer_id")])
                };
                let g = t("minmax", || {
                    on().group_by([col("ip_address")])
                        .agg([
                            col("customer_id").min().alias("lo"),
                            col("customer_id").max().alias("hi"),
                        ])
                        .filter(col("lo").neq(col("hi")))
                        .select([col("ip_address")])
                        .collect_with_engine(s)
                        .unwrap()
                        .unwrap_single()
                });
                eprintln!("shared ips {}", g.height());
                t("pairs", || {
                    let pairs = on()
                        .join(
                            g.clone().lazy(),
                            [col("ip_address")],
                            [col("ip_address")],
                            JoinArgs::new(JoinType::Semi),
                        )
                        .unique(None, UniqueKeepStrategy::Any);
                    let per = pairs
                        .clone()
                        .group_by([col("ip_address")])
                        .agg([len().alias("k")]);
                    pairs
                        .join(
                            per,
                            [col("ip_address")],
                            [col("ip_address")],
                            JoinArgs::new(JoinType::Inner),
                        )
                        .group_by([col("customer_id")])
                        .agg([col("k").max()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                t("both", || {
                    let sh = on()
                        .group_by([col("ip_address")])
                        .agg([
                            col("customer_id").min().alias("lo"),
                            col("customer_id").max().alias("hi"),
                        ])
                        .filter(col("lo").neq(col("hi")))
                        .select([col("ip_address")]);
                    let pairs = on()
                        .join(
                            sh,
                            [col("ip_address")],
                            [col("ip_address")],
                            JoinArgs::new(JoinType::Semi),
                        )
                        .unique(None, UniqueKeepStrategy::Any);
                    let per = pairs
                        .clone()
                        .group_by([col("ip_address")])
                        .agg([len().alias("k")]);
                    pairs
                        .join(
                            per,
                            [col("ip_address")],
                            [col("ip_address")],
                            JoinArgs::new(JoinType::Inner),
                        )
                        .group_by([col("customer_id")])
                        .agg([col("k").max()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                t("old", || {
                    let pairs = on().unique(None, UniqueKeepStrategy::Any);
                    let per = pairs
                        .clone()
                        .group_by([col("ip_address")])
                        .agg([len().alias("k")]);
                    pairs
                        .join(
                            per,
                            [col("ip_address")],
                            [col("ip_address")],
                            JoinArgs::new(JoinType::Inner),
                        )
                        .group_by([col("customer_id")])
                        .agg([col("k").max()])
                        .collect_with_engine(s)
                        .unwrap()
                });
            }
            "nulls" => {
                for c in [
                    "counterparty_id",
                    "account_id",
                    "txn_id",
                    "customer_id",
                    "amount",
                    "ts",
                    "ip_address",
                    "channel",
                ] {
                    t(c, || {
                        tx().select([col(c).is_null().sum()])
                            .collect_with_engine(s)
                            .unwrap()
                    });
                }
                t("sorted txn_id", || {
                    let mut prev: Option<String> = None;
                    let mut ok = true;
                    let df = tx()
                        .select([col("txn_id")])
                        .collect_with_engine(s)
                        .unwrap()
                        .unwrap_single();
                    for v in df.column("txn_id").unwrap().str().unwrap().iter() {
                        let v = v.unwrap();
                        if let Some(p) = &prev {
                            if v <= p.as_str() {
                                ok = false;
                            }
                        }
                        prev = Some(v.to_string());
                    }
                    ok
                });
            }
            "orph" => {
                let c = || {
                    scan(&dir, &contract::CUSTOMERS)
                        .unwrap()
                        .select([col("customer_id")])
                };
                t("anti", || {
                    tx().select([col("customer_id")])
                        .join(
                            c(),
                            [col("customer_id")],
                            [col("customer_id")],
                            JoinArgs::new(JoinType::Anti),
                        )
                        .select([len()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                t("gb-anti", || {
                    tx().group_by([col("customer_id")])
                        .agg([len().alias("n")])
                        .join(
                            c(),
                            [col("customer_id")],
                            [col("customer_id")],
                            JoinArgs::new(JoinType::Anti),
                        )
                        .select([col("n").sum()])
                        .collect_with_engine(s)
                        .unwrap()
                });
                let ids = c().collect().unwrap();
                let ids = ids
                    .column("customer_id")
                    .unwrap()
                    .as_materialized_series()
                    .clone();
                t("isin", || {
                    tx().select([col("customer_id")
                        .is_in(lit(ids.clone()).implode(false), false)
                        .not()
                        .sum()])
                        .collect_with_engine(s)
                        .unwrap()
                });
            }
            _ => {}
        }
    }
}
