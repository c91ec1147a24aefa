//! System information and catalog functions (`format_type`,
//! `pg_get_expr`, `array_to_string`, ...) that psql, drivers and ORMs call
//! when they introspect.

use freshet_common::{Datum, Error, Result};

use crate::scalar::EvalContext;

/// A catalog/system-information function.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CatalogFunc {
    /// Placeholder until the first real function lands.
    Unused,
}

/// Evaluates a catalog function.
pub fn call(func: &CatalogFunc, args: Vec<Datum>, ctx: &EvalContext<'_>) -> Result<Datum> {
    let _ = (args, ctx);
    Err(Error::unsupported(format!("{func:?}")))
}
