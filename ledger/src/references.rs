//! Structured payment references: the ISO 11649 RF creditor reference and the Dutch
//! 16-digit payment reference ("betalingskenmerk"), their check digits and validation.
//!
//! Both are printed on invoices so a bank transfer can carry a reference the ledger can
//! match without reading free text. The matcher trusts a structured reference only when
//! its checksum holds; anything else is treated as text.

/// Longest base (the part after `RFnn`) an ISO 11649 reference may carry.
pub const MAX_CREDITOR_REFERENCE_BASE: usize = 21;

/// Largest number a 16-digit Dutch payment reference can carry (15 digits).
pub const MAX_DUTCH_REFERENCE_NUMBER: u64 = 999_999_999_999_999;

/// Why a reference cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The base is empty, longer than 21 characters or holds a character that is not a
    /// letter or digit (after spaces are removed).
    #[error("creditor reference base `{0}` must be 1 to 21 letters or digits")]
    InvalidCreditorBase(String),
    /// The number has more than 15 digits.
    #[error("payment reference number {0} has more than 15 digits")]
    DutchNumberTooLarge(u64),
}

/// Upper case, with spaces (any white space), dashes and dots removed: the form in which
/// references and invoice numbers are compared.
pub fn normalize_reference(s: &str) -> String {
    if s.is_ascii() {
        // Byte by byte: the usual case, several times faster than by `char`.
        let mut out = String::with_capacity(s.len());
        out.extend(
            s.bytes()
                .filter(|b| !b.is_ascii_whitespace() && *b != b'-' && *b != b'.' && *b != 0x0b)
                .map(|b| char::from(b.to_ascii_uppercase())),
        );
        return out;
    }
    normalize_by_char(s)
}

/// [`normalize_reference`] character by character (any text).
fn normalize_by_char(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '.')
        .flat_map(char::to_uppercase)
        .collect()
}

/// [`normalize_reference`] without allocating when `s` is already normalised (the usual
/// case for IBANs and references from a bank statement).
pub fn normalized_reference(s: &str) -> std::borrow::Cow<'_, str> {
    let clean = s
        .chars()
        .all(|c| !c.is_whitespace() && c != '-' && c != '.' && !c.is_lowercase());
    if clean && s.is_ascii() {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(normalize_reference(s))
    }
}

/// Builds the ISO 11649 creditor reference `RF` + two check digits + `base`.
///
/// The base is upper-cased and spaces are removed. Use [`try_creditor_reference`] to have
/// an unsuitable base (empty, longer than 21 characters, not alphanumeric) refused; this
/// function never fails and keeps such a base as it is (the check digits are computed over
/// its letters and digits only, so the result does not validate).
pub fn creditor_reference(base: &str) -> String {
    let base: String = base
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    let check = 98 - mod97(base.chars().chain("RF00".chars()));
    format!("RF{check:02}{base}")
}

/// Builds the ISO 11649 creditor reference, refusing a base that is empty, longer than 21
/// characters or not made of letters and digits (spaces are removed first).
pub fn try_creditor_reference(base: &str) -> Result<String, ReferenceError> {
    let compact: String = base.chars().filter(|c| !c.is_whitespace()).collect();
    let ok = !compact.is_empty()
        && compact.chars().count() <= MAX_CREDITOR_REFERENCE_BASE
        && compact.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(creditor_reference(&compact))
    } else {
        Err(ReferenceError::InvalidCreditorBase(base.to_owned()))
    }
}

/// Whether `s` is a valid ISO 11649 creditor reference (`RF`, two check digits, 1 to 21
/// letters or digits; mod 97 of the rearranged reference is 1). Spaces and lower case are
/// tolerated.
pub fn is_valid_creditor_reference(s: &str) -> bool {
    let compact: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    let bytes = compact.as_bytes();
    if bytes.len() < 5 || bytes.len() > 4 + MAX_CREDITOR_REFERENCE_BASE {
        return false;
    }
    if &bytes[..2] != b"RF" || !bytes[2].is_ascii_digit() || !bytes[3].is_ascii_digit() {
        return false;
    }
    if !bytes[4..].iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    mod97(compact[4..].chars().chain(compact[..4].chars())) == 1
}

