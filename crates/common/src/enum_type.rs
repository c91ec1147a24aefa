//! User-defined enum types (`CREATE TYPE mood AS ENUM ('sad', 'ok')`):
//! what a value of such a type needs to be read, printed and ordered.
//!
//! # Representation (decision)
//!
//! PostgreSQL stores an enum value as the OID of its `pg_enum` row and
//! compares two values by looking up their `enumsortorder`. Freshet's
//! [`Datum`]s are ordered without any catalog (sorting, grouping, the
//! dataflow arrangements and the storage encoding all use `Datum`'s own
//! `Ord`), so an enum value is stored as its label's **sort order**:
//! `Datum::Enum(F32)` holding `pg_enum.enumsortorder`. Sort orders are
//! unique within a type and never change when labels are added or
//! renamed, so the derived order of datums is the declared order of the
//! labels, and `ALTER TYPE ... ADD VALUE`/`RENAME VALUE` rewrite no rows.
//! The one exception is PostgreSQL's renumbering: when a label is added
//! between two whose sort orders have no float4 between them, every label
//! gets a new sort order (1, 2, 3, ...) and the stored values of the type
//! are rewritten (by the session layer, in the same transaction).
//!
//! The labels live in the type: [`DataType::Enum`](crate::DataType)
//! carries an [`EnumType`], a shared copy of the type's catalog entry, so
//! text and binary I/O and casts work wherever a `DataType` is at hand
//! (the wire protocol, COPY, casts in expressions) without a catalog.
//! The price: the catalog must replace that copy in every column that
//! stores the type when the type changes (see the session's catalog), and
//! a plan bound before the change keeps the old copy (materialized views
//! are re-installed; see the session's views).
//!
//! Two `EnumType`s are the same type when their OIDs are equal, whatever
//! version of the labels they carry: equality, ordering and hashing look
//! at the OID only.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ident::quote_ident;
use crate::{Datum, Error, Result, SqlState, F32};

/// The longest label PostgreSQL accepts, in bytes (`NAMEDATALEN - 1`).
pub const LABEL_BYTES_MAX: usize = 63;

/// One label of an enum type: a `pg_enum` row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnumLabel {
    /// `pg_enum.oid`.
    pub oid: u32,
    /// `pg_enum.enumsortorder`; also the value's stored form.
    pub sort_order: f32,
    /// `pg_enum.enumlabel`.
    pub label: String,
    /// Added by `ALTER TYPE ... ADD VALUE` in a transaction still open:
    /// PostgreSQL 15 refuses to use such a value until the transaction
    /// commits (55P04), even in a type the transaction created. Cleared
    /// when the transaction commits, so it is never stored.
    #[serde(default, skip_serializing)]
    pub uncommitted: bool,
}

/// The definition of an enum type, as the catalog records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnumTypeDef {
    /// `pg_type.oid` of the type.
    pub oid: u32,
    /// `pg_type.oid` of its array type (`_mood`).
    pub array_oid: u32,
    /// The schema the type lives in.
    pub schema: String,
    /// `pg_type.typname`.
    pub name: String,
    /// The labels in ascending sort order, distinct by label and by sort
    /// order (checked by [`EnumType::new`]).
    pub labels: Vec<EnumLabel>,
}

/// An enum type as values need it: a cheaply cloned, shared
/// [`EnumTypeDef`]. Compared, ordered and hashed by OID.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "EnumTypeDef", into = "EnumTypeDef")]
pub struct EnumType(Arc<EnumTypeDef>);

impl EnumType {
    /// Wraps a definition after checking its invariants (labels sorted by
    /// strictly increasing finite sort order, no label twice); 22023
    /// otherwise. A definition read back from storage goes through here too.
    pub fn new(def: EnumTypeDef) -> Result<EnumType> {
        let sorted = def
            .labels
            .windows(2)
            .all(|w| w[0].sort_order < w[1].sort_order);
        let finite = def.labels.iter().all(|l| l.sort_order.is_finite());
        let mut names: Vec<&str> = def.labels.iter().map(|l| l.label.as_str()).collect();
        names.sort_unstable();
        let distinct = names.windows(2).all(|w| w[0] != w[1]);
        if !(sorted && finite && distinct) {
            return Err(Error::new(
                SqlState::InvalidParameterValue,
                format!("enum type \"{}\" has inconsistent labels", def.name),
            ));
        }
        Ok(EnumType(Arc::new(def)))
    }

