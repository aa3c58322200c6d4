//! Beneficial owners from the ownership graph (L-BOI6, L-BO; S1.5, S2, XH3): effective shares
//! through chains and cycles, control, the fallback, state-owned entities and edges no longer
//! live, each on a copy of the sample with a graph written by hand around some of its entity
//! customers, the expected shares worked out by hand. An independent check solves random
//! graphs by dense inversion of (I − A) and compares.

mod common;

use common::run::{env, Env};
use common::{read_parquet, s};
use polars::prelude::*;
use riskgrade::owners::kernel::{self, Graph, Holding, Node, Solver};

/// An edge: owned, owner, role, equity, voting, controls, formed, ended.
type E<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Option<f64>,
    Option<f64>,
    bool,
    &'a str,
    Option<&'a str>,
);

/// A person: id, kind, country, PEP relation, watch-list hit, state-owned.
type P<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, bool, bool);

fn date(s: &str) -> i32 {
    (chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
        - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
    .num_days() as i32
}

fn write_graph(e: &Env, edges: &[E<'_>], persons: &[P<'_>]) {
    let mut ownership = df!(
        "owned_id" => edges.iter().map(|x| x.0).collect::<Vec<_>>(),
        "owner_id" => edges.iter().map(|x| x.1).collect::<Vec<_>>(),
        "role" => edges.iter().map(|x| x.2).collect::<Vec<_>>(),
        "equity_share" => edges.iter().map(|x| x.3).collect::<Vec<_>>(),
        "voting_share" => edges.iter().map(|x| x.4).collect::<Vec<_>>(),
        "controls" => edges.iter().map(|x| x.5).collect::<Vec<_>>(),
        "formed_on" => edges.iter().map(|x| date(x.6)).collect::<Vec<_>>(),
        "ended_on" => edges.iter().map(|x| x.7.map(date)).collect::<Vec<_>>(),
    )
    .unwrap();
    for c in ["formed_on", "ended_on"] {
        let d = ownership.column(c).unwrap().cast(&DataType::Date).unwrap();
        ownership.with_column(d).unwrap();
    }
    common::write(&mut ownership, &e.data, "ownership.parquet");
    let mut persons = df!(
        "person_id" => persons.iter().map(|x| x.0).collect::<Vec<_>>(),
        "kind" => persons.iter().map(|x| x.1).collect::<Vec<_>>(),
        "country" => persons.iter().map(|x| x.2).collect::<Vec<_>>(),
        "pep_relation" => persons.iter().map(|x| x.3).collect::<Vec<_>>(),
        "watchlist_hit" => persons.iter().map(|x| x.4).collect::<Vec<_>>(),
        "state_owned" => persons.iter().map(|x| x.5).collect::<Vec<_>>(),
    )
    .unwrap();
    common::write(&mut persons, &e.data, "persons.parquet");
}

/// `n` entity customers of the sample, their own records made plain (no PEP, no list, no
/// controller on record, cooperating, no alert): what decides their XH3 is the graph.
fn plain_entities(e: &Env, n: usize) -> Vec<String> {
    let cust = read_parquet(&e.data.join("customers.parquet"));
    let ids: Vec<String> = cust
        .lazy()
        .filter(col("kind").eq(lit("non_natural")))
        .select([col("customer_id")])
        .sort(["customer_id"], Default::default())
        .collect()
        .unwrap()
        .column("customer_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .take(n)
        .map(|s| s.unwrap().to_string())
        .collect();
    let chosen = ids.clone();
    e.edit("customers.parquet", move |lf| {
        let mine =
            col("customer_id").is_in(lit(Series::new("ids".into(), chosen)).implode(false), false);
        let set = |c: &str, v: Expr| when(mine.clone()).then(v).otherwise(col(c)).alias(c);
        lf.with_columns([
            set("pep_relation", lit("none")),
            set("controller_pep_relation", lit("none")),
            set("watchlist_hit", lit(false)),
            set("controller_watchlist_hit", lit(false)),
            set("refuses_cdd", lit(false)),
            set("legal_form", lit("limited_company")),
        ])
    });
    // No suspicious transaction report on them (XH4).
    let drop = ids.clone();
    e.edit("reports.parquet", move |lf| {
        lf.filter(
            col("customer_id")
                .is_in(lit(Series::new("ids".into(), drop)).implode(false), false)
                .not(),
        )
    });
    ids
}

fn assess(e: &Env) {
    let (code, err) = e.run();
    assert_eq!(code, 0, "{err}");
}

/// `riskgrade owners` on the book of `e` as of 2026-10-31, into `out`.
fn owners_table(e: &Env, out: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args([
            "owners",
            "-q",
            "--as-of",
            "2026-10-31",
            "--data",
            s(&e.data),
        ])
        .args(["--model", s(&e.model), "--reference", s(&e.reference)])
        .args(["--out", s(out)])
        .output()
        .unwrap()
}

/// One beneficial-owners row: (person, basis, effective share, path length, path).
type OwnerRow = (
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<i64>,
    Option<String>,
);

/// The beneficial-owners rows of customer `id`.
fn owners_of(e: &Env, id: &str) -> Vec<OwnerRow> {
    let df = read_parquet(&e.out.join("beneficial_owners.parquet"))
        .lazy()
        .filter(col("customer_id").eq(lit(id.to_string())))
        .collect()
        .unwrap();
    let p = common::strs(&df, "person_id");
    let b = common::strs(&df, "basis");
    let x = common::floats(&df, "effective_share");
    let l = common::ints(&df, "path_length");
    let pa = common::strs(&df, "path");
    (0..df.height())
        .map(|i| (p[i].clone(), b[i].clone(), x[i], l[i], pa[i].clone()))
        .collect()
}

/// Column `c` of customer `id` in scores.parquet, as text.
fn score_of(e: &Env, id: &str, c: &str) -> Option<String> {
    let df = read_parquet(&e.out.join("scores.parquet"))
        .lazy()
        .filter(col("customer_id").eq(lit(id.to_string())))
        .select([col(c).cast(DataType::String)])
        .collect()
        .unwrap();
    common::strs(&df, c)[0].clone()
}

const LIVE: &str = "2020-01-01";

fn own<'a>(owned: &'a str, owner: &'a str, share: f64) -> E<'a> {
    (
        owned,
        owner,
        "owner",
        Some(share),
        Some(share),
        false,
        LIVE,
        None,
    )
}

fn person(id: &str) -> P<'_> {
    (id, "natural", Some("CN"), "none", false, false)
}

fn entity(id: &str) -> P<'_> {
    (id, "entity", Some("CN"), "none", false, false)
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-12)
}

