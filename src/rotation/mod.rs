//! The rotation path: `rotate` (strategy choice, rename, copy-truncate, the
//! one prefix removal both modes use), `reopen` (hooks checked before they
//! fire), `compress` (gzip, verified, crash-safe). Retention's decision is
//! `policy::retain`; the passes that run them are in `runtime::engine`.

pub mod compress;
pub mod reopen;
pub mod rotate;
