//! Name scopes: the columns visible to an expression.

use freshet_common::{DataType, Error, Result, SqlState};

/// One visible column.
#[derive(Clone, Debug)]
pub struct ScopeItem {
    /// The table name or alias qualifying the column.
    pub qualifier: Option<String>,
    pub name: String,
    pub ty: DataType,
    /// Source table OID and attribute number (for RowDescription), or 0.
    pub table_oid: u32,
    pub column_id: i16,
    /// Hidden from `*` and from unqualified lookup (the right-hand copy of
    /// a USING column, row ids).
    pub hidden: bool,
    /// Not addressable at all (row ids, helper columns).
    pub internal: bool,
}

/// The columns of one FROM clause (or other row source), in row order.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub items: Vec<ScopeItem>,
}

/// Outcome of a name lookup within one scope.
pub enum Lookup {
    Found(usize),
    NotFound,
}

impl Scope {
    /// A scope whose columns are all qualified by `qualifier`.
    pub fn from_columns(qualifier: Option<&str>, columns: impl IntoIterator<Item = (String, DataType)>) -> Scope {
        Scope {
            items: columns
                .into_iter()
                .map(|(name, ty)| ScopeItem {
                    qualifier: qualifier.map(str::to_string),
                    name,
                    ty,
                    table_oid: 0,
                    column_id: 0,
                    hidden: false,
                    internal: false,
                })
                .collect(),
        }
    }

    /// The concatenation of two scopes (a join's output).
    pub fn concat(mut self, other: Scope) -> Scope {
        self.items.extend(other.items);
        self
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the scope has no columns.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Column types in order.
    pub fn types(&self) -> Vec<DataType> {
        self.items.iter().map(|i| i.ty.clone()).collect()
    }

    /// Finds a column by optional qualifier and name; 42702 when ambiguous.
    pub fn lookup(&self, qualifier: Option<&str>, name: &str) -> Result<Lookup> {
        let mut found: Option<usize> = None;
        for (i, item) in self.items.iter().enumerate() {
            if item.internal || item.name != name {
                continue;
            }
            let matches = match qualifier {
                Some(q) => item.qualifier.as_deref() == Some(q),
                None => !item.hidden,
            };
            if matches {
                if found.is_some() {
                    let shown = match qualifier {
                        Some(q) => format!("{q}.{name}"),
                        None => name.to_string(),
                    };
                    return Err(Error::new(
                        SqlState::AmbiguousColumn,
                        format!("column reference \"{shown}\" is ambiguous"),
                    ));
                }
                found = Some(i);
            }
        }
        Ok(match found {
            Some(i) => Lookup::Found(i),
            None => Lookup::NotFound,
        })
    }

    /// Whether some column is qualified by `qualifier`.
    pub fn has_qualifier(&self, qualifier: &str) -> bool {
        self.items.iter().any(|i| i.qualifier.as_deref() == Some(qualifier))
    }
}
