//! Beneficial owners from the ownership graph (L-BOI6, L-BO; S1.5, S2, XH3): the live edges of
//! `ownership.parquet` on the as-of date, the persons and non-customer entities of
//! `persons.parquet`, and the customers, numbered densely and handed to [`kernel`]; the result
//! is the beneficial-owners table, a row per (entity customer, beneficial owner), with the
//! facts of the owner and of the structure above the entity. Features read it per customer
//! (`features::owners`); a bucket of a split book reads the table computed once for the whole
//! book (`riskgrade owners`, `assess --owners`).

pub mod kernel;

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use crate::bucket::CustomerSet;
use crate::contract::{self, OWNERSHIP, PERSONS};
use crate::dates::date_lit;
use crate::error::{Error, Result};
use crate::inputs::{examples, Inputs};
use kernel::{Graph, Holding, Node, Roles, Solver};

/// Columns of the beneficial-owners table, in order.
pub const COLUMNS: [&str; 15] = [
    "customer_id",
    "person_id",
    "basis",
    "effective_share",
    "voting_share",
    "path_length",
    "path",
    "person_country",
    "person_pep_relation",
    "person_watchlist_hit",
    "bo_fanout",
    "ownership_depth",
    "intermediate_entities",
    "circular_ownership",
    "state_owned",
];

/// What a beneficial-owners table was computed from, carried in its Parquet key-value metadata:
/// a run refuses a table of another book, date or threshold.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OwnersSource {
    /// The as-of date.
    pub as_of: NaiveDate,
    /// The threshold of effective shares (`[features] beneficial_owner_share`).
    pub threshold: f64,
    /// The book's customers.
    pub book: CustomerSet,
    /// SHA-256 of the graph's files (`ownership.parquet`, then `persons.parquet` where
    /// present), hashed together: a run whose folder holds the graph checks it is this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_sha256: Option<String>,
}

/// Checks the rows of a beneficial-owners table read with `--owners` that concern this run's
/// customers (`rows`), and, for a run of the whole book, that the table holds no other
/// customer (`table_rows`: the whole table's height): values as `riskgrade owners` writes
/// them, one row per (customer, person), a row for every entity customer and none for a
/// natural person.
pub fn check_rows(
    rows: &DataFrame,
    customers: LazyFrame,
    path: &Path,
    table_rows: Option<usize>,
) -> Result<()> {
    let bad = |m: String| {
        Error::Input(format!(
            "--owners {}: {m}; give the table riskgrade owners wrote for this book, unchanged",
            path.display()
        ))
    };
    let lf = rows.clone().lazy().with_row_index("row", None);
    let labels: Vec<&str> = kernel::BASES.to_vec();
    let share_bad = |c: &str| {
        col(c).is_not_null().and(
            col(c)
                .lt(lit(0.0))
                .or(col(c).gt(lit(1.0)))
                .or(col(c).is_nan()),
        )
    };
    let checks: [(Expr, &str); 5] = [
        (
            crate::validate::one_of(col("basis"), &labels)
                .not()
                .and(col("basis").is_not_null()),
            "a basis that is none of equity, voting, control, state_owned_representative, fallback",
        ),
        (
            share_bad("effective_share"),
            "an effective_share outside 0..1",
        ),
        (share_bad("voting_share"), "a voting_share outside 0..1"),
        (
            col("person_id").is_null().neq(col("basis").is_null()),
            "a person without a basis, or a basis without a person",
        ),
        (col("customer_id").is_null(), "no customer_id"),
    ];
    for (e, what) in checks {
        let n = count_rows(lf.clone(), e.clone())?;
        if n > 0 {
            return Err(bad(format!(
                "{n} rows with {what}, e.g. rows {} of this run's customers",
                examples(lf.clone(), e, "row")
            )));
        }
    }
    let twice = lf
        .clone()
        .group_by([col("customer_id"), col("person_id")])
        .agg([len().alias("n")])
        .filter(col("n").gt(lit(1)))
        .collect()?;
    if twice.height() > 0 {
        return Err(bad(format!(
            "{} (customer_id, person_id) pairs given twice or more, e.g. customer {}",
            twice.height(),
            examples(twice.lazy(), lit(true), "customer_id")
        )));
    }
    let entities = customers
        .select([col("customer_id"), col("kind").cast(DataType::String)])
        .join(
            rows.clone()
                .lazy()
                .group_by([col("customer_id")])
                .agg([len().alias("owner_rows")]),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Left),
        );
    let natural = col("kind").eq(lit("natural"));
    let has = col("owner_rows").is_not_null();
    for (e, what) in [
        (
            natural.clone().not().and(has.clone().not()),
            "entity customers have no row (every entity has its owners, or one row with no person)",
        ),
        (
            natural.and(has),
            "natural-person customers have rows (only entities have beneficial owners)",
        ),
    ] {
        let n = count_rows(entities.clone(), e.clone())?;
        if n > 0 {
            return Err(bad(format!(
                "{n} {what}, e.g. customer_id {}",
                examples(entities.clone(), e, "customer_id")
            )));
        }
    }
    if let Some(all) = table_rows {
        if all != rows.height() {
            return Err(bad(format!(
                "{} rows are of customers not in --data",
                all - rows.height()
            )));
        }
    }
    Ok(())
}

