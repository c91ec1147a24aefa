//! The `jsonb` value: parsed, with object keys deduplicated (last wins) and
//! sorted in jsonb order (shorter keys first, then bytewise), as PostgreSQL
//! stores it.

use std::cmp::Ordering;

use rust_decimal::Decimal;

/// A decomposed jsonb document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Jsonb {
    Null,
    Bool(bool),
    Number(Decimal),
    String(String),
    Array(Vec<Jsonb>),
    /// Keys unique and sorted by [`jsonb_key_cmp`].
    Object(Vec<(String, Jsonb)>),
}

/// jsonb's key order: by length, then bytewise.
pub fn jsonb_key_cmp(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

impl Jsonb {
    /// Rank of the kind in PostgreSQL's jsonb btree order:
    /// Object > Array > Boolean > Number > String > Null.
    fn rank(&self) -> u8 {
        match self {
            Jsonb::Null => 0,
            Jsonb::String(_) => 1,
            Jsonb::Number(_) => 2,
            Jsonb::Bool(_) => 3,
            Jsonb::Array(_) => 4,
            Jsonb::Object(_) => 5,
        }
    }
}

impl PartialOrd for Jsonb {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Jsonb {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Jsonb::Null, Jsonb::Null) => Ordering::Equal,
            (Jsonb::String(a), Jsonb::String(b)) => a.cmp(b),
            (Jsonb::Number(a), Jsonb::Number(b)) => a.cmp(b),
            (Jsonb::Bool(a), Jsonb::Bool(b)) => a.cmp(b),
            // Larger containers sort after smaller ones, then element-wise.
            (Jsonb::Array(a), Jsonb::Array(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Jsonb::Object(a), Jsonb::Object(b)) => a.len().cmp(&b.len()).then_with(|| {
                for ((ka, va), (kb, vb)) in a.iter().zip(b.iter()) {
                    let ord = jsonb_key_cmp(ka, kb).then_with(|| va.cmp(vb));
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                Ordering::Equal
            }),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}