#[test]
fn l_boi6_xh3_fires_for_a_pep_three_layers_up_at_30_percent_not_at_24() {
    let e = env();
    let ids = plain_entities(&e, 2);
    let (a, b) = (ids[0].as_str(), ids[1].as_str());
    write_graph(
        &e,
        &[
            // a ← X1 (60 %) ← X2 (100 %) ← PEP (50 %): 30 %, three layers up.
            own(a, "X1", 0.6),
            own("X1", "X2", 1.0),
            own("X2", "PEP1", 0.5),
            own(a, "R1", 0.4),
            // b ← Y1 (60 %) ← Y2 (100 %) ← PEP (40 %): 24 %; R2 holds 40 % directly.
            own(b, "Y1", 0.6),
            own("Y1", "Y2", 1.0),
            own("Y2", "PEP2", 0.4),
            own(b, "R2", 0.4),
        ],
        &[
            entity("X1"),
            entity("X2"),
            entity("Y1"),
            entity("Y2"),
            ("PEP1", "natural", Some("GB"), "foreign_pep", false, false),
            ("PEP2", "natural", Some("GB"), "foreign_pep", false, false),
            person("R1"),
            person("R2"),
        ],
    );
    assess(&e);
    let oa = owners_of(&e, a);
    assert_eq!(oa.len(), 2, "{oa:?}");
    let pep = oa.iter().find(|o| o.0.as_deref() == Some("PEP1")).unwrap();
    assert_eq!(pep.1.as_deref(), Some("equity"));
    assert!(close(pep.2, 0.3), "{pep:?}");
    assert_eq!(pep.3, Some(3));
    assert_eq!(
        pep.4.as_deref(),
        Some(format!("{a} < X1 < X2 < PEP1").as_str())
    );
    let ob = owners_of(&e, b);
    assert_eq!(ob.len(), 1, "{ob:?}");
    assert_eq!(ob[0].0.as_deref(), Some("R2"));
    assert!(score_of(&e, a, "direct_highest").is_some_and(|x| x.contains("xh3")));
    assert!(score_of(&e, b, "direct_highest").is_none_or(|x| !x.contains("xh3")));
    assert_eq!(score_of(&e, a, "grade").as_deref(), Some("high"));
}

