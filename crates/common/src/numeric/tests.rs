//! Unit tests for [`Numeric`]; every expected value was printed by
//! PostgreSQL 15.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use super::*;

fn n(s: &str) -> Numeric {
    parse_numeric(s).expect(s)
}

fn fmt(d: &Numeric) -> String {
    let mut s = String::new();
    format_numeric(d, &mut s);
    s
}

fn hash_of(d: &Numeric) -> u64 {
    let mut h = DefaultHasher::new();
    d.hash(&mut h);
    h.finish()
}

/// `testdata/pg15_numeric.tsv`: `op<TAB>a<TAB>b<TAB>result`, where result
/// is what PostgreSQL 15 printed for the SQL below (`ERROR: ...` for an
/// error):
/// div `a::numeric / b::numeric`, add `+`, sub `-`, mul `*`, mod
/// `mod(a, b)`, round0 `round(a)`, round2/roundm1/roundm2/roundm3
/// `round(a, 2/-1/-2/-3)`, trunc2/truncm1 `trunc(a, 2/-1)`, ceil, floor,
/// sqrt, exp, ln, log10 `log(a)`, log `log(a, b)`, pow `power(a, b)`.
const GOLDEN: &str = include_str!("../../testdata/pg15_numeric.tsv");

fn eval(op: &str, a: &Numeric, b: Option<&Numeric>) -> Result<Numeric> {
    let b = || b.expect("second operand");
    match op {
        "div" => a.checked_div(b()),
        "add" => a.checked_add(b()),
        "sub" => a.checked_sub(b()),
        "mul" => a.checked_mul(b()),
        "mod" => a.checked_rem(b()),
        "round0" => a.round_to(0),
        "round2" => a.round_to(2),
        "roundm1" => a.round_to(-1),
        "roundm2" => a.round_to(-2),
        "roundm3" => a.round_to(-3),
        "trunc2" => Ok(a.trunc_to(2)),
        "truncm1" => Ok(a.trunc_to(-1)),
        "ceil" => a.ceil(),
        "floor" => a.floor(),
        "sqrt" => a.sqrt(),
        "exp" => a.exp(),
        "ln" => a.ln(),
        "log10" => a.log10(),
        "log" => Numeric::log(a, b()),
        "pow" => a.pow(b()),
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn golden_operations_match_postgres() {
    let mut bad = Vec::new();
    let mut checked = 0;
    for line in GOLDEN.lines().filter(|l| !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (op, a, b, want) = (
            cols[0],
            n(cols[1]),
            cols.get(2).filter(|s| !s.is_empty()),
            cols[3],
        );
        let b = b.map(|s| n(s));
        let got = match eval(op, &a, b.as_ref()) {
            Ok(v) => fmt(&v),
            Err(e) => format!("ERROR:  {}", e.message),
        };
        if got != want {
            bad.push(format!("{op}({a}, {b:?}): want {want}, got {got}"));
        }
        checked += 1;
    }
    assert!(checked > 100, "too few golden rows: {checked}");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn text_input_matches_postgres() {
    let cases = [
        ("   -0.50   ", "-0.50"),
        ("1e5", "100000"),
        ("1.5e1", "15"),
        ("1e-3", "0.001"),
        ("-0.00", "0.00"),
        (".5", "0.5"),
        ("5.", "5"),
        ("+993.99", "993.99"),
        ("1.00", "1.00"),
        ("000123.4500", "123.4500"),
        (
            "123456789012345678901234567890.123456789",
            "123456789012345678901234567890.123456789",
        ),
        ("-1e40", "-10000000000000000000000000000000000000000"),
        ("1e-40", "0.0000000000000000000000000000000000000001"),
    ];
    for (input, want) in cases {
        assert_eq!(fmt(&n(input)), want, "{input}");
    }
    let e = parse_numeric("abc").expect_err("bad");
    assert_eq!(e.message, "invalid input syntax for type numeric: \"abc\"");
    assert!(parse_numeric("1e").is_err());
    assert!(parse_numeric("").is_err());
    assert!(parse_numeric("1.2.3").is_err());
    for (input, want) in [
        ("NaN", "NaN"),
        (" nan ", "NaN"),
        ("Infinity", "Infinity"),
        ("-inf", "-Infinity"),
        ("+INFINITY", "Infinity"),
    ] {
        assert_eq!(fmt(&n(input)), want, "{input}");
    }
    assert!(parse_numeric("-NaN").is_err());
    // NaN fits any typmod; an infinity does not.
    assert_eq!(
        fmt(&parse_numeric_typmod("NaN", 10, 3).expect("nan")),
        "NaN"
    );
    let e = parse_numeric_typmod("-Infinity", 10, 3).expect_err("infinite");
    assert_eq!(
        e.detail.as_deref(),
        Some("A field with precision 10, scale 3 cannot hold an infinite value.")
    );
}

#[test]
fn limits_match_postgres() {
    // 131072 digits before the point and 16383 after are the most.
    let most = "9".repeat(131_072);
    assert_eq!(fmt(&n(&most)).len(), 131_072);
    let e = parse_numeric(&format!("{most}0")).expect_err("too many digits");
    assert_eq!(e.message, "value overflows numeric format");
    assert_eq!(n("1e-16383").scale(), 16_383);
    assert!(parse_numeric("1e-16384").is_err());
    assert!(parse_numeric("1e131072").is_err());
    assert_eq!(n("1e131071").decimal_weight(), 131_071);
    // A typmod applies after numeric's own limits (PostgreSQL 15).
    assert_eq!(
        fmt(&parse_numeric_typmod("1e-16383", 5, 2).expect("rounds")),
        "0.00"
    );
    let e = parse_numeric_typmod("1e-20000", 5, 2).expect_err("dscale");
    assert_eq!(e.message, "value overflows numeric format");
    let e = parse_numeric_typmod("1e131071", 5, 2).expect_err("precision");
    assert_eq!(e.message, "numeric field overflow");
    assert!(parse_numeric_typmod("1e1000000", 5, 2).is_err());
    let big = n(&most);
    assert_eq!(
        big.checked_add(&Numeric::ONE)
            .expect_err("overflow")
            .message,
        "value overflows numeric format"
    );
}

#[test]
fn division_scale_matches_postgres() {
    // select_div_scale: 16 significant digits, at least the inputs' scales.
    assert_eq!(n("1").div_scale(&n("3")), 20);
    assert_eq!(n("10").div_scale(&n("4")), 16);
    assert_eq!(n("1").div_scale(&n("3.00000000000000000000000")), 23);
    assert_eq!(n("123456789").div_scale(&n("1")), 12);
    // avg(int) of 1..9 is 45 / 9 in PostgreSQL.
    assert_eq!(
        fmt(&Numeric::from(45)
            .checked_div(&Numeric::from(9))
            .expect("ok")),
        "5.0000000000000000"
    );
    assert_eq!(
        n("1").checked_div(&Numeric::ZERO).expect_err("zero").state,
        SqlState::DivisionByZero
    );
    assert_eq!(fmt(&n("7").div_trunc(&n("-2")).expect("ok")), "-3");
}

#[test]
fn rounding_at_half_matches_postgres() {
    // Half away from zero, both signs, inline and big mantissas.
    for (input, scale, want) in [
        ("0.5", 0, "1"),
        ("-0.5", 0, "-1"),
        ("1.45", 1, "1.5"),
        ("-1.45", 1, "-1.5"),
        ("1.4499999999999999999999999999999999999999", 1, "1.4"),
        ("-1.4500000000000000000000000000000000000000", 1, "-1.5"),
        (
            "99999999999999999999999999999999999999.5",
            0,
            "100000000000000000000000000000000000000",
        ),
        ("0.004", 2, "0.00"),
        ("-0.005", 2, "-0.01"),
        ("1.5", 3, "1.500"),
    ] {
        assert_eq!(
            fmt(&n(input).round_to(scale).expect("ok")),
            want,
            "round({input}, {scale})"
        );
    }
    assert_eq!(fmt(&n("-0.004").round_to(2).expect("ok")), "0.00");
    assert_eq!(fmt(&n("-1.99").trunc_to(0)), "-1");
}

#[test]
fn typmod_matches_postgres() {
    let e = apply_typmod(&n("12345.678"), 5, 2).expect_err("overflow");
    assert_eq!(e.message, "numeric field overflow");
    assert_eq!(
        e.detail.as_deref(),
        Some("A field with precision 5, scale 2 must round to an absolute value less than 10^3.")
    );
    let e = apply_typmod(&n("0.5"), 2, 3).expect_err("overflow");
    assert_eq!(
        e.detail.as_deref(),
        Some("A field with precision 2, scale 3 must round to an absolute value less than 10^-1.")
    );
    let e = apply_typmod(&n("1"), 2, 2).expect_err("overflow");
    assert_eq!(
        e.detail.as_deref(),
        Some("A field with precision 2, scale 2 must round to an absolute value less than 1.")
    );
    assert_eq!(fmt(&apply_typmod(&n("2.345"), 5, 2).expect("ok")), "2.35");
    assert_eq!(fmt(&apply_typmod(&n("-2.345"), 5, 2).expect("ok")), "-2.35");
    assert_eq!(
        fmt(&apply_typmod(&n("999.994"), 5, 2).expect("ok")),
        "999.99"
    );
    assert!(apply_typmod(&n("999.995"), 5, 2).is_err());
    assert!(apply_typmod(&n("-999.995"), 5, 2).is_err());
    assert_eq!(fmt(&apply_typmod(&n("1"), 5, 2).expect("ok")), "1.00");
    assert_eq!(fmt(&apply_typmod(&n("-0.001"), 5, 2).expect("ok")), "0.00");
    assert_eq!(fmt(&apply_typmod(&n("0.001"), 2, 3).expect("ok")), "0.001");
    // numeric(1000, 500) holds 500 digits each side.
    let wide = format!("{}.{}", "9".repeat(500), "4".repeat(600));
    let r = apply_typmod(&n(&wide), 1000, 500).expect("fits");
    assert_eq!(fmt(&r), format!("{}.{}", "9".repeat(500), "4".repeat(500)));
    let e = apply_typmod(&n(&format!("1{}", "0".repeat(500))), 1000, 500).expect_err("501 digits");
    assert_eq!(
        e.detail.as_deref(),
        Some("A field with precision 1000, scale 500 must round to an absolute value less than 10^500.")
    );
    // Text input with a typmod rounds the exact digits.
    assert_eq!(
        fmt(&parse_numeric_typmod("123456789012345678901234567890.125", 40, 2).expect("ok")),
        "123456789012345678901234567890.13"
    );
}

#[test]
fn equal_values_compare_and_hash_alike() {
    let groups = [
        vec![
            "1",
            "1.0",
            "1.00",
            "1.0000000000000000000000000000000000000000000000",
        ],
        vec!["0", "0.000", "-0.0", "0e10"],
        vec![
            "-2.5",
            "-2.50",
            "-2.500000000000000000000000000000000000000000000",
        ],
        vec![
            "123456789012345678901234567890123456789012345",
            "123456789012345678901234567890123456789012345.000",
            "1.23456789012345678901234567890123456789012345e44",
        ],
        vec!["100", "100.0", "1e2"],
    ];
    for g in &groups {
        let first = n(g[0]);
        for s in g {
            let v = n(s);
            assert_eq!(v, first, "{s} = {}", g[0]);
            assert_eq!(hash_of(&v), hash_of(&first), "hash({s}) = hash({})", g[0]);
        }
    }
    let ordered = [
        "-1e40",
        "-99999999999999999999999999999999999999",
        "-1.5",
        "-1.25",
        "0",
        "0.0001",
        "1",
        "1.0000000000000000000000000000000000000000001",
        "2",
        "99999999999999999999999999999999999999",
        "1e40",
    ];
    let ordered: Vec<&str> = ["-Infinity"]
        .into_iter()
        .chain(ordered)
        .chain(["Infinity", "NaN"])
        .collect();
    assert_eq!(n("NaN"), n("nan"));
    assert_eq!(hash_of(&n("NaN")), hash_of(&Numeric::NAN));
    assert_ne!(hash_of(&n("Infinity")), hash_of(&n("-Infinity")));
    for w in ordered.windows(2) {
        assert!(n(w[0]) < n(w[1]), "{} < {}", w[0], w[1]);
        assert!(n(w[1]) > n(w[0]), "{} > {}", w[1], w[0]);
    }
}

#[test]
fn conversions_match_postgres() {
    assert_eq!(n("2.5").to_i64_rounded(), Some(3));
    assert_eq!(n("-2.5").to_i64_rounded(), Some(-3));
    assert_eq!(n("9223372036854775807.4").to_i64_rounded(), Some(i64::MAX));
    assert_eq!(n("9223372036854775807.5").to_i64_rounded(), None);
    assert_eq!(n("1e30").to_i64_rounded(), None);
    assert_eq!(n("0.1").to_f64(), 0.1);
    // PostgreSQL: 1.2345678901234568e+29.
    assert_eq!(
        n("123456789012345678901234567890.123456789").to_f64(),
        1.2345678901234568e29
    );
    assert_eq!(n("1e400").to_f64(), f64::INFINITY);
    assert_eq!(Numeric::from(i64::MIN).to_string(), "-9223372036854775808");
    assert_eq!(
        Numeric::from(i128::MAX)
            .checked_add(&Numeric::ONE)
            .expect("big")
            .to_string(),
        "170141183460469231731687303715884105728"
    );
    assert!(n("3.000").is_integral());
    assert!(!n("3.001").is_integral());
}

#[test]
fn errors_match_postgres() {
    let e = n("-1").sqrt().expect_err("negative");
    assert_eq!(
        (e.state.code(), e.message.as_str()),
        ("2201F", "cannot take square root of a negative number")
    );
    let e = n("0").ln().expect_err("zero");
    assert_eq!(
        (e.state.code(), e.message.as_str()),
        ("2201E", "cannot take logarithm of zero")
    );
    let e = n("-1").ln().expect_err("negative");
    assert_eq!(
        (e.state.code(), e.message.as_str()),
        ("2201E", "cannot take logarithm of a negative number")
    );
    let e = n("0").pow(&n("-1")).expect_err("zero");
    assert_eq!(
        (e.state.code(), e.message.as_str()),
        ("2201F", "zero raised to a negative power is undefined")
    );
    let e = n("-2").pow(&n("0.5")).expect_err("complex");
    assert_eq!(
        e.message,
        "a negative number raised to a non-integer power yields a complex result"
    );
    assert_eq!(
        n("1").checked_rem(&n("0")).expect_err("zero").state,
        SqlState::DivisionByZero
    );
    assert_eq!(
        n("10").pow(&n("200000")).expect_err("overflow").message,
        "value overflows numeric format"
    );
    assert_eq!(n("1").exp().expect("ok").to_string(), "2.7182818284590452");
    assert_eq!(
        n("6000").exp().expect_err("overflow").message,
        "value overflows numeric format"
    );
    assert_eq!(
        Numeric::log(&n("1"), &n("5")).expect_err("ln 1 = 0").state,
        SqlState::DivisionByZero
    );
}

#[test]
fn binary_roundtrip() {
    // numeric_send of 12345.678 is ndigits 3, weight 1, sign 0,
    // dscale 3, digits [1, 2345, 6780].
    let mut out = Vec::new();
    encode_numeric_binary(&n("12345.678"), &mut out);
    assert_eq!(
        out,
        vec![0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c]
    );
    // 123456789012345678901234567890.123456789: ndigits 10, weight 7,
    // digits [12, 3456, 7890, 1234, 5678, 9012, 3456, 7890, 1234, 5678, 9000].
    let mut out = Vec::new();
    encode_numeric_binary(&n("123456789012345678901234567890.123456789"), &mut out);
    let groups: Vec<i16> = out[8..]
        .chunks(2)
        .map(|c| i16::from_be_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(&out[..8], &[0, 11, 0, 7, 0, 0, 0, 9]);
    assert_eq!(
        groups,
        vec![12, 3456, 7890, 1234, 5678, 9012, 3456, 7890, 1234, 5678, 9000]
    );
    for s in [
        "0",
        "0.00",
        "-1",
        "10000",
        "0.0001",
        "-993.99",
        "1e20",
        "0.000001234",
        "79228162514264337593543950335",
        "123456789012345678901234567890.123456789",
        "-0.00000000000000000000000000000000000000000000000001",
        "1e1000",
        "-98765432109876543210987654321098765432109876543210.5",
        "NaN",
        "Infinity",
        "-Infinity",
    ] {
        let d = n(s);
        let mut out = Vec::new();
        encode_numeric_binary(&d, &mut out);
        let back = decode_numeric_binary(&out).expect(s);
        assert_eq!(fmt(&back), fmt(&d), "{s}");
    }
    // Digits hidden by dscale are truncated: 1.2345 sent with dscale 2.
    let back = decode_numeric_binary(&[0, 2, 0, 0, 0, 0, 0, 2, 0, 1, 0x09, 0x29]).expect("ok");
    assert_eq!(fmt(&back), "1.23");
    assert!(decode_numeric_binary(&[0, 1, 0, 0]).is_err());
    assert!(decode_numeric_binary(&[0, 1, 0, 0, 0x12, 0, 0, 0, 0x27, 0x10]).is_err());
}

#[test]
fn storage_parts_roundtrip() {
    for s in [
        "0",
        "-1.50",
        "123456789012345678901234567890.123456789",
        "-1e60",
        "1e-16383",
    ] {
        let d = n(s);
        let (neg, mag, scale) = d.to_bytes_parts();
        let back = Numeric::from_bytes_parts(neg, &mag, scale).expect(s);
        assert_eq!(fmt(&back), fmt(&d));
    }
    for s in ["NaN", "Infinity", "-Infinity"] {
        let d = n(s);
        let back = Numeric::from_special_code(d.special_code().expect(s)).expect(s);
        assert_eq!(fmt(&back), s);
        assert_eq!(d.to_i64_parts(), None);
    }
    assert_eq!(n("1").special_code(), None);
    assert_eq!(n("-1.50").to_i64_parts(), Some((-150, 2)));
    assert_eq!(n("1e30").to_i64_parts(), None);
}

#[test]
fn datum_stays_small() {
    assert!(std::mem::size_of::<Numeric>() <= 24);
    assert_eq!(std::mem::size_of::<crate::Datum>(), 32);
}