    /// The definition.
    pub fn def(&self) -> &EnumTypeDef {
        &self.0
    }

    /// `pg_type.oid`.
    pub fn oid(&self) -> u32 {
        self.0.oid
    }

    /// The OID of the array type.
    pub fn array_oid(&self) -> u32 {
        self.0.array_oid
    }

    /// The type's name (`pg_type.typname`), unquoted.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The schema the type lives in.
    pub fn schema(&self) -> &str {
        &self.0.schema
    }

    /// The labels in sort order.
    pub fn labels(&self) -> &[EnumLabel] {
        &self.0.labels
    }

    /// The name as PostgreSQL prints it in messages: quoted when needed.
    /// (`format_type` also qualifies it with its schema when the type is
    /// not visible on the search path; that needs the session, see
    /// `freshet_expr::catalog_func::format_type`.)
    pub fn display_name(&self) -> String {
        quote_ident(&self.0.name)
    }

    /// The value with this label; 22P02 `invalid input value for enum
    /// mood: "x"` (PostgreSQL's `enum_in`) when there is none, 55P04 when
    /// the label was added by a transaction that has not committed.
    pub fn parse(&self, input: &str) -> Result<Datum> {
        let label = self.0.labels.iter().find(|l| l.label == input).ok_or_else(|| {
            Error::new(
                SqlState::InvalidTextRepresentation,
                format!("invalid input value for enum {}: \"{input}\"", self.display_name()),
            )
        })?;
        self.check_committed(label)?;
        Ok(Datum::Enum(F32(label.sort_order)))
    }

    /// 55P04 for a label whose transaction has not committed
    /// (PostgreSQL's `check_safe_enum_use`).
    pub fn check_committed(&self, label: &EnumLabel) -> Result<()> {
        if label.uncommitted {
            return Err(Error::new(
                SqlState::UnsafeNewEnumValueUsage,
                format!("unsafe use of new value \"{}\" of enum type {}", label.label, self.display_name()),
            )
            .with_hint("New enum values must be committed before they can be used."));
        }
        Ok(())
    }

    /// Whether a label of the type was added by an open transaction.
    pub fn has_uncommitted(&self) -> bool {
        self.0.labels.iter().any(|l| l.uncommitted)
    }

    /// The same type with every label committed.
    pub fn committed(&self) -> EnumType {
        let mut def = self.def().clone();
        for l in &mut def.labels {
            l.uncommitted = false;
        }
        EnumType(Arc::new(def))
    }

    /// The value with this label, if the type has it.
    pub fn value_of(&self, label: &str) -> Option<Datum> {
        self.0
            .labels
            .iter()
            .find(|l| l.label == label)
            .map(|l| Datum::Enum(F32(l.sort_order)))
    }

    /// The label of a value of this type; `None` when the sort order is not
    /// one of the type's (a value of another type or of an older version).
    pub fn label_of(&self, sort_order: F32) -> Option<&str> {
        self.0
            .labels
            .binary_search_by(|l| F32(l.sort_order).cmp(&sort_order))
            .ok()
            .map(|i| self.0.labels[i].label.as_str())
    }

    /// The value of the label at `position` in sort order.
    pub fn value_at(&self, position: usize) -> Option<Datum> {
        self.0.labels.get(position).map(|l| Datum::Enum(F32(l.sort_order)))
    }

    /// Every value of the type, in order (`enum_range(NULL::mood)`).
    pub fn values(&self) -> Vec<Datum> {
        self.0
            .labels
            .iter()
            .map(|l| Datum::Enum(F32(l.sort_order)))
            .collect()
    }
}

impl TryFrom<EnumTypeDef> for EnumType {
    type Error = Error;

