//! Money: an exact decimal amount and an ISO 4217 currency.
//!
//! On the wire an amount is a JSON string holding a decimal (`"1250.00"`), never a JSON
//! number, so no producer or consumer ever routes it through a binary float.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Largest amount the contract accepts, in major units (one trillion).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

/// Most decimal places an amount may carry (bank files carry up to five).
pub const MAX_SCALE: u32 = 6;

/// Error text prefixes the decoder classifies; see `decode::classify`.
pub(crate) const INVALID_AMOUNT: &str = "invalid amount";
pub(crate) const NEGATIVE_AMOUNT: &str = "negative amount";
pub(crate) const UNKNOWN_CURRENCY: &str = "unknown currency";

/// Why a decimal string is not an acceptable amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not a decimal number at all (`"12,50"`, `"abc"`, a JSON number).
    #[error("{INVALID_AMOUNT} `{0}`: expected a decimal string such as \"1250.00\"")]
    NotDecimal(String),
    /// Below zero: amounts are magnitudes, the event kind gives the direction.
    #[error("{NEGATIVE_AMOUNT} `{0}`: amounts are magnitudes, the event type gives the direction")]
    Negative(String),
    /// Larger than [`MAX_AMOUNT`] or with more than [`MAX_SCALE`] decimals.
    #[error("{INVALID_AMOUNT} `{0}`: out of range (at most 10^12 and {MAX_SCALE} decimals)")]
    OutOfRange(String),
}

/// Parses a non-negative decimal amount from its text form.
pub fn parse_amount(text: &str) -> Result<Decimal, AmountError> {
    // The one accepted form: digits, optionally `.` and digits (a `-` in front is reported
    // as negative rather than malformed). No sign, spaces, exponent or separators.
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return Err(AmountError::NotDecimal(text.to_owned()));
    }
    // Well formed from here on: too many digits for a decimal is out of range.
    let value: Decimal = digits
        .parse()
        .map_err(|_| AmountError::OutOfRange(text.to_owned()))?;
    if negative && !value.is_zero() {
        return Err(AmountError::Negative(text.to_owned()));
    }
    if value > MAX_AMOUNT || value.scale() > MAX_SCALE {
        return Err(AmountError::OutOfRange(text.to_owned()));
    }
    Ok(value)
}

/// The amount as written: trailing zeros beyond [`MAX_SCALE`] decimals are dropped (the
/// value is unchanged), so that an amount computed at a larger scale reads back. An
/// amount with more significant decimals is written as it is, never rounded: the reader
/// refuses it, as the contract says.
pub fn writable(value: Decimal) -> Decimal {
    if value.scale() <= MAX_SCALE {
        value
    } else {
        let normalized = value.normalize();
        if normalized.scale() <= MAX_SCALE {
            normalized
        } else {
            value
        }
    }
}

/// Serde adapter for amounts: a decimal string in, a decimal string out.
pub mod amount_str {
    use super::*;

    /// Writes the amount as a decimal string (see [`writable`]).
    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&writable(*value))
    }

    /// Reads a decimal string; JSON numbers are refused (floats are not money).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(AmountVisitor)
    }

    struct AmountVisitor;

    impl<'de> serde::de::Visitor<'de> for AmountVisitor {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal amount as a string")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
            parse_amount(v).map_err(E::custom)
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
            Err(E::custom(AmountError::NotDecimal(format!(
                "{v} (a JSON number)"
            ))))
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
            Err(E::custom(AmountError::NotDecimal(format!(
                "{v} (a JSON number)"
            ))))
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
            Err(E::custom(AmountError::NotDecimal(format!(
                "{v} (a JSON number)"
            ))))
        }

        // The other JSON types are not decimal strings either: same reason as a number.
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Decimal, E> {
            Err(E::custom(AmountError::NotDecimal(format!(
                "{v} (a JSON boolean)"
            ))))
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Decimal, E> {
            Err(E::custom(AmountError::NotDecimal("null".to_owned())))
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Decimal, A::Error> {
            Err(serde::de::Error::custom(AmountError::NotDecimal(
                "a JSON array".to_owned(),
            )))
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<Decimal, A::Error> {
            Err(serde::de::Error::custom(AmountError::NotDecimal(
                "a JSON object".to_owned(),
            )))
        }
    }

    /// Optional variant of the adapter.
    pub mod option {
        use super::*;

        /// Writes `Some` as a decimal string and `None` as null.
        pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => s.collect_str(&super::writable(*v)),
                None => s.serialize_none(),
            }
        }

        /// Reads null or a decimal string.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
            #[derive(Deserialize)]
            struct Wrap(#[serde(with = "super")] Decimal);
            Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
        }
    }
}

