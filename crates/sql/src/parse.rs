//! Parsing SQL text into statements with `sqlparser`'s PostgreSQL dialect.

use freshet_common::{Error, Result};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};

/// A parsed statement (sqlparser's AST).
pub type Statement = sqlparser::ast::Statement;

/// The largest statement text accepted, in bytes. PostgreSQL's limit is
/// 1 GiB per message; we stop parsing far earlier to bound memory.
pub const STATEMENT_BYTES_MAX: usize = 64 << 20;

/// Parses `sql` into zero or more statements. Syntax errors become 42601.
pub fn parse_statements(sql: &str) -> Result<Vec<Statement>> {
    if sql.len() > STATEMENT_BYTES_MAX {
        return Err(Error::new(
            freshet_common::SqlState::ProgramLimitExceeded,
            format!("statement is too long ({} bytes, the limit is {STATEMENT_BYTES_MAX})", sql.len()),
        ));
    }
    let dialect = PostgreSqlDialect {};
    let parser = Parser::new(&dialect).with_recursion_limit(256);
    let mut parser = parser.try_with_sql(sql).map_err(map_parse_error)?;
    parser.parse_statements().map_err(map_parse_error)
}

fn map_parse_error(e: ParserError) -> Error {
    match e {
        ParserError::RecursionLimitExceeded => Error::new(
            freshet_common::SqlState::ProgramLimitExceeded,
            "statement is too deeply nested",
        ),
        ParserError::TokenizerError(msg) | ParserError::ParserError(msg) => {
            Error::syntax(format!("syntax error: {}", msg.trim_start_matches("sql parser error: ")))
        }
    }
}
