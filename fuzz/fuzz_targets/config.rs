//! `Config::load` on arbitrary bytes, written to a file in a scratch
//! directory of this process. See `checks::config`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn scratch() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("logwarden-fuzz-config")
            .tempdir()
            .expect("a scratch directory")
    })
}

fuzz_target!(|data: &[u8]| logwarden_fuzz::checks::config(scratch().path(), data));
