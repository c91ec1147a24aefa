//! Parsing SQL text into statements with `sqlparser`'s PostgreSQL dialect.

use freshet_common::{Error, Result};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::streaming::StreamingStatement;

/// A parsed statement (sqlparser's AST).
pub type Statement = sqlparser::ast::Statement;

/// A statement a client sent: ordinary SQL (sqlparser's AST) or a
/// streaming statement sqlparser does not know.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Sql(Statement),
    Streaming(StreamingStatement),
}

impl Command {
    /// The ordinary SQL statement, if this is one.
    pub fn sql(&self) -> Option<&Statement> {
        match self {
            Command::Sql(s) => Some(s),
            Command::Streaming(_) => None,
        }
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Sql(s) => write!(f, "{s}"),
            Command::Streaming(s) => write!(f, "{s}"),
        }
    }
}

/// Parses what a client sent into commands: streaming statements
/// (`crate::streaming`) by their own parser, everything else as
/// [`parse_statements`] does. Text with no streaming statement goes to
/// [`parse_statements`] whole, unchanged.
pub fn parse_commands(sql: &str) -> Result<Vec<Command>> {
    let pieces = match crate::streaming::split_statements(sql) {
        Some(pieces) if pieces.iter().any(|p| crate::streaming::is_streaming(p)) => pieces,
        _ => return Ok(parse_statements(sql)?.into_iter().map(Command::Sql).collect()),
    };
    let mut commands = Vec::new();
    for piece in pieces {
        let text = crate::streaming::tokens_to_sql(&piece);
        if crate::streaming::is_streaming(&piece) {
            let statement = crate::streaming::parse_streaming(&text).map_err(map_parse_error)?;
            commands.push(Command::Streaming(statement));
        } else {
            commands.extend(parse_statements(&text)?.into_iter().map(Command::Sql));
        }
    }
    Ok(commands)
}

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
    check_operator_runs(sql)?;
    let dialect = PostgreSqlDialect {};
    let normalized = normalize_copy_options(sql)
        .or_else(|| normalize_vacuum(sql))
        .or_else(|| normalize_set_constraints(sql))
        .or_else(|| normalize_streaming_commands(sql))
        .or_else(|| normalize_create_database_options(sql))
        .or_else(|| normalize_comment_on_constraint(sql))
        .or_else(|| normalize_drop_identity(sql))
        .or_else(|| normalize_alter_sequence_type(sql));
    let text = normalized.as_deref().unwrap_or(sql);
    let first = Parser::new(&dialect)
        .with_recursion_limit(256)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_statements());
    match first {
        Ok(statements) => Ok(statements),
        Err(error) => {
            // `OFFSET ($1) ROWS FETCH FIRST ($2) ROWS ONLY` (SQLAlchemy's
            // form): sqlparser wants no parentheses there. Retried only
            // after a failure, so no statement that parses changes meaning.
            // FOR NO KEY UPDATE, FOR KEY SHARE and FOR UPDATE OF a, b
            // (Django's forms), which sqlparser does not know.
            let retries = [
                unwrap_limit_parentheses(text),
                normalize_lock_clauses(text),
                normalize_parenthesized_set_operations(text),
                normalize_alter_sequence_rename(text),
                normalize_fetch_expression(text),
                normalize_alter_type_collate(text),
                normalize_frame_bound_casts(text),
                drop_fromless_lock_clause(text),
            ];
            for rewritten in retries.into_iter().flatten() {
                if let Ok(statements) = Parser::new(&dialect)
                    .with_recursion_limit(256)
                    .try_with_sql(&rewritten)
                    .and_then(|mut p| p.parse_statements())
                {
                    return Ok(statements);
                }
            }
            Err(map_parse_error(error))
        }
    }
}

/// Removes the parentheses around a parameter or number that directly
/// follows OFFSET, FETCH FIRST or FETCH NEXT (outside string literals and
/// quoted identifiers). `None` when there is nothing to remove.
fn unwrap_limit_parentheses(sql: &str) -> Option<String> {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    let mut changed = false;
    let mut quote: Option<u8> = None;
    let mut last_word = String::new();
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            let ch_len = sql[i..].chars().next().map(char::len_utf8).unwrap_or(1);
            out.push_str(&sql[i..i + ch_len]);
            if c == q {
                quote = None;
            }
            i += ch_len;
            continue;
        }
        match c {
            b'\'' | b'"' => {
                quote = Some(c);
                out.push(c as char);
                last_word.clear();
                i += 1;
            }
            b'(' if matches!(last_word.to_ascii_uppercase().as_str(), "OFFSET" | "FIRST" | "NEXT") => {
                // ( [spaces] ($n | digits) [spaces] )
                let mut j = i + 1;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                let start = j;
                if j < bytes.len() && bytes[j] == b'$' {
                    j += 1;
                }
                while j < bytes.len() && bytes[j].is_ascii_digit() {
                    j += 1;
                }
                let end = j;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                if end > start && j < bytes.len() && bytes[j] == b')' && sql[start..end].chars().any(|d| d.is_ascii_digit()) {
                    out.push_str(&sql[start..end]);
                    changed = true;
                    i = j + 1;
                } else {
                    out.push('(');
                    i += 1;
                }
                last_word.clear();
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                // Track the current word (ASCII keywords only).
                if i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
                    last_word.clear();
                }
                last_word.push(c as char);
                out.push(c as char);
                i += 1;
            }
            c if c.is_ascii_whitespace() => {
                out.push(c as char);
                i += 1;
            }
            _ => {
                // Any other byte (including UTF-8 continuation bytes) ends a word.
                let ch_len = sql[i..].chars().next().map(char::len_utf8).unwrap_or(1);
                out.push_str(&sql[i..i + ch_len]);
                last_word.clear();
                i += ch_len;
            }
        }
    }
    changed.then_some(out)
}

