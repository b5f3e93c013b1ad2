//! The fuzz targets' invariants: one public function per target, which
//! panics when logwarden breaks a promise on that input.
//!
//! This file is compiled twice: by the fuzz crate (the targets in
//! `fuzz/fuzz_targets/` hand libFuzzer's input to these functions) and by the
//! main crate's end-to-end tests (`tests/it/fuzz_corpus.rs` includes it with
//! `#[path]` and replays every file of `fuzz/corpus/<target>/` on stable Rust).
//! So it uses only logwarden's public API and crates both builds have
//! (`arbitrary`, `regex`, `serde_json`, `tempfile`, `toml`), and a structured input is
//! decoded from bytes exactly as libfuzzer-sys does ([`decode`]).
//!
//! What each target promises:
//!
//! * [`redact`] (raw bytes): never panics; output at most `4n + 64` bytes for
//!   an `n`-byte line; a line with no redaction counted comes out
//!   byte-identical, and so does a line holding none of the prefilter's words
//!   and no pattern match; a JSON object or array stays valid JSON (no
//!   patterns configured); `filter` equals redacting line by line.
//! * [`redact_planted`] (structured): secrets planted under sensitive keys, in
//!   JSON trees or in `key=value`-style text, and secrets of every detector
//!   family (`src/redact/detect/samples.rs`) in text, never survive; every sensitive
//!   key of the output JSON holds exactly the mask; a tree or line with
//!   nothing planted comes out byte-identical.
//! * [`config`]: `Config::load` never panics, and every problem it reports
//!   has a line and column inside the file.
//! * [`journal`] (raw bytes): `verify_chain` and `verify_files` never panic;
//!   an accepted chain is consistent with the bytes; a broken one names a
//!   line of the file.
//! * [`journal_mutate`] (structured): a valid chain with one to three
//!   mutations (bytes or lines flipped, deleted, inserted, swapped) fails
//!   `verify_chain` unless the bytes are unchanged or only whole records
//!   were cut off its end (which the chain alone cannot tell; shipped
//!   checkpoints do).
//! * [`splitter`] (structured): `tail::Splitter` fed a file in fuzz-chosen
//!   reads, holes, flushes and rewinds emits exactly the lines of a naive
//!   model, each at most `max` bytes, each the file's bytes since the
//!   previous line (leading NULs skipped, cut tails dropped).

use std::path::Path;
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use logwarden::config::{Config, Mask, Redact, DEFAULT_REDACT_KEYS};
use logwarden::ingest::tail::Splitter;
use logwarden::journal::{self, files::verify_files, record_hash, GENESIS, HASH_FIELD};
use logwarden::redact::{cut_marker, filter, Counts, Redactor};

#[path = "../../src/redact/detect/samples.rs"]
#[allow(dead_code)]
pub mod samples;

/// Decodes a structured input from fuzz bytes the way libfuzzer-sys's typed
/// `fuzz_target!` does, so a corpus file replays as the same value.
pub fn decode<'a, T: Arbitrary<'a>>(data: &'a [u8]) -> Option<T> {
    if data.len() < T::size_hint(0).0 {
        return None;
    }
    T::arbitrary_take_rest(Unstructured::new(data)).ok()
}

// ------------------------------------------------------------------ redactor

/// The patterns of the configurations with patterns.
const PATTERNS: &[&str] = &["AKIA[0-9A-Z]{16}", r"\b\d{16}\b"];
/// The masks tried: the default, one that needs JSON escaping, the hash.
const MASKS: usize = 3;
const PLAIN_MASK: &str = "[REDACTED]";
const ODD_MASK: &str = "<\"x\\y\">";

/// A redactor configuration: the default keys, one of [`MASKS`] masks, with
/// or without [`PATTERNS`].
pub struct Setup {
    pub cfg: Redact,
    pub redactor: Redactor,
    /// What the prefilter looks for (lowercase): a line holding none of them
    /// and matching no pattern must come out untouched.
    needles: Vec<Vec<u8>>,
    /// The configured keys, folded.
    folded_keys: Vec<Vec<u8>>,
}

/// The setups, built once per process (`sel` picks one).
pub fn setup(sel: u8) -> &'static Setup {
    static SETUPS: OnceLock<Vec<Setup>> = OnceLock::new();
    let all = SETUPS.get_or_init(|| {
        let mut v = Vec::new();
        for patterns in [false, true] {
            for mask in 0..MASKS {
                let cfg = Redact {
                    keys: DEFAULT_REDACT_KEYS.iter().map(|s| s.to_string()).collect(),
                    detectors: true,
                    disable: Vec::new(),
                    patterns: if patterns {
                        PATTERNS
                            .iter()
                            .map(|p| regex::bytes::Regex::new(p).expect("a valid pattern"))
                            .collect()
                    } else {
                        Vec::new()
                    },
                    mask: match mask {
                        0 => Mask::Text(PLAIN_MASK.into()),
                        1 => Mask::Text(ODD_MASK.into()),
                        _ => Mask::Sha256,
                    },
                    max_line_bytes: 65536,
                };
                let mut needles: Vec<Vec<u8>> = vec![b"\\u".to_vec()];
                let mut folded_keys = Vec::new();
                for k in &cfg.keys {
                    folded_keys.push(fold(k.as_bytes()));
                    needles.push(fold(k.as_bytes()));
                    for w in k.split(['_', '-']) {
                        needles.push(w.to_ascii_lowercase().into_bytes());
                    }
                }
                needles.push(b"authorization".to_vec());
                needles.push(b"cookie".to_vec());
                let redactor = Redactor::new(&cfg, [7; 32]);
                v.push(Setup {
                    cfg,
                    redactor,
                    needles,
                    folded_keys,
                });
            }
        }
        v
    });
    &all[sel as usize % all.len()]
}

