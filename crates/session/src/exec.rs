//! Executing writes and DDL inside a transaction.

use std::collections::HashSet;

use freshet_common::cast::CastContext;
use freshet_common::{DataType, Datum, Error, Result, Row, SqlState};
use freshet_compute::Executor;
use freshet_sql::plan::{
    AlterTableAction, CreateIndexPlan, CreateSourcePlan, CreateTablePlan, DeletePlan, InsertPlan, LockWait, ObjectKind, OnConflict, QueryPlan, Returning, RowLocking,
    UpdatePlan,
};
use freshet_sql::streaming::StreamingObjectKind;
use freshet_sql::Plan;

use crate::api::ExecuteResult;
use crate::catalog::{ColumnDef, IndexDef, KeyPart, RelKind, RelationDef, SchemaDef};
use crate::locks::{OnConflict as LockConflict, RowKey};
use crate::session::{columns, Session, StateSource};
use crate::state::DbState;
use crate::txn::Txn;

impl Session {
    /// Executes a write or DDL plan in `txn`.
    pub(crate) fn execute_write(&mut self, txn: &mut Txn, plan: Plan, params: &[Datum]) -> Result<ExecuteResult> {
        let cmd = |tag: &str| Ok(ExecuteResult::Command { tag: tag.to_string() });
        match plan {
            Plan::Insert(p) => {
                refuse_source_writes(&txn.work, p.table, "insert into")?;
                self.insert(txn, p, params)
            }
            Plan::Update(p) => {
                refuse_source_writes(&txn.work, p.table, "update")?;
                self.update(txn, p, params)
            }
            Plan::Delete(p) => {
                refuse_source_writes(&txn.work, p.table, "delete from")?;
                self.delete(txn, p, params)
            }
            Plan::CreateSource(p) => self.create_source(txn, p, params),
            Plan::DropStreaming { kind: StreamingObjectKind::Source, names, if_exists, cascade } => {
                self.drop_sources(txn, names, if_exists, cascade)
            }
            Plan::LockingQuery { query, locking } => self.select_locking(txn, query, locking, params),
            Plan::CreateTable(p) => {
                self.create_table(txn, p, params)?;
                cmd("CREATE TABLE")
            }
            Plan::AlterTable { table, actions } => {
                if txn.work.catalog.sources.contains_key(&table)
                    && actions.iter().any(|a| !matches!(a, AlterTableAction::RenameTable { .. } | AlterTableAction::DropConstraint { .. }))
                {
                    let rel = relation(&txn.work, table)?;
                    return Err(Error::new(
                        SqlState::FeatureNotSupported,
                        format!("ALTER TABLE on {} \"{}\" is not supported", source_kind_name(&txn.work, table), rel.name),
                    )
                    .with_detail("Its connector fills the columns it was created with.")
                    .with_hint("Drop it and create it again with the columns you need."));
                }
                for a in actions {
                    self.alter_table(txn, table, a)?;
                }
                cmd("ALTER TABLE")
            }
            Plan::Drop { kind: ObjectKind::Type, names, if_exists, cascade } => {
                self.drop_types(txn, names, if_exists, cascade)?;
                cmd("DROP TYPE")
            }
            Plan::Drop { kind, names, if_exists, cascade } => self.drop_objects(txn, kind, names, if_exists, cascade),
            Plan::Truncate { mut tables, cascade, restart_identity } => {
                if cascade {
                    // Add every table that references a truncated one, transitively.
                    let mut i = 0;
                    while i < tables.len() {
                        for (child, _) in txn.work.catalog.referencing(tables[i]) {
                            if !tables.contains(&child) {
                                tables.push(child);
                            }
                        }
                        i += 1;
                    }
                }
                for oid in &tables {
                    for (child, fk) in txn.work.catalog.referencing(*oid) {
                        if !tables.contains(&child) {
                            let parent = relation(&txn.work, *oid)?;
                            let child_name = txn.work.catalog.relations.get(&child).map(|c| c.name.clone()).unwrap_or_default();
                            return Err(Error::new(
                                SqlState::FeatureNotSupported,
                                "cannot truncate a table referenced in a foreign key constraint",
                            )
                            .with_detail(format!("Table \"{child_name}\" references \"{}\" ({}).", parent.name, fk.name))
                            .with_hint(format!("Truncate table \"{child_name}\" at the same time, or use TRUNCATE ... CASCADE.")));
                        }
                    }
                }
                for oid in &tables {
                    refuse_source_writes(&txn.work, *oid, "truncate")?;
                    let rel = relation(&txn.work, *oid)?;
                    txn.truncate(&rel)?;
                }
                if restart_identity {
                    // Sequences are not transactional here: a rollback
                    // does not undo the restart, unlike PostgreSQL.
                    let owned: Vec<(u32, i64)> = txn
                        .work
                        .catalog
                        .relations
                        .values()
                        .filter_map(|r| match r.kind {
                            RelKind::Sequence { start, owner: Some((t, _)), .. } if tables.contains(&t) => Some((r.oid, start)),
                            _ => None,
                        })
                        .collect();
                    let mut seqs = self.server.sequences.lock();
                    for (oid, start) in owned {
                        if let Some(st) = seqs.get_mut(&oid) {
                            st.value = start;
                            st.called = false;
                        }
                    }
                    drop(seqs);
                    self.server.mark_sequences_dirty();
                }
                cmd("TRUNCATE TABLE")
            }
            Plan::CreateSchema { name, if_not_exists } => {
                if txn.work.catalog.schema_oid(&self.database, &name).is_some() {
                    if if_not_exists {
                        return cmd("CREATE SCHEMA");
                    }
                    return Err(Error::new(SqlState::DuplicateSchema, format!("schema \"{name}\" already exists")));
                }
                let db = self.database.clone();
                let cat = txn.work.catalog_mut();
                let oid = cat.allocate_oid();
                cat.schemas.insert(oid, SchemaDef { oid, database: db, name });
                txn.structural = true;
                cmd("CREATE SCHEMA")
            }
            Plan::CreateView { schema, name, sql, columns: cols, or_replace } => {
                ensure_temp_schema(txn, &self.database.clone(), &schema);
                let existing = txn.work.catalog.relation(&self.database, &schema, &name).cloned();
                let oid = match existing {
                    Some(r) if or_replace && matches!(r.kind, RelKind::View { .. }) => r.oid,
                    Some(_) => return Err(duplicate_relation(&name)),
                    None => {
                        crate::types::check_row_type_name(&txn.work.catalog, &self.database, &schema, &name)?;
                        txn.work.catalog_mut().allocate_oid()
                    }
                };
                let def = RelationDef {
                    oid,
                    database: self.database.clone(),
                    schema,
                    name,
                    kind: RelKind::View { sql },
                    columns: cols
                        .iter()
                        .map(|c| ColumnDef::new(c.name.clone(), c.ty.clone(), false))
                        .collect(),
                    indexes: vec![],
                    foreign_keys: vec![],
                    checks: vec![],
                };
                txn.work.catalog_mut().relations.insert(oid, def);
                txn.structural = true;
                cmd("CREATE VIEW")
            }
            Plan::CreateMaterializedView { schema, name, sql, plan, columns: cols, if_not_exists } => {
                if txn.work.catalog.relation(&self.database, &schema, &name).is_some() {
                    if if_not_exists {
                        return cmd("CREATE MATERIALIZED VIEW");
                    }
                    return Err(duplicate_relation(&name));
                }
                crate::types::check_row_type_name(&txn.work.catalog, &self.database, &schema, &name)?;
                // Refuse what cannot be maintained incrementally now, not at commit.
                freshet_compute::dataflow::prepare_view_plan(&plan)?;
                let mut depends_on = Vec::new();
                plan.visit(&mut |n| {
                    if let freshet_expr::RelExpr::Get { table, .. } = n {
                        if !depends_on.contains(&table.0) {
                            depends_on.push(table.0);
                        }
                    }
                });
                let oid = txn.work.catalog_mut().allocate_oid();
                let def = RelationDef {
                    oid,
                    database: self.database.clone(),
                    schema,
                    name,
                    kind: RelKind::MaterializedView { sql, depends_on },
                    columns: cols
                        .iter()
                        .map(|c| ColumnDef::new(c.name.clone(), c.ty.clone(), false))
                        .collect(),
                    indexes: vec![],
                    foreign_keys: vec![],
                    checks: vec![],
                };
                txn.work.catalog_mut().relations.insert(oid, def);
                txn.structural = true;
                cmd("CREATE MATERIALIZED VIEW")
            }
            Plan::CreateSequence { schema, name, if_not_exists, sequence } => {
                ensure_temp_schema(txn, &self.database.clone(), &schema);
                if txn.work.catalog.relation(&self.database, &schema, &name).is_some() {
                    if if_not_exists {
                        return cmd("CREATE SEQUENCE");
                    }
                    return Err(duplicate_relation(&name));
                }
                self.create_sequence(txn, &schema, &name, &sequence, None);
                cmd("CREATE SEQUENCE")
            }
            Plan::CreateIndex(CreateIndexPlan {
                name,
                table,
                columns: cols,
                expressions,
                unique,
                if_not_exists,
                predicate,
                nulls_not_distinct,
                options,
                opclasses,
                include,
            }) => {
                let mut rel = relation(&txn.work, table)?;
                let shape = IndexDef { columns: cols.clone(), expressions: expressions.clone(), ..Default::default() };
                let col_names: Vec<String> = shape
                    .key_parts()
                    .into_iter()
                    .map(|p| match p {
                        KeyPart::Column(c) => rel.columns.get(c).map(|c| c.name.clone()).unwrap_or_default(),
                        // PostgreSQL names an expression part after its function, else "expr".
                        KeyPart::Expression(e) => match e.split_once('(') {
                            Some((f, _)) if !f.is_empty() && f.chars().all(|c| c.is_alphanumeric() || c == '_') => f.to_lowercase(),
                            _ => "expr".into(),
                        },
                    })
                    .collect();
                let name = name.unwrap_or_else(|| format!("{}_{}_{}", rel.name, col_names.join("_"), if unique { "key" } else { "idx" }));
                // Index names are unique per schema, as relation names are.
                if txn
                    .work
                    .catalog
                    .relations_in(&self.database)
                    .any(|r| r.schema == rel.schema && r.indexes.iter().any(|i| i.name == name))
                {
                    if if_not_exists {
                        return cmd("CREATE INDEX");
                    }
                    return Err(duplicate_relation(&name));
                }
                let oid = txn.work.catalog_mut().allocate_oid();
                rel.indexes.push(IndexDef {
                    oid,
                    name,
                    columns: cols,
                    unique,
                    primary: false,
                    expressions,
                    predicate,
                    nulls_not_distinct,
                    options,
                    opclasses,
                    include,
                    standalone: true,
                });
                self.replace_relation(txn, rel)?;
                cmd("CREATE INDEX")
            }
            Plan::RenameIndex { name, new_name } => {
                let Some(mut rel) = self.relation_with_index(txn, &name) else {
                    return Err(Error::new(SqlState::UndefinedTable, format!("relation \"{name}\" does not exist")));
                };
                if txn.work.catalog.relations_in(&self.database).any(|r| r.name == new_name || r.indexes.iter().any(|i| i.name == new_name)) {
                    return Err(duplicate_relation(&new_name));
                }
                for i in rel.indexes.iter_mut().filter(|i| i.name == name) {
                    i.name = new_name.clone();
                }
                self.replace_relation(txn, rel)?;
                cmd("ALTER INDEX")
            }
            Plan::Comment { object, comment } => {
                let cat = &txn.work.catalog;
                let (classoid, objoid, subid, owner) = match object {
                    freshet_sql::plan::CommentOn::Relation(oid) => {
                        // An index belongs to its table.
                        let owner = if cat.relations.contains_key(&oid) {
                            oid
                        } else {
                            cat.relations.values().find(|r| r.indexes.iter().any(|i| i.oid == oid)).map(|r| r.oid).unwrap_or(oid)
                        };
                        (1259, oid, 0, owner)
                    }
                    freshet_sql::plan::CommentOn::Column(oid, attnum) => (1259, oid, attnum, oid),
                    freshet_sql::plan::CommentOn::Type(oid) => (crate::types::PG_TYPE_OID, oid, 0, 0),
                    freshet_sql::plan::CommentOn::Schema(name) => {
                        let oid = cat.schema_oid(&self.database, &name).ok_or_else(|| {
                            Error::new(SqlState::InvalidSchemaName, format!("schema \"{name}\" does not exist"))
                        })?;
                        (2615, oid, 0, 0)
                    }
                    freshet_sql::plan::CommentOn::Constraint { table, name } => {
                        let rel = relation(&txn.work, table)?;
                        let oid = rel
                            .indexes
                            .iter()
                            .filter(|i| i.unique || i.primary)
                            .map(|i| (i.oid, &i.name))
                            .chain(rel.foreign_keys.iter().map(|f| (f.oid, &f.name)))
                            .chain(rel.checks.iter().map(|c| (c.oid, &c.name)))
                            .find(|(_, n)| **n == name)
                            .map(|(oid, _)| oid)
                            .ok_or_else(|| {
                                Error::new(
                                    SqlState::UndefinedObject,
                                    format!("constraint \"{name}\" for table \"{}\" does not exist", rel.name),
                                )
                            })?;
                        (2606, oid, 0, table)
                    }
                };
                txn.work.catalog_mut().set_comment(classoid, objoid, subid, owner, comment);
                txn.structural = true;
                cmd("COMMENT")
            }
            Plan::CreateEnum { schema, name, labels } => {
                self.create_enum(txn, schema, name, labels)?;
                cmd("CREATE TYPE")
            }
            Plan::AlterEnum { type_oid, action } => {
                self.alter_enum(txn, type_oid, action)?;
                cmd("ALTER TYPE")
            }
            Plan::CreateSubscription { schema, name, from, retention, if_not_exists } => {
                self.create_subscription(txn, schema, name, from, retention, if_not_exists)
            }
            Plan::DropStreaming { kind: StreamingObjectKind::Subscription, names, if_exists, .. } => {
                self.drop_subscriptions(txn, &names, if_exists)
            }
            Plan::CreateSink { schema, name, from, options, format, if_not_exists } => {
                crate::sinks::create_sink(txn, &self.database.clone(), schema, name, from, options, format, if_not_exists)?;
                cmd("CREATE SINK")
            }
            Plan::DropStreaming { kind: StreamingObjectKind::Sink, names, if_exists, .. } => {
                let catalog = crate::session::BindCatalog { state: &txn.work, session: self };
                let search_path = freshet_sql::Catalog::search_path(&catalog);
                crate::sinks::drop_sinks(txn, &self.database.clone(), &search_path, names, if_exists)?;
                cmd("DROP SINK")
            }
            other => Err(Error::internal(format!("plan not executable as a write: {other:?}"))),
        }
    }

