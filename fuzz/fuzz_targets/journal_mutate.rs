//! A valid journal chain, mutated: `verify_chain` must notice. See
//! `checks::journal_mutate`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logwarden_fuzz::checks::{journal_mutate, ChainCase};

fuzz_target!(|case: ChainCase| journal_mutate(&case));
