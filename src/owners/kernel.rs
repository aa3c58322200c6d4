//! The ownership graph's arithmetic (L-BOI6, S1.5): effective shares of natural persons in
//! every entity through chains of entities, control chains, depth, intermediate entities and
//! cycles, over dense node numbers. Nothing here reads a file.
//!
//! Effective shares solve `x = r + A·x` per person, where `A[e][f]` is the share of entity `e`
//! held by entity `f` and `r[e]` the shares held directly by the person: `x = (I − A)⁻¹·r`, the
//! sum over every ownership path of the product of the shares along it. The strongly connected
//! components of the entity graph (Tarjan) are solved owners first: a component of one entity
//! without a self-edge is a sum over its owners; a cycle is solved exactly, by Gauss–Jordan
//! inversion of its `(I − A_CC)` when it holds at most [`Solver::dense_max`] entities, else by
//! Gauss–Seidel sweeps to 1e-15. A cycle whose entities are wholly owned inside it (no way out to
//! a person: the spectral radius of `A_CC` is 1) passes no share on.

/// No node.
pub const NONE: u32 = u32::MAX;

/// An owner's edge into an entity it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Holding {
    /// The owner (a natural person or an entity).
    pub owner: u32,
    /// Equity (shares, partnership interest) held, 0..=1.
    pub equity: f64,
    /// Income or voting rights held, 0..=1.
    pub voting: f64,
    /// Whether the owner actually controls the entity.
    pub controls: bool,
}

/// What a node of the graph is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// A natural person: holds, is never held.
    Person,
    /// An entity: held by persons, entities or the state; its holders are followed up.
    Entity,
    /// A state-owned entity: an ultimate holder (the state), not followed up, never a
    /// beneficial owner; what it holds makes an entity state-owned.
    State,
}

/// The live ownership graph: what each node is, and the holdings in it.
#[derive(Debug, Clone)]
pub struct Graph {
    kind: Vec<Node>,
    start: Vec<usize>,
    holdings: Vec<Holding>,
}

impl Graph {
    /// A graph of `kind.len()` nodes from (owned, holding) pairs in any order.
    pub fn new(kind: Vec<Node>, mut edges: Vec<(u32, Holding)>) -> Graph {
        let n = kind.len();
        edges.sort_by_key(|(owned, h)| (*owned, h.owner));
        let mut start = vec![0usize; n + 1];
        for (owned, _) in &edges {
            start[*owned as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        Graph {
            kind,
            start,
            holdings: edges.into_iter().map(|(_, h)| h).collect(),
        }
    }

    /// Nodes.
    pub fn len(&self) -> usize {
        self.kind.len()
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.kind.is_empty()
    }

    /// What node `v` is.
    pub fn kind(&self, v: u32) -> Node {
        self.kind[v as usize]
    }

    /// Whether node `v` is an entity whose holders are followed up.
    pub fn is_entity(&self, v: u32) -> bool {
        self.kind[v as usize] == Node::Entity
    }

    /// The holdings in node `v`.
    pub fn holdings(&self, v: u32) -> &[Holding] {
        &self.holdings[self.start[v as usize]..self.start[v as usize + 1]]
    }
}

/// What one ultimate holder (a natural person or the state) holds of one entity, through every
/// path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share {
    /// The natural person, or a state-owned entity.
    pub person: u32,
    /// Effective equity: the sum over all paths of the product of the equity shares.
    pub equity: f64,
    /// Effective income or voting rights, likewise.
    pub voting: f64,
    /// The largest product of equity shares along one path, the next node up that path, and
    /// its length in edges.
    pub best_equity: f64,
    /// The next node up the largest-equity path (the person when held directly).
    pub hop_equity: u32,
    /// Edges of that path.
    pub len_equity: u16,
    /// The largest product of voting shares along one path.
    pub best_voting: f64,
    /// The next node up that path.
    pub hop_voting: u32,
    /// Edges of that path.
    pub len_voting: u16,
    /// Edges of the shortest chain of control from the person (0: no such chain).
    pub len_control: u16,
    /// The next node up that chain.
    pub hop_control: u32,
}

impl Share {
    fn direct(person: u32, h: &Holding) -> Share {
        Share {
            person,
            equity: h.equity,
            voting: h.voting,
            best_equity: h.equity,
            hop_equity: person,
            len_equity: 1,
            best_voting: h.voting,
            hop_voting: person,
            len_voting: 1,
            len_control: u16::from(h.controls),
            hop_control: if h.controls { person } else { NONE },
        }
    }