/// Folds a field name as the redactor documents: ASCII-lowercase, `_` and `-`
/// deleted.
fn fold(name: &[u8]) -> Vec<u8> {
    name.iter()
        .filter(|&&b| b != b'_' && b != b'-')
        .map(u8::to_ascii_lowercase)
        .collect()
}

/// A name's segments as the redactor documents them: split at every byte
/// that is not a letter or digit, at lower-to-upper case changes and between
/// letters and digits (written apart from the redactor's, as a model).
fn segments(name: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    for &c in name {
        if !c.is_ascii_alphanumeric() {
            out.push(std::mem::take(&mut cur));
            continue;
        }
        if let Some(&p) = cur.last() {
            let camel = p.is_ascii_lowercase() && c.is_ascii_uppercase();
            let kind = p.is_ascii_alphabetic() != c.is_ascii_alphabetic();
            if camel || kind {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    out.push(cur);
    out.retain(|s| !s.is_empty());
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

impl Setup {
    fn any_pattern(&self, line: &[u8]) -> bool {
        self.cfg.patterns.iter().any(|p| p.is_match(line))
    }

    fn holds_needle(&self, line: &[u8]) -> bool {
        let lower = line.to_ascii_lowercase();
        self.needles.iter().any(|n| contains(&lower, n))
    }

    /// Whether a field name is sensitive: its fold contains a key's fold,
    /// or for a key of four letters or fewer, one of its segments is the key.
    fn sensitive(&self, name: &[u8]) -> bool {
        let f = fold(name);
        self.folded_keys.iter().any(|k| {
            if k.len() <= 4 {
                segments(name).iter().any(|s| s.eq_ignore_ascii_case(k))
            } else {
                contains(&f, k)
            }
        })
    }

    /// Whether `v` is the mask of some value.
    fn is_mask(&self, v: &serde_json::Value) -> bool {
        let Some(s) = v.as_str() else { return false };
        match &self.cfg.mask {
            Mask::Text(t) => s == t,
            Mask::Sha256 => {
                s.len() == 7 + 16
                    && s.starts_with("sha256:")
                    && s[7..].bytes().all(|b| b.is_ascii_hexdigit())
            }
        }
    }
}

/// `line` as a JSON value if it is a JSON object or array (first non-blank
/// byte `{` or `[`) that serde_json parses (so at most 128 deep).
fn json_doc(line: &[u8]) -> Option<serde_json::Value> {
    let first = line
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))?;
    if *first != b'{' && *first != b'[' {
        return None;
    }
    serde_json::from_slice(line).ok()
}

/// Redacts one line and checks what holds for every line. Returns the output.
fn check_line(s: &Setup, line: &[u8]) -> Vec<u8> {
    let mut out = b"~".to_vec();
    let mut counts = Counts::default();
    s.redactor.redact(line, &mut out, &mut counts);
    assert_eq!(out[0], b'~', "redact must append to its output");
    let out = out.split_off(1);
    assert_eq!(counts.lines, 1);
    assert!(counts.redacted_lines <= 1);
    assert!(
        out.len() <= 4 * line.len() + 64,
        "output blow-up: {} bytes in, {} out",
        line.len(),
        out.len()
    );
    if counts.redacted_lines == 0 {
        assert!(
            out == line,
            "nothing counted, but the line changed:\n in: {}\nout: {}",
            show(line),
            show(&out)
        );
    }
    if !s.holds_needle(line) && !s.any_pattern(line) && !s.redactor.has_detector_anchor(line) {
        assert!(
            out == line && counts.redacted_lines == 0,
            "no key word, no pattern and no detector anchor, but the line changed:\n in: {}\nout: {}",
            show(line),
            show(&out)
        );
    }
    if s.cfg.patterns.is_empty() && json_doc(line).is_some() {
        assert!(
            json_doc(&out).is_some(),
            "valid JSON in, invalid JSON out:\n in: {}\nout: {}",
            show(line),
            show(&out)
        );
    }
    out
}

fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

/// Raw bytes: the first byte picks the setup and `filter`'s line limit, the
/// rest is a chunk of log (lines split on `\n`).
pub fn redact(data: &[u8]) {
    let Some((&sel, text)) = data.split_first() else {
        return;
    };
    let s = setup(sel);
    let max = [0u64, 8, 64, 4096][usize::from(sel >> 4) % 4];
    // What `filter` must produce: each line redacted on its own, a long one
    // cut to `max` bytes plus the marker, newlines kept.
    let mut want = Vec::new();
    let mut want_counts = Counts::default();
    let mut lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for (i, line) in lines.iter().enumerate() {
        let cut = max > 0 && line.len() as u64 > max;
        let part = if cut { &line[..max as usize] } else { line };
        want.extend_from_slice(&check_line(s, part));
        let mut c = Counts::default();
        let mut scratch = Vec::new();
        s.redactor.redact(part, &mut scratch, &mut c);
        if cut {
            want.extend_from_slice(&cut_marker(max));
            c.cut_lines = 1;
        }
        want_counts.add(&c);
        if i + 1 < lines.len() || text.ends_with(b"\n") {
            want.push(b'\n');
        }
    }
    let mut got = Vec::new();
    let counts = filter(text, &mut got, &s.redactor, max).expect("filter into a Vec");
    assert!(
        got == want,
        "filter differs from line-by-line redaction:\nfilter: {}\n  want: {}",
        show(&got),
        show(&want)
    );
    assert_eq!(counts, want_counts);
}

/// The marker that starts and ends every planted secret. Nothing else a
/// generator writes holds either (a mask never does: `[REDACTED]`, the odd
/// mask and lowercase hex).
const LEAK: &str = "LEAK_";
const KAEL: &str = "_KAEL";

/// A structured input with secrets planted (or not).
#[derive(Debug, Arbitrary)]
pub enum Planted {
    /// A JSON object or array.
    Json { sel: u8, ws: u8, root: Node },
    /// A text line; `wrap` puts it inside a JSON string.
    Text { sel: u8, wrap: u8, parts: Vec<Part> },
}

/// A JSON value.
#[derive(Debug, Arbitrary)]
pub enum Node {
    Leaf(Leaf),
    Obj(Vec<Member>),
    Arr(Vec<Node>),
}

#[derive(Debug, Arbitrary)]
pub enum Member {
    Safe(SafeKey, Node),
    Secret(KeySpelling, SecretValue),
}

#[derive(Debug, Arbitrary)]
pub enum SafeKey {
    Word(u8),
    /// Free text; replaced by `k` when its fold holds a configured key.
    Text(String),
}

#[derive(Debug, Arbitrary)]
pub enum Leaf {
    /// A vocabulary word (some are key words used as values: not keys).
    Word(u8),
    /// Free text without `=` and `:` (so it cannot hold a `key=value`).
    Text(String),
    Number(u8),
    Literal(u8),
    /// A string holding a text-form secret (`"msg":"login password=…"`).
    Planted(TextSecret),
}

/// A secret value under a sensitive key.
#[derive(Debug, Arbitrary)]
pub enum SecretValue {
    Str(String),
    Num(u32),
    Literal(u8),
    Obj(Vec<Member>),
    Arr(Vec<Node>),
}

/// A spelling of one of the default keys: a prefix, its words joined by a
/// separator (or camel case), a suffix, random case, and (in JSON keys)
/// random `\u` escapes.
#[derive(Debug, Arbitrary)]
pub struct KeySpelling {
    base: u8,
    sep: u8,
    prefix: u8,
    suffix: u8,
    case_bits: u64,
    escape_bits: u64,
}

/// One piece of a text line, joined to the next by a space.
#[derive(Debug, Arbitrary)]
pub enum Part {
    Word(u8),
    /// Free text without `=`, `:` and `\n`.
    Text(String),
    /// Free bytes without `=`, `:` and `\n` (made valid UTF-8 when wrapped).
    Bytes(Vec<u8>),
    Secret(TextSecret),
    /// A secret recognised by its shape (a detector family's sample).
    Detected {
        family: u8,
        seed: u64,
    },
}

/// A secret in one of the text forms the rules cover.
#[derive(Debug, Arbitrary)]
pub struct TextSecret {
    form: u8,
    key: KeySpelling,
    scheme: u8,
    body: String,
}

const WORDS: &[&str] = &[
    "user",
    "id",
    "qty",
    "price",
    "msg",
    "path",
    "ts",
    "level",
    "side",
    "buy",
    "AAPL",
    "ok",
    "order",
    "fill",
    "venue",
    "latency",
    "status", // key words as plain words: not keys
    "password",
    "token expired",
    "the secret word",
    "api",
    "key",
    "cookie jar",
    "Authorization",
];
const NUMBERS: &[&str] = &[
    "1",
    "-0",
    "1.0e+10",
    "2.50",
    "0",
    "-12.5E-3",
    "4111111111111111",
];
const LITERALS: &[&str] = &["true", "false", "null"];
const KEY_BASES: &[&[&str]] = &[
    &["password"],
    &["passwd"],
    &["token"],
    &["secret"],
    &["api", "key"],
    &["apikey"],
    &["access", "token"],
    &["refresh", "token"],
    &["private", "key"],
    &["authorization"],
    &["cookie"],
];
const PREFIXES: &[&str] = &["", "db_", "x-", "user", "My", "old.", "2"];
const SUFFIXES: &[&str] = &["", "_hash", "-v2", "s", "Value"];
/// Known schemes, and an unknown one (its credential must be masked too).
const SCHEMES: &[&str] = &[
    "Bearer",
    "Basic",
    "Digest",
    "Token",
    "AWS4-HMAC-SHA256",
    "MyScheme",
];

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

impl KeySpelling {
    /// The key as text; `json`: some characters `\u`-escaped (the result is
    /// then the inside of a JSON string).
    fn render(&self, json: bool, text_only: bool) -> String {
        let bases = if text_only {
            // `authorization: x y` keeps `x` as a scheme word, and `cookie:`
            // masks to the end: the header forms plant those on their own.
            &KEY_BASES[..KEY_BASES.len() - 2]
        } else {
            KEY_BASES
        };
        let words = bases[usize::from(self.base) % bases.len()];
        let sep = ["", "_", "-", "camel"][usize::from(self.sep) % 4];
        let mut k = pick(PREFIXES, self.prefix).to_string();
        for (i, w) in words.iter().enumerate() {
            if i > 0 && sep == "camel" {
                k.push_str(&w[..1].to_ascii_uppercase());
                k.push_str(&w[1..]);
                continue;
            }
            if i > 0 {
                k.push_str(sep);
            }
            k.push_str(w);
        }
        k.push_str(pick(SUFFIXES, self.suffix));
        let mut out = String::new();
        for (i, ch) in k.chars().enumerate() {
            let ch = if self.case_bits >> (i % 64) & 1 == 1 {
                ch.to_ascii_uppercase()
            } else {
                ch
            };
            if json && self.escape_bits >> (i % 64) & 1 == 1 {
                out.push_str(&format!("\\u{:04x}", ch as u32));
            } else {
                out.push(ch);
            }
        }
        out
    }
}

/// `s` as a JSON string literal.
fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// Free text a generator may use anywhere: no `=`, `:`, newline or marker.
fn free_text(s: &str) -> String {
    let t: String = s
        .chars()
        .filter(|c| !matches!(c, '=' | ':' | '\n'))
        .collect();
    if t.contains(LEAK) || t.contains(KAEL) || t.contains("LEAK") || t.contains("KAEL") {
        "x".into()
    } else {
        t
    }
}

/// A secret: the markers around `body` with the bytes `stop` would end the
/// value at removed. (It may hold a quote followed by `:` or `=`, which an
/// earlier quote in the line once paired with: `msg="a b" password='x": y'`.)
fn secret(body: &str, stop: impl Fn(char) -> bool) -> String {
    let out: String = body.chars().filter(|&c| c != '\n' && !stop(c)).collect();
    format!("{LEAK}{out}{KAEL}")
}

/// What ends an unquoted value: whitespace, quotes, `&`, `,`, `;`, `\`, and
/// `}`/`]` after a quoted key.
fn unquoted_stop(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\r' | '\x0b' | '\x0c' | '"' | '\'' | '&' | ',' | ';' | '\\' | '}' | ']'
    )
}

impl TextSecret {
    fn render(&self) -> String {
        let k = self.key.render(false, true);
        let scheme = pick(SCHEMES, self.scheme);
        let b = &self.body;
        let unq = |b: &str| secret(b, unquoted_stop);
        let q1 = |b: &str| secret(b, |c| c == '\'' || c == '\\');
        let q2 = |b: &str| secret(b, |c| c == '"' || c == '\\');
        let any = |b: &str| secret(b, |_| false);
        match self.form % 16 {
            0 => format!("{k}={}", unq(b)),
            1 => format!("{k}: {}", unq(b)),
            2 => format!("{k}='{}'", q1(b)),
            3 => format!("{k} = \"{}\"", q2(b)),
            4 => format!("GET /p?a=1&{k}={}&b=2 HTTP/1.1", unq(b)),
            5 => format!("Authorization: {scheme} {}", any(b)),
            6 => format!("Cookie: a={}; b={}", any(b), any(b)),
            7 => format!("payload={{\"{k}\": \"{}\", \"n\": 1}}", q2(b)),
            8 => format!("payload={{\"{k}\": {{\"x\": \"{}\"}}, \"n\": 1}}", q2(b)),
            9 => format!("'{k}': '{}'", q1(b)),
            10 => format!("{k}:{}", unq(b)),
            11 => format!("authorization={scheme} {}", unq(b)),
            12 => format!("Proxy-Authorization: {scheme} {}", any(b)),
            13 => format!("Set-Cookie: {}", any(b)),
            14 => format!("\\\"{k}\\\": \\\"{}\\\"", q2(b)),
            // The credential itself, then a field of its own.
            _ => format!("authorization={} user=bob", unq(b)),
        }
    }
}

/// Writes a JSON tree; records whether a secret was planted and the depth.
struct JsonWriter<'s> {
    s: &'s Setup,
    ws: u8,
    out: String,
    planted: bool,
    depth: usize,
    max_depth: usize,
}

