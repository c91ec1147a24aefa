//! Compact binary encoding of rows for storage. The encoding is
//! self-describing per datum (a tag byte per value) so that rows written
//! before an `ALTER TABLE` can still be decoded.
//!
//! Layout: a LEB128 varint datum count, then per datum a tag byte and its
//! payload. Small integers, dates and interval fields are zigzag varints;
//! timestamps and floats are fixed-width little-endian (they rarely have
//! small magnitudes); numerics are a varint `scale << 2 | kind` and then
//! either a zigzag varint mantissa (kind 0, when it fits an i64) or the
//! mantissa's magnitude as length-prefixed little-endian bytes (kind 1
//! positive, 2 negative), or for NaN/±Infinity (kind 3) one byte 0/1/2
//! — tag 8 and jsonb tag 3, the 16-byte
//! `rust_decimal` layout of earlier versions, are still decoded;
//! strings and byte strings are a varint length and the bytes; arrays are
//! a count and nested datums; enum values are their sort order as a
//! little-endian f32; jsonb has its own small tag set.
//!
//! Decoding checks every length, tag, UTF-8 string and decimal header and
//! returns `XX001` (data corrupted) on any inconsistency; it never panics
//! and bounds recursion depth. The format is versioned by the tag values:
//! never renumber a tag.

use crate::datetime::{Date, Interval, Time, Timestamp, TimestampTz};
use crate::json::{jsonb_key_cmp, Jsonb};
use crate::numeric::{Numeric, MAX_DSCALE};
use crate::{Datum, Error, Result, SqlState, F32, F64};

const T_NULL: u8 = 0;
const T_FALSE: u8 = 1;
const T_TRUE: u8 = 2;
const T_INT2: u8 = 3;
const T_INT4: u8 = 4;
const T_INT8: u8 = 5;
const T_FLOAT4: u8 = 6;
const T_FLOAT8: u8 = 7;
const T_NUMERIC: u8 = 8;
const T_TEXT: u8 = 9;
const T_BYTEA: u8 = 10;
const T_DATE: u8 = 11;
const T_TIME: u8 = 12;
const T_TIMESTAMP: u8 = 13;
const T_TIMESTAMPTZ: u8 = 14;
const T_INTERVAL: u8 = 15;
const T_JSON: u8 = 16;
const T_JSONB: u8 = 17;
const T_UUID: u8 = 18;
const T_OID: u8 = 19;
const T_ARRAY: u8 = 20;
/// Arbitrary-precision numeric (see the module docs); replaces
/// [`T_NUMERIC`], which is only decoded.
const T_NUMERIC_V2: u8 = 21;
/// An enum value: its sort order, a little-endian f32 (see
/// [`crate::enum_type`]).
const T_ENUM: u8 = 22;

const J_NULL: u8 = 0;
const J_FALSE: u8 = 1;
const J_TRUE: u8 = 2;
const J_NUMBER: u8 = 3;
const J_STRING: u8 = 4;
const J_ARRAY: u8 = 5;
const J_OBJECT: u8 = 6;
/// Arbitrary-precision number; replaces [`J_NUMBER`], which is only decoded.
const J_NUMBER_V2: u8 = 7;

/// Deepest jsonb nesting accepted when decoding (matches the parser's
/// limit, [`crate::json::MAX_JSON_DEPTH`]).
pub const MAX_DECODE_DEPTH: usize = 1_000;

/// Deepest array nesting accepted when decoding (PostgreSQL allows 6
/// dimensions; a little slack costs nothing).
pub const MAX_ARRAY_DEPTH: usize = 64;

#[inline]
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[inline]
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline]
fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

#[inline]
fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn put_numeric(out: &mut Vec<u8>, n: &Numeric) {
    if let Some(code) = n.special_code() {
        put_varint(out, 3);
        out.push(code);
        return;
    }
    match n.to_i64_parts() {
        Some((mant, scale)) => {
            put_varint(out, (scale as u64) << 2);
            put_varint(out, zigzag(mant));
        }
        None => {
            let (negative, magnitude, scale) = n.to_bytes_parts();
            put_varint(out, (scale as u64) << 2 | if negative { 2 } else { 1 });
            put_bytes(out, &magnitude);
        }
    }
}