#[test]
fn l_boi6_two_paths_add_up_and_a_cycle_is_solved_exactly() {
    let e = env();
    let ids = plain_entities(&e, 2);
    let (a, b) = (ids[0].as_str(), ids[1].as_str());
    write_graph(
        &e,
        &[
            // a: P holds 15 % directly and 20 % of Y, which holds 60 % of a: 27 %.
            own(a, "P", 0.15),
            own(a, "Y", 0.6),
            own("Y", "P", 0.2),
            // b holds 50 % of C, C holds 20 % of b, Q holds 80 % of b:
            // b = 0.8 + 0.2·c, c = 0.5·b → b = 0.8 / 0.9 for Q.
            own("C", b, 0.5),
            own(b, "C", 0.2),
            own(b, "Q", 0.8),
        ],
        &[person("P"), person("Q"), entity("Y"), entity("C")],
    );
    assess(&e);
    let oa = owners_of(&e, a);
    assert_eq!(oa.len(), 1);
    assert!(close(oa[0].2, 0.27), "{oa:?}");
    assert_eq!(oa[0].4.as_deref(), Some(format!("{a} < P").as_str()));
    let ob = owners_of(&e, b);
    assert_eq!(ob.len(), 1);
    assert!(close(ob[0].2, 0.8 / 0.9), "{ob:?}");
    let feats = read_parquet(&e.out.join("beneficial_owners.parquet"))
        .lazy()
        .filter(col("customer_id").eq(lit(b.to_string())))
        .collect()
        .unwrap();
    let circ = feats
        .column("circular_ownership")
        .unwrap()
        .bool()
        .unwrap()
        .get(0);
    assert_eq!(circ, Some(true));
    // The cycle of b and C counts as one link: b ← C … ← Q directly: depth 2.
    assert_eq!(common::ints(&feats, "ownership_depth")[0], Some(2));
    assert_eq!(common::ints(&feats, "intermediate_entities")[0], Some(1));
}

