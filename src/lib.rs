//! logwarden: a sidecar daemon that rotates, compresses and retains
//! application logs (and, in mirror mode, tails them into a redacted mirror),
//! keeping an audit journal of everything it does. See ARCHITECTURE.md for
//! the data flow and the map of these modules.
//!
//! The tree follows the data flow: `ingest` (discover → tail → mirror, with
//! `redact` between tail and mirror) and `rotation` (rotate, compress; the
//! retention decision in `policy`), the `journal` beside them, `runtime`
//! (the daemon and the passes both modes run) on top, `report` reading what
//! the others wrote, `policy` and `sys` underneath.

pub mod cli;
pub mod config;
pub mod ingest;
pub mod journal;
pub mod logrotate;
pub mod policy;
pub mod redact;
pub mod report;
pub mod rotation;
pub mod runtime;
pub mod state;
pub mod sys;
