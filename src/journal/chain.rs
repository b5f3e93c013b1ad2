//! The hash chain, read back: every record's `_hash` recomputed over its
//! bytes and its `_prev` checked against the one before, from a known start.

use super::*;

/// The chain as read back: what `verify` reports when it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub records: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    pub tip: String,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    /// `checkpoint` records checked (signatures too, with a key).
    pub checkpoints: u64,
    /// The key that signs after this file (forward security moves it on).
    pub key: Option<String>,
}

/// Where and why a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// 1-based line number in the file.
    pub line: usize,
    pub why: String,
}

/// Verify a journal's bytes: every line a record whose `_hash` is the hash
/// of its own bytes, whose `_seq` follows the previous one by one and whose
/// `_prev` is the previous `_hash`. `start` is the (seq, hash) the first
/// record must follow (`(0, GENESIS)` for the first file of a chain).
/// Catches a modified, inserted, deleted or reordered record; a removed tail
/// needs a tip known from elsewhere (a shipped checkpoint) to compare with.
pub fn verify_chain(bytes: &[u8], start: (u64, &str)) -> Result<Chain, Broken> {
    verify_chain_with(bytes, start, None)
}

/// [`verify_chain`], and every `checkpoint` record's tip must be the record
/// before it; with `key`, each must carry a valid signature under it (a
/// chain re-signed with another key, or unsigned, fails).
pub fn verify_chain_with(
    bytes: &[u8],
    start: (u64, &str),
    key: Option<&ed25519_dalek::VerifyingKey>,
) -> Result<Chain, Broken> {
    #[derive(serde::Deserialize)]
    struct Head {
        _v: u32,
        _seq: u64,
        _prev: String,
        _hash: String,
        ts: Option<String>,
        action: Option<String>,
        tip_seq: Option<u64>,
        tip_hash: Option<String>,
        next_key: Option<String>,
        sig: Option<String>,
    }
    let mut key = key.copied();
    let (mut seq, mut prev) = (start.0, start.1.to_string());
    let mut chain = Chain {
        records: 0,
        first_seq: seq.saturating_add(1),
        last_seq: seq,
        tip: prev.clone(),
        first_ts: None,
        last_ts: None,
        checkpoints: 0,
        key: None,
    };
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        let line = bytes.iter().filter(|b| **b == b'\n').count() + 1;
        return Err(Broken {
            line,
            why: "the last record is torn (no newline): the file was cut or is being written"
                .into(),
        });
    }
    if bytes.is_empty() {
        return Ok(chain);
    }
    for (i, line) in bytes[..bytes.len() - 1].split(|b| *b == b'\n').enumerate() {
        let no = i + 1;
        let bad = |why: String| Broken { line: no, why };
        let head: Head =
            serde_json::from_slice(line).map_err(|e| bad(format!("not a journal record ({e})")))?;
        if head._v != VERSION {
            return Err(bad(format!("unknown record version {}", head._v)));
        }
        let at = memchr::memmem::rfind(line, HASH_FIELD)
            .ok_or_else(|| bad("no _hash field at the end".into()))?;
        let want = record_hash(&line[..at]);
        // The hash covers the bytes before `,"_hash"`; the rest must be
        // exactly what the writer puts there, or a field added after the
        // hash (or the hash respelled with escapes) would go unnoticed.
        let rest = &line[at + HASH_FIELD.len()..];
        if head._hash != want || rest.strip_suffix(b"\"}") != Some(want.as_bytes()) {
            return Err(bad(format!(
                "record _seq {}: its bytes do not match its _hash (modified after it was written)",
                head._seq
            )));
        }
        // Checked: nothing can follow _seq u64::MAX (a crafted chain must
        // not wrap around, nor panic the verifier).
        let next = seq.checked_add(1);
        if Some(head._seq) != next {
            return Err(bad(format!(
                "record _seq {} follows _seq {seq}: {}",
                head._seq,
                if next.is_some_and(|n| head._seq > n) {
                    format!("{} record(s) missing (deleted)", head._seq - seq - 1)
                } else {
                    "out of order or repeated (reordered or inserted)".to_string()
                }
            )));
        }
        if head._prev != prev {
            return Err(bad(format!(
                "record _seq {}: _prev does not name the record before it (inserted, replaced or reordered)",
                head._seq
            )));
        }
        if head.action.as_deref() == Some("checkpoint") {
            if head.tip_seq != Some(seq) || head.tip_hash.as_deref() != Some(prev.as_str()) {
                return Err(bad(format!(
                    "checkpoint _seq {}: its tip is not the record before it",
                    head._seq
                )));
            }
            if let Some(k) = &key {
                let sig = head
                    .sig
                    .as_deref()
                    .ok_or_else(|| bad(format!("checkpoint _seq {}: not signed", head._seq)))?;
                sign::check(k, seq, &prev, head.next_key.as_deref(), sig)
                    .map_err(|e| bad(format!("checkpoint _seq {}: {e}", head._seq)))?;
                // A committed next key signs from here on.
                if let Some(n) = &head.next_key {
                    key = Some(sign::parse_public(n).map_err(|e| {
                        bad(format!("checkpoint _seq {}: next_key: {e}", head._seq))
                    })?);
                }
            }
            chain.checkpoints += 1;
        }
        seq = head._seq;
        prev = head._hash;
        chain.records += 1;
        chain.last_seq = seq;
        chain.tip = prev.clone();
        if chain.first_ts.is_none() {
            chain.first_ts = head.ts.clone();
        }
        chain.last_ts = head.ts;
    }
    chain.key = key.map(|k| crate::sys::digest::hex(k.as_bytes()));
    Ok(chain)
}

/// Whether the journal holds the record `_seq` = `seq` with `_hash` = `hash`
/// (a tip shipped earlier: if not, the journal was cut or rewritten).
pub fn contains(bytes: &[u8], seq: u64, hash: &str) -> bool {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(tip_of)
        .any(|(s, h)| s == seq && h == hash)
}
