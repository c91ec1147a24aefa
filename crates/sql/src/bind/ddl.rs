//! Binding DDL: CREATE/ALTER/DROP TABLE, TRUNCATE, databases, schemas,
//! views, sequences and indexes.

use crate::plan::SerialSequence;
use freshet_common::cast::CastContext;
use freshet_common::types::Identity;
use freshet_common::{DataType, Error, Result, SqlState};
use freshet_expr::ScalarExpr;
use sqlparser::ast::{self, ColumnOption, TableConstraint};

use super::Binder;
use crate::catalog::{ColumnInfo, RelationInfo, RelationKind};
use crate::names;
use crate::plan::{AlterTableAction, CheckPlan, CreateIndexPlan, CreateTablePlan, FkAction, ForeignKeyPlan, ObjectKind, Plan};
use crate::typing;

impl Binder<'_> {
    pub(crate) fn schema_for_create(&self, schema: Option<String>) -> Result<String> {
        match schema {
            Some(s) if s == "pg_temp" => self.temp_schema(),
            Some(s) => {
                if !self.catalog.schema_exists(&s) {
                    return Err(Error::new(SqlState::InvalidSchemaName, format!("schema \"{s}\" does not exist")));
                }
                Ok(s)
            }
            None => self
                .catalog
                .search_path()
                .into_iter()
                .find(|s| s != "pg_catalog" && !is_temp_schema(s) && self.catalog.schema_exists(s))
                .ok_or_else(|| Error::new(SqlState::InvalidSchemaName, "no schema has been selected to create in")),
        }
    }

    /// The session's temporary schema (created by the first temporary
    /// object).
    fn temp_schema(&self) -> Result<String> {
        self.catalog.temp_schema().ok_or_else(|| Error::unsupported("temporary objects outside a session"))
    }

    /// The schema a CREATE [TEMPORARY] names or implies.
    fn schema_for_create_temp(&self, schema: Option<String>, temporary: bool) -> Result<String> {
        match (temporary, schema) {
            (false, schema) => self.schema_for_create(schema),
            (true, None) => self.temp_schema(),
            (true, Some(s)) if s == "pg_temp" || self.catalog.temp_schema().as_deref() == Some(s.as_str()) => self.temp_schema(),
            (true, Some(_)) => Err(Error::new(
                SqlState::InvalidTableDefinition,
                "cannot create temporary relation in non-temporary schema",
            )),
        }
    }

    /// Binds one column definition; returns the column, whether it is the
    /// primary key, whether it is unique, and whether it needs a sequence.
    /// The name a DEFAULT uses for a sequence in `schema`: qualified unless
    /// the schema is the first one the search path creates in (as
    /// PostgreSQL's stored regclass prints).
    fn sequence_reference(&self, schema: &str, sequence: &str) -> String {
        let quote = |n: &str| {
            if !n.is_empty()
                && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !n.starts_with(|c: char| c.is_ascii_digit())
            {
                n.to_string()
            } else {
                format!("\"{}\"", n.replace('"', "\"\"").replace('\'', "''"))
            }
        };
        let first = self.catalog.search_path().into_iter().find(|s| s != "pg_catalog" && self.catalog.schema_exists(s));
        if first.as_deref() == Some(schema) {
            quote(sequence)
        } else {
            format!("{}.{}", quote(schema), quote(sequence))
        }
    }

    fn bind_column_def(
        &mut self,
        schema: &str,
        table: &str,
        def: &ast::ColumnDef,
        checks: &mut Vec<CheckPlan>,
        fks: &mut Vec<(ast::ForeignKeyConstraint, String)>,
    ) -> Result<(ColumnInfo, bool, bool, Option<SerialSequence>)> {
        let name = names::ident(&def.name);
        let serial = typing::serial_type(&def.data_type);
        let ty = match &serial {
            Some(t) => t.clone(),
            None => self.resolve_type(&def.data_type)?,
        };
        let mut column = ColumnInfo { name: name.clone(), ty, not_null: false, default: None, generated: None, identity: None, collation: None };
        let mut primary = false;
        let mut unique = false;
        let mut sequence = None;
        if serial.is_some() {
            let seq = format!("{table}_{name}_seq");
            column.default = Some(format!("nextval('{}'::regclass)", self.sequence_reference(schema, &seq)));
            column.not_null = true;
            sequence = Some(SerialSequence { name: seq, start: 1, increment: 1, limits: Default::default() });
        }
        for opt in &def.options {
            match &opt.option {
                ColumnOption::Null => column.not_null = false,
                ColumnOption::NotNull => column.not_null = true,
                ColumnOption::Default(e) => {
                    // Validate the default now; store its text for later binding.
                    let (bound, bt) = self.bind_expr(e, &super::scope::Scope::default())?;
                    self.coerce(bound, &bt, &column.ty, freshet_common::cast::CastContext::Assignment)?;
                    column.default = Some(e.to_string());
                }
                ColumnOption::PrimaryKey(_) => {
                    primary = true;
                    column.not_null = true;
                }
                ColumnOption::Unique(_) => unique = true,
                ColumnOption::Generated { generation_expr: Some(e), generation_expr_mode, .. } => {
                    if *generation_expr_mode != Some(ast::GeneratedExpressionMode::Stored) {
                        return Err(Error::new(SqlState::FeatureNotSupported, "virtual generated columns are not supported")
                            .with_hint("Declare it GENERATED ALWAYS AS (...) STORED."));
                    }
                    // Bound and checked against the whole row by
                    // `validate_generated` once every column is known.
                    column.generated = Some(match e {
                        ast::Expr::BinaryOp { .. } | ast::Expr::UnaryOp { .. } => format!("({e})"),
                        other => other.to_string(),
                    });
                }
                ColumnOption::Generated { sequence_options, generated_as, .. } => {
                    column.identity = Some(match generated_as {
                        ast::GeneratedAs::Always => Identity::Always,
                        _ => Identity::ByDefault,
                    });
                    if !column.ty.is_integer() {
                        return Err(Error::new(
                            SqlState::InvalidParameterValue,
                            "identity column type must be smallint, integer, or bigint".to_string(),
                        ));
                    }
                    let seq = format!("{table}_{name}_seq");
                    column.default = Some(format!("nextval('{}'::regclass)", self.sequence_reference(schema, &seq)));
                    column.not_null = true;
                    sequence = Some(identity_sequence(seq, sequence_options.as_deref())?);
                }
                ColumnOption::Identity(_) => {
                    if !column.ty.is_integer() {
                        return Err(Error::new(
                            SqlState::InvalidParameterValue,
                            format!("identity column type must be smallint, integer, or bigint"),
                        ));
                    }
                    let seq = format!("{table}_{name}_seq");
                    column.default = Some(format!("nextval('{}'::regclass)", self.sequence_reference(schema, &seq)));
                    column.not_null = true;
                    sequence = Some(SerialSequence { name: seq, start: 1, increment: 1, limits: Default::default() });
                }
                ColumnOption::Check(c) => checks.push(CheckPlan {
                    name: Some(
                        c.name
                            .as_ref()
                            .or(opt.name.as_ref())
                            .map(names::ident)
                            .unwrap_or_else(|| format!("{table}_{name}_check")),
                    ),
                    expr: c.expr.to_string(),
                }),
                ColumnOption::ForeignKey(fk) => {
                    let mut fk = fk.clone();
                    if fk.name.is_none() {
                        fk.name = opt.name.clone();
                    }
                    fks.push((fk, name.clone()))
                }
                ColumnOption::Collation(name) => {
                    if !column.ty.without_modifiers().is_string() && !matches!(column.ty, DataType::Array(_)) {
                        return Err(Error::new(
                            SqlState::DatatypeMismatch,
                            format!("collations are not supported by type {}", column.ty.pg_name()),
                        ));
                    }
                    column.collation = names::check_collation(name)?;
                }
                ColumnOption::Comment(_) => {}
                other => return Err(Error::unsupported(format!("column option {other}"))),
            }
        }
        Ok((column, primary, unique, sequence))
    }

    /// The key of CREATE INDEX: its column positions, and its expression
    /// parts as (position in the key, SQL text), each checked over the
    /// table's row.
    fn index_key(&mut self, parts: &[ast::IndexColumn], rel: &RelationInfo) -> Result<(Vec<usize>, Vec<(usize, String)>)> {
        let mut columns = Vec::new();
        let mut expressions = Vec::new();
        for (pos, part) in parts.iter().enumerate() {
            let mut expr = &part.column.expr;
            while let ast::Expr::Nested(inner) = expr {
                expr = inner;
            }
            match expr {
                ast::Expr::Identifier(id) => {
                    let name = names::ident(id);
                    let idx = rel.columns.iter().position(|c| c.name == name).ok_or_else(|| {
                        Error::new(SqlState::UndefinedColumn, format!("column \"{name}\" does not exist"))
                    })?;
                    columns.push(idx);
                }
                other => {
                    let scope = Self::table_scope(rel, &rel.name, false);
                    let (bound, _) = self.bind_expr(other, &scope)?;
                    refuse_in_index(&bound, "index expression")?;
                    expressions.push((pos, other.to_string()));
                }
            }
        }
        Ok((columns, expressions))
    }

    fn index_columns(&self, columns: &[ast::IndexColumn], names_in_table: &[String]) -> Result<Vec<usize>> {
        let mut out = Vec::new();
        for c in columns {
            let name = match &c.column.expr {
                ast::Expr::Identifier(id) => names::ident(id),
                other => return Err(Error::unsupported(format!("index on expression {other}"))),
            };
            let idx = names_in_table.iter().position(|n| *n == name).ok_or_else(|| {
                Error::new(SqlState::UndefinedColumn, format!("column \"{name}\" named in key does not exist"))
            })?;
            if !out.contains(&idx) {
                out.push(idx);
            }
        }
        Ok(out)
    }

    pub(crate) fn bind_create_table(&mut self, create: &ast::CreateTable) -> Result<Plan> {
        // Refused rather than ignored: each would change what the table holds.
        if create.partition_by.is_some() || create.partition_of.is_some() {
            return Err(Error::new(SqlState::FeatureNotSupported, "partitioned tables are not supported")
                .with_hint("Create an ordinary table."));
        }
        if create.inherits.is_some() {
            return Err(Error::new(SqlState::FeatureNotSupported, "table inheritance (INHERITS) is not supported"));
        }

        let (schema, name) = names::schema_and_name(&create.name);
        let schema = self.schema_for_create_temp(schema, create.temporary)?;
        if let Some(q) = &create.query {
            let bound = self.bind_query(q)?;
            let columns = bound
                .columns
                .iter()
                .map(|c| ColumnInfo { name: c.name.clone(), ty: c.ty.clone(), not_null: false, default: None, generated: None, identity: None, collation: None })
                .collect();
            return Ok(Plan::CreateTable(CreateTablePlan {
                schema,
                name,
                columns,
                primary_key: vec![],
                primary_key_name: None,
                unique_keys: vec![],
                unique_nulls_not_distinct: vec![],
                foreign_keys: vec![],
                checks: vec![],
                if_not_exists: create.if_not_exists,
                sequences: vec![],
                as_query: Some(bound.expr),
            }));
        }
        // (LIKE source [INCLUDING | EXCLUDING DEFAULTS]): the source's
        // columns with their types and NOT NULL; defaults only when
        // included, never an identity's, generation or constraints.
        let mut columns: Vec<ColumnInfo> = match &create.like {
            Some(ast::CreateTableLikeKind::Parenthesized(like) | ast::CreateTableLikeKind::Plain(like)) => {
                let (source_schema, source_name) = names::schema_and_name(&like.name);
                let source = self
                    .catalog
                    .relation(source_schema.as_deref(), &source_name)
                    .ok_or_else(|| Error::undefined_table(&source_name))?;
                let with_defaults = matches!(like.defaults, Some(ast::CreateTableLikeDefaults::Including));
                source
                    .columns
                    .iter()
                    .map(|c| ColumnInfo {
                        name: c.name.clone(),
                        ty: c.ty.clone(),
                        not_null: c.not_null,
                        default: if with_defaults && c.identity.is_none() { c.default.clone() } else { None },
                        generated: None,
                        identity: None,
                        collation: c.collation.clone(),
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        let mut primary_key = Vec::new();
        let mut primary_key_name = None;
        let mut unique_keys: Vec<(Option<String>, Vec<usize>)> = Vec::new();
        let mut unique_nulls_not_distinct: Vec<(Option<String>, Vec<usize>)> = Vec::new();
        let mut sequences = Vec::new();
        let mut checks = Vec::new();
        let mut column_fks = Vec::new();
        for def in &create.columns {
            let (col, primary, unique, seq) = self.bind_column_def(&schema, &name, def, &mut checks, &mut column_fks)?;
            if columns.iter().any(|c: &ColumnInfo| c.name == col.name) {
                return Err(Error::new(
                    SqlState::DuplicateColumn,
                    format!("column \"{}\" specified more than once", col.name),
                ));
            }
            let idx = columns.len();
            if primary {
                if !primary_key.is_empty() {
                    return Err(Error::new(
                        SqlState::InvalidTableDefinition,
                        format!("multiple primary keys for table \"{name}\" are not allowed"),
                    ));
                }
                primary_key.push(idx);
            }
            if unique {
                unique_keys.push((None, vec![idx]));
            }
            if let Some(s) = seq {
                sequences.push((s, idx));
            }
            columns.push(col);
        }
        let column_names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let mut foreign_keys = Vec::new();
        for (fk, column) in &column_fks {
            let mut fk = fk.clone();
            fk.columns = vec![sqlparser::ast::Ident::with_quote('"', column.clone())];
            foreign_keys.push(self.bind_foreign_key(&fk, &name, &schema, &column_names, &columns, &primary_key, &unique_keys)?);
        }
        for constraint in &create.constraints {
            match constraint {
                TableConstraint::PrimaryKey(pk) => {
                    if !primary_key.is_empty() {
                        return Err(Error::new(
                            SqlState::InvalidTableDefinition,
                            format!("multiple primary keys for table \"{name}\" are not allowed"),
                        ));
                    }
                    primary_key = self.index_columns(&pk.columns, &column_names)?;
                    primary_key_name = pk.name.as_ref().map(names::ident);
                    for i in &primary_key {
                        columns[*i].not_null = true;
                    }
                }
                TableConstraint::Unique(u) => {
                    let key = self.index_columns(&u.columns, &column_names)?;
                    if nulls_not_distinct(&u.nulls_distinct) {
                        unique_nulls_not_distinct.push((u.name.as_ref().map(names::ident), key));
                    } else if !unique_keys.iter().any(|(_, k)| *k == key) {
                        unique_keys.push((u.name.as_ref().map(names::ident), key));
                    }
                }
                TableConstraint::Check(c) => {
                    checks.push(self.bind_check(c, &name, &column_names, &columns)?);
                }
                TableConstraint::ForeignKey(fk) => {
                    foreign_keys.push(self.bind_foreign_key(fk, &name, &schema, &column_names, &columns, &primary_key, &unique_keys)?);
                }
                other => return Err(Error::unsupported(format!("table constraint {other}"))),
            }
        }
        for c in &checks {
            self.validate_check(&c.expr, &columns)?;
        }
        self.validate_generated(&columns)?;
        Ok(Plan::CreateTable(CreateTablePlan {
            schema,
            name,
            columns,
            primary_key,
            primary_key_name,
            unique_keys,
            unique_nulls_not_distinct,
            foreign_keys,
            checks,
            if_not_exists: create.if_not_exists,
            sequences,
            as_query: None,
        }))
    }

    pub(crate) fn bind_alter_table(&mut self, alter: &ast::AlterTable) -> Result<Plan> {
        let (schema, name) = names::schema_and_name(&alter.name);
        let Some(rel) = self.catalog.relation(schema.as_deref(), &name) else {
            if alter.if_exists {
                return Ok(Plan::NoOp { tag: "ALTER TABLE".into() });
            }
            return Err(Error::undefined_table(&name));
        };
        // A sequence may only be renamed (ALTER SEQUENCE ... RENAME TO arrives
        // here rewritten as ALTER TABLE, which PostgreSQL also allows).
        let renames_only = alter.operations.iter().all(|op| matches!(op, ast::AlterTableOperation::RenameTable { .. }));
        if rel.kind != RelationKind::Table && !(rel.kind == RelationKind::Sequence && renames_only) {
            return Err(Error::new(SqlState::WrongObjectType, format!("\"{}\" is not a table", rel.name)));
        }
        let column_names: Vec<String> = rel.columns.iter().map(|c| c.name.clone()).collect();
        let mut actions = Vec::new();
        for op in &alter.operations {
            use ast::AlterTableOperation as Op;
            match op {
                Op::AddColumn { if_not_exists, column_def, .. } => {
                    let mut checks = Vec::new();
                    let mut fks = Vec::new();
                    let (column, primary, unique, sequence) =
                        self.bind_column_def(&rel.schema.clone(), &rel.name, column_def, &mut checks, &mut fks)?;
                    let new_index = rel.columns.len();
                    let column_name = column.name.clone();
                    actions.push(AlterTableAction::AddColumn { column: column.clone(), if_not_exists: *if_not_exists, sequence });
                    if primary {
                        actions.push(AlterTableAction::AddPrimaryKey { name: None, columns: vec![new_index] });
                    }
                    if unique {
                        actions.push(AlterTableAction::AddUnique { name: None, columns: vec![new_index], nulls_not_distinct: false });
                    }
                    let mut all_columns: Vec<ColumnInfo> = rel.columns.clone();
                    all_columns.push(column);
                    if all_columns.last().is_some_and(|c| c.generated.is_some()) {
                        self.validate_generated(&all_columns)?;
                    }
                    let names_after: Vec<String> = all_columns.iter().map(|c| c.name.clone()).collect();
                    for c in checks {
                        self.validate_check(&c.expr, &all_columns)?;
                        actions.push(AlterTableAction::AddCheck(c));
                    }
                    for (fk, _) in fks {
                        let mut fk = fk;
                        fk.columns = vec![sqlparser::ast::Ident::with_quote('"', column_name.clone())];
                        let uniques: Vec<(Option<String>, Vec<usize>)> = rel.unique_keys.iter().map(|u| (None, u.clone())).collect();
                        actions.push(AlterTableAction::AddForeignKey(self.bind_foreign_key(
                            &fk, &rel.name, &rel.schema.clone(), &names_after, &all_columns, &rel.primary_key, &uniques,
                        )?));
                    }
                }
                Op::DropColumn { column_names: cols, if_exists, .. } => {
                    for c in cols {
                        actions.push(AlterTableAction::DropColumn { name: names::ident(c), if_exists: *if_exists });
                    }
                }
                Op::RenameColumn { old_column_name, new_column_name } => actions.push(AlterTableAction::RenameColumn {
                    old: names::ident(old_column_name),
                    new: names::ident(new_column_name),
                }),
                Op::RenameTable { table_name } => {
                    let n = match table_name {
                        ast::RenameTableNameKind::As(n) | ast::RenameTableNameKind::To(n) => n,
                    };
                    actions.push(AlterTableAction::RenameTable { new: names::schema_and_name(n).1 });
                }
                Op::AlterColumn { column_name, op } => {
                    let column = names::ident(column_name);
                    let col = rel.columns.iter().find(|c| c.name == column).ok_or_else(|| {
                        Error::new(
                            SqlState::UndefinedColumn,
                            format!("column \"{column}\" of relation \"{}\" does not exist", rel.name),
                        )
                    })?;
                    match op {
                        ast::AlterColumnOperation::SetNotNull => {
                            actions.push(AlterTableAction::SetNotNull { column, not_null: true })
                        }
                        ast::AlterColumnOperation::DropNotNull => {
                            actions.push(AlterTableAction::SetNotNull { column, not_null: false })
                        }
                        ast::AlterColumnOperation::SetDefault { value } => {
                            let (b, bt) = self.bind_expr(value, &super::scope::Scope::default())?;
                            self.coerce(b, &bt, &col.ty, freshet_common::cast::CastContext::Assignment)?;
                            actions.push(AlterTableAction::SetDefault { column, default: Some(value.to_string()) })
                        }
                        ast::AlterColumnOperation::DropDefault => {
                            actions.push(AlterTableAction::SetDefault { column, default: None })
                        }
                        ast::AlterColumnOperation::SetDataType { data_type, using, .. } => {
                            let ty = self.resolve_type(data_type)?;
                            let mut collation = None;
                            // USING the column itself, or cast to the new type
                            // (what Django emits), converts as a plain type
                            // change does; other expressions are not supported.
                            // `TYPE t COLLATE c` arrives as `USING column
                            // COLLATE c` (see freshet_sql::parse).
                            if let Some(expr) = using {
                                let mut e = expr;
                                while let ast::Expr::Nested(inner) = e {
                                    e = inner;
                                }
                                if let ast::Expr::Collate { expr: inner, collation: name } = e {
                                    collation = names::check_collation(name)?;
                                    e = inner;
                                }
                                if let ast::Expr::Cast { expr: inner, data_type: cast_to, .. } = e {
                                    if self.resolve_type(cast_to)? != ty {
                                        return Err(Error::unsupported("ALTER COLUMN TYPE ... USING a cast to another type"));
                                    }
                                    e = inner;
                                    while let ast::Expr::Nested(inner) = e {
                                        e = inner;
                                    }
                                }
                                let is_column = match e {
                                    ast::Expr::Identifier(id) => names::ident(id) == col.name,
                                    ast::Expr::CompoundIdentifier(parts) => {
                                        parts.last().is_some_and(|id| names::ident(id) == col.name)
                                    }
                                    _ => false,
                                };
                                if !is_column {
                                    return Err(Error::unsupported("ALTER COLUMN TYPE ... USING an expression other than the column"));
                                }
                            }
                            actions.push(AlterTableAction::AlterType { column, ty, collation })
                        }
                        ast::AlterColumnOperation::AddGenerated { sequence_options, generated_as } => {
                            // ADD GENERATED ... AS IDENTITY: a sequence owned
                            // by the column becomes its default, as for an
                            // identity column declared in CREATE TABLE.
                            if !col.ty.is_integer() {
                                return Err(Error::new(
                                    SqlState::InvalidParameterValue,
                                    "identity column type must be smallint, integer, or bigint",
                                ));
                            }
                            if col.default.is_some() {
                                return Err(Error::new(
                                    SqlState::InvalidTableDefinition,
                                    format!("column \"{column}\" of relation \"{}\" already has a default value", rel.name),
                                ));
                            }
                            let name = format!("{}_{column}_seq", rel.name);
                            let default = format!("nextval('{}'::regclass)", self.sequence_reference(&rel.schema, &name));
                            actions.push(AlterTableAction::AddIdentity {
                                column: column.clone(),
                                sequence: identity_sequence(name, sequence_options.as_deref())?,
                                default,
                                identity: match generated_as {
                                    Some(ast::GeneratedAs::ByDefault) => Identity::ByDefault,
                                    _ => Identity::Always,
                                },
                            });
                        }
                        other => return Err(Error::unsupported(format!("ALTER COLUMN {other}"))),
                    }
                }
                Op::AddConstraint { constraint, .. } => match constraint {
                    TableConstraint::PrimaryKey(pk) => {
                        if !rel.primary_key.is_empty() {
                            return Err(Error::new(
                                SqlState::InvalidTableDefinition,
                                format!("multiple primary keys for table \"{}\" are not allowed", rel.name),
                            ));
                        }
                        actions.push(AlterTableAction::AddPrimaryKey {
                            name: pk.name.as_ref().map(names::ident),
                            columns: self.index_columns(&pk.columns, &column_names)?,
                        })
                    }
                    TableConstraint::Unique(u) => actions.push(AlterTableAction::AddUnique {
                        name: u.name.as_ref().map(names::ident),
                        columns: self.index_columns(&u.columns, &column_names)?,
                        nulls_not_distinct: nulls_not_distinct(&u.nulls_distinct),
                    }),
                    TableConstraint::Check(c) => {
                        let check = self.bind_check(c, &rel.name, &column_names, &rel.columns)?;
                        self.validate_check(&check.expr, &rel.columns)?;
                        actions.push(AlterTableAction::AddCheck(check));
                    }
                    TableConstraint::ForeignKey(fk) => {
                        let uniques: Vec<(Option<String>, Vec<usize>)> = rel.unique_keys.iter().map(|u| (None, u.clone())).collect();
                        actions.push(AlterTableAction::AddForeignKey(self.bind_foreign_key(
                            fk, &rel.name, &rel.schema.clone(), &column_names, &rel.columns, &rel.primary_key, &uniques,
                        )?));
                    }
                    other => return Err(Error::unsupported(format!("ADD CONSTRAINT {other}"))),
                },
                Op::DropConstraint { if_exists, name, .. } => {
                    actions.push(AlterTableAction::DropConstraint { name: names::ident(name), if_exists: *if_exists })
                }
                other => return Err(Error::unsupported(format!("ALTER TABLE {other}"))),
            }
        }
        Ok(Plan::AlterTable { table: rel.oid, actions })
    }

    /// A CHECK table constraint, named as PostgreSQL names it by default.
    fn bind_check(&mut self, c: &ast::CheckConstraint, table: &str, column_names: &[String], columns: &[ColumnInfo]) -> Result<CheckPlan> {
        let _ = columns;
        let name = match &c.name {
            Some(n) => names::ident(n),
            None => {
                let text = c.expr.to_string().to_lowercase();
                let first = column_names.iter().find(|n| {
                    text.split(|ch: char| !(ch.is_alphanumeric() || ch == '_')).any(|w| w == n.as_str())
                });
                match first {
                    Some(col) => format!("{table}_{col}_check"),
                    None => format!("{table}_check"),
                }
            }
        };
        Ok(CheckPlan { name: Some(name), expr: c.expr.to_string() })
    }

    /// Checks that a CHECK expression binds over the table's columns to a boolean.
    /// Checks each generated column of a table being created or altered
    /// (`columns`: all of its columns), as PostgreSQL does.
    fn validate_generated(&mut self, columns: &[ColumnInfo]) -> Result<()> {
        for (i, col) in columns.iter().enumerate() {
            if col.generated.is_none() {
                continue;
            }
            if col.default.is_some() {
                return Err(Error::syntax(format!("both default and generation expression specified for column \"{}\"", col.name)));
            }
            self.bind_generated(columns, i)?;
        }
        Ok(())
    }

    /// Binds generated column `i`'s expression over a row of `columns`,
    /// converted to the column's type. Errors as PostgreSQL's for what a
    /// generation expression may not contain.
    pub fn bind_generated(&mut self, columns: &[ColumnInfo], i: usize) -> Result<ScalarExpr> {
        let col = &columns[i];
        let text = col.generated.as_deref().ok_or_else(|| Error::internal(format!("column \"{}\" is not generated", col.name)))?;
        let parsed = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
            .try_with_sql(text)
            .and_then(|mut p| p.parse_expr())
            .map_err(|e| Error::syntax(format!("syntax error in generation expression: {e}")))?;
        let scope = super::scope::Scope::from_columns(None, columns.iter().map(|c| (c.name.clone(), c.ty.clone())));
        let (bound, ty) = self.bind_expr(&parsed, &scope)?;
        let invalid = |msg: String| Error::new(SqlState::InvalidObjectDefinition, msg);
        if super::contains_aggregate(&bound) {
            return Err(Error::new(SqlState::GroupingError, "aggregate functions are not allowed in column generation expressions"));
        }
        super::window::refuse_window(&bound, "column generation expressions")?;
        let mut problem = None;
        bound.visit(&mut |e| match e {
            ScalarExpr::Column(j) if columns.get(*j).is_some_and(|c| c.generated.is_some()) => {
                problem.get_or_insert_with(|| {
                    invalid(format!("cannot use generated column \"{}\" in column generation expression", columns[*j].name))
                        .with_detail("A generated column cannot reference another generated column.")
                });
            }
            ScalarExpr::Subquery(_) => {
                problem.get_or_insert_with(|| {
                    Error::new(SqlState::FeatureNotSupported, "cannot use subquery in column generation expression")
                });
            }
            ScalarExpr::Call { func, .. } if !is_immutable(func) => {
                problem.get_or_insert_with(|| invalid("generation expression is not immutable".into()));
            }
            _ => {}
        });
        if let Some(e) = problem {
            return Err(e);
        }
        self.coerce(bound, &ty, &col.ty, CastContext::Assignment).map_err(|_| {
            Error::new(
                SqlState::DatatypeMismatch,
                format!("column \"{}\" is of type {} but default expression is of type {}", col.name, col.ty, ty),
            )
            .with_hint("You will need to rewrite or cast the expression.")
        })
    }

    fn validate_check(&mut self, expr: &str, columns: &[ColumnInfo]) -> Result<()> {
        let dialect = sqlparser::dialect::PostgreSqlDialect {};
        let parsed = sqlparser::parser::Parser::new(&dialect)
            .try_with_sql(expr)
            .and_then(|mut p| p.parse_expr())
            .map_err(|e| Error::syntax(format!("syntax error in CHECK expression: {e}")))?;
        let scope = super::scope::Scope::from_columns(None, columns.iter().map(|c| (c.name.clone(), c.ty.clone())));
        let bound = self.bind_condition(&parsed, &scope, "CHECK")?;
        if super::contains_aggregate(&bound) {
            return Err(Error::new(SqlState::GroupingError, "aggregate functions are not allowed in check constraints"));
        }
        super::window::refuse_window(&bound, "check constraints")?;
        Ok(())
    }

    /// A FOREIGN KEY constraint of table `table` (columns `column_names`).
    #[allow(clippy::too_many_arguments)]
    fn bind_foreign_key(
        &mut self,
        fk: &ast::ForeignKeyConstraint,
        table: &str,
        schema: &str,
        column_names: &[String],
        columns: &[ColumnInfo],
        own_primary_key: &[usize],
        own_unique: &[(Option<String>, Vec<usize>)],
    ) -> Result<ForeignKeyPlan> {
        let col_index = |name: &str| {
            column_names.iter().position(|c| c == name).ok_or_else(|| {
                Error::new(SqlState::UndefinedColumn, format!("column \"{name}\" referenced in foreign key constraint does not exist"))
            })
        };
        let mut fk_columns = Vec::new();
        for c in &fk.columns {
            fk_columns.push(col_index(&names::ident(c))?);
        }
        let (ref_schema, ref_name) = names::schema_and_name(&fk.foreign_table);
        // A table referencing itself while being created is not in the catalog yet.
        let is_new_self = ref_name == table
            && ref_schema.as_deref().is_none_or(|s| s == schema)
            && self.catalog.relation(Some(schema), table).is_none();
        let (ref_table, ref_column_names, ref_types, ref_pk, ref_unique): (Option<u32>, Vec<String>, Vec<DataType>, Vec<usize>, Vec<Vec<usize>>) =
            if is_new_self {
                (
                    None,
                    column_names.to_vec(),
                    columns.iter().map(|c| c.ty.clone()).collect(),
                    own_primary_key.to_vec(),
                    own_unique.iter().map(|(_, k)| k.clone()).collect(),
                )
            } else {
                let rel = self.catalog.relation(ref_schema.as_deref(), &ref_name).ok_or_else(|| Error::undefined_table(&ref_name))?;
                if rel.kind != RelationKind::Table {
                    return Err(Error::new(SqlState::WrongObjectType, format!("referenced relation \"{}\" is not a table", rel.name)));
                }
                (
                    Some(rel.oid),
                    rel.columns.iter().map(|c| c.name.clone()).collect(),
                    rel.columns.iter().map(|c| c.ty.clone()).collect(),
                    rel.primary_key.clone(),
                    rel.unique_keys.clone(),
                )
            };
        let ref_columns: Vec<usize> = if fk.referred_columns.is_empty() {
            if ref_pk.is_empty() {
                return Err(Error::new(
                    SqlState::UndefinedObject,
                    format!("there is no primary key for referenced table \"{ref_name}\""),
                ));
            }
            ref_pk.clone()
        } else {
            let mut v = Vec::new();
            for c in &fk.referred_columns {
                let n = names::ident(c);
                v.push(ref_column_names.iter().position(|x| *x == n).ok_or_else(|| {
                    Error::new(SqlState::UndefinedColumn, format!("column \"{n}\" referenced in foreign key constraint does not exist"))
                })?);
            }
            v
        };
        if ref_columns.len() != fk_columns.len() {
            return Err(Error::new(
                SqlState::InvalidForeignKey,
                "number of referencing and referenced columns for foreign key disagree",
            ));
        }
        let mut sorted = ref_columns.clone();
        sorted.sort_unstable();
        let matches_key = |k: &Vec<usize>| {
            let mut k = k.clone();
            k.sort_unstable();
            k == sorted
        };
        if !matches_key(&ref_pk) && !ref_unique.iter().any(matches_key) {
            return Err(Error::new(
                SqlState::InvalidForeignKey,
                format!("there is no unique constraint matching given keys for referenced table \"{ref_name}\""),
            ));
        }
        for (c, r) in fk_columns.iter().zip(&ref_columns) {
            let (ct, rt) = (&columns[*c].ty, &ref_types[*r]);
            if crate::typing::common_type(ct, rt).is_none() {
                return Err(Error::new(
                    SqlState::DatatypeMismatch,
                    format!("foreign key constraint cannot be implemented"),
                )
                .with_detail(format!(
                    "Key columns \"{}\" and \"{}\" are of incompatible types: {} and {}.",
                    column_names[*c], ref_column_names[*r], ct.pg_name(), rt.pg_name()
                )));
            }
        }
        let action = |a: &Option<ast::ReferentialAction>| match a {
            None | Some(ast::ReferentialAction::NoAction) => FkAction::NoAction,
            Some(ast::ReferentialAction::Restrict) => FkAction::Restrict,
            Some(ast::ReferentialAction::Cascade) => FkAction::Cascade,
            Some(ast::ReferentialAction::SetNull) => FkAction::SetNull,
            Some(ast::ReferentialAction::SetDefault) => FkAction::SetDefault,
        };
        let (deferrable, initially_deferred) = match &fk.characteristics {
            Some(ch) => {
                let deferred = matches!(ch.initially, Some(ast::DeferrableInitial::Deferred));
                (ch.deferrable.unwrap_or(deferred), deferred)
            }
            None => (false, false),
        };
        let name = fk.name.as_ref().map(names::ident).unwrap_or_else(|| {
            let cols: Vec<&str> = fk_columns.iter().map(|c| column_names[*c].as_str()).collect();
            format!("{table}_{}_fkey", cols.join("_"))
        });
        Ok(ForeignKeyPlan {
            name: Some(name),
            columns: fk_columns,
            ref_table,
            ref_columns,
            on_delete: action(&fk.on_delete),
            on_update: action(&fk.on_update),
            deferrable,
            initially_deferred,
        })
    }

    pub(crate) fn bind_drop(&mut self, stmt: &ast::Statement) -> Result<Plan> {
        let ast::Statement::Drop { object_type, if_exists, names: objects, cascade, .. } = stmt else {
            return Err(Error::internal("bind_drop on a non-DROP statement"));
        };
        let kind = match object_type {
            ast::ObjectType::Table => ObjectKind::Table,
            ast::ObjectType::View => ObjectKind::View,
            ast::ObjectType::MaterializedView => ObjectKind::MaterializedView,
            ast::ObjectType::Index => ObjectKind::Index,
            ast::ObjectType::Sequence => ObjectKind::Sequence,
            ast::ObjectType::Schema => ObjectKind::Schema,
            ast::ObjectType::Type => ObjectKind::Type,
            ast::ObjectType::Database => {
                let name = objects.first().map(|n| names::schema_and_name(n).1).unwrap_or_default();
                return Ok(Plan::DropDatabase { name, if_exists: *if_exists });
            }
            other => return Err(Error::unsupported(format!("DROP {other}"))),
        };
        let names = objects.iter().map(names::schema_and_name).collect();
        Ok(Plan::Drop { kind, names, if_exists: *if_exists, cascade: *cascade })
    }

    pub(crate) fn bind_truncate(&mut self, t: &ast::Truncate) -> Result<Plan> {
        let mut tables = Vec::new();
        for target in &t.table_names {
            let rel = self.target_table(&target.name, "truncate")?;
            tables.push(rel.oid);
        }
        let cascade = matches!(t.cascade, Some(ast::CascadeOption::Cascade));
        let restart_identity = matches!(t.identity, Some(ast::TruncateIdentityOption::Restart));
        Ok(Plan::Truncate { tables, cascade, restart_identity })
    }

    pub(crate) fn bind_create_other(&mut self, stmt: &ast::Statement) -> Result<Plan> {
        use ast::Statement as S;
        match stmt {
            S::CreateDatabase { db_name, if_not_exists, clone, .. } => Ok(Plan::CreateDatabase {
                name: names::schema_and_name(db_name).1,
                if_not_exists: *if_not_exists,
                template: clone.as_ref().map(|c| names::schema_and_name(c).1),
            }),
            S::CreateSchema { schema_name, if_not_exists, .. } => {
                let name = match schema_name {
                    ast::SchemaName::Simple(n) | ast::SchemaName::NamedAuthorization(n, _) => names::schema_and_name(n).1,
                    ast::SchemaName::UnnamedAuthorization(id) => names::ident(id),
                };
                Ok(Plan::CreateSchema { name, if_not_exists: *if_not_exists })
            }
            S::CreateView(view) => {
                let (schema, name) = names::schema_and_name(&view.name);
                let schema = self.schema_for_create_temp(schema, view.temporary)?;
                if view.materialized && is_temp_schema(&schema) {
                    return Err(Error::unsupported("temporary materialized views"));
                }
                if view.materialized {
                    self.for_view = true;
                    let bound = self.bind_query(&view.query);
                    self.for_view = false;
                    let bound = bound?;
                    let mut columns = bound.columns;
                    for (c, alias) in columns.iter_mut().zip(&view.columns) {
                        c.name = names::ident(&alias.name);
                    }
                    for c in columns.iter_mut() {
                        if c.ty == DataType::Unknown {
                            c.ty = DataType::Text;
                        }
                        c.table_oid = 0;
                        c.column_id = 0;
                    }
                    return Ok(Plan::CreateMaterializedView {
                        schema,
                        name,
                        sql: view.query.to_string(),
                        plan: bound.expr,
                        columns,
                        if_not_exists: view.if_not_exists,
                    });
                }
                let bound = self.bind_query(&view.query)?;
                let mut columns = bound.columns;
                for (c, alias) in columns.iter_mut().zip(&view.columns) {
                    c.name = names::ident(&alias.name);
                }
                for c in columns.iter_mut() {
                    if c.ty == DataType::Unknown {
                        c.ty = DataType::Text;
                    }
                }
                Ok(Plan::CreateView { schema, name, sql: view.query.to_string(), columns, or_replace: view.or_replace })
            }
            S::CreateIndex(index) => {
                let (schema, table) = names::schema_and_name(&index.table_name);
                let rel = self.catalog.relation(schema.as_deref(), &table).ok_or_else(|| Error::undefined_table(&table))?;
                let (columns, expressions) = self.index_key(&index.columns, &rel)?;
                let predicate = match &index.predicate {
                    Some(p) => {
                        let bound = self.bind_table_condition(p, &rel)?;
                        refuse_in_index(&bound, "index predicate")?;
                        Some(p.to_string())
                    }
                    None => None,
                };
                if !index.unique && index.nulls_distinct == Some(false) {
                    return Err(Error::syntax("NULLS NOT DISTINCT is only allowed on unique indexes"));
                }
                let mut options = Vec::new();
                let mut opclasses = Vec::new();
                for part in &index.columns {
                    let descending = matches!(part.column.options.sort, Some(ast::OrderBySort::Desc));
                    let nulls_first = part.column.options.nulls_first.unwrap_or(descending);
                    options.push(i16::from(descending) | (i16::from(nulls_first) << 1));
                    opclasses.push(part.operator_class.as_ref().map(|o| names::schema_and_name(o).1));
                }
                let mut include = Vec::new();
                for c in &index.include {
                    let name = names::ident(c);
                    include.push(rel.columns.iter().position(|col| col.name == name).ok_or_else(|| {
                        Error::new(SqlState::UndefinedColumn, format!("column \"{name}\" does not exist"))
                    })?);
                }
                Ok(Plan::CreateIndex(CreateIndexPlan {
                    name: index.name.as_ref().map(|n| names::schema_and_name(n).1),
                    table: rel.oid,
                    columns,
                    expressions,
                    unique: index.unique,
                    if_not_exists: index.if_not_exists,
                    predicate,
                    nulls_not_distinct: index.nulls_distinct == Some(false),
                    options,
                    opclasses,
                    include,
                }))
            }
            S::CreateSequence { name, if_not_exists, sequence_options, temporary, .. } => {
                let (schema, seq) = names::schema_and_name(name);
                let schema = self.schema_for_create_temp(schema, *temporary)?;
                let sequence = identity_sequence(seq, Some(sequence_options))?;
                Ok(Plan::CreateSequence { schema, name: sequence.name.clone(), if_not_exists: *if_not_exists, sequence })
            }
            other => Err(Error::unsupported(format!("statement {}", statement_kind(other)))),
        }
    }
}

fn const_i64(e: &ast::Expr) -> Result<i64> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.parse().map_err(|_| Error::syntax(format!("invalid number {n}"))),
            _ => Err(Error::syntax(format!("expected a number, found {e}"))),
        },
        ast::Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr } => Ok(-const_i64(expr)?),
        _ => Err(Error::syntax(format!("expected a number, found {e}"))),
    }
}

