//! Field names as the key rules see them: folded (ASCII-lowercase, `_` and
//! `-` deleted), split into words, and cut into segments (for the short
//! keys that count only as a whole segment: `DB_PASS`, not `passenger`).

/// Whether `b[s..e]` is a whole segment of the word around it (see
/// [`has_segment`]): no letter continues it on either side, except across
/// a lower-to-upper case change.
pub(super) fn segment_at(b: &[u8], s: usize, e: usize) -> bool {
    let left = s == 0 || {
        let (p, c) = (b[s - 1], b[s]);
        !p.is_ascii_alphabetic() || (p.is_ascii_lowercase() && c.is_ascii_uppercase())
    };
    let right = e >= b.len() || {
        let (p, c) = (b[e - 1], b[e]);
        !c.is_ascii_alphabetic() || (p.is_ascii_lowercase() && c.is_ascii_uppercase())
    };
    left && right
}

/// Whether one of `name`'s segments (split at bytes that are not letters or
/// digits, at lower-to-upper case changes and between letters and digits)
/// is `seg` (lowercase), ignoring case.
pub(super) fn has_segment(name: &[u8], seg: &[u8]) -> bool {
    let n = name.len();
    let mut start = 0;
    for i in 0..=n {
        let cut = if i == n || !name[i].is_ascii_alphanumeric() {
            true
        } else if i > start {
            let (p, c) = (name[i - 1], name[i]);
            (p.is_ascii_lowercase() && c.is_ascii_uppercase())
                || p.is_ascii_alphabetic() != c.is_ascii_alphabetic()
        } else {
            false
        };
        if cut {
            if name[start..i].eq_ignore_ascii_case(seg) {
                return true;
            }
            start = if i < n && !name[i].is_ascii_alphanumeric() {
                i + 1
            } else {
                i
            };
        }
    }
    false
}

/// Folds a field name: ASCII-lowercase, `_` and `-` deleted.
pub(super) fn fold_into(name: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(
        name.iter()
            .filter(|&&b| b != b'_' && b != b'-')
            .map(|b| b.to_ascii_lowercase()),
    );
}

pub(super) fn fold(name: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(name.len());
    fold_into(name, &mut v);
    v
}

/// Splits a key into its words: on `_`, `-` and lower→upper camel boundaries.
pub(super) fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in key.split(['_', '-']) {
        let mut cur = String::new();
        let mut prev_lower = false;
        for ch in part.chars() {
            if ch.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
            cur.push(ch.to_ascii_lowercase());
        }
        if !cur.is_empty() {
            words.push(cur);
        }
    }
    words
}
