//! Streaming statements (RisingWave's syntax), which sqlparser does not
//! know: sources, sinks, subscriptions and their cursors.
//!
//! This module owns their syntax tree ([`StreamingStatement`]) and their
//! parser. [`crate::parse::parse_commands`] sends a statement here when its
//! first words name one of these objects, and everything else to sqlparser;
//! sub-parts that are ordinary SQL (column definitions, queries, object
//! names) are parsed by sqlparser's own parser functions, so they mean what
//! they mean elsewhere.
//!
//! ```text
//! CREATE SOURCE [IF NOT EXISTS] name [(columns)] WITH (options) [FORMAT f ENCODE e [(options)]]
//! CREATE TABLE [IF NOT EXISTS] name (columns) WITH (connector = ..., ...) [FORMAT f ENCODE e [(options)]]
//! CREATE SINK [IF NOT EXISTS] name { FROM relation | AS query } WITH (options) [FORMAT f ENCODE e [(options)]]
//! CREATE SUBSCRIPTION [IF NOT EXISTS] name FROM relation [WITH (options)]
//! DROP { SOURCE | SINK | SUBSCRIPTION } [IF EXISTS] name [, ...] [CASCADE | RESTRICT]
//! DECLARE cursor SUBSCRIPTION CURSOR FOR subscription [SINCE { n | now() | begin() } | FULL]
//! FETCH [NEXT | n] FROM cursor WITH (timeout = 'interval')
//! ```

use std::fmt;

use sqlparser::ast::{ColumnDef, ObjectName, Query, TableConstraint};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// A streaming statement.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamingStatement {
    /// CREATE SOURCE, or CREATE TABLE with a `connector` option.
    CreateSource(CreateSource),
    CreateSink(CreateSink),
    CreateSubscription(CreateSubscription),
    Drop { kind: StreamingObjectKind, names: Vec<ObjectName>, if_exists: bool, cascade: bool },
    DeclareSubscriptionCursor { name: String, subscription: ObjectName, start: CursorStart },
    /// FETCH with a `timeout` option (a plain FETCH is sqlparser's).
    FetchWithTimeout { cursor: String, count: u64, timeout: String },
}

/// The kinds of object only streaming statements create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamingObjectKind {
    Source,
    Sink,
    Subscription,
}

impl StreamingObjectKind {
    /// The kind as SQL names it (`SOURCE`).
    pub fn keyword(self) -> &'static str {
        match self {
            StreamingObjectKind::Source => "SOURCE",
            StreamingObjectKind::Sink => "SINK",
            StreamingObjectKind::Subscription => "SUBSCRIPTION",
        }
    }
}

/// CREATE SOURCE / CREATE TABLE ... WITH (connector = ...).
#[derive(Clone, Debug, PartialEq)]
pub struct CreateSource {
    /// CREATE TABLE (rows are stored and accept DML) rather than SOURCE.
    pub is_table: bool,
    pub name: ObjectName,
    pub if_not_exists: bool,
    pub columns: Vec<ColumnDef>,
    pub constraints: Vec<TableConstraint>,
    pub options: WithOptions,
    pub format: Option<FormatSpec>,
}

/// CREATE SINK.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateSink {
    pub name: ObjectName,
    pub if_not_exists: bool,
    pub from: SinkInput,
    pub options: WithOptions,
    pub format: Option<FormatSpec>,
}

/// What a sink sends.
#[derive(Clone, Debug, PartialEq)]
pub enum SinkInput {
    /// `FROM relation`: a materialized view, table or source.
    Relation(ObjectName),
    /// `AS query`.
    Query(Box<Query>),
}

/// CREATE SUBSCRIPTION.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateSubscription {
    pub name: ObjectName,
    pub if_not_exists: bool,
    pub from: ObjectName,
    pub options: WithOptions,
}