#[test]
fn l_boi6_control_fallback_state_owned_and_ended_edges() {
    let e = env();
    let ids = plain_entities(&e, 4);
    let (a, b, c, d) = (
        ids[0].as_str(),
        ids[1].as_str(),
        ids[2].as_str(),
        ids[3].as_str(),
    );
    e.edit("customers.parquet", {
        let d = d.to_string();
        move |lf| {
            lf.with_column(
                when(col("customer_id").eq(lit(d)))
                    .then(lit("state_owned"))
                    .otherwise(col("legal_form"))
                    .alias("legal_form"),
            )
        }
    });
    write_graph(
        &e,
        &[
            // a: K controls T (10 %), T controls a (5 %): control without equity.
            (a, "T", "owner", Some(0.05), None, true, LIVE, None),
            ("T", "K", "owner", Some(0.1), None, true, LIVE, None),
            // b: 30 % held until 2026-06-30, gone on the as-of date; M runs it.
            (
                b,
                "G",
                "owner",
                Some(0.3),
                Some(0.3),
                false,
                LIVE,
                Some("2026-06-30"),
            ),
            (b, "M", "manager", None, None, false, LIVE, None),
            // c: 20 % from a date after the as-of date; no manager either.
            (c, "G", "owner", Some(0.2), None, false, "2026-11-30", None),
            // d: state-owned; its legal representative L.
            (d, "G", "owner", Some(0.4), None, false, LIVE, None),
            (
                d,
                "L",
                "legal_representative",
                None,
                None,
                false,
                LIVE,
                None,
            ),
        ],
        &[
            entity("T"),
            person("K"),
            person("G"),
            person("M"),
            person("L"),
        ],
    );
    // Entities made eligible for direct-low grading, to see what blocks it.
    e.edit_model(
        "eligible = \"kind == 'natural' and",
        "eligible = \"kind == 'non_natural' or",
    );
    assess(&e);
    let oa = owners_of(&e, a);
    assert_eq!(oa.len(), 1);
    assert_eq!(
        (oa[0].0.as_deref(), oa[0].1.as_deref()),
        (Some("K"), Some("control"))
    );
    assert!(close(oa[0].2, 0.005));
    let ob = owners_of(&e, b);
    assert_eq!(
        (ob[0].0.as_deref(), ob[0].1.as_deref()),
        (Some("M"), Some("fallback"))
    );
    let oc = owners_of(&e, c);
    assert_eq!(oc.len(), 1);
    assert_eq!((oc[0].0.as_deref(), oc[0].1.as_deref()), (None, None));
    let od = owners_of(&e, d);
    assert_eq!(
        (od[0].0.as_deref(), od[0].1.as_deref()),
        (Some("L"), Some("state_owned_representative"))
    );
    // The fallback is not an identification: the L-BO disqualifier keeps b from direct-low
    // grading, and S1.5 scores it as unidentified.
    let blocked = score_of(&e, b, "direct_low_blocked_by").unwrap_or_default();
    assert!(blocked.contains("xl_bo_unidentified"), "{blocked}");
    let blocked = score_of(&e, a, "direct_low_blocked_by").unwrap_or_default();
    assert!(!blocked.contains("xl_bo_unidentified"), "{blocked}");
    assert_eq!(score_of(&e, b, "s1_5").as_deref(), Some("5"));
    assert_eq!(score_of(&e, c, "s1_5").as_deref(), Some("5"));
}

#[test]
fn l_bo_a_broken_graph_is_refused_with_the_row() {
    let cases: Vec<(Vec<E<'static>>, Vec<P<'static>>, &str)> = vec![
        (
            vec![own("NOPE", "P", 0.3)],
            vec![person("P")],
            "owned_id that is neither a customer_id",
        ),
        (
            vec![own("X", "P", 1.5)],
            vec![person("P"), entity("X")],
            "outside 0..1",
        ),
        (
            vec![own("X", "P", 0.7), own("X", "Q", 0.6)],
            vec![person("P"), person("Q"), entity("X")],
            "add up to more than 1",
        ),
        (
            vec![own("P", "Q", 0.5)],
            vec![person("P"), person("Q")],
            "hold a natural person",
        ),
        (
            vec![("X", "Y", "manager", None, None, false, LIVE, None)],
            vec![entity("X"), entity("Y")],
            "give an entity as manager",
        ),
        (
            vec![own("X", "P", 0.2), own("X", "P", 0.2)],
            vec![person("P"), entity("X")],
            "twice or more",
        ),
    ];
    for (edges, persons, needle) in cases {
        let e = env();
        write_graph(&e, &edges, &persons);
        common::run::expect(needle, &e, 3, needle);
    }
    // A person id that is a customer id.
    let e = env();
    let ids = plain_entities(&e, 1);
    let id: &'static str = Box::leak(ids[0].clone().into_boxed_str());
    write_graph(&e, &[own(id, "P", 0.3)], &[person("P"), person(id)]);
    common::run::expect("clash", &e, 3, "also customer ids");
}

