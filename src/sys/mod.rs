//! Platform primitives, no policy: file operations inside a watched
//! directory (`safe_dir`), hole-aware copies (`sparse`), /proc facts
//! (`holders`), users and groups (`ids`), the clock and its test seams
//! (`clock`), digests (`digest`), kernel randomness (`rand`), crash points
//! (`crash`), the process-wide metrics (`metrics`).

pub mod clock;
pub mod crash;
pub mod digest;
pub mod holders;
pub mod ids;
pub mod metrics;
pub mod rand;
pub mod safe_dir;
pub mod sender;
pub mod sparse;