    /// Stores a changed relation definition and rebuilds its key indexes.
    /// The relation (of this database) that owns the index called `name`.
    fn relation_with_index(&self, txn: &Txn, name: &str) -> Option<RelationDef> {
        txn.work.catalog.relations_in(&self.database).find(|r| r.indexes.iter().any(|i| i.name == name)).cloned()
    }

    /// Column defaults name their sequence by text (`nextval('s'::regclass)`):
    /// after `seq` is renamed to `new`, they must name it so.
    fn rename_sequence_references(&self, txn: &mut Txn, seq: &RelationDef, new: &str) {
        let quote = freshet_sql::names::quote_ident;
        let forms = |name: &str| {
            // As the binder writes them: bare when lower case, keyword or not.
            let bare = |n: &str| if n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') { n.to_string() } else { quote(n) };
            [bare(name), quote(name), format!("{}.{}", bare(&seq.schema), bare(name))]
                .map(|n| format!("'{}'::regclass", n.replace('\'', "''")))
        };
        let (old_forms, new_forms) = (forms(&seq.name), forms(new));
        let old_forms: Vec<String> = old_forms.into_iter().collect();
        let catalog = txn.work.catalog_mut();
        for rel in catalog.relations.values_mut().filter(|r| r.database == self.database) {
            for c in &mut rel.columns {
                if let Some(d) = &mut c.default {
                    for (old, new) in old_forms.iter().zip(&new_forms) {
                        if d.contains(old.as_str()) {
                            *d = d.replace(old.as_str(), new);
                        }
                    }
                }
            }
        }
        txn.structural = true;
    }

