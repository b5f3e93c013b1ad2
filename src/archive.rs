//! Archive names: the one place that knows how a rotated file is named.
//!
//! `<file>.<label>[.<n>][.gz]` where `label` is the period the content belongs
//! to (`YYYY-MM-DD`, or `YYYY-MM-DD-HH` for sub-daily schedules) and `n`
//! numbers further cuts within one period (`.1`, `.2` …). Retention only ever
//! deletes names this module parses for a configured file, and a name in use
//! (compressed or not) is never reused, so no archive is overwritten.
//! Temporary files are hidden (`.` prefix) and end in [`TMP_SUFFIX`].

use std::cmp::Ordering;

/// Suffix of every temporary file logwarden creates next to a log.
pub const TMP_SUFFIX: &str = ".logwarden-tmp";

/// A parsed archive name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    /// The live file's name.
    pub base: String,
    /// `YYYY-MM-DD` or `YYYY-MM-DD-HH`.
    pub label: String,
    /// 0 for the first cut of the period, then 1, 2 …
    pub n: u32,
    /// Whether this name carries `.gz`.
    pub gz: bool,
}

impl Archive {
    /// The file name of this archive as it is (with `.gz` if compressed).
    pub fn file_name(&self) -> String {
        let mut s = self.plain_name();
        if self.gz {
            s.push_str(".gz");
        }
        s
    }

    /// The uncompressed name (what a cut produces).
    pub fn plain_name(&self) -> String {
        if self.n == 0 {
            format!("{}.{}", self.base, self.label)
        } else {
            format!("{}.{}.{}", self.base, self.label, self.n)
        }
    }

    /// The compressed name.
    pub fn gz_name(&self) -> String {
        format!("{}.gz", self.plain_name())
    }

    /// The name of the temporary file a compression writes first.
    pub fn gz_tmp_name(&self) -> String {
        format!(".{}.gz{TMP_SUFFIX}", self.plain_name())
    }

    /// The name of the temporary file a copy-truncate writes first.
    pub fn copy_tmp_name(&self) -> String {
        format!(".{}{TMP_SUFFIX}", self.plain_name())
    }

    /// Cut order: by period label, then by cut number.
    pub fn cut_order(&self, other: &Archive) -> Ordering {
        (self.label.as_str(), self.n).cmp(&(other.label.as_str(), other.n))
    }
}

fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    let date = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    match b.len() {
        10 => date,
        13 => date && b[10] == b'-' && b[11].is_ascii_digit() && b[12].is_ascii_digit(),
        _ => false,
    }
}

/// Parse any archive name, whatever its base.
pub fn parse_any(name: &str) -> Option<Archive> {
    let (rest, gz) = match name.strip_suffix(".gz") {
        Some(r) => (r, true),
        None => (name, false),
    };
    let (head, last) = rest.rsplit_once('.')?;
    let (base, label, n) = if is_label(last) {
        (head, last, 0)
    } else if !last.is_empty() && last.len() <= 9 && last.bytes().all(|c| c.is_ascii_digit()) {
        let (base, label) = head.rsplit_once('.')?;
        let n: u32 = last.parse().ok()?;
        if !is_label(label) || n == 0 {
            return None;
        }
        (base, label, n)
    } else {
        return None;
    };
    if base.is_empty() {
        return None;
    }
    Some(Archive {
        base: base.to_string(),
        label: label.to_string(),
        n,
        gz,
    })
}

/// Parse `name` as an archive of the live file `base`.
pub fn parse_for(base: &str, name: &str) -> Option<Archive> {
    parse_any(name).filter(|a| a.base == base)
}

/// The first archive name for `base` in period `label` that is not taken
/// (neither its plain nor its `.gz` form exists, per `exists`).
pub fn first_free(base: &str, label: &str, exists: impl Fn(&str) -> bool) -> Archive {
    let mut a = Archive {
        base: base.to_string(),
        label: label.to_string(),
        n: 0,
        gz: false,
    };
    while exists(&a.plain_name()) || exists(&a.gz_name()) || exists(&a.gz_tmp_name()) {
        a.n += 1;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let cases = [
            (
                "app.log.2026-11-20.gz",
                Some(("app.log", "2026-11-20", 0, true)),
            ),
            (
                "app.log.2026-11-20",
                Some(("app.log", "2026-11-20", 0, false)),
            ),
            (
                "app.log.2026-11-20.3.gz",
                Some(("app.log", "2026-11-20", 3, true)),
            ),
            (
                "app.log.2026-11-20-07.1",
                Some(("app.log", "2026-11-20-07", 1, false)),
            ),
            ("app.2026-11-20.log", None),
            ("app.log", None),
            ("app.log.gz", None),
            ("app.log.1", None),
            ("app.log.2026-1-20.gz", None),
            (".2026-11-20", None),
            ("v1.2.3.log", None),
        ];
        for (name, want) in cases {
            let got = parse_any(name);
            let got_t = got
                .as_ref()
                .map(|a| (a.base.as_str(), a.label.as_str(), a.n, a.gz));
            assert_eq!(got_t, want, "{name}");
            if let Some(a) = got {
                assert_eq!(a.file_name(), name);
            }
        }
    }

    #[test]
    fn first_free_skips_plain_and_compressed() {
        let taken = ["app.log.2026-11-20.gz", "app.log.2026-11-20.1"];
        let a = first_free("app.log", "2026-11-20", |n| taken.contains(&n));
        assert_eq!(a.plain_name(), "app.log.2026-11-20.2");
        let b = first_free("app.log", "2026-11-21", |n| taken.contains(&n));
        assert_eq!(b.plain_name(), "app.log.2026-11-21");
    }

    #[test]
    fn cut_order_is_numeric() {
        let mut v: Vec<Archive> = [
            "a.2026-01-02.gz",
            "a.2026-01-01.10.gz",
            "a.2026-01-01.2.gz",
            "a.2026-01-01.gz",
        ]
        .iter()
        .filter_map(|n| parse_any(n))
        .collect();
        v.sort_by(|x, y| x.cut_order(y));
        let names: Vec<_> = v.iter().map(|a| a.file_name()).collect();
        assert_eq!(
            names,
            [
                "a.2026-01-01.gz",
                "a.2026-01-01.2.gz",
                "a.2026-01-01.10.gz",
                "a.2026-01-02.gz"
            ]
        );
    }
}
