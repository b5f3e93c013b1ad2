//! Read-only views: `status` (what the daemon published, and the report
//! built from disk), `inventory` (the archives in a directory). Never
//! writes state.

pub mod inventory;
pub mod status;
