//! The redactor on raw bytes: the first byte picks the configuration, the
//! rest is log text. See `checks::redact`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| logwarden_fuzz::checks::redact(data));
