//! logwarden's fuzz targets share their invariants with the main crate's
//! corpus replay test: see `checks`.

pub mod checks;
