//! The MT940 `:86:` field ("information to account owner") of one entry.
//!
//! Two layouts:
//! - **German structured** (ZKA/DFÜ): a three-digit GVC (business transaction code), then
//!   sub-fields introduced by a separator (`?`) and two digits: `?00` booking text, `?10`
//!   primanota, `?20`–`?29` and `?60`–`?63` purpose, `?30` bank code/BIC, `?31` account/IBAN,
//!   `?32`–`?33` name, `?38` IBAN. Lines are wrapped anywhere (even inside `?2` `5`), so
//!   they are joined without a separator before splitting; the purpose sub-fields are one
//!   text cut into 27-character pieces, so they are joined without a separator too.
//! - **Free text**: lines joined (without a space where a line was cut at the 65-character
//!   limit), blank lines dropped, runs of spaces collapsed. A first line `<IBAN> <name>`
//!   (ASN Bank) gives the counterparty.
//!
//! In both, the SEPA keywords `EREF+` (end-to-end id), `KREF+`, `MREF+` (mandate),
//! `CRED+`, `DEBT+`, `SVWZ+` (remittance text), `ABWA+`, `ABWE+`, `IBAN+`, `BIC+`,
//! `OAMT+` (original amount), `COAM+`, `PURP+` split the purpose text into its parts.

use rust_decimal::Decimal;

use crate::amount;
use crate::identifiers;

/// SEPA keywords in German purpose texts.
const KEYWORDS: &[&str] = &[
    "EREF+", "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+", "IBAN+", "BIC+",
    "OAMT+", "COAM+", "PURP+",
];

/// Longest line of a SWIFT text field; a line this long was cut, not ended.
const SWIFT_LINE: usize = 65;

/// What an `:86:` says about its entry.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Details {
    /// German GVC (`051`, `109`, ...).
    pub(crate) gvc: Option<String>,
    /// `?00` booking text (`SEPA-LASTSCHR. RETOURE CORE`).
    pub(crate) booking_text: Option<String>,
    /// Remittance text: `SVWZ+`, else the free text.
    pub(crate) remittance_text: Option<String>,
    /// `EREF+`.
    pub(crate) end_to_end_id: Option<String>,
    /// `MREF+`.
    pub(crate) mandate_id: Option<String>,
    /// `OAMT+` (original amount of a return).
    pub(crate) original_amount: Option<Decimal>,
    /// `?32?33` (or the ASN first line).
    pub(crate) name: Option<String>,
    /// `?31` (or `?38`) as written.
    pub(crate) account: Option<String>,
    /// `?30`.
    pub(crate) bic: Option<String>,
    /// The whole text, for return reason codes and RF references.
    pub(crate) full_text: String,
}

/// Reads the lines of one `:86:` field (the text after the tag, then its continuation
/// lines).
pub(crate) fn parse(lines: &[&str]) -> Details {
    let joined: String = lines.concat();
    match structured_separator(&joined) {
        Some(sep) => structured(&joined, sep),
        None => free_text(lines),
    }
}

/// The separator of a German structured `:86:` (`051?00...`): the character after the
/// three-digit GVC, when two digits follow it.
fn structured_separator(text: &str) -> Option<char> {
    let b = text.as_bytes();
    let structured = b.len() >= 6
        && b[..3].iter().all(u8::is_ascii_digit)
        && !b[3].is_ascii_alphanumeric()
        && !b[3].is_ascii_whitespace()
        && b[3].is_ascii()
        && b[4..6].iter().all(u8::is_ascii_digit);
    structured.then(|| char::from(b[3]))
}

