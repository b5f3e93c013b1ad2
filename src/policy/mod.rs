//! Pure decisions, table-tested, no I/O: when a file is cut and under which
//! label (`schedule`), what retention deletes (`retain`), archive names and
//! their order (`archive`).

pub mod archive;
pub mod retain;
pub mod schedule;
