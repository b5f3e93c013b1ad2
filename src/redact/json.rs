//! The JSON pass: one serde_json walk that finds the byte spans of sensitive
//! values, plus small helpers over the bytes of a valid JSON line.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{NameId, Redactor};

/// The span of a sensitive value in the line, and the key it is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub start: usize,
    pub end: usize,
    pub key: NameId,
}

/// `line` as text if it looks like a JSON object or array: first non-blank
/// byte `{` or `[`, and valid UTF-8.
pub(super) fn as_json_text(line: &[u8]) -> Option<&str> {
    let first = line
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))?;
    if *first != b'{' && *first != b'[' {
        return None;
    }
    std::str::from_utf8(line).ok()
}

/// Whether `s` is one valid JSON document (any depth; serde_json skips
/// ignored values iteratively).
pub(super) fn is_valid(s: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}

/// Walks `s` once and pushes the span of every sensitive key's value, in
/// document order. An error (malformed, trailing garbage, deeper than 128)
/// means the line is not handled as JSON.
pub(super) fn sensitive_spans(
    r: &Redactor,
    s: &str,
    spans: &mut Vec<Span>,
) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(s);
    let mut ctx = Ctx {
        r,
        base: s.as_ptr() as usize,
        len: s.len(),
        spans,
    };
    Walk(&mut ctx).deserialize(&mut de)?;
    de.end()
}

struct Ctx<'a, 'r> {
    r: &'r Redactor,
    base: usize,
    len: usize,
    spans: &'a mut Vec<Span>,
}

/// Walks any value; maps are searched for sensitive keys.
struct Walk<'c, 'a, 'r>(&'c mut Ctx<'a, 'r>);

impl<'de> DeserializeSeed<'de> for Walk<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i128<E>(self, _: i128) -> Result<(), E> {
        Ok(())
    }
    fn visit_u128<E>(self, _: u128) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Walk(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed(self.0.r))? {
            match key {
                Some(name) => {
                    let raw: &'de RawValue = map.next_value()?;
                    let text = raw.get();
                    let start = (text.as_ptr() as usize).wrapping_sub(self.0.base);
                    let end = start.wrapping_add(text.len());
                    if start > end || end > self.0.len {
                        return Err(serde::de::Error::custom("raw value outside the input"));
                    }
                    self.0.spans.push(Span {
                        start,
                        end,
                        key: name,
                    });
                }
                None => map.next_value_seed(Walk(&mut *self.0))?,
            }
        }
        Ok(())
    }
}

/// Deserialises a map key (escape-decoded by serde_json; borrowed when it
/// has no escapes, so no allocation) straight into "which configured key".
struct KeySeed<'r>(&'r Redactor);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<NameId>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<NameId>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = Option<NameId>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Option<NameId>, E> {
        Ok(self.0.match_key(v.as_bytes()))
    }
}

/// The content ranges (without the quotes) of the strings of a valid JSON
/// text, in order. Linear, no recursion.
pub(super) fn string_spans(b: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let Some(q) = memchr::memchr(b'"', &b[i..]) else {
            break;
        };
        let start = i + q + 1;
        let mut k = start;
        loop {
            match memchr::memchr2(b'"', b'\\', &b[k.min(b.len())..]) {
                Some(o) if b[k + o] == b'\\' => k += o + 2,
                Some(o) => {
                    k += o;
                    break;
                }
                None => {
                    k = b.len();
                    break;
                }
            }
        }
        let k = k.min(b.len());
        spans.push((start, k));
        i = k + 1;
    }
    spans
}

/// Where a pattern match sits in a valid JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// Inside one string: mask escaped, no quotes.
    InString,
    /// A whole bare number/literal: replace by a JSON string.
    Scalar,
    /// Across structure: masked as is (the line may stop being valid JSON).
    Mixed,
}

fn structural(c: u8) -> bool {
    matches!(
        c,
        b'{' | b'}' | b'[' | b']' | b':' | b',' | b'"' | b' ' | b'\t' | b'\r' | b'\n'
    )
}

/// The escape sequence `[t, t + len)` of string content starting at `cs` that
/// strictly contains position `pos` (i.e. `t < pos < t + len`), if any.
fn escape_around(b: &[u8], cs: usize, pos: usize) -> Option<(usize, usize)> {
    let lo = pos.saturating_sub(5).max(cs);
    for t in (lo..pos).rev() {
        if b[t] != b'\\' {
            continue;
        }
        let mut run = 0;
        let mut u = t;
        while u > cs && b[u - 1] == b'\\' {
            run += 1;
            u -= 1;
        }
        if run % 2 == 0 {
            let len = if b.get(t + 1) == Some(&b'u') { 6 } else { 2 };
            if pos < t + len {
                return Some((t, t + len));
            }
            return None;
        }
    }
    None
}

/// Classifies the match `[s, e)` of a valid JSON text `b` with string content
/// ranges `strings`, widening it so that a mask never splits an escape
/// sequence or a number.
pub(super) fn classify(
    b: &[u8],
    strings: &[(usize, usize)],
    s: usize,
    e: usize,
) -> (usize, usize, Place) {
    // The last string whose content starts at or before s.
    let idx = strings.partition_point(|&(cs, _)| cs <= s);
    if idx > 0 {
        let (cs, ce) = strings[idx - 1];
        if s < ce {
            if e <= ce {
                let s2 = escape_around(b, cs, s).map_or(s, |(t, _)| t);
                let e2 = escape_around(b, cs, e).map_or(e, |(_, end)| end).min(ce);
                return (s2, e2, Place::InString);
            }
            return (s, e, Place::Mixed);
        }
    }
    // Outside strings: a bare token?
    if !structural(b[s]) {
        let mut ts = s;
        while ts > 0 && !structural(b[ts - 1]) {
            ts -= 1;
        }
        let mut te = s;
        while te < b.len() && !structural(b[te]) {
            te += 1;
        }
        if e <= te {
            return (ts, te, Place::Scalar);
        }
    }
    (s, e, Place::Mixed)
}