impl OwnersSource {
    /// Key of the metadata that marks a beneficial-owners table.
    pub const KIND: (&'static str, &'static str) = ("riskgrade", "beneficial_owners");

    /// The key-value metadata of the table.
    pub fn metadata(&self) -> Vec<(&'static str, String)> {
        vec![
            (Self::KIND.0, Self::KIND.1.to_string()),
            (
                "computed_from",
                serde_json::to_string(self).unwrap_or_default(),
            ),
        ]
    }

    /// Reads it back (`None`: not a beneficial-owners table of this riskgrade).
    pub fn read(path: &Path) -> Result<Option<OwnersSource>> {
        let kv = crate::inputs::parquet_metadata(path)?;
        let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        if get(Self::KIND.0).as_deref() != Some(Self::KIND.1) {
            return Ok(None);
        }
        Ok(get("computed_from").and_then(|s| serde_json::from_str(&s).ok()))
    }
}

/// Whether the book carries an ownership graph.
pub fn has_graph(inputs: &Inputs) -> bool {
    inputs.get(&OWNERSHIP).is_some()
}

fn fail(file: &str, msg: String) -> Error {
    Error::Input(format!("{file}: {msg}"))
}

/// The live edges of `ownership.parquet` on `as_of`, with their row numbers (`row`, from 0),
/// after the checks every row gets: shares in 0..=1, ended after formed.
fn live_edges(inputs: &Inputs, as_of: NaiveDate) -> Result<DataFrame> {
    let file = OWNERSHIP.file;
    let all = inputs.required(&OWNERSHIP).with_row_index("row", None);
    for c in ["equity_share", "voting_share"] {
        let bad = col(c).is_not_null().and(
            col(c)
                .lt(lit(0.0))
                .or(col(c).gt(lit(1.0)))
                .or(col(c).is_nan()),
        );
        let n = count_rows(all.clone(), bad.clone())?;
        if n > 0 {
            return Err(fail(
                file,
                format!(
                    "{n} rows with column '{c}' outside 0..1 (a share is a fraction: 0.25 for 25 %), e.g. rows {}",
                    examples(all.clone(), bad, "row")
                ),
            ));
        }
    }
    let bad = col("ended_on").lt_eq(col("formed_on"));
    let n = count_rows(all.clone(), bad.clone())?;
    if n > 0 {
        return Err(fail(
            file,
            format!(
                "{n} rows ended on or before the day they were formed (ended_on <= formed_on), e.g. rows {}",
                examples(all.clone(), bad, "row")
            ),
        ));
    }
    let day = date_lit(as_of);
    Ok(all
        .filter(
            col("formed_on")
                .lt_eq(day.clone())
                .and(col("ended_on").is_null().or(col("ended_on").gt(day))),
        )
        .select([
            col("row"),
            col("owned_id"),
            col("owner_id"),
            col("role").cast(DataType::String),
            col("equity_share").fill_null(lit(0.0)),
            // Voting rights follow the equity where the file gives none.
            col("voting_share")
                .fill_null(col("equity_share"))
                .fill_null(lit(0.0)),
            // A majority of the voting rights (of the equity where no voting share is given)
            // is control.
            col("controls")
                .fill_null(lit(false))
                .or(col("voting_share")
                    .fill_null(col("equity_share"))
                    .gt(lit(kernel::STATE_MAJORITY))
                    .fill_null(lit(false)))
                .alias("controls"),
        ])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single())
}

