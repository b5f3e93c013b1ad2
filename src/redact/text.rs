//! The text rules: `key=value`, `key: value`, quoted keys and values,
//! `"key": {…}`, query strings, `Authorization`/`Cookie` headers.
//!
//! One left-to-right scan over bytes with a bounded look-ahead per quote and
//! iterative bracket matching: linear time, no recursion. On a valid JSON
//! line the scan runs inside each JSON string ("JSON mode": the text is the
//! escaped string content, `\"` is a quote, masks are JSON-escaped and never
//! split an escape sequence, values end at the string's end).

use super::{json, Counts, NameId, Redactor};

/// Longest quoted key looked at (bounds the look-ahead per quote).
const MAX_QUOTED_KEY: usize = 128;

/// Runs the text rules over `b` and appends the result to `out`; records the
/// masks' ranges in `out` (and the copied ranges of `json_prot`, the JSON
/// pass's masks in `b`, which are not scanned again) in `prot`. `json`: `b` is
/// valid JSON and only its strings are scanned. Returns the number of
/// redactions.
pub(super) fn run(
    r: &Redactor,
    b: &[u8],
    json: bool,
    json_prot: &[(usize, usize)],
    out: &mut Vec<u8>,
    prot: &mut Vec<(usize, usize)>,
    counts: &mut Counts,
) -> u64 {
    let mut sc = Scanner {
        r,
        b,
        json,
        out,
        prot,
        counts,
        copied: 0,
        hits: 0,
    };
    if json {
        let mut pi = 0;
        for (cs, ce) in json::string_spans(b) {
            while pi < json_prot.len() && json_prot[pi].1 <= cs {
                pi += 1;
            }
            if pi < json_prot.len() && json_prot[pi].0 < cs {
                let (ps, pe) = json_prot[pi];
                sc.copy_protected(ps, pe);
                continue;
            }
            sc.scan(cs, ce);
        }
    } else {
        sc.scan(0, b.len());
    }
    sc.out.extend_from_slice(&b[sc.copied..]);
    sc.hits
}

fn is_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

fn skip_ws(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// Length of the quote at `i`: `"` or `'` (1), `\"` (2), else 0.
fn quote_len(b: &[u8], i: usize, end: usize) -> usize {
    match b[i] {
        b'"' | b'\'' => 1,
        b'\\' if i + 1 < end && b[i + 1] == b'"' => 2,
        _ => 0,
    }
}

/// Length of a quote escaped more than once at `i`: two or more
/// backslashes, then `"` (`\\\"` is the quote of JSON text held in a JSON
/// string held in a JSON string). [`quote_len`] covers `"` and `\"`.
fn escaped_quote_len(b: &[u8], i: usize, end: usize) -> Option<usize> {
    let n = b[i..end].iter().take_while(|&&c| c == b'\\').count();
    (n >= 2 && i + n < end && b[i + n] == b'"').then_some(n + 1)
}

/// What follows a known authentication scheme word.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// One token (`Bearer abc`, `Basic dXNlcjpw`).
    Token,
    /// Parameters with spaces and commas (`Digest username="a", response="…"`,
    /// `AWS4-HMAC-SHA256 Credential=…, Signature=…`): masked to the end.
    Params,
}