    fn replace_relation(&self, txn: &mut Txn, rel: RelationDef) -> Result<()> {
        let oid = rel.oid;
        txn.work.catalog_mut().relations.insert(oid, rel.clone());
        txn.structural = true;
        if matches!(rel.kind, RelKind::Table) {
            let table = txn.work.table_mut(oid)?;
            table.rebuild_keys(&rel)?;
        }
        Ok(())
    }

    fn create_sequence(&self, txn: &mut Txn, schema: &str, name: &str, seq: &freshet_sql::plan::SerialSequence, owner: Option<(u32, usize)>) -> u32 {
        let (start, increment, limits) = (seq.start, seq.increment, seq.limits);
        let db = self.database.clone();
        let cat = txn.work.catalog_mut();
        let oid = cat.allocate_oid();
        cat.relations.insert(
            oid,
            RelationDef {
                oid,
                database: db,
                schema: schema.to_string(),
                name: name.to_string(),
                kind: RelKind::Sequence { start, increment, owner, limits },
                columns: vec![
                    ColumnDef::new("last_value", DataType::Int8, true),
                    ColumnDef::new("log_cnt", DataType::Int8, true),
                    ColumnDef::new("is_called", DataType::Bool, true),
                ],
                indexes: vec![],
                foreign_keys: vec![],
                checks: vec![],
            },
        );
        txn.structural = true;
        self.server.register_sequence(oid, start, increment, limits);
        oid
    }

    fn create_table(&mut self, txn: &mut Txn, p: CreateTablePlan, params: &[Datum]) -> Result<()> {
        ensure_temp_schema(txn, &self.database.clone(), &p.schema);
        if txn.work.catalog.relation(&self.database, &p.schema, &p.name).is_some() {
            if p.if_not_exists {
                return Ok(());
            }
            return Err(duplicate_relation(&p.name));
        }
        crate::types::check_row_type_name(&txn.work.catalog, &self.database, &p.schema, &p.name)?;
        let oid = txn.work.catalog_mut().allocate_oid();
        let mut indexes = Vec::new();
        if !p.primary_key.is_empty() {
            let ioid = txn.work.catalog_mut().allocate_oid();
            let name = p.primary_key_name.clone().unwrap_or_else(|| format!("{}_pkey", p.name));
            indexes.push(IndexDef { oid: ioid, name, columns: p.primary_key.clone(), unique: true, primary: true, ..Default::default() });
        }
        let uniques = p.unique_keys.iter().map(|u| (u, false)).chain(p.unique_nulls_not_distinct.iter().map(|u| (u, true)));
        for ((name, key), nulls_not_distinct) in uniques {
            let ioid = txn.work.catalog_mut().allocate_oid();
            let names: Vec<&str> = key.iter().filter_map(|c| p.columns.get(*c).map(|c| c.name.as_str())).collect();
            let name = name.clone().unwrap_or_else(|| format!("{}_{}_key", p.name, names.join("_")));
            indexes.push(IndexDef { oid: ioid, name, columns: key.clone(), unique: true, nulls_not_distinct, ..Default::default() });
        }
        let mut foreign_keys = Vec::new();
        for fk in &p.foreign_keys {
            let foid = txn.work.catalog_mut().allocate_oid();
            foreign_keys.push(crate::constraints::fk_def(foid, fk, oid));
        }
        let mut checks = Vec::new();
        for c in &p.checks {
            let coid = txn.work.catalog_mut().allocate_oid();
            checks.push(crate::catalog::CheckDef { oid: coid, name: c.name.clone().unwrap_or_else(|| format!("{}_check", p.name)), expr: c.expr.clone() });
        }
        let def = RelationDef {
            oid,
            database: self.database.clone(),
            schema: p.schema.clone(),
            name: p.name.clone(),
            kind: RelKind::Table,
            columns: p.columns.iter().map(ColumnDef::from_info).collect(),
            indexes,
            foreign_keys,
            checks,
        };
        txn.work.catalog_mut().relations.insert(oid, def);
        txn.structural = true;
        for (seq, col) in &p.sequences {
            if txn.work.catalog.relation(&self.database, &p.schema, &seq.name).is_some() {
                return Err(duplicate_relation(&seq.name));
            }
            self.create_sequence(txn, &p.schema, &seq.name, seq, Some((oid, *col)));
        }
        if let Some(query) = &p.as_query {
            let rel = relation(&txn.work, oid)?;
            let snapshot = txn.work.clone();
            let rows = self.run_query(query, &snapshot, params)?;
            for row in rows {
                let row = check_row(&rel, row)?;
                let id = self.server.next_row_id();
                txn.insert(&rel, id, row)?;
            }
        }
        Ok(())
    }

    /// CREATE SOURCE / CREATE TABLE ... WITH (connector): the table, plus
    /// its connector definition, checked against its columns here
    /// (`freshet-connectors`). The connector starts when this commits.
    fn create_source(&mut self, txn: &mut Txn, p: CreateSourcePlan, params: &[Datum]) -> Result<ExecuteResult> {
        let tag = if p.append_only { "CREATE SOURCE" } else { "CREATE TABLE" };
        if p.table.schema.starts_with("pg_temp") {
            return Err(Error::new(SqlState::FeatureNotSupported, "a temporary source is not supported"));
        }
        if txn.work.catalog.relation(&self.database, &p.table.schema, &p.table.name).is_some() && p.table.if_not_exists {
            return Ok(ExecuteResult::Command { tag: tag.into() });
        }
        let def = crate::catalog::SourceDef { append_only: p.append_only, options: p.options, format: p.format };
        // Check the connector before creating anything.
        let probe = RelationDef {
            oid: 0,
            database: self.database.clone(),
            schema: p.table.schema.clone(),
            name: p.table.name.clone(),
            kind: RelKind::Table,
            columns: p.table.columns.iter().map(ColumnDef::from_info).collect(),
            indexes: vec![],
            foreign_keys: vec![],
            checks: vec![],
        };
        def.spec(&probe)?;
        let (schema, name) = (p.table.schema.clone(), p.table.name.clone());
        self.create_table(txn, p.table, params)?;
        let oid = txn
            .work
            .catalog
            .relation(&self.database, &schema, &name)
            .map(|r| r.oid)
            .ok_or_else(|| Error::internal("the table of a new source is missing"))?;
        txn.work.catalog_mut().sources.insert(oid, def);
        txn.structural = true;
        Ok(ExecuteResult::Command { tag: tag.into() })
    }

    /// DROP SOURCE: like DROP TABLE of the source's table (CASCADE for
    /// materialized views reading it); the connector stops at commit.
    fn drop_sources(&mut self, txn: &mut Txn, names: Vec<(Option<String>, String)>, if_exists: bool, cascade: bool) -> Result<ExecuteResult> {
        for (schema, name) in names {
            match self.find_relation(&txn.work, schema.as_deref(), &name) {
                Some(r) if txn.work.catalog.sources.get(&r.oid).is_some_and(|s| s.append_only) => {
                    drop_relation(txn, &r, "source", cascade)?;
                }
                Some(r) => {
                    let hint = if txn.work.catalog.sources.contains_key(&r.oid) || matches!(r.kind, RelKind::Table) {
                        "Use DROP TABLE to remove a table.".to_string()
                    } else {
                        format!("Use DROP {} to remove a {}.", drop_keyword(&r.kind), relation_kind_name(&r.kind))
                    };
                    return Err(Error::new(SqlState::WrongObjectType, format!("\"{}\" is not a source", r.name)).with_hint(hint));
                }
                None if if_exists => {}
                None => return Err(Error::new(SqlState::UndefinedObject, format!("source \"{name}\" does not exist"))),
            }
        }
        Ok(ExecuteResult::Command { tag: "DROP SOURCE".into() })
    }