fn count_rows(lf: LazyFrame, pred: Expr) -> Result<u64> {
    let df = lf
        .select([pred.sum().alias("n")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    Ok(df
        .column("n")?
        .cast(&DataType::UInt64)?
        .u64()?
        .get(0)
        .unwrap_or(0))
}

/// The nodes: the customers the graph needs first (entity customers in file order, then the
/// natural-person customers an edge names), then the rows of `persons.parquet`; with what each is and the
/// facts a beneficial owner's row carries. A natural-person customer no edge names plays no part
/// and is left out, so a book of millions of individuals costs only its entities.
struct Nodes {
    /// id, kind (Node), customer (bool), country, pep_relation, watchlist_hit, state_owned.
    frame: DataFrame,
    customers: usize,
}

fn nodes(inputs: &Inputs, edges: &DataFrame) -> Result<Nodes> {
    let persons = match inputs.get(&PERSONS) {
        None => None,
        Some(p) => Some(
            p.select([
                col("person_id").alias("id"),
                col("kind").cast(DataType::String).alias("kind"),
                lit(false).alias("customer"),
                col("country"),
                col("pep_relation").cast(DataType::String),
                col("watchlist_hit"),
                col("state_owned").fill_null(lit(false)),
            ])
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single(),
        ),
    };
    // The customers that are nodes: every entity, and each natural person an edge names.
    let mut named = edges.column("owned_id")?.as_materialized_series().clone();
    named.append(edges.column("owner_id")?.as_materialized_series())?;
    let semi = |lf: LazyFrame, ids: Series| -> Result<LazyFrame> {
        let ids = DataFrame::new_infer_height(vec![ids
            .unique()?
            .with_name("customer_id".into())
            .into_column()])?;
        Ok(lf.join(
            ids.lazy(),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Semi),
        ))
    };
    let all = inputs.required(&contract::CUSTOMERS);
    let natural = col("kind").cast(DataType::String).eq(lit("natural"));
    let cust = concat(
        [
            all.clone().filter(natural.clone().not()),
            semi(all.clone().filter(natural), named)?,
        ],
        UnionArgs::default(),
    )?
    .select([
        col("customer_id").alias("id"),
        col("kind").cast(DataType::String).alias("kind"),
        lit(true).alias("customer"),
        col("nationality")
            .fill_null(col("registration_country"))
            .alias("country"),
        col("pep_relation").cast(DataType::String),
        col("watchlist_hit"),
        col("legal_form")
            .cast(DataType::String)
            .eq(lit("state_owned"))
            .fill_null(lit(false))
            .alias("state_owned"),
    ])
    .collect_with_engine(Engine::Streaming)?
    .unwrap_single();
    // A person id that is also a customer id would make an edge ambiguous: every customer id
    // is checked against the persons' ids.
    let clash = match &persons {
        None => cust.clear(),
        Some(p) => semi(
            all.select([col("customer_id")]),
            p.column("id")?.as_materialized_series().clone(),
        )?
        .select([col("customer_id").alias("id")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single(),
    };
    if clash.height() > 0 {
        let ids: Vec<String> = clash
            .column("id")?
            .str()?
            .iter()
            .take(5)
            .map(|s| s.unwrap_or_default().to_string())
            .collect();
        return Err(fail(
            PERSONS.file,
            format!(
                "{} person_id values are also customer ids of customers.parquet, e.g. {}; a customer who owns or runs an entity is named by its customer_id in ownership.parquet and is not listed in persons.parquet",
                clash.height(),
                ids.join(", ")
            ),
        ));
    }
    let customers = cust.height();
    let persons = persons.unwrap_or_else(|| cust.clear());
    let mut frame = cust.vstack(&persons)?;
    frame.rechunk_mut();
    Ok(Nodes { frame, customers })
}

/// What an edge says of the owned entity.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Owner,
    Manager,
    Representative,
}

/// The live edges, numbered: owned node `a`, owner node `b`, role and shares, in file order.
struct Edges {
    a: Vec<u32>,
    b: Vec<u32>,
    rows: Vec<u32>,
    role: Vec<Role>,
    equity: Vec<f64>,
    voting: Vec<f64>,
    controls: Vec<bool>,
}

/// The live edges with their owned and owner nodes, checked: every id known, every held node
/// an entity, managers and legal representatives natural persons, no edge twice, shares of one
/// entity adding up to at most 1. Ids are looked up in one hash map of the nodes (no join of
/// text columns); an error names up to five rows of the file (from 0).
/// The nodes' ids, numbered; an id may hold neither the path separator nor a control
/// character.
fn node_index(nodes: &Nodes) -> Result<PlHashMap<&str, u32>> {
    let ids = nodes.frame.column("id")?.str()?;
    let mut index: PlHashMap<&str, u32> = PlHashMap::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            // A path is written "entity < owner < …": an id may hold neither the separator nor
            // a control character (which would also reach a terminal through explain).
            if id.contains(" < ") || id.chars().any(char::is_control) {
                let file = if i < nodes.customers {
                    contract::CUSTOMERS.file
                } else {
                    PERSONS.file
                };
                return Err(fail(
                    file,
                    format!(
                        "the id {id:?} of the ownership graph holds \" < \" or a control character; an id is printable text without the path separator \" < \""
                    ),
                ));
            }
            index.insert(id, i as u32);
        }
    }
    Ok(index)
}