/// A known authentication scheme (IANA's registry and common ones), case
/// insensitive. Only a known word is kept in the clear: any other first word
/// may be the credential itself (`authorization=hunter2`).
fn known_scheme(w: &[u8]) -> Option<Scheme> {
    const TOKEN: &[&[u8]] = &[
        b"basic",
        b"bearer",
        b"token",
        b"negotiate",
        b"ntlm",
        b"dpop",
        b"apikey",
        b"privatetoken",
        b"gnap",
        b"key",
        b"otp",
        b"jwt",
        b"sso",
        b"oauth",
    ];
    const PARAMS: &[&[u8]] = &[
        b"digest",
        b"hoba",
        b"mutual",
        b"vapid",
        b"scram-sha-1",
        b"scram-sha-256",
        b"signature",
        b"hmac",
    ];
    let lower = w.to_ascii_lowercase();
    if TOKEN.contains(&lower.as_slice()) {
        Some(Scheme::Token)
    } else if PARAMS.contains(&lower.as_slice())
        || (lower.starts_with(b"aws4-") && contains(&lower, b"-hmac-"))
    {
        Some(Scheme::Params)
    } else {
        None
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Decodes JSON string escapes (`\uXXXX` incl. surrogate pairs, `\n`, ...).
/// Unknown or truncated escapes are kept as they are.
fn decode_escapes(raw: &[u8]) -> Vec<u8> {
    fn hex4(b: &[u8]) -> Option<u32> {
        let s = std::str::from_utf8(b.get(..4)?).ok()?;
        u32::from_str_radix(s, 16).ok()
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' || i + 1 >= raw.len() {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        let simple = match raw[i + 1] {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'b' => Some(8),
            b'f' => Some(12),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            continue;
        }
        if raw[i + 1] == b'u' {
            if let Some(hi) = hex4(&raw[i + 2..]) {
                let mut used = 6;
                let mut cp = hi;
                if (0xd800..0xdc00).contains(&hi) && raw.get(i + 6..i + 8) == Some(b"\\u") {
                    if let Some(lo) = hex4(&raw[i + 8..]).filter(|lo| (0xdc00..0xe000).contains(lo))
                    {
                        cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                        used = 12;
                    }
                }
                let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                let mut tmp = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                i += used;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Header {
    Auth,
    Cookie,
}

struct Scanner<'s> {
    r: &'s Redactor,
    b: &'s [u8],
    json: bool,
    out: &'s mut Vec<u8>,
    prot: &'s mut Vec<(usize, usize)>,
    counts: &'s mut Counts,
    /// Bytes of `b` before this are in `out` already.
    copied: usize,
    hits: u64,
}

impl Scanner<'_> {
    fn copy_protected(&mut self, ps: usize, pe: usize) {
        self.out.extend_from_slice(&self.b[self.copied..ps]);
        let s = self.out.len();
        self.out.extend_from_slice(&self.b[ps..pe]);
        self.prot.push((s, self.out.len()));
        self.copied = pe;
    }

    fn emit(&mut self, ms: usize, me: usize, name: NameId) {
        self.out.extend_from_slice(&self.b[self.copied..ms]);
        let s = self.out.len();
        self.r.push_mask(&self.b[ms..me], self.json, self.out);
        self.prot.push((s, self.out.len()));
        self.copied = me;
        self.r.count(self.counts, name);
        self.hits += 1;
    }

    /// Scans `b[start..end]`.
    fn scan(&mut self, start: usize, end: usize) {
        let b = self.b;
        let mut i = start;
        while i < end {
            let c = b[i];
            if is_key_byte(c) {
                let mut j = i + 1;
                while j < end && is_key_byte(b[j]) {
                    j += 1;
                }
                i = self.try_key(&b[i..j], j, end, false).unwrap_or(j);
                continue;
            }
            let ql = quote_len(b, i, end);
            if ql == 0 {
                i += 1;
                continue;
            }
            if let Some(close) = self.key_close(i, ql, end) {
                let raw = &b[i + ql..close];
                let next = if raw.contains(&b'\\') {
                    let mut name = decode_escapes(raw);
                    if name.contains(&b'\\') {
                        // Escaped JSON inside a JSON string: escaped twice.
                        name = decode_escapes(&name);
                    }
                    self.try_quoted_key(&name, close + ql, end)
                } else {
                    self.try_quoted_key(raw, close + ql, end)
                };
                if let Some(n) = next {
                    i = n;
                    continue;
                }
            }
            i += ql;
        }
    }

    /// The closing quote of a quoted key opened at `i` (quote length `ql`),
    /// looking at most `MAX_QUOTED_KEY` bytes ahead.
    fn key_close(&self, i: usize, ql: usize, end: usize) -> Option<usize> {
        let b = self.b;
        let q = b[i + ql - 1];
        let lim = (i + ql + MAX_QUOTED_KEY).min(end);
        let mut k = i + ql;
        while k < lim {
            let c = b[k];
            if c == b'\\' {
                if ql == 2 && k + 1 < end && b[k + 1] == b'"' {
                    return Some(k);
                }
                k += 2;
                continue;
            }
            if ql == 1 && c == q {
                return Some(k);
            }
            k += 1;
        }
        None
    }

    /// A quoted key: not one if it holds a quote, `=` or `:`. Such "keys"
    /// are the text between two unrelated quotes (`msg="a b" password='x":
    /// y'` would pair `b"` with the quote inside the secret and take
    /// `" password='x"` for a key, masking only ` y`); the scan then goes on
    /// inside them and finds the real key.
    fn try_quoted_key(&mut self, name: &[u8], after: usize, end: usize) -> Option<usize> {
        if name.iter().any(|c| matches!(c, b'"' | b'\'' | b'=' | b':')) {
            return None;
        }
        self.try_key(name, after, end, true)
    }

    /// `name` (decoded) ends at `after`; if a separator and a value follow and
    /// the name is sensitive, masks the value and returns where to go on.
    fn try_key(&mut self, name: &[u8], after: usize, end: usize, quoted: bool) -> Option<usize> {
        let b = self.b;
        let mut p = skip_ws(b, after, end);
        if p >= end || (b[p] != b'=' && b[p] != b':') {
            return None;
        }
        let sep = b[p];
        p = skip_ws(b, p + 1, end);
        if p >= end {
            return None;
        }
        let mut stack = [0u8; 64];
        let heap;
        let folded: &[u8] = if name.len() <= stack.len() {
            let mut n = 0;
            for &c in name {
                if c != b'_' && c != b'-' {
                    stack[n] = c.to_ascii_lowercase();
                    n += 1;
                }
            }
            &stack[..n]
        } else {
            heap = super::fold(name);
            &heap
        };
        let key = self.r.match_name(name, folded);
        let header = if contains(folded, b"authorization") {
            Some(Header::Auth)
        } else if contains(folded, b"cookie") {
            Some(Header::Cookie)
        } else {
            None
        };
        let header_name = match header {
            Some(Header::Auth) => self.r.auth_name,
            Some(Header::Cookie) => self.r.cookie_name,
            None => 0,
        };
        let name_id = match (key, header) {
            (Some(k), _) => k,
            (None, Some(_)) => header_name,
            (None, None) => return None,
        };
        let c = b[p];
        let (ms, me, next, id) = if quote_len(b, p, end) > 0 {
            let (ms, me, next) = self.quoted_value(p, end);
            (ms, me, next, name_id)
        } else if let Some(ql) = escaped_quote_len(b, p, end) {
            // Escaped JSON inside escaped JSON (`\\\"v\\\"` in a JSON string):
            // the value runs to the same run of backslashes and quote.
            let q = &b[p..p + ql];
            match memchr::memmem::find(&b[p + ql..end], q) {
                Some(i) => (p + ql, p + ql + i, p + 2 * ql + i, name_id),
                None => (p + ql, end, end, name_id),
            }
        } else if c == b'{' || c == b'[' {
            let e = self.bracket_end(p, end);
            (p, e, e, name_id)
        } else if header.is_some() && sep == b':' {
            // A header: the value runs to the end of the line (of the JSON
            // string in JSON mode). Authorization keeps a known scheme word.
            let mut ms = p;
            if header == Some(Header::Auth) {
                let mut w = p;
                while w < end && !is_ws(b[w]) {
                    w += 1;
                }
                let q = skip_ws(b, w, end);
                if known_scheme(&b[p..w]).is_some() && q > w && q < end {
                    ms = q;
                }
            }
            (ms, end, end, header_name)
        } else if header == Some(Header::Auth) {
            // authorization=Bearer xyz, authorization=AWS4-HMAC-SHA256
            // Credential=…, Signature=…, authorization=hunter2.
            let w = self.unquoted_end(p, end, quoted);
            let q = skip_ws(b, w, end);
            let more = q > w && q < end;
            match known_scheme(&b[p..w]) {
                Some(Scheme::Params) if more => (q, end, end, header_name),
                Some(Scheme::Token) if more && self.unquoted_end(q, end, quoted) > q => {
                    let e = self.unquoted_end(q, end, quoted);
                    (q, e, e, header_name)
                }
                Some(_) => (p, w, w, header_name),
                None => {
                    // An unknown first word is the credential, or an
                    // unknown scheme before it: take the next word too.
                    // That may be a field of its own (`hunter user=bob`),
                    // but it cannot be told from a credential (`MyScheme
                    // dXNlcg==`, fuzzing found one), so it fails closed.
                    let e = if more {
                        self.unquoted_end(q, end, quoted)
                    } else {
                        q
                    };
                    if more && e > q {
                        (p, e, e, header_name)
                    } else {
                        (p, w, w, header_name)
                    }
                }
            }
        } else {
            let e = self.unquoted_end(p, end, quoted);
            (p, e, e, name_id)
        };
        if ms >= me {
            return None;
        }
        self.emit(ms, me, id);
        Some(next)
    }

    /// End of an unquoted value starting at `p`.
    fn unquoted_end(&self, p: usize, end: usize, quoted_key: bool) -> usize {
        let b = self.b;
        let mut k = p;
        while k < end {
            match b[k] {
                c if is_ws(c) => break,
                b'"' | b'\'' | b'&' | b',' | b';' => break,
                b'}' | b']' if quoted_key => break,
                b'\\' => {
                    // Keep whole escape sequences in the value; an escaped
                    // quote or whitespace ends it. In text mode too: a JSON
                    // line too deep to walk gets the text rules, and
                    // `password=LEAK\u0000KAEL` there must not end at the
                    // backslash (fuzzing found it).
                    match b.get(k + 1) {
                        None | Some(b'"' | b'n' | b't' | b'r') => break,
                        Some(b'u') => k += 6,
                        Some(_) => k += 2,
                    }
                }
                _ => k += 1,
            }
        }
        k.min(end)
    }

    /// A quoted value at `p`: (content start, content end, after the closing
    /// quote). Unterminated: to `end`.
    fn quoted_value(&self, p: usize, end: usize) -> (usize, usize, usize) {
        let b = self.b;
        if quote_len(b, p, end) == 2 {
            let mut k = p + 2;
            while k < end {
                if b[k] == b'\\' {
                    if k + 1 < end && b[k + 1] == b'"' {
                        return (p + 2, k, k + 2);
                    }
                    k += 2;
                    continue;
                }
                k += 1;
            }
            return (p + 2, end, end);
        }
        let q = b[p];
        let mut k = p + 1;
        while k < end {
            let c = b[k];
            if c == b'\\' {
                k += 2;
                continue;
            }
            if c == q {
                return (p + 1, k, k + 1);
            }
            k += 1;
        }
        (p + 1, end, end)
    }

    /// One character of the text at `k`: in JSON mode escapes are decoded
    /// (only `"` and `\` matter here). Returns (char, length).
    fn char_at(&self, k: usize) -> (u8, usize) {
        let b = self.b;
        if self.json && b[k] == b'\\' {
            match b.get(k + 1) {
                Some(b'"') => (b'"', 2),
                Some(b'\\') => (b'\\', 2),
                Some(b'u') => (b'x', 6),
                _ => (b'x', 2),
            }
        } else {
            (b[k], 1)
        }
    }

    /// End of the object/array starting at `p` (iterative bracket matching
    /// that skips strings). Unterminated: `end`.
    fn bracket_end(&self, p: usize, end: usize) -> usize {
        let mut depth = 0usize;
        let mut in_str = false;
        let mut k = p;
        while k < end {
            let (c, len) = self.char_at(k);
            k += len;
            if in_str {
                if c == b'\\' {
                    if k < end {
                        k += self.char_at(k).1;
                    }
                } else if c == b'"' {
                    in_str = false;
                }
                continue;
            }
            match c {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return k.min(end);
                    }
                }
                _ => {}
            }
        }
        end
    }
}
