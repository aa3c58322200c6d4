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
use kernel::{Basis, Graph, Holding, Node, Roles, Solver};

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
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OwnersSource {
    /// The as-of date.
    pub as_of: NaiveDate,
    /// The threshold of effective shares (`[features] beneficial_owner_share`).
    pub threshold: f64,
    /// The book's customers.
    pub book: CustomerSet,
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

/// The nodes: customers first (in file order), then the rows of `persons.parquet`; with what
/// each is and the facts a beneficial owner's row carries.
struct Nodes {
    /// id, kind (Node), customer (bool), country, pep_relation, watchlist_hit, state_owned.
    frame: DataFrame,
    customers: usize,
}

fn nodes(inputs: &Inputs) -> Result<Nodes> {
    let cust = inputs
        .required(&contract::CUSTOMERS)
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
    let customers = cust.height();
    let persons = match inputs.get(&PERSONS) {
        None => cust.clear(),
        Some(p) => p
            .select([
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
    };
    // A person id that is also a customer id would make an edge ambiguous.
    let clash = persons
        .clone()
        .lazy()
        .join(
            cust.clone().lazy().select([col("id")]),
            [col("id")],
            [col("id")],
            JoinArgs::new(JoinType::Semi),
        )
        .collect()?;
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
    let mut frame = cust.vstack(&persons)?;
    frame.rechunk_mut();
    Ok(Nodes { frame, customers })
}

/// The live edges with their owned and owner nodes (`a`, `b`), checked: every id known, every
/// held node an entity, managers and legal representatives natural persons, no edge twice,
/// shares of one entity adding up to at most 1.
fn numbered_edges(edges: DataFrame, nodes: &Nodes) -> Result<DataFrame> {
    let file = OWNERSHIP.file;
    let ids = nodes
        .frame
        .clone()
        .lazy()
        .select([col("id"), col("kind")])
        .with_row_index("node", None);
    let args = crate::frame::left_in_order();
    let joined = edges
        .lazy()
        .join(
            ids.clone().select([
                col("id"),
                col("node").alias("a"),
                col("kind").alias("owned_kind"),
            ]),
            [col("owned_id")],
            [col("id")],
            args.clone(),
        )
        .join(
            ids.select([
                col("id"),
                col("node").alias("b"),
                col("kind").alias("owner_kind"),
            ]),
            [col("owner_id")],
            [col("id")],
            args,
        )
        .collect()?;
    let lf = joined.clone().lazy();
    let checks: [(Expr, String); 4] = [
        (
            col("a").is_null(),
            "name an owned_id that is neither a customer_id of customers.parquet nor a person_id of persons.parquet".into(),
        ),
        (
            col("b").is_null(),
            "name an owner_id that is neither a customer_id of customers.parquet nor a person_id of persons.parquet".into(),
        ),
        (
            col("owned_kind").eq(lit("natural")),
            "hold a natural person (owned_id is a natural person; only entities are held)".into(),
        ),
        (
            col("role")
                .neq(lit("owner"))
                .and(col("owner_kind").neq(lit("natural"))),
            "give an entity as manager or legal_representative (the person who runs the business or represents it is a natural person)".into(),
        ),
    ];
    for (bad, what) in checks {
        let n = count_rows(lf.clone(), bad.clone())?;
        if n > 0 {
            return Err(fail(
                file,
                format!(
                    "{n} live rows on the as-of date {what}, e.g. rows {}",
                    examples(lf.clone(), bad, "row")
                ),
            ));
        }
    }
    let twice = lf
        .clone()
        .group_by([col("a"), col("b"), col("role")])
        .agg([col("row").min(), len().alias("n")])
        .filter(col("n").gt(lit(1)))
        .sort(["row"], SortMultipleOptions::default())
        .collect()?;
    if twice.height() > 0 {
        return Err(fail(
            file,
            format!(
                "{} (owned_id, owner_id, role) edges live on the as-of date twice or more, e.g. rows {}; give an edge once, its shares added up, or end one with ended_on",
                twice.height(),
                examples(twice.clone().lazy(), lit(true), "row")
            ),
        ));
    }
    let over = lf
        .clone()
        .filter(col("role").eq(lit("owner")))
        .group_by([col("owned_id")])
        .agg([
            col("equity_share").sum(),
            col("voting_share").sum(),
            col("row").min(),
        ])
        .filter(
            col("equity_share")
                .gt(lit(1.0 + 1e-6))
                .or(col("voting_share").gt(lit(1.0 + 1e-6))),
        )
        .sort(["row"], SortMultipleOptions::default())
        .collect()?;
    if over.height() > 0 {
        return Err(fail(
            file,
            format!(
                "the live shares of {} entities add up to more than 1 (100 %), e.g. owned_id {}; correct the shares or end the edges no longer held",
                over.height(),
                examples(over.clone().lazy(), lit(true), "owned_id")
            ),
        ));
    }
    Ok(joined)
}

/// The beneficial-owners table of the book (see [`COLUMNS`]): a row per beneficial owner of
/// every entity (non-natural) customer, and one row with no person for an entity that has
/// none, sorted by customer and person. `threshold`: the effective share that makes an owner.
pub fn table(inputs: &Inputs, as_of: NaiveDate, threshold: f64) -> Result<DataFrame> {
    let nodes = nodes(inputs)?;
    let edges = numbered_edges(live_edges(inputs, as_of)?, &nodes)?;
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
    let u32s = |c: &str| -> Result<Vec<u32>> {
        Ok(edges
            .column(c)?
            .cast(&DataType::UInt32)?
            .u32()?
            .iter()
            .map(|v| v.unwrap_or(kernel::NONE))
            .collect())
    };
    let (a, b) = (u32s("a")?, u32s("b")?);
    let role = edges.column("role")?.str()?;
    let eq = edges.column("equity_share")?.f64()?;
    let vo = edges.column("voting_share")?.f64()?;
    let ctl = edges.column("controls")?.bool()?;
    let mut holdings = Vec::new();
    let mut managers: Vec<(u32, u32)> = Vec::new();
    let mut reps: Vec<(u32, u32)> = Vec::new();
    for i in 0..edges.height() {
        match role.get(i) {
            Some("owner") => holdings.push((
                a[i],
                Holding {
                    owner: b[i],
                    equity: eq.get(i).unwrap_or(0.0),
                    voting: vo.get(i).unwrap_or(0.0),
                    controls: ctl.get(i).unwrap_or(false),
                },
            )),
            Some("manager") => managers.push((a[i], b[i])),
            _ => reps.push((a[i], b[i])),
        }
    }
    let graph = Graph::new(kinds, holdings);
    let reach = kernel::solve(&graph, Solver::default());
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
    let found: Vec<(u32, Vec<kernel::Owner>)> = entities
        .par_iter()
        .map(|&e| {
            let i = e as usize;
            let roles = Roles {
                state_owned: state_flag.get(i).unwrap_or(false),
                representatives: &r_of[r_start[i]..r_start[i + 1]],
                managers: &m_of[m_start[i]..m_start[i + 1]],
            };
            (
                e,
                kernel::beneficial_owners(&graph, &reach, e, roles, threshold),
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
    build(&nodes, &reach, found, &fanout)
}

/// The table's frame from what the kernel found.
fn build(
    nodes: &Nodes,
    reach: &[kernel::Reach],
    found: Vec<(u32, Vec<kernel::Owner>)>,
    fanout: &[u32],
) -> Result<DataFrame> {
    let ids = nodes.frame.column("id")?.str()?;
    let rows: usize = found.iter().map(|(_, o)| o.len().max(1)).sum();
    let mut entity = Vec::with_capacity(rows);
    let mut person: Vec<Option<u32>> = Vec::with_capacity(rows);
    let mut basis: Vec<Option<&str>> = Vec::with_capacity(rows);
    let mut equity: Vec<Option<f64>> = Vec::with_capacity(rows);
    let mut voting: Vec<Option<f64>> = Vec::with_capacity(rows);
    let mut length: Vec<Option<u16>> = Vec::with_capacity(rows);
    let mut path: Vec<Option<String>> = Vec::with_capacity(rows);
    let mut fan: Vec<Option<u32>> = Vec::with_capacity(rows);
    let mut depth = Vec::with_capacity(rows);
    let mut above = Vec::with_capacity(rows);
    let mut circular = Vec::with_capacity(rows);
    let mut state = Vec::with_capacity(rows);
    for (e, owners) in &found {
        let r = &reach[*e as usize];
        let is_state = owners.iter().any(|o| o.basis == Basis::StateOwned);
        let mut push_entity = || {
            entity.push(*e);
            depth.push(r.depth);
            above.push(r.above.len() as u32);
            circular.push(r.circular);
            state.push(is_state);
        };
        if owners.is_empty() {
            push_entity();
            person.push(None);
            basis.push(None);
            equity.push(None);
            voting.push(None);
            length.push(None);
            path.push(None);
            fan.push(None);
        }
        for o in owners {
            push_entity();
            person.push(Some(o.person));
            basis.push(Some(o.basis.label()));
            equity.push(Some(o.equity));
            voting.push(Some(o.voting));
            length.push(Some((o.path.len() - 1) as u16));
            path.push(Some(
                o.path
                    .iter()
                    .map(|v| ids.get(*v as usize).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(" < "),
            ));
            fan.push(Some(fanout[o.person as usize]));
        }
    }
    let customer: Vec<Option<&str>> = entity.iter().map(|v| ids.get(*v as usize)).collect();
    let idx = |v: &[Option<u32>]| {
        IdxCa::from_iter_options("i".into(), v.iter().map(|x| x.map(|x| x as IdxSize)))
    };
    let facts = nodes
        .frame
        .select(["id", "country", "pep_relation", "watchlist_hit"])?
        .take(&idx(&person))?;
    let out = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), customer),
        facts.column("id")?.clone().with_name("person_id".into()),
        Column::new("basis".into(), basis),
        Column::new("effective_share".into(), equity),
        Column::new("voting_share".into(), voting),
        Column::new("path_length".into(), length),
        Column::new("path".into(), path),
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
    Ok(out
        .lazy()
        .sort(
            ["customer_id", "person_id"],
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .collect()?)
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
