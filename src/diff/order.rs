//! Order: the two graphs of a diff numbered as one, and the dependency sort over them.
//!
//! Every object of either graph gets a number, in identity order (the order of the graphs'
//! maps), and each node's parents, dependencies and run-time references become numbers of
//! objects in the same graph. The differ keeps its statuses in a vector by number, and the
//! sort breaks ties by number, which is identity order: the result is what sorting by
//! identity gives, without comparing identities again and again.

use std::cell::Cell;
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use foldhash::fast::FixedState;

use super::graph::{Graph, Node, Object, ObjectId};
use crate::catalog::QName;

/// A node's edges, as numbers of objects of the node's own graph.
#[derive(Clone, Copy)]
pub(super) struct Edges<'s> {
    pub parents: &'s [usize],
    pub deps: &'s [usize],
    /// Run-time references (`Node::after`).
    pub after: &'s [usize],
}

/// One graph of the two, by number.
pub(super) struct Side<'g> {
    pub nodes: Vec<Option<&'g Node<'g>>>,
    /// The edges of every node, one node after the other, each node's parents, deps and
    /// run-time references in turn: two allocations for a side, not three for each node.
    flat: Vec<usize>,
    /// Where each node's parents, deps and run-time references end in `flat` (a node's
    /// parents start where the node before it ends).
    ends: Vec<[u32; 3]>,
}

impl<'g> Side<'g> {
    /// The node numbered `i` (which must be in this graph).
    pub fn node(&self, i: usize) -> &'g Node<'g> {
        self.nodes[i].expect("a node of this graph")
    }

    /// The edges of the node numbered `i` (none when it is not in this graph).
    pub fn edges(&self, i: usize) -> Edges<'_> {
        let start = i.checked_sub(1).map_or(0, |b| self.ends[b][2] as usize);
        let [p, d, a] = self.ends[i].map(|e| e as usize);
        Edges {
            parents: &self.flat[start..p],
            deps: &self.flat[p..d],
            after: &self.flat[d..a],
        }
    }
}

/// The objects of both graphs, numbered in identity order.
pub(super) struct Index<'g> {
    pub ids: Vec<&'g ObjectId<'g>>,
    pub prev: Side<'g>,
    pub next: Side<'g>,
}

impl<'g> Index<'g> {
    pub fn new(prev: &'g Graph<'g>, next: &'g Graph<'g>) -> Index<'g> {
        let mut ids: Vec<&ObjectId> = Vec::with_capacity(prev.len().max(next.len()));
        // Both graphs are in identity order: merged, each object's number is where it lands.
        let mut prev_nodes: Vec<Option<&Node<'g>>> = Vec::with_capacity(ids.capacity());
        let mut next_nodes: Vec<Option<&Node<'g>>> = Vec::with_capacity(ids.capacity());
        let (mut a, mut b) = (prev.iter().peekable(), next.iter().peekable());
        loop {
            let order = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(x), Some(y)) => x.0.cmp(y.0),
            };
            let (id, p, n) = match order {
                Ordering::Less => {
                    let (id, p) = a.next().expect("peeked");
                    (id, Some(p), None)
                }
                Ordering::Equal => {
                    let (id, p) = a.next().expect("peeked");
                    (id, Some(p), b.next().map(|(_, n)| n))
                }
                Ordering::Greater => {
                    let (id, n) = b.next().expect("peeked");
                    (id, None, Some(n))
                }
            };
            ids.push(id);
            prev_nodes.push(p);
            next_nodes.push(n);
        }
        // What nodes refer to are whole objects (roles, schemas, types, tables, functions):
        // those are hashed (a fast hash: the identities are schemac's own, and the map lives
        // for one diff). Parts (of tables, grants, comments), most of the objects, are found
        // by halving the numbers of the parts, should anything refer to one.
        let parts = ids.partition_point(|id| id.kind() < ObjectId::FIRST_PART);
        let numbers: HashMap<&ObjectId, usize, FixedState> = ids[..parts]
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i))
            .collect();
        let numbered = |d: &ObjectId<'g>| -> Option<usize> {
            if d.kind() < ObjectId::FIRST_PART {
                return numbers.get(d).copied();
            }
            ids[parts..]
                .binary_search_by(|id| (*id).cmp(d))
                .ok()
                .map(|i| parts + i)
        };
        let side = |nodes: Vec<Option<&'g Node<'g>>>| {
            // The parts of a table follow each other in their graph and all name it as their
            // parent, by one reference: the last table looked up is remembered by address
            // (the same address is the same name).
            let last_table: Cell<Option<(&'g QName, Option<usize>)>> = Cell::new(None);
            let number = |d: &ObjectId<'g>| -> Option<usize> {
                let ObjectId::Table(q) = d else {
                    return numbered(d);
                };
                match last_table.get() {
                    Some((t, n)) if std::ptr::eq(t, *q) => n,
                    _ => {
                        let n = numbered(d);
                        last_table.set(Some((q, n)));
                        n
                    }
                }
            };
            // Only objects of this graph: the others have no status on this side, and the
            // sort of this graph cannot wait for them.
            let mut flat: Vec<usize> = Vec::with_capacity(2 * nodes.len());
            let mut resolve = |list: &[ObjectId<'g>]| -> u32 {
                flat.extend(
                    list.iter()
                        .filter_map(number)
                        .filter(|&d| nodes[d].is_some()),
                );
                u32::try_from(flat.len()).expect("fewer than 2^32 edges")
            };
            let ends = nodes
                .iter()
                .map(|n| match n {
                    Some(node) => [
                        resolve(&node.parents),
                        resolve(&node.deps),
                        resolve(&node.after),
                    ],
                    None => [resolve(&[]); 3],
                })
                .collect();
            Side { nodes, flat, ends }
        };
        let prev = side(prev_nodes);
        let next = side(next_nodes);
        Index { ids, prev, next }
    }

    /// The numbering of the diff the other way (`next` to `prev`): the same numbers, the
    /// sides swapped, since both graphs are merged alike whichever comes first.
    pub fn mirrored(self) -> Index<'g> {
        Index {
            ids: self.ids,
            prev: self.next,
            next: self.prev,
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }
}

