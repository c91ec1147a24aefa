//! Sink connectors: delivering a materialized view's changes to a system
//! outside Freshet (RisingWave's `CREATE SINK ... WITH (connector = ...)`).
//!
//! This crate owns the connector side of a sink: checking a sink's `WITH`
//! options and `FORMAT ... ENCODE ...` clause ([`SinkConfig::parse`]),
//! turning a batch of view changes into what the connector writes
//! ([`plan`]: upserts and deletes per primary key, or appended rows), and
//! the external I/O itself: a PostgreSQL table through tokio-postgres
//! ([`postgres`], which also reaches another Freshet; TLS by [`tls`]), JSON messages on an
//! MQTT topic through rumqttc ([`mqtt`]), or nowhere (`blackhole`).
//!
//! It deliberately does not own reading views, the catalog, or when and
//! how often a sink runs: `freshet-session`'s `sinks` module drives each
//! sink (waits for commits, reads the view's changes, retries a failed
//! batch) and calls [`SinkWriter::deliver`].
//!
//! Most important types: [`SinkConfig`] (a checked sink definition),
//! [`Batch`] (what one delivery carries) and [`SinkWriter`] (a connection
//! to the target that delivers batches).

pub mod encode;
pub mod mqtt;
mod options;
pub mod plan;
pub mod postgres;
pub mod tls;

use freshet_common::{DataType, Row};

pub use options::{Connector, MqttConfig, PostgresConfig, SinkConfig, SinkType};

/// A sink's `FORMAT f ENCODE e (options)` clause: (format, encode,
/// options), names lower-cased.
pub type FormatClause = (String, String, Vec<(String, String)>);

/// A column of the relation a sink sends: its name and type (for
/// encoding values and naming target columns).
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: DataType,
}

/// What one delivery carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Batch {
    /// The view's whole contents at one time (each row repeated by its
    /// count): the first delivery of a sink, and the one after it fell
    /// behind the view's retained history. An upsert target is made equal
    /// to it (rows whose key it lacks are deleted); an append-only target
    /// gets its rows appended.
    Snapshot(Vec<Row>),
    /// The view's changes `(row, time, diff)` at one or more times,
    /// ordered by time, deletions before insertions within a time.
    Changes(Vec<(Row, u64, isize)>),
}

impl Batch {
    /// How many rows or changes the batch holds (for logs).
    pub fn len(&self) -> usize {
        match self {
            Batch::Snapshot(rows) => rows.len(),
            Batch::Changes(changes) => changes.len(),
        }
    }

    /// Whether the batch holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A failure to deliver a batch. Every variant is retried by the driver
/// with the same batch; the message is for the log.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The target could not be reached or refused the connection
    /// (the operator has to act, or the target comes back by itself).
    #[error("cannot connect to the sink's target: {message}")]
    Unavailable { message: String },
    /// The target refused a write (a missing table, a type mismatch).
    #[error("the sink's target refused a write: {message}")]
    Rejected { message: String },
}

/// A connection to a sink's target that delivers batches.
pub enum SinkWriter {
    Postgres(postgres::PostgresWriter),
    Mqtt(mqtt::MqttWriter),
    /// Discards everything (RisingWave's `blackhole` connector).
    Blackhole,
}

impl SinkWriter {
    /// Connects to the target of `config`. Must run inside a tokio
    /// runtime, which then also drives the connection.
    pub async fn connect(config: &SinkConfig, columns: &[Column], client_name: &str) -> Result<SinkWriter, SinkError> {
        Ok(match &config.connector {
            Connector::Postgres(pg) => SinkWriter::Postgres(postgres::PostgresWriter::connect(pg, config, columns).await?),
            Connector::Mqtt(m) => SinkWriter::Mqtt(mqtt::MqttWriter::connect(m, config, columns, client_name).await?),
            Connector::Blackhole => SinkWriter::Blackhole,
        })
    }

    /// Delivers `batch`: all of it, or (on error) possibly part of it, in
    /// which case delivering it again is correct for upserts and gives
    /// duplicates for appends (at-least-once).
    pub async fn deliver(&mut self, batch: &Batch) -> Result<(), SinkError> {
        match self {
            SinkWriter::Postgres(w) => w.deliver(batch).await,
            SinkWriter::Mqtt(w) => w.deliver(batch).await,
            SinkWriter::Blackhole => Ok(()),
        }
    }
}
