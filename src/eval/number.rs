//! Exact equality of JSON numbers.
//!
//! serde_json is built with `arbitrary_precision`, so a number keeps the
//! text it was written with. Converting to `f64` would make
//! 9007199254740993 equal 9007199254740992 (2^53 + 1 has no `f64`), so
//! `equals` compares the decimal values instead: `0.700` equals `0.7` and
//! `7e-1`, and `-0` equals `0`.

use serde_json::Number;

/// A decimal value as significant digits (no leading or trailing zeros)
/// times ten to `exponent`; zero has no digits.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i64,
}

/// True when the two numbers have the same decimal value.
pub fn numbers_equal(a: &Number, b: &Number) -> bool {
    match (parse(&a.to_string()), parse(&b.to_string())) {
        (Some(x), Some(y)) => x == y,
        // Not reachable for numbers serde_json parsed; compare the text.
        _ => a == b,
    }
}

/// Parses JSON number text (`-?int(.frac)?([eE][+-]?exp)?`).
fn parse(text: &str) -> Option<Decimal> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], unsigned[at + 1..].parse::<i64>().ok()?),
        None => (unsigned, 0),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !integer
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let fraction_len = i64::try_from(fraction.len()).ok()?;

    let all_digits = format!("{integer}{fraction}");
    let leading_trimmed = all_digits.trim_start_matches('0');
    let digits = leading_trimmed.trim_end_matches('0');
    if digits.is_empty() {
        return Some(Decimal {
            negative: false,
            digits: String::new(),
            exponent: 0,
        });
    }
    let trailing_zeros = i64::try_from(leading_trimmed.len() - digits.len()).ok()?;
    let exponent = exponent
        .checked_sub(fraction_len)?
        .checked_add(trailing_zeros)?;
    Some(Decimal {
        negative,
        digits: digits.to_string(),
        exponent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn integers_beyond_53_bits_differ() {
        assert!(!numbers_equal(
            &number("9007199254740993"),
            &number("9007199254740992")
        ));
        assert!(numbers_equal(
            &number("9007199254740993"),
            &number("9007199254740993")
        ));
    }

    #[test]
    fn trailing_zeros_and_exponents_are_equal() {
        assert!(numbers_equal(&number("0.700"), &number("0.7")));
        assert!(numbers_equal(&number("7e-1"), &number("0.7")));
        assert!(numbers_equal(&number("1.0"), &number("1")));
        assert!(numbers_equal(&number("100"), &number("1E2")));
        assert!(numbers_equal(&number("-0"), &number("0.000")));
    }

    #[test]
    fn sign_and_digits_matter() {
        assert!(!numbers_equal(&number("-1"), &number("1")));
        assert!(!numbers_equal(
            &number("0.7000000000000001"),
            &number("0.7")
        ));
        assert!(!numbers_equal(&number("10"), &number("1")));
    }

    #[test]
    fn huge_exponent_does_not_overflow() {
        assert!(!numbers_equal(
            &number("1e9223372036854775807"),
            &number("1")
        ));
    }
}