    fn insert(&mut self, txn: &mut Txn, p: InsertPlan, params: &[Datum]) -> Result<ExecuteResult> {
        let rel = relation(&txn.work, p.table)?;
        let snapshot = txn.work.clone();
        let rows = self.run_query(&p.source, &snapshot, params)?;
        let text = self.settings.text_context();
        let source = StateSource { state: &snapshot, session: self };
        let seqs = self.sequences();
        let exec = Executor::new(&source, params, &text, txn.start).with_sequences(&seqs);
        let ctx = exec.context(&[]);
        let checks = crate::constraints::CheckSet::bind(self, &snapshot, &rel)?;
        let constraints = rel.unique_constraints();
        let mut returned = Vec::new();
        let mut count = 0u64;
        let mut touched: HashSet<u64> = HashSet::new();
        for row in rows {
            let row = check_row(&rel, checks.generate(row, &ctx)?)?;
            checks.check(&rel, &row, &ctx)?;
            if let Some(oc) = &p.on_conflict {
                // Find a conflicting row on the arbiter key(s).
                // A named key is a plain unique index on those columns;
                // without one, every unique index arbitrates.
                let arbiters: Vec<usize> = match oc {
                    OnConflict::DoNothing { key: Some(k) } | OnConflict::DoUpdate { key: k, .. } => (0..constraints.len())
                        .filter(|i| constraints[*i].is_plain() && sorted(&constraints[*i].columns) == sorted(k))
                        .collect(),
                    OnConflict::DoNothing { key: None } => (0..constraints.len()).collect(),
                };
                let mut existing: Option<u64> = None;
                if let Some(table) = txn.work.table(rel.oid) {
                    for k in arbiters {
                        if let Some(key) = crate::index_key::index_key(&rel, constraints[k], &row)? {
                            if let Some(id) = table.keys.get(k).and_then(|idx| idx.get(&key)) {
                                existing = Some(*id);
                                break;
                            }
                        }
                    }
                }
                if let Some(id) = existing {
                    match oc {
                        OnConflict::DoNothing { .. } => continue,
                        OnConflict::DoUpdate { assignments, predicate, .. } => {
                            if !touched.insert(id) {
                                return Err(Error::new(
                                    SqlState::CardinalityViolation,
                                    "ON CONFLICT DO UPDATE command cannot affect row a second time",
                                )
                                .with_hint("Ensure that no rows proposed for insertion within the same command have duplicate constrained values."));
                            }
                            self.lock_rows(txn, rel.oid, &[id])?;
                            let old = txn
                                .work
                                .table(rel.oid)
                                .and_then(|t| t.rows.get(&id).map(|r| r.to_vec()))
                                .ok_or_else(|| Error::internal("conflicting row vanished"))?;
                            let mut combined = old.clone();
                            combined.extend(row.iter().cloned());
                            if let Some(pred) = predicate {
                                if pred.eval(&combined, &ctx)? != Datum::Bool(true) {
                                    continue;
                                }
                            }
                            let mut new = old.clone();
                            for (col, e) in assignments {
                                new[*col] = e.eval(&combined, &ctx)?;
                            }
                            let new = check_row(&rel, checks.generate(new, &ctx)?)?;
                            checks.check(&rel, &new, &ctx)?;
                            txn.update_many(&rel, vec![(id, new.clone())])?;
                            count += 1;
                            if let Some(r) = &p.returning {
                                returned.push(eval_returning(r, &new, &ctx)?);
                            }
                            continue;
                        }
                    }
                }
            }
            let id = self.server.next_row_id();
            txn.insert(&rel, id, row.clone())?;
            if p.on_conflict.is_some() {
                touched.insert(id);
            }
            count += 1;
            if let Some(r) = &p.returning {
                returned.push(eval_returning(r, &row, &ctx)?);
            }
        }
        let tag = format!("INSERT 0 {count}");
        Ok(dml_result(p.returning, returned, tag))
    }

    fn update(&mut self, txn: &mut Txn, p: UpdatePlan, params: &[Datum]) -> Result<ExecuteResult> {
        let rel = relation(&txn.work, p.table)?;
        let n = rel.columns.len();
        let snapshot = txn.work.clone();
        let rows = self.run_query(&p.source, &snapshot, params)?;
        let text = self.settings.text_context();
        let source = StateSource { state: &snapshot, session: self };
        let seqs = self.sequences();
        let exec = Executor::new(&source, params, &text, txn.start).with_sequences(&seqs);
        let ctx = exec.context(&[]);
        let checks = crate::constraints::CheckSet::bind(self, &snapshot, &rel)?;
        let mut seen = HashSet::new();
        let mut updates = Vec::new();
        let mut returned = Vec::new();
        for row in rows {
            let id = row_id(&row, n)?;
            if !seen.insert(id) {
                continue;
            }
            let mut new: Row = row[..n].to_vec();
            for (col, e) in &p.assignments {
                new[*col] = e.eval(&row, &ctx)?;
            }
            let new = check_row(&rel, checks.generate(new, &ctx)?)?;
            checks.check(&rel, &new, &ctx)?;
            if let Some(r) = &p.returning {
                let mut layout = new.clone();
                layout.extend(row[n..].iter().cloned());
                returned.push(eval_returning(r, &layout, &ctx)?);
            }
            updates.push((id, new));
        }
        let ids: Vec<u64> = updates.iter().map(|(id, _)| *id).collect();
        self.lock_rows(txn, rel.oid, &ids)?;
        let count = updates.len();
        txn.update_many(&rel, updates)?;
        let tag = format!("UPDATE {count}");
        Ok(dml_result(p.returning, returned, tag))
    }

    fn delete(&mut self, txn: &mut Txn, p: DeletePlan, params: &[Datum]) -> Result<ExecuteResult> {
        let rel = relation(&txn.work, p.table)?;
        let n = rel.columns.len();
        let snapshot = txn.work.clone();
        let rows = self.run_query(&p.source, &snapshot, params)?;
        let text = self.settings.text_context();
        let source = StateSource { state: &snapshot, session: self };
        let exec = Executor::new(&source, params, &text, txn.start);
        let ctx = exec.context(&[]);
        let mut seen = HashSet::new();
        let mut targets = Vec::new();
        for row in &rows {
            let id = row_id(row, n)?;
            if seen.insert(id) {
                targets.push(id);
            }
        }
        self.lock_rows(txn, rel.oid, &targets)?;
        let mut seen = HashSet::new();
        let mut returned = Vec::new();
        let mut deleted = Vec::new();
        for row in rows {
            let id = row_id(&row, n)?;
            if !seen.insert(id) {
                continue;
            }
            if let Some(old) = txn.delete(&rel, id)? {
                deleted.push(old.to_vec());
            }
            if let Some(r) = &p.returning {
                returned.push(eval_returning(r, &row, &ctx)?);
            }
        }
        drop(exec);
        self.cascade_deletes(txn, &rel, deleted, 0)?;
        let tag = format!("DELETE {}", seen.len());
        Ok(dml_result(p.returning, returned, tag))
    }

