//! One-edit typos of invoice numbers, compared by their digit cores: a digit replaced,
//! two neighbours swapped, a digit left out or one too many (optimal string alignment
//! distance 1).
//!
//! The matcher uses [`within_one_edit`] against the few open items of a known payer, and
//! [`one_edit_variants`] to look an unknown payer's number up in the index of digit
//! cores: every core within one edit, so a typo costs a bounded number of index lookups
//! (about 20 per digit) and never a scan over the items.

/// Whether `a` and `b` differ by at most one substitution, adjacent transposition,
/// insertion or deletion.
pub fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.len() - short.len() {
        0 => {
            let Some(first) = (0..a.len()).find(|&i| a[i] != b[i]) else {
                return true;
            };
            let last = (0..a.len()).rev().find(|&i| a[i] != b[i]).unwrap_or(first);
            first == last || (last == first + 1 && a[first] == b[last] && a[last] == b[first])
        }
        1 => {
            let skip = (0..short.len())
                .find(|&i| short[i] != long[i])
                .unwrap_or(short.len());
            short[skip..] == long[skip + 1..]
        }
        _ => false,
    }
}

/// Every digit core within one edit of `core` (a non-empty string of digits without
/// leading zeros), without `core` itself; sorted and without duplicates. The same
/// relation as [`within_one_edit`]: `c` is in the list exactly when
/// `within_one_edit(core, c)`.
pub fn one_edit_variants(core: &str) -> Vec<String> {
    let bytes = core.as_bytes();
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(bytes.len() * 20 + 10);
    for i in 0..bytes.len() {
        // Deletion.
        let mut v = bytes.to_vec();
        v.remove(i);
        out.push(v);
        // Substitution.
        for d in b'0'..=b'9' {
            if d != bytes[i] {
                let mut v = bytes.to_vec();
                v[i] = d;
                out.push(v);
            }
        }
        // Transposition.
        if i + 1 < bytes.len() && bytes[i] != bytes[i + 1] {
            let mut v = bytes.to_vec();
            v.swap(i, i + 1);
            out.push(v);
        }
    }
    // Insertion.
    for i in 0..=bytes.len() {
        for d in b'0'..=b'9' {
            let mut v = bytes.to_vec();
            v.insert(i, d);
            out.push(v);
        }
    }
    let mut cores: Vec<String> = out
        .into_iter()
        .map(|v| {
            let start = v.iter().position(|b| *b != b'0').unwrap_or(v.len());
            String::from_utf8_lossy(&v[start..]).into_owned()
        })
        .filter(|c| !c.is_empty() && c != core && within_one_edit(c.as_bytes(), bytes))
        .collect();
    cores.sort_unstable();
    cores.dedup();
    cores
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(a: &str, b: &str) -> bool {
        within_one_edit(a.as_bytes(), b.as_bytes())
    }

    #[test]
    fn one_edit_covers_replace_swap_insert_delete() {
        assert!(one("123", "123"));
        assert!(one("123", "124"));
        assert!(one("123", "132"));
        assert!(one("123", "1023"));
        assert!(one("1023", "123"));
        assert!(one("123", "12"));
        assert!(one("123", "23"));
        assert!(!one("123", "321"));
        assert!(!one("123", "1245"));
        assert!(!one("1234", "2143"));
        assert!(!one("123", "145"));
    }

    #[test]
    fn variants_are_exactly_the_cores_within_one_edit() {
        let variants = one_edit_variants("123");
        assert!(variants.contains(&"132".to_owned()));
        assert!(variants.contains(&"1023".to_owned()));
        assert!(variants.contains(&"23".to_owned()));
        assert!(!variants.contains(&"123".to_owned()));
        // Brute force over all cores up to five digits.
        for core in ["123", "1005", "7", "90"] {
            let variants = one_edit_variants(core);
            for n in 1..100_000_u32 {
                let c = n.to_string();
                let expected = c != core && one(core, &c);
                assert_eq!(variants.binary_search(&c).is_ok(), expected, "{core} {c}");
            }
        }
    }
}
