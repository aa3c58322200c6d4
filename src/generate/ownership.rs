//! A synthetic ownership graph around the entity customers (L-BOI6, S1.5, XH3): most entities
//! held by one or two natural persons; holding chains 2 to 8 deep; trusts whose beneficiaries
//! hold the income and whose protector controls; nominee shareholders with a controller
//! behind them; many small holders (no one reaches 25 %: the manager is the fallback); cross
//! holdings that form cycles; entities held by other entity customers; state-owned entities
//! with their legal representative. PEPs and listed persons sit mostly at the top of chains,
//! two or three layers up; some persons, drawn from a shared pool, own many entities. A few
//! edges ended before the as-of date, a few start after it. Drawn from a stream of its own, so
//! the other files are the same with or without the graph.

use polars::prelude::*;

use super::customers::Profile;
use super::distributions::{dates, Fmt};
use crate::rng::Rng;

/// Persons of the shared pool per customer: `customers / POOL_PER` (at least 20).
const POOL_PER: u64 = 500;

/// The shared pool's size for a book of `customers`.
pub fn pool_size(customers: u64) -> u64 {
    (customers / POOL_PER).max(20)
}

/// The stream of chunk `chunk`'s graph (apart from every other stream of the generator).
pub fn stream(chunk: u64) -> u64 {
    chunk | (1 << 48)
}

/// The stream of the shared pool.
const POOL_STREAM: u64 = 1 << 49;

/// The columns of `ownership.parquet` and `persons.parquet` of one chunk.
#[derive(Default)]
pub struct Graph {
    /// The first edge of the entity being drawn: an edge drawn twice there is added up.
    first: usize,
    owned: Vec<String>,
    owner: Vec<String>,
    role: Vec<&'static str>,
    equity: Vec<Option<f64>>,
    voting: Vec<Option<f64>>,
    controls: Vec<Option<bool>>,
    formed: Vec<Option<i32>>,
    ended: Vec<Option<i32>>,
    p_id: Vec<String>,
    p_kind: Vec<&'static str>,
    p_country: Vec<Option<&'static str>>,
    p_pep: Vec<&'static str>,
    p_wl: Vec<bool>,
    p_state: Vec<bool>,
}

/// Countries of foreign persons (a few FATF-listed among them).
const FOREIGN: [(&str, f64); 8] = [
    ("HK", 3.0),
    ("SG", 2.0),
    ("US", 2.0),
    ("GB", 1.5),
    ("VG", 1.0),
    ("KY", 1.0),
    ("IR", 0.2),
    ("KP", 0.1),
];

/// How an entity is held.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Direct,
    Chain,
    Trust,
    Nominee,
    Dispersed,
    Cycle,
    HeldByCustomer,
    StateOwned,
}

/// Shapes and their weights; the first entities of chunk 0 take each in turn.
const SHAPES: [(Shape, f64); 8] = [
    (Shape::Direct, 55.0),
    (Shape::Chain, 20.0),
    (Shape::Trust, 4.0),
    (Shape::Nominee, 4.0),
    (Shape::Dispersed, 8.0),
    (Shape::Cycle, 3.0),
    (Shape::HeldByCustomer, 3.0),
    (Shape::StateOwned, 3.0),
];

impl Graph {
    fn edge(
        &mut self,
        owned: &str,
        owner: &str,
        role: &'static str,
        share: (f64, f64),
        controls: bool,
        formed: i32,
    ) {
        let some = |x: f64| (x > 0.0).then_some((x * 10_000.0).round() / 10_000.0);
        if let Some(k) = (self.first..self.owned.len())
            .find(|&k| self.owned[k] == owned && self.owner[k] == owner && self.role[k] == role)
        {
            let add = |a: Option<f64>, b: f64| some(a.unwrap_or(0.0) + b);
            self.equity[k] = add(self.equity[k], share.0);
            self.voting[k] = add(self.voting[k], share.1);
            self.controls[k] = (self.controls[k] == Some(true) || controls).then_some(true);
            return;
        }
        self.owned.push(owned.to_string());
        self.owner.push(owner.to_string());
        self.role.push(role);
        self.equity.push(some(share.0));
        self.voting.push(some(share.1));
        self.controls.push(controls.then_some(true));
        self.formed.push(Some(formed));
        self.ended.push(None);
    }