    /// This share of `via`, seen from an entity `via` holds `h` of.
    fn through(&self, via: u32, h: &Holding) -> Share {
        let control = h.controls && self.len_control > 0;
        Share {
            person: self.person,
            equity: h.equity * self.equity,
            voting: h.voting * self.voting,
            best_equity: h.equity * self.best_equity,
            hop_equity: via,
            len_equity: self.len_equity.saturating_add(1),
            best_voting: h.voting * self.best_voting,
            hop_voting: via,
            len_voting: self.len_voting.saturating_add(1),
            len_control: if control {
                self.len_control.saturating_add(1)
            } else {
                0
            },
            hop_control: if control { via } else { NONE },
        }
    }

    /// Whether the person holds anything or controls.
    fn counts(&self) -> bool {
        self.equity > 0.0 || self.voting > 0.0 || self.len_control > 0
    }

    /// Folds `o` (same person, another path set) into `self`: shares add, the best paths and
    /// the shortest control chain are kept.
    fn absorb(&mut self, o: &Share) {
        self.equity += o.equity;
        self.voting += o.voting;
        if o.best_equity > self.best_equity {
            (self.best_equity, self.hop_equity, self.len_equity) =
                (o.best_equity, o.hop_equity, o.len_equity);
        }
        if o.best_voting > self.best_voting {
            (self.best_voting, self.hop_voting, self.len_voting) =
                (o.best_voting, o.hop_voting, o.len_voting);
        }
        if o.len_control > 0 && (self.len_control == 0 || o.len_control < self.len_control) {
            (self.len_control, self.hop_control) = (o.len_control, o.hop_control);
        }
    }
}

/// Sorts shares by person and folds each person's into one.
fn fold(mut v: Vec<Share>) -> Vec<Share> {
    v.sort_by_key(|s| s.person);
    let mut out: Vec<Share> = Vec::with_capacity(v.len());
    for s in v {
        match out.last_mut() {
            Some(last) if last.person == s.person => last.absorb(&s),
            _ => out.push(s),
        }
    }
    out.retain(Share::counts);
    out
}

/// What the graph says of one entity.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// The ultimate holders (natural persons, state-owned entities) holding or controlling it,
    /// by node.
    pub shares: Vec<Share>,
    /// Links on the longest ownership chain up to an ultimate owner (a cycle of k entities
    /// counts as k − 1 links).
    pub depth: u32,
    /// The distinct entities above it (its owners, theirs, and so on), sorted; the first
    /// [`ABOVE_CAP`] of them.
    pub above: Vec<u32>,
    /// Whether it or an entity above it lies on an ownership cycle.
    pub circular: bool,
}

impl Reach {
    /// The share of `person`, if any.
    pub fn of(&self, person: u32) -> Option<&Share> {
        self.shares
            .binary_search_by_key(&person, |s| s.person)
            .ok()
            .map(|k| &self.shares[k])
    }
}

/// How cycles are solved.
#[derive(Debug, Clone, Copy)]
pub struct Solver {
    /// Cycles of at most this many entities are solved by dense inversion; larger ones by
    /// Gauss–Seidel sweeps.
    pub dense_max: usize,
}

impl Default for Solver {
    fn default() -> Self {
        Solver { dense_max: 1000 }
    }
}

