//! `tail::Splitter` against a naive model. See `checks::splitter`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logwarden_fuzz::checks::{splitter, SplitCase};

fuzz_target!(|case: SplitCase| splitter(&case));