/// A statement's tokens, for the token-level rewrites below: positions
/// are counted in words (tokens other than whitespace), and the result is
/// the tokens again with some ranges replaced, so text in literals and
/// quoted identifiers is never touched.
struct Words {
    tokens: Vec<Token>,
    /// Indexes in `tokens` of the tokens that are not whitespace.
    words: Vec<usize>,
}

/// Tokens `start..end` replaced by `text` (an insertion when empty).
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

impl Words {
    fn new(sql: &str) -> Option<Words> {
        let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize().ok()?;
        let words = (0..tokens.len()).filter(|i| !matches!(tokens[*i], Token::Whitespace(_))).collect();
        Some(Words { tokens, words })
    }

    fn len(&self) -> usize {
        self.words.len()
    }

    /// The token index of word `w` (the end of the tokens past the last word).
    fn token_index(&self, w: usize) -> usize {
        self.words.get(w).copied().unwrap_or(self.tokens.len())
    }

    /// The keyword word `w` is, if it is an unquoted keyword.
    fn keyword(&self, w: usize) -> Option<Keyword> {
        match self.words.get(w).map(|&i| &self.tokens[i]) {
            Some(Token::Word(word)) if word.quote_style.is_none() => Some(word.keyword),
            _ => None,
        }
    }

    fn is(&self, w: usize, want: &Token) -> bool {
        self.words.get(w).is_some_and(|&i| self.tokens[i] == *want)
    }

    /// Word `w`'s token.
    fn get(&self, w: usize) -> Option<&Token> {
        self.words.get(w).map(|&i| &self.tokens[i])
    }

