//! Where each object of a state was (last) declared: keys such as `table auth.users` or
//! `table auth.users policy p`, each with its YAML position.
//!
//! A project of thousands of tables has a declaration for every table, column, policy and
//! constraint, and every state of the project needs all of them. Instead of each state
//! holding its own copy, a state holds the declarations of the layers before it as shared,
//! frozen maps (one per layer) plus its own: copying a state (`clone`, which is how the next
//! layer starts) freezes what the copied state declared and shares it. A lookup reads the
//! newest declaration first.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use foldhash::fast::FixedState;

use crate::diagnostic::Span;

/// Declarations by key. Hashed, not ordered: keys of one table share a long prefix
/// (`table auth.users ...`), which an ordered map compares again at every level, and only
/// equality and `Debug` want them in order ([`Origins::flattened`] sorts them).
type Declarations = HashMap<String, Span, FixedState>;

#[derive(Default)]
pub struct Origins {
    /// Declarations of earlier copies, oldest first, shared with the states they came from.
    frozen: Vec<Arc<Declarations>>,
    /// Declarations made since this state was copied.
    own: Arc<Declarations>,
}

impl Origins {
    pub fn get(&self, key: &str) -> Option<&Span> {
        self.own
            .get(key)
            .or_else(|| self.frozen.iter().rev().find_map(|m| m.get(key)))
    }

    pub fn insert(&mut self, key: String, span: Span) {
        Arc::make_mut(&mut self.own).insert(key, span);
    }

    /// Every key with its newest declaration.
    fn flattened(&self) -> BTreeMap<&str, &Span> {
        let mut out = BTreeMap::new();
        for m in self.frozen.iter().chain(std::iter::once(&self.own)) {
            for (k, v) in m.iter() {
                out.insert(k.as_str(), v);
            }
        }
        out
    }
}

impl Clone for Origins {
    fn clone(&self) -> Origins {
        let mut frozen = self.frozen.clone();
        if !self.own.is_empty() {
            frozen.push(Arc::clone(&self.own));
        }
        Origins {
            frozen,
            own: Arc::default(),
        }
    }
}

impl PartialEq for Origins {
    fn eq(&self, other: &Origins) -> bool {
        self.flattened() == other.flattened()
    }
}

impl fmt::Debug for Origins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.flattened()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u64) -> Span {
        Span {
            file: "specs/x.yaml".into(),
            line,
            col: 1,
        }
    }

    #[test]
    fn copies_share_earlier_declarations_and_see_the_newest() {
        let mut a = Origins::default();
        a.insert("table s.t".into(), at(1));
        let mut b = a.clone();
        assert_eq!(b.get("table s.t"), Some(&at(1)));
        b.insert("table s.t".into(), at(7));
        b.insert("table s.u".into(), at(9));
        assert_eq!(
            b.get("table s.t"),
            Some(&at(7)),
            "the newest declaration wins"
        );
        assert_eq!(
            a.get("table s.t"),
            Some(&at(1)),
            "the copied state is unchanged"
        );
        assert_eq!(a.get("table s.u"), None);
        let c = b.clone();
        assert_eq!(c.frozen.len(), 2, "one frozen map per copied layer");
        assert_eq!(c.get("table s.t"), Some(&at(7)));
        assert_eq!(c, b);
        assert_ne!(a, b);
        // Copying a state that declared nothing adds no level.
        assert_eq!(c.clone().frozen.len(), 2);
    }
}
