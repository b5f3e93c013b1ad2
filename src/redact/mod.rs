//! Secret redaction for log lines.
//!
//! `logwarden` ships application logs somewhere else; before a line leaves
//! the host, this module masks what looks like a credential in it. A
//! [`Redactor`] is built once per configuration ([`Redact`])
//! and then applied to every line with [`Redactor::redact`]; it is `Send +
//! Sync` and keeps no state between lines.
//!
//! # What is masked
//!
//! * **Sensitive keys.** A field name is sensitive when its *folded* form
//!   (ASCII-lowercased, `_` and `-` deleted) contains the folded form of a
//!   configured key: with `api_key` configured, `X-Api-Key`, `apiKey` and
//!   `db_API_KEY_2` all match. Like Sentry's scrubber this errs on the side of
//!   masking too much.
//! * **JSON lines** (first non-blank byte `{` or `[`, valid UTF-8, parses) are
//!   scanned once with `serde_json` (keys escape-decoded) and the *span* of
//!   every sensitive key's value — string, number, bool, null, object or
//!   array — is replaced by the mask as a JSON string. Nothing is
//!   re-serialised: every other byte of the line is kept as it was, so the
//!   output is the same JSON with the same spacing, key order, number
//!   spellings and duplicate keys. The text rules then run inside every JSON
//!   string, which catches `"msg":"login password=hunter2"` and escaped JSON
//!   inside strings, and keep the line valid JSON.
//! * **Text rules** (every line that is not valid JSON, and inside JSON
//!   strings): `key=value`, `key: value`, `key='v'`, `"key": "v"`,
//!   `"key": {…}`, URL query parameters, `Authorization:`/
//!   `Proxy-Authorization:` headers (the scheme word is kept) and `Cookie:`/
//!   `Set-Cookie:` headers (the whole value is masked).
//! * **Patterns**: every match of each `redact.patterns` regex, counted as
//!   `pattern:<index>`.
//!
//! # Why it looks like this
//!
//! * *Fail closed.* A line that starts like JSON but does not parse
//!   (truncated by a cut, malformed, invalid UTF-8, nested deeper than
//!   serde_json's limit of 128) still gets the text rules, which also
//!   understand `"key": value`. A secret never passes because a parser
//!   failed.
//! * *Bytes, not strings.* Logs are not always UTF-8. Everything works on
//!   `&[u8]` (`regex::bytes`, `memchr`) and never converts lossily, so bytes
//!   that are not redacted come out exactly as they went in.
//! * *Linear time, no recursion* in the text rules: a line of 100,000 `{`
//!   must not blow the stack or take quadratic time. (The JSON pass recurses,
//!   but serde_json stops it at depth 128 and the line falls back to the
//!   text rules.)
//! * *Fast path.* Most log lines contain no secret. One pass of the
//!   literal finder (`literals`: ASCII case-insensitive, every occurrence,
//!   a hashed 3-byte window per position) over the line looks for
//!   the words of the configured keys (each key split on `_`, `-` and
//!   camel-case boundaries, plus the folded key), `\u` (an escaped key),
//!   `authorization` and `cookie`, and at the same time for the value
//!   detectors' anchors ([`detect`]). A line is sent to the JSON/text passes
//!   only when it holds every word of at least one key (or the folded key,
//!   or one of the three always-needles; a key of four letters or fewer
//!   counts only as a whole segment of a word); a line whose anchors all
//!   fail their checks, or that has none, is copied through untouched
//!   (patterns, if configured, are still checked with one `RegexSet` pass).
//! * **Value detectors** ([`detect`]): secrets recognised by their shape
//!   (provider token formats, URL credentials, JWTs, PEM private keys, FIX
//!   passwords), whatever key they sit under; masked with the patterns'
//!   JSON-aware placement. A private key over several lines is masked by
//!   [`Redactor::redact_carry`] through the stream's [`Carry`].
//!
//! # Known limitations
//!
//! * A separator inside a configured word (`pass_word`, `pass-word` with
//!   `password` configured) folds to a match, but the prefilter does not see
//!   the word `password` in it: such a key is masked only when the line also
//!   qualifies for the slow path some other way (another key, `\u`, ...).
//! * The text rules are heuristics over free text: they mask too much rather
//!   than too little (`Cookie:` masks to the end of the line or of the JSON
//!   string; an unterminated quoted value is masked to the end of the line).
//! * The `RegexSet` prefilter for patterns is built from each pattern's
//!   `as_str()`, so flags must be inline (`(?i)…`), not set with a
//!   `RegexBuilder`.
//! * A pattern match that spans JSON structure (e.g. across `":"`) is masked
//!   as raw text, which can make a JSON line invalid; matches inside one JSON
//!   string or one JSON number/literal keep the line valid.
//! * Header rules (`Authorization`, `Cookie`) are always on in the text
//!   rules; in the JSON pass only configured keys are used.

