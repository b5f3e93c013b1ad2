//! The journal verifiers on arbitrary bytes. See `checks::journal`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| logwarden_fuzz::checks::journal(data));