/// PostgreSQL's refusals for an index expression or predicate (`what`):
/// aggregates, window functions, subqueries and functions that are not
/// IMMUTABLE.
fn refuse_in_index(bound: &ScalarExpr, what: &str) -> Result<()> {
    if super::contains_aggregate(bound) {
        return Err(Error::new(SqlState::GroupingError, format!("aggregate functions are not allowed in {what}s")));
    }
    super::window::refuse_window(bound, &format!("{what}s"))?;
    let mut problem = None;
    bound.visit(&mut |e| match e {
        ScalarExpr::Subquery(_) => {
            problem.get_or_insert_with(|| Error::new(SqlState::FeatureNotSupported, format!("cannot use subquery in {what}")));
        }
        ScalarExpr::Call { func, .. } if !is_immutable(func) => {
            problem.get_or_insert_with(|| {
                Error::new(SqlState::InvalidObjectDefinition, format!("functions in {what} must be marked IMMUTABLE"))
            });
        }
        _ => {}
    });
    problem.map_or(Ok(()), Err)
}

/// Whether `schema` is a session's schema for temporary objects.
pub(crate) fn is_temp_schema(schema: &str) -> bool {
    schema.starts_with("pg_temp_")
}

/// Whether `func` always gives the same result for the same arguments
/// (PostgreSQL's IMMUTABLE), as a generation expression must.
fn is_immutable(func: &freshet_expr::Func) -> bool {
    use freshet_expr::func::DateTimeFunc;
    use freshet_expr::Func as F;
    !matches!(
        func,
        F::Random
            | F::GenRandomUuid
            | F::NextVal
            | F::CurrVal
            | F::SetVal
            | F::SetConfig
            | F::CurrentSetting
            | F::Catalog(_)
            | F::DateTime(DateTimeFunc::Now)
    )
}