/// Where a subscription cursor starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CursorStart {
    /// Changes committed after the DECLARE (the default; `SINCE now()`).
    Now,
    /// The relation's contents as inserts, then the changes (`FULL`).
    Full,
    /// The oldest change the subscription retains (`SINCE begin()`).
    Begin,
    /// Changes after this time, in milliseconds since the Unix epoch.
    Since(i64),
}

/// A `WITH (key = value, ...)` list: keys lower-cased and dotted
/// (`fields.v1.kind`), values as written (string literals unquoted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WithOptions(pub Vec<(String, String)>);

impl WithOptions {
    /// The value of `key` (the last one when repeated).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The keys that start with `prefix`.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl fmt::Display for WithOptions {
    /// `(key = 'value', ...)`, as a catalog shows the options.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k} = '{}'", v.replace('\'', "''"))?;
        }
        f.write_str(")")
    }
}

/// `FORMAT format ENCODE encode [(options)]`, both names lower-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatSpec {
    pub format: String,
    pub encode: String,
    pub options: WithOptions,
}

/// Whether `sql` (one statement) starts like a streaming statement, judged
/// by its first words; such a statement is parsed by [`parse_streaming`].
pub(crate) fn is_streaming(tokens: &[Token]) -> bool {
    let words: Vec<String> = tokens.iter().filter(|t| !is_whitespace(t)).take(4).map(word_of).collect();
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match (w(0), w(1)) {
        ("create", "source" | "sink" | "subscription") => true,
        ("drop", "source" | "sink" | "subscription") => true,
        ("declare", _) => w(2) == "subscription",
        ("create", "table") => has_connector_option(tokens),
        ("fetch", _) => has_top_level_with(tokens),
        _ => false,
    }
}

/// Parses one streaming statement (the text of one statement, without the
/// terminating semicolon).
pub(crate) fn parse_streaming(sql: &str) -> Result<StreamingStatement, ParserError> {
    let dialect = PostgreSqlDialect {};
    let mut p = Parser::new(&dialect).try_with_sql(sql)?;
    let first = next_word(&mut p)?;
    let statement = match first.as_str() {
        "create" => parse_create(&mut p)?,
        "drop" => parse_drop(&mut p)?,
        "declare" => parse_declare(&mut p)?,
        "fetch" => parse_fetch(&mut p)?,
        other => return Err(error(format!("unexpected {other}"))),
    };
    let _ = p.consume_token(&Token::SemiColon);
    let rest = p.peek_token();
    if rest.token != Token::EOF {
        return Err(error(format!("Expected: end of statement, found: {}", rest.token)));
    }
    Ok(statement)
}

fn parse_create(p: &mut Parser<'_>) -> Result<StreamingStatement, ParserError> {
    let what = next_word(p)?;
    let if_not_exists = eat_words(p, &["if", "not", "exists"]);
    let name = p.parse_object_name(false)?;
    match what.as_str() {
        "source" | "table" => {
            let is_table = what == "table";
            let (columns, constraints) = if p.peek_token().token == Token::LParen {
                p.parse_columns()?
            } else if is_table {
                return Err(error("Expected: (, found: end of column list".into()));
            } else {
                (Vec::new(), Vec::new())
            };
            expect_word(p, "with")?;
            let options = parse_with_options(p)?;
            let format = parse_format(p)?;
            Ok(StreamingStatement::CreateSource(CreateSource { is_table, name, if_not_exists, columns, constraints, options, format }))
        }
        "sink" => {
            let (from, options, format) = if eat_words(p, &["from"]) {
                let from = SinkInput::Relation(p.parse_object_name(false)?);
                expect_word(p, "with")?;
                (from, parse_with_options(p)?, parse_format(p)?)
            } else if eat_words(p, &["as"]) {
                let (query, rest) = split_sink_query(p)?;
                let dialect = PostgreSqlDialect {};
                let mut rest = Parser::new(&dialect).with_tokens_with_locations(rest);
                expect_word(&mut rest, "with")?;
                let options = parse_with_options(&mut rest)?;
                let format = parse_format(&mut rest)?;
                let _ = rest.consume_token(&Token::SemiColon);
                let after = rest.peek_token();
                if after.token != Token::EOF {
                    return Err(error(format!("Expected: end of statement, found: {}", after.token)));
                }
                (SinkInput::Query(query), options, format)
            } else {
                return Err(error(format!("Expected: FROM or AS, found: {}", p.peek_token().token)));
            };
            Ok(StreamingStatement::CreateSink(CreateSink { name, if_not_exists, from, options, format }))
        }
        "subscription" => {
            expect_word(p, "from")?;
            let from = p.parse_object_name(false)?;
            let options = if eat_words(p, &["with"]) { parse_with_options(p)? } else { WithOptions::default() };
            Ok(StreamingStatement::CreateSubscription(CreateSubscription { name, if_not_exists, from, options }))
        }
        other => Err(error(format!("unexpected CREATE {other}"))),
    }
}

