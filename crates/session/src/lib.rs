//! The coordinator: sessions, transactions and the shared database state.
//!
//! This crate owns what happens between a parsed statement and the data:
//! the catalog of databases/schemas/tables and enum types, the in-memory table state with
//! snapshot reads, transactions (BEGIN/COMMIT/ROLLBACK/SAVEPOINT), the
//! ordering of commits into timestamped batches of `(row, diff)` updates and
//! making each commit durable through `freshet-storage` before it is
//! acknowledged, and running sinks (`sinks`: one task per sink sending its
//! view's changes through a `freshet-sinks` connector), and running source
//! connectors (`freshet-connectors`) whose rows are committed the same way
//! ([`sources`]).
//!
//! It does not own the wire protocol (`freshet-pgwire` drives a session
//! through [`SessionApi`]), SQL parsing and planning (`freshet-sql`) or
//! query execution (`freshet-compute`).
//!
//! Most important types: [`server::Server`] (shared state, one per
//! process), [`session::Session`] (one per client connection) and
//! [`txn::Txn`].

mod api;
pub mod catalog;
pub mod clock;
mod constraints;
mod copy;
mod exec;
pub mod index_key;
pub mod locks;
pub mod server;
pub mod session;
pub mod settings;
pub mod sinks;
pub mod sources;
pub mod state;
mod subscriptions;
pub mod system;
pub mod txn;
mod types;
pub mod views;

pub use api::*;

/// Opens the data directory and starts the engine; the returned server is
/// shared by every connection.
pub fn open_server(config: ServerConfig) -> Result<std::sync::Arc<dyn ServerApi>, StartupError> {
    let server = server::Server::open(config)?;
    Ok(std::sync::Arc::new(server::ServerHandle(server)))
}