fn structured(text: &str, sep: char) -> Details {
    let mut details = Details {
        gvc: Some(text[..3].to_owned()),
        full_text: text.to_owned(),
        ..Details::default()
    };
    let fields = subfields(&text[3..], sep);
    let get = |codes: &[u8]| -> Option<String> {
        let joined: String = fields
            .iter()
            .filter(|(c, _)| codes.contains(c))
            .map(|(_, v)| v.as_str())
            .collect();
        let joined = joined.trim();
        (!joined.is_empty()).then(|| joined.to_owned())
    };
    details.booking_text = get(&[0]);
    details.name = get(&[32, 33]);
    details.account = get(&[31]).or_else(|| get(&[38]));
    if let Some(iban38) = get(&[38]).and_then(|v| identifiers::iban(&v))
        && details
            .account
            .as_deref()
            .and_then(identifiers::iban)
            .is_none()
    {
        details.account = Some(iban38);
    }
    details.bic = get(&[30]);
    // The purpose pieces, with where each starts (a keyword may start a piece right after
    // the end of the previous one, without a space).
    let mut purpose = String::new();
    let mut starts = Vec::new();
    for (code, value) in &fields {
        if (20..=29).contains(code) || (60..=63).contains(code) {
            starts.push(purpose.len());
            purpose.push_str(value);
        }
    }
    apply_keywords(&mut details, &purpose, &starts);
    details
}

/// `?NN` sub-fields in order (a code given twice keeps both pieces).
fn subfields(text: &str, sep: char) -> Vec<(u8, String)> {
    let mut fields: Vec<(u8, String)> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(sep) {
        let after = &rest[i + sep.len_utf8()..];
        let code = after
            .get(..2)
            .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| c.parse::<u8>().ok());
        match code {
            Some(code) => {
                let body = &after[2..];
                let end = next_subfield(body, sep).unwrap_or(body.len());
                fields.push((code, body[..end].to_owned()));
                rest = &body[end..];
            }
            None => {
                // A separator in the text itself: part of the previous sub-field.
                if let Some(last) = fields.last_mut() {
                    last.1.push(sep);
                }
                rest = after;
            }
        }
    }
    fields
}

fn next_subfield(text: &str, sep: char) -> Option<usize> {
    text.match_indices(sep).map(|(i, _)| i).find(|&i| {
        text[i + sep.len_utf8()..]
            .get(..2)
            .is_some_and(|c| c.bytes().all(|b| b.is_ascii_digit()))
    })
}

fn free_text(lines: &[&str]) -> Details {
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty())
        .collect();
    let mut details = Details::default();
    let mut body: &[&str] = &lines;
    // ASN Bank: the first line is the counterparty's IBAN and name.
    if let Some(first) = lines.first()
        && let Some((head, name)) = first.split_once(' ')
        && let Some(iban) = identifiers::iban(head)
        && head.len() == iban.len()
        && !name.trim().is_empty()
    {
        details.account = Some(iban);
        details.name = Some(collapse(name));
        body = &lines[1..];
    }
    let mut text = String::new();
    let mut cut = false;
    for line in body {
        if !text.is_empty() && !cut {
            text.push(' ');
        }
        text.push_str(line);
        cut = line.chars().count() >= SWIFT_LINE;
    }
    let text = collapse(&text);
    details.full_text = lines.join(" ");
    apply_keywords(&mut details, &text, &[]);
    details
}

/// Splits `purpose` at the SEPA keywords and fills the details; without keywords the
/// whole text is the remittance text. A keyword counts at the start, after white space
/// or at a sub-field start (`starts`).
fn apply_keywords(details: &mut Details, purpose: &str, starts: &[usize]) {
    let mut found: Vec<(usize, &str)> = Vec::new();
    for key in KEYWORDS {
        for (i, _) in purpose.match_indices(key) {
            let boundary =
                i == 0 || starts.contains(&i) || purpose[..i].ends_with(char::is_whitespace);
            if boundary {
                found.push((i, key));
            }
        }
    }
    found.sort_unstable();
    let prefix = found.first().map_or(purpose, |(i, _)| &purpose[..*i]);
    let mut svwz = None;
    for (n, (i, key)) in found.iter().enumerate() {
        let end = found.get(n + 1).map_or(purpose.len(), |(j, _)| *j);
        let value = purpose[i + key.len()..end].trim();
        let value = (!value.is_empty()).then(|| value.to_owned());
        match *key {
            "EREF+" => details.end_to_end_id = identifiers::provided(value.as_deref()),
            "MREF+" => details.mandate_id = value,
            "SVWZ+" => svwz = value,
            "OAMT+" => {
                details.original_amount = value.and_then(|v| amount::parse_swift(&v).ok());
            }
            _ => {}
        }
    }
    let prefix = prefix.trim();
    details.remittance_text = svwz.or_else(|| (!prefix.is_empty()).then(|| prefix.to_owned()));
    if details.full_text.is_empty() {
        details.full_text = purpose.to_owned();
    }
}

