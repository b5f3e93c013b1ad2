//! The central side's check of shipped journals: per host, the highest
//! checkpoint seen (`tip_seq`, `tip_hash`, `base_seq`) is kept, and a line
//! that contradicts it is a finding: a rewound chain (a lower checkpoint),
//! a rewritten one (another hash at a `_seq` already seen), a lower
//! `base_seq`, a bad or missing signature under the host's key (following
//! forward-secure `next_key`s), a chain break inside what was given, and a
//! host silent for too long. Fed one line at a time; the caller reads the
//! inputs and keeps the state file.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many checkpoint tips are remembered per host (the newest): input
/// read again is recognised as such for about three days of checkpoints.
const TIPS_KEPT: usize = 4096;

/// What the witness remembers between runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    pub hosts: BTreeMap<String, Host>,
}

/// One host's highest checkpoint and what else identifies its chain.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Host {
    pub tip_seq: u64,
    pub tip_hash: String,
    pub base_seq: u64,
    /// When its last checkpoint was written.
    pub last_checkpoint: Option<String>,
    /// Checkpoint tips seen: `_seq` -> hash.
    pub tips: BTreeMap<u64, String>,
    /// The key its next checkpoint must be signed with (hex).
    pub key: Option<String>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub host: String,
    pub kind: &'static str,
    pub detail: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.host, self.kind, self.detail)
    }
}

#[derive(Deserialize)]
struct Line {
    _seq: u64,
    _prev: String,
    _hash: String,
    ts: Option<String>,
    action: Option<String>,
    host: Option<String>,
    tip_seq: Option<u64>,
    tip_hash: Option<String>,
    base_seq: Option<u64>,
    next_key: Option<String>,
    sig: Option<String>,
}

/// A run over some input.
pub struct Witness {
    pub state: State,
    pub findings: Vec<Finding>,
    /// The last record of each host in this run: (`_seq`, `_hash`).
    last: BTreeMap<String, (u64, String)>,
    pub lines: u64,
}

impl Witness {
    /// Starts from `state`; `keys` (host -> hex public key) are the keys
    /// given on the command line, for hosts whose state has none yet.
    pub fn new(mut state: State, keys: &BTreeMap<String, String>) -> Witness {
        for (h, k) in keys {
            let host = state.hosts.entry(h.clone()).or_default();
            if host.key.is_none() {
                host.key = Some(k.clone());
            }
        }
        Witness {
            state,
            findings: Vec::new(),
            last: BTreeMap::new(),
            lines: 0,
        }
    }

    fn find(&mut self, host: &str, kind: &'static str, detail: String) {
        self.findings.push(Finding {
            host: host.to_string(),
            kind,
            detail,
        });
    }

    /// One shipped line (a journal record, possibly behind a shipper's
    /// prefix); a line without a record is ignored.
    pub fn feed(&mut self, raw: &[u8]) {
        let Some(at) = memchr::memmem::find(raw, b"{\"_v\"") else {
            return;
        };
        let rec = raw[at..].trim_ascii_end();
        let Ok(l) = serde_json::from_slice::<Line>(rec) else {
            return;
        };
        self.lines += 1;
        let host = l.host.clone().unwrap_or_else(|| "unknown".into());
        let seq = l._seq;
        // The record's own hash, and its link to the one before when seen.
        let prev = match self.last.get(&host) {
            Some((s, h)) if *s + 1 == seq => h.clone(),
            _ => l._prev.clone(),
        };
        let mut whole = rec.to_vec();
        whole.push(b'\n');
        if let Err(b) = super::verify_chain(&whole, (seq.saturating_sub(1), &prev)) {
            self.find(&host, "chain", format!("_seq {seq}: {}", b.why));
        }
        self.last.insert(host.clone(), (seq, l._hash.clone()));
        let known = self
            .state
            .hosts
            .get(&host)
            .and_then(|h| h.tips.get(&seq).cloned());
        if let Some(h) = known.filter(|h| *h != l._hash) {
            self.find(
                &host,
                "rewritten",
                format!("_seq {seq} was {h}, now {}", l._hash),
            );
        }
        if l.action.as_deref() == Some("checkpoint") {
            self.checkpoint(&host, &l);
        }
    }

