//! The input as text: byte-order mark, character decoding and line numbers.
//!
//! Every error this crate reports names a 1-based line of the file, so positions (byte
//! offsets into the decoded text) are turned into lines here.

use std::borrow::Cow;

/// The UTF-8 byte-order mark some exporters write in front of the file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The bytes without a leading UTF-8 byte-order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// Strict UTF-8 (ISO 20022 messages are UTF-8): on failure, the line of the first byte that
/// is not UTF-8 and what is wrong.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, (usize, String)> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        (
            line,
            format!("byte {at} is not UTF-8 (the file must be UTF-8 encoded)"),
        )
    })
}

/// UTF-8 when the bytes are UTF-8, otherwise ISO 8859-1 (every byte one character), the
/// code page German and Dutch banks use for MT940 exports.
pub(crate) fn utf8_or_latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// Byte offset → line (and column) lookup for one text.
pub(crate) struct LineIndex {
    /// Byte offset at which each line starts; the first is 0.
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text` (a line ends at `\n`; a `\r` before it is part of
    /// the line break, not of a new line).
    pub(crate) fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    /// The 1-based line holding byte `pos` (a position past the end is on the last line).
    pub(crate) fn line(&self, pos: usize) -> usize {
        match self.starts.binary_search(&pos) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// The 1-based line and column (in characters) of byte `pos` of `text`.
    pub(crate) fn line_column(&self, text: &str, pos: usize) -> (usize, usize) {
        let line = self.line(pos);
        let start = self.starts[line - 1];
        let end = pos.min(text.len());
        let column = text
            .get(start..end)
            .map_or(end.saturating_sub(start), |s| s.chars().count());
        (line, column + 1)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let text = "ab\r\ncd\nef";
        let index = LineIndex::new(text);
        assert_eq!(index.line(0), 1);
        assert_eq!(index.line(3), 1, "the \\n ends line 1");
        assert_eq!(index.line(4), 2);
        assert_eq!(index.line(7), 3);
        assert_eq!(index.line(100), 3);
        assert_eq!(index.line_column(text, 5), (2, 2));
    }

    #[test]
    fn latin1_is_the_fallback_for_bytes_that_are_not_utf8() {
        assert_eq!(utf8_or_latin1(b"M\xfcller"), "Müller");
        assert_eq!(utf8_or_latin1("Müller".as_bytes()), "Müller");
        assert_eq!(utf8(b"a\nb\xff").unwrap_err().0, 2);
    }
}
