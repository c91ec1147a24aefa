//! Query execution.
//!
//! This crate owns running `freshet-expr` plans, two ways that share the
//! expression library and so its semantics:
//! - the batch executor ([`batch::Executor`]) evaluates a plan once over a
//!   consistent snapshot supplied through [`batch::DataSource`] (ad-hoc
//!   queries, DML);
//! - the dataflow renderer ([`dataflow::Compute`]) turns a plan into a
//!   timely + differential dataflow that maintains its result as tables
//!   change (materialized views).
//!
//! Most important types: [`batch::Executor`], [`dataflow::Compute`] and
//! [`batch::DataSource`].
//!
//! It does not own data, transactions or the catalog (`freshet-session`),
//! nor planning (`freshet-sql`).

pub mod batch;
pub mod dataflow;
mod join;
mod sort;

pub use batch::{DataSource, Executor};