impl JsonWriter<'_> {
    fn space(&mut self, bit: u8) {
        if self.ws >> bit & 1 == 1 {
            self.out
                .push(if self.ws >> 7 & 1 == 1 { '\t' } else { ' ' });
        }
    }

    fn node(&mut self, n: &Node) {
        match n {
            Node::Leaf(l) => self.leaf(l),
            Node::Obj(members) => self.obj(members),
            Node::Arr(items) => self.arr(items),
        }
    }

    fn leaf(&mut self, l: &Leaf) {
        match l {
            Leaf::Word(i) => self.out.push_str(&json_str(pick(WORDS, *i))),
            Leaf::Text(t) => self.out.push_str(&json_str(&free_text(t))),
            Leaf::Number(i) => self.out.push_str(pick(NUMBERS, *i)),
            Leaf::Literal(i) => self.out.push_str(pick(LITERALS, *i)),
            Leaf::Planted(t) => {
                self.planted = true;
                self.out
                    .push_str(&json_str(&format!("login {} ok", t.render())));
            }
        }
    }

    fn enter(&mut self) {
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
    }

    fn obj(&mut self, members: &[Member]) {
        self.enter();
        self.out.push('{');
        for (i, m) in members.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
                self.space(1);
            }
            match m {
                Member::Safe(k, v) => {
                    let k = match k {
                        SafeKey::Word(i) => pick(WORDS, *i).to_string(),
                        SafeKey::Text(t) => free_text(t),
                    };
                    let k = if self.s.sensitive(k.as_bytes()) {
                        "k".to_string()
                    } else {
                        k
                    };
                    self.out.push_str(&json_str(&k));
                    self.out.push(':');
                    self.space(0);
                    self.node(v);
                }
                Member::Secret(k, v) => {
                    self.planted = true;
                    self.out.push('"');
                    self.out.push_str(&k.render(true, false));
                    self.out.push_str("\":");
                    self.space(0);
                    match v {
                        SecretValue::Str(b) => {
                            self.out.push_str(&json_str(&secret(b, |_| false)));
                        }
                        SecretValue::Num(n) => self.out.push_str(&n.to_string()),
                        SecretValue::Literal(i) => self.out.push_str(pick(LITERALS, *i)),
                        SecretValue::Obj(m) => self.obj(m),
                        SecretValue::Arr(a) => self.arr(a),
                    }
                }
            }
        }
        self.out.push('}');
        self.depth -= 1;
    }

    fn arr(&mut self, items: &[Node]) {
        self.enter();
        self.out.push('[');
        for (i, n) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
                self.space(1);
            }
            self.node(n);
        }
        self.out.push(']');
        self.depth -= 1;
    }
}