/// The strongly connected components of the entity graph (edges from an entity to its entity
/// owners), owners' components first (Tarjan's order), without recursion.
pub fn components(g: &Graph) -> Vec<Vec<u32>> {
    let n = g.len();
    let mut index = vec![u32::MAX; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    let mut next = 0u32;
    // (node, position in its holdings)
    let mut call: Vec<(u32, usize)> = Vec::new();
    for root in 0..n as u32 {
        if !g.is_entity(root) || index[root as usize] != u32::MAX {
            continue;
        }
        call.push((root, 0));
        index[root as usize] = next;
        low[root as usize] = next;
        next += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        while let Some(&mut (v, ref mut pos)) = call.last_mut() {
            let hs = g.holdings(v);
            if *pos < hs.len() {
                let w = hs[*pos].owner;
                *pos += 1;
                if !g.is_entity(w) {
                    continue;
                }
                if index[w as usize] == u32::MAX {
                    index[w as usize] = next;
                    low[w as usize] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    call.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
            } else {
                call.pop();
                if let Some(&(u, _)) = call.last() {
                    low[u as usize] = low[u as usize].min(low[v as usize]);
                }
                if low[v as usize] == index[v as usize] {
                    let mut comp = Vec::new();
                    loop {
                        let w = stack.pop().expect("Tarjan stack");
                        on_stack[w as usize] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comp.sort_unstable();
                    out.push(comp);
                }
            }
        }
    }
    out
}

/// The reach of every entity (persons: empty), solved component by component, owners first.
/// `Err`: the members of a cycle whose sweeps did not converge (larger than
/// [`Solver::dense_max`] and almost closed on itself); nothing approximate is returned.
pub fn solve(g: &Graph, solver: Solver) -> std::result::Result<Vec<Reach>, Vec<u32>> {
    let mut reach: Vec<Reach> = vec![Reach::default(); g.len()];
    for comp in components(g) {
        if comp.len() == 1 && !g.holdings(comp[0]).iter().any(|h| h.owner == comp[0]) {
            let r = single(g, &reach, comp[0]);
            reach[comp[0] as usize] = r;
        } else {
            let Some(solved) = cycle(g, &reach, &comp, solver) else {
                return Err(comp);
            };
            for (v, r) in solved {
                reach[v as usize] = r;
            }
        }
    }
    Ok(reach)
}

/// The entities above one entity are listed up to this many: a longer list stands for "this
/// many or more" (`intermediate_entities`), and memory stays linear in a chain's depth.
pub const ABOVE_CAP: usize = 100;

/// Merges sorted id lists (at most [`ABOVE_CAP`] kept).
fn union_sorted(parts: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut v: Vec<u32> = parts.collect();
    v.sort_unstable();
    v.dedup();
    v.truncate(ABOVE_CAP);
    v
}

/// An entity on no cycle: the sum over its holders.
fn single(g: &Graph, reach: &[Reach], v: u32) -> Reach {
    let mut shares = Vec::new();
    let mut depth = 0;
    let mut circular = false;
    let mut above = Vec::new();
    for h in g.holdings(v) {
        if g.is_entity(h.owner) {
            let up = &reach[h.owner as usize];
            shares.extend(up.shares.iter().map(|s| s.through(h.owner, h)));
            depth = depth.max(up.depth + 1);
            circular |= up.circular;
            above.push(h.owner);
            above.extend_from_slice(&up.above);
        } else {
            shares.push(Share::direct(h.owner, h));
            depth = depth.max(1);
        }
    }
    Reach {
        shares: fold(shares),
        depth,
        above: union_sorted(above.into_iter()),
        circular,
    }
}

/// The entities of one cycle (a strongly connected component, or one entity holding its own
/// shares), solved together.
fn cycle(g: &Graph, reach: &[Reach], comp: &[u32], solver: Solver) -> Option<Vec<(u32, Reach)>> {
    let k = comp.len();
    let local = |v: u32| comp.binary_search(&v).ok();
    // Inside edges (i held by j) and what comes from outside, per member.
    let mut inside: Vec<Vec<(usize, Holding)>> = vec![Vec::new(); k];
    let mut from_outside: Vec<Vec<Share>> = vec![Vec::new(); k];
    let mut depth_out = 0u32;
    let mut above: Vec<u32> = comp.to_vec();
    for (i, &v) in comp.iter().enumerate() {
        for h in g.holdings(v) {
            match local(h.owner) {
                Some(j) => inside[i].push((j, *h)),
                None if g.is_entity(h.owner) => {
                    let up = &reach[h.owner as usize];
                    from_outside[i].extend(up.shares.iter().map(|s| s.through(h.owner, h)));
                    depth_out = depth_out.max(up.depth + 1);
                    above.push(h.owner);
                    above.extend_from_slice(&up.above);
                }
                None => {
                    from_outside[i].push(Share::direct(h.owner, h));
                    depth_out = depth_out.max(1);
                }
            }
        }
    }
    let rhs: Vec<Vec<Share>> = from_outside.into_iter().map(fold).collect();
    let mut persons: Vec<u32> = rhs.iter().flatten().map(|s| s.person).collect();
    persons.sort_unstable();
    persons.dedup();
    // Per person, a vector over the members: start from what comes from outside.
    let p = persons.len();
    let at = |i: usize, person: u32| rhs[i].binary_search_by_key(&person, |s| s.person).ok();
    let mut table: Vec<Vec<Option<Share>>> = vec![vec![None; p]; k];
    for (i, row) in table.iter_mut().enumerate() {
        for (c, &person) in persons.iter().enumerate() {
            row[c] = at(i, person).map(|x| rhs[i][x]);
        }
    }
    // Effective equity and voting: x = (I − A)⁻¹ r, per person.
    for q in [Quantity::Equity, Quantity::Voting] {
        let a: Vec<Vec<(usize, f64)>> = inside
            .iter()
            .map(|row| row.iter().map(|(j, h)| (*j, q.of_holding(h))).collect())
            .collect();
        let r: Vec<Vec<f64>> = (0..p)
            .map(|c| {
                (0..k)
                    .map(|i| table[i][c].map(|s| q.of_share(&s)).unwrap_or(0.0))
                    .collect()
            })
            .collect();
        let x = solve_linear(&a, &r, solver)?;
        for (c, col) in x.iter().enumerate() {
            for (i, v) in col.iter().enumerate() {
                if *v != 0.0 {
                    let person = persons[c];
                    q.set(table[i][c].get_or_insert_with(|| empty(person)), *v);
                }
            }
        }
    }
    // Best paths, and shortest control chains: relaxed along the inside edges until stable.
    loop {
        let mut changed = false;
        for i in 0..k {
            for (j, h) in &inside[i] {
                let via = comp[*j];
                // Row j is read while row i (maybe the same row) is written: indices, not iterators.
                #[allow(clippy::needless_range_loop)]
                for c in 0..p {
                    let Some(up) = table[*j][c] else { continue };
                    let cand = up.through(via, h);
                    let s = table[i][c].get_or_insert_with(|| empty(up.person));
                    if cand.best_equity > s.best_equity {
                        (s.best_equity, s.hop_equity, s.len_equity) =
                            (cand.best_equity, via, cand.len_equity);
                        changed = true;
                    }
                    if cand.best_voting > s.best_voting {
                        (s.best_voting, s.hop_voting, s.len_voting) =
                            (cand.best_voting, via, cand.len_voting);
                        changed = true;
                    }
                    if cand.len_control > 0
                        && (s.len_control == 0 || cand.len_control < s.len_control)
                    {
                        (s.len_control, s.hop_control) = (cand.len_control, via);
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    let depth = depth_out + (k as u32 - 1);
    let above = union_sorted(above.into_iter());
    Some(
        comp.iter()
            .enumerate()
            .map(|(i, &v)| {
                let shares = table[i].iter().flatten().copied().filter(Share::counts);
                (
                    v,
                    Reach {
                        shares: shares.collect(),
                        depth,
                        above: above.iter().copied().filter(|&a| a != v).collect(),
                        circular: true,
                    },
                )
            })
            .collect(),
    )
}

/// Which of a holding's shares a sum is over.
#[derive(Clone, Copy)]
enum Quantity {
    Equity,
    Voting,
}

impl Quantity {
    fn of_holding(self, h: &Holding) -> f64 {
        match self {
            Quantity::Equity => h.equity,
            Quantity::Voting => h.voting,
        }
    }
    fn of_share(self, s: &Share) -> f64 {
        match self {
            Quantity::Equity => s.equity,
            Quantity::Voting => s.voting,
        }
    }
    fn set(self, s: &mut Share, x: f64) {
        match self {
            Quantity::Equity => s.equity = x,
            Quantity::Voting => s.voting = x,
        }
    }
}

fn empty(person: u32) -> Share {
    Share {
        person,
        equity: 0.0,
        voting: 0.0,
        best_equity: 0.0,
        hop_equity: NONE,
        len_equity: 0,
        best_voting: 0.0,
        hop_voting: NONE,
        len_voting: 0,
        len_control: 0,
        hop_control: NONE,
    }
}

/// Solves `x = r + A·x` for each right-hand side of `r` (`a[i]`: the (j, a_ij) of row i);
/// `None` when sweeps do not converge (a large cycle almost closed on itself).
fn solve_linear(a: &[Vec<(usize, f64)>], r: &[Vec<f64>], solver: Solver) -> Option<Vec<Vec<f64>>> {
    let k = a.len();
    if k <= solver.dense_max {
        if let Some(inv) = inverse(a) {
            return Some(
                r.iter()
                    .map(|rhs| {
                        (0..k)
                            .map(|i| (0..k).map(|j| inv[i * k + j] * rhs[j]).sum())
                            .collect()
                    })
                    .collect(),
            );
        }
    }
    let order = sweep_order(a, r);
    r.iter().map(|rhs| gauss_seidel(a, rhs, &order)).collect()
}

/// `(I − A)⁻¹` by Gauss–Jordan elimination with partial pivoting; `None` when singular (a
/// cycle owned wholly inside itself).
fn inverse(a: &[Vec<(usize, f64)>]) -> Option<Vec<f64>> {
    let k = a.len();
    let w = 2 * k;
    let mut m = vec![0.0f64; k * w];
    for (i, row) in a.iter().enumerate() {
        m[i * w + i] = 1.0;
        m[i * w + k + i] = 1.0;
        for (j, v) in row {
            m[i * w + j] -= v;
        }
    }
    for c in 0..k {
        let piv = (c..k).max_by(|x, y| m[x * w + c].abs().total_cmp(&m[y * w + c].abs()))?;
        if m[piv * w + c].abs() < 1e-12 {
            return None;
        }
        if piv != c {
            for t in 0..w {
                m.swap(c * w + t, piv * w + t);
            }
        }
        let d = m[c * w + c];
        for t in 0..w {
            m[c * w + t] /= d;
        }
        for i in 0..k {
            if i != c {
                let f = m[i * w + c];
                if f != 0.0 {
                    for t in 0..w {
                        m[i * w + t] -= f * m[c * w + t];
                    }
                }
            }
        }
    }
    Some(
        (0..k)
            .flat_map(|i| m[i * w + k..i * w + w].to_vec())
            .collect(),
    )
}

/// Sweeps of Gauss–Seidel allowed for one component, in entries of `A` visited: past it the
/// component is refused rather than answered approximately.
pub const SWEEP_WORK: usize = 2_000_000_000;

/// `x = r + A·x` by Gauss–Seidel sweeps from `x = r` until no value moves by 1e-15 (the least
/// solution: the sum over paths; a cycle owned wholly inside itself keeps what comes in).
/// Members are visited in `order` (holders before the entities they hold, from where shares
/// enter), so one sweep carries a share around a whole ring. `None`: not converged within
/// [`SWEEP_WORK`].
fn gauss_seidel(a: &[Vec<(usize, f64)>], r: &[f64], order: &[usize]) -> Option<Vec<f64>> {
    let mut x = r.to_vec();
    let entries: usize = a.iter().map(|row| row.len()).sum::<usize>().max(1);
    for _ in 0..(SWEEP_WORK / entries).max(1000) {
        let mut moved = 0.0f64;
        for &i in order {
            let v = r[i] + a[i].iter().map(|(j, w)| w * x[*j]).sum::<f64>();
            moved = moved.max((v - x[i]).abs());
            x[i] = v;
        }
        if moved < 1e-15 {
            return Some(x);
        }
    }
    None
}

/// The order of the sweeps: breadth first from the members shares enter (`r` non-zero in any
/// column), along "held by" reversed; members nothing reaches last.
fn sweep_order(a: &[Vec<(usize, f64)>], r: &[Vec<f64>]) -> Vec<usize> {
    let k = a.len();
    let mut held: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, row) in a.iter().enumerate() {
        for (j, _) in row {
            held[*j].push(i);
        }
    }
    let mut seen = vec![false; k];
    let mut order: Vec<usize> = (0..k)
        .filter(|&i| r.iter().any(|rhs| rhs[i] != 0.0))
        .collect();
    for &i in &order {
        seen[i] = true;
    }
    let mut at = 0;
    while at < order.len() {
        for &i in &held[order[at]] {
            if !seen[i] {
                seen[i] = true;
                order.push(i);
            }
        }
        at += 1;
    }
    order.extend((0..k).filter(|&i| !seen[i]));
    order
}

/// Why a person is a beneficial owner (L-BOI6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Basis {
    /// Effective equity at or above the threshold.
    Equity,
    /// Effective income or voting rights at or above the threshold.
    Voting,
    /// At the top of a chain of control.
    Control,
    /// The legal representative of a state-owned entity.
    StateOwned,
    /// No one qualifies: the person who runs its daily business (not an identification).
    Fallback,
}

impl Basis {
    /// As written in `beneficial_owners.parquet`.
    pub fn label(self) -> &'static str {
        match self {
            Basis::Equity => "equity",
            Basis::Voting => "voting",
            Basis::Control => "control",
            Basis::StateOwned => "state_owned_representative",
            Basis::Fallback => "fallback",
        }
    }
}

/// The labels of [`Basis`], in its order.
pub const BASES: [&str; 5] = [
    "equity",
    "voting",
    "control",
    "state_owned_representative",
    "fallback",
];

/// A beneficial owner of an entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Owner {
    /// The natural person.
    pub person: u32,
    /// Why.
    pub basis: Basis,
    /// Effective equity (0 for a fallback or a representative holding nothing).
    pub equity: f64,
    /// Effective income or voting rights.
    pub voting: f64,
    /// The nodes from the entity up to the person along the path that made the person a
    /// beneficial owner (the largest product of shares for equity and voting, the shortest chain
    /// for control).
    pub path: Vec<u32>,
}

/// What the entity's own record adds to the graph.
#[derive(Debug, Clone, Copy, Default)]
pub struct Roles<'a> {
    /// State-owned: its legal representatives are its beneficial owners.
    pub state_owned: bool,
    /// Its legal representatives.
    pub representatives: &'a [u32],
    /// The persons who run its daily business (the fallback).
    pub managers: &'a [u32],
}

/// Shares are compared with the threshold to this tolerance: a product of decimal shares such
/// as 0.6 × 0.5 is 0.3 only to the last bit.
pub const TOLERANCE: f64 = 1e-9;

/// Effective equity the state holds of an entity at which it counts as state-owned.
pub const STATE_MAJORITY: f64 = 0.5;

/// The beneficial owners of `entity` (L-BOI6): for a state-owned entity (by its own record, or
/// with more than half its effective equity held through state-owned entities) its legal
/// representatives; else every natural person whose effective equity or effective income or
/// voting rights reach `threshold`, or who heads a chain of control; failing all, the persons
/// who run its daily business (basis fallback). By person.
pub fn beneficial_owners(
    g: &Graph,
    reach: &[Reach],
    entity: u32,
    roles: Roles<'_>,
    threshold: f64,
) -> Vec<Owner> {
    let here = &reach[entity as usize];
    let named = |people: &[u32], basis: Basis| -> Vec<Owner> {
        let mut v: Vec<Owner> = people
            .iter()
            .map(|&p| {
                let s = here.of(p);
                Owner {
                    person: p,
                    basis,
                    equity: s.map_or(0.0, |s| s.equity),
                    voting: s.map_or(0.0, |s| s.voting),
                    path: vec![entity, p],
                }
            })
            .collect();
        v.sort_by_key(|o| o.person);
        v.dedup_by_key(|o| o.person);
        v
    };
    if is_state_owned(g, reach, entity, &roles) && !roles.representatives.is_empty() {
        return named(roles.representatives, Basis::StateOwned);
    }
    let mut out = Vec::new();
    for s in here
        .shares
        .iter()
        .filter(|s| g.kind(s.person) == Node::Person)
    {
        // At or above the threshold, allowing for rounding (relative, so a tiny threshold
        // does not make a share of 0 an owner).
        let reaches = |x: f64| x > 0.0 && x >= threshold * (1.0 - TOLERANCE);
        let basis = if reaches(s.equity) {
            Basis::Equity
        } else if reaches(s.voting) {
            Basis::Voting
        } else if s.len_control > 0 {
            Basis::Control
        } else {
            continue;
        };
        out.push(Owner {
            person: s.person,
            basis,
            equity: s.equity,
            voting: s.voting,
            path: path(reach, entity, s.person, basis),
        });
    }
    if out.is_empty() {
        return named(roles.managers, Basis::Fallback);
    }
    out
}

/// Whether `entity` is state-owned: so recorded, or the state's effective equity in it is a
/// majority. A state-owned entity's beneficial owner is its legal representative; without one
/// on file its owners are looked for as for any entity (and the fallback may follow).
pub fn is_state_owned(g: &Graph, reach: &[Reach], entity: u32, roles: &Roles<'_>) -> bool {
    let state: f64 = reach[entity as usize]
        .shares
        .iter()
        .filter(|s| g.kind(s.person) == Node::State)
        .map(|s| s.equity)
        .sum();
    roles.state_owned || state > STATE_MAJORITY + TOLERANCE
}

/// The nodes from `entity` up to `person` along the path of `basis`.
pub fn path(reach: &[Reach], entity: u32, person: u32, basis: Basis) -> Vec<u32> {
    let mut out = vec![entity];
    let mut at = entity;
    while at != person {
        let Some(s) = reach[at as usize].of(person) else {
            break;
        };
        let next = match basis {
            Basis::Equity => s.hop_equity,
            Basis::Voting => s.hop_voting,
            _ => s.hop_control,
        };
        if next == NONE || out.len() > u16::MAX as usize {
            break;
        }
        out.push(next);
        at = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(owner: u32, equity: f64) -> Holding {
        Holding {
            owner,
            equity,
            voting: equity,
            controls: false,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Nodes 0..entities are entities, the rest persons.
    fn graph(entities: usize, persons: usize, edges: Vec<(u32, Holding)>) -> Graph {
        let mut kind = vec![Node::Entity; entities];
        kind.extend(vec![Node::Person; persons]);
        Graph::new(kind, edges)
    }

    fn owners(g: &Graph, e: u32, roles: Roles<'_>) -> Vec<Owner> {
        beneficial_owners(g, &solve(g, Solver::default()).unwrap(), e, roles, 0.25)
    }

    #[test]
    fn l_boi6_a_chain_multiplies_shares_30_percent_is_an_owner_24_is_not() {
        // E(0) is held 60 % by X(1); X is held 50 % by P(2) and 40 % by Q(3).
        let g = graph(
            2,
            2,
            vec![(0, own(1, 0.6)), (1, own(2, 0.5)), (1, own(3, 0.4))],
        );
        let reach = solve(&g, Solver::default()).unwrap();
        let e = &reach[0];
        assert!(close(e.of(2).unwrap().equity, 0.30));
        assert!(close(e.of(3).unwrap().equity, 0.24));
        assert_eq!((e.depth, e.above.clone(), e.circular), (2, vec![1], false));
        let bo = owners(&g, 0, Roles::default());
        assert_eq!(bo.len(), 1);
        assert_eq!((bo[0].person, bo[0].basis), (2, Basis::Equity));
        assert_eq!(bo[0].path, vec![0, 1, 2]);
    }

    #[test]
    fn l_boi6_two_paths_add_up_15_plus_12_is_27_percent() {
        // P(2) holds 15 % of E(0) directly and 20 % of Y(1), which holds 60 % of E.
        let g = graph(
            2,
            1,
            vec![(0, own(2, 0.15)), (0, own(1, 0.6)), (1, own(2, 0.2))],
        );
        let bo = owners(&g, 0, Roles::default());
        assert_eq!(bo.len(), 1);
        assert!(close(bo[0].equity, 0.27));
        // The path that gave the most: held directly (15 % > 12 %).
        assert_eq!(bo[0].path, vec![0, 2]);
    }

    #[test]
    fn l_boi6_a_cycle_is_solved_in_closed_form() {
        // A(0) holds 50 % of B(1), B holds 20 % of A, P(2) holds 80 % of A:
        // a = 0.8 + 0.2·b, b = 0.5·a  →  a = 0.8 / 0.9, b = 0.4 / 0.9.
        let g = graph(
            2,
            1,
            vec![(1, own(0, 0.5)), (0, own(1, 0.2)), (0, own(2, 0.8))],
        );
        for solver in [Solver { dense_max: 400 }, Solver { dense_max: 0 }] {
            let reach = solve(&g, solver).unwrap();
            assert!(close(reach[0].of(2).unwrap().equity, 0.8 / 0.9));
            assert!(close(reach[1].of(2).unwrap().equity, 0.4 / 0.9));
            assert!(reach[0].circular && reach[1].circular);
            assert_eq!((reach[0].depth, reach[1].depth), (2, 2));
            assert_eq!(
                (reach[0].above.clone(), reach[1].above.clone()),
                (vec![1], vec![0])
            );
            // B's largest single path: B ← A ← P, 0.5 × 0.8.
            let p = reach[1].of(2).unwrap();
            assert!(close(p.best_equity, 0.4));
            assert_eq!(path(&reach, 1, 2, Basis::Equity), vec![1, 0, 2]);
        }
    }

    #[test]
    fn l_boi6_control_without_equity_makes_an_owner_along_a_controlling_chain() {
        // P(3) controls X(1) with 10 %; X controls E(0) with 5 %; Q(4) holds 10 % of Y(2),
        // which controls E without Q controlling Y.
        let ctl = |owner, equity| Holding {
            owner,
            equity,
            voting: equity,
            controls: true,
        };
        let g = graph(
            3,
            2,
            vec![
                (0, ctl(1, 0.05)),
                (1, ctl(3, 0.1)),
                (0, ctl(2, 0.05)),
                (2, own(4, 0.1)),
            ],
        );
        let bo = owners(&g, 0, Roles::default());
        assert_eq!(bo.len(), 1);
        assert_eq!((bo[0].person, bo[0].basis), (3, Basis::Control));
        assert!(close(bo[0].equity, 0.005));
        assert_eq!(bo[0].path, vec![0, 1, 3]);
    }

    #[test]
    fn l_boi6_voting_rights_alone_make_an_owner() {
        let h = Holding {
            owner: 1,
            equity: 0.1,
            voting: 0.3,
            controls: false,
        };
        let g = graph(1, 1, vec![(0, h)]);
        let bo = owners(&g, 0, Roles::default());
        assert_eq!((bo.len(), bo[0].basis), (1, Basis::Voting));
    }

    #[test]
    fn l_boi6_failing_all_the_manager_is_the_fallback() {
        // Ten persons with 10 % each; M(11) runs the business.
        let edges = (1..=10).map(|p| (0, own(p, 0.1))).collect();
        let g = graph(1, 11, edges);
        let managers = [11];
        let bo = owners(
            &g,
            0,
            Roles {
                managers: &managers,
                ..Roles::default()
            },
        );
        assert_eq!(bo.len(), 1);
        assert_eq!(
            (bo[0].person, bo[0].basis, bo[0].path.clone()),
            (11, Basis::Fallback, vec![0, 11])
        );
        // No manager either: no one.
        assert!(owners(&g, 0, Roles::default()).is_empty());
    }

    #[test]
    fn l_boi6_a_state_owned_entity_has_its_legal_representative() {
        // E(0) is held 60 % by the state-owned S(1), 40 % by P(2); R(3) represents it.
        let kind = vec![Node::Entity, Node::State, Node::Person, Node::Person];
        let g = Graph::new(kind, vec![(0, own(1, 0.6)), (0, own(2, 0.4))]);
        let reps = [3];
        let with_rep = Roles {
            representatives: &reps,
            ..Roles::default()
        };
        let bo = owners(&g, 0, with_rep);
        assert_eq!(
            (bo.len(), bo[0].person, bo[0].basis),
            (1, 3, Basis::StateOwned)
        );
        // Without a representative on file the persons' shares decide.
        let bo = owners(&g, 0, Roles::default());
        assert_eq!((bo.len(), bo[0].person, bo[0].basis), (1, 2, Basis::Equity));
        // State-owned by its own record: the representative, whatever it holds.
        let g = graph(1, 2, vec![(0, own(1, 0.9))]);
        let reps = [2];
        let bo = owners(
            &g,
            0,
            Roles {
                state_owned: true,
                representatives: &reps,
                ..Roles::default()
            },
        );
        assert_eq!(
            (bo.len(), bo[0].person, bo[0].basis),
            (1, 2, Basis::StateOwned)
        );
    }

    #[test]
    fn a_ring_is_solved_alike_by_inversion_and_by_sweeps() {
        // 60 entities in a ring, each holding 30 % of the next; person k+60 holds 50 % of k.
        let n = 60u32;
        let mut edges = Vec::new();
        for k in 0..n {
            edges.push(((k + 1) % n, own(k, 0.3)));
            edges.push((k, own(n + k, 0.5)));
        }
        let g = graph(n as usize, n as usize, edges);
        let dense = solve(&g, Solver { dense_max: 1000 }).unwrap();
        let sweeps = solve(&g, Solver { dense_max: 0 }).unwrap();
        for k in 0..n as usize {
            assert_eq!(dense[k].shares.len(), n as usize);
            for (a, b) in dense[k].shares.iter().zip(&sweeps[k].shares) {
                assert!(close(a.equity, b.equity), "{a:?} {b:?}");
            }
            // Own person: 0.5 / (1 − 0.3⁶⁰) ≈ 0.5.
            assert!(close(dense[k].of(n + k as u32).unwrap().equity, 0.5));
            assert_eq!(dense[k].depth, n + 1 - 1);
        }
    }

    #[test]
    fn a_ring_of_a_thousand_almost_closed_is_solved_exactly_or_refused() {
        // H0 … H999 in a ring: H(k) held wholly by H(k+1), H999 by H0, except H0, held 0.999 by
        // H1 and 0.001 by P: x = 0.001 + 0.999·x, so P holds all of every member (x = 1).
        let n = 1000u32;
        let p = n;
        let mut edges = vec![(0, own(1, 0.999)), (0, own(p, 0.001))];
        for k in 1..n {
            edges.push((k, own((k + 1) % n, 1.0)));
        }
        let g = graph(n as usize, 1, edges);
        for solver in [Solver { dense_max: 0 }, Solver { dense_max: 1000 }] {
            let reach = solve(&g, solver).unwrap();
            for k in [0usize, 1, 500, 999] {
                let x = reach[k].of(p).unwrap().equity;
                assert!((x - 1.0).abs() < 1e-9, "{solver:?} H{k}: {x}");
            }
        }
        // Held 1e-12 from outside: sweeps cannot reach 1e-15 in time; refused, not guessed.
        let mut edges = vec![(0, own(1, 1.0 - 1e-12)), (0, own(p, 1e-12))];
        for k in 1..n {
            edges.push((k, own((k + 1) % n, 1.0)));
        }
        let g = graph(n as usize, 1, edges);
        assert_eq!(
            solve(&g, Solver { dense_max: 0 })
                .map(|_| ())
                .unwrap_err()
                .len(),
            1000
        );
    }

    #[test]
    fn a_cycle_owned_wholly_inside_itself_passes_nothing_on() {
        // A(0) and B(1) hold all of each other; C(2) is held 50 % by A and 50 % by P(3).
        let g = graph(
            3,
            1,
            vec![
                (0, own(1, 1.0)),
                (1, own(0, 1.0)),
                (2, own(0, 0.5)),
                (2, own(3, 0.5)),
            ],
        );
        let reach = solve(&g, Solver::default()).unwrap();
        assert!(reach[0].shares.is_empty());
        assert_eq!(reach[2].shares.len(), 1);
        assert!(close(reach[2].of(3).unwrap().equity, 0.5));
        assert!(reach[2].circular);
    }
}