fn numbered_edges(edges: &DataFrame, nodes: &Nodes, kinds: &[Node]) -> Result<Edges> {
    let index = node_index(nodes)?;
    let number = |c: &str| -> Result<Vec<u32>> {
        let v: Vec<Option<&str>> = edges.column(c)?.str()?.iter().collect();
        Ok(v.par_iter()
            .map(|id| {
                id.and_then(|id| index.get(id).copied())
                    .unwrap_or(kernel::NONE)
            })
            .collect())
    };
    let (a, b) = (number("owned_id")?, number("owner_id")?);
    let rows: Vec<u32> = edges
        .column("row")?
        .cast(&DataType::UInt32)?
        .u32()?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let role: Vec<Role> = edges
        .column("role")?
        .str()?
        .iter()
        .map(|r| match r {
            Some("owner") => Role::Owner,
            Some("manager") => Role::Manager,
            _ => Role::Representative,
        })
        .collect();
    let f64s = |c: &str| -> Result<Vec<f64>> {
        Ok(edges
            .column(c)?
            .f64()?
            .iter()
            .map(|v| v.unwrap_or(0.0))
            .collect())
    };
    let (equity, voting) = (f64s("equity_share")?, f64s("voting_share")?);
    let controls: Vec<bool> = edges
        .column("controls")?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let e = Edges {
        a,
        b,
        rows,
        role,
        equity,
        voting,
        controls,
    };
    check_kinds(&e, kinds)?;
    check_twice(&e)?;
    check_sums(&e, nodes, kinds.len())?;
    Ok(e)
}