/// Every sensitive key in `v` holds exactly the mask.
fn masked_everywhere(s: &Setup, v: &serde_json::Value) -> Result<(), String> {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if s.sensitive(k.as_bytes()) {
                    if !s.is_mask(v) {
                        return Err(format!("{k:?} holds {v}"));
                    }
                } else {
                    masked_everywhere(s, v)?;
                }
            }
            Ok(())
        }
        serde_json::Value::Array(a) => a.iter().try_for_each(|v| masked_everywhere(s, v)),
        _ => Ok(()),
    }
}

/// The structured redactor target.
pub fn redact_planted(case: &Planted) {
    let (s, line, planted, json, detected) = match case {
        Planted::Json { sel, ws, root } => {
            let s = setup(*sel);
            let mut w = JsonWriter {
                s,
                ws: *ws,
                out: String::new(),
                planted: false,
                depth: 0,
                max_depth: 0,
            };
            if w.ws >> 2 & 1 == 1 {
                w.out.push(' ');
            }
            match root {
                Node::Leaf(l) => w.arr(std::slice::from_ref(&Node::Leaf(clone_leaf(l)))),
                n => w.node(n),
            }
            // Deeper than serde_json's limit: the text rules take the line,
            // which masks but does not promise valid JSON.
            let json = w.max_depth < 120;
            (s, w.out.into_bytes(), w.planted, json, Vec::new())
        }
        Planted::Text { sel, wrap, parts } => {
            let s = setup(*sel);
            let wrap = wrap % 3;
            let mut line: Vec<u8> = Vec::new();
            let mut planted = false;
            let mut detected: Vec<String> = Vec::new();
            // The detector samples planted in this line: free text that
            // happens to hold one (glued to other letters, where it is no
            // secret by its format) would make it look like a survivor.
            let cores: Vec<String> = parts
                .iter()
                .filter_map(|p| match p {
                    Part::Detected { family, seed } => {
                        let all = samples::all(&mut samples::lcg(*seed));
                        Some(all[usize::from(*family) % all.len()].core.clone())
                    }
                    _ => None,
                })
                .collect();
            let holds_core = |b: &[u8]| cores.iter().any(|c| contains(b, c.as_bytes()));
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    line.push(b' ');
                }
                match p {
                    Part::Word(i) => line.extend_from_slice(pick(WORDS, *i).as_bytes()),
                    Part::Text(t) if holds_core(t.as_bytes()) => line.push(b'x'),
                    Part::Text(t) => line.extend_from_slice(free_text(t).as_bytes()),
                    Part::Bytes(b) => {
                        let b: Vec<u8> = b
                            .iter()
                            .copied()
                            .filter(|c| !matches!(c, b'=' | b':' | b'\n'))
                            .collect();
                        if contains(&b, b"LEAK") || contains(&b, b"KAEL") || holds_core(&b) {
                            line.push(b'x');
                        } else if wrap > 0 {
                            let t = String::from_utf8_lossy(&b).into_owned();
                            line.extend_from_slice(free_text(&t).as_bytes());
                        } else {
                            line.extend_from_slice(&b);
                        }
                    }
                    Part::Secret(t) => {
                        planted = true;
                        line.extend_from_slice(t.render().as_bytes());
                    }
                    Part::Detected { family, seed } => {
                        let all = samples::all(&mut samples::lcg(*seed));
                        let sample = &all[usize::from(*family) % all.len()];
                        if !sample.context.is_empty() {
                            line.extend_from_slice(sample.context.as_bytes());
                            line.push(b' ');
                        }
                        line.extend_from_slice(sample.secret.as_bytes());
                        detected.push(sample.core.clone());
                    }
                }
            }
            let line = match wrap {
                0 => line,
                w => {
                    let t = String::from_utf8(line).expect("wrapped parts are UTF-8");
                    let inner = json_str(&t);
                    if w == 1 {
                        format!("{{\"msg\":{inner},\"n\":1}}").into_bytes()
                    } else {
                        format!("[1, {inner}]").into_bytes()
                    }
                }
            };
            (s, line, planted, wrap > 0, detected)
        }
    };
    let out = check_line(s, &line);
    for core in &detected {
        // JSON-wrapped, the core is escaped the way the line holds it.
        let escaped = json_str(core);
        let escaped = &escaped[1..escaped.len() - 1];
        assert!(
            !contains(&out, core.as_bytes()) && !contains(&out, escaped.as_bytes()),
            "a secret of a detector family survived:\n in: {}\nout: {}",
            show(&line),
            show(&out)
        );
    }
    let planted = planted || !detected.is_empty();
    if planted {
        assert!(
            !contains(&out, LEAK.as_bytes())
                && !contains(&out, KAEL.as_bytes())
                && !contains(&out, b"LEAK")
                && !contains(&out, b"KAEL"),
            "a planted secret survived:\n in: {}\nout: {}",
            show(&line),
            show(&out)
        );
    } else if !s.any_pattern(&line) && !s.redactor.has_detector_anchor(&line) {
        assert!(
            out == line,
            "nothing planted, but the line changed:\n in: {}\nout: {}",
            show(&line),
            show(&out)
        );
    }
    if json && s.cfg.patterns.is_empty() {
        let doc = json_doc(&out).unwrap_or_else(|| {
            panic!(
                "valid JSON in, invalid JSON out:\n in: {}\nout: {}",
                show(&line),
                show(&out)
            )
        });
        if let Err(e) = masked_everywhere(s, &doc) {
            panic!(
                "a sensitive key is not masked: {e}\n in: {}\nout: {}",
                show(&line),
                show(&out)
            );
        }
    }
}

