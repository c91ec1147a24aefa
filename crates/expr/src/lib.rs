//! Freshet's plan IR and its scalar expression library.
//!
//! This crate owns the language every engine path shares:
//! - [`ScalarExpr`]: typed scalar expressions over a row, and their
//!   evaluation ([`ScalarExpr::eval`]) with PostgreSQL's semantics;
//! - [`RelExpr`]: relational plans (get, map, filter, join, reduce, ...)
//!   produced by `freshet-sql` and executed by `freshet-compute`, either as
//!   a batch over a snapshot or (later) as an incrementally maintained
//!   differential dataflow;
//! - [`AggregateExpr`] and the aggregate accumulators ([`agg`]);
//! - [`WindowExpr`] and window function evaluation ([`window`]).
//!
//! It does not parse SQL or resolve names (that is `freshet-sql`), nor read
//! tables (that is the caller, through [`EvalContext`]).

pub mod agg;
pub mod catalog_func;
pub mod datetime_ops;
pub mod encoding;
pub mod formatting;
pub mod func;
pub mod json_text;
pub mod jsonb_ops;
pub mod jsonpath;
pub mod like;
pub mod misc_func;
pub mod relation;
pub mod scalar;
pub mod table_func;
pub mod text_format;
pub mod window;

pub use agg::{AggOrder, AggregateExpr, AggregateFunc};
pub use func::{BinaryOp, Func, UnaryOp};
pub use relation::{JoinKind, RelExpr, SetOpKind, SortKey, TableRef};
pub use table_func::TableFunc;
pub use window::{FrameBound, FrameUnits, RangeOffset, WindowExpr, WindowFrame, WindowFunc};
pub use scalar::{EvalContext, ScalarExpr, SequenceAccess, SubqueryExpr, SubqueryKind, SubqueryRunner};
