//! Evidence bundles: which journal records a period's export carries, and
//! the manifest that lists what is inside. Pure; `logwarden export` and
//! `verify --bundle` do the I/O.

use serde::{Deserialize, Serialize};

/// The bundle format this build writes and reads.
pub const FORMAT: &str = "logwarden-bundle/1";

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub host: String,
    pub since: String,
    pub until: String,
    pub sources: Vec<String>,
    pub journal: JournalPart,
    pub files: Vec<Entry>,
    /// Config texts (`config/<sha256>`) of the versions in force.
    pub config: Vec<Entry>,
    /// Public keys found beside the journal (`keys/…`).
    pub keys: Vec<Entry>,
    /// Archives of the period that retention deleted before the export:
    /// (name, the `_seq` of the `retention.delete` record).
    pub deleted: Vec<(String, u64)>,
}

/// The journal records carried: `_seq` `first..=last`, chained from
/// `first_prev`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalPart {
    pub path: String,
    pub first_seq: u64,
    pub first_prev: String,
    pub last_seq: u64,
    pub last_hash: String,
}

/// A file in the bundle.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the bundle's root.
    pub path: String,
    /// Where it was on the host.
    pub original: String,
    pub sha256: String,
    pub size: u64,
}

/// A record as the segment choice sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rec {
    pub ts: String,
    pub checkpoint: bool,
    /// The hashes it names (`file_sha256`, `content_sha256`).
    pub hashes: Vec<String>,
}

/// The records `[start, end]` (indices into `recs`) a bundle of
/// `[since, until)` carries: from the last checkpoint before `since` (or
/// the first record) to the first checkpoint at or after `until` and after
/// every record that vouches for one of `needed` and record `reach` (or
/// the last record).
/// Timestamps are RFC 3339 UTC with fixed width, so they order as text.
pub fn segment(
    recs: &[Rec],
    since: &str,
    until: &str,
    needed: &[String],
    reach: usize,
) -> Option<(usize, usize)> {
    if recs.is_empty() {
        return None;
    }
    let start = recs
        .iter()
        .rposition(|r| r.checkpoint && r.ts.as_str() < since)
        .unwrap_or(0);
    let vouched = recs
        .iter()
        .rposition(|r| r.hashes.iter().any(|h| needed.contains(h)))
        .unwrap_or(0)
        .max(reach);
    let end = recs
        .iter()
        .enumerate()
        .skip(start)
        .position(|(i, r)| r.checkpoint && r.ts.as_str() >= until && i >= vouched)
        .map_or(recs.len() - 1, |p| p + start);
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(ts: &str, checkpoint: bool, hashes: &[&str]) -> Rec {
        Rec {
            ts: ts.into(),
            checkpoint,
            hashes: hashes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn segment_table() {
        let recs = [
            r("2026-12-01T00:00:00Z", false, &[]),
            r("2026-12-01T00:01:00Z", true, &[]),
            r("2026-12-02T00:00:00Z", false, &["a"]),
            r("2026-12-02T00:01:00Z", true, &[]),
            r("2026-12-03T00:00:00Z", false, &["b"]),
            r("2026-12-03T00:01:00Z", true, &[]),
            r("2026-12-04T00:00:00Z", false, &[]),
        ];
        let none: Vec<String> = vec![];
        let b = vec!["b".to_string()];
        #[rustfmt::skip]
        let cases = [
            ("2026-12-02", "2026-12-02T12:00:00Z", &none, Some((1, 5))),
            ("2026-12-02", "2026-12-02T00:00:30Z", &none, Some((1, 3))),
            ("2026-12-02", "2026-12-02T00:00:30Z", &b, Some((1, 5))),
            ("2026-11-01", "2026-11-02", &none, Some((0, 1))),
            ("2026-12-05", "2026-12-06", &none, Some((5, 6))),
        ];
        for (since, until, needed, want) in cases {
            assert_eq!(
                segment(&recs, since, until, needed, 0),
                want,
                "{since}..{until}"
            );
        }
        // A record that must be carried (a deletion) pushes the end out.
        assert_eq!(
            segment(&recs, "2026-12-02", "2026-12-02T00:00:30Z", &none, 4),
            Some((1, 5))
        );
        assert_eq!(segment(&[], "a", "b", &none, 0), None);
    }
}
