//! Binding streaming statements (`crate::streaming`): names resolved
//! against the catalog, options checked, into [`Plan`]s the session runs.

use freshet_common::{Error, Result, SqlState};

use super::Binder;
use crate::catalog::RelationKind;
use crate::names;
use crate::plan::{CreateSourcePlan, Plan, SinkFrom};
use crate::streaming::{CreateSink, CreateSource, SinkInput, StreamingStatement, WithOptions};

impl Binder<'_> {
    pub(crate) fn bind_streaming(&mut self, stmt: &StreamingStatement) -> Result<Plan> {
        match stmt {
            StreamingStatement::CreateSource(source) => self.bind_create_source(source),
            StreamingStatement::CreateSink(sink) => self.bind_create_sink(sink),
            StreamingStatement::CreateSubscription(sub) => {
                let (schema, name) = names::schema_and_name(&sub.name);
                let schema = self.schema_for_create(schema)?;
                let (from_schema, from_name) = names::schema_and_name(&sub.from);
                let from = self
                    .catalog
                    .relation(from_schema.as_deref(), &from_name)
                    .ok_or_else(|| Error::undefined_table(&from_name))?;
                if !matches!(from.kind, RelationKind::MaterializedView { .. } | RelationKind::Table) {
                    return Err(Error::new(
                        SqlState::WrongObjectType,
                        format!("\"{from_name}\" is not a table or materialized view"),
                    ));
                }
                let retention = retention_option(&sub.options)?;
                Ok(Plan::CreateSubscription { schema, name, from: from.oid, retention, if_not_exists: sub.if_not_exists })
            }
            StreamingStatement::Drop { kind, names: objects, if_exists, cascade } => Ok(Plan::DropStreaming {
                kind: *kind,
                names: objects.iter().map(names::schema_and_name).collect(),
                if_exists: *if_exists,
                cascade: *cascade,
            }),
            StreamingStatement::DeclareSubscriptionCursor { name, subscription, start } => Ok(Plan::DeclareSubscriptionCursor {
                name: name.clone(),
                subscription: names::schema_and_name(subscription),
                start: start.clone(),
            }),
            StreamingStatement::FetchWithTimeout { cursor, count, timeout } => {
                let timeout = parse_duration(timeout).ok_or_else(|| {
                    Error::new(SqlState::InvalidParameterValue, format!("invalid value for FETCH option \"timeout\": \"{timeout}\""))
                })?;
                Ok(Plan::FetchSubscription { cursor: cursor.clone(), count: *count, timeout })
            }
        }
    }
}

