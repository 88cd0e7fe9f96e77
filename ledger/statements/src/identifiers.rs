//! Identifiers found in bank files: IBANs, RF creditor references, SEPA return reason
//! codes, and the placeholders banks write when there is no reference.

/// SEPA R-transaction reason codes (EPC guidance, ISO 20022 external return reason codes)
/// that an MT940 text may quote; only codes of the form `AA00`, which do not occur as
/// ordinary words.
const RETURN_REASONS: &[&str] = &[
    "AC01", "AC03", "AC04", "AC06", "AC13", "AG01", "AG02", "AM04", "AM05", "BE01", "BE05", "ED05",
    "FF01", "MD01", "MD02", "MD06", "MD07", "MS02", "MS03", "RC01", "RR01", "RR02", "RR03", "RR04",
    "SL01",
];

/// A value that means "no reference" (`NOTPROVIDED` in camt, `NONREF` in MT940).
pub(crate) fn is_placeholder(value: &str) -> bool {
    let squeezed: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    matches!(squeezed.as_str(), "NOTPROVIDED" | "NONREF" | "NONE")
}

/// The trimmed value, `None` when empty or a placeholder.
pub(crate) fn provided(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty() && !is_placeholder(v))
        .map(str::to_owned)
}

/// The IBAN without spaces in upper case, when `value` has the shape of one (country code,
/// two check digits, 11 to 30 letters or digits). The check digits are not verified:
/// sample files carry made-up IBANs.
pub(crate) fn iban(value: &str) -> Option<String> {
    let iban: String = value
        .chars()
        .filter(|c| *c != ' ')
        .collect::<String>()
        .to_ascii_uppercase();
    let b = iban.as_bytes();
    let shaped = (15..=34).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric);
    shaped.then_some(iban)
}

/// Whether `value` is an RF creditor reference (ISO 11649) with correct check digits.
pub(crate) fn is_rf_reference(value: &str) -> bool {
    let b = value.as_bytes();
    if !(5..=25).contains(&b.len())
        || !value.starts_with("RF")
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b[4..].iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    // Move the first four characters to the end, letters become 10..35, mod 97 must be 1.
    let rearranged = value[4..].chars().chain(value[..4].chars());
    let mut rem: u32 = 0;
    for c in rearranged {
        let Some(v) = c.to_digit(36) else {
            return false;
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// The first word of `text` that is a valid RF creditor reference.
pub(crate) fn find_rf_reference(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_uppercase)
        .find(|w| is_rf_reference(w))
}

/// A SEPA return reason code that stands alone in `text` (`/RTRN/MS03/`, `RUECKGABE AC04`).
pub(crate) fn find_return_reason(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| RETURN_REASONS.contains(w))
        .map(str::to_owned)
}

/// Whether `code` has the form of an ISO 20022 external code (`^[A-Z0-9]{4}$`).
pub(crate) fn is_reason_code(code: &str) -> bool {
    code.len() == 4
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rf_references_are_checked() {
        assert!(is_rf_reference("RF18539007547034"), "the ISO 11649 example");
        assert!(!is_rf_reference("RF19539007547034"));
        assert!(!is_rf_reference("RF18"));
        assert_eq!(
            find_rf_reference("Invoice rf18539007547034 thanks").as_deref(),
            Some("RF18539007547034")
        );
    }

    #[test]
    fn ibans_are_recognised_by_shape() {
        assert_eq!(
            iban("DE40 5001 0517 4675 9745 88").as_deref(),
            Some("DE40500105174675974588")
        );
        assert_eq!(iban("0012345678"), None);
        assert_eq!(iban("NUMERO DE COMPTE01234567"), None);
    }

    #[test]
    fn placeholders_are_no_reference() {
        assert_eq!(provided(Some(" NOTPROVIDED ")), None);
        assert_eq!(provided(Some("NONREF")), None);
        assert_eq!(provided(Some("E2E-1")).as_deref(), Some("E2E-1"));
        assert_eq!(find_return_reason("/RTRN/MS03/").as_deref(), Some("MS03"));
        assert_eq!(find_return_reason("XAM04 AM044"), None);
        assert!(is_reason_code("NARR") && !is_reason_code("narr") && !is_reason_code("AM4"));
    }
}
