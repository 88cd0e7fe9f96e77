//! SEPA return reason codes (ISO 20022 external codes used in R-transactions) in words,
//! for alert summaries a credit manager can read.

/// The meaning of a return reason code, for the common SEPA codes.
pub fn reason_code_meaning(code: &str) -> Option<&'static str> {
    Some(match code {
        "AC01" => "account identifier incorrect",
        "AC04" => "account closed",
        "AC06" => "account blocked",
        "AC13" => "debtor account is a consumer account",
        "AG01" => "transaction forbidden on this account",
        "AG02" => "invalid bank operation code",
        "AM04" => "insufficient funds",
        "AM05" => "duplicate collection",
        "BE05" => "creditor identifier incorrect",
        "CNOR" => "creditor bank not registered",
        "DNOR" => "debtor bank not registered",
        "FF01" => "invalid file format",
        "FOCR" => "returned after a cancellation request",
        "MD01" => "no valid mandate",
        "MD02" => "mandate data missing or incorrect",
        "MD06" => "refund request by the debtor",
        "MD07" => "debtor deceased",
        "MS02" => "refused by the debtor",
        "MS03" => "reason not specified by the bank",
        "RC01" => "bank identifier incorrect",
        "RR01" => "regulatory reason: debtor account or identification missing",
        "RR02" => "regulatory reason: debtor name or address missing",
        "RR03" => "regulatory reason: creditor name or address missing",
        "RR04" => "regulatory reason",
        "SL01" => "specific service of the debtor's bank (e.g. creditor blocked)",
        _ => return None,
    })
}

/// `AM04 (insufficient funds)`, or the bare code when it is not a common one.
pub fn describe_reason_code(code: &str) -> String {
    match reason_code_meaning(code) {
        Some(meaning) => format!("{code} ({meaning})"),
        None => code.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_sepa_codes_have_a_meaning() {
        for code in ["AM04", "MD06", "MS02", "AC04", "MD01", "SL01"] {
            assert!(reason_code_meaning(code).is_some(), "{code}");
        }
        assert_eq!(describe_reason_code("AM04"), "AM04 (insufficient funds)");
        assert_eq!(describe_reason_code("ZZ99"), "ZZ99");
    }
}
