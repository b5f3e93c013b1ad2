//! Human units in the config: durations (`30d`, `10m`, `250ms`) and sizes
//! (`64KiB`, `1GiB`, `500MB`). Parsing only; the callers attach the position.

use std::time::Duration;

/// Parse a human duration such as `30d`, `12h`, `10m`, `2s` or `1h 30m`.
pub fn duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim()).map_err(|e| {
        format!("invalid duration {s:?} ({e}); write a number and a unit, e.g. \"30d\", \"12h\", \"10m\", \"2s\"")
    })?;
    Ok(d)
}

/// Parse a human size such as `64KiB`, `1GiB`, `500MB` or a plain byte count.
pub fn size(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|_| {
            format!("invalid size {s:?}; write a number and a unit, e.g. \"64KiB\", \"100MiB\", \"1GiB\"")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let cases = [
            ("30d", 30 * 86400),
            ("12h", 12 * 3600),
            ("10m", 600),
            ("2s", 2),
            ("1h 30m", 5400),
        ];
        for (input, secs) in cases {
            assert_eq!(duration(input), Ok(Duration::from_secs(secs)), "{input}");
        }
        assert!(duration("thirty days").is_err());
        assert!(duration("").is_err());
    }

    #[test]
    fn sizes() {
        let cases = [
            ("64KiB", 64 * 1024),
            ("1GiB", 1 << 30),
            ("500MB", 500_000_000),
            ("1024", 1024),
        ];
        for (input, bytes) in cases {
            assert_eq!(size(input), Ok(bytes), "{input}");
        }
        assert!(size("lots").is_err());
    }
}
