//! What a directory holds in archives of some live files: how many, their
//! bytes, the oldest (for `status` and the archive-bytes gauge).

use std::cmp::Ordering;
use std::path::Path;

use serde::Serialize;

use crate::policy::archive::{parse_any, Archive};

/// How many archives a directory holds for some live files, their bytes,
/// and the oldest (in cut order).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Archives {
    pub count: u64,
    pub bytes: u64,
    pub oldest: Option<String>,
}

/// The archives in `dir` (plain or compressed, files only) whose base name
/// `belongs` says are wanted.
pub fn inventory(dir: &Path, belongs: impl Fn(&str) -> bool) -> Archives {
    let mut a = Archives::default();
    let mut oldest: Option<Archive> = None;
    let Ok(rd) = std::fs::read_dir(dir) else {
        return a;
    };
    for e in rd.flatten() {
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let Some(arch) = parse_any(&name).filter(|x| belongs(&x.base)) else {
            continue;
        };
        let Ok(m) = e.metadata() else { continue };
        if !m.is_file() {
            continue;
        }
        a.count += 1;
        a.bytes += m.len();
        if oldest
            .as_ref()
            .is_none_or(|o| arch.cut_order(o) == Ordering::Less)
        {
            oldest = Some(arch);
        }
    }
    a.oldest = oldest.map(|o| o.file_name());
    a
}