pub mod detect;
mod filter;
mod json;
mod literals;
mod names;
mod salt;
mod settings;
mod text;

thread_local! {
    /// The first pass's literal occurrences, reused from line to line.
    static FOUND: std::cell::RefCell<Vec<literals::Found>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use memchr::memmem;
use sha2::{Digest, Sha256};

pub use filter::{filter, filter_with};
use names::{fold, fold_into, has_segment, key_words, segment_at};
pub use salt::load_or_create_salt;
pub use settings::{Mask, Redact, DEFAULT_KEYS};

/// Per-line statistics, summed with [`Counts::add`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Lines seen.
    pub lines: u64,
    /// Lines with at least one redaction.
    pub redacted_lines: u64,
    /// Lines cut for length (filled by [`filter`]/the tailer, not by `redact`).
    pub cut_lines: u64,
    /// Redactions per configured key (as configured, e.g. `api_key`), per
    /// pattern as `pattern:<index>`, and `authorization`/`cookie` for the
    /// header rules.
    pub by_key: BTreeMap<String, u64>,
}

impl Counts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counts) {
        self.lines += other.lines;
        self.redacted_lines += other.redacted_lines;
        self.cut_lines += other.cut_lines;
        for (k, v) in &other.by_key {
            self.bump(k, *v);
        }
    }

    fn bump(&mut self, name: &str, n: u64) {
        match self.by_key.get_mut(name) {
            Some(v) => *v += n,
            None => {
                self.by_key.insert(name.to_string(), n);
            }
        }
    }
}

/// A configured key, folded, with the prefilter needles that announce it.
#[derive(Debug)]
struct Key {
    /// Index into `Redactor::names`.
    name: usize,
    finder: memmem::Finder<'static>,
    /// Needle id of the folded key.
    folded_needle: usize,
    /// Needle ids of the key's words.
    word_needles: Vec<usize>,
    /// Matched only as a whole segment of a name (short keys).
    segment: bool,
}

/// Which rule produced a redaction; the index into `Redactor::names`.
type NameId = usize;

/// The redaction engine, built once per configuration. See the module docs.
#[derive(Debug)]
pub struct Redactor {
    /// Count names: the configured keys, then `authorization`, `cookie`,
    /// then `pattern:<i>`.
    names: Vec<String>,
    keys: Vec<Key>,
    auth_name: NameId,
    cookie_name: NameId,
    pattern_names: Vec<NameId>,
    prefilter: literals::Literals,
    needle_count: usize,
    /// Needles that send a line to the slow path on their own.
    always_needles: Vec<usize>,
    /// By needle id: the needle is a segment key's, and counts only where
    /// it is a whole segment of a word ("pass" in `DB_PASS`, not `passed`).
    segment_needles: Vec<bool>,
    patterns: Vec<regex::bytes::Regex>,
    pattern_set: Option<regex::bytes::RegexSet>,
    /// The value detectors, and each rule's count name (by rule index).
    detectors: detect::Detectors,
    detector_names: Vec<NameId>,
    /// Whether the multi-line private-key state is kept (`private-key` on).
    pem_blocks: bool,
    pem_name: NameId,
    pem_begin: memmem::Finder<'static>,
    pem_end: memmem::Finder<'static>,
    mask: Mask,
    salt: [u8; 32],
    /// Mask text as is (text rules outside JSON).
    mask_plain: Vec<u8>,
    /// Mask text escaped for the inside of a JSON string.
    mask_json: Vec<u8>,
}

/// Escapes `s` for the inside of a JSON string.
fn json_escape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{:04x}", b).as_bytes()),
            _ => out.push(b),
        }
    }
    out
}