#[test]
fn l_boi6_a_bucket_reads_the_books_table_and_grades_alike() {
    let e = env();
    let ids = plain_entities(&e, 2);
    let (a, b) = (ids[0].as_str(), ids[1].as_str());
    write_graph(
        &e,
        &[own(a, b, 0.6), own(b, "P", 0.5), own(a, "Q", 0.4)],
        &[person("P"), person("Q")],
    );
    assess(&e);
    let table = e.out.parent().unwrap().join("bo.parquet");
    let o = owners_table(&e, &table);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        read_parquet(&table),
        read_parquet(&e.out.join("beneficial_owners.parquet"))
    );
    // The same run with the table given: the same scores.
    let out2 = e.out.parent().unwrap().join("out2");
    let mut args = e.args();
    let at = args.iter().position(|a| a == "--out").unwrap();
    args[at + 1] = s(&out2).to_string();
    args.extend(["--owners".to_string(), s(&table).to_string()]);
    let (code, err) = e.run_with(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        read_parquet(&out2.join("scores.parquet")),
        read_parquet(&e.out.join("scores.parquet"))
    );
    // A table of another date is refused.
    let out3 = e.out.parent().unwrap().join("out3");
    let mut args = args.clone();
    args[at + 1] = s(&out3).to_string();
    let d = args.iter().position(|a| a == "--as-of").unwrap();
    args[d + 1] = "2026-11-30".into();
    let (code, err) = e.run_with(&args);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("computed as of 2026-10-31"), "{err}");
    args[d + 1] = "2026-10-31".into();
    // A table edited after riskgrade wrote it (its metadata kept) is checked row by row: an
    // entity's rows removed, a basis invented, a share over 1; each refused (exit 3).
    let kv = riskgrade::owners::OwnersSource::read(&table)
        .unwrap()
        .unwrap()
        .metadata();
    let whole = read_parquet(&table);
    let edits: [(&str, LazyFrame); 3] = [
        (
            "entity customers have no row",
            whole.clone().lazy().filter(col("customer_id").neq(lit(a))),
        ),
        (
            "a basis that is none of",
            whole.clone().lazy().with_column(
                when(col("customer_id").eq(lit(a)))
                    .then(lit("bribe"))
                    .otherwise(col("basis"))
                    .alias("basis"),
            ),
        ),
        (
            "an effective_share outside 0..1",
            whole
                .clone()
                .lazy()
                .with_column((col("effective_share") * lit(5.0)).alias("effective_share")),
        ),
    ];
    for (i, (want, lf)) in edits.into_iter().enumerate() {
        let edited = e.out.parent().unwrap().join(format!("edited{i}.parquet"));
        riskgrade::io::write_parquet_with(&mut lf.collect().unwrap(), &edited, &kv).unwrap();
        let mut args = args.clone();
        args[at + 1] = s(&e.out.parent().unwrap().join(format!("out-edit{i}"))).to_string();
        let o = args.iter().position(|a| a == "--owners").unwrap();
        args[o + 1] = s(&edited).to_string();
        let (code, err) = e.run_with(&args);
        assert_eq!(code, 3, "{want}: {err}");
        assert!(err.contains(want), "{want}: {err}");
    }
    // The table of another graph of the same customers: refused where --data holds the graph.
    write_graph(&e, &[own(a, "P", 0.9)], &[person("P"), person("Q")]);
    let mut args = args.clone();
    args[at + 1] = s(&e.out.parent().unwrap().join("out-graph")).to_string();
    let (code, err) = e.run_with(&args);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("another ownership graph"), "{err}");
}

