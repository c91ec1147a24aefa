//! Deep recursion without stack overflows.
//!
//! SQL can nest without bound (`1 + 1 + ... + 1` is a left-deep tree as
//! deep as it is long), and a stack overflow aborts the whole server. The
//! recursive passes over expression trees (binding, evaluation, rewrites)
//! run their bodies in [`grow`], which continues on a fresh heap-allocated
//! stack segment when the current one runs low, and the binder refuses
//! expressions nested deeper than [`EXPRESSION_DEPTH_MAX`] with 54001, as
//! PostgreSQL refuses them past `max_stack_depth`.

use crate::{Error, SqlState};

/// Stack left below which [`grow`] switches to a new segment.
const RED_ZONE_BYTES: usize = 128 * 1024;
/// Size of each new segment.
const SEGMENT_BYTES: usize = 4 * 1024 * 1024;

/// How deep the binder lets expressions nest.
pub const EXPRESSION_DEPTH_MAX: usize = 10_000;

/// Runs `f`, first moving to a new stack segment if this one is nearly used.
#[inline]
pub fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE_BYTES, SEGMENT_BYTES, f)
}

/// PostgreSQL's error for SQL nested too deeply.
pub fn depth_exceeded() -> Error {
    Error::new(SqlState::StatementTooComplex, "stack depth limit exceeded").with_hint(format!(
        "Freshet nests expressions at most {EXPRESSION_DEPTH_MAX} deep; simplify the statement (a long chain of AND/OR or + is such nesting)."
    ))
}