impl Redactor {
    /// Builds the engine for `cfg`. `salt` is used only for [`Mask::Sha256`].
    pub fn new(cfg: &Redact, salt: [u8; 32]) -> Redactor {
        let mut names: Vec<String> = Vec::new();
        let mut needles: Vec<String> = Vec::new();
        let mut needle_id = |s: &str| -> usize {
            match needles.iter().position(|n| n == s) {
                Some(i) => i,
                None => {
                    needles.push(s.to_string());
                    needles.len() - 1
                }
            }
        };
        let mut keys = Vec::new();
        for k in &cfg.keys {
            let folded = fold(k.as_bytes());
            if folded.is_empty() {
                // An empty key would match every field name; ignore it.
                continue;
            }
            let folded_str = String::from_utf8_lossy(&folded).into_owned();
            let folded_needle = needle_id(&folded_str);
            let word_needles = key_words(k).iter().map(|w| needle_id(w)).collect();
            let name = match names.iter().position(|n| n == k) {
                Some(i) => i,
                None => {
                    names.push(k.clone());
                    names.len() - 1
                }
            };
            keys.push(Key {
                name,
                segment: folded.len() <= 4,
                finder: memmem::Finder::new(&folded).into_owned(),
                folded_needle,
                word_needles,
            });
        }
        let always_needles = vec![
            needle_id("\\u"),
            needle_id("authorization"),
            needle_id("cookie"),
        ];
        let needle_count = needles.len();
        let mut segment_needles = vec![false; needle_count];
        for k in keys.iter().filter(|k| k.segment) {
            segment_needles[k.folded_needle] = true;
        }
        let mut name_id = |s: String| -> NameId {
            match names.iter().position(|n| *n == s) {
                Some(i) => i,
                None => {
                    names.push(s);
                    names.len() - 1
                }
            }
        };
        let auth_name = name_id("authorization".to_string());
        let cookie_name = name_id("cookie".to_string());
        let pattern_names = (0..cfg.patterns.len())
            .map(|i| name_id(format!("pattern:{i}")))
            .collect();
        let detector_names = detect::RULES
            .iter()
            .map(|r| name_id(r.id.to_string()))
            .collect();
        let pem_blocks = cfg.detectors && !cfg.disable.iter().any(|d| d == detect::PEM_ID);
        let pem_name = name_id(detect::PEM_ID.to_string());
        let detectors = detect::Detectors::new(cfg.detectors, &cfg.disable);
        // One automaton for the first pass over every line: the key needles
        // (ids below `needle_count`), then the detectors' anchors.
        let first: Vec<Vec<u8>> = needles
            .iter()
            .map(|n| n.as_bytes().to_vec())
            .chain(detectors.anchors().map(<[u8]>::to_vec))
            .collect();
        let prefilter = literals::Literals::new(&first);
        let pattern_set = if cfg.patterns.is_empty() {
            None
        } else {
            regex::bytes::RegexSet::new(cfg.patterns.iter().map(|r| r.as_str())).ok()
        };
        let mask_plain = match &cfg.mask {
            Mask::Text(t) => t.as_bytes().to_vec(),
            Mask::Sha256 => Vec::new(),
        };
        let mask_json = json_escape(&mask_plain);
        Redactor {
            names,
            keys,
            auth_name,
            cookie_name,
            pattern_names,
            prefilter,
            needle_count,
            always_needles,
            segment_needles,
            patterns: cfg.patterns.clone(),
            pattern_set,
            detectors,
            detector_names,
            pem_blocks,
            pem_name,
            pem_begin: memmem::Finder::new(b"-----BEGIN").into_owned(),
            pem_end: memmem::Finder::new(b"-----END").into_owned(),
            mask: cfg.mask.clone(),
            salt,
            mask_plain,
            mask_json,
        }
    }

    /// Redacts one line (without its `'\n'`; any bytes) and appends the result
    /// (without `'\n'`) to `out`. Adds to `counts`. Each line on its own: a
    /// private key spread over lines is masked only by [`Redactor::redact_carry`].
    pub fn redact(&self, line: &[u8], out: &mut Vec<u8>, counts: &mut Counts) {
        self.redact_line(line, out, counts);
    }

