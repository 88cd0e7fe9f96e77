//! A small element tree built with quick-xml, for the camt reader.
//!
//! Elements are kept by their local name (namespace prefixes dropped), with their
//! attributes, their own text and the line they start on, so the camt reader can walk
//! paths such as `Ntry/NtryDtls/TxDtls` and name lines in its errors. Entities: the five
//! predefined ones and character references; no DTD, no external entities (nothing is
//! ever fetched). Nesting deeper than [`MAX_DEPTH`] is refused (camt needs about 12).

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::error::StatementError;
use crate::source::LineIndex;

/// Deepest nesting accepted.
pub(crate) const MAX_DEPTH: usize = 64;

/// One XML element.
#[derive(Debug, Default)]
pub(crate) struct Element {
    /// Local name (`Ntry`, not `camt:Ntry`).
    pub(crate) name: String,
    /// Attributes: full key as written, unescaped value.
    attributes: Vec<(String, String)>,
    /// The element's own text (character data directly inside it), not trimmed.
    text: String,
    /// Child elements in document order.
    pub(crate) children: Vec<Element>,
    /// Line of the start tag.
    pub(crate) line: usize,
}

impl Element {
    /// The first child called `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child called `name`.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at a path of first children.
    pub(crate) fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |e, name| e.child(name))
    }

    /// The trimmed text, `None` when empty.
    pub(crate) fn text(&self) -> Option<&str> {
        let t = self.text.trim();
        (!t.is_empty()).then_some(t)
    }

    /// The trimmed text of the element at `path`.
    pub(crate) fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path)?.text()
    }

    /// An attribute by its local name.
    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name || k.rsplit(':').next() == Some(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a whole document into its root element.
pub(crate) fn parse(text: &str, lines: &LineIndex) -> Result<Element, StatementError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let error = |pos: u64, detail: String| {
        let (line, column) = lines.line_column(text, usize::try_from(pos).unwrap_or(usize::MAX));
        StatementError::Xml {
            line,
            column,
            detail,
        }
    };
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| error(reader.error_position(), e.to_string()))?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(error(
                        pos,
                        format!("elements nested deeper than {MAX_DEPTH}"),
                    ));
                }
                stack.push(element(
                    &start,
                    &reader,
                    lines.line(to_usize(pos)),
                    &error,
                    pos,
                )?);
            }
            Event::Empty(start) => {
                let el = element(&start, &reader, lines.line(to_usize(pos)), &error, pos)?;
                attach(&mut stack, &mut root, el).map_err(|d| error(pos, d))?;
            }
            Event::End(_) => {
                // quick-xml has checked that the end tag matches the open one.
                let el = stack
                    .pop()
                    .ok_or_else(|| error(pos, "end tag without a start tag".to_owned()))?;
                attach(&mut stack, &mut root, el).map_err(|d| error(pos, d))?;
            }
            Event::Text(t) => {
                let t = t.decode().map_err(|e| error(pos, e.to_string()))?;
                push_text(&mut stack, &t).map_err(|d| error(pos, d))?;
            }
            Event::CData(t) => {
                let t = t.decode().map_err(|e| error(pos, e.to_string()))?;
                push_text(&mut stack, &t).map_err(|d| error(pos, d))?;
            }
            Event::GeneralRef(r) => {
                let c = match r
                    .resolve_char_ref()
                    .map_err(|e| error(pos, e.to_string()))?
                {
                    Some(c) => c,
                    None => {
                        let name = r.decode().map_err(|e| error(pos, e.to_string()))?;
                        predefined_entity(&name)
                            .ok_or_else(|| error(pos, format!("unknown entity `&{name};`")))?
                    }
                };
                push_text(&mut stack, c.encode_utf8(&mut [0; 4])).map_err(|d| error(pos, d))?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(error(
            text.len() as u64,
            format!(
                "the file ends inside <{}> opened on line {} (cut off?)",
                open.name, open.line
            ),
        ));
    }
    root.ok_or_else(|| error(text.len() as u64, "no root element".to_owned()))
}

fn to_usize(pos: u64) -> usize {
    usize::try_from(pos).unwrap_or(usize::MAX)
}

fn element(
    start: &BytesStart<'_>,
    reader: &Reader<&[u8]>,
    line: usize,
    error: &impl Fn(u64, String) -> StatementError,
    pos: u64,
) -> Result<Element, StatementError> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| error(pos, format!("<{name}>: {e}")))?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr
            .decode_and_unescape_value(reader.decoder())
            .map_err(|e| error(pos, format!("<{name}> attribute {key}: {e}")))?;
        attributes.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        attributes,
        line,
        ..Element::default()
    })
}

/// Puts a finished element into its parent, or makes it the root.
fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => return Err(format!("a second root element <{}>", el.name)),
    }
    Ok(())
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(el) => el.text.push_str(text),
        None if text.trim().is_empty() => {}
        None => return Err("text outside the root element".to_owned()),
    }
    Ok(())
}

fn predefined_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Result<Element, StatementError> {
        parse(text, &LineIndex::new(text))
    }

    #[test]
    fn elements_keep_local_names_text_attributes_and_lines() {
        let root = doc("<a:Doc xmlns:a='u'>\n <a:Amt Ccy=\"EUR\">1&amp;2&#x41;</a:Amt>\n</a:Doc>")
            .unwrap();
        assert_eq!(root.name, "Doc");
        let amt = root.child("Amt").unwrap();
        assert_eq!(amt.text(), Some("1&2A"));
        assert_eq!(amt.attribute("Ccy"), Some("EUR"));
        assert_eq!(amt.line, 2);
    }

    #[test]
    fn a_cut_off_document_names_the_open_element_and_the_last_line() {
        let err = doc("<Doc>\n<Stmt>\n<Ntry>\n<Amt>1").unwrap_err();
        match err {
            StatementError::Xml { line, detail, .. } => {
                assert_eq!(line, 4);
                assert!(detail.contains("<Amt> opened on line 4"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mismatched_tags_and_unknown_entities_are_errors_with_lines() {
        let err = doc("<Doc>\n<A></B>\n</Doc>").unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
        let err = doc("<Doc>\n<A>&nbsp;</A>\n</Doc>").unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(doc(&deep).is_err());
    }
}