fn clone_leaf(l: &Leaf) -> Leaf {
    match l {
        Leaf::Word(i) => Leaf::Word(*i),
        Leaf::Text(t) => Leaf::Text(t.clone()),
        Leaf::Number(i) => Leaf::Number(*i),
        Leaf::Literal(i) => Leaf::Literal(*i),
        Leaf::Planted(t) => Leaf::Planted(TextSecret {
            form: t.form,
            key: KeySpelling { ..t.key },
            scheme: t.scheme,
            body: t.body.clone(),
        }),
    }
}

// -------------------------------------------------------------------- config

/// Whether every `include` of the config in `data` stays inside its own
/// directory. Loading reads what `include` names, and the fuzzer must not
/// make it read `/proc/kmsg` (blocks) or `/proc/self/pagemap` (huge). Text
/// that is not UTF-8 or not TOML fails to load before any include is read.
fn includes_stay_inside(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return true;
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return true;
    };
    let Some(toml::Value::Array(includes)) = table.get("include") else {
        return true;
    };
    includes.iter().all(|v| match v {
        toml::Value::String(s) => {
            !s.starts_with('/') && !s.split('/').any(|c| c == "..") && !s.contains('\0')
        }
        _ => true,
    })
}

/// Loads `data` as `dir/logwarden.toml` (`dir` holds nothing else).
pub fn config(dir: &Path, data: &[u8]) {
    if !includes_stay_inside(data) {
        return;
    }
    let path = dir.join("logwarden.toml");
    std::fs::write(&path, data).expect("write the config");
    let problems = match Config::load(&path) {
        Ok(cfg) => {
            assert!(cfg.files.contains(&path));
            return;
        }
        Err(p) => p,
    };
    assert!(!problems.0.is_empty(), "an error without a problem");
    let text = std::str::from_utf8(data).ok();
    for p in &problems.0 {
        assert!(p.line >= 1 && p.col >= 1, "problem at line 0 or col 0: {p}");
        if let (Some(text), true) = (text, p.file == path) {
            let line = text.split('\n').nth(p.line - 1);
            let Some(line) = line else {
                panic!("problem past the last line: {p}");
            };
            assert!(
                p.col <= line.chars().count() + 1,
                "problem past the end of its line: {p}"
            );
        }
    }
    let _ = problems.to_string();
}

