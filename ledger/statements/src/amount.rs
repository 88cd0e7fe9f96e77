//! Exact amounts from their text forms. Never through a float.
//!
//! - ISO 20022 (`<Amt>`): digits, optionally `.` and digits (`8.850`, `200000`,
//!   `000123.45`); no sign, exponent, spaces or separators.
//! - SWIFT MT940: digits, optionally `,` and zero or more digits (`203,` is 203,
//!   `12,35`); some exports (the old Rabobank layout) write `.` instead of `,`.

use rust_decimal::Decimal;

/// Most digits a decimal holds (rust_decimal's 96-bit mantissa).
const MAX_DIGITS: usize = 28;

/// Parses an ISO 20022 amount.
pub(crate) fn parse_xml(text: &str) -> Result<Decimal, String> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    if int.is_empty() || !all_digits(int) || (text.contains('.') && frac.is_empty()) {
        return Err(format!("`{text}` is not a decimal amount such as 1250.00"));
    }
    if !all_digits(frac) {
        return Err(format!("`{text}` is not a decimal amount such as 1250.00"));
    }
    exact(int, frac, text)
}

/// Parses an MT940 amount (`,` or `.` as the decimal mark, decimals optional).
pub(crate) fn parse_swift(text: &str) -> Result<Decimal, String> {
    let (int, frac) = match text.split_once([',', '.']) {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    if int.is_empty() || !all_digits(int) || !all_digits(frac) {
        return Err(format!("`{text}` is not an MT940 amount such as 1250,00"));
    }
    exact(int, frac, text)
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// `int.frac` as an exact decimal, keeping the decimals written (`8.850` has scale 3).
fn exact(int: &str, frac: &str, text: &str) -> Result<Decimal, String> {
    let int = int.trim_start_matches('0');
    if int.len() + frac.len() > MAX_DIGITS {
        return Err(format!("`{text}` has more than {MAX_DIGITS} digits"));
    }
    let int = if int.is_empty() { "0" } else { int };
    let normal = if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    };
    Decimal::from_str_exact(&normal).map_err(|e| format!("`{text}`: {e}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn xml_amounts_keep_their_decimals() {
        assert_eq!(parse_xml("8.850").unwrap().to_string(), "8.850");
        assert_eq!(parse_xml("200000").unwrap().to_string(), "200000");
        assert_eq!(parse_xml("000123.45").unwrap().to_string(), "123.45");
        assert_eq!(parse_xml("0.00001").unwrap().to_string(), "0.00001");
        for bad in [
            "", "-1", "1,5", "1.", ".5", "1e3", " 1", "1.2.3", "+1", "abc",
        ] {
            assert!(parse_xml(bad).is_err(), "{bad:?} is refused");
        }
        assert!(parse_xml("12345678901234567890123456789").is_err());
    }

    #[test]
    fn swift_amounts_take_a_comma_or_a_dot() {
        assert_eq!(parse_swift("203,").unwrap().to_string(), "203");
        assert_eq!(parse_swift("12,35").unwrap().to_string(), "12.35");
        assert_eq!(
            parse_swift("000000000300.00").unwrap().to_string(),
            "300.00"
        );
        assert_eq!(parse_swift("7,5").unwrap().to_string(), "7.5");
        assert_eq!(parse_swift("80").unwrap().to_string(), "80");
        for bad in ["", ",5", "1,2,3", "-1,00", "1 000,00", "A1,00"] {
            assert!(parse_swift(bad).is_err(), "{bad:?} is refused");
        }
    }
}