    fn try_from(def: EnumTypeDef) -> Result<EnumType> {
        EnumType::new(def)
    }
}

impl From<EnumType> for EnumTypeDef {
    fn from(t: EnumType) -> EnumTypeDef {
        t.0.as_ref().clone()
    }
}

impl PartialEq for EnumType {
    fn eq(&self, other: &Self) -> bool {
        self.0.oid == other.0.oid
    }
}

impl Eq for EnumType {}

impl PartialOrd for EnumType {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EnumType {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.oid.cmp(&other.0.oid)
    }
}

impl Hash for EnumType {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.oid.hash(state)
    }
}

impl fmt::Debug for EnumType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enum {}({})", self.0.name, self.0.oid)
    }
}

/// 42602 `invalid enum label` unless `label` fits PostgreSQL's limit
/// (63 bytes; an empty label is allowed).
pub fn check_label(label: &str) -> Result<()> {
    if label.len() > LABEL_BYTES_MAX {
        return Err(Error::new(SqlState::InvalidName, format!("invalid enum label \"{label}\""))
            .with_detail(format!("Labels must be {LABEL_BYTES_MAX} bytes or less.")));
    }
    Ok(())
}

/// Where `ALTER TYPE ... ADD VALUE` puts a new label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement<'a> {
    /// At the end (no BEFORE/AFTER).
    Last,
    /// Right before the label given.
    Before(&'a str),
    /// Right after the label given.
    After(&'a str),
}

/// The outcome of placing a new label.
#[derive(Clone, Debug, PartialEq)]
pub enum NewSortOrder {
    /// The new label's sort order; no other label changes.
    At(f32),
    /// The existing labels had to be renumbered first (PostgreSQL's
    /// `RenumberEnumType`: label `i` in order gets `i + 1`); the new
    /// label's sort order over the renumbered labels.
    Renumbered { new_orders: Vec<f32>, at: f32 },
}

/// Chooses the sort order of a label added at `placement`, exactly as
/// PostgreSQL 15's `AddEnumLabel` does: one more than the last label at
/// the end (1 for an empty type), one less/more than the neighbour at
/// either end, else the float4 midpoint between the neighbours; when the
/// midpoint equals a neighbour (float4 precision ran out), the labels are
/// renumbered 1..n and the midpoint taken again. `labels` are in sort
/// order. 22023 `"x" is not an existing enum label` for a missing
/// neighbour.
pub fn place_label(labels: &[EnumLabel], placement: Placement<'_>) -> Result<NewSortOrder> {
    let (neighbour, after) = match placement {
        Placement::Last => {
            return Ok(NewSortOrder::At(labels.last().map(|l| l.sort_order + 1.0).unwrap_or(1.0)));
        }
        Placement::Before(n) => (n, false),
        Placement::After(n) => (n, true),
    };
    let index = labels.iter().position(|l| l.label == neighbour).ok_or_else(|| {
        Error::new(
            SqlState::InvalidParameterValue,
            format!("\"{neighbour}\" is not an existing enum label"),
        )
    })?;
    let orders: Vec<f32> = labels.iter().map(|l| l.sort_order).collect();
    match between(&orders, index, after) {
        Some(at) => Ok(NewSortOrder::At(at)),
        None => {
            let renumbered: Vec<f32> = (1..=orders.len()).map(|i| i as f32).collect();
            // Over 1..n there is room (i + 0.5) until float4 cannot hold
            // halves, past 2^23 labels, where PostgreSQL would loop.
            let at = between(&renumbered, index, after).ok_or_else(|| {
                Error::new(
                    SqlState::ProgramLimitExceeded,
                    format!("enum type has too many labels ({}) to add one between two of them", orders.len()),
                )
            })?;
            Ok(NewSortOrder::Renumbered { new_orders: renumbered, at })
        }
    }
}

/// The sort order next to `orders[index]` (after it when `after`), or
/// `None` when the float4 midpoint with the other neighbour is not
/// strictly between them.
fn between(orders: &[f32], index: usize, after: bool) -> Option<f32> {
    let here = orders[index];
    let other = if after { orders.get(index + 1) } else { index.checked_sub(1).and_then(|i| orders.get(i)) };
    match other {
        None if after => Some(here + 1.0),
        None => Some(here - 1.0),
        Some(&other) => {
            // The sum of two float4s is exact in f64; rounding its half to
            // float4 once is what C's float arithmetic gives.
            let midpoint = ((here as f64 + other as f64) / 2.0) as f32;
            (midpoint != here && midpoint != other).then_some(midpoint)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(orders: &[f32]) -> Vec<EnumLabel> {
        orders
            .iter()
            .enumerate()
            .map(|(i, o)| EnumLabel { oid: i as u32, sort_order: *o, label: format!("l{i}"), uncommitted: false })
            .collect()
    }

    fn mood() -> EnumType {
        EnumType::new(EnumTypeDef {
            oid: 16400,
            array_oid: 16399,
            schema: "public".into(),
            name: "mood".into(),
            labels: vec![
                EnumLabel { oid: 1, sort_order: 1.0, label: "sad".into(), uncommitted: false },
                EnumLabel { oid: 2, sort_order: 1.5, label: "meh".into(), uncommitted: false },
                EnumLabel { oid: 3, sort_order: 2.0, label: "happy".into(), uncommitted: false },
            ],
        })
        .expect("valid definition")
    }

    #[test]
    fn values_order_by_declared_order() {
        let t = mood();
        let (sad, meh, happy) = (t.parse("sad").unwrap(), t.parse("meh").unwrap(), t.parse("happy").unwrap());
        assert!(sad < meh && meh < happy);
        assert_eq!(t.label_of(F32(1.5)), Some("meh"));
        assert_eq!(t.label_of(F32(7.0)), None);
        let e = t.parse("x").unwrap_err();
        assert_eq!(e.state, SqlState::InvalidTextRepresentation);
        assert_eq!(e.message, "invalid input value for enum mood: \"x\"");
    }

    #[test]
    fn inconsistent_definitions_are_refused() {
        let mut def = mood().def().clone();
        def.labels.swap(0, 1);
        assert!(EnumType::new(def).is_err());
        let mut def = mood().def().clone();
        def.labels[1].label = "sad".into();
        assert!(EnumType::new(def).is_err());
    }

    #[test]
    fn placement_follows_postgres() {
        assert_eq!(place_label(&[], Placement::Last).unwrap(), NewSortOrder::At(1.0));
        let l = labels(&[1.0, 2.0, 3.0]);
        assert_eq!(place_label(&l, Placement::Last).unwrap(), NewSortOrder::At(4.0));
        assert_eq!(place_label(&l, Placement::Before("l0")).unwrap(), NewSortOrder::At(0.0));
        assert_eq!(place_label(&l, Placement::After("l2")).unwrap(), NewSortOrder::At(4.0));
        assert_eq!(place_label(&l, Placement::After("l0")).unwrap(), NewSortOrder::At(1.5));
        assert_eq!(place_label(&l, Placement::Before("l2")).unwrap(), NewSortOrder::At(2.5));
        assert!(place_label(&l, Placement::Before("nope")).is_err());
    }

    #[test]
    fn exhausted_precision_renumbers() {
        // Repeatedly inserting right after the first label halves the gap
        // until float4 runs out, then PostgreSQL renumbers.
        let mut l = labels(&[1.0, 2.0]);
        let mut renumbered = false;
        for i in 0..40 {
            match place_label(&l, Placement::After("l0")).unwrap() {
                NewSortOrder::At(at) => {
                    l.insert(1, EnumLabel { oid: 100 + i, sort_order: at, label: format!("n{i}"), uncommitted: false });
                }
                NewSortOrder::Renumbered { new_orders, at } => {
                    for (label, o) in l.iter_mut().zip(&new_orders) {
                        label.sort_order = *o;
                    }
                    assert_eq!(at, 1.5);
                    renumbered = true;
                    break;
                }
            }
        }
        assert!(renumbered);
    }
}