/// Random graphs with cycles: the kernel's effective shares against a dense solve of
/// x = r + A·x over every entity at once, by Gaussian elimination.
#[test]
fn effective_shares_agree_with_dense_inversion_on_random_graphs() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    for round in 0..40 {
        let (n, m) = (3 + round % 12, 2 + round % 5);
        let mut edges = Vec::new();
        for owned in 0..n {
            // Up to four holders sharing at most 100 %.
            let mut left = 1.0;
            for _ in 0..(1 + (rnd() * 4.0) as usize) {
                let share = (rnd() * left * 0.9 * 1000.0).round() / 1000.0;
                left -= share;
                let owner = (rnd() * (n + m) as f64) as usize;
                if owner == owned {
                    continue;
                }
                edges.push((
                    owned as u32,
                    Holding {
                        owner: owner as u32,
                        equity: share,
                        voting: share / 2.0,
                        controls: false,
                    },
                ));
            }
        }
        // Edges between the same pair added up, as the file allows one.
        edges.sort_by_key(|(a, h)| (*a, h.owner));
        edges.dedup_by(|x, y| {
            if x.0 == y.0 && x.1.owner == y.1.owner {
                y.1.equity += x.1.equity;
                y.1.voting += x.1.voting;
                true
            } else {
                false
            }
        });
        let mut kinds = vec![Node::Entity; n];
        kinds.extend(vec![Node::Person; m]);
        let g = Graph::new(kinds, edges.clone());
        for solver in [Solver::default(), Solver { dense_max: 0 }] {
            let reach = kernel::solve(&g, solver).unwrap();
            for p in 0..m {
                // Dense: (I − A) x = r for person p.
                let mut a = vec![vec![0.0; n + 1]; n];
                for (i, row) in a.iter_mut().enumerate() {
                    row[i] = 1.0;
                }
                for (owned, h) in &edges {
                    let o = h.owner as usize;
                    if o < n {
                        a[*owned as usize][o] -= h.equity;
                    } else if o - n == p {
                        a[*owned as usize][n] += h.equity;
                    }
                }
                let x = gauss(a);
                for (e, want) in x.iter().enumerate() {
                    let got = reach[e].of((n + p) as u32).map_or(0.0, |s| s.equity);
                    assert!(
                        (got - want).abs() < 1e-9,
                        "round {round}, entity {e}, person {p}: {got} != {want}"
                    );
                }
            }
        }
    }
}

/// Solves the augmented system by Gaussian elimination with partial pivoting.
fn gauss(mut a: Vec<Vec<f64>>) -> Vec<f64> {
    let n = a.len();
    for c in 0..n {
        let piv = (c..n)
            .max_by(|x, y| a[*x][c].abs().total_cmp(&a[*y][c].abs()))
            .unwrap();
        a.swap(c, piv);
        let d = a[c][c];
        if d.abs() < 1e-14 {
            continue;
        }
        for v in &mut a[c][c..=n] {
            *v /= d;
        }
        let pivot = a[c].clone();
        for (i, row) in a.iter_mut().enumerate() {
            if i != c {
                let f = row[c];
                for (v, p) in row[c..=n].iter_mut().zip(&pivot[c..=n]) {
                    *v -= f * p;
                }
            }
        }
    }
    (0..n).map(|i| a[i][n]).collect()
}