    fn owns(&mut self, owned: &str, owner: &str, share: f64, formed: i32) {
        self.edge(owned, owner, "owner", (share, share), false, formed);
    }

    fn person(&mut self, rng: &mut Rng, id: String, up: bool) {
        // Persons at the top of a structure are more often PEPs or listed.
        let boost = if up { 4.0 } else { 1.0 };
        let pep = *rng.pick(&[
            ("none", 100.0),
            ("foreign_pep", 0.6 * boost),
            ("domestic_pep", 0.8 * boost),
            ("relative", 0.3 * boost),
            ("close_associate", 0.2 * boost),
            ("former_foreign_pep", 0.2 * boost),
            ("io_senior_manager", 0.1 * boost),
        ]);
        let country = if rng.chance(0.85) {
            "CN"
        } else {
            *rng.pick(&FOREIGN)
        };
        self.p_id.push(id);
        self.p_kind.push("natural");
        self.p_country.push(Some(country));
        self.p_pep.push(pep);
        self.p_wl.push(rng.chance(0.002 * boost));
        self.p_state.push(false);
    }

    fn entity(&mut self, rng: &mut Rng, id: String, state: bool) {
        let country = if rng.chance(0.7) {
            "CN"
        } else {
            *rng.pick(&FOREIGN)
        };
        self.p_id.push(id);
        self.p_kind.push("entity");
        self.p_country.push(Some(country));
        self.p_pep.push("none");
        self.p_wl.push(rng.chance(0.001));
        self.p_state.push(state);
    }

    /// `(ownership, persons)`.
    pub fn finish(self) -> PolarsResult<[DataFrame; 2]> {
        let ownership = DataFrame::new_infer_height(vec![
            Column::new("owned_id".into(), self.owned),
            Column::new("owner_id".into(), self.owner),
            Column::new("role".into(), self.role),
            Column::new("equity_share".into(), self.equity),
            Column::new("voting_share".into(), self.voting),
            Column::new("controls".into(), self.controls),
            dates("formed_on", self.formed)?,
            dates("ended_on", self.ended)?,
        ])?;
        let persons = DataFrame::new_infer_height(vec![
            Column::new("person_id".into(), self.p_id),
            Column::new("kind".into(), self.p_kind),
            Column::new("country".into(), self.p_country),
            Column::new("pep_relation".into(), self.p_pep),
            Column::new("watchlist_hit".into(), self.p_wl),
            Column::new("state_owned".into(), self.p_state),
        ])?;
        Ok([ownership, persons])
    }
}

/// The shared pool of persons who hold many entities (`PS…`).
pub fn pool(seed: u64, customers: u64) -> PolarsResult<DataFrame> {
    let mut rng = Rng::new(seed, POOL_STREAM);
    let mut g = Graph::default();
    let mut f = Fmt(String::new());
    for k in 0..pool_size(customers) {
        g.person(&mut rng, f.id("PS", k, 8).to_string(), true);
    }
    Ok(g.finish()?[1].clone())
}

/// The graph around the entity customers of a chunk (`legal` the customers' legal forms).
pub fn make(
    rng: &mut Rng,
    f: &mut Fmt,
    profiles: &[Profile],
    legal: &StringChunked,
    chunk: u64,
    customers: u64,
    as_of: i32,
) -> PolarsResult<[DataFrame; 2]> {
    let mut g = Graph::default();
    let ctx = Holders {
        pool: pool_size(customers),
        naturals: profiles.iter().filter(|p| p.natural).map(|p| p.g).collect(),
    };
    let mut earlier: Vec<u64> = Vec::new();
    let mut ordinal = 0usize;
    for (i, p) in profiles.iter().enumerate() {
        if p.natural {
            continue;
        }
        let id = f.id("C", p.g, 10).to_string();
        let state = legal.get(i) == Some("state_owned");
        let shape = if state {
            Shape::StateOwned
        } else if chunk == 0 && ordinal < SHAPES.len() {
            SHAPES[ordinal].0
        } else {
            *rng.pick(&SHAPES)
        };
        ordinal += 1;
        g.first = g.owned.len();
        let since = p.rel_start - rng.range(0, 3000) as i32;
        let mut ids = Ids { g: p.g, k: 0 };
        let manager = holder(&mut g, rng, &mut ids, &ctx, false);
        g.edge(&id, &manager, "manager", (0.0, 0.0), false, since);
        let present = g.owned.len();
        structure(&mut g, rng, &mut ids, &ctx, &id, shape, since, &earlier);
        let drawn = present..g.owned.len();
        history(&mut g, rng, &mut ids, &ctx, &id, since, as_of, drawn);
        earlier.push(p.g);
    }
    g.finish()
}