    fn drop_objects(
        &mut self,
        txn: &mut Txn,
        kind: ObjectKind,
        names: Vec<(Option<String>, String)>,
        if_exists: bool,
        _cascade: bool,
    ) -> Result<ExecuteResult> {
        let tag = match kind {
            ObjectKind::Table => "DROP TABLE",
            ObjectKind::View => "DROP VIEW",
            ObjectKind::MaterializedView => "DROP MATERIALIZED VIEW",
            ObjectKind::Index => "DROP INDEX",
            ObjectKind::Sequence => "DROP SEQUENCE",
            ObjectKind::Schema => "DROP SCHEMA",
            ObjectKind::Type => "DROP TYPE",
        };
        for (schema, name) in names {
            match kind {
                ObjectKind::Schema => {
                    let Some(oid) = txn.work.catalog.schema(&self.database, &name).map(|s| s.oid) else {
                        if if_exists {
                            continue;
                        }
                        return Err(Error::new(SqlState::InvalidSchemaName, format!("schema \"{name}\" does not exist")));
                    };
                    let _ = oid;
                    drop_schema_contents(txn, &self.database.clone(), &name);
                }
                ObjectKind::Index => {
                    match self.relation_with_index(txn, &name) {
                        Some(mut rel) => {
                            rel.indexes.retain(|i| i.name != name);
                            self.replace_relation(txn, rel)?;
                        }
                        None if if_exists => continue,
                        None => {
                            return Err(Error::new(SqlState::UndefinedObject, format!("index \"{name}\" does not exist")))
                        }
                    }
                }
                _ => {
                    let rel = self.find_relation(&txn.work, schema.as_deref(), &name);
                    let is_source = |r: &RelationDef| txn.work.catalog.sources.get(&r.oid).is_some_and(|s| s.append_only);
                    if let Some(r) = rel.as_ref().filter(|r| is_source(r)) {
                        return Err(Error::new(SqlState::WrongObjectType, format!("\"{}\" is not a {}", r.name, match kind {
                            ObjectKind::Table => "table",
                            ObjectKind::View => "view",
                            ObjectKind::Sequence => "sequence",
                            _ => "materialized view",
                        }))
                        .with_hint("Use DROP SOURCE to remove a source."));
                    }
                    let wanted = |r: &RelationDef| match kind {
                        ObjectKind::Table => matches!(r.kind, RelKind::Table),
                        ObjectKind::View => matches!(r.kind, RelKind::View { .. }),
                        ObjectKind::MaterializedView => matches!(r.kind, RelKind::MaterializedView { .. }),
                        ObjectKind::Sequence => matches!(r.kind, RelKind::Sequence { .. }),
                        _ => false,
                    };
                    let kind_name = match kind {
                        ObjectKind::Table => "table",
                        ObjectKind::View => "view",
                        ObjectKind::Sequence => "sequence",
                        _ => "materialized view",
                    };
                    match rel {
                        Some(r) if wanted(&r) => drop_relation(txn, &r, kind_name, _cascade)?,
                        Some(r) => {
                            return Err(Error::new(
                                SqlState::WrongObjectType,
                                format!("\"{}\" is not a {kind_name}", r.name),
                            )
                            .with_hint(format!("Use DROP {} to remove a {}.", drop_keyword(&r.kind), relation_kind_name(&r.kind))))
                        }
                        None if if_exists => continue,
                        None => {
                            return Err(Error::new(
                                SqlState::UndefinedTable,
                                format!("{kind_name} \"{name}\" does not exist"),
                            ))
                        }
                    }
                }
            }
        }
        Ok(ExecuteResult::Command { tag: tag.into() })
    }

    fn find_relation(&self, state: &DbState, schema: Option<&str>, name: &str) -> Option<RelationDef> {
        let catalog = crate::session::BindCatalog { state, session: self };
        let info = freshet_sql::Catalog::relation(&catalog, schema, name)?;
        state.catalog.relations.get(&info.oid).cloned()
    }