/// Runs of white space as one space, trimmed.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sub_fields_split_even_when_a_line_break_cuts_the_separator() {
        let d = parse(&[
            "109?00SEPA-LASTSCHR. RETOURE CORE?109075/629?20EREF+A1.200080779.",
            "400143254?21.4961336 KREF+SEPA-DA202006?2201221740-34972000-P1 MR",
            "EF+2?230852HW2723821 CRED+DE41EON0?240000129793 OAMT+11,85 SVWZ+?",
            "25SONSTIGE GRUENDE ENDABRECHN?26UNG NR. 500106875 ZU VERTRA?2740",
            "0143254, KUNDENNUM MER 2?2802227779?30CSDBDE71XXX?31DE50712345600",
            "200691329?32TESTER?33EL",
        ]);
        assert_eq!(d.gvc.as_deref(), Some("109"));
        assert_eq!(
            d.booking_text.as_deref(),
            Some("SEPA-LASTSCHR. RETOURE CORE")
        );
        assert_eq!(
            d.end_to_end_id.as_deref(),
            Some("A1.200080779.400143254.4961336")
        );
        assert_eq!(d.mandate_id.as_deref(), Some("20852HW2723821"));
        assert_eq!(d.original_amount, Some(Decimal::new(1185, 2)));
        assert_eq!(
            d.remittance_text.as_deref(),
            Some(
                "SONSTIGE GRUENDE ENDABRECHNUNG NR. 500106875 ZU VERTRA400143254, KUNDENNUM MER 202227779"
            )
        );
        assert_eq!(d.name.as_deref(), Some("TESTEREL"));
        assert_eq!(d.account.as_deref(), Some("DE50712345600200691329"));
        assert_eq!(d.bic.as_deref(), Some("CSDBDE71XXX"));
    }

    #[test]
    fn keywords_count_at_sub_field_starts_without_a_space() {
        let d = parse(&[
            "835?20Cie., S.C.A.?21SEPA-BASISLASTSCHRIFT?22EREF+ 1234567890123 PAYPAL?23MREF+ 12AB234CD6E7F CRED+ A?24B12CDE0000000000000000034 S?25VWZ+ . SPOTIFY, Ihr Einkauf?26bei SPOTIFY?32PayPal (Europe) S.a.r.l. et",
        ]);
        assert_eq!(d.end_to_end_id.as_deref(), Some("1234567890123 PAYPAL"));
        assert_eq!(d.mandate_id.as_deref(), Some("12AB234CD6E7F"));
        assert_eq!(
            d.remittance_text.as_deref(),
            Some(". SPOTIFY, Ihr Einkaufbei SPOTIFY")
        );
    }

    #[test]
    fn free_text_joins_lines_and_reads_an_asn_counterparty() {
        let d = parse(&[
            "NL25INGB9999999999 transfer solutions bv",
            "",
            "2020-01-28T14:32:46-000000000000089-NL25INGB9999999999-Transfer S",
            "olutions BV-DIVIDEND 28/01/2020",
        ]);
        assert_eq!(d.account.as_deref(), Some("NL25INGB9999999999"));
        assert_eq!(d.name.as_deref(), Some("transfer solutions bv"));
        assert_eq!(
            d.remittance_text.as_deref(),
            Some(
                "2020-01-28T14:32:46-000000000000089-NL25INGB9999999999-Transfer Solutions BV-DIVIDEND 28/01/2020"
            )
        );
        let d = parse(&["GIRO   428428 KPN BV", "INCL. 1,20 BTW"]);
        assert_eq!(d.name, None);
        assert_eq!(
            d.remittance_text.as_deref(),
            Some("GIRO 428428 KPN BV INCL. 1,20 BTW")
        );
    }
}
