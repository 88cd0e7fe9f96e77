//! Line numbers in the text of a config file, for errors that name the line (strategy
//! configs, feature definitions, limit policies).

/// The 1-based line of the byte at `offset` in `text` (the last line when past the end).
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::line_of;

    #[test]
    fn offsets_map_to_their_lines() {
        let text = "a = 1\nb = 2\n\nc = 3";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 6), 2);
        assert_eq!(line_of(text, 13), 4);
        assert_eq!(line_of(text, 999), 4);
    }
}