/// Every id known, held nodes entities, managers and representatives natural persons.
fn check_kinds(e: &Edges, kinds: &[Node]) -> Result<()> {
    let Edges {
        a, b, rows, role, ..
    } = e;
    let file = OWNERSHIP.file;
    let natural = |v: u32| kinds[v as usize] == Node::Person;
    let bad_rows = |bad: &dyn Fn(usize) -> bool| -> (usize, String) {
        let hits: Vec<usize> = (0..rows.len()).filter(|&i| bad(i)).collect();
        let eg: Vec<String> = hits.iter().take(5).map(|&i| rows[i].to_string()).collect();
        (hits.len(), eg.join(", "))
    };
    let checks: [(&dyn Fn(usize) -> bool, &str); 4] = [
        (
            &|i| a[i] == kernel::NONE,
            "name an owned_id that is neither a customer_id of customers.parquet nor a person_id of persons.parquet",
        ),
        (
            &|i| b[i] == kernel::NONE,
            "name an owner_id that is neither a customer_id of customers.parquet nor a person_id of persons.parquet",
        ),
        (
            &|i| natural(a[i]),
            "hold a natural person (owned_id is a natural person; only entities are held)",
        ),
        (
            &|i| role[i] != Role::Owner && !natural(b[i]),
            "give an entity as manager or legal_representative (the person who runs the business or represents it is a natural person)",
        ),
    ];
    for (bad, what) in checks {
        let (n, eg) = bad_rows(bad);
        if n > 0 {
            return Err(fail(
                file,
                format!("{n} live rows on the as-of date {what}, e.g. rows {eg}"),
            ));
        }
    }
    Ok(())
}

