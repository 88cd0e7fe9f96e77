//! Reading remittance text: the places in a free text (or a structured reference that
//! named nothing) that may name an invoice, as people write them.
//!
//! A text is cut into tokens at white space and punctuation (dashes, dots and slashes stay:
//! they occur inside invoice numbers). Each token is tried whole as an invoice number
//! (normalised: upper case, without dashes and dots), then its slash-separated parts. The
//! digits are read too, for numbers written loosely: another or no prefix (`nr 0000123`,
//! `IN-0000123`), spaces inside (`INV-000 0123`: digit runs split only by white space are
//! joined), leading zeros dropped (`INV-123`). A number is compared by its *digit core*:
//! its digits without leading zeros. One-edit typos of a core are the matcher's business
//! (`typos`).

use crate::references::normalize_reference;

/// Characters that separate tokens. Dashes, dots and slashes are kept: they occur inside
/// invoice numbers.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | ';' | ':' | '(' | ')' | '[' | ']' | '#' | '"' | '\'' | '+' | '*' | '|'
        )
}

/// One token of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    /// The token as written.
    pub(crate) raw: &'a str,
    /// Only white space separates it from the previous token.
    pub(crate) after_space: bool,
}

/// The tokens of a text, in order.
pub(crate) fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut gap_is_space = true;
    let mut after_gap_space = false;
    for (i, c) in text.char_indices() {
        if is_separator(c) {
            if let Some(s) = start.take() {
                out.push(Token {
                    raw: &text[s..i],
                    after_space: after_gap_space,
                });
                gap_is_space = true;
            }
            if !c.is_whitespace() {
                gap_is_space = false;
            }
        } else if start.is_none() {
            start = Some(i);
            after_gap_space = !out.is_empty() && gap_is_space;
        }
    }
    if let Some(s) = start {
        out.push(Token {
            raw: &text[s..],
            after_space: after_gap_space,
        });
    }
    out
}

/// Normalised forms of a token to try as an exact invoice number: the token, then (when
/// it holds slashes) each slash-separated part.
pub(crate) fn exact_keys(raw: &str) -> impl Iterator<Item = String> + '_ {
    let whole = std::iter::once(normalize_reference(raw));
    let parts = raw
        .contains('/')
        .then(|| raw.split('/').map(normalize_reference))
        .into_iter()
        .flatten();
    whole.chain(parts).filter(|k| !k.is_empty())
}

/// The digits of `s` without leading zeros (`INV-0000123` → `123`); empty when it has no
/// digit other than zeros.
pub fn digit_core(s: &str) -> String {
    digit_core_key(s).into_string()
}

/// [`digit_core`] as a key, built in place (no heap for up to 24 digits): gathered on
/// the stack and copied once, rather than pushed character by character (every invoice
/// issued indexes its core).
pub(crate) fn digit_core_key(s: &str) -> crate::index::Key {
    let mut digits = s
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|b| *b == b'0');
    let mut buf = [0_u8; 24];
    let mut len = 0;
    for b in digits.by_ref() {
        if len == buf.len() {
            // Longer than a key holds in place: the rest joins it on the heap.
            let mut key = crate::index::Key::from(std::str::from_utf8(&buf).unwrap_or_default());
            key.push(char::from(b));
            key.extend(digits.map(char::from));
            return key;
        }
        buf[len] = b;
        len += 1;
    }
    // ASCII digits only: always UTF-8.
    crate::index::Key::from(std::str::from_utf8(&buf[..len]).unwrap_or_default())
}

/// Digits of a text that may be one invoice number: a run of digits, or runs in
/// consecutive tokens split only by white space (`000 0123`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DigitGroup {
    /// Index of the first token it comes from.
    pub(crate) first_token: usize,
    /// Index of the last token it comes from.
    pub(crate) last_token: usize,
    /// The runs, in order (one or more).
    pub(crate) runs: Vec<String>,
}

impl DigitGroup {
    /// The core of the joined runs.
    pub(crate) fn joined_core(&self) -> String {
        digit_core(&self.runs.concat())
    }

    /// Readings to try, best first: the joined runs, then (for a group of several runs)
    /// each run on its own. Empty cores are left out.
    pub(crate) fn readings(&self) -> Vec<String> {
        let mut out = vec![self.joined_core()];
        if self.runs.len() > 1 {
            out.extend(self.runs.iter().map(|r| digit_core(r)));
        }
        out.retain(|c| !c.is_empty());
        out
    }
}