    /// The word index of the parenthesis closing the one at word `open`.
    fn closing(&self, open: usize) -> Option<usize> {
        let mut depth = 0i32;
        for (w, &i) in self.words.iter().enumerate().skip(open) {
            match self.tokens[i] {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(w);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The text of tokens `start..end`.
    fn text(&self, start: usize, end: usize) -> String {
        self.tokens[start..end].iter().map(|t| t.to_string()).collect()
    }

    /// The statement with `edits` applied; `None` when there are none.
    fn render(&self, mut edits: Vec<Edit>) -> Option<String> {
        if edits.is_empty() {
            return None;
        }
        // Insertions before the replacement that starts at the same token.
        edits.sort_by_key(|e| (e.start, e.end > e.start));
        let mut out = String::new();
        let mut i = 0;
        let mut pending = edits.iter().peekable();
        while i <= self.tokens.len() {
            let mut skipped_to = None;
            while let Some(e) = pending.next_if(|e| e.start == i) {
                out.push_str(&e.text);
                if e.end > e.start {
                    skipped_to = Some(e.end);
                }
            }
            match skipped_to {
                Some(end) => i = end,
                None if i < self.tokens.len() => {
                    out.push_str(&self.tokens[i].to_string());
                    i += 1;
                }
                None => break,
            }
        }
        Some(out)
    }
}

/// A set operation whose first operand is parenthesized, where sqlparser
/// wants a plain query: as a subquery, `((SELECT ...) UNION (SELECT ...))`
/// becomes `(SELECT * FROM ((SELECT ...) UNION (SELECT ...)) AS
/// freshet_set_operation)`, and after EXPLAIN, `EXPLAIN (SELECT ...) UNION
/// ...` becomes `EXPLAIN SELECT * FROM (...) AS freshet_set_operation`
/// (sqlparser reads the parenthesis as an option list). Django writes both.
/// `None` when there is nothing to rewrite.
fn normalize_parenthesized_set_operations(sql: &str) -> Option<String> {
    let words = Words::new(sql)?;
    let set_op = |w: usize| matches!(words.keyword(w), Some(Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT));
    let query_start = |w: usize| matches!(words.keyword(w), Some(Keyword::SELECT | Keyword::WITH | Keyword::VALUES));
    let insert = |w: usize, text: &str| {
        let at = words.token_index(w);
        Edit { start: at, end: at, text: text.to_string() }
    };
    let mut edits = Vec::new();
    if words.keyword(0) == Some(Keyword::EXPLAIN) && words.is(1, &Token::LParen) && query_start(2) {
        let first = words.closing(1)?;
        if set_op(first + 1) {
            edits.push(insert(1, "SELECT * FROM ("));
            edits.push(insert(words.len(), ") AS freshet_set_operation"));
        }
    }
    for w in 1..words.len() {
        // ( ( SELECT ... ) UNION ...
        if words.is(w, &Token::LParen) && words.is(w + 1, &Token::LParen) && query_start(w + 2) && !query_start(w - 1) {
            let Some(first) = words.closing(w + 1) else { continue };
            if !set_op(first + 1) {
                continue;
            }
            let Some(outer) = words.closing(w) else { continue };
            edits.push(insert(w + 1, "SELECT * FROM ("));
            edits.push(insert(outer, ") AS freshet_set_operation"));
        }
    }
    words.render(edits)
}

/// Refuses (54001) a statement with a run of more operators than
/// `2 * EXPRESSION_DEPTH_MAX` not broken by a comma or parenthesis: such
/// a run (`1 + 1 + ... + 1`, `a = 1 OR a = 2 OR ...`) parses into an
/// expression tree as deep as it is long, which the binder would refuse
/// anyway and whose parse tree could not even be dropped without
/// exhausting the stack. (Parentheses nest only as deep as the parser's
/// recursion limit.) Statements too short to hold such a run are not
/// tokenized here.
fn check_operator_runs(sql: &str) -> Result<()> {
    let run_max = 2 * freshet_common::stack::EXPRESSION_DEPTH_MAX;
    // Every operator takes at least one byte and so does each operand.
    if sql.len() < 2 * run_max {
        return Ok(());
    }
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize() else { return Ok(()) };
    let mut run = 0usize;
    for token in &tokens {
        match token {
            Token::Comma | Token::LParen | Token::RParen | Token::SemiColon | Token::LBracket | Token::RBracket => run = 0,
            Token::Whitespace(_) | Token::Number(..) | Token::SingleQuotedString(_) | Token::Placeholder(_) => {}
            Token::Word(w) if !matches!(w.keyword, Keyword::AND | Keyword::OR | Keyword::NOT | Keyword::IS) => {}
            _ => {
                run += 1;
                if run > run_max {
                    return Err(freshet_common::stack::depth_exceeded());
                }
            }
        }
    }
    Ok(())
}

/// `FETCH {FIRST | NEXT} (expression) {ROW | ROWS} ONLY`, where sqlparser
/// wants a plain value, as the equivalent `LIMIT (expression)`
/// (SQLAlchemy writes `FETCH FIRST (1 + 1) ROWS ONLY`), and `... WITH TIES`
/// as `LIMIT (expression) FETCH FIRST ROWS WITH TIES`. `None` when there
/// is nothing to rewrite.
fn normalize_fetch_expression(sql: &str) -> Option<String> {
    let words = Words::new(sql)?;
    let mut edits = Vec::new();
    for w in 0..words.len() {
        if words.keyword(w) != Some(Keyword::FETCH) || !matches!(words.keyword(w + 1), Some(Keyword::FIRST | Keyword::NEXT)) {
            continue;
        }
        // The count: a balanced parenthesis, or a negated number (which
        // PostgreSQL's grammar takes and then rejects as 2201W); then
        // ROW|ROWS ONLY or ROW|ROWS WITH TIES.
        let close = if words.is(w + 2, &Token::LParen) {
            let Some(close) = words.closing(w + 2) else { continue };
            close
        } else if words.is(w + 2, &Token::Minus) && words.get(w + 3).is_some_and(|t| matches!(t, Token::Number(..))) {
            w + 3
        } else {
            continue;
        };
        if !matches!(words.keyword(close + 1), Some(Keyword::ROW | Keyword::ROWS)) {
            continue;
        }
        let inner = words.text(words.token_index(w + 2), words.token_index(close) + 1);
        if words.keyword(close + 2) == Some(Keyword::ONLY) {
            edits.push(Edit { start: words.token_index(w), end: words.token_index(close + 2) + 1, text: format!("LIMIT {inner}") });
        } else if words.keyword(close + 2) == Some(Keyword::WITH) && words.keyword(close + 3) == Some(Keyword::TIES) {
            // The count moves to a LIMIT; the quantity-less FETCH keeps
            // WITH TIES (the binder reads them together).
            let text = format!("LIMIT {inner} FETCH FIRST ROWS WITH TIES");
            edits.push(Edit { start: words.token_index(w), end: words.token_index(close + 3) + 1, text });
        }
    }
    words.render(edits)
}

/// `SELECT 1 FOR UPDATE` (also in DECLARE ... CURSOR FOR): sqlparser takes the FOR for a column alias when
/// it follows the select list. Without a FROM the clause locks nothing, so
/// it is dropped (a clause with OF is left, for the binder's 42P01).
/// `None` when there is nothing to rewrite.
fn drop_fromless_lock_clause(sql: &str) -> Option<String> {
    let words = Words::new(sql)?;
    // The query may follow DECLARE ... CURSOR FOR, whose FOR is not a lock.
    let select = (0..words.len()).find(|w| words.keyword(*w) == Some(Keyword::SELECT))?;
    let mut depth = 0i32;
    let mut clause = None;
    for w in select..words.len() {
        if words.is(w, &Token::LParen) {
            depth += 1;
        } else if words.is(w, &Token::RParen) {
            depth -= 1;
        } else if depth == 0 && words.keyword(w) == Some(Keyword::FROM) {
            return None;
        } else if depth == 0 && clause.is_none() && words.keyword(w) == Some(Keyword::FOR) {
            clause = Some(w);
        }
    }
    let start = clause?;
    let mut end = start + 1;
    let strength: &[Keyword] = match (words.keyword(end), words.keyword(end + 1)) {
        (Some(Keyword::NO), Some(Keyword::KEY)) => &[Keyword::NO, Keyword::KEY, Keyword::UPDATE],
        (Some(Keyword::KEY), _) => &[Keyword::KEY, Keyword::SHARE],
        (Some(Keyword::UPDATE), _) => &[Keyword::UPDATE],
        (Some(Keyword::SHARE), _) => &[Keyword::SHARE],
        _ => return None,
    };
    for k in strength {
        if words.keyword(end) != Some(*k) {
            return None;
        }
        end += 1;
    }
    match (words.keyword(end), words.keyword(end + 1)) {
        (Some(Keyword::NOWAIT), _) => end += 1,
        (Some(Keyword::SKIP), Some(Keyword::LOCKED)) => end += 2,
        (Some(Keyword::OF), _) => return None,
        _ => {}
    }
    let stop = if end < words.len() { words.token_index(end) } else { words.token_index(end - 1) + 1 };
    words.render(vec![Edit { start: words.token_index(start), end: stop, text: String::new() }])
}

/// A window frame bound written as a cast string, `'1 day'::interval
/// PRECEDING` (psycopg2 inlines an interval parameter so), which sqlparser
/// reads as an interval literal followed by a stray `::`: parenthesized,
/// `('1 day'::interval) PRECEDING`. `None` when there is nothing to rewrite.
fn normalize_frame_bound_casts(sql: &str) -> Option<String> {
    const TYPE_WORDS_MAX: usize = 4;
    let words = Words::new(sql)?;
    let mut edits = Vec::new();
    for w in 0..words.len() {
        if !words.get(w).is_some_and(|t| matches!(t, Token::SingleQuotedString(_))) || !words.is(w + 1, &Token::DoubleColon) {
            continue;
        }
        let bound = (w + 2..=w + 1 + TYPE_WORDS_MAX)
            .take_while(|k| words.get(*k).is_some_and(|t| matches!(t, Token::Word(_))))
            .find(|k| matches!(words.keyword(*k), Some(Keyword::PRECEDING | Keyword::FOLLOWING)));
        let Some(bound) = bound else { continue };
        if bound == w + 2 {
            continue;
        }
        let cast = words.text(words.token_index(w), words.token_index(bound));
        edits.push(Edit { start: words.token_index(w), end: words.token_index(bound), text: format!("({}) ", cast.trim_end()) });
    }
    words.render(edits)
}

/// `ALTER TABLE t ALTER [COLUMN] c [SET DATA] TYPE type COLLATE name`,
/// which sqlparser does not parse, as `... TYPE type USING c COLLATE name`
/// (the binder reads the collation from there). Only a clause without its
/// own USING is rewritten; `None` when nothing is.
fn normalize_alter_type_collate(sql: &str) -> Option<String> {
    let words = Words::new(sql)?;
    if words.keyword(0) != Some(Keyword::ALTER) || words.keyword(1) != Some(Keyword::TABLE) {
        return None;
    }
    let mut edits = Vec::new();
    let mut w = 2;
    while w < words.len() {
        if words.keyword(w) != Some(Keyword::ALTER) {
            w += 1;
            continue;
        }
        let mut k = w + 1;
        if words.keyword(k) == Some(Keyword::COLUMN) {
            k += 1;
        }
        if k >= words.len() {
            break;
        }
        let column = words.text(words.token_index(k), words.token_index(k) + 1);
        k += 1;
        if words.keyword(k) == Some(Keyword::SET) && words.keyword(k + 1) == Some(Keyword::DATA) {
            k += 2;
        }
        if words.keyword(k) != Some(Keyword::TYPE) {
            w += 1;
            continue;
        }
        // The type, up to COLLATE at parenthesis depth 0.
        let mut depth = 0i32;
        let mut j = k + 1;
        while j < words.len() {
            match &words.tokens[words.words[j]] {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::Comma if depth == 0 => break,
                _ if depth == 0 && words.keyword(j) == Some(Keyword::COLLATE) => break,
                _ => {}
            }
            j += 1;
        }
        if words.keyword(j) != Some(Keyword::COLLATE) {
            w = j;
            continue;
        }
        // The name: one word, or schema . name.
        let mut end = j + 2;
        if words.is(end, &Token::Period) {
            end += 2;
        }
        if words.keyword(end) != Some(Keyword::USING) && end <= words.len() {
            let (start, stop) = (words.token_index(j), words.token_index(end - 1) + 1);
            edits.push(Edit { start, end: stop, text: format!("USING {column} {}", words.text(start, stop)) });
        }
        w = end;
    }
    words.render(edits)
}

/// `ALTER SEQUENCE [IF EXISTS] name RENAME TO new`, which sqlparser does not
/// know, as the equivalent `ALTER TABLE` (which PostgreSQL also accepts
/// for a sequence).
fn normalize_alter_sequence_rename(sql: &str) -> Option<String> {
    let words = split_sql_words(sql.trim().trim_end_matches(';').trim())?;
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let name_at = if upper.get(2).map(String::as_str) == Some("IF") { 4 } else { 2 };
    let matches = upper.len() == name_at + 4
        && upper[0] == "ALTER"
        && upper[1] == "SEQUENCE"
        && upper[name_at + 1] == "RENAME"
        && upper[name_at + 2] == "TO";
    matches.then(|| {
        let if_exists = if name_at == 4 { "IF EXISTS " } else { "" };
        format!("ALTER TABLE {if_exists}{} RENAME TO {}", words[name_at], words[name_at + 3])
    })
}

/// Row-locking clauses in the forms sqlparser knows: `FOR NO KEY UPDATE`
/// becomes `FOR UPDATE`, `FOR KEY SHARE` becomes `FOR SHARE` (Freshet's row
/// locks are all exclusive, so nothing is weakened), and `FOR UPDATE OF a,
/// b` becomes `FOR UPDATE OF a FOR UPDATE OF b`. `None` when nothing
/// changed.
fn normalize_lock_clauses(sql: &str) -> Option<String> {
    let words = Words::new(sql)?;
    let mut edits = Vec::new();
    let replace_word = |edits: &mut Vec<Edit>, w: usize, text: &str| {
        let at = words.token_index(w);
        edits.push(Edit { start: at, end: at + 1, text: text.to_string() });
    };
    for n in 0..words.len() {
        if words.keyword(n) != Some(Keyword::FOR) {
            continue;
        }
        let at = |k: usize| words.keyword(n + k);
        let (length, strength) = match (at(1), at(2), at(3)) {
            (Some(Keyword::NO), Some(Keyword::KEY), Some(Keyword::UPDATE)) => {
                replace_word(&mut edits, n + 1, "");
                replace_word(&mut edits, n + 2, "");
                (3, "UPDATE")
            }
            (Some(Keyword::KEY), Some(Keyword::SHARE), _) => {
                replace_word(&mut edits, n + 1, "");
                (2, "SHARE")
            }
            (Some(Keyword::UPDATE), _, _) => (1, "UPDATE"),
            (Some(Keyword::SHARE), _, _) => (1, "SHARE"),
            _ => continue,
        };
        // OF name [, name ...]: each further name gets a clause of its own.
        let mut k = n + length + 1;
        if words.keyword(k) != Some(Keyword::OF) {
            continue;
        }
        k += 1;
        loop {
            // One name, possibly qualified: word (. word)*.
            k += 1;
            while words.is(k, &Token::Period) {
                k += 2;
            }
            if !words.is(k, &Token::Comma) {
                break;
            }
            replace_word(&mut edits, k, &format!(" FOR {strength} OF "));
            k += 1;
        }
    }
    words.render(edits)
}

/// RisingWave-style commands: `FLUSH` (wait for pending view work: views
/// are updated before a commit is acknowledged, so there is nothing to
/// wait for), `SHOW MATERIALIZED VIEWS` and `SHOW TABLES` (names in the
/// current schema; sources are not tables, as in RisingWave), `SHOW SOURCES`, `SHOW SINKS` and `SHOW SUBSCRIPTIONS`,
/// rewritten into statements
/// sqlparser knows.
fn normalize_streaming_commands(sql: &str) -> Option<String> {
    let words: Vec<String> = sql.trim().trim_end_matches(';').split_whitespace().map(|w| w.to_lowercase()).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["flush"] => Some("SET freshet.flush = 'on'".to_string()),
        ["show", "materialized", "views"] => Some(
            "SELECT matviewname AS \"Name\" FROM pg_catalog.pg_matviews WHERE schemaname = current_schema() ORDER BY 1".to_string(),
        ),
        ["show", "sources"] => Some(
            "SELECT name AS \"Name\" FROM pg_catalog.freshet_sources WHERE schema_name = current_schema() AND kind = 'source' ORDER BY 1".to_string(),
        ),
        ["show", "sinks"] => Some(
            "SELECT name AS \"Name\" FROM pg_catalog.freshet_sinks WHERE schema_name = current_schema() ORDER BY 1".to_string(),
        ),
        ["show", "subscriptions"] => Some(
            "SELECT name AS \"Name\" FROM pg_catalog.freshet_subscriptions WHERE schema_name = current_schema() ORDER BY 1".to_string(),
        ),
        ["show", "tables"] => Some(
            "SELECT tablename AS \"Name\" FROM pg_catalog.pg_tables WHERE schemaname = current_schema() \
             AND tablename NOT IN (SELECT name FROM pg_catalog.freshet_sources WHERE kind = 'source' AND schema_name = current_schema()) \
             ORDER BY 1"
                .to_string(),
        ),
        _ => None,
    }
}

/// `COMMENT ON CONSTRAINT name ON table IS ...`, which sqlparser does not
/// know, becomes `COMMENT ON COLLATION "freshet.constraint".table.name IS
/// ...` (Freshet has no collations to comment on), which the binder turns
/// back into a constraint comment. Only a statement that is exactly one
/// such COMMENT is rewritten.
fn normalize_comment_on_constraint(sql: &str) -> Option<String> {
    let trimmed = sql.trim().trim_end_matches(';').trim();
    let tokens = split_sql_words(trimmed)?;
    let upper = |i: usize| tokens.get(i).map(|t| t.to_ascii_uppercase());
    if upper(0).as_deref() != Some("COMMENT") || upper(1).as_deref() != Some("ON") || upper(2).as_deref() != Some("CONSTRAINT") {
        return None;
    }
    let constraint = tokens.get(3)?;
    if upper(4).as_deref() != Some("ON") {
        return None;
    }
    let table = tokens.get(5)?;
    if upper(6).as_deref() != Some("IS") {
        return None;
    }
    // The comment: everything after IS, verbatim.
    let mut after_is = 0;
    for t in &tokens[..7] {
        after_is += trimmed[after_is..].find(t.as_str())? + t.len();
    }
    let rest = trimmed[after_is..].trim();
    Some(format!("COMMENT ON COLLATION \"{}\".{table}.{constraint} IS {rest}", crate::bind::CONSTRAINT_COMMENT_MARKER))
}

/// `ALTER TABLE t ALTER [COLUMN] c DROP IDENTITY [IF EXISTS]`, which
/// sqlparser does not know, becomes `... ALTER COLUMN c DROP DEFAULT`: an
/// identity column is stored as a column whose default draws from its
/// sequence, so dropping the default ends the identity (the sequence stays,
/// unused). Only a statement that is exactly one such ALTER is rewritten.
fn normalize_drop_identity(sql: &str) -> Option<String> {
    let trimmed = sql.trim().trim_end_matches(';').trim();
    let tokens = split_sql_words(trimmed)?;
    let upper: Vec<String> = tokens.iter().map(|t| t.to_ascii_uppercase()).collect();
    let n = upper.len();
    let tail_len = if upper.ends_with(&["DROP".into(), "IDENTITY".into(), "IF".into(), "EXISTS".into()]) {
        4
    } else if upper.ends_with(&["DROP".into(), "IDENTITY".into()]) {
        2
    } else {
        return None;
    };
    if n < 5 + tail_len || upper[0] != "ALTER" || upper[1] != "TABLE" || !upper.iter().any(|w| w == "ALTER") {
        return None;
    }
    // ALTER TABLE [IF EXISTS] [ONLY] name ALTER [COLUMN] column DROP IDENTITY ...
    let head = &tokens[..n - tail_len];
    let column = head.last()?;
    let alter_at = head.iter().rposition(|t| t.eq_ignore_ascii_case("ALTER"))?;
    if alter_at < 3 {
        return None;
    }
    let table_part = head[2..alter_at].join(" ");
    Some(format!("ALTER TABLE {table_part} ALTER COLUMN {column} DROP DEFAULT"))
}

/// `CREATE DATABASE name [WITH] [option [=] value ...]`, whose options
/// sqlparser does not know, becomes `CREATE DATABASE name [CLONE
/// template]`: TEMPLATE names the database to copy (`template0` and
/// `template1`, PostgreSQL's empty templates, copy nothing); the other
/// options (ENCODING, LOCALE, OWNER, CONNECTION LIMIT, ...) describe what
/// Freshet has anyway (UTF8, C collation, one owner) and are accepted.
fn normalize_create_database_options(sql: &str) -> Option<String> {
    let dialect = PostgreSqlDialect {};
    let tokens: Vec<Token> = Tokenizer::new(&dialect, sql)
        .tokenize()
        .ok()?
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    };
    if word(0).as_deref() != Some("CREATE") || word(1).as_deref() != Some("DATABASE") {
        return None;
    }
    let name = match tokens.get(2)? {
        t @ Token::Word(_) => t.to_string(),
        _ => return None,
    };
    let mut i = 3;
    if word(i).as_deref() == Some("WITH") {
        i += 1;
    }
    let mut template = None;
    let mut any = false;
    while i < tokens.len() && tokens[i] != Token::SemiColon {
        let option = word(i)?;
        i += 1;
        if option == "CONNECTION" {
            if word(i).as_deref() != Some("LIMIT") {
                return None;
            }
            i += 1;
        }
        if tokens.get(i) == Some(&Token::Eq) {
            i += 1;
        }
        let value = tokens.get(i)?.clone();
        if !matches!(value, Token::Word(_) | Token::SingleQuotedString(_) | Token::Number(..) | Token::Minus) {
            return None;
        }
        i += 1;
        if value == Token::Minus {
            i += 1;
        }
        any = true;
        match option.as_str() {
            "TEMPLATE" => template = Some(value),
            "OWNER" | "ENCODING" | "LOCALE" | "LC_COLLATE" | "LC_CTYPE" | "ICU_LOCALE" | "ICU_RULES" | "LOCALE_PROVIDER"
            | "COLLATION_VERSION" | "TABLESPACE" | "ALLOW_CONNECTIONS" | "CONNECTION" | "IS_TEMPLATE" | "OID" | "STRATEGY" => {}
            _ => return None,
        }
    }
    if !any {
        return None;
    }
    let clone = match template {
        Some(Token::Word(w)) if w.quote_style.is_none() && matches!(w.value.to_ascii_lowercase().as_str(), "template0" | "template1" | "default") => String::new(),
        Some(Token::SingleQuotedString(t)) if matches!(t.as_str(), "template0" | "template1") => String::new(),
        Some(t @ Token::Word(_)) => format!(" CLONE {t}"),
        Some(Token::SingleQuotedString(t)) => format!(" CLONE \"{}\"", t.replace('"', "\"\"")),
        Some(_) => return None,
        None => String::new(),
    };
    Some(format!("CREATE DATABASE {name}{clone}"))
}

/// The leading words of a statement: bare words and double-quoted
/// identifiers (kept quoted), up to the first string literal. `None` if a
/// quote is unbalanced.
fn split_sql_words(sql: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = sql.char_indices().peekable();
    while let Some(&(_, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            break;
        } else if c == '"' {
            let mut word = String::from('"');
            chars.next();
            loop {
                let (_, d) = chars.next()?;
                word.push(d);
                if d == '"' {
                    if chars.peek().map(|&(_, n)| n) == Some('"') {
                        chars.next();
                        word.push('"');
                        continue;
                    }
                    break;
                }
            }
            // A quoted part may continue a dotted name.
            while let Some(&(_, n)) = chars.peek() {
                if n.is_whitespace() || n == '\'' {
                    break;
                }
                word.push(n);
                chars.next();
            }
            out.push(word);
        } else {
            let mut word = String::new();
            while let Some(&(_, n)) = chars.peek() {
                if n.is_whitespace() || n == '\'' {
                    break;
                }
                word.push(n);
                chars.next();
            }
            out.push(word);
        }
    }
    Some(out)
}

/// Name of the pseudo-setting `ALTER SEQUENCE ... AS type` is parsed into;
/// its value is `[if_exists:]sequence name`.
pub const ALTER_SEQUENCE_TYPE_SETTING: &str = "freshet.alter_sequence_type";

/// `ALTER SEQUENCE [IF EXISTS] name AS type`, which sqlparser does not
/// know (Django emits it when an AutoField becomes a BigAutoField). Freshet
/// sequences are 64-bit whatever their declared type, so the statement only
/// checks that the sequence exists; it becomes a SET of a pseudo-setting
/// that the session interprets.
fn normalize_alter_sequence_type(sql: &str) -> Option<String> {
    let trimmed = sql.trim().trim_end_matches(';').trim();
    let tokens = split_sql_words(trimmed)?;
    let upper: Vec<String> = tokens.iter().map(|t| t.to_ascii_uppercase()).collect();
    if upper.len() < 5 || upper[0] != "ALTER" || upper[1] != "SEQUENCE" {
        return None;
    }
    let (if_exists, name_at) = if upper[2] == "IF" && upper.get(3).map(String::as_str) == Some("EXISTS") { (true, 4) } else { (false, 2) };
    if upper.get(name_at + 1).map(String::as_str) != Some("AS") || tokens.len() < name_at + 3 {
        return None;
    }
    let name = tokens[name_at].replace('\'', "''");
    let prefix = if if_exists { "if_exists:" } else { "" };
    Some(format!("SET {ALTER_SEQUENCE_TYPE_SETTING} = '{prefix}{name}'"))
}

/// Name of the pseudo-setting `SET CONSTRAINTS` is parsed into.
pub const SET_CONSTRAINTS_SETTING: &str = "freshet.set_constraints";

/// `SET CONSTRAINTS { ALL | name [, ...] } { IMMEDIATE | DEFERRED }`,
/// which sqlparser does not know, becomes a SET of a pseudo-setting that
/// the session interprets.
fn normalize_set_constraints(sql: &str) -> Option<String> {
    // Statement by statement (a query string may hold several); a naive
    // split on ';' is enough to find them, and statements are only
    // rewritten when they are exactly SET CONSTRAINTS.
    let lower = sql.to_lowercase();
    if !lower.contains("constraints") {
        return None;
    }
    let mut changed = false;
    let parts: Vec<String> = sql
        .split(';')
        .map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            if words.len() >= 4 && words[0].eq_ignore_ascii_case("set") && words[1].eq_ignore_ascii_case("constraints") {
                let mode = words[words.len() - 1].to_lowercase();
                if mode == "immediate" || mode == "deferred" {
                    changed = true;
                    return format!(" SET {SET_CONSTRAINTS_SETTING} = '{mode}'");
                }
            }
            part.to_string()
        })
        .collect();
    changed.then(|| parts.join(";"))
}