fn parse_drop(p: &mut Parser<'_>) -> Result<StreamingStatement, ParserError> {
    let kind = match next_word(p)?.as_str() {
        "source" => StreamingObjectKind::Source,
        "sink" => StreamingObjectKind::Sink,
        "subscription" => StreamingObjectKind::Subscription,
        other => return Err(error(format!("unexpected DROP {other}"))),
    };
    let if_exists = eat_words(p, &["if", "exists"]);
    let names = p.parse_comma_separated(|p| p.parse_object_name(false))?;
    let cascade = if eat_words(p, &["cascade"]) {
        true
    } else {
        eat_words(p, &["restrict"]);
        false
    };
    Ok(StreamingStatement::Drop { kind, names, if_exists, cascade })
}

fn parse_declare(p: &mut Parser<'_>) -> Result<StreamingStatement, ParserError> {
    let name = p.parse_identifier()?.value;
    expect_word(p, "subscription")?;
    expect_word(p, "cursor")?;
    expect_word(p, "for")?;
    let subscription = p.parse_object_name(false)?;
    let start = if eat_words(p, &["full"]) {
        CursorStart::Full
    } else if eat_words(p, &["since"]) {
        match p.next_token().token {
            Token::Number(n, _) => CursorStart::Since(n.parse().map_err(|_| error(format!("invalid SINCE time {n}")))?),
            Token::Word(w) if matches!(w.value.to_lowercase().as_str(), "now" | "begin") => {
                p.expect_token(&Token::LParen)?;
                p.expect_token(&Token::RParen)?;
                if w.value.eq_ignore_ascii_case("now") {
                    CursorStart::Now
                } else {
                    CursorStart::Begin
                }
            }
            other => return Err(error(format!("Expected: a time, now() or begin() after SINCE, found: {other}"))),
        }
    } else {
        CursorStart::Now
    };
    Ok(StreamingStatement::DeclareSubscriptionCursor { name, subscription, start })
}

fn parse_fetch(p: &mut Parser<'_>) -> Result<StreamingStatement, ParserError> {
    let count = match p.peek_token().token {
        Token::Number(n, _) => {
            p.next_token();
            n.parse().map_err(|_| error(format!("invalid FETCH count {n}")))?
        }
        _ => {
            eat_words(p, &["next"]);
            1
        }
    };
    if !eat_words(p, &["from"]) {
        eat_words(p, &["in"]);
    }
    let cursor = p.parse_identifier()?.value;
    expect_word(p, "with")?;
    let options = parse_with_options(p)?;
    let mut timeout = None;
    for (k, v) in &options.0 {
        match k.as_str() {
            "timeout" => timeout = Some(v.clone()),
            other => return Err(error(format!("unknown FETCH option {other}"))),
        }
    }
    let timeout = timeout.ok_or_else(|| error("FETCH ... WITH needs a timeout option".into()))?;
    Ok(StreamingStatement::FetchWithTimeout { cursor, count, timeout })
}