/// Appends the encoding of `row` to `out`.
pub fn encode_row(row: &[Datum], out: &mut Vec<u8>) {
    out.reserve(1 + row.len() * 6);
    put_varint(out, row.len() as u64);
    for d in row {
        encode_datum(d, out);
    }
}

/// Appends the encoding of a single datum (tag and payload).
pub fn encode_datum(d: &Datum, out: &mut Vec<u8>) {
    match d {
        Datum::Null => out.push(T_NULL),
        Datum::Bool(false) => out.push(T_FALSE),
        Datum::Bool(true) => out.push(T_TRUE),
        Datum::Int2(v) => {
            out.push(T_INT2);
            put_varint(out, zigzag(*v as i64));
        }
        Datum::Int4(v) => {
            out.push(T_INT4);
            put_varint(out, zigzag(*v as i64));
        }
        Datum::Int8(v) => {
            out.push(T_INT8);
            put_varint(out, zigzag(*v));
        }
        Datum::Float4(v) => {
            out.push(T_FLOAT4);
            out.extend_from_slice(&v.0.to_bits().to_le_bytes());
        }
        Datum::Float8(v) => {
            out.push(T_FLOAT8);
            out.extend_from_slice(&v.0.to_bits().to_le_bytes());
        }
        Datum::Numeric(n) => {
            out.push(T_NUMERIC_V2);
            put_numeric(out, n);
        }
        Datum::Text(s) => {
            out.push(T_TEXT);
            put_bytes(out, s.as_bytes());
        }
        Datum::Bytea(b) => {
            out.push(T_BYTEA);
            put_bytes(out, b);
        }
        Datum::Date(v) => {
            out.push(T_DATE);
            put_varint(out, zigzag(v.0 as i64));
        }
        Datum::Time(v) => {
            out.push(T_TIME);
            put_varint(out, zigzag(v.0));
        }
        Datum::Timestamp(v) => {
            out.push(T_TIMESTAMP);
            out.extend_from_slice(&v.0.to_le_bytes());
        }
        Datum::TimestampTz(v) => {
            out.push(T_TIMESTAMPTZ);
            out.extend_from_slice(&v.0.to_le_bytes());
        }
        Datum::Interval(i) => {
            out.push(T_INTERVAL);
            put_varint(out, zigzag(i.months as i64));
            put_varint(out, zigzag(i.days as i64));
            put_varint(out, zigzag(i.micros));
        }
        Datum::Json(s) => {
            out.push(T_JSON);
            put_bytes(out, s.as_bytes());
        }
        Datum::Jsonb(j) => {
            out.push(T_JSONB);
            encode_jsonb(j, out);
        }
        Datum::Uuid(u) => {
            out.push(T_UUID);
            out.extend_from_slice(u.as_bytes());
        }
        Datum::Oid(o) => {
            out.push(T_OID);
            put_varint(out, *o as u64);
        }
        Datum::Enum(order) => {
            out.push(T_ENUM);
            out.extend_from_slice(&order.0.to_bits().to_le_bytes());
        }
        Datum::Array(items) => {
            out.push(T_ARRAY);
            put_varint(out, items.len() as u64);
            for item in items {
                encode_datum(item, out);
            }
        }
    }
}

