//! End-to-end tests: the real binary, real files in temp dirs, real signals,
//! real writer processes. One test binary so the suite links once.

mod harness;
mod hostile;

mod audit;
mod bundle;
mod cli;
mod faults;
mod fuzz_corpus;
mod import;
mod journal;
mod lifecycle;
mod logrotate;
mod mirror;
mod mirror_model;
mod model;
mod operate;
mod packaging;
mod reopen;
mod retention;
mod rotation;
mod schedule;
mod secrets;
mod security;
mod shippers;
mod torture;
mod witness;