impl Binder<'_> {
    /// CREATE SINK: the sink's name and what it sends: a materialized view,
    /// or a query bound as a materialized view's query is (the session
    /// creates a view for it that the sink owns, as RisingWave does).
    fn bind_create_sink(&mut self, sink: &CreateSink) -> Result<Plan> {
        let (schema, name) = names::schema_and_name(&sink.name);
        let schema = self.schema_for_create(schema)?;
        let options = sink.options.0.clone();
        let format = sink.format.as_ref().map(|f| (f.format.clone(), f.encode.clone(), f.options.0.clone()));
        let from = match &sink.from {
            SinkInput::Relation(relation) => relation,
            SinkInput::Query(query) => {
                self.for_view = true;
                let bound = self.bind_query(query);
                self.for_view = false;
                let bound = bound?;
                let mut columns = bound.columns;
                for c in columns.iter_mut() {
                    if c.ty == freshet_common::DataType::Unknown {
                        c.ty = freshet_common::DataType::Text;
                    }
                    c.table_oid = 0;
                    c.column_id = 0;
                }
                let from = SinkFrom::Query { sql: query.to_string(), plan: bound.expr, columns };
                return Ok(Plan::CreateSink { schema, name, from, options, format, if_not_exists: sink.if_not_exists });
            }
        };
        let (from_schema, from_name) = names::schema_and_name(from);
        let relation = self
            .catalog
            .relation(from_schema.as_deref(), &from_name)
            .ok_or_else(|| Error::undefined_table(&from_name))?;
        if !matches!(relation.kind, RelationKind::MaterializedView { .. }) {
            return Err(Error::new(
                SqlState::FeatureNotSupported,
                format!("a sink from \"{from_name}\", which is not a materialized view, is not supported"),
            )
            .with_hint(format!("Use CREATE SINK ... AS SELECT * FROM {from_name}, or sink from a materialized view over it.")));
        }
        Ok(Plan::CreateSink { schema, name, from: SinkFrom::View(relation.oid), options, format, if_not_exists: sink.if_not_exists })
    }

    /// CREATE SOURCE / CREATE TABLE ... WITH (connector = ...): the table
    /// part is bound as CREATE TABLE would bind it; what a connector cannot
    /// fill (defaults, generated and identity columns, CHECK and FOREIGN
    /// KEY constraints) is refused, and so are keys on an append-only
    /// source.
    fn bind_create_source(&mut self, source: &CreateSource) -> Result<Plan> {
        let what = if source.is_table { "a table with a connector" } else { "a source" };
        if source.columns.is_empty() {
            return Err(Error::new(SqlState::FeatureNotSupported, format!("{what} without a column list is not supported"))
                .with_hint("List the columns, as in CREATE SOURCE s (id int, v text) WITH (...)."));
        }
        if let Some(format) = &source.format {
            if let Some((key, _)) = format.options.0.first() {
                return Err(Error::new(SqlState::InvalidParameterValue, format!("unrecognized ENCODE option \"{key}\"")));
            }
        }
        let create = sqlparser::ast::helpers::stmt_create_table::CreateTableBuilder::new(source.name.clone())
            .if_not_exists(source.if_not_exists)
            .columns(source.columns.clone())
            .constraints(source.constraints.clone())
            .build();
        let Plan::CreateTable(table) = self.bind_create_table(&create)? else {
            return Err(Error::internal("CREATE TABLE bound to something else"));
        };
        let refuse = |feature: &str| Err(Error::new(SqlState::FeatureNotSupported, format!("{feature} in {what} is not supported")));
        if let Some(c) = table.columns.iter().find(|c| c.default.is_some() || c.identity.is_some()) {
            return refuse(&format!("a default or identity for column \"{}\"", c.name));
        }
        if let Some(c) = table.columns.iter().find(|c| c.generated.is_some()) {
            return refuse(&format!("generated column \"{}\"", c.name));
        }
        if !table.sequences.is_empty() {
            return refuse("a serial column");
        }
        if !table.checks.is_empty() {
            return refuse("a CHECK constraint");
        }
        if !table.foreign_keys.is_empty() {
            return refuse("a FOREIGN KEY constraint");
        }
        if !source.is_table && (!table.primary_key.is_empty() || !table.unique_keys.is_empty() || !table.unique_nulls_not_distinct.is_empty()) {
            return Err(Error::new(SqlState::FeatureNotSupported, "a PRIMARY KEY or UNIQUE constraint on a source is not supported")
                .with_detail("A source is append-only.")
                .with_hint("Use CREATE TABLE ... WITH (connector = ...) for a table whose rows replace each other by key."));
        }
        Ok(Plan::CreateSource(CreateSourcePlan {
            table,
            append_only: !source.is_table,
            options: source.options.0.clone(),
            format: source.format.as_ref().map(|f| (f.format.clone(), f.encode.clone())),
        }))
    }
}

/// The `retention` option of a subscription, as a duration.
fn retention_option(options: &WithOptions) -> Result<Option<std::time::Duration>> {
    for (key, _) in &options.0 {
        if key != "retention" {
            return Err(Error::new(SqlState::InvalidParameterValue, format!("unrecognized subscription option \"{key}\"")));
        }
    }
    options
        .get("retention")
        .map(|text| {
            parse_duration(text).ok_or_else(|| {
                Error::new(SqlState::InvalidParameterValue, format!("invalid value for option \"retention\": \"{text}\""))
            })
        })
        .transpose()
}

/// A duration as RisingWave's options write it: a number with a unit
/// (`500ms`, `1s`, `10 minutes`, `1D`, `2h`); a bare number is seconds.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "ms" | "millisecond" | "milliseconds" => 0.001,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        _ => return None,
    };
    let total = number * seconds;
    (total.is_finite() && total >= 0.0 && total < 1e12).then(|| std::time::Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_duration("1D"), Some(Duration::from_secs(86400)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("10 minutes"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("-1s"), None);
    }
}