/// An ISO 4217 currency code (active codes only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// Active ISO 4217 alphabetic codes.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW",
    "ZWG",
];

impl Currency {
    /// The euro, the simulator's and the demo's currency.
    pub const EUR: Currency = Currency(*b"EUR");

    /// Parses an ISO 4217 code (upper case, active codes only).
    pub fn parse(code: &str) -> Result<Currency, CurrencyError> {
        if ISO_4217.binary_search(&code).is_ok() {
            let b = code.as_bytes();
            Ok(Currency([b[0], b[1], b[2]]))
        } else {
            Err(CurrencyError(code.to_owned()))
        }
    }

    /// The three-letter code.
    pub fn as_str(&self) -> &str {
        // Only ever built from an entry of ISO_4217, which is ASCII.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

/// A currency code that is not an active ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{UNKNOWN_CURRENCY} `{0}`: expected an active ISO 4217 code such as EUR")]
pub struct CurrencyError(pub String);

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// An exact amount in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Non-negative amount in major units.
    #[serde(with = "amount_str")]
    pub amount: Decimal,
    /// ISO 4217 currency.
    pub currency: Currency,
}

impl Money {
    /// Builds an amount in a currency.
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.amount)
    }
}

#[cfg(test)]
mod writing_tests {
    use super::*;

    #[test]
    fn trailing_zeros_beyond_six_decimals_are_dropped_and_nothing_is_rounded() {
        let twelve: Decimal = "12000.0000000".parse().unwrap_or_default();
        assert_eq!(writable(twelve).to_string(), "12000");
        let third = Decimal::ONE / Decimal::from(3);
        assert_eq!(writable(third), third);
        let cents: Decimal = "89.90".parse().unwrap_or_default();
        assert_eq!(writable(cents).to_string(), "89.90");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_table_is_sorted_for_binary_search() {
        assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn max_amount_is_one_trillion() {
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000_i64));
    }

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(
            parse_amount("1250.10").map(|d| d.to_string()),
            Ok("1250.10".into())
        );
        assert_eq!(
            parse_amount("0.00001").map(|d| d.to_string()),
            Ok("0.00001".into())
        );
        assert!(matches!(parse_amount("-1"), Err(AmountError::Negative(_))));
        assert!(matches!(
            parse_amount("12,50"),
            Err(AmountError::NotDecimal(_))
        ));
        assert!(matches!(
            parse_amount("1e5"),
            Err(AmountError::NotDecimal(_))
        ));
        assert!(matches!(parse_amount(""), Err(AmountError::NotDecimal(_))));
        for loose in [
            "+1.5", " 1.5", "1.5 ", ".5", "5.", "1..5", "1_000", "0x10", "--1",
        ] {
            assert!(
                matches!(parse_amount(loose), Err(AmountError::NotDecimal(_))),
                "{loose:?} is refused"
            );
        }
        assert_eq!(parse_amount("-0"), Ok(Decimal::ZERO));
        assert!(matches!(
            parse_amount("1000000000000.01"),
            Err(AmountError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_amount("1.0000001"),
            Err(AmountError::OutOfRange(_))
        ));
    }

    #[test]
    fn currencies_are_checked_against_iso_4217() {
        assert_eq!(Currency::parse("EUR"), Ok(Currency::EUR));
        assert!(Currency::parse("eur").is_err());
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("EURO").is_err());
    }
}
