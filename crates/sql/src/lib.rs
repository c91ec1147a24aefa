//! The SQL frontend: parsing, name resolution, typing and planning.
//!
//! This crate owns the translation from SQL text to a [`Plan`]: it parses
//! with `sqlparser` (PostgreSQL dialect), resolves names against a
//! [`Catalog`] supplied by the caller, infers and coerces types with
//! PostgreSQL's rules, and emits `freshet-expr` relational plans for
//! queries plus statement-level plans for DML, DDL and session commands.
//!
//! It does not execute anything, hold state or touch storage: the session
//! layer supplies the catalog and executes the plan.
//!
//! Most important types: [`Plan`], [`Binder`] and the [`Catalog`] trait.

pub mod bind;
pub mod catalog;
pub mod names;
pub mod optimize;
pub mod parse;
pub mod plan;
pub mod streaming;
pub mod typing;

pub use bind::Binder;
pub use catalog::{Catalog, ColumnInfo, RelationInfo, RelationKind};
pub use parse::{parse_commands, parse_statements, Command, Statement};
pub use plan::Plan;