/// A short name for a statement, for error messages.
pub(crate) fn statement_kind(stmt: &ast::Statement) -> String {
    // The leading keywords (`CREATE FUNCTION`, `LISTEN`), not the names
    // that follow them.
    let text = stmt.to_string();
    let keyword = |w: &str| {
        let upper = w.to_ascii_uppercase();
        w.chars().all(|c| c.is_ascii_alphabetic() || c == '_')
            && sqlparser::keywords::ALL_KEYWORDS.binary_search(&upper.as_str()).is_ok()
    };
    let mut words: Vec<String> = Vec::new();
    for w in text.split_whitespace().take(3) {
        if !keyword(w) || (words.len() == 1 && !matches!(words[0].as_str(), "CREATE" | "ALTER" | "DROP")) {
            break;
        }
        words.push(w.to_ascii_uppercase());
        if words.len() == 2 {
            break;
        }
    }
    if words.is_empty() {
        text.split_whitespace().next().unwrap_or("").to_ascii_uppercase()
    } else {
        words.join(" ")
    }
}

/// Whether a UNIQUE constraint says NULLS NOT DISTINCT.
fn nulls_not_distinct(option: &ast::NullsDistinctOption) -> bool {
    matches!(option, ast::NullsDistinctOption::NotDistinct)
}

