//! Binding system information and catalog functions.

use freshet_common::{DataType, Result};
use freshet_expr::ScalarExpr;

use super::Binder;

impl Binder<'_> {
    /// Resolves a catalog/system function by name; `None` if unknown.
    pub(crate) fn call_catalog_function(
        &mut self,
        name: &str,
        args: Vec<(ScalarExpr, DataType)>,
    ) -> Result<Option<(ScalarExpr, DataType)>> {
        let _ = (name, args);
        Ok(None)
    }
}