/// Remainder modulo 97 of the number formed by the characters, letters counting as two
/// digits (A = 10 .. Z = 35) as for IBANs. Characters that are neither are skipped.
fn mod97(chars: impl Iterator<Item = char>) -> u32 {
    chars.fold(0, |acc, c| match c.to_digit(36) {
        Some(v) if v < 10 => (acc * 10 + v) % 97,
        Some(v) => (acc * 100 + v) % 97,
        None => acc,
    })
}

/// Weights of the 15 payload digits, from the rightmost digit leftwards (powers of two
/// modulo 11).
const DUTCH_WEIGHTS: [u32; 15] = [2, 4, 8, 5, 10, 9, 7, 3, 6, 1, 2, 4, 8, 5, 10];

/// Builds the 16-digit Dutch payment reference ("betalingskenmerk"): one check digit
/// followed by `number` zero-padded to 15 digits.
///
/// The check digit is the weighted modulus-11 digit: weights 2, 4, 8, 5, 10, 9, 7, 3, 6, 1
/// (repeating) from the rightmost payload digit leftwards, C = 11 − (Σ digit × weight mod
/// 11), with 10 → 1 and 11 → 0.
///
/// Checked against the public specification of the Betaalvereniging Nederland
/// ("Specificaties betalingskenmerk": weights from the right 2, 4, 8, 5, 10, 9, 7, 3, 6, 1,
/// repeating beyond ten digits; 10 → 1, 11 → 0) and its worked example
/// `5000 0567 8901 2345` (payload 000056789012345, Σ = 215, 215 mod 11 = 6, C = 5), which
/// is a unit test below.
///
/// A number with more than 15 digits keeps only its last 15; use
/// [`try_dutch_payment_reference`] to have it refused instead.
pub fn dutch_payment_reference(number: u64) -> String {
    let payload = format!("{:015}", number % (MAX_DUTCH_REFERENCE_NUMBER + 1));
    let check = dutch_check_digit(payload.as_bytes());
    format!("{check}{payload}")
}

/// Builds the Dutch payment reference, refusing a number with more than 15 digits.
pub fn try_dutch_payment_reference(number: u64) -> Result<String, ReferenceError> {
    if number > MAX_DUTCH_REFERENCE_NUMBER {
        return Err(ReferenceError::DutchNumberTooLarge(number));
    }
    Ok(dutch_payment_reference(number))
}

/// Whether `s` is a valid 16-digit Dutch payment reference (spaces tolerated).
pub fn is_valid_dutch_payment_reference(s: &str) -> bool {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() != 16 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    u32::from(digits[0] - b'0') == dutch_check_digit(&digits[1..])
}

/// Whether `s` is a valid structured reference of either kind.
pub fn is_valid_structured_reference(s: &str) -> bool {
    is_valid_creditor_reference(s) || is_valid_dutch_payment_reference(s)
}