// ------------------------------------------------------------------- journal

/// Whether every file the records in `bytes` name is a plain name (no `/`),
/// so `verify_files` only opens names in the working directory: never
/// `/dev/zero` or a FIFO.
fn files_stay_local(bytes: &[u8]) -> bool {
    bytes
        .split(|b| *b == b'\n')
        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .all(|v| {
            let ok = |x: &serde_json::Value| x.as_str().is_none_or(|s| !s.contains('/'));
            ok(&v["resource"]["path"]) && ok(&v["new"])
        })
}

/// Checks `verify_chain`'s answer against the bytes: an accepted chain has
/// one record per line ending at its last line's `_hash`; a broken one names
/// a line of the file.
fn check_chain(bytes: &[u8], start: (u64, &str)) -> Result<journal::Chain, journal::Broken> {
    let r = journal::verify_chain(bytes, start);
    let lines = bytes.split(|b| *b == b'\n').count();
    match &r {
        Ok(c) => {
            let records = lines as u64 - 1;
            assert_eq!(c.records, records, "records counted");
            assert_eq!(c.first_seq, start.0.saturating_add(1));
            assert_eq!(Some(c.last_seq), start.0.checked_add(records));
            let last = bytes[..bytes.len().saturating_sub(1)]
                .rsplit(|b| *b == b'\n')
                .next()
                .unwrap_or_default();
            match journal::tip_of(last) {
                Some((seq, hash)) => assert_eq!((c.last_seq, c.tip.as_str()), (seq, &*hash)),
                None => assert_eq!((records, c.tip.as_str()), (0, start.1)),
            }
        }
        Err(b) => assert!(
            b.line >= 1 && b.line <= lines,
            "broken at line {} of {lines}",
            b.line
        ),
    }
    r
}

/// Raw bytes as a journal file.
pub fn journal(data: &[u8]) {
    let _ = check_chain(data, (0, GENESIS));
    let first = data.split(|b| *b == b'\n').next().unwrap_or_default();
    if let Some((seq, prev)) = journal::head_of(first) {
        // As a retained journal is checked: from its first record's base.
        if seq > 0 {
            let _ = check_chain(data, (seq - 1, &prev));
        }
    }
    // Checkpoint signatures, under the key the data itself names.
    let key = data
        .split(|b| *b == b'\n')
        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .find_map(|v| v["key"].as_str().map(str::to_string));
    if let Some(key) = key {
        if let Ok(k) = journal::sign::parse_public(&key) {
            let _ = journal::verify_chain_with(data, (0, GENESIS), Some(&k));
        }
    }
    for l in data.split(|b| *b == b'\n') {
        if let Some((seq, hash)) = journal::tip_of(l) {
            assert!(journal::contains(data, seq, &hash));
        }
    }
    if files_stay_local(data) {
        let _ = verify_files(data);
    }
}

/// A valid chain, then mutations.
#[derive(Debug, Arbitrary)]
pub struct ChainCase {
    /// `None`: the chain starts at genesis; else after a retained base.
    start: Option<u64>,
    records: Vec<Rec>,
    mutations: Vec<Mutation>,
}

#[derive(Debug, Arbitrary)]
pub struct Rec {
    action: u8,
    source: Option<String>,
    path: Option<String>,
    size: Option<u64>,
    reason: Option<String>,
    failed: bool,
}

#[derive(Debug, Arbitrary)]
pub enum Mutation {
    FlipBit {
        at: u32,
        bit: u8,
    },
    SetByte {
        at: u32,
        byte: u8,
    },
    DeleteByte {
        at: u32,
    },
    InsertByte {
        at: u32,
        byte: u8,
    },
    SwapBytes {
        a: u32,
        b: u32,
    },
    DeleteRange {
        at: u32,
        len: u8,
    },
    DeleteLine {
        n: u8,
    },
    DuplicateLine {
        n: u8,
    },
    SwapLines {
        a: u8,
        b: u8,
    },
    MoveLine {
        from: u8,
        to: u8,
    },
    CopyLineOver {
        from: u8,
        to: u8,
    },
    TruncateAt {
        at: u32,
    },
    /// Bytes inserted near a record's end, where a forger would add a field.
    InsertNearEnd {
        n: u8,
        back: u8,
        bytes: Vec<u8>,
    },
}

const ACTIONS: &[&str] = &[
    "rotate",
    "compress",
    "segment",
    "retention.delete",
    "reload",
    "error",
    "checkpoint",
    "journal.rotate",
];

