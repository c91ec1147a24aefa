//! The `postgres` connector: writes a view's changes into a table of a
//! PostgreSQL server (or of another Freshet, which speaks the same
//! protocol) with tokio-postgres.
//!
//! Each batch is one transaction of plain SQL with literal values (the
//! target coerces each literal to its column's type, so any column type
//! the target accepts as text input works): append-only sinks `INSERT`;
//! upsert sinks `INSERT ... ON CONFLICT (key) DO UPDATE` and
//! `DELETE ... WHERE key = ...`, which needs a primary key or unique
//! constraint on the key columns of the target table. A snapshot batch of
//! an upsert sink first deletes every row of the table: the sink owns its
//! target table.

use tokio_postgres::NoTls;
use tracing::warn;

use crate::encode::{quote_ident, sql_literal};
use crate::plan::writes;
use crate::{Batch, Column, PostgresConfig, SinkConfig, SinkError, SinkType};

/// Rows per INSERT statement.
const ROWS_PER_STATEMENT: usize = 500;

/// Runs a connection's I/O on the current runtime until it ends.
fn drive<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            warn!(error = %full(&e), "sink connection to postgres ended");
        }
    });
}

/// A connection to the target server.
pub struct PostgresWriter {
    client: tokio_postgres::Client,
    config: SinkConfig,
    columns: Vec<Column>,
    /// `"schema"."table"`.
    target: String,
}

impl PostgresWriter {
    /// Connects (with TLS as `ssl.mode` says) and spawns the connection on
    /// the current runtime.
    pub async fn connect(pg: &PostgresConfig, config: &SinkConfig, columns: &[Column]) -> Result<PostgresWriter, SinkError> {
        let mut cfg = tokio_postgres::Config::new();
        cfg.host(&pg.host).port(pg.port).user(&pg.user).dbname(&pg.database).application_name("freshet-sink");
        cfg.connect_timeout(std::time::Duration::from_secs(10));
        if let Some(p) = &pg.password {
            cfg.password(p);
        }
        let unavailable = |e: tokio_postgres::Error| SinkError::Unavailable { message: format!("{}:{}: {}", pg.host, pg.port, full(&e)) };
        let client = if pg.tls.mode == crate::tls::SslMode::Disabled {
            let (client, connection) = cfg.connect(NoTls).await.map_err(unavailable)?;
            drive(connection);
            client
        } else {
            let (mode, tls) = pg.tls.connector().map_err(|message| SinkError::Unavailable { message })?;
            cfg.ssl_mode(mode);
            let (client, connection) = cfg.connect(tls).await.map_err(unavailable)?;
            drive(connection);
            client
        };
        Ok(PostgresWriter {
            client,
            config: config.clone(),
            columns: columns.to_vec(),
            target: format!("{}.{}", quote_ident(&pg.schema), quote_ident(&pg.table)),
        })
    }

    /// Whether the connection is gone (the driver then connects again).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Applies `batch` in one transaction.
    pub async fn deliver(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let statements = self.statements(batch);
        if statements.is_empty() {
            return Ok(());
        }
        let map = |e: tokio_postgres::Error| {
            if e.as_db_error().is_some() {
                SinkError::Rejected { message: full(&e) }
            } else {
                SinkError::Unavailable { message: full(&e) }
            }
        };
        let txn = self.client.transaction().await.map_err(map)?;
        for sql in &statements {
            txn.batch_execute(sql).await.map_err(map)?;
        }
        txn.commit().await.map_err(map)
    }

    /// The SQL statements that apply `batch`.
    fn statements(&self, batch: &Batch) -> Vec<String> {
        let w = writes(&self.config, batch);
        let mut out = Vec::new();
        let column_list = self.columns.iter().map(|c| quote_ident(&c.name)).collect::<Vec<_>>().join(", ");
        if w.replace_all {
            out.push(format!("DELETE FROM {}", self.target));
        }
        let key_columns: Vec<&Column> = self.config.primary_key.iter().map(|i| &self.columns[*i]).collect();
        for chunk in w.deletes.chunks(ROWS_PER_STATEMENT) {
            let conditions: Vec<String> = chunk
                .iter()
                .map(|key| {
                    key.iter()
                        .zip(&key_columns)
                        .map(|(d, c)| {
                            if d.is_null() {
                                format!("{} IS NULL", quote_ident(&c.name))
                            } else {
                                format!("{} = {}", quote_ident(&c.name), sql_literal(d, &c.ty))
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" AND ")
                })
                .map(|c| format!("({c})"))
                .collect();
            out.push(format!("DELETE FROM {} WHERE {}", self.target, conditions.join(" OR ")));
        }
        let on_conflict = match self.config.sink_type {
            SinkType::AppendOnly => String::new(),
            SinkType::Upsert => {
                let keys = key_columns.iter().map(|c| quote_ident(&c.name)).collect::<Vec<_>>().join(", ");
                let others: Vec<String> = self
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !self.config.primary_key.contains(i))
                    .map(|(_, c)| format!("{0} = EXCLUDED.{0}", quote_ident(&c.name)))
                    .collect();
                if others.is_empty() {
                    format!(" ON CONFLICT ({keys}) DO NOTHING")
                } else {
                    format!(" ON CONFLICT ({keys}) DO UPDATE SET {}", others.join(", "))
                }
            }
        };
        for chunk in w.upserts.chunks(ROWS_PER_STATEMENT) {
            let values: Vec<String> = chunk
                .iter()
                .map(|row| {
                    let literals: Vec<String> = row.iter().zip(&self.columns).map(|(d, c)| sql_literal(d, &c.ty)).collect();
                    format!("({})", literals.join(", "))
                })
                .collect();
            out.push(format!("INSERT INTO {} ({column_list}) VALUES {}{on_conflict}", self.target, values.join(", ")));
        }
        out
    }
}

/// An error with its causes (tokio-postgres's Display omits the server's
/// message for database errors).
fn full(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {} ({})", e, db.message(), db.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}