    /// [`Redactor::redact`] for one line of a stream (a tailed file, stdin):
    /// `carry` is the stream's state between lines. After a line that opens a
    /// `-----BEGIN … PRIVATE KEY-----` block and does not close it, every
    /// line up to and including the one with `-----END` is masked (at most
    /// [`PEM_MAX_LINES`]; a block still open then is closed with a marker
    /// that says so).
    pub fn redact_carry(
        &self,
        carry: &mut Carry,
        line: &[u8],
        out: &mut Vec<u8>,
        counts: &mut Counts,
    ) {
        if carry.pem_lines > 0 {
            self.pem_body(carry, line, out, counts);
            return;
        }
        self.redact_line(line, out, counts);
        if self.pem_blocks && self.opens_pem_block(line) {
            carry.pem_lines = 1;
        }
    }

    /// A line inside a private-key block.
    fn pem_body(&self, carry: &mut Carry, line: &[u8], out: &mut Vec<u8>, counts: &mut Counts) {
        counts.lines += 1;
        counts.redacted_lines += 1;
        self.count(counts, self.pem_name);
        match self.pem_end.find(line) {
            Some(i) => {
                if i > 0 {
                    self.push_mask(&line[..i], false, out);
                }
                out.extend_from_slice(&line[i..]);
                carry.pem_lines = 0;
            }
            None if carry.pem_lines >= PEM_MAX_LINES => {
                self.push_mask(line, false, out);
                out.extend_from_slice(
                    format!(" [logwarden: private key block not closed within {PEM_MAX_LINES} lines; masking stopped]")
                        .as_bytes(),
                );
                carry.pem_lines = 0;
            }
            None => {
                self.push_mask(line, false, out);
                carry.pem_lines += 1;
            }
        }
    }

    /// Whether `line` opens a private-key block it does not close (a line
    /// that is valid JSON never does: its string was masked whole).
    fn opens_pem_block(&self, line: &[u8]) -> bool {
        let mut from = 0;
        let mut open = false;
        while let Some(i) = self.pem_begin.find(&line[from..]) {
            let s = from + i;
            if let Some(h) = detect::pem_header_end(line, s) {
                open = self.pem_end.find(&line[h..]).is_none();
            }
            from = s + 10;
        }
        open && !json::as_json_text(line).is_some_and(json::is_valid)
    }

    fn redact_line(&self, line: &[u8], out: &mut Vec<u8>, counts: &mut Counts) {
        counts.lines += 1;
        // Detector hits on the line as it is; after a key pass, on its output.
        let mut found = Vec::new();
        let keys = self.first_pass(line, &mut found);
        let pats = self.needs_pattern_pass(line);
        if !keys {
            if !pats && found.is_empty() {
                out.extend_from_slice(line);
                return;
            }
        } else {
            found.clear();
        }
        let mut hits = 0u64;
        let mut json_ok = false;
        let mut stage = Vec::new();
        let mut prot = Vec::new();
        let buf: &[u8] = if keys {
            let mut spliced = Vec::new();
            let mut json_prot = Vec::new();
            if let Some(s) = json::as_json_text(line) {
                let mut spans = Vec::new();
                if json::sensitive_spans(self, s, &mut spans).is_ok() {
                    json_ok = true;
                    hits += self.splice(line, &spans, &mut spliced, &mut json_prot, counts);
                }
            }
            let input: &[u8] = if json_ok { &spliced } else { line };
            stage.reserve(input.len() + 16);
            hits += text::run(
                self, input, json_ok, &json_prot, &mut stage, &mut prot, counts,
            );
            self.detectors.scan(&stage, &mut found);
            &stage
        } else {
            line
        };
        if pats || !found.is_empty() {
            if !keys {
                // Where masks go depends on whether the line is JSON.
                json_ok = json::as_json_text(line).is_some_and(json::is_valid);
            }
            hits += self.apply_spans(buf, &prot, json_ok, pats, &found, out, counts);
        } else {
            out.extend_from_slice(buf);
        }
        if hits > 0 {
            counts.redacted_lines += 1;
        }
    }

