//! Binding session and utility statements: transactions, SET/SHOW/RESET,
//! COPY, EXPLAIN, COMMENT, and statements accepted as no-ops.

use freshet_common::{Error, Result, SqlState};
use sqlparser::ast;

use super::Binder;
use crate::names;
use crate::plan::{CommentOn, CopyOptions, CopyPlan, CursorOptions, Plan, TransactionPlan};

/// Extensions whose functions are built into Freshet: CREATE EXTENSION
/// of one succeeds and changes nothing (pgcrypto's `digest` and
/// `gen_random_uuid`, PL/pgSQL's name), any other is refused.
pub const BUILT_IN_EXTENSIONS: &[&str] = &["plpgsql", "pgcrypto"];

/// The first name part `parse` puts on `COMMENT ON CONSTRAINT c ON t`,
/// which sqlparser does not know, rewritten as a COLLATION comment.
pub const CONSTRAINT_COMMENT_MARKER: &str = "freshet.constraint";

impl Binder<'_> {
    fn bind_comment(&mut self, object_type: &ast::CommentObject, name: &ast::ObjectName, comment: &Option<String>) -> Result<Plan> {
        use ast::CommentObject as O;
        let parts = names::object_name(name);
        let relation = |b: &Self, parts: &[String]| -> Result<u32> {
            let quoted: Vec<String> = parts.iter().map(|p| format!("\"{}\"", p.replace('"', "\"\""))).collect();
            b.regclass_literal(&quoted.join(".")).map_err(|_| Error::undefined_table(&parts.join(".")))
        };
        let object = match object_type {
            O::Table | O::View | O::MaterializedView | O::Index | O::Sequence | O::ForeignTable => {
                CommentOn::Relation(relation(self, &parts)?)
            }
            O::Column => {
                let Some((column, table)) = parts.split_last() else {
                    return Err(Error::syntax("column name must be qualified"));
                };
                if table.is_empty() {
                    return Err(Error::syntax("column name must be qualified"));
                }
                let oid = relation(self, table)?;
                let info = self.catalog.relation_by_oid(oid).ok_or_else(|| Error::undefined_table(&table.join(".")))?;
                let pos = info.columns.iter().position(|c| c.name == *column).ok_or_else(|| {
                    Error::new(
                        SqlState::UndefinedColumn,
                        format!("column \"{column}\" of relation \"{}\" does not exist", info.name),
                    )
                })?;
                CommentOn::Column(oid, pos as i32 + 1)
            }
            O::Schema => {
                let schema = parts.last().cloned().unwrap_or_default();
                if !self.catalog.schema_exists(&schema) {
                    return Err(Error::new(SqlState::InvalidSchemaName, format!("schema \"{schema}\" does not exist")));
                }
                CommentOn::Schema(schema)
            }
            O::Collation if parts.first().map(String::as_str) == Some(CONSTRAINT_COMMENT_MARKER) => {
                let Some((constraint, table)) = parts[1..].split_last() else {
                    return Err(Error::syntax("COMMENT ON CONSTRAINT needs a constraint and a table"));
                };
                CommentOn::Constraint { table: relation(self, table)?, name: constraint.clone() }
            }
            O::Type => {
                let ty = self.resolve_type(&ast::DataType::Custom(name.clone(), vec![]))?;
                match ty {
                    freshet_common::DataType::Enum(t) => CommentOn::Type(t.oid()),
                    // Built-in types' comments are PostgreSQL's own.
                    _ => return Ok(Plan::NoOp { tag: "COMMENT".into() }),
                }
            }
            // Objects Freshet does not have (extensions, functions, roles,
            // ...): accepted, as before, without effect.
            _ => return Ok(Plan::NoOp { tag: "COMMENT".into() }),
        };
        Ok(Plan::Comment { object, comment: comment.clone() })
    }

    pub(crate) fn bind_misc(&mut self, stmt: &ast::Statement) -> Result<Plan> {
        use ast::Statement as S;
        match stmt {
            S::StartTransaction { modes, .. } => Ok(Plan::Transaction(TransactionPlan::Begin(transaction_modes(modes)))),
            S::Commit { .. } => Ok(Plan::Transaction(TransactionPlan::Commit)),
            S::Rollback { savepoint: Some(name), .. } => {
                Ok(Plan::Transaction(TransactionPlan::RollbackTo(names::ident(name))))
            }
            S::Rollback { .. } => Ok(Plan::Transaction(TransactionPlan::Rollback)),
            S::Savepoint { name } => Ok(Plan::Transaction(TransactionPlan::Savepoint(names::ident(name)))),
            S::ReleaseSavepoint { name } => Ok(Plan::Transaction(TransactionPlan::Release(names::ident(name)))),
            S::Set(set) => self.bind_set(set),
            S::Reset(reset) => match &reset.reset {
                ast::Reset::ALL => Ok(Plan::Reset { name: None }),
                ast::Reset::ConfigurationParameter(name) => {
                    Ok(Plan::Reset { name: Some(names::object_name(name).join(".").to_lowercase()) })
                }
                ast::Reset::SessionAuthorization => Ok(Plan::NoOp { tag: "RESET".into() }),
            },
            S::CreateExtension(create) => {
                let name = names::ident(&create.name);
                if !BUILT_IN_EXTENSIONS.contains(&name.as_str()) {
                    return Err(Error::new(SqlState::FeatureNotSupported, format!("extension \"{name}\" is not available"))
                        .with_hint(format!("Freshet has no loadable extensions; built in are: {}.", BUILT_IN_EXTENSIONS.join(", "))));
                }
                Ok(Plan::NoOp { tag: "CREATE EXTENSION".into() })
            }
            S::DropExtension(drop) => {
                for n in &drop.names {
                    let name = names::ident(n);
                    if !BUILT_IN_EXTENSIONS.contains(&name.as_str()) && !drop.if_exists {
                        return Err(Error::new(SqlState::UndefinedObject, format!("extension \"{name}\" does not exist")));
                    }
                }
                Ok(Plan::NoOp { tag: "DROP EXTENSION".into() })
            }
            S::ShowVariable { variable } => {
                let name = variable.iter().map(names::ident).collect::<Vec<_>>().join(" ");
                Ok(Plan::Show { name })
            }
            S::Explain { statement, options, format, .. } => self.bind_explain(statement, options.as_deref(), format.as_ref()),
            S::Deallocate { name, .. } => {
                let n = names::ident(name);
                Ok(Plan::Deallocate { name: if n == "all" { None } else { Some(n) } })
            }
            S::Declare { stmts, .. } => {
                let [decl] = stmts.as_slice() else { return Err(Error::unsupported("DECLARE of several cursors")) };
                let name = decl.names.first().map(names::ident).ok_or_else(|| Error::syntax("DECLARE needs a cursor name"))?;
                let q = decl.for_query.as_ref().ok_or_else(|| Error::unsupported("DECLARE without FOR query"))?;
                let query = self.bind_query(q)?;
                let options = CursorOptions {
                    hold: decl.hold.unwrap_or(false),
                    binary: decl.binary.unwrap_or(false),
                    scroll: decl.scroll == Some(true),
                    statement: stmt.to_string(),
                };
                Ok(Plan::DeclareCursor { name, query, options })
            }
            S::Fetch { name, direction, .. } => {
                let count = match direction {
                    ast::FetchDirection::Count { limit } | ast::FetchDirection::Forward { limit: Some(limit) } => {
                        match &limit.value {
                            ast::Value::Number(n, _) => Some(n.parse::<u64>().map_err(|_| Error::syntax(format!("invalid FETCH count {n}")))?),
                            other => return Err(Error::syntax(format!("invalid FETCH count {other}"))),
                        }
                    }
                    ast::FetchDirection::Next | ast::FetchDirection::Forward { limit: None } => Some(1),
                    ast::FetchDirection::All | ast::FetchDirection::ForwardAll => None,
                    other => return Err(Error::unsupported(format!("FETCH {other}"))),
                };
                Ok(Plan::Fetch { name: names::ident(name), count, move_only: false })
            }
            S::Close { cursor } => Ok(Plan::CloseCursor {
                name: match cursor {
                    ast::CloseCursor::All => None,
                    ast::CloseCursor::Specific { name } => Some(names::ident(name)),
                },
            }),
            S::Discard { .. } => Ok(Plan::NoOp { tag: "DISCARD ALL".into() }),
            S::Comment { object_type, object_name, comment, .. } => self.bind_comment(object_type, object_name, comment),
            S::Analyze { .. } => Ok(Plan::NoOp { tag: "ANALYZE".into() }),
            S::Vacuum(_) => Ok(Plan::NoOp { tag: "VACUUM".into() }),
            S::AlterIndex { name, operation: ast::AlterIndexOperation::RenameIndex { index_name } } => Ok(Plan::RenameIndex {
                name: names::schema_and_name(name).1,
                new_name: names::schema_and_name(index_name).1,
            }),
            // Materialized views are always fresh.
            S::RefreshMaterializedView(_) => Ok(Plan::NoOp { tag: "REFRESH MATERIALIZED VIEW".into() }),
            S::Grant { .. } => Ok(Plan::NoOp { tag: "GRANT".into() }),
            S::Revoke { .. } => Ok(Plan::NoOp { tag: "REVOKE".into() }),
            other => Err(Error::unsupported(format!("statement {}", super::ddl::statement_kind(other)))),
        }
    }

    fn bind_set(&mut self, set: &ast::Set) -> Result<Plan> {
        match set {
            ast::Set::SingleAssignment { scope, variable, values, .. } => {
                let name = names::object_name(variable).join(".");
                let local = matches!(scope, Some(ast::ContextModifier::Local));
                let value = set_value(values)?;
                Ok(Plan::Set { name, value, local })
            }
            ast::Set::SetTimeZone { local, value } => {
                Ok(Plan::Set { name: "timezone".into(), value: set_value(std::slice::from_ref(value))?, local: *local })
            }
            ast::Set::SetNames { charset_name, .. } => {
                Ok(Plan::Set { name: "client_encoding".into(), value: Some(charset_name.value.clone()), local: false })
            }
            ast::Set::SetTransaction { modes, snapshot: None, session } => {
                Ok(Plan::Transaction(TransactionPlan::SetModes { modes: transaction_modes(modes), session: *session }))
            }
            ast::Set::SetTransaction { snapshot: Some(_), .. } => Err(Error::unsupported("SET TRANSACTION SNAPSHOT")),
            // The session's user is the only login role.
            ast::Set::SetRole { role_name: Some(role), .. } if names::ident(role) != self.catalog.user() => Err(Error::new(
                SqlState::InvalidParameterValue,
                format!("role \"{}\" does not exist", names::ident(role)),
            )),
            ast::Set::SetSessionParam(_) | ast::Set::SetRole { .. } | ast::Set::SetSessionAuthorization(_) => {
                Ok(Plan::NoOp { tag: "SET".into() })
            }
            other => Err(Error::unsupported(format!("{other}"))),
        }
    }

    pub(crate) fn bind_copy(&mut self, stmt: &ast::Statement) -> Result<Plan> {
        let ast::Statement::Copy { source, to, target, options, legacy_options, .. } = stmt else {
            return Err(Error::internal("bind_copy on a non-COPY statement"));
        };
        let mut opts = CopyOptions {
            csv: false,
            binary: false,
            delimiter: '\t',
            null: "\\N".into(),
            header: false,
            quote: '"',
            escape: '"',
        };
        let mut delimiter_set = false;
        let mut null_set = false;
        for o in options {
            match o {
                ast::CopyOption::Format(f) => match f.value.to_lowercase().as_str() {
                    "csv" => opts.csv = true,
                    "text" => {}
                    "binary" => opts.binary = true,
                    other => return Err(Error::new(freshet_common::SqlState::InvalidParameterValue, format!("COPY format \"{other}\" not recognized"))),
                },
                ast::CopyOption::Delimiter(c) => {
                    opts.delimiter = *c;
                    delimiter_set = true;
                }
                ast::CopyOption::Null(n) => {
                    opts.null = n.clone();
                    null_set = true;
                }
                ast::CopyOption::Header(h) => opts.header = *h,
                ast::CopyOption::Quote(c) => opts.quote = *c,
                ast::CopyOption::Escape(c) => opts.escape = *c,
                ast::CopyOption::Encoding(_) | ast::CopyOption::Freeze(_) => {}
                other => return Err(Error::unsupported(format!("COPY option {other}"))),
            }
        }
        for o in legacy_options {
            match o {
                ast::CopyLegacyOption::Binary => opts.binary = true,
                ast::CopyLegacyOption::Delimiter(c) => {
                    opts.delimiter = *c;
                    delimiter_set = true;
                }
                ast::CopyLegacyOption::Null(n) => {
                    opts.null = n.clone();
                    null_set = true;
                }
                ast::CopyLegacyOption::Csv(_) => opts.csv = true,
                ast::CopyLegacyOption::Header => opts.header = true,
                other => return Err(Error::unsupported(format!("COPY option {other}"))),
            }
        }
        if opts.csv {
            if !delimiter_set {
                opts.delimiter = ',';
            }
            if !null_set {
                opts.null = String::new();
            }
        }
        if opts.binary {
            let conflict = if opts.csv {
                Some("cannot specify CSV in BINARY mode")
            } else if delimiter_set {
                Some("cannot specify DELIMITER in BINARY mode")
            } else if null_set {
                Some("cannot specify NULL in BINARY mode")
            } else if opts.header {
                Some("cannot specify HEADER in BINARY mode")
            } else {
                None
            };
            if let Some(message) = conflict {
                return Err(Error::new(SqlState::SyntaxError, message));
            }
        }
        match (to, target) {
            (false, ast::CopyTarget::Stdin) => {
                let ast::CopySource::Table { table_name, columns } = source else {
                    return Err(Error::syntax("COPY FROM needs a table"));
                };
                let rel = self.target_table(table_name, "copy to")?;
                let cols = copy_columns(&rel, columns)?;
                Ok(Plan::Copy(CopyPlan::From { table: rel.oid, columns: cols, options: opts }))
            }
            (true, ast::CopyTarget::Stdout) => {
                let query = match source {
                    ast::CopySource::Table { table_name, columns } => {
                        let (schema, name) = names::schema_and_name(table_name);
                        let cols = match self.catalog.relation(schema.as_deref(), &name) {
                            Some(rel) if rel.columns.iter().any(|c| c.generated.is_some()) => copy_columns(&rel, columns)?
                                .iter()
                                .map(|i| format!("\"{}\"", rel.columns[*i].name.replace('"', "\"\"")))
                                .collect::<Vec<_>>()
                                .join(", "),
                            _ if columns.is_empty() => "*".to_string(),
                            _ => columns.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "),
                        };
                        let sql = format!("SELECT {cols} FROM {table_name}");
                        let stmts = crate::parse::parse_statements(&sql)?;
                        let Some(ast::Statement::Query(q)) = stmts.first() else {
                            return Err(Error::internal("COPY source did not parse as a query"));
                        };
                        self.bind_query(q)?
                    }
                    ast::CopySource::Query(q) => self.bind_query(q)?,
                };
                Ok(Plan::Copy(CopyPlan::To { query, options: opts }))
            }
            _ => Err(Error::new(
                freshet_common::SqlState::InsufficientPrivilege,
                "COPY to or from a file or program is not allowed; use STDIN/STDOUT",
            )),
        }
    }
}