/// The edges that hold entity `id` in the given shape, formed on `since`.
#[allow(clippy::too_many_arguments)]
fn structure(
    g: &mut Graph,
    rng: &mut Rng,
    ids: &mut Ids,
    ctx: &Holders,
    id: &str,
    shape: Shape,
    since: i32,
    earlier: &[u64],
) {
    match shape {
        Shape::Direct => {
            if rng.chance(0.5) {
                let a = holder(g, rng, ids, ctx, false);
                g.owns(id, &a, 1.0, since);
            } else {
                let s = 0.5 + rng.range(0, 40) as f64 / 100.0;
                let (a, b) = (
                    holder(g, rng, ids, ctx, false),
                    holder(g, rng, ids, ctx, false),
                );
                if a != b {
                    g.owns(id, &a, s, since);
                    g.owns(id, &b, 1.0 - s, since);
                } else {
                    g.owns(id, &a, 1.0, since);
                }
            }
        }
        Shape::Chain => {
            let depth = *rng.pick(&[
                (2, 40.0),
                (3, 25.0),
                (4, 15.0),
                (5, 8.0),
                (6, 6.0),
                (7, 3.0),
                (8, 3.0),
            ]);
            let mut below = id.to_string();
            for level in 1..depth {
                let h = ids.fresh("H");
                g.entity(rng, h.clone(), false);
                let share = 0.5 + rng.range(0, 51) as f64 / 100.0;
                g.owns(&below, &h, share, since);
                if share < 1.0 && rng.chance(0.5) {
                    let m = holder(g, rng, ids, ctx, level == 1);
                    g.owns(&below, &m, 1.0 - share, since);
                }
                below = h;
            }
            let top = holder(g, rng, ids, ctx, true);
            g.owns(&below, &top, 0.4 + rng.range(0, 61) as f64 / 100.0, since);
        }
        Shape::Trust => {
            let t = ids.fresh("H");
            g.entity(rng, t.clone(), false);
            g.owns(id, &t, 0.7, since);
            let settlor = holder(g, rng, ids, ctx, false);
            g.owns(id, &settlor, 0.3, since);
            for _ in 0..2 {
                let b = holder(g, rng, ids, ctx, true);
                g.edge(&t, &b, "owner", (0.0, 0.5), false, since);
            }
            let protector = holder(g, rng, ids, ctx, true);
            g.edge(&t, &protector, "owner", (0.0, 0.0), true, since);
        }
        Shape::Nominee => {
            let nominee = holder(g, rng, ids, ctx, false);
            g.owns(id, &nominee, 0.9, since);
            let behind = holder(g, rng, ids, ctx, true);
            g.edge(id, &behind, "owner", (0.0, 0.0), true, since);
        }
        Shape::Dispersed => {
            for _ in 0..rng.range(5, 12) {
                let h = holder(g, rng, ids, ctx, false);
                g.owns(id, &h, 0.08, since);
            }
        }
        Shape::Cycle => {
            let (a, b) = (ids.fresh("H"), ids.fresh("H"));
            g.entity(rng, a.clone(), false);
            g.entity(rng, b.clone(), false);
            g.owns(id, &a, 0.6, since);
            g.owns(&a, &b, 0.3, since);
            g.owns(&b, &a, 0.2, since);
            let (x, y) = (
                holder(g, rng, ids, ctx, true),
                holder(g, rng, ids, ctx, true),
            );
            g.owns(&a, &x, 0.7, since);
            g.owns(&b, &y, 0.8, since);
            let z = holder(g, rng, ids, ctx, false);
            g.owns(id, &z, 0.4, since);
        }
        Shape::HeldByCustomer => match earlier.last() {
            Some(&parent) => {
                g.owns(id, &format!("C{parent:010}"), 0.7, since);
                let m = holder(g, rng, ids, ctx, false);
                g.owns(id, &m, 0.3, since);
            }
            None => {
                let a = holder(g, rng, ids, ctx, false);
                g.owns(id, &a, 1.0, since);
            }
        },
        Shape::StateOwned => {
            let soe = ids.fresh("H");
            g.entity(rng, soe.clone(), true);
            g.owns(id, &soe, 0.6, since);
            let rep = holder(g, rng, ids, ctx, false);
            g.edge(id, &rep, "legal_representative", (0.0, 0.0), false, since);
        }
    }
}