/// Builds the chain as `Journal` writes it: `{"_v":1,"_seq":N,"_prev":"…",`
/// then the event's fields, then `,"_hash":"<hash of all before>"}`.
fn build_chain(start: (u64, &str), records: &[Rec]) -> Vec<u8> {
    let (mut seq, mut prev) = (start.0, start.1.to_string());
    let mut out = Vec::new();
    for r in records.iter().take(8) {
        let Some(next) = seq.checked_add(1) else {
            break;
        };
        let action = pick(ACTIONS, r.action);
        let mut line = format!("{{\"_v\":1,\"_seq\":{next},\"_prev\":\"{prev}\",");
        line.push_str(&format!(
            "\"ts\":\"2026-11-21T10:00:{:02}.000000Z\",\"action\":\"{action}\",\"actor\":\"daemon\"",
            next % 60
        ));
        if let Some(s) = &r.source {
            line.push_str(&format!(",\"source\":{}", json_str(s)));
        }
        if let Some(p) = &r.path {
            line.push_str(&format!(",\"resource\":{{\"path\":{}", json_str(p)));
            if let Some(n) = r.size {
                line.push_str(&format!(",\"size\":{n}"));
            }
            line.push('}');
        }
        if let Some(why) = &r.reason {
            line.push_str(&format!(",\"reason\":{}", json_str(why)));
        }
        line.push_str(if r.failed {
            ",\"status\":\"failed\",\"error\":\"disk full\""
        } else {
            ",\"status\":\"ok\""
        });
        if action == "checkpoint" {
            line.push_str(&format!(",\"tip_seq\":{seq},\"tip_hash\":\"{prev}\""));
        }
        let hash = record_hash(line.as_bytes());
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(HASH_FIELD);
        out.extend_from_slice(hash.as_bytes());
        out.extend_from_slice(b"\"}\n");
        seq = next;
        prev = hash;
    }
    out
}