/// `VACUUM [FULL] [FREEZE] [VERBOSE] [ANALYZE] [(options)] [table [, ...]]`:
/// Freshet has nothing to vacuum, but tools (pgbench, ORMs) send it; reduce
/// it to the form sqlparser accepts (`VACUUM [table]`).
fn normalize_vacuum(sql: &str) -> Option<String> {
    let trimmed = sql.trim().trim_end_matches(';').trim();
    let mut words = trimmed.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("vacuum") {
        return None;
    }
    let rest: Vec<&str> = words.collect();
    if rest.join(" ").contains(';') {
        return None;
    }
    let table = rest
        .iter()
        .rev()
        .find(|w| {
            let l = w.to_lowercase();
            !["full", "freeze", "verbose", "analyze", "analyse"].contains(&l.as_str()) && !w.contains('(') && !w.contains(')')
        })
        .map(|t| t.trim_end_matches(','));
    Some(match table {
        Some(t) => format!("VACUUM {t}"),
        None => "VACUUM".to_string(),
    })
}

/// `COPY ... WITH (FREEZE on, HEADER off)`: PostgreSQL accepts `on`/`off`
/// (and bare option names) for boolean COPY options, sqlparser only
/// `true`/`false`; rewrite them inside a single COPY statement's option
/// list. Returns `None` when nothing needs rewriting.
fn normalize_copy_options(sql: &str) -> Option<String> {
    let trimmed = sql.trim_start();
    if !trimmed.get(..5).is_some_and(|w| w.eq_ignore_ascii_case("copy ")) {
        return None;
    }
    let open = sql.rfind('(')?;
    let close = sql.rfind(')')?;
    if close < open || sql[close + 1..].trim().trim_end_matches(';').trim() != "" {
        return None;
    }
    let inner = &sql[open + 1..close];
    let rewritten: Vec<String> = inner
        .split(',')
        .map(|opt| {
            let words: Vec<&str> = opt.split_whitespace().collect();
            match words.as_slice() {
                [name, value] if value.eq_ignore_ascii_case("on") => format!(" {name} true"),
                [name, value] if value.eq_ignore_ascii_case("off") => format!(" {name} false"),
                _ => opt.to_string(),
            }
        })
        .collect();
    let joined = rewritten.join(",");
    if joined == inner {
        return None;
    }
    Some(format!("{}({}){}", &sql[..open], joined, &sql[close + 1..]))
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

#[cfg(test)]
mod tests {
    use super::{normalize_lock_clauses, parse_statements, unwrap_limit_parentheses};

    #[test]
    fn parenthesized_set_operations_parse() {
        for sql in [
            "SELECT a FROM t WHERE ((SELECT 1 AS x) UNION (SELECT 2 AS x)) IS NOT NULL",
            "SELECT a FROM t WHERE a IN ((SELECT 1) UNION ALL (SELECT 2 LIMIT 1))",
            "EXPLAIN (SELECT 1 AS a) UNION (SELECT 2 AS a)",
            "ALTER SEQUENCE s RENAME TO s2",
            "ALTER SEQUENCE IF EXISTS public.s RENAME TO s2",
            "SELECT a FROM t ORDER BY a OFFSET (1 + 1) ROWS FETCH FIRST (1 + 1) ROWS ONLY",
            "SELECT a FROM t ORDER BY a FETCH NEXT ($1) ROW ONLY",
            "ALTER TABLE \"drop\" ALTER COLUMN \"when\" TYPE varchar(1) COLLATE \"C\"",
            "ALTER TABLE t ALTER c SET DATA TYPE text COLLATE pg_catalog.\"POSIX\", ALTER COLUMN d TYPE numeric(10, 2)",
        ] {
            assert!(parse_statements(sql).is_ok(), "{sql}: {:?}", parse_statements(sql).err());
        }
    }

    #[test]
    fn lock_clauses_in_sqlparser_forms() {
        let norm = |s: &str| normalize_lock_clauses(s);
        assert_eq!(norm("SELECT 1 FROM t FOR NO KEY UPDATE").as_deref(), Some("SELECT 1 FROM t FOR   UPDATE"));
        assert_eq!(norm("SELECT 1 FROM t FOR KEY SHARE NOWAIT").as_deref(), Some("SELECT 1 FROM t FOR  SHARE NOWAIT"));
        assert_eq!(
            norm(r#"SELECT 1 FROM a, "b" FOR UPDATE OF a, "b" SKIP LOCKED"#).as_deref(),
            Some(r#"SELECT 1 FROM a, "b" FOR UPDATE OF a FOR UPDATE OF  "b" SKIP LOCKED"#)
        );
        assert_eq!(
            norm("SELECT 1 FROM s.a FOR NO KEY UPDATE OF s.a, b").as_deref(),
            Some("SELECT 1 FROM s.a FOR   UPDATE OF s.a FOR UPDATE OF  b")
        );
        assert_eq!(norm("SELECT 1 FROM t FOR UPDATE"), None);
        assert_eq!(norm("SELECT 'FOR NO KEY UPDATE'"), None);
        for sql in [
            "SELECT * FROM t FOR NO KEY UPDATE",
            "SELECT * FROM t, u FOR UPDATE OF t, u NOWAIT",
            "SELECT * FROM t FOR KEY SHARE SKIP LOCKED",
        ] {
            assert!(parse_statements(sql).is_ok(), "{sql}");
        }
    }

    #[test]
    fn unwraps_offset_and_fetch_operands_only() {
        assert_eq!(
            unwrap_limit_parentheses("SELECT x FROM t ORDER BY x OFFSET ($1) ROWS FETCH FIRST ( $2 ) ROWS ONLY").as_deref(),
            Some("SELECT x FROM t ORDER BY x OFFSET $1 ROWS FETCH FIRST $2 ROWS ONLY")
        );
        assert_eq!(unwrap_limit_parentheses("SELECT 'offset (1)', first(x) FROM t"), None);
        assert_eq!(
            unwrap_limit_parentheses("SELECT 'é' FROM t OFFSET (3) ROWS").as_deref(),
            Some("SELECT 'é' FROM t OFFSET 3 ROWS")
        );
    }
}
