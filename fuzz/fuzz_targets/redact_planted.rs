//! The redactor on JSON trees and text lines with planted secrets. See
//! `checks::redact_planted`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logwarden_fuzz::checks::{redact_planted, Planted};

fuzz_target!(|case: Planted| redact_planted(&case));