#[test]
fn l_boi6_explain_and_the_extract_name_the_owner_behind_xh3() {
    let e = env();
    let ids = plain_entities(&e, 1);
    let a = ids[0].as_str();
    write_graph(
        &e,
        &[own(a, "X1", 0.6), own("X1", "PEP1", 0.5), own(a, "R1", 0.4)],
        &[
            entity("X1"),
            ("PEP1", "natural", Some("GB"), "foreign_pep", false, false),
            person("R1"),
        ],
    );
    let mut args = e.args();
    args.push("--keep-features".into());
    let (code, err) = e.run_with(&args);
    assert_eq!(code, 0, "{err}");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args(["explain", "--run", s(&e.out), "--customer", a])
        .output()
        .unwrap();
    let sheet = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        sheet.contains(&format!(
            "PEP1 by equity: equity 30.00 %, voting 30.00 %; path {a} < X1 < PEP1 (PEP relation foreign_pep)"
        )),
        "{sheet}"
    );
    assert!(sheet.contains("R1 by equity: equity 40.00 %"), "{sheet}");
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
        .args(["--period-end", "2026-10-31", "--extracted-on", "2026-11-01"])
        .args(["--out", s(&x)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = std::fs::read_to_string(x.join("tb_risk_new.csv")).unwrap();
    let line = table.lines().find(|l| l.contains(a)).unwrap();
    assert!(
        line.contains(&format!(
            "; 受益所有人 PEP1 (股权 30.0%; 经 {a} < X1 < PEP1)"
        )),
        "{line}"
    );
}

#[test]
fn l_bo_a_bucket_with_the_graph_but_no_table_and_a_book_without_a_graph_are_refused() {
    let e = env();
    let ids = plain_entities(&e, 1);
    write_graph(&e, &[own(&ids[0], "P", 0.3)], &[person("P")]);
    // The sample as one bucket of one: links table and bucket flag, no --owners.
    let links = e.out.parent().unwrap().join("links.parquet");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args(["links", "-q", "--as-of", "2026-10-31", "--data", s(&e.data)])
        .args(["--model", s(&e.model), "--reference", s(&e.reference)])
        .args(["--out", s(&links)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut args = e.args();
    args.extend(["--bucket", "0/1", "--links", s(&links)].map(String::from));
    let (code, err) = e.run_with(&args);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("riskgrade owners") && err.contains("--owners"),
        "{err}"
    );
    assert!(!e.out.exists());
    // A book without a graph: `owners` has nothing to solve.
    let e = env();
    std::fs::remove_file(e.data.join("ownership.parquet")).unwrap();
    let bo = e.out.parent().unwrap().join("bo2.parquet");
    let o = owners_table(&e, &bo);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no ownership.parquet"));
    assert!(!bo.exists());
}

/// L-BO: the generated graph is a history, not only a picture of the as-of date: on every day
/// an edge starts or ends (before and after the as-of date) the live shares of each entity add
/// up to at most 1, so the book can be graded at other dates (`monitor`).
#[test]
fn l_bo_generated_shares_add_up_to_at_most_one_on_every_date() {
    let tmp = tempfile::tempdir().unwrap();
    let book = tmp.path().join("book");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_riskgrade"))
        .args([
            "generate",
            "-q",
            "--customers",
            "20000",
            "--as-of",
            "2026-10-31",
        ])
        .args(["--out", s(&book)])
        .output()
        .unwrap();
    assert!(o.status.success());
    let edges = read_parquet(&book.join("ownership.parquet"))
        .lazy()
        .filter(col("role").cast(DataType::String).eq(lit("owner")))
        .collect()
        .unwrap();
    let days: Vec<i32> = {
        let d = |c: &str| -> Vec<i32> {
            edges
                .column(c)
                .unwrap()
                .date()
                .unwrap()
                .physical()
                .iter()
                .flatten()
                .collect()
        };
        let mut v = d("formed_on");
        v.extend(d("ended_on"));
        v.sort_unstable();
        v.dedup();
        v
    };
    assert!(days.iter().any(|d| *d > date("2026-10-31")), "future edges");
    let dated = edges
        .lazy()
        .with_columns([
            col("formed_on").cast(DataType::Int32),
            col("ended_on").cast(DataType::Int32),
        ])
        .collect()
        .unwrap();
    for day in days {
        let over = dated
            .clone()
            .lazy()
            .filter(
                col("formed_on")
                    .lt_eq(lit(day))
                    .and(col("ended_on").is_null().or(col("ended_on").gt(lit(day)))),
            )
            .group_by([col("owned_id")])
            .agg([col("equity_share").fill_null(lit(0.0)).sum()])
            .filter(col("equity_share").gt(lit(1.0 + 1e-6)))
            .collect()
            .unwrap();
        assert_eq!(over.height(), 0, "day {day}: {over}");
    }
}