    pub(crate) fn alter_table(&mut self, txn: &mut Txn, table: u32, action: AlterTableAction) -> Result<()> {
        let mut rel = relation(&txn.work, table)?;
        let column_index = |rel: &RelationDef, name: &str| {
            rel.columns.iter().position(|c| c.name == name).ok_or_else(|| {
                Error::new(SqlState::UndefinedColumn, format!("column \"{name}\" of relation \"{}\" does not exist", rel.name))
            })
        };
        match action {
            AlterTableAction::AddColumn { column, if_not_exists, sequence } => {
                if rel.columns.iter().any(|c| c.name == column.name) {
                    if if_not_exists {
                        return Ok(());
                    }
                    return Err(Error::new(
                        SqlState::DuplicateColumn,
                        format!("column \"{}\" of relation \"{}\" already exists", column.name, rel.name),
                    ));
                }
                if let Some(seq) = &sequence {
                    self.create_sequence(txn, &rel.schema.clone(), &seq.name, seq, Some((rel.oid, rel.columns.len())));
                }
                rel.columns.push(ColumnDef::from_info(&column));
                self.replace_relation(txn, rel.clone())?;
                // Existing rows get the default, evaluated per row.
                let rows: Vec<(u64, Row)> = txn.work.table(table).map(|t| t.rows.iter().map(|(k, v)| (*k, v.to_vec())).collect()).unwrap_or_default();
                if !rows.is_empty() {
                    let info = rel.info();
                    let default = {
                        let catalog = crate::session::BindCatalog { state: &txn.work, session: self };
                        let mut binder = freshet_sql::Binder::new(&catalog, vec![], self.settings.text_context());
                        binder.bind_default(info.columns.last().ok_or_else(|| Error::internal("no column"))?)?
                    };
                    let snapshot = txn.work.clone();
                    let text = self.settings.text_context();
                    let source = StateSource { state: &snapshot, session: self };
                    let seqs = self.sequences();
                    let exec = Executor::new(&source, &[], &text, txn.start).with_sequences(&seqs);
                    let ctx = exec.context(&[]);
                    let rules = crate::constraints::CheckSet::bind(self, &snapshot, &rel)?;
                    let mut updates = Vec::new();
                    for (id, mut row) in rows {
                        row.push(default.eval(&[], &ctx)?);
                        updates.push((id, check_row(&rel, rules.generate(row, &ctx)?)?));
                    }
                    rewrite_rows(txn, &rel, updates)?;
                }
            }
            AlterTableAction::DropColumn { name, if_exists } => {
                let Some(idx) = rel.columns.iter().position(|c| c.name == name) else {
                    if if_exists {
                        return Ok(());
                    }
                    return Err(column_index(&rel, &name).err().unwrap_or_else(|| Error::internal("column lookup")));
                };
                let dependent = rel.columns.iter().find(|c| {
                    c.generated.as_deref().is_some_and(|g| freshet_sql::names::identifiers_in(g).contains(&name))
                });
                if let Some(dep) = dependent {
                    return Err(Error::new(
                        SqlState::DependentObjectsStillExist,
                        format!("cannot drop column {name} of table {} because other objects depend on it", rel.name),
                    )
                    .with_detail(format!("column {} of table {} depends on column {name}", dep.name, rel.name))
                    .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
                }
                rel.columns.remove(idx);
                let shift = |cols: &mut Vec<usize>| {
                    for c in cols.iter_mut() {
                        if *c > idx {
                            *c -= 1;
                        }
                    }
                };
                let mentions = |text: &str| freshet_sql::names::identifiers_in(text).contains(&name);
                rel.indexes.retain(|i| {
                    !i.columns.contains(&idx)
                        && !i.include.contains(&idx)
                        && !i.expressions.iter().any(|(_, e)| mentions(e))
                        && !i.predicate.as_deref().is_some_and(mentions)
                });
                for i in &mut rel.indexes {
                    shift(&mut i.columns);
                    shift(&mut i.include);
                }
                // Constraints on the dropped column go with it (PostgreSQL
                // drops them); the others follow the columns' new positions.
                rel.foreign_keys.retain(|f| !f.columns.contains(&idx));
                for f in &mut rel.foreign_keys {
                    shift(&mut f.columns);
                    if f.ref_table == rel.oid {
                        shift(&mut f.ref_columns);
                    }
                }
                rel.checks.retain(|c| {
                    !c.expr.to_lowercase().split(|ch: char| !(ch.is_alphanumeric() || ch == '_')).any(|w| w == name)
                });
                let children: Vec<u32> = txn.work.catalog.referencing(rel.oid).into_iter().map(|(c, _)| c).filter(|c| *c != rel.oid).collect();
                for child in children {
                    if let Some(mut c) = txn.work.catalog.relations.get(&child).cloned() {
                        c.foreign_keys.retain(|f| !(f.ref_table == rel.oid && f.ref_columns.contains(&idx)));
                        for f in c.foreign_keys.iter_mut().filter(|f| f.ref_table == rel.oid) {
                            shift(&mut f.ref_columns);
                        }
                        self.replace_relation_unchecked(txn, c);
                    }
                }
                let rows: Vec<(u64, Row)> = txn.work.table(table).map(|t| t.rows.iter().map(|(k, v)| (*k, v.to_vec())).collect()).unwrap_or_default();
                self.replace_relation_unchecked(txn, rel.clone());
                let updates = rows
                    .into_iter()
                    .map(|(id, mut row)| {
                        row.remove(idx);
                        (id, row)
                    })
                    .collect();
                rewrite_rows(txn, &rel, updates)?;
            }
            AlterTableAction::RenameColumn { old, new } => {
                let idx = column_index(&rel, &old)?;
                if rel.columns.iter().any(|c| c.name == new) {
                    return Err(Error::new(
                        SqlState::DuplicateColumn,
                        format!("column \"{new}\" of relation \"{}\" already exists", rel.name),
                    ));
                }
                // Stored expressions name columns by text: rename there too.
                for c in &mut rel.columns {
                    if let Some(g) = &mut c.generated {
                        *g = freshet_sql::names::rename_identifier(g, &old, &new);
                    }
                }
                for check in &mut rel.checks {
                    check.expr = freshet_sql::names::rename_identifier(&check.expr, &old, &new);
                }
                for index in &mut rel.indexes {
                    for (_, e) in &mut index.expressions {
                        *e = freshet_sql::names::rename_identifier(e, &old, &new);
                    }
                    if let Some(p) = &mut index.predicate {
                        *p = freshet_sql::names::rename_identifier(p, &old, &new);
                    }
                }
                rel.columns[idx].name = new;
                self.replace_relation(txn, rel)?;
            }
            AlterTableAction::RenameTable { new } => {
                if txn.work.catalog.relation(&self.database, &rel.schema, &new).is_some() {
                    return Err(duplicate_relation(&new));
                }
                if !matches!(rel.kind, RelKind::Sequence { .. }) {
                    crate::types::check_row_type_name(&txn.work.catalog, &self.database, &rel.schema, &new)?;
                }
                if matches!(rel.kind, RelKind::Sequence { .. }) {
                    self.rename_sequence_references(txn, &rel, &new);
                }
                rel.name = new;
                self.replace_relation(txn, rel)?;
            }
            AlterTableAction::SetDefault { column, default } => {
                let idx = column_index(&rel, &column)?;
                // DROP IDENTITY arrives as DROP DEFAULT (see freshet_sql::parse).
                if default.is_none() {
                    rel.columns[idx].identity = None;
                }
                rel.columns[idx].default = default;
                self.replace_relation(txn, rel)?;
            }
            AlterTableAction::AddIdentity { column, sequence, default, identity } => {
                let idx = column_index(&rel, &column)?;
                if txn.work.table(table).is_some_and(|t| t.rows.values().any(|r| r[idx].is_null())) {
                    return Err(Error::new(
                        SqlState::NotNullViolation,
                        format!("column \"{column}\" of relation \"{}\" contains null values", rel.name),
                    ));
                }
                if txn.work.catalog.relation(&self.database, &rel.schema, &sequence.name).is_some() {
                    return Err(duplicate_relation(&sequence.name));
                }
                self.create_sequence(txn, &rel.schema.clone(), &sequence.name, &sequence, Some((rel.oid, idx)));
                rel.columns[idx].default = Some(default);
                rel.columns[idx].identity = Some(identity);
                rel.columns[idx].not_null = true;
                self.replace_relation(txn, rel)?;
            }
            AlterTableAction::SetNotNull { column, not_null } => {
                let idx = column_index(&rel, &column)?;
                if not_null {
                    if let Some(t) = txn.work.table(table) {
                        if t.rows.values().any(|r| r[idx].is_null()) {
                            return Err(Error::new(
                                SqlState::NotNullViolation,
                                format!("column \"{column}\" of relation \"{}\" contains null values", rel.name),
                            ));
                        }
                    }
                }
                rel.columns[idx].not_null = not_null;
                self.replace_relation(txn, rel)?;
            }
            AlterTableAction::AlterType { column, ty, collation } => {
                let idx = column_index(&rel, &column)?;
                let from = rel.columns[idx].ty.clone();
                if !freshet_common::cast::can_cast(&from, &ty, CastContext::Assignment)
                    && !freshet_common::cast::can_cast(&from, &ty, CastContext::Explicit)
                {
                    return Err(Error::new(
                        SqlState::DatatypeMismatch,
                        format!("column \"{column}\" cannot be cast automatically to type {}", ty.pg_name()),
                    ));
                }
                rel.columns[idx].ty = ty.clone();
                rel.columns[idx].collation = collation;
                let rows: Vec<(u64, Row)> = txn.work.table(table).map(|t| t.rows.iter().map(|(k, v)| (*k, v.to_vec())).collect()).unwrap_or_default();
                let text = self.settings.text_context();
                let mut updates = Vec::new();
                for (id, mut row) in rows {
                    let v = std::mem::replace(&mut row[idx], Datum::Null);
                    // Assignment semantics: shortening a varchar fails (22001) rather than truncating.
                    let context = if freshet_common::cast::can_cast(&from, &ty, CastContext::Assignment) {
                        CastContext::Assignment
                    } else {
                        CastContext::Explicit
                    };
                    row[idx] = if v.is_null() {
                        v
                    } else {
                        freshet_common::cast::cast_with_context(v, &from, &ty, &text, context)?
                    };
                    updates.push((id, check_row(&rel, row)?));
                }
                self.replace_relation_unchecked(txn, rel.clone());
                rewrite_rows(txn, &rel, updates)?;
                txn.work.table_mut(table)?.rebuild_keys(&rel)?;
            }
            AlterTableAction::AddPrimaryKey { name, columns: cols } => {
                if let Some(t) = txn.work.table(table) {
                    for c in &cols {
                        if t.rows.values().any(|r| r[*c].is_null()) {
                            return Err(Error::new(
                                SqlState::NotNullViolation,
                                format!("column \"{}\" of relation \"{}\" contains null values", rel.columns[*c].name, rel.name),
                            ));
                        }
                    }
                }
                for c in &cols {
                    rel.columns[*c].not_null = true;
                }
                let oid = txn.work.catalog_mut().allocate_oid();
                let name = name.unwrap_or_else(|| format!("{}_pkey", rel.name));
                rel.indexes.push(IndexDef { oid, name, columns: cols, unique: true, primary: true, ..Default::default() });
                self.replace_relation(txn, rel)?;
            }
            AlterTableAction::AddUnique { name, columns: cols, nulls_not_distinct } => {
                let names: Vec<String> = cols.iter().map(|c| rel.columns[*c].name.clone()).collect();
                let oid = txn.work.catalog_mut().allocate_oid();
                let name = name.unwrap_or_else(|| format!("{}_{}_key", rel.name, names.join("_")));
                rel.indexes.push(IndexDef { oid, name, columns: cols, unique: true, nulls_not_distinct, ..Default::default() });
                self.replace_relation(txn, rel)?;
            }
            AlterTableAction::AddForeignKey(fk) => {
                let oid = txn.work.catalog_mut().allocate_oid();
                let def = crate::constraints::fk_def(oid, &fk, rel.oid);
                if rel.foreign_keys.iter().any(|f| f.name == def.name) || rel.checks.iter().any(|c| c.name == def.name) {
                    return Err(Error::new(
                        SqlState::DuplicateObject,
                        format!("constraint \"{}\" for relation \"{}\" already exists", def.name, rel.name),
                    ));
                }
                rel.foreign_keys.push(def.clone());
                self.replace_relation(txn, rel.clone())?;
                crate::constraints::validate_existing_fk(&txn.work, &rel, &def)?;
            }
            AlterTableAction::AddCheck(c) => {
                let oid = txn.work.catalog_mut().allocate_oid();
                let name = c.name.unwrap_or_else(|| format!("{}_check", rel.name));
                if rel.checks.iter().any(|x| x.name == name) {
                    return Err(Error::new(
                        SqlState::DuplicateObject,
                        format!("constraint \"{name}\" for relation \"{}\" already exists", rel.name),
                    ));
                }
                rel.checks.push(crate::catalog::CheckDef { oid, name: name.clone(), expr: c.expr });
                self.replace_relation(txn, rel.clone())?;
                let checks = crate::constraints::CheckSet::bind(self, &txn.work, &rel)?;
                let snapshot = txn.work.clone();
                let text = self.settings.text_context();
                let source = StateSource { state: &snapshot, session: self };
                let exec = Executor::new(&source, &[], &text, txn.start);
                let ctx = exec.context(&[]);
                if let Some(data) = snapshot.table(rel.oid) {
                    for row in data.rows.values() {
                        checks.check(&rel, row, &ctx).map_err(|mut e| {
                            e.message = format!("check constraint \"{name}\" of relation \"{}\" is violated by some row", rel.name);
                            e.detail = None;
                            e
                        })?;
                    }
                }
            }
            AlterTableAction::DropConstraint { name, if_exists } => {
                let before = (rel.indexes.len(), rel.foreign_keys.len(), rel.checks.len());
                rel.indexes.retain(|i| !((i.unique || i.primary) && i.name == name));
                rel.foreign_keys.retain(|f| f.name != name);
                rel.checks.retain(|c| c.name != name);
                if before == (rel.indexes.len(), rel.foreign_keys.len(), rel.checks.len()) {
                    if if_exists {
                        return Ok(());
                    }
                    return Err(Error::new(
                        SqlState::UndefinedObject,
                        format!("constraint \"{name}\" of relation \"{}\" does not exist", rel.name),
                    ));
                }
                self.replace_relation(txn, rel)?;
            }
        }
        Ok(())
    }

    fn replace_relation_unchecked(&self, txn: &mut Txn, rel: RelationDef) {
        txn.work.catalog_mut().relations.insert(rel.oid, rel);
        txn.structural = true;
    }
}

/// The marker error that makes [`Session::run_statement`] re-run a
/// statement after waiting for row locks. Never reaches a client.
/// Drops the table, view, sequence, materialized view or source `r`:
/// materialized views reading it need `cascade` (2BP01 otherwise), and so
/// do foreign keys referencing it; sequences it owns go with it, and so
/// does its connector (pruned at commit). `kind_name` names it in errors.
pub(crate) fn drop_relation(txn: &mut Txn, r: &RelationDef, kind_name: &str, cascade: bool) -> Result<()> {
    let subscriptions = crate::subscriptions::subscriptions_of(&txn.work, r.oid);
    if let (Some((_, sub)), false) = (subscriptions.first(), cascade) {
        return Err(Error::new(
            SqlState::DependentObjectsStillExist,
            format!("cannot drop {kind_name} {} because other objects depend on it", r.name),
        )
        .with_detail(format!("subscription {sub} depends on {kind_name} {}", r.name))
        .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
    }
    let views: Vec<(u32, String)> = txn
        .work
        .catalog
        .relations
        .values()
        .filter(|v| matches!(&v.kind, RelKind::MaterializedView { depends_on, .. } if depends_on.contains(&r.oid)))
        .map(|v| (v.oid, v.name.clone()))
        .collect();
    if !views.is_empty() {
        if !cascade {
            return Err(Error::new(
                SqlState::DependentObjectsStillExist,
                format!("cannot drop {kind_name} {} because other objects depend on it", r.name),
            )
            .with_detail(format!("materialized view {} depends on {kind_name} {}", views[0].1, r.name))
            .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
        }
        let cat = txn.work.catalog_mut();
        for (v, _) in &views {
            cat.relations.remove(v);
        }
    }
    let doomed: Vec<u32> = views.iter().map(|(v, _)| *v).chain([r.oid]).collect();
    crate::sinks::drop_dependent_sinks(txn, &doomed, cascade, kind_name, &r.name)?;
    let dependents: Vec<(u32, crate::catalog::ForeignKeyDef)> = txn
        .work
        .catalog
        .referencing(r.oid)
        .into_iter()
        .filter(|(child, _)| *child != r.oid)
        .collect();
    if !dependents.is_empty() {
        if !cascade {
            let (child, fk) = &dependents[0];
            let child_name = txn.work.catalog.relations.get(child).map(|c| c.name.clone()).unwrap_or_default();
            return Err(Error::new(
                SqlState::DependentObjectsStillExist,
                format!("cannot drop {kind_name} {} because other objects depend on it", r.name),
            )
            .with_detail(format!("constraint {} on table {child_name} depends on {kind_name} {}", fk.name, r.name))
            .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
        }
        let cat = txn.work.catalog_mut();
        for (child, fk) in &dependents {
            if let Some(c) = cat.relations.get_mut(child) {
                c.foreign_keys.retain(|f| f.oid != fk.oid);
            }
        }
    }
    let cat = txn.work.catalog_mut();
    cat.relations.remove(&r.oid);
    // Sequences owned by the table go with it.
    cat.relations.retain(|_, s| !matches!(s.kind, RelKind::Sequence { owner: Some((o, _)), .. } if o == r.oid));
    txn.work.tables.remove(&r.oid);
    txn.writes.retain(|w| w.table != r.oid);
    txn.structural = true;
    crate::subscriptions::drop_orphaned_subscriptions(txn);
    Ok(())
}

/// Refuses a write (`verb`: "insert into", "update", ...) into an
/// append-only source with 42809, as PostgreSQL refuses writes into a
/// view; connector tables accept writes.
pub(crate) fn refuse_source_writes(state: &DbState, table: u32, verb: &str) -> Result<()> {
    if state.catalog.sources.get(&table).is_some_and(|s| s.append_only) {
        let name = state.catalog.relations.get(&table).map(|r| r.name.clone()).unwrap_or_default();
        return Err(Error::new(SqlState::WrongObjectType, format!("cannot {verb} source \"{name}\""))
            .with_detail("A source is append-only: only its connector adds rows.")
            .with_hint("Use CREATE TABLE ... WITH (connector = ...) for a table that also accepts DML."));
    }
    Ok(())
}

/// "source" or "table with a connector", for messages about `table`.
fn source_kind_name(state: &DbState, table: u32) -> &'static str {
    match state.catalog.sources.get(&table) {
        Some(s) if s.append_only => "source",
        Some(_) => "table with a connector",
        None => "table",
    }
}

fn retry_error() -> Error {
    Error::new(SqlState::SerializationFailure, "\u{0}retry statement after lock wait")
}

/// Whether `e` is the statement-retry marker.
pub(crate) fn is_retry(e: &Error) -> bool {
    e.state == SqlState::SerializationFailure && e.message.starts_with('\u{0}')
}

impl Session {
    /// Locks rows of `table` that the statement is about to change. If it
    /// had to wait, or a newly locked row changed since the statement read
    /// it, the statement must run again on fresh data.
    fn lock_rows(&self, txn: &Txn, table: u32, ids: &[u64]) -> Result<()> {
        let keys: Vec<RowKey> = ids.iter().map(|id| (table, *id)).collect();
        self.lock_keys(txn, &keys, LockConflict::Wait).map(|_| ())
    }

    /// Locks `keys` for `txn` (see [`Session::lock_rows`]); returns the
    /// rows skipped under [`LockConflict::Skip`]. 55P03 for a row another
    /// transaction holds under [`LockConflict::Fail`].
    fn lock_keys(&self, txn: &Txn, keys: &[RowKey], on_conflict: LockConflict) -> Result<Vec<RowKey>> {
        let Some(locks) = &txn.locks else { return Ok(vec![]) };
        let acquired = locks.lock(keys, on_conflict, &self.cancel_flag())?;
        if let Some((table, _)) = acquired.unavailable {
            let name = txn.work.catalog.relations.get(&table).map(|r| r.name.clone()).unwrap_or_default();
            return Err(Error::new(SqlState::LockNotAvailable, format!("could not obtain lock on row in relation \"{name}\"")));
        }
        if acquired.waited {
            return Err(retry_error());
        }
        if !acquired.newly.is_empty() && self.server.current_ts() != txn.base_ts {
            let latest = self.server.snapshot();
            for (t, id) in &acquired.newly {
                let committed = latest.table(*t).and_then(|d| d.rows.get(id));
                let seen = txn.work.table(*t).and_then(|d| d.rows.get(id));
                if committed != seen {
                    return Err(retry_error());
                }
            }
        }
        Ok(acquired.skipped)
    }

    /// SELECT ... FOR UPDATE/SHARE: runs the query on the transaction's
    /// latest state and locks the rows it returns (re-running it if a lock
    /// had to be waited for, so it returns the rows as their lockers left
    /// them).
    fn select_locking(&mut self, txn: &mut Txn, query: QueryPlan, locking: RowLocking, params: &[Datum]) -> Result<ExecuteResult> {
        let snapshot = txn.work.clone();
        let mut rows = self.run_query(&query.expr, &snapshot, params)?;
        let visible = query.columns.len();
        let keys_of = |row: &Row| -> Vec<RowKey> {
            locking
                .tables
                .iter()
                .enumerate()
                .filter_map(|(i, table)| match row.get(visible + i) {
                    Some(Datum::Int8(id)) => Some((*table, *id as u64)),
                    _ => None,
                })
                .collect()
        };
        let keys: Vec<RowKey> = rows.iter().flat_map(keys_of).collect();
        let on_conflict = match locking.wait {
            LockWait::Block => LockConflict::Wait,
            LockWait::NoWait => LockConflict::Fail,
            LockWait::SkipLocked => LockConflict::Skip,
        };
        let skipped: HashSet<RowKey> = self.lock_keys(txn, &keys, on_conflict)?.into_iter().collect();
        if !skipped.is_empty() {
            rows.retain(|row| !keys_of(row).iter().any(|k| skipped.contains(k)));
        }
        for row in &mut rows {
            row.truncate(visible);
        }
        let tag = format!("SELECT {}", rows.len());
        Ok(ExecuteResult::Rows { columns: columns(&query.columns), rows, tag })
    }
}

/// Removes schema `name` of `database` and every relation and type in it.
pub(crate) fn drop_schema_contents(txn: &mut Txn, database: &str, name: &str) {
    let Some(oid) = txn.work.catalog.schema(database, name).map(|s| s.oid) else { return };
    let cat = txn.work.catalog_mut();
    cat.schemas.remove(&oid);
    cat.relations.retain(|_, r| !(r.database == database && r.schema == name));
    cat.types.retain(|_, t| !(t.database == database && t.ty.schema() == name));
    cat.drop_orphan_sinks();
    txn.structural = true;
}

/// Creates `schema` if it is a session's temporary schema that does not
/// exist yet (the first temporary object creates it).
pub(crate) fn ensure_temp_schema(txn: &mut Txn, database: &str, schema: &str) {
    if !schema.starts_with("pg_temp_") || txn.work.catalog.schema(database, schema).is_some() {
        return;
    }
    let cat = txn.work.catalog_mut();
    let oid = cat.allocate_oid();
    cat.schemas.insert(oid, SchemaDef { oid, database: database.to_string(), name: schema.to_string() });
    txn.structural = true;
}

/// Replaces rows wholesale after a schema change (no key checks beyond a rebuild).
pub(crate) fn rewrite_rows(txn: &mut Txn, rel: &RelationDef, updates: Vec<(u64, Row)>) -> Result<()> {
    let table = txn.work.table_mut(rel.oid)?;
    let mut writes = Vec::with_capacity(updates.len());
    for (id, row) in updates {
        let row: crate::state::StoredRow = row.into();
        let old = table.rows.insert(id, row.clone());
        writes.push(crate::txn::Write { table: rel.oid, row: id, old, new: Some(row) });
    }
    table.rebuild_keys(rel)?;
    txn.writes.extend(writes);
    Ok(())
}

/// The result of INSERT/UPDATE/DELETE: its RETURNING rows, or just its tag.
fn dml_result(returning: Option<Returning>, rows: Vec<Row>, tag: String) -> ExecuteResult {
    match returning {
        Some(r) => ExecuteResult::Rows { columns: columns(&r.columns), rows, tag },
        None => ExecuteResult::Command { tag },
    }
}

fn sorted(v: &[usize]) -> Vec<usize> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v
}

fn row_id(row: &[Datum], n: usize) -> Result<u64> {
    match row.get(n) {
        Some(Datum::Int8(id)) => Ok(*id as u64),
        _ => Err(Error::internal("DML source row has no row id")),
    }
}

fn eval_returning(r: &Returning, row: &[Datum], ctx: &freshet_expr::EvalContext<'_>) -> Result<Row> {
    r.exprs.iter().map(|e| e.eval(row, ctx)).collect()
}

/// The definition of relation `oid`.
pub(crate) fn relation(state: &DbState, oid: u32) -> Result<RelationDef> {
    state
        .catalog
        .relations
        .get(&oid)
        .cloned()
        .ok_or_else(|| Error::new(SqlState::UndefinedTable, format!("relation with OID {oid} does not exist")))
}

fn duplicate_relation(name: &str) -> Error {
    Error::new(SqlState::DuplicateTable, format!("relation \"{name}\" already exists"))
}

fn drop_keyword(kind: &RelKind) -> &'static str {
    match kind {
        RelKind::Table => "TABLE",
        RelKind::View { .. } => "VIEW",
        RelKind::MaterializedView { .. } => "MATERIALIZED VIEW",
        RelKind::Sequence { .. } => "SEQUENCE",
    }
}

fn relation_kind_name(kind: &RelKind) -> &'static str {
    match kind {
        RelKind::Table => "table",
        RelKind::View { .. } => "view",
        RelKind::MaterializedView { .. } => "materialized view",
        RelKind::Sequence { .. } => "sequence",
    }
}