/// The query of `CREATE SINK ... AS query WITH (...)` and the tokens from
/// its last top-level `WITH (` on (sqlparser would take that `WITH` as
/// table hints of the query's last table). Consumes the rest of `p`.
fn split_sink_query(p: &mut Parser<'_>) -> Result<(Box<Query>, Vec<TokenWithSpan>), ParserError> {
    let mut tokens = Vec::new();
    let mut depth = 0i32;
    let mut split = None;
    loop {
        let t = p.next_token();
        match &t.token {
            Token::EOF => break,
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Word(w)
                if depth == 0 && w.quote_style.is_none() && w.value.eq_ignore_ascii_case("with") && p.peek_token().token == Token::LParen =>
            {
                split = Some(tokens.len());
            }
            _ => {}
        }
        tokens.push(t);
    }
    let split = split.ok_or_else(|| error("Expected: WITH (options) after the sink's query, found: end of statement".into()))?;
    let rest = tokens.split_off(split);
    let dialect = PostgreSqlDialect {};
    let mut query_parser = Parser::new(&dialect).with_tokens_with_locations(tokens);
    let query = query_parser.parse_query()?;
    let after = query_parser.peek_token();
    if after.token != Token::EOF {
        return Err(error(format!("Expected: WITH, found: {}", after.token)));
    }
    Ok((query, rest))
}

/// `(key = value, ...)`.
fn parse_with_options(p: &mut Parser<'_>) -> Result<WithOptions, ParserError> {
    p.expect_token(&Token::LParen)?;
    let mut options = Vec::new();
    if p.consume_token(&Token::RParen) {
        return Ok(WithOptions(options));
    }
    loop {
        let mut key = option_key_part(p)?;
        while p.consume_token(&Token::Period) {
            key.push('.');
            key.push_str(&option_key_part(p)?);
        }
        p.expect_token(&Token::Eq)?;
        let value = match p.next_token().token {
            Token::SingleQuotedString(s) => s,
            Token::Number(n, _) => n,
            Token::Minus => match p.next_token().token {
                Token::Number(n, _) => format!("-{n}"),
                other => return Err(error(format!("Expected: a number, found: {other}"))),
            },
            Token::Word(w) => w.value,
            other => return Err(error(format!("Expected: an option value, found: {other}"))),
        };
        options.push((key, value));
        if p.consume_token(&Token::Comma) {
            // RisingWave's examples sometimes end the list with a comma.
            if p.consume_token(&Token::RParen) {
                return Ok(WithOptions(options));
            }
            continue;
        }
        p.expect_token(&Token::RParen)?;
        return Ok(WithOptions(options));
    }
}

fn option_key_part(p: &mut Parser<'_>) -> Result<String, ParserError> {
    match p.next_token().token {
        Token::Word(w) if w.quote_style.is_some() => Ok(w.value),
        Token::Word(w) => Ok(w.value.to_lowercase()),
        Token::Number(n, _) => Ok(n),
        other => Err(error(format!("Expected: an option name, found: {other}"))),
    }
}

/// `[FORMAT f ENCODE e [(options)]]`.
fn parse_format(p: &mut Parser<'_>) -> Result<Option<FormatSpec>, ParserError> {
    if !eat_words(p, &["format"]) {
        return Ok(None);
    }
    let format = next_word(p)?;
    expect_word(p, "encode")?;
    let encode = next_word(p)?;
    let options = if p.peek_token().token == Token::LParen { parse_with_options(p)? } else { WithOptions::default() };
    Ok(Some(FormatSpec { format, encode, options }))
}

fn next_word(p: &mut Parser<'_>) -> Result<String, ParserError> {
    match p.next_token().token {
        Token::Word(w) => Ok(w.value.to_lowercase()),
        other => Err(error(format!("Expected: a keyword, found: {other}"))),
    }
}