/// The digit groups of `tokens`, in order. A token whose last character is a digit joins
/// the next token when that one follows after white space only and starts with a digit.
pub(crate) fn digit_groups(tokens: &[Token<'_>]) -> Vec<DigitGroup> {
    let mut groups: Vec<DigitGroup> = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        let runs: Vec<&str> = token
            .raw
            .split(|c: char| !c.is_ascii_digit())
            .filter(|r| !r.is_empty())
            .collect();
        if runs.is_empty() {
            continue;
        }
        let starts_with_digit = token.raw.starts_with(|c: char| c.is_ascii_digit());
        let mut runs = runs.into_iter();
        if let Some(previous) = groups.last_mut()
            && token.after_space
            && starts_with_digit
            && previous.last_token + 1 == index
            && tokens[previous.last_token]
                .raw
                .ends_with(|c: char| c.is_ascii_digit())
            && let Some(first) = runs.next()
        {
            previous.runs.push(first.to_owned());
            previous.last_token = index;
        }
        for run in runs {
            groups.push(DigitGroup {
                first_token: index,
                last_token: index,
                runs: vec![run.to_owned()],
            });
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(t: &[Token<'a>]) -> Vec<&'a str> {
        t.iter().map(|t| t.raw).collect()
    }

    #[test]
    fn tokens_split_on_separators_and_know_what_was_between() {
        let t = tokens("Payment: inv-000123, INV 7; (ref#x.y) 2025/01");
        assert_eq!(
            raw(&t),
            ["Payment", "inv-000123", "INV", "7", "ref", "x.y", "2025/01"]
        );
        let spaced: Vec<bool> = t.iter().map(|t| t.after_space).collect();
        assert_eq!(spaced, [false, false, false, true, false, false, false]);
    }

    #[test]
    fn exact_keys_try_the_token_then_its_slash_parts() {
        let keys: Vec<String> = exact_keys("INV-0000074/inv-0000485").collect();
        assert_eq!(keys, ["INV0000074/INV0000485", "INV0000074", "INV0000485"]);
        assert_eq!(exact_keys("inv-7").collect::<Vec<_>>(), ["INV7"]);
    }

    #[test]
    fn digit_core_drops_prefix_separators_and_leading_zeros() {
        assert_eq!(digit_core("INV-0000123"), "123");
        assert_eq!(digit_core("Inv.nr. 000 0123"), "123");
        assert_eq!(digit_core("0000"), "");
        assert_eq!(digit_core("RE 1020"), "1020");
        assert_eq!(digit_core(""), "");
    }

    #[test]
    fn digit_cores_longer_than_a_key_holds_in_place_keep_every_digit() {
        for digits in [23, 24, 25, 40] {
            let core: String = (0..digits)
                .map(|i| char::from(b'1' + (i % 9) as u8))
                .collect();
            // Digits in runs of 7 split by dashes, as a long number might be written.
            let runs: Vec<_> = core
                .as_bytes()
                .chunks(7)
                .map(String::from_utf8_lossy)
                .collect();
            let number = format!("INV-000{}", runs.join("-"));
            assert_eq!(digit_core(&number), core, "{number}");
        }
    }

    fn groups(text: &str) -> Vec<Vec<String>> {
        digit_groups(&tokens(text))
            .into_iter()
            .map(|g| g.runs)
            .collect()
    }

    #[test]
    fn digits_split_by_a_space_are_joined_and_other_separators_are_not() {
        assert_eq!(groups("INV-001 2345"), [["001", "2345"]]);
        assert_eq!(groups("INV - 0000123"), [["0000123"]]);
        assert_eq!(
            groups("INV-0000074 INV-0000485"),
            [["0000074"], ["0000485"]]
        );
        assert_eq!(groups("74, 485"), [["74"], ["485"]]);
        assert_eq!(groups("2025-01-31"), [["2025"], ["01"], ["31"]]);
        assert_eq!(groups("Betaling"), Vec::<Vec<String>>::new());
    }

    #[test]
    fn readings_try_the_joined_number_first_then_each_part() {
        let g = &digit_groups(&tokens("INV-001 2345"))[0];
        assert_eq!(g.readings(), ["12345", "1", "2345"]);
        let g = &digit_groups(&tokens("INV-000 0123"))[0];
        assert_eq!(g.readings(), ["123", "123"]);
    }
}