fn encode_jsonb(j: &Jsonb, out: &mut Vec<u8>) {
    match j {
        Jsonb::Null => out.push(J_NULL),
        Jsonb::Bool(false) => out.push(J_FALSE),
        Jsonb::Bool(true) => out.push(J_TRUE),
        Jsonb::Number(n) => {
            out.push(J_NUMBER_V2);
            put_numeric(out, n);
        }
        Jsonb::String(s) => {
            out.push(J_STRING);
            put_bytes(out, s.as_bytes());
        }
        Jsonb::Array(items) => {
            out.push(J_ARRAY);
            put_varint(out, items.len() as u64);
            for item in items {
                encode_jsonb(item, out);
            }
        }
        Jsonb::Object(pairs) => {
            out.push(J_OBJECT);
            put_varint(out, pairs.len() as u64);
            for (k, v) in pairs {
                put_bytes(out, k.as_bytes());
                encode_jsonb(v, out);
            }
        }
    }
}

fn corrupt(what: &str) -> Error {
    Error::new(SqlState::DataCorrupted, format!("invalid row encoding: {what}"))
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    fn byte(&mut self) -> Result<u8> {
        let v = *self.b.get(self.pos).ok_or_else(|| corrupt("truncated"))?;
        self.pos += 1;
        Ok(v)
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(|| corrupt("length overflow"))?;
        let s = self.b.get(self.pos..end).ok_or_else(|| corrupt("truncated"))?;
        self.pos = end;
        Ok(s)
    }

    #[inline]
    fn fixed<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    #[inline]
    fn varint(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err(corrupt("varint overflow"));
            }
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                return Err(corrupt("varint too long"));
            }
        }
    }

    fn ivarint(&mut self) -> Result<i64> {
        self.varint().map(unzigzag)
    }

    /// A count of items that each occupy at least one byte; rejects counts
    /// larger than the remaining input so garbage cannot allocate.
    fn count(&mut self) -> Result<usize> {
        let n = self.varint()?;
        if n > (self.b.len() - self.pos) as u64 {
            return Err(corrupt("count exceeds input"));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.varint()?;
        if n > (self.b.len() - self.pos) as u64 {
            return Err(corrupt("length exceeds input"));
        }
        self.take(n as usize)
    }

    fn string(&mut self) -> Result<String> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map(str::to_owned).map_err(|_| corrupt("invalid UTF-8"))
    }

    /// The 16-byte `rust_decimal` layout of tag 8: a flags word (bits
    /// 16-23 scale <= 28, bit 31 sign, others zero) and a 96-bit mantissa
    /// as three little-endian words lo, mid, hi.
    fn legacy_decimal(&mut self) -> Result<Numeric> {
        let b: [u8; 16] = self.fixed()?;
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as i128;
        let flags = word(0) as u32;
        let scale = (flags >> 16) & 0xff;
        if flags & 0x7F00_FFFF != 0 || scale > 28 {
            return Err(corrupt("invalid decimal"));
        }
        let mant = word(12) << 64 | word(8) << 32 | word(4);
        let mant = if flags & 0x8000_0000 != 0 { -mant } else { mant };
        Ok(Numeric::from_i128_with_scale(mant, scale))
    }

    fn numeric(&mut self) -> Result<Numeric> {
        let head = self.varint()?;
        let scale = head >> 2;
        if scale > MAX_DSCALE as u64 {
            return Err(corrupt("numeric scale out of range"));
        }
        let scale = scale as u32;
        match head & 3 {
            0 => {
                let mant = unzigzag(self.varint()?);
                Ok(Numeric::new(mant, scale))
            }
            kind @ (1 | 2) => {
                let magnitude = self.bytes()?;
                if magnitude.last().is_none_or(|b| *b == 0) {
                    return Err(corrupt("non-canonical numeric"));
                }
                Numeric::from_bytes_parts(kind == 2, magnitude, scale)
                    .ok_or_else(|| corrupt("numeric out of range"))
            }
            _ => {
                let code = self.byte()?;
                if scale != 0 {
                    return Err(corrupt("invalid special numeric"));
                }
                Numeric::from_special_code(code).ok_or_else(|| corrupt("invalid special numeric"))
            }
        }
    }
}

fn i32_of(v: i64) -> Result<i32> {
    i32::try_from(v).map_err(|_| corrupt("value out of range"))
}