/// Checks a row about to be stored against the table's columns: NOT NULL
/// (23502) and type modifiers with assignment semantics (varchar length
/// 22001, char padding, numeric precision/scale 22003).
pub(crate) fn check_row(rel: &RelationDef, mut row: Row) -> Result<Row> {
    if row.len() != rel.columns.len() {
        return Err(Error::internal(format!(
            "row of {} values for table \"{}\" of {} columns",
            row.len(),
            rel.name,
            rel.columns.len()
        )));
    }
    for (i, col) in rel.columns.iter().enumerate() {
        if row[i].is_null() {
            if col.not_null {
                let ctx = freshet_common::io::TextContext::default();
                let shown: Vec<String> = row
                    .iter()
                    .zip(&rel.columns)
                    .map(|(d, c)| {
                        if d.is_null() {
                            "null".to_string()
                        } else {
                            let mut s = String::new();
                            freshet_common::io::format_text(d, &c.ty, &ctx, &mut s);
                            s
                        }
                    })
                    .collect();
                return Err(Error::new(
                    SqlState::NotNullViolation,
                    format!("null value in column \"{}\" of relation \"{}\" violates not-null constraint", col.name, rel.name),
                )
                .with_detail(format!("Failing row contains ({}).", shown.join(", "))));
            }
            continue;
        }
        let v = std::mem::replace(&mut row[i], Datum::Null);
        row[i] = enforce_typmod(v, &col.ty)?;
    }
    Ok(row)
}