    /// The first pass over a line, one overlapping scan of one automaton:
    /// whether the line can hold a sensitive key or header at all (it holds
    /// every word of a key, or its folded form, or an always-needle), and
    /// the detectors' hits in it.
    fn first_pass(&self, line: &[u8], hits: &mut Vec<detect::Hit>) -> bool {
        let n = self.needle_count;
        let mut small: u128 = 0;
        let mut big = if n > 128 { vec![false; n] } else { Vec::new() };
        let mut always = false;
        let mut any = false;
        let mut covered = (0, 0);
        // Reused line after line (a line with any literal would otherwise
        // allocate); a nested use finds it taken and starts a new one.
        let mut found = FOUND.with(std::cell::RefCell::take);
        found.clear();
        self.prefilter.find_all(line, &mut found);
        for &m in &found {
            let id = m.id;
            if id >= n {
                // An anchor starting inside a span already to be masked adds
                // nothing (and a line of repeated anchors stays linear).
                if !(covered.0 + 1..covered.1).contains(&m.start) {
                    if let Some(h) = self.detectors.check(id - n, line, m.start, m.end) {
                        if h.end > covered.1 {
                            covered = (h.start, h.end);
                        }
                        hits.push(h);
                    }
                }
                continue;
            }
            if always {
                continue;
            }
            if self.always_needles.contains(&id) {
                always = true;
                continue;
            }
            if self.segment_needles[id] && !segment_at(line, m.start, m.end) {
                continue;
            }
            any = true;
            if n > 128 {
                big[id] = true;
            } else {
                small |= 1 << id;
            }
        }
        FOUND.with(|c| c.replace(found));
        hits.sort_unstable_by_key(|h| (h.start, h.end));
        if always {
            return true;
        }
        if !any {
            return false;
        }
        let seen = |id: usize| {
            if n > 128 {
                big[id]
            } else {
                small & (1 << id) != 0
            }
        };
        self.keys
            .iter()
            .any(|k| seen(k.folded_needle) || k.word_needles.iter().all(|&w| seen(w)))
    }

    /// Whether a value detector's anchor occurs in `line` (only such a line,
    /// or one with a key word or a pattern match, can change).
    pub fn has_detector_anchor(&self, line: &[u8]) -> bool {
        self.detectors.any_anchor(line)
    }

    fn needs_pattern_pass(&self, line: &[u8]) -> bool {
        match &self.pattern_set {
            Some(set) => set.is_match(line),
            None => self.patterns.iter().any(|p| p.is_match(line)),
        }
    }

    /// The configured key (its count name) that a field name matches, if any:
    /// the first in configuration order whose fold the name's fold contains.
    fn match_key(&self, name: &[u8]) -> Option<NameId> {
        let mut stack = [0u8; 64];
        let mut heap = Vec::new();
        let folded: &[u8] = if name.len() <= stack.len() {
            let mut n = 0;
            for &b in name {
                if b != b'_' && b != b'-' {
                    stack[n] = b.to_ascii_lowercase();
                    n += 1;
                }
            }
            &stack[..n]
        } else {
            fold_into(name, &mut heap);
            &heap
        };
        self.match_name(name, folded)
    }

    /// The first key `name` (whose fold is `folded`) matches: a key of four
    /// letters or fewer (`pass`, `pwd`, `dsn`) only as a whole segment of the
    /// name (`db_pass`, `dbPass`, `MYSQL_PWD`, not `passenger`, `bypass`),
    /// a longer one anywhere in the fold.
    fn match_name(&self, name: &[u8], folded: &[u8]) -> Option<NameId> {
        self.keys
            .iter()
            .find(|k| {
                if k.segment {
                    has_segment(name, k.finder.needle())
                } else {
                    k.finder.find(folded).is_some()
                }
            })
            .map(|k| k.name)
    }

    fn count(&self, counts: &mut Counts, name: NameId) {
        counts.bump(&self.names[name], 1);
    }