fn decode_datum(r: &mut Reader<'_>, depth: usize) -> Result<Datum> {
    Ok(match r.byte()? {
        T_NULL => Datum::Null,
        T_FALSE => Datum::Bool(false),
        T_TRUE => Datum::Bool(true),
        T_INT2 => {
            Datum::Int2(i16::try_from(r.ivarint()?).map_err(|_| corrupt("int2 out of range"))?)
        }
        T_INT4 => Datum::Int4(i32_of(r.ivarint()?)?),
        T_INT8 => Datum::Int8(r.ivarint()?),
        T_FLOAT4 => Datum::Float4(F32(f32::from_bits(u32::from_le_bytes(r.fixed()?)))),
        T_FLOAT8 => Datum::Float8(F64(f64::from_bits(u64::from_le_bytes(r.fixed()?)))),
        T_NUMERIC => Datum::Numeric(r.legacy_decimal()?),
        T_NUMERIC_V2 => Datum::Numeric(r.numeric()?),
        T_TEXT => Datum::Text(r.string()?),
        T_BYTEA => Datum::Bytea(r.bytes()?.to_vec()),
        T_DATE => Datum::Date(Date(i32_of(r.ivarint()?)?)),
        T_TIME => Datum::Time(Time(r.ivarint()?)),
        T_TIMESTAMP => Datum::Timestamp(Timestamp(i64::from_le_bytes(r.fixed()?))),
        T_TIMESTAMPTZ => Datum::TimestampTz(TimestampTz(i64::from_le_bytes(r.fixed()?))),
        T_INTERVAL => {
            let months = i32_of(r.ivarint()?)?;
            let days = i32_of(r.ivarint()?)?;
            let micros = r.ivarint()?;
            Datum::Interval(Interval { months, days, micros })
        }
        T_JSON => Datum::Json(r.string()?),
        T_JSONB => Datum::Jsonb(decode_jsonb(r, depth + 1)?),
        T_UUID => Datum::Uuid(uuid::Uuid::from_bytes(r.fixed()?)),
        T_OID => Datum::Oid(u32::try_from(r.varint()?).map_err(|_| corrupt("oid out of range"))?),
        T_ENUM => {
            let order = f32::from_bits(u32::from_le_bytes(r.fixed()?));
            if !order.is_finite() {
                return Err(corrupt("enum sort order is not finite"));
            }
            Datum::Enum(F32(order))
        }
        T_ARRAY => {
            if depth >= MAX_ARRAY_DEPTH {
                return Err(corrupt("nesting too deep"));
            }
            let n = r.count()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(decode_datum(r, depth + 1)?);
            }
            Datum::Array(items)
        }
        t => return Err(corrupt(&format!("unknown tag {t}"))),
    })
}

fn decode_jsonb(r: &mut Reader<'_>, depth: usize) -> Result<Jsonb> {
    if depth >= MAX_DECODE_DEPTH {
        return Err(corrupt("nesting too deep"));
    }
    Ok(match r.byte()? {
        J_NULL => Jsonb::Null,
        J_FALSE => Jsonb::Bool(false),
        J_TRUE => Jsonb::Bool(true),
        J_NUMBER => Jsonb::Number(r.legacy_decimal()?),
        J_NUMBER_V2 => Jsonb::Number(r.numeric()?),
        J_STRING => Jsonb::String(r.string()?),
        J_ARRAY => {
            let n = r.count()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(decode_jsonb(r, depth + 1)?);
            }
            Jsonb::Array(items)
        }
        J_OBJECT => {
            let n = r.count()?;
            let mut pairs: Vec<(String, Jsonb)> = Vec::with_capacity(n);
            for _ in 0..n {
                let k = r.string()?;
                if let Some((prev, _)) = pairs.last() {
                    // Keys must stay unique and in jsonb order.
                    if jsonb_key_cmp(prev, &k) != std::cmp::Ordering::Less {
                        return Err(corrupt("jsonb keys out of order"));
                    }
                }
                let v = decode_jsonb(r, depth + 1)?;
                pairs.push((k, v));
            }
            Jsonb::Object(pairs)
        }
        t => return Err(corrupt(&format!("unknown jsonb tag {t}"))),
    })
}