/// The columns COPY reads or writes: those named, else every column but
/// the generated ones (which COPY may not name: 42P10), as in PostgreSQL.
fn copy_columns(rel: &crate::catalog::RelationInfo, named: &[ast::Ident]) -> Result<Vec<usize>> {
    if named.is_empty() {
        return Ok((0..rel.columns.len()).filter(|i| rel.columns[*i].generated.is_none()).collect());
    }
    let mut out = Vec::new();
    for c in named {
        let name = names::ident(c);
        let idx = rel.columns.iter().position(|col| col.name == name).ok_or_else(|| {
            Error::new(SqlState::UndefinedColumn, format!("column \"{name}\" of relation \"{}\" does not exist", rel.name))
        })?;
        if rel.columns[idx].generated.is_some() {
            return Err(Error::new(SqlState::InvalidColumnReference, format!("column \"{name}\" is a generated column"))
                .with_detail("Generated columns cannot be used in COPY."));
        }
        out.push(idx);
    }
    Ok(out)
}

/// The value of `SET name = value` (`None` for DEFAULT).
fn set_value(values: &[ast::Expr]) -> Result<Option<String>> {
    let mut parts = Vec::new();
    for v in values {
        let text = match v {
            ast::Expr::Value(val) => match &val.value {
                ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                ast::Value::Number(n, _) => n.clone(),
                ast::Value::Boolean(b) => if *b { "on".into() } else { "off".into() },
                other => other.to_string(),
            },
            ast::Expr::Identifier(id) => {
                if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default") {
                    return Ok(None);
                }
                id.value.clone()
            }
            ast::Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr } => format!("-{expr}"),
            other => other.to_string(),
        };
        parts.push(text);
    }
    Ok(Some(parts.join(", ")))
}

/// The modes of a BEGIN or SET TRANSACTION.
fn transaction_modes(modes: &[ast::TransactionMode]) -> crate::plan::TransactionModes {
    use crate::plan::IsolationLevel;
    let mut out = crate::plan::TransactionModes::default();
    for m in modes {
        match m {
            ast::TransactionMode::IsolationLevel(level) => {
                out.isolation = Some(match level {
                    ast::TransactionIsolationLevel::ReadUncommitted => IsolationLevel::ReadUncommitted,
                    ast::TransactionIsolationLevel::ReadCommitted => IsolationLevel::ReadCommitted,
                    ast::TransactionIsolationLevel::RepeatableRead => IsolationLevel::RepeatableRead,
                    // SNAPSHOT is not PostgreSQL syntax; the nearest level.
                    ast::TransactionIsolationLevel::Serializable | ast::TransactionIsolationLevel::Snapshot => {
                        IsolationLevel::Serializable
                    }
                });
            }
            ast::TransactionMode::AccessMode(mode) => {
                out.read_only = Some(matches!(mode, ast::TransactionAccessMode::ReadOnly));
            }
        }
    }
    out
}