/// No (owned, owner, role) edge twice.
fn check_twice(e: &Edges) -> Result<()> {
    let Edges {
        a, b, rows, role, ..
    } = e;
    let file = OWNERSHIP.file;
    // The same (owned, owner, role) twice: sorted by it, neighbours compared; reported by the
    // first row of each repeated edge, in file order.
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    order.par_sort_unstable_by_key(|&i| {
        let i = i as usize;
        (a[i], b[i], role[i], rows[i])
    });
    let mut twice: Vec<u32> = order
        .windows(2)
        .filter(|w| {
            let (x, y) = (w[0] as usize, w[1] as usize);
            (a[x], b[x], role[x]) == (a[y], b[y], role[y])
        })
        .map(|w| w[0])
        .collect();
    twice.dedup_by_key(|i| {
        let i = *i as usize;
        (a[i], b[i], role[i])
    });
    if !twice.is_empty() {
        let mut first: Vec<u32> = twice.iter().map(|&i| rows[i as usize]).collect();
        first.sort_unstable();
        let eg: Vec<String> = first.iter().take(5).map(|r| r.to_string()).collect();
        return Err(fail(
            file,
            format!(
                "{} (owned_id, owner_id, role) edges live on the as-of date twice or more, e.g. rows {}; give an edge once, its shares added up, or end one with ended_on",
                twice.len(),
                eg.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The live shares of one entity add up to at most 1.
fn check_sums(e: &Edges, nodes: &Nodes, n: usize) -> Result<()> {
    let Edges {
        a,
        rows,
        role,
        equity,
        voting,
        ..
    } = e;
    let file = OWNERSHIP.file;
    let ids = nodes.frame.column("id")?.str()?;
    // Shares of one entity: summed per owned node; reported by owned id, in order of the
    // entity's first row.
    let (mut eq_sum, mut vo_sum) = (vec![0.0f64; n], vec![0.0f64; n]);
    let mut first_row = vec![u32::MAX; n];
    for i in 0..rows.len() {
        let e = a[i] as usize;
        first_row[e] = first_row[e].min(rows[i]);
        if role[i] == Role::Owner {
            eq_sum[e] += equity[i];
            vo_sum[e] += voting[i];
        }
    }
    let mut over: Vec<(u32, usize)> = (0..n)
        .filter(|&e| eq_sum[e] > 1.0 + 1e-6 || vo_sum[e] > 1.0 + 1e-6)
        .map(|e| (first_row[e], e))
        .collect();
    if !over.is_empty() {
        over.sort_unstable();
        let eg: Vec<&str> = over
            .iter()
            .take(5)
            .map(|(_, e)| ids.get(*e).unwrap_or_default())
            .collect();
        return Err(fail(
            file,
            format!(
                "the live shares of {} entities add up to more than 1 (100 %), e.g. owned_id {}; correct the shares or end the edges no longer held",
                over.len(),
                eg.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The beneficial-owners table of the book (see [`COLUMNS`]): a row per beneficial owner of
/// every entity (non-natural) customer, and one row with no person for an entity that has
/// none, sorted by customer and person. `threshold`: the effective share that makes an owner.
pub fn table(inputs: &Inputs, as_of: NaiveDate, threshold: f64) -> Result<DataFrame> {
    let live = live_edges(inputs, as_of)?;
    let nodes = nodes(inputs, &live)?;
    let n = nodes.frame.height();
    let kind_of = |kind: Option<&str>, state: Option<bool>| match (kind, state) {
        (Some("natural"), _) => Node::Person,
        (_, Some(true)) => Node::State,
        _ => Node::Entity,
    };
    let kinds: Vec<Node> = nodes
        .frame
        .column("kind")?
        .str()?
        .iter()
        .zip(nodes.frame.column("state_owned")?.bool()?.iter())
        .map(|(k, s)| kind_of(k, s))
        .collect();
    let edges = numbered_edges(&live, &nodes, &kinds)?;
    drop(live);
    let mut holdings = Vec::new();
    let mut managers: Vec<(u32, u32)> = Vec::new();
    let mut reps: Vec<(u32, u32)> = Vec::new();
    for i in 0..edges.a.len() {
        let (a, b) = (edges.a[i], edges.b[i]);
        match edges.role[i] {
            Role::Owner => holdings.push((
                a,
                Holding {
                    owner: b,
                    equity: edges.equity[i],
                    voting: edges.voting[i],
                    controls: edges.controls[i],
                },
            )),
            Role::Manager => managers.push((a, b)),
            Role::Representative => reps.push((a, b)),
        }
    }
    drop(edges);
    let graph = Graph::new(kinds, holdings);
    let reach = kernel::solve(&graph, Solver::default()).map_err(|comp| {
        let ids = nodes.frame.column("id").ok().and_then(|c| c.str().ok().cloned());
        let eg: Vec<&str> = comp
            .iter()
            .take(5)
            .filter_map(|v| ids.as_ref().and_then(|c| c.get(*v as usize)))
            .collect();
        fail(
            OWNERSHIP.file,
            format!(
                "an ownership cycle of {} entities (e.g. {}) is held almost wholly inside itself and too large to solve exactly (more than {} entities; sweeps did not reach 1e-15); check its shares",
                comp.len(),
                eg.join(", "),
                Solver::default().dense_max
            ),
        )
    })?;
    let by_entity = |mut v: Vec<(u32, u32)>| {
        v.sort_unstable();
        let mut start = vec![0usize; n + 1];
        for (e, _) in &v {
            start[*e as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        (start, v.into_iter().map(|(_, p)| p).collect::<Vec<u32>>())
    };
    let (m_start, m_of) = by_entity(managers);
    let (r_start, r_of) = by_entity(reps);
    let cust_kind = nodes.frame.column("kind")?.str()?;
    let state_flag = nodes.frame.column("state_owned")?.bool()?;
    let entities: Vec<u32> = (0..nodes.customers as u32)
        .filter(|&v| cust_kind.get(v as usize) == Some("non_natural"))
        .collect();
    let roles = |e: u32| {
        let i = e as usize;
        Roles {
            state_owned: state_flag.get(i).unwrap_or(false),
            representatives: &r_of[r_start[i]..r_start[i + 1]],
            managers: &m_of[m_start[i]..m_start[i + 1]],
        }
    };
    let found: Vec<(u32, Vec<kernel::Owner>)> = entities
        .par_iter()
        .map(|&e| {
            (
                e,
                kernel::beneficial_owners(&graph, &reach, e, roles(e), threshold),
            )
        })
        .collect();
    // Fan-out: how many entity customers each person is a beneficial owner of.
    let mut fanout = vec![0u32; n];
    for (_, owners) in &found {
        for o in owners {
            fanout[o.person as usize] += 1;
        }
    }
    // The structure above each entity, then the graph and its solution go before the table is
    // built.
    let structure: Vec<Structure> = found
        .iter()
        .map(|(e, _)| {
            let r = &reach[*e as usize];
            Structure {
                depth: r.depth,
                above: r.above.len() as u32,
                circular: r.circular,
                state_owned: kernel::is_state_owned(&graph, &reach, *e, &roles(*e)),
            }
        })
        .collect();
    drop((graph, reach));
    build(&nodes, &structure, &found, &fanout)
}

/// Nodes of a path written out in full; a longer path is written as its first and last
/// [`PATH_SHOWN`]/2 nodes around " < … < " (`path_length` keeps the whole length).
pub const PATH_SHOWN: usize = 40;

/// A path as text: ids joined by " < ", from the entity up to the person.
fn path_text<'a>(path: &[u32], id: impl Fn(u32) -> &'a str) -> String {
    let ids = |p: &[u32]| p.iter().map(|v| id(*v)).collect::<Vec<_>>().join(" < ");
    if path.len() <= PATH_SHOWN {
        return ids(path);
    }
    let h = PATH_SHOWN / 2;
    format!("{} < … < {}", ids(&path[..h]), ids(&path[path.len() - h..]))
}

/// The structure above an entity: the table's per-entity columns.
struct Structure {
    depth: u32,
    above: u32,
    circular: bool,
    state_owned: bool,
}

/// The table's frame from what the kernel found.
fn build(
    nodes: &Nodes,
    structure: &[Structure],
    found: &[(u32, Vec<kernel::Owner>)],
    fanout: &[u32],
) -> Result<DataFrame> {
    let ids = nodes.frame.column("id")?.str()?;
    let id = |v: u32| ids.get(v as usize).unwrap_or_default();
    // Rows in the table's order, customer then person (byte order of the ids, as Polars sorts
    // text), sorted here rather than as a frame: no copy of the table.
    let mut found: Vec<(&(u32, Vec<kernel::Owner>), &Structure)> =
        found.iter().zip(structure).collect();
    found.par_sort_by_key(|((e, _), _)| id(*e));
    let mut found: Vec<(u32, Vec<&kernel::Owner>, &Structure)> = found
        .into_iter()
        .map(|((e, owners), r)| (*e, owners.iter().collect(), r))
        .collect();
    for (_, owners, _) in &mut found {
        owners.sort_by_key(|o| id(o.person));
    }
    let rows: usize = found.iter().map(|(_, o, _)| o.len().max(1)).sum();
    let mut person: Vec<Option<u32>> = Vec::with_capacity(rows);
    let mut basis: Vec<Option<&str>> = Vec::with_capacity(rows);
    let mut equity: Vec<Option<f64>> = Vec::with_capacity(rows);
    let mut voting: Vec<Option<f64>> = Vec::with_capacity(rows);
    let mut length: Vec<Option<u16>> = Vec::with_capacity(rows);
    // Text columns built straight into Arrow buffers (no vector of strings beside them).
    let mut path = StringChunkedBuilder::new("path".into(), rows);
    let mut customer = StringChunkedBuilder::new("customer_id".into(), rows);
    let mut fan: Vec<Option<u32>> = Vec::with_capacity(rows);
    let mut depth = Vec::with_capacity(rows);
    let mut above = Vec::with_capacity(rows);
    let mut circular = Vec::with_capacity(rows);
    let mut state = Vec::with_capacity(rows);
    for (e, owners, r) in &found {
        let mut push_entity = || {
            customer.append_value(id(*e));
            depth.push(r.depth);
            above.push(r.above);
            circular.push(r.circular);
            state.push(r.state_owned);
        };
        if owners.is_empty() {
            push_entity();
            person.push(None);
            basis.push(None);
            equity.push(None);
            voting.push(None);
            length.push(None);
            path.append_null();
            fan.push(None);
        }
        for o in owners {
            push_entity();
            person.push(Some(o.person));
            basis.push(Some(o.basis.label()));
            equity.push(Some(o.equity));
            voting.push(Some(o.voting));
            length.push(Some((o.path.len() - 1) as u16));
            path.append_value(path_text(&o.path, id));
            fan.push(Some(fanout[o.person as usize]));
        }
    }
    let idx = |v: &[Option<u32>]| {
        IdxCa::from_iter_options("i".into(), v.iter().map(|x| x.map(|x| x as IdxSize)))
    };
    let facts = nodes
        .frame
        .select(["id", "country", "pep_relation", "watchlist_hit"])?
        .take(&idx(&person))?;
    let out = DataFrame::new_infer_height(vec![
        customer.finish().into_column(),
        facts.column("id")?.clone().with_name("person_id".into()),
        Column::new("basis".into(), basis),
        Column::new("effective_share".into(), equity),
        Column::new("voting_share".into(), voting),
        Column::new("path_length".into(), length),
        path.finish().into_column(),
        facts
            .column("country")?
            .clone()
            .with_name("person_country".into()),
        facts
            .column("pep_relation")?
            .clone()
            .with_name("person_pep_relation".into()),
        facts
            .column("watchlist_hit")?
            .clone()
            .with_name("person_watchlist_hit".into()),
        Column::new("bo_fanout".into(), fan),
        Column::new("ownership_depth".into(), depth),
        Column::new("intermediate_entities".into(), above),
        Column::new("circular_ownership".into(), circular),
        Column::new("state_owned".into(), state),
    ])?;
    Ok(out)
}

/// Reads and checks a beneficial-owners table file (`assess --owners`): written by
/// `riskgrade owners` (its metadata says what it was computed from), with the columns of
/// [`COLUMNS`].
pub fn read(path: &Path) -> Result<(DataFrame, OwnersSource)> {
    let name = path.display();
    let bad = |m: String| {
        Error::Input(format!(
            "--owners {name}: {m}; give the table written by riskgrade owners for this book"
        ))
    };
    let source = OwnersSource::read(path)
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad("not a beneficial-owners table written by riskgrade owners (its Parquet metadata does not say what it was computed from)".into()))?;
    let df = crate::inputs::scan_path(path)?
        .collect()
        .map_err(|e| bad(format!("cannot read as Parquet: {e}")))?;
    let have: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
    if have != COLUMNS {
        return Err(bad(format!(
            "its columns are {}, not {}",
            have.join(", "),
            COLUMNS.join(", ")
        )));
    }
    Ok((df, source))
}

/// The rows of `table` whose customer is one of `ids`.
pub fn rows_of(table: &DataFrame, ids: LazyFrame) -> Result<DataFrame> {
    Ok(table
        .clone()
        .lazy()
        .join(
            ids.select([col("customer_id")]),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Semi),
        )
        .sort(
            ["customer_id", "person_id"],
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .collect()?)
}