fn expect_word(p: &mut Parser<'_>, expected: &str) -> Result<(), ParserError> {
    let found = p.peek_token().token;
    if eat_words(p, &[expected]) {
        Ok(())
    } else {
        Err(error(format!("Expected: {}, found: {found}", expected.to_uppercase())))
    }
}

/// Consumes the unquoted words `words` if they come next, all of them.
fn eat_words(p: &mut Parser<'_>, words: &[&str]) -> bool {
    for (consumed, expected) in words.iter().enumerate() {
        match p.next_token().token {
            Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(expected) => {}
            _ => {
                // Back over the token just read and the words matched.
                for _ in 0..=consumed {
                    p.prev_token();
                }
                return false;
            }
        }
    }
    true
}

fn error(message: String) -> ParserError {
    ParserError::ParserError(message)
}

fn is_whitespace(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

fn word_of(t: &Token) -> String {
    match t {
        Token::Word(w) if w.quote_style.is_none() => w.value.to_lowercase(),
        _ => String::new(),
    }
}

/// A top-level `WITH (` in the statement whose list names `connector`.
fn has_connector_option(tokens: &[Token]) -> bool {
    let significant: Vec<&Token> = tokens.iter().filter(|t| !is_whitespace(t)).collect();
    let mut depth = 0i32;
    for (i, t) in significant.iter().enumerate() {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Word(_) if depth == 0 && word_of(t) == "with" => {
                if significant.get(i + 1) == Some(&&Token::LParen) && significant.get(i + 2).map(|t| word_of(t)).as_deref() == Some("connector") {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// A top-level `WITH (` anywhere in the statement.
fn has_top_level_with(tokens: &[Token]) -> bool {
    let significant: Vec<&Token> = tokens.iter().filter(|t| !is_whitespace(t)).collect();
    significant.windows(2).any(|w| word_of(w[0]) == "with" && *w[1] == Token::LParen)
}

/// Splits `sql` into statements at top-level semicolons, as tokens; `None`
/// when it does not tokenize (sqlparser then reports the error).
pub(crate) fn split_statements(sql: &str) -> Option<Vec<Vec<Token>>> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize().ok()?;
    let mut statements = vec![Vec::new()];
    for token in tokens {
        if token == Token::SemiColon {
            statements.push(Vec::new());
        } else if let Some(last) = statements.last_mut() {
            last.push(token);
        }
    }
    statements.retain(|s| s.iter().any(|t| !is_whitespace(t)));
    Some(statements)
}

/// The text of a statement's tokens.
pub(crate) fn tokens_to_sql(tokens: &[Token]) -> String {
    tokens.iter().map(|t| t.to_string()).collect()
}

impl fmt::Display for StreamingStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn format_tail(f: &mut fmt::Formatter<'_>, format: &Option<FormatSpec>) -> fmt::Result {
            if let Some(spec) = format {
                write!(f, " FORMAT {} ENCODE {}", spec.format.to_uppercase(), spec.encode.to_uppercase())?;
                if !spec.options.0.is_empty() {
                    write!(f, " {}", spec.options)?;
                }
            }
            Ok(())
        }
        match self {
            StreamingStatement::CreateSource(s) => {
                write!(f, "CREATE {} ", if s.is_table { "TABLE" } else { "SOURCE" })?;
                if s.if_not_exists {
                    f.write_str("IF NOT EXISTS ")?;
                }
                write!(f, "{}", s.name)?;
                if !s.columns.is_empty() || !s.constraints.is_empty() {
                    let parts: Vec<String> = s
                        .columns
                        .iter()
                        .map(|c| c.to_string())
                        .chain(s.constraints.iter().map(|c| c.to_string()))
                        .collect();
                    write!(f, " ({})", parts.join(", "))?;
                }
                write!(f, " WITH {}", s.options)?;
                format_tail(f, &s.format)
            }
            StreamingStatement::CreateSink(s) => {
                f.write_str("CREATE SINK ")?;
                if s.if_not_exists {
                    f.write_str("IF NOT EXISTS ")?;
                }
                write!(f, "{}", s.name)?;
                match &s.from {
                    SinkInput::Relation(r) => write!(f, " FROM {r}")?,
                    SinkInput::Query(q) => write!(f, " AS {q}")?,
                }
                write!(f, " WITH {}", s.options)?;
                format_tail(f, &s.format)
            }
            StreamingStatement::CreateSubscription(s) => {
                f.write_str("CREATE SUBSCRIPTION ")?;
                if s.if_not_exists {
                    f.write_str("IF NOT EXISTS ")?;
                }
                write!(f, "{} FROM {} WITH {}", s.name, s.from, s.options)
            }
            StreamingStatement::Drop { kind, names, if_exists, cascade } => {
                write!(f, "DROP {} ", kind.keyword())?;
                if *if_exists {
                    f.write_str("IF EXISTS ")?;
                }
                let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
                f.write_str(&names.join(", "))?;
                if *cascade {
                    f.write_str(" CASCADE")?;
                }
                Ok(())
            }
            StreamingStatement::DeclareSubscriptionCursor { name, subscription, start } => {
                write!(f, "DECLARE {name} SUBSCRIPTION CURSOR FOR {subscription}")?;
                match start {
                    CursorStart::Now => Ok(()),
                    CursorStart::Full => f.write_str(" FULL"),
                    CursorStart::Begin => f.write_str(" SINCE begin()"),
                    CursorStart::Since(t) => write!(f, " SINCE {t}"),
                }
            }
            StreamingStatement::FetchWithTimeout { cursor, count, timeout } => {
                write!(f, "FETCH {count} FROM {cursor} WITH (timeout = '{}')", timeout.replace('\'', "''"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> StreamingStatement {
        let tokens = split_statements(sql).expect("tokenizes");
        assert_eq!(tokens.len(), 1, "{sql}");
        assert!(is_streaming(&tokens[0]), "{sql}");
        parse_streaming(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    #[test]
    fn risingwave_tutorial_forms_parse() {
        let StreamingStatement::CreateSource(s) = parse(
            "CREATE SOURCE s1 (v1 int, v2 varchar) WITH (connector = 'datagen', fields.v1.kind = 'sequence', \
             fields.v1.start = '1', datagen.rows.per.second = 10) FORMAT PLAIN ENCODE JSON",
        ) else {
            panic!("not a source")
        };
        assert!(!s.is_table);
        assert_eq!(s.columns.len(), 2);
        assert_eq!(s.options.get("fields.v1.kind"), Some("sequence"));
        assert_eq!(s.options.get("datagen.rows.per.second"), Some("10"));
        assert_eq!(s.format.as_ref().map(|f| (f.format.as_str(), f.encode.as_str())), Some(("plain", "json")));

        let StreamingStatement::CreateSource(t) =
            parse("create table if not exists t (id int primary key, x text) with (connector='mqtt', url='tcp://localhost:1883', topic='a/b') format plain encode json")
        else {
            panic!("not a table source")
        };
        assert!(t.is_table && t.if_not_exists);

        let StreamingStatement::CreateSink(k) =
            parse("CREATE SINK k AS SELECT a, count(*) FROM t GROUP BY a WITH (connector = 'postgres', type = 'upsert', primary_key = 'a')")
        else {
            panic!("not a sink")
        };
        assert!(matches!(k.from, SinkInput::Query(_)));
        assert_eq!(k.options.get("type"), Some("upsert"));
        // The query's last table is not followed by table hints; a CTE's WITH is the query's.
        let StreamingStatement::CreateSink(k) =
            parse("CREATE SINK k AS WITH x AS (SELECT a FROM t) SELECT * FROM x WITH (connector = 'blackhole') FORMAT PLAIN ENCODE JSON")
        else {
            panic!("not a sink")
        };
        assert!(matches!(&k.from, SinkInput::Query(q) if q.with.is_some()));
        assert_eq!(k.options.get("connector"), Some("blackhole"));
        assert!(k.format.is_some());

        assert!(matches!(parse("CREATE SUBSCRIPTION sub FROM mv WITH (retention = '1D')"), StreamingStatement::CreateSubscription(_)));
        assert_eq!(
            parse("DECLARE cur SUBSCRIPTION CURSOR FOR sub FULL"),
            StreamingStatement::DeclareSubscriptionCursor { name: "cur".into(), subscription: ObjectName::from(vec![sqlparser::ast::Ident::new("sub")]), start: CursorStart::Full }
        );
        assert!(matches!(
            parse("DECLARE cur SUBSCRIPTION CURSOR FOR sub SINCE 1700000000000"),
            StreamingStatement::DeclareSubscriptionCursor { start: CursorStart::Since(1700000000000), .. }
        ));
        assert_eq!(
            parse("FETCH 10 FROM cur WITH (timeout = '1s')"),
            StreamingStatement::FetchWithTimeout { cursor: "cur".into(), count: 10, timeout: "1s".into() }
        );
        let StreamingStatement::CreateSource(trailing) =
            parse("CREATE TABLE t (a int) WITH (connector = 'datagen', datagen.rows.per.second = '5',) FORMAT PLAIN ENCODE JSON")
        else {
            panic!("not a table source")
        };
        assert_eq!(trailing.options.0.len(), 2);
        assert!(matches!(parse("DROP SINK IF EXISTS a, b CASCADE"), StreamingStatement::Drop { kind: StreamingObjectKind::Sink, if_exists: true, cascade: true, .. }));
    }

    #[test]
    fn connector_tables_keep_keys_and_print_back() {
        let sql = "CREATE TABLE t (id int NOT NULL, v varchar(5), PRIMARY KEY (id)) WITH (connector = 'datagen', \
                   fields.id.kind = 'sequence', fields.v.length = 3, datagen.rows.per.second = '5') FORMAT PLAIN ENCODE JSON";
        let StreamingStatement::CreateSource(t) = parse(sql) else { panic!("not a table source") };
        assert!(t.is_table);
        assert_eq!(t.columns.len(), 2);
        assert_eq!(t.constraints.len(), 1);
        assert_eq!(t.options.get("connector"), Some("datagen"));
        assert_eq!(t.options.get("fields.v.length"), Some("3"));
        // Display is parseable and means the same.
        let printed = StreamingStatement::CreateSource(t.clone()).to_string();
        assert_eq!(parse(&printed), StreamingStatement::CreateSource(t), "{printed}");
        assert!(matches!(
            parse("DROP SOURCE IF EXISTS s"),
            StreamingStatement::Drop { kind: StreamingObjectKind::Source, if_exists: true, cascade: false, .. }
        ));
    }

    #[test]
    fn ordinary_statements_are_not_streaming() {
        for sql in [
            "CREATE TABLE t (a int) WITH (fillfactor = 70)",
            "DECLARE c CURSOR FOR SELECT 1",
            "FETCH 10 FROM c",
            "SELECT 'create source'",
            "CREATE TABLE t (a int, connector text)",
        ] {
            let tokens = split_statements(sql).expect("tokenizes");
            assert!(!is_streaming(&tokens[0]), "{sql}");
        }
    }

    #[test]
    fn errors_are_syntax_errors() {
        for sql in ["CREATE SOURCE s (a int)", "CREATE SINK k FROM mv", "CREATE SINK k WITH (connector = 'x')", "DROP SOURCE", "FETCH 1 FROM c WITH (foo = 1)"] {
            assert!(parse_streaming(sql).is_err(), "{sql}");
        }
    }
}
