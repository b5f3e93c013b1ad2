//! The ingest path: `discover` (which files of a source are live) → `tail`
//! (identity, fingerprint, the line splitter) → `crate::redact` → `mirror`
//! (the pipeline that appends redacted lines to the mirror, checkpoints,
//! and cuts the mirror with its input).

pub mod discover;
pub mod mirror;
pub mod tail;
