//! A subset of SQL/JSON path (`jsonpath`) as PostgreSQL 15 implements it
//! in `src/backend/utils/adt/jsonpath_gram.y` and `jsonpath_exec.c`, for
//! `jsonb_path_exists`, `jsonb_path_match`, `jsonb_path_query[_array |
//! _first]` and the `@?` / `@@` operators.
//!
//! Supported: `lax` (the default) and `strict` modes; `$`, `@`, `$var`,
//! literals; accessors `.key`, `."key"`, `.*`, `[n]`, `[n to m]`, `[*]`,
//! `[last]`; filters `? (...)` with `==`, `!=`/`<>`, `<`, `<=`, `>`, `>=`,
//! `&&`, `||`, `!`, `exists(...)`, `like_regex` (flags `i`, `s`, `m`,
//! `x`, `q`), `starts with` and `is unknown`; arithmetic `+ - * / %` and
//! unary minus; methods `.size()`, `.type()`, `.double()`, `.abs()`,
//! `.floor()`, `.ceiling()`, `.keyvalue()`; `.**` with optional levels.
//! `.datetime()` is refused with 0A000; a malformed path is 42601.
//!
//! Evaluation follows `jsonpath_exec.c`: accessor chains run depth-first,
//! item by item, and items remember where they sit in their base document
//! so `.keyvalue()` can give PostgreSQL's `id` (a byte offset in the
//! binary jsonb, plus 10^10 times the base object's number).
//!
//! Paths are text here (Freshet has no `jsonpath` type); the binder parses
//! constant paths once to report syntax errors where PostgreSQL does.

use std::cell::Cell;
use std::rc::Rc;

use freshet_common::json::Jsonb;
use freshet_common::{Error, Numeric, Result, SqlState};

/// A parsed path.
#[derive(Clone, Debug)]
pub struct JsonPath {
    strict: bool,
    expr: Expr,
}

#[derive(Clone, Debug)]
enum Expr {
    Root,
    Current,
    Last,
    Var(String),
    Literal(Jsonb),
    Access(Box<Expr>, Accessor),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Plus(Box<Expr>),
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Exists(Box<Expr>),
    IsUnknown(Box<Expr>),
    LikeRegex(Box<Expr>, Box<regex::Regex>),
    StartsWith(Box<Expr>, Box<Expr>),
}

impl Expr {
    fn is_predicate(&self) -> bool {
        matches!(
            self,
            Expr::Compare(..)
                | Expr::And(..)
                | Expr::Or(..)
                | Expr::Not(_)
                | Expr::Exists(_)
                | Expr::IsUnknown(_)
                | Expr::LikeRegex(..)
                | Expr::StartsWith(..)
        )
    }
}