/// Decodes a row encoded by [`encode_row`]; 'XX001' data corrupted on malformed input.
pub fn decode_row(bytes: &[u8]) -> Result<Vec<Datum>> {
    let mut r = Reader { b: bytes, pos: 0 };
    let n = r.count()?;
    let mut row = Vec::with_capacity(n);
    for _ in 0..n {
        row.push(decode_datum(&mut r, 0)?);
    }
    if r.pos != bytes.len() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_row() -> Vec<Datum> {
        let j =
            crate::json::parse_json_text(r#"{"a": [1, 2.50, "x"], "bb": {"c": null, "d": true}}"#)
                .expect("valid json");
        vec![
            Datum::Null,
            Datum::Bool(true),
            Datum::Bool(false),
            Datum::Int2(-32768),
            Datum::Int4(i32::MAX),
            Datum::Int8(i64::MIN),
            Datum::Float4(F32(-0.0)),
            Datum::Float8(F64(f64::NAN)),
            Datum::Numeric(crate::numeric::parse_numeric("-12345.6789000").expect("ok")),
            Datum::Numeric(
                crate::numeric::parse_numeric("-123456789012345678901234567890.123456789")
                    .expect("ok"),
            ),
            Datum::Numeric(Numeric::NAN),
            Datum::Numeric(Numeric::NEG_INFINITY),
            Datum::text("héllo"),
            Datum::Bytea(vec![0, 1, 255]),
            Datum::Date(Date::NEG_INFINITY),
            Datum::Time(Time(86_400_000_000)),
            Datum::Timestamp(Timestamp(i64::MAX)),
            Datum::TimestampTz(TimestampTz(-1)),
            Datum::Interval(Interval { months: -1, days: 2, micros: i64::MIN }),
            Datum::Json(" {\"a\" : 1} ".into()),
            Datum::Jsonb(j),
            Datum::Uuid(uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef)),
            Datum::Oid(u32::MAX),
            Datum::Array(vec![
                Datum::Array(vec![Datum::Int4(1), Datum::Null]),
                Datum::Array(vec![Datum::Int4(3), Datum::Int4(4)]),
            ]),
            Datum::Array(vec![]),
        ]
    }

    #[test]
    fn roundtrip_every_variant() {
        let row = sample_row();
        let mut buf = Vec::new();
        encode_row(&row, &mut buf);
        let back = decode_row(&buf).expect("decodes");
        assert_eq!(back.len(), row.len());
        for (a, b) in row.iter().zip(&back) {
            match (a, b) {
                (Datum::Float8(x), Datum::Float8(y)) => assert_eq!(x.0.to_bits(), y.0.to_bits()),
                (Datum::Float4(x), Datum::Float4(y)) => assert_eq!(x.0.to_bits(), y.0.to_bits()),
                (Datum::Numeric(x), Datum::Numeric(y)) => {
                    assert_eq!(x, y);
                    assert_eq!(x.scale(), y.scale());
                }
                (Datum::Interval(x), Datum::Interval(y)) => {
                    assert_eq!((x.months, x.days, x.micros), (y.months, y.days, y.micros))
                }
                _ => assert_eq!(a, b),
            }
        }
        assert_eq!(decode_row(&[0]).expect("empty row"), Vec::<Datum>::new());
    }

    /// Rows written before numeric became arbitrary-precision hold tag 8
    /// with `rust_decimal`'s 16-byte layout; they must still decode.
    #[test]
    fn legacy_decimal_still_decodes() {
        // -12345.6789000: scale 7 and the sign bit in the flags word, then
        // the mantissa 123456789000 as lo/mid/hi little-endian words.
        let mant: u128 = 123_456_789_000;
        let mut buf = vec![1, T_NUMERIC];
        buf.extend_from_slice(&((7u32 << 16) | 0x8000_0000).to_le_bytes());
        buf.extend_from_slice(&(mant as u32).to_le_bytes());
        buf.extend_from_slice(&((mant >> 32) as u32).to_le_bytes());
        buf.extend_from_slice(&((mant >> 64) as u32).to_le_bytes());
        let row = decode_row(&buf).expect("legacy decimal");
        assert_eq!(format!("{:?}", row[0]), "Numeric(-12345.6789000)");
        // A scale above 28 was never written: corrupt.
        buf[4] = 29;
        assert_eq!(decode_row(&buf).expect_err("bad scale").state, SqlState::DataCorrupted);
    }

    #[test]
    fn garbage_is_data_corrupted() {
        let mut buf = Vec::new();
        encode_row(&sample_row(), &mut buf);
        // Every truncation of a valid row fails cleanly.
        for cut in 0..buf.len() {
            let e = decode_row(&buf[..cut]).expect_err("truncated");
            assert_eq!(e.state, SqlState::DataCorrupted);
        }
        // Random bytes and random single-byte corruptions never panic.
        let mut x: u64 = 0xDEAD_BEEF_CAFE_F00D;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..50_000 {
            let len = (next() % 64) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Err(e) = decode_row(&bytes) {
                assert_eq!(e.state, SqlState::DataCorrupted);
            }
        }
        for _ in 0..20_000 {
            let mut b = buf.clone();
            let i = (next() as usize) % b.len();
            b[i] = next() as u8;
            if let Err(e) = decode_row(&b) {
                assert_eq!(e.state, SqlState::DataCorrupted);
            }
        }
        // Deep nesting is bounded.
        let mut deep = vec![1u8];
        for _ in 0..100_000 {
            deep.extend_from_slice(&[T_ARRAY, 1]);
        }
        deep.push(T_NULL);
        assert_eq!(decode_row(&deep).expect_err("deep").state, SqlState::DataCorrupted);
    }

    #[test]
    fn encoding_is_compact() {
        let mut buf = Vec::new();
        encode_row(
            &[Datum::Int4(5), Datum::Int8(-3), Datum::Bool(true), Datum::text("ab")],
            &mut buf,
        );
        assert_eq!(buf, vec![4, T_INT4, 10, T_INT8, 5, T_TRUE, T_TEXT, 2, b'a', b'b']);
    }
}

