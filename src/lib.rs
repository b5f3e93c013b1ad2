//! logwarden: a sidecar daemon that rotates, compresses and retains
//! application logs (and, in mirror mode, tails them into a redacted mirror),
//! keeping an audit journal of everything it does. See ARCHITECTURE.md for
//! the data flow and the map of these modules.

pub mod archive;
pub mod cli;
pub mod clock;
pub mod compress;
pub mod config;
pub mod crash;
pub mod daemon;
pub mod digest;
pub mod discover;
pub mod engine;
pub mod holders;
pub mod ids;
pub mod journal;
pub mod metrics;
pub mod mirror;
pub mod redact;
pub mod reopen;
pub mod retain;
pub mod rotate;
pub mod safe_dir;
pub mod schedule;
pub mod sparse;
pub mod state;
pub mod status;
pub mod tail;
