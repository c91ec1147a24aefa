//! Query execution.
//!
//! This crate owns running `freshet-expr` plans. Today that is the batch
//! executor ([`batch::Executor`]), which evaluates a plan over a consistent
//! snapshot supplied by the caller through [`batch::DataSource`]; the
//! incrementally maintained dataflow rendering of the same plans (timely +
//! differential) will live beside it, sharing the expression library.
//!
//! It does not own data, transactions or the catalog (`freshet-session`),
//! nor planning (`freshet-sql`).

pub mod batch;
pub mod dataflow;
mod join;
mod sort;

pub use batch::{DataSource, Executor};