/// A sequence from its `START WITH ... INCREMENT BY ...` options (of
/// CREATE SEQUENCE or an identity column); a descending sequence starts at
/// -1 by default, as in PostgreSQL.
fn identity_sequence(name: String, options: Option<&[ast::SequenceOptions]>) -> Result<SerialSequence> {
    let (mut start, mut increment) = (None, 1i64);
    let mut limits = freshet_common::types::SequenceLimits::default();
    for opt in options.unwrap_or_default() {
        match opt {
            ast::SequenceOptions::IncrementBy(e, _) => increment = const_i64(e)?,
            ast::SequenceOptions::StartWith(e, _) => start = Some(const_i64(e)?),
            ast::SequenceOptions::MinValue(Some(e)) => limits.min = Some(const_i64(e)?),
            ast::SequenceOptions::MaxValue(Some(e)) => limits.max = Some(const_i64(e)?),
            ast::SequenceOptions::MinValue(None) => limits.min = None,
            ast::SequenceOptions::MaxValue(None) => limits.max = None,
            ast::SequenceOptions::Cycle(no) => limits.cycle = !*no,
            ast::SequenceOptions::Cache(e) => {
                let cache = const_i64(e)?;
                if cache < 1 {
                    return Err(Error::new(SqlState::InvalidParameterValue, format!("CACHE ({cache}) must be greater than zero")));
                }
                limits.cache = Some(cache);
            }
            // AS type and OWNED BY are not kept (a sequence is bigint).
            ast::SequenceOptions::DataType(_) | ast::SequenceOptions::OwnedBy(_) => {}
        }
    }
    if increment == 0 {
        return Err(Error::new(SqlState::InvalidParameterValue, "INCREMENT must not be zero"));
    }
    let (min, max) = limits.bounds(increment, i64::MIN, i64::MAX);
    if min >= max {
        return Err(Error::new(SqlState::InvalidParameterValue, format!("MINVALUE ({min}) must be less than MAXVALUE ({max})")));
    }
    let start = start.unwrap_or(if increment > 0 { min } else { max });
    if start < min {
        return Err(Error::new(SqlState::InvalidParameterValue, format!("START value ({start}) cannot be less than MINVALUE ({min})")));
    }
    if start > max {
        return Err(Error::new(SqlState::InvalidParameterValue, format!("START value ({start}) cannot be greater than MAXVALUE ({max})")));
    }
    Ok(SerialSequence { name, start, increment, limits })
}