fn split_lines(b: &[u8]) -> Vec<Vec<u8>> {
    b.split_inclusive(|c| *c == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn mutate(b: &mut Vec<u8>, m: &Mutation) {
    let at = |i: u32, len: usize| i as usize % len.max(1);
    match *m {
        Mutation::FlipBit { at: i, bit } if !b.is_empty() => {
            let i = at(i, b.len());
            b[i] ^= 1 << (bit % 8);
        }
        Mutation::SetByte { at: i, byte } if !b.is_empty() => {
            let i = at(i, b.len());
            b[i] = byte;
        }
        Mutation::DeleteByte { at: i } if !b.is_empty() => {
            b.remove(at(i, b.len()));
        }
        Mutation::InsertByte { at: i, byte } => {
            let i = at(i, b.len() + 1);
            b.insert(i, byte);
        }
        Mutation::SwapBytes { a, b: c } if !b.is_empty() => {
            let (x, y) = (at(a, b.len()), at(c, b.len()));
            b.swap(x, y);
        }
        Mutation::DeleteRange { at: i, len } if !b.is_empty() => {
            let i = at(i, b.len());
            let end = (i + usize::from(len) + 1).min(b.len());
            b.drain(i..end);
        }
        Mutation::TruncateAt { at: i } => {
            let i = at(i, b.len() + 1);
            b.truncate(i);
        }
        Mutation::DeleteLine { n } => lines_op(b, |l| {
            let i = usize::from(n) % l.len();
            l.remove(i);
        }),
        Mutation::DuplicateLine { n } => lines_op(b, |l| {
            let i = usize::from(n) % l.len();
            let dup = l[i].clone();
            l.insert(i, dup);
        }),
        Mutation::SwapLines { a, b: c } => lines_op(b, |l| {
            let (x, y) = (usize::from(a) % l.len(), usize::from(c) % l.len());
            l.swap(x, y);
        }),
        Mutation::MoveLine { from, to } => lines_op(b, |l| {
            let line = l.remove(usize::from(from) % l.len());
            l.insert(usize::from(to) % (l.len() + 1), line);
        }),
        Mutation::InsertNearEnd { n, back, ref bytes } => lines_op(b, |l| {
            let i = usize::from(n) % l.len();
            let line = &mut l[i];
            let at = line.len().saturating_sub(usize::from(back % 16));
            line.splice(at..at, bytes.iter().copied());
        }),
        Mutation::CopyLineOver { from, to } => lines_op(b, |l| {
            let src = l[usize::from(from) % l.len()].clone();
            let i = usize::from(to) % l.len();
            l[i] = src;
        }),
        _ => {}
    }
}

fn lines_op(b: &mut Vec<u8>, f: impl FnOnce(&mut Vec<Vec<u8>>)) {
    let mut lines = split_lines(b);
    if lines.is_empty() {
        return;
    }
    f(&mut lines);
    *b = lines.concat();
}

/// The structured journal target.
pub fn journal_mutate(case: &ChainCase) {
    let base_hash = record_hash(b"a retained base");
    let start = match case.start {
        None => (0, GENESIS),
        Some(s) => (s, base_hash.as_str()),
    };
    let original = build_chain(start, &case.records);
    let n = split_lines(&original).len() as u64;
    match check_chain(&original, start) {
        Ok(c) => assert_eq!(c.records, n),
        Err(e) => panic!("a chain built as Journal writes it does not verify: {e:?}"),
    }
    let mut bytes = original.clone();
    for m in case.mutations.iter().take(3) {
        mutate(&mut bytes, m);
    }
    let result = check_chain(&bytes, start);
    // Whole records cut off the end: only a tip known from elsewhere tells.
    let tail_cut = original.starts_with(&bytes) && (bytes.is_empty() || bytes.ends_with(b"\n"));
    if bytes == original || tail_cut {
        assert!(result.is_ok(), "an intact prefix fails: {result:?}");
    } else if let Ok(c) = result {
        panic!(
            "a modified journal verifies ({} records):\nwas: {}\nnow: {}",
            c.records,
            show(&original),
            show(&bytes)
        );
    }
    if files_stay_local(&bytes) {
        let _ = verify_files(&bytes);
    }
}

// ------------------------------------------------------------------ splitter

/// A file, read into a splitter in fuzz-chosen steps.
#[derive(Debug, Arbitrary)]
pub struct SplitCase {
    max: u8,
    huge: bool,
    start: u32,
    ops: Vec<Op>,
}

#[derive(Debug, Arbitrary)]
pub enum Op {
    /// The writer appends (the splitter has not read it yet).
    Append(Vec<Sym>),
    AppendRaw(Vec<u8>),
    /// The tailer reads up to `n` bytes (0: all there is).
    Read(u16),
    /// A hole at the read position: skipped unread, as `Tailer::pump` does,
    /// only at a line start.
    Hole(u16),
    /// The partial line is emitted (timeout, rotation).
    Flush,
    /// A failed mirror write: back to the end of the last line emitted.
    Rewind,
}

#[derive(Debug, Arbitrary)]
pub enum Sym {
    A,
    B,
    Newline,
    Nul,
    Byte(u8),
}

/// The splitter's specification, naively: a line is everything up to its
/// newline with leading NULs dropped, cut to `max`.
struct Model {
    max: usize,
    pos: u64,
    cur: Vec<u8>,
}

/// (bytes, cut, unterminated, end)
type Emitted = (Vec<u8>, bool, bool, u64);

impl Model {
    fn line(&self, unterminated: bool, end: u64) -> Emitted {
        let cut = self.cur.len() > self.max;
        let n = self.cur.len().min(self.max);
        (self.cur[..n].to_vec(), cut, unterminated, end)
    }

    fn feed(&mut self, data: &[u8], out: &mut Vec<Emitted>) {
        for &b in data {
            self.pos += 1;
            if b == b'\n' {
                out.push(self.line(false, self.pos));
                self.cur.clear();
            } else if !(b == 0 && self.cur.is_empty()) {
                self.cur.push(b);
            }
        }
    }

    fn flush(&mut self, out: &mut Vec<Emitted>) {
        if !self.cur.is_empty() {
            out.push(self.line(true, self.pos));
        }
        self.cur.clear();
    }
}

/// The structured splitter target.
pub fn splitter(case: &SplitCase) {
    let max = if case.huge {
        u64::MAX
    } else {
        u64::from(case.max)
    };
    let start = u64::from(case.start);
    let mut split = Splitter::new(max, start);
    let mut model = Model {
        max: max.max(1) as usize,
        pos: start,
        cur: Vec::new(),
    };
    // The file from offset `start` on.
    let mut file: Vec<u8> = Vec::new();
    // The end of the last line emitted (what a tailer would commit), and
    // where the next line's bytes start.
    let mut committed = start;
    let mut boundary = start;
    for op in case.ops.iter().take(64) {
        let mut got: Vec<Emitted> = Vec::new();
        let mut want: Vec<Emitted> = Vec::new();
        let mut collect = |l: logwarden::ingest::tail::Line<'_>| {
            got.push((l.bytes.to_vec(), l.cut, l.unterminated, l.end));
        };
        let idx = (split.pos() - start) as usize;
        match op {
            Op::Append(syms) => file.extend(syms.iter().map(|s| match s {
                Sym::A => b'a',
                Sym::B => b'b',
                Sym::Newline => b'\n',
                Sym::Nul => 0,
                Sym::Byte(b) => *b,
            })),
            Op::AppendRaw(bytes) => file.extend_from_slice(bytes),
            Op::Read(n) => {
                let avail = file.len() - idx;
                let n = if *n == 0 {
                    avail
                } else {
                    usize::from(*n).min(avail)
                };
                let data = &file[idx..idx + n];
                split.feed(data, &mut collect);
                model.feed(data, &mut want);
            }
            Op::Hole(n) => {
                if !split.has_partial() {
                    let n = u64::from(*n);
                    if idx == file.len() {
                        file.extend(std::iter::repeat_n(0u8, n as usize));
                    }
                    let nuls = file[idx..].iter().take_while(|b| **b == 0).count() as u64;
                    let k = n.min(nuls);
                    split.skip(k);
                    model.pos += k;
                }
            }
            Op::Flush => {
                split.flush(&mut collect);
                model.flush(&mut want);
            }
            Op::Rewind => {
                split.reset(committed);
                model.pos = committed;
                model.cur.clear();
                boundary = committed;
            }
        }
        assert_eq!(
            got, want,
            "the splitter differs from the model after {op:?}"
        );
        for (bytes, cut, unterminated, end) in &got {
            assert!(bytes.len() as u64 <= max.max(1), "a line longer than max");
            assert!(*end > boundary, "a line that ends where it starts");
            // The file's bytes since the last line: NULs, the line, then (if
            // cut) the dropped tail, then its newline.
            let raw = &file[(boundary - start) as usize..(end - start) as usize];
            let raw = match raw.iter().position(|b| *b != 0) {
                Some(i) => &raw[i..],
                None => &[],
            };
            let content = if *unterminated {
                assert!(
                    !raw.contains(&b'\n'),
                    "an unterminated line holds a newline"
                );
                raw
            } else {
                assert_eq!(raw.last(), Some(&b'\n'), "a line not ending at its newline");
                &raw[..raw.len() - 1]
            };
            assert!(!content.contains(&b'\n'), "two lines emitted as one");
            if *cut {
                assert!(content.len() > bytes.len() && content.starts_with(bytes));
            } else {
                assert_eq!(content, &bytes[..], "a line's bytes differ from the file's");
            }
            boundary = *end;
            committed = *end;
        }
        assert_eq!(split.pos(), model.pos, "position after {op:?}");
        assert_eq!(
            split.has_partial(),
            !model.cur.is_empty(),
            "partial after {op:?}"
        );
    }
}