/// Topological order of the members of `side` for which `subset` holds: each object after
/// what it needs, ties in identity order. For drop order (`for_drop`), an object also waits
/// for what its children need (a table is dropped, taking its policies along, before the
/// function a policy calls), and run-time-only references (`after`) are ignored, since
/// PostgreSQL lets either side go first; only rows keep them (referencing rows are deleted
/// before the rows they reference). Creation order also follows dependencies through what
/// does not change: a policy re-created on an unchanged table whose enum is rebuilt waits
/// for the rebuild. On a cycle, the members left unordered.
pub(super) fn topo_order(
    side: &Side<'_>,
    subset: &[bool],
    for_drop: bool,
) -> Result<Vec<usize>, Vec<usize>> {
    let n = subset.len();
    let soft = |i: usize| -> &[usize] {
        if for_drop && !matches!(side.node(i).object, Object::Rows(_)) {
            &[]
        } else {
            side.edges(i).after
        }
    };
    let members: Vec<usize> = (0..n).filter(|&i| subset[i]).collect();
    let mut needs: Vec<Vec<usize>> = vec![Vec::new(); n];
    // Objects already visited by the walk from the member being looked at.
    let mut seen: Vec<usize> = vec![usize::MAX; n];
    let mut stack: Vec<usize> = Vec::new();
    for &id in &members {
        let e = side.edges(id);
        for &k in e.parents.iter().chain(e.deps).chain(soft(id)) {
            if subset[k] && k != id {
                needs[id].push(k);
            }
        }
        if !for_drop {
            stack.extend(e.parents.iter().chain(e.deps).filter(|&&k| !subset[k]));
            while let Some(k) = stack.pop() {
                if seen[k] == id {
                    continue;
                }
                seen[k] = id;
                let ek = side.edges(k);
                for &d in ek.parents.iter().chain(ek.deps) {
                    if subset[d] {
                        if d != id {
                            needs[id].push(d);
                        }
                    } else {
                        stack.push(d);
                    }
                }
            }
        } else {
            for &pk in e.parents {
                if !subset[pk] {
                    continue;
                }
                for &k in e.deps.iter().chain(soft(id)) {
                    if subset[k] && k != pk && !side.edges(k).parents.contains(&pk) {
                        needs[pk].push(k);
                    }
                }
            }
        }
    }
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut remaining: Vec<usize> = vec![0; n];
    for &id in &members {
        let ns = &mut needs[id];
        ns.sort_unstable();
        ns.dedup();
        remaining[id] = ns.len();
        for &k in ns.iter() {
            dependents[k].push(id);
        }
    }
    // The lowest number first; each member becomes ready once.
    let mut ready: BinaryHeap<Reverse<usize>> = members
        .iter()
        .copied()
        .filter(|&i| remaining[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(members.len());
    while let Some(Reverse(id)) = ready.pop() {
        order.push(id);
        for &d in &dependents[id] {
            remaining[d] -= 1;
            if remaining[d] == 0 {
                ready.push(Reverse(d));
            }
        }
    }
    if order.len() == members.len() {
        Ok(order)
    } else {
        // Those left waiting: in a cycle, or behind one.
        Err(members.into_iter().filter(|&i| remaining[i] != 0).collect())
    }
}

/// `roots` and, transitively, what they need that is dropped too (their parents and
/// dependencies, and for a parent what its children need): all of it is dropped after them.
pub(super) fn closure(side: &Side<'_>, dropping: &[bool], roots: &BTreeSet<usize>) -> Vec<bool> {
    let n = dropping.len();
    let mut out = vec![false; n];
    if roots.is_empty() {
        return out;
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for &p in side.edges(i).parents {
            children[p].push(i);
        }
    }
    let mut stack: Vec<usize> = roots.iter().copied().collect();
    while let Some(id) = stack.pop() {
        if out[id] {
            continue;
        }
        out[id] = true;
        let e = side.edges(id);
        stack.extend(e.parents.iter().chain(e.deps).filter(|&&d| dropping[d]));
        // Children of a deferred parent stay until it goes, and so does what they need.
        for &child in &children[id] {
            stack.extend(side.edges(child).deps.iter().filter(|&&d| dropping[d]));
        }
    }
    out
}