#[derive(Clone, Debug)]
enum Accessor {
    Key(String),
    AnyKey,
    /// Subscripts: single indexes or `from to to` ranges.
    Index(Vec<(Expr, Option<Expr>)>),
    AnyIndex,
    Filter(Box<Expr>),
    Method(Method),
    /// `.**{first to last}`: every item at those nesting levels, in
    /// pre-order (`last` = `u32::MAX` is the deepest; both `u32::MAX`
    /// means leaves only).
    Recursive { first: u32, last: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Size,
    Type,
    Double,
    Abs,
    Floor,
    Ceiling,
    KeyValue,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Size => "size",
            Method::Type => "type",
            Method::Double => "double",
            Method::Abs => "abs",
            Method::Floor => "floor",
            Method::Ceiling => "ceiling",
            Method::KeyValue => "keyvalue",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl ArithOp {
    fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Mod => "%",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

// ---------------------------------------------------------------------------
// Lexing

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Dollar,
    At,
    Var(String),
    Ident(String),
    Str(String),
    Num(String),
    Punct(&'static str),
    End,
}

fn syntax_error(near: Option<&str>) -> Error {
    match near {
        None => Error::new(SqlState::SyntaxError, "syntax error at end of jsonpath input"),
        Some(t) => Error::new(SqlState::SyntaxError, format!("syntax error at or near \"{t}\" of jsonpath input")),
    }
}

fn unsupported(feature: &str) -> Error {
    Error::unsupported(format!("jsonpath {feature}"))
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

const PUNCTS: &[&str] = &[
    "==", "!=", "<>", "<=", ">=", "&&", "||", "**", "<", ">", "!", "=", ".", "[", "]", "(", ")", ",", "?", "*", "+", "-",
    "/", "%", "{", "}", ":",
];

impl<'a> Lexer<'a> {
    /// The next token and the text it came from.
    fn next(&mut self) -> Result<(Tok, String)> {
        let b = self.input.as_bytes();
        while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        if start >= b.len() {
            return Ok((Tok::End, String::new()));
        }
        let c = b[start];
        let ident_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        let tok = match c {
            b'"' => Tok::Str(self.string()?),
            b'$' => {
                self.pos += 1;
                if self.pos < b.len() && b[self.pos] == b'"' {
                    Tok::Var(self.string()?)
                } else if self.pos < b.len() && ident_char(b[self.pos]) {
                    let s = self.pos;
                    while self.pos < b.len() && ident_char(b[self.pos]) {
                        self.pos += 1;
                    }
                    Tok::Var(self.input[s..self.pos].to_string())
                } else {
                    Tok::Dollar
                }
            }
            b'@' => {
                self.pos += 1;
                Tok::At
            }
            b'0'..=b'9' => {
                let mut p = start;
                while p < b.len() && b[p].is_ascii_digit() {
                    p += 1;
                }
                if p + 1 < b.len() && b[p] == b'.' && b[p + 1].is_ascii_digit() {
                    p += 1;
                    while p < b.len() && b[p].is_ascii_digit() {
                        p += 1;
                    }
                }
                if p < b.len() && (b[p] == b'e' || b[p] == b'E') {
                    let mut q = p + 1;
                    if q < b.len() && (b[q] == b'+' || b[q] == b'-') {
                        q += 1;
                    }
                    if q < b.len() && b[q].is_ascii_digit() {
                        while q < b.len() && b[q].is_ascii_digit() {
                            q += 1;
                        }
                        p = q;
                    }
                }
                if p < b.len() && ident_char(b[p]) {
                    let mut q = p;
                    while q < b.len() && ident_char(b[q]) {
                        q += 1;
                    }
                    return Err(Error::new(SqlState::SyntaxError, format!("trailing junk after numeric literal at or near \"{}\" of jsonpath input", &self.input[start..q.min(p + 1)])));
                }
                self.pos = p;
                Tok::Num(self.input[start..p].to_string())
            }
            c if ident_char(c) => {
                while self.pos < b.len() && ident_char(b[self.pos]) {
                    self.pos += 1;
                }
                Tok::Ident(self.input[start..self.pos].to_string())
            }
            _ => {
                let rest = &self.input[start..];
                let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) else {
                    let ch = rest.chars().next().map(String::from).unwrap_or_default();
                    return Err(syntax_error(Some(&ch)));
                };
                self.pos += p.len();
                Tok::Punct(p)
            }
        };
        Ok((tok, self.input[start..self.pos].to_string()))
    }

    /// A double-quoted string with JSON-like escapes; `pos` is at the quote.
    fn string(&mut self) -> Result<String> {
        let b = self.input.as_bytes();
        let mut out = String::new();
        let mut p = self.pos + 1;
        loop {
            if p >= b.len() {
                return Err(Error::new(SqlState::SyntaxError, "unexpected end of quoted string at end of jsonpath input"));
            }
            match b[p] {
                b'"' => break,
                b'\\' => {
                    p += 1;
                    let Some(&e) = b.get(p) else { return Err(syntax_error(None)) };
                    match e {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'v' => out.push('\u{b}'),
                        b'u' => {
                            let hex = self.input.get(p + 1..p + 5).ok_or_else(|| syntax_error(None))?;
                            let code = u32::from_str_radix(hex, 16).map_err(|_| {
                                Error::new(SqlState::SyntaxError, "invalid Unicode escape sequence at or near \"\\u\" of jsonpath input")
                            })?;
                            out.push(char::from_u32(code).ok_or_else(|| unsupported("Unicode surrogate escapes"))?);
                            p += 4;
                        }
                        _ => {
                            let ch = self.input[p..].chars().next().unwrap_or('\\');
                            out.push(ch);
                            p += ch.len_utf8() - 1;
                        }
                    }
                    p += 1;
                }
                _ => {
                    let ch = self.input[p..].chars().next().unwrap_or(' ');
                    out.push(ch);
                    p += ch.len_utf8();
                }
            }
        }
        self.pos = p + 1;
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// Parsing

struct Parser<'a> {
    lexer: Lexer<'a>,
    tok: Tok,
    text: String,
    /// Whether `@` may appear (inside a filter).
    in_filter: usize,
    /// Whether `last` may appear (inside a subscript).
    in_subscript: usize,
}

/// Parses a path (42601 for a syntax error, 0A000 for an unsupported
/// feature).
pub fn parse(input: &str) -> Result<JsonPath> {
    let mut lexer = Lexer { input, pos: 0 };
    let (tok, text) = lexer.next()?;
    let mut p = Parser { lexer, tok, text, in_filter: 0, in_subscript: 0 };
    let mut strict = false;
    if let Tok::Ident(w) = &p.tok {
        if w == "strict" || w == "lax" {
            strict = w == "strict";
            p.advance()?;
        }
    }
    let expr = p.or()?;
    if p.tok != Tok::End {
        return Err(p.error());
    }
    Ok(JsonPath { strict, expr })
}

impl Parser<'_> {
    fn advance(&mut self) -> Result<()> {
        let (tok, text) = self.lexer.next()?;
        self.tok = tok;
        self.text = text;
        Ok(())
    }

    fn error(&self) -> Error {
        if self.tok == Tok::End {
            syntax_error(None)
        } else {
            syntax_error(Some(&self.text))
        }
    }

    fn punct(&self, p: &str) -> bool {
        matches!(&self.tok, Tok::Punct(q) if *q == p)
    }

    fn word(&self, w: &str) -> bool {
        matches!(&self.tok, Tok::Ident(x) if x == w)
    }

    fn expect(&mut self, p: &str) -> Result<()> {
        if !self.punct(p) {
            return Err(self.error());
        }
        self.advance()
    }

    fn predicate_operand(&self, e: &Expr) -> Result<()> {
        if e.is_predicate() {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn or(&mut self) -> Result<Expr> {
        let mut left = self.and()?;
        while self.punct("||") {
            self.predicate_operand(&left)?;
            self.advance()?;
            let right = self.and()?;
            self.predicate_operand(&right)?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut left = self.not()?;
        while self.punct("&&") {
            self.predicate_operand(&left)?;
            self.advance()?;
            let right = self.not()?;
            self.predicate_operand(&right)?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr> {
        if self.punct("!") {
            self.advance()?;
            if !self.punct("(") && !self.word("exists") {
                return Err(self.error());
            }
            let inner = self.comparison()?;
            self.predicate_operand(&inner)?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr> {
        let left = self.additive()?;
        let op = match &self.tok {
            Tok::Punct("==") => Some(CmpOp::Eq),
            Tok::Punct("!=") | Tok::Punct("<>") => Some(CmpOp::Ne),
            Tok::Punct("<") => Some(CmpOp::Lt),
            Tok::Punct("<=") => Some(CmpOp::Le),
            Tok::Punct(">") => Some(CmpOp::Gt),
            Tok::Punct(">=") => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            if left.is_predicate() {
                return Err(self.error());
            }
            self.advance()?;
            let right = self.additive()?;
            if right.is_predicate() {
                return Err(self.error());
            }
            return Ok(Expr::Compare(op, Box::new(left), Box::new(right)));
        }
        if self.word("like_regex") {
            self.advance()?;
            let Tok::Str(pattern) = self.tok.clone() else { return Err(self.error()) };
            self.advance()?;
            let mut flags = String::new();
            if self.word("flag") {
                self.advance()?;
                let Tok::Str(f) = self.tok.clone() else { return Err(self.error()) };
                flags = f;
                self.advance()?;
            }
            return Ok(Expr::LikeRegex(Box::new(left), Box::new(like_regex(&pattern, &flags)?)));
        }
        if self.word("starts") {
            self.advance()?;
            if !self.word("with") {
                return Err(self.error());
            }
            self.advance()?;
            let right = self.additive()?;
            if !matches!(right, Expr::Literal(Jsonb::String(_)) | Expr::Var(_)) {
                return Err(self.error());
            }
            return Ok(Expr::StartsWith(Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match &self.tok {
                Tok::Punct("+") => ArithOp::Add,
                Tok::Punct("-") => ArithOp::Sub,
                _ => return Ok(left),
            };
            if left.is_predicate() {
                return Err(self.error());
            }
            self.advance()?;
            let right = self.multiplicative()?;
            if right.is_predicate() {
                return Err(self.error());
            }
            left = Expr::Arith(op, Box::new(left), Box::new(right));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = match &self.tok {
                Tok::Punct("*") => ArithOp::Mul,
                Tok::Punct("/") => ArithOp::Div,
                Tok::Punct("%") => ArithOp::Mod,
                _ => return Ok(left),
            };
            if left.is_predicate() {
                return Err(self.error());
            }
            self.advance()?;
            let right = self.unary()?;
            if right.is_predicate() {
                return Err(self.error());
            }
            left = Expr::Arith(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.punct("-") || self.punct("+") {
            let neg = self.punct("-");
            self.advance()?;
            let inner = self.unary()?;
            if inner.is_predicate() {
                return Err(self.error());
            }
            return Ok(if neg { Expr::Neg(Box::new(inner)) } else { Expr::Plus(Box::new(inner)) });
        }
        let primary = self.primary()?;
        self.postfix(primary)
    }

    fn primary(&mut self) -> Result<Expr> {
        let tok = self.tok.clone();
        let e = match tok {
            Tok::Dollar => Expr::Root,
            Tok::At => {
                if self.in_filter == 0 {
                    return Err(Error::new(SqlState::SyntaxError, "@ is not allowed in root expressions"));
                }
                Expr::Current
            }
            Tok::Var(name) => Expr::Var(name),
            Tok::Str(s) => Expr::Literal(Jsonb::String(s)),
            Tok::Num(n) => Expr::Literal(Jsonb::Number(Numeric::parse(&n).map_err(|_| self.error())?)),
            Tok::Ident(w) => match w.as_str() {
                "true" => Expr::Literal(Jsonb::Bool(true)),
                "false" => Expr::Literal(Jsonb::Bool(false)),
                "null" => Expr::Literal(Jsonb::Null),
                "last" => {
                    if self.in_subscript == 0 {
                        return Err(Error::new(SqlState::SyntaxError, "LAST is allowed only in array subscripts"));
                    }
                    Expr::Last
                }
                "exists" => {
                    self.advance()?;
                    self.expect("(")?;
                    let inner = self.or()?;
                    if !self.punct(")") {
                        return Err(self.error());
                    }
                    Expr::Exists(Box::new(inner))
                }
                _ => return Err(self.error()),
            },
            Tok::Punct("(") => {
                self.advance()?;
                let inner = self.or()?;
                if !self.punct(")") {
                    return Err(self.error());
                }
                self.advance()?;
                if self.word("is") {
                    self.advance()?;
                    if !self.word("unknown") || !inner.is_predicate() {
                        return Err(self.error());
                    }
                    self.advance()?;
                    return Ok(Expr::IsUnknown(Box::new(inner)));
                }
                return Ok(inner);
            }
            _ => return Err(self.error()),
        };
        self.advance()?;
        Ok(e)
    }

    /// A `.**` level: an integer or `last`.
    fn level(&mut self) -> Result<u32> {
        let level = match &self.tok {
            Tok::Ident(w) if w == "last" => u32::MAX,
            Tok::Num(n) => n.parse::<u32>().map_err(|_| self.error())?,
            _ => return Err(self.error()),
        };
        self.advance()?;
        Ok(level)
    }

    fn postfix(&mut self, mut e: Expr) -> Result<Expr> {
        loop {
            if self.punct(".") {
                self.advance()?;
                let acc = match self.tok.clone() {
                    Tok::Punct("*") => Accessor::AnyKey,
                    Tok::Punct("**") => {
                        self.advance()?;
                        let (first, last) = if self.punct("{") {
                            self.advance()?;
                            let first = self.level()?;
                            let last = if self.word("to") {
                                self.advance()?;
                                self.level()?
                            } else {
                                first
                            };
                            if !self.punct("}") {
                                return Err(self.error());
                            }
                            self.advance()?;
                            (first, last)
                        } else {
                            (0, u32::MAX)
                        };
                        e = Expr::Access(Box::new(e), Accessor::Recursive { first, last });
                        continue;
                    }
                    Tok::Str(k) => Accessor::Key(k),
                    // PostgreSQL's lexer reads ".1" as one numeric token.
                    Tok::Num(n) => return Err(syntax_error(Some(&format!(".{n}")))),
                    Tok::Ident(k) => {
                        // A method call, or a key that happens to be a word.
                        let rest = &self.lexer.input[self.lexer.pos..];
                        let known = matches!(
                            k.as_str(),
                            "size" | "type" | "double" | "abs" | "floor" | "ceiling" | "keyvalue" | "datetime" | "bigint"
                                | "boolean" | "date" | "decimal" | "integer" | "number" | "string" | "time" | "time_tz"
                                | "timestamp" | "timestamp_tz"
                        );
                        // Other words are keys (a "(" after one is then a syntax error).
                        if known && rest.trim_start().starts_with('(') {
                            let method = match k.as_str() {
                                "size" => Method::Size,
                                "type" => Method::Type,
                                "double" => Method::Double,
                                "abs" => Method::Abs,
                                "floor" => Method::Floor,
                                "ceiling" => Method::Ceiling,
                                "keyvalue" => Method::KeyValue,
                                "datetime" | "bigint" | "boolean" | "date" | "decimal" | "integer"
                                | "number" | "string" | "time" | "time_tz" | "timestamp" | "timestamp_tz" => {
                                    return Err(unsupported(&format!("item method .{k}()")))
                                }
                                _ => return Err(self.error()),
                            };
                            self.advance()?;
                            self.expect("(")?;
                            if !self.punct(")") {
                                return Err(self.error());
                            }
                            Accessor::Method(method)
                        } else {
                            Accessor::Key(k)
                        }
                    }
                    _ => return Err(self.error()),
                };
                self.advance()?;
                e = Expr::Access(Box::new(e), acc);
            } else if self.punct("[") {
                self.advance()?;
                if self.punct("*") {
                    self.advance()?;
                    self.expect("]")?;
                    e = Expr::Access(Box::new(e), Accessor::AnyIndex);
                    continue;
                }
                self.in_subscript += 1;
                let mut subscripts = Vec::new();
                loop {
                    let from = self.or()?;
                    let to = if self.word("to") {
                        self.advance()?;
                        Some(self.or()?)
                    } else {
                        None
                    };
                    subscripts.push((from, to));
                    if self.punct(",") {
                        self.advance()?;
                        continue;
                    }
                    break;
                }
                self.in_subscript -= 1;
                self.expect("]")?;
                e = Expr::Access(Box::new(e), Accessor::Index(subscripts));
            } else if self.punct("?") {
                self.advance()?;
                self.expect("(")?;
                self.in_filter += 1;
                let pred = self.or()?;
                self.in_filter -= 1;
                if !pred.is_predicate() || !self.punct(")") {
                    return Err(self.error());
                }
                self.advance()?;
                e = Expr::Access(Box::new(e), Accessor::Filter(Box::new(pred)));
            } else {
                return Ok(e);
            }
        }
    }
}

/// `like_regex`'s pattern with its flags (PostgreSQL's
/// `jspConvertRegexFlags`: `i`, `s`, `m`, `x`, `q`).
fn like_regex(pattern: &str, flags: &str) -> Result<regex::Regex> {
    let mut builder_pattern = pattern.to_string();
    let (mut case_insensitive, mut dot_all, mut multi_line, mut extended) = (false, false, false, false);
    for c in flags.chars() {
        match c {
            'i' => case_insensitive = true,
            's' => dot_all = true,
            'm' => multi_line = true,
            'x' => extended = true,
            'q' => builder_pattern = regex::escape(pattern),
            other => {
                return Err(Error::new(SqlState::SyntaxError, "invalid input syntax for type jsonpath")
                    .with_detail(format!("Unrecognized flag character \"{other}\" in LIKE_REGEX predicate.")))
            }
        }
    }
    regex::RegexBuilder::new(&builder_pattern)
        .case_insensitive(case_insensitive)
        .dot_matches_new_line(dot_all)
        .multi_line(multi_line)
        .ignore_whitespace(extended)
        .build()
        .map_err(|e| Error::new(SqlState::InvalidRegularExpression, format!("invalid regular expression: {e}")))
}

// ---------------------------------------------------------------------------
// Evaluation

/// An evaluation failure; `soft` ones are what PostgreSQL's `silent`
/// argument and predicates suppress (structural and value errors), the
/// others always raise (a missing variable).
struct Fail {
    error: Error,
    soft: bool,
}

type Eval<T> = std::result::Result<T, Fail>;

fn soft(state: SqlState, message: impl Into<String>) -> Fail {
    Fail { error: Error::new(state, message), soft: true }
}

impl From<Error> for Fail {
    fn from(error: Error) -> Fail {
        Fail { error, soft: true }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unknown,
}

/// One step from a base document to a value inside it.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Where an item lives: its base document (the target, the variables or
/// an object `.keyvalue()` made), numbered as PostgreSQL numbers base
/// objects, and the path from there. `.keyvalue()` derives its `id` from
/// it. A made object's number is given when the path goes on with it
/// (`None` until then), in PostgreSQL's depth-first order.
#[derive(Clone, Debug)]
struct Loc {
    base_id: Option<i64>,
    base: Rc<Jsonb>,
    path: Vec<Step>,
}

/// A value in a path's sequence and where it came from (computed values
/// have no location).
#[derive(Clone, Debug)]
struct Item {
    value: Jsonb,
    loc: Option<Rc<Loc>>,
}

impl Item {
    fn computed(value: Jsonb) -> Item {
        Item { value, loc: None }
    }

    /// A value inside this one, one `step` further.
    fn child(&self, value: Jsonb, step: Step) -> Item {
        let loc = self.loc.as_ref().map(|l| {
            let mut path = l.path.clone();
            path.push(step);
            Rc::new(Loc { base_id: l.base_id, base: l.base.clone(), path })
        });
        Item { value, loc }
    }
}

fn values(items: Vec<Item>) -> Vec<Jsonb> {
    items.into_iter().map(|i| i.value).collect()
}

struct Ctx {
    root: Rc<Jsonb>,
    vars: Option<Rc<Jsonb>>,
    strict: bool,
    /// The next number for an object `.keyvalue()` makes (PostgreSQL's
    /// `lastGeneratedObjectId`: 2 when the call has variables, else 1).
    next_object_id: Cell<i64>,
}

/// The result of running a path: its items, or a failure that
/// `silent` suppresses (`Ok(None)`). `vars` is `None` for the `@?` and
/// `@@` operators, which pass no variables.
pub fn query(path: &JsonPath, target: &Jsonb, vars: Option<&Jsonb>, silent: bool) -> Result<Option<Vec<Jsonb>>> {
    if let Some(v) = vars {
        if !matches!(v, Jsonb::Object(_)) {
            return Err(Error::new(SqlState::InvalidParameterValue, "\"vars\" argument is not an object")
                .with_detail("Jsonpath parameters should be encoded as key-value pairs of \"vars\" object."));
        }
    }
    let ctx = Ctx {
        root: Rc::new(target.clone()),
        vars: vars.map(|v| Rc::new(v.clone())),
        strict: path.strict,
        next_object_id: Cell::new(if vars.is_some() { 2 } else { 1 }),
    };
    let start = Item::computed(target.clone());
    match ctx.eval(&path.expr, &start, None) {
        Ok(items) => Ok(Some(values(items))),
        Err(f) if f.soft && silent => Ok(None),
        Err(f) => Err(f.error),
    }
}

/// `jsonb_path_match`'s check: the path yields one boolean (or null).
pub fn single_boolean(items: Vec<Jsonb>, silent: bool) -> Result<Option<bool>> {
    match items.as_slice() {
        [Jsonb::Bool(b)] => Ok(Some(*b)),
        [Jsonb::Null] => Ok(None),
        _ if silent => Ok(None),
        _ => Err(Error::new(SqlState::SingletonSqlJsonItemRequired, "single boolean result is expected")),
    }
}

fn tri_item(t: Tri) -> Jsonb {
    match t {
        Tri::True => Jsonb::Bool(true),
        Tri::False => Jsonb::Bool(false),
        Tri::Unknown => Jsonb::Null,
    }
}

impl Ctx {
    fn eval(&self, e: &Expr, cur: &Item, last: Option<i64>) -> Eval<Vec<Item>> {
        Ok(match e {
            Expr::Root => vec![Item {
                value: (*self.root).clone(),
                loc: Some(Rc::new(Loc { base_id: Some(0), base: self.root.clone(), path: vec![] })),
            }],
            Expr::Current => vec![cur.clone()],
            Expr::Last => {
                let last = last.ok_or_else(|| soft(SqlState::SyntaxError, "evaluating jsonpath LAST outside of array subscript"))?;
                vec![Item::computed(Jsonb::Number(Numeric::from(last)))]
            }
            Expr::Var(name) => {
                let value = self.vars.as_ref().and_then(|v| freshet_common::json::get_field(v, name).cloned());
                match (value, &self.vars) {
                    (Some(v), Some(vars)) => vec![Item {
                        value: v,
                        loc: Some(Rc::new(Loc { base_id: Some(1), base: vars.clone(), path: vec![Step::Key(name.clone())] })),
                    }],
                    _ => {
                        return Err(Fail {
                            error: Error::new(SqlState::UndefinedObject, format!("could not find jsonpath variable \"{name}\"")),
                            soft: false,
                        })
                    }
                }
            }
            Expr::Literal(v) => vec![Item::computed(v.clone())],
            Expr::Access(..) => {
                // Run the accessor chain depth-first, item by item, as
                // PostgreSQL's executeNextItem does.
                let mut chain: Vec<&Accessor> = Vec::new();
                let mut primary = e;
                while let Expr::Access(base, acc) = primary {
                    chain.push(acc);
                    primary = base;
                }
                chain.reverse();
                let mut out = Vec::new();
                for item in self.eval(primary, cur, last)? {
                    self.chain(item, &chain, false, last, &mut out)?;
                }
                out
            }
            Expr::Arith(op, l, r) => {
                let left = self.operand(l, cur, last, true)?;
                let right = self.operand(r, cur, last, true)?;
                let single = |items: &[Jsonb], side: &str| -> Eval<Numeric> {
                    match items {
                        [Jsonb::Number(n)] => Ok(n.clone()),
                        _ => Err(soft(
                            SqlState::SingletonSqlJsonItemRequired,
                            format!("{side} operand of jsonpath operator {} is not a single numeric value", op.symbol()),
                        )),
                    }
                };
                let (a, b) = (single(&left, "left")?, single(&right, "right")?);
                let n = match op {
                    ArithOp::Add => a.checked_add(&b)?,
                    ArithOp::Sub => a.checked_sub(&b)?,
                    ArithOp::Mul => a.checked_mul(&b)?,
                    ArithOp::Div => a.checked_div(&b)?,
                    ArithOp::Mod => a.checked_rem(&b)?,
                };
                vec![Item::computed(Jsonb::Number(n))]
            }
            Expr::Neg(inner) | Expr::Plus(inner) => {
                let neg = matches!(e, Expr::Neg(_));
                let items = self.operand(inner, cur, last, true)?;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Jsonb::Number(n) => out.push(Item::computed(Jsonb::Number(if neg { -n } else { n }))),
                        _ => {
                            return Err(soft(
                                SqlState::SqlJsonNumberNotFound,
                                format!("operand of unary jsonpath operator {} is not a numeric value", if neg { "-" } else { "+" }),
                            ))
                        }
                    }
                }
                out
            }
            pred => vec![Item::computed(tri_item(self.predicate(pred, cur, last)?))],
        })
    }

    /// Applies `chain[0]` to `item` and runs the rest of the chain on each
    /// result before the next. Accessors after `.**` ignore structural
    /// errors, even in strict mode (PostgreSQL's executeAnyItem).
    fn chain(&self, item: Item, chain: &[&Accessor], after_recursive: bool, last: Option<i64>, out: &mut Vec<Item>) -> Eval<()> {
        let Some((acc, rest)) = chain.split_first() else {
            out.push(self.numbered(item));
            return Ok(());
        };
        let strict = self.strict && !after_recursive;
        let mut produced = Vec::new();
        self.access(acc, item, last, strict, &mut produced)?;
        let after_recursive = after_recursive || matches!(acc, Accessor::Recursive { .. });
        for next in produced {
            self.chain(self.numbered(next), rest, after_recursive, last, out)?;
        }
        Ok(())
    }

    /// Gives an object `.keyvalue()` made its number when the path goes
    /// on with it.
    fn numbered(&self, item: Item) -> Item {
        match &item.loc {
            Some(l) if l.base_id.is_none() => {
                let id = self.next_object_id.get();
                self.next_object_id.set(id + 1);
                let loc = Loc { base_id: Some(id), base: l.base.clone(), path: l.path.clone() };
                Item { value: item.value, loc: Some(Rc::new(loc)) }
            }
            _ => item,
        }
    }

    /// An operand's values; in lax mode arrays among them are unwrapped.
    fn operand(&self, e: &Expr, cur: &Item, last: Option<i64>, unwrap: bool) -> Eval<Vec<Jsonb>> {
        let items = values(self.eval(e, cur, last)?);
        if self.strict || !unwrap {
            return Ok(items);
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Jsonb::Array(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        Ok(out)
    }

    /// Applies one accessor to `item`, appending the results.
    fn access(&self, acc: &Accessor, item: Item, last: Option<i64>, strict: bool, out: &mut Vec<Item>) -> Eval<()> {
        // Lax mode applies these to each element of an array.
        let unwraps = matches!(acc, Accessor::Key(_) | Accessor::AnyKey | Accessor::Filter(_))
            || matches!(acc, Accessor::Method(m) if !matches!(m, Method::Size | Method::Type));
        if unwraps && !self.strict {
            if let Jsonb::Array(elements) = &item.value {
                for (i, element) in elements.iter().enumerate() {
                    self.access_one(acc, item.child(element.clone(), Step::Index(i)), last, strict, out)?;
                }
                return Ok(());
            }
        }
        self.access_one(acc, item, last, strict, out)
    }

    fn access_one(&self, acc: &Accessor, item: Item, last: Option<i64>, strict: bool, out: &mut Vec<Item>) -> Eval<()> {
        match acc {
            Accessor::Recursive { first, last } => {
                if *first == 0 {
                    out.push(item.clone());
                }
                any_item(&item, 1, *first, *last, out);
            }
            Accessor::Key(key) => match &item.value {
                Jsonb::Object(_) => match freshet_common::json::get_field(&item.value, key) {
                    Some(v) => out.push(item.child(v.clone(), Step::Key(key.clone()))),
                    None if strict => {
                        return Err(soft(SqlState::SqlJsonMemberNotFound, format!("JSON object does not contain key \"{key}\"")))
                    }
                    None => {}
                },
                _ if strict => {
                    return Err(soft(SqlState::SqlJsonMemberNotFound, "jsonpath member accessor can only be applied to an object"))
                }
                _ => {}
            },
            Accessor::AnyKey => match &item.value {
                Jsonb::Object(fields) => {
                    out.extend(fields.iter().map(|(k, v)| item.child(v.clone(), Step::Key(k.clone()))))
                }
                _ if strict => {
                    return Err(soft(
                        SqlState::SqlJsonObjectNotFound,
                        "jsonpath wildcard member accessor can only be applied to an object",
                    ))
                }
                _ => {}
            },
            Accessor::AnyIndex => match &item.value {
                Jsonb::Array(elements) => {
                    out.extend(elements.iter().enumerate().map(|(i, v)| item.child(v.clone(), Step::Index(i))))
                }
                _ if strict => {
                    return Err(soft(
                        SqlState::SqlJsonArrayNotFound,
                        "jsonpath wildcard array accessor can only be applied to an array",
                    ))
                }
                _ => out.push(item),
            },
            Accessor::Index(subscripts) => {
                // In lax mode a non-array is a one-element array of itself.
                let elements: Vec<Item> = match &item.value {
                    Jsonb::Array(elements) => {
                        elements.iter().enumerate().map(|(i, v)| item.child(v.clone(), Step::Index(i))).collect()
                    }
                    _ if strict => {
                        return Err(soft(SqlState::SqlJsonArrayNotFound, "jsonpath array accessor can only be applied to an array"))
                    }
                    _ => vec![item.clone()],
                };
                let size = elements.len() as i64;
                let wrapped = Item::computed(Jsonb::Array(elements.iter().map(|e| e.value.clone()).collect()));
                for (from, to) in subscripts {
                    let from = self.subscript(from, &wrapped, size - 1)?;
                    let to = match to {
                        Some(t) => self.subscript(t, &wrapped, size - 1)?,
                        None => from,
                    };
                    if strict && (from < 0 || from > to || to >= size) {
                        return Err(soft(SqlState::InvalidSqlJsonSubscript, "jsonpath array subscript is out of bounds"));
                    }
                    let (from, to) = (from.max(0), to.min(size - 1));
                    let mut i = from;
                    while i <= to {
                        out.push(elements[i as usize].clone());
                        i += 1;
                    }
                }
            }
            Accessor::Filter(pred) => {
                if self.predicate(pred, &item, last)? == Tri::True {
                    out.push(item);
                }
            }
            Accessor::Method(Method::KeyValue) => self.keyvalue(item, out)?,
            Accessor::Method(m) => out.push(Item::computed(self.method(*m, item.value, strict)?)),
        }
        Ok(())
    }

    /// `.keyvalue()`: an object `{"id": .., "key": k, "value": v}` per
    /// member, `id` being PostgreSQL's: the object's byte offset in its
    /// base document's binary jsonb plus 10^10 times the base's number.
    fn keyvalue(&self, item: Item, out: &mut Vec<Item>) -> Eval<()> {
        let Jsonb::Object(fields) = &item.value else {
            return Err(soft(SqlState::SqlJsonObjectNotFound, "jsonpath item method .keyvalue() can only be applied to an object"));
        };
        let id = match &item.loc {
            Some(l) => binary_offset(&l.base, &l.path) + l.base_id.unwrap_or(0) * 10_000_000_000,
            None => 0,
        };
        for (k, v) in fields {
            let made = freshet_common::json::make_object(vec![
                ("key".to_string(), Jsonb::String(k.clone())),
                ("value".to_string(), v.clone()),
                ("id".to_string(), Jsonb::Number(Numeric::from(id))),
            ]);
            let base = Rc::new(made.clone());
            out.push(Item { value: made, loc: Some(Rc::new(Loc { base_id: None, base, path: vec![] })) });
        }
        Ok(())
    }

    /// A subscript's value: a single number, truncated to an integer.
    fn subscript(&self, e: &Expr, array: &Item, last: i64) -> Eval<i64> {
        let items = self.operand(e, array, Some(last), true)?;
        let not_numeric = || soft(SqlState::InvalidSqlJsonSubscript, "jsonpath array subscript is not a single numeric value");
        match items.as_slice() {
            [Jsonb::Number(n)] => {
                let truncated = n.trunc_to(0);
                truncated
                    .to_i64_rounded()
                    .filter(|v| i32::try_from(*v).is_ok())
                    .ok_or_else(|| soft(SqlState::InvalidSqlJsonSubscript, "jsonpath array subscript is out of integer range"))
            }
            _ => Err(not_numeric()),
        }
    }

    fn method(&self, m: Method, item: Jsonb, strict: bool) -> Eval<Jsonb> {
        let numeric_only = || {
            soft(SqlState::NonNumericSqlJsonItem, format!("jsonpath item method .{}() can only be applied to a numeric value", m.name()))
        };
        Ok(match m {
            Method::Type => Jsonb::String(freshet_common::json::type_of(&item).to_string()),
            Method::Size => match item {
                Jsonb::Array(items) => Jsonb::Number(Numeric::from(items.len() as i64)),
                _ if strict => {
                    return Err(soft(SqlState::SqlJsonArrayNotFound, "jsonpath item method .size() can only be applied to an array"))
                }
                _ => Jsonb::Number(Numeric::from(1)),
            },
            Method::Abs | Method::Floor | Method::Ceiling => match item {
                Jsonb::Number(n) => Jsonb::Number(match m {
                    Method::Abs => n.abs(),
                    Method::Floor => n.floor()?,
                    _ => n.ceil()?,
                }),
                _ => return Err(numeric_only()),
            },
            Method::KeyValue => unreachable!("keyvalue is applied by Ctx::keyvalue"),
            Method::Double => match item {
                Jsonb::Number(n) => {
                    if !n.to_f64().is_finite() {
                        return Err(soft(
                            SqlState::NonNumericSqlJsonItem,
                            "numeric argument of jsonpath item method .double() is out of range for type double precision",
                        ));
                    }
                    Jsonb::Number(n)
                }
                Jsonb::String(s) => {
                    let invalid = || {
                        soft(
                            SqlState::NonNumericSqlJsonItem,
                            "string argument of jsonpath item method .double() is not a valid representation of a double precision number",
                        )
                    };
                    let v: f64 = freshet_common::io::parse_text(&s, &freshet_common::DataType::Float8, &Default::default())
                        .ok()
                        .and_then(|d| d.as_f64())
                        .ok_or_else(invalid)?;
                    if !v.is_finite() {
                        return Err(invalid());
                    }
                    Jsonb::Number(Numeric::parse(&format_g15(v)).map_err(|_| invalid())?)
                }
                _ => {
                    return Err(soft(
                        SqlState::NonNumericSqlJsonItem,
                        "jsonpath item method .double() can only be applied to a string or numeric value",
                    ))
                }
            },
        })
    }

    fn predicate(&self, e: &Expr, cur: &Item, last: Option<i64>) -> Eval<Tri> {
        Ok(match e {
            Expr::And(l, r) => match self.predicate(l, cur, last)? {
                Tri::False => Tri::False,
                lv => match (lv, self.predicate(r, cur, last)?) {
                    (_, Tri::False) => Tri::False,
                    (Tri::True, Tri::True) => Tri::True,
                    _ => Tri::Unknown,
                },
            },
            Expr::Or(l, r) => match self.predicate(l, cur, last)? {
                Tri::True => Tri::True,
                lv => match (lv, self.predicate(r, cur, last)?) {
                    (_, Tri::True) => Tri::True,
                    (Tri::False, Tri::False) => Tri::False,
                    _ => Tri::Unknown,
                },
            },
            Expr::Not(inner) => match self.predicate(inner, cur, last)? {
                Tri::True => Tri::False,
                Tri::False => Tri::True,
                Tri::Unknown => Tri::Unknown,
            },
            Expr::IsUnknown(inner) => {
                if self.predicate(inner, cur, last)? == Tri::Unknown {
                    Tri::True
                } else {
                    Tri::False
                }
            }
            Expr::Exists(inner) => match self.eval(inner, cur, last) {
                Ok(items) if items.is_empty() => Tri::False,
                Ok(_) => Tri::True,
                Err(f) if f.soft => Tri::Unknown,
                Err(f) => return Err(f),
            },
            Expr::Compare(op, l, r) => {
                let (left, right) = match (self.operand(l, cur, last, true), self.operand(r, cur, last, true)) {
                    (Ok(a), Ok(b)) => (a, b),
                    (Err(f), _) | (_, Err(f)) if !f.soft => return Err(f),
                    _ => return Ok(Tri::Unknown),
                };
                self.any_pair(&left, Some(&right), |a, b| compare(*op, a, b.expect("binary predicate")))
            }
            Expr::LikeRegex(l, re) => {
                let left = match self.operand(l, cur, last, true) {
                    Ok(items) => items,
                    Err(f) if f.soft => return Ok(Tri::Unknown),
                    Err(f) => return Err(f),
                };
                self.any_pair(&left, None, |a, _| match a {
                    Jsonb::String(s) => {
                        if re.is_match(s) {
                            Tri::True
                        } else {
                            Tri::False
                        }
                    }
                    _ => Tri::Unknown,
                })
            }
            Expr::StartsWith(l, r) => {
                let (left, right) = match (self.operand(l, cur, last, true), self.eval(r, cur, last).map(values)) {
                    (Ok(a), Ok(b)) => (a, b),
                    (Err(f), _) | (_, Err(f)) if !f.soft => return Err(f),
                    _ => return Ok(Tri::Unknown),
                };
                let [Jsonb::String(prefix)] = right.as_slice() else { return Ok(Tri::Unknown) };
                self.any_pair(&left, None, |a, _| match a {
                    Jsonb::String(s) => {
                        if s.starts_with(prefix.as_str()) {
                            Tri::True
                        } else {
                            Tri::False
                        }
                    }
                    _ => Tri::Unknown,
                })
            }
            other => {
                return Err(Fail { error: Error::internal(format!("jsonpath expression {other:?} is not a predicate")), soft: false })
            }
        })
    }

    /// PostgreSQL's `executePredicate`: true if any pair is true (in
    /// strict mode, only if no pair is unknown); unknown if some pair is
    /// unknown; otherwise false.
    fn any_pair(&self, left: &[Jsonb], right: Option<&[Jsonb]>, test: impl Fn(&Jsonb, Option<&Jsonb>) -> Tri) -> Tri {
        let mut found = false;
        let mut error = false;
        for a in left {
            let rights: Vec<Option<&Jsonb>> = match right {
                Some(r) => r.iter().map(Some).collect(),
                None => vec![None],
            };
            for b in rights {
                match test(a, b) {
                    Tri::Unknown => {
                        if self.strict {
                            return Tri::Unknown;
                        }
                        error = true;
                    }
                    Tri::True => {
                        if !self.strict {
                            return Tri::True;
                        }
                        found = true;
                    }
                    Tri::False => {}
                }
            }
        }
        if found {
            Tri::True
        } else if error {
            Tri::Unknown
        } else {
            Tri::False
        }
    }
}

/// PostgreSQL's `executeAnyItem`: the values of `item` (a container) and,
/// recursively, of their containers, in pre-order, those at levels
/// `first..=last` (or only the leaves for `{last}`).
fn any_item(item: &Item, level: u32, first: u32, last: u32, out: &mut Vec<Item>) {
    if level > last {
        return;
    }
    let children: Vec<Item> = match &item.value {
        Jsonb::Object(fields) => fields.iter().map(|(k, v)| item.child(v.clone(), Step::Key(k.clone()))).collect(),
        Jsonb::Array(elements) => elements.iter().enumerate().map(|(i, v)| item.child(v.clone(), Step::Index(i))).collect(),
        _ => return,
    };
    for v in children {
        let container = matches!(v.value, Jsonb::Array(_) | Jsonb::Object(_));
        if level >= first || (first == u32::MAX && last == u32::MAX && !container) {
            out.push(v.clone());
        }
        if level < last && container {
            any_item(&v, level + 1, first, last, out);
        }
    }
}

fn align4(pos: usize) -> usize {
    (pos + 3) & !3
}

/// The bytes of a numeric as PostgreSQL stores it in a jsonb: a 4-byte
/// varlena header, a 2-byte (short form) or 4-byte header, and one 2-byte
/// base-10000 digit per group between the first and last non-zero ones.
fn numeric_size(n: &Numeric) -> usize {
    let text = n.to_string();
    let text = text.trim_start_matches('-');
    let (int_part, frac_part) = text.split_once('.').unwrap_or((text, ""));
    let int_part = int_part.trim_start_matches('0');
    let int_groups = int_part.len().div_ceil(4);
    let padded_int = format!("{}{int_part}", "0".repeat(int_groups * 4 - int_part.len()));
    let frac_groups = frac_part.len().div_ceil(4);
    let padded_frac = format!("{frac_part}{}", "0".repeat(frac_groups * 4 - frac_part.len()));
    let digits: Vec<u16> = padded_int
        .as_bytes()
        .chunks(4)
        .chain(padded_frac.as_bytes().chunks(4))
        .map(|g| std::str::from_utf8(g).ok().and_then(|g| g.parse().ok()).unwrap_or(0))
        .collect();
    let mut weight = int_groups as i64 - 1;
    let first = digits.iter().position(|d| *d != 0);
    let (ndigits, weight) = match first {
        None => (0, 0),
        Some(f) => {
            let last = digits.iter().rposition(|d| *d != 0).unwrap_or(f);
            weight -= f as i64;
            (last - f + 1, weight)
        }
    };
    let dscale = frac_part.len() as i64;
    let short = dscale <= 63 && (-64..=63).contains(&weight);
    (if short { 6 } else { 8 }) + 2 * ndigits
}

/// Where `v`'s data ends when written from `pos` (PostgreSQL's
/// `convertJsonbValue`: containers and numerics start 4-byte aligned).
fn binary_end(v: &Jsonb, pos: usize) -> usize {
    match v {
        Jsonb::Null | Jsonb::Bool(_) => pos,
        Jsonb::String(s) => pos + s.len(),
        Jsonb::Number(n) => align4(pos) + numeric_size(n),
        Jsonb::Array(elements) => elements.iter().fold(align4(pos) + 4 + 4 * elements.len(), |p, e| binary_end(e, p)),
        Jsonb::Object(fields) => {
            let keys = fields.iter().map(|(k, _)| k.len()).sum::<usize>();
            fields.iter().fold(align4(pos) + 4 + 8 * fields.len() + keys, |p, (_, e)| binary_end(e, p))
        }
    }
}

/// The offset of the container at `path` from the start of `base`'s
/// binary jsonb (the root container sits after the 4-byte varlena header).
fn binary_offset(base: &Jsonb, path: &[Step]) -> i64 {
    fn locate(v: &Jsonb, pos: usize, path: &[Step]) -> usize {
        let header = align4(pos);
        let Some((step, rest)) = path.split_first() else { return header };
        match (v, step) {
            (Jsonb::Object(fields), Step::Key(key)) => {
                let keys = fields.iter().map(|(k, _)| k.len()).sum::<usize>();
                let mut p = header + 4 + 8 * fields.len() + keys;
                for (k, child) in fields {
                    if k == key {
                        return locate(child, p, rest);
                    }
                    p = binary_end(child, p);
                }
                header
            }
            (Jsonb::Array(elements), Step::Index(i)) => {
                let mut p = header + 4 + 4 * elements.len();
                for (j, child) in elements.iter().enumerate() {
                    if j == *i {
                        return locate(child, p, rest);
                    }
                    p = binary_end(child, p);
                }
                header
            }
            _ => header,
        }
    }
    locate(base, 4, path) as i64 - 4
}
/// PostgreSQL's `compareItems`: nulls equal only nulls (and differ from
/// everything), other kinds compare only with their own; containers are
/// not comparable.
fn compare(op: CmpOp, a: &Jsonb, b: &Jsonb) -> Tri {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Jsonb::Null, Jsonb::Null) => Ordering::Equal,
        (Jsonb::Null, _) | (_, Jsonb::Null) => {
            return if op == CmpOp::Ne { Tri::True } else { Tri::False };
        }
        (Jsonb::Bool(x), Jsonb::Bool(y)) => x.cmp(y),
        (Jsonb::Number(x), Jsonb::Number(y)) => x.cmp(y),
        (Jsonb::String(x), Jsonb::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ => return Tri::Unknown,
    };
    let result = match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    };
    if result {
        Tri::True
    } else {
        Tri::False
    }
}

/// `printf("%.15g", v)`, as PostgreSQL's float8 to numeric conversion
/// formats a double before reading it as numeric.
fn format_g15(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let sci = format!("{v:.14e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let sign = if negative { "-" } else { "" };
    if !(-4..15).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        return format!("{sign}{first}{frac}e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs());
    }
    if exponent < 0 {
        return format!("{sign}0.{}{digits}", "0".repeat((-exponent - 1) as usize));
    }
    let point = exponent as usize + 1;
    if digits.len() <= point {
        format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..point], &digits[point..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(path: &str, doc: &str) -> Vec<String> {
        let p = parse(path).expect(path);
        let doc = freshet_common::json::parse_json_text(doc).expect(doc);
        query(&p, &doc, None, false).expect("runs").expect("not silent").iter().map(|j| j.to_string()).collect()
    }

    #[test]
    fn lax_paths_match_postgres() {
        let doc = r#"{"a": [{"b": 1, "c": "x"}, {"b": 2, "c": "y"}, {"b": 3}], "n": 7}"#;
        assert_eq!(run("$.a[*].b", doc), ["1", "2", "3"]);
        assert_eq!(run("$.a.b", doc), ["1", "2", "3"]);
        assert_eq!(run("$.a[last].b", doc), ["3"]);
        assert_eq!(run("$.a[0 to 1].c", doc), ["\"x\"", "\"y\""]);
        assert_eq!(run("$.a ? (@.b > 1 && @.c == \"y\").b", doc), ["2"]);
        assert_eq!(run("$.a ? (!(exists(@.c))).b", doc), ["3"]);
        assert_eq!(run("$.n % 4 + 1", doc), ["4"]);
        assert_eq!(run("$.a.size()", doc), ["3"]);
        assert_eq!(run("$.a[0].c.type()", doc), ["\"string\""]);
        assert_eq!(run("$.a[*].c ? (@ like_regex \"^X\" flag \"i\")", doc), ["\"x\""]);
        assert_eq!(run("$.n == 7", doc), ["true"]);
        assert_eq!(run("$.missing", doc), Vec::<String>::new());
    }

    #[test]
    fn errors_match_postgres() {
        let code = |path: &str| parse(path).expect_err(path).state.code();
        assert_eq!(code("$.a +"), "42601");
        assert_eq!(code("$ ? (@.a)"), "42601");
        assert_eq!(code("@"), "42601");
        assert_eq!(code("$.datetime()"), "0A000");
        assert_eq!(parse("$.a )").expect_err("err").message, "syntax error at or near \")\" of jsonpath input");
        let p = parse("strict $.b").expect("parses");
        let doc = freshet_common::json::parse_json_text(r#"{"a": 1}"#).expect("doc");
        assert_eq!(query(&p, &doc, None, false).expect_err("strict").state.code(), "2203A");
        assert!(query(&p, &doc, None, true).expect("silent").is_none());
        assert_eq!(format_g15(1.5), "1.5");
        assert_eq!(format_g15(1e20), "1e+20");
        assert_eq!(format_g15(0.00001), "1e-05");
        assert_eq!(format_g15(1.2345678901234568), "1.23456789012346");
    }
}