/// Check digit over 15 ASCII digits.
fn dutch_check_digit(payload: &[u8]) -> u32 {
    let sum: u32 = payload
        .iter()
        .rev()
        .zip(DUTCH_WEIGHTS)
        .map(|(d, w)| u32::from(d.saturating_sub(b'0')) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 1,
        11 => 0,
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_11649_example_is_valid() {
        assert!(is_valid_creditor_reference("RF18539007547034"));
        assert!(is_valid_creditor_reference("RF18 5390 0754 7034"));
        assert!(is_valid_creditor_reference("rf18539007547034"));
    }

    #[test]
    fn creditor_reference_reproduces_the_iso_example() {
        assert_eq!(creditor_reference("539007547034"), "RF18539007547034");
        assert_eq!(creditor_reference("5390 0754 7034"), "RF18539007547034");
    }

    #[test]
    fn creditor_reference_with_letters_round_trips() {
        for base in ["INV000123", "a", "ZZZZZZZZZZZZZZZZZZZZZ", "0", "D42X7"] {
            let r = creditor_reference(base);
            assert!(is_valid_creditor_reference(&r), "{r}");
            assert!(r.starts_with("RF"));
            assert_eq!(r, r.to_uppercase());
        }
    }

    #[test]
    fn creditor_reference_detects_a_changed_digit_or_swap() {
        assert!(!is_valid_creditor_reference("RF18539007547035"));
        assert!(!is_valid_creditor_reference("RF18539007547043"));
        assert!(!is_valid_creditor_reference("RF19539007547034"));
    }

    #[test]
    fn creditor_reference_refuses_wrong_shapes() {
        assert!(!is_valid_creditor_reference(""));
        assert!(!is_valid_creditor_reference("RF18"));
        assert!(!is_valid_creditor_reference("XX18539007547034"));
        assert!(!is_valid_creditor_reference("RF1853900754-7034"));
        assert!(!is_valid_creditor_reference("RFAB539007547034"));
        let too_long = creditor_reference("1234567890123456789012");
        assert!(!is_valid_creditor_reference(&too_long));
    }

    #[test]
    fn try_creditor_reference_refuses_unsuitable_bases() {
        assert_eq!(
            try_creditor_reference("539007547034").as_deref(),
            Ok("RF18539007547034")
        );
        assert!(try_creditor_reference("").is_err());
        assert!(try_creditor_reference("INV-1").is_err());
        assert!(try_creditor_reference("1234567890123456789012").is_err());
    }

    #[test]
    fn betaalvereniging_example_is_valid() {
        // Worked example of the Betaalvereniging Nederland specification.
        assert!(is_valid_dutch_payment_reference("5000056789012345"));
        assert!(is_valid_dutch_payment_reference("5000 0567 8901 2345"));
        assert_eq!(dutch_payment_reference(56_789_012_345), "5000056789012345");
    }

    #[test]
    fn dutch_reference_maps_ten_to_one_and_eleven_to_zero() {
        // Last digit 1 (weight 2): Σ = 2, C = 9.
        assert_eq!(dutch_payment_reference(1), "9000000000000001");
        // All zeros: Σ = 0, C = 11 → 0.
        assert_eq!(dutch_payment_reference(0), "0000000000000000");
        // Last digit 6: Σ = 12 ≡ 1, C = 10 → 1.
        assert_eq!(dutch_payment_reference(6), "1000000000000006");
    }

    #[test]
    fn dutch_reference_round_trips_and_detects_errors() {
        for n in [
            1_u64,
            42,
            123_456_789,
            MAX_DUTCH_REFERENCE_NUMBER,
            100_000_000_000_000,
        ] {
            let r = dutch_payment_reference(n);
            assert_eq!(r.len(), 16);
            assert!(is_valid_dutch_payment_reference(&r), "{r}");
        }
        assert!(!is_valid_dutch_payment_reference("4000056789012345"));
        assert!(!is_valid_dutch_payment_reference("500005678901234"));
        assert!(!is_valid_dutch_payment_reference("50000567890123456"));
        assert!(!is_valid_dutch_payment_reference("500005678901234X"));
        assert!(!is_valid_dutch_payment_reference(""));
    }

    #[test]
    fn dutch_reference_of_a_too_large_number_is_refused_by_try() {
        assert!(try_dutch_payment_reference(MAX_DUTCH_REFERENCE_NUMBER + 1).is_err());
        assert_eq!(
            try_dutch_payment_reference(56_789_012_345).as_deref(),
            Ok("5000056789012345")
        );
    }

    #[test]
    fn normalize_removes_spaces_dashes_dots_and_upper_cases() {
        assert_eq!(normalize_reference(" inv-2025.000 123 "), "INV2025000123");
        assert_eq!(normalize_reference("rf18 5390"), "RF185390");
        assert_eq!(normalize_reference(""), "");
    }

    #[test]
    fn ascii_is_normalised_as_by_char() {
        // Every ASCII character, alone and between letters: the byte path keeps and drops
        // what the general one does.
        for b in 0_u8..=127 {
            let s = format!("a{}z", char::from(b));
            assert_eq!(normalize_reference(&s), normalize_by_char(&s), "byte {b}");
        }
        assert_eq!(
            normalize_reference("a\u{85}b"),
            normalize_by_char("a\u{85}b")
        );
    }

    #[test]
    fn normalized_reference_borrows_what_is_already_normal() {
        assert!(matches!(
            normalized_reference("NL91ABNA0417164300"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(normalized_reference("nl91 abna-0417"), "NL91ABNA0417");
        assert_eq!(
            normalized_reference("straße"),
            normalize_reference("straße")
        );
    }

    #[test]
    fn structured_reference_accepts_either_kind() {
        assert!(is_valid_structured_reference("RF18539007547034"));
        assert!(is_valid_structured_reference("5000056789012345"));
        assert!(!is_valid_structured_reference("INV-000123"));
    }
}
