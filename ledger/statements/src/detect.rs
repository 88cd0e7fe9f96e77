//! Which format a file is in, from its content (never from its name).
//!
//! - XML whose message element (the child of `<Document>`, or the root itself) is
//!   `BkToCstmrStmt` is camt.053, `BkToCstmrDbtCdtNtfctn` camt.054; the namespace is not
//!   needed (any version, any prefix), but when it is an ISO 20022 one its version is kept.
//! - Text with the MT940 field `:20:` and a balance or `:61:` is MT940, with or without
//!   SWIFT block headers; an MT942 interim report (`:34F:`, `:13D:`) is not.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde::Serialize;

use crate::source;

/// The statement formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Format {
    /// ISO 20022 camt.053 bank-to-customer statement (`BkToCstmrStmt`).
    Camt053,
    /// ISO 20022 camt.054 debit/credit notification (`BkToCstmrDbtCdtNtfctn`).
    Camt054,
    /// SWIFT MT940 customer statement.
    Mt940,
}

impl Format {
    /// A short name for messages (`camt.053`, `camt.054`, `MT940`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Camt053 => "camt.053",
            Format::Camt054 => "camt.054",
            Format::Mt940 => "MT940",
        }
    }
}

/// The format of a file, or `None` when it is none of those this crate reads.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let bytes = source::strip_bom(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first == b'<' {
        // The message element is near the start: a file that is not UTF-8 further on is
        // still recognised (and refused by the reader with the line of the bad byte).
        sniff_xml(utf8_prefix(bytes)).map(|(format, _)| format)
    } else if looks_like_mt940(&source::utf8_or_latin1(bytes)) {
        Some(Format::Mt940)
    } else {
        None
    }
}

/// What a file that is not a statement looks like, for the error message.
pub(crate) fn describe(bytes: &[u8]) -> String {
    let bytes = source::strip_bom(bytes);
    let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) else {
        return "the file is empty".to_owned();
    };
    if *first != b'<' {
        return "neither XML nor MT940 (no :20: field with a balance or :61: after it)".to_owned();
    }
    let mut reader = Reader::from_str(utf8_prefix(bytes));
    let mut names = Vec::new();
    while names.len() < 2 {
        match reader.read_event() {
            Ok(Event::Start(s) | Event::Empty(s)) => {
                names.push(String::from_utf8_lossy(s.local_name().as_ref()).into_owned());
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    match names.as_slice() {
        [] => "XML without elements".to_owned(),
        [root, ..] if root != "Document" => {
            format!("XML whose root is <{root}>, not a camt.053/camt.054 message")
        }
        [_, message, ..] => format!(
            "an ISO 20022 <Document> with <{message}>, not <BkToCstmrStmt> (camt.053) or <BkToCstmrDbtCdtNtfctn> (camt.054)"
        ),
        [_] => "an empty <Document>".to_owned(),
    }
}

/// The longest UTF-8 prefix of the bytes.
fn utf8_prefix(bytes: &[u8]) -> &str {
    match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    }
}

/// The camt message element name for a format.
pub(crate) fn message_element(format: Format) -> Option<&'static str> {
    match format {
        Format::Camt053 => Some("BkToCstmrStmt"),
        Format::Camt054 => Some("BkToCstmrDbtCdtNtfctn"),
        Format::Mt940 => None,
    }
}

/// Reads the first start tags of an XML text: the camt format, and the version named by the
/// default namespace (`urn:iso:std:iso:20022:tech:xsd:camt.053.001.02` → `camt.053.001.02`).
pub(crate) fn sniff_xml(text: &str) -> Option<(Format, Option<String>)> {
    let mut reader = Reader::from_str(text);
    let mut version = None;
    // The message element is the root or the root's first child: two start tags at most.
    for _ in 0..2 {
        let start = loop {
            match reader.read_event().ok()? {
                Event::Start(s) | Event::Empty(s) => break s,
                Event::Eof => return None,
                _ => {}
            }
        };
        for attr in start.attributes().flatten() {
            if attr.key.as_ref() == b"xmlns"
                && let Ok(ns) = attr.decode_and_unescape_value(reader.decoder())
            {
                version = version.or_else(|| iso_version(&ns));
            }
        }
        let format = match start.local_name().as_ref() {
            b"BkToCstmrStmt" => Some(Format::Camt053),
            b"BkToCstmrDbtCdtNtfctn" => Some(Format::Camt054),
            b"Document" => None,
            _ => return None,
        };
        if let Some(format) = format {
            return Some((format, version));
        }
    }
    None
}

/// `camt.05x.001.0y` from an ISO 20022 namespace.
fn iso_version(namespace: &str) -> Option<String> {
    let last = namespace.rsplit(':').next()?;
    last.starts_with("camt.").then(|| last.to_owned())
}

/// Whether the text has the fields every MT940 message has: `:20:` and a balance or
/// entry (a missing `:25:` is for the reader to report, with its line).
fn looks_like_mt940(text: &str) -> bool {
    let (mut reference, mut body) = (false, false);
    for line in text.lines() {
        // A message may start on the line of its SWIFT block headers (`{1:...}{4:`).
        let line = line.rsplit_once("{4:").map_or(line, |(_, rest)| rest);
        let line = line.trim_start();
        if line.starts_with(":34F:") || line.starts_with(":13D:") || line.starts_with(":13:") {
            return false; // MT942 interim transaction report
        }
        reference |= line.starts_with(":20:");
        body |= [":60F:", ":60M:", ":61:", ":62F:", ":62M:"]
            .iter()
            .any(|t| line.starts_with(t));
    }
    reference && body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camt_is_recognised_with_or_without_document_and_namespace() {
        let v2 = r#"<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt/></Document>"#;
        assert_eq!(
            sniff_xml(v2),
            Some((Format::Camt053, Some("camt.053.001.02".into())))
        );
        assert_eq!(
            detect(b"<n:BkToCstmrDbtCdtNtfctn xmlns:n='x'/>"),
            Some(Format::Camt054)
        );
        assert_eq!(detect(b"<Document><pain.001/></Document>"), None);
        assert_eq!(detect(b"<html><body/></html>"), None);
    }

    #[test]
    fn mt940_needs_its_fields_and_mt942_is_not_mt940() {
        let mt940 = ":20:X\n:25:NL00BANK0123456789\n:28C:1\n:60F:C200101EUR1,00\n-";
        assert_eq!(detect(mt940.as_bytes()), Some(Format::Mt940));
        let mt942 = ":20:X\n:25:NL00BANK0123456789\n:34F:EUR0,\n:13D:2001011200+0100\n:61:200101C1,NMSCNONREF\n-";
        assert_eq!(detect(mt942.as_bytes()), None);
        assert_eq!(detect(b"Date;Amount\n2020-01-01;1.00\n"), None);
        assert_eq!(detect(b""), None);
    }
}