    fn checkpoint(&mut self, host: &str, l: &Line) {
        let (Some(tip_seq), Some(tip_hash)) = (l.tip_seq, l.tip_hash.clone()) else {
            return;
        };
        let h = self
            .state
            .hosts
            .entry(host.to_string())
            .or_default()
            .clone();
        // A checkpoint seen before (input read again): nothing new.
        if h.tips.get(&tip_seq) == Some(&tip_hash) {
            return;
        }
        if tip_seq < h.tip_seq {
            self.find(
                host,
                "rewound",
                format!(
                    "a checkpoint at tip _seq {tip_seq}, below _seq {} already seen",
                    h.tip_seq
                ),
            );
        }
        if let Some(seen) = h.tips.get(&tip_seq).filter(|s| **s != tip_hash) {
            self.find(
                host,
                "rewritten",
                format!("tip _seq {tip_seq} was {seen}, now {tip_hash}"),
            );
        }
        let base = l.base_seq.unwrap_or(0);
        if base < h.base_seq {
            self.find(
                host,
                "base",
                format!(
                    "base_seq {base} is below {} already seen: a deleted head put back or forged",
                    h.base_seq
                ),
            );
        }
        let mut key = h.key.clone();
        if let Some(k) = &h.key {
            let ok = match (super::sign::parse_public(k), l.sig.as_deref()) {
                (Ok(vk), Some(sig)) => {
                    super::sign::check(&vk, tip_seq, &tip_hash, l.next_key.as_deref(), sig)
                }
                (Ok(_), None) => Err("the checkpoint is not signed".into()),
                (Err(e), _) => Err(e),
            };
            match ok {
                Ok(()) => {
                    if let Some(n) = &l.next_key {
                        key = Some(n.clone());
                    }
                }
                Err(e) => self.find(
                    host,
                    "signature",
                    format!("checkpoint at tip _seq {tip_seq}: {e}"),
                ),
            }
        }
        let e = self.state.hosts.entry(host.to_string()).or_default();
        e.tip_seq = e.tip_seq.max(tip_seq);
        if e.tip_seq == tip_seq {
            e.tip_hash = tip_hash.clone();
        }
        e.base_seq = e.base_seq.max(base);
        e.key = key;
        if l.ts.as_deref() > e.last_checkpoint.as_deref() {
            e.last_checkpoint = l.ts.clone();
        }
        e.tips.insert(tip_seq, tip_hash);
        while e.tips.len() > TIPS_KEPT {
            e.tips.pop_first();
        }
    }

    /// The hosts whose last checkpoint is older than `max` at `now`.
    pub fn silence(&mut self, now: DateTime<Utc>, max: chrono::Duration) {
        let quiet: Vec<(String, String)> = self
            .state
            .hosts
            .iter()
            .filter_map(|(name, h)| {
                let last = h
                    .last_checkpoint
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
                match last {
                    None => Some((name.clone(), "no checkpoint seen".into())),
                    Some(t) if now - t.with_timezone(&Utc) > max => Some((
                        name.clone(),
                        format!("no checkpoint since {}", t.to_rfc3339()),
                    )),
                    _ => None,
                }
            })
            .collect();
        for (h, d) in quiet {
            self.find(&h, "silent", d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replayed_checkpoint_is_not_a_rewind() {
        let mut state = State::default();
        let h = state.hosts.entry("a".into()).or_default();
        h.tip_seq = 10;
        h.tips.insert(5, "x".into());
        h.tips.insert(10, "y".into());
        let mut w = Witness::new(state, &BTreeMap::new());
        let line = |seq, hash: &str| Line {
            _seq: seq + 1,
            _prev: String::new(),
            _hash: String::new(),
            ts: Some("2026-12-01T00:00:00Z".into()),
            action: Some("checkpoint".into()),
            host: Some("a".into()),
            tip_seq: Some(seq),
            tip_hash: Some(hash.into()),
            base_seq: Some(0),
            next_key: None,
            sig: None,
        };
        w.checkpoint("a", &line(5, "x"));
        assert!(w.findings.is_empty(), "{:?}", w.findings);
        w.checkpoint("a", &line(5, "z"));
        assert_eq!(
            w.findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            ["rewound", "rewritten"]
        );
        w.findings.clear();
        w.checkpoint("a", &line(7, "q"));
        assert_eq!(
            w.findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            ["rewound"]
        );
    }
}