/// Applies a column's type modifier to a value being stored.
pub(crate) fn enforce_typmod(v: Datum, ty: &DataType) -> Result<Datum> {
    Ok(match (v, ty) {
        (Datum::Text(s), DataType::Varchar(Some(n))) => {
            let n = *n as usize;
            if s.chars().count() > n {
                let (head, tail): (String, String) = {
                    let idx = s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len());
                    (s[..idx].to_string(), s[idx..].to_string())
                };
                if tail.chars().all(|c| c == ' ') {
                    Datum::Text(head)
                } else {
                    return Err(Error::new(
                        SqlState::StringDataRightTruncation,
                        format!("value too long for type character varying({n})"),
                    ));
                }
            } else {
                Datum::Text(s)
            }
        }
        (Datum::Text(s), DataType::Char(Some(n))) => {
            let n = *n as usize;
            let len = s.chars().count();
            if len > n {
                let idx = s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len());
                if s[idx..].chars().all(|c| c == ' ') {
                    Datum::Text(s[..idx].to_string())
                } else {
                    return Err(Error::new(
                        SqlState::StringDataRightTruncation,
                        format!("value too long for type character({n})"),
                    ));
                }
            } else {
                let mut s = s;
                s.extend(std::iter::repeat_n(' ', n - len));
                Datum::Text(s)
            }
        }
        (Datum::Numeric(d), DataType::Numeric(Some((p, s)))) => {
            // PostgreSQL's apply_typmod: round half away from zero to the
            // scale, then 22003 `numeric field overflow` with its detail.
            Datum::Numeric(freshet_common::numeric::apply_typmod(&d, *p, *s)?)
        }
        (v, _) => v,
    })
}