/// A former holder whose edge ended the day the present holders' began; or a holder from a
/// date after the as-of date who that day takes over the stake of the first present holder
/// (edges `present`), whose edge ends then. So the live shares add up to at most 1 on every
/// date, and neither is live on the as-of date.
#[allow(clippy::too_many_arguments)]
fn history(
    g: &mut Graph,
    rng: &mut Rng,
    ids: &mut Ids,
    ctx: &Holders,
    id: &str,
    since: i32,
    as_of: i32,
    present: std::ops::Range<usize>,
) {
    // A former holder whose edge ended the day the present holders' began (so the live
    // shares add up to at most 1 on every date); a holder from a date after the as-of date.
    // Neither is live on the as-of date, so neither is added to a live edge.
    g.first = g.owned.len();
    if rng.chance(0.04) && since + 2 < as_of {
        let old = holder(g, rng, ids, ctx, true);
        g.owns(id, &old, 0.0, since);
        let n = g.ended.len();
        g.equity[n - 1] = Some(0.3);
        g.voting[n - 1] = Some(0.3);
        g.formed[n - 1] = Some(since - rng.range(1, 400) as i32);
        g.ended[n - 1] = Some(since);
    } else if rng.chance(0.01) {
        let later = holder(g, rng, ids, ctx, true);
        g.owns(id, &later, 0.0, since);
        let n = g.formed.len();
        let day = as_of + rng.range(1, 60) as i32;
        g.formed[n - 1] = Some(day);
        let seller = present
            .clone()
            .find(|&k| g.owned[k] == id && g.role[k] == "owner" && g.equity[k].is_some());
        g.equity[n - 1] = match seller {
            Some(k) => {
                g.ended[k] = Some(day);
                g.equity[k]
            }
            None => Some(0.3),
        };
    }
}

/// New ids under one entity customer: `P…` for persons, `H…` for entities.
struct Ids {
    g: u64,
    k: u64,
}

impl Ids {
    fn fresh(&mut self, prefix: &str) -> String {
        self.k += 1;
        format!("{prefix}{:010}{:02}", self.g, self.k)
    }
}

/// Where holders come from besides new persons.
struct Holders {
    /// Size of the shared pool.
    pool: u64,
    /// The chunk's natural-person customers.
    naturals: Vec<u64>,
}

/// A natural person to hold or run an entity: someone of the shared pool (8 %), a
/// natural-person customer (3 %), else a new person (`up`: at the top of a structure).
fn holder(g: &mut Graph, rng: &mut Rng, ids: &mut Ids, ctx: &Holders, up: bool) -> String {
    if rng.chance(0.08) {
        format!("PS{:08}", rng.range(0, ctx.pool as i64))
    } else if rng.chance(0.03) && !ctx.naturals.is_empty() {
        format!(
            "C{:010}",
            ctx.naturals[rng.range(0, ctx.naturals.len() as i64) as usize]
        )
    } else {
        let pid = ids.fresh("P");
        g.person(rng, pid.clone(), up);
        pid
    }
}