#[cfg(test)]
mod bench {
    use super::*;

    /// Rough throughput check (run with `--release --ignored`): encodes and
    /// decodes a million typical rows and prints the rate.
    #[test]
    #[ignore = "benchmark; run by hand in release mode"]
    fn row_codec_throughput() {
        let rows: Vec<Vec<Datum>> = (0..1_000_000i64)
            .map(|i| {
                vec![
                    Datum::Int8(i),
                    Datum::Int4((i % 1000) as i32),
                    Datum::text(format!("customer-{i}")),
                    Datum::Numeric(Numeric::new(i * 7 % 100_000, 2)),
                    Datum::TimestampTz(TimestampTz(646_401_600_000_000 + i)),
                    Datum::Bool(i % 2 == 0),
                    Datum::Null,
                ]
            })
            .collect();
        let start = std::time::Instant::now();
        let mut buf = Vec::with_capacity(64);
        let mut total = 0usize;
        let mut encoded = Vec::with_capacity(rows.len());
        for r in &rows {
            buf.clear();
            encode_row(r, &mut buf);
            total += buf.len();
            encoded.push(buf.clone());
        }
        let enc = start.elapsed();
        let start = std::time::Instant::now();
        for e in &encoded {
            let r = decode_row(e).expect("valid");
            assert_eq!(r.len(), 7);
        }
        let dec = start.elapsed();
        eprintln!("1M rows: encode {enc:?} ({} bytes/row), decode {dec:?}", total / rows.len());
    }
}
