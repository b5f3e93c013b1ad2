//! What runs: `engine` (the cut pass and the housekeeping pass, used by the
//! daemon and by the one-shot `logwarden rotate`) and `daemon` (the event
//! loop, the cutter and housekeeper threads, signals, inotify, sd_notify).

pub mod daemon;
pub mod engine;