    /// `sha256:` + the first 16 hex digits of SHA-256(salt ‖ value).
    fn push_hash(&self, value: &[u8], out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(value);
        let d = h.finalize();
        out.extend_from_slice(b"sha256:");
        for b in &d[..8] {
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 15) as usize]);
        }
    }

    /// Appends the mask for `value` without quotes; `json`: escaped for the
    /// inside of a JSON string.
    fn push_mask(&self, value: &[u8], json: bool, out: &mut Vec<u8>) {
        match self.mask {
            Mask::Sha256 => self.push_hash(value, out),
            Mask::Text(_) if json => out.extend_from_slice(&self.mask_json),
            Mask::Text(_) => out.extend_from_slice(&self.mask_plain),
        }
    }

    /// Appends the mask for a JSON value span as a JSON string.
    fn push_json_mask(&self, raw: &[u8], out: &mut Vec<u8>) {
        let value = match raw {
            [b'"', inner @ .., b'"'] => inner,
            _ => raw,
        };
        out.push(b'"');
        self.push_mask(value, true, out);
        out.push(b'"');
    }

    /// Replaces the JSON value spans by the mask. Records the masks' ranges in
    /// `out` in `prot`. Returns the number of redactions.
    fn splice(
        &self,
        line: &[u8],
        spans: &[json::Span],
        out: &mut Vec<u8>,
        prot: &mut Vec<(usize, usize)>,
        counts: &mut Counts,
    ) -> u64 {
        out.reserve(line.len() + 16 * spans.len());
        let mut last = 0;
        for sp in spans {
            out.extend_from_slice(&line[last..sp.start]);
            let s = out.len();
            self.push_json_mask(&line[sp.start..sp.end], out);
            prot.push((s, out.len()));
            self.count(counts, sp.key);
            last = sp.end;
        }
        out.extend_from_slice(&line[last..]);
        spans.len() as u64
    }

    /// Masks every match of every pattern (`pats`) and every detector hit
    /// (`found`, in `buf`) in `buf`, except those wholly inside an earlier mask
    /// (`prot`), and appends the result to `out`.
    #[allow(clippy::too_many_arguments)]
    fn apply_spans(
        &self,
        buf: &[u8],
        prot: &[(usize, usize)],
        json_ok: bool,
        pats: bool,
        found: &[detect::Hit],
        out: &mut Vec<u8>,
        counts: &mut Counts,
    ) -> u64 {
        // (start, end, count name)
        let mut ms: Vec<(usize, usize, NameId)> = Vec::new();
        let inside = |s: usize, e: usize| prot.iter().any(|&(ps, pe)| ps <= s && e <= pe);
        if pats {
            let which: Vec<usize> = match &self.pattern_set {
                Some(set) => set.matches(buf).into_iter().collect(),
                None => (0..self.patterns.len()).collect(),
            };
            for i in which {
                for m in self.patterns[i].find_iter(buf) {
                    if !m.is_empty() && !inside(m.start(), m.end()) {
                        ms.push((m.start(), m.end(), self.pattern_names[i]));
                    }
                }
            }
        }
        for h in found {
            if !inside(h.start, h.end) {
                ms.push((h.start, h.end, self.detector_names[h.rule]));
            }
        }
        if ms.is_empty() {
            out.extend_from_slice(buf);
            return 0;
        }
        ms.sort_unstable();
        for &(_, _, name) in &ms {
            self.count(counts, name);
        }
        // Merge overlapping matches.
        let mut groups: Vec<(usize, usize)> = Vec::new();
        for &(s, e, _) in &ms {
            match groups.last_mut() {
                Some(g) if s < g.1 => g.1 = g.1.max(e),
                _ => groups.push((s, e)),
            }
        }
        let strings = if json_ok {
            json::string_spans(buf)
        } else {
            Vec::new()
        };
        let mut last = 0;
        for (s, e) in groups {
            if s < last {
                continue;
            }
            if !json_ok {
                out.extend_from_slice(&buf[last..s]);
                self.push_mask(&buf[s..e], false, out);
                last = e;
                continue;
            }
            let (s, e, how) = json::classify(buf, &strings, s, e);
            let s = s.max(last);
            out.extend_from_slice(&buf[last..s]);
            match how {
                json::Place::InString => self.push_mask(&buf[s..e], true, out),
                json::Place::Scalar => self.push_json_mask(&buf[s..e], out),
                json::Place::Mixed => self.push_mask(&buf[s..e], true, out),
            }
            last = e;
        }
        out.extend_from_slice(&buf[last..]);
        ms.len() as u64
    }
}

/// How many lines after a `BEGIN … PRIVATE KEY` line are masked at most
/// while no `END` line comes (an RSA-8192 key is about 100 lines).
pub const PEM_MAX_LINES: u32 = 256;

/// A stream's redaction state between lines (see [`Redactor::redact_carry`]);
/// checkpointed with the input's position so a restart mid-block stays masked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Carry {
    /// Lines masked so far in an open private-key block (0: none open).
    pub pem_lines: u32,
}

/// The marker appended to a line cut for length.
pub fn cut_marker(max: u64) -> Vec<u8> {
    format!(" [logwarden: line cut at {max} bytes]").into_bytes()
}
